/*
 * store_sqlite.c - the embedded SQLite backend of the intel store (include/tide/store.h), its
 * table of functions (include/tide/sys/store_backend.h) filled by
 * tide_store_backend_sqlite, and the functions on objects, versions, indicators, references,
 * search, stats and warninglists; the others are in the store_*.c files next to it.
 *
 * One database file (DIR/tide.db) in WAL mode. Object versions are kept in `objects` (summary
 * fields, is_current on the newest version of each id, and the JSON as it came);
 * `indicators` (with their packed observables), `obs_idx`, `names` and `refs` are indexes
 * derived from the current versions by the ingest core (the layout: schema.h). All SQL of tide
 * lives in this folder.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/statvfs.h>
#include <time.h>

#include <jansson.h>
#include <sqlite3.h>

#include "store/front_int.h"
#include "store/schema.h"
#include "store/store_feeds.h"
#include "store/store_int.h"
#include "tide/store.h"
#include "util/util.h"

#include <xxhash.h>

/* a bulk load asks for early writeback of the database file every this many new objects
 * (about 16 MB of pages; a power of two) */
#define WRITEBACK_EVERY  16384
#define BULK_INDEX_CACHE "-4096" /* while a bulk load builds its indexes: 4 MiB */
/* the WAL is cut back to this size when it starts over after a checkpoint: the size the
 * automatic checkpoint lets it reach (16 384 pages of 16 KiB), so that only a WAL left bigger
 * by a first load that ran in WAL mode (or was killed in it) is trimmed */
#define WAL_SIZE_LIMIT "268435456"
/* a bulk load writes its row batches (store_bulkrows.c) every this many objects: big enough
 * that the statement's fixed cost vanishes, small enough to stay in the CPU caches */
#define BULK_BATCH_ROWS 256

/* the statements that write a bulk load's row batches */
static const char bulk_objects_sql[] =
        "INSERT INTO objects(id, modified, type, created, name, source, tlp, is_current, "
        "content_hash, ingested_at, changed_at, modified_ms, id_key, json) "
        "SELECT c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c9, c10, c11, c12 FROM tide_batch_objects";
static const char bulk_indicators_sql[] =
        "INSERT OR REPLACE INTO indicators(obj, source, changed_at, revoked, obs, rec) "
        "SELECT c0, c1, c2, c3, c4, c5 FROM tide_batch_indicators";
static const char bulk_refs_sql[] =
        "INSERT INTO refs(rel_id, rel_type, source_ref, target_ref, obj, source_key, target_key) "
        "SELECT c0, c1, c2, c3, c4, c5, c6 FROM tide_batch_refs";

#define BY_ID                                                                                      \
    "FROM objects_keys k JOIN objects o ON o.rowid = k.obj WHERE k.id_key = ?2 AND o.id = ?1 "

static const char *const stmt_sql[ST__COUNT] = {
    /* by id: the id's key in objects_keys (schema 10), then the row, whose id must match */
    /* the current version; or, for an object whose current version was deleted (TAXII DELETE)
     * and older ones stay, the newest of these (is_current 0) */
    [ST_CUR_GET] = "SELECT o.rowid, o.modified, o.content_hash, o.is_current " BY_ID
                   "ORDER BY o.is_current DESC, o.modified_ms DESC, o.modified DESC LIMIT 1",
    [ST_CUR_ROWID] = "SELECT o.rowid " BY_ID "AND o.is_current",
    [ST_VERSION_EXISTS] = "SELECT 1 " BY_ID "AND o.modified = ?3",
    [ST_NAME_INSERT] = "INSERT INTO names(name, obj) VALUES (?1, ?2)",
    [ST_DROP_NAMES] = "DELETE FROM names WHERE obj = ?1",
    [ST_OBJ_INSERT] = "INSERT INTO objects(id, modified, type, created, name, source, tlp, "
                      "is_current, content_hash, ingested_at, changed_at, modified_ms, id_key, "
                      "json) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?10,?11,?12,?13)",
    [ST_BULK_ROW] = "SELECT id, modified, content_hash FROM objects WHERE rowid = ?1",
    [ST_OBJ_UNCURRENT] = "UPDATE objects SET is_current = 0 WHERE rowid = ?1",
    [ST_OBJ_REWRITE] = "UPDATE objects SET type = ?2, created = ?3, name = ?4, source = ?5, "
                       "tlp = ?6, content_hash = ?7, changed_at = ?8, json = ?9 WHERE rowid = ?1",
    [ST_DROP_IND] = "DELETE FROM indicators WHERE obj = ?1",
    [ST_DROP_OBS] = "DELETE FROM obs_idx WHERE kind = ?1 AND vkey = ?2 AND obj = ?3 AND value = ?4",
    [ST_DROP_REFS] = "DELETE FROM refs WHERE obj = ?1",
    [ST_IND_UPSERT] = "INSERT OR REPLACE INTO indicators(obj, source, changed_at, revoked, obs, "
                      "rec) VALUES (?1,?2,?3,?4,?5,?6)",
    [ST_OBS_INSERT] = "INSERT OR IGNORE INTO obs_idx(kind, value, obj, vkey) VALUES (?1,?2,?3,?4)",
    [ST_REF_INSERT] = "INSERT INTO refs(rel_id, rel_type, source_ref, target_ref, obj, source_key, "
                      "target_key) VALUES (?1,?2,?3,?4,?5,?6,?7)",
    [ST_GET_CURRENT] = "SELECT o.json " BY_ID "AND o.is_current",
    [ST_GET_VERSION] = "SELECT o.json " BY_ID "AND o.modified = ?3",
    [ST_VERSIONS] = "SELECT o.modified " BY_ID "ORDER BY o.modified_ms, o.modified",
    [ST_IND_GET] = "SELECT i.rec FROM objects_keys k JOIN objects o ON o.rowid = k.obj "
                   "JOIN indicators i ON i.obj = o.rowid "
                   "WHERE k.id_key = ?2 AND o.id = ?1 AND o.is_current",
    [ST_LOOKUP] = "SELECT o.id FROM obs_idx b JOIN objects o ON o.rowid = b.obj "
                  "WHERE b.kind = ?1 AND b.vkey = ?3 AND b.value = ?2",
    [ST_IND_OBS] = "SELECT i.obs FROM objects_keys k JOIN objects o ON o.rowid = k.obj "
                   "JOIN indicators i ON i.obj = o.rowid "
                   "WHERE k.id_key = ?2 AND o.id = ?1 AND o.is_current",
    [ST_IND_OBSLIST] = "SELECT obs FROM indicators WHERE obj = ?1",
    [ST_OBJ_CTX] = "SELECT name, source, tlp, changed_at FROM objects WHERE rowid = ?1",
    /* the graph of one key (store_intel.c): the current named objects under it ... */
    [ST_NODE] = "SELECT o.type, o.name FROM objects_keys k JOIN objects o ON o.rowid = k.obj "
                "WHERE k.id_key = ?1 AND o.is_current AND o.type IN ('campaign', 'malware', "
                "'tool', 'intrusion-set', 'threat-actor') ORDER BY o.rowid",
    /* ... and the refs with it at either end, each once */
    [ST_EDGES_OF] = "SELECT rowid, source_key, target_key, rel_type FROM refs "
                    "WHERE source_key = ?1 UNION ALL "
                    "SELECT rowid, source_key, target_key, rel_type FROM refs "
                    "WHERE target_key = ?1 AND source_key <> ?1",
};

static const char *const related_sql =
        "SELECT r.rel_id, r.rel_type, 1, r.target_ref, o.type, o.name FROM refs r "
        "LEFT JOIN objects o ON o.rowid = (SELECT k.obj FROM objects_keys k JOIN objects x "
        "ON x.rowid = k.obj WHERE k.id_key = r.target_key AND x.id = r.target_ref "
        "AND x.is_current) "
        "WHERE r.source_key = ?2 AND r.source_ref = ?1 "
        "UNION ALL "
        "SELECT r.rel_id, r.rel_type, 0, r.source_ref, o.type, o.name FROM refs r "
        "LEFT JOIN objects o ON o.rowid = (SELECT k.obj FROM objects_keys k JOIN objects x "
        "ON x.rowid = k.obj WHERE k.id_key = r.source_key AND x.id = r.source_ref "
        "AND x.is_current) "
        "WHERE r.target_key = ?2 AND r.target_ref = ?1";

/* The same, only the relationships whose other end is a named object (campaign, intrusion-set,
 * malware, threat-actor, tool), told by the type its STIX id starts with before any object is
 * read: the names a lookup answers with (store_gate.c) come from these, and a campaign with
 * thousands of indicators costs thousands of objects lookups otherwise (a cold connection
 * read 500 pages per lookup answer of the bench's corpus). */
#define NAMED_END(col)                                                                             \
    " AND substr(" col ", 1, instr(" col ", '--') - 1) IN ('campaign', 'intrusion-set', "          \
    "'malware', 'threat-actor', 'tool')"
static const char *const related_named_sql =
        "SELECT r.rel_id, r.rel_type, 1, r.target_ref, o.type, o.name FROM refs r "
        "LEFT JOIN objects o ON o.rowid = (SELECT k.obj FROM objects_keys k JOIN objects x "
        "ON x.rowid = k.obj WHERE k.id_key = r.target_key AND x.id = r.target_ref "
        "AND x.is_current) "
        "WHERE r.source_key = ?2 AND r.source_ref = ?1" NAMED_END(
                "r.target_ref") " "
                                "UNION ALL "
                                "SELECT r.rel_id, r.rel_type, 0, r.source_ref, o.type, o.name FROM "
                                "refs r "
                                "LEFT JOIN objects o ON o.rowid = (SELECT k.obj FROM objects_keys "
                                "k JOIN objects x "
                                "ON x.rowid = k.obj WHERE k.id_key = r.source_key AND x.id = "
                                "r.source_ref "
                                "AND x.is_current) "
                                "WHERE r.target_key = ?2 AND r.target_ref = ?1" NAMED_END(
                                        "r.source_ref");

/* The slots of an id map. A big map is mapped fresh and asked for huge pages before it is
 * first touched: every object probes a random slot, and in 4 KiB pages each probe also missed
 * the TLB (a million ids take 64 MiB of slots). Memory from the C heap may already be mapped
 * in small pages, which is why the huge pages did not come before (8 MB of a 64 MB map). */
#define IDMAP_HUGE ((size_t)2 << 20)
static struct idslot *idmap_alloc(size_t cap, bool *mapped)
{
    size_t bytes = cap * sizeof(struct idslot);
    *mapped = false;
#if defined(MAP_ANONYMOUS) && defined(MADV_HUGEPAGE)
    if (bytes >= 2 * IDMAP_HUGE) {
        size_t len = bytes + IDMAP_HUGE;
        char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED) {
            /* keep only the 2 MiB-aligned part: the huge pages need the alignment */
            uintptr_t a = ((uintptr_t)p + IDMAP_HUGE - 1) & ~(uintptr_t)(IDMAP_HUGE - 1);
            size_t head = a - (uintptr_t)p;
            if (head)
                munmap(p, head);
            if (len - head > bytes)
                munmap((char *)a + bytes, len - head - bytes);
            (void)madvise((void *)a, bytes, MADV_HUGEPAGE);
            *mapped = true;
            return (struct idslot *)a; /* zero-filled, as fresh anonymous memory is */
        }
    }
#endif
    return tide__calloc(cap, sizeof(struct idslot));
}

static void idmap_release(struct idslot *slots, size_t cap, bool mapped)
{
    if (slots == NULL)
        return;
    if (mapped)
        munmap(slots, cap * sizeof(struct idslot));
    else
        tide__free(slots);
}

static void idmap_free(idmap *m)
{
    idmap_release(m->slots, m->cap, m->mapped);
    memset(m, 0, sizeof(*m));
}

static int idmap_grow(idmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 1u << 16;
    bool mapped;
    struct idslot *ns = idmap_alloc(ncap, &mapped);
    TIDE_CHECK_ALLOC(ns);
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].key == 0)
            continue;
        size_t j = m->slots[i].key & (ncap - 1);
        while (ns[j].key)
            j = (j + 1) & (ncap - 1);
        ns[j] = m->slots[i];
    }
    idmap_release(m->slots, m->cap, m->mapped);
    m->slots = ns;
    m->cap = ncap;
    m->mapped = mapped;
    return 0;
}

/* Slot of key: its own, or the empty one where it would go. */
static size_t idmap_slot(const idmap *m, uint64_t key, size_t start)
{
    size_t j = start & (m->cap - 1);
    while (m->slots[j].key && m->slots[j].key != key)
        j = (j + 1) & (m->cap - 1);
    return j;
}

/* The 64-bit key under which a text (id, observable value) is indexed. */
sqlite3_int64 tide__store_text_key(const char *t)
{
    return (sqlite3_int64)XXH3_64bits(t, strlen(t));
}

/* Decimal digits of v, written backwards from end; returns where they start. */
static char *put_dec(char *end, size_t v)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

int tide__store_obs_pack(tide_buf *out, const tide_obs_ref *obs, size_t nobs)
{
    tide__buf_clear(out);
    for (size_t i = 0; i < nobs; i++) {
        /* "<kind> <len> " by hand: printf was a quarter of the cost of storing an indicator */
        char head[48], *end = head + sizeof(head);
        size_t n = strlen(obs[i].value);
        *--end = ' ';
        char *p = put_dec(end, n);
        *--p = ' ';
        p = put_dec(p, (size_t)obs[i].kind);
        TIDE_CHECK(tide__buf_put(out, p, (size_t)(head + sizeof(head) - p)));
        TIDE_CHECK(tide__buf_put(out, obs[i].value, n));
    }
    return 0;
}

