/*
 * wire.c - the one JSON form of sightings (SPEC C2) and retro-sightings (SPEC C3) that every
 * front end writes: `tide match` and `tide hunt` lines, the API's sighting routes and its live
 * stream. Written by hand, not with jansson: a match run can report millions of sightings, and
 * the values come straight from the logs (not NUL-terminated, maybe not UTF-8), so they are
 * escaped in place, invalid UTF-8 replaced by U+FFFD, without a DOM per line.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "engine/engine_int.h"

/* snprintf-like writer: counts what it would write, stores what fits */
typedef struct {
    char *p;
    size_t cap, len;
} out;

static inline void put(out *o, const char *s, size_t n)
{
    if (o->len <= o->cap && o->cap - o->len >= n) { /* the common case: it fits */
        memcpy(o->p + o->len, s, n);
    } else if (o->len < o->cap) {
        memcpy(o->p + o->len, s, o->cap - o->len);
    }
    o->len += n;
}

/* a string literal, its length known when compiling */
#define PUT_LIT(o, lit) put((o), (lit), sizeof(lit) - 1)

static void puts_(out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void putc_(out *o, char c)
{
    put(o, &c, 1);
}

/* Numbers and times by hand, not with snprintf: a match run can write millions of lines, and
 * printf's parsing and stream set-up was the biggest part of writing one. */
static void unum(out *o, unsigned long long v)
{
    char b[24];
    size_t i = sizeof(b);
    do {
        b[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    put(o, b + i, sizeof(b) - i);
}

static void num(out *o, long long v)
{
    if (v < 0) {
        putc_(o, '-');
        unum(o, 0ULL - (unsigned long long)v);
    } else {
        unum(o, (unsigned long long)v);
    }
}

/* bytes a JSON string carries as they are: printable ASCII but '"' and '\' */
static const unsigned char plain[256] = {
#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
    R16(0), R16(0),                                                 /* 0x00-0x1F: escaped */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,                 /* 0x20-0x2F: '"' escaped */
    R16(1), R16(1),                                                 /* 0x30-0x4F */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,                 /* 0x50-0x5F: '\' escaped */
    R16(1), R16(1),                                                 /* 0x60-0x7F */
    R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), /* UTF-8, checked */
#undef R16
};

/* The end of the run of plain bytes of s[i..n) */
static inline size_t plain_end(const char *s, size_t i, size_t n)
{
#ifdef __SSE2__
    /* 16 bytes at a time: a signed compare below 0x20 also takes the bytes from 0x80 */
    const __m128i sp = _mm_set1_epi8(0x20), q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
    while (i + 16 <= n) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i bad = _mm_or_si128(
                _mm_cmplt_epi8(v, sp), _mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)));
        unsigned m = (unsigned)_mm_movemask_epi8(bad);
        if (m)
            return i + (size_t)__builtin_ctz(m);
        i += 16;
    }
#endif
    while (i < n && plain[(unsigned char)s[i]])
        i++;
    return i;
}

/* JSON string of s/n: escapes, and invalid UTF-8 replaced by U+FFFD */
static void str(out *o, const char *s, size_t n)
{
    putc_(o, '"');
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (plain[c]) {
            size_t j = plain_end(s, i + 1, n);
            put(o, s + i, j - i);
            i = j;
            continue;
        }
        if (c == '"' || c == '\\') {
            char b[2] = { '\\', (char)c };
            put(o, b, 2);
            i++;
        } else if (c < 0x20) {
            static const char hex[] = "0123456789abcdef";
            char b[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            put(o, b, 6);
            i++;
        } else {
            size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
            bool ok = len > 0 && c < 0xF5 && i + len <= n;
            for (size_t k = 1; ok && k < len; k++)
                ok = ((unsigned char)s[i + k] & 0xC0) == 0x80;
            if (ok) {
                put(o, s + i, len);
                i += len;
            } else {
                PUT_LIT(o, "\\ufffd");
                i++;
            }
        }
    }
    putc_(o, '"');
}

/* ,"k": for a literal key k */
#define KEY(o, k) PUT_LIT((o), ",\"" k "\":")

static void kv(out *o, const char *k, size_t kn, const char *s, size_t n)
{
    put(o, k, kn);
    str(o, s, n);
}

/* ,"k":"s" for a literal key k */
#define KV(o, k, s, n) kv((o), ",\"" k "\":", sizeof(",\"" k "\":") - 1, (s), (n))
#define KVS(o, k, s)   KV(o, k, (s), strlen(s))

/* "campaign": first name, and "campaigns": [...] when there are several */
static void names(out *o, const char *one, size_t onen, const char *many, size_t manyn,
        const char *list, size_t n)
{
    if (n == 0 || list == NULL)
        return;
    kv(o, one, onen, list, strlen(list));
    if (n < 2)
        return;
    put(o, many, manyn);
    putc_(o, '[');
    const char *p = list;
    for (size_t i = 0; i < n; i++) {
        if (i)
            putc_(o, ',');
        size_t l = strlen(p);
        str(o, p, l);
        p += l + 1;
    }
    putc_(o, ']');
}

