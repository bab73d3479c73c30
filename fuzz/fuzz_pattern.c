/*
 * fuzz_pattern.c - fuzz target for the STIX pattern parser: parses arbitrary bytes as a 2.1 and
 * a 2.0 pattern and, when they parse, extracts the index terms and evaluates the pattern
 * against a small fixed observed-data set.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
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
