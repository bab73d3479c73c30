/*
 * keys.h - the byte keys of observable values (keys.c), on their own so that the history
 * (src/history/hist_keys.c) encodes values exactly as the match index does without seeing
 * the index's layout (index_int.h, which includes this header).
 */
#ifndef TIDE_MATCH_KEYS_H
#define TIDE_MATCH_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "tide/observable.h"

#define IX_MAX_KEY 2048 /* longer values (huge URLs) are not indexed */

/* Encode the key of an indicator value or an observed value of this kind into out (at least
 * IX_MAX_KEY bytes): the canonical forms of observable.h, or as seen in telemetry (case,
 * trailing dot, IPv4-mapped IPv6 ...). *out_kind may change: an IPv4-mapped IPv6 address is
 * an IPv4. Returns the key length, or -1 when the value is not a valid one of that kind. */
int tide__ix_encode(
        tide_obs_kind kind, const char *v, size_t n, uint8_t *out, tide_obs_kind *out_kind);

#endif
