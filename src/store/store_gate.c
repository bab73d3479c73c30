/*
 * store_gate.c - the gate of tide/gate.h bound to a store: what the decision of
 * src/intel/marking.c needs from outside comes from the store, through its public calls only
 * (a custom marking-definition's meaning, the TLP the store keeps for an object, the level of a
 * referenced object), and is cached for the gate's life (one export or share). Also the
 * related-names walk with the gate applied, the names it may affect, and the terms of derived
 * text. A store error is kept and returned by the call that met it; until then the answer is
 * the safe one (an unknown marking, red).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "intel/marking.h"
#include "intel/tlp.h"
#include "tide/gate.h"
#include "tide/store.h"
#include "store/front.h"
#include "util/util.h"

typedef struct {
    int level, name_level; /* TIDE_GATE_NOT_STORED when the store does not hold it */
} obj_levels;

typedef struct {
    char *term;
    int level;
} taint;

struct tide_gate {
    tide_store *store;
    int ceiling;
    tide__mark_resolver r;
    tide_strmap markings; /* marking id -> index into meanings */
    int *meanings;
    size_t nmeanings, capmeanings;
    tide_strmap objects; /* object id -> index into levels */
    obj_levels *levels;
    size_t nlevels, caplevels;
    char *label; /* the last label looked up (borrowed by the resolver's caller) */
    taint *taints;
    size_t ntaints, captaints;
    /* the names one hop from a named object that pass, per object: the walk's second hop */
    tide_strmap hops; /* named object id -> index into hop_names */
    struct hop_list {
        char **names, **types;
        size_t n;
    } * hop_names;
    size_t nhops, caphops;
    int err;             /* the first store error met */
    tide_strmap defs_ok; /* custom marking id -> 1 its definition may pass, 2 not */
};

static void keep_err(tide_gate *g, int rc)
{
    if (rc < 0 && g->err == 0)
        g->err = rc;
}

static int grow(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 64;
    while (c < need)
        c *= 2;
    void *p = tide__realloc(*arr, c * size);
    TIDE_CHECK_ALLOC(p);
    *arr = p;
    *cap = c;
    return 0;
}

/* ---- the resolver ---- */

static int marking_cb(void *payload, const char *id)
{
    tide_gate *g = payload;
    int64_t have = tide__strmap_get(&g->markings, id, strlen(id));
    if (have >= 0)
        return g->meanings[have];
    int m = TIDE__MARK_UNKNOWN;
    char *js = NULL;
    if (g->store != NULL) {
        int rc = tide_store_get(g->store, id, NULL, &js);
        if (rc == 0) {
            m = tide_marking_definition_level(js, strlen(js));
            free(js);
        } else if (rc == TIDE_ENOTFOUND) {
            tide_error_clear();
        } else {
            keep_err(g, rc);
            return TIDE__MARK_UNKNOWN;
        }
    }
    uint32_t idx;
    if (grow((void **)&g->meanings, &g->capmeanings, g->nmeanings + 1, sizeof(int)) < 0 ||
            tide__strmap_put(&g->markings, id, strlen(id), (uint32_t)g->nmeanings, &idx) < 0) {
        keep_err(g, TIDE_ENOMEM);
        return m;
    }
    g->meanings[g->nmeanings++] = m;
    return m;
}

typedef struct {
    const char *id;
    char *tlp;
    bool found;
} label_find;

static int on_label_hit(const tide_search_hit *h, void *payload)
{
    label_find *f = payload;
    if (strcmp(h->id, f->id) != 0)
        return 0; /* a backend that ignores q.id: keep looking */
    f->found = true;
    f->tlp = h->tlp ? tide__strdup(h->tlp) : NULL;
    return 1;
}

static const char *label_cb(void *payload, const char *id)
{
    tide_gate *g = payload;
    tide__free(g->label);
    g->label = NULL;
    if (g->store == NULL || id == NULL)
        return NULL;
    label_find f = { id, NULL, false };
    tide_search_query q = { 0 };
    q.id = id;
    int rc = tide_store_search(g->store, &q, on_label_hit, &f);
    if (rc < 0) {
        keep_err(g, rc);
        g->label = tide__strdup("red"); /* what is safe until the error is reported */
        return g->label;
    }
    g->label = f.tlp;
    return g->label;
}

