/*
 * sys/store_backend.h - the contract between the store front (include/tide/store.h, the
 * public tide_store_* calls) and a store backend: a struct of function pointers in the style
 * of libgit2's git2/sys/odb_backend.h. Only code that implements a backend (the SQLite one in
 * src/store, a PostgreSQL one later, a test wrapper) includes this; every other caller uses
 * store.h and sightings.h.
 *
 * The front checks the arguments of the public calls (so a backend sees no NULL store, record
 * or required string) and then calls the backend. It also walks the relationship graph: a
 * backend hands out named objects (nodes) and references (edges) and the indicators with
 * their observables, and the front computes each indicator's campaigns, malware and actors.
 *
 * A backend embeds tide_store_backend as its first member, fills it with
 * tide_store_backend_init (or TIDE_STORE_BACKEND_INIT) and its functions, and is handed to
 * tide_store_open_backend, which owns it once that succeeds (the store's free calls the
 * backend's). Every function gets the backend itself as first argument.
 *
 * Rules for every function below unless it says otherwise:
 *   - Return 0 on success or a negative TIDE_E* code with the detail recorded by
 *     tide_error_set (`return tide_error_set(TIDE_ESTORE, "...")`). TIDE_ESTORE: the database
 *     failed; TIDE_ENOMEM: out of memory; TIDE_ENOTFOUND: the object asked for is absent (only
 *     where said); TIDE_EINVAL: a call the state does not allow (commit without begin).
 *     A callback's non-zero return stops the iteration and is returned as is. The front has
 *     reset every out parameter before the call; on failure a backend leaves none allocated.
 *   - Strings and records passed in are borrowed for the call; strings and records handed to
 *     callbacks are borrowed for the callback. Memory returned through `char **out` is
 *     allocated with malloc and released by the caller with free().
 *   - Inside a transaction (begin ... commit) writes are visible to later reads of the same
 *     backend at once and durable together at commit; rollback (or a failed commit, or free)
 *     undoes them all. Outside one a write takes effect at once but need not be atomic as a
 *     whole (the SQLite backend commits each statement): callers that need several writes to
 *     hold together open a transaction. put_asset and put_sightings open their own.
 *   - A callback may call read functions of the same backend (nested); it never writes.
 *   - Not thread-safe: one thread uses a backend at a time.
 *
 * Optional members may be NULL; the front then does what their comment says. Every other
 * member is required (tide_store_open_backend refuses a backend without one).
 */
#ifndef TIDE_SYS_STORE_BACKEND_H
#define TIDE_SYS_STORE_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "../common.h"
#include "../observable.h"
#include "../sightings.h"
#include "../store.h"

/** The version of this contract; bumped whenever the table or one of the records below
 *  changes, so that a backend built against another one is refused. */
#define TIDE_STORE_BACKEND_VERSION 1

/** An integer column without a value (SQL NULL) in the case records below. */
#define TIDE_STORE_NULL INT64_MIN

/** A named object of the relationship graph: a current campaign, malware, tool,
 *  intrusion-set or threat-actor. */
typedef struct {
    int64_t key;      /**< the key of its id (see "Keys" below) */
    const char *type; /**< its STIX type */
    const char *name; /**< its name; may be NULL or "" (the walk then ignores the object) */
} tide_store_node;

/** One reference between two objects: a relationship (source_ref -> target_ref), a sighting's
 *  sighting_of_ref, a container's object_refs ... (tide_store_put_relationship). The walk
 *  follows every reference whatever its type. */
typedef struct {
    int64_t source_key, target_key; /**< keys of the two ends' ids */
    /** "indicates", "uses", "object-ref" ...: set by edges_of; graph may leave it NULL (the
     *  walk does not read it, and in the SQLite backend reading it for every reference cost
     *  1.6% of a match index build) */
    const char *rel_type;
} tide_store_edge;

/** One current indicator as the active-intel scan reads it. */
typedef struct {
    int64_t key; /**< the key of its id */
    /** its context: every member but kind, value and the related names (left zero, the front
     *  fills them) */
    tide_indicator_obs ind;
    const tide_obs_ref *obs; /**< its observables, in the order they were put */
    size_t nobs;
} tide_store_scan_row;

/** A feed `tide feeds` pulls (include/tide/feeds.h): its configuration and the state of its
 *  pulls. Times in ms since the epoch, TIDE_STORE_NULL when never. Strings may be NULL unless
 *  said. The secret is kept as given (the store's files are the only protection: feeds.h). */
