/*
 * match.c - evaluates a parsed STIX pattern against observed data, with the semantics of the
 * OASIS reference matcher (cti-pattern-matcher, stix2matcher/matcher.py):
 *
 *  - each observed-data object is number_observed observations sharing its first/last_observed;
 *  - a comparison selects, per observation, the root SCOs for which ANY value reached by the
 *    object path passes the test (NOT inverts the test per value); AND / OR inside brackets
 *    intersect / unite those root sets per observation;
 *  - path steps: keys (values of *_hex / *_bin keys become binary), [n], [*], and *_ref / *_refs
 *    keys are followed to the SCOs of the same observation (a *_refs key yields one list);
 *  - typed comparisons: mismatched types compare unequal (so != is true) and unordered, ints and
 *    floats compare numerically, strings with binaries via code points < 256, t'' literals
 *    parse JSON strings (a malformed one is a run-time error), IN uses Python set membership;
 *  - LIKE / MATCHES (PCRE2) NFC-normalise both sides and work on binary values too;
 *  - between observations, "bindings" (sets of observation indices) are combined: AND needs
 *    disjoint bindings, OR unites, FOLLOWEDBY also needs the right side not to end before the
 *    left side starts, REPEATS n takes n pairwise-disjoint bindings, WITHIN and START/STOP
 *    filter on the time intervals. The pattern matches when the root has a binding.
 *
 * Bindings are kept as deduplicated bitsets; their number is capped (TIDE_ETOOBIG beyond).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <arpa/inet.h>
#include <jansson.h>
#include <math.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern_int.h"
#include "util/ipaddr.h"
#include "util/util.h"

#define MAX_OBSERVATIONS  4096
#define MAX_BINDING_WORDS (2u * 1024 * 1024) /* bindings x words kept per binding set */
#define MAX_REPEAT_STEPS  4000000L
#define MAX_DATA_BYTES    (256u * 1024 * 1024)
#define REGEX_MATCH_LIMIT 1000000u    /* backtracking steps of one regex run (about 30 ms) */
#define REGEX_DEPTH_LIMIT 100000u     /* nested backtracking frames of one run */
#define REGEX_HEAP_LIMIT  (64u << 10) /* KiB of backtracking memory of one run */
/* tide_pattern_check: each MATCHES / LIKE is run on probe strings of PROBE_LEN characters made
 * of its own characters; a regex that needs more than PROBE_LIMIT steps on one of them
 * backtracks catastrophically (exponentially, or polynomially of degree 4 or more) and would
 * cost up to REGEX_MATCH_LIMIT steps on every value of the kind it names. */
#define PROBE_LEN   40
#define PROBE_LIMIT 100000u
#define PROBE_CHARS 24

/* ---------------------------------------------------------------- timestamps */

static bool dig(const char *s, size_t n, size_t i, size_t k, int *out)
{
    int v = 0;
    if (i + k > n)
        return false;
    for (size_t j = 0; j < k; j++) {
        if (s[i + j] < '0' || s[i + j] > '9')
            return false;
        v = v * 10 + (s[i + j] - '0');
    }
    *out = v;
    return true;
}

int tide__pattern_ts_parse(const char *s, size_t n, tide__ts *out)
{
    int Y, M, D, h, mi, sec;
    if (!dig(s, n, 0, 4, &Y) || n < 20 || s[4] != '-' || !dig(s, n, 5, 2, &M) || s[7] != '-' ||
            !dig(s, n, 8, 2, &D) || s[10] != 'T' || !dig(s, n, 11, 2, &h) || s[13] != ':' ||
            !dig(s, n, 14, 2, &mi) || s[16] != ':' || !dig(s, n, 17, 2, &sec))
        return -1;
    size_t i = 19;
    int64_t ns = 0;
    if (i < n && s[i] == '.') {
        i++;
        size_t d0 = i;
        int digits = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (digits < 9) {
                ns = ns * 10 + (s[i] - '0');
                digits++;
            }
            i++;
        }
        if (i == d0)
            return -1;
        while (digits < 9)
            ns *= 10, digits++;
    }
    if (i + 1 != n || s[i] != 'Z')
        return -1;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
    int dim = mdays[M - 1] + (M == 2 && leap);
    if (D > dim || sec == 60 || Y == 0)
        return -2;
    out->s = tide__days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + mi * 60 + sec;
    out->ns = (int32_t)ns;
    return 0;
}

int tide__ts_cmp(tide__ts a, tide__ts b)
{
    if (a.s != b.s)
        return a.s < b.s ? -1 : 1;
    if (a.ns != b.ns)
        return a.ns < b.ns ? -1 : 1;
    return 0;
}

/* ---------------------------------------------------------------- context */

typedef struct {
    json_t *map; /* key -> SCO (borrowed from the data, or a new object for 2.1) */
    const char **keys;
    json_t **objs;
    size_t nobj;
    tide__ts first, last;
    int64_t count;
    size_t obs0; /* index of its first observation */
} sdo;

typedef struct {
    const cmp_node *c;
    pcre2_code *text; /* NULL when not compiled */
    pcre2_code *bin;  /* NULL when the pattern has code points >= 256 */
} regex_entry;

typedef struct {
    const tide_pattern *p;
    sdo *sdos;
    size_t nsdo;
    size_t nobs;
    size_t *obs_sdo; /* observation -> sdo */
    size_t nw;       /* words per binding */
    regex_entry *rx;
    size_t nrx;
    pcre2_match_context *mctx;
    int cur_pos;   /* column of the comparison whose regex runs (messages) */
    bool checking; /* tide_pattern_check: regexes are only compiled when they are probed */
    void **arena;
    size_t narena, arena_cap;
    char err[512];
    int err_code;
} ctx;

static int fail(ctx *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(ctx *c, int code, const char *fmt, ...)
{
    if (c->err_code == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err, sizeof(c->err), fmt, ap);
        va_end(ap);
        c->err_code = code;
    }
    return code;
}

static int keep(ctx *c, void *p)
{
    if (p == NULL)
        return fail(c, TIDE_ENOMEM, "out of memory");
    if (c->narena == c->arena_cap) {
        size_t nc = c->arena_cap ? c->arena_cap * 2 : 64;
        void **na = tide__realloc(c->arena, nc * sizeof(void *));
        if (na == NULL) {
            tide__free(p);
            return fail(c, TIDE_ENOMEM, "out of memory");
        }
        c->arena = na;
        c->arena_cap = nc;
    }
    c->arena[c->narena++] = p;
    return 0;
}

/* ---------------------------------------------------------------- values */

typedef enum {
    V_JSON,
    V_BIN,
    V_LIST
} vkind;

typedef struct {
    vkind kind;
    json_t *j;
    const unsigned char *bin;
    size_t len;
    json_t **items;
    size_t nitems;
} val;

typedef struct {
    val *v;
    size_t n, cap;
} vvec;

static int vpush(ctx *c, vvec *vv, val v)
{
    if (vv->n == vv->cap) {
        size_t nc = vv->cap ? vv->cap * 2 : 8;
        val *nv = tide__realloc(vv->v, nc * sizeof(val));
        if (nv == NULL)
            return fail(c, TIDE_ENOMEM, "out of memory");
        vv->v = nv;
        vv->cap = nc;
    }
    vv->v[vv->n++] = v;
    return 0;
}

