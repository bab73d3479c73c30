/*
 * test_feeds.c - the feeds of include/tide/feeds.h through their public calls: what
 * tide_feed_add refuses (each with its reason) and keeps, listings that never give a secret
 * out, the store's database made private, scheduling (tide_feeds_pull_due, tide_feeds_next_due:
 * never-pulled feeds are due, then each after its interval, interval 0 never), failed pulls
 * that say the feed, the URL and the reason and record it, and a TAXII pull of the recorded
 * medallion data (../shared/data/taxii21) from tests/taxii_replay.py: pages, counts, the resume
 * point, nothing new the second time.
 */
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "tide.h"

extern char **environ;

static char *tmpdir(void)
{
    static char t[64];
    snprintf(t, sizeof(t), "/tmp/tide-test-feeds.XXXXXX");
    TIDE_ASSERT(mkdtemp(t) != NULL);
    return t;
}

static void rmrf(const char *d)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
    TIDE_ASSERT(system(cmd) == 0);
}

static tide_workspace *open_ws(const char *dir)
{
    tide_workspace *ws = NULL;
    TIDE_ASSERT_EQ_INT(tide_workspace_open(&ws, dir, NULL), 0);
    return ws;
}

static void expect_refused(tide_workspace *ws, const tide_feed_config *c, const char *why)
{
    int rc = tide_feed_add(ws, c);
    if (rc != TIDE_EINVAL || strstr(tide_error_last(), why) == NULL) {
        fprintf(stderr, "  want EINVAL '%s', got %d '%s'\n", why, rc, tide_error_last());
        TIDE_ASSERT(0);
    }
}

static void t_add_checks(void)
{
    char *d = tmpdir();
    tide_workspace *ws = open_ws(d);
    TIDE_ASSERT_EQ_INT(tide_store_schema_version(tide_workspace_store(ws)), 14);
    tide_feed_config ok = { .name = "peer",
        .url = "https://taxii.example/taxii2/",
        .collection = "91a7b528-80eb-42ed-a74d-c6fbd5a26116",
        .interval_ms = -1 };
    tide_feed_config c = ok;
    c.name = "bad name";
    expect_refused(ws, &c, "only letters, digits");
    c = ok;
    c.url = "ftp://taxii.example/";
    expect_refused(ws, &c, "only http:// and https://");
    c = ok;
    c.url = "https://alice:pw@taxii.example/taxii2/";
    expect_refused(ws, &c, "holds credentials");
    c = ok;
    c.password = "pw";
    expect_refused(ws, &c, "both a user and a password");
    c = ok;
    c.user = "alice";
    c.password = "pw";
    c.api_key = "k";
    expect_refused(ws, &c, "not both");
    c = ok;
    c.kind = "rss";
    expect_refused(ws, &c, "unknown feed kind");
    c = ok;
    c.kind = "list";
    expect_refused(ws, &c, "--collection is for TAXII");
    c = ok;
    c.tlp = "purple";
    expect_refused(ws, &c, "unknown TLP");
    c = ok;
    c.ca_bundle = "/nonexistent/ca.pem";
    expect_refused(ws, &c, "CA bundle /nonexistent/ca.pem");
    c = ok;
    c.source = "bad\xff";
    TIDE_ASSERT(tide_feed_add(ws, &c) < 0);
    TIDE_ASSERT_EQ_INT(tide_feed_add(ws, &ok), 0);
    TIDE_ASSERT_EQ_INT(tide_feed_add(ws, &ok), TIDE_EEXISTS);
    /* a feed without a collection is a plain one, with the default interval */
    tide_feed_config plain = { .name = "list",
        .url = "http://lists.example/x.txt",
        .interval_ms = -1,
        .family = "emotet",
        .page_limit = 0 };
    TIDE_ASSERT_EQ_INT(tide_feed_add(ws, &plain), 0);
    char *js = NULL;
    TIDE_ASSERT_EQ_INT(tide_feeds_json(ws, &js), 0);
    json_error_t err;
    json_t *a = json_loads(js, 0, &err);
    TIDE_ASSERT(json_is_array(a) && json_array_size(a) == 2);
    json_t *l = json_array_get(a, 0); /* by name: list, peer */
    TIDE_ASSERT_EQ_STR(json_string_value(json_object_get(l, "kind")), "auto");
    TIDE_ASSERT_EQ_INT(json_integer_value(json_object_get(l, "interval_seconds")), 3600);
    TIDE_ASSERT_EQ_STR(
            json_string_value(json_object_get(json_object_get(l, "options"), "family")), "emotet");
    TIDE_ASSERT_EQ_STR(json_string_value(json_object_get(json_array_get(a, 1), "kind")), "taxii");
    json_decref(a);
    free(js);
    TIDE_ASSERT_EQ_INT(tide_feed_remove(ws, "list"), 0);
    TIDE_ASSERT_EQ_INT(tide_feed_remove(ws, "list"), TIDE_ENOTFOUND);
    tide_workspace_free(ws);
    rmrf(d);
}

