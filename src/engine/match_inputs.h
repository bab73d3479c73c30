/*
 * match_inputs.h - the inputs of a match run (match_inputs.c): what was asked (files, folders,
 * descriptors, memory buffers, record sources), the readers open on them, and, when
 * following, which names now point at new files (rotation), which files were truncated or
 * removed; and the registry of read positions (what the history and the store already hold of
 * each input, by the fingerprint of its first bytes), so that reading an input again records
 * nothing twice. match_run.c drives them; nothing else uses this header.
 */
#ifndef TIDE_ENGINE_MATCH_INPUTS_H
#define TIDE_ENGINE_MATCH_INPUTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "engine/engine_int.h"
#include "tide/history.h"
#include "tide/sightings.h"

/* One input of the registry: a file named by the fingerprint of its first bytes
 * ("f<LEN>-<XXH3>"; a byte-for-byte copy is the same input), a record source by its name
 * ("s-<NAME>"); hist / store: the events below these positions are recorded in the history /
 * their sightings stored (committed, or handed to the history or the sighting batch by this
 * run). */
typedef struct {
    char key[64];
    uint64_t hist, store;
    uint64_t store_put; /* store as last written to the store */
} tide__reg;

#define TIDE__FP_MAX 1024 /* bytes of a file's fingerprint */

typedef struct {
    char *path; /* the name sightings show */
    bool is_fd, is_buffer, is_source;
    bool followable;  /* a named regular file: read on as it grows */
    bool compressed;  /* ... gzip / zstd: read to its end, not followed */
    int fd;           /* is_fd */
    const void *data; /* is_buffer */
    size_t len;
    tide_match_source src;   /* is_source */
    tide_tel_parser *parser; /* is_source, while open */
    void (*on_bad)(const char *file, uint64_t line, const char *reason, void *payload);
    void *bad_payload;
    bool source_ended, have_pos;
    uint64_t last_pos, records;
    tide_tel_reader *r; /* open reader (paths, descriptors, buffers) */
    bool opened;        /* open now (reader, or a source started) */
    dev_t dev;
    ino_t ino;
    bool finished;       /* read to the end (not following), rotated away, or failed */
    bool failed;         /* ... because of an error: not opened again */
    bool rotated;        /* its name now points at another file: drain it, then retire it */
    uint64_t bytes, bad; /* of readers closed so far */
    int own_fd;          /* named files: the descriptor the reader reads, kept after a rename */
    long reg;            /* its registry entry, or -1 (not known yet: an empty file) */
    uint64_t kept_hist;  /* the entry's hist at the last keep (a discard goes back to it) */
    uint64_t raw_from;   /* bytes recorded before: not counted into history's raw bytes */
    uint64_t skipped_hist, skipped_store, skipped_all; /* events already recorded */
    uint64_t resume_at;                                /* following: first position matched */
    /* following: what tells a rewrite in place from growth */
    uint32_t fp_len;
    uint64_t fp_hash, tail_hash, tail_pos, seen_size;
    int64_t seen_mtime_ns;
    double last_growth; /* rotated: when it last gave data */
} tide__input;

typedef struct {
    tide__input *v;
    size_t n, cap;
    char **files, **dirs; /* named roots, scanned again when following */
    size_t nfiles, ndirs;
    tide__reg *reg; /* the registry: loaded from the history and the store at the first open */
    size_t nreg, capreg;
    bool reg_loaded;
} tide__inputs;

/* Adding: a path ("-" is stdin; a folder adds its files, by name, recursively). */
int tide__inputs_add_path(tide__inputs *in, const char *path);
int tide__inputs_add_fd(tide__inputs *in, int fd, const char *name);
int tide__inputs_add_buffer(tide__inputs *in, const void *data, size_t len, const char *name);
int tide__inputs_add_source(tide__inputs *in, const tide_match_source *src);
/* Following: look at the named files and the folders again; new files become inputs, a name
 * that points at a new file marks the old input rotated (read on while it grows: lines written
 * to it after the rename are read), a finished file that grew is read again from where it
 * was recorded. */
void tide__inputs_rescan(tide__inputs *in);
/* Whether anything could still give data when following (named files or folders). */
bool tide__inputs_may_grow(const tide__inputs *in);
/* Tell every record source that all it gave is durably processed. */
void tide__inputs_committed(tide__inputs *in);
/* Bytes read and bad records skipped by every input so far. */
void tide__inputs_totals(const tide__inputs *in, uint64_t *bytes, uint64_t *bad);
void tide__inputs_free(tide__inputs *in);

/* Load the registry (the history's and the store's positions; either may be NULL). */
int tide__inputs_reg_load(tide__inputs *in, tide_history *hist, tide_store *store);
/* The registry entry of an input (NULL when it has none yet); after an open or progress, names
 * a file that had no data when it was opened. */
tide__reg *tide__input_reg(tide__inputs *in, tide__input *p);
/* Entries whose store position moved since the last call, into v (the keys borrowed). */
size_t tide__inputs_store_moves(tide__inputs *in, tide_read_position *v, size_t cap);
void tide__inputs_store_moved(tide__inputs *in);

int tide__input_open(tide__input *in, const tide_tel_opts *opts);
/* Following: whether the file was rewritten in place since it was last read (truncated and
 * written again, whatever its size now): its head or the bytes before the read position
 * changed. */
bool tide__input_rewritten(tide__input *in);
/* After progress: remember the bytes before the read position (rewrite detection). */
void tide__input_mark(tide__input *in);
/* Read what the input has now, handing events to consume in batches of up to max. 0 at the
 * end of the data (for now), < 0 on an input error, consume's non-zero value as it is. */
int tide__input_read(tide__input *in, size_t max,
        int (*consume)(void *payload, const char *name, const tide_event *ev, size_t n),
        void *payload);
/* Bytes (readers) or records (sources) consumed: changes when there was progress. */
uint64_t tide__input_position(const tide__input *in);
/* Close the reader (adding its bytes to history's raw count when hist is given); idempotent. */
void tide__input_close(tide__input *in, tide_history *hist);

enum {
    TIDE__FOLLOW_GROWING,
    TIDE__FOLLOW_ROTATED,
    TIDE__FOLLOW_TRUNCATED,
    TIDE__FOLLOW_REMOVED
};
int tide__input_follow_state(const tide__input *in);

#endif
