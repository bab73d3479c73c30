/*
 * case_build.c - computes a case document (SPEC C4) from a seed host and its indicators:
 *   attribution  breadth-first walk of relationships from the seed indicators to malware /
 *                tools / campaigns / intrusion sets / threat actors (indicator -any- SDO;
 *                campaign -uses-> malware; malware <-uses- campaign; campaign / malware /
 *                intrusion-set -attributed-to-> set / actor), with each hop's confidence
 *   scope        every indicator of the attributed campaigns and malware, hunted through the
 *                history over all hosts (tide_history_hunt, results stored as retro-sightings)
 *                and looked up in the stored sightings: hosts alerted (live) or silent
 *   vector       the earliest evidence of the first affected host, ties broken by kill-chain
 *                phase (delivery before exploitation, installation, C2)
 *   tier         from the policy (case_parse.c) with asset criticality (tide_store_each_asset)
 *   plan         tide__case_plan (case_plan.c)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "case_store.h"
#include "cases_int.h"
#include "tide/errors.h"
#include "tide/history.h"
#include "tide/sightings.h"
#include "util/util.h"

int64_t tide__case_now(const tide_case_opts *o)
{
    return o && o->now_ms ? o->now_ms : tide__time_now_ms();
}

static void set_time(json_t *o, const char *k, int64_t ms)
{
    char t[32], k2[64];
    tide_time_format(ms, t);
    json_object_set_new(o, k, json_string(t));
    snprintf(k2, sizeof(k2), "%s_ms", k);
    json_object_set_new(o, k2, json_integer(ms));
}

static int64_t jint(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* ---- kill-chain phases ---- */

static int phase_rank(const char *p)
{
    static const char *const order[][2] = {
        { "reconnaissance", "0" },
        { "weaponization", "1" },
        { "resource-development", "1" },
        { "delivery", "2" },
        { "initial-access", "2" },
        { "exploitation", "3" },
        { "execution", "3" },
        { "installation", "4" },
        { "persistence", "4" },
        { "privilege-escalation", "4" },
        { "defense-evasion", "4" },
        { "command-and-control", "5" },
        { "credential-access", "6" },
        { "discovery", "6" },
        { "lateral-movement", "6" },
        { "collection", "6" },
        { "exfiltration", "6" },
        { "impact", "6" },
        { "actions-on-objectives", "6" },
    };
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        if (strcasecmp(p, order[i][0]) == 0)
            return order[i][1][0] - '0';
    return 9;
}

static const char *inferred_phase(const char *kind)
{
    if (strcmp(kind, "url") == 0 || strcmp(kind, "url-path") == 0 || strcmp(kind, "email") == 0)
        return "delivery";
    if (strcmp(kind, "md5") == 0 || strcmp(kind, "sha1") == 0 || strcmp(kind, "sha256") == 0 ||
            strcmp(kind, "sha512") == 0)
        return "installation";
    return "command-and-control";
}

/* The phase of an evidence row: the earliest of the indicator's kill-chain phases, else one
 * inferred from the observable kind. Sets "phase" and "phase_source". */
