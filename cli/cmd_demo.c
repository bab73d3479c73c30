/*
 * cmd_demo.c - `tide demo`: writes the demo scenario (demo.h: a fictional intrusion as four
 * feeds and a day of Zeek logs) into a temporary folder, runs it through the engine as a user
 * would run the verbs (ingest runs, a history import, a match run, exports, a case through
 * recovery to its share bundle) and prints what each step gives: store counts, the campaign
 * graph, lookups, sightings, blocklist sizes, the case's scope, plan and closure.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "tide/demo.h"

/* ---- reading the store back ---- */

typedef struct {
    char **v;
    size_t n, cap;
} strlist;

static int strlist_add(strlist *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, cap * sizeof *v);
        if (v == NULL)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    if ((l->v[l->n] = strdup(s ? s : "")) == NULL)
        return -1;
    l->n++;
    return 0;
}

static void strlist_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int collect_id(const char *id, void *payload)
{
    return strlist_add(payload, id) < 0 ? -1 : 0;
}

/* relations are kept as four strings each: rel_type, direction ("out"/"in"), other id, other
 * name (or type when unnamed) */
static int collect_rel(const tide_relation *r, void *payload)
{
    strlist *l = payload;
    if (strlist_add(l, r->rel_type) < 0 || strlist_add(l, r->outgoing ? "out" : "in") < 0 ||
            strlist_add(l, r->other_id) < 0 ||
            strlist_add(l, r->other_name ? r->other_name : r->other_type) < 0)
        return -1;
    return 0;
}

static int collect_hit(const tide_search_hit *h, void *payload)
{
    strlist *l = payload;
    if (strlist_add(l, h->id) < 0 || strlist_add(l, h->source ? h->source : "-") < 0 ||
            strlist_add(l, h->type) < 0)
        return -1;
    return 0;
}

static int count_kind(const tide_obs_ref *o, void *payload)
{
    int *counts = payload;
    if (o->kind > TIDE_OBS_NONE && o->kind < TIDE_OBS__COUNT)
        counts[o->kind]++;
    return 0;
}

static bool id_is(const char *id, const char *type)
{
    size_t n = strlen(type);
    return strncmp(id, type, n) == 0 && strncmp(id + n, "--", 2) == 0;
}

/* "ipv4 3, domain 2" from per-kind counts. */
static void kinds_text(const int *counts, char *out, size_t n)
{
    size_t len = 0;
    out[0] = '\0';
    for (int k = 1; k < TIDE_OBS__COUNT && len < n; k++) {
        if (counts[k] == 0)
            continue;
        int w = snprintf(out + len, n - len, "%s%s %d", len ? ", " : "",
                tide_obs_kind_name((tide_obs_kind)k), counts[k]);
        if (w < 0)
            break;
        len += (size_t)w;
    }
}

/* Indicators that point at target with "indicates", and their observables by kind. */
static int indicators_of(tide_store *s, const char *target, int *counts, long *nind)
{
    strlist rels = { 0 };
    int rc = tide_store_related(s, target, collect_rel, &rels);
    for (size_t i = 0; rc >= 0 && i + 3 < rels.n; i += 4) {
        if (strcmp(rels.v[i], "indicates") != 0 || strcmp(rels.v[i + 1], "in") != 0 ||
                !id_is(rels.v[i + 2], "indicator"))
            continue;
        (*nind)++;
        rc = tide_store_indicator_observables(s, rels.v[i + 2], count_kind, counts);
    }
    strlist_free(&rels);
    return rc;
}

/* Print "label: k1 n1, k2 n2 ..." for a JSON object of counts, largest first, wrapped. */
static int print_counts(const char *label, json_t *obj)
{
    int lines = 0;
    if (!json_is_object(obj) || json_object_size(obj) == 0)
        return 0;
    size_t n = json_object_size(obj), used = 0;
    const char **keys = calloc(n, sizeof *keys);
    if (keys == NULL)
        return 0;
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) keys[used++] = k;
    /* selection sort by count desc: a handful of keys */
    for (size_t i = 0; i < used; i++)
        for (size_t j = i + 1; j < used; j++)
            if (json_integer_value(json_object_get(obj, keys[j])) >
                    json_integer_value(json_object_get(obj, keys[i]))) {
                const char *t = keys[i];
                keys[i] = keys[j];
                keys[j] = t;
            }
    int col = printf("  %-13s", label);
    for (size_t i = 0; i < used; i++) {
        char item[128];
        int w = snprintf(item, sizeof item, "%s %lld%s", keys[i],
                (long long)json_integer_value(json_object_get(obj, keys[i])),
                i + 1 < used ? "," : "");
        if (col + w > 96) {
            printf("\n%15s", "");
            col = 15;
            lines++;
        }
        col += printf(" %s", item);
    }
    printf("\n");
    free(keys);
    return lines + 1;
}

