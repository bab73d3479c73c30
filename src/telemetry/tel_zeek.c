/*
 * tel_zeek.c - Zeek TSV logs: the #separator / #set_separator / #empty_field / #unset_field /
 * #path / #fields headers (a new header mid-file resets the columns), and the known columns of
 * any log (id.orig_h, id.resp_h, query, answers, host, uri, server_name, hashes, tx/rx hosts,
 * ja3, x509 fingerprint, smtp addresses, user names) turned into observations in place. Column
 * roles are resolved once per #fields; the separators of a record are found 64 bytes at a time,
 * the offsets taken up to the last role column and the rest only counted.
 */
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "telemetry/tel_int.h"
#include "tide/errors.h"

static const struct {
    const char *name;
    uint8_t role;
} known[] = { { "ts", ZC_TS }, { "id.orig_h", ZC_ORIG_H }, { "id.orig_p", ZC_ORIG_P },
    { "id.resp_h", ZC_RESP_H }, { "id.resp_p", ZC_RESP_P }, { "query", ZC_QUERY },
    { "answers", ZC_ANSWERS }, { "host", ZC_HOST }, { "uri", ZC_URI }, { "referrer", ZC_REFERRER },
    { "server_name", ZC_SERVER_NAME }, { "md5", ZC_MD5 }, { "sha1", ZC_SHA1 },
    { "sha256", ZC_SHA256 }, { "tx_hosts", ZC_TX_HOSTS }, { "rx_hosts", ZC_RX_HOSTS },
    { "ja3", ZC_JA3 }, { "ja3s", ZC_JA3S }, { "fingerprint", ZC_X509_FP },
    { "certificate.fingerprint", ZC_X509_FP }, { "mailfrom", ZC_EMAIL }, { "from", ZC_EMAIL },
    { "reply_to", ZC_EMAIL }, { "rcptto", ZC_EMAIL_SET }, { "to", ZC_EMAIL_SET },
    { "cc", ZC_EMAIL_SET }, { "username", ZC_USER }, { "user", ZC_USER }, { NULL, 0 } };

static int set_str(char **dst, const char *p, size_t n)
{
    char *s = tide__strndup(p, n);
    TIDE_CHECK_ALLOC(s);
    tide__free(*dst);
    *dst = s;
    return 0;
}

/* "\x09" -> tab; a single character as is */
static char sep_value(const char *p, size_t n)
{
    if (n == 4 && p[0] == '\\' && p[1] == 'x') {
        int v = 0;
        for (int i = 2; i < 4; i++) {
            char c = p[i];
            v = v * 16 + (c >= '0' && c <= '9' ? c - '0' : ((c | 32) - 'a' + 10));
        }
        return (char)v;
    }
    return n ? p[0] : '\t';
}

static void free_cols(tide_tel_parser *r)
{
    for (size_t i = 0; i < r->ncols; i++)
        tide__free(r->zcols[i]);
    tide__free(r->zcols);
    tide__free(r->zrole);
    tide__free(r->zrc);
    r->zcols = NULL;
    r->zrole = NULL;
    r->zrc = NULL;
    r->ncols = r->zlast = r->nzrc = 0;
}

