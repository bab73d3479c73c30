/*
 * ingest.h - loading intel into the store: STIX 2.1 bundles (streamed), MISP events and feeds,
 * CSV with a column mapping, plain lists (maltrail, ipsum, FireHOL, ThreatFox ...).
 *
 * Every format is turned into STIX 2.1 objects before it reaches the store, so the store holds
 * one data model. Bad records are reported through the error callback (file, line or byte
 * offset, reason) and skipped; the good records of the same file are stored. Each file is
 * stored in transactions, so a crash leaves the store as it was after the last commit.
 */
#ifndef TIDE_INGEST_H
#define TIDE_INGEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common.h"
#include "store.h"

typedef enum {
    TIDE_FMT_AUTO = 0,
    TIDE_FMT_STIX,
    TIDE_FMT_MISP,
    TIDE_FMT_MISP_FEED,
    TIDE_FMT_CSV,
    TIDE_FMT_LIST,
} tide_feed_format;

/** @brief Format from its CLI name ("auto", "stix", "misp", "misp-feed", "csv", "list"); -1 if
 * unknown. */
TIDE_EXTERN(int) tide_feed_format_from_name(const char *name);

typedef struct {
    const char *source; /**< feed name; NULL: derived from the file name */
    const char *tlp;    /**< TLP given to objects that carry none ("clear", "green", "amber",
                             "amber+strict", "red", TLP 1.0 "white" too); NULL: none */
    int confidence;     /**< 0-100 for objects that carry none; -1: format default */
    char reliability;   /**< Admiralty source reliability 'A'-'F'; 0: 'C' unless the feed says */
    const char *csv_columns; /**< CSV mapping "value=2,type=1,campaign=3,confidence=4" (1-based)
                                  or by header name "value=ioc,type=ioc_type"; NULL: from header */
    const char *family;      /**< list family / campaign name; NULL: from the file name */
    int64_t now_ms;          /**< "now" for timestamps of derived objects; 0: the clock */
    long batch;              /**< objects per transaction; 0: the default (250 000) */
    /** Told every 256 objects how far the reading is (may be NULL): the file being read, the
     *  bytes read of this call's inputs so far (the files read before whole, then the position
     *  in this one) and the objects handed to the store so far (as stats->records). */
    void (*on_progress)(const char *file, uint64_t bytes, long records, void *payload);
    void *progress_payload;
} tide_ingest_opts;

/** @brief Check the options a caller gives before any input is read: source and family are
 *  names that go into the stored JSON, so they must be valid UTF-8 (a file name, which only
 *  labels, is repaired instead). Every ingest call makes this check too.
 *  @return 0, or TIDE_EINVAL with the option and the offending byte in tide_error_last(). */
TIDE_EXTERN(int) tide_ingest_opts_check(const tide_ingest_opts *opts);

typedef struct {
    long files;      /**< files read */
    long records;    /**< objects handed to the store */
    long stored;     /**< new objects or new versions stored */
    long unchanged;  /**< already in the store */
    long rejected;   /**< bad records skipped (each reported) */
    long indicators; /**< indicators among the stored */
} tide_ingest_stats;

/** Called for every bad record: file, 1-based line (0 if unknown), byte offset (-1 if unknown). */
typedef void (*tide_ingest_error_cb)(
        const char *file, long line, long long offset, const char *reason, void *payload);

/** @brief Ingest a file, a directory (recursively; a MISP feed directory when it holds a
 *  manifest.json) or "-" for stdin.
 *  @return 0 when the input was read (even with rejected records), <0 when it could not be
 *  read at all or the store failed. */
TIDE_EXTERN(int)
tide_ingest_path(tide_store *store, const char *path, tide_feed_format fmt,
        const tide_ingest_opts *opts, tide_ingest_stats *stats, tide_ingest_error_cb on_error,
        void *payload);

/** @brief Ingest from an open stream (not closed). A stream that cannot seek (a pipe) is
 *  first copied to a temporary file. name stands for a file name in messages and, for lists
 *  and CSV, to derive the source and family (NULL: "-"). A MISP feed (a folder) cannot come
 *  from a stream. Returns as tide_ingest_path. */
TIDE_EXTERN(int)
tide_ingest_file(tide_store *store, FILE *fp, const char *name, tide_feed_format fmt,
        const tide_ingest_opts *opts, tide_ingest_stats *stats, tide_ingest_error_cb on_error,
        void *payload);

/** @brief Ingest len bytes from memory (an API request body, a TAXII envelope), as
 *  tide_ingest_file. name may be NULL ("buffer"). */
TIDE_EXTERN(int)
tide_ingest_buffer(tide_store *store, const void *data, size_t len, const char *name,
        tide_feed_format fmt, const tide_ingest_opts *opts, tide_ingest_stats *stats,
        tide_ingest_error_cb on_error, void *payload);

#endif
