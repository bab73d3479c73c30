/*
 * sighted.c - the in-memory map of when each indicator was last sighted (sighted.h).
 */
#include <string.h>

#include "intel/sighted.h"

int tide__sighted_note(const char *indicator_id, int64_t last_seen, void *map)
{
    tide__sighted *m = map;
    size_t len = strlen(indicator_id);
    if (m->filter == NULL) {
        m->filter = tide__calloc(((size_t)1 << TIDE_SIGHTED_FILTER_BITS) / 64, sizeof(uint64_t));
        TIDE_CHECK_ALLOC(m->filter);
    }
    uint32_t at;
    int added = tide__strmap_put(&m->ids, indicator_id, len, (uint32_t)m->n, &at);
    TIDE_CHECK(added);
    if (added) {
        if (m->n == m->cap) {
            size_t nc = m->cap ? m->cap * 2 : 256;
            int64_t *nv = tide__realloc(m->at, nc * sizeof(*nv));
            TIDE_CHECK_ALLOC(nv);
            m->at = nv;
            m->cap = nc;
        }
        m->at[m->n++] = last_seen;
        if (len >= 8) {
            uint64_t b = tide__sighted_bit(indicator_id, len);
            m->filter[b / 64] |= (uint64_t)1 << (b % 64);
        }
    } else if (last_seen > m->at[at]) {
        m->at[at] = last_seen;
    }
    return 0;
}

int64_t tide__sighted_get_n(const tide__sighted *m, const char *indicator_id, size_t n)
{
    if (m->n == 0)
        return 0;
    int64_t i = tide__strmap_get(&m->ids, indicator_id, n);
    return i < 0 ? 0 : m->at[i];
}

void tide__sighted_free(tide__sighted *m)
{
    tide__strmap_free(&m->ids);
    tide__free(m->at);
    tide__free(m->filter);
    memset(m, 0, sizeof(*m));
}
