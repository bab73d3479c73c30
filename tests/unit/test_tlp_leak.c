/*
 * test_tlp_leak.c - the property of include/tide/gate.h: nothing marked above a TLP ceiling ever
 * leaves tide, in any field, on any path that lets intel out.
 *
 * Seeded random worlds: indicators, campaigns and malware (a tree of relationships under the
 * indicators), relationships, reports with object_refs, a MISP event, each with random markings
 * (none, one, several, TLP 1.0 and 2.0 ids, custom marking-definitions of TLP type in three
 * styles, statements, definitions tide cannot read, definitions that arrive before, after, in a
 * later bundle or never) and random granular markings (name, description, pattern, external
 * references and their members, object_refs); ingested with or without --tlp. Every value that
 * may leave carries a unique canary token, and the test computes from the rules alone the level
 * each token (and each object id) is at. Then every export format and a case share run at every
 * ceiling, and the whole output is scanned: no token and no id above the ceiling may appear. The
 * txt export must hold exactly the values at or below the ceiling (so the test cannot pass by
 * writing nothing), and every related name a CSV row gives must be reachable through
 * relationships and names that pass. A second test runs random objects straight through
 * tide_gate_object.
 *
 * TIDE_LEAK_SEED=N runs one world / batch with that seed; TIDE_LEAK_WORLDS=N sets how many
 * worlds run (default 40). A failure prints its seed.
 */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "tide/cases.h"
#include "tide/errors.h"
#include "tide/export.h"
#include "tide/gate.h"
#include "tide/ingest.h"
#include "tide/store.h"
#include "tide/tlp.h"

enum {
    CLEAR,
    GREEN,
    AMBER,
    AMBER_STRICT,
    RED,
    NEVER
};

static const char *const tlp2_ids[5] = { "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1" };
/* TLP 1.0: white, green, amber, red */
static const char *const tlp1_ids[4] = { "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed" };
static const int tlp1_levels[4] = { CLEAR, GREEN, AMBER, RED };
static const char *const names[5] = { "clear", "green", "amber", "amber+strict", "red" };

/* ---- randomness ---- */

static uint64_t rs;

static uint64_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}

static int pick(int n)
{
    return (int)(rnd() % (uint64_t)n);
}

static int max_i(int a, int b)
{
    return a > b ? a : b;
}

/* ---- canaries: unique tokens, each at the level the rules put it ---- */

typedef struct {
    char tok[16];
    int level;
    char what[48];
} canary;

static canary cans[2048];
static int ncans;

static const char *token(char out[16])
{
    static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    out[0] = 'q';
    for (int i = 1; i < 11; i++)
        out[i] = al[pick(36)];
    out[11] = 'z';
    out[12] = '\0';
    return out;
}

static void plant(const char *tok, int level, const char *what)
{
    if (ncans >= (int)(sizeof(cans) / sizeof(cans[0])))
        return;
    canary *c = &cans[ncans++];
    snprintf(c->tok, sizeof(c->tok), "%s", tok);
    c->level = level;
    snprintf(c->what, sizeof(c->what), "%s", what);
}

/* ---- the world's marking-definitions ---- */

enum {
    K_TLP1,      /* definition_type tlp, definition {"tlp": NAME} */
    K_TLP2,      /* TLP 2.0 extension "tlp_2_0" */
    K_NAME,      /* name "TLP:NAME" alone */
    K_STATEMENT, /* a statement: not TLP */
    K_ALIEN,     /* a definition type tide cannot read */
    K__COUNT
};

enum {
    P_BEFORE,
    P_AFTER,
    P_LATER, /* another bundle, ingested after */
    P_NEVER
};

typedef struct {
    char id[80];
    int kind, level, place;
} mdef;

static mdef defs[4];
static int ndefs;

/* What a marking id means under the rules: a level, -1 (not TLP). */
static int meaning(const char *id)
{
    for (int i = 0; i < 5; i++)
        if (strcmp(id, tlp2_ids[i]) == 0)
            return i;
    for (int i = 0; i < 4; i++)
        if (strcmp(id, tlp1_ids[i]) == 0)
            return tlp1_levels[i];
    for (int i = 0; i < ndefs; i++) {
        if (strcmp(id, defs[i].id) != 0)
            continue;
        if (defs[i].place == P_NEVER || defs[i].kind == K_ALIEN)
            return RED; /* not stored, or not interpretable */
        return defs[i].kind == K_STATEMENT ? -1 : defs[i].level;
    }
    return RED;
}

static json_t *def_json(const mdef *d)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "type", "marking-definition", "spec_version",
            "2.1", "id", d->id, "created", "2024-01-01T00:00:00.000Z");
    char nm[32];
    snprintf(nm, sizeof(nm), "TLP:%s", names[d->level]);
    switch (d->kind) {
        case K_TLP1:
            json_object_set_new(o, "definition_type", json_string("tlp"));
            json_object_set_new(o, "definition", json_pack("{s:s}", "tlp", names[d->level]));
            break;
        case K_TLP2:
            json_object_set_new(o, "name", json_string(nm));
            json_object_set_new(o, "extensions",
                    json_pack("{s:{s:s, s:s}}",
                            "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d",
                            "extension_type", "property-extension", "tlp_2_0", names[d->level]));
            break;
        case K_NAME: json_object_set_new(o, "name", json_string(nm)); break;
        case K_STATEMENT:
            json_object_set_new(o, "definition_type", json_string("statement"));
            json_object_set_new(o, "definition", json_pack("{s:s}", "statement", "(c) someone"));
            break;
        default:
            json_object_set_new(o, "definition_type", json_string("acme-classification"));
            json_object_set_new(o, "definition", json_pack("{s:s}", "acme", "secret"));
            break;
    }
    return o;
}

