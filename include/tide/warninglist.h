/*
 * warninglist.h - MISP warninglists and the built-in private / loopback / bogon ranges: values
 * that must never be blocked and whose sightings are marked suppressed (SPEC C1).
 *
 * The checker itself (tide_warninglists_new_builtin, _add, _check) is the intel layer's
 * (src/intel/warninglist_checker.c) and needs no store; loading list files into the store and
 * building a checker from the store's lists (tide_warninglist_load, tide_warninglists_new)
 * are the store layer's (src/store/store_warninglists.c).
 */
#ifndef TIDE_WARNINGLIST_H
#define TIDE_WARNINGLIST_H

#include "common.h"
#include "observable.h"
#include "store.h"

/** @brief Load MISP warninglist files (list.json) from a file or a folder (recursively) into
 *  the store, replacing lists of the same name. @param[out] out_lists number of lists loaded,
 *  @param[out] out_entries number of entries. Errors name the file and the reason. */
TIDE_EXTERN(int)
tide_warninglist_load(tide_store *store, const char *path, long *out_lists, long *out_entries);

typedef struct tide_warninglists tide_warninglists;

/** @brief Build the in-memory checker from every list in the store plus the built-in ranges
 *  (store may be NULL: the built-in ranges only). */
TIDE_EXTERN(int) tide_warninglists_new(tide_warninglists **out, tide_store *store);

/** @brief A checker holding only the built-in ranges (list "builtin-bogons"), to which the
 *  caller hands entries with tide_warninglists_add; needs no store. */
TIDE_EXTERN(int) tide_warninglists_new_builtin(tide_warninglists **out);

/** @brief Add one entry of list `list` to a checker. type: "cidr", "hostname", "string",
 *  "substring" or "regex" (as in MISP list files), optionally followed by ';' and the list's
 *  MISP matching_attributes joined by ',' ("regex;phone-number,whois-registrant-phone"): the
 *  entry then applies only to the observable kinds those attribute types name (ip-src / ip-dst
 *  addresses and networks, ip-dst|port, domain / hostname, url, the hashes, e-mail types, ja3,
 *  x509); none of them (phone-number), never. Without, it applies to every kind. The store keeps
 *  a list's type in this form. @return 0, TIDE_EINVAL for an unknown type,
 *  TIDE_EPARSE for a value the checker cannot use (a bad CIDR, a regex that does not compile;
 *  the entry is left out), TIDE_ENOMEM. */
TIDE_EXTERN(int)
tide_warninglists_add(tide_warninglists *wl, const char *list, const char *type, const char *value);

TIDE_EXTERN(void) tide_warninglists_free(tide_warninglists *wl);

/** @brief Name of the first list containing the canonical value of this kind, or NULL.
 *  Borrowed from wl. */
TIDE_EXTERN(const char *)
tide_warninglists_check(const tide_warninglists *wl, tide_obs_kind kind, const char *value);

#endif
