/*
 * aggregate.c - live sightings aggregated per host x indicator x value between two writes to
 * the store, so that a stream of millions of matching events costs one upsert per pair and
 * flush, not one per event. The user names the events carried are gathered per pair too (up
 * to TIDE_SIGHTING_MAX_USERS each); an event without one costs a test.
 */
#include <string.h>

#include "match/index_int.h"
#include "tide/sightings.h"
#include "util/util.h"

typedef struct {
    uint32_t host, indicator_id, indicator, observed, field, file; /* arena offsets */
    tide_obs_kind kind;
    int64_t line, first, last, count;
    uint32_t nusers; /* distinct user names gathered (entries of users below) */
    bool suppressed;
} agg;

typedef struct {
    uint32_t agg, user, seq; /* agg index, arena offset of the name, order gathered */
} agg_user;

struct tide_sighting_batch {
    tide_strmap keys; /* host \x1f id \x1f value -> agg index */
    tide_strmap strs; /* interned strings -> offset in arena */
    tide_buf arena;
    agg *v;
    size_t n, cap;
    tide_buf key;
    tide_strmap ukeys; /* agg index (4 bytes) + user name -> 1: names already gathered */
    agg_user *u;
    size_t nu, ucap;
};

int tide_sighting_batch_new(tide_sighting_batch **out)
{
    *out = tide__calloc(1, sizeof(**out));
    TIDE_CHECK_ALLOC(*out);
    return 0;
}

static int intern(tide_sighting_batch *b, const char *s, size_t n, uint32_t *out)
{
    uint32_t off = (uint32_t)b->arena.len;
    int added = tide__strmap_put(&b->strs, s, n, off, out);
    TIDE_CHECK(added);
    if (added) {
        TIDE_CHECK(tide__buf_put(&b->arena, s, n));
        TIDE_CHECK(tide__buf_putc(&b->arena, '\0'));
    }
    return 0;
}

#define USER_MAX_LEN 256 /* longer "names" are not user names */

/* The user name of an event, once per pair: kept when it is a name (valid UTF-8, no control
 * characters, not too long), while the pair holds fewer than TIDE_SIGHTING_MAX_USERS. */
static int add_user(tide_sighting_batch *b, uint32_t idx, const char *user, size_t n)
{
    if (b->v[idx].nusers >= TIDE_SIGHTING_MAX_USERS || n == 0 || n > USER_MAX_LEN ||
            (n == 1 && user[0] == '-')) /* "-": the log's "no user" */
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)user[i] < 0x20 || user[i] == 0x7f)
            return 0;
    if (tide__utf8_invalid_at(user, n) != n)
        return 0;
    char k[4 + USER_MAX_LEN];
    memcpy(k, &idx, 4);
    memcpy(k + 4, user, n);
    uint32_t one;
    int added = tide__strmap_put(&b->ukeys, k, n + 4, 1, &one);
    TIDE_CHECK(added);
    if (!added)
        return 0;
    if (b->nu == b->ucap) {
        size_t cap = b->ucap ? b->ucap * 2 : 64;
        agg_user *v = tide__realloc(b->u, cap * sizeof(*v));
        TIDE_CHECK_ALLOC(v);
        b->u = v;
        b->ucap = cap;
    }
    agg_user au = { idx, 0, (uint32_t)b->nu };
    TIDE_CHECK(intern(b, user, n, &au.user));
    b->u[b->nu++] = au;
    b->v[idx].nusers++;
    return 0;
}

int tide_sighting_batch_add(tide_sighting_batch *b, const tide_sighting *s)
{
    const tide_match_hit *h = s->hit;
    const tide_event *ev = s->event;
    tide__buf_clear(&b->key);
    TIDE_CHECK(tide__buf_put(&b->key, ev->host, ev->host_len));
    TIDE_CHECK(tide__buf_putc(&b->key, '\x1f'));
    TIDE_CHECK(tide__buf_puts(&b->key, h->indicator_id));
    TIDE_CHECK(tide__buf_putc(&b->key, '\x1f'));
    TIDE_CHECK(tide__buf_put(&b->key, h->value, h->value_len));
    int64_t ts = ev->ts_us > 0 ? ev->ts_us / 1000 : tide__time_now_ms();
    uint32_t idx;
    int added = tide__strmap_put(&b->keys, b->key.ptr, b->key.len, (uint32_t)b->n, &idx);
    TIDE_CHECK(added);
    if (!added) {
        agg *a = &b->v[idx];
        a->count++;
        if (ts > a->last)
            a->last = ts;
        if (ts < a->first)
            a->first = ts;
        a->suppressed = h->suppressed;
        return ev->user ? add_user(b, idx, ev->user, ev->user_len) : 0;
    }
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        agg *v = tide__realloc(b->v, cap * sizeof(*v));
        TIDE_CHECK_ALLOC(v);
        b->v = v;
        b->cap = cap;
    }
    agg a;
    memset(&a, 0, sizeof(a));
    TIDE_CHECK(intern(b, ev->host, ev->host_len, &a.host));
    TIDE_CHECK(intern(b, h->indicator_id, strlen(h->indicator_id), &a.indicator_id));
    TIDE_CHECK(intern(b, h->value, h->value_len, &a.indicator));
    TIDE_CHECK(intern(b, s->obs->value, s->obs->len, &a.observed));
    TIDE_CHECK(intern(b, s->obs->field ? s->obs->field : "",
            s->obs->field ? strlen(s->obs->field) : 0, &a.field));
    TIDE_CHECK(intern(b, s->file ? s->file : "", s->file ? strlen(s->file) : 0, &a.file));
    a.kind = h->kind;
    a.line = (int64_t)ev->line;
    a.first = a.last = ts;
    a.count = 1;
    a.suppressed = h->suppressed;
    b->v[b->n++] = a;
    return ev->user ? add_user(b, (uint32_t)(b->n - 1), ev->user, ev->user_len) : 0;
}