static int header(tide_tel_parser *r, const char *p, size_t n)
{
    /* "#name<sep>value" ; #separator uses a space */
    if (n >= 11 && memcmp(p, "#separator ", 11) == 0) {
        r->zsep = sep_value(p + 11, n - 11);
        free_cols(r); /* a new header block */
        return 0;
    }
    const char *s = memchr(p, r->zsep, n);
    if (s == NULL)
        return 0; /* comment */
    size_t kl = (size_t)(s - p);
    const char *v = s + 1;
    size_t vn = n - kl - 1;
    if (kl == 14 && memcmp(p, "#set_separator", 14) == 0)
        r->zsetsep = vn ? v[0] : ',';
    else if (kl == 12 && memcmp(p, "#empty_field", 12) == 0) {
        TIDE_CHECK(set_str(&r->zempty, v, vn));
        r->zempty_len = strlen(r->zempty);
    } else if (kl == 12 && memcmp(p, "#unset_field", 12) == 0) {
        TIDE_CHECK(set_str(&r->zunset, v, vn));
        r->zunset_len = strlen(r->zunset);
    } else if (kl == 5 && memcmp(p, "#path", 5) == 0)
        TIDE_CHECK(set_str(&r->zpath, v, vn));
    else if (kl == 7 && memcmp(p, "#fields", 7) == 0) {
        free_cols(r);
        size_t cnt = 1;
        for (size_t i = 0; i < vn; i++)
            cnt += v[i] == r->zsep;
        if (cnt > TIDE__TEL_MAX_COLS)
            return -1;
        r->zcols = tide__calloc(cnt, sizeof(char *));
        r->zrole = tide__calloc(cnt, 1);
        r->zrc = tide__calloc(cnt, sizeof(uint16_t));
        TIDE_CHECK_ALLOC(r->zcols);
        TIDE_CHECK_ALLOC(r->zrole);
        TIDE_CHECK_ALLOC(r->zrc);
        size_t i = 0;
        const char *q = v, *e = v + vn;
        while (i < cnt) {
            const char *t = memchr(q, r->zsep, (size_t)(e - q));
            const char *te = t ? t : e;
            r->zcols[i] = tide__strndup(q, (size_t)(te - q));
            TIDE_CHECK_ALLOC(r->zcols[i]);
            r->ncols = i + 1;
            for (int k = 0; known[k].name; k++)
                if (strcmp(known[k].name, r->zcols[i]) == 0) {
                    r->zrole[i] = known[k].role;
                    r->zlast = i + 1;
                }
            if (r->zrole[i])
                r->zrc[r->nzrc++] = (uint16_t)i;
            i++;
            q = te + 1;
        }
    }
    return 0;
}

/* the format table's detect function: the first line of a Zeek TSV log is a header */
bool tide__tel_zeek_detect(const char *p, size_t n, const tide_tel_opts *o)
{
    (void)o;
    return (n >= 10 && memcmp(p, "#separator", 10) == 0) ||
           (n >= 7 && memcmp(p, "#fields", 7) == 0);
}

/* the defaults until a header says otherwise */
int tide__tel_zeek_setup(tide_tel_parser *r)
{
    r->zsep = '\t';
    r->zsetsep = ',';
    return 0;
}

static inline bool is_nil(const tide_tel_parser *r, const char *p, size_t n)
{
    if (n == 1 && p[0] == '-')
        return true;
    if (n == 7 && memcmp(p, "(empty)", 7) == 0)
        return true;
    if (n > 7)
        return false;
    if (r->zunset && r->zunset_len == n && memcmp(r->zunset, p, n) == 0)
        return true;
    if (r->zempty && r->zempty_len == n && memcmp(r->zempty, p, n) == 0)
        return true;
    return false;
}

static void hash_obs(tide_tel_parser *r, const char *p, size_t n, size_t want, tide_obs_kind k,
        const char *field)
{
    if (n == want && tide__is_hex(p, n))
        tide__tel_obs(r, k, p, n, field);
}

static void email_obs(tide_tel_parser *r, const char *p, size_t n, const char *field)
{
    const char *lt = memchr(p, '<', n);
    if (lt) {
        const char *gt = memchr(lt, '>', n - (size_t)(lt - p));
        if (gt == NULL)
            return;
        n = (size_t)(gt - lt - 1);
        p = lt + 1;
    }
    while (n && (*p == ' ' || *p == '"'))
        p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '"'))
        n--;
    const char *at = memchr(p, '@', n);
    if (at && at > p && at + 3 < p + n && memchr(p, ' ', n) == NULL)
        tide__tel_obs(r, TIDE_OBS_EMAIL, p, n, field);
}

/* Bits of the separator bytes in b[0..64), only below e. The line buffer has
 * TIDE__TEL_BUF_SLACK (64) readable bytes past its data, so the loads may run past e. */
static inline uint64_t sep_mask64(const char *b, const char *e, char sep)
{
    size_t left = (size_t)(e - b);
    uint64_t valid = left >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << left) - 1;
    uint64_t m = 0;
#ifdef __SSE2__
    /* spelled out: the compiler keeps a loop of four otherwise */
    const __m128i s = _mm_set1_epi8(sep);
    const __m128i *v = (const __m128i *)(const void *)b;
    uint64_t m0 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(v), s));
    uint64_t m1 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(v + 1), s));
    uint64_t m2 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(v + 2), s));
    uint64_t m3 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(v + 3), s));
    m = m0 | m1 << 16 | m2 << 32 | m3 << 48;
#else
    for (size_t i = 0; i < 64; i++)
        m |= (uint64_t)(b[i] == sep) << i;
#endif
    return m & valid;
}

