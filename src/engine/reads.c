/*
 * reads.c - the reads a service answers under a TLP ceiling (include/tide/reads.h): value
 * lookups with the match index's semantics, objects with their versions and relationships,
 * searches. Every object, related name and reference passes the gate (tide/gate.h) first;
 * what does not is left out as if the store did not hold it.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "store/front.h"
#include "tide/cases.h"
#include "tide/engine.h"
#include "tide/errors.h"
#include "tide/gate.h"
#include "tide/reads.h"
#include "tide/sightings.h"
#include "tide/tlp.h"
#include "engine/engine_int.h"
#include "util/util.h"

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int dump(json_t *o, char **out)
{
    if (o == NULL)
        return tide_error_set(TIDE_ENOMEM, "read result");
    *out = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return *out ? 0 : tide_error_set(TIDE_ENOMEM, "read result");
}

/* ---- the reads of one store connection ---- */

struct tide_reads {
    tide_store *store;                  /* borrowed */
    tide_gate *gates[TIDE_TLP_RED + 1]; /* one per ceiling, made when first needed */
    int64_t gen;                        /* the intel generation they resolved under */
    unsigned long uses;                 /* calls since the gates were made */
};

/* The gates' caches grow with every object they resolve: they are dropped after this many
 * calls even when the intel does not change, so a long-running server's memory stays bounded. */
#define READS_RESET_USES 20000

int tide_reads_new(tide_reads **out, tide_store *store)
{
    if (out == NULL || store == NULL)
        return tide_error_set(TIDE_EINVAL, "no store");
    *out = tide__calloc(1, sizeof **out);
    TIDE_CHECK_ALLOC(*out);
    (*out)->store = store;
    (*out)->gen = -1;
    return 0;
}

void tide_reads_free(tide_reads *rd)
{
    if (rd == NULL)
        return;
    for (int i = 0; i <= TIDE_TLP_RED; i++)
        tide_gate_free(rd->gates[i]);
    tide__free(rd);
}

tide_store *tide_reads_store(tide_reads *rd)
{
    return rd ? rd->store : NULL;
}

/* The gate of a ceiling, kept while the intel generation stays the one its cache resolved
 * under: levels, markings and relationships are intel, so a new generation drops them all. */
static int reads_gate(tide_reads *rd, int ceiling, tide_gate **out)
{
    if (ceiling < TIDE_TLP_CLEAR || ceiling > TIDE_TLP_RED)
        return tide_error_set(TIDE_EINVAL, "%d is not a TLP level", ceiling);
    int64_t gen = -1;
    TIDE_CHECK(tide_store_intel_generation(rd->store, &gen));
    if (gen != rd->gen || ++rd->uses > READS_RESET_USES) {
        for (int i = 0; i <= TIDE_TLP_RED; i++) {
            tide_gate_free(rd->gates[i]);
            rd->gates[i] = NULL;
        }
        rd->gen = gen;
        rd->uses = 0;
    }
    if (rd->gates[ceiling] == NULL)
        TIDE_CHECK(tide_gate_new(&rd->gates[ceiling], rd->store, ceiling));
    *out = rd->gates[ceiling];
    return 0;
}

int tide__reads_gate(tide_reads *rd, int ceiling, tide_gate **out)
{
    return reads_gate(rd, ceiling, out);
}

