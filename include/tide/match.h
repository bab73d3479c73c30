/*
 * match.h - the compiled match index and the matcher (SPEC C2).
 *
 * The index is built from the store's active intel and is immutable: exact values in one hash
 * table (IPv4 / IPv6 / ip:port and hashes as binary, domains, URLs, e-mail as canonical text),
 * CIDRs as sorted elementary intervals that list every containing prefix, parent domains by a
 * label walk, URL paths by suffix. Each entry carries what a sighting needs. Only indicators
 * that are valid at build time count (valid_from <= now < valid_until, not revoked). An index
 * can be saved to a file and mapped back, so that a matcher starts fast.
 *
 * A matcher holds an index and turns telemetry events (telemetry.h) into sightings: one per
 * event x matched indicator. tide_matcher_swap installs a newer index between two events, so
 * no event is lost or matched twice.
 */
#ifndef TIDE_MATCH_H
#define TIDE_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "observable.h"
#include "score.h"
#include "store.h"
#include "telemetry.h"
#include "warninglist.h"

typedef struct tide_match_index tide_match_index;

typedef struct {
    int64_t now_ms;                      /**< validity and score reference time; 0 = now */
    const tide_decay_config *decay;      /**< NULL: defaults */
    const tide_indicator_filter *filter; /**< only these indicators (a hunt); NULL: all */
} tide_index_opts;

/** @brief Build an index from the store's current indicators (opts may be NULL). */
TIDE_EXTERN(int)
tide_match_index_build(tide_match_index **out, tide_store *store, const tide_index_opts *opts);
/** @brief Write the index to path (atomically: a temporary file renamed over path). */
TIDE_EXTERN(int) tide_match_index_save(const tide_match_index *ix, const char *path);
/** @brief Map an index file. TIDE_EFORMAT (with the reason) when it is not a valid index. */
TIDE_EXTERN(int) tide_match_index_load(tide_match_index **out, const char *path);
TIDE_EXTERN(void) tide_match_index_free(tide_match_index *ix);

/** @brief The index for the store's current intel: the file at path (may be NULL) when it was
 *  built from the current intel generation less than max_age_ms ago with the same decay
 *  configuration; else a new build with opts (may be NULL: defaults), saved to path when
 *  given (a failed save only costs the next start). @param[out] out_built whether it was
 *  built (may be NULL). */
TIDE_EXTERN(int)
tide_match_index_current(tide_match_index **out, tide_store *store, const char *path,
        int64_t max_age_ms, const tide_index_opts *opts, bool *out_built);

typedef struct {
    size_t entries;         /**< (indicator, observable) pairs */
    size_t indicators;      /**< distinct indicators */
    size_t cidrs;           /**< CIDR entries */
    size_t suppressed;      /**< entries whose value is warninglisted or private / bogon */
    size_t bytes;           /**< size of the index image */
    int64_t built_at;       /**< ms */
    int64_t generation;     /**< the store's intel generation it was built from */
    size_t skipped_invalid; /**< indicators left out: expired, not yet valid, revoked */
    size_t left_out;        /**< every indicator left out (skipped_invalid included) */
    size_t left_out_by[8];  /**< per tide_left_out_reason */
    size_t pattern_only;    /**< indicators found by the fragments of their LIKE / MATCHES */
    size_t fragments;       /**< those fragments */
} tide_match_index_info;
TIDE_EXTERN(void) tide_match_index_info_get(const tide_match_index *ix, tide_match_index_info *out);

/** Why an indicator is not in the index (or only partly: TIDE_LEFT_PARTIAL). */
typedef enum {
    TIDE_LEFT_NONE = 0,
    TIDE_LEFT_REVOKED,       /**< "revoked" */
    TIDE_LEFT_EXPIRED,       /**< "expired": valid_until has passed */
    TIDE_LEFT_NOT_YET_VALID, /**< "not-yet-valid": valid_from is in the future */
    TIDE_LEFT_NOTHING,       /**< "nothing-to-look-for": its STIX pattern names no observable
                                  the index holds and no LIKE / MATCHES literal of 3+
                                  characters on an observed value (the detail says which
                                  comparison) */
    TIDE_LEFT_PARTIAL,       /**< "partly-indexed": indexed by some observables, but one
                                  branch of its pattern has nothing to look for (that branch
                                  cannot fire) */
    TIDE_LEFT_UNPARSED,      /**< "unparsable-pattern": its STIX pattern does not parse */
    TIDE_LEFT_PATTERN_TYPE,  /**< "pattern-type": not a STIX pattern (sigma, yara, snort ...)
                                  and no observable */
    TIDE_LEFT__COUNT
} tide_left_out_reason;

