/*
 * warninglist.c - in-memory MISP warninglists and built-in bogon ranges (warninglist.h).
 *
 * JSON via jansson, regexes via PCRE2 (compiled once per entry). The lookup structures are
 * hand-written because no allowed library has them: an open-addressing hash set for string and
 * hostname entries (a hostname check walks the name's parents), and for CIDR entries a sorted
 * array of [first, last] address intervals per family with a running maximum of "last", so a
 * point or range lookup is a binary search plus a short walk back over overlapping intervals.
 * Substring and regex entries are few and scanned linearly.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <pcre2.h>

#include "intel/warninglist.h"
#include "tide/errors.h"
#include "util/ipaddr.h"
#include "util/util.h"

#define MAX_LIST_FILE (256u * 1024 * 1024)

typedef struct {
    uint64_t hi, lo;
} u128;

/* Each entry carries the observable kinds its list applies to (bit 1 << tide_obs_kind), from
 * the list's MISP matching_attributes: a phone-number regex list never suppresses a hash, a
 * disposable-email list never a domain. A list without matching_attributes applies to all. */
#define ALL_KINDS 0xFFFFFFFFu

typedef struct {
    u128 first, last, maxlast; /* maxlast: max of last over entries [0..i] once sorted */
    const char *list;
    uint32_t kinds;
} interval;

typedef struct {
    interval *v;
    size_t n, cap;
    bool sorted;
} ivec;

typedef struct {
    char *key; /* lower-case */
    const char *list;
    uint32_t kinds;
} hent;

typedef struct {
    hent *t;
    size_t n, cap; /* cap is a power of two */
} hset;

typedef struct {
    char *needle; /* lower-case */
    const char *list;
    uint32_t kinds;
} subent;

typedef struct {
    pcre2_code *re;
    const char *list;
    uint32_t kinds;
} reent;

struct tide_warnlist_set {
    char **names;
    size_t nnames;
    ivec v4, v6;
    hset strings, hosts;
    subent *subs;
    size_t nsubs;
    reent *res;
    size_t nres;
};

/* ------------------------------------------------------------------ helpers */

static int u128cmp(u128 a, u128 b)
{
    if (a.hi != b.hi)
        return a.hi < b.hi ? -1 : 1;
    if (a.lo != b.lo)
        return a.lo < b.lo ? -1 : 1;
    return 0;
}

static u128 from_bytes(const unsigned char *b, int n)
{
    u128 r = { 0, 0 };
    if (n == 4) {
        r.lo = ((uint64_t)b[0] << 24) | ((uint64_t)b[1] << 16) | ((uint64_t)b[2] << 8) | b[3];
        return r;
    }
    for (int i = 0; i < 8; i++)
        r.hi = (r.hi << 8) | b[i];
    for (int i = 8; i < 16; i++)
        r.lo = (r.lo << 8) | b[i];
    return r;
}

/* Parse an IP or CIDR (util/ipaddr.h; a prefix of 1-5 digits, at most the family's width) into
 * family / [first, last]. */
static bool parse_range(const char *s, int *family, u128 *first, u128 *last)
{
    size_t n = strlen(s);
    unsigned char a[16];
    if (n <= 15 && tide__ip4_parse(s, n, a)) { /* a single IPv4 address: the common case */
        *family = AF_INET;
        first->hi = last->hi = 0;
        first->lo = last->lo =
                (uint64_t)a[0] << 24 | (uint64_t)a[1] << 16 | (uint64_t)a[2] << 8 | a[3];
        return true;
    }
    unsigned plen;
    int fam = tide__cidr_parse(s, n, 0, a, &plen);
    if (fam <= 0)
        return false;
    *family = fam == 4 ? AF_INET : AF_INET6;
    int bits = fam == 4 ? 32 : 128;
    long len = (long)plen;
    u128 v = from_bytes(a, bits / 8);
    /* host mask: the low (bits - len) bits */
    int hb = bits - (int)len;
    u128 m = { 0, 0 };
    if (hb >= 128) {
        m.hi = m.lo = UINT64_MAX;
    } else if (hb >= 64) {
        m.lo = UINT64_MAX;
        m.hi = hb == 64 ? 0 : (UINT64_MAX >> (128 - hb));
    } else if (hb > 0) {
        m.lo = UINT64_MAX >> (64 - hb);
    }
    first->hi = v.hi & ~m.hi;
    first->lo = v.lo & ~m.lo;
    last->hi = first->hi | m.hi;
    last->lo = first->lo | m.lo;
    if (*family == AF_INET) {
        first->lo &= 0xffffffffu;
        last->lo &= 0xffffffffu;
    }
    return true;
}

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

