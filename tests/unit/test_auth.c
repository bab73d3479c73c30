/*
 * test_auth.c - API keys, roles and the audit log (tide/auth.h), and the reads a service answers
 * under a TLP ceiling (tide/reads.h), on real IOC lists: firehol level 1 given TLP:GREEN at
 * ingest and maltrail's TrickBot trails unmarked (amber under every ceiling).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"
#include "tide.h"
#include "tide/auth.h"
#include "tide/reads.h"

static tide_store *fresh(void)
{
    tide_store *s = NULL;
    TIDE_ASSERT_EQ_INT(tide_store_open(&s, tide_test_tmpdir()), 0);
    return s;
}

static void t_roles(void)
{
    TIDE_ASSERT_EQ_INT(tide_role_parse("analyst"), TIDE_ROLE_ANALYST);
    TIDE_ASSERT_EQ_INT(tide_role_parse("root"), -1);
    TIDE_ASSERT_EQ_STR(tide_role_name(TIDE_ROLE_PEER), "peer");
    /* the table: readers read, analysts work, peers share, admins do everything */
    TIDE_ASSERT(tide_role_allows(TIDE_ROLE_READER, TIDE_PERM_INTEL_READ));
    TIDE_ASSERT(!tide_role_allows(TIDE_ROLE_READER, TIDE_PERM_INTEL_WRITE));
    TIDE_ASSERT(!tide_role_allows(TIDE_ROLE_READER, TIDE_PERM_CASES_WRITE));
    TIDE_ASSERT(!tide_role_allows(TIDE_ROLE_READER, TIDE_PERM_ADMIN));
    TIDE_ASSERT(tide_role_allows(TIDE_ROLE_ANALYST, TIDE_PERM_INTEL_WRITE));
    TIDE_ASSERT(tide_role_allows(TIDE_ROLE_ANALYST, TIDE_PERM_HUNT));
    TIDE_ASSERT(!tide_role_allows(TIDE_ROLE_ANALYST, TIDE_PERM_ADMIN));
    TIDE_ASSERT(tide_role_allows(TIDE_ROLE_PEER, TIDE_PERM_INTEL_WRITE));
    TIDE_ASSERT(!tide_role_allows(TIDE_ROLE_PEER, TIDE_PERM_SIGHTINGS_READ));
    TIDE_ASSERT(!tide_role_allows(TIDE_ROLE_PEER, TIDE_PERM_CASES_READ));
    for (int p = 0; p < TIDE_PERM__COUNT; p++)
        TIDE_ASSERT(tide_role_allows(TIDE_ROLE_ADMIN, p));
    TIDE_ASSERT(!tide_role_allows(TIDE_ROLE__COUNT, TIDE_PERM_INTEL_READ));
    TIDE_ASSERT(!tide_role_allows(TIDE_ROLE_ADMIN, TIDE_PERM__COUNT));
}

static int count_key(const tide_key_info *k, void *payload)
{
    (void)k;
    (*(int *)payload)++;
    return 0;
}

