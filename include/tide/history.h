/*
 * history.h - the observation history and retro-hunt (SPEC C3).
 *
 * Every observation tide reads (matched or not) can be remembered: per UTC day, one record per
 * distinct (observable, host) with first_seen, last_seen, the number of events and the first
 * place seen (file and line). History lives in a workspace's state folder (DIR/history/) as
 * immutable, key-sorted, zstd block-compressed run files listed by a MANIFEST that is replaced
 * atomically, so an interrupted writer leaves the previous history intact. Runs of one day are
 * merged (compacted) after each commit; days older than the retention are dropped, and what is
 * dropped is reported (tide_history_pruned_take). Several writers (processes) may write at once:
 * each aggregates on its own and holds the commit lock only while it commits; one that finds it
 * held waits, up to a bound. Event times are bounded by the wall clock (TIDE_HISTORY_MAX_FUTURE_MS
 * ahead at most, never before 1970), so no event moves the retention window.
 *
 * A retro-hunt looks indicators of the store up in history with exactly the semantics of
 * tide_match_lookup (IPs in CIDRs, parent domains, URL paths, case-insensitive hashes): it
 * builds a match index of the selected indicators and confirms every candidate record with it.
 * See docs/history.md.
 */
#ifndef TIDE_HISTORY_H
#define TIDE_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "match.h"
#include "store.h"
#include "telemetry.h"
#include "warninglist.h"

typedef struct tide_history tide_history;

#define TIDE_HISTORY_DEFAULT_RETENTION_DAYS 90

/** How far past the wall clock an event may be dated and still be recorded (1 day). */
#define TIDE_HISTORY_MAX_FUTURE_MS (86400LL * 1000)
/** How long a writer waits for the commit lock by default (the environment variable
 *  TIDE_HISTORY_LOCK_WAIT, in seconds, overrides it). */
#define TIDE_HISTORY_LOCK_WAIT_SECONDS 600
/** Longest key of a read position (tide_history_position_set), with its NUL. */
#define TIDE_HISTORY_POS_KEY 64

typedef struct {
    bool writable;
    double lock_wait_seconds; /**< bound of a writer's wait for the commit lock; 0: the
                                   default (TIDE_HISTORY_LOCK_WAIT or 600 s) */
    /** Told once when a writer has to wait for the commit lock (another process commits);
     *  may be NULL. The message names the history. */
    void (*on_wait)(const char *msg, void *payload);
    void *payload;
} tide_history_opts;

/** @brief Open the history in dir/history (created when writable); dir is a workspace's state
 *  folder (engine.h: tide_workspace_path(ws, TIDE_WS_STATE_DIR)).
 *  A writable history registers as a writer (DIR/history/w-TOKEN.lock, held until freed) and
 *  removes what crashed writers left behind, under the commit lock (DIR/history/LOCK), which
 *  it then releases: other writers may open and write at the same time. When another process
 *  holds the commit lock, it waits (opts->on_wait is told) up to the bound, then fails with
 *  TIDE_EIO ("... gave up after N s"). Corrupt manifests are TIDE_EFORMAT naming the file.
 *  opts may be NULL (read-only). */
TIDE_EXTERN(int)
tide_history_open_opts(tide_history **out, const char *dir, const tide_history_opts *opts);
/** @brief tide_history_open_opts with the default wait and no on_wait. */
TIDE_EXTERN(int) tide_history_open(tide_history **out, const char *dir, bool writable);
/** @brief Free; anything added but not committed is dropped. Accepts NULL. */
TIDE_EXTERN(void) tide_history_free(tide_history *h);

/** @brief Remember every observation of one event (file: where it was read). Held in memory
 *  until tide_history_commit; past a memory threshold a sorted run is written (not yet
 *  visible). An event without a time (ts_us 0) is dated when it is read. An event dated later
 *  than the clock + the max future (TIDE_HISTORY_MAX_FUTURE_MS by default) or before 1970 is
 *  not recorded: TIDE_EFORMAT, with the time and the reason in tide_error_last() (a bad record
 *  for the history; go on with the next event). */
TIDE_EXTERN(int) tide_history_add(tide_history *h, const char *file, const tide_event *ev);
/** @brief Events added since the last keep, discard or commit are kept: the next commit makes
 *  them visible. (Commit keeps them too; a caller that reads several inputs keeps each input
 *  when it ended cleanly.) */
