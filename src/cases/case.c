/*
 * case.c - the case lifecycle (SPEC C4, C5): open from a sighting or a host and indicator,
 * refresh (recompute scope / tier / plan, record changes in the timeline, verify or relapse
 * recovered hosts against the watch period), the per-host recovery state machine, lessons,
 * close (promotes the lessons' indicators as source "internal"), list and show.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "case_store.h"
#include "cases_int.h"
#include "tide/errors.h"
#include "tide/ingest.h"
#include "tide/sightings.h"
#include "tide/gate.h"
#include "tide/tlp.h"
#include "util/util.h"

static const char *const STATES[] = { "affected", "contained", "eradicated", "recovered",
    "verified" };

int tide__case_state_index(const char *state)
{
    for (int i = 0; i < 5; i++)
        if (state && strcmp(state, STATES[i]) == 0)
            return i;
    return -1;
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int64_t jint(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static int dump(json_t *j, char **out)
{
    *out = json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    TIDE_CHECK_ALLOC(*out);
    return 0;
}

int tide__case_policy_load(tide_store *s, const tide_case_opts *o, json_t **out)
{
    (void)s;
    const char *path = o ? o->policy_path : NULL;
    if (path == NULL) {
        *out = tide__case_policy_default();
        TIDE_CHECK_ALLOC(*out);
        return 0;
    }
    char *data = NULL;
    size_t len = 0;
    TIDE_CHECK(tide__case_read_file(path, TIDE_CASE_MAX_FILE, &data, &len));
    int rc = tide__case_policy_parse(data, len, path, out);
    tide__free(data);
    return rc;
}

/* ---- open ---- */

typedef struct {
    json_t *ids;
} seed_ctx;

static int seed_from_sighting(const tide_sighting_rec *r, void *payload)
{
    seed_ctx *c = payload;
    size_t i;
    json_t *v;
    json_array_foreach(
            c->ids, i, v) if (strcmp(json_string_value(v), r->indicator_id) == 0) return 0;
    json_array_append_new(c->ids, json_string(r->indicator_id));
    return 0;
}

static int seed_from_ind(const tide_indicator_obs *r, void *payload)
{
    tide_sighting_rec x = { 0 };
    x.indicator_id = r->id;
    return seed_from_sighting(&x, payload);
}

static int find_seeds(tide_store *s, const char *host, const char *indicator, json_t *ids)
{
    seed_ctx c = { ids };
    tide_sighting_query q = { 0 };
    q.host = host;
    q.indicator = indicator;
    q.include_suppressed = true;
    TIDE_CHECK(tide_store_sightings(s, &q, seed_from_sighting, &c));
    if (json_array_size(ids))
        return 0;
    /* no stored sighting: the indicator by id, value, or canonical value */
    tide_indicator_filter f = { 0 };
    f.value = indicator;
    TIDE_CHECK(tide_store_each_indicator_obs(s, &f, seed_from_ind, &c));
    if (json_array_size(ids) == 0) {
        char *ref = NULL, *canon = NULL;
        if (tide_obs_refang(indicator, &ref) == 0) {
            tide_obs_kind k = tide_obs_detect(ref);
            if (k != TIDE_OBS_NONE && tide_obs_normalize(k, ref, &canon) == 0) {
                q.indicator = canon;
                TIDE_CHECK(tide_store_sightings(s, &q, seed_from_sighting, &c));
                if (json_array_size(ids) == 0) {
                    f.value = canon;
                    TIDE_CHECK(tide_store_each_indicator_obs(s, &f, seed_from_ind, &c));
                }
            }
        }
        free(ref);
        free(canon);
        tide_error_clear();
    }
    return 0;
}

/* The case TLP: the highest level of the seed indicators (an unmarked one counts as amber,
 * tide/tlp.h); amber when there is none. */
/* The case TLP: the highest level of its seed indicators as the gate sees them (tide/gate.h:
 * a label stored "unresolved" because a marking-definition came after the indicator is
 * resolved through the store, not taken as red). */