static int print_stats(tide_store *s)
{
    char *txt = NULL;
    if (tide_store_stats_json(s, &txt) < 0) {
        cli_err("demo", "cannot read store counts: %s", tide_error_last());
        return -1;
    }
    json_error_t jerr;
    json_t *j = json_loads(txt, 0, &jerr);
    free(txt);
    if (j == NULL) {
        cli_err("demo", "store counts are not JSON: %s", jerr.text);
        return -1;
    }
    printf("\nThe store now holds %lld object versions (%lld current), %lld relationships:\n",
            (long long)json_integer_value(json_object_get(j, "objects")),
            (long long)json_integer_value(json_object_get(j, "current")),
            (long long)json_integer_value(json_object_get(j, "relationships")));
    print_counts("by type", json_object_get(j, "by_type"));
    print_counts("by source", json_object_get(j, "by_source"));
    print_counts("by TLP", json_object_get(j, "by_tlp"));
    print_counts("observables", json_object_get(j, "observables"));
    json_decref(j);
    return 0;
}

/* intrusion-set -> campaign -> malware -> indicators, from search + related */
static int print_graph(tide_store *s, const char *campaign)
{
    strlist hits = { 0 }, rels = { 0 };
    int rc = 0;
    tide_search_query q = { 0 };
    q.type = "campaign";
    q.source = "demo-stix";
    rc = tide_store_search(s, &q, collect_hit, &hits);
    if (rc < 0)
        goto done;
    printf("\nCampaign graph (tide search --type campaign --source demo-stix; tide show ID):\n");
    if (hits.n == 0) {
        printf("  no campaign from demo-stix in the store\n");
        goto done;
    }
    const char *camp = hits.v[0];
    rc = tide_store_related(s, camp, collect_rel, &rels);
    if (rc < 0)
        goto done;
    const char *actor = NULL, *camp_name = campaign;
    for (size_t i = 0; i + 3 < rels.n; i += 4)
        if (strcmp(rels.v[i], "attributed-to") == 0 && strcmp(rels.v[i + 1], "out") == 0)
            actor = rels.v[i + 3];
    printf("  intrusion-set %s\n", actor ? actor : "(none attributed)");
    printf("  `- campaign %s  [%s]\n", camp_name, camp);
    int nmal = 0;
    for (size_t i = 0; i + 3 < rels.n; i += 4)
        if (strcmp(rels.v[i], "uses") == 0 && strcmp(rels.v[i + 1], "out") == 0 &&
                id_is(rels.v[i + 2], "malware"))
            nmal++;
    for (size_t i = 0; i + 3 < rels.n; i += 4) {
        if (strcmp(rels.v[i], "uses") != 0 || strcmp(rels.v[i + 1], "out") != 0 ||
                !id_is(rels.v[i + 2], "malware"))
            continue;
        int counts[TIDE_OBS__COUNT] = { 0 };
        long n = 0;
        char kinds[256];
        rc = indicators_of(s, rels.v[i + 2], counts, &n);
        if (rc < 0)
            goto done;
        kinds_text(counts, kinds, sizeof kinds);
        printf("     |- uses malware %-12s <- %ld indicators (%s)\n", rels.v[i + 3], n, kinds);
    }
    {
        int counts[TIDE_OBS__COUNT] = { 0 };
        long n = 0;
        char kinds[256];
        rc = indicators_of(s, camp, counts, &n);
        if (rc < 0)
            goto done;
        kinds_text(counts, kinds, sizeof kinds);
        printf("     `- indicated directly by %ld indicators (%s)\n", n, kinds);
    }
    if (nmal == 0)
        printf("     (no malware linked with 'uses')\n");

    /* every feed that ties something to the campaign by name, one hop */
    strlist_free(&hits);
    memset(&q, 0, sizeof q);
    q.type = "indicator";
    q.related = camp_name;
    rc = tide_store_search(s, &q, collect_hit, &hits);
    if (rc < 0)
        goto done;
    {
        char srcs[256] = "";
        size_t len = 0;
        for (size_t i = 0; i + 2 < hits.n; i += 3) {
            bool seen = false;
            long cnt = 0;
            for (size_t j = 0; j < i; j += 3)
                seen |= strcmp(hits.v[j + 1], hits.v[i + 1]) == 0;
            if (seen)
                continue;
            for (size_t j = i; j + 2 < hits.n; j += 3)
                cnt += strcmp(hits.v[j + 1], hits.v[i + 1]) == 0;
            int w = snprintf(
                    srcs + len, sizeof srcs - len, "%s%s %ld", len ? ", " : "", hits.v[i + 1], cnt);
            if (w < 0 || (size_t)w >= sizeof srcs - len)
                break;
            len += (size_t)w;
        }
        printf("  indicators related to '%s' by name, all feeds: %zu (%s)\n", camp_name, hits.n / 3,
                srcs);
    }
done:
    if (rc < 0)
        cli_err("demo", "cannot read the campaign graph: %s", tide_error_last());
    strlist_free(&hits);
    strlist_free(&rels);
    return rc < 0 ? -1 : 0;
}

