/*
 * policy.c - the asset inventory import (CSV / JSON), version comparison, policy rules
 * ("software NAME OP VERSION -> deny-egress") and the policy exports built from them: an
 * nftables table / ipset sets of the matching hosts' addresses with an egress drop rule, and
 * a Squid configuration that allows the domains of chosen categories and denies the rest.
 * The CSV reader is hand-written (a few lines of RFC 4180) since no allowed library reads CSV.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <xxhash.h>

#include "export/export_int.h"
#include "util/ipaddr.h"

#define MAX_LINE   (64 * 1024)
#define MAX_FILE   (256L * 1024 * 1024)
#define MAX_FIELDS 64

/* ------------------------------------------------------------------ versions and rules */

int tide_version_compare(const char *a, const char *b)
{
    const char *p = a ? a : "", *q = b ? b : "";
    for (;;) {
        while (*p && !isdigit((unsigned char)*p))
            p++;
        while (*q && !isdigit((unsigned char)*q))
            q++;
        if (*p == '\0' && *q == '\0')
            return 0;
        unsigned long long x = 0, y = 0;
        while (isdigit((unsigned char)*p)) {
            if (x < 1000000000000ULL)
                x = x * 10 + (unsigned)(*p - '0');
            p++;
        }
        while (isdigit((unsigned char)*q)) {
            if (y < 1000000000000ULL)
                y = y * 10 + (unsigned)(*q - '0');
            q++;
        }
        if (x != y)
            return x < y ? -1 : 1;
    }
}

int tide_policy_parse(const char *text, tide_policy_rule *out)
{
    memset(out, 0, sizeof(*out));
    const char *p = text;
    char tok[4][160];
    int nt = 0;
    while (nt < 4) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0' || (p[0] == '-' && p[1] == '>'))
            break;
        size_t n;
        if (nt == 2) /* the operator may touch the version: "<1.7" */
            n = strspn(p, "<>=");
        else if (nt == 1)
            n = strcspn(p, " \t<>=");
        else
            n = strcspn(p, " \t");
        if (n == 0 && nt == 2)
            return tide_error_set(TIDE_EPARSE,
                    "policy: byte %d: expected an operator "
                    "(<, <=, =, >=, >)",
                    (int)(p - text) + 1);
        if (n == 0 || n >= sizeof(tok[0]))
            return tide_error_set(TIDE_EPARSE, "policy: byte %d: bad token", (int)(p - text) + 1);
        memcpy(tok[nt], p, n);
        tok[nt][n] = '\0';
        nt++;
        p += n;
    }
    if (nt != 4 || strcasecmp(tok[0], "software") != 0)
        return tide_error_set(TIDE_EPARSE,
                "policy: expected 'software NAME OP VERSION -> ACTION', got '%s'", text);
    static const char *const ops[] = { "<", "<=", "=", ">=", ">", NULL };
    int ok = 0;
    for (int i = 0; ops[i]; i++)
        ok |= strcmp(tok[2], ops[i]) == 0;
    if (!ok)
        return tide_error_set(
                TIDE_EPARSE, "policy: unknown operator '%s' (<, <=, =, >=, >)", tok[2]);
    while (*p == ' ' || *p == '\t')
        p++;
    if (p[0] != '-' || p[1] != '>')
        return tide_error_set(
                TIDE_EPARSE, "policy: byte %d: expected '-> ACTION'", (int)(p - text) + 1);
    p += 2;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t al = strcspn(p, " \t");
    const char *rest = p + al;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    if (al == 0 || *rest || (strncasecmp(p, "deny-egress", al) != 0 || al != 11))
        return tide_error_set(TIDE_EPARSE, "policy: unknown action '%s' (deny-egress)", p);
    if (strlen(tok[1]) >= sizeof(out->name) || strlen(tok[3]) >= sizeof(out->version))
        return tide_error_set(TIDE_EPARSE, "policy: name or version too long");
    memcpy(out->name, tok[1], strlen(tok[1]) + 1);
    memcpy(out->op, tok[2], strlen(tok[2]) + 1); /* one of ops[]: at most 2 chars */
    memcpy(out->version, tok[3], strlen(tok[3]) + 1);
    snprintf(out->action, sizeof(out->action), "deny-egress");
    return 0;
}

