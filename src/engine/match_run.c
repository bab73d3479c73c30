/*
 * match_run.c - a match run (SPEC C2, C3): telemetry sources -> history -> matcher ->
 * sightings. The product's main loop, shared by every front end: `tide match`,
 * `tide history import` (a run with matching off), the demo, and next a server's match
 * workers and a Kafka consumer.
 *
 * What it owns:
 *   - the inputs (match_inputs.c): files, folders re-scanned when following, descriptors,
 *     memory buffers and caller-implemented record sources; rotation while following;
 *   - the index: loaded from the workspace's cache or built; when following, rebuilt in a
 *     background thread (with its own store connection) whenever the store's intel generation
 *     changes, and swapped in between two events, so nothing is lost or matched twice;
 *   - the history: every event's observations, checkpointed while following and committed at
 *     the end;
 *   - sightings: counted, aggregated per host x indicator into the store by a flush policy
 *     (every flush_seconds or flush_pairs while following, and at the end), and handed to the
 *     front end's callback, which writes them (tide_sighting_json) or streams them.
 * The library prints nothing: what a front end may want to show comes through on_notice.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "engine/match_inputs.h"
#include "tide/errors.h"

/* Events are read and matched in batches: the matcher works across the events of a batch (its
 * index lookups overlap) while the reader keeps them in place. */
#define MATCH_BATCH 32

/* ---- background index rebuild (follow mode) ---- */

typedef struct {
    pthread_t thread;
    bool running;
    atomic_int done; /* 1 when the thread finished */
    tide_match_index *result;
    char error[512];
    const tide_workspace *ws;
} rebuild;

static void *rebuild_main(void *arg)
{
    rebuild *rb = arg;
    tide_store *s = NULL;
    rb->result = NULL;
    rb->error[0] = '\0';
    tide_index_opts io = { .decay = tide_workspace_decay(rb->ws) };
    if (tide_workspace_store_open(rb->ws, &s) < 0 ||
            tide_match_index_build(&rb->result, s, &io) < 0)
        snprintf(rb->error, sizeof(rb->error), "%s", tide_error_last());
    else
        (void)tide_match_index_save(rb->result, tide_workspace_path(rb->ws, TIDE_WS_INDEX));
    tide_store_free(s);
    atomic_store(&rb->done, 1);
    return NULL;
}

/* ---- the run ---- */

struct tide_match_run {
    tide_workspace *ws;
    tide_match_run_opts o;
    tide__inputs in;
    tide_match_index *ix;
    tide_warninglists *wl;
    tide_matcher *matcher;
    tide_history *hist;
    tide_sighting_batch *batch;
    rebuild rb;
    volatile sig_atomic_t stop;
    tide_match_run_stats st;
    int fail;      /* first store / history failure (returned by run_run) */
    int hist_fail; /* the history could not be opened: matching goes on, the run fails */
    char hist_err[512];
    /* indicators with undecided candidates already named in a notice */
    struct noticed {
        char id[64];
        bool over;
    } * noticed;
    size_t nnoticed;
    int cb_stop; /* the callback's stop value */
    bool ran;
    uint64_t checked_sightings; /* unsuppressed sightings when the export targets were checked */
};

static void notice(tide_match_run *r, tide_notice_level level, const char *fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 3, 4)))
#endif
        ;

static void notice(tide_match_run *r, tide_notice_level level, const char *fmt, ...)
{
    if (r->o.on_notice == NULL)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    r->o.on_notice(level, msg, r->o.notice_payload);
}

#define UNDECIDED_NAMED 256 /* indicators named in notices; then counting only */

/* A candidate of a non-simple indicator the matcher could not decide: counted; the first one of
 * each indicator is named in a notice, and so is the moment it goes over its budget. */
