/*
 * cmd_match.c - the detection verbs: `tide match` (telemetry in, NDJSON sightings out, stored
 * per host x indicator; --follow keeps reading growing files and folders and swaps in a new
 * index when the intel changes), `tide sightings` (list stored ones) and `tide index` (build /
 * inspect the compiled match index).
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "tide/history.h"

#define INDEX_MAX_AGE_MS (3600LL * 1000) /* scores decay: rebuild a cached index hourly */

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- NDJSON output ---- */

/* JSON string body of n bytes: escapes, and invalid UTF-8 replaced by U+FFFD so that every
 * line stays valid JSON whatever the log held. */
static void put_json_str(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            size_t j = i;
            while (j < n && (unsigned char)s[j] >= 0x20 && (unsigned char)s[j] < 0x80 &&
                    s[j] != '"' && s[j] != '\\')
                j++;
            fwrite(s + i, 1, j - i, f);
            i = j;
            continue;
        }
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc(c, f);
            i++;
        } else if (c < 0x20) {
            fprintf(f, "\\u%04x", c);
            i++;
        } else {
            size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
            bool ok = len > 0 && c < 0xF5 && i + len <= n;
            for (size_t k = 1; ok && k < len; k++)
                ok = ((unsigned char)s[i + k] & 0xC0) == 0x80;
            if (ok) {
                fwrite(s + i, 1, len, f);
                i += len;
            } else {
                fputs("\\ufffd", f);
                i++;
            }
        }
    }
    fputc('"', f);
}

static void put_key_str(FILE *f, const char *key, const char *s, size_t n)
{
    fprintf(f, ",\"%s\":", key);
    put_json_str(f, s, n);
}

/* "campaign": first name, and "campaigns": [...] when there are several */
static void put_names(FILE *f, const char *one, const char *many, const char *list, size_t n)
{
    if (n == 0 || list == NULL)
        return;
    put_key_str(f, one, list, strlen(list));
    if (n < 2)
        return;
    fprintf(f, ",\"%s\":[", many);
    const char *p = list;
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc(',', f);
        put_json_str(f, p, strlen(p));
        p += strlen(p) + 1;
    }
    fputc(']', f);
}

static void put_ts(FILE *f, int64_t us)
{
    if (us <= 0) {
        fputs("null", f);
        return;
    }
    time_t secs = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    fprintf(f, "\"%04d-%02d-%02dT%02d:%02d:%02d.%06dZ\"", tm.tm_year + 1900, tm.tm_mon + 1,
            tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(us % 1000000));
}

/* ---- the match run ---- */

typedef struct {
    FILE *out;
    bool hide_suppressed;
    tide_sighting_batch *batch; /* NULL with --no-store */
    uint64_t sightings, suppressed, events, files, bad;
    uint64_t bytes;
    int store_error;
} run_ctx;

static int on_sighting(const tide_sighting *s, void *payload)
{
    run_ctx *c = payload;
    const tide_match_hit *h = s->hit;
    const tide_event *ev = s->event;
    c->sightings++;
    if (h->suppressed)
        c->suppressed++;
    if (c->batch && tide_sighting_batch_add(c->batch, s) < 0)
        c->store_error = 1;
    if (h->suppressed && c->hide_suppressed)
        return 0;
    FILE *f = c->out;
    fputs("{\"ts\":", f);
    put_ts(f, ev->ts_us);
    put_key_str(f, "host", ev->host, ev->host_len);
    put_key_str(f, "observed", s->obs->value, s->obs->len);
    if (s->obs->field)
        put_key_str(f, "field", s->obs->field, strlen(s->obs->field));
    put_key_str(f, "file", s->file, strlen(s->file));
    fprintf(f, ",\"line\":%llu", (unsigned long long)ev->line);
    if (ev->kind)
        put_key_str(f, "event", ev->kind, strlen(ev->kind));
    if (ev->user)
        put_key_str(f, "user", ev->user, ev->user_len);
    put_key_str(f, "indicator", h->value, h->value_len);
    fprintf(f, ",\"indicator_id\":\"%s\",\"type\":\"%s\"", h->indicator_id,
            tide_obs_kind_name(h->kind));
    put_names(f, "campaign", "campaigns", h->campaigns, h->ncampaigns);
    put_names(f, "malware", "malware_all", h->malware, h->nmalware);
    put_names(f, "actor", "actors", h->actors, h->nactors);
    if (h->confidence >= 0)
        fprintf(f, ",\"confidence\":%d", h->confidence);
    fprintf(f, ",\"score\":%d", h->score);
    if (h->tlp)
        put_key_str(f, "tlp", h->tlp, strlen(h->tlp));
    if (h->kill_chain)
        put_key_str(f, "kill_chain", h->kill_chain, strlen(h->kill_chain));
    if (h->source)
        put_key_str(f, "source", h->source, strlen(h->source));
    fprintf(f, ",\"suppressed\":%s", h->suppressed ? "true" : "false");
    if (h->suppressed && h->suppressed_by)
        put_key_str(f, "suppressed_by", h->suppressed_by, strlen(h->suppressed_by));
    fputs("}\n", f);
    return 0;
}