static bool ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static int hexv(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static int b64v(char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+')
        return 62;
    if (ch == '/')
        return 63;
    return -1;
}

/* Value of a *_hex / *_bin property as bytes (Python a2b_hex / standard_b64decode rules). */
static int decode_suffixed(ctx *c, const char *key, json_t *raw, val *out)
{
    bool hex = ends_with(key, "_hex");
    if (!json_is_string(raw))
        return fail(
                c, TIDE_EMATCH, "property '%s' must hold a %s string", key, hex ? "hex" : "base64");
    const char *s = json_string_value(raw);
    size_t n = json_string_length(raw);
    unsigned char *b = tide__malloc(n / 2 + 1);
    if (keep(c, b) < 0)
        return TIDE_ENOMEM;
    size_t k = 0;
    if (hex) {
        if (n % 2)
            return fail(c, TIDE_EMATCH, "property '%s': odd-length hex string", key);
        for (size_t i = 0; i < n; i += 2) {
            int hi = hexv(s[i]), lo = hexv(s[i + 1]);
            if (hi < 0 || lo < 0)
                return fail(c, TIDE_EMATCH, "property '%s': non-hex digit at offset %zu", key, i);
            b[k++] = (unsigned char)(hi * 16 + lo);
        }
    } else {
        uint32_t acc = 0;
        int bits = 0;
        size_t chars = 0, pad = 0;
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '=') {
                pad++;
                continue;
            }
            int v = b64v(s[i]);
            if (v < 0)
                continue; /* Python discards characters outside the alphabet */
            if (pad)
                return fail(c, TIDE_EMATCH, "property '%s': base64 data after padding", key);
            chars++;
            acc = (acc << 6) | (uint32_t)v;
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                b[k++] = (unsigned char)((acc >> bits) & 0xFF);
            }
        }
        if ((chars + pad) % 4 != 0 || chars % 4 == 1)
            return fail(c, TIDE_EMATCH, "property '%s': incorrect base64 padding", key);
    }
    *out = (val){ V_BIN, NULL, b, k, NULL, 0 };
    return 0;
}

