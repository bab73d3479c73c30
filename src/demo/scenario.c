/*
 * scenario.c - the demo scenario (demo.h): a fictional intrusion, generated from a seeded
 * PRNG (splitmix64) so that the values are the same on every run, written as four feeds, a
 * day of Zeek logs, the previous day's DNS log and a lessons-learned record. JSON is built with
 * jansson, like everywhere else in tide. The actor, campaign and malware names are invented;
 * the IPs and domains look like real public infrastructure (no RFC 1918, no documentation
 * ranges) but are random.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "intel/tlp.h"
#include "tide/demo.h"
#include "tide/tlp.h"
#include "tide/observable.h"
#include "util/outfile.h"
#include "util/util.h"

#define DEMO_SEED     0x7469646564656d6fULL /* "tidedemo" */
#define DEMO_MAX_IND  40
#define DEMO_ACTOR    "FIN-TIDE-DEMO"
#define DEMO_CAMPAIGN "Operation Low Tide"
#define DEMO_PATH_MAX 4096

/* The TLP 2.0 marking definitions the bundle carries (their ids: intel/tlp.h). */
#define TLP2_EXT "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

typedef struct {
    tide_obs_kind kind; /* IPV4, CIDR4, DOMAIN, URL, SHA256, MD5 */
    char value[200];
    char value2[64];   /* second IPv4 of an "a OR b" pattern, else "" */
    int malware;       /* 0 or 1: indicates that malware; -1: indicates the campaign */
    const char *phase; /* mitre-attack phase name */
    const char *role;  /* words for the indicator's name */
    int confidence;
    const char *tlp;
    char id[64];
} demo_ind;

typedef struct {
    uint64_t rng;
    time_t t0; /* the scenario's day, 00:00 UTC (see build_scenario) */
    char identity[64], iset[64], campaign[64], malware[2][64];
    demo_ind ind[DEMO_MAX_IND];
    size_t nind;
    /* values shared between the files, so lookups find several sources */
    const char *shared_domain, *shared_ip, *shared_sha256, *shared_url, *csv_ip, *csv_sha256;
    char dir[DEMO_PATH_MAX];
    char path[4][DEMO_PATH_MAX + 32];
    char zeek_dir[DEMO_PATH_MAX + 16];
    char zeek[4][DEMO_PATH_MAX + 32]; /* conn, dns, http, files */
    char old_dns[DEMO_PATH_MAX + 64]; /* yesterday's DNS log, only in history */
    char lessons[DEMO_PATH_MAX + 64], share[DEMO_PATH_MAX + 64];
} demo;

struct tide_demo {
    demo d;
    bool written;
};

static const char *const malware_name[2] = { "KelpLoader", "UndertowRAT" };
static const char *const file_name[4] = { "bundle.stix.json", "misp-event.json", "kelploader.txt",
    "feed.csv" };
static const char *const source_name[4] = { "demo-stix", "demo-misp", "demo-maltrail", "demo-csv" };

/* ---- deterministic values ---- */

static uint64_t rnd(demo *d)
{
    /* splitmix64 */
    uint64_t z = (d->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static unsigned rndn(demo *d, unsigned n)
{
    return (unsigned)(rnd(d) % n);
}

static void make_uuid(demo *d, char *out, size_t n)
{
    uint64_t a = rnd(d), b = rnd(d);
    a = (a & ~0xf000ULL) | 0x4000ULL;                        /* version 4 */
    b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL; /* RFC 4122 variant */
    snprintf(out, n, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(a >> 32),
            (unsigned)((a >> 16) & 0xffff), (unsigned)(a & 0xffff), (unsigned)(b >> 48),
            (unsigned long long)(b & 0xffffffffffffULL));
}

static void make_id(demo *d, const char *type, char *out, size_t n)
{
    char u[40];
    make_uuid(d, u, sizeof u);
    snprintf(out, n, "%s--%s", type, u);
}

static void make_ip(demo *d, char *out, size_t n)
{
    /* first octets of hosting / VPS ranges often seen in abuse reports; never private */
    static const unsigned first[] = { 185, 45, 193, 91, 194, 5, 62, 146, 89, 176, 217, 80 };
    snprintf(out, n, "%u.%u.%u.%u", first[rndn(d, sizeof first / sizeof first[0])],
            1 + rndn(d, 254), rndn(d, 256), 2 + rndn(d, 252));
}

static void make_domain(demo *d, char *out, size_t n)
{
    static const char *const w1[] = { "secure", "update", "login", "portal", "cloud", "sync",
        "docs", "account", "verify", "office", "billing", "invoice", "track", "cdn", "static",
        "online" };
    static const char *const w2[] = { "nexo", "vanta", "qorvi", "lumo", "ferra", "zenbi", "octra",
        "pylon", "morva", "teskel", "brivo", "calyx" };
    static const char *const tld[] = { "top", "xyz", "icu", "click", "shop", "online" };
    snprintf(out, n, "%s-%s%u.%s", w1[rndn(d, 16)], w2[rndn(d, 12)], rndn(d, 90) + 10,
            tld[rndn(d, 6)]);
}

static void make_hex(demo *d, char *out, size_t nhex)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < nhex; i++)
        out[i] = hex[rndn(d, 16)];
    out[nhex] = '\0';
}

