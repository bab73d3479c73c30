/*
 * cmd_feeds.c - `tide feeds`: add, list, remove and pull the feeds tide fetches itself (TAXII
 * 2.1 collections, plain HTTP(S) feeds) through include/tide/feeds.h; the pulls are the
 * library's (one ingest run per feed, with its retro-hunt), this file parses arguments and
 * prints what they did.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"

static long errors_printed;

static void on_error(
        const char *file, long line, long long offset, const char *reason, void *payload)
{
    (void)payload;
    cli_progress_clear();
    if (++errors_printed > 200) {
        if (errors_printed == 201)
            fprintf(stderr, "tide feeds: more errors not shown\n");
        return;
    }
    if (file == NULL || (line <= 0 && offset < 0 && strncmp(reason, file, strlen(file)) == 0))
        fprintf(stderr, "%s\n", reason);
    else if (line > 0 && offset >= 0)
        fprintf(stderr, "%s:%ld (byte %lld): %s\n", file, line, offset, reason);
    else if (line > 0)
        fprintf(stderr, "%s:%ld: %s\n", file, line, reason);
    else if (offset >= 0)
        fprintf(stderr, "%s@%lld: %s\n", file, offset, reason);
    else
        fprintf(stderr, "%s: %s\n", file, reason);
}

/* "90", "90s", "30m", "1h", "2d", "0" / "manual" -> ms; -2 when unreadable */
static int64_t parse_interval(const char *s)
{
    if (strcmp(s, "manual") == 0 || strcmp(s, "never") == 0)
        return 0;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !(v >= 0))
        return -2;
    double mul = 1000;
    if (*end == 's' || *end == '\0')
        mul = 1000;
    else if (*end == 'm')
        mul = 60e3;
    else if (*end == 'h')
        mul = 3600e3;
    else if (*end == 'd')
        mul = 86400e3;
    else
        return -2;
    if (*end && end[1] != '\0')
        return -2;
    double ms = v * mul;
    if (ms > 366 * 86400e3)
        return -2;
    return (int64_t)ms;
}

/* the first line of a file (a secret kept out of the command line and shell history) */
static char *read_secret(const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (f == NULL) {
        cli_err("feeds", "%s: %s", path, strerror(errno));
        return NULL;
    }
    char buf[4096];
    char *s = NULL;
    if (fgets(buf, sizeof(buf), f) != NULL) {
        buf[strcspn(buf, "\r\n")] = '\0';
        s = strdup(buf);
    } else {
        cli_err("feeds", "%s: empty", path);
    }
    memset(buf, 0, sizeof(buf));
    if (f != stdin)
        fclose(f);
    return s;
}

