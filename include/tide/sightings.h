/*
 * sightings.h - sightings kept in the store (SPEC C2, C3): one record per host x indicator
 * (x indicator value), with live and retro counts, first and last seen and the first place
 * seen. Live matching adds to the live count; a retro-hunt states the count it found in
 * history. Part of the store interface (store.h): all SQL stays in src/store.
 */
#ifndef TIDE_SIGHTINGS_H
#define TIDE_SIGHTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"
#include "observable.h"
#include "store.h"

typedef struct {
    int64_t id; /**< set when read back; ignored when writing */
    const char *host;
    const char *indicator_id;
    const char *indicator; /**< the indicator's canonical value */
    tide_obs_kind kind;    /**< the indicator's kind */
    const char *observed;  /**< value as seen, first sighting */
    const char *field;
    const char *file; /**< where first seen (file, or stream name) */
    int64_t line;
    int64_t first_seen, last_seen; /**< ms */
    int64_t live_count;            /**< events matched live */
    int64_t retro_count;           /**< events found in history by a retro-hunt */
    bool suppressed;
    const char *suppressed_by; /**< when read back: NULL */
    /** User names the telemetry carried with the events of this host x indicator (Squid
     *  ident, web log user, CEF suser / duser, Sysmon User, Zeek / NDJSON user), one per line
     *  ('\n'-separated, in the order first seen); NULL or "" when none. Writing adds to the
     *  names kept; at most TIDE_SIGHTING_MAX_USERS are kept per record. */
    const char *users;
} tide_sighting_rec;

/** User names kept per host x indicator (x value): enough to name who to reset, bounded for a
 *  shared host (a terminal server, a proxy's NATed client). */
#define TIDE_SIGHTING_MAX_USERS 32

/** @brief Merge sightings into the store in one transaction: counts added (live) or raised to
 *  the stated value (retro), first / last seen widened, the first place kept from the earliest
 *  sighting, user names added to those kept (up to TIDE_SIGHTING_MAX_USERS). */
TIDE_EXTERN(int)
tide_store_put_sightings(tide_store *store, const tide_sighting_rec *recs, size_t n);

typedef struct {
    const char *host;      /**< or NULL */
    const char *indicator; /**< value or indicator id, or NULL */
    int64_t since;         /**< last seen at or after (ms), or 0 */
    bool retro_only;       /**< only pairs found by retro-hunt (retro_count > 0) */
    bool include_suppressed;
    long limit; /**< 0 = all */
} tide_sighting_query;

/** @brief Stored sightings, most recent last_seen first. Records are borrowed for the call. */
TIDE_EXTERN(int)
tide_store_sightings(tide_store *store, const tide_sighting_query *q,
        int (*cb)(const tide_sighting_rec *rec, void *payload), void *payload);

/** A read position (the registry of what was recorded): the events of the input named key (a
 *  file by the fingerprint of its first bytes, a stream by its name) below pos (byte offset in
 *  the decompressed input, or stream position) have their sightings stored. */
typedef struct {
    const char *key;
    uint64_t pos;
} tide_read_position;

/** @brief Record read positions (the higher of the stored and the given wins). Inside a
 *  transaction (tide_store_begin ... tide_store_put_sightings ... commit) they are durable
 *  together with the sightings they produced, so that an input read again (a re-run, a
 *  restarted follower, a replayed stream) stores nothing twice. TIDE_EUNSUPPORTED when the
 *  backend keeps no positions. */
TIDE_EXTERN(int)
tide_store_put_positions(tide_store *store, const tide_read_position *v, size_t n);
/** @brief Every stored position: cb(key, pos) (borrowed for the call; non-zero stops and is
 *  returned). Nothing when the backend keeps none. */
TIDE_EXTERN(int)
tide_store_positions(
        tide_store *store, int (*cb)(const char *key, uint64_t pos, void *payload), void *payload);

/** @brief When each sighted indicator was last sighted: cb(indicator_id, last_seen) once per
 *  indicator with unsuppressed sightings (live or retro), last_seen the latest over its hosts
 *  and values (ms); most recently sighted first. What refreshes an indicator's decayed score
 *  (score.h, tide_score_input.last_sighted). Computed by the store front from the sightings
 *  listing (no backend function of its own). */
TIDE_EXTERN(int)
tide_store_last_sighted(tide_store *store,
        int (*cb)(const char *indicator_id, int64_t last_seen, void *payload), void *payload);

#endif