static void t_keys(void)
{
    tide_store *s = fresh();
    char *k1 = NULL, *k2 = NULL;
    TIDE_ASSERT_EQ_INT(tide_key_add(s, "soc-1", TIDE_ROLE_ANALYST, TIDE_TLP_AMBER, &k1), 0);
    TIDE_ASSERT_EQ_INT(tide_key_add(s, "peer.x@org", TIDE_ROLE_PEER, TIDE_TLP_GREEN, &k2), 0);
    TIDE_ASSERT_EQ_INT((int)strlen(k1), TIDE_KEY_LEN);
    TIDE_ASSERT(strncmp(k1, "tide_", 5) == 0 && strcmp(k1, k2) != 0);
    tide_key_info ki;
    TIDE_ASSERT_EQ_INT(tide_key_verify(s, k1, strlen(k1), &ki), 0);
    TIDE_ASSERT_EQ_STR(ki.name, "soc-1");
    TIDE_ASSERT_EQ_INT((int)ki.role, TIDE_ROLE_ANALYST);
    TIDE_ASSERT_EQ_INT(ki.tlp_max, TIDE_TLP_AMBER);
    TIDE_ASSERT_EQ_INT(tide_key_verify(s, k2, strlen(k2), &ki), 0);
    TIDE_ASSERT_EQ_INT(ki.tlp_max, TIDE_TLP_GREEN);
    /* a key one character off, a prefix, another length: unknown */
    char bad[TIDE_KEY_LEN + 1];
    memcpy(bad, k1, sizeof bad);
    bad[10] = bad[10] == 'A' ? 'B' : 'A';
    TIDE_ASSERT_EQ_INT(tide_key_verify(s, bad, strlen(bad), &ki), TIDE_ENOTFOUND);
    TIDE_ASSERT_EQ_INT(tide_key_verify(s, k1, 20, &ki), TIDE_ENOTFOUND);
    /* names: taken, bad */
    char *k3 = NULL;
    TIDE_ASSERT_EQ_INT(tide_key_add(s, "soc-1", TIDE_ROLE_READER, TIDE_TLP_RED, &k3), TIDE_EEXISTS);
    TIDE_ASSERT_EQ_INT(tide_key_add(s, "a b", TIDE_ROLE_READER, TIDE_TLP_RED, &k3), TIDE_EINVAL);
    TIDE_ASSERT_EQ_INT(tide_key_add(s, "", TIDE_ROLE_READER, TIDE_TLP_RED, &k3), TIDE_EINVAL);
    TIDE_ASSERT_EQ_INT(tide_key_add(s, "x", 9, TIDE_TLP_RED, &k3), TIDE_EINVAL);
    TIDE_ASSERT_EQ_INT(tide_key_add(s, "x", TIDE_ROLE_READER, 7, &k3), TIDE_EINVAL);
    TIDE_ASSERT(k3 == NULL);
    /* revoked: refused at once; its name stays taken */
    TIDE_ASSERT_EQ_INT(tide_key_revoke(s, "soc-1"), 0);
    TIDE_ASSERT_EQ_INT(tide_key_verify(s, k1, strlen(k1), &ki), TIDE_ENOTFOUND);
    TIDE_ASSERT_EQ_INT(tide_key_revoke(s, "nobody"), TIDE_ENOTFOUND);
    TIDE_ASSERT_EQ_INT(tide_key_add(s, "soc-1", TIDE_ROLE_READER, TIDE_TLP_RED, &k3), TIDE_EEXISTS);
    int n = 0;
    TIDE_ASSERT_EQ_INT(tide_key_list(s, count_key, &n), 0);
    TIDE_ASSERT_EQ_INT(n, 2);
    /* the store keeps the hash only: the key's text is not in the database file */
    char db[1024];
    snprintf(db, sizeof db, "%s", tide_store_db_path(s));
    tide_store_free(s); /* checkpoints the WAL into the file */
    FILE *f = fopen(db, "rb");
    TIDE_ASSERT(f != NULL);
    static char buf[1 << 20];
    size_t got = fread(buf, 1, sizeof buf, f);
    fclose(f);
    char hash[65];
    tide_key_hash(k2, strlen(k2), hash);
    bool has_key = false, has_hash = false;
    for (size_t i = 0; i + TIDE_KEY_LEN <= got; i++) {
        has_key |= memcmp(buf + i, k2 + 5, TIDE_KEY_LEN - 5) == 0;
        has_hash |= i + 64 <= got && memcmp(buf + i, hash, 64) == 0;
    }
    TIDE_ASSERT(!has_key);
    TIDE_ASSERT(has_hash);
    free(k1);
    free(k2);
}

static void t_audit(void)
{
    tide_store *s = fresh();
    TIDE_ASSERT_EQ_INT(
            tide_audit_add(s, "soc-1", "POST /api/v1/intel", "feed.json", "3 stored"), 0);
    TIDE_ASSERT_EQ_INT(tide_audit_add(s, "admin", "POST /api/v1/cases", "case 1", NULL), 0);
    char *js = NULL;
    TIDE_ASSERT_EQ_INT(tide_audit_json(s, 0, 0, &js), 0);
    json_t *a = json_loads(js, 0, NULL);
    TIDE_ASSERT(json_array_size(a) == 2);
    TIDE_ASSERT_EQ_STR(json_string_value(json_object_get(json_array_get(a, 0), "actor")), "admin");
    TIDE_ASSERT_EQ_STR(
            json_string_value(json_object_get(json_array_get(a, 1), "detail")), "3 stored");
    TIDE_ASSERT(json_is_string(json_object_get(json_array_get(a, 1), "at")));
    json_decref(a);
    free(js);
    TIDE_ASSERT_EQ_INT(tide_audit_json(s, 0, 1, &js), 0);
    a = json_loads(js, 0, NULL);
    TIDE_ASSERT(json_array_size(a) == 1);
    json_decref(a);
    free(js);
    tide_store_free(s);
}

/* the ids (matched value) of a lookup's indicators, space-separated */
static char *lookup(tide_reads *rd, const char *v, int ceiling)
{
    char *js = NULL;
    TIDE_ASSERT_EQ_INT(tide_read_lookup(rd, NULL, v, ceiling, 0, &js), 0);
    json_t *o = json_loads(js, 0, NULL);
    free(js);
    TIDE_ASSERT(o != NULL);
    static char out[4096];
    out[0] = '\0';
    json_t *i;
    size_t k;
    json_array_foreach(json_object_get(o, "indicators"), k, i)
    {
        size_t l = strlen(out);
        snprintf(out + l, sizeof out - l, "%s%s/%s", l ? " " : "",
                json_string_value(json_object_get(json_object_get(i, "matched"), "value")),
                json_string_value(json_object_get(i, "tlp")));
    }
    json_decref(o);
    return out;
}

