/*
 * stix.c - STIX 2.1 bundle writer: the current version of every selected indicator, as
 * stored, plus the objects one relationship away (the relationships themselves and the
 * campaigns, malware, actors ... at their other end, the containers that refer to it), each
 * object once. Objects are copied from the store as JSON text and the bundle is streamed.
 * Under --tlp-max every object goes through the gate (tide/gate.h): withheld, or written with
 * what is marked above the ceiling removed. The bundle is self-contained: every
 * marking-definition a written object refers to (object_marking_refs, granular_markings) is
 * in it, the TLP 1.0 / 2.0 ones as their official objects (intel/tlp.h), the custom ones
 * (statements ...) as stored, through the gate too, with the markings they refer to in turn.
 * An object without a TLP marking of its own but with a TLP the store keeps for it (ingest
 * --tlp) is written with the TLP 2.0 marking of that level (tide_gate_own_marking), so its
 * TLP travels with it.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "export/export_int.h"
#include "intel/tlp.h"

typedef struct {
    char **ids;
    size_t n, cap;
} idlist;

static int push(idlist *l, const char *id)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 16;
        char **nv = tide__realloc(l->ids, nc * sizeof(char *));
        TIDE_CHECK_ALLOC(nv);
        l->ids = nv;
        l->cap = nc;
    }
    TIDE_CHECK_ALLOC(l->ids[l->n] = tide__strdup(id));
    l->n++;
    return 0;
}

/* Pairs: the relationship's id ("" for a reference a container states: the container is the
 * other end), then the object at its other end. */
static int rel_cb(const tide_relation *r, void *payload)
{
    idlist *l = payload;
    TIDE_CHECK(push(l, strchr(r->rel_id, '|') == NULL ? r->rel_id : ""));
    return push(l, r->other_id);
}

typedef struct {
    tide__exp *x;
    FILE *f;
    tide_strmap done;  /* id -> 1 written, 2 withheld */
    tide_strmap marks; /* the marking-definitions the written objects refer to ... */
    idlist mlist;      /* ... in the order met */
    tide_gate *own;    /* x->gate, or a gate of its own for the markings tide adds */
    long n;
} stix_ctx;

enum {
    WRITTEN = 1,
    WITHHELD = 2
};

static int note_marking(stix_ctx *c, const char *id)
{
    if (id == NULL || tide__strmap_get(&c->marks, id, strlen(id)) >= 0)
        return 0;
    if (tide__strmap_put(&c->marks, id, strlen(id), 0, NULL) < 0)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    return push(&c->mlist, id);
}

/* Note the marking-definitions js refers to: they go into the bundle after the objects, so
 * that a consumer can resolve every reference. */
static int note_markings(stix_ctx *c, const char *js)
{
    if (strstr(js, "marking-definition--") == NULL)
        return 0;
    json_t *o = json_loads(js, 0, NULL);
    size_t i;
    json_t *v, *g;
    int rc = 0;
    json_array_foreach(json_object_get(o, "object_marking_refs"), i, v)
    {
        if (rc == 0)
            rc = note_marking(c, json_string_value(v));
    }
    json_array_foreach(json_object_get(o, "granular_markings"), i, g)
    {
        if (rc == 0)
            rc = note_marking(c, json_string_value(json_object_get(g, "marking_ref")));
    }
    json_decref(o);
    return rc;
}

/* js with marking id added to its object_marking_refs (js is freed, or returned). */
static char *add_marking(char *js, const char *id)
{
    char *out = NULL;
    if (strstr(js, "\"object_marking_refs\"") == NULL) {
        /* the common case (no marking at all): spliced in before the closing brace */
        char *end = strrchr(js, '}');
        if (end == NULL)
            return js;
        size_t head = (size_t)(end - js), n = head + strlen(id) + 64 + strlen(end);
        if ((out = tide__malloc(n)) == NULL)
            return NULL;
        bool empty = true;
        for (size_t i = 1; i < head && empty; i++)
            empty = js[i] == ' ' || js[i] == '\n' || js[i] == '\t' || js[i] == '\r';
        snprintf(out, n, "%.*s%s\"object_marking_refs\":[\"%s\"]%s", (int)head, js,
                empty ? "" : ",", id, end);
    } else {
        json_t *o = json_loads(js, 0, NULL);
        json_t *a = json_object_get(o, "object_marking_refs");
        if (o == NULL || !json_is_array(a)) {
            json_decref(o);
            return js;
        }
        json_array_append_new(a, json_string(id));
        out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
        if (out == NULL)
            return NULL;
    }
    free(js);
    return out;
}

/* Write object id once, through the gate when there is a ceiling (label: the TLP the store
 * keeps for it, "" when unmarked, NULL to look it up). 1 written (now or before), 0 not
 * (not stored, or withheld), < 0 an error. */
