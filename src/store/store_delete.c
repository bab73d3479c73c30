/*
 * store_delete.c - versions of an object deleted, for the TAXII 2.1 DELETE of `tide serve`
 * (docs/taxii.md): the front's call and the SQLite backend's. tide keeps every version it is
 * given, so this is the one path that removes objects rows: a peer's or an analyst's mistake
 * (a wrong indicator shared into an inbox) must leave the store, the blocklists and the match
 * index, not only stop being current.
 *
 * What goes with a version: its objects row (the triggers of schema 9 and 10 take its count
 * and its id key with it) and, for the current version, what was derived from it (indicator
 * row, observables, names, references). When the current version goes and older ones stay,
 * the newest of these should become current, but what is derived from a version is the
 * ingest's to make (src/ingest parses the pattern, the names, the references): the store
 * leaves it not current and says which one it is, and the engine puts its JSON again
 * (src/engine/intel_delete.c), which put_object turns into the current version. Should the
 * process die in between, the object stays without a current version (hidden from lookups,
 * listed by its versions) until that version is put again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/front.h"
#include "store/front_int.h"
#include "store/store_int.h"
#include "util/util.h"

int tide__store_delete_versions(tide_store *s, const char *id, const char *const *versions,
        size_t n, tide_store_deleted *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (s == NULL || id == NULL || *id == '\0' || out == NULL || (n && versions == NULL))
        return tide_error_set(TIDE_EINVAL, "no store, id or result");
    tide_store_backend *be = tide__store_backend(s);
    if (be->delete_versions == NULL)
        return tide_error_set(TIDE_EUNSUPPORTED, "this store cannot delete objects");
    int rc = be->delete_versions(be, id, versions, n, out);
    if (rc < 0)
        tide__store_deleted_free(out);
    return rc;
}

void tide__store_deleted_free(tide_store_deleted *d)
{
    if (d == NULL)
        return;
    free(d->revive_json);
    free(d->revive_modified);
    free(d->revive_source);
    free(d->revive_tlp);
    d->revive_json = d->revive_modified = d->revive_source = d->revive_tlp = NULL;
}

/* ---------------- the SQLite backend ---------------- */

typedef struct {
    sqlite3_int64 row;
    char *modified;
    bool current, chosen;
} version_row;

static bool chosen(const char *modified, const char *const *versions, size_t n)
{
    if (n == 0)
        return true;
    for (size_t i = 0; i < n; i++)
        if (versions[i] && strcmp(versions[i], modified) == 0)
            return true;
    return false;
}

static char *column_dup(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return NULL;
    return tide__strndup(
            (const char *)sqlite3_column_text(st, i), (size_t)sqlite3_column_bytes(st, i));
}

/* The row to put again: its JSON, modified, source and TLP into out. */
static int read_revive(tide__sqlite *s, sqlite3_int64 row, tide_store_deleted *out)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                "SELECT json, modified, source, tlp FROM objects WHERE rowid = ?1", -1, &st,
                NULL) != SQLITE_OK)
        return tide__store_db_error(s, "prepare");
    sqlite3_bind_int64(st, 1, row);
    int rc = 0;
    if (sqlite3_step(st) != SQLITE_ROW)
        rc = tide__store_db_error(s, "read the version to make current");
    else {
        out->revive_json = column_dup(st, 0);
        out->revive_modified = column_dup(st, 1);
        out->revive_source = column_dup(st, 2);
        out->revive_tlp = column_dup(st, 3);
        if (out->revive_json == NULL || out->revive_modified == NULL)
            rc = tide_error_set(
                    TIDE_ESTORE, "object row %lld has no JSON (damaged store)", (long long)row);
    }
    sqlite3_finalize(st);
    return rc;
}

/* An integer from one row of sql (bound to a, b when not 0), into *out (0 when no row). */
static int int_query(tide__sqlite *s, const char *sql, sqlite3_int64 a, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return tide__store_db_error(s, "prepare");
    if (a)
        sqlite3_bind_int64(st, 1, a);
    int step = sqlite3_step(st), rc = 0;
    *out = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = tide__store_db_error(s, "read");
    sqlite3_finalize(st);
    return rc;
}

/* SQLite gives a new row max(rowid) + 1: were the rows of the highest rowids deleted, the next
 * objects would take their rowids again, behind the position a TAXII client's "next" token
 * already names (store_added.c), and that client would never be given them. So when the
 * highest row goes, a gap row keeps its rowid: type TIDE_GAP_TYPE, empty JSON, not current,
 * its id key taken out of objects_keys, skipped by every listing. One is enough: the one
 * before (meta objects_gap) goes once it is no longer the highest. */
