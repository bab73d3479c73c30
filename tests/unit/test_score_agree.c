/*
 * test_score_agree.c - one indicator, one decayed score (score.h, "active now and its decayed
 * score"): at a fixed now, the match index (tide_match_lookup, what a sighting carries), an
 * export (the CSV score column) and a case rule (tide_case_auto's threshold and reported
 * score) give the same score for each indicator of a STIX bundle: one aged from valid_from,
 * one whose later sighting refreshes it, and one without valid_from or created (aged from
 * modified; the index aged it from the epoch and the export from modified until they shared
 * the rule). Expected values are worked out here from SPEC C1, not with the library. Also the
 * rule's parts (activity, reference time, rounding) and the map of last sightings scans read.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "intel/sighted.h"
#include "tide.h"

#define DAY 86400000LL
#define T0  1790812800000LL       /* 2026-10-01T00:00:00Z: valid_from / modified */
#define NOW (T0 + 203 * DAY / 10) /* 20.3 days later */

typedef struct {
    const char *value;
    tide_obs_kind kind;
    double expect;   /* the decayed score worked out by hand */
    int64_t sighted; /* the sighting stored for it (ms) */
    char id[128];
} agree_ind;

/* base 60 (confidence 80 x reliability C 0.75), linear decay (speed 1) */
static agree_ind inds[] = {
    /* domain, lifetime 90 d, aged from valid_from (its sighting is older: no refresh) */
    { "agree-valid.example.net", TIDE_OBS_DOMAIN, 60 * (1 - 20.3 / 90), T0 - DAY / 12, "" },
    /* ipv4, lifetime 30 d, sighted 10 days after valid_from: aged from the sighting */
    { "45.33.32.201", TIDE_OBS_IPV4, 60 * (1 - 10.3 / 30), T0 + 10 * DAY, "" },
    /* domain with neither valid_from nor created: aged from modified */
    { "agree-nodates.example.net", TIDE_OBS_DOMAIN, 60 * (1 - 20.3 / 90), T0 - DAY / 12, "" },
};
#define NIND (sizeof(inds) / sizeof(inds[0]))

static int grab_id(const tide_indicator_obs *r, void *payload)
{
    snprintf(payload, 128, "%s", r->id);
    return 1;
}

static int grab_score(const tide_match_hit *h, void *payload)
{
    *(int *)payload = h->score;
    return 1;
}

static void write_bundle(const char *path)
{
    FILE *f = fopen(path, "w");
    TIDE_ASSERT(f != NULL);
    fputs("{\"type\":\"bundle\",\"id\":\"bundle--00000000-0000-4000-8000-0000000000a0\","
          "\"objects\":[\n",
            f);
    fputs("{\"type\":\"indicator\",\"spec_version\":\"2.1\","
          "\"id\":\"indicator--00000000-0000-4000-8000-0000000000a1\","
          "\"created\":\"2026-10-01T00:00:00.000Z\",\"modified\":\"2026-10-01T00:00:00.000Z\","
          "\"valid_from\":\"2026-10-01T00:00:00.000Z\",\"confidence\":80,\"pattern_type\":\"stix\","
          "\"pattern\":\"[domain-name:value = 'agree-valid.example.net']\"},\n",
            f);
    fputs("{\"type\":\"indicator\",\"spec_version\":\"2.1\","
          "\"id\":\"indicator--00000000-0000-4000-8000-0000000000a2\","
          "\"created\":\"2026-10-01T00:00:00.000Z\",\"modified\":\"2026-10-01T00:00:00.000Z\","
          "\"valid_from\":\"2026-10-01T00:00:00.000Z\",\"confidence\":80,\"pattern_type\":\"stix\","
          "\"pattern\":\"[ipv4-addr:value = '45.33.32.201']\"},\n",
            f);
    fputs("{\"type\":\"indicator\",\"spec_version\":\"2.1\","
          "\"id\":\"indicator--00000000-0000-4000-8000-0000000000a3\","
          "\"modified\":\"2026-10-01T00:00:00.000Z\",\"confidence\":80,\"pattern_type\":\"stix\","
          "\"pattern\":\"[domain-name:value = 'agree-nodates.example.net']\"}\n",
            f);
    fputs("]}\n", f);
    fclose(f);
}

