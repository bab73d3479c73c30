/*
 * http.c - the HTTP(S) client of tide feeds, on libcurl (Debian's libcurl4-openssl-dev): GET
 * with the feed's credentials sent pre-emptively (HTTP Basic, or Authorization: Bearer), its
 * CA bundle, conditional requests (If-None-Match / If-Modified-Since), redirects within
 * http(s), proxies from the environment (libcurl reads http_proxy, https_proxy, all_proxy and
 * no_proxy itself), timeouts, a cap on every body (decompressed bytes), and retries with
 * exponential back-off after 429, 5xx and connection failures, waiting what Retry-After says
 * when the peer says (bounded by the options' max_wait).
 *
 * One handle per pull, so the pages of a TAXII collection reuse the connection.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "feeds/feeds_int.h"

struct tide__http {
    CURL *curl;
    const tide_feed_pull_opts *o;
    const tide_store_feed *feed;
    char *bearer; /* "Authorization: Bearer KEY" */
    long requests, retries;
    uint64_t bytes;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int tide__http_new(tide__http **out, const tide_feed_pull_opts *o, const tide_store_feed *feed)
{
    *out = NULL;
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return tide_error_set(
                TIDE_ERROR, "libcurl could not start: %s", curl_easy_strerror(curl_init_rc));
    tide__http *h = tide__calloc(1, sizeof(*h));
    TIDE_CHECK_ALLOC(h);
    h->o = o;
    h->feed = feed;
    h->curl = curl_easy_init();
    if (h->curl == NULL) {
        tide__free(h);
        return tide_error_set(TIDE_ENOMEM, "libcurl: no handle");
    }
    if (feed->auth && strcmp(feed->auth, "bearer") == 0 && feed->secret) {
        tide_buf b = TIDE_BUF_INIT;
        if (tide__buf_printf(&b, "Authorization: Bearer %s", feed->secret) < 0) {
            tide__http_free(h);
            return TIDE_ENOMEM;
        }
        h->bearer = tide__buf_detach(&b);
    }
    *out = h;
    return 0;
}

void tide__http_free(tide__http *h)
{
    if (h == NULL)
        return;
    if (h->curl)
        curl_easy_cleanup(h->curl);
    if (h->bearer) {
        memset(h->bearer, 0, strlen(h->bearer));
        tide__free(h->bearer);
    }
    tide__free(h);
}

void tide__http_counts(const tide__http *h, long *requests, long *retries, uint64_t *bytes)
{
    *requests = h->requests;
    *retries = h->retries;
    *bytes = h->bytes;
}

void tide__http_resp_free(tide__http_resp *r)
{
    if (r == NULL)
        return;
    tide__buf_free(&r->body);
    tide__free(r->content_type);
    tide__free(r->etag);
    tide__free(r->last_modified);
    tide__free(r->date_added_first);
    tide__free(r->date_added_last);
    memset(r, 0, sizeof(*r));
}

/* ---------------------------------------------------------------- one transfer */

typedef struct {
    tide__http_resp *r;
    FILE *to_file;
    uint64_t max;
    bool too_big, write_failed, oom;
    char *retry_after;
} xfer;

static size_t on_body(char *p, size_t size, size_t n, void *payload)
{
    xfer *x = payload;
    size_t len = size * n;
    if (x->r->bytes + len > x->max) {
        x->too_big = true;
        return 0;
    }
    if (x->to_file) {
        if (fwrite(p, 1, len, x->to_file) != len) {
            x->write_failed = true;
            return 0;
        }
    } else if (tide__buf_put(&x->r->body, p, len) < 0) {
        x->oom = true;
        return 0;
    }
    x->r->bytes += len;
    return len;
}

static void set_header(char **slot, const char *v, size_t n)
{
    tide__free(*slot);
    *slot = tide__strndup(v, n);
}

