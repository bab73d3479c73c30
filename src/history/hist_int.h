/*
 * hist_int.h - internals of the observation history (history.h), shared by the sort keys
 * (hist_keys.c), the run files (hist_file.c), the manifest / writer (history.c) and the hunt
 * (hunt.c).
 *
 * Sort key of an observation: one kind byte, then
 *   ipv4 4 bytes, ipv6 16 (big-endian: a CIDR is a key range), ip-port address + 2-byte port,
 *   domain the labels reversed ("www.evil.com" -> "com.evil.www": a parent is a prefix),
 *   url the canonical URL key (keys.c) byte-reversed (a URL path suffix is a prefix),
 *   hashes / ja3 / x509 binary, email lower-case text.
 * The kind is the one tide__ix_encode settles on (an IPv4-mapped IPv6 address is an IPv4).
 *
 * Run file (one per day and sequence number, "YYYY-MM-DD.SEQ.hst"), little-endian:
 *   header (hist_header, 128 bytes; its own XXH3 checksum over the bytes before `sum`)
 *   data blocks: zstd frames of records sorted by (key, host name), each at most
 *                HIST_BLOCK uncompressed bytes (plus one record)
 *   dict:  zstd frame: host names then file names, each NUL-terminated
 *   index: per block hist_block_ix followed by its first key (key_len bytes)
 * Every section and block carries an XXH3-64 checksum (of its stored bytes), checked before use.
 * A record: varint key_len, key, varint host, varint first - day_start (us), varint last -
 * first, varint count, varint file, varint line.
 */
#ifndef TIDE_HIST_INT_H
#define TIDE_HIST_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tide/history.h"
#include "util/util.h"

#define HIST_MAGIC   "TIDEHIS1"
#define HIST_VERSION 1u
#define HIST_BLOCK                                                                                 \
    (16 * 1024)                           /* uncompressed bytes per block written: a hunt decodes  \
                                             one block per indicator, so small blocks keep it fast */
#define HIST_FILL_BYTES (16 * HIST_BLOCK) /* record bytes per chunk (tide__hist_writer_fill) */
#define HIST_MAX_BLOCK  (128 * 1024)      /* refused above (files of earlier writers used 32 KiB) */
#define HIST_ZLEVEL     1
#define HIST_MAX_KEY    2100         /* 1 kind byte + IX_MAX_KEY */
#define HIST_MAX_FILE   (1ull << 34) /* refuse run files above 16 GiB */
#define HIST_DAY_US     (86400LL * 1000000)

typedef struct {
    char magic[8];
    uint32_t version;
    int32_t day; /* days since 1970-01-01 */
    uint64_t nrec;
    uint64_t events; /* events that contributed (sum of counts) */
    uint32_t nblocks, nhosts, nfiles, pad;
    uint64_t dict_off, dict_len, dict_sum;
    uint64_t index_off, index_len, index_sum;
    uint64_t file_size;
    uint8_t reserved[24];
    uint64_t sum; /* XXH3-64 of the bytes before this field */
} hist_header;

typedef struct {
    uint64_t off;
    uint32_t csize, usize, nrec;
    uint16_t key_len, pad;
    uint64_t sum; /* XXH3-64 of the compressed bytes */
} hist_block_ix;

/* One record in memory (decoded, or in the aggregator). */
typedef struct {
    const uint8_t *key;
    uint32_t key_len;
    uint32_t host;       /* index into the file's / writer's host names */
    int64_t first, last; /* us */
    uint64_t count;
    uint32_t file;
    uint64_t line;
} hist_rec;

/* ---- keys (hist_keys.c) ---- */

/* Sort key of an observed value into out (HIST_MAX_KEY bytes). Returns the length, or -1 when
 * the value is not a valid observable of that kind (such values can never match). */
int tide__hist_key(tide_obs_kind kind, const char *v, size_t n, uint8_t *out);
/* The canonical text of a key (what tide_match_lookup accepts) into buf (HIST_MAX_KEY + 64),
 * NUL-terminated. Returns its length, -1 for a malformed key. */
int tide__hist_key_text(const uint8_t *key, size_t n, char *buf, tide_obs_kind *out_kind);

/* Key ranges an indicator's value can match: [lo, hi) byte ranges (hi_len 0 = no bound).
 * Up to 2 ranges; returns how many (0 when the kind never appears in history). */
typedef struct {
    uint8_t lo[HIST_MAX_KEY], hi[HIST_MAX_KEY];
    size_t lo_len, hi_len;
} hist_range;
int tide__hist_ranges(tide_obs_kind kind, const char *value, hist_range out[2]);

int tide__hist_keycmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn);

/* ---- run files (hist_file.c) ---- */

typedef struct hist_writer hist_writer;
/* A new run file at path (written to a temporary file path.XXXXXX.tmp created exclusively, 0600,
 * renamed by close: util/outfile.h; the caller holds the history's lock). */
int tide__hist_writer_new(hist_writer **out, const char *path, int32_t day);
/* Records must come sorted by (key, host name); names are copied into the file's dictionary. */
int tide__hist_writer_add(hist_writer *w, const uint8_t *key, size_t key_len, const char *host,
        int64_t first, int64_t last, uint64_t count, const char *file, uint64_t line);
/* Fix the file's dictionary up front (names copied); records then name hosts and files by
 * index (tide__hist_writer_add_ids), with no interning per record. */
int tide__hist_writer_names(hist_writer *w, const char *const *hosts, uint32_t nhosts,
        const char *const *files, uint32_t nfiles);
