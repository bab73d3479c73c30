/*
 * test_observable.c - detect / refang / normalize / to_pattern / from_path of observables
 * (include/tide/observable.h), including the awkward cases feeds contain.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tide/errors.h"
#include "tide/observable.h"

static const char *kind_str(tide_obs_kind k)
{
    const char *s = tide_obs_kind_name(k);
    return s != NULL ? s : "(none)";
}

static void check_detect(const char *v, tide_obs_kind want, int line)
{
    tide_obs_kind got = tide_obs_detect(v);
    if (got != want)
        TIDE_FAIL_("line %d: detect('%s') = %s, want %s", line, v, kind_str(got), kind_str(want));
}
#define DET(v, k) check_detect(v, k, __LINE__)

static void check_norm(tide_obs_kind k, const char *v, const char *want, int line)
{
    char *out = NULL;
    int rc = tide_obs_normalize(k, v, &out);
    if (want == NULL) {
        if (rc != TIDE_EPARSE)
            TIDE_FAIL_("line %d: normalize(%s, '%s') = '%s', want EPARSE", line,
                    tide_obs_kind_name(k), v, out ? out : "");
        free(out);
        return;
    }
    if (rc != 0 || out == NULL || strcmp(out, want) != 0) {
        TIDE_FAIL_("line %d: normalize(%s, '%s') rc %d = '%s', want '%s'", line,
                tide_obs_kind_name(k), v, rc, out ? out : "(null)", want);
    }
    free(out);
}
#define NORM(k, v, w) check_norm(k, v, w, __LINE__)

static void check_refang(const char *v, const char *want, int line)
{
    char *out = NULL;
    int rc = tide_obs_refang(v, &out);
    if (rc != 0 || strcmp(out, want) != 0)
        TIDE_FAIL_("line %d: refang('%s') = '%s', want '%s'", line, v, out ? out : "", want);
    free(out);
}
#define REFANG(v, w) check_refang(v, w, __LINE__)

static void check_pattern(tide_obs_kind k, const char *v, const char *want, int line)
{
    char *out = NULL;
    int rc = tide_obs_to_pattern(k, v, &out);
    if (rc != 0 || strcmp(out, want) != 0)
        TIDE_FAIL_("line %d: to_pattern('%s') = '%s', want '%s'", line, v, out ? out : "", want);
    free(out);
}
#define PAT(k, v, w) check_pattern(k, v, w, __LINE__)

static void t_names(void)
{
    for (int k = 0; k < TIDE_OBS__COUNT; k++)
        TIDE_ASSERT_EQ_INT(tide_obs_kind_from_name(tide_obs_kind_name((tide_obs_kind)k)), k);
    TIDE_ASSERT_EQ_STR(tide_obs_kind_name(TIDE_OBS_URL_PATH), "url-path");
    TIDE_ASSERT_EQ_STR(tide_obs_kind_name(TIDE_OBS_IP_PORT), "ip-port");
    TIDE_ASSERT_EQ_STR(tide_obs_kind_name(TIDE_OBS_X509_SHA1), "x509-sha1");
    TIDE_ASSERT_EQ_STR(tide_obs_kind_name((tide_obs_kind)99), "none");
    TIDE_ASSERT_EQ_INT(tide_obs_kind_from_name("bogus"), TIDE_OBS_NONE);
    TIDE_ASSERT_EQ_INT(tide_obs_kind_from_name(NULL), TIDE_OBS_NONE);
}

static void t_detect_ip(void)
{
    DET("1.14.104.208", TIDE_OBS_IPV4);
    DET("255.255.255.255", TIDE_OBS_IPV4);
    DET("256.1.1.1", TIDE_OBS_NONE);
    DET("1.2.3", TIDE_OBS_NONE);
    DET("2001:db8::1", TIDE_OBS_IPV6);
    DET("::1", TIDE_OBS_IPV6);
    DET("10.0.0.0/8", TIDE_OBS_CIDR4);
    DET("1.2.3.4/32", TIDE_OBS_IPV4);
    DET("1.2.3.4/33", TIDE_OBS_NONE);
    DET("2001:db8::/32", TIDE_OBS_CIDR6);
    DET("2001:db8::1/128", TIDE_OBS_IPV6);
    DET("206.130.141.255:449", TIDE_OBS_IP_PORT);
    DET("[2001:db8::1]:443", TIDE_OBS_IP_PORT);
    DET("1.2.3.4:0", TIDE_OBS_NONE);
    DET("1.2.3.4:70000", TIDE_OBS_NONE);
}

static void t_detect_names(void)
{
    DET("dvr.petcp.com", TIDE_OBS_DOMAIN);
    DET("3gihg5esw7lxg2wh.onion", TIDE_OBS_DOMAIN);
    DET("Example.COM.", TIDE_OBS_DOMAIN);
    DET("*.evil.example", TIDE_OBS_DOMAIN);
    DET("xn--80ak6aa92e.com", TIDE_OBS_DOMAIN);
    DET("under_score.example.net", TIDE_OBS_DOMAIN);
    DET("localhost", TIDE_OBS_NONE);
    DET(".tk", TIDE_OBS_DOMAIN);
    DET(".", TIDE_OBS_NONE);
    DET("1.2.3.4.5", TIDE_OBS_NONE);
    DET("a..b.com", TIDE_OBS_NONE);
    DET("bad(domain).com", TIDE_OBS_NONE);
    DET("evil.com/path", TIDE_OBS_URL);
    DET("85.239.53.219/gate.php?id=1", TIDE_OBS_URL);
    DET("evil.com:8080", TIDE_OBS_URL);
    DET("http://85.239.53.219", TIDE_OBS_URL);
    DET("HTTPS://Example.com/A", TIDE_OBS_URL);
    DET("ftp://files.example.org/x", TIDE_OBS_URL);
    DET("/guids/xian/ringin/", TIDE_OBS_URL_PATH);
    DET("/", TIDE_OBS_NONE);
    DET("user@example.com", TIDE_OBS_EMAIL);
    DET("a.b+tag@Mail.Example.org", TIDE_OBS_EMAIL);
    DET("user@@example.com", TIDE_OBS_NONE);
    DET("d41d8cd98f00b204e9800998ecf8427e", TIDE_OBS_MD5);
    DET("da39a3ee5e6b4b0d3255bfef95601890afd80709", TIDE_OBS_SHA1);
    DET("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", TIDE_OBS_SHA256);
    DET("cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d287"
        "7eec2f63b931bd47417a81a538327af927da3e",
            TIDE_OBS_SHA512);
    DET("d41d8cd98f00b204e9800998ecf8427", TIDE_OBS_NONE);
    DET("", TIDE_OBS_NONE);
    DET("hello world", TIDE_OBS_NONE);
    DET("(", TIDE_OBS_NONE);
    DET(NULL, TIDE_OBS_NONE);
}

static void t_refang(void)
{
    REFANG("hxxp://evil[.]com/a", "http://evil.com/a");
    REFANG("hXXps://evil[.]com", "https://evil.com");
    REFANG("fxp://files(.)example{.}org", "ftp://files.example.org");
    REFANG("evil[dot]com", "evil.com");
    REFANG("evil(DOT)com", "evil.com");
    REFANG("1.2.3[.]4", "1.2.3.4");
    REFANG("1.2.3.4[:]8080", "1.2.3.4:8080");
    REFANG("user[@]example[.]com", "user@example.com");
    REFANG("user[at]example.com", "user@example.com");
    REFANG("user(at)example.com", "user@example.com");
    REFANG("http[://]example.com", "http://example.com");
    REFANG("http://normal.example/path(1)", "http://normal.example/path(1)");
    REFANG("plain.example", "plain.example");
    REFANG("", "");
}

static void t_norm_ip(void)
{
    NORM(TIDE_OBS_IPV4, "1.2.3.4", "1.2.3.4");
    NORM(TIDE_OBS_IPV4, "1.2.3.4/32", "1.2.3.4");
    NORM(TIDE_OBS_IPV4, "2001:db8::1", NULL);
    NORM(TIDE_OBS_IPV6, "2001:0DB8:0000::0001", "2001:db8::1");
    NORM(TIDE_OBS_IPV6, "[2001:db8::1]", "2001:db8::1");
    NORM(TIDE_OBS_CIDR4, "10.1.2.3/8", "10.0.0.0/8");
    NORM(TIDE_OBS_CIDR4, "192.168.77.1/20", "192.168.64.0/20");
    NORM(TIDE_OBS_CIDR4, "1.2.3.4", "1.2.3.4/32");
    NORM(TIDE_OBS_CIDR4, "0.0.0.0/0", "0.0.0.0/0");
    NORM(TIDE_OBS_CIDR4, "10.0.0.0/40", NULL);
    NORM(TIDE_OBS_CIDR6, "2001:db8:ffff::1/33", "2001:db8:8000::/33");
    NORM(TIDE_OBS_CIDR6, "fc00::/7", "fc00::/7");
    NORM(TIDE_OBS_IP_PORT, "206.130.141.255:449", "206.130.141.255:449");
    NORM(TIDE_OBS_IP_PORT, "1.2.3.4:0080", "1.2.3.4:80");
    NORM(TIDE_OBS_IP_PORT, "[2001:DB8::1]:443", "[2001:db8::1]:443");
    NORM(TIDE_OBS_IP_PORT, "2001:db8::1:443", NULL);
}

static void t_norm_domain_hash_email(void)
{
    NORM(TIDE_OBS_DOMAIN, "WWW.Example.COM.", "www.example.com");
    NORM(TIDE_OBS_DOMAIN, "*.Evil.example", "evil.example");
    NORM(TIDE_OBS_DOMAIN, "ex ample.com", NULL);
    NORM(TIDE_OBS_DOMAIN, ".co.uk.pn", "co.uk.pn"); /* maltrail suffix trail */
    NORM(TIDE_OBS_DOMAIN, ".TK", "tk");
    NORM(TIDE_OBS_DOMAIN, "1.2.3.4", NULL);
    NORM(TIDE_OBS_MD5, "D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e");
    NORM(TIDE_OBS_MD5, "d41d8cd98f00b204e9800998ecf8427", NULL);
    NORM(TIDE_OBS_SHA256, "d41d8cd98f00b204e9800998ecf8427e", NULL);
    NORM(TIDE_OBS_JA3, "E7D705A3286E19EA42F587B344EE6865", "e7d705a3286e19ea42f587b344ee6865");
    NORM(TIDE_OBS_EMAIL, "John.Doe@Example.COM", "john.doe@example.com");
    NORM(TIDE_OBS_EMAIL, "no-at-sign.example.com", NULL);
}

