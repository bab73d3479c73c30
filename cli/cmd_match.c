/*
 * cmd_match.c - the detection verbs: `tide match` (a match run of the engine: telemetry in,
 * NDJSON sightings out, stored per host x indicator; --follow keeps reading growing files and
 * folders and swaps in a new index when the intel changes), `tide sightings` (list stored
 * ones) and `tide index` (build / inspect the compiled match index).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cmd.h"

/* ---- tide match ---- */

static tide_match_run *running; /* for the signal handler */

static void on_signal(int sig)
{
    (void)sig;
    if (running)
        tide_match_run_stop(running);
}

typedef struct {
    bool hide_suppressed;
    struct {
        char *p;
        size_t cap;
    } line; /* one sighting's JSON */
    unsigned long bad;
} out_ctx;

static int print_sighting(const tide_sighting *s, void *payload)
{
    out_ctx *o = payload;
    if (s->hit->suppressed && o->hide_suppressed)
        return 0;
    size_t n = tide_sighting_json(s, o->line.p, o->line.cap);
    if (n >= o->line.cap) {
        size_t cap = n + 1 > 2 * o->line.cap ? n + 1 : 2 * o->line.cap;
        char *p = realloc(o->line.p, cap);
        if (p == NULL)
            return -1;
        o->line.p = p;
        o->line.cap = cap;
        tide_sighting_json(s, o->line.p, o->line.cap);
    }
    fwrite(o->line.p, 1, n, stdout);
    return 0;
}

static void flush_out(void *payload)
{
    (void)payload;
    fflush(stdout);
}

static void on_bad(const char *file, uint64_t line, const char *reason, void *payload)
{
    out_ctx *o = payload;
    o->bad++;
    if (o->bad <= 21)
        cli_progress_clear();
    if (o->bad <= 20)
        fprintf(stderr, "tide match: %s:%llu: %s\n", file, (unsigned long long)line, reason);
    else if (o->bad == 21)
        fprintf(stderr, "tide match: more bad records; counting only\n");
}