static void on_undecided(const tide_undecided *u, void *payload)
{
    tide_match_run *r = payload;
    struct noticed *n = NULL;
    for (size_t i = 0; i < r->nnoticed && n == NULL; i++)
        if (strcmp(r->noticed[i].id, u->hit->indicator_id) == 0)
            n = &r->noticed[i];
    if (n == NULL && r->nnoticed < UNDECIDED_NAMED) {
        if (r->noticed == NULL &&
                (r->noticed = tide__calloc(UNDECIDED_NAMED, sizeof(*r->noticed))) == NULL)
            return;
        n = &r->noticed[r->nnoticed++];
        snprintf(n->id, sizeof(n->id), "%s", u->hit->indicator_id);
        r->st.undecided_indicators++;
        notice(r, TIDE_NOTICE_WARN,
                "%s: candidate at %s:%llu not decided: %s (pattern %.200s); its undecided "
                "candidates are counted",
                n->id, u->file ? u->file : "", (unsigned long long)u->event->line, u->reason,
                u->hit->pattern ? u->hit->pattern : "");
    } else if (n == NULL && r->nnoticed == UNDECIDED_NAMED) {
        r->nnoticed++;
        notice(r, TIDE_NOTICE_WARN, "more indicators with undecided candidates; counting only");
    }
    if (n && u->over_budget && !n->over) {
        n->over = true;
        notice(r, TIDE_NOTICE_WARN,
                "%s is over its evaluation budget (%d evaluations stopped by a limit, or %d ms): "
                "its further candidates are counted as undecided, not evaluated",
                n->id, TIDE_MATCH_BUDGET_CAPS, TIDE_MATCH_BUDGET_MS);
    }
}

static void history_wait(const char *msg, void *payload)
{
    notice(payload, TIDE_NOTICE_WARN, "%s", msg);
}

/* What the history's retention removed, if anything. */
static void report_pruned(tide_match_run *r)
{
    tide_history_pruned p;
    tide_history_pruned_take(r->hist, &p);
    if (p.days == 0)
        return;
    r->st.history_pruned_days += p.days;
    char d[32];
    tide__time_format(p.before_ms, d);
    d[10] = '\0';
    notice(r, TIDE_NOTICE_WARN,
            "history: retention removed %zu day(s) before %s (%llu records of %llu observations)",
            p.days, d, (unsigned long long)p.records, (unsigned long long)p.events);
}

void tide_match_run_free(tide_match_run *r)
{
    if (r == NULL)
        return;
    if (r->rb.running) {
        pthread_join(r->rb.thread, NULL);
        tide_match_index_free(r->rb.result);
    }
    tide__inputs_free(&r->in);
    tide_sighting_batch_free(r->batch);
    tide_history_free(r->hist);
    tide_matcher_free(r->matcher);
    tide_match_index_free(r->ix);
    tide_warninglists_free(r->wl);
    tide__free(r->noticed);
    tide__free(r);
}

int tide_match_run_new(tide_match_run **out, tide_workspace *ws, const tide_match_run_opts *opts)
{
    *out = NULL;
    tide_match_run *r = tide__calloc(1, sizeof(*r));
    TIDE_CHECK_ALLOC(r);
    r->ws = ws;
    if (opts)
        r->o = *opts;
    if (r->o.flush_seconds <= 0)
        r->o.flush_seconds = 2.0;
    if (r->o.flush_pairs == 0)
        r->o.flush_pairs = 100000;
    if (r->o.checkpoint_seconds <= 0)
        r->o.checkpoint_seconds = 60.0;
    r->o.tel.follow = r->o.follow;
    r->rb.ws = ws;
    int rc = 0;
    if (r->o.no_match && r->o.no_history) {
        rc = tide_error_set(TIDE_EINVAL, "a run without matching needs the history");
        goto fail;
    }
    if (!r->o.no_match) {
        double t0 = tide__engine_mono();
        rc = tide_workspace_index(ws, r->o.rebuild_index, &r->ix, &r->st.index_built);
        if (rc == 0)
            rc = tide_warninglists_new(&r->wl, tide_workspace_store(ws));
        if (rc == 0)
            rc = tide_matcher_new(&r->matcher, r->ix, r->wl);
        if (rc < 0)
            goto fail;
        tide_matcher_on_undecided(r->matcher, on_undecided, r);
        r->st.index_seconds = tide__engine_mono() - t0;
        tide_match_index_info_get(r->ix, &r->st.index);
        if (!r->o.no_store && (rc = tide_sighting_batch_new(&r->batch)) < 0)
            goto fail;
    }
    if (!r->o.no_history) {
        /* other writers may be writing too; one committing makes this wait, saying so */
        tide_history_opts ho = { .writable = true, .on_wait = history_wait, .payload = r };
        rc = tide_history_open_opts(&r->hist, tide_workspace_path(ws, TIDE_WS_STATE_DIR), &ho);
        if (rc == 0 && r->o.retention_days > 0)
            rc = tide_history_set_retention(r->hist, r->o.retention_days);
        if (rc < 0) {
            if (r->o.no_match)
                goto fail; /* history is the point of such a run */
            /* matching goes on; the run fails at its end */
            notice(r, TIDE_NOTICE_ERROR, "history not recorded: %s", tide_error_last());
            r->hist_fail = rc;
            snprintf(r->hist_err, sizeof(r->hist_err), "%s", tide_error_last());
            tide_history_free(r->hist);
            r->hist = NULL;
            rc = 0;
        }
    }
    r->st.history = r->hist != NULL;
    *out = r;
    return 0;
fail:
    tide_match_run_free(r);
    return rc;
}

