/*
 * test_read_misp.c - the MISP event / feed reader (read_misp.c) on PyMISP's real event files:
 * every attribute, object, galaxy cluster, sighting and tag comes out as STIX; non-event files
 * are refused with a reason; bad attributes are rejected by index and uuid.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "ingest/json_split.h"
#include "ingest/sink.h"
#include "tide/errors.h"

typedef struct {
    json_t *objs;
    json_t *flags;
    json_t *rejects; /* reasons */
} collect;

static int c_emit(tide_sink *s, json_t *obj, const char *raw, size_t rawlen, unsigned flags)
{
    collect *c = s->payload;
    (void)raw;
    (void)rawlen;
    json_array_append_new(c->objs, json_deep_copy(obj));
    json_array_append_new(c->flags, json_integer(flags));
    return 0;
}

static void c_reject(tide_sink *s, long line, long long offset, const char *reason)
{
    collect *c = s->payload;
    (void)line;
    (void)offset;
    json_array_append_new(c->rejects, json_string(reason));
}

static tide_ingest_opts g_opts = { .confidence = -1, .now_ms = 1700000000000LL };

static void c_init(collect *c, tide_sink *s, const char *file)
{
    c->objs = json_array();
    c->flags = json_array();
    c->rejects = json_array();
    memset(s, 0, sizeof(*s));
    s->emit = c_emit;
    s->reject = c_reject;
    s->file = file;
    s->opts = &g_opts;
    s->payload = c;
}

static void c_free(collect *c)
{
    json_decref(c->objs);
    json_decref(c->flags);
    json_decref(c->rejects);
}

static size_t count_type(collect *c, const char *type)
{
    size_t n = 0, i;
    json_t *o;
    json_array_foreach(c->objs, i,
            o) if (strcmp(json_string_value(json_object_get(o, "type")), type) == 0) n++;
    return n;
}

static json_t *find_id(collect *c, const char *id)
{
    size_t i;
    json_t *o;
    json_array_foreach(c->objs, i,
            o) if (strcmp(json_string_value(json_object_get(o, "id")), id) == 0) return o;
    return NULL;
}

static int read_path(collect *c, tide_sink *s, const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        TIDE_FAIL_("cannot open %s", path);
    int rc = tide__read_misp(s, fp);
    fclose(fp);
    (void)c;
    return rc;
}

static int read_mem(tide_sink *s, const char *data)
{
    FILE *fp = fmemopen((void *)data, strlen(data), "rb");
    int rc = tide__read_misp(s, fp);
    fclose(fp);
    return rc;
}

static const char *event_files[] = {
    "57c4445b-c548-4654-af0b-4be3950d210f.json",
    "misp_event.json",
    "new_misp_event.json",
    "mispevent_testfiles/attribute.json",
    "mispevent_testfiles/attribute_del.json",
    "mispevent_testfiles/def_param.json",
    "mispevent_testfiles/event.json",
    "mispevent_testfiles/event_obj_attr_tag.json",
    "mispevent_testfiles/event_obj_def_param.json",
    "mispevent_testfiles/event_obj_tag.json",
    "mispevent_testfiles/event_tags.json",
    "mispevent_testfiles/existing_event.json",
    "mispevent_testfiles/malware.json",
    "mispevent_testfiles/malware_exist.json",
    "mispevent_testfiles/misp_custom_obj.json",
    "mispevent_testfiles/proposals.json",
    "mispevent_testfiles/shadow.json",
    "reportlab_testfiles/galaxy_1.json",
    "reportlab_testfiles/japanese_test.json",
    "reportlab_testfiles/mainly_objects_1.json",
    "reportlab_testfiles/sighting_1.json",
};

/* The events of a parsed file, as the test sees them (independent of the reader). */
static json_t *events_of(json_t *root)
{
    json_t *out = json_array();
    if (json_is_object(json_object_get(root, "Event")))
        json_array_append(out, json_object_get(root, "Event"));
    else if (json_is_array(json_object_get(root, "response"))) {
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(root, "response"), i, r) json_array_append(
                out, json_is_object(json_object_get(r, "Event")) ? json_object_get(r, "Event") : r);
    } else
        json_array_append(out, root);
    return out;
}