static int hset_put(hset *h, const char *key, const char *list, uint32_t kinds)
{
    if ((h->n + 1) * 2 > h->cap) {
        size_t ncap = h->cap ? h->cap * 2 : 1024;
        hent *nt = tide__calloc(ncap, sizeof(hent));
        if (nt == NULL)
            return tide_error_set(TIDE_ENOMEM, "out of memory");
        for (size_t i = 0; i < h->cap; i++) {
            if (h->t[i].key == NULL)
                continue;
            size_t j = fnv(h->t[i].key) & (ncap - 1);
            while (nt[j].key)
                j = (j + 1) & (ncap - 1);
            nt[j] = h->t[i];
        }
        tide__free(h->t);
        h->t = nt;
        h->cap = ncap;
    }
    char *lk = tide__strdup(key);
    if (lk == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    tide__str_lower(lk);
    size_t j = fnv(lk) & (h->cap - 1);
    while (h->t[j].key) {
        if (strcmp(h->t[j].key, lk) == 0) {
            tide__free(lk);
            h->t[j].kinds |= kinds; /* first list's name wins; the kinds of both apply */
            return 0;
        }
        j = (j + 1) & (h->cap - 1);
    }
    h->t[j].key = lk;
    h->t[j].list = list;
    h->t[j].kinds = kinds;
    h->n++;
    return 0;
}

static const char *hset_get(const hset *h, const char *key, uint32_t bit)
{
    if (h->cap == 0)
        return NULL;
    size_t j = fnv(key) & (h->cap - 1);
    while (h->t[j].key) {
        if (strcmp(h->t[j].key, key) == 0)
            return (h->t[j].kinds & bit) ? h->t[j].list : NULL;
        j = (j + 1) & (h->cap - 1);
    }
    return NULL;
}

static void hset_free(hset *h)
{
    for (size_t i = 0; i < h->cap; i++)
        tide__free(h->t[i].key);
    tide__free(h->t);
}

static int ivec_add(ivec *v, u128 first, u128 last, const char *list, uint32_t kinds)
{
    if (v->n == v->cap) {
        size_t ncap = v->cap ? v->cap * 2 : 256;
        interval *nv = tide__realloc(v->v, ncap * sizeof(interval));
        if (nv == NULL)
            return tide_error_set(TIDE_ENOMEM, "out of memory");
        v->v = nv;
        v->cap = ncap;
    }
    v->v[v->n++] = (interval){ first, last, last, list, kinds };
    v->sorted = false;
    return 0;
}

static int icmp(const void *a, const void *b)
{
    const interval *x = a, *y = b;
    int c = u128cmp(x->first, y->first);
    return c ? c : u128cmp(y->last, x->last);
}

static void ivec_sort(ivec *v)
{
    if (v->sorted || v->n == 0)
        return;
    qsort(v->v, v->n, sizeof(interval), icmp);
    for (size_t i = 0; i < v->n; i++) {
        v->v[i].maxlast = v->v[i].last;
        if (i > 0 && u128cmp(v->v[i - 1].maxlast, v->v[i].maxlast) > 0)
            v->v[i].maxlast = v->v[i - 1].maxlast;
    }
    v->sorted = true;
}

/* An interval holding [a, b], or NULL. */
static const char *ivec_find(const ivec *v, u128 a, u128 b, uint32_t bit)
{
    if (v->n == 0)
        return NULL;
    /* last index with first <= a */
    size_t lo = 0, hi = v->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (u128cmp(v->v[mid].first, a) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i-- > 0;) {
        if (u128cmp(v->v[i].maxlast, b) < 0)
            break;
        if (u128cmp(v->v[i].last, b) >= 0 && (v->v[i].kinds & bit))
            return v->v[i].list;
    }
    return NULL;
}

static const char *intern(tide_warnlist_set *s, const char *name)
{
    for (size_t i = 0; i < s->nnames; i++)
        if (strcmp(s->names[i], name) == 0)
            return s->names[i];
    char **nn = tide__realloc(s->names, (s->nnames + 1) * sizeof(char *));
    if (nn == NULL)
        return NULL;
    s->names = nn;
    char *d = tide__strdup(name);
    if (d == NULL)
        return NULL;
    s->names[s->nnames++] = d;
    return d;
}

/* ------------------------------------------------------------------ set */

static const char *const bogons[] = { "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8",
    "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24",
    "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4",
    "240.0.0.0/4", "255.255.255.255/32", "::/128", "::1/128", "::ffff:0:0/96", "100::/64",
    "2001:db8::/32", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8", NULL };

int tide__warnlist_set_new(tide_warnlist_set **out, bool builtin)
{
    *out = NULL;
    tide_warnlist_set *s = tide__calloc(1, sizeof(*s));
    if (s == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    if (builtin) {
        for (int i = 0; bogons[i]; i++) {
            int rc = tide__warnlist_add(s, "builtin-bogons", "cidr", bogons[i]);
            if (rc < 0) {
                tide__warnlist_set_free(s);
                return rc;
            }
        }
    }
    *out = s;
    return 0;
}

void tide__warnlist_set_free(tide_warnlist_set *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nnames; i++)
        tide__free(s->names[i]);
    tide__free(s->names);
    tide__free(s->v4.v);
    tide__free(s->v6.v);
    hset_free(&s->strings);
    hset_free(&s->hosts);
    for (size_t i = 0; i < s->nsubs; i++)
        tide__free(s->subs[i].needle);
    tide__free(s->subs);
    for (size_t i = 0; i < s->nres; i++)
        pcre2_code_free(s->res[i].re);
    tide__free(s->res);
    tide__free(s);
}

void tide__warnlist_set_freeze(tide_warnlist_set *s)
{
    ivec_sort(&s->v4);
    ivec_sort(&s->v6);
}

static int add_regex(tide_warnlist_set *s, const char *list, const char *value, uint32_t kinds)
{
    const char *pat = value;
    size_t plen = strlen(value);
    uint32_t opts = 0;
    /* MISP / PHP form: /pattern/flags */
    if (plen >= 2 && value[0] == '/') {
        const char *endd = strrchr(value, '/');
        if (endd > value) {
            for (const char *f = endd + 1; *f; f++)
                if (*f == 'i')
                    opts |= PCRE2_CASELESS;
                else if (*f == 'm')
                    opts |= PCRE2_MULTILINE;
                else if (*f == 's')
                    opts |= PCRE2_DOTALL;
                else if (*f == 'x')
                    opts |= PCRE2_EXTENDED;
                else if (*f == 'u')
                    opts |= PCRE2_UTF;
            pat = value + 1;
            plen = (size_t)(endd - value - 1);
        }
    }
    int err;
    PCRE2_SIZE eoff;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, plen, opts, &err, &eoff, NULL);
    if (re == NULL) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof(msg));
        return tide_error_set(TIDE_EPARSE, "warninglist '%s': bad regex '%.200s' at offset %zu: %s",
                list, value, (size_t)eoff, (const char *)msg);
    }
    reent *nr = tide__realloc(s->res, (s->nres + 1) * sizeof(reent));
    if (nr == NULL) {
        pcre2_code_free(re);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    s->res = nr;
    s->res[s->nres++] = (reent){ re, list, kinds };
    return 0;
}

