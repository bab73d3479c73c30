/*
 * store_added.c - stored object versions in the order they were added, for the TAXII 2.1
 * collections of `tide serve` (tide_store_added_query): the front's call and the SQLite
 * backend's query. Rows are read by rowid: a row committed later always has a higher rowid
 * (SQLite writers are serialised and take max(rowid) + 1; objects rows are deleted only by a
 * TAXII DELETE, store_delete.c, which leaves every later position as it was), so a position "after
 * row R" is stable while objects are added, and ingested_at (the TAXII date added) grows with it.
 * The scan walks the table's primary key from the position, so a page costs what it reads, with no
 * sort.
 */
#include <stdlib.h>
#include <string.h>

#include "store/front.h"
#include "store/front_int.h"
#include "store/store_int.h"
#include "util/util.h"

int tide__store_added(tide_store *s, const tide_store_added_query *q,
        int (*cb)(const tide_store_added_row *row, void *payload), void *payload)
{
    if (s == NULL || q == NULL || cb == NULL)
        return tide_error_set(TIDE_EINVAL, "no store, query or callback");
    tide_store_backend *be = tide__store_backend(s);
    if (be->added == NULL)
        return tide_error_set(TIDE_EUNSUPPORTED, "this store cannot list objects by date added");
    return be->added(be, q, cb, payload);
}

static int in_list(tide_buf *sql, const char *col, size_t n)
{
    int rc = tide__buf_printf(sql, " AND %s IN (", col);
    for (size_t i = 0; i < n; i++)
        rc |= tide__buf_puts(sql, i ? ",?" : "?");
    return rc | tide__buf_puts(sql, ")");
}

static void bind_list(sqlite3_stmt *st, int *k, const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tide__store_bind_text(st, (*k)++, v[i]);
}

int tide__sqlite_added(tide_store_backend *be, const tide_store_added_query *q,
        int (*cb)(const tide_store_added_row *row, void *payload), void *payload)
{
    tide__sqlite *s = tide__sq(be);
    tide_buf sql = TIDE_BUF_INIT;
    int rc = tide__buf_puts(&sql,
            "SELECT o.rowid, o.ingested_at, o.id, o.type, o.modified, o.tlp,"
            " o.json, o.is_current FROM objects o WHERE o.rowid > ? AND o.type <> '" TIDE_GAP_TYPE
            "'");
    if (q->added_after)
        rc |= tide__buf_puts(&sql, " AND o.ingested_at > ?");
    if (q->nids) { /* through the ids' keys (objects_keys), then the ids themselves */
        rc |= tide__buf_puts(&sql, " AND o.rowid IN (SELECT k.obj FROM objects_keys k WHERE"
                                   " k.id_key IN (");
        for (size_t i = 0; i < q->nids; i++)
            rc |= tide__buf_puts(&sql, i ? ",tide_key(?)" : "tide_key(?)");
        rc |= tide__buf_puts(&sql, "))");
        rc |= in_list(&sql, "o.id", q->nids);
    }
    if (q->ntypes)
        rc |= in_list(&sql, "o.type", q->ntypes);
    if (q->nsources)
        rc |= in_list(&sql, "o.source", q->nsources);
    if (!q->all) {
        rc |= tide__buf_puts(&sql, " AND (0");
        if (q->last)
            rc |= tide__buf_puts(&sql, " OR o.is_current");
        if (q->first)
            rc |= tide__buf_puts(&sql,
                    " OR o.rowid = (SELECT f.rowid FROM objects_keys k JOIN objects f"
                    " ON f.rowid = k.obj WHERE k.id_key = o.id_key AND f.id = o.id"
                    " ORDER BY f.modified_ms, f.modified LIMIT 1)");
        if (q->nmodified) {
            rc |= tide__buf_puts(&sql, " OR o.modified IN (");
            for (size_t i = 0; i < q->nmodified; i++)
                rc |= tide__buf_puts(&sql, i ? ",?" : "?");
            rc |= tide__buf_puts(&sql, ")");
        }
        rc |= tide__buf_puts(&sql, ")");
    }
    rc |= tide__buf_puts(&sql, " ORDER BY o.rowid");
    if (rc < 0) {
        tide__buf_free(&sql);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql.ptr, -1, &st, NULL) != SQLITE_OK) {
        tide__buf_free(&sql);
        return tide__store_db_error(s, "prepare added");
    }
    tide__buf_free(&sql);
    int k = 1;
    sqlite3_bind_int64(st, k++, q->after_row);
    if (q->added_after)
        sqlite3_bind_int64(st, k++, q->added_after);
    bind_list(st, &k, q->ids, q->nids);
    bind_list(st, &k, q->ids, q->nids);
    bind_list(st, &k, q->types, q->ntypes);
    bind_list(st, &k, q->sources, q->nsources);
    if (!q->all)
        bind_list(st, &k, q->modified, q->nmodified);
    int step;
    rc = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *mod = (const char *)sqlite3_column_text(st, 4);
        tide_store_added_row r = {
            .row = sqlite3_column_int64(st, 0),
            .added_ms = sqlite3_column_int64(st, 1),
            .id = (const char *)sqlite3_column_text(st, 2),
            .type = (const char *)sqlite3_column_text(st, 3),
            .modified = mod ? mod : "",
            .tlp = (const char *)sqlite3_column_text(st, 5),
            .json = (const char *)sqlite3_column_text(st, 6),
            .current = sqlite3_column_int(st, 7) != 0,
        };
        if (r.json == NULL || r.id == NULL || r.type == NULL)
            continue;
        if ((rc = cb(&r, payload)) != 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = tide__store_db_error(s, "added");
    sqlite3_finalize(st);
    return rc;
}
