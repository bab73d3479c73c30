/*
 * engine.h - the one layer every front end calls: the CLI now; `tide serve`, its TAXII routes
 * and a Kafka worker next. It wires the library's parts into the product's pipelines so that no
 * front end holds product logic:
 *
 *   - a **workspace**: the store opened from a location URI ("sqlite:DIR"; a plain path means
 *     the same; "postgres://..." is the form a PostgreSQL store will take), plus everything
 *     that belongs to that store: the observation history, the cached match index, the
 *     response policy and every other derived path, under the workspace's state folder;
 *   - **ingest runs**: feeds from paths, a FILE * or a memory buffer into the store, ending
 *     with the retro-hunt of every indicator the run added or changed (SPEC C3), whoever calls;
 *   - **match runs**: telemetry sources (paths, folders, descriptors, memory buffers, and
 *     tide_match_source for a stream consumer) -> history -> matcher -> sightings, with follow
 *     and rotation, the index rebuilt in the background and swapped in when the intel changes,
 *     sightings batched into the store by a flush policy, output through a callback;
 *   - **one wire format** for live and retro sightings (tide_sighting_json,
 *     tide_retro_sighting_json);
 *   - hunts, history import / stats / prune, the match index build and info, and the case
 *     context (history for blast radius hunts, the policy, lessons promoted through an ingest
 *     run with its retro-hunt).
 *
 * Threads: a workspace and the runs made from it are used by one thread at a time; a match run
 * starts its own index-rebuild thread with its own store connection. tide_match_run_stop may
 * be called from a signal handler or another thread.
 */
#ifndef TIDE_ENGINE_H
#define TIDE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common.h"
#include "cases.h"
#include "export.h"
#include "history.h"
#include "ingest.h"
#include "match.h"
#include "store.h"
#include "telemetry.h"

/* ------------------------------------------------------------------ workspace */

typedef struct tide_workspace tide_workspace;

typedef struct {
    /** Folder for the workspace's local state (history, match index cache, policy); NULL: the
     *  store folder of a "sqlite:DIR" location. A store without a folder (a future
     *  "postgres://..." location) needs it. */
    const char *state_dir;
} tide_workspace_opts;

/** @brief Open a workspace at location: "sqlite:DIR", "sqlite://DIR" or a plain path DIR (the
 *  SQLite store in DIR/tide.db, created with its folder when absent). "postgres://" and
 *  "postgresql://" locations are TIDE_EUNSUPPORTED until that backend exists (SPEC C8).
 *  @param opts may be NULL. @param[out] out free with tide_workspace_free. */
TIDE_EXTERN(int)
tide_workspace_open(tide_workspace **out, const char *location, const tide_workspace_opts *opts);
TIDE_EXTERN(void) tide_workspace_free(tide_workspace *ws);

/** @brief Only the store of the workspace at location (for a verb that reads or writes the
 *  store alone: search, stats, exports ...). Free with tide_store_free. */
TIDE_EXTERN(int) tide_workspace_open_store(tide_store **out, const char *location);

/** @brief The store (borrowed: lives as long as the workspace). */
TIDE_EXTERN(tide_store *) tide_workspace_store(tide_workspace *ws);
/** @brief The location as given, normalised ("sqlite:DIR"). Borrowed. */
TIDE_EXTERN(const char *) tide_workspace_location(const tide_workspace *ws);

/** Paths the workspace derives from its state folder. */
typedef enum {
    TIDE_WS_STATE_DIR = 0, /**< the state folder itself */
    TIDE_WS_INDEX,         /**< the cached match index (STATE/match.idx) */
    TIDE_WS_POLICY,        /**< the response tier policy (STATE/policy.json, may not exist) */
    TIDE_WS_HISTORY,       /**< the history folder (STATE/history) */
    TIDE_WS_EXPORTS,       /**< the declared export targets and their status
                                (STATE/exports.json, may not exist) */
    TIDE_WS_DECAY,         /**< the decay configuration (STATE/decay.json, may not exist) */
} tide_ws_path;
/** @brief One derived path (borrowed), NULL for an unknown which. */
TIDE_EXTERN(const char *) tide_workspace_path(const tide_workspace *ws, tide_ws_path which);

