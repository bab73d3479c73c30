/*
 * reads.h - the reads a service answers (`tide serve`'s JSON API, TAXII), each under a TLP
 * ceiling: what the CLI prints for one analyst, as JSON documents for a caller who may see only
 * intel at or below a level. Every object, name and reference goes through the gate
 * (tide/gate.h): an object above the ceiling is left out as if absent, never counted, named or
 * hinted at; unmarked intel counts as amber (tide/tlp.h).
 *
 * Each call takes a store connection of the caller's thread (a server worker's own
 * connection: tide_workspace_store_open) and makes its own gate, so calls on different
 * connections run in parallel. Results are JSON text (compact), free with free().
 */
#ifndef TIDE_READS_H
#define TIDE_READS_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"
#include "observable.h"
#include "score.h"
#include "sightings.h"
#include "store.h"

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
tide_read_lookup(tide_store *store, const tide_decay_config *decay, const char *value, int ceiling,
        int64_t now_ms, char **out);

/** @brief One object by id under the ceiling: {"object": its current version (redacted as the
 *  gate says), "versions": [modified ...], "relationships": [{"id", "type", "direction",
 *  "other_id", "other_type", "other_name"}]} with only relationships whose SRO and other end
 *  pass. TIDE_ENOTFOUND when absent or withheld (the same answer). */
TIDE_EXTERN(int) tide_read_object(tide_store *store, const char *id, int ceiling, char **out);

/** @brief tide_store_search under the ceiling: {"objects": [{"id", "type", "name", "modified",
 *  "source", "tlp"}]}; q->limit counts the objects shown. */
TIDE_EXTERN(int)
tide_read_search(tide_store *store, const tide_search_query *q, int ceiling, char **out);

/** @brief Stored sightings (tide_store_sightings with q, whose limit counts the sightings
 *  shown) of indicators that pass the ceiling, those related (tide_gate_related_names, names
 *  that pass only) to related when it is not NULL: {"sightings": [{"id", "host",
 *  "indicator_id", "indicator", "kind", "observed", "field", "file", "line", "first_seen",
 *  "last_seen", "live_count", "retro_count", "suppressed", "users", "tlp", "related"}]}. A
 *  sighting of an indicator the store no longer holds counts as red. */
TIDE_EXTERN(int)
tide_read_sightings(tide_store *store, const tide_sighting_query *q, const char *related,
        int ceiling, char **out);

/** @brief The store's counts (tide_store_stats_json) for a key whose ceiling is red; under a
 *  lower ceiling only the current objects per TLP level at or below it ("by_tlp", unmarked
 *  counted as amber) and "ceiling": counts by type, source or kind would tell what is above. */
TIDE_EXTERN(int) tide_read_stats(tide_store *store, int ceiling, char **out);

#endif
