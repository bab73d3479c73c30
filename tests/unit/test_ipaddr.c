/*
 * test_ipaddr.c - the one home of IP / CIDR text (src/util/ipaddr.h): every form against
 * inet_pton / inet_aton / inet_ntop (tables of edge cases and random strings), prefixes, masks,
 * the canonical texts; then the edge cases of each place that parses addresses through it
 * (telemetry home networks, match-index keys, history ranges, export ranges and bogons,
 * warninglists, observables, STIX pattern ISSUBSET), with what each accepts.
 */
#include <arpa/inet.h>
#include <stdint.h>

#include "export/export_int.h"
#include "harness.h"
#include "history/hist_int.h"
#include "intel/warninglist.h"
#include "match/index_int.h"
#include "tide/errors.h"
#include "tide/observable.h"
#include "tide/pattern.h"
#include "tide/telemetry.h"
#include "util/ipaddr.h"

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* p/n with 64 readable bytes after it that must not count (digits and dots) */
static bool v4_slack(const char *p, size_t n, uint8_t out[4])
{
    char b[128];
    memcpy(b, p, n);
    memset(b + n, '7', sizeof(b) - n);
    for (size_t i = n; i < sizeof(b); i += 3)
        b[i] = '.';
    return tide__ip4_parse_slack(b, n, out);
}

/* ------------------------------------------------------------------ IPv4 */

static void t_ip4_table(void)
{
    static const struct {
        const char *s;
        int strict, zeros; /* 1 accepted */
        uint8_t a[4];
    } c[] = {
        { "1.2.3.4", 1, 1, { 1, 2, 3, 4 } },
        { "0.0.0.0", 1, 1, { 0, 0, 0, 0 } },
        { "255.255.255.255", 1, 1, { 255, 255, 255, 255 } },
        { "10.200.30.4", 1, 1, { 10, 200, 30, 4 } },
        { "01.2.3.4", 0, 1, { 1, 2, 3, 4 } }, /* leading zeros: octal ambiguity */
        { "1.2.3.04", 0, 1, { 1, 2, 3, 4 } },
        { "010.001.002.003", 0, 1, { 10, 1, 2, 3 } }, /* decimal, not octal */
        { "00.0.0.0", 0, 1, { 0, 0, 0, 0 } },
        { "0255.1.1.1", 0, 0, { 0 } }, /* four digits */
        { "256.1.1.1", 0, 0, { 0 } },  /* out of range */
        { "1.2.3.256", 0, 0, { 0 } },
        { "1.2.300.4", 0, 0, { 0 } },
        { "999.1.1.1", 0, 0, { 0 } },
        { "1.2.3", 0, 0, { 0 } },     /* too few */
        { "1.2.3.4.5", 0, 0, { 0 } }, /* too many */
        { "1.2.3.", 0, 0, { 0 } },
        { ".1.2.3", 0, 0, { 0 } },
        { "1..2.3", 0, 0, { 0 } },
        { "1.2.3.4.", 0, 0, { 0 } },
        { "1.2.3.4 ", 0, 0, { 0 } }, /* trailing garbage */
        { " 1.2.3.4", 0, 0, { 0 } },
        { "1.2.3.4x", 0, 0, { 0 } },
        { "1.2.3.4/8", 0, 0, { 0 } },
        { "1.2.3.4:80", 0, 0, { 0 } },
        { "1.2.3.-4", 0, 0, { 0 } },
        { "+1.2.3.4", 0, 0, { 0 } },
        { "0x1.2.3.4", 0, 0, { 0 } },
        { "1.2.3.4\n", 0, 0, { 0 } },
        { "", 0, 0, { 0 } },
        { "1234567", 0, 0, { 0 } },
        { "...", 0, 0, { 0 } },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        size_t n = strlen(c[i].s);
        uint8_t a[4] = { 9, 9, 9, 9 }, b[4] = { 9, 9, 9, 9 }, z[4] = { 9, 9, 9, 9 }, q[16];
        bool x = tide__ip4_parse(c[i].s, n, a), y = v4_slack(c[i].s, n, b),
             w = tide__ip4_parse_zeros(c[i].s, n, z);
        if (x != (c[i].strict != 0) || y != x || w != (c[i].zeros != 0))
            TIDE_FAIL_("'%s': strict %d slack %d zeros %d", c[i].s, x, y, w);
        if (x)
            TIDE_ASSERT(memcmp(a, c[i].a, 4) == 0 && memcmp(b, c[i].a, 4) == 0);
        if (w)
            TIDE_ASSERT(memcmp(z, c[i].a, 4) == 0);
        TIDE_ASSERT_EQ_INT(tide__ip_parse(c[i].s, n, 0, q), x ? 4 : 0);
    }
    /* an embedded NUL never parses: "1.2.3.4\0" as 8 bytes */
    uint8_t a[4];
    TIDE_ASSERT(!tide__ip4_parse("1.2.3.4\0", 8, a));
    TIDE_ASSERT(!tide__ip4_parse_zeros("1.2.3.4\0", 8, a));
    /* a prefix of the text is not the text */
    TIDE_ASSERT(tide__ip4_parse("1.2.3.45", 7, a) && a[3] == 4);
}

