/*
 * store_match.c - the indicators of the store that a value would match (tide_store_lookup_match):
 * the exact lookups of tide_store_lookup, taken over every key the match index would probe for
 * that value (src/match/lookup.c): the CIDRs containing an address, the listed parents of a
 * name, the URL paths a URL ends with. Public store calls and the observable API only, so it
 * works on every backend; `tide show VALUE` answers with it.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tide/store.h"
#include "util/util.h"

typedef struct {
    tide_store *store;
    int (*cb)(const tide_store_match *m, void *payload);
    void *payload;
    tide_obs_kind kind; /* of the key being looked up */
    const char *value;
    char **seen; /* indicator ids reported */
    size_t nseen, cap;
    int stop; /* the callback's non-zero return */
} mctx;

static int on_id(const char *id, void *payload)
{
    mctx *c = payload;
    for (size_t i = 0; i < c->nseen; i++)
        if (strcmp(c->seen[i], id) == 0)
            return 0;
    if (c->nseen == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 16;
        char **n = tide__realloc(c->seen, nc * sizeof(*n));
        if (n == NULL)
            return TIDE_ENOMEM;
        c->seen = n;
        c->cap = nc;
    }
    if ((c->seen[c->nseen] = tide__strdup(id)) == NULL)
        return TIDE_ENOMEM;
    c->nseen++;
    tide_store_match m = { id, c->kind, c->value };
    c->stop = c->cb(&m, c->payload);
    return c->stop;
}

/* Look up one key given as text: normalised as kind first (a key that is no valid value of
 * that kind names nothing). */
static int key(mctx *c, tide_obs_kind kind, const char *text)
{
    char *norm = NULL;
    if (tide_obs_normalize(kind, text, &norm) < 0) {
        tide_error_clear();
        return 0;
    }
    c->kind = kind;
    c->value = norm;
    int rc = tide_store_lookup(c->store, kind, norm, on_id, c);
    free(norm);
    if (c->stop)
        return c->stop;
    return rc < 0 ? rc : 0;
}

/* The address (or network's address) a / its prefix len: every network containing it. */
static int networks(mctx *c, const char *addr, int maxlen)
{
    unsigned char a[16];
    bool v6 = strchr(addr, ':') != NULL;
    if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, a) != 1)
        return 0;
    int bits = v6 ? 128 : 32;
    if (maxlen < 0 || maxlen > bits)
        maxlen = bits;
    for (int len = maxlen; len >= 0; len--) {
        unsigned char m[16];
        memcpy(m, a, sizeof(m));
        for (int b = len; b < bits; b++)
            m[b / 8] &= (unsigned char)~(0x80u >> (b % 8));
        char txt[INET6_ADDRSTRLEN + 8];
        if (inet_ntop(v6 ? AF_INET6 : AF_INET, m, txt, INET6_ADDRSTRLEN) == NULL)
            continue;
        size_t tl = strlen(txt);
        snprintf(txt + tl, sizeof(txt) - tl, "/%d", len);
        int rc = key(c, v6 ? TIDE_OBS_CIDR6 : TIDE_OBS_CIDR4, txt);
        if (rc)
            return rc;
    }
    return 0;
}

static int address(mctx *c, const char *ip)
{
    bool v6 = strchr(ip, ':') != NULL;
    int rc = key(c, v6 ? TIDE_OBS_IPV6 : TIDE_OBS_IPV4, ip);
    return rc ? rc : networks(c, ip, -1);
}

/* A name and each parent that still holds a dot ("a.b.c" -> "b.c"), as the index walks them. */
static int domain(mctx *c, const char *name)
{
    for (const char *p = name; p;) {
        int rc = key(c, TIDE_OBS_DOMAIN, p);
        if (rc)
            return rc;
        const char *dot = strchr(p, '.');
        p = dot && strchr(dot + 1, '.') ? dot + 1 : NULL;
    }
    return 0;
}

