/*
 * cache.c - what keeps the hot route (a lookup with a key) off the database: verified keys by
 * their Authorization header, and lookup answers by (value, ceiling). A watcher thread reads the
 * store's intel generation and a fingerprint of the keys table every 250 ms: a lookup answer is
 * used while the intel generation is the one it was computed at and for 1 s at most (scores
 * move with sightings and time too); a key while the keys table is unchanged and for 5 s at
 * most, so a revocation (tide keys revoke, from any process) takes effect within 250 ms.
 * Both tables are fixed arrays of slots, one entry per slot (a newer one replaces it), each
 * under its own lock.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server_int.h"

#define KEY_SLOTS     256
#define LOOKUP_SLOTS  4096
#define KEY_TTL_MS    5000
#define LOOKUP_TTL_MS 1000
#define LOCKS         64

typedef struct {
    uint64_t h;
    char *header; /* the Authorization header as sent */
    tide_key_info key;
    uint64_t epoch;
    int64_t at;
} key_slot;

typedef struct {
    uint64_t h;
    int ceiling;
    char *value; /* the value as asked */
    char *json;
    size_t len;
    int64_t gen, at;
} lookup_slot;

static struct {
    pthread_mutex_t klock[LOCKS], llock[LOCKS];
    key_slot keys[KEY_SLOTS];
    lookup_slot lookups[LOOKUP_SLOTS];
    int64_t gen;        /* the intel generation last read (-1: unknown: no cache) */
    uint64_t key_epoch; /* changes with the keys table */
    uint64_t keys_fp;
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    srv *s;
} C = { .gen = -1, .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static uint64_t hash(const char *s, uint64_t h)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

static int fp_key(const tide_key_info *k, void *payload)
{
    uint64_t *h = payload;
    *h = hash(k->name, *h);
    *h = (*h ^ (uint64_t)k->revoked_at) * 0x100000001b3ULL;
    *h = (*h ^ (uint64_t)k->role * 31 ^ (uint64_t)k->tlp_max) * 0x100000001b3ULL;
    return 0;
}

static void *watcher(void *arg)
{
    srv *s = arg;
    tide_store *st = NULL;
    while (!s->stopping) {
        if (st == NULL && tide_workspace_store_open(s->ws, &st) < 0)
            tide_error_clear();
        int64_t gen = -1;
        uint64_t fp = 0xcbf29ce484222325ULL;
        if (st &&
                (tide_store_intel_generation(st, &gen) < 0 || tide_key_list(st, fp_key, &fp) < 0)) {
            tide_error_clear();
            gen = -1;
            tide_store_free(st); /* open a fresh one next time */
            st = NULL;
        }
        __atomic_store_n(&C.gen, gen, __ATOMIC_RELEASE);
        if (fp != C.keys_fp) {
            C.keys_fp = fp;
            __atomic_add_fetch(&C.key_epoch, 1, __ATOMIC_RELEASE);
        }
        pthread_mutex_lock(&C.mu);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 250 * 1000 * 1000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        if (!s->stopping)
            pthread_cond_timedwait(&C.cv, &C.mu, &until);
        pthread_mutex_unlock(&C.mu);
    }
    tide_store_free(st);
    return NULL;
}

void tide__cache_start(srv *s)
{
    for (int i = 0; i < LOCKS; i++) {
        pthread_mutex_init(&C.klock[i], NULL);
        pthread_mutex_init(&C.llock[i], NULL);
    }
    C.s = s;
    C.gen = -1;
    C.keys_fp = 0;
    C.key_epoch = 1;
    C.started = pthread_create(&C.thread, NULL, watcher, s) == 0;
}

void tide__cache_stop(void)
{
    pthread_mutex_lock(&C.mu);
    pthread_cond_broadcast(&C.cv);
    pthread_mutex_unlock(&C.mu);
    if (C.started)
        pthread_join(C.thread, NULL);
    C.started = false;
    for (int i = 0; i < KEY_SLOTS; i++) {
        free(C.keys[i].header);
        C.keys[i].header = NULL;
        C.keys[i].h = 0;
    }
    for (int i = 0; i < LOOKUP_SLOTS; i++) {
        free(C.lookups[i].value);
        free(C.lookups[i].json);
        C.lookups[i].value = C.lookups[i].json = NULL;
        C.lookups[i].h = 0;
    }
    for (int i = 0; i < LOCKS; i++) {
        pthread_mutex_destroy(&C.klock[i]);
        pthread_mutex_destroy(&C.llock[i]);
    }
}

bool tide__cache_key_get(const char *header, tide_key_info *out)
{
    if (header == NULL || !C.started)
        return false;
    uint64_t h = hash(header, 0xcbf29ce484222325ULL) | 1;
    key_slot *k = &C.keys[h % KEY_SLOTS];
    pthread_mutex_t *mu = &C.klock[h % LOCKS];
    bool hit = false;
    pthread_mutex_lock(mu);
    if (k->h == h && k->epoch == __atomic_load_n(&C.key_epoch, __ATOMIC_ACQUIRE) &&
            tide__srv_mono_ms() - k->at < KEY_TTL_MS && strcmp(k->header, header) == 0) {
        *out = k->key;
        hit = true;
    }
    pthread_mutex_unlock(mu);
    return hit;
}

void tide__cache_key_put(const char *header, const tide_key_info *key)
{
    if (header == NULL || !C.started)
        return;
    char *copy = strdup(header);
    if (copy == NULL)
        return;
    uint64_t h = hash(header, 0xcbf29ce484222325ULL) | 1;
    key_slot *k = &C.keys[h % KEY_SLOTS];
    pthread_mutex_t *mu = &C.klock[h % LOCKS];
    pthread_mutex_lock(mu);
    free(k->header);
    k->header = copy;
    k->h = h;
    k->key = *key;
    k->epoch = __atomic_load_n(&C.key_epoch, __ATOMIC_ACQUIRE);
    k->at = tide__srv_mono_ms();
    pthread_mutex_unlock(mu);
}

int64_t tide__cache_gen(void)
{
    return C.started ? __atomic_load_n(&C.gen, __ATOMIC_ACQUIRE) : -1;
}

char *tide__cache_lookup_get(const char *value, int ceiling, size_t *len)
{
    int64_t gen = tide__cache_gen();
    if (gen < 0 || value == NULL)
        return NULL;
    uint64_t h = hash(value, 0xcbf29ce484222325ULL + (uint64_t)ceiling) | 1;
    lookup_slot *l = &C.lookups[h % LOOKUP_SLOTS];
    pthread_mutex_t *mu = &C.llock[h % LOCKS];
    char *out = NULL;
    pthread_mutex_lock(mu);
    if (l->h == h && l->ceiling == ceiling && l->gen == gen &&
            tide__srv_mono_ms() - l->at < LOOKUP_TTL_MS && strcmp(l->value, value) == 0 &&
            (out = malloc(l->len + 1)) != NULL) {
        memcpy(out, l->json, l->len + 1);
        *len = l->len;
    }
    pthread_mutex_unlock(mu);
    return out;
}

void tide__cache_lookup_put(const char *value, int ceiling, int64_t gen, const char *json)
{
    if (gen < 0 || value == NULL || json == NULL)
        return;
    char *v = strdup(value), *j = strdup(json);
    if (v == NULL || j == NULL) {
        free(v);
        free(j);
        return;
    }
    uint64_t h = hash(value, 0xcbf29ce484222325ULL + (uint64_t)ceiling) | 1;
    lookup_slot *l = &C.lookups[h % LOOKUP_SLOTS];
    pthread_mutex_t *mu = &C.llock[h % LOCKS];
    pthread_mutex_lock(mu);
    free(l->value);
    free(l->json);
    l->h = h;
    l->ceiling = ceiling;
    l->value = v;
    l->json = j;
    l->len = strlen(j);
    l->gen = gen;
    l->at = tide__srv_mono_ms();
    pthread_mutex_unlock(mu);
}
