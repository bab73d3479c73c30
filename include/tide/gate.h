/*
 * gate.h - what may leave tide under a TLP ceiling. One decision, used by every path that lets
 * intel out (exports of every format, case shares, and the API and TAXII routes to come):
 *
 *   - an object's level is the most restrictive of its object_marking_refs (TLP 1.0 / 2.0
 *     ids, and custom marking-definitions of TLP type, resolved through the store); a
 *     marking tide cannot interpret (an unknown definition type, a definition not stored)
 *     counts as TLP:RED; statement, PAP and other non-TLP markings restrict nothing; an object
 *     without a TLP marking has the TLP the store keeps for it (ingest --tlp), else it is
 *     unmarked and counts as amber (tide/tlp.h);
 *   - an object above the ceiling is withheld, whole;
 *   - a property selected by a granular marking above the ceiling is removed (a list element
 *     or nested member: the element or member; an external reference or kill-chain phase
 *     whose required member is selected: the whole element); a required property that can
 *     be replaced is redacted (name, content: "REDACTED"); one that cannot (pattern, a
 *     relationship's refs, ids, timestamps, an SCO's value ...) withholds the object;
 *   - a reference (any top-level *_ref / *_refs but object_marking_refs) to a stored object
 *     above the ceiling is removed; an object whose required reference goes (a relationship's
 *     source_ref / target_ref, a sighting's sighting_of_ref) or whose object_refs empties (a
 *     report, a grouping, a note, an opinion) is withheld. References to objects the store
 *     does not hold are kept: they are the referring object's own content;
 *   - text tide writes from marked objects (a case report's description, a course of action)
 *     carries the highest level of the marked values it quotes (tide_gate_taint).
 *
 * A gate is bound to a store (for marking-definitions, labels and referenced objects) and to
 * one ceiling, and caches what it resolved; one gate per export or share. Not thread-safe.
 */
#ifndef TIDE_GATE_H
#define TIDE_GATE_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"
#include "store.h"
#include "tlp.h"

/** Meaning of a marking that restricts nothing under TLP (a statement, PAP ...). */
#define TIDE_MARKING_NOT_TLP (-1)
/** A level above TLP:RED: for values that never leave (host names in a case share). */
#define TIDE_GATE_NEVER (TIDE_TLP_RED + 1)
/** tide_gate_level_of: the store does not hold the object. */
#define TIDE_GATE_NOT_STORED (-2)
/** The label tide stores for an object with a marking it could not resolve at ingest (its
 *  marking-definition not seen yet): under a ceiling it counts as TLP:RED until the gate
 *  resolves it through the store. "unresolved/<tlp>" keeps the TLP ingest --tlp gave, for
 *  when the marking turns out not to be a TLP one. */
#define TIDE_TLP_UNRESOLVED "unresolved"

/** @brief What a marking-definition object means under TLP: its TIDE_TLP_* level (the TLP 1.0
 *  and 2.0 ids; definition_type "tlp" with definition {"tlp": "red"}; a TLP 2.0 extension's
 *  "tlp_2_0"; a name "TLP:GREEN" alone), TIDE_MARKING_NOT_TLP (definition_type "statement"
 *  or "pap"), or TIDE_TLP_RED for anything else (not interpretable) and for text that is not
 *  a JSON object. */
TIDE_EXTERN(int) tide_marking_definition_level(const char *json, size_t len);

/** The verdicts of tide_gate_object. */
typedef enum {
    TIDE_GATE_PASS = 0,     /**< the object may leave as it is */
    TIDE_GATE_REDACTED = 1, /**< it may leave with properties or references removed */
    TIDE_GATE_WITHHELD = 2, /**< it may not leave */
} tide_gate_verdict;

typedef struct tide_gate tide_gate;

/** @brief A gate for the ceiling `ceiling` (a tide_tlp) over store (which may be NULL: no
 *  marking-definition, label or reference can then be looked up; unknown custom markings count
 *  as red and references are kept). @param[out] out free with tide_gate_free. */
TIDE_EXTERN(int) tide_gate_new(tide_gate **out, tide_store *store, int ceiling);
TIDE_EXTERN(void) tide_gate_free(tide_gate *gate);
/** @brief The gate's ceiling. */
TIDE_EXTERN(int) tide_gate_ceiling(const tide_gate *gate);
/** @brief Whether a level (a tide_tlp, TIDE_GATE_NEVER) may pass: level <= ceiling. */
TIDE_EXTERN(bool) tide_gate_allows(const tide_gate *gate, int level);

