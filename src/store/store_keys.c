/*
 * store_keys.c - the API keys of `tide serve` and the audit log of its writes (schema 13):
 * the store front's calls (front.h: argument checks, dispatch, TIDE_EUNSUPPORTED for a backend
 * without them) and the SQLite backend's SQL. Only the SHA-256 of a key is stored; the key
 * itself is shown once by `tide keys add` and never kept (src/auth/keys.c).
 */
#include <stdlib.h>
#include <string.h>

#include "store/front.h"
#include "store/front_int.h"
#include "store/store_int.h"
#include "util/util.h"

/* ---------------- the front ---------------- */

#define NEED_BE(s, fn)                                                                             \
    do {                                                                                           \
        if ((s) == NULL)                                                                           \
            return tide_error_set(TIDE_EINVAL, "no store");                                        \
        if ((s)->be->fn == NULL)                                                                   \
            return tide_error_set(TIDE_EUNSUPPORTED, "this store keeps no API keys");              \
    } while (0)

int tide__store_key_put(tide_store *s, const tide_store_key *k)
{
    NEED_BE(s, key_put);
    if (k == NULL || k->name == NULL || k->hash == NULL || k->role == NULL || k->tlp_max == NULL)
        return tide_error_set(TIDE_EINVAL, "a key needs its name, hash, role and TLP ceiling");
    return s->be->key_put(s->be, k);
}

int tide__store_key_by_hash(tide_store *s, const char *hash,
        int (*cb)(const tide_store_key *key, void *payload), void *payload)
{
    NEED_BE(s, key_by_hash);
    if (hash == NULL || cb == NULL)
        return tide_error_set(TIDE_EINVAL, "no hash or callback");
    return s->be->key_by_hash(s->be, hash, cb, payload);
}

int tide__store_keys(
        tide_store *s, int (*cb)(const tide_store_key *key, void *payload), void *payload)
{
    NEED_BE(s, keys);
    if (cb == NULL)
        return tide_error_set(TIDE_EINVAL, "no callback");
    return s->be->keys(s->be, cb, payload);
}

int tide__store_key_revoke(tide_store *s, const char *name, int64_t at)
{
    NEED_BE(s, key_revoke);
    if (name == NULL)
        return tide_error_set(TIDE_EINVAL, "no key name");
    return s->be->key_revoke(s->be, name, at);
}

int tide__store_audit_add(tide_store *s, const tide_store_audit *e)
{
    NEED_BE(s, audit_add);
    if (e == NULL || e->actor == NULL || e->action == NULL)
        return tide_error_set(TIDE_EINVAL, "an audit entry needs its actor and action");
    return s->be->audit_add(s->be, e);
}

int tide__store_audit(tide_store *s, int64_t since, long limit,
        int (*cb)(const tide_store_audit *e, void *payload), void *payload)
{
    NEED_BE(s, audit);
    if (cb == NULL)
        return tide_error_set(TIDE_EINVAL, "no callback");
    return s->be->audit(s->be, since, limit, cb, payload);
}

/* ---------------- SQLite ---------------- */

static int prep(tide__sqlite *s, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
        return tide__store_db_error(s, "prepare");
    return 0;
}

static const char *col(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static int64_t col_ms(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? TIDE_STORE_NULL
                                                     : sqlite3_column_int64(st, i);
}

int tide__sqlite_key_put(tide_store_backend *be, const tide_store_key *k)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st = NULL;
    TIDE_CHECK(prep(s,
            "INSERT INTO api_keys(name, hash, role, tlp_max, created_at, revoked_at)"
            " VALUES (?1, ?2, ?3, ?4, ?5, NULL)",
            &st));
    tide__store_bind_text(st, 1, k->name);
    tide__store_bind_text(st, 2, k->hash);
    tide__store_bind_text(st, 3, k->role);
    tide__store_bind_text(st, 4, k->tlp_max);
    sqlite3_bind_int64(st, 5, k->created_at);
    int rc = sqlite3_step(st);
    int ret = 0;
    if (rc == SQLITE_CONSTRAINT)
        ret = tide_error_set(TIDE_EEXISTS, "a key named '%s' exists already", k->name);
    else if (rc != SQLITE_DONE)
        ret = tide__store_db_error(s, "insert key");
    sqlite3_finalize(st);
    return ret;
}

