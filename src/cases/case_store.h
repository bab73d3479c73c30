/*
 * case_store.h - cases (SPEC C4, C5) in and out of the store as jansson rows: case_store.c
 * converts them to and from the store's plain rows (store/front.h, whose backends know
 * neither jansson nor src/cases). Rows:
 *   case row  {"id", "status" ("open"|"closed"), "tier", "opened_at", "updated_at",
 *              "closed_at" (or null), "seed_host", "seed_indicator", "tlp" (or null),
 *              "doc" (object), "lessons" (object or null)}        times in ms
 *   host row  {"host", "status" ("alerted"|"silent"), "state", "state_at", "recovered_at"
 *              (or null), "relapses", "first_seen", "last_seen"}
 *   event     {"at", "kind", "host" (or null), "actor" (or null), "text"}
 */
#ifndef TIDE_CASES_CASE_STORE_H
#define TIDE_CASES_CASE_STORE_H

#include <stdint.h>

#include <jansson.h>

#include "store/front.h" /* tide__sighting_by_id, tide__indicator_source_counts */
#include "tide/store.h"

/* Insert (id absent or 0: *out_id gets the new id, also set in row) or update a case row. */
int tide__case_put(tide_store *s, json_t *row, int64_t *out_id);
/* The case row of id; TIDE_ENOTFOUND "no case N". */
int tide__case_get(tide_store *s, int64_t id, json_t **out);
/* Every case id, ascending. out: JSON array of integers. */
int tide__case_ids(tide_store *s, json_t **out);
/* The open case covering (host, indicator_id): the host is in its scope and the indicator is
 * one of its indicators; *out_id = 0 when none. */
int tide__case_find_covering(
        tide_store *s, const char *host, const char *indicator_id, int64_t *out_id);

int tide__case_host_put(tide_store *s, int64_t case_id, json_t *host);
/* Hosts of a case, by host. out: array of host rows. */
int tide__case_hosts(tide_store *s, int64_t case_id, json_t **out);

/* Add the indicator ids (array of strings) the case covers (existing ones are kept). */
int tide__case_indicators_add(tide_store *s, int64_t case_id, json_t *ids);
/* The indicator ids of a case. out: array of strings. */
int tide__case_indicators(tide_store *s, int64_t case_id, json_t **out);

int tide__case_event_add(tide_store *s, int64_t case_id, int64_t at, const char *kind,
        const char *host, const char *actor, const char *text);
/* The timeline of a case, oldest first. out: array of events. */
int tide__case_events(tide_store *s, int64_t case_id, json_t **out);

#endif
