/*
 * tel_json.c - the JSON telemetry formats: Suricata EVE, Sysmon / Windows event JSON, Zeek JSON
 * and generic NDJSON with a field map, on top of a single-pass JSON scanner.
 *
 * Why hand-written: jansson (and src/ingest/json_fast.c, which builds jansson objects) allocate
 * a tree per line; at the ≥ 400 MB/s target the cost of building and freeing a DOM for each
 * record dominates. The scanner here validates the whole object (RFC 8259 grammar, escapes,
 * surrogates; UTF-8 is checked on the whole line before) without allocating, tracks the dotted
 * key path (objects inside arrays are transparent), looks each scalar's path up in a small
 * per-format hash table, and reports only the hits. String scanning is 8 bytes at a time.
 */
#include <stdio.h>
#include <string.h>

#include "telemetry/tel_int.h"
#include "tide/errors.h"

/* ------------------------------------------------------------------ path table */

uint32_t tide__fnv_start(void)
{
    return 2166136261u;
}

uint32_t tide__fnv_add(uint32_t h, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 16777619u;
    }
    return h;
}

void tide__jpt_init(tide__jpt *t)
{
    memset(t, 0, sizeof(*t));
    for (int i = 0; i < TIDE__JPT_SLOTS; i++)
        t->id[i] = -1;
}

static uint32_t path_hash(const char *path)
{
    uint32_t h = tide__fnv_start();
    const char *s = path;
    for (;;) {
        const char *d = strchr(s, '.');
        size_t n = d ? (size_t)(d - s) : strlen(s);
        if (s != path)
            h = tide__fnv_add(h, ".", 1);
        h = tide__fnv_add(h, s, n);
        if (!d)
            break;
        s = d + 1;
    }
    return h;
}

int tide__jpt_add(tide__jpt *t, const char *path, int id)
{
    uint32_t h = path_hash(path);
    size_t n = strlen(path);
    for (unsigned i = 0; i < TIDE__JPT_SLOTS; i++) {
        unsigned s = (h + i) & (TIDE__JPT_SLOTS - 1);
        if (t->id[s] < 0) {
            t->id[s] = (int16_t)id;
            t->hash[s] = h;
            t->path[s] = path;
            t->plen[s] = (uint16_t)n;
            return 0;
        }
        if (t->hash[s] == h && t->plen[s] == n && memcmp(t->path[s], path, n) == 0)
            return 0; /* first wins */
    }
    return tide_error_set(TIDE_ETOOBIG, "too many JSON paths");
}

int tide__jpt_get(const tide__jpt *t, uint32_t h, const char *path, size_t n)
{
    for (unsigned i = 0; i < TIDE__JPT_SLOTS; i++) {
        unsigned s = (h + i) & (TIDE__JPT_SLOTS - 1);
        if (t->id[s] < 0)
            return -1;
        if (t->hash[s] == h && t->plen[s] == n && memcmp(t->path[s], path, n) == 0)
            return t->id[s];
    }
    return -1;
}

/* ------------------------------------------------------------------ scanner */

#define JS_MAX_DEPTH 64
#define JS_PATH_DEPTH 6

typedef struct {
    const char *p, *e, *start;
    const tide__jpt *t;
    tide__jscan_cb cb;
    void *ctx;
    const char *why;
    char path[256];
} jscan;

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
static inline uint64_t has_zero(uint64_t v)
{
    return (v - ONES) & ~v & HIGHS;
}

static int hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 32);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hexv(p[i]);
        if (d < 0)
            return -1;
        v = v << 4 | (unsigned)d;
    }
    *out = v;
    return 0;
}

/* p at the opening quote; on success s->p is after the closing quote. */
static int scan_string(jscan *s, const char **body, size_t *len, bool *esc)
{
    const char *p = s->p + 1, *e = s->e;
    *esc = false;
    for (;;) {
        while (e - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            uint64_t m = has_zero(w ^ (0x22 * ONES)) | has_zero(w ^ (0x5c * ONES)) |
                         ((w - 0x20 * ONES) & ~w & HIGHS);
            if (m)
                break;
            p += 8;
        }
        if (p >= e) {
            s->why = "unterminated string";
            s->p = p;
            return -1;
        }
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            break;
        if (c < 0x20) {
            s->why = "control character in string";
            s->p = p;
            return -1;
        }
        if (c != '\\') {
            p++;
            continue;
        }
        *esc = true;
        if (e - p < 2) {
            s->why = "unterminated string";
            s->p = p;
            return -1;
        }
        switch (p[1]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
            p += 2;
            break;
        case 'u': {
            unsigned u;
            if (e - p < 6 || hex4(p + 2, &u) < 0) {
                s->why = "bad \\u escape";
                s->p = p;
                return -1;
            }
            if (u == 0) {
                s->why = "\\u0000 in string";
                s->p = p;
                return -1;
            }
            p += 6;
            if (u >= 0xDC00 && u <= 0xDFFF) {
                s->why = "lone low surrogate";
                s->p = p;
                return -1;
            }
            if (u >= 0xD800 && u <= 0xDBFF) {
                unsigned l;
                if (e - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, &l) < 0 ||
                        l < 0xDC00 || l > 0xDFFF) {
                    s->why = "lone high surrogate";
                    s->p = p;
                    return -1;
                }
                p += 6;
            }
            break;
        }
        default:
            s->why = "bad escape";
            s->p = p;
            return -1;
        }
    }
    *body = s->p + 1;
    *len = (size_t)(p - (s->p + 1));
    s->p = p + 1;
    return 0;
}

