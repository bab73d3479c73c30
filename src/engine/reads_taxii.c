/*
 * reads_taxii.c - the TAXII 2.1 listings of tide serve's collections (tide_read_taxii in
 * include/tide/reads.h): object versions in the order they were added (tide__store_added),
 * each through the gate of the ceiling as every read path, a page at a time. The "next" token
 * names the position after which the next page starts (the date added and the row of the last
 * object given): rows committed later always come after it, so no object is lost or given
 * twice while objects are added between pages.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "engine/engine_int.h"
#include "store/front.h"
#include "tide/errors.h"
#include "tide/gate.h"
#include "tide/reads.h"
#include "util/util.h"

#define MAX_LIST 64 /* items of one match[] filter */

typedef struct {
    char *buf;
    const char *v[MAX_LIST];
    size_t n;
} list;

/* split a comma-separated filter into its items (empty ones skipped) */
static int split(list *l, const char *what, const char *text)
{
    memset(l, 0, sizeof *l);
    if (text == NULL)
        return 0;
    l->buf = tide__strdup(text);
    TIDE_CHECK_ALLOC(l->buf);
    char *save = NULL;
    for (char *t = strtok_r(l->buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        if (*t == '\0')
            continue;
        if (l->n == MAX_LIST)
            return tide_error_set(TIDE_EINVAL, "%s: more than %d values", what, MAX_LIST);
        l->v[l->n++] = t;
    }
    if (l->n == 0)
        return tide_error_set(TIDE_EINVAL, "%s: no value", what);
    return 0;
}

static void date_added(int64_t ms, char out[64])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
            tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* "MS-ROW": digits, a dash, digits */
static int parse_next(const char *tok, int64_t *row)
{
    const char *dash = tok ? strchr(tok, '-') : NULL;
    if (dash == NULL || dash == tok || dash[1] == '\0' || strlen(tok) > 40)
        return tide_error_set(TIDE_EINVAL, "next: '%.60s' is not a token this server gave", tok);
    for (const char *p = tok; *p; p++)
        if (p != dash && !isdigit((unsigned char)*p))
            return tide_error_set(
                    TIDE_EINVAL, "next: '%.60s' is not a token this server gave", tok);
    errno = 0;
    long long r = strtoll(dash + 1, NULL, 10);
    if (errno || r <= 0)
        return tide_error_set(TIDE_EINVAL, "next: '%.60s' is not a token this server gave", tok);
    *row = r;
    return 0;
}

typedef struct {
    tide_gate *gate;
    tide_taxii_listing what;
    const list *spec;
    long limit, n;
    json_t *arr;
    bool more;
    int64_t last_row, last_ms, first_ms;
    int err;
} page_ctx;

static bool spec_ok(const page_ctx *c, json_t *o)
{
    const char *sv = json_string_value(json_object_get(o, "spec_version"));
    if (sv == NULL)
        sv = "2.1";
    for (size_t i = 0; i < c->spec->n; i++)
        if (strcmp(c->spec->v[i], sv) == 0)
            return true;
    return false;
}

static int on_row(const tide_store_added_row *r, void *payload)
{
    page_ctx *c = payload;
    size_t len = strlen(r->json);
    char *red = NULL;
    int v = tide_gate_object(c->gate, r->json, len, r->tlp, &red, NULL);
    if (v == TIDE_GATE_WITHHELD || v == TIDE_EPARSE) {
        tide_error_clear();
        return 0;
    }
    if (v < 0) {
        c->err = v;
        return 1;
    }
    const char *txt = red ? red : r->json;
    size_t tlen = red ? strlen(red) : len;
    int mp = tide_gate_markings_pass(c->gate, txt, tlen);
    if (mp <= 0) {
        free(red);
        if (mp < 0) {
            c->err = mp;
            return 1;
        }
        return 0;
    }
    json_t *o = NULL;
    if (c->what == TIDE_TAXII_OBJECTS || c->spec->n) {
        o = json_loadb(txt, tlen, 0, NULL);
        if (o == NULL || !json_is_object(o)) {
            json_decref(o);
            free(red);
            return 0;
        }
    }
    if (c->spec->n && !spec_ok(c, o)) {
        json_decref(o);
        free(red);
        return 0;
    }
    if (c->n == c->limit) { /* one more passes: there is a next page */
        json_decref(o);
        free(red);
        c->more = true;
        return 1;
    }
    char added[64];
    date_added(r->added_ms, added);
    json_t *item = NULL;
    if (c->what == TIDE_TAXII_OBJECTS) {
        /* the TLP the store keeps travels with an object that has no TLP marking of its own */
        const char *m = NULL;
        int rc = tide_gate_own_marking(c->gate, r->id, txt, tlen, r->tlp, &m);
        if (rc < 0) {
            json_decref(o);
            free(red);
            c->err = rc;
            return 1;
        }
        if (m) {
            json_t *refs = json_object_get(o, "object_marking_refs");
            if (!json_is_array(refs)) {
                refs = json_array();
                json_object_set_new(o, "object_marking_refs", refs);
            }
            json_array_append_new(refs, json_string(m));
        }
        item = o;
        o = NULL;
    } else if (c->what == TIDE_TAXII_MANIFEST) {
        item = json_pack("{s:s, s:s, s:s, s:s}", "id", r->id, "date_added", added, "version",
                r->modified[0] ? r->modified : added, "media_type",
                "application/stix+json;version=2.1");
    } else
        item = json_string(r->modified[0] ? r->modified : added);
    json_decref(o);
    free(red);
    if (item == NULL || json_array_append_new(c->arr, item) < 0) {
        c->err = tide_error_set(TIDE_ENOMEM, "taxii page");
        return 1;
    }
    if (c->n++ == 0)
        c->first_ms = r->added_ms;
    c->last_ms = r->added_ms;
    c->last_row = r->row;
    return 0;
}

/* A request's filters, parsed: the store query, and the lists its strings point into (free
 * them with filters_free). */
typedef struct {
    tide_store_added_query sq;
    list ids, types, vers, spec;
    const char *one[1];
    const char *mods[MAX_LIST];
} filters;

static void filters_free(filters *f)
{
    tide__free(f->ids.buf);
    tide__free(f->types.buf);
    tide__free(f->vers.buf);
    tide__free(f->spec.buf);
}

/* no match[version]: the last version, or all of them */
static int filters_parse(filters *f, const tide_taxii_query *q, bool all_by_default)
{
    memset(f, 0, sizeof *f);
    tide_store_added_query *sq = &f->sq;
    int rc;
    if (q->next && (rc = parse_next(q->next, &sq->after_row)) < 0)
        return rc;
    sq->added_after = q->added_after;
    if ((rc = split(&f->ids, "match[id]", q->match_id)) < 0 ||
            (rc = split(&f->types, "match[type]", q->match_type)) < 0 ||
            (rc = split(&f->vers, "match[version]", q->match_version)) < 0 ||
            (rc = split(&f->spec, "match[spec_version]", q->match_spec_version)) < 0)
        return rc;
    for (size_t i = 0; i < f->spec.n; i++)
        if (strcmp(f->spec.v[i], "2.0") != 0 && strcmp(f->spec.v[i], "2.1") != 0)
            return tide_error_set(
                    TIDE_EINVAL, "match[spec_version]: '%.40s' is not 2.0 or 2.1", f->spec.v[i]);
    if (q->object_id) {
        f->one[0] = q->object_id;
        sq->ids = f->one;
        sq->nids = 1;
    } else if (f->ids.n) {
        sq->ids = f->ids.v;
        sq->nids = f->ids.n;
    }
    sq->types = f->types.v;
    sq->ntypes = f->types.n;
    sq->sources = q->sources;
    sq->nsources = q->nsources;
    if (f->vers.n == 0) {
        sq->last = !all_by_default;
        sq->all = all_by_default;
    }
    for (size_t i = 0; i < f->vers.n; i++) {
        const char *v = f->vers.v[i];
        int64_t ms;
        if (strcmp(v, "all") == 0)
            sq->all = true;
        else if (strcmp(v, "first") == 0)
            sq->first = true;
        else if (strcmp(v, "last") == 0)
            sq->last = true;
        else if (tide_time_parse(v, &ms) == 0)
            f->mods[sq->nmodified++] = v;
        else
            return tide_error_set(TIDE_EINVAL,
                    "match[version]: '%.60s' is not first, last, all or a timestamp", v);
    }
    sq->modified = f->mods;
    return 0;
}

int tide_read_taxii(tide_reads *rd, const tide_taxii_query *q, tide_taxii_listing what, int ceiling,
        char **out, int64_t *out_first, int64_t *out_last)
{
    if (rd == NULL || q == NULL || out == NULL)
        return tide_error_set(TIDE_EINVAL, "no reads, query or output");
    *out = NULL;
    if (out_first)
        *out_first = 0;
    if (out_last)
        *out_last = 0;
    if (q->limit < 1)
        return tide_error_set(TIDE_EINVAL, "limit: want 1 or more");
    filters f;
    int rc = filters_parse(&f, q, what == TIDE_TAXII_VERSIONS);
    tide_gate *gate = NULL;
    if (rc < 0 || (rc = tide__reads_gate(rd, ceiling, &gate)) < 0)
        goto done;
    page_ctx c = { gate, what, &f.spec, q->limit, 0, json_array(), false, 0, 0, 0, 0 };
    if (c.arr == NULL) {
        rc = tide_error_set(TIDE_ENOMEM, "taxii page");
        goto done;
    }
    rc = tide__store_added(tide_reads_store(rd), &f.sq, on_row, &c);
    if (rc > 0)
        rc = 0;
    if (rc == 0 && c.err)
        rc = c.err;
    if (rc == 0 && q->object_id && c.n == 0 && q->next == NULL)
        rc = tide_error_set(TIDE_ENOTFOUND, "no object %s", q->object_id);
    if (rc == 0) {
        json_t *o = json_pack("{s:b}", "more", c.more);
        if (o && c.more) {
            char tok[48];
            snprintf(tok, sizeof tok, "%lld-%lld", (long long)c.last_ms, (long long)c.last_row);
            json_object_set_new(o, "next", json_string(tok));
        }
        if (o && c.n)
            json_object_set(o, what == TIDE_TAXII_VERSIONS ? "versions" : "objects", c.arr);
        *out = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (*out == NULL)
            rc = tide_error_set(TIDE_ENOMEM, "taxii page");
        if (out_first)
            *out_first = c.first_ms;
        if (out_last)
            *out_last = c.last_ms;
    }
    json_decref(c.arr);
done:
    filters_free(&f);
    return rc;
}

/* ---- DELETE: the versions of one object the collection shows the key, then deleted ---- */

typedef struct {
    tide_gate *gate;
    const list *spec;
    char **mods; /* the versions' modified as stored ("" for an unversioned object) */
    size_t n, cap;
    int err;
} delete_ctx;

static int on_delete_row(const tide_store_added_row *r, void *payload)
{
    delete_ctx *c = payload;
    size_t len = strlen(r->json);
    /* what a GET of the object would give under this ceiling, and only that */
    char *red = NULL; /* a redacted object may still be deleted whole: it is listed */
    int v = tide_gate_object(c->gate, r->json, len, r->tlp, &red, NULL);
    free(red);
    if (v == TIDE_GATE_WITHHELD || v == TIDE_EPARSE) {
        tide_error_clear();
        return 0;
    }
    int mp = v < 0 ? v : tide_gate_markings_pass(c->gate, r->json, len);
    if (mp <= 0) {
        c->err = mp;
        return mp < 0;
    }
    if (c->spec->n) {
        json_t *o = json_loadb(r->json, len, 0, NULL);
        page_ctx pc = { .spec = c->spec };
        bool ok = json_is_object(o) && spec_ok(&pc, o);
        json_decref(o);
        if (!ok)
            return 0;
    }
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 8;
        char **nm = tide__realloc(c->mods, nc * sizeof *nm);
        if (nm == NULL) {
            c->err = tide_error_set(TIDE_ENOMEM, "out of memory");
            return 1;
        }
        c->mods = nm;
        c->cap = nc;
    }
    if ((c->mods[c->n] = tide__strdup(r->modified)) == NULL) {
        c->err = tide_error_set(TIDE_ENOMEM, "out of memory");
        return 1;
    }
    c->n++;
    return 0;
}

