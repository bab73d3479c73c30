/*
 * case_share.c - what a case gives back (SPEC C5): a STIX 2.1 bundle for peers (a report, the
 * case's indicators and malware / campaign objects as stored, a course-of-action per plan
 * action, and anonymised sightings: counts and times per indicator, never host names). Every
 * stored object goes through the gate of tide/gate.h (withheld above the TLP ceiling, or
 * shared with what is marked above it removed); an attributed object, and its name, only when
 * the path that attributed it may pass too; an indicator when the case's report is shared only
 * when it is a seed or in the case through an attribution that may pass, and when it is not
 * only when a link that passes relates it to an attributed name. Text tide writes (the report, the
 * courses of action) carries the case TLP raised by the levels of the marked values it quotes
 * (names, indicator values; host names never leave), and is left out when that is above the
 * ceiling. Then the metrics: time to detect, contain, recover, dwell time, counts by tier, internal
 * vs external intel.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case_store.h"
#include "cases_int.h"
#include "intel/tlp.h"
#include "tide/errors.h"
#include "tide/gate.h"
#include "tide/tlp.h"
#include "util/outfile.h"
#include "util/util.h"

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int64_t jint(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static void stix_id(const char *type, const char *seed, char out[128])
{
    char u[37];
    if (tide__uuid5("6ba7b811-9dad-11d1-80b4-00c04fd430c8", seed, strlen(seed), u) < 0)
        snprintf(u, sizeof(u), "00000000-0000-4000-8000-000000000000");
    snprintf(out, 128, "%s--%s", type, u);
}

/* Course-of-action text for peers: what to do, never which of our hosts or users, with the
 * scope the plan gives the action: how many of the case's hosts it applies to (and why those,
 * when not all), or, for an action the plan makes once per indicator, every one of them. */
static const char *coa_text(json_t *action, json_t *doc, tide_buf *buf)
{
    const char *a = jstr(action, "action"), *ctl = jstr(action, "control");
    json_t *plan = json_object_get(doc, "plan");
    long nhosts = (long)json_array_size(json_object_get(doc, "hosts")), n = 0, naccounts = 0;
    size_t i;
    json_t *v;
    bool per_host = json_is_string(json_object_get(action, "host"));
    tide__buf_clear(buf);
    json_array_foreach(plan, i, v)
    {
        if (strcmp(jstr(v, "action"), a) != 0 || strcmp(jstr(v, "control"), ctl) != 0)
            continue;
        n++;
        naccounts += (long)json_array_size(json_object_get(v, "evidence"));
        if (!per_host) /* one per indicator (tier 1 blocks): every one of them */
            tide__buf_printf(buf, "%s%s", buf->len ? "; " : "", jstr(v, "justification"));
    }
    if (!per_host)
        return buf->ptr ? buf->ptr : jstr(action, "justification");
    tide__buf_printf(buf, "%s (%s) on %s%ld of the case's %ld affected host(s)", a, ctl,
            n == nhosts ? "each of " : "", n, nhosts);
    if (strcmp(a, "re-image") == 0)
        tide__buf_puts(buf, ": those whose eradication could not be verified (a case indicator "
                            "was seen again during the watch)");
    else if (strcmp(a, "reset-credentials") == 0)
        tide__buf_printf(buf, "%s%ld user account(s) the telemetry named (names not shared)",
                n == nhosts ? ": " : ": those where the telemetry named users, ", naccounts);
    tide__buf_printf(buf, "; %s", jstr(doc, "rule") ? jstr(doc, "rule") : "");
    return buf->ptr ? buf->ptr : "";
}

/* The marking-definition id of a level (TLP 2.0). */
static const char *marking_of(int level)
{
    return tide__tlp_marking_id(tide_tlp_name(level > TIDE_TLP_RED ? TIDE_TLP_RED : level));
}

typedef struct {
    tide_store *s;
    tide_gate *g;
    json_t *objs, *refs;
    size_t left_out;
} share_ctx;

/* A stored object through the gate: appended (as it may leave) and referred to by the
 * report, or left out. label: the TLP the store keeps for it ("" unmarked), NULL to look it
 * up. 1 shared, 0 left out, < 0 an error. */