/* ---- sources ---- */

int tide_match_run_add_path(tide_match_run *r, const char *path)
{
    return tide__inputs_add_path(&r->in, path);
}

int tide_match_run_add_fd(tide_match_run *r, int fd, const char *name)
{
    return tide__inputs_add_fd(&r->in, fd, name);
}

int tide_match_run_add_buffer(tide_match_run *r, const void *data, size_t len, const char *name)
{
    return tide__inputs_add_buffer(&r->in, data, len, name);
}

int tide_match_run_add_source(tide_match_run *r, const tide_match_source *src)
{
    return tide__inputs_add_source(&r->in, src);
}

void tide_match_run_stop(tide_match_run *r)
{
    r->stop = 1;
}

/* ---- matching ---- */

/* Whether storing this sighting of an indicator its index scored 0 can give it a score above 0,
 * so that the cached index must be built again: the sighting's time becomes the reference the
 * age counts from (score.h), which helps only when it is within the kind's lifetime of now. An
 * old event (a replayed capture) refreshes nothing, and rebuilding the index after every run
 * that sights it (2 s for a million indicators) would only score it 0 again. */
static bool sighting_refreshes(const tide_match_run *r, const tide_sighting *s)
{
    const tide_decay_config *dc = tide_workspace_decay(r->ws);
    int k = (int)s->hit->kind;
    if (dc == NULL || k < 0 || k >= TIDE_OBS__COUNT || dc->lifetime_days[k] <= 0)
        return true; /* never decays (its 0 is not age), or unknown: be safe */
    int64_t now = tide__time_now_ms();
    int64_t ts = s->event->ts_us > 0 ? s->event->ts_us / 1000 : now;
    return (double)(now - ts) < dc->lifetime_days[k] * 86400000.0;
}

static int on_sighting(const tide_sighting *s, void *payload)
{
    tide_match_run *r = payload;
    r->st.sightings++;
    if (s->hit->suppressed)
        r->st.suppressed++;
    else if (s->hit->score == 0 && r->batch && !r->ws->index_stale && sighting_refreshes(r, s))
        r->ws->index_stale = true; /* seen again: its stored sighting refreshes the score */
    if (r->batch && tide_sighting_batch_add(r->batch, s) < 0 && !r->st.store_errors++) {
        notice(r, TIDE_NOTICE_ERROR, "storing sightings: %s", tide_error_last());
        if (!r->fail)
            r->fail = tide_error_last_code();
    }
    if (r->o.on_sighting) {
        int rc = r->o.on_sighting(s, r->o.payload);
        if (rc != 0)
            r->cb_stop = rc;
        return rc;
    }
    return 0;
}

