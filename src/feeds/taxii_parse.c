/*
 * taxii_parse.c - the parsers of what a TAXII 2.1 peer (or a MISP feed) sends, before any of
 * it reaches the ingest: the Content-Type check, discovery and API root resources, collections,
 * the envelope of a page of objects, and a MISP feed's manifest.json. Every error names the
 * URL, the place (line and column from jansson, a byte offset, or the member) and the reason.
 *
 * The small resources (discovery, API root, collections, a manifest) are parsed with jansson.
 * An envelope is not: a page may hold up to the response cap (512 MiB by default) and the
 * objects are read by the ingest's streaming STIX reader anyway, so only the envelope's own
 * members ("more", "next") are decoded here, by a scanner that walks the top-level object once
 * in constant memory and skips every other value (jansson has no streaming parser; the
 * objects inside are validated one by one by the ingest). fuzz/fuzz_taxii.c runs all of these.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "feeds/feeds_int.h"

/* ---------------------------------------------------------------- Content-Type */

int tide__taxii_media_ok(const char *ct)
{
    if (ct == NULL)
        return 0;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    static const char type[] = "application/taxii+json";
    if (strncasecmp(ct, type, sizeof(type) - 1) != 0)
        return 0;
    const char *p = ct + sizeof(type) - 1;
    while (*p == ' ' || *p == '\t')
        p++;
    bool version = false;
    while (*p == ';') {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        const char *k = p;
        while (*p && *p != '=' && *p != ';' && *p != ' ' && *p != '\t')
            p++;
        size_t kl = (size_t)(p - k);
        while (*p == ' ' || *p == '\t')
            p++;
        const char *v = "";
        size_t vl = 0;
        if (*p == '=') {
            p++;
            while (*p == ' ' || *p == '\t')
                p++;
            bool quoted = *p == '"';
            v = p + quoted;
            p = v;
            while (*p && (quoted ? *p != '"' : (*p != ';' && *p != ' ' && *p != '\t')))
                p++;
            vl = (size_t)(p - v);
            if (quoted && *p == '"')
                p++;
            while (*p == ' ' || *p == '\t')
                p++;
        }
        if (kl == 7 && strncasecmp(k, "version", 7) == 0) {
            if (vl != 3 || memcmp(v, "2.1", 3) != 0)
                return 0;
            version = true;
        }
        if (*p && *p != ';')
            return 0;
    }
    return *p == '\0' && version;
}

/* ---------------------------------------------------------------- jansson resources */

static int load(const char *url, const char *what, const char *body, size_t len, json_t **out)
{
    json_error_t err;
    *out = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
    if (*out == NULL)
        return tide_error_set(TIDE_EPARSE,
                "%s: line %d, column %d (byte %d): %s is not valid JSON: %s", url, err.line,
                err.column, err.position, what, err.text);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return tide_error_set(TIDE_EFORMAT, "%s: byte 0: %s is not a JSON object", url, what);
    }
    return 0;
}