int tide__store_obs_next(const char **p, const char *end, tide_obs_kind *kind, tide_buf *scratch)
{
    const char *q = *p;
    if (q == NULL || q >= end)
        return 0;
    long k = 0;
    size_t n = 0;
    int digits = 0;
    while (q < end && *q >= '0' && *q <= '9' && digits < 9) {
        k = k * 10 + (*q++ - '0');
        digits++;
    }
    if (digits == 0 || q >= end || *q++ != ' ')
        return tide_error_set(TIDE_ESTORE, "corrupt observable list in the store");
    digits = 0;
    while (q < end && *q >= '0' && *q <= '9' && digits < 12) {
        n = n * 10 + (size_t)(*q++ - '0');
        digits++;
    }
    if (digits == 0 || q >= end || *q++ != ' ' || n > (size_t)(end - q))
        return tide_error_set(TIDE_ESTORE, "corrupt observable list in the store");
    tide__buf_clear(scratch);
    TIDE_CHECK(tide__buf_put(scratch, q, n));
    if (scratch->ptr == NULL) /* empty value: still a valid string */
        TIDE_CHECK(tide__buf_put(scratch, "", 0));
    *kind = (tide_obs_kind)k;
    *p = q + n;
    return 1;
}

/* SQL function tide_key(text): the same key, for queries. */
static void sql_tide_key(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const unsigned char *t = sqlite3_value_text(argv[0]);
    if (t == NULL) {
        sqlite3_result_null(ctx);
        return;
    }
    sqlite3_result_int64(ctx, (sqlite3_int64)XXH3_64bits(t, (size_t)sqlite3_value_bytes(argv[0])));
}

/* Where the disk is full: the store's file system, or else the one of SQLite's temporary
 * files (a bulk load sorts its indexes there). SQLite reports ENOSPC as SQLITE_FULL without
 * the errno. */
struct full_msg {
    char msg[768];
};
static struct full_msg full_where(tide__sqlite *s)
{
    struct full_msg m;
    char dir[512];
    snprintf(dir, sizeof(dir), "%s", s->db_path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof(dir), ".");
    struct statvfs v;
    if (statvfs(dir, &v) == 0 && (double)v.f_bavail * (double)v.f_frsize < 1048576.0)
        snprintf(m.msg, sizeof(m.msg), "no space left on device: %.1f MB free in %s",
                (double)v.f_bavail * (double)v.f_frsize / 1048576.0, dir);
    else
        snprintf(m.msg, sizeof(m.msg),
                "no space left on device, for the store in %s or SQLite's temporary files "
                "(SQLITE_TMPDIR, TMPDIR, else /var/tmp)",
                dir);
    return m;
}

/* The message of an error SQLite reported on s->db (msg: its text, NULL = sqlite3_errmsg).
 * A lock that another connection held longer than this one waits is said in words, never
 * only "database is locked"; other errors carry the system's reason when there is one (a full
 * disk: "database or disk is full (No space left on device)"). */
static int db_error(tide__sqlite *s, const char *what, const char *msg)
{
    int code = sqlite3_extended_errcode(s->db);
    if ((code & 0xff) == SQLITE_BUSY) {
        bool waited = s->busy_gave_up;
        s->busy_gave_up = false;
        (void)what; /* which statement waited says nothing more */
        if (waited)
            return tide_error_set(TIDE_ESTORE,
                    "the store is being written by another tide process (waited %.1f s; "
                    "TIDE_STORE_WAIT sets how long)",
                    (double)s->busy_waited_ms / 1000.0);
        return tide_error_set(TIDE_ESTORE,
                "the store is being written by another tide process (%s)",
                code == SQLITE_BUSY_SNAPSHOT ? "it changed since this read began"
                                             : sqlite3_errstr(code));
    }
    int primary = code & 0xff, sys = sqlite3_system_errno(s->db);
    if (msg == NULL)
        msg = sqlite3_errmsg(s->db);
    if (primary == SQLITE_FULL)
        return tide_error_set(TIDE_ESTORE, "%s: %s (%s)", what, msg, full_where(s).msg);
    if (sys != 0 && (primary == SQLITE_FULL || primary == SQLITE_IOERR ||
                            primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY))
        return tide_error_set(TIDE_ESTORE, "%s: %s (%s)", what, msg, strerror(sys));
    return tide_error_set(TIDE_ESTORE, "%s: %s", what, msg);
}

int tide__store_db_error(tide__sqlite *s, const char *what)
{
    return db_error(s, what, NULL);
}

static bool bulk_pending(const tide__sqlite *s)
{
    return s->rb_objects.nvals || s->rb_indicators.nvals || s->rb_refs.nvals;
}

/* Write a bulk load's row batches; objects first, and their rowids must be the ones handed
 * out (s->next_obj), which every later row of the load refers to. */
static int bulk_flush(tide__sqlite *s)
{
    if (s->rb_objects.nvals) {
        int rc = tide__rb_flush(s, &s->rb_objects);
        if (rc == 0 && sqlite3_last_insert_rowid(s->db) != s->next_obj - 1)
            rc = tide_error_set(TIDE_ESTORE,
                    "bulk load: objects rows got rowid %lld, not %lld (was the table written "
                    "by another connection?)",
                    (long long)sqlite3_last_insert_rowid(s->db), (long long)s->next_obj - 1);
        if (rc < 0) {
            tide__rb_clear(&s->rb_indicators);
            tide__rb_clear(&s->rb_refs);
            return rc;
        }
    }
    int rc = tide__rb_flush(s, &s->rb_indicators);
    int rc2 = tide__rb_flush(s, &s->rb_refs);
    return rc < 0 ? rc : rc2;
}

int tide__store_exec(tide__sqlite *s, const char *sql)
{
    if (bulk_pending(s))
        TIDE_CHECK(bulk_flush(s));
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = db_error(s, "sql failed", msg ? msg : "?");
        sqlite3_free(msg);
        return rc;
    }
    return 0;
}

/* The cached statement `which`, reset. Every statement but the names insert may read what a
 * bulk load's pending row batches hold: they are written first. */
static sqlite3_stmt *stmt(tide__sqlite *s, int which)
{
    if (which != ST_NAME_INSERT && bulk_pending(s) && bulk_flush(s) < 0)
        return NULL;
    sqlite3_stmt *st = s->st[which];
    if (st == NULL) {
        if (sqlite3_prepare_v3(s->db, stmt_sql[which], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
                SQLITE_OK) {
            tide__store_db_error(s, "prepare");
            return NULL;
        }
        s->st[which] = st;
    } else {
        sqlite3_reset(st); /* every statement binds all its parameters on each use */
    }
    return st;
}

sqlite3_stmt *tide__store_stmt(tide__sqlite *s, int which)
{
    return stmt(s, which);
}

void tide__store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static int mkdir_p(const char *dir)
{
    char tmp[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof(tmp))
        return tide_error_set(TIDE_EINVAL, "bad store path");
    memcpy(tmp, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (tmp[i] == '/' || tmp[i] == '\0') {
            char c = tmp[i];
            tmp[i] = '\0';
            if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
                return tide_error_set(TIDE_EIO, "cannot create %s: %s", tmp, strerror(errno));
            tmp[i] = c;
        }
    }
    return 0;
}

static int read_schema_version(tide__sqlite *s, int *out)
{
    sqlite3_stmt *st;
    *out = 0;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return tide__store_db_error(s, "read schema version");
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *out = sqlite3_column_int(st, 0);
    int rc = step == SQLITE_ROW ? 0 : tide__store_db_error(s, "read schema version");
    sqlite3_finalize(st);
    return rc;
}

/* ROLLBACK of the open transaction, keeping the error recorded before it. After some errors
 * (a full disk, an I/O error, out of memory) SQLite has rolled the transaction back itself,
 * and a ROLLBACK would only fail with "cannot rollback - no transaction is active". */
static void rollback_keep_error(tide__sqlite *s)
{
    if (sqlite3_get_autocommit(s->db))
        return;
    char msg[1024];
    int code = tide_error_last_code();
    snprintf(msg, sizeof(msg), "%s", tide_error_last());
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    tide_error_set(code, "%s", msg);
}

/* Bring the schema to TIDE_STORE_SCHEMA_VERSION, one migration per transaction. Several
 * processes may open a new or old store at once: each migration takes the write lock first
 * (BEGIN IMMEDIATE, waiting as any writer does) and reads the version again under it, so one
 * process migrates and the others, once it is done, find nothing left to do. */
static int migrate(tide__sqlite *s)
{
    int version;
    TIDE_CHECK(read_schema_version(s, &version));
    for (;;) {
        if (version > TIDE_STORE_SCHEMA_VERSION)
            return tide_error_set(TIDE_ESTORE,
                    "store schema version %d is newer than this tide (%d)", version,
                    TIDE_STORE_SCHEMA_VERSION);
        if (version == TIDE_STORE_SCHEMA_VERSION)
            return 0;
        TIDE_CHECK(tide__store_exec(s, "BEGIN IMMEDIATE"));
        int rc = read_schema_version(s, &version);
        if (rc < 0 || version >= TIDE_STORE_SCHEMA_VERSION) {
            rollback_keep_error(s); /* nothing written */
            if (rc < 0)
                return rc;
            continue;
        }
        char pragma[64];
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version + 1);
        rc = tide__store_exec(s, tide_store_migrations[version]);
        for (int i = 0; version == 0 && rc == 0 && i < TIDE_STORE_NINDEXES; i++)
            rc = tide__store_exec(s, tide_store_indexes[i][1]);
        if (rc == 0)
            rc = tide__store_exec(s, pragma);
        if (rc == 0)
            rc = tide__store_exec(s, "COMMIT");
        if (rc < 0) {
            rollback_keep_error(s);
            char msg[1024];
            snprintf(msg, sizeof(msg), "%s", tide_error_last());
            return tide_error_set(rc, "migration to schema %d failed: %s", version + 1, msg);
        }
        version++;
    }
}

/* How long a call waits for a lock another connection holds (the busy handler below):
 * TIDE_STORE_WAIT seconds (a decimal number, 0 = not at all), else 60 s, longer than a first
 * load of a million indicators holds the store. */
#define STORE_WAIT_MS 60000
static int64_t store_wait_ms(void)
{
    const char *v = getenv("TIDE_STORE_WAIT");
    if (v == NULL || *v == '\0')
        return STORE_WAIT_MS;
    char *end;
    double sec = strtod(v, &end);
    if (end == v || *end != '\0' || !(sec >= 0) || sec > 86400.0 * 365)
        return STORE_WAIT_MS;
    return (int64_t)(sec * 1000.0);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* SQLite's busy handler: called while another connection holds a lock this one needs (a
 * writer's, or the exclusive lock of a recovery); count is 0 on the first call of each wait.
 * Sleeps as SQLite's own handler does (1 ms, growing to 100 ms) until s->wait_ms have passed,
 * and records how long it waited, for the message when it gives up. */
static int busy_wait(void *payload, int count)
{
    static const int delays[] = { 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100 };
    tide__sqlite *s = payload;
    int64_t now = mono_ms();
    if (count == 0) {
        s->busy_since_ms = now;
        s->busy_gave_up = false;
    }
    s->busy_waited_ms = now - s->busy_since_ms;
    int64_t left = s->wait_ms - s->busy_waited_ms;
    if (left <= 0) {
        s->busy_gave_up = true;
        return 0;
    }
    int d = count < (int)(sizeof(delays) / sizeof(delays[0])) ? delays[count] : 100;
    sqlite3_sleep(d < left ? d : (int)left);
    return 1;
}

/* Before SQLite's first use: no global memory statistics. They take a global mutex around
 * every allocation (this SQLite has no lookaside, so every step allocates), about 4% of the
 * instructions of a bulk load; tide reads none of them. Without effect (SQLITE_MISUSE, ignored)
 * when the process already initialised SQLite. */
static pthread_once_t sqlite_setup_once = PTHREAD_ONCE_INIT;

#ifdef TIDE_HAVE_MIMALLOC
/* SQLite's memory from mimalloc (see CMakeLists.txt): this SQLite has no lookaside, so every
 * step allocates and frees a few blocks; glibc's malloc cost about 250 instructions a pair and
 * missed the cache on its free lists, mimalloc's thread-local pages far less. */
#include <mimalloc.h>
static void *mi_x_malloc(int n)
{
    return mi_malloc((size_t)n);
}
static void mi_x_free(void *p)
{
    mi_free(p);
}
static void *mi_x_realloc(void *p, int n)
{
    return mi_realloc(p, (size_t)n);
}
static int mi_x_size(void *p)
{
    return (int)mi_usable_size(p);
}
static int mi_x_roundup(int n)
{
    return n;
}
static int mi_x_init(void *a)
{
    (void)a;
    return SQLITE_OK;
}
static void mi_x_shutdown(void *a)
{
    (void)a;
}
static const sqlite3_mem_methods mi_methods = { mi_x_malloc, mi_x_free, mi_x_realloc, mi_x_size,
    mi_x_roundup, mi_x_init, mi_x_shutdown, NULL };
#endif

static void sqlite_setup(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
#ifdef TIDE_HAVE_MIMALLOC
    sqlite3_config(SQLITE_CONFIG_MALLOC, &mi_methods);
#endif
}

static void fill_table(tide_store_backend *be);
static void be_free(tide_store_backend *be);

/* PRAGMA journal_mode = mode, waiting at most wait_ms for the locks it takes: 1 when the
 * store is now in that mode, 0 when it is not (another connection holds a lock the change
 * needs: SQLite then refuses at once), < 0 on any other error (recorded). */
static int journal_mode(tide__sqlite *s, const char *mode, int64_t wait_ms)
{
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA journal_mode = %s", mode);
    int64_t wait = s->wait_ms;
    s->wait_ms = wait_ms;
    sqlite3_stmt *st;
    int rc = -1;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK) {
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            const char *now = (const char *)sqlite3_column_text(st, 0);
            rc = now != NULL && strcasecmp(now, mode) == 0;
        } else if ((sqlite3_extended_errcode(s->db) & 0xff) == SQLITE_BUSY) {
            rc = 0;
        }
    }
    if (rc < 0)
        tide__store_db_error(s, sql);
    sqlite3_finalize(st);
    s->wait_ms = wait;
    s->busy_gave_up = false;
    return rc;
}