int tide_read_value(const char *text, tide_obs_kind *out_kind, char **out_value)
{
    if (text == NULL || out_kind == NULL || out_value == NULL)
        return tide_error_set(TIDE_EINVAL, "no value");
    *out_value = NULL;
    *out_kind = TIDE_OBS_NONE;
    char *refanged = NULL;
    if (tide_obs_refang(text, &refanged) < 0)
        return tide_error_set(TIDE_EINVAL, "'%.200s' is no known kind of observable", text);
    tide_obs_kind kind = tide_obs_detect(refanged);
    size_t rl = strlen(refanged);
    if (kind == TIDE_OBS_NONE && (rl == 59 || rl == 47) && refanged[2] == ':') {
        /* a fingerprint written aa:bb:cc... (x509 SHA-1, JA3 MD5): its hex digits */
        size_t o = 0;
        for (size_t i = 0; i < rl; i++)
            if (refanged[i] != ':')
                refanged[o++] = refanged[i];
        refanged[o] = '\0';
        kind = tide_obs_detect(refanged);
    }
    char *norm = NULL;
    if (kind == TIDE_OBS_NONE || tide_obs_normalize(kind, refanged, &norm) < 0) {
        free(refanged);
        return tide_error_set(TIDE_EINVAL, "'%.200s' is no known kind of observable", text);
    }
    free(refanged);
    *out_kind = kind;
    *out_value = norm;
    return 0;
}

/* ---- lookup ---- */

typedef struct {
    tide_store *store;
    tide_gate *gate;
    const tide_decay_config *decay;
    int64_t now;
    tide_obs_kind kind;
    const char *value;
    json_t *arr;
    int err;
} lookup_ctx;

static int latest_sighting(const tide_sighting_rec *r, void *payload)
{
    *(int64_t *)payload = r->last_seen;
    return 1; /* newest first */
}

static int add_related(const char *name, const char *type, void *payload)
{
    json_array_append_new(payload, json_pack("{s:s, s:s}", "name", name, "type", type));
    return 0;
}

static int lookup_one(const tide_store_match *m, void *payload)
{
    lookup_ctx *c = payload;
    tide_indicator_rec ind;
    char *id = tide__strdup(m->indicator_id);
    char *mvalue = tide__strdup(m->value);
    tide_obs_kind mkind = m->kind;
    int rc = 0;
    json_t *o = NULL;
    if (id == NULL || mvalue == NULL) {
        rc = tide_error_set(TIDE_ENOMEM, "lookup");
        goto done;
    }
    if (tide_store_indicator(c->store, id, &ind) < 0) {
        tide_error_clear(); /* not an indicator (any more) */
        goto done;
    }
    int level = tide_gate_indicator_level(c->gate, id, ind.tlp);
    if (level < 0) {
        rc = level;
        goto done;
    }
    if (!tide_gate_allows(c->gate, level))
        goto done;
    tide_score_input in = { .kind = mkind,
        .confidence = ind.confidence,
        .reliability = ind.reliability,
        .valid_from = ind.valid_from,
        .valid_until = ind.valid_until,
        .created = ind.created,
        .modified = ind.modified,
        .revoked = ind.revoked };
    tide_sighting_query q = { .indicator = id, .limit = 1 };
    if (tide_store_sightings(c->store, &q, latest_sighting, &in.last_sighted) < 0)
        tide_error_clear();
    if (tide_store_indicator(c->store, id, &ind) < 0) { /* its strings were the store's */
        tide_error_clear();
        goto done;
    }
    tide_score_result sr;
    tide_score_assess(c->decay, &in, c->now, &sr);
    bool covers = mkind != c->kind || strcmp(mvalue, c->value) != 0;
    o = json_pack("{s:s, s:s, s:s?, s:s?, s:s, s:i, s:f, s:i, s:s, s:s, s:s?, s:b,"
                  " s:{s:s, s:s, s:b}}",
            "id", id, "pattern", ind.pattern, "name", ind.name, "source", ind.source, "reliability",
            (char[]){ ind.reliability ? ind.reliability : 'C', 0 }, "confidence", ind.confidence,
            "base_score", sr.base, "score", tide_score_round(sr.score), "state",
            tide_score_activity_name(sr.activity), "tlp", tide_tlp_name(level), "kill_chain",
            ind.kill_chain, "revoked", ind.revoked, "matched", "kind", tide_obs_kind_name(mkind),
            "value", mvalue, "covers", covers);
    if (o == NULL) {
        rc = tide_error_set(TIDE_ENOMEM, "lookup");
        goto done;
    }
    json_t *rel = json_array();
    json_object_set_new(o, "related", rel);
    if ((rc = tide_gate_related_names(c->gate, id, add_related, rel)) < 0)
        goto done;
    json_array_append(c->arr, o);
done:
    json_decref(o);
    tide__free(id);
    tide__free(mvalue);
    return rc;
}