static int seed_tlp(tide_store *s, json_t *doc)
{
    int best = -1;
    size_t i;
    json_t *v;
    tide_gate *g = NULL;
    if (tide_gate_new(&g, s, TIDE_TLP_RED) < 0)
        tide_error_clear(); /* then the labels alone */
    json_array_foreach(json_object_get(doc, "seed_indicators"), i, v)
    {
        int r = -1;
        if (g != NULL && jstr(v, "id") != NULL)
            r = tide_gate_indicator_level(g, jstr(v, "id"), jstr(v, "tlp"));
        if (r < 0 || r > TIDE_TLP_RED) {
            tide_error_clear();
            r = tide_tlp_rank(jstr(v, "tlp"));
        }
        best = r > best ? r : best;
    }
    tide_gate_free(g);
    return best < 0 ? TIDE_TLP_UNMARKED : best;
}

/* Store the doc's hosts for a new case, all affected. */
static int put_new_hosts(tide_store *s, int64_t id, json_t *doc, int64_t now)
{
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(doc, "hosts"), i, h)
    {
        json_t *row = json_pack("{s:s, s:s, s:s, s:I, s:i, s:I, s:I}", "host", jstr(h, "host"),
                "status", jstr(h, "status"), "state", "affected", "state_at", (json_int_t)now,
                "relapses", 0, "first_seen", (json_int_t)jint(h, "first_seen_ms"), "last_seen",
                (json_int_t)jint(h, "last_seen_ms"));
        int rc = tide__case_host_put(s, id, row);
        json_decref(row);
        TIDE_CHECK(rc);
    }
    return 0;
}

int tide_case_open(tide_store *s, const tide_case_opts *o, int64_t sighting_id, const char *host,
        const char *indicator, int64_t *out_id, bool *out_existed)
{
    char *shost = NULL, *sind = NULL;
    json_t *ids = json_array(), *policy = NULL, *doc = NULL, *all = NULL, *row = NULL;
    int rc;
    int64_t now = tide__case_now(o), id = 0;
    if (out_existed)
        *out_existed = false;
    if (sighting_id > 0) {
        if ((rc = tide__sighting_by_id(s, sighting_id, &shost, &sind)) < 0)
            goto done;
        host = shost;
        json_array_append_new(ids, json_string(sind));
    } else {
        if (host == NULL || indicator == NULL || !*host || !*indicator) {
            rc = tide_error_set(TIDE_EINVAL, "a sighting id, or a host and an indicator, needed");
            goto done;
        }
        if ((rc = find_seeds(s, host, indicator, ids)) < 0)
            goto done;
        if (json_array_size(ids) == 0) {
            rc = tide_error_set(TIDE_ENOTFOUND,
                    "no sighting of '%s' on %s and no indicator"
                    " '%s' in the store",
                    indicator, host, indicator);
            goto done;
        }
    }
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
    {
        if ((rc = tide__case_find_covering(s, host, json_string_value(v), &id)) < 0)
            goto done;
        if (id > 0) {
            if (out_existed)
                *out_existed = true;
            *out_id = id;
            goto done;
        }
    }
    if ((rc = tide__case_policy_load(s, o, &policy)) < 0)
        goto done;
    if ((rc = tide__case_compute(s, o, policy, host, ids, NULL, &doc, &all)) < 0)
        goto done;
    row = json_pack("{s:s, s:I, s:I, s:I, s:n, s:s, s:s, s:s, s:O, s:n}", "status", "open", "tier",
            (json_int_t)jint(doc, "tier"), "opened_at", (json_int_t)now, "updated_at",
            (json_int_t)now, "closed_at", "seed_host", host, "seed_indicator",
            indicator ? indicator : json_string_value(json_array_get(ids, 0)), "tlp",
            tide_tlp_name(seed_tlp(s, doc)), "doc", doc, "lessons");
    if ((rc = tide_store_begin(s)) < 0)
        goto done;
    rc = tide__case_put(s, row, &id);
    if (rc == 0) {
        json_object_set_new(doc, "plan", tide__case_plan(id, doc, NULL, policy));
        json_object_set(row, "doc", doc);
        rc = tide__case_put(s, row, NULL);
    }
    if (rc == 0)
        rc = put_new_hosts(s, id, doc, now);
    if (rc == 0)
        rc = tide__case_indicators_add(s, id, all);
    if (rc == 0) {
        char text[600];
        snprintf(text, sizeof(text),
                "opened from %s on %s: tier %lld (%s), %lld host(s), %lld"
                " silent",
                indicator ? indicator : sind, host, (long long)jint(doc, "tier"), jstr(doc, "rule"),
                (long long)jint(doc, "host_count"), (long long)jint(doc, "silent_count"));
        rc = tide__case_event_add(s, id, now, "opened", host, NULL, text);
    }
    if (rc == 0)
        rc = tide_store_commit(s);
    else
        tide_store_rollback(s);
    if (rc == 0)
        *out_id = id;
done:
    tide__free(shost);
    tide__free(sind);
    json_decref(ids);
    json_decref(policy);
    json_decref(doc);
    json_decref(all);
    json_decref(row);
    return rc;
}