/* A random set of object markings (ids borrowed from the tables above). */
static int rand_marks(const char **out)
{
    int n = 0;
    switch (pick(8)) {
        case 0: break; /* unmarked */
        case 1: out[n++] = tlp2_ids[pick(5)]; break;
        case 2: out[n++] = tlp1_ids[pick(4)]; break;
        case 3:
            out[n++] = tlp2_ids[pick(5)];
            out[n++] = tlp1_ids[pick(4)];
            break;
        case 4:
            if (ndefs)
                out[n++] = defs[pick(ndefs)].id;
            break;
        case 5:
            if (ndefs)
                out[n++] = defs[pick(ndefs)].id;
            out[n++] = tlp2_ids[pick(5)];
            break;
        default:
            for (int k = 0, m = 1 + pick(3); k < m; k++)
                out[n++] = ndefs && pick(2) ? defs[pick(ndefs)].id : tlp2_ids[pick(5)];
            break;
    }
    return n;
}

/* ---- the world ---- */

enum {
    T_IND,
    T_CAMP,
    T_MAL,
    T_REL,
    T_REPORT
};

#define MAXG 3
typedef struct {
    const char *ref;
    const char *sel[3];
    int nsel;
} gran;

typedef struct {
    int type;
    char id[96];
    const char *marks[4];
    int nmarks;
    gran g[MAXG];
    int ng;
    int level; /* the object's level under the rules */
    char value[16], name[16], desc[16], url[2][16];
    int parent, rel; /* named objects: the object above them in the tree, the relationship */
    int src, dst;    /* relationships */
    int refs[4], nrefs;
} wobj;

static wobj objs[64];
static int nobjs;
static int ingest_tlp; /* --tlp given to the ingests, -1 none */

static int obj_level(const wobj *o)
{
    int l = -1;
    for (int i = 0; i < o->nmarks; i++)
        l = max_i(l, meaning(o->marks[i]));
    if (l >= 0)
        return l;
    return ingest_tlp >= 0 ? ingest_tlp : AMBER;
}

/* Level of the value at path in o: its level, raised by every granular marking selecting the
 * path or something that holds it. */
static int path_level(const wobj *o, const char *path)
{
    int l = o->level;
    for (int i = 0; i < o->ng; i++) {
        int m = meaning(o->g[i].ref);
        if (m < 0)
            continue;
        for (int j = 0; j < o->g[i].nsel; j++) {
            const char *s = o->g[i].sel[j];
            size_t n = strlen(s);
            if (strncmp(path, s, n) == 0 && (path[n] == '\0' || path[n] == '.'))
                l = max_i(l, m);
        }
    }
    return l;
}

static void rand_gran(wobj *o, const char *const *sels, int nsels)
{
    o->ng = pick(3);
    for (int i = 0; i < o->ng; i++) {
        gran *g = &o->g[i];
        g->ref = ndefs && pick(3) == 0 ? defs[pick(ndefs)].id
                 : pick(2)             ? tlp2_ids[pick(5)]
                                       : tlp1_ids[pick(4)];
        g->nsel = 1 + pick(2);
        for (int j = 0; j < g->nsel; j++)
            g->sel[j] = sels[pick(nsels)];
    }
}

static void uuid(char *out, size_t n, const char *type)
{
    snprintf(out, n, "%s--%08x-%04x-4%03x-8%03x-%012llx", type, (unsigned)rnd(),
            (unsigned)(rnd() & 0xffff), (unsigned)(rnd() & 0xfff), (unsigned)(rnd() & 0xfff),
            (unsigned long long)(rnd() & 0xffffffffffffULL));
}

static void common(json_t *o, const wobj *w, const char *type, const char *now)
{
    json_object_set_new(o, "type", json_string(type));
    json_object_set_new(o, "spec_version", json_string("2.1"));
    json_object_set_new(o, "id", json_string(w->id));
    json_object_set_new(o, "created", json_string(now));
    json_object_set_new(o, "modified", json_string(now));
    if (w->nmarks) {
        json_t *a = json_array();
        for (int i = 0; i < w->nmarks; i++)
            json_array_append_new(a, json_string(w->marks[i]));
        json_object_set_new(o, "object_marking_refs", a);
    }
    if (w->ng) {
        json_t *a = json_array();
        for (int i = 0; i < w->ng; i++) {
            json_t *s = json_array();
            for (int j = 0; j < w->g[i].nsel; j++)
                json_array_append_new(s, json_string(w->g[i].sel[j]));
            json_array_append_new(
                    a, json_pack("{s:s, s:o}", "marking_ref", w->g[i].ref, "selectors", s));
        }
        json_object_set_new(o, "granular_markings", a);
    }
}

static const char *const ind_sels[] = { "description", "name", "pattern", "external_references",
    "external_references.[0]", "external_references.[1].url", "external_references.[0].source_name",
    "labels" };
static const char *const named_sels[] = { "name", "description" };
static const char *const rel_sels[] = { "description" };
static const char *const rep_sels[] = { "name", "description", "object_refs.[0]" };

/* MISP: the event's and attributes' tags, their levels under the rules */
typedef struct {
    char uuid[40], value[16], comment[16];
    const char *tags[2];
    int ntags, level;
} mattr;

static const char *const misp_tags[] = { "tlp:clear", "tlp:white", "tlp:green", "tlp:amber",
    "tlp:amber+strict", "tlp:red", "tlp:unclear", "tlp:ex:chr", "TLP:GREEN" };
static const int misp_tag_levels[] = { CLEAR, CLEAR, GREEN, AMBER, AMBER_STRICT, RED, RED, -1,
    GREEN };

static struct {
    bool on;
    char uuid[40], info[16];
    const char *tags[3];
    int ntags, level;
    mattr a[3];
    int na;
} ev;

static int tags_level(const char *const *tags, int n)
{
    int l = -1;
    for (int i = 0; i < n; i++)
        for (size_t k = 0; k < sizeof(misp_tags) / sizeof(misp_tags[0]); k++)
            if (strcmp(tags[i], misp_tags[k]) == 0)
                l = max_i(l, misp_tag_levels[k]);
    return l;
}

/* ---- building and ingesting a world ---- */

static char nowbuf[32];

