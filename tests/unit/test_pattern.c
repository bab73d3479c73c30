/*
 * test_pattern.c - STIX patterning: every validator and matcher conformance case of
 * ../shared/data/stix-patterns through the library API, plus error positions, index terms,
 * the simple flag and hostile input (empty, huge, deeply nested, binary garbage).
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tide/errors.h"
#include "tide/pattern.h"

static json_t *load_cases(const char *name)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/stix-patterns/%s", tide_test_data(), name);
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    if (j == NULL)
        TIDE_FAIL_("cannot load %s: %s", path, e.text);
    return j;
}

static void run_validator(const char *file, tide_stix_version v, int expect_n)
{
    json_t *cases = load_cases(file);
    size_t i;
    json_t *c;
    int bad = 0;
    json_array_foreach(cases, i, c)
    {
        const char *pat = json_string_value(json_object_get(c, "pattern"));
        bool valid = json_is_true(json_object_get(c, "valid"));
        tide_pattern *p = NULL;
        char err[256];
        int rc = tide_pattern_parse(&p, pat, v, err, sizeof(err));
        if ((rc == 0) != valid) {
            fprintf(stderr, "  %s: %s -> rc %d %s\n", json_string_value(json_object_get(c, "id")),
                    pat, rc, err);
            bad++;
        }
        if (rc < 0) {
            TIDE_ASSERT_EQ_INT(rc, TIDE_EPARSE);
            TIDE_ASSERT(strncmp(err, "position ", 9) == 0);
        }
        tide_pattern_free(p);
    }
    TIDE_ASSERT_EQ_INT(json_array_size(cases), expect_n);
    json_decref(cases);
    TIDE_ASSERT_EQ_INT(bad, 0);
}

static void run_matcher(const char *file, tide_stix_version v, int expect_n)
{
    json_t *cases = load_cases(file);
    size_t i;
    json_t *c;
    int bad = 0, matched_n = 0;
    json_array_foreach(cases, i, c)
    {
        const char *id = json_string_value(json_object_get(c, "id"));
        const char *pat = json_string_value(json_object_get(c, "pattern"));
        const char *xerr = json_string_value(json_object_get(c, "expect_error"));
        bool expected = json_is_true(json_object_get(c, "expected"));
        char *data = json_dumps(json_object_get(c, "observed_data"), JSON_COMPACT);
        TIDE_ASSERT(data != NULL);
        tide_pattern *p = NULL;
        char err[512] = "";
        int rc = tide_pattern_parse(&p, pat, v, err, sizeof(err));
        bool ok;
        if (xerr && strcmp(xerr, "ParseException") == 0) {
            ok = rc == TIDE_EPARSE;
        } else if (rc < 0) {
            ok = false;
        } else {
            bool m = false;
            rc = tide_pattern_match_json(p, data, strlen(data), &m, err, sizeof(err));
            if (xerr) /* MatcherException: never a match, and we report the error */
                ok = rc == TIDE_EMATCH && !m;
            else
                ok = rc == 0 && m == expected;
            matched_n += rc == 0 && m;
        }
        if (!ok) {
            fprintf(stderr, "  %s: %s -> rc %d (%s)\n", id, pat, rc, err);
            bad++;
        }
        tide_pattern_free(p);
        free(data);
    }
    TIDE_ASSERT_EQ_INT(json_array_size(cases), expect_n);
    TIDE_ASSERT(matched_n > 0);
    json_decref(cases);
    TIDE_ASSERT_EQ_INT(bad, 0);
}

static void t_validator21(void)
{
    run_validator("validator_cases.json", TIDE_STIX_21, 31);
}
static void t_validator20(void)
{
    run_validator("validator_cases_v20.json", TIDE_STIX_20, 29);
}
static void t_matcher21(void)
{
    run_matcher("matcher_cases.json", TIDE_STIX_21, 124);
}
static void t_matcher20(void)
{
    run_matcher("matcher_cases_v20.json", TIDE_STIX_20, 123);
}

