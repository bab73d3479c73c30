/*
 * test_store.c - the SQLite store: versions (newest modified wins, older kept), derived-object
 * idempotence, indicator context and observables, relationships both ways, search, stats,
 * warninglists, reopening (schema migrations run once), a failed batch rolled back, and the
 * migration of a schema-5 store (observables in their own table) to packed observables and
 * objects columns copied into indicator rows (schema 7), kept equal by every kind of put.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <sqlite3.h>

#include "harness.h"
#include "store/front_int.h"
#include "store/schema.h"
#include "store/store_faulty.h"
#include "store/store_int.h"
#include "tide.h"

/* The backend the contract tests run on: 0 the SQLite backend (tide_store_open), 1 the
 * fault-injecting wrapper around it (store_faulty.h) with no fault set. Every test of the
 * table at the end runs both ways, but the fault tests, which need the wrapper. */
static int on_faulty;

/* The store in dir on the backend of this run. */
static tide_store *open_at(const char *dir)
{
    tide_store *s = NULL;
    if (!on_faulty) {
        TIDE_ASSERT_EQ_INT(tide_store_open(&s, dir), 0);
        return s;
    }
    tide_store_backend *sq = NULL, *fb = NULL;
    TIDE_ASSERT_EQ_INT(tide_store_backend_sqlite(&sq, dir), 0);
    TIDE_ASSERT_EQ_INT(tide__store_faulty_new(&fb, sq), 0);
    TIDE_ASSERT_EQ_INT(tide_store_open_backend(&s, fb), 0);
    return s;
}

static tide_store *open_fresh(void)
{
    return open_at(tide_test_tmpdir());
}

/* The SQLite backend under a store (through the wrapper), for the tests that look at its
 * tables. */
static tide__sqlite *sql_of(tide_store *s)
{
    tide_store_backend *be = tide__store_backend(s);
    tide_store_backend *in = tide__store_faulty_inner(be);
    tide__sqlite *q = tide__store_sqlite_backend(in ? in : be);
    TIDE_ASSERT(q != NULL);
    return q;
}

static int put(tide_store *s, const char *id, const char *type, const char *modified,
        const char *json)
{
    tide_object_rec r = { .id = id, .type = type, .modified = modified, .json = json,
        .json_len = strlen(json), .source = "unit" };
    int status = -1;
    TIDE_ASSERT_EQ_INT(tide_store_put_object(s, &r, &status), 0);
    return status;
}

static int count_cb(const char *m, void *payload)
{
    (void)m;
    (*(int *)payload)++;
    return 0;
}

static void t_versions(void)
{
    tide_store *s = open_fresh();
    const char *id = "malware--6b616fc1-1505-48e3-8b2c-0d19337bff38";
    TIDE_ASSERT_EQ_INT(put(s, id, "malware", "2017-01-27T13:49:53.936Z", "{\"v\":2}"),
            TIDE_PUT_NEW);
    TIDE_ASSERT_EQ_INT(put(s, id, "malware", "2018-02-27T13:49:53.936Z", "{\"v\":3}"),
            TIDE_PUT_VERSION);
    TIDE_ASSERT_EQ_INT(put(s, id, "malware", "2016-01-27T13:49:53.936Z", "{\"v\":1}"),
            TIDE_PUT_OLDER);
    /* same version again, even spelled differently, changes nothing */
    TIDE_ASSERT_EQ_INT(put(s, id, "malware", "2018-02-27T13:49:53.936Z", "{\"v\":3}"),
            TIDE_PUT_UNCHANGED);
    TIDE_ASSERT_EQ_INT(put(s, id, "malware", "2016-01-27T13:49:53.936Z", "{\"v\":1}"),
            TIDE_PUT_UNCHANGED);
    char *js = NULL;
    TIDE_ASSERT_EQ_INT(tide_store_get(s, id, NULL, &js), 0);
    TIDE_ASSERT_EQ_STR(js, "{\"v\":3}");
    free(js);
    TIDE_ASSERT_EQ_INT(tide_store_get(s, id, "2016-01-27T13:49:53.936Z", &js), 0);
    TIDE_ASSERT_EQ_STR(js, "{\"v\":1}");
    free(js);
    int n = 0;
    TIDE_ASSERT_EQ_INT(tide_store_versions(s, id, count_cb, &n), 0);
    TIDE_ASSERT_EQ_INT(n, 3);
    TIDE_ASSERT_EQ_INT(tide_store_get(s, "malware--00000000-0000-0000-0000-000000000000", NULL,
                               &js),
            TIDE_ENOTFOUND);
    tide_store_free(s);
}

static void t_derived(void)
{
    tide_store *s = open_fresh();
    tide_object_rec r = { .id = "indicator--1", .type = "indicator",
        .modified = "2026-01-01T00:00:00.000Z", .json = "{}", .json_len = 2,
        .content_hash = 42, .derived = true };
    int st;
    TIDE_ASSERT_EQ_INT(tide_store_put_object(s, &r, &st), 0);
    TIDE_ASSERT_EQ_INT(st, TIDE_PUT_NEW);
    r.modified = "2026-02-01T00:00:00.000Z"; /* re-made later, same content */
    TIDE_ASSERT_EQ_INT(tide_store_put_object(s, &r, &st), 0);
    TIDE_ASSERT_EQ_INT(st, TIDE_PUT_UNCHANGED);
    r.content_hash = 43;
    TIDE_ASSERT_EQ_INT(tide_store_put_object(s, &r, &st), 0);
    TIDE_ASSERT_EQ_INT(st, TIDE_PUT_VERSION);
    tide_store_free(s);
}

static int collect_id(const char *id, void *payload)
{
    snprintf(payload, 128, "%s", id);
    return 0;
}

typedef struct {
    int out, in;
    char name[64];
} rel_count;

static int rel_cb(const tide_relation *r, void *payload)
{
    rel_count *c = payload;
    if (r->outgoing)
        c->out++;
    else
        c->in++;
    if (r->other_name)
        snprintf(c->name, sizeof(c->name), "%s", r->other_name);
    return 0;
}

static int hit_cb(const tide_search_hit *h, void *payload)
{
    (void)h;
    (*(int *)payload)++;
    return 0;
}

