/*
 * cmd_store.c - the store verbs: init, stats, show, search.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cmd.h"

int cmd_init(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        cli_usage("init", stderr);
        return TIDE_EXIT_USAGE;
    }
    tide_store *s = cli_open_store("init");
    if (s == NULL)
        return TIDE_EXIT_STORE;
    printf("store %s (schema %d)\n", tide_store_db_path(s), tide_store_schema_version(s));
    tide_store_free(s);
    return TIDE_EXIT_OK;
}

static void print_counts(const char *title, json_t *obj)
{
    const char *k;
    json_t *v;
    if (json_object_size(obj) == 0)
        return;
    printf("%s:\n", title);
    json_object_foreach(obj, k, v)
    {
        printf("  %-28s %lld\n", k, (long long)json_integer_value(v));
    }
}

int cmd_stats(int argc, char **argv)
{
    bool as_json = false;
    for (int i = 1; i < argc; i++) {
        if (cli_flag(argv, i, "json"))
            as_json = true;
        else {
            cli_err("stats", "unknown argument '%s'", argv[i]);
            return TIDE_EXIT_USAGE;
        }
    }
    tide_store *s = cli_open_store("stats");
    if (s == NULL)
        return TIDE_EXIT_STORE;
    char *js = NULL;
    if (tide_store_stats_json(s, &js) < 0) {
        cli_err("stats", "%s", tide_error_last());
        tide_store_free(s);
        return TIDE_EXIT_STORE;
    }
    tide_store_free(s);
    if (as_json) {
        printf("%s\n", js);
        free(js);
        return TIDE_EXIT_OK;
    }
    json_t *root = json_loads(js, 0, NULL);
    free(js);
    if (root == NULL)
        return TIDE_EXIT_STORE;
    printf("objects (all versions) %lld, current %lld, indicators %lld, relationships %lld\n",
            (long long)json_integer_value(json_object_get(root, "objects")),
            (long long)json_integer_value(json_object_get(root, "current")),
            (long long)json_integer_value(json_object_get(root, "indicators")),
            (long long)json_integer_value(json_object_get(root, "relationships")));
    print_counts("by type", json_object_get(root, "by_type"));
    print_counts("by source", json_object_get(root, "by_source"));
    print_counts("by TLP", json_object_get(root, "by_tlp"));
    print_counts("observables by kind", json_object_get(root, "observables"));
    printf("warninglists %lld (%lld entries)\n",
            (long long)json_integer_value(json_object_get(root, "warninglists")),
            (long long)json_integer_value(json_object_get(root, "warninglist_entries")));
    json_decref(root);
    return TIDE_EXIT_OK;
}

/* ---- show ---- */

typedef struct {
    tide_store *store;
    bool as_json;
    int count;
    json_t *arr;
    tide_obs_kind kind;             /* of the value shown */
    const char *value;              /* its canonical form */
    const tide_store_match *m;      /* the indicator being shown: the listed value covering it */
    const tide_decay_config *decay; /* the workspace's (STATE/decay.json, --decay) */
} show_ctx;

static int latest_sighting(const tide_sighting_rec *r, void *payload)
{
    *(int64_t *)payload = r->last_seen;
    return 1; /* newest first: the first is the latest */
}

static int print_version(const char *modified, void *payload)
{
    (void)payload;
    printf("%s\n", *modified ? modified : "(unversioned)");
    return 0;
}

static int print_rel(const tide_relation *r, void *payload)
{
    json_t *arr = payload;
    if (arr) {
        json_array_append_new(
                arr, json_pack("{s:s, s:s, s:s, s:s?, s:s?}", "relationship", r->rel_type,
                             "direction", r->outgoing ? "out" : "in", "id", r->other_id, "type",
                             r->other_type, "name", r->other_name));
        return 0;
    }
    printf("  %s %s %s%s%s%s\n", r->outgoing ? "->" : "<-", r->rel_type, r->other_id,
            r->other_name ? " (" : "", r->other_name ? r->other_name : "",
            r->other_name ? ")" : "");
    return 0;
}

static int show_indicator(const char *id, void *payload);

/* One indicator the value matches: through itself, or a listed CIDR / parent / path that
 * covers it. The covering observable's kind decays the score, as in the match index. */
static int show_match(const tide_store_match *m, void *payload)
{
    show_ctx *c = payload;
    c->m = m;
    return show_indicator(m->indicator_id, c);
}

static bool covered(const show_ctx *c)
{
    return c->m && (c->m->kind != c->kind || strcmp(c->m->value, c->value) != 0);
}

