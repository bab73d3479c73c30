/*
 * ipaddr.h - the one home of IP address and CIDR text (no tide types): dotted quads (strict, with
 * leading zeros, or every inet_aton form), IPv6 (inet_pton, optionally with a zone index),
 * "addr/len" prefixes, host-bit masks, and the canonical text of an address, "addr:port",
 * "[v6]:port" and "addr/len" (inet_ntop).
 *
 * Contract: text in (pointer + length; no NUL needed, an embedded NUL never parses), family
 * (4 or 6) + network-order bytes + prefix length out, written to the caller's arrays; nothing is
 * allocated or kept, everything is thread-safe. Callers: the telemetry readers parse every address
 * of every record with tide__ip4_parse_slack (inline, one 16-byte load) and tide__ip6_parse; the
 * match index keys take dotted quads with leading zeros (tide__ip4_parse_zeros, inline) and IPv6
 * with a zone index; observables, home networks, exports, warninglists, history ranges and index
 * builds go through tide__ip_parse / tide__cidr_parse; the STIX pattern evaluator takes IPv4 in
 * inet_aton's forms (TIDE__IP_ATON, as the OASIS reference matcher does).
 *
 * Why hand-written: inet_pton is correct but it needs a NUL-terminated copy and runs for almost
 * every field of every telemetry record; dotted quads are parsed in registers (SSSE3 shuffle when
 * the CPU has it, chosen at run time; SSE2 or plain C otherwise). IPv6 stays with inet_pton.
 */
#ifndef TIDE_UTIL_IPADDR_H
#define TIDE_UTIL_IPADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Room for any text tide__ip_format / tide__ipport_format / tide__cidr_format write, NUL
 * included. */
#define TIDE__IP_TEXT_MAX 64

/* flags of tide__ip_parse, tide__ip6_parse and tide__cidr_parse */
enum {
    /* IPv4 in every form inet_aton(3) takes ("10.1", "0x7f.1", octal "010.0.0.1", ...): the STIX
     * pattern evaluator only, for parity with the reference matcher (Python socket.inet_aton) */
    TIDE__IP_ATON = 1u << 0,
    /* an IPv6 zone index ("fe80::1%eth0") is dropped; the whole text is at most 63 bytes */
    TIDE__IP_ZONE = 1u << 1,
    /* tide__cidr_parse: the "/len" part is required */
    TIDE__IP_NEED_PREFIX = 1u << 2,
};

/* Strict dotted quad: exactly four decimal octets 0-255 of 1-3 digits, no leading zero (octal
 * ambiguity), nothing else - the set inet_pton(AF_INET) takes. */
bool tide__ip4_parse(const char *p, size_t n, uint8_t out[4]);

/* IPv6 text as inet_pton(AF_INET6) takes it (hex groups, "::", an embedded dotted quad such as
 * "::ffff:1.2.3.4"); flags: TIDE__IP_ZONE. */
bool tide__ip6_parse(const char *p, size_t n, unsigned flags, uint8_t out[16]);

/* An address: 4 (out[0..3]) for a strict dotted quad (any inet_aton form with TIDE__IP_ATON),
 * 6 (out[0..15]) for IPv6, 0 for anything else. */
int tide__ip_parse(const char *p, size_t n, unsigned flags, uint8_t out[16]);

/* "addr" or "addr/len" (len: decimal digits, no sign or blank, at most 32 / 128): 4 or 6 with the
 * address in out
 * (host bits as written: see tide__ip_mask) and the prefix length in *plen (32 / 128 without
 * "/len"), 0 when the address part is no address, -1 when it is but the prefix is missing
 * (TIDE__IP_NEED_PREFIX) or bad. */
int tide__cidr_parse(const char *p, size_t n, unsigned flags, uint8_t out[16], unsigned *plen);

/* Clear the host bits of a (family 4: 4 bytes, 6: 16 bytes) past the prefix length plen. */
void tide__ip_mask(int fam, uint8_t *a, unsigned plen);

/* Whether a is an IPv4-mapped IPv6 address (::ffff:a.b.c.d; the IPv4 address is a + 12). */
static inline bool tide__ip6_is_v4mapped(const uint8_t a[16])
{
    static const uint8_t pre[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    return memcmp(a, pre, 12) == 0;
}

/* Canonical text (inet_ntop: "1.2.3.4", RFC 5952 IPv6) of the address a of family fam into out
 * (TIDE__IP_TEXT_MAX bytes), NUL-terminated; returns its length. */
size_t tide__ip_format(int fam, const uint8_t *a, char *out);
/* "1.2.3.4:443" / "[2001:db8::1]:443" (the observable canonical shape) into out, as above. */
size_t tide__ipport_format(int fam, const uint8_t *a, unsigned port, char *out);
/* "10.0.0.0/8" / "fc00::/7" into out, as above. */
size_t tide__cidr_format(int fam, const uint8_t *a, unsigned plen, char *out);

/* Decimal dotted quad with leading zeros allowed (four octets of 1-3 digits, each <= 255, read as
 * decimal: "010.001.002.003" is 10.1.2.3): the match index keys of telemetry values. */
static inline bool tide__ip4_parse_zeros(const char *s, size_t n, uint8_t out[4])
{
    size_t i = 0;
    for (int oct = 0; oct < 4; oct++) {
        if (oct) {
            if (i >= n || s[i] != '.')
                return false;
            i++;
        }
        unsigned v = 0;
        size_t d = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && d < 3) {
            v = v * 10 + (unsigned)(s[i] - '0');
            i++;
            d++;
        }
        if (d == 0 || v > 255)
            return false;
        out[oct] = (uint8_t)v;
    }
    return i == n;
}

