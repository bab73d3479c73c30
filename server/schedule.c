/*
 * schedule.c - the scheduled work of `tide serve`, in one thread started and stopped with the
 * server: feed pulls (the feeds of `tide feeds add`, each when its interval has passed since
 * its last attempt: the registry is read every second, so a feed added by another process or
 * through the API is picked up without a restart), the declared export targets (checked every
 * --export-every: decay and valid_until change a selection with no ingest; a target is written,
 * atomically, only when its selection changed) and recovery verification (every
 * --verify-every: open cases with recovered hosts are refreshed as `tide case refresh` does,
 * which verifies a host after a clean watch or sends it back on a relapse).
 *
 * Every job writes through the server's single writer (write_mu on the server's workspace), one
 * feed, one target check or one case at a time, so no job runs at the same time as an API
 * write, and an API write waits at most for one of them; reads (the pool of store connections)
 * never wait. Jobs are recorded in the audit log as actor "scheduler" and told to the operator
 * through opts.on_log. A failing job (a peer down, bad credentials) is logged and tried again
 * at its next time; it stops neither the server nor the other jobs.
 *
 * At stop: no new job starts (tide__sched_quiesce); the one under way gets the grace time, then
 * the server's cancel flag cuts it (a pull keeps the pages stored before it, as any failed pull
 * does; a hunt stores nothing). Also the routes of the schedule and of the feeds. No product
 * logic: the jobs are calls of the library (tide/feeds.h, tide/engine.h, tide/cases.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "params.h"
#include "server_int.h"
#include "tide/feeds.h"

#define FEEDS_POLL_MS 1000 /* how often the registry is read for due feeds */

typedef struct {
    const char *name;
    int64_t every_ms;             /* 0: the feeds' own intervals */
    int64_t last_start, last_end; /* ms, wall clock; 0: never */
    const char *result;           /* NULL (never), "ok", "failed", "cancelled" */
    char detail[512];
    int64_t next; /* ms; INT64_MAX: nothing due */
    uint64_t runs, failures;
    bool running;
} job;

enum {
    JOB_FEEDS,
    JOB_EXPORTS,
    JOB_VERIFY,
    NJOBS
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_t thread;
static bool started, quiesced, enabled;
static job jobs[NJOBS];
static json_t *feed_runs; /* name -> the last pull (scheduled or through the API) */

static int64_t wall_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static bool stop_asked(void)
{
    pthread_mutex_lock(&mu);
    bool q = quiesced;
    pthread_mutex_unlock(&mu);
    return q;
}

static void job_begin(int k)
{
    pthread_mutex_lock(&mu);
    jobs[k].running = true;
    jobs[k].last_start = wall_ms();
    pthread_mutex_unlock(&mu);
}

static void job_end(int k, const char *result, const char *detail)
{
    pthread_mutex_lock(&mu);
    job *j = &jobs[k];
    j->running = false;
    j->last_end = wall_ms();
    j->result = result;
    snprintf(j->detail, sizeof j->detail, "%s", detail ? detail : "");
    j->runs++;
    if (strcmp(result, "ok") != 0)
        j->failures++;
    if (j->every_ms)
        j->next = j->last_end + j->every_ms;
    pthread_mutex_unlock(&mu);
}

static void audit(srv *s, const char *action, const char *target, const char *detail)
{
    /* under write_mu: the workspace's store */
    if (tide_audit_add(tide_workspace_store(s->ws), "scheduler", action, target, detail) < 0)
        tide__srv_log(s, "audit log: %s", tide_error_last());
}

/* ---------------- feeds ---------------- */

typedef struct {
    srv *s;
    const char *feed;
} notice_ctx;

static void on_feed_notice(tide_notice_level level, const char *msg, void *payload)
{
    (void)level;
    notice_ctx *n = payload;
    tide__srv_log(n->s, "feed %s: %s", n->feed, msg);
}

/* The last pull of a feed, for GET /schedule (mu held by nobody). */
static void feed_record(
        const char *name, int rc, const tide_feed_result *res, const char *err, const char *by)
{
    char at[32];
    tide_time_format(wall_ms(), at);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s?, s:b, s:I, s:I, s:I}", "at", at, "by", by, "result",
            rc == TIDE_ECANCELED ? "cancelled"
            : rc < 0             ? "failed"
                                 : "ok",
            "error", rc < 0 ? err : NULL, "not_modified", res->not_modified, "stored",
            (json_int_t)res->ingest.ingest.stored, "rejected",
            (json_int_t)res->ingest.ingest.rejected, "retro_sightings",
            (json_int_t)res->ingest.hunt.sightings);
    pthread_mutex_lock(&mu);
    if (feed_runs == NULL)
        feed_runs = json_object();
    if (o && feed_runs)
        json_object_set_new(feed_runs, name, o);
    else
        json_decref(o);
    pthread_mutex_unlock(&mu);
}

