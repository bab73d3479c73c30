/*
 * marking.c - what STIX data markings mean for sharing, and the gate's decision on one object
 * (the rules are at the top of include/tide/gate.h): the level of a marking-definition, of a
 * list of markings (the most restrictive wins), of an object, and the decision itself, which
 * removes or redacts what granular markings and references above the ceiling select. Works on
 * a jansson object in place and calls no store: what it needs from outside comes through
 * the resolver (marking.h).
 */
#include "intel/marking.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "intel/tlp.h"
#include "tide/errors.h"
#include "tide/tlp.h"
#include "util/util.h"

#define REDACTED  "REDACTED"
#define MAX_DEPTH 32 /* steps of a selector */

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int max_i(int a, int b)
{
    return a > b ? a : b;
}

/* ------------------------------------------------------------------ markings */

/* Level of a TLP value in a definition ("red", "TLP:RED", "white" ...); red when not one. */
static int tlp_value(json_t *v)
{
    int l = json_is_string(v) ? tide_tlp_parse(json_string_value(v)) : -1;
    return l < 0 ? TIDE_TLP_RED : l;
}

int tide__mark_definition(json_t *md)
{
    if (!json_is_object(md))
        return TIDE_TLP_RED;
    const char *std = tide__tlp_name_from_marking(jstr(md, "id"));
    if (std != NULL)
        return tide_tlp_parse(std); /* the TLP 1.0 / 2.0 ids mean what STIX says they mean */
    int level = -1;
    bool tlp = false;
    const char *k;
    json_t *v;
    /* TLP 2.0 style: a property extension with "tlp_2_0" */
    json_object_foreach(json_object_get(md, "extensions"), k, v)
    {
        json_t *t = json_object_get(v, "tlp_2_0");
        if (t != NULL) {
            level = max_i(level, tlp_value(t));
            tlp = true;
        }
    }
    /* TLP 1.0 style: definition_type "tlp", definition {"tlp": "red"} (any case) */
    const char *dt = jstr(md, "definition_type");
    if (dt != NULL && strcasecmp(dt, "tlp") == 0) {
        bool found = false;
        json_object_foreach(json_object_get(md, "definition"), k, v)
        {
            if (strcasecmp(k, "tlp") == 0) {
                level = max_i(level, tlp_value(v));
                found = true;
            }
        }
        if (!found)
            level = TIDE_TLP_RED; /* a TLP definition that says no level */
        tlp = true;
    }
    if (tlp)
        return level;
    if (dt != NULL && (strcasecmp(dt, "statement") == 0 || strcasecmp(dt, "pap") == 0))
        return TIDE_MARKING_NOT_TLP; /* copyright / terms, permissible actions: no disclosure
                                        limit */
    if (dt == NULL && json_object_get(md, "extensions") == NULL) {
        const char *name = jstr(md, "name");
        int l = name && strncasecmp(name, "tlp:", 4) == 0 ? tide_tlp_parse(name) : -1;
        if (l >= 0)
            return l;
    }
    return TIDE_TLP_RED; /* a marking tide cannot interpret */
}

int tide_marking_definition_level(const char *json, size_t len)
{
    json_t *md = json ? json_loadb(json, len, 0, NULL) : NULL;
    int l = tide__mark_definition(md);
    json_decref(md);
    return l;
}

int tide__mark_id(const tide__mark_resolver *r, const char *id)
{
    if (id == NULL)
        return TIDE_TLP_RED; /* not a marking id at all */
    const char *std = tide__tlp_name_from_marking(id);
    if (std != NULL)
        return tide_tlp_parse(std);
    if (r == NULL || r->marking == NULL)
        return TIDE__MARK_UNKNOWN;
    return r->marking(r->payload, id);
}

/* Level under a ceiling of one marking's meaning: -1 for none, red for unknown. */
static int meaning_level(int m, bool *unresolved)
{
    if (m == TIDE__MARK_UNKNOWN) {
        if (unresolved)
            *unresolved = true;
        return TIDE_TLP_RED;
    }
    if (m == TIDE_MARKING_NOT_TLP)
        return -1;
    return m >= TIDE_TLP_CLEAR && m <= TIDE_TLP_RED ? m : TIDE_TLP_RED;
}

int tide__mark_ids_level(
        const tide__mark_resolver *r, const char *const *ids, size_t n, bool *unresolved)
{
    int level = -1;
    for (size_t i = 0; i < n; i++)
        level = max_i(level, meaning_level(tide__mark_id(r, ids[i]), unresolved));
    return level;
}

