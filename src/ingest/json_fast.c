/*
 * json_fast.c - fast single-pass parser for one JSON object (one STIX object of a bundle).
 *
 * Why hand-written: jansson lexes byte by byte through an indirect stream callback, keeps every
 * token in a growable buffer and then copies it again; on STIX objects it runs at ~30 MB/s, which
 * alone would cost ~18 s of the 15 s budget for ingesting a 600 MB bundle (SPEC C10). The ingest
 * core only reads top-level members, and no available library offers a faster validating
 * parser that still produces jansson values. So this file validates the bytes itself in one pass
 * (16 bytes at a time inside strings with SSE2, 8 with a portable word trick otherwise) and
 * builds jansson values only for what is kept: by default the "flat" top-level members (see
 * json_fast.h), with TIDE__JF_FULL the whole object.
 *
 * Members mode (tide__json_parse_members) builds no jansson values at all: building a DOM per
 * object and freeing it again (json_object_setn, json_delete, malloc / free per value) cost as
 * much as the validation itself on a STIX bundle, for about twenty members the core reads. In
 * that mode the same pass decodes just those members (stix_members.h) into a per-object arena,
 * with the same validation and verdict, and jansson's semantics for what it keeps: the last of
 * a repeated key wins, a member of the wrong type reads as absent, an object with a too-big
 * integer has only reals. stix_members.c fills the same struct from a DOM, and the tests and
 * fuzz_json_fast compare both on every input.
 *
 * The verdict is jansson's, byte for byte: json_loadb(ptr, len, 0) plus tide__json_parse_item's
 * retry of too-big integers as reals. That means: RFC 8259 grammar with no extensions; strict
 * UTF-8 (no overlongs, surrogates or code points above U+10FFFF) everywhere, also inside
 * values that are skipped; no control characters in strings; \u escapes with paired surrogates
 * and no \u0000; reals that overflow a double rejected (underflow accepted); nesting depth
 * counted per value as jansson does, at most JSON_PARSER_MAX_DEPTH; duplicate keys allowed (the
 * last wins); and one jansson quirk: a single NUL byte right after a number or literal is
 * skipped (its stream drops an un-read NUL). Nesting uses an explicit frame stack, never
 * recursion, so deep input cannot overflow the C stack.
 */
#include "ingest/json_fast.h"

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#define JF_SSE2 1
#endif

#include "ingest/stix_members.h"
#include "util/util.h"

#define MAX_DEPTH ((size_t)JSON_PARSER_MAX_DEPTH)

/* What a container frame does with its children. */
enum {
    K_BUILD, /* build every child (full mode) */
    K_ROOT,  /* the top-level object in flat mode: scalars kept, arrays tried, objects skipped */
    K_CAND,  /* a top-level array that is kept if all its elements are strings or flat objects */
    K_FLAT,  /* an object inside a K_CAND array: kept if all its members are scalars */
    K_SKIP,  /* validate only */
    /* members mode (no DOM; from K_MROOT on, ordered) */
    K_MROOT, /* the top-level object: the members stix_members.h names are decoded */
    K_MLIST, /* a string-list member (elem = its TIDE__M_ slot): its strings are collected */
    K_MKC,   /* kill_chain_phases: one entry per object element */
    K_MKCO,  /* an object in kill_chain_phases: kill_chain_name, phase_name decoded */
};

typedef struct {
    json_t *c;          /* the container being built, NULL when skipping */
    unsigned char obj;  /* 1: object, 0: array */
    unsigned char kind; /* K_* */
    unsigned char elem; /* K_CAND: 0 no element yet, 1 strings, 2 objects;
                           K_FLAT: 1 if a member holds the "not a scalar" marker */
} frame;

/* A growable scratch buffer that starts on the C stack. */
typedef struct {
    char *p;
    size_t len, cap;
    char local[256];
} sbuf;

typedef struct {
    const unsigned char *beg, *end;
    json_error_t *err;
    int int_as_real;  /* second pass: every number is a real */
    int int_overflow; /* an integer did not fit json_int_t: run again as reals */
    int failed;
    sbuf key, str, rkey;
    /* K_FLAT objects: the value of a member that is not a scalar, so that a later duplicate
     * key with a scalar value (jansson: the last one wins) can still make the object flat */
    json_t *marker;
    /* members mode */
    tide__members *m; /* non-NULL: fill this instead of building a DOM */
    tide__arena *a;   /* where its strings and arrays go */
    int slot;         /* the member the current top-level key names (kill_chain_phases
                         objects: 1 kill_chain_name, 2 phase_name, 0 other) */
    sbuf vec;         /* the elements of the list being collected */
    size_t used;      /* JF_PREFIX: bytes of the object */
} jp;

