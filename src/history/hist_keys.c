/*
 * hist_keys.c - sort keys of the history (see hist_int.h): observed values become byte keys
 * ordered so that every indicator's possible matches form one or two key ranges (CIDR =
 * address range, parent domain = prefix of the label-reversed name, URL path = prefix of the
 * byte-reversed URL). The value encoding itself is the match index's (tide__ix_encode, from
 * match/keys.h, the one part of the match layer the history needs), so that history and live
 * matching see the same values; hunt.c confirms each candidate with tide_match_lookup, so
 * these ranges only need to be a superset.
 */
#include <stdio.h>
#include <string.h>

#include "history/hist_int.h"
#include "match/keys.h"
#include "util/ipaddr.h"

int tide__hist_keycmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c;
    return an < bn ? -1 : an > bn ? 1 : 0;
}

/* "www.evil.com" <-> "com.evil.www" (its own inverse) */
static void reverse_labels(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t o = 0, end = n;
    for (;;) {
        size_t start = end;
        while (start > 0 && in[start - 1] != '.')
            start--;
        memcpy(out + o, in + start, end - start);
        o += end - start;
        if (start == 0)
            break;
        out[o++] = '.';
        end = start - 1;
    }
}

static void reverse_bytes(const uint8_t *in, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = in[n - 1 - i];
}

int tide__hist_key(tide_obs_kind kind, const char *v, size_t n, uint8_t *out)
{
    uint8_t tmp[IX_MAX_KEY];
    tide_obs_kind k;
    if (kind == TIDE_OBS_NONE || kind >= TIDE_OBS__COUNT || kind == TIDE_OBS_CIDR4 ||
            kind == TIDE_OBS_CIDR6)
        return -1;
    int len = tide__ix_encode(kind, v, n, tmp, &k);
    if (len <= 0 || len > IX_MAX_KEY)
        return -1;
    out[0] = (uint8_t)k;
    if (k == TIDE_OBS_DOMAIN)
        reverse_labels(tmp, (size_t)len, out + 1);
    else if (k == TIDE_OBS_URL || k == TIDE_OBS_URL_PATH)
        reverse_bytes(tmp, (size_t)len, out + 1); /* URL-path ranges are prefixes of it */
    else
        memcpy(out + 1, tmp, (size_t)len);
    return len + 1;
}

static int hex_text(const uint8_t *b, size_t n, char *out)
{
    static const char dig[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = dig[b[i] >> 4];
        out[2 * i + 1] = dig[b[i] & 15];
    }
    out[2 * n] = '\0';
    return (int)(2 * n);
}

int tide__hist_key_text(const uint8_t *key, size_t n, char *buf, tide_obs_kind *out_kind)
{
    if (n < 2 || n > HIST_MAX_KEY)
        return -1;
    tide_obs_kind k = (tide_obs_kind)key[0];
    const uint8_t *v = key + 1;
    size_t len = n - 1;
    *out_kind = k;
    switch (k) {
        case TIDE_OBS_IPV4:
        case TIDE_OBS_IPV6:
            if (len != (k == TIDE_OBS_IPV4 ? 4u : 16u))
                return -1;
            return (int)tide__ip_format(k == TIDE_OBS_IPV4 ? 4 : 6, v, buf);
        case TIDE_OBS_IP_PORT:
            if (len != 6 && len != 18)
                return -1;
            return (int)tide__ipport_format(
                    len == 6 ? 4 : 6, v, (unsigned)v[len - 2] << 8 | v[len - 1], buf);
        case TIDE_OBS_DOMAIN:
            reverse_labels(v, len, (uint8_t *)buf);
            buf[len] = '\0';
            return (int)len;
        case TIDE_OBS_URL:
            reverse_bytes(v, len, (uint8_t *)buf);
            buf[len] = '\0';
            return (int)len;
        case TIDE_OBS_MD5:
        case TIDE_OBS_JA3: return len == 16 ? hex_text(v, len, buf) : -1;
        case TIDE_OBS_SHA1:
        case TIDE_OBS_X509_SHA1: return len == 20 ? hex_text(v, len, buf) : -1;
        case TIDE_OBS_SHA256: return len == 32 ? hex_text(v, len, buf) : -1;
        case TIDE_OBS_SHA512: return len == 64 ? hex_text(v, len, buf) : -1;
        case TIDE_OBS_URL_PATH: /* a request target without its host, reversed as URLs are */
            reverse_bytes(v, len, (uint8_t *)buf);
            buf[len] = '\0';
            return (int)len;
        case TIDE_OBS_EMAIL:
            memcpy(buf, v, len);
            buf[len] = '\0';
            return (int)len;
        default: return -1;
    }
}