static void build_world(json_t **main_bundle, json_t **later_bundle, char **misp)
{
    ncans = 0;
    nobjs = 0;
    ndefs = pick(4);
    ingest_tlp = pick(3) == 0 ? pick(5) : -1;
    for (int i = 0; i < ndefs; i++) {
        uuid(defs[i].id, sizeof(defs[i].id), "marking-definition");
        defs[i].kind = pick(K__COUNT);
        defs[i].level = pick(5);
        defs[i].place = pick(4);
    }
    int nind = 3 + pick(4), nnamed = 2 + pick(4), nrep = pick(3);
    for (int i = 0; i < nind; i++) {
        wobj *o = &objs[nobjs++];
        memset(o, 0, sizeof(*o));
        o->type = T_IND;
        uuid(o->id, sizeof(o->id), "indicator");
        o->nmarks = rand_marks(o->marks);
        rand_gran(o, ind_sels, (int)(sizeof(ind_sels) / sizeof(ind_sels[0])));
        token(o->value);
        token(o->name);
        token(o->desc);
        token(o->url[0]);
        token(o->url[1]);
    }
    for (int i = 0; i < nnamed; i++) {
        wobj *o = &objs[nobjs++];
        memset(o, 0, sizeof(*o));
        /* a tree: a campaign under an indicator, malware under an indicator or a campaign */
        int camps[16], nc = 0;
        for (int k = 0; k < nobjs - 1; k++)
            if (objs[k].type == T_CAMP && nc < 16)
                camps[nc++] = k;
        o->type = pick(2) ? T_CAMP : T_MAL;
        o->parent = o->type == T_MAL && nc && pick(2) ? camps[pick(nc)] : pick(nind);
        uuid(o->id, sizeof(o->id), o->type == T_CAMP ? "campaign" : "malware");
        o->nmarks = rand_marks(o->marks);
        rand_gran(o, named_sels, 2);
        token(o->name);
        token(o->desc);
        wobj *r = &objs[nobjs++];
        memset(r, 0, sizeof(*r));
        r->type = T_REL;
        uuid(r->id, sizeof(r->id), "relationship");
        r->nmarks = rand_marks(r->marks);
        rand_gran(r, rel_sels, 1);
        r->src = o->parent;
        r->dst = (int)(o - objs);
        token(r->desc);
        o->rel = (int)(r - objs);
    }
    for (int i = 0; i < nrep; i++) {
        wobj *o = &objs[nobjs++];
        memset(o, 0, sizeof(*o));
        o->type = T_REPORT;
        uuid(o->id, sizeof(o->id), "report");
        o->nmarks = rand_marks(o->marks);
        rand_gran(o, rep_sels, 3);
        token(o->name);
        token(o->desc);
        o->nrefs = 1 + pick(4);
        for (int k = 0; k < o->nrefs; k++)
            o->refs[k] = pick(nobjs - 1);
    }
    for (int i = 0; i < nobjs; i++)
        objs[i].level = obj_level(&objs[i]);

    /* the JSON */
    json_t *main_objs = json_array(), *later = json_array();
    for (int i = 0; i < ndefs; i++)
        if (defs[i].place == P_BEFORE)
            json_array_append_new(main_objs, def_json(&defs[i]));
        else if (defs[i].place == P_LATER)
            json_array_append_new(later, def_json(&defs[i]));
    for (int i = 0; i < nobjs; i++) {
        wobj *w = &objs[i];
        json_t *o = json_object();
        char buf[128];
        switch (w->type) {
            case T_IND:
                common(o, w, "indicator", nowbuf);
                snprintf(buf, sizeof(buf), "[domain-name:value = '%s.tideleak.net']", w->value);
                json_object_set_new(o, "pattern", json_string(buf));
                json_object_set_new(o, "pattern_type", json_string("stix"));
                json_object_set_new(o, "valid_from", json_string(nowbuf));
                json_object_set_new(o, "name", json_string(w->name));
                json_object_set_new(o, "description", json_string(w->desc));
                json_object_set_new(o, "labels", json_pack("[s]", "malicious-activity"));
                snprintf(buf, sizeof(buf), "https://%s.example.org/a", w->url[0]);
                {
                    char b2[128];
                    snprintf(b2, sizeof(b2), "https://%s.example.org/b", w->url[1]);
                    json_object_set_new(o, "external_references",
                            json_pack("[{s:s, s:s}, {s:s, s:s}]", "source_name", "one", "url", buf,
                                    "source_name", "two", "url", b2));
                }
                break;
            case T_CAMP:
            case T_MAL:
                common(o, w, w->type == T_CAMP ? "campaign" : "malware", nowbuf);
                json_object_set_new(o, "name", json_string(w->name));
                json_object_set_new(o, "description", json_string(w->desc));
                if (w->type == T_MAL)
                    json_object_set_new(o, "is_family", json_true());
                break;
            case T_REL:
                common(o, w, "relationship", nowbuf);
                json_object_set_new(o, "relationship_type",
                        json_string(objs[w->src].type == T_IND ? "indicates" : "uses"));
                json_object_set_new(o, "source_ref", json_string(objs[w->src].id));
                json_object_set_new(o, "target_ref", json_string(objs[w->dst].id));
                json_object_set_new(o, "description", json_string(w->desc));
                break;
            default: {
                common(o, w, "report", nowbuf);
                json_object_set_new(o, "name", json_string(w->name));
                json_object_set_new(o, "description", json_string(w->desc));
                json_object_set_new(o, "published", json_string(nowbuf));
                json_t *a = json_array();
                for (int k = 0; k < w->nrefs; k++)
                    json_array_append_new(a, json_string(objs[w->refs[k]].id));
                json_object_set_new(o, "object_refs", a);
                break;
            }
        }
        json_array_append_new(main_objs, o);
    }
    for (int i = 0; i < ndefs; i++)
        if (defs[i].place == P_AFTER)
            json_array_append_new(main_objs, def_json(&defs[i]));
    char bid[80];
    uuid(bid, sizeof(bid), "bundle");
    *main_bundle = json_pack("{s:s, s:s, s:o}", "type", "bundle", "id", bid, "objects", main_objs);
    uuid(bid, sizeof(bid), "bundle");
    *later_bundle = json_pack("{s:s, s:s, s:o}", "type", "bundle", "id", bid, "objects", later);

    /* a MISP event: several tlp tags, attributes with their own */
    ev.on = pick(3) != 0;
    *misp = NULL;
    if (ev.on) {
        char u[80];
        uuid(u, sizeof(u), "x");
        memcpy(ev.uuid, u + 3, 36);
        ev.uuid[36] = '\0';
        token(ev.info);
        ev.ntags = pick(4);
        for (int i = 0; i < ev.ntags; i++)
            ev.tags[i] = misp_tags[pick(9)];
        ev.level = tags_level(ev.tags, ev.ntags);
        ev.na = 1 + pick(3);
        json_t *attrs = json_array();
        for (int i = 0; i < ev.na; i++) {
            mattr *a = &ev.a[i];
            uuid(u, sizeof(u), "x");
            memcpy(a->uuid, u + 3, 36);
            a->uuid[36] = '\0';
            token(a->value);
            token(a->comment);
            a->ntags = pick(3);
            for (int k = 0; k < a->ntags; k++)
                a->tags[k] = misp_tags[pick(9)];
            int l = max_i(ev.level, tags_level(a->tags, a->ntags));
            a->level = l >= 0 ? l : ingest_tlp >= 0 ? ingest_tlp : AMBER;
            json_t *tags = json_array();
            for (int k = 0; k < a->ntags; k++)
                json_array_append_new(tags, json_pack("{s:s}", "name", a->tags[k]));
            char val[64];
            snprintf(val, sizeof(val), "%s.tideleak.net", a->value);
            json_array_append_new(
                    attrs, json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:o}", "uuid", a->uuid, "type",
                                   "domain", "category", "Network activity", "value", val, "to_ids",
                                   1, "comment", a->comment, "Tag", tags));
        }
        json_t *tags = json_array();
        for (int k = 0; k < ev.ntags; k++)
            json_array_append_new(tags, json_pack("{s:s}", "name", ev.tags[k]));
        char ts[32];
        snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL) - 3600);
        json_t *e = json_pack("{s:{s:s, s:s, s:s, s:o, s:o}}", "Event", "uuid", ev.uuid, "info",
                ev.info, "timestamp", ts, "Tag", tags, "Attribute", attrs);
        *misp = json_dumps(e, JSON_COMPACT);
        json_decref(e);
        if (ev.level < 0)
            ev.level = ingest_tlp >= 0 ? ingest_tlp : AMBER;
    }

    /* the canaries, at the levels of the rules */
    for (int i = 0; i < nobjs; i++) {
        wobj *w = &objs[i];
        switch (w->type) {
            case T_IND:
                plant(w->value, path_level(w, "pattern"), "indicator pattern");
                plant(w->name, path_level(w, "name"), "indicator name");
                plant(w->desc, path_level(w, "description"), "indicator description");
                plant(w->url[0], path_level(w, "external_references.[0].url"),
                        "external_references[0].url");
                plant(w->url[1], path_level(w, "external_references.[1].url"),
                        "external_references[1].url");
                break;
            case T_CAMP:
            case T_MAL:
                plant(w->name, path_level(w, "name"), "campaign / malware name");
                plant(w->desc, path_level(w, "description"), "campaign / malware description");
                break;
            case T_REL:
                plant(w->desc, path_level(w, "description"), "relationship description");
                break;
            default:
                plant(w->name, path_level(w, "name"), "report name");
                plant(w->desc, path_level(w, "description"), "report description");
                break;
        }
    }
    if (ev.on) {
        plant(ev.info, ev.level, "MISP event info");
        for (int i = 0; i < ev.na; i++) {
            plant(ev.a[i].value, ev.a[i].level, "MISP attribute value");
            plant(ev.a[i].comment, ev.a[i].level, "MISP attribute comment");
        }
    }
}