#define REJECTS_SHOWN 10 /* events out of the history's time bounds named in notices */

static int history_add(tide_match_run *r, const char *name, const tide_event *ev, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc;
        if (ev[i].nobs == 0 || (rc = tide_history_add(r->hist, name, &ev[i])) == 0)
            continue;
        if (rc == TIDE_EFORMAT) { /* an impossible time: this event is not recorded */
            if (++r->st.history_rejected <= REJECTS_SHOWN)
                notice(r, TIDE_NOTICE_WARN, "%s:%llu: %s", name, (unsigned long long)ev[i].line,
                        tide_error_last());
            else if (r->st.history_rejected == REJECTS_SHOWN + 1)
                notice(r, TIDE_NOTICE_WARN,
                        "more events out of the history's time bounds; counting only");
            continue;
        }
        r->st.history_errors++;
        if (r->o.no_match) /* an import that cannot record has failed */
            return tide_error_set(tide_error_last_code(), "history: %s", tide_error_last());
        if (r->st.history_errors == 1)
            notice(r, TIDE_NOTICE_WARN, "history: %s", tide_error_last());
    }
    return 0;
}

/* Events of a batch, read by one input: history, then the matcher. */
static int consume(tide_match_run *r, const char *name, const tide_event *ev, size_t n)
{
    r->st.events += n;
    if (r->hist)
        TIDE_CHECK(history_add(r, name, ev, n));
    if (r->matcher) {
        int m = tide_matcher_batch(r->matcher, name, ev, n, on_sighting, r);
        if (m != 0)
            return m;
    }
    return 0;
}

static int consume_cb(void *payload, const char *name, const tide_event *ev, size_t n)
{
    return consume(payload, name, ev, n);
}

/* Read one input as far as it goes now; then rotation and the end of the input. Returns < 0
 * (or the callback's stop value) only for what stops the run; input errors are counted. */
static int pump(tide_match_run *r, tide__input *in, bool *progress)
{
    if (!in->opened) {
        if (tide__input_open(in, &r->o.tel) < 0) {
            r->st.input_errors++;
            notice(r, TIDE_NOTICE_ERROR, "%s", tide_error_last());
            in->finished = true;
            return 0;
        }
        r->st.inputs++;
    }
    uint64_t before = tide__input_position(in);
    int rc = tide__input_read(in, MATCH_BATCH, consume_cb, r);
    if (tide__input_position(in) != before)
        *progress = true;
    if (rc != 0 && (rc == r->cb_stop || r->fail || (r->o.no_match && r->st.history_errors)))
        return rc; /* the callback stopped the run, or the store or the history failed */
    if (rc < 0) {
        r->st.input_errors++;
        notice(r, TIDE_NOTICE_ERROR, "%s: %s", in->path, tide_error_last());
        /* what this read of the input gave is dropped from history: a repaired file imported
         * later would count it twice */
        uint64_t dropped = 0;
        if (r->hist && tide_history_discard(r->hist, &dropped) == 0 && dropped) {
            r->st.history_discarded += dropped;
            notice(r, TIDE_NOTICE_ERROR,
                    "%s: the %llu event(s) read before the error are not recorded in history "
                    "(import the repaired file again)",
                    in->path, (unsigned long long)dropped);
        }
        tide__input_close(in, NULL);
        in->finished = true;
        return 0;
    }
    /* read without error so far: its events are kept for the next commit */
    if (r->hist && tide_history_keep(r->hist) < 0) {
        r->st.history_errors++;
        notice(r, TIDE_NOTICE_ERROR, "history: %s", tide_error_last());
        if (r->o.no_match)
            return tide_error_last_code();
    }
    /* the end of the data, or of the data for now */
    if (in->is_source) {
        if (in->source_ended) {
            tide__input_close(in, r->hist);
            in->finished = true;
        } else if (!r->o.follow && tide__input_position(in) == before) {
            struct timespec ts = { 0, 10 * 1000000L }; /* a source that has nothing yet */
            nanosleep(&ts, NULL);
        }
        return 0;
    }
    if (!r->o.follow || !in->followable) {
        tide__input_close(in, r->hist);
        in->finished = true;
        return 0;
    }
    switch (tide__input_follow_state(in)) {
        case TIDE__FOLLOW_ROTATED: /* drained above: everything written before it is read */
            tide__input_close(in, r->hist);
            in->finished = true;
            *progress = true;
            break;
        case TIDE__FOLLOW_TRUNCATED: /* copytruncate: read it again from the start */
            tide__input_close(in, r->hist);
            *progress = true;
            break;
        case TIDE__FOLLOW_REMOVED: /* what was written is read; the name later is a new file */
            tide__input_close(in, r->hist);
            in->finished = true;
            break;
        case TIDE__FOLLOW_GROWING: break;
    }
    return 0;
}

