/*
 * tel_text.c - the text telemetry formats: Squid native access.log, Apache / nginx common and
 * combined logs, syslog (RFC 3164 and 5424 headers) and CEF, plus the free-text observable
 * scanner used on syslog messages.
 *
 * Why hand-written: PCRE2 could find candidates, but deciding what is an observable needs
 * checks a regex cannot express cheaply (octet ranges, IPv6 via inet_pton, a TLD allowlist,
 * exact hash lengths with non-hex boundaries), so one linear tokenizer does it all in a pass.
 *
 * Domain heuristic of the scanner: a token of letters/digits/'-'/'_' labels with at least one
 * dot whose last label is letters only, 2-24 long, and either a two-letter country code (minus a
 * few that are mostly file extensions: so, py, sh, gz, xz, rs, pm) or a gTLD from a short list
 * of the ones common in threat intel. That keeps "foo.log", "libc.so", "java.lang" out.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "telemetry/tel_int.h"
#include "tide/errors.h"

/* ------------------------------------------------------------------ small helpers */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}
static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static bool is_alnum(char c)
{
    return is_digit(c) || is_alpha(c);
}

static const char *skip_sp(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

static const char *tok_end(const char *p, const char *e)
{
    while (p < e && *p != ' ' && *p != '\t')
        p++;
    return p;
}

static int month_of(const char *p)
{
    static const char *const m[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
        "Oct", "Nov", "Dec" };
    for (int i = 0; i < 12; i++)
        if (memcmp(p, m[i], 3) == 0)
            return i + 1;
    return 0;
}

static bool two(const char *p, int *v)
{
    if (!is_digit(p[0]) || !is_digit(p[1]))
        return false;
    *v = (p[0] - '0') * 10 + (p[1] - '0');
    return true;
}

/* ------------------------------------------------------------------ free-text scanner */

static const char *const gtlds[] = { "com", "net", "org", "info", "biz", "edu", "gov", "mil", "int",
    "arpa", "xyz", "top", "online", "site", "club", "shop", "store", "app", "dev", "cloud", "live",
    "tech", "space", "website", "icu", "vip", "work", "life", "world", "today", "link", "click",
    "download", "win", "bid", "loan", "date", "racing", "stream", "review", "trade", "party",
    "science", "cricket", "faith", "accountant", "men", "host", "press", "fun", "monster", "rest",
    "buzz", "cyou", "sbs", "bond", "cfd", "lol", "pro", "mobi", "name", "tel", "asia", "jobs",
    "onion", "email", "company", "support", "services", "network", "digital", "news", "blog",
    "media", "global", "group", "solutions", "systems", "zone", "center", "agency", "best", "guru",
    "ltd", "one", "run", "red", "blue", "pink", "mom", "quest", "autos", "beauty", "hair", "skin",
    "lat", "kim", "wang", "ren", "xin", "cam", "casa", "fit", "gdn", "men", "ooo", "rocks", "uno",
    "bar", "cab", "ink", "wiki", "exchange", "finance", "money", "cash", "bet", "poker", "game",
    "games", "social", "chat", "page", "web", "local", "lan", "corp", "home", "internal", "example",
    "test", "invalid", "localhost", NULL };

static bool tld_ok(const char *t, size_t n)
{
    if (n < 2 || n > 24)
        return false;
    char lc[25];
    for (size_t i = 0; i < n; i++) {
        if (!is_alpha(t[i]))
            return false;
        lc[i] = (char)(t[i] | 32);
    }
    lc[n] = '\0';
    if (n == 2) {
        static const char *const deny[] = { "so", "py", "sh", "gz", "xz", "rs", "pm", NULL };
        for (int i = 0; deny[i]; i++)
            if (strcmp(deny[i], lc) == 0)
                return false;
        return true;
    }
    for (int i = 0; gtlds[i]; i++)
        if (strcmp(gtlds[i], lc) == 0)
            return true;
    return false;
}

static bool text_domain(const char *p, size_t n)
{
    if (n < 4 || n > 253)
        return false;
    size_t lab = 0, last = 0, dots = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '.') {
            if (lab == 0 || p[i - 1] == '-')
                return false;
            lab = 0;
            last = i + 1;
            dots++;
        } else if (is_alnum(c) || c == '-') {
            if (lab == 0 && c == '-')
                return false;
            if (++lab > 63)
                return false;
        } else
            return false;
    }
    if (dots == 0 || lab == 0)
        return false;
    return tld_ok(p + last, n - last);
}