static void t_lookup_ceiling(void)
{
    const char *data = tide_test_data();
    char p1[1024], p2[1024];
    snprintf(p1, sizeof p1, "%s/iocs/firehol/firehol_level1.netset", data);
    snprintf(p2, sizeof p2, "%s/iocs/maltrail/malware/trickbot.txt", data);
    tide_store *s = fresh();
    tide_ingest_opts green = { .confidence = -1, .tlp = "green", .source = "firehol" };
    tide_ingest_opts plain = { .confidence = -1 };
    TIDE_ASSERT_EQ_INT(tide_ingest_path(s, p1, TIDE_FMT_LIST, &green, NULL, NULL, NULL), 0);
    TIDE_ASSERT_EQ_INT(tide_ingest_path(s, p2, TIDE_FMT_LIST, &plain, NULL, NULL, NULL), 0);
    tide_reads *rd = NULL;
    TIDE_ASSERT_EQ_INT(tide_reads_new(&rd, s), 0);
    /* 1.10.16.0/20 is listed by firehol level 1: an address inside it is covered */
    TIDE_ASSERT_EQ_STR(lookup(rd, "1.10.16.77", TIDE_TLP_GREEN), "1.10.16.0/20/green");
    TIDE_ASSERT_EQ_STR(lookup(rd, "1.10.16.77", TIDE_TLP_CLEAR), "");
    /* a TrickBot domain (unmarked: amber) through its subdomain, and defanged */
    FILE *f = fopen(p2, "r");
    TIDE_ASSERT(f != NULL);
    char line[512], dom[512] = "";
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n ")] = '\0';
        if (line[0] && line[0] != '#' && strchr(line, '.') && !strchr(line, '/') &&
                !strchr(line, ':') && !strstr(line, "onion") && (line[0] < '0' || line[0] > '9')) {
            snprintf(dom, sizeof dom, "%s", line);
            break;
        }
    }
    fclose(f);
    TIDE_ASSERT(dom[0] != '\0');
    char sub[600], want[600];
    snprintf(sub, sizeof sub, "hxxp://www[.]%s/x", dom);
    snprintf(want, sizeof want, "%s/amber", dom);
    TIDE_ASSERT(strstr(lookup(rd, sub, TIDE_TLP_AMBER), want) != NULL);
    TIDE_ASSERT_EQ_STR(lookup(rd, sub, TIDE_TLP_GREEN), "");
    char *js = NULL;
    TIDE_ASSERT_EQ_INT(tide_read_lookup(rd, NULL, "%%%", TIDE_TLP_RED, 0, &js), TIDE_EINVAL);
    TIDE_ASSERT(js == NULL);
    tide_reads_free(rd);
    tide_store_free(s);
}

