/*
 * test_history.c - unit tests of the observation history (history.h): sort keys and their
 * hunt ranges (CIDR, parent domain, URL path), aggregation of one event's observations, runs
 * merged by compaction with counts / first / last / first place kept, retention and prune
 * (and what they report), two writers at once, event times bounded by the clock, keep /
 * discard, and corrupt or truncated run files reported with the file name.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "tide/errors.h"
#include "tide/history.h"
#include "history/hist_int.h"

static bool in_range(const hist_range *r, const uint8_t *k, size_t n)
{
    if (tide__hist_keycmp(k, n, r->lo, r->lo_len) < 0)
        return false;
    return r->hi_len == 0 || tide__hist_keycmp(k, n, r->hi, r->hi_len) < 0;
}

static bool covered(tide_obs_kind ik, const char *ind, tide_obs_kind ok, const char *obs)
{
    hist_range r[2];
    uint8_t k[HIST_MAX_KEY];
    int n = tide__hist_key(ok, obs, strlen(obs), k);
    int nr = tide__hist_ranges(ik, ind, r);
    for (int i = 0; n > 0 && i < nr; i++)
        if (in_range(&r[i], k, (size_t)n))
            return true;
    return false;
}

static void t_keys_roundtrip(void)
{
    struct {
        tide_obs_kind k;
        const char *in, *text;
    } c[] = {
        { TIDE_OBS_IPV4, "010.1.2.3", "10.1.2.3" },
        { TIDE_OBS_IPV6, "::ffff:1.2.3.4", "1.2.3.4" },
        { TIDE_OBS_IPV6, "2001:DB8::1", "2001:db8::1" },
        { TIDE_OBS_IP_PORT, "1.2.3.4:449", "1.2.3.4:449" },
        { TIDE_OBS_DOMAIN, "WWW.Evil.COM.", "www.evil.com" },
        { TIDE_OBS_URL, "HTTP://Evil.com:80/a/b?c=1", "http://evil.com/a/b?c=1" },
        { TIDE_OBS_SHA256, "AB00000000000000000000000000000000000000000000000000000000000001",
                "ab00000000000000000000000000000000000000000000000000000000000001" },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        uint8_t k[HIST_MAX_KEY];
        char t[HIST_MAX_KEY + 64];
        tide_obs_kind kind;
        int n = tide__hist_key(c[i].k, c[i].in, strlen(c[i].in), k);
        TIDE_ASSERT(n > 0);
        TIDE_ASSERT(tide__hist_key_text(k, (size_t)n, t, &kind) > 0);
        TIDE_ASSERT_EQ_STR(t, c[i].text);
    }
    uint8_t k[HIST_MAX_KEY];
    TIDE_ASSERT_EQ_INT(tide__hist_key(TIDE_OBS_IPV4, "1.2.3", 5, k), -1);
}

static void t_ranges(void)
{
    TIDE_ASSERT(covered(TIDE_OBS_CIDR4, "10.0.0.0/8", TIDE_OBS_IPV4, "10.255.1.1"));
    TIDE_ASSERT(!covered(TIDE_OBS_CIDR4, "10.0.0.0/8", TIDE_OBS_IPV4, "11.0.0.0"));
    TIDE_ASSERT(covered(TIDE_OBS_CIDR4, "0.0.0.0/0", TIDE_OBS_IPV4, "255.255.255.255"));
    TIDE_ASSERT(covered(TIDE_OBS_CIDR6, "2001:db8::/32", TIDE_OBS_IPV6, "2001:db8:ffff::1"));
    TIDE_ASSERT(covered(TIDE_OBS_DOMAIN, "evil.com", TIDE_OBS_DOMAIN, "a.b.EVIL.com"));
    TIDE_ASSERT(covered(TIDE_OBS_DOMAIN, "evil.com", TIDE_OBS_DOMAIN, "evil.com"));
    TIDE_ASSERT(!covered(TIDE_OBS_DOMAIN, "evil.com", TIDE_OBS_DOMAIN, "notevil.com"));
    TIDE_ASSERT(!covered(TIDE_OBS_DOMAIN, "evil.com", TIDE_OBS_DOMAIN, "evil.community"));
    TIDE_ASSERT(covered(TIDE_OBS_URL_PATH, "/gate.php", TIDE_OBS_URL, "http://x.ru/a/gate.php"));
    TIDE_ASSERT(!covered(TIDE_OBS_URL_PATH, "/gate.php", TIDE_OBS_URL, "http://x.ru/gate.phpx"));
    TIDE_ASSERT(covered(TIDE_OBS_MD5, "d41d8cd98f00b204e9800998ecf8427e", TIDE_OBS_MD5,
            "D41D8CD98F00B204E9800998ECF8427E"));
    TIDE_ASSERT(!covered(TIDE_OBS_IPV4, "1.2.3.4", TIDE_OBS_IP_PORT, "1.2.3.4:80"));
}

static void add(tide_history *h, const char *file, uint64_t line, int64_t ts, const char *host,
        tide_obs_kind k, const char *v)
{
    tide_observation o[2] = { { .kind = k, .value = v, .len = strlen(v), .field = "f" },
        { .kind = k, .value = v, .len = strlen(v), .field = "g" } };
    tide_event ev = { .ts_us = ts,
        .host = host,
        .host_len = strlen(host),
        .kind = "conn",
        .line = line,
        .obs = o,
        .nobs = 2 };
    TIDE_ASSERT_EQ_INT(tide_history_add(h, file, &ev), 0);
}

typedef struct {
    int n;
    uint64_t count;
    int64_t first, last;
    char file[64];
    uint64_t line;
} seen;

static int on_rec(const tide_history_rec *r, void *payload)
{
    seen *s = payload;
    s->n++;
    if (strcmp(r->value, "1.2.3.4") == 0 && strcmp(r->host, "10.0.0.1") == 0) {
        s->count += r->count;
        s->first = r->first_seen_us;
        s->last = r->last_seen_us;
        snprintf(s->file, sizeof(s->file), "%s", r->file);
        s->line = r->line;
    }
    return 0;
}

#define DAY (86400LL * 1000000)
#define T0  (20000 * DAY)

static void t_compaction(void)
{
    const char *dir = tide_test_tmpdir();
    setenv("TIDE_HISTORY_SPILL", "2", 1);
    tide_history *h;
    TIDE_ASSERT_EQ_INT(tide_history_open(&h, dir, true), 0);
    add(h, "b.log", 7, T0 + 500, "10.0.0.1", TIDE_OBS_IPV4, "1.2.3.4");
    add(h, "x.log", 1, T0 + 1, "10.0.0.2", TIDE_OBS_DOMAIN, "a.example");
    add(h, "a.log", 3, T0 + 100, "10.0.0.1", TIDE_OBS_IPV4, "1.2.3.4");
    add(h, "c.log", 9, T0 + 900, "10.0.0.1", TIDE_OBS_IPV4, "1.2.3.4");
    add(h, "c.log", 10, T0 + DAY, "10.0.0.1", TIDE_OBS_IPV4, "1.2.3.4");
    TIDE_ASSERT_EQ_INT(tide_history_commit(h), 0);
    unsetenv("TIDE_HISTORY_SPILL");
    tide_history_stats st;
    TIDE_ASSERT_EQ_INT(tide_history_stats_get(h, &st), 0);
    TIDE_ASSERT_EQ_INT((int)st.partitions, 2);
    TIDE_ASSERT_EQ_INT((int)st.runs, 2);    /* one spill: a run per day */
    TIDE_ASSERT_EQ_INT((int)st.records, 3); /* (1.2.3.4, .1) x 2 days, (a.example, .2) */
    TIDE_ASSERT_EQ_INT((int)st.events, 5);  /* one count per event, not per observation */
    tide_history_free(h);
    TIDE_ASSERT_EQ_INT(tide_history_open(&h, dir, false), 0);
    seen s = { 0 };
    TIDE_ASSERT_EQ_INT(tide_history_each(h, on_rec, &s), 0);
    TIDE_ASSERT_EQ_INT(s.n, 3);
    tide_history_free(h);
    /* day 1 record comes first: count 3, first from a.log:3 */
    TIDE_ASSERT_EQ_INT((int)s.count, 4);
    TIDE_ASSERT_EQ_INT((int)(s.first - T0), (int)DAY); /* the last callback: day 2 */
    /* prune the first day; retention then keeps the rest */
    TIDE_ASSERT_EQ_INT(tide_history_open(&h, dir, true), 0);
    size_t dropped = 0;
    TIDE_ASSERT_EQ_INT(tide_history_prune(h, (T0 + DAY) / 1000, &dropped), 0);
    TIDE_ASSERT_EQ_INT((int)dropped, 1);
    TIDE_ASSERT_EQ_INT(tide_history_stats_get(h, &st), 0);
    TIDE_ASSERT_EQ_INT((int)st.partitions, 1);
    /* a second writer writes beside this one: both commit, nothing of either is lost */
    tide_history *h2 = NULL;
    TIDE_ASSERT_EQ_INT(tide_history_open(&h2, dir, true), 0);
    add(h, "d.log", 1, T0 + 2 * DAY, "10.0.0.1", TIDE_OBS_IPV4, "1.2.3.4");
    add(h2, "e.log", 1, T0 + 2 * DAY + 5, "10.0.0.1", TIDE_OBS_IPV4, "1.2.3.4");
    TIDE_ASSERT_EQ_INT(tide_history_commit(h2), 0);
    TIDE_ASSERT_EQ_INT(tide_history_commit(h), 0);
    tide_history_free(h2);
    TIDE_ASSERT_EQ_INT(tide_history_stats_get(h, &st), 0);
    TIDE_ASSERT_EQ_INT((int)st.partitions, 2);
    TIDE_ASSERT_EQ_INT((int)st.runs, 3); /* a run of each writer's on the day both wrote */
    TIDE_ASSERT_EQ_INT(tide_history_compact(h), 0);
    TIDE_ASSERT_EQ_INT(tide_history_stats_get(h, &st), 0);
    TIDE_ASSERT_EQ_INT((int)st.runs, 2); /* the day both wrote is compacted to one run */
    TIDE_ASSERT_EQ_INT((int)st.events, 3);
    tide_history_free(h);
}

