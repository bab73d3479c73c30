/*
 * tel_reader.c - the telemetry reader (SPEC C2): input layer (read(2) in L2-sized pieces into a
 * line buffer with readable slack past its data, gzip via zlib with multi-member support, zstd
 * via ZSTD_decompressStream, detected by magic bytes), line splitting in one SSE2 pass that also
 * tells whether the line is ASCII (only other lines get the UTF-8 check), JSON-array files read
 * element by element, the line cap, follow mode, format detection per file, and the helpers the
 * per-format parsers share (observation list, scratch, IP syntax with the per-record parse cache
 * for the home-net check, host names, exact timestamps with the last second cached, host
 * choice).
 *
 * Why hand-written: inet_pton and strptime/timegm would be correct but they are called for
 * almost every field of every record; dotted quads are parsed here in registers (SSSE3 shuffle
 * when the CPU has it, chosen at run time; SSE2 or plain C otherwise) and host names classified
 * 16 bytes at a time, which is what lets the readers keep up with the matcher.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#if defined(__GNUC__) || defined(__clang__)
#include <tmmintrin.h>
#endif
#endif

#include "telemetry/tel_int.h"
#include "tide/errors.h"

static const char *const fmt_names[TIDE_TEL__COUNT] = {"auto", "zeek", "zeek-json", "eve",
    "sysmon", "squid", "weblog", "syslog", "cef", "ndjson"};

const char *tide_tel_format_name(tide_tel_format f)
{
    if ((int)f < 0 || f >= TIDE_TEL__COUNT)
        return "unknown";
    return fmt_names[f];
}

int tide_tel_format_parse(const char *name, tide_tel_format *out)
{
    if (name == NULL)
        return tide_error_set(TIDE_EINVAL, "telemetry format: NULL name");
    for (int i = 0; i < TIDE_TEL__COUNT; i++)
        if (strcmp(fmt_names[i], name) == 0) {
            *out = (tide_tel_format)i;
            return 0;
        }
    if (strcmp(name, "zeek-tsv") == 0) {
        *out = TIDE_TEL_ZEEK_TSV;
        return 0;
    }
    if (strcmp(name, "suricata") == 0) {
        *out = TIDE_TEL_EVE;
        return 0;
    }
    return tide_error_set(TIDE_EINVAL,
            "unknown telemetry format \"%s\" (auto, zeek, zeek-json, eve, sysmon, squid, weblog, "
            "syslog, cef, ndjson)",
            name);
}

/* ------------------------------------------------------------------ small helpers */

const unsigned char tide__hex_tab[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1};

/* Dotted quad, exactly four octets 0-255 without leading zeros (octal ambiguity). The text stays
 * in registers: it is assembled from two fixed-size loads inside [p, p+n) (no memcpy call, no
 * read past the end), digits and dots are classified by one compare each, and every octet is
 * shifted out and right-aligned by its length (no branch per digit or per octet length). */
