/*
 * tel_obs.c - the helpers every format's parse function shares (SPEC C2): the observation list
 * and the per-record scratch of a tide_tel_parser, addresses parsed once per record (kept for the
 * home-net check), ip:port composed in the scratch, host names classified 16 bytes at a time (IP
 * literal, host:port, domain syntax), URLs and their hosts, and the choice of the event host.
 *
 * Contract: called by the parse functions with the parser they were given; values added to the
 * observation list point into the record (the reader's line buffer or the parser's record copy)
 * or into the scratch, both of which have TIDE__TEL_BUF_SLACK readable bytes past their data (the
 * 16-byte loads here rely on it). Nothing here allocates except the observation list growing.
 *
 * Why hand-written: these run for almost every field of every record; dotted quads are parsed in
 * registers (util/ipaddr.h) and host names classified 16 bytes at a time, which is what lets the
 * readers keep up with the matcher.
 */
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "telemetry/tel_int.h"
#include "tide/errors.h"

const unsigned char tide__hex_tab[256] = { ['0'] = 1,
    ['1'] = 1,
    ['2'] = 1,
    ['3'] = 1,
    ['4'] = 1,
    ['5'] = 1,
    ['6'] = 1,
    ['7'] = 1,
    ['8'] = 1,
    ['9'] = 1,
    ['a'] = 1,
    ['b'] = 1,
    ['c'] = 1,
    ['d'] = 1,
    ['e'] = 1,
    ['f'] = 1,
    ['A'] = 1,
    ['B'] = 1,
    ['C'] = 1,
    ['D'] = 1,
    ['E'] = 1,
    ['F'] = 1 };

#ifdef __SSE2__
/* lo:hi as one vector, without a trip through memory where the ISA allows */
static inline __m128i pack2x64(uint64_t lo, uint64_t hi)
{
#ifdef __x86_64__
    return _mm_unpacklo_epi64(_mm_cvtsi64_si128((long long)lo), _mm_cvtsi64_si128((long long)hi));
#else
    return _mm_set_epi64x((long long)hi, (long long)lo);
#endif
}
#endif

