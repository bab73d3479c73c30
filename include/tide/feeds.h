/*
 * feeds.h - feeds tide pulls itself (SPEC C7, issue 20, client side): TAXII 2.1 collections
 * and plain HTTP(S) feeds (MISP feeds with their manifest.json, maltrail lists, abuse.ch CSV,
 * STIX bundles, plain lists), kept in the store as a registry (`tide feeds add / list /
 * remove / pull`), pulled on demand or when due (`tide serve` calls tide_feeds_pull_due on a
 * timer).
 *
 * A pull goes through an ingest run of the workspace (engine.h): the same readers as `tide
 * ingest`, the feed's name as source (unless it says another), its TLP for unmarked objects,
 * then the retro-hunt of every indicator that changed and the export targets. What the next
 * pull resumes from (TAXII added_after, the MISP feed's newest event, an ETag / Last-Modified)
 * is stored only after the objects it covers are stored, so a failed pull keeps what earlier
 * pulls stored and is tried again from where the last good one ended.
 *
 * TAXII 2.1: the URL is a discovery URL (its default API root is used) or an API root; the
 * collection (--collection; the only readable one when there is one) must say can_read. Every
 * request sends Accept: application/taxii+json;version=2.1 and the credentials pre-emptively
 * (HTTP Basic, or Authorization: Bearer KEY); a response whose Content-Type is not
 * application/taxii+json;version=2.1 is refused; pages are followed with `next` while `more` is
 * true, up to a page cap, and a repeated `next` or `more` without `next` is refused.
 *
 * HTTP: libcurl, which takes proxies from the environment (http_proxy, https_proxy, no_proxy,
 * all_proxy); a CA bundle per feed; 429, 5xx and connection failures retried with exponential
 * back-off (Retry-After honoured, bounded); every response body capped.
 *
 * Threads: as for engine.h, a workspace is used by one thread at a time (a server pulls on a
 * workspace of its own); libcurl is initialised once, thread-safely, on first use.
 *
 * Secrets (Basic passwords, bearer keys) are stored as given in the store's database, which
 * tide_feed_add makes readable by its owner only (mode 0600, with its -wal / -shm files); no
 * listing (tide_feeds_list, tide_feeds_json) ever gives them out.
 */
#ifndef TIDE_FEEDS_H
#define TIDE_FEEDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "engine.h"

/** The interval of a feed added without one: 1 hour. */
#define TIDE_FEED_DEFAULT_INTERVAL_MS (3600LL * 1000)

/** A feed's configuration (tide_feed_add). Strings are borrowed for the call; NULL: unset. */
typedef struct {
    const char *name;       /**< 1-64 of [A-Za-z0-9._-] */
    const char *url;        /**< http:// or https:// */
    const char *kind;       /**< "taxii", "auto" (the body's format is detected as `tide
                                 ingest` does), "stix", "misp", "misp-feed", "csv", "list";
                                 NULL: "taxii" when collection is set, else "auto" */
    const char *collection; /**< TAXII collection id */
    const char *user;       /**< HTTP Basic: user and password (both or neither) */
    const char *password;
    const char *api_key;   /**< Authorization: Bearer KEY (not with user / password) */
    int64_t interval_ms;   /**< how often tide_feeds_pull_due pulls it; 0: on demand only; < 0:
                                TIDE_FEED_DEFAULT_INTERVAL_MS */
    const char *source;    /**< the source its objects get (NULL: the feed's name) */
    const char *tlp;       /**< TLP for objects without a marking (as tide ingest --tlp) */
    const char *ca_bundle; /**< a CA bundle (PEM) to verify HTTPS peers with (kept as an
                                absolute path); NULL: the system's */
    const char *family;    /**< list feeds: the malware family (as tide ingest --family) */
    const char *columns;   /**< CSV feeds: the column mapping (as tide ingest --columns) */
    long page_limit;       /**< TAXII: `limit` asked per page; 0: the server's page size */
} tide_feed_config;

/** @brief Register a feed in the workspace's store (nothing is fetched). TIDE_EEXISTS when the
 *  name is taken; TIDE_EINVAL with the reason for a bad name, URL, kind, TLP, interval or
 *  credentials. When it holds a secret, the store's database files are made mode 0600. */
TIDE_EXTERN(int) tide_feed_add(tide_workspace *ws, const tide_feed_config *cfg);
/** @brief Forget a feed (what it stored stays). TIDE_ENOTFOUND when there is none. */
TIDE_EXTERN(int) tide_feed_remove(tide_workspace *ws, const char *name);

/** A registered feed as listed: never its secret. Strings borrowed for the callback. */
typedef struct {
    const char *name, *url, *kind, *collection;
    const char *auth; /**< "basic", "bearer" or NULL */
    const char *user; /**< the Basic user name */
    bool has_secret;  /**< a password / key is stored */
    const char *source, *tlp, *ca_bundle;
    const char *options; /**< JSON text of its kind's settings (family, columns, limit) */
    int64_t interval_ms;
    int64_t created_at;
    const char *cursor; /**< where the next pull resumes (TAXII added_after ...) */
    const char *etag, *last_modified;
    int64_t last_attempt_at; /**< ms; INT64_MIN: never pulled */
    int64_t last_success_at; /**< ms; INT64_MIN: never pulled successfully */
    const char *last_status; /**< "ok", "not modified", or the error; NULL: never pulled */
    int64_t last_objects;    /**< objects the last pull stored */
    int64_t next_due_at;     /**< ms when it is due; INT64_MAX: on demand only */
} tide_feed_info;