/* The CSV export's score column of value, or -1. */
static double csv_score(const char *csv, const char *value)
{
    char needle[160];
    snprintf(needle, sizeof(needle), "\n%s,", value);
    const char *p = strstr(csv, needle);
    if (p == NULL)
        return -1;
    p = strchr(p + strlen(needle), ','); /* after the type */
    return p ? strtod(p + 1, NULL) : -1;
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    TIDE_ASSERT(f != NULL);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* What tide_case_auto reports at min_score (a case opened by an earlier call is reported
 * again as covering its sighting, with the score). */
static json_t *auto_run(tide_store *s, int min_score)
{
    tide_case_opts co = { 0 };
    co.now_ms = NOW;
    co.no_hunt = true;
    char *js = NULL;
    TIDE_ASSERT_EQ_INT(tide_case_auto(s, &co, min_score, 0, &js), 0);
    json_t *a = json_loads(js, 0, NULL);
    free(js);
    TIDE_ASSERT(a != NULL);
    return a;
}

static json_t *auto_entry(json_t *a, const char *value)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i,
            v) if (strcmp(json_string_value(json_object_get(v, "indicator")), value) == 0) return v;
    return NULL;
}

static void agree(void)
{
    const char *dir = tide_test_tmpdir();
    char path[600], csvpath[600];
    snprintf(path, sizeof(path), "%s/agree.json", dir);
    snprintf(csvpath, sizeof(csvpath), "%s/agree.csv", dir);
    write_bundle(path);
    tide_store *s = NULL;
    TIDE_ASSERT_EQ_INT(tide_store_open(&s, dir), 0);
    tide_ingest_opts io = { 0 };
    io.confidence = -1;
    tide_ingest_stats st = { 0 };
    TIDE_ASSERT_EQ_INT(tide_ingest_path(s, path, TIDE_FMT_STIX, &io, &st, NULL, NULL), 0);
    TIDE_ASSERT_EQ_INT((int)st.indicators, (int)NIND);

    /* a sighting of each, one host apiece */
    tide_sighting_rec rec[NIND];
    memset(rec, 0, sizeof(rec));
    char hosts[NIND][16];
    for (size_t i = 0; i < NIND; i++) {
        tide_indicator_filter flt = { 0 };
        flt.value = inds[i].value;
        tide_store_each_indicator_obs(s, &flt, grab_id, inds[i].id);
        TIDE_ASSERT(inds[i].id[0] != '\0');
        snprintf(hosts[i], sizeof(hosts[i]), "10.0.9.%zu", i + 1);
        rec[i].host = hosts[i];
        rec[i].indicator_id = inds[i].id;
        rec[i].indicator = inds[i].value;
        rec[i].kind = inds[i].kind;
        rec[i].observed = inds[i].value;
        rec[i].file = "agree.log";
        rec[i].line = (int64_t)i + 1;
        rec[i].first_seen = rec[i].last_seen = inds[i].sighted;
        rec[i].live_count = 1;
    }
    TIDE_ASSERT_EQ_INT(tide_store_put_sightings(s, rec, NIND), 0);

    /* the match index, built at NOW */
    tide_index_opts xo = { 0 };
    xo.now_ms = NOW;
    tide_match_index *ix = NULL;
    TIDE_ASSERT_EQ_INT(tide_match_index_build(&ix, s, &xo), 0);

    /* the CSV export at NOW */
    tide_export_opts eo;
    tide_export_opts_init(&eo);
    eo.format = TIDE_EXPORT_CSV;
    eo.now_ms = NOW;
    eo.output = csvpath;
    TIDE_ASSERT_EQ_INT(tide_export_run(s, &eo, NULL, NULL, NULL, NULL), 0);
    const char *csv = read_all(csvpath);

    for (size_t i = 0; i < NIND; i++) {
        double want = inds[i].expect;
        int idx = -1;
        tide_match_lookup(ix, inds[i].kind, inds[i].value, strlen(inds[i].value), grab_score, &idx);
        double exp_csv = csv_score(csv, inds[i].value);
        printf("  %s: expected %.3f, index %d, csv %.1f\n", inds[i].value, want, idx, exp_csv);
        TIDE_ASSERT_EQ_INT(idx, (int)floor(want + 0.5));
        TIDE_ASSERT(fabs(exp_csv - want) <= 0.05 + 1e-9); /* written with one decimal */

        /* the library's one function says the same */
        tide_decay_config dc;
        tide_decay_defaults(&dc);
        tide_indicator_rec ir;
        TIDE_ASSERT_EQ_INT(tide_store_indicator(s, inds[i].id, &ir), 0);
        tide_score_input in = { .kind = inds[i].kind,
            .confidence = ir.confidence,
            .reliability = ir.reliability,
            .valid_from = ir.valid_from,
            .valid_until = ir.valid_until,
            .created = ir.created,
            .modified = ir.modified,
            .last_sighted = inds[i].sighted,
            .revoked = ir.revoked };
        tide_score_result sr;
        TIDE_ASSERT_EQ_INT(tide_score_assess(&dc, &in, NOW, &sr), TIDE_ACTIVE);
        TIDE_ASSERT(fabs(sr.score - want) < 1e-6);
    }

    /* the case rule: its threshold decides at that score. Just above the score of the
     * lower-scored ones, nothing of theirs opens; at their floor, each opens reporting the
     * index's score. */
    json_t *a = auto_run(s, (int)floor(inds[1].expect) + 1);
    TIDE_ASSERT(auto_entry(a, inds[1].value) == NULL); /* 39.4 < 40 */
    json_t *e0 = auto_entry(a, inds[0].value);         /* 46.47 >= 40 */
    TIDE_ASSERT(e0 != NULL);
    TIDE_ASSERT_EQ_INT((int)json_integer_value(json_object_get(e0, "score")),
            (int)floor(inds[0].expect + 0.5));
    json_decref(a);
    a = auto_run(s, (int)floor(inds[0].expect) + 1); /* 47: the two domains stay shut */
    TIDE_ASSERT(auto_entry(a, inds[2].value) == NULL);
    json_decref(a);
    a = auto_run(s, (int)floor(inds[1].expect)); /* 39: the refreshed IP opens */
    json_t *e1 = auto_entry(a, inds[1].value);
    TIDE_ASSERT(e1 != NULL);
    TIDE_ASSERT_EQ_INT((int)json_integer_value(json_object_get(e1, "score")),
            (int)floor(inds[1].expect + 0.5));
    json_t *e2 = auto_entry(a, inds[2].value);
    TIDE_ASSERT(e2 != NULL);
    TIDE_ASSERT_EQ_INT((int)json_integer_value(json_object_get(e2, "score")),
            (int)floor(inds[2].expect + 0.5));
    json_decref(a);

    /* the export's --min-score decides at the same score */
    eo.min_score = floor(inds[1].expect) + 1;
    tide_export_summary sum;
    TIDE_ASSERT_EQ_INT(tide_export_run(s, &eo, NULL, &sum, NULL, NULL), 0);
    TIDE_ASSERT_EQ_INT((int)sum.written, 2);
    TIDE_ASSERT_EQ_INT((int)sum.skipped[TIDE_EXPORT_SKIP_DECAYED], 1);
    TIDE_ASSERT(csv_score(read_all(csvpath), inds[1].value) < 0);

    tide_match_index_free(ix);
    tide_store_free(s);
}

