/*
 * test_read_csv.c - the CSV reader (tide__read_csv): RFC 4180 quoting, header and explicit
 * column mappings, type columns, campaigns, rejects, and the real pymisp CSV test files.
 */
#include <stdlib.h>

#include "harness.h"
#include "ingest/sink.h"
#include "intel/tlp.h"
#include "tide/errors.h"
#include "tide/observable.h"

typedef struct {
    long kinds[TIDE_OBS__COUNT];
    long indicators, campaigns, relationships, rejects;
    long last_reject_line;
    char last_reject[512];
    json_t *objs; /* every object */
} collect;

static int c_emit(tide_sink *sink, json_t *obj, const char *raw, size_t rawlen, unsigned flags)
{
    (void)raw;
    (void)rawlen;
    (void)flags;
    collect *c = sink->payload;
    const char *type = json_string_value(json_object_get(obj, "type"));
    if (strcmp(type, "indicator") == 0) {
        c->indicators++;
        const char *k = json_string_value(
                json_object_get(json_object_get(obj, "x_tide_observable"), "kind"));
        c->kinds[tide_obs_kind_from_name(k)]++;
    } else if (strcmp(type, "campaign") == 0) {
        c->campaigns++;
    } else if (strcmp(type, "relationship") == 0) {
        c->relationships++;
    }
    if (json_array_size(c->objs) < 100)
        json_array_append_new(c->objs, json_deep_copy(obj));
    return 0;
}

static void c_reject(tide_sink *sink, long line, long long offset, const char *reason)
{
    (void)offset;
    collect *c = sink->payload;
    if (getenv("TIDE_SHOW_REJECTS"))
        fprintf(stderr, "  reject %s:%ld: %s\n", sink->file, line, reason);
    c->rejects++;
    c->last_reject_line = line;
    snprintf(c->last_reject, sizeof(c->last_reject), "%s", reason);
}

static tide_ingest_opts default_opts(void)
{
    tide_ingest_opts o;
    memset(&o, 0, sizeof(o));
    o.confidence = -1;
    o.now_ms = 1700000000000LL;
    return o;
}

static int read_mem(collect *c, const char *text, const tide_ingest_opts *o)
{
    if (c->objs == NULL)
        c->objs = json_array();
    FILE *fp = fmemopen((void *)text, strlen(text), "rb");
    TIDE_ASSERT(fp != NULL);
    tide_sink s = {
        .emit = c_emit, .reject = c_reject, .file = "mem.csv", .opts = o, .payload = c
    };
    int rc = tide__read_csv(&s, fp);
    fclose(fp);
    return rc;
}

static int read_file(collect *c, const char *path, const tide_ingest_opts *o)
{
    if (c->objs == NULL)
        c->objs = json_array();
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        TIDE_FAIL_("cannot open %s", path);
    tide_sink s = { .emit = c_emit, .reject = c_reject, .file = path, .opts = o, .payload = c };
    int rc = tide__read_csv(&s, fp);
    fclose(fp);
    return rc;
}

/* n-th object of a type */
static json_t *nth(collect *c, const char *type, int n)
{
    size_t i;
    json_t *o;
    json_array_foreach(c->objs, i, o)
    {
        if (strcmp(json_string_value(json_object_get(o, "type")), type) == 0 && n-- == 0)
            return o;
    }
    return NULL;
}

static const char *obs_value(json_t *ind)
{
    return json_string_value(json_object_get(json_object_get(ind, "x_tide_observable"), "value"));
}