static int key_rows(tide__sqlite *s, sqlite3_stmt *st,
        int (*cb)(const tide_store_key *key, void *payload), void *payload, int *out_n)
{
    int rc, ret = 0, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        tide_store_key k = { col(st, 0), col(st, 1), col(st, 2), col(st, 3),
            sqlite3_column_int64(st, 4), col_ms(st, 5) };
        n++;
        if ((ret = cb(&k, payload)) != 0)
            break;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = tide__store_db_error(s, "read keys");
    *out_n = n;
    return ret;
}

int tide__sqlite_key_by_hash(tide_store_backend *be, const char *hash,
        int (*cb)(const tide_store_key *key, void *payload), void *payload)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st = NULL;
    TIDE_CHECK(prep(s,
            "SELECT name, hash, role, tlp_max, created_at, revoked_at FROM api_keys"
            " WHERE hash = ?1",
            &st));
    tide__store_bind_text(st, 1, hash);
    int n = 0, ret = key_rows(s, st, cb, payload, &n);
    sqlite3_finalize(st);
    if (ret == 0 && n == 0)
        return tide_error_set(TIDE_ENOTFOUND, "no such key");
    return ret;
}

int tide__sqlite_keys(
        tide_store_backend *be, int (*cb)(const tide_store_key *key, void *payload), void *payload)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st = NULL;
    TIDE_CHECK(prep(s,
            "SELECT name, hash, role, tlp_max, created_at, revoked_at FROM api_keys"
            " ORDER BY name",
            &st));
    int n = 0, ret = key_rows(s, st, cb, payload, &n);
    sqlite3_finalize(st);
    return ret;
}

int tide__sqlite_key_revoke(tide_store_backend *be, const char *name, int64_t at)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st = NULL;
    TIDE_CHECK(prep(
            s, "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?2) WHERE name = ?1", &st));
    tide__store_bind_text(st, 1, name);
    sqlite3_bind_int64(st, 2, at);
    int ret = 0;
    if (sqlite3_step(st) != SQLITE_DONE)
        ret = tide__store_db_error(s, "revoke key");
    else if (sqlite3_changes(s->db) == 0)
        ret = tide_error_set(TIDE_ENOTFOUND, "no key named '%s'", name);
    sqlite3_finalize(st);
    return ret;
}

int tide__sqlite_audit_add(tide_store_backend *be, const tide_store_audit *e)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st = NULL;
    TIDE_CHECK(prep(s,
            "INSERT INTO audit_log(at, actor, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            &st));
    sqlite3_bind_int64(st, 1, e->at);
    tide__store_bind_text(st, 2, e->actor);
    tide__store_bind_text(st, 3, e->action);
    tide__store_bind_text(st, 4, e->target);
    tide__store_bind_text(st, 5, e->detail);
    int ret = sqlite3_step(st) == SQLITE_DONE ? 0 : tide__store_db_error(s, "audit log");
    sqlite3_finalize(st);
    return ret;
}

int tide__sqlite_audit(tide_store_backend *be, int64_t since, long limit,
        int (*cb)(const tide_store_audit *e, void *payload), void *payload)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st = NULL;
    TIDE_CHECK(prep(s,
            "SELECT id, at, actor, action, target, detail FROM audit_log WHERE at >= ?1"
            " ORDER BY id DESC LIMIT ?2",
            &st));
    sqlite3_bind_int64(st, 1, since);
    sqlite3_bind_int64(st, 2, limit > 0 ? limit : -1);
    int rc, ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        tide_store_audit e = { sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), col(st, 2),
            col(st, 3), col(st, 4), col(st, 5) };
        if ((ret = cb(&e, payload)) != 0)
            break;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = tide__store_db_error(s, "read audit log");
    sqlite3_finalize(st);
    return ret;
}