int tide_taxii_delete(tide_workspace *ws, tide_reads *rd, const tide_taxii_query *q, int ceiling,
        tide_target_cb on_export, void *payload, tide_intel_delete_result *out)
{
    if (ws == NULL || rd == NULL || q == NULL || q->object_id == NULL)
        return tide_error_set(TIDE_EINVAL, "no workspace, reads, query or object id");
    filters f;
    int rc = filters_parse(&f, q, true);
    tide_gate *gate = NULL;
    delete_ctx c = { .spec = &f.spec };
    if (rc < 0 || (rc = tide__reads_gate(rd, ceiling, &gate)) < 0)
        goto done;
    c.gate = gate;
    rc = tide__store_added(tide_reads_store(rd), &f.sq, on_delete_row, &c);
    if (rc > 0)
        rc = 0;
    if (rc == 0 && c.err)
        rc = c.err;
    if (rc == 0 && c.n == 0)
        rc = tide_error_set(TIDE_ENOTFOUND, "no object %s", q->object_id);
    if (rc == 0)
        rc = tide_workspace_intel_delete(
                ws, q->object_id, (const char *const *)c.mods, c.n, on_export, payload, out);
done:
    for (size_t i = 0; i < c.n; i++)
        tide__free(c.mods[i]);
    tide__free(c.mods);
    filters_free(&f);
    return rc;
}