static int share_stored(share_ctx *c, const char *id, const char *label)
{
    char *js = NULL, *redacted = NULL;
    int rc = tide_store_get(c->s, id, NULL, &js);
    if (rc == TIDE_ENOTFOUND) {
        tide_error_clear();
        return 0;
    }
    TIDE_CHECK(rc);
    int v = tide_gate_object(c->g, js, strlen(js), label, &redacted, NULL);
    json_t *o = NULL;
    const char *mine = NULL;
    if (v >= 0 && v != TIDE_GATE_WITHHELD) {
        const char *text = redacted ? redacted : js;
        /* the TLP the store keeps for it travels with it; a definition it refers to marked
         * above the ceiling keeps it here (tide/gate.h) */
        int r = tide_gate_own_marking(c->g, id, text, strlen(text), label, &mine);
        if (r == 0)
            r = tide_gate_markings_pass(c->g, text, strlen(text));
        v = r < 0 ? r : v;
        if (r > 0)
            o = json_loads(text, 0, NULL);
    }
    free(js);
    free(redacted);
    if (v < 0) {
        json_decref(o);
        return v;
    }
    if (o != NULL && mine != NULL) {
        json_t *refs = json_object_get(o, "object_marking_refs");
        if (!json_is_array(refs))
            json_object_set_new(o, "object_marking_refs", refs = json_array());
        json_array_append_new(refs, json_string(mine));
    }
    if (o == NULL) {
        c->left_out++;
        return 0;
    }
    json_array_append_new(c->objs, o);
    json_array_append_new(c->refs, json_string(id));
    return 1;
}

/* The level of an attribution's path: the references it walked (their stating objects) and
 * the objects it went through. */
static int path_level(tide_gate *g, json_t *path)
{
    int level = TIDE_TLP_CLEAR;
    size_t i;
    json_t *hop;
    json_array_foreach(path, i, hop)
    {
        const char *rid = jstr(hop, "relationship_id"), *to = jstr(hop, "to");
        char stater[256];
        if (rid != NULL) {
            const char *bar = strchr(rid, '|');
            snprintf(
                    stater, sizeof(stater), "%.*s", bar ? (int)(bar - rid) : (int)strlen(rid), rid);
            int l = tide_gate_level_of(g, stater);
            if (l < 0 && l != TIDE_GATE_NOT_STORED)
                return l;
            level = l > level ? l : level;
        }
        if (to != NULL && i + 1 < json_array_size(path)) {
            int l = tide_gate_level_of(g, to);
            if (l < 0 && l != TIDE_GATE_NOT_STORED)
                return l;
            level = l > level ? l : level;
        }
    }
    return level;
}

typedef struct {
    json_t *names; /* scope names that may pass: lower-case name -> true */
    bool found;
} via_ctx;

static int via_name(const char *name, const char *type, void *payload)
{
    via_ctx *v = payload;
    (void)type;
    char *low = tide__strdup(name);
    TIDE_CHECK_ALLOC(low);
    tide__str_lower(low);
    v->found = json_object_get(v->names, low) != NULL;
    tide__free(low);
    return v->found ? 1 : 0;
}

typedef struct {
    tide_gate *g;
    int level;
} taint_obs;

static int taint_value(const tide_obs_ref *obs, void *payload)
{
    taint_obs *t = payload;
    return tide_gate_taint(t->g, obs->value, t->level);
}

