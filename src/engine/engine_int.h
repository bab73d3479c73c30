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
    tide_decay_config decay;  /* defaults, then STATE/decay.json, then tide_workspace_set_decay */
    bool index_stale;         /* a match run sighted an indicator its index scored 0 */
    double late_wait_seconds; /* the last retro-hunt waited this long for followers ... */
    size_t late_behind;       /* ... and this many were still behind when it hunted */
};

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

#endif