/* ---- the strict dotted quad in registers (inline: the telemetry readers parse one or two
 * addresses per record, and as a call it cost a dozen instructions of saved registers) ---- */
#if defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__))
#define TIDE__IP4_SIMD 1

static inline uint64_t tide__ip_ld64(const char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

static inline uint32_t tide__ip_ld32(const char *p)
{
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

/* lo:hi as one vector, without a trip through memory where the ISA allows */
static inline __m128i tide__ip_pack2x64(uint64_t lo, uint64_t hi)
{
#ifdef __x86_64__
    return _mm_unpacklo_epi64(_mm_cvtsi64_si128((long long)lo), _mm_cvtsi64_si128((long long)hi));
#else
    return _mm_set_epi64x((long long)hi, (long long)lo);
#endif
}

/* The four octets of a dotted quad whose octet lengths l0..l3 (1-3) give idx = (l0-1)*27 +
 * (l1-1)*9 + (l2-1)*3 + (l3-1), at once (SSSE3: call only when the CPU has it). False for an octet
 * over 255 or with a leading zero. */
__attribute__((target("ssse3"))) bool tide__ip4_octets_ssse3(
        __m128i x, unsigned idx, uint8_t out[4]);
/* The same without SSSE3, for the text lo:hi (bytes 0..15) with dots at d1 < d2 < d3 and length n
 * (out of line, so that the common path needs no saved registers). */
bool tide__ip4_octets_plain(uint64_t lo, uint64_t hi, unsigned d1, unsigned d2, unsigned d3,
        unsigned n, uint8_t out[4]);

/* tide__ip4_parse inline: the text is assembled from two fixed-size loads inside [p, p + n) (no
 * read past the end), digits and dots are classified by one compare each. */
__attribute__((always_inline)) static inline bool tide__ip4_parse_in(
        const char *p, size_t n, uint8_t out[4])
{
    if (n - 7 > 8) /* 7..15 bytes */
        return false;
    uint64_t lo, hi;
    if (n >= 8) {
        lo = tide__ip_ld64(p);
        hi = (tide__ip_ld64(p + n - 8) >> 8) >> ((15 - n) * 8); /* bytes 8..n-1 */
    } else {
        lo = (uint64_t)tide__ip_ld32(p) | (uint64_t)tide__ip_ld32(p + 3) << 24;
        hi = 0;
    }
    __m128i x = tide__ip_pack2x64(lo, hi);
    __m128i t = _mm_sub_epi8(x, _mm_set1_epi8('0'));
    unsigned dig =
            (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(9)), t));
    unsigned dots = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('.')));
    unsigned valid = (1u << n) - 1;
    unsigned r2 = dots & (dots - 1);
    r2 &= r2 - 1; /* the third dot and later */
    if ((dig | dots) != valid || r2 == 0 || (r2 & (r2 - 1)) != 0)
        return false;
    unsigned d1 = (unsigned)__builtin_ctz(dots);
    dots &= dots - 1;
    unsigned d2 = (unsigned)__builtin_ctz(dots);
    unsigned d3 = (unsigned)__builtin_ctz(r2);
    if (__builtin_expect(__builtin_cpu_supports("ssse3"), 1)) {
        unsigned l0 = d1 - 1, l1 = d2 - d1 - 2, l2 = d3 - d2 - 2, l3 = (unsigned)n - d3 - 2;
        if ((l0 > 2) | (l1 > 2) | (l2 > 2) | (l3 > 2)) /* an octet of 0 or 4+ digits */
            return false;
        return tide__ip4_octets_ssse3(x, l0 * 27 + l1 * 9 + l2 * 3 + l3, out);
    }
    return tide__ip4_octets_plain(lo, hi, d1, d2, d3, (unsigned)n, out);
}

/* tide__ip4_parse for text with 16 readable bytes from p whatever n is (the telemetry line buffer
 * and scratch have 64 past their data): the 16 bytes at p are one load (the bytes from n on are
 * masked off) instead of two and a variable shift. Same results as tide__ip4_parse. */
__attribute__((always_inline)) static inline bool tide__ip4_parse_slack(
        const char *p, size_t n, uint8_t out[4])
{
    if (__builtin_expect(__builtin_cpu_supports("ssse3"), 1)) {
        if (n - 7 > 8) /* 7..15 bytes */
            return false;
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i t = _mm_sub_epi8(x, _mm_set1_epi8('0'));
        unsigned valid = (1u << n) - 1;
        unsigned dig =
                (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(9)), t)) &
                valid;
        unsigned dots = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('.'))) & valid;
        unsigned r2 = dots & (dots - 1);
        r2 &= r2 - 1; /* the third dot and later */
        if ((dig | dots) != valid || r2 == 0 || (r2 & (r2 - 1)) != 0)
            return false;
        unsigned d1 = (unsigned)__builtin_ctz(dots);
        dots &= dots - 1;
        unsigned d2 = (unsigned)__builtin_ctz(dots);
        unsigned d3 = (unsigned)__builtin_ctz(r2);
        unsigned l0 = d1 - 1, l1 = d2 - d1 - 2, l2 = d3 - d2 - 2, l3 = (unsigned)n - d3 - 2;
        if ((l0 > 2) | (l1 > 2) | (l2 > 2) | (l3 > 2)) /* an octet of 0 or 4+ digits */
            return false;
        return tide__ip4_octets_ssse3(x, l0 * 27 + l1 * 9 + l2 * 3 + l3, out);
    }
    return tide__ip4_parse_in(p, n, out);
}
#else
static inline bool tide__ip4_parse_slack(const char *p, size_t n, uint8_t out[4])
{
    return tide__ip4_parse(p, n, out);
}
#endif

#endif
