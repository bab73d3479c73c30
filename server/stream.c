/*
 * stream.c - GET /api/v1/sightings/stream: new sightings as server-sent events. One
 * broadcaster thread polls the store every second for sightings stored or counted again since
 * its last poll (whoever stored them: `tide match --follow` workers, ingests' retro-hunts, other
 * servers), once per TLP ceiling through tide_read_sightings, so that each version of an event
 * holds only what that ceiling admits (the indicator, its related names); each client reads the
 * version of its key's ceiling from a ring of the last 4096 events. Clients block in the
 * content reader (thread per connection) until an event, a heartbeat every 10 s, or the stop.
 * Event ids are the ring's sequence numbers: a client that reconnects with Last-Event-ID
 * resumes after the event it last got.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "server_int.h"

#define RING    4096
#define NLEVELS (TIDE_TLP_RED + 1)

typedef struct {
    uint64_t seq;
    char *json[NLEVELS]; /* the event under each ceiling; NULL: withheld there */
} event;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    event ring[RING];
    uint64_t next; /* seq of the next event */
    pthread_t thread;
    bool started;
    srv *s;
} B = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, { { 0, { NULL } } }, 1, 0, false,
    NULL };

static int64_t wall_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void push(char *json[NLEVELS])
{
    pthread_mutex_lock(&B.mu);
    event *e = &B.ring[B.next % RING];
    for (int l = 0; l < NLEVELS; l++) {
        free(e->json[l]);
        e->json[l] = json[l];
    }
    e->seq = B.next++;
    pthread_cond_broadcast(&B.cv);
    pthread_mutex_unlock(&B.mu);
}

/* one poll: the sightings updated since `since`, per ceiling; events for those not seen yet
 * (seen: "id:last_seen:live:retro" of what was sent) */
static void poll_once(tide_reads *rd, int64_t since, json_t *seen)
{
    json_t *lists[NLEVELS] = { NULL };
    tide_sighting_query q;
    memset(&q, 0, sizeof q);
    q.updated_since = since;
    q.include_suppressed = true;
    q.limit = 10000;
    /* Red first: each query is its own snapshot, and a sighting stored between two of them
     * must not be in red's list (which makes the events) and missing from a lower ceiling's as
     * if withheld there: that client would never get it. Queried after red, a lower ceiling
     * sees every row red saw; a row red missed is found by the next poll's overlap. */
    for (int l = NLEVELS; l-- > 0;) {
        char *js = NULL;
        if (tide_read_sightings(rd, &q, NULL, l, &js) == 0) {
            json_t *o = json_loads(js, 0, NULL);
            lists[l] = json_incref(json_object_get(o, "sightings"));
            json_decref(o);
        } else
            tide_error_clear();
        free(js);
    }
    /* by id, under each ceiling */
    json_t *by[NLEVELS];
    for (int l = 0; l < NLEVELS; l++) {
        by[l] = json_object();
        size_t i;
        json_t *v;
        json_array_foreach(lists[l], i, v)
        {
            char id[32];
            snprintf(
                    id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(v, "id")));
            json_object_set(by[l], id, v);
        }
    }
    size_t i;
    json_t *v;
    /* oldest first */
    for (i = json_array_size(lists[TIDE_TLP_RED]); i-- > 0;) {
        v = json_array_get(lists[TIDE_TLP_RED], i);
        char key[128], id[32];
        snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(v, "id")));
        snprintf(key, sizeof key, "%s:%s:%lld:%lld", id,
                json_string_value(json_object_get(v, "last_seen")),
                (long long)json_integer_value(json_object_get(v, "live_count")),
                (long long)json_integer_value(json_object_get(v, "retro_count")));
        if (json_object_get(seen, key))
            continue;
        json_object_set_new(seen, key, json_true());
        char *ev[NLEVELS];
        for (int l = 0; l < NLEVELS; l++) {
            json_t *x = json_object_get(by[l], id);
            ev[l] = x ? json_dumps(x, JSON_COMPACT) : NULL;
        }
        push(ev);
    }
    for (int l = 0; l < NLEVELS; l++) {
        json_decref(lists[l]);
        json_decref(by[l]);
    }
}

static void *broadcaster(void *arg)
{
    srv *s = arg;
    tide_store *st = NULL;
    tide_reads *rd = NULL;
    json_t *seen = json_object();
    int64_t wm = wall_ms();
    while (!s->stopping) {
        pthread_mutex_lock(&B.mu);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&B.cv, &B.mu, &until);
        pthread_mutex_unlock(&B.mu);
        if (s->stopping)
            break;
        int64_t t0 = wall_ms();
        if (__atomic_load_n(&s->stream_clients, __ATOMIC_RELAXED) == 0) {
            wm = t0; /* nobody listens: nothing to catch up on */
            continue;
        }
        if (st == NULL && tide_workspace_store_open(s->ws, &st) < 0) {
            tide_error_clear();
            continue;
        }
        if (rd == NULL && tide_reads_new(&rd, st) < 0) {
            tide_error_clear();
            continue;
        }
        /* 3 s of overlap: a writer's transaction may commit rows stamped before our last poll */
        poll_once(rd, wm - 3000, seen);
        wm = t0;
        if (json_object_size(seen) > 200000)
            json_object_clear(seen);
    }
    json_decref(seen);
    tide_reads_free(rd);
    tide_store_free(st);
    return NULL;
}