/* [k, k || 0x00): exactly k */
static int exact(hist_range *r, const uint8_t *k, size_t n)
{
    memcpy(r->lo, k, n);
    r->lo_len = n;
    memcpy(r->hi, k, n);
    r->hi[n] = 0;
    r->hi_len = n + 1;
    return 1;
}

/* every key starting with p */
static int prefix(hist_range *r, const uint8_t *p, size_t n)
{
    memcpy(r->lo, p, n);
    r->lo_len = n;
    size_t m = n;
    memcpy(r->hi, p, n);
    while (m > 0 && r->hi[m - 1] == 0xFF)
        m--;
    if (m == 0) {
        r->hi_len = 0;
        return 1;
    }
    r->hi[m - 1]++;
    r->hi_len = m;
    return 1;
}

static int cidr(hist_range *r, tide_obs_kind ak, const char *value)
{
    uint8_t net[16];
    unsigned plen;
    if (tide__cidr_parse(value, strlen(value), TIDE__IP_NEED_PREFIX, net, &plen) !=
            (ak == TIDE_OBS_IPV4 ? 4 : 6))
        return 0;
    size_t nb = ak == TIDE_OBS_IPV4 ? 4 : 16;
    uint8_t lo[17], hi[17];
    lo[0] = hi[0] = (uint8_t)ak;
    for (size_t i = 0; i < nb; i++) {
        long bits = (long)plen - (long)(i * 8); /* network bits in this byte */
        uint8_t mask = bits >= 8 ? 0xFF : bits <= 0 ? 0 : (uint8_t)(0xFF << (8 - bits));
        lo[1 + i] = net[i] & mask;
        hi[1 + i] = (uint8_t)(net[i] | (uint8_t)~mask);
    }
    memcpy(r->lo, lo, nb + 1);
    r->lo_len = nb + 1;
    memcpy(r->hi, hi, nb + 1);
    r->hi[nb + 1] = 0;
    r->hi_len = nb + 2;
    return 1;
}

int tide__hist_ranges(tide_obs_kind kind, const char *value, hist_range out[2])
{
    uint8_t k[HIST_MAX_KEY];
    size_t n = strlen(value);
    switch (kind) {
        case TIDE_OBS_CIDR4: return cidr(&out[0], TIDE_OBS_IPV4, value);
        case TIDE_OBS_CIDR6: return cidr(&out[0], TIDE_OBS_IPV6, value);
        case TIDE_OBS_DOMAIN: {
            int len = tide__hist_key(kind, value, n, k);
            if (len < 0 || (size_t)len + 1 >= HIST_MAX_KEY)
                return 0;
            /* the name and its subdomains: [rev, rev + '/'), '/' being '.' + 1 */
            memcpy(out[0].lo, k, (size_t)len);
            out[0].lo_len = (size_t)len;
            memcpy(out[0].hi, k, (size_t)len);
            out[0].hi[len] = '/';
            out[0].hi_len = (size_t)len + 1;
            return 1;
        }
        case TIDE_OBS_URL_PATH: {
            if (n == 0 || n + 1 >= HIST_MAX_KEY)
                return 0;
            /* the URLs ending with it, and the request targets (no host) ending with it */
            k[0] = TIDE_OBS_URL;
            reverse_bytes((const uint8_t *)value, n, k + 1);
            prefix(&out[0], k, n + 1);
            k[0] = TIDE_OBS_URL_PATH;
            return 1 + prefix(&out[1], k, n + 1);
        }
        default: {
            int len = tide__hist_key(kind, value, n, k);
            if (len < 0 || (size_t)len + 1 >= HIST_MAX_KEY)
                return 0;
            return exact(&out[0], k, (size_t)len);
        }
    }
}
