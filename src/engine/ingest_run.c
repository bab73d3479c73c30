/*
 * ingest_run.c - an ingest run: feeds from paths, streams or memory into the workspace's
 * store, ended by the retro-hunt of every indicator the run added or changed (SPEC C3). The
 * retro-hunt is part of ingesting, not a front end's decision: the CLI, an API request, a
 * TAXII POST and a case closing with lessons all come through here, so none of them can skip
 * it.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "engine/engine_int.h"
#include "tide/errors.h"

struct tide_ingest_run {
    tide_workspace *ws;
    tide_ingest_run_opts opts;
    tide_ingest_stats stats;
    int64_t started_ms; /* indicators with changed_at >= this are hunted */
    bool store_failed;
    tide__progress prog; /* tide_workspace_set_progress */
    uint64_t total;      /* tide_ingest_run_expect: the inputs' size, 0 unknown */
    uint64_t base;       /* bytes of the inputs read by the calls before */
    uint64_t last_bytes; /* as the ingest told last, in this call */
};

void tide_ingest_run_opts_init(tide_ingest_run_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->ingest.confidence = -1;
}

int tide_ingest_run_new(tide_ingest_run **out, tide_workspace *ws, const tide_ingest_run_opts *opts)
{
    *out = NULL;
    tide_ingest_run *r = tide__calloc(1, sizeof(*r));
    TIDE_CHECK_ALLOC(r);
    r->ws = ws;
    if (opts)
        r->opts = *opts;
    else
        tide_ingest_run_opts_init(&r->opts);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    r->started_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    tide__progress_begin(&r->prog, ws, "ingest", 0, 256);
    *out = r;
    return 0;
}

static void on_progress(const char *file, uint64_t bytes, long records, void *payload)
{
    tide_ingest_run *r = payload;
    r->last_bytes = bytes;
    if (tide__progress_due(&r->prog, (uint64_t)records))
        tide__progress_tick(&r->prog, (uint64_t)records, r->base + bytes, file);
}

typedef struct {
    uint64_t total;
    bool unknown;
} sizes;

static int add_size(const char *path, void *payload)
{
    sizes *z = payload;
    uint64_t n = tide__progress_file_size(path);
    struct stat st;
    if (n == 0 && !(stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0))
        z->unknown = true;
    z->total += n;
    return 0;
}

void tide_ingest_run_expect(tide_ingest_run *r, const char *const *paths, size_t n)
{
    if (r->ws->progress == NULL)
        return;
    sizes z = { 0, false };
    for (size_t i = 0; i < n && !z.unknown; i++) {
        struct stat st;
        if (strcmp(paths[i], "-") != 0 && stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode))
            (void)tide_walk_files(paths[i], add_size, &z);
        else
            add_size(paths[i], &z);
    }
    r->total = z.unknown ? 0 : z.total;
    r->prog.p.total_bytes = r->total;
}

/* Before and after each input: the ingest's progress goes to the run's. */
static void begin_input(tide_ingest_run *r)
{
    if (r->prog.cb == NULL)
        return;
    r->opts.ingest.on_progress = on_progress;
    r->opts.ingest.progress_payload = r;
    r->last_bytes = 0;
}

static void end_input(tide_ingest_run *r)
{
    r->base += r->last_bytes;
}

static int note(tide_ingest_run *r, int rc)
{
    if (rc == TIDE_ESTORE || rc == TIDE_ENOMEM)
        r->store_failed = true;
    return rc;
}

int tide_ingest_run_path(tide_ingest_run *r, const char *path, tide_feed_format fmt)
{
    begin_input(r);
    int rc = note(r, tide_ingest_path(r->ws->store, path, fmt, &r->opts.ingest, &r->stats,
                             r->opts.on_error, r->opts.payload));
    end_input(r);
    return rc;
}

int tide_ingest_run_file(tide_ingest_run *r, FILE *fp, const char *name, tide_feed_format fmt)
{
    begin_input(r);
    int rc = note(r, tide_ingest_file(r->ws->store, fp, name, fmt, &r->opts.ingest, &r->stats,
                             r->opts.on_error, r->opts.payload));
    end_input(r);
    return rc;
}

int tide_ingest_run_buffer(
        tide_ingest_run *r, const void *data, size_t len, const char *name, tide_feed_format fmt)
{
    begin_input(r);
    int rc = note(r, tide_ingest_buffer(r->ws->store, data, len, name, fmt, &r->opts.ingest,
                             &r->stats, r->opts.on_error, r->opts.payload));
    end_input(r);
    return rc;
}

int tide_ingest_run_finish(tide_ingest_run *r, tide_ingest_result *out)
{
    tide_ingest_result res;
    memset(&res, 0, sizeof(res));
    res.ingest = r->stats;
    tide__progress_end(&r->prog, (uint64_t)r->stats.records, r->base);
    int rc = 0;
    /* hunt the added / changed indicators back through history (SPEC C3); after a store
     * failure what was kept is committed already, but the run stops short of the hunt */
    if (!r->opts.no_hunt && !r->store_failed && r->stats.indicators > 0) {
        rc = tide__ws_hunt_changed(r->ws, r->started_ms, &res.hunted, &res.hunt, &res.hunt_seconds);
        res.follower_wait_seconds = r->ws->late_wait_seconds;
        res.followers_behind = r->ws->late_behind;
    }
    /* exports follow the intel: the declared targets whose selection changed are written
     * again (a failed one is counted and keeps its error in its status, the run is not
     * failed for it: the intel is in the store) */
    if (!r->store_failed) {
        char keep[512];
        snprintf(keep, sizeof(keep), "%s", rc < 0 ? tide_error_last() : "");
        int trc = tide__ws_targets_check(r->ws, "ingest", false, false, NULL, r->opts.on_export,
                r->opts.payload, &res.exports_written, &res.exports_failed);
        if (trc < 0 && res.exports_failed == 0 && rc == 0)
            rc = trc; /* the targets file itself could not be read or written */
        else if (rc < 0)
            tide_error_set(rc, "%s", keep);
    }
    if (out)
        *out = res;
    return rc;
}

void tide_ingest_run_free(tide_ingest_run *r)
{
    tide__free(r);
}