static inline void skip_ws(jscan *s)
{
    while (s->p < s->e && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static int scan_number(jscan *s)
{
    const char *p = s->p, *e = s->e;
    if (p < e && *p == '-')
        p++;
    if (p >= e || *p < '0' || *p > '9')
        goto bad;
    if (*p == '0')
        p++;
    else
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    if (p < e && *p == '.') {
        p++;
        if (p >= e || *p < '0' || *p > '9')
            goto bad;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (p >= e || *p < '0' || *p > '9')
            goto bad;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    s->p = p;
    return 0;
bad:
    s->p = p;
    s->why = "bad number";
    return -1;
}

static int scan_value(jscan *s, int depth, size_t plen, uint32_t h, bool rep, bool in_arr);

static int report(jscan *s, size_t plen, uint32_t h, int type, const char *v, size_t n, bool esc,
        bool in_arr)
{
    int id = tide__jpt_get(s->t, h, s->path, plen);
    if (id < 0)
        return 0;
    if (s->cb(s->ctx, id, type, v, n, esc, in_arr, &s->why) < 0)
        return -1;
    return 0;
}

static int scan_object(jscan *s, int depth, size_t plen, uint32_t h, bool rep)
{
    if (depth > JS_MAX_DEPTH) {
        s->why = "nesting too deep";
        return -1;
    }
    s->p++; /* { */
    skip_ws(s);
    if (s->p < s->e && *s->p == '}') {
        s->p++;
        return 0;
    }
    for (;;) {
        skip_ws(s);
        if (s->p >= s->e || *s->p != '"') {
            s->why = s->p >= s->e ? "truncated object" : "expected a key";
            return -1;
        }
        const char *k;
        size_t kn;
        bool kesc;
        if (scan_string(s, &k, &kn, &kesc) < 0)
            return -1;
        bool krep = rep && !kesc && depth <= JS_PATH_DEPTH && plen + kn + 1 < sizeof(s->path);
        size_t np = plen;
        uint32_t nh = h;
        if (krep) {
            if (plen) {
                s->path[np++] = '.';
                nh = tide__fnv_add(nh, ".", 1);
            }
            memcpy(s->path + np, k, kn);
            np += kn;
            nh = tide__fnv_add(nh, k, kn);
        }
        skip_ws(s);
        if (s->p >= s->e || *s->p != ':') {
            s->why = s->p >= s->e ? "truncated object" : "expected ':'";
            return -1;
        }
        s->p++;
        if (scan_value(s, depth, np, nh, krep, false) < 0)
            return -1;
        skip_ws(s);
        if (s->p >= s->e) {
            s->why = "truncated object";
            return -1;
        }
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p == '}') {
            s->p++;
            return 0;
        }
        s->why = "expected ',' or '}'";
        return -1;
    }
}

static int scan_array(jscan *s, int depth, size_t plen, uint32_t h, bool rep)
{
    if (depth > JS_MAX_DEPTH) {
        s->why = "nesting too deep";
        return -1;
    }
    s->p++;
    skip_ws(s);
    if (s->p < s->e && *s->p == ']') {
        s->p++;
        return 0;
    }
    for (;;) {
        if (scan_value(s, depth, plen, h, rep, true) < 0)
            return -1;
        skip_ws(s);
        if (s->p >= s->e) {
            s->why = "truncated array";
            return -1;
        }
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p == ']') {
            s->p++;
            return 0;
        }
        s->why = "expected ',' or ']'";
        return -1;
    }
}

static int scan_lit(jscan *s, const char *lit, size_t n)
{
    if ((size_t)(s->e - s->p) < n || memcmp(s->p, lit, n) != 0) {
        s->why = "bad literal";
        return -1;
    }
    s->p += n;
    return 0;
}

static int scan_value(jscan *s, int depth, size_t plen, uint32_t h, bool rep, bool in_arr)
{
    skip_ws(s);
    if (s->p >= s->e) {
        s->why = "truncated value";
        return -1;
    }
    const char *st = s->p;
    int type;
    switch (*s->p) {
    case '{':
        if (rep && plen && tide__jpt_get(s->t, h, s->path, plen) >= 0) {
            s->why = "an object where a string or number was expected";
            return -1;
        }
        return scan_object(s, depth + 1, plen, h, rep);
    case '[':
        return scan_array(s, depth + 1, plen, h, rep);
    case '"': {
        const char *b;
        size_t n;
        bool esc;
        if (scan_string(s, &b, &n, &esc) < 0)
            return -1;
        return rep ? report(s, plen, h, TIDE__JS_STR, b, n, esc, in_arr) : 0;
    }
    case 't':
        type = TIDE__JS_TRUE;
        if (scan_lit(s, "true", 4) < 0)
            return -1;
        break;
    case 'f':
        type = TIDE__JS_FALSE;
        if (scan_lit(s, "false", 5) < 0)
            return -1;
        break;
    case 'n':
        type = TIDE__JS_NULL;
        if (scan_lit(s, "null", 4) < 0)
            return -1;
        break;
    default:
        type = TIDE__JS_NUM;
        if (scan_number(s) < 0)
            return -1;
        break;
    }
    return rep ? report(s, plen, h, type, st, (size_t)(s->p - st), false, in_arr) : 0;
}

int tide__jscan(const char *p, size_t n, const tide__jpt *t, tide__jscan_cb cb, void *ctx,
        const char **why, size_t *where)
{
    jscan s;
    s.p = s.start = p;
    s.e = p + n;
    s.t = t;
    s.cb = cb;
    s.ctx = ctx;
    s.why = NULL;
    skip_ws(&s);
    int rc = -1;
    if (s.p >= s.e || *s.p != '{')
        s.why = "not a JSON object";
    else if (scan_object(&s, 1, 0, tide__fnv_start(), true) == 0) {
        skip_ws(&s);
        if (s.p != s.e)
            s.why = "text after the JSON object";
        else
            rc = 0;
    }
    if (rc < 0) {
        *why = s.why ? s.why : "malformed JSON";
        *where = (size_t)(s.p - p);
    }
    return rc;
}

static void put_utf8(char *o, size_t *k, unsigned u)
{
    if (u < 0x80)
        o[(*k)++] = (char)u;
    else if (u < 0x800) {
        o[(*k)++] = (char)(0xC0 | u >> 6);
        o[(*k)++] = (char)(0x80 | (u & 0x3F));
    } else if (u < 0x10000) {
        o[(*k)++] = (char)(0xE0 | u >> 12);
        o[(*k)++] = (char)(0x80 | ((u >> 6) & 0x3F));
        o[(*k)++] = (char)(0x80 | (u & 0x3F));
    } else {
        o[(*k)++] = (char)(0xF0 | u >> 18);
        o[(*k)++] = (char)(0x80 | ((u >> 12) & 0x3F));
        o[(*k)++] = (char)(0x80 | ((u >> 6) & 0x3F));
        o[(*k)++] = (char)(0x80 | (u & 0x3F));
    }
}

long tide__junescape(const char *s, size_t n, char *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') {
            out[k++] = s[i];
            continue;
        }
        if (i + 1 >= n)
            return -1;
        char c = s[++i];
        switch (c) {
        case 'b': out[k++] = '\b'; break;
        case 'f': out[k++] = '\f'; break;
        case 'n': out[k++] = '\n'; break;
        case 'r': out[k++] = '\r'; break;
        case 't': out[k++] = '\t'; break;
        case 'u': {
            unsigned u, l;
            if (i + 4 >= n || hex4(s + i + 1, &u) < 0)
                return -1;
            i += 4;
            if (u >= 0xD800 && u <= 0xDBFF) {
                if (i + 6 >= n || s[i + 1] != '\\' || s[i + 2] != 'u' || hex4(s + i + 3, &l) < 0)
                    return -1;
                u = 0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00);
                i += 6;
            }
            put_utf8(out, &k, u);
            break;
        }
        default: out[k++] = c; break;
        }
    }
    return (long)k;
}

