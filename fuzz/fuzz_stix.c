/*
 * fuzz_stix.c - differential fuzz target for the streaming STIX 2.1 reader (read_stix.c,
 * json_split.c): bytes go through a FILE (fmemopen) into tide__read_stix twice, once with a
 * DOM sink (emit: jansson objects) and once with a members sink (emit_members: decoded members
 * straight from the bytes, the ingest core's path). Both runs must log the same thing: every
 * emitted object's members (from the DOM by tide__members_from_json, resp. as given), its raw
 * bytes and place, and every reject (place and reason); the target aborts on any difference.
 * The object cap and read chunk are made small so the cap and chunk-boundary paths are hit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/json_split.h"
#include "ingest/sink.h"
#include "ingest/stix_members.h"

typedef struct {
    char *buf;
    size_t len, cap;
} logbuf;

static void put(logbuf *l, const void *p, size_t n)
{
    if (l->len + n > l->cap) {
        size_t cap = l->cap ? l->cap : 4096;
        while (cap < l->len + n)
            cap *= 2;
        l->buf = realloc(l->buf, cap);
        if (l->buf == NULL)
            abort();
        l->cap = cap;
    }
    memcpy(l->buf + l->len, p, n);
    l->len += n;
}

static void put_str(logbuf *l, const char *s)
{
    if (s == NULL) {
        put(l, "\x01", 1);
        return;
    }
    put(l, s, strlen(s) + 1);
}

static void put_num(logbuf *l, long long v)
{
    char b[32];
    int n = snprintf(b, sizeof(b), "%lld;", v);
    put(l, b, (size_t)n);
}

static void log_members(logbuf *l, const tide__members *m)
{
    const char *const strs[] = { m->id, m->type, m->spec_version, m->name, m->value, m->pattern,
        m->pattern_type, m->created, m->modified, m->valid_from, m->valid_until, m->x_tide_source,
        m->x_tide_reliability, m->relationship_type, m->source_ref, m->target_ref,
        m->sighting_of_ref };
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        put_str(l, strs[i]);
    put_num(l, m->confidence_is_int);
    put_num(l, m->confidence_is_int ? m->confidence : 0);
    put_num(l, m->revoked);
    put_num(l, m->objects);
    const tide__strs *lists[] = { &m->object_marking_refs, &m->object_refs, &m->where_sighted_refs,
        &m->observed_data_refs };
    for (size_t i = 0; i < 4; i++) {
        put_num(l, (long long)lists[i]->n);
        for (size_t k = 0; k < lists[i]->n; k++)
            put_str(l, lists[i]->v[k]);
    }
    put_num(l, (long long)m->n_kill_chain_phases);
    for (size_t k = 0; k < m->n_kill_chain_phases; k++) {
        put_str(l, m->kill_chain_phases[k].kill_chain_name);
        put_str(l, m->kill_chain_phases[k].phase_name);
    }
}

static void log_object(tide_sink *s, const tide__members *m, const char *raw, size_t rawlen)
{
    logbuf *l = s->payload;
    put(l, "O", 1);
    put_num(l, s->line);
    put_num(l, s->offset);
    put_num(l, (long long)rawlen);
    put(l, raw, rawlen);
    log_members(l, m);
}

static int emit_dom(tide_sink *s, json_t *obj, const char *raw, size_t rawlen, unsigned flags)
{
    static tide__arena a = TIDE__ARENA_INIT;
    tide__members m;
    tide__arena_reset(&a);
    if (flags != 0 || raw == NULL || tide__members_from_json(obj, &m, &a) != 0)
        abort();
    log_object(s, &m, raw, rawlen);
    return 0;
}

static int emit_members(tide_sink *s, const tide__members *m, const char *raw, size_t rawlen)
{
    if (raw == NULL)
        abort();
    log_object(s, m, raw, rawlen);
    return 0;
}

static void reject(tide_sink *s, long line, long long offset, const char *reason)
{
    logbuf *l = s->payload;
    put(l, "R", 1);
    put_num(l, line);
    put_num(l, offset);
    put_str(l, reason);
}

static int run(const uint8_t *data, size_t size, int members, logbuf *l)
{
    static tide_ingest_opts opts = { .confidence = -1, .now_ms = 1700000000000LL };
    tide_sink sink = { .emit = emit_dom,
        .reject = reject,
        .file = "fuzz",
        .opts = &opts,
        .payload = l,
        .emit_members = members ? emit_members : NULL };
    FILE *fp = fmemopen((void *)data, size, "rb");
    if (fp == NULL)
        return -100;
    int rc = tide__read_stix(&sink, fp);
    fclose(fp);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > (1u << 20))
        return 0;
    /* first byte picks small caps / chunks so those paths are covered too */
    tide__ingest_set_read_chunk((size_t)(data[0] & 0x0f) + 1);
    tide__ingest_set_max_object(data[0] & 0x10 ? 64 : 0);
    logbuf a = { NULL, 0, 0 }, b = { NULL, 0, 0 };
    int ra = run(data + 1, size - 1, 0, &a);
    int rb = run(data + 1, size - 1, 1, &b);
    if (ra != rb || a.len != b.len || (a.len && memcmp(a.buf, b.buf, a.len) != 0)) {
        fprintf(stderr,
                "read_stix: the members sink saw something else than the DOM sink "
                "(rc %d vs %d, log %zu vs %zu bytes)\n",
                ra, rb, a.len, b.len);
        abort();
    }
    free(a.buf);
    free(b.buf);
    tide__ingest_set_read_chunk(0);
    tide__ingest_set_max_object(0);
    return 0;
}