/* ---- refresh ---- */

static json_t *find_host(json_t *arr, const char *host)
{
    size_t i;
    json_t *h;
    json_array_foreach(arr, i, h) if (strcmp(jstr(h, "host"), host) == 0) return h;
    return NULL;
}

int tide_case_refresh(tide_store *s, const tide_case_opts *o, int64_t id, int *out_changes)
{
    json_t *row = NULL, *policy = NULL, *doc = NULL, *all = NULL, *hrows = NULL;
    json_t *seeds = json_array();
    int rc, changes = 0;
    int64_t now = tide__case_now(o);
    char text[700];
    if (out_changes)
        *out_changes = 0;
    if ((rc = tide__case_get(s, id, &row)) < 0)
        goto done;
    if (strcmp(jstr(row, "status"), "open") != 0)
        goto done;
    json_t *old = json_object_get(row, "doc");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(old, "seed_indicators"), i, v)
            json_array_append(seeds, json_object_get(v, "id"));
    if ((rc = tide__case_policy_load(s, o, &policy)) < 0)
        goto done;
    if ((rc = tide__case_hosts(s, id, &hrows)) < 0)
        goto done;
    if ((rc = tide__case_compute(s, o, policy, jstr(row, "seed_host"), seeds, hrows, &doc, &all)) <
            0)
        goto done;
    if ((rc = tide_store_begin(s)) < 0)
        goto done;
    /* hosts that joined or changed status; hosts no longer found stay in scope */
    json_t *hosts = json_object_get(doc, "hosts");
    json_array_foreach(json_object_get(old, "hosts"), i, v)
    {
        if (find_host(hosts, jstr(v, "host")) == NULL)
            json_array_append(hosts, v);
    }
    json_array_foreach(hosts, i, v)
    {
        json_t *hr = find_host(hrows, jstr(v, "host"));
        if (hr == NULL) {
            json_t *nr = json_pack("{s:s, s:s, s:s, s:I, s:i, s:I, s:I}", "host", jstr(v, "host"),
                    "status", jstr(v, "status"), "state", "affected", "state_at", (json_int_t)now,
                    "relapses", 0, "first_seen", (json_int_t)jint(v, "first_seen_ms"), "last_seen",
                    (json_int_t)jint(v, "last_seen_ms"));
            json_t *e0 = json_array_get(json_object_get(v, "evidence"), 0);
            snprintf(text, sizeof(text), "host %s joined the scope (%s): %s %s at %s:%lld",
                    jstr(v, "host"), jstr(v, "status"), e0 ? jstr(e0, "type") : "",
                    e0 ? jstr(e0, "indicator") : "",
                    e0 && jstr(e0, "file") ? jstr(e0, "file") : "?",
                    (long long)(e0 ? jint(e0, "line") : 0));
            rc = tide__case_host_put(s, id, nr);
            if (rc == 0)
                rc = tide__case_event_add(s, id, now, "host-joined", jstr(v, "host"), NULL, text);
            json_array_append_new(hrows, nr);
            changes++;
        } else {
            if (strcmp(jstr(hr, "status"), jstr(v, "status")) != 0 &&
                    strcmp(jstr(v, "status"), "alerted") == 0) {
                snprintf(text, sizeof(text), "host %s now alerted (was silent)", jstr(v, "host"));
                rc = tide__case_event_add(s, id, now, "host-alerted", jstr(v, "host"), NULL, text);
                json_object_set(hr, "status", json_object_get(v, "status"));
                changes++;
            }
            /* watch: recovered hosts are verified after a clean watch, relapse on a sighting */
            int64_t last = jint(v, "last_seen_ms");
            if (json_integer_value(json_object_get(hr, "last_seen")) > last)
                last = json_integer_value(json_object_get(hr, "last_seen"));
            json_object_set_new(hr, "last_seen", json_integer(last));
            if (rc == 0 && strcmp(jstr(hr, "state"), "recovered") == 0) {
                int64_t rec = jint(hr, "recovered_at");
                int days = tide__case_watch_days(policy, (int)jint(row, "tier"));
                if (jint(v, "last_seen_ms") > rec) {
                    char t[32];
                    tide_time_format(jint(v, "last_seen_ms"), t);
                    snprintf(text, sizeof(text),
                            "relapse: a case indicator was seen on %s at %s,"
                            " after it was recovered; back to affected",
                            jstr(v, "host"), t);
                    json_object_set_new(hr, "state", json_string("affected"));
                    json_object_set_new(hr, "state_at", json_integer(now));
                    json_object_set_new(hr, "recovered_at", json_null());
                    json_object_set_new(hr, "relapses", json_integer(jint(hr, "relapses") + 1));
                    rc = tide__case_event_add(
                            s, id, now, "state:affected", jstr(v, "host"), "tide", text);
                    changes++;
                } else if (now - rec >= (int64_t)days * 86400000) {
                    snprintf(text, sizeof(text),
                            "verified: no sighting of any case indicator on"
                            " %s for the %d-day watch",
                            jstr(v, "host"), days);
                    json_object_set_new(hr, "state", json_string("verified"));
                    json_object_set_new(hr, "state_at", json_integer(now));
                    rc = tide__case_event_add(
                            s, id, now, "state:verified", jstr(v, "host"), "tide", text);
                    changes++;
                }
            }
            if (rc == 0)
                rc = tide__case_host_put(s, id, hr);
        }
        if (rc < 0)
            break;
    }
    /* the tier never goes down */
    int64_t ot = jint(row, "tier"), nt = jint(doc, "tier");
    if (rc == 0 && nt > ot) {
        snprintf(text, sizeof(text), "tier raised %lld -> %lld: %s", (long long)ot, (long long)nt,
                jstr(doc, "rule"));
        rc = tide__case_event_add(s, id, now, "tier-raised", NULL, NULL, text);
        changes++;
    } else if (nt < ot) {
        json_object_set(doc, "tier", json_object_get(row, "tier"));
        json_object_set(doc, "rule", json_object_get(old, "rule"));
        json_object_set_new(
                doc, "watch_days", json_integer(tide__case_watch_days(policy, (int)ot)));
    }
    if (rc == 0) {
        json_object_set_new(doc, "host_count", json_integer((json_int_t)json_array_size(hosts)));
        json_object_set_new(doc, "plan", tide__case_plan(id, doc, hrows, policy));
        json_object_set(row, "doc", doc);
        json_object_set(row, "tier", json_object_get(doc, "tier"));
        if (changes)
            json_object_set_new(row, "updated_at", json_integer(now));
        rc = tide__case_put(s, row, NULL);
    }
    if (rc == 0)
        rc = tide__case_indicators_add(s, id, all);
    if (rc == 0)
        rc = tide_store_commit(s);
    else
        tide_store_rollback(s);
    if (rc == 0 && out_changes)
        *out_changes = changes;