/* ------------------------------------------------------------------ the JSON formats */

enum {
    F_TS = 0, F_TS2, F_KIND, F_SRC, F_DST, F_DPORT, F_DOMAIN, F_ANSWER, F_HTTP_HOST, F_URI,
    F_URL, F_REFERRER, F_MD5, F_SHA1, F_SHA256, F_JA3, F_X509_FP, F_EMAIL, F_USER, F_HOSTNAME,
    F_TXRX, F_EID, F_HASHES, F_QRES, F_IP, F_COUNT
};

typedef struct {
    const char *path;
    int id;
} pdef;

static const pdef eve_paths[] = {{"timestamp", F_TS}, {"event_type", F_KIND},
    {"src_ip", F_SRC}, {"dest_ip", F_DST}, {"dest_port", F_DPORT}, {"dns.rrname", F_DOMAIN},
    {"dns.query.rrname", F_DOMAIN}, {"dns.queries.rrname", F_DOMAIN},
    {"dns.answers.rrname", F_DOMAIN}, {"dns.rdata", F_ANSWER}, {"dns.answers.rdata", F_ANSWER},
    {"dns.grouped.A", F_ANSWER}, {"dns.grouped.AAAA", F_ANSWER},
    {"dns.grouped.CNAME", F_ANSWER}, {"http.hostname", F_HTTP_HOST}, {"http.url", F_URI},
    {"http.http_refer", F_REFERRER}, {"tls.sni", F_DOMAIN}, {"tls.ja3.hash", F_JA3},
    {"tls.ja3s.hash", F_JA3}, {"tls.fingerprint", F_X509_FP}, {"fileinfo.md5", F_MD5},
    {"fileinfo.sha1", F_SHA1}, {"fileinfo.sha256", F_SHA256}, {"smtp.mail_from", F_EMAIL},
    {"smtp.rcpt_to", F_EMAIL}, {"email.from", F_EMAIL}, {"email.to", F_EMAIL},
    {"email.cc", F_EMAIL}, {NULL, 0}};

