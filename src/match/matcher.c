/*
 * matcher.c - turns telemetry events into sightings against a match index.
 *
 * Each observation of an event is looked up; an indicator entry matched by several
 * observations of one event gives one sighting. Entries of non-simple patterns (an AND of
 * several comparisons, qualifiers ...) are only candidates: the event is rendered as a STIX
 * observed-data bundle and the whole pattern is evaluated on it (patterns parsed once per
 * context and kept). Observed values on a warninglist suppress the sighting as well.
 *
 * Indicators found by the literal fragments of their LIKE / MATCHES comparisons (the index's
 * fragment section) are looked for in the observed values of the kinds they apply to, through
 * a filter over 3-byte grams, each hit checked against the whole fragment; a hit is a
 * candidate like a key's. Patterns that take more than one observation (AND / FOLLOWEDBY of
 * observation expressions, REPEATS) are decided on a bounded window of candidate events per
 * host x indicator (match.h, TIDE_MATCH_WINDOW_*).
 *
 * Lookups are pipelined across events. The index is tens of MB, so nearly every probe misses
 * the caches; in the pipeline those misses overlap across events instead of following one
 * another (twice the events per second on the reference). Two ways in:
 *  - tide_matcher_batch (tide match, with tide_tel_next_batch): the events of a batch are read
 *    in place; the probes (lookup.c) of all of them are created with their cache lines
 *    prefetched, then all take their second step (filter test, table slot or segment
 *    prefetch); the few left are listed, take their third step, then run and report, event
 *    by event, in order.
 *  - tide_matcher_push: one event at a time, copied into a ring of PIPE slots (the caller
 *    reuses its memory); PIPE/2 events later its probes take their second step, PIPE events
 *    later they run and report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "match/index_int.h"
#include "tide/pattern.h"
#include "util/util.h"

#define MAX_SEEN 256 /* distinct entries reported per event; more are rare and still reported */
#define BUDGET_S (TIDE_MATCH_BUDGET_MS / 1000.0)
#define PIPE     16 /* events in flight (the ring of in_flight slots) */

typedef struct {
    uint32_t ctx;
    bool window;     /* more than one observation: decided on a window of candidates */
    tide_pattern *p; /* NULL when the pattern does not parse: never confirmed */
    double spent;    /* seconds of evaluation with this index */
    uint32_t caps;   /* evaluations a cap stopped */
    bool over;       /* over its budget: candidates are counted, not evaluated */
} cached_pattern;

/* One event in flight: a copy of it (the reader's memory is reused for the next record), the
 * keys of its observations and their probes. */
typedef struct {
    tide_event ev;
    const char *file;
    int (*cb)(const tide_sighting *s, void *payload);
    void *payload;
    tide_observation *obs;
    size_t obs_cap;
    size_t *flen; /* length of each observation's field name */
    size_t flen_cap;
    char *bytes; /* copied strings, then the encoded keys */
    size_t bytes_cap;
    ix_probe *pr;
    size_t npr, pr_cap;
    bool stepped; /* second step of the probes done */
} in_flight;

/* The index's fragments, for the scan of observed values: each fragment filed under one of
 * its 3-byte grams (the one whose bucket was emptiest), a filter bit per gram hash. */
typedef struct {
    uint64_t *filter; /* 1 << fbits bits */
    uint32_t fmask;
    uint32_t *heads; /* bucket -> first fragment + 1 */
    uint32_t bmask;
    uint32_t *next;   /* fragment -> next in its bucket + 1 */
    uint8_t *gram_at; /* fragment -> offset of its gram */
    uint32_t kinds;   /* bit k: some fragment applies to kind k */
    size_t n;
} frag_rt;

/* A window of candidate events of one host x indicator (a pattern of several observations). */
typedef struct {
    char **ev; /* rendered bundles, oldest first */
    size_t *len;
    size_t n;
    size_t bytes;
    uint64_t used; /* m->wtick when last added to */
} window;

struct tide_matcher {
    const tide_match_index *ix;
    frag_rt fr;
    tide_buf low;     /* a lower-cased observed value */
    tide_strmap wmap; /* host \x1f indicator id -> window */
    window *wins;
    size_t nwins, capwins;
    uint64_t wtick;
    tide_buf wod;  /* one event rendered for a window */
    tide_buf wall; /* a window as the evaluator's input */
    const tide_warninglists *wl;
    uint32_t seen[MAX_SEEN];
    size_t nseen;
    cached_pattern *pats;
    size_t npats, cappats;
    tide_buf od; /* observed-data rendering of the current event */
    bool od_ready;
    in_flight ring[PIPE];
    size_t head, count; /* oldest event in flight, number in flight */
    /* tide_matcher_batch: the keys and probes of a batch, and where each event's probes start */
    uint8_t *bkeys;
    size_t bkeys_cap;
    ix_probe *bpr;
    size_t bpr_cap;
    size_t *bstart;
    size_t bstart_cap;
    uint32_t *blive; /* the probes of a batch left after the second step */
    size_t blive_cap;
    int deferred_rc; /* a callback's stop value from a flush inside tide_matcher_swap */
    void (*on_undecided)(const tide_undecided *u, void *payload);
    void *undecided_payload;
    tide_matcher_stats st;
    char scratch[IX_MAX_KEY + 1];
};

static void frags_free(frag_rt *f)
{
    tide__free(f->filter);
    tide__free(f->heads);
    tide__free(f->next);
    tide__free(f->gram_at);
    memset(f, 0, sizeof(*f));
}

static uint32_t gram_hash(const uint8_t *p)
{
    uint32_t g = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
    return (g * 0x9E3779B1u) >> 8;
}

