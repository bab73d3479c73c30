/*
 * params.c - everything `tide serve` parses from a request, as pure functions (no connection,
 * no store), so that fuzz/fuzz_serve.c can feed them anything: the Authorization header
 * (Bearer, or Basic with a name and a key), counts and times of query parameters, and the JSON
 * bodies of the case and hunt routes (jansson, the validating parser ingest uses, on a body
 * the server has already capped; errors name the line, column and reason).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "params.h"

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

int tide__parse_auth(const char *h, char *name, size_t name_cap, char *key, size_t key_cap)
{
    if (h == NULL || name_cap == 0 || key_cap == 0)
        return -1;
    name[0] = key[0] = '\0';
    while (*h == ' ')
        h++;
    if (strncasecmp(h, "Bearer ", 7) == 0) {
        const char *k = h + 7;
        while (*k == ' ')
            k++;
        size_t n = strlen(k);
        while (n && k[n - 1] == ' ')
            n--;
        if (n == 0 || n >= key_cap)
            return -1;
        memcpy(key, k, n);
        key[n] = '\0';
        return 1;
    }
    if (strncasecmp(h, "Basic ", 6) != 0)
        return -1;
    const char *b = h + 6;
    while (*b == ' ')
        b++;
    char dec[512];
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (; *b && *b != '=' && *b != ' '; b++) {
        int v = b64val((unsigned char)*b);
        if (v < 0 || o + 1 >= sizeof dec)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            dec[o++] = (char)((acc >> (bits - 8)) & 0xff);
            bits -= 8;
        }
    }
    char *colon = memchr(dec, ':', o);
    if (colon == NULL)
        return -1;
    size_t nl = (size_t)(colon - dec), kl = o - nl - 1;
    if (nl == 0 || nl >= name_cap || kl == 0 || kl >= key_cap || memchr(dec, '\0', o))
        return -1;
    memcpy(name, dec, nl);
    name[nl] = '\0';
    memcpy(key, colon + 1, kl);
    key[kl] = '\0';
    return 2;
}

int tide__parse_count(const char *v, long def, long min, long max, long *out, char *err, size_t cap)
{
    if (v == NULL || *v == '\0') {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end != '\0' || n < min || n > max) {
        snprintf(err, cap, "'%.40s' is not a number from %ld to %ld", v, min, max);
        return -1;
    }
    *out = n;
    return 0;
}

int tide__parse_time(const char *v, int64_t *out, char *err, size_t cap)
{
    *out = 0;
    if (v == NULL || *v == '\0')
        return 0;
    if (tide_time_parse(v, out) < 0) {
        snprintf(err, cap, "%s", tide_error_last());
        tide_error_clear();
        return -1;
    }
    return 0;
}

json_t *tide__parse_body(const char *body, size_t len, char *err, size_t cap)
{
    if (body == NULL || len == 0) {
        snprintf(err, cap, "no body: a JSON object is expected");
        return NULL;
    }
    json_error_t je;
    json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (o == NULL) {
        snprintf(err, cap, "body: line %d, column %d: %s", je.line, je.column, je.text);
        return NULL;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        snprintf(err, cap, "body: a JSON object is expected");
        return NULL;
    }
    return o;
}

/* A string member of at most max bytes without NUL: 1 and *out, 0 when absent, -1 (err) when
 * of another type or too long. */
static int str_member(
        json_t *o, const char *name, size_t max, const char **out, char *err, size_t cap)
{
    json_t *v = json_object_get(o, name);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max ||
            strlen(json_string_value(v)) != json_string_length(v)) {
        snprintf(err, cap, "body: \"%s\" must be a string of 1 to %zu bytes", name, max);
        return -1;
    }
    *out = json_string_value(v);
    return 1;
}

static int unknown_members(json_t *o, const char *const *known, char *err, size_t cap)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        bool ok = false;
        for (const char *const *p = known; *p && !ok; p++)
            ok = strcmp(*p, k) == 0;
        if (!ok) {
            snprintf(err, cap, "body: unknown member \"%.40s\"", k);
            return -1;
        }
    }
    return 0;
}