static const pdef zeek_paths[] = {{"ts", F_TS}, {"_path", F_KIND}, {"@stream", F_KIND},
    {"id.orig_h", F_SRC}, {"id_orig_h", F_SRC}, {"id.resp_h", F_DST}, {"id_resp_h", F_DST},
    {"id.resp_p", F_DPORT}, {"id_resp_p", F_DPORT}, {"query", F_DOMAIN}, {"answers", F_ANSWER},
    {"host", F_HTTP_HOST}, {"uri", F_URI}, {"referrer", F_REFERRER}, {"server_name", F_DOMAIN},
    {"md5", F_MD5}, {"sha1", F_SHA1}, {"sha256", F_SHA256}, {"tx_hosts", F_TXRX},
    {"rx_hosts", F_TXRX}, {"ja3", F_JA3}, {"ja3s", F_JA3}, {"fingerprint", F_X509_FP},
    {"mailfrom", F_EMAIL}, {"rcptto", F_EMAIL}, {"from", F_EMAIL}, {"to", F_EMAIL},
    {"username", F_USER}, {"user", F_USER}, {NULL, 0}};

static const pdef sysmon_paths[] = {{"UtcTime", F_TS}, {"@timestamp", F_TS2},
    {"TimeCreated", F_TS2}, {"EventID", F_EID}, {"Computer", F_HOSTNAME},
    {"Hostname", F_HOSTNAME}, {"User", F_USER}, {"Hashes", F_HASHES}, {"Hash", F_HASHES},
    {"SourceIp", F_SRC}, {"DestinationIp", F_DST}, {"DestinationPort", F_DPORT},
    {"DestinationHostname", F_HTTP_HOST}, {"QueryName", F_DOMAIN}, {"QueryResults", F_QRES},
    {"IpAddress", F_IP}, {NULL, 0}};

typedef struct {
    tide_tel_reader *r;
    tide_event *ev;
    tide__sv v[F_COUNT];
    const char *fld[F_COUNT];
    int64_t ts, ts2;
    bool has_ts, has_ts2;
    tide__sv eid;
    tide__sv tx[8], rx[8];
    size_t ntx, nrx;
    tide__sv mhost, msrc, mdst;
} jrec;

/* Resolve the value: unescape into scratch when needed. false when out of scratch. */
static bool value_of(tide_tel_reader *r, const char *v, size_t n, bool esc, tide__sv *out)
{
    if (!esc) {
        out->p = v;
        out->n = n;
        return true;
    }
    char *d = tide__tel_scratch(r, n);
    if (d == NULL)
        return false;
    long k = tide__junescape(v, n, d);
    if (k < 0)
        return false;
    r->scr_len -= n - (size_t)k;
    out->p = d;
    out->n = (size_t)k;
    return true;
}

static void obs_answer(tide_tel_reader *r, tide__sv v, const char *field)
{
    if (tide__tel_obs_ip(r, v.p, v.n, field) == TIDE_OBS_NONE)
        tide__tel_obs_hostname(r, v.p, v.n, field);
}