static void t_indicator_relationships_search(void)
{
    tide_store *s = open_fresh();
    TIDE_ASSERT_EQ_INT(tide_store_begin(s), 0);
    const char *ind = "indicator--a", *mal = "malware--b";
    tide_object_rec r = { .id = ind, .type = "indicator", .modified = "2024-01-01T00:00:00Z",
        .json = "{}", .json_len = 2, .source = "feed1", .tlp = "amber" };
    int st;
    TIDE_ASSERT_EQ_INT(tide_store_put_object(s, &r, &st), 0);
    tide_object_rec m = { .id = mal, .type = "malware", .modified = "2024-01-01T00:00:00Z",
        .name = "TrickBot", .json = "{}", .json_len = 2, .source = "feed1" };
    TIDE_ASSERT_EQ_INT(tide_store_put_object(s, &m, &st), 0);
    tide_indicator_rec ir = { .id = ind, .pattern = "[ipv4-addr:value = '1.2.3.4']",
        .pattern_type = "stix", .source = "feed1", .reliability = 'B', .confidence = 80,
        .tlp = "amber", .simple = true };
    tide_obs_ref obs[] = { { TIDE_OBS_IPV4, "1.2.3.4" } };
    TIDE_ASSERT_EQ_INT(tide_store_put_indicator(s, &ir, obs, 1), 0);
    /* a reference must be stated by a stored object */
    TIDE_ASSERT_EQ_INT(tide_store_put_relationship(s, "relationship--c", "indicates", ind, mal),
            TIDE_ENOTFOUND);
    tide_object_rec rr = { .id = "relationship--c", .type = "relationship",
        .modified = "2024-01-01T00:00:00Z", .json = "{}", .json_len = 2 };
    TIDE_ASSERT_EQ_INT(tide_store_put_object(s, &rr, &st), 0);
    TIDE_ASSERT_EQ_INT(tide_store_put_relationship(s, "relationship--c", "indicates", ind, mal), 0);
    TIDE_ASSERT_EQ_INT(tide_store_commit(s), 0);

    char found[128] = "";
    TIDE_ASSERT_EQ_INT(tide_store_lookup(s, TIDE_OBS_IPV4, "1.2.3.4", collect_id, found), 0);
    TIDE_ASSERT_EQ_STR(found, ind);
    found[0] = '\0';
    TIDE_ASSERT_EQ_INT(tide_store_lookup(s, TIDE_OBS_IPV4, "1.2.3.5", collect_id, found), 0);
    TIDE_ASSERT_EQ_STR(found, "");

    tide_indicator_rec got;
    TIDE_ASSERT_EQ_INT(tide_store_indicator(s, ind, &got), 0);
    TIDE_ASSERT_EQ_INT(got.confidence, 80);
    TIDE_ASSERT_EQ_INT(got.reliability, 'B');
    TIDE_ASSERT_EQ_STR(got.tlp, "amber");

    rel_count rc = { 0, 0, "" };
    TIDE_ASSERT_EQ_INT(tide_store_related(s, ind, rel_cb, &rc), 0);
    TIDE_ASSERT_EQ_INT(rc.out, 1);
    TIDE_ASSERT_EQ_STR(rc.name, "TrickBot");
    rel_count rc2 = { 0, 0, "" };
    TIDE_ASSERT_EQ_INT(tide_store_related(s, mal, rel_cb, &rc2), 0);
    TIDE_ASSERT_EQ_INT(rc2.in, 1);

    int n = 0;
    tide_search_query q = { .related = "trickbot" };
    TIDE_ASSERT_EQ_INT(tide_store_search(s, &q, hit_cb, &n), 0);
    TIDE_ASSERT_EQ_INT(n, 1);
    n = 0;
    tide_search_query q2 = { .value = "1.2.3.4" };
    TIDE_ASSERT_EQ_INT(tide_store_search(s, &q2, hit_cb, &n), 0);
    TIDE_ASSERT_EQ_INT(n, 1);
    n = 0;
    tide_search_query q3 = { .type = "malware", .source = "feed1" };
    TIDE_ASSERT_EQ_INT(tide_store_search(s, &q3, hit_cb, &n), 0);
    TIDE_ASSERT_EQ_INT(n, 1);

    /* --since: objects changed at or after a time */
    n = 0;
    tide_search_query q4 = { .since = 1 };
    TIDE_ASSERT_EQ_INT(tide_store_search(s, &q4, hit_cb, &n), 0);
    TIDE_ASSERT_EQ_INT(n, 3);
    n = 0;
    int64_t later;
    TIDE_ASSERT_EQ_INT(tide_time_parse("2999-01-01", &later), 0);
    tide_search_query q5 = { .since = later };
    TIDE_ASSERT_EQ_INT(tide_store_search(s, &q5, hit_cb, &n), 0);
    TIDE_ASSERT_EQ_INT(n, 0);
    /* relative times: "1h" is an hour ago, so everything stored just now is newer */
    int64_t hour_ago;
    TIDE_ASSERT_EQ_INT(tide_time_parse("1h", &hour_ago), 0);
    n = 0;
    tide_search_query q6 = { .since = hour_ago };
    TIDE_ASSERT_EQ_INT(tide_store_search(s, &q6, hit_cb, &n), 0);
    TIDE_ASSERT_EQ_INT(n, 3);

    char *stats = NULL;
    TIDE_ASSERT_EQ_INT(tide_store_stats_json(s, &stats), 0);
    json_t *j = json_loads(stats, 0, NULL);
    free(stats);
    TIDE_ASSERT(j != NULL);
    TIDE_ASSERT_EQ_INT(json_integer_value(json_object_get(j, "objects")), 3);
    TIDE_ASSERT_EQ_INT(
            json_integer_value(json_object_get(json_object_get(j, "observables"), "ipv4")), 1);
    json_decref(j);
    tide_store_free(s);
}

static void t_rollback_and_reopen(void)
{
    const char *dir = tide_test_tmpdir();
    char path[600];
    snprintf(path, sizeof(path), "%s/nested/store", dir);
    tide_store *s = NULL;
    s = open_at(path);
    int v = tide_store_schema_version(s);
    TIDE_ASSERT(v >= 1);
    TIDE_ASSERT_EQ_INT(tide_store_begin(s), 0);
    put(s, "tool--1", "tool", "2020-01-01T00:00:00Z", "{\"kept\":true}");
    TIDE_ASSERT_EQ_INT(tide_store_commit(s), 0);
    TIDE_ASSERT_EQ_INT(tide_store_begin(s), 0);
    put(s, "tool--2", "tool", "2020-01-01T00:00:00Z", "{\"kept\":false}");
    TIDE_ASSERT_EQ_INT(tide_store_rollback(s), 0);
    tide_store_free(s);
    /* reopen: the schema is not migrated twice, the committed object is there, the other not */
    s = open_at(path);
    TIDE_ASSERT_EQ_INT(tide_store_schema_version(s), v);
    char *js = NULL;
    TIDE_ASSERT_EQ_INT(tide_store_get(s, "tool--1", NULL, &js), 0);
    free(js);
    TIDE_ASSERT_EQ_INT(tide_store_get(s, "tool--2", NULL, &js), TIDE_ENOTFOUND);
    tide_store_free(s);
}