/** @brief The decay configuration every score of this workspace uses (match index, exports,
 *  case rules, `tide show`): the defaults of score.h, then STATE/decay.json when present
 *  (tide_decay_parse; a bad file fails tide_workspace_open with its name, place and reason),
 *  then each tide_workspace_set_decay. Borrowed. */
TIDE_EXTERN(const tide_decay_config *) tide_workspace_decay(const tide_workspace *ws);
/** @brief Override one type's lifetime / speed for this workspace ("TYPE=DAYS[:SPEED]", see
 *  tide_decay_set): a command-line --decay. TIDE_EINVAL with the reason. */
TIDE_EXTERN(int) tide_workspace_set_decay(tide_workspace *ws, const char *spec);

/* ------------------------------------------------------------------ progress */

/** How far a long piece of work is, for a front end to show (a terminal's progress line, a
 *  server's job status). Strings are borrowed for the call. */
typedef struct {
    const char *phase;    /**< "ingest", "match", "import" (a run without matching), "hunt",
                               "export" (records: indicators considered) */
    const char *input;    /**< the input being read (a file name, "-"), or NULL */
    uint64_t bytes;       /**< bytes of the inputs read so far (for files: of the file as
                               stored, compressed or not) */
    uint64_t total_bytes; /**< the inputs' size when known up front (regular files), else 0
                               (stdin, pipes, record sources, a hunt) */
    uint64_t records;     /**< events (match, import), objects (ingest) or retro-sightings
                               (hunt) so far */
    double seconds;       /**< since the work began (monotonic) */
    bool done;            /**< the last call for this work: it ended (a front end clears its
                               line) */
} tide_progress;
typedef void (*tide_progress_cb)(const tide_progress *p, void *payload);

/** How often progress is told, at most (seconds). The work checks the clock only every few
 *  hundred records, so a workspace without a progress callback pays one test per batch. */
#define TIDE_PROGRESS_INTERVAL 0.25

/** @brief Tell cb (NULL: nobody) how far the long work of this workspace is: ingest runs,
 *  match runs and history imports (tide_match_run_*), hunts with a callback
 *  (tide_workspace_hunt). At most every TIDE_PROGRESS_INTERVAL, plus one call with done set
 *  when a piece of work that told progress ends. Called from the thread doing the work. */
TIDE_EXTERN(void)
tide_workspace_set_progress(tide_workspace *ws, tide_progress_cb cb, void *payload);

/** @brief Give the workspace a cancel flag (NULL: none), for a front end that must stop its
 *  long work within a time (a server's stop): once *flag is non-zero, hunts of this workspace
 *  (tide_workspace_hunt, so tide_read_hunt and a case's blast-radius hunt) stop with
 *  TIDE_ECANCELED having stored nothing (feed pulls take theirs in tide_feed_pull_opts).
 *  The flag is read, never written; it must outlive the workspace's use. */
TIDE_EXTERN(void) tide_workspace_set_cancel(tide_workspace *ws, const volatile int *flag);
/** @brief Whether the workspace's cancel flag is set. */
TIDE_EXTERN(bool) tide_workspace_cancelled(const tide_workspace *ws);

/** @brief tide_export_run on the workspace's store, scored with its decay (unless opts->decay
 *  is set), telling the workspace's progress callback (phase "export", indicators considered)
 *  for a front end's progress line. */
TIDE_EXTERN(int)
tide_workspace_export(tide_workspace *ws, const tide_export_opts *opts, FILE *out,
        tide_export_summary *summary, tide_export_explain_cb explain, void *payload);

/** @brief A second connection to the workspace's store, for another thread (a background
 *  index build, a server worker). Free with tide_store_free. */
TIDE_EXTERN(int) tide_workspace_store_open(const tide_workspace *ws, tide_store **out);

/** @brief The case context of this workspace: the history the blast-radius hunts search, the
 *  tier policy (TIDE_WS_POLICY when that file exists, unless o->policy_path is set already),
 *  and lessons promoted at close through an ingest run of this workspace, with its retro-hunt.
 *  Keeps o->now_ms, o->no_hunt and a policy_path already set. */
TIDE_EXTERN(void) tide_workspace_case_opts(tide_workspace *ws, tide_case_opts *o);

/* ------------------------------------------------------------------ export targets */

