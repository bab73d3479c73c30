/*
 * store_bulkrows.c - row batches of a bulk load, written by one statement per batch.
 *
 * A first load into an empty store (store_sqlite.c, bulk mode) appends millions of rows to
 * objects, indicators and refs. One INSERT per row pays, besides the row itself, a statement
 * step: open the table cursor, seek the B-tree's last entry for the new rowid, halt, close,
 * reset. That is about 2 200 instructions of the 10 000 an objects row took (measured with
 * callgrind on 100 000 rows of the objects layout). Here the rows of a table gather in a batch
 * (values copied, so callers' buffers may change) and one `INSERT ... SELECT` from an
 * eponymous virtual table over the batch writes them all with one open cursor.
 *
 * Nothing is read back from a batch: store_sqlite.c writes the pending batches out before any
 * other statement runs (stmt(), tide__store_exec), so reads see every row put before them.
 * The table is read-only, has no constraints to use, and shows the batch as it is.
 *
 * Also tide_bulk_keys, the (id key, row) pairs of a load's objects rows, sorted, which its
 * commit streams into objects_keys the same way.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

typedef struct {
    sqlite3_vtab base;
    tide__rowbatch *b;
} rb_vtab;

typedef struct {
    sqlite3_vtab_cursor base;
    const tide__rowbatch *b;
    size_t row;
} rb_cursor;

static int rb_connect(
        sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out, char **err)
{
    (void)argc;
    (void)argv;
    (void)err;
    tide__rowbatch *b = aux;
    char decl[16 + TIDE__RB_MAXCOLS * 6];
    size_t n = (size_t)snprintf(decl, sizeof(decl), "CREATE TABLE x(");
    for (int i = 0; i < b->ncols; i++)
        n += (size_t)snprintf(decl + n, sizeof(decl) - n, "%sc%d", i ? "," : "", i);
    snprintf(decl + n, sizeof(decl) - n, ")");
    int rc = sqlite3_declare_vtab(db, decl);
    if (rc != SQLITE_OK)
        return rc;
    rb_vtab *v = sqlite3_malloc(sizeof(*v));
    if (v == NULL)
        return SQLITE_NOMEM;
    memset(v, 0, sizeof(*v));
    v->b = b;
    *out = &v->base;
    return SQLITE_OK;
}

static int rb_disconnect(sqlite3_vtab *vt)
{
    sqlite3_free(vt);
    return SQLITE_OK;
}

static int rb_best_index(sqlite3_vtab *vt, sqlite3_index_info *info)
{
    (void)vt;
    info->estimatedCost = 1e4;
    return SQLITE_OK;
}

static int rb_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out)
{
    rb_cursor *c = sqlite3_malloc(sizeof(*c));
    if (c == NULL)
        return SQLITE_NOMEM;
    memset(c, 0, sizeof(*c));
    c->b = ((rb_vtab *)vt)->b;
    *out = &c->base;
    return SQLITE_OK;
}

static int rb_close(sqlite3_vtab_cursor *cur)
{
    sqlite3_free(cur);
    return SQLITE_OK;
}

static int rb_filter(
        sqlite3_vtab_cursor *cur, int idx, const char *idxstr, int argc, sqlite3_value **argv)
{
    (void)idx;
    (void)idxstr;
    (void)argc;
    (void)argv;
    ((rb_cursor *)cur)->row = 0;
    return SQLITE_OK;
}

static int rb_next(sqlite3_vtab_cursor *cur)
{
    ((rb_cursor *)cur)->row++;
    return SQLITE_OK;
}

static int rb_eof(sqlite3_vtab_cursor *cur)
{
    const rb_cursor *c = (const rb_cursor *)cur;
    return c->row >= c->b->nvals / (size_t)c->b->ncols;
}

static int rb_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
    const rb_cursor *c = (const rb_cursor *)cur;
    const tide__rowbatch *b = c->b;
    const tide__rb_val *v = &b->vals[c->row * (size_t)b->ncols + (size_t)col];
    /* the batch and its bytes stay put until the statement that reads them is done */
    switch (v->type) {
        case SQLITE_INTEGER: sqlite3_result_int64(ctx, v->i); break;
        case SQLITE_TEXT:
            sqlite3_result_text(ctx, b->bytes.ptr + v->i, (int)v->len, SQLITE_STATIC);
            break;
        case SQLITE_BLOB:
            sqlite3_result_blob(ctx, b->bytes.ptr + v->i, (int)v->len, SQLITE_STATIC);
            break;
        default: sqlite3_result_null(ctx); break;
    }
    return SQLITE_OK;
}