static int wl_cb(const char *name, const char *type, const char *value, void *payload)
{
    (void)name;
    (void)type;
    (void)value;
    (*(int *)payload)++;
    return 0;
}

static void t_warninglist_entries(void)
{
    tide_store *s = open_fresh();
    const char *vals[] = { "10.0.0.0/8", "192.168.0.0/16" };
    TIDE_ASSERT_EQ_INT(tide_store_put_warninglist(s, "rfc1918", "cidr", "private", vals, 2), 0);
    TIDE_ASSERT_EQ_INT(tide_store_put_warninglist(s, "rfc1918", "cidr", "private", vals, 1), 0);
    int n = 0;
    TIDE_ASSERT_EQ_INT(tide_store_warninglist_entries(s, wl_cb, &n), 0);
    TIDE_ASSERT_EQ_INT(n, 1); /* replaced, not appended */
    tide_store_free(s);
}


typedef struct {
    int n;
    char names[256];
} scan_seen;

static int scan_cb(const tide_indicator_obs *r, void *payload)
{
    scan_seen *seen = payload;
    seen->n++;
    size_t len = strlen(seen->names);
    snprintf(seen->names + len, sizeof(seen->names) - len, "%s=%s c:%zu m:%zu a:%zu conf:%d rel:%c",
            r->id, r->value, r->ncampaigns, r->nmalware, r->nactors, r->confidence,
            r->reliability ? r->reliability : '-');
    for (size_t i = 0; i < r->ncampaigns; i++)
        TIDE_ASSERT_EQ_STR(r->campaigns[i], "Op Cold");
    for (size_t i = 0; i < r->nmalware; i++)
        TIDE_ASSERT_EQ_STR(r->malware[i], "TrickBot");
    for (size_t i = 0; i < r->nactors; i++)
        TIDE_ASSERT_EQ_STR(r->actors[i], "Wizard Spider");
    return 0;
}

static void put_simple(tide_store *s, const char *id, const char *type, const char *name)
{
    tide_object_rec r = { .id = id, .type = type, .modified = "2024-01-01T00:00:00Z",
        .name = name, .json = "{}", .json_len = 2, .source = "unit" };
    int st;
    TIDE_ASSERT_EQ_INT(tide_store_put_object(s, &r, &st), 0);
}

static void relate(tide_store *s, const char *id, const char *type, const char *a, const char *b)
{
    put_simple(s, id, "relationship", NULL);
    TIDE_ASSERT_EQ_INT(tide_store_put_relationship(s, id, type, a, b), 0);
}

/* The active-intel scan resolves names two hops out: indicator -> campaign -> malware and
 * actor; an unrelated indicator gets none; intel changes bump the generation. */
static void t_active_intel_scan(void)
{
    tide_store *s = open_fresh();
    int64_t g0, g1, g2;
    TIDE_ASSERT_EQ_INT(tide_store_intel_generation(s, &g0), 0);
    TIDE_ASSERT_EQ_INT(tide_store_begin(s), 0);
    put_simple(s, "indicator--1", "indicator", NULL);
    put_simple(s, "indicator--2", "indicator", NULL);
    put_simple(s, "campaign--c", "campaign", "Op Cold");
    put_simple(s, "malware--m", "malware", "TrickBot");
    put_simple(s, "intrusion-set--i", "intrusion-set", "Wizard Spider");
    tide_indicator_rec ir = { .id = "indicator--1", .pattern = "[ipv4-addr:value = '1.2.3.4']",
        .pattern_type = "stix", .reliability = 'B', .confidence = 80, .simple = true };
    tide_obs_ref o1[] = { { TIDE_OBS_IPV4, "1.2.3.4" }, { TIDE_OBS_DOMAIN, "evil.example" } };
    TIDE_ASSERT_EQ_INT(tide_store_put_indicator(s, &ir, o1, 2), 0);
    ir.id = "indicator--2";
    ir.confidence = 10;
    tide_obs_ref o2[] = { { TIDE_OBS_MD5, "00112233445566778899aabbccddeeff" } };
    TIDE_ASSERT_EQ_INT(tide_store_put_indicator(s, &ir, o2, 1), 0);
    relate(s, "relationship--1", "indicates", "indicator--1", "campaign--c");
    relate(s, "relationship--2", "uses", "campaign--c", "malware--m");
    relate(s, "relationship--3", "attributed-to", "campaign--c", "intrusion-set--i");
    TIDE_ASSERT_EQ_INT(tide_store_commit(s), 0);
    TIDE_ASSERT_EQ_INT(tide_store_intel_generation(s, &g1), 0);
    TIDE_ASSERT(g1 > g0);

    scan_seen seen = { 0, "" };
    TIDE_ASSERT_EQ_INT(tide_store_each_indicator_obs(s, NULL, scan_cb, &seen), 0);
    TIDE_ASSERT_EQ_INT(seen.n, 3);
    TIDE_ASSERT(strstr(seen.names, "indicator--1=1.2.3.4 c:1 m:1 a:1 conf:80 rel:B") != NULL);
    TIDE_ASSERT(strstr(seen.names, "indicator--1=evil.example c:1 m:1 a:1") != NULL);
    TIDE_ASSERT(strstr(seen.names, "indicator--2=00112233445566778899aabbccddeeff c:0 m:0 a:0 conf:10")
            != NULL);
    /* filters: a source nobody has, and a time in the future */
    tide_indicator_filter f = { .source = "nobody" };
    seen.n = 0;
    TIDE_ASSERT_EQ_INT(tide_store_each_indicator_obs(s, &f, scan_cb, &seen), 0);
    TIDE_ASSERT_EQ_INT(seen.n, 0);
    int64_t later_ms;
    TIDE_ASSERT_EQ_INT(tide_time_parse("2999-01-01", &later_ms), 0);
    tide_indicator_filter f2 = { .changed_since = later_ms };
    TIDE_ASSERT_EQ_INT(tide_store_each_indicator_obs(s, &f2, scan_cb, &seen), 0);
    TIDE_ASSERT_EQ_INT(seen.n, 0);
    /* changed since long ago: the same records as the whole scan, whether few objects
     * changed (names resolved per indicator) or many (the graph, as for the hunt after a
     * first load) */
    scan_seen all = { 0, "" };
    TIDE_ASSERT_EQ_INT(tide_store_each_indicator_obs(s, NULL, scan_cb, &all), 0);
    tide_indicator_filter f3 = { .changed_since = 1 };
    for (int round = 0; round < 2; round++) {
        if (round == 1) {
            TIDE_ASSERT_EQ_INT(tide_store_begin(s), 0);
            for (int i = 0; i < 1100; i++) {
                char id[64];
                snprintf(id, sizeof(id), "note--%d", i);
                put_simple(s, id, "note", NULL);
            }
            TIDE_ASSERT_EQ_INT(tide_store_commit(s), 0);
        }
        scan_seen since = { 0, "" };
        TIDE_ASSERT_EQ_INT(tide_store_each_indicator_obs(s, &f3, scan_cb, &since), 0);
        TIDE_ASSERT_EQ_INT(since.n, all.n);
        TIDE_ASSERT_EQ_STR(since.names, all.names);
    }
    TIDE_ASSERT_EQ_INT(tide_store_intel_generation(s, &g1), 0);

    /* a warninglist change is an intel change too; re-putting the same version is not */
    TIDE_ASSERT_EQ_INT(tide_store_intel_generation(s, &g2), 0);
    TIDE_ASSERT_EQ_INT(g2, g1);
    put_simple(s, "campaign--c", "campaign", "Op Cold");
    TIDE_ASSERT_EQ_INT(tide_store_intel_generation(s, &g2), 0);
    TIDE_ASSERT_EQ_INT(g2, g1);
    const char *vals[] = { "1.2.3.4" };
    TIDE_ASSERT_EQ_INT(tide_store_put_warninglist(s, "w", "string", "d", vals, 1), 0);
    TIDE_ASSERT_EQ_INT(tide_store_intel_generation(s, &g2), 0);
    TIDE_ASSERT(g2 > g1);
    tide_store_free(s);
}

