/*
 * export.h - prevention exports (SPEC C6): blocklists for the controls already deployed (DNS
 * RPZ, nftables, ipset, Squid, Suricata, Zeek intel, YARA) plus STIX, MISP, CSV and text,
 * built from the current, non-decayed, non-warninglisted intel of the store; incremental
 * exports (what changed since the last export to the same output); policy exports from the
 * asset inventory (egress-deny sets) and from a domain category list (Squid allowlist).
 *
 * One selection step is shared by every format: an observable enters an export only when its
 * indicator is valid now, not revoked, its decayed score is >= min_score, it passes the
 * type / TLP / confidence / source / related / since filters, it is not warninglisted, it is
 * never private / bogon space, and the format can express its kind. Everything left out is
 * counted by reason (tide_export_summary) and can be listed one by one (explain callback).
 * See docs/exports.md.
 */
#ifndef TIDE_EXPORT_H
#define TIDE_EXPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common.h"
#include "observable.h"
#include "score.h"
#include "store.h"

typedef enum {
    TIDE_EXPORT_RPZ = 0,
    TIDE_EXPORT_NFT,
    TIDE_EXPORT_IPSET,
    TIDE_EXPORT_SQUID,
    TIDE_EXPORT_SURICATA,
    TIDE_EXPORT_ZEEK,
    TIDE_EXPORT_YARA,
    TIDE_EXPORT_STIX,
    TIDE_EXPORT_MISP,
    TIDE_EXPORT_CSV,
    TIDE_EXPORT_TXT,
    TIDE_EXPORT__COUNT
} tide_export_format;

/** @brief Format from its name ("rpz", "nft", "ipset", "squid", "suricata", "zeek", "yara",
 *  "stix", "misp", "csv", "txt"); -1 if unknown. */
TIDE_EXTERN(int) tide_export_format_from_name(const char *name);
/** @brief Name of a format; "?" if out of range. */
TIDE_EXTERN(const char *) tide_export_format_name(int format);
/** @brief Whether the format writes several files into a directory (squid, suricata). */
TIDE_EXTERN(bool) tide_export_format_is_dir(int format);
/** @brief Whether the format can express observables of this kind at all (values it cannot
 *  write are still left out one by one as "unsupported by format"). */
TIDE_EXTERN(bool) tide_export_format_supports(int format, tide_obs_kind kind);
/** @brief Whether the format keeps export state per output and so supports incremental
 *  exports (rpz, nft, ipset, suricata). */
TIDE_EXTERN(bool) tide_export_format_incremental(int format);

/** Why an observable was left out of an export. */
typedef enum {
    TIDE_EXPORT_SKIP_REVOKED = 0,
    TIDE_EXPORT_SKIP_EXPIRED,     /**< valid_until has passed */
    TIDE_EXPORT_SKIP_NOT_YET,     /**< valid_from is in the future */
    TIDE_EXPORT_SKIP_DECAYED,     /**< current score below min_score */
    TIDE_EXPORT_SKIP_CONFIDENCE,  /**< confidence below min_confidence */
    TIDE_EXPORT_SKIP_TYPE,        /**< kind not in the types filter */
    TIDE_EXPORT_SKIP_TLP,         /**< TLP above tlp_max */
    TIDE_EXPORT_SKIP_RELATED,     /**< not related to the asked campaign / malware / actor */
    TIDE_EXPORT_SKIP_WARNINGLIST, /**< on a warninglist (detail: the list) */
    TIDE_EXPORT_SKIP_BOGON,       /**< private / loopback / reserved / bogon space */
    TIDE_EXPORT_SKIP_UNSUPPORTED, /**< the format cannot express this kind or value */
    TIDE_EXPORT_SKIP_DUPLICATE,   /**< same value already exported (from another indicator) */
    TIDE_EXPORT_SKIP_COVERED,     /**< inside a broader CIDR / parent domain of the export */
    TIDE_EXPORT_SKIP__COUNT
} tide_export_skip;

/** @brief Short fixed name of a reason ("revoked", "expired", "decayed", "warninglisted",
 *  "private/bogon", ...). */
TIDE_EXTERN(const char *) tide_export_skip_name(int reason);