static int feeds_add(int argc, char **argv)
{
    tide_feed_config c = { .interval_ms = -1 };
    char *secret = NULL;
    const char *pos[2] = { NULL, NULL };
    int npos = 0, ret = TIDE_EXIT_USAGE;
    for (int i = 2; i < argc;) {
        const char *v;
        int r;
        if ((r = cli_opt("feeds", argc, argv, &i, "collection", &c.collection)) ||
                (r = cli_opt("feeds", argc, argv, &i, "user", &c.user)) ||
                (r = cli_opt("feeds", argc, argv, &i, "password", &c.password)) ||
                (r = cli_opt("feeds", argc, argv, &i, "key", &c.api_key)) ||
                (r = cli_opt("feeds", argc, argv, &i, "source", &c.source)) ||
                (r = cli_opt("feeds", argc, argv, &i, "tlp", &c.tlp)) ||
                (r = cli_opt("feeds", argc, argv, &i, "kind", &c.kind)) ||
                (r = cli_opt("feeds", argc, argv, &i, "ca-bundle", &c.ca_bundle)) ||
                (r = cli_opt("feeds", argc, argv, &i, "family", &c.family)) ||
                (r = cli_opt("feeds", argc, argv, &i, "columns", &c.columns))) {
            if (r < 0)
                goto out;
            continue;
        }
        bool key_file = false;
        if ((r = cli_opt("feeds", argc, argv, &i, "password-file", &v)) ||
                (key_file = (r = cli_opt("feeds", argc, argv, &i, "key-file", &v)) != 0)) {
            if (r < 0 || secret != NULL) {
                if (r > 0)
                    cli_err("feeds", "one secret file only");
                goto out;
            }
            if ((secret = read_secret(v)) == NULL)
                goto out;
            if (key_file)
                c.api_key = secret;
            else
                c.password = secret;
            continue;
        }
        if ((r = cli_opt("feeds", argc, argv, &i, "interval", &v))) {
            if (r < 0)
                goto out;
            if ((c.interval_ms = parse_interval(v)) < 0) {
                cli_err("feeds",
                        "--interval takes seconds or 30m, 1h, 2d ... (0: on demand "
                        "only; at most 366d), not '%s'",
                        v);
                goto out;
            }
            continue;
        }
        if ((r = cli_opt("feeds", argc, argv, &i, "limit", &v))) {
            char *end;
            long n = r > 0 ? strtol(v, &end, 10) : -1;
            if (r < 0 || *end || n < 1) {
                cli_err("feeds", "--limit takes a positive number of objects per page");
                goto out;
            }
            c.page_limit = n;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            cli_err("feeds", "unknown option '%s'", argv[i]);
            goto out;
        }
        if (npos == 2) {
            cli_err("feeds", "add takes NAME and URL");
            goto out;
        }
        pos[npos++] = argv[i++];
    }
    if (npos != 2) {
        cli_usage("feeds", stderr);
        goto out;
    }
    c.name = pos[0];
    c.url = pos[1];
    tide_workspace *ws = cli_open_workspace("feeds");
    if (ws == NULL) {
        ret = TIDE_EXIT_STORE;
        goto out;
    }
    int rc = tide_feed_add(ws, &c);
    if (rc < 0) {
        cli_err("feeds", "%s", tide_error_last());
        ret = rc == TIDE_ESTORE || rc == TIDE_EIO ? TIDE_EXIT_STORE : TIDE_EXIT_USAGE;
    } else {
        fprintf(stderr, "feed %s added (tide feeds pull %s fetches it now)\n", c.name, c.name);
        ret = TIDE_EXIT_OK;
    }
    tide_workspace_free(ws);
out:
    if (secret) {
        memset(secret, 0, strlen(secret));
        free(secret);
    }
    return ret;
}