static bool all_digits(const char *p, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_digit(p[i]))
            return false;
    return true;
}

static void classify_simple(tide_tel_parser *r, const char *p, size_t n, const char *field)
{
    if (n == 0)
        return;
    uint8_t a[4];
    if (tide__ip4_parse(p, n, a)) {
        tide__tel_obs(r, TIDE_OBS_IPV4, p, n, field);
        return;
    }
    if ((n == 32 || n == 40 || n == 64) && tide__is_hex(p, n)) {
        tide__tel_obs(r,
                n == 32   ? TIDE_OBS_MD5
                : n == 40 ? TIDE_OBS_SHA1
                          : TIDE_OBS_SHA256,
                p, n, field);
        return;
    }
    if (n == 128 && tide__is_hex(p, n)) {
        tide__tel_obs(r, TIDE_OBS_SHA512, p, n, field);
        return;
    }
    if (text_domain(p, n))
        tide__tel_obs(r, TIDE_OBS_DOMAIN, p, n, field);
}

static void classify_token(tide_tel_parser *r, const char *p, size_t n, const char *field)
{
    /* trim punctuation that ends sentences or wraps values */
    while (n && (p[0] == '.' || p[0] == ':' || p[0] == '-' || p[0] == '_' || p[0] == '+'))
        p++, n--;
    while (n && (p[n - 1] == '.' || p[n - 1] == ':' || p[n - 1] == '-' || p[n - 1] == '_' ||
                        p[n - 1] == '+'))
        n--;
    if (n < 4)
        return;
    const char *at = NULL;
    size_t colons = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '@')
            at = p + i;
        else if (p[i] == ':')
            colons++;
    }
    if (at) {
        size_t ln = (size_t)(at - p), dn = n - ln - 1;
        bool local_ok = ln > 0 && colons == 0;
        for (size_t i = 0; i < ln && local_ok; i++)
            if (!(is_alnum(p[i]) || p[i] == '.' || p[i] == '_' || p[i] == '-' || p[i] == '+'))
                local_ok = false;
        if (local_ok && text_domain(at + 1, dn))
            tide__tel_obs(r, TIDE_OBS_EMAIL, p, n, field);
        else if (!local_ok && colons == 0)
            classify_simple(r, at + 1, dn, field);
        return;
    }
    if (colons >= 2) {
        uint8_t a6[16];
        if (tide__ip6_parse(p, n, 0, a6)) {
            tide__tel_obs(r, TIDE_OBS_IPV6, p, n, field);
            return;
        }
    }
    if (colons == 1) {
        const char *c = memchr(p, ':', n);
        size_t hn = (size_t)(c - p), pn = n - hn - 1;
        uint8_t a[4];
        if (tide__ip4_parse(p, hn, a) && all_digits(c + 1, pn) && pn <= 5) {
            tide__tel_obs(r, TIDE_OBS_IPV4, p, hn, field);
            tide__tel_obs(r, TIDE_OBS_IP_PORT, p, n, field);
            return;
        }
    }
    if (colons) {
        const char *s = p, *e = p + n;
        while (s < e) {
            const char *c = memchr(s, ':', (size_t)(e - s));
            const char *ce = c ? c : e;
            classify_simple(r, s, (size_t)(ce - s), field);
            s = ce + 1;
        }
        return;
    }
    classify_simple(r, p, n, field);
}

static bool tok_char(char c)
{
    return is_alnum(c) || c == '.' || c == '-' || c == '_' || c == ':' || c == '@' || c == '+' ||
           (unsigned char)c >= 0x80;
}

static bool url_char(char c)
{
    return (unsigned char)c > 0x20 && c != '"' && c != '\'' && c != '<' && c != '>' && c != '`' &&
           c != '|' && c != '{' && c != '}' && c != '^' && c != '\\' && (unsigned char)c != 0x7f;
}

