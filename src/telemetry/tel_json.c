/*
 * tel_json.c - the JSON telemetry formats: Suricata EVE, Sysmon / Windows event JSON (also as
 * shipped by winlogbeat), Zeek JSON and generic NDJSON with a field map, on top of a single-pass
 * JSON scanner.
 *
 * Why hand-written: jansson (and src/ingest/json_fast.c, which builds jansson objects) allocate
 * a tree per line; at the >= 600 MB/s target the cost of building and freeing a DOM for each
 * record dominates. The scanner here validates the whole object (RFC 8259 grammar, escapes,
 * surrogates; UTF-8 is checked on the line before) without allocating. The paths of interest
 * form a trie of dotted prefixes (flat "a.b" keys and nested objects meet at the same node;
 * objects inside arrays are transparent); keys are looked up in one small hash table of trie
 * edges (one multiply per key, keys of up to 16 bytes compared at once), values under other
 * keys are only validated. The string specials ('"', '\\', control characters) are found 64 bytes
 * at a time into a window bitmap, so each byte is classified once and a string ends by a bit
 * search; digit runs go 8 at a time.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "telemetry/tel_int.h"
#include "tide/errors.h"

/* ------------------------------------------------------------------ path trie */

bool tide__key_eq_long(const char *a, const char *b, size_t n)
{
    return tide__mem_eq(a, b, n);
}

static int grow_nodes(tide__jpt *t)
{
    if (t->nnodes < t->nodes_cap)
        return 0;
    size_t nc = t->nodes_cap ? t->nodes_cap * 2 : 32;
    if (nc > 32000)
        return tide_error_set(TIDE_ETOOBIG, "too many JSON paths");
    int16_t *id = tide__realloc(t->id, nc * sizeof(*id));
    if (id == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    t->id = id;
    char **np = tide__realloc(t->npath, nc * sizeof(*np));
    if (np == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    t->npath = np;
    t->nodes_cap = nc;
    return 0;
}

static void edge_put(tide__jedge *tab, size_t mask, const tide__jedge *e)
{
    size_t s = tide__jedge_hash(e->node, e->key, e->klen) & mask;
    while (tab[s].child >= 0)
        s = (s + 1) & mask;
    tab[s] = *e;
}

static int add_edge(tide__jpt *t, unsigned node, const char *key, size_t klen, int child)
{
    if (tide__jpt_child(t, node, key, klen) >= 0)
        return 0;
    if ((t->nedges + 1) * 4 > t->mask + 1) { /* keep the load under 1/4: misses stop early */
        size_t ns = (t->mask + 1) * 2;
        tide__jedge *nt = tide__malloc(ns * sizeof(*nt));
        if (nt == NULL)
            return tide_error_set(TIDE_ENOMEM, "out of memory");
        for (size_t i = 0; i < ns; i++)
            nt[i].child = -1;
        for (size_t i = 0; i <= t->mask; i++)
            if (t->edge[i].child >= 0)
                edge_put(nt, ns - 1, &t->edge[i]);
        tide__free(t->edge);
        t->edge = nt;
        t->mask = ns - 1;
    }
    tide__jedge e = { key, (uint16_t)node, (uint16_t)klen, (int16_t)child };
    edge_put(t->edge, t->mask, &e);
    t->nedges++;
    return 0;
}

int tide__jpt_init(tide__jpt *t)
{
    memset(t, 0, sizeof(*t));
    t->edge = tide__malloc(64 * sizeof(*t->edge));
    TIDE_CHECK_ALLOC(t->edge);
    for (size_t i = 0; i < 64; i++)
        t->edge[i].child = -1;
    t->mask = 63;
    TIDE_CHECK(grow_nodes(t));
    t->id[0] = -1;
    t->npath[0] = tide__calloc(1, 1 + 16); /* "" with the padding of node_of */
    TIDE_CHECK_ALLOC(t->npath[0]);
    t->nnodes = 1;
    return 0;
}

void tide__jpt_free(tide__jpt *t)
{
    for (size_t i = 0; i < t->nnodes; i++)
        tide__free(t->npath[i]);
    tide__free(t->npath);
    tide__free(t->id);
    tide__free(t->edge);
    memset(t, 0, sizeof(*t));
}

/* node of the dotted prefix path[0..n), created when missing */
static int node_of(tide__jpt *t, const char *path, size_t n)
{
    for (size_t i = 0; i < t->nnodes; i++)
        if (strlen(t->npath[i]) == n && memcmp(t->npath[i], path, n) == 0)
            return (int)i;
    TIDE_CHECK(grow_nodes(t));
    /* 16 zero bytes past the end: edge keys point into this string and are compared 16 bytes
     * at a time (tide__key_eq) */
    char *s = tide__calloc(1, n + 1 + 16);
    TIDE_CHECK_ALLOC(s);
    memcpy(s, path, n);
    t->npath[t->nnodes] = s;
    t->id[t->nnodes] = -1;
    return (int)t->nnodes++;
}

int tide__jpt_add(tide__jpt *t, const char *path, int id)
{
    size_t n = strlen(path);
    if (n == 0 || n > 250)
        return 0; /* never reported (as before: empty or over-long paths match nothing) */
    /* component boundaries: ends[k] = end of the k-th component; more than JS_PATH_DEPTH
     * components can never be reported (the scanner stops tracking paths that deep) */
    size_t ends[64], ncomp = 0;
    for (size_t i = 0; i <= n; i++)
        if (i == n || path[i] == '.') {
            if (ncomp == 64)
                return 0;
            ends[ncomp++] = i;
        }
    int nodes[65];
    nodes[0] = 0;
    for (size_t k = 0; k < ncomp; k++) {
        int nd = node_of(t, path, ends[k]);
        if (nd < 0)
            return nd;
        nodes[k + 1] = nd;
    }
    /* edges from every prefix to every longer prefix, labelled with the dotted rest; the
     * labels point into the node's own path string (stable) */
    for (size_t a = 0; a < ncomp; a++) {
        size_t from = a == 0 ? 0 : ends[a - 1] + 1;
        for (size_t b = a; b < ncomp; b++) {
            const char *np = t->npath[nodes[b + 1]];
            TIDE_CHECK(add_edge(t, (unsigned)nodes[a], np + from, ends[b] - from, nodes[b + 1]));
        }
    }
    int leaf = nodes[ncomp];
    if (t->id[leaf] < 0)
        t->id[leaf] = (int16_t)id; /* first wins */
    return 0;
}

/* ------------------------------------------------------------------ scanner
 * Functions take the position and return the new one, or NULL with s->why / s->errp set. Values
 * under a key that is no trie edge are validated in skip mode (no path work at all). */

#define JS_MAX_DEPTH  64
#define JS_PATH_DEPTH 6

typedef struct {
    const char *e, *start;
    const tide__jpt *t;
    tide__jscan_cb cb;
    void *ctx;
    const char *why;
    const char *errp;
    /* string specials ('"', '\\', control characters) of the 64-byte window at wb (on a 64-byte
     * grid from start): every byte is classified once, strings end by a bit search */
    const char *wb;
    uint64_t wm;
} jscan;

static const char *fail(jscan *s, const char *p, const char *why)
{
    s->why = why;
    s->errp = p;
    return NULL;
}

static int hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 32);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hexv(p[i]);
        if (d < 0)
            return -1;
        v = v << 4 | (unsigned)d;
    }
    *out = v;
    return 0;
}

