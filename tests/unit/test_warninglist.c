/*
 * test_warninglist.c - MISP warninglists on the real lists of shared/data/misp/misp-warninglists
 * and the built-in bogon ranges: parse, add, check per observable kind.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "harness.h"
#include "intel/warninglist.h"
#include "tide/errors.h"
#include "util/util.h"

static tide_warnlist_set *load(const char *const *names)
{
    tide_warnlist_set *s = NULL;
    TIDE_ASSERT_EQ_INT(tide__warnlist_set_new(&s, false), 0);
    for (int i = 0; names[i]; i++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/misp/misp-warninglists/lists/%s/list.json",
                tide_test_data(), names[i]);
        long skipped = -1;
        int rc = tide__warnlist_load_file(s, path, &skipped);
        if (rc != 0)
            TIDE_FAIL_("%s: %s", names[i], tide_error_last());
        TIDE_ASSERT_EQ_INT(skipped, 0);
    }
    return s;
}

static void is_(
        const tide_warnlist_set *s, tide_obs_kind k, const char *v, const char *want, int line)
{
    const char *got = tide__warnlist_check(s, k, v);
    bool ok = want == NULL ? got == NULL : (got != NULL && strcmp(got, want) == 0);
    if (!ok)
        TIDE_FAIL_("line %d: check('%s') = %s, want %s", line, v, got ? got : "NULL",
                want ? want : "NULL");
}
#define IS(s, k, v, want) is_(s, k, v, want, __LINE__)

static void t_builtin(void)
{
    tide_warnlist_set *s = NULL;
    TIDE_ASSERT_EQ_INT(tide__warnlist_set_new(&s, true), 0);
    const char *b = "builtin-bogons";
    IS(s, TIDE_OBS_IPV4, "10.1.2.3", b);
    IS(s, TIDE_OBS_CIDR4, "10.0.0.0/8", b);
    IS(s, TIDE_OBS_CIDR4, "192.168.0.0/16", b);
    IS(s, TIDE_OBS_IPV4, "192.168.255.255", b);
    IS(s, TIDE_OBS_IPV4, "127.0.0.1", b);
    IS(s, TIDE_OBS_IPV4, "0.1.2.3", b);
    IS(s, TIDE_OBS_CIDR4, "224.0.0.0/4", b);
    IS(s, TIDE_OBS_IPV4, "239.255.255.250", b);
    IS(s, TIDE_OBS_CIDR6, "fc00::/7", b);
    IS(s, TIDE_OBS_IPV6, "fd12:3456::1", b);
    IS(s, TIDE_OBS_IPV6, "::1", b);
    IS(s, TIDE_OBS_IPV6, "fe80::1", b);
    IS(s, TIDE_OBS_IP_PORT, "172.16.9.5:449", b);
    IS(s, TIDE_OBS_URL, "http://192.168.1.1/admin", b);
    IS(s, TIDE_OBS_IPV4, "8.8.4.4", NULL);
    IS(s, TIDE_OBS_IPV4, "1.2.3.4", NULL);
    IS(s, TIDE_OBS_IPV4, "11.0.0.0", NULL);
    IS(s, TIDE_OBS_IPV4, "9.255.255.255", NULL);
    IS(s, TIDE_OBS_CIDR4, "8.0.0.0/6", NULL); /* overlaps 10/8 but is not inside it */
    IS(s, TIDE_OBS_CIDR4, "0.0.0.0/0", NULL);
    IS(s, TIDE_OBS_IPV6, "2001:4860:4860::8888", NULL);
    IS(s, TIDE_OBS_IP_PORT, "206.130.141.255:449", NULL);
    tide__warnlist_set_free(s);
}