static void t_open_bad_path(void)
{
    tide_store *s = NULL;
    TIDE_ASSERT(tide_store_open(&s, "/proc/no/such/dir") < 0);
    TIDE_ASSERT(s == NULL);
    TIDE_ASSERT(strlen(tide_error_last()) > 0);
    tide_store_backend *be = NULL;
    TIDE_ASSERT(tide_store_backend_sqlite(&be, "/proc/no/such/dir") < 0);
    TIDE_ASSERT(be == NULL);
}


/* ---- schema 7: an indicators row carries its objects row's id, name, source, tlp ---- */

static bool same_str(const char *a, const unsigned char *b)
{
    return a == NULL ? b == NULL : b != NULL && strcmp(a, (const char *)b) == 0;
}

/* Rows whose packed copies differ from their objects row (or from their own filter columns),
 * or that belong to no current version. */
static int copies_off(tide_store *s)
{
    sqlite3_stmt *q = NULL;
    TIDE_ASSERT_EQ_INT(sqlite3_prepare_v2(sql_of(s)->db,
            "SELECT i.rec, o.rowid IS NOT NULL AND o.is_current, o.id, o.id_key, o.name, "
            "o.source, o.tlp, o.changed_at, i.source, i.changed_at, i.revoked "
            "FROM indicators i LEFT JOIN objects o ON o.rowid = i.obj", -1, &q, NULL),
            SQLITE_OK);
    int off = 0, rows = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        rows++;
        tide__ind_rec r;
        TIDE_ASSERT_EQ_INT(tide__store_ind_unpack(sqlite3_column_blob(q, 0),
                (size_t)sqlite3_column_bytes(q, 0), &r), 0);
        bool ok = sqlite3_column_int(q, 1) && same_str(r.id, sqlite3_column_text(q, 2)) &&
                  r.id_key == sqlite3_column_int64(q, 3) &&
                  same_str(r.name, sqlite3_column_text(q, 4)) &&
                  same_str(r.source, sqlite3_column_text(q, 5)) &&
                  same_str(r.tlp, sqlite3_column_text(q, 6)) &&
                  r.changed_at == sqlite3_column_int64(q, 7) &&
                  same_str(r.source, sqlite3_column_text(q, 8)) &&
                  r.changed_at == sqlite3_column_int64(q, 9) &&
                  r.revoked == (sqlite3_column_int(q, 10) != 0);
        off += !ok;
    }
    sqlite3_finalize(q);
    TIDE_ASSERT(rows > 0);
    return off;
}

static int ctx_cb(const tide_indicator_obs *r, void *payload)
{
    tide_buf *b = payload;
    tide__buf_printf(b, "%s %s %s %s %s;", r->id, r->name ? r->name : "-", r->source,
            r->tlp ? r->tlp : "-", r->value);
    return 0;
}

static void put_ind_obj(tide_store *s, const char *id, const char *modified, const char *name,
        const char *source, const char *tlp)
{
    tide_object_rec r = { .id = id, .type = "indicator", .modified = modified, .name = name,
        .json = "{}", .json_len = 2, .source = source, .tlp = tlp };
    int st;
    TIDE_ASSERT_EQ_INT(tide_store_put_object(s, &r, &st), 0);
}

static void put_ind(tide_store *s, const char *id, const char *ip)
{
    tide_indicator_rec ir = { .id = id, .pattern = "[x]", .pattern_type = "stix",
        .reliability = 'B', .confidence = 50, .simple = true };
    tide_obs_ref o[] = { { TIDE_OBS_IPV4, ip } };
    TIDE_ASSERT_EQ_INT(tide_store_put_indicator(s, &ir, o, 1), 0);
}