#define HIGHS 0x8080808080808080ull

/* Bits of the string specials in w[0..64), only below e. The text is in the reader's line
 * buffer, which has TIDE__TEL_BUF_SLACK readable bytes past its data. */
static inline uint64_t special_mask64(const char *w, const char *e)
{
    uint64_t m = 0;
#ifdef __SSE2__
    /* four blocks spelled out: as a loop the compiler kept a variable shift per block */
    const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), c1f = _mm_set1_epi8(0x1f);
    const __m128i *v = (const __m128i *)(const void *)w;
#define SPECIAL16(x)                                                                               \
    ((uint64_t)(uint32_t)_mm_movemask_epi8(                                                        \
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, bs)),                \
                    _mm_cmpeq_epi8(_mm_max_epu8(x, c1f), c1f))))
    __m128i x0 = _mm_loadu_si128(v), x1 = _mm_loadu_si128(v + 1), x2 = _mm_loadu_si128(v + 2),
            x3 = _mm_loadu_si128(v + 3);
    m = SPECIAL16(x0) | SPECIAL16(x1) << 16 | SPECIAL16(x2) << 32 | SPECIAL16(x3) << 48;
#undef SPECIAL16
#else
    for (int k = 0; k < 64; k++) {
        unsigned char c = (unsigned char)w[k];
        m |= (uint64_t)(c == '"' || c == '\\' || c < 0x20) << k;
    }
#endif
    size_t left = (size_t)(e - w);
    if (left < 64)
        m &= ((uint64_t)1 << left) - 1;
    return m;
}

/* First byte at or after p that is '"', '\\' or a control character; s->e if none. p only moves
 * forward during a scan, so the window is only ever advanced. */
static inline const char *str_special(jscan *s, const char *p)
{
    for (;;) {
        if (TIDE__UNLIKELY(p >= s->e))
            return s->e;
        size_t off = (size_t)(p - s->wb);
        if (TIDE__UNLIKELY(off >= 64)) {
            s->wb = s->start + ((size_t)(p - s->start) & ~(size_t)63);
            s->wm = special_mask64(s->wb, s->e);
            off = (size_t)(p - s->wb);
        }
        uint64_t m = s->wm >> off;
        if (TIDE__LIKELY(m))
            return p + __builtin_ctzll(m);
        p = s->wb + 64;
    }
}

/* The rest of a string from its first special byte p (an escape, a control character or the
 * end of the text): out of line, so that the common string (no escape) is scanned inline. */
__attribute__((noinline)) static const char *scan_string_rest(jscan *s, const char *p, bool *esc)
{
    const char *e = s->e;
    for (bool first = true;; first = false) {
        if (!first)
            p = str_special(s, p);
        if (TIDE__UNLIKELY(p >= e))
            return fail(s, p, "unterminated string");
        unsigned char c = (unsigned char)*p;
        if (TIDE__LIKELY(c == '"'))
            return p + 1;
        if (c < 0x20)
            return fail(s, p, "control character in string");
        *esc = true;
        if (e - p < 2)
            return fail(s, p, "unterminated string");
        switch (p[1]) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't': p += 2; break;
            case 'u': {
                unsigned u;
                if (e - p < 6 || hex4(p + 2, &u) < 0)
                    return fail(s, p, "bad \\u escape");
                if (u == 0)
                    return fail(s, p, "\\u0000 in string");
                p += 6;
                if (u >= 0xDC00 && u <= 0xDFFF)
                    return fail(s, p, "lone low surrogate");
                if (u >= 0xD800 && u <= 0xDBFF) {
                    unsigned l;
                    if (e - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, &l) < 0 ||
                            l < 0xDC00 || l > 0xDFFF)
                        return fail(s, p, "lone high surrogate");
                    p += 6;
                }
                break;
            }
            default: return fail(s, p, "bad escape");
        }
    }
}

/* p at the opening quote; returns the position after the closing quote. Always inline: it runs
 * for every key and most values (with the values of interest scanned in node_object as well,
 * the compiler made it a call, a dozen instructions of saved registers per string). */
__attribute__((always_inline)) static inline const char *scan_string(
        jscan *s, const char *p, bool *esc)
{
    const char *q = str_special(s, p + 1);
    if (TIDE__LIKELY(q < s->e && *q == '"'))
        return q + 1;
    return scan_string_rest(s, q, esc);
}