/* ---- the sightings collection ---- */

/* the TLP 2.0 marking-definitions, by level */
static const char *const tlp2[] = {
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", /* clear */
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", /* green */
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", /* amber */
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", /* amber+strict */
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", /* red */
};
/* the namespace of the ids tide gives sightings it shares (a UUIDv5 of "tide sightings") */
#define SIGHTING_NS "0b2f6b0e-8c55-5c39-9d6a-6a4c3e1f4f10"

typedef struct {
    int64_t id, added;
    json_t *obj;
} sight;

typedef struct {
    tide_gate *gate;
    int64_t after;
    const list *ids;
    sight *v;
    size_t n, cap;
    int err;
} sight_ctx;

static int on_sighting(const tide_sighting_rec *s, void *payload)
{
    sight_ctx *c = payload;
    if (s->id <= c->after || s->indicator_id == NULL)
        return 0;
    int l = tide_gate_level_of(c->gate, s->indicator_id);
    if (l == TIDE_GATE_NOT_STORED)
        return 0; /* an indicator the store no longer holds counts as red: never shared */
    if (l < 0) {
        c->err = l;
        return 1;
    }
    if (!tide_gate_allows(c->gate, l))
        return 0;
    /* the same host x indicator always gets the same id; the host stays out of it */
    char u[37], org[37];
    tide_uuid5_ctx x;
    if (tide__uuid5_begin(&x, SIGHTING_NS) < 0 ||
            tide__uuid5_add(&x, s->host, strlen(s->host)) < 0 || tide__uuid5_add(&x, "|", 1) < 0 ||
            tide__uuid5_add(&x, s->indicator_id, strlen(s->indicator_id)) < 0 ||
            tide__uuid5_end(&x, u) < 0 || tide__uuid5(SIGHTING_NS, "organisation", 12, org) < 0) {
        c->err = tide_error_set(TIDE_ENOMEM, "sighting id");
        return 1;
    }
    char sid[64], oid[64], first[64], last[64];
    snprintf(sid, sizeof sid, "sighting--%s", u);
    snprintf(oid, sizeof oid, "identity--%s", org);
    for (size_t i = 0; i < c->ids->n; i++)
        if (strcmp(c->ids->v[i], sid) == 0)
            goto keep;
    if (c->ids->n)
        return 0;
keep:
    date_added(s->first_seen, first);
    date_added(s->last_seen, last);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:[s], s:[s]}", "type",
            "sighting", "spec_version", "2.1", "id", sid, "created", first, "modified", last,
            "sighting_of_ref", s->indicator_id, "count",
            (json_int_t)(s->live_count + s->retro_count), "first_seen", first, "last_seen", last,
            "where_sighted_refs", oid, "object_marking_refs", tlp2[l > TIDE_TLP_RED ? 4 : l]);
    if (o == NULL) {
        c->err = tide_error_set(TIDE_ENOMEM, "sighting");
        return 1;
    }
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 64;
        sight *nv = tide__realloc(c->v, nc * sizeof *nv);
        if (nv == NULL) {
            json_decref(o);
            c->err = tide_error_set(TIDE_ENOMEM, "sightings");
            return 1;
        }
        c->v = nv;
        c->cap = nc;
    }
    c->v[c->n++] = (sight){ s->id, s->last_seen, o };
    return 0;
}