int tide_store_backend_sqlite(tide_store_backend **out, const char *dir)
{
    if (out)
        *out = NULL;
    if (out == NULL || dir == NULL)
        return tide_error_set(
                TIDE_EINVAL, "tide_store_backend_sqlite: no %s", out ? "folder" : "out");
    pthread_once(&sqlite_setup_once, sqlite_setup);
    TIDE_CHECK(mkdir_p(dir));
    tide__sqlite *s = tide__calloc(1, sizeof(*s));
    TIDE_CHECK_ALLOC(s);
    fill_table(&s->parent);
    s->wb_fd = -1;
    tide_buf path = TIDE_BUF_INIT;
    if (tide__buf_printf(&path, "%s/tide.db", dir) < 0)
        goto oom;
    s->db_path = tide__buf_detach(&path);
    if (s->db_path == NULL)
        goto oom;
    /* a new database file is private to the owner whatever the umask (SQLite gives its -wal,
     * -shm and journal the database's mode and owner); never opened through a link */
    int dbfd = open(s->db_path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (dbfd >= 0)
        close(dbfd);
    else if (errno != EEXIST) {
        int rc = tide_error_set(TIDE_ESTORE, "cannot create %s: %s", s->db_path, strerror(errno));
        be_free(&s->parent);
        return rc;
    }
    if (sqlite3_open_v2(s->db_path, &s->db,
                SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                        SQLITE_OPEN_NOFOLLOW,
                NULL) != SQLITE_OK) {
        int rc = tide_error_set(TIDE_ESTORE, "cannot open %s: %s", s->db_path,
                s->db ? sqlite3_errmsg(s->db) : "out of memory");
        be_free(&s->parent);
        return rc;
    }
    s->wait_ms = store_wait_ms();
    sqlite3_busy_handler(s->db, busy_wait, s);
    sqlite3_create_function(s->db, "tide_key", 1,
            SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL, sql_tide_key, NULL, NULL);
    sqlite3_create_function(s->db, "tide_indicator_pack", 17,
            SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL, tide__store_sql_ind_pack,
            NULL, NULL);
    int rc;
    if ((rc = tide__store_bulkobs_register(s)) < 0 || (rc = tide__store_bulkkeys_register(s)) < 0 ||
            (rc = tide__rb_register(s, &s->rb_objects, "tide_batch_objects", 13, bulk_objects_sql,
                     NULL, "store objects")) < 0 ||
            (rc = tide__rb_register(s, &s->rb_indicators, "tide_batch_indicators", 6,
                     bulk_indicators_sql, NULL, "store indicators")) < 0 ||
            (rc = tide__rb_register(s, &s->rb_refs, "tide_batch_refs", 7, bulk_refs_sql, NULL,
                     "store relationships")) < 0) {
        be_free(&s->parent);
        return rc;
    }
    /* 16 KiB pages for a new store (an existing one keeps its size): a bulk load writes a
     * quarter of the pages, so a quarter of the write calls and of the per-page B-tree work;
     * set before anything creates the file's first page */
    /* WAL, unless another process is running a first load with a rollback journal (see
     * tide_store_begin_load): SQLite then refuses the change at once, and this connection
     * reads in rollback mode, waiting for that load's commit, which returns the store to
     * WAL; SQLite follows the change by itself. */
    if ((rc = tide__store_exec(s, "PRAGMA page_size = 16384")) < 0 ||
            (rc = journal_mode(s, "WAL", s->wait_ms)) < 0 ||
            (rc = tide__store_exec(s, "PRAGMA synchronous = NORMAL")) < 0 ||
            (rc = tide__store_exec(s, "PRAGMA foreign_keys = OFF")) < 0 ||
            (rc = tide__store_exec(s, "PRAGMA cache_size = " STORE_CACHE)) < 0 ||
            (rc = tide__store_exec(s, "PRAGMA wal_autocheckpoint = 16384")) < 0 ||
            (rc = tide__store_exec(s, "PRAGMA journal_size_limit = " WAL_SIZE_LIMIT)) < 0 ||
            (rc = tide__store_exec(s, "PRAGMA temp_store = MEMORY")) < 0 || (rc = migrate(s)) < 0) {
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", tide_error_last());
        be_free(&s->parent);
        return tide_error_set(rc, "store %s: %s", dir, msg);
    }
    *out = &s->parent;
    return 0;
oom:
    be_free(&s->parent);
    return tide_error_set(TIDE_ENOMEM, "out of memory");
}

static void be_free(tide_store_backend *be)
{
    tide__sqlite *s = tide__sq(be);
    if (s == NULL)
        return;
    for (int i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_finalize(s->related_st[0]);
    sqlite3_finalize(s->related_st[1]);
    tide__rb_free(&s->rb_objects);
    tide__rb_free(&s->rb_indicators);
    tide__rb_free(&s->rb_refs);
    tide__strmap_free(&s->count_keys);
    tide__free(s->count_n);
    tide__buf_free(&s->count_key);
    tide__free(s->keys);
    if (s->db) {
        if (s->in_tx)
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(s->db);
    }
    for (size_t i = 0; i < sizeof(s->ind_strs) / sizeof(s->ind_strs[0]); i++)
        tide__free(s->ind_strs[i]);
    idmap_free(&s->ids);
    tide__free(s->retired);
    tide__free(s->rewritten);
    tide__free(s->obs);
    tide__buf_free(&s->obs_vals);
    tide__buf_free(&s->last_ctx);
    tide__buf_free(&s->put_obs);
    tide__buf_free(&s->put_rec);
    tide__free(s->db_path);
    tide__free(s);
}

static const char *be_db_path(tide_store_backend *be)
{
    tide__sqlite *s = tide__sq(be);
    return s->db_path;
}

static int be_schema_version(tide_store_backend *be)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return tide__store_db_error(s, "read schema version");
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

int tide__sqlite_begin(tide_store_backend *be)
{
    tide__sqlite *s = tide__sq(be);
    if (s->in_tx)
        return tide_error_set(TIDE_EINVAL, "transaction already open");
    TIDE_CHECK(tide__store_exec(s, "BEGIN IMMEDIATE"));
    s->in_tx = 1;
    return 0;
}

static int drop_indexes(tide__sqlite *s, sqlite3_int64 rowid);
static int run_rowid(tide__sqlite *s, int which, sqlite3_int64 rowid, const char *what);
static sqlite3_int64 max_rowid(tide__sqlite *s, const char *table);

static int objects_empty(tide__sqlite *s, bool *out)
{
    sqlite3_stmt *st;
    *out = false;
    if (sqlite3_prepare_v2(s->db, "SELECT EXISTS (SELECT 1 FROM objects)", -1, &st, NULL) !=
            SQLITE_OK)
        return tide__store_db_error(s, "prepare");
    int step = sqlite3_step(st);
    *out = step == SQLITE_ROW && sqlite3_column_int(st, 0) == 0;
    int rc = step == SQLITE_ROW ? 0 : tide__store_db_error(s, "count objects");
    sqlite3_finalize(st);
    return rc;
}

static int begin_bulk(tide__sqlite *s)
{
    /* First load: drop the secondary indexes inside the transaction; commit builds them
     * sorted in one pass each, far faster than millions of random B-tree inserts. A crash
     * rolls the whole load back, indexes included (SQLite DDL is transactional). */
    for (int i = 0; i < TIDE_STORE_NINDEXES; i++) {
        char sql[128];
        snprintf(sql, sizeof(sql), "DROP INDEX IF EXISTS %s", tide_store_indexes[i][0]);
        TIDE_CHECK(tide__store_exec(s, sql));
    }
    /* the load counts its current objects in memory (bulk_count), and gathers the keys of its
     * rows for objects_keys (bulk_insert_object): both written at commit */
    TIDE_CHECK(tide__store_exec(s, "DROP TRIGGER IF EXISTS objects_count_ins"));
    TIDE_CHECK(tide__store_exec(s, "DROP TRIGGER IF EXISTS objects_keys_ins"));
    s->next_obj = max_rowid(s, "objects") + 1;
    if (s->next_obj < 1)
        return tide__store_db_error(s, "read the last objects row");
    s->bulk = true;
    /* the file the load's pages go to: the database, or the WAL when it stayed in WAL mode
     * (SQLite opened it with the transaction) */
    tide_buf wal = TIDE_BUF_INIT;
    if (s->journal_switched)
        s->wb_fd = tide__store_writeback_fd(s->db_path);
    else if (tide__buf_printf(&wal, "%s-wal", s->db_path) == 0)
        s->wb_fd = tide__store_writeback_fd(wal.ptr);
    tide__buf_free(&wal);
    return 0;
}

static int be_begin_load(tide_store_backend *be, bool *out_bulk)
{
    tide__sqlite *s = tide__sq(be);
    *out_bulk = false;
    /* A first load writes the whole database: with a rollback journal the pages go to the
     * database file once (an empty store has almost nothing to journal), where WAL writes
     * them to the WAL and copies them into the database at the checkpoint: 25 to 50 % more
     * CPU time, most of it in the kernel (docs/performance.md, "The store and bulk loads").
     * But a rollback journal keeps other processes from reading during the load. So the
     * switch is made only when no other connection has the store open (SQLite refuses it at
     * once otherwise, and the load runs in WAL: those processes go on reading the store as
     * it was before it); processes that open the store during such a load wait for its
     * commit (TIDE_STORE_WAIT), and see it whole. */
    bool empty;
    TIDE_CHECK(objects_empty(s, &empty));
    if (empty) {
        int jm = journal_mode(s, "TRUNCATE", 0);
        if (jm < 0)
            return jm;
        s->journal_switched = jm == 1;
        /* bounded sort runs for the index builds at commit (finish_bulk); MEMORY again
         * after. (The change empties the connection's temp schema; tide keeps nothing
         * there.) */
        TIDE_CHECK(tide__store_exec(s, "PRAGMA temp_store = FILE"));
    }
    int rc = tide__sqlite_begin(&s->parent);
    /* again inside the transaction: another process may have loaded meanwhile */
    if (rc == 0 && (rc = objects_empty(s, &empty)) == 0 && empty)
        rc = begin_bulk(s);
    if (rc < 0) {
        char msg[1024];
        snprintf(msg, sizeof(msg), "%s", tide_error_last());
        tide__sqlite_rollback(&s->parent);
        return tide_error_set(rc, "%s", msg);
    }
    *out_bulk = s->bulk;
    return 0;
}

static int step_done(tide__sqlite *s, sqlite3_stmt *st, const char *what);

/* Order of entries with the same kind and vkey: obj, then value (BINARY). */
static bool bulk_obs_before(const struct bulk_obs *x, const struct bulk_obs *y, const char *vals)
{
    if (x->obj != y->obj)
        return x->obj < y->obj;
    return strcmp(vals + x->val, vals + y->val) < 0;
}

/* Sort the gathered observables into obs_idx key order: kind, vkey (signed, as SQLite compares
 * integers), obj, value. A stable LSD radix sort on vkey and then kind (the input is already in
 * obj order, so ties mostly come out right), then insertion sort inside each run of equal
 * (kind, vkey), which is one entry long but for hash collisions and repeated values. */
static int sort_bulk_obs(tide__sqlite *s)
{
    size_t n = s->nobs;
    struct bulk_obs *a = s->obs, *t = tide__malloc(n * sizeof(*t));
    TIDE_CHECK_ALLOC(t);
    for (int pass = 0; pass <= 8; pass++) {
        size_t count[256] = { 0 };
        for (size_t i = 0; i < n; i++) {
            uint64_t k = pass < 8 ? (((uint64_t)a[i].vkey ^ (1ULL << 63)) >> (pass * 8)) & 255
                                  : (uint64_t)(a[i].kind + 1) & 255;
            count[k]++;
        }
        size_t pos = 0;
        bool one_bucket = false;
        for (int b = 0; b < 256; b++) {
            if (count[b] == n)
                one_bucket = true;
            size_t c = count[b];
            count[b] = pos;
            pos += c;
        }
        if (one_bucket)
            continue; /* this byte is the same everywhere: the order stays */
        for (size_t i = 0; i < n; i++) {
            uint64_t k = pass < 8 ? (((uint64_t)a[i].vkey ^ (1ULL << 63)) >> (pass * 8)) & 255
                                  : (uint64_t)(a[i].kind + 1) & 255;
            t[count[k]++] = a[i];
        }
        struct bulk_obs *sw = a;
        a = t;
        t = sw;
    }
    if (a != s->obs) {
        memcpy(s->obs, a, n * sizeof(*a));
        t = a;
    }
    tide__free(t);
    a = s->obs;
    const char *vals = s->obs_vals.ptr;
    for (size_t i = 1; i < n; i++) {
        if (a[i].kind != a[i - 1].kind || a[i].vkey != a[i - 1].vkey)
            continue;
        struct bulk_obs x = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1].kind == x.kind && a[j - 1].vkey == x.vkey &&
                bulk_obs_before(&x, &a[j - 1], vals)) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = x;
    }
    return 0;
}

