/*
 * store_int.h - internals of the SQLite backend of the store shared by its files
 * (store_sqlite.c, store_intel.c, store_sightings.c, store_assets.c, store_cases.c and the
 * bulk-load helpers): the backend's handle, the prepared statement cache of store_sqlite.c,
 * the small helpers those files use, and the backend functions each of them implements (the
 * table of include/tide/sys/store_backend.h is filled in store_sqlite.c). Nothing outside
 * src/store includes this, but for tests that look at the SQL tables.
 */
#ifndef TIDE_STORE_INT_H
#define TIDE_STORE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "tide/store.h"
#include "tide/sys/store_backend.h"
#include "util/util.h"

enum {
    ST_VERSION_EXISTS,
    ST_NAME_INSERT,
    ST_DROP_NAMES,
    ST_BULK_ROW,
    ST_CUR_GET,
    ST_CUR_ROWID,
    ST_OBJ_INSERT,
    ST_OBJ_UNCURRENT,
    ST_OBJ_REWRITE,
    ST_DROP_IND,
    ST_DROP_OBS,
    ST_DROP_REFS,
    ST_IND_UPSERT,
    ST_OBS_INSERT,
    ST_REF_INSERT,
    ST_GET_CURRENT,
    ST_GET_VERSION,
    ST_VERSIONS,
    ST_IND_GET,
    ST_LOOKUP,
    ST_IND_OBS,
    ST_IND_OBSLIST,
    ST_OBJ_CTX,
    ST_NODE,
    ST_EDGES_OF,
    ST__COUNT
};

/* Open-addressing map from the 64-bit hash of an id to the objects row of its current
 * version, used while a bulk load runs without the objects_id index. Collisions of the hash
 * are told apart by reading the row's id. */
typedef struct {
    struct idslot {
        uint64_t key; /* 0 = empty slot (a zero hash is stored as 1) */
        int64_t row;
    } * slots; /* key and row side by side: one cache miss per probe of a big map */
    size_t cap, n;
    bool mapped; /* slots come from mmap (store_sqlite.c, idmap_alloc), else the heap */
} idmap;

/* A batch of rows for one table during a bulk load (store_bulkrows.c): values appended a
 * column at a time, row after row, copied; written by one INSERT ... SELECT from the eponymous
 * virtual table registered for it. */
#define TIDE__RB_MAXCOLS 16
typedef struct {
    int64_t i;    /* SQLITE_INTEGER: the value; TEXT / BLOB: offset in bytes */
    uint32_t len; /* TEXT / BLOB: length */
    int type;     /* SQLITE_INTEGER, SQLITE_TEXT, SQLITE_BLOB or SQLITE_NULL */
} tide__rb_val;
typedef struct {
    int ncols;
    tide__rb_val *vals; /* nvals / ncols rows */
    size_t nvals, capvals;
    tide_buf bytes;
    const char *insert_sql, *what; /* the INSERT ... SELECT that writes the batch; its errors */
    const char *then_sql;          /* NULL, or a statement run over the batch after it */
    sqlite3_stmt *insert, *then;
} tide__rowbatch;

/* The SQLite backend: its table of functions first, so that a tide_store_backend * is a
 * tide__sqlite * (sq() in the files below). */