/* Pull one feed through the single writer; 0 or the pull's error (err: why). */
static int pull_feed(
        srv *s, const char *name, const char *by, tide_feed_result *res, char *err, size_t cap)
{
    tide_feed_pull_opts po;
    tide_feed_pull_opts_init(&po);
    po.cancel = &s->cancel;
    po.retries = 1; /* the feed's interval tries it again: the writer is not held for long */
    notice_ctx nc = { s, name };
    po.on_notice = on_feed_notice;
    po.payload = &nc;
    memset(res, 0, sizeof *res);
    err[0] = '\0';
    pthread_mutex_lock(&s->write_mu);
    int rc = tide_feed_pull(s->ws, name, &po, res);
    if (rc < 0)
        snprintf(err, cap, "%s", tide_error_last());
    bool known = rc != TIDE_ENOTFOUND || res->requests > 0; /* else: no such feed */
    if (known && strcmp(by, "scheduler") == 0) {
        char d[700];
        if (rc < 0)
            snprintf(d, sizeof d, "failed: %.600s", err);
        else
            snprintf(d, sizeof d, "%s: %ld stored, %ld unchanged, %ld rejected",
                    res->not_modified ? "not modified" : "ok", res->ingest.ingest.stored,
                    res->ingest.ingest.unchanged, res->ingest.ingest.rejected);
        audit(s, "schedule: pull feed", name, d);
    }
    pthread_mutex_unlock(&s->write_mu);
    if (known)
        feed_record(name, rc, res, err, by);
    return rc;
}

typedef struct {
    int64_t now, next;
    json_t *due; /* names */
} due_ctx;

static int on_feed(const tide_feed_info *f, void *payload)
{
    due_ctx *d = payload;
    if (f->next_due_at <= d->now)
        json_array_append_new(d->due, json_string(f->name));
    else if (f->next_due_at < d->next)
        d->next = f->next_due_at;
    return 0;
}

static void run_feeds(srv *s)
{
    due_ctx d = { wall_ms(), INT64_MAX, json_array() };
    pthread_mutex_lock(&s->write_mu);
    int rc = d.due ? tide_feeds_list(s->ws, on_feed, &d) : TIDE_ENOMEM;
    char why[512] = "";
    if (rc < 0)
        snprintf(why, sizeof why, "%s", tide_error_last());
    pthread_mutex_unlock(&s->write_mu);
    if (rc < 0) {
        tide__srv_log(s, "schedule: feeds: %s", why);
        job_end(JOB_FEEDS, "failed", why);
        json_decref(d.due);
        return;
    }
    size_t n = json_array_size(d.due);
    if (n) {
        job_begin(JOB_FEEDS);
        size_t ok = 0, failed = 0;
        bool cancelled = false;
        char last_err[400] = "";
        for (size_t i = 0; i < n && !stop_asked(); i++) {
            const char *name = json_string_value(json_array_get(d.due, i));
            tide_feed_result res;
            char err[1024];
            int prc = pull_feed(s, name, "scheduler", &res, err, sizeof err);
            if (prc == TIDE_ENOTFOUND && res.requests == 0)
                continue; /* removed meanwhile */
            if (prc < 0) {
                failed++;
                cancelled = cancelled || prc == TIDE_ECANCELED;
                snprintf(last_err, sizeof last_err, "%.390s", err);
                tide__srv_log(s, "schedule: %s (tried again in its interval)", err);
            } else {
                ok++;
                tide__srv_log(s,
                        "schedule: feed %s pulled: %s%ld stored, %ld unchanged, %ld rejected", name,
                        res.not_modified ? "not modified, " : "", res.ingest.ingest.stored,
                        res.ingest.ingest.unchanged, res.ingest.ingest.rejected);
            }
        }
        char detail[512];
        snprintf(detail, sizeof detail, "%zu feed(s) pulled, %zu failed%s%s", ok, failed,
                failed ? ": " : "", last_err);
        job_end(JOB_FEEDS, cancelled ? "cancelled" : failed ? "failed" : "ok", detail);
    }
    /* when the next one is due (a pull moved its feed's time: read again next round) */
    pthread_mutex_lock(&mu);
    jobs[JOB_FEEDS].next = n ? d.now + FEEDS_POLL_MS : d.next;
    pthread_mutex_unlock(&mu);
    json_decref(d.due);
}

