/*
 * store_intel.c - the SQLite side of the active-intel scan (tide_store_each_indicator_obs,
 * whose walk of the relationship graph is backend-independent: graph.c): the current
 * indicators with their context and observables, the named objects and references the walk
 * reads (all of them, or those of one key), and whether few objects changed since a time.
 * Also the intel generation counter that tells a long-running matcher to rebuild.
 *
 * The graph's keys are the 64-bit id keys the store already holds (objects.id_key,
 * refs.source_key / target_key, and the id_key in each indicator's packed record), so no id
 * text is read or hashed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "util/util.h"

/* The named objects a scan reports indicators against. The condition of objects_sdo is said,
 * so that its index serves (schema 9): without it SQLite scanned every current object, a
 * second more of each match index build over a million indicators (a test checks the plan). */
const char tide__store_named_nodes_sql[] =
        "SELECT id_key, type, name FROM objects WHERE is_current AND "
        "type NOT IN ('indicator', 'relationship') AND type IN "
        "('campaign', 'malware', 'tool', 'intrusion-set', 'threat-actor')";

static const char *col(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

int tide__sqlite_graph(tide_store_backend *be,
        int (*on_node)(const tide_store_node *n, void *payload),
        int (*on_edge)(const tide_store_edge *e, void *payload), void *payload)
{
    tide__sqlite *s = tide__sq(be);
    /* every reference is read once: a small page cache (restored at the end) */
    TIDE_CHECK(tide__store_exec(s, "PRAGMA cache_size = " SCAN_CACHE));
    sqlite3_stmt *st = NULL;
    int rc = 0, step = SQLITE_DONE;
    if (sqlite3_prepare_v2(s->db, tide__store_named_nodes_sql, -1, &st, NULL) != SQLITE_OK) {
        rc = tide__store_db_error(s, "prepare");
        goto out;
    }
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        tide_store_node n = { sqlite3_column_int64(st, 0), col(st, 1), col(st, 2) };
        rc = on_node(&n, payload);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = tide__store_db_error(s, "read named objects");
    sqlite3_finalize(st);
    st = NULL;
    if (rc != 0)
        goto out;
    /* the keys alone: the walk does not read the type (which would cost a column a row) */
    if (sqlite3_prepare_v2(s->db, "SELECT source_key, target_key FROM refs", -1, &st, NULL) !=
            SQLITE_OK) {
        rc = tide__store_db_error(s, "prepare");
        goto out;
    }
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        tide_store_edge e = { sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), NULL };
        rc = on_edge(&e, payload);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = tide__store_db_error(s, "read relationships");
    sqlite3_finalize(st);
out:;
    int crc = tide__store_exec(s, "PRAGMA cache_size = " STORE_CACHE);
    return rc != 0 ? rc : crc;
}

int tide__sqlite_node(tide_store_backend *be, int64_t key,
        int (*cb)(const tide_store_node *n, void *payload), void *payload)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st = tide__store_stmt(s, ST_NODE);
    if (st == NULL)
        return TIDE_ESTORE;
    sqlite3_bind_int64(st, 1, key);
    int rc = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        tide_store_node n = { key, col(st, 0), col(st, 1) };
        if ((rc = cb(&n, payload)) != 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = tide__store_db_error(s, "read named object");
    sqlite3_reset(st);
    return rc;
}

typedef struct {
    int64_t rowid, a, b;
    uint32_t type; /* offset of the NUL-terminated rel_type in the buffer */
} ref_row;

static int cmp_ref_row(const void *x, const void *y)
{
    const ref_row *p = x, *q = y;
    return p->rowid < q->rowid ? -1 : p->rowid > q->rowid;
}

int tide__sqlite_edges_of(tide_store_backend *be, int64_t key,
        int (*cb)(const tide_store_edge *e, void *payload), void *payload)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st = tide__store_stmt(s, ST_EDGES_OF);
    if (st == NULL)
        return TIDE_ESTORE;
    sqlite3_bind_int64(st, 1, key);
    /* the two index lookups give the refs out of order: gathered (copied, so a callback may
     * use the statement again), then sorted into store order */
    ref_row *rows = NULL;
    size_t n = 0, cap = 0;
    tide_buf types = TIDE_BUF_INIT;
    int rc = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            ref_row *nr = tide__realloc(rows, nc * sizeof(*nr));
            if (nr == NULL) {
                rc = tide_error_set(TIDE_ENOMEM, "out of memory");
                break;
            }
            rows = nr;
            cap = nc;
        }
        const char *t = col(st, 3);
        rows[n] = (ref_row){ sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
            sqlite3_column_int64(st, 2), (uint32_t)types.len };
        if ((rc = tide__buf_put(&types, t ? t : "", (t ? strlen(t) : 0) + 1)) < 0)
            break;
        n++;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = tide__store_db_error(s, "read relationships");
    sqlite3_reset(st);
    if (n > 1)
        qsort(rows, n, sizeof(ref_row), cmp_ref_row);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        tide_store_edge e = { rows[i].a, rows[i].b, types.ptr + rows[i].type };
        rc = cb(&e, payload);
    }
    tide__free(rows);
    tide__buf_free(&types);
    return rc;
}