static int count_secret(const tide_feed_info *f, void *payload)
{
    *(int *)payload += f->has_secret;
    return 0;
}

static void t_secret(void)
{
    char *d = tmpdir();
    tide_workspace *ws = open_ws(d);
    char db[256];
    snprintf(db, sizeof(db), "%s/tide.db", d);
    TIDE_ASSERT_EQ_INT(chmod(db, 0644), 0);
    tide_feed_config c = { .name = "peer",
        .url = "https://taxii.example/api1/",
        .kind = "taxii",
        .user = "alice",
        .password = "very-secret-pw",
        .interval_ms = 0 };
    TIDE_ASSERT_EQ_INT(tide_feed_add(ws, &c), 0);
    struct stat st;
    TIDE_ASSERT_EQ_INT(stat(db, &st), 0);
    TIDE_ASSERT_EQ_INT(st.st_mode & 0777, 0600);
    char *js = NULL;
    TIDE_ASSERT_EQ_INT(tide_feeds_json(ws, &js), 0);
    TIDE_ASSERT(strstr(js, "very-secret-pw") == NULL);
    TIDE_ASSERT(strstr(js, "\"secret\": true") != NULL);
    TIDE_ASSERT(strstr(js, "\"user\": \"alice\"") != NULL);
    free(js);
    int n = 0;
    TIDE_ASSERT_EQ_INT(tide_feeds_list(ws, count_secret, &n), 0);
    TIDE_ASSERT_EQ_INT(n, 1);
    /* on demand only: never due */
    int64_t due = 0;
    TIDE_ASSERT_EQ_INT(tide_feeds_next_due(ws, &due), 0);
    TIDE_ASSERT(due == INT64_MAX);
    tide_workspace_free(ws);
    rmrf(d);
}

typedef struct {
    int n, failed;
    char names[8][32];
    char last_error[1024];
    char cursor[64];
    long stored, pages;
} results;

static void on_result(const tide_feed_result *r, void *payload)
{
    results *rs = payload;
    if (rs->n < 8)
        snprintf(rs->names[rs->n], sizeof(rs->names[0]), "%s", r->name);
    rs->n++;
    if (r->rc < 0) {
        rs->failed++;
        snprintf(rs->last_error, sizeof(rs->last_error), "%s", r->error ? r->error : "");
    }
    snprintf(rs->cursor, sizeof(rs->cursor), "%s", r->cursor ? r->cursor : "");
    rs->stored = r->ingest.ingest.stored;
    rs->pages = r->pages;
}