done:
    json_decref(row);
    json_decref(policy);
    json_decref(doc);
    json_decref(all);
    json_decref(hrows);
    json_decref(seeds);
    return rc;
}

/* ---- show / list / plan ---- */

static int show_doc(tide_store *s, int64_t id, json_t **out)
{
    json_t *row = NULL, *hrows = NULL, *events = NULL;
    TIDE_CHECK(tide__case_get(s, id, &row));
    int rc = tide__case_hosts(s, id, &hrows);
    if (rc == 0)
        rc = tide__case_events(s, id, &events);
    if (rc < 0) {
        json_decref(row);
        json_decref(hrows);
        return rc;
    }
    json_t *doc = json_object_get(row, "doc");
    json_t *o = json_object();
    char t[32];
    json_object_set(o, "id", json_object_get(row, "id"));
    json_object_set(o, "status", json_object_get(row, "status"));
    json_object_set(o, "tier", json_object_get(row, "tier"));
    int tier = (int)jint(row, "tier");
    json_object_set_new(o, "tier_name",
            json_string(tier >= 3   ? "major incident"
                        : tier == 2 ? "hunt & contain"
                                    : "clean & monitor"));
    json_object_set(o, "rule", json_object_get(doc, "rule"));
    json_object_set(o, "tlp", json_object_get(row, "tlp"));
    json_object_set(o, "seed_host", json_object_get(row, "seed_host"));
    json_object_set(o, "seed_indicator", json_object_get(row, "seed_indicator"));
    tide_time_format(jint(row, "opened_at"), t);
    json_object_set_new(o, "opened_at", json_string(t));
    tide_time_format(jint(row, "updated_at"), t);
    json_object_set_new(o, "updated_at", json_string(t));
    if (json_is_integer(json_object_get(row, "closed_at"))) {
        tide_time_format(jint(row, "closed_at"), t);
        json_object_set_new(o, "closed_at", json_string(t));
    }
    json_t *hosts = json_deep_copy(json_object_get(doc, "hosts"));
    size_t i;
    json_t *h;
    json_array_foreach(hosts, i, h)
    {
        json_t *hr = find_host(hrows, jstr(h, "host"));
        if (hr) {
            json_object_set(h, "state", json_object_get(hr, "state"));
            tide_time_format(jint(hr, "state_at"), t);
            json_object_set_new(h, "state_at", json_string(t));
            json_object_set(h, "relapses", json_object_get(hr, "relapses"));
            json_object_set(h, "status", json_object_get(hr, "status"));
        }
    }
    json_object_set_new(o, "hosts", hosts);
    json_object_set(o, "host_count", json_object_get(doc, "host_count"));
    json_object_set(o, "alerted_count", json_object_get(doc, "alerted_count"));
    json_object_set(o, "silent_count", json_object_get(doc, "silent_count"));
    const char *keys[] = { "seed_indicators", "attribution", "campaigns", "malware", "actors",
        "first_host", "infection_vector", "indicator_count", "indicators_by_type", "watch_days",
        "plan", "notes", "policy_exports" };
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
        if (json_object_get(doc, keys[k]))
            json_object_set(o, keys[k], json_object_get(doc, keys[k]));
    json_array_foreach(events, i, h)
    {
        tide_time_format(jint(h, "at"), t);
        json_object_set_new(h, "at", json_string(t));
    }
    json_object_set_new(o, "timeline", events);
    json_object_set(o, "lessons", json_object_get(row, "lessons"));
    json_decref(row);
    json_decref(hrows);
    *out = o;
    return 0;
}

