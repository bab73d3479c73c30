/*
 * taxii.c - the TAXII 2.1 server of `tide serve` under /taxii2/ (docs/taxii.md): discovery,
 * API roots, collections (from the "taxii" member of `tide serve --config`, or the defaults:
 * one root "tide" with a read-only "intel" collection, a read-only "sightings" collection and
 * a writable "inbox"), objects, manifest, versions, the POST of an envelope (an ingest run,
 * as POST /api/v1/intel) and its status. Media types, errors (the TAXII error message
 * resource) and authentication (Basic NAME:KEY, or Bearer KEY) as the specification and its
 * reference server (medallion) do. Like every route, it holds no product logic: the listings
 * are tide_read_taxii (include/tide/reads.h) under the lower of the key's ceiling and the
 * collection's tlp_max; a POST is the engine's ingest run.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "params.h"
#include "server_int.h"
#include "taxii_config.h"

#define TAXII_TYPE "application/taxii+json;version=2.1"
#define STIX_TYPE  "application/stix+json;version=2.1"
#define PAGE_MAX   1000 /* objects per page at most (a larger limit is capped silently) */
#define STATUS_MAX 256  /* status resources kept (the oldest goes) */

/* The routes, for server/openapi.json and tests/integration/serve_api.sh, which checks the two
 * against each other ({name} is one path segment; each answers without its last slash too). */
/* clang-format off */
const char *const tide__taxii_routes[][2] = {
    { "GET", "/taxii2/" },
    { "GET", "/taxii2/{root}/" },
    { "GET", "/taxii2/{root}/status/{status}/" },
    { "GET", "/taxii2/{root}/collections/" },
    { "GET", "/taxii2/{root}/collections/{collection}/" },
    { "GET", "/taxii2/{root}/collections/{collection}/objects/" },
    { "POST", "/taxii2/{root}/collections/{collection}/objects/" },
    { "GET", "/taxii2/{root}/collections/{collection}/objects/{object}/" },
    { "DELETE", "/taxii2/{root}/collections/{collection}/objects/{object}/" },
    { "GET", "/taxii2/{root}/collections/{collection}/objects/{object}/versions/" },
    { "GET", "/taxii2/{root}/collections/{collection}/manifest/" },
};
/* clang-format on */
const size_t tide__ntaxii_routes = sizeof tide__taxii_routes / sizeof tide__taxii_routes[0];

/* ---- the configuration (set before the server starts, read-only after) ---- */

static tide__taxii_cfg *cfg;

int tide__taxii_setup(const char *json, const char *file)
{
    tide__taxii_cfg_free(cfg);
    cfg = NULL;
    char err[512];
    tide__taxii_cfg *c = json ? tide__taxii_cfg_parse(json, strlen(json), err, sizeof err)
                              : tide__taxii_cfg_default();
    if (c == NULL)
        return tide_error_set(
                TIDE_EINVAL, "%s: %s", file ? file : "taxii", json ? err : "no memory");
    cfg = c;
    return 0;
}

static void statuses_free(void);

void tide__taxii_teardown(void)
{
    tide__taxii_cfg_free(cfg);
    cfg = NULL;
    statuses_free();
}

/* ---- status resources ---- */

typedef struct {
    char id[40];
    char owner[128]; /* the key that posted */
    char *json;
} status_slot;

static pthread_mutex_t status_mu = PTHREAD_MUTEX_INITIALIZER;
static status_slot statuses[STATUS_MAX];
static size_t status_next;

static void status_put(const char *id, const char *owner, const char *json)
{
    pthread_mutex_lock(&status_mu);
    status_slot *s = &statuses[status_next++ % STATUS_MAX];
    free(s->json);
    snprintf(s->id, sizeof s->id, "%s", id);
    snprintf(s->owner, sizeof s->owner, "%s", owner);
    s->json = strdup(json);
    pthread_mutex_unlock(&status_mu);
}

static char *status_get(const char *id, const char *owner, bool admin)
{
    char *js = NULL;
    pthread_mutex_lock(&status_mu);
    for (size_t i = 0; i < STATUS_MAX; i++)
        if (statuses[i].json && strcmp(statuses[i].id, id) == 0 &&
                (admin || strcmp(statuses[i].owner, owner) == 0))
            js = strdup(statuses[i].json);
    pthread_mutex_unlock(&status_mu);
    return js;
}