int tide_read_lookup(tide_reads *rd, const tide_decay_config *decay, const char *value, int ceiling,
        int64_t now, char **out)
{
    if (rd == NULL)
        return tide_error_set(TIDE_EINVAL, "no reads");
    tide_store *store = rd->store;
    if (out == NULL)
        return tide_error_set(TIDE_EINVAL, "no output");
    *out = NULL;
    tide_obs_kind kind;
    char *norm = NULL;
    TIDE_CHECK(tide_read_value(value, &kind, &norm));
    tide_decay_config defaults;
    if (decay == NULL) {
        tide_decay_defaults(&defaults);
        decay = &defaults;
    }
    tide_gate *gate = NULL;
    int rc = reads_gate(rd, ceiling, &gate);
    if (rc < 0) {
        free(norm);
        return rc;
    }
    lookup_ctx c = { store, gate, decay, now ? now : now_ms(), kind, norm, json_array(), 0 };
    rc = c.arr ? tide_store_lookup_match(store, kind, norm, lookup_one, &c)
               : tide_error_set(TIDE_ENOMEM, "lookup");
    if (rc == 0)
        rc = dump(json_pack("{s:s, s:s, s:O}", "value", norm, "kind", tide_obs_kind_name(kind),
                          "indicators", c.arr),
                out);
    json_decref(c.arr);
    free(norm);
    return rc;
}

/* ---- one object ---- */

static int add_version(const char *modified, void *payload)
{
    json_array_append_new(payload, json_string(modified));
    return 0;
}

typedef struct {
    tide_gate *gate;
    json_t *arr;
} rel_ctx;

/* a stored object's level passes; one not stored passes (nothing to leak but its id, which the
 * relationship itself states) */
static int passes(tide_gate *g, const char *id)
{
    int l = tide_gate_level_of(g, id);
    if (l == TIDE_GATE_NOT_STORED)
        return 1;
    if (l < 0)
        return l;
    return tide_gate_allows(g, l);
}

static int add_relation(const tide_relation *r, void *payload)
{
    rel_ctx *c = payload;
    int p = passes(c->gate, r->rel_id);
    if (p > 0)
        p = passes(c->gate, r->other_id);
    if (p <= 0)
        return p < 0 ? p : 0;
    const char *name = r->other_name;
    if (name) {
        int nl = tide_gate_name_level_of(c->gate, r->other_id);
        if (nl >= 0 && !tide_gate_allows(c->gate, nl))
            name = NULL;
    }
    json_array_append_new(
            c->arr, json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?}", "id", r->rel_id, "type",
                            r->rel_type, "direction", r->outgoing ? "out" : "in", "other_id",
                            r->other_id, "other_type", r->other_type, "other_name", name));
    return 0;
}

