/*
 * history.c - the observation history of a store (history.h): the in-memory aggregator
 * (distinct day x observable x host, hashed), spilled as sorted run files; the MANIFEST that
 * lists the committed runs and is replaced atomically (temp file, fsync, rename, fsync of the
 * folder), so a crash at any point leaves the last committed history; compaction (k-way merge
 * of the runs of one day), retention and pruning; stats and a full scan.
 *
 * Writers. Any number of processes may write at once: each aggregates in its own memory and
 * spills into its own files (w-TOKEN.N.hst, TOKEN = pid and a random part), registered by a
 * lock file it holds for its life (w-TOKEN.lock, flock). The commit lock (flock on LOCK) is
 * held only to register, to sweep what dead writers left, and to commit: re-read the manifest,
 * rename the writer's runs into place under fresh sequence numbers, write the manifest, compact,
 * apply the retention. A writer that finds it held waits (it is told through on_wait) up to a
 * bound, then fails. Readers only read the manifest and the immutable runs it names.
 *
 * Staging. What is added goes into the one aggregator above its mark; tide_history_keep moves
 * the mark up, tide_history_discard undoes what came after it (an input that ended in a read or
 * decompression error: the entries above the mark dropped, those below it counted again restored
 * from the undo log), commit keeps it. A spill writes what came after the mark apart, as staged
 * runs, which a discard removes.
 *
 * Event times are bounded by the wall clock: an event later than now + max_future (1 day by
 * default) or before 1970 is not recorded (TIDE_EFORMAT with the reason), so no event can move
 * the retention window, which counts back from the newest day that is not in the future.
 */
#ifdef __linux__
#define _GNU_SOURCE /* mremap */
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "history/hist_int.h"
#include "util/outfile.h"

#define DEFAULT_SPILL_MB 256
#define RING_N           16  /* observations in flight between slot prefetch and count */
#define RING_KEY         128 /* longer keys are counted at once */
#define MAX_RUNS         100000
#define REC_JOBS         8            /* jobs queued for the recorder thread at most */
#define REC_CHUNK        (256u << 10) /* packed events per job */

typedef struct {
    int32_t day;
    uint64_t seq, nrec, bytes, events; /* events: observations (the records' counts summed) */
    uint64_t ev;                       /* the events (log records) this run recorded */
    bool staged;                       /* a pending run spilled from the staging aggregator */
    bool mine; /* renamed into place by this writer's commit now in progress */
} run_ent;

/* A read position of the registry (tide_history_position_set): a key naming what was read (a
 * file by the fingerprint of its first bytes, a stream) and how far it is recorded. */
typedef struct {
    char key[TIDE_HISTORY_POS_KEY];
    uint64_t pos;
    int64_t updated_ms;
} hist_pos;

/* A live writer's intel generation: it has committed everything it read before it matched
 * with that generation (tide_history_set_generation). */
typedef struct {
    char token[48];
    int64_t gen;
} hist_gen;

/* Days kept whatever the retention (tide_history_set_keep): [from, to], days since the epoch. */
typedef struct {
    int32_t from, to;
} hist_keep;

#define MAX_POSITIONS 8192 /* positions the manifest keeps (the most recently updated) */

/* One distinct (day, key, host) of an aggregator, in 40 bytes (the entries are most of the
 * memory the history writes first, and a fresh page costs more than the instructions here): its
 * key bytes are in its keys arena (below 4 GiB: the memory bound is clamped below that); tag:
 * the top 32 bits of its hash (ent_hash), so that a keep or a reset places it in another table
 * without hashing its key again; dk: day << 12 | key length (day below 2^20: the year 4840;
 * key length below 4096, HIST_MAX_KEY); first and last as microseconds in the day (below 2^37),
 * the line's low and high 27 bits beside them. An entry whose count outgrows 32 bits or whose
 * line outgrows 54 bits is wide: its count is AGG_WIDE and its count and line are kept in the
 * aggregator's wide list (rare: a value seen 4 G times in a day by one host). */
typedef struct {
    uint32_t key_off, tag;
    uint32_t host, file;
    uint32_t count; /* AGG_WIDE: in the wide list */
    uint32_t dk;
    uint64_t fl; /* first's microsecond in the day | the line's low 27 bits << 37 */
    uint64_t ll; /* last's microsecond in the day | the line's high 27 bits << 37 */
} agg_ent;

#define AGG_WIDE       UINT32_MAX
#define AGG_OFF_BITS   37
#define AGG_OFF_MASK   ((UINT64_C(1) << AGG_OFF_BITS) - 1)
#define AGG_LINE_MAX   ((UINT64_C(1) << 54) - 1)
#define AGG_DAY_MAX    ((1 << 20) - 1)
#define AGG_DK(day, n) ((uint32_t)(day) << 12 | (uint32_t)(n))

_Static_assert(sizeof(agg_ent) == 40, "an aggregator entry is 40 bytes");
_Static_assert(HIST_MAX_KEY < 4096, "a key length fits in 12 bits");
_Static_assert(HIST_DAY_US <= (int64_t)AGG_OFF_MASK, "a microsecond of a day fits in 37 bits");

/* The count and line of a wide entry (by its index). */
typedef struct {
    uint32_t idx;
    uint64_t count, line;
} agg_wide;

/* Open-addressing slot: entry index + 1 (0 = empty) and 32 more bits of the hash, so that a
 * probe rarely touches an entry that is not the one. */
typedef struct {
    uint32_t idx, tag;
} agg_slot;

/* An aggregator: distinct (day, key, host) records, hashed. */
typedef struct {
    agg_ent *ents;
    size_t nents, capents;
    agg_slot *table;
    size_t tcap; /* 1 << tlg slots (0: no table yet) */
    unsigned tlg;
    size_t ext_at; /* entries past which the table's mapping is doubled ahead of its growth */
    size_t ents_asked, keys_asked; /* bytes of the entries / keys the pager was asked for */
    tide_buf keys;
    size_t ents_map, table_map, keys_map; /* mapping lengths of the big arrays (0: heap) */
    agg_wide *wide;                       /* wide entries (agg_ent), in no order */
    size_t nwide, capwide;
    /* what was kept (tide_history_keep) and what came after: entries [0, mark) and key bytes
     * [0, keys_mark) were kept; an entry below mark counted again since is saved in the undo log
     * first (once: its bit in logged), so that a discard restores it */
    size_t mark, keys_mark;
    struct undo {
        uint32_t idx, count, file;
        uint64_t fl, ll, wcount, wline; /* wcount, wline: a wide entry's */
    } * log;
    size_t nlog, caplog;
    uint64_t *logged; /* a bit per entry below mark */
    size_t caplogged; /* words */
    bool table_clear; /* the table holds no slot (it was the sort's scratch, then cleared, and
                       * nothing was counted since: agg_put drops the mark with its first slot) */
    /* events per day (an event has one time, so one day: the run of that day counts it) */
    struct dayev {
        int32_t day;
        uint64_t n;
    } * dayev;
    size_t ndayev, capdayev;
} agg;

typedef struct {
    tide_strmap map;
    uint32_t *off; /* id -> offset of the name in map.arena */
    size_t n, cap;
} names;

struct tide_history {
    char *dir;
    bool writable;
    int lock_fd;  /* the commit lock (DIR/LOCK), held only while registering or committing */
    int wlock_fd; /* this writer's registration (DIR/w-TOKEN.lock), held for its life */
    char token[48];
    double lock_wait;
    void (*on_wait)(const char *msg, void *payload);
    void *wait_payload;
    int retention;
    bool retention_set; /* set by this writer, not yet in the manifest */
    uint64_t raw_bytes, raw_delta, next_seq;
    bool dirty; /* settings or counters changed since the manifest was written */
    run_ent *runs;
    size_t nruns, capruns;
    run_ent *pend; /* this writer's spilled runs, not committed yet */
    size_t npend, cappend;
    uint64_t spill_no;
    /* event times: later than bound_us (now + max_future, refreshed) are checked again */
    int64_t max_future_us, bound_us;
    tide_history_pruned pruned; /* what retention and prunes removed, not yet taken */
    /* the aggregator: kept is the one every observation is counted into (what keep() kept below
     * its mark, what came after above it); stage holds the day counts of the events since the
     * last keep, and the entries that came after the mark only while a spill writes them apart */
    agg ag[2];
    agg *stage, *kept;
    uint64_t stage_events; /* events added since the last keep, discard or commit */
    uint64_t added_events; /* events kept, since the open */
    int32_t ev_day;        /* the day of the events counted since ev_from (INT32_MIN: none) */
    uint64_t ev_from;      /* stage_events when they began */
    size_t spill, spill_bytes;
    uint64_t count_cap; /* an entry's count above it is kept wide (tests: TIDE_HISTORY_WIDE) */
    names hosts, files;
    /* the last host and file named: most events repeat them */
    char last_host[256];
    size_t last_host_len;
    uint32_t last_host_id, last_file_id;
    bool have_host, have_file;
    size_t peak_bytes;
    struct pager *pager; /* faults the aggregators' new memory in ahead (NULL: none) */
    /* observations on their way into the staging aggregator: their table slot is prefetched
     * when they enter, and they are counted RING_N observations later, so that the cache misses
     * of the big table overlap instead of following one another */
    struct pending {
        uint64_t line;
        uint64_t fo; /* the time: microsecond of the day */
        uint32_t dk; /* AGG_DK(day, key length) */
        uint32_t tag, host, file;
        uint8_t key[RING_KEY];
    } ring[RING_N];
    size_t rhead, rcount;
    /* the registry of read positions: as committed (the manifest last read), and this
     * writer's, written with its next commit */
    hist_pos *pos, *spos;
    size_t npos, cappos, nspos, capspos;
    hist_gen *gens; /* live writers' generations (the manifest last read) */
    size_t ngens, capgens;
    int64_t gen; /* this writer's, when gen_set */
    bool gen_set;
    hist_keep *keeps; /* kept periods (the manifest last read) */
    size_t nkeeps, capkeeps;
    bool keep_mine; /* the days this writer commits are kept */
    /* the recorder thread (see "the recorder thread" below): what tide_history_add packs goes
     * to it in jobs, in order; everything above from ag[] to ring[] is its own while it runs */
    struct rec_thread {
        pthread_mutex_t mu;
        pthread_cond_t more, room; /* a job queued / a job done */
        pthread_t tid;
        bool started, failed_start;
        struct rec_job {
            int op;
            tide_buf data;
        } q[REC_JOBS];
        size_t head, count; /* the job being processed stays counted until done */
        tide_buf fill;      /* events packed by tide_history_add, not queued yet */
        atomic_int rc;      /* the first error of the thread (sticky), with its message */
        char err[512];
        char *last_file;    /* the file name of the last event packed (main thread) */
        uint64_t discarded; /* the result of the last discard job */
        /* added_events + stage_events as of the last job done (tide_history_events_added) */
        atomic_uint_fast64_t events;
        tide_buf inline_file; /* the current file name when the jobs run inline */
    } rt;
};

/* ---- small helpers ---- */

/* Big arrays are asked for in huge pages before they are first written: on this kind of
 * machine (a VM) a page fault costs microseconds, and an import's arrays written 4 KiB at a
 * time took ~45 000 faults, more system time than the whole match took in user time. A block
 * that is reallocated is first written by the copy, so big ones are moved by hand, into memory
 * advised first. */
#define HUGE_MIN (4u << 20)

static void *huge_alloc(size_t n)
{
    void *p = tide__malloc(n ? n : 1);
    if (p && n >= HUGE_MIN)
        tide__advise_huge(p, n);
    return p;
}

/* Big arrays of the aggregators and the sort (mapped): anonymous mappings of their own, 2 MiB
 * aligned and advised huge pages before they are first written. Fresh mappings are zeroed by
 * the kernel (a table needs no memset), and a mapped array grows by mremap, which moves the
 * page tables: nothing is copied, and no page is zeroed twice (malloc + copy wrote a growing
 * array of 46 MB about twice over, the kernel zeroing every page of each new copy first:
 * a fifth of the default match's CPU samples on the acceptance corpus were clear_page). */
#define MAP_MIN   ((size_t)512 << 10) /* a first table (64 Ki slots) and up */
#define MAP_ALIGN ((size_t)2 << 20)

