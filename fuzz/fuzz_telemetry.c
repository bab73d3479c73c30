/*
 * fuzz_telemetry.c - fuzz target for the telemetry readers (SPEC C2): the first byte picks the
 * format (low nibble, modulo the format count; 0 = auto-detect) and, with its high bit, a small
 * line cap; the rest is the file content, fed through tide_tel_open_fd on a temporary file. The
 * NDJSON format runs with a field map; every event's observations are touched so ASan sees any
 * pointer outside the line or scratch buffers. The content is then read again in batches
 * (tide_tel_next_batch, 1 to 8 events, every event touched after its whole batch is read) and
 * must give the same events in the same order (abort otherwise).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tide/telemetry.h"

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001B3ULL;
    return (h ^ n) * 0x100000001B3ULL;
}

/* every byte an event points to, folded into h */
static uint64_t digest(uint64_t h, const tide_event *ev)
{
    h = mix(h, &ev->line, sizeof(ev->line));
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
    FILE *f = tmpfile();
    if (f == NULL)
        return 0;
    if (size > 1 && fwrite(data + 1, 1, size - 1, f) != size - 1) {
        fclose(f);
        return 0;
    }
    fflush(f);
    rewind(f);
    tide_tel_opts o;
    memset(&o, 0, sizeof(o));
    o.format = (tide_tel_format)((data[0] & 0x0f) % TIDE_TEL__COUNT);
    o.map = map;
    o.max_line = (data[0] & 0x80) ? 64 : 0;
    tide_tel_reader *r;
    uint64_t h1 = 0, n1 = 0;
    if (tide_tel_open_fd(&r, fileno(f), "fuzz", &o) == 0) {
        tide_event ev;
        volatile unsigned sum = 0;
        while (tide_tel_next(r, &ev) > 0) {
            h1 = digest(h1, &ev);
            n1++;
            for (size_t i = 0; i < ev.nobs; i++) {
                for (size_t k = 0; k < ev.obs[i].len; k++)
                    sum += (unsigned char)ev.obs[i].value[k];
                sum += (unsigned)strlen(ev.obs[i].field);
            }
            for (size_t k = 0; k < ev.host_len; k++)
                sum += (unsigned char)ev.host[k];
            for (size_t k = 0; ev.user && k < ev.user_len; k++)
                sum += (unsigned char)ev.user[k];
            sum += (unsigned)strlen(ev.kind);
        }
        tide_tel_stats st;
        tide_tel_reader_stats(r, &st);
        if (sum == 0xFFFFFFFFu)
            st.bad++;
        tide_tel_close(r);
        /* the same in batches */
        rewind(f);
        if (tide_tel_open_fd(&r, fileno(f), "fuzz", &o) == 0) {
            tide_event evs[8];
            size_t got, max = 1 + (size_t)((data[0] >> 4) & 7);
            uint64_t h2 = 0, n2 = 0;
            while (tide_tel_next_batch(r, evs, max, &got) > 0)
                for (size_t i = 0; i < got; i++) {
                    h2 = digest(h2, &evs[i]);
                    n2++;
                }
            tide_tel_stats st2;
            tide_tel_reader_stats(r, &st2);
            if (h2 != h1 || n2 != n1 || st2.events != st.events || st2.bad != st.bad ||
                    st2.records != st.records || st2.bytes != st.bytes)
                __builtin_trap(); /* batches must read exactly what single reads do */
            tide_tel_close(r);
        }
    }
    fclose(f);
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
