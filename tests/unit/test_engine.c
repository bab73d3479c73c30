/*
 * test_engine.c - the engine (engine.h) through its public calls, on real data: workspace
 * locations and derived paths; a match run fed from a memory buffer gives the same sightings
 * as one fed from the file (the Trickbot capture against maltrail's trickbot trails: 3 225
 * connections of two hosts, iocs README); an ingest run from a buffer retro-hunts the history;
 * an ingest from a pipe reads as the file does; a case closed with lessons promotes them
 * through an ingest run, so the promoted indicator is hunted too; a hunt cancelled (the
 * workspace's cancel flag) stores nothing; the sighting wire format is valid JSON whatever the
 * log held.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "tide.h"

/* ---- helpers ---- */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    TIDE_ASSERT(f != NULL);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    TIDE_ASSERT(p != NULL);
    TIDE_ASSERT(fread(p, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    p[n] = '\0';
    *len = (size_t)n;
    return p;
}

static const char *data_path(const char *rel)
{
    static char p[4][1024];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof(p[k]), "%s/%s", tide_test_data(), rel);
    return p[k];
}

#define CONN   "zeek/trickbot-2018-11-09/conn.log"
#define TRAILS "iocs/maltrail/malware/trickbot.txt"

typedef struct {
    long n, suppressed;
    char hosts[4][32];
    int nhosts;
    bool bad_json;
} count_ctx;

static int count_sighting(const tide_sighting *s, void *payload)
{
    count_ctx *c = payload;
    c->n++;
    c->suppressed += s->hit->suppressed;
    char host[32];
    snprintf(host, sizeof(host), "%.*s", (int)s->event->host_len, s->event->host);
    bool seen = false;
    for (int i = 0; i < c->nhosts; i++)
        seen |= strcmp(c->hosts[i], host) == 0;
    if (!seen && c->nhosts < 4)
        snprintf(c->hosts[c->nhosts++], sizeof(c->hosts[0]), "%s", host);
    char line[4096];
    size_t n = tide_sighting_json(s, line, sizeof(line));
    json_t *j = n < sizeof(line) ? json_loads(line, 0, NULL) : NULL;
    if (j == NULL || strcmp(json_string_value(json_object_get(j, "host")), host) != 0)
        c->bad_json = true;
    json_decref(j);
    return 0;
}

static bool has_host(const count_ctx *c, const char *h)
{
    for (int i = 0; i < c->nhosts; i++)
        if (strcmp(c->hosts[i], h) == 0)
            return true;
    return false;
}

static void ingest_trails(tide_workspace *ws, bool from_buffer, tide_ingest_result *res)
{
    tide_ingest_run_opts o;
    tide_ingest_run_opts_init(&o);
    o.ingest.source = "maltrail";
    tide_ingest_run *run = NULL;
    TIDE_ASSERT_EQ_INT(tide_ingest_run_new(&run, ws, &o), 0);
    if (from_buffer) {
        size_t len;
        char *buf = slurp(data_path(TRAILS), &len);
        /* named as the file: the family comes from the name, as for the path */
        TIDE_ASSERT_EQ_INT(
                tide_ingest_run_buffer(run, buf, len, "malware/trickbot.txt", TIDE_FMT_LIST), 0);
        free(buf);
    } else {
        TIDE_ASSERT_EQ_INT(tide_ingest_run_path(run, data_path(TRAILS), TIDE_FMT_LIST), 0);
    }
    TIDE_ASSERT_EQ_INT(tide_ingest_run_finish(run, res), 0);
    tide_ingest_run_free(run);
    TIDE_ASSERT(res->ingest.records > 1000);
    TIDE_ASSERT_EQ_INT((int)res->ingest.rejected, 0);
}

typedef struct {
    long live, retro, pairs;
} sight_sums;

static int sum_rec(const tide_sighting_rec *r, void *payload)
{
    sight_sums *s = payload;
    s->live += r->live_count;
    s->retro += r->retro_count;
    s->pairs++;
    return 0;
}

static sight_sums stored(tide_workspace *ws, const char *host, const char *indicator)
{
    sight_sums s = { 0, 0, 0 };
    tide_sighting_query q = { 0 };
    q.host = host;
    q.indicator = indicator;
    q.include_suppressed = true;
    TIDE_ASSERT_EQ_INT(tide_store_sightings(tide_workspace_store(ws), &q, sum_rec, &s), 0);
    return s;
}

/* ---- workspace ---- */