static bool rule_matches(const tide_policy_rule *r, const tide_asset_software *sw)
{
    char n[256], pat[128];
    snprintf(n, sizeof(n), "%s", sw->name);
    snprintf(pat, sizeof(pat), "%s", r->name);
    tide__str_lower(n);
    tide__str_lower(pat);
    if (fnmatch(pat, n, 0) != 0)
        return false;
    if (sw->version == NULL || *sw->version == '\0')
        return false; /* unknown version: never assumed vulnerable */
    int c = tide_version_compare(sw->version, r->version);
    if (strcmp(r->op, "<") == 0)
        return c < 0;
    if (strcmp(r->op, "<=") == 0)
        return c <= 0;
    if (strcmp(r->op, "=") == 0)
        return c == 0;
    if (strcmp(r->op, ">=") == 0)
        return c >= 0;
    return c > 0;
}

/* ------------------------------------------------------------------ asset import */

typedef struct {
    char *ips[256];
    size_t nips;
    tide_asset_software sw[256];
    size_t nsw;
    tide_buf scratch;
} asset_build;

static void build_clear(asset_build *b)
{
    for (size_t i = 0; i < b->nips; i++)
        tide__free(b->ips[i]);
    for (size_t i = 0; i < b->nsw; i++) {
        tide__free((char *)b->sw[i].name);
        tide__free((char *)b->sw[i].version);
    }
    b->nips = b->nsw = 0;
}

static int add_ip(asset_build *b, const char *ip, size_t n, const char *where)
{
    if (n == 0)
        return 0;
    uint8_t a[16];
    char canon[TIDE__IP_TEXT_MAX];
    int fam = tide__ip_parse(ip, n, 0, a);
    if (fam == 0)
        return tide_error_set(TIDE_EPARSE, "%s: bad IP address '%.*s'", where, (int)n, ip);
    tide__ip_format(fam, a, canon);
    if (b->nips >= 256)
        return tide_error_set(TIDE_ETOOBIG, "%s: more than 256 addresses", where);
    TIDE_CHECK_ALLOC(b->ips[b->nips] = tide__strdup(canon));
    b->nips++;
    return 0;
}

static int add_sw(
        asset_build *b, const char *name, size_t nl, const char *ver, size_t vl, const char *where)
{
    while (nl && isspace((unsigned char)name[nl - 1]))
        nl--;
    while (nl && isspace((unsigned char)*name)) {
        name++;
        nl--;
    }
    if (nl == 0)
        return 0;
    if (b->nsw >= 256)
        return tide_error_set(TIDE_ETOOBIG, "%s: more than 256 software entries", where);
    char *n = tide__strndup(name, nl), *v = tide__strndup(ver ? ver : "", ver ? vl : 0);
    if (n == NULL || v == NULL) {
        tide__free(n);
        tide__free(v);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    b->sw[b->nsw].name = n;
    char *tv = tide__str_trim(v);
    if (tv != v)
        memmove(v, tv, strlen(tv) + 1);
    b->sw[b->nsw].version = v;
    b->nsw++;
    return 0;
}

/* ips: separated by ';', ',', or spaces */
static int parse_ips(asset_build *b, const char *s, const char *where)
{
    while (*s) {
        size_t n = strcspn(s, ";, \t|");
        TIDE_CHECK(add_ip(b, s, n, where));
        s += n;
        if (*s)
            s++;
    }
    return 0;
}

/* software: "name version;name version" (the version is the last space-separated word) */
static int parse_sw(asset_build *b, const char *s, const char *where)
{
    while (*s) {
        size_t n = strcspn(s, ";");
        size_t end = n;
        while (end && isspace((unsigned char)s[end - 1]))
            end--;
        size_t sp = end;
        while (sp && !isspace((unsigned char)s[sp - 1]))
            sp--;
        if (sp == 0) /* one word: a name without version */
            TIDE_CHECK(add_sw(b, s, end, NULL, 0, where));
        else
            TIDE_CHECK(add_sw(b, s, sp, s + sp, end - sp, where));
        s += n;
        if (*s)
            s++;
    }
    return 0;
}

/* split one CSV record (quotes honoured) in place */
static int csv_split(char *line, char **f, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == max)
            return -1;
        char *out = p;
        f[n++] = p;
        if (*p == '"') {
            char *r = p + 1;
            for (;;) {
                if (*r == '\0')
                    return -1;
                if (*r == '"') {
                    if (r[1] == '"') {
                        *out++ = '"';
                        r += 2;
                        continue;
                    }
                    r++;
                    break;
                }
                *out++ = *r++;
            }
            if (*r != ',' && *r != '\0')
                return -1;
            char sep = *r;
            *out = '\0';
            if (sep == '\0')
                return n;
            p = r + 1;
        } else {
            char *c = strchr(p, ',');
            if (c == NULL)
                return n;
            *c = '\0';
            p = c + 1;
        }
    }
}

