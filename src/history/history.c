/*
 * history.c - the observation history of a store (history.h): the in-memory aggregator
 * (distinct day x observable x host, hashed), spilled as sorted run files; the MANIFEST that
 * lists the committed runs and is replaced atomically (temp file, fsync, rename, fsync of the
 * folder), so a crash at any point leaves the last committed history; compaction (k-way merge
 * of the runs of one day), retention and pruning; stats and a full scan.
 *
 * Only one writer at a time (flock on DIR/history/LOCK); readers only read the manifest and
 * the immutable runs it names.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "history/hist_int.h"

#define DEFAULT_SPILL 2000000u /* aggregator entries before a run is written (~150 MB) */
#define MAX_RUNS 100000

typedef struct {
    int32_t day;
    uint64_t seq, nrec, bytes, events;
} run_ent;

typedef struct {
    uint64_t hash;
    uint64_t key_off;
    int64_t first, last;
    uint64_t count, line;
    int32_t day;
    uint32_t host, file;
    uint16_t key_len;
} agg_ent;

typedef struct {
    tide_strmap map;
    uint32_t *off; /* id -> offset of the name in map.arena */
    size_t n, cap;
} names;

struct tide_history {
    char *dir;
    bool writable;
    int lock_fd;
    int retention;
    uint64_t raw_bytes, next_seq;
    bool dirty; /* settings or counters changed since the manifest was written */
    run_ent *runs;
    size_t nruns, capruns;
    run_ent *pend;
    size_t npend, cappend;
    /* aggregator */
    agg_ent *ents;
    size_t nents, capents, spill;
    uint32_t *table; /* entry index + 1 */
    size_t tcap;
    tide_buf keys;
    names hosts, files;
};

/* ---- small helpers ---- */

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 16;
    while (c < need)
        c *= 2;
    void *n = tide__realloc(*p, c * size);
    TIDE_CHECK_ALLOC(n);
    *p = n;
    *cap = c;
    return 0;
}

static void day_name(int32_t day, char out[32])
{
    /* civil from days (Howard Hinnant) */
    int64_t z = (int64_t)day + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2)
        y++;
    snprintf(out, 32, "%04d-%02u-%02u", (int)(y % 10000), m % 100, d % 100);
}

static void run_path(const tide_history *h, const run_ent *r, char *out, size_t n)
{
    char d[32];
    day_name(r->day, d);
    snprintf(out, n, "%s/%s.%06" PRIu64 ".hst", h->dir, d, r->seq);
}

static int names_id(names *nm, const char *s, size_t n, uint32_t *out)
{
    int added = tide__strmap_put(&nm->map, s, n, (uint32_t)nm->n, out);
    TIDE_CHECK(added);
    if (added) {
        TIDE_CHECK(grow((void **)&nm->off, &nm->cap, nm->n + 1, sizeof(uint32_t)));
        /* the map copied the key into its arena, NUL-terminated, at the end */
        nm->off[nm->n++] = (uint32_t)(nm->map.arena.len - n - 1);
    }
    return 0;
}

static const char *names_get(const names *nm, uint32_t id)
{
    return nm->map.arena.ptr + nm->off[id];
}

static void names_free(names *nm)
{
    tide__strmap_free(&nm->map);
    tide__free(nm->off);
    memset(nm, 0, sizeof(*nm));
    nm->map = (tide_strmap)TIDE_STRMAP_INIT;
}

/* ---- manifest ---- */