static void statuses_free(void)
{
    pthread_mutex_lock(&status_mu);
    for (size_t i = 0; i < STATUS_MAX; i++) {
        free(statuses[i].json);
        statuses[i].json = NULL;
    }
    status_next = 0;
    pthread_mutex_unlock(&status_mu);
}

static void uuid4(char out[40])
{
    unsigned char b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
        for (size_t i = 0; i < sizeof b; i++) /* never in practice: getrandom does not fail */
            b[i] = (unsigned char)rand();
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
            b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
            b[15]);
}

/* a TAXII timestamp: RFC 3339 UTC with milliseconds */
static void stamp_ms(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char day[24];
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%.20s.%03dZ", day, (int)(ms % 1000));
}

/* ---- one request ---- */

typedef enum {
    TX_DISCOVERY,
    TX_ROOT,
    TX_STATUS,
    TX_COLLECTIONS,
    TX_COLLECTION,
    TX_OBJECTS,
    TX_OBJECT,
    TX_VERSIONS,
    TX_MANIFEST,
} tx_kind;

typedef struct {
    tx_kind kind;
    const tide__taxii_root *root;
    const tide__taxii_coll *coll;
    char *id; /* the status or object id */
    bool post, del;
} tx_req;

static void tx_free(void *p)
{
    tx_req *t = p;
    if (t)
        free(t->id);
    free(t);
}

static void reply_taxii(reply *out, unsigned status, json_t *o)
{
    tide__reply_json(out, status, o ? json_dumps(o, JSON_COMPACT) : NULL);
    json_decref(o);
    out->type = TAXII_TYPE;
}

static void tx_error(reply *out, unsigned status, const char *title, const char *fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 4, 5)))
#endif
        ;
static void tx_error(reply *out, unsigned status, const char *title, const char *fmt, ...)
{
    char msg[512], code[8];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(code, sizeof code, "%u", status);
    reply_taxii(out, status,
            json_pack("{s:s, s:s, s:s}", "title", title, "description", msg, "http_status", code));
    if (status == MHD_HTTP_UNAUTHORIZED)
        out->www_auth = "Basic realm=\"tide\"";
}

static void tx_lib_error(reply *out, int rc)
{
    const char *why = tide_error_last();
    if (why == NULL || *why == '\0')
        why = "internal error";
    if (rc == TIDE_ENOTFOUND)
        tx_error(out, MHD_HTTP_NOT_FOUND, "Not found", "no such object");
    else if (rc == TIDE_EINVAL || rc == TIDE_EPARSE || rc == TIDE_EFORMAT)
        tx_error(out, MHD_HTTP_BAD_REQUEST, "Bad request", "%s", why);
    else
        tx_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal error", "%s", why);
}

bool tide__taxii_path(const char *url)
{
    return strncmp(url, "/taxii2", 7) == 0 && (url[7] == '\0' || url[7] == '/');
}

/* the Accept header: application/taxii+json;version=2.1 among its media ranges (spaces
 * ignored), as medallion checks it: no Accept, another type, no version or another one: 406 */
bool tide__taxii_accept_ok(const char *h)
{
    if (h == NULL)
        return false;
    char buf[512];
    size_t n = 0;
    for (const char *p = h; *p && n + 1 < sizeof buf; p++)
        if (*p != ' ' && *p != '\t')
            buf[n++] = *p;
    buf[n] = '\0';
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (strcasecmp(t, TAXII_TYPE) == 0)
            return true;
    return false;
}

static bool role_in(unsigned mask, int role)
{
    return role >= 0 && role < 32 && (mask >> role) & 1u;
}

/* split the path into at most 8 segments (a trailing slash or none) */
static int segments(const char *url, char seg[][200], int max)
{
    int n = 0;
    const char *p = url;
    while (*p) {
        while (*p == '/')
            p++;
        if (*p == '\0')
            break;
        size_t l = strcspn(p, "/");
        if (n == max || l >= 200)
            return -1;
        memcpy(seg[n], p, l);
        seg[n][l] = '\0';
        n++;
        p += l;
    }
    return n;
}

static void run(req *r, reply *out);
static const route tx_read = { "GET", "(taxii)", PERM_KEY, BODY_NONE, false, run };
static const route tx_write = { "POST", "(taxii)", PERM_KEY, BODY_LARGE, true, run };
static const route tx_delete = { "DELETE", "(taxii)", PERM_KEY, BODY_NONE, true, run };