static void t_real_events(void)
{
    const char *d = tide_test_data();
    size_t total_attrs = 0, total_sightings = 0, total_clusters = 0;
    for (size_t f = 0; f < sizeof(event_files) / sizeof(event_files[0]); f++) {
        char p[4096];
        snprintf(p, sizeof(p), "%s/misp/pymisp/tests/%s", d, event_files[f]);
        collect c;
        tide_sink s;
        c_init(&c, &s, p);
        int rc = read_path(&c, &s, p);
        if (rc != 0)
            TIDE_FAIL_("%s: rc %d %s", event_files[f], rc, tide_error_last());
        json_error_t err;
        json_t *root = json_load_file(p, 0, &err);
        TIDE_ASSERT(root != NULL);
        json_t *evs = events_of(root);
        size_t attrs = 0, objects = 0, sightings = 0, i, j, k;
        json_t *ev, *a, *o, *g, *cl;
        json_array_foreach(evs, i, ev)
        {
            json_t *all = json_array();
            json_array_extend(all, json_object_get(ev, "Attribute"));
            json_array_foreach(json_object_get(ev, "Object"), j, o)
            {
                objects++;
                json_array_extend(all, json_object_get(o, "Attribute"));
            }
            json_array_foreach(all, j, a)
            {
                attrs++;
                sightings += json_array_size(json_object_get(a, "Sighting"));
                /* the attribute's object carries its original JSON */
                const char *u = json_string_value(json_object_get(a, "uuid"));
                if (u) {
                    char id1[128], id2[128];
                    snprintf(id1, sizeof(id1), "indicator--%s", u);
                    snprintf(id2, sizeof(id2), "x-misp-attribute--%s", u);
                    json_t *x = find_id(&c, id1);
                    if (x == NULL)
                        x = find_id(&c, id2);
                    if (x == NULL)
                        TIDE_FAIL_("%s: attribute %s missing", event_files[f], u);
                    TIDE_ASSERT(json_equal(json_object_get(x, "x_misp_attribute"), a));
                    TIDE_ASSERT_EQ_STR(json_string_value(json_object_get(x, "name")),
                            json_string_value(json_object_get(a, "value")));
                }
                json_t *gal = json_object_get(a, "Galaxy");
                json_array_foreach(gal, k, g) total_clusters +=
                        json_array_size(json_object_get(g, "GalaxyCluster"));
            }
            json_decref(all);
            /* every galaxy cluster of the event appears, by value, with its JSON */
            json_array_foreach(json_object_get(ev, "Galaxy"), j, g)
            {
                json_array_foreach(json_object_get(g, "GalaxyCluster"), k, cl)
                {
                    total_clusters++;
                    size_t m;
                    json_t *x;
                    int found = 0;
                    json_array_foreach(c.objs, m,
                            x) if (json_equal(json_object_get(x, "x_misp_galaxy_cluster"), cl))
                            found = 1;
                    if (!found)
                        TIDE_FAIL_("%s: cluster %s missing", event_files[f],
                                json_string_value(json_object_get(cl, "value")));
                }
            }
            /* the report: tags survive, TLP becomes a marking */
            json_t *rep = NULL;
            size_t m;
            json_t *x;
            json_array_foreach(c.objs, m,
                    x) if (strcmp(json_string_value(json_object_get(x, "type")), "report") == 0 &&
                           (json_array_size(evs) == 1 ||
                                   json_equal(json_object_get(
                                                      json_object_get(x, "x_misp_event"), "uuid"),
                                           json_object_get(ev, "uuid")))) rep = x;
            TIDE_ASSERT(rep != NULL);
            TIDE_ASSERT(json_object_get(json_object_get(rep, "x_misp_event"), "Attribute") == NULL);
            json_array_foreach(json_object_get(ev, "Tag"), j, g)
            {
                const char *tn = json_string_value(json_object_get(g, "name"));
                if (strcmp(tn, "tlp:white") == 0) {
                    TIDE_ASSERT_EQ_STR(json_string_value(json_array_get(
                                               json_object_get(rep, "object_marking_refs"), 0)),
                            "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9");
                } else if (strncmp(tn, "tlp:", 4) != 0 && strncmp(tn, "osint:certainty", 15)) {
                    int found = 0;
                    json_array_foreach(json_object_get(rep, "labels"), k,
                            x) if (strcmp(json_string_value(x), tn) == 0) found = 1;
                    if (!found)
                        TIDE_FAIL_("%s: tag %s lost", event_files[f], tn);
                }
            }
        }
        size_t na = count_type(&c, "indicator") + count_type(&c, "x-misp-attribute");
        if (na != attrs)
            TIDE_FAIL_("%s: %zu attributes, %zu emitted", event_files[f], attrs, na);
        TIDE_ASSERT_EQ_INT(count_type(&c, "x-misp-object"), objects);
        TIDE_ASSERT_EQ_INT(count_type(&c, "sighting"), sightings);
        TIDE_ASSERT_EQ_INT(count_type(&c, "report"), json_array_size(evs));
        total_attrs += attrs;
        total_sightings += sightings;

        /* reading again gives identical objects (ids and timestamps are stable) */
        collect c2;
        c_init(&c2, &s, p);
        TIDE_ASSERT_EQ_INT(read_path(&c2, &s, p), 0);
        TIDE_ASSERT(json_equal(c.objs, c2.objs));
        c_free(&c2);
        json_decref(evs);
        json_decref(root);
        c_free(&c);
    }
    TIDE_ASSERT_EQ_INT(total_attrs, 248);
    TIDE_ASSERT_EQ_INT(total_sightings, 6);
    TIDE_ASSERT(total_clusters >= 20);
}

