/*
 * observable.c - detect, refang, normalise and turn into STIX patterns the observables tide
 * indexes (include/tide/observable.h, SPEC C1).
 *
 * Addresses go through util/ipaddr.h (parsing and canonical text). The URL, domain and defang
 * handling is written by hand: no Debian library normalises URLs the way SPEC C1 asks (curl's URL
 * API is not among the allowed dependencies and would re-encode differently), and the rules are
 * small.
 *
 * Pattern choices (documented here because STIX has no standard object for them):
 *   url-path  -> [url:value LIKE '%<path>']  ("any host, this path"; the match index treats it
 *                so; LIKE wildcards '%' and '_' inside the path are left as they are)
 *   ip-port   -> [network-traffic:dst_ref.value = '<ip>' AND network-traffic:dst_port = <n>]
 *   ja3       -> [network-traffic:extensions.'x-ja3'.hash = '<md5>']
 *   x509-sha1 -> [x509-certificate:hashes.'SHA-1' = '<sha1>']
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tide/errors.h"
#include "tide/observable.h"
#include "util/ipaddr.h"
#include "util/util.h"

#define MAX_OBS_BYTES (64u * 1024) /* longest value we accept as an observable */

static const char *const kind_names[TIDE_OBS__COUNT] = {
    [TIDE_OBS_NONE] = "none",
    [TIDE_OBS_IPV4] = "ipv4",
    [TIDE_OBS_IPV6] = "ipv6",
    [TIDE_OBS_CIDR4] = "cidr4",
    [TIDE_OBS_CIDR6] = "cidr6",
    [TIDE_OBS_DOMAIN] = "domain",
    [TIDE_OBS_URL] = "url",
    [TIDE_OBS_URL_PATH] = "url-path",
    [TIDE_OBS_IP_PORT] = "ip-port",
    [TIDE_OBS_MD5] = "md5",
    [TIDE_OBS_SHA1] = "sha1",
    [TIDE_OBS_SHA256] = "sha256",
    [TIDE_OBS_SHA512] = "sha512",
    [TIDE_OBS_EMAIL] = "email",
    [TIDE_OBS_JA3] = "ja3",
    [TIDE_OBS_X509_SHA1] = "x509-sha1",
};

const char *tide_obs_kind_name(tide_obs_kind kind)
{
    if ((int)kind < 0 || kind >= TIDE_OBS__COUNT)
        return "none";
    return kind_names[kind];
}

tide_obs_kind tide_obs_kind_from_name(const char *name)
{
    if (name == NULL)
        return TIDE_OBS_NONE;
    for (int k = 1; k < TIDE_OBS__COUNT; k++)
        if (strcmp(kind_names[k], name) == 0)
            return (tide_obs_kind)k;
    return TIDE_OBS_NONE;
}

/* ------------------------------------------------------------------ small parsers */

/* An address (util/ipaddr.h: a strict dotted quad or IPv6); family AF_INET / AF_INET6. */
static bool parse_ip(const char *s, size_t n, int *family, unsigned char addr[16])
{
    int fam = tide__ip_parse(s, n, 0, addr);
    *family = fam == 4 ? AF_INET : AF_INET6;
    return fam != 0;
}

static bool all_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* Decimal 0..max with at most 5 digits; -1 when not. */
static long parse_small(const char *s, size_t n, long max)
{
    if (!all_digits(s, n) || n > 5)
        return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v <= max ? v : -1;
}

/* CIDR "ip/len" (len 1-5 digits): family, address with host bits cleared, prefix length. */
static bool parse_cidr(const char *s, size_t n, int *family, unsigned char addr[16], int *len)
{
    const char *slash = memchr(s, '/', n);
    if (slash && n - (size_t)(slash - s) - 1 > 5)
        return false;
    unsigned l;
    int fam = tide__cidr_parse(s, n, TIDE__IP_NEED_PREFIX, addr, &l);
    if (fam <= 0)
        return false;
    tide__ip_mask(fam, addr, l);
    *family = fam == 4 ? AF_INET : AF_INET6;
    *len = (int)l;
    return true;
}

static bool is_label_char(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '_';
}