static size_t on_header(char *p, size_t size, size_t n, void *payload)
{
    xfer *x = payload;
    size_t len = size * n;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* a new response (after a redirect or a 100 Continue): forget the headers before */
        tide__http_resp *r = x->r;
        char **slots[] = { &r->content_type, &r->etag, &r->last_modified, &r->date_added_first,
            &r->date_added_last, &x->retry_after };
        for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
            tide__free(*slots[i]);
            *slots[i] = NULL;
        }
        return len;
    }
    const char *colon = memchr(p, ':', len);
    if (colon == NULL)
        return len;
    size_t kl = (size_t)(colon - p);
    const char *v = colon + 1, *end = p + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t vl = (size_t)(end - v);
    static const struct {
        const char *name;
        size_t off;
    } known[] = {
        { "content-type", offsetof(tide__http_resp, content_type) },
        { "etag", offsetof(tide__http_resp, etag) },
        { "last-modified", offsetof(tide__http_resp, last_modified) },
        { "x-taxii-date-added-first", offsetof(tide__http_resp, date_added_first) },
        { "x-taxii-date-added-last", offsetof(tide__http_resp, date_added_last) },
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strlen(known[i].name) == kl && strncasecmp(p, known[i].name, kl) == 0) {
            set_header((char **)((char *)x->r + known[i].off), v, vl);
            return len;
        }
    if (kl == 11 && strncasecmp(p, "retry-after", 11) == 0)
        set_header(&x->retry_after, v, vl);
    return len;
}

/* seconds Retry-After asks for (delta-seconds or an HTTP date), < 0 when absent or unreadable */
static double retry_after_seconds(const char *v)
{
    if (v == NULL || *v == '\0')
        return -1;
    char *end;
    errno = 0;
    long s = strtol(v, &end, 10);
    if (end != v && *end == '\0' && errno == 0)
        return s < 0 ? -1 : (double)s;
    time_t t = curl_getdate(v, NULL);
    if (t == (time_t)-1)
        return -1;
    double d = difftime(t, time(NULL));
    return d < 0 ? 0 : d;
}

/* a back-off: in steps of 0.1 s, so that a cancel flag set meanwhile ends it */
static void sleep_seconds(double s, const volatile int *cancel)
{
    while (s > 0 && !(cancel && *cancel)) {
        double step = s > 0.1 ? 0.1 : s;
        struct timespec ts = { (time_t)step, (long)((step - floor(step)) * 1e9) };
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
        s -= step;
    }
}

/* libcurl's progress callback: a non-zero return aborts the transfer (the cancel flag) */
static int on_xfer(
        void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    const volatile int *cancel = p;
    return *cancel != 0;
}

static bool retriable_status(long st)
{
    return st == 408 || st == 429 || st == 500 || st == 502 || st == 503 || st == 504;
}

static bool retriable_curl(CURLcode c)
{
    switch (c) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM: return true;
        default: return false;
    }
}

static int reset_body(xfer *x)
{
    tide__buf_clear(&x->r->body);
    x->r->bytes = 0;
    if (x->to_file) {
        if (fflush(x->to_file) != 0 || ftruncate(fileno(x->to_file), 0) != 0)
            return tide_error_set(
                    TIDE_EIO, "cannot truncate the download file: %s", strerror(errno));
        rewind(x->to_file);
    }
    return 0;
}

