/*
 * stix_members.h - the top-level members of a STIX object that the ingest core reads, as
 * decoded C values, and the scratch arena that holds them.
 *
 * Two producers fill the same struct with the same values for the same object:
 *   - tide__json_parse_members (json_fast.c) straight from the object's bytes, in the one
 *     validating pass, without a jansson DOM: the STIX bundle path;
 *   - tide__members_from_json (stix_members.c) from a jansson object: readers that build
 *     objects (MISP, CSV, lists) and DOM sinks.
 * Semantics are jansson's: a repeated key keeps its last value; a member of the wrong JSON type
 * reads as absent (a string member that is not a string is NULL, a list that is not an array is
 * empty). tests/unit/test_json_fast.c and fuzz/fuzz_json_fast.c compare the two field by field
 * (tide__members_diff).
 */
#ifndef TIDE_INGEST_STIX_MEMBERS_H
#define TIDE_INGEST_STIX_MEMBERS_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <jansson.h>

/* ---- a bump allocator, reset per object; blocks never move ---- */
typedef struct tide__arena_blk tide__arena_blk;
struct tide__arena_blk {
    tide__arena_blk *next;
    size_t cap, used;
    unsigned char data[];
};
typedef struct {
    tide__arena_blk *head; /* current block (newest first) */
    size_t total;          /* bytes of all blocks: one block of this size after a reset */
} tide__arena;

#define TIDE__ARENA_INIT                                                                           \
    {                                                                                              \
        NULL, 0                                                                                    \
    }
void *tide__arena_alloc(tide__arena *a, size_t n, size_t align); /* NULL: out of memory */
char *tide__arena_strndup_slow(tide__arena *a, const char *s, size_t n);
void tide__arena_reset(tide__arena *a); /* forget everything, keep (at most) one block */
void tide__arena_free(tide__arena *a);

/* A NUL-terminated copy of s[0..n) (NULL: out of memory). Inline: the members parser copies
 * some ten strings per object. */
static inline char *tide__arena_strndup(tide__arena *a, const char *s, size_t n)
{
    tide__arena_blk *b = a->head;
    if (b != NULL && b->cap - b->used > n) {
        char *d = (char *)b->data + b->used;
        b->used += n + 1;
        memcpy(d, s, n);
        d[n] = '\0';
        return d;
    }
    return tide__arena_strndup_slow(a, s, n);
}

/* ---- the members ---- */

/* String elements of an array member, in order (other elements are left out). */
typedef struct {
    const char *const *v;
    size_t n;
} tide__strs;

/* One object element of kill_chain_phases (elements that are not objects are left out). */
typedef struct {
    const char *kill_chain_name, *phase_name; /* NULL: absent or not a string */
} tide__kc_phase;

/* "objects" (read_stix.c tells a bundle without an objects array from a bad one) */
enum {
    TIDE__OBJECTS_ABSENT = 0,
    TIDE__OBJECTS_ARRAY,
    TIDE__OBJECTS_OTHER
};

typedef struct {
    /* string members: NULL when absent or not a string; NUL-terminated, unescaped */
    const char *id, *type, *spec_version, *name, *value, *pattern, *pattern_type, *created,
            *modified, *valid_from, *valid_until, *x_tide_source, *x_tide_reliability,
            *relationship_type, *source_ref, *target_ref, *sighting_of_ref;
    bool confidence_is_int; /* a JSON integer (not a real: big-integer objects are all reals) */
    bool has_confidence;    /* "confidence" is present, whatever its JSON type */
    bool revoked;           /* the literal true */
    bool granular;          /* a granular_markings member is present (whatever its value) */
    unsigned char objects;  /* TIDE__OBJECTS_* */
    long long confidence;   /* when confidence_is_int */
    double confidence_real; /* when it is a JSON real; NaN when present but not a number */
    /* arrays: empty when absent or not an array */
    tide__strs object_marking_refs, object_refs, where_sighted_refs, observed_data_refs;
    const tide__kc_phase *kill_chain_phases;
    size_t n_kill_chain_phases;
} tide__members;

/* Fill m from a jansson object (m is zeroed first; a non-object leaves it zeroed). Strings
 * point into obj, arrays into a (valid until the arena is reset or obj freed). 0, or
 * TIDE_ENOMEM. */
int tide__members_from_json(json_t *obj, tide__members *m, tide__arena *a);

/* Which member a top-level key names (the table both producers use). */
enum {
    TIDE__M_NONE = 0,
    /* string members, in the order of the struct */
    TIDE__M_ID,
    TIDE__M_TYPE,
    TIDE__M_SPEC_VERSION,
    TIDE__M_NAME,
    TIDE__M_VALUE,
    TIDE__M_PATTERN,
    TIDE__M_PATTERN_TYPE,
    TIDE__M_CREATED,
    TIDE__M_MODIFIED,
    TIDE__M_VALID_FROM,
    TIDE__M_VALID_UNTIL,
    TIDE__M_X_TIDE_SOURCE,
    TIDE__M_X_TIDE_RELIABILITY,
    TIDE__M_RELATIONSHIP_TYPE,
    TIDE__M_SOURCE_REF,
    TIDE__M_TARGET_REF,
    TIDE__M_SIGHTING_OF_REF,
    TIDE__M_LAST_STRING = TIDE__M_SIGHTING_OF_REF,
    TIDE__M_CONFIDENCE,
    TIDE__M_REVOKED,
    TIDE__M_OBJECTS,
    TIDE__M_GRANULAR_MARKINGS,
    /* string lists */
    TIDE__M_OBJECT_MARKING_REFS,
    TIDE__M_OBJECT_REFS,
    TIDE__M_WHERE_SIGHTED_REFS,
    TIDE__M_OBSERVED_DATA_REFS,
    TIDE__M_KILL_CHAIN_PHASES,
};
int tide__members_slot(const char *key, size_t klen);
/* The string member for slot (TIDE__M_ID .. TIDE__M_LAST_STRING), or the list for a list slot. */
extern const unsigned short tide__members_str_off[TIDE__M_LAST_STRING + 1];
static inline const char **tide__members_str(tide__members *m, int slot)
{
    return (const char **)(void *)((char *)m + tide__members_str_off[slot]);
}
tide__strs *tide__members_list(tide__members *m, int slot);

/* Field-by-field comparison for the differential tests: NULL when equal, else a description
 * of the first difference (in why). */
const char *tide__members_diff(
        const tide__members *a, const tide__members *b, char *why, size_t whysz);

#endif
