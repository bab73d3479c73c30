/*
 * ipnet.c - helpers of the exports: IP / CIDR ranges as 128-bit intervals, the private / bogon
 * overlap check of blocking formats (the warninglist checker reports values *inside* a listed
 * range; a blocking export must also refuse a CIDR that merely *overlaps* private space, such
 * as 0.0.0.0/0 or 224.0.0.0/3), pruning of entries covered by a broader one (nft interval sets
 * reject overlapping elements, Squid warns about them), and base64 (Suricata datasets).
 */
#include <stdlib.h>
#include <string.h>

#include "export/export_int.h"
#include "util/ipaddr.h"

static tide__u128 from_bytes(const unsigned char *b, int n)
{
    tide__u128 r = { 0, 0 };
    for (int i = 0; i < n; i++) {
        r.hi = (r.hi << 8) | (r.lo >> 56);
        r.lo = (r.lo << 8) | b[i];
    }
    return r;
}

static int ucmp(tide__u128 a, tide__u128 b)
{
    if (a.hi != b.hi)
        return a.hi < b.hi ? -1 : 1;
    if (a.lo != b.lo)
        return a.lo < b.lo ? -1 : 1;
    return 0;
}

bool tide__ip_range(const char *s, int *family, tide__u128 *first, tide__u128 *last)
{
    uint8_t b[16];
    unsigned plen;
    int fam = tide__cidr_parse(s, strlen(s), 0, b, &plen);
    if (fam <= 0)
        return false;
    *family = fam;
    int bits = fam == 4 ? 32 : 128, len = (int)plen;
    *first = from_bytes(b, bits / 8);
    /* host mask of (bits - len) low bits within the family's width */
    int host = bits - len;
    tide__u128 m = { 0, 0 };
    if (host >= 128) {
        m.hi = m.lo = ~0ULL;
    } else if (host >= 64) {
        m.lo = ~0ULL;
        m.hi = host == 64 ? 0 : (~0ULL >> (128 - host));
    } else if (host > 0) {
        m.lo = ~0ULL >> (64 - host);
    }
    first->hi &= ~m.hi;
    first->lo &= ~m.lo;
    if (bits == 32) {
        first->hi = 0;
        first->lo &= 0xffffffffULL;
    }
    last->hi = first->hi | m.hi;
    last->lo = first->lo | m.lo;
    return true;
}

static const char *const bogons[] = { "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8",
    "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24",
    "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4",
    "240.0.0.0/4", "255.255.255.255/32", "::/128", "::1/128", "::ffff:0:0/96", "100::/64",
    "2001:db8::/32", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8", NULL };

const char *tide__ip_bogon_overlap(tide_obs_kind kind, const char *value)
{
    char ip[64];
    const char *v = value;
    if (kind == TIDE_OBS_IP_PORT) {
        const char *colon = strrchr(value, ':');
        if (colon == NULL)
            return NULL;
        size_t il = (size_t)(colon - value);
        const char *start = value;
        if (il >= 2 && value[0] == '[') {
            start++;
            il -= 2;
        }
        if (il >= sizeof(ip))
            return NULL;
        memcpy(ip, start, il);
        ip[il] = '\0';
        v = ip;
    } else if (kind != TIDE_OBS_IPV4 && kind != TIDE_OBS_IPV6 && kind != TIDE_OBS_CIDR4 &&
               kind != TIDE_OBS_CIDR6) {
        return NULL;
    }
    int fam;
    tide__u128 a, b;
    if (!tide__ip_range(v, &fam, &a, &b))
        return NULL;
    for (int i = 0; bogons[i]; i++) {
        int bf;
        tide__u128 c, d;
        if (!tide__ip_range(bogons[i], &bf, &c, &d) || bf != fam)
            continue;
        if (ucmp(a, d) <= 0 && ucmp(c, b) <= 0)
            return "builtin-bogons";
    }
    return NULL;
}

typedef struct {
    tide__u128 first, last;
    size_t idx;
    int fam;
} rng;

static int rcmp(const void *pa, const void *pb)
{
    const rng *a = pa, *b = pb;
    if (a->fam != b->fam)
        return a->fam - b->fam;
    int c = ucmp(a->first, b->first);
    if (c)
        return c;
    return ucmp(b->last, a->last); /* the broader first */
}

int tide__exp_prune_covered(tide__exp *x, bool *covered)
{
    rng *r = tide__malloc((x->n + 1) * sizeof(*r));
    TIDE_CHECK_ALLOC(r);
    size_t n = 0;
    for (size_t i = 0; i < x->n; i++) {
        tide_obs_kind k = x->v[i].kind;
        if (k != TIDE_OBS_IPV4 && k != TIDE_OBS_IPV6 && k != TIDE_OBS_CIDR4 && k != TIDE_OBS_CIDR6)
            continue;
        if (!tide__ip_range(x->v[i].val, &r[n].fam, &r[n].first, &r[n].last))
            continue;
        r[n].idx = i;
        n++;
    }
    qsort(r, n, sizeof(*r), rcmp);
    size_t top = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && r[top].fam == r[i].fam && ucmp(r[i].last, r[top].last) <= 0) {
            covered[r[i].idx] = true;
            tide__exp_skip(x, TIDE_EXPORT_SKIP_COVERED, &x->v[r[i].idx], x->v[r[top].idx].val);
        } else {
            top = i;
        }
    }
    tide__free(r);
    return 0;
}