static int step_values(ctx *c, const sdo *sd, const path_step *st, const vvec *in, vvec *out)
{
    out->n = 0;
    if (st->kind == STEP_KEY) {
        bool ref = ends_with(st->key, "_ref"), refs = ends_with(st->key, "_refs");
        bool suffixed = ends_with(st->key, "_hex") || ends_with(st->key, "_bin");
        for (size_t i = 0; i < in->n; i++) {
            const val *v = &in->v[i];
            if (v->kind != V_JSON || !json_is_object(v->j))
                continue;
            json_t *raw = json_object_get(v->j, st->key);
            if (raw == NULL)
                continue;
            val nv = { V_JSON, raw, NULL, 0, NULL, 0 };
            if (suffixed)
                TIDE_CHECK(decode_suffixed(c, st->key, raw, &nv));
            if (ref) {
                if (!json_is_string(raw))
                    return fail(c, TIDE_EMATCH,
                            "the value of reference property '%s' is not a string", st->key);
                json_t *o = json_object_get(sd->map, json_string_value(raw));
                if (o == NULL)
                    continue;
                nv.j = o;
            } else if (refs) {
                if (!json_is_array(raw))
                    return fail(c, TIDE_EMATCH,
                            "the value of reference list property '%s' is not a list", st->key);
                size_t m = json_array_size(raw), k = 0;
                json_t **items = tide__malloc((m ? m : 1) * sizeof(json_t *));
                if (keep(c, items) < 0)
                    return TIDE_ENOMEM;
                for (size_t j = 0; j < m; j++) {
                    json_t *r = json_array_get(raw, j);
                    if (!json_is_string(r))
                        return fail(c, TIDE_EMATCH,
                                "a value of reference property '%s' is not a string", st->key);
                    json_t *o = json_object_get(sd->map, json_string_value(r));
                    if (o)
                        items[k++] = o;
                }
                if (k == 0)
                    continue;
                nv = (val){ V_LIST, NULL, NULL, 0, items, k };
            }
            TIDE_CHECK(vpush(c, out, nv));
        }
    } else {
        for (size_t i = 0; i < in->n; i++) {
            const val *v = &in->v[i];
            size_t m = v->kind == V_LIST                            ? v->nitems
                       : (v->kind == V_JSON && json_is_array(v->j)) ? json_array_size(v->j)
                                                                    : (size_t)-1;
            if (m == (size_t)-1)
                continue;
            size_t lo = 0, hi = m;
            if (st->kind == STEP_INDEX) {
                if ((uint64_t)st->idx >= m)
                    continue;
                lo = (size_t)st->idx, hi = lo + 1;
            }
            for (size_t j = lo; j < hi; j++) {
                json_t *e = v->kind == V_LIST ? v->items[j] : json_array_get(v->j, j);
                TIDE_CHECK(vpush(c, out, (val){ V_JSON, e, NULL, 0, NULL, 0 }));
            }
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- comparisons */

typedef enum {
    VT_INT,
    VT_FLOAT,
    VT_BOOL,
    VT_STR,
    VT_BIN,
    VT_OTHER
} vtype;

static vtype type_of(const val *v)
{
    if (v->kind == V_BIN)
        return VT_BIN;
    if (v->kind == V_LIST)
        return VT_OTHER;
    switch (json_typeof(v->j)) {
        case JSON_INTEGER: return VT_INT;
        case JSON_REAL: return VT_FLOAT;
        case JSON_TRUE:
        case JSON_FALSE: return VT_BOOL;
        case JSON_STRING: return VT_STR;
        default: return VT_OTHER;
    }
}

static double num_of(const val *v)
{
    if (json_is_integer(v->j))
        return (double)json_integer_value(v->j);
    if (json_is_real(v->j))
        return json_real_value(v->j);
    return json_is_true(v->j) ? 1.0 : 0.0;
}

static int num_cmp_val_lit(const val *v, const lit *l)
{
    if (json_is_integer(v->j) && l->kind == LIT_INT) {
        json_int_t a = json_integer_value(v->j);
        return a < l->i ? -1 : a > l->i;
    }
    double a = num_of(v), b = l->kind == LIT_INT ? (double)l->i : l->f;
    return a < b ? -1 : a > b;
}

/* String (UTF-8) as Latin-1 bytes; false when a code point is >= 256. */
static bool str_to_latin1(const char *s, size_t n, unsigned char *out, size_t *out_len)
{
    size_t i = 0, k = 0;
    while (i < n) {
        uint32_t cp;
        size_t l = tide__utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (l == 0 || cp > 255)
            return false;
        out[k++] = (unsigned char)cp;
        i += l;
    }
    *out_len = k;
    return true;
}

static int bytes_cmp(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
    size_t m = an < bn ? an : bn;
    int r = m ? memcmp(a, b, m) : 0;
    if (r)
        return r < 0 ? -1 : 1;
    return an < bn ? -1 : an > bn;
}

/* Compare a string with bytes: 0 ok and *out set; 1 when the string cannot be compared. */
static int str_bin_cmp(ctx *c, const char *s, size_t n, const unsigned char *b, size_t bn, int *out)
{
    unsigned char *tmp = tide__malloc(n + 1);
    if (tmp == NULL)
        return fail(c, TIDE_ENOMEM, "out of memory");
    size_t tn;
    bool ok = str_to_latin1(s, n, tmp, &tn);
    if (ok)
        *out = bytes_cmp(tmp, tn, b, bn);
    tide__free(tmp);
    return ok ? 0 : 1;
}

static int json_ts(ctx *c, const val *v, tide__ts *out)
{
    const char *s = json_string_value(v->j);
    if (tide__pattern_ts_parse(s, json_string_length(v->j), out) != 0)
        return fail(c, TIDE_EMATCH, "invalid timestamp in JSON: '%.100s'", s);
    return 0;
}

/* Ordering of value vs literal. Returns 0 and sets *has (false = not comparable), or error. */
static int order_of(ctx *c, const val *v, const lit *l, bool *has, int *out)
{
    vtype t = type_of(v);
    *has = false;
    switch (l->kind) {
        case LIT_TS:
            if (t == VT_STR) {
                tide__ts ts;
                TIDE_CHECK(json_ts(c, v, &ts));
                *out = tide__ts_cmp(ts, l->ts);
                *has = true;
            }
            return 0;
        case LIT_INT:
        case LIT_FLOAT:
            if (t == VT_INT || t == VT_FLOAT) {
                *out = num_cmp_val_lit(v, l);
                *has = true;
            }
            return 0;
        case LIT_STR:
            if (t == VT_STR) {
                *out = bytes_cmp((const unsigned char *)json_string_value(v->j),
                        json_string_length(v->j), (const unsigned char *)l->s, l->len);
                *has = true;
            } else if (t == VT_BIN) {
                int r = str_bin_cmp(c, l->s, l->len, v->bin, v->len, out);
                if (r < 0)
                    return r;
                if (r == 0) {
                    *out = -*out;
                    *has = true;
                }
            }
            return 0;
        case LIT_BIN:
            if (t == VT_BIN) {
                *out = bytes_cmp(v->bin, v->len, (const unsigned char *)l->s, l->len);
                *has = true;
            } else if (t == VT_STR) {
                int r = str_bin_cmp(c, json_string_value(v->j), json_string_length(v->j),
                        (const unsigned char *)l->s, l->len, out);
                if (r < 0)
                    return r;
                *has = r == 0;
            }
            return 0;
        case LIT_BOOL: return 0;
    }
    return 0;
}

static int equal_of(ctx *c, const val *v, const lit *l, bool *out)
{
    vtype t = type_of(v);
    *out = false;
    if (l->kind == LIT_BOOL) {
        *out = t == VT_BOOL && json_is_true(v->j) == l->b;
        return 0;
    }
    bool has;
    int r;
    TIDE_CHECK(order_of(c, v, l, &has, &r));
    *out = has && r == 0;
    return 0;
}

/* Python `value in set` for a homogeneous set literal. */
static int in_set(ctx *c, const val *v, const cmp_node *cn, bool *out)
{
    vtype t = type_of(v);
    *out = false;
    if (cn->nlits == 0)
        return 0;
    if (cn->lits[0].kind == LIT_TS) {
        if (t != VT_STR)
            return 0;
        tide__ts ts;
        TIDE_CHECK(json_ts(c, v, &ts));
        for (size_t i = 0; i < cn->nlits; i++)
            if (tide__ts_cmp(ts, cn->lits[i].ts) == 0)
                *out = true;
        return 0;
    }
    for (size_t i = 0; i < cn->nlits && !*out; i++) {
        const lit *l = &cn->lits[i];
        switch (l->kind) {
            case LIT_INT:
            case LIT_FLOAT:
            case LIT_BOOL:
                if (t == VT_INT || t == VT_FLOAT || t == VT_BOOL) {
                    if (t == VT_INT && l->kind == LIT_INT)
                        *out = json_integer_value(v->j) == l->i;
                    else {
                        double b = l->kind == LIT_INT     ? (double)l->i
                                   : l->kind == LIT_FLOAT ? l->f
                                                          : (l->b ? 1.0 : 0.0);
                        *out = num_of(v) == b;
                    }
                }
                break;
            case LIT_STR:
                *out = t == VT_STR && json_string_length(v->j) == l->len &&
                       memcmp(json_string_value(v->j), l->s, l->len) == 0;
                break;
            case LIT_BIN:
                *out = t == VT_BIN && v->len == l->len && memcmp(v->bin, l->s, l->len) == 0;
                break;
            case LIT_TS: break;
        }
    }
    return 0;
}

/* IPv4 (inet_aton forms) or IPv6, optionally "/prefix" (digits, 1 to 32 / 128), as the OASIS
 * reference matcher takes them (util/ipaddr.h, TIDE__IP_ATON). */
static int parse_net(
        ctx *c, const char *s, bool need_prefix, unsigned char addr[16], int *fam, int *prefix)
{
    size_t n = strlen(s);
    if (n >= 128)
        return fail(c, TIDE_EMATCH, "invalid IP address or CIDR: '%.60s...'", s);
    const char *slash = strchr(s, '/');
    if (slash == NULL && need_prefix)
        return fail(c, TIDE_EMATCH, "invalid CIDR subnet: '%s'", s);
    memset(addr, 0, 16);
    unsigned plen;
    int f = tide__cidr_parse(s, n, TIDE__IP_ATON, addr, &plen);
    if (f == 0) {
        bool v6 = memchr(s, ':', slash ? (size_t)(slash - s) : n) != NULL;
        return fail(
                c, TIDE_EMATCH, v6 ? "invalid IP address: '%s'" : "invalid IPv4 address: '%s'", s);
    }
    if (f < 0 || plen < 1)
        return fail(c, TIDE_EMATCH, "invalid CIDR subnet: '%s'", s);
    *fam = f;
    *prefix = (int)plen;
    return 0;
}

static int net_contains(ctx *c, const char *containee, const char *container, bool *out)
{
    unsigned char a[16], b[16];
    int fa, fb, pa, pb;
    TIDE_CHECK(parse_net(c, containee, false, a, &fa, &pa));
    TIDE_CHECK(parse_net(c, container, true, b, &fb, &pb));
    *out = false;
    if (fa != fb || pb > pa)
        return 0;
    for (int bit = 0; bit < pb; bit++) {
        int byte = bit / 8, m = 0x80 >> (bit % 8);
        if ((a[byte] & m) != (b[byte] & m))
            return 0;
    }
    *out = true;
    return 0;
}

static const regex_entry *rx_of(const ctx *c, const cmp_node *cn)
{
    for (size_t i = 0; i < c->nrx; i++)
        if (c->rx[i].c == cn)
            return &c->rx[i];
    return NULL;
}

static int rx_run(ctx *c, pcre2_code *re, const unsigned char *s, size_t n, bool *out)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    if (md == NULL)
        return fail(c, TIDE_ENOMEM, "out of memory");
    int rc = pcre2_match(re, s, n, 0, 0, md, c->mctx);
    pcre2_match_data_free(md);
    if (rc >= 0) {
        *out = true;
        return 0;
    }
    if (rc == PCRE2_ERROR_NOMATCH) {
        *out = false;
        return 0;
    }
    PCRE2_UCHAR msg[120];
    pcre2_get_error_message(rc, msg, sizeof(msg));
    /* a limit is a cap of the evaluation, not an error of the pattern or the data */
    bool cap = rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
               rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_NOMEMORY;
    return fail(c, cap ? TIDE_ETOOBIG : TIDE_EMATCH, "column %d: regular expression failed: %s",
            c->cur_pos, (const char *)msg);
}

static int predicate(ctx *c, const cmp_node *cn, const val *v, bool *out)
{
    bool r = false;
    switch (cn->op) {
        case OP_EQ:
        case OP_NEQ:
            TIDE_CHECK(equal_of(c, v, &cn->lits[0], &r));
            if (cn->op == OP_NEQ)
                r = !r;
            break;
        case OP_LT:
        case OP_LE:
        case OP_GT:
        case OP_GE: {
            bool has;
            int o = 0;
            TIDE_CHECK(order_of(c, v, &cn->lits[0], &has, &o));
            if (has)
                r = cn->op == OP_LT   ? o < 0
                    : cn->op == OP_LE ? o <= 0
                    : cn->op == OP_GT ? o > 0
                                      : o >= 0;
            break;
        }
        case OP_IN: TIDE_CHECK(in_set(c, v, cn, &r)); break;
        case OP_LIKE:
        case OP_MATCHES: {
            const regex_entry *re = rx_of(c, cn);
            vtype t = type_of(v);
            c->cur_pos = cn->pos;
            if (t == VT_STR) {
                size_t nl;
                char *nfc = tide__utf8_nfc(json_string_value(v->j), json_string_length(v->j), &nl);
                if (nfc == NULL)
                    return fail(c, TIDE_ENOMEM, "out of memory");
                int rc = rx_run(c, re->text, (const unsigned char *)nfc, nl, &r);
                tide__free(nfc);
                TIDE_CHECK(rc);
            } else if (t == VT_BIN && re->bin) {
                TIDE_CHECK(rx_run(c, re->bin, v->bin, v->len, &r));
            }
            break;
        }
        case OP_ISSUBSET:
        case OP_ISSUPERSET:
            if (v->kind == V_JSON && json_is_string(v->j)) {
                const char *s = json_string_value(v->j);
                if (cn->op == OP_ISSUBSET)
                    TIDE_CHECK(net_contains(c, s, cn->lits[0].s, &r));
                else
                    TIDE_CHECK(net_contains(c, cn->lits[0].s, s, &r));
            }
            break;
        case OP_EXISTS: r = true; break;
    }
    *out = cn->negated ? !r : r;
    return 0;
}

/* Root set of one comparison tree for one observed-data object, as bits over its SCOs. */
static int eval_cmp(ctx *c, const sdo *sd, const cmp_node *cn, uint64_t *bits, size_t nw)
{
    memset(bits, 0, nw * sizeof(uint64_t));
    if (cn->kind != CMP_TEST) {
        uint64_t *tmp = tide__calloc(nw ? nw : 1, sizeof(uint64_t));
        if (tmp == NULL)
            return fail(c, TIDE_ENOMEM, "out of memory");
        int rc = eval_cmp(c, sd, cn->l, bits, nw);
        if (rc == 0)
            rc = eval_cmp(c, sd, cn->r, tmp, nw);
        for (size_t i = 0; rc == 0 && i < nw; i++)
            bits[i] = cn->kind == CMP_AND ? bits[i] & tmp[i] : bits[i] | tmp[i];
        tide__free(tmp);
        return rc;
    }
    vvec a = { NULL, 0, 0 }, b = { NULL, 0, 0 };
    int rc = 0;
    for (size_t o = 0; o < sd->nobj && rc == 0; o++) {
        json_t *obj = sd->objs[o];
        json_t *ty = json_object_get(obj, "type");
        if (!json_is_string(ty) || strcmp(json_string_value(ty), cn->type) != 0)
            continue;
        a.n = 0;
        if ((rc = vpush(c, &a, (val){ V_JSON, obj, NULL, 0, NULL, 0 })) < 0)
            break;
        for (size_t s = 0; s < cn->nsteps && rc == 0 && a.n; s++) {
            rc = step_values(c, sd, &cn->steps[s], &a, &b);
            vvec t = a;
            a = b;
            b = t;
        }
        if (rc < 0)
            break;
        bool pass = false;
        for (size_t i = 0; i < a.n && !pass; i++)
            if ((rc = predicate(c, cn, &a.v[i], &pass)) < 0)
                break;
        if (pass)
            bits[o / 64] |= (uint64_t)1 << (o % 64);
    }
    tide__free(a.v);
    tide__free(b.v);
    return rc;
}

/* ---------------------------------------------------------------- bindings */

typedef struct {
    uint64_t *w; /* n * nw words */
    size_t n, cap, nw;
    uint32_t *tab; /* hash table of binding index + 1 */
    size_t tabcap;
} bset;

static void bs_free(bset *b)
{
    tide__free(b->w);
    tide__free(b->tab);
    memset(b, 0, sizeof(*b));
}

static uint64_t bs_hash(const uint64_t *w, size_t nw)
{
    uint64_t h = 0x9E3779B97F4A7C15ULL;
    for (size_t i = 0; i < nw; i++) {
        uint64_t z = h ^ w[i]; /* splitmix64 finaliser per word */
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        h = z ^ (z >> 31);
    }
    return h;
}

static int bs_add(ctx *c, bset *b, const uint64_t *w)
{
    if (b->tabcap == 0 || (b->n + 1) * 2 > b->tabcap) {
        size_t nc = b->tabcap ? b->tabcap * 2 : 64;
        uint32_t *nt = tide__calloc(nc, sizeof(uint32_t));
        if (nt == NULL)
            return fail(c, TIDE_ENOMEM, "out of memory");
        for (size_t i = 0; i < b->n; i++) {
            size_t h = (size_t)bs_hash(b->w + i * b->nw, b->nw) & (nc - 1);
            while (nt[h])
                h = (h + 1) & (nc - 1);
            nt[h] = (uint32_t)(i + 1);
        }
        tide__free(b->tab);
        b->tab = nt;
        b->tabcap = nc;
    }
    size_t h = (size_t)bs_hash(w, b->nw) & (b->tabcap - 1);
    while (b->tab[h]) {
        if (memcmp(b->w + (b->tab[h] - 1) * b->nw, w, b->nw * sizeof(uint64_t)) == 0)
            return 0;
        h = (h + 1) & (b->tabcap - 1);
    }
    if ((b->n + 1) * b->nw > MAX_BINDING_WORDS)
        return fail(c, TIDE_ETOOBIG,
                "pattern evaluation needs more than %u binding words (too many combinations)",
                MAX_BINDING_WORDS);
    if (b->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 16;
        uint64_t *nw = tide__realloc(b->w, nc * b->nw * sizeof(uint64_t));
        if (nw == NULL)
            return fail(c, TIDE_ENOMEM, "out of memory");
        b->w = nw;
        b->cap = nc;
    }
    memcpy(b->w + b->n * b->nw, w, b->nw * sizeof(uint64_t));
    b->tab[h] = (uint32_t)(b->n + 1);
    b->n++;
    return 0;
}

static bool disjoint(const uint64_t *a, const uint64_t *b, size_t nw)
{
    for (size_t i = 0; i < nw; i++)
        if (a[i] & b[i])
            return false;
    return true;
}

/* latest first_observed and earliest last_observed of a binding */
static void span_of(const ctx *c, const uint64_t *w, tide__ts *maxfirst, tide__ts *minlast)
{
    bool any = false;
    for (size_t i = 0; i < c->nw; i++) {
        uint64_t x = w[i];
        while (x) {
            int bit = __builtin_ctzll(x);
            x &= x - 1;
            const sdo *sd = &c->sdos[c->obs_sdo[i * 64 + (size_t)bit]];
            if (!any || tide__ts_cmp(sd->first, *maxfirst) > 0)
                *maxfirst = sd->first;
            if (!any || tide__ts_cmp(sd->last, *minlast) < 0)
                *minlast = sd->last;
            any = true;
        }
    }
}

static tide__ts ts_add(tide__ts t, double secs)
{
    if (secs > 1e15)
        secs = 1e15;
    double whole = floor(secs);
    int64_t ns = (int64_t)llround((secs - whole) * 1e9) + t.ns;
    t.s += (int64_t)whole + ns / 1000000000;
    t.ns = (int32_t)(ns % 1000000000);
    return t;
}

typedef struct {
    ctx *c;
    const bset *in;
    bset *out;
    int64_t k;
    uint64_t *acc; /* k+1 levels of nw words */
    long steps;
    bool any; /* one binding is enough: stop at the first */
} rep_state;

static int repeat_rec(rep_state *rs, size_t start, int64_t depth)
{
    size_t nw = rs->in->nw;
    if (depth == rs->k)
        return bs_add(rs->c, rs->out, rs->acc + depth * nw);
    for (size_t i = start; i < rs->in->n && !(rs->any && rs->out->n > 0); i++) {
        if ((int64_t)(rs->in->n - i) < rs->k - depth)
            break;
        if (++rs->steps > MAX_REPEAT_STEPS)
            return fail(rs->c, TIDE_ETOOBIG, "REPEATS needs too many combinations");
        const uint64_t *b = rs->in->w + i * nw;
        const uint64_t *cur = rs->acc + depth * nw;
        if (!disjoint(cur, b, nw))
            continue;
        uint64_t *nx = rs->acc + (depth + 1) * nw;
        for (size_t j = 0; j < nw; j++)
            nx[j] = cur[j] | b[j];
        TIDE_CHECK(repeat_rec(rs, i + 1, depth + 1));
    }
    return 0;
}

static int eval_obs(ctx *c, const obs_node *o, bset *out, bool any);

static int eval_binary(ctx *c, const obs_node *o, bset *out, bool any)
{
    bset l = { NULL, 0, 0, c->nw, NULL, 0 }, r = { NULL, 0, 0, c->nw, NULL, 0 };
    bool or_any = any && o->kind == OBS_OR;
    int rc = eval_obs(c, o->l, &l, or_any);
    if (rc == 0 && !(or_any && l.n > 0))
        rc = eval_obs(c, o->r, &r, or_any);
    uint64_t *tmp = tide__malloc(c->nw * sizeof(uint64_t));
    if (rc == 0 && tmp == NULL)
        rc = fail(c, TIDE_ENOMEM, "out of memory");
    if (rc == 0 && o->kind == OBS_OR) {
        for (size_t i = 0; i < l.n && rc == 0; i++)
            rc = bs_add(c, out, l.w + i * c->nw);
        for (size_t i = 0; i < r.n && rc == 0; i++)
            rc = bs_add(c, out, r.w + i * c->nw);
    } else if (rc == 0) {
        for (size_t i = 0; i < l.n && rc == 0 && !(any && out->n > 0); i++) {
            const uint64_t *a = l.w + i * c->nw;
            tide__ts lf = { 0, 0 }, ll = { 0, 0 };
            span_of(c, a, &lf, &ll);
            for (size_t j = 0; j < r.n && rc == 0 && !(any && out->n > 0); j++) {
                const uint64_t *b = r.w + j * c->nw;
                if (!disjoint(a, b, c->nw))
                    continue;
                if (o->kind == OBS_FOLLOWEDBY) {
                    tide__ts rf = { 0, 0 }, rl = { 0, 0 };
                    span_of(c, b, &rf, &rl);
                    if (tide__ts_cmp(lf, rl) > 0)
                        continue;
                }
                for (size_t k = 0; k < c->nw; k++)
                    tmp[k] = a[k] | b[k];
                rc = bs_add(c, out, tmp);
            }
        }
    }
    tide__free(tmp);
    bs_free(&l);
    bs_free(&r);
    return rc;
}

static const obs_node *unparen(const obs_node *o)
{
    while (o->kind == OBS_PAREN)
        o = o->l;
    return o;
}

/* REPEATS a of (Y REPEATS b) is Y REPEATS a*b: b disjoint unions of a disjoint bindings of Y
 * are a*b disjoint bindings of Y, and any a*b of them group so. Nested REPEATS are flattened
 * so (the reference's combinations of combinations never need to be formed). *inner: Y. */
static int64_t repeats_flat(const obs_node *o, const obs_node **inner, size_t nobs)
{
    int64_t k = o->repeats;
    const obs_node *y = unparen(o->l);
    while (y->kind == OBS_REPEATS) {
        if (k > (int64_t)nobs || y->repeats > (int64_t)nobs)
            k = (int64_t)nobs + 1; /* more disjoint bindings than observations: none */
        else
            k *= y->repeats;
        y = unparen(y->l);
    }
    *inner = y;
    return k;
}

static bool singletons(const ctx *c, const bset *in)
{
    for (size_t i = 0; i < in->n; i++) {
        unsigned bits = 0;
        for (size_t k = 0; k < c->nw && bits < 2; k++)
            bits += (unsigned)__builtin_popcountll(in->w[i * c->nw + k]);
        if (bits != 1)
            return false;
    }
    return true;
}

static int single_obs(const ctx *c, const uint64_t *w)
{
    for (size_t k = 0; k < c->nw; k++)
        if (w[k])
            return (int)(k * 64 + (size_t)__builtin_ctzll(w[k]));
    return -1;
}

/* Whether observation ob lies in a START / STOP window (the filter's test, per observation). */
static bool in_window(const ctx *c, const obs_node *q, size_t ob)
{
    const sdo *sd = &c->sdos[c->obs_sdo[ob]];
    return tide__ts_cmp(sd->first, q->stop) < 0 && tide__ts_cmp(sd->last, q->start) >= 0;
}

/* One binding of k singletons of in (all distinct observations), optionally all inside the
 * START / STOP window ss and within w seconds (max first_observed <= min last_observed + w),
 * when one exists: for each observation as the one with the earliest last_observed, the
 * others that may join it are counted (O(n^2)), where enumerating combinations is C(n, k). */
static int repeats_of_singletons(
        ctx *c, const bset *in, int64_t k, const obs_node *ss, const double *w, bset *out)
{
    size_t n = 0;
    int *ob = tide__malloc((in->n ? in->n : 1) * sizeof(int));
    uint64_t *acc = tide__calloc(c->nw ? c->nw : 1, sizeof(uint64_t));
    int rc = 0;
    if (ob == NULL || acc == NULL) {
        rc = fail(c, TIDE_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < in->n; i++) {
        int x = single_obs(c, in->w + i * c->nw);
        if (x >= 0 && (ss == NULL || in_window(c, ss, (size_t)x)))
            ob[n++] = x;
    }
    if ((int64_t)n < k)
        goto done;
    if (w == NULL) {
        for (int64_t i = 0; i < k; i++)
            acc[ob[i] / 64] |= (uint64_t)1 << (ob[i] % 64);
        rc = bs_add(c, out, acc);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const sdo *li = &c->sdos[c->obs_sdo[ob[i]]];
        tide__ts lim = ts_add(li->last, *w);
        int64_t got = 0;
        memset(acc, 0, c->nw * sizeof(uint64_t));
        for (size_t j = 0; j < n && got < k; j++) {
            const sdo *sj = &c->sdos[c->obs_sdo[ob[j]]];
            /* j may join when its last is not before i's and its first within i's last + w;
             * i itself always qualifies (first <= last) */
            if (j != i &&
                    (tide__ts_cmp(sj->last, li->last) < 0 || tide__ts_cmp(sj->first, lim) > 0))
                continue;
            if (j == i && tide__ts_cmp(li->first, lim) > 0)
                continue;
            acc[ob[j] / 64] |= (uint64_t)1 << (ob[j] % 64);
            got++;
        }
        if (got == k) {
            rc = bs_add(c, out, acc);
            break;
        }
    }
done:
    tide__free(ob);
    tide__free(acc);
    return rc;
}

static int eval_repeats(ctx *c, const obs_node *o, bset *out, bool any)
{
    const obs_node *y;
    int64_t k = repeats_flat(o, &y, c->nobs);
    if (k > (int64_t)c->nobs)
        return 0; /* k disjoint non-empty bindings need k observations */
    bset in = { NULL, 0, 0, c->nw, NULL, 0 };
    int rc = eval_obs(c, y, &in, k == 1 && any);
    if (rc == 0 && k == 1) {
        for (size_t i = 0; i < in.n && rc == 0; i++)
            rc = bs_add(c, out, in.w + i * c->nw);
    } else if (rc == 0 && any && singletons(c, &in)) {
        rc = repeats_of_singletons(c, &in, k, NULL, NULL, out);
    } else if (rc == 0 && (uint64_t)k <= in.n) {
        rep_state rs = { c, &in, out, k, NULL, 0, any };
        rs.acc = tide__calloc((size_t)(k + 1) * c->nw, sizeof(uint64_t));
        rc = rs.acc ? repeat_rec(&rs, 0, 0) : fail(c, TIDE_ENOMEM, "out of memory");
        tide__free(rs.acc);
    }
    bs_free(&in);
    return rc;
}

/* `any`: the caller needs only to know whether a binding exists (the root, an OR under it, a
 * qualifier's result that only filters): a node may then stop at its first binding. */
static int eval_obs(ctx *c, const obs_node *o, bset *out, bool any)
{
    switch (o->kind) {
        case OBS_SIMPLE: {
            size_t maxobj = 0;
            for (size_t i = 0; i < c->nsdo; i++)
                if (c->sdos[i].nobj > maxobj)
                    maxobj = c->sdos[i].nobj;
            size_t bw = maxobj / 64 + 1;
            uint64_t *bits = tide__calloc(bw, sizeof(uint64_t));
            uint64_t *one = tide__calloc(c->nw ? c->nw : 1, sizeof(uint64_t));
            int rc = 0;
            if (bits == NULL || one == NULL)
                rc = fail(c, TIDE_ENOMEM, "out of memory");
            for (size_t i = 0; i < c->nsdo && rc == 0; i++) {
                const sdo *sd = &c->sdos[i];
                rc = eval_cmp(c, sd, o->cmp, bits, sd->nobj / 64 + 1);
                bool hit = false;
                for (size_t k = 0; k < sd->nobj / 64 + 1; k++)
                    hit |= bits[k] != 0;
                for (int64_t k = 0; rc == 0 && hit && k < sd->count; k++) {
                    size_t ob = sd->obs0 + (size_t)k;
                    memset(one, 0, c->nw * sizeof(uint64_t));
                    one[ob / 64] |= (uint64_t)1 << (ob % 64);
                    rc = bs_add(c, out, one);
                }
            }
            tide__free(bits);
            tide__free(one);
            return rc;
        }
        case OBS_AND:
        case OBS_OR:
        case OBS_FOLLOWEDBY: return eval_binary(c, o, out, any);
        case OBS_PAREN: return eval_obs(c, o->l, out, any);
        case OBS_REPEATS: return eval_repeats(c, o, out, any);
        default: break;
    }
    /* WITHIN, START / STOP: filters of the bindings of their operand */
    const obs_node *y = unparen(o->l);
    if (y->kind == o->kind && y->kind != OBS_REPEATS) {
        /* nested filters of one kind are one: (Y WITHIN a) WITHIN b is Y WITHIN min(a, b);
         * two START / STOP windows hold together when first < both stops and last >= both
         * starts (an empty one matches nothing) */
        obs_node one = *y;
        if (o->kind == OBS_WITHIN) {
            one.within = o->within < y->within ? o->within : y->within;
        } else {
            if (tide__ts_cmp(o->start, o->stop) >= 0 || tide__ts_cmp(y->start, y->stop) >= 0)
                return 0;
            if (tide__ts_cmp(o->start, one.start) > 0)
                one.start = o->start;
            if (tide__ts_cmp(o->stop, one.stop) < 0)
                one.stop = o->stop;
            if (tide__ts_cmp(one.start, one.stop) >= 0)
                one.stop = one.start; /* disjoint windows: no observation lies in both */
        }
        return eval_obs(c, &one, out, any);
    }
    if (any && y->kind == OBS_REPEATS) {
        /* over REPEATS of single observations, without forming the combinations */
        const obs_node *z;
        int64_t k = repeats_flat(y, &z, c->nobs);
        if (k > (int64_t)c->nobs)
            return 0;
        if (o->kind != OBS_STARTSTOP || tide__ts_cmp(o->start, o->stop) < 0) {
            bset in = { NULL, 0, 0, c->nw, NULL, 0 };
            int rc = eval_obs(c, z, &in, false);
            if (rc == 0 && singletons(c, &in)) {
                rc = repeats_of_singletons(c, &in, k, o->kind == OBS_STARTSTOP ? o : NULL,
                        o->kind == OBS_WITHIN ? &o->within : NULL, out);
                bs_free(&in);
                return rc;
            }
            bs_free(&in);
            if (rc < 0)
                return rc;
        } else {
            return 0;
        }
    }
    bset in = { NULL, 0, 0, c->nw, NULL, 0 };
    int rc = eval_obs(c, o->l, &in, false);
    if (rc < 0) {
        bs_free(&in);
        return rc;
    }
    if (o->kind == OBS_WITHIN) {
        for (size_t i = 0; i < in.n && rc == 0 && !(any && out->n > 0); i++) {
            tide__ts f = { 0, 0 }, l = { 0, 0 };
            span_of(c, in.w + i * c->nw, &f, &l);
            if (tide__ts_cmp(f, ts_add(l, o->within)) <= 0)
                rc = bs_add(c, out, in.w + i * c->nw);
        }
    } else if (o->kind == OBS_STARTSTOP && tide__ts_cmp(o->start, o->stop) < 0) {
        for (size_t i = 0; i < in.n && rc == 0 && !(any && out->n > 0); i++) {
            const uint64_t *w = in.w + i * c->nw;
            bool ok = true;
            for (size_t ob = 0; ob < c->nobs && ok; ob++)
                if (w[ob / 64] >> (ob % 64) & 1)
                    ok = in_window(c, o, ob);
            if (ok)
                rc = bs_add(c, out, w);
        }
    }
    bs_free(&in);
    return rc;
}

/* ---------------------------------------------------------------- static checks, regexes */

/* Python-style regex for LIKE: % -> .*, _ -> ., other non-alphanumerics escaped. */
static int like_to_regex(const char *s, size_t n, tide_buf *out)
{
    TIDE_CHECK(tide__buf_putc(out, '^'));
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '%')
            TIDE_CHECK(tide__buf_puts(out, ".*"));
        else if (ch == '_')
            TIDE_CHECK(tide__buf_putc(out, '.'));
        else {
            bool alnum = (unsigned char)ch >= 0x80 || (ch >= '0' && ch <= '9') ||
                         (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
            if (!alnum)
                TIDE_CHECK(tide__buf_putc(out, '\\'));
            TIDE_CHECK(tide__buf_putc(out, ch));
        }
    }
    return tide__buf_putc(out, '$');
}

static int compile_rx(ctx *c, const cmp_node *cn)
{
    size_t nl;
    char *nfc = tide__utf8_nfc(cn->lits[0].s, cn->lits[0].len, &nl);
    if (nfc == NULL)
        return fail(c, TIDE_ENOMEM, "out of memory");
    tide_buf re = TIDE_BUF_INIT;
    int rc = 0;
    if (cn->op == OP_LIKE)
        rc = like_to_regex(nfc, nl, &re);
    else
        rc = tide__buf_put(&re, nfc, nl);
    tide__free(nfc);
    if (rc < 0) {
        tide__buf_free(&re);
        return fail(c, TIDE_ENOMEM, "out of memory");
    }
    regex_entry *e = &c->rx[c->nrx++];
    e->c = cn;
    int err;
    PCRE2_SIZE off;
    e->text = pcre2_compile((PCRE2_SPTR)(re.ptr ? re.ptr : ""), re.len,
            PCRE2_UTF | PCRE2_UCP | PCRE2_ALT_BSUX, &err, &off, NULL);
    if (e->text == NULL) {
        PCRE2_UCHAR msg[120];
        pcre2_get_error_message(err, msg, sizeof(msg));
        tide__buf_free(&re);
        return fail(c, TIDE_EMATCH, "column %d: invalid regular expression at offset %zu: %s",
                cn->pos, (size_t)off, (const char *)msg);
    }
    unsigned char *lat = tide__malloc(re.len + 1);
    size_t ln;
    if (lat == NULL) {
        tide__buf_free(&re);
        return fail(c, TIDE_ENOMEM, "out of memory");
    }
    if (str_to_latin1(re.ptr ? re.ptr : "", re.len, lat, &ln))
        e->bin = pcre2_compile((PCRE2_SPTR)lat, ln, PCRE2_ALT_BSUX, &err, &off, NULL);
    tide__free(lat);
    tide__buf_free(&re);
    return 0;
}

static size_t count_cmps(const cmp_node *cn)
{
    return cn->kind == CMP_TEST ? 1 : count_cmps(cn->l) + count_cmps(cn->r);
}

static size_t count_all(const obs_node *o)
{
    if (o == NULL)
        return 0;
    return (o->kind == OBS_SIMPLE ? count_cmps(o->cmp) : 0) + count_all(o->l) + count_all(o->r);
}

static bool num_kind(lit_kind k)
{
    return k == LIT_INT || k == LIT_FLOAT;
}

/* Whether the regex of a LIKE / MATCHES can backtrack catastrophically on the probes of
 * tide_pattern_check (PROBE_LEN characters, PROBE_LIMIT steps): only with a quantified group
 * ('(a|aa)+', '(a+)+', '(\w+\s?)*') or with 3 or more unbounded quantifiers (polynomial
 * backtracking of degree 4 or more needs as many: 40^3 steps stay under the limit). Others are
 * not probed: most LIKEs ('%/path.php') and MATCHES of feeds cost the ingest nothing. */
static bool may_backtrack(const cmp_node *cn)
{
    const char *s = cn->lits[0].s;
    size_t n = cn->lits[0].len, unbounded = 0;
    if (cn->op == OP_LIKE) {
        for (size_t i = 0; i < n; i++)
            unbounded += s[i] == '%';
        return unbounded >= 3;
    }
    bool in_class = false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '\\') {
            i++; /* an escaped character (\Q...\E is read as text: more is probed, not less) */
            continue;
        }
        if (in_class) {
            in_class = ch != ']';
            continue;
        }
        if (ch == '[') {
            in_class = true;
            i += i + 1 < n && s[i + 1] == '^';
            i += i + 1 < n && s[i + 1] == ']'; /* a leading ']' is a member */
            continue;
        }
        if (ch == ')' && i + 1 < n && memchr("*+?{", s[i + 1], 4) != NULL)
            return true;
        if (ch == '*' || ch == '+')
            unbounded++;
        else if (ch == '{') {
            const char *close = memchr(s + i, '}', n - i);
            if (close && close > s + i + 1 && close[-1] == ',')
                unbounded++;
        }
    }
    return unbounded >= 3;
}

