/*
 * store.h - the intel store: STIX 2.1 objects kept whole and versioned, with the indexes tide
 * needs (by id, type, modified; indicators by every observable their pattern names;
 * relationships both ways; warninglists).
 *
 * These calls are the store's front: they check their arguments (TIDE_EINVAL) and call the
 * store's backend, a table of functions (include/tide/sys/store_backend.h, the contract a
 * backend implements). tide_store_open opens the built-in backend, SQLite in WAL mode, one
 * file (DIR/tide.db); tide_store_open_backend opens a store on any other (PostgreSQL, SPEC
 * C8, or a test's wrapper) without touching callers. Strings passed to callbacks are borrowed
 * for the call only. Callbacks return 0 to go on, non-zero to stop (that value is returned).
 */
#ifndef TIDE_STORE_H
#define TIDE_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"
#include "observable.h"

typedef struct tide_store tide_store;
/** A store backend: a table of functions (include/tide/sys/store_backend.h). */
typedef struct tide_store_backend tide_store_backend;

/** @brief Open the store in dir with the SQLite backend, creating the folder and the
 *  database, and migrating the schema to the current version.
 *  @param[out] out the store (free with tide_store_free). */
TIDE_EXTERN(int) tide_store_open(tide_store **out, const char *dir);
/** @brief Open a store on a backend (include/tide/sys/store_backend.h). On success the store
 *  owns the backend (tide_store_free frees it); on failure the caller still does.
 *  TIDE_EINVAL for a backend of another TIDE_STORE_BACKEND_VERSION or without a required
 *  function. @param[out] out the store (free with tide_store_free). */
TIDE_EXTERN(int) tide_store_open_backend(tide_store **out, tide_store_backend *backend);
/** @brief The SQLite backend of the store in dir (what tide_store_open uses), for
 *  tide_store_open_backend, or for a backend that wraps it. Creates the folder and the
 *  database and migrates the schema. @param[out] out the backend (owned by the caller until
 *  handed to a store; release it with its free function). */
TIDE_EXTERN(int) tide_store_backend_sqlite(tide_store_backend **out, const char *dir);
TIDE_EXTERN(void) tide_store_free(tide_store *store);
/** @brief Path of the database file. Borrowed. NULL (with TIDE_EUNSUPPORTED recorded) when
 *  the backend has no database file. */
TIDE_EXTERN(const char *) tide_store_db_path(const tide_store *store);
/** @brief Schema version the store is at; TIDE_EUNSUPPORTED when the backend has none. */
TIDE_EXTERN(int) tide_store_schema_version(tide_store *store);

/** Transactions: writes between begin and commit become visible (and durable) together. */
TIDE_EXTERN(int) tide_store_begin(tide_store *store);
TIDE_EXTERN(int) tide_store_commit(tide_store *store);
TIDE_EXTERN(int) tide_store_rollback(tide_store *store);

/** @brief Begin a transaction for loading many objects. With a backend that has no bulk mode
 *  (sys/store_backend.h: begin_load) this is tide_store_begin. The SQLite backend, when the
 *  store holds no object yet, switches to bulk mode: its secondary indexes are dropped and rebuilt,
 * sorted, by tide_store_commit, which also retires versions superseded during the load. The whole
 * load is then one transaction (a crash leaves the store as before it). Lookups of other ids
 *  (tide_store_get, search ...) are not available until the commit.
 *  @param[out] out_bulk whether bulk mode is on. */
TIDE_EXTERN(int) tide_store_begin_load(tide_store *store, bool *out_bulk);

/* ---- writing ---- */

typedef struct {
    const char *id;       /**< STIX id "type--uuid" */
    const char *type;     /**< STIX type */
    const char *modified; /**< "modified" as written, or "" for objects without (SCOs, markings) */
    const char *created;  /**< may be NULL */
    const char *name;     /**< "name" property (or value for SCOs), may be NULL */
    const char *source;   /**< feed name */
    const char *tlp;      /**< "clear","green","amber","amber+strict","red" or NULL */
    const char *json;     /**< the whole object as JSON text */
    size_t json_len;
    uint64_t content_hash; /**< derived objects: hash of content without timestamps; else 0 */
    bool derived;          /**< tide made it from a non-STIX record (see sink.h) */
} tide_object_rec;

