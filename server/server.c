/*
 * server.c - the HTTP glue of `tide serve` on libmicrohttpd: the daemon (thread per connection,
 * so a long write or a live stream holds only its own connection), TLS, limits (head, body,
 * idle and request deadlines, connection cap), authentication (Bearer key, or HTTP Basic with
 * the key's name and the key), routing on the table of routes.c with its permission checks,
 * the audit log of writes, replies, and the clean stop on tide_server_stop (no new connection,
 * in-flight requests finish, streams end). No product logic: the routes call the library.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "params.h"
#include "server_int.h"
#include "taxii_config.h"

static int stop_pipe[2] = { -1, -1 };
static volatile sig_atomic_t stop_flag;

void tide_server_stop(void)
{
    stop_flag = 1;
    if (stop_pipe[1] >= 0) {
        char c = 1;
        ssize_t n = write(stop_pipe[1], &c, 1);
        (void)n;
    }
}

int64_t tide__srv_mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void logf_(srv *s, const char *fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 2, 3)))
#endif
        ;
static void logf_(srv *s, const char *fmt, ...)
{
    if (s->o.on_log == NULL)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    s->o.on_log(line, s->o.payload);
}

void tide__srv_log(srv *s, const char *fmt, ...)
{
    if (s->o.on_log == NULL)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    s->o.on_log(line, s->o.payload);
}

/* ---------------- the pool of read connections ---------------- */

tide_reads *tide__srv_reads_get(srv *s)
{
    pthread_mutex_lock(&s->pool_mu);
    tide_reads *rd = s->npool ? s->pool[--s->npool] : NULL;
    pthread_mutex_unlock(&s->pool_mu);
    if (rd)
        return rd;
    tide_store *st = NULL;
    if (tide_workspace_store_open(s->ws, &st) < 0)
        return NULL;
    if (tide_reads_new(&rd, st) < 0) {
        tide_store_free(st);
        return NULL;
    }
    return rd;
}

static void reads_close(tide_reads *rd)
{
    tide_store *st = tide_reads_store(rd);
    tide_reads_free(rd);
    tide_store_free(st);
}

void tide__srv_reads_put(srv *s, tide_reads *rd)
{
    if (rd == NULL)
        return;
    pthread_mutex_lock(&s->pool_mu);
    if (s->npool == s->cappool && s->cappool < 64) {
        size_t nc = s->cappool ? s->cappool * 2 : 8;
        tide_reads **p = realloc(s->pool, nc * sizeof *p);
        if (p) {
            s->pool = p;
            s->cappool = nc;
        }
    }
    if (s->npool < s->cappool) {
        s->pool[s->npool++] = rd;
        rd = NULL;
    }
    pthread_mutex_unlock(&s->pool_mu);
    if (rd)
        reads_close(rd); /* the pool is full */
}

/* ---------------- connections: the deadline of a request's head ---------------- */

/* Each open connection, for the watchdog: a connection whose request has not reached the
 * handler (its head still arriving, byte by byte or not at all) within request_timeout of the
 * connection being ready for it is shut down. MHD's own timeout closes idle connections. */
typedef struct track {
    int fd;
    int64_t since; /* ms: accepted, or the last request completed */
    bool in_request;
    struct track *prev, *next;
} track;

static pthread_mutex_t track_mu = PTHREAD_MUTEX_INITIALIZER;
static track *tracks;

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
        enum MHD_ConnectionNotificationCode toe)
{
    (void)cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        track *t = calloc(1, sizeof *t);
        const union MHD_ConnectionInfo *ci =
                MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (t == NULL || ci == NULL) {
            free(t);
            *socket_context = NULL;
            return;
        }
        t->fd = ci->connect_fd;
        t->since = tide__srv_mono_ms();
        pthread_mutex_lock(&track_mu);
        t->next = tracks;
        if (tracks)
            tracks->prev = t;
        tracks = t;
        pthread_mutex_unlock(&track_mu);
        *socket_context = t;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        track *t = *socket_context;
        if (t == NULL)
            return;
        /* under the lock: the watchdog never shuts down an fd MHD closed and reused */
        pthread_mutex_lock(&track_mu);
        if (t->prev)
            t->prev->next = t->next;
        else
            tracks = t->next;
        if (t->next)
            t->next->prev = t->prev;
        pthread_mutex_unlock(&track_mu);
        free(t);
        *socket_context = NULL;
    }
}