int tide_case_share(
        tide_store *s, int64_t id, const char *tlp_max, const char *path, size_t *out_objects)
{
    int ceiling = tide_tlp_parse(tlp_max);
    if (ceiling < 0)
        return tide_error_set(TIDE_EINVAL, "--tlp-max: clear, green, amber, amber+strict or red"
                                           " expected");
    tide_gate *g = NULL;
    json_t *row = NULL, *ids = NULL, *objs = json_array(), *refs = json_array();
    json_t *shared_inds = json_object(), *seeds = json_object(), *scope_ok = json_object();
    int rc = tide_gate_new(&g, s, ceiling);
    if (rc == 0)
        rc = tide__case_get(s, id, &row);
    if (rc == 0)
        rc = tide__case_indicators(s, id, &ids);
    json_t *lesson_ids = json_array();
    if (rc == 0) /* and the internal indicators its lessons produced */
        rc = lesson_ids ? tide__case_lesson_ids(s, row, lesson_ids)
                        : tide_error_set(TIDE_ENOMEM, "out of memory");
    if (rc < 0) {
        json_decref(lesson_ids);
        goto done;
    }
    share_ctx sc = { s, g, objs, refs, 0 };
    json_t *doc = json_object_get(row, "doc");
    /* the case's own level: its seed indicators' (tide/tlp.h); what tide writes carries it,
     * raised by the marked values it quotes */
    int case_level = tide_tlp_rank(jstr(row, "tlp"));
    bool own_ok = tide_gate_allows(g, case_level);
    char now[32], oid[128], seed[256];
    tide_time_format(tide__time_now_ms(), now);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(doc, "seed_indicators"), i, v)
            json_object_set_new(seeds, jstr(v, "id") ? jstr(v, "id") : "", json_true());
    /* the lessons' indicators are the case's own findings: the report ties them to the case as
     * it does its seeds, each at the TLP it was promoted with */
    json_array_foreach(lesson_ids, i, v)
    {
        json_object_set_new(seeds, json_string_value(v), json_true());
        json_array_append(ids, v);
    }
    json_decref(lesson_ids);
    /* host names never leave: no text that names one is shared */
    json_array_foreach(json_object_get(doc, "hosts"), i, v)
    {
        if ((rc = tide_gate_taint(g, jstr(v, "host"), TIDE_GATE_NEVER)) < 0)
            goto done;
    }
    if ((rc = tide_gate_taint(g, jstr(row, "seed_host"), TIDE_GATE_NEVER)) < 0)
        goto done;
    /* the attribution: an object may be shared, and its name quoted, at the level of the
     * object, its name and the path that led to it */
    json_array_foreach(json_object_get(doc, "attribution"), i, v)
    {
        const char *aid = jstr(v, "id"), *t = jstr(v, "type"), *name = jstr(v, "name");
        int pl = path_level(g, json_object_get(v, "path"));
        int nl = aid ? tide_gate_name_level_of(g, aid) : TIDE_GATE_NOT_STORED;
        if (pl < 0 || (nl < 0 && nl != TIDE_GATE_NOT_STORED)) {
            rc = pl < 0 ? pl : nl;
            goto done;
        }
        int level = nl > pl ? nl : pl;
        if ((rc = tide_gate_taint(g, name, level)) < 0)
            goto done;
        if (name && (level <= ceiling || !own_ok)) {
            char *low = tide__strdup(name);
            if (low == NULL) {
                rc = tide_error_set(TIDE_ENOMEM, "out of memory");
                goto done;
            }
            tide__str_lower(low);
            json_object_set_new(scope_ok, low, json_true());
            tide__free(low);
        }
        if (t == NULL || aid == NULL ||
                (strcmp(t, "malware") && strcmp(t, "campaign") && strcmp(t, "tool")))
            continue;
        if (pl > ceiling) {
            sc.left_out++;
            continue;
        }
        if ((rc = share_stored(&sc, aid, NULL)) < 0)
            goto done;
    }
    /* indicators as stored, each quoted value tainting what quotes it. When the case's own
     * objects are shared (the report ties every object it refers to to the case and its seeds):
     * a seed, or one in the case through an attribution that may pass. When they are not (the
     * case above the ceiling): the intel of the case's scope that may pass on its own, i.e. an
     * indicator related to an attributed name through references and names that pass (a seed
     * too: nothing ties it to the others but such a link) */
    json_array_foreach(ids, i, v)
    {
        const char *iid = json_string_value(v);
        tide_indicator_rec ir;
        char label[64] = "";
        if (tide_store_indicator(s, iid, &ir) == 0)
            snprintf(label, sizeof(label), "%s", ir.tlp ? ir.tlp : "");
        else
            tide_error_clear();
        int level = tide_gate_indicator_level(g, iid, label);
        if (level < 0) {
            rc = level;
            goto done;
        }
        taint_obs to = { g, level };
        if ((rc = tide_store_indicator_observables(s, iid, taint_value, &to)) < 0)
            goto done;
        if (json_object_size(shared_inds) >= 5000 || level > ceiling) {
            sc.left_out++;
            continue;
        }
        if (!own_ok || json_object_get(seeds, iid) == NULL) {
            via_ctx vc = { scope_ok, false };
            if ((rc = tide_gate_related_names(g, iid, via_name, &vc)) < 0)
                goto done;
            rc = 0; /* 1: via_name found one and stopped the walk */
            if (!vc.found) {
                sc.left_out++; /* in the case only through what may not be shared */
                continue;
            }
        }
        int r = share_stored(&sc, iid, label);
        if (r < 0) {
            rc = r;
            goto done;
        }
        if (r)
            json_object_set_new(shared_inds, iid, json_true());
    }
    if (own_ok) {
        /* courses of action, one per control x action: the text only when what it quotes may
         * be shared, marked at the level of what it quotes */
        json_t *seen = json_object();
        tide_buf cbuf = TIDE_BUF_INIT;
        json_array_foreach(json_object_get(doc, "plan"), i, v)
        {
            snprintf(seed, sizeof(seed), "%s/%s", jstr(v, "control"), jstr(v, "action"));
            if (json_object_get(seen, seed))
                continue;
            json_object_set_new(seen, seed, json_true());
            char s2[300];
            int nlevel = tide_gate_text_level(g, seed, case_level);
            if (nlevel > ceiling) {
                sc.left_out++;
                continue;
            }
            const char *text = coa_text(v, doc, &cbuf);
            int dlevel = tide_gate_text_level(g, text, nlevel);
            if (dlevel > ceiling) {
                text = NULL;
                dlevel = nlevel;
            }
            snprintf(s2, sizeof(s2), "case-%lld/%s", (long long)id, seed);
            stix_id("course-of-action", s2, oid);
            json_t *coa = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:[s]}", "type",
                    "course-of-action", "spec_version", "2.1", "id", oid, "created", now,
                    "modified", now, "name", seed, "description", text, "object_marking_refs",
                    marking_of(dlevel));
            json_array_append_new(objs, coa);
            json_array_append_new(refs, json_string(oid));
        }
        tide__buf_free(&cbuf);
        json_decref(seen);
        /* anonymised sightings: per shared indicator, counts and times over all hosts */
        json_t *agg = json_object();
        json_array_foreach(json_object_get(doc, "hosts"), i, v)
        {
            size_t j;
            json_t *e;
            json_array_foreach(json_object_get(v, "evidence"), j, e)
            {
                const char *iid = jstr(e, "indicator_id");
                if (!json_object_get(shared_inds, iid))
                    continue;
                json_t *a = json_object_get(agg, iid);
                if (a == NULL) {
                    a = json_pack("{s:I, s:I, s:I, s:i}", "count", (json_int_t)0, "first",
                            (json_int_t)jint(e, "first_seen_ms"), "last",
                            (json_int_t)jint(e, "last_seen_ms"), "hosts", 0);
                    json_object_set_new(agg, iid, a);
                }
                json_object_set_new(a, "count",
                        json_integer(
                                jint(a, "count") + jint(e, "live_count") + jint(e, "retro_count")));
                json_object_set_new(a, "hosts", json_integer(jint(a, "hosts") + 1));
                if (jint(e, "first_seen_ms") < jint(a, "first"))
                    json_object_set_new(a, "first", json_integer(jint(e, "first_seen_ms")));
                if (jint(e, "last_seen_ms") > jint(a, "last"))
                    json_object_set_new(a, "last", json_integer(jint(e, "last_seen_ms")));
            }
        }
        const char *k;
        json_object_foreach(agg, k, v)
        {
            char a[32], b[32];
            tide_time_format(jint(v, "first"), a);
            tide_time_format(jint(v, "last"), b);
            snprintf(seed, sizeof(seed), "case-%lld/sighting/%s", (long long)id, k);
            stix_id("sighting", seed, oid);
            int64_t cnt = jint(v, "count");
            json_array_append_new(
                    objs, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:I, s:[s]}",
                                  "type", "sighting", "spec_version", "2.1", "id", oid, "created",
                                  now, "modified", now, "sighting_of_ref", k, "count",
                                  (json_int_t)(cnt < 1           ? 1
                                               : cnt > 999999999 ? 999999999
                                                                 : cnt),
                                  "first_seen", a, "last_seen", b, "x_tide_hosts",
                                  (json_int_t)jint(v, "hosts"), "object_marking_refs",
                                  marking_of(case_level)));
            json_array_append_new(refs, json_string(oid));
        }
        json_decref(agg);
        /* the report: the rule and the attribution only when what they quote may be shared */
        snprintf(seed, sizeof(seed), "tide-case-%lld", (long long)id);
        stix_id("report", seed, oid);
        char name[300], desc[1200], rule[600] = "";
        snprintf(name, sizeof(name), "tide case %lld: tier %lld", (long long)id,
                (long long)jint(row, "tier"));
        int level = case_level;
        const char *r = jstr(doc, "rule");
        if (r && *r && tide_gate_text_level(g, r, case_level) <= ceiling) {
            snprintf(rule, sizeof(rule), "%s. ", r);
            level = tide_gate_text_level(g, r, level);
        }
        const char *attr = "none";
        json_t *names = json_object_get(doc, "scope_names");
        if (json_array_size(names) > 0) {
            attr = "none that may be shared";
            json_array_foreach(names, i, v)
            {
                int l = tide_gate_text_level(g, json_string_value(v), case_level);
                if (l <= ceiling) {
                    attr = json_string_value(v);
                    level = l > level ? l : level;
                    break;
                }
            }
        }
        snprintf(desc, sizeof(desc),
                "%s%lld host(s) affected (%lld found only in history). Attribution: %s.", rule,
                (long long)jint(doc, "host_count"), (long long)jint(doc, "silent_count"), attr);
        level = tide_gate_text_level(g, desc, level);
        if (level > ceiling) {
            /* a value quoted by accident (a host or a name inside the rule): the counts only */
            snprintf(desc, sizeof(desc), "%lld host(s) affected (%lld found only in history).",
                    (long long)jint(doc, "host_count"), (long long)jint(doc, "silent_count"));
            level = case_level;
        }
        json_t *rep = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:O, s:[s]}",
                "type", "report", "spec_version", "2.1", "id", oid, "created", now, "modified", now,
                "name", name, "description", desc, "published", now, "report_types", "incident",
                "object_refs", refs, "object_marking_refs", marking_of(level));
        if (json_array_size(refs) == 0)
            json_object_set_new(rep, "object_refs", json_pack("[s]", oid));
        json_array_append_new(objs, rep);
    } else {
        sc.left_out++;
    }
    /* the marking-definitions used (tide/gate.h, docs/response.md): the TLP ones as published,
     * the custom ones stored (they travel with the objects that refer to them, unless marked
     * above the ceiling themselves), and the markings those refer to in turn */
    json_t *used = json_object();
    for (i = 0; i < json_array_size(objs); i++) {
        v = json_array_get(objs, i);
        size_t j;
        json_t *m;
        json_t *mrefs = json_array(); /* the ids, copied: objs grows below */
        json_array_foreach(json_object_get(v, "object_marking_refs"), j, m)
        {
            if (json_is_string(m))
                json_array_append(mrefs, m);
        }
        json_array_foreach(json_object_get(v, "granular_markings"), j, m)
        {
            if (json_is_string(json_object_get(m, "marking_ref")))
                json_array_append(mrefs, json_object_get(m, "marking_ref"));
        }
        for (j = 0; j < json_array_size(mrefs); j++) {
            const char *mk = json_string_value(json_array_get(mrefs, j));
            if (json_object_get(used, mk))
                continue;
            json_object_set_new(used, mk, json_true());
            const char *official = tide__tlp_marking_json(mk);
            if (official != NULL) {
                json_array_append_new(objs, json_loads(official, 0, NULL));
                continue;
            }
            char *js = NULL, *redacted = NULL;
            int r = tide_store_get(s, mk, NULL, &js);
            if (r == TIDE_ENOTFOUND) {
                tide_error_clear();
                continue;
            }
            if (r == 0)
                r = tide_gate_object(g, js, strlen(js), "clear", &redacted, NULL);
            json_t *md = r >= 0 && r != TIDE_GATE_WITHHELD
                                 ? json_loads(redacted ? redacted : js, 0, NULL)
                                 : NULL;
            free(js);
            free(redacted);
            if (r < 0) {
                rc = r;
                json_decref(mrefs);
                json_decref(used);
                goto done;
            }
            if (md)
                json_array_append_new(objs, md); /* its own markings: met later in the loop */
        }
        json_decref(mrefs);
    }
    json_decref(used);
    snprintf(seed, sizeof(seed), "tide-case-%lld/bundle/%s", (long long)id, now);
    stix_id("bundle", seed, oid);
    json_t *bundle = json_pack("{s:s, s:s, s:O}", "type", "bundle", "id", oid, "objects", objs);
    /* util/outfile.h: never written in place or through a link; a full disk leaves the share
     * before as it was */
    tide__outfile of;
    rc = tide__outfile_open(&of, path, TIDE__OUT_STREAM);
    if (rc == 0) {
        if (json_dumpf(bundle, of.f, JSON_INDENT(1) | JSON_PRESERVE_ORDER) != 0) {
            int e = errno;
            rc = tide_error_set(TIDE_EIO, "%s: write failed: %s", path, strerror(e));
            tide__outfile_abort(&of);
        } else {
            rc = tide__outfile_commit(&of);
        }
    }
    json_decref(bundle);
    if (rc == 0 && out_objects)
        *out_objects = json_array_size(objs);