static void on_bad(const char *file, uint64_t line, const char *reason, void *payload)
{
    run_ctx *c = payload;
    c->bad++;
    if (c->bad <= 20)
        fprintf(stderr, "tide match: %s:%llu: %s\n", file, (unsigned long long)line, reason);
    else if (c->bad == 21)
        fprintf(stderr, "tide match: more bad records; counting only\n");
}

/* ---- inputs ---- */

typedef struct {
    char *path;          /* as shown in sightings */
    tide_tel_reader *r;
    dev_t dev;
    ino_t ino;
    bool finished;       /* read to the end (not following), rotated away, or failed */
    bool rotated;        /* its name now points at another file: drain it, then retire it */
} input;

typedef struct {
    input *v;
    size_t n, cap;
} inputs;

static input *inputs_find(inputs *in, const char *path)
{
    for (size_t i = 0; i < in->n; i++)
        if (strcmp(in->v[i].path, path) == 0)
            return &in->v[i];
    return NULL;
}

static int inputs_add(inputs *in, const char *path)
{
    if (inputs_find(in, path))
        return 0;
    if (in->n == in->cap) {
        size_t cap = in->cap ? in->cap * 2 : 16;
        input *v = realloc(in->v, cap * sizeof(*v));
        if (v == NULL)
            return -1;
        in->v = v;
        in->cap = cap;
    }
    memset(&in->v[in->n], 0, sizeof(input));
    in->v[in->n].path = strdup(path);
    if (in->v[in->n].path == NULL)
        return -1;
    in->n++;
    return 0;
}

static int add_input(const char *path, void *payload)
{
    return inputs_add(payload, path);
}

/* Regular files under dir, recursively, sorted by name; hidden entries skipped. */
static int scan_dir(inputs *in, const char *dir)
{
    return cli_walk_files(dir, add_input, in);
}

/* Follow mode: look at the named files and the folders again. A name that points at a file
 * already read (same device and inode, e.g. conn.log renamed to conn.log.1) is not read again;
 * a name whose file changed (rotation) gets a new input, and the old file is drained first. */