int tide_read_object(tide_reads *rd, const char *id, int ceiling, char **out)
{
    if (rd == NULL)
        return tide_error_set(TIDE_EINVAL, "no reads");
    tide_store *store = rd->store;
    if (out == NULL || id == NULL)
        return tide_error_set(TIDE_EINVAL, "no id or output");
    *out = NULL;
    char *js = NULL;
    TIDE_CHECK(tide_store_get(store, id, NULL, &js));
    tide_gate *gate = NULL;
    int rc = reads_gate(rd, ceiling, &gate);
    char *red = NULL;
    json_t *obj = NULL, *versions = NULL, *rels = NULL;
    if (rc < 0)
        goto done;
    rc = tide_gate_object(gate, js, strlen(js), NULL, &red, NULL);
    if (rc == TIDE_GATE_WITHHELD || rc == TIDE_EPARSE) {
        rc = tide_error_set(TIDE_ENOTFOUND, "no object %s", id);
        goto done;
    }
    if (rc < 0)
        goto done;
    obj = json_loads(red ? red : js, 0, NULL);
    versions = json_array();
    rels = json_array();
    if (obj == NULL || versions == NULL || rels == NULL) {
        rc = tide_error_set(TIDE_ENOMEM, "object %s", id);
        goto done;
    }
    if ((rc = tide_store_versions(store, id, add_version, versions)) < 0)
        goto done;
    rel_ctx rc_ = { gate, rels };
    if ((rc = tide_store_related(store, id, add_relation, &rc_)) < 0)
        goto done;
    rc = dump(json_pack("{s:O, s:O, s:O}", "object", obj, "versions", versions, "relationships",
                      rels),
            out);
done:
    json_decref(obj);
    json_decref(versions);
    json_decref(rels);
    free(red);
    free(js);
    return rc;
}

/* ---- search ---- */

typedef struct {
    tide_store *store;
    tide_gate *gate;
    json_t *arr;
    long limit, n;
} search_ctx;

static int add_hit(const tide_search_hit *h, void *payload)
{
    search_ctx *c = payload;
    int l = tide_gate_level_of(c->gate, h->id);
    if (l == TIDE_GATE_NOT_STORED)
        return 0;
    if (l < 0)
        return l;
    if (!tide_gate_allows(c->gate, l))
        return 0;
    if (strcmp(h->type, "indicator") != 0) {
        /* the whole decision, as for the object itself: a relationship, a sighting, a report
         * ... is withheld when a reference it needs is above the ceiling */
        char *js = NULL;
        int rc = tide_store_get(c->store, h->id, NULL, &js);
        if (rc == TIDE_ENOTFOUND) {
            tide_error_clear();
            return 0;
        }
        TIDE_CHECK(rc);
        char *red = NULL;
        rc = tide_gate_object(c->gate, js, strlen(js), h->tlp, &red, NULL);
        free(red);
        free(js);
        if (rc == TIDE_GATE_WITHHELD || rc == TIDE_EPARSE) {
            tide_error_clear();
            return 0;
        }
        TIDE_CHECK(rc);
    }
    const char *name = h->name;
    if (name) {
        int nl = tide_gate_name_level_of(c->gate, h->id);
        if (nl >= 0 && !tide_gate_allows(c->gate, nl))
            name = NULL;
    }
    json_array_append_new(
            c->arr, json_pack("{s:s, s:s, s:s?, s:s, s:s?, s:s}", "id", h->id, "type", h->type,
                            "name", name, "modified", h->modified ? h->modified : "", "source",
                            h->source, "tlp", tide_tlp_name(l)));
    c->n++;
    return c->limit > 0 && c->n >= c->limit ? 1 : 0;
}

int tide_read_search(tide_reads *rd, const tide_search_query *q, int ceiling, char **out)
{
    if (rd == NULL)
        return tide_error_set(TIDE_EINVAL, "no reads");
    tide_store *store = rd->store;
    if (out == NULL || q == NULL)
        return tide_error_set(TIDE_EINVAL, "no query or output");
    *out = NULL;
    tide_gate *gate = NULL;
    TIDE_CHECK(reads_gate(rd, ceiling, &gate));
    tide_search_query sq = *q;
    sq.limit = 0; /* the limit counts what is shown */
    search_ctx c = { store, gate, json_array(), q->limit, 0 };
    int rc = c.arr ? tide_store_search(store, &sq, add_hit, &c) : TIDE_ENOMEM;
    if (rc == 1)
        rc = 0;
    if (rc == 0)
        rc = dump(json_pack("{s:O}", "objects", c.arr), out);
    json_decref(c.arr);
    return rc;
}

/* ---- sightings ---- */

