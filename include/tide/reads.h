/*
 * reads.h - the reads a service answers (`tide serve`'s JSON API, TAXII), each under a TLP
 * ceiling: what the CLI prints for one analyst, as JSON documents for a caller who may see only
 * intel at or below a level. Every object, name and reference goes through the gate
 * (tide/gate.h): an object above the ceiling is left out as if absent, never counted, named or
 * hinted at; unmarked intel counts as amber (tide/tlp.h).
 *
 * Each call takes the reads of a store connection of the caller's thread (a server worker's
 * own connection: tide_workspace_store_open, wrapped by tide_reads_new), so calls on different
 * connections run in parallel and each keeps its gates' caches. Results are JSON text
 * (compact), free with free().
 */
#ifndef TIDE_READS_H
#define TIDE_READS_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"
#include "observable.h"
#include "engine.h"
#include "score.h"
#include "sightings.h"
#include "store.h"

/** The reads of one store connection: a gate per ceiling (tide/gate.h), whose caches of what
 *  they resolved (object levels, markings, related names) are kept from call to call while the
 *  store's intel generation stays the same. Used by one thread at a time, like its store. */
typedef struct tide_reads tide_reads;
/** @brief Reads on store (borrowed: it must outlive them). Free with tide_reads_free. */
TIDE_EXTERN(int) tide_reads_new(tide_reads **out, tide_store *store);
TIDE_EXTERN(void) tide_reads_free(tide_reads *rd);
/** @brief The store the reads are on (borrowed). */
TIDE_EXTERN(tide_store *) tide_reads_store(tide_reads *rd);

/** @brief A value as a user writes it (defanged or not; a fingerprint as aa:bb:...) to its
 *  kind and canonical form, as `tide show` reads it. TIDE_EINVAL with the reason when it is no
 *  known kind of observable. @param[out] out_value free with free(). */
TIDE_EXTERN(int) tide_read_value(const char *text, tide_obs_kind *out_kind, char **out_value);

/** @brief The indicators a value would match (tide_store_lookup_match: CIDR containment,
 *  parent domains, a URL's listed paths and host ...) that pass the ceiling:
 *  {"value", "kind", "indicators": [{"id", "pattern", "name", "source", "reliability",
 *  "confidence", "base_score", "score", "state", "tlp", "related": [{"name","type"}],
 *  "matched": {"kind", "value", "covers"}}]}. decay: the workspace's (NULL: defaults); now_ms:
 *  the time scores are computed at (0: now). TIDE_EINVAL for a value of no known kind. */
TIDE_EXTERN(int)
tide_read_lookup(tide_reads *rd, const tide_decay_config *decay, const char *value, int ceiling,
        int64_t now_ms, char **out);

/** @brief One object by id under the ceiling: {"object": its current version (redacted as the
 *  gate says), "versions": [modified ...], "relationships": [{"id", "type", "direction",
 *  "other_id", "other_type", "other_name"}]} with only relationships whose SRO and other end
 *  pass. TIDE_ENOTFOUND when absent or withheld (the same answer). */
TIDE_EXTERN(int) tide_read_object(tide_reads *rd, const char *id, int ceiling, char **out);

/** @brief tide_store_search under the ceiling: {"objects": [{"id", "type", "name", "modified",
 *  "source", "tlp"}]}; q->limit counts the objects shown. */
TIDE_EXTERN(int)
tide_read_search(tide_reads *rd, const tide_search_query *q, int ceiling, char **out);

/** @brief Stored sightings (tide_store_sightings with q, whose limit counts the sightings
 *  shown) of indicators that pass the ceiling, those related (tide_gate_related_names, names
 *  that pass only) to related when it is not NULL: {"sightings": [{"id", "host",
 *  "indicator_id", "indicator", "kind", "observed", "field", "file", "line", "first_seen",
 *  "last_seen", "live_count", "retro_count", "suppressed", "users", "tlp", "related"}]}. A
 *  sighting of an indicator the store no longer holds counts as red. */
TIDE_EXTERN(int)
tide_read_sightings(
        tide_reads *rd, const tide_sighting_query *q, const char *related, int ceiling, char **out);

/** @brief The store's counts (tide_store_stats_json) for a key whose ceiling is red; under a
 *  lower ceiling only the current objects per TLP level at or below it ("by_tlp", unmarked
 *  counted as amber) and "ceiling": counts by type, source or kind would tell what is above. */
TIDE_EXTERN(int) tide_read_stats(tide_reads *rd, int ceiling, char **out);

/* ---- cases: a case is shown under a ceiling when every stored object its document names
 *      (indicators, campaigns, malware, actors, relationships) passes; else it is withheld
 *      whole, as if absent (its hosts, scope and plan derive from that intel) ---- */

/** @brief The level of case id: the highest level of the stored objects its document names
 *  (TIDE_TLP_CLEAR when it names none). TIDE_ENOTFOUND when no such case. */
TIDE_EXTERN(int) tide_read_case_level(tide_reads *rd, int64_t id, int *out_level);
/** @brief The level of the intel a case would be opened from (tide_case_open's arguments: a
 *  stored sighting's indicator, or an indicator id, or the indicators a value names), so that a
 *  caller below it is refused before anything is written. TIDE_ENOTFOUND when none. */