static inline const char *skip_ws(const char *p, const char *e)
{
    while (p < e && (unsigned char)*p <= ' ' &&
            (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static inline bool is_dig(char c)
{
    return (unsigned)(unsigned char)c - '0' <= 9;
}

/* Past the run of ASCII digits at p (8 at a time). */
static inline const char *skip_digits(const char *p, const char *e)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (e - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        uint64_t t = w ^ 0x3030303030303030ull; /* digits become 0..9 */
        uint64_t nd = ((t + 0x7676767676767676ull) | t) & HIGHS;
        if (nd)
            return p + (__builtin_ctzll(nd) >> 3);
        p += 8;
    }
#endif
    while (p < e && is_dig(*p))
        p++;
    return p;
}

static const char *scan_number(jscan *s, const char *p)
{
    const char *e = s->e;
    if (p < e && *p == '-')
        p++;
    if (p >= e || !is_dig(*p))
        return fail(s, p, "bad number");
    if (*p == '0')
        p++;
    else
        p = skip_digits(p, e);
    if (p < e && *p == '.') {
        p++;
        if (p >= e || !is_dig(*p))
            return fail(s, p, "bad number");
        p = skip_digits(p, e);
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (p >= e || !is_dig(*p))
            return fail(s, p, "bad number");
        while (p < e && is_dig(*p))
            p++;
    }
    return p;
}

/* A scalar that is not a string: literal or number; *type set. */
static inline const char *scan_scalar(jscan *s, const char *p, int *type)
{
    const char *e = s->e;
    switch (*p) {
        case 't':
            *type = TIDE__JS_TRUE;
            if (e - p < 4 || memcmp(p, "true", 4) != 0)
                return fail(s, p, "bad literal");
            return p + 4;
        case 'f':
            *type = TIDE__JS_FALSE;
            if (e - p < 5 || memcmp(p, "false", 5) != 0)
                return fail(s, p, "bad literal");
            return p + 5;
        case 'n':
            *type = TIDE__JS_NULL;
            if (e - p < 4 || memcmp(p, "null", 4) != 0)
                return fail(s, p, "bad literal");
            return p + 4;
        default: *type = TIDE__JS_NUM; return scan_number(s, p);
    }
}

static const char *skip_value(jscan *s, const char *p, int depth);

/* p at '{' (depth = the object's depth) */
static const char *skip_object(jscan *s, const char *p, int depth)
{
    const char *e = s->e;
    if (depth > JS_MAX_DEPTH)
        return fail(s, p, "nesting too deep");
    p = skip_ws(p + 1, e);
    if (p < e && *p == '}')
        return p + 1;
    for (;;) {
        if (TIDE__UNLIKELY(p >= e || *p != '"')) {
            p = skip_ws(p, e);
            if (p >= e || *p != '"')
                return fail(s, p, p >= e ? "truncated object" : "expected a key");
        }
        bool esc = false;
        if ((p = scan_string(s, p, &esc)) == NULL)
            return NULL;
        if (TIDE__UNLIKELY(p >= e || *p != ':')) {
            p = skip_ws(p, e);
            if (p >= e || *p != ':')
                return fail(s, p, p >= e ? "truncated object" : "expected ':'");
        }
        if ((p = skip_value(s, p + 1, depth)) == NULL)
            return NULL;
        if (TIDE__UNLIKELY(p >= e || (*p != ',' && *p != '}'))) {
            p = skip_ws(p, e);
            if (p >= e)
                return fail(s, p, "truncated object");
        }
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == '}')
            return p + 1;
        return fail(s, p, "expected ',' or '}'");
    }
}

static const char *skip_array(jscan *s, const char *p, int depth)
{
    const char *e = s->e;
    if (depth > JS_MAX_DEPTH)
        return fail(s, p, "nesting too deep");
    p = skip_ws(p + 1, e);
    if (p < e && *p == ']')
        return p + 1;
    for (;;) {
        if ((p = skip_value(s, p, depth)) == NULL)
            return NULL;
        p = skip_ws(p, e);
        if (p >= e)
            return fail(s, p, "truncated array");
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == ']')
            return p + 1;
        return fail(s, p, "expected ',' or ']'");
    }
}

/* a value inside a container of depth `depth` */
static const char *skip_value(jscan *s, const char *p, int depth)
{
    if (TIDE__UNLIKELY(p >= s->e || (unsigned char)*p <= ' '))
        p = skip_ws(p, s->e);
    if (p >= s->e)
        return fail(s, p, "truncated value");
    int type;
    bool esc = false;
    switch (*p) {
        case '"': return scan_string(s, p, &esc);
        case '{': return skip_object(s, p, depth + 1);
        case '[': return skip_array(s, p, depth + 1);
        default: return scan_scalar(s, p, &type);
    }
}

static const char *node_value(jscan *s, const char *p, int depth, int node, bool in_arr);

static const char *node_object(jscan *s, const char *p, int depth, int node)
{
    const char *e = s->e;
    if (depth > JS_MAX_DEPTH)
        return fail(s, p, "nesting too deep");
    p = skip_ws(p + 1, e);
    if (p < e && *p == '}')
        return p + 1;
    for (;;) {
        if (TIDE__UNLIKELY(p >= e || *p != '"')) {
            p = skip_ws(p, e);
            if (p >= e || *p != '"')
                return fail(s, p, p >= e ? "truncated object" : "expected a key");
        }
        const char *k = p + 1;
        bool kesc = false;
        if ((p = scan_string(s, p, &kesc)) == NULL)
            return NULL;
        size_t kn = (size_t)(p - 1 - k);
        int child = -1;
        if (!kesc && depth <= JS_PATH_DEPTH) {
            if (TIDE__UNLIKELY(kn == 0))
                child = node == 0 ? 0 : -1; /* "" keeps the empty root path */
            else
                child = tide__jpt_child(s->t, (unsigned)node, k, kn);
        }
        if (TIDE__UNLIKELY(p >= e || *p != ':')) {
            p = skip_ws(p, e);
            if (p >= e || *p != ':')
                return fail(s, p, p >= e ? "truncated object" : "expected ':'");
        }
        if (child >= 0) {
            /* the usual value of interest, a string or a number right after the ':', is
             * reported here (node_value does the same for it, as a call per value) */
            const char *v = p + 1;
            int id = s->t->id[child];
            if (id >= 0 && v < e && *v == '"') {
                bool vesc = false;
                if ((p = scan_string(s, v, &vesc)) == NULL)
                    return NULL;
                if (s->cb(s->ctx, id, TIDE__JS_STR, v + 1, (size_t)(p - v - 2), vesc, false,
                            &s->why) < 0)
                    return fail(s, p, s->why);
            } else if (id >= 0 && v < e && is_dig(*v)) { /* a port, an event id */
                if ((p = scan_number(s, v)) == NULL)
                    return NULL;
                if (s->cb(s->ctx, id, TIDE__JS_NUM, v, (size_t)(p - v), false, false, &s->why) < 0)
                    return fail(s, p, s->why);
            } else
                p = node_value(s, v, depth, child, false);
        } else if (TIDE__LIKELY(p + 1 < e && p[1] == '"')) { /* the usual skipped values inline */
            bool vesc = false;
            p = scan_string(s, p + 1, &vesc);
        } else if (p + 1 < e && is_dig(p[1]))
            p = scan_number(s, p + 1);
        else
            p = skip_value(s, p + 1, depth);
        if (p == NULL)
            return NULL;
        if (TIDE__UNLIKELY(p >= e || (*p != ',' && *p != '}'))) {
            p = skip_ws(p, e);
            if (p >= e)
                return fail(s, p, "truncated object");
        }
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == '}')
            return p + 1;
        return fail(s, p, "expected ',' or '}'");
    }
}

static const char *node_array(jscan *s, const char *p, int depth, int node)
{
    const char *e = s->e;
    if (depth > JS_MAX_DEPTH)
        return fail(s, p, "nesting too deep");
    p = skip_ws(p + 1, e);
    if (p < e && *p == ']')
        return p + 1;
    for (;;) {
        if ((p = node_value(s, p, depth, node, true)) == NULL)
            return NULL;
        p = skip_ws(p, e);
        if (p >= e)
            return fail(s, p, "truncated array");
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == ']')
            return p + 1;
        return fail(s, p, "expected ',' or ']'");
    }
}