/** @brief "revoked", "expired", "not-yet-valid", "nothing-to-look-for", "partly-indexed",
 *  "unparsable-pattern", "pattern-type"; "?" out of range. */
TIDE_EXTERN(const char *) tide_left_out_reason_name(tide_left_out_reason r);

/** @brief Every indicator the index left out, or holds only in part, with the reason and a
 *  detail (may be NULL: "column 2: MATCHES '^[a-z]+$' has no literal run of 3 or more
 *  characters", the pattern type). cb returning non-zero stops (that value is returned). */
TIDE_EXTERN(int)
tide_match_index_each_left_out(const tide_match_index *ix,
        int (*cb)(const char *indicator_id, tide_left_out_reason reason, const char *detail,
                void *payload),
        void *payload);

/** What a sighting carries about the matched indicator. Strings are borrowed from the index
 *  (valid while it lives). Name lists are NUL-separated, n names each. */
typedef struct {
    char indicator_id[64];
    tide_obs_kind kind; /**< the indicator's observable kind (cidr4, domain ...) */
    const char *value;  /**< the indicator's canonical value */
    size_t value_len;
    const char *source, *tlp, *kill_chain; /**< may be NULL */
    const char *campaigns;
    size_t ncampaigns;
    const char *malware;
    size_t nmalware;
    const char *actors;
    size_t nactors;
    int confidence;  /**< -1 when unknown */
    int score;       /**< 0..100, decayed, at build time */
    bool suppressed; /**< warninglisted / private (name in suppressed_by) */
    const char *suppressed_by;
    uint32_t entry;      /**< the index entry (stable within one index) */
    const char *pattern; /**< non-simple indicators: the STIX pattern to confirm, else NULL */
} tide_match_hit;

/** @brief Every index entry matching one observation (value as seen in telemetry, n bytes).
 *  IPs also match the CIDRs containing them, domains their listed parents, URLs the listed
 *  paths they end with. cb returning non-zero stops (that value is returned). */
TIDE_EXTERN(int)
tide_match_lookup(const tide_match_index *ix, tide_obs_kind kind, const char *value, size_t n,
        int (*cb)(const tide_match_hit *hit, void *payload), void *payload);

/* ---- the matcher ---- */

typedef struct {
    const tide_event *event;
    const char *file;            /**< as given to tide_matcher_event */
    const tide_observation *obs; /**< the observation that matched */
    const tide_match_hit *hit;
} tide_sighting;

typedef struct tide_matcher tide_matcher;

/** @brief A matcher over ix (not owned; see tide_matcher_swap). wl (may be NULL) marks
 *  sightings whose observed value is warninglisted as suppressed too. */
TIDE_EXTERN(int)
tide_matcher_new(tide_matcher **out, const tide_match_index *ix, const tide_warninglists *wl);
/** @brief Match one event: cb once per (event, indicator entry), even when several
 *  observations of the event match the same entry (the first one is reported). Sightings
 *  are reported before it returns (tide_matcher_push, then tide_matcher_flush). */
TIDE_EXTERN(int)
tide_matcher_event(tide_matcher *m, const char *file, const tide_event *ev,
        int (*cb)(const tide_sighting *s, void *payload), void *payload);
/** @brief Queue one event for matching, as tide_matcher_event but pipelined: its sightings are
 *  reported to cb during a later tide_matcher_push or tide_matcher_flush, in event order, so
 *  that the index lookups of consecutive events overlap (a stream runs about twice as fast).
 *  The event is copied (ev may be reused at once); file and payload must stay valid until the
 *  event is reported. A non-zero return (a callback's stop value or an error) means that
 *  this event was not queued. */
TIDE_EXTERN(int)
tide_matcher_push(tide_matcher *m, const char *file, const tide_event *ev,
        int (*cb)(const tide_sighting *s, void *payload), void *payload);
/** @brief Match n events at once (as from tide_tel_next_batch), pipelined across them like
 *  tide_matcher_push but without copying: the events are only read during the call. Queued
 *  events are reported first; every sighting of the batch is reported, in event order,
 *  before it returns. */
TIDE_EXTERN(int)
tide_matcher_batch(tide_matcher *m, const char *file, const tide_event *evs, size_t n,
        int (*cb)(const tide_sighting *s, void *payload), void *payload);
/** @brief Report every queued event. Call it at the end of the input and whenever the
 *  caller waits for more (a followed file). On a non-zero return the rest of the queue is
 *  dropped. */