static void make_url(demo *d, bool by_ip, char *out, size_t n)
{
    static const char *const path[] = { "/gate.php", "/wp-includes/js/jquery-upd.js",
        "/api/v2/check", "/dl/Invoice_0412.zip", "/panel/login.php", "/files/scan_2291.iso",
        "/static/update.bin", "/download/doc.hta" };
    char host[128];
    if (by_ip) {
        make_ip(d, host, sizeof host);
        snprintf(out, n, "https://%s:8443%s", host, path[rndn(d, 8)]);
    } else {
        make_domain(d, host, sizeof host);
        snprintf(out, n, "http://%s%s", host, path[rndn(d, 8)]);
    }
}

static demo_ind *add_ind(demo *d, tide_obs_kind kind, int malware, const char *phase,
        const char *role, int confidence, const char *tlp)
{
    demo_ind *x = &d->ind[d->nind++];
    memset(x, 0, sizeof *x);
    x->kind = kind;
    x->malware = malware;
    x->phase = phase;
    x->role = role;
    x->confidence = confidence;
    x->tlp = tlp;
    switch (kind) {
        case TIDE_OBS_IPV4: make_ip(d, x->value, sizeof x->value); break;
        case TIDE_OBS_CIDR4: {
            char ip[64];
            unsigned a, b, c, e;
            make_ip(d, ip, sizeof ip);
            if (sscanf(ip, "%u.%u.%u.%u", &a, &b, &c, &e) == 4)
                snprintf(x->value, sizeof x->value, "%u.%u.%u.0/24", a, b, c);
            break;
        }
        case TIDE_OBS_DOMAIN: make_domain(d, x->value, sizeof x->value); break;
        case TIDE_OBS_URL: make_url(d, rndn(d, 3) == 0, x->value, sizeof x->value); break;
        case TIDE_OBS_SHA256: make_hex(d, x->value, 64); break;
        case TIDE_OBS_MD5: make_hex(d, x->value, 32); break;
        default: break;
    }
    make_id(d, "indicator", x->id, sizeof x->id);
    return x;
}

/* The scenario: ~30 indicators of two malware families and the campaign itself. */
static void build_scenario(demo *d)
{
    d->rng = DEMO_SEED;
    /* the scenario's day: today once 16:00 UTC has passed, else yesterday, so that every
     * event of that day (the last is at 15:00) lies in the past; with events later than the
     * clock, the recovery part would rightly see hosts active after they were recovered */
    d->t0 = ((time(NULL) - 16 * 3600) / 86400) * 86400;
    make_id(d, "identity", d->identity, sizeof d->identity);
    make_id(d, "intrusion-set", d->iset, sizeof d->iset);
    make_id(d, "campaign", d->campaign, sizeof d->campaign);
    make_id(d, "malware", d->malware[0], sizeof d->malware[0]);
    make_id(d, "malware", d->malware[1], sizeof d->malware[1]);

    /* KelpLoader: phishing-delivered loader */
    for (int i = 0; i < 3; i++)
        add_ind(d, TIDE_OBS_DOMAIN, 0, "command-and-control", "C2 domain", 80, "green");
    for (int i = 0; i < 2; i++)
        add_ind(d, TIDE_OBS_IPV4, 0, "command-and-control", "C2 server", 75, "green");
    for (int i = 0; i < 3; i++)
        add_ind(d, TIDE_OBS_URL, 0, "initial-access", "payload URL", 70, "green");
    for (int i = 0; i < 3; i++)
        add_ind(d, TIDE_OBS_SHA256, 0, "execution", "sample", 90, "amber");
    for (int i = 0; i < 2; i++)
        add_ind(d, TIDE_OBS_MD5, 0, "initial-access", "maldoc", 85, "amber");
    /* UndertowRAT: the second stage */
    for (int i = 0; i < 3; i++)
        add_ind(d, TIDE_OBS_IPV4, 1, "command-and-control", "C2 server", 75, "amber");
    add_ind(d, TIDE_OBS_CIDR4, 1, "command-and-control", "bulletproof hosting range", 50, "green");
    for (int i = 0; i < 3; i++)
        add_ind(d, TIDE_OBS_DOMAIN, 1, "command-and-control", "C2 domain", 80, "amber");
    for (int i = 0; i < 2; i++)
        add_ind(d, TIDE_OBS_SHA256, 1, "execution", "sample", 95, "amber");
    add_ind(d, TIDE_OBS_SHA256, 1, "execution", "builder", 60, "amber+strict");
    demo_ind *exfil =
            add_ind(d, TIDE_OBS_URL, 1, "exfiltration", "exfiltration endpoint", 70, "red");
    char exfil_ip[64];
    make_ip(d, exfil_ip, sizeof exfil_ip);
    snprintf(exfil->value, sizeof exfil->value, "https://%s:8443/api/v2/upload", exfil_ip);
    /* the campaign's phishing infrastructure */
    for (int i = 0; i < 3; i++)
        add_ind(d, TIDE_OBS_DOMAIN, -1, "initial-access", "phishing landing page", 65, "clear");
    add_ind(d, TIDE_OBS_URL, -1, "initial-access", "phishing URL", 65, "clear");
    demo_ind *pair = add_ind(d, TIDE_OBS_IPV4, -1, "initial-access", "mail relays", 60, "green");
    make_ip(d, pair->value2, sizeof pair->value2);

    /* values that other feeds repeat */
    d->shared_domain = d->ind[0].value;
    d->shared_ip = d->ind[3].value;
    d->shared_url = d->ind[5].value;
    d->shared_sha256 = d->ind[8].value;
    d->csv_ip = d->ind[13].value;
    d->csv_sha256 = d->ind[20].value;
}