/* What `tide show VALUE` answers: refang, detect, normalise, look up, then context. */
static int print_lookup(tide_store *s, const char *input)
{
    char *refanged = NULL, *canon = NULL;
    strlist ids = { 0 };
    int rc = tide_obs_refang(input, &refanged);
    if (rc < 0)
        goto done;
    tide_obs_kind kind = tide_obs_detect(refanged);
    if (kind == TIDE_OBS_NONE) {
        printf("  %s: not an observable\n", input);
        goto done;
    }
    rc = tide_obs_normalize(kind, refanged, &canon);
    if (rc < 0)
        goto done;
    rc = tide_store_lookup(s, kind, canon, collect_id, &ids);
    if (rc < 0)
        goto done;
    printf("  tide show %s\n", input);
    printf("    %s %s: %zu indicator%s\n", tide_obs_kind_name(kind), canon, ids.n,
            ids.n == 1 ? "" : "s");
    for (size_t i = 0; i < ids.n; i++) {
        tide_indicator_rec rec;
        char source[64], tlp[24], phases[96];
        int confidence;
        rc = tide_store_indicator(s, ids.v[i], &rec);
        if (rc < 0)
            goto done;
        snprintf(source, sizeof source, "%s", rec.source ? rec.source : "-");
        snprintf(tlp, sizeof tlp, "%s", rec.tlp ? rec.tlp : "none");
        snprintf(phases, sizeof phases, "%s", rec.kill_chain ? rec.kill_chain : "-");
        confidence = rec.confidence;
        strlist rels = { 0 };
        rc = tide_store_related(s, ids.v[i], collect_rel, &rels);
        char names[160] = "";
        size_t len = 0;
        for (size_t r = 0; rc >= 0 && r + 3 < rels.n; r += 4) {
            bool out = strcmp(rels.v[r + 1], "out") == 0;
            bool in_report = !out && id_is(rels.v[r + 2], "report");
            if (!out && !in_report)
                continue;
            int w = snprintf(names + len, sizeof names - len, "%s%s %s", len ? "; " : "",
                    in_report ? "in report" : rels.v[r], rels.v[r + 3]);
            if (w < 0 || (size_t)w >= sizeof names - len)
                break;
            len += (size_t)w;
        }
        strlist_free(&rels);
        if (rc < 0)
            goto done;
        if (len > 44)
            memcpy(names + 41, "...", 4);
        printf("    - %-13s conf %3d  TLP:%-6s %-19s %s\n", source, confidence, tlp, phases, names);
    }
done:
    if (rc < 0)
        cli_err("demo", "lookup of %s failed: %s", input, tide_error_last());
    free(refanged);
    free(canon);
    strlist_free(&ids);
    return rc < 0 ? -1 : 0;
}