static int store_asset(tide_store *s, asset_build *b, const char *host, const char *hostname,
        const char *owner, const char *crit)
{
    tide_asset a = { .host = host,
        .hostname = hostname && *hostname ? hostname : NULL,
        .owner = owner && *owner ? owner : NULL,
        .criticality = crit && *crit ? crit : NULL,
        .ips = (const char *const *)b->ips,
        .nips = b->nips,
        .software = b->sw,
        .nsoftware = b->nsw };
    return tide_store_put_asset(s, &a);
}

static int import_csv(tide_store *s, const char *path, FILE *f, long *count)
{
    char *line = tide__malloc(MAX_LINE + 2);
    TIDE_CHECK_ALLOC(line);
    int col[6] = { -1, -1, -1, -1, -1, -1 };
    static const char *const names[6] = { "host", "ips", "hostname", "owner", "criticality",
        "software" };
    long lineno = 0;
    int rc = 0;
    bool header = false;
    asset_build b = { 0 };
    char where[600];
    while (rc == 0 && fgets(line, MAX_LINE + 2, f)) {
        lineno++;
        size_t n = strlen(line);
        if (n > MAX_LINE) {
            rc = tide_error_set(
                    TIDE_ETOOBIG, "%s:%ld: line longer than %d bytes", path, lineno, MAX_LINE);
            break;
        }
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        char *fl[MAX_FIELDS];
        int nf = csv_split(line, fl, MAX_FIELDS);
        if (nf < 0) {
            rc = tide_error_set(
                    TIDE_EPARSE, "%s:%ld: bad CSV quoting or too many fields", path, lineno);
            break;
        }
        if (!header) {
            for (int i = 0; i < nf; i++)
                for (int k = 0; k < 6; k++)
                    if (strcasecmp(tide__str_trim(fl[i]), names[k]) == 0)
                        col[k] = i;
            if (col[0] < 0) {
                rc = tide_error_set(TIDE_EPARSE,
                        "%s:%ld: header without a 'host' column "
                        "(host,ips,hostname,owner,criticality,software)",
                        path, lineno);
                break;
            }
            header = true;
            continue;
        }
        const char *v[6];
        for (int k = 0; k < 6; k++)
            v[k] = col[k] >= 0 && col[k] < nf ? tide__str_trim(fl[col[k]]) : "";
        if (*v[0] == '\0') {
            rc = tide_error_set(TIDE_EPARSE, "%s:%ld: empty host", path, lineno);
            break;
        }
        snprintf(where, sizeof(where), "%s:%ld", path, lineno);
        build_clear(&b);
        rc = parse_ips(&b, v[1], where);
        if (rc == 0)
            rc = parse_sw(&b, v[5], where);
        if (rc == 0)
            rc = store_asset(s, &b, v[0], v[2], v[3], v[4]);
        if (rc == 0)
            (*count)++;
    }
    if (rc == 0 && !header)
        rc = tide_error_set(TIDE_EPARSE, "%s: no header line", path);
    build_clear(&b);
    tide__free(line);
    return rc;
}

