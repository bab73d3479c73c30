/*
 * keys.c - the byte keys of the match index: one encoding for indicator values (canonical,
 * from the store) and for values seen in telemetry (any case, trailing dots, IPv4-mapped
 * IPv6, leading zeros), so that both sides meet in the hash table. Hand-written because this
 * runs for every observation at line rate: no allocation, no locale, no sscanf.
 */
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "match/index_int.h"
#include "match/keys.h"
#include "util/ipaddr.h"

/* Addresses (util/ipaddr.h): IPv4 with leading zeros allowed (decimal), IPv6 with a zone index
 * dropped, IPv4-mapped IPv6 keyed as IPv4. */
static bool parse_v4(const char *s, size_t n, uint8_t out[4])
{
    return tide__ip4_parse_zeros(s, n, out);
}

static bool parse_v6(const char *s, size_t n, uint8_t out[16])
{
    return tide__ip6_parse(s, n, TIDE__IP_ZONE, out);
}

/* hex digit value, 0xFF for anything else: a table because this decodes the hashes of every
 * file event (three per Zeek files.log line) */
static const uint8_t HEX[256] = {
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0x00,
    0x01,
    0x02,
    0x03,
    0x04,
    0x05,
    0x06,
    0x07,
    0x08,
    0x09,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0x0a,
    0x0b,
    0x0c,
    0x0d,
    0x0e,
    0x0f,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0x0a,
    0x0b,
    0x0c,
    0x0d,
    0x0e,
    0x0f,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
};

/* inlined into tide__ix_encode, where each hash length is a constant */
__attribute__((always_inline)) static inline int hex_key(
        const char *v, size_t n, size_t want, uint8_t *out)
{
    if (n != want * 2)
        return -1;
    const unsigned char *p = (const unsigned char *)v;
    size_t i = 0;
#ifdef __SSE2__
    /* hashes are 32 to 128 digits: 16 at a time, the last block overlapping the one before */
    if (n >= 16) {
        for (size_t at = 0;; at += 16) {
            if (at + 16 > n)
                at = n - 16;
            if (!tide__ix_hex16(p + at, out + at / 2))
                return -1;
            if (at + 16 >= n)
                return (int)want;
        }
    }
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* eight digits at a time (hashes are 32 to 128 digits): decode each byte to its nibble
     * value, then check by encoding back, so that every byte that is not a hex digit fails */
    const uint64_t ones = 0x0101010101010101ULL;
    for (; i + 4 <= want; i += 4) {
        uint64_t x;
        memcpy(&x, p + 2 * i, 8);
        uint64_t letter = (x >> 6) & ones;                       /* 'A'-'F', 'a'-'f' have bit 6 */
        uint64_t nib = (x & 0x0F0F0F0F0F0F0F0FULL) + letter * 9; /* 0..24 per byte */
        uint64_t gt9 = ((nib + 0x0606060606060606ULL) >> 4) & ones;
        uint64_t back = nib + 0x3030303030303030ULL + gt9 * 0x27; /* '0'-'9', 'a'-'f' */
        if ((nib & 0x1010101010101010ULL) || back != (x | letter << 5))
            return -1;
        uint64_t t = ((nib << 4) | (nib >> 8)) & 0x00FF00FF00FF00FFULL;
        t = (t | t >> 8) & 0x0000FFFF0000FFFFULL;
        t = (t | t >> 16) & 0xFFFFFFFFULL;
        uint32_t w = (uint32_t)t;
        memcpy(out + i, &w, 4);
    }
#endif
    unsigned bad = 0;
    for (; i < want; i++) {
        unsigned hi = HEX[p[2 * i]], lo = HEX[p[2 * i + 1]];
        bad |= hi | lo;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return (bad & 0xF0) ? -1 : (int)want;
}

/* ASCII lower case of 8 bytes at once (bytes >= 0x80 unchanged) */
static uint64_t lower8(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t h = x & ~high;
    uint64_t gt_z = h + (0x7F - 'Z') * ones; /* bit 7 set when > 'Z' */
    uint64_t ge_a = h + (0x80 - 'A') * ones; /* bit 7 set when >= 'A' */
    uint64_t upper = ~x & (ge_a ^ gt_z) & high;
    return x | upper >> 2;
}

__attribute__((always_inline)) static inline int lower_key(const char *v, size_t n, uint8_t *out)
{
    if (n == 0 || n > IX_MAX_KEY)
        return -1;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, v + i, 8);
        x = lower8(x);
        memcpy(out + i, &x, 8);
    }
    for (; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        out[i] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c;
    }
    return (int)n;
}