/* ---- checking an output ---- */

static uint64_t world_seed;

/* No token and no object id above the ceiling in text. share: levels of the case share
 * (name_level / id_level overrides for named objects, hosts never). */
static void check_text(int ceiling, const char *what, const char *text, const int *named_override)
{
    for (int i = 0; i < ncans; i++) {
        int l = cans[i].level;
        if (named_override) {
            for (int k = 0; k < nobjs; k++)
                if ((objs[k].type == T_CAMP || objs[k].type == T_MAL) &&
                        strcmp(objs[k].name, cans[i].tok) == 0)
                    l = max_i(l, named_override[k]);
        }
        if (l > ceiling && strstr(text, cans[i].tok) != NULL)
            TIDE_FAIL_("seed %llu: %s at --tlp-max %s: %s %s (level %d) leaked",
                    (unsigned long long)world_seed, what, names[ceiling], cans[i].what, cans[i].tok,
                    l);
    }
    for (int k = 0; k < nobjs; k++) {
        int l = objs[k].level;
        if (named_override && (objs[k].type == T_CAMP || objs[k].type == T_MAL))
            l = max_i(l, named_override[k]);
        if (l > ceiling && strstr(text, objs[k].id + strlen(objs[k].id) - 36) != NULL)
            TIDE_FAIL_("seed %llu: %s at --tlp-max %s: id %s (level %d) leaked",
                    (unsigned long long)world_seed, what, names[ceiling], objs[k].id, l);
    }
    for (int k = 0; k < ndefs; k++) {
        int m = meaning(defs[k].id);
        if (m > ceiling && defs[k].kind != K_STATEMENT && strstr(text, defs[k].id) != NULL)
            TIDE_FAIL_("seed %llu: %s at --tlp-max %s: marking-definition %s (level %d) leaked",
                    (unsigned long long)world_seed, what, names[ceiling], defs[k].id, m);
    }
    if (ev.on) {
        if (ev.level > ceiling && strstr(text, ev.uuid) != NULL)
            TIDE_FAIL_("seed %llu: %s at --tlp-max %s: MISP event id %s leaked",
                    (unsigned long long)world_seed, what, names[ceiling], ev.uuid);
        for (int i = 0; i < ev.na; i++)
            if (ev.a[i].level > ceiling && strstr(text, ev.a[i].uuid) != NULL)
                TIDE_FAIL_("seed %llu: %s at --tlp-max %s: MISP attribute id %s leaked",
                        (unsigned long long)world_seed, what, names[ceiling], ev.a[i].uuid);
    }
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    size_t got = fread(b, 1, (size_t)n, f);
    b[got] = '\0';
    fclose(f);
    return b;
}

