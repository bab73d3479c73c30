/*
 * test_undecided.c - candidates of non-simple indicators the matcher cannot decide are counted
 * and told, never dropped, and one indicator's pattern cannot make a match run crawl (issue
 * 22). The costly indicator is put into the store directly (as a store filled before the
 * ingest checked patterns would hold it); the events are the real Trickbot Zeek dns.log with
 * its query names changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "tide.h"

#define COSTLY_ID "indicator--00000000-0000-4000-8000-00000000c057"
#define A32       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define NAME      A32 ".costly-test.example"

static void put_indicator(tide_store *s, const char *id, const char *pattern, const char *value)
{
    tide_object_rec r = { .id = id,
        .type = "indicator",
        .modified = "2018-11-01T00:00:00Z",
        .json = "{}",
        .json_len = 2,
        .source = "unit" };
    int st;
    TIDE_ASSERT_EQ_INT(tide_store_begin(s), 0);
    TIDE_ASSERT_EQ_INT(tide_store_put_object(s, &r, &st), 0);
    tide_indicator_rec ir = { .id = id,
        .pattern = pattern,
        .pattern_type = "stix",
        .source = "unit",
        .reliability = 'B',
        .confidence = 90,
        .simple = false };
    tide_obs_ref o = { TIDE_OBS_DOMAIN, value };
    TIDE_ASSERT_EQ_INT(tide_store_put_indicator(s, &ir, &o, 1), 0);
    TIDE_ASSERT_EQ_INT(tide_store_commit(s), 0);
}

/* dns.log with the query of its first n records set to NAME */
static char *costly_log(size_t n, size_t *out_len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/zeek/trickbot-2018-11-09/dns.log", tide_test_data());
    FILE *f = fopen(path, "r");
    TIDE_ASSERT(f != NULL);
    size_t cap = 1 << 22, len = 0, done = 0;
    char *out = malloc(cap), line[8192];
    TIDE_ASSERT(out != NULL);
    while (fgets(line, sizeof(line), f) && done < n) {
        char rec[9000];
        if (line[0] == '#') {
            snprintf(rec, sizeof(rec), "%s", line);
        } else { /* field 10 (query) replaced */
            char *p = line;
            for (int i = 0; i < 9 && p; i++)
                p = strchr(p, '\t') ? strchr(p, '\t') + 1 : NULL;
            TIDE_ASSERT(p != NULL);
            char *q = strchr(p, '\t');
            TIDE_ASSERT(q != NULL);
            snprintf(rec, sizeof(rec), "%.*s%s%s", (int)(p - line), line, NAME, q);
            done++;
        }
        size_t k = strlen(rec);
        TIDE_ASSERT(len + k < cap);
        memcpy(out + len, rec, k);
        len += k;
    }
    fclose(f);
    *out_len = len;
    return out;
}

typedef struct {
    int named, over;
    char first[1024];
} notices;

