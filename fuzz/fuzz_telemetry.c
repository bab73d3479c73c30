/*
 * fuzz_telemetry.c - fuzz target for the telemetry readers (SPEC C2), all in memory: the first
 * byte picks the format (low nibble, modulo the format count; 0 = auto-detect), with its high bit
 * a small line cap, and with bits 4-6 the batch size; the rest is the log content.
 *  1. tide_tel_open_mem over the content, read with tide_tel_next; the NDJSON format runs with a
 *     field map; every byte of every event is folded into a digest, so ASan sees any pointer
 *     outside the line or scratch buffers.
 *  2. the same in batches (tide_tel_next_batch, 1 to 8 events, every event digested after its
 *     whole batch is read) and 3. through tide_tel_open_input handing the content over in pieces
 *     of 1 to 64 bytes: both must give the same events, stats and end (abort otherwise).
 *  4. every line through tide_tel_parse, each copied into a buffer of exactly its size (so ASan
 *     catches a parser reading past a record): when the stream ended cleanly and was read as lines
 *     (not a JSON array), the events (but their offsets) and the bad-record count must be the
 *     stream's.
 *  5. the content (when short) as home networks and as a field map.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tide/errors.h"
#include "tide/telemetry.h"

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001B3ULL;
    return (h ^ n) * 0x100000001B3ULL;
}

/* every byte an event points to, folded into h (the offset only when with_off) */
static uint64_t digest(uint64_t h, const tide_event *ev, bool with_off)
{
    h = mix(h, &ev->line, sizeof(ev->line));
    if (with_off)
        h = mix(h, &ev->offset, sizeof(ev->offset));
    h = mix(h, &ev->ts_us, sizeof(ev->ts_us));
    h = mix(h, ev->host, ev->host_len);
    h = mix(h, ev->kind, strlen(ev->kind));
    if (ev->user)
        h = mix(h, ev->user, ev->user_len);
    for (size_t i = 0; i < ev->nobs; i++) {
        const tide_observation *o = &ev->obs[i];
        h = mix(h, &o->kind, sizeof(o->kind));
        h = mix(h, o->value, o->len);
        h = mix(h, o->field, strlen(o->field));
        h = mix(h, o->addr, o->addr_len);
    }
    return h;
}

typedef struct {
    uint64_t h, hnoff, n;
    int rc;
    tide_tel_stats st;
} result;

static void same(const result *a, const result *b)
{
    if (a->h != b->h || a->n != b->n || a->rc != b->rc || a->st.events != b->st.events ||
            a->st.bad != b->st.bad || a->st.records != b->st.records || a->st.bytes != b->st.bytes)
        __builtin_trap(); /* every way in must read exactly the same */
}

static void drain(tide_tel_reader *r, size_t batch, result *out)
{
    memset(out, 0, sizeof(*out));
    if (batch == 0) {
        tide_event ev;
        while ((out->rc = tide_tel_next(r, &ev)) > 0) {
            out->h = digest(out->h, &ev, true);
            out->hnoff = digest(out->hnoff, &ev, false);
            out->n++;
        }
    } else {
        tide_event evs[8];
        size_t got;
        while ((out->rc = tide_tel_next_batch(r, evs, batch, &got)) > 0)
            for (size_t i = 0; i < got; i++) {
                out->h = digest(out->h, &evs[i], true);
                out->n++;
            }
    }
    tide_tel_reader_stats(r, &out->st);
}

typedef struct {
    const uint8_t *p;
    size_t n, pos;
    uint32_t x;
} pieces;

static int read_pieces(void *ctx, void *buf, size_t cap, size_t *got)
{
    pieces *s = ctx;
    s->x = s->x * 1103515245u + 12345u;
    size_t k = 1 + (s->x >> 16) % 64;
    if (k > s->n - s->pos)
        k = s->n - s->pos;
    if (k > cap)
        k = cap;
    memcpy(buf, s->p + s->pos, k);
    s->pos += k;
    *got = k;
    return 0;
}

/* 4: the lines through tide_tel_parse */
static void by_record(const uint8_t *p, size_t n, const tide_tel_opts *o, const result *stream)
{
    tide_tel_parser *ps;
    if (tide_tel_parser_new(&ps, o->format, o) < 0)
        return;
    uint64_t h = 0, events = 0, bad = 0;
    size_t at = 0;
    while (at < n) {
        const uint8_t *nl = memchr(p + at, '\n', n - at);
        size_t len = nl ? (size_t)(nl - p - at) : n - at;
        char *rec = malloc(len ? len : 1);
        if (rec == NULL)
            break;
        memcpy(rec, p + at, len);
        tide_event ev;
        int rc = tide_tel_parse(ps, rec, len, &ev);
        if (rc == 1) {
            h = digest(h, &ev, false);
            events++;
        } else if (rc == TIDE_EFORMAT)
            bad++;
        free(rec);
        at += len + (nl != NULL);
    }
    tide_tel_parser_free(ps);
    /* comparable when the stream read lines (not a JSON array) to a clean end */
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    if (stream->rc == 0 && (i == n || p[i] != '[') &&
            (h != stream->hnoff || events != stream->n || bad != stream->st.bad))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static tide_field_map *map;
    if (map == NULL &&
            tide_field_map_parse(&map, "ts=@timestamp,src=source.ip,dst=destination.ip,"
                                       "domain=dns.question.name,url=url.full,sha256=file.hash."
                                       "sha256,ip=related.ip,user=user.name,kind=event.kind,"
                                       "host=host.name,email=email.from") < 0)
        return 0;
    const uint8_t *content = data + 1;
    size_t n = size - 1;
    tide_tel_opts o;
    memset(&o, 0, sizeof(o));
    o.format = (tide_tel_format)((data[0] & 0x0f) % TIDE_TEL__COUNT);
    o.map = map;
    /* no line of the content is longer than the content: capping max_line there changes no
     * event, and keeps the reader's buffers in the sanitizer's small-chunk allocator instead of
     * an mmap per run (40 % of the time went to page faults at 1 MiB) */
    o.max_line = (data[0] & 0x80) ? 64 : n + 1;
    tide_tel_reader *r;
    result single, other;
    if (tide_tel_open_mem(&r, content, n, "fuzz", &o) == 0) {
        drain(r, 0, &single);
        tide_tel_close(r);
        if (tide_tel_open_mem(&r, content, n, "fuzz", &o) == 0) {
            drain(r, 1 + (size_t)((data[0] >> 4) & 7), &other);
            tide_tel_close(r);
            same(&single, &other);
        }
        pieces pc = { content, n, 0, data[0] };
        tide_tel_input in = { read_pieces, &pc };
        if (tide_tel_open_input(&r, &in, "fuzz", &o) == 0) {
            drain(r, 0, &other);
            tide_tel_close(r);
            same(&single, &other);
        }
        by_record(content, n, &o, &single);
    }
    tide_homenet *h;
    if (size < 200) {
        char spec[256];
        memcpy(spec, data + 1, size - 1);
        spec[size - 1] = '\0';
        if (tide_homenet_new(&h, spec) == 0) {
            tide_homenet_contains(h, spec, strlen(spec));
            tide_homenet_free(h);
        }
        tide_field_map *m;
        if (tide_field_map_parse(&m, spec) == 0)
            tide_field_map_free(m);
    }
    return 0;
}