/* The strict dotted quad is exactly inet_pton(AF_INET) (which takes no leading zeros), on
 * every octet shape (0-4 digits, leading zeros, 0-999) and on random strings of digits, dots
 * and a few other bytes. */
static void t_ip4_vs_inet_pton(void)
{
    static const char alpha[] = "0123456789.....x :/";
    uint64_t st = 0x243F6A8885A308D3ULL;
    char s[64];
    for (int it = 0; it < 300000; it++) {
        size_t n;
        if (it % 2) {
            n = 0;
            int parts = 3 + (int)(rnd(&st) % 3);
            for (int k = 0; k < parts; k++) {
                if (k)
                    s[n++] = '.';
                unsigned v = (unsigned)(rnd(&st) % 1000), form = (unsigned)(rnd(&st) % 8);
                const char *fmt = form == 0 ? "0%u" : form == 1 ? "" : "%u"; /* "": empty octet */
                n += (size_t)snprintf(s + n, sizeof(s) - n, fmt, v);
            }
        } else {
            n = rnd(&st) % 18;
            for (size_t i = 0; i < n; i++)
                s[i] = alpha[rnd(&st) % (sizeof(alpha) - 1)];
        }
        s[n] = '\0';
        uint8_t a[4], b[4], c[4];
        bool want = inet_pton(AF_INET, s, b) == 1;
        bool got = tide__ip4_parse(s, n, a), slack = v4_slack(s, n, c);
        if (got != want || slack != want || (want && (memcmp(a, b, 4) || memcmp(c, b, 4))))
            TIDE_FAIL_("'%s': %d / slack %d, inet_pton %d", s, got, slack, want);
        /* the leading-zero form: the same value when the strict one takes it */
        uint8_t z[4];
        if (want)
            TIDE_ASSERT(tide__ip4_parse_zeros(s, n, z) && memcmp(z, b, 4) == 0);
    }
}

/* inet_aton's forms, for the STIX pattern evaluator only */
static void t_ip4_aton(void)
{
    uint8_t a[16];
    TIDE_ASSERT_EQ_INT(tide__ip_parse("10.1", 4, TIDE__IP_ATON, a), 4);
    TIDE_ASSERT(a[0] == 10 && a[1] == 0 && a[2] == 0 && a[3] == 1);
    TIDE_ASSERT_EQ_INT(tide__ip_parse("0x7f.1", 6, TIDE__IP_ATON, a), 4);
    TIDE_ASSERT(a[0] == 127 && a[3] == 1);
    TIDE_ASSERT_EQ_INT(tide__ip_parse("010.0.0.1", 9, TIDE__IP_ATON, a), 4); /* octal */
    TIDE_ASSERT(a[0] == 8 && a[3] == 1);
    TIDE_ASSERT_EQ_INT(tide__ip_parse("010.0.0.1", 9, 0, a), 0);
    TIDE_ASSERT_EQ_INT(tide__ip_parse("1.2.3.4.5", 9, TIDE__IP_ATON, a), 0);
    TIDE_ASSERT_EQ_INT(tide__ip_parse("1.2.3.256", 9, TIDE__IP_ATON, a), 0);
    TIDE_ASSERT_EQ_INT(tide__ip_parse("1.2.3\0", 6, TIDE__IP_ATON, a), 0);
    TIDE_ASSERT_EQ_INT(tide__ip_parse("", 0, TIDE__IP_ATON, a), 0);
    /* with a ':' the text is IPv6 */
    TIDE_ASSERT_EQ_INT(tide__ip_parse("::ffff:1.2.3.4", 14, TIDE__IP_ATON, a), 6);
    TIDE_ASSERT_EQ_INT(tide__ip_parse("::ffff:1.2", 10, TIDE__IP_ATON, a), 0);
}

/* ------------------------------------------------------------------ IPv6 */