/* The tide observable kinds a MISP attribute type names (0: none tide holds, such as
 * phone-number). */
static uint32_t attr_kinds(const char *a, size_t n)
{
#define B(k) (1u << (k))
    const uint32_t ip = B(TIDE_OBS_IPV4) | B(TIDE_OBS_IPV6) | B(TIDE_OBS_CIDR4) | B(TIDE_OBS_CIDR6);
    static const struct {
        const char *name;
        uint32_t kinds;
    } map[] = {
        { "ip-src", 0 }, /* ip, below */
        { "ip-dst", 0 },
        { "ip-src|port", B(TIDE_OBS_IP_PORT) },
        { "ip-dst|port", B(TIDE_OBS_IP_PORT) },
        /* a composite is not its parts: a list for domain|ip attributes (disposable-email)
         * does not apply to a domain, which MISP types "domain" or "hostname" */
        { "domain|ip", 0 },
        { "domain", B(TIDE_OBS_DOMAIN) },
        { "hostname", B(TIDE_OBS_DOMAIN) },
        { "hostname|port", B(TIDE_OBS_DOMAIN) },
        { "url", B(TIDE_OBS_URL) | B(TIDE_OBS_URL_PATH) },
        { "uri", B(TIDE_OBS_URL) | B(TIDE_OBS_URL_PATH) },
        { "link", B(TIDE_OBS_URL) },
        { "md5", B(TIDE_OBS_MD5) },
        { "filename|md5", B(TIDE_OBS_MD5) },
        { "sha1", B(TIDE_OBS_SHA1) },
        { "filename|sha1", B(TIDE_OBS_SHA1) },
        { "sha256", B(TIDE_OBS_SHA256) },
        { "filename|sha256", B(TIDE_OBS_SHA256) },
        { "sha512", B(TIDE_OBS_SHA512) },
        { "filename|sha512", B(TIDE_OBS_SHA512) },
        { "x509-fingerprint-sha1", B(TIDE_OBS_X509_SHA1) },
        { "ja3-fingerprint-md5", B(TIDE_OBS_JA3) },
        { "email", B(TIDE_OBS_EMAIL) },
        { "email-src", B(TIDE_OBS_EMAIL) },
        { "email-dst", B(TIDE_OBS_EMAIL) },
        { "email-reply-to", B(TIDE_OBS_EMAIL) },
        { "target-email", B(TIDE_OBS_EMAIL) },
        { "whois-registrant-email", B(TIDE_OBS_EMAIL) },
        { "dns-soa-email", B(TIDE_OBS_EMAIL) },
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strlen(map[i].name) != n || strncmp(a, map[i].name, n) != 0)
            continue;
        bool has_ip = strncmp(a, "ip-", 3) == 0 && strchr(map[i].name, '|') == NULL;
        return map[i].kinds | (has_ip ? ip : 0);
    }
    return 0;
