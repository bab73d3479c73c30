/*
 * ui.c - the web UI's side of `tide serve` (docs/ui.md): its static assets, and the sessions
 * the pages sign in with.
 *
 * Assets: the bundle ui/build.mjs writes (index.html, app.js, app.css ...) into the build
 * folder's ui/ is read once at start, from opts.ui_dir, else the folder "ui" next to the
 * binary, else ../share/tide/ui next to it; requests are answered from memory by exact name
 * (no path from a request ever reaches the file system), with an ETag, a Content-Security-
 * Policy that allows only the server's own scripts, and no framing. "/" is index.html. Without
 * a bundle, "/" says how to build it.
 *
 * Sessions: POST /api/v1/session with a key (Authorization: Bearer) answers a session cookie
 * (HttpOnly, SameSite=Strict, Secure under TLS) and a CSRF token; a request that carries the
 * cookie and no Authorization header is authenticated as the key (verified again on every
 * request, so a revoked key ends its sessions), and one with a method other than GET / HEAD
 * must carry the token in X-CSRF-Token. Sessions live in memory, at most opts.sessions
 * (the oldest is dropped), for opts.session_idle seconds without a request and 12 hours at
 * most; DELETE /api/v1/session ends one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <xxhash.h>

#include "params.h"
#include "server_int.h"

#define SESSION_COOKIE    "tide_session"
#define SESSION_MAX_AGE_S (12 * 3600)
#define ASSET_MAX         (16u << 20) /* one file */
#define ASSETS_MAX        (48u << 20) /* all of them */
#define ASSET_COUNT_MAX   256

/* ---------------- assets ---------------- */

typedef struct {
    char *name; /* "/app.js" */
    char *data;
    size_t len;
    const char *type;
    char etag[24];
} asset;

static asset *assets;
static size_t nassets;
static char ui_dir_found[PATH_MAX];

static const char *type_of(const char *name)
{
    static const char *const map[][2] = {
        { ".html", "text/html; charset=utf-8" },
        { ".js", "text/javascript; charset=utf-8" },
        { ".mjs", "text/javascript; charset=utf-8" },
        { ".css", "text/css; charset=utf-8" },
        { ".json", "application/json" },
        { ".svg", "image/svg+xml" },
        { ".png", "image/png" },
        { ".ico", "image/x-icon" },
        { ".map", "application/json" },
        { ".txt", "text/plain; charset=utf-8" },
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(dot, map[i][0]) == 0)
            return map[i][1];
    return "application/octet-stream";
}

static char *read_small(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC); /* a link is not the bundle's */
    FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
    if (f == NULL) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    struct stat st;
    char *b = NULL;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size <= ASSET_MAX &&
            (b = malloc((size_t)st.st_size + 1)) != NULL) {
        *len = fread(b, 1, (size_t)st.st_size, f);
        if (*len != (size_t)st.st_size) {
            free(b);
            b = NULL;
        }
    }
    fclose(f);
    return b;
}

/* Load the regular files of dir (one level; names of [A-Za-z0-9._-] not starting with a dot).
 * Returns the number loaded (0: none, or no such folder). */
static size_t load_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    size_t total = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && nassets < ASSET_COUNT_MAX) {
        const char *n = e->d_name;
        if (n[0] == '.' || strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                     "0123456789._-") != strlen(n))
            continue;
        char path[PATH_MAX];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, n) >= sizeof path)
            continue;
        size_t len = 0;
        char *data = read_small(path, &len);
        if (data == NULL)
            continue;
        if (total + len > ASSETS_MAX) {
            free(data);
            break;
        }
        asset *na = realloc(assets, (nassets + 1) * sizeof *na);
        char *name = malloc(strlen(n) + 2);
        if (na == NULL || name == NULL) {
            if (na)
                assets = na;
            free(name);
            free(data);
            break;
        }
        assets = na;
        name[0] = '/';
        memcpy(name + 1, n, strlen(n) + 1);
        asset *a = &assets[nassets++];
        a->name = name;
        a->data = data;
        a->len = len;
        a->type = type_of(n);
        snprintf(
                a->etag, sizeof a->etag, "\"%016llx\"", (unsigned long long)XXH3_64bits(data, len));
        total += len;
    }
    closedir(d);
    return nassets;
}