/* A commit merges a day's runs only past 16 of them, the smallest 10 into one (8 left), and
 * leaves the biggest as they are; tide_history_compact merges every day into one run. Commit
 * k (0-based) writes one run of k + 1 new values on the same day, so run sizes grow with k. */
static bool run_exists(const char *dir, int seq)
{
    char p[1200];
    snprintf(p, sizeof(p), "%s/history/2024-10-04.%06d.hst", dir, seq);
    return access(p, F_OK) == 0;
}

static void t_compaction_policy(void)
{
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/policy", tide_test_tmpdir());
    tide_history *h;
    TIDE_ASSERT_EQ_INT(tide_history_open(&h, dir, true), 0);
    tide_history_stats st;
    int total = 0;
    for (int k = 0; k < 17; k++) {
        for (int i = 0; i <= k; i++) {
            char v[32];
            snprintf(v, sizeof(v), "10.%d.%d.1", k, i);
            total++;
            add(h, "p.log", (uint64_t)total, T0 + total, "10.0.0.1", TIDE_OBS_IPV4, v);
        }
        TIDE_ASSERT_EQ_INT(tide_history_commit(h), 0);
        TIDE_ASSERT_EQ_INT(tide_history_stats_get(h, &st), 0);
        TIDE_ASSERT_EQ_INT((int)st.runs, k < 16 ? k + 1 : 8);
        TIDE_ASSERT_EQ_INT((int)st.records, total);
        TIDE_ASSERT_EQ_INT((int)st.events, total);
    }
    /* the ten smallest (sequence numbers 1-10) merged into number 18; 11-17 untouched */
    for (int seq = 1; seq <= 18; seq++)
        TIDE_ASSERT_EQ_INT(run_exists(dir, seq), seq > 10);
    seen s = { 0 };
    TIDE_ASSERT_EQ_INT(tide_history_each(h, on_rec, &s), 0);
    TIDE_ASSERT_EQ_INT(s.n, total);
    TIDE_ASSERT_EQ_INT(tide_history_compact(h), 0);
    TIDE_ASSERT_EQ_INT(tide_history_stats_get(h, &st), 0);
    TIDE_ASSERT_EQ_INT((int)st.runs, 1);
    TIDE_ASSERT_EQ_INT((int)st.records, total);
    TIDE_ASSERT_EQ_INT((int)st.events, total);
    TIDE_ASSERT(run_exists(dir, 19) && !run_exists(dir, 18) && !run_exists(dir, 17));
    tide_history_free(h);
}

/* Add one event of one IPv4 observation; the result of tide_history_add. */
static int add1(tide_history *h, const char *file, uint64_t line, int64_t ts, const char *v)
{
    tide_observation o = { .kind = TIDE_OBS_IPV4, .value = v, .len = strlen(v), .field = "f" };
    tide_event ev = { .ts_us = ts, .host = "h", .host_len = 1, .line = line, .obs = &o, .nobs = 1 };
    return tide_history_add(h, file, &ev);
}

static int64_t now_us(void)
{
    return (int64_t)time(NULL) * 1000000;
}

/* Event times: after the clock + the max future, or before 1970, are refused with the reason;
 * retention counts back from the newest day that is not in the future. */
static void t_future(void)
{
    const char *dir = tide_test_tmpdir();
    tide_history *h;
    TIDE_ASSERT_EQ_INT(tide_history_open(&h, dir, true), 0);
    int64_t now = now_us();
    TIDE_ASSERT_EQ_INT(add1(h, "a", 1, now - 10 * DAY, "1.1.1.1"), 0);
    TIDE_ASSERT_EQ_INT(add1(h, "a", 2, now + DAY / 2, "1.1.1.2"), 0); /* within a day */
    TIDE_ASSERT_EQ_INT(add1(h, "a", 3, now + 3 * DAY, "1.1.1.3"), TIDE_EFORMAT);
    TIDE_ASSERT(strstr(tide_error_last(), "after the clock") != NULL);
    TIDE_ASSERT_EQ_INT(add1(h, "a", 4, 4102444800LL * 1000000, "1.1.1.4"), TIDE_EFORMAT);
    TIDE_ASSERT(strstr(tide_error_last(), "2100-01-01T00:00:00Z") != NULL);
    TIDE_ASSERT_EQ_INT(add1(h, "a", 5, -DAY, "1.1.1.5"), TIDE_EFORMAT);
    TIDE_ASSERT(strstr(tide_error_last(), "before 1970") != NULL);
    /* a wider bound lets an event 200 days ahead in; it does not move the window */
    TIDE_ASSERT_EQ_INT(tide_history_set_max_future(h, 400 * 86400000LL), 0);
    TIDE_ASSERT_EQ_INT(add1(h, "a", 6, now + 200 * DAY, "1.1.1.6"), 0);
    TIDE_ASSERT_EQ_INT(tide_history_set_retention(h, 30), 0);
    TIDE_ASSERT_EQ_INT(tide_history_commit(h), 0);
    tide_history_pruned p;
    tide_history_pruned_take(h, &p);
    TIDE_ASSERT_EQ_INT((int)p.days, 0); /* was: every day 170 days before the future one */
    tide_history_stats st;
    TIDE_ASSERT_EQ_INT(tide_history_stats_get(h, &st), 0);
    TIDE_ASSERT(st.partitions >= 3);
    TIDE_ASSERT_EQ_INT((int)st.events, 3);
    tide_history_free(h);
}

/* keep / discard: what was added since the last keep is dropped by a discard, also when it was
 * spilled to runs already; the kept part commits. */
static void t_keep_discard(void)
{
    const char *dir = tide_test_tmpdir();
    setenv("TIDE_HISTORY_SPILL", "3", 1);
    tide_history *h;
    TIDE_ASSERT_EQ_INT(tide_history_open(&h, dir, true), 0);
    char v[32];
    for (int i = 0; i < 10; i++) { /* an input read to its end */
        snprintf(v, sizeof(v), "10.0.0.%d", i);
        TIDE_ASSERT_EQ_INT(add1(h, "good.log", (uint64_t)i + 1, T0 + i, v), 0);
    }
    TIDE_ASSERT_EQ_INT(tide_history_keep(h), 0);
    for (int i = 0; i < 7; i++) { /* an input that ends in an error */
        snprintf(v, sizeof(v), "10.0.1.%d", i);
        TIDE_ASSERT_EQ_INT(add1(h, "bad.log.gz", (uint64_t)i + 1, T0 + DAY + i, v), 0);
    }
    uint64_t dropped = 0;
    TIDE_ASSERT_EQ_INT(tide_history_discard(h, &dropped), 0);
    TIDE_ASSERT_EQ_INT((int)dropped, 7);
    TIDE_ASSERT_EQ_INT(add1(h, "more.log", 1, T0 + 5, "10.0.0.1"), 0); /* kept by commit */
    TIDE_ASSERT_EQ_INT(tide_history_compact(h), 0);
    unsetenv("TIDE_HISTORY_SPILL");
    tide_history_stats st;
    TIDE_ASSERT_EQ_INT(tide_history_stats_get(h, &st), 0);
    TIDE_ASSERT_EQ_INT((int)st.partitions, 1);
    TIDE_ASSERT_EQ_INT((int)st.records, 10);
    TIDE_ASSERT_EQ_INT((int)st.events, 11);
    tide_history_free(h);
    /* nothing of the discarded input is left on disk either */
    char p[600];
    snprintf(p, sizeof(p), "%s/history", dir);
    int n = 0;
    DIR *d = opendir(p);
    TIDE_ASSERT(d != NULL);
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        n += strstr(de->d_name, ".hst") != NULL;
    closedir(d);
    TIDE_ASSERT_EQ_INT(n, 1);
}