int cmd_match(int argc, char **argv)
{
    if (cli_wants_help("match", argc, argv))
        return TIDE_EXIT_OK;
    const char *format = NULL, *home = NULL, *map = NULL;
    bool quiet = false;
    out_ctx out = { 0 };
    tide_match_run_opts ro;
    memset(&ro, 0, sizeof(ro));
    const char **paths = calloc((size_t)argc, sizeof(char *));
    size_t npaths = 0;
    if (paths == NULL)
        return TIDE_EXIT_STORE;
    for (int i = 1; i < argc;) {
        int r;
        if ((r = cli_opt("match", argc, argv, &i, "format", &format)) ||
                (r = cli_opt("match", argc, argv, &i, "home-net", &home)) ||
                (r = cli_opt("match", argc, argv, &i, "map", &map))) {
            if (r < 0) {
                free(paths);
                return TIDE_EXIT_USAGE;
            }
            continue;
        }
        if (cli_flag(argv, i, "follow"))
            ro.follow = true;
        else if (cli_flag(argv, i, "no-store"))
            ro.no_store = true;
        else if (cli_flag(argv, i, "no-history"))
            ro.no_history = true;
        else if (cli_flag(argv, i, "hide-suppressed"))
            out.hide_suppressed = true;
        else if (cli_flag(argv, i, "rebuild-index"))
            ro.rebuild_index = true;
        else if (cli_flag(argv, i, "quiet"))
            quiet = true;
        else if (strncmp(argv[i], "--", 2) == 0) {
            cli_err("match", "unknown option '%s'", argv[i]);
            free(paths);
            return TIDE_EXIT_USAGE;
        } else {
            struct stat st;
            if (strcmp(argv[i], "-") != 0 && stat(argv[i], &st) != 0) {
                cli_err("match", "%s: %s", argv[i], strerror(errno));
                free(paths);
                return TIDE_EXIT_USAGE;
            }
            paths[npaths++] = argv[i];
        }
        i++;
    }
    if (npaths == 0) {
        cli_err("match", "no input: give files, folders or '-'");
        cli_usage("match", stderr);
        free(paths);
        return TIDE_EXIT_USAGE;
    }
    int exit_code = TIDE_EXIT_OK;
    tide_homenet *hn = NULL;
    tide_field_map *fm = NULL;
    tide_workspace *ws = NULL;
    tide_match_run *run = NULL;
    ro.tel.on_bad = on_bad;
    ro.tel.bad_payload = &out;
    ro.on_sighting = print_sighting;
    ro.on_pass = flush_out;
    ro.payload = &out;
    ro.on_notice = cli_notice;
    ro.notice_payload = (void *)"match";
    if (format && tide_tel_format_parse(format, &ro.tel.format) < 0) {
        cli_err("match", "unknown format '%s'", format);
        exit_code = TIDE_EXIT_USAGE;
        goto done;
    }
    if (home && tide_homenet_new(&hn, home) < 0) {
        cli_err("match", "--home-net: %s", tide_error_last());
        exit_code = TIDE_EXIT_USAGE;
        goto done;
    }
    ro.tel.home_net = hn;
    if (map) {
        struct stat st;
        int r = stat(map, &st) == 0 ? tide_field_map_load(&fm, map)
                                    : tide_field_map_parse(&fm, map);
        if (r < 0) {
            cli_err("match", "--map: %s", tide_error_last());
            exit_code = TIDE_EXIT_USAGE;
            goto done;
        }
        ro.tel.map = fm;
    }
    if (quiet && cli_progress_mode == 0)
        cli_progress_mode = -1; /* --quiet: no progress line either */
    if ((ws = cli_open_workspace("match")) == NULL) {
        exit_code = TIDE_EXIT_STORE;
        goto done;
    }
    if (tide_match_run_new(&run, ws, &ro) < 0) {
        cli_err("match", "%s", tide_error_last());
        exit_code = TIDE_EXIT_STORE;
        goto done;
    }
    tide_match_run_stats st;
    tide_match_run_stats_get(run, &st);
    if (!quiet)
        fprintf(stderr, "tide match: index %s in %.2f s: %zu entries of %zu indicators\n",
                st.index_built ? "built" : "loaded", st.index_seconds, st.index.entries,
                st.index.indicators);
    if (st.index.entries == 0 && !quiet)
        fprintf(stderr, "tide match: the store holds no valid indicator; nothing can match\n");
    for (size_t i = 0; i < npaths; i++)
        if (tide_match_run_add_path(run, paths[i]) < 0) {
            cli_err("match", "%s", tide_error_last());
            exit_code = TIDE_EXIT_USAGE;
        }
    static char outbuf[1 << 20];
    setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
    running = run;
    if (ro.follow) {
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
    }
    int rc = tide_match_run_run(run);
    running = NULL;
    fflush(stdout);
    tide_match_run_stats_get(run, &st);
    if (rc < 0) {
        cli_err("match", "%s", tide_error_last());
        exit_code = TIDE_EXIT_STORE;
    }
    if (st.input_errors && exit_code == TIDE_EXIT_OK)
        exit_code = TIDE_EXIT_USAGE;
    if (!quiet)
        fprintf(stderr,
                "tide match: %llu file(s), %llu events, %.1f MB in %.2f s (%.0f MB/s); "
                "%llu sightings (%llu suppressed); %llu bad records\n",
                (unsigned long long)st.inputs, (unsigned long long)st.events, st.bytes / 1e6,
                st.seconds, st.seconds > 0 ? st.bytes / 1e6 / st.seconds : 0.0,
                (unsigned long long)st.sightings, (unsigned long long)st.suppressed,
                (unsigned long long)st.bad);
    if (!quiet)
        cli_history_losses("match", &st);
    if (st.undecided)
        fprintf(stderr,
                "tide match: %llu candidate(s) of %zu indicator(s) not decided: their pattern "
                "could not be evaluated (see the warnings above)\n",
                (unsigned long long)st.undecided, st.undecided_indicators);
    if (st.window_candidates && !quiet)
        fprintf(stderr,
                "tide match: multi-observation patterns: %llu candidate event(s) held in "
                "windows (peak %.1f KiB of %u MiB, at most %d events per host x indicator), "
                "%llu match(es), %llu evicted unmatched\n",
                (unsigned long long)st.window_candidates, st.window_bytes_peak / 1024.0,
                (unsigned)(TIDE_MATCH_WINDOW_BYTES >> 20), TIDE_MATCH_WINDOW_OBS,
                (unsigned long long)st.window_matches, (unsigned long long)st.window_evicted);
done:
    tide_match_run_free(run);
    tide_workspace_free(ws);
    tide_homenet_free(hn);
    tide_field_map_free(fm);
    free(out.line.p);
    free(paths);
    return exit_code;
}

/* ---- tide sightings ---- */

typedef struct {
    bool json;
    long n;
} list_ctx;