static const asset *asset_of(const char *url)
{
    if (strcmp(url, "/") == 0)
        url = "/index.html";
    for (size_t i = 0; i < nassets; i++)
        if (strcmp(assets[i].name, url) == 0)
            return &assets[i];
    return NULL;
}

/* ---------------- sessions ---------------- */

typedef struct {
    char id[44];           /* base64url of 32 random bytes; "" when the slot is free */
    char csrf[44];         /* the same */
    char auth[300];        /* "Bearer KEY": verified again on every request */
    char name[72];         /* the key's name */
    int64_t created, last; /* monotonic ms */
} session;

static pthread_mutex_t sess_mu = PTHREAD_MUTEX_INITIALIZER;
static session *sessions;
static size_t nsess_cap;
static int64_t sess_idle_ms;

static int random_token(char out[44])
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char raw[33];
    if (RAND_bytes(raw, 32) != 1)
        return -1;
    raw[32] = 0;
    size_t o = 0;
    for (size_t i = 0; i < 33 && o < 43; i += 3) {
        unsigned v = (unsigned)raw[i] << 16 | (unsigned)(i + 1 < 33 ? raw[i + 1] : 0) << 8 |
                     (unsigned)(i + 2 < 33 ? raw[i + 2] : 0);
        for (int k = 3; k >= 0 && o < 43; k--)
            out[o++] = b64[(v >> (6 * k)) & 63];
    }
    out[43] = '\0';
    OPENSSL_cleanse(raw, sizeof raw);
    return 0;
}

static bool expired(const session *x, int64_t now)
{
    return now - x->last > sess_idle_ms || now - x->created > (int64_t)SESSION_MAX_AGE_S * 1000;
}

static void drop(session *x)
{
    OPENSSL_cleanse(x, sizeof *x);
}

/* the slot of the session whose id is v (constant time in the id), under sess_mu */
static session *find(const char *v)
{
    if (v == NULL || strlen(v) != 43)
        return NULL;
    session *hit = NULL;
    for (size_t i = 0; i < nsess_cap; i++)
        if (sessions[i].id[0] && CRYPTO_memcmp(sessions[i].id, v, 43) == 0)
            hit = &sessions[i];
    return hit;
}

int tide__ui_session_auth(req *r, char *auth, size_t cap)
{
    char v[64];
    if (tide__parse_cookie(
                tide__req_header(r, MHD_HTTP_HEADER_COOKIE), SESSION_COOKIE, v, sizeof v) == NULL)
        return 0;
    bool safe = strcmp(r->rt->method, "GET") == 0;
    const char *token = tide__req_header(r, "X-CSRF-Token");
    int64_t now = tide__srv_mono_ms();
    int ret = -1;
    pthread_mutex_lock(&sess_mu);
    session *x = find(v);
    if (x && expired(x, now)) {
        drop(x);
        x = NULL;
    }
    if (x) {
        if (!safe && (token == NULL || strlen(token) != 43 || CRYPTO_memcmp(token, x->csrf, 43)))
            ret = -2;
        else if (strlen(x->auth) < cap) {
            memcpy(auth, x->auth, strlen(x->auth) + 1);
            x->last = now;
            ret = 1;
        }
    }
    pthread_mutex_unlock(&sess_mu);
    return ret;
}

/* ---------------- start, stop ---------------- */