int tide__taxii_parse_root(const char *url, const char *body, size_t len, char **out_root)
{
    *out_root = NULL;
    json_t *j;
    TIDE_CHECK(load(url, "the discovery / API root resource", body, len, &j));
    int rc = 0;
    json_t *roots = json_object_get(j, "api_roots"), *dflt = json_object_get(j, "default");
    if (roots != NULL || dflt != NULL) {
        /* a discovery resource: its default API root, else its only one */
        const char *pick = NULL;
        if (dflt != NULL && !json_is_string(dflt))
            rc = tide_error_set(
                    TIDE_EFORMAT, "%s: discovery member \"default\" is not a string", url);
        else if (roots != NULL && !json_is_array(roots))
            rc = tide_error_set(
                    TIDE_EFORMAT, "%s: discovery member \"api_roots\" is not an array", url);
        else if (dflt != NULL)
            pick = json_string_value(dflt);
        else if (json_array_size(roots) == 1 && json_is_string(json_array_get(roots, 0)))
            pick = json_string_value(json_array_get(roots, 0));
        else
            rc = tide_error_set(TIDE_EFORMAT,
                    "%s: the discovery resource names %zu API roots and no default: give the "
                    "feed one of them as its URL",
                    url, json_array_size(roots));
        if (rc == 0 && (*out_root = tide__url_resolve(url, pick)) == NULL)
            rc = tide_error_last_code() ? tide_error_last_code() : TIDE_ENOMEM;
        json_decref(j);
        return rc;
    }
    /* an API root: it must speak TAXII 2.1 when it says what it speaks */
    json_t *versions = json_object_get(j, "versions");
    json_t *title = json_object_get(j, "title");
    if (versions == NULL && title == NULL) {
        json_decref(j);
        return tide_error_set(TIDE_EFORMAT,
                "%s: neither a discovery resource (no \"api_roots\" / \"default\") nor an API "
                "root (no \"title\" / \"versions\")",
                url);
    }
    if (versions != NULL) {
        if (!json_is_array(versions)) {
            json_decref(j);
            return tide_error_set(
                    TIDE_EFORMAT, "%s: API root member \"versions\" is not an array", url);
        }
        bool ok = false;
        size_t i;
        json_t *v;
        json_array_foreach(versions, i,
                v) if (json_is_string(v) && tide__taxii_media_ok(json_string_value(v))) ok = true;
        if (!ok && json_array_size(versions) > 0) {
            json_decref(j);
            return tide_error_set(TIDE_EUNSUPPORTED,
                    "%s: the API root does not list " TIDE__TAXII_MEDIA " among its versions", url);
        }
    }
    json_decref(j);
    if ((*out_root = tide__url_dir(url)) == NULL)
        return TIDE_ENOMEM;
    return 0;
}

static int collection_of(const char *url, const char *where, json_t *c, tide__taxii_collection *out)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_object(c))
        return tide_error_set(TIDE_EFORMAT, "%s: %s is not an object", url, where);
    const char *id = json_string_value(json_object_get(c, "id"));
    if (id == NULL || *id == '\0')
        return tide_error_set(TIDE_EFORMAT, "%s: %s has no string \"id\"", url, where);
    if (strlen(id) >= sizeof(out->id))
        return tide_error_set(TIDE_EFORMAT, "%s: %s: \"id\" is longer than %zu bytes", url, where,
                sizeof(out->id) - 1);
    json_t *r = json_object_get(c, "can_read"), *w = json_object_get(c, "can_write");
    if (!json_is_boolean(r) || (w != NULL && !json_is_boolean(w)))
        return tide_error_set(TIDE_EFORMAT,
                "%s: %s (\"%s\"): \"can_read\" / \"can_write\" are not booleans", url, where, id);
    snprintf(out->id, sizeof(out->id), "%s", id);
    const char *t = json_string_value(json_object_get(c, "title"));
    snprintf(out->title, sizeof(out->title), "%s", t ? t : "");
    out->can_read = json_is_true(r);
    out->can_write = json_is_true(w);
    return 0;
}

int tide__taxii_parse_collection(
        const char *url, const char *body, size_t len, tide__taxii_collection *out)
{
    json_t *j;
    TIDE_CHECK(load(url, "the collection resource", body, len, &j));
    int rc = collection_of(url, "the collection", j, out);
    json_decref(j);
    return rc;
}

