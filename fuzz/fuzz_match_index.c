/*
 * fuzz_match_index.c - fuzz target for match index files (index_file.c): a saved index is
 * outside input once it sits on disk. The harness refreshes the checksum of the mutated image
 * so that the structural checks behind it are exercised, then loads it and runs lookups of
 * every kind through whatever it accepted.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "match/index_int.h"

static int count_hit(const tide_match_hit *h, void *payload)
{
    (void)h;
    (*(int *)payload)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    uint8_t *img = malloc(size ? size : 1);
    if (img == NULL)
        return 0;
    memcpy(img, data, size);
    size_t hoff = (sizeof(ix_header) + 7) & ~(size_t)7;
    if (size >= hoff) {
        ix_header h;
        memcpy(&h, img, sizeof(h));
        memcpy(h.magic, IX_MAGIC, 8);
        h.version = IX_VERSION;
        h.endian = 0x01020304u;
        h.size = size;
        h.checksum = XXH3_64bits(img + hoff, size - hoff);
        memcpy(img, &h, sizeof(h));
    }
    char path[] = "/tmp/tide-fuzz-index-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        free(img);
        return 0;
    }
    FILE *f = fdopen(fd, "wb");
    if (f) {
        fwrite(img, 1, size, f);
        fclose(f);
    } else {
        close(fd);
    }
    free(img);
    tide_match_index *ix = NULL;
    if (tide_match_index_load(&ix, path) == 0) {
        static const struct {
            tide_obs_kind k;
            const char *v;
        } probes[] = {
            { TIDE_OBS_IPV4, "1.2.3.4" },
            { TIDE_OBS_IPV4, "10.0.0.1" },
            { TIDE_OBS_IPV6, "2001:db8::1" },
            { TIDE_OBS_DOMAIN, "a.b.evil.example" },
            { TIDE_OBS_URL, "http://x.example/a/b/c?d" },
            { TIDE_OBS_IP_PORT, "1.2.3.4:443" },
            { TIDE_OBS_MD5, "d41d8cd98f00b204e9800998ecf8427e" },
            { TIDE_OBS_EMAIL, "a@b.c" },
        };
        int n = 0;
        for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
            tide_match_lookup(ix, probes[i].k, probes[i].v, strlen(probes[i].v), count_hit, &n);
        tide_match_index_info info;
        tide_match_index_info_get(ix, &info);
        tide_match_index_free(ix);
    }
    unlink(path);
    return 0;
}