int tide__taxii_head(req *r, const char *url, const char *method, reply *out)
{
    srv *s = r->s;
    tx_req *t = calloc(1, sizeof *t);
    if (t == NULL) {
        tx_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal error", "out of memory");
        return 1;
    }
    r->taxii = t;
    r->taxii_free = tx_free;
    if ((r->rd = tide__srv_reads_get(s)) == NULL) {
        tx_error(out, MHD_HTTP_SERVICE_UNAVAILABLE, "Unavailable", "store unavailable");
        return 1;
    }
    r->store = tide_reads_store(r->rd);
    if (tide__srv_authenticate(r) < 0) {
        tx_error(out, MHD_HTTP_UNAUTHORIZED, "Unauthorized",
                "send HTTP Basic (the key's name and the key) or Bearer KEY");
        return 1;
    }
    r->authed = true;
    if (!tide__taxii_accept_ok(tide__req_header(r, MHD_HTTP_HEADER_ACCEPT))) {
        tx_error(out, MHD_HTTP_NOT_ACCEPTABLE, "Not acceptable",
                "the Accept header must name " TAXII_TYPE);
        return 1;
    }
    char seg[8][200];
    int n = segments(url, seg, 8);
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    t->post = strcmp(method, "POST") == 0;
    t->del = strcmp(method, "DELETE") == 0;
    const char *allow = "GET, HEAD";
    if (n < 1 || cfg == NULL)
        goto not_found;
    if (n == 1)
        t->kind = TX_DISCOVERY;
    else {
        for (size_t i = 0; i < cfg->nroots; i++)
            if (strcmp(cfg->roots[i].name, seg[1]) == 0)
                t->root = &cfg->roots[i];
        if (t->root == NULL)
            goto not_found;
        if (n == 2)
            t->kind = TX_ROOT;
        else if (n == 4 && strcmp(seg[2], "status") == 0) {
            t->kind = TX_STATUS;
            t->id = strdup(seg[3]);
        } else if (strcmp(seg[2], "collections") == 0) {
            if (n == 3)
                t->kind = TX_COLLECTIONS;
            else {
                for (size_t i = 0; i < t->root->ncolls; i++)
                    if (strcmp(t->root->colls[i].id, seg[3]) == 0)
                        t->coll = &t->root->colls[i];
                if (t->coll == NULL)
                    goto not_found;
                if (n == 4)
                    t->kind = TX_COLLECTION;
                else if (n == 5 && strcmp(seg[4], "objects") == 0) {
                    t->kind = TX_OBJECTS;
                    allow = "GET, HEAD, POST";
                } else if (n == 5 && strcmp(seg[4], "manifest") == 0)
                    t->kind = TX_MANIFEST;
                else if (n == 6 && strcmp(seg[4], "objects") == 0) {
                    t->kind = TX_OBJECT;
                    t->id = strdup(seg[5]);
                    allow = "GET, HEAD, DELETE";
                } else if (n == 7 && strcmp(seg[4], "objects") == 0 &&
                           strcmp(seg[6], "versions") == 0) {
                    t->kind = TX_VERSIONS;
                    t->id = strdup(seg[5]);
                } else
                    goto not_found;
            }
        } else
            goto not_found;
    }
    if ((t->kind == TX_STATUS || t->kind == TX_OBJECT || t->kind == TX_VERSIONS) && !t->id) {
        tx_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal error", "out of memory");
        return 1;
    }
    bool can_post = t->kind == TX_OBJECTS, can_del = t->kind == TX_OBJECT;
    if (!get && !(t->post && can_post) && !(t->del && can_del)) {
        tx_error(out, MHD_HTTP_METHOD_NOT_ALLOWED, "Method not allowed", "%s is not allowed here",
                method);
        out->allow = allow;
        return 1;
    }
    int role = (int)r->key.role;
    if (t->coll && t->kind != TX_COLLECTION) {
        bool ok = t->post  ? role_in(t->coll->can_write, role)
                  : t->del ? role_in(t->coll->can_write, role) && role == TIDE_ROLE_ADMIN
                           : role_in(t->coll->can_read, role);
        if (!ok) {
            tx_error(out, MHD_HTTP_FORBIDDEN, "Forbidden",
                    "the key's role (%s) may not %s collection %s", tide_role_name(role),
                    t->post  ? "write to"
                    : t->del ? "delete from"
                             : "read",
                    t->coll->id);
            return 1;
        }
    }
    if (t->post) {
        const char *ct = tide__req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
        char buf[128];
        size_t k = 0;
        for (const char *p = ct ? ct : ""; *p && k + 1 < sizeof buf; p++)
            if (*p != ' ')
                buf[k++] = *p;
        buf[k] = '\0';
        if (strcasecmp(buf, TAXII_TYPE) != 0) {
            tx_error(out, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "Unsupported media type",
                    "the Content-Type must be " TAXII_TYPE);
            return 1;
        }
    }
    r->rt = t->post ? &tx_write : t->del ? &tx_delete : &tx_read;
    r->max = t->post ? s->o.max_body : 0;
    const char *cl = tide__req_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end;
        unsigned long long v = strtoull(cl, &end, 10);
        if (end == cl || *end != '\0' || v > r->max) {
            if (r->max)
                tx_error(out, MHD_HTTP_CONTENT_TOO_LARGE, "Content too large",
                        "the body is over max_content_length (%zu bytes)", r->max);
            else
                tx_error(out, MHD_HTTP_BAD_REQUEST, "Bad request", "this route takes no body");
            return 1;
        }
    }
    return 0;