static void t_ip6_table(void)
{
    static const struct {
        const char *s;
        int ok, zone_ok; /* without / with TIDE__IP_ZONE */
    } c[] = {
        { "::", 1, 1 },
        { "::1", 1, 1 },
        { "1::", 1, 1 },
        { "2001:db8::1", 1, 1 },
        { "2001:DB8::A", 1, 1 },
        { "1:2:3:4:5:6:7:8", 1, 1 },
        { "0001:0002:0003:0004:0005:0006:0007:0008", 1, 1 },
        { "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", 1, 1 }, /* 45 bytes, the longest */
        { "::ffff:1.2.3.4", 1, 1 },
        { "::1.2.3.4", 1, 1 },
        { "64:ff9b::192.0.2.33", 1, 1 },
        { "::ffff:01.2.3.4", 0, 0 }, /* the embedded quad is strict */
        { "::ffff:1.2.3.256", 0, 0 },
        { "::ffff:1.2.3", 0, 0 },
        { "1:2:3:4:5:6:7:8:9", 0, 0 },
        { "1:2:3:4:5:6:7", 0, 0 },
        { "1::2::3", 0, 0 },
        { "12345::", 0, 0 },
        { ":::", 0, 0 },
        { "1:", 0, 0 },
        { ":1", 0, 0 },
        { "g::1", 0, 0 },
        { "[::1]", 0, 0 },
        { "::1 ", 0, 0 },
        { " ::1", 0, 0 },
        { "::1/128", 0, 0 },
        { "1.2.3.4", 0, 0 },
        { "", 0, 0 },
        { ":", 0, 0 },
        { "fe80::1%eth0", 0, 1 },
        { "fe80::1%", 0, 1 },
        { "fe80::1%25", 0, 1 },
        { "%eth0", 0, 0 },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        size_t n = strlen(c[i].s);
        uint8_t a[16], b[16], q[16];
        bool x = tide__ip6_parse(c[i].s, n, 0, a), z = tide__ip6_parse(c[i].s, n, TIDE__IP_ZONE, b);
        if (x != (c[i].ok != 0) || z != (c[i].zone_ok != 0))
            TIDE_FAIL_("'%s': %d, with zone %d", c[i].s, x, z);
        if (x) {
            uint8_t w[16];
            TIDE_ASSERT(inet_pton(AF_INET6, c[i].s, w) == 1 && memcmp(a, w, 16) == 0);
            TIDE_ASSERT_EQ_INT(tide__ip_parse(c[i].s, n, 0, q), 6);
        }
    }
    uint8_t a[16];
    /* over the length cap: 46 bytes, and a zone that makes the text 64 bytes */
    TIDE_ASSERT(!tide__ip6_parse("0ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", 46, 0, a));
    char zz[80];
    int k = snprintf(zz, sizeof(zz), "fe80::1%%%s",
            "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcde");
    TIDE_ASSERT_EQ_INT(k, 63);
    TIDE_ASSERT(tide__ip6_parse(zz, 63, TIDE__IP_ZONE, a));
    memcpy(zz + 63, "x", 2);
    TIDE_ASSERT(!tide__ip6_parse(zz, 64, TIDE__IP_ZONE, a));
    /* an embedded NUL never parses (inet_pton would have taken the text before it) */
    TIDE_ASSERT(!tide__ip6_parse("::1\0abc", 7, 0, a));
    TIDE_ASSERT(!tide__ip6_parse("::1\0", 4, TIDE__IP_ZONE, a));
    /* IPv4-mapped */
    TIDE_ASSERT(tide__ip6_parse("::ffff:1.2.3.4", 14, 0, a) && tide__ip6_is_v4mapped(a));
    TIDE_ASSERT(a[12] == 1 && a[13] == 2 && a[14] == 3 && a[15] == 4);
    TIDE_ASSERT(tide__ip6_parse("::1.2.3.4", 9, 0, a) && !tide__ip6_is_v4mapped(a));
    TIDE_ASSERT(tide__ip6_parse("::ffff:0:0", 10, 0, a) && tide__ip6_is_v4mapped(a));
}

/* IPv6 is exactly inet_pton(AF_INET6) on random strings of hex digits, colons and dots */
static void t_ip6_vs_inet_pton(void)
{
    static const char alpha[] = "0123456789abcdefABCDEF::::::..g ";
    uint64_t st = 0x13198A2E03707344ULL;
    char s[64];
    long ok = 0;
    for (int it = 0; it < 400000; it++) {
        size_t n = rnd(&st) % 48;
        for (size_t i = 0; i < n; i++)
            s[i] = alpha[rnd(&st) % (sizeof(alpha) - 1)];
        if (it % 3 == 0 && n > 4) { /* more plausible: "::" somewhere */
            size_t at = rnd(&st) % (n - 2);
            s[at] = s[at + 1] = ':';
        }
        s[n] = '\0';
        uint8_t a[16], b[16];
        bool want = inet_pton(AF_INET6, s, b) == 1, got = tide__ip6_parse(s, n, 0, a);
        if (got != want || (want && memcmp(a, b, 16) != 0))
            TIDE_FAIL_("'%s': %d, inet_pton %d", s, got, want);
        ok += want;
    }
    TIDE_ASSERT(ok > 1000); /* the strings do reach valid addresses */
}

/* ------------------------------------------------------------------ CIDR, masks, text */