int tide__parse_case_open(
        const char *body, size_t len, tide_case_open_req *out, char *err, size_t cap)
{
    memset(out, 0, sizeof *out);
    json_t *o = tide__parse_body(body, len, err, cap);
    if (o == NULL)
        return -1;
    static const char *const known[] = { "sighting", "host", "indicator", NULL };
    int rc = unknown_members(o, known, err, cap);
    json_t *sv = json_object_get(o, "sighting");
    const char *host = NULL, *ind = NULL;
    if (rc == 0 && sv) {
        if (!json_is_integer(sv) || json_integer_value(sv) < 1) {
            snprintf(err, cap, "body: \"sighting\" must be a sighting id (a positive integer)");
            rc = -1;
        } else
            out->sighting = json_integer_value(sv);
    }
    if (rc == 0 && (str_member(o, "host", 1024, &host, err, cap) < 0 ||
                           str_member(o, "indicator", 4096, &ind, err, cap) < 0))
        rc = -1;
    if (rc == 0 && (out->sighting != 0) == (host != NULL || ind != NULL)) {
        snprintf(err, cap, "body: give \"sighting\", or \"host\" and \"indicator\"");
        rc = -1;
    }
    if (rc == 0 && out->sighting == 0 && (host == NULL || ind == NULL)) {
        snprintf(err, cap, "body: \"host\" and \"indicator\" go together");
        rc = -1;
    }
    if (rc == 0 && host) {
        out->host = strdup(host);
        out->indicator = strdup(ind);
        if (out->host == NULL || out->indicator == NULL) {
            snprintf(err, cap, "out of memory");
            rc = -1;
        }
    }
    json_decref(o);
    if (rc < 0)
        tide__case_open_req_free(out);
    return rc;
}

void tide__case_open_req_free(tide_case_open_req *r)
{
    free(r->host);
    free(r->indicator);
    r->host = r->indicator = NULL;
}

/* the strings of body members named by names[] into outs[] (copies), each optional unless
 * required[i] */
static int strings(const char *body, size_t len, const char *const *names, const bool *required,
        char **outs, size_t n, size_t max, char *err, size_t cap)
{
    for (size_t i = 0; i < n; i++)
        outs[i] = NULL;
    json_t *o = tide__parse_body(body, len, err, cap);
    if (o == NULL)
        return -1;
    const char *known[8] = { NULL };
    for (size_t i = 0; i < n && i < 7; i++)
        known[i] = names[i];
    int rc = unknown_members(o, known, err, cap);
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *v;
        int r = str_member(o, names[i], max, &v, err, cap);
        if (r < 0)
            rc = -1;
        else if (r == 0 && required[i]) {
            snprintf(err, cap, "body: \"%s\" is missing", names[i]);
            rc = -1;
        } else if (r > 0 && (outs[i] = strdup(v)) == NULL) {
            snprintf(err, cap, "out of memory");
            rc = -1;
        }
    }
    json_decref(o);
    if (rc < 0)
        for (size_t i = 0; i < n; i++) {
            free(outs[i]);
            outs[i] = NULL;
        }
    return rc;
}

int tide__parse_host_state(
        const char *body, size_t len, char **state, char **note, char *err, size_t cap)
{
    static const char *const names[] = { "state", "note" };
    static const bool req[] = { true, false };
    char *outs[2];
    if (strings(body, len, names, req, outs, 2, 4096, err, cap) < 0)
        return -1;
    *state = outs[0];
    *note = outs[1];
    return 0;
}

int tide__parse_close(const char *body, size_t len, char **tlp, char *err, size_t cap)
{
    *tlp = NULL;
    if (len == 0)
        return 0; /* no body: close without a TLP */
    static const char *const names[] = { "tlp" };
    static const bool req[] = { false };
    return strings(body, len, names, req, tlp, 1, 32, err, cap);
}

int tide__parse_hunt(const char *body, size_t len, tide_hunt_req *out, char *err, size_t cap)
{
    memset(out, 0, sizeof *out);
    static const char *const names[] = { "indicator", "related", "added_since", "since", "until",
        "store" };
    json_t *o = tide__parse_body(body, len, err, cap);
    if (o == NULL)
        return -1;
    static const char *const known[] = { "indicator", "related", "added_since", "since", "until",
        "store", NULL };
    int rc = unknown_members(o, known, err, cap);
    const char *v[5] = { NULL };
    for (int i = 0; i < 5 && rc == 0; i++)
        if (str_member(o, names[i], 4096, &v[i], err, cap) < 0)
            rc = -1;
    json_t *st = json_object_get(o, "store");
    out->store = true;
    if (rc == 0 && st) {
        if (!json_is_boolean(st)) {
            snprintf(err, cap, "body: \"store\" must be true or false");
            rc = -1;
        } else
            out->store = json_is_true(st);
    }
    if (rc == 0 && (v[0] != NULL) + (v[1] != NULL) + (v[2] != NULL) != 1) {
        snprintf(err, cap, "body: give one of \"indicator\", \"related\", \"added_since\"");
        rc = -1;
    }
    if (rc == 0 && (tide__parse_time(v[2], &out->added_since, err, cap) < 0 ||
                           tide__parse_time(v[3], &out->since, err, cap) < 0 ||
                           tide__parse_time(v[4], &out->until, err, cap) < 0))
        rc = -1;
    if (rc == 0 && ((v[0] && (out->indicator = strdup(v[0])) == NULL) ||
                           (v[1] && (out->related = strdup(v[1])) == NULL))) {
        snprintf(err, cap, "out of memory");
        rc = -1;
    }
    json_decref(o);
    if (rc < 0)
        tide__hunt_req_free(out);
    return rc;
}