static int keep_rowids(tide__sqlite *s, sqlite3_int64 highest_deleted)
{
    int64_t top = 0, gap = 0;
    TIDE_CHECK(int_query(s, "SELECT max(rowid) FROM objects", 0, &top));
    TIDE_CHECK(int_query(s, "SELECT value FROM meta WHERE key = 'objects_gap'", 0, &gap));
    char sql[400];
    if (top < highest_deleted) {
        snprintf(sql, sizeof sql,
                "INSERT INTO objects(rowid, id, id_key, modified, type, is_current, modified_ms,"
                " ingested_at, changed_at, json) VALUES (%lld, '', 0, '', '" TIDE_GAP_TYPE
                "', 0, 0, 0, 0, '');"
                "DELETE FROM objects_keys WHERE obj = %lld;"
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('objects_gap', %lld);",
                (long long)highest_deleted, (long long)highest_deleted, (long long)highest_deleted);
        TIDE_CHECK(tide__store_exec(s, sql));
    }
    if (top < highest_deleted)
        top = highest_deleted;
    if (gap && gap < top) { /* the gap before is no longer the highest row */
        snprintf(sql, sizeof sql,
                "DELETE FROM objects WHERE rowid = %lld AND type = '" TIDE_GAP_TYPE "'",
                (long long)gap);
        TIDE_CHECK(tide__store_exec(s, sql));
    }
    return 0;
}

static int delete_rows(tide__sqlite *s, version_row *v, size_t nv, tide_store_deleted *out)
{
    sqlite3_stmt *del = NULL;
    if (sqlite3_prepare_v2(s->db, "DELETE FROM objects WHERE rowid = ?1", -1, &del, NULL) !=
            SQLITE_OK)
        return tide__store_db_error(s, "prepare");
    int rc = 0;
    for (size_t i = 0; i < nv && rc == 0; i++) {
        if (!v[i].chosen)
            continue;
        if (v[i].current) {
            rc = tide__sqlite_drop_indexes(s, v[i].row);
            out->current = true;
        }
        if (rc == 0) {
            sqlite3_bind_int64(del, 1, v[i].row);
            if (sqlite3_step(del) != SQLITE_DONE)
                rc = tide__store_db_error(s, "delete object version");
            sqlite3_reset(del);
            out->deleted++;
        }
    }
    sqlite3_finalize(del);
    sqlite3_int64 highest = 0;
    for (size_t i = 0; i < nv; i++)
        if (v[i].chosen && v[i].row > highest)
            highest = v[i].row;
    if (rc == 0)
        rc = keep_rowids(s, highest);
    if (rc == 0 && out->current) /* the newest version left (rows are oldest first) */
        for (size_t i = nv; i-- > 0;)
            if (!v[i].chosen) {
                rc = read_revive(s, v[i].row, out);
                break;
            }
    return rc;
}

int tide__sqlite_delete_versions(tide_store_backend *be, const char *id,
        const char *const *versions, size_t n, tide_store_deleted *out)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                "SELECT o.rowid, o.modified, o.is_current FROM objects_keys k JOIN objects o ON "
                "o.rowid = k.obj WHERE k.id_key = ?2 AND o.id = ?1 "
                "ORDER BY o.modified_ms, o.modified",
                -1, &st, NULL) != SQLITE_OK)
        return tide__store_db_error(s, "prepare");
    tide__store_bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, tide__store_text_key(id));
    version_row *v = NULL;
    size_t nv = 0, cap = 0, nchosen = 0;
    int rc = 0, step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (nv == cap) {
            size_t nc = cap ? cap * 2 : 8;
            version_row *nvr = tide__realloc(v, nc * sizeof *nvr);
            if (nvr == NULL) {
                rc = tide_error_set(TIDE_ENOMEM, "out of memory");
                break;
            }
            v = nvr;
            cap = nc;
        }
        version_row *w = &v[nv];
        w->row = sqlite3_column_int64(st, 0);
        w->modified = column_dup(st, 1);
        w->current = sqlite3_column_int(st, 2) != 0;
        if (w->modified == NULL && (w->modified = tide__strndup("", 0)) == NULL) {
            rc = tide_error_set(TIDE_ENOMEM, "out of memory");
            break;
        }
        w->chosen = chosen(w->modified, versions, n);
        nchosen += w->chosen;
        nv++;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = tide__store_db_error(s, "read versions");
    sqlite3_finalize(st);
    if (rc == 0 && nchosen == 0)
        rc = tide_error_set(TIDE_ENOTFOUND, nv ? "no such version of %s" : "no object %s", id);
    bool own_tx = false;
    if (rc == 0 && !s->in_tx) {
        rc = tide__sqlite_begin(be);
        own_tx = rc == 0;
    }
    if (rc == 0)
        rc = delete_rows(s, v, nv, out);
    s->last_id[0] = '\0'; /* the remembered row may be gone */
    if (rc == 0)
        rc = tide__store_intel_changed(s);
    if (own_tx)
        rc = rc == 0 ? tide__sqlite_commit(be) : (tide__sqlite_rollback(be), rc);
    for (size_t i = 0; i < nv; i++)
        free(v[i].modified);
    free(v);
    return rc;
}
