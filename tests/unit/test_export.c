/*
 * test_export.c - the export library: selection (decay, expiry, revocation, warninglists,
 * private / bogon overlap, filters, duplicates), RPZ owner names (rpz-ip IPv4 / IPv6 zz form),
 * incremental diffs (serial bump, added / removed), Suricata base64 datasets, YARA and Zeek
 * line grammar, version comparison and policy rules, asset import errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "tide.h"
#include "tide/export.h"
#include "tide/warninglist.h"

static char dir[600];

static tide_store *fresh(void)
{
    snprintf(dir, sizeof(dir), "%s", tide_test_tmpdir());
    tide_store *s = NULL;
    TIDE_ASSERT_EQ_INT(tide_store_open(&s, dir), 0);
    return s;
}

static void put_ind(tide_store *s, const char *id, tide_obs_kind k, const char *value,
        int64_t valid_from, int64_t valid_until, bool revoked)
{
    char json[512];
    snprintf(json, sizeof(json), "{\"type\":\"indicator\",\"id\":\"%s\"}", id);
    tide_object_rec r = { .id = id,
        .type = "indicator",
        .modified = "2024-01-01T00:00:00.000Z",
        .json = json,
        .json_len = strlen(json),
        .source = "unit" };
    int st;
    TIDE_ASSERT_EQ_INT(tide_store_put_object(s, &r, &st), 0);
    tide_indicator_rec ind = { .id = id,
        .pattern = "[x:value = 'y']",
        .pattern_type = "stix",
        .source = "unit",
        .reliability = 'A',
        .confidence = 80,
        .valid_from = valid_from,
        .valid_until = valid_until,
        .created = valid_from,
        .modified = valid_from,
        .simple = true,
        .revoked = revoked };
    tide_obs_ref o = { k, value };
    TIDE_ASSERT_EQ_INT(tide_store_put_indicator(s, &ind, &o, 1), 0);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

typedef struct {
    int reasons[TIDE_EXPORT_SKIP__COUNT];
    char last_detail[128];
} explained;

static void explain(int reason, tide_obs_kind kind, const char *value, const char *detail,
        const char *id, void *payload)
{
    (void)kind, (void)value, (void)id;
    explained *e = payload;
    e->reasons[reason]++;
    if (detail)
        snprintf(e->last_detail, sizeof(e->last_detail), "%s", detail);
}

#define NOW 1750000000000LL
#define DAY 86400000LL

static void t_selection(void)
{
    tide_store *s = fresh();
    put_ind(s, "indicator--00000000-0000-4000-8000-000000000001", TIDE_OBS_IPV4, "45.33.32.156",
            NOW - DAY, 0, false);
    put_ind(s, "indicator--00000000-0000-4000-8000-000000000002", TIDE_OBS_IPV4, "45.33.32.157",
            NOW - 31 * DAY, 0, false); /* ip lifetime 30 d: fully decayed */
    put_ind(s, "indicator--00000000-0000-4000-8000-000000000003", TIDE_OBS_DOMAIN,
            "old.example.net", NOW - 10 * DAY, NOW - DAY, false); /* expired */
    put_ind(s, "indicator--00000000-0000-4000-8000-000000000004", TIDE_OBS_DOMAIN,
            "rev.example.net", NOW - DAY, 0, true);
    put_ind(s, "indicator--00000000-0000-4000-8000-000000000005", TIDE_OBS_IPV4, "192.168.1.1",
            NOW - DAY, 0, false);
    put_ind(s, "indicator--00000000-0000-4000-8000-000000000006", TIDE_OBS_CIDR4, "0.0.0.0/0",
            NOW - DAY, 0, false);
    put_ind(s, "indicator--00000000-0000-4000-8000-000000000007", TIDE_OBS_DOMAIN, "www.google.com",
            NOW - DAY, 0, false);
    put_ind(s, "indicator--00000000-0000-4000-8000-000000000008", TIDE_OBS_IPV4, "45.33.32.156",
            NOW - 2 * DAY, 0, false); /* duplicate value */
    const char *vals[] = { "google.com" };
    TIDE_ASSERT_EQ_INT(tide_store_put_warninglist(s, "top-sites", "hostname", "", vals, 1), 0);
    char out[700];
    snprintf(out, sizeof(out), "%s/x.txt", dir);
    tide_export_opts o;
    tide_export_opts_init(&o);
    o.format = TIDE_EXPORT_NFT;
    o.output = out;
    o.now_ms = NOW;
    tide_export_summary sum;
    explained ex = { { 0 }, "" };
    TIDE_ASSERT_EQ_INT(tide_export_run(s, &o, NULL, &sum, explain, &ex), 0);
    const char *t = slurp(out);
    TIDE_ASSERT(t && strstr(t, "45.33.32.156"));
    TIDE_ASSERT(strstr(t, "45.33.32.157") == NULL);
    TIDE_ASSERT(strstr(t, "192.168.1.1") == NULL);
    TIDE_ASSERT(strstr(t, "0.0.0.0/0") == NULL);
    TIDE_ASSERT_EQ_INT(sum.written, 1);
    TIDE_ASSERT_EQ_INT(sum.skipped[TIDE_EXPORT_SKIP_DECAYED], 1);
    TIDE_ASSERT_EQ_INT(sum.skipped[TIDE_EXPORT_SKIP_EXPIRED], 1);
    TIDE_ASSERT_EQ_INT(sum.skipped[TIDE_EXPORT_SKIP_REVOKED], 1);
    TIDE_ASSERT_EQ_INT(sum.skipped[TIDE_EXPORT_SKIP_BOGON], 2);
    TIDE_ASSERT_EQ_INT(sum.skipped[TIDE_EXPORT_SKIP_WARNINGLIST], 1);
    TIDE_ASSERT_EQ_INT(sum.skipped[TIDE_EXPORT_SKIP_DUPLICATE], 1);
    TIDE_ASSERT_EQ_INT(ex.reasons[TIDE_EXPORT_SKIP_WARNINGLIST], 1);
    bool named = false;
    for (int i = 0; i < sum.nlists; i++)
        named |= strcmp(sum.lists[i].name, "top-sites") == 0 && sum.lists[i].count == 1;
    TIDE_ASSERT(named);
    /* the same selection for a text export */
    o.format = TIDE_EXPORT_TXT;
    TIDE_ASSERT_EQ_INT(tide_export_run(s, &o, NULL, &sum, NULL, NULL), 0);
    t = slurp(out);
    TIDE_ASSERT(strstr(t, "45.33.32.156\n") != NULL);
    TIDE_ASSERT(strstr(t, "www.google.com") == NULL);
    TIDE_ASSERT(strstr(t, "rev.example.net") == NULL);
    /* the same IP 29 days later is still in (score > 1), 31 days later it is gone */
    o.now_ms = NOW + 28 * DAY;
    TIDE_ASSERT_EQ_INT(tide_export_run(s, &o, NULL, &sum, NULL, NULL), 0);
    TIDE_ASSERT(strstr(slurp(out), "45.33.32.156") != NULL);
    o.now_ms = NOW + 31 * DAY;
    TIDE_ASSERT_EQ_INT(tide_export_run(s, &o, NULL, &sum, NULL, NULL), 0);
    TIDE_ASSERT(strstr(slurp(out), "45.33.32.156") == NULL);
    tide_store_free(s);
}