static track *track_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void track_set(struct MHD_Connection *c, bool in_request)
{
    track *t = track_of(c);
    if (t == NULL)
        return;
    pthread_mutex_lock(&track_mu);
    t->in_request = in_request;
    t->since = tide__srv_mono_ms();
    pthread_mutex_unlock(&track_mu);
}

static unsigned watchdog(srv *s)
{
    unsigned n = 0;
    int64_t now = tide__srv_mono_ms(), limit = (int64_t)s->o.request_timeout * 1000;
    pthread_mutex_lock(&track_mu);
    for (track *t = tracks; t; t = t->next)
        if (!t->in_request && t->since != INT64_MAX && now - t->since > limit) {
            shutdown(t->fd, SHUT_RDWR);
            t->since = INT64_MAX;
            n++;
        }
    pthread_mutex_unlock(&track_mu);
    return n;
}

/* ---------------- replies ---------------- */

void tide__reply_json(reply *out, unsigned status, char *json)
{
    free(out->body);
    out->status = status;
    out->body = json;
    out->len = json ? strlen(json) : 0;
    out->type = "application/json";
}

void tide__reply_error(reply *out, unsigned status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *o = json_pack("{s:s}", "error", msg);
    tide__reply_json(out, status, o ? json_dumps(o, JSON_COMPACT) : NULL);
    json_decref(o);
}

void tide__reply_lib_error(reply *out, int rc)
{
    const char *why = tide_error_last();
    switch (rc) {
        case TIDE_ENOTFOUND: tide__reply_error(out, MHD_HTTP_NOT_FOUND, "not found"); break;
        case TIDE_EINVAL:
        case TIDE_EPARSE:
        case TIDE_EFORMAT:
        case TIDE_EUNSUPPORTED:
        case TIDE_EMATCH:
            tide__reply_error(out, MHD_HTTP_BAD_REQUEST, "%s", why && *why ? why : "bad request");
            break;
        case TIDE_ETOOBIG:
            tide__reply_error(out, MHD_HTTP_CONTENT_TOO_LARGE, "%s", why && *why ? why : "too big");
            break;
        case TIDE_EEXISTS:
            tide__reply_error(out, MHD_HTTP_CONFLICT, "%s", why && *why ? why : "exists");
            break;
        default:
            tide__reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s",
                    why && *why ? why : "internal error");
    }
}