#undef B
}

/* "TYPE" or "TYPE;ATTR,ATTR..." (tide__warnlist_parse writes the list's matching_attributes
 * after the type): the type into t, the kinds the entry applies to into *kinds. */
static bool split_type(const char *type, char t[16], uint32_t *kinds)
{
    const char *semi = strchr(type, ';');
    size_t tl = semi ? (size_t)(semi - type) : strlen(type);
    if (tl >= 16)
        return false;
    memcpy(t, type, tl);
    t[tl] = '\0';
    *kinds = ALL_KINDS;
    if (semi == NULL || semi[1] == '\0')
        return true;
    *kinds = 0;
    for (const char *p = semi + 1; *p;) {
        size_t n = strcspn(p, ",");
        *kinds |= attr_kinds(p, n);
        p += n;
        if (*p == ',')
            p++;
    }
    return true;
}

int tide__warnlist_add(
        tide_warnlist_set *s, const char *list_name, const char *type_attrs, const char *value)
{
    if (s == NULL || list_name == NULL || type_attrs == NULL || value == NULL)
        return tide_error_set(TIDE_EINVAL, "warninglist add: NULL argument");
    char type[16];
    uint32_t kinds;
    if (!split_type(type_attrs, type, &kinds))
        return tide_error_set(
                TIDE_EINVAL, "warninglist '%s': unknown type '%.40s'", list_name, type_attrs);
    const char *list = intern(s, list_name);
    if (list == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    while (isspace((unsigned char)*value))
        value++;
    if (*value == '\0')
        return tide_error_set(TIDE_EPARSE, "warninglist '%s': empty value", list_name);
    if (strcmp(type, "cidr") == 0) {
        int fam;
        u128 a, b;
        if (!parse_range(value, &fam, &a, &b))
            return tide_error_set(
                    TIDE_EPARSE, "warninglist '%s': not a CIDR or IP: '%.200s'", list_name, value);
        return ivec_add(fam == AF_INET ? &s->v4 : &s->v6, a, b, list, kinds);
    }
    if (strcmp(type, "hostname") == 0) {
        if (value[0] == '*' && value[1] == '.')
            value += 2;
        else if (value[0] == '.')
            value++;
        char tmp[512];
        size_t n = strlen(value);
        if (n >= sizeof(tmp))
            return tide_error_set(TIDE_EPARSE, "warninglist '%s': host name too long", list_name);
        memcpy(tmp, value, n + 1);
        if (n > 0 && tmp[n - 1] == '.')
            tmp[n - 1] = '\0';
        return hset_put(&s->hosts, tmp, list, kinds);
    }
    if (strcmp(type, "string") == 0)
        return hset_put(&s->strings, value, list, kinds);
    if (strcmp(type, "substring") == 0) {
        subent *ns = tide__realloc(s->subs, (s->nsubs + 1) * sizeof(subent));
        if (ns == NULL)
            return tide_error_set(TIDE_ENOMEM, "out of memory");
        s->subs = ns;
        char *d = tide__strdup(value);
        if (d == NULL)
            return tide_error_set(TIDE_ENOMEM, "out of memory");
        tide__str_lower(d);
        s->subs[s->nsubs++] = (subent){ d, list, kinds };
        return 0;
    }
    if (strcmp(type, "regex") == 0)
        return add_regex(s, list, value, kinds);
    return tide_error_set(TIDE_EINVAL, "warninglist '%s': unknown type '%s'", list_name, type);
}

/* ------------------------------------------------------------------ parse */

int tide__warnlist_parse(const char *json, size_t len,
        int (*cb)(const char *name, const char *type, const char *description, const char *value,
                void *payload),
        void *payload)
{
    if (len > MAX_LIST_FILE)
        return tide_error_set(TIDE_ETOOBIG, "warninglist larger than %u bytes", MAX_LIST_FILE);
    json_error_t err;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
    if (root == NULL)
        return tide_error_set(TIDE_EPARSE, "warninglist: line %d, column %d (byte %d): %s",
                err.line, err.column, err.position, err.text);
    int rc = 0;
    const char *name, *type, *desc = "";
    json_t *list, *d;
    tide_buf typed = TIDE_BUF_INIT;
    if (!json_is_object(root)) {
        rc = tide_error_set(TIDE_EPARSE, "warninglist: top level is not an object");
        goto done;
    }
    name = json_string_value(json_object_get(root, "name"));
    type = json_string_value(json_object_get(root, "type"));
    list = json_object_get(root, "list");
    d = json_object_get(root, "description");
    if (json_is_string(d))
        desc = json_string_value(d);
    if (name == NULL || *name == '\0') {
        rc = tide_error_set(TIDE_EPARSE, "warninglist: missing string member \"name\"");
        goto done;
    }
    if (type == NULL) {
        rc = tide_error_set(TIDE_EPARSE, "warninglist '%s': missing string member \"type\"", name);
        goto done;
    }
    if (strcmp(type, "cidr") && strcmp(type, "hostname") && strcmp(type, "string") &&
            strcmp(type, "substring") && strcmp(type, "regex")) {
        rc = tide_error_set(TIDE_EPARSE,
                "warninglist '%s': unknown type '%s' (cidr, hostname, "
                "string, substring, regex)",
                name, type);
        goto done;
    }
    if (!json_is_array(list)) {
        rc = tide_error_set(TIDE_EPARSE, "warninglist '%s': \"list\" is not an array", name);
        goto done;
    }
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (!json_is_string(v)) {
            rc = tide_error_set(
                    TIDE_EPARSE, "warninglist '%s': list[%zu] is not a string", name, i);
            goto done;
        }
    }
    /* the MISP attribute types the list applies to travel with its type: "regex;phone-number" */
    json_t *ma = json_object_get(root, "matching_attributes");
    if (json_is_array(ma) && json_array_size(ma) > 0) {
        if (tide__buf_printf(&typed, "%s;", type) < 0) {
            rc = tide_error_set(TIDE_ENOMEM, "out of memory");
            goto done;
        }
        json_t *a;
        json_array_foreach(ma, i, a)
        {
            if (!json_is_string(a) || strpbrk(json_string_value(a), ",;")) {
                rc = tide_error_set(TIDE_EPARSE,
                        "warninglist '%s': matching_attributes[%zu] is not an attribute type", name,
                        i);
                goto done;
            }
            if (tide__buf_printf(&typed, "%s%s", i ? "," : "", json_string_value(a)) < 0) {
                rc = tide_error_set(TIDE_ENOMEM, "out of memory");
                goto done;
            }
        }
        type = typed.ptr;
    }
    json_array_foreach(list, i, v)
    {
        rc = cb(name, type, desc, json_string_value(v), payload);
        if (rc < 0)
            goto done;
    }
    rc = 0;
done:
    tide__buf_free(&typed);
    json_decref(root);
    return rc;
}

