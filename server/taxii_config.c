/*
 * taxii_config.c - the "taxii" member of `tide serve --config FILE` (taxii_config.h): API
 * roots and their collections, checked whole (unknown members, bad ids, kinds, TLP levels and
 * roles are refused, naming the member), with jansson (duplicate members refused); and the
 * defaults when no configuration names any.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tide.h"
#include "tide/auth.h"
#include "taxii_config.h"

static int fail(char *err, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 3, 4)))
#endif
        ;
static int fail(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -1;
}

static void coll_free(tide__taxii_coll *c)
{
    free(c->id);
    free(c->title);
    free(c->description);
    for (size_t i = 0; i < c->nsources; i++)
        free(c->sources[i]);
    free(c->sources);
}

void tide__taxii_cfg_free(tide__taxii_cfg *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->nroots; i++) {
        tide__taxii_root *r = &c->roots[i];
        for (size_t k = 0; k < r->ncolls; k++)
            coll_free(&r->colls[k]);
        free(r->colls);
        free(r->name);
        free(r->title);
        free(r->description);
    }
    free(c->roots);
    free(c->title);
    free(c->description);
    free(c);
}

static bool is_uuid(const char *s)
{
    if (strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

/* a string member (optional unless required): 0, or -1 with err */
static int str_member(json_t *o, const char *key, bool required, const char *where, char **out,
        char *err, size_t cap)
{
    json_t *v = json_object_get(o, key);
    if (v == NULL) {
        if (required)
            return fail(err, cap, "%s.%s: missing", where, key);
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 1024)
        return fail(err, cap, "%s.%s: want a string of 1 to 1024 characters", where, key);
    *out = strdup(json_string_value(v));
    return *out ? 0 : fail(err, cap, "out of memory");
}

static int only(json_t *o, const char *const *keys, const char *where, char *err, size_t cap)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        bool known = false;
        for (size_t i = 0; keys[i]; i++)
            known |= strcmp(k, keys[i]) == 0;
        if (!known)
            return fail(err, cap, "%s: unknown member \"%.60s\"", where, k);
    }
    return 0;
}

static int roles(
        json_t *v, const char *where, const char *key, unsigned *out, char *err, size_t cap)
{
    if (v == NULL)
        return 0;
    if (!json_is_array(v))
        return fail(err, cap, "%s.%s: want an array of roles", where, key);
    *out = 0;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        int r = json_is_string(e) ? tide_role_parse(json_string_value(e)) : -1;
        if (r < 0) {
            tide_error_clear();
            return fail(err, cap, "%s.%s[%zu]: not a role (reader, analyst, admin, peer)", where,
                    key, i);
        }
        *out |= 1u << r;
    }
    return 0;
}

static int parse_coll(json_t *o, const char *where, tide__taxii_coll *c, char *err, size_t cap)
{
    static const char *const keys[] = { "id", "title", "description", "kind", "tlp_max", "sources",
        "can_read", "can_write", NULL };
    if (!json_is_object(o))
        return fail(err, cap, "%s: want an object", where);
    if (only(o, keys, where, err, cap) < 0 ||
            str_member(o, "id", true, where, &c->id, err, cap) < 0 ||
            str_member(o, "title", true, where, &c->title, err, cap) < 0 ||
            str_member(o, "description", false, where, &c->description, err, cap) < 0)
        return -1;
    if (!is_uuid(c->id))
        return fail(err, cap, "%s.id: '%.60s' is not a UUID", where, c->id);
    const char *kind = json_string_value(json_object_get(o, "kind"));
    if (kind == NULL)
        kind = "intel";
    if (strcmp(kind, "intel") == 0)
        c->kind = TIDE__TAXII_INTEL;
    else if (strcmp(kind, "sightings") == 0)
        c->kind = TIDE__TAXII_SIGHTINGS;
    else if (strcmp(kind, "inbox") == 0)
        c->kind = TIDE__TAXII_INBOX;
    else
        return fail(err, cap, "%s.kind: want \"intel\", \"sightings\" or \"inbox\"", where);
    json_t *t = json_object_get(o, "tlp_max");
    c->tlp_max = TIDE_TLP_AMBER;
    if (t) {
        int l = json_is_string(t) ? tide_tlp_parse(json_string_value(t)) : -1;
        if (l < 0) {
            tide_error_clear();
            return fail(err, cap,
                    "%s.tlp_max: not a TLP level (clear, green, amber, "
                    "amber+strict, red)",
                    where);
        }
        c->tlp_max = l;
    }
    json_t *src = json_object_get(o, "sources");
    if (src) {
        if (!json_is_array(src) || json_array_size(src) > 64)
            return fail(err, cap, "%s.sources: want an array of at most 64 feed names", where);
        c->sources = calloc(json_array_size(src) + 1, sizeof *c->sources);
        if (c->sources == NULL)
            return fail(err, cap, "out of memory");
        size_t i;
        json_t *e;
        json_array_foreach(src, i, e)
        {
            if (!json_is_string(e) || json_string_length(e) == 0 || json_string_length(e) > 256)
                return fail(err, cap, "%s.sources[%zu]: want a feed name", where, i);
            if ((c->sources[c->nsources++] = strdup(json_string_value(e))) == NULL)
                return fail(err, cap, "out of memory");
        }
    }
    c->can_read = c->kind == TIDE__TAXII_INBOX ? 0 : 0xfu;
    c->can_write =
            c->kind == TIDE__TAXII_INBOX
                    ? (1u << TIDE_ROLE_PEER) | (1u << TIDE_ROLE_ANALYST) | (1u << TIDE_ROLE_ADMIN)
                    : 0;
    if (roles(json_object_get(o, "can_read"), where, "can_read", &c->can_read, err, cap) < 0 ||
            roles(json_object_get(o, "can_write"), where, "can_write", &c->can_write, err, cap) < 0)
        return -1;
    if (c->can_write && c->kind != TIDE__TAXII_INBOX)
        return fail(err, cap, "%s.can_write: only an inbox collection takes objects", where);
    return 0;
}

