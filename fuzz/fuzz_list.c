/*
 * fuzz_list.c - fuzz target for the plain-list reader (tide__read_list) with a sink that
 * checks every emitted object is a JSON object with a type and an id.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/sink.h"
#include "tide/errors.h"

static int f_emit(tide_sink *sink, json_t *obj, const char *raw, size_t rawlen, unsigned flags)
{
    (void)sink;
    (void)raw;
    (void)rawlen;
    (void)flags;
    if (!json_is_string(json_object_get(obj, "type")) ||
            !json_is_string(json_object_get(obj, "id")))
        abort();
    return 0;
}

static void f_reject(tide_sink *sink, long line, long long offset, const char *reason)
{
    (void)sink;
    (void)line;
    (void)offset;
    (void)reason;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    FILE *fp = fmemopen((void *)data, size, "rb");
    if (fp == NULL)
        return 0;
    tide_ingest_opts o;
    memset(&o, 0, sizeof(o));
    o.confidence = -1;
    o.now_ms = 1700000000000LL;
    o.tlp = "green";
    tide_sink s = { .emit = f_emit, .reject = f_reject, .file = "fuzz/malware/x.txt", .opts = &o };
    /* nothing runs out of memory here: TIDE_ENOMEM would be a bad record taken for a
     * failure of the whole input (it was, for bytes that are not UTF-8) */
    if (tide__read_list(&s, fp) == TIDE_ENOMEM)
        abort();
    fclose(fp);
    return 0;
}