int tide__taxii_parse_collections(const char *url, const char *body, size_t len, const char *want,
        tide__taxii_collection *out)
{
    memset(out, 0, sizeof(*out));
    json_t *j;
    TIDE_CHECK(load(url, "the collections resource", body, len, &j));
    json_t *arr = json_object_get(j, "collections");
    int rc = 0;
    if (arr != NULL && !json_is_array(arr)) {
        json_decref(j);
        return tide_error_set(TIDE_EFORMAT, "%s: member \"collections\" is not an array", url);
    }
    tide_buf ids = TIDE_BUF_INIT;
    size_t readable = 0, i;
    json_t *c;
    bool found = false;
    json_array_foreach(arr, i, c)
    {
        char where[64];
        snprintf(where, sizeof(where), "collection %zu", i + 1);
        tide__taxii_collection one;
        if ((rc = collection_of(url, where, c, &one)) < 0)
            break;
        if (ids.len < 2048)
            tide__buf_printf(&ids, "%s%s%s", ids.len ? ", " : "", one.id,
                    one.can_read ? "" : " (can_read false)");
        if (want ? strcmp(one.id, want) == 0 : one.can_read) {
            if (!want)
                readable++;
            if (!found)
                *out = one;
            found = true;
        }
    }
    if (rc == 0 && !found)
        rc = tide_error_set(want ? TIDE_ENOTFOUND : TIDE_EINVAL,
                want ? "%s: no collection '%s' (there are: %s)"
                     : "%s: no readable collection%s (there are: %s)",
                url, want ? want : "", ids.len ? ids.ptr : "none");
    else if (rc == 0 && !want && readable > 1)
        rc = tide_error_set(TIDE_EINVAL,
                "%s: %zu readable collections: say which with --collection (there are: %s)", url,
                readable, ids.ptr);
    tide__buf_free(&ids);
    json_decref(j);
    return rc;
}

/* ---------------------------------------------------------------- the envelope */

typedef struct {
    const char *url;
    const char *p, *end, *start;
} scan;

static int scan_err(const scan *s, const char *at, const char *why)
{
    return tide_error_set(TIDE_EPARSE, "%s: byte %lld: the envelope is not valid JSON: %s", s->url,
            (long long)(at - s->start), why);
}

static void ws(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

/* a string token from s->p (at its opening quote): s->p after it; *tok and *toklen the token with
 * its quotes */
static int skip_string(scan *s, const char **tok, size_t *toklen)
{
    const char *b = s->p;
    if (s->p >= s->end || *s->p != '"')
        return scan_err(s, s->p, "a string was expected");
    for (s->p++; s->p < s->end; s->p++) {
        unsigned char ch = (unsigned char)*s->p;
        if (ch == '\\') {
            s->p++;
            continue;
        }
        if (ch < 0x20)
            return scan_err(s, s->p, "a control character inside a string");
        if (ch == '"') {
            s->p++;
            if (tok) {
                *tok = b;
                *toklen = (size_t)(s->p - b);
            }
            return 0;
        }
    }
    return scan_err(s, b, "a string that does not end");
}

/* a string token decoded (jansson decodes the escapes and checks the UTF-8) */
static int decode_string(scan *s, const char *tok, size_t n, char **out)
{
    json_error_t err;
    json_t *v = json_loadb(tok, n, JSON_DECODE_ANY, &err);
    if (!json_is_string(v)) {
        json_decref(v);
        return scan_err(s, tok, "a string that is not valid (escape or UTF-8)");
    }
    *out = tide__strdup(json_string_value(v));
    json_decref(v);
    return *out ? 0 : tide_error_set(TIDE_ENOMEM, "out of memory");
}

/* one value of any kind, skipped: nested arrays and objects by their brackets (the ingest
 * validates what is inside) */
static int skip_value(scan *s)
{
    ws(s);
    if (s->p >= s->end)
        return scan_err(s, s->p, "a value was expected");
    char ch = *s->p;
    if (ch == '"')
        return skip_string(s, NULL, NULL);
    if (ch == '{' || ch == '[') {
        const char *b = s->p;
        char stack[256];
        size_t depth = 0;
        while (s->p < s->end) {
            ch = *s->p;
            if (ch == '"') {
                TIDE_CHECK(skip_string(s, NULL, NULL));
                continue;
            }
            if (ch == '{' || ch == '[') {
                if (depth == sizeof(stack))
                    return scan_err(s, s->p, "nested deeper than 256 levels");
                stack[depth++] = ch == '{' ? '}' : ']';
            } else if (ch == '}' || ch == ']') {
                if (depth == 0 || stack[depth - 1] != ch)
                    return scan_err(s, s->p, "a bracket that closes nothing open");
                if (--depth == 0) {
                    s->p++;
                    return 0;
                }
            }
            s->p++;
        }
        return scan_err(s, b, "an array or object that does not end");
    }
    const char *b = s->p;
    while (s->p < s->end && strchr(",}] \t\r\n", *s->p) == NULL)
        s->p++;
    size_t n = (size_t)(s->p - b);
    if (n == 0)
        return scan_err(s, b, "a value was expected");
    if ((n == 4 && memcmp(b, "true", 4) == 0) || (n == 5 && memcmp(b, "false", 5) == 0) ||
            (n == 4 && memcmp(b, "null", 4) == 0))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strchr("0123456789+-.eE", b[i]) == NULL)
            return scan_err(s, b, "an unknown literal");
    return 0;
}