static int emit(stix_ctx *c, const char *id, const char *label)
{
    int64_t have = tide__strmap_get(&c->done, id, strlen(id));
    if (have >= 0)
        return have == WRITTEN;
    char *js = NULL;
    int rc = tide_store_get(c->x->store, id, NULL, &js);
    if (rc == TIDE_ENOTFOUND) {
        tide_error_clear();
        return tide__strmap_put(&c->done, id, strlen(id), WITHHELD, NULL) < 0 ? TIDE_ENOMEM : 0;
    }
    TIDE_CHECK(rc);
    if (c->x->gate != NULL) {
        char *redacted = NULL;
        int v = tide_gate_object(c->x->gate, js, strlen(js), label, &redacted, NULL);
        if (v < 0 || v == TIDE_GATE_WITHHELD) {
            free(js);
            if (v < 0)
                return v;
            return tide__strmap_put(&c->done, id, strlen(id), WITHHELD, NULL) < 0 ? TIDE_ENOMEM : 0;
        }
        if (redacted != NULL) {
            free(js);
            js = redacted;
        }
        /* a definition it refers to marked above the ceiling: it cannot leave complete */
        if (strstr(js, "marking-definition--") != NULL &&
                (v = tide_gate_markings_pass(c->x->gate, js, strlen(js))) <= 0) {
            free(js);
            if (v < 0)
                return v;
            return tide__strmap_put(&c->done, id, strlen(id), WITHHELD, NULL) < 0 ? TIDE_ENOMEM : 0;
        }
    }
    /* the TLP the store keeps for it, when it carries none of its own */
    const char *mine = NULL;
    if ((rc = tide_gate_own_marking(c->own, id, js, strlen(js), label, &mine)) < 0) {
        free(js);
        return rc;
    }
    if (mine != NULL && (js = add_marking(js, mine)) == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    if ((rc = note_markings(c, js)) < 0) {
        free(js);
        return rc;
    }
    fprintf(c->f, "%s\n%s", c->n ? "," : "", js);
    free(js);
    c->n++;
    return tide__strmap_put(&c->done, id, strlen(id), WRITTEN, NULL) < 0 ? TIDE_ENOMEM : 1;
}

/* The marking-definitions the written objects refer to: the TLP ones as published, the custom
 * ones as stored (a definition carries no intel; one marked above the ceiling itself is
 * withheld), with the markings those refer to in turn. */
static int emit_markings(stix_ctx *c)
{
    for (size_t i = 0; i < c->mlist.n; i++) {
        const char *id = c->mlist.ids[i];
        const char *official = tide__tlp_marking_json(id);
        if (official == NULL) {
            int r = emit(c, id, "clear");
            if (r < 0)
                return r;
            continue;
        }
        if (tide__strmap_get(&c->done, id, strlen(id)) >= 0)
            continue;
        fprintf(c->f, "%s\n%s", c->n ? "," : "", official);
        c->n++;
        if (tide__strmap_put(&c->done, id, strlen(id), WRITTEN, NULL) < 0)
            return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    return 0;
}

int tide__exp_stix(tide__exp *x)
{
    tide__exp_file f;
    TIDE_CHECK(tide__exp_open(x, NULL, &f));
    char uuid[37];
    int rc = tide__uuid4(uuid);
    fprintf(f.f, "{\"type\":\"bundle\",\"id\":\"bundle--%s\",\"objects\":[", uuid);
    stix_ctx c = { .x = x, .f = f.f, .done = TIDE_STRMAP_INIT, .marks = TIDE_STRMAP_INIT };
    c.own = x->gate;
    tide_gate *own = NULL;
    if (rc == 0 && c.own == NULL && (rc = tide_gate_new(&own, x->store, TIDE_TLP_RED)) == 0)
        c.own = own;
    idlist rel = { 0 };
    for (size_t i = 0; i < x->n && rc == 0; i++) {
        const char *id = EXP_S(x, x->v[i].id);
        bool first = tide__strmap_get(&c.done, id, strlen(id)) < 0;
        /* the selected indicator: its scan label decided its selection, the gate the rest */
        int w = emit(&c, id, EXP_S(x, x->v[i].tlp));
        if (w < 0) {
            rc = w;
            break;
        }
        if (w == 0) {
            tide__exp_skip(x, TIDE_EXPORT_SKIP_TLP, &x->v[i], "withheld by its markings");
            continue;
        }
        x->sum->written++;
        if (!first)
            continue;
        for (size_t j = 0; j < rel.n; j++)
            tide__free(rel.ids[j]);
        rel.n = 0;
        if ((rc = tide_store_related(x->store, id, rel_cb, &rel)) < 0)
            break;
        /* the object at the other end only with the relationship that links it (a
         * relationship withheld would leave it there unexplained, and say it all the same) */
        for (size_t j = 0; j + 1 < rel.n && rc == 0; j += 2) {
            int r2 = rel.ids[j][0] ? emit(&c, rel.ids[j], NULL) : 1;
            if (r2 > 0)
                r2 = emit(&c, rel.ids[j + 1], NULL);
            rc = r2 < 0 ? r2 : 0;
        }
    }
    if (rc == 0)
        rc = emit_markings(&c);
    for (size_t j = 0; j < rel.n; j++)
        tide__free(rel.ids[j]);
    tide__free(rel.ids);
    tide__strmap_free(&c.done);
    tide__strmap_free(&c.marks);
    for (size_t j = 0; j < c.mlist.n; j++)
        tide__free(c.mlist.ids[j]);
    tide__free(c.mlist.ids);
    tide_gate_free(own);
    fprintf(f.f, "]}\n");
    int crc = tide__exp_close(&f, rc == 0);
    return rc < 0 ? rc : crc;
}
