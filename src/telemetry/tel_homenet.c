/*
 * tel_homenet.c - home networks (IPv4 / IPv6 CIDR sets deciding which endpoint of an event is
 * the internal host) and the generic NDJSON field map ("kind=dotted.path" entries).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "telemetry/tel_int.h"
#include "tide/errors.h"

typedef tide__hn_cidr cidr;

static const char *const default_home =
        "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,169.254.0.0/16,127.0.0.0/8,"
        "fc00::/7,fe80::/10,::1/128";

int tide_homenet_new(tide_homenet **out, const char *spec)
{
    *out = NULL;
    if (spec == NULL)
        spec = default_home;
    tide_homenet *h = tide__calloc(1, sizeof(*h));
    TIDE_CHECK_ALLOC(h);
    size_t cap = 0;
    const char *s = spec;
    while (*s) {
        while (*s == ',' || *s == ' ' || *s == '\t' || *s == '\n')
            s++;
        if (*s == '\0')
            break;
        const char *e = s;
        while (*e && *e != ',' && *e != ' ' && *e != '\t' && *e != '\n')
            e++;
        size_t len = (size_t)(e - s);
        cidr c;
        memset(&c, 0, sizeof(c));
        int fam = tide__cidr_parse(s, len, 0, c.addr, &c.plen);
        if (fam == 0) {
            tide_homenet_free(h);
            return tide_error_set(
                    TIDE_EINVAL, "home networks: \"%.*s\" is not an address or CIDR", (int)len, s);
        }
        if (fam < 0) {
            tide_homenet_free(h);
            return tide_error_set(
                    TIDE_EINVAL, "home networks: bad prefix length in \"%.*s\"", (int)len, s);
        }
        c.family = fam;
        tide__ip_mask(c.family, c.addr, c.plen);
        if (c.family == 4) {
            c.mask4 = c.plen ? 0xFFFFFFFFu << (32 - c.plen) : 0;
            c.net4 = ((uint32_t)c.addr[0] << 24 | (uint32_t)c.addr[1] << 16 |
                             (uint32_t)c.addr[2] << 8 | c.addr[3]) &
                     c.mask4;
        }
        if (h->n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            cidr *nv = tide__realloc(h->c, nc * sizeof(*nv));
            if (nv == NULL) {
                tide_homenet_free(h);
                return tide_error_set(TIDE_ENOMEM, "out of memory");
            }
            h->c = nv;
            cap = nc;
        }
        h->c[h->n++] = c;
        s = e;
    }
    if (h->n == 0) {
        tide_homenet_free(h);
        return tide_error_set(TIDE_EINVAL, "home networks: empty list");
    }
    h->net4 = tide__calloc(h->n, sizeof(uint32_t));
    h->mask4 = tide__calloc(h->n, sizeof(uint32_t));
    if (h->net4 == NULL || h->mask4 == NULL) {
        tide_homenet_free(h);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < h->n; i++)
        if (h->c[i].family == 4) {
            h->net4[h->n4] = h->c[i].net4;
            h->mask4[h->n4++] = h->c[i].mask4;
        }
    for (unsigned t = 0; t < 256; t++) {
        uint32_t lo = (uint32_t)t << 24;
        uint8_t st = 0;
        for (size_t i = 0; i < h->n4 && st != 1; i++) {
            uint32_t m = h->mask4[i], net = h->net4[i];
            if ((m & 0xFF000000u) != 0xFF000000u) /* /7 or shorter: whole /8s */
                st = (lo & m) == net ? 1 : st;
            else if ((lo & 0xFF000000u) == (net & 0xFF000000u))
                st = (m == 0xFF000000u) ? 1 : 2;
        }
        h->top8[t] = st;
    }
    *out = h;
    return 0;
}

bool tide__homenet_contains_addr_slow(const tide_homenet *h, int fam, const uint8_t a[16])
{
    if (h == NULL)
        return false;
    if (fam == 4) {
        unsigned t = h->top8[a[0]];
        if (t < 2)
            return t != 0;
        uint32_t v = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
        unsigned hit = 0;
        for (size_t i = 0; i < h->n4; i++)
            hit |= (v & h->mask4[i]) == h->net4[i];
        return hit != 0;
    }
    for (size_t i = 0; i < h->n; i++) {
        const cidr *c = &h->c[i];
        if (c->family != fam)
            continue;
        unsigned full = c->plen / 8, rem = c->plen % 8;
        if (memcmp(a, c->addr, full) != 0)
            continue;
        if (rem && ((a[full] & (uint8_t)(0xFF << (8 - rem))) != c->addr[full]))
            continue;
        return true;
    }
    return false;
}

bool tide_homenet_contains(const tide_homenet *h, const char *ip, size_t n)
{
    if (h == NULL || ip == NULL)
        return false;
    uint8_t a[16];
    int fam = tide__ip_parse(ip, n, 0, a);
    if (fam == 0)
        return false;
    return tide__homenet_contains_addr(h, fam, a);
}

void tide_homenet_free(tide_homenet *h)
{
    if (h == NULL)
        return;
    tide__free(h->c);
    tide__free(h->net4);
    tide__free(h->mask4);
    tide__free(h);
}

/* ------------------------------------------------------------------ field map */

void tide_field_map_free(tide_field_map *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n; i++) {
        tide__free(m->e[i].key);
        tide__free(m->e[i].path);
    }
    tide__free(m->e);
    tide__free(m);
}

static char *trim_n(const char *s, size_t *n)
{
    while (*n && (*s == ' ' || *s == '\t'))
        s++, (*n)--;
    while (*n && (s[*n - 1] == ' ' || s[*n - 1] == '\t' || s[*n - 1] == '\r'))
        (*n)--;
    return (char *)s;
}