static int evidence_phase(json_t *ev)
{
    const char *kc = jstr(ev, "kill_chain");
    int best = 9;
    char bestname[64] = "";
    if (kc && *kc) {
        char *dup = tide__strdup(kc);
        if (dup == NULL)
            return tide_error_set(TIDE_ENOMEM, "out of memory");
        char *save = NULL;
        for (char *p = strtok_r(dup, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
            char *t = tide__str_trim(p);
            /* "chain:phase" or "phase" */
            char *c = strrchr(t, ':');
            if (c)
                t = c + 1;
            int r = phase_rank(t);
            if (r < best) {
                best = r;
                snprintf(bestname, sizeof(bestname), "%s", t);
            }
        }
        tide__free(dup);
    }
    if (best < 9) {
        json_object_set_new(ev, "phase", json_string(bestname));
        json_object_set_new(ev, "phase_source", json_string("indicator kill chain"));
    } else {
        const char *p = inferred_phase(jstr(ev, "type") ? jstr(ev, "type") : "");
        best = phase_rank(p);
        json_object_set_new(ev, "phase", json_string(p));
        json_object_set_new(ev, "phase_source", json_string("inferred from the observable type"));
    }
    json_object_set_new(ev, "phase_rank", json_integer(best));
    return 0;
}

/* ---- indicators ---- */

typedef struct {
    json_t *inds; /* id -> {value, type, kill_chain, confidence, tlp, source, names} */
    json_t *why;  /* reason to add (attributed name or "seed") */
} ind_ctx;

static json_t *names_array(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static int collect_ind(const tide_indicator_obs *r, void *payload)
{
    ind_ctx *c = payload;
    json_t *o = json_object_get(c->inds, r->id);
    if (o == NULL) {
        o = json_object();
        json_object_set_new(o, "value", json_string(r->value));
        json_object_set_new(o, "type", json_string(tide_obs_kind_name(r->kind)));
        if (r->kill_chain)
            json_object_set_new(o, "kill_chain", json_string(r->kill_chain));
        json_object_set_new(o, "confidence", json_integer(r->confidence));
        if (r->tlp)
            json_object_set_new(o, "tlp", json_string(r->tlp));
        if (r->source)
            json_object_set_new(o, "source", json_string(r->source));
        json_object_set_new(o, "campaigns", names_array(r->campaigns, r->ncampaigns));
        json_object_set_new(o, "malware", names_array(r->malware, r->nmalware));
        json_object_set_new(o, "actors", names_array(r->actors, r->nactors));
        json_object_set(o, "via", c->why);
        json_object_set_new(c->inds, r->id, o);
    }
    return 0;
}

/* ---- attribution ---- */

typedef struct {
    json_t *rels; /* array of {rel_id, rel_type, outgoing, other_id, other_type, other_name} */
} rel_ctx;

static int collect_rel(const tide_relation *r, void *payload)
{
    rel_ctx *c = payload;
    json_array_append_new(c->rels,
            json_pack("{s:s, s:s, s:b, s:s, s:s, s:s?}", "rel_id", r->rel_id, "rel_type",
                    r->rel_type, "outgoing", r->outgoing, "other_id", r->other_id, "other_type",
                    r->other_type ? r->other_type : "", "other_name", r->other_name));
    return 0;
}

static bool is_attr_type(const char *t)
{
    return strcmp(t, "malware") == 0 || strcmp(t, "tool") == 0 || strcmp(t, "campaign") == 0 ||
           strcmp(t, "intrusion-set") == 0 || strcmp(t, "threat-actor") == 0;
}

static bool is_actor(const char *t)
{
    return strcmp(t, "intrusion-set") == 0 || strcmp(t, "threat-actor") == 0;
}

/* May the walk go from an object of type from over rel (direction) to other? */
static bool hop_allowed(const char *from, const char *rel, bool outgoing, const char *to)
{
    if (!is_attr_type(to))
        return false;
    if (strcmp(from, "indicator") == 0)
        return true;
    if (strcmp(rel, "attributed-to") == 0)
        return outgoing && (is_actor(to) || strcmp(to, "campaign") == 0);
    if (strcmp(from, "campaign") == 0)
        return strcmp(rel, "uses") == 0 && outgoing &&
               (strcmp(to, "malware") == 0 || strcmp(to, "tool") == 0);
    if (strcmp(from, "malware") == 0 || strcmp(from, "tool") == 0)
        return strcmp(rel, "uses") == 0 && !outgoing && strcmp(to, "campaign") == 0;
    return false;
}

static int rel_confidence(tide_store *s, const char *rel_id)
{
    char *js = NULL;
    int conf = -1;
    if (tide_store_get(s, rel_id, NULL, &js) == 0) {
        json_t *o = json_loads(js, 0, NULL);
        json_t *c = json_object_get(o, "confidence");
        if (json_is_integer(c))
            conf = (int)json_integer_value(c);
        json_decref(o);
        free(js);
    }
    tide_error_clear();
    return conf;
}

/* Walk from the seed indicators; out: array of attributed objects with their path. */
static int attribute(tide_store *s, json_t *seed_ids, json_t *inds, json_t **out)
{
    json_t *res = json_array();
    json_t *seen = json_object();
    json_t *queue = json_array(); /* {id, type, name, depth, confidence, path} */
    int rc = 0;
    size_t i;
    json_t *v;
    json_array_foreach(seed_ids, i, v)
    {
        json_t *ind = json_object_get(inds, json_string_value(v));
        int conf = ind ? (int)jint(ind, "confidence") : -1;
        json_array_append_new(queue,
                json_pack("{s:s, s:s, s:s, s:i, s:i, s:[]}", "id", json_string_value(v), "type",
                        "indicator", "name", ind && jstr(ind, "value") ? jstr(ind, "value") : "",
                        "depth", 0, "confidence", conf < 0 ? 50 : conf, "path"));
        json_object_set_new(seen, json_string_value(v), json_true());
    }
    for (size_t q = 0; q < json_array_size(queue) && rc == 0; q++) {
        json_t *node = json_array_get(queue, q);
        if (jint(node, "depth") >= 4)
            continue;
        rel_ctx rc_ = { json_array() };
        rc = tide_store_related(s, jstr(node, "id"), collect_rel, &rc_);
        size_t j;
        json_t *r;
        json_array_foreach(rc_.rels, j, r)
        {
            const char *other = jstr(r, "other_id");
            const char *ot = jstr(r, "other_type");
            bool outgoing = json_is_true(json_object_get(r, "outgoing"));
            if (json_object_get(seen, other) ||
                    !hop_allowed(jstr(node, "type"), jstr(r, "rel_type"), outgoing, ot))
                continue;
            json_object_set_new(seen, other, json_true());
            int hc = rel_confidence(s, jstr(r, "rel_id"));
            int conf = (int)jint(node, "confidence");
            if (hc >= 0)
                conf = conf * hc / 100;
            json_t *path = json_deep_copy(json_object_get(node, "path"));
            json_t *hop = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "from", jstr(node, "id"),
                    "from_name", jstr(node, "name"), "relationship", jstr(r, "rel_type"),
                    "direction", outgoing ? "->" : "<-", "to", other, "relationship_id",
                    jstr(r, "rel_id"));
            json_object_set_new(hop, "to_name",
                    json_string(jstr(r, "other_name") ? jstr(r, "other_name") : other));
            json_object_set_new(hop, "confidence", hc >= 0 ? json_integer(hc) : json_null());
            json_array_append_new(path, hop);
            json_t *a = json_pack("{s:s, s:s, s:s, s:i, s:i}", "id", other, "type", ot, "name",
                    jstr(r, "other_name") ? jstr(r, "other_name") : other, "confidence", conf,
                    "hops", (int)jint(node, "depth") + 1);
            json_object_set(a, "path", path);
            json_array_append(res, a);
            json_array_append_new(queue,
                    json_pack("{s:s, s:s, s:s, s:I, s:i, s:o}", "id", other, "type", ot, "name",
                            jstr(a, "name"), "depth", (json_int_t)jint(node, "depth") + 1,
                            "confidence", conf, "path", path));
            json_decref(a);
        }
        json_decref(rc_.rels);
    }
    json_decref(queue);
    json_decref(seen);
    if (rc < 0) {
        json_decref(res);
        return rc;
    }
    *out = res;
    return 0;
}

/* ---- scope ---- */

typedef struct {
    json_t *inds;  /* indicator id -> context */
    json_t *hosts; /* host -> {host, ev: {indicator id -> evidence}} */
    long nhosts;
} scope_ctx;

static json_t *host_entry(scope_ctx *c, const char *host)
{
    json_t *h = json_object_get(c->hosts, host);
    if (h == NULL) {
        if (c->nhosts >= TIDE_CASE_MAX_HOSTS)
            return NULL;
        h = json_pack("{s:s, s:{}}", "host", host, "ev");
        json_object_set_new(c->hosts, host, h);
        c->nhosts++;
    }
    return h;
}

/* Add the '\n'-separated user names to the evidence row's "users" (each once). */
static void add_users(json_t *e, const char *users)
{
    if (users == NULL || *users == '\0')
        return;
    json_t *a = json_object_get(e, "users");
    if (a == NULL) {
        a = json_array();
        json_object_set_new(e, "users", a);
    }
    for (const char *p = users; *p;) {
        const char *end = strchr(p, '\n');
        size_t n = end ? (size_t)(end - p) : strlen(p), i;
        json_t *v;
        bool have = false;
        json_array_foreach(a, i, v) have |=
                json_string_length(v) == n && memcmp(json_string_value(v), p, n) == 0;
        if (!have && n)
            json_array_append_new(a, json_stringn(p, n));
        p += n + (end != NULL);
    }
}

static void merge_ev(scope_ctx *c, const char *host, const char *ind_id, const char *observed,
        int64_t first, int64_t last, int64_t live, int64_t retro, const char *file, int64_t line,
        const char *found_by, const char *users)
{
    json_t *ind = json_object_get(c->inds, ind_id);
    json_t *h = host_entry(c, host);
    if (ind == NULL || h == NULL)
        return;
    json_t *evs = json_object_get(h, "ev");
    json_t *e = json_object_get(evs, ind_id);
    if (e == NULL) {
        e = json_pack("{s:s, s:s?, s:s?, s:s?, s:I, s:I, s:I, s:I, s:s?, s:I, s:s}", "indicator_id",
                ind_id, "indicator", jstr(ind, "value"), "type", jstr(ind, "type"), "observed",
                observed, "first_seen_ms", (json_int_t)first, "last_seen_ms", (json_int_t)last,
                "live_count", (json_int_t)live, "retro_count", (json_int_t)retro, "file", file,
                "line", (json_int_t)line, "found_by", found_by);
        if (jstr(ind, "kill_chain"))
            json_object_set(e, "kill_chain", json_object_get(ind, "kill_chain"));
        add_users(e, users);
        json_object_set_new(evs, ind_id, e);
        return;
    }
    add_users(e, users);
    if (first < jint(e, "first_seen_ms")) {
        json_object_set_new(e, "first_seen_ms", json_integer(first));
        json_object_set_new(e, "file", file ? json_string(file) : json_null());
        json_object_set_new(e, "line", json_integer(line));
        if (observed)
            json_object_set_new(e, "observed", json_string(observed));
    }
    if (last > jint(e, "last_seen_ms"))
        json_object_set_new(e, "last_seen_ms", json_integer(last));
    if (live > jint(e, "live_count")) {
        json_object_set_new(e, "live_count", json_integer(live));
        json_object_set_new(e, "found_by", json_string("live"));
    }
    if (retro > jint(e, "retro_count"))
        json_object_set_new(e, "retro_count", json_integer(retro));
}

static int on_sighting(const tide_sighting_rec *r, void *payload)
{
    scope_ctx *c = payload;
    if (r->suppressed || json_object_get(c->inds, r->indicator_id) == NULL)
        return 0;
    merge_ev(c, r->host, r->indicator_id, r->observed, r->first_seen, r->last_seen, r->live_count,
            r->retro_count, r->file, r->line, r->live_count > 0 ? "live" : "retro", r->users);
    return 0;
}

static int on_retro(const tide_retro_sighting *r, void *payload)
{
    scope_ctx *c = payload;
    if (r->hit->suppressed)
        return 0;
    merge_ev(c, r->host, r->hit->indicator_id, r->observed, r->first_seen_us / 1000,
            r->last_seen_us / 1000, 0, (int64_t)r->count, r->file, (int64_t)r->line, "hunt", NULL);
    return 0;
}

static int hunt(tide_store *s, const tide_case_opts *o, const tide_indicator_filter *f,
        scope_ctx *c, json_t *notes)
{
    (void)s;
    if (o == NULL || o->hunt == NULL) {
        json_array_append_new(notes, json_string("history not searched: no history given"));
        return 0;
    }
    tide_hunt_opts ho = { 0 };
    ho.filter = f;
    ho.now_ms = o->now_ms;
    ho.store = true;
    int rc = o->hunt(o->ctx, &ho, on_retro, c, NULL);
    if (rc < 0) {
        json_array_append_new(notes, json_sprintf("history hunt failed: %s", tide_error_last()));
        tide_error_clear();
    }
    return 0;
}

/* ---- assets ---- */

static int on_asset(const tide_asset *a, void *payload)
{
    json_t *m = payload;
    json_t *o = json_pack("{s:s, s:s?, s:s?, s:s?}", "host", a->host, "hostname", a->hostname,
            "owner", a->owner, "criticality", a->criticality);
    json_object_set(m, a->host, o);
    if (a->hostname)
        json_object_set(m, a->hostname, o);
    for (size_t i = 0; i < a->nips; i++)
        json_object_set(m, a->ips[i], o);
    json_decref(o);
    return 0;
}

/* ---- users ---- */

/* A built-in Windows principal (NT AUTHORITY\SYSTEM, LOCAL SERVICE, NETWORK SERVICE, anonymous
 * logons, the window manager's and font driver's DWM-n / UMFD-n) or a machine account (NAME$):
 * no person's credentials to reset. */
static bool builtin_account(const char *u)
{
    const char *b = strrchr(u, '\\');
    b = b ? b + 1 : u;
    size_t n = strlen(b);
    return strcasecmp(b, "SYSTEM") == 0 || strcasecmp(b, "LOCAL SERVICE") == 0 ||
           strcasecmp(b, "NETWORK SERVICE") == 0 || strcasecmp(b, "LOCALSERVICE") == 0 ||
           strcasecmp(b, "NETWORKSERVICE") == 0 || strcasecmp(b, "ANONYMOUS LOGON") == 0 ||
           strncasecmp(b, "DWM-", 4) == 0 || strncasecmp(b, "UMFD-", 5) == 0 ||
           (n > 1 && b[n - 1] == '$');
}

/* The users seen on a host, from its evidence rows (all of them, oldest first): each once, with
 * whether it is a built-in account and the first evidence that carried it. */
static json_t *host_users(json_t *evidence)
{
    json_t *users = json_array(), *seen = json_object();
    size_t i, j;
    json_t *e, *u;
    json_array_foreach(evidence, i, e)
    {
        json_array_foreach(json_object_get(e, "users"), j, u)
        {
            const char *name = json_string_value(u);
            if (name == NULL || json_object_get(seen, name))
                continue;
            json_object_set_new(seen, name, json_true());
            json_array_append_new(users,
                    json_pack("{s:s, s:b, s:s?, s:s?, s:s?, s:I, s:s?}", "user", name, "builtin",
                            builtin_account(name), "indicator", jstr(e, "indicator"), "type",
                            jstr(e, "type"), "file", jstr(e, "file"), "line",
                            (json_int_t)jint(e, "line"), "indicator_id", jstr(e, "indicator_id")));
        }
    }
    json_decref(seen);
    return users;
}

/* ---- the document ---- */

static int cmp_ev(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int64_t fx = jint(x, "first_seen_ms"), fy = jint(y, "first_seen_ms");
    if (fx != fy)
        return fx < fy ? -1 : 1;
    int64_t px = jint(x, "phase_rank"), py = jint(y, "phase_rank");
    if (px != py)
        return px < py ? -1 : 1;
    return strcmp(jstr(x, "indicator_id"), jstr(y, "indicator_id"));
}

static int cmp_host(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int64_t fx = jint(x, "first_seen_ms"), fy = jint(y, "first_seen_ms");
    if (fx != fy)
        return fx < fy ? -1 : 1;
    return strcmp(jstr(x, "host"), jstr(y, "host"));
}

static json_t *sorted_values(json_t *obj, int (*cmp)(const void *, const void *))
{
    size_t n = json_object_size(obj), i = 0;
    json_t **v = calloc(n ? n : 1, sizeof(*v));
    json_t *a = json_array();
    const char *k;
    json_t *x;
    if (v == NULL)
        return a;
    json_object_foreach(obj, k, x) v[i++] = x;
    qsort(v, n, sizeof(*v), cmp);
    for (i = 0; i < n; i++)
        json_array_append(a, v[i]);
    free(v);
    return a;
}

static void add_name(json_t *arr, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) if (strcasecmp(json_string_value(v), name) == 0) return;
    json_array_append_new(arr, json_string(name));
}