typedef struct tide__sqlite tide__sqlite;
struct tide__sqlite {
    tide_store_backend parent;
    sqlite3 *db;
    char *db_path;
    sqlite3_stmt *st[ST__COUNT];
    int in_tx;
    /* scratch for the indicator function's results */
    char *ind_strs[8];
    /* the objects row of the last new current version, so the indexes that the ingest core
     * adds right after it need no lookup */
    char last_id[256]; /* "" when none (or too long to remember) */
    sqlite3_int64 last_rowid;
    bool last_new; /* that row is a new id: it has no derived index rows to replace yet */
    /* ... and the columns of that row an indicators row copies (schema 7): name, source and
     * tlp NUL-terminated in last_ctx at the offsets, -1 = NULL; the row's changed_at */
    tide_buf last_ctx;
    int32_t last_name, last_source, last_tlp;
    int64_t last_changed;
    int64_t put_now;           /* the time of the put_object running */
    tide_buf put_obs, put_rec; /* put_indicator's packed observables and record, reused */
    /* bulk mode: a first load into an empty store (see tide_store_begin_load) */
    bool bulk;
    idmap ids;              /* hash of id -> objects row of its current version */
    sqlite3_int64 *retired; /* rows that stopped being current during the load */
    size_t nretired, capretired;
    long bulk_older;       /* older versions loaded: duplicates possible */
    bool journal_switched; /* bulk load runs with a rollback journal; WAL again after it */
    int wb_fd; /* bulk load: SQLite's descriptor of the file its pages go to (the database,
                * or the WAL) for early writeback (store_writeback.c), -1 when not found;
                * never closed by tide */
    /* waiting for another connection's lock (store_sqlite.c, busy_wait): how long a call may
     * wait (TIDE_STORE_WAIT, default 60 s), when the current wait began and how long the
     * last one lasted, for the message when it gives up */
    int64_t wait_ms, busy_since_ms, busy_waited_ms;
    bool busy_gave_up; /* the last wait ran out: the next SQLITE_BUSY is that one */
    /* observables of the indicators loaded, written to obs_idx in key order at commit */
    struct bulk_obs {
        sqlite3_int64 vkey, obj;
        uint32_t val; /* offset of the NUL-terminated value in obs_vals */
        int kind;     /* < 0: superseded by a rewrite */
    } * obs;
    size_t nobs, capobs;
    tide_buf obs_vals;
    /* rows of objects, indicators and refs not yet written (store_bulkrows.c), and the rowid
     * the next objects row gets: the table is empty when the load starts and only appended
     * to, so rowids go 1, 2, 3 ... (checked at every write of the batch) */
    tide__rowbatch rb_objects, rb_indicators, rb_refs;
    sqlite3_int64 next_obj;
    /* ... (id key, row) of every objects row the load wrote, for objects_keys at commit */
    struct bulk_key {
        sqlite3_int64 key, row;
    } * keys;
    size_t nkeys, capkeys;
    /* ... and its current objects counted per (type, source, tlp) (store_sqlite.c,
     * bulk_count): key "type\0source\0tlp\0" -> index in count_n; count_key's start holds
     * the key of count_n[last_count] */
    tide_strmap count_keys;
    int64_t *count_n;
    size_t ncount, capcount;
    uint32_t last_count;
    tide_buf count_key;
    /* derived objects rewritten in place during the load: their index rows up to the marks
     * (obs_mark: an index into obs) belong to the replaced content and go at commit */
    struct rewrite {
        sqlite3_int64 obj, obs_mark, refs_mark, names_mark;
    } * rewritten;
    size_t nrewritten, caprewritten;
    bool intel_dirty; /* the open transaction changed intel: commit bumps meta.intel_gen */
    /* the related function's statement, reused unless a callback walks further (nested calls
     * prepare their own) */
    sqlite3_stmt *related_st[2]; /* be_related's statements: every relationship; named ends */
    bool related_busy;
};

/* The cached statement `which` of stmt_sql (store_sqlite.c), reset, or NULL with the error
 * recorded. Pending bulk-load rows are written first. */
sqlite3_stmt *tide__store_stmt(tide__sqlite *s, int which);
/* Note an intel change: bumps meta.intel_gen now, or at commit inside a transaction. */
int tide__store_intel_changed(tide__sqlite *s);
/* Error from the last SQLite call on s->db, as TIDE_ESTORE "what: message" (with the system
 * error when there is one: "database or disk is full (No space left on device)"); a lock held
 * too long by another process is "the store is being written by another tide process (waited
 * N s)". */
int tide__store_db_error(tide__sqlite *s, const char *what);
/* Run SQL without results. */
int tide__store_exec(tide__sqlite *s, const char *sql);

/* SQLite page cache sizes (PRAGMA cache_size, negative = KiB) */
#define STORE_CACHE "-262144" /* the default: 256 MiB, for ingest's random B-tree updates */
/* while a full scan reads every indicator once: the pages are not read again, and growing a
 * 256 MiB cache for them costs a page fault and a cleared page each (a quarter of the system
 * time of an index build, 265 MB of its peak RSS) */
#define SCAN_CACHE "-8192"
/* Bind text (NULL binds NULL); the text must outlive the step. */
void tide__store_bind_text(sqlite3_stmt *st, int i, const char *v);
/* The eponymous virtual table tide_bulk_obs over a bulk load's observables
 * (store_bulkobs.c), registered on the store's connection. */
int tide__store_bulkobs_register(tide__sqlite *s);
/* Row batches (store_bulkrows.c): register b as the eponymous table `name` with ncols columns
 * c0, c1 ...; insert_sql is the statement that writes its rows, then_sql (or NULL) one that
 * runs over the same rows after it, what names their errors. */
int tide__rb_register(tide__sqlite *s, tide__rowbatch *b, const char *name, int ncols,
        const char *insert_sql, const char *then_sql, const char *what);
