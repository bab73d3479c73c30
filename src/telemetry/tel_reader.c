/*
 * tel_reader.c - the public telemetry reader (SPEC C2): open over a path, a file descriptor, a
 * memory buffer or a caller's byte source; tide_tel_next / tide_tel_next_batch frame records
 * (tel_frame.c, over the input layer tel_input.c) and hand each to the record parser
 * (tel_parse.c) the reader embeds; bad records are counted and reported here; statistics.
 *
 * Contract: a reader is one parser (struct tide_tel_parser, its first member) plus an input and a
 * line buffer. Events are borrowed until the next call; a batch stays valid as a whole because
 * while it is filled the reader neither refills (moves) its line buffer, nor reuses the scratch,
 * nor parses a line that replaces state events point to (a Zeek '#' header): it ends the batch
 * early instead (TIDE__TEL_HOLD). The descriptor of tide_tel_open_fd, the buffer of
 * tide_tel_open_mem and the source of tide_tel_open_input are borrowed until tide_tel_close;
 * tide_tel_open owns the descriptor it opens.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "telemetry/tel_frame.h"
#include "telemetry/tel_int.h"
#include "tide/errors.h"

int tide__tel_bad(tide_tel_reader *r, uint64_t line, const char *reason)
{
    r->st.bad++;
    if (r->ps.opts.on_bad)
        r->ps.opts.on_bad(r->ps.name, line, reason, r->ps.opts.bad_payload);
    return 0;
}

/* A reader over the input described by src (copied), named name in reports. */
static int open_reader(
        tide_tel_reader **out, const tide__tel_in *src, const char *name, const tide_tel_opts *opts)
{
    *out = NULL;
    tide_tel_reader *r = tide__calloc(1, sizeof(*r));
    TIDE_CHECK_ALLOC(r);
    r->in = *src;
    tide_tel_format format = opts ? opts->format : TIDE_TEL_AUTO;
    /* Memory grows with the input: the line buffer starts at two reads (64 KiB for a caller's
     * source) and grows to max_line + 4 MiB in fill, the scratch starts for records of 64 KiB and
     * grows in read_event. A plain
     * buffer in memory gets what it can need at once: no record is longer than the buffer, and
     * the line buffer needs one byte more than the longest record. */
    size_t size = 0;
    bool sized = tide__tel_in_size(&r->in, &size);
    int rc = tide__tel_parser_init(&r->ps, format, name, opts, sized ? size + 1 : 65536);
    if (rc < 0)
        goto fail;
    r->in.name = r->ps.name;
    const tide__tel_fmt *f = tide__tel_fmt_of(format);
    r->arr_ok = format == TIDE_TEL_AUTO || (f && (f->flags & TIDE__TEL_F_JSON));
    r->cap_max = r->ps.max_line + TIDE__TEL_READ_CHUNK;
    if (sized && size < r->cap_max)
        r->cap_max = size + 1; /* the whole input: it never grows */
    /* two reads of a file; a caller's source hands over pieces of its own size */
    r->cap = r->in.src == TEL_SRC_CB ? 65536 : 2 * TIDE__TEL_READ_SIZE;
    if (r->cap > r->cap_max)
        r->cap = r->cap_max;
    r->buf = tide__malloc(r->cap + TIDE__TEL_BUF_SLACK); /* slack: see TIDE__TEL_BUF_SLACK */
    if (r->buf == NULL) {
        rc = tide_error_set(TIDE_ENOMEM, "out of memory");
        goto fail;
    }
    memset(r->buf, 0, TIDE__TEL_BUF_SLACK); /* (past the data, see fill in tel_frame.c) */
    *out = r;
    return 0;
fail:
    r->in.own_fd = false; /* the caller keeps what it gave on failure */
    tide_tel_close(r);
    return rc;
}

int tide_tel_open_fd(tide_tel_reader **out, int fd, const char *name, const tide_tel_opts *opts)
{
    tide__tel_in in;
    memset(&in, 0, sizeof(in));
    in.src = TEL_SRC_FD;
    in.fd = fd;
    return open_reader(out, &in, name ? name : "(fd)", opts);
}

int tide_tel_open_mem(tide_tel_reader **out, const void *data, size_t len, const char *name,
        const tide_tel_opts *opts)
{
    *out = NULL;
    if (data == NULL && len > 0)
        return tide_error_set(TIDE_EINVAL, "telemetry: NULL buffer");
    tide__tel_in in;
    memset(&in, 0, sizeof(in));
    in.src = TEL_SRC_MEM;
    in.fd = -1;
    in.mem = data;
    in.mem_len = len;
    return open_reader(out, &in, name ? name : "(memory)", opts);
}

int tide_tel_open_input(tide_tel_reader **out, const tide_tel_input *input, const char *name,
        const tide_tel_opts *opts)
{
    *out = NULL;
    if (input == NULL || input->read == NULL)
        return tide_error_set(TIDE_EINVAL, "telemetry: no input read function");
    tide__tel_in in;
    memset(&in, 0, sizeof(in));
    in.src = TEL_SRC_CB;
    in.fd = -1;
    in.cb = *input;
    return open_reader(out, &in, name ? name : "(input)", opts);
}