static void t_real_lists(void)
{
    static const char *const names[] = { "rfc1918", "public-dns-v4", "public-dns-v6", "alexa",
        "tranco10k", "empty-hashes", "common-contact-emails", "phone_numbers", "url-shortener",
        "automated-malware-analysis", "google", NULL };
    tide_warnlist_set *s = load(names);
    tide__warnlist_set_freeze(s);
    IS(s, TIDE_OBS_IPV4, "10.1.2.3", "List of RFC 1918 CIDR blocks");
    IS(s, TIDE_OBS_CIDR4, "172.16.8.0/24", "List of RFC 1918 CIDR blocks");
    IS(s, TIDE_OBS_IPV4, "8.8.8.8", "List of known IPv4 public DNS resolvers");
    IS(s, TIDE_OBS_IPV4, "8.8.4.4", "List of known IPv4 public DNS resolvers");
    IS(s, TIDE_OBS_IPV4, "1.2.3.4", NULL);
    IS(s, TIDE_OBS_IPV4, "206.130.141.255", NULL);
    TIDE_ASSERT(tide__warnlist_check(s, TIDE_OBS_DOMAIN, "google.com") != NULL);
    TIDE_ASSERT(tide__warnlist_check(s, TIDE_OBS_DOMAIN, "mail.google.com") != NULL);
    TIDE_ASSERT(tide__warnlist_check(s, TIDE_OBS_URL, "https://mail.google.com/mail/u/0/") != NULL);
    IS(s, TIDE_OBS_DOMAIN, "krd6.com", NULL);
    IS(s, TIDE_OBS_DOMAIN, "google.com.evil.example", NULL);
    IS(s, TIDE_OBS_MD5, "d41d8cd98f00b204e9800998ecf8427e", "List of known hashes for empty files");
    IS(s, TIDE_OBS_SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "List of known hashes for empty files");
    IS(s, TIDE_OBS_MD5, "644087ccca16d2a728ef7685a4106f09", NULL);
    /* regex list: /^(security|noc|soc|abuse)\@.*\..*$/i */
    IS(s, TIDE_OBS_EMAIL, "abuse@example.com", "Common contact e-mail addresses");
    IS(s, TIDE_OBS_EMAIL, "john@example.com", NULL);
    tide__warnlist_set_free(s);
}

static void t_tlds_regex_substring(void)
{
    tide_warnlist_set *s = NULL;
    TIDE_ASSERT_EQ_INT(tide__warnlist_set_new(&s, false), 0);
    TIDE_ASSERT_EQ_INT(tide__warnlist_add(s, "subs", "substring", "SinkHole"), 0);
    TIDE_ASSERT_EQ_INT(tide__warnlist_add(s, "re", "regex", "/^evil[0-9]+\\.test$/i"), 0);
    TIDE_ASSERT_EQ_INT(tide__warnlist_add(s, "hosts", "hostname", "*.Example.ORG."), 0);
    TIDE_ASSERT_EQ_INT(tide__warnlist_add(s, "re", "regex", "/(unclosed/"), TIDE_EPARSE);
    TIDE_ASSERT(strstr(tide_error_last(), "bad regex") != NULL);
    TIDE_ASSERT_EQ_INT(tide__warnlist_add(s, "x", "cidr", "10.0.0.0/33"), TIDE_EPARSE);
    TIDE_ASSERT_EQ_INT(tide__warnlist_add(s, "x", "weird", "v"), TIDE_EINVAL);
    IS(s, TIDE_OBS_DOMAIN, "a.sinkhole.example", "subs");
    IS(s, TIDE_OBS_DOMAIN, "EVIL42.test", "re");
    IS(s, TIDE_OBS_DOMAIN, "evil.test", NULL);
    IS(s, TIDE_OBS_DOMAIN, "example.org", "hosts");
    IS(s, TIDE_OBS_DOMAIN, "a.b.example.org", "hosts");
    IS(s, TIDE_OBS_DOMAIN, "notexample.org", NULL);
    IS(s, TIDE_OBS_IPV4, "1.2.3.4", NULL);
    tide__warnlist_set_free(s);
}

static int count_cb(const char *name, const char *type, const char *description, const char *value,
        void *payload)
{
    (void)name;
    (void)type;
    (void)description;
    (void)value;
    (*(long *)payload)++;
    return 0;
}