static int add_entry(tide_field_map *m, const char *s, size_t n, const char *where)
{
    s = trim_n(s, &n);
    if (n == 0)
        return 0;
    const char *eq = memchr(s, '=', n);
    if (eq == NULL)
        return tide_error_set(TIDE_EPARSE,
                "field map%s: entry \"%.*s\" has no '=' (want kind=path)", where, (int)n, s);
    size_t kl = (size_t)(eq - s), pl = n - kl - 1;
    const char *k = trim_n(s, &kl), *p = trim_n(eq + 1, &pl);
    if (kl == 0 || pl == 0 || kl > 64 || pl > 200)
        return tide_error_set(TIDE_EPARSE,
                "field map%s: entry \"%.*s\" has an empty or too long "
                "key or path",
                where, (int)n, s);
    for (size_t i = 0; i < pl; i++)
        if (p[i] == ',' || p[i] == '=' || p[i] == ' ' || p[i] == '"' ||
                (i > 0 && p[i] == '.' && p[i - 1] == '.') || p[0] == '.' || p[pl - 1] == '.')
            return tide_error_set(TIDE_EPARSE, "field map%s: bad path \"%.*s\"", where, (int)pl, p);
    tide__fm_entry e;
    memset(&e, 0, sizeof(e));
    char key[80];
    memcpy(key, k, kl);
    key[kl] = '\0';
    static const struct {
        const char *name;
        int role;
    } roles[] = { { "ip", TIDE__FM_IP }, { "ts", TIDE__FM_TS }, { "time", TIDE__FM_TS },
        { "host", TIDE__FM_HOST }, { "src", TIDE__FM_SRC }, { "dst", TIDE__FM_DST },
        { "user", TIDE__FM_USER }, { "kind", TIDE__FM_KIND } };
    e.role = -1;
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
        if (strcmp(roles[i].name, key) == 0)
            e.role = roles[i].role;
    if (e.role < 0) {
        const char *kn =
                strcmp(key, "ip-port") == 0 || strcmp(key, "ip_port") == 0 ? "ip-port" : key;
        if (strcmp(kn, "x509_sha1") == 0)
            kn = "x509-sha1";
        e.kind = tide_obs_kind_from_name(kn);
        switch (e.kind) {
            case TIDE_OBS_IPV4:
            case TIDE_OBS_IPV6:
            case TIDE_OBS_IP_PORT:
            case TIDE_OBS_DOMAIN:
            case TIDE_OBS_URL:
            case TIDE_OBS_MD5:
            case TIDE_OBS_SHA1:
            case TIDE_OBS_SHA256:
            case TIDE_OBS_SHA512:
            case TIDE_OBS_EMAIL:
            case TIDE_OBS_JA3:
            case TIDE_OBS_X509_SHA1: e.role = TIDE__FM_OBS; break;
            default:
                return tide_error_set(TIDE_EPARSE,
                        "field map%s: unknown key \"%s\" (want an "
                        "observable kind such as ipv4, domain, url, sha256, or ip, ts, host, src, "
                        "dst, "
                        "user, kind)",
                        where, key);
        }
    }
    if (m->n >= 200)
        return tide_error_set(TIDE_ETOOBIG, "field map%s: more than 200 entries", where);
    e.key = tide__strndup(k, kl);
    e.path = tide__strndup(p, pl);
    if (!e.key || !e.path) {
        tide__free(e.key);
        tide__free(e.path);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    if (m->n == m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 8;
        tide__fm_entry *nv = tide__realloc(m->e, nc * sizeof(*nv));
        if (nv == NULL) {
            tide__free(e.key);
            tide__free(e.path);
            return tide_error_set(TIDE_ENOMEM, "out of memory");
        }
        m->e = nv;
        m->cap = nc;
    }
    m->e[m->n++] = e;
    return 0;
}

int tide_field_map_parse(tide_field_map **out, const char *spec)
{
    *out = NULL;
    if (spec == NULL)
        return tide_error_set(TIDE_EINVAL, "field map: NULL spec");
    tide_field_map *m = tide__calloc(1, sizeof(*m));
    TIDE_CHECK_ALLOC(m);
    const char *s = spec;
    for (;;) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        int rc = add_entry(m, s, n, "");
        if (rc < 0) {
            tide_field_map_free(m);
            return rc;
        }
        if (e == NULL)
            break;
        s = e + 1;
    }
    if (m->n == 0) {
        tide_field_map_free(m);
        return tide_error_set(TIDE_EPARSE, "field map: no entries");
    }
    *out = m;
    return 0;
}

int tide_field_map_load(tide_field_map **out, const char *path)
{
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return tide_error_set(TIDE_EIO, "%s: cannot open: %s", path, strerror(errno));
    tide_field_map *m = tide__calloc(1, sizeof(*m));
    if (m == NULL) {
        fclose(f);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    char line[1024];
    unsigned long ln = 0;
    int rc = 0;
    while (fgets(line, sizeof(line), f)) {
        ln++;
        size_t n = strlen(line);
        if (n == sizeof(line) - 1 && line[n - 1] != '\n') {
            rc = tide_error_set(TIDE_ETOOBIG, "%s: line %lu: too long", path, ln);
            break;
        }
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '#' || *s == '\0')
            continue;
        char where[600];
        snprintf(where, sizeof(where), " %s: line %lu", path, ln);
        rc = add_entry(m, s, strlen(s), where);
        if (rc < 0)
            break;
    }
    fclose(f);
    if (rc == 0 && m->n == 0)
        rc = tide_error_set(TIDE_EPARSE, "%s: field map has no entries", path);
    if (rc < 0) {
        tide_field_map_free(m);
        return rc;
    }
    *out = m;
    return 0;
}