/** What happened to one declared export target (strings borrowed for the callback). */
typedef struct {
    const char *name, *format, *output;
    const char *trigger; /**< why it ran: "declared", "ingest", "match", "decay", "sightings",
                              "status", "refresh" */
    bool written;        /**< the output was written (else its set was unchanged) */
    int rc;              /**< 0, or the export's error code */
    const char *error;   /**< the reason when rc < 0 */
    const tide_export_summary *summary;
} tide_target_result;
typedef void (*tide_target_cb)(const tide_target_result *r, void *payload);

/** @brief Declare an export target: opts (format, filters, output: a file or folder, kept as an
 *  absolute path; incremental; RPZ action / zone) under name (1-64 of [A-Za-z0-9._-]), kept
 *  in TIDE_WS_EXPORTS. It is written at once (cb reports it); when that fails nothing is
 *  declared. From then on every ingest run, match run and tide_workspace_targets_refresh
 *  regenerates it when its selection changed (docs/exports.md); a policy export (opts->policy,
 *  opts->categories) is selected again at every check and rewritten when what it holds
 *  changed (the assets, the category file). TIDE_EEXISTS when the name or the output is
 *  taken; TIDE_EINVAL for no output, "-", a FIFO or device, or --since. */
TIDE_EXTERN(int)
tide_workspace_target_add(tide_workspace *ws, const char *name, const tide_export_opts *opts,
        tide_target_cb cb, void *payload);
/** @brief Forget a declared target (its output stays). TIDE_ENOTFOUND when not declared. */
TIDE_EXTERN(int) tide_workspace_target_remove(tide_workspace *ws, const char *name);
/** @brief The declared targets as a JSON array: name, format, output, filters, and status
 *  (last_checked, last_written, trigger, entries, added, removed, next_change, error ...). */
TIDE_EXTERN(int) tide_workspace_targets_json(tide_workspace *ws, char **out);
/** @brief Check the declared targets (only: one name, or NULL for all) and regenerate those
 *  that are due and whose selection changed; force: write every one. cb reports each that
 *  ran. Returns the first export error after trying them all (out_written / out_failed may be
 *  NULL). */
TIDE_EXTERN(int)
tide_workspace_targets_refresh(tide_workspace *ws, bool force, const char *only, tide_target_cb cb,
        void *payload, int *out_written, int *out_failed);

/** @brief Import an asset inventory (tide_assets_import), then check the declared export
 *  targets: the policy exports (an asset rule, a category allowlist; those a case's lessons
 *  declared too) are rewritten when what they hold changed (trigger "assets"; cb reports each
 *  that ran). Returns the import's error, else the first export error. */
TIDE_EXTERN(int)
tide_workspace_assets_import(tide_workspace *ws, const char *path, long *out_count,
        tide_target_cb cb, void *payload, int *out_written, int *out_failed);

/* ------------------------------------------------------------------ deleting intel */

/** What tide_workspace_intel_delete did. */
typedef struct {
    long deleted;        /**< versions deleted */
    bool current;        /**< the current version was one of them */
    char revived[64];    /**< the older version that is current now ("" when none) */
    int exports_written; /**< declared export targets regenerated (their selection changed) */
    int exports_failed;  /**< ... and those that failed (their status says why) */
} tide_intel_delete_result;

/** @brief Delete versions of the object id from the store (the TAXII DELETE, docs/taxii.md):
 *  those whose modified is one of versions (n; "" for an unversioned object), or all of them
 *  when n is 0, with what was derived from them, so that the object leaves lookups, the match
 *  index and the exports. When the current version goes and older ones stay, the newest of
 *  these becomes current again (put again through an ingest run of its JSON, with its source
 *  and TLP). Then the declared export targets are checked (on_export reports each that ran;
 *  a failed target does not fail the delete). TIDE_ENOTFOUND when none of those versions is
 *  stored. out may be NULL. */
TIDE_EXTERN(int)
tide_workspace_intel_delete(tide_workspace *ws, const char *id, const char *const *versions,
        size_t n, tide_target_cb on_export, void *payload, tide_intel_delete_result *out);

/* ------------------------------------------------------------------ match index */

/** How long a cached index is used before it is rebuilt anyway (scores decay). */
#define TIDE_INDEX_MAX_AGE_MS (3600LL * 1000)

/** @brief The match index for the current intel: the cached file when it was built from the
 *  current intel generation within TIDE_INDEX_MAX_AGE_MS, else a new build saved to the cache
 *  (rebuild: always build). @param[out] out_built whether it was built (may be NULL). */
