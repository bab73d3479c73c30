/*
 * store_bulkobs.c - the observables a bulk load gathered, as a table SQLite can read.
 *
 * A first load collects the observables of its indicators in memory and, at commit, writes
 * them to obs_idx sorted by key (store_sqlite.c, write_bulk_obs). Written one INSERT per row,
 * each row paid a statement step, four binds and a reset: about 6 000 instructions, 1.5 to
 * 2.4 s for a million observables. As one `INSERT ... SELECT` from this eponymous virtual
 * table the rows stream through a single statement at about half that. The table is
 * read-only, has no constraints to use, and shows the load's array as it is at the time of
 * the read: entries whose kind is < 0 (superseded by a rewrite) are skipped. It exists only
 * on tide's own connection, and only yields rows while a bulk load is committing.
 */
#include <sqlite3.h>
#include <stddef.h>
#include <string.h>

#include "store/store_int.h"

typedef struct {
    sqlite3_vtab base;
    tide__sqlite *s;
} bulkobs_vtab;

typedef struct {
    sqlite3_vtab_cursor base;
    tide__sqlite *s;
    size_t i; /* current entry of s->obs */
} bulkobs_cursor;

static int bo_connect(
        sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out, char **err)
{
    (void)argc;
    (void)argv;
    (void)err;
    int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(kind INTEGER, vkey INTEGER, obj INTEGER, "
                                      "value TEXT)");
    if (rc != SQLITE_OK)
        return rc;
    bulkobs_vtab *v = sqlite3_malloc(sizeof(*v));
    if (v == NULL)
        return SQLITE_NOMEM;
    memset(v, 0, sizeof(*v));
    v->s = aux;
    *out = &v->base;
    return SQLITE_OK;
}

static int bo_disconnect(sqlite3_vtab *vt)
{
    sqlite3_free(vt);
    return SQLITE_OK;
}

static int bo_best_index(sqlite3_vtab *vt, sqlite3_index_info *info)
{
    (void)vt;
    info->estimatedCost = 1e6;
    return SQLITE_OK;
}

static int bo_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out)
{
    bulkobs_cursor *c = sqlite3_malloc(sizeof(*c));
    if (c == NULL)
        return SQLITE_NOMEM;
    memset(c, 0, sizeof(*c));
    c->s = ((bulkobs_vtab *)vt)->s;
    *out = &c->base;
    return SQLITE_OK;
}

static int bo_close(sqlite3_vtab_cursor *cur)
{
    sqlite3_free(cur);
    return SQLITE_OK;
}

/* past superseded entries, from c->i on */
static void bo_settle(bulkobs_cursor *c)
{
    while (c->i < c->s->nobs && c->s->obs[c->i].kind < 0)
        c->i++;
}

static int bo_filter(
        sqlite3_vtab_cursor *cur, int idx, const char *idxstr, int argc, sqlite3_value **argv)
{
    (void)idx;
    (void)idxstr;
    (void)argc;
    (void)argv;
    bulkobs_cursor *c = (bulkobs_cursor *)cur;
    c->i = 0;
    if (!c->s->bulk)
        c->i = c->s->nobs; /* nothing outside a bulk load */
    bo_settle(c);
    return SQLITE_OK;
}

static int bo_next(sqlite3_vtab_cursor *cur)
{
    bulkobs_cursor *c = (bulkobs_cursor *)cur;
    c->i++;
    bo_settle(c);
    return SQLITE_OK;
}

static int bo_eof(sqlite3_vtab_cursor *cur)
{
    const bulkobs_cursor *c = (const bulkobs_cursor *)cur;
    return c->i >= c->s->nobs || !c->s->bulk;
}

static int bo_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
    const bulkobs_cursor *c = (const bulkobs_cursor *)cur;
    const struct bulk_obs *b = &c->s->obs[c->i];
    switch (col) {
        case 0: sqlite3_result_int(ctx, b->kind); break;
        case 1: sqlite3_result_int64(ctx, b->vkey); break;
        case 2: sqlite3_result_int64(ctx, b->obj); break;
        default: /* the array and its values stay put until the load ends */
            sqlite3_result_text(ctx, c->s->obs_vals.ptr + b->val, -1, SQLITE_STATIC);
            break;
    }
    return SQLITE_OK;
}

static int bo_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *out)
{
    *out = (sqlite3_int64)((const bulkobs_cursor *)cur)->i;
    return SQLITE_OK;
}

static const sqlite3_module bulkobs_module = {
    .iVersion = 0,
    .xCreate = NULL, /* eponymous only: never CREATE VIRTUAL TABLE'd into the schema */
    .xConnect = bo_connect,
    .xBestIndex = bo_best_index,
    .xDisconnect = bo_disconnect,
    .xDestroy = bo_disconnect,
    .xOpen = bo_open,
    .xClose = bo_close,
    .xFilter = bo_filter,
    .xNext = bo_next,
    .xEof = bo_eof,
    .xColumn = bo_column,
    .xRowid = bo_rowid,
};

int tide__store_bulkobs_register(tide__sqlite *s)
{
    if (sqlite3_create_module_v2(s->db, "tide_bulk_obs", &bulkobs_module, s, NULL) != SQLITE_OK)
        return tide__store_db_error(s, "register tide_bulk_obs");
    return 0;
}