not_found:
    tx_error(out, MHD_HTTP_NOT_FOUND, "Not found", "no such TAXII resource");
    return 1;
}

void tide__taxii_too_big(req *r, reply *out)
{
    if (r->max)
        tx_error(out, MHD_HTTP_CONTENT_TOO_LARGE, "Content too large",
                "the body is over max_content_length (%zu bytes)", r->max);
    else
        tx_error(out, MHD_HTTP_BAD_REQUEST, "Bad request", "this route takes no body");
}

/* ---- the resources ---- */

static char *root_url(req *r, const char *name)
{
    const char *host = tide__req_header(r, MHD_HTTP_HEADER_HOST);
    char buf[512];
    snprintf(buf, sizeof buf, "%s://%s/taxii2/%s/", r->s->o.tls_cert ? "https" : "http",
            host ? host : "127.0.0.1", name);
    return strdup(buf);
}

static void discovery(req *r, reply *out)
{
    json_t *roots = json_array();
    for (size_t i = 0; i < cfg->nroots; i++) {
        char *u = root_url(r, cfg->roots[i].name);
        json_array_append_new(roots, json_string(u ? u : ""));
        free(u);
    }
    char *def = cfg->nroots ? root_url(r, cfg->roots[0].name) : NULL;
    reply_taxii(out, MHD_HTTP_OK,
            json_pack("{s:s, s:s*, s:s*, s:o}", "title", cfg->title, "description",
                    cfg->description, "default", def, "api_roots", roots));
    free(def);
}

static json_t *roles_of(unsigned mask, int role)
{
    return json_boolean(role_in(mask, role));
}

static json_t *coll_json(const tide__taxii_coll *c, int role)
{
    return json_pack("{s:s, s:s, s:s*, s:o, s:o, s:[s]}", "id", c->id, "title", c->title,
            "description", c->description, "can_read", roles_of(c->can_read, role), "can_write",
            roles_of(c->can_write, role), "media_types", STIX_TYPE);
}

static int ceiling_of(req *r, const tide__taxii_coll *c)
{
    int k = r->key.tlp_max;
    return c->tlp_max < k ? c->tlp_max : k;
}