typedef struct {
    const char *name;       /**< unique, required */
    const char *url;        /**< required */
    const char *kind;       /**< "taxii", "auto", "stix", "misp", "misp-feed", "csv", "list" */
    const char *collection; /**< TAXII collection id */
    const char *auth;       /**< "basic", "bearer" or NULL (none) */
    const char *user;       /**< Basic user name */
    const char *secret;     /**< Basic password or bearer key */
    const char *source;     /**< the source its objects get (NULL: its name) */
    const char *tlp;        /**< TLP for objects without a marking */
    const char *ca_bundle;  /**< CA bundle file for HTTPS */
    const char *options;    /**< JSON object text: the settings of its kind (family, columns,
                                 page limit ...) */
    int64_t interval_ms;    /**< pulled when due (tide_feeds_pull_due); 0: on demand only */
    int64_t created_at;
    /* the state of its pulls (written by feed_state) */
    const char *cursor; /**< where the next pull resumes: TAXII added_after, the newest MISP
                             feed event timestamp ingested */
    const char *etag, *last_modified; /**< validators of the last body ingested */
    int64_t last_attempt_at, last_success_at;
    const char *last_status; /**< "ok", "not modified", or the error of the last pull */
    int64_t last_objects;    /**< objects the last pull stored */
} tide_store_feed;

/** A response case (SPEC C4, C5). Times in ms since the epoch. */
typedef struct {
    int64_t id;         /**< > 0; 0 when putting a new case */
    const char *status; /**< "open" or "closed" */
    int64_t tier;
    int64_t opened_at, updated_at;
    int64_t closed_at;          /**< TIDE_STORE_NULL while open */
    const char *seed_host;      /**< "" when none */
    const char *seed_indicator; /**< "" when none */
    const char *tlp;            /**< may be NULL */
    const char *doc;            /**< the computed case document, JSON text */
    const char *lessons;        /**< lessons learned, JSON text, or NULL */
} tide_store_case;

/** A host in a case's scope. */
typedef struct {
    const char *host;
    const char *status; /**< "alerted" or "silent" */
    const char *state;  /**< recovery state: "affected", "isolated" ... */
    int64_t state_at;
    int64_t recovered_at; /**< TIDE_STORE_NULL when not recovered */
    int64_t relapses;
    int64_t first_seen, last_seen; /**< TIDE_STORE_NULL when unknown */
} tide_store_case_host;

/** An entry of a case's timeline. */
typedef struct {
    int64_t at;
    const char *kind;  /**< "opened", "host-joined", "closed" ... */
    const char *host;  /**< may be NULL */
    const char *actor; /**< may be NULL */
    const char *text;
} tide_store_case_event;

/** An API key of `tide serve` as stored (include/tide/auth.h): never the key, only its hash. */
typedef struct {
    const char *name;    /**< unique */
    const char *hash;    /**< lowercase hex SHA-256 of the key, unique */
    const char *role;    /**< "reader", "analyst", "admin", "peer" */
    const char *tlp_max; /**< the key's TLP ceiling, a canonical TLP name */
    int64_t created_at;  /**< ms */
    int64_t revoked_at;  /**< ms, TIDE_STORE_NULL while valid */
} tide_store_key;

/** An entry of the audit log of the API's writes. */
typedef struct {
    int64_t id;         /**< set when read back */
    int64_t at;         /**< ms */
    const char *actor;  /**< the key's name */
    const char *action; /**< "POST /api/v1/intel" ... */
    const char *target; /**< may be NULL */
    const char *detail; /**< may be NULL */
} tide_store_audit;

/** A listing of stored object versions in the order they were added (TAXII 2.1 collections):
 *  rows after a position, by row (rows added later always come later), with filters. */
typedef struct {
    int64_t after_row;      /**< only rows after this one (0: from the start) */
    int64_t added_after;    /**< only rows ingested strictly after (ms); 0: any */
    const char *const *ids; /**< only these ids (nids of them), or none */
    size_t nids;
    const char *const *types; /**< only these STIX types, or none */
    size_t ntypes;
    const char *const *sources; /**< only objects of these sources, or none */
    size_t nsources;
    bool all;                    /**< every version (then first, last, modified are ignored) */
    bool first;                  /**< the first version of each id */
    bool last;                   /**< the current version */
    const char *const *modified; /**< the versions with these modified timestamps */
    size_t nmodified;
} tide_store_added_query;