/* The same over a JSON array of ids; an element that is not a string counts as red. */
static int refs_level(const tide__mark_resolver *r, json_t *refs, bool *unresolved)
{
    int level = -1;
    size_t i;
    json_t *v;
    json_array_foreach(refs, i, v)
    {
        const char *id = json_string_value(v);
        level = max_i(level, id ? meaning_level(tide__mark_id(r, id), unresolved) : TIDE_TLP_RED);
    }
    return level;
}

int tide__mark_label_level(const char *label)
{
    if (label == NULL || *label == '\0')
        return TIDE_TLP_UNMARKED;
    int l = tide_tlp_parse(label);
    if (l >= 0)
        return l;
    size_t n = strlen(TIDE_TLP_UNRESOLVED);
    if (strncmp(label, TIDE_TLP_UNRESOLVED, n) == 0) {
        if (label[n] == '\0')
            return TIDE_TLP_UNMARKED;
        if (label[n] == '/') {
            l = tide_tlp_parse(label + n + 1);
            return l >= 0 ? l : TIDE_TLP_RED;
        }
    }
    return TIDE_TLP_RED;
}

int tide__mark_object_level(
        const tide__mark_resolver *r, json_t *obj, const char *label, bool label_given)
{
    int level = refs_level(r, json_object_get(obj, "object_marking_refs"), NULL);
    if (level >= 0)
        return level;
    const char *type = jstr(obj, "type");
    if (type != NULL && strcmp(type, "marking-definition") == 0) {
        int d = tide__mark_definition(obj);
        if (d >= 0)
            return d; /* a TLP definition is at the level it defines */
    }
    if (!label_given)
        label = r && r->label ? r->label(r->payload, jstr(obj, "id")) : NULL;
    return tide__mark_label_level(label);
}

/* Whether selector s selects prop or something inside it. */
static bool selects(const char *s, const char *prop)
{
    size_t n = strlen(prop);
    return strncmp(s, prop, n) == 0 && (s[n] == '\0' || s[n] == '.');
}

int tide__mark_granular_level(
        const tide__mark_resolver *r, json_t *obj, const char *prop, bool *unresolved)
{
    int level = -1;
    size_t i, j;
    json_t *g, *s;
    json_array_foreach(json_object_get(obj, "granular_markings"), i, g)
    {
        const char *ref = jstr(g, "marking_ref");
        if (ref == NULL)
            continue; /* a language marking */
        bool unknown = false;
        int l = meaning_level(tide__mark_id(r, ref), &unknown);
        if (l < 0 || (l <= level && !unknown))
            continue;
        json_array_foreach(json_object_get(g, "selectors"), j, s)
        {
            if (json_is_string(s) && selects(json_string_value(s), prop)) {
                level = l > level ? l : level;
                if (unknown && unresolved)
                    *unresolved = true;
                break;
            }
        }
    }
    return level;
}

/* ------------------------------------------------------------------ the gate */

/* What may go, by property: a top-level property whose absence would make the object
 * invalid or change its meaning withholds the object when it must go; a required text is
 * replaced instead. */
static const char *const always_keep[] = { "type", "id", "spec_version", "created", "modified",
    "object_marking_refs", "granular_markings", "revoked", "valid_until", "value", NULL };

static const struct {
    const char *type, *prop;
} required[] = {
    { "indicator", "pattern" },
    { "indicator", "pattern_type" },
    { "indicator", "valid_from" },
    { "relationship", "relationship_type" },
    { "relationship", "source_ref" },
    { "relationship", "target_ref" },
    { "sighting", "sighting_of_ref" },
    { "report", "published" },
    { "report", "object_refs" },
    { "grouping", "context" },
    { "grouping", "object_refs" },
    { "note", "object_refs" },
    { "opinion", "opinion" },
    { "opinion", "object_refs" },
    { "observed-data", "first_observed" },
    { "observed-data", "last_observed" },
    { "observed-data", "number_observed" },
    { "malware", "is_family" },
};

