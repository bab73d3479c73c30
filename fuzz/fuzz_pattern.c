/*
 * fuzz_pattern.c - fuzz target for the STIX pattern parser: parses arbitrary bytes as a 2.1 and
 * a 2.0 pattern and, when they parse, extracts the index terms and evaluates the pattern
 * against a small fixed observed-data set. Differential check of ingest's pattern fast path:
 * whatever it takes, the full parser must accept as simple with the same single term (trap
 * otherwise).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/pattern_fast.h"
#include "tide/pattern.h"

static const char data21[] =
        "[{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":["
        "{\"type\":\"observed-data\",\"id\":\"observed-data--1\",\"number_observed\":2,"
        "\"first_observed\":\"2020-01-01T00:00:00Z\",\"last_observed\":\"2020-01-01T00:00:03Z\","
        "\"object_refs\":[\"file--1\",\"ipv4-addr--1\",\"network-traffic--1\"]},"
        "{\"type\":\"file\",\"id\":\"file--1\",\"name\":\"a.exe\",\"size\":12,"
        "\"hashes\":{\"MD5\":\"79054025255fb1a26e4bc422aef54eb4\"},\"magic_hex\":\"ffd8\","
        "\"tags\":[\"x\",1,true,null,{\"k\":\"v\"}],\"when\":\"2020-01-01T00:00:01Z\"},"
        "{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--1\",\"value\":\"10.1.2.3\"},"
        "{\"type\":\"network-traffic\",\"id\":\"network-traffic--1\",\"dst_ref\":\"ipv4-addr--1\","
        "\"src_refs\":[\"ipv4-addr--1\",\"file--1\"],\"dst_port\":443}]},"
        "{\"type\":\"bundle\",\"id\":\"bundle--2\",\"objects\":["
        "{\"type\":\"observed-data\",\"id\":\"observed-data--2\",\"number_observed\":1,"
        "\"first_observed\":\"2020-01-01T00:00:02Z\",\"last_observed\":\"2020-01-01T00:00:02Z\","
        "\"object_refs\":[\"domain-name--1\"]},"
        "{\"type\":\"domain-name\",\"id\":\"domain-name--1\",\"value\":\"ex\\u0301ample.com\"}]}]";

static const char data20[] =
        "[{\"type\":\"observed-data\",\"number_observed\":3,"
        "\"first_observed\":\"2020-01-01T00:00:00Z\",\"last_observed\":\"2020-01-01T00:00:01Z\","
        "\"objects\":{\"0\":{\"type\":\"file\",\"name\":\"a.exe\",\"parent_ref\":\"1\"},"
        "\"1\":{\"type\":\"directory\",\"path\":\"C:\\\\x\",\"contains_refs\":[\"0\"]}}}]";

static int count_term(const tide_pattern_term *t, void *payload)
{
    (void)t;
    (*(int *)payload)++;
    return 0;
}

typedef struct {
    int n;
    const tide_pattern_term *want;
    bool same;
} term_cmp;

static bool str_eq(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static int cmp_term(const tide_pattern_term *t, void *payload)
{
    term_cmp *c = payload;
    if (c->n++ == 0)
        c->same = str_eq(t->object_type, c->want->object_type) && str_eq(t->path, c->want->path) &&
                  str_eq(t->op, c->want->op) && str_eq(t->value, c->want->value) &&
                  t->and_group == c->want->and_group && t->negated == c->want->negated;
    return 0;
}

static void check_fast_path(const char *text)
{
    static char fv[TIDE__PATTERN_FAST_MAX + 1];
    tide_pattern_term ft;
    if (!tide__pattern_fast(text, &ft, fv))
        return;
    for (int v = 0; v < 2; v++) {
        tide_pattern *p = NULL;
        if (tide_pattern_parse(&p, text, v ? TIDE_STIX_20 : TIDE_STIX_21, NULL, 0) != 0)
            __builtin_trap(); /* the fast path took what the parser refuses */
        bool simple = false;
        term_cmp c = { 0, &ft, false };
        tide_pattern_terms(p, &simple, cmp_term, &c);
        tide_pattern_free(p);
        if (!simple || c.n != 1 || !c.same)
            __builtin_trap(); /* the fast path's term differs from the parser's */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    check_fast_path(text);
    for (int v = 0; v < 2; v++) {
        tide_pattern *p = NULL;
        char err[256];
        tide_stix_version ver = v ? TIDE_STIX_20 : TIDE_STIX_21;
        if (tide_pattern_parse(&p, text, ver, err, sizeof(err)) != 0)
            continue;
        bool simple = false, matched = false;
        int n = 0;
        tide_pattern_terms(p, &simple, count_term, &n);
        const char *d = v ? data20 : data21;
        tide_pattern_match_json(p, d, strlen(d), &matched, err, sizeof(err));
        tide_pattern_free(p);
    }
    free(text);
    return 0;
}