static void flush_sightings(tide_match_run *r)
{
    if (r->batch && tide_sighting_batch_flush(r->batch, tide_workspace_store(r->ws)) < 0) {
        r->st.store_errors++;
        notice(r, TIDE_NOTICE_ERROR, "storing sightings: %s", tide_error_last());
        if (!r->fail)
            r->fail = tide_error_last_code();
    }
}

/* The intel changed: build the next index beside the running matcher; swap it in when done. */
static void watch_index(tide_match_run *r, int64_t *gen)
{
    rebuild *rb = &r->rb;
    int64_t g;
    if (!rb->running && tide_store_intel_generation(tide_workspace_store(r->ws), &g) == 0 &&
            g != *gen) {
        *gen = g;
        atomic_store(&rb->done, 0);
        if (pthread_create(&rb->thread, NULL, rebuild_main, rb) == 0)
            rb->running = true;
    }
}

static void swap_index(tide_match_run *r)
{
    rebuild *rb = &r->rb;
    if (!rb->running || !atomic_load(&rb->done))
        return;
    pthread_join(rb->thread, NULL);
    rb->running = false;
    if (rb->result == NULL) {
        notice(r, TIDE_NOTICE_WARN, "index rebuild failed: %s", rb->error);
        return;
    }
    /* between two events: nothing is lost or matched twice */
    tide_match_index *old = (tide_match_index *)tide_matcher_swap(r->matcher, rb->result);
    tide_match_index_free(old);
    r->ix = rb->result;
    rb->result = NULL;
    tide_match_index_info_get(r->ix, &r->st.index);
    notice(r, TIDE_NOTICE_INFO,
            "index reloaded (intel generation %lld): %zu entries of %zu indicators",
            (long long)r->st.index.generation, r->st.index.entries, r->st.index.indicators);
}

static void target_notice(const tide_target_result *t, void *payload)
{
    tide_match_run *r = payload;
    if (t->rc < 0)
        notice(r, TIDE_NOTICE_WARN, "export target %s: %s", t->name, t->error);
    else if (t->written)
        notice(r, TIDE_NOTICE_INFO, "export target %s (%s, %s) written: %ld entries", t->name,
                t->format, t->trigger, t->summary->written);
}

/* Exports follow the intel: check the declared targets (after the sightings are stored: a
 * sighting refreshes a decayed score). Nothing when none are declared. */
static void check_targets(tide_match_run *r)
{
    uint64_t seen = r->st.sightings - r->st.suppressed;
    if (tide__ws_targets_check(r->ws, "match", false, seen != r->checked_sightings, NULL,
                target_notice, r, NULL, NULL) < 0 &&
            tide_error_last_code() != 0)
        notice(r, TIDE_NOTICE_WARN, "export targets: %s", tide_error_last());
    r->checked_sightings = seen;
}