/** What delete_versions did. The strings are newly allocated (free() them), or NULL. */
typedef struct {
    long deleted; /**< versions deleted */
    bool current; /**< the current version was one of them */
    /** When the current version went and older ones stay: the newest of these, left without
     *  being current until an ingest puts it again (put_object makes it current then, with
     *  what is derived from it): its JSON, modified, source and TLP label. */
    char *revive_json, *revive_modified, *revive_source, *revive_tlp;
} tide_store_deleted;

/** A row of tide_store_added. */
typedef struct {
    int64_t row;      /**< its position */
    int64_t added_ms; /**< when it was ingested (ms) */
    const char *id;
    const char *type;
    const char *modified; /**< "" for an unversioned object */
    const char *tlp;      /**< the label the store keeps, may be NULL */
    const char *json;
    bool current;
} tide_store_added_row;

/*
 * Keys. The graph walk names objects by a 64-bit key of their id that the backend chooses:
 * the same id must have the same key in scan rows, nodes and edges. Different ids may share a
 * key (a hash: the SQLite backend uses XXH3-64 of the id); the walk then may report a name
 * that is not related (odds about 1e-8 for a million ids), never hide or change an indicator.
 */

/** The backend: a struct of functions. */
struct tide_store_backend {
    unsigned int version; /**< TIDE_STORE_BACKEND_VERSION the backend was built against */

    /* ---- lifecycle ---- */

    /** Release the backend and everything it holds; an open transaction is rolled back. */
    void (*free)(tide_store_backend *be);
    /** Optional: the version of the backend's storage layout (>= 1) or a negative TIDE_E*.
     *  Absent: tide_store_schema_version gives TIDE_EUNSUPPORTED. */
    int (*schema_version)(tide_store_backend *be);
    /** Optional: the path of the database file, borrowed from the backend. Absent:
     *  tide_store_db_path gives NULL with TIDE_EUNSUPPORTED recorded. */
    const char *(*db_path)(tide_store_backend *be);

    /* ---- transactions ---- */

    /** Open a transaction; TIDE_EINVAL when one is open already. */
    int (*begin)(tide_store_backend *be);
    /** Make the transaction's writes durable. On failure the transaction is rolled back (the
     *  store is as before begin) and the error returned. TIDE_EINVAL when none is open. */
    int (*commit)(tide_store_backend *be);
    /** Undo the open transaction; 0 when none is open. */
    int (*rollback)(tide_store_backend *be);
    /** Optional (bulk load): open a transaction for loading many objects; *out_bulk says
     *  whether the backend switched to a bulk mode, in which lookups by id of other objects
     *  (get, indicator, search ...) may wait for the commit, and the commit may take long
     *  (building indexes). Same results as begin + the same puts + commit. Absent: the front
     *  calls begin and reports no bulk mode. */
    int (*begin_load)(tide_store_backend *be, bool *out_bulk);
    /** Optional hint (bulk load): an object with this id is about to be put; may start
     *  fetching what the put will touch. Never fails. Absent: nothing. */
    void (*prefetch_id)(tide_store_backend *be, const char *id);

    /* ---- intel: writes (tide_store_put_object ... in store.h say what they store) ---- */

    /** Store one object version. Versions of one id: the newest "modified" is the current
     *  one, older ones are kept; the same (id, modified) again, or for a derived object the
     *  same content_hash as the current version, changes nothing. *out_status gets a
     *  tide_put_status. A change of intel (anything but TIDE_PUT_UNCHANGED) changes the intel
     *  generation (at commit inside a transaction). */
    int (*put_object)(tide_store_backend *be, const tide_object_rec *rec, int *out_status);
    /** Set the context and observables of the current version of ind->id, replacing those of
     *  the id's earlier versions; TIDE_ENOTFOUND when the id has no current version. */
    int (*put_indicator)(tide_store_backend *be, const tide_indicator_rec *ind,
            const tide_obs_ref *obs, size_t nobs);
    /** Record a reference (an edge) stated by the object id, or by the container whose id
     *  starts a synthetic id "CONTAINER|rel|target"; it goes when that object gets a newer
     *  version. TIDE_ENOTFOUND when the stating object is not stored. */
    int (*put_relationship)(tide_store_backend *be, const char *id, const char *rel_type,
            const char *source_ref, const char *target_ref);