int tide__tel_obs_grow(tide_tel_parser *r)
{
    if (r->nobs - r->obs0 >= 65536)
        return 0; /* cap per record: drop the rest */
    size_t nc = r->obs_cap ? r->obs_cap * 2 : 32;
    tide_observation *o = tide__realloc(r->obs, nc * sizeof(*o));
    if (o == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    r->obs = o;
    r->obs_cap = nc;
    return 1;
}

char *tide__tel_scratch(tide_tel_parser *r, size_t n)
{
    if (n > r->scr_cap - r->scr_len)
        return NULL;
    char *p = r->scr + r->scr_len;
    r->scr_len += n;
    return p;
}

/* Parse an address, remembering it for the home-net check of this record. */
__attribute__((always_inline)) static inline int parse_ip_cached(
        tide_tel_parser *r, const char *p, size_t n, uint8_t **addr)
{
    for (unsigned i = 0; i < r->nipc; i++)
        if (r->ipc[i].p == p && r->ipc[i].n == n) {
            *addr = r->ipc[i].a;
            return r->ipc[i].fam;
        }
    unsigned slot = r->nipc < 4 ? r->nipc++ : 3;
    int fam = 4;
    if (!tide__ip4_parse_slack(p, n, r->ipc[slot].a))
        fam = tide__ip6_parse(p, n, 0, r->ipc[slot].a) ? 6 : 0;
    r->ipc[slot].p = p;
    r->ipc[slot].n = n;
    r->ipc[slot].fam = fam;
    *addr = r->ipc[slot].a;
    return fam;
}

tide_obs_kind tide__tel_obs_ip(tide_tel_parser *r, const char *p, size_t n, const char *field)
{
    uint8_t *a;
    int fam = parse_ip_cached(r, p, n, &a);
    if (fam == 0)
        return TIDE_OBS_NONE;
    tide_obs_kind k = fam == 4 ? TIDE_OBS_IPV4 : TIDE_OBS_IPV6;
    size_t before = r->nobs;
    tide__tel_obs(r, k, p, n, field);
    if (r->nobs > before) {
        tide_observation *o = &r->obs[r->nobs - 1];
        if (fam == 4) {
            o->addr_len = 4;
            memcpy(o->addr, a, 4);
        } else {
            o->addr_len = 16;
            memcpy(o->addr, a, 16);
        }
    }
    return k;
}

bool tide__tel_is_home(tide_tel_parser *r, const char *p, size_t n)
{
    if (r->home == NULL || p == NULL)
        return false;
    uint8_t *a;
    int fam = parse_ip_cached(r, p, n, &a);
    return fam && tide__homenet_contains_addr(r->home, fam, a);
}

/* memcpy for the few bytes of an address or a port without a library call: two overlapping
 * fixed-size moves inside [s, s+n) */
static inline void copy_short(char *d, const char *s, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t a = tide__ld64(s), b = tide__ld64(s + n - 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4 && n < 8) {
        uint32_t a = tide__ld32(s), b = tide__ld32(s + n - 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else if (n < 4) {
        for (size_t i = 0; i < n; i++)
            d[i] = s[i];
    } else
        memcpy(d, s, n);
}

/* The ip:port observation of an address parsed already (fam 4 or 6, a). */
static inline void ipport_obs(tide_tel_parser *r, int fam, const uint8_t *a, const char *ip,
        size_t in, const char *port, size_t pn, const char *field)
{
    tide_obs_kind k = fam == 4 ? TIDE_OBS_IPV4 : TIDE_OBS_IPV6;
    unsigned pv = 0;
    for (size_t i = 0; i < pn; i++) {
        unsigned dg = (unsigned)(unsigned char)port[i] - '0';
        if (dg > 9)
            return;
        pv = pv * 10 + dg;
    }
    char *d = tide__tel_scratch(r, in + pn + 3);
    if (d == NULL)
        return;
    size_t o = 0;
#ifdef __SSE2__
    if (k == TIDE_OBS_IPV4) {
        /* the text is in the line buffer or the scratch and d in the scratch, all with
         * TIDE__TEL_BUF_SLACK bytes past their data: the address (7..15 bytes) and the port
         * (1..5) are moved as one 16- and one 8-byte word, the bytes past them overwritten next
         * or left in unused scratch */
        _mm_storeu_si128((__m128i *)(void *)d, _mm_loadu_si128((const __m128i *)(const void *)ip));
        d[in] = ':';
        uint64_t pw = tide__ld64(port);
        memcpy(d + in + 1, &pw, 8);
        o = in + 1 + pn;
    } else
#endif
    {
        if (k == TIDE_OBS_IPV6)
            d[o++] = '[';
        copy_short(d + o, ip, in);
        o += in;
        if (k == TIDE_OBS_IPV6)
            d[o++] = ']';
        d[o++] = ':';
        copy_short(d + o, port, pn);
        o += pn;
    }
    size_t before = r->nobs;
    tide__tel_obs(r, TIDE_OBS_IP_PORT, d, o, field);
    if (k == TIDE_OBS_IPV4 && pv <= 65535 && r->nobs > before) {
        /* the matcher's key (address, big-endian port) without parsing the text again */
        tide_observation *ob = &r->obs[r->nobs - 1];
        ob->addr_len = 6;
        memcpy(ob->addr, a, 4);
        ob->addr[4] = (uint8_t)(pv >> 8);
        ob->addr[5] = (uint8_t)pv;
    }
}

void tide__tel_obs_ipport(tide_tel_parser *r, const char *ip, size_t in, const char *port,
        size_t pn, const char *field)
{
    if (pn == 0 || pn > 5)
        return;
    uint8_t *a;
    int fam = parse_ip_cached(r, ip, in, &a);
    if (fam == 0)
        return;
    ipport_obs(r, fam, a, ip, in, port, pn, field);
}

/* The IP observation of an address parsed already (fam 4 or 6, a). */
static inline void ip_obs(
        tide_tel_parser *r, int fam, const uint8_t *a, const char *p, size_t n, const char *field)
{
    size_t before = r->nobs;
    tide__tel_obs(r, fam == 4 ? TIDE_OBS_IPV4 : TIDE_OBS_IPV6, p, n, field);
    if (r->nobs > before) {
        tide_observation *o = &r->obs[r->nobs - 1];
        if (fam == 4) {
            o->addr_len = 4;
            memcpy(o->addr, a, 4);
        } else {
            o->addr_len = 16;
            memcpy(o->addr, a, 16);
        }
    }
}

/* An address parsed without the record's cache: 4, 6 or 0 (not an address). */
static inline int parse_ip_once(const char *p, size_t n, uint8_t a[16])
{
    if (tide__ip4_parse_slack(p, n, a))
        return 4;
    return tide__ip6_parse(p, n, 0, a) ? 6 : 0;
}

void tide__tel_obs_conn(tide_tel_parser *r, tide__sv src, const char *sfield, tide__sv dst,
        const char *dfield, tide__sv port, const char *pfield, tide_event *ev)
{
    uint8_t sa[16], da[16];
    int sfam = 0, dfam = 0;
    if (src.n && (sfam = parse_ip_once(src.p, src.n, sa)) != 0)
        ip_obs(r, sfam, sa, src.p, src.n, sfield);
    if (dst.n && (dfam = parse_ip_once(dst.p, dst.n, da)) != 0) {
        ip_obs(r, dfam, da, dst.p, dst.n, dfield);
        if (port.n && port.n <= 5)
            ipport_obs(r, dfam, da, dst.p, dst.n, port.p, port.n, pfield);
    }
    if (ev == NULL)
        return;
    /* tide__tel_pick_host on the addresses parsed above */
    const tide_homenet *h = r->home;
    if (sfam && h && tide__homenet_contains_addr(h, sfam, sa)) {
        ev->host = src.p;
        ev->host_len = src.n;
    } else if (dfam && h && tide__homenet_contains_addr(h, dfam, da)) {
        ev->host = dst.p;
        ev->host_len = dst.n;
    } else if (src.n) {
        ev->host = src.p;
        ev->host_len = src.n;
    }
}

/* character classes of host names */
enum {
    HC_DIG = 1,
    HC_DOT = 2,
    HC_DOM = 4,
    HC_BAD = 8
};
static const unsigned char host_cls[256] = {
#define R4(x)  x, x, x, x
#define R16(x) R4(x), R4(x), R4(x), R4(x)
    R16(HC_BAD), R16(HC_BAD),                                               /* 0x00-0x1f */
    HC_BAD, HC_BAD, HC_BAD, HC_BAD, HC_BAD, HC_BAD, HC_BAD, HC_BAD,         /* sp ! " # $ % & ' */
    HC_BAD, HC_BAD, HC_BAD, HC_BAD, HC_BAD, HC_DOM, HC_DOT, HC_BAD,         /* ( ) * + , - . / */
    HC_DIG, HC_DIG, HC_DIG, HC_DIG, HC_DIG, HC_DIG, HC_DIG, HC_DIG,         /* 0-7 */
    HC_DIG, HC_DIG, HC_BAD, HC_BAD, HC_BAD, HC_BAD, HC_BAD, HC_BAD,         /* 8 9 : ; < = > ? */
    HC_BAD, R4(HC_DOM), HC_DOM, HC_DOM, HC_DOM,                             /* @ A-G */
    R4(HC_DOM), R4(HC_DOM), R4(HC_DOM), R4(HC_DOM), HC_DOM, HC_DOM, HC_DOM, /* H-Z */
    HC_BAD, HC_BAD, HC_BAD, HC_BAD, HC_DOM,                                 /* [ \ ] ^ _ */
    HC_BAD, R4(HC_DOM), HC_DOM, HC_DOM, HC_DOM,                             /* ` a-g */
    R4(HC_DOM), R4(HC_DOM), R4(HC_DOM), R4(HC_DOM), HC_DOM, HC_DOM, HC_DOM, /* h-z */
    HC_BAD, HC_BAD, HC_BAD, HC_BAD, HC_BAD,                                 /* { | } ~ del */
    R16(HC_DOM), R16(HC_DOM), R16(HC_DOM), R16(HC_DOM), R16(HC_DOM), R16(HC_DOM), R16(HC_DOM),
    R16(HC_DOM) /* 0x80-0xff */
#undef R16
#undef R4
};

/* labels of letters, digits, '-', '_' or non-ASCII, 1-63 long, 253 at most, at least one dot
 * (the caller has checked the characters) */
static bool domain_ok(const char *p, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    size_t lab = 0;
    bool dot = false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '.') {
            if (lab == 0)
                return false;
            lab = 0;
            dot = true;
        } else if (++lab > 63)
            return false;
    }
    return lab > 0 && dot;
}

#ifdef __SSE2__
/* Host name classes of 16 bytes: ':' , '.', digits, and every byte a name may hold (letters,
 * digits, '-', '_', '.', non-ASCII) */
typedef struct {
    uint32_t colon, dot, dig, ok;
} host_bits;

static inline host_bits host_masks(__m128i x)
{
    host_bits b;
    __m128i d = _mm_sub_epi8(x, _mm_set1_epi8('0'));
    __m128i isdig = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);
    __m128i l = _mm_sub_epi8(_mm_or_si128(x, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));
    __m128i islet = _mm_cmpeq_epi8(_mm_min_epu8(l, _mm_set1_epi8(25)), l);
    __m128i isdot = _mm_cmpeq_epi8(x, _mm_set1_epi8('.'));
    __m128i other = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('-')),
                                         _mm_cmpeq_epi8(x, _mm_set1_epi8('_'))),
            _mm_cmplt_epi8(x, _mm_setzero_si128()));
    b.colon = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(':')));
    b.dot = (uint32_t)_mm_movemask_epi8(isdot);
    b.dig = (uint32_t)_mm_movemask_epi8(isdig);
    b.ok = (uint32_t)_mm_movemask_epi8(
            _mm_or_si128(_mm_or_si128(isdig, islet), _mm_or_si128(isdot, other)));
    return b;
}