/* ---- writing the files ---- */

static void fmt_time(time_t t, char out[32])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

static const char *tlp_id(const char *tlp)
{
    const char *id = tide__tlp_marking_id(tlp);
    return id ? id : tide__tlp_marking_id("clear");
}

static json_t *sdo(demo *d, const char *type, const char *id, int created_days_ago,
        int modified_days_ago, const char *tlp)
{
    char c[32], m[32];
    fmt_time(d->t0 - (time_t)created_days_ago * 86400, c);
    fmt_time(d->t0 - (time_t)modified_days_ago * 86400 + 3600, m);
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(type));
    json_object_set_new(o, "spec_version", json_string("2.1"));
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "created_by_ref", json_string(d->identity));
    json_object_set_new(o, "created", json_string(c));
    json_object_set_new(o, "modified", json_string(m));
    if (tlp)
        json_object_set_new(o, "object_marking_refs", json_pack("[s]", tlp_id(tlp)));
    return o;
}

static json_t *kill_chain(const char *phase)
{
    return json_pack("[{s:s,s:s}]", "kill_chain_name", "mitre-attack", "phase_name", phase);
}

static json_t *relationship(
        demo *d, const char *type, const char *src, const char *dst, const char *tlp)
{
    char id[64];
    make_id(d, "relationship", id, sizeof id);
    json_t *r = sdo(d, "relationship", id, 20, 2, tlp);
    json_object_set_new(r, "relationship_type", json_string(type));
    json_object_set_new(r, "source_ref", json_string(src));
    json_object_set_new(r, "target_ref", json_string(dst));
    return r;
}

static void pattern_of(const demo_ind *x, char *out, size_t n)
{
    switch (x->kind) {
        case TIDE_OBS_IPV4:
            if (x->value2[0])
                snprintf(out, n, "[ipv4-addr:value = '%s' OR ipv4-addr:value = '%s']", x->value,
                        x->value2);
            else
                snprintf(out, n, "[ipv4-addr:value = '%s']", x->value);
            break;
        case TIDE_OBS_CIDR4: snprintf(out, n, "[ipv4-addr:value ISSUBSET '%s']", x->value); break;
        case TIDE_OBS_DOMAIN: snprintf(out, n, "[domain-name:value = '%s']", x->value); break;
        case TIDE_OBS_URL: snprintf(out, n, "[url:value = '%s']", x->value); break;
        case TIDE_OBS_SHA256: snprintf(out, n, "[file:hashes.'SHA-256' = '%s']", x->value); break;
        case TIDE_OBS_MD5: snprintf(out, n, "[file:hashes.MD5 = '%s']", x->value); break;
        default: snprintf(out, n, "[x-unknown:value = '']"); break;
    }
}