/* A URL as seen: scheme and host lower-cased, default port dropped, empty path "/". Values
 * with percent escapes or odd shapes are left to the caller's canonical form (the store's
 * values went through tide_obs_normalize already; telemetry URLs rarely carry escapes of
 * unreserved characters). Hand-written fast path (every URL of every proxy / HTTP record comes
 * here): the authority's end, its port colon and its '@' / ']' are found 16 bytes at a time and
 * the host is lower-cased 8 bytes at a time; tests/unit/test_match.c checks it against the
 * byte-at-a-time reference on random URLs. */
static int url_key(const char *v, size_t n, uint8_t *out)
{
    if (n > IX_MAX_KEY - 1)
        return -1;
    size_t slen;
    uint32_t w4 = 0;
    if (n >= 7)
        memcpy(&w4, v, 4);
    if (n >= 7 && (w4 | 0x20202020u) == 0x70747468u && memcmp(v + 4, "://", 3) == 0)
        slen = 4; /* "http" in any case, the usual one (no earlier "://" possible) */
    else {
        const char *sep = NULL;
        for (size_t i = 0; i + 2 < n && i < 16; i++)
            if (v[i] == ':' && v[i + 1] == '/' && v[i + 2] == '/') {
                sep = v + i;
                break;
            }
        if (sep == NULL)
            return -1;
        slen = (size_t)(sep - v);
    }
    size_t o = 0;
    if (slen == 4 && (w4 | 0x20202020u) == 0x70747468u) {
        memcpy(out, "http://", 7); /* the usual scheme, known to be "http" in some case */
        o = 7;
    } else {
        for (size_t i = 0; i < slen; i++) {
            unsigned char c = (unsigned char)v[i];
            out[o++] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c;
        }
        memcpy(out + o, "://", 3);
        o += 3;
    }
    const char *h = v + slen + 3, *end = v + n;
    /* the authority ends at '/', '?' or '#'; the port is after its last ':' when no ']' or
     * '@' comes after that colon (userinfo is kept as is) */
    size_t hl = 0, left = (size_t)(end - h);
    const char *port = NULL;
#ifdef __SSE2__
    while (hl + 16 <= left) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(h + hl));
        unsigned t = (unsigned)_mm_movemask_epi8(
                _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('/')),
                                     _mm_cmpeq_epi8(x, _mm_set1_epi8('?'))),
                        _mm_cmpeq_epi8(x, _mm_set1_epi8('#'))));
        unsigned c = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(':')));
        unsigned b = (unsigned)_mm_movemask_epi8(_mm_or_si128(
                _mm_cmpeq_epi8(x, _mm_set1_epi8(']')), _mm_cmpeq_epi8(x, _mm_set1_epi8('@'))));
        unsigned lim = t ? (1u << __builtin_ctz(t)) - 1 : 0xFFFFu;
        c &= lim;
        b &= lim;
        if (c | b) {
            unsigned top = 31u - (unsigned)__builtin_clz(c | b);
            const char *at = h + hl + top;
            port = (c >> top & 1) ? at : NULL;
        }
        if (t) {
            hl += (unsigned)__builtin_ctz(t);
            goto authority;
        }
        hl += 16;
    }
#endif
    for (; hl < left; hl++) {
        char ch = h[hl];
        if (ch == '/' || ch == '?' || ch == '#')
            break;
        if (ch == ':')
            port = h + hl;
        else if (ch == ']' || ch == '@')
            port = NULL;
    }