static void t_due(void)
{
    char *d = tmpdir();
    tide_workspace *ws = open_ws(d);
    /* nothing listens on port 1 of the loopback: every pull fails at once */
    tide_feed_config a = { .name = "hourly",
        .url = "http://127.0.0.1:1/a.txt",
        .kind = "list",
        .interval_ms = 3600 * 1000 };
    tide_feed_config b = {
        .name = "manual", .url = "http://127.0.0.1:1/b.txt", .kind = "list", .interval_ms = 0
    };
    tide_feed_config c = { .name = "often",
        .url = "http://127.0.0.1:1/taxii2/",
        .collection = "x",
        .interval_ms = 600 * 1000 };
    TIDE_ASSERT_EQ_INT(tide_feed_add(ws, &a), 0);
    TIDE_ASSERT_EQ_INT(tide_feed_add(ws, &b), 0);
    TIDE_ASSERT_EQ_INT(tide_feed_add(ws, &c), 0);
    int64_t t0 = (int64_t)time(NULL) * 1000, due = 0;
    TIDE_ASSERT_EQ_INT(tide_feeds_next_due(ws, &due), 0);
    TIDE_ASSERT(due <= t0 + 1000); /* never pulled: due now */
    tide_feed_pull_opts o;
    tide_feed_pull_opts_init(&o);
    o.retries = 0;
    o.no_hunt = true;
    results rs = { 0 };
    o.on_result = on_result;
    o.payload = &rs;
    int ok = -1, failed = -1;
    int rc = tide_feeds_pull_due(ws, &o, &ok, &failed);
    TIDE_ASSERT(rc < 0);
    TIDE_ASSERT_EQ_INT(ok, 0);
    TIDE_ASSERT_EQ_INT(failed, 2);
    TIDE_ASSERT_EQ_INT(rs.n, 2); /* hourly and often; manual is never due */
    TIDE_ASSERT_EQ_STR(rs.names[0], "hourly");
    TIDE_ASSERT_EQ_STR(rs.names[1], "often");
    TIDE_ASSERT(strstr(rs.last_error, "feed often: http://127.0.0.1:1/taxii2/: ") != NULL);
    TIDE_ASSERT(strstr(tide_error_last(), "feed hourly: http://127.0.0.1:1/a.txt: ") != NULL);
    /* both were attempted: the next is often's, 10 min after its attempt */
    TIDE_ASSERT_EQ_INT(tide_feeds_next_due(ws, &due), 0);
    TIDE_ASSERT(due >= t0 + 600 * 1000 - 1000 && due <= t0 + 600 * 1000 + 60 * 1000);
    memset(&rs, 0, sizeof(rs));
    o.now_ms = t0 + 5 * 60 * 1000;
    TIDE_ASSERT_EQ_INT(tide_feeds_pull_due(ws, &o, &ok, &failed), 0);
    TIDE_ASSERT_EQ_INT(ok + failed, 0);
    o.now_ms = t0 + 11 * 60 * 1000;
    TIDE_ASSERT(tide_feeds_pull_due(ws, &o, &ok, &failed) < 0);
    TIDE_ASSERT_EQ_INT(rs.n, 1);
    TIDE_ASSERT_EQ_STR(rs.names[0], "often");
    /* the failure is recorded, nothing else changed */
    char *js = NULL;
    TIDE_ASSERT_EQ_INT(tide_feeds_json(ws, &js), 0);
    json_t *arr = json_loads(js, 0, NULL);
    free(js);
    size_t i;
    json_t *f;
    json_array_foreach(arr, i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *status = json_string_value(json_object_get(f, "last_status"));
        if (strcmp(name, "manual") == 0) {
            TIDE_ASSERT(status == NULL);
        } else {
            TIDE_ASSERT(status != NULL && strstr(status, "http://127.0.0.1:1/") != NULL);
            TIDE_ASSERT(json_is_null(json_object_get(f, "last_success")));
            TIDE_ASSERT(json_is_null(json_object_get(f, "cursor")));
        }
    }
    json_decref(arr);
    /* a pull of one feed by name, due or not */
    memset(&rs, 0, sizeof(rs));
    tide_feed_result res;
    TIDE_ASSERT(tide_feed_pull(ws, "manual", &o, &res) < 0);
    TIDE_ASSERT(res.rc < 0 && res.requests == 1);
    TIDE_ASSERT_EQ_INT(tide_feed_pull(ws, "nosuch", &o, &res), TIDE_ENOTFOUND);
    tide_workspace_free(ws);
    rmrf(d);
}

/* ---- against the replay server ---- */