/* The levels of a stored object, cached; NULL on error (kept). */
static const obj_levels *levels_of(tide_gate *g, const char *id)
{
    static const obj_levels not_stored = { TIDE_GATE_NOT_STORED, TIDE_GATE_NOT_STORED };
    static const obj_levels red = { TIDE_TLP_RED, TIDE_TLP_RED };
    if (id == NULL || g->store == NULL)
        return &not_stored;
    int64_t have = tide__strmap_get(&g->objects, id, strlen(id));
    if (have >= 0)
        return &g->levels[have];
    obj_levels lv = not_stored;
    char *js = NULL;
    int rc = tide_store_get(g->store, id, NULL, &js);
    if (rc == TIDE_ENOTFOUND) {
        tide_error_clear();
    } else if (rc < 0) {
        keep_err(g, rc);
        return &red;
    } else {
        json_t *o = json_loads(js, 0, NULL);
        free(js);
        if (o == NULL) {
            lv = red; /* what cannot be read cannot be judged */
        } else {
            lv.level = tide__mark_object_level(&g->r, o, NULL, false);
            int gl = tide__mark_granular_level(&g->r, o, "name", NULL);
            lv.name_level = gl > lv.level ? gl : lv.level;
            json_decref(o);
        }
    }
    uint32_t idx;
    if (grow((void **)&g->levels, &g->caplevels, g->nlevels + 1, sizeof(obj_levels)) < 0 ||
            tide__strmap_put(&g->objects, id, strlen(id), (uint32_t)g->nlevels, &idx) < 0) {
        keep_err(g, TIDE_ENOMEM);
        return &red;
    }
    g->levels[g->nlevels++] = lv;
    return &g->levels[idx];
}

static int object_cb(void *payload, const char *id)
{
    return levels_of(payload, id)->level;
}

/* ---- the gate ---- */

int tide_gate_new(tide_gate **out, tide_store *store, int ceiling)
{
    *out = NULL;
    if (ceiling < TIDE_TLP_CLEAR || ceiling > TIDE_TLP_RED)
        return tide_error_set(TIDE_EINVAL, "gate: %d is not a TLP level", ceiling);
    tide_gate *g = tide__calloc(1, sizeof(*g));
    TIDE_CHECK_ALLOC(g);
    g->store = store;
    g->ceiling = ceiling;
    g->r = (tide__mark_resolver){ marking_cb, label_cb, object_cb, g };
    *out = g;
    return 0;
}

void tide_gate_free(tide_gate *g)
{
    if (g == NULL)
        return;
    tide__strmap_free(&g->markings);
    tide__strmap_free(&g->objects);
    tide__strmap_free(&g->defs_ok);
    tide__free(g->meanings);
    tide__free(g->levels);
    tide__free(g->label);
    for (size_t i = 0; i < g->ntaints; i++)
        tide__free(g->taints[i].term);
    tide__free(g->taints);
    for (size_t i = 0; i < g->nhops; i++) {
        for (size_t j = 0; j < g->hop_names[i].n; j++) {
            tide__free(g->hop_names[i].names[j]);
            tide__free(g->hop_names[i].types[j]);
        }
        tide__free(g->hop_names[i].names);
        tide__free(g->hop_names[i].types);
    }
    tide__free(g->hop_names);
    tide__strmap_free(&g->hops);
    tide__free(g);
}

int tide_gate_ceiling(const tide_gate *g)
{
    return g->ceiling;
}

bool tide_gate_allows(const tide_gate *g, int level)
{
    return level <= g->ceiling;
}

/* The first error the resolver met, reported once. */
static int take_err(tide_gate *g)
{
    int rc = g->err;
    g->err = 0;
    return rc;
}

