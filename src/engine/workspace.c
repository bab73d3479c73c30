/*
 * workspace.c - a workspace: the store opened from its location URI and everything that
 * belongs to it (history, cached match index, tier policy) under its state folder. Front ends
 * hold a workspace, never a store directory: a PostgreSQL store (SPEC C8) will have no folder,
 * so nothing above this file builds a path from the store's.
 *
 * Also the calls over the history that front ends need (hunt, stats, prune) and the match
 * index cache, so that no front end calls the history or the matcher itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "engine/engine_int.h"
#include "tide/errors.h"

double tide__engine_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *join(const char *dir, const char *name)
{
    tide_buf b = TIDE_BUF_INIT;
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    if (tide__buf_put(&b, dir, n) < 0 || tide__buf_putc(&b, '/') < 0 ||
            tide__buf_puts(&b, name) < 0) {
        tide__buf_free(&b);
        return NULL;
    }
    return tide__buf_detach(&b);
}

static bool has_scheme(const char *s, const char *scheme)
{
    size_t n = strlen(scheme);
    return strncmp(s, scheme, n) == 0;
}

/* "sqlite:DIR", "sqlite://DIR" or DIR -> the SQLite folder; other schemes refused. */
static int parse_location(const char *loc, char **out_dir)
{
    *out_dir = NULL;
    if (loc == NULL || *loc == '\0')
        return tide_error_set(TIDE_EINVAL, "workspace: no store location");
    if (has_scheme(loc, "postgres://") || has_scheme(loc, "postgresql://"))
        return tide_error_set(TIDE_EUNSUPPORTED,
                "%s: PostgreSQL stores are not supported yet (SPEC C8); use sqlite:DIR", loc);
    const char *dir = loc;
    if (has_scheme(loc, "sqlite://"))
        dir = loc + 9;
    else if (has_scheme(loc, "sqlite:"))
        dir = loc + 7;
    else {
        /* "scheme://..." of any other kind is not a folder name anyone means */
        const char *p = loc;
        while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '+' || *p == '-')
            p++;
        if (p > loc && strncmp(p, "://", 3) == 0)
            return tide_error_set(TIDE_EUNSUPPORTED,
                    "%s: unknown store location scheme "
                    "(use sqlite:DIR or a folder)",
                    loc);
    }
    if (*dir == '\0')
        return tide_error_set(TIDE_EINVAL, "%s: no folder after the scheme", loc);
    *out_dir = tide__strdup(dir);
    TIDE_CHECK_ALLOC(*out_dir);
    return 0;
}

/* The decay configuration: the defaults, then STATE/decay.json when it exists. */
static int load_decay(tide_workspace *ws)
{
    tide_decay_defaults(&ws->decay);
    FILE *f = fopen(ws->decay_path, "rb");
    if (f == NULL) {
        if (errno == ENOENT)
            return 0;
        return tide_error_set(TIDE_EIO, "%s: %s", ws->decay_path, strerror(errno));
    }
    char buf[64 * 1024];
    size_t n = fread(buf, 1, sizeof(buf), f);
    bool big = n == sizeof(buf), bad = ferror(f) != 0;
    fclose(f);
    if (bad)
        return tide_error_set(TIDE_EIO, "%s: cannot be read", ws->decay_path);
    if (big)
        return tide_error_set(TIDE_ETOOBIG, "%s: larger than 64 KiB", ws->decay_path);
    return tide_decay_parse(&ws->decay, buf, n, ws->decay_path);
}

const tide_decay_config *tide_workspace_decay(const tide_workspace *ws)
{
    return &ws->decay;
}

int tide_workspace_set_decay(tide_workspace *ws, const char *spec)
{
    return tide_decay_set(&ws->decay, spec);
}

void tide_workspace_free(tide_workspace *ws)
{
    if (ws == NULL)
        return;
    tide_store_free(ws->store);
    tide__free(ws->location);
    tide__free(ws->store_dir);
    tide__free(ws->state_dir);
    tide__free(ws->index_path);
    tide__free(ws->policy_path);
    tide__free(ws->history_dir);
    tide__free(ws->exports_path);
    tide__free(ws->decay_path);
    tide__free(ws);
}

