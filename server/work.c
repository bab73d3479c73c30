/*
 * work.c - the routes of response work: cases (list, open from a sighting, show, host state,
 * lessons, close, share bundle), hunts (started in a thread of their own with their own
 * workspace, polled by id) and the metrics. Reads go through tide/reads.h under the key's
 * ceiling; writes take the server's write lock and the workspace's case context
 * (tide_workspace_case_opts), as `tide case` does. No product logic here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "params.h"
#include "server_int.h"

static int case_id(req *r, reply *out, int64_t *id)
{
    char *end;
    long long v = strtoll(r->params[0], &end, 10);
    if (*end != '\0' || v < 1) {
        tide__reply_error(out, MHD_HTTP_NOT_FOUND, "not found");
        return -1;
    }
    *id = v;
    return 0;
}

/* The case exists and the key may see it (else 404, the same whatever the reason). */
static int case_visible(req *r, reply *out, int64_t id)
{
    int level;
    int rc = tide_read_case_level(r->rd, id, &level);
    if (rc < 0) {
        tide__reply_lib_error(out, rc);
        return -1;
    }
    if (level > r->key.tlp_max) {
        tide__reply_error(out, MHD_HTTP_NOT_FOUND, "not found");
        return -1;
    }
    return 0;
}

void tide__route_cases(req *r, reply *out)
{
    char *js = NULL;
    int rc = tide_read_cases(r->rd, r->key.tlp_max, &js);
    if (rc < 0)
        tide__reply_lib_error(out, rc);
    else
        tide__reply_json(out, MHD_HTTP_OK, js);
}

void tide__route_case(req *r, reply *out)
{
    int64_t id;
    if (case_id(r, out, &id) < 0)
        return;
    const char *f = tide__req_arg(r, "format");
    bool md = f && strcmp(f, "markdown") == 0;
    if (f && !md && strcmp(f, "json") != 0) {
        tide__reply_error(out, MHD_HTTP_BAD_REQUEST, "format: json or markdown");
        return;
    }
    char *doc = NULL;
    int rc = tide_read_case(r->rd, id, r->key.tlp_max, md, &doc);
    if (rc < 0) {
        tide__reply_lib_error(out, rc);
        return;
    }
    tide__reply_json(out, MHD_HTTP_OK, doc);
    if (md)
        out->type = "text/markdown; charset=utf-8";
}

void tide__route_case_open(req *r, reply *out)
{
    char err[512];
    tide_case_open_req q;
    if (tide__parse_case_open(r->body, r->len, &q, err, sizeof err) < 0) {
        tide__reply_error(out, MHD_HTTP_BAD_REQUEST, "%s", err);
        return;
    }
    /* intel above the key's ceiling opens no case: refused before anything is written, with
     * the answer an absent sighting gets */
    int seed = 0;
    int rc = tide_read_case_seed_level(r->rd, q.sighting, q.indicator, &seed);
    if (rc == 0 && seed > r->key.tlp_max)
        rc = tide_error_set(TIDE_ENOTFOUND, "not found");
    if (rc < 0) {
        tide__case_open_req_free(&q);
        tide__reply_lib_error(out, rc);
        return;
    }
    pthread_mutex_lock(&r->s->write_mu);
    tide_case_opts o;
    memset(&o, 0, sizeof o);
    tide_workspace_case_opts(r->s->ws, &o);
    int64_t id = 0;
    bool existed = false;
    rc = tide_case_open(
            tide_workspace_store(r->s->ws), &o, q.sighting, q.host, q.indicator, &id, &existed);
    pthread_mutex_unlock(&r->s->write_mu);
    tide__case_open_req_free(&q);
    if (rc < 0) {
        tide__reply_lib_error(out, rc);
        return;
    }
    /* a case the key may not see (its intel is above the ceiling) is not shown, or named */
    if (case_visible(r, out, id) < 0)
        return;
    char t[32];
    snprintf(t, sizeof t, "case %lld", (long long)id);
    r->audit_target = strdup(t);
    r->audit_detail = strdup(existed ? "existed" : "opened");
    json_t *js = json_pack("{s:I, s:b}", "id", (json_int_t)id, "existed", existed);
    tide__reply_json(out, existed ? MHD_HTTP_OK : MHD_HTTP_CREATED,
            js ? json_dumps(js, JSON_COMPACT) : NULL);
    json_decref(js);
}