static json_t *stix_bundle(demo *d)
{
    char id[64], t[32];
    json_t *objs = json_array();

    /* markings and the producer */
    for (int i = TIDE_TLP_CLEAR; i <= TIDE_TLP_RED; i++) {
        const char *level = tide_tlp_name(i);
        char name[32];
        snprintf(name, sizeof name, "TLP:%s", level);
        for (char *p = name + 4; *p; p++)
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 'a' + 'A');
        json_array_append_new(
                objs, json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:{s:s,s:s}}}", "type",
                              "marking-definition", "spec_version", "2.1", "id", tlp_id(level),
                              "created", "2022-10-01T00:00:00.000Z", "name", name, "extensions",
                              TLP2_EXT, "extension_type", "property-extension", "tlp_2_0", level));
    }
    json_t *ident = sdo(d, "identity", d->identity, 400, 400, "clear");
    json_object_del(ident, "created_by_ref");
    json_object_set_new(ident, "name", json_string("TIDE Demo CERT"));
    json_object_set_new(ident, "identity_class", json_string("organization"));
    json_object_set_new(ident, "sectors", json_pack("[s]", "financial-services"));
    json_array_append_new(objs, ident);

    /* who, what, with what */
    json_t *is = sdo(d, "intrusion-set", d->iset, 300, 10, "green");
    json_object_set_new(is, "name", json_string(DEMO_ACTOR));
    json_object_set_new(is, "description",
            json_string("Fictional financially motivated group used by the tide demo. "
                        "Phishes finance staff with invoice lures, then deploys a loader and "
                        "a RAT."));
    json_object_set_new(is, "aliases", json_pack("[s,s]", "Brackwater Group", "TA-DEMO-7"));
    fmt_time(d->t0 - 300 * 86400, t);
    json_object_set_new(is, "first_seen", json_string(t));
    json_object_set_new(is, "goals", json_pack("[s]", "payment fraud"));
    json_object_set_new(is, "resource_level", json_string("organization"));
    json_object_set_new(is, "primary_motivation", json_string("personal-gain"));
    json_array_append_new(objs, is);

    json_t *camp = sdo(d, "campaign", d->campaign, 30, 1, "green");
    json_object_set_new(camp, "name", json_string(DEMO_CAMPAIGN));
    json_object_set_new(camp, "description",
            json_string("Invoice-themed phishing wave delivering KelpLoader, which installs "
                        "UndertowRAT for hands-on-keyboard payment fraud."));
    fmt_time(d->t0 - 30 * 86400, t);
    json_object_set_new(camp, "first_seen", json_string(t));
    fmt_time(d->t0 - 1 * 86400, t);
    json_object_set_new(camp, "last_seen", json_string(t));
    json_object_set_new(camp, "objective", json_string("Access to payment systems"));
    json_object_set_new(camp, "x_tide_demo", json_true()); /* custom property: kept as-is */
    json_array_append_new(objs, camp);

    static const char *const mtype[2] = { "loader", "remote-access-trojan" };
    static const char *const mdesc[2] = {
        "JScript/HTA loader delivered by invoice-themed mail; fetches the second stage.",
        "Modular .NET RAT with keylogging, screen capture and HTTPS exfiltration."
    };
    static const char *const mphase[2] = { "execution", "command-and-control" };
    for (int m = 0; m < 2; m++) {
        json_t *mw = sdo(d, "malware", d->malware[m], 200, 5, "green");
        json_object_set_new(mw, "name", json_string(malware_name[m]));
        json_object_set_new(mw, "is_family", json_true());
        json_object_set_new(mw, "malware_types", json_pack("[s]", mtype[m]));
        json_object_set_new(mw, "description", json_string(mdesc[m]));
        json_object_set_new(mw, "kill_chain_phases", kill_chain(mphase[m]));
        json_object_set_new(mw, "aliases", json_pack("[s]", m == 0 ? "Kelp" : "UndertowBot"));
        json_array_append_new(objs, mw);
    }

    /* indicators */
    for (size_t i = 0; i < d->nind; i++) {
        demo_ind *x = &d->ind[i];
        char pat[512], name[300];
        int age = 1 + (int)rndn(d, 14);
        json_t *o = sdo(d, "indicator", x->id, age, age, x->tlp);
        const char *who = x->malware >= 0 ? malware_name[x->malware] : DEMO_CAMPAIGN;
        if (x->value2[0])
            snprintf(name, sizeof name, "%s %s %s, %s", who, x->role, x->value, x->value2);
        else
            snprintf(name, sizeof name, "%s %s %s", who, x->role, x->value);
        pattern_of(x, pat, sizeof pat);
        json_object_set_new(o, "name", json_string(name));
        json_object_set_new(o, "indicator_types", json_pack("[s]", "malicious-activity"));
        json_object_set_new(o, "pattern", json_string(pat));
        json_object_set_new(o, "pattern_type", json_string("stix"));
        json_object_set_new(o, "pattern_version", json_string("2.1"));
        fmt_time(d->t0 - (time_t)age * 86400, t);
        json_object_set_new(o, "valid_from", json_string(t));
        if (x->kind == TIDE_OBS_IPV4 || x->kind == TIDE_OBS_CIDR4) {
            fmt_time(d->t0 + (time_t)(30 - age) * 86400, t);
            json_object_set_new(o, "valid_until", json_string(t));
        }
        json_object_set_new(o, "kill_chain_phases", kill_chain(x->phase));
        json_object_set_new(o, "confidence", json_integer(x->confidence));
        json_array_append_new(objs, o);
    }

    /* relationships */
    for (size_t i = 0; i < d->nind; i++) {
        demo_ind *x = &d->ind[i];
        const char *dst = x->malware >= 0 ? d->malware[x->malware] : d->campaign;
        json_array_append_new(objs, relationship(d, "indicates", x->id, dst, x->tlp));
    }
    for (int m = 0; m < 2; m++)
        json_array_append_new(objs, relationship(d, "uses", d->campaign, d->malware[m], "green"));
    json_array_append_new(objs, relationship(d, "attributed-to", d->campaign, d->iset, "green"));

    make_id(d, "bundle", id, sizeof id);
    return json_pack("{s:s,s:s,s:o}", "type", "bundle", "id", id, "objects", objs);
}

static json_t *misp_attr(demo *d, const char *category, const char *type, const char *value,
        bool to_ids, const char *comment)
{
    char uuid[40], ts[24];
    make_uuid(d, uuid, sizeof uuid);
    snprintf(ts, sizeof ts, "%lld", (long long)(d->t0 - 2 * 86400 + rndn(d, 86400)));
    return json_pack("{s:s,s:s,s:s,s:s,s:b,s:s,s:s}", "uuid", uuid, "category", category, "type",
            type, "value", value, "to_ids", to_ids, "timestamp", ts, "comment", comment);
}