    /* ---- intel: reads ---- */

    /** JSON text of a version (modified NULL: the current one), byte for byte as put, in
     *  *out (malloc). TIDE_ENOTFOUND when absent. */
    int (*get)(tide_store_backend *be, const char *id, const char *modified, char **out);
    /** Every version of id, oldest first; TIDE_ENOTFOUND when there is none. */
    int (*versions)(tide_store_backend *be, const char *id,
            int (*cb)(const char *modified, void *payload), void *payload);
    /** The indicator context of the current version of id; its strings belong to the
     *  backend and stay valid until the next call of `indicator`. TIDE_ENOTFOUND when id is
     *  not a current indicator. */
    int (*indicator)(tide_store_backend *be, const char *id, tide_indicator_rec *out);
    /** Ids of the current indicators naming this canonical value of this kind. */
    int (*lookup)(tide_store_backend *be, tide_obs_kind kind, const char *value,
            int (*cb)(const char *indicator_id, void *payload), void *payload);
    /** The observables of the current indicator id, in the order they were put (none when
     *  id is not an indicator). */
    int (*indicator_observables)(tide_store_backend *be, const char *id,
            int (*cb)(const tide_obs_ref *obs, void *payload), void *payload);
    /** The references of id in both directions, with the other end's type and name when it
     *  is stored. */
    int (*related)(tide_store_backend *be, const char *id,
            int (*cb)(const tide_relation *rel, void *payload), void *payload);
    /** Current objects matching every criterion of q (q->id: the object of that id), by type,
     *  name, id. */
    int (*search)(tide_store_backend *be, const tide_search_query *q,
            int (*cb)(const tide_search_hit *hit, void *payload), void *payload);
    /** Counts as JSON text (the members tide_store_stats_json lists), in *out (malloc). */
    int (*stats_json)(tide_store_backend *be, char **out);
    /** A number that changes whenever intel (objects, indicators, references, warninglists)
     *  changes. */
    int (*intel_generation)(tide_store_backend *be, int64_t *out);

    /* ---- warninglists ---- */

    /** Replace the entries of warninglist name (an intel change). */
    int (*put_warninglist)(tide_store_backend *be, const char *name, const char *type,
            const char *description, const char *const *values, size_t n);
    /** Every entry of every warninglist, by list name. */
    int (*warninglist_entries)(tide_store_backend *be,
            int (*cb)(const char *name, const char *type, const char *value, void *payload),
            void *payload);

    /* ---- the active-intel scan (tide_store_each_indicator_obs) and its graph ---- */

    /** Every current indicator passing filter f (NULL = all) on source, changed_since,
     *  include_revoked and value; not on `related`, which the front applies. In store order
     *  (the order in which their current versions were stored), one call per indicator; an
     *  indicator without observables gives no record and may be left out. selective: the front
     *  resolves names per indicator because few indicators are selected (f->value is set,
     *  or few_changed said so); the backend may pick its plan by it, the rows are the same
     *  either way. */
    int (*scan)(tide_store_backend *be, const tide_indicator_filter *f, bool selective,
            int (*cb)(const tide_store_scan_row *row, void *payload), void *payload);
    /** The whole graph: every current named object (on_node, in any order), then every
     *  reference (on_edge, in store order: the order they were put, which orders the names
     *  the walk reports). */
    int (*graph)(tide_store_backend *be, int (*on_node)(const tide_store_node *n, void *payload),
            int (*on_edge)(const tide_store_edge *e, void *payload), void *payload);
    /** The current named objects whose id has this key, in store order (usually one; the
     *  walk takes the first with a name). */
    int (*node)(tide_store_backend *be, int64_t key,
            int (*cb)(const tide_store_node *n, void *payload), void *payload);
    /** The references with this key at either end, each once, in store order (the order
     *  graph gives them). */
    int (*edges_of)(tide_store_backend *be, int64_t key,
            int (*cb)(const tide_store_edge *e, void *payload), void *payload);
    /** Optional: whether so few current objects changed at or after `since` (ms) that
     *  resolving each changed indicator's names with node / edges_of costs less than loading
     *  the whole graph. Absent: the front loads the graph for every scan without f->value. */
    int (*few_changed)(tide_store_backend *be, int64_t since, bool *out_few);

    /* ---- assets and export state ---- */