/* bits set in x (SWAR: the build targets baseline x86-64, without POPCNT) */
static inline unsigned popcount64(uint64_t x)
{
    x -= (x >> 1) & 0x5555555555555555ULL;
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
    return (unsigned)((x * 0x0101010101010101ULL) >> 56);
}

typedef struct {
    tide__sv col[ZC_USER + 1]; /* the roles read after the columns are cleared per record */
    const char *colf[ZC_USER + 1];
    tide__sv tx, rx;
} zrec;

static void zeek_col(
        tide_tel_parser *r, zrec *z, uint8_t role, const char *q, size_t vn, const char *field)
{
    if (is_nil(r, q, vn))
        return;
    const char *te = q + vn;
    switch (role) {
        case ZC_ANSWERS:
        case ZC_EMAIL_SET:
        case ZC_TX_HOSTS:
        case ZC_RX_HOSTS: {
            const char *a = q;
            while (a < te) {
                const char *ce = a;
#ifdef __SSE2__
                /* the element's end among the next 16 bytes (the line buffer has
                 * TIDE__TEL_BUF_SLACK readable bytes past the line): most elements are addresses */
                __m128i x = _mm_loadu_si128((const __m128i *)(const void *)a);
                unsigned sm =
                        (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(r->zsetsep)));
                size_t left = (size_t)(te - a);
                if (left < 16)
                    sm |= 1u << left;
                if (sm)
                    ce = a + __builtin_ctz(sm);
                else
#endif
                    while (ce < te && *ce != r->zsetsep)
                        ce++;
                size_t an = (size_t)(ce - a);
                if (an && !is_nil(r, a, an)) {
                    if (role == ZC_ANSWERS) {
                        if (tide__tel_obs_ip(r, a, an, field) == TIDE_OBS_NONE)
                            tide__tel_obs_hostname(r, a, an, field);
                    } else if (role == ZC_EMAIL_SET)
                        email_obs(r, a, an, field);
                    else {
                        tide__tel_obs_ip(r, a, an, field);
                        tide__sv *hv = role == ZC_TX_HOSTS ? &z->tx : &z->rx;
                        if (hv->n == 0 || (!tide__tel_is_home(r, hv->p, hv->n) &&
                                                  tide__tel_is_home(r, a, an))) {
                            hv->p = a;
                            hv->n = an;
                        }
                    }
                }
                a = ce + 1;
            }
            break;
        }
        case ZC_QUERY:
        case ZC_SERVER_NAME: tide__tel_obs_hostname(r, q, vn, field); break;
        case ZC_MD5: hash_obs(r, q, vn, 32, TIDE_OBS_MD5, field); break;
        case ZC_SHA1: hash_obs(r, q, vn, 40, TIDE_OBS_SHA1, field); break;
        case ZC_SHA256: hash_obs(r, q, vn, 64, TIDE_OBS_SHA256, field); break;
        case ZC_JA3:
        case ZC_JA3S: hash_obs(r, q, vn, 32, TIDE_OBS_JA3, field); break;
        case ZC_X509_FP: hash_obs(r, q, vn, 40, TIDE_OBS_X509_SHA1, field); break;
        case ZC_EMAIL: email_obs(r, q, vn, field); break;
        default:
            z->col[role].p = q;
            z->col[role].n = vn;
            z->colf[role] = field;
            break;
    }
}

static inline tide__sv zc(const zrec *z, int role)
{
    return z->col[role];
}

