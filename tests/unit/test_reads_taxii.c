/*
 * test_reads_taxii.c - the TAXII 2.1 listings of the public read API (tide_read_taxii,
 * include/tide/reads.h) on medallion's recorded collection (three versions of an indicator,
 * two of a malware, a TLP:GREEN marking-definition) and maltrail's trickbot.txt: pages with
 * next tokens while objects are added, version selection, filters, bad tokens and filters, the
 * ceiling.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"
#include "tide.h"
#include "tide/reads.h"

#define IND "indicator--6770298f-0fd8-471a-ab8c-1c658a46574e"

static tide_store *loaded(void)
{
    const char *data = tide_test_data();
    char p[1024];
    snprintf(p, sizeof p,
            "%s/taxii21/derived/"
            "envelope_objects_91a7b528-80eb-42ed-a74d-c6fbd5a26116_all-versions.json",
            data);
    tide_store *s = NULL;
    TIDE_ASSERT_EQ_INT(tide_store_open(&s, tide_test_tmpdir()), 0);
    tide_ingest_opts io = { .confidence = -1 };
    TIDE_ASSERT_EQ_INT(tide_ingest_path(s, p, TIDE_FMT_STIX, &io, NULL, NULL, NULL), 0);
    return s;
}

static json_t *page(tide_reads *rd, const tide_taxii_query *q, tide_taxii_listing what, int c)
{
    char *js = NULL;
    TIDE_ASSERT_EQ_INT(tide_read_taxii(rd, q, what, c, &js, NULL, NULL), 0);
    json_t *o = json_loads(js, 0, NULL);
    free(js);
    TIDE_ASSERT(o != NULL);
    return o;
}

static size_t count(json_t *o, const char *member)
{
    return json_array_size(json_object_get(o, member));
}

static void t_versions(void)
{
    tide_store *s = loaded();
    tide_reads *rd = NULL;
    TIDE_ASSERT_EQ_INT(tide_reads_new(&rd, s), 0);
    tide_taxii_query q = { .limit = 100, .object_id = IND };
    json_t *o = page(rd, &q, TIDE_TAXII_OBJECTS, TIDE_TLP_RED);
    TIDE_ASSERT_EQ_INT((int)count(o, "objects"), 1); /* last */
    TIDE_ASSERT_EQ_STR(json_string_value(json_object_get(
                               json_array_get(json_object_get(o, "objects"), 0), "modified")),
            "2017-01-27T13:49:53.935Z");
    json_decref(o);
    q.match_version = "all";
    o = page(rd, &q, TIDE_TAXII_OBJECTS, TIDE_TLP_RED);
    TIDE_ASSERT_EQ_INT((int)count(o, "objects"), 3);
    json_decref(o);
    q.match_version = "first,2016-12-25T12:30:59.444Z";
    o = page(rd, &q, TIDE_TAXII_MANIFEST, TIDE_TLP_RED);
    TIDE_ASSERT_EQ_INT((int)count(o, "objects"), 2);
    json_decref(o);
    q.match_version = NULL;
    o = page(rd, &q, TIDE_TAXII_VERSIONS, TIDE_TLP_RED);
    TIDE_ASSERT_EQ_INT((int)count(o, "versions"), 3);
    json_decref(o);
    /* bad filters and tokens: TIDE_EINVAL with the reason */
    char *js = NULL;
    static const char *const bad_next[] = { "abc", "1-", "-5", "12-0", "1-2-3", "9x-1" };
    for (size_t i = 0; i < sizeof bad_next / sizeof bad_next[0]; i++) {
        tide_taxii_query b = { .limit = 5, .next = bad_next[i] };
        TIDE_ASSERT_EQ_INT(
                tide_read_taxii(rd, &b, TIDE_TAXII_OBJECTS, 4, &js, NULL, NULL), TIDE_EINVAL);
        TIDE_ASSERT(strstr(tide_error_last(), "next") != NULL);
    }
    tide_taxii_query b = { .limit = 5, .match_version = "newest" };
    TIDE_ASSERT_EQ_INT(
            tide_read_taxii(rd, &b, TIDE_TAXII_OBJECTS, 4, &js, NULL, NULL), TIDE_EINVAL);
    b.match_version = NULL;
    b.match_spec_version = "3.0";
    TIDE_ASSERT_EQ_INT(
            tide_read_taxii(rd, &b, TIDE_TAXII_OBJECTS, 4, &js, NULL, NULL), TIDE_EINVAL);
    b.match_spec_version = NULL;
    b.limit = 0;
    TIDE_ASSERT_EQ_INT(
            tide_read_taxii(rd, &b, TIDE_TAXII_OBJECTS, 4, &js, NULL, NULL), TIDE_EINVAL);
    tide_taxii_query none = { .limit = 5,
        .object_id = "indicator--00000000-0000-4000-8000-"
                     "000000000000" };
    TIDE_ASSERT_EQ_INT(
            tide_read_taxii(rd, &none, TIDE_TAXII_OBJECTS, 4, &js, NULL, NULL), TIDE_ENOTFOUND);
    /* under green, the unmarked (amber) objects are withheld: only the TLP:GREEN definition */
    tide_taxii_query all = { .limit = 100 };
    o = page(rd, &all, TIDE_TAXII_OBJECTS, TIDE_TLP_GREEN);
    TIDE_ASSERT_EQ_INT((int)count(o, "objects"), 1);
    json_decref(o);
    q.match_version = NULL;
    TIDE_ASSERT_EQ_INT(tide_read_taxii(rd, &q, TIDE_TAXII_OBJECTS, TIDE_TLP_GREEN, &js, NULL, NULL),
            TIDE_ENOTFOUND);
    tide_reads_free(rd);
    tide_store_free(s);
}