static void listing(req *r, reply *out, tx_req *t, tide_taxii_listing what)
{
    tide_taxii_query q = { 0 };
    char err[256];
    long limit;
    if (tide__parse_count(
                tide__req_arg(r, "limit"), PAGE_MAX, 1, 1L << 30, &limit, err, sizeof err) < 0) {
        tx_error(out, MHD_HTTP_BAD_REQUEST, "Bad request", "limit: %s", err);
        return;
    }
    q.limit = limit > PAGE_MAX ? PAGE_MAX : limit;
    const char *aa = tide__req_arg(r, "added_after");
    if (aa && tide_time_parse(aa, &q.added_after) < 0) {
        tx_error(out, MHD_HTTP_BAD_REQUEST, "Bad request",
                "added_after: '%.60s' is not a timestamp", aa);
        return;
    }
    q.next = tide__req_arg(r, "next");
    q.match_id = tide__req_arg(r, "match[id]");
    q.match_type = tide__req_arg(r, "match[type]");
    q.match_version = tide__req_arg(r, "match[version]");
    q.match_spec_version = tide__req_arg(r, "match[spec_version]");
    q.object_id = t->id;
    q.sources = (const char *const *)t->coll->sources;
    q.nsources = t->coll->nsources;
    char *js = NULL;
    int64_t first = 0, last = 0;
    int rc;
    if (t->coll->kind == TIDE__TAXII_SIGHTINGS)
        rc = tide_read_taxii_sightings(r->rd, &q, what, ceiling_of(r, t->coll), &js, &first, &last);
    else
        rc = tide_read_taxii(r->rd, &q, what, ceiling_of(r, t->coll), &js, &first, &last);
    if (rc < 0) {
        tx_lib_error(out, rc);
        return;
    }
    tide__reply_json(out, MHD_HTTP_OK, js);
    out->type = TAXII_TYPE;
    if (first) {
        stamp_ms(first, out->taxii_first);
        stamp_ms(last, out->taxii_last);
    }
}

/* DELETE .../objects/{id}/: the versions match[version] selects (all by default) among those
 * the collection lists for the key, out of the store (tide_taxii_delete); 200 with no body. */
static void delete_object(req *r, reply *out, tx_req *t)
{
    tide_taxii_query q = { 0 };
    q.limit = 1;
    q.object_id = t->id;
    q.match_version = tide__req_arg(r, "match[version]");
    q.match_spec_version = tide__req_arg(r, "match[spec_version]");
    q.sources = (const char *const *)t->coll->sources;
    q.nsources = t->coll->nsources;
    tide_intel_delete_result res;
    pthread_mutex_lock(&r->s->write_mu);
    int rc = tide_taxii_delete(r->s->ws, r->rd, &q, ceiling_of(r, t->coll), NULL, NULL, &res);
    pthread_mutex_unlock(&r->s->write_mu);
    if (rc < 0) {
        tx_lib_error(out, rc);
        return;
    }
    char detail[200];
    snprintf(detail, sizeof detail, "TAXII delete from collection %s: %ld version(s)%s%s",
            t->coll->id, res.deleted, res.revived[0] ? ", current now " : "", res.revived);
    r->audit_target = strdup(t->id);
    r->audit_detail = strdup(detail);
    tide__reply_json(out, MHD_HTTP_OK, strdup("")); /* NULL: out of memory (a 500) */
    out->type = TAXII_TYPE;
}

/* POST .../objects/: the envelope's objects through an ingest run as POST /api/v1/intel, then
 * a status resource (each object a success when its version is stored afterwards) */
