/*
 * engine_int.h - what the files of src/engine share: the workspace structure (its store, its
 * location and derived paths) and the small helpers of the runs.
 */
#ifndef TIDE_ENGINE_INT_H
#define TIDE_ENGINE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "tide/engine.h"
#include "util/util.h"

struct tide_workspace {
    char *location;  /* normalised: "sqlite:DIR" */
    char *store_dir; /* the SQLite folder */
    char *state_dir; /* history, index cache, policy */
    char *index_path, *policy_path, *history_dir, *exports_path, *decay_path;
    tide_store *store;
    tide_decay_config decay;   /* defaults, then STATE/decay.json, then tide_workspace_set_decay */
    bool index_stale;          /* a match run sighted an indicator its index scored 0 */
    tide_progress_cb progress; /* tide_workspace_set_progress */
    void *progress_payload;
    const volatile int *cancel; /* tide_workspace_set_cancel */
    double late_wait_seconds;   /* the last retro-hunt waited this long for followers ... */
    size_t late_behind;         /* ... and this many were still behind when it hunted */
};

/* Progress of one piece of work (progress.c): tide__progress_due is the cheap test the work
 * makes (a counter against the next check); tide__progress_tick reads the clock and tells the
 * callback when TIDE_PROGRESS_INTERVAL (or $TIDE_PROGRESS_INTERVAL seconds) has passed. */
typedef struct {
    tide_progress_cb cb; /* NULL: nothing to do */
    void *payload;
    tide_progress p;
    double t0, last;
    double interval;     /* TIDE_PROGRESS_INTERVAL, or the environment's (seconds) */
    uint64_t next, step; /* records at which to look at the clock next; records between */
    bool told;           /* the callback was called: it gets a done call at the end */
} tide__progress;

void tide__progress_begin(tide__progress *g, const tide_workspace *ws, const char *phase,
        uint64_t total_bytes, uint64_t step);
static inline bool tide__progress_due(const tide__progress *g, uint64_t records)
{
    return g->cb != NULL && records >= g->next;
}
void tide__progress_tick(tide__progress *g, uint64_t records, uint64_t bytes, const char *input);
/* The end: a last call with done set, when any call was made. */
void tide__progress_end(tide__progress *g, uint64_t records, uint64_t bytes);
/* Size of a regular file that is not gzip / zstd content (whose bytes read are counted
 * decompressed), else 0: unknown. */
uint64_t tide__progress_file_size(const char *path);

/* Monotonic seconds, for the run statistics. */
double tide__engine_mono(void);

/* Retro-hunt the indicators changed at or after since_ms and store the retro-sightings; sets
 * *out_hunted when a hunt ran (there is a history with runs and something changed). */
int tide__ws_hunt_changed(tide_workspace *ws, int64_t since_ms, bool *out_hunted,
        tide_hunt_stats *out_stats, double *out_seconds);

/* Check the declared export targets (targets.c): regenerate those due (trigger: why, for the
 * status; sighted: the caller stored sightings) whose selection changed, or all (force); only:
 * one name or NULL. Nothing at all when no targets file exists. Returns the first export error
 * after trying every target. */
int tide__ws_targets_check(tide_workspace *ws, const char *trigger, bool force, bool sighted,
        const char *only, tide_target_cb cb, void *payload, int *out_written, int *out_failed);

/* tide_case_opts.policy_export of a workspace (targets.c): the policy export a case's lesson
 * asks for, declared as the export target name (output: the rule's, else STATE/policies/NAME). */
int tide__ws_case_policy(void *ctx, const char *name, const tide_export_opts *opts,
        char **out_output, long *out_entries);

/* reads.c: the gate of a ceiling of a tide_reads (reads_taxii.c uses it). */
struct tide_reads;
struct tide_gate;
int tide__reads_gate(struct tide_reads *rd, int ceiling, struct tide_gate **out);

#endif