static int cmp_rewrite_obj(const void *a, const void *b)
{
    const struct rewrite *x = a, *y = b;
    return x->obj < y->obj ? -1 : x->obj > y->obj;
}

/* The observables gathered by the load go to obs_idx in key order: appends only. Those of a
 * derived indicator rewritten in place during the load, from before the rewrite, are left
 * out. */
static int write_bulk_obs(tide__sqlite *s)
{
    if (s->nobs == 0)
        return 0;
    if (s->nrewritten) {
        qsort(s->rewritten, s->nrewritten, sizeof(*s->rewritten), cmp_rewrite_obj);
        for (size_t i = 0; i < s->nobs; i++) {
            struct rewrite k = { .obj = s->obs[i].obj };
            const struct rewrite *w = bsearch(
                    &k, s->rewritten, s->nrewritten, sizeof(*s->rewritten), cmp_rewrite_obj);
            if (w == NULL)
                continue;
            /* several rewrites of one object: any of them may be the one found; the latest
             * mark decides */
            sqlite3_int64 mark = 0;
            for (const struct rewrite *v = w; v >= s->rewritten && v->obj == k.obj; v--)
                mark = v->obs_mark > mark ? v->obs_mark : mark;
            for (const struct rewrite *v = w; v < s->rewritten + s->nrewritten && v->obj == k.obj;
                    v++)
                mark = v->obs_mark > mark ? v->obs_mark : mark;
            if ((sqlite3_int64)i < mark)
                s->obs[i].kind = -1;
        }
    }
    TIDE_CHECK(sort_bulk_obs(s));
    /* one statement streams the sorted array (store_bulkobs.c) */
    return tide__store_exec(s, "INSERT OR IGNORE INTO obs_idx(kind, vkey, obj, value) "
                               "SELECT kind, vkey, obj, value FROM tide_bulk_obs");
}

/* Bulk mode: one more current object of (type, source, tlp) for object_counts, whose insert
 * trigger is off during the load. Counted in memory and written at commit (write_bulk_counts):
 * a trigger firing per row, or a GROUP BY over each batch (4 800 instructions an object),
 * cost more than the sort of the index the counts replace. Runs of the same key are the
 * rule, so the last key is tried first. */
static int bulk_count(tide__sqlite *s, const char *type, const char *source, const char *tlp)
{
    tide_buf *k = &s->count_key;
    size_t mark = k->len;
    const char *parts[3] = { type, source ? source : "", tlp ? tlp : "" };
    for (int i = 0; i < 3; i++)
        if (tide__buf_put(k, parts[i], strlen(parts[i]) + 1) < 0) {
            k->len = mark;
            return tide_error_set(TIDE_ENOMEM, "out of memory");
        }
    size_t n = k->len - mark;
    if (s->ncount && n == mark && memcmp(k->ptr, k->ptr + mark, n) == 0) {
        s->count_n[s->last_count]++;
        k->len = mark;
        return 0;
    }
    uint32_t idx;
    int put = tide__strmap_put(&s->count_keys, k->ptr + mark, n, (uint32_t)s->ncount, &idx);
    if (put < 0) {
        k->len = mark;
        return put;
    }
    if (put == 1) {
        if (s->ncount == s->capcount) {
            size_t nc = s->capcount ? s->capcount * 2 : 16;
            int64_t *nn = tide__realloc(s->count_n, nc * sizeof(*nn));
            if (nn == NULL) {
                k->len = mark;
                return tide_error_set(TIDE_ENOMEM, "out of memory");
            }
            s->count_n = nn;
            s->capcount = nc;
        }
        s->count_n[s->ncount++] = 0;
    }
    s->count_n[idx]++;
    s->last_count = idx;
    memmove(k->ptr, k->ptr + mark, n); /* the last key, at the start of the scratch */
    k->len = n;
    return 0;
}

/* The counts gathered so far into object_counts; the tally starts again. */
static int write_bulk_counts(tide__sqlite *s)
{
    if (s->ncount == 0)
        return 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                "INSERT INTO object_counts(type, source, tlp, n) VALUES (?1, ?2, ?3, ?4) "
                "ON CONFLICT(type, source, tlp) DO UPDATE SET n = n + excluded.n",
                -1, &st, NULL) != SQLITE_OK)
        return tide__store_db_error(s, "prepare");
    int rc = 0;
    for (size_t i = 0; i < s->count_keys.cap && rc == 0; i++) {
        if (s->count_keys.hashes[i] == 0)
            continue;
        const char *t = s->count_keys.arena.ptr + s->count_keys.keyoff[i];
        const char *src = t + strlen(t) + 1, *tlp = src + strlen(src) + 1;
        sqlite3_bind_text(st, 1, t, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, src, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, tlp, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, s->count_n[s->count_keys.vals[i]]);
        rc = step_done(s, st, "store counts");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    tide__strmap_free(&s->count_keys);
    s->ncount = 0;
    s->count_key.len = 0;
    return rc;
}

/* Sort the load's (key, row) pairs into objects_keys order: key (signed, as SQLite compares
 * integers), then row. Rows were added in increasing order, so a stable LSD radix sort on the
 * key alone gives both; bytes that are the same in every key are skipped. */
static int sort_bulk_keys(tide__sqlite *s)
{
    size_t n = s->nkeys;
    struct bulk_key *a = s->keys, *t = tide__malloc(n * sizeof(*t));
    TIDE_CHECK_ALLOC(t);
    for (int pass = 0; pass < 8; pass++) {
        size_t count[256] = { 0 };
        for (size_t i = 0; i < n; i++)
            count[(((uint64_t)a[i].key ^ (1ULL << 63)) >> (pass * 8)) & 255]++;
        size_t pos = 0;
        bool one_bucket = false;
        for (int b = 0; b < 256; b++) {
            if (count[b] == n)
                one_bucket = true;
            size_t c = count[b];
            count[b] = pos;
            pos += c;
        }
        if (one_bucket)
            continue;
        for (size_t i = 0; i < n; i++)
            t[count[(((uint64_t)a[i].key ^ (1ULL << 63)) >> (pass * 8)) & 255]++] = a[i];
        struct bulk_key *sw = a;
        a = t;
        t = sw;
    }
    if (a != s->keys) {
        memcpy(s->keys, a, n * sizeof(*a));
        t = a;
    }
    tide__free(t);
    return 0;
}

/* objects_keys gets the load's rows in key order, by appends, through one statement over
 * tide_bulk_keys; its insert trigger is back for later loads. */
static int write_bulk_keys(tide__sqlite *s)
{
    if (s->nkeys) {
        TIDE_CHECK(sort_bulk_keys(s));
        TIDE_CHECK(tide__store_exec(s, "INSERT INTO objects_keys(id_key, obj) "
                                       "SELECT key, obj FROM tide_bulk_keys"));
    }
    tide__free(s->keys);
    s->keys = NULL;
    s->nkeys = s->capkeys = 0;
    return tide__store_exec(s, TIDE_STORE_KEYS_INSERT_TRIGGER);
}

static int finish_bulk(tide__sqlite *s)
{
    TIDE_CHECK(bulk_flush(s));
    /* the counts, before the retired versions below are taken off them (by the update
     * trigger); the insert trigger is back for later loads */
    TIDE_CHECK(write_bulk_counts(s));
    TIDE_CHECK(tide__store_exec(s, TIDE_STORE_COUNT_INSERT_TRIGGER));
    /* before the repeats below are deleted: the delete trigger takes their keys with them */
    TIDE_CHECK(write_bulk_keys(s));
    if (s->bulk_older) {
        /* older versions loaded after newer ones may repeat a (id, modified) already
         * loaded; keep the first copy, as STIX says, before the unique index is built */
        TIDE_CHECK(tide__store_exec(s, "CREATE INDEX tide_dedupe ON objects(id, modified)"));
        TIDE_CHECK(tide__store_exec(s,
                "DELETE FROM objects WHERE is_current = 0 AND EXISTS (SELECT 1 FROM "
                "objects o2 WHERE o2.id = objects.id AND o2.modified = "
                "objects.modified AND o2.rowid < objects.rowid)"));
        TIDE_CHECK(tide__store_exec(s, "DROP INDEX tide_dedupe"));
    }
    TIDE_CHECK(write_bulk_obs(s));
    tide__store_writeback(s->wb_fd);
    /* CREATE INDEX sorts in runs as big as the page cache: with 256 MiB, one run whose merge
     * sort chases pointers through memory far beyond the CPU caches; with a small cache it
     * sorts runs that fit the caches, writes each to a temporary file and merges them
     * sequentially. SQLite bounds the runs only when temporary files are files: with
     * temp_store = MEMORY (tide's setting for queries) it sorts everything in one run whatever
     * the cache, which made each index over a million objects 2.5 times slower (objects_key
     * 3.6 s against 1.4 s). So a bulk load runs with temp_store = FILE (set before its
     * transaction: SQLite refuses the change inside one, see tide_store_begin_load); the runs
     * go to SQLite's temporary directory (SQLITE_TMPDIR, TMPDIR, /var/tmp ...), a few tens of
     * MB, deleted as they are merged. */
    TIDE_CHECK(tide__store_exec(s, "PRAGMA cache_size = " BULK_INDEX_CACHE));
    int rc = 0;
    for (int i = 0; i < TIDE_STORE_NINDEXES && rc == 0; i++) {
        rc = tide__store_exec(s, tide_store_indexes[i][1]);
        tide__store_writeback(s->wb_fd);
    }
    int rc2 = tide__store_exec(s, "PRAGMA cache_size = " STORE_CACHE);
    TIDE_CHECK(rc);
    TIDE_CHECK(rc2);
    for (size_t i = 0; i < s->nrewritten; i++) {
        char sql[160];
        snprintf(sql, sizeof(sql), "DELETE FROM refs WHERE obj = %lld AND rowid <= %lld",
                (long long)s->rewritten[i].obj, (long long)s->rewritten[i].refs_mark);
        TIDE_CHECK(tide__store_exec(s, sql));
        snprintf(sql, sizeof(sql), "DELETE FROM names WHERE obj = %lld AND rowid <= %lld",
                (long long)s->rewritten[i].obj, (long long)s->rewritten[i].names_mark);
        TIDE_CHECK(tide__store_exec(s, sql));
    }
    for (size_t i = 0; i < s->nretired; i++) {
        TIDE_CHECK(drop_indexes(s, s->retired[i]));
        TIDE_CHECK(run_rowid(s, ST_OBJ_UNCURRENT, s->retired[i], "retire old version"));
    }
    return 0;
}

/* After a transaction: WAL again when a first load switched to a rollback journal. The
 * change needs the store to itself for an instant, and SQLite refuses it at once while
 * another connection reads (the processes that waited for the load now do): retried for
 * up to 2 s. Should it still fail, the next process that opens the store makes it. */
static void restore_wal(tide__sqlite *s)
{
    if (s->in_tx)
        return;
    if (s->journal_switched) {
        int64_t until = mono_ms() + 2000;
        while (journal_mode(s, "WAL", 100) == 0 && mono_ms() < until)
            sqlite3_sleep(5);
        s->journal_switched = false;
    }
    sqlite3_exec(s->db, "PRAGMA temp_store = MEMORY", NULL, NULL, NULL);
}

static void end_bulk(tide__sqlite *s)
{
    s->bulk = false;
    s->wb_fd = -1;
    s->bulk_older = 0;
    s->nrewritten = 0;
    tide__free(s->obs);
    s->obs = NULL;
    s->nobs = s->capobs = 0;
    tide__buf_free(&s->obs_vals);
    idmap_free(&s->ids);
    s->nretired = 0;
    s->last_id[0] = '\0';
    tide__rb_clear(&s->rb_objects); /* nothing pending after a commit; dropped on rollback */
    tide__rb_clear(&s->rb_indicators);
    tide__rb_clear(&s->rb_refs);
    tide__rb_finalize(&s->rb_objects);
    tide__rb_finalize(&s->rb_indicators);
    tide__rb_finalize(&s->rb_refs);
    tide__strmap_free(&s->count_keys);
    tide__free(s->keys);
    s->keys = NULL;
    s->nkeys = s->capkeys = 0;
    tide__free(s->count_n);
    s->count_n = NULL;
    s->ncount = s->capcount = 0;
    tide__buf_free(&s->count_key);
    /* statements were prepared against the schema without indexes */
    for (int i = 0; i < ST__COUNT; i++) {
        sqlite3_finalize(s->st[i]);
        s->st[i] = NULL;
    }
    for (int i = 0; i < 2; i++) {
        sqlite3_finalize(s->related_st[i]);
        s->related_st[i] = NULL;
    }
}

#define BUMP_GEN "UPDATE meta SET value = value + 1 WHERE key = 'intel_gen'"

/* The open transaction failed with rc (its message recorded): roll it back, keeping that
 * message. */
static int fail_tx(tide__sqlite *s, int rc)
{
    char msg[1024];
    snprintf(msg, sizeof(msg), "%s", tide_error_last());
    tide__sqlite_rollback(&s->parent);
    return tide_error_set(rc, "%s", msg);
}

