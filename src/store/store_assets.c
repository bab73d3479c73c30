/*
 * store_assets.c - SQL of the asset inventory (assets, asset_ips, asset_software) and of the
 * export state (the entries and serial of the last export per format and output, which
 * incremental exports diff against). Schema: migration 3 in schema.h.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "util/util.h"

static int prep(tide__sqlite *s, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
        return tide__store_db_error(s, "prepare");
    return 0;
}

static int run1(tide__sqlite *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return tide__store_db_error(s, what);
    return 0;
}

int tide__sqlite_put_asset(tide_store_backend *be, const tide_asset *a)
{
    tide__sqlite *s = tide__sq(be);
    if (a == NULL || a->host == NULL || *a->host == '\0')
        return tide_error_set(TIDE_EINVAL, "asset without host");
    bool own_tx = s->in_tx == 0;
    if (own_tx)
        TIDE_CHECK(tide__sqlite_begin(&s->parent));
    sqlite3_stmt *st = NULL;
    int rc = 0;
    static const char *const del[] = { "DELETE FROM asset_ips WHERE host = ?1",
        "DELETE FROM asset_software WHERE host = ?1" };
    for (int i = 0; i < 2 && rc == 0; i++) {
        if ((rc = prep(s, del[i], &st)) < 0)
            break;
        tide__store_bind_text(st, 1, a->host);
        rc = run1(s, st, "delete asset");
        sqlite3_finalize(st);
        st = NULL;
    }
    if (rc == 0 && (rc = prep(s,
                            "INSERT OR REPLACE INTO assets(host, hostname, owner, "
                            "criticality, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                            &st)) == 0) {
        tide__store_bind_text(st, 1, a->host);
        tide__store_bind_text(st, 2, a->hostname);
        tide__store_bind_text(st, 3, a->owner);
        tide__store_bind_text(st, 4, a->criticality);
        sqlite3_bind_int64(st, 5, tide__time_now_ms());
        rc = run1(s, st, "insert asset");
        sqlite3_finalize(st);
        st = NULL;
    }
    if (rc == 0 &&
            (rc = prep(s, "INSERT OR IGNORE INTO asset_ips(host, ip) VALUES (?1, ?2)", &st)) == 0) {
        for (size_t i = 0; i < a->nips && rc == 0; i++) {
            tide__store_bind_text(st, 1, a->host);
            tide__store_bind_text(st, 2, a->ips[i]);
            rc = run1(s, st, "insert asset ip");
        }
        sqlite3_finalize(st);
        st = NULL;
    }
    if (rc == 0 && (rc = prep(s,
                            "INSERT OR IGNORE INTO asset_software(host, name, version) "
                            "VALUES (?1, ?2, ?3)",
                            &st)) == 0) {
        for (size_t i = 0; i < a->nsoftware && rc == 0; i++) {
            tide__store_bind_text(st, 1, a->host);
            tide__store_bind_text(st, 2, a->software[i].name);
            tide__store_bind_text(st, 3, a->software[i].version ? a->software[i].version : "");
            rc = run1(s, st, "insert asset software");
        }
        sqlite3_finalize(st);
    }
    if (own_tx) {
        if (rc == 0)
            rc = tide__sqlite_commit(&s->parent);
        else
            tide__sqlite_rollback(&s->parent);
    }
    return rc;
}

typedef struct {
    char **ips;
    size_t nips, capips;
    tide_asset_software *sw;
    size_t nsw, capsw;
} asset_lists;

static void lists_clear(asset_lists *l)
{
    for (size_t i = 0; i < l->nips; i++)
        tide__free(l->ips[i]);
    for (size_t i = 0; i < l->nsw; i++) {
        tide__free((char *)l->sw[i].name);
        tide__free((char *)l->sw[i].version);
    }
    l->nips = l->nsw = 0;
}

static int load_lists(
        tide__sqlite *s, sqlite3_stmt *ips, sqlite3_stmt *sw, const char *host, asset_lists *l)
{
    lists_clear(l);
    sqlite3_reset(ips);
    tide__store_bind_text(ips, 1, host);
    int rc;
    while ((rc = sqlite3_step(ips)) == SQLITE_ROW) {
        if (l->nips == l->capips) {
            size_t nc = l->capips ? l->capips * 2 : 8;
            char **nv = tide__realloc(l->ips, nc * sizeof(*nv));
            TIDE_CHECK_ALLOC(nv);
            l->ips = nv;
            l->capips = nc;
        }
        l->ips[l->nips] = tide__strdup((const char *)sqlite3_column_text(ips, 0));
        TIDE_CHECK_ALLOC(l->ips[l->nips]);
        l->nips++;
    }
    if (rc != SQLITE_DONE)
        return tide__store_db_error(s, "read asset ips");
    sqlite3_reset(sw);
    tide__store_bind_text(sw, 1, host);
    while ((rc = sqlite3_step(sw)) == SQLITE_ROW) {
        if (l->nsw == l->capsw) {
            size_t nc = l->capsw ? l->capsw * 2 : 8;
            tide_asset_software *nv = tide__realloc(l->sw, nc * sizeof(*nv));
            TIDE_CHECK_ALLOC(nv);
            l->sw = nv;
            l->capsw = nc;
        }
        char *n = tide__strdup((const char *)sqlite3_column_text(sw, 0));
        char *v = tide__strdup((const char *)sqlite3_column_text(sw, 1));
        if (n == NULL || v == NULL) {
            tide__free(n);
            tide__free(v);
            return tide_error_set(TIDE_ENOMEM, "out of memory");
        }
        l->sw[l->nsw].name = n;
        l->sw[l->nsw].version = v;
        l->nsw++;
    }
    if (rc != SQLITE_DONE)
        return tide__store_db_error(s, "read asset software");
    return 0;
}

int tide__sqlite_each_asset(
        tide_store_backend *be, int (*cb)(const tide_asset *asset, void *payload), void *payload)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st = NULL, *ips = NULL, *sw = NULL;
    asset_lists l = { 0 };
    int rc = prep(s, "SELECT host, hostname, owner, criticality FROM assets ORDER BY host", &st);
    if (rc == 0)
        rc = prep(s, "SELECT ip FROM asset_ips WHERE host = ?1 ORDER BY ip", &ips);
    if (rc == 0)
        rc = prep(s,
                "SELECT name, version FROM asset_software WHERE host = ?1 "
                "ORDER BY name, version",
                &sw);
    while (rc == 0) {
        int r = sqlite3_step(st);
        if (r == SQLITE_DONE)
            break;
        if (r != SQLITE_ROW) {
            rc = tide__store_db_error(s, "read assets");
            break;
        }
        const char *host = (const char *)sqlite3_column_text(st, 0);
        if ((rc = load_lists(s, ips, sw, host, &l)) < 0)
            break;
        tide_asset a = { .host = host,
            .hostname = (const char *)sqlite3_column_text(st, 1),
            .owner = (const char *)sqlite3_column_text(st, 2),
            .criticality = (const char *)sqlite3_column_text(st, 3),
            .ips = (const char *const *)l.ips,
            .nips = l.nips,
            .software = l.sw,
            .nsoftware = l.nsw };
        rc = cb(&a, payload);
    }
    lists_clear(&l);
    tide__free(l.ips);
    tide__free(l.sw);
    sqlite3_finalize(st);
    sqlite3_finalize(ips);
    sqlite3_finalize(sw);
    return rc;
}

int tide__sqlite_export_state_get(tide_store_backend *be, const char *key, int64_t *out_serial,
        char **out_entries, size_t *out_len)
{
    tide__sqlite *s = tide__sq(be);
    *out_serial = 0;
    *out_entries = NULL;
    if (out_len)
        *out_len = 0;
    sqlite3_stmt *st = NULL;
    TIDE_CHECK(prep(s, "SELECT serial, entries FROM export_state WHERE key = ?1", &st));
    tide__store_bind_text(st, 1, key);
    int r = sqlite3_step(st), rc = 0;
    if (r == SQLITE_ROW) {
        *out_serial = sqlite3_column_int64(st, 0);
        const void *b = sqlite3_column_blob(st, 1);
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        char *e = tide__malloc(n + 1);
        if (e == NULL) {
            rc = tide_error_set(TIDE_ENOMEM, "out of memory");
        } else {
            if (n)
                memcpy(e, b, n);
            e[n] = '\0';
            *out_entries = e;
            if (out_len)
                *out_len = n;
        }
    } else if (r == SQLITE_DONE) {
        rc = tide_error_set(TIDE_ENOTFOUND, "no export state for %s", key);
    } else {
        rc = tide__store_db_error(s, "read export state");
    }
    sqlite3_finalize(st);
    return rc;
}

int tide__sqlite_export_state_put(tide_store_backend *be, const char *key, const char *format,
        int64_t serial, const char *entries, size_t len)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st = NULL;
    TIDE_CHECK(prep(s,
            "INSERT OR REPLACE INTO export_state(key, format, serial, updated_at, "
            "entries) VALUES (?1, ?2, ?3, ?4, ?5)",
            &st));
    tide__store_bind_text(st, 1, key);
    tide__store_bind_text(st, 2, format);
    sqlite3_bind_int64(st, 3, serial);
    sqlite3_bind_int64(st, 4, tide__time_now_ms());
    sqlite3_bind_blob64(st, 5, entries ? entries : "", (sqlite3_uint64)len, SQLITE_STATIC);
    int rc = run1(s, st, "write export state");
    sqlite3_finalize(st);
    return rc;
}