const char *tide__req_arg(req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *tide__req_header(req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* ---------------- routing ---------------- */

/* Match path against the table: 1 and the route (params filled), 0 no route for the path,
 * -1 the path exists for other methods (allow lists them). */
static int route_of(const char *path, const char *method, req *r, char *allow, size_t allow_cap)
{
    bool path_seen = false;
    allow[0] = '\0';
    if (strcmp(method, "HEAD") == 0)
        method = "GET";
    for (size_t i = 0; i < tide__nroutes; i++) {
        const route *rt = &tide__routes[i];
        const char *p = path, *q = rt->path;
        const char *ps[MAX_PARAMS];
        size_t pl[MAX_PARAMS];
        int np = 0;
        bool ok = true;
        while (*q && ok) {
            if (*q == '{') {
                const char *qe = strchr(q, '}');
                size_t n = strcspn(p, "/");
                if (n == 0 || np == MAX_PARAMS || qe == NULL) {
                    ok = false;
                    break;
                }
                ps[np] = p;
                pl[np++] = n;
                p += n;
                q = qe + 1;
            } else if (*p == *q) {
                p++;
                q++;
            } else
                ok = false;
        }
        if (!ok || *p != '\0')
            continue;
        if (strcmp(rt->method, method) != 0) {
            if (!path_seen || strstr(allow, rt->method) == NULL) {
                size_t l = strlen(allow);
                snprintf(allow + l, allow_cap - l, "%s%s", l ? ", " : "", rt->method);
            }
            path_seen = true;
            continue;
        }
        r->rt = rt;
        for (int k = 0; k < np; k++) {
            r->params[k] = strndup(ps[k], pl[k]);
            if (r->params[k] == NULL)
                return 0;
        }
        return 1;
    }
    return path_seen ? -1 : 0;
}

/* ---------------- authentication ---------------- */

/* The key of an Authorization header: "Bearer KEY", or "Basic base64(NAME:KEY)" (then the name
 * must be the key's). 0 and r->key when valid; -1 otherwise (no detail: 401). */
static int authenticate(req *r)
{
    char name[128], key[256], sess[320];
    const char *h = tide__req_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
    if (h == NULL) { /* a web UI session's cookie (ui.c): -2 when its CSRF token is wrong */
        int k = tide__ui_session_auth(r, sess, sizeof sess);
        if (k < 0)
            return k;
        h = k > 0 ? sess : NULL;
    }
    if (tide__cache_key_get(h, &r->key))
        return 0;
    int kind = tide__parse_auth(h, name, sizeof name, key, sizeof key);
    if (kind < 0)
        return -1;
    if (tide_key_verify(r->store, key, strlen(key), &r->key) < 0 ||
            (kind == 2 && strcmp(r->key.name, name) != 0)) {
        tide_error_clear();
        return -1;
    }
    tide__cache_key_put(h, &r->key);
    return 0;
}

int tide__srv_authenticate(req *r)
{
    return authenticate(r);
}

/* ---------------- requests ---------------- */

static enum MHD_Result send_reply(srv *s, req *r, reply *out)
{
    struct MHD_Response *resp;
    if (out->stream) {
        resp = MHD_create_response_from_callback(
                MHD_SIZE_UNKNOWN, 4096, out->stream, out->stream_ctx, out->stream_free);
        out->stream_ctx = NULL;
    } else {
        if (out->body == NULL && out->status != MHD_HTTP_NOT_MODIFIED)
            tide__reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        resp = MHD_create_response_from_buffer_with_free_callback(
                out->len, out->body ? out->body : (char *)"", out->body ? free : NULL);
        out->body = NULL;
    }
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(
            resp, MHD_HTTP_HEADER_CONTENT_TYPE, out->type ? out->type : "application/json");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(
            resp, MHD_HTTP_HEADER_CACHE_CONTROL, out->etag[0] ? "no-cache" : "no-store");
    if (out->etag[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, out->etag);
    if (out->allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, out->allow);
    if (out->cookie[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, out->cookie);
    if (out->page) {
        MHD_add_response_header(resp, "Content-Security-Policy",
                "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
                "base-uri 'none'; form-action 'self'");
        MHD_add_response_header(resp, "X-Frame-Options", "DENY");
        MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    }
    if (out->status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                out->www_auth ? out->www_auth : "Bearer realm=\"tide\"");
    if (out->taxii_first[0]) {
        MHD_add_response_header(resp, "X-TAXII-Date-Added-First", out->taxii_first);
        MHD_add_response_header(resp, "X-TAXII-Date-Added-Last", out->taxii_last);
    }
    if (s->stopping)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    if (out->status >= 500)
        __atomic_add_fetch(&s->errors_5xx, 1, __ATOMIC_RELAXED);
    else if (out->status >= 400)
        __atomic_add_fetch(&s->errors_4xx, 1, __ATOMIC_RELAXED);
    enum MHD_Result ret = MHD_queue_response(r->conn, out->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result early(srv *s, req *r, unsigned status, const char *fmt, const char *arg)
{
    reply out = { 0 };
    tide__reply_error(&out, status, fmt, arg);
    return send_reply(s, r, &out);
}

static bool is_method(const char *m)
{
    static const char *const known[] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE" };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(m, known[i]) == 0)
            return true;
    return false;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
        const char *method, const char *version, const char *upload, size_t *upload_size,
        void **con_cls)
{
    (void)version;
    srv *s = cls;
    req *r = *con_cls;
    if (r == NULL) {
        /* the head arrived: route, authenticate, check the body's announced size */
        r = calloc(1, sizeof *r);
        if (r == NULL)
            return MHD_NO;
        r->conn = c;
        r->s = s;
        r->start_ms = tide__srv_mono_ms();
        *con_cls = r;
        track_set(c, true);
        __atomic_add_fetch(&s->requests, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&s->active, 1, __ATOMIC_RELAXED);
        if (!is_method(method))
            return early(s, r, MHD_HTTP_NOT_IMPLEMENTED, "method %s not implemented", method);
        if (tide__taxii_path(url)) { /* TAXII 2.1 (taxii.c) */
            reply out = { 0 };
            if (tide__taxii_head(r, url, method, &out))
                return send_reply(s, r, &out);
            return MHD_YES;
        }
        if (strncmp(url, "/api/", 5) != 0) { /* the web UI's assets (ui.c) */
            reply out = { 0 };
            tide__ui_static(r, url, method, &out);
            return send_reply(s, r, &out);
        }
        char allow[64];
        int m = route_of(url, method, r, allow, sizeof allow);
        if (m == 0)
            return early(s, r, MHD_HTTP_NOT_FOUND, "no such route%s", "");
        if (m < 0) {
            reply out = { 0 };
            tide__reply_error(
                    &out, MHD_HTTP_METHOD_NOT_ALLOWED, "method %s not allowed here", method);
            out.allow = allow;
            return send_reply(s, r, &out);
        }
        if (r->rt->perm != PERM_NONE) {
            if ((r->rd = tide__srv_reads_get(s)) == NULL) {
                logf_(s, "store: %s", tide_error_last());
                return early(s, r, MHD_HTTP_SERVICE_UNAVAILABLE, "store unavailable%s", "");
            }
            r->store = tide_reads_store(r->rd);
            int a = authenticate(r);
            if (a == -2)
                return early(s, r, MHD_HTTP_FORBIDDEN, "forbidden: %s",
                        "the session's CSRF token (X-CSRF-Token) is missing or wrong");
            if (a < 0)
                return early(s, r, MHD_HTTP_UNAUTHORIZED, "unauthorized%s", "");
            r->authed = true;
            if (r->rt->perm >= 0 && !tide_role_allows((int)r->key.role, r->rt->perm))
                return early(s, r, MHD_HTTP_FORBIDDEN, "forbidden: the key's role lacks %s",
                        tide_perm_name(r->rt->perm));
        }
        r->max = r->rt->body == BODY_LARGE   ? s->o.max_body
                 : r->rt->body == BODY_SMALL ? s->o.max_small_body
                                             : 0;
        const char *cl = tide__req_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            char *end;
            errno = 0;
            unsigned long long n = strtoull(cl, &end, 10);
            if (errno || end == cl || n > r->max)
                return n && r->max == 0
                               ? early(s, r, MHD_HTTP_BAD_REQUEST,
                                         "this route takes no request body%s", "")
                               : early(s, r, MHD_HTTP_CONTENT_TOO_LARGE,
                                         "request body over the cap of %s bytes",
                                         r->max == s->o.max_body ? "max_body" : "max_small_body");
        }
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        /* a body trickling in: after --request-timeout seconds it must average 1 KiB/s, or the
         * connection is closed (the idle timeout alone would let one byte every few seconds
         * hold it for ever) */
        int64_t el = tide__srv_mono_ms() - r->start_ms;
        if (el > (int64_t)s->o.request_timeout * 1000 && (int64_t)(r->len + n) < el / 1000 * 1024) {
            logf_(s, "closed a connection whose body arrived at under 1 KiB/s");
            return MHD_NO;
        }
        if (r->too_big)
            return MHD_YES;
        if (r->len + n > r->max) {
            r->too_big = true;
            return MHD_YES;
        }
        if (r->len + n + 1 > r->cap) {
            size_t nc = r->cap ? r->cap : 4096;
            while (nc < r->len + n + 1)
                nc *= 2;
            char *b = realloc(r->body, nc);
            if (b == NULL)
                return MHD_NO;
            r->body = b;
            r->cap = nc;
        }
        memcpy(r->body + r->len, upload, n);
        r->len += n;
        r->body[r->len] = '\0';
        return MHD_YES;
    }
    if (r->too_big && r->taxii) {
        reply out = { 0 };
        tide__taxii_too_big(r, &out);
        return send_reply(s, r, &out);
    }
    if (r->too_big)
        return early(s, r, r->max ? MHD_HTTP_CONTENT_TOO_LARGE : MHD_HTTP_BAD_REQUEST,
                r->max ? "request body over the cap%s" : "this route takes no request body%s", "");
    reply out = { 0 };
    out.status = MHD_HTTP_OK;
    r->rt->fn(r, &out);
    if (r->rt->write && r->authed && out.status >= 200 && out.status < 300) {
        char action[160];
        snprintf(action, sizeof action, "%s %s", method, url);
        if (tide_audit_add(r->store, r->key.name, action, r->audit_target, r->audit_detail) < 0)
            logf_(s, "audit log: %s", tide_error_last());
    }
    enum MHD_Result ret = send_reply(s, r, &out);
    free(out.body);
    if (out.stream_ctx && out.stream_free)
        out.stream_free(out.stream_ctx);
    return ret;
}

static void on_completed(
        void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    srv *s = cls;
    req *r = *con_cls;
    track_set(c, false);
    if (r == NULL)
        return;
    __atomic_sub_fetch(&s->active, 1, __ATOMIC_RELAXED);
    tide__srv_reads_put(s, r->rd);
    for (int i = 0; i < MAX_PARAMS; i++)
        free(r->params[i]);
    free(r->body);
    free(r->audit_target);
    free(r->audit_detail);
    if (r->taxii_free)
        r->taxii_free(r->taxii);
    free(r);
    *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    srv *s = cls;
    if (s->o.on_log == NULL)
        return;
    char line[1024];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && line[n - 1] == '\n')
        line[--n] = '\0';
    s->o.on_log(line, s->o.payload);
}

/* ---------------- start and stop ---------------- */

static int parse_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    char host[128];
    const char *port;
    if (spec[0] == '[') {
        const char *e = strchr(spec, ']');
        if (e == NULL || e[1] != ':' || (size_t)(e - spec - 1) >= sizeof host)
            return tide_error_set(TIDE_EINVAL, "--listen %s: want [ADDR]:PORT", spec);
        memcpy(host, spec + 1, (size_t)(e - spec - 1));
        host[e - spec - 1] = '\0';
        port = e + 2;
    } else {
        const char *e = strrchr(spec, ':');
        if (e == NULL || (size_t)(e - spec) >= sizeof host)
            return tide_error_set(TIDE_EINVAL, "--listen %s: want ADDR:PORT", spec);
        memcpy(host, spec, (size_t)(e - spec));
        host[e - spec] = '\0';
        port = e + 1;
    }
    char *end;
    long p = strtol(port, &end, 10);
    if (*port == '\0' || *end != '\0' || p < 0 || p > 65535)
        return tide_error_set(TIDE_EINVAL, "--listen %s: bad port '%s'", spec, port);
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)p);
        *len = sizeof *a4;
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)p);
        *len = sizeof *a6;
    } else
        return tide_error_set(TIDE_EINVAL, "--listen %s: '%s' is not an IP address", spec, host);
    return 0;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *b = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4097 > cap) {
            cap = cap ? cap * 2 : 8192;
            if (cap > (1u << 20)) {
                free(b);
                fclose(f);
                return NULL;
            }
            char *nb = realloc(b, cap);
            if (nb == NULL) {
                free(b);
                fclose(f);
                return NULL;
            }
            b = nb;
        }
        size_t got = fread(b + n, 1, 4096, f);
        n += got;
        if (got < 4096)
            break;
    }
    fclose(f);
    b[n] = '\0';
    return b;
}