/* The whole output of an export: its stream, or every file of its folder. */
static char *export_text(tide_store *s, int fmt, int ceiling, const char *dir)
{
    tide_export_opts o;
    tide_export_opts_init(&o);
    o.format = fmt;
    o.tlp_max = names[ceiling];
    char out[600];
    char *buf = NULL;
    size_t len = 0;
    if (tide_export_format_is_dir(fmt)) {
        snprintf(out, sizeof(out), "%s/%s-%d", dir, tide_export_format_name(fmt), ceiling);
        o.output = out;
        if (tide_export_run(s, &o, NULL, NULL, NULL, NULL) != 0)
            TIDE_FAIL_("seed %llu: export %s: %s", (unsigned long long)world_seed,
                    tide_export_format_name(fmt), tide_error_last());
        FILE *m = open_memstream(&buf, &len);
        DIR *d = opendir(out);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
            if (de->d_name[0] == '.')
                continue;
            char fp[1200];
            snprintf(fp, sizeof(fp), "%s/%s", out, de->d_name);
            char *t = slurp(fp);
            if (t)
                fputs(t, m);
            free(t);
        }
        if (d)
            closedir(d);
        fclose(m);
        return buf;
    }
    FILE *m = open_memstream(&buf, &len);
    if (tide_export_run(s, &o, m, NULL, NULL, NULL) != 0)
        TIDE_FAIL_("seed %llu: export %s: %s", (unsigned long long)world_seed,
                tide_export_format_name(fmt), tide_error_last());
    fclose(m);
    return buf;
}

/* txt holds exactly the values at or below the ceiling. */
static void check_txt_exact(int ceiling, const char *txt)
{
    int want = 0;
    for (int i = 0; i < nobjs; i++) {
        if (objs[i].type != T_IND)
            continue;
        bool in = strstr(txt, objs[i].value) != NULL;
        bool should = path_level(&objs[i], "pattern") <= ceiling;
        want += should;
        if (in != should)
            TIDE_FAIL_("seed %llu: txt at --tlp-max %s: %s %s (level %d) %s",
                    (unsigned long long)world_seed, names[ceiling], objs[i].id, objs[i].value,
                    path_level(&objs[i], "pattern"), in ? "written" : "missing");
    }
    for (int i = 0; ev.on && i < ev.na; i++) {
        bool in = strstr(txt, ev.a[i].value) != NULL;
        bool should = ev.a[i].level <= ceiling;
        want += should;
        if (in != should)
            TIDE_FAIL_("seed %llu: txt at --tlp-max %s: MISP attribute %s (level %d) %s",
                    (unsigned long long)world_seed, names[ceiling], ev.a[i].value, ev.a[i].level,
                    in ? "written" : "missing");
    }
    int lines = 0;
    for (const char *p = txt; *p; p++)
        lines += *p == '\n';
    TIDE_ASSERT_EQ_INT(lines, want);
}

/* Whether named object k may be named with indicator i under the ceiling: the walk's first
 * hop (k a child of i) or second (k a child of a named child of i), every relationship on the
 * way and every name passing. In the world's tree nothing else links them. */
static bool name_allowed(int i, int k, int ceiling)
{
    const wobj *n = &objs[k];
    if (path_level(n, "name") > ceiling || objs[n->rel].level > ceiling)
        return false;
    if (n->parent == i)
        return true;
    const wobj *j = &objs[n->parent];
    return (j->type == T_CAMP || j->type == T_MAL) && j->parent == i &&
           objs[j->rel].level <= ceiling && path_level(j, "name") <= ceiling;
}

/* Every related name of a CSV row may be named with its indicator. */
static void check_csv_names(int ceiling, const char *csv)
{
    const char *line = strchr(csv, '\n');
    while (line && line[1]) {
        line++;
        const char *end = strchr(line, '\n');
        char row[2048];
        size_t n = end ? (size_t)(end - line) : strlen(line);
        if (n >= sizeof(row))
            n = sizeof(row) - 1;
        memcpy(row, line, n);
        row[n] = '\0';
        if (n && row[n - 1] == '\r')
            row[n - 1] = '\0';
        /* value,type,score,confidence,source,tlp,valid_from,valid_until,indicator_id,related */
        char *f[10] = { 0 };
        int nf = 0;
        char *p = row;
        while (nf < 10) {
            f[nf++] = p;
            char *c = strchr(p, ',');
            if (c == NULL)
                break;
            *c = '\0';
            p = c + 1;
        }
        if (nf == 10) {
            int ind = -1;
            for (int i = 0; i < nobjs; i++)
                if (strcmp(objs[i].id, f[8]) == 0)
                    ind = i;
            char *tok = f[9];
            while (ind >= 0 && tok && *tok) {
                char *sep = strstr(tok, "; ");
                if (sep)
                    *sep = '\0';
                bool ok = strcmp(tok, objs[ind].name) == 0;
                for (int k = 0; k < nobjs && !ok; k++)
                    if ((objs[k].type == T_CAMP || objs[k].type == T_MAL) &&
                            strcmp(objs[k].name, tok) == 0)
                        ok = name_allowed(ind, k, ceiling);
                if (!ok)
                    TIDE_FAIL_("seed %llu: csv at --tlp-max %s: %s named with %s through what "
                               "may not pass",
                            (unsigned long long)world_seed, names[ceiling], tok, objs[ind].id);
                tok = sep ? sep + 2 : NULL;
            }
        }
        line = end;
    }
}

/* Levels of the named objects in a case share seeded at indicator seed: the path the case
 * attributed them by (relationships and the named objects on it), NEVER when not attributed. */
