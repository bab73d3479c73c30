/*
 * feeds.c - the registry of feeds (include/tide/feeds.h) and their pulls: checks a feed's
 * configuration before it is stored (store_feeds.c keeps it), lists feeds without their
 * secrets, and runs a pull: one HTTP client and one ingest run of the workspace per feed, the
 * kind's pull (taxii.c, plain.c), the run's finish (retro-hunt, export targets), then the
 * feed's state: where the next pull resumes and the HTTP validators are written only after the
 * objects they cover are in the store, and only the resume point of the pages stored when a
 * pull fails part way. The engine layer: it calls the engine's ingest runs, as front ends do,
 * so that a pulled feed is ingested exactly as `tide ingest` ingests a file.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "feeds/feeds_int.h"
#include "store/store_feeds.h"
#include "tide/tlp.h"

/* ---------------------------------------------------------------- options */

void tide_feed_pull_opts_init(tide_feed_pull_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->retries = 3;
    o->retry_wait = 1;
    o->max_wait = 60;
    o->timeout = 300;
    o->connect_timeout = 30;
    o->max_pages = 10000;
    o->max_bytes = 512ull << 20;
}

const char *tide__pull_option(tide__pull *p, const char *key)
{
    return json_string_value(json_object_get(p->options, key));
}

long tide__pull_option_long(tide__pull *p, const char *key)
{
    json_t *v = json_object_get(p->options, key);
    return json_is_integer(v) ? (long)json_integer_value(v) : 0;
}

static const char *const kinds[] = { "taxii", "auto", "stix", "misp", "misp-feed", "csv", "list" };

static bool kind_known(const char *k)
{
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(k, kinds[i]) == 0)
            return true;
    return false;
}

static int name_check(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 64)
        return tide_error_set(TIDE_EINVAL, "a feed name is 1 to 64 characters");
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-'))
            return tide_error_set(TIDE_EINVAL,
                    "feed name '%.64s': only letters, digits, '.', '_' and '-' (character %zu)",
                    name, i + 1);
    }
    return 0;
}

/* the store's database files readable by their owner only, before a secret goes in */
static int make_private(tide_store *store)
{
    const char *db = tide_store_db_path(store);
    if (db == NULL)
        return 0; /* a store without a file: its server guards it */
    static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        char path[4200];
        snprintf(path, sizeof(path), "%s%s", db, suffix[i]);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if ((st.st_mode & 077) != 0 && chmod(path, st.st_mode & 0700) != 0)
            return tide_error_set(TIDE_EIO,
                    "%s: cannot make it readable by its owner only (%s): the secret was not "
                    "stored",
                    path, strerror(errno));
    }
    return 0;
}