static pid_t start_replay(const char *dir, int *port)
{
    const char *data = tide_test_data();
    if (system("python3 -c 'import http.server' >/dev/null 2>&1") != 0)
        TIDE_SKIP("no python3");
    char med[1024], pf[256], script[1024];
    snprintf(med, sizeof(med), "%s/taxii21/medallion/default_data.json", data);
    snprintf(pf, sizeof(pf), "%s/port", dir);
    snprintf(script, sizeof(script), "%s/tests/taxii_replay.py", TIDE_SOURCE_DIR);
    char *argv[] = { "python3", script, "--data", med, "--port-file", pf, "--user", "alice",
        "--password", "pw", NULL };
    pid_t pid;
    TIDE_ASSERT_EQ_INT(posix_spawnp(&pid, "python3", NULL, NULL, argv, environ), 0);
    for (int i = 0; i < 600; i++) {
        FILE *f = fopen(pf, "r");
        if (f) {
            int ok = fscanf(f, "%d", port) == 1;
            fclose(f);
            if (ok)
                return pid;
        }
        struct timespec ts = { 0, 50 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    TIDE_ASSERT(!"the replay server did not start");
    return -1;
}

static void t_pull_taxii(void)
{
    char *d = tmpdir();
    char dir[64];
    snprintf(dir, sizeof(dir), "%s", d);
    int port = 0;
    pid_t pid = start_replay(dir, &port);
    char store[128], url[128];
    snprintf(store, sizeof(store), "%s/s", dir);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/taxii2/", port);
    tide_workspace *ws = open_ws(store);
    tide_feed_config c = { .name = "med",
        .url = url,
        .collection = "91a7b528-80eb-42ed-a74d-c6fbd5a26116",
        .user = "alice",
        .password = "pw",
        .page_limit = 2,
        .interval_ms = -1 };
    TIDE_ASSERT_EQ_INT(tide_feed_add(ws, &c), 0);
    tide_feed_pull_opts o;
    tide_feed_pull_opts_init(&o);
    results rs = { 0 };
    o.on_result = on_result;
    o.payload = &rs;
    tide_feed_result res;
    int rc = tide_feed_pull(ws, "med", &o, &res);
    if (rc < 0)
        fprintf(stderr, "  %s\n", tide_error_last());
    TIDE_ASSERT_EQ_INT(rc, 0);
    /* medallion's 5 objects (the newest version of each) in pages of 2 */
    TIDE_ASSERT_EQ_INT(res.ingest.ingest.stored, 5);
    TIDE_ASSERT_EQ_INT(res.ingest.ingest.indicators, 2);
    TIDE_ASSERT_EQ_INT(res.pages, 3);
    TIDE_ASSERT_EQ_INT(res.requests, 6); /* discovery, API root, collection, 3 pages */
    TIDE_ASSERT(res.name == NULL && res.error == NULL); /* strings only for on_result */
    TIDE_ASSERT_EQ_STR(rs.cursor, "2017-12-31T13:49:53.935000Z");
    int64_t due = 0;
    TIDE_ASSERT_EQ_INT(tide_feeds_next_due(ws, &due), 0);
    TIDE_ASSERT(due > (int64_t)time(NULL) * 1000 + 3500 * 1000);
    /* every object under the feed's name */
    char *stats = NULL;
    TIDE_ASSERT_EQ_INT(tide_store_stats_json(tide_workspace_store(ws), &stats), 0);
    TIDE_ASSERT(strstr(stats, "\"med\": 5") != NULL || strstr(stats, "\"med\":5") != NULL);
    free(stats);
    /* again: added_after the last date added, nothing new */
    TIDE_ASSERT_EQ_INT(tide_feed_pull(ws, "med", &o, &res), 0);
    TIDE_ASSERT_EQ_INT(res.ingest.ingest.records, 0);
    TIDE_ASSERT_EQ_STR(rs.cursor, "2017-12-31T13:49:53.935000Z");
    tide_workspace_free(ws);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    rmrf(dir);
}

TIDE_TESTS = {
    { "feeds::add_checks", t_add_checks },
    { "feeds::secret_never_listed", t_secret },
    { "feeds::due", t_due },
    { "feeds::pull_taxii", t_pull_taxii },
    { NULL, NULL },
};
TIDE_TEST_MAIN