TIDE_EXTERN(int)
tide_workspace_index(tide_workspace *ws, bool rebuild, tide_match_index **out, bool *out_built);
/** @brief Build the index from the store and save it to path (NULL: the cache), giving its
 *  info and the build time in seconds (either may be NULL). */
TIDE_EXTERN(int)
tide_workspace_index_build(
        tide_workspace *ws, const char *path, tide_match_index_info *out_info, double *out_seconds);
/** @brief The info of a saved index (path NULL: the cache). TIDE_EFORMAT when not an index. */
TIDE_EXTERN(int)
tide_workspace_index_info(tide_workspace *ws, const char *path, tide_match_index_info *out_info);
/** @brief The indicators a saved index (path NULL: the cache) left out or holds only in part,
 *  with the reason (tide_match_index_each_left_out). */
TIDE_EXTERN(int)
tide_workspace_index_left_out(tide_workspace *ws, const char *path,
        int (*cb)(const char *indicator_id, tide_left_out_reason reason, const char *detail,
                void *payload),
        void *payload);

/* ------------------------------------------------------------------ ingest runs */

typedef struct tide_ingest_run tide_ingest_run;

typedef struct {
    tide_ingest_opts ingest;       /**< source, TLP, confidence ... as for tide_ingest_path;
                                        ingest.confidence 0 is taken as given: set -1 for the
                                        format default (tide_ingest_run_opts_init does) */
    bool no_hunt;                  /**< skip the retro-hunt of changed indicators */
    tide_ingest_error_cb on_error; /**< each bad record (may be NULL) */
    void *payload;
    /** Each declared export target the run's finish regenerated or failed to (may be NULL;
     *  called with payload). */
    tide_target_cb on_export;
} tide_ingest_run_opts;

/** How long the retro-hunt of an ingest waits, at most, for followers to commit what they read
 *  before they swap in the new intel (seconds; the environment variable TIDE_LATE_INTEL_WAIT
 *  overrides it). */
#define TIDE_LATE_INTEL_WAIT_SECONDS 60

/** @brief Defaults: no source / TLP / family, confidence -1 (the format's), hunt on. */
TIDE_EXTERN(void) tide_ingest_run_opts_init(tide_ingest_run_opts *o);

/** @brief Start an ingest into the workspace's store (opts may be NULL: the defaults). */
TIDE_EXTERN(int)
tide_ingest_run_new(tide_ingest_run **out, tide_workspace *ws, const tide_ingest_run_opts *opts);
/** @brief Say which paths the run will ingest (files, folders, "-"), before the first
 *  tide_ingest_run_path, so that progress (tide_workspace_set_progress) can give the total:
 *  the sum of their regular files' sizes, unknown (0) when one is "-" or compressed. Optional;
 *  without it progress gives the bytes read and no total. */
TIDE_EXTERN(void)
tide_ingest_run_expect(tide_ingest_run *run, const char *const *paths, size_t n);
/** @brief Ingest a file, a folder (recursively; a MISP feed folder when it holds a
 *  manifest.json) or "-" for stdin. As tide_ingest_path: 0 when the input was read (even with
 *  rejected records); < 0 when it could not be read at all (the run goes on with the next
 *  input) or the store failed (TIDE_ESTORE / TIDE_ENOMEM: the run should stop). */
TIDE_EXTERN(int) tide_ingest_run_path(tide_ingest_run *run, const char *path, tide_feed_format fmt);
/** @brief Ingest from an open stream (not closed); name is used in messages and, for lists,
 *  to derive the source / family as a file name would. */
TIDE_EXTERN(int)
tide_ingest_run_file(tide_ingest_run *run, FILE *fp, const char *name, tide_feed_format fmt);
/** @brief Ingest len bytes from memory (an API request body, a TAXII envelope, lessons). */
TIDE_EXTERN(int)
tide_ingest_run_buffer(
        tide_ingest_run *run, const void *data, size_t len, const char *name, tide_feed_format fmt);