static void t_rpz_incremental(void)
{
    tide_store *s = fresh();
    put_ind(s, "indicator--00000000-0000-4000-8000-000000000011", TIDE_OBS_DOMAIN,
            "bad.example.org", NOW - DAY, 0, false);
    put_ind(s, "indicator--00000000-0000-4000-8000-000000000012", TIDE_OBS_CIDR6, "2a00:1450::/32",
            NOW - DAY, 0, false);
    put_ind(s, "indicator--00000000-0000-4000-8000-000000000013", TIDE_OBS_IPV6,
            "2a00:1450:4001:80b::200e", NOW - DAY, 0, false);
    put_ind(s, "indicator--00000000-0000-4000-8000-000000000014", TIDE_OBS_CIDR4, "45.33.0.0/16",
            NOW - DAY, 0, false);
    char out[700];
    snprintf(out, sizeof(out), "%s/z.zone", dir);
    tide_export_opts o;
    tide_export_opts_init(&o);
    o.output = out;
    o.now_ms = NOW;
    tide_export_summary sum;
    TIDE_ASSERT_EQ_INT(tide_export_run(s, &o, NULL, &sum, NULL, NULL), 0);
    int64_t serial1 = sum.serial;
    const char *t = slurp(out);
    TIDE_ASSERT(strstr(t, "\nbad.example.org\tCNAME .\n*.bad.example.org\tCNAME .\n"));
    TIDE_ASSERT(strstr(t, "\n32.zz.1450.2a00.rpz-ip\tCNAME .\n"));
    TIDE_ASSERT(strstr(t, "\n128.200e.zz.80b.4001.1450.2a00.rpz-ip\tCNAME .\n"));
    TIDE_ASSERT(strstr(t, "\n16.0.0.33.45.rpz-ip\tCNAME .\n"));
    /* same clock: the serial still grows */
    put_ind(s, "indicator--00000000-0000-4000-8000-000000000011", TIDE_OBS_DOMAIN,
            "bad.example.org", NOW - DAY, 0, true);
    put_ind(s, "indicator--00000000-0000-4000-8000-000000000015", TIDE_OBS_DOMAIN,
            "new.example.org", NOW - DAY, 0, false);
    o.incremental = true;
    o.action = "drop";
    TIDE_ASSERT_EQ_INT(tide_export_run(s, &o, NULL, &sum, NULL, NULL), 0);
    TIDE_ASSERT(sum.serial > serial1);
    TIDE_ASSERT(sum.incremental);
    /* drop changes every rdata: all old lines removed, all new added */
    TIDE_ASSERT_EQ_INT(sum.removed, 5);
    TIDE_ASSERT_EQ_INT(sum.added, 5);
    char p[800];
    snprintf(p, sizeof(p), "%s.added", out);
    const char *added = slurp(p);
    TIDE_ASSERT(strncmp(added, "*.new.example.org\n", 18) == 0 ||
                strstr(added, "\n*.new.example.org\n"));
    TIDE_ASSERT(
            strstr(added, "\nnew.example.org\n") || strncmp(added, "new.example.org\n", 16) == 0);
    TIDE_ASSERT(strstr(added, "bad.example.org") == NULL);
    o.action = "local-data=bad host";
    TIDE_ASSERT_EQ_INT(tide_export_run(s, &o, NULL, &sum, NULL, NULL), TIDE_EINVAL);
    o.format = TIDE_EXPORT_CSV;
    o.action = NULL;
    TIDE_ASSERT_EQ_INT(tide_export_run(s, &o, NULL, &sum, NULL, NULL), TIDE_EUNSUPPORTED);
    tide_store_free(s);
}