int tide__tel_zeek_line(tide_tel_parser *r, char *p, size_t n, tide_event *ev)
{
    if (p[0] == '#') {
        int rc = header(r, p, n);
        if (rc == -1) {
            r->bad = "too many #fields columns";
            free_cols(r);
            return -1;
        }
        return rc < 0 ? rc : 0;
    }
    if (TIDE__UNLIKELY(r->ncols == 0)) {
        r->bad = "Zeek record before any #fields header";
        return -1;
    }
    zrec z;
    static const tide__sv none = { NULL, 0 };
    z.col[ZC_TS] = z.col[ZC_ORIG_H] = z.col[ZC_RESP_H] = z.col[ZC_RESP_P] = none;
    z.col[ZC_HOST] = z.col[ZC_URI] = z.col[ZC_REFERRER] = z.col[ZC_USER] = none;
    z.tx.p = z.rx.p = NULL;
    z.tx.n = z.rx.n = 0;
    /* Columns 0..last-1 end at a separator, the last one is the rest of the line. The
     * separators are found 64 bytes at a time; the offsets of the first `want` (up to the last
     * role column) are taken bit by bit, the rest is only counted (a conn.log line needs the
     * first six of its twenty). */
    const char sep = r->zsep, *e = p + n, *b = p;
    const size_t last = r->ncols - 1;
    const size_t want = r->zlast < last ? r->zlast : last; /* offsets needed */
    /* ps[k + 1] = offset of separator k (0..want-1, and the rest of the block of the last one
     * needed: every bit of a block is taken, without a test per bit); ps[0] = -1 and
     * ps[last + 1] = n, so that column i is [ps[i] + 1, ps[i + 1]) for every i */
    uint32_t ps[TIDE__TEL_MAX_COLS + 2 + 64];
    uint32_t *pos = ps + 1;
    ps[0] = UINT32_MAX;
    size_t k = 0;
    while (k < want) {
        if (b >= e) {
            r->bad = "fewer columns than #fields";
            return -1;
        }
        uint64_t m = sep_mask64(b, e, sep);
        uint32_t base = (uint32_t)(b - p);
        b += 64;
        for (; m; m &= m - 1)
            pos[k++] = base + (uint32_t)__builtin_ctzll(m);
    }
    while (k < last) {
        if (b >= e) {
            r->bad = "fewer columns than #fields";
            return -1;
        }
        k += popcount64(sep_mask64(b, e, sep));
        b += 64;
    }
    ps[last + 1] = (uint32_t)n; /* (separator `last` is never needed: want <= last) */
    const uint8_t *role = r->zrole;
    for (size_t j = 0; j < r->nzrc; j++) {
        size_t i = r->zrc[j];
        uint32_t st = ps[i] + 1, en = ps[i + 1];
        zeek_col(r, &z, role[i], p + st, en - st, r->zcols[i]);
    }
    tide__sv ts = zc(&z, ZC_TS);
    if (ts.n)
        tide__tel_epoch_us(ts.p, ts.n, &ev->ts_us);
    tide__sv src = zc(&z, ZC_ORIG_H), dst = zc(&z, ZC_RESP_H);
    /* the host is picked here already (nothing below changes it when src or dst is set) */
    if (src.n || dst.n)
        tide__tel_obs_conn(r, src, src.n ? z.colf[ZC_ORIG_H] : NULL, dst,
                dst.n ? z.colf[ZC_RESP_H] : NULL, zc(&z, ZC_RESP_P), "id.resp_h:id.resp_p", ev);
    tide__sv host = zc(&z, ZC_HOST);
    if (host.n)
        tide__tel_obs_hostname(r, host.p, host.n, z.colf[ZC_HOST]);
    tide__sv u = zc(&z, ZC_URI);
    if (u.n) {
        tide__sv h = host;
        if (u.p[0] != '/')
            tide__tel_obs_url(r, u.p, u.n, z.colf[ZC_URI], NULL);
        else if (h.n) {
            const char *c = memchr(h.p, ':', h.n);
            if (c && h.n - (size_t)(c - h.p) == 3 && memcmp(c, ":80", 3) == 0)
                h.n = (size_t)(c - h.p);
            char *d = tide__tel_scratch(r, 7 + h.n + u.n);
            if (d) {
                memcpy(d, "http://", 7);
                memcpy(d + 7, h.p, h.n);
                memcpy(d + 7 + h.n, u.p, u.n);
                tide__tel_obs(r, TIDE_OBS_URL, d, 7 + h.n + u.n, "host+uri");
            }
        }
    }
    tide__sv ref = zc(&z, ZC_REFERRER);
    if (ref.n)
        tide__tel_obs_url(r, ref.p, ref.n, z.colf[ZC_REFERRER], NULL);
    tide__sv user = zc(&z, ZC_USER);
    if (user.n) {
        ev->user = user.p;
        ev->user_len = user.n;
    }
    ev->kind = r->zpath ? r->zpath : "zeek";
    tide__sv tx = z.tx, rx = z.rx;
    if (!src.n && !dst.n && (tx.n || rx.n)) {
        if (tx.n && tide__tel_is_home(r, tx.p, tx.n)) {
            ev->host = tx.p;
            ev->host_len = tx.n;
        } else if (rx.n && (tide__tel_is_home(r, rx.p, rx.n) || tx.n == 0)) {
            ev->host = rx.p;
            ev->host_len = rx.n;
        } else {
            ev->host = tx.p;
            ev->host_len = tx.n;
        }
    }
    return 1;
}
