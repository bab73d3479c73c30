/*
 * tlp.h - the Traffic Light Protocol order (TLP 2.0: clear < green < amber < amber+strict <
 * red; TLP 1.0 white is clear) and the one rule for intel without a TLP marking: wherever a
 * ceiling applies (exports' --tlp-max, case shares, and every later read path with a
 * ceiling), unmarked intel counts as TLP:AMBER. Information without a label is not for
 * sharing outside the organisation; a feed can be given its TLP at ingest (--tlp). Every
 * ceiling check in tide goes through tide_tlp_allows.
 */
#ifndef TIDE_TLP_H
#define TIDE_TLP_H

#include <stdbool.h>

#include "common.h"

/** TLP levels in order; a ceiling admits every level up to its own. */
typedef enum {
    TIDE_TLP_CLEAR = 0, /**< TLP:CLEAR (TLP 1.0 WHITE) */
    TIDE_TLP_GREEN,
    TIDE_TLP_AMBER,
    TIDE_TLP_AMBER_STRICT,
    TIDE_TLP_RED,
} tide_tlp;

/** The level unmarked intel counts as under a ceiling. */
#define TIDE_TLP_UNMARKED TIDE_TLP_AMBER

/** @brief Level of a TLP name given by a user (a ceiling, a TLP to apply): "clear", "white",
 *  "green", "amber", "amber+strict", "red", case-insensitive, with or without a "tlp:"
 *  prefix. @return the tide_tlp, or -1 for NULL, "" or anything else. */
TIDE_EXTERN(int) tide_tlp_parse(const char *name);

/** @brief Level a label of stored intel counts as under a ceiling: its level, TIDE_TLP_UNMARKED
 *  (amber) when label is NULL or "" (unmarked), TIDE_TLP_RED when it is not a TLP name (never
 *  shared below red). Never -1. */
TIDE_EXTERN(int) tide_tlp_rank(const char *label);

/** @brief Canonical name of a level ("clear", "green", "amber", "amber+strict", "red"); NULL
 *  when out of range. */
TIDE_EXTERN(const char *) tide_tlp_name(int level);

/** @brief Whether intel labelled `label` (NULL or "" = unmarked) may pass the ceiling
 *  `ceiling` (a tide_tlp): tide_tlp_rank(label) <= ceiling. */
TIDE_EXTERN(bool) tide_tlp_allows(int ceiling, const char *label);

#endif