static void follow_scan(inputs *in, char **files, size_t nfiles, char **dirs, size_t ndirs)
{
    inputs found = { 0 };
    for (size_t i = 0; i < nfiles; i++)
        inputs_add(&found, files[i]);
    for (size_t d = 0; d < ndirs; d++)
        scan_dir(&found, dirs[d]);
    for (size_t i = 0; i < found.n; i++) {
        const char *path = found.v[i].path;
        struct stat st;
        if (strcmp(path, "-") == 0 || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        bool known = false;
        for (size_t k = 0; k < in->n && !known; k++)
            known = in->v[k].ino == st.st_ino && in->v[k].dev == st.st_dev &&
                    (in->v[k].r != NULL || in->v[k].finished);
        if (known)
            continue;
        input *same = NULL;
        for (size_t k = 0; k < in->n; k++)
            if (!in->v[k].finished && strcmp(in->v[k].path, path) == 0)
                same = &in->v[k];
        if (same && same->r == NULL) {
            continue; /* not opened yet: it opens the current file */
        }
        if (same)
            same->rotated = true;
        /* a new input for this name (inputs_add refuses duplicates of unfinished names) */
        if (in->n == in->cap) {
            size_t cap = in->cap ? in->cap * 2 : 16;
            input *v = realloc(in->v, cap * sizeof(*v));
            if (v == NULL)
                break;
            in->v = v;
            in->cap = cap;
        }
        memset(&in->v[in->n], 0, sizeof(input));
        in->v[in->n].path = strdup(path);
        if (in->v[in->n].path)
            in->n++;
    }
    for (size_t i = 0; i < found.n; i++)
        free(found.v[i].path);
    free(found.v);
}

/* ---- background index rebuild (follow mode) ---- */

typedef struct {
    pthread_t thread;
    bool running;
    atomic_int done;  /* 1 when the thread finished */
    tide_match_index *result;
    char error[512];
    char *index_path;
} rebuild;

static void *rebuild_main(void *arg)
{
    rebuild *rb = arg;
    tide_store *s = NULL;
    rb->result = NULL;
    rb->error[0] = '\0';
    if (tide_store_open(&s, cli_store_dir) < 0 ||
            tide_match_index_build(&rb->result, s, NULL) < 0)
        snprintf(rb->error, sizeof(rb->error), "%s", tide_error_last());
    else if (rb->index_path)
        (void)tide_match_index_save(rb->result, rb->index_path);
    tide_store_free(s);
    atomic_store(&rb->done, 1);
    return NULL;
}

/* ---- the verb ---- */

typedef struct {
    tide_tel_opts topts;
    tide_store *store;
    tide_matcher *matcher;
    run_ctx *rc;
    tide_history *hist; /* every observation is remembered (SPEC C3); NULL with --no-history */
    int hist_error;
} match_env;

/* Read what r has now and report its sightings. Returns < 0 on an I/O error of the input. */
/* Events are read and matched in batches: the matcher works across the events of a batch
 * (its index lookups overlap) while the reader keeps them in place. Everything read is
 * reported before this returns: at the end of the file, or of the data for now. */
#define MATCH_BATCH 32

static int drain(match_env *env, input *in)
{
    tide_event ev[MATCH_BATCH];
    size_t got;
    int r;
    while ((r = tide_tel_next_batch(in->r, ev, MATCH_BATCH, &got)) == 1) {
        env->rc->events += got;
        if (env->hist)
            for (size_t i = 0; i < got; i++)
                if (ev[i].nobs && tide_history_add(env->hist, in->path, &ev[i]) < 0 &&
                        !env->hist_error++)
                    fprintf(stderr, "tide match: history: %s\n", tide_error_last());
        int m = tide_matcher_batch(env->matcher, in->path, ev, got, on_sighting, env->rc);
        if (m < 0)
            return m;
    }
    return r;
}

static int open_input(match_env *env, input *in)
{
    int rc;
    if (strcmp(in->path, "-") == 0) {
        tide_tel_opts o = env->topts;
        o.follow = false;
        rc = tide_tel_open_fd(&in->r, 0, "-", &o);
    }
    else
        rc = tide_tel_open(&in->r, in->path, &env->topts);
    if (rc < 0) {
        fprintf(stderr, "tide match: %s\n", tide_error_last());
        in->finished = true;
        return rc;
    }
    struct stat st;
    if (strcmp(in->path, "-") != 0 && stat(in->path, &st) == 0) {
        in->dev = st.st_dev;
        in->ino = st.st_ino;
    }
    env->rc->files++;
    return 0;
}

static void close_input(match_env *env, input *in)
{
    if (in->r) {
        tide_tel_stats st;
        tide_tel_reader_stats(in->r, &st);
        env->rc->bytes += st.bytes;
        tide_tel_close(in->r);
        in->r = NULL;
    }
}

static void usage_error(const char *msg, const char *arg)
{
    cli_err("match", msg, arg);
}

int cmd_match(int argc, char **argv)
{
    if (cli_wants_help("match", argc, argv))
        return TIDE_EXIT_OK;
    const char *format = NULL, *home = NULL, *map = NULL;
    bool no_history = false;
    bool follow = false, no_store = false, hide = false, rebuild_ix = false, quiet = false;
    inputs in = { 0 };
    char **dirs = NULL, **files = NULL;
    size_t ndirs = 0, nfiles = 0;
    int exit_code = TIDE_EXIT_OK;
    for (int i = 1; i < argc;) {
        int r;
        if ((r = cli_opt("match", argc, argv, &i, "format", &format)) ||
                (r = cli_opt("match", argc, argv, &i, "home-net", &home)) ||
                (r = cli_opt("match", argc, argv, &i, "map", &map))) {
            if (r < 0)
                return TIDE_EXIT_USAGE;
            continue;
        }
        if (cli_flag(argv, i, "follow"))
            follow = true;
        else if (cli_flag(argv, i, "no-store"))
            no_store = true;
        else if (cli_flag(argv, i, "no-history"))
            no_history = true;
        else if (cli_flag(argv, i, "hide-suppressed"))
            hide = true;
        else if (cli_flag(argv, i, "rebuild-index"))
            rebuild_ix = true;
        else if (cli_flag(argv, i, "quiet"))
            quiet = true;
        else if (strncmp(argv[i], "--", 2) == 0) {
            usage_error("unknown option '%s'", argv[i]);
            return TIDE_EXIT_USAGE;
        } else {
            struct stat st;
            if (strcmp(argv[i], "-") != 0 && stat(argv[i], &st) != 0) {
                cli_err("match", "%s: %s", argv[i], strerror(errno));
                return TIDE_EXIT_USAGE;
            }
            if (strcmp(argv[i], "-") != 0 && S_ISDIR(st.st_mode)) {
                char **d = realloc(dirs, (ndirs + 1) * sizeof(char *));
                if (d == NULL)
                    return TIDE_EXIT_STORE;
                dirs = d;
                dirs[ndirs++] = argv[i];
                scan_dir(&in, argv[i]);
            } else {
                char **f = realloc(files, (nfiles + 1) * sizeof(char *));
                if (f == NULL || inputs_add(&in, argv[i]) < 0)
                    return TIDE_EXIT_STORE;
                files = f;
                files[nfiles++] = argv[i];
            }
        }
        i++;
    }
    if (in.n == 0 && ndirs == 0) {
        cli_err("match", "no input: give files, folders or '-'");
        cli_usage("match", stderr);
        return TIDE_EXIT_USAGE;
    }
    run_ctx rc = { .out = stdout, .hide_suppressed = hide };
    match_env env = { .rc = &rc };
    env.topts.on_bad = on_bad;
    env.topts.bad_payload = &rc;
    env.topts.follow = follow;
    tide_homenet *hn = NULL;
    tide_field_map *fm = NULL;
    tide_match_index *ix = NULL;
    tide_warninglists *wl = NULL;
    char *ix_path = NULL;
    rebuild rb = { 0 };
    if (format && tide_tel_format_parse(format, &env.topts.format) < 0) {
        cli_err("match", "unknown format '%s'", format);
        exit_code = TIDE_EXIT_USAGE;
        goto done;
    }
    if (home && tide_homenet_new(&hn, home) < 0) {
        cli_err("match", "--home-net: %s", tide_error_last());
        exit_code = TIDE_EXIT_USAGE;
        goto done;
    }
    env.topts.home_net = hn;
    if (map) {
        struct stat st;
        int r = stat(map, &st) == 0 ? tide_field_map_load(&fm, map) : tide_field_map_parse(&fm, map);
        if (r < 0) {
            cli_err("match", "--map: %s", tide_error_last());
            exit_code = TIDE_EXIT_USAGE;
            goto done;
        }
        env.topts.map = fm;
    }
    env.store = cli_open_store("match");
    if (env.store == NULL) {
        exit_code = TIDE_EXIT_STORE;
        goto done;
    }
    {
        size_t len = strlen(cli_store_dir) + 16;
        ix_path = malloc(len);
        if (ix_path)
            snprintf(ix_path, len, "%s/match.idx", cli_store_dir);
    }
    double t0 = mono_s();
    bool built = false;
    if (rebuild_ix && ix_path)
        unlink(ix_path);
    if (tide_match_index_current(&ix, env.store, ix_path, INDEX_MAX_AGE_MS, &built) < 0 ||
            tide_warninglists_new(&wl, env.store) < 0 ||
            tide_matcher_new(&env.matcher, ix, wl) < 0) {
        cli_err("match", "%s", tide_error_last());
        exit_code = TIDE_EXIT_STORE;
        goto done;
    }
    tide_match_index_info info;
    tide_match_index_info_get(ix, &info);
    if (!quiet)
        fprintf(stderr, "tide match: index %s in %.2f s: %zu entries of %zu indicators\n",
                built ? "built" : "loaded", mono_s() - t0, info.entries, info.indicators);
    if (info.entries == 0 && !quiet)
        fprintf(stderr, "tide match: the store holds no valid indicator; nothing can match\n");
    if (!no_history && tide_history_open(&env.hist, cli_store_dir, true) < 0) {
        fprintf(stderr, "tide match: history not recorded: %s\n", tide_error_last());
        env.hist = NULL;
    }
    if (!no_store && tide_sighting_batch_new(&rc.batch) < 0) {
        exit_code = TIDE_EXIT_STORE;
        goto done;
    }
    static char outbuf[1 << 20];
    setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
    double t1 = mono_s();
    if (!follow) {
        for (size_t i = 0; i < in.n; i++) {
            if (open_input(&env, &in.v[i]) < 0) {
                exit_code = TIDE_EXIT_USAGE;
                continue;
            }
            int r = drain(&env, &in.v[i]);
            if (r < 0) {
                fprintf(stderr, "tide match: %s: %s\n", in.v[i].path, tide_error_last());
                exit_code = TIDE_EXIT_USAGE;
            }
            close_input(&env, &in.v[i]);
        }
    } else {
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        int64_t gen = info.generation;
        rb.index_path = ix_path;
        double last_scan = 0, last_flush = mono_s(), last_hist = mono_s();
        while (!stop_requested) {
            bool progress = false;
            double now = mono_s();
            if (now - last_scan >= 0.5) {
                follow_scan(&in, files, nfiles, dirs, ndirs);
                last_scan = now;
                /* intel changed: build the next index beside the running matcher */
                int64_t g;
                if (!rb.running && tide_store_intel_generation(env.store, &g) == 0 && g != gen) {
                    gen = g;
                    atomic_store(&rb.done, 0);
                    if (pthread_create(&rb.thread, NULL, rebuild_main, &rb) == 0)
                        rb.running = true;
                }
            }
            if (rb.running && atomic_load(&rb.done)) {
                pthread_join(rb.thread, NULL);
                rb.running = false;
                if (rb.result) {
                    /* between two events: nothing is lost or matched twice */
                    tide_match_index *old = (tide_match_index *)tide_matcher_swap(env.matcher, rb.result);
                    tide_match_index_free(old);
                    ix = rb.result;
                    rb.result = NULL;
                    tide_match_index_info_get(ix, &info);
                    fprintf(stderr, "tide match: index reloaded (intel generation %lld): %zu entries of %zu indicators\n",
                            (long long)info.generation, info.entries, info.indicators);
                } else {
                    fprintf(stderr, "tide match: index rebuild failed: %s\n", rb.error);
                }
            }
            for (size_t i = 0; i < in.n; i++) {
                input *p = &in.v[i];
                if (p->finished)
                    continue;
                if (p->r == NULL && open_input(&env, p) < 0)
                    continue;
                tide_tel_stats before;
                tide_tel_reader_stats(p->r, &before);
                int r = drain(&env, p);
                tide_tel_stats after;
                tide_tel_reader_stats(p->r, &after);
                if (after.bytes != before.bytes)
                    progress = true;
                if (r < 0) {
                    fprintf(stderr, "tide match: %s: %s\n", p->path, tide_error_last());
                    close_input(&env, p);
                    p->finished = true;
                    continue;
                }
                if (strcmp(p->path, "-") == 0) {
                    if (r == 0) { /* stdin ends at its EOF */
                        close_input(&env, p);
                        p->finished = true;
                    }
                    continue;
                }
                struct stat st;
                if (p->rotated) {
                    /* drained above: everything written before the rotation is read */
                    close_input(&env, p);
                    p->finished = true;
                    progress = true;
                } else if (stat(p->path, &st) == 0 && st.st_ino == p->ino &&
                        st.st_dev == p->dev && (uint64_t)st.st_size < after.bytes) {
                    /* truncated in place (copytruncate): read it again from the start */
                    close_input(&env, p);
                    progress = true;
                } else if (stat(p->path, &st) != 0 && errno == ENOENT) {
                    /* removed: what was written is read; the same name later is a new file */
                    close_input(&env, p);
                    p->finished = true;
                }
            }
            fflush(stdout);
            if (rc.batch && (mono_s() - last_flush >= 2.0 || tide_sighting_batch_size(rc.batch) > 100000)) {
                if (tide_sighting_batch_flush(rc.batch, env.store) < 0)
                    fprintf(stderr, "tide match: storing sightings: %s\n", tide_error_last());
                last_flush = mono_s();
            }
            if (env.hist && mono_s() - last_hist >= 60.0) {
                if (tide_history_checkpoint(env.hist) < 0)
                    fprintf(stderr, "tide match: history: %s\n", tide_error_last());
                last_hist = mono_s();
            }
            if (!progress) {
                struct timespec ts = { 0, 100 * 1000000L };
                nanosleep(&ts, NULL);
            }
        }
        for (size_t i = 0; i < in.n; i++)
            close_input(&env, &in.v[i]);
    }
    fflush(stdout);
    double secs = mono_s() - t1;
    if (env.hist) {
        tide_history_add_raw_bytes(env.hist, rc.bytes);
        if (tide_history_commit(env.hist) < 0) {
            fprintf(stderr, "tide match: history: %s\n", tide_error_last());
            exit_code = TIDE_EXIT_STORE;
        }
    }
    if (rc.batch && tide_sighting_batch_flush(rc.batch, env.store) < 0) {
        fprintf(stderr, "tide match: storing sightings: %s\n", tide_error_last());
        exit_code = TIDE_EXIT_STORE;
    }
    if (rc.store_error)
        exit_code = TIDE_EXIT_STORE;
    if (!quiet)
        fprintf(stderr,
                "tide match: %llu file(s), %llu events, %.1f MB in %.2f s (%.0f MB/s); "
                "%llu sightings (%llu suppressed); %llu bad records\n",
                (unsigned long long)rc.files, (unsigned long long)rc.events, rc.bytes / 1e6, secs,
                secs > 0 ? rc.bytes / 1e6 / secs : 0.0, (unsigned long long)rc.sightings,
                (unsigned long long)rc.suppressed, (unsigned long long)rc.bad);
done:
    if (rb.running) {
        pthread_join(rb.thread, NULL);
        tide_match_index_free(rb.result);
    }
    tide_sighting_batch_free(rc.batch);
    tide_history_free(env.hist);
    tide_matcher_free(env.matcher);
    tide_match_index_free(ix);
    tide_warninglists_free(wl);
    tide_store_free(env.store);
    tide_homenet_free(hn);
    tide_field_map_free(fm);
    for (size_t i = 0; i < in.n; i++) {
        if (in.v[i].r)
            tide_tel_close(in.v[i].r);
        free(in.v[i].path);
    }
    free(in.v);
    free(dirs);
    free(files);
    free(ix_path);
    return exit_code;
}

/* ---- tide sightings ---- */

typedef struct {
    bool json;
    long n;
} list_ctx;

static int print_sighting(const tide_sighting_rec *r, void *payload)
{
    list_ctx *c = payload;
    char first[32], last[32];
    tide_time_format(r->first_seen, first);
    tide_time_format(r->last_seen, last);
    c->n++;
    if (c->json) {
        json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s?,s:s?,s:s?,s:I,s:s,s:s,s:I,s:I,s:I,s:b,s:b}",
                "id", (json_int_t)r->id, "host", r->host, "indicator", r->indicator,
                "indicator_id", r->indicator_id, "type", tide_obs_kind_name(r->kind), "observed",
                r->observed, "field", r->field, "file", r->file, "line", (json_int_t)r->line,
                "first_seen", first, "last_seen", last, "count",
                (json_int_t)(r->live_count > r->retro_count ? r->live_count : r->retro_count),
                "live_count", (json_int_t)r->live_count, "retro_count", (json_int_t)r->retro_count,
                "retro", r->retro_count > 0 && r->live_count == 0, "suppressed", r->suppressed);
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
    tide_store *s = cli_open_store("sightings");
    if (s == NULL)
        return TIDE_EXIT_STORE;
    if (!c.json)
        printf("%-6s %-16s %-40s %7s  %s\n", "id", "host", "indicator", "count",
                "first seen .. last seen");
    int rc = tide_store_sightings(s, &q, print_sighting, &c);
    tide_store_free(s);
    if (rc < 0) {
        cli_err("sightings", "%s", tide_error_last());
        return TIDE_EXIT_STORE;
    }
    return TIDE_EXIT_OK;
}