static int rb_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *out)
{
    *out = (sqlite3_int64)((const rb_cursor *)cur)->row;
    return SQLITE_OK;
}

static const sqlite3_module rowbatch_module = {
    .iVersion = 0,
    .xCreate = NULL, /* eponymous only: never CREATE VIRTUAL TABLE'd into the schema */
    .xConnect = rb_connect,
    .xBestIndex = rb_best_index,
    .xDisconnect = rb_disconnect,
    .xDestroy = rb_disconnect,
    .xOpen = rb_open,
    .xClose = rb_close,
    .xFilter = rb_filter,
    .xNext = rb_next,
    .xEof = rb_eof,
    .xColumn = rb_column,
    .xRowid = rb_rowid,
};

int tide__rb_register(tide__sqlite *s, tide__rowbatch *b, const char *name, int ncols,
        const char *insert_sql, const char *then_sql, const char *what)
{
    if (ncols < 1 || ncols > TIDE__RB_MAXCOLS)
        return tide_error_set(TIDE_EINVAL, "row batch %s: %d columns", name, ncols);
    memset(b, 0, sizeof(*b));
    b->ncols = ncols;
    b->insert_sql = insert_sql;
    b->then_sql = then_sql;
    b->what = what;
    if (sqlite3_create_module_v2(s->db, name, &rowbatch_module, b, NULL) != SQLITE_OK)
        return tide__store_db_error(s, "register row batch");
    return 0;
}

static tide__rb_val *rb_slot(tide__rowbatch *b)
{
    if (b->nvals == b->capvals) {
        size_t nc = b->capvals ? b->capvals * 2 : (size_t)b->ncols * 256;
        tide__rb_val *nv = tide__realloc(b->vals, nc * sizeof(*nv));
        if (nv == NULL)
            return NULL;
        b->vals = nv;
        b->capvals = nc;
    }
    return &b->vals[b->nvals++];
}

int tide__rb_int(tide__rowbatch *b, int64_t v)
{
    tide__rb_val *s = rb_slot(b);
    TIDE_CHECK_ALLOC(s);
    s->type = SQLITE_INTEGER;
    s->i = v;
    s->len = 0;
    return 0;
}

