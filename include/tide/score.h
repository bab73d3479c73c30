/*
 * score.h - indicator scoring (SPEC C1): a base score from confidence and source reliability,
 * decayed with age by observable kind:
 *
 *     score = base * (1 - (age / lifetime) ^ (1 / speed)),  0 once age >= lifetime
 *
 * (the MISP decaying-model polynomial). Default lifetimes: ip 30 d, url 60 d, domain 90 d,
 * hashes 365 d; speed 1 (linear).
 *
 * "Active now and its decayed score" has one home, tide_score_assess (and its parts below),
 * which the match index, exports, case rules and `tide show` all call with the same inputs:
 *
 *   - active: not revoked, valid_until (when stated) after now, valid_from not after now;
 *   - base = confidence (unknown: 50) x Admiralty reliability factor (unknown: C);
 *   - the age counts from the reference time: valid_from, else created, else modified, and a
 *     later sighting refreshes it (the indicator's latest unsuppressed sighting, live or
 *     retro, when newer: SPEC C1 "Sightings refresh it");
 *   - an inactive indicator scores 0.
 */
#ifndef TIDE_SCORE_H
#define TIDE_SCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "observable.h"

typedef struct {
    double lifetime_days[TIDE_OBS__COUNT]; /**< per kind; <= 0 means never decays */
    double speed[TIDE_OBS__COUNT];         /**< per kind; > 0 */
} tide_decay_config;

/** @brief The default configuration (see above). */
TIDE_EXTERN(void) tide_decay_defaults(tide_decay_config *out);

/** @brief Set lifetime (days; 0 = never decays) and speed (> 0; 1 linear, < 1 slow at first
 *  then fast, > 1 fast at first) for an observable type from "TYPE=DAYS[:SPEED]" (also
 *  "TYPE:DAYS[:SPEED]"), e.g. "ip=14", "domain=120:0.5", "sha256=730d". TYPE is a kind name
 *  (ipv4, ipv6, cidr4, cidr6, ip-port, domain, url, url-path, md5, sha1, sha256, sha512,
 *  email, ja3, x509-sha1) or a group: ip (addresses, CIDRs, ip:port), cidr, hash, url (URLs and
 *  URL paths). @return 0 or TIDE_EINVAL with the reason. */
TIDE_EXTERN(int) tide_decay_set(tide_decay_config *cfg, const char *spec);

/** @brief Apply a decay configuration file over cfg: a JSON object of TYPE (as for
 *  tide_decay_set) -> lifetime days, or -> {"lifetime_days": N, "speed": S}, e.g.
 *  {"ip": 14, "domain": {"lifetime_days": 120, "speed": 0.5}}. name is used in errors
 *  (TIDE_EPARSE with line / byte, or the key and reason); cfg is unchanged on error. */
TIDE_EXTERN(int)
tide_decay_parse(tide_decay_config *cfg, const char *data, size_t len, const char *name);

/** @brief A fingerprint of a configuration: 0 for the defaults (a cached match index records
 *  the one it was scored with). */
TIDE_EXTERN(uint32_t) tide_decay_key(const tide_decay_config *cfg);

/** @brief Admiralty reliability factor: A 1.0, B 0.9, C 0.75, D 0.5, E 0.25, F 0.5 (cannot be
 *  judged). Unknown letters count as C. */
TIDE_EXTERN(double) tide_reliability_factor(char reliability);

/** @brief Base score 0..100 = confidence (0..100) x reliability factor. */
TIDE_EXTERN(double) tide_score_base(int confidence, char reliability);

/** @brief base decayed by the polynomial above for an observable of this kind whose age
 *  counts from ref_ms, at now_ms (base itself when ref_ms >= now_ms). The decay step of
 *  tide_score_decayed, which says what ref_ms is. */
TIDE_EXTERN(double)
tide_score_current(const tide_decay_config *cfg, tide_obs_kind kind, double base, int64_t ref_ms,
        int64_t now_ms);

/* ---- active now, and the decayed score: the one rule ---- */

/** Whether an indicator is active at a time, or why not. */
typedef enum {
    TIDE_ACTIVE = 0,       /**< valid at that time and not revoked */
    TIDE_INACTIVE_REVOKED, /**< its current version is revoked */
    TIDE_INACTIVE_EXPIRED, /**< valid_until has passed (valid_until <= now) */
    TIDE_INACTIVE_NOT_YET, /**< valid_from is in the future */
} tide_activity;

/** What decides whether an indicator is active and what it scores, for one of its observables
 *  (the kind sets the lifetime). The fields of tide_indicator_obs, plus its last sighting. */
typedef struct {
    tide_obs_kind kind;
    int confidence;       /**< 0..100; < 0 = unknown, counts as 50 */
    char reliability;     /**< Admiralty 'A'..'F'; '\0' (unknown) counts as C */
    int64_t valid_from;   /**< ms; 0 = not stated */
    int64_t valid_until;  /**< ms; 0 = none */
    int64_t created;      /**< ms; 0 = not stated */
    int64_t modified;     /**< ms; 0 = not stated */
    int64_t last_sighted; /**< ms: its latest unsuppressed sighting (tide_store_last_sighted,
                               sightings.h); 0 = never sighted */
    bool revoked;
} tide_score_input;

/** What tide_score_assess says. */
typedef struct {
    tide_activity activity;
    double base;    /**< confidence x reliability factor */
    int64_t ref_ms; /**< when the age counts from (tide_score_reference) */
    double score;   /**< 0..100: base decayed at now; 0 when not active */
} tide_score_result;

/** @brief Whether the indicator is active at now_ms, or why not (revoked first, then expired,
 *  then not yet valid). */
TIDE_EXTERN(tide_activity) tide_score_activity(const tide_score_input *in, int64_t now_ms);

/** @brief "active", "revoked", "expired", "not yet valid"; "?" when out of range. */
TIDE_EXTERN(const char *) tide_score_activity_name(int activity);

/** @brief The base score of the input: confidence (unknown: 50) x reliability factor. */
TIDE_EXTERN(double) tide_score_input_base(const tide_score_input *in);

/** @brief When the age counts from: valid_from, else created, else modified; a later
 *  last_sighted replaces it. */
TIDE_EXTERN(int64_t) tide_score_reference(const tide_score_input *in);

/** @brief The decayed score 0..100 at now_ms (whatever the activity): tide_score_current of
 *  tide_score_input_base from tide_score_reference. A pure function of (cfg, kind,
 *  confidence, reliability, reference, now): callers may memoize it on those. */
TIDE_EXTERN(double)
tide_score_decayed(const tide_decay_config *cfg, const tide_score_input *in, int64_t now_ms);

/** @brief Active now and the decayed score (0 when not active), with its base and reference.
 *  @param[out] out may be NULL. @return the activity. */
TIDE_EXTERN(tide_activity)
tide_score_assess(const tide_decay_config *cfg, const tide_score_input *in, int64_t now_ms,
        tide_score_result *out);

/** @brief A score as the integer 0..100 sightings, the match index and case rules show
 *  (rounded to the nearest). Thresholds (exports' --min-score, case auto's --min-score) compare
 *  the unrounded score. */
TIDE_EXTERN(int) tide_score_round(double score);

#endif