static const char *jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int import_json(tide_store *s, const char *path, long *count)
{
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (root == NULL)
        return tide_error_set(TIDE_EPARSE, "%s:%d:%d: %s", path, err.line, err.column, err.text);
    int rc = 0;
    asset_build b = { 0 };
    char where[600];
    if (!json_is_array(root))
        rc = tide_error_set(TIDE_EPARSE, "%s: expected a JSON array of assets", path);
    for (size_t i = 0; rc == 0 && i < json_array_size(root); i++) {
        json_t *o = json_array_get(root, i);
        snprintf(where, sizeof(where), "%s: asset [%zu]", path, i);
        const char *host = json_is_object(o) ? jstr(o, "host") : NULL;
        if (host == NULL || *host == '\0') {
            rc = tide_error_set(TIDE_EPARSE, "%s: no \"host\" string", where);
            break;
        }
        build_clear(&b);
        json_t *ips = json_object_get(o, "ips");
        if (json_is_string(ips)) {
            rc = parse_ips(&b, json_string_value(ips), where);
        } else if (json_is_array(ips)) {
            for (size_t k = 0; rc == 0 && k < json_array_size(ips); k++) {
                json_t *e = json_array_get(ips, k);
                if (!json_is_string(e))
                    rc = tide_error_set(TIDE_EPARSE, "%s: ips[%zu] is not a string", where, k);
                else
                    rc = add_ip(&b, json_string_value(e), strlen(json_string_value(e)), where);
            }
        } else if (ips && !json_is_null(ips)) {
            rc = tide_error_set(TIDE_EPARSE, "%s: \"ips\" must be an array or a string", where);
        }
        json_t *sw = json_object_get(o, "software");
        if (rc == 0 && json_is_string(sw)) {
            rc = parse_sw(&b, json_string_value(sw), where);
        } else if (rc == 0 && json_is_array(sw)) {
            for (size_t k = 0; rc == 0 && k < json_array_size(sw); k++) {
                json_t *e = json_array_get(sw, k);
                const char *n = json_is_object(e) ? jstr(e, "name") : NULL;
                const char *v = json_is_object(e) ? jstr(e, "version") : NULL;
                if (n == NULL)
                    rc = tide_error_set(TIDE_EPARSE, "%s: software[%zu] has no \"name\"", where, k);
                else
                    rc = add_sw(&b, n, strlen(n), v, v ? strlen(v) : 0, where);
            }
        } else if (rc == 0 && sw && !json_is_null(sw)) {
            rc = tide_error_set(TIDE_EPARSE, "%s: \"software\" must be an array", where);
        }
        if (rc == 0)
            rc = store_asset(
                    s, &b, host, jstr(o, "hostname"), jstr(o, "owner"), jstr(o, "criticality"));
        if (rc == 0)
            (*count)++;
    }
    build_clear(&b);
    json_decref(root);
    return rc;
}

int tide_assets_import(tide_store *s, const char *path, long *out_count)
{
    long count = 0;
    if (out_count)
        *out_count = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return tide_error_set(TIDE_EIO, "%s: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) == 0 && ftell(f) > MAX_FILE) {
        fclose(f);
        return tide_error_set(TIDE_ETOOBIG, "%s: larger than %ld bytes", path, MAX_FILE);
    }
    rewind(f);
    int c;
    while ((c = fgetc(f)) != EOF && isspace(c))
        ;
    TIDE_CHECK(tide_store_begin(s));
    int rc;
    if (c == '[') {
        fclose(f);
        rc = import_json(s, path, &count);
    } else {
        rewind(f);
        rc = import_csv(s, path, f, &count);
        fclose(f);
    }
    if (rc == 0)
        rc = tide_store_commit(s);
    else
        tide_store_rollback(s);
    if (out_count)
        *out_count = rc == 0 ? count : 0;
    return rc;
}