size_t tide_sighting_batch_size(const tide_sighting_batch *b)
{
    return b->n;
}

static void reset(tide_sighting_batch *b)
{
    tide__strmap_free(&b->keys);
    tide__strmap_free(&b->strs);
    tide__strmap_free(&b->ukeys);
    tide__buf_clear(&b->arena);
    b->n = 0;
    b->nu = 0;
}

static int cmp_user(const void *x, const void *y)
{
    const agg_user *a = x, *b = y;
    if (a->agg != b->agg)
        return a->agg < b->agg ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq; /* first seen first */
}

/* The users of each pair as one '\n'-separated string in names; offs[i] its offset (or
 * UINT32_MAX when pair i has none). */
static int users_text(tide_sighting_batch *b, tide_buf *names, uint32_t *offs)
{
    for (size_t i = 0; i < b->n; i++)
        offs[i] = UINT32_MAX;
    if (b->nu == 0)
        return 0;
    qsort(b->u, b->nu, sizeof(*b->u), cmp_user);
    const char *A = b->arena.ptr;
    for (size_t i = 0; i < b->nu; i++) {
        const agg_user *u = &b->u[i];
        bool first = i == 0 || b->u[i - 1].agg != u->agg;
        if (first) {
            if (i > 0)
                TIDE_CHECK(tide__buf_putc(names, '\0'));
            offs[u->agg] = (uint32_t)names->len;
        } else {
            TIDE_CHECK(tide__buf_putc(names, '\n'));
        }
        TIDE_CHECK(tide__buf_puts(names, A + u->user));
    }
    return tide__buf_putc(names, '\0');
}

int tide_sighting_batch_flush(tide_sighting_batch *b, tide_store *store)
{
    if (b->n == 0)
        return 0;
    tide_sighting_rec *r = tide__calloc(b->n, sizeof(*r));
    TIDE_CHECK_ALLOC(r);
    uint32_t *uoff = NULL;
    tide_buf names = TIDE_BUF_INIT;
    if (b->nu) {
        uoff = tide__calloc(b->n, sizeof(*uoff));
        int urc = uoff ? users_text(b, &names, uoff) : TIDE_ENOMEM;
        if (urc < 0) {
            tide__free(uoff);
            tide__buf_free(&names);
            tide__free(r);
            return urc == TIDE_ENOMEM ? tide_error_set(TIDE_ENOMEM, "out of memory") : urc;
        }
    }
    const char *A = b->arena.ptr;
    for (size_t i = 0; i < b->n; i++) {
        const agg *a = &b->v[i];
        r[i].host = A + a->host;
        r[i].indicator_id = A + a->indicator_id;
        r[i].indicator = A + a->indicator;
        r[i].kind = a->kind;
        r[i].observed = A + a->observed;
        r[i].field = A + a->field;
        r[i].file = A + a->file;
        r[i].line = a->line;
        r[i].first_seen = a->first;
        r[i].last_seen = a->last;
        r[i].live_count = a->count;
        r[i].suppressed = a->suppressed;
        if (uoff && uoff[i] != UINT32_MAX)
            r[i].users = names.ptr + uoff[i];
    }
    int rc = tide_store_put_sightings(store, r, b->n);
    tide__free(uoff);
    tide__buf_free(&names);
    tide__free(r);
    if (rc == 0)
        reset(b);
    return rc;
}

void tide_sighting_batch_free(tide_sighting_batch *b)
{
    if (b == NULL)
        return;
    reset(b);
    tide__buf_free(&b->arena);
    tide__buf_free(&b->key);
    tide__free(b->v);
    tide__free(b->u);
    tide__free(b);
}
