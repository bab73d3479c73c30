/*
 * feeds_int.h - what the files of src/feeds share: the HTTP client on libcurl (http.c), the
 * parsers of TAXII 2.1 resources (taxii_parse.c, fuzzed by fuzz/fuzz_taxii.c), the TAXII pull
 * (taxii.c), the plain HTTP(S) and MISP feed pulls (plain.c), and the pull in progress they
 * all fill (feeds.c drives it).
 */
#ifndef TIDE_FEEDS_INT_H
#define TIDE_FEEDS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tide/engine.h"
#include "tide/feeds.h"
#include "tide/sys/store_backend.h"
#include "util/util.h"

/* ---------------------------------------------------------------- HTTP (http.c) */

/* The media type every TAXII 2.1 request accepts and every response must carry. */
#define TIDE__TAXII_MEDIA "application/taxii+json;version=2.1"

typedef struct tide__http tide__http;

/* A client for the requests of one pull (one connection cache), with the pull's options
 * (timeouts, retries, caps, notices) and the feed's credentials and CA bundle. */
int tide__http_new(tide__http **out, const tide_feed_pull_opts *o, const tide_store_feed *feed);
void tide__http_free(tide__http *h);

typedef struct {
    const char *url;
    const char *accept;            /* NULL: any */
    const char *if_none_match;     /* conditional GET (NULL: none) */
    const char *if_modified_since; /* conditional GET (NULL: none) */
    FILE *to_file;                 /* the body goes there (truncated on a retry), else memory */
} tide__http_req;

typedef struct {
    long status;   /* HTTP status of the last response */
    tide_buf body; /* the body when not to a file (NUL-terminated) */
    uint64_t bytes;
    char *content_type, *etag, *last_modified;
    char *date_added_first, *date_added_last; /* X-TAXII-Date-Added-First / -Last */
} tide__http_resp;

/* GET rq->url: retried after 429, 5xx and connection failures (up to the options' retries,
 * with back-off: Retry-After when the peer says, bounded by max_wait). 0 when a response came
 * (whatever its status: out->status), < 0 with "URL: reason" when none did (unreachable,
 * timeout, TLS, body over the cap). out is reset first; free it with tide__http_resp_free. */
int tide__http_get(tide__http *h, const tide__http_req *rq, tide__http_resp *out);
void tide__http_resp_free(tide__http_resp *r);
/* Requests, retries and body bytes so far. */
void tide__http_counts(const tide__http *h, long *requests, long *retries, uint64_t *bytes);

/* The error of a response that is not 200: "URL: HTTP 401 Unauthorized: <what the body says,
 * a TAXII error's title / description or the first words of its text>" with a hint for 401,
 * 403, 404, 406. Returns code. */
int tide__http_status_error(int code, const char *url, const tide__http_resp *r);

/* url + rel resolved (RFC 3986), newly allocated; NULL with the error set. */
char *tide__url_resolve(const char *base, const char *rel);
/* url with "/" appended unless it ends in one (newly allocated). */
char *tide__url_dir(const char *url);
/* Checks a feed URL: http:// or https://, a host, no credentials in it. TIDE_EINVAL. */
int tide__url_check(const char *url);
/* key=value appended to url's query, value percent-encoded (into b). */
int tide__url_add_query(tide_buf *b, const char *key, const char *value);

/* ---------------------------------------------------------------- TAXII (taxii_parse.c) */

/* 1 when a Content-Type header says application/taxii+json with version=2.1 (media type and
 * parameter case-insensitive, blanks and other parameters allowed), else 0. */
int tide__taxii_media_ok(const char *content_type);

/* A discovery resource or an API root (whichever the body is): the API root to use, resolved
 * against url: the discovery's default (else its only API root), or url itself for an API
 * root. *out_root newly allocated. An API root must list TIDE__TAXII_MEDIA among its versions
 * (when it lists any). Errors name url, the place and the reason. */
int tide__taxii_parse_root(const char *url, const char *body, size_t len, char **out_root);

/* A collection resource: its id, can_read. */
typedef struct {
    char id[128];
    char title[256];
    bool can_read, can_write;
} tide__taxii_collection;

/* A collections resource: the collection whose id is want (want NULL: the only one with
 * can_read), or TIDE_ENOTFOUND / TIDE_EINVAL naming the ids there are. */
int tide__taxii_parse_collections(const char *url, const char *body, size_t len, const char *want,
        tide__taxii_collection *out);
/* A single collection resource. */
int tide__taxii_parse_collection(
        const char *url, const char *body, size_t len, tide__taxii_collection *out);

/* An envelope: more, next (newly allocated or NULL), the number of objects. */
typedef struct {
    bool more;
    char *next;
    size_t objects;
} tide__taxii_envelope;
int tide__taxii_parse_envelope(
        const char *url, const char *body, size_t len, tide__taxii_envelope *out);
void tide__taxii_envelope_free(tide__taxii_envelope *e);

/* A MISP feed manifest.json: each event uuid with its timestamp (seconds; 0 when absent), in
 * ascending timestamp order. */
typedef struct {
    char uuid[37];
    int64_t timestamp;
} tide__misp_manifest_event;
int tide__misp_parse_manifest(const char *url, const char *body, size_t len,
        tide__misp_manifest_event **out, size_t *out_n);

/* ---------------------------------------------------------------- a pull (feeds.c) */

typedef struct {
    tide_workspace *ws;
    const tide_store_feed *feed; /* the feed as stored */
    const tide_feed_pull_opts *o;
    tide__http *http;
    tide_ingest_run *run;
    /* what the pull found out, stored by feeds.c when it ends */
    char *cursor;               /* the resume point to store (NULL: keep the stored one) */
    char *etag, *last_modified; /* validators to store (when set_validators) */
    bool set_validators;
    bool not_modified;
    long pages;
    void *options; /* json_t * of feed->options (NULL: none) */
} tide__pull;

/* The pull of each kind: 0, or < 0 with the error set ("URL: reason"). Objects go to
 * p->run; what the next pull resumes from goes to p->cursor / etag / last_modified. */
int tide__taxii_pull(tide__pull *p);
int tide__plain_pull(tide__pull *p);
int tide__misp_feed_pull(tide__pull *p);

/* The feed's setting `key` from its options JSON (borrowed from a cache in p; NULL when
 * unset), and a number one. */
const char *tide__pull_option(tide__pull *p, const char *key);
long tide__pull_option_long(tide__pull *p, const char *key);

/* The notice callback of the pull's options, printf-style. */
void tide__pull_notice(const tide_feed_pull_opts *o, tide_notice_level level, const char *fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 3, 4)))
#endif
        ;

#endif