static void t_gen_corpus_layout(void)
{
    const char *csv =
            "type,value,campaign,confidence\r\n"
            "ipv4,35.32.130.31,Campaign-0000,95\r\n"
            "cidr,10.1.2.3/8,Campaign-0000,50\r\n"
            "domain,Evil.Example.COM,Campaign-0001,30\r\n"
            "url,\"http://x.example/a,b\",,\r\n"
            "sha256,E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855,,\r\n"
            "md5,nothex,,\r\n"
            "ipv4,evil.example,,\r\n"
            "bogus,1.2.3.4,,\r\n"
            "ipv4,1.2.3.4\r\n"
            "ipv4,,,\r\n"
            "ipv4,5.6.7.8,,101\r\n";
    collect c = { 0 };
    tide_ingest_opts o = default_opts();
    TIDE_ASSERT_EQ_INT(read_mem(&c, csv, &o), 0);
    TIDE_ASSERT_EQ_INT(c.indicators, 5);
    TIDE_ASSERT_EQ_INT(c.kinds[TIDE_OBS_CIDR4], 1);
    TIDE_ASSERT_EQ_INT(c.campaigns, 2);
    TIDE_ASSERT_EQ_INT(c.relationships, 3);
    TIDE_ASSERT_EQ_INT(c.rejects, 6);
    TIDE_ASSERT_EQ_INT(c.last_reject_line, 12);
    TIDE_ASSERT(strstr(c.last_reject, "confidence") != NULL);
    json_t *i0 = nth(&c, "indicator", 0);
    TIDE_ASSERT_EQ_STR(obs_value(i0), "35.32.130.31");
    TIDE_ASSERT_EQ_INT(json_integer_value(json_object_get(i0, "confidence")), 95);
    TIDE_ASSERT_EQ_STR(json_string_value(json_object_get(i0, "x_tide_source")), "mem");
    TIDE_ASSERT_EQ_STR(obs_value(nth(&c, "indicator", 1)), "10.0.0.0/8");
    TIDE_ASSERT_EQ_STR(obs_value(nth(&c, "indicator", 2)), "evil.example.com");
    TIDE_ASSERT_EQ_STR(obs_value(nth(&c, "indicator", 3)), "http://x.example/a,b");
    TIDE_ASSERT_EQ_INT(
            json_integer_value(json_object_get(nth(&c, "indicator", 3), "confidence")), 60);
    json_t *camp = nth(&c, "campaign", 0);
    TIDE_ASSERT_EQ_STR(json_string_value(json_object_get(camp, "name")), "Campaign-0000");
    json_t *rel = nth(&c, "relationship", 0);
    TIDE_ASSERT_EQ_STR(json_string_value(json_object_get(rel, "relationship_type")), "indicates");
    TIDE_ASSERT_EQ_STR(json_string_value(json_object_get(rel, "source_ref")),
            json_string_value(json_object_get(i0, "id")));
    TIDE_ASSERT_EQ_STR(json_string_value(json_object_get(rel, "target_ref")),
            json_string_value(json_object_get(camp, "id")));
    json_decref(c.objs);
}

static void t_quoting(void)
{
    const char *csv = "\xEF\xBB\xBFioc,comment,tags\n"
                      "\"hxxp://bad[.]example/p\"\"q\",\"multi\nline \"\"comment\"\"\",tlp:red\n"
                      "evil.example,plain,\"TLP:GREEN, other\"\n"
                      "\n"
                      "1.2.3.4,\"unterminated\n";
    collect c = { 0 };
    tide_ingest_opts o = default_opts();
    o.tlp = "amber";
    TIDE_ASSERT_EQ_INT(read_mem(&c, csv, &o), 0);
    TIDE_ASSERT_EQ_INT(c.indicators, 2);
    TIDE_ASSERT_EQ_STR(obs_value(nth(&c, "indicator", 0)), "http://bad.example/p%22q");
    TIDE_ASSERT_EQ_STR(json_string_value(json_array_get(
                               json_object_get(nth(&c, "indicator", 0), "object_marking_refs"), 0)),
            tide__tlp_marking_id("red"));
    TIDE_ASSERT_EQ_STR(json_string_value(json_array_get(
                               json_object_get(nth(&c, "indicator", 1), "object_marking_refs"), 0)),
            tide__tlp_marking_id("green"));
    /* the unterminated quote swallows the rest: a 2-field record, not 3 */
    TIDE_ASSERT_EQ_INT(c.rejects, 1);
    TIDE_ASSERT_EQ_INT(c.last_reject_line, 6);
    json_decref(c.objs);
}