/* Append one value to the batch (NULL text: SQL NULL); 0 or TIDE_ENOMEM. */
int tide__rb_int(tide__rowbatch *b, int64_t v);
int tide__rb_text(tide__rowbatch *b, const char *v, size_t n);
int tide__rb_str(tide__rowbatch *b, const char *v);
int tide__rb_blob(tide__rowbatch *b, const void *v, size_t n);
size_t tide__rb_rows(const tide__rowbatch *b);
/* Write the batch's rows and empty it (emptied on error too). */
int tide__rb_flush(tide__sqlite *s, tide__rowbatch *b);
void tide__rb_clear(tide__rowbatch *b);
void tide__rb_finalize(tide__rowbatch *b); /* drop the prepared statement */
void tide__rb_free(tide__rowbatch *b);
/* store_intel.c's query of the named objects (campaign, malware ...) an active-intel scan
 * loads; a test checks that it runs on the index objects_sdo. */
extern const char tide__store_named_nodes_sql[];
/* The eponymous virtual table tide_bulk_keys over s->keys (store_bulkrows.c). */
int tide__store_bulkkeys_register(tide__sqlite *s);
/* Early writeback during a bulk load (store_writeback.c): SQLite's descriptor of the database
 * file at db_path, or -1; and the hint to start writing its dirty pages (fd < 0: nothing). */
int tide__store_writeback_fd(const char *db_path);
void tide__store_writeback(int fd);
/* The 64-bit key (XXH3) under which a text is indexed; also SQL tide_key(). */
sqlite3_int64 tide__store_text_key(const char *t);

/* indicators.obs, the observables of an indicator packed in one text: per observable
 * "<kind> <byte length> <value>". tide__store_obs_next reads the entry at *p (advancing it)
 * into kind / value (NUL-terminated copy in *scratch); 0 at the end, 1 for an entry, < 0 when
 * the text is malformed (TIDE_ESTORE). */
int tide__store_obs_pack(tide_buf *out, const tide_obs_ref *obs, size_t nobs);

/* The packed record of an indicators row (schema 7, store_indrec.c): strings borrowed (from
 * the caller when packing; pointing into the BLOB when unpacked). */
typedef struct {
    const char *id, *name, *source, *tlp, *kill_chain, *pattern, *pattern_type, *reliability;
    int64_t id_key, confidence, valid_from, valid_until, created, modified, changed_at;
    bool confidence_null, simple, revoked;
} tide__ind_rec;
int tide__store_ind_pack(tide_buf *out, const tide__ind_rec *r);
/* 0, or TIDE_ESTORE when the BLOB is not a well-formed record */
int tide__store_ind_unpack(const void *blob, size_t n, tide__ind_rec *out);
/* SQL function tide_indicator_pack(17 values), for migration 7 */
void tide__store_sql_ind_pack(sqlite3_context *ctx, int argc, sqlite3_value **argv);
int tide__store_obs_next(const char **p, const char *end, tide_obs_kind *kind, tide_buf *scratch);

/* ---- the backend's functions (include/tide/sys/store_backend.h says what each does) ---- */

static inline tide__sqlite *tide__sq(tide_store_backend *be)
{
    return (tide__sqlite *)be;
}
/* The SQLite backend behind a store, or a backend as the SQLite one; NULL when it is another
 * backend (a wrapper's inner backend is not looked through). For tests that read the
 * tables. */
tide__sqlite *tide__store_sqlite(tide_store *store);
tide__sqlite *tide__store_sqlite_backend(tide_store_backend *be);

/* store_sqlite.c: transactions (store_sightings.c and store_assets.c open their own) */
int tide__sqlite_begin(tide_store_backend *be);
int tide__sqlite_commit(tide_store_backend *be);
int tide__sqlite_rollback(tide_store_backend *be);
/* store_intel.c */
int tide__sqlite_scan(tide_store_backend *be, const tide_indicator_filter *f, bool selective,
        int (*cb)(const tide_store_scan_row *row, void *payload), void *payload);
int tide__sqlite_graph(tide_store_backend *be,
        int (*on_node)(const tide_store_node *n, void *payload),
        int (*on_edge)(const tide_store_edge *e, void *payload), void *payload);
int tide__sqlite_node(tide_store_backend *be, int64_t key,
        int (*cb)(const tide_store_node *n, void *payload), void *payload);
int tide__sqlite_edges_of(tide_store_backend *be, int64_t key,
        int (*cb)(const tide_store_edge *e, void *payload), void *payload);