typedef struct {
    tide_warnlist_set *s;
    long skipped;
} load_ctx;

static int load_cb(const char *name, const char *type, const char *description, const char *value,
        void *payload)
{
    (void)description;
    load_ctx *c = payload;
    int rc = tide__warnlist_add(c->s, name, type, value);
    if (rc == TIDE_EPARSE) {
        c->skipped++;
        return 0;
    }
    return rc;
}

int tide__warnlist_load_file(tide_warnlist_set *s, const char *path, long *skipped)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return tide_error_set(TIDE_EIO, "%s: cannot open", path);
    tide_buf b = TIDE_BUF_INIT;
    b.max = MAX_LIST_FILE;
    char chunk[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
        rc = tide__buf_put(&b, chunk, n);
        if (rc < 0)
            break;
    }
    if (rc == 0 && ferror(fp))
        rc = tide_error_set(TIDE_EIO, "%s: read error", path);
    else if (rc == TIDE_ETOOBIG)
        rc = tide_error_set(rc, "%s: larger than %u bytes", path, MAX_LIST_FILE);
    fclose(fp);
    load_ctx c = { s, 0 };
    if (rc == 0) {
        rc = tide__warnlist_parse(b.ptr ? b.ptr : "", b.len, load_cb, &c);
        if (rc < 0)
            tide_error_set(rc, "%s: %s", path, tide_error_last());
    }
    tide__buf_free(&b);
    if (skipped)
        *skipped = c.skipped;
    return rc;
}