static json_t *misp_event(demo *d)
{
    char uuid[40], org[40], galaxy[40], cluster[40], ts[24], date[16], tmp[256];
    make_uuid(d, uuid, sizeof uuid);
    make_uuid(d, org, sizeof org);
    make_uuid(d, galaxy, sizeof galaxy);
    make_uuid(d, cluster, sizeof cluster);
    time_t when = d->t0 - 2 * 86400;
    struct tm tm;
    gmtime_r(&when, &tm);
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    snprintf(ts, sizeof ts, "%lld", (long long)(d->t0 - 86400));

    json_t *attrs = json_array();
    json_array_append_new(
            attrs, misp_attr(d, "Network activity", "ip-dst", d->shared_ip, true, "KelpLoader C2"));
    json_array_append_new(attrs,
            misp_attr(d, "Network activity", "domain", d->shared_domain, true, "KelpLoader C2"));
    make_url(d, false, tmp, sizeof tmp);
    json_array_append_new(
            attrs, misp_attr(d, "Payload delivery", "url", tmp, true, "second-stage download"));
    json_array_append_new(attrs, misp_attr(d, "Payload delivery", "sha256", d->shared_sha256, true,
                                         "KelpLoader sample"));
    make_hex(d, tmp, 32);
    json_array_append_new(
            attrs, misp_attr(d, "Payload delivery", "md5", tmp, true, "Invoice_0412.js"));
    json_array_append_new(attrs, misp_attr(d, "Payload delivery", "filename", "Invoice_0412.js",
                                         false, "lure attachment name"));
    char host[128];
    make_domain(d, host, sizeof host);
    snprintf(tmp, sizeof tmp, "accounts@%s", host);
    json_array_append_new(
            attrs, misp_attr(d, "Payload delivery", "email-src", tmp, true, "phishing sender"));
    make_domain(d, tmp, sizeof tmp);
    json_array_append_new(
            attrs, misp_attr(d, "Network activity", "hostname", tmp, true, "UndertowRAT C2"));
    make_ip(d, host, sizeof host);
    snprintf(tmp, sizeof tmp, "%s|8443", host);
    json_array_append_new(attrs,
            misp_attr(d, "Network activity", "ip-dst|port", tmp, true, "UndertowRAT exfiltration"));
    make_ip(d, tmp, sizeof tmp);
    json_array_append_new(attrs, misp_attr(d, "Network activity", "ip-src", tmp, false,
                                         "scanner seen in the same window; not actionable"));
    json_array_append_new(attrs,
            misp_attr(d, "External analysis", "link",
                    "https://intel.tide-demo.invalid/reports/low-tide", false, "analysis report"));
    json_array_append_new(attrs,
            misp_attr(d, "Other", "comment",
                    "Lure: 'Overdue invoice 0412', sent Tuesday 07:40-09:10 UTC", false, ""));

    json_t *tags = json_pack("[{s:s},{s:s},{s:s},{s:s}]", "name", "tlp:amber", "name",
            "admiralty-scale:source-reliability=\"b\"", "name",
            "misp-galaxy:threat-actor=\"" DEMO_ACTOR "\"", "name", "kill-chain:Delivery");
    json_t *gal = json_pack("[{s:s,s:s,s:s,s:s,s:[{s:s,s:s,s:s,s:s,s:s}]}]", "uuid", galaxy, "name",
            "Threat Actor", "type", "threat-actor", "namespace", "misp", "GalaxyCluster", "uuid",
            cluster, "type", "threat-actor", "value", DEMO_ACTOR, "tag_name",
            "misp-galaxy:threat-actor=\"" DEMO_ACTOR "\"", "description",
            "Fictional financially motivated group (tide demo).");
    json_t *ev = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:s,s:s,s:{s:s,s:s},s:o,s:o,s:o}", "uuid",
            uuid, "info", DEMO_ACTOR ": KelpLoader invoice phishing wave", "date", date,
            "timestamp", ts, "publish_timestamp", ts, "published", 1, "analysis", "2",
            "threat_level_id", "1", "Orgc", "name", "TIDE Demo CERT", "uuid", org, "Tag", tags,
            "Galaxy", gal, "Attribute", attrs);
    return json_pack("{s:o}", "Event", ev);
}

/* The scenario's files go into the private folder write_files creates, through util/outfile.h
 * like every file tide writes (created exclusively, never through a link); nothing else
 * writes that folder, so no lock file is needed. */
#define DEMO_OUT (TIDE__OUT_PRIVATE | TIDE__OUT_LOCKED)

static int write_text(const char *path, const char *text)
{
    return tide__outfile_write(path, text, strlen(text), DEMO_OUT) < 0 ? -1 : 0;
}

