/*
 * routes.c - the routes of the JSON API: the table server.c dispatches on (method, path,
 * permission, body cap, whether the audit log records it) and one thin handler per route,
 * which reads its parameters and calls the library (tide/reads.h, tide/auth.h, the engine).
 * server/openapi.json describes every route of this table; tests/integration/serve_api.sh
 * checks the two against each other and against what the server answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <microhttpd.h>

#include "params.h"
#include "server_int.h"

/* ---- health and the document ---- */

static void health(req *r, reply *out)
{
    srv *s = r->s;
    /* liveness: we answer; readiness: a store connection answers a query */
    tide_reads *rd = tide__srv_reads_get(s);
    int64_t gen = 0;
    bool ready = rd != NULL && !s->stopping &&
                 tide_store_intel_generation(tide_reads_store(rd), &gen) == 0;
    if (!ready)
        tide_error_clear();
    tide__srv_reads_put(s, rd);
    json_t *o = json_pack("{s:s, s:b, s:b, s:s}", "status", ready ? "ok" : "unavailable", "live", 1,
            "ready", ready, "version", TIDE_VERSION);
    tide__reply_json(out, ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
            o ? json_dumps(o, JSON_COMPACT) : NULL);
    json_decref(o);
}

static void openapi(req *r, reply *out)
{
    (void)r;
    char *b = malloc(tide__openapi_len + 1);
    if (b) {
        memcpy(b, tide__openapi_json, tide__openapi_len);
        b[tide__openapi_len] = '\0';
    }
    tide__reply_json(out, MHD_HTTP_OK, b);
}

/* ---- intel ---- */

static void intel_lookup(req *r, reply *out)
{
    const char *v = tide__req_arg(r, "value");
    if (v == NULL || *v == '\0') {
        tide__reply_error(out, MHD_HTTP_BAD_REQUEST, "value: missing");
        return;
    }
    size_t len;
    char *js = tide__cache_lookup_get(v, r->key.tlp_max, &len);
    if (js) {
        tide__reply_json(out, MHD_HTTP_OK, js);
        return;
    }
    int64_t gen = tide__cache_gen(); /* before: a change meanwhile makes the answer stale */
    int rc = tide_read_lookup(r->rd, tide_workspace_decay(r->s->ws), v, r->key.tlp_max, 0, &js);
    if (rc < 0)
        tide__reply_lib_error(out, rc);
    else {
        tide__cache_lookup_put(v, r->key.tlp_max, gen, js);
        tide__reply_json(out, MHD_HTTP_OK, js);
    }
}

/* ---- administration ---- */

static int key_json(const tide_key_info *k, void *payload)
{
    char created[32], revoked[32];
    tide_time_format(k->created_at, created);
    if (k->revoked_at)
        tide_time_format(k->revoked_at, revoked);
    json_array_append_new(
            payload, json_pack("{s:s, s:s, s:s, s:s, s:s?}", "name", k->name, "role",
                             tide_role_name((int)k->role), "tlp_max", tide_tlp_name(k->tlp_max),
                             "created", created, "revoked", k->revoked_at ? revoked : NULL));
    return 0;
}

static void keys_list(req *r, reply *out)
{
    json_t *arr = json_array();
    int rc = arr ? tide_key_list(r->store, key_json, arr) : TIDE_ENOMEM;
    if (rc < 0)
        tide__reply_lib_error(out, rc);
    else {
        json_t *o = json_pack("{s:O}", "keys", arr);
        tide__reply_json(out, MHD_HTTP_OK, o ? json_dumps(o, JSON_COMPACT) : NULL);
        json_decref(o);
    }
    json_decref(arr);
}

/* a time parameter (RFC 3339, a date or an age such as 7d): 0 when absent, -1 (400 sent) when
 * bad */
static int time_arg(req *r, reply *out, const char *name, int64_t *ms)
{
    char err[256];
    if (tide__parse_time(tide__req_arg(r, name), ms, err, sizeof err) < 0) {
        tide__reply_error(out, MHD_HTTP_BAD_REQUEST, "%s: %s", name, err);
        return -1;
    }
    return 0;
}

