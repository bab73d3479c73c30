/*
 * taxii.c - the pull of a TAXII 2.1 collection: the feed's URL (a discovery resource: its
 * default API root; or an API root), the collection (its resource when the feed names one,
 * else the collections of the root: the only readable one), its can_read, then the objects
 * page by page: GET .../objects/?added_after=CURSOR&limit=N[&next=TOKEN], each page handed to
 * the pull's ingest run as it comes, while `more` is true. As the reference client
 * (taxii2client) does: Accept: application/taxii+json;version=2.1 and the credentials on every
 * request, URLs ending in '/', and every response refused unless its Content-Type is
 * application/taxii+json;version=2.1. Unlike it, `more` without `next`, a `next` seen before
 * and more pages than the cap are refused (a peer that pages forever).
 *
 * The resume point is the X-TAXII-Date-Added-Last of the last page ingested (pages come in
 * date_added order), stored by feeds.c once the run has stored the objects.
 */
#include <stdlib.h>
#include <string.h>

#include "feeds/feeds_int.h"

/* GET a TAXII resource into r: a response, status 200, the TAXII media type (else r is
 * freed and the error set) */
static int taxii_get(tide__pull *p, const char *url, tide__http_resp *r)
{
    tide__http_req rq = { .url = url, .accept = TIDE__TAXII_MEDIA };
    TIDE_CHECK(tide__http_get(p->http, &rq, r));
    int rc = 0;
    if (r->status != 200)
        rc = tide__http_status_error(TIDE_EIO, url, r);
    else if (!tide__taxii_media_ok(r->content_type))
        rc = tide_error_set(TIDE_EFORMAT,
                "%s: Content-Type '%.100s' is not " TIDE__TAXII_MEDIA
                " (refused, as TAXII 2.1 clients do)",
                url, r->content_type ? r->content_type : "(none)");
    if (rc < 0)
        tide__http_resp_free(r);
    return rc;
}

/* the API root of the feed's URL */
static int api_root(tide__pull *p, char **out)
{
    char *url = tide__url_dir(p->feed->url);
    TIDE_CHECK_ALLOC(url);
    tide__http_resp r;
    int rc = taxii_get(p, url, &r);
    if (rc == 0)
        rc = tide__taxii_parse_root(url, r.body.ptr ? r.body.ptr : "", r.body.len, out);
    tide__http_resp_free(&r);
    if (rc == 0 && strcmp(*out, url) != 0) {
        /* a discovery resource named the root: check it is one that speaks 2.1 */
        char *again = NULL;
        rc = taxii_get(p, *out, &r);
        if (rc == 0)
            rc = tide__taxii_parse_root(*out, r.body.ptr ? r.body.ptr : "", r.body.len, &again);
        tide__http_resp_free(&r);
        tide__free(again);
        if (rc < 0) {
            tide__free(*out);
            *out = NULL;
        }
    }
    tide__free(url);
    return rc;
}

/* the collection's URL (ending in '/') after checking it may be read */
static int collection(tide__pull *p, const char *root, char **out)
{
    *out = NULL;
    const char *want = p->feed->collection;
    tide_buf u = TIDE_BUF_INIT;
    tide__http_resp r;
    tide__taxii_collection c;
    int rc;
    if (want && *want) {
        TIDE_CHECK(tide__buf_printf(&u, "%scollections/", root));
        /* the id as a path segment */
        for (const char *q = want; *q; q++)
            if (!(*q >= 'a' && *q <= 'z') && !(*q >= 'A' && *q <= 'Z') &&
                    !(*q >= '0' && *q <= '9') && !strchr("-._~", *q)) {
                tide__buf_free(&u);
                return tide_error_set(TIDE_EINVAL,
                        "collection id '%.100s' holds a character a collection id has not", want);
            }
        TIDE_CHECK(tide__buf_printf(&u, "%s/", want));
        rc = taxii_get(p, u.ptr, &r);
        if (rc == 0)
            rc = tide__taxii_parse_collection(u.ptr, r.body.ptr ? r.body.ptr : "", r.body.len, &c);
        if (rc == 0 && strcmp(c.id, want) != 0)
            rc = tide_error_set(
                    TIDE_EFORMAT, "%s: the collection resource says id '%s'", u.ptr, c.id);
    } else {
        TIDE_CHECK(tide__buf_printf(&u, "%scollections/", root));
        rc = taxii_get(p, u.ptr, &r);
        if (rc == 0)
            rc = tide__taxii_parse_collections(
                    u.ptr, r.body.ptr ? r.body.ptr : "", r.body.len, NULL, &c);
        if (rc == 0) {
            tide__buf_clear(&u);
            rc = tide__buf_printf(&u, "%scollections/%s/", root, c.id);
            rc = rc < 0 ? rc : 0;
        }
    }
    tide__http_resp_free(&r);
    if (rc == 0 && !c.can_read)
        rc = tide_error_set(TIDE_EINVAL,
                "%s: collection '%s' (%s) says can_read false: these credentials may not read "
                "it",
                u.ptr, c.id, c.title);
    if (rc < 0) {
        tide__buf_free(&u);
        return rc;
    }
    *out = tide__buf_detach(&u);
    return 0;
}