/* a value on a trie node (objects inside arrays keep the array's path) */
static const char *node_value(jscan *s, const char *p, int depth, int node, bool in_arr)
{
    if (TIDE__UNLIKELY(p >= s->e || (unsigned char)*p <= ' '))
        p = skip_ws(p, s->e);
    if (p >= s->e)
        return fail(s, p, "truncated value");
    int id = s->t->id[node];
    int type;
    const char *st = p;
    switch (*p) {
        case '{':
            if (id >= 0)
                return fail(s, p, "an object where a string or number was expected");
            return node_object(s, p, depth + 1, node);
        case '[': return node_array(s, p, depth + 1, node);
        case '"': {
            bool esc = false;
            if ((p = scan_string(s, p, &esc)) == NULL)
                return NULL;
            if (id >= 0 && s->cb(s->ctx, id, TIDE__JS_STR, st + 1, (size_t)(p - st - 2), esc,
                                   in_arr, &s->why) < 0)
                return fail(s, p, s->why);
            return p;
        }
        default:
            if ((p = scan_scalar(s, p, &type)) == NULL)
                return NULL;
            if (id >= 0 &&
                    s->cb(s->ctx, id, type, st, (size_t)(p - st), false, in_arr, &s->why) < 0)
                return fail(s, p, s->why);
            return p;
    }
}

int tide__jscan(const char *p, size_t n, const tide__jpt *t, tide__jscan_cb cb, void *ctx,
        const char **why, size_t *where)
{
    jscan s;
    s.start = p;
    s.e = p + n;
    s.t = t;
    s.cb = cb;
    s.ctx = ctx;
    s.why = NULL;
    s.errp = p;
    s.wb = p;
    s.wm = special_mask64(p, s.e);
    const char *q = skip_ws(p, s.e);
    if (q >= s.e || *q != '{') {
        *why = "not a JSON object";
        *where = (size_t)(q - p);
        return -1;
    }
    q = node_object(&s, q, 1, 0);
    if (q != NULL) {
        q = skip_ws(q, s.e);
        if (q == s.e)
            return 0;
        s.why = "text after the JSON object";
        s.errp = q;
    }
    *why = s.why ? s.why : "malformed JSON";
    *where = (size_t)(s.errp - p);
    return -1;
}

static void put_utf8(char *o, size_t *k, unsigned u)
{
    if (u < 0x80)
        o[(*k)++] = (char)u;
    else if (u < 0x800) {
        o[(*k)++] = (char)(0xC0 | u >> 6);
        o[(*k)++] = (char)(0x80 | (u & 0x3F));
    } else if (u < 0x10000) {
        o[(*k)++] = (char)(0xE0 | u >> 12);
        o[(*k)++] = (char)(0x80 | ((u >> 6) & 0x3F));
        o[(*k)++] = (char)(0x80 | (u & 0x3F));
    } else {
        o[(*k)++] = (char)(0xF0 | u >> 18);
        o[(*k)++] = (char)(0x80 | ((u >> 12) & 0x3F));
        o[(*k)++] = (char)(0x80 | ((u >> 6) & 0x3F));
        o[(*k)++] = (char)(0x80 | (u & 0x3F));
    }
}

long tide__junescape(const char *s, size_t n, char *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') {
            out[k++] = s[i];
            continue;
        }
        if (i + 1 >= n)
            return -1;
        char c = s[++i];
        switch (c) {
            case 'b': out[k++] = '\b'; break;
            case 'f': out[k++] = '\f'; break;
            case 'n': out[k++] = '\n'; break;
            case 'r': out[k++] = '\r'; break;
            case 't': out[k++] = '\t'; break;
            case 'u': {
                unsigned u, l;
                if (i + 4 >= n || hex4(s + i + 1, &u) < 0)
                    return -1;
                i += 4;
                if (u >= 0xD800 && u <= 0xDBFF) {
                    if (i + 6 >= n || s[i + 1] != '\\' || s[i + 2] != 'u' ||
                            hex4(s + i + 3, &l) < 0)
                        return -1;
                    u = 0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00);
                    i += 6;
                }
                put_utf8(out, &k, u);
                break;
            }
            default: out[k++] = c; break;
        }
    }
    return (long)k;
}

/* tide__junescape for text in the line buffer into the reader's scratch (both have
 * TIDE__TEL_BUF_SLACK bytes past their data): the runs between escapes are copied 16 bytes at a
 * time, up to 15 bytes read and written past the run's end (Sysmon paths and user names carry
 * an escaped backslash or two; byte by byte that was 10 instructions a byte). */
long tide__junescape_slack(const char *s, size_t n, char *out)
{
#ifdef __SSE2__
    size_t i = 0, k = 0;
    while (i < n) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        _mm_storeu_si128((__m128i *)(void *)(out + k), x);
        unsigned bs = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('\\')));
        size_t left = n - i;
        if (left < 16)
            bs &= (1u << left) - 1;
        if (bs == 0) {
            size_t c = left < 16 ? left : 16;
            i += c;
            k += c;
            continue;
        }
        size_t c = (size_t)__builtin_ctz(bs);
        i += c;
        k += c;
        /* the escape at i: as tide__junescape */
        if (i + 1 >= n)
            return -1;
        char e = s[++i];
        switch (e) {
            case 'b': out[k++] = '\b'; break;
            case 'f': out[k++] = '\f'; break;
            case 'n': out[k++] = '\n'; break;
            case 'r': out[k++] = '\r'; break;
            case 't': out[k++] = '\t'; break;
            case 'u': {
                unsigned u, l;
                if (i + 4 >= n || hex4(s + i + 1, &u) < 0)
                    return -1;
                i += 4;
                if (u >= 0xD800 && u <= 0xDBFF) {
                    if (i + 6 >= n || s[i + 1] != '\\' || s[i + 2] != 'u' ||
                            hex4(s + i + 3, &l) < 0)
                        return -1;
                    u = 0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00);
                    i += 6;
                }
                put_utf8(out, &k, u);
                break;
            }
            default: out[k++] = e; break;
        }
        i++;
    }
    return (long)k;
#else
    return tide__junescape(s, n, out);
#endif
}

/* ------------------------------------------------------------------ the JSON formats */

enum {
    F_TS = 0,
    F_TS2,
    F_KIND,
    F_SRC,
    F_DST,
    F_DPORT,
    F_DOMAIN,
    F_ANSWER,
    F_HTTP_HOST,
    F_URI,
    F_URL,
    F_REFERRER,
    F_MD5,
    F_SHA1,
    F_SHA256,
    F_JA3,
    F_X509_FP,
    F_EMAIL,
    F_USER,
    F_HOSTNAME,
    F_TXRX,
    F_EID,
    F_HASHES,
    F_QRES,
    F_IP,
    F_COUNT
};

