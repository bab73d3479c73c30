/*
 * tel_frame.c - the framing of the telemetry reader (SPEC C2): the line buffer (grown as needed up
 * to max_line + 4 MiB, TIDE__TEL_BUF_SLACK zeroed bytes past its data) filled by the input layer,
 * lines found in one SSE2 pass that also tells whether the line is ASCII (only other lines get the
 * UTF-8 check), the line cap (a longer line is one bad record, skipped to the next newline without
 * being buffered), CRLF, an unterminated last line, follow mode (the end is the end for now), and
 * JSON-array files read element by element (framed by bracket depth outside strings).
 *
 * Contract: tel_reader.c calls tide__tel_frame_next for each record; the record points into the
 * line buffer and stays there until the next call that may refill (hold = false): with hold the
 * buffer never moves (TIDE__TEL_HOLD instead), which is what keeps a batch of events valid
 * together. Framing knows nothing of formats beyond r->arr_ok (may the input be a JSON array).
 */
#include <string.h>

#include "telemetry/tel_frame.h"
#include "telemetry/tel_int.h"
#include "tide/errors.h"

/* Add input bytes to buf[end..cap) (the consumed bytes moved out first; the buffer doubled, up to
 * cap_max, when less than half of it is free: a record longer than that). Returns > 0 when bytes
 * were added, 0 at the (current) end, < 0 on error. Moves the buffer: only between batches. */
static int fill(tide_tel_reader *r)
{
    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->end - r->pos);
        r->base_off += r->pos;
        r->end -= r->pos;
        r->pos = 0;
    }
    if (r->cap - r->end < r->cap / 2 && r->cap < r->cap_max) {
        size_t nc = r->cap * 2;
        if (nc > r->cap_max)
            nc = r->cap_max;
        char *b = tide__realloc(r->buf, nc + TIDE__TEL_BUF_SLACK);
        if (b == NULL)
            return tide_error_set(TIDE_ENOMEM, "out of memory");
        r->buf = b;
        r->cap = nc;
    }
    size_t room = r->cap - r->end;
    if (room == 0)
        return 0;
    ssize_t k = tide__tel_in_read(&r->in, r->buf + r->end, room, r->base_off + r->end);
    if (k < 0)
        return (int)k;
    r->end += (size_t)k;
    /* the bytes the scanners may read past the data are defined (zero), not whatever the
     * allocation held: the buffer is not zeroed as a whole (that was most of a reader's open) */
    memset(r->buf + r->end, 0, TIDE__TEL_BUF_SLACK);
    return k > 0;
}

/* Next line (without "\n" and a trailing "\r"). 1 = line, 0 = end (for now), < 0 error,
 * TIDE__TEL_HOLD when hold is set and no complete line is left in the buffer. */
static int next_line(tide_tel_reader *r, char **lp, size_t *ln, uint64_t *off, bool hold)
{
    for (;;) {
        if (r->pos < r->end) {
            char *s = r->buf + r->pos;
            bool hi;
            char *nl = tide__tel_find_nl(s, r->buf + r->end, &hi);
            if (nl) {
                size_t n = (size_t)(nl - s);
                uint64_t o = r->base_off + r->pos;
                r->pos += n + 1;
                r->st.bytes += n + 1;
                r->st.records++;
                r->line++;
                if (r->skipping) {
                    r->skipping = false;
                    tide__tel_bad(r, r->line, "line longer than the line cap");
                    continue;
                }
                if (n > r->ps.max_line) {
                    tide__tel_bad(r, r->line, "line longer than the line cap");
                    continue;
                }
                if (n > 0 && s[n - 1] == '\r')
                    n--;
                *lp = s;
                *ln = n;
                *off = o;
                r->line_ascii = !hi;
                return 1;
            }
            if (r->end - r->pos > r->ps.max_line) {
                /* too long: drop what we have, skip to the next newline */
                r->skipping = true;
                r->st.bytes += r->end - r->pos;
                r->base_off += r->end;
                r->pos = r->end = 0;
            }
        }
        if (r->done)
            return 0;
        if (hold)
            return TIDE__TEL_HOLD;
        int rc = fill(r);
        if (rc < 0) {
            r->done = true;
            return rc;
        }
        if (rc > 0)
            continue;
        if (r->ps.opts.follow && tide__tel_in_followable(&r->in))
            return 0;
        r->done = true;
        if (r->skipping) {
            /* the rest of an overlong unterminated last line: counted as read too (it was not
             * when it came in pieces shorter than the cap, so that the byte count depended on
             * the sizes of the reads) */
            r->st.bytes += r->end - r->pos;
            r->pos = r->end;
            r->skipping = false;
            r->st.records++;
            r->line++;
            tide__tel_bad(r, r->line, "line longer than the line cap");
        } else if (r->pos < r->end) { /* unterminated last line */
            char *s = r->buf + r->pos;
            size_t n = r->end - r->pos;
            *off = r->base_off + r->pos;
            r->pos = r->end;
            r->st.bytes += n;
            r->st.records++;
            r->line++;
            if (n > 0 && s[n - 1] == '\r')
                n--;
            *lp = s;
            *ln = n;
            r->line_ascii = false; /* not scanned: check it */
            return 1;
        }
        return 0;
    }
}

/* Next element of a JSON-array file. Elements are framed by bracket depth outside strings (the
 * JSON scanner validates them afterwards); the record line is where the element starts. Same
 * returns as next_line. */
