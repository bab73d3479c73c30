/*
 * cmd_history.c - the history verbs (SPEC C3): `tide history import|prune|compact|stats` fill and
 * manage the workspace's observation history (an import is a match run of the engine with
 * matching off), and `tide hunt` hunts indicators back through it, printing and storing
 * retro-sightings.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"

/* ---- tide hunt ---- */

typedef struct {
    bool json;
    unsigned long n;
    char *line;
    size_t cap;
} hunt_out;

static int print_retro(const tide_retro_sighting *s, void *payload)
{
    hunt_out *o = payload;
    const tide_match_hit *h = s->hit;
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
    size_t n = tide_retro_sighting_json(s, o->line, o->cap);
    if (n >= o->cap) {
        size_t cap = n + 1 > 2 * o->cap ? n + 1 : 2 * o->cap;
        char *p = realloc(o->line, cap);
        if (p == NULL)
            return -1;
        o->line = p;
        o->cap = cap;
        tide_retro_sighting_json(s, o->line, o->cap);
    }
    fwrite(o->line, 1, n, stdout);
    return 0;
}

static int count_hit(const tide_search_hit *h, void *payload)
{
    (void)h;
    ++*(long *)payload;
    return 1;
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
        cli_err("hunt",
                "say what to hunt: --indicator V, --related NAME, --added-since T or --all");
        return TIDE_EXIT_USAGE;
    }
    tide_indicator_filter f = { 0 };
    tide_hunt_opts o = { .filter = &f, .store = !no_store };
    char *canon = NULL;
    if (value) {
        /* a value as the store keeps it (canonical), or an indicator id */
        tide_obs_kind k =
                strncmp(value, "indicator--", 11) == 0 ? TIDE_OBS_NONE : tide_obs_detect(value);
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
                : since && tide_time_parse(since, &o.since_ms) < 0    ? since
                                                                      : until);
        free(canon);
        return TIDE_EXIT_USAGE;
    }
    tide_workspace *ws = cli_open_workspace("hunt");
    if (ws == NULL) {
        free(canon);
        return TIDE_EXIT_STORE;
    }
    static char outbuf[1 << 16];
    setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
    hunt_out out = { .json = json };
    tide_hunt_stats st;
    double t0 = cli_mono();
    int rc = tide_workspace_hunt(ws, &o, print_retro, &out, &st);
    double secs = cli_mono() - t0;
    fflush(stdout);
    /* --related NAME that selected nothing: a name the store does not know is an error, not
     * an empty success (a typo would otherwise read as "no host saw it") */
    bool known = true;
    if (rc == 0 && related && st.indicators == 0) {
        tide_search_query q = { 0 };
        q.value = related;
        q.limit = 1;
        long hits = 0;
        if (tide_store_search(tide_workspace_store(ws), &q, count_hit, &hits) == 0)
            known = hits > 0;
    }
    tide_workspace_free(ws);
    free(canon);
    free(out.line);
    if (rc < 0) {
        cli_err("hunt", "%s", tide_error_last());
        return rc == TIDE_EFORMAT ? TIDE_EXIT_USAGE : TIDE_EXIT_STORE;
    }
    if (!known) {
        cli_err("hunt",
                "--related '%s': no campaign, malware, tool, intrusion set, threat actor or "
                "indicator of that name in the store",
                related);
        return TIDE_EXIT_FAIL;
    }
    if (related && st.indicators == 0)
        fprintf(stderr, "tide hunt: '%s' is in the store but no current indicator relates to it\n",
                related);
    fprintf(stderr,
            "tide hunt: %zu indicators, %llu history records checked in %.3f s: %zu hosts, "
            "%zu retro-sightings%s\n",
            st.indicators, (unsigned long long)st.records_checked, secs, st.hosts, st.sightings,
            no_store ? "" : " (stored)");
    if (st.unconfirmable)
        fprintf(stderr,
                "tide hunt: %zu candidate(s) of non-simple patterns left out: history "
                "keeps observables, not whole events\n",
                st.unconfirmable);
    return TIDE_EXIT_OK;
}