typedef struct {
    tide_store *store;
    tide_gate *gate;
    const char *related;
    json_t *arr;
    long limit, n;
    bool found; /* related_match: the name was found */
    json_t *names;
} sight_ctx;

static int related_match(const char *name, const char *type, void *payload)
{
    sight_ctx *c = payload;
    json_array_append_new(c->names, json_pack("{s:s, s:s}", "name", name, "type", type));
    if (c->related && strcasecmp(name, c->related) == 0)
        c->found = true;
    return 0;
}

static int add_sighting(const tide_sighting_rec *r, void *payload)
{
    sight_ctx *c = payload;
    int l = tide_gate_level_of(c->gate, r->indicator_id);
    if (l == TIDE_GATE_NOT_STORED)
        l = TIDE_TLP_RED;
    if (l < 0)
        return l;
    if (!tide_gate_allows(c->gate, l))
        return 0;
    c->names = json_array();
    c->found = false;
    if (c->names == NULL)
        return tide_error_set(TIDE_ENOMEM, "sightings");
    int rc = tide_gate_related_names(c->gate, r->indicator_id, related_match, c);
    if (rc < 0 || (c->related && !c->found)) {
        json_decref(c->names);
        return rc < 0 ? rc : 0;
    }
    char first[32], last[32];
    tide_time_format(r->first_seen, first);
    tide_time_format(r->last_seen, last);
    json_t *users = json_array();
    for (const char *u = r->users; u && *u;) {
        size_t n = strcspn(u, "\n");
        json_array_append_new(users, json_stringn(u, n));
        u += n + (u[n] == '\n');
    }
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s?, s:s?, s:s?, s:I, s:s, s:s, s:I, s:I,"
                          " s:b, s:o, s:s, s:o}",
            "id", (json_int_t)r->id, "host", r->host, "indicator_id", r->indicator_id, "indicator",
            r->indicator, "kind", tide_obs_kind_name(r->kind), "observed", r->observed, "field",
            r->field, "file", r->file, "line", (json_int_t)r->line, "first_seen", first,
            "last_seen", last, "live_count", (json_int_t)r->live_count, "retro_count",
            (json_int_t)r->retro_count, "suppressed", r->suppressed, "users", users, "tlp",
            tide_tlp_name(l), "related", c->names);
    if (o == NULL || json_array_append_new(c->arr, o) < 0)
        return tide_error_set(TIDE_ENOMEM, "sightings");
    c->n++;
    return c->limit > 0 && c->n >= c->limit ? 1 : 0;
}

int tide_read_sightings(
        tide_reads *rd, const tide_sighting_query *q, const char *related, int ceiling, char **out)
{
    if (rd == NULL)
        return tide_error_set(TIDE_EINVAL, "no reads");
    tide_store *store = rd->store;
    if (out == NULL || q == NULL)
        return tide_error_set(TIDE_EINVAL, "no query or output");
    *out = NULL;
    tide_gate *gate = NULL;
    TIDE_CHECK(reads_gate(rd, ceiling, &gate));
    tide_sighting_query sq = *q;
    sq.limit = 0; /* the limit counts what is shown */
    sight_ctx c = { store, gate, related && *related ? related : NULL, json_array(), q->limit, 0,
        false, NULL };
    int rc = c.arr ? tide_store_sightings(store, &sq, add_sighting, &c) : TIDE_ENOMEM;
    if (rc == 1)
        rc = 0;
    if (rc == 0)
        rc = dump(json_pack("{s:O}", "sightings", c.arr), out);
    json_decref(c.arr);
    return rc;
}

/* ---- stats ---- */

