/*
 * match_inputs.c - the inputs of a match run: files and folders (re-scanned when following,
 * with rotation: a name that now points at another file is a new input, the old file is read
 * to its end first; a file truncated in place is read again; a removed one is finished),
 * descriptors, memory buffers and caller-implemented record sources.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/match_inputs.h"
#include "tide/errors.h"

static int grow(tide__inputs *in)
{
    if (in->n < in->cap)
        return 0;
    size_t cap = in->cap ? in->cap * 2 : 16;
    tide__input *v = tide__realloc(in->v, cap * sizeof(*v));
    TIDE_CHECK_ALLOC(v);
    in->v = v;
    in->cap = cap;
    return 0;
}

/* A new input named name (copied); NULL on allocation failure. */
static tide__input *push(tide__inputs *in, const char *name)
{
    if (grow(in) < 0)
        return NULL;
    tide__input *p = &in->v[in->n];
    memset(p, 0, sizeof(*p));
    p->fd = -1;
    if ((p->path = tide__strdup(name)) == NULL) {
        tide_error_set(TIDE_ENOMEM, "out of memory");
        return NULL;
    }
    in->n++;
    return p;
}

static bool have_path(const tide__inputs *in, const char *path)
{
    for (size_t i = 0; i < in->n; i++)
        if (!in->v[i].is_fd && !in->v[i].is_buffer && !in->v[i].is_source &&
                strcmp(in->v[i].path, path) == 0)
            return true;
    return false;
}

static int add_file(tide__inputs *in, const char *path)
{
    if (have_path(in, path))
        return 0;
    tide__input *p = push(in, path);
    if (p == NULL)
        return TIDE_ENOMEM;
    p->followable = true;
    return 0;
}

static int add_file_cb(const char *path, void *payload)
{
    return add_file(payload, path);
}

static int add_root(char ***v, size_t *n, const char *path)
{
    char **nv = tide__realloc(*v, (*n + 1) * sizeof(char *));
    TIDE_CHECK_ALLOC(nv);
    *v = nv;
    TIDE_CHECK_ALLOC(nv[*n] = tide__strdup(path));
    (*n)++;
    return 0;
}

int tide__inputs_add_path(tide__inputs *in, const char *path)
{
    if (path == NULL || *path == '\0')
        return tide_error_set(TIDE_EINVAL, "empty input path");
    if (strcmp(path, "-") == 0)
        return tide__inputs_add_fd(in, 0, "-");
    struct stat st;
    if (stat(path, &st) != 0)
        return tide_error_set(
                errno == ENOENT ? TIDE_ENOTFOUND : TIDE_EIO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        TIDE_CHECK(add_root(&in->dirs, &in->ndirs, path));
        int rc = tide_walk_files(path, add_file_cb, in);
        return rc < 0 ? rc : 0;
    }
    TIDE_CHECK(add_root(&in->files, &in->nfiles, path));
    return add_file(in, path);
}

int tide__inputs_add_fd(tide__inputs *in, int fd, const char *name)
{
    tide__input *p = push(in, name ? name : "-");
    if (p == NULL)
        return TIDE_ENOMEM;
    p->is_fd = true;
    p->fd = fd;
    return 0;
}

int tide__inputs_add_buffer(tide__inputs *in, const void *data, size_t len, const char *name)
{
    if (data == NULL && len > 0)
        return tide_error_set(TIDE_EINVAL, "buffer input: no data");
    tide__input *p = push(in, name ? name : "buffer");
    if (p == NULL)
        return TIDE_ENOMEM;
    p->is_buffer = true;
    p->data = data;
    p->len = len;
    return 0;
}

int tide__inputs_add_source(tide__inputs *in, const tide_match_source *src)
{
    if (src == NULL || src->next == NULL)
        return tide_error_set(TIDE_EINVAL, "record source without a next function");
    tide__input *p = push(in, src->name ? src->name : "source");
    if (p == NULL)
        return TIDE_ENOMEM;
    p->is_source = true;
    p->src = *src;
    return 0;
}

void tide__inputs_rescan(tide__inputs *in)
{
    tide__inputs found = { 0 };
    for (size_t i = 0; i < in->nfiles; i++)
        (void)add_file(&found, in->files[i]);
    for (size_t d = 0; d < in->ndirs; d++)
        (void)tide_walk_files(in->dirs[d], add_file_cb, &found);
    for (size_t i = 0; i < found.n; i++) {
        const char *path = found.v[i].path;
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        bool known = false;
        for (size_t k = 0; k < in->n && !known; k++)
            known = in->v[k].followable && in->v[k].ino == st.st_ino && in->v[k].dev == st.st_dev &&
                    (in->v[k].opened || in->v[k].finished);
        if (known) /* e.g. conn.log renamed to conn.log.1: not read again */
            continue;
        tide__input *same = NULL;
        for (size_t k = 0; k < in->n; k++)
            if (in->v[k].followable && !in->v[k].finished && strcmp(in->v[k].path, path) == 0)
                same = &in->v[k];
        if (same && !same->opened)
            continue; /* not opened yet: it opens the current file */
        if (same)
            same->rotated = true; /* drained first, then retired */
        tide__input *p = push(in, path);
        if (p == NULL)
            break;
        p->followable = true;
    }
    tide__inputs_free(&found);
}

bool tide__inputs_may_grow(const tide__inputs *in)
{
    if (in->nfiles + in->ndirs > 0)
        return true;
    for (size_t i = 0; i < in->n; i++)
        if (!in->v[i].finished)
            return true;
    return false;
}

