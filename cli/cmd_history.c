/*
 * cmd_history.c - the history verbs (SPEC C3): `tide history import|prune|stats` fill and
 * manage the observation history under the store (history.h), and `tide hunt` hunts
 * indicators back through it, printing and storing retro-sightings. Also the retro-hunt that
 * `tide ingest` runs after adding or changing indicators (cli_hunt_changed).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd.h"
#include "tide/history.h"

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* JSON string of s; invalid UTF-8 bytes become U+FFFD so every line stays valid JSON. */
static void put_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else if (*p < 0x80)
            fputc(*p, f);
        else {
            size_t len = *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC2 ? 2 : 0;
            bool ok = len > 0 && *p < 0xF5;
            for (size_t k = 1; ok && k < len; k++)
                ok = (p[k] & 0xC0) == 0x80;
            if (ok) {
                fwrite(p, 1, len, f);
                p += len - 1;
            } else {
                fputs("\\ufffd", f);
            }
        }
    }
    fputc('"', f);
}

static void put_kv(FILE *f, const char *k, const char *v)
{
    fprintf(f, ",\"%s\":", k);
    put_str(f, v);
}

static void put_time(FILE *f, const char *k, int64_t us)
{
    char t[32];
    tide_time_format(us / 1000, t);
    fprintf(f, ",\"%s\":\"%s\"", k, t);
}

static void put_names(FILE *f, const char *one, const char *many, const char *list, size_t n)
{
    if (n == 0 || list == NULL)
        return;
    put_kv(f, one, list);
    if (n < 2)
        return;
    fprintf(f, ",\"%s\":[", many);
    const char *p = list;
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc(',', f);
        put_str(f, p);
        p += strlen(p) + 1;
    }
    fputc(']', f);
}

/* ---- tide hunt ---- */

typedef struct {
    bool json;
    unsigned long n;
} hunt_out;

static int print_retro(const tide_retro_sighting *s, void *payload)
{
    hunt_out *o = payload;
    const tide_match_hit *h = s->hit;
    FILE *f = stdout;
    o->n++;
    if (!o->json) {
        char a[32], b[32];
        tide_time_format(s->first_seen_us / 1000, a);
        tide_time_format(s->last_seen_us / 1000, b);
        printf("%-16s %-40s %6llu  %s .. %s  %s%s\n", s->host, h->value,
                (unsigned long long)s->count, a, b, h->ncampaigns ? h->campaigns : "",
                h->suppressed ? " (suppressed)" : "");
        return 0;
    }
    fputs("{\"host\":", f);
    put_str(f, s->host);
    put_kv(f, "indicator", h->value);
    put_kv(f, "observed", s->observed);
    put_time(f, "first_seen", s->first_seen_us);
    put_time(f, "last_seen", s->last_seen_us);
    fprintf(f, ",\"count\":%llu", (unsigned long long)s->count);
    put_kv(f, "file", s->file);
    fprintf(f, ",\"line\":%llu,\"retro\":true", (unsigned long long)s->line);
    fprintf(f, ",\"indicator_id\":\"%s\",\"type\":\"%s\"", h->indicator_id,
            tide_obs_kind_name(h->kind));
    put_names(f, "campaign", "campaigns", h->campaigns, h->ncampaigns);
    put_names(f, "malware", "malware_all", h->malware, h->nmalware);
    put_names(f, "actor", "actors", h->actors, h->nactors);
    if (h->confidence >= 0)
        fprintf(f, ",\"confidence\":%d", h->confidence);
    fprintf(f, ",\"score\":%d", h->score);
    if (h->tlp)
        put_kv(f, "tlp", h->tlp);
    if (h->kill_chain)
        put_kv(f, "kill_chain", h->kill_chain);
    if (h->source)
        put_kv(f, "source", h->source);
    fprintf(f, ",\"suppressed\":%s", h->suppressed ? "true" : "false");
    if (h->suppressed && h->suppressed_by)
        put_kv(f, "suppressed_by", h->suppressed_by);
    fputs("}\n", f);
    return 0;
}