void tide__stream_start(srv *s)
{
    B.s = s;
    B.started = pthread_create(&B.thread, NULL, broadcaster, s) == 0;
}

void tide__stream_stop(void)
{
    pthread_mutex_lock(&B.mu);
    pthread_cond_broadcast(&B.cv);
    pthread_mutex_unlock(&B.mu);
    if (B.started)
        pthread_join(B.thread, NULL);
    B.started = false;
    pthread_mutex_lock(&B.mu);
    for (int i = 0; i < RING; i++)
        for (int l = 0; l < NLEVELS; l++) {
            free(B.ring[i].json[l]);
            B.ring[i].json[l] = NULL;
        }
    pthread_mutex_unlock(&B.mu);
}

typedef struct {
    srv *s;
    int ceiling;
    uint64_t next;
    int64_t last_out; /* ms */
    char *pend;       /* formatted, not yet sent */
    size_t plen, poff, pcap;
} client;

static int append(client *c, const char *fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 2, 3)))
#endif
        ;
static int append(client *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if (c->plen + (size_t)n + 1 > c->pcap) {
        size_t nc = c->pcap ? c->pcap : 8192;
        while (nc < c->plen + (size_t)n + 1)
            nc *= 2;
        char *b = realloc(c->pend, nc);
        if (b == NULL)
            return -1;
        c->pend = b;
        c->pcap = nc;
    }
    va_start(ap, fmt);
    vsnprintf(c->pend + c->plen, (size_t)n + 1, fmt, ap);
    va_end(ap);
    c->plen += (size_t)n;
    return 0;
}

static ssize_t client_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    client *c = cls;
    while (c->poff == c->plen) {
        c->poff = c->plen = 0;
        pthread_mutex_lock(&B.mu);
        if (!c->s->stopping && c->next >= B.next) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 1;
            pthread_cond_timedwait(&B.cv, &B.mu, &until);
        }
        if (c->s->stopping) {
            pthread_mutex_unlock(&B.mu);
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
        if (B.next > RING && c->next < B.next - RING) {
            append(c, "event: lost\ndata: {\"missed\":%llu}\n\n",
                    (unsigned long long)(B.next - RING - c->next));
            c->next = B.next - RING;
        }
        for (; c->next < B.next; c->next++) {
            const char *js = B.ring[c->next % RING].json[c->ceiling];
            if (js && append(c, "id: %llu\nevent: sighting\ndata: %s\n\n",
                              (unsigned long long)c->next, js) < 0)
                break;
        }
        pthread_mutex_unlock(&B.mu);
        int64_t now = tide__srv_mono_ms();
        if (c->plen == 0 && now - c->last_out >= 10000)
            append(c, ": keep-alive\n\n");
        if (c->plen)
            c->last_out = now;
    }
    size_t n = c->plen - c->poff < max ? c->plen - c->poff : max;
    memcpy(buf, c->pend + c->poff, n);
    c->poff += n;
    return (ssize_t)n;
}

static void client_free(void *cls)
{
    client *c = cls;
    __atomic_sub_fetch(&c->s->stream_clients, 1, __ATOMIC_RELAXED);
    free(c->pend);
    free(c);
}

void tide__route_stream(req *r, reply *out)
{
    client *c = calloc(1, sizeof *c);
    if (c == NULL) {
        tide__reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return;
    }
    c->s = r->s;
    c->ceiling = r->key.tlp_max;
    c->last_out = tide__srv_mono_ms();
    /* from now on; or, for a client coming back (EventSource sends the id of the last event
     * it got), from the event after it, when it is one of this server's (a larger id was
     * another run's: from now on) */
    const char *last = tide__req_header(r, "Last-Event-ID");
    char *end = NULL;
    unsigned long long after = last && *last >= '0' && *last <= '9' ? strtoull(last, &end, 10) : 0;
    pthread_mutex_lock(&B.mu);
    c->next = B.next;
    if (end && *end == '\0' && after < B.next)
        c->next = after + 1; /* more than the ring behind: the reader says `lost` */
    pthread_mutex_unlock(&B.mu);
    __atomic_add_fetch(&r->s->stream_clients, 1, __ATOMIC_RELAXED);
    /* the first bytes at once: the client knows it is connected */
    append(c, ": tide sightings stream, TLP up to %s\nretry: 2000\n\n", tide_tlp_name(c->ceiling));
    out->status = MHD_HTTP_OK;
    out->type = "text/event-stream";
    out->stream = client_read;
    out->stream_ctx = c;
    out->stream_free = client_free;
}