/* Domain syntax: labels of [A-Za-z0-9-_], >= 2 labels, TLD not all digits, optional trailing
 * dot and leading "*.". Sets *start / *end to the canonical part. */
static bool check_domain1(const char *s, size_t n, size_t *start, size_t *end, bool single)
{
    size_t b = 0, e = n;
    int min_labels = single ? 1 : 2;
    if (n >= 2 && s[0] == '*' && s[1] == '.')
        b = 2;
    else if (n >= 2 && s[0] == '.' && s[1] != '.') {
        /* ".tk", ".co.uk.pn": a suffix (maltrail suspicious/domain.txt); canonical form is
         * the suffix without the dot, which the match index treats as parent of subdomains */
        b = 1;
        min_labels = 1;
    }
    if (e > b && s[e - 1] == '.')
        e--;
    if (e <= b || e - b > 253)
        return false;
    int labels = 0;
    size_t lab_start = b, tld_start = b;
    bool tld_digits = true;
    for (size_t i = b; i <= e; i++) {
        if (i == e || s[i] == '.') {
            size_t ll = i - lab_start;
            if (ll == 0 || (ll > 63 && !(e - b > 6 && memcmp(s + e - 6, ".onion", 6) == 0)))
                return false;
            labels++;
            tld_digits = all_digits(s + lab_start, ll);
            tld_start = lab_start;
            lab_start = i + 1;
        } else if (!is_label_char((unsigned char)s[i])) {
            return false;
        }
    }
    if (labels < min_labels || tld_digits)
        return false;
    /* the TLD must not start or end with '-' */
    if (s[tld_start] == '-' || s[e - 1] == '-')
        return false;
    *start = b;
    *end = e;
    return true;
}

static bool check_domain(const char *s, size_t n, size_t *start, size_t *end)
{
    return check_domain1(s, n, start, end, false);
}