/* ---- tide index ---- */

static void print_info(const char *path, const tide_match_index_info *in, double secs, bool json)
{
    char built[32];
    tide_time_format(in->built_at, built);
    double per = in->indicators ? (double)in->bytes / (double)in->indicators : 0;
    if (json) {
        printf("{\"path\":\"%s\",\"entries\":%zu,\"indicators\":%zu,\"cidrs\":%zu,"
               "\"suppressed\":%zu,\"skipped_invalid\":%zu,\"bytes\":%zu,"
               "\"bytes_per_indicator\":%.1f,\"generation\":%lld,\"built_at\":\"%s\"",
                path, in->entries, in->indicators, in->cidrs, in->suppressed,
                in->skipped_invalid, in->bytes, per, (long long)in->generation, built);
        if (secs >= 0)
            printf(",\"build_seconds\":%.3f", secs);
        printf("}\n");
        return;
    }
    printf("index      %s\nbuilt      %s (intel generation %lld)%s\n", path, built,
            (long long)in->generation, "");
    if (secs >= 0)
        printf("build time %.3f s\n", secs);
    printf("indicators %zu (%zu left out: expired, not yet valid or revoked)\n"
           "entries    %zu (%zu CIDRs, %zu suppressed)\n"
           "size       %zu bytes (%.1f per indicator)\n",
            in->indicators, in->skipped_invalid, in->entries, in->cidrs, in->suppressed,
            in->bytes, per);
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
    bool json = false;
    for (int i = 2; i < argc;) {
        int r;
        if ((r = cli_opt("index", argc, argv, &i, "output", &output))) {
            if (r < 0)
                return TIDE_EXIT_USAGE;
            continue;
        }
        if (cli_flag(argv, i, "json"))
            json = true;
        else if (strncmp(argv[i], "--", 2) != 0 && file == NULL)
            file = argv[i];
        else {
            cli_err("index", "unknown argument '%s'", argv[i]);
            return TIDE_EXIT_USAGE;
        }
        i++;
    }
    char defpath[4096];
    snprintf(defpath, sizeof(defpath), "%s/match.idx", cli_store_dir);
    tide_match_index *ix = NULL;
    tide_match_index_info info;
    if (strcmp(sub, "build") == 0) {
        tide_store *s = cli_open_store("index");
        if (s == NULL)
            return TIDE_EXIT_STORE;
        double t0 = mono_s();
        int rc = tide_match_index_build(&ix, s, NULL);
        double secs = mono_s() - t0;
        tide_store_free(s);
        const char *path = output ? output : defpath;
        if (rc < 0 || tide_match_index_save(ix, path) < 0) {
            cli_err("index", "%s", tide_error_last());
            tide_match_index_free(ix);
            return TIDE_EXIT_STORE;
        }
        tide_match_index_info_get(ix, &info);
        print_info(path, &info, secs, json);
        tide_match_index_free(ix);
        return TIDE_EXIT_OK;
    }
    if (strcmp(sub, "info") == 0) {
        const char *path = file ? file : defpath;
        if (tide_match_index_load(&ix, path) < 0) {
            cli_err("index", "%s", tide_error_last());
            return TIDE_EXIT_USAGE;
        }
        tide_match_index_info_get(ix, &info);
        print_info(path, &info, -1, json);
        tide_match_index_free(ix);
        return TIDE_EXIT_OK;
    }
    cli_err("index", "unknown subcommand '%s'", sub);
    return TIDE_EXIT_USAGE;
}
