/*
 * export_int.h - internals shared by the files of src/export: the selected entries (the output
 * of the common selection step in export.c), output files written atomically, the export
 * state diff of incremental mode, IP range helpers, and one writer per format.
 */
#ifndef TIDE_EXPORT_INT_H
#define TIDE_EXPORT_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tide/export.h"
#include "tide/gate.h"
#include "util/outfile.h"
#include "util/util.h"

/* One selected observable. Strings are offsets into tide__exp.arena. */
typedef struct {
    tide_obs_kind kind;
    int confidence;
    double score;
    size_t value, id, source, tlp, desc, name; /* desc: related names "campaign; malware" */
    int64_t valid_from, valid_until;
    const char *val; /* the value, resolved once selection is over (the arena is final) */
} tide__exp_entry;

typedef struct {
    FILE *f;
    tide__outfile o; /* the file written (util/outfile.h); o.f == NULL when f is the caller's
                        stream */
} tide__exp_file;

typedef struct tide__exp {
    tide_store *store;
    const tide_export_opts *opts;
    tide_export_summary *sum;
    tide_export_explain_cb explain;
    void *payload;
    int64_t now;
    tide_gate *gate; /* --tlp-max: what may leave (tide/gate.h); NULL without a ceiling */
    FILE *out;       /* the caller's stream for single-file formats without output (or "-") */
    bool stream;     /* the output is "-", a FIFO or a device: written directly, nothing beside */
    int dirfd;       /* folder formats: the output folder (O_NOFOLLOW), locked; else -1 */
    int lock_fd;     /* the output's lock (tide__outfile_lock), held for the whole run; -1: none */
    tide_buf arena;
    tide__exp_entry *v;
    size_t n, cap;
    /* incremental / state */
    char *key; /* export state key, NULL when no state is kept */
    bool have_prev;
    int64_t prev_serial;
    char *prev; /* previous entries, newline-separated */
    size_t prev_len;
    tide_buf state; /* this export's entries, newline-separated, sorted */
    int64_t serial; /* serial to record */
} tide__exp;

#define EXP_S(x, off) ((x)->arena.ptr + (off))

/* Report an entry a writer cannot express (counts it and calls explain). */
void tide__exp_skip(tide__exp *x, int reason, const tide__exp_entry *e, const char *detail);

/* Open an output: name == NULL for single-file formats (opts->output, or the caller's
 * stream), else a file name inside the output directory (folder formats) or beside the output
 * (OUTPUT.name). Written through util/outfile.h (a temporary file created exclusively, renamed
 * by a successful close; a FIFO, a device or "-" written directly) under the run's lock. */
int tide__exp_open(tide__exp *x, const char *name, tide__exp_file *out);
/* Close; ok == false (or a write error) removes the temporary file. */
int tide__exp_close(tide__exp_file *f, bool ok);
/* Path of a sibling / inside file: dir formats: OUTPUT/name; file formats: OUTPUT.name. */
char *tide__exp_path(tide__exp *x, const char *name);

/* Add one line to this export's state (format-specific entry text, no newline). */
int tide__exp_state_add(tide__exp *x, const char *line);
/* Sort the state lines and compute the diff against the previous state: cb(added?, line)
 * for every changed line, removed ones first. */
int tide__exp_diff(
        tide__exp *x, int (*cb)(bool added, const char *line, void *payload), void *payload);

/* ---- IP helpers (ipnet.c) ---- */
typedef struct {
    uint64_t hi, lo;
} tide__u128;

/* Parse an IP or CIDR (canonical text) into family (4 or 6) and [first, last]. */
bool tide__ip_range(const char *s, int *family, tide__u128 *first, tide__u128 *last);
/* Name of the built-in private / bogon range that overlaps s (an IP, CIDR, or ip-port), or NULL. */
const char *tide__ip_bogon_overlap(tide_obs_kind kind, const char *value);
/* Split an ip-port value ("1.2.3.4:449", "[2001:db8::1]:443") into its address (canonical
 * text, into ip[cap]), family (4 or 6) and port (1-65535); false when it is not one. */
bool tide__ip_port_split(const char *value, char *ip, size_t cap, int *family, unsigned *port);
/* Drop entries of the given family (IPs / CIDRs) that lie inside another selected entry:
 * marks them in covered[] (indexes into x->v) and reports them as COVERED. */
int tide__exp_prune_covered(tide__exp *x, bool *covered);
/* Mark ip-port entries whose address is inside an address or CIDR of the export that is not
 * covered[] itself (blocking the address blocks every port) and report them as COVERED. */
int tide__exp_prune_ports(tide__exp *x, bool *covered);
/* Drop domains whose parent domain is also selected (marks covered[]). */
int tide__exp_prune_subdomains(tide__exp *x, bool *covered);
/* Base64 (RFC 4648) of s into b. */
int tide__base64(tide_buf *b, const char *s, size_t n);

/* ---- writers, one per format (listed in the format table, formats.c) ---- */
int tide__exp_rpz(tide__exp *x);
int tide__exp_nft(tide__exp *x);
int tide__exp_ipset(tide__exp *x);
int tide__exp_squid(tide__exp *x);
int tide__exp_suricata(tide__exp *x);
int tide__exp_zeek(tide__exp *x);
int tide__exp_yara(tide__exp *x);
int tide__exp_stix(tide__exp *x);
int tide__exp_misp(tide__exp *x);
int tide__exp_csv(tide__exp *x);
int tide__exp_txt(tide__exp *x);
/* Policy exports (policy.c): asset egress-deny set as nft or ipset; Squid category allowlist. */
int tide__exp_policy(tide__exp *x);
int tide__exp_squid_categories(tide__exp *x);

/* ---- the format table (formats.c) ---- */

/* One export format: all that tide_export_run knows of it. */
typedef struct {
    const char *name;           /* --format NAME */
    uint32_t kinds;             /* bit k: the format can express observables of kind k (exact values
                                   are checked by the writer: tide__exp_skip UNSUPPORTED) */
    bool dir;                   /* writes several files into --output DIR */
    bool blocking;              /* a blocking control: a CIDR that merely overlaps private / bogon
                                   space is left out too */
    bool keeps_state;           /* records export state (entries, RPZ serial) per --output, so
                                   --incremental can diff against it */
    int (*write)(tide__exp *x); /* writes the selected entries (x->v) */
    int (*policy)(tide__exp *x);     /* --policy RULE export; NULL: not supported */
    int (*categories)(tide__exp *x); /* --allow-categories export; NULL: not supported */
} tide__exp_format;

/* The table entry of a format; NULL when out of range. */
const tide__exp_format *tide__exp_format_of(int format);
/* The names of the formats pick() selects, as "a, b and c", appended to out (messages). */
int tide__exp_format_list(bool (*pick)(const tide__exp_format *f), tide_buf *out);

#endif
