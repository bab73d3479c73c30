/*
 * warninglist.h - MISP warninglists and the built-in private / loopback / bogon ranges: values
 * that must never be blocked and whose sightings are marked suppressed (SPEC C1).
 */
#ifndef TIDE_WARNINGLIST_H
#define TIDE_WARNINGLIST_H

#include "common.h"
#include "observable.h"
#include "store.h"

/** @brief Load MISP warninglist files (list.json) from a file or a folder (recursively) into
 *  the store, replacing lists of the same name. @param[out] out_lists number of lists loaded,
 *  @param[out] out_entries number of entries. Errors name the file and the reason. */
TIDE_EXTERN(int) tide_warninglist_load(tide_store *store, const char *path, long *out_lists,
        long *out_entries);

typedef struct tide_warninglists tide_warninglists;

/** @brief Build the in-memory checker from every list in the store plus the built-in ranges. */
TIDE_EXTERN(int) tide_warninglists_new(tide_warninglists **out, tide_store *store);
TIDE_EXTERN(void) tide_warninglists_free(tide_warninglists *wl);

/** @brief Name of the first list containing the canonical value of this kind, or NULL.
 *  Borrowed from wl. */
TIDE_EXTERN(const char *) tide_warninglists_check(const tide_warninglists *wl,
        tide_obs_kind kind, const char *value);

#endif
