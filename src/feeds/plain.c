/*
 * plain.c - the pulls of plain HTTP(S) feeds: one body in a format `tide ingest` reads (a
 * maltrail or other list, abuse.ch CSV, a STIX bundle, a MISP event; "auto" detects it as
 * ingest does, from its first 4 KiB and its name), and MISP feeds (manifest.json, then each
 * event newer than the newest one ingested before).
 *
 * Requests are conditional: If-None-Match with the ETag and If-Modified-Since with the
 * Last-Modified of the last body ingested; 304 means nothing to do. A body is downloaded whole
 * into an unnamed temporary file (capped) before the reader sees it, so a transfer cut short is
 * never half ingested, then handed to the ingest run as a stream, named by its URL (without
 * its query), which gives lists their family as a path would (.../malware/emotet.txt).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/feeds_int.h"

static tide_feed_format format_of(const char *kind)
{
    int f = kind ? tide_feed_format_from_name(kind) : TIDE_FMT_AUTO;
    return f < 0 ? TIDE_FMT_AUTO : (tide_feed_format)f;
}

/* the URL without its query and fragment, as the name of the input */
static char *input_name(const char *url)
{
    size_t n = strcspn(url, "?#");
    return tide__strndup(url, n);
}

static int keep_validators(tide__pull *p, const tide__http_resp *r)
{
    p->set_validators = true;
    tide__free(p->etag);
    tide__free(p->last_modified);
    p->etag = r->etag ? tide__strdup(r->etag) : NULL;
    p->last_modified = r->last_modified ? tide__strdup(r->last_modified) : NULL;
    if ((r->etag && !p->etag) || (r->last_modified && !p->last_modified))
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    return 0;
}

int tide__plain_pull(tide__pull *p)
{
    const tide_store_feed *f = p->feed;
    FILE *fp = tmpfile();
    if (fp == NULL)
        return tide_error_set(
                TIDE_EIO, "feed %s: cannot create a temporary file: %s", f->name, strerror(errno));
    tide__http_req rq = {
        .url = f->url,
        .if_none_match = f->etag,
        .if_modified_since = f->last_modified,
        .to_file = fp,
    };
    tide__http_resp r;
    char *name = NULL;
    int rc = tide__http_get(p->http, &rq, &r);
    if (rc < 0)
        goto done;
    if (r.status == 304) {
        p->not_modified = true;
        goto done;
    }
    if (r.status != 200) {
        rc = tide__http_status_error(TIDE_EIO, f->url, &r);
        goto done;
    }
    if (fflush(fp) != 0 || fseek(fp, 0, SEEK_SET) != 0) {
        rc = tide_error_set(
                TIDE_EIO, "%s: cannot read the download back: %s", f->url, strerror(errno));
        goto done;
    }
    if ((name = input_name(f->url)) == NULL) {
        rc = tide_error_set(TIDE_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = tide_ingest_run_file(p->run, fp, name, format_of(f->kind))) < 0)
        goto done;
    p->pages++;
    rc = keep_validators(p, &r);
done:
    tide__http_resp_free(&r);
    tide__free(name);
    fclose(fp);
    return rc;
}

int tide__misp_feed_pull(tide__pull *p)
{
    const tide_store_feed *f = p->feed;
    /* the feed's folder: its URL, or the folder of a URL naming manifest.json */
    char *base = NULL;
    size_t ul = strlen(f->url);
    if (ul >= 13 && strcmp(f->url + ul - 13, "manifest.json") == 0)
        base = tide__strndup(f->url, ul - 13);
    else
        base = tide__url_dir(f->url);
    TIDE_CHECK_ALLOC(base);
    tide_buf url = TIDE_BUF_INIT;
    tide__http_resp r;
    memset(&r, 0, sizeof(r));
    tide__misp_manifest_event *ev = NULL;
    size_t nev = 0;
    int rc = tide__buf_printf(&url, "%smanifest.json", base);
    if (rc < 0)
        goto done;
    tide__http_req rq = {
        .url = url.ptr,
        .accept = "application/json",
        .if_none_match = f->etag,
        .if_modified_since = f->last_modified,
    };
    if ((rc = tide__http_get(p->http, &rq, &r)) < 0)
        goto done;
    if (r.status == 304) {
        p->not_modified = true;
        goto done;
    }
    if (r.status != 200) {
        rc = tide__http_status_error(TIDE_EIO, url.ptr, &r);
        goto done;
    }
    if ((rc = tide__misp_parse_manifest(
                 url.ptr, r.body.ptr ? r.body.ptr : "", r.body.len, &ev, &nev)) < 0)
        goto done;
    tide__http_resp manifest = r;
    memset(&r, 0, sizeof(r));
    long long since = -1;
    if (f->cursor && *f->cursor) {
        char *end;
        since = strtoll(f->cursor, &end, 10);
        if (*end != '\0')
            since = -1;
    }
    long long newest = since;
    size_t fetched = 0;
    /* oldest first, so that a failure leaves a resume point before it */
    for (size_t i = 0; i < nev && rc == 0; i++) {
        if (ev[i].timestamp <= since)
            continue;
        tide__buf_clear(&url);
        if ((rc = tide__buf_printf(&url, "%s%s.json", base, ev[i].uuid)) < 0)
            break;
        tide__http_req er = { .url = url.ptr, .accept = "application/json" };
        if ((rc = tide__http_get(p->http, &er, &r)) < 0)
            break;
        if (r.status != 200)
            rc = tide__http_status_error(TIDE_EIO, url.ptr, &r);
        else
            rc = tide_ingest_run_buffer(
                    p->run, r.body.ptr ? r.body.ptr : "", r.body.len, url.ptr, TIDE_FMT_MISP);
        tide__http_resp_free(&r);
        if (rc < 0)
            break;
        fetched++;
        p->pages++;
        /* every event up to this timestamp is stored, unless the next one shares it */
        if (i + 1 == nev || ev[i + 1].timestamp > ev[i].timestamp)
            newest = ev[i].timestamp;
    }
    if (newest > since) {
        char c[32];
        snprintf(c, sizeof(c), "%lld", newest);
        tide__free(p->cursor);
        if ((p->cursor = tide__strdup(c)) == NULL && rc == 0)
            rc = tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    if (rc == 0) {
        p->not_modified = fetched == 0;
        rc = keep_validators(p, &manifest);
    }
    tide__http_resp_free(&manifest);
done:
    tide__http_resp_free(&r);
    tide__free(ev);
    tide__free(base);
    tide__buf_free(&url);
    return rc;
}