int tide_read_stats(tide_reads *rd, int ceiling, char **out)
{
    if (rd == NULL)
        return tide_error_set(TIDE_EINVAL, "no reads");
    tide_store *store = rd->store;
    if (out == NULL)
        return tide_error_set(TIDE_EINVAL, "no output");
    *out = NULL;
    if (tide_tlp_name(ceiling) == NULL)
        return tide_error_set(TIDE_EINVAL, "%d is not a TLP level", ceiling);
    char *js = NULL;
    TIDE_CHECK(tide_store_stats_json(store, &js));
    if (ceiling == TIDE_TLP_RED) {
        *out = js;
        return 0;
    }
    json_t *all = json_loads(js, 0, NULL);
    free(js);
    if (all == NULL)
        return tide_error_set(TIDE_ESTORE, "stats: not JSON");
    json_t *by = json_object();
    json_int_t levels[TIDE_TLP_RED + 1] = { 0 };
    const char *label;
    json_t *n;
    json_object_foreach(json_object_get(all, "by_tlp"), label, n)
    {
        /* the stats name unmarked intel "(none)"; a label that is no TLP name (a marking not
         * resolved at ingest) counts as red */
        int l = strcmp(label, "(none)") == 0 ? TIDE_TLP_UNMARKED : tide_tlp_rank(label);
        if (l <= ceiling)
            levels[l] += json_integer_value(n);
    }
    for (int l = 0; l <= ceiling; l++)
        json_object_set_new(by, tide_tlp_name(l), json_integer(levels[l]));
    json_decref(all);
    return dump(json_pack("{s:o, s:s}", "by_tlp", by, "ceiling", tide_tlp_name(ceiling)), out);
}

/* ---- cases ---- */