TIDE_EXTERN(int) tide_matcher_flush(tide_matcher *m);
/** A candidate the matcher could not decide: an event that names an observable of a non-simple
 *  indicator, whose whole pattern could not be evaluated on it. It is neither a sighting nor
 *  a miss; the matcher counts it and tells the callback of tide_matcher_on_undecided. */
typedef struct {
    const tide_event *event;
    const char *file;
    const tide_match_hit *hit; /**< the indicator (hit->pattern its pattern) */
    const char *reason;        /**< why ("column 2: regular expression failed: match limit
                                    exceeded", "over its evaluation budget" ...) */
    bool over_budget;          /**< the indicator spent its budget: not evaluated at all */
} tide_undecided;

/** Each non-simple indicator's evaluations have a budget per index (per run, until an index
 *  swap): after TIDE_MATCH_BUDGET_CAPS evaluations stopped by a cap (a regular expression over
 *  its step limit ...) or TIDE_MATCH_BUDGET_MS of evaluation (the thread's CPU time), its
 *  further candidates are not evaluated but counted as undecided (over_budget). */
#define TIDE_MATCH_BUDGET_CAPS 8
#define TIDE_MATCH_BUDGET_MS   1000

/** Patterns that take more than one observation (tide_pattern_needs_window: [A] AND [B],
 *  FOLLOWEDBY, REPEATS n) are decided on a window per host x indicator: every candidate event
 *  of the host (an event holding one of the pattern's observables or fragments) is kept in it,
 *  and the whole window is evaluated when one arrives. A match gives one sighting, on the event
 *  that completed it, and empties the window. A window holds the last TIDE_MATCH_WINDOW_OBS
 *  candidate events (older ones are evicted); all windows together hold at most
 *  TIDE_MATCH_WINDOW_BYTES of rendered events (over it, the least recently used windows are
 *  emptied). Evicted events are counted: a match that needs an evicted one is missed. */
#define TIDE_MATCH_WINDOW_OBS   64
#define TIDE_MATCH_WINDOW_BYTES (64u << 20)

typedef struct {
    uint64_t evaluated;           /**< candidates of non-simple patterns evaluated */
    uint64_t undecided;           /**< candidates not decided (evaluation failed, or over budget) */
    uint64_t over_budget;         /**< of those, candidates of indicators over their budget */
    size_t indicators_over;       /**< indicators that went over their budget */
    uint64_t fragment_candidates; /**< candidates found by a LIKE / MATCHES fragment */
    uint64_t window_candidates;   /**< candidate events taken into a window */
    uint64_t window_matches;      /**< windows whose pattern matched (one sighting each) */
    uint64_t window_evicted;      /**< candidate events evicted from a window unmatched */
    size_t window_bytes;          /**< bytes the windows hold now */
    size_t window_bytes_peak;     /**< the most they held */
    size_t windows;               /**< host x indicator windows holding events now */
} tide_matcher_stats;

/** @brief Tell cb of every undecided candidate (may be NULL: they are only counted). The
 *  callback may not call the matcher. */
TIDE_EXTERN(void)
tide_matcher_on_undecided(
        tide_matcher *m, void (*cb)(const tide_undecided *u, void *payload), void *payload);
/** @brief Counts since the matcher was made (across index swaps). */
TIDE_EXTERN(void) tide_matcher_stats_get(const tide_matcher *m, tide_matcher_stats *out);

/** @brief Use ix from the next event on; events queued before are first matched against the
 *  old index (a callback's stop value is then returned by the next push or flush). Returns
 *  the previous index (the caller frees it). */
TIDE_EXTERN(const tide_match_index *)
tide_matcher_swap(tide_matcher *m, const tide_match_index *ix);
TIDE_EXTERN(void) tide_matcher_free(tide_matcher *m);

/* ---- aggregation for the store ---- */

/** Sightings aggregated per host x indicator x value in memory, written to the store in one
 *  transaction by tide_sighting_batch_flush (sightings.h). */
typedef struct tide_sighting_batch tide_sighting_batch;
TIDE_EXTERN(int) tide_sighting_batch_new(tide_sighting_batch **out);
/** @brief Count one live sighting (file is the name to record as where it was seen). */
TIDE_EXTERN(int) tide_sighting_batch_add(tide_sighting_batch *b, const tide_sighting *s);
/** @brief Distinct host x indicator pairs held. */
TIDE_EXTERN(size_t) tide_sighting_batch_size(const tide_sighting_batch *b);
/** @brief Merge everything held into the store and empty the batch. */
TIDE_EXTERN(int) tide_sighting_batch_flush(tide_sighting_batch *b, tide_store *store);
TIDE_EXTERN(void) tide_sighting_batch_free(tide_sighting_batch *b);

#endif