static void t_xorist_details(void)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s/misp/pymisp/tests/57c4445b-c548-4654-af0b-4be3950d210f.json",
            tide_test_data());
    collect c;
    tide_sink s;
    c_init(&c, &s, p);
    TIDE_ASSERT_EQ_INT(read_path(&c, &s, p), 0);
    TIDE_ASSERT_EQ_INT(json_array_size(c.rejects), 0);
    /* md5 / sha1 / sha256 with to_ids -> indicators; filename, regkey, link, text -> custom */
    TIDE_ASSERT_EQ_INT(count_type(&c, "indicator"), 3);
    TIDE_ASSERT_EQ_INT(count_type(&c, "x-misp-attribute"), 6);
    json_t *ind = find_id(&c, "indicator--57c4448b-454c-4d17-90d1-4d2f950d210f");
    TIDE_ASSERT(ind != NULL);
    TIDE_ASSERT_EQ_STR(json_string_value(json_object_get(ind, "pattern")),
            "[file:hashes.MD5 = '0749bae92ca336a02c83d126e04ec628']");
    TIDE_ASSERT_EQ_STR(json_string_value(json_object_get(ind, "pattern_type")), "stix");
    /* timestamp 1472540811? the attribute's own epoch becomes modified and valid_from */
    TIDE_ASSERT(json_string_value(json_object_get(ind, "valid_from")) != NULL);
    TIDE_ASSERT_EQ_STR(json_string_value(json_array_get(json_object_get(ind, "labels"), 0)),
            "Payload delivery");
    TIDE_ASSERT_EQ_STR(
            json_string_value(json_array_get(json_object_get(ind, "object_marking_refs"), 0)),
            "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9");
    json_t *rep = find_id(&c, "report--57c4445b-c548-4654-af0b-4be3950d210f");
    TIDE_ASSERT(rep != NULL);
    TIDE_ASSERT_EQ_STR(json_string_value(json_object_get(rep, "name")), "Ransomware - Xorist");
    TIDE_ASSERT_EQ_STR(
            json_string_value(json_object_get(rep, "modified")), "2016-08-30T07:10:11.000Z");
    TIDE_ASSERT_EQ_STR(
            json_string_value(json_object_get(rep, "published")), "2016-08-29T00:00:00.000Z");
    TIDE_ASSERT_EQ_INT(json_array_size(json_object_get(rep, "object_refs")), 9);
    /* timestamps come from MISP: nothing here is derived */
    size_t i;
    json_t *f;
    json_array_foreach(c.flags, i, f) TIDE_ASSERT_EQ_INT(json_integer_value(f), 0);
    c_free(&c);
}