int tide_case_show_json(tide_store *s, int64_t id, char **out)
{
    json_t *o = NULL;
    TIDE_CHECK(show_doc(s, id, &o));
    int rc = dump(o, out);
    json_decref(o);
    return rc;
}

int tide_case_show_markdown(tide_store *s, int64_t id, char **out)
{
    json_t *o = NULL;
    TIDE_CHECK(show_doc(s, id, &o));
    *out = tide__case_markdown(o);
    json_decref(o);
    TIDE_CHECK_ALLOC(*out);
    return 0;
}

static int plan_doc(tide_store *s, int64_t id, json_t **out)
{
    json_t *o = NULL;
    TIDE_CHECK(show_doc(s, id, &o));
    *out = json_pack("{s:O, s:O, s:O, s:O}", "case", json_object_get(o, "id"), "tier",
            json_object_get(o, "tier"), "rule", json_object_get(o, "rule"), "actions",
            json_object_get(o, "plan") ? json_object_get(o, "plan") : json_array());
    json_decref(o);
    TIDE_CHECK_ALLOC(*out);
    return 0;
}

int tide_case_plan_json(tide_store *s, int64_t id, char **out)
{
    json_t *p = NULL;
    TIDE_CHECK(plan_doc(s, id, &p));
    int rc = dump(p, out);
    json_decref(p);
    return rc;
}

int tide_case_plan_markdown(tide_store *s, int64_t id, char **out)
{
    json_t *p = NULL;
    TIDE_CHECK(plan_doc(s, id, &p));
    *out = tide__case_plan_md(p);
    json_decref(p);
    TIDE_CHECK_ALLOC(*out);
    return 0;
}

int tide_case_list_json(tide_store *s, char **out)
{
    json_t *ids = NULL, *list = json_array();
    int rc = tide__case_ids(s, &ids);
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
    {
        json_t *row = NULL;
        char t[32];
        if (rc < 0 || (rc = tide__case_get(s, json_integer_value(v), &row)) < 0)
            break;
        json_t *doc = json_object_get(row, "doc");
        tide_time_format(jint(row, "opened_at"), t);
        json_t *o = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:s, s:O, s:O, s:O}", "id",
                json_object_get(row, "id"), "status", json_object_get(row, "status"), "tier",
                json_object_get(row, "tier"), "seed_host", json_object_get(row, "seed_host"),
                "seed_indicator", json_object_get(row, "seed_indicator"), "hosts",
                json_object_get(doc, "host_count"), "silent", json_object_get(doc, "silent_count"),
                "opened_at", t, "campaigns", json_object_get(doc, "campaigns"), "malware",
                json_object_get(doc, "malware"), "actors", json_object_get(doc, "actors"));
        if (o)
            json_array_append_new(list, o);
        json_decref(row);
    }
    json_decref(ids);
    if (rc == 0)
        rc = dump(list, out);
    json_decref(list);
    return rc;
}