int tide_workspace_open(tide_workspace **out, const char *location, const tide_workspace_opts *opts)
{
    *out = NULL;
    tide_workspace *ws = tide__calloc(1, sizeof(*ws));
    TIDE_CHECK_ALLOC(ws);
    int rc = parse_location(location, &ws->store_dir);
    if (rc < 0)
        goto fail;
    tide_buf b = TIDE_BUF_INIT;
    if (tide__buf_printf(&b, "sqlite:%s", ws->store_dir) < 0) {
        rc = TIDE_ENOMEM;
        goto fail;
    }
    ws->location = tide__buf_detach(&b);
    ws->state_dir = tide__strdup(opts && opts->state_dir ? opts->state_dir : ws->store_dir);
    if (ws->location == NULL || ws->state_dir == NULL) {
        rc = tide_error_set(TIDE_ENOMEM, "out of memory");
        goto fail;
    }
    ws->index_path = join(ws->state_dir, "match.idx");
    ws->policy_path = join(ws->state_dir, "policy.json");
    ws->history_dir = join(ws->state_dir, "history");
    ws->exports_path = join(ws->state_dir, "exports.json");
    ws->decay_path = join(ws->state_dir, "decay.json");
    if (!ws->index_path || !ws->policy_path || !ws->history_dir || !ws->exports_path ||
            !ws->decay_path) {
        rc = tide_error_set(TIDE_ENOMEM, "out of memory");
        goto fail;
    }
    rc = tide_store_open(&ws->store, ws->store_dir);
    if (rc < 0)
        goto fail;
    if (strcmp(ws->state_dir, ws->store_dir) != 0 && mkdir(ws->state_dir, 0700) != 0 &&
            errno != EEXIST) {
        rc = tide_error_set(
                TIDE_EIO, "%s: cannot create the state folder: %s", ws->state_dir, strerror(errno));
        goto fail;
    }
    if ((rc = load_decay(ws)) < 0)
        goto fail;
    *out = ws;
    return 0;
fail:
    tide_workspace_free(ws);
    return rc;
}

int tide_workspace_open_store(tide_store **out, const char *location)
{
    *out = NULL;
    char *dir = NULL;
    TIDE_CHECK(parse_location(location, &dir));
    int rc = tide_store_open(out, dir);
    tide__free(dir);
    return rc;
}

tide_store *tide_workspace_store(tide_workspace *ws)
{
    return ws->store;
}

const char *tide_workspace_location(const tide_workspace *ws)
{
    return ws->location;
}

const char *tide_workspace_path(const tide_workspace *ws, tide_ws_path which)
{
    switch (which) {
        case TIDE_WS_STATE_DIR: return ws->state_dir;
        case TIDE_WS_INDEX: return ws->index_path;
        case TIDE_WS_POLICY: return ws->policy_path;
        case TIDE_WS_HISTORY: return ws->history_dir;
        case TIDE_WS_EXPORTS: return ws->exports_path;
        case TIDE_WS_DECAY: return ws->decay_path;
    }
    return NULL;
}

int tide_workspace_store_open(const tide_workspace *ws, tide_store **out)
{
    return tide_store_open(out, ws->store_dir);
}

/* ---- the case context ---- */

static int case_hunt(void *ctx, const tide_hunt_opts *opts,
        int (*cb)(const tide_retro_sighting *s, void *payload), void *payload,
        tide_hunt_stats *out_stats)
{
    return tide_workspace_hunt(ctx, opts, cb, payload, out_stats);
}

static int case_promote(
        void *ctx, const char *data, size_t len, const tide_ingest_opts *io, long *out_indicators)
{
    tide_ingest_run_opts o;
    tide_ingest_run_opts_init(&o);
    o.ingest = *io;
    tide_ingest_run *run = NULL;
    TIDE_CHECK(tide_ingest_run_new(&run, ctx, &o));
    int rc = tide_ingest_run_buffer(run, data, len, "lessons", TIDE_FMT_LIST);
    tide_ingest_result res;
    int frc = tide_ingest_run_finish(run, &res);
    tide_ingest_run_free(run);
    if (rc == 0)
        rc = frc;
    if (out_indicators)
        *out_indicators = res.ingest.indicators;
    return rc;
}

void tide_workspace_case_opts(tide_workspace *ws, tide_case_opts *o)
{
    struct stat st;
    if (o->policy_path == NULL && stat(ws->policy_path, &st) == 0)
        o->policy_path = ws->policy_path;
    o->hunt = case_hunt;
    o->promote = case_promote;
    o->policy_export = tide__ws_case_policy;
    o->ctx = ws;
    if (o->decay == NULL)
        o->decay = &ws->decay;
}

