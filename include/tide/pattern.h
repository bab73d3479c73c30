/*
 * pattern.h - STIX 2.0 / 2.1 patterning: parser and validator, the evaluator (semantics of the
 * OASIS reference matcher, cti-pattern-matcher) and the extraction of index terms for the fast
 * match index (SPEC C1 "simple patterns", C2).
 */
#ifndef TIDE_PATTERN_H
#define TIDE_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"

/** @brief A parsed and validated STIX pattern (opaque, immutable, thread-safe to read). */
typedef struct tide_pattern tide_pattern;

/** @brief The STIX version whose pattern grammar and observed-data layout apply. */
typedef enum {
    TIDE_STIX_20 = 20,
    TIDE_STIX_21 = 21
} tide_stix_version;

/** @brief Longest pattern accepted, in bytes. */
#define TIDE_PATTERN_MAX_LEN 65536
/** @brief Deepest nesting of parentheses / brackets accepted. */
#define TIDE_PATTERN_MAX_DEPTH 128

/**
 * @brief Parse and validate a pattern.
 *
 * On error returns TIDE_EPARSE (TIDE_ENOMEM on allocation failure) and writes
 * "position N: reason" into errbuf (N = 1-based character column), which also becomes the
 * thread's error detail. errbuf may be NULL.
 */
TIDE_EXTERN(int)
tide_pattern_parse(
        tide_pattern **out, const char *text, tide_stix_version v, char *errbuf, size_t errlen);

/** @brief Free a pattern; accepts NULL. */
TIDE_EXTERN(void) tide_pattern_free(tide_pattern *p);

/** @brief The STIX version the pattern was parsed for. */
TIDE_EXTERN(tide_stix_version) tide_pattern_version(const tide_pattern *p);

/**
 * @brief Evaluate the pattern against observed data given as JSON text.
 *
 * 2.1: a JSON array of bundles whose objects are merged (a single bundle object is accepted
 * too); every observed-data object is an observation whose object_refs name its SCOs.
 * 2.0: a JSON array of observed-data objects with an embedded "objects" dictionary.
 * *out_matched is set on success. Returns 0, TIDE_EPARSE for bad data JSON (with the byte
 * offset), TIDE_ETOOBIG when the data or the evaluation exceeds a cap (a regular expression
 * over its step, depth or memory limit: about 30 ms), or TIDE_EMATCH for
 * run-time matcher errors (a string compared with t'' that is not a timestamp, a mixed-type
 * set literal, WITHIN 0 SECONDS, REPEATS 0 TIMES, a bad CIDR ...). Detail goes to errbuf
 * (may be NULL) and tide_error_set().
 */
TIDE_EXTERN(int)
tide_pattern_match_json(const tide_pattern *p, const char *json, size_t len, bool *out_matched,
        char *errbuf, size_t errlen);

/**
 * @brief Check, without data, what would make every evaluation of the pattern fail or cost
 * too much: invalid regular expressions, invalid timestamp literals, set literals that mix
 * types, WITHIN 0, REPEATS 0, negative list indexes, invalid START / STOP; and MATCHES / LIKE
 * whose regular expression backtracks catastrophically (each is run on probe strings made of
 * its own characters under a small step limit: nested quantifiers such as '(a|aa)+$' or
 * '(a+)+$' exceed it).
 *
 * Returns 0, TIDE_EMATCH (always fails) or TIDE_ETOOBIG (too costly), with "column N: reason"
 * in errbuf (may be NULL) and tide_error_last(). The ingest refuses such indicators.
 */
TIDE_EXTERN(int) tide_pattern_check(const tide_pattern *p, char *errbuf, size_t errlen);

/** @brief One index term of a pattern (all strings borrowed for the duration of the callback). */
typedef struct {
    const char *object_type; /**< e.g. "ipv4-addr" */
    const char
            *path; /**< normalised path after the colon, e.g. "hashes.'SHA-256'", "dst_ref.value" */
    const char *op;    /**< "=", "IN", "ISSUBSET", or "LIKE" (url-path shape only, below) */
    const char *value; /**< the string literal unescaped, or decimal text of an int literal */
    int and_group;     /**< terms that must hold together share a number (see tide_pattern_terms) */
    bool negated;      /**< the comparison carries NOT */
} tide_pattern_term;