static void t_cidr(void)
{
    static const struct {
        const char *s;
        unsigned flags;
        int rc;
        unsigned plen;
    } c[] = {
        { "10.0.0.0/8", 0, 4, 8 },
        { "10.0.0.0", 0, 4, 32 },
        { "10.0.0.0", TIDE__IP_NEED_PREFIX, -1, 0 },
        { "10.0.0.0/0", 0, 4, 0 },
        { "10.0.0.0/32", 0, 4, 32 },
        { "10.0.0.0/33", 0, -1, 0 }, /* out of range */
        { "10.0.0.0/008", 0, 4, 8 }, /* leading zeros */
        { "10.0.0.0/000000000000000000008", 0, 4, 8 },
        { "10.0.0.0/99999999999999999999", 0, -1, 0 }, /* no overflow into range */
        { "10.0.0.0/", 0, -1, 0 },
        { "10.0.0.0/ 8", 0, -1, 0 }, /* no blank, no sign */
        { "10.0.0.0/+8", 0, -1, 0 },
        { "10.0.0.0/-0", 0, -1, 0 },
        { "10.0.0.0/-5", 0, -1, 0 },
        { "10.0.0.0/8 ", 0, -1, 0 },
        { "10.0.0.0/8x", 0, -1, 0 },
        { "10.0.0.0/8/9", 0, -1, 0 },
        { "10.0.0.0//8", 0, -1, 0 },
        { "010.0.0.0/8", 0, 0, 0 }, /* the address part is strict */
        { "10.0.0/8", 0, 0, 0 },
        { "/8", 0, 0, 0 },
        { "", 0, 0, 0 },
        { "::/0", 0, 6, 0 },
        { "::/128", 0, 6, 128 },
        { "::/129", 0, -1, 0 },
        { "fc00::/7", 0, 6, 7 },
        { "2001:db8::1", 0, 6, 128 },
        { "::ffff:1.2.3.4/96", 0, 6, 96 },
        { "fe80::1%eth0/64", 0, 0, 0 },
        { "fe80::1%eth0/64", TIDE__IP_ZONE, 6, 64 },
        { "10.1/8", TIDE__IP_ATON, 4, 8 },
        { "10.1/8", 0, 0, 0 },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        uint8_t a[16];
        unsigned plen = 999;
        int rc = tide__cidr_parse(c[i].s, strlen(c[i].s), c[i].flags, a, &plen);
        if (rc != c[i].rc || (rc > 0 && plen != c[i].plen))
            TIDE_FAIL_("'%s': %d /%u, want %d /%u", c[i].s, rc, plen, c[i].rc, c[i].plen);
    }
    /* masks */
    uint8_t a[16];
    unsigned plen;
    TIDE_ASSERT_EQ_INT(tide__cidr_parse("10.1.2.3/8", 10, 0, a, &plen), 4);
    TIDE_ASSERT(a[1] == 1); /* host bits as written */
    tide__ip_mask(4, a, plen);
    TIDE_ASSERT(a[0] == 10 && a[1] == 0 && a[2] == 0 && a[3] == 0);
    TIDE_ASSERT_EQ_INT(tide__cidr_parse("192.168.255.255/17", 18, 0, a, &plen), 4);
    tide__ip_mask(4, a, plen);
    TIDE_ASSERT(a[2] == 128 && a[3] == 0);
    TIDE_ASSERT_EQ_INT(tide__cidr_parse("255.255.255.255/0", 17, 0, a, &plen), 4);
    tide__ip_mask(4, a, plen);
    TIDE_ASSERT(a[0] == 0 && a[3] == 0);
    TIDE_ASSERT_EQ_INT(tide__cidr_parse("fdff:ffff::1/7", 14, 0, a, &plen), 6);
    tide__ip_mask(6, a, plen);
    TIDE_ASSERT(a[0] == 0xfc && a[1] == 0 && a[15] == 0);
}

static void t_format(void)
{
    static const struct {
        const char *in, *ip, *port, *cidr;
    } c[] = {
        { "1.2.3.4", "1.2.3.4", "1.2.3.4:443", "1.2.3.4/24" },
        { "2001:0db8:0:0:0:0:0:1", "2001:db8::1", "[2001:db8::1]:443", "2001:db8::1/24" },
        { "::FFFF:1.2.3.4", "::ffff:1.2.3.4", "[::ffff:1.2.3.4]:443", "::ffff:1.2.3.4/24" },
        { "1:0:0:2:0:0:0:3", "1:0:0:2::3", "[1:0:0:2::3]:443", "1:0:0:2::3/24" },
        { "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:443",
                "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/24" },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        uint8_t a[16];
        int fam = tide__ip_parse(c[i].in, strlen(c[i].in), 0, a);
        TIDE_ASSERT(fam != 0);
        char t[TIDE__IP_TEXT_MAX];
        TIDE_ASSERT_EQ_INT(tide__ip_format(fam, a, t), strlen(c[i].ip));
        TIDE_ASSERT_EQ_STR(t, c[i].ip);
        TIDE_ASSERT_EQ_INT(tide__ipport_format(fam, a, 443, t), strlen(c[i].port));
        TIDE_ASSERT_EQ_STR(t, c[i].port);
        TIDE_ASSERT_EQ_INT(tide__cidr_format(fam, a, 24, t), strlen(c[i].cidr));
        TIDE_ASSERT_EQ_STR(t, c[i].cidr);
    }
    /* IPv4, ip:port and CIDR text by hand: the same as inet_ntop for every octet value in
     * every place, and for addresses spread over the whole space */
    for (uint32_t i = 0; i < 256 * 4 + 4096; i++) {
        uint8_t v4[4] = { 1, 20, 200, 7 };
        if (i < 256 * 4)
            v4[i / 256] = (uint8_t)(i % 256);
        else {
            uint32_t x = (i - 1024) * 2654435761u;
            memcpy(v4, &x, 4);
        }
        char want[INET_ADDRSTRLEN + 16], got[TIDE__IP_TEXT_MAX];
        TIDE_ASSERT(inet_ntop(AF_INET, v4, want, INET_ADDRSTRLEN) != NULL);
        TIDE_ASSERT_EQ_INT(tide__ip_format(4, v4, got), strlen(want));
        TIDE_ASSERT_EQ_STR(got, want);
        unsigned port = i % 7 == 0 ? 65535 : i % 7 == 1 ? 0 : i * 37 % 65536;
        size_t l = strlen(want);
        snprintf(want + l, sizeof(want) - l, ":%u", port);
        TIDE_ASSERT_EQ_INT(tide__ipport_format(4, v4, port, got), strlen(want));
        TIDE_ASSERT_EQ_STR(got, want);
        snprintf(want + l, sizeof(want) - l, "/%u", i % 33);
        TIDE_ASSERT_EQ_INT(tide__cidr_format(4, v4, i % 33, got), strlen(want));
        TIDE_ASSERT_EQ_STR(got, want);
    }
    /* the longest ip:port fits */
    uint8_t a[16];
    TIDE_ASSERT_EQ_INT(
            tide__ip_parse("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", 45, 0, a), 6);
    char t[TIDE__IP_TEXT_MAX];
    TIDE_ASSERT(tide__ipport_format(6, a, 65535, t) < sizeof(t));
}