static int check_cmp(ctx *c, const cmp_node *cn)
{
    if (cn->kind != CMP_TEST) {
        TIDE_CHECK(check_cmp(c, cn->l));
        return check_cmp(c, cn->r);
    }
    for (size_t i = 0; i < cn->nsteps; i++)
        if (cn->steps[i].kind == STEP_INDEX && cn->steps[i].idx < 0)
            return fail(c, TIDE_EMATCH, "column %d: invalid list index %lld", cn->pos,
                    (long long)cn->steps[i].idx);
    for (size_t i = 0; i < cn->nlits; i++) {
        const lit *l = &cn->lits[i];
        if (l->kind == LIT_TS && l->ts_bad)
            return fail(
                    c, TIDE_EMATCH, "column %d: invalid timestamp literal %s", cn->pos, l->text);
        if (i > 0 && l->kind != cn->lits[0].kind &&
                !(num_kind(l->kind) && num_kind(cn->lits[0].kind)))
            return fail(c, TIDE_EMATCH, "column %d: set literal mixes types (%s and %s)", cn->pos,
                    cn->lits[0].text, l->text);
    }
    if (cn->op == OP_LIKE || cn->op == OP_MATCHES) {
        /* a LIKE always compiles (like_to_regex): only one that may backtrack is probed */
        if (c->checking && cn->op == OP_LIKE && !may_backtrack(cn))
            return 0;
        return compile_rx(c, cn);
    }
    return 0;
}