int tide__case_compute(tide_store *s, const tide_case_opts *o, json_t *policy,
        const char *seed_host, json_t *seed_ids, json_t *hosts_state, json_t **out_doc,
        json_t **out_ids)
{
    int rc = 0;
    json_t *doc = json_object(), *attr = NULL, *assets = json_object(), *notes = json_array();
    scope_ctx sc = { json_object(), json_object(), 0 };
    ind_ctx ic = { sc.inds, json_string("seed") };
    size_t i;
    json_t *v;

    /* seed indicators */
    json_array_foreach(seed_ids, i, v)
    {
        tide_indicator_filter f = { 0 };
        f.value = json_string_value(v);
        f.include_revoked = true;
        if ((rc = tide_store_each_indicator_obs(s, &f, collect_ind, &ic)) < 0)
            goto done;
    }
    /* attribution */
    if ((rc = attribute(s, seed_ids, sc.inds, &attr)) < 0)
        goto done;
    json_t *campaigns = json_array(), *malware = json_array(), *actors = json_array();
    json_object_set_new(doc, "campaigns", campaigns);
    json_object_set_new(doc, "malware", malware);
    json_object_set_new(doc, "actors", actors);
    json_array_foreach(attr, i, v)
    {
        const char *t = jstr(v, "type");
        add_name(strcmp(t, "campaign") == 0 ? campaigns
                 : is_actor(t)              ? actors
                                            : malware,
                jstr(v, "name"));
    }
    json_object_set(doc, "attribution", attr);

    /* every indicator of the attributed campaigns / malware */
    json_t *scope_names = json_array();
    json_array_extend(scope_names, campaigns);
    json_array_extend(scope_names, malware);
    json_object_set_new(doc, "scope_names", scope_names);
    json_array_foreach(scope_names, i, v)
    {
        tide_indicator_filter f = { 0 };
        f.related = json_string_value(v);
        json_decref(ic.why);
        ic.why = json_incref(v);
        if ((rc = tide_store_each_indicator_obs(s, &f, collect_ind, &ic)) < 0)
            goto done;
    }
    json_object_set_new(
            doc, "indicator_count", json_integer((json_int_t)json_object_size(sc.inds)));

    /* blast radius: history hunt (stores retro-sightings), then every stored sighting */
    if (!(o && o->no_hunt)) {
        json_array_foreach(scope_names, i, v)
        {
            tide_indicator_filter f = { 0 };
            f.related = json_string_value(v);
            hunt(s, o, &f, &sc, notes);
        }
        json_array_foreach(seed_ids, i, v)
        {
            tide_indicator_filter f = { 0 };
            f.value = json_string_value(v);
            hunt(s, o, &f, &sc, notes);
        }
    }
    if ((rc = tide_store_sightings(s, NULL, on_sighting, &sc)) < 0)
        goto done;
    if (json_object_get(sc.hosts, seed_host) == NULL && host_entry(&sc, seed_host) == NULL) {
        rc = tide_error_set(TIDE_ERROR, "too many hosts");
        goto done;
    }
    if ((rc = tide_store_each_asset(s, on_asset, assets)) < 0)
        goto done;

    /* hosts */
    const char *hk;
    json_t *h;
    json_object_foreach(sc.hosts, hk, h)
    {
        json_t *evs = json_object_get(h, "ev");
        const char *ek;
        json_t *e;
        int64_t first = INT64_MAX, last = 0;
        bool live = false;
        json_object_foreach(evs, ek, e)
        {
            if ((rc = evidence_phase(e)) < 0)
                goto done;
            first = jint(e, "first_seen_ms") < first ? jint(e, "first_seen_ms") : first;
            last = jint(e, "last_seen_ms") > last ? jint(e, "last_seen_ms") : last;
            live |= jint(e, "live_count") > 0;
        }
        json_t *arr = sorted_values(evs, cmp_ev);
        json_object_set_new(h, "evidence_count", json_integer((json_int_t)json_array_size(arr)));
        json_object_set_new(h, "users", host_users(arr));
        while (json_array_size(arr) > TIDE_CASE_MAX_EVIDENCE)
            json_array_remove(arr, json_array_size(arr) - 1);
        json_array_foreach(arr, i, e)
        {
            set_time(e, "first_seen", jint(e, "first_seen_ms"));
            set_time(e, "last_seen", jint(e, "last_seen_ms"));
        }
        json_object_set_new(h, "evidence", arr);
        json_object_del(h, "ev");
        if (first == INT64_MAX)
            first = last = 0;
        set_time(h, "first_seen", first);
        set_time(h, "last_seen", last);
        json_object_set_new(h, "status", json_string(live ? "alerted" : "silent"));
        json_object_set_new(h, "seed", json_boolean(strcmp(hk, seed_host) == 0));
        json_t *a = json_object_get(assets, hk);
        if (a) {
            json_object_set(h, "criticality", json_object_get(a, "criticality"));
            json_object_set(h, "owner", json_object_get(a, "owner"));
        }
    }
    json_t *hosts = sorted_values(sc.hosts, cmp_host);
    json_object_set_new(doc, "hosts", hosts);
    long nalerted = 0;
    json_array_foreach(hosts, i, h) nalerted += strcmp(jstr(h, "status"), "alerted") == 0;
    json_object_set_new(doc, "host_count", json_integer((json_int_t)json_array_size(hosts)));
    json_object_set_new(doc, "alerted_count", json_integer(nalerted));
    json_object_set_new(
            doc, "silent_count", json_integer((json_int_t)json_array_size(hosts) - nalerted));

    /* infection vector on the first affected host (with evidence) */
    json_t *fh = NULL;
    json_array_foreach(hosts, i, h)
    {
        if (json_array_size(json_object_get(h, "evidence"))) {
            fh = h;
            break;
        }
    }
    if (fh) {
        json_t *e = json_array_get(json_object_get(fh, "evidence"), 0);
        char cite[600];
        snprintf(cite, sizeof(cite), "%s:%lld", jstr(e, "file") ? jstr(e, "file") : "?",
                (long long)jint(e, "line"));
        json_t *vec = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:O, s:O, s:s, s:s}", "host",
                jstr(fh, "host"), "indicator", jstr(e, "indicator"), "type", jstr(e, "type"),
                "observed", jstr(e, "observed"), "phase", jstr(e, "phase"), "first_seen",
                json_object_get(e, "first_seen"), "phase_source",
                json_object_get(e, "phase_source"), "evidence", cite, "reason",
                "earliest evidence on the first affected host (by time, then kill-chain phase)");
        json_t *others = json_array();
        json_t *e2;
        json_array_foreach(json_object_get(fh, "evidence"), i, e2)
        {
            if (i == 0 || i > 5)
                continue;
            json_array_append_new(others, json_sprintf("%s %s (%s) %s:%lld", jstr(e2, "first_seen"),
                                                  jstr(e2, "indicator"), jstr(e2, "phase"),
                                                  jstr(e2, "file") ? jstr(e2, "file") : "?",
                                                  (long long)jint(e2, "line")));
        }
        json_object_set_new(vec, "then", others);
        json_object_set_new(doc, "infection_vector", vec);
        json_object_set_new(doc, "first_host", json_string(jstr(fh, "host")));
    } else {
        json_object_set_new(doc, "infection_vector", json_null());
    }

    /* tier */
    int tier = 1;
    char rule[512];
    snprintf(rule, sizeof(rule),
            "tier 1: one host, no campaign or intrusion-set link, no"
            " critical asset");
    long nh = (long)json_array_size(hosts);
    long t2 = (long)jint(policy, "tier2_min_hosts"), t3 = (long)jint(policy, "tier3_min_hosts");
    const char *crit_host = NULL, *crit_level = NULL;
    json_array_foreach(hosts, i, h)
    {
        const char *c = jstr(h, "criticality");
        size_t j;
        json_t *cv;
        json_array_foreach(json_object_get(policy, "critical"), j, cv)
        {
            if (c && !crit_host && strcasecmp(c, json_string_value(cv)) == 0) {
                crit_host = jstr(h, "host");
                crit_level = c;
            }
        }
    }
    int actor_tier = (int)jint(policy, "actor_tier"),
        camp_tier = (int)jint(policy, "campaign_tier");
    if (json_array_size(actors) && actor_tier > tier) {
        tier = actor_tier;
        snprintf(rule, sizeof(rule), "tier %d: intrusion-set / threat-actor attribution (%s)", tier,
                json_string_value(json_array_get(actors, 0)));
    }
    if (crit_host && tier < 3) {
        tier = 3;
        snprintf(rule, sizeof(rule), "tier 3: critical asset affected (%s, criticality %s)",
                crit_host, crit_level);
    }
    if (nh >= t3 && tier < 3) {
        tier = 3;
        snprintf(rule, sizeof(rule), "tier 3: %ld affected hosts >= %ld (tier3_min_hosts)", nh, t3);
    }
    if (json_array_size(campaigns) && camp_tier > tier) {
        tier = camp_tier;
        snprintf(rule, sizeof(rule), "tier %d: campaign-linked (%s)", tier,
                json_string_value(json_array_get(campaigns, 0)));
    }
    if (nh >= t2 && tier < 2) {
        tier = 2;
        snprintf(rule, sizeof(rule), "tier 2: %ld affected hosts >= %ld (tier2_min_hosts)", nh, t2);
    }
    json_object_set_new(doc, "tier", json_integer(tier));
    json_object_set_new(doc, "rule", json_string(rule));
    json_object_set_new(doc, "watch_days", json_integer(tide__case_watch_days(policy, tier)));
    json_object_set_new(doc, "notes", json_incref(notes));

    /* indicators of the case: context of the seeds, ids of all */
    json_t *ids = json_array();
    const char *ik;
    json_t *iv;
    json_object_foreach(sc.inds, ik, iv) json_array_append_new(ids, json_string(ik));
    json_t *seeds = json_array();
    json_array_foreach(seed_ids, i, v)
    {
        json_t *c = json_object_get(sc.inds, json_string_value(v));
        json_t *x = json_pack("{s:O}", "id", v);
        if (c)
            json_object_update(x, c);
        json_object_del(x, "via");
        json_array_append_new(seeds, x);
    }
    json_object_set_new(doc, "seed_indicators", seeds);
    /* network indicators per kind and hashes per host for the plan */
    json_t *bykind = json_object();
    json_object_foreach(sc.inds, ik, iv)
    {
        const char *t = jstr(iv, "type");
        json_t *n = json_object_get(bykind, t);
        json_object_set_new(bykind, t, json_integer(json_integer_value(n) + 1));
    }
    json_object_set_new(doc, "indicators_by_type", bykind);
    *out_ids = ids;
    *out_doc = doc;
    doc = NULL;
    (void)hosts_state;
done:
    json_decref(doc);
    json_decref(attr);
    json_decref(assets);
    json_decref(notes);
    json_decref(sc.inds);
    json_decref(sc.hosts);
    json_decref(ic.why);
    return rc;
}