/* The one rule's parts: activity, reference time, inactive scores 0, rounding. */
static void rule(void)
{
    tide_decay_config dc;
    tide_decay_defaults(&dc);
    tide_score_input in = { .kind = TIDE_OBS_IPV4,
        .confidence = -1,
        .reliability = '\0',
        .valid_from = T0,
        .created = T0 - DAY,
        .modified = T0 - 2 * DAY };
    TIDE_ASSERT(fabs(tide_score_input_base(&in) - 37.5) < 1e-9); /* 50 x C */
    TIDE_ASSERT(tide_score_reference(&in) == T0);
    in.valid_from = 0;
    TIDE_ASSERT(tide_score_reference(&in) == T0 - DAY);
    in.created = 0;
    TIDE_ASSERT(tide_score_reference(&in) == T0 - 2 * DAY);
    in.last_sighted = T0 - 3 * DAY; /* older: no refresh */
    TIDE_ASSERT(tide_score_reference(&in) == T0 - 2 * DAY);
    in.last_sighted = T0 + DAY;
    TIDE_ASSERT(tide_score_reference(&in) == T0 + DAY);
    tide_score_result r;
    TIDE_ASSERT_EQ_INT(tide_score_assess(&dc, &in, T0 + 16 * DAY, &r), TIDE_ACTIVE);
    TIDE_ASSERT(fabs(r.score - 37.5 * 0.5) < 1e-9);
    TIDE_ASSERT(fabs(tide_score_decayed(&dc, &in, T0 + 16 * DAY) - r.score) < 1e-12);
    in.valid_from = T0 + 20 * DAY;
    TIDE_ASSERT_EQ_INT(tide_score_assess(&dc, &in, T0 + 16 * DAY, &r), TIDE_INACTIVE_NOT_YET);
    TIDE_ASSERT(r.score == 0);
    in.valid_from = T0;
    in.valid_until = T0 + 16 * DAY;
    TIDE_ASSERT_EQ_INT(tide_score_activity(&in, T0 + 16 * DAY), TIDE_INACTIVE_EXPIRED);
    TIDE_ASSERT_EQ_INT(tide_score_activity(&in, T0 + 16 * DAY - 1), TIDE_ACTIVE);
    in.revoked = true;
    TIDE_ASSERT_EQ_INT(tide_score_activity(&in, T0 + 20 * DAY), TIDE_INACTIVE_REVOKED);
    TIDE_ASSERT_EQ_STR(tide_score_activity_name(TIDE_INACTIVE_NOT_YET), "not yet valid");
    TIDE_ASSERT_EQ_INT(tide_score_round(46.5), 47);
    TIDE_ASSERT_EQ_INT(tide_score_round(46.49), 46);
    TIDE_ASSERT_EQ_INT(tide_score_round(-3), 0);
    TIDE_ASSERT_EQ_INT(tide_score_round(100.4), 100);
}