/* ---------------- export targets ---------------- */

typedef struct {
    srv *s;
    int written, failed;
} target_ctx;

static void on_target(const tide_target_result *r, void *payload)
{
    target_ctx *c = payload;
    char d[700];
    if (r->rc < 0) {
        c->failed++;
        snprintf(d, sizeof d, "failed: %.600s", r->error ? r->error : "");
        tide__srv_log(c->s, "schedule: export target %s: %s", r->name, d);
        audit(c->s, "schedule: export target", r->name, d);
    } else if (r->written) {
        c->written++;
        long added = r->summary ? r->summary->added : 0,
             removed = r->summary ? r->summary->removed : 0;
        snprintf(d, sizeof d, "written (%s): %ld entries, %ld added, %ld removed",
                r->trigger ? r->trigger : "", r->summary ? r->summary->written : 0, added, removed);
        tide__srv_log(c->s, "schedule: export target %s %s", r->name, d);
        audit(c->s, "schedule: export target", r->name, d);
    }
}

static void run_exports(srv *s)
{
    job_begin(JOB_EXPORTS);
    target_ctx c = { s, 0, 0 };
    pthread_mutex_lock(&s->write_mu);
    int w = 0, f = 0;
    int rc = tide_workspace_targets_refresh(s->ws, false, NULL, on_target, &c, &w, &f);
    char why[400] = "";
    if (rc < 0)
        snprintf(why, sizeof why, "%.390s", tide_error_last());
    pthread_mutex_unlock(&s->write_mu);
    char detail[512];
    if (rc < 0 && c.failed == 0) {
        tide__srv_log(s, "schedule: export targets: %s", why);
        snprintf(detail, sizeof detail, "%s", why);
    } else
        snprintf(detail, sizeof detail, "%d target(s) written, %d failed", c.written, c.failed);
    job_end(JOB_EXPORTS, rc < 0 ? "failed" : "ok", detail);
}

/* ---------------- recovery verification ---------------- */

/* the hosts of case id in state "recovered" (a JSON array of names), or NULL */
static json_t *recovered_hosts(tide_store *st, int64_t id, json_t **states)
{
    char *doc = NULL;
    if (tide_case_show_json(st, id, &doc) < 0)
        return NULL;
    json_t *c = json_loads(doc, 0, NULL);
    free(doc);
    json_t *out = json_array(), *h;
    size_t i;
    *states = json_object();
    json_array_foreach(json_object_get(c, "hosts"), i, h)
    {
        const char *name = json_string_value(json_object_get(h, "host"));
        const char *state = json_string_value(json_object_get(h, "state"));
        if (name && state) {
            json_object_set_new(*states, name, json_string(state));
            if (strcmp(state, "recovered") == 0)
                json_array_append_new(out, json_string(name));
        }
    }
    json_decref(c);
    return out;
}