int tide__sqlite_few_changed(tide_store_backend *be, int64_t since, bool *out_few)
{
    /* Few enough objects changed since T for the per-indicator queries of a selective scan
     * (about three B-tree probes per indicator) to beat loading the graph (one pass over
     * refs)? The hunt after a first load of a million indicators selects them all, where the
     * probes would take half a minute and the graph well under a second. */
    tide__sqlite *s = tide__sq(be);
    *out_few = false;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                "WITH c(cap) AS (SELECT 1024 + coalesce(max(rowid), 0) / 8 FROM refs) "
                "SELECT (SELECT count(*) FROM (SELECT 1 FROM objects INDEXED BY objects_changed "
                "WHERE is_current AND changed_at >= ?1 LIMIT (SELECT cap FROM c))) < cap FROM c",
                -1, &st, NULL) != SQLITE_OK)
        return tide__store_db_error(s, "prepare");
    sqlite3_bind_int64(st, 1, since);
    int step = sqlite3_step(st);
    *out_few = step == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
    sqlite3_finalize(st);
    if (step != SQLITE_ROW)
        return tide__store_db_error(s, "count changed objects");
    return 0;
}

/* An indicators row's packed observables (i.obs: per observable "<kind> <byte length>
 * <value>") as an array, the values NUL-terminated copies in one buffer. */
typedef struct {
    tide_obs_ref *v;
    size_t n, cap;
    tide_buf vals;
} obs_list;

static int obs_decode(obs_list *l, const char *p, const char *end)
{
    l->n = 0;
    tide__buf_clear(&l->vals);
    /* every value and its NUL fit in the packed text's length: one growth per row */
    if (end > p)
        TIDE_CHECK(tide__buf_grow(&l->vals, (size_t)(end - p) + 1));
    while (p < end) {
        long k = 0;
        size_t n = 0;
        int digits = 0;
        while (p < end && *p >= '0' && *p <= '9' && digits < 9) {
            k = k * 10 + (*p++ - '0');
            digits++;
        }
        if (digits == 0 || p >= end || *p++ != ' ')
            return tide_error_set(TIDE_ESTORE, "corrupt observable list in the store");
        digits = 0;
        while (p < end && *p >= '0' && *p <= '9' && digits < 12) {
            n = n * 10 + (size_t)(*p++ - '0');
            digits++;
        }
        if (digits == 0 || p >= end || *p++ != ' ' || n > (size_t)(end - p))
            return tide_error_set(TIDE_ESTORE, "corrupt observable list in the store");
        if (l->n == l->cap) {
            size_t nc = l->cap ? l->cap * 2 : 8;
            tide_obs_ref *nv = tide__realloc(l->v, nc * sizeof(*nv));
            TIDE_CHECK_ALLOC(nv);
            l->v = nv;
            l->cap = nc;
        }
        /* the value's offset for now: the pointers are set when the buffer is complete */
        l->v[l->n].kind = (tide_obs_kind)k;
        l->v[l->n].value = (const char *)(uintptr_t)l->vals.len;
        l->n++;
        memcpy(l->vals.ptr + l->vals.len, p, n);
        l->vals.len += n;
        l->vals.ptr[l->vals.len++] = '\0';
        p += n;
    }
    for (size_t i = 0; i < l->n; i++)
        l->v[i].value = l->vals.ptr + (uintptr_t)l->v[i].value;
    return 0;
}