typedef enum {
    TIDE_PUT_UNCHANGED = 0, /**< this (id, modified) or, for derived, this content exists */
    TIDE_PUT_NEW = 1,       /**< first version of a new id */
    TIDE_PUT_VERSION = 2,   /**< newer version: it is now the current one */
    TIDE_PUT_OLDER = 3,     /**< an older version: kept for history, the current one stays */
} tide_put_status;

/** @brief A hint, free to ignore: an object with this id is about to be put. A first load
 *  into an empty store starts fetching the id's slot of its in-memory id map, so the cache
 *  miss overlaps the caller's work on the object. */
TIDE_EXTERN(void) tide_store_prefetch_id(tide_store *store, const char *id);

/** @brief Store one object version. For derived objects whose content equals the current
 *  version, nothing changes. @param[out] out_status a tide_put_status. */
TIDE_EXTERN(int)
tide_store_put_object(tide_store *store, const tide_object_rec *rec, int *out_status);

typedef struct {
    const char *id;
    const char *pattern;
    const char *pattern_type; /**< "stix", "snort", "yara", ... */
    const char *name;         /**< may be NULL */
    const char *source;
    char reliability;       /**< 'A'..'F' */
    int confidence;         /**< 0..100 */
    const char *tlp;        /**< may be NULL */
    const char *kill_chain; /**< comma-separated phase names, may be NULL */
    int64_t valid_from;     /**< ms since epoch */
    int64_t valid_until;    /**< ms since epoch, 0 = none */
    int64_t created;        /**< ms */
    int64_t modified;       /**< ms */
    bool simple;            /**< pattern compiles into the fast match index (SPEC C1) */
    bool revoked;
} tide_indicator_rec;

typedef struct {
    tide_obs_kind kind;
    const char *value; /**< canonical form (tide_obs_normalize) */
} tide_obs_ref;

/** @brief Set the context and observables of the current version of an indicator (replaces
 *  what was there for that id). */
TIDE_EXTERN(int)
tide_store_put_indicator(
        tide_store *store, const tide_indicator_rec *ind, const tide_obs_ref *obs, size_t nobs);

/** @brief Index a relationship (or any SRO-like reference) for traversal in both directions.
 *  id is a stored object (the SRO), or "CONTAINER_ID|rel|target" for a reference stated by a
 *  stored container (sighting_of_ref, object_refs ...); the index goes when that object gets
 *  a newer version. TIDE_ENOTFOUND when the stating object is not stored. */
TIDE_EXTERN(int)
tide_store_put_relationship(tide_store *store, const char *id, const char *rel_type,
        const char *source_ref, const char *target_ref);

/* ---- reading ---- */

/** @brief JSON text of an object: modified == NULL gives the current version.
 *  @param[out] out newly allocated (free with free()). TIDE_ENOTFOUND if absent. */
TIDE_EXTERN(int)
tide_store_get(tide_store *store, const char *id, const char *modified, char **out);

/** @brief Every stored version of id, oldest first (modified, "" for unversioned). */
TIDE_EXTERN(int)
tide_store_versions(tide_store *store, const char *id,
        int (*cb)(const char *modified, void *payload), void *payload);

/** @brief Indicator context of the current version. Strings in out are owned by the store
 *  and valid until the next call on it. TIDE_ENOTFOUND if id is not an indicator. */
TIDE_EXTERN(int) tide_store_indicator(tide_store *store, const char *id, tide_indicator_rec *out);

/** @brief Indicators whose pattern names this exact canonical value of this kind. */
TIDE_EXTERN(int)
tide_store_lookup(tide_store *store, tide_obs_kind kind, const char *value,
        int (*cb)(const char *indicator_id, void *payload), void *payload);

/** One indicator a value would match, and the listed observable that covers the value. */
typedef struct {
    const char *indicator_id;
    tide_obs_kind kind; /**< the covering observable's kind (cidr4 for an address in a range) */
    const char *value;  /**< its canonical value */
} tide_store_match;