/* The recorder thread: far more events than its queue holds (8 jobs of 256 KiB), an input kept,
 * one discarded after spills of its own, one that counts the first one's values again, and
 * a commit: the counts, and the first place of a value seen at the same time in two inputs, are
 * those of the inputs in their order. */
static int on_count(const tide_history_rec *r, void *payload)
{
    seen *s = payload;
    s->n++;
    s->count += r->count;
    if (strcmp(r->value, "10.1.0.7") == 0 &&
            strcmp(r->host, "workstation-0007.example.internal") == 0) {
        snprintf(s->file, sizeof(s->file), "%s", r->file);
        s->line = r->line;
        s->first = r->first_seen_us;
    }
    return 0;
}

static void t_recorder_queue(void)
{
    const char *dir = tide_test_tmpdir();
    setenv("TIDE_HISTORY_SPILL", "20000", 1);
    tide_history *h;
    TIDE_ASSERT_EQ_INT(tide_history_open(&h, dir, true), 0);
    char v[32], host[64];
    const int na = 60000, nb = 40000;
    for (int i = 0; i < na; i++) {
        snprintf(v, sizeof(v), "10.1.%d.%d", i / 250, i % 250);
        snprintf(host, sizeof(host), "workstation-%04d.example.internal", i % 1000);
        add(h, "a.log", (uint64_t)i + 1, T0 + i % 1000, host, TIDE_OBS_IPV4, v);
    }
    TIDE_ASSERT_EQ_INT(tide_history_keep(h), 0);
    for (int i = 0; i < nb; i++) { /* an input that ends in an error, spilled on the way */
        snprintf(v, sizeof(v), "10.2.%d.%d", i / 250, i % 250);
        snprintf(host, sizeof(host), "workstation-%04d.example.internal", i % 1000);
        add(h, "b.log.gz", (uint64_t)i + 1, T0 + i % 1000, host, TIDE_OBS_IPV4, v);
    }
    uint64_t dropped = 0;
    TIDE_ASSERT_EQ_INT(tide_history_discard(h, &dropped), 0);
    TIDE_ASSERT_EQ_INT((int)dropped, nb);
    for (int i = 0; i < na; i++) { /* the same values and times again */
        snprintf(v, sizeof(v), "10.1.%d.%d", i / 250, i % 250);
        snprintf(host, sizeof(host), "workstation-%04d.example.internal", i % 1000);
        add(h, "c.log", (uint64_t)i + 1, T0 + i % 1000, host, TIDE_OBS_IPV4, v);
    }
    TIDE_ASSERT_EQ_INT(tide_history_compact(h), 0);
    unsetenv("TIDE_HISTORY_SPILL");
    tide_history_stats st;
    TIDE_ASSERT_EQ_INT(tide_history_stats_get(h, &st), 0);
    TIDE_ASSERT_EQ_INT((int)st.records, na);
    TIDE_ASSERT_EQ_INT((int)st.events, 2 * na);
    seen s = { 0 };
    TIDE_ASSERT_EQ_INT(tide_history_each(h, on_count, &s), 0);
    TIDE_ASSERT_EQ_INT(s.n, na);
    TIDE_ASSERT_EQ_INT((int)s.count, 2 * na);
    TIDE_ASSERT_EQ_STR(s.file, "a.log"); /* a tie of first times: the earlier input's place */
    TIDE_ASSERT_EQ_INT((int)s.line, 8);
    TIDE_ASSERT(s.first == T0 + 7);
    tide_history_free(h);
}

/* pages resident now (/proc/self/statm), or 0 where there is no such file */
static size_t resident_mb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (f == NULL)
        return 0;
    int n = fscanf(f, "%lu %lu", &size, &res);
    fclose(f);
    return n == 2 ? (size_t)res * (size_t)sysconf(_SC_PAGESIZE) >> 20 : 0;
}

/* A small input takes little memory: the aggregators' tables grow with what they hold (their
 * first tables were sized for the 256 MiB bound: 128 MiB resident for a few records); and what
 * grew is counted right: every record kept, in several growths of both tables. */
static void t_small_memory(void)
{
    const char *dir = tide_test_tmpdir();
    size_t before = resident_mb();
    if (before == 0)
        TIDE_SKIP("no /proc/self/statm");
    tide_history *h;
    TIDE_ASSERT_EQ_INT(tide_history_open(&h, dir, true), 0);
    char v[32];
    for (int i = 0; i < 3000; i++) {
        snprintf(v, sizeof(v), "10.3.%d.%d", i / 250, i % 250);
        add(h, "a.log", (uint64_t)i + 1, T0 + i, "10.0.0.1", TIDE_OBS_IPV4, v);
    }
    TIDE_ASSERT_EQ_INT(tide_history_keep(h), 0);
    add(h, "b.log", 1, T0, "10.0.0.1", TIDE_OBS_IPV4, "10.3.0.1");
    uint64_t dropped = 0;
    TIDE_ASSERT_EQ_INT(tide_history_discard(h, &dropped), 0); /* waits for the recorder */
    TIDE_ASSERT_EQ_INT((int)dropped, 1);
    size_t after = resident_mb();
    fprintf(stderr, "resident: %zu MB before, %zu MB with 3000 records\n", before, after);
    TIDE_ASSERT(after < before + 32);
    /* both tables grow several times: 300 000 distinct records over two inputs */
    for (int i = 0; i < 200000; i++) {
        snprintf(v, sizeof(v), "10.%d.%d.%d", 4 + (i >> 16), (i >> 8) & 255, i & 255);
        add(h, "c.log", (uint64_t)i + 1, T0 + i, "10.0.0.2", TIDE_OBS_IPV4, v);
    }
    TIDE_ASSERT_EQ_INT(tide_history_keep(h), 0);
    for (int i = 0; i < 100000; i++) {
        snprintf(v, sizeof(v), "10.%d.%d.%d", 4 + (i >> 16), (i >> 8) & 255, i & 255);
        add(h, "d.log", (uint64_t)i + 1, T0 + i, "10.0.0.3", TIDE_OBS_IPV4, v);
    }
    TIDE_ASSERT_EQ_INT(tide_history_commit(h), 0);
    tide_history_stats st;
    TIDE_ASSERT_EQ_INT(tide_history_stats_get(h, &st), 0);
    TIDE_ASSERT_EQ_INT((int)st.records, 303000);
    TIDE_ASSERT_EQ_INT((int)st.events, 303000);
    tide_history_free(h);
}

/* every prune says what it removed */
static void t_pruned(void)
{
    const char *dir = tide_test_tmpdir();
    tide_history *h;
    TIDE_ASSERT_EQ_INT(tide_history_open(&h, dir, true), 0);
    for (int d = 0; d < 5; d++)
        for (int i = 0; i <= d; i++) {
            char v[32];
            snprintf(v, sizeof(v), "10.0.%d.%d", d, i);
            TIDE_ASSERT_EQ_INT(add1(h, "a", 1, T0 + d * DAY, v), 0);
        }
    TIDE_ASSERT_EQ_INT(tide_history_commit(h), 0);
    size_t days = 0;
    TIDE_ASSERT_EQ_INT(tide_history_prune(h, (T0 + 3 * DAY) / 1000, &days), 0);
    TIDE_ASSERT_EQ_INT((int)days, 3);
    tide_history_pruned p;
    tide_history_pruned_take(h, &p);
    TIDE_ASSERT_EQ_INT((int)p.days, 3);
    TIDE_ASSERT_EQ_INT((int)p.records, 1 + 2 + 3);
    TIDE_ASSERT_EQ_INT((int)p.events, 6);
    TIDE_ASSERT(p.before_ms == (T0 + 3 * DAY) / 1000);
    tide_history_pruned_take(h, &p);
    TIDE_ASSERT_EQ_INT((int)p.days, 0); /* taken */
    /* the retention of a commit counts too */
    TIDE_ASSERT_EQ_INT(tide_history_set_retention(h, 1), 0);
    TIDE_ASSERT_EQ_INT(tide_history_commit(h), 0);
    tide_history_pruned_take(h, &p);
    TIDE_ASSERT_EQ_INT((int)p.days, 1);
    TIDE_ASSERT_EQ_INT((int)p.records, 4);
    tide_history_free(h);
}

