/*
 * pattern_fast.h - recognises the commonest indicator pattern shapes (one comparison of an
 * address, domain, URL, e-mail or file hash with a plain string literal) without the full
 * STIX pattern parser, for the ingest hot path. What it accepts, the full parser accepts with
 * exactly the same single index term and "simple" verdict (tests/unit/test_ingest.c checks
 * that on every pattern of the shared STIX pattern cases and on variants of each shape);
 * everything else is left to tide_pattern_parse.
 */
#ifndef TIDE_INGEST_PATTERN_FAST_H
#define TIDE_INGEST_PATTERN_FAST_H

#include <stdbool.h>
#include <stddef.h>

#include "tide/pattern.h"

/* Longest literal the fast path takes (longer ones go to the full parser). */
#define TIDE__PATTERN_FAST_MAX 2048

/* When pattern is `[TYPE:PATH OP 'VALUE']` of a recognised shape, fill *t as
 * tide_pattern_terms would report its one term (and_group 1, not negated; strings are static
 * or point into value, which receives the NUL-terminated literal) and return true: the pattern
 * is valid and simple. Otherwise return false. */
bool tide__pattern_fast(
        const char *pattern, tide_pattern_term *t, char value[TIDE__PATTERN_FAST_MAX + 1]);

#endif