/* tide__tel_obs_hostname for 8..32 bytes: the classes of all bytes at once */
static void obs_hostname_short(tide_tel_parser *r, const char *p, size_t n, const char *field)
{
    host_bits b;
    if (n >= 16) { /* two blocks, the second ending at n (overlapping) */
        host_bits a = host_masks(_mm_loadu_si128((const __m128i *)(const void *)p));
        host_bits c = host_masks(_mm_loadu_si128((const __m128i *)(const void *)(p + n - 16)));
        unsigned sh = (unsigned)n - 16;
        b.colon = a.colon | c.colon << sh;
        b.dot = a.dot | c.dot << sh;
        b.dig = a.dig | c.dig << sh;
        b.ok = a.ok | c.ok << sh;
    } else { /* 8..15 bytes from two loads inside the text */
        uint64_t lo = tide__ld64(p), hi = (tide__ld64(p + n - 8) >> 8) >> ((15 - n) * 8);
        b = host_masks(pack2x64(lo, hi));
    }
    uint32_t valid = n >= 32 ? ~0u : (1u << n) - 1;
    uint32_t colon = b.colon & valid;
    size_t m = n;
    if (colon) {
        if (colon & (colon - 1)) { /* two colons: an IPv6 address or nothing */
            tide__tel_obs_ip(r, p, n, field);
            return;
        }
        m = (size_t)__builtin_ctz(colon); /* host:port */
    }
    uint32_t pre = m >= 32 ? ~0u : (1u << m) - 1;
    if (!(~(b.dig | b.dot) & pre) && tide__tel_obs_ip(r, p, m, field) != TIDE_OBS_NONE)
        return;
    if (~b.ok & pre)
        return;
    if (m > 0 && p[m - 1] == '.')
        m--;
    if (m == 0)
        return;
    /* a domain: a dot, no empty label (m <= 32: no label can be over 63) */
    uint32_t dot = b.dot & (m >= 32 ? ~0u : (1u << m) - 1);
    if (dot == 0 || (dot & 1) || (dot >> (m - 1)) || (dot & (dot >> 1)))
        return;
    tide__tel_obs(r, TIDE_OBS_DOMAIN, p, m, field);
}
#endif