/* A host as written in a URL or after "ip:port" splitting: a name or an address. */
static int host(mctx *c, const char *h)
{
    tide_obs_kind k = tide_obs_detect(h);
    if (k == TIDE_OBS_IPV4 || k == TIDE_OBS_IPV6)
        return address(c, h);
    if (k == TIDE_OBS_DOMAIN)
        return domain(c, h);
    return 0;
}

static int url(mctx *c, const char *u)
{
    int rc = key(c, TIDE_OBS_URL, u);
    if (rc)
        return rc;
    const char *hs = strstr(u, "://");
    const char *h = hs ? hs + 3 : u;
    const char *path = h;
    while (*path && *path != '/')
        path++;
    /* url-path entries match every URL ending with them at a '/' of its path */
    for (const char *p = path; *p; p++)
        if (*p == '/' && (rc = key(c, TIDE_OBS_URL_PATH, p)) != 0)
            return rc;
    /* its host ("user@host:port" and "[v6]" taken apart) */
    char hb[300];
    size_t hl = (size_t)(path - h);
    if (hl == 0 || hl >= sizeof(hb))
        return 0;
    memcpy(hb, h, hl);
    hb[hl] = '\0';
    char *hp = strrchr(hb, '@');
    hp = hp ? hp + 1 : hb;
    if (*hp == '[') {
        char *close = strchr(hp, ']');
        if (close == NULL)
            return 0;
        *close = '\0';
        hp++;
    } else {
        char *colon = strchr(hp, ':');
        if (colon)
            *colon = '\0';
    }
    return host(c, hp);
}

int tide_store_lookup_match(tide_store *store, tide_obs_kind kind, const char *value,
        int (*cb)(const tide_store_match *m, void *payload), void *payload)
{
    if (store == NULL || value == NULL || cb == NULL)
        return tide_error_set(TIDE_EINVAL, "lookup: no store, value or callback");
    mctx c = { .store = store, .cb = cb, .payload = payload };
    int rc = 0;
    switch (kind) {
        case TIDE_OBS_IPV4:
        case TIDE_OBS_IPV6: rc = address(&c, value); break;
        case TIDE_OBS_CIDR4:
        case TIDE_OBS_CIDR6: {
            char a[INET6_ADDRSTRLEN];
            const char *slash = strchr(value, '/');
            size_t al = slash ? (size_t)(slash - value) : strlen(value);
            if (al >= sizeof(a))
                break;
            memcpy(a, value, al);
            a[al] = '\0';
            rc = networks(&c, a, slash ? (int)strtol(slash + 1, NULL, 10) : -1);
            break;
        }
        case TIDE_OBS_DOMAIN: rc = domain(&c, value); break;
        case TIDE_OBS_URL: rc = url(&c, value); break;
        case TIDE_OBS_IP_PORT: {
            rc = key(&c, TIDE_OBS_IP_PORT, value);
            const char *colon = strrchr(value, ':');
            char a[INET6_ADDRSTRLEN + 2];
            size_t al = colon ? (size_t)(colon - value) : 0;
            if (rc == 0 && al > 0 && al < sizeof(a)) {
                memcpy(a, value, al);
                a[al] = '\0';
                char *ap = a;
                if (*ap == '[' && al > 2 && a[al - 1] == ']') {
                    a[al - 1] = '\0';
                    ap++;
                }
                rc = address(&c, ap);
            }
            break;
        }
        /* 32 and 40 hex digits name a file hash or a TLS fingerprint alike */
        case TIDE_OBS_MD5:
        case TIDE_OBS_JA3:
            rc = key(&c, TIDE_OBS_MD5, value);
            if (rc == 0)
                rc = key(&c, TIDE_OBS_JA3, value);
            break;
        case TIDE_OBS_SHA1:
        case TIDE_OBS_X509_SHA1:
            rc = key(&c, TIDE_OBS_SHA1, value);
            if (rc == 0)
                rc = key(&c, TIDE_OBS_X509_SHA1, value);
            break;
        default: rc = key(&c, kind, value); break;
    }
    for (size_t i = 0; i < c.nseen; i++)
        tide__free(c.seen[i]);
    tide__free(c.seen);
    return rc;
}
