/*
 * fuzz_serve.c - fuzz what `tide serve` parses from a request (server/params.c, and the value
 * of a lookup): the Authorization header, count and time query parameters, the JSON bodies of
 * the case and hunt routes, a value as a user writes it, and the web UI's session cookie in a
 * Cookie header (selector 8), the body of POST /api/v1/feeds (9) and a feed's interval (10). The
 * first byte picks the parser; the rest is the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"
#include "tide/reads.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    char *s = malloc(len + 1); /* the string parsers get what MHD gives: NUL-terminated text */
    if (s == NULL)
        return 0;
    memcpy(s, body, len);
    s[len] = '\0';
    char err[256], name[128], key[256];
    switch (data[0] % 11) {
        case 0: tide__parse_auth(s, name, sizeof name, key, sizeof key); break;
        case 1: {
            long n;
            tide__parse_count(s, 7, 1, 100000, &n, err, sizeof err);
            break;
        }
        case 2: {
            int64_t t;
            tide__parse_time(s, &t, err, sizeof err);
            break;
        }
        case 3: {
            tide_case_open_req q;
            if (tide__parse_case_open(body, len, &q, err, sizeof err) == 0)
                tide__case_open_req_free(&q);
            break;
        }
        case 4: {
            char *st = NULL, *note = NULL;
            if (tide__parse_host_state(body, len, &st, &note, err, sizeof err) == 0) {
                free(st);
                free(note);
            }
            break;
        }
        case 5: {
            char *tlp = NULL;
            if (tide__parse_close(body, len, &tlp, err, sizeof err) == 0)
                free(tlp);
            break;
        }
        case 6: {
            tide_hunt_req q;
            if (tide__parse_hunt(body, len, &q, err, sizeof err) == 0)
                tide__hunt_req_free(&q);
            break;
        }
        case 8: {
            char v[64];
            tide__parse_cookie(s, "tide_session", v, sizeof v);
            break;
        }
        case 9: {
            tide_feed_req q;
            if (tide__parse_feed_add(body, len, &q, err, sizeof err) == 0)
                tide__feed_req_free(&q);
            break;
        }
        case 10: {
            int64_t ms;
            tide__parse_interval(s, &ms, err, sizeof err);
            break;
        }
        case 7: {
            tide_obs_kind kind;
            char *v = NULL;
            if (tide_read_value(s, &kind, &v) == 0)
                free(v);
            tide_error_clear();
            break;
        }
        default: break;
    }
    free(s);
    return 0;
}