typedef struct {
    tide_ingest_stats ingest; /**< summed over the run's inputs */
    bool hunted;              /**< a retro-hunt ran (history present, indicators changed) */
    tide_hunt_stats hunt;     /**< its counts (retro-sightings stored) */
    double hunt_seconds;
    double follower_wait_seconds; /**< the hunt waited this long for followers (match
                                       --follow) to commit what they read before they swap in
                                       the new intel */
    size_t followers_behind;      /**< followers that had not when the wait ended (bounded by
                                       TIDE_LATE_INTEL_WAIT_SECONDS or TIDE_LATE_INTEL_WAIT):
                                       events they read since their last commit may be missed by
                                       the hunt */
    int exports_written;          /**< declared export targets regenerated (the intel changed) */
    int exports_failed;           /**< ... and those that failed (their status says why) */
} tide_ingest_result;

/** @brief End the run: hunt every indicator it added or changed back through the history
 *  (unless no_hunt, or nothing changed, or there is no history) and store the
 *  retro-sightings; then regenerate the declared export targets whose selection changed
 *  (on_export reports each; a failed target does not fail the run: it is counted in
 *  exports_failed and its status keeps the error). out (may be NULL) gets the counts, also
 *  when the hunt fails. */
TIDE_EXTERN(int) tide_ingest_run_finish(tide_ingest_run *run, tide_ingest_result *out);
TIDE_EXTERN(void) tide_ingest_run_free(tide_ingest_run *run);

/* ------------------------------------------------------------------ hunts and history */

/** @brief Hunt indicators back through the history (tide_history_hunt on a fresh view of the
 *  workspace's history, retried once when a compaction removed a run meanwhile). */
TIDE_EXTERN(int)
tide_workspace_hunt(tide_workspace *ws, const tide_hunt_opts *opts,
        int (*cb)(const tide_retro_sighting *s, void *payload), void *payload,
        tide_hunt_stats *out_stats);

/** @brief The history's counts (an absent history gives zeros). */
TIDE_EXTERN(int) tide_workspace_history_stats(tide_workspace *ws, tide_history_stats *out);
/** @brief Drop history days before before_ms (0: by the retention), after setting the
 *  retention to retention_days when > 0. @param[out] out what was removed (days, records,
 *  events, before which day), out_retention: may be NULL. */
TIDE_EXTERN(int)
tide_workspace_history_prune(tide_workspace *ws, int64_t before_ms, int retention_days,
        tide_history_pruned *out, int *out_retention);
/** @brief Merge every day's runs of the history into one (tide_history_compact). @param[out]
 *  before, after: the history's counts before and after (may be NULL). */
TIDE_EXTERN(int)
tide_workspace_history_compact(
        tide_workspace *ws, tide_history_stats *before, tide_history_stats *after);

/* ------------------------------------------------------------------ match runs */

/** A record source a stream consumer implements (a Kafka partition, a socket, a test): one
 *  record (one log line, one JSON event) at a time, parsed by the format's record parser. */
typedef struct {
    const char *name;       /**< shown as the sightings' "file" (e.g. "kafka:topic/3") */
    tide_tel_format format; /**< TIDE_TEL_AUTO: detected from the first record */
    /** Next record: TIDE_SOURCE_RECORD with *rec / *len (borrowed until the next call) and
     *  *pos (its position: an offset, a stream sequence number, increasing; reported as the
     *  sighting's line; the registry of read positions keeps, per source name, how far the
     *  history and the stored sightings hold its records, and a record at a position below
     *  that is not recorded again: a replay after a crash records nothing twice),
     *  TIDE_SOURCE_AGAIN when nothing is there now (the run polls again: a run that
     *  does not follow waits for TIDE_SOURCE_END or tide_match_run_stop), TIDE_SOURCE_END
     *  when the source is finished, < 0 on error (tide_error_set; the source is then counted
     *  as an input error and dropped). A record that does not parse is a bad record
     *  (tel.on_bad gets the source's name, the record's position and the reason). */
    int (*next)(void *ctx, const char **rec, size_t *len, uint64_t *pos);
    /** Optional: every record up to and including pos is durably processed (its sightings
     *  stored, its observations committed to history): a consumer commits its offsets here. */
    void (*committed)(void *ctx, uint64_t pos);
    /** Optional: called once when the run is freed. */
    void (*close)(void *ctx);
    void *ctx;
} tide_match_source;

#define TIDE_SOURCE_END    0
#define TIDE_SOURCE_RECORD 1
#define TIDE_SOURCE_AGAIN  2

