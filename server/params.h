/*
 * params.h - the parsers of what `tide serve` reads from a request (params.c): pure functions
 * on strings, fuzzed by fuzz/fuzz_serve.c. Each returns 0 (or a positive kind) on success and
 * -1 with the reason in err (cap bytes) on bad input.
 */
#ifndef TIDE_SERVER_PARAMS_H
#define TIDE_SERVER_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "tide.h"

/* An Authorization header: 1 "Bearer KEY" (key set), 2 "Basic base64(NAME:KEY)" (name and key
 * set), -1 anything else (no detail: the answer is a bare 401). */
int tide__parse_auth(const char *header, char *name, size_t name_cap, char *key, size_t key_cap);
/* The value of cookie name in a Cookie header ("a=1; name=v"), copied into out: out, or NULL
 * when absent or when it does not fit in cap bytes (with its NUL). */
const char *tide__parse_cookie(const char *header, const char *name, char *out, size_t cap);
/* A count parameter min..max (def when v is NULL or ""). */
int tide__parse_count(
        const char *v, long def, long min, long max, long *out, char *err, size_t cap);
/* A time parameter (tide_time_parse: RFC 3339, a date, an age such as 7d); 0 when absent. */
int tide__parse_time(const char *v, int64_t *out, char *err, size_t cap);
/* A JSON object body (NULL and err when it is not one). */
json_t *tide__parse_body(const char *body, size_t len, char *err, size_t cap);

/* POST /api/v1/cases: {"sighting": N} or {"host": H, "indicator": V|ID} */
typedef struct {
    int64_t sighting;
    char *host, *indicator;
} tide_case_open_req;
int tide__parse_case_open(
        const char *body, size_t len, tide_case_open_req *out, char *err, size_t cap);
void tide__case_open_req_free(tide_case_open_req *r);
/* POST /api/v1/cases/{id}/hosts/{host}: {"state": S, "note": N?} (*state, *note malloc'd) */
int tide__parse_host_state(
        const char *body, size_t len, char **state, char **note, char *err, size_t cap);
/* POST /api/v1/cases/{id}/close: {} or {"tlp": T} or no body (*tlp malloc'd or NULL) */
int tide__parse_close(const char *body, size_t len, char **tlp, char *err, size_t cap);
/* POST /api/v1/hunts: one of {"indicator": V|ID}, {"related": NAME}, {"added_since": T}, and
 * "since", "until" (T), "store" (bool, default true) */
typedef struct {
    char *indicator, *related;
    int64_t added_since, since, until;
    bool store;
} tide_hunt_req;
int tide__parse_hunt(const char *body, size_t len, tide_hunt_req *out, char *err, size_t cap);
void tide__hunt_req_free(tide_hunt_req *r);
/* POST /api/v1/feeds: {"name", "url", and optionally "kind", "collection", "user", "password",
 * "api_key", "source", "tlp", "family", "columns" (strings), "interval" (seconds, or a duration
 * "30m", "1h", "2d"; 0: on demand), "limit" (TAXII objects per page)}. The strings, in that
 * order, in s[] (malloc'd or NULL); interval_ms -1 when not given. */
#define TIDE_FEED_REQ_STRINGS 11
typedef struct {
    char *s[TIDE_FEED_REQ_STRINGS];
    int64_t interval_ms;
    long limit;
} tide_feed_req;
int tide__parse_feed_add(const char *body, size_t len, tide_feed_req *out, char *err, size_t cap);
void tide__feed_req_free(tide_feed_req *r);
/* A feed's interval: "90", "90s", "30m", "1h", "2d", "0", "manual" -> ms (up to 366 days). */
int tide__parse_interval(const char *v, int64_t *out, char *err, size_t cap);

#endif