static void audit_case(req *r, int64_t id, const char *detail)
{
    char t[32];
    snprintf(t, sizeof t, "case %lld", (long long)id);
    r->audit_target = strdup(t);
    r->audit_detail = detail ? strdup(detail) : NULL;
}

/* the case document after a change, as the answer */
static void reply_case(req *r, reply *out, int64_t id)
{
    char *doc = NULL;
    int rc = tide_read_case(r->rd, id, r->key.tlp_max, false, &doc);
    if (rc < 0)
        tide__reply_lib_error(out, rc);
    else
        tide__reply_json(out, MHD_HTTP_OK, doc);
}

void tide__route_case_host(req *r, reply *out)
{
    int64_t id;
    if (case_id(r, out, &id) < 0 || case_visible(r, out, id) < 0)
        return;
    char err[512], *state = NULL, *note = NULL;
    if (tide__parse_host_state(r->body, r->len, &state, &note, err, sizeof err) < 0) {
        tide__reply_error(out, MHD_HTTP_BAD_REQUEST, "%s", err);
        return;
    }
    pthread_mutex_lock(&r->s->write_mu);
    tide_case_opts o;
    memset(&o, 0, sizeof o);
    tide_workspace_case_opts(r->s->ws, &o);
    int rc = tide_case_host_state(
            tide_workspace_store(r->s->ws), &o, id, r->params[1], state, r->key.name, note);
    pthread_mutex_unlock(&r->s->write_mu);
    if (rc < 0)
        tide__reply_lib_error(out, rc);
    else {
        char d[1200];
        snprintf(d, sizeof d, "host %.512s -> %s", r->params[1], state);
        audit_case(r, id, d);
        reply_case(r, out, id);
    }
    free(state);
    free(note);
}

void tide__route_case_lessons(req *r, reply *out)
{
    int64_t id;
    if (case_id(r, out, &id) < 0 || case_visible(r, out, id) < 0)
        return;
    if (r->len == 0) {
        tide__reply_error(out, MHD_HTTP_BAD_REQUEST, "no body: post the lessons (text or JSON)");
        return;
    }
    /* the lessons API reads a file: the body goes to a private temporary one */
    char path[] = "/tmp/tide-lessons-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        tide__reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot hold the lessons");
        return;
    }
    size_t done = 0;
    while (done < r->len) {
        ssize_t w = write(fd, r->body + done, r->len - done);
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    close(fd);
    int rc = TIDE_EIO;
    if (done == r->len) {
        pthread_mutex_lock(&r->s->write_mu);
        tide_case_opts o;
        memset(&o, 0, sizeof o);
        tide_workspace_case_opts(r->s->ws, &o);
        rc = tide_case_lessons_set(tide_workspace_store(r->s->ws), &o, id, path);
        pthread_mutex_unlock(&r->s->write_mu);
    }
    unlink(path);
    if (rc < 0) {
        /* the parser names the temporary file: the request's body is what it read */
        tide__reply_lib_error(out, rc);
        return;
    }
    audit_case(r, id, "lessons");
    reply_case(r, out, id);
}

void tide__route_case_close(req *r, reply *out)
{
    int64_t id;
    if (case_id(r, out, &id) < 0 || case_visible(r, out, id) < 0)
        return;
    char err[512], *tlp = NULL;
    if (tide__parse_close(r->body, r->len, &tlp, err, sizeof err) < 0) {
        tide__reply_error(out, MHD_HTTP_BAD_REQUEST, "%s", err);
        return;
    }
    if (tlp && tide_tlp_parse(tlp) < 0) {
        tide__reply_error(out, MHD_HTTP_BAD_REQUEST, "tlp: '%.40s' is not a TLP level", tlp);
        free(tlp);
        return;
    }
    pthread_mutex_lock(&r->s->write_mu);
    tide_case_opts o;
    memset(&o, 0, sizeof o);
    tide_workspace_case_opts(r->s->ws, &o);
    long promoted = 0;
    int rc = tide_case_close(tide_workspace_store(r->s->ws), &o, id, tlp, &promoted);
    pthread_mutex_unlock(&r->s->write_mu);
    free(tlp);
    if (rc < 0) {
        tide__reply_lib_error(out, rc);
        return;
    }
    char d[64];
    snprintf(d, sizeof d, "closed, %ld indicators promoted", promoted);
    audit_case(r, id, d);
    reply_case(r, out, id);
}