static int check_obs(ctx *c, const obs_node *o)
{
    if (o == NULL)
        return 0;
    TIDE_CHECK(check_obs(c, o->l));
    TIDE_CHECK(check_obs(c, o->r));
    switch (o->kind) {
        case OBS_SIMPLE: return check_cmp(c, o->cmp);
        case OBS_WITHIN:
            if (!(o->within > 0))
                return fail(c, TIDE_EMATCH, "column %d: invalid WITHIN value (must be positive)",
                        o->pos);
            return 0;
        case OBS_REPEATS:
            if (o->repeats < 1)
                return fail(c, TIDE_EMATCH, "column %d: invalid repetition count %lld", o->pos,
                        (long long)o->repeats);
            return 0;
        case OBS_STARTSTOP:
            if (o->start_bad || o->stop_bad)
                return fail(c, TIDE_EMATCH, "column %d: START/STOP timestamp is not a valid date",
                        o->pos);
            return 0;
        default: return 0;
    }
}

/* ---------------------------------------------------------------- observed data */

static int add_sdo(ctx *c, json_t *od, json_t *map, size_t idx)
{
    sdo *sd = &c->sdos[c->nsdo];
    memset(sd, 0, sizeof(*sd));
    sd->map = map;
    json_t *no = json_object_get(od, "number_observed");
    json_t *fo = json_object_get(od, "first_observed");
    json_t *lo = json_object_get(od, "last_observed");
    if (!json_is_integer(no))
        return fail(c, TIDE_EMATCH, "observed-data #%zu: number_observed missing or not an integer",
                idx);
    sd->count = json_integer_value(no);
    if (sd->count < 1)
        return fail(c, TIDE_EMATCH,
                "observed-data #%zu: invalid number_observed %lld (must be >= 1)", idx,
                (long long)sd->count);
    if (!json_is_string(fo) ||
            tide__pattern_ts_parse(json_string_value(fo), json_string_length(fo), &sd->first) != 0)
        return fail(c, TIDE_EMATCH, "observed-data #%zu: invalid first_observed", idx);
    if (!json_is_string(lo) ||
            tide__pattern_ts_parse(json_string_value(lo), json_string_length(lo), &sd->last) != 0)
        return fail(c, TIDE_EMATCH, "observed-data #%zu: invalid last_observed", idx);
    if ((uint64_t)sd->count > MAX_OBSERVATIONS - c->nobs)
        return fail(c, TIDE_ETOOBIG, "more than %d observations (number_observed summed)",
                MAX_OBSERVATIONS);
    sd->obs0 = c->nobs;
    c->nobs += (size_t)sd->count;
    size_t n = json_object_size(map);
    sd->keys = tide__malloc((n ? n : 1) * sizeof(char *));
    sd->objs = tide__malloc((n ? n : 1) * sizeof(json_t *));
    if (keep(c, (void *)sd->keys) < 0 || keep(c, sd->objs) < 0)
        return TIDE_ENOMEM;
    const char *k;
    json_t *v;
    json_object_foreach(map, k, v)
    {
        if (!json_is_object(v))
            continue;
        sd->keys[sd->nobj] = k;
        sd->objs[sd->nobj++] = v;
    }
    c->nsdo++;
    return 0;
}