/** @brief The indicators a value would match, with the semantics of the match index
 *  (tide_match_lookup), whether active or not: an address also in every listed CIDR that
 *  contains it, a network in the listed networks containing it, a domain also through its
 *  listed parents (that still hold a dot), a URL through the listed URL paths it ends with and
 *  its host (name or address), an ip:port through its address, 32 / 40 hex digits as file
 *  hash and as JA3 / x509 fingerprint alike. value: canonical, of kind. Each indicator once,
 *  with the first key that found it; cb returning non-zero stops (that value is returned). */
TIDE_EXTERN(int)
tide_store_lookup_match(tide_store *store, tide_obs_kind kind, const char *value,
        int (*cb)(const tide_store_match *m, void *payload), void *payload);

/** @brief Every observable of an indicator. */
TIDE_EXTERN(int)
tide_store_indicator_observables(tide_store *store, const char *id,
        int (*cb)(const tide_obs_ref *obs, void *payload), void *payload);

typedef struct {
    const char *rel_id;   /**< the relationship's id */
    const char *rel_type; /**< "indicates", "uses", "attributed-to", ... */
    bool outgoing;        /**< true: id is the source; false: id is the target */
    const char *other_id; /**< the object at the other end */
    const char *other_type;
    const char *other_name; /**< may be NULL when the other object is not stored */
} tide_relation;

/** @brief Relationships of id in both directions. */
TIDE_EXTERN(int)
tide_store_related(tide_store *store, const char *id,
        int (*cb)(const tide_relation *rel, void *payload), void *payload);

typedef struct {
    const char *type;    /**< STIX type, or NULL */
    const char *value;   /**< observable value (any kind), or NULL */
    const char *related; /**< name or id of an object related (any direction, one hop), and
                              every indicator tide_indicator_related selects for it */
    const char *source;  /**< feed name, or NULL */
    int64_t since;       /**< ingested or modified at/after (ms); 0 = any */
    long limit;          /**< 0 = no limit */
    const char *id;      /**< only the object with this id (its stored TLP ...), or NULL */
} tide_search_query;

typedef struct {
    const char *id;
    const char *type;
    const char *name; /**< may be NULL */
    const char *modified;
    const char *source; /**< may be NULL */
    const char *tlp;    /**< may be NULL */
} tide_search_hit;

/** @brief Current versions of objects matching every given criterion, by id. */
TIDE_EXTERN(int)
tide_store_search(tide_store *store, const tide_search_query *q,
        int (*cb)(const tide_search_hit *hit, void *payload), void *payload);

/** @brief Counts as JSON: {"objects": total versions, "current": N, "by_type": {...},
 *  "by_source": {...}, "by_tlp": {...}, "observables": {...by kind}, "relationships": N,
 *  "warninglists": N}. @param[out] out newly allocated (free with free()). */
TIDE_EXTERN(int) tide_store_stats_json(tide_store *store, char **out);

/* ---- warninglists ---- */

/** @brief Replace the entries of warninglist `name` (type "cidr", "hostname", "string",
 *  "substring" or "regex"). values[i] as in the list file. */
TIDE_EXTERN(int)
tide_store_put_warninglist(tide_store *store, const char *name, const char *type,
        const char *description, const char *const *values, size_t n);

/** @brief Every warninglist entry: cb(name, type, value). */
TIDE_EXTERN(int)
tide_store_warninglist_entries(tide_store *store,
        int (*cb)(const char *name, const char *type, const char *value, void *payload),
        void *payload);

/* ---- active intel: what match indexes and exports are built from ---- */

/** One observable of the current version of an indicator, with the context a match or an
 *  export needs. An indicator with several observables gives consecutive records (same id).
 *  Related names come from walking relationships: the indicator's own (both directions) to
 *  campaigns, malware, tools, intrusion sets and threat actors, from those one more hop
 *  between such objects (a campaign's malware and attributed actor), and from there up the
 *  chain of attribution, every step to a higher level (malware / tool < campaign < intrusion
 *  set < threat actor: a campaign's intrusion set's threat actor, the intrusion set of a
 *  campaign that uses the indicator's malware), never down again to a sibling. */