/* the tokens handed out so far, to tell a peer that hands the same one again */
typedef struct {
    char **v;
    size_t n, cap;
} tokens;

static bool tokens_seen(const tokens *t, const char *s)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->v[i], s) == 0)
            return true;
    return false;
}

static int tokens_add(tokens *t, const char *s)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **v = tide__realloc(t->v, cap * sizeof(*v));
        TIDE_CHECK_ALLOC(v);
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n] = tide__strdup(s);
    TIDE_CHECK_ALLOC(t->v[t->n]);
    t->n++;
    return 0;
}

static void tokens_free(tokens *t)
{
    for (size_t i = 0; i < t->n; i++)
        tide__free(t->v[i]);
    tide__free(t->v);
}

int tide__taxii_pull(tide__pull *p)
{
    char *root = NULL, *coll = NULL, *next = NULL;
    tide_buf url = TIDE_BUF_INIT;
    tokens seen = { 0 };
    int rc;
    if ((rc = api_root(p, &root)) < 0 || (rc = collection(p, root, &coll)) < 0)
        goto done;
    long limit = tide__pull_option_long(p, "limit");
    const char *since = p->feed->cursor;
    for (;;) {
        tide__buf_clear(&url);
        if ((rc = tide__buf_printf(&url, "%sobjects/", coll)) < 0)
            goto done;
        if (since && *since && (rc = tide__url_add_query(&url, "added_after", since)) < 0)
            goto done;
        if (limit > 0) {
            char n[32];
            snprintf(n, sizeof(n), "%ld", limit);
            if ((rc = tide__url_add_query(&url, "limit", n)) < 0)
                goto done;
        }
        if (next && (rc = tide__url_add_query(&url, "next", next)) < 0)
            goto done;
        tide__http_resp r;
        if ((rc = taxii_get(p, url.ptr, &r)) < 0)
            goto done;
        tide__taxii_envelope env;
        const char *body = r.body.ptr ? r.body.ptr : "";
        if ((rc = tide__taxii_parse_envelope(url.ptr, body, r.body.len, &env)) < 0) {
            tide__http_resp_free(&r);
            goto done;
        }
        if (env.objects > 0) {
            /* the page's objects go through the ingest (streaming STIX reader: the envelope
             * is read as a bundle without its type); bad objects are reported and skipped */
            rc = tide_ingest_run_buffer(p->run, body, r.body.len, url.ptr, TIDE_FMT_STIX);
            if (rc < 0) {
                tide__taxii_envelope_free(&env);
                tide__http_resp_free(&r);
                goto done;
            }
        }
        p->pages++;
        if (r.date_added_last && *r.date_added_last) {
            /* the objects up to here are in the store: the next pull may start after them */
            tide__free(p->cursor);
            if ((p->cursor = tide__strdup(r.date_added_last)) == NULL)
                rc = tide_error_set(TIDE_ENOMEM, "out of memory");
        }
        tide__http_resp_free(&r);
        bool more = env.more;
        char *tok = env.next;
        env.next = NULL;
        tide__taxii_envelope_free(&env);
        if (rc < 0 || !more) {
            tide__free(tok);
            goto done;
        }
        if (tok == NULL) {
            rc = tide_error_set(TIDE_EFORMAT,
                    "%s: the envelope says \"more\": true without a \"next\": refused (asking "
                    "for the first page again would never end)",
                    url.ptr);
            goto done;
        }
        if (tokens_seen(&seen, tok)) {
            rc = tide_error_set(TIDE_EFORMAT,
                    "%s: the peer handed out the \"next\" token '%.100s' again after %ld "
                    "pages: refused (it would page forever)",
                    url.ptr, tok, p->pages);
            tide__free(tok);
            goto done;
        }
        if (p->pages >= p->o->max_pages) {
            rc = tide_error_set(TIDE_ETOOBIG,
                    "%s: still \"more\" after %ld pages (the cap of one pull): refused; the "
                    "objects of those pages are stored and the next pull resumes after them",
                    url.ptr, p->pages);
            tide__free(tok);
            goto done;
        }
        if ((rc = tokens_add(&seen, tok)) < 0) {
            tide__free(tok);
            goto done;
        }
        tide__free(next);
        next = tok;
    }
done:
    tide__free(root);
    tide__free(coll);
    tide__free(next);
    tide__buf_free(&url);
    tokens_free(&seen);
    return rc;
}