static void t_locations(void)
{
    const char *dir = tide_test_tmpdir();
    char loc[600], state[600];
    tide_workspace *ws = NULL;
    /* a plain folder and "sqlite:" are the same store */
    snprintf(loc, sizeof(loc), "%s/a", dir);
    TIDE_ASSERT_EQ_INT(tide_workspace_open(&ws, loc, NULL), 0);
    char want[700];
    snprintf(want, sizeof(want), "sqlite:%s/a", dir);
    TIDE_ASSERT_EQ_STR(tide_workspace_location(ws), want);
    snprintf(want, sizeof(want), "%s/a/match.idx", dir);
    TIDE_ASSERT_EQ_STR(tide_workspace_path(ws, TIDE_WS_INDEX), want);
    snprintf(want, sizeof(want), "%s/a/history", dir);
    TIDE_ASSERT_EQ_STR(tide_workspace_path(ws, TIDE_WS_HISTORY), want);
    struct stat st;
    snprintf(want, sizeof(want), "%s/a/tide.db", dir);
    TIDE_ASSERT(stat(want, &st) == 0);
    tide_workspace_free(ws);
    snprintf(loc, sizeof(loc), "sqlite:%s/a", dir);
    TIDE_ASSERT_EQ_INT(tide_workspace_open(&ws, loc, NULL), 0);
    tide_workspace_free(ws);
    snprintf(loc, sizeof(loc), "sqlite://%s/b", dir);
    TIDE_ASSERT_EQ_INT(tide_workspace_open(&ws, loc, NULL), 0);
    tide_workspace_free(ws);
    snprintf(want, sizeof(want), "%s/b/tide.db", dir);
    TIDE_ASSERT(stat(want, &st) == 0);
    /* a store without a folder of its own, and nonsense */
    TIDE_ASSERT_EQ_INT(
            tide_workspace_open(&ws, "postgres://tide@db/tide", NULL), TIDE_EUNSUPPORTED);
    TIDE_ASSERT(strstr(tide_error_last(), "PostgreSQL") != NULL);
    TIDE_ASSERT(ws == NULL);
    TIDE_ASSERT_EQ_INT(tide_workspace_open(&ws, "ftp://x/y", NULL), TIDE_EUNSUPPORTED);
    TIDE_ASSERT_EQ_INT(tide_workspace_open(&ws, "", NULL), TIDE_EINVAL);
    TIDE_ASSERT_EQ_INT(tide_workspace_open(&ws, "sqlite:", NULL), TIDE_EINVAL);
    /* a state folder apart from the store: history and index cache go there */
    snprintf(loc, sizeof(loc), "%s/c", dir);
    snprintf(state, sizeof(state), "%s/c-state", dir);
    tide_workspace_opts o = { .state_dir = state };
    TIDE_ASSERT_EQ_INT(tide_workspace_open(&ws, loc, &o), 0);
    snprintf(want, sizeof(want), "%s/c-state/history", dir);
    TIDE_ASSERT_EQ_STR(tide_workspace_path(ws, TIDE_WS_HISTORY), want);
    TIDE_ASSERT(stat(state, &st) == 0 && S_ISDIR(st.st_mode));
    tide_workspace_free(ws);
}

/* ---- match runs ---- */

static void match_once(tide_workspace *ws, bool from_buffer, bool no_history, count_ctx *c,
        tide_match_run_stats *st)
{
    tide_match_run_opts o;
    memset(&o, 0, sizeof(o));
    o.on_sighting = count_sighting;
    o.payload = c;
    o.no_history = no_history;
    tide_match_run *run = NULL;
    TIDE_ASSERT_EQ_INT(tide_match_run_new(&run, ws, &o), 0);
    char *buf = NULL;
    if (from_buffer) {
        size_t len;
        buf = slurp(data_path(CONN), &len);
        TIDE_ASSERT_EQ_INT(tide_match_run_add_buffer(run, buf, len, "conn.log"), 0);
    } else {
        TIDE_ASSERT_EQ_INT(tide_match_run_add_path(run, data_path(CONN)), 0);
    }
    TIDE_ASSERT_EQ_INT(tide_match_run_run(run), 0);
    tide_match_run_stats_get(run, st);
    tide_match_run_free(run);
    free(buf);
}