static void t_first_place(void)
{
    const char *dir = tide_test_tmpdir();
    tide_history *h;
    TIDE_ASSERT_EQ_INT(tide_history_open(&h, dir, true), 0);
    add(h, "b.log", 7, T0 + 500, "10.0.0.1", TIDE_OBS_IPV4, "1.2.3.4");
    add(h, "a.log", 3, T0 + 100, "10.0.0.1", TIDE_OBS_IPV4, "1.2.3.4");
    TIDE_ASSERT_EQ_INT(tide_history_commit(h), 0);
    seen s = { 0 };
    TIDE_ASSERT_EQ_INT(tide_history_each(h, on_rec, &s), 0);
    TIDE_ASSERT_EQ_INT((int)s.count, 2);
    TIDE_ASSERT_EQ_INT((int)(s.first - T0), 100);
    TIDE_ASSERT_EQ_INT((int)(s.last - T0), 500);
    TIDE_ASSERT_EQ_STR(s.file, "a.log");
    TIDE_ASSERT_EQ_INT((int)s.line, 3);
    tide_history_free(h);
}

static void t_retention(void)
{
    const char *dir = tide_test_tmpdir();
    tide_history *h;
    TIDE_ASSERT_EQ_INT(tide_history_open(&h, dir, true), 0);
    TIDE_ASSERT_EQ_INT(tide_history_set_retention(h, 30), 0);
    add(h, "a", 1, T0, "h", TIDE_OBS_IPV4, "1.1.1.1");
    add(h, "a", 2, T0 + 29 * DAY, "h", TIDE_OBS_IPV4, "1.1.1.1");
    add(h, "a", 3, T0 + 30 * DAY, "h", TIDE_OBS_IPV4, "1.1.1.1");
    TIDE_ASSERT_EQ_INT(tide_history_commit(h), 0);
    tide_history_free(h);
    TIDE_ASSERT_EQ_INT(tide_history_open(&h, dir, false), 0);
    tide_history_stats st;
    tide_history_stats_get(h, &st);
    TIDE_ASSERT_EQ_INT(st.retention_days, 30); /* persisted */
    TIDE_ASSERT_EQ_INT((int)st.partitions, 2); /* day 0 is 30 days older than the newest */
    tide_history_free(h);
}

static void t_corrupt(void)
{
    const char *dir = tide_test_tmpdir();
    tide_history *h;
    TIDE_ASSERT_EQ_INT(tide_history_open(&h, dir, true), 0);
    char v[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(v, sizeof(v), "10.%d.%d.1", i / 250, i % 250);
        add(h, "a.log", (uint64_t)i + 1, T0 + i, "h", TIDE_OBS_IPV4, v);
    }
    TIDE_ASSERT_EQ_INT(tide_history_commit(h), 0);
    tide_history_free(h);
    char path[600];
    snprintf(path, sizeof(path), "%s/history/1970-01-01.000001.hst", dir);
    /* the day of T0 */
    snprintf(path, sizeof(path), "%s/history/2024-10-04.000001.hst", dir);
    FILE *f = fopen(path, "r+b");
    TIDE_ASSERT(f != NULL);
    fseek(f, 300, SEEK_SET);
    int c = fgetc(f);
    fseek(f, 300, SEEK_SET);
    fputc(c ^ 1, f);
    fclose(f);
    TIDE_ASSERT_EQ_INT(tide_history_open(&h, dir, false), 0);
    seen s = { 0 };
    int rc = tide_history_each(h, on_rec, &s);
    TIDE_ASSERT_EQ_INT(rc, TIDE_EFORMAT);
    TIDE_ASSERT(strstr(tide_error_last(), "2024-10-04.000001.hst") != NULL);
    TIDE_ASSERT(strstr(tide_error_last(), "checksum") != NULL);
    TIDE_ASSERT(truncate(path, 100) == 0);
    TIDE_ASSERT_EQ_INT(tide_history_each(h, on_rec, &s), TIDE_EFORMAT);
    TIDE_ASSERT(strstr(tide_error_last(), "truncated") != NULL);
    tide_history_free(h);
}

/* Every record of a history as text lines, in the order tide_history_each gives them. */
typedef struct {
    char *text;
    size_t len, cap;
    int n;
} rec_lines;

static int on_line(const tide_history_rec *r, void *payload)
{
    rec_lines *l = payload;
    char b[512];
    int n = snprintf(b, sizeof(b), "%d %s %s %lld %lld %llu %s %llu\n", (int)r->kind, r->value,
            r->host, (long long)r->first_seen_us, (long long)r->last_seen_us,
            (unsigned long long)r->count, r->file, (unsigned long long)r->line);
    if (l->len + (size_t)n + 1 > l->cap) {
        l->cap = (l->len + (size_t)n + 1) * 2;
        l->text = realloc(l->text, l->cap);
        TIDE_ASSERT(l->text != NULL);
    }
    memcpy(l->text + l->len, b, (size_t)n + 1);
    l->len += (size_t)n;
    l->n++;
    return 0;
}

/* An event of observations whose addresses the reader parsed (addr_len set, as tel_obs.c sets
 * it) is recorded exactly as the same event with the text alone: the recorder takes the parsed
 * address as the key (IPv4, IPv6, IPv4 ip:port) and encodes the text of the rest, an
 * IPv4-mapped IPv6 address included (an IPv4 key). */
static void add_addrs(tide_history *h, bool parsed, int64_t ts, int i)
{
    char v4[32], v6[64], m6[64], ipp[32];
    snprintf(v4, sizeof(v4), "10.%d.%d.7", i / 200, i % 200);
    snprintf(v6, sizeof(v6), "2001:db8::%x", i + 1);
    snprintf(m6, sizeof(m6), "::ffff:192.0.2.%d", i % 250);
    snprintf(ipp, sizeof(ipp), "198.51.100.%d:%d", i % 250, 1000 + i);
    tide_observation o[5] = {
        { .kind = TIDE_OBS_IPV4, .value = v4, .len = strlen(v4), .field = "a" },
        { .kind = TIDE_OBS_IPV6, .value = v6, .len = strlen(v6), .field = "b" },
        { .kind = TIDE_OBS_IPV6, .value = m6, .len = strlen(m6), .field = "c" },
        { .kind = TIDE_OBS_IP_PORT, .value = ipp, .len = strlen(ipp), .field = "d" },
        { .kind = TIDE_OBS_DOMAIN, .value = "Www.Example.ORG", .len = 15, .field = "e" },
    };
    if (parsed) {
        o[0].addr_len = 4;
        memcpy(o[0].addr, (uint8_t[]){ 10, (uint8_t)(i / 200), (uint8_t)(i % 200), 7 }, 4);
        o[1].addr_len = 16;
        memset(o[1].addr, 0, 16);
        memcpy(o[1].addr, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8 }, 4);
        o[1].addr[14] = (uint8_t)((i + 1) >> 8);
        o[1].addr[15] = (uint8_t)(i + 1);
        o[2].addr_len = 16;
        memset(o[2].addr, 0, 16);
        o[2].addr[10] = o[2].addr[11] = 0xff;
        memcpy(o[2].addr + 12, (uint8_t[]){ 192, 0, 2, (uint8_t)(i % 250) }, 4);
        o[3].addr_len = 6;
        memcpy(o[3].addr,
                (uint8_t[]){ 198, 51, 100, (uint8_t)(i % 250), (uint8_t)((1000 + i) >> 8),
                        (uint8_t)(1000 + i) },
                6);
    }
    tide_event ev = { .ts_us = ts,
        .host = "10.0.0.9",
        .host_len = 8,
        .kind = "conn",
        .line = (uint64_t)i + 1,
        .obs = o,
        .nobs = 5 };
    TIDE_ASSERT_EQ_INT(tide_history_add(h, "p.log", &ev), 0);
}