done:
    tide_gate_free(g);
    json_decref(row);
    json_decref(ids);
    json_decref(objs);
    json_decref(refs);
    json_decref(shared_inds);
    json_decref(seeds);
    json_decref(scope_ok);
    return rc;
}

/* ---- metrics ---- */

static void set_secs(json_t *o, const char *k, int64_t from, int64_t to)
{
    if (from > 0 && to > 0 && to >= from)
        json_object_set_new(o, k, json_integer((to - from) / 1000));
    else
        json_object_set_new(o, k, json_null());
}

static void avg(json_t *overall, json_t *cases, const char *k)
{
    size_t i, n = 0;
    json_t *c;
    double sum = 0;
    json_array_foreach(cases, i, c)
    {
        json_t *v = json_object_get(c, k);
        if (json_is_integer(v)) {
            sum += (double)json_integer_value(v);
            n++;
        }
    }
    char key[64];
    snprintf(key, sizeof(key), "mean_%s", k);
    json_object_set_new(
            overall, key, n ? json_integer((json_int_t)(sum / (double)n)) : json_null());
}

int tide_metrics_json(tide_store *s, const tide_case_opts *o, char **out)
{
    json_t *ids = NULL, *cases = json_array();
    int64_t now = tide__case_now(o);
    int rc = tide__case_ids(s, &ids);
    long tiers[4] = { 0 }, open = 0, closed = 0, campaign_linked = 0;
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
    {
        json_t *row = NULL, *hrows = NULL, *events = NULL;
        int64_t cid = json_integer_value(v);
        if (rc < 0 || (rc = tide__case_get(s, cid, &row)) < 0)
            break;
        rc = tide__case_hosts(s, cid, &hrows);
        if (rc == 0)
            rc = tide__case_events(s, cid, &events);
        if (rc < 0) {
            json_decref(row);
            json_decref(hrows);
            break;
        }
        json_t *doc = json_object_get(row, "doc");
        int64_t first_ev = 0, first_live = 0;
        size_t j;
        json_t *h;
        json_array_foreach(json_object_get(doc, "hosts"), j, h)
        {
            size_t k;
            json_t *e;
            json_array_foreach(json_object_get(h, "evidence"), k, e)
            {
                int64_t fs = jint(e, "first_seen_ms");
                if (fs > 0 && (first_ev == 0 || fs < first_ev))
                    first_ev = fs;
                if (jint(e, "live_count") > 0 && fs > 0 && (first_live == 0 || fs < first_live))
                    first_live = fs;
            }
        }
        if (first_live == 0)
            first_live = jint(row, "opened_at");
        /* per host: first time it reached contained (or beyond), and recovered */
        int64_t contained = 0, recovered = 0;
        bool all_c = json_array_size(hrows) > 0, all_r = all_c;
        json_array_foreach(hrows, j, h)
        {
            int64_t hc = 0, hrv = 0;
            size_t k;
            json_t *e;
            json_array_foreach(events, k, e)
            {
                const char *kind = jstr(e, "kind");
                if (jstr(e, "host") == NULL || strcmp(jstr(e, "host"), jstr(h, "host")) != 0 ||
                        strncmp(kind, "state:", 6) != 0)
                    continue;
                int si = tide__case_state_index(kind + 6);
                if (si >= 1 && hc == 0)
                    hc = jint(e, "at");
                if (si == 3)
                    hrv = jint(e, "at");
            }
            int cur = tide__case_state_index(jstr(h, "state"));
            if (hc == 0 || cur < 1)
                all_c = false;
            if (hrv == 0 || cur < 3)
                all_r = false;
            contained = hc > contained ? hc : contained;
            recovered = hrv > recovered ? hrv : recovered;
        }
        int tier = (int)jint(row, "tier");
        tiers[tier >= 1 && tier <= 3 ? tier : 0]++;
        bool is_open = strcmp(jstr(row, "status"), "open") == 0;
        open += is_open;
        closed += !is_open;
        campaign_linked += json_array_size(json_object_get(doc, "campaigns")) > 0;
        int64_t end = is_open ? now : jint(row, "closed_at");
        json_t *m = json_pack("{s:I, s:s, s:i, s:I, s:I}", "case", (json_int_t)cid, "status",
                jstr(row, "status"), "tier", tier, "hosts", (json_int_t)json_array_size(hrows),
                "silent", (json_int_t)jint(doc, "silent_count"));
        set_secs(m, "time_to_detect_s", first_ev, first_live);
        set_secs(m, "time_to_contain_s", first_live, all_c ? contained : 0);
        set_secs(m, "time_to_recover_s", first_live, all_r ? recovered : 0);
        set_secs(m, "dwell_time_s", first_ev, all_c ? contained : end);
        json_object_set_new(m, "campaign_linked",
                json_boolean(json_array_size(json_object_get(doc, "campaigns")) > 0));
        json_object_set_new(m, "promoted_indicators",
                json_integer((json_int_t)json_array_size(
                        json_object_get(json_object_get(row, "lessons"), "new_indicators"))));
        json_array_append_new(cases, m);
        json_decref(row);
        json_decref(hrows);
        json_decref(events);
    }
    json_decref(ids);
    int64_t internal = 0, external = 0;
    if (rc == 0)
        rc = tide__indicator_source_counts(s, &internal, &external);
    if (rc == 0) {
        json_t *ov = json_pack("{s:I, s:I, s:I, s:{s:I, s:I, s:I}, s:I, s:{s:I, s:I}}", "cases",
                (json_int_t)json_array_size(cases), "open", (json_int_t)open, "closed",
                (json_int_t)closed, "by_tier", "1", (json_int_t)tiers[1], "2", (json_int_t)tiers[2],
                "3", (json_int_t)tiers[3], "campaign_linked", (json_int_t)campaign_linked, "intel",
                "internal", (json_int_t)internal, "external", (json_int_t)external);
        avg(ov, cases, "time_to_detect_s");
        avg(ov, cases, "time_to_contain_s");
        avg(ov, cases, "time_to_recover_s");
        avg(ov, cases, "dwell_time_s");
        json_t *res = json_pack("{s:o, s:O}", "overall", ov, "cases", cases);
        *out = json_dumps(res, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        json_decref(res);
        if (*out == NULL)
            rc = tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    json_decref(cases);
    return rc;
}