static void t_match_buffer(void)
{
    tide_workspace *ws = NULL;
    TIDE_ASSERT_EQ_INT(tide_workspace_open(&ws, tide_test_tmpdir(), NULL), 0);
    tide_ingest_result res;
    ingest_trails(ws, false, &res);
    TIDE_ASSERT(!res.hunted); /* no history yet: nothing to hunt in */
    count_ctx mem = { 0 }, file = { 0 };
    tide_match_run_stats sm, sf;
    match_once(ws, true, true, &mem, &sm);
    match_once(ws, false, true, &file, &sf);
    /* iocs README: 3 225 connections of 172.16.9.5 and 172.16.9.233 hit trickbot ip:port */
    TIDE_ASSERT_EQ_INT((int)mem.n, 3225);
    TIDE_ASSERT_EQ_INT((int)file.n, 3225);
    TIDE_ASSERT_EQ_INT((int)sm.sightings, 3225);
    TIDE_ASSERT(sm.events == sf.events && sm.bytes == sf.bytes && sm.events > 10000);
    TIDE_ASSERT(sm.inputs == 1 && sm.input_errors == 0);
    TIDE_ASSERT(has_host(&mem, "172.16.9.5") && has_host(&mem, "172.16.9.233"));
    TIDE_ASSERT_EQ_INT(mem.nhosts, 2);
    TIDE_ASSERT(!mem.bad_json && !file.bad_json);
    /* both runs stored their sightings: live counts add up per host */
    sight_sums a = stored(ws, "172.16.9.5", NULL), b = stored(ws, "172.16.9.233", NULL);
    TIDE_ASSERT_EQ_INT((int)(a.live + b.live), 2 * 3225);
    TIDE_ASSERT_EQ_INT((int)a.live, 2 * 2196);
    tide_workspace_free(ws);
}

/* History from a buffer (a run without matching), then trails ingested from a buffer: the
 * ingest run hunts them back through that history by itself. */
static void t_ingest_buffer_hunts(void)
{
    tide_workspace *ws = NULL;
    TIDE_ASSERT_EQ_INT(tide_workspace_open(&ws, tide_test_tmpdir(), NULL), 0);
    tide_match_run_opts o;
    memset(&o, 0, sizeof(o));
    o.no_match = true;
    tide_match_run *run = NULL;
    TIDE_ASSERT_EQ_INT(tide_match_run_new(&run, ws, &o), 0);
    size_t len;
    char *conn = slurp(data_path(CONN), &len);
    TIDE_ASSERT_EQ_INT(tide_match_run_add_buffer(run, conn, len, "conn.log"), 0);
    TIDE_ASSERT_EQ_INT(tide_match_run_run(run), 0);
    tide_match_run_stats st;
    tide_match_run_stats_get(run, &st);
    TIDE_ASSERT(st.history && st.events > 10000 && st.sightings == 0);
    tide_match_run_free(run);
    free(conn);
    tide_history_stats hs;
    TIDE_ASSERT_EQ_INT(tide_workspace_history_stats(ws, &hs), 0);
    TIDE_ASSERT(hs.runs > 0 && hs.records > 1000 && hs.raw_bytes == st.bytes);

    tide_ingest_result res;
    ingest_trails(ws, true, &res);
    TIDE_ASSERT(res.hunted);
    TIDE_ASSERT_EQ_INT((int)res.hunt.hosts, 2);
    TIDE_ASSERT(res.hunt.sightings >= 2);
    sight_sums a = stored(ws, "172.16.9.5", NULL), b = stored(ws, "172.16.9.233", NULL);
    TIDE_ASSERT_EQ_INT((int)a.retro, 2196);
    TIDE_ASSERT_EQ_INT((int)b.retro, 1029);
    TIDE_ASSERT_EQ_INT((int)(a.live + b.live), 0);
    /* the same trails again change nothing: nothing to hunt */
    ingest_trails(ws, true, &res);
    TIDE_ASSERT_EQ_INT((int)res.ingest.stored, 0);
    TIDE_ASSERT(!res.hunted || res.hunt.indicators == 0);
    tide_workspace_free(ws);
}

/* A hunt whose workspace's cancel flag is set stops with TIDE_ECANCELED and stores nothing,
 * whether the flag was set before it began or while it gave its results; with the flag clear
 * the same hunt stores its retro-sightings. */
static volatile int cancel_flag;

static int cancel_on_first(const tide_retro_sighting *s, void *payload)
{
    (void)s;
    (*(long *)payload)++;
    cancel_flag = 1;
    return 0;
}