int tide__sqlite_commit(tide_store_backend *be)
{
    tide__sqlite *s = tide__sq(be);
    if (!s->in_tx)
        return tide_error_set(TIDE_EINVAL, "no transaction open");
    if (s->bulk) {
        int rc = finish_bulk(s);
        if (rc < 0)
            return fail_tx(s, rc);
        end_bulk(s);
    }
    if (s->intel_dirty) {
        int rc = tide__store_exec(s, BUMP_GEN);
        if (rc < 0)
            return fail_tx(s, rc);
    }
    int rc = tide__store_exec(s, "COMMIT");
    if (rc < 0)
        return fail_tx(s, rc); /* a full disk: nothing of the transaction is kept */
    s->in_tx = 0;
    s->intel_dirty = false;
    restore_wal(s);
    return 0;
}

int tide__store_intel_changed(tide__sqlite *s)
{
    if (s->in_tx) {
        s->intel_dirty = true;
        return 0;
    }
    return tide__store_exec(s, BUMP_GEN);
}

int tide__sqlite_rollback(tide_store_backend *be)
{
    tide__sqlite *s = tide__sq(be);
    s->intel_dirty = false;
    if (s->bulk)
        end_bulk(s);
    int rc = 0;
    if (s->in_tx) {
        s->in_tx = 0;
        /* after some errors (a full disk, an I/O error, out of memory) SQLite has rolled the
         * transaction back itself: a ROLLBACK would only fail with "cannot rollback - no
         * transaction is active" */
        if (!sqlite3_get_autocommit(s->db) &&
                sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
            rc = tide__store_db_error(s, "roll back");
    }
    restore_wal(s); /* also when begin_load failed before its transaction began */
    return rc;
}

/* ---------------- writing ---------------- */

static int64_t modified_ms(const char *m)
{
    int64_t v = 0;
    if (m == NULL || *m == '\0' || tide__time_parse(m, &v) < 0)
        return INT64_MIN;
    return v;
}

static int step_done(tide__sqlite *s, sqlite3_stmt *st, const char *what)
{
    if (st == NULL)
        return TIDE_ESTORE;
    if (sqlite3_step(st) != SQLITE_DONE)
        return tide__store_db_error(s, what);
    return 0;
}

static int run_rowid(tide__sqlite *s, int which, sqlite3_int64 rowid, const char *what)
{
    sqlite3_stmt *st = stmt(s, which);
    if (st)
        sqlite3_bind_int64(st, 1, rowid);
    return step_done(s, st, what);
}

/* Insert a version, its JSON in the same row; returns 1 when a row was added
 * (sqlite3_last_insert_rowid then names it), 0 when none was. */
static int insert_object(tide__sqlite *s, const tide_object_rec *r, bool current, int64_t now)
{
    sqlite3_stmt *st = stmt(s, ST_OBJ_INSERT);
    if (st == NULL)
        return TIDE_ESTORE;
    tide__store_bind_text(st, 1, r->id);
    tide__store_bind_text(st, 2, r->modified ? r->modified : "");
    tide__store_bind_text(st, 3, r->type);
    tide__store_bind_text(st, 4, r->created);
    tide__store_bind_text(st, 5, r->name);
    tide__store_bind_text(st, 6, r->source);
    tide__store_bind_text(st, 7, r->tlp);
    sqlite3_bind_int(st, 8, current ? 1 : 0);
    sqlite3_bind_int64(st, 9, (sqlite3_int64)r->content_hash);
    sqlite3_bind_int64(st, 10, now);
    int64_t ms = modified_ms(r->modified);
    sqlite3_bind_int64(st, 11, ms == INT64_MIN ? 0 : ms);
    sqlite3_bind_int64(st, 12, tide__store_text_key(r->id));
    sqlite3_bind_text(st, 13, r->json, (int)r->json_len, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        return tide__store_db_error(s, "store object");
    return sqlite3_changes(s->db) > 0;
}

/* Bulk mode: the objects row of a version goes to the batch; its rowid is the next one. */
static sqlite3_int64 bulk_insert_object(
        tide__sqlite *s, const tide_object_rec *r, bool current, int64_t now)
{
    if (tide__rb_rows(&s->rb_objects) >= BULK_BATCH_ROWS)
        TIDE_CHECK(bulk_flush(s));
    tide__rowbatch *b = &s->rb_objects;
    int64_t ms = modified_ms(r->modified);
    size_t mark = b->nvals;
    int rc = 0;
    rc |= tide__rb_str(b, r->id);
    rc |= tide__rb_str(b, r->modified ? r->modified : "");
    rc |= tide__rb_str(b, r->type);
    rc |= tide__rb_str(b, r->created);
    rc |= tide__rb_str(b, r->name);
    rc |= tide__rb_str(b, r->source);
    rc |= tide__rb_str(b, r->tlp);
    rc |= tide__rb_int(b, current ? 1 : 0);
    rc |= tide__rb_int(b, (int64_t)r->content_hash);
    rc |= tide__rb_int(b, now);
    sqlite3_int64 key = tide__store_text_key(r->id);
    rc |= tide__rb_int(b, ms == INT64_MIN ? 0 : ms);
    rc |= tide__rb_int(b, key);
    rc |= tide__rb_text(b, r->json, r->json_len);
    if (rc == 0 && s->nkeys == s->capkeys) {
        size_t nc = s->capkeys ? s->capkeys * 2 : 4096;
        struct bulk_key *nk = tide__realloc(s->keys, nc * sizeof(*nk));
        if (nk == NULL)
            rc = -1;
        else {
            s->keys = nk;
            s->capkeys = nc;
        }
    }
    if (rc != 0) {
        b->nvals = mark;
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    s->keys[s->nkeys].key = key;
    s->keys[s->nkeys++].row = s->next_obj;
    if (current)
        TIDE_CHECK(bulk_count(s, r->type, r->source, r->tlp));
    return s->next_obj++;
}

static bool named_type(const char *type)
{
    return strcmp(type, "indicator") != 0 && strcmp(type, "relationship") != 0 &&
           strcmp(type, "sighting") != 0;
}

/* Index the name of a named SDO whose version at rowid just became current. */
static int index_name(tide__sqlite *s, const tide_object_rec *r, sqlite3_int64 rowid)
{
    if (r->name == NULL || !named_type(r->type))
        return 0;
    sqlite3_stmt *st = stmt(s, ST_NAME_INSERT);
    if (st == NULL)
        return TIDE_ESTORE;
    tide__store_bind_text(st, 1, r->name);
    sqlite3_bind_int64(st, 2, rowid);
    return step_done(s, st, "store name");
}

/* Offset in last_ctx of a copy of v, -1 for NULL. */
static int32_t ctx_put(tide__sqlite *s, const char *v)
{
    if (v == NULL)
        return -1;
    size_t off = s->last_ctx.len;
    if (off > INT32_MAX || tide__buf_put(&s->last_ctx, v, strlen(v) + 1) < 0)
        return -2;
    return (int32_t)off;
}

static int remember(tide__sqlite *s, const tide_object_rec *r, sqlite3_int64 rowid)
{
    s->last_new = false;
    size_t n = strlen(r->id);
    s->last_ctx.len = 0;
    s->last_name = ctx_put(s, r->name);
    s->last_source = ctx_put(s, r->source);
    s->last_tlp = ctx_put(s, r->tlp);
    s->last_changed = s->put_now;
    if (n < sizeof(s->last_id) && s->last_name > -2 && s->last_source > -2 && s->last_tlp > -2)
        memcpy(s->last_id, r->id, n + 1);
    else
        s->last_id[0] = '\0'; /* too long to remember (or no memory): put_indicator reads */
    s->last_rowid = rowid;
    return 0;
}

/* The version of r at rowid is now the current one. */
static int became_current(tide__sqlite *s, const tide_object_rec *r, sqlite3_int64 rowid)
{
    TIDE_CHECK(index_name(s, r, rowid));
    return remember(s, r, rowid);
}

/* Remove the obs_idx entries of the indicator at objects row obj (those its packed list
 * names). */
static int drop_obs(tide__sqlite *s, sqlite3_int64 obj)
{
    sqlite3_stmt *st = stmt(s, ST_IND_OBSLIST);
    if (st == NULL)
        return TIDE_ESTORE;
    sqlite3_bind_int64(st, 1, obj);
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE || (step == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_NULL)) {
        sqlite3_reset(st);
        return 0;
    }
    if (step != SQLITE_ROW)
        return tide__store_db_error(s, "read observables");
    tide_buf list = TIDE_BUF_INIT, val = TIDE_BUF_INIT;
    int rc = tide__buf_put(&list, sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
    sqlite3_reset(st);
    const char *p = list.ptr, *end = list.ptr + list.len;
    tide_obs_kind kind;
    while (rc == 0 && (rc = tide__store_obs_next(&p, end, &kind, &val)) == 1) {
        sqlite3_stmt *del = stmt(s, ST_DROP_OBS);
        if (del == NULL) {
            rc = TIDE_ESTORE;
            break;
        }
        sqlite3_bind_int(del, 1, (int)kind);
        sqlite3_bind_int64(del, 2, tide__store_text_key(val.ptr));
        sqlite3_bind_int64(del, 3, obj);
        sqlite3_bind_text(del, 4, val.ptr, (int)val.len, SQLITE_STATIC);
        rc = step_done(s, del, "drop observable");
    }
    tide__buf_free(&list);
    tide__buf_free(&val);
    return rc < 0 ? rc : 0;
}

/* The indexes derived from a version that stops being current go with it. */
static int drop_indexes(tide__sqlite *s, sqlite3_int64 rowid)
{
    TIDE_CHECK(drop_obs(s, rowid));
    TIDE_CHECK(run_rowid(s, ST_DROP_IND, rowid, "drop indicator"));
    TIDE_CHECK(run_rowid(s, ST_DROP_NAMES, rowid, "drop names"));
    return run_rowid(s, ST_DROP_REFS, rowid, "drop references");
}

int tide__sqlite_drop_indexes(tide__sqlite *s, sqlite3_int64 rowid)
{
    return drop_indexes(s, rowid);
}

static int make_current(
        tide__sqlite *s, const tide_object_rec *r, sqlite3_int64 old_rowid, int64_t now)
{
    TIDE_CHECK(drop_indexes(s, old_rowid));
    TIDE_CHECK(run_rowid(s, ST_OBJ_UNCURRENT, old_rowid, "retire old version"));
    int added = insert_object(s, r, true, now);
    TIDE_CHECK(added);
    if (!added)
        return tide_error_set(
                TIDE_ESTORE, "version %s %s exists but is not current", r->id, r->modified);
    return became_current(s, r, sqlite3_last_insert_rowid(s->db));
}

static int retire_later(tide__sqlite *s, sqlite3_int64 rowid)
{
    if (s->nretired == s->capretired) {
        size_t nc = s->capretired ? s->capretired * 2 : 256;
        sqlite3_int64 *nr = tide__realloc(s->retired, nc * sizeof(*nr));
        TIDE_CHECK_ALLOC(nr);
        s->retired = nr;
        s->capretired = nc;
    }
    s->retired[s->nretired++] = rowid;
    return 0;
}

static int64_t scalar(tide__sqlite *s, const char *sql);

static sqlite3_int64 max_rowid(tide__sqlite *s, const char *table)
{
    char sql[64];
    snprintf(sql, sizeof(sql), "SELECT coalesce(max(rowid), 0) FROM %s", table);
    return scalar(s, sql);
}

static int rewrite_row(tide__sqlite *s, const tide_object_rec *r, sqlite3_int64 rowid, int64_t now)
{
    sqlite3_stmt *st = stmt(s, ST_OBJ_REWRITE);
    if (st == NULL)
        return TIDE_ESTORE;
    sqlite3_bind_int64(st, 1, rowid);
    tide__store_bind_text(st, 2, r->type);
    tide__store_bind_text(st, 3, r->created);
    tide__store_bind_text(st, 4, r->name);
    tide__store_bind_text(st, 5, r->source);
    tide__store_bind_text(st, 6, r->tlp);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)r->content_hash);
    sqlite3_bind_int64(st, 8, now);
    sqlite3_bind_text(st, 9, r->json, (int)r->json_len, SQLITE_STATIC);
    TIDE_CHECK(step_done(s, st, "rewrite object"));
    return became_current(s, r, rowid);
}

static int bulk_rewrite(tide__sqlite *s, const tide_object_rec *r, sqlite3_int64 rowid, int64_t now)
{
    /* the marks below count the rows written; the update trigger moves the row's count from
     * its old (type, source, tlp) to the new one, so the counts so far must be in the table */
    TIDE_CHECK(bulk_flush(s));
    TIDE_CHECK(write_bulk_counts(s));
    if (s->nrewritten == s->caprewritten) {
        size_t nc = s->caprewritten ? s->caprewritten * 2 : 64;
        struct rewrite *nr = tide__realloc(s->rewritten, nc * sizeof(*nr));
        TIDE_CHECK_ALLOC(nr);
        s->rewritten = nr;
        s->caprewritten = nc;
    }
    struct rewrite *w = &s->rewritten[s->nrewritten++];
    w->obj = rowid;
    w->obs_mark = (sqlite3_int64)s->nobs;
    w->refs_mark = max_rowid(s, "refs");
    w->names_mark = max_rowid(s, "names");
    return rewrite_row(s, r, rowid, now);
}

/* The id map's slot for key (0 is stored as 1), fetched ahead: the map of a million ids is
 * far bigger than the CPU caches, and its probe was 4% of a first load. */
static void be_prefetch_id(tide_store_backend *be, const char *id)
{
    tide__sqlite *s = tide__sq(be);
    if (!s->bulk || s->ids.cap == 0 || id == NULL)
        return;
    uint64_t key = XXH3_64bits(id, strlen(id));
    __builtin_prefetch(&s->ids.slots[(key ? key : 1) & (s->ids.cap - 1)]);
}

/* Bulk mode: no objects_id index yet; the id map says whether the id came before. */
static int bulk_put(tide__sqlite *s, const tide_object_rec *r, int *out_status, int64_t now)
{
    uint64_t key = XXH3_64bits(r->id, strlen(r->id));
    if (key == 0)
        key = 1;
    if ((s->ids.n + 1) * 2 > s->ids.cap)
        TIDE_CHECK(idmap_grow(&s->ids));
    size_t j = idmap_slot(&s->ids, key, key);
    while (s->ids.slots[j].key == key) {
        /* same hash: read that row to see whether it is the same id */
        sqlite3_int64 cur_rowid = s->ids.slots[j].row;
        sqlite3_stmt *st = stmt(s, ST_BULK_ROW);
        if (st == NULL)
            return TIDE_ESTORE;
        sqlite3_bind_int64(st, 1, cur_rowid);
        if (sqlite3_step(st) != SQLITE_ROW)
            return tide__store_db_error(s, "read loaded object");
        if (strcmp((const char *)sqlite3_column_text(st, 0), r->id) != 0) {
            sqlite3_reset(st);
            j = (j + 1) & (s->ids.cap - 1);
            while (s->ids.slots[j].key && s->ids.slots[j].key != key)
                j = (j + 1) & (s->ids.cap - 1);
            continue;
        }
        char cur_mod[64];
        snprintf(cur_mod, sizeof(cur_mod), "%s", (const char *)sqlite3_column_text(st, 1));
        uint64_t cur_hash = (uint64_t)sqlite3_column_int64(st, 2);
        sqlite3_reset(st);
        const char *mod = r->modified ? r->modified : "";
        int64_t a = modified_ms(mod), b = modified_ms(cur_mod);
        if (r->derived ? cur_hash == r->content_hash
                       : (strcmp(mod, cur_mod) == 0 || (a == b && a != INT64_MIN)))
            return 0; /* unchanged */
        if (r->derived && strcmp(mod, cur_mod) == 0) {
            /* re-made with other content in the same millisecond: rewrite in place */
            TIDE_CHECK(bulk_rewrite(s, r, cur_rowid, now));
            *out_status = TIDE_PUT_VERSION;
            return 0;
        }
        if (r->derived || a > b) {
            /* a newer version: the old row is retired when the load commits */
            TIDE_CHECK(retire_later(s, cur_rowid));
            sqlite3_int64 row = bulk_insert_object(s, r, true, now);
            TIDE_CHECK(row);
            s->ids.slots[j].row = row;
            TIDE_CHECK(became_current(s, r, row));
            *out_status = TIDE_PUT_VERSION;
            return 0;
        }
        /* an older version; a repeat of one already loaded is removed at commit */
        TIDE_CHECK(bulk_insert_object(s, r, false, now));
        s->bulk_older++;
        *out_status = TIDE_PUT_OLDER;
        return 0;
    }
    sqlite3_int64 row = bulk_insert_object(s, r, true, now);
    TIDE_CHECK(row);
    s->ids.slots[j].key = key;
    s->ids.slots[j].row = row;
    if ((++s->ids.n & (WRITEBACK_EVERY - 1)) == 0)
        tide__store_writeback(s->wb_fd);
    TIDE_CHECK(became_current(s, r, s->ids.slots[j].row));
    s->last_new = true;
    *out_status = TIDE_PUT_NEW;
    return 0;
}

/* An object whose current version was deleted (tide__sqlite_delete_versions) while older ones
 * stay; newest (row, modified, content hash) is the newest of these. The version put becomes
 * current when it is that one (the row is made current again, ingested_at kept: the TAXII
 * position of a version never moves) or newer; an older one is kept as such. */
static int put_orphan(tide__sqlite *s, const tide_object_rec *r, sqlite3_int64 newest,
        const char *newest_mod, uint64_t newest_hash, int64_t now, int *out_status)
{
    const char *mod = r->modified ? r->modified : "";
    int64_t a = modified_ms(mod), b = modified_ms(newest_mod);
    bool same = r->derived ? newest_hash == r->content_hash
                           : strcmp(mod, newest_mod) == 0 || (a == b && a != INT64_MIN);
    if (same) {
        char sql[128];
        snprintf(sql, sizeof sql,
                "UPDATE objects SET is_current = 1, changed_at = %lld WHERE rowid = %lld",
                (long long)now, (long long)newest);
        TIDE_CHECK(tide__store_exec(s, sql));
        TIDE_CHECK(became_current(s, r, newest));
        *out_status = TIDE_PUT_VERSION;
        return 0;
    }
    if (r->derived || a > b) {
        TIDE_CHECK(insert_object(s, r, true, now));
        TIDE_CHECK(became_current(s, r, sqlite3_last_insert_rowid(s->db)));
        *out_status = TIDE_PUT_VERSION;
        return 0;
    }
    sqlite3_stmt *st = stmt(s, ST_VERSION_EXISTS);
    if (st == NULL)
        return TIDE_ESTORE;
    tide__store_bind_text(st, 1, r->id);
    sqlite3_bind_int64(st, 2, tide__store_text_key(r->id));
    tide__store_bind_text(st, 3, mod);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step == SQLITE_ROW)
        return 0;
    if (step != SQLITE_DONE)
        return tide__store_db_error(s, "find version");
    TIDE_CHECK(insert_object(s, r, false, now));
    *out_status = TIDE_PUT_OLDER;
    return 0;
}