static void t_suricata_zeek_yara(void)
{
    tide_store *s = fresh();
    put_ind(s, "indicator--00000000-0000-4000-8000-000000000021", TIDE_OBS_DOMAIN, "c2.example.org",
            NOW - DAY, 0, false);
    put_ind(s, "indicator--00000000-0000-4000-8000-000000000022", TIDE_OBS_URL,
            "http://c2.example.org/gate.php?id=1;x", NOW - DAY, 0, false);
    put_ind(s, "indicator--00000000-0000-4000-8000-000000000023", TIDE_OBS_SHA256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b856", NOW - DAY, 0,
            false);
    put_ind(s, "indicator--00000000-0000-4000-8000-000000000024", TIDE_OBS_CIDR4, "45.33.0.0/16",
            NOW - DAY, 0, false);
    tide_export_opts o;
    tide_export_opts_init(&o);
    o.now_ms = NOW;
    char d[700], p[800];
    snprintf(d, sizeof(d), "%s/suri", dir);
    o.format = TIDE_EXPORT_SURICATA;
    o.output = d;
    tide_export_summary sum;
    TIDE_ASSERT_EQ_INT(tide_export_run(s, &o, NULL, &sum, NULL, NULL), 0);
    snprintf(p, sizeof(p), "%s/tide-domains.lst", d);
    TIDE_ASSERT_EQ_STR(slurp(p), "YzIuZXhhbXBsZS5vcmc=\n"); /* base64("c2.example.org") */
    snprintf(p, sizeof(p), "%s/tide.rules", d);
    const char *r = slurp(p);
    TIDE_ASSERT(strstr(r, "dns.query; dotprefix; content:\".c2.example.org\"; endswith;"));
    TIDE_ASSERT(strstr(r, "http.uri; content:\"/gate.php?id=1|3B|x\"; startswith;"));
    TIDE_ASSERT(strstr(r, "filesha256:tide-sha256.txt;"));
    TIDE_ASSERT(strstr(r, "dataset:isset,tide-domains,type string,load tide-domains.lst;"));
    snprintf(p, sizeof(p), "%s/tide.iprep", d);
    TIDE_ASSERT(strncmp(slurp(p), "45.33.0.0/16,1,", 15) == 0);
    /* zeek: URL without scheme, five tab-separated fields */
    snprintf(p, sizeof(p), "%s/intel.dat", dir);
    o.format = TIDE_EXPORT_ZEEK;
    o.output = p;
    TIDE_ASSERT_EQ_INT(tide_export_run(s, &o, NULL, &sum, NULL, NULL), 0);
    r = slurp(p);
    TIDE_ASSERT(strncmp(r, "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\n",
                        64) == 0);
    TIDE_ASSERT(strstr(r, "\nc2.example.org/gate.php?id=1;x\tIntel::URL\tunit\t"));
    TIDE_ASSERT(strstr(r, "\n45.33.0.0/16\tIntel::SUBNET\t"));
    TIDE_ASSERT(strstr(r, "\tIntel::FILE_HASH\t"));
    TIDE_ASSERT_EQ_INT(sum.written, 4);
    /* yara */
    snprintf(p, sizeof(p), "%s/r.yar", dir);
    o.format = TIDE_EXPORT_YARA;
    TIDE_ASSERT_EQ_INT(tide_export_run(s, &o, NULL, &sum, NULL, NULL), 0);
    TIDE_ASSERT(strstr(slurp(p),
            "hash.sha256(0, filesize) == "
            "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b856\""));
    TIDE_ASSERT_EQ_INT(sum.written, 1);
    TIDE_ASSERT_EQ_INT(sum.skipped[TIDE_EXPORT_SKIP_UNSUPPORTED], 3);
    tide_store_free(s);
}