/* what a live and a retro-sighting say alike about the indicator, from indicator_id on */
static void hit_fields(out *o, const tide_match_hit *h)
{
    KVS(o, "indicator_id", h->indicator_id);
    KVS(o, "type", tide_obs_kind_name(h->kind));
#define NAMES(o, one, many, list, n)                                                               \
    names((o), ",\"" one "\":", sizeof(one) + 3, ",\"" many "\":", sizeof(many) + 3, (list), (n))
    NAMES(o, "campaign", "campaigns", h->campaigns, h->ncampaigns);
    NAMES(o, "malware", "malware_all", h->malware, h->nmalware);
    NAMES(o, "actor", "actors", h->actors, h->nactors);
#undef NAMES
    if (h->confidence >= 0) {
        KEY(o, "confidence");
        num(o, h->confidence);
    }
    KEY(o, "score");
    num(o, h->score);
    if (h->tlp)
        KVS(o, "tlp", h->tlp);
    if (h->kill_chain)
        KVS(o, "kill_chain", h->kill_chain);
    if (h->source)
        KVS(o, "source", h->source);
    if (h->suppressed)
        PUT_LIT(o, ",\"suppressed\":true");
    else
        PUT_LIT(o, ",\"suppressed\":false");
    if (h->suppressed && h->suppressed_by)
        KVS(o, "suppressed_by", h->suppressed_by);
    PUT_LIT(o, "}\n");
}

static size_t finish(out *o)
{
    if (o->cap > 0)
        o->p[o->len < o->cap ? o->len : o->cap - 1] = '\0';
    return o->len;
}

/* Two decimal digits of v (< 100) at b. */
static void d2(char *b, unsigned v)
{
    b[0] = (char)('0' + v / 10);
    b[1] = (char)('0' + v % 10);
}

/* event time with microseconds, or null. The calendar by hand (days to a civil date, Howard
 * Hinnant's algorithm), not gmtime_r + snprintf: it is written on every line; a year past 9999
 * takes the slow path, which prints it as gmtime says. */
static void ts_us(out *o, int64_t us)
{
    if (us <= 0) {
        PUT_LIT(o, "null");
        return;
    }
    int64_t secs = us / 1000000, days = secs / 86400;
    unsigned sod = (unsigned)(secs % 86400), frac = (unsigned)(us % 1000000);
    int64_t z = days + 719468, era = z / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153, day = doy - (153 * mp + 2) / 5 + 1;
    unsigned mon = mp < 10 ? mp + 3 : mp - 9;
    int64_t year = (int64_t)yoe + era * 400 + (mon <= 2);
    if (year > 9999) {
        time_t t = (time_t)secs;
        struct tm tm;
        gmtime_r(&t, &tm);
        char b[48];
        snprintf(b, sizeof(b), "\"%04d-%02d-%02dT%02d:%02d:%02d.%06dZ\"", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
        puts_(o, b);
        return;
    }
    char b[29] = "\"0000-00-00T00:00:00.000000Z\"";
    unsigned y = (unsigned)year;
    d2(b + 1, y / 100);
    d2(b + 3, y % 100);
    d2(b + 6, mon);
    d2(b + 9, day);
    d2(b + 12, sod / 3600);
    d2(b + 15, sod / 60 % 60);
    d2(b + 18, sod % 60);
    for (int i = 26; i > 20; i--, frac /= 10)
        b[i] = (char)('0' + frac % 10);
    put(o, b, 29);
}

size_t tide_sighting_json(const tide_sighting *s, char *buf, size_t cap)
{
    out o = { buf, cap, 0 };
    const tide_match_hit *h = s->hit;
    const tide_event *ev = s->event;
    PUT_LIT(&o, "{\"ts\":");
    ts_us(&o, ev->ts_us);
    KV(&o, "host", ev->host, ev->host_len);
    KV(&o, "observed", s->obs->value, s->obs->len);
    if (s->obs->field)
        KVS(&o, "field", s->obs->field);
    KVS(&o, "file", s->file ? s->file : "");
    KEY(&o, "line");
    unum(&o, (unsigned long long)ev->line);
    if (ev->kind)
        KVS(&o, "event", ev->kind);
    if (ev->user)
        KV(&o, "user", ev->user, ev->user_len);
    KV(&o, "indicator", h->value, h->value_len);
    hit_fields(&o, h);
    return finish(&o);
}

size_t tide_retro_sighting_json(const tide_retro_sighting *s, char *buf, size_t cap)
{
    out o = { buf, cap, 0 };
    const tide_match_hit *h = s->hit;
    char t[32];
    PUT_LIT(&o, "{\"host\":");
    str(&o, s->host, strlen(s->host));
    KV(&o, "indicator", h->value, h->value_len);
    KVS(&o, "observed", s->observed);
    tide_time_format(s->first_seen_us / 1000, t);
    KVS(&o, "first_seen", t);
    tide_time_format(s->last_seen_us / 1000, t);
    KVS(&o, "last_seen", t);
    KEY(&o, "count");
    unum(&o, (unsigned long long)s->count);
    KVS(&o, "file", s->file ? s->file : "");
    KEY(&o, "line");
    unum(&o, (unsigned long long)s->line);
    PUT_LIT(&o, ",\"retro\":true");
    hit_fields(&o, h);
    return finish(&o);
}