/* run() flag: the object may be followed by anything (j->used gets its length) */
#define JF_PREFIX 0x100u

static void sb_init(sbuf *b)
{
    b->p = b->local;
    b->len = 0;
    b->cap = sizeof(b->local);
}

static void sb_free(sbuf *b)
{
    if (b->p != b->local)
        tide__free(b->p);
    sb_init(b);
}

static int sb_reserve(sbuf *b, size_t extra)
{
    if (b->len + extra <= b->cap)
        return 0;
    size_t ncap = b->cap * 2;
    while (ncap < b->len + extra)
        ncap *= 2;
    char *np;
    if (b->p == b->local) {
        np = tide__malloc(ncap);
        if (np != NULL)
            memcpy(np, b->local, b->len);
    } else {
        np = tide__realloc(b->p, ncap);
    }
    if (np == NULL)
        return -1;
    b->p = np;
    b->cap = ncap;
    return 0;
}

/* ---- errors, in jansson's json_error_t ---- */

static void err_init(json_error_t *e)
{
    if (e == NULL)
        return;
    e->line = -1;
    e->column = -1;
    e->position = 0;
    snprintf(e->source, sizeof(e->source), "%s", "<buffer>");
    memset(e->text, 0, sizeof(e->text));
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void
fail(jp *j, const unsigned char *at, enum json_error_code code, const char *fmt, ...)
{
    if (j->failed)
        return;
    j->failed = 1;
    json_error_t *e = j->err;
    if (e == NULL)
        return;
    if (at > j->end)
        at = j->end;
    int line = 1;
    const unsigned char *ls = j->beg, *q = j->beg;
    while (q < at && (q = memchr(q, '\n', (size_t)(at - q))) != NULL) {
        line++;
        ls = ++q;
    }
    int col = 0;
    for (q = ls; q < at; q++)
        if ((*q & 0xC0) != 0x80)
            col++;
    e->line = line;
    e->column = col + (at < j->end ? 1 : 0);
    e->position = (int)((size_t)(at - j->beg) + (at < j->end ? 1 : 0));
    snprintf(e->source, sizeof(e->source), "%s", "<buffer>");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->text, JSON_ERROR_TEXT_LENGTH - 1, fmt, ap);
    va_end(ap);
    e->text[JSON_ERROR_TEXT_LENGTH - 2] = '\0';
    e->text[JSON_ERROR_TEXT_LENGTH - 1] = (char)code;
}

static int oom(jp *j, const unsigned char *at)
{
    fail(j, at, json_error_out_of_memory, "out of memory");
    return -1;
}

/* ---- lexing ---- */

static inline const unsigned char *skip_ws(const unsigned char *p, const unsigned char *e)
{
    if (p<e && * p> ' ')
        return p; /* the common case: compact JSON */
    while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

static inline int is_digit(unsigned c)
{
    return c - '0' < 10u;
}

/* Bytes a string body cannot simply skip: '"', '\\', control characters, non-ASCII. */
static inline int str_special(unsigned c)
{
    return c == '"' || c == '\\' || c < 0x20 || c >= 0x80;
}

/* First byte at or after q that str_special(), or e. */
static inline const unsigned char *skip_plain(const unsigned char *q, const unsigned char *e)
{
#ifdef JF_SSE2
    const __m128i dq = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), sp = _mm_set1_epi8(0x20);
    while (e - q >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
        /* signed compare: bytes >= 0x80 are negative, so they count as "< 0x20" too */
        __m128i m = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(v, dq), _mm_cmpeq_epi8(v, bs)), _mm_cmplt_epi8(v, sp));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (mask)
            return q + __builtin_ctz(mask);
        q += 16;
    }
#else
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    while (e - q >= 8) {
        uint64_t x;
        memcpy(&x, q, 8);
        uint64_t xq = x ^ (ones * '"'), xb = x ^ (ones * '\\');
        uint64_t t = ((x - ones * 0x20) & ~x) | ((xq - ones) & ~xq) | ((xb - ones) & ~xb) | x;
        if (t & high)
            break; /* the byte loop below finds which one */
        q += 8;
    }
#endif
    while (q < e && !str_special(*q))
        q++;
    return q;
}