/* ------------------------------------------------------------------ the call sites */

/* home networks: CIDRs or addresses, strict; the prefix as above (up to 4 digits before) */
static void t_site_homenet(void)
{
    tide_homenet *h = NULL;
    TIDE_ASSERT_EQ_INT(tide_homenet_new(&h, "10.0.0.0/8, 192.168.1.7 fd00::/8,::1"), 0);
    TIDE_ASSERT(tide_homenet_contains(h, "10.9.9.9", 8));
    TIDE_ASSERT(tide_homenet_contains(h, "192.168.1.7", 11));
    TIDE_ASSERT(!tide_homenet_contains(h, "192.168.1.8", 11));
    TIDE_ASSERT(tide_homenet_contains(h, "fd12::1", 7));
    TIDE_ASSERT(tide_homenet_contains(h, "::1", 3));
    TIDE_ASSERT(!tide_homenet_contains(h, "010.9.9.9", 9)); /* no leading zeros */
    TIDE_ASSERT(!tide_homenet_contains(h, "10.9.9.9 ", 9));
    TIDE_ASSERT(!tide_homenet_contains(h, "::ffff:10.9.9.9", 15)); /* not unmapped */
    TIDE_ASSERT(!tide_homenet_contains(h, "fe80::1%eth0", 12));
    tide_homenet_free(h);
    TIDE_ASSERT_EQ_INT(tide_homenet_new(&h, "10.0.0.0/0008"), 0);
    TIDE_ASSERT(tide_homenet_contains(h, "10.1.1.1", 8));
    TIDE_ASSERT(!tide_homenet_contains(h, "11.1.1.1", 8));
    tide_homenet_free(h);
    static const char *const bad[] = { "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/+8", "10.0.0.0/8x",
        "010.0.0.0/8", "10.0.0/8", "::/129", "fe80::1%eth0", "example.com", "" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        h = NULL;
        if (tide_homenet_new(&h, bad[i]) != TIDE_EINVAL)
            TIDE_FAIL_("home networks \"%s\" accepted", bad[i]);
    }
}