void tide__tel_scan_text(tide_tel_parser *r, const char *p, size_t n, const char *field)
{
    size_t i = 0;
    while (i < n) {
        char c = p[i];
        if (!tok_char(c)) {
            i++;
            continue;
        }
        /* a URL? scheme letters then "://" */
        if (is_alpha(c) && (i == 0 || !is_alnum(p[i - 1]))) {
            size_t k = i;
            while (k < n && k - i < 12 &&
                    (is_alnum(p[k]) || p[k] == '+' || p[k] == '-' || p[k] == '.'))
                k++;
            if (k - i >= 2 && k + 3 < n && p[k] == ':' && p[k + 1] == '/' && p[k + 2] == '/') {
                size_t e = k + 3;
                while (e < n && url_char(p[e]))
                    e++;
                while (e > k + 3 && (p[e - 1] == '.' || p[e - 1] == ',' || p[e - 1] == ';' ||
                                            p[e - 1] == ':' || p[e - 1] == ')' || p[e - 1] == '!' ||
                                            p[e - 1] == '?' || p[e - 1] == ']'))
                    e--;
                if (e > k + 3)
                    tide__tel_obs_url(r, p + i, e - i, field, field);
                i = e;
                continue;
            }
        }
        size_t e = i;
        while (e < n && tok_char(p[e]))
            e++;
        classify_token(r, p + i, e - i, field);
        i = e;
    }
}

/* ------------------------------------------------------------------ detection (the format
 * table's detect functions, offered the first line that is neither a '#' nor a '{' line) */

bool tide__tel_squid_detect(const char *p, size_t n, const tide_tel_opts *o)
{
    (void)o;
    const char *e = p + n, *q = p;
    /* epoch.ms */
    const char *t = tok_end(q, e);
    const char *dot = memchr(q, '.', (size_t)(t - q));
    if (dot == NULL || dot == q || t - q < 5)
        return false;
    for (const char *s = q; s < t; s++)
        if (!is_digit(*s) && s != dot)
            return false;
    q = skip_sp(t, e);
    t = tok_end(q, e);
    if (t == q || !all_digits(q, (size_t)(t - q)))
        return false;
    q = skip_sp(t, e);
    t = tok_end(q, e); /* client */
    if (t == q)
        return false;
    q = skip_sp(t, e);
    t = tok_end(q, e); /* action/code */
    return t > q && memchr(q, '/', (size_t)(t - q)) != NULL;
}

bool tide__tel_weblog_detect(const char *p, size_t n, const tide_tel_opts *o)
{
    (void)o;
    const char *e = p + n, *q = p;
    for (int k = 0; k < 3; k++) {
        const char *t = tok_end(q, e);
        if (t == q || t >= e || *t != ' ')
            return false;
        q = t + 1;
    }
    if (q >= e || *q != '[')
        return false;
    const char *rb = memchr(q, ']', (size_t)(e - q));
    return rb && rb + 2 < e && rb[1] == ' ' && rb[2] == '"';
}

bool tide__tel_cef_detect(const char *p, size_t n, const tide_tel_opts *o)
{
    (void)o;
    for (size_t i = 0; i + 4 <= n && i < 512; i++)
        if (p[i] == 'C' && memcmp(p + i, "CEF:", 4) == 0 && (i == 0 || p[i - 1] == ' '))
            return memchr(p + i, '|', n - i) != NULL;
    return false;
}

static bool is_3164_ts(const char *p, size_t n)
{
    int v;
    return n >= 16 && month_of(p) && p[3] == ' ' && (is_digit(p[4]) || p[4] == ' ') &&
           is_digit(p[5]) && p[6] == ' ' && two(p + 7, &v) && p[9] == ':' && two(p + 10, &v) &&
           p[12] == ':' && two(p + 13, &v);
}