/* ---- recovery ---- */

int tide_case_host_state(tide_store *s, const tide_case_opts *o, int64_t id, const char *host,
        const char *state, const char *by, const char *note)
{
    json_t *row = NULL, *hrows = NULL;
    int rc;
    int64_t now = tide__case_now(o);
    int to = tide__case_state_index(state);
    if (to < 0 || to == 4 || to == 0)
        return tide_error_set(TIDE_EINVAL,
                "state '%s': contained, eradicated or recovered"
                " expected (verified is set by the watch)",
                state ? state : "");
    if ((rc = tide__case_get(s, id, &row)) < 0)
        return rc;
    if (strcmp(jstr(row, "status"), "open") != 0) {
        rc = tide_error_set(TIDE_EINVAL, "case %lld is closed", (long long)id);
        goto done;
    }
    if ((rc = tide__case_hosts(s, id, &hrows)) < 0)
        goto done;
    json_t *hr = find_host(hrows, host ? host : "");
    if (hr == NULL) {
        rc = tide_error_set(
                TIDE_ENOTFOUND, "host %s is not in case %lld", host ? host : "", (long long)id);
        goto done;
    }
    int from = tide__case_state_index(jstr(hr, "state"));
    if (to != from + 1) {
        rc = tide_error_set(TIDE_EINVAL, "illegal transition %s -> %s for host %s (%s)",
                jstr(hr, "state"), state, host,
                from >= 3       ? "a recovered host is verified by the watch"
                : from + 1 == 1 ? "next allowed: contained"
                : from + 1 == 2 ? "next allowed: eradicated"
                                : "next allowed: recovered");
        goto done;
    }
    json_object_set_new(hr, "state", json_string(state));
    json_object_set_new(hr, "state_at", json_integer(now));
    if (to == 3)
        json_object_set_new(hr, "recovered_at", json_integer(now));
    char kind[32], text[1200];
    snprintf(kind, sizeof(kind), "state:%s", state);
    snprintf(text, sizeof(text), "%s: %s -> %s%s%s", host, STATES[from], state, note ? ": " : "",
            note ? note : "");
    if ((rc = tide_store_begin(s)) < 0)
        goto done;
    rc = tide__case_host_put(s, id, hr);
    if (rc == 0)
        rc = tide__case_event_add(s, id, now, kind, host, by, text);
    if (rc == 0)
        rc = tide_store_commit(s);
    else
        tide_store_rollback(s);
done:
    json_decref(row);
    json_decref(hrows);
    return rc;
}

int tide_case_lessons_set(tide_store *s, const tide_case_opts *o, int64_t id, const char *path)
{
    json_t *row = NULL, *l = NULL;
    char *data = NULL;
    size_t len = 0;
    TIDE_CHECK(tide__case_get(s, id, &row));
    int rc = tide__case_read_file(path, TIDE_CASE_MAX_FILE, &data, &len);
    if (rc == 0)
        rc = tide__case_lessons_parse(data, len, path, &l);
    if (rc == 0 && strcmp(jstr(row, "status"), "open") != 0)
        rc = tide_error_set(TIDE_EINVAL, "case %lld is closed", (long long)id);
    if (rc == 0) {
        json_object_set(row, "lessons", l);
        char text[300];
        snprintf(text, sizeof(text),
                "lessons learned recorded: %zu new indicator(s), %zu"
                " prevention change(s), %zu detection gap(s), %zu response"
                " gap(s), %zu policy rule(s)",
                json_array_size(json_object_get(l, "new_indicators")),
                json_array_size(json_object_get(l, "prevention_changes")),
                json_array_size(json_object_get(l, "detection_gaps")),
                json_array_size(json_object_get(l, "response_gaps")),
                json_array_size(json_object_get(l, "policies")));
        rc = tide_store_begin(s);
        if (rc == 0)
            rc = tide__case_put(s, row, NULL);
        if (rc == 0)
            rc = tide__case_event_add(s, id, tide__case_now(o), "lessons", NULL, NULL, text);
        if (rc == 0)
            rc = tide_store_commit(s);
        else
            tide_store_rollback(s);
    }
    tide__free(data);
    json_decref(row);
    json_decref(l);
    return rc;
}