static void t_sednit_details(void)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s/misp/pymisp/tests/mispevent_testfiles/existing_event.json",
            tide_test_data());
    collect c;
    tide_sink s;
    c_init(&c, &s, p);
    TIDE_ASSERT_EQ_INT(read_path(&c, &s, p), 0);
    TIDE_ASSERT_EQ_INT(count_type(&c, "x-misp-object"), 49);
    /* ObjectReferences -> relationships, galaxies -> SDOs */
    TIDE_ASSERT(count_type(&c, "relationship") > 0);
    TIDE_ASSERT(count_type(&c, "threat-actor") >= 1);
    TIDE_ASSERT(count_type(&c, "malware") >= 7);
    TIDE_ASSERT(count_type(&c, "tool") >= 1);
    size_t i;
    json_t *o;
    int conf93 = 0, rel_ok = 0;
    json_array_foreach(c.objs, i, o)
    {
        const char *t = json_string_value(json_object_get(o, "type"));
        if ((strcmp(t, "indicator") == 0 || strcmp(t, "x-misp-attribute") == 0) &&
                json_integer_value(json_object_get(o, "confidence")) == 93)
            conf93++;
        if (strcmp(t, "relationship") == 0 &&
                strcmp(json_string_value(json_object_get(o, "relationship_type")),
                        "communicates-with") == 0 &&
                find_id(&c, json_string_value(json_object_get(o, "source_ref"))) &&
                find_id(&c, json_string_value(json_object_get(o, "target_ref"))))
            rel_ok++;
        if (strcmp(t, "malware") == 0)
            TIDE_ASSERT(json_is_true(json_object_get(o, "is_family")));
    }
    TIDE_ASSERT(conf93 > 0);
    TIDE_ASSERT(rel_ok > 0);
    c_free(&c);
}

static void t_sightings(void)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s/misp/pymisp/tests/reportlab_testfiles/sighting_1.json",
            tide_test_data());
    collect c;
    tide_sink s;
    c_init(&c, &s, p);
    TIDE_ASSERT_EQ_INT(read_path(&c, &s, p), 0);
    json_t *sg = find_id(&c, "sighting--5c7641bf-a4e8-4d5d-a653-03240a00020f");
    TIDE_ASSERT(sg != NULL);
    TIDE_ASSERT_EQ_STR(json_string_value(json_object_get(sg, "sighting_of_ref")),
            "indicator--5b6464ca-e73c-4707-9b8a-d0350acd0835");
    TIDE_ASSERT_EQ_STR(
            json_string_value(json_object_get(sg, "first_seen")), "2019-02-27T07:52:30.000Z");
    TIDE_ASSERT_EQ_INT(json_integer_value(json_object_get(sg, "count")), 1);
    TIDE_ASSERT(json_object_get(sg, "x_misp_sighting") != NULL);
    /* the banker galaxy cluster Gozi -> malware, indicated by nothing (event level) */
    TIDE_ASSERT(count_type(&c, "malware") == 1);
    c_free(&c);
}