int tide__http_get(tide__http *h, const tide__http_req *rq, tide__http_resp *out)
{
    memset(out, 0, sizeof(*out));
    const tide_feed_pull_opts *o = h->o;
    const tide_store_feed *f = h->feed;
    CURL *c = h->curl;
    curl_easy_reset(c);
    struct curl_slist *hdrs = NULL, *t;
    char line[1024];
    int rc = 0;
#define ADD_HEADER(s)                                                                              \
    do {                                                                                           \
        if ((t = curl_slist_append(hdrs, (s))) == NULL) {                                          \
            rc = tide_error_set(TIDE_ENOMEM, "out of memory");                                     \
            goto done;                                                                             \
        }                                                                                          \
        hdrs = t;                                                                                  \
    } while (0)
    if (rq->accept) {
        snprintf(line, sizeof(line), "Accept: %s", rq->accept);
        ADD_HEADER(line);
    }
    if (h->bearer)
        ADD_HEADER(h->bearer);
    if (rq->if_none_match && *rq->if_none_match) {
        snprintf(line, sizeof(line), "If-None-Match: %s", rq->if_none_match);
        ADD_HEADER(line);
    }
    if (rq->if_modified_since && *rq->if_modified_since) {
        snprintf(line, sizeof(line), "If-Modified-Since: %s", rq->if_modified_since);
        ADD_HEADER(line);
    }
#undef ADD_HEADER
    char errbuf[CURL_ERROR_SIZE];
    xfer x = { .r = out, .to_file = rq->to_file, .max = o->max_bytes };
    curl_easy_setopt(c, CURLOPT_URL, rq->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "tide/" TIDE_VERSION);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, ""); /* whatever libcurl decodes */
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(o->timeout * 1000));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(o->connect_timeout * 1000));
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_bytes);
    if (f->auth && strcmp(f->auth, "basic") == 0 && f->user) {
        /* Basic only: libcurl then sends the credentials with the first request */
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, f->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, f->secret ? f->secret : "");
    }
    if (f->ca_bundle && *f->ca_bundle)
        curl_easy_setopt(c, CURLOPT_CAINFO, f->ca_bundle);
    if (o->cancel) {
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_xfer);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)o->cancel);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    }
    int attempts = o->retries < 0 ? 1 : o->retries + 1;
    for (int attempt = 1;; attempt++) {
        errbuf[0] = '\0';
        x.too_big = x.write_failed = x.oom = false;
        h->requests++;
        CURLcode cc = curl_easy_perform(c);
        h->bytes += out->bytes;
        long st = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
        out->status = st;
        if (x.oom) {
            rc = tide_error_set(TIDE_ENOMEM, "out of memory");
            break;
        }
        if (o->cancel && *o->cancel) {
            rc = tide_error_set(TIDE_ECANCELED, "%s: cancelled", rq->url);
            break;
        }
        if (x.write_failed) {
            rc = tide_error_set(
                    TIDE_EIO, "%s: cannot write the download: %s", rq->url, strerror(errno));
            break;
        }
        if (x.too_big || cc == CURLE_FILESIZE_EXCEEDED) {
            rc = tide_error_set(TIDE_ETOOBIG,
                    "%s: the response is larger than %llu bytes (the cap of one response)", rq->url,
                    (unsigned long long)o->max_bytes);
            break;
        }
        bool again = cc == CURLE_OK ? retriable_status(st) : retriable_curl(cc);
        if (!again || attempt >= attempts) {
            if (cc != CURLE_OK)
                rc = tide_error_set(TIDE_EIO, "%s: %s%s%s%s", rq->url, curl_easy_strerror(cc),
                        errbuf[0] ? " (" : "", errbuf, errbuf[0] ? ")" : "");
            if (cc != CURLE_OK && attempt > 1) {
                char msg[1536];
                snprintf(msg, sizeof(msg), "%s", tide_error_last());
                rc = tide_error_set(rc, "%s, after %d attempts", msg, attempt);
            }
            break;
        }
        /* back off: what the peer asks, else retry_wait doubled each time, bounded */
        double wait = o->retry_wait * pow(2.0, attempt - 1);
        double ra = cc == CURLE_OK ? retry_after_seconds(x.retry_after) : -1;
        if (ra >= 0)
            wait = ra;
        if (wait > o->max_wait)
            wait = o->max_wait;
        char why[256];
        if (cc == CURLE_OK)
            snprintf(why, sizeof(why), "HTTP %ld", st);
        else
            snprintf(why, sizeof(why), "%s", curl_easy_strerror(cc));
        tide__pull_notice(o, TIDE_NOTICE_WARN, "%s: %s; retrying in %.1f s (attempt %d of %d)%s",
                rq->url, why, wait, attempt + 1, attempts, ra >= 0 ? " as Retry-After asks" : "");
        h->retries++;
        sleep_seconds(wait, o->cancel);
        if ((rc = reset_body(&x)) < 0)
            break;
    }
done:
    tide__free(x.retry_after);
    curl_slist_free_all(hdrs);
    /* the handle keeps pointers to this call's header list and buffers: drop them */
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    if (rc < 0)
        tide__http_resp_free(out);
    return rc;
}

/* ---------------------------------------------------------------- errors and URLs */

static const char *reason_phrase(long st)
{
    switch (st) {
        case 301: return "Moved Permanently";
        case 302: return "Found";
        case 304: return "Not Modified";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 406: return "Not Acceptable";
        case 408: return "Request Timeout";
        case 413: return "Payload Too Large";
        case 415: return "Unsupported Media Type";
        case 416: return "Range Not Satisfiable";
        case 422: return "Unprocessable Entity";
        case 429: return "Too Many Requests";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
        default: return "";
    }
}

/* what the body of an error says, in a line: a TAXII error message's title and description,
 * else the text of the body with its markup left out */