/* ---- tide history ---- */

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
        cli_progress_clear();
    if (bad_records <= 20)
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
    char ka[32] = "", kb[32] = "";
    if (s->kept_days || s->kept_to_ms) {
        tide_time_format(s->kept_from_ms, ka);
        tide_time_format(s->kept_to_ms, kb);
        ka[10] = kb[10] = '\0';
    }
    if (json) {
        printf("{\"partitions\":%zu,\"runs\":%zu,\"records\":%llu,\"events\":%llu,"
               "\"observations\":%llu,\"bytes\":%llu,\"raw_bytes\":%llu,\"ratio\":%.5f,"
               "\"retention_days\":%d,\"kept_days\":%zu,\"positions\":%zu,\"kept_from\":",
                s->partitions, s->runs, (unsigned long long)s->records,
                (unsigned long long)s->events, (unsigned long long)s->observations,
                (unsigned long long)s->bytes, (unsigned long long)s->raw_bytes, ratio,
                s->retention_days, s->kept_days, s->positions);
        if (ka[0])
            printf("\"%s\",\"kept_to\":\"%s\",", ka, kb);
        else
            printf("null,\"kept_to\":null,");
        if (s->partitions)
            printf("\"first_day\":\"%s\",\"last_day\":\"%s\"}\n", a, b);
        else
            printf("\"first_day\":null,\"last_day\":null}\n");
        return;
    }
    printf("partitions:   %zu (%s .. %s), %zu run file(s)\n", s->partitions, a, b, s->runs);
    printf("events:       %llu recorded (%llu observations)\n", (unsigned long long)s->events,
            (unsigned long long)s->observations);
    printf("records:      %llu (observable x host x day, counted in each run that holds it "
           "until 'tide history compact')\n",
            (unsigned long long)s->records);
    printf("bytes:        %llu for %llu raw bytes imported (%.4f bytes per raw byte)\n",
            (unsigned long long)s->bytes, (unsigned long long)s->raw_bytes, ratio);
    printf("retention:    %d days\n", s->retention_days);
    if (ka[0])
        printf("kept:         %s .. %s (%zu day(s) in history, whatever the retention)\n", ka, kb,
                s->kept_days);
}