/* GET /api/v1/cases/{id}/share?tlp_max=T: the STIX bundle for peers, at the lower of T and the
 * key's ceiling */
void tide__route_case_share(req *r, reply *out)
{
    int64_t id;
    if (case_id(r, out, &id) < 0 || case_visible(r, out, id) < 0)
        return;
    int ceiling = r->key.tlp_max;
    const char *t = tide__req_arg(r, "tlp_max");
    if (t) {
        int l = tide_tlp_parse(t);
        if (l < 0) {
            tide__reply_error(out, MHD_HTTP_BAD_REQUEST, "tlp_max: '%.40s' is not a TLP level", t);
            return;
        }
        if (l < ceiling)
            ceiling = l;
    }
    /* a directory of its own under $TMPDIR (as mkstemp users expect), removed with all the
     * export left in it: the bundle and the lock file its writer takes beside it (every share
     * left a directory with bundle.json.lock in /tmp before) */
    const char *tmp = getenv("TMPDIR");
    char dir[4096], path[4200], lock[4200];
    if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 2048)
        tmp = "/tmp";
    snprintf(dir, sizeof dir, "%s/tide-share-XXXXXX", tmp);
    if (mkdtemp(dir) == NULL) {
        tide__reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot write the bundle");
        return;
    }
    snprintf(path, sizeof path, "%s/bundle.json", dir);
    snprintf(lock, sizeof lock, "%s/bundle.json.lock", dir);
    size_t n = 0;
    int rc = tide_case_share(r->store, id, tide_tlp_name(ceiling), path, &n);
    char *body = NULL;
    if (rc == 0) {
        FILE *f = fopen(path, "rb");
        size_t len = 0;
        if (f && fseek(f, 0, SEEK_END) == 0 && (len = (size_t)ftell(f)) > 0 &&
                fseek(f, 0, SEEK_SET) == 0 && (body = malloc(len + 1)) != NULL) {
            if (fread(body, 1, len, f) != len) {
                free(body);
                body = NULL;
            } else
                body[len] = '\0';
        }
        if (f)
            fclose(f);
    }
    unlink(path);
    unlink(lock);
    rmdir(dir);
    if (rc < 0)
        tide__reply_lib_error(out, rc);
    else if (body == NULL)
        tide__reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read the bundle");
    else
        tide__reply_json(out, MHD_HTTP_OK, body);
}

void tide__route_metrics(req *r, reply *out)
{
    srv *s = r->s;
    char *js = NULL;
    int rc = tide_read_metrics(r->rd, r->key.tlp_max, &js);
    if (rc < 0) {
        tide__reply_lib_error(out, rc);
        return;
    }
    json_t *m = json_loads(js, 0, NULL);
    free(js);
    json_t *srvm = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "requests",
            (json_int_t)__atomic_load_n(&s->requests, __ATOMIC_RELAXED), "errors_4xx",
            (json_int_t)__atomic_load_n(&s->errors_4xx, __ATOMIC_RELAXED), "errors_5xx",
            (json_int_t)__atomic_load_n(&s->errors_5xx, __ATOMIC_RELAXED), "in_flight",
            (json_int_t)__atomic_load_n(&s->active, __ATOMIC_RELAXED), "uptime_s",
            (json_int_t)((tide__srv_mono_ms() - s->started_ms) / 1000), "stream_clients",
            (json_int_t)__atomic_load_n(&s->stream_clients, __ATOMIC_RELAXED));
    json_t *o = json_pack("{s:o, s:o}", "response", m ? m : json_object(), "server", srvm);
    tide__reply_json(out, MHD_HTTP_OK, o ? json_dumps(o, JSON_COMPACT) : NULL);
    json_decref(o);
}

/* ---- hunts: a job each, in its own thread and workspace ---- */