static int load_data(ctx *c, json_t *root, json_t *owned_maps)
{
    tide_stix_version v = c->p->version;
    json_t *list = root;
    json_t *single = NULL;
    if (json_is_object(root)) { /* a lone bundle / observed-data */
        single = json_array();
        if (single == NULL || json_array_append(single, root) < 0) {
            json_decref(single);
            return fail(c, TIDE_ENOMEM, "out of memory");
        }
        list = single;
        json_array_append_new(owned_maps, single);
    }
    if (!json_is_array(list))
        return fail(c, TIDE_EPARSE, "observed data must be a JSON array");
    size_t cap = 0;
    json_t *ods = json_array(); /* observed-data objects in order */
    json_t *index = json_object();
    if (ods == NULL || index == NULL) {
        json_decref(ods);
        json_decref(index);
        return fail(c, TIDE_ENOMEM, "out of memory");
    }
    json_array_append_new(owned_maps, ods);
    json_array_append_new(owned_maps, index);
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        if (!json_is_object(e))
            return fail(c, TIDE_EPARSE, "element %zu of the observed data is not an object", i);
        if (v == TIDE_STIX_21) {
            json_t *objs = json_object_get(e, "objects");
            if (!json_is_array(objs)) {
                const char *t = json_string_value(json_object_get(e, "type"));
                if (t && strcmp(t, "observed-data") != 0)
                    return fail(c, TIDE_EPARSE, "element %zu is not a bundle", i);
                objs = NULL;
                if (json_array_append(ods, e) < 0)
                    return fail(c, TIDE_ENOMEM, "out of memory");
                continue;
            }
            size_t j;
            json_t *o;
            json_array_foreach(objs, j, o)
            {
                if (!json_is_object(o))
                    continue;
                const char *id = json_string_value(json_object_get(o, "id"));
                const char *t = json_string_value(json_object_get(o, "type"));
                if (id && json_object_set(index, id, o) < 0)
                    return fail(c, TIDE_ENOMEM, "out of memory");
                if (t && strcmp(t, "observed-data") == 0 && json_array_append(ods, o) < 0)
                    return fail(c, TIDE_ENOMEM, "out of memory");
            }
        } else if (json_array_append(ods, e) < 0) {
            return fail(c, TIDE_ENOMEM, "out of memory");
        }
    }
    cap = json_array_size(ods);
    c->sdos = tide__calloc(cap ? cap : 1, sizeof(sdo));
    if (keep(c, c->sdos) < 0)
        return TIDE_ENOMEM;
    json_array_foreach(ods, i, e)
    {
        json_t *map;
        if (v == TIDE_STIX_21) {
            map = json_object();
            if (map == NULL || json_array_append_new(owned_maps, map) < 0)
                return fail(c, TIDE_ENOMEM, "out of memory");
            json_t *refs = json_object_get(e, "object_refs");
            size_t j;
            json_t *r;
            json_array_foreach(refs, j, r)
            {
                if (!json_is_string(r))
                    continue;
                json_t *o = json_object_get(index, json_string_value(r));
                if (o && json_object_set(map, json_string_value(r), o) < 0)
                    return fail(c, TIDE_ENOMEM, "out of memory");
            }
        } else {
            map = json_object_get(e, "objects");
            if (map == NULL) {
                map = json_object();
                if (map == NULL || json_array_append_new(owned_maps, map) < 0)
                    return fail(c, TIDE_ENOMEM, "out of memory");
            } else if (!json_is_object(map)) {
                return fail(c, TIDE_EMATCH, "observed-data #%zu: 'objects' is not a dictionary", i);
            }
        }
        TIDE_CHECK(add_sdo(c, e, map, i));
    }
    c->nw = c->nobs / 64 + 1;
    c->obs_sdo = tide__malloc((c->nobs ? c->nobs : 1) * sizeof(size_t));
    if (keep(c, c->obs_sdo) < 0)
        return TIDE_ENOMEM;
    for (size_t s = 0; s < c->nsdo; s++)
        for (int64_t k = 0; k < c->sdos[s].count; k++)
            c->obs_sdo[c->sdos[s].obs0 + (size_t)k] = s;
    return 0;
}

