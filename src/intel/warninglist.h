/*
 * warninglist.h - MISP warninglists (known-benign values: private ranges, top sites, public
 * resolvers, empty-file hashes ...) and tide's built-in bogon ranges, held in memory for fast
 * "is this observable warninglisted?" checks (SPEC C1).
 */
#ifndef TIDE_INTEL_WARNINGLIST_H
#define TIDE_INTEL_WARNINGLIST_H

#include <stdbool.h>
#include <stddef.h>

#include "tide/observable.h"

typedef struct tide_warnlist_set tide_warnlist_set;

/* New empty set; builtin: add private / loopback / bogon / multicast / link-local / reserved
 * IPv4 and IPv6 ranges as the list "builtin-bogons". Free with tide__warnlist_set_free. */
int tide__warnlist_set_new(tide_warnlist_set **out, bool builtin);
void tide__warnlist_set_free(tide_warnlist_set *s);

/* Add one entry. type: "cidr" (a network or a plain IP), "hostname" (matches the name and its
 * subdomains; a leading "." or "*." is ignored), "string" (exact, case-insensitive),
 * "substring" (case-insensitive), "regex" (PCRE2; MISP's "/re/flags" form or a bare pattern;
 * flag i honoured). Returns 0, TIDE_EINVAL for an unknown type, TIDE_EPARSE for a bad value
 * (bad CIDR, regex that does not compile: the entry is skipped), TIDE_ENOMEM. */
int tide__warnlist_add(
        tide_warnlist_set *s, const char *list_name, const char *type, const char *value);

/* Parse a MISP list.json text: calls cb(name, type, description, value, payload) for every
 * entry of "list" (strings borrowed for the call; description may be ""). A cb return < 0
 * stops and is returned. Returns TIDE_EPARSE with the reason (JSON line/column, missing or
 * mistyped member) for bad files. */
int tide__warnlist_parse(const char *json, size_t len,
        int (*cb)(const char *name, const char *type, const char *description, const char *value,
                void *payload),
        void *payload);

/* Read and add a whole list.json file. Entries that fail to add (bad regex / CIDR) are
 * skipped and counted in *skipped (may be NULL). */
int tide__warnlist_load_file(tide_warnlist_set *s, const char *path, long *skipped);

/* Sort the CIDR index now. Optional: the first check does it otherwise, which makes that
 * first check (only) unsafe to run concurrently with others. */
void tide__warnlist_set_freeze(tide_warnlist_set *s);

/* Is this canonical observable warninglisted? Returns the list name (borrowed from s) or NULL.
 * IPs / CIDRs: CIDR lists (IPs inside, CIDRs wholly inside) and string lists; ip-port: its IP;
 * domains: hostname lists (the name or a parent), string, substring, regex; URLs: the URL in
 * string / substring / regex lists, and its host as a domain or IP; other kinds: string,
 * substring, regex. */
const char *tide__warnlist_check(const tide_warnlist_set *s, tide_obs_kind kind, const char *value);

#endif
