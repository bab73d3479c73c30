/*
 * test_ingest.c - the ingest core end to end on real data (../shared/data): every STIX 2.1
 * example and both ATT&CK bundles are stored with no loss (exactly the distinct (id, modified)
 * versions of the files, each re-read equal to the original), ingesting twice changes nothing,
 * MISP events land with their parts, IOC lists land with the right observable kinds, and bad
 * input is reported with its place while the good records of the same file are kept; and the
 * fast path for common indicator patterns agrees with the full pattern parser.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "harness.h"
#include "ingest/pattern_fast.h"
#include "store/store_int.h"
#include "tide.h"

typedef struct {
    int n;
    char last[1024];
    long last_line;
    long long last_offset;
} errs;

static void on_err(const char *file, long line, long long offset, const char *reason, void *p)
{
    errs *e = p;
    e->n++;
    e->last_line = line;
    e->last_offset = offset;
    snprintf(e->last, sizeof(e->last), "%s: %s", file ? file : "?", reason);
}

static tide_store *fresh(void)
{
    tide_store *s = NULL;
    TIDE_ASSERT_EQ_INT(tide_store_open(&s, tide_test_tmpdir()), 0);
    return s;
}

static json_t *stats(tide_store *s)
{
    char *js = NULL;
    TIDE_ASSERT_EQ_INT(tide_store_stats_json(s, &js), 0);
    json_t *j = json_loads(js, 0, NULL);
    free(js);
    TIDE_ASSERT(j != NULL);
    return j;
}

static long long stat_int(json_t *j, const char *a, const char *b)
{
    json_t *v = json_object_get(j, a);
    if (b)
        v = json_object_get(v, b);
    return json_integer_value(v);
}

/* ---- collect the STIX objects of the example files with a plain whole-file parse ---- */

typedef struct {
    json_t *versions; /* "id|modified" -> object */
} expect;

static void collect_obj(expect *e, json_t *o)
{
    const char *id = json_string_value(json_object_get(o, "id"));
    const char *mod = json_string_value(json_object_get(o, "modified"));
    if (id == NULL)
        return;
    char key[512];
    snprintf(key, sizeof(key), "%s|%s", id, mod ? mod : "");
    if (json_object_get(e->versions, key) == NULL)
        json_object_set(e->versions, key, o);
}

static void collect_file(expect *e, const char *path)
{
    json_t *root = json_load_file(path, 0, NULL);
    TIDE_ASSERT(root != NULL);
    json_t *objs = json_object_get(root, "objects");
    if (json_is_array(objs)) {
        size_t i;
        json_t *o;
        json_array_foreach(objs, i, o) collect_obj(e, o);
    } else if (json_is_object(root)) {
        collect_obj(e, root);
    }
    json_decref(root);
}