bool tide__tel_syslog_detect(const char *p, size_t n, const tide_tel_opts *o)
{
    (void)o;
    size_t i = 0;
    if (n && p[0] == '<') {
        i = 1;
        while (i < n && i < 5 && is_digit(p[i]))
            i++;
        if (i == 1 || i >= n || p[i] != '>')
            return false;
        i++;
        if (i + 1 < n && is_digit(p[i]) && p[i + 1] == ' ')
            return true; /* RFC 5424 version */
    }
    if (is_3164_ts(p + i, n - i))
        return true;
    int64_t us;
    const char *sp = memchr(p + i, ' ', n - i);
    return sp && tide__tel_iso_us(p + i, (size_t)(sp - p - i), &us);
}

/* ------------------------------------------------------------------ squid */

#ifndef __SSE2__
/* Bits of the blanks (space, tab) in q[0..16), only below e (the portable path of
 * blank_mask64). The line buffer has TIDE__TEL_BUF_SLACK readable bytes past its data. */
static inline uint32_t blank_mask(const char *q, const char *e)
{
    size_t left = (size_t)(e - q);
    uint32_t valid = left >= 16 ? 0xFFFFu : (1u << left) - 1;
    uint32_t m = 0;
    for (size_t i = 0; i < 16; i++)
        m |= (uint32_t)(q[i] == ' ' || q[i] == '\t') << i;
    return m & valid;
}
#endif

/* Blank bits of w[0..64) (only below e): four loads spelled out (the line buffer has
 * TIDE__TEL_BUF_SLACK = 64 readable bytes past its data and w < e), one mask for the end. */
static inline uint64_t blank_mask64(const char *w, const char *e)
{
    size_t left = (size_t)(e - w);
    uint64_t valid = left >= 64 ? ~0ull : ((1ull << left) - 1);
#ifdef __SSE2__
    const __m128i sp = _mm_set1_epi8(' '), tab = _mm_set1_epi8('\t');
    const __m128i *v = (const __m128i *)(const void *)w;
    __m128i x0 = _mm_loadu_si128(v), x1 = _mm_loadu_si128(v + 1), x2 = _mm_loadu_si128(v + 2),
            x3 = _mm_loadu_si128(v + 3);
#define BLANK16(x)                                                                                 \
    ((uint64_t)(uint32_t)_mm_movemask_epi8(                                                        \
            _mm_or_si128(_mm_cmpeq_epi8(x, sp), _mm_cmpeq_epi8(x, tab))))
    uint64_t m = BLANK16(x0) | BLANK16(x1) << 16 | BLANK16(x2) << 32 | BLANK16(x3) << 48;
#undef BLANK16
    return m & valid;
#else
    uint64_t m = 0;
    for (int k = 0; k < 4 && w + 16 * k < e; k++)
        m |= (uint64_t)blank_mask(w + 16 * k, e) << (16 * k);
    return m & valid;
#endif
}

int tide__tel_squid_line(tide_tel_parser *r, char *p, size_t n, tide_event *ev)
{
    const char *e = p + n;
    tide__sv f[10];
    size_t nf = 0, ne = 0;
    /* The fields (runs of non-blanks; the tenth runs to the end of the line) from the edges of
     * the blank bits, 64 bytes at a time: the field starts and the field ends of a window are
     * two masks, taken one bit search each (the k-th end closes the k-th field). */
    uint64_t carry = 0; /* the byte before the window is inside a field */
    for (const char *w = p; w < e; w += 64) {
        size_t k = (size_t)(e - w);
        uint64_t valid = k >= 64 ? ~0ull : ((1ull << k) - 1);
        uint64_t nb = ~blank_mask64(w, e) & valid;
        uint64_t prev = nb << 1 | carry;
        uint64_t starts = nb & ~prev, ends = ~nb & prev & valid;
        carry = nb >> 63;
        for (; starts && nf < 10; starts &= starts - 1)
            f[nf++].p = w + __builtin_ctzll(starts);
        for (; ends && ne < 9; ends &= ends - 1, ne++)
            f[ne].n = (size_t)(w + __builtin_ctzll(ends) - f[ne].p);
        if (nf == 10)
            break;
    }
    if (ne < nf) /* the last field (or the tenth) runs to the end of the line */
        f[ne].n = (size_t)(e - f[ne].p), ne++;
    if (nf < 7) {
        r->bad = "squid: fewer than 7 fields";
        return -1;
    }
    if (!tide__tel_epoch_us(f[0].p, f[0].n, &ev->ts_us)) {
        r->bad = "squid: bad timestamp";
        return -1;
    }
    if (memchr(f[3].p, '/', f[3].n) == NULL) {
        r->bad = "squid: bad action/code field";
        return -1;
    }
    ev->kind = "proxy";
    ev->host = f[2].p;
    ev->host_len = f[2].n;
    tide__sv m = f[5], u = f[6];
    if (m.n == 7 && memcmp(m.p, "CONNECT", 7) == 0) {
        tide__tel_obs_hostname(r, u.p, u.n, "url");
        const char *c = u.n ? memchr(u.p, ':', u.n) : NULL;
        if (c && u.p[0] != '[')
            tide__tel_obs_ipport(
                    r, u.p, (size_t)(c - u.p), c + 1, u.n - (size_t)(c - u.p) - 1, "url");
    } else
        tide__tel_obs_url(r, u.p, u.n, "url", "url");
    if (nf > 7 && !(f[7].n == 1 && f[7].p[0] == '-')) {
        ev->user = f[7].p;
        ev->user_len = f[7].n;
    }
    if (nf > 8) {
        const char *sl = memchr(f[8].p, '/', f[8].n);
        if (sl)
            tide__tel_obs_ip(r, sl + 1, f[8].n - (size_t)(sl + 1 - f[8].p), "peer");
    }
    return 1;
}