/* ---- match index ---- */

int tide_workspace_index(tide_workspace *ws, bool rebuild, tide_match_index **out, bool *out_built)
{
    if (rebuild)
        (void)remove(ws->index_path);
    tide_index_opts io = { .decay = &ws->decay };
    return tide_match_index_current(
            out, ws->store, ws->index_path, TIDE_INDEX_MAX_AGE_MS, &io, out_built);
}

int tide_workspace_index_build(
        tide_workspace *ws, const char *path, tide_match_index_info *out_info, double *out_seconds)
{
    tide_match_index *ix = NULL;
    double t0 = tide__engine_mono();
    tide_index_opts io = { .decay = &ws->decay };
    int rc = tide_match_index_build(&ix, ws->store, &io);
    double secs = tide__engine_mono() - t0;
    if (rc == 0)
        rc = tide_match_index_save(ix, path ? path : ws->index_path);
    if (rc == 0 && out_info)
        tide_match_index_info_get(ix, out_info);
    if (rc == 0 && out_seconds)
        *out_seconds = secs;
    tide_match_index_free(ix);
    return rc;
}

int tide_workspace_index_info(tide_workspace *ws, const char *path, tide_match_index_info *out_info)
{
    tide_match_index *ix = NULL;
    TIDE_CHECK(tide_match_index_load(&ix, path ? path : ws->index_path));
    tide_match_index_info_get(ix, out_info);
    tide_match_index_free(ix);
    return 0;
}

int tide_workspace_index_left_out(tide_workspace *ws, const char *path,
        int (*cb)(const char *indicator_id, tide_left_out_reason reason, const char *detail,
                void *payload),
        void *payload)
{
    tide_match_index *ix = NULL;
    TIDE_CHECK(tide_match_index_load(&ix, path ? path : ws->index_path));
    int rc = tide_match_index_each_left_out(ix, cb, payload);
    tide_match_index_free(ix);
    return rc;
}

/* ---- history ---- */

typedef struct {
    int (*cb)(const tide_retro_sighting *s, void *payload);
    void *payload;
    tide__progress prog;
    uint64_t n;
} hunt_progress;

static int hunt_cb(const tide_retro_sighting *s, void *payload)
{
    hunt_progress *h = payload;
    if (tide__progress_due(&h->prog, ++h->n))
        tide__progress_tick(&h->prog, h->n, 0, NULL);
    return h->cb(s, h->payload);
}

int tide_workspace_hunt(tide_workspace *ws, const tide_hunt_opts *opts,
        int (*cb)(const tide_retro_sighting *s, void *payload), void *payload,
        tide_hunt_stats *out_stats)
{
    if (ws->progress && cb) { /* progress by the retro-sightings found */
        hunt_progress h = { cb, payload, { 0 }, 0 };
        tide__progress_begin(&h.prog, ws, "hunt", 0, 64);
        tide_progress_cb pcb = ws->progress;
        ws->progress = NULL; /* the hunt below, once */
        int rc = tide_workspace_hunt(ws, opts, hunt_cb, &h, out_stats);
        ws->progress = pcb;
        tide__progress_end(&h.prog, h.n, 0);
        return rc;
    }
    int rc = 0;
    tide_hunt_opts ho = { 0 };
    if (opts)
        ho = *opts;
    if (ho.cancel == NULL)
        ho.cancel = ws->cancel;
    for (int attempt = 0; attempt < 2; attempt++) {
        tide_history *h = NULL;
        rc = tide_history_open(&h, ws->state_dir, false);
        if (rc == 0)
            rc = tide_history_hunt(h, ws->store, &ho, cb, payload, out_stats);
        tide_history_free(h);
        if (rc != TIDE_ENOTFOUND) /* a run compacted away meanwhile: look again, once */
            break;
    }
    return rc;
}