static bool idch(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* The highest level of the stored objects named in text (every "type--uuid" in it). */
static int text_level(tide_gate *g, const char *text, int *out)
{
    int level = TIDE_TLP_CLEAR;
    for (const char *p = strstr(text, "--"); p; p = strstr(p + 2, "--")) {
        const char *b = p;
        while (b > text && idch(b[-1]) && b[-1] != '-')
            b--;
        size_t tl = (size_t)(p - b);
        const char *u = p + 2;
        if (tl == 0 || tl > 40 || strlen(u) < 36 || u[8] != '-' || u[13] != '-')
            continue;
        char id[80];
        memcpy(id, b, tl);
        memcpy(id + tl, "--", 2);
        memcpy(id + tl + 2, u, 36);
        id[tl + 38] = '\0';
        int l = tide_gate_level_of(g, id);
        if (l == TIDE_GATE_NOT_STORED)
            continue;
        if (l < 0)
            return l;
        if (l > level)
            level = l;
    }
    *out = level;
    return 0;
}

static int case_level(tide_store *store, tide_gate *g, int64_t id, int *out)
{
    char *doc = NULL;
    TIDE_CHECK(tide_case_show_json(store, id, &doc));
    int rc = text_level(g, doc, out);
    free(doc);
    return rc;
}

int tide_read_case_level(tide_reads *rd, int64_t id, int *out_level)
{
    if (rd == NULL)
        return tide_error_set(TIDE_EINVAL, "no reads");
    tide_store *store = rd->store;
    if (out_level == NULL)
        return tide_error_set(TIDE_EINVAL, "no output");
    tide_gate *g = NULL;
    TIDE_CHECK(reads_gate(rd, TIDE_TLP_RED, &g));
    int rc = case_level(store, g, id, out_level);
    return rc;
}

typedef struct {
    tide_gate *g;
    int level;
    bool found;
    int err;
} seed_ctx;

static int seed_one(const tide_store_match *m, void *payload)
{
    seed_ctx *c = payload;
    int l = tide_gate_level_of(c->g, m->indicator_id);
    if (l == TIDE_GATE_NOT_STORED)
        return 0;
    if (l < 0)
        return l;
    c->found = true;
    if (l > c->level)
        c->level = l;
    return 0;
}

int tide_read_case_seed_level(
        tide_reads *rd, int64_t sighting_id, const char *indicator, int *out_level)
{
    if (rd == NULL)
        return tide_error_set(TIDE_EINVAL, "no reads");
    tide_store *store = rd->store;
    if (out_level == NULL)
        return tide_error_set(TIDE_EINVAL, "no output");
    seed_ctx c = { NULL, TIDE_TLP_CLEAR, false, 0 };
    TIDE_CHECK(reads_gate(rd, TIDE_TLP_RED, &c.g));
    char *host = NULL, *ind_id = NULL, *norm = NULL;
    int rc = 0;
    if (sighting_id > 0) {
        rc = tide__sighting_by_id(store, sighting_id, &host, &ind_id);
        indicator = ind_id;
    }
    if (rc == 0 && indicator && strstr(indicator, "--") && !strchr(indicator, '/')) {
        int l = tide_gate_level_of(c.g, indicator);
        if (l >= 0) {
            c.found = true;
            c.level = l;
        } else if (l != TIDE_GATE_NOT_STORED)
            rc = l;
    } else if (rc == 0 && indicator) {
        tide_obs_kind kind;
        if (tide_read_value(indicator, &kind, &norm) == 0)
            rc = tide_store_lookup_match(store, kind, norm, seed_one, &c);
        else
            tide_error_clear();
    }
    if (rc == 0 && !c.found)
        rc = tide_error_set(TIDE_ENOTFOUND, "no such sighting or indicator");
    if (rc == 0)
        *out_level = c.level;
    free(host);
    free(ind_id);
    free(norm);
    return rc;
}

int tide_read_cases(tide_reads *rd, int ceiling, char **out)
{
    if (rd == NULL)
        return tide_error_set(TIDE_EINVAL, "no reads");
    tide_store *store = rd->store;
    if (out == NULL)
        return tide_error_set(TIDE_EINVAL, "no output");
    *out = NULL;
    char *js = NULL;
    TIDE_CHECK(tide_case_list_json(store, &js));
    json_t *all = json_loads(js, 0, NULL);
    free(js);
    if (!json_is_array(all)) {
        json_decref(all);
        return tide_error_set(TIDE_ESTORE, "case list: not a JSON array");
    }
    tide_gate *g = NULL;
    int rc = reads_gate(rd, ceiling, &g);
    json_t *keep = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(all, i, c)
    {
        if (rc < 0)
            break;
        int level;
        rc = case_level(store, g, json_integer_value(json_object_get(c, "id")), &level);
        if (rc == 0 && tide_gate_allows(g, level)) {
            json_object_set_new(c, "tlp", json_string(tide_tlp_name(level)));
            json_array_append(keep, c);
        }
    }
    if (rc == 0)
        rc = dump(json_pack("{s:O}", "cases", keep), out);
    json_decref(keep);
    json_decref(all);
    return rc;
}

int tide_read_case(tide_reads *rd, int64_t id, int ceiling, bool markdown, char **out)
{
    if (rd == NULL)
        return tide_error_set(TIDE_EINVAL, "no reads");
    tide_store *store = rd->store;
    if (out == NULL)
        return tide_error_set(TIDE_EINVAL, "no output");
    *out = NULL;
    tide_gate *g = NULL;
    TIDE_CHECK(reads_gate(rd, ceiling, &g));
    int level = 0;
    int rc = case_level(store, g, id, &level);
    if (rc == 0 && !tide_gate_allows(g, level))
        rc = tide_error_set(TIDE_ENOTFOUND, "no case %lld", (long long)id);
    if (rc < 0)
        return rc;
    return markdown ? tide_case_show_markdown(store, id, out) : tide_case_show_json(store, id, out);
}

int tide_read_metrics(tide_reads *rd, int ceiling, char **out)
{
    if (rd == NULL)
        return tide_error_set(TIDE_EINVAL, "no reads");
    tide_store *store = rd->store;
    if (out == NULL)
        return tide_error_set(TIDE_EINVAL, "no output");
    *out = NULL;
    tide_case_opts o;
    memset(&o, 0, sizeof o);
    o.no_hunt = true;
    char *js = NULL;
    TIDE_CHECK(tide_metrics_json(store, &o, &js));
    json_t *m = json_loads(js, 0, NULL);
    free(js);
    if (m == NULL)
        return tide_error_set(TIDE_ESTORE, "metrics: not JSON");
    tide_gate *g = NULL;
    int rc = reads_gate(rd, ceiling, &g);
    json_t *cases = json_object_get(m, "cases"), *keep = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c)
    {
        if (rc < 0)
            break;
        int level;
        rc = case_level(store, g, json_integer_value(json_object_get(c, "case")), &level);
        if (rc == 0 && tide_gate_allows(g, level))
            json_array_append(keep, c);
    }
    json_object_set_new(m, "cases", keep);
    if (rc == 0)
        rc = dump(json_incref(m), out);
    json_decref(m);
    return rc;
}