/* Hunt with a fresh view of the history; once more if a compaction removed a run meanwhile. */
static int run_hunt(tide_store *s, const tide_hunt_opts *o,
        int (*cb)(const tide_retro_sighting *, void *), void *payload, tide_hunt_stats *st)
{
    int rc = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        tide_history *h = NULL;
        rc = tide_history_open(&h, cli_store_dir, false);
        if (rc == 0)
            rc = tide_history_hunt(h, s, o, cb, payload, st);
        tide_history_free(h);
        if (rc != TIDE_ENOTFOUND)
            break;
    }
    return rc;
}

int cli_hunt_changed(tide_store *s, int64_t since_ms)
{
    tide_indicator_filter f = { .changed_since = since_ms };
    tide_hunt_opts o = { .filter = &f, .store = true };
    tide_hunt_stats st;
    double t0 = mono_s();
    /* no history yet (a new store, or one that never imported telemetry): nothing to hunt
     * in, and no need to read back every indicator just loaded */
    tide_history *h = NULL;
    tide_history_stats hs = { 0 };
    int rc = tide_history_open(&h, cli_store_dir, false);
    if (rc == 0)
        rc = tide_history_stats_get(h, &hs);
    tide_history_free(h);
    if (rc == 0 && hs.runs == 0)
        return 0;
    rc = run_hunt(s, &o, NULL, NULL, &st);
    if (rc < 0) {
        cli_err("ingest", "retro-hunt: %s", tide_error_last());
        return rc;
    }
    if (st.indicators > 0)
        fprintf(stderr, "hunted %zu indicators: %zu hosts, %zu retro-sightings (%.2f s)\n",
                st.indicators, st.hosts, st.sightings, mono_s() - t0);
    return 0;
}

int cmd_hunt(int argc, char **argv)
{
    if (cli_wants_help("hunt", argc, argv))
        return TIDE_EXIT_OK;
    const char *value = NULL, *related = NULL, *added = NULL, *since = NULL, *until = NULL;
    bool all = false, json = false, no_store = false;
    for (int i = 1; i < argc;) {
        int r;
        if ((r = cli_opt("hunt", argc, argv, &i, "indicator", &value)) ||
                (r = cli_opt("hunt", argc, argv, &i, "related", &related)) ||
                (r = cli_opt("hunt", argc, argv, &i, "added-since", &added)) ||
                (r = cli_opt("hunt", argc, argv, &i, "since", &since)) ||
                (r = cli_opt("hunt", argc, argv, &i, "until", &until))) {
            if (r < 0)
                return TIDE_EXIT_USAGE;
            continue;
        }
        if (cli_flag(argv, i, "all"))
            all = true;
        else if (cli_flag(argv, i, "json"))
            json = true;
        else if (cli_flag(argv, i, "no-store"))
            no_store = true;
        else {
            cli_err("hunt", "unknown argument '%s'", argv[i]);
            return TIDE_EXIT_USAGE;
        }
        i++;
    }
    if (!all && !value && !related && !added) {
        cli_err("hunt", "say what to hunt: --indicator V, --related NAME, --added-since T or --all");
        return TIDE_EXIT_USAGE;
    }
    tide_indicator_filter f = { 0 };
    tide_hunt_opts o = { .filter = &f, .store = !no_store };
    char *canon = NULL;
    if (value) {
        /* a value as the store keeps it (canonical), or an indicator id */
        tide_obs_kind k = strncmp(value, "indicator--", 11) == 0 ? TIDE_OBS_NONE
                                                                 : tide_obs_detect(value);
        if (k != TIDE_OBS_NONE && tide_obs_normalize(k, value, &canon) == 0)
            f.value = canon;
        else
            f.value = value;
    }
    f.related = related;
    if ((added && tide_time_parse(added, &f.changed_since) < 0) ||
            (since && tide_time_parse(since, &o.since_ms) < 0) ||
            (until && tide_time_parse(until, &o.until_ms) < 0)) {
        cli_err("hunt", "not a time: '%s' (RFC 3339, a date, or an age like 7d)",
                added && tide_time_parse(added, &f.changed_since) < 0 ? added
                : since && tide_time_parse(since, &o.since_ms) < 0   ? since
                                                                     : until);
        free(canon);
        return TIDE_EXIT_USAGE;
    }
    tide_store *s = cli_open_store("hunt");
    if (s == NULL) {
        free(canon);
        return TIDE_EXIT_STORE;
    }
    static char outbuf[1 << 16];
    setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
    hunt_out out = { .json = json };
    tide_hunt_stats st;
    double t0 = mono_s();
    int rc = run_hunt(s, &o, print_retro, &out, &st);
    double secs = mono_s() - t0;
    fflush(stdout);
    tide_store_free(s);
    free(canon);
    if (rc < 0) {
        cli_err("hunt", "%s", tide_error_last());
        return rc == TIDE_EFORMAT ? TIDE_EXIT_USAGE : TIDE_EXIT_STORE;
    }
    fprintf(stderr,
            "tide hunt: %zu indicators, %llu history records checked in %.3f s: %zu hosts, "
            "%zu retro-sightings%s\n",
            st.indicators, (unsigned long long)st.records_checked, secs, st.hosts, st.sightings,
            no_store ? "" : " (stored)");
    if (st.unconfirmable)
        fprintf(stderr, "tide hunt: %zu candidate(s) of non-simple patterns left out: history "
                        "keeps observables, not whole events\n", st.unconfirmable);
    return TIDE_EXIT_OK;
}

