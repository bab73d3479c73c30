/*
 * json_split.h - streaming splitter that cuts the elements of one top-level JSON array (a STIX
 * bundle's "objects", a MISP response's "response", or a bare top-level array) out of a FILE
 * as exact byte ranges, so each element can be parsed alone and memory stays bounded by the
 * largest element rather than the whole file. See json_split.c for why this is hand-written.
 */
#ifndef TIDE_INGEST_JSON_SPLIT_H
#define TIDE_INGEST_JSON_SPLIT_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

typedef enum {
    TIDE__JS_ELEMENT = 1, /* one element of the streamed array: ptr/len = its exact bytes */
    TIDE__JS_WHOLE,       /* the top-level value is not a container: ptr/len = all of it */
    TIDE__JS_TOOBIG,      /* an element larger than the cap was skipped (no bytes) */
    TIDE__JS_TRUNCATED,   /* end of input inside the array / object (no bytes); last item */
    TIDE__JS_SYNTAX,      /* structural error between elements (no bytes); last item */
    TIDE__JS_SKIPPED,     /* control bytes outside any value were skipped (no bytes); the
                             input is read on, as if they were blanks */
} tide__js_kind;

typedef struct {
    tide__js_kind kind;
    const char *ptr; /* borrowed for the duration of the callback */
    size_t len;
    long line;        /* 1-based line where the item starts */
    long long offset; /* byte offset where the item starts */
    long index;       /* 0-based element index in the array (-1 for WHOLE) */
    const char *msg;  /* reason for TOOBIG / TRUNCATED / SYNTAX */
    int parsed;       /* ELEMENT: parse_element accepted these bytes just before */
} tide__js_item;

typedef struct {
    /* Key of a top-level object whose array value is streamed ("objects", "response"). */
    const char *array_key;
    /* If set, a top-level "type" string seen before array_key that differs from this makes the
     * object a WHOLE item instead (e.g. a single STIX object that happens to have "objects"). */
    const char *container_type;
    size_t max_item; /* cap on one item's bytes */
    size_t chunk;    /* read size; 0 = 1 MiB */
    /* Optional: try to parse the streamed array's element that starts with '{' at ptr, with
     * avail bytes in the buffer (the element may end before or after them). Return 1 with *len
     * when ptr[0..*len) is a complete valid element: it is the element (the bytes the scan
     * would cut), handed out with parsed = 1 and not scanned again; 0 to let the splitter
     * scan and cut it as usual. Saves the second pass over every valid element. */
    int (*parse_element)(void *payload, const char *ptr, size_t avail, size_t *len);
    /* Called for every item; a negative return stops the run and is returned. */
    int (*on_item)(void *payload, const tide__js_item *item);
    void *payload;
    /* Out: the top-level container's "type" string if seen (bundle check), else "". */
    char container_type_seen[64];
    int streamed; /* out: 1 if array_key's array (or a top-level array) was streamed */
} tide__js_opts;

/* Run the splitter over fp. Returns 0 when the input was read (items may include TOOBIG /
 * TRUNCATED / SYNTAX), TIDE_EFORMAT (with tide_error_set) when the input does not start like
 * JSON (first non-blank byte not '{' or '['), TIDE_EIO on read errors, TIDE_ENOMEM, or the
 * negative value an on_item call returned. `name` is used in error messages. */
int tide__json_split(FILE *fp, const char *name, tide__js_opts *opts);

/* Parse one cut element with jansson (objects/arrays only; numbers too large for json_int_t
 * are retried as reals). Returns NULL and fills err on failure. */
json_t *tide__json_parse_item(const char *ptr, size_t len, json_error_t *err);

/* Test hook: cap on one STIX object / MISP event (0 restores TIDE_MAX_OBJECT_BYTES). */
void tide__ingest_set_max_object(size_t max);
size_t tide__ingest_max_object(void);
/* Test hook: read size of the splitter (0 restores 1 MiB), to exercise chunk boundaries. */
void tide__ingest_set_read_chunk(size_t chunk);

#endif
