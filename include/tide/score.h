/*
 * score.h - indicator scoring (SPEC C1): a base score from confidence and source reliability,
 * decayed with age by observable kind:
 *
 *     score = base * (1 - (age / lifetime) ^ (1 / speed)),  0 once age >= lifetime
 *
 * (the MISP decaying-model polynomial). Default lifetimes: ip 30 d, url 60 d, domain 90 d,
 * hashes 365 d; speed 1 (linear). A sighting refreshes the age (the caller passes the newer of
 * valid_from and the last sighting as the reference time).
 */
#ifndef TIDE_SCORE_H
#define TIDE_SCORE_H

#include <stdint.h>

#include "common.h"
#include "observable.h"

typedef struct {
    double lifetime_days[TIDE_OBS__COUNT]; /**< per kind; <= 0 means never decays */
    double speed[TIDE_OBS__COUNT];         /**< per kind; > 0 */
} tide_decay_config;

/** @brief The default configuration (see above). */
TIDE_EXTERN(void) tide_decay_defaults(tide_decay_config *out);

/** @brief Set lifetime (days) and speed for one kind from "kind:days[:speed]", e.g.
 *  "ipv4:14" or "domain:120:0.5". @return 0 or TIDE_EINVAL. */
TIDE_EXTERN(int) tide_decay_set(tide_decay_config *cfg, const char *spec);

/** @brief Admiralty reliability factor: A 1.0, B 0.9, C 0.75, D 0.5, E 0.25, F 0.5 (cannot be
 *  judged). Unknown letters count as C. */
TIDE_EXTERN(double) tide_reliability_factor(char reliability);

/** @brief Base score 0..100 = confidence (0..100) x reliability factor. */
TIDE_EXTERN(double) tide_score_base(int confidence, char reliability);

/** @brief Current score 0..100 of an indicator of this kind whose reference time (valid_from,
 *  or its last sighting) is ref_ms, at time now_ms. */
TIDE_EXTERN(double) tide_score_current(const tide_decay_config *cfg, tide_obs_kind kind,
        double base, int64_t ref_ms, int64_t now_ms);

#endif