static int pragma_int(tide_store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    TIDE_ASSERT_EQ_INT(sqlite3_prepare_v2(sql_of(s)->db, sql, -1, &st, NULL), SQLITE_OK);
    TIDE_ASSERT_EQ_INT(sqlite3_step(st), SQLITE_ROW);
    int v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static const char *pragma_text(tide_store *s, const char *sql)
{
    static char out[32];
    sqlite3_stmt *st = NULL;
    TIDE_ASSERT_EQ_INT(sqlite3_prepare_v2(sql_of(s)->db, sql, -1, &st, NULL), SQLITE_OK);
    TIDE_ASSERT_EQ_INT(sqlite3_step(st), SQLITE_ROW);
    snprintf(out, sizeof(out), "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
}

static void t_indicator_row_copies(void)
{
    for (int bulk = 0; bulk < 2; bulk++) {
        char dir[700];
        snprintf(dir, sizeof(dir), "%s/copies%d", tide_test_tmpdir(), bulk);
        tide_store *s = NULL;
        s = open_at(dir);
        bool is_bulk = false;
        if (bulk) {
            TIDE_ASSERT_EQ_INT(tide_store_begin_load(s, &is_bulk), 0);
            TIDE_ASSERT(is_bulk);
        } else {
            TIDE_ASSERT_EQ_INT(tide_store_begin(s), 0);
        }
        /* right after its object (the remembered columns) ... */
        put_ind_obj(s, "indicator--a", "2024-01-01T00:00:00Z", "Alpha", "feedA", "amber");
        put_ind(s, "indicator--a", "192.0.2.1");
        /* ... and after other objects came between (read back from the objects row) */
        put_ind_obj(s, "indicator--b", "2024-01-01T00:00:00Z", NULL, "feedB", NULL);
        put_simple(s, "campaign--c", "campaign", "Op Copy");
        put_ind(s, "indicator--b", "192.0.2.2");
        /* a newer version of a, from another feed, in the same load */
        put_ind_obj(s, "indicator--a", "2025-01-01T00:00:00Z", "Alpha2", "feedC", "red");
        put_ind(s, "indicator--a", "192.0.2.3");
        TIDE_ASSERT_EQ_INT(tide_store_commit(s), 0);
        TIDE_ASSERT_EQ_INT(copies_off(s), 0);
        /* a bulk load ran with a rollback journal and temp_store = FILE (bounded sort runs for
         * its index builds); the connection is back to WAL and MEMORY after it */
        TIDE_ASSERT_EQ_INT(pragma_int(s, "PRAGMA temp_store"), 2);
        TIDE_ASSERT_EQ_STR(pragma_text(s, "PRAGMA journal_mode"), "wal");

        tide_buf b = TIDE_BUF_INIT;
        TIDE_ASSERT_EQ_INT(tide_store_each_indicator_obs(s, NULL, ctx_cb, &b), 0);
        TIDE_ASSERT(strstr(b.ptr, "indicator--b - feedB - 192.0.2.2;") != NULL);
        TIDE_ASSERT(strstr(b.ptr, "indicator--a Alpha2 feedC red 192.0.2.3;") != NULL);
        TIDE_ASSERT(strstr(b.ptr, "Alpha ") == NULL && strstr(b.ptr, "192.0.2.1") == NULL);
        tide_indicator_filter f = { .source = "feedA" };
        tide__buf_clear(&b);
        TIDE_ASSERT_EQ_INT(tide_store_each_indicator_obs(s, &f, ctx_cb, &b), 0);
        TIDE_ASSERT(b.len == 0);
        f.source = "feedC";
        TIDE_ASSERT_EQ_INT(tide_store_each_indicator_obs(s, &f, ctx_cb, &b), 0);
        TIDE_ASSERT_EQ_STR(b.ptr, "indicator--a Alpha2 feedC red 192.0.2.3;");

        /* a later, ordinary batch: a version of b with a name, after an unrelated object */
        TIDE_ASSERT_EQ_INT(tide_store_begin(s), 0);
        put_ind_obj(s, "indicator--b", "2026-01-01T00:00:00Z", "Beta", "feedB", "clear");
        put_simple(s, "malware--m", "malware", "CopyBot");
        put_ind(s, "indicator--b", "192.0.2.4");
        TIDE_ASSERT_EQ_INT(tide_store_commit(s), 0);
        TIDE_ASSERT_EQ_INT(copies_off(s), 0);
        tide__buf_clear(&b);
        f.source = "feedB";
        TIDE_ASSERT_EQ_INT(tide_store_each_indicator_obs(s, &f, ctx_cb, &b), 0);
        TIDE_ASSERT_EQ_STR(b.ptr, "indicator--b Beta feedB clear 192.0.2.4;");
        tide__buf_free(&b);
        tide_store_free(s);
    }
}

/* The packed record: every field round-trips (NULLs, extremes), and a damaged BLOB (cut at
 * any length, a wrong tag or version, bytes after the end) is an error, never a wild read. */
static void t_indicator_record(void)
{
    tide__ind_rec in = { .id = "indicator--x", .id_key = INT64_MIN, .name = NULL,
        .source = "feed", .tlp = NULL, .kill_chain = "", .pattern = "[a:b = 'c']",
        .pattern_type = "stix", .reliability = "A", .confidence = 0, .confidence_null = true,
        .valid_from = -1, .valid_until = INT64_MAX, .created = 1, .modified = 2,
        .changed_at = 3, .simple = true, .revoked = false };
    tide_buf b = TIDE_BUF_INIT;
    TIDE_ASSERT_EQ_INT(tide__store_ind_pack(&b, &in), 0);
    tide__ind_rec out;
    TIDE_ASSERT_EQ_INT(tide__store_ind_unpack(b.ptr, b.len, &out), 0);
    TIDE_ASSERT_EQ_STR(out.id, in.id);
    TIDE_ASSERT(out.id_key == INT64_MIN && out.valid_from == -1 && out.valid_until == INT64_MAX);
    TIDE_ASSERT(out.name == NULL && out.tlp == NULL && out.confidence_null);
    TIDE_ASSERT_EQ_STR(out.source, "feed");
    TIDE_ASSERT_EQ_STR(out.kill_chain, "");
    TIDE_ASSERT_EQ_STR(out.pattern, in.pattern);
    TIDE_ASSERT_EQ_STR(out.reliability, "A");
    TIDE_ASSERT(out.created == 1 && out.modified == 2 && out.changed_at == 3);
    TIDE_ASSERT(out.simple && !out.revoked);
    for (size_t n = 0; n < b.len; n++) {
        char *cut = tide__malloc(n ? n : 1); /* exactly n bytes: ASan sees any overread */
        memcpy(cut, b.ptr, n);
        TIDE_ASSERT(tide__store_ind_unpack(cut, n, &out) < 0);
        tide__free(cut);
    }
    TIDE_ASSERT_EQ_INT(tide__buf_putc(&b, 0), 0); /* trailing byte */
    TIDE_ASSERT(tide__store_ind_unpack(b.ptr, b.len, &out) < 0);
    b.len--;
    b.ptr[0] = 9; /* unknown version */
    TIDE_ASSERT(tide__store_ind_unpack(b.ptr, b.len, &out) < 0);
    b.ptr[0] = 1;
    b.ptr[1] = 7; /* unknown tag */
    TIDE_ASSERT(tide__store_ind_unpack(b.ptr, b.len, &out) < 0);
    tide__buf_free(&b);

    /* a scan over a damaged row reports it */
    tide_store *s = open_fresh();
    TIDE_ASSERT_EQ_INT(tide_store_begin(s), 0);
    put_ind_obj(s, "indicator--d", "2024-01-01T00:00:00Z", "D", "feed", NULL);
    put_ind(s, "indicator--d", "192.0.2.9");
    TIDE_ASSERT_EQ_INT(tide_store_commit(s), 0);
    TIDE_ASSERT_EQ_INT(tide__store_exec(sql_of(s), "UPDATE indicators SET rec = x'0102'"), 0);
    tide_buf seen = TIDE_BUF_INIT;
    TIDE_ASSERT_EQ_INT(tide_store_each_indicator_obs(s, NULL, ctx_cb, &seen), TIDE_ESTORE);
    TIDE_ASSERT(strstr(tide_error_last(), "corrupt indicator record") != NULL);
    tide_indicator_rec ir;
    TIDE_ASSERT_EQ_INT(tide_store_indicator(s, "indicator--d", &ir), TIDE_ESTORE);
    tide__buf_free(&seen);
    tide_store_free(s);
}

/* ---- migration 6: a store as schema 5 wrote it ---- */

static int collect_obs(const tide_obs_ref *o, void *payload)
{
    tide_buf *b = payload;
    tide__buf_printf(b, "%s=%s;", tide_obs_kind_name(o->kind), o->value);
    return 0;
}

static int collect_scan(const tide_indicator_obs *r, void *payload)
{
    tide_buf *b = payload;
    tide__buf_printf(b, "%s %s=%s|%s;", r->id, tide_obs_kind_name(r->kind), r->value,
            r->ncampaigns ? r->campaigns[0] : "-");
    return 0;
}

static int collect_ids(const char *id, void *payload)
{
    tide_buf *b = payload;
    tide__buf_printf(b, "%s;", id);
    return 0;
}

static void exec_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "sql: %s\n", msg ? msg : "?");
    sqlite3_free(msg);
    TIDE_ASSERT_EQ_INT(rc, SQLITE_OK);
}