static void t_refused(void)
{
    struct {
        const char *rel, *why;
    } cases[] = {
        { "mispevent_testfiles/overwrite_file/definition.json", "object template" },
        { "mispevent_testfiles/test_object_template/definition.json", "object template" },
        { "search_index_result.json", "search result" },
        { "sharing_groups.json", "sharing group" },
        { "stix2.json", "STIX bundle" },
        { "csv_testfiles/valid_fieldnames.csv", "not JSON" },
        { "csv_testfiles/invalid_fieldnames.csv", "not JSON" },
        { "mispevent_testfiles/galaxy.json", "galaxy" },
        { "mispevent_testfiles/sighting.json", "sighting" },
        { "mispevent_testfiles/simple.json", "empty" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char p[4096];
        snprintf(p, sizeof(p), "%s/misp/pymisp/tests/%s", tide_test_data(), cases[i].rel);
        collect c;
        tide_sink s;
        c_init(&c, &s, p);
        int rc = read_path(&c, &s, p);
        if (rc != TIDE_EFORMAT)
            TIDE_FAIL_("%s: rc %d (%s)", cases[i].rel, rc, tide_error_last());
        if (strstr(tide_error_last(), "not a MISP event") == NULL ||
                strstr(tide_error_last(), cases[i].why) == NULL)
            TIDE_FAIL_("%s: message \"%s\"", cases[i].rel, tide_error_last());
        TIDE_ASSERT_EQ_INT(json_array_size(c.objs), 0);
        c_free(&c);
    }
}

static void t_bad_attributes(void)
{
    const char *ev =
            "{\"Event\": {\"uuid\": \"5a4e4fdd-1eb4-4ff3-9e87-43fa950d210f\", \"info\": \"t\", "
            "\"timestamp\": \"1515081727\", \"Tag\": [{\"name\": \"tlp:amber\"}, {\"name\": "
            "\"admiralty-scale:source-reliability=\\\"b\\\"\"}],"
            "\"Attribute\": ["
            "{\"uuid\": \"11111111-1111-4111-8111-111111111111\", \"type\": \"ip-dst\", "
            "\"to_ids\": true},"
            "{\"uuid\": \"22222222-2222-4222-8222-222222222222\", \"type\": \"ip-dst\", "
            "\"value\": 1234, \"to_ids\": true},"
            "{\"uuid\": \"33333333-3333-4333-8333-333333333333\", \"type\": \"ip-dst|port\", "
            "\"value\": \"198.51.100.7|8443\", \"to_ids\": true, \"timestamp\": \"1515081000\","
            " \"Tag\": [{\"name\": \"tlp:clear\"}, {\"name\": "
            "\"estimative-language:confidence-in-analytic-judgment=\\\"high\\\"\"}]},"
            "{\"uuid\": \"44444444-4444-4444-8444-444444444444\", \"type\": \"domain\", "
            "\"value\": \"evil[.]example.com\", \"to_ids\": \"1\", \"Sighting\": [{\"type\": "
            "\"1\", \"date_sighting\": \"1515081800\"}]},"
            "{\"uuid\": \"55555555-5555-4555-8555-555555555555\", \"type\": \"domain\", "
            "\"value\": \"benign.example.org\", \"to_ids\": false}"
            "]}}";
    collect c;
    tide_sink s;
    c_init(&c, &s, "bad.json");
    TIDE_ASSERT_EQ_INT(read_mem(&s, ev), 0);
    TIDE_ASSERT_EQ_INT(json_array_size(c.rejects), 2);
    const char *r0 = json_string_value(json_array_get(c.rejects, 0));
    const char *r1 = json_string_value(json_array_get(c.rejects, 1));
    TIDE_ASSERT(strstr(r0, "Attribute[0]") && strstr(r0, "11111111-1111-4111-8111-111111111111"));
    TIDE_ASSERT(strstr(r1, "Attribute[1]") && strstr(r1, "22222222-2222-4222-8222-222222222222"));
    TIDE_ASSERT_EQ_INT(count_type(&c, "indicator"), 2);
    TIDE_ASSERT_EQ_INT(count_type(&c, "x-misp-attribute"), 1);
    json_t *ip = find_id(&c, "indicator--33333333-3333-4333-8333-333333333333");
    TIDE_ASSERT(ip != NULL);
    TIDE_ASSERT(strstr(json_string_value(json_object_get(ip, "pattern")), "198.51.100.7") &&
                strstr(json_string_value(json_object_get(ip, "pattern")), "8443"));
    /* the most restrictive TLP wins: the attribute's tlp:clear does not lower its event's
     * tlp:amber (one marking, amber); event reliability inherited */
    TIDE_ASSERT_EQ_INT(json_array_size(json_object_get(ip, "object_marking_refs")), 1);
    TIDE_ASSERT_EQ_STR(
            json_string_value(json_array_get(json_object_get(ip, "object_marking_refs"), 0)),
            "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421");
    TIDE_ASSERT_EQ_INT(json_integer_value(json_object_get(ip, "confidence")), 85);
    TIDE_ASSERT_EQ_STR(json_string_value(json_object_get(ip, "x_tide_reliability")), "B");
    TIDE_ASSERT_EQ_STR(
            json_string_value(json_object_get(ip, "modified")), "2018-01-04T15:50:00.000Z");
    json_t *dom = find_id(&c, "indicator--44444444-4444-4444-8444-444444444444");
    TIDE_ASSERT(dom != NULL);
    TIDE_ASSERT_EQ_STR(json_string_value(json_object_get(dom, "pattern")),
            "[domain-name:value = 'evil.example.com']");
    TIDE_ASSERT_EQ_STR(
            json_string_value(json_array_get(json_object_get(dom, "object_marking_refs"), 0)),
            "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421");
    TIDE_ASSERT_EQ_INT(count_type(&c, "sighting"), 1);
    size_t i;
    json_t *o;
    json_array_foreach(c.objs, i,
            o) if (strcmp(json_string_value(json_object_get(o, "type")), "sighting") == 0)
    {
        TIDE_ASSERT(json_is_true(json_object_get(o, "x_tide_false_positive")));
        TIDE_ASSERT_EQ_STR(json_string_value(json_object_get(o, "sighting_of_ref")),
                "indicator--44444444-4444-4444-8444-444444444444");
    }
    c_free(&c);
}

static void t_truncated(void)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s/misp/pymisp/tests/57c4445b-c548-4654-af0b-4be3950d210f.json",
            tide_test_data());
    FILE *f = fopen(p, "rb");
    TIDE_ASSERT(f != NULL);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    size_t cuts[] = { n / 2, n - 3, 10 };
    for (size_t k = 0; k < 3; k++) {
        buf[cuts[k]] = '\0';
        collect c;
        tide_sink s;
        c_init(&c, &s, "cut.json");
        TIDE_ASSERT_EQ_INT(read_mem(&s, buf), 0);
        TIDE_ASSERT_EQ_INT(json_array_size(c.objs), 0);
        TIDE_ASSERT_EQ_INT(json_array_size(c.rejects), 1);
        TIDE_ASSERT(strstr(json_string_value(json_array_get(c.rejects, 0)),
                            "unexpected end of input") != NULL);
        c_free(&c);
        f = fopen(p, "rb");
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
    }
    /* a response array cut in its second event: the first event is kept */
    const char *resp = "{\"response\": [{\"Event\": {\"uuid\": "
                       "\"5a4e4fdd-1eb4-4ff3-9e87-43fa950d210f\", \"info\": \"one\", \"date\": "
                       "\"2018-01-04\", \"Attribute\": []}}, {\"Event\": {\"uuid\": \"5a4e";
    collect c;
    tide_sink s;
    c_init(&c, &s, "resp.json");
    TIDE_ASSERT_EQ_INT(read_mem(&s, resp), 0);
    TIDE_ASSERT_EQ_INT(count_type(&c, "report"), 1);
    TIDE_ASSERT_EQ_INT(json_array_size(c.rejects), 1);
    c_free(&c);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    TIDE_ASSERT(f != NULL);
    fputs(text, f);
    fclose(f);
}