static int write_json(const char *path, json_t *j)
{
    if (j == NULL)
        return -1;
    tide__outfile o;
    int rc = tide__outfile_open(&o, path, DEMO_OUT);
    if (rc == 0 && json_dumpf(j, o.f, JSON_INDENT(1) | JSON_PRESERVE_ORDER) != 0) {
        tide__outfile_abort(&o);
        rc = -1;
    } else if (rc == 0) {
        rc = tide__outfile_commit(&o);
    }
    json_decref(j);
    return rc < 0 ? -1 : 0;
}

static char *maltrail_list(demo *d)
{
    static char text[4096];
    char dom[128], dom2[128], ip[64], ip2[64];
    make_domain(d, dom, sizeof dom);
    make_domain(d, dom2, sizeof dom2);
    make_ip(d, ip, sizeof ip);
    make_ip(d, ip2, sizeof ip2);
    const char *shared_host = strstr(d->shared_url, "://");
    shared_host = shared_host ? shared_host + 3 : d->shared_url;
    snprintf(text, sizeof text,
            "# tide demo trail list (generated; every value is fictional)\n"
            "\n"
            "# Aliases: kelploader, kelp\n"
            "\n"
            "# Reference: https://intel.tide-demo.invalid/reports/kelploader-c2\n"
            "\n"
            "%s\n"
            "%s\n"
            "%s:443\n"
            "%s:8080\n"
            "\n"
            "# Reference: https://intel.tide-demo.invalid/reports/kelploader-delivery\n"
            "\n"
            "%s\n"
            "%s/wp-content/plugins/kelp-cache/gate.php\n"
            "/wp-content/plugins/kelp-cache/gate.php\n"
            "http://%s/dl/k.bin\n",
            d->shared_domain, dom, d->ind[4].value, ip, shared_host, dom2, ip2);
    return text;
}

static char *csv_feed(demo *d)
{
    static char text[4096];
    char dom[128], url[200], md5[40], ip[64];
    make_domain(d, dom, sizeof dom);
    make_url(d, false, url, sizeof url);
    make_hex(d, md5, 32);
    make_ip(d, ip, sizeof ip);
    snprintf(text, sizeof text,
            "type,value,campaign,confidence\n"
            "ipv4,%s," DEMO_CAMPAIGN ",70\n"
            "ipv4,%s," DEMO_CAMPAIGN ",55\n"
            "domain,%s," DEMO_CAMPAIGN ",60\n"
            "domain,%s," DEMO_CAMPAIGN ",65\n"
            "url,%s," DEMO_CAMPAIGN ",60\n"
            "sha256,%s," DEMO_CAMPAIGN ",90\n"
            "md5,%s," DEMO_CAMPAIGN ",80\n"
            "cidr,%u.%u.%u.0/24," DEMO_CAMPAIGN ",40\n",
            d->csv_ip, ip, dom, d->ind[24].value, url, d->csv_sha256, md5, 185u, 1 + rndn(d, 254),
            rndn(d, 256));
    return text;
}

/* ---- the day's Zeek logs: two infected hosts among quiet ones ---- */

static void zeek_header(FILE *f, const char *path, const char *fields, const char *types)
{
    fprintf(f,
            "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
            "#path\t%s\n#fields\t%s\n#types\t%s\n",
            path, fields, types);
}