static void t_object_ceiling(void)
{
    tide_store *s = fresh();
    const char *bundle =
            "{\"type\":\"bundle\",\"id\":\"bundle--0d0f5f3a-7c1e-4b8e-9c41-0a3b9f1e2d10\","
            "\"objects\":[{\"type\":\"malware\",\"spec_version\":\"2.1\",\"id\":\"malware--"
            "1b6f4a4e-9a51-4c5e-8d3b-6e2f0c7a9d11\",\"created\":\"2026-01-01T00:00:00Z\","
            "\"modified\":\"2026-01-01T00:00:00Z\",\"name\":\"GreenBug\",\"is_family\":true,"
            "\"object_marking_refs\":[\"marking-definition--bab4a63c-aed9-4cf5-a766-"
            "dfca5abac2bb\"]},{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":"
            "\"indicator--2c7a5b5f-0b62-4d6f-9e4c-7f3a1d8b0e22\",\"created\":\"2026-01-01T00:00:"
            "00Z\",\"modified\":\"2026-01-01T00:00:00Z\",\"valid_from\":\"2026-01-01T00:00:00Z\","
            "\"pattern_type\":\"stix\",\"pattern\":\"[ipv4-addr:value = '203.0.113.9']\","
            "\"object_marking_refs\":[\"marking-definition--e828b379-4e03-4974-9ac4-"
            "e53a884c97c1\"]},{\"type\":\"relationship\",\"spec_version\":\"2.1\",\"id\":"
            "\"relationship--3c7a5b5f-0b62-4d6f-9e4c-7f3a1d8b0e23\",\"created\":\"2026-01-01T00:"
            "00:00Z\",\"modified\":\"2026-01-01T00:00:00Z\",\"relationship_type\":\"indicates\","
            "\"source_ref\":\"indicator--2c7a5b5f-0b62-4d6f-9e4c-7f3a1d8b0e22\",\"target_ref\":"
            "\"malware--1b6f4a4e-9a51-4c5e-8d3b-6e2f0c7a9d11\",\"object_marking_refs\":["
            "\"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb\"]}]}";
    tide_ingest_opts io = { .confidence = -1 };
    TIDE_ASSERT_EQ_INT(tide_ingest_buffer(s, bundle, strlen(bundle), "b.json", TIDE_FMT_STIX, &io,
                               NULL, NULL, NULL),
            0);
    char *js = NULL;
    tide_reads *rd = NULL;
    TIDE_ASSERT_EQ_INT(tide_reads_new(&rd, s), 0);
    /* the red indicator: withheld below red, as if absent */
    TIDE_ASSERT_EQ_INT(tide_read_object(rd, "indicator--2c7a5b5f-0b62-4d6f-9e4c-7f3a1d8b0e22",
                               TIDE_TLP_AMBER, &js),
            TIDE_ENOTFOUND);
    TIDE_ASSERT_EQ_INT(tide_read_object(rd, "indicator--2c7a5b5f-0b62-4d6f-9e4c-7f3a1d8b0e22",
                               TIDE_TLP_RED, &js),
            0);
    TIDE_ASSERT(strstr(js, "203.0.113.9") && strstr(js, "relationship--3c7a5b5f"));
    free(js);
    /* the green malware: shown to green, without its relationship to the red indicator */
    TIDE_ASSERT_EQ_INT(tide_read_object(rd, "malware--1b6f4a4e-9a51-4c5e-8d3b-6e2f0c7a9d11",
                               TIDE_TLP_GREEN, &js),
            0);
    TIDE_ASSERT(strstr(js, "GreenBug") != NULL);
    TIDE_ASSERT(strstr(js, "indicator--2c7a5b5f") == NULL);
    free(js);
    TIDE_ASSERT_EQ_INT(tide_read_object(rd, "malware--1b6f4a4e-9a51-4c5e-8d3b-6e2f0c7a9d11",
                               TIDE_TLP_CLEAR, &js),
            TIDE_ENOTFOUND);
    /* search: only what passes */
    tide_search_query q = { 0 };
    TIDE_ASSERT_EQ_INT(tide_read_search(rd, &q, TIDE_TLP_GREEN, &js), 0);
    TIDE_ASSERT(strstr(js, "malware--1b6f") && !strstr(js, "indicator--2c7a"));
    free(js);
    TIDE_ASSERT_EQ_INT(tide_read_search(rd, &q, TIDE_TLP_RED, &js), 0);
    TIDE_ASSERT(strstr(js, "malware--1b6f") && strstr(js, "indicator--2c7a"));
    free(js);
    /* a new version of the red indicator, marked green: the reads' gates resolved it as red
     * before, and see the new version all the same (their caches go with the intel) */
    const char *v2 =
            "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--"
            "2c7a5b5f-0b62-4d6f-9e4c-7f3a1d8b0e22\",\"created\":\"2026-01-01T00:00:00Z\","
            "\"modified\":\"2026-02-01T00:00:00Z\",\"valid_from\":\"2026-01-01T00:00:00Z\","
            "\"pattern_type\":\"stix\",\"pattern\":\"[ipv4-addr:value = '203.0.113.9']\","
            "\"object_marking_refs\":[\"marking-definition--bab4a63c-aed9-4cf5-a766-"
            "dfca5abac2bb\"]}";
    tide_search_query qi = { .type = "indicator" };
    TIDE_ASSERT_EQ_INT(tide_read_search(rd, &qi, TIDE_TLP_GREEN, &js), 0);
    TIDE_ASSERT(strstr(js, "indicator--2c7a") == NULL);
    free(js);
    TIDE_ASSERT_EQ_INT(
            tide_ingest_buffer(s, v2, strlen(v2), "v2.json", TIDE_FMT_STIX, &io, NULL, NULL, NULL),
            0);
    TIDE_ASSERT_EQ_INT(tide_read_search(rd, &qi, TIDE_TLP_GREEN, &js), 0);
    TIDE_ASSERT(strstr(js, "indicator--2c7a") != NULL);
    free(js);
    tide_reads_free(rd);
    tide_store_free(s);
}

TIDE_TESTS = {
    { "auth::roles", t_roles },
    { "auth::keys", t_keys },
    { "auth::audit", t_audit },
    { "reads::lookup_ceiling", t_lookup_ceiling },
    { "reads::object_ceiling", t_object_ceiling },
    { NULL, NULL },
};
TIDE_TEST_MAIN
