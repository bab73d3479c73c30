/*
 * ipaddr.c - IP address and CIDR text (see ipaddr.h for the contract): the out-of-line parts of
 * the dotted-quad parser (the SSSE3 octet shuffle and its pattern table, the plain-C octets),
 * IPv6 through inet_pton / inet_aton's IPv4 forms on a NUL-terminated copy, prefix lengths,
 * masks, and the canonical text through inet_ntop.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#if defined(__GNUC__) || defined(__clang__)
#include <tmmintrin.h>
#endif
#endif

#include "util/ipaddr.h"

#ifdef TIDE__IP4_SIMD
/* value of the octet at bytes s..d of the text lo:hi (1-3 digits, already checked to be digits);
 * > 255 when too long, empty or with a leading zero. Selects, not branches. */
static inline unsigned octet_at(uint64_t lo, uint64_t hi, unsigned s, unsigned d)
{
    unsigned len = d - s;
    unsigned bad = len - 1u > 2u;
    len ^= (len ^ 1u) & (0u - bad); /* 1 when bad, to keep the shifts defined */
    uint64_t m = (uint64_t)0 - (uint64_t)(s < 8);
    uint64_t a = (lo & m) | (hi & ~m), b = hi & m;
    unsigned sh = (s & 7) * 8;
    uint32_t w = (uint32_t)((a >> sh) | ((b << 1) << (63 - sh))); /* bytes s..s+3 */
    w -= 0x303030u;                                               /* a borrow only runs upwards */
    bad |= (unsigned)(len > 1) & (unsigned)((w & 0xFF) == 0);
    w = (w << (8 * (3 - len))) & 0xFFFFFFu; /* right-aligned: hundreds, tens, ones */
    return ((w & 0xFF) * 100u + ((w >> 8) & 0xFF) * 10u + (w >> 16)) | bad << 10;
}

#define Z 0x80
/* For the octet lengths l0..l3 (index (l0-1)*27+(l1-1)*9+(l2-1)*3+(l3-1)): the pshufb pattern that
 * puts each octet's hundreds, tens and ones digits in its 4-byte lane, and the one that picks
 * the first digit of each octet longer than one digit (generated; 0x80 = zero). */