static bool is_email_local_char(unsigned char c)
{
    return isalnum(c) || (c && strchr(".!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

static bool check_email(const char *s, size_t n)
{
    const char *at = memchr(s, '@', n);
    if (at == NULL || at == s || (size_t)(at - s) > 64)
        return false;
    for (const char *p = s; p < at; p++)
        if (!is_email_local_char((unsigned char)*p))
            return false;
    size_t dn = n - (size_t)(at - s) - 1;
    if (memchr(at + 1, '@', dn))
        return false;
    size_t b, e;
    return check_domain(at + 1, dn, &b, &e) && b == 0;
}

/* ------------------------------------------------------------------ ip:port */

/* host and port of "ip:port" / "[v6]:port". */
static bool parse_ip_port(const char *s, size_t n, int *family, unsigned char addr[16], long *port)
{
    const char *colon;
    if (n > 0 && s[0] == '[') {
        const char *rb = memchr(s, ']', n);
        if (rb == NULL || rb + 1 >= s + n || rb[1] != ':')
            return false;
        if (!parse_ip(s + 1, (size_t)(rb - s - 1), family, addr) || *family != AF_INET6)
            return false;
        colon = rb + 1;
    } else {
        colon = memchr(s, ':', n);
        if (colon == NULL || memchr(colon + 1, ':', n - (size_t)(colon - s) - 1))
            return false;
        if (!parse_ip(s, (size_t)(colon - s), family, addr) || *family != AF_INET)
            return false;
    }
    long p = parse_small(colon + 1, n - (size_t)(colon - s) - 1, 65535);
    if (p <= 0)
        return false;
    *port = p;
    return true;
}

/* ------------------------------------------------------------------ URLs */

static bool is_unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Path/query part: decode %XX of unreserved characters, upper-case the other escapes,
 * percent-encode bytes that cannot appear in a URL (controls, space, non-ASCII). Stops at '#'.
 * A '%' that starts no escape stays as it is, and decoding never makes a new escape of it:
 * an escape of a hex digit within two characters after such a '%' stays an escape ("p%6%66x"
 * is "p%6%66x", not "p%6fx", which a second pass would make "pox"), so that normalising a
 * normalised value changes nothing. */
static int put_path(tide_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t lone = SIZE_MAX; /* where in b the last '%' that starts no escape went */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '#')
            break;
        if (c == '%' && i + 2 < n && hexval((unsigned char)s[i + 1]) >= 0 &&
                hexval((unsigned char)s[i + 2]) >= 0) {
            unsigned char d = (unsigned char)(hexval((unsigned char)s[i + 1]) * 16 +
                                              hexval((unsigned char)s[i + 2]));
            if (is_unreserved(d) && !(hexval(d) >= 0 && lone != SIZE_MAX && b->len - lone <= 2)) {
                TIDE_CHECK(tide__buf_putc(b, (char)d));
            } else {
                char e[3] = { '%', hex[d >> 4], hex[d & 15] };
                TIDE_CHECK(tide__buf_put(b, e, 3));
            }
            i += 2;
        } else if (c <= 0x20 || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' ||
                   c == '^' || c == '`' || c == '{' || c == '|' || c == '}') {
            char e[3] = { '%', hex[c >> 4], hex[c & 15] };
            TIDE_CHECK(tide__buf_put(b, e, 3));
        } else {
            if (c == '%')
                lone = b->len;
            TIDE_CHECK(tide__buf_putc(b, (char)c));
        }
    }
    return 0;
}

static bool is_host_char(unsigned char c)
{
    /* registered-name characters of RFC 3986 that feeds actually use */
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '%' || c == '!' ||
           c == '$' || c == '&' || c == '\'' || c == '(' || c == ')' || c == '*' || c == '+' ||
           c == ',' || c == ';' || c == '=';
}

static int default_port(const char *scheme, size_t n)
{
    if (n == 4 && strncmp(scheme, "http", 4) == 0)
        return 80;
    if (n == 5 && strncmp(scheme, "https", 5) == 0)
        return 443;
    if (n == 3 && strncmp(scheme, "ftp", 3) == 0)
        return 21;
    return -1;
}

/* Normalise a URL into b. strict_host: the host must be a domain or an IP (used when the value
 * had no scheme, to tell "host/path" from garbage). */
static int norm_url(tide_buf *b, const char *s, size_t n, bool strict_host)
{
    const char *p = s, *end = s + n;
    const char *scheme = "http";
    size_t scheme_len = 4;
    const char *sep = NULL;
    for (const char *q = s; q + 2 < end; q++) {
        if (q[0] == ':' && q[1] == '/' && q[2] == '/') {
            sep = q;
            break;
        }
        if (!(isalnum((unsigned char)*q) || *q == '+' || *q == '-' || *q == '.'))
            break;
    }
    if (sep) {
        if (sep == s || !isalpha((unsigned char)s[0]))
            return TIDE_EPARSE;
        scheme = s;
        scheme_len = (size_t)(sep - s);
        p = sep + 3;
    }
    /* authority */
    const char *auth = p;
    while (p < end && *p != '/' && *p != '?' && *p != '#')
        p++;
    const char *auth_end = p;
    const char *host = auth;
    const char *at = NULL;
    for (const char *q = auth; q < auth_end; q++)
        if (*q == '@')
            at = q;
    if (at) {
        if (strict_host)
            return TIDE_EPARSE;
        host = at + 1;
    }
    if (host > auth_end)
        return TIDE_EPARSE;
    const char *host_end, *port_s = NULL;
    bool v6 = false;
    if (host < auth_end && *host == '[') {
        const char *rb = memchr(host, ']', (size_t)(auth_end - host));
        if (rb == NULL)
            return TIDE_EPARSE;
        host_end = rb + 1;
        v6 = true;
        if (host_end < auth_end) {
            if (*host_end != ':')
                return TIDE_EPARSE;
            port_s = host_end + 1;
        }
    } else {
        host_end = memchr(host, ':', (size_t)(auth_end - host));
        if (host_end) {
            port_s = host_end + 1;
        } else {
            host_end = auth_end;
        }
    }
    if (host_end == host)
        return TIDE_EPARSE;
    long port = -1;
    if (port_s) {
        size_t pl = (size_t)(auth_end - port_s);
        if (pl > 0) {
            port = parse_small(port_s, pl, 65535);
            if (port <= 0)
                return TIDE_EPARSE;
        }
    }
    /* host validation and canonical text */
    char hostbuf[300];
    size_t hl = (size_t)(host_end - host);
    int fam;
    unsigned char addr[16];
    if (v6) {
        if (!parse_ip(host + 1, hl - 2, &fam, addr) || fam != AF_INET6)
            return TIDE_EPARSE;
        char t[TIDE__IP_TEXT_MAX];
        tide__ip_format(6, addr, t);
        snprintf(hostbuf, sizeof(hostbuf), "[%s]", t);
    } else {
        if (hl >= sizeof(hostbuf) - 1)
            return TIDE_EPARSE;
        size_t db, de;
        if (parse_ip(host, hl, &fam, addr) && fam == AF_INET) {
            memcpy(hostbuf, host, hl);
            hostbuf[hl] = '\0';
        } else if (check_domain(host, hl, &db, &de)) {
            memcpy(hostbuf, host + db, de - db);
            hostbuf[de - db] = '\0';
        } else {
            if (strict_host)
                return TIDE_EPARSE;
            for (size_t i = 0; i < hl; i++)
                if (!is_host_char((unsigned char)host[i]))
                    return TIDE_EPARSE;
            memcpy(hostbuf, host, hl);
            hostbuf[hl] = '\0';
        }
        tide__str_lower(hostbuf);
    }
    /* assemble */
    for (size_t i = 0; i < scheme_len; i++)
        TIDE_CHECK(tide__buf_putc(b, (char)tolower((unsigned char)scheme[i])));
    TIDE_CHECK(tide__buf_puts(b, "://"));
    if (at)
        TIDE_CHECK(put_path(b, auth, (size_t)(at - auth + 1)));
    TIDE_CHECK(tide__buf_puts(b, hostbuf));
    char lscheme[16] = "";
    if (scheme_len < sizeof(lscheme)) {
        for (size_t i = 0; i < scheme_len; i++)
            lscheme[i] = (char)tolower((unsigned char)scheme[i]);
        lscheme[scheme_len] = '\0';
    }
    if (port >= 0 && port != default_port(lscheme, strlen(lscheme)))
        TIDE_CHECK(tide__buf_printf(b, ":%ld", port));
    if (p >= end || *p != '/')
        TIDE_CHECK(tide__buf_putc(b, '/'));
    TIDE_CHECK(put_path(b, p, (size_t)(end - p)));
    return 0;
}

static bool url_chars_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

static bool try_url(const char *s, size_t n, bool strict_host)
{
    if (!url_chars_ok(s, n))
        return false;
    tide_buf b = TIDE_BUF_INIT;
    int rc = norm_url(&b, s, n, strict_host);
    tide__buf_free(&b);
    return rc == 0;
}

static bool has_scheme(const char *s, size_t n)
{
    if (n == 0 || !isalpha((unsigned char)s[0]))
        return false;
    for (size_t i = 1; i + 2 < n; i++) {
        if (s[i] == ':')
            return s[i + 1] == '/' && s[i + 2] == '/';
        if (!(isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
            return false;
    }
    return false;
}

/* ------------------------------------------------------------------ detect */

tide_obs_kind tide_obs_detect(const char *value)
{
    if (value == NULL)
        return TIDE_OBS_NONE;
    size_t n = strlen(value);
    if (n == 0 || n > MAX_OBS_BYTES)
        return TIDE_OBS_NONE;
    const char *s = value;
    int fam, len;
    unsigned char addr[16];
    long port;
    size_t b, e;

    if (has_scheme(s, n))
        return try_url(s, n, false) ? TIDE_OBS_URL : TIDE_OBS_NONE;
    if (s[0] == '/') {
        /* maltrail writes some paths with many leading slashes: still a path */
        if (n < 2 || !url_chars_ok(s, n) || strspn(s, "/") == n)
            return TIDE_OBS_NONE;
        return TIDE_OBS_URL_PATH;
    }
    if (parse_ip(s, n, &fam, addr))
        return fam == AF_INET ? TIDE_OBS_IPV4 : TIDE_OBS_IPV6;
    if (parse_cidr(s, n, &fam, addr, &len)) {
        if (fam == AF_INET)
            return len == 32 ? TIDE_OBS_IPV4 : TIDE_OBS_CIDR4;
        return len == 128 ? TIDE_OBS_IPV6 : TIDE_OBS_CIDR6;
    }
    if (parse_ip_port(s, n, &fam, addr, &port))
        return TIDE_OBS_IP_PORT;
    {
        /* "ip/digits" that failed as a CIDR is a bad CIDR, not a URL */
        const char *sl = memchr(s, '/', n);
        if (sl && parse_ip(s, (size_t)(sl - s), &fam, addr) &&
                all_digits(sl + 1, n - (size_t)(sl - s) - 1))
            return TIDE_OBS_NONE;
    }
    if (tide__str_is_hex(s, n)) {
        switch (n) {
            case 32: return TIDE_OBS_MD5;
            case 40: return TIDE_OBS_SHA1;
            case 64: return TIDE_OBS_SHA256;
            case 128: return TIDE_OBS_SHA512;
            default: break;
        }
    }
    if (check_domain(s, n, &b, &e))
        return TIDE_OBS_DOMAIN;
    if (memchr(s, '@', n) && !memchr(s, '/', n) && !memchr(s, ':', n))
        return check_email(s, n) ? TIDE_OBS_EMAIL : TIDE_OBS_NONE;
    /* scheme-less URL: host[:port]/path, host[:port]?query, or domain:port */
    if (strpbrk(s, "/?:") && try_url(s, n, true))
        return TIDE_OBS_URL;
    return TIDE_OBS_NONE;
}

/* ------------------------------------------------------------------ refang */

static const struct {
    const char *from, *to;
} refang_table[] = {
    { "[://]", "://" },
    { "[:]//", "://" },
    { "[.]", "." },
    { "(.)", "." },
    { "{.}", "." },
    { "[dot]", "." },
    { "(dot)", "." },
    { "{dot}", "." },
    { "[:]", ":" },
    { "[@]", "@" },
    { "[at]", "@" },
    { "(at)", "@" },
    { "[/]", "/" },
};

int tide_obs_refang(const char *value, char **out)
{
    *out = NULL;
    if (value == NULL)
        return tide_error_set(TIDE_EINVAL, "refang: NULL value");
    tide_buf b = TIDE_BUF_INIT;
    const char *p = value;
    int rc = 0;
    /* scheme: hxxp, hXXp, hxxps, fxp, at the start */
    if (strncasecmp(p, "hxxp", 4) == 0 || strncasecmp(p, "hxtp", 4) == 0 ||
            strncasecmp(p, "httx", 4) == 0) {
        rc = tide__buf_puts(&b, "http");
        p += 4;
    } else if (strncasecmp(p, "fxp", 3) == 0 && (p[3] == ':' || p[3] == '[' || p[3] == 's')) {
        rc = tide__buf_puts(&b, "ftp");
        p += 3;
    }
    while (rc == 0 && *p) {
        bool done = false;
        if (*p == '[' || *p == '(' || *p == '{') {
            for (size_t i = 0; i < sizeof(refang_table) / sizeof(refang_table[0]); i++) {
                size_t fl = strlen(refang_table[i].from);
                if (strncasecmp(p, refang_table[i].from, fl) == 0) {
                    rc = tide__buf_puts(&b, refang_table[i].to);
                    p += fl;
                    done = true;
                    break;
                }
            }
        }
        if (!done)
            rc = tide__buf_putc(&b, *p++);
    }
    if (rc < 0) {
        tide__buf_free(&b);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    *out = tide__buf_detach(&b);
    if (*out == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    return 0;
}

/* ------------------------------------------------------------------ normalize */

static int bad(tide_obs_kind kind, const char *value)
{
    return tide_error_set(TIDE_EPARSE, "not a valid %s: '%.200s'", tide_obs_kind_name(kind), value);
}

static int norm_ip(tide_obs_kind kind, const char *s, size_t n, tide_buf *b)
{
    int fam, len;
    unsigned char addr[16];
    int want = kind == TIDE_OBS_IPV4 ? AF_INET : AF_INET6;
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']' && want == AF_INET6) {
        s++;
        n -= 2;
    }
    if (!parse_ip(s, n, &fam, addr)) {
        if (!parse_cidr(s, n, &fam, addr, &len) || len != (fam == AF_INET ? 32 : 128))
            return TIDE_EPARSE;
    }
    if (fam != want)
        return TIDE_EPARSE;
    char t[TIDE__IP_TEXT_MAX];
    tide__ip_format(fam == AF_INET ? 4 : 6, addr, t);
    return tide__buf_puts(b, t);
}

static int norm_cidr(tide_obs_kind kind, const char *s, size_t n, tide_buf *b)
{
    int fam, len;
    unsigned char addr[16];
    int want = kind == TIDE_OBS_CIDR4 ? AF_INET : AF_INET6;
    if (!parse_cidr(s, n, &fam, addr, &len)) {
        if (!parse_ip(s, n, &fam, addr))
            return TIDE_EPARSE;
        len = fam == AF_INET ? 32 : 128;
    }
    if (fam != want)
        return TIDE_EPARSE;
    char t[TIDE__IP_TEXT_MAX];
    tide__cidr_format(fam == AF_INET ? 4 : 6, addr, (unsigned)len, t);
    return tide__buf_puts(b, t);
}

int tide_obs_normalize(tide_obs_kind kind, const char *value, char **out)
{
    *out = NULL;
    if (value == NULL)
        return tide_error_set(TIDE_EINVAL, "normalize: NULL value");
    size_t n = strlen(value);
    if (n == 0 || n > MAX_OBS_BYTES)
        return bad(kind, value);
    const char *s = value;
    tide_buf b = TIDE_BUF_INIT;
    int rc = TIDE_EPARSE;
    size_t db, de;
    int fam;
    unsigned char addr[16];
    long port;

    switch (kind) {
        case TIDE_OBS_IPV4:
        case TIDE_OBS_IPV6: rc = norm_ip(kind, s, n, &b); break;
        case TIDE_OBS_CIDR4:
        case TIDE_OBS_CIDR6: rc = norm_cidr(kind, s, n, &b); break;
        case TIDE_OBS_DOMAIN:
            /* a single label is accepted here (not by detect): the canonical form of a suffix
             * trail such as ".tk" */
            if (check_domain1(s, n, &db, &de, true)) {
                rc = tide__buf_put(&b, s + db, de - db);
                if (rc == 0)
                    tide__str_lower(b.ptr);
            }
            break;
        case TIDE_OBS_URL: rc = norm_url(&b, s, n, !has_scheme(s, n)); break;
        case TIDE_OBS_URL_PATH:
            if (s[0] == '/')
                rc = put_path(&b, s, n);
            break;
        case TIDE_OBS_IP_PORT:
            if (parse_ip_port(s, n, &fam, addr, &port)) {
                char t[TIDE__IP_TEXT_MAX];
                tide__ipport_format(fam == AF_INET ? 4 : 6, addr, (unsigned)port, t);
                rc = tide__buf_puts(&b, t);
            }
            break;
        case TIDE_OBS_MD5:
        case TIDE_OBS_JA3:
        case TIDE_OBS_SHA1:
        case TIDE_OBS_X509_SHA1:
        case TIDE_OBS_SHA256:
        case TIDE_OBS_SHA512: {
            size_t want = (kind == TIDE_OBS_MD5 || kind == TIDE_OBS_JA3)          ? 32
                          : (kind == TIDE_OBS_SHA1 || kind == TIDE_OBS_X509_SHA1) ? 40
                          : kind == TIDE_OBS_SHA256                               ? 64
                                                                                  : 128;
            if (n == want && tide__str_is_hex(s, n)) {
                rc = tide__buf_put(&b, s, n);
                if (rc == 0)
                    tide__str_lower(b.ptr);
            }
            break;
        }
        case TIDE_OBS_EMAIL:
            if (check_email(s, n)) {
                rc = tide__buf_put(&b, s, n);
                if (rc == 0)
                    tide__str_lower(b.ptr);
            }
            break;
        default: break;
    }
    if (rc == TIDE_EPARSE) {
        tide__buf_free(&b);
        return bad(kind, value);
    }
    if (rc < 0) {
        tide__buf_free(&b);
        return tide_error_set(rc, "normalize: out of memory");
    }
    *out = tide__buf_detach(&b);
    if (*out == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    return 0;
}

/* ------------------------------------------------------------------ patterns */

static int put_quoted(tide_buf *b, const char *v)
{
    TIDE_CHECK(tide__buf_putc(b, '\''));
    for (const char *p = v; *p; p++) {
        if (*p == '\'' || *p == '\\')
            TIDE_CHECK(tide__buf_putc(b, '\\'));
        TIDE_CHECK(tide__buf_putc(b, *p));
    }
    return tide__buf_putc(b, '\'');
}

static int build_pattern(tide_buf *b, tide_obs_kind kind, const char *v)
{
    const char *prefix = NULL;
    switch (kind) {
        case TIDE_OBS_IPV4: prefix = "[ipv4-addr:value = "; break;
        case TIDE_OBS_IPV6: prefix = "[ipv6-addr:value = "; break;
        case TIDE_OBS_CIDR4: prefix = "[ipv4-addr:value ISSUBSET "; break;
        case TIDE_OBS_CIDR6: prefix = "[ipv6-addr:value ISSUBSET "; break;
        case TIDE_OBS_DOMAIN: prefix = "[domain-name:value = "; break;
        case TIDE_OBS_URL: prefix = "[url:value = "; break;
        case TIDE_OBS_MD5: prefix = "[file:hashes.MD5 = "; break;
        case TIDE_OBS_SHA1: prefix = "[file:hashes.'SHA-1' = "; break;
        case TIDE_OBS_SHA256: prefix = "[file:hashes.'SHA-256' = "; break;
        case TIDE_OBS_SHA512: prefix = "[file:hashes.'SHA-512' = "; break;
        case TIDE_OBS_EMAIL: prefix = "[email-addr:value = "; break;
        case TIDE_OBS_JA3: prefix = "[network-traffic:extensions.'x-ja3'.hash = "; break;
        case TIDE_OBS_X509_SHA1: prefix = "[x509-certificate:hashes.'SHA-1' = "; break;
        case TIDE_OBS_URL_PATH: {
            TIDE_CHECK(tide__buf_puts(b, "[url:value LIKE "));
            tide_buf tmp = TIDE_BUF_INIT;
            int rc = tide__buf_putc(&tmp, '%');
            if (rc == 0)
                rc = tide__buf_puts(&tmp, v);
            if (rc == 0)
                rc = put_quoted(b, tmp.ptr);
            tide__buf_free(&tmp);
            TIDE_CHECK(rc);
            return tide__buf_putc(b, ']');
        }
        case TIDE_OBS_IP_PORT: {
            const char *colon = strrchr(v, ':');
            if (colon == NULL)
                return TIDE_EPARSE;
            char ip[INET6_ADDRSTRLEN + 2];
            size_t il = (size_t)(colon - v);
            if (il >= 2 && v[0] == '[' && v[il - 1] == ']') {
                v++;
                il -= 2;
            }
            if (il >= sizeof(ip))
                return TIDE_EPARSE;
            memcpy(ip, v, il);
            ip[il] = '\0';
            TIDE_CHECK(tide__buf_puts(b, "[network-traffic:dst_ref.value = "));
            TIDE_CHECK(put_quoted(b, ip));
            return tide__buf_printf(b, " AND network-traffic:dst_port = %s]", colon + 1);
        }
        default: return TIDE_EPARSE;
    }
    TIDE_CHECK(tide__buf_puts(b, prefix));
    TIDE_CHECK(put_quoted(b, v));
    return tide__buf_putc(b, ']');
}

int tide_obs_to_pattern(tide_obs_kind kind, const char *value, char **out)
{
    *out = NULL;
    if (value == NULL)
        return tide_error_set(TIDE_EINVAL, "to_pattern: NULL value");
    tide_buf b = TIDE_BUF_INIT;
    int rc = build_pattern(&b, kind, value);
    if (rc < 0) {
        tide__buf_free(&b);
        if (rc == TIDE_EPARSE)
            return tide_error_set(
                    rc, "cannot make a pattern for %s '%.200s'", tide_obs_kind_name(kind), value);
        return tide_error_set(rc, "out of memory");
    }
    *out = tide__buf_detach(&b);
    if (*out == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    return 0;
}

/* ------------------------------------------------------------------ from_path */

/* Hash algorithm of a "hashes.X" key: X may be MD5, 'SHA-256', SHA256, sha256, 'SHA256'. */
static tide_obs_kind hash_kind(const char *key)
{
    char norm[16];
    size_t j = 0;
    for (const char *p = key; *p; p++) {
        if (*p == '\'' || *p == '"' || *p == '-' || *p == '_')
            continue;
        if (j + 1 >= sizeof(norm))
            return TIDE_OBS_NONE;
        norm[j++] = (char)tolower((unsigned char)*p);
    }
    norm[j] = '\0';
    if (strcmp(norm, "md5") == 0)
        return TIDE_OBS_MD5;
    if (strcmp(norm, "sha1") == 0)
        return TIDE_OBS_SHA1;
    if (strcmp(norm, "sha256") == 0)
        return TIDE_OBS_SHA256;
    if (strcmp(norm, "sha512") == 0)
        return TIDE_OBS_SHA512;
    return TIDE_OBS_NONE;
}

static tide_obs_kind ip_kind_of(const char *value, bool v6)
{
    if (value == NULL)
        return v6 ? TIDE_OBS_IPV6 : TIDE_OBS_IPV4;
    tide_obs_kind k = tide_obs_detect(value);
    switch (k) {
        case TIDE_OBS_IPV4:
        case TIDE_OBS_CIDR4:
        case TIDE_OBS_IPV6:
        case TIDE_OBS_CIDR6: return k;
        default:
            return strchr(value, '/') ? (v6 ? TIDE_OBS_CIDR6 : TIDE_OBS_CIDR4)
                                      : (v6 ? TIDE_OBS_IPV6 : TIDE_OBS_IPV4);
    }
}

tide_obs_kind tide_obs_from_path(const char *object_type, const char *path, const char *value)
{
    if (object_type == NULL || path == NULL)
        return TIDE_OBS_NONE;
    if (strcmp(object_type, "ipv4-addr") == 0 && strcmp(path, "value") == 0)
        return ip_kind_of(value, false);
    if (strcmp(object_type, "ipv6-addr") == 0 && strcmp(path, "value") == 0)
        return ip_kind_of(value, true);
    if (strcmp(object_type, "domain-name") == 0 && strcmp(path, "value") == 0)
        return TIDE_OBS_DOMAIN;
    if (strcmp(object_type, "url") == 0 && strcmp(path, "value") == 0)
        return TIDE_OBS_URL;
    if (strcmp(object_type, "email-addr") == 0 && strcmp(path, "value") == 0)
        return TIDE_OBS_EMAIL;
    if (strcmp(object_type, "email-message") == 0 &&
            (strcmp(path, "from_ref.value") == 0 || strcmp(path, "sender_ref.value") == 0))
        return TIDE_OBS_EMAIL;
    if (strncmp(path, "hashes.", 7) == 0) {
        tide_obs_kind k = hash_kind(path + 7);
        if (strcmp(object_type, "file") == 0 || strcmp(object_type, "artifact") == 0)
            return k;
        if (strcmp(object_type, "x509-certificate") == 0)
            return k == TIDE_OBS_SHA1 ? TIDE_OBS_X509_SHA1 : TIDE_OBS_NONE;
        return TIDE_OBS_NONE;
    }
    if (strcmp(object_type, "network-traffic") == 0) {
        if (strcmp(path, "dst_ref.value") == 0 || strcmp(path, "src_ref.value") == 0) {
            if (value == NULL)
                return TIDE_OBS_NONE;
            tide_obs_kind k = tide_obs_detect(value);
            if (k == TIDE_OBS_IPV4 || k == TIDE_OBS_IPV6 || k == TIDE_OBS_CIDR4 ||
                    k == TIDE_OBS_CIDR6)
                return k;
            return TIDE_OBS_NONE;
        }
        if (strcmp(path, "extensions.'x-ja3'.hash") == 0 ||
                strcmp(path, "extensions.x-ja3.hash") == 0)
            return TIDE_OBS_JA3;
    }
    return TIDE_OBS_NONE;
}