int tide_gate_object(
        tide_gate *g, const char *json, size_t len, const char *label, char **out, int *out_level)
{
    *out = NULL;
    if (out_level)
        *out_level = TIDE_TLP_RED;
    json_error_t jerr;
    json_t *o = json_loadb(json, len, 0, &jerr);
    if (o == NULL)
        return tide_error_set(TIDE_EPARSE, "gate: byte %d: %s", jerr.position, jerr.text);
    int level;
    bool changed;
    int v = tide__mark_gate(&g->r, g->ceiling, o, label, label != NULL, &level, &changed);
    int rc = take_err(g);
    if (rc < 0 || v < 0) {
        json_decref(o);
        return rc < 0 ? rc : v;
    }
    if (out_level)
        *out_level = level;
    if (v == TIDE_GATE_REDACTED) {
        *out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (*out == NULL)
            v = tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    json_decref(o);
    return v;
}

int tide_gate_own_marking(tide_gate *g, const char *id, const char *json, size_t len,
        const char *label, const char **out)
{
    *out = NULL;
    /* most objects carry no marking at all: told without parsing them */
    bool any = false;
    for (size_t i = 0; i + 7 <= len && !any; i++)
        any = json[i] == 'm' && memcmp(json + i, "marking", 7) == 0;
    if (any) {
        json_t *o = json_loadb(json, len, 0, NULL);
        if (o == NULL)
            return 0;
        const char *type = json_string_value(json_object_get(o, "type"));
        bool own = (type && strcmp(type, "marking-definition") == 0) ||
                   json_array_size(json_object_get(o, "granular_markings")) > 0;
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(o, "object_marking_refs"), i, v)
        {
            const char *m = json_string_value(v);
            if (m && !own && tide__mark_id(&g->r, m) != TIDE_MARKING_NOT_TLP)
                own = true; /* a TLP marking of its own (an unknown one counts as red) */
        }
        json_decref(o);
        int rc = take_err(g);
        if (rc < 0 || own)
            return rc;
    }
    if (label == NULL) {
        label = g->r.label(g, id);
        int rc = take_err(g);
        if (rc < 0)
            return rc;
    }
    if (label == NULL || *label == '\0' || strcmp(label, TIDE_TLP_UNRESOLVED) == 0)
        return 0; /* unmarked: tide has no TLP of its own to state */
    *out = tide__tlp_marking_id(tide_tlp_name(tide__mark_label_level(label)));
    return 0;
}

/* Whether the stored definition of custom marking id may pass (one not stored: nothing to
 * leak). 1 yes, 0 no, < 0 an error. */
static int definition_passes(tide_gate *g, const char *id)
{
    int64_t have = tide__strmap_get(&g->defs_ok, id, strlen(id));
    if (have > 0)
        return have == 1;
    char *js = NULL;
    int ok = 1;
    int rc = g->store ? tide_store_get(g->store, id, NULL, &js) : TIDE_ENOTFOUND;
    if (rc == TIDE_ENOTFOUND) {
        tide_error_clear();
    } else if (rc < 0) {
        return rc;
    } else {
        char *red = NULL;
        int v = tide_gate_object(g, js, strlen(js), "clear", &red, NULL);
        free(js);
        free(red);
        if (v < 0)
            return v;
        ok = v != TIDE_GATE_WITHHELD;
    }
    if (tide__strmap_put(&g->defs_ok, id, strlen(id), ok ? 1 : 2, NULL) < 0)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    return ok;
}

int tide_gate_markings_pass(tide_gate *g, const char *json, size_t len)
{
    json_t *o = json_loadb(json, len, 0, NULL);
    if (o == NULL)
        return tide_error_set(TIDE_EPARSE, "gate: not a JSON object");
    int rc = 1;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(o, "object_marking_refs"), i, v)
    {
        const char *m = json_string_value(v);
        if (rc == 1 && m && tide__tlp_name_from_marking(m) == NULL)
            rc = definition_passes(g, m);
    }
    json_array_foreach(json_object_get(o, "granular_markings"), i, v)
    {
        const char *m = json_string_value(json_object_get(v, "marking_ref"));
        if (rc == 1 && m && tide__tlp_name_from_marking(m) == NULL)
            rc = definition_passes(g, m);
    }
    json_decref(o);
    return rc;
}

int tide_gate_level_of(tide_gate *g, const char *id)
{
    int l = levels_of(g, id)->level;
    int rc = take_err(g);
    return rc < 0 ? rc : l;
}