static void t_hunt_cancel(void)
{
    tide_workspace *ws = NULL;
    TIDE_ASSERT_EQ_INT(tide_workspace_open(&ws, tide_test_tmpdir(), NULL), 0);
    tide_ingest_result res;
    ingest_trails(ws, false, &res); /* no history yet: nothing hunted */
    tide_match_run_opts o;
    memset(&o, 0, sizeof(o));
    o.no_match = true;
    tide_match_run *run = NULL;
    TIDE_ASSERT_EQ_INT(tide_match_run_new(&run, ws, &o), 0);
    TIDE_ASSERT_EQ_INT(tide_match_run_add_path(run, data_path(CONN)), 0);
    TIDE_ASSERT_EQ_INT(tide_match_run_run(run), 0);
    tide_match_run_free(run);

    tide_hunt_opts ho;
    memset(&ho, 0, sizeof(ho));
    ho.store = true;
    tide_hunt_stats st;
    cancel_flag = 1;
    tide_workspace_set_cancel(ws, &cancel_flag);
    TIDE_ASSERT(tide_workspace_cancelled(ws));
    TIDE_ASSERT_EQ_INT(tide_workspace_hunt(ws, &ho, NULL, NULL, &st), TIDE_ECANCELED);
    TIDE_ASSERT_EQ_INT((int)stored(ws, "172.16.9.5", NULL).retro, 0);
    /* set while the results are given: still nothing stored */
    cancel_flag = 0;
    long seen = 0;
    TIDE_ASSERT_EQ_INT(tide_workspace_hunt(ws, &ho, cancel_on_first, &seen, &st), TIDE_ECANCELED);
    TIDE_ASSERT(seen >= 1);
    TIDE_ASSERT_EQ_INT((int)stored(ws, "172.16.9.5", NULL).retro, 0);
    TIDE_ASSERT_EQ_INT((int)stored(ws, "172.16.9.233", NULL).retro, 0);
    /* the flag clear: the hunt stores what it finds */
    cancel_flag = 0;
    TIDE_ASSERT(!tide_workspace_cancelled(ws));
    TIDE_ASSERT_EQ_INT(tide_workspace_hunt(ws, &ho, NULL, NULL, &st), 0);
    TIDE_ASSERT_EQ_INT((int)stored(ws, "172.16.9.5", NULL).retro, 2196);
    tide_workspace_set_cancel(ws, NULL);
    tide_workspace_free(ws);
}

/* A stream that cannot seek (a pipe) is read like the file. */
static void t_ingest_pipe(void)
{
    tide_workspace *a = NULL, *b = NULL;
    TIDE_ASSERT_EQ_INT(tide_workspace_open(&a, tide_test_tmpdir(), NULL), 0);
    TIDE_ASSERT_EQ_INT(tide_workspace_open(&b, tide_test_tmpdir(), NULL), 0);
    tide_ingest_result ra, rb;
    ingest_trails(a, false, &ra);
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "cat '%s'", data_path(TRAILS));
    FILE *p = popen(cmd, "r");
    TIDE_ASSERT(p != NULL);
    tide_ingest_run_opts o;
    tide_ingest_run_opts_init(&o);
    o.ingest.source = "maltrail";
    tide_ingest_run *run = NULL;
    TIDE_ASSERT_EQ_INT(tide_ingest_run_new(&run, b, &o), 0);
    TIDE_ASSERT_EQ_INT(tide_ingest_run_file(run, p, "malware/trickbot.txt", TIDE_FMT_AUTO), 0);
    TIDE_ASSERT_EQ_INT(tide_ingest_run_finish(run, &rb), 0);
    tide_ingest_run_free(run);
    pclose(p);
    TIDE_ASSERT_EQ_INT((int)rb.ingest.records, (int)ra.ingest.records);
    TIDE_ASSERT_EQ_INT((int)rb.ingest.indicators, (int)ra.ingest.indicators);
    /* same deterministic ids: the family came from the name as from the path */
    char *s1 = NULL, *s2 = NULL;
    TIDE_ASSERT_EQ_INT(tide_store_stats_json(tide_workspace_store(a), &s1), 0);
    TIDE_ASSERT_EQ_INT(tide_store_stats_json(tide_workspace_store(b), &s2), 0);
    json_t *j1 = json_loads(s1, 0, NULL), *j2 = json_loads(s2, 0, NULL);
    TIDE_ASSERT(json_equal(json_object_get(j1, "by_type"), json_object_get(j2, "by_type")));
    json_decref(j1);
    json_decref(j2);
    free(s1);
    free(s2);
    /* a MISP feed is a folder, never a stream */
    TIDE_ASSERT_EQ_INT(tide_ingest_buffer(tide_workspace_store(b), "x", 1, "x", TIDE_FMT_MISP_FEED,
                               NULL, NULL, NULL, NULL),
            TIDE_EINVAL);
    tide_workspace_free(a);
    tide_workspace_free(b);
}

/* A case closed with lessons promotes their indicator through an ingest run of the workspace:
 * the value is in the history only, so it is found by the retro-hunt that run ends with. */
