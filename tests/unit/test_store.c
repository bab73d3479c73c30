/*
 * test_store.c - the store contract and the SQLite backend. The contract (what any backend of
 * include/tide/sys/store_backend.h does, through the public calls): versions (newest modified
 * wins, older kept), derived-object idempotence, indicator context and observables,
 * relationships both ways, search, stats, warninglists, reopening, a failed batch rolled
 * back, the front's argument checks, case / asset / export-state / sighting storage, and the
 * active-intel scan's graph walk over real bundles (ATT&CK, the OASIS reports). The SQLite
 * backend: the migration of a schema-5 store (observables in their own table) to packed
 * observables and objects columns copied into indicator rows (schema 7), kept equal by every
 * kind of put, and its bulk load; processes that open an old store at once. Each runs on the
 * SQLite backend and on the fault-injecting wrapper around it (store_faulty.h); the wrapper's
 * faults then fail puts, commits and reads in the middle of ingests and scans.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include <sqlite3.h>

#include "harness.h"
#include "store/front.h"
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

static int put(
        tide_store *s, const char *id, const char *type, const char *modified, const char *json)
{
    tide_object_rec r = { .id = id,
        .type = type,
        .modified = modified,
        .json = json,
        .json_len = strlen(json),
        .source = "unit" };
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
    TIDE_ASSERT_EQ_INT(
            put(s, id, "malware", "2017-01-27T13:49:53.936Z", "{\"v\":2}"), TIDE_PUT_NEW);
    TIDE_ASSERT_EQ_INT(
            put(s, id, "malware", "2018-02-27T13:49:53.936Z", "{\"v\":3}"), TIDE_PUT_VERSION);
    TIDE_ASSERT_EQ_INT(
            put(s, id, "malware", "2016-01-27T13:49:53.936Z", "{\"v\":1}"), TIDE_PUT_OLDER);
    /* same version again, even spelled differently, changes nothing */
    TIDE_ASSERT_EQ_INT(
            put(s, id, "malware", "2018-02-27T13:49:53.936Z", "{\"v\":3}"), TIDE_PUT_UNCHANGED);
    TIDE_ASSERT_EQ_INT(
            put(s, id, "malware", "2016-01-27T13:49:53.936Z", "{\"v\":1}"), TIDE_PUT_UNCHANGED);
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
    TIDE_ASSERT_EQ_INT(
            tide_store_get(s, "malware--00000000-0000-0000-0000-000000000000", NULL, &js),
            TIDE_ENOTFOUND);
    tide_store_free(s);
}

static void t_derived(void)
{
    tide_store *s = open_fresh();
    tide_object_rec r = { .id = "indicator--1",
        .type = "indicator",
        .modified = "2026-01-01T00:00:00.000Z",
        .json = "{}",
        .json_len = 2,
        .content_hash = 42,
        .derived = true };
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
    tide_object_rec r = { .id = ind,
        .type = "indicator",
        .modified = "2024-01-01T00:00:00Z",
        .json = "{}",
        .json_len = 2,
        .source = "feed1",
        .tlp = "amber" };
    int st;
    TIDE_ASSERT_EQ_INT(tide_store_put_object(s, &r, &st), 0);
    tide_object_rec m = { .id = mal,
        .type = "malware",
        .modified = "2024-01-01T00:00:00Z",
        .name = "TrickBot",
        .json = "{}",
        .json_len = 2,
        .source = "feed1" };
    TIDE_ASSERT_EQ_INT(tide_store_put_object(s, &m, &st), 0);
    tide_indicator_rec ir = { .id = ind,
        .pattern = "[ipv4-addr:value = '1.2.3.4']",
        .pattern_type = "stix",
        .source = "feed1",
        .reliability = 'B',
        .confidence = 80,
        .tlp = "amber",
        .simple = true };
    tide_obs_ref obs[] = { { TIDE_OBS_IPV4, "1.2.3.4" } };
    TIDE_ASSERT_EQ_INT(tide_store_put_indicator(s, &ir, obs, 1), 0);
    /* a reference must be stated by a stored object */
    TIDE_ASSERT_EQ_INT(tide_store_put_relationship(s, "relationship--c", "indicates", ind, mal),
            TIDE_ENOTFOUND);
    tide_object_rec rr = { .id = "relationship--c",
        .type = "relationship",
        .modified = "2024-01-01T00:00:00Z",
        .json = "{}",
        .json_len = 2 };
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
    tide_store *s = open_at(path);
    int v = tide_store_schema_version(s); /* optional in a backend */
    TIDE_ASSERT(v >= 1 || v == TIDE_EUNSUPPORTED);
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
    tide_object_rec r = { .id = id,
        .type = type,
        .modified = "2024-01-01T00:00:00Z",
        .name = name,
        .json = "{}",
        .json_len = 2,
        .source = "unit" };
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
    tide_indicator_rec ir = { .id = "indicator--1",
        .pattern = "[ipv4-addr:value = '1.2.3.4']",
        .pattern_type = "stix",
        .reliability = 'B',
        .confidence = 80,
        .simple = true };
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
    TIDE_ASSERT(
            strstr(seen.names,
                    "indicator--2=00112233445566778899aabbccddeeff c:0 m:0 a:0 conf:10") != NULL);
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
    TIDE_ASSERT_EQ_INT(
            sqlite3_prepare_v2(sql_of(s)->db,
                    "SELECT i.rec, o.rowid IS NOT NULL AND o.is_current, o.id, o.id_key, o.name, "
                    "o.source, o.tlp, o.changed_at, i.source, i.changed_at, i.revoked "
                    "FROM indicators i LEFT JOIN objects o ON o.rowid = i.obj",
                    -1, &q, NULL),
            SQLITE_OK);
    int off = 0, rows = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        rows++;
        tide__ind_rec r;
        TIDE_ASSERT_EQ_INT(tide__store_ind_unpack(sqlite3_column_blob(q, 0),
                                   (size_t)sqlite3_column_bytes(q, 0), &r),
                0);
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
    tide_object_rec r = { .id = id,
        .type = "indicator",
        .modified = modified,
        .name = name,
        .json = "{}",
        .json_len = 2,
        .source = source,
        .tlp = tlp };
    int st;
    TIDE_ASSERT_EQ_INT(tide_store_put_object(s, &r, &st), 0);
}