int tide_pattern_match_json(const tide_pattern *p, const char *json, size_t len, bool *out_matched,
        char *errbuf, size_t errlen)
{
    ctx c;
    memset(&c, 0, sizeof(c));
    c.p = p;
    if (errbuf && errlen)
        errbuf[0] = '\0';
    *out_matched = false;
    json_t *root = NULL, *owned = NULL;
    int rc = 0;
    if (p == NULL || (json == NULL && len))
        return tide_error_set(TIDE_EINVAL, "no pattern or data given");
    if (len > MAX_DATA_BYTES) {
        rc = fail(&c, TIDE_ETOOBIG, "observed data larger than %u bytes", MAX_DATA_BYTES);
        goto done;
    }
    size_t nrx = count_all(p->root);
    c.rx = tide__calloc(nrx ? nrx : 1, sizeof(regex_entry));
    c.mctx = pcre2_match_context_create(NULL);
    owned = json_array();
    if (c.rx == NULL || c.mctx == NULL || owned == NULL) {
        rc = fail(&c, TIDE_ENOMEM, "out of memory");
        goto done;
    }
    pcre2_set_match_limit(c.mctx, REGEX_MATCH_LIMIT);
    pcre2_set_depth_limit(c.mctx, REGEX_DEPTH_LIMIT);
    pcre2_set_heap_limit(c.mctx, REGEX_HEAP_LIMIT);
    if ((rc = check_obs(&c, p->root)) < 0)
        goto done;
    json_error_t jerr;
    root = json_loadb(json ? json : "", len, 0, &jerr);
    if (root == NULL) {
        rc = fail(&c, TIDE_EPARSE, "observed data: line %d, column %d (byte %d): %s", jerr.line,
                jerr.column, jerr.position, jerr.text);
        goto done;
    }
    if ((rc = load_data(&c, root, owned)) < 0)
        goto done;
    bset res = { NULL, 0, 0, c.nw, NULL, 0 };
    rc = eval_obs(&c, p->root, &res, true);
    if (rc == 0)
        *out_matched = res.n > 0;
    bs_free(&res);
done:
    for (size_t i = 0; i < c.nrx; i++) {
        pcre2_code_free(c.rx[i].text);
        pcre2_code_free(c.rx[i].bin);
    }
    tide__free(c.rx);
    pcre2_match_context_free(c.mctx);
    for (size_t i = 0; i < c.narena; i++)
        tide__free(c.arena[i]);
    tide__free(c.arena);
    json_decref(owned);
    json_decref(root);
    if (rc < 0) {
        if (c.err_code == 0)
            fail(&c, rc, "%s", tide_error_last());
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "%s", c.err);
        return tide_error_set(rc, "%s", c.err);
    }
    return 0;
}