typedef struct hunt_job {
    int64_t id;
    int ceiling; /* of the key that started it: a poller needs at least this one */
    char owner[65];
    tide_hunt_req q;
    char *location;
    const volatile int *cancel; /* the server's: set when the stop's grace time is over */
    /* under jobs_mu */
    const char *status; /* "running", "done", "failed" */
    char *error;
    json_t *results;
    size_t dropped; /* results beyond the cap */
    tide_hunt_stats stats;
    int64_t started, finished; /* ms, wall clock */
    pthread_t thread;
    struct hunt_job *next;
} hunt_job;

#define HUNT_MAX_RESULTS 100000
#define HUNT_MAX_JOBS    64

static pthread_mutex_t jobs_mu = PTHREAD_MUTEX_INITIALIZER;
static hunt_job *jobs;
static int64_t next_job = 1;

static int64_t wall_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int job_result(const char *json, size_t len, void *payload)
{
    hunt_job *j = payload;
    json_t *o = json_loadb(json, len, 0, NULL);
    pthread_mutex_lock(&jobs_mu);
    if (o && json_array_size(j->results) < HUNT_MAX_RESULTS)
        json_array_append_new(j->results, o);
    else {
        json_decref(o);
        j->dropped++;
    }
    pthread_mutex_unlock(&jobs_mu);
    return 0;
}

static void *job_run(void *arg)
{
    hunt_job *j = arg;
    tide_workspace *ws = NULL;
    int rc = tide_workspace_open(&ws, j->location, NULL);
    if (rc == 0)
        tide_workspace_set_cancel(ws, j->cancel); /* stopped (storing nothing) at the grace */
    tide_indicator_filter f;
    memset(&f, 0, sizeof f);
    char *norm = NULL;
    if (rc == 0 && j->q.indicator) {
        tide_obs_kind kind;
        /* an id, or a value in its canonical form */
        if (strstr(j->q.indicator, "--") == NULL &&
                tide_read_value(j->q.indicator, &kind, &norm) == 0)
            f.value = norm;
        else
            f.value = j->q.indicator;
        tide_error_clear();
    }
    f.related = j->q.related;
    f.changed_since = j->q.added_since;
    tide_hunt_opts o;
    memset(&o, 0, sizeof o);
    o.filter = &f;
    o.since_ms = j->q.since;
    o.until_ms = j->q.until;
    o.store = j->q.store;
    tide_hunt_stats st;
    memset(&st, 0, sizeof st);
    if (rc == 0)
        rc = tide_read_hunt(ws, &o, j->ceiling, job_result, j, &st);
    const char *why = rc < 0 ? tide_error_last() : NULL;
    pthread_mutex_lock(&jobs_mu);
    j->stats = st;
    j->status = rc < 0 ? "failed" : "done";
    j->error = why ? strdup(why) : NULL;
    j->finished = wall_ms();
    pthread_mutex_unlock(&jobs_mu);
    free(norm);
    tide_workspace_free(ws);
    return NULL;
}

