/*
 * sink.h - the contract between format readers and the ingest core.
 *
 * A reader (read_stix.c, read_misp.c, read_csv.c, read_list.c) parses one input and hands every
 * STIX 2.1 object it produces to sink->emit, and every bad record to tide__sink_reject. Readers
 * know nothing of the store: unit tests and fuzz targets give them a sink that just collects.
 *
 * Rules for readers:
 *   - a bad record is reported (line and/or byte offset, reason) and skipped; reading goes on;
 *   - emit() returning < 0 is fatal (store failure, out of memory): stop and return it;
 *   - return 0 when the input was read (even with rejects); < 0 (with tide_error_set) when it
 *     could not be read at all (e.g. not this format, I/O error);
 *   - no reader keeps more than one record (one STIX object, one MISP event, one line) in
 *     memory at a time, except MISP events, which are bounded by TIDE_MAX_OBJECT_BYTES.
 */
#ifndef TIDE_INGEST_SINK_H
#define TIDE_INGEST_SINK_H

#include <stdio.h>

#include <jansson.h>

#include "ingest/stix_members.h"
#include "tide/ingest.h"

/* Size caps for untrusted input. */
#define TIDE_MAX_OBJECT_BYTES (64u * 1024 * 1024) /* one JSON object / MISP event */
#define TIDE_MAX_LINE_BYTES   (1u * 1024 * 1024)  /* one line of a list or CSV */

/* emit() flags */
#define TIDE_EMIT_DERIVED                                                                          \
    0x1 /* tide made this object from a non-STIX record: its created /                             \
           modified are "now", so the store compares content, not                                  \
           modified, to decide whether it is a new version */

typedef struct tide_sink tide_sink;
struct tide_sink {
    /* Store one STIX object. obj is borrowed. raw/rawlen: the object's original JSON text if
     * the reader has it (STIX files), so it is kept byte for byte; NULL otherwise. */
    int (*emit)(tide_sink *sink, json_t *obj, const char *raw, size_t rawlen, unsigned flags);
    /* Report a bad record. line 1-based or 0; offset in bytes or -1. */
    void (*reject)(tide_sink *sink, long line, long long offset, const char *reason);
    const char *file;             /* input name for messages ("-" for stdin) */
    long line;                    /* readers set these before each emit(): 1-based line and */
    long long offset;             /* byte offset where the record starts (0 / -1: unknown), */
                                  /* so the core can name the place of records it rejects */
    const tide_ingest_opts *opts; /* never NULL */
    void *payload;                /* the sink owner's state */
    /* Optional: store one STIX object read from a file, given as its decoded members (no
     * jansson DOM) and its exact bytes raw/rawlen (never NULL). The STIX reader calls this
     * instead of emit() when it is set; m and its strings are borrowed for the call. */
    int (*emit_members)(tide_sink *sink, const tide__members *m, const char *raw, size_t rawlen);
};

/* printf-style helper around sink->reject. */
void tide__sink_rejectf(tide_sink *sink, long line, long long offset, const char *fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 4, 5)))
#endif
        ;

/* ---- the readers ---- */
/* STIX 2.1: a bundle (streamed: objects are cut from the byte stream one at a time and parsed
 * alone), a single object, or a JSON array of objects. */
int tide__read_stix(tide_sink *sink, FILE *fp);
/* MISP: a file holding {"Event": {...}}, {"response": [{"Event": ...}, ...]} or a bare event. */
int tide__read_misp(tide_sink *sink, FILE *fp);
/* MISP feed directory: manifest.json + <uuid>.json event files. */
int tide__read_misp_feed(tide_sink *sink, const char *dir);
/* CSV with a header and a column mapping (opts->csv_columns). */
int tide__read_csv(tide_sink *sink, FILE *fp);
/* Plain lists: one value per line, '#' comments, maltrail trails, ipsum, FireHOL sets. */
int tide__read_list(tide_sink *sink, FILE *fp);

/* Guess the format from the first bytes of a file and its name. */
tide_feed_format tide__detect_format(const char *head, size_t n, const char *path);

#endif