int tide_gate_name_level_of(tide_gate *g, const char *id)
{
    int l = levels_of(g, id)->name_level;
    int rc = take_err(g);
    return rc < 0 ? rc : l;
}

int tide_gate_indicator_level(tide_gate *g, const char *id, const char *label)
{
    if (label == NULL || *label == '\0')
        return TIDE_TLP_UNMARKED;
    int l = tide_tlp_parse(label);
    if (l >= 0)
        return l; /* ingest folds a granular marking of the pattern into the label */
    /* unresolved at ingest: its markings through the store now */
    char *js = NULL;
    int rc = g->store ? tide_store_get(g->store, id, NULL, &js) : TIDE_ENOTFOUND;
    if (rc == TIDE_ENOTFOUND) {
        tide_error_clear();
        return TIDE_TLP_RED;
    }
    TIDE_CHECK(rc);
    json_t *o = json_loads(js, 0, NULL);
    free(js);
    if (o == NULL)
        return TIDE_TLP_RED;
    l = tide__mark_object_level(&g->r, o, label, true);
    int gl = tide__mark_granular_level(&g->r, o, "pattern", NULL);
    json_decref(o);
    rc = take_err(g);
    if (rc < 0)
        return rc;
    return gl > l ? gl : l;
}

/* ---- related names ---- */

static bool named_type(const char *t)
{
    return t &&
           (strcmp(t, "campaign") == 0 || strcmp(t, "malware") == 0 || strcmp(t, "tool") == 0 ||
                   strcmp(t, "intrusion-set") == 0 || strcmp(t, "threat-actor") == 0);
}

typedef struct {
    char *rel_id, *other_id, *other_type, *other_name;
} rel;

typedef struct {
    rel *v;
    size_t n, cap;
    int rc;
} rels;

static int on_rel(const tide_relation *r, void *payload)
{
    rels *l = payload;
    if (!named_type(r->other_type) || r->other_name == NULL || *r->other_name == '\0')
        return 0;
    if (grow((void **)&l->v, &l->cap, l->n + 1, sizeof(rel)) < 0)
        return l->rc = TIDE_ENOMEM;
    rel *x = &l->v[l->n];
    x->rel_id = tide__strdup(r->rel_id);
    x->other_id = tide__strdup(r->other_id);
    x->other_type = tide__strdup(r->other_type);
    x->other_name = tide__strdup(r->other_name);
    l->n++;
    if (!x->rel_id || !x->other_id || !x->other_type || !x->other_name)
        return l->rc = tide_error_set(TIDE_ENOMEM, "out of memory");
    return 0;
}

static void rels_free(rels *l)
{
    for (size_t i = 0; i < l->n; i++) {
        tide__free(l->v[i].rel_id);
        tide__free(l->v[i].other_id);
        tide__free(l->v[i].other_type);
        tide__free(l->v[i].other_name);
    }
    tide__free(l->v);
}

/* Whether the reference r (its stating object) and the named object at its other end (its
 * name) may pass. */
static bool rel_passes(tide_gate *g, const rel *r)
{
    const char *bar = strchr(r->rel_id, '|');
    int l;
    if (bar != NULL) {
        /* stated by a container's object_refs ...: the container's level */
        char *c = tide__strndup(r->rel_id, (size_t)(bar - r->rel_id));
        if (c == NULL) {
            keep_err(g, TIDE_ENOMEM);
            return false;
        }
        l = levels_of(g, c)->level;
        tide__free(c);
    } else {
        l = levels_of(g, r->rel_id)->level;
    }
    if (l > g->ceiling)
        return false;
    return levels_of(g, r->other_id)->name_level <= g->ceiling;
}

typedef struct {
    tide_strmap seen;
    int (*cb)(const char *name, const char *type, void *payload);
    void *payload;
} name_out;

static int emit_name(name_out *o, const char *name, const char *type)
{
    int ins = tide__strmap_put(&o->seen, name, strlen(name), 0, NULL);
    if (ins <= 0)
        return ins;
    return o->cb(name, type, o->payload);
}

/* The second hop from named object id: the names at the other end of its references that
 * pass, computed once per gate. NULL on error. */