void tide__route_hunt_start(req *r, reply *out)
{
    char err[512];
    hunt_job *j = calloc(1, sizeof *j);
    if (j == NULL) {
        tide__reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return;
    }
    if (tide__parse_hunt(r->body, r->len, &j->q, err, sizeof err) < 0) {
        free(j);
        tide__reply_error(out, MHD_HTTP_BAD_REQUEST, "%s", err);
        return;
    }
    j->ceiling = r->key.tlp_max;
    snprintf(j->owner, sizeof j->owner, "%s", r->key.name);
    j->location = strdup(tide_workspace_location(r->s->ws));
    j->cancel = &r->s->cancel;
    j->results = json_array();
    j->status = "running";
    j->started = wall_ms();
    pthread_mutex_lock(&jobs_mu);
    size_t running = 0, n = 0;
    for (hunt_job *k = jobs; k; k = k->next) {
        n++;
        running += strcmp(k->status, "running") == 0;
    }
    if (running >= 4) {
        pthread_mutex_unlock(&jobs_mu);
        tide__hunt_req_free(&j->q);
        free(j->location);
        json_decref(j->results);
        free(j);
        tide__reply_error(out, MHD_HTTP_TOO_MANY_REQUESTS, "4 hunts are running: poll them first");
        return;
    }
    /* keep the last HUNT_MAX_JOBS: drop the oldest finished ones */
    while (n >= HUNT_MAX_JOBS) {
        hunt_job **pp = &jobs, **last = NULL;
        for (; *pp; pp = &(*pp)->next)
            if (strcmp((*pp)->status, "running") != 0)
                last = pp;
        if (last == NULL)
            break;
        hunt_job *old = *last;
        *last = old->next;
        pthread_join(old->thread, NULL);
        tide__hunt_req_free(&old->q);
        free(old->location);
        free(old->error);
        json_decref(old->results);
        free(old);
        n--;
    }
    j->id = next_job++;
    if (j->location == NULL || pthread_create(&j->thread, NULL, job_run, j) != 0) {
        pthread_mutex_unlock(&jobs_mu);
        tide__hunt_req_free(&j->q);
        free(j->location);
        json_decref(j->results);
        free(j);
        tide__reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot start the hunt");
        return;
    }
    /* what the audit log and the answer need, while the job cannot go */
    int64_t id = j->id;
    char t[32];
    snprintf(t, sizeof t, "hunt %lld", (long long)id);
    r->audit_target = strdup(t);
    r->audit_detail = strdup(j->q.indicator ? j->q.indicator
                             : j->q.related ? j->q.related
                                            : "added since");
    j->next = jobs;
    jobs = j;
    pthread_mutex_unlock(&jobs_mu);
    json_t *js = json_pack("{s:I, s:s}", "id", (json_int_t)id, "status", "running");
    tide__reply_json(out, MHD_HTTP_ACCEPTED, js ? json_dumps(js, JSON_COMPACT) : NULL);
    json_decref(js);
}

void tide__route_hunt_get(req *r, reply *out)
{
    char *end;
    long long id = strtoll(r->params[0], &end, 10);
    pthread_mutex_lock(&jobs_mu);
    hunt_job *j = jobs;
    while (j && (j->id != id || *end != '\0'))
        j = j->next;
    /* a hunt found what its starter may see: a key with a lower ceiling may not read it */
    if (j == NULL || j->ceiling > r->key.tlp_max) {
        pthread_mutex_unlock(&jobs_mu);
        tide__reply_error(out, MHD_HTTP_NOT_FOUND, "not found");
        return;
    }
    char st[32], fi[32];
    tide_time_format(j->started, st);
    if (j->finished)
        tide_time_format(j->finished, fi);
    /* the counts of what the key may see only: the hunt's own counts include intel above the
     * starter's ceiling */
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s?, s:s?, s:s, s:I, s:I, s:I, s:O}", "id",
            (json_int_t)j->id, "status", j->status, "started_by", j->owner, "started", st,
            "finished", j->finished ? fi : NULL, "error", j->error, "tlp_max",
            tide_tlp_name(j->ceiling), "records_checked", (json_int_t)j->stats.records_checked,
            "count", (json_int_t)(json_array_size(j->results) + j->dropped), "dropped",
            (json_int_t)j->dropped, "sightings", j->results);
    char *js = o ? json_dumps(o, JSON_COMPACT) : NULL;
    pthread_mutex_unlock(&jobs_mu);
    json_decref(o);
    tide__reply_json(out, MHD_HTTP_OK, js);
}

int tide__hunts_running(void)
{
    int n = 0;
    pthread_mutex_lock(&jobs_mu);
    for (hunt_job *j = jobs; j; j = j->next)
        n += strcmp(j->status, "running") == 0;
    pthread_mutex_unlock(&jobs_mu);
    return n;
}

void tide__hunts_shutdown(void)
{
    pthread_mutex_lock(&jobs_mu);
    hunt_job *j = jobs;
    jobs = NULL;
    pthread_mutex_unlock(&jobs_mu);
    while (j) {
        hunt_job *n = j->next;
        pthread_join(j->thread, NULL); /* cancelled past the grace: it stores nothing */
        tide__hunt_req_free(&j->q);
        free(j->location);
        free(j->error);
        json_decref(j->results);
        free(j);
        j = n;
    }
}