static int write_zeek(demo *d)
{
    snprintf(d->zeek_dir, sizeof d->zeek_dir, "%s/zeek", d->dir);
    if (mkdir(d->zeek_dir, 0700) != 0)
        return -1;
    static const char *const names[4] = { "conn.log", "dns.log", "http.log", "files.log" };
    tide__outfile of[4];
    FILE *f[4];
    for (int i = 0; i < 4; i++) {
        snprintf(d->zeek[i], sizeof d->zeek[i], "%s/%s", d->zeek_dir, names[i]);
        if (tide__outfile_open(&of[i], d->zeek[i], DEMO_OUT) < 0) {
            for (int k = 0; k < i; k++)
                tide__outfile_abort(&of[k]);
            return -1;
        }
        f[i] = of[i].f;
    }
    zeek_header(f[0], "conn", "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto",
            "time\tstring\taddr\tport\taddr\tport\tenum");
    zeek_header(f[1], "dns", "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tquery\tanswers",
            "time\tstring\taddr\tport\taddr\tport\tstring\tvector[string]");
    zeek_header(f[2], "http",
            "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tmethod\thost\turi",
            "time\tstring\taddr\tport\taddr\tport\tstring\tstring\tstring");
    zeek_header(f[3], "files", "ts\tfuid\ttx_hosts\trx_hosts\tmime_type\tsha256",
            "time\tstring\tset[addr]\tset[addr]\tstring\tstring");
    long t = (long)d->t0;
    /* quiet traffic of five hosts to documentation addresses and names (never indicators) */
    for (int i = 0; i < 40; i++) {
        long ts = t + 8 * 3600 + i * 600;
        fprintf(f[0], "%ld.%06d\tCq%05d\t10.20.0.%d\t%d\t203.0.113.%d\t443\ttcp\n", ts,
                i * 7919 % 1000000, i, 11 + i % 5, 49152 + i, 1 + i % 200);
        fprintf(f[1],
                "%ld.%06d\tCd%05d\t10.20.0.%d\t%d\t10.20.0.2\t53\twww%d.example.com\t203.0.113.%"
                "d\n",
                ts, i * 104729 % 1000000, i, 11 + i % 5, 50000 + i, i % 7, 1 + i % 200);
    }
    /* 10.20.0.11: phishing page, payload, the sample, KelpLoader C2, then UndertowRAT */
    char url_host[256] = "", url_path[256] = "/";
    const char *u = strstr(d->shared_url, "://");
    if (u) {
        u += 3;
        const char *slash = strchr(u, '/');
        snprintf(url_host, sizeof url_host, "%.*s", slash ? (int)(slash - u) : (int)strlen(u), u);
        if (slash)
            snprintf(url_path, sizeof url_path, "%s", slash);
    }
    fprintf(f[1], "%ld.120000\tCdA1\t10.20.0.11\t51000\t10.20.0.2\t53\t%s\t-\n", t + 9 * 3600 + 12,
            d->ind[24].value);
    fprintf(f[2], "%ld.400000\tChA1\t10.20.0.11\t51002\t203.0.113.80\t80\tGET\t%s\t%s\n",
            t + 9 * 3600 + 40, url_host, url_path);
    fprintf(f[3], "%ld.050000\tFA1\t203.0.113.80\t10.20.0.11\tapplication/x-dosexec\t%s\n",
            t + 9 * 3600 + 65, d->shared_sha256);
    fprintf(f[0], "%ld.000000\tCcA1\t10.20.0.11\t51010\t%s\t443\ttcp\n", t + 9 * 3600 + 180,
            d->shared_ip);
    fprintf(f[0], "%ld.000000\tCcA2\t10.20.0.11\t51020\t%s\t443\ttcp\n", t + 11 * 3600 + 1200,
            d->ind[13].value);
    /* 10.20.0.14: the same campaign's second stage, without the phishing step */
    fprintf(f[1], "%ld.000000\tCdB1\t10.20.0.14\t52000\t10.20.0.2\t53\tapi.%s\t-\n",
            t + 14 * 3600 + 120, d->ind[17].value);
    /* 10.20.0.15: an address in the bulletproof hosting range */
    char range_ip[256];
    snprintf(range_ip, sizeof range_ip, "%s", d->ind[16].value);
    char *dot = strrchr(range_ip, '.');
    if (dot)
        snprintf(dot, sizeof range_ip - (size_t)(dot - range_ip), ".77");
    fprintf(f[0], "%ld.000000\tCcC1\t10.20.0.15\t53000\t%s\t8080\ttcp\n", t + 15 * 3600, range_ip);
    int rc = 0;
    for (int i = 0; i < 4; i++)
        rc |= tide__outfile_commit(&of[i]) < 0;
    /* yesterday, before the intel arrived: two more hosts resolved a KelpLoader C2 name and
     * never alerted; only the history remembers it */
    snprintf(d->old_dns, sizeof d->old_dns, "%s/dns-yesterday.log", d->zeek_dir);
    tide__outfile oo;
    if (tide__outfile_open(&oo, d->old_dns, DEMO_OUT) < 0)
        return -1;
    FILE *o = oo.f;
    zeek_header(o, "dns", "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tquery\tanswers",
            "time\tstring\taddr\tport\taddr\tport\tstring\tvector[string]");
    for (int i = 0; i < 20; i++)
        fprintf(o, "%ld.000000\tCy%03d\t10.20.0.%d\t%d\t10.20.0.2\t53\twww%d.example.org\t-\n",
                t - 86400 + 3600 * (i % 24), i, 11 + i % 5, 40000 + i, i % 5);
    fprintf(o, "%ld.000000\tCyS1\t10.20.0.31\t40100\t10.20.0.2\t53\tupdate.%s\t-\n",
            t - 86400 + 10 * 3600, d->ind[1].value);
    fprintf(o, "%ld.000000\tCyS2\t10.20.0.32\t40200\t10.20.0.2\t53\t%s\t-\n", t - 86400 + 16 * 3600,
            d->ind[1].value);
    rc |= tide__outfile_commit(&oo) < 0;
    return rc ? -1 : 0;
}

/* The lessons learned of the demo case: a new indicator (a sibling of a KelpLoader C2 name
 * that only the silent hosts resolved), a prevention change, a detection and a response gap. */
static int write_lessons(demo *d)
{
    tide__outfile o;
    if (tide__outfile_open(&o, d->lessons, DEMO_OUT) < 0)
        return -1;
    fprintf(o.f,
            "# lessons learned of the demo case\n"
            "indicator: update-check[.]%s\n"
            "prevention: deny internet egress to hosts running an end-of-life Java runtime\n"
            "detection-gap: DNS logs of the branch office were not collected\n"
            "response-gap: no owner on record for two of the hosts\n",
            d->ind[1].value);
    return tide__outfile_commit(&o) < 0 ? -1 : 0;
}