typedef enum {
    TIDE_NOTICE_INFO = 0, /**< progress: an index reloaded */
    TIDE_NOTICE_WARN,     /**< something was not done but the run goes on */
    TIDE_NOTICE_ERROR,    /**< an input or the store failed; the run's result says so too */
} tide_notice_level;

typedef struct {
    tide_tel_opts tel;  /**< format, home networks, field map, line cap, on_bad; its
                             follow flag is ignored (use follow below) */
    bool follow;        /**< keep reading growing files and folders until stopped */
    bool no_match;      /**< history only (`tide history import`) */
    bool no_history;    /**< do not record observations into the history */
    bool no_store;      /**< do not store sightings */
    bool rebuild_index; /**< ignore the cached index */
    /** Every sighting (suppressed ones too), in input order. Non-zero stops the run. */
    int (*on_sighting)(const tide_sighting *s, void *payload);
    /** Following: called after each pass over the inputs, when every sighting of what was read
     *  so far has been reported (a front end flushes its output here). May be NULL. */
    void (*on_pass)(void *payload);
    void *payload; /**< for on_sighting and on_pass */
    /** Messages a front end may show (the library prints nothing). May be NULL. */
    void (*on_notice)(tide_notice_level level, const char *msg, void *payload);
    void *notice_payload;      /**< for on_notice */
    double flush_seconds;      /**< follow: store sightings at least this often; 0: 2 s */
    size_t flush_pairs;        /**< ... or when this many host x indicator pairs are held;
                                    0: 100 000 */
    double checkpoint_seconds; /**< follow: make history durable (with the read positions)
                                    this often; 0: TIDE_MATCH_CHECKPOINT_SECONDS. A follower
                                    also commits at once when it swaps in a new index */
    int retention_days;        /**< > 0: set the history retention */
    bool keep_history;         /**< the days this run records are kept whatever the retention
                                    (`history import --keep`) */
} tide_match_run_opts;

/** How often a follower commits its history and read positions by default (seconds): the most
 *  history a kill -9 can take from a follower that is never restarted (a restarted one reads
 *  again from the committed positions, so nothing is lost). */
#define TIDE_MATCH_CHECKPOINT_SECONDS 5.0

typedef struct tide_match_run tide_match_run;

/** @brief Prepare a run: loads or builds the match index (unless no_match), opens the history
 *  for writing (unless no_history; other writers may write at the same time; while another
 *  process commits, it waits up to the history's bound with a warning notice; when the history
 *  cannot be opened, an error notice is given and the run matches without history and fails
 *  at its end, or fails at once when no_match), and a sighting batch. */
TIDE_EXTERN(int)
tide_match_run_new(tide_match_run **out, tide_workspace *ws, const tide_match_run_opts *opts);

/** @brief Add a file, or a folder (its regular files, recursively, by name; re-scanned for new
 *  files when following); "-" is stdin. TIDE_ENOTFOUND when path does not exist. */
TIDE_EXTERN(int) tide_match_run_add_path(tide_match_run *run, const char *path);
/** @brief Add an open descriptor (not closed by the run; not followed). */
TIDE_EXTERN(int) tide_match_run_add_fd(tide_match_run *run, int fd, const char *name);
/** @brief Add len bytes of telemetry in memory (plain, gzip or zstd), valid until the run is
 *  freed. */
TIDE_EXTERN(int)
tide_match_run_add_buffer(tide_match_run *run, const void *data, size_t len, const char *name);
/** @brief Add a record source (copied; its ctx is the caller's until close is called). */
TIDE_EXTERN(int) tide_match_run_add_source(tide_match_run *run, const tide_match_source *src);

/** @brief Read every source to its end (follow: until tide_match_run_stop), matching,
 *  recording history and storing sightings; then commit the history and flush the
 *  sightings. Returns 0 when everything was read and stored; < 0 for the first failure of the
 *  store or history (TIDE_ESTORE, TIDE_EIO ...) or the callback's stop value. Inputs that
 *  could not be opened or read are counted (input_errors) and notified, not returned; what an
 *  input that ended in an error gave is not recorded in history (history_discarded). Events
 *  the history refuses for their time are counted (history_rejected) and named in notices;
 *  what the retention removes is said in a notice. */