static void *map_new(size_t n, size_t *out_len)
{
#ifdef __linux__
    size_t len = (n + MAP_ALIGN - 1) & ~(MAP_ALIGN - 1);
    if (len < n)
        return NULL;
    void *p = mmap(NULL, len + MAP_ALIGN, PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    uintptr_t a = ((uintptr_t)p + MAP_ALIGN - 1) & ~(uintptr_t)(MAP_ALIGN - 1);
    size_t head = a - (uintptr_t)p;
    if (head)
        munmap(p, head);
    if (MAP_ALIGN - head)
        munmap((void *)(a + len), MAP_ALIGN - head);
#ifdef MADV_HUGEPAGE
    (void)madvise((void *)a, len, MADV_HUGEPAGE); /* aligned: even a single 2 MiB page */
#endif
    *out_len = len;
    return (void *)a;
#else
    (void)n;
    (void)out_len;
    return NULL;
#endif
}

static void map_free(void *p, size_t len)
{
    if (p && len)
        munmap(p, len);
}

/* n zeroed bytes: mapped when big (*map its length), else from the heap (*map 0). */
static void *big_zalloc(size_t n, size_t *map)
{
    *map = 0;
    if (n >= MAP_MIN) {
        void *p = map_new(n, map);
        if (p)
            return p;
    }
    void *p = tide__calloc(1, n);
    if (p && n >= HUGE_MIN)
        tide__advise_huge(p, n); /* calloc of a fresh mapping writes nothing */
    return p;
}

static void big_free(void *p, size_t map)
{
    if (map)
        map_free(p, map);
    else
        tide__free(p);
}

/* grow() for a big array: to a mapping once it reaches MAP_MIN bytes, then by mremap. */
static int grow_big(void **p, size_t *cap, size_t *map, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 16;
    while (c < need)
        c *= 2;
    if (c * size < MAP_MIN) {
        void *n = tide__realloc(*p, c * size);
        TIDE_CHECK_ALLOC(n);
        *p = n;
        *cap = c;
        return 0;
    }
#ifdef __linux__
    if (*map) {
        size_t len = (c * size + MAP_ALIGN - 1) & ~(MAP_ALIGN - 1);
        void *n = mremap(*p, *map, len, MREMAP_MAYMOVE);
        if (n != MAP_FAILED) {
            /* the new part is not written yet; the old part keeps its pages */
#ifdef MADV_HUGEPAGE
            (void)madvise(n, len, MADV_HUGEPAGE); /* page-aligned (a mapping) */
#endif
            *p = n;
            *map = len;
            *cap = len / size;
            return 0;
        }
    }
#endif
    size_t len = 0;
    void *n = map_new(c * size, &len);
    if (n == NULL) { /* no mapping: the heap, as small arrays */
        n = huge_alloc(c * size);
        TIDE_CHECK_ALLOC(n);
    } else {
        c = len / size;
    }
    if (*p)
        memcpy(n, *p, *cap * size);
    big_free(*p, *map);
    *p = n;
    *cap = c;
    *map = len;
    return 0;
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 16;
    while (c < need)
        c *= 2;
    void *n;
    if (c * size < HUGE_MIN) {
        n = tide__realloc(*p, c * size);
    } else {
        n = huge_alloc(c * size);
        if (n && *p) {
            memcpy(n, *p, *cap * size);
            tide__free(*p);
        }
    }
    TIDE_CHECK_ALLOC(n);
    *p = n;
    *cap = c;
    return 0;
}

/* ---- the pager ----
 *
 * On this kind of machine (a VM whose host takes back the memory its guest frees) the first
 * write to a fresh page costs about a millisecond per MiB, huge pages or not: the ~70 MB the
 * aggregator writes over a small match cost its recorder thread more time than counting did,
 * while the reading thread, waiting for it, left its core idle. The pager, a thread of the
 * recorder's, faults the aggregator's memory in ahead of the recorder's writes
 * (MADV_POPULATE_WRITE: the kernel's write fault, without writing, so that what the recorder
 * writes meanwhile stays): the next 8 MiB of the entries and of the key arena (ask_ahead), and
 * the second half of the table, whose mapping is doubled when the table is seven sixteenths full
 * (table_extend), so that its growth at half full finds it faulted in. The faults run on the
 * core the reading thread leaves idle. A request is dropped when the queue is full (the recorder
 * then faults the pages itself, as without a pager). Before a mapping that was asked for is
 * moved or unmapped, pager_fence drops the requests and waits for the one in hand, so the pager
 * never touches memory that is not the aggregator's. */
#define PAGER_Q    8
#define PAGER_STEP ((size_t)2 << 20) /* populated per call: a fence waits for one at most */

struct pager {
    pthread_mutex_t mu;
    pthread_cond_t more, idle;
    pthread_t tid;
    bool quit, busy;
    atomic_bool cancel;
    struct {
        char *p;
        size_t len;
    } q[PAGER_Q];
    size_t head, count;
};

static void *pager_main(void *arg)
{
    struct pager *pg = arg;
    pthread_mutex_lock(&pg->mu);
    for (;;) {
        while (pg->count == 0 && !pg->quit)
            pthread_cond_wait(&pg->more, &pg->mu);
        if (pg->quit)
            break;
        char *p = pg->q[pg->head].p;
        size_t len = pg->q[pg->head].len;
        pg->head = (pg->head + 1) % PAGER_Q;
        pg->count--;
        pg->busy = true;
        atomic_store(&pg->cancel, false);
        pthread_mutex_unlock(&pg->mu);
#if defined(__linux__) && defined(MADV_POPULATE_WRITE)
        for (size_t off = 0; off < len && !atomic_load(&pg->cancel); off += PAGER_STEP)
            if (madvise(p + off, len - off < PAGER_STEP ? len - off : PAGER_STEP,
                        MADV_POPULATE_WRITE) != 0)
                break; /* a hint: out of memory or not supported, the recorder faults them */
#else
        (void)p;
        (void)len;
#endif
        pthread_mutex_lock(&pg->mu);
        pg->busy = false;
        pthread_cond_broadcast(&pg->idle);
    }
    pthread_mutex_unlock(&pg->mu);
    return NULL;
}

static struct pager *pager_start(void)
{
#if defined(__linux__) && defined(MADV_POPULATE_WRITE)
    struct pager *pg = tide__calloc(1, sizeof(*pg));
    if (pg == NULL)
        return NULL;
    if (pthread_mutex_init(&pg->mu, NULL) != 0) {
        tide__free(pg);
        return NULL;
    }
    if (pthread_cond_init(&pg->more, NULL) != 0) {
        pthread_mutex_destroy(&pg->mu);
        tide__free(pg);
        return NULL;
    }
    if (pthread_cond_init(&pg->idle, NULL) != 0) {
        pthread_cond_destroy(&pg->more);
        pthread_mutex_destroy(&pg->mu);
        tide__free(pg);
        return NULL;
    }
    atomic_init(&pg->cancel, false);
    if (pthread_create(&pg->tid, NULL, pager_main, pg) != 0) { /* signals: blocked by caller */
        pthread_cond_destroy(&pg->idle);
        pthread_cond_destroy(&pg->more);
        pthread_mutex_destroy(&pg->mu);
        tide__free(pg);
        return NULL;
    }
    return pg;
#else
    return NULL; /* no way to fault pages in without writing them */
#endif
}

static void pager_stop(struct pager *pg)
{
    if (pg == NULL)
        return;
    pthread_mutex_lock(&pg->mu);
    pg->quit = true;
    atomic_store(&pg->cancel, true);
    pthread_cond_signal(&pg->more);
    pthread_mutex_unlock(&pg->mu);
    pthread_join(pg->tid, NULL);
    pthread_cond_destroy(&pg->idle);
    pthread_cond_destroy(&pg->more);
    pthread_mutex_destroy(&pg->mu);
    tide__free(pg);
}

/* Ask for [p, p + len) to be faulted in (whole huge pages: p is rounded up). */
static void pager_ask(struct pager *pg, void *p, size_t len)
{
    if (pg == NULL)
        return;
    uintptr_t a = ((uintptr_t)p + MAP_ALIGN - 1) & ~(uintptr_t)(MAP_ALIGN - 1);
    uintptr_t end = (uintptr_t)p + len;
    if (end <= a)
        return;
    pthread_mutex_lock(&pg->mu);
    if (pg->count < PAGER_Q) {
        size_t i = (pg->head + pg->count++) % PAGER_Q;
        pg->q[i].p = (char *)a;
        pg->q[i].len = end - a;
        pthread_cond_signal(&pg->more);
    }
    pthread_mutex_unlock(&pg->mu);
}

/* Drop what was asked and wait for what is in hand (before a mapping moves or goes). */
static void pager_fence(struct pager *pg)
{
    if (pg == NULL)
        return;
    pthread_mutex_lock(&pg->mu);
    pg->count = 0;
    atomic_store(&pg->cancel, true);
    while (pg->busy)
        pthread_cond_wait(&pg->idle, &pg->mu);
    pthread_mutex_unlock(&pg->mu);
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

/* A run this writer spilled and has not committed: named by its token and spill number. */
static void pend_path(const tide_history *h, const run_ent *r, char *out, size_t n)
{
    snprintf(out, n, "%s/w-%s.%06" PRIu64 ".hst", h->dir, h->token, r->seq);
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
    int rc = tide__buf_printf(&b,
            "tide-history 1\nretention %d\nraw_bytes %" PRIu64 "\nnext_seq %" PRIu64 "\n",
            h->retention, h->raw_bytes, h->next_seq);
    for (size_t i = 0; rc == 0 && i < h->nruns; i++) {
        const run_ent *r = &h->runs[i];
        rc = tide__buf_printf(&b,
                "run %d %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", (int)r->day,
                r->seq, r->nrec, r->bytes, r->events, r->ev);
    }
    for (size_t i = 0; rc == 0 && i < h->nkeeps; i++)
        rc = tide__buf_printf(&b, "keep %d %d\n", (int)h->keeps[i].from, (int)h->keeps[i].to);
    for (size_t i = 0; rc == 0 && i < h->ngens; i++)
        rc = tide__buf_printf(&b, "writer %s %" PRId64 "\n", h->gens[i].token, h->gens[i].gen);
    for (size_t i = 0; rc == 0 && i < h->npos; i++)
        rc = tide__buf_printf(&b, "pos %s %" PRIu64 " %" PRId64 "\n", h->pos[i].key, h->pos[i].pos,
                h->pos[i].updated_ms);
    if (rc == 0)
        rc = tide__buf_printf(&b, "end %016" PRIx64 "\n", (uint64_t)XXH3_64bits(b.ptr, b.len));
    char path[4096];
    snprintf(path, sizeof(path), "%s/MANIFEST", h->dir);
    /* util/outfile.h: a temporary file created exclusively (0600), fsync'ed, renamed over
     * MANIFEST, the folder fsync'ed; the history's lock serialises the writers */
    if (rc == 0)
        rc = tide__outfile_write(path, b.ptr, b.len, TIDE__OUT_PRIVATE | TIDE__OUT_LOCKED);
    tide__buf_free(&b);
    if (rc == 0) {
        h->dirty = false;
        h->retention_set = false; /* in the manifest now: later changes of others count */
    }
    return rc;
}

/* Read the manifest (the runs, counters and settings; a retention this writer set and has not
 * written yet is kept). An absent manifest is an empty history. */
static int manifest_read(tide_history *h)
{
    h->nruns = 0;
    h->raw_bytes = 0;
    h->next_seq = 0;
    h->npos = h->ngens = h->nkeeps = 0;
    if (!h->retention_set)
        h->retention = TIDE_HISTORY_DEFAULT_RETENTION_DAYS;
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
        return tide_error_set(
                TIDE_EFORMAT, "history manifest %s is corrupt: missing or bad checksum line", path);
    }
    size_t lineno = 0;
    for (char *line = b.ptr; rc == 0 && line < end;) {
        char *nl = strchr(line, '\n');
        if (nl == NULL)
            break;
        *nl = '\0';
        lineno++;
        int d, d2;
        run_ent r = { 0 };
        hist_pos hp = { 0 };
        hist_gen hg = { 0 };
        int nf = 0;
        if (lineno == 1) {
            if (strcmp(line, "tide-history 1") != 0)
                rc = tide_error_set(TIDE_EFORMAT, "history manifest %s:1: unknown version", path);
        } else if (sscanf(line, "retention %d", &d) == 1) {
            if (!h->retention_set)
                h->retention = d > 0 ? d : TIDE_HISTORY_DEFAULT_RETENTION_DAYS;
        } else if (sscanf(line, "raw_bytes %" SCNu64, &h->raw_bytes) == 1) {
        } else if (sscanf(line, "next_seq %" SCNu64, &h->next_seq) == 1) {
        } else if ((nf = sscanf(line,
                            "run %d %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64, &d,
                            &r.seq, &r.nrec, &r.bytes, &r.events, &r.ev)) >= 5) {
            r.day = d;
            if (nf == 5) /* written before events were counted apart: observations */
                r.ev = r.events;
            if (h->nruns >= MAX_RUNS)
                rc = tide_error_set(TIDE_ETOOBIG, "history manifest %s: too many runs", path);
            else if ((rc = grow((void **)&h->runs, &h->capruns, h->nruns + 1, sizeof(run_ent))) ==
                     0)
                h->runs[h->nruns++] = r;
        } else if (sscanf(line, "keep %d %d", &d, &d2) == 2 && d <= d2) {
            if ((rc = grow((void **)&h->keeps, &h->capkeeps, h->nkeeps + 1, sizeof(hist_keep))) ==
                    0)
                h->keeps[h->nkeeps++] = (hist_keep){ d, d2 };
        } else if (sscanf(line, "writer %47s %" SCNd64, hg.token, &hg.gen) == 2) {
            if ((rc = grow((void **)&h->gens, &h->capgens, h->ngens + 1, sizeof(hist_gen))) == 0)
                h->gens[h->ngens++] = hg;
        } else if (sscanf(line, "pos %63s %" SCNu64 " %" SCNd64, hp.key, &hp.pos, &hp.updated_ms) ==
                   3) {
            if (h->npos >= MAX_POSITIONS + 1024)
                rc = tide_error_set(TIDE_ETOOBIG, "history manifest %s: too many positions", path);
            else if ((rc = grow((void **)&h->pos, &h->cappos, h->npos + 1, sizeof(hist_pos))) == 0)
                h->pos[h->npos++] = hp;
        } else {
            rc = tide_error_set(
                    TIDE_EFORMAT, "history manifest %s:%zu: unknown line", path, lineno);
        }
        line = nl + 1;
    }
    tide__buf_free(&b);
    return rc;
}

/* ---- the commit lock ---- */

/* Take the commit lock, waiting up to h->lock_wait seconds (on_wait is told once). */
static int lock_take(tide_history *h)
{
    if (flock(h->lock_fd, LOCK_EX | LOCK_NB) == 0)
        return 0;
    if (errno != EWOULDBLOCK && errno != EINTR)
        return tide_error_set(TIDE_EIO, "history %s: lock: %s", h->dir, strerror(errno));
    if (h->on_wait) {
        char msg[4200];
        snprintf(msg, sizeof(msg),
                "waiting for another tide process to finish writing history %s (up to %g s)",
                h->dir, h->lock_wait);
        h->on_wait(msg, h->wait_payload);
    }
    double until = mono() + h->lock_wait;
    for (;;) {
        struct timespec ts = { 0, 20 * 1000000L };
        nanosleep(&ts, NULL);
        if (flock(h->lock_fd, LOCK_EX | LOCK_NB) == 0)
            return 0;
        if (errno != EWOULDBLOCK && errno != EINTR)
            return tide_error_set(TIDE_EIO, "history %s: lock: %s", h->dir, strerror(errno));
        if (mono() >= until)
            return tide_error_set(TIDE_EIO,
                    "history %s: another tide process holds the writer lock; gave up after %g s "
                    "(TIDE_HISTORY_LOCK_WAIT sets the wait)",
                    h->dir, h->lock_wait);
    }
}

static void lock_drop(tide_history *h)
{
    flock(h->lock_fd, LOCK_UN);
}

/* ---- leftovers ---- */

/* Whether the writer TOKEN (n bytes) is gone: its registration file is absent, or nobody holds
 * its lock. Called under the commit lock, so no writer registers meanwhile. */
static bool writer_dead(const tide_history *h, const char *token, size_t n)
{
    if (n == strlen(h->token) && memcmp(token, h->token, n) == 0)
        return false;
    char p[4096];
    snprintf(p, sizeof(p), "%s/w-%.*s.lock", h->dir, (int)n, token);
    int fd = open(p, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT;
    bool dead = flock(fd, LOCK_EX | LOCK_NB) == 0;
    close(fd);
    return dead;
}

/* Remove files crashed writers left (under the commit lock): temp files, runs the manifest does
 * not name, and the spills and registrations of writers that are gone. */
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
        bool wlock = len > 7 && strncmp(n, "w-", 2) == 0 && strcmp(n + len - 5, ".lock") == 0;
        if (!tmp && !hst && !wlock)
            continue;
        snprintf(path, sizeof(path), "%s/%s", h->dir, n);
        if (strncmp(n, "w-", 2) == 0) { /* a writer's spill or registration */
            const char *dot = strchr(n + 2, '.');
            if (dot && writer_dead(h, n + 2, (size_t)(dot - n - 2)))
                unlink(path);
            continue;
        }
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

/* Register this writer: a lock file of its own, held until it is freed (commit lock held). */
static int register_writer(tide_history *h)
{
    static atomic_uint counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    for (int attempt = 0; attempt < 16; attempt++) {
        uint64_t r = XXH3_64bits_withSeed(
                &ts, sizeof(ts), (uint64_t)getpid() << 32 | atomic_fetch_add(&counter, 1));
        snprintf(h->token, sizeof(h->token), "%ld-%08" PRIx32, (long)getpid(), (uint32_t)r);
        char p[4096];
        snprintf(p, sizeof(p), "%s/w-%s.lock", h->dir, h->token);
        int fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST)
            continue;
        if (fd < 0)
            return tide_error_set(TIDE_EIO, "%s: %s", p, strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int rc = tide_error_set(TIDE_EIO, "%s: lock: %s", p, strerror(errno));
            close(fd);
            unlink(p);
            return rc;
        }
        h->wlock_fd = fd;
        return 0;
    }
    return tide_error_set(TIDE_EIO, "history %s: no free writer name", h->dir);
}

int tide_history_open_opts(tide_history **out, const char *dir, const tide_history_opts *opts)
{
    *out = NULL;
    tide_history_opts o = { 0 };
    if (opts)
        o = *opts;
    tide_history *h = tide__calloc(1, sizeof(*h));
    TIDE_CHECK_ALLOC(h);
    h->lock_fd = -1;
    h->wlock_fd = -1;
    h->writable = o.writable;
    h->on_wait = o.on_wait;
    h->wait_payload = o.payload;
    h->lock_wait =
            o.lock_wait_seconds > 0 ? o.lock_wait_seconds : (double)TIDE_HISTORY_LOCK_WAIT_SECONDS;
    h->retention = TIDE_HISTORY_DEFAULT_RETENTION_DAYS;
    h->max_future_us = TIDE_HISTORY_MAX_FUTURE_MS * 1000;
    h->ev_day = INT32_MIN;
    h->stage = &h->ag[0];
    h->kept = &h->ag[1];
    h->hosts.map = (tide_strmap)TIDE_STRMAP_INIT;
    h->files.map = (tide_strmap)TIDE_STRMAP_INIT;
    h->spill = SIZE_MAX;
    h->spill_bytes = (size_t)DEFAULT_SPILL_MB << 20;
    h->count_cap = AGG_WIDE - 1;
    const char *sp = getenv("TIDE_HISTORY_SPILL"); /* tests: force small runs (entries) */
    long v;
    if (sp && tide__parse_long(sp, &v) == 0 && v > 0)
        h->spill = (size_t)v;
    sp = getenv("TIDE_HISTORY_SPILL_MB");             /* aggregator memory bound */
    if (sp && tide__parse_long(sp, &v) == 0 && v > 0) /* below 4 GiB: agg_ent's key_off */
        h->spill_bytes = (size_t)(v < 3072 ? v : 3072) << 20;
    sp = getenv("TIDE_HISTORY_WIDE"); /* tests: entries counted past this are wide */
    if (sp && tide__parse_long(sp, &v) == 0 && v > 0 && v < (long)AGG_WIDE)
        h->count_cap = (uint64_t)v;
    sp = getenv("TIDE_HISTORY_LOCK_WAIT"); /* seconds a writer waits for the commit lock */
    if (opts == NULL || o.lock_wait_seconds <= 0) {
        if (sp && tide__parse_long(sp, &v) == 0 && v > 0)
            h->lock_wait = (double)v;
    }
    size_t n = strlen(dir) + 16;
    h->dir = tide__malloc(n);
    if (h->dir == NULL) {
        tide__free(h);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    snprintf(h->dir, n, "%s/history", dir);
    int rc = 0;
    bool locked = false;
    if (h->writable) {
        /* private to the owner whatever the umask: the history holds every host's traffic */
        mkdir(dir, 0700);
        if (mkdir(h->dir, 0700) != 0 && errno != EEXIST)
            rc = tide_error_set(TIDE_EIO, "%s: %s", h->dir, strerror(errno));
        char lp[4096];
        snprintf(lp, sizeof(lp), "%s/LOCK", h->dir);
        if (rc == 0 && (h->lock_fd = open(lp, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
            rc = tide_error_set(TIDE_EIO, "%s: %s", lp, strerror(errno));
        if (rc == 0 && (rc = lock_take(h)) == 0)
            locked = true;
        if (rc == 0)
            rc = register_writer(h);
    }
    if (rc == 0)
        rc = manifest_read(h);
    if (rc == 0 && h->writable)
        sweep(h);
    if (locked)
        lock_drop(h);
    if (rc < 0) {
        tide_history_free(h);
        return rc;
    }
    *out = h;
    return 0;
}

int tide_history_open(tide_history **out, const char *dir, bool writable)
{
    tide_history_opts o = { .writable = writable };
    return tide_history_open_opts(out, dir, &o);
}

static void rec_stop(tide_history *h);

static void agg_free(agg *a)
{
    tide__free(a->dayev);
    tide__free(a->wide);
    tide__free(a->log);
    tide__free(a->logged);
    big_free(a->ents, a->ents_map);
    big_free(a->table, a->table_map);
    big_free(a->keys.ptr, a->keys_map);
    memset(a, 0, sizeof(*a));
}

void tide_history_free(tide_history *h)
{
    if (h == NULL)
        return;
    rec_stop(h);
    /* runs spilled but not committed are not in the manifest: remove them */
    char p[4096];
    for (size_t i = 0; i < h->npend; i++) {
        pend_path(h, &h->pend[i], p, sizeof(p));
        unlink(p);
    }
    if (h->wlock_fd >= 0) {
        snprintf(p, sizeof(p), "%s/w-%s.lock", h->dir, h->token);
        unlink(p);
        close(h->wlock_fd);
    }
    if (h->lock_fd >= 0)
        close(h->lock_fd);
    names_free(&h->hosts);
    names_free(&h->files);
    tide__free(h->dir);
    tide__free(h->runs);
    tide__free(h->pend);
    tide__free(h->pos);
    tide__free(h->spos);
    tide__free(h->gens);
    tide__free(h->keeps);
    agg_free(&h->ag[0]);
    agg_free(&h->ag[1]);
    tide__free(h);
}

int tide_history_set_retention(tide_history *h, int days)
{
    if (days < 1 || days > 100000)
        return tide_error_set(TIDE_EINVAL, "retention of %d days", days);
    h->retention = days;
    h->retention_set = true;
    h->dirty = true;
    return 0;
}

int tide_history_retention(const tide_history *h)
{
    return h->retention;
}

int tide_history_set_max_future(tide_history *h, int64_t ms)
{
    if (ms < 0 || ms > 100000LL * 86400000)
        return tide_error_set(TIDE_EINVAL, "max future of %lld ms", (long long)ms);
    h->max_future_us = ms * 1000;
    h->bound_us = 0; /* computed again */
    return 0;
}

void tide_history_add_raw_bytes(tide_history *h, uint64_t bytes)
{
    h->raw_delta += bytes;
    h->dirty = true;
}

void tide_history_pruned_take(tide_history *h, tide_history_pruned *out)
{
    *out = h->pruned;
    memset(&h->pruned, 0, sizeof(h->pruned));
}

/* ---- aggregator ---- */

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* the key is hashed once (XXH3); day and host are mixed in */
static uint64_t ent_hash(uint64_t key_hash, int32_t day, uint32_t host)
{
    return mix64(key_hash ^ ((uint64_t)(uint32_t)day << 32 | host) * 0x9E3779B97F4A7C15ULL);
}

/* memory one aggregator's contents need (entries, keys, a table at half load) */
static size_t agg_size(const agg *a)
{
    return a->nents * (sizeof(agg_ent) + 2 * sizeof(agg_slot)) + a->keys.len +
           a->nlog * sizeof(struct undo);
}

/* memory the aggregators and names need; the arrays keep their capacity across spills */
static size_t agg_bytes(const tide_history *h)
{
    return agg_size(&h->ag[0]) + agg_size(&h->ag[1]) + h->hosts.map.arena.len +
           h->files.map.arena.len;
}

/* A slot's home: the top bits of the entry hash, which are also the top bits of its tag, so that
 * a bigger table places every slot from its tag alone (no key read, no hash again). */
static inline size_t slot_home(uint32_t tag, unsigned lg)
{
    return (size_t)(tag >> (32 - lg));
}

/* Double a's table where it is (a mapping grown by mremap: its new half comes zeroed, nothing is
 * copied, and no old table is left behind: growing into fresh tables wrote twice the final
 * table's pages, each first write a kernel's zeroing). A slot's new home is twice its old one
 * (or one more), so slots move up: the old table is read from its end down, each slot cleared
 * and placed from its new home upwards, where every slot is placed already or free. A slot
 * whose new home lies below the position being read (a long probe at the start of the table),
 * or whose probe would wrap past the end, waits aside and is placed when all others are. */
static int table_spread(agg *a, unsigned lg)
{
    agg_slot *t = a->table;
    size_t cap = (size_t)1 << lg, mask = cap - 1;
    agg_slot *side = NULL;
    size_t nside = 0, capside = 0;
    int rc = 0;
    for (size_t p = a->tcap; p-- > 0;) {
        agg_slot sl = t[p];
        if (sl.idx == 0)
            continue;
        t[p] = (agg_slot){ 0, 0 };
        size_t s = slot_home(sl.tag, lg);
        if (s >= p) {
            while (t[s].idx && s < mask)
                s++;
            if (t[s].idx == 0) {
                t[s] = sl;
                continue;
            }
        }
        if (rc == 0)
            rc = grow((void **)&side, &capside, nside + 1, sizeof(agg_slot));
        if (rc == 0)
            side[nside++] = sl;
    }
    a->tcap = cap;
    a->tlg = lg;
    for (size_t i = 0; i < nside; i++) {
        size_t s = slot_home(side[i].tag, lg);
        while (t[s].idx)
            s = (s + 1) & mask;
        t[s] = side[i];
    }
    tide__free(side);
    return rc; /* out of memory: slots were lost, the recorder fails (its error is sticky) */
}

/* The mapping length of a table of cap slots. */
static size_t table_len(size_t cap)
{
    return (cap * sizeof(agg_slot) + MAP_ALIGN - 1) & ~(MAP_ALIGN - 1);
}

static int table_grow(agg *a)
{
    /* The table grows with what the aggregator holds, from 64 Ki slots (512 KiB): sized for
     * the memory bound up front, it cost a small import 128 MiB of zeroed pages (a third of its
     * instructions, and the page faults). Growing reads the old table in order and places each
     * slot by its tag: no entry or key is touched. */
    unsigned lg = a->tcap ? a->tlg + 1 : 16;
    if (lg > 32)
        return tide_error_set(TIDE_ETOOBIG, "history aggregator full");
    size_t cap = (size_t)1 << lg;
#ifdef __linux__
    if (a->tcap && a->table_map) { /* grown where it is */
        size_t len = table_len(cap);
        void *n = len == a->table_map ? (void *)a->table
                                      : mremap(a->table, a->table_map, len, MREMAP_MAYMOVE);
        if (n != MAP_FAILED) {
#ifdef MADV_HUGEPAGE
            if (len != a->table_map)
                (void)madvise(n, len, MADV_HUGEPAGE);
#endif
            a->table = n;
            a->table_map = len;
            return table_spread(a, lg);
        }
    }
#endif
    size_t map;
    agg_slot *t = big_zalloc(cap * sizeof(agg_slot), &map);
    TIDE_CHECK_ALLOC(t);
    for (size_t i = 0; i < a->tcap; i++) {
        agg_slot sl = a->table[i];
        if (sl.idx == 0)
            continue;
        size_t s = slot_home(sl.tag, lg);
        while (t[s].idx)
            s = (s + 1) & (cap - 1);
        t[s] = sl;
    }
    big_free(a->table, a->table_map);
    a->table = t;
    a->table_map = map;
    a->tcap = cap;
    a->tlg = lg;
    return 0;
}

/* Empty an aggregator, keeping its arrays. A table much larger than what it holds is cleared
 * slot by slot (each entry's probe), not whole: a staging aggregator is emptied once per input. */
static void agg_reset(agg *a)
{
    if (a->table_clear) {
        a->table_clear = false;
    } else if (a->table && a->nents < a->tcap / 16) {
        size_t mask = a->tcap - 1;
        for (size_t i = 0; i < a->nents; i++) {
            const agg_ent *e = &a->ents[i];
            for (size_t s = slot_home(e->tag, a->tlg);; s = (s + 1) & mask)
                if (a->table[s].idx == i + 1) {
                    a->table[s].idx = 0;
                    a->table[s].tag = 0;
                    break;
                }
        }
    } else if (a->table) {
        memset(a->table, 0, a->tcap * sizeof(agg_slot));
    }
    for (size_t i = 0; i < a->nlog; i++)
        a->logged[a->log[i].idx >> 6] &= ~(UINT64_C(1) << (a->log[i].idx & 63));
    a->nlog = 0;
    a->mark = a->keys_mark = 0;
    a->nents = 0;
    a->keys.len = 0;
    a->ndayev = 0;
    a->nwide = 0;
}

/* Count n events of day into a. */
static int agg_day(agg *a, int32_t day, uint64_t n)
{
    for (size_t i = a->ndayev; i > 0; i--) /* the newest day first: most events repeat it */
        if (a->dayev[i - 1].day == day) {
            a->dayev[i - 1].n += n;
            return 0;
        }
    TIDE_CHECK(grow((void **)&a->dayev, &a->capdayev, a->ndayev + 1, sizeof(struct dayev)));
    a->dayev[a->ndayev++] = (struct dayev){ day, n };
    return 0;
}

static uint64_t agg_day_events(const agg *a, int32_t day)
{
    for (size_t i = 0; i < a->ndayev; i++)
        if (a->dayev[i].day == day)
            return a->dayev[i].n;
    return 0;
}

static agg_wide *wide_find(const agg *a, uint32_t idx)
{
    for (size_t i = a->nwide; i > 0; i--)
        if (a->wide[i - 1].idx == idx)
            return &a->wide[i - 1];
    return NULL;
}

static inline int64_t ent_day(const agg_ent *e)
{
    return (int64_t)(e->dk >> 12);
}

static inline size_t ent_key_len(const agg_ent *e)
{
    return e->dk & 4095u;
}

static inline int64_t ent_first(const agg_ent *e)
{
    return ent_day(e) * HIST_DAY_US + (int64_t)(e->fl & AGG_OFF_MASK);
}

static inline int64_t ent_last(const agg_ent *e)
{
    return ent_day(e) * HIST_DAY_US + (int64_t)(e->ll & AGG_OFF_MASK);
}

static inline uint64_t ent_count(const agg *a, const agg_ent *e)
{
    if (e->count != AGG_WIDE)
        return e->count;
    return wide_find(a, (uint32_t)(e - a->ents))->count;
}

static inline uint64_t ent_line(const agg *a, const agg_ent *e)
{
    if (e->count == AGG_WIDE)
        return wide_find(a, (uint32_t)(e - a->ents))->line;
    return (e->fl >> AGG_OFF_BITS) | (e->ll >> AGG_OFF_BITS) << 27;
}

static inline void ent_set_line(agg_ent *e, uint64_t line)
{
    e->fl = (e->fl & AGG_OFF_MASK) | (line & ((UINT64_C(1) << 27) - 1)) << AGG_OFF_BITS;
    e->ll = (e->ll & AGG_OFF_MASK) | (line >> 27) << AGG_OFF_BITS;
}

/* The slow path of agg_put: e (whose count is c0, line l0) becomes or stays wide, with count c
 * and line line. */
static int ent_widen(agg *a, agg_ent *e, uint64_t c, uint64_t line)
{
    uint32_t idx = (uint32_t)(e - a->ents);
    agg_wide *w = e->count == AGG_WIDE ? wide_find(a, idx) : NULL;
    if (w == NULL) {
        TIDE_CHECK(grow((void **)&a->wide, &a->capwide, a->nwide + 1, sizeof(agg_wide)));
        w = &a->wide[a->nwide++];
        w->idx = idx;
        e->count = AGG_WIDE;
    }
    w->count = c;
    w->line = line;
    return 0;
}

/* Entry idx (below the mark) is about to change: save it in the undo log, once. */
static int undo_save(agg *a, uint32_t idx)
{
    TIDE_CHECK(grow((void **)&a->log, &a->caplog, a->nlog + 1, sizeof(struct undo)));
    const agg_ent *e = &a->ents[idx];
    struct undo *u = &a->log[a->nlog++];
    u->idx = idx;
    u->count = e->count;
    u->file = e->file;
    u->fl = e->fl;
    u->ll = e->ll;
    u->wcount = u->wline = 0;
    if (e->count == AGG_WIDE) {
        const agg_wide *w = wide_find(a, idx);
        u->wcount = w->count;
        u->wline = w->line;
    }
    a->logged[idx >> 6] |= UINT64_C(1) << (idx & 63);
    return 0;
}

static inline int undo_note(agg *a, uint32_t idx)
{
    if (idx >= a->mark || (a->logged[idx >> 6] >> (idx & 63) & 1))
        return 0;
    return undo_save(a, idx);
}

/* The table's mapping doubled ahead of the table's growth, its new half faulted in by the
 * pager; table_grow then spreads the slots where they are. Once per size (ext_at moves past
 * the growth). */
static void table_extend(const tide_history *h, agg *a)
{
    a->ext_at = SIZE_MAX;
#ifdef __linux__
    size_t want = table_len(a->tcap * 2);
    if (a->table_map == 0 || a->table_map >= want)
        return;
    /* not when the memory bound will spill the aggregator before the growth (at half full):
     * the new half would be faulted in for nothing (64 MB more resident on the reference) */
    size_t grow_at = a->tcap / 2;
    if (grow_at >= h->spill ||
            (double)agg_bytes(h) / (double)(a->nents ? a->nents : 1) * (double)grow_at >=
                    (double)h->spill_bytes)
        return;
    pager_fence(h->pager);
    void *n = mremap(a->table, a->table_map, want, MREMAP_MAYMOVE);
    if (n == MAP_FAILED)
        return; /* table_grow tries again */
#ifdef MADV_HUGEPAGE
    (void)madvise(n, want, MADV_HUGEPAGE);
#endif
    size_t old = a->table_map;
    a->table = n;
    a->table_map = want;
    pager_ask(h->pager, (char *)n + old, want - old);
#else
    (void)h;
#endif
}

/* Memory faulted in ahead of the recorder's writes into an array (entries, keys): enough for
 * the pager to stay ahead, little enough that a run that ends soon has not paid for much it
 * never used (the whole new half of a doubled array was up to 30 MB more of resident memory). */
#define PAGER_AHEAD ((size_t)8 << 20)

/* Ask for the part of a mapped array (base, map bytes, 2 MiB aligned) from *asked up to
 * PAGER_AHEAD past used, once used comes within half of that of *asked. */
static inline void ask_ahead(
        const tide_history *h, char *base, size_t used, size_t map, size_t *asked)
{
    if (*asked >= map || *asked >= used + PAGER_AHEAD / 2)
        return;
    size_t from = *asked > used ? *asked : used;
    size_t to = (used + PAGER_AHEAD) & ~(MAP_ALIGN - 1);
    if (to > map)
        to = map;
    if (to > from)
        pager_ask(h->pager, base + from, to - from);
    *asked = to > *asked ? to : *asked;
}

/* Count (first, last, count, place) of (key, day, host) into a: dk = AGG_DK(day, n), fo and lo
 * the first and last times as microseconds of the day. older: the record comes from before what
 * a holds (its place wins a tie of first times). Inlined: the calls with one observation (count
 * 1, not older) lose their branches. */
static inline __attribute__((always_inline)) int agg_put(const tide_history *h, agg *a,
        const uint8_t *key, size_t n, uint32_t tag, uint32_t dk, uint32_t host, uint64_t fo,
        uint64_t lo, uint64_t count, uint32_t file, uint64_t line, bool older)
{
    if ((a->nents + 1) * 2 > a->tcap) {
        if (a->tcap && a->table_map != table_len(a->tcap * 2))
            pager_fence(h->pager); /* the mapping may move */
        TIDE_CHECK(table_grow(a));
        a->ext_at = a->tcap * 7 / 16;
    } else if (a->nents >= a->ext_at && h->pager) {
        table_extend(h, a);
    }
    size_t mask = a->tcap - 1;
    for (size_t s = slot_home(tag, a->tlg);; s = (s + 1) & mask) {
        agg_slot *sl = &a->table[s];
        if (sl->idx == 0) {
            if (a->nents >= UINT32_MAX - 1 || a->keys.len + n > UINT32_MAX)
                return tide_error_set(TIDE_ETOOBIG, "history aggregator full");
            if (a->nents == a->capents) {
                pager_fence(h->pager); /* the mapping may move */
                TIDE_CHECK(grow_big((void **)&a->ents, &a->capents, &a->ents_map, a->nents + 1,
                        sizeof(agg_ent)));
            }
            if (h->pager && a->ents_map)
                ask_ahead(h, (char *)a->ents, (a->nents + 1) * sizeof(agg_ent), a->ents_map,
                        &a->ents_asked);
            agg_ent *e = &a->ents[a->nents];
            e->key_off = (uint32_t)a->keys.len;
            e->tag = tag;
            e->dk = dk;
            if (a->keys.len + n >= a->keys.cap) { /* the arena has no max */
                size_t kc = a->keys.cap;
                pager_fence(h->pager);
                TIDE_CHECK(
                        grow_big((void **)&a->keys.ptr, &kc, &a->keys_map, a->keys.len + n + 1, 1));
                a->keys.cap = kc;
            }
            if (h->pager && a->keys_map)
                ask_ahead(h, a->keys.ptr, a->keys.len + n, a->keys_map, &a->keys_asked);
            memcpy(a->keys.ptr + a->keys.len, key, n);
            a->keys.len += n;
            e->host = host;
            e->file = file;
            e->fl = fo;
            e->ll = lo;
            if (count <= h->count_cap && line <= AGG_LINE_MAX) {
                e->count = (uint32_t)count;
                ent_set_line(e, line);
            } else {
                e->count = 0;
                TIDE_CHECK(ent_widen(a, e, count, line));
            }
            sl->idx = (uint32_t)++a->nents;
            sl->tag = tag;
            a->table_clear = false; /* it holds a slot now: agg_reset must clear it */
            return 0;
        }
        if (sl->tag != tag)
            continue;
        agg_ent *e = &a->ents[sl->idx - 1];
        if (e->dk == dk && e->host == host && memcmp(a->keys.ptr + e->key_off, key, n) == 0) {
            TIDE_CHECK(undo_note(a, sl->idx - 1));
            uint64_t efo = e->fl & AGG_OFF_MASK;
            bool place = fo < efo || (older && fo == efo);
            if (e->count != AGG_WIDE && count <= h->count_cap - e->count &&
                    (!place || line <= AGG_LINE_MAX)) {
                e->count += (uint32_t)count;
                if (place) {
                    e->fl = fo;
                    e->file = file;
                    ent_set_line(e, line);
                }
            } else { /* wide, or becoming wide */
                uint64_t c = ent_count(a, e) + count;
                uint64_t l = ent_line(a, e);
                if (place) {
                    e->fl = (e->fl & ~AGG_OFF_MASK) | fo;
                    e->file = file;
                    l = line;
                }
                TIDE_CHECK(ent_widen(a, e, c, l));
            }
            if (lo > (e->ll & AGG_OFF_MASK))
                e->ll = (e->ll & ~AGG_OFF_MASK) | lo;
            return 0;
        }
    }
}

/* Count every observation still in the ring (in arrival order) into the staging aggregator. */
static int ring_flush(tide_history *h)
{
    while (h->rcount > 0) {
        struct pending *p = &h->ring[h->rhead];
        h->rhead = (h->rhead + 1) % RING_N;
        h->rcount--;
        TIDE_CHECK(agg_put(h, h->kept, p->key, p->dk & 4095u, p->tag, p->dk, p->host, p->fo, p->fo,
                1, p->file, p->line, false));
    }
    return 0;
}

/* One observation (fo: its microsecond of the day) on its way into the staging aggregator. */
static int ring_put(tide_history *h, const uint8_t *key, size_t n, uint64_t kh, int32_t day,
        uint32_t host, uint64_t fo, uint32_t file, uint64_t line)
{
    agg *a = h->kept;
    uint32_t tag = (uint32_t)(ent_hash(kh, day, host) >> 32);
    uint32_t dk = AGG_DK(day, n);
    if (a->tcap)
        __builtin_prefetch(&a->table[slot_home(tag, a->tlg)]);
    if (n > RING_KEY) { /* keep arrival order: what waits goes first */
        TIDE_CHECK(ring_flush(h));
        return agg_put(h, a, key, n, tag, dk, host, fo, fo, 1, file, line, false);
    }
    if (h->rcount == RING_N) {
        struct pending *p = &h->ring[h->rhead];
        h->rhead = (h->rhead + 1) % RING_N;
        h->rcount--;
        TIDE_CHECK(agg_put(h, a, p->key, p->dk & 4095u, p->tag, p->dk, p->host, p->fo, p->fo, 1,
                p->file, p->line, false));
    }
    struct pending *q = &h->ring[(h->rhead + h->rcount) % RING_N];
    q->tag = tag;
    q->line = line;
    q->fo = fo;
    q->dk = dk;
    q->host = host;
    q->file = file;
    memcpy(q->key, key, n);
    h->rcount++;
    /* The prefetching's second stage: of the observation RING_N / 2 places behind this one,
     * whose table slot was prefetched when it entered, the entry its slot names when the tags
     * agree (most likely its key: a count, not a new entry). A profile of the reference's
     * default match put a quarter of the recorder's counting on that entry's load, a miss taken
     * when the observation was counted, one after another; with it prefetched the run took 5-10 %
     * less CPU (docs/performance.md). Its key's bytes prefetched too (a third stage, 4 places
     * later) gained nothing more. Only a load and a prefetch: the table may grow before the
     * observation is counted, which makes the prefetch useless, never wrong. (Here, not in a
     * helper: gcc deletes the call of a function it does not inline whose only effect is a
     * prefetch, as a call without effects.) */
    if (a->tcap && h->rcount > RING_N / 2) {
        const struct pending *m = &h->ring[(h->rhead + h->rcount - 1 - RING_N / 2) % RING_N];
        const agg_slot *sl = &a->table[slot_home(m->tag, a->tlg)];
        if (sl->idx != 0 && sl->tag == m->tag) {
            const agg_ent *e = &a->ents[sl->idx - 1];
            __builtin_prefetch(e);
            __builtin_prefetch((const char *)(e + 1) - 1); /* 40 bytes: may span two lines */
        }
    }
    return 0;
}

static int spill(tide_history *h);

/* The upper bound of event times: now + max_future (the clock is read again when an event is
 * past the bound computed before). */
static int64_t time_bound(tide_history *h, bool fresh)
{
    if (fresh || h->bound_us == 0)
        h->bound_us = tide__hist_now_us() + h->max_future_us;
    return h->bound_us;
}

/* The events of the current run of one day into the staging aggregator's day counts. */
static int day_flush(tide_history *h)
{
    if (h->ev_day != INT32_MIN && h->stage_events > h->ev_from)
        TIDE_CHECK(agg_day(h->stage, h->ev_day, h->stage_events - h->ev_from));
    h->ev_from = h->stage_events;
    return 0;
}

static int day_switch(tide_history *h, int32_t day)
{
    TIDE_CHECK(day_flush(h));
    h->ev_day = day;
    return 0;
}

/* An event packed for the recorder thread: this header, the file name (file_len bytes; none
 * when it is UINT32_MAX: the previous event's), the host name, then per observation its kind
 * (1 byte), length (4) and value; a kind with PACK_KEY set is followed by the history key's
 * bytes after its kind byte instead of the value's text (an address the reader parsed). */
typedef struct {
    int64_t ts;
    uint64_t line;
    uint32_t host_len, nobs, file_len, pad;
} rec_ev;

static int rec_push(tide_history *h, int op);

#define PACK_KEY 0x80u

/* The length of the history key an observation's parsed address is (after the kind byte), as
 * the matcher takes it (matcher.c, add_probes): an IPv4 address, an IPv6 one that is not
 * IPv4-mapped (that one is an IPv4 key), an IPv4 ip:port; 0: the text is encoded. The reader
 * parsed these already: the recorder thread then neither parses nor encodes them. */
static inline size_t addr_key_len(const tide_observation *o)
{
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (o->kind == TIDE_OBS_IPV4)
        return o->addr_len == 4 ? 4 : 0;
    if (o->kind == TIDE_OBS_IP_PORT)
        return o->addr_len == 6 ? 6 : 0;
    if (o->kind == TIDE_OBS_IPV6)
        return o->addr_len == 16 && memcmp(o->addr, mapped, 12) != 0 ? 16 : 0;
    return 0;
}

int tide_history_add(tide_history *h, const char *file, const tide_event *ev)
{
    if (!h->writable)
        return tide_error_set(TIDE_EINVAL, "history opened read-only");
    if (ev->nobs == 0)
        return 0;
    int64_t ts = ev->ts_us;
    if (ts == 0)
        ts = tide__hist_now_us(); /* no time in the record: when it was read */
    if (ts < 0 || (ts > time_bound(h, false) && ts > time_bound(h, true))) {
        char t[32], now[32];
        tide__time_format(ts >= 0 ? ts / 1000 : (ts - 999) / 1000, t);
        tide__time_format((h->bound_us - h->max_future_us) / 1000, now);
        t[19] = now[19] = 'Z';
        t[20] = now[20] = '\0';
        if (ts < 0)
            return tide_error_set(
                    TIDE_EFORMAT, "event time %s is before 1970: not recorded in history", t);
        return tide_error_set(TIDE_EFORMAT,
                "event time %s is more than %g day(s) after the clock (%s): not recorded in "
                "history",
                t, (double)h->max_future_us / HIST_DAY_US, now);
    }
    if (h->rt.rc)
        return tide_error_set(h->rt.rc, "%s", h->rt.err);
    /* pack it for the recorder thread: the copy is all the reader's thread pays */
    const char *fs = file ? file : "";
    size_t fl = strlen(fs);
    bool same = h->rt.last_file && strcmp(h->rt.last_file, fs) == 0;
    if (!same) {
        char *c = tide__strdup(fs);
        TIDE_CHECK_ALLOC(c);
        tide__free(h->rt.last_file);
        h->rt.last_file = c;
    }
    size_t hl = ev->host ? ev->host_len : 0;
    size_t need = sizeof(rec_ev) + (same ? 0 : fl) + hl;
    for (size_t i = 0; i < ev->nobs; i++) {
        size_t kl = addr_key_len(&ev->obs[i]);
        need += 5 + (kl ? kl : ev->obs[i].len);
    }
    tide_buf *b = &h->rt.fill;
    TIDE_CHECK(tide__buf_grow(b, need + 64));
    uint8_t *p = (uint8_t *)b->ptr + b->len;
    rec_ev e = { ts, ev->line, (uint32_t)hl, (uint32_t)ev->nobs, same ? UINT32_MAX : (uint32_t)fl,
        0 };
    memcpy(p, &e, sizeof(e));
    p += sizeof(e);
    if (!same) {
        memcpy(p, fs, fl);
        p += fl;
    }
    if (hl)
        memcpy(p, ev->host, hl);
    p += hl;
    for (size_t i = 0; i < ev->nobs; i++) {
        const tide_observation *o = &ev->obs[i];
        uint32_t kl = (uint32_t)addr_key_len(o);
        if (kl) { /* the reader's parsed address: the key itself (PACK_KEY) */
            *p = (uint8_t)(o->kind | PACK_KEY);
            memcpy(p + 1, &kl, 4);
            memcpy(p + 5, o->addr, 16); /* kl bytes of it matter */
            p += 5 + kl;
            continue;
        }
        uint32_t n = (uint32_t)o->len;
        *p = (uint8_t)o->kind;
        memcpy(p + 1, &n, 4);
        memcpy(p + 5, o->value, n);
        p += 5 + n;
    }
    b->len += need;
    if (b->len >= REC_CHUNK)
        return rec_push(h, 0);
    return 0;
}

/* The recorder thread's side of tide_history_add: one packed event (*pp, advanced past it)
 * counted into the staging aggregator, every observable once. */
static int rec_event(tide_history *h, const uint8_t **pp, tide_buf *cur_file)
{
    const uint8_t *p = *pp;
    rec_ev e;
    memcpy(&e, p, sizeof(e));
    p += sizeof(e);
    bool new_file = e.file_len != UINT32_MAX;
    if (new_file) {
        cur_file->len = 0;
        TIDE_CHECK(tide__buf_put(cur_file, p, e.file_len));
        TIDE_CHECK(tide__buf_put(cur_file, "", 1));
        cur_file->len--;
        p += e.file_len;
    }
    const char *hs = (const char *)p;
    size_t hl = e.host_len;
    p += hl;
    const uint8_t *obs = p;
    for (uint32_t i = 0; i < e.nobs; i++) {
        uint32_t n;
        memcpy(&n, p + 1, 4);
        p += 5 + n;
    }
    *pp = p;
    int64_t ts = e.ts;
    int32_t day = (int32_t)(ts / HIST_DAY_US);
    uint64_t fo = (uint64_t)(ts - (int64_t)day * HIST_DAY_US);
    if (day > AGG_DAY_MAX) /* not reached: times are bounded by the clock (max_future) */
        return tide_error_set(TIDE_EFORMAT, "history: event day %d out of range", (int)day);
    if (!h->have_host || hl != h->last_host_len || memcmp(hs, h->last_host, hl) != 0) {
        TIDE_CHECK(names_id(&h->hosts, hs, hl, &h->last_host_id));
        h->have_host = hl < sizeof(h->last_host);
        if (h->have_host) {
            memcpy(h->last_host, hs, hl);
            h->last_host_len = hl;
        }
    }
    if (!h->have_file || new_file) {
        TIDE_CHECK(names_id(
                &h->files, cur_file->ptr ? cur_file->ptr : "", cur_file->len, &h->last_file_id));
        h->have_file = true;
    }
    uint32_t host = h->last_host_id, fid = h->last_file_id;
    uint8_t key[HIST_MAX_KEY];
    /* one count per event: skip an observable the event already named */
    uint64_t seen[64];
    size_t nseen = 0;
    p = obs;
    for (uint32_t i = 0; i < e.nobs; i++) {
        uint32_t len;
        memcpy(&len, p + 1, 4);
        int n;
        if (p[0] & PACK_KEY) {
            key[0] = (uint8_t)(p[0] & ~PACK_KEY);
            memcpy(key + 1, p + 5, len);
            n = (int)len + 1;
        } else {
            n = tide__hist_key((tide_obs_kind)p[0], (const char *)p + 5, len, key);
        }
        p += 5 + len;
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
        TIDE_CHECK(ring_put(h, key, (size_t)n, kh, day, host, fo, fid, e.line));
    }
    if (nseen) {
        if (day != h->ev_day) /* events per day: counted by day runs (day_flush) */
            TIDE_CHECK(day_switch(h, day));
        h->stage_events++;
    }
    if (h->stage->nents + h->kept->nents >= h->spill || agg_bytes(h) >= h->spill_bytes)
        TIDE_CHECK(spill(h));
    return 0;
}

/* Remove what came after a's mark: the entries and key bytes above it, the saved values of the
 * entries below it counted again (restored), the wide records of entries no longer wide. The
 * table is not touched (the caller rebuilds or clears it). */
static void agg_undo(agg *a)
{
    for (size_t i = a->nlog; i > 0; i--) {
        const struct undo *u = &a->log[i - 1];
        agg_ent *e = &a->ents[u->idx];
        e->count = u->count;
        e->file = u->file;
        e->fl = u->fl;
        e->ll = u->ll;
        if (u->count == AGG_WIDE) {
            agg_wide *w = wide_find(a, u->idx);
            w->count = u->wcount;
            w->line = u->wline;
        }
        a->logged[u->idx >> 6] &= ~(UINT64_C(1) << (u->idx & 63));
    }
    a->nlog = 0;
    a->nents = a->mark;
    a->keys.len = a->keys_mark;
    size_t k = 0;
    for (size_t i = 0; i < a->nwide; i++)
        if (a->wide[i].idx < a->nents && a->ents[a->wide[i].idx].count == AGG_WIDE)
            a->wide[k++] = a->wide[i];
    a->nwide = k;
}

/* The table of a built again from its entries (by their tags: no key is hashed). */
static void table_rebuild(agg *a)
{
    if (a->table == NULL)
        return;
    memset(a->table, 0, a->tcap * sizeof(agg_slot));
    a->table_clear = false;
    size_t mask = a->tcap - 1;
    for (size_t i = 0; i < a->nents; i++) {
        size_t s = slot_home(a->ents[i].tag, a->tlg);
        while (a->table[s].idx)
            s = (s + 1) & mask;
        a->table[s].idx = (uint32_t)i + 1;
        a->table[s].tag = a->ents[i].tag;
    }
}

/* Append an entry to a (no table: an aggregator that is only spilled, whose entries are
 * distinct), as e of src with count and line. */
static int agg_append(const tide_history *h, agg *a, const agg *src, const agg_ent *e,
        uint64_t count, uint64_t line)
{
    size_t n = ent_key_len(e);
    if (a->nents >= UINT32_MAX - 1 || a->keys.len + n > UINT32_MAX)
        return tide_error_set(TIDE_ETOOBIG, "history aggregator full");
    if (a->nents == a->capents)
        TIDE_CHECK(grow_big(
                (void **)&a->ents, &a->capents, &a->ents_map, a->nents + 1, sizeof(agg_ent)));
    if (a->keys.len + n >= a->keys.cap) {
        size_t kc = a->keys.cap;
        TIDE_CHECK(grow_big((void **)&a->keys.ptr, &kc, &a->keys_map, a->keys.len + n + 1, 1));
        a->keys.cap = kc;
    }
    agg_ent *d = &a->ents[a->nents];
    *d = *e;
    d->key_off = (uint32_t)a->keys.len;
    memcpy(a->keys.ptr + a->keys.len, src->keys.ptr + e->key_off, n);
    a->keys.len += n;
    d->fl &= AGG_OFF_MASK;
    d->ll &= AGG_OFF_MASK;
    a->nents++;
    if (count <= h->count_cap && line <= AGG_LINE_MAX) {
        d->count = (uint32_t)count;
        ent_set_line(d, line);
        return 0;
    }
    d->count = 0;
    return ent_widen(a, d, count, line);
}

/* Move what came after the kept aggregator's mark into the staging aggregator (empty of
 * entries), as the staging aggregator alone would have counted it, and undo it in the kept one
 * (its table cleared: the spill that calls this empties it). An entry counted before and after
 * the mark goes to the staging aggregator with the count added since and its first, last and
 * place as they are now: merged with the kept run by the commit's compaction, that is the
 * record both counts make. The entries are distinct (an entry is above the mark or below it),
 * and the staging aggregator is spilled next, never looked up: they are appended, not hashed
 * (re-hashing them into a table of their own was a second of a reference import's 22 CPU-s, and
 * that table's pages). */
static int stage_split(tide_history *h)
{
    agg *a = h->kept, *s = h->stage;
    if (a->nents == a->mark && a->nlog == 0)
        return 0;
    if (a->mark == 0 && a->nlog == 0 && s->nents == 0 && s->nwide == 0) {
        /* Everything the kept aggregator holds came since the last keep (an input bigger than
         * the memory bound: every spill of it after its first): its entries are the staged
         * ones as they are, in the same order. The two trade their entries, keys and wide
         * records instead of copying them all (on a 400 MB EVE file with spills forced at
         * 48 MiB, 5-10 % of the import's wall); the table stays with the kept aggregator (the
         * staging one is only spilled, never looked up), cleared, and the events per day
         * stay with their roles. The pager's requests were for the kept aggregator's arrays,
         * which change hands: fenced as before a mapping moves. */
        pager_fence(h->pager);
        agg t = *a;
        *a = *s;
        *s = t;
#define KEEP_ROLE(type, f)                                                                         \
    do {                                                                                           \
        type v_ = a->f;                                                                            \
        a->f = s->f;                                                                               \
        s->f = v_;                                                                                 \
    } while (0)
        KEEP_ROLE(agg_slot *, table);
        KEEP_ROLE(size_t, tcap);
        KEEP_ROLE(unsigned, tlg);
        KEEP_ROLE(size_t, ext_at);
        KEEP_ROLE(size_t, table_map);
        KEEP_ROLE(bool, table_clear);
        KEEP_ROLE(struct dayev *, dayev);
        KEEP_ROLE(size_t, ndayev);
        KEEP_ROLE(size_t, capdayev);
#undef KEEP_ROLE
        a->mark = a->keys_mark = 0;
        s->mark = s->keys_mark = 0;
        s->table_clear = true; /* whatever table it has holds no slot of these entries */
        if (a->table && !a->table_clear) {
            memset(a->table, 0, a->tcap * sizeof(agg_slot));
            a->table_clear = true;
        }
        return 0;
    }
    for (size_t i = a->mark; i < a->nents; i++) {
        const agg_ent *e = &a->ents[i];
        TIDE_CHECK(agg_append(h, s, a, e, ent_count(a, e), ent_line(a, e)));
    }
    for (size_t i = 0; i < a->nlog; i++) {
        const struct undo *u = &a->log[i];
        const agg_ent *e = &a->ents[u->idx];
        uint64_t before = u->count == AGG_WIDE ? u->wcount : u->count;
        TIDE_CHECK(agg_append(h, s, a, e, ent_count(a, e) - before, ent_line(a, e)));
    }
    s->table_clear = true; /* its table (if any) holds no slot: agg_reset leaves it */
    agg_undo(a);
    if (a->table) {
        memset(a->table, 0, a->tcap * sizeof(agg_slot));
        a->table_clear = true;
    }
    return 0;
}

/* Keep what came since the last keep: the kept aggregator's mark moves up to what it holds, the
 * day counts of the staging one are folded into it. No entry moves. */
static int keep_now(tide_history *h)
{
    TIDE_CHECK(ring_flush(h));
    TIDE_CHECK(day_flush(h));
    for (size_t i = 0; i < h->npend; i++)
        h->pend[i].staged = false;
    h->added_events += h->stage_events;
    h->stage_events = 0;
    h->ev_from = 0;
    agg *a = h->kept, *s = h->stage;
    for (size_t i = 0; i < s->ndayev; i++)
        TIDE_CHECK(agg_day(a, s->dayev[i].day, s->dayev[i].n));
    s->ndayev = 0;
    for (size_t i = 0; i < a->nlog; i++)
        a->logged[a->log[i].idx >> 6] &= ~(UINT64_C(1) << (a->log[i].idx & 63));
    a->nlog = 0;
    size_t words = (a->nents + 63) / 64;
    if (words > a->caplogged) { /* a bit for every kept entry (zeroed) */
        size_t c = a->caplogged ? a->caplogged : 64;
        while (c < words)
            c *= 2;
        uint64_t *n = tide__realloc(a->logged, c * sizeof(uint64_t));
        TIDE_CHECK_ALLOC(n);
        memset(n + a->caplogged, 0, (c - a->caplogged) * sizeof(uint64_t));
        a->logged = n;
        a->caplogged = c;
    }
    a->mark = a->nents;
    a->keys_mark = a->keys.len;
    return 0;
}

static void discard_now(tide_history *h, uint64_t *out_events)
{
    h->rcount = 0; /* what waits in the ring came after the last keep */
    h->rhead = 0;
    uint64_t events = h->stage_events;
    h->stage_events = 0;
    h->ev_from = 0;
    h->ev_day = INT32_MIN;
    char p[4096];
    size_t k = 0;
    for (size_t i = 0; i < h->npend; i++) {
        if (h->pend[i].staged) {
            pend_path(h, &h->pend[i], p, sizeof(p));
            unlink(p);
        } else {
            h->pend[k++] = h->pend[i];
        }
    }
    h->npend = k;
    agg *a = h->kept;
    bool added = a->nents > a->mark;
    agg_undo(a);
    if (added) /* slots of removed entries may sit in the probe path of kept ones */
        table_rebuild(a);
    agg_reset(h->stage);
    *out_events = events;
}

/* ---- the recorder thread ----
 *
 * tide_history_add only checks the event's time and packs the event (host, file, observed
 * values) into a chunk; full chunks go through a bounded queue (REC_JOBS jobs of REC_CHUNK
 * bytes) to a thread of the history's own, which encodes the keys, aggregates, and spills sorted
 * runs when the memory bound is reached, while the caller's thread reads and matches the next
 * events. keep, discard and commit are jobs of the same queue, so the thread does exactly what
 * the caller's thread did before, in the same order, and the history is the same. discard and
 * commit wait until the thread has done everything queued. An error of the thread is kept and
 * returned by the next add, keep, discard or commit. Without a thread (pthread_create failed)
 * the jobs run in the caller's thread. The thread is joined by tide_history_free.
 */

enum {
    REC_DATA,
    REC_KEEP,
    REC_DISCARD,
    REC_SPILL,
    REC_QUIT
};

/* One job: its packed events, then its operation. */
static void rec_run(tide_history *h, struct rec_job *j, tide_buf *cur_file)
{
    int rc = atomic_load(&h->rt.rc);
    const uint8_t *p = (const uint8_t *)j->data.ptr, *end = p + j->data.len;
    while (rc == 0 && p < end)
        rc = rec_event(h, &p, cur_file);
    if (rc == 0) {
        if (j->op == REC_KEEP)
            rc = keep_now(h);
        else if (j->op == REC_DISCARD)
            discard_now(h, &h->rt.discarded);
        else if (j->op == REC_SPILL && (rc = keep_now(h)) == 0)
            rc = spill(h); /* sorted and written before the commit takes the lock */
    }
    atomic_store_explicit(&h->rt.events, h->added_events + h->stage_events, memory_order_relaxed);
    if (rc < 0 && atomic_load(&h->rt.rc) == 0) {
        snprintf(h->rt.err, sizeof(h->rt.err), "%s", tide_error_last());
        atomic_store(&h->rt.rc, rc);
    }
}

static void *rec_main(void *arg)
{
    tide_history *h = arg;
    struct rec_thread *t = &h->rt;
    tide_buf cur_file = TIDE_BUF_INIT;
    for (bool quit = false; !quit;) {
        pthread_mutex_lock(&t->mu);
        while (t->count == 0)
            pthread_cond_wait(&t->more, &t->mu);
        struct rec_job *j = &t->q[t->head];
        pthread_mutex_unlock(&t->mu);
        quit = j->op == REC_QUIT;
        if (!quit)
            rec_run(h, j, &cur_file);
        pthread_mutex_lock(&t->mu);
        j->data.len = 0;
        t->head = (t->head + 1) % REC_JOBS;
        t->count--;
        pthread_cond_broadcast(&t->room);
        pthread_mutex_unlock(&t->mu);
    }
    tide__buf_free(&cur_file);
    return NULL;
}

/* Queue the packed events and op (REC_DATA: the events only). */
static int rec_push(tide_history *h, int op)
{
    struct rec_thread *t = &h->rt;
    if (op == REC_DATA && t->fill.len == 0)
        return 0;
    if (!t->started && !t->failed_start) {
        if (pthread_mutex_init(&t->mu, NULL) != 0) {
            t->failed_start = true;
        } else if (pthread_cond_init(&t->more, NULL) != 0) {
            pthread_mutex_destroy(&t->mu);
            t->failed_start = true;
        } else if (pthread_cond_init(&t->room, NULL) != 0) {
            pthread_cond_destroy(&t->more);
            pthread_mutex_destroy(&t->mu);
            t->failed_start = true;
        } else {
            /* the thread blocks every signal: a SIGINT or SIGTERM must reach the caller's
             * thread (and interrupt its blocking read), never this one */
            sigset_t all, old;
            sigfillset(&all);
            pthread_sigmask(SIG_SETMASK, &all, &old);
            /* the recorder's pager, beside it (started first: the recorder reads h->pager) */
            h->pager = tide__hist_threads() > 1 ? pager_start() : NULL;
            int cr = pthread_create(&t->tid, NULL, rec_main, h);
            if (cr != 0) {
                pager_stop(h->pager);
                h->pager = NULL;
            }
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            if (cr != 0) {
                pthread_cond_destroy(&t->room);
                pthread_cond_destroy(&t->more);
                pthread_mutex_destroy(&t->mu);
                t->failed_start = true;
            } else {
                t->started = true;
            }
        }
    }
    if (!t->started) { /* no thread: the job runs here */
        struct rec_job j = { op, t->fill };
        if (op != REC_QUIT)
            rec_run(h, &j, &t->inline_file);
        t->fill = j.data;
        t->fill.len = 0;
    } else {
        pthread_mutex_lock(&t->mu);
        while (t->count == REC_JOBS)
            pthread_cond_wait(&t->room, &t->mu);
        struct rec_job *j = &t->q[(t->head + t->count) % REC_JOBS];
        tide_buf b = j->data; /* the slot's emptied buffer becomes the next fill */
        j->data = t->fill;
        j->op = op;
        t->fill = b;
        t->fill.len = 0;
        t->count++;
        pthread_cond_signal(&t->more);
        pthread_mutex_unlock(&t->mu);
    }
    int rc = atomic_load(&t->rc);
    return rc ? tide_error_set(rc, "%s", t->err) : 0;
}

/* Wait until the thread has done every job queued; its first error, if any. */
static int rec_wait(tide_history *h)
{
    struct rec_thread *t = &h->rt;
    if (t->started) {
        pthread_mutex_lock(&t->mu);
        while (t->count > 0)
            pthread_cond_wait(&t->room, &t->mu);
        pthread_mutex_unlock(&t->mu);
    }
    int rc = atomic_load(&t->rc);
    return rc ? tide_error_set(rc, "%s", t->err) : 0;
}

/* Stop and join the thread (what is queued is dropped). */
static void rec_stop(tide_history *h)
{
    struct rec_thread *t = &h->rt;
    if (t->started) {
        t->fill.len = 0;
        rec_push(h, REC_QUIT);
        pthread_join(t->tid, NULL);
        pthread_cond_destroy(&t->room);
        pthread_cond_destroy(&t->more);
        pthread_mutex_destroy(&t->mu);
        t->started = false;
    }
    pager_stop(h->pager);
    h->pager = NULL;
    for (size_t i = 0; i < REC_JOBS; i++)
        tide__buf_free(&t->q[i].data);
    tide__buf_free(&t->fill);
    tide__buf_free(&t->inline_file);
    tide__free(t->last_file);
    t->last_file = NULL;
}

int tide_history_keep(tide_history *h)
{
    if (!h->writable)
        return 0;
    return rec_push(h, REC_KEEP);
}

int tide_history_discard(tide_history *h, uint64_t *out_events)
{
    if (out_events)
        *out_events = 0;
    if (!h->writable)
        return 0;
    h->rt.discarded = 0;
    int rc = rec_push(h, REC_DISCARD);
    if (rc == 0)
        rc = rec_wait(h);
    if (out_events)
        *out_events = h->rt.discarded;
    return rc;
}

/* ---- sorting a spill: by (day, key, host name) ---- */

/* 16 bytes, so that the aggregator's own table (at most half full: 16 bytes per entry) holds
 * the radix sort's second array: fresh pages cost more than anything else here (on this kind
 * of VM the first write of a page costs the kernel's zeroing and the host's fault) */
typedef struct {
    uint64_t pfx; /* the key's first 8 bytes, big-endian, zero-padded */
    uint32_t idx;
    uint32_t day; /* the entry's day ^ 0x80000000 (ordered as unsigned) */
} sort_ent;

typedef struct {
    const agg_ent *ents;
    const uint8_t *keys;
    const uint32_t *rank; /* host id -> rank of its name */
} sort_ctx;

static inline int sort_cmp(const sort_ctx *c, const sort_ent *a, const sort_ent *b)
{
    if (a->day != b->day)
        return a->day < b->day ? -1 : 1;
    if (a->pfx != b->pfx)
        return a->pfx < b->pfx ? -1 : 1;
    const agg_ent *x = &c->ents[a->idx], *y = &c->ents[b->idx];
    int r = tide__hist_keycmp(
            c->keys + x->key_off, ent_key_len(x), c->keys + y->key_off, ent_key_len(y));
    if (r)
        return r;
    uint32_t hx = c->rank[x->host], hy = c->rank[y->host];
    return hx < hy ? -1 : hx > hy;
}

static void sort_swap(sort_ent *a, sort_ent *b)
{
    sort_ent t = *a;
    *a = *b;
    *b = t;
}

/* quicksort (median of three, smaller side first) with insertion sort for short ranges: the
 * comparison inlined, which qsort cannot do */
static void sort_ents(const sort_ctx *c, sort_ent *v, size_t n)
{
    while (n > 16) {
        size_t m = n / 2;
        if (sort_cmp(c, &v[m], &v[0]) < 0)
            sort_swap(&v[m], &v[0]);
        if (sort_cmp(c, &v[n - 1], &v[m]) < 0) {
            sort_swap(&v[n - 1], &v[m]);
            if (sort_cmp(c, &v[m], &v[0]) < 0)
                sort_swap(&v[m], &v[0]);
        }
        sort_ent p = v[m];
        size_t i = 0, j = n - 1;
        for (;;) {
            while (sort_cmp(c, &v[i], &p) < 0)
                i++;
            while (sort_cmp(c, &p, &v[j]) < 0)
                j--;
            if (i >= j)
                break;
            sort_swap(&v[i], &v[j]);
            i++;
            j--;
        }
        size_t left = j + 1; /* [0, j] <= p <= [j + 1, n) */
        if (left < n - left) {
            sort_ents(c, v, left);
            v += left;
            n -= left;
        } else {
            sort_ents(c, v + left, n - left);
            n = left;
        }
    }
    for (size_t i = 1; i < n; i++) {
        sort_ent t = v[i];
        size_t j = i;
        while (j > 0 && sort_cmp(c, &t, &v[j - 1]) < 0) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = t;
    }
}

/* The byte d of an entry's (day, key prefix): 0-7 the prefix (7 the most significant), 8-11
 * the day. */
static inline unsigned sort_byte(const sort_ent *e, int d)
{
    return d < 8 ? (unsigned)(e->pfx >> (8 * d)) & 255u
                 : (unsigned)(e->day >> (8 * (d - 8))) & 255u;
}

#define MSD_SMALL 48 /* shorter ranges go to sort_ents */

/* One pass of the American flag sort: v's entries into 256 buckets by their byte d, in place
 * (cnt[b]: how many in bucket b, counted by the caller). */
static void msd_partition(sort_ent *v, const size_t cnt[256], int d)
{
    size_t next[256], end[256], sum = 0;
    for (int b = 0; b < 256; b++) {
        next[b] = sum;
        sum += cnt[b];
        end[b] = sum;
    }
    for (unsigned b = 0; b < 256; b++) {
        while (next[b] < end[b]) {
            sort_ent x = v[next[b]];
            unsigned xb = sort_byte(&x, d);
            while (xb != b) { /* x to its bucket, what was there in hand */
                sort_ent t = v[next[xb]];
                v[next[xb]++] = x;
                x = t;
                xb = sort_byte(&x, d);
            }
            v[next[b]++] = x;
        }
    }
}

/* The digits of v that are the same in every entry skipped (dig and nd advanced); false when
 * none is left. cnt: the counts of the first that differs. */
static bool msd_digit(const sort_ent *v, size_t n, const int **dig, int *nd, size_t cnt[256])
{
    for (; *nd > 0; (*dig)++, (*nd)--) {
        memset(cnt, 0, 256 * sizeof(size_t));
        for (size_t i = 0; i < n; i++)
            cnt[sort_byte(&v[i], (*dig)[0])]++;
        if (cnt[sort_byte(&v[0], (*dig)[0])] != n)
            return true;
    }
    return false;
}

/* Sort by (day, key prefix) with an in-place MSD radix sort (American flag sort) of the digits
 * dig[0..nd) (most significant first: only those whose byte differs somewhere), then each range
 * of equal (day, prefix), and every range shorter than MSD_SMALL, with sort_ents (whole key, host
 * rank). The order is total ((day, key, host) are distinct in an aggregator), so it is the order
 * sort_ents alone gives. In place: the sort needs no second array (fresh pages cost more than
 * anything else here), so its array can be the aggregator's own table. */
static void sort_msd(const sort_ctx *c, sort_ent *v, size_t n, const int *dig, int nd)
{
    size_t cnt[256];
    if (n <= MSD_SMALL || !msd_digit(v, n, &dig, &nd, cnt)) {
        if (n > 1)
            sort_ents(c, v, n);
        return;
    }
    msd_partition(v, cnt, dig[0]);
    size_t start = 0;
    for (int b = 0; b < 256; b++) {
        if (cnt[b] > 1)
            sort_msd(c, v + start, cnt[b], dig + 1, nd - 1);
        start += cnt[b];
    }
}

/* ---- the sort on two threads ----
 *
 * The commit's final spill sorts while the reading thread waits, its core idle. The sort is a
 * pool of ranges that both threads take from: a range of more than a grain (1/64 of the
 * entries) is split by a radix pass into its buckets, which go back to the pool (the biggest
 * taken first), a smaller one is sorted by sort_msd. Only the first pass, over all the entries,
 * runs on one thread (the top passes of the earlier version all did: a tenth of the final
 * spill on the acceptance corpus). Ranges, not halves: what a range costs depends on its keys
 * (an address is sorted by the radix alone, names sharing long prefixes go to the comparison
 * sort), so equal counts would not be equal work. Every pass works in place on its own range,
 * so the order is the one sort_msd gives, whatever thread did what. */
typedef struct {
    sort_ent *v;
    size_t n;
    const int *dig;
    int nd;
} sort_task;

typedef struct {
    const sort_ctx *c;
    size_t grain;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sort_task *t; /* ranges waiting, the biggest last */
    size_t nt, cap;
    size_t active; /* ranges waiting or in hand */
} sort_pool;

static int cmp_task_size(const void *a, const void *b)
{
    size_t x = ((const sort_task *)a)->n, y = ((const sort_task *)b)->n;
    return x < y ? -1 : x > y ? 1 : 0;
}

/* Split k by its first byte that differs; its buckets of more than one entry into kids (n of
 * them). false when k is to be sorted instead. */
static bool sort_task_split(const sort_pool *p, sort_task k, sort_task kids[256], size_t *n)
{
    size_t cnt[256];
    const int *dig = k.dig;
    int nd = k.nd;
    *n = 0;
    if (k.n <= p->grain || k.n <= MSD_SMALL || !msd_digit(k.v, k.n, &dig, &nd, cnt))
        return false;
    msd_partition(k.v, cnt, dig[0]);
    size_t start = 0;
    for (int b = 0; b < 256; b++) {
        if (cnt[b] > 1)
            kids[(*n)++] = (sort_task){ k.v + start, cnt[b], dig + 1, nd - 1 };
        start += cnt[b];
    }
    qsort(kids, *n, sizeof(sort_task), cmp_task_size);
    return true;
}

static void *sort_pool_run(void *arg)
{
    sort_pool *p = arg;
    sort_task kids[256];
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->nt == 0 && p->active > 0)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->nt == 0)
            break;
        sort_task k = p->t[--p->nt];
        pthread_mutex_unlock(&p->mu);
        size_t nk = 0;
        if (!sort_task_split(p, k, kids, &nk))
            sort_msd(p->c, k.v, k.n, k.dig, k.nd);
        pthread_mutex_lock(&p->mu);
        if (nk && grow((void **)&p->t, &p->cap, p->nt + nk, sizeof(sort_task)) < 0) {
            pthread_mutex_unlock(&p->mu); /* out of memory: sorted here */
            for (size_t i = 0; i < nk; i++)
                sort_msd(p->c, kids[i].v, kids[i].n, kids[i].dig, kids[i].nd);
            pthread_mutex_lock(&p->mu);
            nk = 0;
        }
        memcpy(p->t + p->nt, kids, nk * sizeof(sort_task));
        p->nt += nk;
        p->active += nk;
        p->active--;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Below this many entries a sort takes one thread (a thread's start costs more). */
#define SORT_TWO_MIN (64u << 10)

/* sort_msd on two threads (one when there are few entries, or no second thread). */
static void sort_two(const sort_ctx *c, sort_ent *v, size_t n, const int *dig, int nd)
{
    sort_pool p = { .c = c, .grain = n / 64 };
    if (n < SORT_TWO_MIN || tide__hist_threads() < 2 ||
            grow((void **)&p.t, &p.cap, 1, sizeof(sort_task)) < 0) {
        sort_msd(c, v, n, dig, nd);
        return;
    }
    if (pthread_mutex_init(&p.mu, NULL) != 0) {
        tide__free(p.t);
        sort_msd(c, v, n, dig, nd);
        return;
    }
    if (pthread_cond_init(&p.cv, NULL) != 0) {
        pthread_mutex_destroy(&p.mu);
        tide__free(p.t);
        sort_msd(c, v, n, dig, nd);
        return;
    }
    p.t[p.nt++] = (sort_task){ v, n, dig, nd };
    p.active = 1;
    pthread_t tid;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    bool started = pthread_create(&tid, NULL, sort_pool_run, &p) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    sort_pool_run(&p);
    if (started)
        pthread_join(tid, NULL);
    pthread_cond_destroy(&p.cv);
    pthread_mutex_destroy(&p.mu);
    tide__free(p.t);
}

static const names *rank_names; /* qsort has no payload; the writer is single-threaded */

static int cmp_name_id(const void *a, const void *b)
{
    return strcmp(names_get(rank_names, *(const uint32_t *)a),
            names_get(rank_names, *(const uint32_t *)b));
}

/* The names the run of one day uses, marked (0) in hid (by host rank) and fid (by file id),
 * the others UINT32_MAX. v: the sorted entries from the day's first on. by_day: the aggregator
 * holds more than one day, so the marks of the whole aggregator (set by the caller) are made
 * again from the day's entries alone. */
static void run_names(const agg *a, const sort_ent *v, size_t n, const uint32_t *rank,
        uint32_t *hid, size_t nh, uint32_t *fid, size_t nf, bool by_day)
{
    if (!by_day)
        return;
    memset(hid, 0xff, (nh ? nh : 1) * sizeof(uint32_t));
    memset(fid, 0xff, (nf ? nf : 1) * sizeof(uint32_t));
    for (size_t i = 0; i < n && v[i].day == v[0].day; i++) {
        if (i + 16 < n)
            __builtin_prefetch(&a->ents[v[i + 16].idx]);
        const agg_ent *e = &a->ents[v[i].idx];
        hid[rank[e->host]] = 0;
        fid[e->file] = 0;
    }
}

/* The marked names (run_names) numbered in their order, into out: map[i] becomes the id of
 * name i in the run (the host ranks stay in name order, as the writer's dictionary wants). */
static void run_dict(
        uint32_t *map, size_t n, const char *const *all, const char **out, uint32_t *out_n)
{
    uint32_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (map[i] != UINT32_MAX) {
            out[k] = all[i];
            map[i] = k++;
        }
    *out_n = k;
}

/* Write aggregator a as one run per day, pending until commit (staged: from the staging
 * aggregator); a is emptied. The names stay (the other aggregator may use them). */
/* What spill_fill_cb encodes: the sorted entries of one day, their ids in the run. */
typedef struct {
    const agg *a;
    const sort_ent *ord;
    const uint8_t *keys;
    const uint32_t *hid, *rank, *fid;
} spill_fill;

/* The entries [from, to) of a day's sorted range as records (tide__hist_writer_fill; on any of
 * the writer's threads: it only reads the aggregator). */
static int spill_fill_cb(void *ctx, size_t from, size_t to, hist_chunk *c)
{
    const spill_fill *f = ctx;
    const agg *a = f->a;
    for (size_t i = from; i < to; i++) {
        if (i + 16 < to) { /* sorted order is random in memory: fetch ahead */
            const agg_ent *far = &a->ents[f->ord[i + 16].idx];
            __builtin_prefetch(far);
            __builtin_prefetch((const char *)(far + 1) - 1); /* 40 bytes: may span two lines */
            const agg_ent *near = &a->ents[f->ord[i + 8].idx];
            __builtin_prefetch(f->keys + near->key_off);
        }
        const agg_ent *e = &a->ents[f->ord[i].idx];
        TIDE_CHECK(tide__hist_chunk_add(c, f->keys + e->key_off, ent_key_len(e),
                f->hid[f->rank[e->host]], ent_first(e), ent_last(e), ent_count(a, e),
                f->fid[e->file], ent_line(a, e)));
    }
    return 0;
}

static int spill_agg(tide_history *h, agg *a, bool staged, agg *spare)
{
    if (a->nents == 0)
        return 0;
    size_t nh = h->hosts.n, nf = h->files.n;
    size_t omap = 0;
    /* the sort's array in memory written already when there is room: this aggregator's table
     * (at most half full: 16 bytes per entry; agg_reset clears it after), or the entries of the
     * other aggregator when it is empty */
    bool in_table = a->table && a->nents >= a->tcap / 16 &&
                    a->tcap * sizeof(agg_slot) >= a->nents * sizeof(sort_ent);
    bool in_spare = !in_table && spare && spare->nents == 0 &&
                    spare->capents * sizeof(agg_ent) >= a->nents * sizeof(sort_ent);
    sort_ent *ord = in_table   ? (sort_ent *)(void *)a->table
                    : in_spare ? (sort_ent *)(void *)spare->ents
                               : big_zalloc(a->nents * sizeof(sort_ent), &omap);
    bool own_ord = !in_table && !in_spare;
    if (in_table)
        a->table_clear = false; /* its slots are overwritten: cleared by agg_reset */
    uint32_t *byname = tide__malloc((nh ? nh : 1) * sizeof(uint32_t));
    uint32_t *rank = tide__malloc((nh ? nh : 1) * sizeof(uint32_t));
    const char **hnames = tide__malloc((nh ? nh : 1) * sizeof(char *));
    const char **fnames = tide__malloc((nf ? nf : 1) * sizeof(char *));
    /* a run's dictionary holds the names its records use, not every name the writer knows:
     * an import of many days wrote each day's run with every host and file of all of them
     * (two thirds of the history of the real logs in ../shared/data were such names) */
    uint32_t *hid = tide__malloc((nh ? nh : 1) * sizeof(uint32_t)); /* rank -> id in the run */
    uint32_t *fid = tide__malloc((nf ? nf : 1) * sizeof(uint32_t)); /* file -> id in the run */
    const char **rh = tide__malloc((nh ? nh : 1) * sizeof(char *));
    const char **rf = tide__malloc((nf ? nf : 1) * sizeof(char *));
    int rc = 0;
    if (ord == NULL || byname == NULL || rank == NULL || hnames == NULL || fnames == NULL ||
            hid == NULL || fid == NULL || rh == NULL || rf == NULL) {
        rc = tide_error_set(TIDE_ENOMEM, "out of memory");
        goto out;
    }
    /* hosts by name: the writer's dictionary is in that order, so a host's id is its rank */
    for (size_t i = 0; i < nh; i++)
        byname[i] = (uint32_t)i;
    rank_names = &h->hosts;
    if (nh > 1)
        qsort(byname, nh, sizeof(uint32_t), cmp_name_id);
    rank_names = NULL;
    for (size_t i = 0; i < nh; i++) {
        rank[byname[i]] = (uint32_t)i;
        hnames[i] = names_get(&h->hosts, byname[i]);
    }
    for (size_t i = 0; i < nf; i++)
        fnames[i] = names_get(&h->files, (uint32_t)i);
    const uint8_t *keys = (const uint8_t *)a->keys.ptr;
    memset(hid, 0xff, (nh ? nh : 1) * sizeof(uint32_t)); /* UINT32_MAX: not used */
    memset(fid, 0xff, (nf ? nf : 1) * sizeof(uint32_t));
    uint64_t p_or = 0, p_and = ~(uint64_t)0;
    uint32_t d_or = 0, d_and = ~(uint32_t)0;
    for (size_t i = 0; i < a->nents; i++) {
        const agg_ent *e = &a->ents[i];
        uint64_t pfx = 0;
        if (ent_key_len(e) >= 8) {
            memcpy(&pfx, keys + e->key_off, 8);
        } else {
            uint8_t p[8] = { 0 };
            memcpy(p, keys + e->key_off, ent_key_len(e));
            memcpy(&pfx, p, 8);
        }
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        pfx = __builtin_bswap64(pfx); /* big-endian: the first byte is the most significant */
#endif
        uint32_t dv = (uint32_t)ent_day(e) ^ 0x80000000u;
        p_or |= pfx;
        p_and &= pfx;
        d_or |= dv;
        d_and &= dv;
        ord[i] = (sort_ent){ pfx, (uint32_t)i, dv };
        hid[rank[e->host]] = 0; /* used (by some day: a day's own are marked below) */
        fid[e->file] = 0;
    }
    sort_ctx sc = { a->ents, keys, rank };
    /* the digits whose byte differs somewhere, most significant first (the day's, then the
     * prefix's) */
    uint64_t pdiff = p_or ^ p_and;
    uint32_t ddiff = d_or ^ d_and;
    int dig[12], nd = 0;
    for (int d = 11; d >= 8; d--)
        if ((ddiff >> (8 * (d - 8))) & 255u)
            dig[nd++] = d;
    for (int d = 7; d >= 0; d--)
        if ((pdiff >> (8 * d)) & 255u)
            dig[nd++] = d;
    sort_two(&sc, ord, a->nents, dig, nd);
    /* one run per day: its range of the sorted entries, encoded and compressed on every core */
    size_t rec_bytes = a->keys.len / a->nents + 16; /* a record's encoded size, about */
    spill_fill sf = { a, ord, keys, hid, rank, fid };
    char path[4096];
    for (size_t i = 0, j; rc == 0 && i < a->nents; i = j) {
        for (j = i + 1; j < a->nents && ord[j].day == ord[i].day;)
            j++;
        run_ent cur = { 0 };
        cur.day = (int32_t)ent_day(&a->ents[ord[i].idx]);
        cur.ev = agg_day_events(a, cur.day);
        cur.seq = ++h->spill_no;
        cur.staged = staged;
        pend_path(h, &cur, path, sizeof(path));
        hist_writer *w = NULL;
        rc = tide__hist_writer_new(&w, path, cur.day);
        if (rc < 0)
            break;
        uint32_t nrh, nrf;
        run_names(a, ord + i, a->nents - i, rank, hid, nh, fid, nf, d_or != d_and);
        run_dict(hid, nh, hnames, rh, &nrh);
        run_dict(fid, nf, fnames, rf, &nrf);
        rc = tide__hist_writer_names(w, rh, nrh, rf, nrf);
        sf.ord = ord + i;
        if (rc == 0)
            rc = tide__hist_writer_fill(w, j - i, rec_bytes, spill_fill_cb, &sf, &cur.events);
        if (rc < 0) {
            tide__hist_writer_abort(w);
            break;
        }
        rc = tide__hist_writer_close(w, &cur.bytes, &cur.nrec);
        if (rc == 0)
            rc = grow((void **)&h->pend, &h->cappend, h->npend + 1, sizeof(run_ent));
        if (rc == 0)
            h->pend[h->npend++] = cur;
    }
out:
    if (own_ord)
        big_free(ord, omap);
    tide__free(byname);
    tide__free(rank);
    tide__free(hnames);
    tide__free(fnames);
    tide__free(hid);
    tide__free(fid);
    tide__free(rh);
    tide__free(rf);
    agg_reset(a);
    return rc;
}

/* Write both aggregators as pending runs and empty them (and the names). */
static int spill(tide_history *h)
{
    TIDE_CHECK(ring_flush(h));
    TIDE_CHECK(day_flush(h));
    size_t bytes = agg_bytes(h);
    if (bytes > h->peak_bytes)
        h->peak_bytes = bytes;
    int rc = stage_split(h);
    if (rc == 0)
        rc = spill_agg(h, h->kept, false, h->stage);
    if (rc == 0)
        rc = spill_agg(h, h->stage, true, h->kept);
    if (rc < 0)
        return rc;
    names_free(&h->hosts);
    names_free(&h->files);
    h->have_host = h->have_file = false;
    return 0;
}

/* ---- compaction and pruning ---- */

static int cmp_run(const void *a, const void *b)
{
    const run_ent *x = a, *y = b;
    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* ---- k-way merge of the runs of one day ---- */

typedef struct {
    hist_cursor *cur;
    uint32_t **hmap; /* per input: host id -> output host id (= rank of the name) */
    int *heap;       /* cursor indices, a binary min-heap by (key, output host) */
    size_t nheap;
    /* per input: its record's first 8 key bytes, big-endian, zero-padded: most comparisons of
     * the heap end there (a memcmp call per comparison was a third of the merge's time) */
    uint64_t *pfx;
} merger;

static inline uint64_t key_pfx(const uint8_t *key, size_t n)
{
    uint8_t b[8] = { 0 };
    memcpy(b, key, n < 8 ? n : 8);
    uint64_t v;
    memcpy(&v, b, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* The next record of input i (1), its end (0) or an error (< 0); its prefix noted. */
static int merger_next(merger *m, int i)
{
    int r = tide__hist_cursor_next(&m->cur[i]);
    if (r == 1)
        m->pfx[i] = key_pfx(m->cur[i].rec.key, m->cur[i].rec.key_len);
    return r;
}

static int mrec_cmp(const merger *m, int a, int b)
{
    /* prefixes that differ order the keys as the whole keys would (the padding is below any
     * byte a longer key has there, or equal to a zero byte: then the keys decide) */
    if (m->pfx[a] != m->pfx[b])
        return m->pfx[a] < m->pfx[b] ? -1 : 1;
    const hist_rec *x = &m->cur[a].rec, *y = &m->cur[b].rec;
    int c = tide__hist_keycmp(x->key, x->key_len, y->key, y->key_len);
    if (c)
        return c;
    uint32_t hx = m->hmap[a][x->host], hy = m->hmap[b][y->host];
    if (hx != hy)
        return hx < hy ? -1 : 1;
    return a < b ? -1 : a > b; /* the same record in two runs: older run first */
}

static void heap_down(merger *m, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, best = i;
        if (l < m->nheap && mrec_cmp(m, m->heap[l], m->heap[best]) < 0)
            best = l;
        if (l + 1 < m->nheap && mrec_cmp(m, m->heap[l + 1], m->heap[best]) < 0)
            best = l + 1;
        if (best == i)
            return;
        int t = m->heap[i];
        m->heap[i] = m->heap[best];
        m->heap[best] = t;
        i = best;
    }
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ---- the merge on both cores ----
 *
 * A day's merge is cut by key into parts of about MERGE_PART_BLOCKS input blocks (of all its runs
 * together: the split keys are every MERGE_PART_BLOCKS-th of their blocks' first keys, in
 * order), which the writer's threads merge side by side (tide__hist_writer_parts): each has
 * its own cursor per run, seeked to its part's first key, and its own heap, and stops at the
 * next part's first key; every record of a key is in one part, so records are summed as in one
 * merge. Parts depend on the runs only, never on the threads: one thread writes the same file.
 * Each part decodes again the block of each run its first key is in (~n / MERGE_PART_BLOCKS
 * more decompression). */
#define MERGE_PART_BLOCKS 64

typedef struct {
    size_t n; /* runs */
    hist_file **files;
    uint32_t **hmap, **fmap;
    const uint8_t **sk; /* split keys: part k is [sk[k - 1], sk[k]) */
    uint32_t *sklen;
    size_t nsk;
    merger m[HIST_PART_WORKERS]; /* each worker's cursors and heap */
    void *dctx[HIST_PART_WORKERS];
    bool own_dctx;
} merge_parts;

typedef struct {
    const uint8_t *k;
    uint32_t n;
} split_key;

static int cmp_split(const void *a, const void *b)
{
    const split_key *x = a, *y = b;
    return tide__hist_keycmp(x->k, x->n, y->k, y->n);
}

/* The split keys of the runs' blocks (none: one part). */
static int merge_splits(merge_parts *mp)
{
    size_t total = 0;
    for (size_t i = 0; i < mp->n; i++)
        total += tide__hist_file_header(mp->files[i])->nblocks;
    if (total <= MERGE_PART_BLOCKS)
        return 0;
    split_key *all = tide__malloc(total * sizeof(*all));
    size_t want = total / MERGE_PART_BLOCKS;
    mp->sk = tide__malloc(want * sizeof(*mp->sk));
    mp->sklen = tide__malloc(want * sizeof(*mp->sklen));
    if (all == NULL || mp->sk == NULL || mp->sklen == NULL) {
        tide__free(all);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    size_t t = 0;
    for (size_t i = 0; i < mp->n; i++)
        for (uint32_t b = 0; b < tide__hist_file_header(mp->files[i])->nblocks; b++, t++)
            all[t].n = tide__hist_file_block_key(mp->files[i], b, &all[t].k);
    qsort(all, total, sizeof(*all), cmp_split);
    for (size_t j = 1; j <= want; j++) {
        const split_key *x =
                &all[j * MERGE_PART_BLOCKS < total ? j * MERGE_PART_BLOCKS : total - 1];
        if (mp->nsk &&
                tide__hist_keycmp(mp->sk[mp->nsk - 1], mp->sklen[mp->nsk - 1], x->k, x->n) >= 0)
            continue; /* one key over many blocks: the part goes on */
        mp->sk[mp->nsk] = x->k;
        mp->sklen[mp->nsk++] = x->n;
    }
    tide__free(all);
    return 0;
}

/* Part k of the merge into c, on worker's cursors. */
static int merge_part(void *ctx, uint64_t k, int worker, hist_chunk *c)
{
    merge_parts *mp = ctx;
    merger *m = &mp->m[worker];
    const uint8_t *lo = k > 0 ? mp->sk[k - 1] : NULL, *hi = k < mp->nsk ? mp->sk[k] : NULL;
    size_t lolen = k > 0 ? mp->sklen[k - 1] : 0, hilen = k < mp->nsk ? mp->sklen[k] : 0;
    int rc = 0;
    m->nheap = 0;
    for (size_t i = 0; i < mp->n && rc >= 0; i++) {
        hist_cursor *cu = &m->cur[i];
        tide__hist_cursor_rewind(cu);
        cu->dctx = mp->dctx[worker];
        int r;
        if (lo) {
            rc = tide__hist_cursor_seek(cu, lo, lolen);
            cu->dropped = tide__hist_cursor_offset(cu) & ~(uint64_t)4095;
            if (rc < 0)
                break;
        }
        r = merger_next(m, (int)i);
        if (r < 0)
            rc = r;
        else if (r == 1 &&
                 (hi == NULL || tide__hist_keycmp(cu->rec.key, cu->rec.key_len, hi, hilen) < 0))
            m->heap[m->nheap++] = (int)i;
    }
    for (size_t i = m->nheap; rc >= 0 && i-- > 0;)
        heap_down(m, i);
    uint8_t key[HIST_MAX_KEY];
    while (rc >= 0 && m->nheap > 0) {
        int top = m->heap[0];
        size_t klen = m->cur[top].rec.key_len;
        memcpy(key, m->cur[top].rec.key, klen);
        uint32_t host = m->hmap[top][m->cur[top].rec.host];
        uint64_t kp = m->pfx[top];
        int64_t first = INT64_MAX, last = INT64_MIN;
        uint64_t count = 0, line = 0;
        uint32_t file = 0;
        int first_from = INT32_MAX;
        while (rc >= 0 && m->nheap > 0) {
            int i = m->heap[0];
            const hist_rec *r = &m->cur[i].rec;
            if (m->pfx[i] != kp || tide__hist_keycmp(r->key, r->key_len, key, klen) != 0 ||
                    m->hmap[i][r->host] != host)
                break;
            if (r->first < first || (r->first == first && i < first_from)) {
                first = r->first;
                file = mp->fmap[i][r->file];
                line = r->line;
                first_from = i;
            }
            if (r->last > last)
                last = r->last;
            count += r->count;
            int s = merger_next(m, i);
            if (s < 0) {
                rc = s;
                break;
            }
            /* a run at its end, or at the next part: out of the heap */
            if (s == 0 || (hi && tide__hist_keycmp(
                                         m->cur[i].rec.key, m->cur[i].rec.key_len, hi, hilen) >= 0))
                m->heap[0] = m->heap[--m->nheap];
            heap_down(m, 0);
        }
        if (rc >= 0)
            rc = tide__hist_chunk_add(c, key, klen, host, first, last, count, file, line);
    }
    /* the part's pages of each run given back: a part reads too little of a run (~64 blocks
     * over all of them) for the cursors' own 1 MiB steps, and the runs of a day of the
     * reference workload are ~500 MB */
    for (size_t i = 0; rc >= 0 && i < mp->n; i++)
        tide__hist_cursor_drop_done(&m->cur[i]);
    return rc;
}

/* Merge runs [from, to) of one day into one run (returned in out): a binary heap of one cursor
 * per run; equal (key, host) records are summed, first / last widened, the earliest place
 * kept (the older run's on a tie). Host names are compared once, as ranks. */
static int merge_day(tide_history *h, const run_ent *rs, size_t n, run_ent *out)
{
    hist_file **files = tide__calloc(n, sizeof(hist_file *));
    merge_parts mp = { 0 };
    merger m = { 0 };
    m.hmap = tide__calloc(n, sizeof(uint32_t *));
    uint32_t **fmap = tide__calloc(n, sizeof(uint32_t *));
    const char **hn = NULL, **fn = NULL;
    size_t nhn = 0, nfn = 0;
    tide_strmap hmapn = TIDE_STRMAP_INIT, fmapn = TIDE_STRMAP_INIT;
    hist_writer *w = NULL;
    int rc = 0;
    if (files == NULL || m.hmap == NULL || fmap == NULL)
        rc = tide_error_set(TIDE_ENOMEM, "out of memory");
    char path[4096];
    size_t tot_h = 0, tot_f = 0;
    for (size_t i = 0; rc >= 0 && i < n; i++) {
        run_path(h, &rs[i], path, sizeof(path));
        if ((rc = tide__hist_file_open(&files[i], path)) == 0) {
            tot_h += tide__hist_file_header(files[i])->nhosts;
            tot_f += tide__hist_file_header(files[i])->nfiles;
        }
    }
    /* the union of the host names, sorted: output ids are ranks; files in first-seen order */
    if (rc >= 0 && ((hn = tide__malloc((tot_h + 1) * sizeof(char *))) == NULL ||
                           (fn = tide__malloc((tot_f + 1) * sizeof(char *))) == NULL))
        rc = tide_error_set(TIDE_ENOMEM, "out of memory");
    for (size_t i = 0; rc >= 0 && i < n; i++) {
        const hist_header *hd = tide__hist_file_header(files[i]);
        uint32_t id;
        for (uint32_t k = 0; rc >= 0 && k < hd->nhosts; k++) {
            const char *name = tide__hist_file_host(files[i], k);
            int added = tide__strmap_put(&hmapn, name, strlen(name), (uint32_t)nhn, &id);
            if ((rc = added) > 0)
                hn[nhn++] = name;
        }
        if (rc >= 0 && (fmap[i] = tide__malloc((hd->nfiles + 1) * sizeof(uint32_t))) == NULL)
            rc = tide_error_set(TIDE_ENOMEM, "out of memory");
        for (uint32_t k = 0; rc >= 0 && k < hd->nfiles; k++) {
            const char *name = tide__hist_file_name(files[i], k);
            int added = tide__strmap_put(&fmapn, name, strlen(name), (uint32_t)nfn, &id);
            if ((rc = added) > 0)
                fn[nfn++] = name;
            fmap[i][k] = id;
        }
    }
    if (rc >= 0 && nhn > 1)
        qsort(hn, nhn, sizeof(char *), cmp_str_ptr);
    if (rc >= 0) {
        /* the strmap ids are first-seen order: remap them to the sorted ranks */
        uint32_t *rank_of = tide__malloc((nhn + 1) * sizeof(uint32_t));
        if (rank_of == NULL)
            rc = tide_error_set(TIDE_ENOMEM, "out of memory");
        for (size_t r = 0; rc >= 0 && r < nhn; r++)
            rank_of[tide__strmap_get(&hmapn, hn[r], strlen(hn[r]))] = (uint32_t)r;
        for (size_t i = 0; rc >= 0 && i < n; i++) {
            const hist_header *hd = tide__hist_file_header(files[i]);
            if ((m.hmap[i] = tide__malloc((hd->nhosts + 1) * sizeof(uint32_t))) == NULL) {
                rc = tide_error_set(TIDE_ENOMEM, "out of memory");
                break;
            }
            for (uint32_t k = 0; k < hd->nhosts; k++) {
                const char *name = tide__hist_file_host(files[i], k);
                m.hmap[i][k] = rank_of[tide__strmap_get(&hmapn, name, strlen(name))];
            }
        }
        tide__free(rank_of);
    }
    /* each worker's cursors (one per run) and heap; the parts */
    mp.n = n;
    mp.files = files;
    mp.hmap = m.hmap;
    mp.fmap = fmap;
    if (rc >= 0)
        rc = merge_splits(&mp);
    mp.own_dctx = mp.nsk > 0;
    for (int wk = 0; rc >= 0 && wk < HIST_PART_WORKERS; wk++) {
        merger *mw = &mp.m[wk];
        mw->hmap = m.hmap;
        mw->cur = tide__calloc(n, sizeof(hist_cursor));
        mw->heap = tide__calloc(n, sizeof(int));
        mw->pfx = tide__calloc(n, sizeof(uint64_t));
        if (mp.own_dctx)
            mp.dctx[wk] = tide__hist_dctx_new();
        if (mw->cur == NULL || mw->heap == NULL || mw->pfx == NULL ||
                (mp.own_dctx && mp.dctx[wk] == NULL)) {
            rc = tide_error_set(TIDE_ENOMEM, "out of memory");
            break;
        }
        for (size_t i = 0; i < n; i++) {
            tide__hist_cursor_init(&mw->cur[i], files[i]);
            mw->cur[i].drop = true; /* read once, in order */
        }
    }
    memset(out, 0, sizeof(*out));
    out->day = rs[0].day;
    for (size_t i = 0; i < n; i++)
        out->ev += rs[i].ev;
    out->seq = ++h->next_seq;
    run_path(h, out, path, sizeof(path));
    if (rc >= 0)
        rc = tide__hist_writer_new(&w, path, out->day);
    if (rc >= 0)
        rc = tide__hist_writer_names(w, hn, (uint32_t)nhn, fn, (uint32_t)nfn);
    if (rc >= 0)
        rc = tide__hist_writer_parts(w, mp.nsk + 1, merge_part, &mp, &out->events);
    if (rc >= 0 && w) {
        rc = tide__hist_writer_close(w, &out->bytes, &out->nrec);
        w = NULL;
    }
    tide__hist_writer_abort(w);
    for (int wk = 0; wk < HIST_PART_WORKERS; wk++) {
        for (size_t i = 0; mp.m[wk].cur && i < n; i++)
            tide__hist_cursor_free(&mp.m[wk].cur[i]);
        tide__free(mp.m[wk].cur);
        tide__free(mp.m[wk].heap);
        tide__free(mp.m[wk].pfx);
        tide__hist_dctx_free(mp.dctx[wk]);
    }
    tide__free(mp.sk);
    tide__free(mp.sklen);
    for (size_t i = 0; i < n; i++) {
        if (m.hmap)
            tide__free(m.hmap[i]);
        if (fmap)
            tide__free(fmap[i]);
        if (files)
            tide__hist_file_free(files[i]);
    }
    tide__strmap_free(&hmapn);
    tide__strmap_free(&fmapn);
    tide__free(hn);
    tide__free(fn);
    tide__free(files);
    tide__free(m.hmap);
    tide__free(fmap);
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

/* How many runs a day may hold before a commit merges some (DAY_RUNS_MAX), and how many it
 * leaves then (DAY_RUNS_LEFT). A writer's runs are sorted and complete: merging them is only
 * for the readers, whose hunts seek in every run of a day. Merging every day's runs into one
 * at every commit rewrote all of a day's records each time something was added to it: the
 * reference workload's import (eleven spills of the 256 MiB aggregator) spent a third of its
 * CPU merging runs it had just written, and a `tide match` run every hour over the day's new
 * logs rewrote the whole day each hour. As in size-tiered and universal compaction (Cassandra,
 * RocksDB), a day's runs are merged when there are too many, the smallest first: the biggest
 * runs, which hold most records, are rewritten only once their day has grown past them. */
#define DAY_RUNS_MAX  16
#define DAY_RUNS_LEFT 8

static int cmp_run_size(const void *a, const void *b)
{
    const run_ent *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes < y->bytes ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Merge the smallest runs of every day of more than max runs into one, which leaves left
 * (a full compaction: max = left = 1, every day of several runs merged into one). */
static int compact(tide_history *h, size_t max, size_t left)
{
    if (h->nruns > 1)
        qsort(h->runs, h->nruns, sizeof(run_ent), cmp_run);
    for (size_t i = 0; i < h->nruns;) {
        size_t j = i + 1;
        while (j < h->nruns && h->runs[j].day == h->runs[i].day)
            j++;
        size_t n = j - i;
        if (n <= max) {
            i = j;
            continue;
        }
        /* the nm smallest runs merged into one, which leaves `left`; merged oldest first (the
         * earliest place of a record's equal first times is the older run's) */
        size_t nm = n - left + 1;
        run_ent *day = tide__malloc(n * sizeof(run_ent));
        TIDE_CHECK_ALLOC(day);
        memcpy(day, &h->runs[i], n * sizeof(run_ent));
        qsort(day, n, sizeof(run_ent), cmp_run_size);
        qsort(day, nm, sizeof(run_ent), cmp_run);
        qsort(day + nm, n - nm, sizeof(run_ent), cmp_run);
        run_ent merged;
        int rc = merge_day(h, day, nm, &merged);
        if (rc < 0) {
            tide__free(day);
            return rc;
        }
        /* the day's runs: those left, by sequence, then the merged one (the newest number) */
        memcpy(&h->runs[i], day + nm, (n - nm) * sizeof(run_ent));
        h->runs[i + n - nm] = merged;
        size_t out = i + n - nm + 1;
        memmove(&h->runs[out], &h->runs[j], (h->nruns - j) * sizeof(run_ent));
        h->nruns -= j - out;
        rc = manifest_write(h);
        if (rc == 0)
            remove_runs(h, day, nm);
        tide__free(day);
        TIDE_CHECK(rc);
        i = out;
    }
    return 0;
}

static bool day_kept(const tide_history *h, int32_t day)
{
    for (size_t i = 0; i < h->nkeeps; i++)
        if (day >= h->keeps[i].from && day <= h->keeps[i].to)
            return true;
    return false;
}

/* Drop the days before cutoff (days since the epoch), counted into h->pruned. by_date: an
 * explicit prune, which drops kept days too (and forgets that they were kept); else the
 * retention, which spares them. */
static int drop_before_day(tide_history *h, int32_t cutoff, bool by_date)
{
    size_t k = 0, ndrop = 0, days = 0, own_days = 0, spared = 0;
    uint64_t records = 0, events = 0, obs = 0, own_events = 0;
    run_ent *drop = tide__malloc((h->nruns ? h->nruns : 1) * sizeof(run_ent));
    TIDE_CHECK_ALLOC(drop);
    if (h->nruns > 1)
        qsort(h->runs, h->nruns, sizeof(run_ent), cmp_run);
    int32_t first_drop = 0;
    for (size_t i = 0; i < h->nruns; i++) {
        const run_ent *r = &h->runs[i];
        bool newday = i == 0 || h->runs[i - 1].day != r->day;
        if (r->day < cutoff && !by_date && day_kept(h, r->day)) {
            spared += newday;
            h->runs[k++] = *r;
        } else if (r->day < cutoff) {
            if (ndrop == 0)
                first_drop = r->day;
            if (ndrop == 0 || drop[ndrop - 1].day != r->day)
                days++;
            if (r->mine && (ndrop == 0 || drop[ndrop - 1].day != r->day || !drop[ndrop - 1].mine))
                own_days++;
            if (r->mine)
                own_events += r->ev;
            records += r->nrec;
            events += r->ev;
            obs += r->events;
            drop[ndrop++] = *r;
        } else {
            h->runs[k++] = *r;
        }
    }
    h->nruns = k;
    bool keeps_changed = false;
    if (by_date) /* forget the kept periods before the cutoff */
        for (size_t i = 0; i < h->nkeeps;) {
            if (h->keeps[i].from < cutoff) {
                keeps_changed = true;
                if (h->keeps[i].to < cutoff) {
                    h->keeps[i] = h->keeps[--h->nkeeps];
                    continue;
                }
                h->keeps[i].from = cutoff;
            }
            i++;
        }
    int rc = 0;
    tide_history_pruned *p = &h->pruned;
    p->kept_spared += spared;
    if (ndrop || keeps_changed) {
        rc = manifest_write(h);
        if (rc == 0 && ndrop) {
            remove_runs(h, drop, ndrop);
            p->days += days;
            p->records += records;
            p->events += events;
            p->observations += obs;
            p->own_days += own_days;
            p->own_events += own_events;
            int64_t before = (int64_t)cutoff * 86400000LL;
            if (p->before_ms == 0 || before > p->before_ms)
                p->before_ms = before;
            int64_t first = (int64_t)first_drop * 86400000LL;
            if (p->first_ms == 0 || first < p->first_ms)
                p->first_ms = first;
        }
    }
    tide__free(drop);
    return rc;
}

/* Days older than the retention, counted back from the newest day that is not in the future
 * (today by the wall clock): no event time, however absurd, moves the window. Kept days stay. */
static int apply_retention(tide_history *h)
{
    if (h->nruns == 0)
        return 0;
    int32_t today = (int32_t)(tide__hist_now_us() / HIST_DAY_US);
    int32_t newest = INT32_MIN;
    for (size_t i = 0; i < h->nruns; i++)
        if (h->runs[i].day > newest && h->runs[i].day <= today)
            newest = h->runs[i].day;
    if (newest == INT32_MIN)
        return 0; /* every day is in the future: nothing to count back from */
    size_t days0 = h->pruned.days;
    TIDE_CHECK(drop_before_day(h, newest - h->retention + 1, false));
    if (h->pruned.days != days0) {
        h->pruned.newest_ms = (int64_t)newest * 86400000LL;
        h->pruned.retention = h->retention;
    }
    return 0;
}

static int cmp_keep(const void *a, const void *b)
{
    const hist_keep *x = a, *y = b;
    return x->from < y->from ? -1 : x->from > y->from;
}

/* Add the days of this writer's runs just committed to the kept periods (merged ranges). */
static int keep_mine(tide_history *h)
{
    for (size_t i = 0; i < h->nruns; i++) {
        if (!h->runs[i].mine || day_kept(h, h->runs[i].day))
            continue;
        int32_t d = h->runs[i].day;
        bool merged = false;
        for (size_t k = 0; k < h->nkeeps && !merged; k++) {
            if (h->keeps[k].to + 1 == d) {
                h->keeps[k].to = d;
                merged = true;
            } else if (h->keeps[k].from - 1 == d) {
                h->keeps[k].from = d;
                merged = true;
            }
        }
        if (!merged) {
            TIDE_CHECK(grow((void **)&h->keeps, &h->capkeeps, h->nkeeps + 1, sizeof(hist_keep)));
            h->keeps[h->nkeeps++] = (hist_keep){ d, d };
        }
        h->dirty = true;
    }
    /* ranges that now touch or overlap: join them */
    if (h->nkeeps > 1)
        qsort(h->keeps, h->nkeeps, sizeof(hist_keep), cmp_keep);
    size_t k = 0;
    for (size_t i = 0; i < h->nkeeps; i++) {
        if (k && h->keeps[i].from <= h->keeps[k - 1].to + 1) {
            if (h->keeps[i].to > h->keeps[k - 1].to)
                h->keeps[k - 1].to = h->keeps[i].to;
        } else {
            h->keeps[k++] = h->keeps[i];
        }
    }
    h->nkeeps = k;
    return 0;
}

static int cmp_pos_age(const void *a, const void *b)
{
    const hist_pos *x = a, *y = b; /* the most recently updated first */
    return x->updated_ms > y->updated_ms ? -1 : x->updated_ms < y->updated_ms;
}

/* This writer's positions into the registry just read (the higher position of a key wins:
 * positions only grow), the least recently updated dropped past MAX_POSITIONS; its generation
 * likewise, and the generations of writers that are gone dropped. */
static int merge_registry(tide_history *h)
{
    for (size_t i = 0; i < h->nspos; i++) {
        const hist_pos *sp = &h->spos[i];
        hist_pos *cur = NULL;
        for (size_t k = 0; k < h->npos && cur == NULL; k++)
            if (strcmp(h->pos[k].key, sp->key) == 0)
                cur = &h->pos[k];
        if (cur == NULL) {
            TIDE_CHECK(grow((void **)&h->pos, &h->cappos, h->npos + 1, sizeof(hist_pos)));
            cur = &h->pos[h->npos++];
            *cur = *sp;
        } else if (sp->pos > cur->pos) {
            cur->pos = sp->pos;
            cur->updated_ms = sp->updated_ms;
        }
        h->dirty = true;
    }
    h->nspos = 0;
    if (h->npos > MAX_POSITIONS) {
        qsort(h->pos, h->npos, sizeof(hist_pos), cmp_pos_age);
        h->npos = MAX_POSITIONS;
        h->dirty = true;
    }
    size_t k = 0;
    bool mine = false;
    for (size_t i = 0; i < h->ngens; i++) {
        hist_gen *g = &h->gens[i];
        if (strcmp(g->token, h->token) == 0) {
            mine = true;
            if (h->gen_set && g->gen != h->gen) {
                g->gen = h->gen;
                h->dirty = true;
            }
        } else if (writer_dead(h, g->token, strlen(g->token))) {
            h->dirty = true;
            continue;
        }
        h->gens[k++] = *g;
    }
    h->ngens = k;
    if (h->gen_set && !mine) {
        TIDE_CHECK(grow((void **)&h->gens, &h->capgens, h->ngens + 1, sizeof(hist_gen)));
        hist_gen *g = &h->gens[h->ngens++];
        snprintf(g->token, sizeof(g->token), "%s", h->token);
        g->gen = h->gen;
        h->dirty = true;
    }
    return 0;
}

/* Under the commit lock: the manifest as it is now, with this writer's runs renamed into place
 * under fresh sequence numbers, its read positions and generation, its days kept if asked. */
static int commit_locked(tide_history *h)
{
    TIDE_CHECK(manifest_read(h));
    if (h->npend) {
        TIDE_CHECK(grow((void **)&h->runs, &h->capruns, h->nruns + h->npend, sizeof(run_ent)));
        char from[4096], to[4096];
        size_t done = 0;
        int rc = 0;
        for (; done < h->npend; done++) {
            run_ent r = h->pend[done];
            pend_path(h, &r, from, sizeof(from));
            r.seq = ++h->next_seq;
            r.staged = false;
            r.mine = true;
            run_path(h, &r, to, sizeof(to));
            if (rename(from, to) != 0) {
                rc = tide_error_set(TIDE_EIO, "rename %s: %s", from, strerror(errno));
                break;
            }
            h->runs[h->nruns++] = r;
        }
        /* runs renamed but not listed (a failure here) are swept by the next writer */
        memmove(h->pend, h->pend + done, (h->npend - done) * sizeof(run_ent));
        h->npend -= done;
        h->dirty = true;
        TIDE_CHECK(rc);
    }
    if (h->raw_delta) {
        h->raw_bytes += h->raw_delta;
        h->raw_delta = 0;
        h->dirty = true;
    }
    TIDE_CHECK(merge_registry(h));
    if (h->keep_mine)
        TIDE_CHECK(keep_mine(h));
    if (h->dirty || h->retention_set)
        TIDE_CHECK(manifest_write(h));
    return 0;
}

static int commit(tide_history *h, bool by_date, int64_t before_ms, bool full)
{
    if (!h->writable)
        return tide_error_set(TIDE_EINVAL, "history opened read-only");
    TIDE_CHECK(rec_push(h, REC_SPILL)); /* kept, sorted and written before the lock */
    TIDE_CHECK(rec_wait(h));
    TIDE_CHECK(lock_take(h));
    int rc = commit_locked(h);
    if (rc == 0 && by_date) /* days that end at or before before_ms */
        rc = drop_before_day(h, (int32_t)(before_ms / (HIST_DAY_US / 1000)), true);
    if (rc == 0)
        rc = apply_retention(h);
    if (rc == 0)
        rc = full ? compact(h, 1, 1) : compact(h, DAY_RUNS_MAX, DAY_RUNS_LEFT);
    lock_drop(h);
    return rc;
}

int tide_history_commit(tide_history *h)
{
    return commit(h, false, 0, false);
}

int tide_history_compact(tide_history *h)
{
    return commit(h, false, 0, true);
}

int tide_history_prune(tide_history *h, int64_t before_ms, size_t *out_days)
{
    if (out_days)
        *out_days = 0;
    size_t days0 = h->pruned.days;
    int rc = commit(h, before_ms != 0, before_ms, false);
    if (rc == 0 && out_days)
        *out_days = h->pruned.days - days0;
    return rc;
}

int tide_history_stats_get(tide_history *h, tide_history_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->retention_days = h->retention;
    out->raw_bytes = h->raw_bytes + h->raw_delta;
    if (h->nruns > 1)
        qsort(h->runs, h->nruns, sizeof(run_ent), cmp_run);
    for (size_t i = 0; i < h->nruns; i++) {
        const run_ent *r = &h->runs[i];
        if (i == 0 || r->day != h->runs[i - 1].day) {
            out->partitions++;
            if (day_kept(h, r->day))
                out->kept_days++;
        }
        out->runs++;
        out->records += r->nrec;
        out->bytes += r->bytes;
        out->events += r->ev;
        out->observations += r->events;
    }
    if (h->nruns) {
        out->first_day_ms = (int64_t)h->runs[0].day * 86400000LL;
        out->last_day_ms = (int64_t)h->runs[h->nruns - 1].day * 86400000LL;
    }
    for (size_t i = 0; i < h->nkeeps; i++) {
        int64_t a = (int64_t)h->keeps[i].from * 86400000LL,
                b = (int64_t)h->keeps[i].to * 86400000LL;
        if (out->kept_from_ms == 0 || a < out->kept_from_ms)
            out->kept_from_ms = a;
        if (b > out->kept_to_ms)
            out->kept_to_ms = b;
    }
    out->positions = h->npos;
    char p[4096];
    snprintf(p, sizeof(p), "%s/MANIFEST", h->dir);
    struct stat st;
    if (stat(p, &st) == 0)
        out->bytes += (uint64_t)st.st_size;
    return 0;
}

/* ---- the registry of read positions, writers' generations, kept days ---- */

int tide_history_position_set(tide_history *h, const char *key, uint64_t pos)
{
    if (!h->writable)
        return tide_error_set(TIDE_EINVAL, "history opened read-only");
    size_t n = strlen(key);
    if (n == 0 || n >= TIDE_HISTORY_POS_KEY || strpbrk(key, " \t\r\n"))
        return tide_error_set(TIDE_EINVAL, "history position key '%.80s': 1 to %d bytes, no blanks",
                key, TIDE_HISTORY_POS_KEY - 1);
    for (size_t i = 0; i < h->nspos; i++)
        if (strcmp(h->spos[i].key, key) == 0) {
            if (pos > h->spos[i].pos)
                h->spos[i].pos = pos;
            return 0;
        }
    TIDE_CHECK(grow((void **)&h->spos, &h->capspos, h->nspos + 1, sizeof(hist_pos)));
    hist_pos *p = &h->spos[h->nspos++];
    memcpy(p->key, key, n + 1);
    p->pos = pos;
    p->updated_ms = tide__hist_now_us() / 1000;
    return 0;
}

int tide_history_position(const tide_history *h, const char *key, uint64_t *out)
{
    *out = 0;
    int found = 0;
    for (size_t i = 0; i < h->npos; i++)
        if (strcmp(h->pos[i].key, key) == 0) {
            *out = h->pos[i].pos;
            found = 1;
            break;
        }
    for (size_t i = 0; i < h->nspos; i++) /* this writer's own, not yet committed */
        if (strcmp(h->spos[i].key, key) == 0 && h->spos[i].pos > *out) {
            *out = h->spos[i].pos;
            found = 1;
        }
    return found;
}

int tide_history_positions(tide_history *h,
        int (*cb)(const char *key, uint64_t pos, int64_t updated_ms, void *payload), void *payload)
{
    for (size_t i = 0; i < h->npos; i++) {
        int rc = cb(h->pos[i].key, h->pos[i].pos, h->pos[i].updated_ms, payload);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int tide_history_set_generation(tide_history *h, int64_t gen)
{
    if (!h->writable)
        return tide_error_set(TIDE_EINVAL, "history opened read-only");
    h->gen = gen;
    h->gen_set = true;
    h->dirty = true;
    return 0;
}

int tide_history_writers_behind(tide_history *h, int64_t gen, size_t *out)
{
    *out = 0;
    TIDE_CHECK(manifest_read(h));
    for (size_t i = 0; i < h->ngens; i++) {
        const hist_gen *g = &h->gens[i];
        if (g->gen >= gen || (h->writable && strcmp(g->token, h->token) == 0))
            continue;
        if (!writer_dead(h, g->token, strlen(g->token)))
            (*out)++;
    }
    return 0;
}

uint64_t tide_history_events_added(const tide_history *h)
{
    /* counted by the recorder thread (the key encoding decides whether an event names a valid
     * observable): exact once its jobs are done, which a commit, checkpoint or discard waits
     * for; during a run, as of the last job done */
    return atomic_load_explicit(&h->rt.events, memory_order_relaxed);
}

void tide_history_set_keep(tide_history *h, bool keep)
{
    h->keep_mine = keep;
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

int tide_history_each(
        tide_history *h, int (*cb)(const tide_history_rec *rec, void *payload), void *payload)
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