static void obs_email(tide_tel_reader *r, tide__sv v, const char *field)
{
    /* "Name <a@b>" or "<a@b>" or "a@b" */
    const char *lt = memchr(v.p, '<', v.n);
    if (lt) {
        const char *gt = memchr(lt, '>', v.n - (size_t)(lt - v.p));
        if (gt == NULL)
            return;
        v.n = (size_t)(gt - lt - 1);
        v.p = lt + 1;
    }
    while (v.n && (v.p[0] == ' ' || v.p[0] == '"'))
        v.p++, v.n--;
    while (v.n && (v.p[v.n - 1] == ' ' || v.p[v.n - 1] == '"'))
        v.n--;
    const char *at = memchr(v.p, '@', v.n);
    if (at && at > v.p && at < v.p + v.n - 3 && memchr(v.p, ' ', v.n) == NULL)
        tide__tel_obs(r, TIDE_OBS_EMAIL, v.p, v.n, field);
}

static void obs_hash(tide_tel_reader *r, tide__sv v, const char *field)
{
    tide_obs_kind k = TIDE_OBS_NONE;
    if (!tide__is_hex(v.p, v.n))
        return;
    if (v.n == 32)
        k = TIDE_OBS_MD5;
    else if (v.n == 40)
        k = TIDE_OBS_SHA1;
    else if (v.n == 64)
        k = TIDE_OBS_SHA256;
    else if (v.n == 128)
        k = TIDE_OBS_SHA512;
    if (k)
        tide__tel_obs(r, k, v.p, v.n, field);
}

static void obs_x509(tide_tel_reader *r, tide__sv v, const char *field)
{
    /* "aa:bb:..." (EVE) or plain hex; SHA-1 only */
    char tmp[64];
    size_t k = 0;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] == ':')
            continue;
        if (k >= sizeof(tmp))
            return;
        tmp[k++] = v.p[i];
    }
    if (k != 40 || !tide__is_hex(tmp, k))
        return;
    if (k == v.n) {
        tide__tel_obs(r, TIDE_OBS_X509_SHA1, v.p, v.n, field);
        return;
    }
    char *d = tide__tel_scratch(r, k);
    if (d) {
        memcpy(d, tmp, k);
        tide__tel_obs(r, TIDE_OBS_X509_SHA1, d, k, field);
    }
}

static void obs_sysmon_hashes(tide_tel_reader *r, tide__sv v, const char *field)
{
    /* "SHA1=..,MD5=..,SHA256=..,IMPHASH=.." or a bare hash */
    const char *p = v.p, *e = v.p + v.n;
    if (memchr(p, '=', v.n) == NULL) {
        obs_hash(r, v, field);
        return;
    }
    while (p < e) {
        const char *c = memchr(p, ',', (size_t)(e - p));
        const char *end = c ? c : e;
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (eq) {
            size_t kl = (size_t)(eq - p);
            tide__sv h = {eq + 1, (size_t)(end - eq - 1)};
            if (!(kl == 7 && memcmp(p, "IMPHASH", 7) == 0))
                obs_hash(r, h, field);
        }
        p = c ? c + 1 : e;
    }
}

static void obs_qres(tide_tel_reader *r, tide__sv v, const char *field)
{
    /* "::1;::ffff:127.0.0.1;type:  5 edge.example.net;" */
    const char *p = v.p, *e = v.p + v.n;
    while (p < e) {
        const char *c = memchr(p, ';', (size_t)(e - p));
        const char *end = c ? c : e;
        tide__sv x = {p, (size_t)(end - p)};
        while (x.n && x.p[0] == ' ')
            x.p++, x.n--;
        if (x.n > 5 && memcmp(x.p, "type:", 5) == 0) {
            x.p += 5;
            x.n -= 5;
            while (x.n && (x.p[0] == ' ' || (x.p[0] >= '0' && x.p[0] <= '9')))
                x.p++, x.n--;
        }
        if (x.n > 7 && memcmp(x.p, "::ffff:", 7) == 0 &&
                tide__ip_kind(x.p + 7, x.n - 7) == TIDE_OBS_IPV4) {
            x.p += 7;
            x.n -= 7;
        }
        if (x.n)
            obs_answer(r, x, field);
        p = c ? c + 1 : e;
    }
}

static bool is_str_or_num(int type)
{
    return type == TIDE__JS_STR || type == TIDE__JS_NUM;
}