static void share_levels(int seed, int *out)
{
    for (int k = 0; k < nobjs; k++) {
        out[k] = NEVER;
        if (objs[k].type != T_CAMP && objs[k].type != T_MAL)
            continue;
        int l = objs[objs[k].rel].level, up = objs[k].parent;
        while (up != seed && (objs[up].type == T_CAMP || objs[up].type == T_MAL)) {
            l = max_i(l, max_i(objs[up].level, objs[objs[up].rel].level));
            up = objs[up].parent;
        }
        if (up == seed)
            out[k] = l;
    }
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void run_world(uint64_t seed)
{
    world_seed = seed;
    rs = seed * 0x9E3779B97F4A7C15ULL + 1;
    json_t *mb, *lb;
    char *misp;
    build_world(&mb, &lb, &misp);
    char dir[512];
    snprintf(dir, sizeof(dir), "%s", tide_test_tmpdir());
    tide_store *s = NULL;
    TIDE_ASSERT_EQ_INT(tide_store_open(&s, dir), 0);
    tide_ingest_opts io = { .confidence = -1 };
    io.source = "leak";
    io.tlp = ingest_tlp >= 0 ? names[ingest_tlp] : NULL;
    char *t = json_dumps(mb, JSON_COMPACT);
    if (getenv("TIDE_LEAK_KEEP")) {
        /* keep the world to look at: its inputs and store stay in dir */
        fprintf(stderr, "world %llu in %s\n", (unsigned long long)seed, dir);
        char p[600];
        snprintf(p, sizeof(p), "%s/main.json", dir);
        json_dump_file(mb, p, JSON_INDENT(1));
        snprintf(p, sizeof(p), "%s/later.json", dir);
        json_dump_file(lb, p, JSON_INDENT(1));
        snprintf(p, sizeof(p), "%s/event.json", dir);
        FILE *f = misp ? fopen(p, "w") : NULL;
        if (f) {
            fputs(misp, f);
            fclose(f);
        }
    }
    TIDE_ASSERT_EQ_INT(
            tide_ingest_buffer(s, t, strlen(t), "main.json", TIDE_FMT_STIX, &io, NULL, NULL, NULL),
            0);
    free(t);
    t = json_dumps(lb, JSON_COMPACT);
    TIDE_ASSERT_EQ_INT(
            tide_ingest_buffer(s, t, strlen(t), "later.json", TIDE_FMT_STIX, &io, NULL, NULL, NULL),
            0);
    free(t);
    if (misp) {
        TIDE_ASSERT_EQ_INT(tide_ingest_buffer(s, misp, strlen(misp), "event.json", TIDE_FMT_MISP,
                                   &io, NULL, NULL, NULL),
                0);
        free(misp);
    }
    json_decref(mb);
    json_decref(lb);

    /* every export format at every ceiling */
    for (int c = CLEAR; c <= RED; c++) {
        for (int f = 0; f < TIDE_EXPORT__COUNT; f++) {
            char *text = export_text(s, f, c, dir);
            char what[64];
            snprintf(what, sizeof(what), "export %s", tide_export_format_name(f));
            check_text(c, what, text ? text : "", NULL);
            if (f == TIDE_EXPORT_TXT)
                check_txt_exact(c, text ? text : "");
            if (f == TIDE_EXPORT_CSV)
                check_csv_names(c, text ? text : "");
            free(text);
        }
    }

    /* a case on a random indicator, on a host that must never be named, shared at every
     * ceiling */
    int inds[16], ni = 0;
    for (int i = 0; i < nobjs && ni < 16; i++)
        if (objs[i].type == T_IND)
            inds[ni++] = i;
    int seed_ind = inds[pick(ni)];
    char host[16], value[64];
    token(host);
    plant(host, NEVER, "host name");
    snprintf(value, sizeof(value), "%s.tideleak.net", objs[seed_ind].value);
    tide_case_opts co = { 0 };
    co.no_hunt = true;
    int64_t cid = 0;
    int rc = tide_case_open(s, &co, 0, host, value, &cid, NULL);
    if (rc != 0)
        TIDE_FAIL_("seed %llu: case open: %s", (unsigned long long)seed, tide_error_last());
    int share[64];
    share_levels(seed_ind, share);
    for (int c = CLEAR; c <= RED; c++) {
        char path[600];
        snprintf(path, sizeof(path), "%s/share-%d.json", dir, c);
        size_t n = 0;
        if (tide_case_share(s, cid, names[c], path, &n) != 0)
            TIDE_FAIL_("seed %llu: share: %s", (unsigned long long)seed, tide_error_last());
        char *text = slurp(path);
        check_text(c, "case share", text ? text : "", share);
        free(text);
    }
    tide_store_free(s);
    if (getenv("TIDE_LEAK_KEEP"))
        return;
    if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtoull(v, NULL, 10) : dflt;
}

static void t_every_path(void)
{
    time_t now = time(NULL) - 86400;
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(nowbuf, sizeof(nowbuf), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    uint64_t one = env_u64("TIDE_LEAK_SEED", 0);
    if (one) {
        run_world(one);
        return;
    }
    uint64_t base = (uint64_t)time(NULL), n = env_u64("TIDE_LEAK_WORLDS", 40);
    for (uint64_t i = 0; i < n; i++)
        run_world(base + i * 7919);
}

/* ---- the gate alone: random objects, deep granular markings ---- */

/* The value a STIX selector selects in o, or NULL. */
static json_t *select_path(json_t *o, const char *sel)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", sel);
    json_t *cur = o;
    for (char *save = NULL, *t = strtok_r(buf, ".", &save); t && cur;
            t = strtok_r(NULL, ".", &save)) {
        if (t[0] == '[') {
            char *end;
            long k = strtol(t + 1, &end, 10);
            if (*end != ']' || end[1] != '\0' || !json_is_array(cur) || k < 0)
                return NULL;
            cur = json_array_get(cur, (size_t)k);
        } else {
            cur = json_is_object(cur) ? json_object_get(cur, t) : NULL;
        }
    }
    return cur;
}

/* The tokens inside a value. */
static void tokens_in(json_t *v, void (*cb)(const char *tok, void *p), void *p)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        for (const char *q = strchr(s, 'q'); q; q = strchr(q + 1, 'q'))
            if (strlen(q) >= 12 && q[11] == 'z') {
                char t[13];
                memcpy(t, q, 12);
                t[12] = '\0';
                cb(t, p);
            }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) tokens_in(e, cb, p);
    } else if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e) tokens_in(e, cb, p);
    }
}

/* What marks each token: (token, marking_ref) pairs of the kept granular markings. */
typedef struct {
    char tok[13];
    const char *ref;
} tok_mark;

typedef struct {
    tok_mark v[512];
    int n;
    const char *ref;
} tok_marks;