/* ------------------------------------------------------------------ web access logs */

static bool clf_time(const char *p, size_t n, int64_t *out)
{
    /* 17/May/2015:10:05:03 +0000 */
    int d, h, mi, s, y1, y2;
    if (n < 20 || !two(p, &d) || p[2] != '/' || p[6] != '/' || !two(p + 7, &y1) ||
            !two(p + 9, &y2) || p[11] != ':' || !two(p + 12, &h) || p[14] != ':' ||
            !two(p + 15, &mi) || p[17] != ':' || !two(p + 18, &s))
        return false;
    int mo = month_of(p + 3);
    if (!mo)
        return false;
    int64_t off = 0;
    if (n >= 26 && p[20] == ' ' && (p[21] == '+' || p[21] == '-')) {
        int oh, om;
        if (!two(p + 22, &oh) || !two(p + 24, &om))
            return false;
        off = (p[21] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    }
    int64_t days = tide__days_from_civil(y1 * 100 + y2, (unsigned)mo, (unsigned)d);
    *out = (days * 86400 + h * 3600 + mi * 60 + s - off) * 1000000;
    return true;
}

static const char *quoted_end(const char *q, const char *e)
{
    /* q after the opening quote; returns the closing quote or NULL */
    while (q < e) {
        if (*q == '\\' && q + 1 < e) {
            q += 2;
            continue;
        }
        if (*q == '"')
            return q;
        q++;
    }
    return NULL;
}

int tide__tel_weblog_line(tide_tel_parser *r, char *p, size_t n, tide_event *ev)
{
    const char *e = p + n, *q = p;
    tide__sv f[3];
    for (int k = 0; k < 3; k++) {
        const char *t = tok_end(q, e);
        if (t == q || t >= e) {
            r->bad = "web log: truncated record";
            return -1;
        }
        f[k].p = q;
        f[k].n = (size_t)(t - q);
        q = skip_sp(t, e);
    }
    if (q >= e || *q != '[') {
        r->bad = "web log: expected [time]";
        return -1;
    }
    const char *rb = memchr(q, ']', (size_t)(e - q));
    if (rb == NULL || !clf_time(q + 1, (size_t)(rb - q - 1), &ev->ts_us)) {
        r->bad = "web log: bad [time]";
        return -1;
    }
    q = skip_sp(rb + 1, e);
    if (q >= e || *q != '"') {
        r->bad = "web log: expected \"request\"";
        return -1;
    }
    const char *qe = quoted_end(q + 1, e);
    if (qe == NULL) {
        r->bad = "web log: unterminated \"request\"";
        return -1;
    }
    tide__sv req = { q + 1, (size_t)(qe - q - 1) };
    q = skip_sp(qe + 1, e);
    const char *t = tok_end(q, e);
    if (t == q || !all_digits(q, (size_t)(t - q))) {
        r->bad = "web log: bad status";
        return -1;
    }
    q = skip_sp(t, e);
    t = tok_end(q, e); /* bytes */
    q = skip_sp(t, e);
    ev->kind = "web";
    ev->host = f[0].p;
    ev->host_len = f[0].n;
    tide__tel_obs_ip(r, f[0].p, f[0].n, "client");
    if (!(f[2].n == 1 && f[2].p[0] == '-')) {
        ev->user = f[2].p;
        ev->user_len = f[2].n;
    }
    /* request: METHOD target VERSION */
    const char *rs = req.p, *re = req.p + req.n;
    const char *m_end = tok_end(rs, re);
    const char *tg = skip_sp(m_end, re);
    const char *tg_end = tok_end(tg, re);
    if (tg_end > tg) {
        if ((size_t)(m_end - rs) == 7 && memcmp(rs, "CONNECT", 7) == 0)
            tide__tel_obs_hostname(r, tg, (size_t)(tg_end - tg), "request");
        else if (tg[0] != '/')
            tide__tel_obs_url(r, tg, (size_t)(tg_end - tg), "request", "request");
        else /* origin form: the path (and query), matched against url-path indicators */
            tide__tel_obs(r, TIDE_OBS_URL_PATH, tg, (size_t)(tg_end - tg), "request");
    }
    if (q < e && *q == '"') {
        const char *re2 = quoted_end(q + 1, e);
        if (re2 && re2 > q + 1)
            tide__tel_obs_url(r, q + 1, (size_t)(re2 - q - 1), "referer", NULL);
    }
    return 1;
}

/* ------------------------------------------------------------------ syslog */

typedef struct {
    int64_t ts;
    tide__sv host;
    const char *msg;
} sl_hdr;

/* Parse a syslog header; false when the line is not syslog. */
static bool syslog_header(const char *p, size_t n, sl_hdr *h)
{
    const char *e = p + n, *q = p;
    memset(h, 0, sizeof(*h));
    if (q < e && *q == '<') {
        q++;
        while (q < e && is_digit(*q) && q - p < 5)
            q++;
        if (q >= e || *q != '>')
            return false;
        q++;
        if (q + 1 < e && is_digit(q[0]) && q[1] == ' ') { /* RFC 5424 */
            q += 2;
            const char *t = tok_end(q, e);
            int64_t us = 0;
            if (!(t - q == 1 && *q == '-') && !tide__tel_iso_us(q, (size_t)(t - q), &us))
                return false;
            h->ts = us;
            q = skip_sp(t, e);
            t = tok_end(q, e);
            if (!(t - q == 1 && *q == '-')) {
                h->host.p = q;
                h->host.n = (size_t)(t - q);
            }
            /* app procid msgid */
            for (int k = 0; k < 3; k++) {
                q = skip_sp(t, e);
                t = tok_end(q, e);
            }
            q = skip_sp(t, e);
            /* structured data: "-" or [..][..] */
            if (q < e && *q == '-')
                q++;
            else
                while (q < e && *q == '[') {
                    const char *s = q + 1;
                    while (s < e && *s != ']') {
                        if (*s == '\\' && s + 1 < e)
                            s++;
                        else if (*s == '"') { /* quoted param value */
                            s++;
                            while (s < e && *s != '"') {
                                if (*s == '\\' && s + 1 < e)
                                    s++;
                                s++;
                            }
                        }
                        s++;
                    }
                    q = s < e ? s + 1 : e;
                }
            h->msg = skip_sp(q, e);
            return true;
        }
    }
    size_t rest = (size_t)(e - q);
    if (is_3164_ts(q, rest)) {
        int mo = month_of(q), d = (q[4] == ' ' ? 0 : q[4] - '0') * 10 + (q[5] - '0'), hh = 0,
            mi = 0, ss = 0;
        two(q + 7, &hh);
        two(q + 10, &mi);
        two(q + 13, &ss);
        time_t now = time(NULL);
        struct tm tmv;
        gmtime_r(&now, &tmv);
        int64_t year = tmv.tm_year + 1900;
        int64_t t = tide__days_from_civil(year, (unsigned)mo, (unsigned)d) * 86400 + hh * 3600 +
                    mi * 60 + ss;
        if (t > (int64_t)now + 86400)
            t = tide__days_from_civil(year - 1, (unsigned)mo, (unsigned)d) * 86400 + hh * 3600 +
                mi * 60 + ss;
        h->ts = t * 1000000;
        q += 15;
    } else {
        const char *t = tok_end(q, e);
        int64_t us;
        if (!tide__tel_iso_us(q, (size_t)(t - q), &us))
            return false;
        h->ts = us;
        q = t;
    }
    q = skip_sp(q, e);
    const char *t = tok_end(q, e);
    /* host, unless the next token is already the tag ("prog:" / "prog[pid]:") */
    if (t > q && t[-1] != ':') {
        h->host.p = q;
        h->host.n = (size_t)(t - q);
        q = skip_sp(t, e);
    }
    /* tag */
    t = tok_end(q, e);
    if (t > q && t[-1] == ':')
        q = skip_sp(t, e);
    h->msg = q;
    return true;
}

static void sshd_user(const char *m, size_t n, tide_event *ev)
{
    const char *e = m + n;
    for (const char *s = m; s + 6 <= e; s++) {
        s = memchr(s, ' ', (size_t)(e - s));
        if (s == NULL || s + 6 > e)
            return;
        if (memcmp(s, " from ", 6) != 0)
            continue;
        /* word before */
        const char *we = s, *wb = s;
        while (wb > m && wb[-1] != ' ')
            wb--;
        if (wb == we)
            continue;
        if ((wb - m >= 5 && memcmp(wb - 5, "user ", 5) == 0) ||
                (wb - m >= 4 && memcmp(wb - 4, "for ", 4) == 0)) {
            ev->user = wb;
            ev->user_len = (size_t)(we - wb);
            return;
        }
    }
}

int tide__tel_syslog_line(tide_tel_parser *r, char *p, size_t n, tide_event *ev)
{
    sl_hdr h;
    if (!syslog_header(p, n, &h)) {
        r->bad = "syslog: no RFC 3164 / 5424 header";
        return -1;
    }
    ev->kind = "syslog";
    ev->ts_us = h.ts;
    if (h.host.n) {
        ev->host = h.host.p;
        ev->host_len = h.host.n;
    }
    size_t mn = (size_t)(p + n - h.msg);
    tide__tel_scan_text(r, h.msg, mn, "message");
    sshd_user(h.msg, mn, ev);
    if (ev->user == NULL) {
        const char *e = h.msg + mn;
        for (const char *s = h.msg; s + 6 < e; s++) {
            s = memchr(s, 'u', (size_t)(e - s));
            if (s == NULL || s + 6 > e)
                break;
            if ((s == h.msg || s[-1] == ' ') && memcmp(s, "user=", 5) == 0) {
                const char *v = s + 5, *ve = tok_end(v, e);
                if (ve > v) {
                    ev->user = v;
                    ev->user_len = (size_t)(ve - v);
                }
                break;
            }
        }
    }
    return 1;
}

/* ------------------------------------------------------------------ CEF */

static bool key_char(char c)
{
    return is_alnum(c) || c == '_';
}

/* at p (after a space): "\w+=" ? returns the '=' or NULL */
static const char *key_at(const char *p, const char *e)
{
    const char *s = p;
    while (s < e && key_char(*s))
        s++;
    if (s == p || s >= e || *s != '=')
        return NULL;
    return s;
}

static bool keyis(tide__sv k, const char *name)
{
    size_t l = strlen(name);
    return k.n == l && memcmp(k.p, name, l) == 0;
}

int tide__tel_cef_line(tide_tel_parser *r, char *p, size_t n, tide_event *ev)
{
    const char *e = p + n, *c = NULL;
    for (size_t i = 0; i + 4 <= n; i++)
        if (p[i] == 'C' && memcmp(p + i, "CEF:", 4) == 0 && (i == 0 || p[i - 1] == ' ')) {
            c = p + i;
            break;
        }
    if (c == NULL) {
        r->bad = "CEF: no \"CEF:\" header";
        return -1;
    }
    sl_hdr h;
    memset(&h, 0, sizeof(h));
    if (c > p)
        syslog_header(p, (size_t)(c - p), &h);
    /* 7 unescaped pipes */
    const char *q = c;
    int pipes = 0;
    while (q < e && pipes < 7) {
        if (*q == '\\' && q + 1 < e)
            q += 2;
        else if (*q++ == '|')
            pipes++;
    }
    if (pipes < 7) {
        r->bad = "CEF: fewer than 8 header fields";
        return -1;
    }
    ev->kind = "cef";
    ev->ts_us = h.ts;
    tide__sv src = { 0, 0 }, dst = { 0, 0 }, dpt = { 0, 0 }, dvc = { 0, 0 }, suser = { 0, 0 },
             duser = { 0, 0 };
    q = skip_sp(q, e);
    const char *eq = key_at(q, e);
    while (eq) {
        tide__sv k = { q, (size_t)(eq - q) };
        const char *v = eq + 1, *s = v, *next = NULL;
        while (s < e) {
            if (*s == '\\' && s + 1 < e) {
                s += 2;
                continue;
            }
            if (*s == ' ' && (next = key_at(s + 1, e)) != NULL)
                break;
            s++;
        }
        tide__sv val = { v, (size_t)(s - v) };
        while (val.n && val.p[val.n - 1] == ' ')
            val.n--;
        if (val.n) {
            if (keyis(k, "src") || keyis(k, "sourceAddress")) {
                src = val;
                tide__tel_obs_ip(r, val.p, val.n, "src");
            } else if (keyis(k, "dst") || keyis(k, "destinationAddress")) {
                dst = val;
                tide__tel_obs_ip(r, val.p, val.n, "dst");
            } else if (keyis(k, "dpt"))
                dpt = val;
            else if (keyis(k, "shost") || keyis(k, "dhost"))
                tide__tel_obs_hostname(r, val.p, val.n, k.p[0] == 's' ? "shost" : "dhost");
            else if (keyis(k, "request") || keyis(k, "requestUrl"))
                tide__tel_obs_url(r, val.p, val.n, "request", "request");
            else if (keyis(k, "fileHash") || keyis(k, "oldFileHash")) {
                size_t l = val.n;
                if ((l == 32 || l == 40 || l == 64 || l == 128) && tide__is_hex(val.p, l))
                    tide__tel_obs(r,
                            l == 32   ? TIDE_OBS_MD5
                            : l == 40 ? TIDE_OBS_SHA1
                            : l == 64 ? TIDE_OBS_SHA256
                                      : TIDE_OBS_SHA512,
                            val.p, l, "fileHash");
            } else if (keyis(k, "suser"))
                suser = val;
            else if (keyis(k, "duser"))
                duser = val;
            else if (keyis(k, "dvchost"))
                dvc = val;
            else if (keyis(k, "rt")) {
                int64_t us;
                if (all_digits(val.p, val.n) && tide__tel_epoch_us(val.p, val.n, &us))
                    ev->ts_us = val.n >= 12 ? us : us; /* ms epochs are detected by size */
                else if (tide__tel_iso_us(val.p, val.n, &us))
                    ev->ts_us = us;
            }
        }
        if (s >= e)
            break;
        q = s + 1;
        eq = next;
    }
    if (dst.n && dpt.n)
        tide__tel_obs_ipport(r, dst.p, dst.n, dpt.p, dpt.n, "dst:dpt");
    if (src.n || dst.n) {
        tide__sv a = src.n ? src : dst, b = src.n ? dst : src;
        tide__tel_pick_host(r, a, b, ev);
    } else if (dvc.n) {
        ev->host = dvc.p;
        ev->host_len = dvc.n;
    } else if (h.host.n) {
        ev->host = h.host.p;
        ev->host_len = h.host.n;
    }
    if (suser.n) {
        ev->user = suser.p;
        ev->user_len = suser.n;
    } else if (duser.n) {
        ev->user = duser.p;
        ev->user_len = duser.n;
    }
    return 1;
}