int tide_feed_add(tide_workspace *ws, const tide_feed_config *cfg)
{
    if (ws == NULL || cfg == NULL)
        return tide_error_set(TIDE_EINVAL, "no workspace or feed");
    TIDE_CHECK(name_check(cfg->name));
    TIDE_CHECK(tide__url_check(cfg->url));
    const char *kind = cfg->kind ? cfg->kind : (cfg->collection ? "taxii" : "auto");
    if (!kind_known(kind))
        return tide_error_set(TIDE_EINVAL,
                "unknown feed kind '%.40s' (taxii, auto, stix, misp, misp-feed, csv, list)", kind);
    if (cfg->collection && strcmp(kind, "taxii") != 0)
        return tide_error_set(TIDE_EINVAL, "--collection is for TAXII feeds (kind taxii)");
    if ((cfg->user != NULL) != (cfg->password != NULL))
        return tide_error_set(TIDE_EINVAL, "HTTP Basic needs both a user and a password");
    if (cfg->user && cfg->api_key)
        return tide_error_set(
                TIDE_EINVAL, "either a user and password (HTTP Basic) or a key (Bearer), not both");
    if (cfg->user && strchr(cfg->user, ':'))
        return tide_error_set(TIDE_EINVAL, "an HTTP Basic user name holds no ':'");
    if (cfg->api_key && (*cfg->api_key == '\0' || strpbrk(cfg->api_key, "\r\n")))
        return tide_error_set(TIDE_EINVAL, "the key is empty or holds a line break");
    if (cfg->tlp && tide_tlp_parse(cfg->tlp) < 0)
        return tide_error_set(TIDE_EINVAL,
                "unknown TLP '%.40s' (clear, green, amber, amber+strict, red)", cfg->tlp);
    if (cfg->page_limit < 0)
        return tide_error_set(TIDE_EINVAL, "the page limit is a positive number");
    tide_ingest_opts io = { .source = cfg->source, .family = cfg->family, .confidence = -1 };
    TIDE_CHECK(tide_ingest_opts_check(&io));
    char *ca = NULL;
    if (cfg->ca_bundle) {
        if ((ca = realpath(cfg->ca_bundle, NULL)) == NULL)
            return tide_error_set(TIDE_EINVAL, "CA bundle %s: %s", cfg->ca_bundle, strerror(errno));
    }
    json_t *opt = json_object();
    int rc = opt ? 0 : tide_error_set(TIDE_ENOMEM, "out of memory");
    if (rc == 0 && cfg->family)
        rc = json_object_set_new(opt, "family", json_string(cfg->family));
    if (rc == 0 && cfg->columns)
        rc = json_object_set_new(opt, "columns", json_string(cfg->columns));
    if (rc == 0 && cfg->page_limit > 0)
        rc = json_object_set_new(opt, "limit", json_integer(cfg->page_limit));
    char *opts = rc == 0 ? json_dumps(opt, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(opt);
    if (rc == 0 && opts == NULL)
        rc = tide_error_set(TIDE_ENOMEM, "out of memory");
    tide_store *store = tide_workspace_store(ws);
    tide_store_feed f = {
        .name = cfg->name,
        .url = cfg->url,
        .kind = kind,
        .collection = cfg->collection,
        .auth = cfg->user      ? "basic"
                : cfg->api_key ? "bearer"
                               : NULL,
        .user = cfg->user,
        .secret = cfg->user ? cfg->password : cfg->api_key,
        .source = cfg->source,
        .tlp = cfg->tlp,
        .ca_bundle = ca,
        .options = opts,
        .interval_ms = cfg->interval_ms < 0 ? TIDE_FEED_DEFAULT_INTERVAL_MS : cfg->interval_ms,
        .created_at = tide__time_now_ms(),
        .last_attempt_at = TIDE_STORE_NULL,
        .last_success_at = TIDE_STORE_NULL,
    };
    if (rc == 0 && f.secret)
        rc = make_private(store);
    if (rc == 0)
        rc = tide__store_feed_put(store, &f);
    free(ca);
    free(opts);
    return rc;
}

int tide_feed_remove(tide_workspace *ws, const char *name)
{
    if (ws == NULL || name == NULL)
        return tide_error_set(TIDE_EINVAL, "no workspace or feed name");
    return tide__store_feed_remove(tide_workspace_store(ws), name);
}

/* ---------------------------------------------------------------- listing */

static int64_t next_due(const tide_store_feed *f)
{
    if (f->interval_ms <= 0)
        return INT64_MAX;
    if (f->last_attempt_at == TIDE_STORE_NULL)
        return f->created_at;
    return f->last_attempt_at + f->interval_ms;
}

typedef struct {
    int (*cb)(const tide_feed_info *feed, void *payload);
    void *payload;
} list_ctx;

static int list_one(const tide_store_feed *f, void *payload)
{
    list_ctx *c = payload;
    tide_feed_info i = {
        .name = f->name,
        .url = f->url,
        .kind = f->kind,
        .collection = f->collection,
        .auth = f->auth,
        .user = f->user,
        .has_secret = f->secret != NULL && *f->secret != '\0',
        .source = f->source,
        .tlp = f->tlp,
        .ca_bundle = f->ca_bundle,
        .options = f->options,
        .interval_ms = f->interval_ms,
        .created_at = f->created_at,
        .cursor = f->cursor,
        .etag = f->etag,
        .last_modified = f->last_modified,
        .last_attempt_at = f->last_attempt_at,
        .last_success_at = f->last_success_at,
        .last_status = f->last_status,
        .last_objects = f->last_objects,
        .next_due_at = next_due(f),
    };
    return c->cb(&i, c->payload);
}

int tide_feeds_list(
        tide_workspace *ws, int (*cb)(const tide_feed_info *feed, void *payload), void *payload)
{
    if (ws == NULL || cb == NULL)
        return tide_error_set(TIDE_EINVAL, "no workspace or callback");
    list_ctx c = { cb, payload };
    return tide__store_feeds(tide_workspace_store(ws), list_one, &c);
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *time_or_null(int64_t ms)
{
    if (ms == TIDE_STORE_NULL || ms == INT64_MAX)
        return json_null();
    char t[32];
    tide__time_format(ms, t);
    return json_string(t);
}

static int json_one(const tide_feed_info *i, void *payload)
{
    json_t *o = json_object();
    if (o == NULL)
        return TIDE_ENOMEM;
    json_t *opts = i->options ? json_loads(i->options, 0, NULL) : NULL;
    int rc = 0;
    rc |= json_object_set_new(o, "name", json_string(i->name));
    rc |= json_object_set_new(o, "url", json_string(i->url));
    rc |= json_object_set_new(o, "kind", json_string(i->kind));
    rc |= json_object_set_new(o, "collection", str_or_null(i->collection));
    rc |= json_object_set_new(o, "auth", str_or_null(i->auth));
    rc |= json_object_set_new(o, "user", str_or_null(i->user));
    rc |= json_object_set_new(o, "secret", json_boolean(i->has_secret));
    rc |= json_object_set_new(o, "source", json_string(i->source ? i->source : i->name));
    rc |= json_object_set_new(o, "tlp", str_or_null(i->tlp));
    rc |= json_object_set_new(o, "ca_bundle", str_or_null(i->ca_bundle));
    rc |= json_object_set_new(o, "options", opts ? opts : json_object());
    rc |= json_object_set_new(o, "interval_seconds", json_integer(i->interval_ms / 1000));
    rc |= json_object_set_new(o, "created", time_or_null(i->created_at));
    rc |= json_object_set_new(o, "cursor", str_or_null(i->cursor));
    rc |= json_object_set_new(o, "etag", str_or_null(i->etag));
    rc |= json_object_set_new(o, "last_modified", str_or_null(i->last_modified));
    rc |= json_object_set_new(o, "last_attempt", time_or_null(i->last_attempt_at));
    rc |= json_object_set_new(o, "last_success", time_or_null(i->last_success_at));
    rc |= json_object_set_new(o, "last_status", str_or_null(i->last_status));
    rc |= json_object_set_new(o, "last_objects", json_integer(i->last_objects));
    rc |= json_object_set_new(o, "next_due", time_or_null(i->next_due_at));
    if (rc != 0 || json_array_append_new(payload, o) != 0)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    return 0;
}

int tide_feeds_json(tide_workspace *ws, char **out)
{
    *out = NULL;
    json_t *arr = json_array();
    TIDE_CHECK_ALLOC(arr);
    int rc = tide_feeds_list(ws, json_one, arr);
    if (rc == 0 && (*out = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) == NULL)
        rc = tide_error_set(TIDE_ENOMEM, "out of memory");
    json_decref(arr);
    return rc;
}

static int earliest(const tide_store_feed *f, void *payload)
{
    int64_t *min = payload, d = next_due(f);
    if (d < *min)
        *min = d;
    return 0;
}

int tide_feeds_next_due(tide_workspace *ws, int64_t *out)
{
    *out = INT64_MAX;
    if (ws == NULL)
        return tide_error_set(TIDE_EINVAL, "no workspace");
    return tide__store_feeds(tide_workspace_store(ws), earliest, out);
}

/* ---------------------------------------------------------------- pulls */

/* a feed record with its own copies of its strings */
typedef struct {
    tide_store_feed f;
    tide_buf mem;
} feed_copy;

static int copy_feed(const tide_store_feed *f, void *payload)
{
    feed_copy *c = payload;
    const char *const *src[] = { &f->name, &f->url, &f->kind, &f->collection, &f->auth, &f->user,
        &f->secret, &f->source, &f->tlp, &f->ca_bundle, &f->options, &f->cursor, &f->etag,
        &f->last_modified, &f->last_status };
    const char **dst[] = { &c->f.name, &c->f.url, &c->f.kind, &c->f.collection, &c->f.auth,
        &c->f.user, &c->f.secret, &c->f.source, &c->f.tlp, &c->f.ca_bundle, &c->f.options,
        &c->f.cursor, &c->f.etag, &c->f.last_modified, &c->f.last_status };
    size_t n = sizeof(src) / sizeof(src[0]);
    size_t off[sizeof(src) / sizeof(src[0])];
    c->f = *f;
    for (size_t i = 0; i < n; i++) {
        off[i] = SIZE_MAX;
        if (*src[i]) {
            off[i] = c->mem.len;
            TIDE_CHECK(tide__buf_put(&c->mem, *src[i], strlen(*src[i]) + 1));
        }
    }
    for (size_t i = 0; i < n; i++)
        *dst[i] = off[i] == SIZE_MAX ? NULL : c->mem.ptr + off[i];
    return 0;
}

static void feed_copy_free(feed_copy *c)
{
    if (c->mem.ptr)
        memset(c->mem.ptr, 0, c->mem.len); /* the secret */
    tide__buf_free(&c->mem);
}

typedef struct {
    const tide_feed_pull_opts *o;
    const char *name;
} notice_ctx;

static void feed_notice(tide_notice_level level, const char *msg, void *payload)
{
    notice_ctx *n = payload;
    char line[2300];
    snprintf(line, sizeof(line), "feed %s: %s", n->name, msg);
    n->o->on_notice(level, line, n->o->payload);
}

static bool is_due(const tide_store_feed *f, int64_t now)
{
    return next_due(f) <= now;
}

/* whether the resume point c comes after the stored one: it never goes back, whatever a peer's
 * headers say (RFC 3339 times of TAXII; whole seconds of MISP feeds) */
static bool cursor_after(const char *c, const char *old)
{
    if (old == NULL || *old == '\0')
        return true;
    int64_t a, b;
    if (tide__time_parse(c, &a) == 0 && tide__time_parse(old, &b) == 0)
        return a > b || (a == b && strcmp(c, old) > 0);
    char *ea, *eb;
    long long x = strtoll(c, &ea, 10), y = strtoll(old, &eb, 10);
    if (*ea == '\0' && *eb == '\0' && ea != c && eb != old)
        return x > y;
    return strcmp(c, old) > 0;
}

/* one pull of the feed f (a copy); res gets its counts, error set when rc < 0 */
static int pull_one(tide_workspace *ws, const tide_store_feed *f, const tide_feed_pull_opts *o,
        tide_feed_result *res)
{
    memset(res, 0, sizeof(*res));
    res->name = f->name;
    res->url = f->url;
    res->kind = f->kind;
    int64_t now = tide__time_now_ms();
    notice_ctx nc = { o, f->name };
    tide_feed_pull_opts lo = *o, dflt;
    /* caps and timeouts left zero (options not made by tide_feed_pull_opts_init): defaults */
    tide_feed_pull_opts_init(&dflt);
    if (lo.max_bytes == 0)
        lo.max_bytes = dflt.max_bytes;
    if (lo.max_pages <= 0)
        lo.max_pages = dflt.max_pages;
    if (!(lo.timeout > 0))
        lo.timeout = dflt.timeout;
    if (!(lo.connect_timeout > 0))
        lo.connect_timeout = dflt.connect_timeout;
    if (!(lo.max_wait >= 0))
        lo.max_wait = dflt.max_wait;
    if (o->on_notice) {
        lo.on_notice = feed_notice;
        lo.payload = &nc;
    }
    tide__pull p = { .ws = ws, .feed = f, .o = &lo };
    int rc = 0, frc = 0;
    if (f->options && *f->options)
        p.options = json_loads(f->options, 0, NULL);
    tide_ingest_run_opts ro;
    tide_ingest_run_opts_init(&ro);
    ro.ingest.source = f->source ? f->source : f->name;
    ro.ingest.tlp = f->tlp;
    ro.ingest.family = tide__pull_option(&p, "family");
    ro.ingest.csv_columns = tide__pull_option(&p, "columns");
    ro.no_hunt = o->no_hunt;
    ro.on_error = o->on_error;
    ro.payload = o->payload;
    ro.on_export = o->on_export;
    if ((rc = tide__http_new(&p.http, &lo, f)) < 0 ||
            (rc = tide_ingest_run_new(&p.run, ws, &ro)) < 0)
        goto state;
    if (strcmp(f->kind, "taxii") == 0)
        rc = tide__taxii_pull(&p);
    else if (strcmp(f->kind, "misp-feed") == 0)
        rc = tide__misp_feed_pull(&p);
    else
        rc = tide__plain_pull(&p);
    char keep[2048] = "";
    if (rc < 0)
        snprintf(keep, sizeof(keep), "%s", tide_error_last());
    /* what the pages stored is hunted and exported whether the pull ended well or not */
    frc = tide_ingest_run_finish(p.run, &res->ingest);
    if (rc == 0 && frc < 0)
        rc = frc;
    else if (rc < 0)
        tide_error_set(rc, "%s", keep);
state:;
    char err[2300] = "", m[2048] = "";
    if (rc < 0) {
        snprintf(m, sizeof(m), "%s", tide_error_last());
        if (strstr(m, f->url) != NULL)
            snprintf(err, sizeof(err), "feed %s: %s", f->name, m);
        else
            snprintf(err, sizeof(err), "feed %s (%s): %s", f->name, f->url, m);
    }
    /* the state: the resume point of what was stored, validators only of a whole success */
    tide_store_feed st = *f;
    if (frc == 0 && p.cursor && cursor_after(p.cursor, f->cursor))
        st.cursor = p.cursor;
    if (rc == 0 && p.set_validators) {
        st.etag = p.etag;
        st.last_modified = p.last_modified;
    }
    st.last_attempt_at = now;
    if (rc == 0)
        st.last_success_at = now;
    st.last_status = rc < 0 ? m : p.not_modified ? "not modified" : "ok";
    st.last_objects = res->ingest.ingest.stored;
    int src = tide__store_feed_state(tide_workspace_store(ws), &st);
    if (p.http)
        tide__http_counts(p.http, &res->requests, &res->retries, &res->bytes);
    res->pages = p.pages;
    res->not_modified = p.not_modified;
    res->rc = rc;
    tide_ingest_run_free(p.run);
    tide__http_free(p.http);
    json_decref(p.options);
    if (rc < 0) {
        res->error = NULL;
        tide_error_set(rc, "%s", err);
    } else if (src < 0) {
        rc = res->rc = src;
    }
    if (o->on_result) {
        res->error = rc < 0 ? tide_error_last() : NULL;
        res->cursor = st.cursor;
        o->on_result(res, o->payload);
        if (rc < 0)
            tide_error_set(rc, "%s", err[0] ? err : tide_error_last());
    }
    res->error = NULL;
    res->cursor = NULL;
    res->name = res->url = res->kind = NULL;
    tide__free(p.cursor);
    tide__free(p.etag);
    tide__free(p.last_modified);
    return rc;
}

int tide_feed_pull(tide_workspace *ws, const char *name, const tide_feed_pull_opts *opts,
        tide_feed_result *out)
{
    tide_feed_pull_opts dflt;
    if (opts == NULL) {
        tide_feed_pull_opts_init(&dflt);
        opts = &dflt;
    }
    if (ws == NULL || name == NULL)
        return tide_error_set(TIDE_EINVAL, "no workspace or feed name");
    feed_copy c = { .mem = TIDE_BUF_INIT };
    int rc = tide__store_feed_get(tide_workspace_store(ws), name, copy_feed, &c);
    tide_feed_result res;
    if (rc == 0)
        rc = pull_one(ws, &c.f, opts, &res);
    else
        memset(&res, 0, sizeof(res));
    feed_copy_free(&c);
    if (out)
        *out = res;
    return rc;
}

static int collect_name(const tide_store_feed *f, void *payload)
{
    tide_buf *b = payload;
    return tide__buf_put(b, f->name, strlen(f->name) + 1) < 0 ? TIDE_ENOMEM : 0;
}

int tide_feeds_pull_all(tide_workspace *ws, bool due_only, const tide_feed_pull_opts *opts,
        int *out_ok, int *out_failed)
{
    int ok = 0, failed = 0, first = 0;
    tide_feed_pull_opts dflt;
    if (opts == NULL) {
        tide_feed_pull_opts_init(&dflt);
        opts = &dflt;
    }
    if (ws == NULL)
        return tide_error_set(TIDE_EINVAL, "no workspace");
    tide_buf names = TIDE_BUF_INIT;
    int rc = tide__store_feeds(tide_workspace_store(ws), collect_name, &names);
    int64_t now = opts->now_ms ? opts->now_ms : tide__time_now_ms();
    char firstmsg[2300] = "";
    for (size_t off = 0; rc == 0 && off < names.len; off += strlen(names.ptr + off) + 1) {
        feed_copy c = { .mem = TIDE_BUF_INIT };
        int grc = tide__store_feed_get(tide_workspace_store(ws), names.ptr + off, copy_feed, &c);
        if (grc == TIDE_ENOTFOUND) { /* removed meanwhile */
            feed_copy_free(&c);
            continue;
        }
        if (grc < 0) {
            feed_copy_free(&c);
            rc = grc;
            break;
        }
        if (due_only && !is_due(&c.f, now)) {
            feed_copy_free(&c);
            continue;
        }
        tide_feed_result res;
        int prc = pull_one(ws, &c.f, opts, &res);
        feed_copy_free(&c);
        if (prc == 0) {
            ok++;
            continue;
        }
        failed++;
        if (first == 0) {
            first = prc;
            snprintf(firstmsg, sizeof(firstmsg), "%s", tide_error_last());
        }
        if (prc == TIDE_ESTORE || prc == TIDE_ENOMEM) {
            rc = prc;
            break;
        }
    }
    tide__buf_free(&names);
    if (out_ok)
        *out_ok = ok;
    if (out_failed)
        *out_failed = failed;
    if (rc < 0)
        return rc;
    if (first < 0)
        return tide_error_set(first, "%s", firstmsg);
    return 0;
}

int tide_feeds_pull_due(
        tide_workspace *ws, const tide_feed_pull_opts *opts, int *out_ok, int *out_failed)
{
    return tide_feeds_pull_all(ws, true, opts, out_ok, out_failed);
}