/* A first load that re-makes a derived indicator in the same millisecond with other content
 * rewrites it in place: the observables of the replaced content are superseded and must not
 * reach obs_idx (they stream through the tide_bulk_obs virtual table at commit), those of
 * the new content and of the other indicators must, in key order, exactly once. */
static void t_bulk_rewrite_obs(void)
{
    char dir[700];
    snprintf(dir, sizeof(dir), "%s/bulkrw", tide_test_tmpdir());
    tide_store *s = NULL;
    s = open_at(dir);
    bool is_bulk = false;
    TIDE_ASSERT_EQ_INT(tide_store_begin_load(s, &is_bulk), 0);
    TIDE_ASSERT(is_bulk);
    tide_object_rec r = { .id = "indicator--rw", .type = "indicator",
        .modified = "2026-01-01T00:00:00.000Z", .json = "{\"v\":1}", .json_len = 7,
        .content_hash = 1, .derived = true };
    int st;
    TIDE_ASSERT_EQ_INT(tide_store_put_object(s, &r, &st), 0);
    put_ind(s, "indicator--rw", "198.51.100.1");
    put_ind_obj(s, "indicator--other", "2026-01-01T00:00:00.000Z", NULL, "feed", NULL);
    put_ind(s, "indicator--other", "198.51.100.9");
    r.content_hash = 2;
    r.json = "{\"v\":2}";
    r.source = "feed2"; /* its count moves from no source to feed2 */
    TIDE_ASSERT_EQ_INT(tide_store_put_object(s, &r, &st), 0);
    TIDE_ASSERT_EQ_INT(st, TIDE_PUT_VERSION);
    put_ind(s, "indicator--rw", "198.51.100.2");
    TIDE_ASSERT_EQ_INT(tide_store_commit(s), 0);

    tide_buf b = TIDE_BUF_INIT;
    TIDE_ASSERT_EQ_INT(tide_store_lookup(s, TIDE_OBS_IPV4, "198.51.100.1", collect_ids, &b), 0);
    TIDE_ASSERT(b.len == 0);
    TIDE_ASSERT_EQ_INT(tide_store_lookup(s, TIDE_OBS_IPV4, "198.51.100.2", collect_ids, &b), 0);
    TIDE_ASSERT_EQ_STR(b.ptr, "indicator--rw;");
    tide__buf_clear(&b);
    TIDE_ASSERT_EQ_INT(tide_store_lookup(s, TIDE_OBS_IPV4, "198.51.100.9", collect_ids, &b), 0);
    TIDE_ASSERT_EQ_STR(b.ptr, "indicator--other;");
    tide__buf_free(&b);
    TIDE_ASSERT_EQ_INT(pragma_int(s, "SELECT count(*) FROM obs_idx"), 2);
    char *js = NULL;
    TIDE_ASSERT_EQ_INT(tide_store_get(s, "indicator--rw", NULL, &js), 0);
    TIDE_ASSERT_EQ_STR(js, "{\"v\":2}");
    free(js);
    /* the named objects of a scan come from the small index, not a scan of every object */
    {
        char *sql = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", tide__store_named_nodes_sql);
        sqlite3_stmt *q = NULL;
        TIDE_ASSERT_EQ_INT(sqlite3_prepare_v2(sql_of(s)->db, sql, -1, &q, NULL), SQLITE_OK);
        sqlite3_free(sql);
        tide_buf plan = TIDE_BUF_INIT;
        while (sqlite3_step(q) == SQLITE_ROW)
            tide__buf_puts(&plan, (const char *)sqlite3_column_text(q, 3));
        sqlite3_finalize(q);
        TIDE_ASSERT(plan.ptr != NULL && strstr(plan.ptr, "USING INDEX objects_sdo") != NULL);
        tide__buf_free(&plan);
    }
    /* the counts of current objects: the rewrite moved one, nothing counted twice */
    TIDE_ASSERT_EQ_INT(pragma_int(s, "SELECT n FROM object_counts WHERE source = 'feed2'"), 1);
    TIDE_ASSERT_EQ_INT(pragma_int(s, "SELECT n FROM object_counts WHERE source = 'feed'"), 1);
    TIDE_ASSERT_EQ_INT(pragma_int(s, "SELECT sum(n) FROM object_counts"), 2);
    /* outside a bulk load the virtual table is empty */
    TIDE_ASSERT_EQ_INT(pragma_int(s, "SELECT count(*) FROM tide_bulk_obs"), 0);
    tide_store_free(s);
}

