/*
 * fuzz_misp.c - fuzz target for the MISP event reader (read_misp.c, json_split.c):
 * bytes go through a FILE (fmemopen) into tide__read_misp with a sink that discards.
 * The object cap and read chunk are made small so the cap and chunk-boundary paths are hit.
 */
#include <stdint.h>
#include <stdio.h>

#include "ingest/json_split.h"
#include "ingest/sink.h"

static int emit(tide_sink *s, json_t *obj, const char *raw, size_t rawlen, unsigned flags)
{
    (void)s;
    (void)flags;
    /* touch what a real sink reads */
    if (json_object_get(obj, "id") == NULL && raw == NULL && rawlen)
        return -1;
    return 0;
}

static void reject(tide_sink *s, long line, long long offset, const char *reason)
{
    (void)s;
    (void)line;
    (void)offset;
    (void)reason;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > (1u << 20))
        return 0;
    static tide_ingest_opts opts = { .confidence = -1, .now_ms = 1700000000000LL };
    tide_sink sink = { .emit = emit, .reject = reject, .file = "fuzz", .opts = &opts };
    /* first byte picks small caps / chunks so those paths are covered too */
    tide__ingest_set_read_chunk((size_t)(data[0] & 0x0f) + 1);
    tide__ingest_set_max_object(data[0] & 0x10 ? 64 : 0);
    FILE *fp = fmemopen((void *)(data + 1), size - 1, "rb");
    if (fp == NULL)
        return 0;
    tide__read_misp(&sink, fp);
    fclose(fp);
    tide__ingest_set_read_chunk(0);
    tide__ingest_set_max_object(0);
    return 0;
}