static void on_notice(tide_notice_level level, const char *msg, void *payload)
{
    notices *n = payload;
    (void)level;
    if (strstr(msg, COSTLY_ID ": candidate at ")) {
        if (n->named++ == 0)
            snprintf(n->first, sizeof(n->first), "%s", msg);
    }
    if (strstr(msg, COSTLY_ID " is over its evaluation budget"))
        n->over++;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1 500 events each ~20-40 ms for '(a|aa)+$' (most of a minute before): the indicator goes over
 * its budget after 8 capped evaluations; every candidate is counted; the run is fast. */
static void t_budget(void)
{
    size_t len;
    char *log = costly_log(1500, &len);
    const char *dir = tide_test_tmpdir();
    tide_workspace *ws;
    TIDE_ASSERT_EQ_INT(tide_workspace_open(&ws, dir, NULL), 0);
    put_indicator(tide_workspace_store(ws), COSTLY_ID,
            "[domain-name:value = '" NAME "' AND domain-name:value MATCHES '(a|aa)+$']", NAME);
    notices n = { 0, 0, "" };
    tide_match_run_opts o = { .no_history = true, .no_store = true };
    o.on_notice = on_notice;
    o.notice_payload = &n;
    tide_match_run *run;
    TIDE_ASSERT_EQ_INT(tide_match_run_new(&run, ws, &o), 0);
    TIDE_ASSERT_EQ_INT(tide_match_run_add_buffer(run, log, len, "costly-dns.log"), 0);
    double t0 = now_s();
    TIDE_ASSERT_EQ_INT(tide_match_run_run(run), 0);
    double secs = now_s() - t0;
    tide_match_run_stats st;
    tide_match_run_stats_get(run, &st);
    tide_match_run_free(run);
    tide_workspace_free(ws);
    free(log);
    fprintf(stderr, "  %llu events, %llu undecided in %.2f s; %s\n", (unsigned long long)st.events,
            (unsigned long long)st.undecided, secs, n.first);
    TIDE_ASSERT_EQ_INT((int)st.events, 1500);
    TIDE_ASSERT_EQ_INT((int)st.sightings, 0);
    TIDE_ASSERT_EQ_INT((int)st.undecided, 1500); /* every candidate counted */
    TIDE_ASSERT_EQ_INT((int)st.undecided_indicators, 1);
    TIDE_ASSERT_EQ_INT(n.named, 1); /* named once */
    TIDE_ASSERT_EQ_INT(n.over, 1);
    TIDE_ASSERT(strstr(n.first, "costly-dns.log:9 not decided") != NULL);
    TIDE_ASSERT(strstr(n.first, "match limit exceeded") != NULL);
    TIDE_ASSERT(secs < 5.0); /* the budget: 8 evaluations of ~30 ms, or 1 s */
}

static int count_sighting(const tide_sighting *s, void *payload)
{
    int *n = payload;
    if (strcmp(s->hit->indicator_id, COSTLY_ID) != 0)
        (*n)++;
    return 0;
}

static void count_undecided(const tide_undecided *u, void *payload)
{
    int *n = payload;
    TIDE_ASSERT_EQ_STR(u->hit->indicator_id, COSTLY_ID);
    n[0]++;
    n[1] += u->over_budget;
}

/* The matcher's own counts, and a good non-simple indicator beside the costly one still
 * confirms on every event: the budget is per indicator. */
static void t_per_indicator(void)
{
    size_t len;
    char *log = costly_log(400, &len);
    const char *dir = tide_test_tmpdir();
    tide_workspace *ws;
    TIDE_ASSERT_EQ_INT(tide_workspace_open(&ws, dir, NULL), 0);
    tide_store *s = tide_workspace_store(ws);
    put_indicator(s, COSTLY_ID,
            "[domain-name:value = '" NAME "' AND domain-name:value MATCHES '(a|aa)+$']", NAME);
    put_indicator(s, "indicator--00000000-0000-4000-8000-0000000000a1",
            "[domain-name:value = '" NAME "' AND domain-name:value MATCHES '^a+\\\\.costly']",
            NAME);
    tide_match_index *ix;
    TIDE_ASSERT_EQ_INT(tide_match_index_build(&ix, s, NULL), 0);
    tide_matcher *m;
    TIDE_ASSERT_EQ_INT(tide_matcher_new(&m, ix, NULL), 0);
    int und[2] = { 0, 0 }, good = 0;
    tide_matcher_on_undecided(m, count_undecided, und);
    tide_tel_reader *r;
    tide_tel_opts to = { 0 };
    TIDE_ASSERT_EQ_INT(tide_tel_open_mem(&r, log, len, "costly-dns.log", &to), 0);
    tide_event ev;
    int got, events = 0;
    while ((got = tide_tel_next(r, &ev)) == 1) {
        events++;
        TIDE_ASSERT_EQ_INT(tide_matcher_event(m, "costly-dns.log", &ev, count_sighting, &good), 0);
    }
    TIDE_ASSERT_EQ_INT(got, 0);
    tide_matcher_stats ms;
    tide_matcher_stats_get(m, &ms);
    tide_tel_close(r);
    tide_matcher_free(m);
    tide_match_index_free(ix);
    tide_workspace_free(ws);
    free(log);
    TIDE_ASSERT_EQ_INT(events, 400);
    TIDE_ASSERT_EQ_INT(good, 400);   /* the good one confirmed on every event */
    TIDE_ASSERT_EQ_INT(und[0], 400); /* the costly one: every candidate told */
    TIDE_ASSERT_EQ_INT(und[1], 400 - TIDE_MATCH_BUDGET_CAPS); /* not evaluated past its budget */
    TIDE_ASSERT_EQ_INT((int)ms.undecided, 400);
    TIDE_ASSERT_EQ_INT((int)ms.over_budget, 400 - TIDE_MATCH_BUDGET_CAPS);
    TIDE_ASSERT_EQ_INT((int)ms.evaluated, 400 + TIDE_MATCH_BUDGET_CAPS);
    TIDE_ASSERT_EQ_INT((int)ms.indicators_over, 1);
}

TIDE_TESTS = {
    { "undecided::budget", t_budget },
    { "undecided::per_indicator", t_per_indicator },
    { NULL, NULL },
};
TIDE_TEST_MAIN