static void t_parsed_addresses(void)
{
    rec_lines l[2] = { { 0 }, { 0 } };
    for (int parsed = 0; parsed < 2; parsed++) {
        char dir[512];
        snprintf(dir, sizeof(dir), "%s", tide_test_tmpdir());
        tide_history *h;
        TIDE_ASSERT_EQ_INT(tide_history_open(&h, dir, true), 0);
        for (int i = 0; i < 3000; i++)
            add_addrs(h, parsed, T0 + (int64_t)i * 1000000 + (i % 3) * DAY, i);
        TIDE_ASSERT_EQ_INT(tide_history_commit(h), 0);
        TIDE_ASSERT_EQ_INT(tide_history_each(h, on_line, &l[parsed]), 0);
        tide_history_free(h);
    }
    /* 3000 of each address kind, the mapped ones as 250 IPv4 addresses a day, one name a day */
    TIDE_ASSERT_EQ_INT(l[0].n, 3000 * 3 + 250 * 3 + 3);
    TIDE_ASSERT_EQ_INT(l[1].n, l[0].n);
    TIDE_ASSERT(strcmp(l[0].text, l[1].text) == 0);
    TIDE_ASSERT(strstr(l[1].text, " 192.0.2.7 ") != NULL);
    TIDE_ASSERT(strstr(l[1].text, " 198.51.100.7:1007 ") != NULL);
    TIDE_ASSERT(strstr(l[1].text, " 2001:db8::8 ") != NULL);
    free(l[0].text);
    free(l[1].text);
}

/* Records come out of a spill sorted by (day, key, host) whatever the days and key lengths:
 * keys that share their first 8 bytes (URLs of one path, names of one suffix, the same address
 * from many hosts) over one day, then over three days, with and without forced spills. */
typedef struct {
    int n, bad;
    int64_t day;
    uint8_t key[HIST_MAX_KEY];
    int klen;
    char host[64];
    uint64_t events;
} order_state;

static int on_order(const tide_history_rec *r, void *payload)
{
    order_state *o = payload;
    uint8_t k[HIST_MAX_KEY];
    int n = tide__hist_key(r->kind, r->value, strlen(r->value), k);
    int64_t day = r->first_seen_us / DAY;
    if (n <= 0)
        o->bad++;
    else if (o->n > 0 && day == o->day) {
        int c = tide__hist_keycmp(o->key, (size_t)o->klen, k, (size_t)n);
        if (c > 0 || (c == 0 && strcmp(o->host, r->host) >= 0))
            o->bad++;
    } else if (o->n > 0 && day < o->day) {
        o->bad++;
    }
    o->day = day;
    if (n > 0)
        memcpy(o->key, k, (size_t)n);
    o->klen = n;
    snprintf(o->host, sizeof(o->host), "%s", r->host);
    o->events += r->count;
    o->n++;
    return 0;
}

static void t_spill_order(void)
{
    for (int round = 0; round < 4; round++) {
        bool days3 = round & 1, forced = round & 2;
        if (forced)
            setenv("TIDE_HISTORY_SPILL", "700", 1);
        char dir[512];
        snprintf(dir, sizeof(dir), "%s", tide_test_tmpdir());
        tide_history *h;
        TIDE_ASSERT_EQ_INT(tide_history_open(&h, dir, true), 0);
        char v[128], host[32];
        int added = 0;
        for (int i = 0; i < 2400; i++) {
            int64_t ts = T0 + (int64_t)(i % 997) * 1000000 + (days3 ? (i % 3) * DAY : 0);
            snprintf(host, sizeof(host), "10.1.%d.%d", i % 7, (i * 13) % 11);
            switch (i % 4) {
                case 0: snprintf(v, sizeof(v), "http://h%d.example/a/b/index.html", i % 301); break;
                case 1: snprintf(v, sizeof(v), "x%d.evil.example.com", (i * 7) % 401); break;
                case 2: snprintf(v, sizeof(v), "203.0.113.%d", i % 5); break;
                default: snprintf(v, sizeof(v), "h%d.example", i % 13); break;
            }
            tide_obs_kind k = i % 4 == 0   ? TIDE_OBS_URL
                              : i % 4 == 2 ? TIDE_OBS_IPV4
                                           : TIDE_OBS_DOMAIN;
            add(h, i % 2 ? "o.log" : "p.log", (uint64_t)i + 1, ts, host, k, v);
            added++;
            if (i % 600 == 599)
                TIDE_ASSERT_EQ_INT(tide_history_keep(h), 0);
        }
        TIDE_ASSERT_EQ_INT(tide_history_compact(h), 0);
        if (forced)
            unsetenv("TIDE_HISTORY_SPILL");
        order_state o = { 0 };
        TIDE_ASSERT_EQ_INT(tide_history_each(h, on_order, &o), 0);
        tide_history_free(h);
        TIDE_ASSERT_EQ_INT(o.bad, 0);
        TIDE_ASSERT_EQ_INT((int)o.events, added); /* one count per event */
        TIDE_ASSERT(o.n > 1000);
    }
}

/* what an aggregator entry keeps at the edges of its packed fields: a line above 2^32 and above
 * 2^54, the first and the last microsecond of a day, counts past the 32 bits of an entry (made
 * small by TIDE_HISTORY_WIDE), through keeps (the staging aggregator folded into the kept one
 * both ways), a discard and spills */
typedef struct {
    const char *value;
    int n;
    uint64_t count, line;
    int64_t first, last;
    char file[64];
} want_rec;

static int on_want(const tide_history_rec *r, void *payload)
{
    want_rec *w = payload;
    if (strcmp(r->value, w->value) == 0 && strcmp(r->host, "10.0.0.1") == 0) {
        w->n++;
        w->count = r->count;
        w->line = r->line;
        w->first = r->first_seen_us;
        w->last = r->last_seen_us;
        snprintf(w->file, sizeof(w->file), "%s", r->file);
    }
    return 0;
}

static void t_entry_edges(void)
{
    const uint64_t big = (1ull << 53) + 5, huge = (1ull << 60) + 3;
    for (int round = 0; round < 4; round++) {
        if (round & 1)
            setenv("TIDE_HISTORY_WIDE", "3", 1);
        if (round & 2)
            setenv("TIDE_HISTORY_SPILL", "1", 1);
        char dir[512];
        snprintf(dir, sizeof(dir), "%s", tide_test_tmpdir());
        tide_history *h;
        TIDE_ASSERT_EQ_INT(tide_history_open(&h, dir, true), 0);
        /* input a: the last microsecond of the day, then 4 more */
        add(h, "a.log", 1ull << 33, T0 + DAY - 1, "10.0.0.1", TIDE_OBS_IPV4, "1.2.3.4");
        for (int i = 0; i < 4; i++)
            add(h, "a.log", 10 + (uint64_t)i, T0 + 500, "10.0.0.1", TIDE_OBS_IPV4, "1.2.3.4");
        add(h, "a.log", big, T0 + 7, "10.0.0.1", TIDE_OBS_IPV4, "5.6.7.8");
        TIDE_ASSERT_EQ_INT(tide_history_keep(h), 0);
        /* input b: the day's first microsecond, at a line past 54 bits; a tie after it keeps
         * the first place */
        add(h, "b.log", huge, T0, "10.0.0.1", TIDE_OBS_IPV4, "1.2.3.4");
        add(h, "b.log", 9, T0, "10.0.0.1", TIDE_OBS_IPV4, "1.2.3.4");
        TIDE_ASSERT_EQ_INT(tide_history_keep(h), 0);
        /* input c: discarded */
        for (int i = 0; i < 6; i++)
            add(h, "c.log", 1, T0 + 1, "10.0.0.1", TIDE_OBS_IPV4, "1.2.3.4");
        uint64_t dropped = 0;
        TIDE_ASSERT_EQ_INT(tide_history_discard(h, &dropped), 0);
        TIDE_ASSERT_EQ_INT((int)dropped, 6);
        /* input d: 7 more, the staging aggregator larger than the kept one at its keep */
        for (int i = 0; i < 7; i++) {
            add(h, "d.log", 100 + (uint64_t)i, T0 + 900, "10.0.0.1", TIDE_OBS_IPV4, "1.2.3.4");
            char v[32];
            snprintf(v, sizeof(v), "9.9.9.%d", i);
            add(h, "d.log", 1, T0 + 900, "10.0.0.1", TIDE_OBS_IPV4, v);
        }
        TIDE_ASSERT_EQ_INT(tide_history_compact(h), 0);
        unsetenv("TIDE_HISTORY_WIDE");
        unsetenv("TIDE_HISTORY_SPILL");
        want_rec a = { .value = "1.2.3.4" }, b = { .value = "5.6.7.8" };
        TIDE_ASSERT_EQ_INT(tide_history_each(h, on_want, &a), 0);
        TIDE_ASSERT_EQ_INT(tide_history_each(h, on_want, &b), 0);
        tide_history_free(h);
        TIDE_ASSERT_EQ_INT(a.n, 1);
        TIDE_ASSERT(a.count == 14); /* 5 + 2 + 7: one count per event */
        TIDE_ASSERT(a.first == T0);
        TIDE_ASSERT(a.last == T0 + DAY - 1);
        TIDE_ASSERT_EQ_STR(a.file, "b.log");
        TIDE_ASSERT(a.line == huge);
        TIDE_ASSERT_EQ_INT(b.n, 1);
        TIDE_ASSERT(b.count == 1);
        TIDE_ASSERT(b.line == big);
        TIDE_ASSERT(b.first == T0 + 7 && b.last == T0 + 7);
    }
}