static void add_tok_mark(const char *tok, void *p)
{
    tok_marks *m = p;
    if (m->n < 512) {
        snprintf(m->v[m->n].tok, sizeof(m->v[m->n].tok), "%s", tok);
        m->v[m->n++].ref = m->ref;
    }
}

static void marks_of(json_t *o, tok_marks *m, int ceiling, bool check_resolves, uint64_t seed)
{
    m->n = 0;
    size_t i, j;
    json_t *g, *sel;
    json_array_foreach(json_object_get(o, "granular_markings"), i, g)
    {
        const char *ref = json_string_value(json_object_get(g, "marking_ref"));
        if (ref == NULL || meaning(ref) > ceiling)
            continue;
        m->ref = ref;
        json_array_foreach(json_object_get(g, "selectors"), j, sel)
        {
            json_t *v = select_path(o, json_string_value(sel));
            if (v == NULL && check_resolves)
                TIDE_FAIL_("seed %llu: selector %s of the output selects nothing",
                        (unsigned long long)seed, json_string_value(sel));
            if (v)
                tokens_in(v, add_tok_mark, m);
        }
    }
}

static bool has_tok_mark(const tok_marks *m, const char *tok, const char *ref)
{
    for (int i = 0; i < m->n; i++)
        if (strcmp(m->v[i].tok, tok) == 0 && strcmp(m->v[i].ref, ref) == 0)
            return true;
    return false;
}

typedef struct {
    const tok_marks *in, *out;
    uint64_t seed;
} marks_pair;

static marks_pair *cur_pair;

static void check_kept_mark(const char *tok, void *p)
{
    (void)p;
    for (int i = 0; i < cur_pair->in->n; i++)
        if (strcmp(cur_pair->in->v[i].tok, tok) == 0 &&
                !has_tok_mark(cur_pair->out, tok, cur_pair->in->v[i].ref))
            TIDE_FAIL_("seed %llu: %s lost its granular marking %s",
                    (unsigned long long)cur_pair->seed, tok, cur_pair->in->v[i].ref);
}

/* Level of each token: the object's, raised by the granular markings that select it. */
typedef struct {
    char tok[13];
    int level;
} tok_level;

static tok_level tl[512];
static int ntl;

static void set_tok_level(const char *tok, void *p)
{
    int l = *(int *)p;
    for (int i = 0; i < ntl; i++)
        if (strcmp(tl[i].tok, tok) == 0) {
            tl[i].level = max_i(tl[i].level, l);
            return;
        }
    if (ntl < 512) {
        snprintf(tl[ntl].tok, sizeof(tl[ntl].tok), "%s", tok);
        tl[ntl++].level = l;
    }
}

static int tok_level_of(const char *tok)
{
    for (int i = 0; i < ntl; i++)
        if (strcmp(tl[i].tok, tok) == 0)
            return tl[i].level;
    return -1;
}

static int out_ceiling;
static uint64_t out_seed;

static void check_out_tok(const char *tok, void *p)
{
    (void)p;
    int l = tok_level_of(tok);
    if (l > out_ceiling)
        TIDE_FAIL_("seed %llu: gate at --tlp-max %s let %s (level %d) through",
                (unsigned long long)out_seed, names[out_ceiling], tok, l);
}

static json_t *tok_str(void)
{
    char t[16];
    return json_string(token(t));
}

static const char *const deep_sels[] = { "name", "description", "labels", "labels.[0]",
    "labels.[1]", "labels.[2]", "external_references", "external_references.[0]",
    "external_references.[1]", "external_references.[0].url", "external_references.[1].url",
    "external_references.[1].description", "external_references.[2].source_name",
    "kill_chain_phases.[0].phase_name", "kill_chain_phases.[1]", "aliases.[0]", "aliases",
    "x_extra.inner.[1].deep", "x_extra.inner", "x_extra", "pattern", "object_refs.[0]",
    "object_refs.[1]", "bogus", "labels.[9]", "labels.x", "revoked", "id" };

static json_t *random_object(int *type_out)
{
    static const char *const types[] = { "indicator", "campaign", "malware", "report", "x-custom" };
    int t = pick(5);
    *type_out = t;
    char id[96];
    uuid(id, sizeof(id), types[t]);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", types[t], "spec_version", "2.1",
            "id", id, "created", "2024-01-01T00:00:00.000Z", "modified",
            "2024-01-01T00:00:00.000Z");
    json_object_set_new(o, "name", tok_str());
    json_object_set_new(o, "description", tok_str());
    json_object_set_new(o, "labels", json_pack("[o, o, o]", tok_str(), tok_str(), tok_str()));
    json_object_set_new(o, "external_references",
            json_pack("[{s:o, s:o}, {s:o, s:o, s:o}, {s:o, s:o}]", "source_name", tok_str(), "url",
                    tok_str(), "source_name", tok_str(), "url", tok_str(), "description", tok_str(),
                    "source_name", tok_str(), "external_id", tok_str()));
    json_object_set_new(o, "kill_chain_phases",
            json_pack("[{s:s, s:o}, {s:s, s:o}]", "kill_chain_name", "k", "phase_name", tok_str(),
                    "kill_chain_name", "k", "phase_name", tok_str()));
    json_object_set_new(o, "aliases", json_pack("[o, o]", tok_str(), tok_str()));
    json_object_set_new(o, "x_extra",
            json_pack("{s:[o, {s:o, s:o}]}", "inner", tok_str(), "deep", tok_str(), "other",
                    tok_str()));
    if (t == 0) {
        char pat[96], tk[16];
        snprintf(pat, sizeof(pat), "[domain-name:value = '%s.tideleak.net']", token(tk));
        json_object_set_new(o, "pattern", json_string(pat));
        json_object_set_new(o, "pattern_type", json_string("stix"));
        json_object_set_new(o, "valid_from", json_string("2024-01-01T00:00:00.000Z"));
    }
    if (t == 3) {
        char r1[96], r2[96];
        uuid(r1, sizeof(r1), "indicator");
        uuid(r2, sizeof(r2), "campaign");
        json_object_set_new(o, "object_refs", json_pack("[s, s]", r1, r2));
        json_object_set_new(o, "published", json_string("2024-01-01T00:00:00.000Z"));
    }
    if (t == 2)
        json_object_set_new(o, "is_family", json_true());
    const char *marks[4];
    int nm = rand_marks(marks);
    if (nm) {
        json_t *a = json_array();
        for (int i = 0; i < nm; i++)
            json_array_append_new(a, json_string(marks[i]));
        json_object_set_new(o, "object_marking_refs", a);
    }
    int ng = pick(4);
    if (ng) {
        json_t *a = json_array();
        for (int i = 0; i < ng; i++) {
            const char *ref = ndefs && pick(4) == 0 ? defs[pick(ndefs)].id
                              : pick(2)             ? tlp2_ids[pick(5)]
                                                    : tlp1_ids[pick(4)];
            json_t *sels = json_array();
            for (int k = 0, n = 1 + pick(3); k < n; k++)
                json_array_append_new(sels,
                        json_string(
                                deep_sels[pick((int)(sizeof(deep_sels) / sizeof(deep_sels[0])))]));
            json_array_append_new(
                    a, json_pack("{s:s, s:o}", "marking_ref", ref, "selectors", sels));
        }
        if (pick(5) == 0) /* a language marking: kept as it is */
            json_array_append_new(a, json_pack("{s:s, s:[s]}", "lang", "fr", "selectors", "name"));
        json_object_set_new(o, "granular_markings", a);
    }
    return o;
}