static void expect_error(const char *pat, tide_stix_version v, const char *msg)
{
    tide_pattern *p = NULL;
    char err[256] = "";
    int rc = tide_pattern_parse(&p, pat, v, err, sizeof(err));
    if (rc != TIDE_EPARSE || strcmp(err, msg) != 0)
        TIDE_FAIL_("'%s': rc %d, error \"%s\", want \"%s\"", pat, rc, err, msg);
    TIDE_ASSERT(p == NULL);
    TIDE_ASSERT(strstr(tide_error_last(), msg) != NULL);
}

static void t_error_positions(void)
{
    expect_error("file:size = 1280", TIDE_STIX_21, "position 1: input is missing square brackets");
    expect_error("[file:size = ]", TIDE_STIX_21,
            "position 14: mismatched input ']', expecting a literal");
    expect_error("[a:b = 1] within 5 SECONDS", TIDE_STIX_21,
            "position 11: mismatched input 'within' (keywords are upper case), expecting AND, "
            "OR, FOLLOWEDBY, a qualifier or the end");
    expect_error("[a:b = 1] WITHIN 5 HOURS", TIDE_STIX_21,
            "position 20: mismatched input 'HOURS', expecting SECONDS");
    expect_error("[a:b = 1] WITHIN -5 SECONDS", TIDE_STIX_21,
            "position 18: mismatched input '-5', expecting a positive number of seconds");
    expect_error(
            "[file:hashes.MD5 = 'abc']", TIDE_STIX_21, "position 2: 'abc' is not a valid MD5 hash");
    expect_error("[x:y = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS", TIDE_STIX_21,
            "position 28: duplicate qualifier type encountered: WITHIN");
    expect_error("[x:created = t'2024-13-01T00:00:00Z']", TIDE_STIX_21,
            "position 14: mismatched input 't' (malformed timestamp literal), expecting a "
            "literal");
    /* columns count characters, not bytes */
    expect_error("[x:n = 'ḍ̇' AND ]", TIDE_STIX_21,
            "position 17: mismatched input ']', expecting an object type");
    /* 2.0 has no EXISTS, 2.1 does */
    tide_pattern *p = NULL;
    TIDE_ASSERT_EQ_INT(tide_pattern_parse(&p, "[EXISTS x:y]", TIDE_STIX_21, NULL, 0), 0);
    tide_pattern_free(p);
    TIDE_ASSERT_EQ_INT(tide_pattern_parse(&p, "[EXISTS x:y]", TIDE_STIX_20, NULL, 0), TIDE_EPARSE);
    /* 2.0 has no duplicate-qualifier rule; == is accepted as = */
    TIDE_ASSERT_EQ_INT(tide_pattern_parse(&p, "[x:y == 1] REPEATS 1 TIMES REPEATS 2 TIMES",
                               TIDE_STIX_20, NULL, 0),
            0);
    tide_pattern_free(p);
}

typedef struct {
    int n;
    char buf[2048];
} term_log;

static int log_term(const tide_pattern_term *t, void *payload)
{
    term_log *l = payload;
    size_t used = strlen(l->buf);
    snprintf(l->buf + used, sizeof(l->buf) - used, "%s%d|%s|%s|%s|%s|%s", l->n ? ";" : "",
            t->and_group, t->object_type, t->path, t->op, t->value, t->negated ? "not" : "");
    l->n++;
    return 0;
}

static void terms_of(const char *pat, bool want_simple, const char *want)
{
    tide_pattern *p = NULL;
    char err[256];
    if (tide_pattern_parse(&p, pat, TIDE_STIX_21, err, sizeof(err)) != 0)
        TIDE_FAIL_("%s: %s", pat, err);
    term_log l = { 0, "" };
    bool simple = !want_simple;
    TIDE_ASSERT_EQ_INT(tide_pattern_terms(p, &simple, log_term, &l), 0);
    tide_pattern_free(p);
    if (simple != want_simple)
        TIDE_FAIL_("%s: simple %d, want %d", pat, simple, want_simple);
    TIDE_ASSERT_EQ_STR(l.buf, want);
}