/* match-index keys of telemetry values: leading zeros, zone indexes, IPv4-mapped as IPv4 */
static void t_site_keys(void)
{
    uint8_t k[64];
    tide_obs_kind kk;
    TIDE_ASSERT_EQ_INT(tide__ix_encode(TIDE_OBS_IPV4, "010.1.2.3", 9, k, &kk), 4);
    TIDE_ASSERT(k[0] == 10 && k[1] == 1 && k[3] == 3 && kk == TIDE_OBS_IPV4);
    TIDE_ASSERT_EQ_INT(tide__ix_encode(TIDE_OBS_IPV4, "1.2.3.256", 9, k, &kk), -1);
    TIDE_ASSERT_EQ_INT(tide__ix_encode(TIDE_OBS_IPV4, "0001.2.3.4", 10, k, &kk), -1);
    TIDE_ASSERT_EQ_INT(tide__ix_encode(TIDE_OBS_IPV4, "1.2.3.4 ", 8, k, &kk), -1);
    TIDE_ASSERT_EQ_INT(tide__ix_encode(TIDE_OBS_IPV6, "fe80::1%eth0", 12, k, &kk), 16);
    TIDE_ASSERT(k[0] == 0xfe && k[15] == 1);
    TIDE_ASSERT_EQ_INT(tide__ix_encode(TIDE_OBS_IPV6, "::ffff:1.2.3.4", 14, k, &kk), 4);
    TIDE_ASSERT(kk == TIDE_OBS_IPV4 && k[0] == 1 && k[3] == 4);
    TIDE_ASSERT_EQ_INT(tide__ix_encode(TIDE_OBS_IPV6, "::1\0junk", 8, k, &kk), -1); /* was ::1 */
    TIDE_ASSERT_EQ_INT(tide__ix_encode(TIDE_OBS_IP_PORT, "[::ffff:1.2.3.4]:80", 19, k, &kk), 6);
    TIDE_ASSERT(k[0] == 1 && k[3] == 4 && k[4] == 0 && k[5] == 80);
    TIDE_ASSERT_EQ_INT(tide__ix_encode(TIDE_OBS_IP_PORT, "[2001:db8::1]:443", 17, k, &kk), 18);
    TIDE_ASSERT_EQ_INT(tide__ix_encode(TIDE_OBS_IP_PORT, "01.2.3.4:443", 12, k, &kk), 6);
    TIDE_ASSERT_EQ_INT(tide__ix_encode(TIDE_OBS_IP_PORT, "[1.2.3.4]:443", 13, k, &kk), -1);
    TIDE_ASSERT_EQ_INT(tide__ix_encode(TIDE_OBS_IP_PORT, "1.2.3.4:65536", 13, k, &kk), -1);
}

/* history ranges of CIDR indicators (canonical values; the prefix no longer strtol's: blanks
 * and signs were taken before) */
static void t_site_history(void)
{
    hist_range r[2];
    TIDE_ASSERT_EQ_INT(tide__hist_ranges(TIDE_OBS_CIDR4, "10.0.0.0/8", r), 1);
    TIDE_ASSERT(r[0].lo_len == 5 && r[0].lo[1] == 10 && r[0].lo[2] == 0);
    TIDE_ASSERT(r[0].hi[1] == 10 && r[0].hi[2] == 255 && r[0].hi[4] == 255);
    TIDE_ASSERT_EQ_INT(tide__hist_ranges(TIDE_OBS_CIDR6, "fc00::/7", r), 1);
    TIDE_ASSERT(r[0].lo[1] == 0xfc && r[0].hi[1] == 0xfd && r[0].hi[2] == 0xff);
    static const char *const bad4[] = { "10.0.0.0/33", "10.0.0.0", "10.0.0.0/ 8", "10.0.0.0/+8",
        "fc00::/7", "010.0.0.0/8", "10.0.0.0/8x" };
    for (size_t i = 0; i < sizeof(bad4) / sizeof(bad4[0]); i++)
        if (tide__hist_ranges(TIDE_OBS_CIDR4, bad4[i], r) != 0)
            TIDE_FAIL_("history range of cidr4 \"%s\"", bad4[i]);
    TIDE_ASSERT_EQ_INT(tide__hist_ranges(TIDE_OBS_CIDR6, "10.0.0.0/8", r), 0);
}

/* export ranges and the bogon check */
static void t_site_export(void)
{
    int fam;
    tide__u128 a, b;
    TIDE_ASSERT(tide__ip_range("10.0.0.0/8", &fam, &a, &b) && fam == 4);
    TIDE_ASSERT(a.lo == 0x0A000000u && b.lo == 0x0AFFFFFFu && a.hi == 0 && b.hi == 0);
    TIDE_ASSERT(tide__ip_range("1.2.3.4", &fam, &a, &b) && a.lo == b.lo && a.lo == 0x01020304u);
    TIDE_ASSERT(tide__ip_range("::/0", &fam, &a, &b) && fam == 6 && a.hi == 0 && b.hi == ~0ULL);
    TIDE_ASSERT(!tide__ip_range("10.0.0.0/+8", &fam, &a, &b));
    TIDE_ASSERT(!tide__ip_range("10.0.0.0/ 8", &fam, &a, &b));
    TIDE_ASSERT(!tide__ip_range("10.0.0.0/33", &fam, &a, &b));
    TIDE_ASSERT(!tide__ip_range("01.2.3.4", &fam, &a, &b));
    TIDE_ASSERT(tide__ip_bogon_overlap(TIDE_OBS_CIDR4, "0.0.0.0/0") != NULL);
    TIDE_ASSERT(tide__ip_bogon_overlap(TIDE_OBS_IPV4, "8.8.8.8") == NULL);
    TIDE_ASSERT(tide__ip_bogon_overlap(TIDE_OBS_IP_PORT, "[fe80::1]:443") != NULL);
    TIDE_ASSERT(tide__ip_bogon_overlap(TIDE_OBS_IP_PORT, "192.168.1.1:80") != NULL);
    /* (in ::ffff:0:0/96) */
    TIDE_ASSERT(tide__ip_bogon_overlap(TIDE_OBS_IPV6, "::ffff:8.8.8.8") != NULL);
}

