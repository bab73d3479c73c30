/*
 * json_split.c - streaming JSON array splitter for the STIX and MISP readers.
 *
 * Why hand-written: jansson (our JSON library) only parses whole documents into a DOM, and a
 * 600 MB STIX bundle must not need 600 MB of DOM (SPEC C1). None of the available Debian
 * libraries offers an event/streaming JSON parser. So this file does the minimum by hand: it
 * reads the FILE in chunks, tracks strings, escapes and bracket depth, and cuts out each element
 * of one top-level array (the bundle's "objects", wherever it sits among the other keys, or a
 * bare top-level array) as an exact byte range. Every element is then parsed alone by jansson,
 * which does all real validation (UTF-8, grammar, numbers). Memory is bounded by the largest
 * element plus one read chunk; elements over the cap are skipped without being kept.
 *
 * Inside strings the scanner jumps to the next '"' or '\\' (16 bytes at a time with SSE2), which
 * keeps the hot path (bundles are mostly string bytes) close to memory speed.
 */
#include "ingest/json_split.h"

#include <string.h>

#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#define JS_SSE2 1
#endif

#include "ingest/sink.h"
#include "util/util.h"

static size_t g_max_object = 0;
static size_t g_read_chunk = 0;

void tide__ingest_set_read_chunk(size_t chunk)
{
    g_read_chunk = chunk;
}

void tide__ingest_set_max_object(size_t max)
{
    g_max_object = max;
}

size_t tide__ingest_max_object(void)
{
    return g_max_object ? g_max_object : TIDE_MAX_OBJECT_BYTES;
}

json_t *tide__json_parse_item(const char *ptr, size_t len, json_error_t *err)
{
    json_t *j = json_loadb(ptr, len, 0, err);
    if (j == NULL && json_error_code(err) == json_error_numeric_overflow)
        j = json_loadb(ptr, len, JSON_DECODE_INT_AS_REAL, err);
    return j;
}

/* ---- the chunked reader ---- */

typedef struct {
    FILE *fp;
    const char *name;
    char *buf;
    size_t size, pos, end;
    long long base; /* absolute offset of buf[0] */
    int eof;
    long line;       /* line number at buf[line_pos] */
    size_t line_pos; /* newlines counted up to here */
    int has_cap;     /* capturing bytes from buf[cap] */
    size_t cap;
    int cap_over; /* the capture outgrew max: bytes dropped */
    size_t chunk, max;
    tide__js_opts *o; /* for the SKIPPED items skip_ws hands out */
} rd;

enum {
    R_OK = 0,
    R_STOP = 1
};

static void sync_lines(rd *r, size_t upto)
{
    if (upto <= r->line_pos)
        return;
    const char *p = r->buf + r->line_pos, *e = r->buf + upto;
    while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
        r->line++;
        p++;
    }
    r->line_pos = upto;
}

/* Make more bytes available after r->end. 1: got some, 0: EOF, <0: error. */
static int fill(rd *r)
{
    if (r->eof)
        return 0;
    if (r->has_cap && r->pos - r->cap > r->max) {
        r->has_cap = 0;
        r->cap_over = 1;
    }
    size_t keep = r->has_cap ? r->cap : r->pos;
    sync_lines(r, keep);
    if (keep > 0) {
        memmove(r->buf, r->buf + keep, r->end - keep);
        r->base += (long long)keep;
        r->pos -= keep;
        r->end -= keep;
        r->line_pos -= keep;
        if (r->has_cap)
            r->cap -= keep;
    }
    if (r->size - r->end < r->chunk) {
        size_t nsize = r->size ? r->size : r->chunk;
        while (nsize - r->end < r->chunk)
            nsize *= 2;
        char *nb = tide__realloc(r->buf, nsize);
        if (nb == NULL)
            return tide_error_set(TIDE_ENOMEM, "out of memory reading %s", r->name);
        r->buf = nb;
        r->size = nsize;
    }
    size_t n = fread(r->buf + r->end, 1, r->chunk, r->fp);
    if (n == 0) {
        if (ferror(r->fp))
            return tide_error_set(TIDE_EIO, "%s: read error at offset %lld", r->name,
                    r->base + (long long)r->end);
        r->eof = 1;
        return 0;
    }
    r->end += n;
    return 1;
}

