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

#include "engine/engine_int.h"

/* snprintf-like writer: counts what it would write, stores what fits */
typedef struct {
    char *p;
    size_t cap, len;
} out;

static void put(out *o, const char *s, size_t n)
{
    if (o->len < o->cap) {
        size_t room = o->cap - o->len;
        memcpy(o->p + o->len, s, n < room ? n : room);
    }
    o->len += n;
}

static void puts_(out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void putc_(out *o, char c)
{
    put(o, &c, 1);
}

static void num(out *o, long long v)
{
    char b[32];
    int n = snprintf(b, sizeof(b), "%lld", v);
    put(o, b, (size_t)n);
}

static void unum(out *o, unsigned long long v)
{
    char b[32];
    int n = snprintf(b, sizeof(b), "%llu", v);
    put(o, b, (size_t)n);
}

/* JSON string of s/n: escapes, and invalid UTF-8 replaced by U+FFFD */
static void str(out *o, const char *s, size_t n)
{
    putc_(o, '"');
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            size_t j = i;
            while (j < n && (unsigned char)s[j] >= 0x20 && (unsigned char)s[j] < 0x80 &&
                    s[j] != '"' && s[j] != '\\')
                j++;
            put(o, s + i, j - i);
            i = j;
            continue;
        }
        if (c == '"' || c == '\\') {
            putc_(o, '\\');
            putc_(o, (char)c);
            i++;
        } else if (c < 0x20) {
            char b[8];
            snprintf(b, sizeof(b), "\\u%04x", c);
            puts_(o, b);
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
                puts_(o, "\\ufffd");
                i++;
            }
        }
    }
    putc_(o, '"');
}

static void key(out *o, const char *k)
{
    putc_(o, ',');
    putc_(o, '"');
    puts_(o, k);
    puts_(o, "\":");
}

static void kv(out *o, const char *k, const char *s, size_t n)
{
    key(o, k);
    str(o, s, n);
}

static void kvs(out *o, const char *k, const char *s)
{
    kv(o, k, s, strlen(s));
}

/* "campaign": first name, and "campaigns": [...] when there are several */
static void names(out *o, const char *one, const char *many, const char *list, size_t n)
{
    if (n == 0 || list == NULL)
        return;
    kvs(o, one, list);
    if (n < 2)
        return;
    key(o, many);
    putc_(o, '[');
    const char *p = list;
    for (size_t i = 0; i < n; i++) {
        if (i)
            putc_(o, ',');
        str(o, p, strlen(p));
        p += strlen(p) + 1;
    }
    putc_(o, ']');
}

/* what a live and a retro-sighting say alike about the indicator, from indicator_id on */
static void hit_fields(out *o, const tide_match_hit *h)
{
    kvs(o, "indicator_id", h->indicator_id);
    kvs(o, "type", tide_obs_kind_name(h->kind));
    names(o, "campaign", "campaigns", h->campaigns, h->ncampaigns);
    names(o, "malware", "malware_all", h->malware, h->nmalware);
    names(o, "actor", "actors", h->actors, h->nactors);
    if (h->confidence >= 0) {
        key(o, "confidence");
        num(o, h->confidence);
    }
    key(o, "score");
    num(o, h->score);
    if (h->tlp)
        kvs(o, "tlp", h->tlp);
    if (h->kill_chain)
        kvs(o, "kill_chain", h->kill_chain);
    if (h->source)
        kvs(o, "source", h->source);
    key(o, "suppressed");
    puts_(o, h->suppressed ? "true" : "false");
    if (h->suppressed && h->suppressed_by)
        kvs(o, "suppressed_by", h->suppressed_by);
    puts_(o, "}\n");
}

static size_t finish(out *o)
{
    if (o->cap > 0)
        o->p[o->len < o->cap ? o->len : o->cap - 1] = '\0';
    return o->len;
}

/* event time with microseconds, or null */
static void ts_us(out *o, int64_t us)
{
    if (us <= 0) {
        puts_(o, "null");
        return;
    }
    time_t secs = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char b[48];
    snprintf(b, sizeof(b), "\"%04d-%02d-%02dT%02d:%02d:%02d.%06dZ\"", tm.tm_year + 1900,
            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(us % 1000000));
    puts_(o, b);
}

size_t tide_sighting_json(const tide_sighting *s, char *buf, size_t cap)
{
    out o = { buf, cap, 0 };
    const tide_match_hit *h = s->hit;
    const tide_event *ev = s->event;
    puts_(&o, "{\"ts\":");
    ts_us(&o, ev->ts_us);
    kv(&o, "host", ev->host, ev->host_len);
    kv(&o, "observed", s->obs->value, s->obs->len);
    if (s->obs->field)
        kvs(&o, "field", s->obs->field);
    kvs(&o, "file", s->file ? s->file : "");
    key(&o, "line");
    unum(&o, (unsigned long long)ev->line);
    if (ev->kind)
        kvs(&o, "event", ev->kind);
    if (ev->user)
        kv(&o, "user", ev->user, ev->user_len);
    kv(&o, "indicator", h->value, h->value_len);
    hit_fields(&o, h);
    return finish(&o);
}

size_t tide_retro_sighting_json(const tide_retro_sighting *s, char *buf, size_t cap)
{
    out o = { buf, cap, 0 };
    const tide_match_hit *h = s->hit;
    char t[32];
    puts_(&o, "{\"host\":");
    str(&o, s->host, strlen(s->host));
    kv(&o, "indicator", h->value, h->value_len);
    kvs(&o, "observed", s->observed);
    tide_time_format(s->first_seen_us / 1000, t);
    kvs(&o, "first_seen", t);
    tide_time_format(s->last_seen_us / 1000, t);
    kvs(&o, "last_seen", t);
    key(&o, "count");
    unum(&o, (unsigned long long)s->count);
    kvs(&o, "file", s->file ? s->file : "");
    key(&o, "line");
    unum(&o, (unsigned long long)s->line);
    puts_(&o, ",\"retro\":true");
    hit_fields(&o, h);
    return finish(&o);
}
