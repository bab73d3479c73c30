/*
 * strmap.c - a string -> uint32 map for building lookup structures in memory (relationship
 * graphs, name tables). Open addressing with linear probing on the XXH3 hash of the key; the
 * keys (any bytes) are copied into one arena so a map of a million keys is four arrays and one
 * buffer.
 */
#include <string.h>

#include <xxhash.h>

#include "util/util.h"

static uint64_t key_hash(const char *key, size_t n)
{
    uint64_t h = XXH3_64bits(key, n);
    return h ? h : 1;
}

static size_t find_slot(const tide_strmap *m, const char *key, size_t n, uint64_t h)
{
    size_t mask = m->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        if (m->hashes[i] == 0)
            return i;
        if (m->hashes[i] == h && m->keylen[i] == n &&
                memcmp(m->arena.ptr + m->keyoff[i], key, n) == 0)
            return i;
    }
}

int64_t tide__strmap_get(const tide_strmap *m, const char *key, size_t n)
{
    if (m->cap == 0)
        return -1;
    size_t i = find_slot(m, key, n, key_hash(key, n));
    return m->hashes[i] ? (int64_t)m->vals[i] : -1;
}

static int grow(tide_strmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    uint64_t *h = tide__calloc(cap, sizeof(*h));
    uint32_t *v = tide__malloc(cap * sizeof(*v));
    uint32_t *k = tide__malloc(cap * sizeof(*k));
    uint32_t *l = tide__malloc(cap * sizeof(*l));
    if (h == NULL || v == NULL || k == NULL || l == NULL) {
        tide__free(h);
        tide__free(v);
        tide__free(k);
        tide__free(l);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (m->hashes[i] == 0)
            continue;
        size_t j = (size_t)m->hashes[i] & (cap - 1);
        while (h[j])
            j = (j + 1) & (cap - 1);
        h[j] = m->hashes[i];
        v[j] = m->vals[i];
        k[j] = m->keyoff[i];
        l[j] = m->keylen[i];
    }
    tide__free(m->hashes);
    tide__free(m->vals);
    tide__free(m->keyoff);
    tide__free(m->keylen);
    m->keylen = l;
    m->hashes = h;
    m->vals = v;
    m->keyoff = k;
    m->cap = cap;
    return 0;
}

int tide__strmap_put(tide_strmap *m, const char *key, size_t n, uint32_t val, uint32_t *out_val)
{
    if ((m->n + 1) * 2 > m->cap)
        TIDE_CHECK(grow(m));
    uint64_t h = key_hash(key, n);
    size_t i = find_slot(m, key, n, h);
    if (m->hashes[i]) {
        if (out_val)
            *out_val = m->vals[i];
        return 0;
    }
    size_t off = m->arena.len;
    if (off > UINT32_MAX - n - 1)
        return tide_error_set(TIDE_ETOOBIG, "string map over 4 GiB of keys");
    TIDE_CHECK(tide__buf_put(&m->arena, key, n));
    TIDE_CHECK(tide__buf_putc(&m->arena, '\0'));
    m->hashes[i] = h;
    m->vals[i] = val;
    m->keyoff[i] = (uint32_t)off;
    m->keylen[i] = (uint32_t)n;
    m->n++;
    if (out_val)
        *out_val = val;
    return 1;
}

void tide__strmap_free(tide_strmap *m)
{
    tide__free(m->hashes);
    tide__free(m->vals);
    tide__free(m->keyoff);
    tide__free(m->keylen);
    tide__buf_free(&m->arena);
    memset(m, 0, sizeof(*m));
}