/** @brief Every feed, by name. cb's non-zero return stops and is returned. */
TIDE_EXTERN(int)
tide_feeds_list(
        tide_workspace *ws, int (*cb)(const tide_feed_info *feed, void *payload), void *payload);
/** @brief The feeds as a JSON array of objects (the members of tide_feed_info, times as RFC
 *  3339, "secret": true when one is stored, never the secret). Free *out with free(). */
TIDE_EXTERN(int) tide_feeds_json(tide_workspace *ws, char **out);

/** What one pull did. The strings are set for on_result only (borrowed for the call); in the
 *  out parameter of tide_feed_pull they are NULL (the error is in tide_error_last()). */
typedef struct {
    const char *name, *url, *kind;
    int rc;             /**< 0, or the error code (the message in error) */
    const char *error;  /**< names the feed, the URL and the reason; NULL when rc == 0 */
    bool not_modified;  /**< the peer said nothing changed (HTTP 304, or no new MISP event) */
    long requests;      /**< HTTP requests made (retries included) */
    long retries;       /**< of which retries */
    long pages;         /**< TAXII pages (or feed bodies) ingested */
    uint64_t bytes;     /**< response bytes received */
    const char *cursor; /**< where the next pull resumes now */
    tide_ingest_result ingest; /**< the objects stored and the retro-hunt */
} tide_feed_result;

/** How pulls behave; tide_feed_pull_opts_init sets the defaults given here (a cap or timeout
 *  left 0 is taken as its default too). */
typedef struct {
    int retries;            /**< retries of a request after 429, 5xx or a connection failure
                                 (default 3) */
    double retry_wait;      /**< first back-off, seconds, doubled each retry (default 1) */
    double max_wait;        /**< the most one back-off waits, Retry-After too (default 60 s) */
    double timeout;         /**< one request's total time, seconds (default 300) */
    double connect_timeout; /**< seconds (default 30) */
    long max_pages;         /**< TAXII pages in one pull (default 10 000): a peer that pages on
                                 past it is refused */
    uint64_t max_bytes;     /**< one response body (default 512 MiB) */
    bool no_hunt;           /**< skip the retro-hunt after the ingest */
    int64_t now_ms;         /**< "now" for due feeds; 0: the clock */
    /** non-NULL: once *cancel is non-zero the transfer under way is aborted and no retry waits
     *  (the pull fails with TIDE_ECANCELED, keeping the pages stored before, as any failed pull
     *  does) */
    const volatile int *cancel;
    /** Each bad record of a pulled body (file = the URL, line / offset in that body). */
    tide_ingest_error_cb on_error;
    /** Retries and other messages (the library prints nothing). */
    void (*on_notice)(tide_notice_level level, const char *msg, void *payload);
    /** Each feed pulled, when it ends (tide_feeds_pull_all / _due; tide_feed_pull too). */
    void (*on_result)(const tide_feed_result *r, void *payload);
    /** Each export target an ingest regenerated. */
    tide_target_cb on_export;
    void *payload; /**< for every callback above */
} tide_feed_pull_opts;

/** @brief The defaults above. */
TIDE_EXTERN(void) tide_feed_pull_opts_init(tide_feed_pull_opts *o);

/** @brief Pull the feed name now. 0 when it was pulled (objects stored, or nothing new); < 0
 *  when it failed: the message (tide_error_last, and out->error) names the feed, the URL and
 *  the reason; the store keeps what earlier pulls stored, and the objects of the pages this
 *  pull stored before it failed. out (may be NULL) gets the counts (its strings NULL). */
TIDE_EXTERN(int)
tide_feed_pull(tide_workspace *ws, const char *name, const tide_feed_pull_opts *opts,
        tide_feed_result *out);

/** @brief Pull every feed (due_only: those whose interval has passed since their last attempt,
 *  and those never pulled; not those with interval 0), one after the other; on_result tells
 *  each. A failed feed does not stop the others. Returns 0 when every pull succeeded, else the
 *  first error (TIDE_ESTORE at once when the store fails). out_ok / out_failed may be NULL. */
TIDE_EXTERN(int)
tide_feeds_pull_all(tide_workspace *ws, bool due_only, const tide_feed_pull_opts *opts, int *out_ok,
        int *out_failed);

/** @brief tide_feeds_pull_all(ws, true, ...): what a server's timer calls. */
TIDE_EXTERN(int)
tide_feeds_pull_due(
        tide_workspace *ws, const tide_feed_pull_opts *opts, int *out_ok, int *out_failed);

/** @brief When the next feed is due (ms since the epoch; INT64_MAX when none has an interval),
 *  for a server to set its timer. */
TIDE_EXTERN(int) tide_feeds_next_due(tide_workspace *ws, int64_t *out);

#endif
