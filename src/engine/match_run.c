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

/* A rotated file (its name now names another) is read on while it grows, and retired after
 * this many seconds without data. */
#define ROTATE_GRACE 5.0

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
    /* the input being read: its registry entry, and below which offset its sightings are
     * stored already (checked per sighting only when cur_store_skip > 0) */
    tide__input *cur;
    tide__reg *cur_reg;
    uint64_t cur_store_skip;
    bool checkpoint_now; /* a new index was swapped in: commit history and sightings at once */
    uint64_t checked_sightings; /* unsuppressed sightings when the export targets were checked */
    tide__progress prog;        /* tide_workspace_set_progress */
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

/* What the history's retention removed, if anything, and why. */
static void report_pruned(tide_match_run *r)
{
    tide_history_pruned p;
    tide_history_pruned_take(r->hist, &p);
    if (p.days == 0)
        return;
    r->st.history_pruned_days += p.days;
    r->st.history_pruned_own_days += p.own_days;
    r->st.history_pruned_own_events += p.own_events;
    char d[32], f[32], nw[32];
    tide__time_format(p.before_ms, d);
    tide__time_format(p.first_ms, f);
    tide__time_format(p.newest_ms, nw);
    d[10] = f[10] = nw[10] = '\0';
    char own[256] = "";
    if (p.own_days)
        snprintf(own, sizeof(own),
                "; %zu of those day(s) (%llu events) were recorded by this run and dropped at "
                "once: they are older than the window",
                p.own_days, (unsigned long long)p.own_events);
    notice(r, TIDE_NOTICE_WARN,
            "history: retention removed %zu day(s) before %s (%llu records of %llu observations, "
            "%llu events; %s .. the day before %s) because the retention of %d days counts back "
            "from the newest day in history, %s%s. To keep an imported period, import it with "
            "--keep (or set a longer --retention)",
            p.days, d, (unsigned long long)p.records, (unsigned long long)p.observations,
            (unsigned long long)p.events, f, d, p.retention, nw, own);
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
        r->o.checkpoint_seconds = TIDE_MATCH_CHECKPOINT_SECONDS;
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
    if (r->hist && r->o.keep_history)
        tide_history_set_keep(r->hist, true);
    /* a follower says which intel it matches with, in the history it commits: a retro-hunt of
     * newer intel waits until the follower has committed what it read before it swapped the new
     * index in (tide__ws_hunt_changed), so no event falls between live matching and the hunt */
    if (r->hist && r->o.follow && r->matcher &&
            (tide_history_set_generation(r->hist, r->st.index.generation) < 0 ||
                    tide_history_commit(r->hist) < 0)) {
        notice(r, TIDE_NOTICE_WARN, "history: %s", tide_error_last());
        r->st.history_errors++;
    }
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
    if (r->cur_store_skip && s->event->offset < r->cur_store_skip) {
        r->st.sightings_not_stored++; /* stored when this event was read before */
        if (r->cur)
            r->cur->skipped_store++;
    } else if (r->batch && tide_sighting_batch_add(r->batch, s) < 0 && !r->st.store_errors++) {
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
        if (ev[i].nobs == 0)
            continue;
        if ((rc = tide_history_add(r->hist, name, &ev[i])) == 0)
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
static void progress(tide_match_run *r, const char *name)
{
    uint64_t bytes, bad;
    tide__inputs_totals(&r->in, &bytes, &bad);
    tide__progress_tick(&r->prog, r->st.events, bytes, name);
}

/* The inputs' size when every one is known up front (plain regular files, buffers), else 0. */
static uint64_t inputs_size(tide_match_run *r)
{
    uint64_t total = 0;
    for (size_t i = 0; i < r->in.n; i++) {
        const tide__input *in = &r->in.v[i];
        const unsigned char *d = in->data;
        uint64_t n = in->is_buffer ? (in->len >= 2 && d[0] == 0x1f && d[1] == 0x8b ? 0 : in->len)
                     : in->is_fd || in->is_source ? 0
                                                  : tide__progress_file_size(in->path);
        if (n == 0 && !(in->is_buffer && in->len == 0))
            return 0;
        total += n;
    }
    return total;
}

/* The first of n events (in offset order) at or after pos. */
static size_t first_at(const tide_event *ev, size_t n, uint64_t pos)
{
    size_t k = 0;
    while (k < n && ev[k].offset < pos)
        k++;
    return k;
}

/* Events of a batch, read by one input: history, then the matcher. What the registry says is
 * recorded already (the input was read before) is not recorded again: events below its
 * history position skip the history, sightings of events below its store position are not
 * stored; a follower does not even match events both hold (it resumes where it was). */
static int consume(tide_match_run *r, const char *name, const tide_event *ev, size_t n)
{
    r->st.events += n;
    if (tide__progress_due(&r->prog, r->st.events))
        progress(r, name);
    tide__reg *g = r->cur_reg;
    size_t kh = 0, km = 0;
    r->cur_store_skip = 0;
    if (g && n) {
        uint64_t first = ev[0].offset;
        if (r->hist && first < g->hist)
            kh = first_at(ev, n, g->hist);
        if (r->batch && first < g->store)
            r->cur_store_skip = g->store;
        if (r->o.follow && (r->hist || r->batch)) {
            uint64_t both = r->hist && r->batch ? (g->hist < g->store ? g->hist : g->store)
                            : r->hist           ? g->hist
                                                : g->store;
            if (first < both)
                km = first_at(ev, n, both);
        }
        uint64_t next = ev[n - 1].offset + 1;
        if (r->hist && next > g->hist)
            g->hist = next;
        if (r->batch && next > g->store)
            g->store = next;
        if (kh) {
            r->st.history_skipped += kh;
            r->cur->skipped_hist += kh;
        }
        if (km) {
            r->st.resumed_events += km;
            r->cur->skipped_all += km;
        }
    }
    if (r->hist && kh < n)
        TIDE_CHECK(history_add(r, name, ev + kh, n - kh));
    if (r->matcher && km < n) {
        int m = tide_matcher_batch(r->matcher, name, ev + km, n - km, on_sighting, r);
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
/* What the registry said of an input already recorded, once it is closed. */
static void report_skipped(tide_match_run *r, tide__input *in)
{
    if (in->skipped_all)
        notice(r, TIDE_NOTICE_INFO,
                "%s: resumed after the %llu event(s) already recorded (history and sightings)",
                in->path, (unsigned long long)in->skipped_all);
    if (in->skipped_hist > in->skipped_all)
        notice(r, TIDE_NOTICE_INFO,
                "%s: %llu event(s) already recorded in history (this input was read before): "
                "not recorded again",
                in->path, (unsigned long long)(in->skipped_hist - in->skipped_all));
    if (in->skipped_store)
        notice(r, TIDE_NOTICE_INFO,
                "%s: %llu sighting(s) of events whose sightings are stored already (this input "
                "was read before): shown, not counted again",
                in->path, (unsigned long long)in->skipped_store);
    in->skipped_all = in->skipped_hist = in->skipped_store = 0;
}

static void close_input(tide_match_run *r, tide__input *in)
{
    tide__input_close(in, r->hist);
    report_skipped(r, in);
}

/* The registry entry of an input, once it can be named (a file with data); loaded at the
 * first input opened. */
static tide__reg *input_reg(tide_match_run *r, tide__input *in)
{
    if (r->hist == NULL && r->batch == NULL)
        return NULL;
    if (!r->in.reg_loaded && tide__inputs_reg_load(&r->in, r->hist,
                                     r->batch ? tide_workspace_store(r->ws) : NULL) < 0)
        notice(r, TIDE_NOTICE_WARN, "read positions: %s (inputs read before are recorded again)",
                tide_error_last());
    return tide__input_reg(&r->in, in);
}

static int pump(tide_match_run *r, tide__input *in, bool *progress)
{
    if (!in->opened) {
        if (tide__input_open(in, &r->o.tel) < 0) {
            r->st.input_errors++;
            notice(r, TIDE_NOTICE_ERROR, "%s", tide_error_last());
            in->finished = true;
            in->failed = true;
            return 0;
        }
        r->st.inputs++;
    } else if (r->o.follow && in->own_fd >= 0 && tide__input_rewritten(in)) {
        /* truncated, or truncated and written again (even to the same size or more) since
         * it was last read: what it holds now is a new file, read from its start */
        close_input(r, in);
        in->reg = -1;
        *progress = true;
        r->checkpoint_now = true; /* what it held is gone from disk: make its events durable */
        return 0;
    }
    r->cur = in;
    r->cur_reg = input_reg(r, in);
    uint64_t before = tide__input_position(in);
    int rc = tide__input_read(in, MATCH_BATCH, consume_cb, r);
    r->cur_store_skip = 0;
    if (tide__input_position(in) != before) {
        *progress = true;
        if (r->cur_reg == NULL) /* a file that was empty when opened: named now */
            r->cur_reg = input_reg(r, in);
        if (r->o.follow)
            tide__input_mark(in);
        in->last_growth = tide__engine_mono();
    }
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
        if (r->cur_reg) /* what was dropped is not recorded: read it again next time */
            r->cur_reg->hist = in->kept_hist;
        tide__input_close(in, NULL);
        report_skipped(r, in);
        in->finished = true;
        in->failed = true;
        return 0;
    }
    /* read without error so far: its events are kept for the next commit, and so is how far
     * it is recorded (the registry's position, committed with them) */
    if (r->hist && tide_history_keep(r->hist) < 0) {
        r->st.history_errors++;
        notice(r, TIDE_NOTICE_ERROR, "history: %s", tide_error_last());
        if (r->o.no_match)
            return tide_error_last_code();
    } else if (r->hist && r->cur_reg) {
        tide__reg *g = r->cur_reg;
        uint64_t pos =
                in->is_source ? (in->have_pos ? in->last_pos + 1 : 0) : tide__input_position(in);
        if (pos > g->hist)
            g->hist = pos;
        if (g->hist != in->kept_hist && tide_history_position_set(r->hist, g->key, g->hist) == 0)
            in->kept_hist = g->hist;
    }
    if (r->batch && r->cur_reg && !in->is_source) {
        uint64_t pos = tide__input_position(in);
        if (pos > r->cur_reg->store)
            r->cur_reg->store = pos;
    }
    /* the end of the data, or of the data for now */
    if (in->is_source) {
        if (in->source_ended) {
            close_input(r, in);
            in->finished = true;
        } else if (!r->o.follow && tide__input_position(in) == before) {
            struct timespec ts = { 0, 10 * 1000000L }; /* a source that has nothing yet */
            nanosleep(&ts, NULL);
        }
        return 0;
    }
    if (!r->o.follow || !in->followable || in->compressed) {
        close_input(r, in);
        in->finished = true;
        return 0;
    }
    switch (tide__input_follow_state(in)) {
        case TIDE__FOLLOW_ROTATED:
            /* its name now names another file: read on through the descriptor while a writer
             * that still has it open appends, retired once quiet for ROTATE_GRACE seconds (a
             * rescan that finds it under its new name follows it on as any file) */
            if (tide__engine_mono() - in->last_growth >= ROTATE_GRACE) {
                close_input(r, in);
                in->finished = true;
                *progress = true;
            }
            break;
        case TIDE__FOLLOW_TRUNCATED: /* copytruncate: read it again from the start */
            close_input(r, in);
            in->reg = -1;
            *progress = true;
            r->checkpoint_now = true;
            break;
        case TIDE__FOLLOW_REMOVED: /* what was written is read; the name later is a new file */
            close_input(r, in);
            in->finished = true;
            break;
        case TIDE__FOLLOW_GROWING: break;
    }
    return 0;
}

/* Store the sightings held and how far each input's sightings are stored, in one transaction:
 * an input read again (a re-run, a restarted follower) stores nothing twice. */
static void flush_sightings(tide_match_run *r)
{
    if (r->batch == NULL)
        return;
    tide_store *s = tide_workspace_store(r->ws);
    tide_read_position *pos = NULL;
    size_t npos = 0;
    if (r->in.nreg && (pos = tide__malloc(r->in.nreg * sizeof(*pos))) != NULL)
        npos = tide__inputs_store_moves(&r->in, pos, r->in.nreg);
    if (npos == 0 && tide_sighting_batch_size(r->batch) == 0) {
        tide__free(pos);
        return;
    }
    bool tx = npos > 0;
    int rc = tx ? tide_store_begin(s) : 0;
    if (rc == 0)
        rc = tide_sighting_batch_flush(r->batch, s);
    if (rc == 0 && npos) {
        rc = tide_store_put_positions(s, pos, npos);
        if (rc == TIDE_EUNSUPPORTED)
            rc = 0; /* a backend without positions: sightings stored as before */
    }
    if (rc == 0 && tx)
        rc = tide_store_commit(s);
    tide__free(pos);
    if (rc == 0) {
        tide__inputs_store_moved(&r->in);
        return;
    }
    if (tx)
        (void)tide_store_rollback(s);
    r->st.store_errors++;
    notice(r, TIDE_NOTICE_ERROR, "storing sightings: %s", tide_error_last());
    if (!r->fail)
        r->fail = tide_error_last_code();
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
    /* everything read before the swap is in history now, said with the generation: the
     * retro-hunt of the new intel (which waits for this) finds it; from here on it is matched
     * live */
    if (r->hist)
        (void)tide_history_set_generation(r->hist, r->st.index.generation);
    r->checkpoint_now = true;
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

/* Make the history durable with the read positions (and the generation, after a swap), then
 * store the sightings with theirs; record sources are told what is durable. */
static void checkpoint(tide_match_run *r, double *last_flush, double *last_hist)
{
    bool ok = tide_history_commit(r->hist) == 0;
    if (!ok) {
        r->st.history_errors++;
        notice(r, TIDE_NOTICE_WARN, "history: %s", tide_error_last());
    } else {
        report_pruned(r);
    }
    if (ok && !r->fail) {
        flush_sightings(r);
        *last_flush = tide__engine_mono();
        if (!r->fail)
            tide__inputs_committed(&r->in);
    }
    *last_hist = tide__engine_mono();
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
        /* a new index: before any event is matched with it; a file truncated: its events */
        if (r->checkpoint_now && r->hist)
            checkpoint(r, &last_flush, &last_hist);
        r->checkpoint_now = false;
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
        if (r->hist && tide__engine_mono() - last_hist >= r->o.checkpoint_seconds)
            checkpoint(r, &last_flush, &last_hist);
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
    tide__progress_begin(&r->prog, r->ws, r->o.no_match ? "import" : "match",
            r->ws->progress && !r->o.follow ? inputs_size(r) : 0, 512);
    double t0 = tide__engine_mono();
    int rc = r->o.follow ? run_follow(r) : run_once(r);
    {
        uint64_t bytes, bad;
        tide__inputs_totals(&r->in, &bytes, &bad);
        tide__progress_end(&r->prog, r->st.events, bytes);
    }
    for (size_t i = 0; i < r->in.n; i++)
        close_input(r, &r->in.v[i]);
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
        /* the windows of multi-observation patterns (reported by the front end) */
        out->window_candidates = ms.window_candidates;
        out->window_matches = ms.window_matches;
        out->window_evicted = ms.window_evicted;
        out->window_bytes_peak = ms.window_bytes_peak;
    }
    tide__inputs_totals(&r->in, &out->bytes, &out->bad);
    if (r->hist)
        out->history_recorded = tide_history_events_added(r->hist);
}