/* keep / discard against a model: random inputs, each kept or discarded (an entry counted before
 * and after a keep is restored by a discard, the entries it added are removed), with and without
 * spills in the middle of an input; every record's count, first, last and place checked */
#define M_VALS  40
#define M_HOSTS 3
#define M_DAYS  2
typedef struct {
    uint64_t count, line;
    int64_t first, last;
    int file;
} m_rec;

typedef struct {
    m_rec *m;
    int bad, n;
} m_state;

static int on_model(const tide_history_rec *r, void *payload)
{
    m_state *st = payload;
    int v = -1, hh = -1, f = -1;
    sscanf(r->value, "10.9.0.%d", &v);
    sscanf(r->host, "h%d", &hh);
    sscanf(r->file, "in%d", &f);
    int d = (int)(r->first_seen_us / DAY - T0 / DAY);
    st->n++;
    if (v < 0 || v >= M_VALS || hh < 0 || hh >= M_HOSTS || d < 0 || d >= M_DAYS) {
        st->bad++;
        return 0;
    }
    const m_rec *w = &st->m[(d * M_HOSTS + hh) * M_VALS + v];
    if (w->count != r->count || w->first != r->first_seen_us || w->last != r->last_seen_us ||
            w->file != f || w->line != r->line) {
        fprintf(stderr, "%s %s day %d: count %llu/%llu first %lld/%lld last %lld/%lld in%d/%d\n",
                r->value, r->host, d, (unsigned long long)r->count, (unsigned long long)w->count,
                (long long)r->first_seen_us, (long long)w->first, (long long)r->last_seen_us,
                (long long)w->last, f, w->file);
        st->bad++;
    }
    return 0;
}

static void t_keep_discard_model(void)
{
    static const char *spills[] = { NULL, "5", "37" };
    uint32_t rnd = 12345;
    for (int round = 0; round < 6; round++) {
        if (spills[round % 3])
            setenv("TIDE_HISTORY_SPILL", spills[round % 3], 1);
        char dir[512];
        snprintf(dir, sizeof(dir), "%s", tide_test_tmpdir());
        tide_history *h;
        TIDE_ASSERT_EQ_INT(tide_history_open(&h, dir, true), 0);
        m_rec model[M_DAYS * M_HOSTS * M_VALS];
        memset(model, 0, sizeof(model));
        int nrec = 0;
        for (int in = 0; in < 12; in++) {
            m_rec before[M_DAYS * M_HOSTS * M_VALS];
            memcpy(before, model, sizeof(model));
            int nbefore = nrec;
            char file[16];
            snprintf(file, sizeof(file), "in%d", in);
            int nev = 1 + (int)((rnd = rnd * 1103515245u + 12345u) >> 16) % 60;
            for (int i = 0; i < nev; i++) {
                rnd = rnd * 1103515245u + 12345u;
                int v = (int)(rnd >> 8) % M_VALS, hh = (int)(rnd >> 20) % M_HOSTS;
                int d = (int)(rnd >> 28) % M_DAYS;
                int64_t ts = T0 + d * DAY + (int64_t)((rnd >> 4) % 50) * 1000;
                char val[32], host[8];
                snprintf(val, sizeof(val), "10.9.0.%d", v);
                snprintf(host, sizeof(host), "h%d", hh);
                uint64_t line = (uint64_t)i + 1;
                add(h, file, line, ts, host, TIDE_OBS_IPV4, val);
                m_rec *m = &model[(d * M_HOSTS + hh) * M_VALS + v];
                if (m->count == 0) {
                    *m = (m_rec){ 1, line, ts, ts, in };
                    nrec++;
                } else {
                    m->count++;
                    if (ts < m->first) {
                        m->first = ts;
                        m->file = in;
                        m->line = line;
                    }
                    if (ts > m->last)
                        m->last = ts;
                }
            }
            if (((rnd >> 12) & 3) == 0) { /* a quarter of the inputs are discarded */
                uint64_t dropped = 0;
                TIDE_ASSERT_EQ_INT(tide_history_discard(h, &dropped), 0);
                TIDE_ASSERT_EQ_INT((int)dropped, nev);
                memcpy(model, before, sizeof(model));
                nrec = nbefore;
            } else {
                TIDE_ASSERT_EQ_INT(tide_history_keep(h), 0);
            }
        }
        TIDE_ASSERT_EQ_INT(tide_history_compact(h), 0);
        unsetenv("TIDE_HISTORY_SPILL");
        m_state st = { model, 0, 0 };
        TIDE_ASSERT_EQ_INT(tide_history_each(h, on_model, &st), 0);
        tide_history_free(h);
        TIDE_ASSERT_EQ_INT(st.bad, 0);
        TIDE_ASSERT_EQ_INT(st.n, nrec);
        TIDE_ASSERT(nrec > 50);
    }
}

/* A checkpoint after a big input (`tide match --follow`): an input spilled in its middle before
 * anything was kept (the aggregator's table cleared for what follows), a few entries more, a
 * commit, then the same observations again. The table had grown for the spill (2^18 slots), so
 * the commit's spill of the few entries sorted them elsewhere, and the table's reset has to clear
 * their slots: it once trusted a "cleared" flag set before they were counted, left them, and the
 * next input's observations were counted into entries of the committed run (lost). */
typedef struct {
    uint64_t n, twice, once, bad;
} ckpt_state;

static int on_ckpt(const tide_history_rec *r, void *payload)
{
    ckpt_state *c = payload;
    c->n++;
    unsigned a, b, d, v; /* "10.A.B.D": v = A * 65536 + B * 256 + D */
    if (sscanf(r->value, "10.%u.%u.%u", &a, &b, &d) != 3)
        return c->bad++, 0;
    v = a * 65536 + b * 256 + d;
    if (v < 2000 && r->count == 2)
        c->twice++;
    else if (v >= 2000 && r->count == 1)
        c->once++;
    else
        c->bad++;
    return 0;
}

static void t_checkpoint_after_spill(void)
{
    setenv("TIDE_HISTORY_SPILL", "100000", 1);
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/ckpt", tide_test_tmpdir());
    tide_history *h;
    TIDE_ASSERT_EQ_INT(tide_history_open(&h, dir, true), 0);
    char val[32];
    /* input A: 102 000 values, spilled at 100 000 with nothing kept yet */
    for (int i = 0; i < 102000; i++) {
        int v = (i + 2000) % 102000; /* the last 2 000 counted are values 0 .. 1 999 */
        snprintf(val, sizeof(val), "10.%d.%d.%d", v >> 16, (v >> 8) & 255, v & 255);
        add(h, "a.log", (uint64_t)i + 1, T0 + (int64_t)i, "h1", TIDE_OBS_IPV4, val);
    }
    TIDE_ASSERT_EQ_INT(tide_history_keep(h), 0);
    TIDE_ASSERT_EQ_INT(tide_history_commit(h), 0);
    /* input B, after the checkpoint: values 1 999 .. 0 again (the newest entries of A first) */
    for (int v = 1999; v >= 0; v--) {
        snprintf(val, sizeof(val), "10.%d.%d.%d", v >> 16, (v >> 8) & 255, v & 255);
        add(h, "b.log", (uint64_t)v + 1, T0 + 200000 + v, "h1", TIDE_OBS_IPV4, val);
    }
    TIDE_ASSERT_EQ_INT(tide_history_keep(h), 0);
    TIDE_ASSERT_EQ_INT(tide_history_compact(h), 0);
    unsetenv("TIDE_HISTORY_SPILL");
    ckpt_state c = { 0 };
    TIDE_ASSERT_EQ_INT(tide_history_each(h, on_ckpt, &c), 0);
    tide_history_free(h);
    TIDE_ASSERT_EQ_INT((int)c.n, 102000);
    TIDE_ASSERT_EQ_INT((int)c.twice, 2000);
    TIDE_ASSERT_EQ_INT((int)c.once, 100000);
    TIDE_ASSERT_EQ_INT((int)c.bad, 0);
}

/* the aggregator's table doubles four times (64 Ki slots and up) with every value still found
 * after: each of 150 000 values is counted again, in another order, once the table has grown,
 * and again in the next input (the kept entries looked up through the grown table) */
typedef struct {
    uint64_t n, twice, bad;
} grow_state;

static int on_grow(const tide_history_rec *r, void *payload)
{
    grow_state *g = payload;
    g->n++;
    if (r->count == 3)
        g->twice++;
    else
        g->bad++;
    return 0;
}