static void t_norm_url(void)
{
    NORM(TIDE_OBS_URL, "HTTP://Example.COM", "http://example.com/");
    NORM(TIDE_OBS_URL, "http://example.com:80/a", "http://example.com/a");
    NORM(TIDE_OBS_URL, "https://example.com:443/a", "https://example.com/a");
    NORM(TIDE_OBS_URL, "https://example.com:8443/a", "https://example.com:8443/a");
    NORM(TIDE_OBS_URL, "http://example.com:443/a", "http://example.com:443/a");
    NORM(TIDE_OBS_URL, "ftp://example.com:21/x", "ftp://example.com/x");
    NORM(TIDE_OBS_URL, "http://example.com/%7Euser/%41%2f%2F?q=%3a",
            "http://example.com/~user/A%2F%2F?q=%3A");
    NORM(TIDE_OBS_URL, "http://example.com/Path/CASE", "http://example.com/Path/CASE");
    NORM(TIDE_OBS_URL, "http://example.com/a#frag", "http://example.com/a");
    NORM(TIDE_OBS_URL, "http://example.com?x=1", "http://example.com/?x=1");
    NORM(TIDE_OBS_URL, "http://[2001:DB8::1]:8080/x", "http://[2001:db8::1]:8080/x");
    NORM(TIDE_OBS_URL, "http://[2001:db8::1]:80/", "http://[2001:db8::1]/");
    NORM(TIDE_OBS_URL, "evil.com/Gate.php", "http://evil.com/Gate.php");
    NORM(TIDE_OBS_URL, "85.239.53.219", "http://85.239.53.219/");
    NORM(TIDE_OBS_URL, "http://85.239.53.219", "http://85.239.53.219/");
    NORM(TIDE_OBS_URL, "http://Example.com./", "http://example.com/");
    NORM(TIDE_OBS_URL, "http://a/b c", "http://a/b%20c");
    NORM(TIDE_OBS_URL, "http://user:pw@Host.example/", "http://user:pw@host.example/");
    NORM(TIDE_OBS_URL, "http:///nohost", NULL);
    NORM(TIDE_OBS_URL, "http://[zz::1]/", NULL);
    NORM(TIDE_OBS_URL, "http://example.com:99999/", NULL);
    NORM(TIDE_OBS_URL_PATH, "/guids/xian/ringin/", "/guids/xian/ringin/");
    NORM(TIDE_OBS_URL_PATH, "/a/%7e%3f", "/a/~%3F");
    NORM(TIDE_OBS_URL_PATH, "no/leading/slash", NULL);
}