/* ---- what the lessons produced ---- */

typedef struct {
    json_t *ids;
    json_t *have;
} lesson_ids;

static int on_lesson_ind(const tide_indicator_obs *r, void *payload)
{
    lesson_ids *l = payload;
    if (json_object_get(l->have, r->id))
        return 0;
    json_object_set_new(l->have, r->id, json_true());
    return json_array_append_new(l->ids, json_string(r->id)) == 0 ? 0 : TIDE_ENOMEM;
}

int tide__case_lesson_ids(tide_store *s, json_t *row, json_t *ids)
{
    json_t *inds = json_object_get(json_object_get(row, "lessons"), "new_indicators");
    lesson_ids l = { ids, json_object() };
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v) json_object_set_new(l.have, json_string_value(v), json_true());
    int rc = 0;
    json_array_foreach(inds, i, v)
    {
        const char *val = jstr(v, "value");
        if (val == NULL)
            continue;
        /* the value as the store keeps it (the list reader's canonical form) */
        char *norm = NULL;
        tide_obs_kind k = tide_obs_detect(val);
        tide_indicator_filter f = { 0 };
        f.source = "internal";
        f.value = k != TIDE_OBS_NONE && tide_obs_normalize(k, val, &norm) == 0 ? norm : val;
        rc = tide_store_each_indicator_obs(s, &f, on_lesson_ind, &l);
        free(norm);
        if (rc < 0)
            break;
    }
    json_decref(l.have);
    return rc;
}

static int promote(tide_store *s, const tide_case_opts *o, json_t *row, const char *tlp, long *out)
{
    json_t *inds = json_object_get(json_object_get(row, "lessons"), "new_indicators");
    *out = 0;
    if (json_array_size(inds) == 0)
        return 0;
    /* the lessons' values as a list, ingested from memory */
    tide_buf list = TIDE_BUF_INIT;
    size_t i;
    json_t *v;
    json_array_foreach(inds, i, v) TIDE_CHECK(tide__buf_printf(&list, "%s\n", jstr(v, "value")));
    tide_ingest_opts io = { 0 };
    io.source = "internal";
    io.tlp = tlp;
    io.confidence = 90;
    io.reliability = 'B';
    json_t *names = json_object_get(json_object_get(row, "doc"), "malware");
    if (json_array_size(names) == 0)
        names = json_object_get(json_object_get(row, "doc"), "campaigns");
    io.family = json_string_value(json_array_get(names, 0));
    int rc;
    if (o && o->promote) {
        rc = o->promote(o->ctx, list.ptr, list.len, &io, out);
    } else {
        tide_ingest_stats st = { 0 };
        rc = tide_ingest_buffer(
                s, list.ptr, list.len, "lessons", TIDE_FMT_LIST, &io, &st, NULL, NULL);
        if (rc == 0)
            *out = st.indicators;
    }
    tide__buf_free(&list);
    return rc;
}

/* The lessons' prevention rules as policy exports: declared through o->policy_export (export
 * targets that follow the assets), or written once. The result goes to row "policy_exports". */