/* ---- tide history ---- */

typedef struct {
    char **v;
    size_t n, cap;
} pathlist;

static int paths_add(pathlist *p, const char *s)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        char **v = realloc(p->v, cap * sizeof(char *));
        if (v == NULL)
            return -1;
        p->v = v;
        p->cap = cap;
    }
    if ((p->v[p->n] = strdup(s)) == NULL)
        return -1;
    p->n++;
    return 0;
}

static int add_path(const char *path, void *payload)
{
    return paths_add(payload, path);
}

/* regular files under dir, recursively, by name; hidden entries skipped */
static void scan_dir(pathlist *out, const char *dir)
{
    (void)cli_walk_files(dir, add_path, out);
}

static int parse_days(const char *v, int *out)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (end == v || n < 1 || n > 100000 || (*end && strcmp(end, "d") != 0))
        return -1;
    *out = (int)n;
    return 0;
}

static unsigned long bad_records;

static void on_bad(const char *file, uint64_t line, const char *reason, void *payload)
{
    (void)payload;
    if (++bad_records <= 20)
        fprintf(stderr, "tide history: %s:%llu: %s\n", file, (unsigned long long)line, reason);
}

static void print_stats(const tide_history_stats *s, bool json)
{
    double ratio = s->raw_bytes ? (double)s->bytes / (double)s->raw_bytes : 0;
    char a[32] = "", b[32] = "";
    if (s->partitions) {
        tide_time_format(s->first_day_ms, a);
        tide_time_format(s->last_day_ms, b);
        a[10] = b[10] = '\0';
    }
    if (json) {
        printf("{\"partitions\":%zu,\"runs\":%zu,\"records\":%llu,\"events\":%llu,\"bytes\":%llu,"
               "\"raw_bytes\":%llu,\"ratio\":%.5f,\"retention_days\":%d,\"first_day\":",
                s->partitions, s->runs, (unsigned long long)s->records,
                (unsigned long long)s->events, (unsigned long long)s->bytes,
                (unsigned long long)s->raw_bytes, ratio, s->retention_days);
        if (s->partitions)
            printf("\"%s\",\"last_day\":\"%s\"}\n", a, b);
        else
            printf("null,\"last_day\":null}\n");
        return;
    }
    printf("partitions:   %zu (%s .. %s), %zu run file(s)\n", s->partitions, a, b, s->runs);
    printf("records:      %llu (observable x host x day) from %llu events\n",
            (unsigned long long)s->records, (unsigned long long)s->events);
    printf("bytes:        %llu for %llu raw bytes imported (%.4f bytes per raw byte)\n",
            (unsigned long long)s->bytes, (unsigned long long)s->raw_bytes, ratio);
    printf("retention:    %d days\n", s->retention_days);
}

