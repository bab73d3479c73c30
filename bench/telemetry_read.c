/*
 * telemetry_read.c - tiny driver for bench/telemetry_bench.sh: reads each telemetry file given
 * with the tide reader and prints bytes, events, observations, bad records and MB/s.
 * With -v it prints every event (debugging aid): line, ts, host, kind, user, observations.
 * -f FORMAT forces a format, -m MAP gives an NDJSON field map ("ts=@timestamp,ip=src.ip,...").
 * The last column is MB/s of wall time; "cpu" is MB/s of process CPU time (steadier on a shared
 * machine).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tide/errors.h"
#include "tide/telemetry.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_bad(const char *file, uint64_t line, const char *reason, void *payload)
{
    if (*(int *)payload)
        fprintf(stderr, "bad: %s:%llu: %s\n", file, (unsigned long long)line, reason);
}

int main(int argc, char **argv)
{
    int verbose = 0, rc = 0;
    tide_tel_opts o;
    memset(&o, 0, sizeof(o));
    o.on_bad = on_bad;
    o.bad_payload = &verbose;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0) {
            verbose = 1;
            continue;
        }
        if (strcmp(argv[i], "-m") == 0 && i + 1 < argc) {
            tide_field_map *m;
            if (tide_field_map_parse(&m, argv[++i]) < 0) {
                fprintf(stderr, "%s\n", tide_error_last());
                return 2;
            }
            o.map = m; /* kept until exit */
            continue;
        }
        if (strcmp(argv[i], "-f") == 0 && i + 1 < argc) {
            if (tide_tel_format_parse(argv[++i], &o.format) < 0) {
                fprintf(stderr, "%s\n", tide_error_last());
                return 2;
            }
            continue;
        }
        tide_tel_reader *r;
        double t0 = now_s(), c0 = cpu_s();
        if (tide_tel_open(&r, argv[i], &o) < 0) {
            fprintf(stderr, "%s\n", tide_error_last());
            rc = 1;
            continue;
        }
        tide_event ev;
        uint64_t nobs = 0;
        int k;
        while ((k = tide_tel_next(r, &ev)) > 0) {
            nobs += ev.nobs;
            if (verbose) {
                printf("%llu ts=%lld host=%.*s kind=%s user=%.*s", (unsigned long long)ev.line,
                        (long long)ev.ts_us, (int)ev.host_len, ev.host, ev.kind,
                        ev.user ? (int)ev.user_len : 1, ev.user ? ev.user : "-");
                for (size_t j = 0; j < ev.nobs; j++)
                    printf(" %s:%s=%.*s", tide_obs_kind_name(ev.obs[j].kind), ev.obs[j].field,
                            (int)ev.obs[j].len, ev.obs[j].value);
                printf("\n");
            }
        }
        if (k < 0) {
            fprintf(stderr, "%s\n", tide_error_last());
            rc = 1;
        }
        double dt = now_s() - t0, dc = cpu_s() - c0;
        tide_tel_stats st;
        tide_tel_reader_stats(r, &st);
        fprintf(verbose ? stderr : stdout,
                "%s\t%s\tbytes=%llu\tevents=%llu\tobs=%llu\tbad=%llu\tcpu %.0f MB/s\t%.3fs\t%.0f "
                "MB/s\n",
                argv[i], tide_tel_format_name(tide_tel_reader_format(r)),
                (unsigned long long)st.bytes, (unsigned long long)st.events,
                (unsigned long long)nobs, (unsigned long long)st.bad,
                dc > 0 ? (double)st.bytes / dc / 1e6 : 0.0, dt,
                dt > 0 ? (double)st.bytes / dt / 1e6 : 0.0);
        tide_tel_close(r);
    }
    return rc;
}
