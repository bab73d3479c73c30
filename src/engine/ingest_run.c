/*
 * ingest_run.c - an ingest run: feeds from paths, streams or memory into the workspace's
 * store, ended by the retro-hunt of every indicator the run added or changed (SPEC C3). The
 * retro-hunt is part of ingesting, not a front end's decision: the CLI, an API request, a
 * TAXII POST and a case closing with lessons all come through here, so none of them can skip
 * it.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/engine_int.h"
#include "tide/errors.h"

struct tide_ingest_run {
    tide_workspace *ws;
    tide_ingest_run_opts opts;
    tide_ingest_stats stats;
    int64_t started_ms; /* indicators with changed_at >= this are hunted */
    bool store_failed;
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
    *out = r;
    return 0;
}

static int note(tide_ingest_run *r, int rc)
{
    if (rc == TIDE_ESTORE || rc == TIDE_ENOMEM)
        r->store_failed = true;
    return rc;
}

int tide_ingest_run_path(tide_ingest_run *r, const char *path, tide_feed_format fmt)
{
    return note(r, tide_ingest_path(r->ws->store, path, fmt, &r->opts.ingest, &r->stats,
                           r->opts.on_error, r->opts.payload));
}

int tide_ingest_run_file(tide_ingest_run *r, FILE *fp, const char *name, tide_feed_format fmt)
{
    return note(r, tide_ingest_file(r->ws->store, fp, name, fmt, &r->opts.ingest, &r->stats,
                           r->opts.on_error, r->opts.payload));
}

int tide_ingest_run_buffer(
        tide_ingest_run *r, const void *data, size_t len, const char *name, tide_feed_format fmt)
{
    return note(r, tide_ingest_buffer(r->ws->store, data, len, name, fmt, &r->opts.ingest,
                           &r->stats, r->opts.on_error, r->opts.payload));
}

int tide_ingest_run_finish(tide_ingest_run *r, tide_ingest_result *out)
{
    tide_ingest_result res;
    memset(&res, 0, sizeof(res));
    res.ingest = r->stats;
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