static void t_terms(void)
{
    terms_of("[ipv4-addr:value = '198.51.100.1' OR ipv4-addr:value IN ('203.0.113.5', "
             "'203.0.113.6')]",
            true,
            "2|ipv4-addr|value|=|198.51.100.1|;3|ipv4-addr|value|IN|203.0.113.5|;"
            "3|ipv4-addr|value|IN|203.0.113.6|");
    terms_of("[file:hashes.'SHA-256' = "
             "'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' AND "
             "file:name = 'it\\'s']",
            false,
            "1|file|hashes.'SHA-256'|=|aec070645fe53ee3b3763059376134f058cc337247c978add178b6"
            "ccdfb0019f|;1|file|name|=|it's|");
    terms_of("[network-traffic:dst_ref.value ISSUBSET '10.0.0.0/8' AND "
             "network-traffic:dst_port = 443]",
            false,
            "1|network-traffic|dst_ref.value|ISSUBSET|10.0.0.0/8|;1|network-traffic|dst_port|=|"
            "443|");
    terms_of("[domain-name:value = 'a.example' OR domain-name:value NOT = 'b.example']", false,
            "2|domain-name|value|=|a.example|;3|domain-name|value|=|b.example|not");
    terms_of("[url:value = 'http://x/'] WITHIN 5 SECONDS", false, "1|url|value|=|http://x/|");
    terms_of("[a:b = 'x'] AND [c:'d-e'[*].f = 'y']", false, "1|a|b|=|x|;2|c|'d-e'[*].f|=|y|");
    terms_of("[x:y = true]", false, "");
    terms_of("([ipv4-addr:value = '1.2.3.4'])", true, "1|ipv4-addr|value|=|1.2.3.4|");
}

static void t_term_stop(void)
{
    tide_pattern *p = NULL;
    TIDE_ASSERT_EQ_INT(
            tide_pattern_parse(&p, "[a:b = 'x' OR a:b = 'y']", TIDE_STIX_21, NULL, 0), 0);
    term_log l = { 0, "" };
    TIDE_ASSERT_EQ_INT(tide_pattern_terms(p, NULL, log_term, &l), 0);
    TIDE_ASSERT_EQ_INT(l.n, 2);
    tide_pattern_free(p);
}