static void run_verify(srv *s)
{
    job_begin(JOB_VERIFY);
    char *list = NULL, why[400] = "";
    pthread_mutex_lock(&s->write_mu);
    int rc = tide_case_list_json(tide_workspace_store(s->ws), &list);
    if (rc < 0)
        snprintf(why, sizeof why, "%.390s", tide_error_last());
    pthread_mutex_unlock(&s->write_mu);
    json_t *cases = rc == 0 ? json_loads(list, 0, NULL) : NULL;
    free(list);
    size_t i, checked = 0, verified = 0, relapsed = 0;
    json_t *c;
    json_array_foreach(cases, i, c)
    {
        const char *status = json_string_value(json_object_get(c, "status"));
        int64_t id = (int64_t)json_integer_value(json_object_get(c, "id"));
        if (status == NULL || strcmp(status, "open") != 0 || id <= 0 || stop_asked())
            continue;
        pthread_mutex_lock(&s->write_mu);
        tide_store *st = tide_workspace_store(s->ws);
        json_t *before = NULL, *after = NULL;
        json_t *rec = recovered_hosts(st, id, &before);
        int crc = 0;
        if (rec && json_array_size(rec)) {
            checked++;
            tide_case_opts o;
            memset(&o, 0, sizeof o);
            tide_workspace_case_opts(s->ws, &o);
            int changes = 0;
            crc = tide_case_refresh(st, &o, id, &changes);
            char detail[600] = "", target[32];
            snprintf(target, sizeof target, "case %lld", (long long)id);
            if (crc < 0) {
                snprintf(why, sizeof why, "case %lld: %.370s", (long long)id, tide_error_last());
                snprintf(detail, sizeof detail, "failed: %s", why);
            } else {
                json_decref(recovered_hosts(st, id, &after));
                size_t k;
                json_t *h;
                json_array_foreach(rec, k, h)
                {
                    const char *host = json_string_value(h);
                    const char *now = json_string_value(json_object_get(after, host));
                    if (now == NULL || strcmp(now, "recovered") == 0)
                        continue;
                    bool ok = strcmp(now, "verified") == 0;
                    verified += ok;
                    relapsed += !ok;
                    size_t l = strlen(detail);
                    snprintf(detail + l, sizeof detail - l, "%shost %.200s %s", l ? "; " : "", host,
                            ok ? "verified" : "relapsed (back to affected)");
                }
            }
            if (detail[0]) {
                audit(s, "schedule: verify recovery", target, detail);
                tide__srv_log(s, "schedule: %s: %s", target, detail);
            }
        }
        pthread_mutex_unlock(&s->write_mu);
        json_decref(rec);
        json_decref(before);
        json_decref(after);
        if (crc < 0)
            rc = crc;
    }
    json_decref(cases);
    char detail[512];
    if (rc < 0 && checked == 0)
        snprintf(detail, sizeof detail, "%s", why);
    else
        snprintf(detail, sizeof detail,
                "%zu case(s) with recovered hosts checked: %zu host(s) verified, %zu relapsed%s%s",
                checked, verified, relapsed, rc < 0 ? "; " : "", rc < 0 ? why : "");
    if (rc < 0)
        tide__srv_log(s, "schedule: recovery verification: %s", why);
    job_end(JOB_VERIFY, rc == TIDE_ECANCELED ? "cancelled" : rc < 0 ? "failed" : "ok", detail);
}

/* ---------------- the thread ---------------- */

static void *sched_main(void *arg)
{
    srv *s = arg;
    for (;;) {
        if (stop_asked())
            break;
        int64_t now = wall_ms();
        pthread_mutex_lock(&mu);
        bool exports_due = jobs[JOB_EXPORTS].next <= now;
        bool verify_due = jobs[JOB_VERIFY].next <= now;
        pthread_mutex_unlock(&mu);
        run_feeds(s); /* reads the registry (every second): pulls what is due */
        if (exports_due && !stop_asked())
            run_exports(s);
        if (verify_due && !stop_asked())
            run_verify(s);
        /* sleep until the next job, the next look at the registry, or the stop */
        pthread_mutex_lock(&mu);
        int64_t until = wall_ms() + FEEDS_POLL_MS;
        if (jobs[JOB_EXPORTS].next < until)
            until = jobs[JOB_EXPORTS].next;
        if (jobs[JOB_VERIFY].next < until)
            until = jobs[JOB_VERIFY].next;
        struct timespec ts = { (time_t)(until / 1000), (long)(until % 1000) * 1000000 };
        while (!quiesced && wall_ms() < until)
            if (pthread_cond_timedwait(&cv, &mu, &ts) != 0)
                break;
        pthread_mutex_unlock(&mu);
    }
    return NULL;
}