void tide__tel_obs_hostname(tide_tel_parser *r, const char *p, size_t n, const char *field)
{
    if (n == 0)
        return;
    if (p[0] == '[') { /* [v6] or [v6]:port */
        const char *e = memchr(p, ']', n);
        if (e)
            tide__tel_obs_ip(r, p + 1, (size_t)(e - p - 1), field);
        return;
    }
#ifdef __SSE2__
    if (n >= 8 && n <= 32) {
        obs_hostname_short(r, p, n, field);
        return;
    }
#endif
    /* one pass up to the first ':' collecting the character classes */
    const unsigned char *u = (const unsigned char *)p;
    unsigned acc = 0;
    size_t i = 0;
    while (i < n && u[i] != ':')
        acc |= host_cls[u[i++]];
    if (i < n) {
        if (memchr(p + i + 1, ':', n - i - 1)) { /* two colons: an IPv6 address or nothing */
            tide__tel_obs_ip(r, p, n, field);
            return;
        }
        n = i; /* host:port */
    }
    if (!(acc & ~(unsigned)(HC_DIG | HC_DOT)) && tide__tel_obs_ip(r, p, n, field) != TIDE_OBS_NONE)
        return;
    if (acc & HC_BAD)
        return;
    if (n > 0 && p[n - 1] == '.')
        n--;
    if (domain_ok(p, n))
        tide__tel_obs(r, TIDE_OBS_DOMAIN, p, n, field);
}

