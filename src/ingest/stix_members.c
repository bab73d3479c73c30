/*
 * stix_members.c - the members of a STIX object the ingest core reads (stix_members.h): the
 * key table both producers share, filling them from a jansson object, the comparison the
 * differential tests use, and the per-object scratch arena.
 */
#include "ingest/stix_members.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <string.h>

#include "util/util.h"

/* ---- arena ---- */

void *tide__arena_alloc(tide__arena *a, size_t n, size_t align)
{
    tide__arena_blk *b = a->head;
    if (b != NULL) {
        uintptr_t base = (uintptr_t)b->data,
                  at = (base + b->used + align - 1) & ~(uintptr_t)(align - 1);
        size_t off = (size_t)(at - base);
        if (off <= b->cap && n <= b->cap - off) {
            b->used = off + n;
            return b->data + off;
        }
    }
    /* a new block at least as big as all the others together: a reset keeps only it */
    size_t cap = a->total > 4096 ? a->total : 4096;
    if (cap < n + align)
        cap = n + align;
    b = tide__malloc(sizeof(*b) + cap);
    if (b == NULL)
        return NULL;
    b->next = a->head;
    b->cap = cap;
    b->used = 0;
    a->head = b;
    a->total += cap;
    return tide__arena_alloc(a, n, align);
}