#ifdef __SSE2__
authority:; /* (a label cannot precede a declaration in C11) */
#endif
    const char *hend = h + hl;
    const char *hostend = port ? port : hend;
    size_t nh = (size_t)(hostend - h);
    if (nh >= 8) { /* 8 at a time, the last word overlapping the one before */
        for (size_t i = 0;; i += 8) {
            if (i + 8 > nh)
                i = nh - 8;
            uint64_t x;
            memcpy(&x, h + i, 8);
            x = lower8(x);
            memcpy(out + o + i, &x, 8);
            if (i + 8 >= nh)
                break;
        }
    } else {
        for (size_t i = 0; i < nh; i++) {
            unsigned char c = (unsigned char)h[i];
            out[o + i] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c;
        }
    }
    o += nh;
    if (o > 0 && out[o - 1] == '.') /* trailing dot of the host */
        o--;
    if (port) {
        size_t plen = (size_t)(hend - port);
        bool dflt = (slen == 4 && memcmp(out, "http", 4) == 0 && plen == 3 &&
                            memcmp(port, ":80", 3) == 0) ||
                    (slen == 5 && memcmp(out, "https", 5) == 0 && plen == 4 &&
                            memcmp(port, ":443", 4) == 0);
        if (!dflt && plen > 1) {
            memcpy(out + o, port, plen);
            o += plen;
        }
    }
    if (hend == end || *hend != '/')
        out[o++] = '/';
    size_t rest = (size_t)(end - hend);
    /* the fragment is not part of what is requested. The usual path of 4 to 16 bytes is
     * searched and copied as two overlapping words inside [hend, end) (memchr + memcpy calls
     * cost more than the rest of the key) */
    if (rest >= 4 && rest <= 16) {
        const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
        const uint64_t hash = 0x2323232323232323ULL; /* '#' */
        uint64_t a, b;
        if (rest >= 8) {
            memcpy(&a, hend, 8);
            memcpy(&b, end - 8, 8);
        } else {
            uint32_t a4, b4;
            memcpy(&a4, hend, 4);
            memcpy(&b4, end - 4, 4);
            a = a4 | (uint64_t)0x30303030u << 32; /* padded with '0', not '#' */
            b = b4 | (uint64_t)0x30303030u << 32;
        }
        uint64_t xa = a ^ hash, xb = b ^ hash;
        if (!(((xa - ones) & ~xa & high) | ((xb - ones) & ~xb & high))) { /* no '#' */
            if (rest >= 8) {
                memcpy(out + o, &a, 8);
                memcpy(out + o + rest - 8, &b, 8);
            } else {
                uint32_t a4 = (uint32_t)a, b4 = (uint32_t)b;
                memcpy(out + o, &a4, 4);
                memcpy(out + o + rest - 4, &b4, 4);
            }
            return (int)(o + rest);
        }
    }
    const char *frag = memchr(hend, '#', rest);
    if (frag)
        rest = (size_t)(frag - hend);
    memcpy(out + o, hend, rest);
    o += rest;
    return (int)o;
}