static int write_files(demo *d, const char *parent)
{
    const char *tmp = parent ? parent : getenv("TMPDIR");
    if (tmp == NULL || *tmp == '\0')
        tmp = "/tmp";
    if (strlen(tmp) + 20 >= sizeof d->dir)
        return tide_error_set(TIDE_EINVAL, "%s: the folder name is too long", tmp);
    snprintf(d->dir, sizeof d->dir, "%s/tide-demo-XXXXXX", tmp);
    if (mkdtemp(d->dir) == NULL)
        return tide_error_set(
                TIDE_EIO, "cannot create a folder under %s: %s", tmp, strerror(errno));
    for (int i = 0; i < 4; i++)
        snprintf(d->path[i], sizeof d->path[i], "%s/%s", d->dir, file_name[i]);
    int rc = 0;
    rc |= write_json(d->path[0], stix_bundle(d));
    rc |= write_json(d->path[1], misp_event(d));
    rc |= write_text(d->path[2], maltrail_list(d));
    rc |= write_text(d->path[3], csv_feed(d));
    rc |= write_zeek(d);
    snprintf(d->lessons, sizeof d->lessons, "%s/lessons.txt", d->dir);
    snprintf(d->share, sizeof d->share, "%s/case-share.stix.json", d->dir);
    if (rc == 0)
        rc = write_lessons(d);
    if (rc != 0)
        return tide_error_set(
                TIDE_EIO, "cannot write the scenario files in %s: %s", d->dir, strerror(errno));
    return 0;
}

static void remove_files(demo *d)
{
    for (int i = 0; i < 4; i++) {
        unlink(d->path[i]);
        unlink(d->zeek[i]);
    }
    unlink(d->old_dns);
    unlink(d->lessons);
    unlink(d->share);
    char lock[sizeof d->share + 8]; /* the share's lock file (util/outfile.h) */
    snprintf(lock, sizeof lock, "%s.lock", d->share);
    unlink(lock);
    rmdir(d->zeek_dir);
    rmdir(d->dir);
}

/* ---- the public calls ---- */

int tide_demo_new(tide_demo **out)
{
    *out = NULL;
    tide_demo *t = tide__calloc(1, sizeof(*t));
    TIDE_CHECK_ALLOC(t);
    build_scenario(&t->d);
    *out = t;
    return 0;
}

int tide_demo_write(tide_demo *t, const char *parent)
{
    if (t->written)
        return tide_error_set(TIDE_EINVAL, "the demo scenario is written already (%s)", t->d.dir);
    int rc = write_files(&t->d, parent);
    if (rc < 0) {
        if (t->d.dir[0] && strstr(t->d.dir, "XXXXXX") == NULL)
            remove_files(&t->d);
        return rc;
    }
    t->written = true;
    return 0;
}

void tide_demo_remove(tide_demo *t)
{
    if (t && t->written) {
        remove_files(&t->d);
        t->written = false;
    }
}

void tide_demo_free(tide_demo *t)
{
    tide__free(t);
}

void tide_demo_info_get(const tide_demo *t, tide_demo_info *out)
{
    static const tide_feed_format fmt[TIDE_DEMO_FEEDS] = { TIDE_FMT_STIX, TIDE_FMT_MISP,
        TIDE_FMT_LIST, TIDE_FMT_CSV };
    static const char *const fmt_name[TIDE_DEMO_FEEDS] = { "stix", "misp", "list", "csv" };
    static const char *const default_tlp[TIDE_DEMO_FEEDS] = { NULL, NULL, "clear", "green" };
    static const char *const family[TIDE_DEMO_FEEDS] = { NULL, NULL, "KelpLoader", NULL };
    static const char reliability[TIDE_DEMO_FEEDS] = { 'B', 'B', 'C', 'C' };
    const demo *d = &t->d;
    memset(out, 0, sizeof(*out));
    out->actor = DEMO_ACTOR;
    out->campaign = DEMO_CAMPAIGN;
    out->malware[0] = malware_name[0];
    out->malware[1] = malware_name[1];
    out->day_ms = (int64_t)d->t0 * 1000;
    out->dir = t->written ? d->dir : NULL;
    for (int i = 0; i < TIDE_DEMO_FEEDS; i++) {
        out->feeds[i].path = t->written ? d->path[i] : NULL;
        out->feeds[i].file = file_name[i];
        out->feeds[i].source = source_name[i];
        out->feeds[i].format = fmt[i];
        out->feeds[i].format_name = fmt_name[i];
        out->feeds[i].tlp = default_tlp[i];
        out->feeds[i].family = family[i];
        out->feeds[i].reliability = reliability[i];
    }
    if (t->written) {
        out->zeek_dir = d->zeek_dir;
        for (int i = 0; i < 4; i++)
            out->zeek[i] = d->zeek[i];
        out->old_dns = d->old_dns;
        out->lessons = d->lessons;
        out->share = d->share;
    }
    out->shared_domain = d->shared_domain;
    out->shared_ip = d->shared_ip;
    out->shared_sha256 = d->shared_sha256;
    out->shared_url = d->shared_url;
    out->csv_ip = d->csv_ip;
    out->csv_sha256 = d->csv_sha256;
    out->infected_host = "10.20.0.11";
}