    /** Store an asset, replacing the one of the same host (a transaction of its own unless
     *  one is open). */
    int (*put_asset)(tide_store_backend *be, const tide_asset *asset);
    /** Every asset, by host; ips and software in order. */
    int (*each_asset)(tide_store_backend *be, int (*cb)(const tide_asset *asset, void *payload),
            void *payload);
    /** The serial and entries (newline-separated text, in *out_entries (malloc) with its
     *  length) of the last export under key. TIDE_ENOTFOUND when none was recorded. */
    int (*export_state_get)(tide_store_backend *be, const char *key, int64_t *out_serial,
            char **out_entries, size_t *out_len);
    /** Record the state of an export under key, replacing the previous one. */
    int (*export_state_put)(tide_store_backend *be, const char *key, const char *format,
            int64_t serial, const char *entries, size_t len);

    /* ---- sightings ---- */

    /** Merge sightings (one transaction of their own unless one is open), as
     *  tide_store_put_sightings says. */
    int (*put_sightings)(tide_store_backend *be, const tide_sighting_rec *recs, size_t n);
    /** Stored sightings matching q (NULL = all), most recent last_seen first, then by id. */
    int (*sightings)(tide_store_backend *be, const tide_sighting_query *q,
            int (*cb)(const tide_sighting_rec *rec, void *payload), void *payload);
    /** Host and indicator id of the sighting with this id, in *out_host and
     *  *out_indicator_id (malloc). TIDE_ENOTFOUND "no sighting N". */
    int (*sighting_by_id)(
            tide_store_backend *be, int64_t id, char **out_host, char **out_indicator_id);

    /* ---- cases (src/cases keeps their documents as JSON text here) ---- */

    /** Insert (row->id 0: *out_id gets the new id, > 0) or replace case row->id. */
    int (*case_put)(tide_store_backend *be, const tide_store_case *row, int64_t *out_id);
    /** Case id; TIDE_ENOTFOUND "no case N". */
    int (*case_get)(tide_store_backend *be, int64_t id,
            int (*cb)(const tide_store_case *row, void *payload), void *payload);
    /** Every case id, ascending. */
    int (*case_ids)(tide_store_backend *be, int (*cb)(int64_t id, void *payload), void *payload);
    /** The lowest id of an open case with host in its scope and indicator_id among its
     *  indicators, or 0 in *out_id when there is none. */
    int (*case_find_covering)(
            tide_store_backend *be, const char *host, const char *indicator_id, int64_t *out_id);
    /** Insert or replace the host row of a case. */
    int (*case_host_put)(tide_store_backend *be, int64_t case_id, const tide_store_case_host *host);
    /** The hosts of a case, by host. */
    int (*case_hosts)(tide_store_backend *be, int64_t case_id,
            int (*cb)(const tide_store_case_host *host, void *payload), void *payload);
    /** Add indicator ids to a case (ids it has already are kept once). */
    int (*case_indicators_add)(
            tide_store_backend *be, int64_t case_id, const char *const *ids, size_t n);
    /** The indicator ids of a case, ascending. */
    int (*case_indicators)(tide_store_backend *be, int64_t case_id,
            int (*cb)(const char *indicator_id, void *payload), void *payload);
    /** Append an event to a case's timeline. */
    int (*case_event_add)(tide_store_backend *be, int64_t case_id, const tide_store_case_event *ev);
    /** The timeline of a case, in the order the events were added. */
    int (*case_events)(tide_store_backend *be, int64_t case_id,
            int (*cb)(const tide_store_case_event *ev, void *payload), void *payload);
    /** Current indicators by whether their source is "internal". */
    int (*indicator_source_counts)(
            tide_store_backend *be, int64_t *out_internal, int64_t *out_external);

    /* ---- the feeds of `tide feeds` (optional: absent, the feed calls are TIDE_EUNSUPPORTED)
     *      ---- */

    /** Insert a feed (its state as given); TIDE_EEXISTS when its name is taken. */
    int (*feed_put)(tide_store_backend *be, const tide_store_feed *feed);
    /** The feed name: cb once; TIDE_ENOTFOUND "no feed NAME". */
    int (*feed_get)(tide_store_backend *be, const char *name,
            int (*cb)(const tide_store_feed *feed, void *payload), void *payload);
    /** Every feed, by name. */
    int (*feeds)(tide_store_backend *be, int (*cb)(const tide_store_feed *feed, void *payload),
            void *payload);
    /** Forget the feed name; TIDE_ENOTFOUND when there is none. */
    int (*feed_remove)(tide_store_backend *be, const char *name);
    /** Write the state members (cursor ... last_objects) of feed->name, the configuration
     *  untouched; TIDE_ENOTFOUND when there is no such feed. */
    int (*feed_state)(tide_store_backend *be, const tide_store_feed *feed);