static void walk(const char *dir, void (*fn)(const char *path, void *p), void *p)
{
    DIR *d = opendir(dir);
    TIDE_ASSERT(d != NULL);
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.' || strcmp(ent->d_name, "schemas") == 0)
            continue;
        char sub[1024];
        int n = snprintf(sub, sizeof(sub), "%s/%s", dir, ent->d_name);
        if (n < 0 || (size_t)n >= sizeof(sub))
            continue;
        struct stat st;
        if (stat(sub, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            walk(sub, fn, p);
        else if (strlen(ent->d_name) > 5 &&
                 strcmp(ent->d_name + strlen(ent->d_name) - 5, ".json") == 0)
            fn(sub, p);
    }
    closedir(d);
}

typedef struct {
    tide_store *s;
    expect *e;
    errs *er;
} ingest_ctx;

static void ingest_and_collect(const char *path, void *p)
{
    ingest_ctx *c = p;
    collect_file(c->e, path);
    tide_ingest_opts o = { .confidence = -1 };
    int rc = tide_ingest_path(c->s, path, TIDE_FMT_STIX, &o, NULL, on_err, c->er);
    if (rc < 0)
        fprintf(stderr, "  %s: %s\n", path, tide_error_last());
    TIDE_ASSERT_EQ_INT(rc, 0);
}

static void check_round_trip(tide_store *s, expect *e)
{
    const char *key;
    json_t *o;
    json_object_foreach(e->versions, key, o)
    {
        const char *id = json_string_value(json_object_get(o, "id"));
        const char *mod = json_string_value(json_object_get(o, "modified"));
        char *js = NULL;
        int rc = tide_store_get(s, id, mod ? mod : "", &js);
        if (rc != 0)
            fprintf(stderr, "  missing %s\n", key);
        TIDE_ASSERT_EQ_INT(rc, 0);
        json_t *back = json_loads(js, JSON_DECODE_ANY, NULL);
        free(js);
        TIDE_ASSERT(back != NULL);
        if (!json_equal(back, o))
            fprintf(stderr, "  %s differs after the round trip\n", key);
        TIDE_ASSERT(json_equal(back, o));
        json_decref(back);
    }
}

static void t_stix_examples_no_loss(void)
{
    const char *data = tide_test_data();
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/stix21", data);
    tide_store *s = fresh();
    expect e = { json_object() };
    errs er = { 0 };
    ingest_ctx c = { s, &e, &er };
    walk(dir, ingest_and_collect, &c);
    if (er.n)
        fprintf(stderr, "  last error: %s\n", er.last);
    TIDE_ASSERT_EQ_INT(er.n, 0);
    json_t *j = stats(s);
    TIDE_ASSERT_EQ_INT(stat_int(j, "objects", NULL), (long long)json_object_size(e.versions));
    TIDE_ASSERT(stat_int(j, "by_type", "indicator") >= 40);
    json_decref(j);
    check_round_trip(s, &e);
    /* relationships of apt1: the intrusion set is reachable from its indicators' side */
    json_decref(e.versions);
    tide_store_free(s);
}

static void t_attack_bundles_twice(void)
{
    const char *data = tide_test_data();
    tide_store *s = fresh();
    expect e = { json_object() };
    errs er = { 0 };
    const char *files[] = { "attack/ics-attack-18.1.json", "attack/mobile-attack-17.1.json" };
    for (int round = 0; round < 2; round++) {
        tide_ingest_stats st = { 0 };
        for (int i = 0; i < 2; i++) {
            char path[1024];
            snprintf(path, sizeof(path), "%s/%s", data, files[i]);
            if (round == 0)
                collect_file(&e, path);
            TIDE_ASSERT_EQ_INT(tide_ingest_path(s, path, TIDE_FMT_AUTO, NULL, &st, on_err, &er), 0);
        }
        TIDE_ASSERT_EQ_INT(er.n, 0);
        if (round == 1) {
            TIDE_ASSERT_EQ_INT(st.stored, 0); /* ingesting twice changes nothing */
            TIDE_ASSERT(st.unchanged > 0);
        }
        json_t *j = stats(s);
        TIDE_ASSERT_EQ_INT(stat_int(j, "objects", NULL), (long long)json_object_size(e.versions));
        json_decref(j);
    }
    check_round_trip(s, &e);
    json_decref(e.versions);
    tide_store_free(s);
}

static void t_bad_stix_keeps_good_records(void)
{
    const char *dir = tide_test_tmpdir();
    char path[600];
    snprintf(path, sizeof(path), "%s/bad.json", dir);
    FILE *f = fopen(path, "w");
    TIDE_ASSERT(f != NULL);
    fputs("{\"type\": \"bundle\", \"id\": \"bundle--1\", \"objects\": [\n"
          "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--8e2e2d2b-17d4-4cbf-"
          "938f-98ee46b3cd3f\","
          "\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.000Z\","
          "\"pattern\":\"[ipv4-addr:value = '198.51.100.1']\",\"pattern_type\":\"stix\","
          "\"valid_from\":\"2016-01-01T00:00:00Z\"},\n"
          "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--9e2e2d2b-17d4-4cbf-"
          "938f-98ee46b3cd3f\","
          "\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.000Z\","
          "\"pattern\":\"[ipv4-addr:value = '198.51.100.2'\",\"pattern_type\":\"stix\","
          "\"valid_from\":\"2016-01-01T00:00:00Z\"},\n"
          "{\"type\":\"malware\",\"spec_version\":\"2.1\",\"id\":\"malware--1e2e2d2b-17d4-4cbf-"
          "938f-98ee46b3cd3f\","
          "\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.000Z\","
          "\"name\":\"x\",\"is_family\":true},\n"
          "{\"type\":\"tool\",\"id\":\"tool--2e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"name\": ",
            f);
    fclose(f);
    tide_store *s = fresh();
    errs er = { 0 };
    tide_ingest_stats st = { 0 };
    tide_ingest_path(s, path, TIDE_FMT_AUTO, NULL, &st, on_err, &er);
    TIDE_ASSERT_EQ_INT(er.n, 2); /* the invalid pattern and the truncated object */
    TIDE_ASSERT_EQ_INT(st.stored, 2);
    char *js = NULL;
    TIDE_ASSERT_EQ_INT(
            tide_store_get(s, "malware--1e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", NULL, &js), 0);
    free(js);
    TIDE_ASSERT_EQ_INT(
            tide_store_get(s, "indicator--9e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", NULL, &js),
            TIDE_ENOTFOUND);
    tide_store_free(s);
}

typedef struct {
    const char *want;
    int hits;
} lk;

static int lk_cb(const char *id, void *p)
{
    (void)id;
    ((lk *)p)->hits++;
    return 0;
}

static int hit_cb(const tide_search_hit *h, void *p)
{
    (void)h;
    (*(int *)p)++;
    return 0;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    TIDE_ASSERT(f != NULL);
    fputs(text, f);
    fclose(f);
}

#define IND(n, ip)                                                                                 \
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--" n "\","                \
    "\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\","          \
    "\"pattern\":\"[ipv4-addr:value = '" ip "']\",\"pattern_type\":\"stix\","                      \
    "\"valid_from\":\"2024-01-01T00:00:00Z\"}"

/* A store failure part-way (a trigger stands for a full disk) rolls the open
 * transaction back, and the counts say so: none of its objects is reported stored, in a
 * first load (one transaction) and in a later one (batches). */
static void t_store_failure_counts(void)
{
    char dir[700], three[800], one[800];
    snprintf(dir, sizeof(dir), "%s/storefail", tide_test_tmpdir());
    tide_store *s = NULL;
    TIDE_ASSERT_EQ_INT(tide_store_open(&s, dir), 0);
    snprintf(three, sizeof(three), "%s/three.json", dir);
    snprintf(one, sizeof(one), "%s/one.json", dir);
    write_text(three, "{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":[" IND(
                              "11111111-1111-4111-8111-111111111111",
                              "198.51.100.1") "," IND("22222222-2222-4222-8222-222222222222",
                              "198.51.100.2") "," IND("33333333-3333-4333-8333-333333333333",
                              "198.51.100.3") "]}");
    write_text(one, "{\"type\":\"bundle\",\"id\":\"bundle--2\",\"objects\":[" IND(
                            "44444444-4444-4444-8444-444444444444", "198.51.100.4") "]}");
    const char *refuse = "CREATE TRIGGER refuse BEFORE INSERT ON objects WHEN NEW.id = "
                         "'indicator--22222222-2222-4222-8222-222222222222' BEGIN "
                         "SELECT RAISE(ABORT, 'injected store failure'); END";
    TIDE_ASSERT_EQ_INT(
            sqlite3_exec(tide__store_sqlite(s)->db, refuse, NULL, NULL, NULL), SQLITE_OK);
    for (int round = 0; round < 2; round++) {
        errs er = { 0 };
        tide_ingest_stats st = { 0 };
        TIDE_ASSERT_EQ_INT(
                tide_ingest_path(s, three, TIDE_FMT_STIX, NULL, &st, on_err, &er), TIDE_ESTORE);
        TIDE_ASSERT(strstr(tide_error_last(), "injected store failure") != NULL);
        /* a first load writes its rows in batches (store_bulkrows.c): the failure shows when
         * the batch is written, here at commit after the third object; batch mode writes
         * each object as it comes and stops at the second */
        TIDE_ASSERT_EQ_INT((int)st.records, round == 0 ? 3 : 2);
        TIDE_ASSERT_EQ_INT((int)st.stored, 0);
        TIDE_ASSERT_EQ_INT((int)st.indicators, 0);
        json_t *j = stats(s);
        TIDE_ASSERT_EQ_INT((int)json_integer_value(json_object_get(j, "objects")), round);
        json_decref(j);
        if (round == 0) { /* then a store that already holds intel: batch mode */
            tide_ingest_stats ok = { 0 };
            TIDE_ASSERT_EQ_INT(tide_ingest_path(s, one, TIDE_FMT_STIX, NULL, &ok, on_err, &er), 0);
            TIDE_ASSERT_EQ_INT((int)ok.stored, 1);
        }
    }
    tide_store_free(s);
}

/* Rows of the store as text, free of rowids and times: what a load stored. */
static void dump_store(tide_store *s, tide_buf *out)
{
    static const char *const q[] = {
        "SELECT id, modified, is_current, type, name, source, tlp, json FROM objects "
        "ORDER BY id, modified",
        "SELECT o.id, i.source, i.revoked, i.obs FROM indicators i JOIN objects o "
        "ON o.rowid = i.obj ORDER BY o.id",
        "SELECT r.rel_id, r.rel_type, r.source_ref, r.target_ref, o.id, "
        "r.source_key = tide_key(r.source_ref), r.target_key = tide_key(r.target_ref) "
        "FROM refs r JOIN objects o ON o.rowid = r.obj ORDER BY 1, 5",
        "SELECT b.kind, b.value, b.vkey = tide_key(b.value), o.id FROM obs_idx b "
        "JOIN objects o ON o.rowid = b.obj ORDER BY 1, 2, 4",
        "SELECT n.name, o.id FROM names n JOIN objects o ON o.rowid = n.obj ORDER BY 1, 2",
        "SELECT count(*), count(DISTINCT id_key) FROM objects WHERE is_current",
        "SELECT type, source, tlp, n FROM object_counts WHERE n <> 0 ORDER BY 1, 2, 3",
        /* every row once in objects_keys, under its own key (schema 10) */
        "SELECT o.id, o.modified, k.id_key = o.id_key FROM objects_keys k LEFT JOIN objects o "
        "ON o.rowid = k.obj ORDER BY 1, 2",
        "SELECT count(*) FROM objects o WHERE NOT EXISTS (SELECT 1 FROM objects_keys k "
        "WHERE k.id_key = o.id_key AND k.obj = o.rowid)",
    };
    for (size_t k = 0; k < sizeof(q) / sizeof(q[0]); k++) {
        sqlite3_stmt *st = NULL;
        TIDE_ASSERT_EQ_INT(
                sqlite3_prepare_v2(tide__store_sqlite(s)->db, q[k], -1, &st, NULL), SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(st); c++) {
                const unsigned char *t = sqlite3_column_text(st, c);
                tide__buf_puts(out, t ? (const char *)t : "NULL");
                tide__buf_putc(out, '|');
            }
            tide__buf_putc(out, '\n');
        }
        sqlite3_finalize(st);
        tide__buf_puts(out, "--\n");
    }
    /* the counts the triggers and the load keep are those of the rows */
    sqlite3_stmt *st = NULL;
    TIDE_ASSERT_EQ_INT(
            sqlite3_prepare_v2(tide__store_sqlite(s)->db,
                    "SELECT count(*) FROM (SELECT type, source, tlp, n FROM object_counts WHERE n "
                    "<> 0 "
                    "EXCEPT SELECT type, ifnull(source, ''), ifnull(tlp, ''), count(*) FROM "
                    "objects "
                    "WHERE is_current GROUP BY 1, 2, 3) UNION ALL SELECT count(*) FROM (SELECT "
                    "type, "
                    "ifnull(source, ''), ifnull(tlp, ''), count(*) FROM objects WHERE is_current "
                    "GROUP BY 1, 2, 3 EXCEPT SELECT type, source, tlp, n FROM object_counts)",
                    -1, &st, NULL),
            SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW)
        TIDE_ASSERT_EQ_INT(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
}

/* A first load writes its rows in batches of 256 objects with rowids handed out in advance
 * (store_bulkrows.c) and reads back whatever a repeated id needs; a load into a store that
 * already holds intel writes row by row. The same file must give the same store both ways,
 * across many batch boundaries, with newer, older and repeated versions, relationships,
 * named objects and object_refs in it. */
static void t_bulk_equals_batch(void)
{
    char file[800], seed[800], dir[2][700];
    snprintf(file, sizeof(file), "%s/mixed.json", tide_test_tmpdir());
    snprintf(seed, sizeof(seed), "%s/seed.json", tide_test_tmpdir());
    tide_buf b = TIDE_BUF_INIT;
    tide__buf_puts(&b, "{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":[");
    const char *const mods[] = { "2024-01-01T00:00:00.000Z", "2025-01-01T00:00:00.000Z",
        "2023-01-01T00:00:00.000Z" };
    for (int m = 0; m < 3; m++)
        tide__buf_printf(&b,
                "%s{\"type\":\"malware\",\"spec_version\":\"2.1\","
                "\"id\":\"malware--00000000-0000-4000-8000-%012d\",\"created\":\"%s\","
                "\"modified\":\"%s\",\"name\":\"Fam%d\",\"is_family\":true}",
                m ? "," : "", m, mods[0], mods[0], m);
    for (int i = 0; i < 1500; i++) {
        /* every 7th id comes again: newer (a new pattern), older or the same version */
        int id = i % 7 == 6 ? i - 6 * (1 + i % 3) : i;
        const char *mod = id == i ? mods[0] : mods[(i / 7) % 3];
        tide__buf_printf(&b,
                ",{\"type\":\"indicator\",\"spec_version\":\"2.1\","
                "\"id\":\"indicator--11111111-0000-4000-8000-%012d\",\"created\":\"%s\","
                "\"modified\":\"%s\",\"name\":\"ind %d\","
                "\"pattern\":\"[ipv4-addr:value = '10.%d.%d.%d'] OR [domain-name:value = "
                "'h%d.example']\",\"pattern_type\":\"stix\",\"valid_from\":\"%s\"}",
                id, mods[0], mod, i, i / 65536, (i / 256) % 256, i % 256, i, mods[0]);
        if (i % 3 == 0)
            tide__buf_printf(&b,
                    ",{\"type\":\"relationship\",\"spec_version\":\"2.1\","
                    "\"id\":\"relationship--22222222-0000-4000-8000-%012d\",\"created\":\"%s\","
                    "\"modified\":\"%s\",\"relationship_type\":\"indicates\","
                    "\"source_ref\":\"indicator--11111111-0000-4000-8000-%012d\","
                    "\"target_ref\":\"malware--00000000-0000-4000-8000-%012d\"}",
                    i, mods[0], mods[0], id, i % 3);
        if (i % 500 == 499)
            tide__buf_printf(&b,
                    ",{\"type\":\"report\",\"spec_version\":\"2.1\","
                    "\"id\":\"report--33333333-0000-4000-8000-%012d\",\"created\":\"%s\","
                    "\"modified\":\"%s\",\"name\":\"Report %d\",\"published\":\"%s\","
                    "\"object_refs\":[\"indicator--11111111-0000-4000-8000-%012d\","
                    "\"malware--00000000-0000-4000-8000-000000000001\"]}",
                    i, mods[0], mods[0], i, mods[0], i - 1);
    }
    tide__buf_puts(&b, "]}");
    write_text(file, b.ptr);
    tide__buf_free(&b);
    write_text(seed,
            "{\"type\":\"bundle\",\"id\":\"bundle--2\",\"objects\":[{\"type\":"
            "\"campaign\",\"spec_version\":\"2.1\",\"id\":\"campaign--44444444-0000-4000-8000-"
            "000000000000\",\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":"
            "\"2024-01-01T00:00:00.000Z\",\"name\":\"Seed\"}]}");
    tide_buf dump[2] = { TIDE_BUF_INIT, TIDE_BUF_INIT };
    for (int bulk = 0; bulk < 2; bulk++) {
        snprintf(dir[bulk], sizeof(dir[bulk]), "%s/bulkeq%d", tide_test_tmpdir(), bulk);
        tide_store *s = NULL;
        TIDE_ASSERT_EQ_INT(tide_store_open(&s, dir[bulk]), 0);
        errs er = { 0 };
        tide_ingest_stats st = { 0 }, st2 = { 0 };
        /* batch mode: the seed first, so the store is not empty; bulk: the seed after */
        const char *first = bulk ? file : seed, *second = bulk ? seed : file;
        TIDE_ASSERT_EQ_INT(tide_ingest_path(s, first, TIDE_FMT_STIX, NULL, &st, on_err, &er), 0);
        TIDE_ASSERT_EQ_INT(tide_ingest_path(s, second, TIDE_FMT_STIX, NULL, &st2, on_err, &er), 0);
        TIDE_ASSERT_EQ_INT(er.n, 0);
        tide_ingest_stats *big = bulk ? &st : &st2;
        TIDE_ASSERT_EQ_INT((int)big->records, 3 + 1500 + 500 + 3);
        dump_store(s, &dump[bulk]);
        tide_store_free(s);
    }
    TIDE_ASSERT(dump[0].len > 100000);
    TIDE_ASSERT_EQ_STR(dump[1].ptr, dump[0].ptr);
    tide__buf_free(&dump[0]);
    tide__buf_free(&dump[1]);
}

static void t_ioc_lists(void)
{
    const char *data = tide_test_data();
    tide_store *s = fresh();
    errs er = { 0 };
    char path[1024];
    tide_ingest_opts o = { .confidence = -1, .source = "maltrail" };
    snprintf(path, sizeof(path), "%s/iocs/maltrail/malware/trickbot.txt", data);
    TIDE_ASSERT_EQ_INT(tide_ingest_path(s, path, TIDE_FMT_LIST, &o, NULL, on_err, &er), 0);
    lk l = { 0 };
    TIDE_ASSERT_EQ_INT(tide_store_lookup(s, TIDE_OBS_IP_PORT, "206.130.141.255:449", lk_cb, &l), 0);
    TIDE_ASSERT_EQ_INT(l.hits, 1);
    /* the family became a malware object that the indicator indicates */
    int n = 0;
    tide_search_query q = { .type = "indicator", .related = "trickbot", .limit = 5 };
    TIDE_ASSERT_EQ_INT(tide_store_search(s, &q, hit_cb, &n), 0);
    TIDE_ASSERT_EQ_INT(n, 5);

    tide_ingest_opts o2 = { .confidence = -1, .source = "threatfox" };
    snprintf(path, sizeof(path), "%s/iocs/threatfox/threatfox_ips.txt", data);
    TIDE_ASSERT_EQ_INT(tide_ingest_path(s, path, TIDE_FMT_AUTO, &o2, NULL, on_err, &er), 0);
    json_t *j = stats(s);
    TIDE_ASSERT(stat_int(j, "by_source", "threatfox") >= 19863);
    TIDE_ASSERT(stat_int(j, "observables", "ipv4") >= 19863);
    json_decref(j);
    tide_store_free(s);
}

static void t_misp_event(void)
{
    const char *data = tide_test_data();
    tide_store *s = fresh();
    errs er = { 0 };
    char path[1024];
    snprintf(path, sizeof(path), "%s/misp/pymisp/tests/57c4445b-c548-4654-af0b-4be3950d210f.json",
            data);
    tide_ingest_stats st = { 0 };
    TIDE_ASSERT_EQ_INT(tide_ingest_path(s, path, TIDE_FMT_AUTO, NULL, &st, on_err, &er), 0);
    TIDE_ASSERT(st.stored >= 10); /* report + 9 attributes */
    tide_ingest_stats st2 = { 0 };
    TIDE_ASSERT_EQ_INT(tide_ingest_path(s, path, TIDE_FMT_AUTO, NULL, &st2, on_err, &er), 0);
    TIDE_ASSERT_EQ_INT(st2.stored, 0);
    /* a file that is not an event is refused with a message, and the store keeps what it had */
    snprintf(path, sizeof(path), "%s/misp/pymisp/tests/sharing_groups.json", data);
    TIDE_ASSERT(tide_ingest_path(s, path, TIDE_FMT_MISP, NULL, NULL, on_err, &er) < 0);
    TIDE_ASSERT(strstr(tide_error_last(), "sharing_groups.json") != NULL);
    json_t *j = stats(s);
    TIDE_ASSERT_EQ_INT(stat_int(j, "by_type", "report"), 1);
    json_decref(j);
    tide_store_free(s);
}

/* Every file of pymisp's tests through the store: events ingest with no reject, the rest are
 * refused with a message naming the file. */
typedef struct {
    tide_store *s;
    int events, refused;
} misp_walk;

static void misp_one(const char *path, void *p)
{
    misp_walk *w = p;
    static const char *not_events[] = { "definition.json", "galaxy.json", "sighting.json",
        "simple.json", "search_index_result.json", "sharing_groups.json", "stix2.json", NULL };
    const char *base = strrchr(path, '/') + 1;
    bool event = true;
    for (int i = 0; not_events[i]; i++)
        if (strcmp(base, not_events[i]) == 0)
            event = false;
    errs er = { 0 };
    int rc = tide_ingest_path(w->s, path, TIDE_FMT_MISP, NULL, NULL, on_err, &er);
    if (event) {
        if (rc != 0 || er.n != 0)
            fprintf(stderr, "  %s: rc %d, %d rejects (%s)\n", path, rc, er.n, er.last);
        TIDE_ASSERT_EQ_INT(rc, 0);
        TIDE_ASSERT_EQ_INT(er.n, 0);
        w->events++;
    } else {
        TIDE_ASSERT(rc < 0);
        TIDE_ASSERT(strstr(tide_error_last(), base) != NULL);
        TIDE_ASSERT(strstr(tide_error_last(), "not a MISP event") != NULL);
        w->refused++;
    }
}

static void t_all_pymisp_files(void)
{
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/misp/pymisp", tide_test_data());
    misp_walk w = { fresh(), 0, 0 };
    walk(dir, misp_one, &w);
    TIDE_ASSERT(w.events >= 20);
    TIDE_ASSERT_EQ_INT(w.refused, 8); /* two object-template definition.json files */
    json_t *j = stats(w.s);
    TIDE_ASSERT(stat_int(j, "by_type", "report") >= 20);
    TIDE_ASSERT(stat_int(j, "by_type", "sighting") >= 6);
    json_decref(j);
    tide_store_free(w.s);
}

/* ---- the pattern fast path (src/ingest/pattern_fast.c) against the full parser ---- */

typedef struct {
    int n;
    tide_pattern_term t;
    char type[64], path[64], op[16], value[TIDE__PATTERN_FAST_MAX + 1];
} one_term;

static int keep_term(const tide_pattern_term *t, void *p)
{
    one_term *o = p;
    if (o->n++ == 0) {
        o->t = *t;
        snprintf(o->type, sizeof(o->type), "%s", t->object_type);
        snprintf(o->path, sizeof(o->path), "%s", t->path);
        snprintf(o->op, sizeof(o->op), "%s", t->op);
        snprintf(o->value, sizeof(o->value), "%s", t->value);
    }
    return 0;
}

/* When the fast path takes pat, the full parser must accept it (2.0 and 2.1) as simple with
 * the same single term. Returns whether the fast path took it. */
static bool fast_agrees(const char *pat)
{
    tide_pattern_term ft;
    char fv[TIDE__PATTERN_FAST_MAX + 1];
    bool fast = tide__pattern_fast(pat, &ft, fv);
    if (!fast)
        return false;
    for (int v = 0; v < 2; v++) {
        tide_pattern *p = NULL;
        char err[256];
        int rc = tide_pattern_parse(&p, pat, v ? TIDE_STIX_21 : TIDE_STIX_20, err, sizeof(err));
        if (rc != 0)
            TIDE_FAIL_("fast path took %s, the parser refuses it: %s", pat, err);
        one_term o = { 0 };
        bool simple = false;
        tide_pattern_terms(p, &simple, keep_term, &o);
        tide_pattern_free(p);
        if (!simple || o.n != 1 || strcmp(o.type, ft.object_type) != 0 ||
                strcmp(o.path, ft.path) != 0 || strcmp(o.op, ft.op) != 0 ||
                strcmp(o.value, ft.value) != 0 || o.t.and_group != ft.and_group ||
                o.t.negated != ft.negated)
            TIDE_FAIL_("fast path differs on %s: parser simple %d, %d term(s), %s:%s %s '%s' "
                       "group %d; fast %s:%s %s '%s' group %d",
                    pat, simple, o.n, o.type, o.path, o.op, o.value, o.t.and_group, ft.object_type,
                    ft.path, ft.op, ft.value, ft.and_group);
    }
    return true;
}

static void t_pattern_fast_path(void)
{
    /* every conformance case of the shared data */
    static const char *const files[] = { "validator_cases.json", "validator_cases_v20.json",
        "matcher_cases.json", "matcher_cases_v20.json" };
    int cases = 0;
    for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/stix-patterns/%s", tide_test_data(), files[f]);
        json_t *j = json_load_file(path, 0, NULL);
        TIDE_ASSERT(j != NULL);
        size_t i;
        json_t *c;
        json_array_foreach(j, i, c)
        {
            fast_agrees(json_string_value(json_object_get(c, "pattern")));
            cases++;
        }
        json_decref(j);
    }
    TIDE_ASSERT(cases > 250);
    /* each shape (as gen_corpus.py and feeds write them) with variants around its edges */
    static const char *const taken[] = {
        "[ipv4-addr:value = '35.32.130.31']",
        "[ipv4-addr:value='35.32.130.31']",
        "[ ipv4-addr:value  =  '10.0.0.1' ]",
        "[ipv4-addr:value ISSUBSET '10.0.0.0/8']",
        "[ipv6-addr:value = '2001:db8::1']",
        "[ipv6-addr:value ISSUBSET '2001:db8::/32']",
        "[domain-name:value = 'evil.example.com']",
        "[url:value = 'http://a.example/x?y=1&z=%20#f']",
        "[email-addr:value = 'bad@example.org']",
        "[file:hashes.'SHA-256' = "
        "'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
        "[file:hashes.'SHA-1' = 'AEC070645FE53EE3B3763059376134F058CC3372']",
        "[file:hashes.'SHA-512' = '"
        "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"
        "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
        "[file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4']",
        "[file:hashes.'MD5' = '79054025255fb1a26e4bc422aef54eb4']",
        "[domain-name:value = 'a b ~!@#$%^&*()_+{}|:<>?`-=[];,./\"']",
    };
    for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++)
        if (!fast_agrees(taken[i]))
            TIDE_FAIL_("fast path should take %s", taken[i]);
    /* left to the full parser: other shapes, escapes, bad hashes, junk around the shape */
    static const char *const left[] = {
        "[ipv4-addr:value = '1.2.3.4'] ",
        "[ipv4-addr:value = '1.2.3.4']]",
        "[ipv4-addr:value == '1.2.3.4']",
        "[ipv4-addr:value != '1.2.3.4']",
        "[ipv4-addr:value NOT = '1.2.3.4']",
        "[ipv4-addr:value = '1.2.3.4' OR ipv4-addr:value = '1.2.3.5']",
        "[ipv4-addr:value = '1.2.3.4'] WITHIN 5 SECONDS",
        "[ipv4-addr:value IN ('1.2.3.4')]",
        "[ipv4-addr:valuex = '1.2.3.4']",
        "[ipv4-addrx:value = '1.2.3.4']",
        "[ipv4-addr :value = '1.2.3.4']",
        "[ipv4-addr:value\t= '1.2.3.4']",
        "[ipv4-addr:value = '']",
        "[ipv4-addr:value = 'it\\'s']",
        "[ipv4-addr:value = 'a\\\\b']",
        "[ipv4-addr:value = 'caf\xc3\xa9']",
        "[ipv4-addr:value = '1.2.3.4",
        "[ipv4-addr:value = 5]",
        "[domain-name:value ISSUBSET 'example.com']",
        "[ipv4-addr:value ISSUBSET'10.0.0.0/8']",
        "[file:hashes.'SHA-256' = 'abc']",
        "[file:hashes.'SHA-256' = "
        "'zec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
        "[file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb']",
        "[file:hashes.'SHA-256' ISSUBSET "
        "'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
        "[file:hashes.SHA256 = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
        "[file:name = 'x.exe']",
        "ipv4-addr:value = '1.2.3.4'",
        "",
    };
    for (size_t i = 0; i < sizeof(left) / sizeof(left[0]); i++)
        if (fast_agrees(left[i]))
            TIDE_FAIL_("fast path should leave %s to the parser", left[i]);
}

TIDE_TESTS = {
    { "ingest::all_pymisp_files", t_all_pymisp_files },
    { "ingest::stix_examples_no_loss", t_stix_examples_no_loss },
    { "ingest::attack_bundles_twice", t_attack_bundles_twice },
    { "ingest::bad_stix_keeps_good_records", t_bad_stix_keeps_good_records },
    { "ingest::ioc_lists", t_ioc_lists },
    { "ingest::misp_event", t_misp_event },
    { "ingest::pattern_fast_path", t_pattern_fast_path },
    { "ingest::store_failure_counts", t_store_failure_counts },
    { "ingest::bulk_equals_batch", t_bulk_equals_batch },
    { NULL, NULL },
};
TIDE_TEST_MAIN