static void post_objects(req *r, reply *out, tx_req *t)
{
    json_error_t je;
    json_t *env = json_loadb(r->body ? r->body : "", r->len, JSON_REJECT_DUPLICATES, &je);
    json_t *objs = json_object_get(env, "objects");
    if (!json_is_object(env) || !json_is_array(objs)) {
        if (env == NULL)
            tx_error(out, MHD_HTTP_BAD_REQUEST, "Bad request",
                    "the body is not an envelope: line %d, column %d: %s", je.line, je.column,
                    je.text);
        else
            tx_error(out, MHD_HTTP_BAD_REQUEST, "Bad request",
                    "the body is not an envelope: want an object with an \"objects\" array");
        json_decref(env);
        return;
    }
    const char *name = t->coll->nsources ? t->coll->sources[0] : r->key.name;
    tide_ingest_run_opts o;
    tide_ingest_run_opts_init(&o);
    o.ingest.source = name;
    pthread_mutex_lock(&r->s->write_mu);
    tide_ingest_run *run = NULL;
    tide_ingest_result res;
    memset(&res, 0, sizeof res);
    int rc = tide_ingest_run_new(&run, r->s->ws, &o);
    int irc = rc == 0 ? tide_ingest_run_buffer(run, r->body, r->len, name, TIDE_FMT_STIX) : rc;
    int frc = rc == 0 ? tide_ingest_run_finish(run, &res) : 0;
    tide_ingest_run_free(run);
    pthread_mutex_unlock(&r->s->write_mu);
    if (irc < 0 || frc < 0) {
        json_decref(env);
        tx_lib_error(out, irc < 0 ? irc : frc);
        return;
    }
    json_t *ok = json_array(), *bad = json_array();
    size_t i;
    json_t *ob;
    json_array_foreach(objs, i, ob)
    {
        const char *id = json_string_value(json_object_get(ob, "id"));
        const char *mod = json_string_value(json_object_get(ob, "modified"));
        const char *ver = mod ? mod : json_string_value(json_object_get(ob, "created"));
        char *js = NULL; /* an object without modified is stored unversioned */
        int g = id ? tide_store_get(r->store, id, mod, &js) : TIDE_ENOTFOUND;
        free(js);
        tide_error_clear();
        json_t *d = json_pack("{s:s}", "id", id ? id : "");
        if (ver)
            json_object_set_new(d, "version", json_string(ver));
        if (g == 0)
            json_array_append_new(ok, d);
        else {
            json_object_set_new(d, "message",
                    json_string(id ? "not stored: rejected by the ingest (see the server's "
                                     "audit log for the counts)"
                                   : "an object without an id"));
            json_array_append_new(bad, d);
        }
    }
    char sid[40], stamp[32];
    uuid4(sid);
    json_t *st = json_pack("{s:s, s:s, s:I, s:I, s:O, s:I, s:O, s:I}", "id", sid, "status",
            "complete", "total_count", (json_int_t)json_array_size(objs), "success_count",
            (json_int_t)json_array_size(ok), "successes", ok, "failure_count",
            (json_int_t)json_array_size(bad), "failures", bad, "pending_count", (json_int_t)0);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    stamp_ms((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, stamp);
    if (st)
        json_object_set_new(st, "request_timestamp", json_string(stamp));
    char *txt = st ? json_dumps(st, JSON_COMPACT) : NULL;
    if (txt)
        status_put(sid, r->key.name, txt);
    json_decref(st);
    json_decref(ok);
    json_decref(bad);
    json_decref(env);
    char detail[200];
    snprintf(detail, sizeof detail,
            "collection %s: records %ld, stored %ld, rejected %ld, retro-sightings %zu",
            t->coll->id, res.ingest.records, res.ingest.stored, res.ingest.rejected,
            res.hunt.sightings);
    r->audit_target = strdup(name);
    r->audit_detail = strdup(detail);
    tide__reply_json(out, MHD_HTTP_ACCEPTED, txt);
    out->type = TAXII_TYPE;
}

static void run(req *r, reply *out)
{
    tx_req *t = r->taxii;
    int role = (int)r->key.role;
    switch (t->kind) {
        case TX_DISCOVERY: discovery(r, out); break;
        case TX_ROOT:
            reply_taxii(out, MHD_HTTP_OK,
                    json_pack("{s:s, s:s*, s:[s], s:I}", "title", t->root->title, "description",
                            t->root->description, "versions", TAXII_TYPE, "max_content_length",
                            (json_int_t)r->s->o.max_body));
            break;
        case TX_STATUS: {
            char *js = status_get(t->id, r->key.name, role == TIDE_ROLE_ADMIN);
            if (js == NULL)
                tx_error(out, MHD_HTTP_NOT_FOUND, "Not found", "no such status");
            else {
                tide__reply_json(out, MHD_HTTP_OK, js);
                out->type = TAXII_TYPE;
            }
            break;
        }
        case TX_COLLECTIONS: {
            json_t *arr = json_array();
            for (size_t i = 0; i < t->root->ncolls; i++)
                json_array_append_new(arr, coll_json(&t->root->colls[i], role));
            json_t *o = json_object();
            if (json_array_size(arr))
                json_object_set(o, "collections", arr);
            json_decref(arr);
            reply_taxii(out, MHD_HTTP_OK, o);
            break;
        }
        case TX_COLLECTION: reply_taxii(out, MHD_HTTP_OK, coll_json(t->coll, role)); break;
        case TX_OBJECTS:
            if (t->post)
                post_objects(r, out, t);
            else
                listing(r, out, t, TIDE_TAXII_OBJECTS);
            break;
        case TX_OBJECT:
            if (t->del)
                delete_object(r, out, t);
            else
                listing(r, out, t, TIDE_TAXII_OBJECTS);
            break;
        case TX_VERSIONS: listing(r, out, t, TIDE_TAXII_VERSIONS); break;
        case TX_MANIFEST: listing(r, out, t, TIDE_TAXII_MANIFEST); break;
    }
}