    /* ---- the registry of read positions (optional: absent, tide_store_put_positions is
     *      TIDE_EUNSUPPORTED and nothing is known, so inputs read again store again) ---- */

    /** Upsert positions (the higher of the stored and the given wins) in the open transaction
     *  (or one of their own); the backend may forget the least recently updated keys past
     *  8192. */
    int (*put_positions)(tide_store_backend *be, const tide_read_position *v, size_t n);
    /** Every position: cb(key, pos) (non-zero stops and is returned). */
    int (*positions)(tide_store_backend *be,
            int (*cb)(const char *key, uint64_t pos, void *payload), void *payload);

    /* ---- API keys and the audit log of `tide serve` (optional: absent, the key and audit
     *      calls are TIDE_EUNSUPPORTED and the server refuses to start) ---- */

    /** Insert a key; TIDE_EEXISTS when its name or hash is taken (revoked keys too). */
    int (*key_put)(tide_store_backend *be, const tide_store_key *key);
    /** The key whose hash is hash (revoked or not): cb once; TIDE_ENOTFOUND when none. */
    int (*key_by_hash)(tide_store_backend *be, const char *hash,
            int (*cb)(const tide_store_key *key, void *payload), void *payload);
    /** Every key, by name. */
    int (*keys)(tide_store_backend *be, int (*cb)(const tide_store_key *key, void *payload),
            void *payload);
    /** Set revoked_at of the key name (unless set); TIDE_ENOTFOUND when no such key. */
    int (*key_revoke)(tide_store_backend *be, const char *name, int64_t at);
    /** Append an entry to the audit log (its own transaction unless one is open). */
    int (*audit_add)(tide_store_backend *be, const tide_store_audit *e);
    /** Audit entries with at >= since, newest first, at most limit (0: all). */
    int (*audit)(tide_store_backend *be, int64_t since, long limit,
            int (*cb)(const tide_store_audit *e, void *payload), void *payload);
    /** Object versions by the order they were added (tide_store_added_query); cb non-zero
     *  stops (and is returned). May be NULL (TIDE_EUNSUPPORTED). */
    int (*added)(tide_store_backend *be, const tide_store_added_query *q,
            int (*cb)(const tide_store_added_row *row, void *payload), void *payload);
    /** Delete versions of the object id (the TAXII DELETE): those whose modified is one of
     *  versions (n of them; "" is an unversioned object), or every version when n is 0, with
     *  what was derived from the current one (indicator, observables, names, references), in
     *  the open transaction or one of its own; the intel generation moves. TIDE_ENOTFOUND when
     *  none of them is stored. out (tide_store_deleted) says what went and, when the current
     *  version went and older ones stay, which one to put again (put_object: an object with
     *  versions but none current takes the one put as current when it is the newest, or
     *  already stored). May be NULL (TIDE_EUNSUPPORTED). */
    int (*delete_versions)(tide_store_backend *be, const char *id, const char *const *versions,
            size_t n, tide_store_deleted *out);
    /** As related, but only the relationships whose other end is a named object (campaign,
     *  intrusion-set, malware, threat-actor, tool, by the type its id starts with): what the
     *  gate's related names walk (two hops). May be NULL (related is used). */
    int (*related_named)(tide_store_backend *be, const char *id,
            int (*cb)(const tide_relation *rel, void *payload), void *payload);
};

/** Static initialiser: `tide_store_backend be = TIDE_STORE_BACKEND_INIT;` */
#define TIDE_STORE_BACKEND_INIT                                                                    \
    {                                                                                              \
        .version = TIDE_STORE_BACKEND_VERSION                                                      \
    }

/** @brief Zero a backend struct and set its version (as TIDE_STORE_BACKEND_INIT does).
 *  @param version TIDE_STORE_BACKEND_VERSION. @return 0, or TIDE_EINVAL for a version this
 *  tide does not know. */
TIDE_EXTERN(int) tide_store_backend_init(tide_store_backend *be, unsigned int version);

#endif