static int put_object(tide__sqlite *s, const tide_object_rec *r, int *out_status)
{
    int64_t now = tide__time_now_ms();
    s->put_now = now;
    *out_status = TIDE_PUT_UNCHANGED;
    if (s->bulk)
        return bulk_put(s, r, out_status, now);
    sqlite3_stmt *st = stmt(s, ST_CUR_GET);
    if (st == NULL)
        return TIDE_ESTORE;
    tide__store_bind_text(st, 1, r->id);
    sqlite3_bind_int64(st, 2, tide__store_text_key(r->id));
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE) {
        sqlite3_reset(st);
        int added = insert_object(s, r, true, now);
        TIDE_CHECK(added);
        if (!added) /* an older version came first and is not current: cannot happen */
            return tide_error_set(TIDE_ESTORE, "object %s has no current version", r->id);
        TIDE_CHECK(became_current(s, r, sqlite3_last_insert_rowid(s->db)));
        s->last_new = true;
        *out_status = TIDE_PUT_NEW;
        return 0;
    }
    if (step != SQLITE_ROW)
        return tide__store_db_error(s, "read current version");
    sqlite3_int64 cur_rowid = sqlite3_column_int64(st, 0);
    char cur_mod[64];
    snprintf(cur_mod, sizeof(cur_mod), "%s", (const char *)sqlite3_column_text(st, 1));
    uint64_t cur_hash = (uint64_t)sqlite3_column_int64(st, 2);
    bool is_current = sqlite3_column_int(st, 3) != 0;
    sqlite3_reset(st);
    const char *mod = r->modified ? r->modified : "";
    if (!is_current)
        return put_orphan(s, r, cur_rowid, cur_mod, cur_hash, now, out_status);

    if (r->derived) {
        if (cur_hash == r->content_hash)
            return 0;
        if (strcmp(mod, cur_mod) == 0) {
            /* re-made within the same millisecond: rewrite the current row in place */
            TIDE_CHECK(drop_indexes(s, cur_rowid));
            TIDE_CHECK(rewrite_row(s, r, cur_rowid, now));
        } else {
            TIDE_CHECK(make_current(s, r, cur_rowid, now));
        }
        *out_status = TIDE_PUT_VERSION;
        return 0;
    }
    int64_t a = modified_ms(mod), b = modified_ms(cur_mod);
    if (strcmp(mod, cur_mod) == 0 || (a == b && a != INT64_MIN))
        return 0; /* same version: the first copy stays, as STIX says */
    if (a > b) {
        TIDE_CHECK(make_current(s, r, cur_rowid, now));
        *out_status = TIDE_PUT_VERSION;
        return 0;
    }
    st = stmt(s, ST_VERSION_EXISTS);
    if (st == NULL)
        return TIDE_ESTORE;
    tide__store_bind_text(st, 1, r->id);
    sqlite3_bind_int64(st, 2, tide__store_text_key(r->id));
    tide__store_bind_text(st, 3, mod);
    step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step == SQLITE_ROW)
        return 0; /* that older version is already kept */
    if (step != SQLITE_DONE)
        return tide__store_db_error(s, "find version");
    TIDE_CHECK(insert_object(s, r, false, now));
    *out_status = TIDE_PUT_OLDER;
    return 0;
}

/* objects row of the current version of id (the last stored one, usually). */
static int current_rowid(tide__sqlite *s, const char *id, sqlite3_int64 *out, bool *is_new)
{
    if (s->last_id[0] && strcmp(s->last_id, id) == 0) {
        *out = s->last_rowid;
        if (is_new)
            *is_new = s->last_new;
        return 0;
    }
    if (is_new)
        *is_new = false;
    if (s->bulk && s->ids.cap) {
        uint64_t key = XXH3_64bits(id, strlen(id));
        if (key == 0)
            key = 1;
        for (size_t j = idmap_slot(&s->ids, key, key); s->ids.slots[j].key == key;
                j = idmap_slot(&s->ids, key, j + 1)) {
            sqlite3_stmt *st = stmt(s, ST_BULK_ROW);
            if (st == NULL)
                return TIDE_ESTORE;
            sqlite3_bind_int64(st, 1, s->ids.slots[j].row);
            bool same = sqlite3_step(st) == SQLITE_ROW &&
                        strcmp((const char *)sqlite3_column_text(st, 0), id) == 0;
            sqlite3_reset(st);
            if (same) {
                *out = s->ids.slots[j].row;
                return 0;
            }
        }
        return tide_error_set(TIDE_ENOTFOUND, "no object %s", id);
    }
    sqlite3_stmt *st = stmt(s, ST_CUR_ROWID);
    if (st == NULL)
        return TIDE_ESTORE;
    tide__store_bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, tide__store_text_key(id));
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (step == SQLITE_DONE)
        return tide_error_set(TIDE_ENOTFOUND, "no object %s", id);
    if (step != SQLITE_ROW)
        return tide__store_db_error(s, "find object");
    return 0;
}

/* Bulk mode: remember the observables of obj for obs_idx, written sorted at commit. */
static int bulk_obs_add(tide__sqlite *s, sqlite3_int64 obj, const tide_obs_ref *obs, size_t nobs)
{
    if (s->nobs + nobs > s->capobs) {
        size_t nc = s->capobs ? s->capobs : 4096;
        while (nc < s->nobs + nobs)
            nc *= 2;
        struct bulk_obs *no = tide__realloc(s->obs, nc * sizeof(*no));
        TIDE_CHECK_ALLOC(no);
        s->obs = no;
        s->capobs = nc;
    }
    for (size_t i = 0; i < nobs; i++) {
        size_t n = strlen(obs[i].value);
        if (s->obs_vals.len + n + 1 > UINT32_MAX)
            return tide_error_set(TIDE_ETOOBIG, "too many observables for one load");
        struct bulk_obs *b = &s->obs[s->nobs];
        b->vkey = (sqlite3_int64)XXH3_64bits(obs[i].value, n);
        b->obj = obj;
        b->val = (uint32_t)s->obs_vals.len;
        b->kind = (int)obs[i].kind;
        TIDE_CHECK(tide__buf_put(&s->obs_vals, obs[i].value, n + 1));
        s->nobs++;
    }
    return 0;
}