typedef struct {
    const char *path;
    int id;
} pdef;

static const pdef eve_paths[] = { { "timestamp", F_TS }, { "event_type", F_KIND },
    { "src_ip", F_SRC }, { "dest_ip", F_DST }, { "dest_port", F_DPORT }, { "dns.rrname", F_DOMAIN },
    { "dns.query.rrname", F_DOMAIN }, { "dns.queries.rrname", F_DOMAIN },
    { "dns.answers.rrname", F_DOMAIN }, { "dns.rdata", F_ANSWER },
    { "dns.answers.rdata", F_ANSWER }, { "dns.grouped.A", F_ANSWER },
    { "dns.grouped.AAAA", F_ANSWER }, { "dns.grouped.CNAME", F_ANSWER },
    { "http.hostname", F_HTTP_HOST }, { "http.url", F_URI }, { "http.http_refer", F_REFERRER },
    { "tls.sni", F_DOMAIN }, { "tls.ja3.hash", F_JA3 }, { "tls.ja3s.hash", F_JA3 },
    { "tls.fingerprint", F_X509_FP }, { "fileinfo.md5", F_MD5 }, { "fileinfo.sha1", F_SHA1 },
    { "fileinfo.sha256", F_SHA256 }, { "smtp.mail_from", F_EMAIL }, { "smtp.rcpt_to", F_EMAIL },
    { "email.from", F_EMAIL }, { "email.to", F_EMAIL }, { "email.cc", F_EMAIL }, { NULL, 0 } };

static const pdef zeek_paths[] = { { "ts", F_TS }, { "_path", F_KIND }, { "@stream", F_KIND },
    { "id.orig_h", F_SRC }, { "id_orig_h", F_SRC }, { "id.resp_h", F_DST }, { "id_resp_h", F_DST },
    { "id.resp_p", F_DPORT }, { "id_resp_p", F_DPORT }, { "query", F_DOMAIN },
    { "answers", F_ANSWER }, { "host", F_HTTP_HOST }, { "uri", F_URI }, { "referrer", F_REFERRER },
    { "server_name", F_DOMAIN }, { "md5", F_MD5 }, { "sha1", F_SHA1 }, { "sha256", F_SHA256 },
    { "tx_hosts", F_TXRX }, { "rx_hosts", F_TXRX }, { "ja3", F_JA3 }, { "ja3s", F_JA3 },
    { "fingerprint", F_X509_FP }, { "mailfrom", F_EMAIL }, { "rcptto", F_EMAIL },
    { "from", F_EMAIL }, { "to", F_EMAIL }, { "username", F_USER }, { "user", F_USER },
    { NULL, 0 } };

static const pdef sysmon_paths[] = { { "UtcTime", F_TS }, { "@timestamp", F_TS2 },
    { "TimeCreated", F_TS2 }, { "EventID", F_EID }, { "Computer", F_HOSTNAME },
    { "Hostname", F_HOSTNAME }, { "User", F_USER }, { "Hashes", F_HASHES }, { "Hash", F_HASHES },
    { "SourceIp", F_SRC }, { "DestinationIp", F_DST }, { "DestinationPort", F_DPORT },
    { "DestinationHostname", F_HTTP_HOST }, { "QueryName", F_DOMAIN }, { "QueryResults", F_QRES },
    { "IpAddress", F_IP },
    /* the same under winlogbeat */
    { "winlog.event_data.UtcTime", F_TS }, { "winlog.event_id", F_EID },
    { "winlog.computer_name", F_HOSTNAME }, { "winlog.event_data.User", F_USER },
    { "winlog.event_data.Hashes", F_HASHES }, { "winlog.event_data.Hash", F_HASHES },
    { "winlog.event_data.SourceIp", F_SRC }, { "winlog.event_data.DestinationIp", F_DST },
    { "winlog.event_data.DestinationPort", F_DPORT },
    { "winlog.event_data.DestinationHostname", F_HTTP_HOST },
    { "winlog.event_data.QueryName", F_DOMAIN }, { "winlog.event_data.QueryResults", F_QRES },
    { "winlog.event_data.IpAddress", F_IP }, { NULL, 0 } };

/* Per record; only the header part is cleared per line: v[id] / fld[id] are valid when bit id
 * of `have` is set (a stored value is never empty). */
typedef struct {
    tide_tel_parser *r;
    uint32_t have;
    bool has_ts, has_ts2;
    size_t ntx;
    int64_t ts, ts2;
    tide__sv eid;
    tide__sv mhost, msrc, mdst;
    /* not cleared */
    tide__sv v[F_COUNT];
    const char *fld[F_COUNT];
    tide__sv tx[8];
} jrec;

static inline tide__sv jv(const jrec *j, int id)
{
    if (j->have >> id & 1)
        return j->v[id];
    tide__sv z = { NULL, 0 };
    return z;
}

static inline void jset(jrec *j, int id, tide__sv s)
{
    if (s.n) {
        j->v[id] = s;
        j->have |= 1u << id;
    } else
        j->have &= ~(1u << id);
}

/* Resolve the value: unescape into scratch when needed. false when out of scratch. */
static bool value_of(tide_tel_parser *r, const char *v, size_t n, bool esc, tide__sv *out)
{
    if (!esc) {
        out->p = v;
        out->n = n;
        return true;
    }
    char *d = tide__tel_scratch(r, n);
    if (d == NULL)
        return false;
    long k = tide__junescape_slack(v, n, d);
    if (k < 0)
        return false;
    r->scr_len -= n - (size_t)k;
    out->p = d;
    out->n = (size_t)k;
    return true;
}

static void obs_answer(tide_tel_parser *r, tide__sv v, const char *field)
{
    if (tide__tel_obs_ip(r, v.p, v.n, field) == TIDE_OBS_NONE)
        tide__tel_obs_hostname(r, v.p, v.n, field);
}

static void obs_email(tide_tel_parser *r, tide__sv v, const char *field)
{
    /* "Name <a@b>" or "<a@b>" or "a@b" */
    const char *lt = memchr(v.p, '<', v.n);
    if (lt) {
        const char *gt = memchr(lt, '>', v.n - (size_t)(lt - v.p));
        if (gt == NULL)
            return;
        v.n = (size_t)(gt - lt - 1);
        v.p = lt + 1;
    }
    while (v.n && (v.p[0] == ' ' || v.p[0] == '"'))
        v.p++, v.n--;
    while (v.n && (v.p[v.n - 1] == ' ' || v.p[v.n - 1] == '"'))
        v.n--;
    const char *at = memchr(v.p, '@', v.n);
    if (at && at > v.p && at < v.p + v.n - 3 && memchr(v.p, ' ', v.n) == NULL)
        tide__tel_obs(r, TIDE_OBS_EMAIL, v.p, v.n, field);
}