static const struct {
    const char *type, *prop;
} redactable[] = {
    { "attack-pattern", "name" },
    { "campaign", "name" },
    { "course-of-action", "name" },
    { "identity", "name" },
    { "infrastructure", "name" },
    { "intrusion-set", "name" },
    { "malware", "name" },
    { "report", "name" },
    { "threat-actor", "name" },
    { "tool", "name" },
    { "vulnerability", "name" },
    { "note", "content" },
    { "malware-analysis", "product" },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static bool is_always_keep(const char *prop)
{
    for (size_t i = 0; always_keep[i]; i++)
        if (strcmp(prop, always_keep[i]) == 0)
            return true;
    return false;
}

static bool is_required(const char *type, const char *prop)
{
    for (size_t i = 0; i < N(required); i++)
        if (strcmp(type, required[i].type) == 0 && strcmp(prop, required[i].prop) == 0)
            return true;
    return false;
}

static bool is_redactable(const char *type, const char *prop)
{
    for (size_t i = 0; i < N(redactable); i++)
        if (strcmp(type, redactable[i].type) == 0 && strcmp(prop, redactable[i].prop) == 0)
            return true;
    return false;
}

/* One step of a path: a member of an object or an element of an array. */
typedef struct {
    json_t *parent;
    const char *key; /* member (into the parent's key storage), or NULL */
    size_t idx;      /* element, when key is NULL */
} step;

typedef struct {
    json_t *parent; /* held (incref'd) until the removals are done */
    char *key;      /* member to delete, or NULL */
    size_t idx;     /* element to remove, when key is NULL */
} removal;

typedef struct {
    removal *v;
    size_t n, cap;
    const char *redact[8]; /* top-level properties to replace by REDACTED */
    size_t nredact;
    bool withhold;
    int err;
} plan;

static bool same_step(const removal *m, const step *s)
{
    if (m->parent != s->parent)
        return false;
    if (m->key != NULL || s->key != NULL)
        return m->key != NULL && s->key != NULL && strcmp(m->key, s->key) == 0;
    return m->idx == s->idx;
}

static void plan_remove(plan *p, const step *s)
{
    for (size_t i = 0; i < p->n; i++)
        if (same_step(&p->v[i], s))
            return;
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 8;
        removal *nv = tide__realloc(p->v, nc * sizeof(*nv));
        if (nv == NULL) {
            p->err = tide_error_set(TIDE_ENOMEM, "out of memory");
            return;
        }
        p->v = nv;
        p->cap = nc;
    }
    removal *m = &p->v[p->n];
    m->key = NULL;
    if (s->key != NULL && (m->key = tide__strdup(s->key)) == NULL) {
        p->err = tide_error_set(TIDE_ENOMEM, "out of memory");
        return;
    }
    m->parent = json_incref(s->parent);
    m->idx = s->idx;
    p->n++;
}

static void plan_redact(plan *p, const char *prop)
{
    for (size_t i = 0; i < p->nredact; i++)
        if (strcmp(p->redact[i], prop) == 0)
            return;
    if (p->nredact < N(p->redact))
        p->redact[p->nredact++] = prop;
    else
        p->withhold = true;
}

static void plan_free(plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        json_decref(p->v[i].parent);
        tide__free(p->v[i].key);
    }
    tide__free(p->v);
}

/* Resolve selector sel on obj into steps (at most MAX_DEPTH); 0 when it selects nothing
 * (a selector into something absent, or not of STIX's form "a.b.[0].c"). */
static size_t resolve(json_t *obj, const char *sel, step *steps)
{
    size_t d = 0;
    json_t *cur = obj;
    const char *p = sel;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n == 0 || d == MAX_DEPTH)
            return 0;
        if (p[0] == '[') {
            if (!json_is_array(cur) || n < 3 || p[n - 1] != ']')
                return 0;
            size_t idx = 0;
            for (size_t i = 1; i + 1 < n; i++) {
                if (p[i] < '0' || p[i] > '9' || idx > 100000000)
                    return 0;
                idx = idx * 10 + (size_t)(p[i] - '0');
            }
            if (idx >= json_array_size(cur))
                return 0;
            steps[d] = (step){ cur, NULL, idx };
            cur = json_array_get(cur, idx);
        } else {
            if (!json_is_object(cur))
                return 0;
            /* the key as the object stores it (its storage outlives the planning) */
            const char *k;
            json_t *v, *found = NULL;
            const char *fk = NULL;
            json_object_foreach(cur, k, v)
            {
                if (strlen(k) == n && memcmp(k, p, n) == 0) {
                    found = v;
                    fk = k;
                    break;
                }
            }
            if (found == NULL)
                return 0;
            steps[d] = (step){ cur, fk, 0 };
            cur = found;
        }
        d++;
        p += n;
        if (*p == '.')
            p++;
    }
    return d;
}

