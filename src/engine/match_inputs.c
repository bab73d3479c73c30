/*
 * match_inputs.c - the inputs of a match run: files and folders (re-scanned when following,
 * with rotation: a name that now points at another file is a new input, the old file is read
 * on through the descriptor already open while it grows, until it has been quiet for
 * ROTATE_GRACE seconds; a file truncated or rewritten in place is read again; a removed one is
 * finished), descriptors, memory buffers and caller-implemented record sources.
 *
 * The registry of read positions. A file is named by the fingerprint of its first bytes (up to
 * TIDE__FP_MAX; a file shorter than that when first recorded keeps the length it had), so a
 * copytruncate copy or a byte-for-byte copy is the file it copies, and a file rewritten from
 * its start is a new one. For each, the history (MANIFEST) and the store (read_positions) keep
 * how far its events are recorded, committed with what they recorded; a run reads the file
 * from its start and skips, per sink, the events below that position.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

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
    p->own_fd = -1;
    p->reg = -1;
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
        bool known = false, grew = false;
        for (size_t k = 0; k < in->n && !known; k++) {
            tide__input *p = &in->v[k];
            if (!p->followable || p->ino != st.st_ino || p->dev != st.st_dev ||
                    !(p->opened || p->finished))
                continue;
            known = true;
            if (p->opened && p->rotated && strcmp(p->path, path) != 0) {
                /* renamed within what is followed: an input as before, by its new name */
                char *np = tide__strdup(path);
                if (np) {
                    tide__free(p->path);
                    p->path = np;
                    p->rotated = false;
                }
            }
            /* a finished file (rotated away and quiet, say) that grew: read again; the
             * registry skips what was recorded */
            grew = !p->opened && !p->failed && (uint64_t)st.st_size > p->seen_size;
            if (grew)
                p->ino = 0; /* retired for good: the new input reads the file */
        }
        if (known && !grew) /* e.g. conn.log renamed to conn.log.1: not read again */
            continue;
        tide__input *same = NULL;
        for (size_t k = 0; k < in->n; k++)
            if (in->v[k].followable && !in->v[k].finished && strcmp(in->v[k].path, path) == 0)
                same = &in->v[k];
        if (same && !same->opened)
            continue; /* not opened yet: it opens the current file */
        if (same && !grew) {
            same->rotated = true; /* read on while it grows, then retired */
            same->last_growth = tide__engine_mono();
        }
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
    tide__free(in->reg);
    memset(in, 0, sizeof(*in));
}

/* ---- the registry ---- */

static tide__reg *reg_find(tide__inputs *in, const char *key)
{
    for (size_t i = 0; i < in->nreg; i++)
        if (strcmp(in->reg[i].key, key) == 0)
            return &in->reg[i];
    return NULL;
}

static tide__reg *reg_add(tide__inputs *in, const char *key)
{
    tide__reg *g = reg_find(in, key);
    if (g)
        return g;
    if (in->nreg == in->capreg) {
        size_t cap = in->capreg ? in->capreg * 2 : 64;
        tide__reg *v = tide__realloc(in->reg, cap * sizeof(*v));
        if (v == NULL)
            return NULL;
        in->reg = v;
        in->capreg = cap;
    }
    g = &in->reg[in->nreg++];
    memset(g, 0, sizeof(*g));
    snprintf(g->key, sizeof(g->key), "%s", key);
    return g;
}

static int load_hist(const char *key, uint64_t pos, int64_t updated_ms, void *payload)
{
    (void)updated_ms;
    tide__reg *g = reg_add(payload, key);
    TIDE_CHECK_ALLOC(g);
    if (pos > g->hist)
        g->hist = pos;
    return 0;
}

static int load_store(const char *key, uint64_t pos, void *payload)
{
    tide__reg *g = reg_add(payload, key);
    TIDE_CHECK_ALLOC(g);
    if (pos > g->store)
        g->store = g->store_put = pos;
    return 0;
}

int tide__inputs_reg_load(tide__inputs *in, tide_history *hist, tide_store *store)
{
    if (in->reg_loaded)
        return 0;
    in->reg_loaded = true;
    if (hist)
        TIDE_CHECK(tide_history_positions(hist, load_hist, in));
    if (store)
        TIDE_CHECK(tide_store_positions(store, load_store, in));
    return 0;
}

/* The registry entry of a file open on fd with size bytes: the entry whose fingerprint its
 * first bytes have (the longest), else a new one named by its first min(size, FP_MAX) bytes. */
static long file_reg(tide__inputs *in, tide__input *p, uint64_t size)
{
    unsigned char buf[TIDE__FP_MAX];
    size_t n = size < TIDE__FP_MAX ? (size_t)size : TIDE__FP_MAX;
    ssize_t got = pread(p->own_fd, buf, n, 0);
    if (got <= 0)
        return -1;
    n = (size_t)got;
    char key[64];
    long best = -1;
    uint32_t best_len = 0;
    uint64_t best_hash = 0;
    for (size_t i = 0; i < in->nreg; i++) {
        unsigned len;
        uint64_t want;
        if (sscanf(in->reg[i].key, "f%u-%16" SCNx64, &len, &want) != 2 || len == 0 || len > n ||
                len <= best_len)
            continue;
        uint64_t h = XXH3_64bits(buf, len);
        if (h == want) {
            best = (long)i;
            best_len = len;
            best_hash = h;
        }
    }
    if (best < 0) {
        best_len = (uint32_t)n;
        best_hash = XXH3_64bits(buf, n);
        snprintf(key, sizeof(key), "f%u-%016" PRIx64, (unsigned)best_len, best_hash);
        if (reg_add(in, key) == NULL)
            return -1;
        best = (long)in->nreg - 1;
    }
    p->fp_len = best_len;
    p->fp_hash = best_hash;
    return best;
}