static int manifest_write(tide_history *h)
{
    tide_buf b = TIDE_BUF_INIT;
    int rc = tide__buf_printf(&b, "tide-history 1\nretention %d\nraw_bytes %" PRIu64
            "\nnext_seq %" PRIu64 "\n", h->retention, h->raw_bytes, h->next_seq);
    for (size_t i = 0; rc == 0 && i < h->nruns; i++) {
        const run_ent *r = &h->runs[i];
        rc = tide__buf_printf(&b, "run %d %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
                (int)r->day, r->seq, r->nrec, r->bytes, r->events);
    }
    if (rc == 0)
        rc = tide__buf_printf(&b, "end %016" PRIx64 "\n", (uint64_t)XXH3_64bits(b.ptr, b.len));
    char path[4096], tmp[4096];
    snprintf(path, sizeof(path), "%s/MANIFEST", h->dir);
    snprintf(tmp, sizeof(tmp), "%s/MANIFEST.tmp", h->dir);
    if (rc == 0) {
        FILE *f = fopen(tmp, "wb");
        if (f == NULL)
            rc = tide_error_set(TIDE_EIO, "%s: %s", tmp, strerror(errno));
        else {
            bool ok = fwrite(b.ptr, 1, b.len, f) == b.len && fflush(f) == 0 &&
                    fsync(fileno(f)) == 0;
            ok = (fclose(f) == 0) && ok;
            if (!ok || rename(tmp, path) != 0) {
                rc = tide_error_set(TIDE_EIO, "writing %s: %s", path, strerror(errno));
                unlink(tmp);
            } else {
                rc = tide__hist_fsync_dir(h->dir);
            }
        }
    }
    tide__buf_free(&b);
    if (rc == 0)
        h->dirty = false;
    return rc;
}

static int manifest_read(tide_history *h)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/MANIFEST", h->dir);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        if (errno == ENOENT)
            return 0; /* empty history */
        return tide_error_set(TIDE_EIO, "%s: %s", path, strerror(errno));
    }
    tide_buf b = TIDE_BUF_INIT;
    b.max = 64u << 20;
    char chunk[65536];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = tide__buf_put(&b, chunk, n);
    fclose(f);
    if (rc < 0) {
        tide__buf_free(&b);
        return tide_error_set(rc, "history manifest %s: too big", path);
    }
    const char *end = b.ptr ? strstr(b.ptr, "end ") : NULL;
    while (end && end != b.ptr && end[-1] != '\n')
        end = strstr(end + 1, "end ");
    uint64_t want = 0;
    if (end == NULL || sscanf(end, "end %16" SCNx64, &want) != 1 ||
            want != XXH3_64bits(b.ptr, (size_t)(end - b.ptr))) {
        tide__buf_free(&b);
        return tide_error_set(TIDE_EFORMAT,
                "history manifest %s is corrupt: missing or bad checksum line", path);
    }
    size_t lineno = 0;
    for (char *line = b.ptr; rc == 0 && line < end;) {
        char *nl = strchr(line, '\n');
        if (nl == NULL)
            break;
        *nl = '\0';
        lineno++;
        int d;
        run_ent r;
        if (lineno == 1) {
            if (strcmp(line, "tide-history 1") != 0)
                rc = tide_error_set(TIDE_EFORMAT, "history manifest %s:1: unknown version",
                        path);
        } else if (sscanf(line, "retention %d", &d) == 1) {
            h->retention = d > 0 ? d : TIDE_HISTORY_DEFAULT_RETENTION_DAYS;
        } else if (sscanf(line, "raw_bytes %" SCNu64, &h->raw_bytes) == 1) {
        } else if (sscanf(line, "next_seq %" SCNu64, &h->next_seq) == 1) {
        } else if (sscanf(line, "run %d %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64, &d, &r.seq,
                           &r.nrec, &r.bytes, &r.events) == 5) {
            r.day = d;
            if (h->nruns >= MAX_RUNS)
                rc = tide_error_set(TIDE_ETOOBIG, "history manifest %s: too many runs", path);
            else if ((rc = grow((void **)&h->runs, &h->capruns, h->nruns + 1, sizeof(run_ent))) == 0)
                h->runs[h->nruns++] = r;
        } else {
            rc = tide_error_set(TIDE_EFORMAT, "history manifest %s:%zu: unknown line", path,
                    lineno);
        }
        line = nl + 1;
    }
    tide__buf_free(&b);
    return rc;
}

/* Remove files a crashed writer left: temp files and runs the manifest does not name. */
static void sweep(tide_history *h)
{
    DIR *d = opendir(h->dir);
    if (d == NULL)
        return;
    struct dirent *de;
    char path[4096], want[4096];
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        size_t len = strlen(n);
        bool tmp = len > 4 && strcmp(n + len - 4, ".tmp") == 0;
        bool hst = len > 4 && strcmp(n + len - 4, ".hst") == 0;
        if (!tmp && !hst)
            continue;
        snprintf(path, sizeof(path), "%s/%s", h->dir, n);
        bool keep = false;
        for (size_t i = 0; hst && !keep && i < h->nruns; i++) {
            run_path(h, &h->runs[i], want, sizeof(want));
            keep = strcmp(want, path) == 0;
        }
        if (!keep)
            unlink(path);
    }
    closedir(d);
}