static void obs_hash(tide_tel_parser *r, tide__sv v, const char *field)
{
    tide_obs_kind k = TIDE_OBS_NONE;
    if (!tide__is_hex(v.p, v.n))
        return;
    if (v.n == 32)
        k = TIDE_OBS_MD5;
    else if (v.n == 40)
        k = TIDE_OBS_SHA1;
    else if (v.n == 64)
        k = TIDE_OBS_SHA256;
    else if (v.n == 128)
        k = TIDE_OBS_SHA512;
    if (k)
        tide__tel_obs(r, k, v.p, v.n, field);
}

static void obs_x509(tide_tel_parser *r, tide__sv v, const char *field)
{
    /* "aa:bb:..." (EVE) or plain hex; SHA-1 only */
    char tmp[64];
    size_t k = 0;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] == ':')
            continue;
        if (k >= sizeof(tmp))
            return;
        tmp[k++] = v.p[i];
    }
    if (k != 40 || !tide__is_hex(tmp, k))
        return;
    if (k == v.n) {
        tide__tel_obs(r, TIDE_OBS_X509_SHA1, v.p, v.n, field);
        return;
    }
    char *d = tide__tel_scratch(r, k);
    if (d) {
        memcpy(d, tmp, k);
        tide__tel_obs(r, TIDE_OBS_X509_SHA1, d, k, field);
    }
}

static void obs_sysmon_hashes(tide_tel_parser *r, tide__sv v, const char *field)
{
    /* "SHA1=..,MD5=..,SHA256=..,IMPHASH=.." or a bare hash */
    const char *p = v.p, *e = v.p + v.n;
    if (memchr(p, '=', v.n) == NULL) {
        obs_hash(r, v, field);
        return;
    }
    while (p < e) {
        const char *c = memchr(p, ',', (size_t)(e - p));
        const char *end = c ? c : e;
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (eq) {
            size_t kl = (size_t)(eq - p);
            tide__sv h = { eq + 1, (size_t)(end - eq - 1) };
            if (!(kl == 7 && memcmp(p, "IMPHASH", 7) == 0))
                obs_hash(r, h, field);
        }
        p = c ? c + 1 : e;
    }
}

static void obs_qres(tide_tel_parser *r, tide__sv v, const char *field)
{
    /* "::1;::ffff:127.0.0.1;type:  5 edge.example.net;" */
    const char *p = v.p, *e = v.p + v.n;
    while (p < e) {
        const char *c = memchr(p, ';', (size_t)(e - p));
        const char *end = c ? c : e;
        tide__sv x = { p, (size_t)(end - p) };
        while (x.n && x.p[0] == ' ')
            x.p++, x.n--;
        if (x.n > 5 && memcmp(x.p, "type:", 5) == 0) {
            x.p += 5;
            x.n -= 5;
            while (x.n && (x.p[0] == ' ' || (x.p[0] >= '0' && x.p[0] <= '9')))
                x.p++, x.n--;
        }
        uint8_t a4[4];
        if (x.n > 7 && memcmp(x.p, "::ffff:", 7) == 0 && tide__ip4_parse(x.p + 7, x.n - 7, a4)) {
            x.p += 7;
            x.n -= 7;
        }
        if (x.n)
            obs_answer(r, x, field);
        p = c ? c + 1 : e;
    }
}

static bool is_str_or_num(int type)
{
    return type == TIDE__JS_STR || type == TIDE__JS_NUM;
}

static int on_value(void *ctx, int id, int type, const char *v, size_t n, bool esc, bool in_arr,
        const char **why)
{
    jrec *j = ctx;
    tide_tel_parser *r = j->r;
    (void)in_arr;
    if (type == TIDE__JS_NULL)
        return 0;
    tide__sv s;
    switch (id) {
        case F_TS:
        case F_TS2: {
            int64_t us = 0;
            bool ok = false;
            if (type == TIDE__JS_NUM)
                ok = tide__tel_epoch_us(v, n, &us);
            else if (type == TIDE__JS_STR && !esc)
                ok = tide__tel_iso_us(v, n, &us) || tide__tel_epoch_us(v, n, &us);
            if (!ok && type != TIDE__JS_STR) {
                *why = "timestamp: expected a string or a number";
                return -1;
            }
            if (ok && id == F_TS) {
                j->ts = us;
                j->has_ts = true;
            } else if (ok) {
                j->ts2 = us;
                j->has_ts2 = true;
            }
            return 0;
        }
        case F_EID:
            if (!is_str_or_num(type)) {
                *why = "EventID: expected a number";
                return -1;
            }
            j->eid.p = v;
            j->eid.n = n;
            return 0;
        case F_DPORT:
            if (!is_str_or_num(type)) {
                *why = "port: expected a number";
                return -1;
            }
            jset(j, id, (tide__sv){ v, n });
            return 0;
        default: break;
    }
    if (type != TIDE__JS_STR) {
        *why = "expected a string value";
        return -1;
    }
    if (!value_of(r, v, n, esc, &s))
        return 0;
    if (s.n == 0 || (s.n == 1 && s.p[0] == '-'))
        return 0;
    switch (id) {
        case F_TXRX:
            if (j->ntx < 8)
                j->tx[j->ntx++] = s;
            break;
        case F_ANSWER:
        case F_EMAIL:
        case F_DOMAIN:
        case F_MD5:
        case F_SHA1:
        case F_SHA256:
        case F_JA3:
        case F_X509_FP:
        case F_HASHES:
        case F_QRES:
        case F_IP:
            /* handled at once (may repeat) */
            j->v[id] = s;
            return 1000 + id; /* sentinel, see json_cb */
        default:
            if (!in_arr || !(j->have >> id & 1))
                jset(j, id, s);
            break;
    }
    return 0;
}

/* ------------------------------------------------------------------ detection (the format
 * table's detect functions, offered the first line whose first non-blank byte is '{') */

static bool has(const char *p, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    if (k > n)
        return false;
    const char *e = p + n - k;
    for (const char *s = p; s <= e; s++) {
        s = memchr(s, needle[0], (size_t)(e - s) + 1);
        if (s == NULL)
            return false;
        if (memcmp(s, needle, k) == 0)
            return true;
    }
    return false;
}

bool tide__tel_eve_detect(const char *p, size_t n, const tide_tel_opts *o)
{
    (void)o;
    return has(p, n, "\"event_type\"");
}