static void t_hostile_input(void)
{
    tide_pattern *p = NULL;
    char err[256];
    TIDE_ASSERT_EQ_INT(tide_pattern_parse(&p, "", TIDE_STIX_21, err, sizeof(err)), TIDE_EPARSE);
    TIDE_ASSERT_EQ_STR(err, "position 1: input is missing square brackets");
    TIDE_ASSERT_EQ_INT(tide_pattern_parse(&p, "[", TIDE_STIX_21, err, sizeof(err)), TIDE_EPARSE);
    TIDE_ASSERT(strstr(err, "unexpected end of pattern") != NULL);

    /* huge: over the length cap */
    size_t n = TIDE_PATTERN_MAX_LEN + 10;
    char *big = malloc(n + 1);
    TIDE_ASSERT(big != NULL);
    memset(big, ' ', n);
    big[0] = '[';
    big[n] = '\0';
    TIDE_ASSERT_EQ_INT(tide_pattern_parse(&p, big, TIDE_STIX_21, err, sizeof(err)), TIDE_EPARSE);
    TIDE_ASSERT(strstr(err, "longer than") != NULL);

    /* long but legal: many ORed comparisons under the cap */
    size_t k = 0;
    k += (size_t)snprintf(big + k, n + 1 - k, "[a:b = 0");
    for (int i = 1; i < 3000; i++)
        k += (size_t)snprintf(big + k, n + 1 - k, " OR a:b = %d", i);
    snprintf(big + k, n + 1 - k, "]");
    TIDE_ASSERT_EQ_INT(tide_pattern_parse(&p, big, TIDE_STIX_21, err, sizeof(err)), 0);
    bool simple = false;
    TIDE_ASSERT_EQ_INT(tide_pattern_terms(p, &simple, NULL, NULL), 0);
    TIDE_ASSERT(simple);
    tide_pattern_free(p);

    /* deep nesting is cut off, not a stack overflow */
    k = 0;
    for (int i = 0; i < 5000; i++)
        big[k++] = '(';
    memcpy(big + k, "[a:b = 1]", 9);
    k += 9;
    for (int i = 0; i < 5000; i++)
        big[k++] = ')';
    big[k] = '\0';
    TIDE_ASSERT_EQ_INT(tide_pattern_parse(&p, big, TIDE_STIX_21, err, sizeof(err)), TIDE_EPARSE);
    TIDE_ASSERT(strstr(err, "nesting deeper") != NULL);
    k = 0;
    big[k++] = '[';
    for (int i = 0; i < 5000; i++)
        big[k++] = '(';
    big[k] = '\0';
    TIDE_ASSERT_EQ_INT(tide_pattern_parse(&p, big, TIDE_STIX_21, err, sizeof(err)), TIDE_EPARSE);
    free(big);

    /* binary garbage and invalid UTF-8 */
    unsigned char junk[256];
    for (int i = 0; i < 255; i++)
        junk[i] = (unsigned char)(255 - i);
    junk[255] = '\0';
    TIDE_ASSERT_EQ_INT(tide_pattern_parse(&p, (const char *)junk, TIDE_STIX_21, err, sizeof(err)),
            TIDE_EPARSE);
    TIDE_ASSERT_EQ_INT(
            tide_pattern_parse(&p, "[a:b = '\xff']", TIDE_STIX_21, err, sizeof(err)), TIDE_EPARSE);
    TIDE_ASSERT_EQ_STR(err, "position 9: invalid UTF-8 byte 0xff");
    TIDE_ASSERT_EQ_INT(
            tide_pattern_parse(&p, "[a:b = 1", (tide_stix_version)22, NULL, 0), TIDE_EINVAL);
}

static int match(const char *pat, tide_stix_version v, const char *data, bool *m, char *err)
{
    tide_pattern *p = NULL;
    int rc = tide_pattern_parse(&p, pat, v, err, 256);
    if (rc < 0)
        return rc;
    rc = tide_pattern_match_json(p, data, strlen(data), m, err, 256);
    tide_pattern_free(p);
    return rc;
}