static int on_value(void *ctx, int id, int type, const char *v, size_t n, bool esc, bool in_arr,
        const char **why)
{
    jrec *j = ctx;
    tide_tel_reader *r = j->r;
    (void)in_arr;
    if (type == TIDE__JS_NULL)
        return 0;
    tide__sv s;
    switch (id) {
    case F_TS:
    case F_TS2: {
        int64_t us = 0;
        bool ok = false;
        if (type == TIDE__JS_NUM)
            ok = tide__tel_epoch_us(v, n, &us);
        else if (type == TIDE__JS_STR && !esc)
            ok = tide__tel_iso_us(v, n, &us) || tide__tel_epoch_us(v, n, &us);
        if (!ok && type != TIDE__JS_STR) {
            *why = "timestamp: expected a string or a number";
            return -1;
        }
        if (ok && id == F_TS) {
            j->ts = us;
            j->has_ts = true;
        } else if (ok) {
            j->ts2 = us;
            j->has_ts2 = true;
        }
        return 0;
    }
    case F_EID:
        if (!is_str_or_num(type)) {
            *why = "EventID: expected a number";
            return -1;
        }
        j->eid.p = v;
        j->eid.n = n;
        return 0;
    case F_DPORT:
        if (!is_str_or_num(type)) {
            *why = "port: expected a number";
            return -1;
        }
        j->v[id].p = v;
        j->v[id].n = n;
        return 0;
    default:
        break;
    }
    if (type != TIDE__JS_STR) {
        *why = "expected a string value";
        return -1;
    }
    if (!value_of(r, v, n, esc, &s))
        return 0;
    if (s.n == 0 || (s.n == 1 && s.p[0] == '-'))
        return 0;
    switch (id) {
    case F_TXRX:
        if (j->ntx < 8)
            j->tx[j->ntx++] = s;
        break;
    case F_ANSWER:
    case F_EMAIL:
    case F_DOMAIN:
    case F_MD5:
    case F_SHA1:
    case F_SHA256:
    case F_JA3:
    case F_X509_FP:
    case F_HASHES:
    case F_QRES:
    case F_IP:
        /* handled at once (may repeat) */
        j->v[id] = s;
        return 1000 + id; /* sentinel, see json_cb */
    default:
        if (!in_arr || j->v[id].n == 0)
            j->v[id] = s;
        break;
    }
    return 0;
}

int tide__tel_json_setup(tide_tel_reader *r)
{
    if (r->jpt == NULL) {
        r->jpt = tide__malloc(sizeof(*r->jpt));
        TIDE_CHECK_ALLOC(r->jpt);
    }
    tide__jpt_init(r->jpt);
    const pdef *d = NULL;
    if (r->format == TIDE_TEL_EVE)
        d = eve_paths;
    else if (r->format == TIDE_TEL_ZEEK_JSON)
        d = zeek_paths;
    else if (r->format == TIDE_TEL_SYSMON)
        d = sysmon_paths;
    if (d) {
        /* ids are indexes into the definition list so the path names the observation */
        for (int i = 0; d[i].path; i++)
            TIDE_CHECK(tide__jpt_add(r->jpt, d[i].path, i));
        return 0;
    }
    if (r->opts.map == NULL)
        return tide_error_set(TIDE_EINVAL, "%s: the ndjson format needs a field map", r->name);
    for (size_t i = 0; i < r->opts.map->n; i++)
        TIDE_CHECK(tide__jpt_add(r->jpt, r->opts.map->e[i].path, (int)i));
    return 0;
}

static const pdef *defs_of(const tide_tel_reader *r)
{
    switch (r->format) {
    case TIDE_TEL_EVE:
        return eve_paths;
    case TIDE_TEL_ZEEK_JSON:
        return zeek_paths;
    case TIDE_TEL_SYSMON:
        return sysmon_paths;
    default:
        return NULL;
    }
}

typedef struct {
    jrec *j;
    const pdef *defs;
    const tide_field_map *map;
} cbwrap;

static void emit_now(jrec *j, int id, const char *field)
{
    tide_tel_reader *r = j->r;
    tide__sv s = j->v[id];
    switch (id) {
    case F_ANSWER:
        obs_answer(r, s, field);
        break;
    case F_EMAIL:
        obs_email(r, s, field);
        break;
    case F_DOMAIN:
        tide__tel_obs_hostname(r, s.p, s.n, field);
        break;
    case F_MD5:
    case F_SHA1:
    case F_SHA256:
        obs_hash(r, s, field);
        break;
    case F_JA3:
        if (s.n == 32 && tide__is_hex(s.p, s.n))
            tide__tel_obs(r, TIDE_OBS_JA3, s.p, s.n, field);
        break;
    case F_X509_FP:
        obs_x509(r, s, field);
        break;
    case F_HASHES:
        obs_sysmon_hashes(r, s, field);
        break;
    case F_QRES:
        obs_qres(r, s, field);
        break;
    case F_IP:
        tide__tel_obs_ip(r, s.p, s.n, field);
        break;
    default:
        break;
    }
}