/**
 * @brief Enumerate the index terms: every comparison whose operator is =, IN (one term per
 * string / int element) or ISSUBSET with a string (or int) literal, and every
 * `url:value LIKE '%/path'` of the url-path shape (tide_pattern_like_url_path; op "LIKE", the
 * value is the literal with its leading '%').
 *
 * and_group: comparisons joined by AND inside one observation expression share a number; each
 * OR branch and each observation expression starts a new one. For `(a OR b) AND c` the groups
 * are {c}, {a}, {b}: every real match fully satisfies at least one group, so the groups are a
 * sound candidate filter. *out_simple (may be NULL) is true when the pattern is one observation
 * expression without qualifiers whose comparisons are all non-negated =, IN, ISSUBSET with
 * string / int literals or url-path LIKEs, joined only by OR (a url-path LIKE is decided by
 * the match index's url-path entries: the URL ends with the path at a '/'). cb returning non-zero
 * stops the walk; that value is returned. Returns 0 otherwise.
 */
TIDE_EXTERN(int)
tide_pattern_terms(const tide_pattern *p, bool *out_simple,
        int (*cb)(const tide_pattern_term *t, void *payload), void *payload);

/**
 * @brief Whether a LIKE literal (n bytes, unescaped) is the url-path shape `%/path`: one
 * leading '%', then a path starting with '/' whose other '%' are percent-escapes (%XX).
 *
 * `url:value LIKE '%/path'` is how a url-path indicator (maltrail's bare-path trails, MISP
 * `uri`) is written; it is indexed as the url-path observable "/path". '_' in the path is
 * taken literally, as the trail it comes from means it (LIKE would let it stand for any one
 * character too): the index is never broader than the pattern.
 */
TIDE_EXTERN(bool) tide_pattern_like_url_path(const char *lit, size_t n);

/** @brief One requirement a match places on the events that can take part in it
 *  (tide_pattern_prefilter). Strings are borrowed for the duration of the callback. */
typedef struct {
    const char *object_type; /**< e.g. "domain-name" */
    const char *path;        /**< normalised path after the colon, e.g. "value" */
    bool fragment;           /**< true: the compared value must contain value[0..len) (a literal run
                                  of a LIKE / MATCHES, ASCII lower-cased: compare case-insensitively);
                                  false: an equality term (=, IN, ISSUBSET, url-path LIKE) whose
                                  literal is value (as tide_pattern_terms gives it) */
    const char *value;
    size_t len;
    int column; /**< 1-based column of the comparison */
} tide_pattern_atom;

/**
 * @brief Whether the events that can match the pattern can be told by what they hold, and by
 * what: every observation expression must be bounded. A comparison is bounded by an equality
 * term usable() accepts (one the match index holds) or by the literal fragments of a LIKE (its
 * longest literal run) or MATCHES (the longest literal run of each top-level alternative; a
 * regular expression with a construct the walk does not follow gives none) of 3 or more ASCII
 * characters, when usable() accepts them (their object path is observed); an AND by either
 * side (equality terms preferred), an OR by both. NOT, !=, ordering, EXISTS and ISSUPERSET
 * bound nothing.
 *
 * Returns 1 when bounded, after emit (may be NULL) got every fragment atom of the chosen
 * bounds (the equality terms are the index's: not emitted); 0 when not, with the reason
 * ("column 2: MATCHES '^[a-z]+$' has no literal run of 3 or more characters") in reason (may
 * be NULL); or emit's negative return.
 */
TIDE_EXTERN(int)
tide_pattern_prefilter(const tide_pattern *p,
        bool (*usable)(const tide_pattern_atom *a, void *payload),
        int (*emit)(const tide_pattern_atom *a, void *payload), void *payload, char *reason,
        size_t rlen);

/** @brief Whether deciding the pattern takes more than one observation: an AND or FOLLOWEDBY
 *  of observation expressions, or REPEATS n > 1 (a matcher then keeps a window of candidate
 *  observations per host). WITHIN and START / STOP on one observation do not. */
TIDE_EXTERN(bool) tide_pattern_needs_window(const tide_pattern *p);

#endif