void tide__sched_start(srv *s)
{
    int64_t now = wall_ms();
    pthread_mutex_lock(&mu);
    memset(jobs, 0, sizeof jobs);
    jobs[JOB_FEEDS].name = "feeds";
    jobs[JOB_FEEDS].next = now;
    jobs[JOB_EXPORTS].name = "exports";
    jobs[JOB_EXPORTS].every_ms =
            (int64_t)((s->o.export_every > 0 ? s->o.export_every : 300) * 1000);
    jobs[JOB_EXPORTS].next = now; /* once at start: the decay since the last run */
    jobs[JOB_VERIFY].name = "verify";
    jobs[JOB_VERIFY].every_ms =
            (int64_t)((s->o.verify_every > 0 ? s->o.verify_every : 3600) * 1000);
    jobs[JOB_VERIFY].next = now;
    quiesced = false;
    enabled = !s->o.no_schedule;
    if (enabled && pthread_create(&thread, NULL, sched_main, s) == 0)
        started = true;
    else if (enabled) {
        enabled = false;
        tide__srv_log(s, "schedule: cannot start its thread: no scheduled work");
    }
    pthread_mutex_unlock(&mu);
}

void tide__sched_wake(void)
{
    pthread_mutex_lock(&mu);
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

void tide__sched_quiesce(void)
{
    pthread_mutex_lock(&mu);
    quiesced = true;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

bool tide__sched_busy(void)
{
    pthread_mutex_lock(&mu);
    bool b = false;
    for (int k = 0; k < NJOBS; k++)
        b = b || jobs[k].running;
    pthread_mutex_unlock(&mu);
    return b;
}

void tide__sched_stop(void)
{
    tide__sched_quiesce();
    if (started)
        pthread_join(thread, NULL);
    started = false;
    pthread_mutex_lock(&mu);
    json_decref(feed_runs);
    feed_runs = NULL;
    enabled = false;
    pthread_mutex_unlock(&mu);
}

/* ---------------- routes ---------------- */

static json_t *time_or_null(int64_t ms)
{
    if (ms <= 0 || ms == INT64_MAX)
        return json_null();
    char b[32];
    tide_time_format(ms, b);
    return json_string(b);
}

/* GET /api/v1/schedule: each job's last run, result and next run */
void tide__route_schedule(req *r, reply *out)
{
    (void)r;
    json_t *arr = json_array();
    pthread_mutex_lock(&mu);
    for (int k = 0; k < NJOBS; k++) {
        const job *j = &jobs[k];
        static const char *const names[NJOBS] = { "feeds", "exports", "verify" };
        json_t *o = json_pack("{s:s, s:b, s:o, s:b, s:o, s:o, s:s?, s:s, s:o, s:I, s:I}", "name",
                names[k], "enabled", enabled, "every_seconds",
                j->every_ms ? json_integer(j->every_ms / 1000) : json_null(), "running", j->running,
                "last_started", time_or_null(j->last_start), "last_finished",
                time_or_null(j->last_end), "last_result", j->result, "last_detail", j->detail,
                "next_run", enabled ? time_or_null(j->next) : json_null(), "runs",
                (json_int_t)j->runs, "failures", (json_int_t)j->failures);
        if (o && k == JOB_FEEDS)
            json_object_set_new(o, "feeds", feed_runs ? json_deep_copy(feed_runs) : json_object());
        json_array_append_new(arr, o);
    }
    pthread_mutex_unlock(&mu);
    json_t *doc = json_pack("{s:b, s:o}", "enabled", enabled, "jobs", arr);
    tide__reply_json(out, MHD_HTTP_OK, doc ? json_dumps(doc, JSON_COMPACT) : NULL);
    json_decref(doc);
}

/* GET /api/v1/feeds: the registry without secrets, with each feed's last pull. On a workspace
 * of its own: a pull under way (the writer's) does not hold it up. */
void tide__route_feeds(req *r, reply *out)
{
    tide_workspace *ws = NULL;
    char *js = NULL;
    int rc = tide_workspace_open(&ws, tide_workspace_location(r->s->ws), NULL);
    if (rc == 0)
        rc = tide_feeds_json(ws, &js);
    tide_workspace_free(ws);
    if (rc < 0)
        tide__reply_lib_error(out, rc);
    else
        tide__reply_json(out, MHD_HTTP_OK, js);
}

/* POST /api/v1/feeds/{name}/pull: pull it now, through the writer; answers the pull's result
 * (502 with it when the pull failed: the peer or its answer) */
void tide__route_feed_pull(req *r, reply *out)
{
    tide_feed_result res;
    char err[1024];
    int rc = pull_feed(r->s, r->params[0], r->key.name, &res, err, sizeof err);
    if (rc == TIDE_ENOTFOUND && res.requests == 0) {
        tide__reply_error(out, MHD_HTTP_NOT_FOUND, "not found");
        return;
    }
    json_t *o = json_pack("{s:s, s:b, s:s?, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
            "name", r->params[0], "ok", rc == 0, "error", rc < 0 ? err : NULL, "not_modified",
            res.not_modified, "requests", (json_int_t)res.requests, "retries",
            (json_int_t)res.retries, "pages", (json_int_t)res.pages, "bytes", (json_int_t)res.bytes,
            "records", (json_int_t)res.ingest.ingest.records, "stored",
            (json_int_t)res.ingest.ingest.stored, "unchanged",
            (json_int_t)res.ingest.ingest.unchanged, "rejected",
            (json_int_t)res.ingest.ingest.rejected, "retro_sightings",
            (json_int_t)res.ingest.hunt.sightings);
    r->audit_target = strdup(r->params[0]);
    char d[128];
    snprintf(d, sizeof d, "%ld stored, %ld rejected", res.ingest.ingest.stored,
            res.ingest.ingest.rejected);
    r->audit_detail = strdup(d);
    tide__reply_json(out, rc == 0 ? MHD_HTTP_OK : MHD_HTTP_BAD_GATEWAY,
            o ? json_dumps(o, JSON_COMPACT) : NULL);
    json_decref(o);
}

/* DELETE /api/v1/feeds/{name}: forget the feed (what it stored stays), as tide feeds remove */
void tide__route_feed_remove(req *r, reply *out)
{
    pthread_mutex_lock(&r->s->write_mu);
    int rc = tide_feed_remove(r->s->ws, r->params[0]);
    pthread_mutex_unlock(&r->s->write_mu);
    if (rc < 0) {
        tide__reply_lib_error(out, rc);
        return;
    }
    pthread_mutex_lock(&mu);
    if (feed_runs)
        json_object_del(feed_runs, r->params[0]);
    pthread_mutex_unlock(&mu);
    r->audit_target = strdup(r->params[0]);
    r->audit_detail = strdup("removed");
    json_t *o = json_pack("{s:s, s:b}", "name", r->params[0], "removed", 1);
    tide__reply_json(out, MHD_HTTP_OK, o ? json_dumps(o, JSON_COMPACT) : NULL);
    json_decref(o);
}

/* POST /api/v1/feeds: register a feed, as tide feeds add (the scheduler pulls it when due: at
 * once, never pulled yet, unless its interval is 0). The answer never holds its secret. */
void tide__route_feed_add(req *r, reply *out)
{
    char err[512];
    tide_feed_req q;
    if (tide__parse_feed_add(r->body, r->len, &q, err, sizeof err) < 0) {
        tide__reply_error(out, MHD_HTTP_BAD_REQUEST, "%s", err);
        return;
    }
    tide_feed_config c = { .name = q.s[0],
        .url = q.s[1],
        .kind = q.s[2],
        .collection = q.s[3],
        .user = q.s[4],
        .password = q.s[5],
        .api_key = q.s[6],
        .source = q.s[7],
        .tlp = q.s[8],
        .family = q.s[9],
        .columns = q.s[10],
        .interval_ms = q.interval_ms,
        .page_limit = q.limit };
    pthread_mutex_lock(&r->s->write_mu);
    int rc = tide_feed_add(r->s->ws, &c);
    pthread_mutex_unlock(&r->s->write_mu);
    if (rc < 0) {
        tide__feed_req_free(&q);
        tide__reply_lib_error(out, rc);
        return;
    }
    r->audit_target = strdup(q.s[0]);
    r->audit_detail = strdup(q.s[1]);
    json_t *o = json_pack("{s:s, s:s}", "name", q.s[0], "url", q.s[1]);
    tide__feed_req_free(&q);
    tide__reply_json(out, MHD_HTTP_CREATED, o ? json_dumps(o, JSON_COMPACT) : NULL);
    json_decref(o);
    tide__sched_wake();
}