static int show_indicator(const char *id, void *payload)
{
    show_ctx *c = payload;
    tide_indicator_rec ind;
    if (tide_store_indicator(c->store, id, &ind) < 0)
        return 0;
    c->count++;
    /* active now and the decayed score, as the match index and exports have them: the one
     * rule of tide/score.h, with the indicator's last sighting */
    tide_score_input in = { .kind = c->m ? c->m->kind : c->kind,
        .confidence = ind.confidence,
        .reliability = ind.reliability,
        .valid_from = ind.valid_from,
        .valid_until = ind.valid_until,
        .created = ind.created,
        .modified = ind.modified,
        .revoked = ind.revoked };
    tide_sighting_query q = { .indicator = ind.id, .limit = 1 };
    char *keep_id = strdup(ind.id); /* ind's strings are the store's until its next call */
    if (tide_store_sightings(c->store, &q, latest_sighting, &in.last_sighted) < 0)
        tide_error_clear();
    if (keep_id == NULL || tide_store_indicator(c->store, keep_id, &ind) < 0) {
        free(keep_id);
        return 0;
    }
    free(keep_id);
    tide_score_result sr;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now); /* ms: a value ingested this second is valid already */
    tide_score_assess(c->decay, &in, (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, &sr);
    char ref[32];
    tide_time_format(sr.ref_ms, ref);
    if (c->as_json) {
        json_t *o = json_pack("{s:s, s:s, s:s?, s:s?, s:s, s:i, s:f, s:i, s:s, s:s, s:s?, s:s?,"
                              " s:b}",
                "id", ind.id, "pattern", ind.pattern, "name", ind.name, "source", ind.source,
                "reliability", (char[]){ ind.reliability, 0 }, "confidence", ind.confidence,
                "base_score", sr.base, "score", tide_score_round(sr.score), "state",
                tide_score_activity_name(sr.activity), "score_from", ref, "tlp", ind.tlp,
                "kill_chain", ind.kill_chain, "revoked", ind.revoked);
        json_t *rels = json_array();
        tide_store_related(c->store, id, print_rel, rels);
        json_object_set_new(o, "related", rels);
        if (c->m)
            json_object_set_new(o, "matched",
                    json_pack("{s:s, s:s, s:b}", "kind", tide_obs_kind_name(c->m->kind), "value",
                            c->m->value, "covers", covered(c)));
        json_array_append_new(c->arr, o);
        return 0;
    }
    printf("%s\n  pattern     %s\n", ind.id, ind.pattern);
    if (covered(c))
        printf("  matches     %s %s, which covers %s\n", tide_obs_kind_name(c->m->kind),
                c->m->value, c->value);
    printf("  source      %s (reliability %c)  confidence %d  base score %.0f  TLP %s\n",
            ind.source ? ind.source : "-", ind.reliability, ind.confidence, sr.base,
            ind.tlp ? ind.tlp : "-");
    printf("  score now   %d (%s; %s age counts from %s)\n", tide_score_round(sr.score),
            tide_score_activity_name(sr.activity), tide_obs_kind_name(c->m ? c->m->kind : c->kind),
            ref);
    if (ind.kill_chain)
        printf("  kill chain  %s\n", ind.kill_chain);
    tide_store_related(c->store, id, print_rel, NULL);
    return 0;
}