/** @brief The decision for one STIX object (JSON text, len bytes): may it pass the ceiling,
 *  and with what removed (see the top of this file). label: the TLP the store keeps for it
 *  (tide_object_rec.tlp), or NULL to look it up when the object carries no TLP marking.
 *  @param[out] out NULL when the object passes as it is or is withheld; the redacted JSON
 *  text (free with free()) when TIDE_GATE_REDACTED. @param[out] out_level (may be NULL) the
 *  object's level. @return a tide_gate_verdict, or a negative TIDE_E* (TIDE_EPARSE: not a
 *  JSON object; it is withheld). */
TIDE_EXTERN(int)
tide_gate_object(tide_gate *gate, const char *json, size_t len, const char *label, char **out,
        int *out_level);

/** @brief The TLP marking tide writes on an object that leaves without a TLP marking of its
 *  own, so that the TLP the store keeps for it (ingest --tlp, the TLP a case promoted it with)
 *  travels with it: the TLP 2.0 marking-definition id of that level (TLP:CLEAR for a label
 *  "white"). label: as for tide_gate_object (NULL: looked up). *out is NULL (nothing to add)
 *  when the object (JSON text, len bytes) has an object marking with a TLP meaning (TLP 1.0 or
 *  2.0 id, a custom TLP definition, one the gate cannot interpret), has granular markings, is
 *  a marking-definition, or has no TLP stored (unmarked). @param[out] out a static string.
 *  @return 0 or a negative TIDE_E* (the store failed). */
TIDE_EXTERN(int)
tide_gate_own_marking(tide_gate *gate, const char *id, const char *json, size_t len,
        const char *label, const char **out);

/** @brief Whether every marking-definition an object (JSON text the gate let pass) refers to
 *  (object_marking_refs, granular_markings) may leave with it: a TLP 1.0 / 2.0 one always (the
 *  gate kept only those at or below the ceiling), a stored custom one (a statement ...) when
 *  it passes the gate itself, one not stored (nothing to leak). A path that lets objects out
 *  with their definitions withholds an object for which this is 0: what it shares must be
 *  self-contained, and a definition marked above the ceiling must not leave. @return 1 yes,
 *  0 no, or a negative TIDE_E*. */
TIDE_EXTERN(int) tide_gate_markings_pass(tide_gate *gate, const char *json, size_t len);

/** @brief The level of the stored object id as the gate sees it (cached), or
 *  TIDE_GATE_NOT_STORED. */
TIDE_EXTERN(int) tide_gate_level_of(tide_gate *gate, const char *id);
/** @brief The level of the value of its name property, i.e. the object's level raised by a
 *  granular marking of its name, or TIDE_GATE_NOT_STORED. */
TIDE_EXTERN(int) tide_gate_name_level_of(tide_gate *gate, const char *id);

/** @brief The level of an indicator of the active-intel scan (tide_indicator_obs.tlp): its
 *  label's level, resolved through the store when the label is TIDE_TLP_UNRESOLVED (or
 *  not a TLP name), raised by a granular marking of its pattern. */
TIDE_EXTERN(int) tide_gate_indicator_level(tide_gate *gate, const char *id, const char *label);

/** @brief The names of campaigns, malware, tools, intrusion sets and threat actors related to
 *  the stored object id that may pass the ceiling: the walk of the active-intel scan (the
 *  object's references either way to such objects, and one more hop between them), taking
 *  only references whose stating object (the relationship, or the container of an
 *  object_refs) passes and objects whose name passes. cb(name, type) for each, without
 *  duplicates (case-sensitive); a non-zero return stops the walk and is returned. */
TIDE_EXTERN(int)
tide_gate_related_names(tide_gate *gate, const char *id,
        int (*cb)(const char *name, const char *type, void *payload), void *payload);

/** @brief Whether the store holds a named object (campaign, malware, tool, intrusion set,
 *  threat actor) whose name, or a relationship of it, is above the ceiling, and the names
 *  concerned: cb(name) for each. Exports use it to recompute with tide_gate_related_names
 *  only the related names that may be affected. */
TIDE_EXTERN(int)
tide_gate_restricted_names(
        tide_gate *gate, int (*cb)(const char *name, void *payload), void *payload);

/** @brief Derived text: the value term (a name, an indicator value, a host) is quoted at
 *  level; tide_gate_text_level finds it, case-insensitively, in text tide writes. A term given
 *  twice keeps its highest level. */
TIDE_EXTERN(int) tide_gate_taint(tide_gate *gate, const char *term, int level);
/** @brief The level of text: the highest of base and the levels of the tainted terms it
 *  contains. */
TIDE_EXTERN(int) tide_gate_text_level(const tide_gate *gate, const char *text, int base);

#endif