static void t_case_close_hunts_lessons(void)
{
    const char *dir = tide_test_tmpdir();
    tide_workspace *ws = NULL;
    TIDE_ASSERT_EQ_INT(tide_workspace_open(&ws, dir, NULL), 0);
    tide_match_run_opts o;
    memset(&o, 0, sizeof(o));
    o.no_match = true;
    tide_match_run *run = NULL;
    TIDE_ASSERT_EQ_INT(tide_match_run_new(&run, ws, &o), 0);
    TIDE_ASSERT_EQ_INT(tide_match_run_add_path(run, data_path(CONN)), 0);
    TIDE_ASSERT_EQ_INT(tide_match_run_run(run), 0);
    tide_match_run_free(run);
    tide_ingest_result res;
    ingest_trails(ws, false, &res);
    TIDE_ASSERT(res.hunted && res.hunt.hosts == 2);

    tide_store *s = tide_workspace_store(ws);
    tide_case_opts co;
    memset(&co, 0, sizeof(co));
    tide_workspace_case_opts(ws, &co);
    int64_t id = 0;
    TIDE_ASSERT_EQ_INT(
            tide_case_open(s, &co, 0, "172.16.9.5", "206.130.141.255:449", &id, NULL), 0);
    char *js = NULL;
    TIDE_ASSERT_EQ_INT(tide_case_show_json(s, id, &js), 0);
    json_t *doc = json_loads(js, 0, NULL);
    free(js);
    json_t *hosts = json_object_get(doc, "hosts");
    TIDE_ASSERT(json_array_size(hosts) >= 2);
    static const char *const steps[] = { "contained", "eradicated", "recovered" };
    size_t i;
    json_t *h;
    json_array_foreach(hosts, i, h) for (int k = 0; k < 3; k++) TIDE_ASSERT_EQ_INT(
            tide_case_host_state(
                    s, &co, id, json_string_value(json_object_get(h, "host")), steps[k], "t", NULL),
            0);
    json_decref(doc);
    tide_case_opts later = co;
    later.now_ms = 4102444800000LL; /* 2100: every watch period is over */
    TIDE_ASSERT_EQ_INT(tide_case_refresh(s, &later, id, NULL), 0);
    /* a lesson: an address both hosts talked to, in history only, in no feed */
    const char *lesson = "78.47.139.102";
    tide_hunt_opts ho = { 0 };
    tide_indicator_filter f = { .value = lesson };
    ho.filter = &f;
    char lp[700];
    snprintf(lp, sizeof(lp), "%s/lessons.txt", dir);
    FILE *lf = fopen(lp, "w");
    TIDE_ASSERT(lf != NULL);
    fprintf(lf, "indicator: %s\nprevention: deny egress to the hosting range\n", lesson);
    fclose(lf);
    TIDE_ASSERT_EQ_INT(tide_case_lessons_set(s, &later, id, lp), 0);
    sight_sums before = stored(ws, NULL, lesson);
    TIDE_ASSERT_EQ_INT((int)before.pairs, 0);
    long promoted = 0;
    TIDE_ASSERT_EQ_INT(tide_case_close(s, &later, id, "green", &promoted), 0);
    TIDE_ASSERT_EQ_INT((int)promoted, 1);
    sight_sums after = stored(ws, NULL, lesson);
    TIDE_ASSERT(after.pairs >= 1 && after.retro > 0);
    (void)ho;
    tide_workspace_free(ws);
}

/* ---- a record source (what a Kafka consumer implements) ---- */

#define EVE "suricata/stamus-suricata-analytics/mta-2024-04-17-ssload.eve.json"

typedef struct {
    char *data;
    size_t len, at;
    uint64_t pos;       /* records handed out */
    uint64_t committed; /* the last position the run called durable */
    int again;          /* say "nothing now" every few records */
    bool closed;
} line_source;

static int src_next(void *ctx, const char **rec, size_t *len, uint64_t *pos)
{
    line_source *s = ctx;
    if (s->at >= s->len)
        return TIDE_SOURCE_END;
    if (s->again && s->pos % 7 == 3 && s->again-- > 0)
        return TIDE_SOURCE_AGAIN;
    const char *p = s->data + s->at;
    const char *nl = memchr(p, '\n', s->len - s->at);
    size_t n = nl ? (size_t)(nl - p) : s->len - s->at;
    s->at += n + (nl != NULL);
    *rec = p;
    *len = n;
    *pos = ++s->pos;
    return TIDE_SOURCE_RECORD;
}

static void src_committed(void *ctx, uint64_t pos)
{
    ((line_source *)ctx)->committed = pos;
}

static void src_close(void *ctx)
{
    ((line_source *)ctx)->closed = true;
}

typedef struct {
    long n;
    uint64_t line;
} bad_ctx;

static void on_bad_rec(const char *file, uint64_t line, const char *reason, void *payload)
{
    bad_ctx *b = payload;
    (void)file;
    (void)reason;
    b->n++;
    b->line = line;
}

/* Records from a source, one at a time, give what the file gives; positions are reported as
 * lines, bad records are counted with theirs, and the source hears what is durable. */