static void t_gate_random(void)
{
    uint64_t one = env_u64("TIDE_LEAK_SEED", 0);
    uint64_t base = one ? one : (uint64_t)time(NULL),
             n = one ? 1 : env_u64("TIDE_LEAK_OBJECTS", 20000);
    tide_gate *g[5];
    for (int c = 0; c < 5; c++)
        TIDE_ASSERT_EQ_INT(tide_gate_new(&g[c], NULL, c), 0);
    long passed = 0, redacted = 0, withheld = 0;
    for (uint64_t it = 0; it < n; it++) {
        uint64_t seed = base + it * 104729;
        rs = seed * 0x9E3779B97F4A7C15ULL + 1;
        /* custom definitions, unknown to a gate without a store: red */
        ndefs = pick(3);
        for (int i = 0; i < ndefs; i++) {
            uuid(defs[i].id, sizeof(defs[i].id), "marking-definition");
            defs[i].kind = K_TLP1;
            defs[i].level = pick(5);
            defs[i].place = P_NEVER;
        }
        ingest_tlp = -1;
        int type;
        json_t *o = random_object(&type);
        /* the rules: the object's level, each token's */
        int ol = -1;
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(o, "object_marking_refs"), i, v) ol =
                max_i(ol, meaning(json_string_value(v)));
        if (ol < 0)
            ol = AMBER;
        ntl = 0;
        tokens_in(o, set_tok_level, &ol);
        json_t *gm;
        json_array_foreach(json_object_get(o, "granular_markings"), i, gm)
        {
            const char *ref = json_string_value(json_object_get(gm, "marking_ref"));
            if (ref == NULL)
                continue;
            int ml = meaning(ref);
            size_t j;
            json_t *sel;
            json_array_foreach(json_object_get(gm, "selectors"), j, sel)
            {
                json_t *x = select_path(o, json_string_value(sel));
                if (x)
                    tokens_in(x, set_tok_level, &ml);
            }
        }
        char *in = json_dumps(o, JSON_COMPACT);
        int c = pick(5);
        char *out = NULL;
        int level = -1;
        int verdict = tide_gate_object(g[c], in, strlen(in), NULL, &out, &level);
        if (verdict < 0)
            TIDE_FAIL_("seed %llu: gate: %s", (unsigned long long)seed, tide_error_last());
        if (level != ol)
            TIDE_FAIL_("seed %llu: gate says level %d, the rules %d", (unsigned long long)seed,
                    level, ol);
        if (ol > c && verdict != TIDE_GATE_WITHHELD)
            TIDE_FAIL_("seed %llu: an object at level %d passed --tlp-max %s",
                    (unsigned long long)seed, ol, names[c]);
        if (verdict == TIDE_GATE_WITHHELD) {
            withheld++;
        } else {
            json_t *ob = out ? json_loads(out, 0, NULL) : json_incref(o);
            TIDE_ASSERT(ob != NULL);
            if (verdict == TIDE_GATE_PASS) {
                passed++;
                TIDE_ASSERT(out == NULL);
            } else {
                redacted++;
            }
            out_ceiling = c;
            out_seed = seed;
            tokens_in(ob, check_out_tok, NULL);
            /* the required properties are there */
            TIDE_ASSERT(json_object_get(ob, "id") && json_object_get(ob, "type"));
            if (type == 0)
                TIDE_ASSERT(json_is_string(json_object_get(ob, "pattern")));
            if (type == 3)
                TIDE_ASSERT(json_array_size(json_object_get(ob, "object_refs")) > 0);
            /* granular markings that stay select what they selected, and nothing gone */
            tok_marks min, mout;
            marks_of(o, &min, c, false, seed);
            marks_of(ob, &mout, c, true, seed);
            marks_pair mp = { &min, &mout, seed };
            cur_pair = &mp;
            tokens_in(ob, check_kept_mark, NULL);
            /* a description at or below the ceiling stays */
            json_t *d = json_object_get(o, "description");
            char dt[13];
            memcpy(dt, json_string_value(d), 12);
            dt[12] = '\0';
            if (tok_level_of(dt) <= c && !json_object_get(ob, "description"))
                TIDE_FAIL_("seed %llu: description at level %d removed at --tlp-max %s",
                        (unsigned long long)seed, tok_level_of(dt), names[c]);
            json_decref(ob);
        }
        free(out);
        free(in);
        json_decref(o);
    }
    for (int c = 0; c < 5; c++)
        tide_gate_free(g[c]);
    printf("  %llu objects: %ld passed, %ld redacted, %ld withheld\n", (unsigned long long)n,
            passed, redacted, withheld);
    TIDE_ASSERT(n < 100 || (passed > 0 && redacted > 0 && withheld > 0));
}

TIDE_TESTS = { { "tlp_leak::gate_random", t_gate_random }, { "tlp_leak::every_path", t_every_path },
    { NULL, NULL } };
TIDE_TEST_MAIN
