/*
 * sighted.h - when each indicator was last sighted, in memory: what "a sighting refreshes the
 * score" (include/tide/score.h, tide_score_input.last_sighted) reads during a scan of the
 * active intel. Filled from the store by its consumers (match index, exports, case rules) with
 * tide_store_last_sighted(store, tide__sighted_note, &map): the intel layer never calls the
 * store itself.
 */
#ifndef TIDE_INTEL_SIGHTED_H
#define TIDE_INTEL_SIGHTED_H

#include <stdint.h>

#include "util/util.h"

typedef struct {
    tide_strmap ids; /* indicator id -> index into at */
    int64_t *at;     /* ms */
    size_t n, cap;
} tide__sighted;

#define TIDE_SIGHTED_INIT {TIDE_STRMAP_INIT, NULL, 0, 0}

/* Note that indicator_id was sighted at last_seen (ms); the latest one is kept. Has the
 * signature of a tide_store_last_sighted callback (payload: the tide__sighted). */
int tide__sighted_note(const char *indicator_id, int64_t last_seen, void *map);
/* When indicator_id was last sighted (ms); 0 when never. */
int64_t tide__sighted_get(const tide__sighted *m, const char *indicator_id);
void tide__sighted_free(tide__sighted *m);

#endif