static void t_match_source(void)
{
    tide_workspace *ws = NULL;
    TIDE_ASSERT_EQ_INT(tide_workspace_open(&ws, tide_test_tmpdir(), NULL), 0);
    tide_ingest_run_opts io;
    tide_ingest_run_opts_init(&io);
    tide_ingest_run *ir = NULL;
    tide_ingest_result res;
    TIDE_ASSERT_EQ_INT(tide_ingest_run_new(&ir, ws, &io), 0);
    TIDE_ASSERT_EQ_INT(
            tide_ingest_run_path(ir, data_path("iocs/maltrail/malware/lummac2.txt"), TIDE_FMT_LIST),
            0);
    TIDE_ASSERT_EQ_INT(tide_ingest_run_finish(ir, &res), 0);
    tide_ingest_run_free(ir);

    count_ctx file = { 0 }, src = { 0 };
    tide_match_run_opts o;
    memset(&o, 0, sizeof(o));
    o.on_sighting = count_sighting;
    o.payload = &file;
    o.no_history = true;
    o.no_store = true;
    tide_match_run *run = NULL;
    TIDE_ASSERT_EQ_INT(tide_match_run_new(&run, ws, &o), 0);
    TIDE_ASSERT_EQ_INT(tide_match_run_add_path(run, data_path(EVE)), 0);
    TIDE_ASSERT_EQ_INT(tide_match_run_run(run), 0);
    tide_match_run_free(run);
    TIDE_ASSERT(file.n >= 51); /* iocs README: 85.239.53.219 in 51 events of this capture */

    /* the same file as records, with a broken record in the middle */
    size_t len;
    char *eve = slurp(data_path(EVE), &len);
    size_t half = len / 2;
    while (eve[half] != '\n')
        half++;
    const char broken[] = "{\"event_type\":\"dns\",\"src_ip\":\n";
    line_source ls = { 0 };
    ls.data = malloc(len + sizeof(broken));
    TIDE_ASSERT(ls.data != NULL);
    memcpy(ls.data, eve, half + 1);
    memcpy(ls.data + half + 1, broken, sizeof(broken) - 1);
    memcpy(ls.data + half + sizeof(broken), eve + half + 1, len - half - 1);
    ls.len = len + sizeof(broken) - 1;
    ls.again = 5;
    free(eve);
    bad_ctx bad = { 0, 0 };
    o.payload = &src;
    o.no_store = false;
    o.tel.on_bad = on_bad_rec;
    o.tel.bad_payload = &bad;
    TIDE_ASSERT_EQ_INT(tide_match_run_new(&run, ws, &o), 0);
    tide_match_source ms = { "kafka:eve/0", TIDE_TEL_AUTO, src_next, src_committed, src_close,
        &ls };
    TIDE_ASSERT_EQ_INT(tide_match_run_add_source(run, &ms), 0);
    TIDE_ASSERT_EQ_INT(tide_match_run_run(run), 0);
    tide_match_run_stats st;
    tide_match_run_stats_get(run, &st);
    TIDE_ASSERT_EQ_INT((int)src.n, (int)file.n);
    TIDE_ASSERT(!src.bad_json);
    TIDE_ASSERT_EQ_INT((int)st.bad, 1);
    TIDE_ASSERT_EQ_INT((int)bad.n, 1);
    TIDE_ASSERT(bad.line > 100 && bad.line < ls.pos);   /* the record's position */
    TIDE_ASSERT_EQ_INT((int)ls.committed, (int)ls.pos); /* all of it is durable */
    TIDE_ASSERT(!ls.closed);
    tide_match_run_free(run);
    TIDE_ASSERT(ls.closed);
    /* the sightings were stored under the source's name */
    sight_sums ss = stored(ws, NULL, "85.239.53.219");
    TIDE_ASSERT(ss.live >= 51);
    free(ls.data);
    tide_workspace_free(ws);
}

/* ---- wire format ---- */