static void t_pattern(void)
{
    PAT(TIDE_OBS_IPV4, "1.2.3.4", "[ipv4-addr:value = '1.2.3.4']");
    PAT(TIDE_OBS_CIDR4, "10.0.0.0/8", "[ipv4-addr:value ISSUBSET '10.0.0.0/8']");
    PAT(TIDE_OBS_IPV6, "::1", "[ipv6-addr:value = '::1']");
    PAT(TIDE_OBS_CIDR6, "fc00::/7", "[ipv6-addr:value ISSUBSET 'fc00::/7']");
    PAT(TIDE_OBS_DOMAIN, "x.com", "[domain-name:value = 'x.com']");
    PAT(TIDE_OBS_URL, "http://x.com/it's\\", "[url:value = 'http://x.com/it\\'s\\\\']");
    PAT(TIDE_OBS_URL_PATH, "/guids/xian/", "[url:value LIKE '%/guids/xian/']");
    PAT(TIDE_OBS_IP_PORT, "206.130.141.255:449",
            "[network-traffic:dst_ref.value = '206.130.141.255' AND network-traffic:dst_port = "
            "449]");
    PAT(TIDE_OBS_IP_PORT, "[2001:db8::1]:443",
            "[network-traffic:dst_ref.value = '2001:db8::1' AND network-traffic:dst_port = 443]");
    PAT(TIDE_OBS_MD5, "d41d8cd98f00b204e9800998ecf8427e",
            "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']");
    PAT(TIDE_OBS_SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']");
    PAT(TIDE_OBS_SHA256, "ab", "[file:hashes.'SHA-256' = 'ab']");
    PAT(TIDE_OBS_SHA512, "ab", "[file:hashes.'SHA-512' = 'ab']");
    PAT(TIDE_OBS_EMAIL, "a@b.com", "[email-addr:value = 'a@b.com']");
    PAT(TIDE_OBS_JA3, "ab", "[network-traffic:extensions.'x-ja3'.hash = 'ab']");
    PAT(TIDE_OBS_X509_SHA1, "ab", "[x509-certificate:hashes.'SHA-1' = 'ab']");
    char *out = NULL;
    TIDE_ASSERT_EQ_INT(tide_obs_to_pattern(TIDE_OBS_NONE, "x", &out), TIDE_EPARSE);
    TIDE_ASSERT(out == NULL);
}

static void t_from_path(void)
{
    TIDE_ASSERT_EQ_INT(tide_obs_from_path("ipv4-addr", "value", "1.2.3.4"), TIDE_OBS_IPV4);
    TIDE_ASSERT_EQ_INT(tide_obs_from_path("ipv4-addr", "value", "10.0.0.0/8"), TIDE_OBS_CIDR4);
    TIDE_ASSERT_EQ_INT(tide_obs_from_path("ipv4-addr", "value", "1.2.3.4/32"), TIDE_OBS_IPV4);
    TIDE_ASSERT_EQ_INT(tide_obs_from_path("ipv6-addr", "value", "fc00::/7"), TIDE_OBS_CIDR6);
    TIDE_ASSERT_EQ_INT(tide_obs_from_path("ipv6-addr", "value", "::1"), TIDE_OBS_IPV6);
    TIDE_ASSERT_EQ_INT(tide_obs_from_path("domain-name", "value", NULL), TIDE_OBS_DOMAIN);
    TIDE_ASSERT_EQ_INT(tide_obs_from_path("url", "value", NULL), TIDE_OBS_URL);
    TIDE_ASSERT_EQ_INT(tide_obs_from_path("email-addr", "value", NULL), TIDE_OBS_EMAIL);
    TIDE_ASSERT_EQ_INT(tide_obs_from_path("file", "hashes.'SHA-256'", NULL), TIDE_OBS_SHA256);
    TIDE_ASSERT_EQ_INT(tide_obs_from_path("file", "hashes.SHA256", NULL), TIDE_OBS_SHA256);
    TIDE_ASSERT_EQ_INT(tide_obs_from_path("file", "hashes.sha256", NULL), TIDE_OBS_SHA256);
    TIDE_ASSERT_EQ_INT(tide_obs_from_path("file", "hashes.'SHA256'", NULL), TIDE_OBS_SHA256);
    TIDE_ASSERT_EQ_INT(tide_obs_from_path("file", "hashes.MD5", NULL), TIDE_OBS_MD5);
    TIDE_ASSERT_EQ_INT(tide_obs_from_path("file", "hashes.'SHA-1'", NULL), TIDE_OBS_SHA1);
    TIDE_ASSERT_EQ_INT(tide_obs_from_path("file", "hashes.'SHA-512'", NULL), TIDE_OBS_SHA512);
    TIDE_ASSERT_EQ_INT(tide_obs_from_path("file", "hashes.'SSDEEP'", NULL), TIDE_OBS_NONE);
    TIDE_ASSERT_EQ_INT(tide_obs_from_path("artifact", "hashes.'SHA-256'", NULL), TIDE_OBS_SHA256);
    TIDE_ASSERT_EQ_INT(
            tide_obs_from_path("x509-certificate", "hashes.'SHA-1'", NULL), TIDE_OBS_X509_SHA1);
    TIDE_ASSERT_EQ_INT(
            tide_obs_from_path("network-traffic", "dst_ref.value", "1.2.3.4"), TIDE_OBS_IPV4);
    TIDE_ASSERT_EQ_INT(
            tide_obs_from_path("network-traffic", "src_ref.value", "10.0.0.0/8"), TIDE_OBS_CIDR4);
    TIDE_ASSERT_EQ_INT(tide_obs_from_path("network-traffic", "dst_port", "449"), TIDE_OBS_NONE);
    TIDE_ASSERT_EQ_INT(
            tide_obs_from_path("network-traffic", "extensions.'x-ja3'.hash", NULL), TIDE_OBS_JA3);
    TIDE_ASSERT_EQ_INT(tide_obs_from_path("file", "name", "x.exe"), TIDE_OBS_NONE);
    TIDE_ASSERT_EQ_INT(tide_obs_from_path("process", "pid", NULL), TIDE_OBS_NONE);
}

/* detect -> normalize -> detect again is stable for everything detect accepts. */
static void t_roundtrip(void)
{
    static const char *vals[] = { "Evil.COM", "1.2.3.4", "10.9.8.7/8", "HTTP://A.example:80/%7e",
        "evil.com/x.php", "/p/q", "1.2.3.4:449", "[::1]:8443", "fc00::1/7",
        "D41D8CD98F00B204E9800998ECF8427E", "A@B.example", NULL };
    for (int i = 0; vals[i]; i++) {
        tide_obs_kind k = tide_obs_detect(vals[i]);
        TIDE_ASSERT(k != TIDE_OBS_NONE);
        char *n1 = NULL, *n2 = NULL;
        TIDE_ASSERT_EQ_INT(tide_obs_normalize(k, vals[i], &n1), 0);
        TIDE_ASSERT_EQ_INT(tide_obs_detect(n1), k);
        TIDE_ASSERT_EQ_INT(tide_obs_normalize(k, n1, &n2), 0);
        TIDE_ASSERT_EQ_STR(n1, n2);
        free(n1);
        free(n2);
    }
}

/* normalize(normalize(v)) == normalize(v) for every kind, on fixed cases (the issue's
 * "p%6%66x", which became "p%6fx" and then "pox") and on random URLs, paths and values full of
 * '%' sequences, hex digits and URL punctuation (a fixed xorshift seed: the run repeats). */
static int check_idem(tide_obs_kind k, const char *v)
{
    char *n1 = NULL, *n2 = NULL;
    if (tide_obs_normalize(k, v, &n1) != 0)
        return 0; /* not a value of that kind: nothing to hold */
    int ok = tide_obs_normalize(k, n1, &n2) == 0 && strcmp(n1, n2) == 0;
    if (!ok)
        TIDE_FAIL_("%s: normalize('%s') = '%s', again = '%s'", tide_obs_kind_name(k), v, n1,
                n2 ? n2 : "(refused)");
    free(n1);
    free(n2);
    return 1;
}

static void t_normalize_idempotent(void)
{
    static const char *fixed[] = { "http://example.com/p%6%66x", "http://example.com/p%%36%36",
        "http://example.com/%6", "http://example.com/%", "http://example.com/a%2%41%42",
        "http://u%6%66@example.com/%7e%7E", "example.com/p%6%66x?q=%6%66", "/p%6%66x", NULL };
    char *out = NULL;
    TIDE_ASSERT_EQ_INT(tide_obs_normalize(TIDE_OBS_URL, "http://example.com/p%6%66x", &out), 0);
    TIDE_ASSERT_EQ_STR(out, "http://example.com/p%6%66x");
    free(out);
    TIDE_ASSERT_EQ_INT(tide_obs_normalize(TIDE_OBS_URL, "http://example.com/%7e%2f", &out), 0);
    TIDE_ASSERT_EQ_STR(out, "http://example.com/~%2F"); /* unreserved decoded, others upper */
    free(out);
    for (int i = 0; fixed[i]; i++) {
        TIDE_ASSERT(check_idem(TIDE_OBS_URL, fixed[i]) || check_idem(TIDE_OBS_URL_PATH, fixed[i]));
        check_idem(TIDE_OBS_URL_PATH, fixed[i]);
    }
    static const char alpha[] = "%%%%%%666fFaA0123456789xX/?:@.-_~#[]!$&'()*+,;= \x01\x7f\xc3\xa9";
    static const char *const prefixes[] = { "http://example.com/",
        "HTTPS://User%6@Example.COM:443/", "ftp://10.1.2.3:21", "example.org/",
        "http://[::1]:8080/", "/", "", "evil.example.", "*." };
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    long checked = 0;
    for (int it = 0; it < 200000; it++) {
        char v[96];
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        const char *pre = prefixes[x % (sizeof(prefixes) / sizeof(prefixes[0]))];
        size_t o = (size_t)snprintf(v, sizeof(v), "%s", pre);
        size_t len = (x >> 8) % 24;
        for (size_t j = 0; j < len && o + 1 < sizeof(v); j++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            v[o++] = alpha[(x >> 16) % (sizeof(alpha) - 1)];
        }
        v[o] = '\0';
        for (int k = 1; k < TIDE_OBS__COUNT; k++)
            checked += check_idem((tide_obs_kind)k, v);
    }
    TIDE_ASSERT(checked > 100000); /* most inputs were values of some kind */
}

TIDE_TESTS = {
    { "observable::names", t_names },
    { "observable::detect_ip", t_detect_ip },
    { "observable::detect_names", t_detect_names },
    { "observable::refang", t_refang },
    { "observable::norm_ip", t_norm_ip },
    { "observable::norm_domain_hash_email", t_norm_domain_hash_email },
    { "observable::norm_url", t_norm_url },
    { "observable::pattern", t_pattern },
    { "observable::from_path", t_from_path },
    { "observable::roundtrip", t_roundtrip },
    { "observable::normalize_idempotent", t_normalize_idempotent },
    { NULL, NULL },
};
TIDE_TEST_MAIN