static int print_stored(const tide_sighting_rec *r, void *payload)
{
    list_ctx *c = payload;
    char first[32], last[32];
    tide_time_format(r->first_seen, first);
    tide_time_format(r->last_seen, last);
    c->n++;
    if (c->json) {
        json_t *o = json_pack(
                "{s:I,s:s,s:s,s:s,s:s,s:s?,s:s?,s:s?,s:I,s:s,s:s,s:I,s:I,s:I,s:b,s:b}", "id",
                (json_int_t)r->id, "host", r->host, "indicator", r->indicator, "indicator_id",
                r->indicator_id, "type", tide_obs_kind_name(r->kind), "observed", r->observed,
                "field", r->field, "file", r->file, "line", (json_int_t)r->line, "first_seen",
                first, "last_seen", last, "count",
                (json_int_t)(r->live_count > r->retro_count ? r->live_count : r->retro_count),
                "live_count", (json_int_t)r->live_count, "retro_count", (json_int_t)r->retro_count,
                "retro", r->retro_count > 0 && r->live_count == 0, "suppressed", r->suppressed);
        if (o && r->users && *r->users) { /* the user names seen with it, one per line */
            json_t *u = json_array();
            for (const char *p = r->users; *p;) {
                const char *e = strchr(p, '\n');
                size_t n = e ? (size_t)(e - p) : strlen(p);
                json_array_append_new(u, json_stringn(p, n));
                p += n + (e != NULL);
            }
            json_object_set_new(o, "users", u);
        }
        if (o) {
            char *s = json_dumps(o, JSON_COMPACT);
            if (s)
                puts(s);
            free(s);
            json_decref(o);
        }
        return 0;
    }
    printf("%-6lld %-16s %-40s %7lld  %s .. %s%s%s\n", (long long)r->id, r->host, r->indicator,
            (long long)(r->live_count > r->retro_count ? r->live_count : r->retro_count), first,
            last, r->retro_count > 0 ? "  retro" : "", r->suppressed ? "  suppressed" : "");
    return 0;
}

int cmd_sightings(int argc, char **argv)
{
    if (cli_wants_help("sightings", argc, argv))
        return TIDE_EXIT_OK;
    tide_sighting_query q = { 0 };
    const char *since = NULL, *limit = NULL;
    list_ctx c = { 0 };
    for (int i = 1; i < argc;) {
        int r;
        if ((r = cli_opt("sightings", argc, argv, &i, "host", &q.host)) ||
                (r = cli_opt("sightings", argc, argv, &i, "indicator", &q.indicator)) ||
                (r = cli_opt("sightings", argc, argv, &i, "since", &since)) ||
                (r = cli_opt("sightings", argc, argv, &i, "limit", &limit))) {
            if (r < 0)
                return TIDE_EXIT_USAGE;
            continue;
        }
        if (cli_flag(argv, i, "json"))
            c.json = true;
        else if (cli_flag(argv, i, "retro"))
            q.retro_only = true;
        else if (cli_flag(argv, i, "suppressed"))
            q.include_suppressed = true;
        else {
            cli_err("sightings", "unknown argument '%s'", argv[i]);
            return TIDE_EXIT_USAGE;
        }
        i++;
    }
    if (since && tide_time_parse(since, &q.since) < 0) {
        cli_err("sightings", "--since: not a time: '%s'", since);
        return TIDE_EXIT_USAGE;
    }
    if (limit) {
        char *end;
        q.limit = strtol(limit, &end, 10);
        if (*end || q.limit < 0) {
            cli_err("sightings", "--limit: not a number: '%s'", limit);
            return TIDE_EXIT_USAGE;
        }
    }
    tide_workspace *ws = cli_open_workspace("sightings");
    if (ws == NULL)
        return TIDE_EXIT_STORE;
    if (!c.json)
        printf("%-6s %-16s %-40s %7s  %s\n", "id", "host", "indicator", "count",
                "first seen .. last seen");
    int rc = tide_store_sightings(tide_workspace_store(ws), &q, print_stored, &c);
    tide_workspace_free(ws);
    if (rc < 0) {
        cli_err("sightings", "%s", tide_error_last());
        return TIDE_EXIT_STORE;
    }
    return TIDE_EXIT_OK;
}

/* ---- tide index ---- */

