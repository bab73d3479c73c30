/*
 * case_share.c - what a case gives back (SPEC C5): a STIX 2.1 bundle for peers (a report, the
 * case's indicators and malware / campaign objects as stored, a course-of-action per plan
 * action, and anonymised sightings: counts and times per indicator, never host names),
 * leaving out everything marked above the TLP ceiling (unmarked objects count as amber; the
 * objects tide writes carry the case TLP); and the metrics: time to detect, contain, recover,
 * dwell time, counts by tier, internal vs external intel.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case_store.h"
#include "cases_int.h"
#include "intel/tlp.h"
#include "tide/errors.h"
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

/* TLP of a stored STIX object from its object_marking_refs; NULL when unmarked. */
static const char *object_tlp(json_t *obj)
{
    size_t i;
    json_t *m;
    const char *best = NULL;
    json_array_foreach(json_object_get(obj, "object_marking_refs"), i, m)
    {
        const char *n = tide__tlp_name_from_marking(json_string_value(m));
        if (n && (best == NULL || tide_tlp_rank(n) > tide_tlp_rank(best)))
            best = n;
    }
    return best;
}

static void stix_id(const char *type, const char *seed, char out[128])
{
    char u[37];
    if (tide__uuid5("6ba7b811-9dad-11d1-80b4-00c04fd430c8", seed, strlen(seed), u) < 0)
        snprintf(u, sizeof(u), "00000000-0000-4000-8000-000000000000");
    snprintf(out, 128, "%s--%s", type, u);
}

typedef struct {
    char tlp[16]; /* "" when unmarked */
} tlp_ctx;

/* Course-of-action text for peers: what to do, never which of our hosts. */
static const char *coa_text(json_t *action, json_t *doc, char buf[600])
{
    const char *a = jstr(action, "action");
    if (json_object_get(action, "host") == NULL || json_is_null(json_object_get(action, "host")))
        return jstr(action, "justification");
    snprintf(buf, 600, "%s (%s) on every affected host; %s", a, jstr(action, "control"),
            jstr(doc, "rule") ? jstr(doc, "rule") : "");
    return buf;
}

typedef struct {
    const char *id;
    char tlp[16];
    bool found;
} hit_ctx;

static int hit_tlp(const tide_search_hit *h, void *payload)
{
    hit_ctx *c = payload;
    if (strcmp(h->id, c->id) != 0)
        return 0;
    c->found = true;
    snprintf(c->tlp, sizeof(c->tlp), "%s", h->tlp ? h->tlp : "");
    return 1;
}