/* Records must come sorted by (key, host name). */
int tide__hist_writer_add_ids(hist_writer *w, const uint8_t *key, size_t key_len, uint32_t host,
        int64_t first, int64_t last, uint64_t count, uint32_t file, uint64_t line);
/* Records encoded on every core (tide__hist_writer_fill): the caller's fill encodes the records
 * [from, to) of its sorted sequence into a chunk with tide__hist_chunk_add. */
typedef struct hist_chunk hist_chunk;
typedef int (*hist_fill_fn)(void *ctx, size_t from, size_t to, hist_chunk *c);
int tide__hist_chunk_add(hist_chunk *c, const uint8_t *key, size_t key_len, uint32_t host,
        int64_t first, int64_t last, uint64_t count, uint32_t file, uint64_t line);
/* All n records of a writer whose names are fixed and that holds no record yet, cut into chunks
 * of about HIST_FILL_BYTES (rec_bytes: the caller's estimate of a record's encoded size), each
 * encoded by fill and compressed on one of the writer's threads, written in order. The chunks
 * depend on n and rec_bytes only, so the file is the same on any number of threads.
 * @param[out] out_events the records' counts summed (may be NULL). */
int tide__hist_writer_fill(hist_writer *w, size_t n, size_t rec_bytes, hist_fill_fn fill, void *ctx,
        uint64_t *out_events);
/* The engine under tide__hist_writer_fill: nparts chunks, chunk k encoded by part (worker: 0 the
 * caller's thread, 1... the writer's helpers, for state of each thread's own), written in order.
 * What a chunk holds is the caller's to decide, never the thread's. */
typedef int (*hist_part_fn)(void *ctx, uint64_t k, int worker, hist_chunk *c);
int tide__hist_writer_parts(
        hist_writer *w, uint64_t nparts, hist_part_fn part, void *ctx, uint64_t *out_events);
/* Workers of tide__hist_writer_parts at most (their ids: 0 .. HIST_PART_WORKERS - 1). */
#define HIST_PART_WORKERS 2
/* Finish, fsync and rename into place. @param[out] out_size the file size. */
int tide__hist_writer_close(hist_writer *w, uint64_t *out_size, uint64_t *out_nrec);
void tide__hist_writer_abort(hist_writer *w);

typedef struct hist_file hist_file;
int tide__hist_file_open(hist_file **out, const char *path);
void tide__hist_file_free(hist_file *f);
const hist_header *tide__hist_file_header(const hist_file *f);
const char *tide__hist_file_host(const hist_file *f, uint32_t i);
const char *tide__hist_file_name(const hist_file *f, uint32_t i);

/* A cursor over the records of a file, in key order. */
typedef struct {
    hist_file *f;
    uint32_t block; /* current block */
    uint8_t *buf;   /* its decompressed bytes */
    size_t cap, len, pos;
    uint32_t left; /* records left in the block */
    hist_rec rec;
    bool loaded;
    bool drop; /* a walk over the whole file (compaction): the mapped pages of the blocks left
                  behind are dropped, 1 MiB at a time (set after tide__hist_cursor_init) */
    uint64_t dropped; /* the file offset up to which they were */
    void *dctx;       /* a decompression context it was given (ZSTD_DCtx), else the file's */
} hist_cursor;
void tide__hist_cursor_init(hist_cursor *c, hist_file *f);
void tide__hist_cursor_free(hist_cursor *c);
/* Cursors of one file on several threads: each thread's decompression context (c->dctx, not
 * freed by the cursor), made and freed here (NULL: out of memory). */
void *tide__hist_dctx_new(void);
void tide__hist_dctx_free(void *dctx);
/* Back before the first record, for a seek anywhere (buffers kept). */
void tide__hist_cursor_rewind(hist_cursor *c);
/* Give back the mapped pages of the blocks read since c->dropped, up to the cursor's block (a
 * part of a merge is done with them; see drop_behind). */
void tide__hist_cursor_drop_done(hist_cursor *c);
/* The file offset of the cursor's block (0 before the first). */
uint64_t tide__hist_cursor_offset(const hist_cursor *c);
/* Block i's first key (its length returned). */
uint32_t tide__hist_file_block_key(const hist_file *f, uint32_t i, const uint8_t **key);
/* Position before the first record whose key >= key (by block index, then scanning). */
int tide__hist_cursor_seek(hist_cursor *c, const uint8_t *key, size_t n);
/* Next record: 1 with c->rec set, 0 at the end, < 0 on a corrupt block (error names it). */
int tide__hist_cursor_next(hist_cursor *c);

/* ---- the committed runs of a history (history.c) ---- */
size_t tide__hist_nruns(const tide_history *h);
int tide__hist_run_open(tide_history *h, size_t i, hist_file **out);
/* The day of run i (days since the epoch). */
int32_t tide__hist_run_day(const tide_history *h, size_t i);

/* ---- match index (src/match/index_build.c) ---- */
/* tide_match_index_build that also passes every record of its store scan to tap (revoked ones
 * included), so that the hunt reads its selection once. */
int tide__ix_build_tap(tide_match_index **out, tide_store *store, const tide_index_opts *opts,
        int (*tap)(const tide_indicator_obs *r, void *payload), void *tap_payload);

/* ---- shared ---- */
int64_t tide__hist_now_us(void);
/* Threads a history may use beside its caller's for one job: 2 (compressing threads of a run
 * file, the two halves of a spill's sort, the recorder's pager), or 1 when TIDE_HISTORY_THREADS=1
 * (tests hold the parallel paths to the serial ones with it). */
int tide__hist_threads(void);

#endif
