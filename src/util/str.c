/*
 * str.c - small ASCII string helpers (locale-independent on purpose: feed values are ASCII
 * protocol text, and tolower() under a user's locale must not change matching), and the UTF-8
 * check and repair feed readers apply to text that becomes JSON.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

void tide__str_lower(char *s)
{
    tide__mem_lower(s, strlen(s));
}

void tide__mem_lower(char *s, size_t n)
{
    /* eight bytes at a time: bit 7 of each byte marks 'A'..'Z' (bytes >= 0x80 unchanged) */
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        uint64_t h = x & ~high;
        uint64_t upper = ~x & ((h + (0x80 - 'A') * ones) ^ (h + (0x7F - 'Z') * ones)) & high;
        x |= upper >> 2;
        memcpy(s + i, &x, 8);
    }
    for (; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            s[i] = (char)(s[i] + ('a' - 'A'));
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

char *tide__str_trim(char *s)
{
    while (is_space(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_space(s[n - 1]))
        s[--n] = '\0';
    return s;
}

bool tide__str_starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool tide__str_ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

bool tide__str_is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

int tide__parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0')
        return tide_error_set(TIDE_EPARSE, "not an integer: '%s'", s);
    *out = v;
    return 0;
}

bool tide__looks_binary(const void *p, size_t n)
{
    const unsigned char *b = p;
    size_t ctl = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = b[i];
        if (c == 0)
            return true;
        ctl += (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v') ||
               c == 0x7F;
    }
    return ctl * 20 > n;
}

/* Length of the valid UTF-8 sequence at s (n bytes readable): 1-4, or 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* the second byte's range */
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* over U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if ((s[k] & 0xC0) != 0x80)
            return 0;
    return len;
}

size_t tide__utf8_invalid_at(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t l = utf8_seq(p + i, n - i);
        if (l == 0)
            return i;
        i += l;
    }
    return n;
}

int tide__utf8_repair(tide_buf *out, const char *s, size_t n)
{
    size_t i = 0;
    TIDE_CHECK(tide__buf_put(out, "", 0)); /* "" for empty input */
    while (i < n) {
        size_t bad = i + tide__utf8_invalid_at(s + i, n - i);
        TIDE_CHECK(tide__buf_put(out, s + i, bad - i));
        if (bad == n)
            break;
        TIDE_CHECK(tide__buf_put(out, "\xEF\xBF\xBD", 3));
        i = bad + 1;
    }
    return 0;
}

void tide__utf8_repair_into(char *out, size_t outsz, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0, i = 0;
    if (outsz == 0)
        return;
    while (i < n) {
        size_t l = utf8_seq(p + i, n - i);
        const char *src = l ? s + i : "\xEF\xBF\xBD";
        size_t sl = l ? l : 3;
        if (o + sl >= outsz)
            break;
        memcpy(out + o, src, sl);
        o += sl;
        i += l ? l : 1;
    }
    out[o] = '\0';
}