char *tide__arena_strndup_slow(tide__arena *a, const char *s, size_t n)
{
    char *d = tide__arena_alloc(a, n + 1, 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

void tide__arena_reset(tide__arena *a)
{
    tide__arena_blk *b = a->head;
    if (b == NULL)
        return;
    tide__arena_blk *n = b->next;
    while (n != NULL) {
        tide__arena_blk *next = n->next;
        tide__free(n);
        n = next;
    }
    b->next = NULL;
    b->used = 0;
    a->total = b->cap;
}

void tide__arena_free(tide__arena *a)
{
    tide__arena_reset(a);
    tide__free(a->head);
    a->head = NULL;
    a->total = 0;
}

/* ---- the key table ---- */

#define IS(lit) (klen == sizeof(lit) - 1 && memcmp(key, lit, sizeof(lit) - 1) == 0)

int tide__members_slot(const char *key, size_t klen)
{
    if (klen < 2)
        return TIDE__M_NONE;
    switch (key[0]) {
        case 'c':
            return IS("created")      ? TIDE__M_CREATED
                   : IS("confidence") ? TIDE__M_CONFIDENCE
                                      : TIDE__M_NONE;
        case 'g': return IS("granular_markings") ? TIDE__M_GRANULAR_MARKINGS : TIDE__M_NONE;
        case 'i': return IS("id") ? TIDE__M_ID : TIDE__M_NONE;
        case 'k': return IS("kill_chain_phases") ? TIDE__M_KILL_CHAIN_PHASES : TIDE__M_NONE;
        case 'm': return IS("modified") ? TIDE__M_MODIFIED : TIDE__M_NONE;
        case 'n': return IS("name") ? TIDE__M_NAME : TIDE__M_NONE;
        case 'o':
            return IS("object_marking_refs")  ? TIDE__M_OBJECT_MARKING_REFS
                   : IS("object_refs")        ? TIDE__M_OBJECT_REFS
                   : IS("objects")            ? TIDE__M_OBJECTS
                   : IS("observed_data_refs") ? TIDE__M_OBSERVED_DATA_REFS
                                              : TIDE__M_NONE;
        case 'p':
            return IS("pattern")        ? TIDE__M_PATTERN
                   : IS("pattern_type") ? TIDE__M_PATTERN_TYPE
                                        : TIDE__M_NONE;
        case 'r':
            return IS("revoked")             ? TIDE__M_REVOKED
                   : IS("relationship_type") ? TIDE__M_RELATIONSHIP_TYPE
                                             : TIDE__M_NONE;
        case 's':
            return IS("spec_version")      ? TIDE__M_SPEC_VERSION
                   : IS("source_ref")      ? TIDE__M_SOURCE_REF
                   : IS("sighting_of_ref") ? TIDE__M_SIGHTING_OF_REF
                                           : TIDE__M_NONE;
        case 't':
            return IS("type") ? TIDE__M_TYPE : IS("target_ref") ? TIDE__M_TARGET_REF : TIDE__M_NONE;
        case 'v':
            return IS("value")         ? TIDE__M_VALUE
                   : IS("valid_from")  ? TIDE__M_VALID_FROM
                   : IS("valid_until") ? TIDE__M_VALID_UNTIL
                                       : TIDE__M_NONE;
        case 'w': return IS("where_sighted_refs") ? TIDE__M_WHERE_SIGHTED_REFS : TIDE__M_NONE;
        case 'x':
            return IS("x_tide_source")        ? TIDE__M_X_TIDE_SOURCE
                   : IS("x_tide_reliability") ? TIDE__M_X_TIDE_RELIABILITY
                                              : TIDE__M_NONE;
        default: return TIDE__M_NONE;
    }
}

#undef IS

#define OFF(f) (unsigned short)offsetof(tide__members, f)
const unsigned short tide__members_str_off[TIDE__M_LAST_STRING + 1] = {
    [TIDE__M_NONE] = 0, /* never used */
    [TIDE__M_ID] = OFF(id),
    [TIDE__M_TYPE] = OFF(type),
    [TIDE__M_SPEC_VERSION] = OFF(spec_version),
    [TIDE__M_NAME] = OFF(name),
    [TIDE__M_VALUE] = OFF(value),
    [TIDE__M_PATTERN] = OFF(pattern),
    [TIDE__M_PATTERN_TYPE] = OFF(pattern_type),
    [TIDE__M_CREATED] = OFF(created),
    [TIDE__M_MODIFIED] = OFF(modified),
    [TIDE__M_VALID_FROM] = OFF(valid_from),
    [TIDE__M_VALID_UNTIL] = OFF(valid_until),
    [TIDE__M_X_TIDE_SOURCE] = OFF(x_tide_source),
    [TIDE__M_X_TIDE_RELIABILITY] = OFF(x_tide_reliability),
    [TIDE__M_RELATIONSHIP_TYPE] = OFF(relationship_type),
    [TIDE__M_SOURCE_REF] = OFF(source_ref),
    [TIDE__M_TARGET_REF] = OFF(target_ref),
    [TIDE__M_SIGHTING_OF_REF] = OFF(sighting_of_ref),
};
#undef OFF

tide__strs *tide__members_list(tide__members *m, int slot)
{
    switch (slot) {
        case TIDE__M_OBJECT_MARKING_REFS: return &m->object_marking_refs;
        case TIDE__M_OBJECT_REFS: return &m->object_refs;
        case TIDE__M_WHERE_SIGHTED_REFS: return &m->where_sighted_refs;
        case TIDE__M_OBSERVED_DATA_REFS: return &m->observed_data_refs;
        default: return NULL;
    }
}

/* ---- from a jansson object ---- */

static int list_from_json(json_t *arr, tide__strs *out, tide__arena *a)
{
    size_t n = json_array_size(arr), k = 0, i;
    if (n == 0)
        return 0;
    const char **v = tide__arena_alloc(a, n * sizeof(*v), sizeof(void *));
    if (v == NULL)
        return TIDE_ENOMEM;
    json_t *x;
    json_array_foreach(arr, i, x)
    {
        if (json_is_string(x))
            v[k++] = json_string_value(x);
    }
    out->v = v;
    out->n = k;
    return 0;
}

static int kc_from_json(json_t *arr, tide__members *m, tide__arena *a)
{
    size_t n = json_array_size(arr), k = 0, i;
    if (n == 0)
        return 0;
    tide__kc_phase *v = tide__arena_alloc(a, n * sizeof(*v), sizeof(void *));
    if (v == NULL)
        return TIDE_ENOMEM;
    json_t *x;
    json_array_foreach(arr, i, x)
    {
        if (!json_is_object(x))
            continue;
        json_t *kn = json_object_get(x, "kill_chain_name"), *pn = json_object_get(x, "phase_name");
        v[k].kill_chain_name = json_is_string(kn) ? json_string_value(kn) : NULL;
        v[k].phase_name = json_is_string(pn) ? json_string_value(pn) : NULL;
        k++;
    }
    m->kill_chain_phases = v;
    m->n_kill_chain_phases = k;
    return 0;
}

int tide__members_from_json(json_t *obj, tide__members *m, tide__arena *a)
{
    memset(m, 0, sizeof(*m));
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        int slot = tide__members_slot(key, strlen(key));
        if (slot == TIDE__M_NONE)
            continue;
        if (slot <= TIDE__M_LAST_STRING) {
            *tide__members_str(m, slot) = json_is_string(v) ? json_string_value(v) : NULL;
            continue;
        }
        switch (slot) {
            case TIDE__M_CONFIDENCE:
                m->has_confidence = true;
                m->confidence_is_int = json_is_integer(v);
                m->confidence = m->confidence_is_int ? (long long)json_integer_value(v) : 0;
                m->confidence_real = json_is_real(v) ? json_real_value(v) : NAN;
                break;
            case TIDE__M_REVOKED: m->revoked = json_is_true(v); break;
            case TIDE__M_OBJECTS:
                m->objects = json_is_array(v) ? TIDE__OBJECTS_ARRAY : TIDE__OBJECTS_OTHER;
                break;
            case TIDE__M_GRANULAR_MARKINGS: m->granular = true; break;
            case TIDE__M_KILL_CHAIN_PHASES:
                if (kc_from_json(v, m, a) < 0)
                    return TIDE_ENOMEM;
                break;
            default:
                if (list_from_json(v, tide__members_list(m, slot), a) < 0)
                    return TIDE_ENOMEM;
                break;
        }
    }
    return 0;
}

/* ---- comparison ---- */

static int str_eq(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static const char *str_diff(
        const char *field, const char *a, const char *b, char *why, size_t whysz)
{
    snprintf(why, whysz, "%s: \"%.100s\" vs \"%.100s\"", field, a ? a : "(null)", b ? b : "(null)");
    return why;
}

static const char *const k_str_names[] = { "", "id", "type", "spec_version", "name", "value",
    "pattern", "pattern_type", "created", "modified", "valid_from", "valid_until", "x_tide_source",
    "x_tide_reliability", "relationship_type", "source_ref", "target_ref", "sighting_of_ref" };
static const char *const k_list_names[] = { "object_marking_refs", "object_refs",
    "where_sighted_refs", "observed_data_refs" };

const char *tide__members_diff(
        const tide__members *a, const tide__members *b, char *why, size_t whysz)
{
    tide__members *ma = (tide__members *)a, *mb = (tide__members *)b;
    for (int s = TIDE__M_ID; s <= TIDE__M_LAST_STRING; s++) {
        const char *x = *tide__members_str(ma, s), *y = *tide__members_str(mb, s);
        if (!str_eq(x, y))
            return str_diff(k_str_names[s], x, y, why, whysz);
    }
    if (a->confidence_is_int != b->confidence_is_int ||
            (a->confidence_is_int && a->confidence != b->confidence)) {
        snprintf(why, whysz, "confidence: %s %lld vs %s %lld",
                a->confidence_is_int ? "int" : "not int", a->confidence,
                b->confidence_is_int ? "int" : "not int", b->confidence);
        return why;
    }
    if (a->has_confidence != b->has_confidence ||
            (!a->confidence_is_int && a->has_confidence &&
                    !(a->confidence_real == b->confidence_real ||
                            (isnan(a->confidence_real) && isnan(b->confidence_real))))) {
        snprintf(why, whysz, "confidence: %s %g vs %s %g", a->has_confidence ? "present" : "absent",
                a->confidence_real, b->has_confidence ? "present" : "absent", b->confidence_real);
        return why;
    }
    if (a->revoked != b->revoked) {
        snprintf(why, whysz, "revoked: %d vs %d", a->revoked, b->revoked);
        return why;
    }
    if (a->granular != b->granular) {
        snprintf(why, whysz, "granular_markings: %d vs %d", a->granular, b->granular);
        return why;
    }
    if (a->objects != b->objects) {
        snprintf(why, whysz, "objects: %d vs %d", a->objects, b->objects);
        return why;
    }
    for (int s = TIDE__M_OBJECT_MARKING_REFS; s <= TIDE__M_OBSERVED_DATA_REFS; s++) {
        const tide__strs *x = tide__members_list(ma, s), *y = tide__members_list(mb, s);
        const char *name = k_list_names[s - TIDE__M_OBJECT_MARKING_REFS];
        if (x->n != y->n) {
            snprintf(why, whysz, "%s: %zu vs %zu strings", name, x->n, y->n);
            return why;
        }
        for (size_t i = 0; i < x->n; i++)
            if (!str_eq(x->v[i], y->v[i]))
                return str_diff(name, x->v[i], y->v[i], why, whysz);
    }
    if (a->n_kill_chain_phases != b->n_kill_chain_phases) {
        snprintf(why, whysz, "kill_chain_phases: %zu vs %zu objects", a->n_kill_chain_phases,
                b->n_kill_chain_phases);
        return why;
    }
    for (size_t i = 0; i < a->n_kill_chain_phases; i++) {
        const tide__kc_phase *x = &a->kill_chain_phases[i], *y = &b->kill_chain_phases[i];
        if (!str_eq(x->kill_chain_name, y->kill_chain_name))
            return str_diff("kill_chain_phases[].kill_chain_name", x->kill_chain_name,
                    y->kill_chain_name, why, whysz);
        if (!str_eq(x->phase_name, y->phase_name))
            return str_diff(
                    "kill_chain_phases[].phase_name", x->phase_name, y->phase_name, why, whysz);
    }
    return NULL;
}