#define OD21(objs)                                                                                 \
    "[{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":[{\"type\":\"observed-data\","         \
    "\"id\":\"observed-data--1\",\"first_observed\":\"2020-01-01T00:00:00Z\","                     \
    "\"last_observed\":\"2020-01-01T00:00:05Z\",\"number_observed\":1,\"object_refs\":"            \
    "[\"ipv6-addr--1\",\"x--1\"]}," objs "]}]"

static void t_match_api(void)
{
    bool m = true;
    char err[256];
    const char *data = OD21("{\"type\":\"ipv6-addr\",\"id\":\"ipv6-addr--1\","
                            "\"value\":\"2001:db8::5\"},"
                            "{\"type\":\"x\",\"id\":\"x--1\",\"n\":\"Cafe\\u0301\","
                            "\"payload_bin\":\"AAEC\"}");
    TIDE_ASSERT_EQ_INT(
            match("[ipv6-addr:value ISSUBSET '2001:db8::/32']", TIDE_STIX_21, data, &m, err), 0);
    TIDE_ASSERT(m);
    TIDE_ASSERT_EQ_INT(
            match("[ipv6-addr:value ISSUBSET '2001:db9::/32']", TIDE_STIX_21, data, &m, err), 0);
    TIDE_ASSERT(!m);
    /* LIKE / MATCHES see NFC, = compares code points */
    TIDE_ASSERT_EQ_INT(match("[x:n LIKE 'Caf\xc3\xa9']", TIDE_STIX_21, data, &m, err), 0);
    TIDE_ASSERT(m);
    TIDE_ASSERT_EQ_INT(match("[x:n MATCHES '^Caf.$']", TIDE_STIX_21, data, &m, err), 0);
    TIDE_ASSERT(m);
    TIDE_ASSERT_EQ_INT(match("[x:n = 'Caf\xc3\xa9']", TIDE_STIX_21, data, &m, err), 0);
    TIDE_ASSERT(!m);
    TIDE_ASSERT_EQ_INT(match("[x:payload_bin = h'000102']", TIDE_STIX_21, data, &m, err), 0);
    TIDE_ASSERT(m);
    TIDE_ASSERT_EQ_INT(
            match("[EXISTS x:payload_bin] AND [EXISTS x:nope]", TIDE_STIX_21, data, &m, err), 0);
    TIDE_ASSERT(!m);
    /* run-time errors */
    TIDE_ASSERT_EQ_INT(
            match("[x:n = 1] WITHIN 0 SECONDS", TIDE_STIX_21, data, &m, err), TIDE_EMATCH);
    TIDE_ASSERT(!m);
    TIDE_ASSERT_EQ_INT(
            match("[x:n = 1] REPEATS 0 TIMES", TIDE_STIX_21, data, &m, err), TIDE_EMATCH);
    TIDE_ASSERT_EQ_INT(match("[x:n MATCHES '(']", TIDE_STIX_21, data, &m, err), TIDE_EMATCH);
    TIDE_ASSERT(strstr(err, "invalid regular expression") != NULL);
    TIDE_ASSERT_EQ_INT(
            match("[x:n ISSUBSET '10.0.0.0/8']", TIDE_STIX_21, data, &m, err), TIDE_EMATCH);
    /* bad data JSON names the place */
    TIDE_ASSERT_EQ_INT(match("[x:n = 1]", TIDE_STIX_21, "[{\"type\": ", &m, err), TIDE_EPARSE);
    TIDE_ASSERT(strstr(err, "line 1") != NULL);
    TIDE_ASSERT_EQ_INT(match("[x:n = 1]", TIDE_STIX_21, "", &m, err), TIDE_EPARSE);
    TIDE_ASSERT_EQ_INT(match("[x:n = 1]", TIDE_STIX_21, "[]", &m, err), 0);
    TIDE_ASSERT(!m);
}

static void t_repeats_cap(void)
{
    /* 60 observations, REPEATS 30: C(60,30) combinations are never formed, yet the answer
     * is given (the reference matcher answers it too); nested REPEATS multiply */
    char *buf = malloc(200000);
    TIDE_ASSERT(buf != NULL);
    size_t k = (size_t)snprintf(buf, 200000, "[");
    for (int i = 0; i < 60; i++)
        k += (size_t)snprintf(buf + k, 200000 - k,
                "%s{\"type\":\"observed-data\",\"first_observed\":\"2020-01-01T00:00:%02dZ\","
                "\"last_observed\":\"2020-01-01T00:00:%02dZ\",\"number_observed\":1,"
                "\"objects\":{\"0\":{\"type\":\"p\",\"a\":%d}}}",
                i ? "," : "", i % 60, i % 60, i);
    snprintf(buf + k, 200000 - k, "]");
    bool m = true;
    char err[256];
    TIDE_ASSERT_EQ_INT(match("[p:a < 100] REPEATS 30 TIMES", TIDE_STIX_20, buf, &m, err), 0);
    TIDE_ASSERT(m);
    TIDE_ASSERT_EQ_INT(match("[p:a < 100] REPEATS 61 TIMES", TIDE_STIX_20, buf, &m, err), 0);
    TIDE_ASSERT(!m);
    TIDE_ASSERT_EQ_INT(
            match("([p:a < 100] REPEATS 6 TIMES) REPEATS 10 TIMES", TIDE_STIX_20, buf, &m, err), 0);
    TIDE_ASSERT(m);
    TIDE_ASSERT_EQ_INT(
            match("([p:a < 100] REPEATS 6 TIMES) REPEATS 11 TIMES", TIDE_STIX_20, buf, &m, err), 0);
    TIDE_ASSERT(!m);
    TIDE_ASSERT_EQ_INT(
            match("[p:a < 100] REPEATS 30 TIMES WITHIN 29 SECONDS", TIDE_STIX_20, buf, &m, err), 0);
    TIDE_ASSERT(m);
    TIDE_ASSERT_EQ_INT(
            match("[p:a < 100] REPEATS 30 TIMES WITHIN 28 SECONDS", TIDE_STIX_20, buf, &m, err), 0);
    TIDE_ASSERT(!m);
    TIDE_ASSERT_EQ_INT(
            match("[p:a < 100] REPEATS 3 TIMES WITHIN 2 SECONDS", TIDE_STIX_20, buf, &m, err), 0);
    TIDE_ASSERT(m);
    TIDE_ASSERT_EQ_INT(
            match("[p:a < 100] REPEATS 3 TIMES WITHIN 1.5 SECONDS", TIDE_STIX_20, buf, &m, err), 0);
    TIDE_ASSERT(!m);
    free(buf);
}

/* ---- tide_pattern_prefilter: the fragments a match must contain ---- */

static bool any_usable(const tide_pattern_atom *a, void *payload)
{
    (void)payload;
    /* equality terms only on domain-name:value, fragments on anything but file:name */
    return a->fragment ? strcmp(a->path, "name") != 0 : strcmp(a->object_type, "domain-name") == 0;
}

static int collect(const tide_pattern_atom *a, void *payload)
{
    char *out = payload;
    size_t n = strlen(out);
    snprintf(out + n, 256 - n, "%s%.*s", n ? "|" : "", (int)a->len, a->value);
    return 0;
}

/* The fragments of pattern text joined by '|', or "-" when it is not bounded. */
static const char *frags(const char *text, char *out)
{
    tide_pattern *p = NULL;
    out[0] = '\0';
    if (tide_pattern_parse(&p, text, TIDE_STIX_21, NULL, 0) < 0)
        return "parse error";
    char why[300];
    int rc = tide_pattern_prefilter(p, any_usable, collect, out, why, sizeof(why));
    tide_pattern_free(p);
    if (rc == 0)
        snprintf(out, 256, "-");
    return out;
}

static void t_prefilter(void)
{
    char b[256];
    TIDE_ASSERT_EQ_STR(frags("[url:value LIKE '%.duckdns.org']", b), ".duckdns.org");
    TIDE_ASSERT_EQ_STR(frags("[url:value LIKE 'ab_cdef%gh']", b), "cdef");
    TIDE_ASSERT_EQ_STR(frags("[url:value LIKE '%a%']", b), "-");
    /* escaped punctuation is literal; classes, groups, anchors break runs */
    TIDE_ASSERT_EQ_STR(
            frags("[url:value MATCHES '^https?://[^/]+/wp-admin/[a-z0-9]{8}\\\\.php$']", b),
            "/wp-admin/");
    TIDE_ASSERT_EQ_STR(
            frags("[url:value MATCHES 'evil\\\\.example\\\\.com']", b), "evil.example.com");
    /* a quantifier that allows zero drops its character; + keeps it once */
    TIDE_ASSERT_EQ_STR(frags("[url:value MATCHES 'abcdX?efg']", b), "abcd");
    TIDE_ASSERT_EQ_STR(frags("[url:value MATCHES 'abcX+defgh']", b), "defgh");
    TIDE_ASSERT_EQ_STR(frags("[url:value MATCHES 'ab(cd|ef)ghij{2,3}k']", b), "ghij");
    TIDE_ASSERT_EQ_STR(frags("[url:value MATCHES 'ab(cd|ef)ghij{0,3}k']", b), "ghi");
    /* top-level alternatives: one fragment each, or none */
    TIDE_ASSERT_EQ_STR(frags("[url:value MATCHES 'alpha|beta[0-9]']", b), "alpha|beta");
    TIDE_ASSERT_EQ_STR(frags("[url:value MATCHES 'alpha|b']", b), "-");
    /* constructs the walk does not follow give nothing rather than a wrong fragment */
    TIDE_ASSERT_EQ_STR(frags("[url:value MATCHES 'ab\\\\x41cdef']", b), "-");
    TIDE_ASSERT_EQ_STR(frags("[url:value MATCHES '(?x)a b c d']", b), "-");
    TIDE_ASSERT_EQ_STR(frags("[url:value MATCHES 'abc\\\\Qd.e\\\\E']", b), "-");
    /* case-insensitive: fragments are lower-cased */
    TIDE_ASSERT_EQ_STR(frags("[url:value MATCHES '(?i)EvilPath']", b), "evilpath");
    /* AND: an equality side suffices; OR needs both; NOT and ordering bound nothing */
    TIDE_ASSERT_EQ_STR(
            frags("[domain-name:value = 'a.example' AND url:value MATCHES 'zzzz']", b), "");
    TIDE_ASSERT_EQ_STR(
            frags("[domain-name:value = 'a.example' OR url:value MATCHES 'zzzz']", b), "zzzz");
    TIDE_ASSERT_EQ_STR(frags("[url:value NOT LIKE '%abcd%']", b), "-");
    TIDE_ASSERT_EQ_STR(frags("[file:size > 100]", b), "-");
    TIDE_ASSERT_EQ_STR(frags("[file:name MATCHES 'invoice']", b), "-");
    /* every observation expression must be bounded */
    TIDE_ASSERT_EQ_STR(
            frags("[url:value LIKE '%gate.php'] FOLLOWEDBY [url:value LIKE '%/a%']", b), "-");
    TIDE_ASSERT_EQ_STR(
            frags("[url:value LIKE '%gate.php'] AND [domain-name:value = 'x.y']", b), "gate.php");
}

static void t_needs_window(void)
{
    static const struct {
        const char *p;
        bool w;
    } c[] = {
        { "[domain-name:value = 'a']", false },
        { "[domain-name:value = 'a'] OR [domain-name:value = 'b']", false },
        { "[domain-name:value = 'a'] WITHIN 5 SECONDS", false },
        { "[domain-name:value = 'a'] AND [domain-name:value = 'b']", true },
        { "[domain-name:value = 'a'] FOLLOWEDBY [domain-name:value = 'b']", true },
        { "[domain-name:value = 'a'] REPEATS 2 TIMES", true },
        { "[domain-name:value = 'a'] REPEATS 1 TIMES", false },
        { "([a:b = 1] AND [a:b = 2]) OR [a:b = 3]", true },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        tide_pattern *p = NULL;
        TIDE_ASSERT_EQ_INT(tide_pattern_parse(&p, c[i].p, TIDE_STIX_21, NULL, 0), 0);
        TIDE_ASSERT(tide_pattern_needs_window(p) == c[i].w);
        tide_pattern_free(p);
    }
}

TIDE_TESTS = {
    { "pattern::validator_v21", t_validator21 },
    { "pattern::validator_v20", t_validator20 },
    { "pattern::matcher_v21", t_matcher21 },
    { "pattern::matcher_v20", t_matcher20 },
    { "pattern::error_positions", t_error_positions },
    { "pattern::terms", t_terms },
    { "pattern::term_no_callback_payload", t_term_stop },
    { "pattern::hostile_input", t_hostile_input },
    { "pattern::match_api", t_match_api },
    { "pattern::repeats_cap", t_repeats_cap },
    { "pattern::prefilter", t_prefilter },
    { "pattern::needs_window", t_needs_window },
    { NULL, NULL },
};
TIDE_TEST_MAIN