static bool good_name(const char *s)
{
    if (*s == '\0' || strlen(s) > 64)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
            return false;
    return true;
}

tide__taxii_cfg *tide__taxii_cfg_parse(const char *json, size_t len, char *err, size_t cap)
{
    static const char *const top[] = { "title", "description", "api_roots", NULL };
    static const char *const rootk[] = { "title", "description", "collections", NULL };
    json_error_t je;
    json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    tide__taxii_cfg *c = calloc(1, sizeof *c);
    if (c == NULL) {
        fail(err, cap, "out of memory");
        goto bad;
    }
    if (o == NULL) {
        fail(err, cap, "taxii: line %d, column %d: %s", je.line, je.column, je.text);
        goto bad;
    }
    if (!json_is_object(o)) {
        fail(err, cap, "taxii: want an object");
        goto bad;
    }
    if (only(o, top, "taxii", err, cap) < 0 ||
            str_member(o, "title", true, "taxii", &c->title, err, cap) < 0 ||
            str_member(o, "description", false, "taxii", &c->description, err, cap) < 0)
        goto bad;
    json_t *roots = json_object_get(o, "api_roots");
    if (!json_is_object(roots) || json_object_size(roots) == 0 || json_object_size(roots) > 64) {
        fail(err, cap, "taxii.api_roots: want an object of 1 to 64 API roots by name");
        goto bad;
    }
    c->roots = calloc(json_object_size(roots), sizeof *c->roots);
    if (c->roots == NULL) {
        fail(err, cap, "out of memory");
        goto bad;
    }
    const char *name;
    json_t *ro;
    json_object_foreach(roots, name, ro)
    {
        char where[160];
        snprintf(where, sizeof where, "taxii.api_roots.%.60s", name);
        tide__taxii_root *r = &c->roots[c->nroots++];
        if (!good_name(name)) {
            fail(err, cap, "%s: a root's name is 1 to 64 letters, digits, '-', '_' or '.'", where);
            goto bad;
        }
        if ((r->name = strdup(name)) == NULL) {
            fail(err, cap, "out of memory");
            goto bad;
        }
        if (!json_is_object(ro)) {
            fail(err, cap, "%s: want an object", where);
            goto bad;
        }
        if (only(ro, rootk, where, err, cap) < 0 ||
                str_member(ro, "title", true, where, &r->title, err, cap) < 0 ||
                str_member(ro, "description", false, where, &r->description, err, cap) < 0)
            goto bad;
        json_t *colls = json_object_get(ro, "collections");
        if (colls == NULL)
            continue;
        if (!json_is_array(colls) || json_array_size(colls) > 256) {
            fail(err, cap, "%s.collections: want an array of at most 256 collections", where);
            goto bad;
        }
        r->colls = calloc(json_array_size(colls) + 1, sizeof *r->colls);
        if (r->colls == NULL) {
            fail(err, cap, "out of memory");
            goto bad;
        }
        size_t i;
        json_t *co;
        json_array_foreach(colls, i, co)
        {
            char w2[200];
            snprintf(w2, sizeof w2, "%s.collections[%zu]", where, i);
            tide__taxii_coll *cc = &r->colls[r->ncolls++];
            if (parse_coll(co, w2, cc, err, cap) < 0)
                goto bad;
            for (size_t k = 0; k + 1 < r->ncolls; k++)
                if (strcasecmp(r->colls[k].id, cc->id) == 0) {
                    fail(err, cap, "%s.id: %s is the id of collections[%zu] too", w2, cc->id, k);
                    goto bad;
                }
        }
    }
    json_decref(o);
    return c;
bad:
    json_decref(o);
    tide__taxii_cfg_free(c);
    return NULL;
}

tide__taxii_cfg *tide__taxii_cfg_default(void)
{
    static const char def[] =
            "{\"title\": \"tide\", \"description\": \"the intel and sightings tide shares\","
            " \"api_roots\": {\"tide\": {\"title\": \"tide\", \"collections\": ["
            "{\"id\": \"4542607a-5d28-45f7-9884-7fe54b667bbf\", \"title\": \"intel\","
            " \"description\": \"shareable intel: every current object, under the key's TLP "
            "ceiling and amber\", \"kind\": \"intel\", \"tlp_max\": \"amber\"},"
            "{\"id\": \"5ad54334-7eec-4e44-8813-080cd2445c38\", \"title\": \"sightings\","
            " \"description\": \"sightings of shared indicators, anonymised\","
            " \"kind\": \"sightings\", \"tlp_max\": \"green\"},"
            "{\"id\": \"04e5a863-b0dc-46e8-b876-1426f6d596a3\", \"title\": \"inbox\","
            " \"description\": \"post STIX objects: they are ingested, hunted and exported\","
            " \"kind\": \"inbox\", \"can_read\": [], \"can_write\": [\"peer\", \"analyst\","
            " \"admin\"]}]}}}";
    char err[256];
    return tide__taxii_cfg_parse(def, sizeof def - 1, err, sizeof err);
}