static void body_words(const tide__http_resp *r, char *out, size_t outsz)
{
    out[0] = '\0';
    if (r->body.ptr == NULL || r->body.len == 0)
        return;
    json_t *j = json_loadb(r->body.ptr, r->body.len < 65536 ? r->body.len : 65536, 0, NULL);
    if (json_is_object(j)) {
        const char *title = json_string_value(json_object_get(j, "title"));
        const char *desc = json_string_value(json_object_get(j, "description"));
        snprintf(out, outsz, "%s%s%s", title ? title : "", title && desc ? ": " : "",
                desc ? desc : "");
    }
    json_decref(j);
    if (out[0] == '\0') {
        size_t o = 0;
        bool tag = false, space = true;
        for (size_t i = 0; i < r->body.len && i < 4096 && o + 4 < outsz; i++) {
            unsigned char ch = (unsigned char)r->body.ptr[i];
            if (ch == '<') {
                tag = true;
                continue;
            }
            if (ch == '>') {
                tag = false;
                ch = ' ';
            }
            if (tag)
                continue;
            if (ch < 0x20 || ch == 0x7f)
                ch = ' ';
            if (ch == ' ' && space)
                continue;
            space = ch == ' ';
            out[o++] = (char)ch;
        }
        while (o > 0 && out[o - 1] == ' ')
            o--;
        out[o] = '\0';
    }
    /* never let a peer's bytes break a terminal line */
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    if (strlen(out) > 200)
        memcpy(out + 197, "...", 4);
}

int tide__http_status_error(int code, const char *url, const tide__http_resp *r)
{
    char words[512];
    body_words(r, words, sizeof(words));
    const char *hint = "";
    switch (r->status) {
        case 401:
            hint = " (bad or missing credentials: tide feeds add --user/--password or --key)";
            break;
        case 403: hint = " (these credentials may not read this)"; break;
        case 404: hint = " (no such resource at this URL)"; break;
        case 406: hint = " (the peer does not serve " TIDE__TAXII_MEDIA ")"; break;
        default: break;
    }
    return tide_error_set(code, "%s: HTTP %ld %s%s%s%s", url, r->status, reason_phrase(r->status),
            hint, words[0] ? ": " : "", words);
}

char *tide__url_resolve(const char *base, const char *rel)
{
    CURLU *u = curl_url();
    if (u == NULL) {
        tide_error_set(TIDE_ENOMEM, "out of memory");
        return NULL;
    }
    char *s = NULL, *res = NULL;
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, base, 0);
    if (uc == CURLUE_OK)
        uc = curl_url_set(u, CURLUPART_URL, rel, 0);
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_URL, &s, 0);
    if (uc != CURLUE_OK)
        tide_error_set(TIDE_EFORMAT, "%s: cannot resolve the URL '%.200s': %s", base, rel,
                curl_url_strerror(uc));
    else if ((res = tide__strdup(s)) == NULL)
        tide_error_set(TIDE_ENOMEM, "out of memory");
    curl_free(s);
    curl_url_cleanup(u);
    return res;
}

char *tide__url_dir(const char *url)
{
    size_t n = strlen(url);
    tide_buf b = TIDE_BUF_INIT;
    if (tide__buf_put(&b, url, n) < 0 ||
            ((n == 0 || url[n - 1] != '/') && tide__buf_putc(&b, '/') < 0)) {
        tide__buf_free(&b);
        tide_error_set(TIDE_ENOMEM, "out of memory");
        return NULL;
    }
    return tide__buf_detach(&b);
}

int tide__url_check(const char *url)
{
    if (url == NULL || *url == '\0')
        return tide_error_set(TIDE_EINVAL, "no URL");
    if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
        return tide_error_set(
                TIDE_EINVAL, "URL '%.200s': only http:// and https:// are pulled", url);
    pthread_once(&curl_once, curl_init);
    CURLU *u = curl_url();
    if (u == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    int rc = 0;
    char *part = NULL;
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc != CURLUE_OK)
        rc = tide_error_set(TIDE_EINVAL, "URL '%.200s': %s", url, curl_url_strerror(uc));
    else if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK && part) {
        curl_free(part);
        part = NULL;
        rc = tide_error_set(TIDE_EINVAL,
                "the URL holds credentials: give them with --user / --password or --key, so "
                "that they are never printed");
    } else if (curl_url_get(u, CURLUPART_HOST, &part, 0) != CURLUE_OK || part == NULL ||
               *part == '\0')
        rc = tide_error_set(TIDE_EINVAL, "URL '%.200s': no host", url);
    curl_free(part);
    curl_url_cleanup(u);
    return rc;
}

int tide__url_add_query(tide_buf *b, const char *key, const char *value)
{
    char *esc = curl_easy_escape(NULL, value, 0);
    if (esc == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    int rc =
            tide__buf_printf(b, "%s%s=%s", strchr(b->ptr ? b->ptr : "", '?') ? "&" : "?", key, esc);
    curl_free(esc);
    return rc < 0 ? rc : 0;
}

void tide__pull_notice(const tide_feed_pull_opts *o, tide_notice_level level, const char *fmt, ...)
{
    if (o == NULL || o->on_notice == NULL)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    o->on_notice(level, msg, o->payload);
}