static int put_indicator(
        tide__sqlite *s, const tide_indicator_rec *ind, const tide_obs_ref *obs, size_t nobs)
{
    sqlite3_int64 obj;
    bool is_new;
    bool from_last = s->last_id[0] && strcmp(s->last_id, ind->id) == 0;
    TIDE_CHECK(current_rowid(s, ind->id, &obj, &is_new));
    if (!is_new && !s->bulk) /* bulk mode clears replaced entries at commit */
        TIDE_CHECK(drop_obs(s, obj));
    /* the objects columns the row copies: from the put_object just before, else read */
    sqlite3_stmt *ctx = NULL;
    if (!from_last) {
        if ((ctx = stmt(s, ST_OBJ_CTX)) == NULL)
            return TIDE_ESTORE;
        sqlite3_bind_int64(ctx, 1, obj);
        if (sqlite3_step(ctx) != SQLITE_ROW) {
            sqlite3_reset(ctx);
            return tide__store_db_error(s, "read indicator's object");
        }
    }
    tide_buf *packed = &s->put_obs, *rec = &s->put_rec;
    char rel[2] = { ind->reliability ? ind->reliability : 'C', '\0' };
    tide__ind_rec r = {
        .id = ind->id,
        .id_key = tide__store_text_key(ind->id),
        .kill_chain = ind->kill_chain,
        .pattern = ind->pattern ? ind->pattern : "",
        .pattern_type = ind->pattern_type ? ind->pattern_type : "stix",
        .reliability = rel,
        .confidence = ind->confidence,
        .valid_from = ind->valid_from,
        .valid_until = ind->valid_until,
        .created = ind->created,
        .modified = ind->modified,
        .simple = ind->simple,
        .revoked = ind->revoked,
    };
    if (ctx) {
        r.name = (const char *)sqlite3_column_text(ctx, 0);
        r.source = (const char *)sqlite3_column_text(ctx, 1);
        r.tlp = (const char *)sqlite3_column_text(ctx, 2);
        r.changed_at = sqlite3_column_int64(ctx, 3);
    } else {
        const char *b = s->last_ctx.ptr;
        r.name = s->last_name >= 0 ? b + s->last_name : NULL;
        r.source = s->last_source >= 0 ? b + s->last_source : NULL;
        r.tlp = s->last_tlp >= 0 ? b + s->last_tlp : NULL;
        r.changed_at = s->last_changed;
    }
    int rc = tide__store_obs_pack(packed, obs, nobs);
    if (rc == 0)
        rc = tide__store_ind_pack(rec, &r);
    if (rc == 0 && s->bulk) {
        /* the row goes to the batch (copied): the next read or the commit writes it */
        tide__rowbatch *b = &s->rb_indicators;
        size_t mark = b->nvals;
        rc |= tide__rb_int(b, obj);
        rc |= tide__rb_str(b, r.source);
        rc |= tide__rb_int(b, r.changed_at);
        rc |= tide__rb_int(b, ind->revoked);
        rc |= packed->len ? tide__rb_text(b, packed->ptr, packed->len) : tide__rb_text(b, NULL, 0);
        rc |= tide__rb_blob(b, rec->ptr, rec->len);
        if (ctx)
            sqlite3_reset(ctx);
        if (rc != 0) {
            b->nvals = mark;
            return tide_error_set(TIDE_ENOMEM, "out of memory");
        }
        return bulk_obs_add(s, obj, obs, nobs);
    }
    sqlite3_stmt *st = rc == 0 ? stmt(s, ST_IND_UPSERT) : NULL;
    if (st) {
        sqlite3_bind_int64(st, 1, obj);
        tide__store_bind_text(st, 2, r.source);
        sqlite3_bind_int64(st, 3, r.changed_at);
        sqlite3_bind_int(st, 4, ind->revoked);
        if (packed->len)
            sqlite3_bind_text(st, 5, packed->ptr, (int)packed->len, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 5);
        sqlite3_bind_blob(st, 6, rec->ptr, (int)rec->len, SQLITE_STATIC);
        rc = step_done(s, st, "store indicator");
        sqlite3_reset(st); /* the buffers are reused: the next use binds every parameter */
    } else if (rc == 0) {
        rc = TIDE_ESTORE;
    }
    if (ctx)
        sqlite3_reset(ctx);
    TIDE_CHECK(rc);
    if (s->bulk)
        return bulk_obs_add(s, obj, obs, nobs);
    for (size_t i = 0; i < nobs; i++) {
        st = stmt(s, ST_OBS_INSERT);
        if (st == NULL)
            return TIDE_ESTORE;
        sqlite3_bind_int(st, 1, (int)obs[i].kind);
        tide__store_bind_text(st, 2, obs[i].value);
        sqlite3_bind_int64(st, 3, obj);
        sqlite3_bind_int64(st, 4, tide__store_text_key(obs[i].value));
        TIDE_CHECK(step_done(s, st, "store observable"));
    }
    return 0;
}

static int be_put_object(tide_store_backend *be, const tide_object_rec *r, int *out_status)
{
    tide__sqlite *s = tide__sq(be);
    TIDE_CHECK(put_object(s, r, out_status));
    return *out_status == TIDE_PUT_UNCHANGED ? 0 : tide__store_intel_changed(s);
}

static int be_put_indicator(
        tide_store_backend *be, const tide_indicator_rec *ind, const tide_obs_ref *obs, size_t nobs)
{
    tide__sqlite *s = tide__sq(be);
    TIDE_CHECK(put_indicator(s, ind, obs, nobs));
    return tide__store_intel_changed(s);
}

static int be_put_relationship(tide_store_backend *be, const char *id, const char *rel_type,
        const char *source_ref, const char *target_ref)
{
    tide__sqlite *s = tide__sq(be);
    /* References are tied to the objects row that states them: the SRO itself, or the
     * container (sighting, report ...) whose id starts the synthetic id "ID|rel|target". */
    const char *bar = strchr(id, '|');
    char owner[256];
    size_t on = bar ? (size_t)(bar - id) : strlen(id);
    if (on >= sizeof(owner))
        on = sizeof(owner) - 1; /* as snprintf cut it: no such object, an error below */
    memcpy(owner, id, on);
    owner[on] = '\0';
    sqlite3_int64 obj;
    TIDE_CHECK(current_rowid(s, owner, &obj, NULL));
    if (s->bulk) {
        tide__rowbatch *b = &s->rb_refs;
        size_t mark = b->nvals;
        int rc = 0;
        rc |= tide__rb_str(b, id);
        rc |= tide__rb_str(b, rel_type);
        rc |= tide__rb_str(b, source_ref);
        rc |= tide__rb_str(b, target_ref);
        rc |= tide__rb_int(b, obj);
        rc |= tide__rb_int(b, tide__store_text_key(source_ref));
        rc |= tide__rb_int(b, tide__store_text_key(target_ref));
        if (rc != 0) {
            b->nvals = mark;
            return tide_error_set(TIDE_ENOMEM, "out of memory");
        }
        return tide__store_intel_changed(s);
    }
    sqlite3_stmt *st = stmt(s, ST_REF_INSERT);
    if (st == NULL)
        return TIDE_ESTORE;
    tide__store_bind_text(st, 1, id);
    tide__store_bind_text(st, 2, rel_type);
    tide__store_bind_text(st, 3, source_ref);
    tide__store_bind_text(st, 4, target_ref);
    sqlite3_bind_int64(st, 5, obj);
    sqlite3_bind_int64(st, 6, tide__store_text_key(source_ref));
    sqlite3_bind_int64(st, 7, tide__store_text_key(target_ref));
    TIDE_CHECK(step_done(s, st, "store relationship"));
    return tide__store_intel_changed(s);
}

/* ---------------- reading ---------------- */

static int be_get(tide_store_backend *be, const char *id, const char *modified, char **out)
{
    tide__sqlite *s = tide__sq(be);
    *out = NULL;
    sqlite3_stmt *st = stmt(s, modified ? ST_GET_VERSION : ST_GET_CURRENT);
    if (st == NULL)
        return TIDE_ESTORE;
    tide__store_bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, tide__store_text_key(id));
    if (modified)
        tide__store_bind_text(st, 3, modified);
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE)
        return tide_error_set(TIDE_ENOTFOUND, "no object %s%s%s", id, modified ? " at " : "",
                modified ? modified : "");
    if (step != SQLITE_ROW)
        return tide__store_db_error(s, "read object");
    if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
        sqlite3_reset(st);
        return tide_error_set(TIDE_ESTORE, "object %s has no stored JSON (damaged store)", id);
    }
    *out = tide__strndup(
            (const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
    sqlite3_reset(st);
    TIDE_CHECK_ALLOC(*out);
    return 0;
}

static int be_versions(tide_store_backend *be, const char *id,
        int (*cb)(const char *modified, void *payload), void *payload)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st = stmt(s, ST_VERSIONS);
    if (st == NULL)
        return TIDE_ESTORE;
    tide__store_bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, tide__store_text_key(id));
    int step, rc = 0, n = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        n++;
        if ((rc = cb((const char *)sqlite3_column_text(st, 0), payload)) != 0)
            break;
    }
    sqlite3_reset(st);
    if (rc == 0 && step != SQLITE_DONE)
        return tide__store_db_error(s, "list versions");
    if (n == 0)
        return tide_error_set(TIDE_ENOTFOUND, "no object %s", id);
    return rc;
}

/* A copy of t in scratch slot `slot` of tide_store_indicator's results. */
static const char *str_dup(tide__sqlite *s, const char *t, int slot)
{
    tide__free(s->ind_strs[slot]);
    s->ind_strs[slot] = t ? tide__strdup(t) : NULL;
    return s->ind_strs[slot];
}

static int be_indicator(tide_store_backend *be, const char *id, tide_indicator_rec *out)
{
    tide__sqlite *s = tide__sq(be);
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st = stmt(s, ST_IND_GET);
    if (st == NULL)
        return TIDE_ESTORE;
    tide__store_bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, tide__store_text_key(id));
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE)
        return tide_error_set(TIDE_ENOTFOUND, "no indicator %s", id);
    if (step != SQLITE_ROW)
        return tide__store_db_error(s, "read indicator");
    tide__ind_rec r;
    int rc = tide__store_ind_unpack(
            sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), &r);
    if (rc < 0) {
        sqlite3_reset(st);
        return rc;
    }
    out->id = str_dup(s, r.id, 0);
    out->pattern = str_dup(s, r.pattern, 1);
    out->pattern_type = str_dup(s, r.pattern_type, 2);
    out->name = str_dup(s, r.name, 3);
    out->source = str_dup(s, r.source, 4);
    out->reliability = r.reliability && r.reliability[0] ? r.reliability[0] : 'C';
    out->confidence = (int)r.confidence;
    out->tlp = str_dup(s, r.tlp, 5);
    out->kill_chain = str_dup(s, r.kill_chain, 6);
    out->valid_from = r.valid_from;
    out->valid_until = r.valid_until;
    out->created = r.created;
    out->modified = r.modified;
    out->simple = r.simple;
    out->revoked = r.revoked;
    sqlite3_reset(st);
    return 0;
}

static int be_lookup(tide_store_backend *be, tide_obs_kind kind, const char *value,
        int (*cb)(const char *indicator_id, void *payload), void *payload)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st = stmt(s, ST_LOOKUP);
    if (st == NULL)
        return TIDE_ESTORE;
    sqlite3_bind_int(st, 1, (int)kind);
    tide__store_bind_text(st, 2, value);
    sqlite3_bind_int64(st, 3, tide__store_text_key(value));
    int step, rc = 0;
    /* Copy ids first: the callback may call back into the store and reuse this statement. */
    tide_buf ids = TIDE_BUF_INIT;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (tide__buf_puts(&ids, (const char *)sqlite3_column_text(st, 0)) < 0 ||
                tide__buf_putc(&ids, '\n') < 0) {
            sqlite3_reset(st);
            tide__buf_free(&ids);
            return TIDE_ENOMEM;
        }
    }
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        tide__buf_free(&ids);
        return tide__store_db_error(s, "lookup");
    }
    for (char *p = ids.ptr; p && *p && rc == 0;) {
        char *nl = strchr(p, '\n');
        *nl = '\0';
        rc = cb(p, payload);
        p = nl + 1;
    }
    tide__buf_free(&ids);
    return rc;
}

static int be_indicator_observables(tide_store_backend *be, const char *id,
        int (*cb)(const tide_obs_ref *obs, void *payload), void *payload)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st = stmt(s, ST_IND_OBS);
    if (st == NULL)
        return TIDE_ESTORE;
    tide__store_bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, tide__store_text_key(id));
    int step = sqlite3_step(st), rc = 0;
    if (step == SQLITE_DONE || (step == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_NULL)) {
        sqlite3_reset(st);
        return 0;
    }
    if (step != SQLITE_ROW) {
        sqlite3_reset(st);
        return tide__store_db_error(s, "indicator observables");
    }
    /* copied: the callback may call back into the store and reuse this statement */
    tide_buf list = TIDE_BUF_INIT, val = TIDE_BUF_INIT;
    rc = tide__buf_put(&list, sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
    sqlite3_reset(st);
    const char *p = list.ptr, *end = list.ptr + list.len;
    tide_obs_kind kind;
    while (rc == 0 && (rc = tide__store_obs_next(&p, end, &kind, &val)) == 1) {
        tide_obs_ref o = { kind, val.ptr };
        rc = cb(&o, payload);
    }
    tide__buf_free(&list);
    tide__buf_free(&val);
    return rc;
}

static int related(tide_store_backend *be, int named, const char *id,
        int (*cb)(const tide_relation *rel, void *payload), void *payload)
{
    tide__sqlite *s = tide__sq(be);
    /* The cached statement, unless this is a nested call from a callback walking further:
     * that one prepares its own. */
    sqlite3_stmt *st;
    bool cached = !s->related_busy;
    if (cached && s->related_st[named]) {
        st = s->related_st[named];
        sqlite3_reset(st);
    } else if (sqlite3_prepare_v3(s->db, named ? related_named_sql : related_sql, -1,
                       cached ? SQLITE_PREPARE_PERSISTENT : 0, &st, NULL) != SQLITE_OK) {
        return tide__store_db_error(s, "prepare related");
    }
    if (cached) {
        s->related_st[named] = st;
        s->related_busy = true;
    }
    tide__store_bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, tide__store_text_key(id));
    int step, rc = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        tide_relation r = {
            .rel_id = (const char *)sqlite3_column_text(st, 0),
            .rel_type = (const char *)sqlite3_column_text(st, 1),
            .outgoing = sqlite3_column_int(st, 2) != 0,
            .other_id = (const char *)sqlite3_column_text(st, 3),
            .other_type = (const char *)sqlite3_column_text(st, 4),
            .other_name = (const char *)sqlite3_column_text(st, 5),
        };
        if ((rc = cb(&r, payload)) != 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = tide__store_db_error(s, "related");
    if (cached) {
        sqlite3_reset(st);
        s->related_busy = false;
    } else {
        sqlite3_finalize(st);
    }
    return rc;
}

static int be_related(tide_store_backend *be, const char *id,
        int (*cb)(const tide_relation *rel, void *payload), void *payload)
{
    return related(be, 0, id, cb, payload);
}

static int be_related_named(tide_store_backend *be, const char *id,
        int (*cb)(const tide_relation *rel, void *payload), void *payload)
{
    return related(be, 1, id, cb, payload);
}