static void t_parse_errors(void)
{
    long n = 0;
    const char *ok = "{\"name\":\"n\",\"type\":\"string\",\"list\":[\"a\",\"b\"]}";
    TIDE_ASSERT_EQ_INT(tide__warnlist_parse(ok, strlen(ok), count_cb, &n), 0);
    TIDE_ASSERT_EQ_INT(n, 2);
    const char *bad[] = { "{\"name\":\"n\",\"type\":\"string\",\"list\":[\"a\",", "[1,2]",
        "{\"type\":\"string\",\"list\":[]}", "{\"name\":\"n\",\"list\":[]}",
        "{\"name\":\"n\",\"type\":\"bogus\",\"list\":[]}",
        "{\"name\":\"n\",\"type\":\"cidr\",\"list\":\"x\"}",
        "{\"name\":\"n\",\"type\":\"cidr\",\"list\":[\"1.2.3.4\", 5]}", NULL };
    for (int i = 0; bad[i]; i++) {
        n = 0;
        TIDE_ASSERT_EQ_INT(tide__warnlist_parse(bad[i], strlen(bad[i]), count_cb, &n), TIDE_EPARSE);
        TIDE_ASSERT_EQ_INT(n, 0);
    }
    TIDE_ASSERT(strstr(tide_error_last(), "list[1]") != NULL);
}

static void t_all_real_lists_load(void)
{
    static const char *const names[] = { "amazon-aws", "cisco_top1000", "common-ioc-false-positive",
        "disposable-email", "eicar.com", "google-gcp", "ipv6-linklocal", "microsoft", "multicast",
        "rfc3849", "rfc5735", "rfc6598", "rfc6761", "second-level-tlds",
        "security-provider-blogpost", "sinkholes", "tlds", "whats-my-ip", NULL };
    tide_warnlist_set *s = load(names);
    IS(s, TIDE_OBS_IPV6, "fe80::1", "List of IPv6 link local blocks");
    TIDE_ASSERT(tide__warnlist_check(s, TIDE_OBS_IPV4, "100.64.1.1") != NULL);  /* rfc6598 */
    TIDE_ASSERT(tide__warnlist_check(s, TIDE_OBS_IPV4, "224.0.0.251") != NULL); /* multicast */
    IS(s, TIDE_OBS_IPV4, "206.130.141.255", NULL);
    tide__warnlist_set_free(s);
}

/* The fast paths of a check (a dotted quad parsed without inet_pton, lower case eight bytes
 * at a time) agree with the general ones: odd addresses are treated as inet_pton treats them,
 * and tide__mem_lower equals a byte-wise lower case on random bytes. */
static void t_fast_paths(void)
{
    tide_warnlist_set *s = NULL;
    TIDE_ASSERT_EQ_INT(tide__warnlist_set_new(&s, true), 0);
    const char *b = "builtin-bogons";
    static const char *const odd[] = { "010.1.2.3", "10.01.2.3", "10.1.2.256", "10.1.2",
        "10.1.2.3.", "10..2.3", "10.1.2.3 ", " 10.1.2.3", "1000.1.2.3", "10.1.2.+3", "10.1.2.3/8x",
        NULL };
    for (int i = 0; odd[i]; i++)
        IS(s, TIDE_OBS_IPV4, odd[i], NULL); /* inet_pton refuses each: no range, no match */
    IS(s, TIDE_OBS_IPV4, "10.0.0.0", b);
    IS(s, TIDE_OBS_IPV4, "10.255.255.255", b);
    IS(s, TIDE_OBS_IPV4, "0.0.0.0", b);
    IS(s, TIDE_OBS_IPV4, "11.0.0.0", NULL);
    IS(s, TIDE_OBS_IPV4, "255.255.255.255", b);
    tide__warnlist_set_free(s);
    uint64_t st = 0x9E3779B97F4A7C15ULL;
    for (int it = 0; it < 20000; it++) {
        char v[64], w[64];
        size_t n = (size_t)(st % 64);
        for (size_t i = 0; i < n; i++) {
            st ^= st << 13;
            st ^= st >> 7;
            st ^= st << 17;
            v[i] = (char)(st & 0xFF);
            unsigned char c = (unsigned char)v[i];
            w[i] = (c >= 'A' && c <= 'Z') ? (char)(c | 0x20) : (char)c;
        }
        tide__mem_lower(v, n);
        TIDE_ASSERT(memcmp(v, w, n) == 0);
        st ^= st << 13;
    }
}

TIDE_TESTS = {
    { "warninglist::fast_paths", t_fast_paths },
    { "warninglist::builtin", t_builtin },
    { "warninglist::real_lists", t_real_lists },
    { "warninglist::tlds_regex_substring", t_tlds_regex_substring },
    { "warninglist::parse_errors", t_parse_errors },
    { "warninglist::all_real_lists_load", t_all_real_lists_load },
    { NULL, NULL },
};
TIDE_TEST_MAIN