int cmd_show(int argc, char **argv)
{
    bool versions = false, as_json = false;
    const char *what = NULL;
    for (int i = 1; i < argc; i++) {
        if (cli_flag(argv, i, "versions"))
            versions = true;
        else if (cli_flag(argv, i, "json"))
            as_json = true;
        else if (argv[i][0] == '-' && argv[i][1] == '-') {
            cli_err("show", "unknown option '%s'", argv[i]);
            return TIDE_EXIT_USAGE;
        } else if (what == NULL)
            what = argv[i];
        else {
            cli_err("show", "one ID or VALUE at a time");
            return TIDE_EXIT_USAGE;
        }
    }
    if (what == NULL) {
        cli_usage("show", stderr);
        return TIDE_EXIT_USAGE;
    }
    tide_workspace *ws = cli_open_workspace("show");
    if (ws == NULL)
        return TIDE_EXIT_STORE;
    tide_store *s = tide_workspace_store(ws);
    int ret = TIDE_EXIT_OK;
    char *js = NULL;
    if (strstr(what, "--") && !strchr(what, '/')) {
        if (versions) {
            if (tide_store_versions(s, what, print_version, NULL) < 0) {
                cli_err("show", "%s", tide_error_last());
                ret = TIDE_EXIT_FAIL;
            }
        } else if (tide_store_get(s, what, NULL, &js) == 0) {
            printf("%s\n", js);
            free(js);
        } else {
            cli_err("show", "%s", tide_error_last());
            ret = TIDE_EXIT_FAIL;
        }
        tide_workspace_free(ws);
        return ret;
    }
    /* a value: refang, detect, normalise, look up with the match index's semantics */
    char *refanged = NULL, *norm = NULL;
    tide_obs_kind kind = TIDE_OBS_NONE;
    if (tide_obs_refang(what, &refanged) == 0) {
        kind = tide_obs_detect(refanged);
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
        if (kind != TIDE_OBS_NONE && tide_obs_normalize(kind, refanged, &norm) < 0)
            kind = TIDE_OBS_NONE;
    }
    show_ctx c = { s, as_json, 0, json_array(), kind, norm, NULL, tide_workspace_decay(ws) };
    if (kind == TIDE_OBS_NONE) {
        cli_err("show", "'%s' is neither a STIX id nor a known kind of observable", what);
        ret = TIDE_EXIT_USAGE;
    } else {
        if (tide_store_lookup_match(s, kind, norm, show_match, &c) < 0) {
            cli_err("show", "%s", tide_error_last());
            ret = TIDE_EXIT_STORE;
        }
        if (as_json) {
            json_t *o = json_pack("{s:s, s:s, s:o}", "value", norm, "kind",
                    tide_obs_kind_name(kind), "indicators", c.arr);
            c.arr = NULL;
            char *out = json_dumps(o, JSON_INDENT(2));
            printf("%s\n", out);
            free(out);
            json_decref(o);
        } else if (c.count == 0) {
            printf("%s (%s): no indicator\n", norm, tide_obs_kind_name(kind));
        }
        if (c.count == 0 && ret == TIDE_EXIT_OK)
            ret = TIDE_EXIT_FAIL;
    }
    json_decref(c.arr);
    free(refanged);
    free(norm);
    tide_workspace_free(ws);
    return ret;
}

/* ---- search ---- */

typedef struct {
    bool as_json;
    long n;
} search_ctx;

static int print_hit(const tide_search_hit *h, void *payload)
{
    search_ctx *c = payload;
    c->n++;
    if (c->as_json) {
        json_t *o = json_pack("{s:s, s:s, s:s?, s:s, s:s?, s:s?}", "id", h->id, "type", h->type,
                "name", h->name, "modified", h->modified, "source", h->source, "tlp", h->tlp);
        char *s = json_dumps(o, JSON_COMPACT);
        printf("%s\n", s);
        free(s);
        json_decref(o);
    } else {
        printf("%-20s %-50s %s\n", h->type, h->id, h->name ? h->name : "");
    }
    return 0;
}

int cmd_search(int argc, char **argv)
{
    tide_search_query q = { 0 };
    search_ctx c = { false, 0 };
    char *norm = NULL;
    for (int i = 1; i < argc;) {
        const char *v;
        int r;
        if ((r = cli_opt("search", argc, argv, &i, "type", &q.type)) ||
                (r = cli_opt("search", argc, argv, &i, "value", &q.value)) ||
                (r = cli_opt("search", argc, argv, &i, "related", &q.related)) ||
                (r = cli_opt("search", argc, argv, &i, "source", &q.source))) {
            if (r < 0)
                return TIDE_EXIT_USAGE;
            continue;
        }
        if ((r = cli_opt("search", argc, argv, &i, "since", &v))) {
            if (r < 0)
                return TIDE_EXIT_USAGE;
            int64_t ms;
            if (tide_time_parse(v, &ms) < 0) {
                cli_err("search", "--since: %s", tide_error_last());
                return TIDE_EXIT_USAGE;
            }
            q.since = ms;
            continue;
        }
        if ((r = cli_opt("search", argc, argv, &i, "limit", &v))) {
            if (r < 0)
                return TIDE_EXIT_USAGE;
            q.limit = strtol(v, NULL, 10);
            continue;
        }
        if (cli_flag(argv, i, "json")) {
            c.as_json = true;
            i++;
            continue;
        }
        cli_err("search", "unknown argument '%s'", argv[i]);
        return TIDE_EXIT_USAGE;
    }
    if (q.value) {
        char *ref = NULL;
        if (tide_obs_refang(q.value, &ref) == 0) {
            tide_obs_kind k = tide_obs_detect(ref);
            if (k != TIDE_OBS_NONE && tide_obs_normalize(k, ref, &norm) == 0)
                q.value = norm;
        }
        free(ref);
    }
    tide_store *s = cli_open_store("search");
    if (s == NULL) {
        free(norm);
        return TIDE_EXIT_STORE;
    }
    int rc = tide_store_search(s, &q, print_hit, &c);
    tide_store_free(s);
    free(norm);
    if (rc < 0) {
        cli_err("search", "%s", tide_error_last());
        return TIDE_EXIT_STORE;
    }
    if (!c.as_json)
        fprintf(stderr, "%ld objects\n", c.n);
    return TIDE_EXIT_OK;
}