TIDE_EXTERN(int) tide_match_run_run(tide_match_run *run);
/** @brief Ask a running run to finish after the current batch (async-signal-safe). */
TIDE_EXTERN(void) tide_match_run_stop(tide_match_run *run);

typedef struct {
    bool index_built;            /**< the index was built (not loaded from the cache) */
    double index_seconds;        /**< to load or build it */
    tide_match_index_info index; /**< of the index in use */
    bool history;                /**< observations are recorded */
    uint64_t inputs;             /**< inputs opened */
    uint64_t input_errors;       /**< inputs that could not be opened or read */
    uint64_t events, bytes, bad; /**< events read, bytes (decompressed), bad records */
    uint64_t sightings, suppressed;
    uint64_t store_errors;          /**< failed sighting flushes */
    uint64_t history_errors;        /**< failed history adds or commits */
    uint64_t history_rejected;      /**< events not recorded: dated after the clock + the history's
                                         max future, or before 1970 (each named in a notice) */
    uint64_t history_discarded;     /**< events of inputs that ended in an error, dropped from
                                         history (a repaired file imported later counts once) */
    size_t history_pruned_days;     /**< days the history's retention removed (notices say more) */
    size_t history_pruned_own_days; /**< ... of them, days this run had just recorded (older
                                         than the retention window) */
    uint64_t history_pruned_own_events; /**< ... and their events */
    uint64_t undecided;                 /**< candidates of non-simple indicators not decided (their
                                             evaluation failed or the indicator is over its budget,
                                             match.h): neither sightings nor misses */
    size_t undecided_indicators;        /**< indicators they belong to (each named in a notice) */
    uint64_t history_recorded;     /**< events recorded in history (what `history stats` counts;
                                        those of inputs that ended in an error included, see
                                        history_discarded) */
    uint64_t history_skipped;      /**< events already recorded: their input was read before
                                        (the registry of read positions), not recorded again */
    uint64_t sightings_not_stored; /**< sightings of events whose sightings were stored when
                                        their input was read before: reported, not stored */
    uint64_t resumed_events;       /**< following: events skipped, not even matched, because
                                        both the history and the store hold them (a restarted
                                        follower resumes where it was) */
    uint64_t window_candidates;    /**< candidate events of multi-observation patterns held in
                                        windows (match.h, TIDE_MATCH_WINDOW_*) */
    uint64_t window_matches;       /**< windows that matched (one sighting each) */
    uint64_t window_evicted;       /**< candidate events evicted from a window unmatched */
    size_t window_bytes_peak;      /**< the most the windows held, bytes */
    double seconds;                /**< reading and matching (from the start of run_run) */
    double commit_seconds;         /**< the final history commit */
} tide_match_run_stats;
TIDE_EXTERN(void) tide_match_run_stats_get(const tide_match_run *run, tide_match_run_stats *out);
TIDE_EXTERN(void) tide_match_run_free(tide_match_run *run);

/* ------------------------------------------------------------------ wire format */

/** @brief A live sighting as one line of NDJSON (with the newline) into buf, snprintf style:
 *  returns the length it needs (not counting the NUL); writes at most cap bytes, always
 *  NUL-terminated when cap > 0. Invalid UTF-8 from the logs becomes U+FFFD, so every line is
 *  valid JSON. Fields: ts, host, observed, field, file, line, event, user, indicator,
 *  indicator_id, type, campaign(s), malware(_all), actor(s), confidence, score, tlp,
 *  kill_chain, source, suppressed, suppressed_by (docs/detection.md). */
TIDE_EXTERN(size_t) tide_sighting_json(const tide_sighting *s, char *buf, size_t cap);
/** @brief A retro-sighting (history hunt) the same way: host, indicator, observed,
 *  first_seen, last_seen, count, file, line, retro: true, then the indicator's fields as
 *  for a live sighting (docs/history.md). */
TIDE_EXTERN(size_t) tide_retro_sighting_json(const tide_retro_sighting *s, char *buf, size_t cap);

/* ------------------------------------------------------------------ files */

/** @brief The regular files under dir, recursively, sorted by name, hidden entries skipped:
 *  cb(path) for each (non-zero stops and is returned). TIDE_EIO when dir cannot be read. */
TIDE_EXTERN(int)
tide_walk_files(const char *dir, int (*cb)(const char *path, void *payload), void *payload);

#endif