int tide_server_run(tide_workspace *ws, const tide_server_opts *opts)
{
    srv s = { 0 };
    s.ws = ws;
    s.o = *opts;
    if (s.o.listen == NULL)
        s.o.listen = "127.0.0.1:8470";
    if (s.o.max_body == 0)
        s.o.max_body = 64u << 20;
    if (s.o.max_small_body == 0)
        s.o.max_small_body = 64u << 10;
    if (s.o.max_head == 0)
        s.o.max_head = 16u << 10;
    if (s.o.max_connections == 0)
        s.o.max_connections = 512;
    if (s.o.timeout == 0)
        s.o.timeout = 15;
    if (s.o.request_timeout == 0)
        s.o.request_timeout = 30;
    if (s.o.grace <= 0)
        s.o.grace = 30;
    s.started_ms = tide__srv_mono_ms();
    struct sockaddr_storage ss;
    socklen_t sl;
    int prc = parse_listen(s.o.listen, &ss, &sl);
    if (prc < 0)
        return prc;
    if ((s.o.tls_cert == NULL) != (s.o.tls_key == NULL))
        return tide_error_set(TIDE_EINVAL, "--tls-cert and --tls-key go together");
    char *cert = NULL, *key = NULL;
    if (s.o.tls_cert) {
        if ((cert = slurp(s.o.tls_cert)) == NULL)
            return tide_error_set(TIDE_EIO, "%s: cannot read the certificate", s.o.tls_cert);
        if ((key = slurp(s.o.tls_key)) == NULL) {
            free(cert);
            return tide_error_set(TIDE_EIO, "%s: cannot read the key", s.o.tls_key);
        }
    }
    if (tide__taxii_setup(s.o.taxii, s.o.taxii_file) < 0) {
        free(cert);
        free(key);
        return TIDE_EINVAL;
    }
    /* the keys must be readable: a store without the table refuses to serve */
    {
        tide_store *st = tide_workspace_store(ws);
        tide_key_info ki;
        int rc = tide_key_verify(st, "tide_", 5, &ki); /* never a key: checks nothing */
        (void)rc;
        tide_error_clear();
    }
    if (pipe(stop_pipe) < 0) {
        free(cert);
        free(key);
        return tide_error_set(TIDE_EIO, "pipe: %s", strerror(errno));
    }
    fcntl(stop_pipe[0], F_SETFD, FD_CLOEXEC);
    fcntl(stop_pipe[1], F_SETFD, FD_CLOEXEC);
    fcntl(stop_pipe[1], F_SETFL, O_NONBLOCK);
    if (stop_flag)
        tide_server_stop();
    pthread_mutex_init(&s.pool_mu, NULL);
    pthread_mutex_init(&s.write_mu, NULL);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (cert)
        flags |= MHD_USE_TLS;
    struct MHD_OptionItem tls_opts[] = {
        { MHD_OPTION_HTTPS_MEM_CERT, 0, cert },
        { MHD_OPTION_HTTPS_MEM_KEY, 0, key },
        { MHD_OPTION_END, 0, NULL },
    };
    struct MHD_Daemon *d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, &s,
            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, &s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, &s, MHD_OPTION_NOTIFY_CONNECTION,
            on_connection, &s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, s.o.max_head,
            MHD_OPTION_CONNECTION_LIMIT, s.o.max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
            s.o.timeout, MHD_OPTION_THREAD_STACK_SIZE, (size_t)(1u << 20),
            MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024, MHD_OPTION_ARRAY,
            cert ? tls_opts : tls_opts + 2, MHD_OPTION_END);
    int ret = 0;
    if (d == NULL) {
        ret = tide_error_set(
                TIDE_EIO, "cannot serve on %s (address in use, or TLS files not PEM?)", s.o.listen);
        goto done;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    char host[128];
    snprintf(host, sizeof host, "%s", s.o.listen);
    char *colon = strrchr(host, ':');
    if (colon)
        *colon = '\0';
    tide__cache_start(&s);
    tide__ui_start(&s);
    if (tide__ui_dir())
        logf_(&s, "web UI from %s", tide__ui_dir());
    else
        logf_(&s, "no web UI bundle found (scripts/setup.sh builds it into build/ui)");
    tide__stream_start(&s);
    tide_workspace_set_cancel(ws, &s.cancel); /* an API write still running after the grace */
    tide__sched_start(&s);                    /* with --no-schedule: the jobs shown, none run */
    logf_(&s, "listening on %s://%s:%u", cert ? "https" : "http", host,
            di ? (unsigned)di->port : 0u);
    while (!stop_flag) {
        struct pollfd p = { stop_pipe[0], POLLIN, 0 };
        int n = poll(&p, 1, 1000);
        if (n < 0 && errno != EINTR)
            break;
        watchdog(&s);
    }
    /* stop: no new connection and no new scheduled job, then let in-flight requests (and
     * streams, which see stopping), running hunts and the scheduled job under way finish
     * within the grace time; what still runs then is cancelled (hunts store nothing, a pull
     * keeps the pages stored before) */
    s.stopping = 1;
    tide__sched_quiesce();
    logf_(&s, "stopping: finishing %llu request(s) in flight, %d hunt(s)%s",
            (unsigned long long)__atomic_load_n(&s.active, __ATOMIC_RELAXED), tide__hunts_running(),
            tide__sched_busy() ? ", a scheduled job" : "");
    MHD_socket ls = MHD_quiesce_daemon(d);
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    int64_t until = tide__srv_mono_ms() + (int64_t)(s.o.grace * 1000);
    while ((__atomic_load_n(&s.active, __ATOMIC_RELAXED) > 0 || tide__hunts_running() > 0 ||
                   tide__sched_busy()) &&
            tide__srv_mono_ms() < until) {
        struct timespec t = { 0, 20 * 1000 * 1000 };
        nanosleep(&t, NULL);
    }
    if (tide__hunts_running() > 0 || tide__sched_busy())
        logf_(&s, "grace time over: cancelling %d hunt(s)%s", tide__hunts_running(),
                tide__sched_busy() ? " and the scheduled job" : "");
    s.cancel = 1;
    MHD_stop_daemon(d);
    tide__sched_stop();
    tide__stream_stop();
    tide__cache_stop();
    tide__hunts_shutdown();
    tide_workspace_set_cancel(ws, NULL);
    tide__ui_stop();
    logf_(&s, "stopped");
done:
    for (size_t i = 0; i < s.npool; i++)
        reads_close(s.pool[i]);
    free(s.pool);
    pthread_mutex_destroy(&s.pool_mu);
    pthread_mutex_destroy(&s.write_mu);
    close(stop_pipe[0]);
    close(stop_pipe[1]);
    stop_pipe[0] = stop_pipe[1] = -1;
    stop_flag = 0;
    tide__taxii_teardown();
    free(cert);
    free(key);
    return ret;
}