/* warninglist CIDR entries: a negative prefix made the entry a single address before */
static void t_site_warninglist(void)
{
    tide_warnlist_set *s = NULL;
    TIDE_ASSERT_EQ_INT(tide__warnlist_set_new(&s, false), 0);
    TIDE_ASSERT_EQ_INT(tide__warnlist_add(s, "nets", "cidr", "192.0.2.0/24"), 0);
    TIDE_ASSERT_EQ_INT(tide__warnlist_add(s, "nets", "cidr", "198.51.100.7"), 0);
    TIDE_ASSERT_EQ_INT(tide__warnlist_add(s, "nets", "cidr", "2001:db8::/32"), 0);
    TIDE_ASSERT_EQ_INT(tide__warnlist_add(s, "nets", "cidr", "203.0.113.0/-5"), TIDE_EPARSE);
    TIDE_ASSERT_EQ_INT(tide__warnlist_add(s, "nets", "cidr", "203.0.113.0/ 24"), TIDE_EPARSE);
    TIDE_ASSERT_EQ_INT(tide__warnlist_add(s, "nets", "cidr", "203.0.113.0/33"), TIDE_EPARSE);
    TIDE_ASSERT_EQ_INT(tide__warnlist_add(s, "nets", "cidr", "203.0.113.00"), TIDE_EPARSE);
    TIDE_ASSERT(tide__warnlist_check(s, TIDE_OBS_IPV4, "192.0.2.77") != NULL);
    TIDE_ASSERT(tide__warnlist_check(s, TIDE_OBS_IPV4, "198.51.100.7") != NULL);
    TIDE_ASSERT(tide__warnlist_check(s, TIDE_OBS_IPV4, "198.51.100.8") == NULL);
    TIDE_ASSERT(tide__warnlist_check(s, TIDE_OBS_IPV4, "203.0.113.0") == NULL);
    TIDE_ASSERT(tide__warnlist_check(s, TIDE_OBS_CIDR4, "192.0.2.128/25") != NULL);
    TIDE_ASSERT(tide__warnlist_check(s, TIDE_OBS_IPV6, "2001:db8::5") != NULL);
    tide__warnlist_set_free(s);
}

/* observables: what tide_obs_detect / tide_obs_normalize take is unchanged (the prefix of a CIDR
 * observable is 1-5 digits) */
static void t_site_observable(void)
{
    static const struct {
        const char *v;
        tide_obs_kind k;
    } c[] = {
        { "1.2.3.4", TIDE_OBS_IPV4 },
        { "10.0.0.0/8", TIDE_OBS_CIDR4 },
        { "10.0.0.0/00008", TIDE_OBS_CIDR4 },
        { "10.0.0.0/000008", TIDE_OBS_NONE },
        { "10.0.0.0/33", TIDE_OBS_NONE },
        { "1.2.3.4/32", TIDE_OBS_IPV4 },
        { "::ffff:1.2.3.4", TIDE_OBS_IPV6 },
        { "fc00::/7", TIDE_OBS_CIDR6 },
        { "1.2.3.4:443", TIDE_OBS_IP_PORT },
        { "[2001:db8::1]:443", TIDE_OBS_IP_PORT },
        { "[1.2.3.4]:443", TIDE_OBS_NONE },
        { "01.2.3.4", TIDE_OBS_NONE },
        { "1.2.3.256", TIDE_OBS_NONE },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        tide_obs_kind k = tide_obs_detect(c[i].v);
        if (k != c[i].k)
            TIDE_FAIL_("detect \"%s\": %s, want %s", c[i].v, tide_obs_kind_name(k),
                    tide_obs_kind_name(c[i].k));
    }
    static const struct {
        tide_obs_kind k;
        const char *v, *want;
    } n[] = {
        { TIDE_OBS_IPV4, "1.2.3.4", "1.2.3.4" },
        { TIDE_OBS_IPV4, "1.2.3.4/32", "1.2.3.4" },
        { TIDE_OBS_IPV6, "2001:0DB8::0001", "2001:db8::1" },
        { TIDE_OBS_IPV6, "[2001:db8::1]", "2001:db8::1" },
        { TIDE_OBS_IPV6, "::FFFF:1.2.3.4", "::ffff:1.2.3.4" },
        { TIDE_OBS_CIDR4, "10.1.2.3/8", "10.0.0.0/8" },
        { TIDE_OBS_CIDR4, "10.1.2.3", "10.1.2.3/32" },
        { TIDE_OBS_CIDR6, "fdff::1/7", "fc00::/7" },
        { TIDE_OBS_IP_PORT, "1.2.3.4:0443", "1.2.3.4:443" },
        { TIDE_OBS_IP_PORT, "[2001:DB8::1]:443", "[2001:db8::1]:443" },
        { TIDE_OBS_URL, "http://[2001:DB8::1]:8080/x", "http://[2001:db8::1]:8080/x" },
    };
    for (size_t i = 0; i < sizeof(n) / sizeof(n[0]); i++) {
        char *out = NULL;
        if (tide_obs_normalize(n[i].k, n[i].v, &out) != 0)
            TIDE_FAIL_("normalize \"%s\": %s", n[i].v, tide_error_last());
        TIDE_ASSERT_EQ_STR(out, n[i].want);
        free(out);
    }
    char *out = NULL;
    TIDE_ASSERT_EQ_INT(tide_obs_normalize(TIDE_OBS_IPV4, "1.2.3.4/24", &out), TIDE_EPARSE);
    TIDE_ASSERT_EQ_INT(tide_obs_normalize(TIDE_OBS_CIDR4, "2001:db8::/32", &out), TIDE_EPARSE);
    TIDE_ASSERT_EQ_INT(tide_obs_normalize(TIDE_OBS_IPV6, "1.2.3.4", &out), TIDE_EPARSE);
}