TIDE_EXTERN(int)
tide_read_case_seed_level(
        tide_reads *rd, int64_t sighting_id, const char *indicator, int *out_level);
/** @brief The cases a ceiling admits (tide_case_list_json's entries, with their "tlp"). */
TIDE_EXTERN(int) tide_read_cases(tide_reads *rd, int ceiling, char **out);
/** @brief One case (tide_case_show_json, or its Markdown) under the ceiling. TIDE_ENOTFOUND
 *  when absent or withheld. */
TIDE_EXTERN(int)
tide_read_case(tide_reads *rd, int64_t id, int ceiling, bool markdown, char **out);
/** @brief The response metrics (tide_metrics_json) with the per-case detail of the cases the
 *  ceiling admits; the overall figures are counts and times only. */
TIDE_EXTERN(int) tide_read_metrics(tide_reads *rd, int ceiling, char **out);

/** @brief Run a hunt on the workspace (tide_workspace_hunt) under a ceiling: each
 *  retro-sighting of an indicator that passes, as one line of JSON (tide_retro_sighting_json,
 *  without the newline) whose related names (campaign(s), malware(_all), actor(s)) are only
 *  those that pass (tide_gate_related_names). cb returning non-zero stops the hunt. */
TIDE_EXTERN(int)
tide_read_hunt(tide_workspace *ws, const tide_hunt_opts *opts, int ceiling,
        int (*cb)(const char *json, size_t len, void *payload), void *payload,
        tide_hunt_stats *out_stats);

/* ---- TAXII 2.1 (tide serve's /taxii2/ collections) ---- */

/** What tide_read_taxii lists. */
typedef enum {
    TIDE_TAXII_OBJECTS = 0, /**< an envelope: {"more", "next", "objects": [STIX objects]} */
    TIDE_TAXII_MANIFEST,    /**< {"more", "next", "objects": [{"id", "date_added", "version",
                                 "media_type"}]} */
    TIDE_TAXII_VERSIONS,    /**< {"more", "next", "versions": [modified ...]} */
} tide_taxii_listing;

/** A TAXII 2.1 request's filters, as the client wrote them (comma-separated lists). */
typedef struct {
    const char *next;               /**< the "next" token of the page before, or NULL */
    int64_t added_after;            /**< ms; only versions added strictly after; 0: any */
    long limit;                     /**< objects per page (>= 1) */
    const char *object_id;          /**< the object routes: this object only, or NULL */
    const char *match_id;           /**< match[id], or NULL */
    const char *match_type;         /**< match[type], or NULL */
    const char *match_version;      /**< match[version]: first, last, all or timestamps; NULL: last
                                         (all for TIDE_TAXII_VERSIONS) */
    const char *match_spec_version; /**< match[spec_version], or NULL (2.1) */
    const char *const *sources;     /**< the collection's sources (nsources), or none: all */
    size_t nsources;
} tide_taxii_query;

/** @brief One page of a TAXII 2.1 collection of the store's objects under a ceiling: the
 *  object versions in the order they were added, after the position `next` names (the date
 *  added and the row of the last object of the page before: stable while objects are added,
 *  never an offset), each through the gate (withheld ones are left out, not counted; granular
 *  markings redact; the TLP the store keeps travels as a marking). "more": true comes with a
 *  "next". out_first / out_last (may be NULL): the date added (ms) of the page's first and
 *  last object (0 when empty). TIDE_EINVAL with the reason for a bad token or filter;
 *  TIDE_ENOTFOUND when object_id is set and no version of it passes. */
TIDE_EXTERN(int)
tide_read_taxii(tide_reads *rd, const tide_taxii_query *q, tide_taxii_listing what, int ceiling,
        char **out, int64_t *out_first, int64_t *out_last);

/** @brief The TAXII 2.1 DELETE of an object (q->object_id) from a collection of the store's
 *  objects: the versions q selects (match[version]: first, last, all or timestamps; none: all
 *  of them; match[spec_version]) among those a GET of the object would list under the ceiling
 *  and the collection's sources, deleted by tide_workspace_intel_delete (ws's store, which
 *  must be the store rd reads). TIDE_ENOTFOUND when none passes; TIDE_EINVAL for a bad
 *  filter. */
TIDE_EXTERN(int)
tide_taxii_delete(tide_workspace *ws, tide_reads *rd, const tide_taxii_query *q, int ceiling,
        tide_target_cb on_export, void *payload, tide_intel_delete_result *out);

/** @brief One page of a TAXII 2.1 collection of sightings under a ceiling: each stored sighting
 *  (host x indicator) of an indicator that passes, as a STIX 2.1 sighting object, always
 *  anonymised: sighting_of_ref the indicator, count (live + retro), first_seen, last_seen,
 *  where_sighted_refs one identity for the organisation, never a host name or address, the
 *  indicator's TLP as its marking; its id a UUIDv5 of the host and the indicator, so that a
 *  re-pull gives the same ids; "modified" and the date added are its last_seen. Pages by the
 *  sighting's row; added_after: the sightings last seen after it; match[id],
 *  match[type] ("sighting"). */
TIDE_EXTERN(int)
tide_read_taxii_sightings(tide_reads *rd, const tide_taxii_query *q, tide_taxii_listing what,
        int ceiling, char **out, int64_t *out_first, int64_t *out_last);

#endif
