/*
 * cli_common.c - helpers shared by the CLI verbs: option parsing, usage, error printing,
 * opening the workspace, printing the engine's notices, and the progress line of long work.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"

const cli_cmd *cli_find(const char *name)
{
    for (const cli_cmd *c = cli_commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

/* ---- the progress line ---- */

int cli_progress_mode;            /* 1 --progress, -1 --no-progress / --quiet, 0: a TTY */
static bool progress_drawn;       /* a line is on stderr now */
static const char *progress_verb; /* "tide VERB: " */

void cli_progress_clear(void)
{
    if (progress_drawn) {
        fputs("\r\033[K", stderr); /* back to the line's start, erase it */
        progress_drawn = false;
    }
}

/* 1234567 -> "1.2 M" style: a count short enough for one line. */
static void human(char *out, size_t cap, double v, const char *unit)
{
    if (v >= 1e9)
        snprintf(out, cap, "%.1f G%s", v / 1e9, unit);
    else if (v >= 1e6)
        snprintf(out, cap, "%.1f M%s", v / 1e6, unit);
    else if (v >= 1e4)
        snprintf(out, cap, "%.0f k%s", v / 1e3, unit);
    else
        snprintf(out, cap, "%.0f %s", v, unit);
}

static void progress_draw(const tide_progress *p, void *payload)
{
    (void)payload;
    if (p->done) {
        cli_progress_clear();
        return;
    }
    const char *what = strcmp(p->phase, "ingest") == 0   ? "objects"
                       : strcmp(p->phase, "hunt") == 0   ? "retro-sightings"
                       : strcmp(p->phase, "export") == 0 ? "indicators"
                                                         : "events";
    char line[160], recs[32], rate[32];
    int n = strcmp(progress_verb, p->phase) == 0
                    ? snprintf(line, sizeof(line), "tide %s:", progress_verb)
                    : snprintf(line, sizeof(line), "tide %s: %s", progress_verb, p->phase);
    double secs = p->seconds > 0 ? p->seconds : 1e-9;
    if (p->total_bytes > 0) {
        double pct = 100.0 * (double)p->bytes / (double)p->total_bytes;
        n += snprintf(line + n, sizeof(line) - (size_t)n, " %.1f / %.1f MB (%.0f%%)",
                (double)p->bytes / 1e6, (double)p->total_bytes / 1e6, pct > 100 ? 100 : pct);
    } else if (p->bytes > 0) {
        n += snprintf(line + n, sizeof(line) - (size_t)n, " %.1f MB", (double)p->bytes / 1e6);
    }
    human(recs, sizeof(recs), (double)p->records, what);
    if (p->bytes > 0)
        snprintf(rate, sizeof(rate), "%.1f MB/s", (double)p->bytes / 1e6 / secs);
    else
        human(rate, sizeof(rate), (double)p->records / secs, "/s");
    n += snprintf(
            line + n, sizeof(line) - (size_t)n, "%s %s, %s", p->bytes > 0 ? "," : "", recs, rate);
    if (p->total_bytes > 0 && p->bytes > 0 && p->bytes < p->total_bytes) {
        double eta = secs * (double)(p->total_bytes - p->bytes) / (double)p->bytes;
        snprintf(line + n, sizeof(line) - (size_t)n, ", ETA %d:%02d", (int)eta / 60, (int)eta % 60);
    }
    fprintf(stderr, "\r%.79s\033[K", line);
    fflush(stderr);
    progress_drawn = true;
}

void cli_progress_attach(tide_workspace *ws, const char *verb)
{
    bool on = cli_progress_mode > 0 || (cli_progress_mode == 0 && isatty(2));
    progress_verb = verb;
    tide_workspace_set_progress(ws, on ? progress_draw : NULL, NULL);
}

void cli_err(const char *verb, const char *fmt, ...)
{
    va_list ap;
    cli_progress_clear();
    fprintf(stderr, "tide %s: ", verb);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_usage(const char *verb, FILE *f)
{
    const cli_cmd *c = cli_find(verb);
    if (c)
        fputs(c->usage, f);
}

bool cli_wants_help(const char *verb, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cli_usage(verb, stdout);
            return true;
        }
    }
    return false;
}