/* next_change: the time a selected indicator's decayed score crosses min_score (to the
 * minute); an export at that time leaves it out, one two minutes earlier keeps it. The
 * fingerprint of an unchanged set makes unless_fingerprint write nothing. */
static void t_next_change(void)
{
    tide_store *s = fresh();
    int64_t day = 86400000LL, t0 = 1767225600000LL; /* 2026-01-01 */
    put_ind(s, "indicator--00000000-0000-4000-8000-0000000000a1", TIDE_OBS_IPV4, "45.33.32.10", t0,
            0, false);
    put_ind(s, "indicator--00000000-0000-4000-8000-0000000000a2", TIDE_OBS_DOMAIN,
            "slow.tidetest.com", t0, t0 + 200 * day, false);
    char out[700];
    snprintf(out, sizeof(out), "%s/n.txt", dir);
    tide_export_opts o;
    tide_export_opts_init(&o);
    o.format = TIDE_EXPORT_TXT;
    o.output = out;
    o.min_score = 40;
    o.now_ms = t0 + day;
    tide_export_summary sum;
    TIDE_ASSERT_EQ_INT(tide_export_run(s, &o, NULL, &sum, NULL, NULL), 0);
    TIDE_ASSERT_EQ_INT((int)sum.written, 2);
    /* base 80 (confidence 80, reliability A); ip: 30 days, linear: below 40 at day 15 */
    int64_t want = t0 + 15 * day;
    TIDE_ASSERT(sum.next_change >= want && sum.next_change <= want + 60000);
    uint64_t fp = sum.fingerprint;
    TIDE_ASSERT(fp != 0);
    o.now_ms = sum.next_change - 120000;
    o.unless_fingerprint = fp;
    TIDE_ASSERT_EQ_INT(tide_export_run(s, &o, NULL, &sum, NULL, NULL), 0);
    TIDE_ASSERT(sum.unchanged);
    o.now_ms = sum.next_change;
    int64_t crossing = sum.next_change;
    TIDE_ASSERT_EQ_INT(tide_export_run(s, &o, NULL, &sum, NULL, NULL), 0);
    TIDE_ASSERT(!sum.unchanged && sum.fingerprint != fp);
    TIDE_ASSERT_EQ_INT((int)sum.written, 1);
    TIDE_ASSERT(strstr(slurp(out), "45.33.32.10") == NULL);
    /* the domain (90 days) crosses 40 at day 45, before its valid_until */
    TIDE_ASSERT(sum.next_change > crossing && sum.next_change >= t0 + 45 * day &&
                sum.next_change <= t0 + 45 * day + 60000);
    tide_store_free(s);
}