/* Length of the valid UTF-8 sequence at q (whose first byte is >= 0x80), or 0. */
static inline size_t utf8_len(const unsigned char *q, const unsigned char *e)
{
    unsigned c = q[0];
    size_t avail = (size_t)(e - q);
    if (c < 0xC2)
        return 0;
    if (c < 0xE0)
        return avail >= 2 && (q[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {
        if (avail < 3 || (q[1] & 0xC0) != 0x80 || (q[2] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xE0 && q[1] < 0xA0) || (c == 0xED && q[1] >= 0xA0))
            return 0; /* overlong, or a UTF-16 surrogate */
        return 3;
    }
    if (c < 0xF5) {
        if (avail < 4 || (q[1] & 0xC0) != 0x80 || (q[2] & 0xC0) != 0x80 || (q[3] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xF0 && q[1] < 0x90) || (c == 0xF4 && q[1] >= 0x90))
            return 0; /* overlong, or above U+10FFFF */
        return 4;
    }
    return 0;
}

static int hex4(const unsigned char *q, const unsigned char *e, unsigned *out)
{
    if (e - q < 4)
        return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = q[i], d;
        if (c - '0' < 10u)
            d = c - '0';
        else if ((c | 0x20) - 'a' < 6u)
            d = (c | 0x20) - 'a' + 10;
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

static size_t utf8_put(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The string whose opening quote is at p. With build, *s and *n get its decoded bytes (pointing
 * into the input when it has no escapes, else into b). Returns the byte after the closing
 * quote, or NULL (failed). */
#if defined(__GNUC__)
__attribute__((always_inline)) /* ten strings per object: its call cost a third of its time */
#endif
static inline const unsigned char *
scan_string(
        jp *j, const unsigned char *p, sbuf *b, int build, int is_key, const char **s, size_t *n)
{
    const unsigned char *e = j->end, *start = p + 1, *q = start, *run = start;
    int copying = 0;
    for (;;) {
        q = skip_plain(q, e);
        if (q >= e) {
            fail(j, e, json_error_premature_end_of_input, "premature end of input");
            return NULL;
        }
        unsigned c = *q;
        if (c == '"') {
            if (build) {
                if (copying) {
                    if (sb_reserve(b, (size_t)(q - run)) < 0) {
                        oom(j, q);
                        return NULL;
                    }
                    memcpy(b->p + b->len, run, (size_t)(q - run));
                    b->len += (size_t)(q - run);
                    *s = b->p;
                    *n = b->len;
                } else {
                    *s = (const char *)start;
                    *n = (size_t)(q - start);
                }
            }
            return q + 1;
        }
        if (c >= 0x80) {
            size_t l = utf8_len(q, e);
            if (l == 0) {
                fail(j, q, json_error_invalid_utf8, "unable to decode byte 0x%x", c);
                return NULL;
            }
            q += l;
            continue;
        }
        if (c < 0x20) {
            if (c == '\n')
                fail(j, q, json_error_invalid_syntax, "unexpected newline");
            else
                fail(j, q, json_error_invalid_syntax, "control character 0x%x", c);
            return NULL;
        }
        /* a backslash */
        if (build) {
            if (!copying) {
                copying = 1;
                b->len = 0;
            }
            if (sb_reserve(b, (size_t)(q - run) + 4) < 0) {
                oom(j, q);
                return NULL;
            }
            memcpy(b->p + b->len, run, (size_t)(q - run));
            b->len += (size_t)(q - run);
        }
        const unsigned char *esc = q++;
        if (q >= e) {
            fail(j, e, json_error_premature_end_of_input, "premature end of input");
            return NULL;
        }
        char out = 0;
        switch (*q) {
            case '"': out = '"'; break;
            case '\\': out = '\\'; break;
            case '/': out = '/'; break;
            case 'b': out = '\b'; break;
            case 'f': out = '\f'; break;
            case 'n': out = '\n'; break;
            case 'r': out = '\r'; break;
            case 't': out = '\t'; break;
            case 'u': {
                unsigned cp, lo;
                if (hex4(q + 1, e, &cp) < 0) {
                    fail(j, esc, json_error_invalid_syntax, "invalid escape");
                    return NULL;
                }
                q += 5;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (e - q >= 6 && q[0] == '\\' && q[1] == 'u' && hex4(q + 2, e, &lo) == 0 &&
                            lo >= 0xDC00 && lo <= 0xDFFF) {
                        cp = ((cp - 0xD800) << 10) + (lo - 0xDC00) + 0x10000;
                        q += 6;
                    } else {
                        fail(j, esc, json_error_invalid_syntax, "invalid Unicode '\\u%04X'", cp);
                        return NULL;
                    }
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    fail(j, esc, json_error_invalid_syntax, "invalid Unicode '\\u%04X'", cp);
                    return NULL;
                } else if (cp == 0) {
                    if (is_key)
                        fail(j, esc, json_error_null_byte_in_key,
                                "NUL byte in object key not supported");
                    else
                        fail(j, esc, json_error_null_character,
                                "\\u0000 is not allowed without JSON_ALLOW_NUL");
                    return NULL;
                }
                if (build)
                    b->len += utf8_put(b->p + b->len, cp);
                run = q;
                continue;
            }
            default: fail(j, esc, json_error_invalid_syntax, "invalid escape"); return NULL;
        }
        if (build)
            b->p[b->len++] = out;
        run = ++q;
    }
}

/* jansson's stream drops a NUL byte it had to put back after a number or literal. */
static inline const unsigned char *nul_quirk(const unsigned char *p, const unsigned char *e)
{
    return p < e && *p == '\0' ? p + 1 : p;
}

/* strtod of text[0..n) the way jansson does it (C or current-locale decimal point). */
static int to_double(jp *j, const unsigned char *text, size_t n, double *out)
{
    char local[64];
    char *buf = local;
    if (n >= sizeof(local)) {
        buf = tide__malloc(n + 1);
        if (buf == NULL)
            return oom(j, text);
    }
    memcpy(buf, text, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    double d = strtod(buf, &end);
    if (end != buf + n) {
        /* a locale whose decimal point is not '.' (jansson converts the same way) */
        char *dot = strchr(buf, '.');
        const char *lp = localeconv()->decimal_point;
        if (dot && lp && lp[0])
            *dot = lp[0];
        errno = 0;
        d = strtod(buf, &end);
    }
    int overflow = (d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE;
    if (buf != local)
        tide__free(buf);
    if (overflow) {
        fail(j, text + n, json_error_numeric_overflow, "real number overflow");
        return -1;
    }
    *out = d;
    return 0;
}

/* A decoded number: jansson makes an integer or a real of it. */
typedef struct {
    int real;
    json_int_t i;
    double d;
} jnum;

/* The number at p ('-' or a digit). With build, *out gets its value. */
static const unsigned char *scan_number(jp *j, const unsigned char *p, int build, jnum *out)
{
    const unsigned char *e = j->end, *s = p;
    int neg = 0;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    const unsigned char *ds = p;
    if (p < e && *p == '0') {
        p++;
        if (p < e && is_digit(*p)) {
            fail(j, p, json_error_invalid_syntax, "invalid token");
            return NULL;
        }
    } else if (p < e && is_digit(*p)) {
        do
            p++;
        while (p < e && is_digit(*p));
    } else {
        fail(j, p, json_error_invalid_syntax, "invalid token");
        return NULL;
    }
    size_t nint = (size_t)(p - ds);
    int is_real = 0, has_exp = 0;
    if (p < e && *p == '.') {
        p++;
        if (p >= e || !is_digit(*p)) {
            fail(j, p, json_error_invalid_syntax, "invalid token");
            return NULL;
        }
        do
            p++;
        while (p < e && is_digit(*p));
        is_real = 1;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (p >= e || !is_digit(*p)) {
            fail(j, p, json_error_invalid_syntax, "invalid token");
            return NULL;
        }
        do
            p++;
        while (p < e && is_digit(*p));
        is_real = has_exp = 1;
    }
    if (!is_real && !j->int_as_real) {
        uint64_t lim = neg ? (uint64_t)LLONG_MAX + 1 : (uint64_t)LLONG_MAX, v = 0;
        if (nint <= 18) {
            for (const unsigned char *q = ds; q < p; q++)
                v = v * 10 + (uint64_t)(*q - '0');
        } else {
            for (const unsigned char *q = ds; q < p; q++) {
                uint64_t d = (uint64_t)(*q - '0');
                if (v > (lim - d) / 10) {
                    j->int_overflow = 1;
                    fail(j, p, json_error_numeric_overflow,
                            neg ? "too big negative integer" : "too big integer");
                    return NULL;
                }
                v = v * 10 + d;
            }
        }
        if (build) {
            json_int_t iv;
            if (neg)
                iv = v == (uint64_t)LLONG_MAX + 1 ? LLONG_MIN : -(json_int_t)v;
            else
                iv = (json_int_t)v;
            out->real = 0;
            out->i = iv;
        }
    } else {
        size_t n = (size_t)(p - s);
        /* without an exponent, fewer than 300 digits cannot overflow a double */
        if (build || has_exp || n > 300) {
            double d;
            if (to_double(j, s, n, &d) < 0)
                return NULL;
            if (build) {
                out->real = 1;
                out->d = d;
            }
        }
    }
    return nul_quirk(p, e);
}

static int add(jp *j, const unsigned char *at, frame *f, const char *key, size_t klen, json_t *v)
{
    if (v == NULL)
        return oom(j, at);
    int rc = f->obj ? json_object_setn_new_nocheck(f->c, key, klen, v)
                    : json_array_append_new(f->c, v);
    return rc ? oom(j, at) : 0;
}

/* A top-level array (frame 1) turned out not to be flat: drop what was built of it. */
static void disqualify(frame *st, size_t depth)
{
    json_decref(st[1].c);
    for (size_t i = 1; i < depth; i++) {
        st[i].c = NULL;
        st[i].kind = K_SKIP;
    }
}

/* ---- members mode (tide__json_parse_members): decoded values, no DOM ---- */

/* A top-level key was read: as in jansson, its value replaces any earlier one. */
static void m_key(jp *j, const char *key, size_t klen)
{
    tide__members *m = j->m;
    int slot = tide__members_slot(key, klen);
    j->slot = slot;
    if (slot == TIDE__M_NONE)
        return;
    if (slot <= TIDE__M_LAST_STRING) {
        *tide__members_str(m, slot) = NULL;
        return;
    }
    switch (slot) {
        case TIDE__M_CONFIDENCE:
            m->has_confidence = true;
            m->confidence_is_int = false;
            m->confidence = 0;
            m->confidence_real = NAN;
            break;
        case TIDE__M_REVOKED: m->revoked = false; break;
        case TIDE__M_OBJECTS: m->objects = TIDE__OBJECTS_OTHER; break;
        case TIDE__M_GRANULAR_MARKINGS: m->granular = true; break;
        case TIDE__M_KILL_CHAIN_PHASES:
            m->kill_chain_phases = NULL;
            m->n_kill_chain_phases = 0;
            break;
        default: *tide__members_list(m, slot) = (tide__strs){ NULL, 0 }; break;
    }
}

/* A key of an object inside kill_chain_phases. */
static void m_kc_key(jp *j, const char *key, size_t klen)
{
    tide__kc_phase *cur = (tide__kc_phase *)(void *)(j->vec.p + j->vec.len) - 1;
    if (klen == 10 && memcmp(key, "phase_name", 10) == 0) {
        j->slot = 2;
        cur->phase_name = NULL;
    } else if (klen == 15 && memcmp(key, "kill_chain_name", 15) == 0) {
        j->slot = 1;
        cur->kill_chain_name = NULL;
    } else {
        j->slot = 0;
    }
}

/* Does the scalar starting with byte c, in a frame of kind kind, need decoding? */
static inline int m_build(const jp *j, unsigned kind, unsigned c)
{
    switch (kind) {
        case K_MROOT:
            return c == '"' ? j->slot != TIDE__M_NONE && j->slot <= TIDE__M_LAST_STRING
                            : (c == '-' || is_digit(c)) && j->slot == TIDE__M_CONFIDENCE;
        case K_MLIST: return c == '"';
        case K_MKCO: return c == '"' && j->slot != 0;
        default: return 0;
    }
}

static int m_push(jp *j, const unsigned char *at, const void *v, size_t n)
{
    if (sb_reserve(&j->vec, n) < 0)
        return oom(j, at);
    memcpy(j->vec.p + j->vec.len, v, n);
    j->vec.len += n;
    return 0;
}

/* A decoded string value in a members frame. */
static int m_string(jp *j, const unsigned char *at, unsigned kind, const char *s, size_t n)
{
    char *d = tide__arena_strndup(j->a, s, n);
    if (d == NULL)
        return oom(j, at);
    if (kind == K_MROOT) {
        *tide__members_str(j->m, j->slot) = d;
    } else if (kind == K_MLIST) {
        return m_push(j, at, &d, sizeof(d));
    } else {
        tide__kc_phase *cur = (tide__kc_phase *)(void *)(j->vec.p + j->vec.len) - 1;
        if (j->slot == 1)
            cur->kill_chain_name = d;
        else
            cur->phase_name = d;
    }
    return 0;
}

/* A members-mode array at the top level is complete: move what it collected to the arena. */
static int m_close(jp *j, const unsigned char *at, const frame *f)
{
    size_t n = j->vec.len;
    void *v = NULL;
    if (n) {
        v = tide__arena_alloc(j->a, n, sizeof(void *));
        if (v == NULL)
            return oom(j, at);
        memcpy(v, j->vec.p, n);
    }
    if (f->kind == K_MKC) {
        j->m->kill_chain_phases = v;
        j->m->n_kill_chain_phases = n / sizeof(tide__kc_phase);
    } else {
        *tide__members_list(j->m, f->elem) = (tide__strs){ v, n / sizeof(char *) };
    }
    return 0;
}

/* ---- the parser ---- */

/* Parses the object; *out gets the built object (NULL in members mode). 0 or -1 (failed). */
static int run(jp *j, unsigned flags, json_t **out)
{
    const unsigned char *e = j->end, *p = skip_ws(j->beg, e);
    int full = (flags & TIDE__JF_FULL) != 0, members = j->m != NULL;
    *out = NULL;
    if (p >= e || *p != '{') {
        if (p < e && *p == '[')
            fail(j, p, json_error_invalid_syntax, "a JSON object expected, not an array");
        else
            fail(j, p, json_error_invalid_syntax, "'[' or '{' expected");
        return -1;
    }
    json_t *root = NULL;
    if (members) {
        memset(j->m, 0, sizeof(*j->m));
    } else if ((root = json_object()) == NULL) {
        return oom(j, p);
    }
    frame local[32];
    frame *st = local;
    size_t cap = sizeof(local) / sizeof(local[0]), depth = 1;
    st[0] = (frame){ root, 1, (unsigned char)(members ? K_MROOT : full ? K_BUILD : K_ROOT), 0 };
    p++;
    int first = 1;
    const char *key = NULL;
    size_t klen = 0;
    frame *f;
    for (;;) {
        f = &st[depth - 1];
        p = skip_ws(p, e);
        if (p >= e) {
            fail(j, p, json_error_premature_end_of_input, "premature end of input");
            goto error;
        }
        if (first && *p == (f->obj ? '}' : ']')) {
            p++;
            goto close;
        }
        if (f->obj) {
            if (*p != '"') {
                fail(j, p, json_error_invalid_syntax, "string or '}' expected");
                goto error;
            }
            p = scan_string(j, p, &j->key, f->kind != K_SKIP, 1, &key, &klen);
            if (p == NULL)
                goto error;
            if (f->kind == K_MROOT)
                m_key(j, key, klen);
            else if (f->kind == K_MKCO)
                m_kc_key(j, key, klen);
            p = skip_ws(p, e);
            if (p >= e || *p != ':') {
                fail(j, p, json_error_invalid_syntax, "':' expected");
                goto error;
            }
            p = skip_ws(p + 1, e);
            if (p >= e) {
                fail(j, p, json_error_premature_end_of_input, "premature end of input");
                goto error;
            }
        }
        /* a value, at jansson depth depth + 1 */
        if (depth + 1 > MAX_DEPTH) {
            fail(j, p, json_error_stack_overflow, "maximum parsing depth reached");
            goto error;
        }
        unsigned c = *p;
        if (c == '{' || c == '[') {
            int isobj = c == '{';
            unsigned char ck = K_SKIP, celem = 0;
            int attach = 0;
            switch (f->kind) {
                case K_BUILD:
                    ck = K_BUILD;
                    attach = 1;
                    break;
                case K_ROOT:
                    j->rkey.len = 0;
                    if (sb_reserve(&j->rkey, klen) < 0) {
                        oom(j, p);
                        goto error;
                    }
                    memcpy(j->rkey.p, key, klen);
                    j->rkey.len = klen;
                    ck = isobj ? K_SKIP : K_CAND;
                    break;
                case K_CAND:
                    if (isobj && f->elem != 1) {
                        f->elem = 2;
                        ck = K_FLAT;
                        attach = 1;
                    } else {
                        disqualify(st, depth);
                    }
                    break;
                case K_FLAT:
                    if (j->marker == NULL && (j->marker = json_object()) == NULL) {
                        oom(j, p);
                        goto error;
                    }
                    if (json_object_setn_nocheck(f->c, key, klen, j->marker)) {
                        oom(j, p);
                        goto error;
                    }
                    f->elem = 1;
                    break;
                case K_MROOT:
                    if (isobj)
                        break;
                    if (j->slot == TIDE__M_OBJECTS) {
                        j->m->objects = TIDE__OBJECTS_ARRAY;
                    } else if (j->slot == TIDE__M_KILL_CHAIN_PHASES) {
                        ck = K_MKC;
                        j->vec.len = 0;
                    } else if (tide__members_list(j->m, j->slot) != NULL) {
                        ck = K_MLIST;
                        celem = (unsigned char)j->slot;
                        j->vec.len = 0;
                    }
                    break;
                case K_MKC:
                    if (isobj) {
                        static const tide__kc_phase none = { NULL, NULL };
                        if (m_push(j, p, &none, sizeof(none)) < 0)
                            goto error;
                        ck = K_MKCO;
                    }
                    break;
                default: break;
            }
            json_t *child = NULL;
            if (ck != K_SKIP && ck < K_MROOT) {
                child = isobj ? json_object() : json_array();
                if (child == NULL) {
                    oom(j, p);
                    goto error;
                }
                if (attach && add(j, p, f, key, klen, child) < 0)
                    goto error;
            }
            if (depth == cap) {
                frame *ns = tide__malloc((MAX_DEPTH + 1) * sizeof(frame));
                if (ns == NULL) {
                    if (!attach)
                        json_decref(child);
                    oom(j, p);
                    goto error;
                }
                memcpy(ns, st, depth * sizeof(frame));
                st = ns;
                cap = MAX_DEPTH + 1;
            }
            st[depth++] = (frame){ child, (unsigned char)isobj, ck, celem };
            p++;
            first = 1;
            continue;
        }
        int build;
        switch (f->kind) {
            case K_BUILD:
            case K_ROOT:
            case K_FLAT: build = 1; break;
            case K_CAND:
                build = c == '"' && f->elem != 2;
                if (build)
                    f->elem = 1;
                else
                    disqualify(st, depth);
                break;
            case K_SKIP: build = 0; break;
            default: build = m_build(j, f->kind, c); break;
        }
        json_t *v = NULL;
        const unsigned char *at = p;
        if (c == '"') {
            const char *s = NULL;
            size_t n = 0;
            p = scan_string(j, p, &j->str, build, 0, &s, &n);
            if (p == NULL)
                goto error;
            if (build) {
                if (f->kind >= K_MROOT) {
                    if (m_string(j, at, f->kind, s, n) < 0)
                        goto error;
                    build = 0;
                } else {
                    v = json_stringn_nocheck(s, n);
                }
            }
        } else if (c == '-' || is_digit(c)) {
            jnum num = { 0, 0, 0.0 };
            p = scan_number(j, p, build, &num);
            if (p == NULL)
                goto error;
            if (build) {
                if (f->kind >= K_MROOT) {
                    /* only confidence is decoded: jansson's integer, or a real */
                    j->m->confidence_is_int = !num.real;
                    j->m->confidence = num.real ? 0 : (long long)num.i;
                    j->m->confidence_real = num.real ? num.d : NAN;
                    build = 0;
                } else {
                    v = num.real ? json_real(num.d) : json_integer(num.i);
                }
            }
        } else if (c == 't' && e - p >= 4 && memcmp(p, "true", 4) == 0) {
            p = nul_quirk(p + 4, e);
            v = json_true();
            if (f->kind == K_MROOT && j->slot == TIDE__M_REVOKED)
                j->m->revoked = true;
        } else if (c == 'f' && e - p >= 5 && memcmp(p, "false", 5) == 0) {
            p = nul_quirk(p + 5, e);
            v = json_false();
        } else if (c == 'n' && e - p >= 4 && memcmp(p, "null", 4) == 0) {
            p = nul_quirk(p + 4, e);
            v = json_null();
        } else {
            if (c >= 0x80 && utf8_len(p, e) == 0)
                fail(j, p, json_error_invalid_utf8, "unable to decode byte 0x%x", c);
            else
                fail(j, p, json_error_invalid_syntax, "invalid token");
            goto error;
        }
        if (build && f->kind < K_MROOT && add(j, at, f, key, klen, v) < 0)
            goto error;
        goto next;

    close:
        /* the container st[depth - 1] is complete */
        depth--;
        if (depth == 0)
            break;
        if (st[depth].kind == K_MLIST || st[depth].kind == K_MKC) {
            if (m_close(j, p, &st[depth]) < 0)
                goto error;
        } else if (st[depth].kind == K_FLAT && st[depth].elem) {
            /* an object in a top-level array still has a member that is not a scalar */
            const char *mk;
            json_t *mv;
            json_object_foreach(st[depth].c, mk, mv)
            {
                if (mv == j->marker) {
                    disqualify(st, depth);
                    break;
                }
            }
        }
        if (st[0].kind == K_ROOT && depth == 1) {
            /* a top-level member: keep a flat array, drop anything else (and an earlier value
             * of the same key, as jansson's last-one-wins would) */
            frame *m = &st[1];
            if (m->kind == K_CAND) {
                m->kind = K_SKIP;
                if (json_object_setn_new_nocheck(root, j->rkey.p, j->rkey.len, m->c)) {
                    m->c = NULL;
                    oom(j, p);
                    goto error;
                }
                m->c = NULL;
            } else {
                json_object_deln(root, j->rkey.p, j->rkey.len);
            }
        }
    next:
        f = &st[depth - 1];
        p = skip_ws(p, e);
        if (p >= e) {
            fail(j, p, json_error_premature_end_of_input, "premature end of input");
            goto error;
        }
        if (*p == ',') {
            p++;
            first = 0;
            continue;
        }
        if (*p == (f->obj ? '}' : ']')) {
            p++;
            goto close;
        }
        if (f->obj)
            fail(j, p, json_error_invalid_syntax, "'}' expected");
        else
            fail(j, p, json_error_invalid_syntax, "']' expected");
        goto error;
    }
    if (flags & JF_PREFIX) {
        j->used = (size_t)(p - j->beg);
    } else {
        p = skip_ws(p, e);
        if (p < e) {
            fail(j, p, json_error_end_of_input_expected, "end of file expected");
            goto error;
        }
    }
    if (st != local)
        tide__free(st);
    *out = root;
    return 0;

error:
    /* a top-level candidate array is not attached to root yet */
    if (st[0].kind == K_ROOT && depth >= 2 && st[1].kind == K_CAND)
        json_decref(st[1].c);
    if (st != local)
        tide__free(st);
    json_decref(root);
    return -1;
}

/* Everything but the scratch buffers, which parse() sets up: zeroing their 1 KiB of local
 * space for every object cost more than a small object's members. */
static void jp_init(jp *j)
{
    j->beg = j->end = NULL;
    j->err = NULL;
    j->int_as_real = j->int_overflow = j->failed = 0;
    j->marker = NULL;
    j->m = NULL;
    j->a = NULL;
    j->slot = 0;
    j->used = 0;
}

/* Sets up j, runs the parser (twice when an integer is too big: tide__json_parse_item's retry,
 * every number as a real), cleans up. */
static int parse(
        jp *j, const char *ptr, size_t len, unsigned flags, json_error_t *err, json_t **out)
{
    err_init(err);
    j->err = err;
    *out = NULL;
    if (ptr == NULL) {
        j->beg = j->end = (const unsigned char *)"";
        fail(j, j->beg, json_error_invalid_argument, "wrong arguments");
        return -1;
    }
    j->beg = (const unsigned char *)ptr;
    j->end = j->beg + len;
    sb_init(&j->key);
    sb_init(&j->str);
    sb_init(&j->rkey);
    sb_init(&j->vec);
    int rc = run(j, flags, out);
    if (rc < 0 && j->int_overflow) {
        j->int_as_real = 1;
        j->failed = 0;
        err_init(err);
        rc = run(j, flags, out);
    }
    sb_free(&j->key);
    sb_free(&j->str);
    sb_free(&j->rkey);
    sb_free(&j->vec);
    json_decref(j->marker);
    if (rc == 0 && err != NULL)
        err->position = (int)(len > INT_MAX ? INT_MAX : len);
    return rc;
}

json_t *tide__json_parse_fast(const char *ptr, size_t len, unsigned flags, json_error_t *err)
{
    jp j;
    jp_init(&j);
    json_t *r;
    parse(&j, ptr, len, flags, err, &r);
    return r;
}

json_t *tide__json_parse_toplevel(const char *ptr, size_t len, json_error_t *err)
{
    return tide__json_parse_fast(ptr, len, 0, err);
}

static int parse_members(const char *ptr, size_t len, unsigned flags, tide__members *m,
        tide__arena *a, json_error_t *err, size_t *used)
{
    jp j;
    jp_init(&j);
    j.m = m;
    j.a = a;
    json_t *r;
    int rc = parse(&j, ptr, len, flags, err, &r);
    if (rc < 0)
        memset(m, 0, sizeof(*m));
    else if (used != NULL)
        *used = j.used;
    return rc;
}

int tide__json_parse_members(
        const char *ptr, size_t len, tide__members *m, tide__arena *a, json_error_t *err)
{
    return parse_members(ptr, len, 0, m, a, err, NULL);
}

int tide__json_parse_members_prefix(
        const char *ptr, size_t avail, tide__members *m, tide__arena *a, size_t *used)
{
    return parse_members(ptr, avail, JF_PREFIX, m, a, NULL, used);
}