static inline uint64_t ld64(const char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

static inline uint32_t ld32(const char *p)
{
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

#ifdef __SSE2__
/* lo:hi as one vector, without a trip through memory where the ISA allows */
static inline __m128i pack2x64(uint64_t lo, uint64_t hi)
{
#ifdef __x86_64__
    return _mm_unpacklo_epi64(_mm_cvtsi64_si128((long long)lo), _mm_cvtsi64_si128((long long)hi));
#else
    return _mm_set_epi64x((long long)hi, (long long)lo);
#endif
}

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

#if defined(__GNUC__) || defined(__clang__)
#define TEL_IP4_SSSE3 1
#define Z 0x80
/* For the octet lengths l0..l3 (index (l0-1)*27+(l1-1)*9+(l2-1)*3+(l3-1)): the pshufb pattern that
 * puts each octet's hundreds, tens and ones digits in its 4-byte lane, and the one that picks
 * the first digit of each octet longer than one digit (generated; 0x80 = zero). */
static const uint8_t ip4_pat[81][2][16] = {
    {{Z, Z, 0, Z, Z, Z, 2, Z, Z, Z, 4, Z, Z, Z, 6, Z},
        {Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, Z, 0, Z, Z, Z, 2, Z, Z, Z, 4, Z, Z, 6, 7, Z},
        {Z, Z, Z, 6, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, Z, 0, Z, Z, Z, 2, Z, Z, Z, 4, Z, 6, 7, 8, Z},
        {Z, Z, Z, 6, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, Z, 0, Z, Z, Z, 2, Z, Z, 4, 5, Z, Z, Z, 7, Z},
        {Z, Z, 4, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, Z, 0, Z, Z, Z, 2, Z, Z, 4, 5, Z, Z, 7, 8, Z},
        {Z, Z, 4, 7, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, Z, 0, Z, Z, Z, 2, Z, Z, 4, 5, Z, 7, 8, 9, Z},
        {Z, Z, 4, 7, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, Z, 0, Z, Z, Z, 2, Z, 4, 5, 6, Z, Z, Z, 8, Z},
        {Z, Z, 4, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, Z, 0, Z, Z, Z, 2, Z, 4, 5, 6, Z, Z, 8, 9, Z},
        {Z, Z, 4, 8, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, Z, 0, Z, Z, Z, 2, Z, 4, 5, 6, Z, 8, 9, 10, Z},
        {Z, Z, 4, 8, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, Z, 0, Z, Z, 2, 3, Z, Z, Z, 5, Z, Z, Z, 7, Z},
        {Z, 2, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, Z, 0, Z, Z, 2, 3, Z, Z, Z, 5, Z, Z, 7, 8, Z},
        {Z, 2, Z, 7, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, Z, 0, Z, Z, 2, 3, Z, Z, Z, 5, Z, 7, 8, 9, Z},
        {Z, 2, Z, 7, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, Z, 0, Z, Z, 2, 3, Z, Z, 5, 6, Z, Z, Z, 8, Z},
        {Z, 2, 5, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, Z, 0, Z, Z, 2, 3, Z, Z, 5, 6, Z, Z, 8, 9, Z},
        {Z, 2, 5, 8, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, Z, 0, Z, Z, 2, 3, Z, Z, 5, 6, Z, 8, 9, 10, Z},
        {Z, 2, 5, 8, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, Z, 0, Z, Z, 2, 3, Z, 5, 6, 7, Z, Z, Z, 9, Z},
        {Z, 2, 5, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, Z, 0, Z, Z, 2, 3, Z, 5, 6, 7, Z, Z, 9, 10, Z},
        {Z, 2, 5, 9, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, Z, 0, Z, Z, 2, 3, Z, 5, 6, 7, Z, 9, 10, 11, Z},
        {Z, 2, 5, 9, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, Z, 0, Z, 2, 3, 4, Z, Z, Z, 6, Z, Z, Z, 8, Z},
        {Z, 2, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, Z, 0, Z, 2, 3, 4, Z, Z, Z, 6, Z, Z, 8, 9, Z},
        {Z, 2, Z, 8, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, Z, 0, Z, 2, 3, 4, Z, Z, Z, 6, Z, 8, 9, 10, Z},
        {Z, 2, Z, 8, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, Z, 0, Z, 2, 3, 4, Z, Z, 6, 7, Z, Z, Z, 9, Z},
        {Z, 2, 6, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, Z, 0, Z, 2, 3, 4, Z, Z, 6, 7, Z, Z, 9, 10, Z},
        {Z, 2, 6, 9, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, Z, 0, Z, 2, 3, 4, Z, Z, 6, 7, Z, 9, 10, 11, Z},
        {Z, 2, 6, 9, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, Z, 0, Z, 2, 3, 4, Z, 6, 7, 8, Z, Z, Z, 10, Z},
        {Z, 2, 6, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, Z, 0, Z, 2, 3, 4, Z, 6, 7, 8, Z, Z, 10, 11, Z},
        {Z, 2, 6, 10, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, Z, 0, Z, 2, 3, 4, Z, 6, 7, 8, Z, 10, 11, 12, Z},
        {Z, 2, 6, 10, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, 0, 1, Z, Z, Z, 3, Z, Z, Z, 5, Z, Z, Z, 7, Z},
        {0, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, 0, 1, Z, Z, Z, 3, Z, Z, Z, 5, Z, Z, 7, 8, Z},
        {0, Z, Z, 7, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, 0, 1, Z, Z, Z, 3, Z, Z, Z, 5, Z, 7, 8, 9, Z},
        {0, Z, Z, 7, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, 0, 1, Z, Z, Z, 3, Z, Z, 5, 6, Z, Z, Z, 8, Z},
        {0, Z, 5, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, 0, 1, Z, Z, Z, 3, Z, Z, 5, 6, Z, Z, 8, 9, Z},
        {0, Z, 5, 8, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, 0, 1, Z, Z, Z, 3, Z, Z, 5, 6, Z, 8, 9, 10, Z},
        {0, Z, 5, 8, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, 0, 1, Z, Z, Z, 3, Z, 5, 6, 7, Z, Z, Z, 9, Z},
        {0, Z, 5, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, 0, 1, Z, Z, Z, 3, Z, 5, 6, 7, Z, Z, 9, 10, Z},
        {0, Z, 5, 9, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, 0, 1, Z, Z, Z, 3, Z, 5, 6, 7, Z, 9, 10, 11, Z},
        {0, Z, 5, 9, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, 0, 1, Z, Z, 3, 4, Z, Z, Z, 6, Z, Z, Z, 8, Z},
        {0, 3, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, 0, 1, Z, Z, 3, 4, Z, Z, Z, 6, Z, Z, 8, 9, Z},
        {0, 3, Z, 8, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, 0, 1, Z, Z, 3, 4, Z, Z, Z, 6, Z, 8, 9, 10, Z},
        {0, 3, Z, 8, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, 0, 1, Z, Z, 3, 4, Z, Z, 6, 7, Z, Z, Z, 9, Z},
        {0, 3, 6, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, 0, 1, Z, Z, 3, 4, Z, Z, 6, 7, Z, Z, 9, 10, Z},
        {0, 3, 6, 9, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, 0, 1, Z, Z, 3, 4, Z, Z, 6, 7, Z, 9, 10, 11, Z},
        {0, 3, 6, 9, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, 0, 1, Z, Z, 3, 4, Z, 6, 7, 8, Z, Z, Z, 10, Z},
        {0, 3, 6, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, 0, 1, Z, Z, 3, 4, Z, 6, 7, 8, Z, Z, 10, 11, Z},
        {0, 3, 6, 10, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, 0, 1, Z, Z, 3, 4, Z, 6, 7, 8, Z, 10, 11, 12, Z},
        {0, 3, 6, 10, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, 0, 1, Z, 3, 4, 5, Z, Z, Z, 7, Z, Z, Z, 9, Z},
        {0, 3, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, 0, 1, Z, 3, 4, 5, Z, Z, Z, 7, Z, Z, 9, 10, Z},
        {0, 3, Z, 9, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, 0, 1, Z, 3, 4, 5, Z, Z, Z, 7, Z, 9, 10, 11, Z},
        {0, 3, Z, 9, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, 0, 1, Z, 3, 4, 5, Z, Z, 7, 8, Z, Z, Z, 10, Z},
        {0, 3, 7, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, 0, 1, Z, 3, 4, 5, Z, Z, 7, 8, Z, Z, 10, 11, Z},
        {0, 3, 7, 10, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, 0, 1, Z, 3, 4, 5, Z, Z, 7, 8, Z, 10, 11, 12, Z},
        {0, 3, 7, 10, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, 0, 1, Z, 3, 4, 5, Z, 7, 8, 9, Z, Z, Z, 11, Z},
        {0, 3, 7, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, 0, 1, Z, 3, 4, 5, Z, 7, 8, 9, Z, Z, 11, 12, Z},
        {0, 3, 7, 11, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{Z, 0, 1, Z, 3, 4, 5, Z, 7, 8, 9, Z, 11, 12, 13, Z},
        {0, 3, 7, 11, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{0, 1, 2, Z, Z, Z, 4, Z, Z, Z, 6, Z, Z, Z, 8, Z},
        {0, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{0, 1, 2, Z, Z, Z, 4, Z, Z, Z, 6, Z, Z, 8, 9, Z},
        {0, Z, Z, 8, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{0, 1, 2, Z, Z, Z, 4, Z, Z, Z, 6, Z, 8, 9, 10, Z},
        {0, Z, Z, 8, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{0, 1, 2, Z, Z, Z, 4, Z, Z, 6, 7, Z, Z, Z, 9, Z},
        {0, Z, 6, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{0, 1, 2, Z, Z, Z, 4, Z, Z, 6, 7, Z, Z, 9, 10, Z},
        {0, Z, 6, 9, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{0, 1, 2, Z, Z, Z, 4, Z, Z, 6, 7, Z, 9, 10, 11, Z},
        {0, Z, 6, 9, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{0, 1, 2, Z, Z, Z, 4, Z, 6, 7, 8, Z, Z, Z, 10, Z},
        {0, Z, 6, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{0, 1, 2, Z, Z, Z, 4, Z, 6, 7, 8, Z, Z, 10, 11, Z},
        {0, Z, 6, 10, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{0, 1, 2, Z, Z, Z, 4, Z, 6, 7, 8, Z, 10, 11, 12, Z},
        {0, Z, 6, 10, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{0, 1, 2, Z, Z, 4, 5, Z, Z, Z, 7, Z, Z, Z, 9, Z},
        {0, 4, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{0, 1, 2, Z, Z, 4, 5, Z, Z, Z, 7, Z, Z, 9, 10, Z},
        {0, 4, Z, 9, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{0, 1, 2, Z, Z, 4, 5, Z, Z, Z, 7, Z, 9, 10, 11, Z},
        {0, 4, Z, 9, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{0, 1, 2, Z, Z, 4, 5, Z, Z, 7, 8, Z, Z, Z, 10, Z},
        {0, 4, 7, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{0, 1, 2, Z, Z, 4, 5, Z, Z, 7, 8, Z, Z, 10, 11, Z},
        {0, 4, 7, 10, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{0, 1, 2, Z, Z, 4, 5, Z, Z, 7, 8, Z, 10, 11, 12, Z},
        {0, 4, 7, 10, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{0, 1, 2, Z, Z, 4, 5, Z, 7, 8, 9, Z, Z, Z, 11, Z},
        {0, 4, 7, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{0, 1, 2, Z, Z, 4, 5, Z, 7, 8, 9, Z, Z, 11, 12, Z},
        {0, 4, 7, 11, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{0, 1, 2, Z, Z, 4, 5, Z, 7, 8, 9, Z, 11, 12, 13, Z},
        {0, 4, 7, 11, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{0, 1, 2, Z, 4, 5, 6, Z, Z, Z, 8, Z, Z, Z, 10, Z},
        {0, 4, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{0, 1, 2, Z, 4, 5, 6, Z, Z, Z, 8, Z, Z, 10, 11, Z},
        {0, 4, Z, 10, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{0, 1, 2, Z, 4, 5, 6, Z, Z, Z, 8, Z, 10, 11, 12, Z},
        {0, 4, Z, 10, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{0, 1, 2, Z, 4, 5, 6, Z, Z, 8, 9, Z, Z, Z, 11, Z},
        {0, 4, 8, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{0, 1, 2, Z, 4, 5, 6, Z, Z, 8, 9, Z, Z, 11, 12, Z},
        {0, 4, 8, 11, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{0, 1, 2, Z, 4, 5, 6, Z, Z, 8, 9, Z, 11, 12, 13, Z},
        {0, 4, 8, 11, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{0, 1, 2, Z, 4, 5, 6, Z, 8, 9, 10, Z, Z, Z, 12, Z},
        {0, 4, 8, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{0, 1, 2, Z, 4, 5, 6, Z, 8, 9, 10, Z, Z, 12, 13, Z},
        {0, 4, 8, 12, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
    {{0, 1, 2, Z, 4, 5, 6, Z, 8, 9, 10, Z, 12, 13, 14, Z},
        {0, 4, 8, 12, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z}},
};
#undef Z

/* The four octets at once (SSSE3, chosen at run time): the digits are shuffled into one lane per
 * octet by the pattern of its lengths and weighted 100/10/1 by two multiply-adds. Returns false
 * for an octet over 255 or with a leading zero. */
__attribute__((target("ssse3"))) static bool ip4_octets_ssse3(__m128i x, unsigned idx,
        uint8_t out[4])
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
#endif

/* The octets of a checked dotted quad (dots at d1 < d2 < d3) without SSSE3: kept out of line,
 * so that the common path below needs no saved registers. */
__attribute__((noinline)) static bool ip4_octets_plain(uint64_t lo, uint64_t hi, unsigned d1,
        unsigned d2, unsigned d3, unsigned n, uint8_t out[4])
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

/* inline into the per-record helpers (every address of every event comes here; as a call it
 * cost a dozen instructions of saved registers per address) */
__attribute__((always_inline)) static inline bool ipv4_parse_in(const char *p, size_t n,
        uint8_t out[4])
{
    if (n - 7 > 8) /* 7..15 bytes */
        return false;
    uint64_t lo, hi;
    if (n >= 8) {
        lo = ld64(p);
        hi = (ld64(p + n - 8) >> 8) >> ((15 - n) * 8); /* bytes 8..n-1 */
    } else {
        lo = (uint64_t)ld32(p) | (uint64_t)ld32(p + 3) << 24;
        hi = 0;
    }
    __m128i x = pack2x64(lo, hi);
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
#ifdef TEL_IP4_SSSE3
    if (TIDE__LIKELY(__builtin_cpu_supports("ssse3"))) {
        unsigned l0 = d1 - 1, l1 = d2 - d1 - 2, l2 = d3 - d2 - 2, l3 = (unsigned)n - d3 - 2;
        if ((l0 > 2) | (l1 > 2) | (l2 > 2) | (l3 > 2)) /* an octet of 0 or 4+ digits */
            return false;
        return ip4_octets_ssse3(x, l0 * 27 + l1 * 9 + l2 * 3 + l3, out);
    }
#endif
    return ip4_octets_plain(lo, hi, d1, d2, d3, (unsigned)n, out);
}

bool tide__ipv4_parse(const char *p, size_t n, uint8_t out[4])
{
    return ipv4_parse_in(p, n, out);
}

/* ipv4_parse_in for text in the line buffer or the scratch of a reader, which have
 * TIDE__TEL_BUF_SLACK readable bytes past their data: the 16 bytes at p are one load (the bytes
 * from n on are masked off) instead of two and a variable shift. */
__attribute__((always_inline)) static inline bool ipv4_parse_slack(const char *p, size_t n,
        uint8_t out[4])
{
#ifdef TEL_IP4_SSSE3
    if (TIDE__LIKELY(__builtin_cpu_supports("ssse3"))) {
        if (n - 7 > 8) /* 7..15 bytes */
            return false;
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i t = _mm_sub_epi8(x, _mm_set1_epi8('0'));
        unsigned valid = (1u << n) - 1;
        unsigned dig = (unsigned)_mm_movemask_epi8(
                               _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(9)), t)) & valid;
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
        return ip4_octets_ssse3(x, l0 * 27 + l1 * 9 + l2 * 3 + l3, out);
    }
#endif
    return ipv4_parse_in(p, n, out);
}
#else
bool tide__ipv4_parse(const char *p, size_t n, uint8_t out[4])
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

static inline bool ipv4_parse_in(const char *p, size_t n, uint8_t out[4])
{
    return tide__ipv4_parse(p, n, out);
}

static inline bool ipv4_parse_slack(const char *p, size_t n, uint8_t out[4])
{
    return tide__ipv4_parse(p, n, out);
}
#endif

bool tide__ipv4_parse_slack(const char *p, size_t n, uint8_t out[4])
{
    return ipv4_parse_slack(p, n, out);
}

/* The IPv6 part of tide__ip_parse (out of line: rare, and it needs a stack buffer). */
__attribute__((noinline)) static bool ip6_parse(const char *p, size_t n, uint8_t out[16])
{
    if (n < 2 || n > 45 || memchr(p, ':', n) == NULL)
        return false;
    char tmp[48];
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    return inet_pton(AF_INET6, tmp, out) == 1;
}

bool tide__ip_parse(const char *p, size_t n, int *family, uint8_t out[16])
{
    if (tide__ipv4_parse(p, n, out)) {
        *family = 4;
        return true;
    }
    if (!ip6_parse(p, n, out))
        return false;
    *family = 6;
    return true;
}

tide_obs_kind tide__ip_kind(const char *p, size_t n)
{
    uint8_t a[16];
    int fam;
    if (!tide__ip_parse(p, n, &fam, a))
        return TIDE_OBS_NONE;
    return fam == 4 ? TIDE_OBS_IPV4 : TIDE_OBS_IPV6;
}

/* UTF-8 validity (RFC 3629: no overlongs, no surrogates, <= U+10FFFF); ASCII fast path. */
bool tide__utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    while (p < e) {
#ifdef __SSE2__
        while (e - p >= 32) {
            __m128i a = _mm_loadu_si128((const __m128i *)(const void *)p);
            __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
            if (_mm_movemask_epi8(_mm_or_si128(a, b)))
                break;
            p += 32;
        }
#endif
        while (e - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            if (w & 0x8080808080808080ull)
                break;
            p += 8;
        }
        if (p >= e)
            break;
        unsigned c = *p;
        if (c < 0x80) {
            p++;
            continue;
        }
        size_t len;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF)
            len = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0)
                lo = 0xA0;
            if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0)
                lo = 0x90;
            if (c == 0xF4)
                hi = 0x8F;
        } else
            return false;
        if ((size_t)(e - p) < len)
            return false;
        if (p[1] < lo || p[1] > hi)
            return false;
        for (size_t i = 2; i < len; i++)
            if ((p[i] & 0xC0) != 0x80)
                return false;
        p += len;
    }
    return true;
}

static int digits_n(const char *p, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 0;
}

/* 8 ASCII digits in w (first digit in the lowest byte)? */
static inline bool swar_digits8(uint64_t w)
{
    return (w & 0xF0F0F0F0F0F0F0F0ull) == 0x3030303030303030ull &&
           ((w + 0x0606060606060606ull) & 0xF0F0F0F0F0F0F0F0ull) == 0x3030303030303030ull;
}

/* their value (little-endian byte order, as loaded by memcpy on x86 / arm64) */
static inline uint32_t swar_value8(uint64_t w)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    w -= 0x3030303030303030ull;
    w = (w * 10) + (w >> 8);
    w = (((w & 0x000000FF000000FFull) * (100 + (1000000ull << 32))) +
                (((w >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32)))) >>
        32;
    return (uint32_t)w;
#else
    uint32_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v * 10 + (uint32_t)((w >> (56 - 8 * i)) & 0xFF) - '0';
    return v;
#endif
}

/* "1541117137.123456" (also ms epochs when > 1e11, as some NDJSON carries). */
bool tide__tel_epoch_us(const char *p, size_t n, int64_t *out)
{
    /* the common shape first: 10 digits '.' 6 digits (Zeek) or 3 digits (Squid) */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if ((n == 17 || n == 14) && p[10] == '.') {
        /* consecutive records mostly share the second: its 10 digits are parsed once */
        static _Thread_local struct {
            uint64_t w;
            uint16_t w2;
            bool ok;
            int64_t s;
        } ec;
        uint64_t w = ld64(p);
        uint16_t w2;
        memcpy(&w2, p + 8, 2);
        unsigned bad = 0;
        int64_t s;
        if (ec.ok && w == ec.w && w2 == ec.w2)
            s = ec.s;
        else {
            bad = !swar_digits8(w);
            s = (int64_t)swar_value8(w);
            unsigned d8 = (unsigned)(unsigned char)p[8] - '0',
                     d9 = (unsigned)(unsigned char)p[9] - '0';
            bad |= (d8 > 9) | (d9 > 9);
            s = s * 100 + d8 * 10 + d9;
            if (!bad) {
                ec.w = w;
                ec.w2 = w2;
                ec.s = s;
                ec.ok = true;
            }
        }
        /* the fraction as 8 digits with the bytes before it forced to '0' */
        uint64_t fw;
        if (n == 17) {
            memcpy(&fw, p + 9, 8); /* "d.dddddd" */
            fw = (fw & ~0xFFFFull) | 0x3030ull;
        } else {
            memcpy(&fw, p + 6, 8); /* "dddd.ddd" */
            fw = (fw & ~0xFFFFFFFFFFull) | 0x3030303030ull;
        }
        bad |= !swar_digits8(fw);
        int64_t f = (int64_t)swar_value8(fw);
        if (!bad) {
            *out = s * 1000000 + (n == 17 ? f : f * 1000);
            return true;
        }
    }
#endif
    size_t i = 0;
    int64_t s = 0, frac = 0, scale = 1000000;
    if (n == 0)
        return false;
    while (i < n && p[i] >= '0' && p[i] <= '9') {
        if (i > 15)
            return false;
        s = s * 10 + (p[i++] - '0');
    }
    if (i == 0)
        return false;
    if (i < n && p[i] == '.') {
        i++;
        size_t st = i;
        while (i < n && p[i] >= '0' && p[i] <= '9') {
            if (i - st < 6) {
                frac = frac * 10 + (p[i] - '0');
                scale /= 10;
            }
            i++;
        }
        if (i == st)
            return false;
    }
    if (i != n) {
        /* exponent forms (1.5e9) from JSON encoders */
        if (p[i] == 'e' || p[i] == 'E') {
            char tmp[40];
            if (n >= sizeof(tmp))
                return false;
            memcpy(tmp, p, n);
            tmp[n] = '\0';
            char *end;
            double d = strtod(tmp, &end);
            if (*end != '\0' || !(d >= 0 && d < 1e14))
                return false;
            *out = (int64_t)(d * 1e6);
            return true;
        }
        return false;
    }
    if (s > 100000000000ll) { /* milliseconds */
        if (s > INT64_MAX / 1000)
            return false; /* out of range (was a signed overflow) */
        *out = s * 1000 + frac * scale / 1000000;
        return true;
    }
    *out = s * 1000000 + frac * scale;
    return true;
}

/* "2024-04-18T18:43:15.391346+0000", "2020-10-23 06:36:42.509", "...Z", "+02:00" */
static inline unsigned d2(const char *p)
{
    return ((unsigned)(unsigned char)p[0] - '0') * 10 + ((unsigned)(unsigned char)p[1] - '0');
}

static inline bool all_dig(const char *p, size_t n)
{
    unsigned bad = 0;
    for (size_t i = 0; i < n; i++)
        bad |= ((unsigned)(unsigned char)p[i] - '0') > 9;
    return !bad;
}

/* "YYYY-MM-DD?HH:MM:SS": the 14 digit positions at once */
static inline bool iso_digits(const char *p)
{
    unsigned bad = 0;
    static const unsigned char pos[14] = {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18};
    for (int i = 0; i < 14; i++)
        bad |= ((unsigned)(unsigned char)p[pos[i]] - '0') > 9;
    return !bad;
}

bool tide__tel_iso_us(const char *p, size_t n, int64_t *out)
{
    /* fast path: "YYYY-MM-DD?HH:MM:SS" with '.' fraction and Z / +hhmm / +hh:mm or nothing;
     * consecutive records mostly share the second, so that prefix is resolved once */
    static _Thread_local struct {
        uint64_t k0, k1;
        uint32_t k2;
        bool ok;
        int64_t secs;
    } ic;
    if (n >= 19) {
        uint64_t k0 = ld64(p), k1 = ld64(p + 8);
        uint32_t k2 = ld32(p + 15);
        int64_t secs;
        if (ic.ok && k0 == ic.k0 && k1 == ic.k1 && k2 == ic.k2)
            secs = ic.secs;
        else if (p[4] == '-' && p[7] == '-' && (p[10] == 'T' || p[10] == ' ') && p[13] == ':' &&
                 p[16] == ':' && iso_digits(p)) {
            unsigned Y = d2(p) * 100 + d2(p + 2), M = d2(p + 5), D = d2(p + 8), h = d2(p + 11),
                     mi = d2(p + 14), s = d2(p + 17);
            if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || mi > 59 || s > 60)
                return false; /* the slow path refuses these too */
            secs = tide__days_from_civil(Y, M, D) * 86400 + h * 3600 + mi * 60 + s;
            ic.k0 = k0;
            ic.k1 = k1;
            ic.k2 = k2;
            ic.secs = secs;
            ic.ok = true;
        } else
            goto slow;
        size_t i = 19;
        int64_t us = 0;
        if (i < n && p[i] == '.') {
            size_t st = ++i;
            static const int32_t sc[6] = {100000, 10000, 1000, 100, 10, 1};
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            /* exactly six digits (EVE's "...:03.391346+0000"): at once, as "00dddddd" */
            if (n - st >= 8 && (unsigned)(unsigned char)p[st + 6] - '0' > 9) {
                uint64_t x = ld64(p + st) << 16 | 0x3030u;
                if (swar_digits8(x)) {
                    us = (int64_t)swar_value8(x);
                    i = st + 6;
                }
            } else if (n - st == 3) {
                /* milliseconds at the end (Sysmon's "...:00.123"): ".ddd" as one word,
                 * weighed as "00000ddd" */
                uint64_t x = (uint64_t)(ld32(p + st - 1) >> 8) << 40 | 0x3030303030ull;
                if (swar_digits8(x)) {
                    *out = secs * 1000000 + (int64_t)swar_value8(x) * 1000;
                    return true;
                }
            }
#endif
            while (i < n && (unsigned)(unsigned char)p[i] - '0' <= 9) {
                if (i - st < 6)
                    us += (p[i] - '0') * sc[i - st];
                i++;
            }
            if (i == st)
                goto slow;
        }
        int64_t off = 0;
        if (i == n || ((p[i] == 'Z' || p[i] == 'z') && i + 1 == n) ||
                (n - i == 5 && ld32(p + i + 1) == 0x30303030u && p[i] == '+'))
            off = 0; /* (also "+0000", EVE's) */
        else if ((p[i] == '+' || p[i] == '-') && n - i == 5 && all_dig(p + i + 1, 4))
            off = (p[i] == '-' ? -1 : 1) * (int64_t)(d2(p + i + 1) * 3600 + d2(p + i + 3) * 60);
        else
            goto slow;
        *out = (secs - off) * 1000000 + us;
        return true;
    }
slow:;
    int Y, M, D, h = 0, mi = 0, s = 0;
    if (n < 10 || digits_n(p, 4, &Y) || p[4] != '-' || digits_n(p + 5, 2, &M) || p[7] != '-' ||
            digits_n(p + 8, 2, &D))
        return false;
    if (M < 1 || M > 12 || D < 1 || D > 31)
        return false;
    size_t i = 10;
    int64_t us = 0;
    if (i < n && (p[i] == 'T' || p[i] == ' ' || p[i] == 't')) {
        if (n < i + 9 || digits_n(p + i + 1, 2, &h) || p[i + 3] != ':' ||
                digits_n(p + i + 4, 2, &mi) || p[i + 6] != ':' || digits_n(p + i + 7, 2, &s))
            return false;
        if (h > 23 || mi > 59 || s > 60)
            return false;
        i += 9;
        if (i < n && (p[i] == '.' || p[i] == ',')) {
            i++;
            int64_t scale = 100000;
            size_t st = i;
            while (i < n && p[i] >= '0' && p[i] <= '9') {
                us += (p[i] - '0') * scale;
                scale /= 10;
                i++;
            }
            if (i == st)
                return false;
        }
    }
    int64_t off = 0;
    if (i < n) {
        if (p[i] == 'Z' || p[i] == 'z')
            i++;
        else if (p[i] == '+' || p[i] == '-') {
            int sign = p[i] == '-' ? -1 : 1, oh, om;
            i++;
            if (n - i == 4 && !digits_n(p + i, 2, &oh) && !digits_n(p + i + 2, 2, &om))
                i += 4;
            else if (n - i == 5 && !digits_n(p + i, 2, &oh) && p[i + 2] == ':' &&
                     !digits_n(p + i + 3, 2, &om))
                i += 5;
            else if (n - i == 2 && !digits_n(p + i, 2, &oh)) {
                om = 0;
                i += 2;
            } else
                return false;
            off = sign * (oh * 3600 + om * 60);
        }
    }
    if (i != n)
        return false;
    int64_t days = tide__days_from_civil(Y, (unsigned)M, (unsigned)D);
    *out = ((days * 86400 + h * 3600 + mi * 60 + s) - off) * 1000000 + us;
    return true;
}

/* ------------------------------------------------------------------ per-record helpers */

int tide__tel_obs_grow(tide_tel_reader *r)
{
    if (r->nobs - r->obs0 >= 65536)
        return 0; /* cap per record: drop the rest */
    size_t nc = r->obs_cap ? r->obs_cap * 2 : 32;
    tide_observation *o = tide__realloc(r->obs, nc * sizeof(*o));
    if (o == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    r->obs = o;
    r->obs_cap = nc;
    return 1;
}

char *tide__tel_scratch(tide_tel_reader *r, size_t n)
{
    if (n > r->scr_cap - r->scr_len)
        return NULL;
    char *p = r->scr + r->scr_len;
    r->scr_len += n;
    return p;
}

/* Parse an address, remembering it for the home-net check of this record. */
__attribute__((always_inline)) static inline int parse_ip_cached(tide_tel_reader *r,
        const char *p, size_t n, uint8_t **addr)
{
    for (unsigned i = 0; i < r->nipc; i++)
        if (r->ipc[i].p == p && r->ipc[i].n == n) {
            *addr = r->ipc[i].a;
            return r->ipc[i].fam;
        }
    unsigned slot = r->nipc < 4 ? r->nipc++ : 3;
    int fam = 4;
    if (!ipv4_parse_slack(p, n, r->ipc[slot].a))
        fam = ip6_parse(p, n, r->ipc[slot].a) ? 6 : 0;
    r->ipc[slot].p = p;
    r->ipc[slot].n = n;
    r->ipc[slot].fam = fam;
    *addr = r->ipc[slot].a;
    return fam;
}

tide_obs_kind tide__tel_obs_ip(tide_tel_reader *r, const char *p, size_t n, const char *field)
{
    uint8_t *a;
    int fam = parse_ip_cached(r, p, n, &a);
    if (fam == 0)
        return TIDE_OBS_NONE;
    tide_obs_kind k = fam == 4 ? TIDE_OBS_IPV4 : TIDE_OBS_IPV6;
    size_t before = r->nobs;
    tide__tel_obs(r, k, p, n, field);
    if (r->nobs > before) {
        tide_observation *o = &r->obs[r->nobs - 1];
        if (fam == 4) {
            o->addr_len = 4;
            memcpy(o->addr, a, 4);
        } else {
            o->addr_len = 16;
            memcpy(o->addr, a, 16);
        }
    }
    return k;
}

bool tide__tel_is_home(tide_tel_reader *r, const char *p, size_t n)
{
    if (r->home == NULL || p == NULL)
        return false;
    uint8_t *a;
    int fam = parse_ip_cached(r, p, n, &a);
    return fam && tide__homenet_contains_addr(r->home, fam, a);
}

/* memcpy for the few bytes of an address or a port without a library call: two overlapping
 * fixed-size moves inside [s, s+n) */
static inline void copy_short(char *d, const char *s, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t a = ld64(s), b = ld64(s + n - 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4 && n < 8) {
        uint32_t a = ld32(s), b = ld32(s + n - 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else if (n < 4) {
        for (size_t i = 0; i < n; i++)
            d[i] = s[i];
    } else
        memcpy(d, s, n);
}

/* The ip:port observation of an address parsed already (fam 4 or 6, a). */
static inline void ipport_obs(tide_tel_reader *r, int fam, const uint8_t *a, const char *ip,
        size_t in, const char *port, size_t pn, const char *field)
{
    tide_obs_kind k = fam == 4 ? TIDE_OBS_IPV4 : TIDE_OBS_IPV6;
    unsigned pv = 0;
    for (size_t i = 0; i < pn; i++) {
        unsigned dg = (unsigned)(unsigned char)port[i] - '0';
        if (dg > 9)
            return;
        pv = pv * 10 + dg;
    }
    char *d = tide__tel_scratch(r, in + pn + 3);
    if (d == NULL)
        return;
    size_t o = 0;
#ifdef __SSE2__
    if (k == TIDE_OBS_IPV4) {
        /* the text is in the line buffer or the scratch and d in the scratch, all with
         * TIDE__TEL_BUF_SLACK bytes past their data: the address (7..15 bytes) and the port
         * (1..5) are moved as one 16- and one 8-byte word, the bytes past them overwritten next
         * or left in unused scratch */
        _mm_storeu_si128((__m128i *)(void *)d, _mm_loadu_si128((const __m128i *)(const void *)ip));
        d[in] = ':';
        uint64_t pw = ld64(port);
        memcpy(d + in + 1, &pw, 8);
        o = in + 1 + pn;
    } else
#endif
    {
        if (k == TIDE_OBS_IPV6)
            d[o++] = '[';
        copy_short(d + o, ip, in);
        o += in;
        if (k == TIDE_OBS_IPV6)
            d[o++] = ']';
        d[o++] = ':';
        copy_short(d + o, port, pn);
        o += pn;
    }
    size_t before = r->nobs;
    tide__tel_obs(r, TIDE_OBS_IP_PORT, d, o, field);
    if (k == TIDE_OBS_IPV4 && pv <= 65535 && r->nobs > before) {
        /* the matcher's key (address, big-endian port) without parsing the text again */
        tide_observation *ob = &r->obs[r->nobs - 1];
        ob->addr_len = 6;
        memcpy(ob->addr, a, 4);
        ob->addr[4] = (uint8_t)(pv >> 8);
        ob->addr[5] = (uint8_t)pv;
    }
}

void tide__tel_obs_ipport(tide_tel_reader *r, const char *ip, size_t in, const char *port,
        size_t pn, const char *field)
{
    if (pn == 0 || pn > 5)
        return;
    uint8_t *a;
    int fam = parse_ip_cached(r, ip, in, &a);
    if (fam == 0)
        return;
    ipport_obs(r, fam, a, ip, in, port, pn, field);
}

/* The IP observation of an address parsed already (fam 4 or 6, a). */
static inline void ip_obs(tide_tel_reader *r, int fam, const uint8_t *a, const char *p, size_t n,
        const char *field)
{
    size_t before = r->nobs;
    tide__tel_obs(r, fam == 4 ? TIDE_OBS_IPV4 : TIDE_OBS_IPV6, p, n, field);
    if (r->nobs > before) {
        tide_observation *o = &r->obs[r->nobs - 1];
        if (fam == 4) {
            o->addr_len = 4;
            memcpy(o->addr, a, 4);
        } else {
            o->addr_len = 16;
            memcpy(o->addr, a, 16);
        }
    }
}

/* An address parsed without the record's cache: 4, 6 or 0 (not an address). */
static inline int parse_ip_once(const char *p, size_t n, uint8_t a[16])
{
    if (ipv4_parse_slack(p, n, a))
        return 4;
    return ip6_parse(p, n, a) ? 6 : 0;
}

void tide__tel_obs_conn(tide_tel_reader *r, tide__sv src, const char *sfield, tide__sv dst,
        const char *dfield, tide__sv port, const char *pfield, tide_event *ev)
{
    uint8_t sa[16], da[16];
    int sfam = 0, dfam = 0;
    if (src.n && (sfam = parse_ip_once(src.p, src.n, sa)) != 0)
        ip_obs(r, sfam, sa, src.p, src.n, sfield);
    if (dst.n && (dfam = parse_ip_once(dst.p, dst.n, da)) != 0) {
        ip_obs(r, dfam, da, dst.p, dst.n, dfield);
        if (port.n && port.n <= 5)
            ipport_obs(r, dfam, da, dst.p, dst.n, port.p, port.n, pfield);
    }
    if (ev == NULL)
        return;
    /* tide__tel_pick_host on the addresses parsed above */
    const tide_homenet *h = r->home;
    if (sfam && h && tide__homenet_contains_addr(h, sfam, sa)) {
        ev->host = src.p;
        ev->host_len = src.n;
    } else if (dfam && h && tide__homenet_contains_addr(h, dfam, da)) {
        ev->host = dst.p;
        ev->host_len = dst.n;
    } else if (src.n) {
        ev->host = src.p;
        ev->host_len = src.n;
    }
}

/* character classes of host names */
enum { HC_DIG = 1, HC_DOT = 2, HC_DOM = 4, HC_BAD = 8 };
static const unsigned char host_cls[256] = {
#define R4(x) x, x, x, x
#define R16(x) R4(x), R4(x), R4(x), R4(x)
    R16(HC_BAD), R16(HC_BAD),                                           /* 0x00-0x1f */
    HC_BAD, HC_BAD, HC_BAD, HC_BAD, HC_BAD, HC_BAD, HC_BAD, HC_BAD,     /* sp ! " # $ % & ' */
    HC_BAD, HC_BAD, HC_BAD, HC_BAD, HC_BAD, HC_DOM, HC_DOT, HC_BAD,     /* ( ) * + , - . / */
    HC_DIG, HC_DIG, HC_DIG, HC_DIG, HC_DIG, HC_DIG, HC_DIG, HC_DIG,     /* 0-7 */
    HC_DIG, HC_DIG, HC_BAD, HC_BAD, HC_BAD, HC_BAD, HC_BAD, HC_BAD,     /* 8 9 : ; < = > ? */
    HC_BAD, R4(HC_DOM), HC_DOM, HC_DOM, HC_DOM,                         /* @ A-G */
    R4(HC_DOM), R4(HC_DOM), R4(HC_DOM), R4(HC_DOM), HC_DOM, HC_DOM, HC_DOM, /* H-Z */
    HC_BAD, HC_BAD, HC_BAD, HC_BAD, HC_DOM,                             /* [ \ ] ^ _ */
    HC_BAD, R4(HC_DOM), HC_DOM, HC_DOM, HC_DOM,                         /* ` a-g */
    R4(HC_DOM), R4(HC_DOM), R4(HC_DOM), R4(HC_DOM), HC_DOM, HC_DOM, HC_DOM, /* h-z */
    HC_BAD, HC_BAD, HC_BAD, HC_BAD, HC_BAD,                             /* { | } ~ del */
    R16(HC_DOM), R16(HC_DOM), R16(HC_DOM), R16(HC_DOM), R16(HC_DOM), R16(HC_DOM),
    R16(HC_DOM), R16(HC_DOM)                                             /* 0x80-0xff */
#undef R16
#undef R4
};

/* labels of letters, digits, '-', '_' or non-ASCII, 1-63 long, 253 at most, at least one dot
 * (the caller has checked the characters) */
static bool domain_ok(const char *p, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    size_t lab = 0;
    bool dot = false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '.') {
            if (lab == 0)
                return false;
            lab = 0;
            dot = true;
        } else if (++lab > 63)
            return false;
    }
    return lab > 0 && dot;
}

#ifdef __SSE2__
/* Host name classes of 16 bytes: ':' , '.', digits, and every byte a name may hold (letters,
 * digits, '-', '_', '.', non-ASCII) */
typedef struct {
    uint32_t colon, dot, dig, ok;
} host_bits;

static inline host_bits host_masks(__m128i x)
{
    host_bits b;
    __m128i d = _mm_sub_epi8(x, _mm_set1_epi8('0'));
    __m128i isdig = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);
    __m128i l = _mm_sub_epi8(_mm_or_si128(x, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));
    __m128i islet = _mm_cmpeq_epi8(_mm_min_epu8(l, _mm_set1_epi8(25)), l);
    __m128i isdot = _mm_cmpeq_epi8(x, _mm_set1_epi8('.'));
    __m128i other = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('-')),
                                         _mm_cmpeq_epi8(x, _mm_set1_epi8('_'))),
            _mm_cmplt_epi8(x, _mm_setzero_si128()));
    b.colon = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(':')));
    b.dot = (uint32_t)_mm_movemask_epi8(isdot);
    b.dig = (uint32_t)_mm_movemask_epi8(isdig);
    b.ok = (uint32_t)_mm_movemask_epi8(
            _mm_or_si128(_mm_or_si128(isdig, islet), _mm_or_si128(isdot, other)));
    return b;
}

/* tide__tel_obs_hostname for 8..32 bytes: the classes of all bytes at once */
static void obs_hostname_short(tide_tel_reader *r, const char *p, size_t n, const char *field)
{
    host_bits b;
    if (n >= 16) { /* two blocks, the second ending at n (overlapping) */
        host_bits a = host_masks(_mm_loadu_si128((const __m128i *)(const void *)p));
        host_bits c = host_masks(_mm_loadu_si128((const __m128i *)(const void *)(p + n - 16)));
        unsigned sh = (unsigned)n - 16;
        b.colon = a.colon | c.colon << sh;
        b.dot = a.dot | c.dot << sh;
        b.dig = a.dig | c.dig << sh;
        b.ok = a.ok | c.ok << sh;
    } else { /* 8..15 bytes from two loads inside the text */
        uint64_t lo = ld64(p), hi = (ld64(p + n - 8) >> 8) >> ((15 - n) * 8);
        b = host_masks(pack2x64(lo, hi));
    }
    uint32_t valid = n >= 32 ? ~0u : (1u << n) - 1;
    uint32_t colon = b.colon & valid;
    size_t m = n;
    if (colon) {
        if (colon & (colon - 1)) { /* two colons: an IPv6 address or nothing */
            tide__tel_obs_ip(r, p, n, field);
            return;
        }
        m = (size_t)__builtin_ctz(colon); /* host:port */
    }
    uint32_t pre = m >= 32 ? ~0u : (1u << m) - 1;
    if (!(~(b.dig | b.dot) & pre) && tide__tel_obs_ip(r, p, m, field) != TIDE_OBS_NONE)
        return;
    if (~b.ok & pre)
        return;
    if (m > 0 && p[m - 1] == '.')
        m--;
    if (m == 0)
        return;
    /* a domain: a dot, no empty label (m <= 32: no label can be over 63) */
    uint32_t dot = b.dot & (m >= 32 ? ~0u : (1u << m) - 1);
    if (dot == 0 || (dot & 1) || (dot >> (m - 1)) || (dot & (dot >> 1)))
        return;
    tide__tel_obs(r, TIDE_OBS_DOMAIN, p, m, field);
}
#endif

void tide__tel_obs_hostname(tide_tel_reader *r, const char *p, size_t n, const char *field)
{
    if (n == 0)
        return;
    if (p[0] == '[') { /* [v6] or [v6]:port */
        const char *e = memchr(p, ']', n);
        if (e)
            tide__tel_obs_ip(r, p + 1, (size_t)(e - p - 1), field);
        return;
    }
#ifdef __SSE2__
    if (n >= 8 && n <= 32) {
        obs_hostname_short(r, p, n, field);
        return;
    }
#endif
    /* one pass up to the first ':' collecting the character classes */
    const unsigned char *u = (const unsigned char *)p;
    unsigned acc = 0;
    size_t i = 0;
    while (i < n && u[i] != ':')
        acc |= host_cls[u[i++]];
    if (i < n) {
        if (memchr(p + i + 1, ':', n - i - 1)) { /* two colons: an IPv6 address or nothing */
            tide__tel_obs_ip(r, p, n, field);
            return;
        }
        n = i; /* host:port */
    }
    if (!(acc & ~(unsigned)(HC_DIG | HC_DOT)) && tide__tel_obs_ip(r, p, n, field) != TIDE_OBS_NONE)
        return;
    if (acc & HC_BAD)
        return;
    if (n > 0 && p[n - 1] == '.')
        n--;
    if (domain_ok(p, n))
        tide__tel_obs(r, TIDE_OBS_DOMAIN, p, n, field);
}

void tide__tel_obs_url(tide_tel_reader *r, const char *p, size_t n, const char *field,
        const char *host_field)
{
    const char *s = NULL;
    for (size_t i = 0; i + 2 < n && i < 16; i++)
        if (p[i] == ':' && p[i + 1] == '/' && p[i + 2] == '/') {
            s = p + i + 3;
            break;
        }
    if (s == NULL)
        return;
    tide__tel_obs(r, TIDE_OBS_URL, p, n, field);
    if (host_field == NULL)
        return;
    /* the authority: up to '/', '?' or '#'; user info before the last '@' dropped (16 bytes at
     * a time while they are inside the URL, then byte by byte) */
    size_t rest = n - (size_t)(s - p), h = 0;
    const char *at = NULL;
#ifdef __SSE2__
    while (h + 16 <= rest) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + h));
        unsigned t = (unsigned)_mm_movemask_epi8(
                _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('/')),
                                     _mm_cmpeq_epi8(x, _mm_set1_epi8('?'))),
                        _mm_cmpeq_epi8(x, _mm_set1_epi8('#'))));
        unsigned a = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('@')));
        if (t) {
            unsigned k = (unsigned)__builtin_ctz(t);
            a &= (1u << k) - 1;
            if (a)
                at = s + h + (31 - __builtin_clz(a));
            h += k;
            goto authority;
        }
        if (a)
            at = s + h + (31 - __builtin_clz(a));
        h += 16;
    }
#endif
    while (h < rest && s[h] != '/' && s[h] != '?' && s[h] != '#') {
        if (s[h] == '@')
            at = s + h;
        h++;
    }
#ifdef __SSE2__
authority:
#endif
    if (at) {
        h -= (size_t)(at + 1 - s);
        s = at + 1;
    }
    tide__tel_obs_hostname(r, s, h, host_field);
}

void tide__tel_pick_host(tide_tel_reader *r, tide__sv src, tide__sv dst, tide_event *ev)
{
    if (src.n && tide__tel_is_home(r, src.p, src.n)) {
        ev->host = src.p;
        ev->host_len = src.n;
    } else if (dst.n && tide__tel_is_home(r, dst.p, dst.n)) {
        ev->host = dst.p;
        ev->host_len = dst.n;
    } else if (src.n) {
        ev->host = src.p;
        ev->host_len = src.n;
    }
}

/* ------------------------------------------------------------------ input layer */

int tide__tel_bad(tide_tel_reader *r, uint64_t line, const char *reason)
{
    r->st.bad++;
    if (r->opts.on_bad)
        r->opts.on_bad(r->name, line, reason, r->opts.bad_payload);
    return 0;
}

static ssize_t read_fd(tide_tel_reader *r, void *dst, size_t n)
{
    for (;;) {
        ssize_t k = read(r->fd, dst, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return tide_error_set(TIDE_EIO, "%s: read failed at byte %llu: %s", r->name,
                    (unsigned long long)(r->base_off + r->end), strerror(errno));
        return k;
    }
}

/* Read raw bytes into r->in (compact first). Returns bytes added, 0 at EOF. */
static ssize_t fill_in(tide_tel_reader *r)
{
    if (r->in_pos > 0) {
        memmove(r->in, r->in + r->in_pos, r->in_len - r->in_pos);
        r->in_len -= r->in_pos;
        r->in_pos = 0;
    }
    if (r->in_len == r->in_cap)
        return 0;
    ssize_t k = read_fd(r, r->in + r->in_len, r->in_cap - r->in_len);
    if (k > 0)
        r->in_len += (size_t)k;
    return k;
}

/* Sniff the compression from the first bytes, read straight into the line buffer (a plain file
 * never needs the raw-input buffer). Returns 1 when plain (bytes are in buf), 0 when compressed
 * (the bytes moved to r->in), < 0 on error. */
static int detect_comp(tide_tel_reader *r)
{
    size_t start = r->end;
    while (r->end - start < 4) {
        ssize_t k = read_fd(r, r->buf + r->end, r->cap - r->end);
        if (k < 0)
            return (int)k;
        if (k == 0)
            break;
        r->end += (size_t)k;
    }
    const unsigned char *m = (const unsigned char *)r->buf + start;
    size_t got = r->end - start;
    bool gz = got >= 2 && m[0] == 0x1f && m[1] == 0x8b;
    bool zst = got >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd;
    if (!gz && !zst) {
        r->comp = TEL_COMP_NONE;
        return 1;
    }
    r->in_cap = got > TIDE__TEL_READ_CHUNK ? got : TIDE__TEL_READ_CHUNK;
    r->in = tide__malloc(r->in_cap);
    if (r->in == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    memcpy(r->in, m, got);
    r->in_len = got;
    r->in_pos = 0;
    r->end = start;
    if (gz) {
        memset(&r->zs, 0, sizeof(r->zs));
        if (inflateInit2(&r->zs, 16 + MAX_WBITS) != Z_OK)
            return tide_error_set(TIDE_ENOMEM, "%s: zlib init failed", r->name);
        r->zs_init = true;
        r->comp = TEL_COMP_GZIP;
    } else {
        r->zd = ZSTD_createDStream();
        if (r->zd == NULL)
            return tide_error_set(TIDE_ENOMEM, "out of memory");
        ZSTD_initDStream(r->zd);
        r->comp = TEL_COMP_ZSTD;
    }
    return 0;
}

/* Add decompressed bytes to buf[end..cap). Returns > 0 bytes added, 0 at (current) end. */
static int fill(tide_tel_reader *r)
{
    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->end - r->pos);
        r->base_off += r->pos;
        r->end -= r->pos;
        r->pos = 0;
    }
    size_t room = r->cap - r->end;
    if (room == 0)
        return 0;
    if (r->comp == TEL_COMP_UNKNOWN) {
        size_t before = r->end;
        int rc = detect_comp(r);
        if (rc < 0)
            return rc;
        if (rc > 0)
            return r->end > before;
    }
    if (r->comp == TEL_COMP_NONE) {
        size_t want = r->cap - r->end;
        if (want > TIDE__TEL_READ_SIZE)
            want = TIDE__TEL_READ_SIZE;
        ssize_t k = read_fd(r, r->buf + r->end, want);
        if (k < 0)
            return (int)k;
        r->end += (size_t)k;
        return k > 0;
    }
    if (r->comp == TEL_COMP_GZIP) {
        for (;;) {
            if (r->in_pos == r->in_len && !r->in_eof) {
                ssize_t k = fill_in(r);
                if (k < 0)
                    return (int)k;
                if (k == 0)
                    r->in_eof = true;
            }
            if (r->in_pos == r->in_len && r->in_eof) {
                if (!r->zs_end)
                    return tide_error_set(TIDE_EPARSE,
                            "%s: truncated gzip stream after %llu decompressed bytes", r->name,
                            (unsigned long long)(r->base_off + r->end));
                return 0;
            }
            if (r->zs_end) { /* next member; trailing zero padding is tolerated */
                if (r->in[r->in_pos] == 0) {
                    r->in_pos++;
                    continue;
                }
                inflateReset(&r->zs);
                r->zs_end = false;
            }
            r->zs.next_in = r->in + r->in_pos;
            r->zs.avail_in = (uInt)(r->in_len - r->in_pos);
            r->zs.next_out = (Bytef *)r->buf + r->end;
            r->zs.avail_out = (uInt)(r->cap - r->end);
            int zr = inflate(&r->zs, Z_NO_FLUSH);
            size_t got = (r->cap - r->end) - r->zs.avail_out;
            r->in_pos = r->in_len - r->zs.avail_in;
            r->end += got;
            if (zr == Z_STREAM_END)
                r->zs_end = true;
            else if (zr != Z_OK && zr != Z_BUF_ERROR)
                return tide_error_set(TIDE_EPARSE, "%s: gzip data error near decompressed byte %llu: %s",
                        r->name, (unsigned long long)(r->base_off + r->end),
                        r->zs.msg ? r->zs.msg : "inflate failed");
            if (got > 0)
                return 1;
        }
    }
    /* zstd */
    for (;;) {
        if (r->in_pos == r->in_len && !r->in_eof) {
            ssize_t k = fill_in(r);
            if (k < 0)
                return (int)k;
            if (k == 0)
                r->in_eof = true;
        }
        ZSTD_inBuffer zin = {r->in, r->in_len, r->in_pos};
        ZSTD_outBuffer zout = {r->buf + r->end, r->cap - r->end, 0};
        if (zin.pos == zin.size && r->in_eof && r->zret == 0)
            return 0;
        size_t zr = ZSTD_decompressStream(r->zd, &zout, &zin);
        if (ZSTD_isError(zr))
            return tide_error_set(TIDE_EPARSE, "%s: zstd data error near decompressed byte %llu: %s",
                    r->name, (unsigned long long)(r->base_off + r->end), ZSTD_getErrorName(zr));
        r->zret = zr;
        r->in_pos = zin.pos;
        r->end += zout.pos;
        if (zout.pos > 0)
            return 1;
        if (zin.pos == zin.size && r->in_eof) {
            if (zr != 0)
                return tide_error_set(TIDE_EPARSE,
                        "%s: truncated zstd stream after %llu decompressed bytes", r->name,
                        (unsigned long long)(r->base_off + r->end));
            return 0;
        }
    }
}

/* The first '\n' in [s, e) or NULL; *hi gets whether a byte >= 0x80 comes before it (or
 * before e). One pass instead of memchr plus the UTF-8 check's ASCII scan. */
static inline char *find_nl(char *s, char *e, bool *hi)
{
#ifdef __SSE2__
    __m128i acc = _mm_setzero_si128();
    const __m128i nl = _mm_set1_epi8('\n');
    /* 64 bytes per test while no newline is among them (records are hundreds of bytes) */
    while (e - s >= 64) {
        __m128i x0 = _mm_loadu_si128((const __m128i *)(const void *)s);
        __m128i x1 = _mm_loadu_si128((const __m128i *)(const void *)(s + 16));
        __m128i x2 = _mm_loadu_si128((const __m128i *)(const void *)(s + 32));
        __m128i x3 = _mm_loadu_si128((const __m128i *)(const void *)(s + 48));
        __m128i c0 = _mm_cmpeq_epi8(x0, nl), c1 = _mm_cmpeq_epi8(x1, nl),
                c2 = _mm_cmpeq_epi8(x2, nl), c3 = _mm_cmpeq_epi8(x3, nl);
        if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(c0, c1), _mm_or_si128(c2, c3)))) {
            uint64_t m = (uint64_t)(uint32_t)_mm_movemask_epi8(c0) |
                         (uint64_t)(uint32_t)_mm_movemask_epi8(c1) << 16 |
                         (uint64_t)(uint32_t)_mm_movemask_epi8(c2) << 32 |
                         (uint64_t)(uint32_t)_mm_movemask_epi8(c3) << 48;
            unsigned pos = (unsigned)__builtin_ctzll(m);
            uint64_t h = (uint64_t)(uint32_t)_mm_movemask_epi8(x0) |
                         (uint64_t)(uint32_t)_mm_movemask_epi8(x1) << 16 |
                         (uint64_t)(uint32_t)_mm_movemask_epi8(x2) << 32 |
                         (uint64_t)(uint32_t)_mm_movemask_epi8(x3) << 48;
            *hi = (h & (((uint64_t)1 << pos) - 1)) || _mm_movemask_epi8(acc);
            return s + pos;
        }
        acc = _mm_or_si128(acc, _mm_or_si128(_mm_or_si128(x0, x1), _mm_or_si128(x2, x3)));
        s += 64;
    }
    while (e - s >= 32) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
        __m128i y = _mm_loadu_si128((const __m128i *)(const void *)(s + 16));
        uint32_t m = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, nl)) |
                     (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(y, nl)) << 16;
        if (m) {
            unsigned pos = (unsigned)__builtin_ctz(m);
            uint32_t h = ((uint32_t)_mm_movemask_epi8(x) |
                                 (uint32_t)_mm_movemask_epi8(y) << 16) &
                         (uint32_t)((1ull << pos) - 1);
            *hi = h || _mm_movemask_epi8(acc);
            return s + pos;
        }
        acc = _mm_or_si128(acc, _mm_or_si128(x, y));
        s += 32;
    }
    while (e - s >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, nl));
        if (m) {
            unsigned pos = (unsigned)__builtin_ctz(m);
            unsigned h = (unsigned)_mm_movemask_epi8(x) & ((1u << pos) - 1);
            *hi = h || _mm_movemask_epi8(acc);
            return s + pos;
        }
        acc = _mm_or_si128(acc, x);
        s += 16;
    }
    bool h = _mm_movemask_epi8(acc) != 0;
#else
    bool h = false;
#endif
    for (; s < e; s++) {
        if (*s == '\n') {
            *hi = h;
            return s;
        }
        h |= (unsigned char)*s >= 0x80;
    }
    *hi = h;
    return NULL;
}

/* next_line / next_element with hold: the buffer would have to be refilled (which moves it) */
#define TEL_HOLD 2

/* Next line (without "\n" and a trailing "\r"). 1 = line, 0 = end (for now), < 0 error,
 * TEL_HOLD when hold is set and no complete line is left in the buffer. */
static int next_line(tide_tel_reader *r, char **lp, size_t *ln, uint64_t *off, bool hold)
{
    for (;;) {
        if (r->pos < r->end) {
            char *s = r->buf + r->pos;
            bool hi;
            char *nl = find_nl(s, r->buf + r->end, &hi);
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
                if (n > r->max_line) {
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
            if (r->end - r->pos > r->max_line) {
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
            return TEL_HOLD;
        int rc = fill(r);
        if (rc < 0) {
            r->done = true;
            return rc;
        }
        if (rc > 0)
            continue;
        if (r->opts.follow && r->comp == TEL_COMP_NONE)
            return 0;
        r->done = true;
        if (r->skipping) {
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
                } else if (r->arr_depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\r' ||
                                                        c == '\n')) {
                    if (c == '\n')
                        r->arr_nl--; /* not part of the element */
                    end = i;
                    found = true;
                    break;
                }
            }
            if (found && end == 0)
                end = 1; /* a stray closing bracket: a one-byte bad record */
            if (!found && !r->arr_skipping && avail > r->max_line) {
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
            if (found && end > r->max_line) {
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
                return TEL_HOLD;
            int rc = fill(r);
            if (rc < 0) {
                r->done = true;
                return rc;
            }
            if (rc > 0)
                continue;
            if (r->opts.follow && r->comp == TEL_COMP_NONE)
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

/* ------------------------------------------------------------------ detection */

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

/* Decide the format from a non-blank line. 1 decided, 0 skip this line (comment), < 0 error. */
static int detect(tide_tel_reader *r, const char *p, size_t n)
{
    if (n >= 10 && memcmp(p, "#separator", 10) == 0) {
        r->format = TIDE_TEL_ZEEK_TSV;
        return 1;
    }
    if (n >= 7 && memcmp(p, "#fields", 7) == 0) {
        r->format = TIDE_TEL_ZEEK_TSV;
        return 1;
    }
    if (p[0] == '#')
        return 0;
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    if (i < n && p[i] == '{') {
        if (has(p, n, "\"event_type\""))
            r->format = TIDE_TEL_EVE;
        else if (has(p, n, "\"EventID\"") || has(p, n, "\"Channel\"") ||
                 has(p, n, "\"Computer\"") || has(p, n, "\"SourceName\"") ||
                 has(p, n, "\"winlog\""))
            r->format = TIDE_TEL_SYSMON;
        else if (has(p, n, "\"id.orig_h\"") || has(p, n, "\"id_orig_h\"") ||
                 has(p, n, "\"_path\"") || has(p, n, "\"@stream\"") || has(p, n, "\"uid\""))
            r->format = TIDE_TEL_ZEEK_JSON;
        else if (r->opts.map)
            r->format = TIDE_TEL_NDJSON;
        else
            return tide_error_set(TIDE_EFORMAT,
                    "%s: line %llu: unknown JSON log shape; give --format ndjson with a field map",
                    r->name, (unsigned long long)r->rec_line);
        return 1;
    }
    if (tide__tel_looks_squid(p, n))
        r->format = TIDE_TEL_SQUID;
    else if (tide__tel_looks_weblog(p, n))
        r->format = TIDE_TEL_WEBLOG;
    else if (tide__tel_looks_cef(p, n))
        r->format = TIDE_TEL_CEF;
    else if (tide__tel_looks_syslog(p, n))
        r->format = TIDE_TEL_SYSLOG;
    else
        return tide_error_set(TIDE_EFORMAT,
                "%s: line %llu: cannot detect the log format (not Zeek, EVE, Sysmon, Squid, web "
                "access log, CEF or syslog); give --format",
                r->name, (unsigned long long)r->rec_line);
    return 1;
}

static int setup_format(tide_tel_reader *r)
{
    switch (r->format) {
    case TIDE_TEL_ZEEK_JSON:
    case TIDE_TEL_EVE:
    case TIDE_TEL_SYSMON:
    case TIDE_TEL_NDJSON:
        return tide__tel_json_setup(r);
    case TIDE_TEL_ZEEK_TSV:
        r->zsep = '\t';
        r->zsetsep = ',';
        return 0;
    default:
        return 0;
    }
}

/* ------------------------------------------------------------------ public API */

int tide_tel_open_fd(tide_tel_reader **out, int fd, const char *name, const tide_tel_opts *opts)
{
    *out = NULL;
    tide_tel_reader *r = tide__calloc(1, sizeof(*r));
    TIDE_CHECK_ALLOC(r);
    int rc = 0;
    r->fd = fd;
    if (opts)
        r->opts = *opts;
    r->format = r->opts.format;
    if ((int)r->format < 0 || r->format >= TIDE_TEL__COUNT) {
        rc = tide_error_set(TIDE_EINVAL, "bad telemetry format %d", (int)r->format);
        goto fail;
    }
    if (r->format == TIDE_TEL_NDJSON && r->opts.map == NULL) {
        rc = tide_error_set(TIDE_EINVAL, "%s: the ndjson format needs a field map",
                name ? name : "(fd)");
        goto fail;
    }
    r->max_line = r->opts.max_line ? r->opts.max_line : TIDE__TEL_DEFAULT_MAX_LINE;
    if (r->max_line > ((size_t)1 << 30))
        r->max_line = (size_t)1 << 30;
    r->name = tide__strdup(name ? name : "(fd)");
    r->cap = r->max_line + TIDE__TEL_READ_CHUNK;
    r->buf = tide__calloc(1, r->cap + TIDE__TEL_BUF_SLACK); /* slack: see TIDE__TEL_BUF_SLACK */
    r->scr_cap = 2 * r->max_line + 65536;
    /* + TIDE__TEL_BUF_SLACK: values in the scratch are read like those in the line buffer */
    r->scr = tide__malloc(r->scr_cap + TIDE__TEL_BUF_SLACK);
    if (r->scr)
        memset(r->scr + r->scr_cap, 0, TIDE__TEL_BUF_SLACK);
    if (!r->name || !r->buf || !r->scr) {
        rc = tide_error_set(TIDE_ENOMEM, "out of memory");
        goto fail;
    }
    r->home = r->opts.home_net;
    if (r->home == NULL) {
        rc = tide_homenet_new(&r->own_home, NULL);
        if (rc < 0)
            goto fail;
        r->home = r->own_home;
    }
    if (r->format != TIDE_TEL_AUTO) {
        rc = setup_format(r);
        if (rc < 0)
            goto fail;
    }
    *out = r;
    return 0;
fail:
    tide_tel_close(r);
    return rc;
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
    (*out)->own_fd = true;
#ifdef POSIX_FADV_SEQUENTIAL
    if (st_ok && S_ISREG(st.st_mode))
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    return 0;
}

/* The next event, its observations appended at r->nobs and its scratch at r->scr_len. With
 * hold, the events read before (a batch) must stay valid: TEL_HOLD instead of anything that
 * would move the buffer, run out of scratch or free Zeek column names (a header line). */
static int read_event(tide_tel_reader *r, tide_event *ev, bool hold)
{
    const size_t scr0 = r->scr_len;
    r->obs0 = r->nobs;
    for (;;) {
        r->nobs = r->obs0;
        r->scr_len = scr0;
        /* a record takes at most twice its length plus 64 KiB of scratch (the size the
         * scratch has for one record, see tide_tel_open_fd) */
        if (hold && r->arr) {
            /* an element is never longer than what is left in the buffer */
            size_t left = r->end - r->pos;
            if (left > r->max_line)
                left = r->max_line;
            if (r->scr_cap - r->scr_len < 2 * left + 65536)
                return TEL_HOLD;
        }
        char *p;
        size_t n;
        uint64_t off;
        int rc = r->arr ? next_element(r, &p, &n, &off, hold) : next_line(r, &p, &n, &off, hold);
        if (rc <= 0 || rc == TEL_HOLD)
            return rc;
        if (n == 0)
            continue;
        if (hold && !r->arr && (r->scr_cap - r->scr_len < 2 * n + 65536 ||
                                       (p[0] == '#' && r->format == TIDE_TEL_ZEEK_TSV))) {
            /* not enough scratch left, or a header, which may free the column names the
             * batch's events point to: the line is read first in the next batch */
            size_t at = (size_t)(p - r->buf);
            r->st.bytes -= r->pos - at;
            r->st.records--;
            r->line--;
            r->pos = at;
            return TEL_HOLD;
        }
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
            if (!r->arr && p[i] == '[' && (k == n || p[k] == '{' || p[k] == ']') &&
                    (r->format == TIDE_TEL_AUTO || r->format == TIDE_TEL_EVE ||
                            r->format == TIDE_TEL_SYSMON || r->format == TIDE_TEL_ZEEK_JSON ||
                            r->format == TIDE_TEL_NDJSON)) {
                size_t at = (size_t)(p + i - r->buf);
                r->st.bytes -= r->pos - at; /* give back the rest of the line */
                r->st.records--;
                r->line--;
                r->pos = at;
                r->arr = true;
                r->arr_open = false;
                r->arr_scan = 0;
                continue;
            }
        }
        memset(ev, 0, sizeof(*ev));
        ev->host = "";
        ev->line = r->rec_line;
        ev->offset = off;
        r->nipc = 0;
        r->bad = NULL;
        if (r->format == TIDE_TEL_AUTO) {
            size_t i = 0;
            while (i < n && (p[i] == ' ' || p[i] == '\t'))
                i++;
            if (i == n)
                continue;
            rc = detect(r, p, n);
            if (rc < 0) {
                r->done = true;
                return rc;
            }
            if (rc == 0)
                continue;
            rc = setup_format(r);
            if (rc < 0)
                return rc;
        }
        if (!r->line_ascii && !tide__utf8_valid(p, n)) {
            tide__tel_bad(r, r->rec_line, "invalid UTF-8");
            continue;
        }
        switch (r->format) {
        case TIDE_TEL_ZEEK_TSV:
            rc = tide__tel_zeek_line(r, p, n, ev);
            break;
        case TIDE_TEL_ZEEK_JSON:
        case TIDE_TEL_EVE:
        case TIDE_TEL_SYSMON:
        case TIDE_TEL_NDJSON:
            rc = tide__tel_json_line(r, p, n, ev);
            break;
        case TIDE_TEL_SQUID:
            rc = tide__tel_squid_line(r, p, n, ev);
            break;
        case TIDE_TEL_WEBLOG:
            rc = tide__tel_weblog_line(r, p, n, ev);
            break;
        case TIDE_TEL_CEF:
            rc = tide__tel_cef_line(r, p, n, ev);
            break;
        default:
            rc = tide__tel_syslog_line(r, p, n, ev);
            break;
        }
        if (rc == 0)
            continue;
        if (rc == -1) {
            tide__tel_bad(r, r->rec_line, r->bad ? r->bad : "malformed record");
            continue;
        }
        if (rc < 0)
            return rc;
        ev->nobs = r->nobs - r->obs0;
        ev->obs = ev->nobs ? r->obs + r->obs0 : NULL; /* r->obs is NULL until the first one */
        if (ev->kind == NULL)
            ev->kind = tide_tel_format_name(r->format);
        if (ev->host == NULL)
            ev->host = "";
        r->st.events++;
        return 1;
    }
}

/* The start of a read: an error met while filling the previous batch is returned first; the
 * record memory (observations, scratch) is reused from its start. */
static int begin_read(tide_tel_reader *r)
{
    int rc = r->pending_rc;
    r->pending_rc = 0;
    r->nobs = 0;
    r->scr_len = 0;
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
        evs[i].obs = evs[i].nobs ? r->obs + base : NULL;
        base += evs[i].nobs;
    }
    return 1;
}

tide_tel_format tide_tel_reader_format(const tide_tel_reader *r)
{
    return r->format;
}

void tide_tel_reader_stats(const tide_tel_reader *r, tide_tel_stats *out)
{
    *out = r->st;
}

void tide_tel_close(tide_tel_reader *r)
{
    if (r == NULL)
        return;
    if (r->own_fd && r->fd >= 0)
        close(r->fd);
    if (r->zs_init)
        inflateEnd(&r->zs);
    if (r->zd)
        ZSTD_freeDStream(r->zd);
    tide_homenet_free(r->own_home);
    tide__free(r->name);
    tide__free(r->buf);
    tide__free(r->in);
    tide__free(r->scr);
    tide__free(r->obs);
    tide__free(r->zempty);
    tide__free(r->zunset);
    tide__free(r->zpath);
    for (size_t i = 0; i < r->ncols; i++)
        tide__free(r->zcols[i]);
    tide__free(r->zcols);
    tide__free(r->zrole);
    tide__free(r->zrc);
    if (r->jpt)
        tide__jpt_free(r->jpt);
    tide__free(r->jpt);
    tide__free(r);
}