static void t_table_growth(void)
{
    const char *dir = tide_test_tmpdir();
    tide_history *h;
    TIDE_ASSERT_EQ_INT(tide_history_open(&h, dir, true), 0);
    enum {
        N = 150000
    };
    char v[32];
    for (int i = 0; i < N; i++) {
        snprintf(v, sizeof(v), "10.%d.%d.%d", 20 + (i >> 16), (i >> 8) & 255, i & 255);
        add(h, "a.log", (uint64_t)i + 1, T0 + i, "10.0.0.1", TIDE_OBS_IPV4, v);
    }
    for (int k = 0; k < N; k++) {
        int i = (int)(((uint64_t)k * 7919u) % N); /* another order */
        snprintf(v, sizeof(v), "10.%d.%d.%d", 20 + (i >> 16), (i >> 8) & 255, i & 255);
        add(h, "a.log", (uint64_t)N + (uint64_t)k + 1, T0 + i, "10.0.0.1", TIDE_OBS_IPV4, v);
    }
    TIDE_ASSERT_EQ_INT(tide_history_keep(h), 0);
    for (int i = N - 1; i >= 0; i--) {
        snprintf(v, sizeof(v), "10.%d.%d.%d", 20 + (i >> 16), (i >> 8) & 255, i & 255);
        add(h, "b.log", (uint64_t)i + 1, T0 + i, "10.0.0.1", TIDE_OBS_IPV4, v);
    }
    TIDE_ASSERT_EQ_INT(tide_history_commit(h), 0);
    grow_state g = { 0 };
    TIDE_ASSERT_EQ_INT(tide_history_each(h, on_grow, &g), 0);
    tide_history_free(h);
    TIDE_ASSERT(g.n == N);
    TIDE_ASSERT(g.twice == N);
    TIDE_ASSERT(g.bad == 0);
}

/* A run's dictionary names the hosts and files its own records use: an import of three days,
 * each with its own hosts and file, writes three runs of two hosts and one file each (every run
 * held all six hosts and three files before), with and without spills on the way. */
static void check_run_names(const char *dir, int want_runs)
{
    DIR *d = opendir(dir);
    TIDE_ASSERT(d != NULL);
    int runs = 0;
    for (struct dirent *de; d && (de = readdir(d)) != NULL;) {
        size_t n = strlen(de->d_name);
        if (n < 4 || strcmp(de->d_name + n - 4, ".hst") != 0)
            continue;
        char path[8192];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        hist_file *f = NULL;
        TIDE_ASSERT_EQ_INT(tide__hist_file_open(&f, path), 0);
        if (f == NULL)
            continue;
        runs++;
        const hist_header *hd = tide__hist_file_header(f);
        TIDE_ASSERT_EQ_INT((int)hd->nhosts, 2);
        TIDE_ASSERT_EQ_INT((int)hd->nfiles, 1);
        int day = hd->day - (int)(T0 / DAY);
        char want[64];
        snprintf(want, sizeof(want), "day-%d.log", day);
        TIDE_ASSERT_EQ_STR(tide__hist_file_name(f, 0), want);
        for (uint32_t i = 0; i < hd->nhosts; i++) {
            snprintf(want, sizeof(want), "10.0.%d.%u", day, i + 1); /* in name order */
            TIDE_ASSERT_EQ_STR(tide__hist_file_host(f, i), want);
        }
        tide__hist_file_free(f);
    }
    closedir(d);
    TIDE_ASSERT_EQ_INT(runs, want_runs);
}

static void t_run_names(void)
{
    for (int spill = 0; spill < 2; spill++) {
        char dir[1024];
        snprintf(dir, sizeof(dir), "%s/names-%d", tide_test_tmpdir(), spill);
        if (spill)
            setenv("TIDE_HISTORY_SPILL", "3", 1);
        tide_history *h;
        TIDE_ASSERT_EQ_INT(tide_history_open(&h, dir, true), 0);
        tide_history_set_keep(h, true);
        for (int d = 0; d < 3; d++)
            for (int j = 1; j <= 2; j++)
                for (int k = 0; k < 2; k++) {
                    char file[32], host[32], v[32];
                    snprintf(file, sizeof(file), "day-%d.log", d);
                    snprintf(host, sizeof(host), "10.0.%d.%d", d, j);
                    snprintf(v, sizeof(v), "192.0.2.%d", 10 * d + 2 * k + j);
                    add(h, file, (uint64_t)(2 * j + k), T0 + d * DAY + 1000 * j + k, host,
                            TIDE_OBS_IPV4, v);
                }
        TIDE_ASSERT_EQ_INT(tide_history_commit(h), 0);
        unsetenv("TIDE_HISTORY_SPILL");
        tide_history_stats st;
        TIDE_ASSERT_EQ_INT(tide_history_stats_get(h, &st), 0);
        TIDE_ASSERT_EQ_INT((int)st.records, 12);
        TIDE_ASSERT_EQ_INT((int)st.events, 12);
        tide_history_free(h);
        strcat(dir, "/history");
        check_run_names(dir, 3);
    }
}

/* ---- tide__hist_writer_fill: the records of a run encoded and compressed on every core ----
 * The same sorted records written one by one (tide__hist_writer_add_ids) and through fill, cut
 * into many chunks (a small size estimate) or one: every record read back the same, in order,
 * with the header's counts; keys up to HIST_MAX_KEY (blocks stay within what the reader
 * accepts); and a fill that fails in a middle chunk returns its error and writes nothing. */
#define FILL_N 20000

typedef struct {
    uint8_t key[HIST_MAX_KEY];
    size_t key_len;
    uint32_t host, file;
    int64_t first, last;
    uint64_t count, line;
} fill_rec;

static fill_rec *fill_recs(void)
{
    fill_rec *v = calloc(FILL_N, sizeof(*v));
    TIDE_ASSERT(v != NULL);
    for (size_t i = 0; v && i < FILL_N; i++) {
        fill_rec *r = &v[i];
        /* sorted keys: a 4-byte prefix of i, then a length that varies (long every 997th) */
        r->key_len = i % 997 == 5 ? HIST_MAX_KEY : 5 + (i * 7919) % 60;
        r->key[0] = 3;
        r->key[1] = (uint8_t)(i >> 16);
        r->key[2] = (uint8_t)(i >> 8);
        r->key[3] = (uint8_t)i;
        for (size_t k = 4; k < r->key_len; k++)
            r->key[k] = (uint8_t)(i * 31 + k);
        r->host = (uint32_t)(i % 3);
        r->file = (uint32_t)(i % 2);
        r->first = 20000LL * DAY + (int64_t)(i * 4099 % 86400000) * 1000;
        r->last = r->first + (int64_t)(i % 5) * 1000000;
        r->count = 1 + i % 4;
        r->line = 1 + i * 13;
    }
    return v;
}

typedef struct {
    const fill_rec *v;
    size_t fail_at; /* a record index whose chunk fails, or SIZE_MAX */
} fill_ctx;