static int next_element(tide_tel_reader *r, char **lp, size_t *ln, uint64_t *off, bool hold)
{
    for (;;) {
        /* between elements: blanks, commas, the array brackets */
        while (r->arr_scan == 0 && !r->arr_skipping && r->pos < r->end) {
            char c = r->buf[r->pos];
            if (c == ' ' || c == '\t' || c == '\r' || c == ',' || c == '\n' ||
                    (c == '[' && !r->arr_open) || (c == ']' && r->arr_open)) {
                if (c == '\n')
                    r->line++;
                else if (c == '[')
                    r->arr_open = true;
                else if (c == ']')
                    r->arr_open = false;
                r->pos++;
                r->st.bytes++;
                continue;
            }
            break; /* an element starts here */
        }
        if (r->pos < r->end) {
            if (r->arr_scan == 0 && !r->arr_skipping) {
                r->arr_depth = 0;
                r->arr_str = r->arr_esc = false;
                r->arr_nl = 0;
                r->rec_line = r->line + 1;
            }
            const char *s = r->buf + r->pos;
            size_t avail = r->end - r->pos, i = r->arr_scan, end = 0;
            bool found = false;
            for (; i < avail; i++) {
                char c = s[i];
                if (c == '\n')
                    r->arr_nl++;
                if (r->arr_str) {
                    if (r->arr_esc)
                        r->arr_esc = false;
                    else if (c == '\\')
                        r->arr_esc = true;
                    else if (c == '"')
                        r->arr_str = false;
                    continue;
                }
                if (c == '"')
                    r->arr_str = true;
                else if (c == '{' || c == '[')
                    r->arr_depth++;
                else if (c == '}' || c == ']') {
                    if (--r->arr_depth <= 0) {
                        end = r->arr_depth == 0 ? i + 1 : i; /* ']' closing the array: not ours */
                        found = true;
                        break;
                    }
                } else if (r->arr_depth == 0 &&
                           (c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
                    if (c == '\n')
                        r->arr_nl--; /* not part of the element */
                    end = i;
                    found = true;
                    break;
                }
            }
            if (found && end == 0)
                end = 1; /* a stray closing bracket: a one-byte bad record */
            if (!found && !r->arr_skipping && avail > r->ps.max_line) {
                r->arr_skipping = true; /* too long: keep framing, drop the bytes */
            }
            if (r->arr_skipping) {
                size_t used = found ? end : avail;
                r->pos += used;
                r->st.bytes += used;
                r->arr_scan = 0;
                if (!found)
                    goto more;
                r->arr_skipping = false;
                r->st.records++;
                uint64_t at = r->rec_line;
                r->line += r->arr_nl;
                tide__tel_bad(r, at, "record longer than the line cap");
                continue;
            }
            if (found && end > r->ps.max_line) {
                r->pos += end;
                r->st.bytes += end;
                r->st.records++;
                r->line += r->arr_nl;
                r->arr_scan = 0;
                tide__tel_bad(r, r->rec_line, "record longer than the line cap");
                continue;
            }
            if (found) {
                char *e = r->buf + r->pos;
                *lp = e;
                *ln = end;
                *off = r->base_off + r->pos;
                r->pos += end;
                r->st.bytes += end;
                r->st.records++;
                r->line += r->arr_nl;
                r->arr_scan = 0;
                r->line_ascii = false;
                return 1;
            }
            r->arr_scan = avail;
        }
    more:
        if (!r->done) {
            if (hold)
                return TIDE__TEL_HOLD;
            int rc = fill(r);
            if (rc < 0) {
                r->done = true;
                return rc;
            }
            if (rc > 0)
                continue;
            if (r->ps.opts.follow && tide__tel_in_followable(&r->in))
                return 0;
            r->done = true;
        }
        if (r->arr_skipping) {
            r->arr_skipping = false;
            r->st.records++;
            r->line += r->arr_nl;
            tide__tel_bad(r, r->rec_line, "record longer than the line cap");
        } else if (r->pos < r->end) { /* a truncated last element */
            size_t n = r->end - r->pos;
            *lp = r->buf + r->pos;
            *ln = n;
            *off = r->base_off + r->pos;
            r->pos = r->end;
            r->st.bytes += n;
            r->st.records++;
            r->line += r->arr_nl;
            r->arr_scan = 0;
            r->line_ascii = false;
            return 1;
        }
        return 0;
    }
}

void tide__tel_frame_unread(tide_tel_reader *r, const char *p)
{
    size_t at = (size_t)(p - r->buf);
    r->st.bytes -= r->pos - at;
    r->st.records--;
    r->line--;
    r->pos = at;
}

int tide__tel_frame_more(tide_tel_reader *r, char **lp, size_t *ln, uint64_t *off, bool hold)
{
    for (;;) {
        char *p;
        size_t n;
        int rc = r->arr ? next_element(r, &p, &n, off, hold) : next_line(r, &p, &n, off, hold);
        if (rc <= 0 || rc == TIDE__TEL_HOLD)
            return rc;
        if (n == 0)
            continue;
        if (!r->arr)
            r->rec_line = r->line;
        if (TIDE__UNLIKELY(!r->first_seen)) {
            /* a JSON array file: the first non-blank byte is '[' */
            size_t i = 0;
            while (i < n && (p[i] == ' ' || p[i] == '\t'))
                i++;
            if (i == n)
                continue;
            r->first_seen = true;
            size_t k = i + 1; /* '[' then '{', ']' or the end of the line ("[Sun Dec 4" is not) */
            while (k < n && (p[k] == ' ' || p[k] == '\t'))
                k++;
            if (!r->arr && p[i] == '[' && (k == n || p[k] == '{' || p[k] == ']') && r->arr_ok) {
                tide__tel_frame_unread(r, p + i); /* give back the rest of the line */
                r->arr = true;
                r->arr_open = false;
                r->arr_scan = 0;
                continue;
            }
        }
        *lp = p;
        *ln = n;
        return 1;
    }
}
