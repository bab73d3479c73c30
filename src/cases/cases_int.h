/*
 * cases_int.h - internals of src/cases shared by its files: the case computation (attribution,
 * scope, vector, tier, plan), the policy and lessons parsers, the recovery state machine.
 */
#ifndef TIDE_CASES_INT_H
#define TIDE_CASES_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "tide/cases.h"
#include "tide/store.h"

#define TIDE_CASE_MAX_EVIDENCE 20        /* evidence rows kept per host in the document */
#define TIDE_CASE_MAX_HOSTS    20000     /* hosts kept in scope */
#define TIDE_CASE_MAX_FILE     (4 << 20) /* lessons / policy files */

/* Policy with defaults filled in (caller owns). name is for errors. */
int tide__case_policy_parse(const char *data, size_t len, const char *name, json_t **out);
json_t *tide__case_policy_default(void);
/* The policy of opts (file, STORE/policy.json, or defaults). */
int tide__case_policy_load(tide_store *s, const tide_case_opts *o, json_t **out);
int tide__case_watch_days(json_t *policy, int tier);

int tide__case_lessons_parse(const char *data, size_t len, const char *name, json_t **out);

/* Read a whole file with a size cap. */
int tide__case_read_file(const char *path, size_t max, char **out, size_t *out_len);

/* Compute the case document for a seed host and seed indicator ids. hosts_state: the stored
 * host rows (array, may be NULL) for the plan (relapsed hosts). out_ids: every indicator id
 * of the case (array of strings). */
int tide__case_compute(tide_store *s, const tide_case_opts *o, json_t *policy,
        const char *seed_host, json_t *seed_ids, json_t *hosts_state, json_t **out_doc,
        json_t **out_ids);

/* Plan of a computed document (tier, hosts, attribution); hosts_state may be NULL. */
json_t *tide__case_plan(int64_t case_id, json_t *doc, json_t *hosts_state, json_t *policy);

/* State machine: index of a state name (affected 0 .. verified 4), -1 if unknown. */
int tide__case_state_index(const char *state);

/* Markdown rendering of a full show document / a plan. */
char *tide__case_markdown(json_t *show);
char *tide__case_plan_md(json_t *plan);

int64_t tide__case_now(const tide_case_opts *o);

/* Append to ids (a JSON array of indicator ids, not repeated) the internal indicators the
 * case's lessons produced (source "internal", one per lessons value stored). */
int tide__case_lesson_ids(tide_store *s, json_t *row, json_t *ids);

#endif
