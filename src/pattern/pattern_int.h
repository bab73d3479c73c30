/*
 * pattern_int.h - internals of STIX patterning shared by the parser (parse.c), the evaluator
 * (match.c) and the Unicode helpers (unicode.c): the syntax tree and helper declarations.
 */
#ifndef TIDE_PATTERN_INT_H
#define TIDE_PATTERN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tide/pattern.h"

/* A point in time with nanosecond precision (UTC). */
typedef struct {
    int64_t s;
    int32_t ns;
} tide__ts;

typedef enum {
    LIT_INT,
    LIT_FLOAT,
    LIT_STR,
    LIT_BIN, /* b'' and h'' */
    LIT_BOOL,
    LIT_TS,
} lit_kind;

typedef struct {
    lit_kind kind;
    int64_t i;
    double f;
    bool b;
    char *s;     /* LIT_STR: unescaped UTF-8, NUL-terminated; LIT_BIN: bytes */
    size_t len;  /* bytes of s */
    tide__ts ts; /* LIT_TS */
    bool ts_bad; /* LIT_TS that is well-formed but not a calendar date: error at match */
    char *text;  /* the literal as written (for hash checks and messages) */
    char *term;  /* value for tide_pattern_term (strings, ints), else NULL */
} lit;

typedef enum {
    STEP_KEY,
    STEP_INDEX,
    STEP_STAR
} step_kind;

typedef struct {
    step_kind kind;
    char *key;   /* STEP_KEY, unquoted */
    int64_t idx; /* STEP_INDEX (may be negative: an error at match time) */
} path_step;

typedef enum {
    OP_EQ,
    OP_NEQ,
    OP_LT,
    OP_LE,
    OP_GT,
    OP_GE,
    OP_IN,
    OP_LIKE,
    OP_MATCHES,
    OP_ISSUBSET,
    OP_ISSUPERSET,
    OP_EXISTS,
} cmp_op;

typedef enum {
    CMP_TEST,
    CMP_AND,
    CMP_OR
} cmp_kind;

typedef struct cmp_node {
    cmp_kind kind;
    struct cmp_node *l, *r; /* AND / OR */
    /* CMP_TEST */
    char *type;
    path_step *steps;
    size_t nsteps;
    char *path_text; /* normalised path after the colon */
    cmp_op op;
    bool negated;
    lit *lits; /* one literal, or the set elements for IN */
    size_t nlits;
    int pos; /* 1-based column of the comparison */
} cmp_node;

typedef enum {
    OBS_SIMPLE,
    OBS_AND,
    OBS_OR,
    OBS_FOLLOWEDBY,
    OBS_WITHIN,
    OBS_REPEATS,
    OBS_STARTSTOP,
    OBS_PAREN, /* parenthesised group (kept for the duplicate-qualifier rule) */
} obs_kind;

typedef struct obs_node {
    obs_kind kind;
    struct obs_node *l, *r; /* binary ops; qualifiers and PAREN use l */
    cmp_node *cmp;          /* OBS_SIMPLE */
    double within;          /* seconds */
    int64_t repeats;
    tide__ts start, stop;
    bool start_bad, stop_bad;
    int pos;
} obs_node;

struct tide_pattern {
    tide_stix_version version;
    obs_node *root;
    char *text;
};

/* Strict STIX timestamp "YYYY-MM-DDTHH:MM:SS[.frac]Z" (upper case). Returns 0, -1 when
 * malformed, -2 when well-formed but not a real date/time (Feb 30, second 60 ...). */
int tide__pattern_ts_parse(const char *s, size_t n, tide__ts *out);
int tide__ts_cmp(tide__ts a, tide__ts b);

/* NFC normalisation of valid UTF-8. Returns a tide__malloc'ed NUL-terminated string (or NULL
 * on allocation failure) and its length through out_len. */
char *tide__utf8_nfc(const char *s, size_t n, size_t *out_len);
/* Decode one UTF-8 code point at s (n bytes left); returns its length or 0 when invalid. */
size_t tide__utf8_decode(const unsigned char *s, size_t n, uint32_t *out);

#endif
