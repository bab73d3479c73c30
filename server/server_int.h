/*
 * server_int.h - what the files of server/ share: the server's state, one request, its reply,
 * and the route table (routes.c) that server.c dispatches on and docs/server.md and
 * server/openapi.json describe.
 */
#ifndef TIDE_SERVER_INT_H
#define TIDE_SERVER_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tide.h"
#include "tide/auth.h"
#include "tide/reads.h"
#include "tide_server.h"

struct MHD_Connection;

typedef struct srv srv;

/* What a route needs of its caller: a permission (tide/auth.h), or: */
#define PERM_NONE (-1) /* no key (health) */
#define PERM_KEY  (-2) /* any valid key (the OpenAPI document) */

/* Body caps of a route */
#define BODY_NONE  0 /* no body expected (a body is refused) */
#define BODY_SMALL 1 /* up to opts.max_small_body */
#define BODY_LARGE 2 /* up to opts.max_body (intel uploads) */

#define MAX_PARAMS 2

typedef struct {
    unsigned status;
    char *body; /* malloc'd, or NULL */
    size_t len;
    const char *type;  /* Content-Type; NULL: application/json */
    char etag[72];     /* "" or a quoted entity tag */
    const char *allow; /* Allow header of a 405 */
    ssize_t (*stream)(void *ctx, uint64_t pos, char *buf, size_t max); /* SSE: content reader */
    void *stream_ctx;
    void (*stream_free)(void *ctx);
    bool page;            /* a page of the web UI: Content-Security-Policy, no framing (ui.c) */
    char cookie[192];     /* "" or a Set-Cookie header (ui.c: the session) */
    const char *www_auth; /* WWW-Authenticate of a 401; NULL: Bearer realm="tide" */
    char taxii_first[32], taxii_last[32]; /* "" or X-TAXII-Date-Added-First / -Last */
} reply;

typedef struct route route;

typedef struct {
    struct MHD_Connection *conn;
    srv *s;
    const route *rt;
    char *params[MAX_PARAMS]; /* {id} ... of the path, decoded; malloc'd */
    bool authed;
    tide_key_info key;
    tide_store *store; /* this request's read connection (from the pool) */
    tide_reads *rd;    /* ... and its reads, with their gates' caches */
    char *body;
    size_t len, cap, max;
    bool too_big;
    int64_t start_ms; /* the head arrived (monotonic) */
    bool head_only;
    char *audit_target; /* what a write changed (malloc'd), for the audit log */
    char *audit_detail;
    void *taxii; /* a TAXII request's state (taxii.c), freed by taxii_free */
    void (*taxii_free)(void *taxii);
} req;

struct route {
    const char *method;
    const char *path; /* segments; "{name}" matches one segment */
    int perm;
    int body;
    bool write; /* recorded in the audit log */
    void (*fn)(req *r, reply *out);
};

extern const route tide__routes[];
extern const size_t tide__nroutes;

/* The server's state shared with the routes (server.c). */
struct srv {
    tide_workspace *ws;
    tide_server_opts o;
    pthread_mutex_t pool_mu; /* the read connections not in use */
    tide_reads **pool;       /* each on its own store connection */
    size_t npool, cappool;
    pthread_mutex_t write_mu; /* one write (ingest, case change ...) at a time on ws */
    volatile int stopping;
    volatile int cancel; /* the grace time is over: long work (hunts, scheduled jobs) stops */
    int64_t started_ms;
    /* counters for /metrics (atomic) */
    uint64_t requests, errors_4xx, errors_5xx, active, stream_clients;
};

/* The monotonic clock, ms. */
int64_t tide__srv_mono_ms(void);

/* Routes of work.c (cases, hunts, metrics) and stream.c (the live stream). */
void tide__route_cases(req *r, reply *out);
void tide__route_case(req *r, reply *out);
void tide__route_case_open(req *r, reply *out);
void tide__route_case_host(req *r, reply *out);
void tide__route_case_lessons(req *r, reply *out);
void tide__route_case_close(req *r, reply *out);
void tide__route_case_share(req *r, reply *out);
void tide__route_metrics(req *r, reply *out);
void tide__route_hunt_start(req *r, reply *out);
void tide__route_hunt_get(req *r, reply *out);
void tide__route_stream(req *r, reply *out);
/* cache.c: verified keys by Authorization header, lookup answers by (value, ceiling), valid
 * while the intel generation / keys table the watcher thread reads are unchanged (and for a
 * few seconds at most). tide__cache_gen is -1 when unknown (then nothing is cached). */