static int by_id(const void *a, const void *b)
{
    const sight *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

int tide_read_taxii_sightings(tide_reads *rd, const tide_taxii_query *q, tide_taxii_listing what,
        int ceiling, char **out, int64_t *out_first, int64_t *out_last)
{
    if (rd == NULL || q == NULL || out == NULL)
        return tide_error_set(TIDE_EINVAL, "no reads, query or output");
    *out = NULL;
    if (out_first)
        *out_first = 0;
    if (out_last)
        *out_last = 0;
    if (q->limit < 1)
        return tide_error_set(TIDE_EINVAL, "limit: want 1 or more");
    list ids, types;
    memset(&ids, 0, sizeof ids);
    memset(&types, 0, sizeof types);
    sight_ctx c = { 0 };
    json_t *arr = NULL;
    int rc = 0;
    if (q->next && (rc = parse_next(q->next, &c.after)) < 0)
        goto done;
    if ((rc = split(&ids, "match[id]", q->object_id ? q->object_id : q->match_id)) < 0 ||
            (rc = split(&types, "match[type]", q->match_type)) < 0)
        goto done;
    bool want = types.n == 0;
    for (size_t i = 0; i < types.n; i++)
        want |= strcmp(types.v[i], "sighting") == 0;
    if ((rc = tide__reads_gate(rd, ceiling, &c.gate)) < 0)
        goto done;
    c.ids = &ids;
    tide_sighting_query sq = { 0 };
    sq.since = q->added_after ? q->added_after + 1 : 0; /* the date added is last_seen */
    if (want && (rc = tide_store_sightings(tide_reads_store(rd), &sq, on_sighting, &c)) > 0)
        rc = 0;
    if (rc == 0 && c.err)
        rc = c.err;
    if (rc < 0)
        goto done;
    if (c.n > 0) /* qsort of NULL is undefined even for 0 elements */
        qsort(c.v, c.n, sizeof *c.v, by_id);
    if (q->object_id && c.n == 0 && q->next == NULL) {
        rc = tide_error_set(TIDE_ENOTFOUND, "no object %s", q->object_id);
        goto done;
    }
    arr = json_array();
    size_t k = 0;
    for (; k < c.n && (long)k < q->limit; k++) {
        json_t *o = c.v[k].obj;
        char added[64];
        date_added(c.v[k].added, added);
        json_t *item =
                what == TIDE_TAXII_OBJECTS ? json_incref(o)
                : what == TIDE_TAXII_MANIFEST
                        ? json_pack("{s:O, s:s, s:O, s:s}", "id", json_object_get(o, "id"),
                                  "date_added", added, "version", json_object_get(o, "modified"),
                                  "media_type", "application/stix+json;version=2.1")
                        : json_incref(json_object_get(o, "modified"));
        json_array_append_new(arr, item);
    }
    bool more = k < c.n;
    json_t *o = json_pack("{s:b}", "more", more);
    if (o && more) {
        char tok[48];
        snprintf(tok, sizeof tok, "%lld-%lld", (long long)c.v[k - 1].added,
                (long long)c.v[k - 1].id);
        json_object_set_new(o, "next", json_string(tok));
    }
    if (o && k)
        json_object_set(o, what == TIDE_TAXII_VERSIONS ? "versions" : "objects", arr);
    *out = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (*out == NULL)
        rc = tide_error_set(TIDE_ENOMEM, "taxii page");
    if (k && out_first) {
        *out_first = c.v[0].added;
        *out_last = c.v[k - 1].added;
    }
done:
    json_decref(arr);
    for (size_t i = 0; i < c.n; i++)
        json_decref(c.v[i].obj);
    tide__free(c.v);
    tide__free(ids.buf);
    tide__free(types.buf);
    return rc;
}