void tide__inputs_committed(tide__inputs *in)
{
    for (size_t i = 0; i < in->n; i++) {
        tide__input *p = &in->v[i];
        if (p->is_source && p->have_pos && p->src.committed)
            p->src.committed(p->src.ctx, p->last_pos);
    }
}

void tide__inputs_totals(const tide__inputs *in, uint64_t *bytes, uint64_t *bad)
{
    uint64_t b = 0, k = 0;
    for (size_t i = 0; i < in->n; i++) {
        const tide__input *p = &in->v[i];
        b += p->bytes;
        k += p->bad;
        if (p->r) {
            tide_tel_stats st;
            tide_tel_reader_stats(p->r, &st);
            b += st.bytes;
            k += st.bad;
        }
    }
    *bytes = b;
    *bad = k;
}

void tide__inputs_free(tide__inputs *in)
{
    for (size_t i = 0; i < in->n; i++) {
        tide__input *p = &in->v[i];
        tide__input_close(p, NULL);
        if (p->is_source && p->src.close)
            p->src.close(p->src.ctx);
        tide__free(p->path);
    }
    for (size_t i = 0; i < in->nfiles; i++)
        tide__free(in->files[i]);
    for (size_t i = 0; i < in->ndirs; i++)
        tide__free(in->dirs[i]);
    tide__free(in->files);
    tide__free(in->dirs);
    tide__free(in->v);
    memset(in, 0, sizeof(*in));
}

/* ---- one input ---- */

int tide__input_open(tide__input *in, const tide_tel_opts *opts)
{
    tide_tel_opts o = *opts;
    int rc;
    if (in->is_fd) {
        o.follow = false;
        rc = tide_tel_open_fd(&in->r, in->fd, in->path, &o);
    } else if (in->is_buffer) {
        o.follow = false;
        rc = tide_tel_open_mem(&in->r, in->data, in->len, in->path, &o);
    } else if (in->is_source) {
        /* records one at a time through the format's record parser */
        in->on_bad = o.on_bad;
        in->bad_payload = o.bad_payload;
        rc = tide_tel_parser_new(&in->parser, in->src.format, &o);
    } else {
        rc = tide_tel_open(&in->r, in->path, &o);
        struct stat st;
        if (rc == 0 && stat(in->path, &st) == 0) {
            in->dev = st.st_dev;
            in->ino = st.st_ino;
        }
    }
    if (rc < 0)
        return rc;
    in->opened = true;
    return 0;
}

/* The reason of a record parser's error, without its "(record): line N: " prefix. */
static const char *reason_of(const char *msg)
{
    if (strncmp(msg, "(record): line ", 15) == 0) {
        const char *p = strstr(msg + 15, ": ");
        if (p)
            return p + 2;
    }
    return msg;
}

static int read_source(tide__input *in,
        int (*consume)(void *payload, const char *name, const tide_event *ev, size_t n),
        void *payload)
{
    for (;;) {
        const char *rec = NULL;
        size_t len = 0;
        uint64_t pos = 0;
        int r = in->src.next(in->src.ctx, &rec, &len, &pos);
        if (r < 0)
            return r;
        if (r == TIDE_SOURCE_END) {
            in->source_ended = true;
            return 0;
        }
        if (r != TIDE_SOURCE_RECORD)
            return 0; /* nothing for now */
        in->records++;
        in->last_pos = pos;
        in->have_pos = true;
        tide_event ev;
        int p = tide_tel_parse(in->parser, rec, len, &ev);
        if (p == 1) {
            ev.line = pos;
            ev.offset = pos;
            int c = consume(payload, in->path, &ev, 1);
            if (c != 0)
                return c;
        } else if (p < 0) {
            if (p != TIDE_EFORMAT)
                return p;
            in->bad++;
            if (in->on_bad)
                in->on_bad(in->path, pos, reason_of(tide_error_last()), in->bad_payload);
        }
    }
}

int tide__input_read(tide__input *in, size_t max,
        int (*consume)(void *payload, const char *name, const tide_event *ev, size_t n),
        void *payload)
{
    if (in->is_source)
        return read_source(in, consume, payload);
    tide_event ev[64];
    if (max > 64)
        max = 64;
    size_t got;
    int r;
    while ((r = tide_tel_next_batch(in->r, ev, max, &got)) == 1) {
        int c = consume(payload, in->path, ev, got);
        if (c != 0)
            return c;
    }
    return r;
}

uint64_t tide__input_position(const tide__input *in)
{
    if (in->is_source)
        return in->records;
    if (in->r == NULL)
        return 0;
    tide_tel_stats st;
    tide_tel_reader_stats(in->r, &st);
    return st.bytes;
}

void tide__input_close(tide__input *in, tide_history *hist)
{
    if (in->r) {
        tide_tel_stats st;
        tide_tel_reader_stats(in->r, &st);
        in->bytes += st.bytes;
        in->bad += st.bad;
        if (hist)
            tide_history_add_raw_bytes(hist, st.bytes);
        tide_tel_close(in->r);
        in->r = NULL;
    }
    if (in->parser) {
        tide_tel_parser_free(in->parser);
        in->parser = NULL;
    }
    in->opened = false;
}

int tide__input_follow_state(const tide__input *in)
{
    if (in->rotated)
        return TIDE__FOLLOW_ROTATED;
    struct stat st;
    if (stat(in->path, &st) != 0)
        return errno == ENOENT ? TIDE__FOLLOW_REMOVED : TIDE__FOLLOW_GROWING;
    if (st.st_ino == in->ino && st.st_dev == in->dev &&
            (uint64_t)st.st_size < tide__input_position(in))
        return TIDE__FOLLOW_TRUNCATED;
    return TIDE__FOLLOW_GROWING;
}