void tide__cache_start(srv *s);
void tide__cache_stop(void);
bool tide__cache_key_get(const char *header, tide_key_info *out);
void tide__cache_key_put(const char *header, const tide_key_info *key);
int64_t tide__cache_gen(void);
char *tide__cache_lookup_get(const char *value, int ceiling, size_t *len);
void tide__cache_lookup_put(const char *value, int ceiling, int64_t gen, const char *json);
/* ui.c: the web UI's static assets and sessions. tide__ui_session_auth: for a request without
 * an Authorization header, 1 and the session's "Bearer KEY" in auth when its cookie names a
 * live session (and, on a method other than GET, its X-CSRF-Token header matches), 0 without a
 * session cookie, -1 an unknown or expired session, -2 a missing or wrong CSRF token. */
void tide__ui_start(srv *s);
void tide__ui_stop(void);
const char *tide__ui_dir(void);
void tide__ui_static(req *r, const char *url, const char *method, reply *out);
int tide__ui_session_auth(req *r, char *auth, size_t cap);
void tide__route_session_new(req *r, reply *out);
void tide__route_session_get(req *r, reply *out);
void tide__route_session_end(req *r, reply *out);
/* The live stream's broadcaster thread, and the hunts' threads at stop (tide__hunts_running:
 * how many still run, for the grace wait; s->cancel stops them). */
void tide__stream_start(srv *s);
void tide__stream_stop(void);
void tide__hunts_shutdown(void);
int tide__hunts_running(void);
/* schedule.c: the scheduler's thread (feed pulls, export targets, recovery verification), its
 * route and the feed routes. tide__sched_quiesce: start no new job; tide__sched_busy: a job is
 * running; tide__sched_stop: join the thread (s->cancel cuts a job short). */
void tide__sched_start(srv *s);
void tide__sched_quiesce(void);
bool tide__sched_busy(void);
void tide__sched_stop(void);
void tide__route_schedule(req *r, reply *out);
void tide__route_feeds(req *r, reply *out);
void tide__route_feed_pull(req *r, reply *out);
void tide__route_feed_remove(req *r, reply *out);
void tide__route_feed_add(req *r, reply *out);
void tide__sched_wake(void); /* look at the registry now (a feed was added) */
/* A line for the operator (opts.on_log). */
void tide__srv_log(srv *s, const char *fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 2, 3)))
#endif
        ;

/* taxii.c: the TAXII 2.1 routes under /taxii2/ (their own errors, media types and auth
 * answers). tide__taxii_head: on the head of a request, 1 when out holds the answer (an
 * error), 0 to read the body and call r->rt->fn; tide__taxii_too_big the answer to a body
 * over the cap. tide__srv_authenticate (server.c): 0 and r->key, or < 0. */
bool tide__taxii_path(const char *url);
extern const char *const tide__taxii_routes[][2]; /* {method, path} */
extern const size_t tide__ntaxii_routes;
int tide__taxii_head(req *r, const char *url, const char *method, reply *out);
void tide__taxii_too_big(req *r, reply *out);
int tide__srv_authenticate(req *r);

/* The reads of a store connection for this thread's request (from the pool, or a new one);
 * NULL with the error recorded. The pool keeps them, with their gates' caches. */
tide_reads *tide__srv_reads_get(srv *s);
void tide__srv_reads_put(srv *s, tide_reads *rd);

/* Replies */
void tide__reply_json(reply *out, unsigned status, char *json); /* takes json */
void tide__reply_error(reply *out, unsigned status, const char *fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 3, 4)))
#endif
        ;
/* The reply for a library error: 404 for TIDE_ENOTFOUND, 400 for input errors, 500 else. */
void tide__reply_lib_error(reply *out, int rc);

/* A query parameter of the request (decoded), or NULL. */
const char *tide__req_arg(req *r, const char *name);
/* A header of the request, or NULL. */
const char *tide__req_header(req *r, const char *name);

/* The OpenAPI document (openapi.c, generated from server/openapi.json). */
extern const char tide__openapi_json[];
extern const size_t tide__openapi_len;

#endif