void tide__ui_start(srv *s)
{
    size_t max = s->o.sessions ? s->o.sessions : 256;
    sess_idle_ms = (int64_t)(s->o.session_idle ? s->o.session_idle : 1800) * 1000;
    pthread_mutex_lock(&sess_mu);
    sessions = calloc(max, sizeof *sessions);
    nsess_cap = sessions ? max : 0;
    pthread_mutex_unlock(&sess_mu);
    ui_dir_found[0] = '\0';
    char exe[PATH_MAX], cand[PATH_MAX];
    if (s->o.ui_dir) {
        if (load_dir(s->o.ui_dir))
            snprintf(ui_dir_found, sizeof ui_dir_found, "%s", s->o.ui_dir);
        return;
    }
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash == NULL)
        return;
    *slash = '\0';
    static const char *const rel[] = { "ui", "../share/tide/ui" };
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        if ((size_t)snprintf(cand, sizeof cand, "%s/%s", exe, rel[i]) >= sizeof cand)
            continue;
        if (load_dir(cand)) {
            snprintf(ui_dir_found, sizeof ui_dir_found, "%s", cand);
            return;
        }
    }
}

const char *tide__ui_dir(void)
{
    return ui_dir_found[0] ? ui_dir_found : NULL;
}

void tide__ui_stop(void)
{
    for (size_t i = 0; i < nassets; i++) {
        free(assets[i].name);
        free(assets[i].data);
    }
    free(assets);
    assets = NULL;
    nassets = 0;
    pthread_mutex_lock(&sess_mu);
    if (sessions)
        OPENSSL_cleanse(sessions, nsess_cap * sizeof *sessions);
    free(sessions);
    sessions = NULL;
    nsess_cap = 0;
    pthread_mutex_unlock(&sess_mu);
}

/* ---------------- static files ---------------- */

static const char no_bundle[] =
        "<!doctype html><meta charset=utf-8><title>tide</title>"
        "<p>tide serve is running, but its web UI was not built: run <code>scripts/setup.sh</code> "
        "(it runs <code>npm ci</code> and bundles the UI into build/ui), or start tide serve with "
        "<code>--ui DIR</code>. The JSON API is under <a href=\"/api/v1/health\">/api/v1/</a>.";

void tide__ui_static(req *r, const char *url, const char *method, reply *out)
{
    const asset *a = asset_of(url);
    bool fallback = a == NULL && strcmp(url, "/") == 0;
    if (a == NULL && !fallback) {
        tide__reply_error(out, MHD_HTTP_NOT_FOUND, "no such page");
        return;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        tide__reply_error(out, MHD_HTTP_METHOD_NOT_ALLOWED, "method %s not allowed here", method);
        out->allow = "GET, HEAD";
        return;
    }
    out->page = true;
    if (fallback) {
        out->status = MHD_HTTP_OK;
        out->body = strdup(no_bundle);
        out->len = out->body ? strlen(out->body) : 0;
        out->type = "text/html; charset=utf-8";
        return;
    }
    snprintf(out->etag, sizeof out->etag, "%s", a->etag);
    out->type = a->type;
    const char *inm = tide__req_header(r, MHD_HTTP_HEADER_IF_NONE_MATCH);
    if (inm && strstr(inm, a->etag)) {
        out->status = MHD_HTTP_NOT_MODIFIED;
        return;
    }
    out->status = MHD_HTTP_OK;
    out->body = malloc(a->len ? a->len : 1);
    if (out->body) {
        memcpy(out->body, a->data, a->len);
        out->len = a->len;
    }
}

/* ---------------- the session routes ---------------- */

static void set_cookie(req *r, reply *out, const char *value, long max_age)
{
    snprintf(out->cookie, sizeof out->cookie,
            SESSION_COOKIE "=%s; Path=/; Max-Age=%ld; HttpOnly; SameSite=Strict%s", value, max_age,
            r->s->o.tls_cert ? "; Secure" : "");
}

static json_t *whoami(req *r)
{
    json_t *perms = json_array();
    for (int p = 0; p < TIDE_PERM__COUNT; p++)
        if (tide_role_allows((int)r->key.role, p))
            json_array_append_new(perms, json_string(tide_perm_name(p)));
    return json_pack("{s:s, s:s, s:s, s:o, s:s}", "name", r->key.name, "role",
            tide_role_name((int)r->key.role), "tlp_max", tide_tlp_name(r->key.tlp_max),
            "permissions", perms ? perms : json_array(), "version", TIDE_VERSION);
}