static int fill_cb(void *ctx, size_t from, size_t to, hist_chunk *c)
{
    const fill_ctx *f = ctx;
    for (size_t i = from; i < to; i++) {
        if (i == f->fail_at)
            return tide_error_set(TIDE_EIO, "record %zu failed on purpose", i);
        const fill_rec *r = &f->v[i];
        int rc = tide__hist_chunk_add(
                c, r->key, r->key_len, r->host, r->first, r->last, r->count, r->file, r->line);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static const char *const fill_hosts[] = { "10.0.0.1", "10.0.0.2", "10.0.0.3" };
static const char *const fill_files[] = { "a.log", "b.log" };

/* Write v into path by fill (rec_bytes > 0) or one by one (0). */
static int fill_write(const char *path, const fill_rec *v, size_t rec_bytes, size_t fail_at)
{
    hist_writer *w = NULL;
    int rc = tide__hist_writer_new(&w, path, 20000);
    if (rc < 0)
        return rc;
    rc = tide__hist_writer_names(w, fill_hosts, 3, fill_files, 2);
    uint64_t events = 0, want = 0;
    for (size_t i = 0; i < FILL_N; i++)
        want += v[i].count;
    if (rc == 0 && rec_bytes) {
        fill_ctx f = { v, fail_at };
        rc = tide__hist_writer_fill(w, FILL_N, rec_bytes, fill_cb, &f, &events);
        if (rc == 0)
            TIDE_ASSERT(events == want);
    }
    for (size_t i = 0; rc == 0 && !rec_bytes && i < FILL_N; i++)
        rc = tide__hist_writer_add_ids(w, v[i].key, v[i].key_len, v[i].host, v[i].first, v[i].last,
                v[i].count, v[i].file, v[i].line);
    if (rc < 0) {
        tide__hist_writer_abort(w);
        return rc;
    }
    return tide__hist_writer_close(w, NULL, NULL);
}

static void fill_check(const char *path, const fill_rec *v)
{
    hist_file *f = NULL;
    TIDE_ASSERT_EQ_INT(tide__hist_file_open(&f, path), 0);
    if (f == NULL)
        return;
    const hist_header *hd = tide__hist_file_header(f);
    TIDE_ASSERT(hd->nrec == FILL_N);
    uint64_t want = 0;
    for (size_t i = 0; i < FILL_N; i++)
        want += v[i].count;
    TIDE_ASSERT(hd->events == want);
    hist_cursor c;
    tide__hist_cursor_init(&c, f);
    size_t i = 0, bad = 0;
    int rc;
    while ((rc = tide__hist_cursor_next(&c)) == 1 && i < FILL_N) {
        const hist_rec *r = &c.rec;
        const fill_rec *e = &v[i++];
        if (r->key_len != e->key_len || memcmp(r->key, e->key, e->key_len) != 0 ||
                r->host != e->host || r->file != e->file || r->first != e->first ||
                r->last != e->last || r->count != e->count || r->line != e->line)
            bad++;
    }
    TIDE_ASSERT_EQ_INT(rc, 0);
    TIDE_ASSERT_EQ_INT((int)i, FILL_N);
    TIDE_ASSERT_EQ_INT((int)bad, 0);
    tide__hist_cursor_free(&c);
    tide__hist_file_free(f);
}

static void t_writer_fill(void)
{
    fill_rec *v = fill_recs();
    if (v == NULL)
        return;
    char one[1024], many[1024], whole[1024], failed[1024];
    snprintf(one, sizeof(one), "%s/fill-one.hst", tide_test_tmpdir());
    snprintf(many, sizeof(many), "%s/fill-many.hst", tide_test_tmpdir());
    snprintf(whole, sizeof(whole), "%s/fill-whole.hst", tide_test_tmpdir());
    snprintf(failed, sizeof(failed), "%s/fill-failed.hst", tide_test_tmpdir());
    TIDE_ASSERT_EQ_INT(fill_write(one, v, 0, SIZE_MAX), 0);
    TIDE_ASSERT_EQ_INT(fill_write(many, v, 4096, SIZE_MAX), 0); /* 64 records a chunk */
    TIDE_ASSERT_EQ_INT(fill_write(whole, v, 1, SIZE_MAX), 0);   /* one chunk */
    fill_check(one, v);
    fill_check(many, v);
    fill_check(whole, v);
    /* one chunk writes the blocks add_ids does: the same file */
    struct stat a, b;
    TIDE_ASSERT(stat(one, &a) == 0 && stat(whole, &b) == 0 && a.st_size == b.st_size);
    TIDE_ASSERT_EQ_INT(fill_write(failed, v, 4096, FILL_N / 2), TIDE_EIO);
    TIDE_ASSERT(strstr(tide_error_last(), "failed on purpose") != NULL);
    TIDE_ASSERT(access(failed, F_OK) != 0);
    free(v);
}

/* ---- the compaction's merge cut into parts by key, on both threads ----
 * The same 150 000 observations (hashes, addresses and names, several hosts and files, repeats)
 * recorded once without spills and once with a spill every 17 000 entries: the commit then
 * merges runs of well over 64 blocks together, in parts; every record must come out as from one
 * aggregator, in the same order. */
typedef struct {
    tide_buf all;
    size_t n;
} rec_list;

static int on_list(const tide_history_rec *r, void *payload)
{
    rec_list *l = payload;
    char line[600];
    int n = snprintf(line, sizeof(line), "%d %s %s %lld %lld %llu %s %llu\n", (int)r->kind,
            r->value, r->host, (long long)r->first_seen_us, (long long)r->last_seen_us,
            (unsigned long long)r->count, r->file, (unsigned long long)r->line);
    l->n++;
    return tide__buf_put(&l->all, line, (size_t)n);
}

static void merge_parts_record(const char *dir, const char *spill, rec_list *out)
{
    if (spill)
        setenv("TIDE_HISTORY_SPILL", spill, 1);
    tide_history *h;
    TIDE_ASSERT_EQ_INT(tide_history_open(&h, dir, true), 0);
    tide_history_set_keep(h, true);
    char v[128], host[32], file[32];
    for (int i = 0; i < 150000; i++) {
        int j = (int)(((unsigned)i * 2654435761u) % 110000u); /* some seen again */
        snprintf(host, sizeof(host), "10.2.%d.%d", j % 5, j % 3);
        snprintf(file, sizeof(file), "f%d.log", i / 50000);
        tide_obs_kind k;
        switch (j % 3) {
            case 0:
                k = TIDE_OBS_SHA256;
                snprintf(v, sizeof(v), "%064x", (unsigned)j * 40503u);
                break;
            case 1:
                k = TIDE_OBS_IPV4;
                snprintf(v, sizeof(v), "10.%d.%d.%d", (j >> 16) & 255, (j >> 8) & 255, j & 255);
                break;
            default:
                k = TIDE_OBS_DOMAIN;
                snprintf(v, sizeof(v), "n%d.example%d.org", j, j % 17);
                break;
        }
        add(h, file, (uint64_t)i + 1, T0 + (int64_t)(i % 86000) * 1000000, host, k, v);
    }
    TIDE_ASSERT_EQ_INT(tide_history_compact(h), 0);
    if (spill)
        unsetenv("TIDE_HISTORY_SPILL");
    tide_history_stats st;
    TIDE_ASSERT_EQ_INT(tide_history_stats_get(h, &st), 0);
    TIDE_ASSERT_EQ_INT((int)st.runs, 1);
    TIDE_ASSERT_EQ_INT(tide_history_each(h, on_list, out), 0);
    tide_history_free(h);
}

static void t_merge_parts(void)
{
    char one[1024], spilled[1024];
    snprintf(one, sizeof(one), "%s/parts-one", tide_test_tmpdir());
    snprintf(spilled, sizeof(spilled), "%s/parts-spilled", tide_test_tmpdir());
    rec_list a = { 0 }, b = { 0 };
    merge_parts_record(one, NULL, &a);
    merge_parts_record(spilled, "17000", &b);
    TIDE_ASSERT(a.n > 50000);
    TIDE_ASSERT_EQ_INT((int)a.n, (int)b.n);
    TIDE_ASSERT(a.all.len == b.all.len && memcmp(a.all.ptr, b.all.ptr, a.all.len) == 0);
    /* the merged run: more than 64 blocks, so that it was merged in parts */
    char path[1200];
    snprintf(path, sizeof(path), "%s/history", spilled);
    DIR *d = opendir(path);
    TIDE_ASSERT(d != NULL);
    for (struct dirent *de; d && (de = readdir(d)) != NULL;) {
        size_t n = strlen(de->d_name);
        if (n < 4 || strcmp(de->d_name + n - 4, ".hst") != 0)
            continue;
        char f[2400];
        snprintf(f, sizeof(f), "%s/%s", path, de->d_name);
        hist_file *hf = NULL;
        TIDE_ASSERT_EQ_INT(tide__hist_file_open(&hf, f), 0);
        if (hf)
            TIDE_ASSERT(tide__hist_file_header(hf)->nblocks > 2 * 64);
        tide__hist_file_free(hf);
    }
    if (d)
        closedir(d);
    tide__buf_free(&a.all);
    tide__buf_free(&b.all);
}

TIDE_TESTS = {
    { "history::keys_roundtrip", t_keys_roundtrip },
    { "history::writer_fill", t_writer_fill },
    { "history::merge_parts", t_merge_parts },
    { "history::ranges", t_ranges },
    { "history::compaction", t_compaction },
    { "history::compaction_policy", t_compaction_policy },
    { "history::first_place", t_first_place },
    { "history::retention", t_retention },
    { "history::corrupt", t_corrupt },
    { "history::future", t_future },
    { "history::keep_discard", t_keep_discard },
    { "history::recorder_queue", t_recorder_queue },
    { "history::small_memory", t_small_memory },
    { "history::pruned", t_pruned },
    { "history::parsed_addresses", t_parsed_addresses },
    { "history::spill_order", t_spill_order },
    { "history::entry_edges", t_entry_edges },
    { "history::keep_discard_model", t_keep_discard_model },
    { "history::table_growth", t_table_growth },
    { "history::checkpoint_after_spill", t_checkpoint_after_spill },
    { "history::run_names", t_run_names },
    { NULL, NULL },
};
TIDE_TEST_MAIN