bool tide__ip_port_split(const char *value, char *ip, size_t cap, int *family, unsigned *port)
{
    const char *colon = strrchr(value, ':');
    if (colon == NULL || colon[1] == '\0' || strlen(colon + 1) > 5)
        return false;
    unsigned p = 0;
    for (const char *d = colon + 1; *d; d++) {
        if (*d < '0' || *d > '9')
            return false;
        p = p * 10 + (unsigned)(*d - '0');
    }
    if (p == 0 || p > 65535)
        return false;
    const char *a = value;
    size_t n = (size_t)(colon - value);
    if (n >= 2 && a[0] == '[' && a[n - 1] == ']') {
        a++;
        n -= 2;
    }
    uint8_t b[16];
    int fam = tide__ip_parse(a, n, 0, b);
    if (fam == 0 || cap < TIDE__IP_TEXT_MAX)
        return false;
    tide__ip_format(fam, b, ip);
    *family = fam;
    *port = p;
    return true;
}

static int rfind(const rng *r, size_t n, int fam, tide__u128 a)
{
    /* the last range of family fam starting at or before a (ranges are disjoint and sorted) */
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r[mid].fam < fam || (r[mid].fam == fam && ucmp(r[mid].first, a) <= 0))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && r[lo - 1].fam == fam && ucmp(a, r[lo - 1].last) <= 0 ? (int)(lo - 1) : -1;
}

int tide__exp_prune_ports(tide__exp *x, bool *covered)
{
    rng *r = tide__malloc((x->n + 1) * sizeof(*r));
    TIDE_CHECK_ALLOC(r);
    size_t n = 0;
    for (size_t i = 0; i < x->n; i++) {
        tide_obs_kind k = x->v[i].kind;
        if (covered[i] || (k != TIDE_OBS_IPV4 && k != TIDE_OBS_IPV6 && k != TIDE_OBS_CIDR4 &&
                                  k != TIDE_OBS_CIDR6))
            continue;
        if (tide__ip_range(x->v[i].val, &r[n].fam, &r[n].first, &r[n].last))
            r[n++].idx = i;
    }
    qsort(r, n, sizeof(*r), rcmp);
    for (size_t i = 0; i < x->n && n > 0; i++) {
        char ip[TIDE__IP_TEXT_MAX];
        int fam;
        unsigned port;
        tide__u128 a, b;
        if (x->v[i].kind != TIDE_OBS_IP_PORT ||
                !tide__ip_port_split(x->v[i].val, ip, sizeof(ip), &fam, &port) ||
                !tide__ip_range(ip, &fam, &a, &b))
            continue;
        int j = rfind(r, n, fam, a);
        if (j >= 0) {
            covered[i] = true;
            tide__exp_skip(x, TIDE_EXPORT_SKIP_COVERED, &x->v[i], x->v[r[j].idx].val);
        }
    }
    tide__free(r);
    return 0;
}

int tide__exp_prune_subdomains(tide__exp *x, bool *covered)
{
    tide_strmap m = TIDE_STRMAP_INIT;
    int rc = 0;
    for (size_t i = 0; i < x->n && rc >= 0; i++)
        if (x->v[i].kind == TIDE_OBS_DOMAIN)
            rc = tide__strmap_put(&m, x->v[i].val, strlen(x->v[i].val), (uint32_t)i, NULL);
    for (size_t i = 0; i < x->n && rc >= 0; i++) {
        if (x->v[i].kind != TIDE_OBS_DOMAIN)
            continue;
        for (const char *p = strchr(x->v[i].val, '.'); p; p = strchr(p + 1, '.')) {
            int64_t j = tide__strmap_get(&m, p + 1, strlen(p + 1));
            if (j >= 0) {
                covered[i] = true;
                tide__exp_skip(x, TIDE_EXPORT_SKIP_COVERED, &x->v[i], x->v[j].val);
                break;
            }
        }
    }
    tide__strmap_free(&m);
    return rc < 0 ? rc : 0;
}

int tide__base64(tide_buf *b, const char *s, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    TIDE_CHECK(tide__buf_grow(b, (n + 2) / 3 * 4 + 1));
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)u[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)u[i + 1] << 8;
        if (i + 2 < n)
            v |= u[i + 2];
        char q[4] = { tab[(v >> 18) & 63], tab[(v >> 12) & 63],
            i + 1 < n ? tab[(v >> 6) & 63] : '=', i + 2 < n ? tab[v & 63] : '=' };
        TIDE_CHECK(tide__buf_put(b, q, 4));
    }
    return 0;
}