static int be_search(tide_store_backend *be, const tide_search_query *q,
        int (*cb)(const tide_search_hit *hit, void *payload), void *payload)
{
    tide__sqlite *s = tide__sq(be);
    tide_buf sql = TIDE_BUF_INIT;
    int rc = tide__buf_puts(&sql,
            "SELECT c.id, c.type, c.name, c.modified, c.source, c.tlp FROM objects c "
            "WHERE c.is_current");
    if (q->type)
        rc |= tide__buf_puts(&sql, " AND c.type = :type");
    /* the types but those two have an index (objects_sdo), which needs its condition said */
    if (q->type && strcmp(q->type, "indicator") != 0 && strcmp(q->type, "relationship") != 0)
        rc |= tide__buf_puts(&sql, " AND c.type NOT IN ('indicator', 'relationship')");
    if (q->source)
        rc |= tide__buf_puts(&sql, " AND c.source = :source");
    if (q->since)
        rc |= tide__buf_puts(&sql, " AND c.changed_at >= :since");
    if (q->id)
        rc |= tide__buf_puts(&sql, " AND c.rowid IN (SELECT k.obj FROM objects_keys k"
                                   " WHERE k.id_key = tide_key(:id)) AND c.id = :id");
    if (q->value) {
        rc |= tide__buf_puts(&sql, " AND (c.rowid IN (SELECT obj FROM obs_idx WHERE kind IN (");
        for (int k = 1; k < TIDE_OBS__COUNT; k++)
            rc |= tide__buf_printf(&sql, "%s%d", k > 1 ? "," : "", k);
        rc |= tide__buf_puts(&sql, ") AND vkey = tide_key(:value) AND value = :value)"
                                   " OR c.rowid IN (SELECT obj FROM names"
                                   " WHERE name = :value COLLATE NOCASE))");
    }
    if (q->related)
        rc |= tide__buf_puts(&sql,
                " AND c.rowid IN (SELECT o2.rowid FROM (WITH rel(id) AS (SELECT :rel UNION"
                " SELECT o.id FROM names n JOIN objects o ON o.rowid = n.obj"
                " WHERE n.name = :rel COLLATE NOCASE AND o.is_current)"
                " SELECT r.source_ref AS x FROM rel JOIN refs r ON r.target_key = tide_key(rel.id)"
                " AND r.target_ref = rel.id UNION"
                " SELECT r.target_ref FROM rel JOIN refs r ON r.source_key = tide_key(rel.id)"
                " AND r.source_ref = rel.id) y"
                " JOIN objects_keys k2 ON k2.id_key = tide_key(y.x)"
                " JOIN objects o2 ON o2.rowid = k2.obj AND o2.id = y.x AND o2.is_current)");
    rc |= tide__buf_puts(&sql, " ORDER BY c.type, c.name, c.id");
    if (q->limit > 0)
        rc |= tide__buf_printf(&sql, " LIMIT %ld", q->limit);
    if (rc < 0) {
        tide__buf_free(&sql);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql.ptr, -1, &st, NULL) != SQLITE_OK) {
        tide__buf_free(&sql);
        return tide__store_db_error(s, "prepare search");
    }
    tide__buf_free(&sql);
    int i;
    if ((i = sqlite3_bind_parameter_index(st, ":type")))
        tide__store_bind_text(st, i, q->type);
    if ((i = sqlite3_bind_parameter_index(st, ":source")))
        tide__store_bind_text(st, i, q->source);
    if ((i = sqlite3_bind_parameter_index(st, ":since")))
        sqlite3_bind_int64(st, i, q->since);
    if ((i = sqlite3_bind_parameter_index(st, ":value")))
        tide__store_bind_text(st, i, q->value);
    if ((i = sqlite3_bind_parameter_index(st, ":rel")))
        tide__store_bind_text(st, i, q->related);
    if ((i = sqlite3_bind_parameter_index(st, ":id")))
        tide__store_bind_text(st, i, q->id);
    int step;
    rc = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        tide_search_hit h = {
            .id = (const char *)sqlite3_column_text(st, 0),
            .type = (const char *)sqlite3_column_text(st, 1),
            .name = (const char *)sqlite3_column_text(st, 2),
            .modified = (const char *)sqlite3_column_text(st, 3),
            .source = (const char *)sqlite3_column_text(st, 4),
            .tlp = (const char *)sqlite3_column_text(st, 5),
        };
        if ((rc = cb(&h, payload)) != 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = tide__store_db_error(s, "search");
    sqlite3_finalize(st);
    return rc;
}

static int count_into(tide__sqlite *s, json_t *obj, const char *sql, bool by_kind)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return tide__store_db_error(s, "prepare stats");
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *key;
        if (by_kind)
            key = tide_obs_kind_name((tide_obs_kind)sqlite3_column_int(st, 0));
        else
            key = (const char *)sqlite3_column_text(st, 0);
        json_object_set_new(obj, key ? key : "(none)", json_integer(sqlite3_column_int64(st, 1)));
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return tide__store_db_error(s, "stats");
    return 0;
}

static int64_t scalar(tide__sqlite *s, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = -1;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int be_stats_json(tide_store_backend *be, char **out)
{
    tide__sqlite *s = tide__sq(be);
    *out = NULL;
    json_t *root = json_object();
    json_t *by_type = json_object(), *by_source = json_object(), *by_tlp = json_object(),
           *obs = json_object();
    if (!root || !by_type || !by_source || !by_tlp || !obs) {
        json_decref(root);
        json_decref(by_type);
        json_decref(by_source);
        json_decref(by_tlp);
        json_decref(obs);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    /* objects_keys has one small row per objects row (schema 10): counted without reading
     * the objects table, which no index covers whole any more */
    json_object_set_new(
            root, "objects", json_integer(scalar(s, "SELECT count(*) FROM objects_keys")));
    json_object_set_new(root, "current",
            json_integer(scalar(s, "SELECT count(*) FROM objects WHERE is_current")));
    json_object_set_new(root, "by_type", by_type);
    json_object_set_new(root, "by_source", by_source);
    json_object_set_new(root, "by_tlp", by_tlp);
    json_object_set_new(root, "observables", obs);
    int rc = 0;
    /* from object_counts (schema 9), where a NULL source or tlp is '' */
    if ((rc = count_into(s, by_type,
                 "SELECT type, sum(n) FROM object_counts GROUP BY 1 HAVING sum(n) > 0", false)) <
                    0 ||
            (rc = count_into(s, by_source,
                     "SELECT CASE source WHEN '' THEN '(none)' ELSE source END, sum(n) "
                     "FROM object_counts GROUP BY 1 HAVING sum(n) > 0",
                     false)) < 0 ||
            (rc = count_into(s, by_tlp,
                     "SELECT CASE tlp WHEN '' THEN '(none)' ELSE tlp END, sum(n) "
                     "FROM object_counts GROUP BY 1 HAVING sum(n) > 0",
                     false)) < 0 ||
            (rc = count_into(s, obs, "SELECT kind, count(*) FROM obs_idx GROUP BY kind", true)) <
                    0) {
        json_decref(root);
        return rc;
    }
    json_object_set_new(
            root, "indicators", json_integer(scalar(s, "SELECT count(*) FROM indicators")));
    json_object_set_new(
            root, "relationships", json_integer(scalar(s, "SELECT count(*) FROM refs")));
    json_object_set_new(
            root, "warninglists", json_integer(scalar(s, "SELECT count(*) FROM warninglists")));
    json_object_set_new(root, "warninglist_entries",
            json_integer(scalar(s, "SELECT count(*) FROM warninglist_entries")));
    *out = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(root);
    if (*out == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    return 0;
}

/* ---------------- warninglists ---------------- */

static int be_put_warninglist(tide_store_backend *be, const char *name, const char *type,
        const char *description, const char *const *values, size_t n)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(s->db, "DELETE FROM warninglist_entries WHERE name = ?1", -1, &st,
                NULL) != SQLITE_OK)
        return tide__store_db_error(s, "prepare");
    tide__store_bind_text(st, 1, name);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = tide__store_db_error(s, "clear warninglist");
    sqlite3_finalize(st);
    if (rc < 0)
        return rc;
    if (sqlite3_prepare_v2(s->db,
                "INSERT OR REPLACE INTO warninglists(name, type, description, loaded_at) "
                "VALUES (?1, ?2, ?3, ?4)",
                -1, &st, NULL) != SQLITE_OK)
        return tide__store_db_error(s, "prepare");
    tide__store_bind_text(st, 1, name);
    tide__store_bind_text(st, 2, type);
    tide__store_bind_text(st, 3, description);
    sqlite3_bind_int64(st, 4, tide__time_now_ms());
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = tide__store_db_error(s, "store warninglist");
    sqlite3_finalize(st);
    if (rc < 0)
        return rc;
    if (sqlite3_prepare_v2(s->db,
                "INSERT OR IGNORE INTO warninglist_entries(name, value) VALUES (?1, ?2)", -1, &st,
                NULL) != SQLITE_OK)
        return tide__store_db_error(s, "prepare");
    for (size_t i = 0; i < n && rc == 0; i++) {
        sqlite3_reset(st);
        tide__store_bind_text(st, 1, name);
        tide__store_bind_text(st, 2, values[i]);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = tide__store_db_error(s, "store warninglist entry");
    }
    sqlite3_finalize(st);
    return rc < 0 ? rc : tide__store_intel_changed(s);
}

static int be_warninglist_entries(tide_store_backend *be,
        int (*cb)(const char *name, const char *type, const char *value, void *payload),
        void *payload)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                "SELECT w.name, w.type, e.value FROM warninglist_entries e JOIN warninglists w "
                "ON w.name = e.name ORDER BY w.name",
                -1, &st, NULL) != SQLITE_OK)
        return tide__store_db_error(s, "prepare");
    int step, rc = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if ((rc = cb((const char *)sqlite3_column_text(st, 0),
                     (const char *)sqlite3_column_text(st, 1),
                     (const char *)sqlite3_column_text(st, 2), payload)) != 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = tide__store_db_error(s, "warninglist entries");
    sqlite3_finalize(st);
    return rc;
}

/* ---------------- the table ---------------- */

static void fill_table(tide_store_backend *be)
{
    tide_store_backend_init(be, TIDE_STORE_BACKEND_VERSION);
    be->free = be_free;
    be->schema_version = be_schema_version;
    be->db_path = be_db_path;
    be->begin = tide__sqlite_begin;
    be->commit = tide__sqlite_commit;
    be->rollback = tide__sqlite_rollback;
    be->begin_load = be_begin_load;
    be->prefetch_id = be_prefetch_id;
    be->put_object = be_put_object;
    be->put_indicator = be_put_indicator;
    be->put_relationship = be_put_relationship;
    be->get = be_get;
    be->versions = be_versions;
    be->indicator = be_indicator;
    be->lookup = be_lookup;
    be->indicator_observables = be_indicator_observables;
    be->related = be_related;
    be->search = be_search;
    be->stats_json = be_stats_json;
    be->intel_generation = tide__sqlite_intel_generation;
    be->put_warninglist = be_put_warninglist;
    be->warninglist_entries = be_warninglist_entries;
    be->scan = tide__sqlite_scan;
    be->graph = tide__sqlite_graph;
    be->node = tide__sqlite_node;
    be->edges_of = tide__sqlite_edges_of;
    be->few_changed = tide__sqlite_few_changed;
    be->put_asset = tide__sqlite_put_asset;
    be->each_asset = tide__sqlite_each_asset;
    be->export_state_get = tide__sqlite_export_state_get;
    be->export_state_put = tide__sqlite_export_state_put;
    be->put_sightings = tide__sqlite_put_sightings;
    be->sightings = tide__sqlite_sightings;
    be->put_positions = tide__sqlite_put_positions;
    be->positions = tide__sqlite_positions;
    be->feed_put = tide__sqlite_feed_put; /* store_feeds.c */
    be->feed_get = tide__sqlite_feed_get;
    be->feeds = tide__sqlite_feeds;
    be->feed_remove = tide__sqlite_feed_remove;
    be->feed_state = tide__sqlite_feed_state;
    be->sighting_by_id = tide__sqlite_sighting_by_id;
    be->case_put = tide__sqlite_case_put;
    be->case_get = tide__sqlite_case_get;
    be->case_ids = tide__sqlite_case_ids;
    be->case_find_covering = tide__sqlite_case_find_covering;
    be->case_host_put = tide__sqlite_case_host_put;
    be->case_hosts = tide__sqlite_case_hosts;
    be->case_indicators_add = tide__sqlite_case_indicators_add;
    be->case_indicators = tide__sqlite_case_indicators;
    be->case_event_add = tide__sqlite_case_event_add;
    be->case_events = tide__sqlite_case_events;
    be->indicator_source_counts = tide__sqlite_indicator_source_counts;
    be->key_put = tide__sqlite_key_put;
    be->key_by_hash = tide__sqlite_key_by_hash;
    be->keys = tide__sqlite_keys;
    be->key_revoke = tide__sqlite_key_revoke;
    be->audit_add = tide__sqlite_audit_add;
    be->audit = tide__sqlite_audit;
    be->added = tide__sqlite_added;
    be->delete_versions = tide__sqlite_delete_versions; /* store_delete.c */
    be->related_named = be_related_named;
}

tide__sqlite *tide__store_sqlite_backend(tide_store_backend *be)
{
    return be && be->free == be_free ? tide__sq(be) : NULL;
}

tide__sqlite *tide__store_sqlite(tide_store *store)
{
    return tide__store_sqlite_backend(tide__store_backend(store));
}