static int pmatch(const char *pat, const char *value, bool *m, char *err)
{
    char data[512];
    snprintf(data, sizeof(data),
            "[{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":[{\"type\":\"observed-data\","
            "\"id\":\"observed-data--1\",\"first_observed\":\"2020-01-01T00:00:00Z\","
            "\"last_observed\":\"2020-01-01T00:00:05Z\",\"number_observed\":1,\"object_refs\":"
            "[\"ipv4-addr--1\"]},{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--1\",\"value\":"
            "\"%s\"}]}]",
            value);
    tide_pattern *p = NULL;
    int rc = tide_pattern_parse(&p, pat, TIDE_STIX_21, err, 256);
    if (rc < 0)
        return rc;
    rc = tide_pattern_match_json(p, data, strlen(data), m, err, 256);
    tide_pattern_free(p);
    return rc;
}

/* STIX ISSUBSET: inet_aton's IPv4 forms and prefixes 1..32 / 1..128, as the OASIS matcher */
static void t_site_pattern(void)
{
    bool m = false;
    char err[256];
    TIDE_ASSERT_EQ_INT(pmatch("[ipv4-addr:value ISSUBSET '10.0.0.0/8']", "10.1.2.3", &m, err), 0);
    TIDE_ASSERT(m);
    TIDE_ASSERT_EQ_INT(pmatch("[ipv4-addr:value ISSUBSET '10.0.0.0/8']", "10.1", &m, err), 0);
    TIDE_ASSERT(m); /* 10.0.0.1 */
    TIDE_ASSERT_EQ_INT(pmatch("[ipv4-addr:value ISSUBSET '8.0.0.0/8']", "010.0.0.1", &m, err), 0);
    TIDE_ASSERT(m); /* octal: 8.0.0.1 */
    TIDE_ASSERT_EQ_INT(
            pmatch("[ipv4-addr:value ISSUBSET '10.0.0.0/000008']", "10.9.9.9", &m, err), 0);
    TIDE_ASSERT(m);
    TIDE_ASSERT_EQ_INT(
            pmatch("[ipv4-addr:value ISSUBSET '10.0.0.0/16']", "10.0.0.0/8", &m, err), 0);
    TIDE_ASSERT(!m);
    TIDE_ASSERT(pmatch("[ipv4-addr:value ISSUBSET '10.0.0.0/0']", "10.1.2.3", &m, err) < 0);
    TIDE_ASSERT(strstr(err, "invalid CIDR subnet") != NULL);
    TIDE_ASSERT(pmatch("[ipv4-addr:value ISSUBSET '10.0.0.0/33']", "10.1.2.3", &m, err) < 0);
    TIDE_ASSERT(pmatch("[ipv4-addr:value ISSUBSET '10.0.0.0']", "10.1.2.3", &m, err) < 0);
    TIDE_ASSERT(strstr(err, "invalid CIDR subnet") != NULL);
    TIDE_ASSERT(pmatch("[ipv4-addr:value ISSUBSET '10.0.0.0/8']", "10.1.2.300", &m, err) < 0);
    TIDE_ASSERT(strstr(err, "invalid IPv4 address") != NULL);
    TIDE_ASSERT(pmatch("[ipv4-addr:value ISSUBSET '10.0.0.0/8']", "10::zz", &m, err) < 0);
    TIDE_ASSERT(strstr(err, "invalid IP address") != NULL);
}

TIDE_TESTS = { { "ipaddr::ip4_table", t_ip4_table },
    { "ipaddr::ip4_vs_inet_pton", t_ip4_vs_inet_pton }, { "ipaddr::ip4_aton", t_ip4_aton },
    { "ipaddr::ip6_table", t_ip6_table }, { "ipaddr::ip6_vs_inet_pton", t_ip6_vs_inet_pton },
    { "ipaddr::cidr", t_cidr }, { "ipaddr::format", t_format },
    { "ipaddr::site_homenet", t_site_homenet }, { "ipaddr::site_keys", t_site_keys },
    { "ipaddr::site_history", t_site_history }, { "ipaddr::site_export", t_site_export },
    { "ipaddr::site_warninglist", t_site_warninglist },
    { "ipaddr::site_observable", t_site_observable }, { "ipaddr::site_pattern", t_site_pattern },
    { NULL, NULL } };
TIDE_TEST_MAIN