void tide__tel_obs_url(
        tide_tel_parser *r, const char *p, size_t n, const char *field, const char *host_field)
{
    const char *s = NULL;
    for (size_t i = 0; i + 2 < n && i < 16; i++)
        if (p[i] == ':' && p[i + 1] == '/' && p[i + 2] == '/') {
            s = p + i + 3;
            break;
        }
    if (s == NULL)
        return;
    tide__tel_obs(r, TIDE_OBS_URL, p, n, field);
    if (host_field == NULL)
        return;
    /* the authority: up to '/', '?' or '#'; user info before the last '@' dropped (16 bytes at
     * a time while they are inside the URL, then byte by byte) */
    size_t rest = n - (size_t)(s - p), h = 0;
    const char *at = NULL;
#ifdef __SSE2__
    while (h + 16 <= rest) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + h));
        unsigned t = (unsigned)_mm_movemask_epi8(
                _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('/')),
                                     _mm_cmpeq_epi8(x, _mm_set1_epi8('?'))),
                        _mm_cmpeq_epi8(x, _mm_set1_epi8('#'))));
        unsigned a = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('@')));
        if (t) {
            unsigned k = (unsigned)__builtin_ctz(t);
            a &= (1u << k) - 1;
            if (a)
                at = s + h + (31 - __builtin_clz(a));
            h += k;
            goto authority;
        }
        if (a)
            at = s + h + (31 - __builtin_clz(a));
        h += 16;
    }
#endif
    while (h < rest && s[h] != '/' && s[h] != '?' && s[h] != '#') {
        if (s[h] == '@')
            at = s + h;
        h++;
    }
#ifdef __SSE2__
authority:
#endif
    if (at) {
        h -= (size_t)(at + 1 - s);
        s = at + 1;
    }
    tide__tel_obs_hostname(r, s, h, host_field);
}

void tide__tel_pick_host(tide_tel_parser *r, tide__sv src, tide__sv dst, tide_event *ev)
{
    if (src.n && tide__tel_is_home(r, src.p, src.n)) {
        ev->host = src.p;
        ev->host_len = src.n;
    } else if (dst.n && tide__tel_is_home(r, dst.p, dst.n)) {
        ev->host = dst.p;
        ev->host_len = dst.n;
    } else if (src.n) {
        ev->host = src.p;
        ev->host_len = src.n;
    }
}