typedef struct {
    const char *id; /**< indicator id */
    tide_obs_kind kind;
    const char *value;      /**< canonical form */
    const char *name;       /**< may be NULL */
    const char *source;     /**< may be NULL */
    const char *tlp;        /**< may be NULL */
    const char *kill_chain; /**< comma-separated phase names, may be NULL */
    const char *pattern;
    const char *pattern_type;
    char reliability;                                   /**< 'A'..'F', '\0' when unknown */
    int confidence;                                     /**< 0..100, -1 when unknown */
    int64_t valid_from, valid_until, created, modified; /**< ms; valid_until 0 = none */
    int64_t changed_at; /**< ms: when this store last added or changed the indicator */
    bool simple;        /**< the pattern is a disjunction of equalities (fast index) */
    bool revoked;
    const char *const *campaigns;
    size_t ncampaigns;
    const char *const *malware;
    size_t nmalware; /**< malware and tools */
    const char *const *actors;
    size_t nactors; /**< intrusion sets and threat actors */
} tide_indicator_obs;

typedef struct {
    const char *source;    /**< only this feed, or NULL */
    int64_t changed_since; /**< only indicators added / changed at or after (ms), or 0 */
    bool include_revoked;
    const char *value;      /**< only indicators naming this canonical value, or with this
                                 id; NULL = any */
    const char *related;    /**< only indicators related to a campaign / malware / tool /
                                 intrusion set / actor of this name (case-insensitive), by
                                 tide_indicator_related; NULL = any */
    bool include_unindexed; /**< also indicators without observables (a pattern of LIKE /
                                 MATCHES comparisons, another pattern language): one record
                                 each, kind TIDE_OBS_NONE and value "" (the match index
                                 evaluates or lists them) */
} tide_indicator_filter;

/** @brief The one --related rule of search, hunt, export and cases: whether name (case-
 *  insensitive) is one of the record's related names (its campaigns, malware, actors: every
 *  chain of relationships above, see tide_indicator_obs) or the indicator's own name. */
TIDE_EXTERN(bool) tide_indicator_related(const tide_indicator_obs *r, const char *name);

/** @brief Every observable of every current indicator passing the filter (NULL = all), in
 *  store order. Records are borrowed for the call only. */
TIDE_EXTERN(int)
tide_store_each_indicator_obs(tide_store *store, const tide_indicator_filter *filter,
        int (*cb)(const tide_indicator_obs *rec, void *payload), void *payload);

/** @brief A number that changes whenever intel (objects, indicators, warninglists) changes,
 *  so a long-running matcher can tell when to rebuild its index. */
TIDE_EXTERN(int) tide_store_intel_generation(tide_store *store, int64_t *out);

/* ---- assets and export state (exports) ---- */

/** One installed software package of an asset. */
typedef struct {
    const char *name;
    const char *version; /**< "" when unknown */
} tide_asset_software;

/** An inventoried host (SPEC C4): strings borrowed. */
typedef struct {
    const char *host;        /**< the key: a host name or id as telemetry reports it */
    const char *hostname;    /**< may be NULL */
    const char *owner;       /**< may be NULL */
    const char *criticality; /**< e.g. "low", "high", "critical"; may be NULL */
    const char *const *ips;
    size_t nips;
    const tide_asset_software *software;
    size_t nsoftware;
} tide_asset;

/** @brief Store an asset, replacing the one with the same host. */
TIDE_EXTERN(int) tide_store_put_asset(tide_store *store, const tide_asset *asset);

/** @brief Every stored asset, by host. */
TIDE_EXTERN(int)
tide_store_each_asset(
        tide_store *store, int (*cb)(const tide_asset *asset, void *payload), void *payload);

/** @brief The state of the last export under key (format and output): its serial and its
 *  entries (newline-separated text). @param[out] out_entries newly allocated (free with
 *  free()). TIDE_ENOTFOUND when no export was recorded under key. */
TIDE_EXTERN(int)
tide_store_export_state_get(tide_store *store, const char *key, int64_t *out_serial,
        char **out_entries, size_t *out_len);

/** @brief Record the state of an export under key (replaces the previous one). */
TIDE_EXTERN(int)
tide_store_export_state_put(tide_store *store, const char *key, const char *format, int64_t serial,
        const char *entries, size_t len);

#endif