int cli_opt(const char *verb, int argc, char **argv, int *i, const char *name, const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, n) != 0)
        return 0;
    if (a[2 + n] == '=') {
        *val = a + 3 + n;
        (*i)++;
        return 1;
    }
    if (a[2 + n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        cli_err(verb, "option --%s needs a value", name);
        return -1;
    }
    *val = argv[*i + 1];
    *i += 2;
    return 1;
}

int cli_flag(char **argv, int i, const char *name)
{
    return strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i] + 2, name) == 0;
}

const char *cli_decay[CLI_MAX_DECAY];
int cli_ndecay;

tide_workspace *cli_open_workspace(const char *verb)
{
    tide_workspace *ws = NULL;
    if (tide_workspace_open(&ws, cli_store_dir, NULL) < 0) {
        cli_err(verb, "cannot open store %s: %s", cli_store_dir, tide_error_last());
        return NULL;
    }
    for (int i = 0; i < cli_ndecay; i++)
        if (tide_workspace_set_decay(ws, cli_decay[i]) < 0) {
            cli_err(verb, "--decay: %s", tide_error_last());
            tide_workspace_free(ws);
            return NULL;
        }
    cli_progress_attach(ws, verb);
    return ws;
}

tide_store *cli_open_store(const char *verb)
{
    tide_store *s = NULL;
    if (tide_workspace_open_store(&s, cli_store_dir) < 0) {
        cli_err(verb, "cannot open store %s: %s", cli_store_dir, tide_error_last());
        return NULL;
    }
    return s;
}

void cli_notice(tide_notice_level level, const char *msg, void *payload)
{
    (void)level;
    cli_progress_clear();
    fprintf(stderr, "tide %s: %s\n", (const char *)payload, msg);
}

void cli_history_losses(const char *verb, const tide_match_run_stats *st)
{
    uint64_t n = st->history_rejected + st->history_discarded;
    if (n == 0)
        return;
    fprintf(stderr,
            "tide %s: %llu event(s) not recorded in history: %llu dated after the clock + 1 day "
            "or before 1970, %llu of inputs that ended in an error (see above)\n",
            verb, (unsigned long long)n, (unsigned long long)st->history_rejected,
            (unsigned long long)st->history_discarded);
}

double cli_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_print_target(const tide_target_result *r, void *payload)
{
    (void)payload;
    if (r->rc < 0) {
        fprintf(stderr, "tide: export target %s (%s, %s) FAILED: %s\n", r->name, r->format,
                r->output, r->error);
        return;
    }
    if (!r->written) {
        fprintf(stderr, "export target %s: unchanged (%s)\n", r->name, r->trigger);
        return;
    }
    const tide_export_summary *s = r->summary;
    fprintf(stderr, "export target %s (%s, %s) written (%s): %ld entries", r->name, r->format,
            r->output, r->trigger, s->written);
    if (s->compared || s->incremental)
        fprintf(stderr, ", %ld added, %ld removed", s->added, s->removed);
    fputc('\n', stderr);
}

void cli_print_hunt(const tide_ingest_result *res)
{
    if (res->followers_behind)
        fprintf(stderr,
                "tide: %zu follower(s) had not committed what they read before taking the new "
                "intel after %.1f s (TIDE_LATE_INTEL_WAIT): events they read since their last "
                "commit may be missed by this hunt (`tide hunt --added-since` later finds them)\n",
                res->followers_behind, res->follower_wait_seconds);
    else if (res->follower_wait_seconds >= 0.5)
        fprintf(stderr,
                "tide: waited %.1f s for followers to commit what they read before taking the "
                "new intel\n",
                res->follower_wait_seconds);
    if (res->hunted && res->hunt.indicators > 0)
        fprintf(stderr, "hunted %zu indicators: %zu hosts, %zu retro-sightings (%.2f s)\n",
                res->hunt.indicators, res->hunt.hosts, res->hunt.sightings, res->hunt_seconds);
}