static int declare_policies(tide_store *s, const tide_case_opts *o, int64_t id, json_t *row)
{
    json_t *pols = json_object_get(json_object_get(row, "lessons"), "policies");
    json_t *done = json_array();
    TIDE_CHECK_ALLOC(done);
    int rc = 0;
    size_t i;
    json_t *p;
    json_array_foreach(pols, i, p)
    {
        char name[64];
        snprintf(name, sizeof(name), "case-%lld-policy-%zu", (long long)id, i + 1);
        tide_export_opts eo;
        tide_export_opts_init(&eo);
        eo.format = tide_export_format_from_name(jstr(p, "format"));
        eo.policy = jstr(p, "policy");
        eo.categories = jstr(p, "categories");
        eo.allow = jstr(p, "allow");
        eo.output = jstr(p, "output");
        char *output = NULL;
        long entries = 0;
        if (eo.format < 0) {
            rc = tide_error_set(TIDE_EINVAL, "case %lld: policy '%s': unknown format",
                    (long long)id, jstr(p, "rule"));
        } else if (o && o->policy_export) {
            rc = o->policy_export(o->ctx, name, &eo, &output, &entries);
        } else if (eo.output == NULL) {
            rc = tide_error_set(TIDE_EINVAL,
                    "case %lld: policy '%s' names no output ('to PATH'), and there is no workspace"
                    " to keep it in",
                    (long long)id, jstr(p, "rule"));
        } else {
            tide_export_summary sum;
            rc = tide_export_run(s, &eo, NULL, &sum, NULL, NULL);
            entries = sum.written;
            if (rc == 0 && (output = strdup(eo.output)) == NULL)
                rc = tide_error_set(TIDE_ENOMEM, "out of memory");
        }
        if (rc < 0) {
            free(output);
            break;
        }
        json_array_append_new(done, json_pack("{s:s, s:s, s:s, s:s?, s:I}", "name", name, "rule",
                                            jstr(p, "rule"), "format", jstr(p, "format"), "output",
                                            output, "entries", (json_int_t)entries));
        free(output);
    }
    if (rc == 0 && json_array_size(done) > 0)
        json_object_set(json_object_get(row, "doc"), "policy_exports", done);
    json_decref(done);
    return rc;
}

int tide_case_close(
        tide_store *s, const tide_case_opts *o, int64_t id, const char *tlp, long *out_promoted)
{
    json_t *row = NULL, *hrows = NULL;
    long promoted = 0;
    int64_t now = tide__case_now(o);
    if (tlp && tide_tlp_parse(tlp) < 0)
        return tide_error_set(TIDE_EINVAL, "unknown TLP '%s'", tlp);
    TIDE_CHECK(tide_case_refresh(s, o, id, NULL));
    int rc = tide__case_get(s, id, &row);
    if (rc == 0 && strcmp(jstr(row, "status"), "open") != 0)
        rc = tide_error_set(TIDE_EINVAL, "case %lld is already closed", (long long)id);
    if (rc == 0)
        rc = tide__case_hosts(s, id, &hrows);
    if (rc == 0) {
        tide_buf b = { 0 };
        size_t i, n = 0;
        json_t *h;
        json_array_foreach(hrows, i, h)
        {
            if (strcmp(jstr(h, "state"), "verified") != 0) {
                if (n++ < 5)
                    tide__buf_printf(
                            &b, "%s%s (%s)", n > 1 ? ", " : "", jstr(h, "host"), jstr(h, "state"));
            }
        }
        if (n)
            rc = tide_error_set(TIDE_EINVAL,
                    "case %lld cannot close: %zu host(s) not verified:"
                    " %s%s",
                    (long long)id, n, b.ptr ? b.ptr : "", n > 5 ? ", ..." : "");
        else if (!json_is_object(json_object_get(row, "lessons")))
            rc = tide_error_set(TIDE_EINVAL,
                    "case %lld cannot close: no lessons learned"
                    " (tide case lessons %lld --file F)",
                    (long long)id, (long long)id);
        tide__buf_free(&b);
    }
    const char *use_tlp = tlp ? tlp : jstr(row, "tlp");
    if (rc == 0) /* before the promotion, whose ingest run then checks them with the rest */
        rc = declare_policies(s, o, id, row);
    if (rc == 0)
        rc = promote(s, o, row, use_tlp, &promoted);
    if (rc == 0) {
        json_object_set_new(row, "status", json_string("closed"));
        json_object_set_new(row, "closed_at", json_integer(now));
        json_object_set_new(row, "updated_at", json_integer(now));
        char text[200];
        snprintf(text, sizeof(text),
                "closed: %ld lessons-learned indicator(s) promoted as"
                " source internal, TLP %s; %zu policy export(s)",
                promoted, use_tlp,
                json_array_size(json_object_get(json_object_get(row, "doc"), "policy_exports")));
        rc = tide_store_begin(s);
        if (rc == 0)
            rc = tide__case_put(s, row, NULL);
        if (rc == 0)
            rc = tide__case_event_add(s, id, now, "closed", NULL, NULL, text);
        if (rc == 0)
            rc = tide_store_commit(s);
        else
            tide_store_rollback(s);
    }
    if (rc == 0 && out_promoted)
        *out_promoted = promoted;
    json_decref(row);
    json_decref(hrows);
    return rc;
}