TIDE_EXTERN(int) tide_history_keep(tide_history *h);
/** @brief Drop the events added since the last keep, discard or commit (an input that ended in
 *  a read or decompression error, so that importing the repaired file later does not count
 *  them twice). @param[out] out_events how many events were dropped (may be NULL). */
TIDE_EXTERN(int) tide_history_discard(tide_history *h, uint64_t *out_events);
/** @brief How far past the wall clock event times may be (ms, >= 0). */
TIDE_EXTERN(int) tide_history_set_max_future(tide_history *h, int64_t ms);
/** @brief Events this handle added and did not discard (an event counts once, whatever the
 *  observables it names; one without a valid observable is not added): what the history's
 *  stats will count of them once committed. */
TIDE_EXTERN(uint64_t) tide_history_events_added(const tide_history *h);
/** @brief Count raw (decompressed) input bytes read, for the size ratio in the stats. */
TIDE_EXTERN(void) tide_history_add_raw_bytes(tide_history *h, uint64_t bytes);
/** @brief Make everything added visible, durably (fsync + atomic manifest rename), then apply
 *  the retention and merge the smallest runs of a day that holds more than 16 into one
 *  (under the commit lock; see tide_history_open_opts for the wait). A long-running matcher
 *  commits this way at every checkpoint: a commit rewrites no day that has few runs. */
TIDE_EXTERN(int) tide_history_commit(tide_history *h);

/** @brief Commit, then merge every day's runs into one (`tide history compact`): hunts seek
 *  one run per day, and `tide history stats` counts each record once. */
TIDE_EXTERN(int) tide_history_compact(tide_history *h);

/** @brief Set (and persist with the next commit) the retention in days (>= 1). */
TIDE_EXTERN(int) tide_history_set_retention(tide_history *h, int days);
TIDE_EXTERN(int) tide_history_retention(const tide_history *h);
/** @brief Drop the days that end before before_ms; 0 = apply the retention (days older than
 *  the newest day in history that is not after today, minus the retention). Commits.
 *  @param[out] out_days dropped partitions (may be NULL); tide_history_pruned_take tells
 *  more. */
TIDE_EXTERN(int) tide_history_prune(tide_history *h, int64_t before_ms, size_t *out_days);

/** What retention and prunes removed. */
typedef struct {
    size_t days;           /**< day partitions removed */
    uint64_t records;      /**< (observable, host, day) records removed */
    uint64_t events;       /**< events (log records) of those days */
    uint64_t observations; /**< the records' counts summed (an event counts once per
                                distinct observable it names) */
    int64_t before_ms;     /**< the days before this one were removed (0 when none were) */
    int64_t first_ms;      /**< the first day removed */
    int64_t newest_ms;     /**< retention: the newest day it counted back from (0: a prune by
                                date) */
    int retention;         /**< retention: its days */
    size_t own_days;       /**< of the days removed, those this writer had just committed (an
                                import of logs older than the window) */
    uint64_t own_events;   /**< ... and their events */
    size_t kept_spared;    /**< days the retention would have removed but that are kept
                                (tide_history_set_keep) */
} tide_history_pruned;
/** @brief What retention (applied by every commit) and prunes removed since the last call;
 *  resets the counts. */
TIDE_EXTERN(void) tide_history_pruned_take(tide_history *h, tide_history_pruned *out);

typedef struct {
    size_t partitions;  /**< days */
    size_t runs;        /**< files */
    uint64_t records;   /**< (observable, host) per day, per run: a record in several runs of a day
                           counts in each until they are merged (tide_history_compact) */
    uint64_t bytes;     /**< on disk */
    uint64_t raw_bytes; /**< telemetry bytes imported */
    uint64_t events;    /**< events (log records) remembered: the count an import
                             reports as recorded */
    uint64_t observations;             /**< the records' counts summed (an event counts once
                                            per distinct observable it names) */
    int64_t first_day_ms, last_day_ms; /**< 0 when empty */
    int retention_days;
    size_t kept_days;                 /**< days kept whatever the retention */
    int64_t kept_from_ms, kept_to_ms; /**< the span of the kept periods (0 when none) */
    size_t positions;                 /**< read positions in the registry */
} tide_history_stats;
TIDE_EXTERN(int) tide_history_stats_get(tide_history *h, tide_history_stats *out);