static void t_wire(void)
{
    tide_observation obs = { 0 };
    obs.kind = TIDE_OBS_DOMAIN;
    obs.value = "ev\"il\\.ex\xff"
                "ample.com";
    obs.len = strlen(obs.value);
    obs.field = "query";
    tide_event ev = { 0 };
    ev.ts_us = 1541779200123456LL;
    ev.host = "10.0.0.\x01"
              "5\xc3\xa9";
    ev.host_len = strlen(ev.host);
    ev.kind = "dns";
    ev.line = 42;
    ev.obs = &obs;
    ev.nobs = 1;
    tide_match_hit hit;
    memset(&hit, 0, sizeof(hit));
    snprintf(hit.indicator_id, sizeof(hit.indicator_id), "indicator--%s",
            "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
    hit.kind = TIDE_OBS_DOMAIN;
    hit.value = "example.com";
    hit.value_len = 11;
    hit.campaigns = "Op A\0Op B";
    hit.ncampaigns = 2;
    hit.confidence = 80;
    hit.score = 61;
    hit.tlp = "green";
    tide_sighting s = { &ev, "dns.log", &obs, &hit };
    char buf[2048];
    size_t n = tide_sighting_json(&s, buf, sizeof(buf));
    TIDE_ASSERT(n < sizeof(buf) && n == strlen(buf) && buf[n - 1] == '\n');
    json_error_t err;
    json_t *j = json_loads(buf, 0, &err);
    TIDE_ASSERT(j != NULL);
    TIDE_ASSERT_EQ_STR(json_string_value(json_object_get(j, "ts")), "2018-11-09T16:00:00.123456Z");
    TIDE_ASSERT_EQ_STR(json_string_value(json_object_get(j, "host")), "10.0.0.\x01"
                                                                      "5\xc3\xa9");
    TIDE_ASSERT_EQ_STR(json_string_value(json_object_get(j, "observed")), "ev\"il\\.ex\xef\xbf\xbd"
                                                                          "ample.com");
    TIDE_ASSERT_EQ_STR(json_string_value(json_object_get(j, "campaign")), "Op A");
    TIDE_ASSERT_EQ_INT((int)json_array_size(json_object_get(j, "campaigns")), 2);
    TIDE_ASSERT_EQ_INT((int)json_integer_value(json_object_get(j, "line")), 42);
    TIDE_ASSERT_EQ_INT((int)json_integer_value(json_object_get(j, "score")), 61);
    TIDE_ASSERT(json_is_false(json_object_get(j, "suppressed")));
    json_decref(j);
    /* snprintf rules: the length needed, a NUL-terminated prefix */
    char small[16];
    TIDE_ASSERT_EQ_INT((int)tide_sighting_json(&s, small, sizeof(small)), (int)n);
    TIDE_ASSERT_EQ_INT((int)strlen(small), 15);
    TIDE_ASSERT_EQ_INT((int)tide_sighting_json(&s, NULL, 0), (int)n);

    tide_retro_sighting r = { 0 };
    r.host = "172.16.9.5";
    r.observed = "example.com";
    r.first_seen_us = 1541779200000000LL;
    r.last_seen_us = 1541779260000000LL;
    r.count = 3;
    r.file = "dns.log";
    r.line = 7;
    r.hit = &hit;
    n = tide_retro_sighting_json(&r, buf, sizeof(buf));
    j = json_loads(buf, 0, NULL);
    TIDE_ASSERT(j != NULL && n == strlen(buf));
    TIDE_ASSERT(json_is_true(json_object_get(j, "retro")));
    TIDE_ASSERT_EQ_STR(
            json_string_value(json_object_get(j, "first_seen")), "2018-11-09T16:00:00.000Z");
    TIDE_ASSERT_EQ_INT((int)json_integer_value(json_object_get(j, "count")), 3);
    TIDE_ASSERT_EQ_STR(json_string_value(json_object_get(j, "indicator_id")), hit.indicator_id);
    json_decref(j);
}

/* The wire's hand-written parts against the library's: the time against gmtime_r (leap days,
 * century years, the first microsecond, the last year of four digits and past it), and the
 * strings' escaping at every place of a 16-byte scan (a quote, a backslash, a control byte,
 * valid and invalid UTF-8 before, across and after each boundary). */
static void t_wire_forms(void)
{
    tide_observation obs = { 0 };
    obs.value = "x";
    obs.len = 1;
    tide_event ev = { 0 };
    ev.host = "h";
    ev.host_len = 1;
    ev.obs = &obs;
    ev.nobs = 1;
    tide_match_hit hit;
    memset(&hit, 0, sizeof(hit));
    snprintf(hit.indicator_id, sizeof(hit.indicator_id), "indicator--x");
    hit.kind = TIDE_OBS_DOMAIN;
    hit.value = "x";
    hit.value_len = 1;
    tide_sighting s = { &ev, "f", &obs, &hit };
    char buf[4096];
    static const long long secs[] = { 0, 59, 86399, 86400, 951782400 /* 2000-02-29 */, 951868800,
        4107456000LL /* 2100-02-28 */, 4107542400LL, 1541779200, 1704067199,
        253402300799LL /* 9999-12-31T23:59:59 */, 253402300800LL /* 10000-01-01 */,
        253402387200LL };
    for (size_t i = 0; i < sizeof(secs) / sizeof(secs[0]) + 2000; i++) {
        long long sec = i < sizeof(secs) / sizeof(secs[0])
                                ? secs[i]
                                : (long long)((i * 2654435761ULL) % 253402300800ULL);
        long long frac = (long long)(i * 7919 % 1000000);
        ev.ts_us = sec * 1000000 + frac;
        if (ev.ts_us <= 0)
            ev.ts_us = 1; /* 0 and below print null */
        time_t t = (time_t)(ev.ts_us / 1000000);
        struct tm tm;
        TIDE_ASSERT(gmtime_r(&t, &tm) != NULL);
        char want[64];
        snprintf(want, sizeof(want), "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%06dZ\",",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                (int)(ev.ts_us % 1000000));
        TIDE_ASSERT(tide_sighting_json(&s, buf, sizeof(buf)) < sizeof(buf));
        TIDE_ASSERT(strncmp(buf, want, strlen(want)) == 0);
    }
    ev.ts_us = 0;
    tide_sighting_json(&s, buf, sizeof(buf));
    TIDE_ASSERT(strncmp(buf, "{\"ts\":null,", 11) == 0);
    ev.ts_us = 1541779200123456LL;

    static const struct {
        const char *in, *want; /* want: the value parsed back */
    } odd[] = { { "\"", "\"" }, { "\\", "\\" }, { "\x01", "\x01" }, { "\x1f", "\x1f" },
        { "\x7f", "\x7f" }, { "\xc3\xa9", "\xc3\xa9" }, { "\xe2\x82\xac", "\xe2\x82\xac" },
        { "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80" }, { "\xff", "\xef\xbf\xbd" },
        { "\xc3", "\xef\xbf\xbd" }, { "\x80", "\xef\xbf\xbd" } };
    for (size_t k = 0; k < sizeof(odd) / sizeof(odd[0]); k++) {
        for (size_t pos = 0; pos < 40; pos++) {
            char in[128], want[128];
            memset(in, 'a', pos);
            size_t l = strlen(odd[k].in);
            memcpy(in + pos, odd[k].in, l);
            memset(in + pos + l, 'b', 40 - pos);
            size_t n = pos + l + 40 - pos;
            memset(want, 'a', pos);
            size_t wl = strlen(odd[k].want);
            memcpy(want + pos, odd[k].want, wl);
            memset(want + pos + wl, 'b', 40 - pos);
            want[pos + wl + 40 - pos] = '\0';
            obs.value = in;
            obs.len = n;
            size_t w = tide_sighting_json(&s, buf, sizeof(buf));
            TIDE_ASSERT(w < sizeof(buf) && buf[w - 1] == '\n');
            json_t *j = json_loads(buf, 0, NULL);
            TIDE_ASSERT(j != NULL);
            TIDE_ASSERT_EQ_STR(json_string_value(json_object_get(j, "observed")), want);
            json_decref(j);
        }
    }
}

/* ---- files ---- */

static int collect(const char *path, void *payload)
{
    char *acc = payload;
    const char *base = strrchr(path, '/');
    strncat(acc, base ? base + 1 : path, 200);
    strncat(acc, ",", 2);
    return 0;
}

static void t_walk(void)
{
    const char *dir = tide_test_tmpdir();
    char p[700];
    const char *names[] = { "b.log", "a.log", ".hidden", "sub/c.log", "sub/.x/d.log" };
    snprintf(p, sizeof(p), "%s/sub", dir);
    mkdir(p, 0700);
    snprintf(p, sizeof(p), "%s/sub/.x", dir);
    mkdir(p, 0700);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        FILE *f = fopen(p, "w");
        TIDE_ASSERT(f != NULL);
        fclose(f);
    }
    char acc[1024] = "";
    TIDE_ASSERT_EQ_INT(tide_walk_files(dir, collect, acc), 0);
    TIDE_ASSERT_EQ_STR(acc, "a.log,b.log,c.log,");
    snprintf(p, sizeof(p), "%s/none", dir);
    TIDE_ASSERT_EQ_INT(tide_walk_files(p, collect, acc), TIDE_EIO);
}

TIDE_TESTS = {
    { "engine::locations", t_locations },
    { "engine::match_buffer", t_match_buffer },
    { "engine::match_source", t_match_source },
    { "engine::ingest_buffer_hunts", t_ingest_buffer_hunts },
    { "engine::ingest_pipe", t_ingest_pipe },
    { "engine::hunt_cancel", t_hunt_cancel },
    { "engine::case_close_hunts_lessons", t_case_close_hunts_lessons },
    { "engine::wire", t_wire },
    { "engine::wire_forms", t_wire_forms },
    { "engine::walk", t_walk },
    { NULL, NULL },
};
TIDE_TEST_MAIN