static const struct hop_list *second_hop(tide_gate *g, const char *id, int *rc)
{
    int64_t have = tide__strmap_get(&g->hops, id, strlen(id));
    if (have >= 0)
        return &g->hop_names[have];
    rels l = { 0 };
    *rc = tide__store_related_named(g->store, id, on_rel, &l);
    if (*rc == 0)
        *rc = l.rc;
    struct hop_list h = { NULL, NULL, 0 };
    if (*rc == 0 && l.n > 0) {
        h.names = tide__calloc(l.n, sizeof(char *));
        h.types = tide__calloc(l.n, sizeof(char *));
        if (h.names == NULL || h.types == NULL)
            *rc = tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < l.n && *rc == 0; i++) {
        if (!rel_passes(g, &l.v[i]))
            continue;
        h.names[h.n] = l.v[i].other_name; /* moved */
        h.types[h.n] = l.v[i].other_type;
        l.v[i].other_name = l.v[i].other_type = NULL;
        h.n++;
    }
    rels_free(&l);
    uint32_t idx = 0;
    if (*rc == 0)
        *rc = grow((void **)&g->hop_names, &g->caphops, g->nhops + 1, sizeof(struct hop_list));
    if (*rc == 0)
        *rc = tide__strmap_put(&g->hops, id, strlen(id), (uint32_t)g->nhops, &idx);
    if (*rc < 0) {
        for (size_t i = 0; i < h.n; i++) {
            tide__free(h.names[i]);
            tide__free(h.types[i]);
        }
        tide__free(h.names);
        tide__free(h.types);
        return NULL;
    }
    *rc = 0;
    g->hop_names[g->nhops++] = h;
    return &g->hop_names[idx];
}

int tide_gate_related_names(tide_gate *g, const char *id,
        int (*cb)(const char *name, const char *type, void *payload), void *payload)
{
    if (g->store == NULL)
        return 0;
    rels first = { 0 };
    name_out o = { TIDE_STRMAP_INIT, cb, payload };
    int rc = tide__store_related_named(g->store, id, on_rel, &first);
    if (rc == 0)
        rc = first.rc;
    for (size_t i = 0; i < first.n && rc == 0; i++) {
        if (!rel_passes(g, &first.v[i]))
            continue;
        if ((rc = emit_name(&o, first.v[i].other_name, first.v[i].other_type)) != 0)
            break;
        const struct hop_list *h = second_hop(g, first.v[i].other_id, &rc);
        for (size_t j = 0; h != NULL && j < h->n && rc == 0; j++)
            rc = emit_name(&o, h->names[j], h->types[j]);
    }
    rels_free(&first);
    tide__strmap_free(&o.seen);
    int e = take_err(g);
    return rc != 0 ? rc : e;
}

typedef struct {
    tide_gate *g;
    int (*cb)(const char *name, void *payload);
    void *payload;
    int rc;
    char **ends; /* relationships above the ceiling: their ends, checked once the search is over */
    size_t nends, capends;
} restricted;

static int on_named_hit(const tide_search_hit *h, void *payload)
{
    restricted *x = payload;
    if (h->name == NULL || *h->name == '\0')
        return 0;
    int l = tide_gate_name_level_of(x->g, h->id);
    if (l < 0 && l != TIDE_GATE_NOT_STORED)
        return x->rc = l;
    if (l > x->g->ceiling)
        return x->cb(h->name, x->payload);
    return 0;
}

static int on_rel_hit(const tide_search_hit *h, void *payload)
{
    restricted *x = payload;
    int l = tide_tlp_parse(h->tlp ? h->tlp : "");
    if (h->tlp == NULL || *h->tlp == '\0')
        l = TIDE_TLP_UNMARKED;
    if (l >= 0 && l <= x->g->ceiling)
        return 0; /* the label says it passes: no need to read it */
    if (grow((void **)&x->ends, &x->capends, x->nends + 1, sizeof(char *)) < 0 ||
            (x->ends[x->nends] = tide__strdup(h->id)) == NULL)
        return x->rc = tide_error_set(TIDE_ENOMEM, "out of memory");
    x->nends++;
    return 0;
}

/* The names of the named objects at the ends of relationship id, when it is above the
 * ceiling. */