static void t_migrate_schema5(void)
{
    const char *dir = tide_test_tmpdir();
    char path[600];
    snprintf(path, sizeof(path), "%s/tide.db", dir);
    sqlite3 *db = NULL;
    TIDE_ASSERT_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    /* schema 5 as it was: migrations 1-5 with the observables table and its indexes */
    for (int v = 0; v < 5; v++)
        exec_ok(db, tide_store_migrations[v]);
    exec_ok(db, "CREATE INDEX observables_kv ON observables(kind, vkey);"
                "CREATE INDEX observables_obj ON observables(obj);"
                "PRAGMA user_version = 5;");
    const char *ids[] = { "indicator--11111111-1111-4111-8111-111111111111",
        "indicator--22222222-2222-4222-8222-222222222222",
        "indicator--33333333-3333-4333-8333-333333333333",
        "campaign--44444444-4444-4444-8444-444444444444",
        "relationship--55555555-5555-4555-8555-555555555555" };
    const char *types[] = { "indicator", "indicator", "indicator", "campaign", "relationship" };
    for (int i = 0; i < 5; i++) {
        char *sql = sqlite3_mprintf(
                "INSERT INTO objects(rowid, id, id_key, modified, type, name, source, "
                "is_current, modified_ms, ingested_at, changed_at) VALUES (%d, %Q, %lld, "
                "'2024-01-01T00:00:00.000Z', %Q, %Q, 'old', 1, 1704067200000, 1, 1);"
                "INSERT INTO bodies(obj, json) VALUES (%d, '{\"id\":\"%s\"}');",
                i + 1, ids[i], (long long)tide__store_text_key(ids[i]), types[i],
                i == 3 ? "Old Campaign" : NULL, i + 1, ids[i]);
        exec_ok(db, sql);
        sqlite3_free(sql);
    }
    for (int i = 1; i <= 3; i++) {
        char *sql = sqlite3_mprintf(
                "INSERT INTO indicators(obj, pattern, pattern_type, reliability, confidence, "
                "simple) VALUES (%d, '[x]', 'stix', 'B', 80, 1)", i);
        exec_ok(db, sql);
        sqlite3_free(sql);
    }
    /* indicator 1 names a domain, then an IP (that order is kept); 2 a URL with blanks and
     * digits in it; 3 none */
    struct { int kind; const char *value; int obj; } obs[] = {
        { TIDE_OBS_DOMAIN, "evil.example", 1 },
        { TIDE_OBS_IPV4, "198.51.100.7", 1 },
        { TIDE_OBS_URL, "http://x.example/a 12 b", 2 },
    };
    for (size_t i = 0; i < sizeof(obs) / sizeof(obs[0]); i++) {
        char *sql = sqlite3_mprintf("INSERT INTO observables(kind, value, vkey, obj) "
                                    "VALUES (%d, %Q, %lld, %d)",
                obs[i].kind, obs[i].value, (long long)tide__store_text_key(obs[i].value),
                obs[i].obj);
        exec_ok(db, sql);
        sqlite3_free(sql);
    }
    char *sql = sqlite3_mprintf("INSERT INTO refs(rel_id, rel_type, source_ref, target_ref, "
                                "source_key, target_key, obj) VALUES (%Q, 'indicates', %Q, %Q, "
                                "%lld, %lld, 5)",
            ids[4], ids[0], ids[3], (long long)tide__store_text_key(ids[0]),
            (long long)tide__store_text_key(ids[3]));
    exec_ok(db, sql);
    sqlite3_free(sql);
    sqlite3_close(db);

    tide_store *s = NULL;
    s = open_at(dir);
    TIDE_ASSERT_EQ_INT(tide_store_schema_version(s), TIDE_STORE_SCHEMA_VERSION);
    tide_buf b = TIDE_BUF_INIT;
    TIDE_ASSERT_EQ_INT(tide_store_lookup(s, TIDE_OBS_IPV4, "198.51.100.7", collect_ids, &b), 0);
    TIDE_ASSERT_EQ_STR(b.ptr, "indicator--11111111-1111-4111-8111-111111111111;");
    tide__buf_clear(&b);
    TIDE_ASSERT_EQ_INT(tide_store_indicator_observables(s, ids[0], collect_obs, &b), 0);
    TIDE_ASSERT_EQ_STR(b.ptr, "domain=evil.example;ipv4=198.51.100.7;");
    tide__buf_clear(&b);
    TIDE_ASSERT_EQ_INT(tide_store_indicator_observables(s, ids[2], collect_obs, &b), 0);
    TIDE_ASSERT(b.len == 0);
    TIDE_ASSERT_EQ_INT(tide_store_each_indicator_obs(s, NULL, collect_scan, &b), 0);
    TIDE_ASSERT_EQ_STR(b.ptr,
            "indicator--11111111-1111-4111-8111-111111111111 domain=evil.example|Old Campaign;"
            "indicator--11111111-1111-4111-8111-111111111111 ipv4=198.51.100.7|Old Campaign;"
            "indicator--22222222-2222-4222-8222-222222222222 url=http://x.example/a 12 b|-;");
    /* the selective scan (by value) gives every observable of the indicator naming it */
    tide__buf_clear(&b);
    tide_indicator_filter f = { .value = "evil.example" };
    TIDE_ASSERT_EQ_INT(tide_store_each_indicator_obs(s, &f, collect_scan, &b), 0);
    TIDE_ASSERT_EQ_STR(b.ptr,
            "indicator--11111111-1111-4111-8111-111111111111 domain=evil.example|Old Campaign;"
            "indicator--11111111-1111-4111-8111-111111111111 ipv4=198.51.100.7|Old Campaign;");
    char *stats = NULL;
    TIDE_ASSERT_EQ_INT(tide_store_stats_json(s, &stats), 0);
    json_t *st = json_loads(stats, 0, NULL);
    free(stats);
    TIDE_ASSERT(st != NULL);
    json_t *o = json_object_get(st, "observables");
    TIDE_ASSERT_EQ_INT((int)json_integer_value(json_object_get(o, "ipv4")), 1);
    TIDE_ASSERT_EQ_INT((int)json_integer_value(json_object_get(o, "url")), 1);
    TIDE_ASSERT_EQ_INT((int)json_integer_value(json_object_get(o, "domain")), 1);
    /* schema 9 counted the current objects into object_counts */
    json_t *bt = json_object_get(st, "by_type"), *bs = json_object_get(st, "by_source");
    TIDE_ASSERT_EQ_INT((int)json_integer_value(json_object_get(bt, "indicator")), 3);
    TIDE_ASSERT_EQ_INT((int)json_integer_value(json_object_get(bt, "campaign")), 1);
    TIDE_ASSERT_EQ_INT((int)json_integer_value(json_object_get(bs, "old")), 5);
    TIDE_ASSERT_EQ_INT((int)json_integer_value(json_object_get(json_object_get(st, "by_tlp"),
                               "(none)")), 5);
    json_decref(st);
    /* schema 8 moved each body into its objects row: every object reads back as stored */
    for (int i = 0; i < 5; i++) {
        char *js = NULL, want[128];
        TIDE_ASSERT_EQ_INT(tide_store_get(s, ids[i], NULL, &js), 0);
        snprintf(want, sizeof(want), "{\"id\":\"%s\"}", ids[i]);
        TIDE_ASSERT_EQ_STR(js, want);
        free(js);
    }

    /* a newer version of indicator 1 replaces its observables in the lookup index */
    TIDE_ASSERT_EQ_INT(tide_store_begin(s), 0);
    TIDE_ASSERT_EQ_INT(put(s, ids[0], "indicator", "2025-01-01T00:00:00.000Z", "{\"v\":2}"),
            TIDE_PUT_VERSION);
    tide_obs_ref nobs[] = { { TIDE_OBS_IPV4, "203.0.113.9" } };
    tide_indicator_rec ind = { .id = ids[0], .pattern = "[ipv4-addr:value = '203.0.113.9']",
        .pattern_type = "stix", .source = "unit", .reliability = 'A', .confidence = 90,
        .simple = true };
    TIDE_ASSERT_EQ_INT(tide_store_put_indicator(s, &ind, nobs, 1), 0);
    TIDE_ASSERT_EQ_INT(tide_store_commit(s), 0);
    tide__buf_clear(&b);
    TIDE_ASSERT_EQ_INT(tide_store_lookup(s, TIDE_OBS_IPV4, "198.51.100.7", collect_ids, &b), 0);
    TIDE_ASSERT(b.len == 0);
    TIDE_ASSERT_EQ_INT(tide_store_lookup(s, TIDE_OBS_DOMAIN, "evil.example", collect_ids, &b), 0);
    TIDE_ASSERT(b.len == 0);
    TIDE_ASSERT_EQ_INT(tide_store_lookup(s, TIDE_OBS_IPV4, "203.0.113.9", collect_ids, &b), 0);
    TIDE_ASSERT_EQ_STR(b.ptr, "indicator--11111111-1111-4111-8111-111111111111;");
    /* schema 7 copied the objects columns into the indicators rows */
    TIDE_ASSERT_EQ_INT(copies_off(s), 0);
    tide__buf_clear(&b);
    tide_indicator_filter fo = { .source = "old" };
    TIDE_ASSERT_EQ_INT(tide_store_each_indicator_obs(s, &fo, collect_scan, &b), 0);
    TIDE_ASSERT_EQ_STR(b.ptr,
            "indicator--22222222-2222-4222-8222-222222222222 url=http://x.example/a 12 b|-;");
    tide__buf_free(&b);
    tide_store_free(s);

    /* the old table name still reads, through the view */
    TIDE_ASSERT_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *q = NULL;
    TIDE_ASSERT_EQ_INT(sqlite3_prepare_v2(db, "SELECT count(*) FROM observables", -1, &q, NULL),
            SQLITE_OK);
    TIDE_ASSERT_EQ_INT(sqlite3_step(q), SQLITE_ROW);
    TIDE_ASSERT_EQ_INT(sqlite3_column_int(q, 0), 2);
    sqlite3_finalize(q);
    /* a row whose JSON is missing (damaged store) is an error on read, not a crash */
    exec_ok(db, "UPDATE objects SET json = NULL WHERE id = 'indicator--22222222-2222-4222-8222-"
                "222222222222'");
    sqlite3_close(db);
    s = open_at(dir);
    char *none = NULL;
    TIDE_ASSERT_EQ_INT(tide_store_get(s, ids[1], NULL, &none), TIDE_ESTORE);
    TIDE_ASSERT(none == NULL);
    TIDE_ASSERT(strstr(tide_error_last(), "no stored JSON") != NULL);
    tide_store_free(s);
}