int tide_case_share(
        tide_store *s, int64_t id, const char *tlp_max, const char *path, size_t *out_objects)
{
    int ceiling = tide_tlp_parse(tlp_max);
    if (ceiling < 0)
        return tide_error_set(TIDE_EINVAL, "--tlp-max: clear, green, amber, amber+strict or red"
                                           " expected");
    json_t *row = NULL, *ids = NULL, *objs = json_array(), *refs = json_array();
    int rc = tide__case_get(s, id, &row);
    if (rc == 0)
        rc = tide__case_indicators(s, id, &ids);
    if (rc == 0) /* and the internal indicators its lessons produced */
        rc = tide__case_lesson_ids(s, row, ids);
    if (rc < 0)
        goto done;
    json_t *doc = json_object_get(row, "doc");
    const char *case_tlp = jstr(row, "tlp");
    bool own_ok = tide_tlp_allows(ceiling, case_tlp);
    const char *marking = tide__tlp_marking_id(tide_tlp_name(tide_tlp_rank(case_tlp)));
    char now[32], oid[128], seed[256];
    tide_time_format(tide__time_now_ms(), now);
    size_t left_out = 0, i;
    json_t *v;
    json_t *shared_inds = json_object();
    /* indicators as stored */
    json_array_foreach(ids, i, v)
    {
        if (json_object_size(shared_inds) >= 5000)
            break;
        char *js = NULL;
        if (tide_store_get(s, json_string_value(v), NULL, &js) < 0) {
            tide_error_clear();
            continue;
        }
        json_t *o = json_loads(js, 0, NULL);
        free(js);
        if (o == NULL)
            continue;
        const char *t = object_tlp(o);
        tlp_ctx tc = { "" };
        if (t == NULL) {
            /* no marking in the object: the TLP the store keeps for it (ingest --tlp); one
             * indicator lookup (the active-intel scan filtered by id cost 14 ms apiece) */
            tide_indicator_rec ir;
            if (tide_store_indicator(s, json_string_value(v), &ir) == 0)
                snprintf(tc.tlp, sizeof(tc.tlp), "%s", ir.tlp ? ir.tlp : "");
            else
                tide_error_clear();
            t = tc.tlp[0] ? tc.tlp : NULL;
        }
        if (!tide_tlp_allows(ceiling, t)) {
            left_out++;
            json_decref(o);
            continue;
        }
        json_array_append_new(objs, o);
        json_array_append(refs, v);
        json_object_set_new(shared_inds, json_string_value(v), json_true());
    }
    /* malware and campaigns of the attribution */
    json_array_foreach(json_object_get(doc, "attribution"), i, v)
    {
        const char *t = jstr(v, "type");
        if (strcmp(t, "malware") && strcmp(t, "campaign") && strcmp(t, "tool"))
            continue;
        char *js = NULL;
        if (tide_store_get(s, jstr(v, "id"), NULL, &js) < 0) {
            tide_error_clear();
            continue;
        }
        json_t *o = json_loads(js, 0, NULL);
        free(js);
        if (o == NULL)
            continue;
        const char *ot = object_tlp(o);
        hit_ctx hc = { jstr(v, "id"), "", false };
        if (ot == NULL) {
            tide_search_query q = { 0 };
            q.type = t;
            if (tide_store_search(s, &q, hit_tlp, &hc) < 0)
                tide_error_clear();
            ot = hc.found && hc.tlp[0] ? hc.tlp : NULL;
        }
        if (!tide_tlp_allows(ceiling, ot)) {
            left_out++;
            json_decref(o);
            continue;
        }
        json_array_append_new(objs, o);
        json_array_append(refs, json_object_get(v, "id"));
    }
    if (own_ok) {
        /* courses of action, one per control x action */
        json_t *seen = json_object();
        json_array_foreach(json_object_get(doc, "plan"), i, v)
        {
            snprintf(seed, sizeof(seed), "%s/%s", jstr(v, "control"), jstr(v, "action"));
            if (json_object_get(seen, seed))
                continue;
            json_object_set_new(seen, seed, json_true());
            char s2[300], cbuf[600];
            snprintf(s2, sizeof(s2), "case-%lld/%s", (long long)id, seed);
            stix_id("course-of-action", s2, oid);
            json_t *coa = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s]}", "type",
                    "course-of-action", "spec_version", "2.1", "id", oid, "created", now,
                    "modified", now, "name", seed, "description", coa_text(v, doc, cbuf),
                    "object_marking_refs", marking);
            json_array_append_new(objs, coa);
            json_array_append_new(refs, json_string(oid));
        }
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
                                  (json_int_t)jint(v, "hosts"), "object_marking_refs", marking));
            json_array_append_new(refs, json_string(oid));
        }
        json_decref(agg);
        /* the report */
        snprintf(seed, sizeof(seed), "tide-case-%lld", (long long)id);
        stix_id("report", seed, oid);
        char name[300], desc[1200];
        snprintf(name, sizeof(name), "tide case %lld: tier %lld", (long long)id,
                (long long)jint(row, "tier"));
        snprintf(desc, sizeof(desc),
                "%s. %lld host(s) affected (%lld found only in history)."
                " Attribution: %s.",
                jstr(doc, "rule") ? jstr(doc, "rule") : "", (long long)jint(doc, "host_count"),
                (long long)jint(doc, "silent_count"),
                json_array_size(json_object_get(doc, "scope_names"))
                        ? json_string_value(json_array_get(json_object_get(doc, "scope_names"), 0))
                        : "none");
        json_t *rep = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:O, s:[s]}",
                "type", "report", "spec_version", "2.1", "id", oid, "created", now, "modified", now,
                "name", name, "description", desc, "published", now, "report_types", "incident",
                "object_refs", refs, "object_marking_refs", marking);
        if (json_array_size(refs) == 0)
            json_object_set_new(rep, "object_refs", json_pack("[s]", oid));
        json_array_append_new(objs, rep);
    } else {
        left_out++;
    }
    /* the marking definitions used */
    json_t *used = json_object();
    json_array_foreach(objs, i, v)
    {
        size_t j;
        json_t *m;
        json_array_foreach(json_object_get(v, "object_marking_refs"), j, m)
                json_object_set_new(used, json_string_value(m), json_true());
    }
    const char *mk;
    json_object_foreach(used, mk, v)
    {
        const char *n = tide__tlp_name_from_marking(mk);
        if (n == NULL)
            continue;
        json_t *md = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "marking-definition",
                "spec_version", "2.1", "id", mk, "created", "2022-10-01T00:00:00.000Z", "name", n);
        json_array_append_new(objs, md);
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
    json_decref(shared_inds);
    if (rc == 0 && out_objects)
        *out_objects = json_array_size(objs);
    (void)left_out;
done:
    json_decref(row);
    json_decref(ids);
    json_decref(objs);
    json_decref(refs);
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