static const uint8_t ip4_pat[81][2][16] = {
    { { Z, Z, 0, Z, Z, Z, 2, Z, Z, Z, 4, Z, Z, Z, 6, Z },
            { Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, Z, 0, Z, Z, Z, 2, Z, Z, Z, 4, Z, Z, 6, 7, Z },
            { Z, Z, Z, 6, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, Z, 0, Z, Z, Z, 2, Z, Z, Z, 4, Z, 6, 7, 8, Z },
            { Z, Z, Z, 6, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, Z, 0, Z, Z, Z, 2, Z, Z, 4, 5, Z, Z, Z, 7, Z },
            { Z, Z, 4, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, Z, 0, Z, Z, Z, 2, Z, Z, 4, 5, Z, Z, 7, 8, Z },
            { Z, Z, 4, 7, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, Z, 0, Z, Z, Z, 2, Z, Z, 4, 5, Z, 7, 8, 9, Z },
            { Z, Z, 4, 7, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, Z, 0, Z, Z, Z, 2, Z, 4, 5, 6, Z, Z, Z, 8, Z },
            { Z, Z, 4, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, Z, 0, Z, Z, Z, 2, Z, 4, 5, 6, Z, Z, 8, 9, Z },
            { Z, Z, 4, 8, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, Z, 0, Z, Z, Z, 2, Z, 4, 5, 6, Z, 8, 9, 10, Z },
            { Z, Z, 4, 8, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, Z, 0, Z, Z, 2, 3, Z, Z, Z, 5, Z, Z, Z, 7, Z },
            { Z, 2, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, Z, 0, Z, Z, 2, 3, Z, Z, Z, 5, Z, Z, 7, 8, Z },
            { Z, 2, Z, 7, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, Z, 0, Z, Z, 2, 3, Z, Z, Z, 5, Z, 7, 8, 9, Z },
            { Z, 2, Z, 7, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, Z, 0, Z, Z, 2, 3, Z, Z, 5, 6, Z, Z, Z, 8, Z },
            { Z, 2, 5, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, Z, 0, Z, Z, 2, 3, Z, Z, 5, 6, Z, Z, 8, 9, Z },
            { Z, 2, 5, 8, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, Z, 0, Z, Z, 2, 3, Z, Z, 5, 6, Z, 8, 9, 10, Z },
            { Z, 2, 5, 8, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, Z, 0, Z, Z, 2, 3, Z, 5, 6, 7, Z, Z, Z, 9, Z },
            { Z, 2, 5, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, Z, 0, Z, Z, 2, 3, Z, 5, 6, 7, Z, Z, 9, 10, Z },
            { Z, 2, 5, 9, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, Z, 0, Z, Z, 2, 3, Z, 5, 6, 7, Z, 9, 10, 11, Z },
            { Z, 2, 5, 9, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, Z, 0, Z, 2, 3, 4, Z, Z, Z, 6, Z, Z, Z, 8, Z },
            { Z, 2, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, Z, 0, Z, 2, 3, 4, Z, Z, Z, 6, Z, Z, 8, 9, Z },
            { Z, 2, Z, 8, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, Z, 0, Z, 2, 3, 4, Z, Z, Z, 6, Z, 8, 9, 10, Z },
            { Z, 2, Z, 8, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, Z, 0, Z, 2, 3, 4, Z, Z, 6, 7, Z, Z, Z, 9, Z },
            { Z, 2, 6, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, Z, 0, Z, 2, 3, 4, Z, Z, 6, 7, Z, Z, 9, 10, Z },
            { Z, 2, 6, 9, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, Z, 0, Z, 2, 3, 4, Z, Z, 6, 7, Z, 9, 10, 11, Z },
            { Z, 2, 6, 9, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, Z, 0, Z, 2, 3, 4, Z, 6, 7, 8, Z, Z, Z, 10, Z },
            { Z, 2, 6, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, Z, 0, Z, 2, 3, 4, Z, 6, 7, 8, Z, Z, 10, 11, Z },
            { Z, 2, 6, 10, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, Z, 0, Z, 2, 3, 4, Z, 6, 7, 8, Z, 10, 11, 12, Z },
            { Z, 2, 6, 10, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, 0, 1, Z, Z, Z, 3, Z, Z, Z, 5, Z, Z, Z, 7, Z },
            { 0, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, 0, 1, Z, Z, Z, 3, Z, Z, Z, 5, Z, Z, 7, 8, Z },
            { 0, Z, Z, 7, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, 0, 1, Z, Z, Z, 3, Z, Z, Z, 5, Z, 7, 8, 9, Z },
            { 0, Z, Z, 7, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, 0, 1, Z, Z, Z, 3, Z, Z, 5, 6, Z, Z, Z, 8, Z },
            { 0, Z, 5, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, 0, 1, Z, Z, Z, 3, Z, Z, 5, 6, Z, Z, 8, 9, Z },
            { 0, Z, 5, 8, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, 0, 1, Z, Z, Z, 3, Z, Z, 5, 6, Z, 8, 9, 10, Z },
            { 0, Z, 5, 8, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, 0, 1, Z, Z, Z, 3, Z, 5, 6, 7, Z, Z, Z, 9, Z },
            { 0, Z, 5, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, 0, 1, Z, Z, Z, 3, Z, 5, 6, 7, Z, Z, 9, 10, Z },
            { 0, Z, 5, 9, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, 0, 1, Z, Z, Z, 3, Z, 5, 6, 7, Z, 9, 10, 11, Z },
            { 0, Z, 5, 9, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, 0, 1, Z, Z, 3, 4, Z, Z, Z, 6, Z, Z, Z, 8, Z },
            { 0, 3, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, 0, 1, Z, Z, 3, 4, Z, Z, Z, 6, Z, Z, 8, 9, Z },
            { 0, 3, Z, 8, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, 0, 1, Z, Z, 3, 4, Z, Z, Z, 6, Z, 8, 9, 10, Z },
            { 0, 3, Z, 8, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, 0, 1, Z, Z, 3, 4, Z, Z, 6, 7, Z, Z, Z, 9, Z },
            { 0, 3, 6, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, 0, 1, Z, Z, 3, 4, Z, Z, 6, 7, Z, Z, 9, 10, Z },
            { 0, 3, 6, 9, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, 0, 1, Z, Z, 3, 4, Z, Z, 6, 7, Z, 9, 10, 11, Z },
            { 0, 3, 6, 9, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, 0, 1, Z, Z, 3, 4, Z, 6, 7, 8, Z, Z, Z, 10, Z },
            { 0, 3, 6, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, 0, 1, Z, Z, 3, 4, Z, 6, 7, 8, Z, Z, 10, 11, Z },
            { 0, 3, 6, 10, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, 0, 1, Z, Z, 3, 4, Z, 6, 7, 8, Z, 10, 11, 12, Z },
            { 0, 3, 6, 10, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, 0, 1, Z, 3, 4, 5, Z, Z, Z, 7, Z, Z, Z, 9, Z },
            { 0, 3, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, 0, 1, Z, 3, 4, 5, Z, Z, Z, 7, Z, Z, 9, 10, Z },
            { 0, 3, Z, 9, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, 0, 1, Z, 3, 4, 5, Z, Z, Z, 7, Z, 9, 10, 11, Z },
            { 0, 3, Z, 9, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, 0, 1, Z, 3, 4, 5, Z, Z, 7, 8, Z, Z, Z, 10, Z },
            { 0, 3, 7, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, 0, 1, Z, 3, 4, 5, Z, Z, 7, 8, Z, Z, 10, 11, Z },
            { 0, 3, 7, 10, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, 0, 1, Z, 3, 4, 5, Z, Z, 7, 8, Z, 10, 11, 12, Z },
            { 0, 3, 7, 10, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, 0, 1, Z, 3, 4, 5, Z, 7, 8, 9, Z, Z, Z, 11, Z },
            { 0, 3, 7, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, 0, 1, Z, 3, 4, 5, Z, 7, 8, 9, Z, Z, 11, 12, Z },
            { 0, 3, 7, 11, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { Z, 0, 1, Z, 3, 4, 5, Z, 7, 8, 9, Z, 11, 12, 13, Z },
            { 0, 3, 7, 11, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { 0, 1, 2, Z, Z, Z, 4, Z, Z, Z, 6, Z, Z, Z, 8, Z },
            { 0, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { 0, 1, 2, Z, Z, Z, 4, Z, Z, Z, 6, Z, Z, 8, 9, Z },
            { 0, Z, Z, 8, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { 0, 1, 2, Z, Z, Z, 4, Z, Z, Z, 6, Z, 8, 9, 10, Z },
            { 0, Z, Z, 8, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { 0, 1, 2, Z, Z, Z, 4, Z, Z, 6, 7, Z, Z, Z, 9, Z },
            { 0, Z, 6, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { 0, 1, 2, Z, Z, Z, 4, Z, Z, 6, 7, Z, Z, 9, 10, Z },
            { 0, Z, 6, 9, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { 0, 1, 2, Z, Z, Z, 4, Z, Z, 6, 7, Z, 9, 10, 11, Z },
            { 0, Z, 6, 9, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { 0, 1, 2, Z, Z, Z, 4, Z, 6, 7, 8, Z, Z, Z, 10, Z },
            { 0, Z, 6, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { 0, 1, 2, Z, Z, Z, 4, Z, 6, 7, 8, Z, Z, 10, 11, Z },
            { 0, Z, 6, 10, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { 0, 1, 2, Z, Z, Z, 4, Z, 6, 7, 8, Z, 10, 11, 12, Z },
            { 0, Z, 6, 10, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { 0, 1, 2, Z, Z, 4, 5, Z, Z, Z, 7, Z, Z, Z, 9, Z },
            { 0, 4, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { 0, 1, 2, Z, Z, 4, 5, Z, Z, Z, 7, Z, Z, 9, 10, Z },
            { 0, 4, Z, 9, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { 0, 1, 2, Z, Z, 4, 5, Z, Z, Z, 7, Z, 9, 10, 11, Z },
            { 0, 4, Z, 9, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { 0, 1, 2, Z, Z, 4, 5, Z, Z, 7, 8, Z, Z, Z, 10, Z },
            { 0, 4, 7, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { 0, 1, 2, Z, Z, 4, 5, Z, Z, 7, 8, Z, Z, 10, 11, Z },
            { 0, 4, 7, 10, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { 0, 1, 2, Z, Z, 4, 5, Z, Z, 7, 8, Z, 10, 11, 12, Z },
            { 0, 4, 7, 10, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { 0, 1, 2, Z, Z, 4, 5, Z, 7, 8, 9, Z, Z, Z, 11, Z },
            { 0, 4, 7, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { 0, 1, 2, Z, Z, 4, 5, Z, 7, 8, 9, Z, Z, 11, 12, Z },
            { 0, 4, 7, 11, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { 0, 1, 2, Z, Z, 4, 5, Z, 7, 8, 9, Z, 11, 12, 13, Z },
            { 0, 4, 7, 11, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { 0, 1, 2, Z, 4, 5, 6, Z, Z, Z, 8, Z, Z, Z, 10, Z },
            { 0, 4, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { 0, 1, 2, Z, 4, 5, 6, Z, Z, Z, 8, Z, Z, 10, 11, Z },
            { 0, 4, Z, 10, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { 0, 1, 2, Z, 4, 5, 6, Z, Z, Z, 8, Z, 10, 11, 12, Z },
            { 0, 4, Z, 10, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { 0, 1, 2, Z, 4, 5, 6, Z, Z, 8, 9, Z, Z, Z, 11, Z },
            { 0, 4, 8, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { 0, 1, 2, Z, 4, 5, 6, Z, Z, 8, 9, Z, Z, 11, 12, Z },
            { 0, 4, 8, 11, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { 0, 1, 2, Z, 4, 5, 6, Z, Z, 8, 9, Z, 11, 12, 13, Z },
            { 0, 4, 8, 11, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { 0, 1, 2, Z, 4, 5, 6, Z, 8, 9, 10, Z, Z, Z, 12, Z },
            { 0, 4, 8, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { 0, 1, 2, Z, 4, 5, 6, Z, 8, 9, 10, Z, Z, 12, 13, Z },
            { 0, 4, 8, 12, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
    { { 0, 1, 2, Z, 4, 5, 6, Z, 8, 9, 10, Z, 12, 13, 14, Z },
            { 0, 4, 8, 12, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z } },
};
#undef Z

/* The digits are shuffled into one lane per octet by the pattern of its lengths and weighted
 * 100/10/1 by two multiply-adds. */
__attribute__((target("ssse3"))) bool tide__ip4_octets_ssse3(
        __m128i x, unsigned idx, uint8_t out[4])
{
    const __m128i sh = _mm_loadu_si128((const __m128i *)(const void *)ip4_pat[idx][0]);
    const __m128i fi = _mm_loadu_si128((const __m128i *)(const void *)ip4_pat[idx][1]);
    __m128i y = _mm_shuffle_epi8(_mm_sub_epi8(x, _mm_set1_epi8('0')), sh);
    __m128i w = _mm_maddubs_epi16(
            y, _mm_setr_epi8(100, 10, 1, 0, 100, 10, 1, 0, 100, 10, 1, 0, 100, 10, 1, 0));
    __m128i v = _mm_madd_epi16(w, _mm_set1_epi16(1)); /* one 32-bit value per octet */
    __m128i bad = _mm_or_si128(_mm_cmpgt_epi32(v, _mm_set1_epi32(255)),
            _mm_cmpeq_epi8(_mm_shuffle_epi8(x, fi), _mm_set1_epi8('0')));
    if (_mm_movemask_epi8(bad))
        return false;
    __m128i b = _mm_packus_epi16(_mm_packs_epi32(v, v), v);
    uint32_t o = (uint32_t)_mm_cvtsi128_si32(b);
    memcpy(out, &o, 4);
    return true;
}

__attribute__((noinline)) bool tide__ip4_octets_plain(
        uint64_t lo, uint64_t hi, unsigned d1, unsigned d2, unsigned d3, unsigned n, uint8_t out[4])
{
    unsigned v0 = octet_at(lo, hi, 0, d1), v1 = octet_at(lo, hi, d1 + 1, d2),
             v2 = octet_at(lo, hi, d2 + 1, d3), v3 = octet_at(lo, hi, d3 + 1, n);
    if ((v0 | v1 | v2 | v3) > 255)
        return false;
    out[0] = (uint8_t)v0;
    out[1] = (uint8_t)v1;
    out[2] = (uint8_t)v2;
    out[3] = (uint8_t)v3;
    return true;
}

bool tide__ip4_parse(const char *p, size_t n, uint8_t out[4])
{
    return tide__ip4_parse_in(p, n, out);
}
#else
bool tide__ip4_parse(const char *p, size_t n, uint8_t out[4])
{
    if (n < 7 || n > 15)
        return false;
    const char *e = p + n;
    for (int part = 0; part < 4; part++) {
        if (part) {
            if (p >= e || *p != '.')
                return false;
            p++;
        }
        if (p >= e)
            return false;
        unsigned v = (unsigned)(unsigned char)*p - '0';
        if (v > 9)
            return false;
        p++;
        if (p < e && (unsigned)(unsigned char)*p - '0' <= 9) {
            if (v == 0)
                return false;
            v = v * 10 + ((unsigned)(unsigned char)*p++ - '0');
            if (p < e && (unsigned)(unsigned char)*p - '0' <= 9) {
                v = v * 10 + ((unsigned)(unsigned char)*p++ - '0');
                if (v > 255)
                    return false;
            }
        }
        out[part] = (uint8_t)v;
    }
    return p == e;
}
#endif

/* p/n as a C string in tmp (cap bytes); false when too long or when p holds a NUL (the library
 * parsers would stop there and take a prefix of the text) */
static bool cstr(const char *p, size_t n, char *tmp, size_t cap)
{
    if (n >= cap || memchr(p, '\0', n) != NULL)
        return false;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    return true;
}

/* out of line: rare next to IPv4, and it needs a stack buffer */
__attribute__((noinline)) bool tide__ip6_parse(
        const char *p, size_t n, unsigned flags, uint8_t out[16])
{
    if (flags & TIDE__IP_ZONE) {
        if (n > 63)
            return false;
        const char *pct = memchr(p, '%', n);
        if (pct)
            n = (size_t)(pct - p);
    }
    /* the longest text inet_pton takes is 45 bytes ("ffff:...:ffff:255.255.255.255") and every
     * IPv6 text holds a ':' */
    char tmp[48];
    if (n < 2 || n > 45 || memchr(p, ':', n) == NULL || !cstr(p, n, tmp, sizeof(tmp)))
        return false;
    return inet_pton(AF_INET6, tmp, out) == 1;
}

/* every form inet_aton(3) takes: 1-4 parts, decimal / octal / hex; glibc also ends the address
 * at a blank and ignores what follows, as Python's socket.inet_aton does */
static bool ip4_aton(const char *p, size_t n, uint8_t out[4])
{
    char tmp[128];
    struct in_addr a;
    if (!cstr(p, n, tmp, sizeof(tmp)) || inet_aton(tmp, &a) == 0)
        return false;
    memcpy(out, &a.s_addr, 4);
    return true;
}

int tide__ip_parse(const char *p, size_t n, unsigned flags, uint8_t out[16])
{
    if (flags & TIDE__IP_ATON) {
        if (memchr(p, ':', n) == NULL)
            return ip4_aton(p, n, out) ? 4 : 0;
    } else if (tide__ip4_parse(p, n, out))
        return 4;
    return tide__ip6_parse(p, n, flags, out) ? 6 : 0;
}

int tide__cidr_parse(const char *p, size_t n, unsigned flags, uint8_t out[16], unsigned *plen)
{
    const char *slash = memchr(p, '/', n);
    size_t an = slash ? (size_t)(slash - p) : n;
    int fam = tide__ip_parse(p, an, flags, out);
    if (fam == 0)
        return 0;
    unsigned width = fam == 4 ? 32 : 128;
    if (slash == NULL) {
        if (flags & TIDE__IP_NEED_PREFIX)
            return -1;
        *plen = width;
        return fam;
    }
    const char *d = slash + 1;
    size_t dn = n - an - 1;
    if (dn == 0)
        return -1;
    unsigned v = 0;
    for (size_t i = 0; i < dn; i++) {
        unsigned dg = (unsigned)(unsigned char)d[i] - '0';
        if (dg > 9)
            return -1;
        v = v * 10 + dg;
        if (v > width) /* (also keeps v from overflowing) */
            return -1;
    }
    *plen = v;
    return fam;
}

void tide__ip_mask(int fam, uint8_t *a, unsigned plen)
{
    unsigned bytes = fam == 4 ? 4 : 16;
    for (unsigned i = 0; i < bytes; i++) {
        unsigned bit = i * 8;
        if (bit >= plen)
            a[i] = 0;
        else if (plen - bit < 8)
            a[i] &= (uint8_t)(0xFF << (8 - (plen - bit)));
    }
}

/* Decimal digits of v at out; returns their count. By hand, as are the IPv4 forms
 * below: glibc's inet_ntop formats an IPv4 address with sprintf, and a match run that reports
 * millions of sightings formats one or two addresses per sighting (a third of its CPU was
 * printf's before). */
static size_t dec(unsigned v, char *out)
{
    char b[12];
    size_t n = 0;
    do {
        b[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < n; i++)
        out[i] = b[n - 1 - i];
    return n;
}

/* one octet's digits, no loop (the divisions by constants are multiplies) */
static size_t octet(unsigned v, char *out)
{
    if (v >= 100) {
        out[0] = (char)('0' + v / 100);
        out[1] = (char)('0' + v / 10 % 10);
        out[2] = (char)('0' + v % 10);
        return 3;
    }
    if (v >= 10) {
        out[0] = (char)('0' + v / 10);
        out[1] = (char)('0' + v % 10);
        return 2;
    }
    out[0] = (char)('0' + v);
    return 1;
}

static size_t ip4_text(const uint8_t *a, char *out)
{
    size_t l = octet(a[0], out);
    out[l++] = '.';
    l += octet(a[1], out + l);
    out[l++] = '.';
    l += octet(a[2], out + l);
    out[l++] = '.';
    l += octet(a[3], out + l);
    out[l] = '\0';
    return l;
}

size_t tide__ip_format(int fam, const uint8_t *a, char *out)
{
    if (fam == 4)
        return ip4_text(a, out);
    if (inet_ntop(AF_INET6, a, out, TIDE__IP_TEXT_MAX) == NULL) {
        out[0] = '\0';
        return 0;
    }
    return strlen(out);
}

size_t tide__ipport_format(int fam, const uint8_t *a, unsigned port, char *out)
{
    char t[TIDE__IP_TEXT_MAX];
    size_t l = tide__ip_format(fam, a, t), n = 0;
    if (fam != 4)
        out[n++] = '[';
    memcpy(out + n, t, l);
    n += l;
    if (fam != 4)
        out[n++] = ']';
    out[n++] = ':';
    n += dec(port, out + n);
    out[n] = '\0';
    return n;
}

size_t tide__cidr_format(int fam, const uint8_t *a, unsigned plen, char *out)
{
    size_t l = tide__ip_format(fam, a, out);
    out[l++] = '/';
    l += dec(plen, out + l);
    out[l] = '\0';
    return l;
}