/* pages of 3 with next while a list is ingested between two pages: every (id, version) once */
static void t_pages(void)
{
    tide_store *s = loaded();
    tide_reads *rd = NULL;
    TIDE_ASSERT_EQ_INT(tide_reads_new(&rd, s), 0);
    char p[1024];
    snprintf(p, sizeof p, "%s/iocs/maltrail/malware/trickbot.txt", tide_test_data());
    json_t *seen = json_object();
    char next[64] = "";
    int pages = 0, n = 0;
    int64_t prev_last = 0;
    for (;;) {
        tide_taxii_query q = { .limit = 3, .next = next[0] ? next : NULL };
        char *js = NULL;
        int64_t first = 0, last = 0;
        TIDE_ASSERT_EQ_INT(
                tide_read_taxii(rd, &q, TIDE_TAXII_MANIFEST, TIDE_TLP_RED, &js, &first, &last), 0);
        json_t *o = json_loads(js, 0, NULL);
        free(js);
        TIDE_ASSERT(o != NULL);
        TIDE_ASSERT(count(o, "objects") <= 3);
        TIDE_ASSERT(first >= prev_last);
        prev_last = last;
        size_t i;
        json_t *m;
        json_array_foreach(json_object_get(o, "objects"), i, m)
        {
            char key[256];
            snprintf(key, sizeof key, "%s %s", json_string_value(json_object_get(m, "id")),
                    json_string_value(json_object_get(m, "version")));
            TIDE_ASSERT(json_object_get(seen, key) == NULL); /* never twice */
            json_object_set_new(seen, key, json_true());
            n++;
        }
        pages++;
        if (pages == 1) { /* objects arrive between two pages */
            tide_ingest_opts io = { .confidence = -1, .source = "maltrail" };
            TIDE_ASSERT_EQ_INT(tide_ingest_path(s, p, TIDE_FMT_LIST, &io, NULL, NULL, NULL), 0);
        }
        bool more = json_is_true(json_object_get(o, "more"));
        const char *nx = json_string_value(json_object_get(o, "next"));
        TIDE_ASSERT(!more || nx != NULL);
        if (more)
            snprintf(next, sizeof next, "%s", nx);
        json_decref(o);
        if (!more || pages > 5000)
            break;
    }
    /* every current object of the store, once */
    tide_search_query sq = { 0 };
    char *all = NULL;
    TIDE_ASSERT_EQ_INT(tide_read_search(rd, &sq, TIDE_TLP_RED, &all), 0);
    json_t *a = json_loads(all, 0, NULL);
    free(all);
    TIDE_ASSERT_EQ_INT(n, (int)count(a, "objects"));
    TIDE_ASSERT(n > 5000);
    json_decref(a);
    json_decref(seen);
    tide_reads_free(rd);
    tide_store_free(s);
}

TIDE_TESTS = {
    { "taxii::versions_filters_ceiling", t_versions },
    { "taxii::pages_while_adding", t_pages },
    { NULL, NULL },
};
TIDE_TEST_MAIN