/* The map of last sightings a scan reads (intel/sighted.h): the latest time per id, 0 for
 * ids never sighted, whatever the filter lets through. */
static void sighted_map(void)
{
    tide__sighted m = TIDE_SIGHTED_INIT;
    const char *a = "indicator--00000000-0000-4000-8000-0000000000a1";
    const char *b = "indicator--9b849762-06d9-5d8c-9e50-e8988f2db3b3";
    TIDE_ASSERT_EQ_INT((int)tide__sighted_get(&m, a, strlen(a)), 0); /* empty */
    TIDE_ASSERT_EQ_INT(tide__sighted_note(a, 5000, &m), 0);
    TIDE_ASSERT_EQ_INT(tide__sighted_note(a, 7000, &m), 0); /* later: kept */
    TIDE_ASSERT_EQ_INT(tide__sighted_note(a, 6000, &m), 0); /* earlier: ignored */
    TIDE_ASSERT_EQ_INT(tide__sighted_note("short", 9000, &m), 0);
    TIDE_ASSERT(tide__sighted_get(&m, a, strlen(a)) == 7000);
    TIDE_ASSERT(tide__sighted_get(&m, "short", 5) == 9000);
    TIDE_ASSERT(tide__sighted_get(&m, b, strlen(b)) == 0);
    TIDE_ASSERT(tide__sighted_get(&m, "x", 1) == 0);
    /* ids that share the filter bit of a (same last 8 bytes) still need the map's answer */
    char c[64];
    snprintf(c, sizeof(c), "indicator--11111111-0000-4000-8000-0000000000a1");
    TIDE_ASSERT(tide__sighted_get(&m, c, strlen(c)) == 0);
    for (int i = 0; i < 5000; i++) {
        char id[64];
        snprintf(id, sizeof(id), "indicator--%08d-0000-4000-8000-%012d", i, i * 7919);
        TIDE_ASSERT_EQ_INT(tide__sighted_note(id, 100 + i, &m), 0);
    }
    char id[64];
    snprintf(id, sizeof(id), "indicator--%08d-0000-4000-8000-%012d", 4321, 4321 * 7919);
    TIDE_ASSERT(tide__sighted_get(&m, id, strlen(id)) == 100 + 4321);
    TIDE_ASSERT(tide__sighted_get(&m, a, strlen(a)) == 7000);
    tide__sighted_free(&m);
}

TIDE_TESTS = {
    { "score::rule", rule },
    { "score::sighted_map", sighted_map },
    { "score::index_export_case_agree", agree },
    { NULL, NULL },
};
TIDE_TEST_MAIN