typedef struct {
    int format;             /**< tide_export_format */
    double min_score;       /**< current (decayed) score must be >= this; default 1 */
    int min_confidence;     /**< 0 = any */
    const char *types;      /**< comma-separated kind names or groups (ip, cidr, domain, url,
                                 hash, email ...); NULL = all */
    const char *tlp_max;    /**< "clear", "green", "amber", "amber+strict", "red"; NULL = any;
                                 unmarked intel counts as amber (tide/tlp.h) */
    const char *source;     /**< only this feed; NULL = any */
    const char *related;    /**< only indicators related to a campaign / malware / actor of
                                 this name (case-insensitive); NULL = any */
    int64_t since;          /**< only indicators added / changed at or after (ms); 0 = any */
    const char *output;     /**< file (or directory for squid / suricata); NULL or "-" = the
                                 FILE* given to tide_export_run (single-file formats only) */
    bool incremental;       /**< write what changed since the last export to output */
    const char *action;     /**< RPZ: nxdomain (default), nodata, drop, passthru,
                                 local-data=TARGET (an IPv4, IPv6 or host name) */
    const char *zone;       /**< RPZ origin used in SOA/NS; default "rpz.tide" */
    const char *policy;     /**< nft / ipset: an asset policy rule (see docs/exports.md),
                                 e.g. "software java < 1.7 -> deny-egress" */
    const char *categories; /**< squid: domain category list file */
    const char *allow;      /**< squid: comma-separated categories to allow (NULL = all) */
    const tide_decay_config *decay; /**< NULL = tide_decay_defaults */
    int64_t now_ms;                 /**< "now"; 0 = the clock */
    /** Non-zero: when the fingerprint of the set selected equals this (the set the output
     *  holds, from a previous summary), nothing is written (summary.unchanged). */
    uint64_t unless_fingerprint;
    /** Count the entries added and removed since the last export to output, for every format
     *  (summary.compared; the state is kept in the store as for incremental exports). */
    bool count_changes;
    /** Called with the number of indicators considered so far, every 1024 of them (the
     *  engine's progress, tide_workspace_export); NULL: not called. */
    void (*on_progress)(uint64_t considered, void *payload);
    void *progress_payload;
} tide_export_opts;

/** @brief Defaults: format RPZ, min_score 1, everything else off. */
TIDE_EXTERN(void) tide_export_opts_init(tide_export_opts *opts);

typedef struct {
    long considered; /**< observables read from the store */
    long written;    /**< entries in the artifact */
    long skipped[TIDE_EXPORT_SKIP__COUNT];
    struct {
        char name[96];
        long count;
    } lists[16]; /**< warninglist / bogon hits by list name */
    int nlists;
    long unsupported[TIDE_OBS__COUNT]; /**< left out as unsupported, by kind (e.g. ip-port in
                                            rpz: the format cannot carry a port) */
    bool incremental;                  /**< a diff was written (a previous state existed) */
    long added, removed;               /**< incremental: entries added / removed */
    int64_t serial;                    /**< RPZ: the SOA serial written */
    uint64_t fingerprint; /**< of the set selected (kinds and values); never 0 once selected */
    bool unchanged;       /**< opts.unless_fingerprint matched: nothing was written */
    bool compared;        /**< count_changes and a previous state: added / removed are the
                               changes since the previous export to this output */
    int64_t next_change;  /**< the earliest time (ms) the set selected changes with time alone:
                               a score decays below min_score, a valid_until passes, a
                               valid_from arrives (to the minute); 0: never */
} tide_export_summary;

/** Called for every observable left out: reason, kind, value, detail (warninglist name, the
 *  covering entry ...; may be NULL) and the indicator id. Strings borrowed for the call. */
typedef void (*tide_export_explain_cb)(int reason, tide_obs_kind kind, const char *value,
        const char *detail, const char *indicator_id, void *payload);

/** @brief Run an export. Single-file formats write to opts->output, or to out when output is
 *  NULL or "-" (stdout when out is NULL too); squid / suricata need opts->output as a directory
 *  (created if absent). Files are replaced atomically (a temporary file renamed when complete;
 *  the previous file stays on any failure), a FIFO or a character device is written directly;
 *  a folder (file formats), a symbolic link, a block device or a socket at opts->output is
 *  TIDE_EINVAL. Concurrent runs on one output are serialised (an flock on OUTPUT.lock, or on the
 *  folder). Incremental mode needs opts->output (the export state is keyed by format and output
 *  path) and is supported by rpz, nft, ipset and suricata (TIDE_EUNSUPPORTED otherwise).
 *  @param[out] summary counts (may be NULL). @param explain may be NULL. */
TIDE_EXTERN(int)
tide_export_run(tide_store *store, const tide_export_opts *opts, FILE *out,
        tide_export_summary *summary, tide_export_explain_cb explain, void *payload);

/* ---- asset inventory (SPEC C4 / C5) ---- */

/** @brief Import an asset inventory file into the store: CSV with header
 *  host,ips,hostname,owner,criticality,software (ips separated by ';' or spaces, software as
 *  "name version;name version"), or a JSON array of objects with the same keys (ips an array
 *  or string, software an array of {"name","version"}). Rows with the same host replace the
 *  stored one. Errors name the file, the line (CSV) or index (JSON) and the reason.
 *  @param[out] out_count assets imported (may be NULL). */
TIDE_EXTERN(int) tide_assets_import(tide_store *store, const char *path, long *out_count);

/** @brief Compare two version strings by their numeric components ("1.6.0_45" < "1.7");
 *  non-numeric parts are ignored, missing components count as 0. @return <0, 0, >0. */
TIDE_EXTERN(int) tide_version_compare(const char *a, const char *b);

/** A parsed policy rule "software NAME OP VERSION -> deny-egress". */
typedef struct {
    char name[128]; /**< software name, case-insensitive; '*' and '?' wildcards */
    char op[3];     /**< "<", "<=", "=", ">=", ">" */
    char version[64];
    char action[32]; /**< "deny-egress" */
} tide_policy_rule;

/** @brief Parse a policy rule. @return 0 or TIDE_EPARSE with the position and reason. */
TIDE_EXTERN(int) tide_policy_parse(const char *text, tide_policy_rule *out);

#endif