static void fmt_time(int64_t ms, char *out, size_t n)
{
    if (ms == INT64_MIN || ms == INT64_MAX) {
        snprintf(out, n, "-");
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void fmt_interval(int64_t ms, char *out, size_t n)
{
    int64_t s = ms / 1000;
    if (s == 0)
        snprintf(out, n, "manual");
    else if (s % 86400 == 0)
        snprintf(out, n, "%" PRId64 "d", s / 86400);
    else if (s % 3600 == 0)
        snprintf(out, n, "%" PRId64 "h", s / 3600);
    else if (s % 60 == 0)
        snprintf(out, n, "%" PRId64 "m", s / 60);
    else
        snprintf(out, n, "%" PRId64 "s", s);
}

static int print_feed(const tide_feed_info *f, void *payload)
{
    (void)payload;
    char last[32], due[32], iv[32];
    fmt_time(f->last_attempt_at, last, sizeof(last));
    fmt_time(f->next_due_at, due, sizeof(due));
    fmt_interval(f->interval_ms, iv, sizeof(iv));
    printf("%s  %s  %s\n", f->name, f->kind, f->url);
    if (f->collection)
        printf("  collection %s\n", f->collection);
    if (f->auth)
        printf("  auth %s%s%s (%s stored, not shown)\n", f->auth, f->user ? " user " : "",
                f->user ? f->user : "", f->has_secret ? "secret" : "no secret");
    printf("  source %s, tlp %s, every %s, next due %s\n", f->source ? f->source : f->name,
            f->tlp ? f->tlp : "-", iv, due);
    if (f->last_status)
        printf("  last pull %s: %s (%" PRId64 " stored)%s%s\n", last, f->last_status,
                f->last_objects, f->cursor ? ", resumes after " : "", f->cursor ? f->cursor : "");
    else
        printf("  never pulled\n");
    return 0;
}

static int feeds_list(int argc, char **argv)
{
    bool json = false;
    for (int i = 2; i < argc; i++) {
        if (cli_flag(argv, i, "json"))
            json = true;
        else {
            cli_err("feeds", "list: unknown argument '%s'", argv[i]);
            return TIDE_EXIT_USAGE;
        }
    }
    tide_workspace *ws = cli_open_workspace("feeds");
    if (ws == NULL)
        return TIDE_EXIT_STORE;
    int rc;
    if (json) {
        char *s = NULL;
        if ((rc = tide_feeds_json(ws, &s)) == 0)
            printf("%s\n", s);
        free(s);
    } else {
        rc = tide_feeds_list(ws, print_feed, NULL);
    }
    if (rc < 0)
        cli_err("feeds", "%s", tide_error_last());
    tide_workspace_free(ws);
    return rc < 0 ? TIDE_EXIT_STORE : TIDE_EXIT_OK;
}

static int feeds_remove(int argc, char **argv)
{
    if (argc != 3 || argv[2][0] == '-') {
        cli_usage("feeds", stderr);
        return TIDE_EXIT_USAGE;
    }
    tide_workspace *ws = cli_open_workspace("feeds");
    if (ws == NULL)
        return TIDE_EXIT_STORE;
    int rc = tide_feed_remove(ws, argv[2]);
    if (rc < 0)
        cli_err("feeds", "%s", tide_error_last());
    else
        fprintf(stderr, "feed %s removed (what it stored stays)\n", argv[2]);
    tide_workspace_free(ws);
    return rc == 0 ? TIDE_EXIT_OK : rc == TIDE_ENOTFOUND ? TIDE_EXIT_USAGE : TIDE_EXIT_STORE;
}

typedef struct {
    bool json;
    int exit;
} pull_ctx;

static void on_notice(tide_notice_level level, const char *msg, void *payload)
{
    (void)level;
    (void)payload;
    cli_progress_clear();
    fprintf(stderr, "tide feeds: %s\n", msg);
}

/* exit code of a failed pull: 3 when the peer could not be reached (or answered with an HTTP
 * error) or the store failed, 2 when what it sent was refused */
static int exit_of(int rc)
{
    switch (rc) {
        case TIDE_EPARSE:
        case TIDE_EFORMAT:
        case TIDE_ETOOBIG:
        case TIDE_EUNSUPPORTED:
        case TIDE_EINVAL:
        case TIDE_ENOTFOUND: return TIDE_EXIT_USAGE;
        default: return TIDE_EXIT_STORE;
    }
}

static void on_result(const tide_feed_result *r, void *payload)
{
    pull_ctx *c = payload;
    cli_progress_clear();
    const tide_ingest_stats *st = &r->ingest.ingest;
    if (r->rc < 0) {
        fprintf(stderr, "tide feeds: %s\n", r->error);
        int e = exit_of(r->rc);
        if (e > c->exit)
            c->exit = e;
        if (st->stored > 0)
            fprintf(stderr,
                    "feed %s: %ld object(s) of this pull were stored before it failed; the "
                    "next pull resumes after them\n",
                    r->name, st->stored);
    } else if (r->not_modified && st->records == 0) {
        fprintf(stderr, "feed %s: not modified (%ld request(s))\n", r->name, r->requests);
    } else {
        fprintf(stderr,
                "feed %s: %ld page(s), %ld records, %ld stored (%ld indicators), %ld unchanged, "
                "%ld rejected; %ld request(s)%s%s\n",
                r->name, r->pages, st->records, st->stored, st->indicators, st->unchanged,
                st->rejected, r->requests, r->cursor ? "; resumes after " : "",
                r->cursor ? r->cursor : "");
        if (st->rejected > 0 && c->exit == TIDE_EXIT_OK)
            c->exit = TIDE_EXIT_FAIL;
    }
    if (r->retries)
        fprintf(stderr, "feed %s: %ld retried request(s)\n", r->name, r->retries);
    cli_print_hunt(&r->ingest);
    if (c->json) {
        printf("{\"feed\":\"%s\",\"ok\":%s,\"not_modified\":%s,\"pages\":%ld,\"requests\":%ld,"
               "\"retries\":%ld,\"bytes\":%llu,\"records\":%ld,\"stored\":%ld,\"unchanged\":%ld,"
               "\"rejected\":%ld,\"indicators\":%ld,\"hunted\":%zu,\"retro_sightings\":%zu}\n",
                r->name, r->rc == 0 ? "true" : "false", r->not_modified ? "true" : "false",
                r->pages, r->requests, r->retries, (unsigned long long)r->bytes, st->records,
                st->stored, st->unchanged, st->rejected, st->indicators,
                r->ingest.hunted ? r->ingest.hunt.indicators : 0,
                r->ingest.hunted ? r->ingest.hunt.sightings : 0);
        fflush(stdout);
    }
}

static int num_opt(const char *name, const char *v, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (end == v || *end || errno || d < lo || d > hi) {
        cli_err("feeds", "--%s takes a number from %g to %g", name, lo, hi);
        return -1;
    }
    *out = d;
    return 0;
}

static int feeds_pull(int argc, char **argv)
{
    tide_feed_pull_opts o;
    tide_feed_pull_opts_init(&o);
    pull_ctx c = { false, TIDE_EXIT_OK };
    o.on_error = on_error;
    o.on_notice = on_notice;
    o.on_result = on_result;
    o.on_export = cli_print_target;
    const char *name = NULL;
    bool due = false;
    for (int i = 2; i < argc;) {
        const char *v;
        int r;
        double d;
        static const struct {
            const char *name;
            double lo, hi;
        } nums[] = { { "retries", 0, 20 }, { "retry-wait", 0, 600 }, { "max-wait", 0, 3600 },
            { "timeout", 0.1, 86400 }, { "connect-timeout", 0.1, 3600 }, { "max-pages", 1, 1e7 },
            { "max-bytes", 1024, 64e9 } };
        bool matched = false;
        for (size_t k = 0; k < sizeof(nums) / sizeof(nums[0]); k++) {
            if ((r = cli_opt("feeds", argc, argv, &i, nums[k].name, &v)) == 0)
                continue;
            if (r < 0 || num_opt(nums[k].name, v, nums[k].lo, nums[k].hi, &d) < 0)
                return TIDE_EXIT_USAGE;
            switch (k) {
                case 0: o.retries = (int)d; break;
                case 1: o.retry_wait = d; break;
                case 2: o.max_wait = d; break;
                case 3: o.timeout = d; break;
                case 4: o.connect_timeout = d; break;
                case 5: o.max_pages = (long)d; break;
                default: o.max_bytes = (uint64_t)d; break;
            }
            matched = true;
            break;
        }
        if (matched)
            continue;
        if (cli_flag(argv, i, "due")) {
            due = true;
            i++;
        } else if (cli_flag(argv, i, "no-hunt")) {
            o.no_hunt = true;
            i++;
        } else if (cli_flag(argv, i, "json")) {
            c.json = true;
            i++;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            cli_err("feeds", "unknown option '%s'", argv[i]);
            return TIDE_EXIT_USAGE;
        } else if (name == NULL) {
            name = argv[i++];
        } else {
            cli_err("feeds", "pull takes one NAME (none: every feed)");
            return TIDE_EXIT_USAGE;
        }
    }
    if (name && due) {
        cli_err("feeds", "--due is for pulling every feed that is due, not one");
        return TIDE_EXIT_USAGE;
    }
    o.payload = &c;
    tide_workspace *ws = cli_open_workspace("feeds");
    if (ws == NULL)
        return TIDE_EXIT_STORE;
    int rc;
    if (name) {
        rc = tide_feed_pull(ws, name, &o, NULL);
        if (rc == TIDE_ENOTFOUND && c.exit == TIDE_EXIT_OK) {
            cli_err("feeds", "%s", tide_error_last());
            c.exit = TIDE_EXIT_USAGE;
        }
    } else {
        int ok = 0, failed = 0;
        rc = tide_feeds_pull_all(ws, due, &o, &ok, &failed);
        if (ok + failed == 0 && rc == 0)
            fprintf(stderr, "tide feeds: no feed %s\n",
                    due ? "is due" : "to pull (tide feeds add NAME URL)");
        else if (ok + failed > 1)
            fprintf(stderr, "%d feed(s) pulled, %d failed\n", ok, failed);
    }
    if ((rc == TIDE_ESTORE || rc == TIDE_ENOMEM) && c.exit < TIDE_EXIT_STORE)
        c.exit = TIDE_EXIT_STORE;
    tide_workspace_free(ws);
    return c.exit;
}

int cmd_feeds(int argc, char **argv)
{
    if (argc < 2) {
        cli_usage("feeds", stderr);
        return TIDE_EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "add") == 0)
        return feeds_add(argc, argv);
    if (strcmp(sub, "list") == 0)
        return feeds_list(argc, argv);
    if (strcmp(sub, "remove") == 0 || strcmp(sub, "rm") == 0)
        return feeds_remove(argc, argv);
    if (strcmp(sub, "pull") == 0)
        return feeds_pull(argc, argv);
    cli_err("feeds", "unknown subcommand '%s' (add, list, remove, pull)", sub);
    return TIDE_EXIT_USAGE;
}
