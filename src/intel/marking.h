/*
 * marking.h - the meaning of STIX data markings and the gate's decision on one object, without
 * the store (tide/gate.h says the rules). What the decision needs from outside (what a custom
 * marking-definition means, the TLP the store keeps for an object, the level of a referenced
 * object) comes through a resolver: src/store/store_gate.c binds it to a store, the ingest
 * core to what it has read so far.
 */
#ifndef TIDE_INTEL_MARKING_H
#define TIDE_INTEL_MARKING_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "tide/gate.h"

/* A marking-definition id the resolver does not know (yet): under a ceiling, red. */
#define TIDE__MARK_UNKNOWN (-3)

/* The callbacks never fail: one that cannot answer (a store error) answers what is safe (an
 * unknown marking, red) and keeps the error for its owner to report. */
typedef struct {
    /* meaning of a marking-definition id that is not a TLP 1.0 / 2.0 one: a TIDE_TLP_*,
     * TIDE_MARKING_NOT_TLP or TIDE__MARK_UNKNOWN; NULL: every such id is unknown */
    int (*marking)(void *payload, const char *id);
    /* the TLP label the store keeps for object id, borrowed until the next call; NULL when
     * none. NULL callback: no label */
    const char *(*label)(void *payload, const char *id);
    /* level of the stored object id (TIDE_TLP_*) or TIDE_GATE_NOT_STORED; NULL callback:
     * references are not checked */
    int (*object)(void *payload, const char *id);
    void *payload;
} tide__mark_resolver;

/* Meaning of a marking-definition object (tide_marking_definition_level). */
int tide__mark_definition(json_t *md);

/* Meaning of one marking id: the TLP 1.0 / 2.0 ids, else the resolver's answer. */
int tide__mark_id(const tide__mark_resolver *r, const char *id);

/* The most restrictive level among marking ids: a TIDE_TLP_*, or -1 when none has a TLP
 * meaning (unmarked). An unknown id counts as red and sets *unresolved (may be NULL). */
int tide__mark_ids_level(
        const tide__mark_resolver *r, const char *const *ids, size_t n, bool *unresolved);

/* Level a stored label stands for when the object's own markings have no TLP meaning:
 * a TLP name, NULL / "" unmarked (amber), TIDE_TLP_UNRESOLVED["/<tlp>"] its fallback (the
 * markings are now resolved and not TLP ones) or unmarked, anything else red. */
int tide__mark_label_level(const char *label);

/* The object's level: its object_marking_refs, else (for a marking-definition) the level it
 * defines, else its label (resolver->label when label_given is false). */
int tide__mark_object_level(
        const tide__mark_resolver *r, json_t *obj, const char *label, bool label_given);

/* Highest level of the granular markings whose selectors select the top-level property prop
 * or something inside it; -1 when none (TIDE_MARKING_NOT_TLP markings do not count). An
 * unknown marking counts as red and sets *unresolved (may be NULL). */
int tide__mark_granular_level(
        const tide__mark_resolver *r, json_t *obj, const char *prop, bool *unresolved);

/* The gate's decision on obj (tide_gate_object), made in place: obj loses what may not pass.
 * *out_level gets the object's level; *changed whether obj was modified. Returns a
 * tide_gate_verdict or a negative TIDE_E*. */
int tide__mark_gate(const tide__mark_resolver *r, int ceiling, json_t *obj, const char *label,
        bool label_given, int *out_level, bool *changed);

#endif