static void put_ind(tide_store *s, const char *id, const char *ip)
{
    tide_indicator_rec ir = { .id = id,
        .pattern = "[x]",
        .pattern_type = "stix",
        .reliability = 'B',
        .confidence = 50,
        .simple = true };
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
    tide__ind_rec in = { .id = "indicator--x",
        .id_key = INT64_MIN,
        .name = NULL,
        .source = "feed",
        .tlp = NULL,
        .kill_chain = "",
        .pattern = "[a:b = 'c']",
        .pattern_type = "stix",
        .reliability = "A",
        .confidence = 0,
        .confidence_null = true,
        .valid_from = -1,
        .valid_until = INT64_MAX,
        .created = 1,
        .modified = 2,
        .changed_at = 3,
        .simple = true,
        .revoked = false };
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
    tide_object_rec r = { .id = "indicator--rw",
        .type = "indicator",
        .modified = "2026-01-01T00:00:00.000Z",
        .json = "{\"v\":1}",
        .json_len = 7,
        .content_hash = 1,
        .derived = true };
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
                "simple) VALUES (%d, '[x]', 'stix', 'B', 80, 1)",
                i);
        exec_ok(db, sql);
        sqlite3_free(sql);
    }
    /* indicator 1 names a domain, then an IP (that order is kept); 2 a URL with blanks and
     * digits in it; 3 none */
    struct {
        int kind;
        const char *value;
        int obj;
    } obs[] = {
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
    TIDE_ASSERT_EQ_INT(
            (int)json_integer_value(json_object_get(json_object_get(st, "by_tlp"), "(none)")), 5);
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
    TIDE_ASSERT_EQ_INT(
            put(s, ids[0], "indicator", "2025-01-01T00:00:00.000Z", "{\"v\":2}"), TIDE_PUT_VERSION);
    tide_obs_ref nobs[] = { { TIDE_OBS_IPV4, "203.0.113.9" } };
    tide_indicator_rec ind = { .id = ids[0],
        .pattern = "[ipv4-addr:value = '203.0.113.9']",
        .pattern_type = "stix",
        .source = "unit",
        .reliability = 'A',
        .confidence = 90,
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
    TIDE_ASSERT_EQ_INT(
            sqlite3_prepare_v2(db, "SELECT count(*) FROM observables", -1, &q, NULL), SQLITE_OK);
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

/* Processes that open an old store at once all succeed: each migration takes the write lock
 * first and reads the schema version again under it, so one process migrates and the others
 * find it done (before, the others failed with "migration to schema 6 failed: ... already
 * exists"). Four children open a schema-5 store together, then one more process adds an
 * object and reads the tally. */
static void t_migrate_race(void)
{
    const char *dir = tide_test_tmpdir();
    char path[600];
    snprintf(path, sizeof(path), "%s/tide.db", dir);
    sqlite3 *db = NULL;
    TIDE_ASSERT_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    exec_ok(db, "PRAGMA journal_mode = WAL");
    for (int v = 0; v < 5; v++)
        exec_ok(db, tide_store_migrations[v]);
    exec_ok(db, "CREATE INDEX observables_kv ON observables(kind, vkey);"
                "CREATE INDEX observables_obj ON observables(obj);"
                "PRAGMA user_version = 5;");
    sqlite3_close(db);
    enum {
        NPROC = 4
    };
    pid_t kids[NPROC];
    for (int i = 0; i < NPROC; i++) {
        kids[i] = fork();
        TIDE_ASSERT(kids[i] >= 0);
        if (kids[i] == 0) {
            tide_store *s = NULL;
            int rc = tide_store_open(&s, dir);
            if (rc < 0)
                fprintf(stderr, "child %d: %s\n", i, tide_error_last());
            rc = rc == 0 && tide_store_schema_version(s) == TIDE_STORE_SCHEMA_VERSION ? 0 : 1;
            tide_store_free(s);
            _exit(rc);
        }
    }
    int failed = 0;
    for (int i = 0; i < NPROC; i++) {
        int status = 0;
        TIDE_ASSERT(waitpid(kids[i], &status, 0) == kids[i]);
        failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    }
    TIDE_ASSERT_EQ_INT(failed, 0);
    tide_store *s = open_at(dir);
    TIDE_ASSERT_EQ_INT(tide_store_schema_version(s), TIDE_STORE_SCHEMA_VERSION);
    put_simple(s, "campaign--44444444-4444-4444-8444-444444444444", "campaign", "Race");
    char *stats = NULL;
    TIDE_ASSERT_EQ_INT(tide_store_stats_json(s, &stats), 0);
    TIDE_ASSERT(strstr(stats, "\"campaign\": 1") != NULL);
    free(stats);
    tide_store_free(s);
}

/* tide_error_set may format the message before it (tide_error_last()) into the new one */
static void t_error_wraps_last(void)
{
    tide_error_set(TIDE_ESTORE, "database or disk is full");
    tide_error_set(TIDE_ESTORE, "migration to schema %d failed: %s", 6, tide_error_last());
    TIDE_ASSERT_EQ_STR(tide_error_last(), "migration to schema 6 failed: database or disk is full");
}

/* ---- the store contract: what every backend does, seen through the public calls ---- */

/* Calls with a missing store, record or required string are refused by the front, whatever
 * the backend, and leave nothing behind. */
static void t_front_args(void)
{
    tide_store *s = open_fresh();
    char *js = (char *)"x";
    int st = -1;
    int64_t g = 7;
    TIDE_ASSERT_EQ_INT(tide_store_get(NULL, "a--1", NULL, &js), TIDE_EINVAL);
    TIDE_ASSERT(js == NULL);
    TIDE_ASSERT_EQ_INT(tide_store_get(s, NULL, NULL, &js), TIDE_EINVAL);
    TIDE_ASSERT_EQ_INT(tide_store_begin(NULL), TIDE_EINVAL);
    TIDE_ASSERT_EQ_INT(tide_store_intel_generation(NULL, &g), TIDE_EINVAL);
    TIDE_ASSERT(strstr(tide_error_last(), "no store") != NULL);
    tide_object_rec r = { .id = "tool--1", .type = NULL, .json = "{}", .json_len = 2 };
    TIDE_ASSERT_EQ_INT(tide_store_put_object(s, &r, &st), TIDE_EINVAL);
    TIDE_ASSERT_EQ_INT(tide_store_put_object(s, NULL, &st), TIDE_EINVAL);
    tide_indicator_rec ir = { .id = NULL };
    TIDE_ASSERT_EQ_INT(tide_store_put_indicator(s, &ir, NULL, 0), TIDE_EINVAL);
    ir.id = "indicator--1";
    tide_obs_ref bad[] = { { TIDE_OBS_IPV4, NULL } };
    TIDE_ASSERT_EQ_INT(tide_store_put_indicator(s, &ir, bad, 1), TIDE_EINVAL);
    TIDE_ASSERT_EQ_INT(
            tide_store_put_relationship(s, "relationship--1", NULL, "a", "b"), TIDE_EINVAL);
    TIDE_ASSERT_EQ_INT(tide_store_search(s, NULL, hit_cb, &st), TIDE_EINVAL);
    TIDE_ASSERT_EQ_INT(tide_store_each_indicator_obs(s, NULL, NULL, NULL), TIDE_EINVAL);
    const char *vals[] = { NULL };
    TIDE_ASSERT_EQ_INT(tide_store_put_warninglist(s, "w", "string", "d", vals, 1), TIDE_EINVAL);
    tide_asset a = { .host = "" };
    TIDE_ASSERT_EQ_INT(tide_store_put_asset(s, &a), TIDE_EINVAL);
    TIDE_ASSERT_EQ_INT(tide_store_export_state_put(s, "k", "rpz", 1, NULL, 3), TIDE_EINVAL);
    TIDE_ASSERT_EQ_INT(tide_store_put_sightings(s, NULL, 0), 0);
    TIDE_ASSERT_EQ_INT(tide_store_put_sightings(s, NULL, 1), TIDE_EINVAL);
    bool bulk = true;
    TIDE_ASSERT_EQ_INT(tide_store_begin_load(s, NULL), TIDE_EINVAL);
    TIDE_ASSERT_EQ_INT(tide_store_begin_load(NULL, &bulk), TIDE_EINVAL);
    TIDE_ASSERT(!bulk);
    tide_store_prefetch_id(NULL, "x"); /* a hint: nothing to refuse */
    tide_store_prefetch_id(s, NULL);
    TIDE_ASSERT(tide_store_db_path(NULL) == NULL);
    /* nothing was stored, and the store works */
    TIDE_ASSERT_EQ_INT(tide_store_intel_generation(s, &g), 0);
    char *stats = NULL;
    TIDE_ASSERT_EQ_INT(tide_store_stats_json(s, &stats), 0);
    json_t *j = json_loads(stats, 0, NULL);
    free(stats);
    TIDE_ASSERT_EQ_INT(json_integer_value(json_object_get(j, "objects")), 0);
    json_decref(j);
    /* a transaction misuse is the backend's TIDE_EINVAL */
    TIDE_ASSERT_EQ_INT(tide_store_commit(s), TIDE_EINVAL);
    TIDE_ASSERT_EQ_INT(tide_store_begin(s), 0);
    TIDE_ASSERT_EQ_INT(tide_store_begin(s), TIDE_EINVAL);
    TIDE_ASSERT_EQ_INT(tide_store_rollback(s), 0);
    TIDE_ASSERT_EQ_INT(tide_store_rollback(s), 0);
    tide_store_free(s);
}

typedef struct {
    tide_buf b;
    int n;
} text;

static int case_cb(const tide_store_case *c, void *payload)
{
    text *t = payload;
    t->n++;
    tide__buf_printf(&t->b, "%lld %s %lld %lld %lld %s %s %s %s %s %s", (long long)c->id, c->status,
            (long long)c->tier, (long long)c->opened_at, (long long)c->updated_at,
            c->closed_at == TIDE_STORE_NULL ? "-" : "closed", c->seed_host, c->seed_indicator,
            c->tlp ? c->tlp : "-", c->doc, c->lessons ? c->lessons : "-");
    return 0;
}

static int case_id_cb(int64_t id, void *payload)
{
    text *t = payload;
    tide__buf_printf(&t->b, "%lld;", (long long)id);
    return 0;
}

static int host_cb(const tide_store_case_host *h, void *payload)
{
    text *t = payload;
    tide__buf_printf(&t->b, "%s %s %s %lld %s %lld %s;", h->host, h->status, h->state,
            (long long)h->state_at, h->recovered_at == TIDE_STORE_NULL ? "-" : "rec",
            (long long)h->relapses, h->first_seen == TIDE_STORE_NULL ? "-" : "seen");
    return 0;
}

static int str_cb(const char *v, void *payload)
{
    text *t = payload;
    tide__buf_printf(&t->b, "%s;", v);
    return 0;
}

static int event_cb(const tide_store_case_event *ev, void *payload)
{
    text *t = payload;
    tide__buf_printf(&t->b, "%lld %s %s %s %s;", (long long)ev->at, ev->kind,
            ev->host ? ev->host : "-", ev->actor ? ev->actor : "-", ev->text);
    return 0;
}

static int sighting_cb(const tide_sighting_rec *r, void *payload)
{
    *(tide_sighting_rec *)payload = *r;
    ((tide_sighting_rec *)payload)->host = NULL; /* borrowed: not kept */
    ((tide_sighting_rec *)payload)->indicator_id = NULL;
    ((tide_sighting_rec *)payload)->indicator = NULL;
    ((tide_sighting_rec *)payload)->observed = NULL;
    ((tide_sighting_rec *)payload)->field = NULL;
    ((tide_sighting_rec *)payload)->file = NULL;
    return 0;
}

/* Case storage: rows in plain C (no jansson below src/cases), NULL integers as
 * TIDE_STORE_NULL, updates in place, listings in their order; a sighting by id; the
 * indicator counts of the metrics. */
static void t_case_rows(void)
{
    tide_store *s = open_fresh();
    tide_store_case c = { .status = "open",
        .tier = 2,
        .opened_at = 100,
        .updated_at = 100,
        .closed_at = TIDE_STORE_NULL,
        .seed_host = "h1",
        .seed_indicator = "indicator--1",
        .tlp = NULL,
        .doc = "{\"a\":1}",
        .lessons = NULL };
    int64_t id1 = 0, id2 = 0;
    TIDE_ASSERT_EQ_INT(tide__store_case_put(s, &c, &id1), 0);
    TIDE_ASSERT_EQ_INT(tide__store_case_put(s, &c, &id2), 0);
    TIDE_ASSERT(id1 > 0 && id2 > id1);
    text t = { TIDE_BUF_INIT, 0 };
    TIDE_ASSERT_EQ_INT(tide__store_case_get(s, id1, case_cb, &t), 0);
    TIDE_ASSERT_EQ_INT(t.n, 1);
    char want[256];
    snprintf(want, sizeof(want), "%lld open 2 100 100 - h1 indicator--1 - {\"a\":1} -",
            (long long)id1);
    TIDE_ASSERT_EQ_STR(t.b.ptr, want);
    /* an update of the first: closed, with lessons and a TLP */
    c.id = id1;
    c.status = "closed";
    c.closed_at = 200;
    c.tlp = "amber";
    c.lessons = "{\"l\":true}";
    int64_t same = 0;
    TIDE_ASSERT_EQ_INT(tide__store_case_put(s, &c, &same), 0);
    TIDE_ASSERT_EQ_INT(same, id1);
    tide__buf_clear(&t.b);
    TIDE_ASSERT_EQ_INT(tide__store_case_get(s, id1, case_cb, &t), 0);
    snprintf(want, sizeof(want),
            "%lld closed 2 100 100 closed h1 indicator--1 amber {\"a\":1} "
            "{\"l\":true}",
            (long long)id1);
    TIDE_ASSERT_EQ_STR(t.b.ptr, want);
    TIDE_ASSERT_EQ_INT(tide__store_case_get(s, id2 + 100, case_cb, &t), TIDE_ENOTFOUND);
    TIDE_ASSERT(strstr(tide_error_last(), "no case") != NULL);
    tide__buf_clear(&t.b);
    TIDE_ASSERT_EQ_INT(tide__store_case_ids(s, case_id_cb, &t), 0);
    snprintf(want, sizeof(want), "%lld;%lld;", (long long)id1, (long long)id2);
    TIDE_ASSERT_EQ_STR(t.b.ptr, want);

    /* hosts, replaced by host, listed by host */
    tide_store_case_host h = { .host = "h2",
        .status = "silent",
        .state = "affected",
        .state_at = 5,
        .recovered_at = TIDE_STORE_NULL,
        .relapses = 0,
        .first_seen = TIDE_STORE_NULL,
        .last_seen = TIDE_STORE_NULL };
    TIDE_ASSERT_EQ_INT(tide__store_case_host_put(s, id2, &h), 0);
    h.host = "h1";
    h.status = "alerted";
    h.first_seen = h.last_seen = 7;
    TIDE_ASSERT_EQ_INT(tide__store_case_host_put(s, id2, &h), 0);
    h.state = "recovered";
    h.recovered_at = 9;
    h.relapses = 1;
    TIDE_ASSERT_EQ_INT(tide__store_case_host_put(s, id2, &h), 0);
    tide__buf_clear(&t.b);
    TIDE_ASSERT_EQ_INT(tide__store_case_hosts(s, id2, host_cb, &t), 0);
    TIDE_ASSERT_EQ_STR(t.b.ptr, "h1 alerted recovered 5 rec 1 seen;h2 silent affected 5 - 0 -;");
    /* indicators: kept once, ascending */
    const char *ids[] = { "indicator--b", "indicator--a", "indicator--b" };
    TIDE_ASSERT_EQ_INT(tide__store_case_indicators_add(s, id2, ids, 3), 0);
    TIDE_ASSERT_EQ_INT(tide__store_case_indicators_add(s, id2, ids, 1), 0);
    tide__buf_clear(&t.b);
    TIDE_ASSERT_EQ_INT(tide__store_case_indicators(s, id2, str_cb, &t), 0);
    TIDE_ASSERT_EQ_STR(t.b.ptr, "indicator--a;indicator--b;");
    /* the open case covering a host and one of its indicators */
    int64_t cov = -1;
    TIDE_ASSERT_EQ_INT(tide__store_case_find_covering(s, "h1", "indicator--a", &cov), 0);
    TIDE_ASSERT_EQ_INT(cov, id2);
    TIDE_ASSERT_EQ_INT(tide__store_case_find_covering(s, "h3", "indicator--a", &cov), 0);
    TIDE_ASSERT_EQ_INT(cov, 0);
    /* the timeline, in the order added */
    tide_store_case_event e1 = { 10, "opened", "h1", NULL, "opened on h1" };
    tide_store_case_event e2 = { 5, "note", NULL, "alice", "earlier time, later event" };
    TIDE_ASSERT_EQ_INT(tide__store_case_event_add(s, id2, &e1), 0);
    TIDE_ASSERT_EQ_INT(tide__store_case_event_add(s, id2, &e2), 0);
    tide__buf_clear(&t.b);
    TIDE_ASSERT_EQ_INT(tide__store_case_events(s, id2, event_cb, &t), 0);
    TIDE_ASSERT_EQ_STR(
            t.b.ptr, "10 opened h1 - opened on h1;5 note - alice earlier time, later event;");
    tide__buf_free(&t.b);

    /* a sighting by the id the listing gives it */
    tide_sighting_rec sr = { .host = "h1",
        .indicator_id = "indicator--a",
        .indicator = "192.0.2.1",
        .kind = TIDE_OBS_IPV4,
        .observed = "192.0.2.1",
        .first_seen = 1,
        .last_seen = 2,
        .live_count = 3 };
    TIDE_ASSERT_EQ_INT(tide_store_put_sightings(s, &sr, 1), 0);
    tide_sighting_rec got;
    memset(&got, 0, sizeof(got));
    TIDE_ASSERT_EQ_INT(tide_store_sightings(s, NULL, sighting_cb, &got), 0);
    TIDE_ASSERT(got.id > 0);
    char *host = NULL, *ind = NULL;
    TIDE_ASSERT_EQ_INT(tide__sighting_by_id(s, got.id, &host, &ind), 0);
    TIDE_ASSERT_EQ_STR(host, "h1");
    TIDE_ASSERT_EQ_STR(ind, "indicator--a");
    free(host);
    free(ind);
    TIDE_ASSERT_EQ_INT(tide__sighting_by_id(s, got.id + 1, &host, &ind), TIDE_ENOTFOUND);
    TIDE_ASSERT(host == NULL && ind == NULL);

    /* indicators by whether their source is "internal" */
    tide_object_rec r1 = { .id = "indicator--in",
        .type = "indicator",
        .modified = "2024-01-01T00:00:00Z",
        .json = "{}",
        .json_len = 2,
        .source = "internal" };
    tide_object_rec r2 = { .id = "indicator--ex",
        .type = "indicator",
        .modified = "2024-01-01T00:00:00Z",
        .json = "{}",
        .json_len = 2,
        .source = "feed" };
    tide_object_rec r3 = { .id = "indicator--ex2",
        .type = "indicator",
        .modified = "2024-01-01T00:00:00Z",
        .json = "{}",
        .json_len = 2 };
    int st;
    TIDE_ASSERT_EQ_INT(tide_store_put_object(s, &r1, &st), 0);
    TIDE_ASSERT_EQ_INT(tide_store_put_object(s, &r2, &st), 0);
    TIDE_ASSERT_EQ_INT(tide_store_put_object(s, &r3, &st), 0);
    int64_t in = -1, ex = -1;
    TIDE_ASSERT_EQ_INT(tide__indicator_source_counts(s, &in, &ex), 0);
    TIDE_ASSERT_EQ_INT(in, 1);
    TIDE_ASSERT_EQ_INT(ex, 2);
    tide_store_free(s);
}

static int asset_cb(const tide_asset *a, void *payload)
{
    text *t = payload;
    tide__buf_printf(&t->b, "%s %s %s", a->host, a->owner ? a->owner : "-",
            a->criticality ? a->criticality : "-");
    for (size_t i = 0; i < a->nips; i++)
        tide__buf_printf(&t->b, " %s", a->ips[i]);
    for (size_t i = 0; i < a->nsoftware; i++)
        tide__buf_printf(&t->b, " %s=%s", a->software[i].name, a->software[i].version);
    tide__buf_puts(&t->b, ";");
    return 0;
}

static int sightings_text_cb(const tide_sighting_rec *r, void *payload)
{
    text *t = payload;
    tide__buf_printf(&t->b, "%s %s %s %lld-%lld live %lld retro %lld %s:%lld;", r->host,
            r->indicator_id, r->observed, (long long)r->first_seen, (long long)r->last_seen,
            (long long)r->live_count, (long long)r->retro_count, r->file ? r->file : "-",
            (long long)r->line);
    return 0;
}

/* Assets (replaced by host), export state (ENOTFOUND, then what was put, bytes as given),
 * and sightings merged as sightings.h says. */
static void t_assets_exports_sightings(void)
{
    tide_store *s = open_fresh();
    const char *ips[] = { "10.0.0.2", "10.0.0.1" };
    tide_asset_software sw[] = { { "openssl", "3.0" }, { "curl", "" } };
    tide_asset a = { .host = "web1",
        .owner = "ops",
        .criticality = "high",
        .ips = ips,
        .nips = 2,
        .software = sw,
        .nsoftware = 2 };
    TIDE_ASSERT_EQ_INT(tide_store_put_asset(s, &a), 0);
    tide_asset b = { .host = "db1", .ips = ips, .nips = 1 };
    TIDE_ASSERT_EQ_INT(tide_store_put_asset(s, &b), 0);
    a.nips = 1;
    a.nsoftware = 1;
    a.owner = NULL;
    TIDE_ASSERT_EQ_INT(tide_store_put_asset(s, &a), 0); /* replaces web1 whole */
    text t = { TIDE_BUF_INIT, 0 };
    TIDE_ASSERT_EQ_INT(tide_store_each_asset(s, asset_cb, &t), 0);
    TIDE_ASSERT_EQ_STR(t.b.ptr, "db1 - - 10.0.0.2;web1 - high 10.0.0.2 openssl=3.0;");

    int64_t serial = -1;
    char *entries = (char *)"x";
    size_t len = 9;
    TIDE_ASSERT_EQ_INT(
            tide_store_export_state_get(s, "rpz:/tmp/x", &serial, &entries, &len), TIDE_ENOTFOUND);
    TIDE_ASSERT(entries == NULL && serial == 0 && len == 0);
    TIDE_ASSERT_EQ_INT(tide_store_export_state_put(s, "rpz:/tmp/x", "rpz", 41, "a\nb\0c", 5), 0);
    TIDE_ASSERT_EQ_INT(tide_store_export_state_put(s, "rpz:/tmp/x", "rpz", 42, "a\nb\nc", 5), 0);
    TIDE_ASSERT_EQ_INT(tide_store_export_state_get(s, "rpz:/tmp/x", &serial, &entries, &len), 0);
    TIDE_ASSERT_EQ_INT(serial, 42);
    TIDE_ASSERT_EQ_INT(len, 5);
    TIDE_ASSERT(memcmp(entries, "a\nb\nc", 6) == 0);
    free(entries);

    tide_sighting_rec r[] = {
        { .host = "web1",
                .indicator_id = "indicator--a",
                .indicator = "192.0.2.1",
                .kind = TIDE_OBS_IPV4,
                .observed = "192.0.2.1",
                .file = "late.log",
                .line = 9,
                .first_seen = 50,
                .last_seen = 60,
                .live_count = 2 },
        { .host = "web1",
                .indicator_id = "indicator--a",
                .indicator = "192.0.2.1",
                .kind = TIDE_OBS_IPV4,
                .observed = "192.0.2.1",
                .file = "early.log",
                .line = 3,
                .first_seen = 10,
                .last_seen = 20,
                .live_count = 1,
                .retro_count = 4 },
        { .host = "db1",
                .indicator_id = "indicator--b",
                .indicator = "evil.example",
                .kind = TIDE_OBS_DOMAIN,
                .observed = "www.evil.example",
                .first_seen = 70,
                .last_seen = 80,
                .retro_count = 2 },
    };
    TIDE_ASSERT_EQ_INT(tide_store_put_sightings(s, r, 2), 0);
    TIDE_ASSERT_EQ_INT(tide_store_put_sightings(s, r + 2, 1), 0);
    r[1].retro_count = 3; /* a lower retro count does not lower it */
    TIDE_ASSERT_EQ_INT(tide_store_put_sightings(s, r + 1, 1), 0);
    tide__buf_clear(&t.b);
    TIDE_ASSERT_EQ_INT(tide_store_sightings(s, NULL, sightings_text_cb, &t), 0);
    TIDE_ASSERT_EQ_STR(t.b.ptr, "db1 indicator--b www.evil.example 70-80 live 0 retro 2 -:0;"
                                "web1 indicator--a 192.0.2.1 10-60 live 4 retro 4 early.log:3;");
    tide__buf_clear(&t.b);
    tide_sighting_query q = { .host = "web1" };
    TIDE_ASSERT_EQ_INT(tide_store_sightings(s, &q, sightings_text_cb, &t), 0);
    TIDE_ASSERT(strstr(t.b.ptr, "db1") == NULL && strstr(t.b.ptr, "web1") != NULL);
    tide__buf_free(&t.b);
    tide_store_free(s);
}

/* ---- real bundles: the graph walk over MITRE ATT&CK and the OASIS threat reports ---- */

static const char *data_file(char *buf, size_t n, const char *rel)
{
    snprintf(buf, n, "%s/%s", tide_test_data(), rel);
    return buf;
}

#define ATTACK_ICS "attack/ics-attack-18.1.json"
#define APT1       "stix21/cti-stix2-json-schemas/examples/threat-reports/apt1.json"
#define POISONIVY  "stix21/cti-stix2-json-schemas/examples/threat-reports/poisonivy.json"

static void ingest_ok(tide_store *s, const char *rel, long batch, tide_ingest_stats *st)
{
    char path[1024];
    tide_ingest_opts o = { .confidence = -1, .batch = batch };
    tide_ingest_stats dummy;
    memset(&dummy, 0, sizeof(dummy));
    int rc = tide_ingest_path(
            s, data_file(path, sizeof(path), rel), TIDE_FMT_STIX, &o, st ? st : &dummy, NULL, NULL);
    if (rc != 0)
        fprintf(stderr, "ingest %s: %s\n", rel, tide_error_last());
    TIDE_ASSERT_EQ_INT(rc, 0);
}

static void put_names(tide_buf *b, const char *tag, const char *const *v, size_t n)
{
    tide__buf_puts(b, tag);
    for (size_t i = 0; i < n; i++)
        tide__buf_printf(b, "%s%s", i ? "," : "", v[i]);
}

/* One scan record as text, but its changed_at (a time of this run). */
static int scan_text_cb(const tide_indicator_obs *r, void *payload)
{
    text *t = payload;
    t->n++;
    tide__buf_printf(&t->b,
            "%s %d:%s n=%s s=%s t=%s k=%s p=%s/%s r=%c c=%d %lld %lld %lld %lld "
            "%d%d",
            r->id, (int)r->kind, r->value, r->name ? r->name : "-", r->source ? r->source : "-",
            r->tlp ? r->tlp : "-", r->kill_chain ? r->kill_chain : "-", r->pattern, r->pattern_type,
            r->reliability ? r->reliability : '-', r->confidence, (long long)r->valid_from,
            (long long)r->valid_until, (long long)r->created, (long long)r->modified, r->simple,
            r->revoked);
    put_names(&t->b, " C=", r->campaigns, r->ncampaigns);
    put_names(&t->b, " M=", r->malware, r->nmalware);
    put_names(&t->b, " A=", r->actors, r->nactors);
    tide__buf_putc(&t->b, '\n');
    return 0;
}

static int search_text_cb(const tide_search_hit *h, void *payload)
{
    text *t = payload;
    t->n++;
    tide__buf_printf(&t->b, "%s %s %s %s %s %s\n", h->id, h->type, h->name ? h->name : "-",
            h->modified, h->source ? h->source : "-", h->tlp ? h->tlp : "-");
    return 0;
}

/* What a store holds, as text free of rowids and times: every current object, every
 * record of the active-intel scan (with its names), the stats. */
static void dump_store(tide_store *s, tide_buf *out)
{
    text t = { TIDE_BUF_INIT, 0 };
    tide_search_query q = { 0 };
    TIDE_ASSERT_EQ_INT(tide_store_search(s, &q, search_text_cb, &t), 0);
    tide__buf_puts(&t.b, "--\n");
    tide_indicator_filter f = { .include_revoked = true };
    TIDE_ASSERT_EQ_INT(tide_store_each_indicator_obs(s, &f, scan_text_cb, &t), 0);
    tide__buf_puts(&t.b, "--\n");
    char *stats = NULL;
    TIDE_ASSERT_EQ_INT(tide_store_stats_json(s, &stats), 0);
    tide__buf_puts(&t.b, stats);
    free(stats);
    tide__buf_clear(out);
    tide__buf_put(out, t.b.ptr, t.b.len);
    tide__buf_free(&t.b);
}

/* The reference: the three bundles ingested into a plain SQLite store (ATT&CK as a first
 * load, the reports as batches), dumped. */
static void reference_dump(tide_buf *out)
{
    char dir[700];
    snprintf(dir, sizeof(dir), "%s/reference", tide_test_tmpdir());
    tide_store *s = NULL;
    TIDE_ASSERT_EQ_INT(tide_store_open(&s, dir), 0);
    ingest_ok(s, ATTACK_ICS, 0, NULL);
    ingest_ok(s, APT1, 0, NULL);
    ingest_ok(s, POISONIVY, 0, NULL);
    dump_store(s, out);
    tide_store_free(s);
}

typedef struct {
    tide_store *s;
    text sel; /* the records of the selective scans */
    char last[128];
} by_value;

/* For each indicator of the full scan (its first record), the selective scan by its id. */
static int select_each(const tide_indicator_obs *r, void *payload)
{
    by_value *bv = payload;
    if (strcmp(bv->last, r->id) == 0)
        return 0;
    snprintf(bv->last, sizeof(bv->last), "%s", r->id);
    tide_indicator_filter f = { .value = r->id, .include_revoked = true };
    TIDE_ASSERT_EQ_INT(tide_store_each_indicator_obs(bv->s, &f, scan_text_cb, &bv->sel), 0);
    return 0;
}

/* The walk over real intel: the reports' indicators get their campaign / malware / actor names
 * (two hops), the selective scan (names per indicator from node / edges_of) gives exactly the
 * graph's records, the related filter picks by name, and the store is the same on either
 * backend. */
static void t_real_bundles(void)
{
    tide_buf ref = TIDE_BUF_INIT;
    reference_dump(&ref);
    tide_store *s = open_fresh();
    ingest_ok(s, ATTACK_ICS, 0, NULL);
    ingest_ok(s, APT1, 0, NULL);
    ingest_ok(s, POISONIVY, 0, NULL);
    tide_buf got = TIDE_BUF_INIT;
    dump_store(s, &got);
    TIDE_ASSERT_EQ_STR(got.ptr, ref.ptr);

    text all = { TIDE_BUF_INIT, 0 };
    tide_indicator_filter f = { .include_revoked = true };
    TIDE_ASSERT_EQ_INT(tide_store_each_indicator_obs(s, &f, scan_text_cb, &all), 0);
    TIDE_ASSERT(all.n >= 37); /* 12 + 25 indicators, some with several observables */
    /* poisonivy: indicators indicate a campaign and the malware it uses; apt1: indicators
     * indicate a threat actor, to which the intrusion set is attributed (the second hop) */
    TIDE_ASSERT(strstr(all.b.ptr, " C=menuPass M=PIVY Variant (") != NULL);
    TIDE_ASSERT(strstr(all.b.ptr, " A=Ugly Gorilla,APT1\n") != NULL);

    by_value bv = { s, { TIDE_BUF_INIT, 0 }, "" };
    TIDE_ASSERT_EQ_INT(tide_store_each_indicator_obs(s, &f, select_each, &bv), 0);
    TIDE_ASSERT_EQ_INT(bv.sel.n, all.n);
    TIDE_ASSERT_EQ_STR(bv.sel.b.ptr, all.b.ptr);

    /* the related filter, case-insensitive, against the names the walk found */
    text rel = { TIDE_BUF_INIT, 0 };
    tide_indicator_filter fr = { .related = "apt1", .include_revoked = true };
    TIDE_ASSERT_EQ_INT(tide_store_each_indicator_obs(s, &fr, scan_text_cb, &rel), 0);
    TIDE_ASSERT(rel.n > 0 && rel.n < all.n);
    for (char *line = rel.b.ptr; line && *line; line = strchr(line, '\n') + 1)
        TIDE_ASSERT(strstr(line, "APT1") != NULL && strchr(line, '\n') != NULL);
    tide__buf_free(&rel.b);
    tide__buf_free(&all.b);
    tide__buf_free(&bv.sel.b);
    tide__buf_free(&got);
    tide__buf_free(&ref);
    tide_store_free(s);
}

typedef struct {
    int64_t key;
    int nodes, edges, typed;
    char name[64];
} one_key;

static int one_node(const tide_store_node *n, void *payload)
{
    one_key *k = payload;
    k->nodes++;
    TIDE_ASSERT(n->key == k->key);
    snprintf(k->name, sizeof(k->name), "%s", n->name ? n->name : "");
    return 0;
}

static int one_edge(const tide_store_edge *e, void *payload)
{
    one_key *k = payload;
    k->edges++;
    TIDE_ASSERT(e->source_key == k->key || e->target_key == k->key);
    k->typed += e->rel_type != NULL && strcmp(e->rel_type, "uses") == 0;
    return 0;
}

static int row_key(const tide_store_scan_row *row, void *payload)
{
    one_key *k = payload;
    k->nodes++;
    k->key = row->key;
    TIDE_ASSERT_EQ_INT(row->nobs, 1);
    TIDE_ASSERT_EQ_STR(row->obs[0].value, "192.0.2.1");
    TIDE_ASSERT_EQ_STR(row->ind.id, "indicator--1");
    TIDE_ASSERT(row->ind.ncampaigns == 0 && row->ind.value == NULL); /* the front's part */
    return 0;
}

static int other_end(const tide_store_edge *e, void *payload)
{
    one_key *k = payload;
    k->edges++;
    k->typed += e->rel_type != NULL && strcmp(e->rel_type, "indicates") == 0;
    k->key = e->source_key == k->key ? e->target_key : e->source_key;
    return 0;
}

static int count_node(const tide_store_node *n, void *payload)
{
    (void)n;
    ((one_key *)payload)->nodes++;
    return 0;
}

static int count_edge(const tide_store_edge *e, void *payload)
{
    (void)e;
    ((one_key *)payload)->edges++;
    return 0;
}

/* The backend's side of the walk, asked directly: the graph in bulk and one key's node and
 * edges (with their type), on a small graph whose keys come from a scan row. */
static void t_backend_graph(void)
{
    tide_store *s = open_fresh();
    TIDE_ASSERT_EQ_INT(tide_store_begin(s), 0);
    put_simple(s, "campaign--c", "campaign", "Op Cold");
    put_simple(s, "malware--m", "malware", "TrickBot");
    put_simple(s, "malware--nameless", "malware", NULL);
    put_simple(s, "indicator--1", "indicator", NULL);
    put_ind(s, "indicator--1", "192.0.2.1");
    relate(s, "relationship--1", "indicates", "indicator--1", "campaign--c");
    relate(s, "relationship--2", "uses", "campaign--c", "malware--m");
    relate(s, "relationship--3", "uses", "campaign--c", "malware--nameless");
    TIDE_ASSERT_EQ_INT(tide_store_commit(s), 0);
    tide_store_backend *be = tide__store_backend(s);
    one_key all = { 0 };
    TIDE_ASSERT_EQ_INT(be->graph(be, count_node, count_edge, &all), 0);
    TIDE_ASSERT_EQ_INT(all.nodes, 3); /* the nameless one too: the walk skips it */
    TIDE_ASSERT_EQ_INT(all.edges, 3);
    /* the keys as the backend chose them: the indicator's from its scan row, the campaign's
     * from the indicator's one edge */
    one_key ik = { 0 };
    TIDE_ASSERT_EQ_INT(be->scan(be, NULL, false, row_key, &ik), 0);
    TIDE_ASSERT_EQ_INT(ik.nodes, 1);
    one_key ck = { 0 };
    ck.key = ik.key;
    TIDE_ASSERT_EQ_INT(be->edges_of(be, ik.key, other_end, &ck), 0);
    TIDE_ASSERT_EQ_INT(ck.edges, 1);
    TIDE_ASSERT_EQ_INT(ck.typed, 1);
    ck.edges = ck.typed = 0;
    TIDE_ASSERT_EQ_INT(be->node(be, ck.key, one_node, &ck), 0);
    TIDE_ASSERT_EQ_INT(ck.nodes, 1);
    TIDE_ASSERT_EQ_STR(ck.name, "Op Cold");
    TIDE_ASSERT_EQ_INT(be->edges_of(be, ck.key, one_edge, &ck), 0);
    TIDE_ASSERT_EQ_INT(ck.edges, 3);
    TIDE_ASSERT_EQ_INT(ck.typed, 2);
    one_key none = { 0 };
    TIDE_ASSERT_EQ_INT(be->node(be, ik.key, count_node, &none), 0);
    TIDE_ASSERT_EQ_INT(none.nodes, 0); /* an indicator is no named object */
    /* the walk skips the nameless malware */
    text t = { TIDE_BUF_INIT, 0 };
    TIDE_ASSERT_EQ_INT(tide_store_each_indicator_obs(s, NULL, scan_text_cb, &t), 0);
    TIDE_ASSERT(strstr(t.b.ptr, " C=Op Cold M=TrickBot A=\n") != NULL);
    tide__buf_free(&t.b);
    tide_store_free(s);
}

/* ---- faults: the wrapper fails a chosen call (tests named store_faulty::fault_*) ---- */

static tide_store *open_faulty(const char *dir, tide_store_backend **out_fb)
{
    tide_store_backend *sq = NULL, *fb = NULL;
    TIDE_ASSERT_EQ_INT(tide_store_backend_sqlite(&sq, dir), 0);
    TIDE_ASSERT_EQ_INT(tide__store_faulty_new(&fb, sq), 0);
    tide_store *s = NULL;
    TIDE_ASSERT_EQ_INT(tide_store_open_backend(&s, fb), 0);
    *out_fb = fb;
    return s;
}

/* Ingest rel with the nth call of op failing: the store error comes back, named. */
static void ingest_fails(tide_store *s, tide_store_backend *fb, const char *rel, long batch,
        const char *op, long nth)
{
    char path[1024];
    TIDE_ASSERT_EQ_INT(tide__store_faulty_fail(fb, op, nth), 0);
    tide_ingest_opts o = { .confidence = -1, .batch = batch };
    tide_ingest_stats st = { 0 };
    int rc = tide_ingest_path(
            s, data_file(path, sizeof(path), rel), TIDE_FMT_STIX, &o, &st, NULL, NULL);
    TIDE_ASSERT_EQ_INT(rc, TIDE_ESTORE);
    char want[128];
    snprintf(want, sizeof(want), "injected failure of %s", op);
    if (strstr(tide_error_last(), want) == NULL)
        fprintf(stderr, "error: %s\n", tide_error_last());
    TIDE_ASSERT(strstr(tide_error_last(), want) != NULL);
    TIDE_ASSERT_EQ_INT(tide__store_faulty_fail(fb, op, 0), 0);
}

static int64_t objects_in(tide_store *s)
{
    char *stats = NULL;
    TIDE_ASSERT_EQ_INT(tide_store_stats_json(s, &stats), 0);
    json_t *j = json_loads(stats, 0, NULL);
    free(stats);
    TIDE_ASSERT(j != NULL);
    int64_t n = json_integer_value(json_object_get(j, "objects"));
    json_decref(j);
    return n;
}

/* Every current indicator object has its indicator context (no object without the rows its
 * put_indicator writes: the unit a batch keeps whole). */
static int whole_cb(const tide_search_hit *h, void *payload)
{
    tide_store *s = payload;
    tide_indicator_rec ir;
    int rc = tide_store_indicator(s, h->id, &ir);
    if (rc != 0)
        fprintf(stderr, "indicator %s: %s\n", h->id, tide_error_last());
    TIDE_ASSERT_EQ_INT(rc, 0);
    return 0;
}

static void assert_whole(tide_store *s)
{
    tide_search_query q = { .type = "indicator" };
    TIDE_ASSERT_EQ_INT(tide_store_search(s, &q, whole_cb, s), 0);
}

/* A first load (ATT&CK, one transaction) failing at a put, at the commit, or at a put of
 * the batch mode that follows: the error is reported, the failed transaction leaves nothing,
 * committed batches stay whole, and ingesting again gives the store a clean run gives. */
static void t_fault_ingest(void)
{
    tide_buf ref = TIDE_BUF_INIT, got = TIDE_BUF_INIT;
    reference_dump(&ref);
    static const struct {
        const char *op;
        long nth;
    } first[] = { { "put_object", 1 }, { "put_object", 700 }, { "put_object", 1826 },
        { "put_relationship", 1000 }, { "commit", 1 } };
    for (size_t i = 0; i < sizeof(first) / sizeof(first[0]); i++) {
        char dir[700];
        snprintf(dir, sizeof(dir), "%s/first%zu", tide_test_tmpdir(), i);
        tide_store_backend *fb = NULL;
        tide_store *s = open_faulty(dir, &fb);
        ingest_fails(s, fb, ATTACK_ICS, 0, first[i].op, first[i].nth);
        TIDE_ASSERT_EQ_INT(objects_in(s), 0);
        TIDE_ASSERT_EQ_INT(tide_store_get(s, "x-mitre-matrix--575f48f4-8897-4468-897b-48bb364af6c7",
                                   NULL, &(char *){ NULL }),
                TIDE_ENOTFOUND);
        /* then the same loads without a fault */
        ingest_ok(s, ATTACK_ICS, 0, NULL);
        ingest_ok(s, APT1, 0, NULL);
        ingest_ok(s, POISONIVY, 0, NULL);
        dump_store(s, &got);
        TIDE_ASSERT_EQ_STR(got.ptr, ref.ptr);
        tide_store_free(s);
    }
    /* batches of 20 objects into a store that holds intel: the failing batch goes, the
     * committed ones stay, each whole */
    static const struct {
        const char *op;
        long nth;
    } later[] = { { "put_indicator", 12 }, { "put_object", 50 }, { "put_relationship", 45 },
        { "commit", 3 } };
    for (size_t i = 0; i < sizeof(later) / sizeof(later[0]); i++) {
        char dir[700];
        snprintf(dir, sizeof(dir), "%s/later%zu", tide_test_tmpdir(), i);
        tide_store_backend *fb = NULL;
        tide_store *s = open_faulty(dir, &fb);
        ingest_ok(s, ATTACK_ICS, 0, NULL);
        ingest_ok(s, APT1, 0, NULL);
        int64_t before = objects_in(s);
        long commits = tide__store_faulty_calls(fb, "commit");
        ingest_fails(s, fb, POISONIVY, 20, later[i].op, later[i].nth);
        int64_t after = objects_in(s);
        long committed = tide__store_faulty_calls(fb, "commit") - commits -
                         (strcmp(later[i].op, "commit") == 0);
        TIDE_ASSERT(after >= before && after - before <= 20 * committed);
        TIDE_ASSERT(after < before + 155);
        assert_whole(s);
        ingest_ok(s, POISONIVY, 20, NULL);
        dump_store(s, &got);
        TIDE_ASSERT_EQ_STR(got.ptr, ref.ptr);
        tide_store_free(s);
    }
    tide__buf_free(&got);
    tide__buf_free(&ref);
}

/* Reads that fail are reported, and the next one works: the scan's graph, rows, one key's
 * node and edges, the choice of plan, a case row. */
static void t_fault_reads(void)
{
    tide_store_backend *fb = NULL;
    tide_store *s = open_faulty(tide_test_tmpdir(), &fb);
    ingest_ok(s, POISONIVY, 0, NULL);
    text t = { TIDE_BUF_INIT, 0 };
    static const struct {
        const char *op;
        int filter; /* 0 none, 1 by value, 2 changed since */
    } reads[] = { { "graph", 0 }, { "scan", 0 }, { "node", 1 }, { "edges_of", 1 },
        { "few_changed", 2 }, { "scan", 1 } };
    tide_indicator_filter fv = { .value = "indicator--e8094b09-7df4-4b13-b207-1e27af3c4bde" };
    tide_indicator_filter fc = { .changed_since = 1 };
    for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
        const tide_indicator_filter *f = reads[i].filter == 1   ? &fv
                                         : reads[i].filter == 2 ? &fc
                                                                : NULL;
        TIDE_ASSERT_EQ_INT(tide__store_faulty_fail(fb, reads[i].op, 1), 0);
        TIDE_ASSERT_EQ_INT(tide_store_each_indicator_obs(s, f, scan_text_cb, &t), TIDE_ESTORE);
        TIDE_ASSERT(strstr(tide_error_last(), reads[i].op) != NULL);
        t.n = 0;
        TIDE_ASSERT_EQ_INT(tide_store_each_indicator_obs(s, f, scan_text_cb, &t), 0);
        TIDE_ASSERT(t.n > 0);
    }
    TIDE_ASSERT_EQ_INT(tide__store_faulty_fail(fb, "case_get", 1), 0);
    TIDE_ASSERT_EQ_INT(tide__store_case_get(s, 1, case_cb, &t), TIDE_ESTORE);
    TIDE_ASSERT_EQ_INT(tide__store_case_get(s, 1, case_cb, &t), TIDE_ENOTFOUND);
    /* a fault takes names of the table only */
    TIDE_ASSERT_EQ_INT(tide__store_faulty_fail(fb, "no_such_function", 1), TIDE_EINVAL);
    TIDE_ASSERT_EQ_INT(
            tide__store_faulty_fail(tide__store_faulty_inner(fb), "scan", 1), TIDE_EINVAL);
    TIDE_ASSERT(tide__store_faulty_calls(fb, "scan") >= 4);
    tide__buf_free(&t.b);
    tide_store_free(s);
}

/* A backend without the optional functions: no bulk mode (an ordinary transaction), no
 * prefetch, no plan choice (the graph for every scan), no database file or schema version;
 * the store holds the same. */
static void t_optional_absent(void)
{
    tide_buf ref = TIDE_BUF_INIT, got = TIDE_BUF_INIT;
    reference_dump(&ref);
    tide_store_backend *sq = NULL, *fb = NULL;
    TIDE_ASSERT_EQ_INT(tide_store_backend_sqlite(&sq, tide_test_tmpdir()), 0);
    TIDE_ASSERT_EQ_INT(tide__store_faulty_new(&fb, sq), 0);
    const char *opt[] = { "begin_load", "prefetch_id", "few_changed", "db_path", "schema_version" };
    for (size_t i = 0; i < sizeof(opt) / sizeof(opt[0]); i++)
        TIDE_ASSERT_EQ_INT(tide__store_faulty_hide(fb, opt[i]), 0);
    TIDE_ASSERT_EQ_INT(tide__store_faulty_hide(fb, "commit"), TIDE_EINVAL);
    tide_store *s = NULL;
    TIDE_ASSERT_EQ_INT(tide_store_open_backend(&s, fb), 0);
    bool bulk = true;
    TIDE_ASSERT_EQ_INT(tide_store_begin_load(s, &bulk), 0);
    TIDE_ASSERT(!bulk);
    TIDE_ASSERT_EQ_INT(tide_store_rollback(s), 0);
    ingest_ok(s, ATTACK_ICS, 0, NULL);
    ingest_ok(s, APT1, 0, NULL);
    ingest_ok(s, POISONIVY, 0, NULL);
    TIDE_ASSERT_EQ_INT(tide__store_faulty_calls(fb, "begin_load"), 0);
    TIDE_ASSERT_EQ_INT(tide__store_faulty_calls(fb, "prefetch_id"), 0);
    dump_store(s, &got);
    TIDE_ASSERT_EQ_STR(got.ptr, ref.ptr);
    /* changed since: the graph, as the whole scan */
    text all = { TIDE_BUF_INIT, 0 }, since = { TIDE_BUF_INIT, 0 };
    tide_indicator_filter fc = { .changed_since = 1 };
    TIDE_ASSERT_EQ_INT(tide_store_each_indicator_obs(s, NULL, scan_text_cb, &all), 0);
    long graphs = tide__store_faulty_calls(fb, "graph");
    TIDE_ASSERT_EQ_INT(tide_store_each_indicator_obs(s, &fc, scan_text_cb, &since), 0);
    TIDE_ASSERT_EQ_INT(tide__store_faulty_calls(fb, "graph"), graphs + 1);
    TIDE_ASSERT_EQ_STR(since.b.ptr, all.b.ptr);
    TIDE_ASSERT(tide_store_db_path(s) == NULL);
    TIDE_ASSERT_EQ_INT(tide_error_last_code(), TIDE_EUNSUPPORTED);
    TIDE_ASSERT_EQ_INT(tide_store_schema_version(s), TIDE_EUNSUPPORTED);
    tide__buf_free(&all.b);
    tide__buf_free(&since.b);
    tide__buf_free(&got);
    tide__buf_free(&ref);
    tide_store_free(s);
}

/* A backend that counts its frees, to show who owns it. */
typedef struct {
    tide_store_backend parent;
    int freed;
} counted;

static void counted_free(tide_store_backend *be)
{
    ((counted *)be)->freed++;
}

/* The table's version and required functions are checked when a store opens on it; on
 * refusal the caller keeps the backend. */
static void t_backend_table(void)
{
    counted c;
    memset(&c, 0x5a, sizeof(c));
    TIDE_ASSERT_EQ_INT(
            tide_store_backend_init(&c.parent, TIDE_STORE_BACKEND_VERSION + 1), TIDE_EINVAL);
    TIDE_ASSERT_EQ_INT(tide_store_backend_init(&c.parent, TIDE_STORE_BACKEND_VERSION), 0);
    TIDE_ASSERT(c.parent.put_object == NULL && c.parent.begin_load == NULL);
    tide_store_backend init = TIDE_STORE_BACKEND_INIT;
    TIDE_ASSERT_EQ_INT(init.version, TIDE_STORE_BACKEND_VERSION);
    TIDE_ASSERT(init.free == NULL && init.scan == NULL);
    c.parent.free = counted_free;
    c.freed = 0;
    tide_store *s = (tide_store *)&c;
    TIDE_ASSERT_EQ_INT(tide_store_open_backend(&s, &c.parent), TIDE_EINVAL);
    TIDE_ASSERT(s == NULL);
    TIDE_ASSERT(strstr(tide_error_last(), "required function begin") != NULL);
    TIDE_ASSERT_EQ_INT(tide_store_open_backend(&s, NULL), TIDE_EINVAL);
    /* a whole table of another version */
    tide_store_backend *sq = NULL;
    TIDE_ASSERT_EQ_INT(tide_store_backend_sqlite(&sq, tide_test_tmpdir()), 0);
    sq->version = TIDE_STORE_BACKEND_VERSION + 1;
    TIDE_ASSERT_EQ_INT(tide_store_open_backend(&s, sq), TIDE_EINVAL);
    TIDE_ASSERT(strstr(tide_error_last(), "version") != NULL);
    TIDE_ASSERT_EQ_INT(c.freed, 0);
    sq->version = TIDE_STORE_BACKEND_VERSION;
    TIDE_ASSERT_EQ_INT(tide_store_open_backend(&s, sq), 0);
    TIDE_ASSERT(tide__store_sqlite(s) != NULL);
    /* the SQLite backend's optional calls, also through the wrapper */
    TIDE_ASSERT(tide_store_db_path(s) != NULL && strstr(tide_store_db_path(s), "/tide.db"));
    TIDE_ASSERT_EQ_INT(tide_store_schema_version(s), TIDE_STORE_SCHEMA_VERSION);
    tide_store_free(s);
    tide_store_backend *fb = NULL;
    s = open_faulty(tide_test_tmpdir(), &fb);
    TIDE_ASSERT(tide__store_sqlite(s) == NULL); /* a wrapper is not looked through */
    TIDE_ASSERT(tide_store_db_path(s) != NULL && strstr(tide_store_db_path(s), "/tide.db"));
    TIDE_ASSERT_EQ_INT(tide_store_schema_version(s), TIDE_STORE_SCHEMA_VERSION);
    tide_store_free(s);
    tide_store_free(NULL);
}

/* Each test of the first two groups twice: on the SQLite backend (store::) and on the wrapper
 * without faults (store_faulty::), the backend open_at() picks. */
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
#define BOTH(name, fn)                                                                             \
    { "store::" name, fn##_sqlite },                                                               \
    {                                                                                              \
        "store_faulty::" name, fn##_faulty                                                         \
    }

CONTRACT(t_versions)
CONTRACT(t_derived)
CONTRACT(t_indicator_relationships_search)
CONTRACT(t_rollback_and_reopen)
CONTRACT(t_warninglist_entries)
CONTRACT(t_active_intel_scan)
CONTRACT(t_front_args)
CONTRACT(t_case_rows)
CONTRACT(t_assets_exports_sightings)
CONTRACT(t_real_bundles)
CONTRACT(t_backend_graph)
CONTRACT(t_open_bad_path)
CONTRACT(t_indicator_row_copies)
CONTRACT(t_indicator_record)
CONTRACT(t_migrate_schema5)
CONTRACT(t_bulk_rewrite_obs)
CONTRACT(t_migrate_race)

TIDE_TESTS = {
    /* the store contract: public calls and the backend's table only, what any backend passes */
    BOTH("versions", t_versions),
    BOTH("derived", t_derived),
    BOTH("indicator_relationships_search", t_indicator_relationships_search),
    BOTH("rollback_and_reopen", t_rollback_and_reopen),
    BOTH("warninglist_entries", t_warninglist_entries),
    BOTH("active_intel_scan", t_active_intel_scan),
    BOTH("front_args", t_front_args),
    BOTH("case_rows", t_case_rows),
    BOTH("assets_exports_sightings", t_assets_exports_sightings),
    BOTH("real_bundles", t_real_bundles),
    BOTH("backend_graph", t_backend_graph),
    /* the SQLite backend: its folder, tables, packed records and migrations */
    BOTH("open_bad_path", t_open_bad_path),
    BOTH("indicator_row_copies", t_indicator_row_copies),
    BOTH("indicator_record", t_indicator_record),
    BOTH("migrate_schema5", t_migrate_schema5),
    BOTH("bulk_rewrite_obs", t_bulk_rewrite_obs),
    BOTH("migrate_race", t_migrate_race),
    { "store::error_wraps_last", t_error_wraps_last },
    { "store::backend_table", t_backend_table },
    /* the wrapper's faults and hidden optional functions */
    { "store_faulty::optional_absent", t_optional_absent },
    { "store_faulty::fault_ingest", t_fault_ingest },
    { "store_faulty::fault_reads", t_fault_reads },
    { NULL, NULL },
};
TIDE_TEST_MAIN