static void t_policy(void)
{
    TIDE_ASSERT(tide_version_compare("1.6.0_45", "1.7") < 0);
    TIDE_ASSERT(tide_version_compare("1.10", "1.9") > 0);
    TIDE_ASSERT(tide_version_compare("1.7.0", "1.7") == 0);
    TIDE_ASSERT(tide_version_compare("11.0.2", "1.7") > 0);
    tide_policy_rule r;
    TIDE_ASSERT_EQ_INT(tide_policy_parse("software java < 1.7 -> deny-egress", &r), 0);
    TIDE_ASSERT_EQ_STR(r.name, "java");
    TIDE_ASSERT_EQ_STR(r.op, "<");
    TIDE_ASSERT_EQ_STR(r.version, "1.7");
    TIDE_ASSERT_EQ_INT(tide_policy_parse("software openjdk* <=1.8 -> deny-egress", &r), 0);
    TIDE_ASSERT_EQ_STR(r.op, "<=");
    TIDE_ASSERT_EQ_INT(tide_policy_parse("software java ~ 1.7 -> deny-egress", &r), TIDE_EPARSE);
    TIDE_ASSERT_EQ_INT(tide_policy_parse("software java < 1.7 -> reboot", &r), TIDE_EPARSE);
    TIDE_ASSERT_EQ_INT(tide_policy_parse("hardware x < 1 -> deny-egress", &r), TIDE_EPARSE);
    tide_store *s = fresh();
    char p[700];
    snprintf(p, sizeof(p), "%s/a.json", dir);
    FILE *f = fopen(p, "w");
    fputs("[{\"host\":\"h1\",\"ips\":[\"10.0.0.5\"],\"software\":[{\"name\":\"Java\","
          "\"version\":\"1.6.0\"}]},{\"host\":\"h2\",\"ips\":[\"10.0.0.6\"],\"software\":"
          "[{\"name\":\"java\",\"version\":\"17.0.1\"}]}]",
            f);
    fclose(f);
    long n = 0;
    TIDE_ASSERT_EQ_INT(tide_assets_import(s, p, &n), 0);
    TIDE_ASSERT_EQ_INT(n, 2);
    tide_export_opts o;
    tide_export_opts_init(&o);
    o.format = TIDE_EXPORT_IPSET;
    o.policy = "software java < 1.7 -> deny-egress";
    snprintf(p, sizeof(p), "%s/p.ipset", dir);
    o.output = p;
    tide_export_summary sum;
    TIDE_ASSERT_EQ_INT(tide_export_run(s, &o, NULL, &sum, NULL, NULL), 0);
    const char *t = slurp(p);
    TIDE_ASSERT(strstr(t, "add tide_deny_egress_v4 10.0.0.5\n"));
    TIDE_ASSERT(strstr(t, "10.0.0.6") == NULL);
    /* a bad CSV line is named */
    snprintf(p, sizeof(p), "%s/a.csv", dir);
    f = fopen(p, "w");
    fputs("host,ips,software\nh3,10.0.0.7,x 1\nh4,not-an-ip,y 2\n", f);
    fclose(f);
    TIDE_ASSERT_EQ_INT(tide_assets_import(s, p, &n), TIDE_EPARSE);
    TIDE_ASSERT(strstr(tide_error_last(), "a.csv:3") != NULL);
    tide_store_free(s);
}

TIDE_TESTS = {
    { "export::selection", t_selection },
    { "export::rpz_incremental", t_rpz_incremental },
    { "export::next_change", t_next_change },
    { "export::suricata_zeek_yara", t_suricata_zeek_yara },
    { "export::policy", t_policy },
    { NULL, NULL },
};
TIDE_TEST_MAIN