static int known_cb(void *ctx, int idx, int type, const char *v, size_t n, bool esc, bool in_arr,
        const char **why)
{
    cbwrap *w = ctx;
    const pdef *d = &w->defs[idx];
    int rc = on_value(w->j, d->id, type, v, n, esc, in_arr, why);
    if (rc < 0)
        return rc;
    if (rc >= 1000)
        emit_now(w->j, d->id, d->path);
    else if (d->id == F_SRC || d->id == F_DST || d->id == F_HTTP_HOST || d->id == F_URI ||
             d->id == F_REFERRER || d->id == F_HOSTNAME || d->id == F_USER)
        w->j->fld[d->id] = d->path;
    return 0;
}

static int map_cb(void *ctx, int idx, int type, const char *v, size_t n, bool esc, bool in_arr,
        const char **why)
{
    cbwrap *w = ctx;
    jrec *j = w->j;
    tide_tel_reader *r = j->r;
    const tide_field_map *m = w->map;
    const char *path = m->e[idx].path;
    (void)in_arr;
    if (type == TIDE__JS_NULL)
        return 0;
    for (size_t i = (size_t)idx; i < m->n; i++) {
        const tide__fm_entry *e = &m->e[i];
        if (i != (size_t)idx && strcmp(e->path, path) != 0)
            continue;
        if (e->role == TIDE__FM_TS) {
            int64_t us;
            bool ok = (type == TIDE__JS_NUM && tide__tel_epoch_us(v, n, &us)) ||
                      (type == TIDE__JS_STR && !esc &&
                              (tide__tel_iso_us(v, n, &us) || tide__tel_epoch_us(v, n, &us)));
            if (ok) {
                j->ts = us;
                j->has_ts = true;
            }
            continue;
        }
        if (type != TIDE__JS_STR && !(e->role == TIDE__FM_OBS && type == TIDE__JS_NUM)) {
            *why = "field map: expected a string value";
            return -1;
        }
        tide__sv s;
        if (!value_of(r, v, n, esc, &s) || s.n == 0)
            continue;
        switch (e->role) {
        case TIDE__FM_HOST:
            j->mhost = s;
            break;
        case TIDE__FM_SRC:
            j->msrc = s;
            tide__tel_obs_ip(r, s.p, s.n, e->path);
            break;
        case TIDE__FM_DST:
            j->mdst = s;
            tide__tel_obs_ip(r, s.p, s.n, e->path);
            break;
        case TIDE__FM_USER:
            j->v[F_USER] = s;
            break;
        case TIDE__FM_KIND:
            j->v[F_KIND] = s;
            break;
        case TIDE__FM_IP:
            tide__tel_obs_ip(r, s.p, s.n, e->path);
            break;
        default:
            switch (e->kind) {
            case TIDE_OBS_IPV4:
            case TIDE_OBS_IPV6:
                tide__tel_obs_ip(r, s.p, s.n, e->path);
                break;
            case TIDE_OBS_DOMAIN:
                tide__tel_obs_hostname(r, s.p, s.n, e->path);
                break;
            case TIDE_OBS_URL:
                tide__tel_obs_url(r, s.p, s.n, e->path, NULL);
                break;
            case TIDE_OBS_EMAIL:
                obs_email(r, s, e->path);
                break;
            case TIDE_OBS_X509_SHA1:
                obs_x509(r, s, e->path);
                break;
            default:
                tide__tel_obs(r, e->kind, s.p, s.n, e->path);
                break;
            }
        }
    }
    return 0;
}

static const char *kind_str(tide_tel_reader *r, tide__sv k)
{
    if (k.n == 0)
        return NULL;
    size_t n = k.n < sizeof(r->kindbuf) - 1 ? k.n : sizeof(r->kindbuf) - 1;
    char *d = tide__tel_scratch(r, n + 1);
    if (d == NULL)
        return NULL;
    memcpy(d, k.p, n);
    d[n] = '\0';
    return d;
}

static bool is_path(const char *p, size_t n)
{
    return n > 0 && p[0] == '/';
}

static void compose_url(tide_tel_reader *r, tide__sv host, const char *hf, tide__sv uri,
        const char *uf)
{
    if (uri.n && !is_path(uri.p, uri.n)) {
        tide__tel_obs_url(r, uri.p, uri.n, uf, NULL);
        return;
    }
    if (host.n == 0 || uri.n == 0)
        return;
    (void)hf;
    char *d = tide__tel_scratch(r, 7 + host.n + uri.n);
    if (d == NULL)
        return;
    memcpy(d, "http://", 7);
    memcpy(d + 7, host.p, host.n);
    memcpy(d + 7 + host.n, uri.p, uri.n);
    tide__tel_obs(r, TIDE_OBS_URL, d, 7 + host.n + uri.n, uf);
}

