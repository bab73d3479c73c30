/*
 * fuzz_telemetry.c - fuzz target for the telemetry readers (SPEC C2): the first byte picks the
 * format (low nibble, modulo the format count; 0 = auto-detect) and, with its high bit, a small
 * line cap; the rest is the file content, fed through tide_tel_open_fd on a temporary file. The
 * NDJSON format runs with a field map; every event's observations are touched so ASan sees any
 * pointer outside the line or scratch buffers.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tide/telemetry.h"

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
    if (tide_tel_open_fd(&r, fileno(f), "fuzz", &o) == 0) {
        tide_event ev;
        volatile unsigned sum = 0;
        while (tide_tel_next(r, &ev) > 0) {
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