/* ------------------------------------------------------------------ check */

static const char *check_ip_text(tide_warnlist_set *s, const char *ip, uint32_t bit)
{
    int fam;
    u128 a, b;
    if (!parse_range(ip, &fam, &a, &b))
        return NULL;
    ivec *v = fam == AF_INET ? &s->v4 : &s->v6;
    ivec_sort(v);
    return ivec_find(v, a, b, bit);
}

static const char *check_host(const tide_warnlist_set *s, const char *host, uint32_t bit)
{
    for (const char *p = host; p;) {
        const char *l = hset_get(&s->hosts, p, bit);
        if (l)
            return l;
        p = strchr(p, '.');
        if (p)
            p++;
    }
    return NULL;
}

static const char *check_text(
        const tide_warnlist_set *s, const char *lower, const char *orig, uint32_t bit)
{
    const char *l = hset_get(&s->strings, lower, bit);
    if (l)
        return l;
    for (size_t i = 0; i < s->nsubs; i++)
        if ((s->subs[i].kinds & bit) && strstr(lower, s->subs[i].needle))
            return s->subs[i].list;
    if (s->nres == 0)
        return NULL;
    /* match data per call: checks may run concurrently */
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    if (md == NULL)
        return NULL;
    const char *hit = NULL;
    for (size_t i = 0; i < s->nres && hit == NULL; i++) {
        if (!(s->res[i].kinds & bit))
            continue;
        int rc = pcre2_match(s->res[i].re, (PCRE2_SPTR)orig, strlen(orig), 0, 0, md, NULL);
        if (rc >= 0)
            hit = s->res[i].list;
    }
    pcre2_match_data_free(md);
    return hit;
}

