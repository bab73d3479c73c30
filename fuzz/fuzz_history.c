/*
 * fuzz_history.c - fuzz target for the history readers: the input is written as a run file
 * (tide__hist_file_open: header, dictionary, block index, every checksum) and every record is
 * read with a cursor, seeks included; and as a MANIFEST read by tide_history_open. Files on
 * disk are outside input (a crash, a bad disk, an edit): they must be rejected with an error,
 * never crash or over-read.
 *
 * Checksums stop almost every mutation before the decoders, so three modes get past them:
 *   - an input starting with "FIXSUM" is a run file whose checksums are all recomputed before
 *     it is read (the header's, the dictionary's, the block index's and every block's whose
 *     bounds are in the file; file_size set to the size): mutations reach the section bounds,
 *     the dictionary, the block index and the zstd frames;
 *   - an input starting with "RECS" is the uncompressed content of one data block (its first
 *     byte the block's record count, then the records): the target compresses it and builds a
 *     valid file around it (a dictionary of 2 hosts and 2 files), so mutations reach the
 *     record decoder (varints, keys, name ids) and tide__hist_key_text;
 *   - every input is also read as a MANIFEST twice: as it is, and with its checksum line
 *     recomputed (what follows the last "end " replaced), so the line parser is reached.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>
#include <zstd.h>

#include "history/hist_int.h"

static char dir[64];

static void write_file(const char *path, const uint8_t *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return;
    fwrite(d, 1, n, f);
    fclose(f);
}

static bool in_file(uint64_t off, uint64_t len, size_t n)
{
    return off <= n && len <= n - off;
}

/* Every checksum of the run file in d recomputed (where its section is in bounds). */
static void fix_sums(uint8_t *d, size_t n)
{
    hist_header hh;
    memcpy(&hh, d, sizeof(hh));
    hh.file_size = n;
    if (in_file(hh.dict_off, hh.dict_len, n))
        hh.dict_sum = XXH3_64bits(d + hh.dict_off, hh.dict_len);
    if (in_file(hh.index_off, hh.index_len, n)) {
        uint8_t *ix = d + hh.index_off;
        size_t pos = 0;
        for (uint32_t i = 0; i < hh.nblocks && hh.index_len - pos >= sizeof(hist_block_ix); i++) {
            hist_block_ix bi;
            memcpy(&bi, ix + pos, sizeof(bi));
            if (in_file(bi.off, bi.csize, n)) {
                bi.sum = XXH3_64bits(d + bi.off, bi.csize);
                memcpy(ix + pos, &bi, sizeof(bi));
            }
            pos += sizeof(bi);
            if (hh.index_len - pos < bi.key_len)
                break;
            pos += bi.key_len;
        }
        hh.index_sum = XXH3_64bits(ix, hh.index_len);
    }
    hh.sum = XXH3_64bits(&hh, offsetof(hist_header, sum));
    memcpy(d, &hh, sizeof(hh));
}

/* A valid run file around one block whose uncompressed content is recs (first byte: its
 * record count). Returns the file (malloc'd) and its size in *out_n, or NULL. */
static uint8_t *build_file(const uint8_t *recs, size_t n, size_t *out_n)
{
    static const char names[] = "host-a\0host-b\0file-a\0file-b";
    static const uint8_t key[] = { TIDE_OBS_IPV4, 10, 0, 0, 1 };
    if (n < 1)
        return NULL;
    uint32_t nrec = recs[0] ? recs[0] : 1;
    recs++;
    n--;
    if (n > HIST_MAX_BLOCK)
        n = HIST_MAX_BLOCK;
    size_t cb = ZSTD_compressBound(n), cd = ZSTD_compressBound(sizeof(names));
    size_t cap = sizeof(hist_header) + cb + cd + sizeof(hist_block_ix) + sizeof(key);
    uint8_t *f = calloc(1, cap);
    if (f == NULL)
        return NULL;
    size_t off = sizeof(hist_header);
    size_t csize = ZSTD_compress(f + off, cb, recs, n, 1);
    if (ZSTD_isError(csize)) {
        free(f);
        return NULL;
    }
    hist_block_ix bi;
    memset(&bi, 0, sizeof(bi));
    bi.off = off;
    bi.csize = (uint32_t)csize;
    bi.usize = (uint32_t)n;
    bi.nrec = nrec;
    bi.key_len = sizeof(key);
    bi.sum = XXH3_64bits(f + off, csize);
    off += csize;
    hist_header hh;
    memset(&hh, 0, sizeof(hh));
    memcpy(hh.magic, HIST_MAGIC, 8);
    hh.version = HIST_VERSION;
    hh.day = 17844; /* 2018-11-09 */
    hh.nrec = nrec;
    hh.events = nrec;
    hh.nblocks = 1;
    hh.nhosts = 2;
    hh.nfiles = 2;
    size_t dlen = ZSTD_compress(f + off, cd, names, sizeof(names), 1);
    if (ZSTD_isError(dlen)) {
        free(f);
        return NULL;
    }
    hh.dict_off = off;
    hh.dict_len = dlen;
    hh.dict_sum = XXH3_64bits(f + off, dlen);
    off += dlen;
    hh.index_off = off;
    memcpy(f + off, &bi, sizeof(bi));
    memcpy(f + off + sizeof(bi), key, sizeof(key));
    hh.index_len = sizeof(bi) + sizeof(key);
    hh.index_sum = XXH3_64bits(f + off, hh.index_len);
    off += hh.index_len;
    hh.file_size = off;
    hh.sum = XXH3_64bits(&hh, offsetof(hist_header, sum));
    memcpy(f, &hh, sizeof(hh));
    *out_n = off;
    return f;
}