int tide__tel_json_line(tide_tel_reader *r, char *p, size_t n, tide_event *ev)
{
    jrec j;
    memset(&j, 0, sizeof(j));
    j.r = r;
    j.ev = ev;
    cbwrap w = {&j, defs_of(r), r->opts.map};
    const char *why;
    size_t where;
    int rc = tide__jscan(p, n, r->jpt, w.defs ? known_cb : map_cb, &w, &why, &where);
    if (rc < 0) {
        r->bad = why;
        return -1;
    }
    if (r->format == TIDE_TEL_NDJSON) {
        ev->ts_us = j.has_ts ? j.ts : 0;
        if (j.mhost.n) {
            ev->host = j.mhost.p;
            ev->host_len = j.mhost.n;
        } else
            tide__tel_pick_host(r, j.msrc, j.mdst, ev);
        ev->kind = kind_str(r, j.v[F_KIND]);
        if (ev->kind == NULL)
            ev->kind = "ndjson";
        if (j.v[F_USER].n) {
            ev->user = j.v[F_USER].p;
            ev->user_len = j.v[F_USER].n;
        }
        return 1;
    }
    ev->ts_us = j.has_ts ? j.ts : j.has_ts2 ? j.ts2 : 0;
    tide__sv src = j.v[F_SRC], dst = j.v[F_DST];
    if (src.n)
        tide__tel_obs_ip(r, src.p, src.n, j.fld[F_SRC]);
    if (dst.n) {
        tide__tel_obs_ip(r, dst.p, dst.n, j.fld[F_DST]);
        if (j.v[F_DPORT].n)
            tide__tel_obs_ipport(r, dst.p, dst.n, j.v[F_DPORT].p, j.v[F_DPORT].n,
                    j.fld[F_DST]);
    }
    if (j.v[F_HTTP_HOST].n)
        tide__tel_obs_hostname(r, j.v[F_HTTP_HOST].p, j.v[F_HTTP_HOST].n, j.fld[F_HTTP_HOST]);
    if (j.v[F_URI].n) {
        tide__sv host = j.v[F_HTTP_HOST];
        if (host.n) { /* strip a default :80 */
            const char *c = memchr(host.p, ':', host.n);
            if (c && host.n - (size_t)(c - host.p) == 3 && memcmp(c, ":80", 3) == 0)
                host.n = (size_t)(c - host.p);
        }
        compose_url(r, host, j.fld[F_HTTP_HOST], j.v[F_URI], j.fld[F_URI]);
    }
    if (j.v[F_REFERRER].n)
        tide__tel_obs_url(r, j.v[F_REFERRER].p, j.v[F_REFERRER].n, j.fld[F_REFERRER], NULL);
    if (j.v[F_USER].n) {
        ev->user = j.v[F_USER].p;
        ev->user_len = j.v[F_USER].n;
    }
    if (r->format == TIDE_TEL_SYSMON) {
        if (j.v[F_HOSTNAME].n) {
            ev->host = j.v[F_HOSTNAME].p;
            ev->host_len = j.v[F_HOSTNAME].n;
        }
        long eid = -1;
        tide__sv e = j.eid;
        if (e.n && e.p[0] == '"')
            e.p++, e.n -= 2;
        if (e.n > 0 && e.n < 7) {
            eid = 0;
            for (size_t i = 0; i < e.n; i++)
                eid = (e.p[i] >= '0' && e.p[i] <= '9') ? eid * 10 + (e.p[i] - '0') : -1000000;
        }
        switch (eid) {
        case 1: ev->kind = "process"; break;
        case 3: ev->kind = "network"; break;
        case 22: ev->kind = "dns_query"; break;
        case 11: ev->kind = "file_create"; break;
        default:
            if (eid >= 0) {
                char *d = tide__tel_scratch(r, 16);
                if (d) {
                    int k = snprintf(d, 16, "event%ld", eid);
                    (void)k;
                    ev->kind = d;
                }
            } else
                ev->kind = "event";
        }
        return 1;
    }
    ev->kind = kind_str(r, j.v[F_KIND]);
    if (r->format == TIDE_TEL_ZEEK_JSON && ev->kind == NULL)
        ev->kind = "zeek";
    /* files log: the internal one of tx/rx hosts */
    if (!src.n && j.ntx) {
        for (size_t i = 0; i < j.ntx; i++) {
            tide__tel_obs_ip(r, j.tx[i].p, j.tx[i].n, "tx_hosts/rx_hosts");
            if (ev->host_len == 0 && tide_homenet_contains(r->home, j.tx[i].p, j.tx[i].n)) {
                ev->host = j.tx[i].p;
                ev->host_len = j.tx[i].n;
            }
        }
        if (ev->host_len == 0) {
            ev->host = j.tx[0].p;
            ev->host_len = j.tx[0].n;
        }
    } else
        tide__tel_pick_host(r, src, dst, ev);
    return 1;
}