static void t_feed(void)
{
    const char *dir = tide_test_tmpdir();
    char p[1024];
    collect c;
    tide_sink s;
    c_init(&c, &s, dir);
    TIDE_ASSERT_EQ_INT(tide__read_misp_feed(&s, dir), TIDE_EFORMAT);
    TIDE_ASSERT(strstr(tide_error_last(), "manifest.json") != NULL);
    snprintf(p, sizeof(p), "%s/manifest.json", dir);
    write_file(p, "{\"57c6ac4c-c60c-4f79-a38f-b666950d210f\": {\"info\": \"a\", \"timestamp\": "
                  "\"1472638251\"}, \"5720accd-dd28-45f8-80e5-4605950d210f\": {\"info\": "
                  "\"b\"}}");
    snprintf(p, sizeof(p), "%s/57c6ac4c-c60c-4f79-a38f-b666950d210f.json", dir);
    write_file(p, "{\"Event\": {\"uuid\": \"57c6ac4c-c60c-4f79-a38f-b666950d210f\", \"info\": "
                  "\"Malspam\", \"timestamp\": \"1472638251\", \"date\": \"2016-08-31\", "
                  "\"Attribute\": [{\"uuid\": \"57c6ac4c-0000-4f79-a38f-b666950d210f\", "
                  "\"type\": \"url\", \"value\": \"http://EVIL.example.com:80/x\", \"to_ids\": "
                  "true, \"category\": \"Network activity\", \"timestamp\": \"1472638251\"}]}}");
    TIDE_ASSERT_EQ_INT(tide__read_misp_feed(&s, dir), 0);
    TIDE_ASSERT_EQ_INT(count_type(&c, "report"), 1);
    TIDE_ASSERT_EQ_INT(count_type(&c, "indicator"), 1);
    TIDE_ASSERT_EQ_INT(json_array_size(c.rejects), 1);
    TIDE_ASSERT(strstr(json_string_value(json_array_get(c.rejects, 0)),
                        "5720accd-dd28-45f8-80e5-4605950d210f") != NULL);
    TIDE_ASSERT(strstr(json_string_value(json_array_get(c.rejects, 0)), "missing") != NULL);
    TIDE_ASSERT_EQ_STR(s.file, dir);
    c_free(&c);
    snprintf(p, sizeof(p), "%s/manifest.json", dir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/57c6ac4c-c60c-4f79-a38f-b666950d210f.json", dir);
    unlink(p);
    rmdir(dir);
}

static void t_derived_flags(void)
{
    /* an event with no time at all: objects get opts->now_ms and the DERIVED flag, and are the
     * same on every read */
    const char *ev = "{\"info\": \"x\", \"analysis\": \"1\", \"Attribute\": [{\"type\": "
                     "\"md5\", \"value\": \"0749BAE92CA336A02C83D126E04EC628\", \"to_ids\": "
                     "true}]}";
    collect c;
    tide_sink s;
    c_init(&c, &s, "nots.json");
    TIDE_ASSERT_EQ_INT(read_mem(&s, ev), 0);
    TIDE_ASSERT_EQ_INT(json_array_size(c.objs), 2);
    size_t i;
    json_t *f;
    json_array_foreach(c.flags, i, f) TIDE_ASSERT_EQ_INT(json_integer_value(f), TIDE_EMIT_DERIVED);
    json_t *ind = json_array_get(c.objs, 0);
    TIDE_ASSERT_EQ_STR(json_string_value(json_object_get(ind, "pattern")),
            "[file:hashes.MD5 = '0749bae92ca336a02c83d126e04ec628']");
    TIDE_ASSERT_EQ_STR(
            json_string_value(json_object_get(ind, "created")), "2023-11-14T22:13:20.000Z");
    collect c2;
    c_init(&c2, &s, "nots.json");
    TIDE_ASSERT_EQ_INT(read_mem(&s, ev), 0);
    TIDE_ASSERT(json_equal(c.objs, c2.objs));
    c_free(&c2);
    c_free(&c);
}

TIDE_TESTS = {
    { "read_misp::real_events", t_real_events },
    { "read_misp::xorist_details", t_xorist_details },
    { "read_misp::sednit_details", t_sednit_details },
    { "read_misp::sightings", t_sightings },
    { "read_misp::refused", t_refused },
    { "read_misp::bad_attributes", t_bad_attributes },
    { "read_misp::truncated", t_truncated },
    { "read_misp::feed", t_feed },
    { "read_misp::derived_flags", t_derived_flags },
    { NULL, NULL },
};
TIDE_TEST_MAIN