/* ------------------------------------------------------------------ policy export */

typedef struct {
    tide_policy_rule rule;
    char **ips;
    size_t n, cap;
    long hosts;
} pol_ctx;

static int pol_cb(const tide_asset *a, void *payload)
{
    pol_ctx *c = payload;
    bool hit = false;
    for (size_t i = 0; i < a->nsoftware && !hit; i++)
        hit = rule_matches(&c->rule, &a->software[i]);
    if (!hit)
        return 0;
    c->hosts++;
    for (size_t i = 0; i < a->nips; i++) {
        if (c->n == c->cap) {
            size_t nc = c->cap ? c->cap * 2 : 64;
            char **nv = tide__realloc(c->ips, nc * sizeof(char *));
            TIDE_CHECK_ALLOC(nv);
            c->ips = nv;
            c->cap = nc;
        }
        TIDE_CHECK_ALLOC(c->ips[c->n] = tide__strdup(a->ips[i]));
        c->n++;
    }
    return 0;
}

static int cmp_s(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int tide__exp_policy(tide__exp *x)
{
    pol_ctx c = { 0 };
    TIDE_CHECK(tide_policy_parse(x->opts->policy, &c.rule));
    int rc = tide_store_each_asset(x->store, pol_cb, &c);
    if (c.n > 1)
        qsort(c.ips, c.n, sizeof(char *), cmp_s);
    size_t u = 0;
    for (size_t i = 0; i < c.n; i++) {
        if (u && strcmp(c.ips[u - 1], c.ips[i]) == 0) {
            tide__free(c.ips[i]);
            continue;
        }
        c.ips[u++] = c.ips[i];
    }
    c.n = u;
    x->sum->considered = c.hosts;
    /* the fingerprint of what it holds: a declared target is rewritten only when it changes */
    XXH64_hash_t fp = XXH3_64bits(x->opts->policy, strlen(x->opts->policy));
    for (size_t i = 0; i < c.n; i++)
        fp = XXH3_64bits_withSeed(c.ips[i], strlen(c.ips[i]) + 1, fp);
    x->sum->fingerprint = fp | 1;
    if (x->opts->unless_fingerprint && x->opts->unless_fingerprint == x->sum->fingerprint) {
        x->sum->unchanged = true;
        x->sum->written = (long)c.n;
        for (size_t i = 0; i < c.n; i++)
            tide__free(c.ips[i]);
        tide__free(c.ips);
        return rc;
    }
    tide__exp_file f = { 0 };
    if (rc == 0)
        rc = tide__exp_open(x, NULL, &f);
    if (rc == 0) {
        bool nft = x->opts->format == TIDE_EXPORT_NFT;
        fprintf(f.f, "%s tide policy export: '%s' matches %ld host(s), %zu address(es)\n", "#",
                x->opts->policy, c.hosts, c.n);
        size_t n4 = 0, n6 = 0;
        for (size_t i = 0; i < c.n; i++)
            *(strchr(c.ips[i], ':') ? &n6 : &n4) += 1;
        if (nft) {
            fprintf(f.f, "table inet tide_policy\ndelete table inet tide_policy\n\n"
                         "table inet tide_policy {\n");
            for (int fam = 4; fam <= 6; fam += 2) {
                fprintf(f.f, "\tset deny_egress_v%d {\n\t\ttype ipv%d_addr\n\t\tflags interval\n",
                        fam, fam);
                if ((fam == 4 ? n4 : n6) > 0) {
                    fprintf(f.f, "\t\telements = { ");
                    bool first = true;
                    for (size_t i = 0; i < c.n; i++) {
                        if ((strchr(c.ips[i], ':') != NULL) != (fam == 6))
                            continue;
                        fprintf(f.f, "%s%s", first ? "" : ", ", c.ips[i]);
                        first = false;
                    }
                    fprintf(f.f, " }\n");
                }
                fprintf(f.f, "\t}\n");
            }
            fprintf(f.f,
                    "\t# deny internet egress: traffic from these hosts to anything but "
                    "internal ranges\n"
                    "\tset internal_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n"
                    "\t\telements = { 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, "
                    "100.64.0.0/10, 169.254.0.0/16 }\n\t}\n"
                    "\tset internal_v6 {\n\t\ttype ipv6_addr\n\t\tflags interval\n"
                    "\t\telements = { fc00::/7, fe80::/10 }\n\t}\n"
                    "\tchain forward {\n\t\ttype filter hook forward priority -5; policy accept;\n"
                    "\t\tip saddr @deny_egress_v4 ip daddr != @internal_v4 counter drop\n"
                    "\t\tip6 saddr @deny_egress_v6 ip6 daddr != @internal_v6 counter drop\n\t}\n"
                    "}\n");
        } else {
            fprintf(f.f, "# use: iptables -I FORWARD -m set --match-set tide_deny_egress_v4 src "
                         "! -d 10.0.0.0/8 -j DROP (and similar for v6)\n");
            fprintf(f.f, "create tide_deny_egress_v4 hash:ip family inet -exist\n"
                         "create tide_deny_egress_v6 hash:ip family inet6 -exist\n"
                         "flush tide_deny_egress_v4\nflush tide_deny_egress_v6\n");
            for (size_t i = 0; i < c.n; i++)
                fprintf(f.f, "add tide_deny_egress_v%d %s\n", strchr(c.ips[i], ':') ? 6 : 4,
                        c.ips[i]);
        }
        x->sum->written = (long)c.n;
        rc = tide__exp_close(&f, true);
    }
    for (size_t i = 0; i < c.n; i++)
        tide__free(c.ips[i]);
    tide__free(c.ips);
    return rc;
}

/* ------------------------------------------------------------------ squid categories */

static bool in_allow(const char *allow, const char *cat)
{
    if (allow == NULL)
        return true;
    size_t cl = strlen(cat);
    for (const char *p = allow; *p;) {
        size_t n = strcspn(p, ",");
        const char *s = p;
        size_t m = n;
        while (m && *s == ' ') {
            s++;
            m--;
        }
        while (m && s[m - 1] == ' ')
            m--;
        if (m == cl && strncasecmp(s, cat, cl) == 0)
            return true;
        p += n;
        if (*p)
            p++;
    }
    return false;
}

int tide__exp_squid_categories(tide__exp *x)
{
    const char *path = x->opts->categories;
    FILE *in = fopen(path, "r");
    if (in == NULL)
        return tide_error_set(TIDE_EIO, "%s: %s", path, strerror(errno));
    char *line = tide__malloc(MAX_LINE + 2);
    if (line == NULL) {
        fclose(in);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    char **doms = NULL;
    size_t nd = 0, cap = 0;
    long lineno = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, MAX_LINE + 2, in)) {
        lineno++;
        if (strlen(line) > MAX_LINE) {
            rc = tide_error_set(TIDE_ETOOBIG, "%s:%ld: line too long", path, lineno);
            break;
        }
        char *t = tide__str_trim(line);
        if (*t == '\0' || *t == '#')
            continue;
        char *dom, *cat;
        char *comma = strchr(t, ','), *colon = strchr(t, ':');
        if (comma) { /* domain,category */
            *comma = '\0';
            dom = tide__str_trim(t);
            cat = tide__str_trim(comma + 1);
            if (lineno == 1 && strcasecmp(dom, "domain") == 0)
                continue;   /* header */
        } else if (colon) { /* category: domain */
            *colon = '\0';
            cat = tide__str_trim(t);
            dom = tide__str_trim(colon + 1);
        } else {
            rc = tide_error_set(TIDE_EPARSE,
                    "%s:%ld: expected 'domain,category' or 'category: domain'", path, lineno);
            break;
        }
        if (*dom == '.')
            dom++;
        char *norm = NULL;
        if (tide_obs_detect(dom) != TIDE_OBS_DOMAIN ||
                tide_obs_normalize(TIDE_OBS_DOMAIN, dom, &norm) < 0) {
            free(norm);
            rc = tide_error_set(
                    TIDE_EPARSE, "%s:%ld: '%s' is not a domain name", path, lineno, dom);
            break;
        }
        x->sum->considered++;
        if (!in_allow(x->opts->allow, cat)) {
            free(norm);
            continue;
        }
        if (nd == cap) {
            size_t nc = cap ? cap * 2 : 256;
            char **nv = tide__realloc(doms, nc * sizeof(char *));
            if (nv == NULL) {
                free(norm);
                rc = tide_error_set(TIDE_ENOMEM, "out of memory");
                break;
            }
            doms = nv;
            cap = nc;
        }
        doms[nd++] = norm;
    }
    fclose(in);
    tide__free(line);
    /* unique, and no domain under another listed one (Squid rejects the overlap) */
    tide_strmap m = TIDE_STRMAP_INIT;
    for (size_t i = 0; i < nd && rc == 0; i++)
        if (tide__strmap_put(&m, doms[i], strlen(doms[i]), 0, NULL) < 0)
            rc = tide_error_set(TIDE_ENOMEM, "out of memory");
    if (rc == 0)
        if (nd > 1)
            qsort(doms, nd, sizeof(char *), cmp_s);
    const char *allow = x->opts->allow ? x->opts->allow : "";
    XXH64_hash_t fp = XXH3_64bits(allow, strlen(allow));
    for (size_t i = 0; i < nd && rc == 0; i++)
        fp = XXH3_64bits_withSeed(doms[i], strlen(doms[i]) + 1, fp);
    x->sum->fingerprint = fp | 1;
    if (rc == 0 && x->opts->unless_fingerprint &&
            x->opts->unless_fingerprint == x->sum->fingerprint) {
        x->sum->unchanged = true; /* a declared target: nothing changed, nothing written */
        for (size_t i = 0; i < nd; i++)
            free(doms[i]);
        tide__free(doms);
        tide__strmap_free(&m);
        return 0;
    }
    char *dir = rc == 0 ? realpath(x->opts->output, NULL) : NULL;
    if (rc == 0 && dir == NULL)
        rc = tide_error_set(TIDE_EIO, "%s: cannot resolve the output folder", x->opts->output);
    tide__exp_file fa = { 0 }, fc = { 0 };
    if (rc == 0)
        rc = tide__exp_open(x, "tide-allowed.acl", &fa);
    if (rc == 0)
        rc = tide__exp_open(x, "tide-categories.conf", &fc);
    long written = 0;
    for (size_t i = 0; i < nd && rc == 0; i++) {
        if (i > 0 && strcmp(doms[i], doms[i - 1]) == 0)
            continue;
        bool covered = false;
        for (const char *p = strchr(doms[i], '.'); p && !covered; p = strchr(p + 1, '.'))
            covered = tide__strmap_get(&m, p + 1, strlen(p + 1)) >= 0;
        if (covered)
            continue;
        fprintf(fa.f, ".%s\n", doms[i]);
        written++;
    }
    if (rc == 0) {
        fprintf(fc.f,
                "# tide Squid category policy: allow the domains of categories %s,\n"
                "# deny every other destination. Include after your own deny rules.\n",
                x->opts->allow ? x->opts->allow : "(all)");
        if (written) {
            fprintf(fc.f, "acl tide_allowed_categories dstdomain \"%s/tide-allowed.acl\"\n", dir);
            fprintf(fc.f, "http_access allow tide_allowed_categories\n");
        }
        fprintf(fc.f, "http_access deny all\n");
    }
    x->sum->written = written;
    int r1 = tide__exp_close(&fa, rc == 0), r2 = tide__exp_close(&fc, rc == 0);
    if (rc == 0)
        rc = r1 < 0 ? r1 : r2;
    tide__strmap_free(&m);
    for (size_t i = 0; i < nd; i++)
        free(doms[i]);
    tide__free(doms);
    free(dir);
    return rc;
}
