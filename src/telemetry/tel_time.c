/*
 * tel_time.c - exact telemetry timestamps (SPEC C2): Zeek / Squid epoch decimals and ISO 8601 /
 * RFC 3339 texts to microseconds since the epoch, as integers (digits past microseconds are
 * dropped, never rounded through a double). Called by the parse functions for every record; the
 * common shapes are read eight digits at a time and the second of the previous record is kept
 * per thread (consecutive records mostly share it).
 *
 * Why hand-written: strptime / timegm are correct but locale-bound and far too slow per record.
 */
#include <stdlib.h>
#include <string.h>

#include "telemetry/tel_int.h"

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
        uint64_t w = tide__ld64(p);
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
    static const unsigned char pos[14] = { 0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18 };
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
        uint64_t k0 = tide__ld64(p), k1 = tide__ld64(p + 8);
        uint32_t k2 = tide__ld32(p + 15);
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
            static const int32_t sc[6] = { 100000, 10000, 1000, 100, 10, 1 };
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            /* exactly six digits (EVE's "...:03.391346+0000"): at once, as "00dddddd" */
            if (n - st >= 8 && (unsigned)(unsigned char)p[st + 6] - '0' > 9) {
                uint64_t x = tide__ld64(p + st) << 16 | 0x3030u;
                if (swar_digits8(x)) {
                    us = (int64_t)swar_value8(x);
                    i = st + 6;
                }
            } else if (n - st == 3) {
                /* milliseconds at the end (Sysmon's "...:00.123"): ".ddd" as one word,
                 * weighed as "00000ddd" */
                uint64_t x = (uint64_t)(tide__ld32(p + st - 1) >> 8) << 40 | 0x3030303030ull;
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
                (n - i == 5 && tide__ld32(p + i + 1) == 0x30303030u && p[i] == '+'))
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