int tide__ix_encode(
        tide_obs_kind kind, const char *v, size_t n, uint8_t *out, tide_obs_kind *out_kind)
{
    *out_kind = kind;
    switch (kind) {
        case TIDE_OBS_IPV4: return parse_v4(v, n, out) ? 4 : -1;
        case TIDE_OBS_IPV6: {
            uint8_t a[16];
            if (!parse_v6(v, n, a))
                return -1;
            if (tide__ip6_is_v4mapped(a)) {
                memcpy(out, a + 12, 4);
                *out_kind = TIDE_OBS_IPV4;
                return 4;
            }
            memcpy(out, a, 16);
            return 16;
        }
        case TIDE_OBS_IP_PORT: {
            /* "1.2.3.4:449" or "[2001:db8::1]:443" */
            const char *colon = NULL;
            for (size_t i = n; i > 0; i--)
                if (v[i - 1] == ':') {
                    colon = v + i - 1;
                    break;
                }
            if (colon == NULL)
                return -1;
            unsigned long port = 0;
            const char *p = colon + 1;
            if (p == v + n || v + n - p > 5)
                return -1;
            for (; p < v + n; p++) {
                if (*p < '0' || *p > '9')
                    return -1;
                port = port * 10 + (unsigned long)(*p - '0');
            }
            if (port > 65535)
                return -1;
            size_t alen = (size_t)(colon - v);
            int k;
            if (alen >= 2 && v[0] == '[' && v[alen - 1] == ']') {
                uint8_t a[16];
                if (!parse_v6(v + 1, alen - 2, a))
                    return -1;
                if (tide__ip6_is_v4mapped(a)) {
                    memcpy(out, a + 12, 4);
                    k = 4;
                } else {
                    memcpy(out, a, 16);
                    k = 16;
                }
            } else if (parse_v4(v, alen, out)) {
                k = 4;
            } else {
                return -1;
            }
            out[k] = (uint8_t)(port >> 8);
            out[k + 1] = (uint8_t)port;
            return k + 2;
        }
        case TIDE_OBS_DOMAIN: {
            while (n > 0 && v[n - 1] == '.')
                n--;
            return lower_key(v, n, out);
        }
        case TIDE_OBS_EMAIL:
        case TIDE_OBS_URL_PATH:
            return kind == TIDE_OBS_EMAIL
                           ? lower_key(v, n, out)
                           : (n && n <= IX_MAX_KEY ? (memcpy(out, v, n), (int)n) : -1);
        case TIDE_OBS_URL: return url_key(v, n, out);
        case TIDE_OBS_MD5:
        case TIDE_OBS_JA3: return hex_key(v, n, 16, out);
        case TIDE_OBS_SHA1:
        case TIDE_OBS_X509_SHA1: {
            /* certificate fingerprints often come as aa:bb:cc... */
            if (kind == TIDE_OBS_X509_SHA1 && n == 59) {
                char t[40];
                size_t o = 0;
                for (size_t i = 0; i < n; i++)
                    if (v[i] != ':' && o < sizeof(t))
                        t[o++] = v[i];
                return o == 40 ? hex_key(t, 40, 20, out) : -1;
            }
            return hex_key(v, n, 20, out);
        }
        case TIDE_OBS_SHA256: return hex_key(v, n, 32, out);
        case TIDE_OBS_SHA512: return hex_key(v, n, 64, out);
        default: return -1;
    }
}

static size_t hex_out(const uint8_t *k, size_t n, char *buf)
{
    static const char dig[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        buf[2 * i] = dig[k[i] >> 4];
        buf[2 * i + 1] = dig[k[i] & 15];
    }
    buf[2 * n] = '\0';
    return 2 * n;
}

size_t tide__ix_value_text(
        const tide_match_index *ix, const ix_entry *e, char *buf, const char **out)
{
    const uint8_t *k = (const uint8_t *)ix->pool + e->key_off;
    size_t n = e->key_len;
    *out = buf;
    if (e->flags & IX_PATTERN_ONLY) { /* the pattern text (found by its fragments) */
        *out = (const char *)k;
        return n;
    }
    switch ((tide_obs_kind)e->kind) {
        case TIDE_OBS_IPV4: return tide__ip_format(4, k, buf);
        case TIDE_OBS_IPV6: return tide__ip_format(6, k, buf);
        case TIDE_OBS_CIDR4:
        case TIDE_OBS_CIDR6:
            return tide__cidr_format(e->kind == TIDE_OBS_CIDR4 ? 4 : 6, k, e->cidr_len, buf);
        case TIDE_OBS_IP_PORT:
            return tide__ipport_format(n == 6 ? 4 : 6, k, (unsigned)k[n - 2] << 8 | k[n - 1], buf);
        case TIDE_OBS_MD5:
        case TIDE_OBS_SHA1:
        case TIDE_OBS_SHA256:
        case TIDE_OBS_SHA512:
        case TIDE_OBS_JA3:
        case TIDE_OBS_X509_SHA1: return hex_out(k, n, buf);
        default:
            *out = (const char *)k; /* text keys are NUL-terminated in the pool */
            return n;
    }
}