static void json_text(const char *s)
{
    putchar('"');
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

typedef struct {
    bool json;
    size_t n;
} left_list;

static int print_left(
        const char *id, tide_left_out_reason reason, const char *detail, void *payload)
{
    left_list *l = payload;
    if (l->json) {
        printf("%s{\"id\":", l->n ? "," : "");
        json_text(id);
        printf(",\"reason\":\"%s\"", tide_left_out_reason_name(reason));
        if (detail) {
            printf(",\"detail\":");
            json_text(detail);
        }
        putchar('}');
    } else {
        printf("%s\t%s%s%s\n", id, tide_left_out_reason_name(reason), detail ? "\t" : "",
                detail ? detail : "");
    }
    l->n++;
    return 0;
}

static void print_info(const char *path, const tide_match_index_info *in, double secs, bool json,
        tide_workspace *ws, bool list)
{
    char built[32];
    tide_time_format(in->built_at, built);
    double per = in->indicators ? (double)in->bytes / (double)in->indicators : 0;
    if (json) {
        printf("{\"path\":\"%s\",\"entries\":%zu,\"indicators\":%zu,\"cidrs\":%zu,"
               "\"suppressed\":%zu,\"skipped_invalid\":%zu,\"bytes\":%zu,"
               "\"bytes_per_indicator\":%.1f,\"generation\":%lld,\"built_at\":\"%s\","
               "\"pattern_only\":%zu,\"fragments\":%zu,\"left_out\":%zu,\"left_out_by\":{",
                path, in->entries, in->indicators, in->cidrs, in->suppressed, in->skipped_invalid,
                in->bytes, per, (long long)in->generation, built, in->pattern_only, in->fragments,
                in->left_out);
        for (int r = 1, k = 0; r < TIDE_LEFT__COUNT; r++)
            if (in->left_out_by[r])
                printf("%s\"%s\":%zu", k++ ? "," : "", tide_left_out_reason_name(r),
                        in->left_out_by[r]);
        putchar('}');
        if (secs >= 0)
            printf(",\"build_seconds\":%.3f", secs);
        if (list) {
            left_list l = { true, 0 };
            printf(",\"left_out_list\":[");
            if (tide_workspace_index_left_out(ws, path, print_left, &l) < 0)
                cli_err("index", "%s", tide_error_last());
            putchar(']');
        }
        printf("}\n");
        return;
    }
    printf("index      %s\nbuilt      %s (intel generation %lld)%s\n", path, built,
            (long long)in->generation, "");
    if (secs >= 0)
        printf("build time %.3f s\n", secs);
    printf("indicators %zu (%zu found by LIKE / MATCHES fragments: %zu fragments)\n"
           "left out   %zu",
            in->indicators, in->pattern_only, in->fragments, in->left_out);
    for (int r = 1, k = 0; r < TIDE_LEFT__COUNT; r++)
        if (in->left_out_by[r] && r != TIDE_LEFT_PARTIAL)
            printf("%s%zu %s", k++ ? ", " : " (", in->left_out_by[r], tide_left_out_reason_name(r));
    printf("%s\n", in->left_out ? ")" : "");
    if (in->left_out_by[TIDE_LEFT_PARTIAL])
        printf("partly     %zu (a branch of the pattern has nothing to look for)\n",
                in->left_out_by[TIDE_LEFT_PARTIAL]);
    printf("entries    %zu (%zu CIDRs, %zu suppressed)\n"
           "size       %zu bytes (%.1f per indicator)\n",
            in->entries, in->cidrs, in->suppressed, in->bytes, per);
    if (list) {
        left_list l = { false, 0 };
        if (tide_workspace_index_left_out(ws, path, print_left, &l) < 0)
            cli_err("index", "%s", tide_error_last());
    }
}

int cmd_index(int argc, char **argv)
{
    if (cli_wants_help("index", argc, argv))
        return TIDE_EXIT_OK;
    if (argc < 2) {
        cli_usage("index", stderr);
        return TIDE_EXIT_USAGE;
    }
    const char *sub = argv[1];
    const char *output = NULL, *file = NULL;
    bool json = false, list = false;
    for (int i = 2; i < argc;) {
        int r;
        if ((r = cli_opt("index", argc, argv, &i, "output", &output))) {
            if (r < 0)
                return TIDE_EXIT_USAGE;
            continue;
        }
        if (cli_flag(argv, i, "json"))
            json = true;
        else if (cli_flag(argv, i, "left-out"))
            list = true;
        else if (strncmp(argv[i], "--", 2) != 0 && file == NULL)
            file = argv[i];
        else {
            cli_err("index", "unknown argument '%s'", argv[i]);
            return TIDE_EXIT_USAGE;
        }
        i++;
    }
    tide_workspace *ws = cli_open_workspace("index");
    if (ws == NULL)
        return TIDE_EXIT_STORE;
    const char *defpath = tide_workspace_path(ws, TIDE_WS_INDEX);
    tide_match_index_info info;
    int ex = TIDE_EXIT_OK;
    if (strcmp(sub, "build") == 0) {
        double secs = 0;
        const char *path = output ? output : defpath;
        if (tide_workspace_index_build(ws, path, &info, &secs) < 0) {
            cli_err("index", "%s", tide_error_last());
            ex = TIDE_EXIT_STORE;
        } else {
            print_info(path, &info, secs, json, ws, list);
        }
    } else if (strcmp(sub, "info") == 0) {
        const char *path = file ? file : defpath;
        if (tide_workspace_index_info(ws, path, &info) < 0) {
            cli_err("index", "%s", tide_error_last());
            ex = TIDE_EXIT_USAGE;
        } else {
            print_info(path, &info, -1, json, ws, list);
        }
    } else {
        cli_err("index", "unknown subcommand '%s'", sub);
        ex = TIDE_EXIT_USAGE;
    }
    tide_workspace_free(ws);
    return ex;
}
