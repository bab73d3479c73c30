/*
 * str.c - small ASCII string helpers (locale-independent on purpose: feed values are ASCII
 * protocol text, and tolower() under a user's locale must not change matching).
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