/* a count parameter 1..max: def when absent, -1 (400 sent) when bad */
static long count_arg(req *r, reply *out, const char *name, long def, long max)
{
    char err[256];
    long n;
    if (tide__parse_count(tide__req_arg(r, name), def, 1, max, &n, err, sizeof err) < 0) {
        tide__reply_error(out, MHD_HTTP_BAD_REQUEST, "%s: %s", name, err);
        return -1;
    }
    return n;
}

static void audit_log(req *r, reply *out)
{
    int64_t since;
    long limit = count_arg(r, out, "limit", 1000, 100000);
    if (limit < 0 || time_arg(r, out, "since", &since) < 0)
        return;
    char *js = NULL;
    int rc = tide_audit_json(r->store, since, limit, &js);
    if (rc < 0)
        tide__reply_lib_error(out, rc);
    else
        tide__reply_json(out, MHD_HTTP_OK, js);
}

static void intel_search(req *r, reply *out)
{
    tide_search_query q = { 0 };
    long limit = count_arg(r, out, "limit", 1000, 100000);
    if (limit < 0 || time_arg(r, out, "since", &q.since) < 0)
        return;
    q.limit = limit;
    q.type = tide__req_arg(r, "type");
    q.related = tide__req_arg(r, "related");
    q.source = tide__req_arg(r, "source");
    const char *v = tide__req_arg(r, "value");
    char *norm = NULL;
    tide_obs_kind kind;
    if (v && *v) {
        if (tide_read_value(v, &kind, &norm) < 0) {
            tide__reply_lib_error(out, TIDE_EINVAL);
            return;
        }
        q.value = norm;
    }
    char *js = NULL;
    int rc = tide_read_search(r->rd, &q, r->key.tlp_max, &js);
    free(norm);
    if (rc < 0)
        tide__reply_lib_error(out, rc);
    else
        tide__reply_json(out, MHD_HTTP_OK, js);
}

static void intel_object(req *r, reply *out)
{
    char *js = NULL;
    int rc = tide_read_object(r->rd, r->params[0], r->key.tlp_max, &js);
    if (rc < 0)
        tide__reply_lib_error(out, rc);
    else
        tide__reply_json(out, MHD_HTTP_OK, js);
}

typedef struct {
    json_t *rejects;
    long n;
} rejects_ctx;

static void on_reject(const char *file, long line, long long offset, const char *reason, void *p)
{
    rejects_ctx *c = p;
    if (c->n++ >= 100) /* the first 100: the counts say how many */
        return;
    json_array_append_new(c->rejects,
            json_pack("{s:s, s:I, s:I, s:s}", "input", file ? file : "", "line", (json_int_t)line,
                    "offset", (json_int_t)offset, "reason", reason ? reason : ""));
}

/* POST /api/v1/intel: the body is a feed (STIX bundle, MISP event, CSV, a list) ingested by an
 * ingest run, with its retro-hunt and export targets, as `tide ingest` does */