static int restricted_ends(restricted *x, const char *id)
{
    int l = tide_gate_level_of(x->g, id);
    if (l < 0 && l != TIDE_GATE_NOT_STORED)
        return l;
    if (l <= x->g->ceiling)
        return 0;
    char *js = NULL;
    int rc = tide_store_get(x->g->store, id, NULL, &js);
    if (rc == TIDE_ENOTFOUND) {
        tide_error_clear();
        return 0;
    }
    TIDE_CHECK(rc);
    json_t *o = json_loads(js, 0, NULL);
    free(js);
    const char *ends[2] = { json_string_value(json_object_get(o, "source_ref")),
        json_string_value(json_object_get(o, "target_ref")) };
    for (int i = 0; i < 2 && rc == 0; i++) {
        const char *e = ends[i];
        const char *dd = e ? strstr(e, "--") : NULL;
        if (dd == NULL)
            continue;
        char type[32];
        size_t tl = (size_t)(dd - e);
        if (tl >= sizeof(type))
            continue;
        memcpy(type, e, tl);
        type[tl] = '\0';
        if (!named_type(type))
            continue;
        char *ejs = NULL;
        int r2 = tide_store_get(x->g->store, e, NULL, &ejs);
        if (r2 == TIDE_ENOTFOUND) {
            tide_error_clear();
            continue;
        }
        if (r2 < 0) {
            rc = r2;
            break;
        }
        json_t *eo = json_loads(ejs, 0, NULL);
        free(ejs);
        const char *name = json_string_value(json_object_get(eo, "name"));
        if (name && *name)
            rc = x->cb(name, x->payload);
        json_decref(eo);
    }
    json_decref(o);
    return rc;
}

int tide_gate_restricted_names(
        tide_gate *g, int (*cb)(const char *name, void *payload), void *payload)
{
    if (g->store == NULL || g->ceiling >= TIDE_TLP_RED)
        return 0;
    static const char *const types[] = { "campaign", "malware", "tool", "intrusion-set",
        "threat-actor" };
    restricted x = { g, cb, payload, 0, NULL, 0, 0 };
    int rc = 0;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]) && rc == 0; i++) {
        tide_search_query q = { 0 };
        q.type = types[i];
        rc = tide_store_search(g->store, &q, on_named_hit, &x);
        if (rc == 0 && x.rc)
            rc = x.rc;
    }
    if (rc == 0) {
        tide_search_query q = { 0 };
        q.type = "relationship";
        rc = tide_store_search(g->store, &q, on_rel_hit, &x);
        if (rc == 0 && x.rc)
            rc = x.rc;
    }
    for (size_t i = 0; i < x.nends; i++) {
        if (rc == 0)
            rc = restricted_ends(&x, x.ends[i]);
        tide__free(x.ends[i]);
    }
    tide__free(x.ends);
    int e = take_err(g);
    return rc != 0 ? rc : e;
}

/* ---- derived text ---- */

int tide_gate_taint(tide_gate *g, const char *term, int level)
{
    if (term == NULL || *term == '\0')
        return 0;
    for (size_t i = 0; i < g->ntaints; i++)
        if (strcasecmp(g->taints[i].term, term) == 0) {
            if (level > g->taints[i].level)
                g->taints[i].level = level;
            return 0;
        }
    TIDE_CHECK(grow((void **)&g->taints, &g->captaints, g->ntaints + 1, sizeof(taint)));
    TIDE_CHECK_ALLOC(g->taints[g->ntaints].term = tide__strdup(term));
    g->taints[g->ntaints++].level = level;
    return 0;
}

/* Whether text contains term, ignoring ASCII case. */
static bool contains_ci(const char *text, const char *term)
{
    size_t n = strlen(term);
    for (const char *p = text; *p; p++)
        if (strncasecmp(p, term, n) == 0)
            return true;
    return false;
}

int tide_gate_text_level(const tide_gate *g, const char *text, int base)
{
    int level = base;
    if (text == NULL)
        return level;
    for (size_t i = 0; i < g->ntaints; i++)
        if (g->taints[i].level > level && contains_ci(text, g->taints[i].term))
            level = g->taints[i].level;
    return level;
}