/* ---------------------------------------------------------------- static check */

static bool probe_char(unsigned char ch)
{
    return ch > 0x20 && ch < 0x7f;
}

/* Run the regex of e on probes made of its own characters: each character repeated, each
 * pair of neighbours repeated, with and without a tail that matches nothing of them. */
static int probe_rx(ctx *c, const regex_entry *e)
{
    const lit *l = &e->c->lits[0];
    char alpha[PROBE_CHARS + 8];
    size_t na = 0;
    const char *generic = "a0 ./-";
    for (size_t i = 0; i < l->len && na < PROBE_CHARS; i++) {
        unsigned char ch = (unsigned char)l->s[i];
        if (probe_char(ch) && memchr(alpha, ch, na) == NULL)
            alpha[na++] = (char)ch;
    }
    for (const char *g = generic; *g; g++)
        if (memchr(alpha, *g, na) == NULL)
            alpha[na++] = *g;
    /* the single characters, then up to PROBE_CHARS pairs the literal has side by side */
    char pa[2 * PROBE_CHARS + 16], pb[2 * PROBE_CHARS + 16];
    size_t np = 0;
    for (size_t i = 0; i < na; i++, np++)
        pa[np] = pb[np] = alpha[i];
    for (size_t k = 0; k + 1 < l->len && np < na + PROBE_CHARS; k++) {
        char a = l->s[k], b = l->s[k + 1];
        if (probe_char((unsigned char)a) && probe_char((unsigned char)b) && a != b) {
            pa[np] = a;
            pb[np++] = b;
        }
    }
    /* the run alone; then a character none of them is; then every character after it (a
     * character the regex requires, found late, makes it try every way of the run) */
    char probe[PROBE_LEN + 1 + sizeof(alpha)];
    for (size_t k = 0; k < na; k++)
        probe[PROBE_LEN + 1 + k] = alpha[k];
    size_t lens[3] = { PROBE_LEN, PROBE_LEN + 1, PROBE_LEN + 1 + na };
    bool r;
    for (size_t i = 0; i < np; i++) {
        for (size_t k = 0; k < PROBE_LEN; k++)
            probe[k] = k % 2 ? pb[i] : pa[i];
        probe[PROBE_LEN] = '\x01';
        for (int t = 0; t < 3; t++) {
            size_t n = lens[t];
            int rc = rx_run(c, e->text, (const unsigned char *)probe, n, &r);
            if (rc == TIDE_ETOOBIG) {
                c->err_code = 0;
                return fail(c, TIDE_ETOOBIG,
                        "column %d: %s '%.80s' backtracks catastrophically: more than %u steps on "
                        "a %zu-character string ('%c%c...')",
                        e->c->pos, e->c->op == OP_LIKE ? "LIKE" : "MATCHES", l->s, PROBE_LIMIT, n,
                        pa[i], pb[i]);
            }
            TIDE_CHECK(rc);
        }
    }
    return 0;
}

int tide_pattern_check(const tide_pattern *p, char *errbuf, size_t errlen)
{
    ctx c;
    memset(&c, 0, sizeof(c));
    c.p = p;
    if (errbuf && errlen)
        errbuf[0] = '\0';
    if (p == NULL)
        return tide_error_set(TIDE_EINVAL, "no pattern given");
    size_t nrx = count_all(p->root);
    int rc = 0;
    c.rx = tide__calloc(nrx ? nrx : 1, sizeof(regex_entry));
    c.mctx = pcre2_match_context_create(NULL);
    if (c.rx == NULL || c.mctx == NULL)
        rc = fail(&c, TIDE_ENOMEM, "out of memory");
    if (rc == 0) {
        pcre2_set_match_limit(c.mctx, PROBE_LIMIT);
        pcre2_set_depth_limit(c.mctx, PROBE_LIMIT);
        pcre2_set_heap_limit(c.mctx, REGEX_HEAP_LIMIT);
        c.checking = true;
        rc = check_obs(&c, p->root);
    }
    for (size_t i = 0; rc == 0 && i < c.nrx; i++)
        if (may_backtrack(c.rx[i].c))
            rc = probe_rx(&c, &c.rx[i]);
    for (size_t i = 0; i < c.nrx; i++) {
        pcre2_code_free(c.rx[i].text);
        pcre2_code_free(c.rx[i].bin);
    }
    tide__free(c.rx);
    pcre2_match_context_free(c.mctx);
    if (rc < 0) {
        if (c.err_code == 0)
            fail(&c, rc, "%s", tide_error_last());
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "%s", c.err);
        return tide_error_set(rc, "%s", c.err);
    }
    return 0;
}