/* File the index's fragments (none: nothing to do, and the scan is never run). */
static int frags_build(tide_matcher *m)
{
    frag_rt *f = &m->fr;
    frags_free(f);
    size_t n = (size_t)m->ix->h->nfrags;
    if (n == 0)
        return 0;
    unsigned fbits = 16, bbits = 8;
    while (fbits < 24 && ((size_t)1 << fbits) < 16 * n)
        fbits++;
    while (bbits < 22 && ((size_t)1 << bbits) < n)
        bbits++;
    f->filter = tide__calloc(((size_t)1 << fbits) / 64, sizeof(uint64_t));
    f->heads = tide__calloc((size_t)1 << bbits, sizeof(uint32_t));
    f->next = tide__calloc(n, sizeof(uint32_t));
    f->gram_at = tide__calloc(n, 1);
    uint32_t *count = tide__calloc((size_t)1 << bbits, sizeof(uint32_t));
    if (!f->filter || !f->heads || !f->next || !f->gram_at || !count) {
        tide__free(count);
        frags_free(f);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    f->fmask = (uint32_t)(((size_t)1 << fbits) - 1);
    f->bmask = (uint32_t)(((size_t)1 << bbits) - 1);
    for (size_t i = 0; i < n; i++) {
        const ix_frag *x = &m->ix->frags[i];
        const uint8_t *s = (const uint8_t *)m->ix->pool + x->off;
        /* the gram (among the first 256) whose bucket holds the fewest fragments so far */
        size_t best = 0, last = x->len - 3 < 255 ? x->len - 3 : 255;
        for (size_t k = 1; k <= last; k++)
            if (count[gram_hash(s + k) & f->bmask] < count[gram_hash(s + best) & f->bmask])
                best = k;
        uint32_t h = gram_hash(s + best);
        f->filter[(h & f->fmask) / 64] |= (uint64_t)1 << (h & f->fmask) % 64;
        f->next[i] = f->heads[h & f->bmask];
        f->heads[h & f->bmask] = (uint32_t)i + 1;
        count[h & f->bmask]++;
        f->gram_at[i] = (uint8_t)best;
        f->kinds |= x->kinds;
    }
    tide__free(count);
    f->n = n;
    return 0;
}

int tide_matcher_new(tide_matcher **out, const tide_match_index *ix, const tide_warninglists *wl)
{
    *out = NULL;
    tide_matcher *m = tide__calloc(1, sizeof(*m));
    TIDE_CHECK_ALLOC(m);
    m->ix = ix;
    m->wl = wl;
    m->wmap = (tide_strmap)TIDE_STRMAP_INIT;
    int rc = frags_build(m);
    if (rc < 0) {
        tide_matcher_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

static void drop_patterns(tide_matcher *m)
{
    for (size_t i = 0; i < m->npats; i++)
        tide_pattern_free(m->pats[i].p);
    m->npats = 0;
}

const tide_match_index *tide_matcher_swap(tide_matcher *m, const tide_match_index *ix)
{
    /* the events in flight were read before the swap: they are matched against the old index */
    int rc = tide_matcher_flush(m);
    if (rc && !m->deferred_rc)
        m->deferred_rc = rc;
    const tide_match_index *old = m->ix;
    m->ix = ix;
    drop_patterns(m); /* cached by context number, which is per index */
    if (frags_build(m) < 0)
        frags_free(&m->fr); /* out of memory: no fragment candidates with this index */
    return old;
}

void tide_matcher_free(tide_matcher *m)
{
    if (m == NULL)
        return;
    drop_patterns(m);
    frags_free(&m->fr);
    for (size_t i = 0; i < m->nwins; i++) {
        for (size_t k = 0; k < m->wins[i].n; k++)
            tide__free(m->wins[i].ev[k]);
        tide__free(m->wins[i].ev);
        tide__free(m->wins[i].len);
    }
    tide__free(m->wins);
    tide__strmap_free(&m->wmap);
    tide__buf_free(&m->wod);
    tide__buf_free(&m->wall);
    tide__buf_free(&m->low);
    for (size_t i = 0; i < PIPE; i++) {
        tide__free(m->ring[i].obs);
        tide__free(m->ring[i].flen);
        tide__free(m->ring[i].bytes);
        tide__free(m->ring[i].pr);
    }
    tide__free(m->bkeys);
    tide__free(m->bpr);
    tide__free(m->bstart);
    tide__free(m->blive);
    tide__free(m->pats);
    tide__buf_free(&m->od);
    tide__free(m);
}

/* ---- non-simple patterns ---- */

static int json_str(tide_buf *b, const char *s, size_t n)
{
    TIDE_CHECK(tide__buf_putc(b, '"'));
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            TIDE_CHECK(tide__buf_putc(b, '\\'));
            TIDE_CHECK(tide__buf_putc(b, (char)c));
        } else if (c < 0x20) {
            TIDE_CHECK(tide__buf_printf(b, "\\u%04x", c));
        } else {
            TIDE_CHECK(tide__buf_putc(b, (char)c));
        }
    }
    return tide__buf_putc(b, '"');
}

/* A value in the form the index compared it in: names, hashes and e-mail addresses are
 * case-insensitive (a DNS name is the same name in any case; logs such as Sysmon write hashes
 * in upper case), so they are rendered lower-case, domains without a trailing dot. */
static int json_canon(tide_buf *b, const tide_observation *o)
{
    tide_obs_kind k = o->kind;
    if (k != TIDE_OBS_DOMAIN && k != TIDE_OBS_EMAIL && k != TIDE_OBS_MD5 && k != TIDE_OBS_SHA1 &&
            k != TIDE_OBS_SHA256 && k != TIDE_OBS_SHA512 && k != TIDE_OBS_X509_SHA1)
        return json_str(b, o->value, o->len);
    char tmp[1024];
    size_t n = o->len < sizeof(tmp) ? o->len : sizeof(tmp);
    for (size_t i = 0; i < n; i++) {
        char c = o->value[i];
        tmp[i] = (c >= 'A' && c <= 'Z') ? (char)(c | 0x20) : c;
    }
    while (k == TIDE_OBS_DOMAIN && n > 0 && tmp[n - 1] == '.')
        n--;
    return json_str(b, tmp, n);
}

static const char *hash_name(tide_obs_kind k)
{
    switch (k) {
        case TIDE_OBS_MD5: return "MD5";
        case TIDE_OBS_SHA1: return "SHA-1";
        case TIDE_OBS_SHA256: return "SHA-256";
        case TIDE_OBS_SHA512: return "SHA-512";
        default: return NULL;
    }
}

static const char *sco_type(tide_obs_kind k)
{
    switch (k) {
        case TIDE_OBS_IPV4: return "ipv4-addr";
        case TIDE_OBS_IPV6: return "ipv6-addr";
        case TIDE_OBS_DOMAIN: return "domain-name";
        case TIDE_OBS_URL:
        case TIDE_OBS_URL_PATH: return "url"; /* a request target without its host */
        case TIDE_OBS_EMAIL: return "email-addr";
        case TIDE_OBS_IP_PORT: return "network-traffic";
        case TIDE_OBS_X509_SHA1: return "x509-certificate";
        default: return NULL;
    }
}

#define UUID_FMT  "%08x-0000-4000-8000-%012zx"
#define UUID_FMT2 "%08x-0001-4000-8000-%012zx"

/* The event as one observed-data with its SCOs, for tide_pattern_match_json (STIX 2.1):
 * one SCO per observation, the hashes together in one file object. seq goes into every id, so
 * that events rendered with different ones can be evaluated together (a window). */
static int render_to(tide_buf *b, const tide_event *ev, unsigned seq)
{
    tide__buf_clear(b);
    char ts[32];
    tide__time_format(ev->ts_us > 0 ? ev->ts_us / 1000 : 0, ts);
    TIDE_CHECK(tide__buf_printf(b,
            "{\"type\":\"bundle\",\"id\":\"bundle--" UUID_FMT "\",\"objects\":["
            "{\"type\":\"observed-data\",\"spec_version\":\"2.1\","
            "\"id\":\"observed-data--" UUID_FMT "\",\"first_observed\":\"%s\","
            "\"last_observed\":\"%s\",\"number_observed\":1,\"object_refs\":[",
            seq, (size_t)0, seq, (size_t)0, ts, ts));
    bool any_hash = false;
    size_t nref = 0;
    for (size_t i = 0; i < ev->nobs; i++) {
        const char *type = sco_type(ev->obs[i].kind);
        if (hash_name(ev->obs[i].kind))
            any_hash = true;
        if (type)
            TIDE_CHECK(
                    tide__buf_printf(b, "%s\"%s--" UUID_FMT "\"", nref++ ? "," : "", type, seq, i));
    }
    if (any_hash)
        TIDE_CHECK(tide__buf_printf(b, "%s\"file--" UUID_FMT "\"", nref ? "," : "", seq, ev->nobs));
    TIDE_CHECK(tide__buf_puts(b, "]}"));
    for (size_t i = 0; i < ev->nobs; i++) {
        const tide_observation *o = &ev->obs[i];
        const char *type = sco_type(o->kind);
        if (type == NULL)
            continue;
        TIDE_CHECK(tide__buf_printf(
                b, ",{\"type\":\"%s\",\"id\":\"%s--" UUID_FMT "\"", type, type, seq, i));
        if (o->kind == TIDE_OBS_IP_PORT) {
            /* "1.2.3.4:449" / "[2001:db8::1]:443" -> network-traffic to an address SCO */
            const char *colon = NULL;
            for (size_t k = o->len; k > 0 && colon == NULL; k--)
                if (o->value[k - 1] == ':')
                    colon = o->value + k - 1;
            const char *a = o->value;
            size_t alen = colon ? (size_t)(colon - a) : 0;
            if (alen >= 2 && a[0] == '[') {
                a++;
                alen -= 2;
            }
            const char *port = colon ? colon + 1 : "";
            int plen = colon ? (int)(o->value + o->len - port) : 0;
            bool portok = plen > 0 && plen <= 5;
            for (int k = 0; k < plen; k++)
                portok = portok && port[k] >= '0' && port[k] <= '9';
            const char *at = memchr(a, ':', alen) ? "ipv6-addr" : "ipv4-addr";
            if (!portok || alen == 0) {
                TIDE_CHECK(tide__buf_putc(b, '}'));
                continue;
            }
            TIDE_CHECK(tide__buf_printf(b,
                    ",\"dst_ref\":\"%s--" UUID_FMT2 "\",\"dst_port\":%.*s,\"protocols\":[\"tcp\"]},"
                    "{\"type\":\"%s\",\"id\":\"%s--" UUID_FMT2 "\",\"value\":",
                    at, seq, i, plen, port, at, at, seq, i));
            TIDE_CHECK(json_str(b, a, alen));
            TIDE_CHECK(tide__buf_putc(b, '}'));
        } else if (o->kind == TIDE_OBS_X509_SHA1) {
            TIDE_CHECK(tide__buf_puts(b, ",\"hashes\":{\"SHA-1\":"));
            TIDE_CHECK(json_str(b, o->value, o->len));
            TIDE_CHECK(tide__buf_puts(b, "}}"));
        } else {
            TIDE_CHECK(tide__buf_puts(b, ",\"value\":"));
            TIDE_CHECK(json_canon(b, o));
            TIDE_CHECK(tide__buf_putc(b, '}'));
        }
    }
    if (any_hash) {
        TIDE_CHECK(tide__buf_printf(b,
                ",{\"type\":\"file\",\"id\":\"file--" UUID_FMT "\",\"hashes\":{", seq, ev->nobs));
        bool first = true;
        for (size_t i = 0; i < ev->nobs; i++) {
            const char *hn = hash_name(ev->obs[i].kind);
            if (hn == NULL)
                continue;
            TIDE_CHECK(tide__buf_printf(b, "%s\"%s\":", first ? "" : ",", hn));
            TIDE_CHECK(json_canon(b, &ev->obs[i]));
            first = false;
        }
        TIDE_CHECK(tide__buf_puts(b, "}}"));
    }
    return tide__buf_puts(b, "]}");
}

static int render_event(tide_matcher *m, const tide_event *ev)
{
    TIDE_CHECK(render_to(&m->od, ev, 0));
    m->od_ready = true;
    return 0;
}

/* The parsed pattern of hit's context, and its budget (NULL when out of memory). */
static cached_pattern *pattern_for(tide_matcher *m, const tide_match_hit *hit)
{
    uint32_t ctx = m->ix->entries[hit->entry].ctx;
    for (size_t i = 0; i < m->npats; i++)
        if (m->pats[i].ctx == ctx)
            return &m->pats[i];
    if (m->npats == m->cappats) {
        size_t cap = m->cappats ? m->cappats * 2 : 16;
        cached_pattern *p = tide__realloc(m->pats, cap * sizeof(*p));
        if (p == NULL)
            return NULL;
        m->pats = p;
        m->cappats = cap;
    }
    tide_pattern *p = NULL;
    if (tide_pattern_parse(&p, hit->pattern, TIDE_STIX_21, NULL, 0) < 0)
        p = NULL;
    m->pats[m->npats] =
            (cached_pattern){ ctx, p ? tide_pattern_needs_window(p) : false, p, 0, 0, false };
    return &m->pats[m->npats++];
}

void tide_matcher_on_undecided(
        tide_matcher *m, void (*cb)(const tide_undecided *u, void *payload), void *payload)
{
    m->on_undecided = cb;
    m->undecided_payload = payload;
}

void tide_matcher_stats_get(const tide_matcher *m, tide_matcher_stats *out)
{
    *out = m->st;
}

/* The thread's CPU time: a budget of evaluation cost, which other processes on a loaded
 * machine do not use up (wall time did: a window's evaluations under a sanitizer on two busy
 * cores went over it) */
static double mono(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- events ---- */

typedef struct {
    tide_matcher *m;
    const char *file;
    const tide_event *ev;
    const tide_observation *obs;
    int (*cb)(const tide_sighting *s, void *payload);
    void *payload;
} event_ctx;

static void undecided(
        tide_matcher *m, event_ctx *c, const tide_match_hit *hit, const char *reason, bool over)
{
    m->st.undecided++;
    m->st.over_budget += over;
    if (m->on_undecided) {
        tide_undecided u = { c->ev, c->file, hit, reason, over };
        m->on_undecided(&u, m->undecided_payload);
    }
}

/* ---- windows of candidate events (patterns of several observations) ---- */

static void window_clear(tide_matcher *m, window *w)
{
    for (size_t k = 0; k < w->n; k++)
        tide__free(w->ev[k]);
    m->st.window_bytes -= w->bytes;
    if (w->n)
        m->st.windows--;
    w->n = 0;
    w->bytes = 0;
}

static int by_use(const void *a, const void *b)
{
    const window *x = *(window *const *)a, *y = *(window *const *)b;
    return x->used < y->used ? -1 : x->used > y->used;
}

/* All windows over TIDE_MATCH_WINDOW_BYTES: the least recently used are emptied until they
 * hold three quarters of it (their events counted as evicted). */
static void windows_trim(tide_matcher *m)
{
    window **v = tide__malloc(m->nwins * sizeof(*v));
    if (v == NULL) { /* out of memory: empty them all but the newest */
        for (size_t i = 0; i < m->nwins; i++)
            if (m->wins[i].used != UINT64_MAX) {
                m->st.window_evicted += m->wins[i].n;
                window_clear(m, &m->wins[i]);
            }
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < m->nwins; i++)
        if (m->wins[i].n)
            v[n++] = &m->wins[i];
    qsort(v, n, sizeof(*v), by_use);
    for (size_t i = 0; i < n && m->st.window_bytes > TIDE_MATCH_WINDOW_BYTES / 4 * 3; i++) {
        m->st.window_evicted += v[i]->n;
        window_clear(m, v[i]);
    }
    tide__free(v);
}

/* Add the event to the window of its host x the hit's indicator and lay the window out as the
 * evaluator's input (m->wall); NULL with the error set when out of memory. */
static window *window_add(tide_matcher *m, event_ctx *c, const tide_match_hit *hit)
{
    tide_buf *k = &m->wall; /* the key, for now */
    tide__buf_clear(k);
    if (tide__buf_put(k, c->ev->host ? c->ev->host : "", c->ev->host ? c->ev->host_len : 0) < 0 ||
            tide__buf_putc(k, '\x1f') < 0 || tide__buf_puts(k, hit->indicator_id) < 0)
        return NULL;
    if (m->nwins == m->capwins) {
        size_t cap = m->capwins ? m->capwins * 2 : 64;
        window *nw = tide__realloc(m->wins, cap * sizeof(*nw));
        if (nw == NULL) {
            tide_error_set(TIDE_ENOMEM, "out of memory");
            return NULL;
        }
        m->wins = nw;
        m->capwins = cap;
    }
    uint32_t at;
    int added = tide__strmap_put(&m->wmap, k->ptr, k->len, (uint32_t)m->nwins, &at);
    if (added < 0)
        return NULL;
    if (added)
        memset(&m->wins[m->nwins++], 0, sizeof(window));
    window *w = &m->wins[at];
    if (w->ev == NULL) {
        w->ev = tide__calloc(TIDE_MATCH_WINDOW_OBS, sizeof(*w->ev));
        w->len = tide__calloc(TIDE_MATCH_WINDOW_OBS, sizeof(*w->len));
        if (w->ev == NULL || w->len == NULL) {
            tide__free(w->ev);
            tide__free(w->len);
            w->ev = NULL;
            w->len = NULL;
            tide_error_set(TIDE_ENOMEM, "out of memory");
            return NULL;
        }
    }
    if (render_to(&m->wod, c->ev, (unsigned)++m->wtick) < 0)
        return NULL;
    char *copy = tide__malloc(m->wod.len);
    if (copy == NULL) {
        tide_error_set(TIDE_ENOMEM, "out of memory");
        return NULL;
    }
    memcpy(copy, m->wod.ptr, m->wod.len);
    if (w->n == TIDE_MATCH_WINDOW_OBS) { /* full: the oldest goes */
        tide__free(w->ev[0]);
        w->bytes -= w->len[0];
        m->st.window_bytes -= w->len[0];
        memmove(w->ev, w->ev + 1, (w->n - 1) * sizeof(*w->ev));
        memmove(w->len, w->len + 1, (w->n - 1) * sizeof(*w->len));
        w->n--;
        m->st.window_evicted++;
    }
    if (w->n == 0)
        m->st.windows++;
    w->ev[w->n] = copy;
    w->len[w->n++] = m->wod.len;
    w->bytes += m->wod.len;
    w->used = m->wtick;
    m->st.window_bytes += m->wod.len;
    m->st.window_candidates++;
    if (m->st.window_bytes > m->st.window_bytes_peak)
        m->st.window_bytes_peak = m->st.window_bytes;
    if (m->st.window_bytes > TIDE_MATCH_WINDOW_BYTES) {
        w->used = UINT64_MAX; /* the window just added to stays */
        windows_trim(m);
        w->used = m->wtick;
    }
    /* the evaluator's input: a JSON array of the window's bundles */
    tide__buf_clear(&m->wall);
    if (tide__buf_grow(&m->wall, w->bytes + w->n + 2) < 0 || tide__buf_putc(&m->wall, '[') < 0)
        return NULL;
    for (size_t i = 0; i < w->n; i++)
        if ((i && tide__buf_putc(&m->wall, ',') < 0) ||
                tide__buf_put(&m->wall, w->ev[i], w->len[i]) < 0)
            return NULL;
    if (tide__buf_putc(&m->wall, ']') < 0)
        return NULL;
    return w;
}

/* Whether the whole pattern of a non-simple indicator holds on the event. Candidates it cannot
 * decide are counted and told (undecided), never dropped silently; an indicator that spent its
 * budget is not evaluated any more. */
static bool confirm(tide_matcher *m, event_ctx *c, const tide_match_hit *hit)
{
    cached_pattern *cp = pattern_for(m, hit);
    if (cp == NULL) {
        undecided(m, c, hit, "out of memory", false);
        return false;
    }
    if (cp->p == NULL) {
        undecided(m, c, hit, "the pattern does not parse as STIX 2.1", false);
        return false;
    }
    if (cp->over) {
        undecided(m, c, hit, "the indicator is over its evaluation budget", true);
        return false;
    }
    window *w = NULL;
    if (cp->window) {
        if ((w = window_add(m, c, hit)) == NULL) {
            undecided(m, c, hit, tide_error_last(), false);
            return false;
        }
    } else if (!m->od_ready && render_event(m, c->ev) < 0) {
        undecided(m, c, hit, tide_error_last(), false);
        return false;
    }
    const tide_buf *in = w ? &m->wall : &m->od;
    bool matched = false;
    char err[256];
    double t0 = mono();
    int rc = tide_pattern_match_json(cp->p, in->ptr, in->len, &matched, err, sizeof(err));
    cp->spent += mono() - t0;
    m->st.evaluated++;
    if (rc == TIDE_ETOOBIG)
        cp->caps++;
    bool over = cp->caps >= TIDE_MATCH_BUDGET_CAPS || cp->spent >= BUDGET_S;
    if (over && !cp->over) {
        cp->over = true;
        m->st.indicators_over++;
    }
    if (rc < 0) {
        undecided(m, c, hit, err, false);
        return false;
    }
    if (w && matched) { /* one sighting per match: the window starts again */
        m->st.window_matches++;
        window_clear(m, w);
    }
    return matched;
}

static int on_hit(const tide_match_hit *hit, void *payload)
{
    event_ctx *c = payload;
    tide_matcher *m = c->m;
    for (size_t i = 0; i < m->nseen; i++)
        if (m->seen[i] == hit->entry)
            return 0;
    if (hit->pattern) {
        /* one evaluation per event and indicator, whichever of its entries (observables,
         * fragments) the event hit */
        const ix_entry *e = &m->ix->entries[hit->entry];
        for (size_t i = 0; i < m->nseen; i++) {
            const ix_entry *o = &m->ix->entries[m->seen[i]];
            if ((o->flags & IX_NONSIMPLE) && memcmp(o->uuid, e->uuid, 16) == 0 &&
                    ((o->flags ^ e->flags) & IX_ID_IN_POOL) == 0 &&
                    ((e->flags & IX_ID_IN_POOL) == 0 ||
                            strcmp(m->ix->pool + *(const uint32_t *)(const void *)o->uuid,
                                    m->ix->pool + *(const uint32_t *)(const void *)e->uuid) == 0))
                return 0;
        }
    }
    if (m->nseen < MAX_SEEN)
        m->seen[m->nseen++] = hit->entry;
    if (hit->pattern && !confirm(m, c, hit))
        return 0;
    tide_match_hit h = *hit;
    if (!h.suppressed && m->wl && c->obs->len < sizeof(m->scratch)) {
        memcpy(m->scratch, c->obs->value, c->obs->len);
        m->scratch[c->obs->len] = '\0';
        tide__str_lower(m->scratch);
        const char *wl = tide_warninglists_check(m->wl, c->obs->kind, m->scratch);
        if (wl) {
            h.suppressed = true;
            h.suppressed_by = wl;
        }
    }
    tide_sighting s = { c->ev, c->file, c->obs, &h };
    return c->cb(&s, c->payload);
}

/* The candidates of the index's fragments in the event's observed values (lower-cased; each
 * 3-byte gram tested in the filter, the fragments of its bucket compared whole). */
static int scan_frags(tide_matcher *m, const char *file, const tide_event *ev,
        int (*cb)(const tide_sighting *s, void *payload), void *payload)
{
    const frag_rt *f = &m->fr;
    event_ctx c = { m, file, ev, NULL, cb, payload };
    for (size_t i = 0; i < ev->nobs; i++) {
        const tide_observation *o = &ev->obs[i];
        if (!((f->kinds >> o->kind) & 1) || o->len < 3)
            continue;
        tide__buf_clear(&m->low);
        TIDE_CHECK(tide__buf_grow(&m->low, o->len + 1));
        uint8_t *v = (uint8_t *)m->low.ptr;
        for (size_t k = 0; k < o->len; k++) {
            char ch = o->value[k];
            v[k] = (uint8_t)(ch >= 'A' && ch <= 'Z' ? ch | 0x20 : ch);
        }
        c.obs = o;
        for (size_t at = 0; at + 3 <= o->len; at++) {
            uint32_t h = gram_hash(v + at);
            if (!((f->filter[(h & f->fmask) / 64] >> (h & f->fmask) % 64) & 1))
                continue;
            for (uint32_t j = f->heads[h & f->bmask]; j; j = f->next[j - 1]) {
                const ix_frag *x = &m->ix->frags[j - 1];
                size_t start = at - f->gram_at[j - 1];
                if (f->gram_at[j - 1] > at || !((x->kinds >> o->kind) & 1) ||
                        start + x->len > o->len ||
                        memcmp(v + start, m->ix->pool + x->off, x->len) != 0)
                    continue;
                bool seen = false;
                for (size_t s = 0; s < m->nseen && !seen; s++)
                    seen = m->seen[s] == x->entry;
                if (seen)
                    continue;
                m->st.fragment_candidates++;
                int rc = tide__ix_emit(m->ix, x->entry, on_hit, &c);
                if (rc)
                    return rc;
            }
        }
    }
    return 0;
}

/* ---- the pipeline ---- */

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 16;
    while (nc < need)
        nc *= 2;
    void *q = tide__realloc(*p, nc * size);
    TIDE_CHECK_ALLOC(q);
    *p = q;
    *cap = nc;
    return 0;
}

static char *put(char *dst, size_t *used, const char *src, size_t n, bool nul)
{
    char *at = dst + *used;
    if (n)
        memcpy(at, src, n);
    *used += n;
    if (nul)
        dst[(*used)++] = '\0';
    return at;
}

/* Room an encoded key may take beyond the value's own length (tide__ix_encode: an IPv6 key is
 * 16 bytes for "::1", ip-port 18, a URL gains a '/'). */
#define KEY_SLACK 24

/* Encode the observations obs[0..nobs) into keys at keys + *used (the caller reserved room:
 * each value's length plus KEY_SLACK) and append their probes to *pr (first step taken);
 * a probe's obs is the index of its observation. */
static int add_probes(tide_matcher *m, const tide_observation *obs, size_t nobs, uint8_t *keys,
        size_t *usedp, ix_probe **pr, size_t *npr, size_t *pr_cap)
{
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    size_t used = *usedp;
    for (size_t i = 0; i < nobs; i++) {
        const tide_observation *o = &obs[i];
        /* an address the reader parsed already is its own key: the probes point at the
         * observation (it stays put until the batch, or the ring slot, is done) */
        if (o->kind == TIDE_OBS_IPV4 && o->addr_len == 4) {
            if (*npr + 2 > *pr_cap)
                TIDE_CHECK(grow((void **)pr, pr_cap, *npr + 2, sizeof(**pr)));
            *npr += tide__ix_probes_v4(m->ix, o->addr, (uint32_t)i, *pr + *npr);
            continue;
        }
        /* the usual name: encoded and expanded inline (tide__ix_domain_key) */
        if (o->kind == TIDE_OBS_DOMAIN && o->len - 8 <= 56 && o->value[o->len - 1] != '.') {
            if (!(m->ix->h->kind_mask & (1u << TIDE_OBS_DOMAIN)))
                continue;
            if (*npr + 64 > *pr_cap)
                TIDE_CHECK(grow((void **)pr, pr_cap, *npr + 64, sizeof(**pr)));
            uint8_t *key = keys + used;
            uint64_t dots = tide__ix_domain_key(o->value, o->len, key);
            used += o->len;
            *npr += tide__ix_domain_probes(m->ix, key, o->len, dots, (uint32_t)i, *pr + *npr);
            continue;
        }
#ifdef __SSE2__
        /* hashes of the usual kinds: decoded and probed inline (tide__ix_hex_probe) */
        size_t want = o->kind == TIDE_OBS_MD5 || o->kind == TIDE_OBS_JA3 ? 16
                      : o->kind == TIDE_OBS_SHA1                         ? 20
                      : o->kind == TIDE_OBS_SHA256                       ? 32
                                                                         : 0;
        if (want && o->len == 2 * want) {
            if (!(m->ix->h->kind_mask & (1u << o->kind)))
                continue;
            if (*npr + 1 > *pr_cap)
                TIDE_CHECK(grow((void **)pr, pr_cap, *npr + 1, sizeof(**pr)));
            if (tide__ix_hex_probe(
                        m->ix, o->kind, o->value, want, keys + used, (uint32_t)i, *pr + *npr)) {
                used += want;
                (*npr)++;
            }
            continue;
        }
#endif
        if (!tide__ix_may_match(m->ix, o->kind))
            continue;
        const uint8_t *key;
        tide_obs_kind k;
        int len;
        if (o->kind == TIDE_OBS_IPV6 && o->addr_len == 16 && memcmp(o->addr, mapped, 12) != 0) {
            key = o->addr;
            k = TIDE_OBS_IPV6;
            len = 16;
        } else if (o->kind == TIDE_OBS_IP_PORT && o->addr_len == 6) {
            key = o->addr; /* address and port: the ip-port key as it is */
            k = TIDE_OBS_IP_PORT;
            len = 6;
        } else if (o->len > IX_MAX_KEY) {
            continue; /* not indexed: nothing can match */
        } else {
            key = keys + used;
            len = tide__ix_encode(o->kind, o->value, o->len, keys + used, &k);
            if (len > 0)
                used += (size_t)len;
        }
        if (len < 0)
            continue; /* not a valid value of its kind */
        for (;;) {
            size_t n = tide__ix_probes(m->ix, k, key, (size_t)len, *pr + *npr, *pr_cap - *npr);
            if (*npr + n <= *pr_cap) {
                for (size_t j = 0; j < n; j++)
                    (*pr)[*npr + j].obs = (uint32_t)i;
                *npr += n;
                break;
            }
            TIDE_CHECK(grow((void **)pr, pr_cap, *npr + n, sizeof(**pr)));
        }
    }
    *usedp = used;
    return 0;
}

/* Copy ev into slot f, encode its observations and create their probes (first step). */
static int admit(tide_matcher *m, in_flight *f, const char *file, const tide_event *ev,
        int (*cb)(const tide_sighting *s, void *payload), void *payload)
{
    size_t klen = ev->kind ? strlen(ev->kind) : 0;
    size_t need = ev->host_len + 1 + ev->user_len + 1 + klen + 1;
    TIDE_CHECK(grow((void **)&f->obs, &f->obs_cap, ev->nobs, sizeof(*f->obs)));
    TIDE_CHECK(grow((void **)&f->flen, &f->flen_cap, ev->nobs, sizeof(*f->flen)));
    for (size_t i = 0; i < ev->nobs; i++) {
        f->flen[i] = ev->obs[i].field ? strlen(ev->obs[i].field) : 0;
        need += 2 * ev->obs[i].len + KEY_SLACK + 1 + f->flen[i] + 1;
    }
    TIDE_CHECK(grow((void **)&f->bytes, &f->bytes_cap, need, 1));
    size_t used = 0;
    f->ev = *ev;
    f->ev.host = put(f->bytes, &used, ev->host ? ev->host : "", ev->host ? ev->host_len : 0, true);
    f->ev.user = ev->user ? put(f->bytes, &used, ev->user, ev->user_len, true) : NULL;
    f->ev.kind = ev->kind ? put(f->bytes, &used, ev->kind, klen, true) : NULL;
    for (size_t i = 0; i < ev->nobs; i++) {
        const tide_observation *o = &ev->obs[i];
        tide_observation *c = &f->obs[i];
        *c = *o;
        c->value = put(f->bytes, &used, o->value, o->len, false);
        c->field = o->field ? put(f->bytes, &used, o->field, f->flen[i], true) : NULL;
    }
    f->ev.obs = f->obs;
    f->file = file;
    f->cb = cb;
    f->payload = payload;
    f->npr = 0;
    f->stepped = false;
    return add_probes(m, f->obs, ev->nobs, (uint8_t *)f->bytes, &used, &f->pr, &f->npr, &f->pr_cap);
}

static void step(tide_matcher *m, in_flight *f)
{
    for (size_t i = 0; i < f->npr; i++)
        tide__ix_probe_step(m->ix, &f->pr[i]);
    f->stepped = true;
}

/* Run the (stepped) probes pr[0..npr) of ev and report its sightings. */
static int report(tide_matcher *m, const char *file, const tide_event *ev, const ix_probe *pr,
        size_t npr, int (*cb)(const tide_sighting *s, void *payload), void *payload)
{
    m->nseen = 0;
    m->od_ready = false;
    event_ctx c = { m, file, ev, NULL, cb, payload };
    for (size_t i = 0; i < npr; i++) {
        if (pr[i].op == IXP_NONE)
            continue;
        c.obs = &ev->obs[pr[i].obs];
        int rc = tide__ix_probe_run(m->ix, &pr[i], on_hit, &c);
        if (rc)
            return rc;
    }
    return m->fr.n ? scan_frags(m, file, ev, cb, payload) : 0;
}

/* report for the live probes pr[live[*j]], ... of one event (those before end), in order;
 * *j moves past them. */
static inline __attribute__((always_inline)) int report_live(tide_matcher *m, const char *file,
        const tide_event *ev, const ix_probe *pr, const uint32_t *live, size_t *j, size_t nlive,
        size_t end, int (*cb)(const tide_sighting *s, void *payload), void *payload)
{
    m->nseen = 0;
    m->od_ready = false;
    event_ctx c = { m, file, ev, NULL, cb, payload };
    for (; *j < nlive && live[*j] < end; (*j)++) {
        const ix_probe *p = &pr[live[*j]];
        c.obs = &ev->obs[p->obs];
        int rc = tide__ix_probe_run(m->ix, p, on_hit, &c);
        if (rc) {
            (*j)++;
            return rc;
        }
    }
    return 0;
}

/* Run the probes of f and report its sightings. */
static int finish(tide_matcher *m, in_flight *f)
{
    if (!f->stepped)
        step(m, f);
    return report(m, f->file, &f->ev, f->pr, f->npr, f->cb, f->payload);
}

int tide_matcher_push(tide_matcher *m, const char *file, const tide_event *ev,
        int (*cb)(const tide_sighting *s, void *payload), void *payload)
{
    int rc = 0;
    if (m->deferred_rc) {
        rc = m->deferred_rc;
        m->deferred_rc = 0;
        return rc;
    }
    if (m->count == PIPE) {
        in_flight *old = &m->ring[m->head];
        m->head = (m->head + 1) % PIPE;
        m->count--;
        if ((rc = finish(m, old)) != 0)
            return rc;
    }
    in_flight *f = &m->ring[(m->head + m->count) % PIPE];
    TIDE_CHECK(admit(m, f, file, ev, cb, payload));
    m->count++;
    /* the event half-way through the ring takes its second step */
    if (m->count > PIPE / 2)
        step(m, &m->ring[(m->head + m->count - 1 - PIPE / 2) % PIPE]);
    return 0;
}

int tide_matcher_flush(tide_matcher *m)
{
    int rc = 0;
    while (m->count > 0) {
        in_flight *f = &m->ring[m->head];
        m->head = (m->head + 1) % PIPE;
        m->count--;
        if ((rc = finish(m, f)) != 0) {
            m->count = 0; /* the caller stops: the rest is dropped */
            break;
        }
    }
    m->head = 0;
    if (rc == 0 && m->deferred_rc) {
        rc = m->deferred_rc;
        m->deferred_rc = 0;
    }
    return rc;
}

/* The three steps over the whole batch instead of a ring: each event's probes are created
 * (filter words prefetched), then all take their second step, then each event runs and
 * reports. The events are read in place: nothing is copied. */
int tide_matcher_batch(tide_matcher *m, const char *file, const tide_event *evs, size_t n,
        int (*cb)(const tide_sighting *s, void *payload), void *payload)
{
    int rc = tide_matcher_flush(m); /* events pushed before come first */
    if (rc)
        return rc;
    size_t need = 0;
    for (size_t e = 0; e < n; e++)
        for (size_t i = 0; i < evs[e].nobs; i++)
            need += evs[e].obs[i].len + KEY_SLACK;
    /* keys are reserved in full before any probe points into them */
    TIDE_CHECK(grow((void **)&m->bkeys, &m->bkeys_cap, need, 1));
    TIDE_CHECK(grow((void **)&m->bstart, &m->bstart_cap, n + 1, sizeof(*m->bstart)));
    size_t used = 0, npr = 0;
    for (size_t e = 0; e < n; e++) {
        m->bstart[e] = npr;
        TIDE_CHECK(add_probes(
                m, evs[e].obs, evs[e].nobs, m->bkeys, &used, &m->bpr, &npr, &m->bpr_cap));
    }
    m->bstart[n] = npr;
    TIDE_CHECK(grow((void **)&m->blive, &m->blive_cap, npr, sizeof(*m->blive)));
    /* the second step drops most probes (filter, block map): the rest are listed, in order,
     * and only they take the third step and run */
    size_t nlive = 0;
    for (size_t i = 0; i < npr; i++) {
        tide__ix_probe_step(m->ix, &m->bpr[i]);
        m->blive[nlive] = (uint32_t)i;
        nlive += m->bpr[i].op != IXP_NONE;
    }
    for (size_t j = 0; j < nlive; j++)
        tide__ix_probe_step2(m->ix, &m->bpr[m->blive[j]]);
    for (int step = 0; step < 4 && m->ix->h->nseg4; step++) /* IPv4 ranges: their steps */
        for (size_t j = 0; j < nlive; j++)
            tide__ix_probe_step3(m->ix, &m->bpr[m->blive[j]]);
    if (m->fr.n) { /* fragments to look for: every event, after its probes */
        for (size_t e = 0, j = 0; e < n; e++) {
            m->nseen = 0;
            m->od_ready = false;
            if (j < nlive && m->blive[j] < m->bstart[e + 1]) {
                rc = report_live(m, file, &evs[e], m->bpr, m->blive, &j, nlive, m->bstart[e + 1],
                        cb, payload);
                if (rc)
                    return rc;
            }
            if ((rc = scan_frags(m, file, &evs[e], cb, payload)) != 0)
                return rc;
        }
        return 0;
    }
    for (size_t j = 0, e = 0; j < nlive;) {
        while (m->bstart[e + 1] <= m->blive[j])
            e++; /* the event of live probe j */
        rc = report_live(
                m, file, &evs[e], m->bpr, m->blive, &j, nlive, m->bstart[e + 1], cb, payload);
        if (rc)
            return rc;
    }
    return 0;
}

int tide_matcher_event(tide_matcher *m, const char *file, const tide_event *ev,
        int (*cb)(const tide_sighting *s, void *payload), void *payload)
{
    int rc = tide_matcher_push(m, file, ev, cb, payload);
    int frc = tide_matcher_flush(m);
    return rc ? rc : frc;
}