/* ---- the registry of read positions ----
 * What a writer has recorded, committed atomically with the runs it produced: for each input a
 * key (the engine names a file by the fingerprint of its first bytes, a stream by its name) and
 * the position (byte offset in the decompressed input, or stream position) below which every
 * event is recorded. A writer that reads the input again skips what is below it, so recording
 * is idempotent: reading at least once + skipping = each event recorded exactly once. */

/** @brief Record that key's events below pos are in the history, with the next commit (the
 *  higher of two positions of a key wins). key: 1 to TIDE_HISTORY_POS_KEY - 1 bytes, no blanks.
 *  The manifest keeps the 8192 most recently updated keys. */
TIDE_EXTERN(int) tide_history_position_set(tide_history *h, const char *key, uint64_t pos);
/** @brief The position of key (committed, or set by this writer): 1 found, 0 not (*out 0). */
TIDE_EXTERN(int) tide_history_position(const tide_history *h, const char *key, uint64_t *out);
/** @brief Every committed position (as of the open or the last commit). */
TIDE_EXTERN(int)
tide_history_positions(tide_history *h,
        int (*cb)(const char *key, uint64_t pos, int64_t updated_ms, void *payload), void *payload);

/** @brief This writer matches with intel generation gen and has recorded everything it read
 *  before: written with its next commit (a follower commits right after it swaps in a new
 *  index), so that a retro-hunt of newer intel can wait until the history holds those events
 *  (tide_history_writers_behind). */
TIDE_EXTERN(int) tide_history_set_generation(tide_history *h, int64_t gen);
/** @brief Re-read the manifest; *out = live writers whose committed generation is below gen
 *  (a retro-hunt of intel of generation gen waits until it is 0). */
TIDE_EXTERN(int) tide_history_writers_behind(tide_history *h, int64_t gen, size_t *out);
/** @brief Keep the days this writer commits whatever the retention (`history import --keep`):
 *  the manifest lists kept periods; only an explicit prune by date removes them. */
TIDE_EXTERN(void) tide_history_set_keep(tide_history *h, bool keep);

/** @brief Every committed record (for tests and tools), day by day, key-sorted: kind, value
 *  text (canonical), host, times in microseconds, count, first file and line. */
typedef struct {
    tide_obs_kind kind;
    const char *value;
    const char *host;
    int64_t first_seen_us, last_seen_us;
    uint64_t count;
    const char *file;
    uint64_t line;
} tide_history_rec;
TIDE_EXTERN(int)
tide_history_each(
        tide_history *h, int (*cb)(const tide_history_rec *rec, void *payload), void *payload);

/* ---- retro-hunt ---- */

typedef struct {
    const tide_indicator_filter *filter; /**< which indicators; NULL = all */
    int64_t since_ms, until_ms;          /**< only history seen in [since, until]; 0 = open */
    int64_t now_ms;                      /**< validity / score reference; 0 = now */
    bool store;                          /**< also store the results as retro-sightings */
    /** non-NULL: the hunt stops with TIDE_ECANCELED, having stored nothing, once *cancel is
     *  non-zero (looked at every 4096 history records and between days) */
    const volatile int *cancel;
} tide_hunt_opts;

/** One (host, indicator) found in history: counts, times and first place aggregated over
 *  every day and every observed value that matches the indicator. */
typedef struct {
    const char *host;
    const char *observed; /**< the earliest observed value (canonical text) */
    tide_obs_kind observed_kind;
    int64_t first_seen_us, last_seen_us;
    uint64_t count; /**< events */
    const char *file;
    uint64_t line;
    const tide_match_hit *hit; /**< the indicator and its context (suppressed updated by
                                    warninglists on the observed value) */
} tide_retro_sighting;

typedef struct {
    size_t indicators;    /**< distinct indicators hunted */
    size_t hosts;         /**< distinct hosts found */
    size_t sightings;     /**< (host, indicator) pairs found */
    size_t unconfirmable; /**< candidates of non-simple patterns left out (history keeps no
                               whole events to evaluate them on) */
    uint64_t records_checked;
} tide_hunt_stats;

/** @brief Hunt the selected indicators back through history. cb (may be NULL) gets each
 *  result, sorted by host then indicator. @param[out] out_stats may be NULL. */
TIDE_EXTERN(int)
tide_history_hunt(tide_history *h, tide_store *store, const tide_hunt_opts *opts,
        int (*cb)(const tide_retro_sighting *s, void *payload), void *payload,
        tide_hunt_stats *out_stats);

#endif
