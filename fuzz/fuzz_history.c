/*
 * fuzz_history.c - fuzz target for the history readers: the input is written as a run file
 * (tide__hist_file_open: header, dictionary, block index, every checksum) and every record is
 * read with a cursor, seeks included; and as a MANIFEST read by tide_history_open. Files on
 * disk are outside input (a crash, a bad disk, an edit): they must be rejected with an error,
 * never crash or over-read. To reach past the checksums, an input starting with "FIXSUM"
 * gets its header checksum recomputed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (dir[0] == '\0') {
        snprintf(dir, sizeof(dir), "/tmp/tide-fuzz-history-%d", (int)getpid());
        mkdir(dir, 0700);
        char h[96];
        snprintf(h, sizeof(h), "%s/history", dir);
        mkdir(h, 0700);
    }
    char path[128];
    snprintf(path, sizeof(path), "%s/run.hst", dir);
    uint8_t *copy = malloc(size + 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    size_t n = size;
    if (n >= 6 + sizeof(hist_header) && memcmp(copy, "FIXSUM", 6) == 0) {
        memmove(copy, copy + 6, n - 6);
        n -= 6;
        hist_header hh;
        memcpy(&hh, copy, sizeof(hh));
        hh.file_size = n;
        hh.sum = XXH3_64bits(&hh, offsetof(hist_header, sum));
        memcpy(copy, &hh, sizeof(hh));
    }
    write_file(path, copy, n);
    hist_file *f = NULL;
    if (tide__hist_file_open(&f, path) == 0) {
        hist_cursor c;
        tide__hist_cursor_init(&c, f);
        char text[HIST_MAX_KEY + 64];
        tide_obs_kind k;
        int r;
        while ((r = tide__hist_cursor_next(&c)) == 1) {
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
    /* the same bytes as a MANIFEST */
    char mp[128];
    snprintf(mp, sizeof(mp), "%s/history/MANIFEST", dir);
    write_file(mp, data, size);
    tide_history *h = NULL;
    if (tide_history_open(&h, dir, false) == 0) {
        tide_history_stats st;
        tide_history_stats_get(h, &st);
        tide_history_free(h);
    }
    unlink(mp);
    unlink(path);
    free(copy);
    return 0;
}