int tide_tel_open(tide_tel_reader **out, const char *path, const tide_tel_opts *opts)
{
    *out = NULL;
    if (path == NULL)
        return tide_error_set(TIDE_EINVAL, "telemetry: NULL path");
    if (strcmp(path, "-") == 0)
        return tide_tel_open_fd(out, 0, "(stdin)", opts);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tide_error_set(TIDE_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    bool st_ok = fstat(fd, &st) == 0;
    if (st_ok && S_ISDIR(st.st_mode)) {
        close(fd);
        return tide_error_set(TIDE_EINVAL, "%s: is a directory", path);
    }
    int rc = tide_tel_open_fd(out, fd, path, opts);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    (*out)->in.own_fd = true;
#ifdef POSIX_FADV_SEQUENTIAL
    if (st_ok && S_ISREG(st.st_mode))
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    return 0;
}

/* The next event, its observations appended at r->ps.nobs and its scratch at r->ps.scr_len. With
 * hold, the events read before (a batch) must stay valid: TIDE__TEL_HOLD instead of anything that
 * would move the buffer, run out of scratch or free Zeek column names (a header line). */
static int read_event(tide_tel_reader *r, tide_event *ev, bool hold)
{
    tide_tel_parser *ps = &r->ps;
    const size_t scr0 = ps->scr_len;
    ps->obs0 = ps->nobs;
    for (;;) {
        ps->nobs = ps->obs0;
        ps->scr_len = scr0;
        /* a record takes at most twice its length plus 64 KiB of scratch (the scratch grows to
         * that before the first record of a batch; the others wait for the next batch) */
        if (r->arr) {
            if (!hold && ps->scr_cap < 2 * ps->max_line + 65536) {
                int grc = tide__tel_parser_scratch(ps, ps->max_line);
                if (grc < 0)
                    return grc;
            }
            /* an element is never longer than what is left in the buffer */
            size_t left = r->end - r->pos;
            if (left > ps->max_line)
                left = ps->max_line;
            if (hold && ps->scr_cap - ps->scr_len < 2 * left + 65536)
                return TIDE__TEL_HOLD;
        }
        char *p;
        size_t n;
        uint64_t off;
        int rc = tide__tel_frame_next(r, &p, &n, &off, hold);
        if (rc <= 0 || rc == TIDE__TEL_HOLD)
            return rc;
        if (TIDE__UNLIKELY(ps->scr_cap - ps->scr_len < 2 * n + 65536)) {
            if (hold) { /* (a line: an element was checked above) read first in the next batch */
                tide__tel_frame_unread(r, p);
                return TIDE__TEL_HOLD;
            }
            rc = tide__tel_parser_scratch(ps, n); /* nothing points into it yet */
            if (rc < 0)
                return rc;
        }
        if (hold && !r->arr && p[0] == '#' && ps->fmt && (ps->fmt->flags & TIDE__TEL_F_HEADERS)) {
            /* a header may free the column names the batch's events point to: the line is
             * read first in the next batch */
            tide__tel_frame_unread(r, p);
            return TIDE__TEL_HOLD;
        }
        rc = tide__tel_parse_record(ps, p, n, r->line_ascii, r->rec_line, ev);
        if (rc == 1) {
            ev->offset = off;
            r->st.events++;
            return 1;
        }
        if (rc == 0)
            continue;
        if (rc == -1) {
            tide__tel_bad(r, r->rec_line, ps->bad ? ps->bad : "malformed record");
            continue;
        }
        if (ps->format == TIDE_TEL_AUTO)
            r->done = true; /* the format cannot be detected */
        return rc;
    }
}

/* The start of a read: an error met while filling the previous batch is returned first; the
 * record memory (observations, scratch) is reused from its start. */
static int begin_read(tide_tel_reader *r)
{
    int rc = r->pending_rc;
    r->pending_rc = 0;
    r->ps.nobs = 0;
    r->ps.scr_len = 0;
    return rc;
}

int tide_tel_next(tide_tel_reader *r, tide_event *ev)
{
    int rc = begin_read(r);
    return rc ? rc : read_event(r, ev, false);
}

int tide_tel_next_batch(tide_tel_reader *r, tide_event *evs, size_t max, size_t *got)
{
    *got = 0;
    int rc = begin_read(r);
    if (rc)
        return rc;
    while (*got < max) {
        rc = read_event(r, &evs[*got], *got > 0);
        if (rc != 1)
            break;
        (*got)++;
    }
    if (*got == 0)
        return rc;
    if (rc < 0)
        r->pending_rc = rc;
    /* the observation array may have grown (moved) since an event was read */
    size_t base = 0;
    for (size_t i = 0; i < *got; i++) {
        evs[i].obs = evs[i].nobs ? r->ps.obs + base : NULL;
        base += evs[i].nobs;
    }
    return 1;
}

tide_tel_format tide_tel_reader_format(const tide_tel_reader *r)
{
    return r->ps.format;
}

void tide_tel_reader_stats(const tide_tel_reader *r, tide_tel_stats *out)
{
    *out = r->st;
}

void tide_tel_close(tide_tel_reader *r)
{
    if (r == NULL)
        return;
    tide__tel_in_close(&r->in);
    tide__tel_parser_release(&r->ps);
    tide__free(r->buf);
    tide__free(r);
}
