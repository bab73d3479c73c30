/*
 * hist_file.c - history run files (layout in hist_int.h): the writer (sorted records into
 * zstd-compressed blocks, dictionaries of hosts and files, a block index; written to a
 * temporary file, fsync'ed and renamed so a crash never leaves a half file under the real
 * name; util/outfile.h; records given one by one, or in chunks that the caller's thread and the
 * writer's encode and compress side by side: tide__hist_writer_parts) and the reader (mmap, every
 * checksum verified before use, a cursor that seeks by the block index). zstd and xxhash do the
 * compression and checksums; the record format is hand-written because it is a few varints.
 */
#ifdef __linux__
#define _GNU_SOURCE /* sync_file_range */
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>
#include <zstd.h>

#include "history/hist_int.h"
#include "util/outfile.h"

#define HIST_MAX_DICT (256u << 20)

int64_t tide__hist_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static bool get_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && *pos < len; shift += 7) {
        uint8_t c = p[(*pos)++];
        v |= (uint64_t)(c & 0x7F) << shift;
        if (!(c & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* ---- writer ---- */

#define HIST_WQ 16 /* blocks queued for the compressing threads at most */
#define HIST_CT 2  /* compressing threads at most (fewer on fewer cores) */
_Static_assert(HIST_CT <= HIST_PART_WORKERS, "a worker's id is below HIST_PART_WORKERS");
#define HIST_HELP 4 /* blocks waiting for a compressing thread before the caller compresses one */

/* A block handed to the compressing threads: its records and its first key, then its
 * compressed bytes and their checksum (done: ready to be written). */
typedef struct {
    tide_buf raw, key, comp;
    uint32_t nrec;
    uint64_t sum;
    bool done;
} hist_wblock;

struct hist_writer {
    char *path;
    tide__outfile out; /* the run file being written (util/outfile.h) */
    FILE *fp;          /* out.f */
    int32_t day;
    tide_buf block; /* uncompressed records of the current block */
    uint32_t block_nrec;
    tide_buf first_key;
    tide_buf index; /* hist_block_ix + key, per block */
    uint32_t nblocks;
    tide_buf cbuf;
    ZSTD_CCtx *cctx;
    tide_strmap hosts, files;
    tide_buf names_h, names_f;
    uint32_t nhosts, nfiles;
    bool fixed; /* names given up front (tide__hist_writer_names): ids, no interning */
    uint64_t off, nrec, events;
    uint64_t hinted; /* bytes handed to early writeback (below) */
    char *iobuf;     /* large stdio buffer: few write(2) calls */
    /* The compressing threads (see "compression beside the encoding" below): from the second
     * block on, blocks go through q to threads of the writer's own, which compress them side by
     * side and write them in order; fp, off, index, nblocks and hinted belong to the one thread
     * that holds `writing` until the threads are joined. Blocks are numbered: put (queued), claim
     * (taken for compression), out (written); block n is in slot n % HIST_WQ. */
    struct {
        pthread_mutex_t mu;
        pthread_cond_t work, room;
        pthread_t tid[HIST_CT];
        ZSTD_CCtx *cctx[HIST_CT];
        int nthreads;
        bool started, tried, quit, abandon, writing;
        hist_wblock q[HIST_WQ];
        uint64_t put, claim, out;
        int rc; /* the threads' first error, with its message */
        char err[512];
    } ct;
    /* The syncing thread (see "early writeback" below), started with the compressing ones. */
    struct {
        pthread_mutex_t mu;
        pthread_cond_t cv;
        pthread_t tid;
        bool started, quit;
        int fd;
        uint64_t want, done; /* bytes written (flushed to the kernel) / made durable */
        int err;             /* errno of the first fdatasync that failed */
    } sy;
};

/* Early writeback. A long import or match must never hold gigabytes of dirty pages that the
 * kernel then flushes all at once (a stall of tens of seconds for every writer of the disk), and
 * the fsync of close should find little left. With a syncing thread (a file of more than one
 * block, see ct_start) every HIST_WB bytes written are made durable by fdatasync on that thread
 * while the next ones are compressed: on a VM whose disk is a file of its host, the guest's
 * writes land in the host's cache and only a flush writes them, at about a millisecond per MiB
 * whenever it comes (sync_file_range, a hint, started nothing that the final fsync did not wait
 * for again: 20 ms of a 0.3 s match went to the fsync of its 18 MB run). Without that thread,
 * the kernel is asked to start writing (sync_file_range SYNC_FILE_RANGE_WRITE, a hint that does
 * not wait), as the store's bulk load does (store_writeback.c). The pages stay cached:
 * compaction reads the runs back right after the commit. An fdatasync error is kept and fails
 * the close (the kernel reports a write error once per open file: the final fsync would not see
 * it again). */
#define HIST_WB (4u << 20)

static void *sy_main(void *arg)
{
    hist_writer *w = arg;
    pthread_mutex_lock(&w->sy.mu);
    for (;;) {
        while (w->sy.want == w->sy.done && !w->sy.quit)
            pthread_cond_wait(&w->sy.cv, &w->sy.mu);
        if (w->sy.want == w->sy.done)
            break; /* quit, nothing left: the close's fsync does the rest */
        uint64_t want = w->sy.want;
        pthread_mutex_unlock(&w->sy.mu);
        int err = fdatasync(w->sy.fd) != 0 ? errno : 0;
        pthread_mutex_lock(&w->sy.mu);
        if (err && w->sy.err == 0)
            w->sy.err = err;
        w->sy.done = want;
        if (w->sy.quit)
            break;
    }
    pthread_mutex_unlock(&w->sy.mu);
    return NULL;
}

static void sy_start(hist_writer *w)
{
    if (pthread_mutex_init(&w->sy.mu, NULL) != 0)
        return;
    if (pthread_cond_init(&w->sy.cv, NULL) != 0) {
        pthread_mutex_destroy(&w->sy.mu);
        return;
    }
    w->sy.fd = fileno(w->fp);
    if (pthread_create(&w->sy.tid, NULL, sy_main, w) != 0) { /* signals blocked by the caller */
        pthread_cond_destroy(&w->sy.cv);
        pthread_mutex_destroy(&w->sy.mu);
        return;
    }
    w->sy.started = true;
}

/* Join the syncing thread; an fdatasync error, if any. */
static int sy_stop(hist_writer *w)
{
    if (!w->sy.started)
        return 0;
    pthread_mutex_lock(&w->sy.mu);
    w->sy.quit = true;
    pthread_cond_signal(&w->sy.cv);
    pthread_mutex_unlock(&w->sy.mu);
    pthread_join(w->sy.tid, NULL);
    pthread_cond_destroy(&w->sy.cv);
    pthread_mutex_destroy(&w->sy.mu);
    w->sy.started = false;
    if (w->sy.err)
        return tide_error_set(TIDE_EIO, "%s: fdatasync: %s", w->path, strerror(w->sy.err));
    return 0;
}

static void writeback_hint(hist_writer *w)
{
    if (w->off - w->hinted < HIST_WB || fflush(w->fp) != 0)
        return;
    if (w->sy.started) {
        pthread_mutex_lock(&w->sy.mu);
        w->sy.want = w->off;
        pthread_cond_signal(&w->sy.cv);
        pthread_mutex_unlock(&w->sy.mu);
    } else {
#if defined(__linux__) && defined(SYNC_FILE_RANGE_WRITE)
        (void)sync_file_range(fileno(w->fp), (off64_t)w->hinted, (off64_t)(w->off - w->hinted),
                SYNC_FILE_RANGE_WRITE); /* a hint: errors are harmless */
#endif
    }
    w->hinted = w->off;
}

#define HIST_IOBUF (1u << 20)

static int ct_stop(hist_writer *w, bool abandon);

int tide__hist_writer_new(hist_writer **out, const char *path, int32_t day)
{
    *out = NULL;
    hist_writer *w = tide__calloc(1, sizeof(*w));
    TIDE_CHECK_ALLOC(w);
    w->hosts = (tide_strmap)TIDE_STRMAP_INIT;
    w->files = (tide_strmap)TIDE_STRMAP_INIT;
    w->day = day;
    w->path = tide__strdup(path);
    w->cctx = ZSTD_createCCtx();
    if (w->path == NULL || w->cctx == NULL) {
        tide__hist_writer_abort(w);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    /* a temporary file created exclusively (0600, never through a link) beside the run, under
     * the history's lock; the MANIFEST write that names the run fsyncs the folder */
    int orc = tide__outfile_open(
            &w->out, path, TIDE__OUT_PRIVATE | TIDE__OUT_LOCKED | TIDE__OUT_NOSYNCDIR);
    if (orc < 0) {
        tide__hist_writer_abort(w);
        return orc;
    }
    w->fp = w->out.f;
    if ((w->iobuf = tide__malloc(HIST_IOBUF)) != NULL)
        setvbuf(w->fp, w->iobuf, _IOFBF, HIST_IOBUF);
    hist_header h;
    memset(&h, 0, sizeof(h));
    if (fwrite(&h, sizeof(h), 1, w->fp) != 1) {
        int rc = tide_error_set(TIDE_EIO, "%s: write failed", w->path);
        tide__hist_writer_abort(w);
        return rc;
    }
    w->off = sizeof(h);
    *out = w;
    return 0;
}

void tide__hist_writer_abort(hist_writer *w)
{
    if (w == NULL)
        return;
    (void)ct_stop(w, true);
    if (w->fp)
        tide__outfile_abort(&w->out);
    w->fp = NULL;
    tide__free(w->path);
    tide__buf_free(&w->block);
    tide__buf_free(&w->first_key);
    tide__buf_free(&w->index);
    tide__buf_free(&w->cbuf);
    tide__buf_free(&w->names_h);
    tide__buf_free(&w->names_f);
    tide__strmap_free(&w->hosts);
    tide__strmap_free(&w->files);
    ZSTD_freeCCtx(w->cctx);
    tide__free(w->iobuf); /* after fclose */
    tide__free(w);
}

/* zstd-compress src into out (with cctx) */
static int compress_to(ZSTD_CCtx *cctx, tide_buf *out, const void *src, size_t n, int level)
{
    size_t bound = ZSTD_compressBound(n);
    out->len = 0;
    TIDE_CHECK(tide__buf_grow(out, bound + 1));
    size_t c = ZSTD_compressCCtx(cctx, out->ptr, bound, src, n, level);
    if (ZSTD_isError(c))
        return tide_error_set(TIDE_ERROR, "zstd: %s", ZSTD_getErrorName(c));
    out->len = c;
    return 0;
}

/* zstd-compress src into w->cbuf */
static int compress(hist_writer *w, const void *src, size_t n, int level)
{
    return compress_to(w->cctx, &w->cbuf, src, n, level);
}

static int write_bytes(hist_writer *w, const void *p, size_t n)
{
    if (n && fwrite(p, 1, n, w->fp) != n)
        return tide_error_set(TIDE_EIO, "%s: write failed: %s", w->path, strerror(errno));
    w->off += n;
    return 0;
}

/* Write one compressed block (comp, its checksum sum) and list it in the index. */
static int emit_block(hist_writer *w, const void *comp, size_t clen, uint64_t sum, size_t usize,
        const void *key, size_t klen, uint32_t nrec)
{
    hist_block_ix bi;
    memset(&bi, 0, sizeof(bi));
    bi.off = w->off;
    bi.csize = (uint32_t)clen;
    bi.usize = (uint32_t)usize;
    bi.nrec = nrec;
    bi.key_len = (uint16_t)klen;
    bi.sum = sum;
    TIDE_CHECK(write_bytes(w, comp, clen));
    writeback_hint(w);
    TIDE_CHECK(tide__buf_put(&w->index, &bi, sizeof(bi)));
    TIDE_CHECK(tide__buf_put(&w->index, key, klen));
    w->nblocks++;
    return 0;
}

/* Compress and write one block (the caller's work when there are no compressing threads). */
static int write_block(hist_writer *w, const tide_buf *raw, const tide_buf *key, uint32_t nrec)
{
    TIDE_CHECK(compress(w, raw->ptr, raw->len, HIST_ZLEVEL));
    return emit_block(w, w->cbuf.ptr, w->cbuf.len, XXH3_64bits(w->cbuf.ptr, w->cbuf.len), raw->len,
            key->ptr, key->len, nrec);
}

/* ---- compression beside the encoding ----
 *
 * zstd takes about half of a spill's time (the rest: sorting and encoding the records). A
 * writer of more than one block hands its blocks to threads of its own (HIST_CT, at most one
 * per core), which compress them side by side while the caller encodes the next ones; the one
 * that finishes the oldest block not yet written writes it and every later one that is ready,
 * in order. The commit's final spill and the compaction run while the reading thread waits: the
 * encoding and two compressions keep both cores busy (one compressing thread kept up with the
 * encoding only half of the time). The file is the same byte for byte (a block's frame does
 * not depend on the context that compressed it). Errors of the threads are returned by the
 * next flush or by the close; without threads (pthread_create failed) the blocks are written
 * by the caller. */

/* Write the blocks ready at the head of the queue, in order, unless another thread is (called
 * and left with the lock held; the lock is dropped while writing). */
static void ct_write_ready(hist_writer *w)
{
    while (!w->ct.writing && w->ct.out < w->ct.put && w->ct.q[w->ct.out % HIST_WQ].done) {
        hist_wblock *b = &w->ct.q[w->ct.out % HIST_WQ];
        bool skip = w->ct.rc != 0 || w->ct.abandon;
        w->ct.writing = true;
        pthread_mutex_unlock(&w->ct.mu);
        int rc = skip ? 0
                      : emit_block(w, b->comp.ptr, b->comp.len, b->sum, b->raw.len, b->key.ptr,
                                b->key.len, b->nrec);
        pthread_mutex_lock(&w->ct.mu);
        w->ct.writing = false;
        if (rc < 0 && w->ct.rc == 0) {
            snprintf(w->ct.err, sizeof(w->ct.err), "%s", tide_error_last());
            w->ct.rc = rc;
        }
        b->done = false;
        b->raw.len = 0;
        w->ct.out++;
        if (w->ct.put - w->ct.out <= HIST_WQ / 2)
            pthread_cond_signal(&w->ct.room);
    }
}

typedef struct {
    hist_writer *w;
    int i; /* the thread's number: its compression context */
} ct_arg;

static void *ct_main(void *arg)
{
    hist_writer *w = ((ct_arg *)arg)->w;
    ZSTD_CCtx *cctx = w->ct.cctx[((ct_arg *)arg)->i];
    tide__free(arg);
    pthread_mutex_lock(&w->ct.mu);
    for (;;) {
        if (w->ct.claim == w->ct.put) {
            if (w->ct.quit)
                break;
            pthread_cond_wait(&w->ct.work, &w->ct.mu);
            continue;
        }
        hist_wblock *b = &w->ct.q[w->ct.claim++ % HIST_WQ];
        bool skip = w->ct.rc != 0 || w->ct.abandon;
        pthread_mutex_unlock(&w->ct.mu);
        int rc = 0;
        if (!skip) {
            rc = compress_to(cctx, &b->comp, b->raw.ptr, b->raw.len, HIST_ZLEVEL);
            if (rc == 0)
                b->sum = XXH3_64bits(b->comp.ptr, b->comp.len);
        }
        pthread_mutex_lock(&w->ct.mu);
        if (rc < 0 && w->ct.rc == 0) {
            snprintf(w->ct.err, sizeof(w->ct.err), "%s", tide_error_last());
            w->ct.rc = rc;
        }
        b->done = true;
        ct_write_ready(w);
    }
    pthread_mutex_unlock(&w->ct.mu);
    return NULL;
}

static int ct_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    int t = tide__hist_threads();
    return n < 1 ? 1 : n > t ? t : (int)n;
}

int tide__hist_threads(void)
{
    static atomic_int cached; /* 0: not read yet */
    int t = atomic_load(&cached);
    if (t == 0) {
        /* tests: TIDE_HISTORY_THREADS=1 writes with one compressing thread, sorts on one, and
         * faults pages in without the pager, the reference the parallel paths are held to */
        const char *e = getenv("TIDE_HISTORY_THREADS");
        t = e && strcmp(e, "1") == 0 ? 1 : HIST_CT;
        atomic_store(&cached, t);
    }
    return t;
}

static void ct_start(hist_writer *w)
{
    w->ct.tried = true;
    if (pthread_mutex_init(&w->ct.mu, NULL) != 0)
        return;
    if (pthread_cond_init(&w->ct.work, NULL) != 0) {
        pthread_mutex_destroy(&w->ct.mu);
        return;
    }
    if (pthread_cond_init(&w->ct.room, NULL) != 0) {
        pthread_cond_destroy(&w->ct.work);
        pthread_mutex_destroy(&w->ct.mu);
        return;
    }
    sigset_t all, old; /* signals are for the caller's threads */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int want = ct_cores();
    for (int i = 0; i < want; i++) {
        ct_arg *a = tide__malloc(sizeof(*a));
        if (a == NULL || (w->ct.cctx[i] = ZSTD_createCCtx()) == NULL) {
            tide__free(a);
            break;
        }
        *a = (ct_arg){ w, i };
        if (pthread_create(&w->ct.tid[i], NULL, ct_main, a) != 0) {
            tide__free(a);
            ZSTD_freeCCtx(w->ct.cctx[i]);
            w->ct.cctx[i] = NULL;
            break;
        }
        w->ct.nthreads++;
    }
    if (w->ct.nthreads > 0)
        sy_start(w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (w->ct.nthreads == 0) {
        pthread_cond_destroy(&w->ct.room);
        pthread_cond_destroy(&w->ct.work);
        pthread_mutex_destroy(&w->ct.mu);
        return;
    }
    w->ct.started = true;
}

/* Let the threads write what is queued (or drop it: abandon), join them; their error, if any. */
static int ct_stop(hist_writer *w, bool abandon)
{
    int rc = 0;
    if (w->ct.started) {
        pthread_mutex_lock(&w->ct.mu);
        w->ct.quit = true;
        w->ct.abandon = abandon;
        pthread_cond_broadcast(&w->ct.work);
        pthread_mutex_unlock(&w->ct.mu);
        for (int i = 0; i < w->ct.nthreads; i++) {
            pthread_join(w->ct.tid[i], NULL);
            ZSTD_freeCCtx(w->ct.cctx[i]);
            w->ct.cctx[i] = NULL;
        }
        /* every block was compressed, and the last one done wrote what was ready */
        w->ct.nthreads = 0;
        pthread_cond_destroy(&w->ct.room);
        pthread_cond_destroy(&w->ct.work);
        pthread_mutex_destroy(&w->ct.mu);
        w->ct.started = false;
        if (w->ct.rc)
            rc = tide_error_set(w->ct.rc, "%s", w->ct.err);
    }
    int src = sy_stop(w); /* after the compressing threads: none asks any more */
    if (rc == 0 && !abandon)
        rc = src;
    for (size_t i = 0; i < HIST_WQ; i++) {
        tide__buf_free(&w->ct.q[i].raw);
        tide__buf_free(&w->ct.q[i].key);
        tide__buf_free(&w->ct.q[i].comp);
    }
    return rc;
}

static int flush_block(hist_writer *w)
{
    if (w->block_nrec == 0)
        return 0;
    if (!w->ct.tried && w->nblocks > 0) /* a file of more than one block */
        ct_start(w);
    if (!w->ct.started) {
        TIDE_CHECK(write_block(w, &w->block, &w->first_key, w->block_nrec));
    } else {
        pthread_mutex_lock(&w->ct.mu);
        /* a full queue is waited on until half of it is written (the threads signal then): a
         * wake-up per block cost a context switch each */
        if (w->ct.put - w->ct.out == HIST_WQ)
            while (w->ct.put - w->ct.out > HIST_WQ / 2)
                pthread_cond_wait(&w->ct.room, &w->ct.mu);
        int rc = w->ct.rc;
        if (rc == 0) {
            hist_wblock *b = &w->ct.q[w->ct.put % HIST_WQ];
            tide_buf t = b->raw; /* the slot's emptied buffers become the next block's */
            b->raw = w->block;
            w->block = t;
            t = b->key;
            b->key = w->first_key;
            w->first_key = t;
            b->nrec = w->block_nrec;
            b->done = false;
            w->ct.put++;
            pthread_cond_signal(&w->ct.work);
        }
        pthread_mutex_unlock(&w->ct.mu);
        if (rc)
            return tide_error_set(rc, "%s", w->ct.err);
    }
    w->block.len = 0;
    w->block_nrec = 0;
    return 0;
}

static int intern(tide_strmap *m, tide_buf *names, uint32_t *count, const char *s, uint32_t *out)
{
    size_t n = strlen(s);
    int added = tide__strmap_put(m, s, n, *count, out);
    TIDE_CHECK(added);
    if (added) {
        TIDE_CHECK(tide__buf_put(names, s, n + 1));
        (*count)++;
    }
    return 0;
}

static inline size_t varint_to(uint8_t *t, uint64_t v)
{
    if (v < 0x80) { /* most fields: one byte */
        t[0] = (uint8_t)v;
        return 1;
    }
    size_t n = 0;
    while (v >= 0x80) {
        t[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    t[n++] = (uint8_t)v;
    return n;
}

#define REC_ROOM 70 /* a record's bytes besides its key at most: 7 varints of 10 bytes */

/* One record (hist_int.h) encoded at p; the end of it. */
static inline uint8_t *rec_put(uint8_t *p, int32_t day, const uint8_t *key, size_t key_len,
        uint32_t host, int64_t first, int64_t last, uint64_t count, uint32_t file, uint64_t line)
{
    int64_t day0 = (int64_t)day * HIST_DAY_US;
    uint64_t f = first >= day0 ? (uint64_t)(first - day0) : 0;
    uint64_t span = last >= first ? (uint64_t)(last - first) : 0;
    p += varint_to(p, key_len);
    memcpy(p, key, key_len);
    p += key_len;
    p += varint_to(p, host);
    p += varint_to(p, f);
    p += varint_to(p, span);
    p += varint_to(p, count);
    p += varint_to(p, file);
    p += varint_to(p, line);
    return p;
}

int tide__hist_writer_names(hist_writer *w, const char *const *hosts, uint32_t nhosts,
        const char *const *files, uint32_t nfiles)
{
    if (w->nrec || w->nhosts || w->nfiles)
        return tide_error_set(TIDE_EINVAL, "history writer: names after records");
    for (uint32_t i = 0; i < nhosts; i++)
        TIDE_CHECK(tide__buf_put(&w->names_h, hosts[i], strlen(hosts[i]) + 1));
    for (uint32_t i = 0; i < nfiles; i++)
        TIDE_CHECK(tide__buf_put(&w->names_f, files[i], strlen(files[i]) + 1));
    w->nhosts = nhosts;
    w->nfiles = nfiles;
    w->fixed = true;
    return 0;
}

int tide__hist_writer_add_ids(hist_writer *w, const uint8_t *key, size_t key_len, uint32_t host,
        int64_t first, int64_t last, uint64_t count, uint32_t file, uint64_t line)
{
    if (key_len == 0 || key_len > HIST_MAX_KEY)
        return tide_error_set(TIDE_EINVAL, "history key of %zu bytes", key_len);
    if (host >= w->nhosts || file >= w->nfiles)
        return tide_error_set(TIDE_EINVAL, "history writer: name id out of range");
    if (w->block_nrec == 0) {
        w->first_key.len = 0;
        TIDE_CHECK(tide__buf_put(&w->first_key, key, key_len));
    }
    size_t room = key_len + REC_ROOM;
    if (w->block.len + room + 1 > w->block.cap)
        TIDE_CHECK(tide__buf_grow(&w->block, room));
    uint8_t *p = (uint8_t *)w->block.ptr + w->block.len;
    p = rec_put(p, w->day, key, key_len, host, first, last, count, file, line);
    w->block.len = (size_t)(p - (uint8_t *)w->block.ptr);
    w->block_nrec++;
    w->nrec++;
    w->events += count;
    if (w->block.len >= HIST_BLOCK)
        TIDE_CHECK(flush_block(w));
    return 0;
}

int tide__hist_writer_add(hist_writer *w, const uint8_t *key, size_t key_len, const char *host,
        int64_t first, int64_t last, uint64_t count, const char *file, uint64_t line)
{
    if (w->fixed)
        return tide_error_set(TIDE_EINVAL, "history writer: names are fixed");
    uint32_t hi, fi;
    TIDE_CHECK(intern(&w->hosts, &w->names_h, &w->nhosts, host, &hi));
    TIDE_CHECK(intern(&w->files, &w->names_f, &w->nfiles, file ? file : "", &fi));
    return tide__hist_writer_add_ids(w, key, key_len, hi, first, last, count, fi, line);
}

/* ---- encoding and compression on every core ----
 *
 * The commit's final spill ran its encoding on one thread and two more compressed its blocks:
 * three threads on two cores, a hand-off and a wake-up every few blocks, and the encoding
 * thread (gathering the records in sorted order from all over the aggregator) the one the
 * others waited for; the cores were ~70 % busy while the reading thread waited for it. With
 * tide__hist_writer_fill the records are cut into chunks of about HIST_FILL_BYTES; every thread
 * (the caller and one more per core) takes the next chunk, encodes it through the caller's fill
 * into blocks of HIST_BLOCK bytes (plus one record, as tide__hist_writer_add_ids does; a chunk
 * ends its last block), compresses them, and the one that completes the oldest chunk not yet
 * written writes it and every later one that is ready, in order. At most FILL_WQ chunks are in
 * flight. The chunks depend on the record count and the caller's size estimate only, never on
 * the threads, so one thread (TIDE_HISTORY_THREADS=1) writes the same file. */

#define FILL_WQ 8

/* A block of a chunk: its records at raw_off, its first key at key_off, its frame at comp_off. */
typedef struct {
    size_t raw_off, raw_len, key_off, key_len, comp_off, comp_len;
    uint32_t nrec;
    uint64_t sum;
} fill_block;

struct hist_chunk {
    int32_t day;
    uint32_t nhosts, nfiles;
    tide_buf raw, keys, comp;
    fill_block *b;
    size_t nb, capb;
    size_t start;   /* raw offset of the open block */
    uint32_t bnrec; /* records in the open block */
    uint64_t nrec, events;
    bool done;
};

static int chunk_close_block(hist_chunk *c)
{
    if (c->bnrec == 0)
        return 0;
    c->b[c->nb - 1].raw_len = c->raw.len - c->start;
    c->b[c->nb - 1].nrec = c->bnrec;
    c->bnrec = 0;
    return 0;
}

int tide__hist_chunk_add(hist_chunk *c, const uint8_t *key, size_t key_len, uint32_t host,
        int64_t first, int64_t last, uint64_t count, uint32_t file, uint64_t line)
{
    if (key_len == 0 || key_len > HIST_MAX_KEY)
        return tide_error_set(TIDE_EINVAL, "history key of %zu bytes", key_len);
    if (host >= c->nhosts || file >= c->nfiles)
        return tide_error_set(TIDE_EINVAL, "history writer: name id out of range");
    if (c->bnrec == 0) { /* a new block: its first key */
        if (c->nb == c->capb) {
            size_t cap = c->capb ? 2 * c->capb : 32;
            fill_block *nb = tide__realloc(c->b, cap * sizeof(fill_block));
            TIDE_CHECK_ALLOC(nb);
            c->b = nb;
            c->capb = cap;
        }
        c->b[c->nb++] =
                (fill_block){ .raw_off = c->raw.len, .key_off = c->keys.len, .key_len = key_len };
        c->start = c->raw.len;
        TIDE_CHECK(tide__buf_put(&c->keys, key, key_len));
    }
    size_t room = key_len + REC_ROOM;
    if (c->raw.len + room + 1 > c->raw.cap)
        TIDE_CHECK(tide__buf_grow(&c->raw, room));
    uint8_t *p = (uint8_t *)c->raw.ptr + c->raw.len;
    p = rec_put(p, c->day, key, key_len, host, first, last, count, file, line);
    c->raw.len = (size_t)(p - (uint8_t *)c->raw.ptr);
    c->bnrec++;
    c->nrec++;
    c->events += count;
    if (c->raw.len - c->start >= HIST_BLOCK)
        TIDE_CHECK(chunk_close_block(c));
    return 0;
}

typedef struct {
    hist_writer *w;
    hist_part_fn part;
    void *ctx;
    uint64_t nchunks;
    pthread_mutex_t mu;
    pthread_cond_t room;
    uint64_t claim, out; /* chunks taken / written; chunk k in q[k % FILL_WQ] */
    bool writing;
    hist_chunk q[FILL_WQ];
    int rc; /* the first error, with its message */
    char err[512];
} fill_state;

/* Encode and compress chunk k into c (on worker: 0 the caller, 1... the helpers). */
static int chunk_make(fill_state *s, hist_chunk *c, uint64_t k, int worker, ZSTD_CCtx *cctx)
{
    c->raw.len = c->keys.len = c->comp.len = 0;
    c->nb = 0;
    c->bnrec = 0;
    c->nrec = c->events = 0;
    TIDE_CHECK(s->part(s->ctx, k, worker, c));
    TIDE_CHECK(chunk_close_block(c));
    for (size_t i = 0; i < c->nb; i++) {
        fill_block *b = &c->b[i];
        size_t bound = ZSTD_compressBound(b->raw_len);
        TIDE_CHECK(tide__buf_grow(&c->comp, bound + 1));
        uint8_t *dst = (uint8_t *)c->comp.ptr + c->comp.len;
        size_t z = ZSTD_compressCCtx(cctx, dst, bound, (const uint8_t *)c->raw.ptr + b->raw_off,
                b->raw_len, HIST_ZLEVEL);
        if (ZSTD_isError(z))
            return tide_error_set(TIDE_ERROR, "zstd: %s", ZSTD_getErrorName(z));
        b->comp_off = c->comp.len;
        b->comp_len = z;
        b->sum = XXH3_64bits(dst, z);
        c->comp.len += z;
    }
    return 0;
}

static int chunk_emit(hist_writer *w, const hist_chunk *c)
{
    for (size_t i = 0; i < c->nb; i++) {
        const fill_block *b = &c->b[i];
        TIDE_CHECK(emit_block(w, (const uint8_t *)c->comp.ptr + b->comp_off, b->comp_len, b->sum,
                b->raw_len, (const uint8_t *)c->keys.ptr + b->key_off, b->key_len, b->nrec));
    }
    w->nrec += c->nrec;
    w->events += c->events;
    return 0;
}

static void fill_fail(fill_state *s, int rc)
{
    if (rc < 0 && s->rc == 0) {
        snprintf(s->err, sizeof(s->err), "%s", tide_error_last());
        s->rc = rc;
        pthread_cond_broadcast(&s->room);
    }
}

/* Take chunks until none is left (called and left with the lock held). */
static void fill_work(fill_state *s, int worker, ZSTD_CCtx *cctx)
{
    while (s->rc == 0 && s->claim < s->nchunks) {
        if (s->claim - s->out >= FILL_WQ) {
            pthread_cond_wait(&s->room, &s->mu);
            continue;
        }
        uint64_t k = s->claim++;
        hist_chunk *c = &s->q[k % FILL_WQ];
        pthread_mutex_unlock(&s->mu);
        int rc = chunk_make(s, c, k, worker, cctx);
        pthread_mutex_lock(&s->mu);
        fill_fail(s, rc);
        c->done = true;
        /* the chunks ready at the head, in order, unless another thread writes them */
        while (s->rc == 0 && !s->writing && s->out < s->claim && s->q[s->out % FILL_WQ].done) {
            hist_chunk *h = &s->q[s->out % FILL_WQ];
            s->writing = true;
            pthread_mutex_unlock(&s->mu);
            rc = chunk_emit(s->w, h);
            pthread_mutex_lock(&s->mu);
            s->writing = false;
            fill_fail(s, rc);
            h->done = false;
            s->out++;
            pthread_cond_broadcast(&s->room);
        }
    }
}

typedef struct {
    fill_state *s;
    int worker;
    ZSTD_CCtx *cctx;
} fill_arg;

static void *fill_main(void *arg)
{
    fill_arg *a = arg;
    pthread_mutex_lock(&a->s->mu);
    fill_work(a->s, a->worker, a->cctx);
    pthread_mutex_unlock(&a->s->mu);
    return NULL;
}

int tide__hist_writer_parts(
        hist_writer *w, uint64_t nparts, hist_part_fn part, void *ctx, uint64_t *out_events)
{
    if (out_events)
        *out_events = 0;
    if (!w->fixed || w->nrec || w->block_nrec || w->ct.started)
        return tide_error_set(TIDE_EINVAL, "history writer: fill after records");
    if (nparts == 0)
        return 0;
    fill_state *s = tide__calloc(1, sizeof(*s));
    TIDE_CHECK_ALLOC(s);
    s->w = w;
    s->part = part;
    s->ctx = ctx;
    s->nchunks = nparts;
    for (size_t i = 0; i < FILL_WQ; i++)
        s->q[i] = (hist_chunk){ .day = w->day, .nhosts = w->nhosts, .nfiles = w->nfiles };
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        tide__free(s);
        return tide_error_set(TIDE_ERROR, "pthread_mutex_init failed");
    }
    if (pthread_cond_init(&s->room, NULL) != 0) {
        pthread_mutex_destroy(&s->mu);
        tide__free(s);
        return tide_error_set(TIDE_ERROR, "pthread_cond_init failed");
    }
    /* helpers: one per core besides the caller's, when there is more than one chunk */
    pthread_t tid[HIST_CT];
    fill_arg args[HIST_CT];
    int nt = 0, want = s->nchunks > 1 ? ct_cores() - 1 : 0;
    if (want > 0) {
        sigset_t all, old; /* signals are for the caller's threads */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        for (int i = 0; i < want; i++) {
            args[nt] = (fill_arg){ s, nt + 1, ZSTD_createCCtx() };
            if (args[nt].cctx == NULL)
                break;
            if (pthread_create(&tid[nt], NULL, fill_main, &args[nt]) != 0) {
                ZSTD_freeCCtx(args[nt].cctx);
                break;
            }
            nt++;
        }
        if (nt > 0)
            sy_start(w);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    pthread_mutex_lock(&s->mu);
    fill_work(s, 0, w->cctx);
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < nt; i++) {
        pthread_join(tid[i], NULL);
        ZSTD_freeCCtx(args[i].cctx);
    }
    /* every chunk was made, and the last one done wrote what was ready, unless one failed */
    int rc = s->rc ? tide_error_set(s->rc, "%s", s->err) : 0;
    if (rc == 0 && out_events)
        *out_events = w->events;
    for (size_t i = 0; i < FILL_WQ; i++) {
        tide__buf_free(&s->q[i].raw);
        tide__buf_free(&s->q[i].keys);
        tide__buf_free(&s->q[i].comp);
        tide__free(s->q[i].b);
    }
    pthread_cond_destroy(&s->room);
    pthread_mutex_destroy(&s->mu);
    tide__free(s);
    return rc;
}

/* tide__hist_writer_fill: chunk k is the records [k * per, (k + 1) * per) */
typedef struct {
    hist_fill_fn fill;
    void *ctx;
    size_t n, per;
} fill_range;

static int fill_range_part(void *ctx, uint64_t k, int worker, hist_chunk *c)
{
    (void)worker;
    const fill_range *f = ctx;
    size_t from = (size_t)k * f->per, to = from + f->per < f->n ? from + f->per : f->n;
    return f->fill(f->ctx, from, to, c);
}

int tide__hist_writer_fill(hist_writer *w, size_t n, size_t rec_bytes, hist_fill_fn fill, void *ctx,
        uint64_t *out_events)
{
    fill_range f = { fill, ctx, n, HIST_FILL_BYTES / (rec_bytes ? rec_bytes : 1) };
    if (f.per == 0)
        f.per = 1;
    return tide__hist_writer_parts(w, (n + f.per - 1) / f.per, fill_range_part, &f, out_events);
}

int tide__hist_writer_close(hist_writer *w, uint64_t *out_size, uint64_t *out_nrec)
{
    int rc = flush_block(w);
    int crc = ct_stop(w, rc < 0); /* every block written: off, index and nblocks are final */
    if (rc == 0)
        rc = crc;
    hist_header h;
    memset(&h, 0, sizeof(h));
    memcpy(h.magic, HIST_MAGIC, 8);
    h.version = HIST_VERSION;
    h.day = w->day;
    h.nrec = w->nrec;
    h.events = w->events;
    h.nblocks = w->nblocks;
    h.nhosts = w->nhosts;
    h.nfiles = w->nfiles;
    if (rc == 0)
        rc = tide__buf_put(&w->names_h, w->names_f.ptr ? w->names_f.ptr : "", w->names_f.len);
    if (rc == 0)
        rc = compress(w, w->names_h.ptr ? w->names_h.ptr : "", w->names_h.len, HIST_ZLEVEL);
    if (rc == 0) {
        h.dict_off = w->off;
        h.dict_len = w->cbuf.len;
        h.dict_sum = XXH3_64bits(w->cbuf.ptr, w->cbuf.len);
        rc = write_bytes(w, w->cbuf.ptr, w->cbuf.len);
    }
    if (rc == 0) {
        h.index_off = w->off;
        h.index_len = w->index.len;
        h.index_sum = XXH3_64bits(w->index.ptr ? w->index.ptr : "", w->index.len);
        rc = write_bytes(w, w->index.ptr, w->index.len);
    }
    h.file_size = w->off;
    h.sum = XXH3_64bits(&h, offsetof(hist_header, sum));
    if (rc == 0 && (fflush(w->fp) != 0 || fseek(w->fp, 0, SEEK_SET) != 0 ||
                           fwrite(&h, sizeof(h), 1, w->fp) != 1))
        rc = tide_error_set(TIDE_EIO, "%s: write failed: %s", w->path, strerror(errno));
    if (rc == 0) {
        /* flush, fsync, rename over the run's name; on failure the temporary file goes */
        w->fp = NULL;
        rc = tide__outfile_commit(&w->out);
    }
    if (rc == 0) {
        if (out_size)
            *out_size = h.file_size;
        if (out_nrec)
            *out_nrec = h.nrec;
    }
    tide__hist_writer_abort(w);
    return rc;
}

/* ---- reader ---- */

typedef struct {
    hist_block_ix bi;
    const uint8_t *key;
} block_ref;

struct hist_file {
    char *path;
    const uint8_t *base;
    size_t size;
    hist_header h;
    char *dict;         /* decompressed names */
    const char **names; /* hosts then files */
    block_ref *blocks;
    ZSTD_DCtx *dctx;
};

static int bad(const char *path, const char *what)
{
    return tide_error_set(TIDE_EFORMAT, "history file %s is corrupt: %s", path, what);
}

void tide__hist_file_free(hist_file *f)
{
    if (f == NULL)
        return;
    if (f->base)
        munmap((void *)f->base, f->size);
    tide__free(f->path);
    tide__free(f->dict);
    tide__free(f->names);
    tide__free(f->blocks);
    ZSTD_freeDCtx(f->dctx);
    tide__free(f);
}

static int load(hist_file *f)
{
    const char *p = f->path;
    if (f->size < sizeof(hist_header))
        return bad(p, "truncated (shorter than its header)");
    memcpy(&f->h, f->base, sizeof(hist_header));
    const hist_header *h = &f->h;
    if (memcmp(h->magic, HIST_MAGIC, 8) != 0)
        return bad(p, "not a tide history file (bad magic)");
    if (h->sum != XXH3_64bits(h, offsetof(hist_header, sum)))
        return bad(p, "header checksum mismatch");
    if (h->version != HIST_VERSION)
        return tide_error_set(
                TIDE_EFORMAT, "history file %s: version %u not supported", p, h->version);
    if (h->day < -1000000 || h->day > 1000000) /* about 2700 years around 1970 */
        return bad(p, "day out of range");
    if (h->file_size != f->size)
        return tide_error_set(TIDE_EFORMAT,
                "history file %s is corrupt: %zu bytes, header says %llu (truncated?)", p, f->size,
                (unsigned long long)h->file_size);
    if (h->dict_off > f->size || h->dict_len > f->size - h->dict_off || h->index_off > f->size ||
            h->index_len > f->size - h->index_off)
        return bad(p, "section out of bounds");
    if (XXH3_64bits(f->base + h->dict_off, h->dict_len) != h->dict_sum)
        return bad(p, "dictionary checksum mismatch");
    if (XXH3_64bits(f->base + h->index_off, h->index_len) != h->index_sum)
        return bad(p, "block index checksum mismatch");
    /* dictionary */
    unsigned long long dsize = ZSTD_getFrameContentSize(f->base + h->dict_off, h->dict_len);
    if (dsize == ZSTD_CONTENTSIZE_ERROR || dsize == ZSTD_CONTENTSIZE_UNKNOWN ||
            dsize > HIST_MAX_DICT)
        return bad(p, "dictionary frame");
    f->dict = tide__malloc((size_t)dsize + 1);
    TIDE_CHECK_ALLOC(f->dict);
    size_t got = ZSTD_decompressDCtx(
            f->dctx, f->dict, (size_t)dsize, f->base + h->dict_off, h->dict_len);
    if (ZSTD_isError(got) || got != dsize)
        return bad(p, "dictionary does not decompress");
    f->dict[dsize] = '\0';
    uint64_t nnames = (uint64_t)h->nhosts + h->nfiles;
    if (nnames > dsize + 1)
        return bad(p, "dictionary counts");
    f->names = tide__calloc((size_t)nnames + 1, sizeof(char *));
    TIDE_CHECK_ALLOC(f->names);
    size_t pos = 0;
    for (uint64_t i = 0; i < nnames; i++) {
        if (pos >= dsize)
            return bad(p, "dictionary too short");
        f->names[i] = f->dict + pos;
        const char *z = memchr(f->dict + pos, '\0', (size_t)dsize - pos);
        if (z == NULL)
            return bad(p, "dictionary name not terminated");
        pos = (size_t)(z - f->dict) + 1;
    }
    /* block index */
    if (h->nblocks > h->index_len / sizeof(hist_block_ix) || h->nrec < h->nblocks)
        return bad(p, "block count");
    f->blocks = tide__calloc(h->nblocks ? h->nblocks : 1, sizeof(block_ref));
    TIDE_CHECK_ALLOC(f->blocks);
    pos = 0;
    const uint8_t *ix = f->base + h->index_off;
    uint64_t nrec = 0;
    for (uint32_t i = 0; i < h->nblocks; i++) {
        if (h->index_len - pos < sizeof(hist_block_ix))
            return bad(p, "block index too short");
        block_ref *b = &f->blocks[i];
        memcpy(&b->bi, ix + pos, sizeof(hist_block_ix));
        pos += sizeof(hist_block_ix);
        if (b->bi.key_len == 0 || b->bi.key_len > HIST_MAX_KEY ||
                h->index_len - pos < b->bi.key_len)
            return bad(p, "block key");
        b->key = ix + pos;
        pos += b->bi.key_len;
        if (b->bi.off < sizeof(hist_header) || b->bi.off > h->dict_off ||
                b->bi.csize > h->dict_off - b->bi.off || b->bi.usize > HIST_MAX_BLOCK ||
                b->bi.nrec == 0)
            return bad(p, "block bounds");
        nrec += b->bi.nrec;
    }
    if (nrec != h->nrec)
        return bad(p, "record count");
    return 0;
}

int tide__hist_file_open(hist_file **out, const char *path)
{
    *out = NULL;
    hist_file *f = tide__calloc(1, sizeof(*f));
    TIDE_CHECK_ALLOC(f);
    f->path = tide__strdup(path);
    f->dctx = ZSTD_createDCtx();
    if (f->path == NULL || f->dctx == NULL) {
        tide__hist_file_free(f);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        int rc = tide_error_set(errno == ENOENT ? TIDE_ENOTFOUND : TIDE_EIO, "history file %s: %s",
                path, strerror(errno));
        tide__hist_file_free(f);
        return rc;
    }
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0)
        rc = tide_error_set(TIDE_EIO, "history file %s: %s", path, strerror(errno));
    else if ((uint64_t)st.st_size > HIST_MAX_FILE)
        rc = tide_error_set(TIDE_ETOOBIG, "history file %s: too big", path);
    else if (st.st_size == 0)
        rc = bad(path, "empty (truncated)");
    if (rc == 0) {
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED)
            rc = tide_error_set(TIDE_EIO, "history file %s: mmap: %s", path, strerror(errno));
        else {
            f->base = m;
            f->size = (size_t)st.st_size;
        }
    }
    close(fd);
    if (rc == 0)
        rc = load(f);
    if (rc < 0) {
        tide__hist_file_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

const hist_header *tide__hist_file_header(const hist_file *f)
{
    return &f->h;
}

const char *tide__hist_file_host(const hist_file *f, uint32_t i)
{
    return i < f->h.nhosts ? f->names[i] : NULL;
}

const char *tide__hist_file_name(const hist_file *f, uint32_t i)
{
    return i < f->h.nfiles ? f->names[f->h.nhosts + i] : NULL;
}

/* ---- cursor ---- */

void tide__hist_cursor_init(hist_cursor *c, hist_file *f)
{
    memset(c, 0, sizeof(*c));
    c->f = f;
    c->block = UINT32_MAX;
}

void *tide__hist_dctx_new(void)
{
    return ZSTD_createDCtx();
}

void tide__hist_dctx_free(void *dctx)
{
    ZSTD_freeDCtx(dctx);
}

void tide__hist_cursor_rewind(hist_cursor *c)
{
    c->block = UINT32_MAX;
    c->len = c->pos = 0;
    c->left = 0;
    c->loaded = false;
    c->dropped = 0;
}

uint32_t tide__hist_file_block_key(const hist_file *f, uint32_t i, const uint8_t **key)
{
    *key = f->blocks[i].key;
    return f->blocks[i].bi.key_len;
}

static void drop_behind(hist_file *f, uint64_t from, uint64_t to);

void tide__hist_cursor_drop_done(hist_cursor *c)
{
    if (c->block == UINT32_MAX)
        return;
    uint64_t to = c->f->blocks[c->block].bi.off;
    if (to > c->dropped + 4096) {
        drop_behind(c->f, c->dropped, to);
        c->dropped = to & ~(uint64_t)4095;
    }
}

uint64_t tide__hist_cursor_offset(const hist_cursor *c)
{
    return c->block == UINT32_MAX ? 0 : c->f->blocks[c->block].bi.off;
}

void tide__hist_cursor_free(hist_cursor *c)
{
    tide__free(c->buf);
    memset(c, 0, sizeof(*c));
}

static int load_block(hist_cursor *c, uint32_t i)
{
    hist_file *f = c->f;
    const block_ref *b = &f->blocks[i];
    if (XXH3_64bits(f->base + b->bi.off, b->bi.csize) != b->bi.sum)
        return tide_error_set(TIDE_EFORMAT,
                "history file %s is corrupt: block %u at offset %llu: checksum mismatch", f->path,
                i, (unsigned long long)b->bi.off);
    if (c->cap < b->bi.usize + 1) {
        uint8_t *nb = tide__realloc(c->buf, b->bi.usize + 1);
        TIDE_CHECK_ALLOC(nb);
        c->buf = nb;
        c->cap = b->bi.usize + 1;
    }
    size_t got = ZSTD_decompressDCtx(
            c->dctx ? c->dctx : f->dctx, c->buf, b->bi.usize, f->base + b->bi.off, b->bi.csize);
    if (ZSTD_isError(got) || got != b->bi.usize)
        return tide_error_set(TIDE_EFORMAT,
                "history file %s is corrupt: block %u at offset %llu does not decompress", f->path,
                i, (unsigned long long)b->bi.off);
    c->block = i;
    c->len = got;
    c->pos = 0;
    c->left = b->bi.nrec;
    c->loaded = false;
    return 0;
}

static int decode(hist_cursor *c)
{
    const uint8_t *p = c->buf;
    uint64_t klen, host, first, span, count, file, line;
    hist_rec *r = &c->rec;
    if (!get_varint(p, c->len, &c->pos, &klen) || klen == 0 || klen > HIST_MAX_KEY ||
            klen > c->len - c->pos)
        goto corrupt;
    r->key = p + c->pos;
    r->key_len = (uint32_t)klen;
    c->pos += klen;
    if (!get_varint(p, c->len, &c->pos, &host) || !get_varint(p, c->len, &c->pos, &first) ||
            !get_varint(p, c->len, &c->pos, &span) || !get_varint(p, c->len, &c->pos, &count) ||
            !get_varint(p, c->len, &c->pos, &file) || !get_varint(p, c->len, &c->pos, &line))
        goto corrupt;
    /* a record's times lie within its day (spans are kept a little looser) */
    if (host >= c->f->h.nhosts || file >= c->f->h.nfiles || first > (uint64_t)HIST_DAY_US * 2 ||
            span > (uint64_t)HIST_DAY_US * 4)
        goto corrupt;
    r->host = (uint32_t)host;
    r->first = (int64_t)c->f->h.day * HIST_DAY_US + (int64_t)first;
    r->last = r->first + (int64_t)span;
    r->count = count;
    r->file = (uint32_t)file;
    r->line = line;
    c->left--;
    return 1;
corrupt:
    return tide_error_set(TIDE_EFORMAT, "history file %s is corrupt: bad record in block %u",
            c->f->path, c->block);
}

/* The mapped pages of [from, to) of f that no later block shares are given back: a compaction
 * reads every run of a day once, and its pages (clean, file-backed: the page cache keeps them)
 * would otherwise count in the process's resident memory until the file is closed (the runs of a
 * day of the reference workload: 479 MB). Later reads fault them in again from the cache. */
#define HIST_DROP (1u << 20)

static void drop_behind(hist_file *f, uint64_t from, uint64_t to)
{
#if defined(__linux__) && defined(MADV_DONTNEED)
    const uintptr_t pg = 4096;
    uintptr_t a = ((uintptr_t)(f->base + from)) & ~(pg - 1);
    uintptr_t b = ((uintptr_t)(f->base + to)) & ~(pg - 1);
    if (b > a)
        (void)madvise((void *)a, b - a, MADV_DONTNEED);
#else
    (void)f;
    (void)from;
    (void)to;
#endif
}

int tide__hist_cursor_next(hist_cursor *c)
{
    if (c->loaded) {
        c->loaded = false;
        return 1;
    }
    while (c->block == UINT32_MAX || c->left == 0) {
        uint32_t nb = c->block == UINT32_MAX ? 0 : c->block + 1;
        if (nb >= c->f->h.nblocks)
            return 0;
        if (c->drop && c->f->blocks[nb].bi.off >= c->dropped + HIST_DROP) {
            drop_behind(c->f, c->dropped, c->f->blocks[nb].bi.off);
            c->dropped = c->f->blocks[nb].bi.off & ~(uint64_t)4095;
        }
        TIDE_CHECK(load_block(c, nb));
    }
    return decode(c);
}

/* Skip the record at the cursor if its key is below key, by its key alone: the other six
 * fields are stepped over, not decoded (the block's checksum was checked when it was loaded).
 * A hunt's seek passes half a block of records per indicator and run; decoding each one was
 * most of a hunt's time in the history. false: the record is at or past key, or malformed (the
 * full decode then reports it). */
static bool skim(hist_cursor *c, const uint8_t *key, size_t n)
{
    const uint8_t *p = c->buf;
    size_t pos = c->pos;
    uint64_t klen;
    if (!get_varint(p, c->len, &pos, &klen) || klen == 0 || klen > HIST_MAX_KEY ||
            klen > c->len - pos || tide__hist_keycmp(p + pos, klen, key, n) >= 0)
        return false;
    pos += klen;
    for (int field = 0; field < 6; field++) {
        do {
            if (pos >= c->len)
                return false;
        } while (p[pos++] & 0x80);
    }
    c->pos = pos;
    c->left--;
    return true;
}

int tide__hist_cursor_seek(hist_cursor *c, const uint8_t *key, size_t n)
{
    hist_file *f = c->f;
    /* last block whose first key < key (a key may continue from the block before) */
    size_t lo = 0, hi = f->h.nblocks;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (tide__hist_keycmp(f->blocks[mid].key, f->blocks[mid].bi.key_len, key, n) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint32_t b = lo == 0 ? 0 : (uint32_t)(lo - 1);
    if (f->h.nblocks == 0)
        return 0;
    /* already inside this block, before the key: continue from here */
    bool reuse = c->block == b && !c->loaded && c->left > 0;
    if (c->loaded && c->block == b && tide__hist_keycmp(c->rec.key, c->rec.key_len, key, n) >= 0)
        return 0; /* the pending record is already at or past key */
    if (!reuse && !(c->loaded && c->block == b))
        TIDE_CHECK(load_block(c, b));
    c->loaded = false;
    for (;;) {
        while (c->block != UINT32_MAX && c->left > 0 && skim(c, key, n))
            ;
        int r = tide__hist_cursor_next(c);
        if (r <= 0)
            return r;
        if (tide__hist_keycmp(c->rec.key, c->rec.key_len, key, n) >= 0) {
            c->loaded = true;
            return 0;
        }
    }
}