/* Next byte without consuming it: 0-255, -1 at EOF, or < -1 (an error code - 1000). */
static int peek(rd *r)
{
    if (r->pos == r->end) {
        int rc = fill(r);
        if (rc < 0)
            return rc - 1000;
        if (rc == 0)
            return -1;
    }
    return (unsigned char)r->buf[r->pos];
}

static int is_ws(int c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static long long offset_of(const rd *r, size_t pos)
{
    return r->base + (long long)pos;
}

static int is_ctl(int c)
{
    return (c >= 0 && c < 0x20 && !is_ws(c)) || c == 0x7f;
}

static int item(tide__js_opts *o, tide__js_kind kind, const char *ptr, size_t len, long line,
        long long off, long index, const char *msg);

/* Control bytes where blanks may stand (a NUL or a stray ^A between two members or elements):
 * skipped as one SKIPPED item, so that they cost a rejected record, not the rest of the
 * input. Returns the next byte as peek() does (a callback's error as error - 1000). */
static int skip_ctl(rd *r, int c)
{
    sync_lines(r, r->pos);
    long line = r->line;
    long long off = offset_of(r, r->pos);
    int first = c;
    long long n = 0;
    while (is_ctl(c) || is_ws(c)) {
        n += is_ctl(c);
        r->pos++;
        c = peek(r);
    }
    if (c < -1)
        return c;
    char msg[160];
    snprintf(msg, sizeof(msg), "%lld control byte%s (the first 0x%02x) outside any string: skipped",
            n, n == 1 ? "" : "s", (unsigned)first);
    int rc = item(r->o, TIDE__JS_SKIPPED, NULL, 0, line, off, -1, msg);
    return rc < 0 ? rc - 1000 : c;
}

static int skip_blanks(rd *r)
{
    for (;;) {
        int c = peek(r);
        if (!is_ws(c))
            return c;
        r->pos++;
    }
}

static int skip_ws(rd *r)
{
    int c = skip_blanks(r);
    return is_ctl(c) ? skip_ctl(r, c) : c;
}

/* Scan one JSON value starting at r->pos (a non-blank byte). R_OK: r->pos is just after it;
 * R_STOP: EOF inside it; <0: error. Only strings and bracket depth are tracked: jansson
 * validates the bytes afterwards. */
/* The first '"' or '\\' in [p, e), or e: one pass (16 bytes at a time with SSE2) instead of a
 * memchr for each, which cost two calls per string. */
static inline const char *find_quote_or_backslash(const char *p, const char *e)
{
#ifdef JS_SSE2
    const __m128i dq = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
    while (e - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        unsigned mask = (unsigned)_mm_movemask_epi8(
                _mm_or_si128(_mm_cmpeq_epi8(v, dq), _mm_cmpeq_epi8(v, bs)));
        if (mask)
            return p + __builtin_ctz(mask);
        p += 16;
    }
#endif
    while (p < e && *p != '"' && *p != '\\')
        p++;
    return p;
}

static int scan_value(rd *r)
{
    int c = (unsigned char)r->buf[r->pos];
    if (c != '{' && c != '[' && c != '"') {
        /* a scalar: up to the next delimiter */
        for (;;) {
            c = peek(r);
            if (c < -1)
                return c + 1000;
            if (c == -1 || c == ',' || c == ']' || c == '}' || c == ':' || is_ws(c))
                return R_OK;
            r->pos++;
        }
    }
    int depth = 0, in_str = 0, esc = 0;
    for (;;) {
        if (r->pos == r->end) {
            int rc = fill(r);
            if (rc < 0)
                return rc;
            if (rc == 0)
                return R_STOP;
        }
        if (in_str) {
            if (esc) {
                esc = 0;
                r->pos++;
                continue;
            }
            const char *q = find_quote_or_backslash(r->buf + r->pos, r->buf + r->end);
            if (q == r->buf + r->end) {
                r->pos = r->end;
            } else if (*q == '\\') {
                r->pos = (size_t)(q - r->buf) + 1;
                esc = 1;
            } else {
                r->pos = (size_t)(q - r->buf) + 1;
                in_str = 0;
                if (depth == 0)
                    return R_OK;
            }
            continue;
        }
        const char *p = r->buf + r->pos, *e = r->buf + r->end;
        while (p < e) {
            char ch = *p++;
            if (ch == '"') {
                in_str = 1;
                break;
            } else if (ch == '{' || ch == '[') {
                depth++;
            } else if (ch == '}' || ch == ']') {
                if (--depth <= 0) {
                    r->pos = (size_t)(p - r->buf);
                    return R_OK;
                }
            }
        }
        r->pos = (size_t)(p - r->buf);
    }
}

/* Read a string at r->pos (which is '"') into out (truncated to outsz-1; *too_long set). */
static int read_small_string(rd *r, char *out, size_t outsz, int *too_long)
{
    size_t n = 0;
    *too_long = 0;
    r->pos++; /* opening quote */
    int esc = 0;
    for (;;) {
        int c = peek(r);
        if (c < -1)
            return c + 1000;
        if (c == -1)
            return R_STOP;
        r->pos++;
        if (esc) {
            esc = 0;
            *too_long = 1; /* escaped keys never match our plain key names */
        } else if (c == '\\') {
            esc = 1;
            continue;
        } else if (c == '"') {
            break;
        }
        if (n + 1 < outsz)
            out[n++] = (char)c;
        else
            *too_long = 1;
    }
    out[n] = '\0';
    return R_OK;
}

static int item(tide__js_opts *o, tide__js_kind kind, const char *ptr, size_t len, long line,
        long long off, long index, const char *msg)
{
    tide__js_item it = { kind, ptr, len, line, off, index, msg, 0 };
    int rc = o->on_item(o->payload, &it);
    return rc < 0 ? rc : 0;
}

/* The array at r->pos ('['): hand out every element. R_OK at its ']', R_STOP after a
 * TRUNCATED / SYNTAX item, <0 on error. */
static int stream_array(rd *r, tide__js_opts *o)
{
    char msg[160];
    long long arr_off = offset_of(r, r->pos);
    r->pos++;
    long idx = 0;
    for (;;) {
        int c = skip_ws(r);
        if (c < -1)
            return c + 1000;
        if (c == -1) {
            sync_lines(r, r->pos);
            snprintf(msg, sizeof(msg),
                    "unexpected end of input in the array opened at offset %lld (after %ld "
                    "elements)",
                    arr_off, idx);
            int rc = item(o, TIDE__JS_TRUNCATED, NULL, 0, r->line, offset_of(r, r->pos), idx, msg);
            return rc < 0 ? rc : R_STOP;
        }
        if (c == ']' && idx == 0) {
            r->pos++;
            return R_OK;
        }
        sync_lines(r, r->pos);
        long line = r->line;
        long long off = offset_of(r, r->pos);
        if (c == ',' || c == ']' || c == ':' || c == '}') {
            snprintf(msg, sizeof(msg), "unexpected '%c' where array element %ld should start", c,
                    idx);
            int rc = item(o, TIDE__JS_SYNTAX, NULL, 0, line, off, idx, msg);
            return rc < 0 ? rc : R_STOP;
        }
        int rc;
        size_t len;
        if (c == '{' && o->parse_element &&
                o->parse_element(o->payload, r->buf + r->pos, r->end - r->pos, &len) &&
                len <= r->max) {
            /* parsed whole inside the buffer: these are the bytes the scan would cut */
            tide__js_item it = { TIDE__JS_ELEMENT, r->buf + r->pos, len, line, off, idx, NULL, 1 };
            r->pos += len;
            rc = o->on_item(o->payload, &it);
            if (rc < 0)
                return rc;
            idx++;
            goto next;
        }
        r->has_cap = 1;
        r->cap = r->pos;
        r->cap_over = 0;
        rc = scan_value(r);
        if (rc < 0)
            return rc;
        if (rc == R_STOP) {
            r->has_cap = 0;
            snprintf(msg, sizeof(msg), "unexpected end of input inside element %ld", idx);
            rc = item(o, TIDE__JS_TRUNCATED, NULL, 0, line, off, idx, msg);
            return rc < 0 ? rc : R_STOP;
        }
        len = r->pos - r->cap;
        if (r->cap_over || len > r->max) {
            snprintf(msg, sizeof(msg), "element %ld is larger than the %zu-byte cap", idx, r->max);
            rc = item(o, TIDE__JS_TOOBIG, NULL, 0, line, off, idx, msg);
        } else {
            rc = item(o, TIDE__JS_ELEMENT, r->buf + r->cap, len, line, off, idx, NULL);
        }
        r->has_cap = 0;
        r->cap_over = 0;
        if (rc < 0)
            return rc;
        idx++;
    next:
        c = skip_ws(r);
        if (c < -1)
            return c + 1000;
        if (c == ',') {
            r->pos++;
            continue;
        }
        if (c == ']') {
            r->pos++;
            return R_OK;
        }
        sync_lines(r, r->pos);
        if (c == -1)
            snprintf(msg, sizeof(msg),
                    "unexpected end of input in the array opened at offset %lld (after %ld "
                    "elements)",
                    arr_off, idx);
        else
            snprintf(msg, sizeof(msg), "expected ',' or ']' after element %ld, found '%c'", idx - 1,
                    c >= 0x20 && c < 0x7f ? c : '?');
        rc = item(o, c == -1 ? TIDE__JS_TRUNCATED : TIDE__JS_SYNTAX, NULL, 0, r->line,
                offset_of(r, r->pos), idx, msg);
        return rc < 0 ? rc : R_STOP;
    }
}

/* After the top-level value: only blanks may follow. */
static int check_trailing(rd *r, tide__js_opts *o)
{
    int c = skip_ws(r);
    if (c < -1)
        return c + 1000;
    if (c == -1)
        return 0;
    sync_lines(r, r->pos);
    return item(o, TIDE__JS_SYNTAX, NULL, 0, r->line, offset_of(r, r->pos), -1,
            "trailing data after the top-level JSON value");
}

static int top_object(rd *r, tide__js_opts *o)
{
    char msg[160];
    long line0 = r->line;
    long long off0 = offset_of(r, r->pos);
    int streamed = 0, first = 1;
    r->has_cap = 1;
    r->cap = r->pos;
    r->cap_over = 0;
    r->pos++;
    for (;;) {
        int c = skip_ws(r);
        if (c < -1)
            return c + 1000;
        if (c == '}' && first) {
            r->pos++;
            break;
        }
        if (c != '"') {
            if (c == -1)
                goto truncated;
            goto syntax;
        }
        char key[64];
        int too_long;
        int rc = read_small_string(r, key, sizeof(key), &too_long);
        if (rc < 0)
            return rc;
        if (rc == R_STOP)
            goto truncated;
        c = skip_ws(r);
        if (c < -1)
            return c + 1000;
        if (c != ':') {
            if (c == -1)
                goto truncated;
            goto syntax;
        }
        r->pos++;
        c = skip_ws(r);
        if (c < -1)
            return c + 1000;
        if (c == -1)
            goto truncated;
        int is_array_key = !too_long && o->array_key && strcmp(key, o->array_key) == 0;
        int type_conflict = o->container_type && o->container_type_seen[0] &&
                            strcmp(o->container_type_seen, o->container_type) != 0;
        if (is_array_key && c == '[' && !type_conflict && !streamed) {
            streamed = 1;
            o->streamed = 1;
            r->has_cap = 0; /* the container's own bytes are not needed any more */
            r->cap_over = 0;
            rc = stream_array(r, o);
            if (rc != R_OK)
                return rc;
        } else if (!too_long && strcmp(key, "type") == 0 && c == '"') {
            int tl;
            rc = read_small_string(r, o->container_type_seen, sizeof(o->container_type_seen), &tl);
            if (rc < 0)
                return rc;
            if (rc == R_STOP)
                goto truncated;
        } else {
            rc = scan_value(r);
            if (rc < 0)
                return rc;
            if (rc == R_STOP)
                goto truncated;
        }
        first = 0;
        c = skip_ws(r);
        if (c < -1)
            return c + 1000;
        if (c == ',') {
            r->pos++;
            continue;
        }
        if (c == '}') {
            r->pos++;
            break;
        }
        if (c == -1)
            goto truncated;
        goto syntax;
    }
    if (!streamed) {
        size_t len = r->pos - r->cap;
        int rc;
        if (r->cap_over || len > r->max) {
            snprintf(msg, sizeof(msg), "top-level object is larger than the %zu-byte cap", r->max);
            rc = item(o, TIDE__JS_TOOBIG, NULL, 0, line0, off0, -1, msg);
        } else {
            rc = item(o, TIDE__JS_WHOLE, r->buf + r->cap, len, line0, off0, -1, NULL);
        }
        r->has_cap = 0;
        if (rc < 0)
            return rc;
    }
    return check_trailing(r, o);

truncated : {
    r->has_cap = 0;
    sync_lines(r, r->pos);
    snprintf(msg, sizeof(msg),
            "unexpected end of input in the top-level object opened at "
            "offset %lld",
            off0);
    int rc = item(o, TIDE__JS_TRUNCATED, NULL, 0, r->line, offset_of(r, r->pos), -1, msg);
    return rc < 0 ? rc : R_STOP;
}
syntax : {
    r->has_cap = 0;
    sync_lines(r, r->pos);
    int c = r->pos < r->end ? (unsigned char)r->buf[r->pos] : '?';
    snprintf(msg, sizeof(msg), "malformed top-level object: unexpected '%c'",
            c >= 0x20 && c < 0x7f ? c : '?');
    int rc = item(o, TIDE__JS_SYNTAX, NULL, 0, r->line, offset_of(r, r->pos), -1, msg);
    return rc < 0 ? rc : R_STOP;
}
}

int tide__json_split(FILE *fp, const char *name, tide__js_opts *o)
{
    rd r;
    memset(&r, 0, sizeof(r));
    r.fp = fp;
    r.name = name ? name : "input";
    r.line = 1;
    r.chunk = o->chunk ? o->chunk : g_read_chunk ? g_read_chunk : (1u << 20);
    r.max = o->max_item ? o->max_item : tide__ingest_max_object();
    r.o = o;
    o->container_type_seen[0] = '\0';
    o->streamed = 0;
    int rc = 0;

    int c = peek(&r);
    /* UTF-8 byte order mark */
    if (c == 0xEF) {
        while (r.end - r.pos < 3 && (rc = fill(&r)) > 0)
            ;
        if (r.end - r.pos >= 3 && memcmp(r.buf + r.pos, "\xEF\xBB\xBF", 3) == 0)
            r.pos += 3;
    }
    c = skip_blanks(&r);
    if (is_ctl(c)) {
        /* control bytes before the value: skipped (one rejected record) when a '{' or '['
         * follows them, else the input is no JSON (and the error names its first byte) */
        r.has_cap = 1;
        r.cap = r.pos;
        size_t q = r.pos;
        for (;;) {
            if (q == r.end) {
                size_t at = q - r.pos;
                if (at > r.chunk || (rc = fill(&r)) <= 0)
                    break;
                q = r.pos + at;
                continue;
            }
            if (!is_ctl((unsigned char)r.buf[q]) && !is_ws((unsigned char)r.buf[q]))
                break;
            q++;
        }
        r.has_cap = 0;
        if (rc < 0)
            goto done;
        if (q < r.end && (r.buf[q] == '{' || r.buf[q] == '['))
            c = skip_ctl(&r, c);
    }
    if (c < -1) {
        rc = c + 1000;
        goto done;
    }
    if (c == -1) {
        rc = tide_error_set(TIDE_EFORMAT, "%s: empty input (no JSON value)", r.name);
        goto done;
    }
    if (c == '[') {
        o->streamed = 1;
        rc = stream_array(&r, o);
        if (rc == R_OK)
            rc = check_trailing(&r, o);
    } else if (c == '{') {
        rc = top_object(&r, o);
    } else {
        sync_lines(&r, r.pos);
        rc = tide_error_set(TIDE_EFORMAT,
                "%s: not JSON: line %ld, offset %lld: unexpected byte 0x%02x where '{' or '[' "
                "should start",
                r.name, r.line, offset_of(&r, r.pos), (unsigned)c);
    }
done:
    tide__free(r.buf);
    return rc < 0 ? rc : 0;
}