static int history_import(int argc, char **argv)
{
    const char *format = NULL, *home = NULL, *map = NULL, *ret = NULL;
    bool json = false;
    pathlist in = { 0 };
    int exit_code = TIDE_EXIT_OK;
    for (int i = 2; i < argc;) {
        int r;
        if ((r = cli_opt("history", argc, argv, &i, "format", &format)) ||
                (r = cli_opt("history", argc, argv, &i, "home-net", &home)) ||
                (r = cli_opt("history", argc, argv, &i, "map", &map)) ||
                (r = cli_opt("history", argc, argv, &i, "retention", &ret))) {
            if (r < 0)
                return TIDE_EXIT_USAGE;
            continue;
        }
        if (cli_flag(argv, i, "json")) {
            json = true;
        } else if (strncmp(argv[i], "--", 2) == 0) {
            cli_err("history", "unknown option '%s'", argv[i]);
            return TIDE_EXIT_USAGE;
        } else {
            struct stat st;
            if (stat(argv[i], &st) != 0) {
                cli_err("history", "%s: %s", argv[i], strerror(errno));
                return TIDE_EXIT_USAGE;
            }
            if (S_ISDIR(st.st_mode))
                scan_dir(&in, argv[i]);
            else
                paths_add(&in, argv[i]);
        }
        i++;
    }
    if (in.n == 0) {
        cli_err("history", "import: no input files");
        return TIDE_EXIT_USAGE;
    }
    tide_tel_opts topts = { .on_bad = on_bad };
    tide_homenet *hn = NULL;
    tide_field_map *fm = NULL;
    tide_history *h = NULL;
    int days = 0;
    if (ret && parse_days(ret, &days) < 0) {
        cli_err("history", "--retention takes days, e.g. 30d");
        exit_code = TIDE_EXIT_USAGE;
        goto done;
    }
    if (format && tide_tel_format_parse(format, &topts.format) < 0) {
        cli_err("history", "unknown format '%s'", format);
        exit_code = TIDE_EXIT_USAGE;
        goto done;
    }
    if (home && tide_homenet_new(&hn, home) < 0) {
        cli_err("history", "--home-net: %s", tide_error_last());
        exit_code = TIDE_EXIT_USAGE;
        goto done;
    }
    topts.home_net = hn;
    if (map) {
        struct stat st;
        int r = stat(map, &st) == 0 ? tide_field_map_load(&fm, map) : tide_field_map_parse(&fm, map);
        if (r < 0) {
            cli_err("history", "--map: %s", tide_error_last());
            exit_code = TIDE_EXIT_USAGE;
            goto done;
        }
        topts.map = fm;
    }
    if (tide_history_open(&h, cli_store_dir, true) < 0) {
        cli_err("history", "%s", tide_error_last());
        exit_code = TIDE_EXIT_STORE;
        goto done;
    }
    if (days && tide_history_set_retention(h, days) < 0) {
        exit_code = TIDE_EXIT_USAGE;
        goto done;
    }
    double t0 = mono_s();
    uint64_t bytes = 0, events = 0;
    for (size_t i = 0; i < in.n; i++) {
        tide_tel_reader *r = NULL;
        if (tide_tel_open(&r, in.v[i], &topts) < 0) {
            cli_err("history", "%s", tide_error_last());
            exit_code = TIDE_EXIT_USAGE;
            continue;
        }
        tide_event ev;
        int rc;
        while ((rc = tide_tel_next(r, &ev)) == 1) {
            events++;
            if (tide_history_add(h, in.v[i], &ev) < 0) {
                cli_err("history", "%s", tide_error_last());
                tide_tel_close(r);
                exit_code = TIDE_EXIT_STORE;
                goto done;
            }
        }
        if (rc < 0) {
            cli_err("history", "%s: %s", in.v[i], tide_error_last());
            exit_code = TIDE_EXIT_USAGE;
        }
        tide_tel_stats ts;
        tide_tel_reader_stats(r, &ts);
        bytes += ts.bytes;
        tide_history_add_raw_bytes(h, ts.bytes);
        tide_tel_close(r);
    }
    double t1 = mono_s();
    if (tide_history_commit(h) < 0) {
        cli_err("history", "commit: %s", tide_error_last());
        exit_code = TIDE_EXIT_STORE;
        goto done;
    }
    double t2 = mono_s();
    tide_history_stats hs;
    tide_history_stats_get(h, &hs);
    fprintf(stderr,
            "tide history: imported %zu file(s), %llu events, %.1f MB in %.2f s (%.0f MB/s, "
            "commit %.2f s); %llu bad records\n",
            in.n, (unsigned long long)events, bytes / 1e6, t2 - t0,
            t2 > t0 ? bytes / 1e6 / (t2 - t0) : 0.0, t2 - t1, (unsigned long long)bad_records);
    if (json)
        print_stats(&hs, true);
    else
        fprintf(stderr, "tide history: %llu records in %zu partition(s), %llu bytes (%.4f per raw byte)\n",
                (unsigned long long)hs.records, hs.partitions, (unsigned long long)hs.bytes,
                hs.raw_bytes ? (double)hs.bytes / (double)hs.raw_bytes : 0.0);
done:
    tide_history_free(h);
    tide_homenet_free(hn);
    tide_field_map_free(fm);
    for (size_t i = 0; i < in.n; i++)
        free(in.v[i]);
    free(in.v);
    return exit_code;
}

