/*
 * tel_frame.h - the framing of the telemetry reader (tel_frame.c), with its per-line fast path
 * inline: a complete line in the buffer is cut where the reader asks for it (tel_reader.c), without
 * a call; everything else (refills, the line cap, the end of the input, JSON-array elements, the
 * first line) goes to tide__tel_frame_more. Same results either way.
 */
#ifndef TIDE_TELEMETRY_TEL_FRAME_H
#define TIDE_TELEMETRY_TEL_FRAME_H

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "telemetry/tel_int.h"

/* The first '\n' in [s, e) or NULL; *hi gets whether a byte >= 0x80 comes before it (or
 * before e). One pass instead of memchr plus the UTF-8 check's ASCII scan. */
static inline char *tide__tel_find_nl(char *s, char *e, bool *hi)
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
            uint32_t h = ((uint32_t)_mm_movemask_epi8(x) | (uint32_t)_mm_movemask_epi8(y) << 16) &
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

/* tide__tel_frame_next for every case (out of line). */
int tide__tel_frame_more(tide_tel_reader *r, char **p, size_t *n, uint64_t *off, bool hold);

/* The next non-empty record (a line without "\n" and a trailing "\r", or a JSON-array element;
 * the first non-blank line decides whether the input is a JSON array when r->arr_ok) at *p / *n,
 * its stream offset in *off and its line in r->rec_line (r->line_ascii: no byte >= 0x80 in it).
 * 1 record, 0 end (for now), < 0 error, TIDE__TEL_HOLD when hold is set and no complete record is
 * left in the buffer. Lines over the cap are reported through tide__tel_bad and skipped. */
__attribute__((always_inline)) static inline int tide__tel_frame_next(
        tide_tel_reader *r, char **p, size_t *n, uint64_t *off, bool hold)
{
    /* a complete line of 1..max_line bytes in the buffer, past the first line of a line file */
    if (TIDE__LIKELY(r->first_seen & !r->arr & !r->skipping) && r->pos < r->end) {
        char *s = r->buf + r->pos;
        bool hi;
        char *nl = tide__tel_find_nl(s, r->buf + r->end, &hi);
        if (TIDE__LIKELY(nl != NULL)) {
            size_t k = (size_t)(nl - s);
            if (TIDE__LIKELY(k - 1 < r->ps.max_line)) {
                *off = r->base_off + r->pos;
                r->pos += k + 1;
                r->st.bytes += k + 1;
                r->st.records++;
                r->line++;
                if (s[k - 1] == '\r')
                    k--;
                if (TIDE__LIKELY(k > 0)) {
                    r->rec_line = r->line;
                    r->line_ascii = !hi;
                    *p = s;
                    *n = k;
                    return 1;
                }
                /* an empty line: skipped, as by tide__tel_frame_more */
            }
        }
    }
    return tide__tel_frame_more(r, p, n, off, hold);
}

#endif