/* POST /api/v1/session: sign in with the key of the Authorization header */
void tide__route_session_new(req *r, reply *out)
{
    const char *h = tide__req_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
    if (h == NULL) {
        tide__reply_error(out, MHD_HTTP_BAD_REQUEST,
                "sign in with the key in an Authorization header, not a session");
        return;
    }
    session x;
    memset(&x, 0, sizeof x);
    if (strlen(h) >= sizeof x.auth || random_token(x.id) < 0 || random_token(x.csrf) < 0) {
        tide__reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot make a session");
        return;
    }
    memcpy(x.auth, h, strlen(h) + 1);
    snprintf(x.name, sizeof x.name, "%s", r->key.name);
    x.created = x.last = tide__srv_mono_ms();
    pthread_mutex_lock(&sess_mu);
    session *slot = NULL;
    for (size_t i = 0; i < nsess_cap; i++) {
        session *y = &sessions[i];
        if (y->id[0] && expired(y, x.created))
            drop(y);
        if (y->id[0] == '\0') {
            if (slot == NULL || slot->id[0])
                slot = y; /* a free slot */
        } else if (slot == NULL || (slot->id[0] && y->last < slot->last))
            slot = y; /* the least recently used, while no slot is free */
    }
    if (slot)
        *slot = x;
    pthread_mutex_unlock(&sess_mu);
    if (slot == NULL) {
        tide__reply_error(out, MHD_HTTP_SERVICE_UNAVAILABLE, "no sessions");
        return;
    }
    set_cookie(r, out, x.id, SESSION_MAX_AGE_S);
    json_t *o = whoami(r);
    json_object_set_new(o, "csrf", json_string(x.csrf));
    json_object_set_new(o, "idle_timeout_s", json_integer(sess_idle_ms / 1000));
    drop(&x);
    r->audit_target = strdup("session");
    r->audit_detail = strdup("signed in");
    tide__reply_json(out, MHD_HTTP_CREATED, o ? json_dumps(o, JSON_COMPACT) : NULL);
    json_decref(o);
}

/* GET /api/v1/session: the key's name, role, ceiling, permissions (and the session's CSRF
 * token when the request came with the session's cookie) */
void tide__route_session_get(req *r, reply *out)
{
    json_t *o = whoami(r);
    char v[64];
    if (tide__req_header(r, MHD_HTTP_HEADER_AUTHORIZATION) == NULL &&
            tide__parse_cookie(
                    tide__req_header(r, MHD_HTTP_HEADER_COOKIE), SESSION_COOKIE, v, sizeof v)) {
        pthread_mutex_lock(&sess_mu);
        session *x = find(v);
        if (x)
            json_object_set_new(o, "csrf", json_string(x->csrf));
        pthread_mutex_unlock(&sess_mu);
        json_object_set_new(o, "idle_timeout_s", json_integer(sess_idle_ms / 1000));
    }
    tide__reply_json(out, MHD_HTTP_OK, o ? json_dumps(o, JSON_COMPACT) : NULL);
    json_decref(o);
}

/* DELETE /api/v1/session: sign out (the session of the cookie ends; the cookie is cleared) */
void tide__route_session_end(req *r, reply *out)
{
    char v[64];
    bool ended = false;
    if (tide__parse_cookie(
                tide__req_header(r, MHD_HTTP_HEADER_COOKIE), SESSION_COOKIE, v, sizeof v)) {
        pthread_mutex_lock(&sess_mu);
        session *x = find(v);
        if (x) {
            drop(x);
            ended = true;
        }
        pthread_mutex_unlock(&sess_mu);
    }
    set_cookie(r, out, "", 0);
    r->audit_target = strdup("session");
    r->audit_detail = strdup(ended ? "signed out" : "no session");
    json_t *o = json_pack("{s:b}", "signed_out", ended);
    tide__reply_json(out, MHD_HTTP_OK, o ? json_dumps(o, JSON_COMPACT) : NULL);
    json_decref(o);
}