static int run_once(tide_match_run *r)
{
    for (size_t i = 0; i < r->in.n && !r->stop; i++) {
        tide__input *in = &r->in.v[i];
        bool progress = false;
        while (!in->finished && !r->stop) {
            int rc = pump(r, in, &progress);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

static int run_follow(tide_match_run *r)
{
    int64_t gen = r->st.index.generation;
    double now = tide__engine_mono();
    double last_scan = 0, last_flush = now, last_hist = now, last_targets = now;
    while (!r->stop) {
        bool progress = false;
        now = tide__engine_mono();
        if (now - last_scan >= 0.5) {
            tide__inputs_rescan(&r->in);
            last_scan = now;
            if (r->matcher)
                watch_index(r, &gen);
        }
        if (r->matcher)
            swap_index(r);
        for (size_t i = 0; i < r->in.n && !r->stop; i++) {
            tide__input *in = &r->in.v[i];
            if (in->finished)
                continue;
            int rc = pump(r, in, &progress);
            if (rc != 0)
                return rc;
        }
        if (r->o.on_pass)
            r->o.on_pass(r->o.payload);
        if (r->batch && (tide__engine_mono() - last_flush >= r->o.flush_seconds ||
                                tide_sighting_batch_size(r->batch) > r->o.flush_pairs)) {
            flush_sightings(r);
            last_flush = tide__engine_mono();
            if (!r->fail && !r->hist)
                tide__inputs_committed(&r->in);
            if (!r->fail && last_flush - last_targets >= 60) { /* sightings stored: check */
                check_targets(r);
                last_targets = tide__engine_mono();
            }
        }
        if (r->hist && tide__engine_mono() - last_hist >= r->o.checkpoint_seconds) {
            bool ok = tide_history_checkpoint(r->hist) == 0;
            if (!ok) {
                r->st.history_errors++;
                notice(r, TIDE_NOTICE_WARN, "history: %s", tide_error_last());
            } else {
                report_pruned(r);
            }
            if (ok && !r->fail) {
                flush_sightings(r);
                last_flush = tide__engine_mono();
                if (!r->fail)
                    tide__inputs_committed(&r->in);
            }
            last_hist = tide__engine_mono();
        }
        if (r->fail)
            return r->fail;
        if (!progress && !tide__inputs_may_grow(&r->in))
            break; /* nothing left that could give more (stdin at its end, buffers read) */
        if (!progress) {
            struct timespec ts = { 0, 100 * 1000000L };
            nanosleep(&ts, NULL);
        }
    }
    return 0;
}

int tide_match_run_run(tide_match_run *r)
{
    if (r->ran)
        return tide_error_set(TIDE_EINVAL, "a match run runs once");
    r->ran = true;
    double t0 = tide__engine_mono();
    int rc = r->o.follow ? run_follow(r) : run_once(r);
    for (size_t i = 0; i < r->in.n; i++)
        tide__input_close(&r->in.v[i], r->hist);
    r->st.seconds = tide__engine_mono() - t0;
    double t1 = tide__engine_mono();
    if (r->hist && tide_history_commit(r->hist) < 0) {
        r->st.history_errors++;
        notice(r, TIDE_NOTICE_ERROR, "history: %s", tide_error_last());
        if (rc == 0)
            rc = tide_error_last_code();
    } else if (r->hist) {
        report_pruned(r);
    }
    r->st.commit_seconds = tide__engine_mono() - t1;
    flush_sightings(r);
    /* an indicator the cached index scored 0 was sighted: its stored sighting refreshes its
     * score (score.h), so the next run builds the index again instead of keeping 0 */
    if (r->ws->index_stale && r->st.store_errors == 0)
        (void)remove(tide_workspace_path(r->ws, TIDE_WS_INDEX));
    if (rc == 0 && r->fail)
        rc = r->fail;
    if (rc == 0)
        tide__inputs_committed(&r->in);
    if (!r->fail)
        check_targets(r);
    if (rc == 0 && r->hist_fail)
        rc = tide_error_set(r->hist_fail, "history not recorded: %s", r->hist_err);
    return rc;
}

void tide_match_run_stats_get(const tide_match_run *r, tide_match_run_stats *out)
{
    *out = r->st;
    if (r->matcher) {
        tide_matcher_stats ms;
        tide_matcher_stats_get(r->matcher, &ms);
        out->undecided = ms.undecided;
    }
    tide__inputs_totals(&r->in, &out->bytes, &out->bad);
}