/* ---- the verb ---- */

typedef struct {
    long shown;
} reject_state;

static void on_reject(
        const char *file, long line, long long offset, const char *reason, void *payload)
{
    reject_state *st = payload;
    if (st->shown++ >= 5)
        return;
    if (line > 0)
        fprintf(stderr, "tide demo: %s:%ld: %s\n", file, line, reason);
    else
        fprintf(stderr, "tide demo: %s@%lld: %s\n", file, offset, reason);
}

/* "http://a.b.top/x" -> "hxxp://a[.]b[.]top/x", as analysts paste them. */
static void defang_url(const char *url, char *out, size_t size)
{
    size_t n = 0;
    const char *p = url;
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    const char *host_end = host + strcspn(host, ":/");
    if (strncmp(p, "http", 4) == 0 && n + 4 < size) {
        memcpy(out, "hxxp", 4);
        n = 4;
        p += 4;
    }
    for (; *p && n + 4 < size; p++) {
        if (*p == '.' && p >= host && p < host_end) {
            memcpy(out + n, "[.]", 3);
            n += 3;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
}

/* ---- detection and prevention on the scenario ---- */

typedef struct {
    int64_t ts;
    char line[400]; /* time host event field observed -> kind value */
    char ctx[160];  /* related names of the indicators, merged per line */
    int nind;
} demo_sighting;

typedef struct {
    demo_sighting v[64];
    size_t n;
    char hosts[8][32];
    size_t nhosts;
} demo_detect;

static int on_demo_sighting(const tide_sighting *s, void *payload)
{
    demo_detect *dd = payload;
    const tide_match_hit *h = s->hit;
    char host[32];
    snprintf(host, sizeof host, "%.*s", (int)s->event->host_len, s->event->host);
    bool known = false;
    for (size_t i = 0; i < dd->nhosts; i++)
        known |= strcmp(dd->hosts[i], host) == 0;
    if (!known && dd->nhosts < 8)
        snprintf(dd->hosts[dd->nhosts++], sizeof dd->hosts[0], "%s", host);
    if (dd->n >= sizeof dd->v / sizeof dd->v[0])
        return 0;
    demo_sighting *o = &dd->v[dd->n++];
    o->ts = s->event->ts_us;
    time_t t = (time_t)(s->event->ts_us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    const char *ctx = h->nmalware ? h->malware : h->ncampaigns ? h->campaigns : "";
    snprintf(o->line, sizeof o->line, "  %02d:%02d:%02d  %-11s %-5s %-9s %.*s -> %s %.*s",
            tm.tm_hour, tm.tm_min, tm.tm_sec, host, s->event->kind ? s->event->kind : "",
            s->obs->field ? s->obs->field : "", (int)(s->obs->len > 48 ? 48 : s->obs->len),
            s->obs->value, tide_obs_kind_name(h->kind),
            (int)(h->value_len > 48 ? 48 : h->value_len), h->value);
    snprintf(o->ctx, sizeof o->ctx, "%s", ctx);
    o->nind = 1;
    return 0;
}

static int cmp_sighting(const void *a, const void *b)
{
    int64_t x = ((const demo_sighting *)a)->ts, y = ((const demo_sighting *)b)->ts;
    return x < y ? -1 : x > y;
}

/* A match run over paths (or, with no_match, a history import). */
static int run_paths(
        tide_workspace *ws, tide_match_run_opts *ro, const char *const *paths, size_t n)
{
    tide_match_run *run = NULL;
    ro->on_notice = cli_notice;
    ro->notice_payload = (void *)"demo";
    int rc = tide_match_run_new(&run, ws, ro);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = tide_match_run_add_path(run, paths[i]);
    if (rc == 0)
        rc = tide_match_run_run(run);
    tide_match_run_stats st;
    if (rc == 0) {
        tide_match_run_stats_get(run, &st);
        if (st.input_errors)
            rc = tide_error_set(TIDE_EIO, "%llu input(s) could not be read",
                    (unsigned long long)st.input_errors);
    }
    tide_match_run_free(run);
    return rc;
}

static int print_detection(const tide_demo_info *d, tide_workspace *ws)
{
    printf("\nDetection: 'tide match %s' over the day's Zeek logs\n"
           "(conn, dns, http, files of five hosts); one line per event x indicator:\n",
            d->zeek_dir);
    demo_detect *dd = calloc(1, sizeof *dd);
    if (dd == NULL)
        return -1;
    tide_match_run_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.rebuild_index = true;
    ro.on_sighting = on_demo_sighting;
    ro.payload = dd;
    int rc = run_paths(ws, &ro, d->zeek, 4);
    if (rc == 0) {
        qsort(dd->v, dd->n, sizeof dd->v[0], cmp_sighting);
        /* one line per event and value: the indicators of several feeds merged */
        for (size_t i = 0; i < dd->n;) {
            char ctx[400] = "";
            int nind = 0;
            size_t j = i;
            for (; j < dd->n && strcmp(dd->v[j].line, dd->v[i].line) == 0; j++) {
                nind++;
                if (*dd->v[j].ctx && strstr(ctx, dd->v[j].ctx) == NULL) {
                    size_t l = strlen(ctx);
                    snprintf(ctx + l, sizeof ctx - l, "%s%s", l ? ", " : "", dd->v[j].ctx);
                }
            }
            printf("%s  [%d indicator%s%s%s]\n", dd->v[i].line, nind, nind > 1 ? "s" : "",
                    *ctx ? ": " : "", ctx);
            i = j;
        }
        printf("%zu sightings on %zu hosts (%s%s%s%s%s), stored per host x indicator: "
               "tide sightings\n",
                dd->n, dd->nhosts, dd->nhosts > 0 ? dd->hosts[0] : "", dd->nhosts > 1 ? ", " : "",
                dd->nhosts > 1 ? dd->hosts[1] : "", dd->nhosts > 2 ? ", " : "",
                dd->nhosts > 2 ? dd->hosts[2] : "");
    }
    if (rc < 0)
        cli_err("demo", "detection failed: %s", tide_error_last());
    free(dd);
    return rc;
}

static int print_prevention(tide_store *s)
{
    printf("\nPrevention: 'tide export' of the same intel, decayed and warninglisted:\n");
    static const char *const fmts[] = { "rpz", "nft", "zeek", "yara" };
    static const char *const what[] = { "DNS RPZ triggers (QNAME + *.QNAME, rpz-ip)",
        "nftables set elements (v4 / v6 interval sets)", "Zeek intel items",
        "YARA hash conditions" };
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        FILE *devnull = fopen("/dev/null", "w");
        if (devnull == NULL)
            return -1;
        tide_export_opts o;
        tide_export_opts_init(&o);
        o.format = tide_export_format_from_name(fmts[i]);
        tide_export_summary sum;
        memset(&sum, 0, sizeof sum);
        int rc = tide_export_run(s, &o, devnull, &sum, NULL, NULL);
        fclose(devnull);
        if (rc < 0) {
            cli_err("demo", "export %s failed: %s", fmts[i], tide_error_last());
            return -1;
        }
        long left = 0;
        for (int k = 0; k < TIDE_EXPORT_SKIP__COUNT; k++)
            left += sum.skipped[k];
        printf("  %-5s %4ld %s; %ld left out (tide export --format %s --explain)\n", fmts[i],
                sum.written, what[i], left, fmts[i]);
    }
    return 0;
}

/* Yesterday's DNS log goes to history only (as 'tide history import' would). */
static int import_history(const tide_demo_info *d, tide_workspace *ws)
{
    tide_match_run_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.no_match = true;
    int rc = run_paths(ws, &ro, &d->old_dns, 1);
    if (rc < 0)
        cli_err("demo", "history import failed: %s", tide_error_last());
    return rc;
}

static const char *jstr_of(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

/* The response and recovery loop on the infected host's sample. */
static int print_response(const tide_demo_info *d, tide_workspace *ws)
{
    tide_store *s = tide_workspace_store(ws);
    tide_case_opts co;
    memset(&co, 0, sizeof co);
    tide_workspace_case_opts(ws, &co);
    int64_t id = 0;
    bool existed = false;
    char *js = NULL;
    json_t *doc = NULL, *plan = NULL;
    int rc = tide_case_open(s, &co, 0, d->infected_host, d->shared_sha256, &id, &existed);
    if (rc == 0)
        rc = tide_case_show_json(s, id, &js);
    if (rc == 0 && (doc = json_loads(js, 0, NULL)) == NULL)
        rc = -1;
    free(js);
    js = NULL;
    if (rc < 0)
        goto done;
    printf("\nResponse: 'tide case open --host %s --indicator SHA256' -> case %lld\n",
            d->infected_host, (long long)id);
    printf("  %s\n", jstr_of(doc, "rule"));
    json_t *iv = json_object_get(doc, "infection_vector");
    if (json_is_object(iv))
        printf("  first evidence: %s %s %s (%s) at %s\n", jstr_of(iv, "host"),
                jstr_of(iv, "observed"), jstr_of(iv, "phase"), jstr_of(iv, "first_seen"),
                jstr_of(iv, "evidence"));
    size_t i;
    json_t *h;
    printf("  hosts:");
    json_array_foreach(json_object_get(doc, "hosts"), i, h)
            printf(" %s (%s)", jstr_of(h, "host"), jstr_of(h, "status"));
    printf("\n");
    rc = tide_case_plan_json(s, id, &js);
    if (rc == 0 && (plan = json_loads(js, 0, NULL)) == NULL)
        rc = -1;
    free(js);
    js = NULL;
    if (rc < 0)
        goto done;
    json_t *acts = json_object_get(plan, "actions");
    printf("  plan (tide case plan %lld): %zu actions:", (long long)id, json_array_size(acts));
    const char *last = "";
    json_array_foreach(acts, i, h)
    {
        const char *a = jstr_of(h, "action");
        if (strcmp(a, last) != 0)
            printf("%s %s", *last ? "," : "", a);
        last = a;
    }
    printf("\n");
    /* recovery: every host contained, eradicated, recovered; 31 quiet days later, verified */
    static const char *const steps[] = { "contained", "eradicated", "recovered" };
    json_array_foreach(json_object_get(doc, "hosts"), i, h) for (int k = 0; k < 3 && rc == 0; k++)
            rc = tide_case_host_state(s, &co, id, jstr_of(h, "host"), steps[k], "demo", NULL);
    if (rc < 0)
        goto done;
    tide_case_opts later = co;
    later.now_ms = ((int64_t)time(NULL) + 31 * 86400) * 1000;
    int changes = 0;
    if ((rc = tide_case_refresh(s, &later, id, &changes)) < 0 ||
            (rc = tide_case_show_json(s, id, &js)) < 0)
        goto done;
    json_decref(doc);
    doc = json_loads(js, 0, NULL);
    free(js);
    js = NULL;
    size_t verified = 0, nh = 0;
    json_array_foreach(json_object_get(doc, "hosts"), i, h)
    {
        nh++;
        verified += strcmp(jstr_of(h, "state"), "verified") == 0;
    }
    printf("Recovery: every host contained -> eradicated -> recovered; after a clean 30-day "
           "watch %zu of %zu verified\n",
            verified, nh);
    long promoted = 0;
    size_t nobj = 0;
    if ((rc = tide_case_lessons_set(s, &later, id, d->lessons)) < 0 ||
            (rc = tide_case_close(s, &later, id, NULL, &promoted)) < 0 ||
            (rc = tide_case_share(s, id, "green", d->share, &nobj)) < 0)
        goto done;
    printf("Lessons recorded, case closed: %ld new internal indicator%s now in the exports;\n"
           "shareable STIX bundle (TLP:GREEN and below): %zu objects (tide case share)\n",
            promoted, promoted == 1 ? "" : "s", nobj);
done:
    if (rc < 0)
        cli_err("demo", "response failed: %s", tide_error_last());
    json_decref(doc);
    json_decref(plan);
    return rc;
}

int cmd_demo(int argc, char **argv)
{
    bool keep = false;
    for (int i = 1; i < argc; i++) {
        if (cli_flag(argv, i, "keep")) {
            keep = true;
            continue;
        }
        cli_err("demo", "unexpected argument '%s'", argv[i]);
        cli_usage("demo", stderr);
        return TIDE_EXIT_USAGE;
    }

    tide_demo *demo = NULL;
    tide_workspace *ws = NULL;
    int exit_code = TIDE_EXIT_OK;
    if (tide_demo_new(&demo) < 0 || tide_demo_write(demo, NULL) < 0) {
        cli_err("demo", "%s", tide_error_last());
        tide_demo_free(demo);
        return TIDE_EXIT_STORE;
    }
    tide_demo_info info, *d = &info;
    tide_demo_info_get(demo, d);
    ws = cli_open_workspace("demo");
    if (ws == NULL) {
        exit_code = TIDE_EXIT_STORE;
        goto done;
    }
    tide_store *s = tide_workspace_store(ws);

    printf("tide demo: a fictional intrusion - intrusion set %s, campaign %s,\n"
           "malware %s and %s - written as four feeds to %s\n"
           "and ingested into the store %s (tide ingest --format F --source S FILE):\n",
            d->actor, d->campaign, d->malware[0], d->malware[1], d->dir, cli_store_dir);
    long rejected = 0;
    for (int i = 0; i < TIDE_DEMO_FEEDS; i++) {
        tide_ingest_run_opts o;
        tide_ingest_run_opts_init(&o);
        reject_state rs = { 0 };
        o.ingest.source = d->feeds[i].source;
        o.ingest.tlp = d->feeds[i].tlp;
        o.ingest.reliability = d->feeds[i].reliability;
        o.ingest.family = d->feeds[i].family;
        o.ingest.now_ms = d->day_ms;
        o.on_error = on_reject;
        o.payload = &rs;
        tide_ingest_run *run = NULL;
        tide_ingest_result res;
        int rc = tide_ingest_run_new(&run, ws, &o);
        if (rc == 0)
            rc = tide_ingest_run_path(run, d->feeds[i].path, d->feeds[i].format);
        if (rc == 0)
            rc = tide_ingest_run_finish(run, &res);
        tide_ingest_run_free(run);
        if (rc < 0) {
            cli_err("demo", "ingest of %s failed: %s", d->feeds[i].path, tide_error_last());
            exit_code = TIDE_EXIT_STORE;
            goto done;
        }
        printf("  %-4s %-13s %-17s %3ld records, %3ld stored, %3ld indicators%s\n",
                d->feeds[i].format_name, d->feeds[i].source, d->feeds[i].file, res.ingest.records,
                res.ingest.stored, res.ingest.indicators,
                res.ingest.rejected ? " (some rejected)" : "");
        rejected += res.ingest.rejected;
    }
    if (rejected > 0) {
        cli_err("demo", "%ld generated records were rejected (see above)", rejected);
        exit_code = TIDE_EXIT_FAIL;
    }

    if (print_stats(s) < 0 || print_graph(s, d->campaign) < 0) {
        exit_code = TIDE_EXIT_STORE;
        goto done;
    }

    /* lookups: a value three feeds share, a CSV + STIX IP, a defanged URL, an upper-case hash */
    printf("\nLookups (what 'tide show VALUE' answers):\n");
    char defanged[256], upper[80];
    defang_url(d->shared_url, defanged, sizeof defanged);
    size_t n;
    for (n = 0; d->shared_sha256[n] && n + 1 < sizeof upper; n++)
        upper[n] = (char)((d->shared_sha256[n] >= 'a' && d->shared_sha256[n] <= 'f')
                                  ? d->shared_sha256[n] - 'a' + 'A'
                                  : d->shared_sha256[n]);
    upper[n] = '\0';
    const char *values[4] = { d->shared_domain, d->csv_ip, defanged, upper };
    for (int i = 0; i < 4; i++)
        if (print_lookup(s, values[i]) < 0) {
            exit_code = TIDE_EXIT_STORE;
            goto done;
        }

    if (import_history(d, ws) < 0 || print_detection(d, ws) < 0 || print_prevention(s) < 0 ||
            print_response(d, ws) < 0) {
        exit_code = TIDE_EXIT_STORE;
        goto done;
    }

    printf("\nNext: tide --store %s search --related '%s'  |  tide sightings  |  tide help\n",
            cli_store_dir, d->campaign);
done:
    tide_workspace_free(ws);
    if (keep)
        printf("Scenario files kept in %s\n", d->dir);
    else
        tide_demo_remove(demo);
    tide_demo_free(demo);
    return exit_code;
}