/* Each contract test twice: on the SQLite backend and on the wrapper without faults. */
#define CONTRACT(fn)                                                                               \
    static void fn##_sqlite(void)                                                                  \
    {                                                                                              \
        on_faulty = 0;                                                                             \
        fn();                                                                                      \
    }                                                                                              \
    static void fn##_faulty(void)                                                                  \
    {                                                                                              \
        on_faulty = 1;                                                                             \
        fn();                                                                                      \
    }
#define BOTH(name, fn) { "store::" name, fn##_sqlite }, { "store_faulty::" name, fn##_faulty }

CONTRACT(t_versions)
CONTRACT(t_derived)
CONTRACT(t_indicator_relationships_search)
CONTRACT(t_rollback_and_reopen)
CONTRACT(t_warninglist_entries)
CONTRACT(t_active_intel_scan)
CONTRACT(t_open_bad_path)
CONTRACT(t_indicator_row_copies)
CONTRACT(t_indicator_record)
CONTRACT(t_migrate_schema5)
CONTRACT(t_bulk_rewrite_obs)

TIDE_TESTS = {
    BOTH("versions", t_versions),
    BOTH("derived", t_derived),
    BOTH("indicator_relationships_search", t_indicator_relationships_search),
    BOTH("rollback_and_reopen", t_rollback_and_reopen),
    BOTH("warninglist_entries", t_warninglist_entries),
    BOTH("active_intel_scan", t_active_intel_scan),
    BOTH("open_bad_path", t_open_bad_path),
    BOTH("indicator_row_copies", t_indicator_row_copies),
    BOTH("indicator_record", t_indicator_record),
    BOTH("migrate_schema5", t_migrate_schema5),
    BOTH("bulk_rewrite_obs", t_bulk_rewrite_obs),
    { NULL, NULL },
};
TIDE_TEST_MAIN