int tide__sqlite_few_changed(tide_store_backend *be, int64_t since, bool *out_few);
int tide__sqlite_intel_generation(tide_store_backend *be, int64_t *out);
/* store_sightings.c */
int tide__sqlite_put_sightings(tide_store_backend *be, const tide_sighting_rec *recs, size_t n);
int tide__sqlite_put_positions(tide_store_backend *be, const tide_read_position *v, size_t n);
/* store_keys.c: API keys and the audit log (schema 13) */
int tide__sqlite_key_put(tide_store_backend *be, const tide_store_key *key);
int tide__sqlite_key_by_hash(tide_store_backend *be, const char *hash,
        int (*cb)(const tide_store_key *key, void *payload), void *payload);
int tide__sqlite_keys(
        tide_store_backend *be, int (*cb)(const tide_store_key *key, void *payload), void *payload);
int tide__sqlite_key_revoke(tide_store_backend *be, const char *name, int64_t at);
int tide__sqlite_audit_add(tide_store_backend *be, const tide_store_audit *e);
int tide__sqlite_audit(tide_store_backend *be, int64_t since, long limit,
        int (*cb)(const tide_store_audit *e, void *payload), void *payload);
/* store_delete.c: versions of an object deleted (TAXII DELETE); the type of the row that keeps
 * a deleted highest rowid from being given again (skipped by every listing) */
#define TIDE_GAP_TYPE "x-tide-gap"
/* store_delete.c: versions of an object deleted (TAXII DELETE) */
int tide__sqlite_delete_versions(tide_store_backend *be, const char *id,
        const char *const *versions, size_t n, tide_store_deleted *out);
/* store_sqlite.c: drop what was derived from the current version at rowid (indicator,
 * observables, names, references) */
int tide__sqlite_drop_indexes(tide__sqlite *s, sqlite3_int64 rowid);
/* store_added.c: object versions by the order they were added (TAXII) */
int tide__sqlite_added(tide_store_backend *be, const tide_store_added_query *q,
        int (*cb)(const tide_store_added_row *row, void *payload), void *payload);
int tide__sqlite_positions(tide_store_backend *be,
        int (*cb)(const char *key, uint64_t pos, void *payload), void *payload);
int tide__sqlite_sightings(tide_store_backend *be, const tide_sighting_query *q,
        int (*cb)(const tide_sighting_rec *rec, void *payload), void *payload);
/* store_assets.c */
int tide__sqlite_put_asset(tide_store_backend *be, const tide_asset *a);
int tide__sqlite_each_asset(
        tide_store_backend *be, int (*cb)(const tide_asset *asset, void *payload), void *payload);
int tide__sqlite_export_state_get(tide_store_backend *be, const char *key, int64_t *out_serial,
        char **out_entries, size_t *out_len);
int tide__sqlite_export_state_put(tide_store_backend *be, const char *key, const char *format,
        int64_t serial, const char *entries, size_t len);
/* store_cases.c */
int tide__sqlite_sighting_by_id(
        tide_store_backend *be, int64_t id, char **out_host, char **out_indicator_id);
int tide__sqlite_case_put(tide_store_backend *be, const tide_store_case *row, int64_t *out_id);
int tide__sqlite_case_get(tide_store_backend *be, int64_t id,
        int (*cb)(const tide_store_case *row, void *payload), void *payload);
int tide__sqlite_case_ids(
        tide_store_backend *be, int (*cb)(int64_t id, void *payload), void *payload);
int tide__sqlite_case_find_covering(
        tide_store_backend *be, const char *host, const char *indicator_id, int64_t *out_id);
int tide__sqlite_case_host_put(
        tide_store_backend *be, int64_t case_id, const tide_store_case_host *host);
int tide__sqlite_case_hosts(tide_store_backend *be, int64_t case_id,
        int (*cb)(const tide_store_case_host *host, void *payload), void *payload);
int tide__sqlite_case_indicators_add(
        tide_store_backend *be, int64_t case_id, const char *const *ids, size_t n);
int tide__sqlite_case_indicators(tide_store_backend *be, int64_t case_id,
        int (*cb)(const char *indicator_id, void *payload), void *payload);
int tide__sqlite_case_event_add(
        tide_store_backend *be, int64_t case_id, const tide_store_case_event *ev);
int tide__sqlite_case_events(tide_store_backend *be, int64_t case_id,
        int (*cb)(const tide_store_case_event *ev, void *payload), void *payload);
int tide__sqlite_indicator_source_counts(
        tide_store_backend *be, int64_t *out_internal, int64_t *out_external);

#endif
