/*
 * cases.h - response and recovery (SPEC C4, C5): cases opened from sightings, with the
 * attribution (relationship walk with the confidence of each hop), the infection vector on the
 * first affected host, the blast radius (every host with a live or retro sighting of any
 * indicator of the attributed campaign / malware, found with a history hunt), a tier from a
 * policy, and an ordered plan whose every action carries its justification. Then recovery:
 * per-host state machine affected -> contained -> eradicated -> recovered -> verified
 * (verified automatically after a clean watch period), lessons learned, close (lessons'
 * indicators promoted as source "internal"), a TLP-filtered STIX 2.1 share bundle, metrics.
 *
 * Everything is stored in the store (schema migration 4); documents are returned as JSON text
 * (see docs/response.md for their fields). Times are ms since the epoch.
 */
#ifndef TIDE_CASES_H
#define TIDE_CASES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "export.h"
#include "history.h"
#include "ingest.h"
#include "score.h"
#include "store.h"

/** Hunts indicators back through a history (tide_workspace_hunt has this shape). */
typedef int (*tide_case_hunt_fn)(void *ctx, const tide_hunt_opts *opts,
        int (*cb)(const tide_retro_sighting *s, void *payload), void *payload,
        tide_hunt_stats *out_stats);
/** Ingests the lessons' new indicators at close: data/len is a list (one value per line, see
 *  tide_ingest_path's "list" format) to store with the ingest options io; out_indicators gets
 *  the indicators stored. An engine ingest run does it, so they are retro-hunted too. */
typedef int (*tide_case_promote_fn)(
        void *ctx, const char *data, size_t len, const tide_ingest_opts *io, long *out_indicators);

/** Declares, at a case's close, the policy export a prevention rule of its lessons asks for
 *  (docs/response.md): opts holds the format and the policy (nft / ipset: opts->policy) or the
 *  category allowlist (squid: opts->categories, opts->allow), and the output when the rule
 *  names one (NULL: the implementation picks one). A workspace declares it as the export target
 *  name, written at once and again whenever the assets, the category file or the intel change
 *  (tide export --status lists it). out_output (free with free()) gets the output written,
 *  out_entries the entries in it. */
typedef int (*tide_case_policy_fn)(void *ctx, const char *name, const tide_export_opts *opts,
        char **out_output, long *out_entries);

/** What the case functions need beyond the store. A workspace fills it
 *  (tide_workspace_case_opts in engine.h): front ends should not build it by hand. */
typedef struct {
    int64_t now_ms;               /**< reference time (watch periods, timeline); 0 = the clock */
    const char *policy_path;      /**< tier policy file; NULL = the defaults of SPEC C4 */
    bool no_hunt;                 /**< do not hunt the history for the blast radius */
    tide_case_hunt_fn hunt;       /**< the history hunt for the blast radius; NULL: no history is
                                       searched (the case notes it) */
    tide_case_promote_fn promote; /**< ingest of promoted lessons; NULL: tide_ingest_path's
                                       list reader straight into the store, no retro-hunt */
    tide_case_policy_fn policy_export; /**< the policy exports of the lessons' prevention
                                            rules; NULL: each is written once with
                                            tide_export_run (a rule then needs "to PATH") */
    void *ctx;                         /**< for hunt, promote and policy_export */
    const tide_decay_config *decay;    /**< case rules' scores (tide_case_auto); NULL = the
                                            defaults of tide_decay_defaults */
} tide_case_opts;

/** @brief Open a case from a stored sighting (sighting_id > 0) or from host and indicator
 *  (value or id). When an open case already covers that host and indicator, its id is given
 *  and *out_existed (may be NULL) is true. TIDE_ENOTFOUND when neither a sighting nor an
 *  indicator matches. */
TIDE_EXTERN(int)
tide_case_open(tide_store *store, const tide_case_opts *opts, int64_t sighting_id, const char *host,
        const char *indicator, int64_t *out_id, bool *out_existed);

/** @brief Open cases by rule: every unsuppressed live sighting last seen at or after since_ms
 *  (0 = any) whose indicator's score is at least min_score opens a case unless an open case
 *  covers it. The score is the one of score.h (tide_score_assess) at opts->now_ms, as the
 *  match index and exports compute it: base decayed from valid_from (else created, else
 *  modified) or from the indicator's last sighting when newer; 0 when the indicator is no
 *  longer active. Oldest sightings first, so later sightings of the same campaign / malware
 *  join the first case.
 *  @param[out] out JSON array of {case, host, indicator, score (rounded), opened} (may be
 *  NULL). */
TIDE_EXTERN(int)
tide_case_auto(
        tide_store *store, const tide_case_opts *opts, int min_score, int64_t since_ms, char **out);