/* A selection above the ceiling: what goes. */
static void plan_selection(plan *p, const char *type, const step *s, size_t d)
{
    const char *top = s[0].key;
    if (d == 1) {
        json_t *v = json_object_get(s[0].parent, top);
        if (is_always_keep(top) || is_required(type, top))
            p->withhold = true;
        else if (is_redactable(type, top) && json_is_string(v))
            plan_redact(p, top);
        else
            plan_remove(p, &s[0]);
        return;
    }
    if (strcmp(top, "object_marking_refs") == 0 || strcmp(top, "granular_markings") == 0) {
        p->withhold = true;
        return;
    }
    /* a required member of an external reference or a kill-chain phase: the whole element */
    const char *last = s[d - 1].key;
    if (last != NULL && d >= 2 && s[d - 2].key == NULL &&
            (strcmp(last, "source_name") == 0 || strcmp(last, "kill_chain_name") == 0 ||
                    strcmp(last, "phase_name") == 0)) {
        plan_remove(p, &s[d - 2]);
        return;
    }
    plan_remove(p, &s[d - 1]);
}

/* Whether a step's target goes; *shift gets how many earlier elements of its array go. */
static bool step_removed(const plan *p, const step *s, size_t *shift)
{
    *shift = 0;
    for (size_t i = 0; i < p->n; i++) {
        const removal *m = &p->v[i];
        if (same_step(m, s))
            return true;
        if (s->key == NULL && m->key == NULL && m->parent == s->parent && m->idx < s->idx)
            (*shift)++;
    }
    return false;
}

/* The selector sel rewritten for the object after the planned removals (indexes shift), or
 * NULL (in *out) when what it selects goes. */
static int rewrite_selector(const plan *p, json_t *obj, const char *sel, char **out)
{
    *out = NULL;
    step s[MAX_DEPTH];
    size_t d = resolve(obj, sel, s);
    if (d == 0)
        return 0;
    tide_buf b = TIDE_BUF_INIT;
    int rc = 0;
    for (size_t i = 0; i < d && rc == 0; i++) {
        size_t shift;
        if (step_removed(p, &s[i], &shift)) {
            tide__buf_free(&b);
            return 0;
        }
        if (i > 0)
            rc = tide__buf_putc(&b, '.');
        if (rc == 0)
            rc = s[i].key ? tide__buf_puts(&b, s[i].key)
                          : tide__buf_printf(&b, "[%zu]", s[i].idx - shift);
    }
    if (rc < 0) {
        tide__buf_free(&b);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    *out = tide__buf_detach(&b);
    return *out ? 0 : tide_error_set(TIDE_ENOMEM, "out of memory");
}

/* The granular markings that stay (at or below the ceiling, not TLP, or a language), their
 * selectors rewritten; *dropped counts what went. NULL in *out when none stays. */
static int kept_granular(const tide__mark_resolver *r, int ceiling, const plan *p, json_t *obj,
        json_t **out, bool *dropped)
{
    *out = NULL;
    json_t *kept = json_array();
    if (kept == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    size_t i, j;
    json_t *g, *s;
    json_array_foreach(json_object_get(obj, "granular_markings"), i, g)
    {
        const char *ref = jstr(g, "marking_ref");
        if (!json_is_object(g) ||
                (ref != NULL && meaning_level(tide__mark_id(r, ref), NULL) > ceiling)) {
            *dropped = true;
            continue;
        }
        json_t *sels = json_array(), *e = json_copy(g);
        json_array_foreach(json_object_get(g, "selectors"), j, s)
        {
            char *ns = NULL;
            if (!json_is_string(s) || rewrite_selector(p, obj, json_string_value(s), &ns) < 0 ||
                    ns == NULL) {
                *dropped = true;
                continue;
            }
            if (strcmp(ns, json_string_value(s)) != 0)
                *dropped = true;
            json_array_append_new(sels, json_string(ns));
            tide__free(ns);
        }
        if (e == NULL || sels == NULL) {
            json_decref(e);
            json_decref(sels);
            json_decref(kept);
            return tide_error_set(TIDE_ENOMEM, "out of memory");
        }
        if (json_array_size(sels) == 0) {
            json_decref(e);
            json_decref(sels);
            continue;
        }
        json_object_set_new(e, "selectors", sels);
        json_array_append_new(kept, e);
    }
    if (json_array_size(kept) == 0) {
        json_decref(kept);
        kept = NULL;
    }
    *out = kept;
    return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* References to stored objects above the ceiling go. */
static void plan_refs(
        const tide__mark_resolver *r, int ceiling, plan *p, json_t *obj, const char *type)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        if (strcmp(k, "object_marking_refs") == 0)
            continue;
        if (ends_with(k, "_ref") && json_is_string(v)) {
            int l = r->object(r->payload, json_string_value(v));
            if (l == TIDE_GATE_NOT_STORED || l <= ceiling)
                continue;
            if (is_required(type, k))
                p->withhold = true;
            else
                plan_remove(p, &(step){ obj, k, 0 });
        } else if (ends_with(k, "_refs") && json_is_array(v)) {
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e)
            {
                if (!json_is_string(e))
                    continue;
                int l = r->object(r->payload, json_string_value(e));
                if (l != TIDE_GATE_NOT_STORED && l > ceiling)
                    plan_remove(p, &(step){ v, NULL, i });
            }
        }
    }
}