void tide__hunt_req_free(tide_hunt_req *r)
{
    free(r->indicator);
    free(r->related);
    r->indicator = r->related = NULL;
}

const char *tide__parse_cookie(const char *header, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = header; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            size_t vl = len - nl - 1;
            if (vl >= cap)
                return NULL;
            memcpy(out, p + nl + 1, vl);
            out[vl] = '\0';
            return out;
        }
        p = end;
    }
    return NULL;
}

int tide__parse_interval(const char *v, int64_t *out, char *err, size_t cap)
{
    if (strcmp(v, "manual") == 0 || strcmp(v, "never") == 0) {
        *out = 0;
        return 0;
    }
    char *end;
    errno = 0;
    double n = strtod(v, &end);
    double mul = *end == 'm' ? 60e3 : *end == 'h' ? 3600e3 : *end == 'd' ? 86400e3 : 1e3;
    if (*end == 's' || *end == 'm' || *end == 'h' || *end == 'd')
        end++;
    if (end == v || errno || *end != '\0' || !(n >= 0) || n * mul > 366 * 86400e3) {
        snprintf(err, cap,
                "body: \"interval\": '%.40s' is not 0 or a duration up to 366d (90, 90s, "
                "30m, 1h, 2d)",
                v);
        return -1;
    }
    *out = (int64_t)(n * mul);
    return 0;
}

int tide__parse_feed_add(const char *body, size_t len, tide_feed_req *out, char *err, size_t cap)
{
    memset(out, 0, sizeof *out);
    out->interval_ms = -1;
    json_t *o = tide__parse_body(body, len, err, cap);
    if (o == NULL)
        return -1;
    static const char *const known[] = { "name", "url", "kind", "collection", "user", "password",
        "api_key", "source", "tlp", "family", "columns", "interval", "limit", NULL };
    int rc = unknown_members(o, known, err, cap);
    for (int i = 0; i < TIDE_FEED_REQ_STRINGS && rc == 0; i++) {
        const char *v = NULL;
        int r = str_member(o, known[i], 4096, &v, err, cap);
        if (r < 0)
            rc = -1;
        else if (r == 0 && i < 2) {
            snprintf(err, cap, "body: \"%s\" is missing", known[i]);
            rc = -1;
        } else if (r > 0 && (out->s[i] = strdup(v)) == NULL) {
            snprintf(err, cap, "out of memory");
            rc = -1;
        }
    }
    json_t *iv = json_object_get(o, "interval");
    if (rc == 0 && iv) {
        if (json_is_integer(iv) && json_integer_value(iv) >= 0 &&
                json_integer_value(iv) <= 366 * 86400)
            out->interval_ms = (int64_t)json_integer_value(iv) * 1000;
        else if (!json_is_string(iv) ||
                 tide__parse_interval(json_string_value(iv), &out->interval_ms, err, cap) < 0) {
            if (!json_is_string(iv))
                snprintf(err, cap,
                        "body: \"interval\" must be seconds (0 to 366 days) or a "
                        "duration such as \"30m\"");
            rc = -1;
        }
    }
    json_t *lv = json_object_get(o, "limit");
    if (rc == 0 && lv) {
        if (!json_is_integer(lv) || json_integer_value(lv) < 1 || json_integer_value(lv) > 100000) {
            snprintf(err, cap, "body: \"limit\" must be objects per page, 1 to 100000");
            rc = -1;
        } else
            out->limit = (long)json_integer_value(lv);
    }
    json_decref(o);
    if (rc < 0)
        tide__feed_req_free(out);
    return rc;
}

void tide__feed_req_free(tide_feed_req *r)
{
    for (int i = 0; i < TIDE_FEED_REQ_STRINGS; i++) {
        free(r->s[i]);
        r->s[i] = NULL;
    }
}