/** @brief Recompute an open case (scope, tier, plan) from the current sightings and history,
 *  record what changed in its timeline, and verify / relapse recovered hosts against the
 *  watch period. Closed cases are left as they are. @param[out] out_changes may be NULL. */
TIDE_EXTERN(int)
tide_case_refresh(tide_store *store, const tide_case_opts *opts, int64_t id, int *out_changes);

/** @brief The case document as JSON: id, status, tier, tier_name, rule, hosts [{host, status
 *  (alerted|silent), state, evidence ...}], attribution, infection_vector, plan, timeline,
 *  lessons. @param[out] out newly allocated (free with free()). TIDE_ENOTFOUND. */
TIDE_EXTERN(int) tide_case_show_json(tide_store *store, int64_t id, char **out);
/** @brief The case document as Markdown. */
TIDE_EXTERN(int) tide_case_show_markdown(tide_store *store, int64_t id, char **out);
/** @brief The plan only: JSON {"case", "tier", "actions": [...]}, or Markdown. */
TIDE_EXTERN(int) tide_case_plan_json(tide_store *store, int64_t id, char **out);
TIDE_EXTERN(int) tide_case_plan_markdown(tide_store *store, int64_t id, char **out);
/** @brief Every case: JSON array of {id, status, tier, seed_host, seed_indicator, hosts,
 *  opened_at, closed_at, attribution names}. */
TIDE_EXTERN(int) tide_case_list_json(tide_store *store, char **out);

/** @brief Move a host of an open case to state "contained", "eradicated" or "recovered"
 *  (one step forward on affected -> contained -> eradicated -> recovered; "verified" is set
 *  only by the watch). Illegal transitions are TIDE_EINVAL with the reason, nothing changed.
 *  by and note may be NULL. */
TIDE_EXTERN(int)
tide_case_host_state(tide_store *store, const tide_case_opts *opts, int64_t id, const char *host,
        const char *state, const char *by, const char *note);

/** @brief Parse a lessons-learned record (JSON object, or the text format of
 *  docs/response.md) named name (for errors). TIDE_EPARSE with line and reason.
 *  @param[out] out normalised JSON {new_indicators: [{value, type}], prevention_changes,
 *  detection_gaps, response_gaps, policies: [{rule, kind, format, policy | categories, allow,
 *  output}]} (free with free()). A prevention written as a rule ("software java < 1.7 ->
 *  deny-egress", "proxy deny-uncategorized categories FILE") or a "policy:" line is a policy;
 *  an invalid rule is TIDE_EPARSE with its line and reason. */
TIDE_EXTERN(int)
tide_case_lessons_parse(const char *data, size_t len, const char *name, char **out);
/** @brief Attach the lessons read from path to a case (replacing earlier ones). */
TIDE_EXTERN(int)
tide_case_lessons_set(tide_store *store, const tide_case_opts *opts, int64_t id, const char *path);

/** @brief Parse a tier policy (JSON, docs/response.md). TIDE_EPARSE with line and reason.
 *  @param[out] out the full policy with defaults filled in (free with free()). */
TIDE_EXTERN(int) tide_case_policy_parse(const char *data, size_t len, const char *name, char **out);

/** @brief Close a case: every host verified and lessons present, else TIDE_EINVAL naming what
 *  is missing. The lessons' policies become policy exports (opts->policy_export: the export
 *  targets "case-N-policy-K"), recorded in the case as policy_exports [{name, rule, format,
 *  output, entries}]; the lessons' new indicators are ingested with source "internal" and the
 *  case TLP (tlp overrides it when not NULL). @param[out] out_promoted indicators promoted (may
 *  be NULL). */
TIDE_EXTERN(int)
tide_case_close(tide_store *store, const tide_case_opts *opts, int64_t id, const char *tlp,
        long *out_promoted);

/** @brief Write a STIX 2.1 bundle for peers to path: a report, the case indicators, malware,
 *  courses of action from the plan and anonymised sighting counts, leaving out everything
 *  marked above tlp_max (unmarked objects count as amber). path is written like an export's
 *  output: replaced atomically (the previous file stays on any failure), "-" is stdout, a FIFO
 *  or a device is written directly, a folder or a symbolic link is TIDE_EINVAL.
 *  @param[out] out_objects may be NULL. */
TIDE_EXTERN(int)
tide_case_share(
        tide_store *store, int64_t id, const char *tlp_max, const char *path, size_t *out_objects);

/** @brief Metrics per case and overall (SPEC C5) as JSON: time to detect, contain, recover,
 *  dwell time (seconds), counts by tier, internal vs external intel. */
TIDE_EXTERN(int) tide_metrics_json(tide_store *store, const tide_case_opts *opts, char **out);

#endif