int tide__ws_hunt_changed(tide_workspace *ws, int64_t since_ms, bool *out_hunted,
        tide_hunt_stats *out_stats, double *out_seconds)
{
    *out_hunted = false;
    memset(out_stats, 0, sizeof(*out_stats));
    *out_seconds = 0;
    /* followers matching with older intel commit everything they read before they swap in
     * the new index (and say so with the generation): wait for that, so that every event is
     * either in the history hunted here or matched live with the new intel */
    int64_t gen = 0;
    tide_history *h = NULL;
    if (tide_store_intel_generation(ws->store, &gen) == 0 &&
            tide_history_open(&h, ws->state_dir, false) == 0) {
        double bound = TIDE_LATE_INTEL_WAIT_SECONDS;
        const char *e = getenv("TIDE_LATE_INTEL_WAIT");
        long v;
        if (e && tide__parse_long(e, &v) == 0 && v >= 0)
            bound = (double)v;
        double t0 = tide__engine_mono();
        size_t behind = 0;
        while (tide_history_writers_behind(h, gen, &behind) == 0 && behind > 0 &&
                tide__engine_mono() - t0 < bound) {
            struct timespec ts = { 0, 50 * 1000000L };
            nanosleep(&ts, NULL);
        }
        ws->late_wait_seconds = tide__engine_mono() - t0;
        ws->late_behind = behind;
    }
    tide_history_free(h);
    /* no history yet (a new store, or one that never imported telemetry): nothing to hunt
     * in, and no need to read back every indicator just loaded */
    tide_history_stats hs;
    TIDE_CHECK(tide_workspace_history_stats(ws, &hs));
    if (hs.runs == 0)
        return 0;
    tide_indicator_filter f = { .changed_since = since_ms };
    tide_hunt_opts o = { .filter = &f, .store = true };
    double t0 = tide__engine_mono();
    int rc = tide_workspace_hunt(ws, &o, NULL, NULL, out_stats);
    *out_seconds = tide__engine_mono() - t0;
    if (rc < 0)
        return tide_error_set(rc, "retro-hunt: %s", tide_error_last());
    *out_hunted = true;
    return 0;
}

int tide_workspace_history_stats(tide_workspace *ws, tide_history_stats *out)
{
    tide_history *h = NULL;
    int rc = tide_history_open(&h, ws->state_dir, false);
    if (rc == 0)
        rc = tide_history_stats_get(h, out);
    tide_history_free(h);
    return rc;
}

int tide_workspace_history_prune(tide_workspace *ws, int64_t before_ms, int retention_days,
        tide_history_pruned *out, int *out_retention)
{
    tide_history *h = NULL;
    int rc = tide_history_open(&h, ws->state_dir, true);
    if (rc == 0 && retention_days > 0)
        rc = tide_history_set_retention(h, retention_days);
    if (rc == 0)
        rc = tide_history_prune(h, before_ms, NULL);
    if (rc == 0 && out)
        tide_history_pruned_take(h, out);
    if (rc == 0 && out_retention)
        *out_retention = tide_history_retention(h);
    tide_history_free(h);
    return rc;
}

int tide_workspace_history_compact(
        tide_workspace *ws, tide_history_stats *before, tide_history_stats *after)
{
    tide_history *h = NULL;
    int rc = tide_history_open(&h, ws->state_dir, true);
    if (rc == 0 && before)
        rc = tide_history_stats_get(h, before);
    if (rc == 0)
        rc = tide_history_compact(h);
    if (rc == 0 && after)
        rc = tide_history_stats_get(h, after);
    tide_history_free(h);
    return rc;
}

/* ---- exports, with the workspace's decay and progress ---- */

static void export_progress(uint64_t considered, void *payload)
{
    tide__progress *g = payload;
    if (tide__progress_due(g, considered))
        tide__progress_tick(g, considered, 0, NULL);
}

int tide_workspace_export(tide_workspace *ws, const tide_export_opts *opts, FILE *out,
        tide_export_summary *summary, tide_export_explain_cb explain, void *payload)
{
    if (ws == NULL || opts == NULL)
        return tide_error_set(TIDE_EINVAL, "tide_workspace_export: no workspace or options");
    tide_export_opts o = *opts;
    if (o.decay == NULL)
        o.decay = &ws->decay;
    tide__progress prog;
    tide__progress_begin(&prog, ws, "export", 0, 1024);
    if (prog.cb) {
        o.on_progress = export_progress;
        o.progress_payload = &prog;
    }
    tide_export_summary sum;
    int rc = tide_export_run(ws->store, &o, out, summary ? summary : &sum, explain, payload);
    tide__progress_end(
            &prog, summary ? (uint64_t)summary->considered : (uint64_t)sum.considered, 0);
    return rc;
}