int tide__sqlite_scan(tide_store_backend *be, const tide_indicator_filter *f, bool selective,
        int (*cb)(const tide_store_scan_row *row, void *payload), void *payload)
{
    tide__sqlite *s = tide__sq(be);
    /* the selected objects drive the scan only when there is a selection */
    selective = selective && f && (f->value || f->changed_since);
    obs_list ol = { 0 };
    sqlite3_stmt *st = NULL;
    int rc = 0;
    bool small_cache = false;
    if (!selective) {
        /* every indicator is read once: a small page cache (restored at the end) */
        TIDE_CHECK(tide__store_exec(s, "PRAGMA cache_size = " SCAN_CACHE));
        small_cache = true;
    }
    tide_buf sql = TIDE_BUF_INIT;
    /* one row per indicator: its packed record (schema 7) and its observables (packed in
     * i.obs) */
    static const char cols[] = "SELECT i.rec, i.obs ";
    rc = tide__buf_puts(&sql, cols);
    if (rc == 0)
        rc = tide__buf_puts(&sql,
                selective
                        /* driven by the selected objects */
                        ? (f->value ? "FROM objects o CROSS JOIN indicators i ON i.obj = o.rowid "
                                      "WHERE o.is_current"
                                    /* the objects changed since T, by their index */
                                    : "FROM objects o INDEXED BY objects_changed CROSS JOIN "
                                      "indicators i "
                                      "ON i.obj = o.rowid WHERE o.is_current")
                        /* every indicator, in store order: its row alone has all the scan needs
                         * (schema 7), and only current versions have one */
                        : "FROM indicators i WHERE 1");
    if (rc == 0 && f && f->source)
        rc = tide__buf_puts(&sql, " AND i.source = :source");
    if (rc == 0 && f && f->changed_since) /* the objects_changed range when selective */
        rc = tide__buf_puts(
                &sql, selective ? " AND o.changed_at >= :since" : " AND i.changed_at >= :since");
    if (rc == 0 && !(f && f->include_revoked))
        rc = tide__buf_puts(&sql, " AND NOT i.revoked");
    if (rc == 0 && f && f->value) {
        /* the (kind, vkey) index: every kind, the value's key, then the value itself */
        rc = tide__buf_puts(&sql, selective ? " AND o.rowid IN (" : " AND i.obj IN (");
        if (rc == 0)
            rc = tide__buf_puts(&sql, "SELECT obj FROM obs_idx WHERE kind IN (");
        for (int k = 1; rc == 0 && k < TIDE_OBS__COUNT; k++)
            rc = tide__buf_printf(&sql, "%s%d", k > 1 ? "," : "", k);
        if (rc == 0)
            rc = tide__buf_puts(&sql,
                    ") AND vkey = tide_key(:value) AND value = :value "
                    "UNION SELECT k.obj FROM objects_keys k JOIN objects x ON x.rowid = k.obj "
                    "WHERE k.id_key = tide_key(:value) AND x.id = :value AND x.is_current)");
    }
    /* store (rowid) order, no sort */
    if (rc < 0) {
        tide__buf_free(&sql);
        goto out;
    }
    if (sqlite3_prepare_v2(s->db, sql.ptr, -1, &st, NULL) != SQLITE_OK) {
        tide__buf_free(&sql);
        rc = tide__store_db_error(s, "prepare");
        goto out;
    }
    tide__buf_free(&sql);
    if (f && f->source)
        tide__store_bind_text(st, sqlite3_bind_parameter_index(st, ":source"), f->source);
    if (f && f->changed_since)
        sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":since"), f->changed_since);
    if (f && f->value)
        tide__store_bind_text(st, sqlite3_bind_parameter_index(st, ":value"), f->value);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        tide__ind_rec ir;
        if ((rc = tide__store_ind_unpack(
                     sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), &ir)) < 0)
            goto out;
        const char *p = col(st, 1);
        if (p == NULL && !(f && f->include_unindexed))
            continue; /* no observables: nothing to report */
        if (p == NULL)
            ol.n = 0; /* reported with none: the scan's caller evaluates or lists it */
        else if ((rc = obs_decode(&ol, p, p + sqlite3_column_bytes(st, 1))) < 0)
            goto out;
        tide_store_scan_row row = {
            .key = ir.id_key,
            .ind = {
                .id = ir.id, .name = ir.name, .source = ir.source, .tlp = ir.tlp,
                .kill_chain = ir.kill_chain, .pattern = ir.pattern,
                .pattern_type = ir.pattern_type,
                .reliability = ir.reliability ? ir.reliability[0] : '\0',
                .confidence = ir.confidence_null ? -1 : (int)ir.confidence,
                .valid_from = ir.valid_from, .valid_until = ir.valid_until,
                .created = ir.created, .modified = ir.modified, .changed_at = ir.changed_at,
                .simple = ir.simple, .revoked = ir.revoked,
            },
            .obs = ol.v,
            .nobs = ol.n,
        };
        if ((rc = cb(&row, payload)) != 0)
            goto out;
    }
    rc = step == SQLITE_DONE ? 0 : tide__store_db_error(s, "scan indicators");
out:
    sqlite3_finalize(st);
    if (small_cache) {
        int crc = tide__store_exec(s, "PRAGMA cache_size = " STORE_CACHE);
        if (rc == 0)
            rc = crc;
    }
    tide__free(ol.v);
    tide__buf_free(&ol.vals);
    return rc;
}

int tide__sqlite_intel_generation(tide_store_backend *be, int64_t *out)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'intel_gen'", -1, &st,
                NULL) != SQLITE_OK)
        return tide__store_db_error(s, "prepare");
    int step = sqlite3_step(st);
    *out = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return tide__store_db_error(s, "read intel generation");
    return 0;
}