static int rb_bytes(tide__rowbatch *b, const void *p, size_t n, int type)
{
    if (n > INT32_MAX)
        return tide_error_set(TIDE_ETOOBIG, "value of %zu bytes", n);
    tide__rb_val *s = rb_slot(b);
    TIDE_CHECK_ALLOC(s);
    s->type = type;
    s->i = (int64_t)b->bytes.len;
    s->len = (uint32_t)n;
    if (n && tide__buf_put(&b->bytes, p, n) < 0) {
        b->nvals--;
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    return 0;
}

int tide__rb_text(tide__rowbatch *b, const char *v, size_t n)
{
    if (v == NULL) {
        tide__rb_val *s = rb_slot(b);
        TIDE_CHECK_ALLOC(s);
        s->type = SQLITE_NULL;
        return 0;
    }
    return rb_bytes(b, v, n, SQLITE_TEXT);
}

int tide__rb_str(tide__rowbatch *b, const char *v)
{
    return tide__rb_text(b, v, v ? strlen(v) : 0);
}

int tide__rb_blob(tide__rowbatch *b, const void *v, size_t n)
{
    return rb_bytes(b, v, n, SQLITE_BLOB);
}

size_t tide__rb_rows(const tide__rowbatch *b)
{
    return b->nvals / (size_t)(b->ncols ? b->ncols : 1);
}

void tide__rb_clear(tide__rowbatch *b)
{
    b->nvals = 0;
    b->bytes.len = 0;
}

static int rb_run(tide__sqlite *s, const char *sql, sqlite3_stmt **st, const char *what)
{
    if (*st == NULL &&
            sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
        return tide__store_db_error(s, "prepare batch");
    int rc = sqlite3_step(*st) == SQLITE_DONE ? 0 : tide__store_db_error(s, what);
    sqlite3_reset(*st);
    return rc;
}

int tide__rb_flush(tide__sqlite *s, tide__rowbatch *b)
{
    if (b->nvals == 0)
        return 0;
    int rc = 0;
    if (b->nvals % (size_t)b->ncols != 0)
        rc = tide_error_set(TIDE_ESTORE, "row batch with a partial row");
    if (rc == 0)
        rc = rb_run(s, b->insert_sql, &b->insert, b->what);
    if (rc == 0 && b->then_sql)
        rc = rb_run(s, b->then_sql, &b->then, b->what);
    tide__rb_clear(b);
    return rc;
}

void tide__rb_free(tide__rowbatch *b)
{
    tide__rb_finalize(b);
    tide__free(b->vals);
    b->vals = NULL;
    b->nvals = b->capvals = 0;
    tide__buf_free(&b->bytes);
}

void tide__rb_finalize(tide__rowbatch *b)
{
    sqlite3_finalize(b->insert);
    sqlite3_finalize(b->then);
    b->insert = b->then = NULL;
}

/* ---- tide_bulk_keys: s->keys as a table (key, obj) ---- */

typedef struct {
    sqlite3_vtab base;
    tide__sqlite *s;
} bk_vtab;

typedef struct {
    sqlite3_vtab_cursor base;
    const tide__sqlite *s;
    size_t i;
} bk_cursor;

static int bk_connect(
        sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out, char **err)
{
    (void)argc;
    (void)argv;
    (void)err;
    int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(key INTEGER, obj INTEGER)");
    if (rc != SQLITE_OK)
        return rc;
    bk_vtab *v = sqlite3_malloc(sizeof(*v));
    if (v == NULL)
        return SQLITE_NOMEM;
    memset(v, 0, sizeof(*v));
    v->s = aux;
    *out = &v->base;
    return SQLITE_OK;
}

static int bk_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out)
{
    bk_cursor *c = sqlite3_malloc(sizeof(*c));
    if (c == NULL)
        return SQLITE_NOMEM;
    memset(c, 0, sizeof(*c));
    c->s = ((bk_vtab *)vt)->s;
    *out = &c->base;
    return SQLITE_OK;
}

static int bk_filter(
        sqlite3_vtab_cursor *cur, int idx, const char *idxstr, int argc, sqlite3_value **argv)
{
    (void)idx;
    (void)idxstr;
    (void)argc;
    (void)argv;
    ((bk_cursor *)cur)->i = 0;
    return SQLITE_OK;
}

static int bk_next(sqlite3_vtab_cursor *cur)
{
    ((bk_cursor *)cur)->i++;
    return SQLITE_OK;
}

static int bk_eof(sqlite3_vtab_cursor *cur)
{
    const bk_cursor *c = (const bk_cursor *)cur;
    return c->i >= c->s->nkeys || !c->s->bulk;
}

static int bk_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
    const bk_cursor *c = (const bk_cursor *)cur;
    const struct bulk_key *k = &c->s->keys[c->i];
    sqlite3_result_int64(ctx, col == 0 ? k->key : k->row);
    return SQLITE_OK;
}

static int bk_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *out)
{
    *out = (sqlite3_int64)((const bk_cursor *)cur)->i;
    return SQLITE_OK;
}

static const sqlite3_module bulkkeys_module = {
    .iVersion = 0,
    .xCreate = NULL,
    .xConnect = bk_connect,
    .xBestIndex = rb_best_index,
    .xDisconnect = rb_disconnect,
    .xDestroy = rb_disconnect,
    .xOpen = bk_open,
    .xClose = rb_close,
    .xFilter = bk_filter,
    .xNext = bk_next,
    .xEof = bk_eof,
    .xColumn = bk_column,
    .xRowid = bk_rowid,
};

int tide__store_bulkkeys_register(tide__sqlite *s)
{
    if (sqlite3_create_module_v2(s->db, "tide_bulk_keys", &bulkkeys_module, s, NULL) != SQLITE_OK)
        return tide__store_db_error(s, "register tide_bulk_keys");
    return 0;
}