/* ---- hunts ---- */

typedef struct {
    tide_gate *gate;
    int (*cb)(const char *json, size_t len, void *payload);
    void *payload;
    char *buf;
    size_t cap;
    json_t *names; /* the names that pass, of the indicator at hand */
} hunt_ctx;

static int hunt_name(const char *name, const char *type, void *payload)
{
    (void)type;
    json_object_set_new(payload, name, json_true());
    return 0;
}

/* keep in o only the related names that passed the gate */
static void keep_names(json_t *o, json_t *names)
{
    static const char *const keys[] = { "campaign", "campaigns", "malware", "malware_all", "actor",
        "actors" };
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        json_t *v = json_object_get(o, keys[k]);
        if (json_is_string(v) && !json_object_get(names, json_string_value(v)))
            json_object_set_new(o, keys[k], json_null());
        else if (json_is_array(v)) {
            for (size_t i = json_array_size(v); i-- > 0;)
                if (!json_object_get(names, json_string_value(json_array_get(v, i))))
                    json_array_remove(v, i);
        }
    }
}

static int hunt_one(const tide_retro_sighting *s, void *payload)
{
    hunt_ctx *c = payload;
    int l = tide_gate_level_of(c->gate, s->hit->indicator_id);
    if (l == TIDE_GATE_NOT_STORED)
        l = TIDE_TLP_RED;
    if (l < 0)
        return l;
    if (!tide_gate_allows(c->gate, l))
        return 0;
    size_t n = tide_retro_sighting_json(s, c->buf, c->cap);
    if (n + 1 > c->cap) {
        char *b = tide__realloc(c->buf, n + 1);
        TIDE_CHECK_ALLOC(b);
        c->buf = b;
        c->cap = n + 1;
        n = tide_retro_sighting_json(s, c->buf, c->cap);
    }
    json_t *o = json_loadb(c->buf, n, 0, NULL);
    json_t *names = json_object();
    int rc = o && names ? tide_gate_related_names(c->gate, s->hit->indicator_id, hunt_name, names)
                        : tide_error_set(TIDE_ENOMEM, "hunt");
    char *js = NULL;
    if (rc == 0) {
        keep_names(o, names);
        js = json_dumps(o, JSON_COMPACT);
        rc = js ? c->cb(js, strlen(js), c->payload) : tide_error_set(TIDE_ENOMEM, "hunt");
    }
    free(js);
    json_decref(o);
    json_decref(names);
    return rc;
}

int tide_read_hunt(tide_workspace *ws, const tide_hunt_opts *opts, int ceiling,
        int (*cb)(const char *json, size_t len, void *payload), void *payload,
        tide_hunt_stats *out_stats)
{
    if (ws == NULL || cb == NULL)
        return tide_error_set(TIDE_EINVAL, "no workspace or callback");
    hunt_ctx c = { NULL, cb, payload, NULL, 0, NULL };
    TIDE_CHECK(tide_gate_new(&c.gate, tide_workspace_store(ws), ceiling));
    int rc = tide_workspace_hunt(ws, opts, hunt_one, &c, out_stats);
    tide__free(c.buf);
    tide_gate_free(c.gate);
    return rc;
}