tide__reg *tide__input_reg(tide__inputs *in, tide__input *p)
{
    if (p->reg >= 0)
        return &in->reg[p->reg];
    if (!in->reg_loaded || p->is_buffer || p->is_fd)
        return NULL;
    if (p->is_source) {
        char key[64];
        size_t k = 0;
        key[k++] = 's';
        key[k++] = '-';
        for (const char *c = p->path; *c && k < sizeof(key) - 1; c++)
            key[k++] = (*c > ' ' && *c < 127) ? *c : '_';
        key[k] = '\0';
        tide__reg *g = reg_add(in, key);
        if (g == NULL)
            return NULL;
        p->reg = g - in->reg;
        p->kept_hist = g->hist;
        return g;
    }
    struct stat st;
    if (p->own_fd < 0 || fstat(p->own_fd, &st) != 0 || st.st_size == 0)
        return NULL; /* nothing to name it by yet */
    p->reg = file_reg(in, p, (uint64_t)st.st_size);
    if (p->reg < 0)
        return NULL;
    p->kept_hist = p->raw_from = in->reg[p->reg].hist;
    return &in->reg[p->reg];
}

size_t tide__inputs_store_moves(tide__inputs *in, tide_read_position *v, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < in->nreg && k < cap; i++)
        if (in->reg[i].store != in->reg[i].store_put) {
            v[k].key = in->reg[i].key;
            v[k].pos = in->reg[i].store;
            k++;
        }
    return k;
}

void tide__inputs_store_moved(tide__inputs *in)
{
    for (size_t i = 0; i < in->nreg; i++)
        in->reg[i].store_put = in->reg[i].store;
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
        /* the descriptor is ours: the file it names is read on after a rename, and its
         * identity (device, inode, fingerprint) is the file's, whatever the name names later */
        int fd = open(in->path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0)
            return tide_error_set(TIDE_EIO, "%s: cannot open: %s", in->path, strerror(errno));
        if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
            close(fd);
            return tide_error_set(TIDE_EINVAL, "%s: is a directory", in->path);
        }
#ifdef POSIX_FADV_SEQUENTIAL
        if (S_ISREG(st.st_mode))
            (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
        rc = tide_tel_open_fd(&in->r, fd, in->path, &o);
        if (rc < 0) {
            close(fd);
            return rc;
        }
        in->own_fd = fd;
        /* a compressed file is read to its end, not followed: its read position counts
         * decompressed bytes, which its size cannot be compared with (it was read again and
         * again as if truncated) */
        unsigned char mg[4];
        if (pread(fd, mg, 4, 0) == 4 &&
                ((mg[0] == 0x1f && mg[1] == 0x8b) ||
                        (mg[0] == 0x28 && mg[1] == 0xb5 && mg[2] == 0x2f && mg[3] == 0xfd)))
            in->compressed = true;
        in->dev = st.st_dev;
        in->ino = st.st_ino;
        in->seen_size = 0;
        in->seen_mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        in->tail_pos = 0;
        in->reg = -1;
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
        if (hist) /* bytes recorded before (the registry) are not counted again */
            tide_history_add_raw_bytes(hist, st.bytes > in->raw_from ? st.bytes - in->raw_from : 0);
        in->raw_from = 0;
        tide_tel_close(in->r);
        in->r = NULL;
    }
    if (in->own_fd >= 0) {
        close(in->own_fd);
        in->own_fd = -1;
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

#define TAIL_BYTES 64

static bool hash_at(int fd, uint64_t off, size_t n, uint64_t *out)
{
    unsigned char buf[TIDE__FP_MAX];
    if (n > sizeof(buf) || pread(fd, buf, n, (off_t)off) != (ssize_t)n)
        return false;
    *out = XXH3_64bits(buf, n);
    return true;
}

void tide__input_mark(tide__input *in)
{
    if (in->own_fd < 0)
        return;
    uint64_t pos = tide__input_position(in);
    struct stat st;
    if (fstat(in->own_fd, &st) == 0) {
        in->seen_size = (uint64_t)st.st_size;
        in->seen_mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    }
    if (pos == in->tail_pos)
        return;
    size_t n = pos < TAIL_BYTES ? (size_t)pos : TAIL_BYTES;
    if (hash_at(in->own_fd, pos - n, n, &in->tail_hash))
        in->tail_pos = pos;
}

bool tide__input_rewritten(tide__input *in)
{
    struct stat st;
    if (in->own_fd < 0 || in->compressed || fstat(in->own_fd, &st) != 0)
        return false;
    int64_t mt = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    uint64_t pos = tide__input_position(in);
    if ((uint64_t)st.st_size < pos)
        return true; /* truncated */
    if (mt == in->seen_mtime_ns && (uint64_t)st.st_size == in->seen_size)
        return false; /* untouched since it was last read */
    /* written since: appended to (the bytes read are as they were), or rewritten in place */
    uint64_t h;
    if (in->fp_len && in->fp_len <= st.st_size && hash_at(in->own_fd, 0, in->fp_len, &h) &&
            h != in->fp_hash)
        return true;
    if (in->tail_pos && in->tail_pos == pos) {
        size_t n = pos < TAIL_BYTES ? (size_t)pos : TAIL_BYTES;
        if (hash_at(in->own_fd, pos - n, n, &h) && h != in->tail_hash)
            return true;
    }
    in->seen_mtime_ns = mt;
    in->seen_size = (uint64_t)st.st_size;
    return false;
}