static void t_mapping(void)
{
    const char *csv = "first,ioc_type,ioc,when\n"
                      "a,domain,evil.example,2024-01-02T03:04:05Z\n"
                      "b,ip-dst,2001:db8::1,2024-01-02\n"
                      "c,ip-dst,1.2.3.4,yesterday\n";
    collect c = { 0 };
    tide_ingest_opts o = default_opts();
    o.csv_columns = "value=ioc,type=ioc_type,first_seen=when";
    TIDE_ASSERT_EQ_INT(read_mem(&c, csv, &o), 0);
    TIDE_ASSERT_EQ_INT(c.indicators, 2);
    TIDE_ASSERT_EQ_INT(c.kinds[TIDE_OBS_IPV6], 1);
    TIDE_ASSERT_EQ_STR(json_string_value(json_object_get(nth(&c, "indicator", 0), "valid_from")),
            "2024-01-02T03:04:05.000Z");
    TIDE_ASSERT_EQ_INT(c.rejects, 1);
    TIDE_ASSERT(strstr(c.last_reject, "yesterday") != NULL);
    json_decref(c.objs);

    /* numeric mapping without header row */
    collect n = { 0 };
    o.csv_columns = "value=2,campaign=1";
    TIDE_ASSERT_EQ_INT(read_mem(&n, "Op-X,evil.example\nOp-X,1.2.3.4\n", &o), 0);
    TIDE_ASSERT_EQ_INT(n.indicators, 2);
    TIDE_ASSERT_EQ_INT(n.campaigns, 1);
    TIDE_ASSERT_EQ_INT(n.relationships, 2);
    json_decref(n.objs);

    /* numeric mapping with a header row: the header is skipped, not rejected */
    collect h = { 0 };
    o.csv_columns = "type=1,value=2";
    TIDE_ASSERT_EQ_INT(read_mem(&h, "type,value\nmd5,D41D8CD98F00B204E9800998ECF8427E\n", &o), 0);
    TIDE_ASSERT_EQ_INT(h.indicators, 1);
    TIDE_ASSERT_EQ_INT(h.rejects, 0);
    TIDE_ASSERT_EQ_STR(obs_value(nth(&h, "indicator", 0)), "d41d8cd98f00b204e9800998ecf8427e");
    json_decref(h.objs);

    collect bad = { 0 };
    o.csv_columns = "value=nosuch";
    TIDE_ASSERT_EQ_INT(read_mem(&bad, "a,b\n1,2\n", &o), TIDE_EFORMAT);
    TIDE_ASSERT(strstr(tide_error_last(), "nosuch") != NULL);
    o.csv_columns = "value=9";
    TIDE_ASSERT_EQ_INT(read_mem(&bad, "a,b\n1,2\n", &o), TIDE_EFORMAT);
    o.csv_columns = "colour=1";
    TIDE_ASSERT_EQ_INT(read_mem(&bad, "a,b\n1,2\n", &o), TIDE_EINVAL);
    json_decref(bad.objs);
}

static void t_pymisp_files(void)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/misp/pymisp/tests/csv_testfiles/valid_fieldnames.csv",
            tide_test_data());
    collect c = { 0 };
    tide_ingest_opts o = default_opts();
    TIDE_ASSERT_EQ_INT(read_file(&c, path, &o), 0);
    /* md5, sha1, sha256 columns; every row gives three hashes */
    TIDE_ASSERT(c.kinds[TIDE_OBS_MD5] >= 2);
    TIDE_ASSERT_EQ_INT(c.kinds[TIDE_OBS_MD5], c.kinds[TIDE_OBS_SHA1]);
    TIDE_ASSERT_EQ_INT(c.kinds[TIDE_OBS_MD5], c.kinds[TIDE_OBS_SHA256]);
    TIDE_ASSERT_EQ_INT(c.rejects, 0);
    TIDE_ASSERT_EQ_STR(obs_value(nth(&c, "indicator", 0)), "644087ccca16d2a728ef7685a4106f09");
    TIDE_ASSERT_EQ_STR(json_string_value(json_object_get(nth(&c, "indicator", 2), "pattern")),
            "[file:hashes.'SHA-256' = "
            "'385e31c97e3a07bbb81513f0cd0979e64e6b014943902efd002f57b21eadd41e']");
    json_decref(c.objs);

    snprintf(path, sizeof(path), "%s/misp/pymisp/tests/csv_testfiles/invalid_fieldnames.csv",
            tide_test_data());
    collect i = { 0 };
    TIDE_ASSERT_EQ_INT(read_file(&i, path, &o), TIDE_EFORMAT);
    TIDE_ASSERT_EQ_INT(i.indicators, 0);
    TIDE_ASSERT(strstr(tide_error_last(), "line 1") != NULL);
    TIDE_ASSERT(strstr(tide_error_last(), "'fileName'") != NULL);
    json_decref(i.objs);
}

static void t_gen_corpus_real(void)
{
    /* a 2000-indicator corpus generated by bench/gen_corpus.py, if the test runner made one */
    const char *p = getenv("TIDE_GEN_CORPUS_CSV");
    if (p == NULL)
        TIDE_SKIP("TIDE_GEN_CORPUS_CSV not set");
    collect c = { 0 };
    tide_ingest_opts o = default_opts();
    TIDE_ASSERT_EQ_INT(read_file(&c, p, &o), 0);
    TIDE_ASSERT_EQ_INT(c.rejects, 0);
    TIDE_ASSERT(c.indicators > 0);
    TIDE_ASSERT(c.campaigns > 0);
    json_decref(c.objs);
}

TIDE_TESTS = {
    { "read_csv::gen_corpus_layout", t_gen_corpus_layout },
    { "read_csv::quoting", t_quoting },
    { "read_csv::mapping", t_mapping },
    { "read_csv::pymisp_files", t_pymisp_files },
    { "read_csv::gen_corpus_real", t_gen_corpus_real },
    { NULL, NULL },
};
TIDE_TEST_MAIN
