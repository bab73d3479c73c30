/*
 * time.c - RFC 3339 timestamps <-> milliseconds since the epoch, UTC, without the C library's
 * locale and timezone state (timegm is not C11; the civil-date arithmetic is Howard Hinnant's).
 * A timestamp names a real instant: year 0000-9999 (four digits), a day that exists in its
 * month, hours 0-23, minutes 0-59, seconds 0-60 (a leap second), offsets up to 23:59.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/util.h"

int64_t tide__days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t yy = (int64_t)yoe + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Whether Y-M-D names a day of the calendar (no 2021-02-30, no month 13). */
static bool valid_date(int y, int m, int d)
{
    static const unsigned char mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (m < 1 || m > 12 || d < 1)
        return false;
    return d <= mdays[m - 1] + (m == 2 && leap(y));
}

int tide__time_parse(const char *s, int64_t *out_ms)
{
    int Y, M, D, h = 0, mi = 0, sec = 0;
    int64_t frac_ms = 0;
    size_t n = strlen(s);
    if (n < 10 || digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' ||
            digits(s + 8, 2, &D))
        goto bad;
    const char *p = s + 10;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (strlen(p) < 5 || digits(p, 2, &h) || p[2] != ':' || digits(p + 3, 2, &mi))
            goto bad;
        p += 5;
        if (*p == ':') {
            if (digits(p + 1, 2, &sec))
                goto bad;
            p += 3;
            if (*p == '.') {
                p++;
                int nd = 0;
                int64_t scale = 100;
                while (*p >= '0' && *p <= '9') {
                    if (nd < 3)
                        frac_ms += (*p - '0') * scale;
                    scale /= 10;
                    nd++;
                    p++;
                }
                if (nd == 0)
                    goto bad;
            }
        }
        int64_t off_min = 0;
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int oh, om;
            int sign = *p == '-' ? -1 : 1;
            if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
                goto bad;
            off_min = sign * (oh * 60 + om);
            p += 6;
        }
        if (*p != '\0')
            goto bad;
        if (!valid_date(Y, M, D) || h > 23 || mi > 59 || sec > 60)
            goto bad;
        int64_t days = tide__days_from_civil(Y, (unsigned)M, (unsigned)D);
        *out_ms = ((days * 86400 + h * 3600 + mi * 60 + sec) - off_min * 60) * 1000 + frac_ms;
        return 0;
    }
    if (*p != '\0' || !valid_date(Y, M, D))
        goto bad;
    *out_ms = tide__days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 * 1000;
    return 0;
bad:
    return tide_error_set(TIDE_EPARSE, "invalid timestamp '%.64s'", s);
}

void tide__time_format(int64_t ms, char out[32])
{
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int msr = (int)(ms - secs * 1000);
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int64_t rem = secs - days * 86400;
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0)
        y = 0;
    if (y > 9999)
        y = 9999;
    char tmp[96];
    snprintf(tmp, sizeof(tmp), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", y, m % 13, d % 32,
            (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), msr % 1000);
    memcpy(out, tmp, 31);
    out[31] = '\0';
}

int64_t tide__time_now_ms(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int tide_time_parse(const char *s, int64_t *out_ms)
{
    size_t n = strlen(s);
    if (n >= 2 && n < 20) {
        char unit = s[n - 1];
        int64_t mult = unit == 'd'   ? 86400000
                       : unit == 'h' ? 3600000
                       : unit == 'm' ? 60000
                       : unit == 's' ? 1000
                                     : 0;
        bool digits_only = mult != 0;
        for (size_t i = 0; i + 1 < n && digits_only; i++)
            digits_only = s[i] >= '0' && s[i] <= '9';
        if (digits_only) {
            int64_t v = 0;
            for (size_t i = 0; i + 1 < n; i++)
                v = v * 10 + (s[i] - '0');
            *out_ms = tide__time_now_ms() - v * mult;
            return 0;
        }
    }
    return tide__time_parse(s, out_ms);
}

void tide_time_format(int64_t ms, char out[32])
{
    tide__time_format(ms, out);
}