bool tide__tel_sysmon_detect(const char *p, size_t n, const tide_tel_opts *o)
{
    (void)o;
    return has(p, n, "\"EventID\"") || has(p, n, "\"Channel\"") || has(p, n, "\"Computer\"") ||
           has(p, n, "\"SourceName\"") || has(p, n, "\"winlog\"");
}

bool tide__tel_zeek_json_detect(const char *p, size_t n, const tide_tel_opts *o)
{
    (void)o;
    return has(p, n, "\"id.orig_h\"") || has(p, n, "\"id_orig_h\"") || has(p, n, "\"_path\"") ||
           has(p, n, "\"@stream\"") || has(p, n, "\"uid\"");
}

/* any other object, when a field map says what to take from it */
bool tide__tel_ndjson_detect(const char *p, size_t n, const tide_tel_opts *o)
{
    (void)p;
    (void)n;
    return o->map != NULL;
}

int tide__tel_json_setup(tide_tel_parser *r)
{
    if (r->jpt == NULL) {
        r->jpt = tide__calloc(1, sizeof(*r->jpt));
        TIDE_CHECK_ALLOC(r->jpt);
    } else
        tide__jpt_free(r->jpt);
    TIDE_CHECK(tide__jpt_init(r->jpt));
    const pdef *d = NULL;
    if (r->format == TIDE_TEL_EVE)
        d = eve_paths;
    else if (r->format == TIDE_TEL_ZEEK_JSON)
        d = zeek_paths;
    else if (r->format == TIDE_TEL_SYSMON)
        d = sysmon_paths;
    if (d) {
        /* ids are indexes into the definition list so the path names the observation */
        for (int i = 0; d[i].path; i++)
            TIDE_CHECK(tide__jpt_add(r->jpt, d[i].path, i));
        return 0;
    }
    if (r->opts.map == NULL)
        return tide_error_set(TIDE_EINVAL, "%s: the ndjson format needs a field map", r->name);
    for (size_t i = 0; i < r->opts.map->n; i++)
        TIDE_CHECK(tide__jpt_add(r->jpt, r->opts.map->e[i].path, (int)i));
    return 0;
}

static const pdef *defs_of(const tide_tel_parser *r)
{
    switch (r->format) {
        case TIDE_TEL_EVE: return eve_paths;
        case TIDE_TEL_ZEEK_JSON: return zeek_paths;
        case TIDE_TEL_SYSMON: return sysmon_paths;
        default: return NULL;
    }
}

typedef struct {
    jrec *j;
    const pdef *defs;
    const tide_field_map *map;
} cbwrap;

static void emit_now(jrec *j, int id, const char *field)
{
    tide_tel_parser *r = j->r;
    tide__sv s = j->v[id];
    switch (id) {
        case F_ANSWER: obs_answer(r, s, field); break;
        case F_EMAIL: obs_email(r, s, field); break;
        case F_DOMAIN: tide__tel_obs_hostname(r, s.p, s.n, field); break;
        case F_MD5:
        case F_SHA1:
        case F_SHA256: obs_hash(r, s, field); break;
        case F_JA3:
            if (s.n == 32 && tide__is_hex(s.p, s.n))
                tide__tel_obs(r, TIDE_OBS_JA3, s.p, s.n, field);
            break;
        case F_X509_FP: obs_x509(r, s, field); break;
        case F_HASHES: obs_sysmon_hashes(r, s, field); break;
        case F_QRES: obs_qres(r, s, field); break;
        case F_IP: tide__tel_obs_ip(r, s.p, s.n, field); break;
        default: break;
    }
}

static int known_cb(void *ctx, int idx, int type, const char *v, size_t n, bool esc, bool in_arr,
        const char **why)
{
    cbwrap *w = ctx;
    const pdef *d = &w->defs[idx];
    int rc = on_value(w->j, d->id, type, v, n, esc, in_arr, why);
    if (rc < 0)
        return rc;
    if (rc >= 1000)
        emit_now(w->j, d->id, d->path);
    else if (d->id == F_SRC || d->id == F_DST || d->id == F_HTTP_HOST || d->id == F_URI ||
             d->id == F_REFERRER || d->id == F_HOSTNAME || d->id == F_USER)
        w->j->fld[d->id] = d->path;
    return 0;
}

static int map_cb(void *ctx, int idx, int type, const char *v, size_t n, bool esc, bool in_arr,
        const char **why)
{
    cbwrap *w = ctx;
    jrec *j = w->j;
    tide_tel_parser *r = j->r;
    const tide_field_map *m = w->map;
    const char *path = m->e[idx].path;
    (void)in_arr;
    if (type == TIDE__JS_NULL)
        return 0;
    for (size_t i = (size_t)idx; i < m->n; i++) {
        const tide__fm_entry *e = &m->e[i];
        if (i != (size_t)idx && strcmp(e->path, path) != 0)
            continue;
        if (e->role == TIDE__FM_TS) {
            int64_t us;
            bool ok = (type == TIDE__JS_NUM && tide__tel_epoch_us(v, n, &us)) ||
                      (type == TIDE__JS_STR && !esc &&
                              (tide__tel_iso_us(v, n, &us) || tide__tel_epoch_us(v, n, &us)));
            if (ok) {
                j->ts = us;
                j->has_ts = true;
            }
            continue;
        }
        if (type != TIDE__JS_STR && !(e->role == TIDE__FM_OBS && type == TIDE__JS_NUM)) {
            *why = "field map: expected a string value";
            return -1;
        }
        tide__sv s;
        if (!value_of(r, v, n, esc, &s) || s.n == 0)
            continue;
        switch (e->role) {
            case TIDE__FM_HOST: j->mhost = s; break;
            case TIDE__FM_SRC:
                j->msrc = s;
                tide__tel_obs_ip(r, s.p, s.n, e->path);
                break;
            case TIDE__FM_DST:
                j->mdst = s;
                tide__tel_obs_ip(r, s.p, s.n, e->path);
                break;
            case TIDE__FM_USER: jset(j, F_USER, s); break;
            case TIDE__FM_KIND: jset(j, F_KIND, s); break;
            case TIDE__FM_IP: tide__tel_obs_ip(r, s.p, s.n, e->path); break;
            default:
                switch (e->kind) {
                    case TIDE_OBS_IPV4:
                    case TIDE_OBS_IPV6: tide__tel_obs_ip(r, s.p, s.n, e->path); break;
                    case TIDE_OBS_DOMAIN: tide__tel_obs_hostname(r, s.p, s.n, e->path); break;
                    case TIDE_OBS_URL: tide__tel_obs_url(r, s.p, s.n, e->path, NULL); break;
                    case TIDE_OBS_EMAIL: obs_email(r, s, e->path); break;
                    case TIDE_OBS_X509_SHA1: obs_x509(r, s, e->path); break;
                    default: tide__tel_obs(r, e->kind, s.p, s.n, e->path); break;
                }
        }
    }
    return 0;
}

