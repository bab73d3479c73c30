/*
 * unicode.c - UTF-8 decoding and NFC normalisation for the LIKE and MATCHES operators, which the
 * reference matcher makes insensitive to NFC/NFD differences (it NFC-normalises both sides).
 *
 * Hand-written because none of tide's allowed dependencies (PCRE2, jansson, OpenSSL, SQLite,
 * zlib, zstd) normalises Unicode, and ICU / libunistring are not among them. The data is the
 * generated canonical table in unicode_tables.h; the algorithm is the standard one (full
 * canonical decomposition, canonical ordering by combining class, canonical composition, with
 * Hangul done arithmetically).
 */
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern_int.h"
#include "pattern/unicode_tables.h"
#include "util/util.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Hangul constants (Unicode 3.12). */
#define SBASE  0xAC00u
#define LBASE  0x1100u
#define VBASE  0x1161u
#define TBASE  0x11A7u
#define LCOUNT 19u
#define VCOUNT 21u
#define TCOUNT 28u
#define NCOUNT (VCOUNT * TCOUNT)
#define SCOUNT (LCOUNT * NCOUNT)

size_t tide__utf8_decode(const unsigned char *s, size_t n, uint32_t *out)
{
    if (n == 0)
        return 0;
    uint32_t c = s[0];
    size_t len;
    uint32_t min;
    if (c < 0x80) {
        *out = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        len = 2, c &= 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, c &= 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, c &= 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *out = c;
    return len;
}

static size_t utf8_encode(uint32_t c, char *o)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    } else if (c < 0x800) {
        o[0] = (char)(0xC0 | (c >> 6));
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    } else if (c < 0x10000) {
        o[0] = (char)(0xE0 | (c >> 12));
        o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (c >> 18));
    o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

static uint8_t ccc_of(uint32_t c)
{
    size_t lo = 0, hi = NELEM(tide_uc_cccs);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c < tide_uc_cccs[mid].lo)
            hi = mid;
        else if (c > tide_uc_cccs[mid].hi)
            lo = mid + 1;
        else
            return tide_uc_cccs[mid].ccc;
    }
    return 0;
}

static const tide_uc_decomp *decomp_of(uint32_t c)
{
    size_t lo = 0, hi = NELEM(tide_uc_decomps);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c < tide_uc_decomps[mid].cp)
            hi = mid;
        else if (c > tide_uc_decomps[mid].cp)
            lo = mid + 1;
        else
            return &tide_uc_decomps[mid];
    }
    return NULL;
}

static uint32_t compose_pair(uint32_t a, uint32_t b)
{
    /* Hangul LV and LVT */
    if (a >= LBASE && a < LBASE + LCOUNT && b >= VBASE && b < VBASE + VCOUNT)
        return SBASE + ((a - LBASE) * VCOUNT + (b - VBASE)) * TCOUNT;
    if (a >= SBASE && a < SBASE + SCOUNT && (a - SBASE) % TCOUNT == 0 && b > TBASE &&
            b < TBASE + TCOUNT)
        return a + (b - TBASE);
    size_t lo = 0, hi = NELEM(tide_uc_comps);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const tide_uc_comp *e = &tide_uc_comps[mid];
        if (a < e->a || (a == e->a && b < e->b))
            hi = mid;
        else if (a > e->a || b > e->b)
            lo = mid + 1;
        else
            return e->cp;
    }
    return 0;
}

typedef struct {
    uint32_t *v;
    size_t n, cap;
} cpvec;

static int push(cpvec *o, uint32_t c)
{
    if (o->n == o->cap) {
        size_t nc = o->cap ? o->cap * 2 : 64;
        uint32_t *nv = tide__realloc(o->v, nc * sizeof(uint32_t));
        if (nv == NULL)
            return -1;
        o->v = nv;
        o->cap = nc;
    }
    o->v[o->n++] = c;
    return 0;
}

static int decompose(cpvec *o, uint32_t c, int depth)
{
    if (c >= SBASE && c < SBASE + SCOUNT) {
        uint32_t si = c - SBASE;
        if (push(o, LBASE + si / NCOUNT) || push(o, VBASE + (si % NCOUNT) / TCOUNT))
            return -1;
        if (si % TCOUNT && push(o, TBASE + si % TCOUNT))
            return -1;
        return 0;
    }
    const tide_uc_decomp *d = depth < 8 ? decomp_of(c) : NULL;
    if (d == NULL)
        return push(o, c);
    if (decompose(o, d->a, depth + 1))
        return -1;
    if (d->b && decompose(o, d->b, depth + 1))
        return -1;
    return 0;
}

char *tide__utf8_nfc(const char *s, size_t n, size_t *out_len)
{
    cpvec v = { NULL, 0, 0 };
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    bool ascii = true;
    for (size_t k = 0; k < n; k++)
        if (p[k] >= 0x80) {
            ascii = false;
            break;
        }
    if (ascii) {
        char *r = tide__strndup(s, n);
        if (r)
            *out_len = n;
        return r;
    }
    while (i < n) {
        uint32_t c;
        size_t l = tide__utf8_decode(p + i, n - i, &c);
        if (l == 0) {
            c = 0xFFFD;
            l = 1;
        }
        if (decompose(&v, c, 0))
            goto oom;
        i += l;
    }
    /* canonical ordering: stable insertion sort of each run of non-starters */
    for (size_t k = 1; k < v.n; k++) {
        uint8_t cc = ccc_of(v.v[k]);
        if (cc == 0)
            continue;
        size_t j = k;
        uint32_t c = v.v[k];
        while (j > 0) {
            uint8_t pc = ccc_of(v.v[j - 1]);
            if (pc <= cc)
                break;
            v.v[j] = v.v[j - 1];
            j--;
        }
        v.v[j] = c;
    }
    /* canonical composition */
    if (v.n > 0) {
        size_t starter = 0, w = 1;
        bool have_starter = ccc_of(v.v[0]) == 0;
        int last_cc = have_starter ? 0 : 256;
        for (size_t k = 1; k < v.n; k++) {
            uint32_t c = v.v[k];
            int cc = ccc_of(c);
            uint32_t comp = 0;
            if (have_starter && (last_cc < cc || (last_cc == 0 && w - 1 == starter)))
                comp = compose_pair(v.v[starter], c);
            if (have_starter && comp) {
                v.v[starter] = comp;
                continue;
            }
            if (cc == 0) {
                starter = w;
                have_starter = true;
                last_cc = 0;
            } else {
                last_cc = cc;
            }
            v.v[w++] = c;
        }
        v.n = w;
    }
    char *out = tide__malloc(v.n * 4 + 1);
    if (out == NULL)
        goto oom;
    size_t o = 0;
    for (size_t k = 0; k < v.n; k++)
        o += utf8_encode(v.v[k], out + o);
    out[o] = '\0';
    *out_len = o;
    tide__free(v.v);
    return out;
oom:
    tide__free(v.v);
    return NULL;
}