static int cmp_removal(const void *a, const void *b)
{
    const removal *x = a, *y = b;
    if (x->parent != y->parent)
        return (uintptr_t)x->parent < (uintptr_t)y->parent ? -1 : 1;
    if ((x->key == NULL) != (y->key == NULL))
        return x->key == NULL ? 1 : -1;
    if (x->key == NULL) /* elements: the last first, so earlier indexes stay right */
        return x->idx > y->idx ? -1 : x->idx < y->idx ? 1 : 0;
    return 0;
}

int tide__mark_gate(const tide__mark_resolver *r, int ceiling, json_t *obj, const char *label,
        bool label_given, int *out_level, bool *changed)
{
    *changed = false;
    *out_level = TIDE_TLP_RED;
    if (!json_is_object(obj))
        return tide_error_set(TIDE_EPARSE, "not a JSON object");
    int level = tide__mark_object_level(r, obj, label, label_given);
    *out_level = level;
    if (level > ceiling)
        return TIDE_GATE_WITHHELD;
    const char *type = jstr(obj, "type");
    if (type == NULL)
        type = "";
    plan p = { 0 };
    /* granular markings above the ceiling */
    size_t i, j;
    json_t *g, *s;
    json_array_foreach(json_object_get(obj, "granular_markings"), i, g)
    {
        const char *ref = jstr(g, "marking_ref");
        if (ref == NULL || meaning_level(tide__mark_id(r, ref), NULL) <= ceiling)
            continue;
        json_array_foreach(json_object_get(g, "selectors"), j, s)
        {
            step st[MAX_DEPTH];
            size_t d = json_is_string(s) ? resolve(obj, json_string_value(s), st) : 0;
            if (d > 0)
                plan_selection(&p, type, st, d);
        }
    }
    /* references to objects above it */
    if (r != NULL && r->object != NULL)
        plan_refs(r, ceiling, &p, obj, type);
    int rc = p.err;
    json_t *gran = NULL;
    bool dropped = false;
    if (rc == 0 && !p.withhold && json_object_get(obj, "granular_markings") != NULL)
        rc = kept_granular(r, ceiling, &p, obj, &gran, &dropped);
    if (rc < 0 || p.withhold) {
        plan_free(&p);
        json_decref(gran);
        return rc < 0 ? rc : TIDE_GATE_WITHHELD;
    }
    /* lists of references that are not empty before the removals */
    json_t *lists[16];
    char *names[16];
    size_t nl = 0;
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        if (nl < N(lists) && ends_with(k, "_refs") && json_array_size(v) > 0 &&
                (names[nl] = tide__strdup(k)) != NULL)
            lists[nl++] = json_incref(v); /* held: compared after the removals */
    }
    /* apply: removals (per parent, the last element first), redactions, granular markings */
    if (p.n > 1)
        qsort(p.v, p.n, sizeof(*p.v), cmp_removal);
    for (i = 0; i < p.n; i++) {
        removal *m = &p.v[i];
        if (m->key)
            json_object_del(m->parent, m->key);
        else
            json_array_remove(m->parent, m->idx);
    }
    for (i = 0; i < p.nredact; i++)
        json_object_set_new(obj, p.redact[i], json_string(REDACTED));
    if (gran != NULL)
        json_object_set_new(obj, "granular_markings", gran);
    else if (json_object_get(obj, "granular_markings") != NULL)
        json_object_del(obj, "granular_markings");
    *changed = p.n > 0 || p.nredact > 0 || dropped;
    plan_free(&p);
    /* a list of references the removals emptied: object_refs is required where it is (a
     * report, a grouping, a note, an opinion), the others go */
    bool withhold = false;
    for (i = 0; i < nl; i++) {
        if (json_object_get(obj, names[i]) == lists[i] && json_array_size(lists[i]) == 0) {
            if (strcmp(names[i], "object_refs") == 0)
                withhold = true;
            else
                json_object_del(obj, names[i]);
        }
        json_decref(lists[i]);
        tide__free(names[i]);
    }
    if (withhold)
        return TIDE_GATE_WITHHELD;
    return *changed ? TIDE_GATE_REDACTED : TIDE_GATE_PASS;
}