static void read_run(const char *path)
{
    hist_file *f = NULL;
    if (tide__hist_file_open(&f, path) != 0)
        return;
    hist_cursor c;
    tide__hist_cursor_init(&c, f);
    char text[HIST_MAX_KEY + 64];
    tide_obs_kind k;
    while (tide__hist_cursor_next(&c) == 1) {
        (void)tide__hist_key_text(c.rec.key, c.rec.key_len, text, &k);
        (void)tide__hist_file_host(f, c.rec.host);
        (void)tide__hist_file_name(f, c.rec.file);
    }
    uint8_t key[3] = { TIDE_OBS_IPV4, 10, 0 };
    (void)tide__hist_cursor_seek(&c, key, sizeof(key));
    while (tide__hist_cursor_next(&c) == 1) {
    }
    tide__hist_cursor_free(&c);
    tide__hist_file_free(f);
}

static void read_manifest(const uint8_t *d, size_t n)
{
    char mp[128];
    snprintf(mp, sizeof(mp), "%s/history/MANIFEST", dir);
    write_file(mp, d, n);
    tide_history *h = NULL;
    if (tide_history_open(&h, dir, false) == 0) {
        tide_history_stats st;
        tide_history_stats_get(h, &st);
        tide_history_free(h);
    }
    unlink(mp);
}

/* the scratch folder goes when the process ends */
static void cleanup(void)
{
    char p[128];
    snprintf(p, sizeof(p), "%s/history", dir);
    rmdir(p);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (dir[0] == '\0') {
        snprintf(dir, sizeof(dir), "/tmp/tide-fuzz-history-%d", (int)getpid());
        mkdir(dir, 0700);
        char h[96];
        snprintf(h, sizeof(h), "%s/history", dir);
        mkdir(h, 0700);
        atexit(cleanup);
    }
    char path[128];
    snprintf(path, sizeof(path), "%s/run.hst", dir);
    uint8_t *copy = NULL;
    size_t n = 0;
    if (size >= 4 && memcmp(data, "RECS", 4) == 0) {
        copy = build_file(data + 4, size - 4, &n);
    } else if ((copy = malloc(size + 1)) != NULL) {
        memcpy(copy, data, size);
        n = size;
        if (n >= 6 + sizeof(hist_header) && memcmp(copy, "FIXSUM", 6) == 0) {
            memmove(copy, copy + 6, n - 6);
            n -= 6;
            fix_sums(copy, n);
        }
    }
    if (copy) {
        write_file(path, copy, n);
        read_run(path);
        unlink(path);
        free(copy);
    }
    /* the same bytes as a MANIFEST, as they are and with their checksum line recomputed */
    read_manifest(data, size);
    size_t body = size;
    for (size_t i = size; i >= 4; i--)
        if (memcmp(data + i - 4, "end ", 4) == 0 && (i == 4 || data[i - 5] == '\n')) {
            body = i - 4;
            break;
        }
    uint8_t *m = malloc(body + 32);
    if (m) {
        memcpy(m, data, body);
        if (body && m[body - 1] != '\n')
            m[body++] = '\n';
        int k = snprintf(
                (char *)m + body, 32, "end %016llx\n", (unsigned long long)XXH3_64bits(m, body));
        read_manifest(m, body + (size_t)k);
        free(m);
    }
    return 0;
}