static void intel_create(req *r, reply *out)
{
    const char *fmt_name = tide__req_arg(r, "format");
    int fmt = fmt_name ? tide_feed_format_from_name(fmt_name) : TIDE_FMT_AUTO;
    if (fmt < 0 || fmt == TIDE_FMT_MISP_FEED) {
        tide__reply_error(out, MHD_HTTP_BAD_REQUEST,
                "format: '%.40s' is not one of auto, stix, misp, csv, list", fmt_name);
        return;
    }
    if (r->len == 0) {
        tide__reply_error(
                out, MHD_HTTP_BAD_REQUEST, "no body: post a feed (STIX, MISP, CSV, list)");
        return;
    }
    tide_ingest_run_opts o;
    tide_ingest_run_opts_init(&o);
    o.ingest.source = tide__req_arg(r, "source");
    o.ingest.tlp = tide__req_arg(r, "tlp");
    o.ingest.family = tide__req_arg(r, "family");
    const char *conf = tide__req_arg(r, "confidence"), *rel = tide__req_arg(r, "reliability");
    if (conf) {
        long c = count_arg(r, out, "confidence", 50, 100);
        if (c < 0)
            return;
        o.ingest.confidence = (int)c;
    }
    if (rel) {
        if (strlen(rel) != 1 || rel[0] < 'A' || rel[0] > 'F') {
            tide__reply_error(out, MHD_HTTP_BAD_REQUEST, "reliability: want A to F");
            return;
        }
        o.ingest.reliability = rel[0];
    }
    if (o.ingest.tlp && tide_tlp_parse(o.ingest.tlp) < 0) {
        tide__reply_error(
                out, MHD_HTTP_BAD_REQUEST, "tlp: '%.40s' is not a TLP level", o.ingest.tlp);
        return;
    }
    rejects_ctx rj = { json_array(), 0 };
    o.on_error = on_reject;
    o.payload = &rj;
    const char *name = o.ingest.source ? o.ingest.source : r->key.name;
    pthread_mutex_lock(&r->s->write_mu);
    tide_ingest_run *run = NULL;
    tide_ingest_result res;
    memset(&res, 0, sizeof res);
    int rc = tide_ingest_run_new(&run, r->s->ws, &o);
    int irc = rc == 0 ? tide_ingest_run_buffer(run, r->body, r->len, name, (tide_feed_format)fmt)
                      : rc;
    int frc = rc == 0 ? tide_ingest_run_finish(run, &res) : 0;
    tide_ingest_run_free(run);
    pthread_mutex_unlock(&r->s->write_mu);
    if (irc < 0 || frc < 0) {
        tide__reply_lib_error(out, irc < 0 ? irc : frc);
        json_decref(rj.rejects);
        return;
    }
    json_t *js = json_pack("{s:I, s:I, s:I, s:I, s:I, s:o, s:b, s:I, s:I, s:i, s:i}", "records",
            (json_int_t)res.ingest.records, "stored", (json_int_t)res.ingest.stored, "unchanged",
            (json_int_t)res.ingest.unchanged, "rejected", (json_int_t)res.ingest.rejected,
            "indicators", (json_int_t)res.ingest.indicators, "rejects", rj.rejects, "hunted",
            res.hunted, "hunted_indicators", (json_int_t)res.hunt.indicators, "retro_sightings",
            (json_int_t)res.hunt.sightings, "exports_written", res.exports_written,
            "exports_failed", res.exports_failed);
    char detail[160];
    snprintf(detail, sizeof detail, "records %ld, stored %ld, rejected %ld, retro-sightings %zu",
            res.ingest.records, res.ingest.stored, res.ingest.rejected, res.hunt.sightings);
    r->audit_target = strdup(name);
    r->audit_detail = strdup(detail);
    tide__reply_json(out, MHD_HTTP_OK, js ? json_dumps(js, JSON_COMPACT) : NULL);
    json_decref(js);
}

/* ---- sightings ---- */

static void sightings(req *r, reply *out)
{
    tide_sighting_query q = { 0 };
    long limit = count_arg(r, out, "limit", 1000, 100000);
    if (limit < 0 || time_arg(r, out, "since", &q.since) < 0)
        return;
    q.limit = limit;
    q.host = tide__req_arg(r, "host");
    const char *ind = tide__req_arg(r, "indicator");
    char *norm = NULL;
    tide_obs_kind kind;
    if (ind && *ind && strstr(ind, "--") == NULL && tide_read_value(ind, &kind, &norm) == 0)
        ind = norm; /* a value: its canonical form, as stored */
    tide_error_clear();
    q.indicator = ind;
    const char *retro = tide__req_arg(r, "retro"), *sup = tide__req_arg(r, "suppressed");
    q.retro_only = retro && strcmp(retro, "true") == 0;
    q.include_suppressed = sup && strcmp(sup, "true") == 0;
    const char *related = tide__req_arg(r, "campaign");
    if (related == NULL)
        related = tide__req_arg(r, "related");
    char *js = NULL;
    int rc = tide_read_sightings(r->rd, &q, related, r->key.tlp_max, &js);
    free(norm);
    if (rc < 0)
        tide__reply_lib_error(out, rc);
    else
        tide__reply_json(out, MHD_HTTP_OK, js);
}

/* ---- exports ---- */