static const char *kind_str(tide_tel_parser *r, tide__sv k)
{
    if (k.n == 0)
        return NULL;
    size_t n = k.n < sizeof(r->kindbuf) - 1 ? k.n : sizeof(r->kindbuf) - 1;
    char *d = tide__tel_scratch(r, n + 1);
    if (d == NULL)
        return NULL;
    memcpy(d, k.p, n);
    d[n] = '\0';
    return d;
}

static bool is_path(const char *p, size_t n)
{
    return n > 0 && p[0] == '/';
}

static void compose_url(
        tide_tel_parser *r, tide__sv host, const char *hf, tide__sv uri, const char *uf)
{
    if (uri.n && !is_path(uri.p, uri.n)) {
        tide__tel_obs_url(r, uri.p, uri.n, uf, NULL);
        return;
    }
    if (host.n == 0 || uri.n == 0)
        return;
    (void)hf;
    char *d = tide__tel_scratch(r, 7 + host.n + uri.n);
    if (d == NULL)
        return;
    memcpy(d, "http://", 7);
    memcpy(d + 7, host.p, host.n);
    memcpy(d + 7 + host.n, uri.p, uri.n);
    tide__tel_obs(r, TIDE_OBS_URL, d, 7 + host.n + uri.n, uf);
}

int tide__tel_json_line(tide_tel_parser *r, char *p, size_t n, tide_event *ev)
{
    jrec j;
    memset(&j, 0, offsetof(jrec, v));
    j.r = r;
    cbwrap w = { &j, defs_of(r), r->opts.map };
    const char *why;
    size_t where;
    int rc = tide__jscan(p, n, r->jpt, w.defs ? known_cb : map_cb, &w, &why, &where);
    if (rc < 0) {
        r->bad = why;
        return -1;
    }
    if (r->format == TIDE_TEL_NDJSON) {
        ev->ts_us = j.has_ts ? j.ts : 0;
        if (j.mhost.n) {
            ev->host = j.mhost.p;
            ev->host_len = j.mhost.n;
        } else
            tide__tel_pick_host(r, j.msrc, j.mdst, ev);
        ev->kind = kind_str(r, jv(&j, F_KIND));
        if (ev->kind == NULL)
            ev->kind = "ndjson";
        if (jv(&j, F_USER).n) {
            ev->user = jv(&j, F_USER).p;
            ev->user_len = jv(&j, F_USER).n;
        }
        return 1;
    }
    ev->ts_us = j.has_ts ? j.ts : j.has_ts2 ? j.ts2 : 0;
    tide__sv src = jv(&j, F_SRC), dst = jv(&j, F_DST);
    /* the host is picked here already where it is picked from src / dst (nothing below changes
     * it then): Sysmon names its host, a Zeek files record without src its tx / rx hosts */
    bool pick = r->format != TIDE_TEL_SYSMON && (src.n || !j.ntx);
    if (src.n || dst.n)
        tide__tel_obs_conn(r, src, src.n ? j.fld[F_SRC] : NULL, dst, dst.n ? j.fld[F_DST] : NULL,
                jv(&j, F_DPORT), dst.n ? j.fld[F_DST] : NULL, pick ? ev : NULL);
    if (jv(&j, F_HTTP_HOST).n)
        tide__tel_obs_hostname(r, jv(&j, F_HTTP_HOST).p, jv(&j, F_HTTP_HOST).n, j.fld[F_HTTP_HOST]);
    if (jv(&j, F_URI).n) {
        tide__sv host = jv(&j, F_HTTP_HOST);
        if (host.n) { /* strip a default :80 */
            const char *c = memchr(host.p, ':', host.n);
            if (c && host.n - (size_t)(c - host.p) == 3 && memcmp(c, ":80", 3) == 0)
                host.n = (size_t)(c - host.p);
        }
        compose_url(r, host, j.fld[F_HTTP_HOST], jv(&j, F_URI), j.fld[F_URI]);
    }
    if (jv(&j, F_REFERRER).n)
        tide__tel_obs_url(r, jv(&j, F_REFERRER).p, jv(&j, F_REFERRER).n, j.fld[F_REFERRER], NULL);
    if (jv(&j, F_USER).n) {
        ev->user = jv(&j, F_USER).p;
        ev->user_len = jv(&j, F_USER).n;
    }
    if (r->format == TIDE_TEL_SYSMON) {
        if (jv(&j, F_HOSTNAME).n) {
            ev->host = jv(&j, F_HOSTNAME).p;
            ev->host_len = jv(&j, F_HOSTNAME).n;
        }
        long eid = -1;
        tide__sv e = j.eid;
        if (e.n && e.p[0] == '"')
            e.p++, e.n -= 2;
        if (e.n > 0 && e.n < 7) {
            eid = 0;
            for (size_t i = 0; i < e.n; i++)
                eid = (e.p[i] >= '0' && e.p[i] <= '9') ? eid * 10 + (e.p[i] - '0') : -1000000;
        }
        switch (eid) {
            case 1: ev->kind = "process"; break;
            case 3: ev->kind = "network"; break;
            case 22: ev->kind = "dns_query"; break;
            case 11: ev->kind = "file_create"; break;
            default:
                if (eid >= 0) {
                    char *d = tide__tel_scratch(r, 16);
                    if (d) {
                        int k = snprintf(d, 16, "event%ld", eid);
                        (void)k;
                        ev->kind = d;
                    }
                } else
                    ev->kind = "event";
        }
        return 1;
    }
    ev->kind = kind_str(r, jv(&j, F_KIND));
    if (r->format == TIDE_TEL_ZEEK_JSON && ev->kind == NULL)
        ev->kind = "zeek";
    /* files log: the internal one of tx/rx hosts */
    if (!src.n && j.ntx) {
        for (size_t i = 0; i < j.ntx; i++) {
            tide__tel_obs_ip(r, j.tx[i].p, j.tx[i].n, "tx_hosts/rx_hosts");
            if (ev->host_len == 0 && tide__tel_is_home(r, j.tx[i].p, j.tx[i].n)) {
                ev->host = j.tx[i].p;
                ev->host_len = j.tx[i].n;
            }
        }
        if (ev->host_len == 0) {
            ev->host = j.tx[0].p;
            ev->host_len = j.tx[0].n;
        }
    }
    return 1;
}