static int scan_objects(scan *s, tide__taxii_envelope *out)
{
    ws(s);
    if (s->p < s->end && *s->p == 'n') /* "objects": null */
        return skip_value(s);
    if (s->p >= s->end || *s->p != '[')
        return tide_error_set(TIDE_EFORMAT,
                "%s: byte %lld: envelope member \"objects\" is not an array", s->url,
                (long long)(s->p - s->start));
    s->p++;
    ws(s);
    if (s->p < s->end && *s->p == ']') {
        s->p++;
        return 0;
    }
    for (;;) {
        TIDE_CHECK(skip_value(s));
        out->objects++;
        ws(s);
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            continue;
        }
        if (s->p < s->end && *s->p == ']') {
            s->p++;
            return 0;
        }
        return scan_err(s, s->p, "',' or ']' was expected in \"objects\"");
    }
}

int tide__taxii_parse_envelope(
        const char *url, const char *body, size_t len, tide__taxii_envelope *out)
{
    memset(out, 0, sizeof(*out));
    scan s = { url, body, body + len, body };
    int rc = 0;
    bool seen_more = false, seen_next = false, seen_objects = false;
    ws(&s);
    if (s.p >= s.end || *s.p != '{') {
        rc = tide_error_set(TIDE_EFORMAT, "%s: byte %lld: the envelope is not a JSON object", url,
                (long long)(s.p - s.start));
        goto done;
    }
    s.p++;
    ws(&s);
    if (s.p < s.end && *s.p == '}') {
        s.p++;
    } else {
        for (;;) {
            ws(&s);
            const char *tok;
            size_t tl;
            char *key = NULL;
            if ((rc = skip_string(&s, &tok, &tl)) < 0 ||
                    (rc = decode_string(&s, tok, tl, &key)) < 0)
                goto done;
            ws(&s);
            if (s.p >= s.end || *s.p != ':') {
                tide__free(key);
                rc = scan_err(&s, s.p, "':' was expected after a member name");
                goto done;
            }
            s.p++;
            ws(&s);
            const char *vat = s.p;
            bool *seen = strcmp(key, "more") == 0      ? &seen_more
                         : strcmp(key, "next") == 0    ? &seen_next
                         : strcmp(key, "objects") == 0 ? &seen_objects
                                                       : NULL;
            if (seen && *seen) {
                rc = tide_error_set(TIDE_EFORMAT, "%s: byte %lld: envelope member \"%s\" twice",
                        url, (long long)(vat - s.start), key);
                tide__free(key);
                goto done;
            }
            if (seen)
                *seen = true;
            if (strcmp(key, "more") == 0) {
                if (s.end - s.p >= 4 && memcmp(s.p, "true", 4) == 0) {
                    out->more = true;
                    s.p += 4;
                } else if (s.end - s.p >= 5 && memcmp(s.p, "false", 5) == 0) {
                    s.p += 5;
                } else {
                    rc = tide_error_set(TIDE_EFORMAT,
                            "%s: byte %lld: envelope member \"more\" is not a boolean", url,
                            (long long)(vat - s.start));
                }
            } else if (strcmp(key, "next") == 0) {
                if (s.p < s.end && *s.p == '"') {
                    if ((rc = skip_string(&s, &tok, &tl)) == 0)
                        rc = decode_string(&s, tok, tl, &out->next);
                    if (rc == 0 && (out->next[0] == '\0' || strlen(out->next) > 4096))
                        rc = tide_error_set(TIDE_EFORMAT,
                                "%s: byte %lld: envelope member \"next\" is empty or longer "
                                "than 4096 bytes",
                                url, (long long)(vat - s.start));
                } else if (s.end - s.p >= 4 && memcmp(s.p, "null", 4) == 0) {
                    s.p += 4;
                } else {
                    rc = tide_error_set(TIDE_EFORMAT,
                            "%s: byte %lld: envelope member \"next\" is not a string", url,
                            (long long)(vat - s.start));
                }
            } else if (strcmp(key, "objects") == 0) {
                rc = scan_objects(&s, out);
            } else {
                rc = skip_value(&s);
            }
            tide__free(key);
            if (rc < 0)
                goto done;
            ws(&s);
            if (s.p < s.end && *s.p == ',') {
                s.p++;
                continue;
            }
            if (s.p < s.end && *s.p == '}') {
                s.p++;
                break;
            }
            rc = scan_err(&s, s.p, "',' or '}' was expected after a member");
            goto done;
        }
    }
    ws(&s);
    if (s.p != s.end)
        rc = scan_err(&s, s.p, "bytes after the envelope");
done:
    if (rc < 0)
        tide__taxii_envelope_free(out);
    return rc;
}