/* ---- open / free ---- */

int tide_history_open(tide_history **out, const char *store_dir, bool writable)
{
    *out = NULL;
    tide_history *h = tide__calloc(1, sizeof(*h));
    TIDE_CHECK_ALLOC(h);
    h->lock_fd = -1;
    h->writable = writable;
    h->retention = TIDE_HISTORY_DEFAULT_RETENTION_DAYS;
    h->hosts.map = (tide_strmap)TIDE_STRMAP_INIT;
    h->files.map = (tide_strmap)TIDE_STRMAP_INIT;
    h->spill = DEFAULT_SPILL;
    const char *sp = getenv("TIDE_HISTORY_SPILL"); /* tests: force small runs */
    long v;
    if (sp && tide__parse_long(sp, &v) == 0 && v > 0)
        h->spill = (size_t)v;
    size_t n = strlen(store_dir) + 16;
    h->dir = tide__malloc(n);
    if (h->dir == NULL) {
        tide__free(h);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    snprintf(h->dir, n, "%s/history", store_dir);
    int rc = 0;
    if (writable) {
        mkdir(store_dir, 0750);
        if (mkdir(h->dir, 0750) != 0 && errno != EEXIST)
            rc = tide_error_set(TIDE_EIO, "%s: %s", h->dir, strerror(errno));
        char lp[4096];
        snprintf(lp, sizeof(lp), "%s/LOCK", h->dir);
        if (rc == 0 && (h->lock_fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) < 0)
            rc = tide_error_set(TIDE_EIO, "%s: %s", lp, strerror(errno));
        if (rc == 0 && flock(h->lock_fd, LOCK_EX | LOCK_NB) != 0)
            rc = tide_error_set(TIDE_EIO,
                    "history %s is being written by another tide process", h->dir);
    }
    if (rc == 0)
        rc = manifest_read(h);
    if (rc == 0 && writable)
        sweep(h);
    if (rc < 0) {
        tide_history_free(h);
        return rc;
    }
    *out = h;
    return 0;
}

static void agg_clear(tide_history *h)
{
    h->nents = 0;
    h->keys.len = 0;
    if (h->table)
        memset(h->table, 0, h->tcap * sizeof(uint32_t));
    names_free(&h->hosts);
    names_free(&h->files);
}

void tide_history_free(tide_history *h)
{
    if (h == NULL)
        return;
    /* runs spilled but not committed are not in the manifest: remove them */
    char p[4096];
    for (size_t i = 0; i < h->npend; i++) {
        run_path(h, &h->pend[i], p, sizeof(p));
        unlink(p);
    }
    if (h->lock_fd >= 0)
        close(h->lock_fd);
    names_free(&h->hosts);
    names_free(&h->files);
    tide__free(h->dir);
    tide__free(h->runs);
    tide__free(h->pend);
    tide__free(h->ents);
    tide__free(h->table);
    tide__buf_free(&h->keys);
    tide__free(h);
}

int tide_history_set_retention(tide_history *h, int days)
{
    if (days < 1 || days > 100000)
        return tide_error_set(TIDE_EINVAL, "retention of %d days", days);
    h->retention = days;
    h->dirty = true;
    return 0;
}

int tide_history_retention(const tide_history *h)
{
    return h->retention;
}

void tide_history_add_raw_bytes(tide_history *h, uint64_t bytes)
{
    h->raw_bytes += bytes;
    h->dirty = true;
}

/* ---- aggregator ---- */

static uint64_t ent_hash(const uint8_t *key, size_t n, int32_t day, uint32_t host)
{
    uint64_t x = XXH3_64bits_withSeed(key, n, (uint64_t)(uint32_t)day << 32 | host);
    return x ? x : 1;
}

static int table_grow(tide_history *h)
{
    size_t cap = h->tcap ? h->tcap * 2 : 1 << 16;
    uint32_t *t = tide__calloc(cap, sizeof(uint32_t));
    TIDE_CHECK_ALLOC(t);
    for (size_t i = 0; i < h->nents; i++) {
        size_t s = h->ents[i].hash & (cap - 1);
        while (t[s])
            s = (s + 1) & (cap - 1);
        t[s] = (uint32_t)i + 1;
    }
    tide__free(h->table);
    h->table = t;
    h->tcap = cap;
    return 0;
}

static int spill(tide_history *h);

static int agg_put(tide_history *h, const uint8_t *key, size_t n, int32_t day, uint32_t host,
        int64_t ts, uint32_t file, uint64_t line)
{
    if ((h->nents + 1) * 2 > h->tcap)
        TIDE_CHECK(table_grow(h));
    uint64_t hv = ent_hash(key, n, day, host);
    size_t mask = h->tcap - 1;
    for (size_t s = hv & mask;; s = (s + 1) & mask) {
        uint32_t v = h->table[s];
        if (v == 0) {
            TIDE_CHECK(grow((void **)&h->ents, &h->capents, h->nents + 1, sizeof(agg_ent)));
            agg_ent *e = &h->ents[h->nents];
            e->hash = hv;
            e->key_off = h->keys.len;
            e->key_len = (uint16_t)n;
            TIDE_CHECK(tide__buf_put(&h->keys, key, n));
            e->day = day;
            e->host = host;
            e->first = e->last = ts;
            e->count = 1;
            e->file = file;
            e->line = line;
            h->table[s] = (uint32_t)++h->nents;
            return 0;
        }
        agg_ent *e = &h->ents[v - 1];
        if (e->hash == hv && e->day == day && e->host == host && e->key_len == n &&
                memcmp(h->keys.ptr + e->key_off, key, n) == 0) {
            e->count++;
            if (ts < e->first) {
                e->first = ts;
                e->file = file;
                e->line = line;
            }
            if (ts > e->last)
                e->last = ts;
            return 0;
        }
    }
}

int tide_history_add(tide_history *h, const char *file, const tide_event *ev)
{
    if (!h->writable)
        return tide_error_set(TIDE_EINVAL, "history opened read-only");
    if (ev->nobs == 0)
        return 0;
    int64_t ts = ev->ts_us > 0 ? ev->ts_us : tide__hist_now_us();
    int32_t day = (int32_t)(ts / HIST_DAY_US);
    uint32_t host, fid;
    TIDE_CHECK(names_id(&h->hosts, ev->host ? ev->host : "", ev->host ? ev->host_len : 0, &host));
    TIDE_CHECK(names_id(&h->files, file ? file : "", file ? strlen(file) : 0, &fid));
    uint8_t key[HIST_MAX_KEY];
    /* one count per event: skip an observable the event already named */
    uint64_t seen[64];
    size_t nseen = 0;
    for (size_t i = 0; i < ev->nobs; i++) {
        const tide_observation *o = &ev->obs[i];
        int n = tide__hist_key(o->kind, o->value, o->len, key);
        if (n < 0)
            continue;
        uint64_t kh = XXH3_64bits(key, (size_t)n);
        bool dup = false;
        for (size_t k = 0; k < nseen && !dup; k++)
            dup = seen[k] == kh;
        if (dup)
            continue;
        if (nseen < 64)
            seen[nseen++] = kh;
        TIDE_CHECK(agg_put(h, key, (size_t)n, day, host, ts, fid, ev->line));
    }
    if (h->nents >= h->spill)
        TIDE_CHECK(spill(h));
    return 0;
}

static tide_history *sort_ctx; /* qsort has no payload; the writer is single-threaded */

static int cmp_ent(const void *a, const void *b)
{
    const agg_ent *x = &sort_ctx->ents[*(const uint32_t *)a];
    const agg_ent *y = &sort_ctx->ents[*(const uint32_t *)b];
    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    int c = tide__hist_keycmp((const uint8_t *)sort_ctx->keys.ptr + x->key_off, x->key_len,
            (const uint8_t *)sort_ctx->keys.ptr + y->key_off, y->key_len);
    if (c)
        return c;
    return strcmp(names_get(&sort_ctx->hosts, x->host), names_get(&sort_ctx->hosts, y->host));
}

/* Write the aggregator as one run per day (pending until commit) and empty it. */
static int spill(tide_history *h)
{
    if (h->nents == 0)
        return 0;
    uint32_t *ord = tide__malloc(h->nents * sizeof(uint32_t));
    TIDE_CHECK_ALLOC(ord);
    for (size_t i = 0; i < h->nents; i++)
        ord[i] = (uint32_t)i;
    sort_ctx = h;
    qsort(ord, h->nents, sizeof(uint32_t), cmp_ent);
    sort_ctx = NULL;
    int rc = 0;
    hist_writer *w = NULL;
    run_ent cur = { 0 };
    char path[4096];
    for (size_t i = 0; rc == 0 && i <= h->nents; i++) {
        const agg_ent *e = i < h->nents ? &h->ents[ord[i]] : NULL;
        if (w && (e == NULL || e->day != cur.day)) {
            rc = tide__hist_writer_close(w, &cur.bytes, &cur.nrec);
            w = NULL;
            if (rc == 0)
                rc = grow((void **)&h->pend, &h->cappend, h->npend + 1, sizeof(run_ent));
            if (rc == 0)
                h->pend[h->npend++] = cur;
        }
        if (e == NULL || rc < 0)
            break;
        if (w == NULL) {
            memset(&cur, 0, sizeof(cur));
            cur.day = e->day;
            cur.seq = ++h->next_seq;
            run_path(h, &cur, path, sizeof(path));
            rc = tide__hist_writer_new(&w, path, cur.day);
            if (rc < 0)
                break;
        }
        cur.events += e->count;
        rc = tide__hist_writer_add(w, (const uint8_t *)h->keys.ptr + e->key_off, e->key_len,
                names_get(&h->hosts, e->host), e->first, e->last, e->count,
                names_get(&h->files, e->file), e->line);
    }
    if (w)
        tide__hist_writer_abort(w);
    tide__free(ord);
    agg_clear(h);
    h->dirty = true;
    return rc;
}

/* ---- compaction and pruning ---- */

static int cmp_run(const void *a, const void *b)
{
    const run_ent *x = a, *y = b;
    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Merge runs [from, to) of one day into one run (returned in out). */
static int merge_day(tide_history *h, const run_ent *rs, size_t n, run_ent *out)
{
    hist_file **files = tide__calloc(n, sizeof(hist_file *));
    hist_cursor *cur = tide__calloc(n, sizeof(hist_cursor));
    int *live = tide__calloc(n, sizeof(int));
    hist_writer *w = NULL;
    int rc = 0;
    if (files == NULL || cur == NULL || live == NULL)
        rc = tide_error_set(TIDE_ENOMEM, "out of memory");
    char path[4096];
    for (size_t i = 0; rc >= 0 && i < n; i++) {
        run_path(h, &rs[i], path, sizeof(path));
        if ((rc = tide__hist_file_open(&files[i], path)) == 0) {
            tide__hist_cursor_init(&cur[i], files[i]);
            rc = live[i] = tide__hist_cursor_next(&cur[i]);
        }
    }
    memset(out, 0, sizeof(*out));
    out->day = rs[0].day;
    out->seq = ++h->next_seq;
    run_path(h, out, path, sizeof(path));
    if (rc >= 0)
        rc = tide__hist_writer_new(&w, path, out->day);
    uint8_t key[HIST_MAX_KEY];
    char host[4096];
    while (rc >= 0) {
        /* the smallest (key, host) among the live cursors */
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < n; i++) {
            if (live[i] != 1)
                continue;
            if (best == SIZE_MAX) {
                best = i;
                continue;
            }
            int c = tide__hist_keycmp(cur[i].rec.key, cur[i].rec.key_len, cur[best].rec.key,
                    cur[best].rec.key_len);
            if (c == 0)
                c = strcmp(tide__hist_file_host(files[i], cur[i].rec.host),
                        tide__hist_file_host(files[best], cur[best].rec.host));
            if (c < 0)
                best = i;
        }
        if (best == SIZE_MAX)
            break;
        size_t klen = cur[best].rec.key_len;
        memcpy(key, cur[best].rec.key, klen);
        snprintf(host, sizeof(host), "%s", tide__hist_file_host(files[best], cur[best].rec.host));
        int64_t first = INT64_MAX, last = INT64_MIN;
        uint64_t count = 0, line = 0;
        const char *file = "";
        char filebuf[4096];
        for (size_t i = 0; i < n && rc >= 0; i++) {
            while (live[i] == 1 &&
                    tide__hist_keycmp(cur[i].rec.key, cur[i].rec.key_len, key, klen) == 0 &&
                    strcmp(tide__hist_file_host(files[i], cur[i].rec.host), host) == 0) {
                const hist_rec *r = &cur[i].rec;
                if (r->first < first) {
                    first = r->first;
                    snprintf(filebuf, sizeof(filebuf), "%s", tide__hist_file_name(files[i], r->file));
                    file = filebuf;
                    line = r->line;
                }
                if (r->last > last)
                    last = r->last;
                count += r->count;
                rc = live[i] = tide__hist_cursor_next(&cur[i]);
            }
        }
        if (rc >= 0) {
            out->events += count;
            rc = tide__hist_writer_add(w, key, klen, host, first, last, count, file, line);
        }
    }
    if (rc >= 0 && w) {
        rc = tide__hist_writer_close(w, &out->bytes, &out->nrec);
        w = NULL;
    }
    tide__hist_writer_abort(w);
    for (size_t i = 0; i < n; i++) {
        if (cur)
            tide__hist_cursor_free(&cur[i]);
        if (files)
            tide__hist_file_free(files[i]);
    }
    tide__free(files);
    tide__free(cur);
    tide__free(live);
    return rc < 0 ? rc : 0;
}

static void remove_runs(tide_history *h, const run_ent *rs, size_t n)
{
    char p[4096];
    for (size_t i = 0; i < n; i++) {
        run_path(h, &rs[i], p, sizeof(p));
        unlink(p);
    }
}

#define LAZY_RUNS 8

static int compact(tide_history *h, bool lazy)
{
    if (h->nruns > 1)
        qsort(h->runs, h->nruns, sizeof(run_ent), cmp_run);
    for (size_t i = 0; i < h->nruns;) {
        size_t j = i + 1;
        while (j < h->nruns && h->runs[j].day == h->runs[i].day)
            j++;
        bool newest = j == h->nruns;
        if (j - i > 1 && !(lazy && newest && j - i < LAZY_RUNS)) {
            run_ent merged;
            TIDE_CHECK(merge_day(h, &h->runs[i], j - i, &merged));
            size_t n = j - i;
            run_ent *old = tide__malloc(n * sizeof(run_ent));
            TIDE_CHECK_ALLOC(old);
            memcpy(old, &h->runs[i], n * sizeof(run_ent));
            h->runs[i] = merged;
            memmove(&h->runs[i + 1], &h->runs[j], (h->nruns - j) * sizeof(run_ent));
            h->nruns -= n - 1;
            int rc = manifest_write(h);
            if (rc == 0)
                remove_runs(h, old, n);
            tide__free(old);
            TIDE_CHECK(rc);
            j = i + 1;
        }
        i = j;
    }
    return 0;
}

static int drop_before_day(tide_history *h, int32_t cutoff, size_t *out_days)
{
    size_t k = 0, ndrop = 0;
    run_ent *drop = tide__malloc((h->nruns ? h->nruns : 1) * sizeof(run_ent));
    TIDE_CHECK_ALLOC(drop);
    int32_t lastday = INT32_MIN;
    for (size_t i = 0; i < h->nruns; i++) {
        if (h->runs[i].day < cutoff) {
            if (h->runs[i].day != lastday && out_days)
                (*out_days)++;
            lastday = h->runs[i].day;
            drop[ndrop++] = h->runs[i];
        } else {
            h->runs[k++] = h->runs[i];
        }
    }
    h->nruns = k;
    int rc = 0;
    if (ndrop) {
        rc = manifest_write(h);
        if (rc == 0)
            remove_runs(h, drop, ndrop);
    }
    tide__free(drop);
    return rc;
}

static int apply_retention(tide_history *h, size_t *out_days)
{
    if (h->nruns == 0)
        return 0;
    int32_t newest = INT32_MIN;
    for (size_t i = 0; i < h->nruns; i++)
        if (h->runs[i].day > newest)
            newest = h->runs[i].day;
    return drop_before_day(h, newest - h->retention + 1, out_days);
}

static int commit(tide_history *h, bool lazy);

int tide_history_commit(tide_history *h)
{
    return commit(h, false);
}

int tide_history_checkpoint(tide_history *h)
{
    return commit(h, true);
}

static int commit(tide_history *h, bool lazy)
{
    if (!h->writable)
        return tide_error_set(TIDE_EINVAL, "history opened read-only");
    TIDE_CHECK(spill(h));
    if (h->npend) {
        TIDE_CHECK(grow((void **)&h->runs, &h->capruns, h->nruns + h->npend, sizeof(run_ent)));
        memcpy(h->runs + h->nruns, h->pend, h->npend * sizeof(run_ent));
        h->nruns += h->npend;
        h->npend = 0;
        h->dirty = true;
    }
    if (h->dirty)
        TIDE_CHECK(manifest_write(h));
    TIDE_CHECK(compact(h, lazy));
    return apply_retention(h, NULL);
}

int tide_history_prune(tide_history *h, int64_t before_ms, size_t *out_days)
{
    if (out_days)
        *out_days = 0;
    if (!h->writable)
        return tide_error_set(TIDE_EINVAL, "history opened read-only");
    TIDE_CHECK(tide_history_commit(h));
    if (before_ms == 0)
        return apply_retention(h, out_days);
    /* days that end at or before before_ms */
    int64_t d = before_ms / (HIST_DAY_US / 1000);
    return drop_before_day(h, (int32_t)d, out_days);
}

int tide_history_stats_get(tide_history *h, tide_history_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->retention_days = h->retention;
    out->raw_bytes = h->raw_bytes;
    if (h->nruns > 1)
        qsort(h->runs, h->nruns, sizeof(run_ent), cmp_run);
    for (size_t i = 0; i < h->nruns; i++) {
        const run_ent *r = &h->runs[i];
        if (i == 0 || r->day != h->runs[i - 1].day)
            out->partitions++;
        out->runs++;
        out->records += r->nrec;
        out->bytes += r->bytes;
        out->events += r->events;
    }
    if (h->nruns) {
        out->first_day_ms = (int64_t)h->runs[0].day * 86400000LL;
        out->last_day_ms = (int64_t)h->runs[h->nruns - 1].day * 86400000LL;
    }
    char p[4096];
    snprintf(p, sizeof(p), "%s/MANIFEST", h->dir);
    struct stat st;
    if (stat(p, &st) == 0)
        out->bytes += (uint64_t)st.st_size;
    return 0;
}

/* ---- access for the hunt and tools ---- */

int32_t tide__hist_run_day(const tide_history *h, size_t i)
{
    return h->runs[i].day;
}

size_t tide__hist_nruns(const tide_history *h)
{
    return h->nruns;
}

int tide__hist_run_open(tide_history *h, size_t i, hist_file **out)
{
    char p[4096];
    run_path(h, &h->runs[i], p, sizeof(p));
    return tide__hist_file_open(out, p);
}

int tide_history_each(tide_history *h, int (*cb)(const tide_history_rec *rec, void *payload),
        void *payload)
{
    if (h->nruns > 1)
        qsort(h->runs, h->nruns, sizeof(run_ent), cmp_run);
    char text[HIST_MAX_KEY + 64];
    for (size_t i = 0; i < h->nruns; i++) {
        hist_file *f;
        TIDE_CHECK(tide__hist_run_open(h, i, &f));
        hist_cursor c;
        tide__hist_cursor_init(&c, f);
        int r;
        while ((r = tide__hist_cursor_next(&c)) == 1) {
            tide_history_rec rec;
            if (tide__hist_key_text(c.rec.key, c.rec.key_len, text, &rec.kind) < 0)
                continue;
            rec.value = text;
            rec.host = tide__hist_file_host(f, c.rec.host);
            rec.first_seen_us = c.rec.first;
            rec.last_seen_us = c.rec.last;
            rec.count = c.rec.count;
            rec.file = tide__hist_file_name(f, c.rec.file);
            rec.line = c.rec.line;
            if ((r = cb(&rec, payload)) != 0)
                break;
        }
        tide__hist_cursor_free(&c);
        tide__hist_file_free(f);
        if (r != 0)
            return r;
    }
    return 0;
}