/* `tide history import`: a match run of the engine with matching off */
static int history_import(int argc, char **argv)
{
    const char *format = NULL, *home = NULL, *map = NULL, *ret = NULL;
    bool json = false, keep = false;
    const char **paths = calloc((size_t)argc, sizeof(char *));
    size_t npaths = 0;
    int exit_code = TIDE_EXIT_OK;
    if (paths == NULL)
        return TIDE_EXIT_STORE;
    for (int i = 2; i < argc;) {
        int r;
        if ((r = cli_opt("history", argc, argv, &i, "format", &format)) ||
                (r = cli_opt("history", argc, argv, &i, "home-net", &home)) ||
                (r = cli_opt("history", argc, argv, &i, "map", &map)) ||
                (r = cli_opt("history", argc, argv, &i, "retention", &ret))) {
            if (r < 0) {
                free(paths);
                return TIDE_EXIT_USAGE;
            }
            continue;
        }
        if (cli_flag(argv, i, "json")) {
            json = true;
        } else if (cli_flag(argv, i, "keep")) {
            keep = true;
        } else if (strncmp(argv[i], "--", 2) == 0) {
            cli_err("history", "unknown option '%s'", argv[i]);
            free(paths);
            return TIDE_EXIT_USAGE;
        } else {
            struct stat st;
            if (stat(argv[i], &st) != 0) {
                cli_err("history", "%s: %s", argv[i], strerror(errno));
                free(paths);
                return TIDE_EXIT_USAGE;
            }
            paths[npaths++] = argv[i];
        }
        i++;
    }
    tide_match_run_opts ro;
    memset(&ro, 0, sizeof(ro));
    ro.no_match = true;
    ro.keep_history = keep;
    ro.tel.on_bad = on_bad;
    ro.on_notice = cli_notice;
    ro.notice_payload = (void *)"history";
    tide_homenet *hn = NULL;
    tide_field_map *fm = NULL;
    tide_workspace *ws = NULL;
    tide_match_run *run = NULL;
    if (npaths == 0) {
        cli_err("history", "import: no input files");
        exit_code = TIDE_EXIT_USAGE;
        goto done;
    }
    if (ret && parse_days(ret, &ro.retention_days) < 0) {
        cli_err("history", "--retention takes days, e.g. 30d");
        exit_code = TIDE_EXIT_USAGE;
        goto done;
    }
    if (format && tide_tel_format_parse(format, &ro.tel.format) < 0) {
        cli_err("history", "unknown format '%s'", format);
        exit_code = TIDE_EXIT_USAGE;
        goto done;
    }
    if (home && tide_homenet_new(&hn, home) < 0) {
        cli_err("history", "--home-net: %s", tide_error_last());
        exit_code = TIDE_EXIT_USAGE;
        goto done;
    }
    ro.tel.home_net = hn;
    if (map) {
        struct stat st;
        int r = stat(map, &st) == 0 ? tide_field_map_load(&fm, map)
                                    : tide_field_map_parse(&fm, map);
        if (r < 0) {
            cli_err("history", "--map: %s", tide_error_last());
            exit_code = TIDE_EXIT_USAGE;
            goto done;
        }
        ro.tel.map = fm;
    }
    if ((ws = cli_open_workspace("history")) == NULL) {
        exit_code = TIDE_EXIT_STORE;
        goto done;
    }
    if (tide_match_run_new(&run, ws, &ro) < 0) {
        cli_err("history", "%s", tide_error_last());
        exit_code = tide_error_last_code() == TIDE_EINVAL ? TIDE_EXIT_USAGE : TIDE_EXIT_STORE;
        goto done;
    }
    for (size_t i = 0; i < npaths; i++)
        if (tide_match_run_add_path(run, paths[i]) < 0) {
            cli_err("history", "%s", tide_error_last());
            exit_code = TIDE_EXIT_USAGE;
        }
    int rc = tide_match_run_run(run);
    tide_match_run_stats st;
    tide_match_run_stats_get(run, &st);
    if (rc < 0) {
        cli_err("history", "%s", tide_error_last());
        exit_code = TIDE_EXIT_STORE;
        goto done;
    }
    if (st.input_errors)
        exit_code = TIDE_EXIT_USAGE;
    double secs = st.seconds + st.commit_seconds;
    /* the events recorded are what `history stats` counts: events read, less those without
     * an observable, those out of the time bounds, those of inputs that failed and those
     * recorded before (said apart) */
    fprintf(stderr,
            "tide history: imported %llu file(s), %llu events recorded in history (%llu read), "
            "%.1f MB in %.2f s (%.0f MB/s, commit %.2f s); %llu bad records\n",
            (unsigned long long)st.inputs, (unsigned long long)st.history_recorded,
            (unsigned long long)st.events, st.bytes / 1e6, secs,
            secs > 0 ? st.bytes / 1e6 / secs : 0.0, st.commit_seconds, (unsigned long long)st.bad);
    uint64_t known =
            st.history_recorded + st.history_rejected + st.history_discarded + st.history_skipped;
    uint64_t noobs = st.events > known ? st.events - known : 0;
    if (st.history_skipped || noobs)
        fprintf(stderr,
                "tide history: of the events read, %llu were recorded before (inputs read "
                "before: not recorded twice), %llu named no observable history keeps\n",
                (unsigned long long)st.history_skipped, (unsigned long long)noobs);
    if (keep)
        fprintf(stderr,
                "tide history: the days of this import are kept whatever the retention (`tide "
                "history stats` shows the kept period; `history prune --before` removes them)\n");
    cli_history_losses("history", &st);
    tide_history_stats hs;
    if (tide_workspace_history_stats(ws, &hs) < 0) {
        cli_err("history", "%s", tide_error_last());
        exit_code = TIDE_EXIT_STORE;
    } else if (json)
        print_stats(&hs, true);
    else
        fprintf(stderr,
                "tide history: %llu records in %zu partition(s), %llu bytes (%.4f per raw byte)\n",
                (unsigned long long)hs.records, hs.partitions, (unsigned long long)hs.bytes,
                hs.raw_bytes ? (double)hs.bytes / (double)hs.raw_bytes : 0.0);
done:
    tide_match_run_free(run);
    tide_workspace_free(ws);
    tide_homenet_free(hn);
    tide_field_map_free(fm);
    free(paths);
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
        tide_workspace *ws = cli_open_workspace("history");
        tide_history_stats st;
        if (ws == NULL || tide_workspace_history_stats(ws, &st) < 0) {
            if (ws)
                cli_err("history", "%s", tide_error_last());
            tide_workspace_free(ws);
            return TIDE_EXIT_STORE;
        }
        print_stats(&st, json);
        tide_workspace_free(ws);
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
        tide_workspace *ws = cli_open_workspace("history");
        tide_history_pruned p;
        int retention = 0;
        if (ws == NULL || tide_workspace_history_prune(ws, before_ms, days, &p, &retention) < 0) {
            if (ws)
                cli_err("history", "%s", tide_error_last());
            tide_workspace_free(ws);
            return TIDE_EXIT_STORE;
        }
        if (p.days) {
            char d[32];
            tide_time_format(p.before_ms, d);
            d[10] = '\0';
            fprintf(stderr,
                    "tide history: pruned %zu day(s) before %s (%llu records of %llu "
                    "observations); "
                    "retention %d days\n",
                    p.days, d, (unsigned long long)p.records, (unsigned long long)p.events,
                    retention);
        } else {
            fprintf(stderr, "tide history: pruned 0 day(s); retention %d days\n", retention);
        }
        tide_workspace_free(ws);
        return TIDE_EXIT_OK;
    }
    if (strcmp(sub, "compact") == 0) {
        tide_workspace *ws = cli_open_workspace("history");
        tide_history_stats b, a;
        if (ws == NULL || tide_workspace_history_compact(ws, &b, &a) < 0) {
            if (ws)
                cli_err("history", "%s", tide_error_last());
            tide_workspace_free(ws);
            return TIDE_EXIT_STORE;
        }
        fprintf(stderr,
                "tide history: compacted %zu run file(s) into %zu: %llu records, %llu bytes "
                "(were %llu records, %llu bytes)\n",
                b.runs, a.runs, (unsigned long long)a.records, (unsigned long long)a.bytes,
                (unsigned long long)b.records, (unsigned long long)b.bytes);
        tide_workspace_free(ws);
        return TIDE_EXIT_OK;
    }
    cli_err("history", "unknown subcommand '%s' (import, prune, stats, compact)", sub);
    return TIDE_EXIT_USAGE;
}