void tide__taxii_envelope_free(tide__taxii_envelope *e)
{
    if (e == NULL)
        return;
    tide__free(e->next);
    memset(e, 0, sizeof(*e));
}

/* ---------------------------------------------------------------- MISP feed manifest */

static int cmp_event(const void *a, const void *b)
{
    const tide__misp_manifest_event *x = a, *y = b;
    if (x->timestamp != y->timestamp)
        return x->timestamp < y->timestamp ? -1 : 1;
    return strcmp(x->uuid, y->uuid);
}

int tide__misp_parse_manifest(const char *url, const char *body, size_t len,
        tide__misp_manifest_event **out, size_t *out_n)
{
    *out = NULL;
    *out_n = 0;
    json_t *j;
    TIDE_CHECK(load(url, "the MISP feed manifest", body, len, &j));
    size_t n = json_object_size(j);
    tide__misp_manifest_event *v = tide__calloc(n ? n : 1, sizeof(*v));
    if (v == NULL) {
        json_decref(j);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    size_t k = 0;
    const char *key;
    json_t *e;
    int rc = 0;
    json_object_foreach(j, key, e)
    {
        if (!tide__uuid_valid(key)) {
            rc = tide_error_set(TIDE_EFORMAT,
                    "%s: key \"%.80s\" is not an event uuid (a MISP feed manifest is keyed by "
                    "event uuid)",
                    url, key);
            break;
        }
        if (!json_is_object(e)) {
            rc = tide_error_set(TIDE_EFORMAT, "%s: event %s: not an object", url, key);
            break;
        }
        json_t *ts = json_object_get(e, "timestamp");
        long long t = 0;
        if (json_is_integer(ts))
            t = json_integer_value(ts);
        else if (json_is_string(ts)) {
            char *end;
            t = strtoll(json_string_value(ts), &end, 10);
            if (*end != '\0' || end == json_string_value(ts))
                t = -1;
        } else if (ts != NULL)
            t = -1;
        if (t < 0) {
            rc = tide_error_set(TIDE_EFORMAT,
                    "%s: event %s: \"timestamp\" is not a number of seconds", url, key);
            break;
        }
        snprintf(v[k].uuid, sizeof(v[k].uuid), "%s", key);
        tide__str_lower(v[k].uuid);
        v[k].timestamp = t;
        k++;
    }
    json_decref(j);
    if (rc < 0) {
        tide__free(v);
        return rc;
    }
    qsort(v, k, sizeof(*v), cmp_event);
    *out = v;
    *out_n = k;
    return 0;
}