const char *tide__warnlist_check(const tide_warnlist_set *cs, tide_obs_kind kind, const char *value)
{
    if (cs == NULL || value == NULL)
        return NULL;
    /* the CIDR index is sorted lazily on first use (see tide__warnlist_set_freeze) */
    tide_warnlist_set *s = (tide_warnlist_set *)cs;
    const uint32_t bit = kind > 0 && kind < 32 ? 1u << kind : ALL_KINDS;
    /* only address ranges loaded (the built-in private / bogon space, or CIDR lists): every
     * kind but a URL can hit only through its address, which needs no lower-case copy */
    if (s->hosts.cap == 0 && s->strings.cap == 0 && s->nsubs == 0 && s->nres == 0 &&
            kind != TIDE_OBS_URL) {
        if (kind == TIDE_OBS_IPV4 || kind == TIDE_OBS_IPV6 || kind == TIDE_OBS_CIDR4 ||
                kind == TIDE_OBS_CIDR6)
            return check_ip_text(s, value, bit);
        if (kind != TIDE_OBS_IP_PORT)
            return NULL;
    }
    size_t n = strlen(value);
    if (n > 65536)
        return NULL;
    /* on the stack for the usual short value: this runs for every indicator of an index build */
    char small[256];
    char *lower = n < sizeof(small) ? memcpy(small, value, n + 1) : tide__strndup(value, n);
    if (lower == NULL)
        return NULL;
    tide__mem_lower(lower, n);
    const char *hit = NULL;
    switch (kind) {
        case TIDE_OBS_IPV4:
        case TIDE_OBS_IPV6:
        case TIDE_OBS_CIDR4:
        case TIDE_OBS_CIDR6: hit = check_ip_text(s, value, bit); break;
        case TIDE_OBS_IP_PORT: {
            char ip[64];
            const char *colon = strrchr(value, ':');
            size_t il = colon ? (size_t)(colon - value) : 0;
            const char *start = value;
            if (il >= 2 && value[0] == '[') {
                start++;
                il -= 2;
            }
            if (colon && il < sizeof(ip)) {
                memcpy(ip, start, il);
                ip[il] = '\0';
                hit = check_ip_text(s, ip, bit);
            }
            break;
        }
        case TIDE_OBS_DOMAIN: hit = check_host(s, lower, bit); break;
        case TIDE_OBS_URL: {
            /* host of scheme://[userinfo@]host[:port]/... */
            const char *p = strstr(lower, "://");
            p = p ? p + 3 : lower;
            size_t hl = strcspn(p, "/?#");
            char host[300];
            if (hl < sizeof(host)) {
                memcpy(host, p, hl);
                host[hl] = '\0';
                char *h = strrchr(host, '@');
                h = h ? h + 1 : host;
                if (*h == '[') {
                    char *rb = strchr(h, ']');
                    if (rb) {
                        *rb = '\0';
                        hit = check_ip_text(s, h + 1, bit);
                    }
                } else {
                    char *colon = strchr(h, ':');
                    if (colon)
                        *colon = '\0';
                    hit = check_ip_text(s, h, bit);
                    if (hit == NULL)
                        hit = check_host(s, h, bit);
                    if (hit == NULL)
                        hit = check_text(s, h, h, bit);
                }
            }
            break;
        }
        default: break;
    }
    if (hit == NULL)
        hit = check_text(s, lower, value, bit);
    if (lower != small)
        tide__free(lower);
    return hit;
}
