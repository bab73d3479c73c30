/*
 * sighted.h - when each indicator was last sighted, in memory: what "a sighting refreshes the
 * score" (include/tide/score.h, tide_score_input.last_sighted) reads during a scan of the
 * active intel. Filled from the store by its consumers (match index, exports, case rules) with
 * tide_store_last_sighted(store, tide__sighted_note, &map): the intel layer never calls the
 * store itself.
 *
 * A scan asks once per indicator, and most indicators were never sighted: a bit filter over
 * the last 8 bytes of the ids (the random end of their UUIDs) answers most of those in a few
 * instructions, without hashing the id (a full lookup per indicator was 1.9% of an index build
 * of a store with sightings).
 */
#ifndef TIDE_INTEL_SIGHTED_H
#define TIDE_INTEL_SIGHTED_H

#include <stdint.h>
#include <string.h>

#include "util/util.h"

#define TIDE_SIGHTED_FILTER_BITS 18 /* 32 KB: about 4% false positives at 10 000 ids */

typedef struct {
    tide_strmap ids; /* indicator id -> index into at */
    int64_t *at;     /* ms */
    size_t n, cap;
    uint64_t *filter; /* 2^TIDE_SIGHTED_FILTER_BITS bits; NULL while empty */
} tide__sighted;

#define TIDE_SIGHTED_INIT                                                                          \
    {                                                                                              \
        TIDE_STRMAP_INIT, NULL, 0, 0, NULL                                                         \
    }

/* Note that indicator_id was sighted at last_seen (ms); the latest one is kept. Has the
 * signature of a tide_store_last_sighted callback (payload: the tide__sighted). */
int tide__sighted_note(const char *indicator_id, int64_t last_seen, void *map);
/* When indicator_id (n bytes) was last sighted (ms); 0 when never. */
int64_t tide__sighted_get_n(const tide__sighted *m, const char *indicator_id, size_t n);
void tide__sighted_free(tide__sighted *m);

/* The filter bit of an id of n >= 8 bytes. */
static inline uint64_t tide__sighted_bit(const char *id, size_t n)
{
    uint64_t t;
    memcpy(&t, id + n - 8, 8);
    return (t * 0x9E3779B97F4A7C15ull) >> (64 - TIDE_SIGHTED_FILTER_BITS);
}

/* tide__sighted_get_n with the filter inline: most calls end here. */
static inline int64_t tide__sighted_get(const tide__sighted *m, const char *indicator_id, size_t n)
{
    if (m->n == 0)
        return 0;
    if (n >= 8) {
        uint64_t b = tide__sighted_bit(indicator_id, n);
        if (!((m->filter[b / 64] >> (b % 64)) & 1))
            return 0;
    }
    return tide__sighted_get_n(m, indicator_id, n);
}

#endif