int cmd_history(int argc, char **argv)
{
    if (cli_wants_help("history", argc, argv))
        return TIDE_EXIT_OK;
    if (argc < 2) {
        cli_usage("history", stderr);
        return TIDE_EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "import") == 0)
        return history_import(argc, argv);
    const char *before = NULL, *ret = NULL;
    bool json = false;
    for (int i = 2; i < argc;) {
        int r;
        if ((r = cli_opt("history", argc, argv, &i, "before", &before)) ||
                (r = cli_opt("history", argc, argv, &i, "retention", &ret))) {
            if (r < 0)
                return TIDE_EXIT_USAGE;
            continue;
        }
        if (cli_flag(argv, i, "json"))
            json = true;
        else {
            cli_err("history", "unknown argument '%s'", argv[i]);
            return TIDE_EXIT_USAGE;
        }
        i++;
    }
    if (strcmp(sub, "stats") == 0) {
        tide_history *h = NULL;
        tide_history_stats st;
        if (tide_history_open(&h, cli_store_dir, false) < 0 || tide_history_stats_get(h, &st) < 0) {
            cli_err("history", "%s", tide_error_last());
            tide_history_free(h);
            return TIDE_EXIT_STORE;
        }
        print_stats(&st, json);
        tide_history_free(h);
        return TIDE_EXIT_OK;
    }
    if (strcmp(sub, "prune") == 0) {
        int64_t before_ms = 0;
        int days = 0;
        if (before && tide_time_parse(before, &before_ms) < 0) {
            cli_err("history", "--before: not a time: '%s'", before);
            return TIDE_EXIT_USAGE;
        }
        if (ret && parse_days(ret, &days) < 0) {
            cli_err("history", "--retention takes days, e.g. 30d");
            return TIDE_EXIT_USAGE;
        }
        tide_history *h = NULL;
        size_t dropped = 0;
        if (tide_history_open(&h, cli_store_dir, true) < 0 ||
                (days && tide_history_set_retention(h, days) < 0) ||
                tide_history_prune(h, before_ms, &dropped) < 0) {
            cli_err("history", "%s", tide_error_last());
            tide_history_free(h);
            return TIDE_EXIT_STORE;
        }
        fprintf(stderr, "tide history: pruned %zu day(s); retention %d days\n", dropped,
                tide_history_retention(h));
        tide_history_free(h);
        return TIDE_EXIT_OK;
    }
    cli_err("history", "unknown subcommand '%s' (import, prune, stats)", sub);
    return TIDE_EXIT_USAGE;
}