static uint64_t fnv(const char *s, uint64_t h)
{
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

/* GET /api/v1/exports/{format}: one export under the key's ceiling (and a lower tlp_max asked),
 * with an entity tag made of the selected set's fingerprint and the request's options: a
 * client polling with If-None-Match gets 304 and no body while the set is the same. */
static void export_one(req *r, reply *out)
{
    int fmt = tide_export_format_from_name(r->params[0]);
    if (fmt < 0) {
        tide__reply_error(out, MHD_HTTP_NOT_FOUND, "no export format '%.40s'", r->params[0]);
        return;
    }
    if (tide_export_format_is_dir(fmt)) {
        tide__reply_error(out, MHD_HTTP_BAD_REQUEST,
                "%s writes a folder: declare an export target for it", r->params[0]);
        return;
    }
    tide_export_opts o;
    tide_export_opts_init(&o);
    o.format = fmt;
    o.decay = tide_workspace_decay(r->s->ws);
    const char *v;
    if ((v = tide__req_arg(r, "min_score")) != NULL) {
        char *end;
        o.min_score = strtod(v, &end);
        if (*v == '\0' || *end != '\0' || o.min_score < 0 || o.min_score > 100) {
            tide__reply_error(out, MHD_HTTP_BAD_REQUEST, "min_score: want 0 to 100");
            return;
        }
    }
    if (tide__req_arg(r, "min_confidence")) {
        long c = count_arg(r, out, "min_confidence", 0, 100);
        if (c < 0)
            return;
        o.min_confidence = (int)c;
    }
    if (time_arg(r, out, "since", &o.since) < 0)
        return;
    o.types = tide__req_arg(r, "types");
    o.source = tide__req_arg(r, "source");
    o.related = tide__req_arg(r, "related");
    o.action = tide__req_arg(r, "action");
    o.zone = tide__req_arg(r, "zone");
    int ceiling = r->key.tlp_max;
    if ((v = tide__req_arg(r, "tlp_max")) != NULL) {
        int t = tide_tlp_parse(v);
        if (t < 0) {
            tide__reply_error(out, MHD_HTTP_BAD_REQUEST, "tlp_max: '%.40s' is not a TLP level", v);
            return;
        }
        if (t < ceiling)
            ceiling = t;
    }
    o.tlp_max = tide_tlp_name(ceiling);
    /* the options that shape the output, as one hash in the tag */
    uint64_t h = 0xcbf29ce484222325ULL;
    static const char *const keys[] = { "min_score", "min_confidence", "since", "types", "source",
        "related", "action", "zone" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        h = fnv(keys[i], h);
        h = fnv("=", h);
        h = fnv(tide__req_arg(r, keys[i]), h);
    }
    h = fnv(r->params[0], fnv(o.tlp_max, h));
    const char *inm = tide__req_header(r, MHD_HTTP_HEADER_IF_NONE_MATCH);
    char prefix[40];
    snprintf(prefix, sizeof prefix, "\"%016llx-", (unsigned long long)h);
    const char *tag = inm ? strstr(inm, prefix) : NULL;
    if (tag) {
        char *end;
        unsigned long long fp = strtoull(tag + strlen(prefix), &end, 16);
        if (*end == '"' && fp)
            o.unless_fingerprint = fp;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (mem == NULL) {
        tide__reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return;
    }
    tide_export_summary sum;
    int rc = tide_export_run(r->store, &o, mem, &sum, NULL, NULL);
    fclose(mem);
    if (rc < 0) {
        free(buf);
        tide__reply_lib_error(out, rc);
        return;
    }
    snprintf(out->etag, sizeof out->etag, "%s%016llx\"", prefix,
            (unsigned long long)sum.fingerprint);
    if (sum.unchanged) {
        free(buf);
        out->status = MHD_HTTP_NOT_MODIFIED;
        out->body = NULL;
        out->len = 0;
        return;
    }
    out->status = MHD_HTTP_OK;
    out->body = buf;
    out->len = len;
    out->type = fmt == tide_export_format_from_name("stix") ||
                                fmt == tide_export_format_from_name("misp")
                        ? "application/json"
                        : "text/plain; charset=utf-8";
}

static void export_targets(req *r, reply *out)
{
    char *js = NULL;
    pthread_mutex_lock(&r->s->write_mu); /* the workspace is one thread's at a time */
    int rc = tide_workspace_targets_json(r->s->ws, &js);
    pthread_mutex_unlock(&r->s->write_mu);
    if (rc < 0)
        tide__reply_lib_error(out, rc);
    else
        tide__reply_json(out, MHD_HTTP_OK, js);
}

static void stats(req *r, reply *out)
{
    char *js = NULL;
    int rc = tide_read_stats(r->rd, r->key.tlp_max, &js);
    if (rc < 0)
        tide__reply_lib_error(out, rc);
    else
        tide__reply_json(out, MHD_HTTP_OK, js);
}

/* clang-format off */
const route tide__routes[] = {
    { "GET", "/api/v1/health", PERM_NONE, BODY_NONE, false, health },
    { "GET", "/api/openapi.json", PERM_KEY, BODY_NONE, false, openapi },
    { "GET", "/api/v1/intel/lookup", TIDE_PERM_INTEL_READ, BODY_NONE, false, intel_lookup },
    { "GET", "/api/v1/intel/search", TIDE_PERM_INTEL_READ, BODY_NONE, false, intel_search },
    { "GET", "/api/v1/intel/objects/{id}", TIDE_PERM_INTEL_READ, BODY_NONE, false, intel_object },
    { "POST", "/api/v1/intel", TIDE_PERM_INTEL_WRITE, BODY_LARGE, true, intel_create },
    { "GET", "/api/v1/sightings", TIDE_PERM_SIGHTINGS_READ, BODY_NONE, false, sightings },
    { "GET", "/api/v1/exports/targets", TIDE_PERM_EXPORT, BODY_NONE, false, export_targets },
    { "GET", "/api/v1/exports/{format}", TIDE_PERM_EXPORT, BODY_NONE, false, export_one },
    { "GET", "/api/v1/sightings/stream", TIDE_PERM_SIGHTINGS_READ, BODY_NONE, false, tide__route_stream },
    { "GET", "/api/v1/cases", TIDE_PERM_CASES_READ, BODY_NONE, false, tide__route_cases },
    { "POST", "/api/v1/cases", TIDE_PERM_CASES_WRITE, BODY_SMALL, true, tide__route_case_open },
    { "GET", "/api/v1/cases/{id}", TIDE_PERM_CASES_READ, BODY_NONE, false, tide__route_case },
    { "POST", "/api/v1/cases/{id}/hosts/{host}", TIDE_PERM_CASES_WRITE, BODY_SMALL, true, tide__route_case_host },
    { "POST", "/api/v1/cases/{id}/lessons", TIDE_PERM_CASES_WRITE, BODY_SMALL, true, tide__route_case_lessons },
    { "POST", "/api/v1/cases/{id}/close", TIDE_PERM_CASES_WRITE, BODY_SMALL, true, tide__route_case_close },
    { "GET", "/api/v1/cases/{id}/share", TIDE_PERM_CASES_READ, BODY_NONE, false, tide__route_case_share },
    { "POST", "/api/v1/hunts", TIDE_PERM_HUNT, BODY_SMALL, true, tide__route_hunt_start },
    { "GET", "/api/v1/hunts/{id}", TIDE_PERM_HUNT, BODY_NONE, false, tide__route_hunt_get },
    { "GET", "/api/v1/stats", TIDE_PERM_STATS, BODY_NONE, false, stats },
    { "GET", "/api/v1/metrics", TIDE_PERM_METRICS, BODY_NONE, false, tide__route_metrics },
    { "GET", "/api/v1/schedule", TIDE_PERM_METRICS, BODY_NONE, false, tide__route_schedule },
    { "GET", "/api/v1/feeds", TIDE_PERM_METRICS, BODY_NONE, false, tide__route_feeds },
    { "POST", "/api/v1/feeds", TIDE_PERM_ADMIN, BODY_SMALL, true, tide__route_feed_add },
    { "POST", "/api/v1/feeds/{name}/pull", TIDE_PERM_ADMIN, BODY_NONE, true, tide__route_feed_pull },
    { "DELETE", "/api/v1/feeds/{name}", TIDE_PERM_ADMIN, BODY_NONE, true, tide__route_feed_remove },
    { "GET", "/api/v1/admin/keys", TIDE_PERM_ADMIN, BODY_NONE, false, keys_list },
    { "GET", "/api/v1/admin/audit", TIDE_PERM_ADMIN, BODY_NONE, false, audit_log },
    { "POST", "/api/v1/session", PERM_KEY, BODY_NONE, true, tide__route_session_new },
    { "GET", "/api/v1/session", PERM_KEY, BODY_NONE, false, tide__route_session_get },
    { "DELETE", "/api/v1/session", PERM_KEY, BODY_NONE, true, tide__route_session_end },
};
/* clang-format on */
const size_t tide__nroutes = sizeof tide__routes / sizeof tide__routes[0];
