/*
 * test_cases_flow.c - the case API on a real store: a family list ingested, one live and one
 * retro-only sighting stored; open (scope alerted + silent, attribution, tier 2 by host
 * count), reopen returns the covering case, unknown case / indicator, the strict host state
 * machine with nothing changed on an illegal step, watch verification with --now, close rules.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tide.h"

typedef struct {
    char id[128];
} first_id;

static int grab(const tide_indicator_obs *r, void *payload)
{
    snprintf(((first_id *)payload)->id, sizeof(((first_id *)payload)->id), "%s", r->id);
    return 1;
}

static json_t *show(tide_store *s, int64_t id)
{
    char *js = NULL;
    TIDE_ASSERT_EQ_INT(tide_case_show_json(s, id, &js), 0);
    json_t *o = json_loads(js, 0, NULL);
    free(js);
    TIDE_ASSERT(o != NULL);
    return o;
}

static const char *host_field(json_t *doc, const char *host, const char *k)
{
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(doc, "hosts"), i,
            h) if (strcmp(json_string_value(json_object_get(h, "host")), host) ==
                   0) return json_string_value(json_object_get(h, k));
    return NULL;
}

static void flow(void)
{
    const char *dir = tide_test_tmpdir();
    char path[600];
    snprintf(path, sizeof(path), "%s/testfam.txt", dir);
    FILE *f = fopen(path, "w");
    TIDE_ASSERT(f != NULL);
    fputs("# TestFam C2\nevil.example.com\n203.0.113.99\n", f);
    fclose(f);
    tide_store *s = NULL;
    TIDE_ASSERT_EQ_INT(tide_store_open(&s, dir), 0);
    tide_ingest_opts io = { 0 };
    io.source = "feed";
    io.family = "TestFam";
    io.confidence = -1;
    tide_ingest_stats st = { 0 };
    TIDE_ASSERT_EQ_INT(tide_ingest_path(s, path, TIDE_FMT_LIST, &io, &st, NULL, NULL), 0);
    TIDE_ASSERT_EQ_INT((int)st.indicators, 2);
    first_id dom = { "" }, ip = { "" };
    tide_indicator_filter flt = { 0 };
    flt.value = "evil.example.com";
    tide_store_each_indicator_obs(s, &flt, grab, &dom);
    flt.value = "203.0.113.99";
    tide_store_each_indicator_obs(s, &flt, grab, &ip);
    TIDE_ASSERT(dom.id[0] && ip.id[0]);
    tide_sighting_rec r[2] = { { 0 }, { 0 } };
    r[0].host = "10.0.0.5";
    r[0].indicator_id = dom.id;
    r[0].indicator = "evil.example.com";
    r[0].kind = TIDE_OBS_DOMAIN;
    r[0].observed = "evil.example.com";
    r[0].file = "dns.log";
    r[0].line = 42;
    r[0].first_seen = r[0].last_seen = 1790000000000;
    r[0].live_count = 3;
    r[1] = r[0];
    r[1].host = "10.0.0.9";
    r[1].indicator_id = ip.id;
    r[1].indicator = "203.0.113.99";
    r[1].kind = TIDE_OBS_IPV4;
    r[1].line = 7;
    r[1].first_seen = r[1].last_seen = 1789000000000;
    r[1].live_count = 0;
    r[1].retro_count = 2;
    TIDE_ASSERT_EQ_INT(tide_store_put_sightings(s, r, 2), 0);

    tide_case_opts o = { 0 };
    o.no_hunt = true;
    o.now_ms = 1790100000000;
    int64_t id = 0, id2 = 0;
    bool existed = true;
    TIDE_ASSERT_EQ_INT(tide_case_open(s, &o, 0, "10.0.0.5", "evil.example.com", &id, &existed), 0);
    TIDE_ASSERT(id > 0 && !existed);
    json_t *d = show(s, id);
    TIDE_ASSERT_EQ_INT((int)json_integer_value(json_object_get(d, "tier")), 2);
    TIDE_ASSERT_EQ_STR(host_field(d, "10.0.0.5", "status"), "alerted");
    TIDE_ASSERT_EQ_STR(host_field(d, "10.0.0.9", "status"), "silent");
    TIDE_ASSERT_EQ_STR(
            json_string_value(json_array_get(json_object_get(d, "malware"), 0)), "TestFam");
    TIDE_ASSERT_EQ_STR(
            json_string_value(json_object_get(json_object_get(d, "infection_vector"), "evidence")),
            "dns.log:7");
    json_decref(d);
    /* covered: same id, by value and by the silent host's indicator */
    TIDE_ASSERT_EQ_INT(tide_case_open(s, &o, 0, "10.0.0.9", "203.0.113.99", &id2, &existed), 0);
    TIDE_ASSERT(existed && id2 == id);
    /* bad input */
    TIDE_ASSERT_EQ_INT(
            tide_case_open(s, &o, 0, "10.0.0.5", "nothing.example", &id2, NULL), TIDE_ENOTFOUND);
    TIDE_ASSERT_EQ_INT(tide_case_open(s, &o, 999, NULL, NULL, &id2, NULL), TIDE_ENOTFOUND);
    char *js = NULL;
    TIDE_ASSERT_EQ_INT(tide_case_show_json(s, 99, &js), TIDE_ENOTFOUND);
    TIDE_ASSERT(strstr(tide_error_last(), "no case 99") != NULL);
    TIDE_ASSERT_EQ_INT(
            tide_case_host_state(s, &o, id, "10.0.0.5", "eradicated", "t", NULL), TIDE_EINVAL);
    TIDE_ASSERT(strstr(tide_error_last(), "affected -> eradicated") != NULL);
    TIDE_ASSERT_EQ_INT(
            tide_case_host_state(s, &o, id, "10.0.0.5", "bogus", NULL, NULL), TIDE_EINVAL);
    TIDE_ASSERT_EQ_INT(
            tide_case_host_state(s, &o, id, "10.9.9.9", "contained", NULL, NULL), TIDE_ENOTFOUND);
    d = show(s, id);
    TIDE_ASSERT_EQ_STR(host_field(d, "10.0.0.5", "state"), "affected");
    json_decref(d);
    /* recover both hosts, verify after the 30-day watch of tier 2 */
    const char *hosts[] = { "10.0.0.5", "10.0.0.9" };
    const char *steps[] = { "contained", "eradicated", "recovered" };
    for (int h = 0; h < 2; h++)
        for (int k = 0; k < 3; k++)
            TIDE_ASSERT_EQ_INT(tide_case_host_state(s, &o, id, hosts[h], steps[k], "u", "n"), 0);
    TIDE_ASSERT_EQ_INT(
            tide_case_host_state(s, &o, id, "10.0.0.5", "recovered", NULL, NULL), TIDE_EINVAL);
    TIDE_ASSERT_EQ_INT(tide_case_close(s, &o, id, NULL, NULL), TIDE_EINVAL);
    tide_case_opts later = o;
    later.now_ms = o.now_ms + 29LL * 86400000;
    int changes = -1;
    TIDE_ASSERT_EQ_INT(tide_case_refresh(s, &later, id, &changes), 0);
    TIDE_ASSERT_EQ_INT(changes, 0);
    later.now_ms = o.now_ms + 31LL * 86400000;
    TIDE_ASSERT_EQ_INT(tide_case_refresh(s, &later, id, &changes), 0);
    TIDE_ASSERT_EQ_INT(changes, 2);
    d = show(s, id);
    TIDE_ASSERT_EQ_STR(host_field(d, "10.0.0.9", "state"), "verified");
    json_decref(d);
    TIDE_ASSERT_EQ_INT(tide_case_close(s, &later, id, NULL, NULL), TIDE_EINVAL);
    TIDE_ASSERT(strstr(tide_error_last(), "no lessons") != NULL);
    char *m = NULL;
    TIDE_ASSERT_EQ_INT(tide_metrics_json(s, &later, &m), 0);
    json_t *mj = json_loads(m, 0, NULL);
    free(m);
    json_t *c0 = json_array_get(json_object_get(mj, "cases"), 0);
    /* first evidence (retro, 1789000000) -> first live sighting (1790000000) */
    TIDE_ASSERT_EQ_INT((int)json_integer_value(json_object_get(c0, "time_to_detect_s")), 1000000);
    TIDE_ASSERT_EQ_INT((int)json_integer_value(json_object_get(c0, "time_to_contain_s")), 100000);
    json_decref(mj);
    tide_store_free(s);
}

TIDE_TESTS = {
    { "cases::flow", flow },
    { NULL, NULL },
};
TIDE_TEST_MAIN
