/*
 * tel_int.h - internals of the telemetry readers (SPEC C2) shared by the telemetry sources: the
 * reader structure (input layer + per-record scratch), the per-format record parsers, the
 * single-pass JSON scanner and small helpers (IP syntax, time, observation list).
 */
#ifndef TIDE_TELEMETRY_TEL_INT_H
#define TIDE_TELEMETRY_TEL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <zlib.h>
#include <zstd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "tide/telemetry.h"
#include "util/util.h"

#define TIDE__TEL_DEFAULT_MAX_LINE (1u << 20)
#define TIDE__TEL_READ_CHUNK (4u << 20)
/* read(2) size for plain files: small enough that the copy and the parse meet in the L2 cache */
#define TIDE__TEL_READ_SIZE (256u << 10)
#define TIDE__TEL_MAX_COLS 256
/* readable bytes after the end of the data in the line buffer, so 16-byte loads that start inside
 * a line never leave the allocation (the bytes past the line are masked off) */
#define TIDE__TEL_BUF_SLACK 64

#define TIDE__LIKELY(x) __builtin_expect(!!(x), 1)
#define TIDE__UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- JSON path trie: the dotted key paths of interest, compiled once per reader ----
 * Nodes are the component prefixes of the paths ("dns", "dns.answers", ...; node 0 is the root);
 * an edge goes from a prefix to every longer prefix, labelled with the dotted rest, so a flat key
 * "id.orig_h" and nested {"id":{"orig_h":..}} reach the same node. Edges live in one open-
 * addressing table keyed by (node, key); a key that is no edge sends the scanner into a plain
 * validate-and-skip mode for its value. */
typedef struct {
    const char *key;
    uint16_t node, klen;
    int16_t child; /* -1: empty slot */
} tide__jedge;

typedef struct {
    int16_t *id;    /* per node: path id reported there, -1 for none */
    size_t nnodes, nodes_cap;
    char **npath;   /* per node: its dotted path (owned) */
    tide__jedge *edge;
    size_t mask;    /* edge slots - 1 (power of two) */
    size_t nedges;
} tide__jpt;

/* Empty trie (only the root). */
int tide__jpt_init(tide__jpt *t);
/* Add a dotted path reported with id (the first id given for a path wins). */
int tide__jpt_add(tide__jpt *t, const char *path, int id);
void tide__jpt_free(tide__jpt *t);

static inline uint32_t tide__jedge_hash(unsigned node, const char *k, size_t n)
{
    /* one multiply: the key's first, middle and last bytes, its length and the node (this runs
     * once per key of every record, and most keys are no edge at all) */
    uint32_t x = (uint32_t)node * 0x9E3779B1u ^ (uint32_t)n << 24;
    if (n)
        x ^= (uint32_t)(unsigned char)k[0] | (uint32_t)(unsigned char)k[n - 1] << 8 |
             (uint32_t)(unsigned char)k[n >> 1] << 16;
    return (x * 0x9E3779B1u) >> 8;
}

/* a[0..n) == b[0..n) without a library call for the usual short keys */
static inline bool tide__mem_eq(const char *a, const char *b, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t x, y, x2, y2;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        memcpy(&x2, a + n - 8, 8);
        memcpy(&y2, b + n - 8, 8);
        return x == y && x2 == y2;
    }
    if (n >= 4 && n < 8) {
        uint32_t x, y, x2, y2;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        memcpy(&x2, a + n - 4, 4);
        memcpy(&y2, b + n - 4, 4);
        return x == y && x2 == y2;
    }
    return memcmp(a, b, n) == 0;
}

/* a[0..n) == b[0..n) for keys over 16 bytes (rare: out of line, so that the lookup below keeps
 * its registers) */
bool tide__key_eq_long(const char *a, const char *b, size_t n);

/* Edge keys carry 16 readable bytes past their end (see node_of in tel_json.c) and the keys
 * looked up are in the line buffer (TIDE__TEL_BUF_SLACK), so keys of up to 16 bytes are compared
 * with one 16-byte compare. */
static inline bool tide__key_eq(const char *a, const char *b, size_t n)
{
#ifdef __SSE2__
    if (n <= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)a);
        __m128i y = _mm_loadu_si128((const __m128i *)(const void *)b);
        unsigned eq = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, y));
        return (~eq & ((1u << n) - 1)) == 0;
    }
#endif
    return tide__key_eq_long(a, b, n);
}

/* The child of node for key k/n, or -1. Always inlined into the scanner: it runs for every key
 * of every record, and as a call it cost about 60 instructions, most of them saving registers. */
__attribute__((always_inline)) static inline int tide__jpt_child(const tide__jpt *t,
        unsigned node, const char *k, size_t n)
{
    size_t s = tide__jedge_hash(node, k, n) & t->mask;
    for (;;) {
        const tide__jedge *e = &t->edge[s];
        if (e->child < 0)
            return -1;
        if (e->node == node && e->klen == n && tide__key_eq(e->key, k, n))
            return e->child;
        s = (s + 1) & t->mask;
    }
}

enum { TIDE__JS_STR = 1, TIDE__JS_NUM, TIDE__JS_TRUE, TIDE__JS_FALSE, TIDE__JS_NULL };

/* Called for each scalar whose path is in the table (array elements use the array's path;
 * objects inside arrays are transparent). v/n is the raw text (for strings: between the
 * quotes, still escaped when esc). Return < 0 to stop with a reason in *why. */
typedef int (*tide__jscan_cb)(void *ctx, int id, int type, const char *v, size_t n, bool esc,
        bool in_array, const char **why);

/* Validate one JSON object (the whole of p/n, blanks around it allowed) and report the values
 * of interest. Returns 0, or -1 with *why (static text) and *where (byte offset) set. p must be
 * in the reader's line buffer: up to 64 bytes past p + n are read (TIDE__TEL_BUF_SLACK). */
int tide__jscan(const char *p, size_t n, const tide__jpt *t, tide__jscan_cb cb, void *ctx,
        const char **why, size_t *where);
/* Unescape the JSON string body s/n into out (room for n bytes). Returns the length or -1. */
long tide__junescape(const char *s, size_t n, char *out);
/* The same for s in the line buffer and out in the scratch (TIDE__TEL_BUF_SLACK readable /
 * writable bytes past s + n and out + n): 16 bytes at a time. */
long tide__junescape_slack(const char *s, size_t n, char *out);

/* ---- field map ---- */
typedef struct {
    char *key;  /* kind name or ts/host/src/dst/user/kind/ip */
    char *path;
    int role;   /* TIDE__FM_* */
    tide_obs_kind kind;
} tide__fm_entry;

enum { TIDE__FM_OBS = 0, TIDE__FM_IP, TIDE__FM_TS, TIDE__FM_HOST, TIDE__FM_SRC, TIDE__FM_DST,
    TIDE__FM_USER, TIDE__FM_KIND };

struct tide_field_map {
    tide__fm_entry *e;
    size_t n, cap;
};

/* ---- the reader ---- */
typedef enum { TEL_COMP_UNKNOWN = 0, TEL_COMP_NONE, TEL_COMP_GZIP, TEL_COMP_ZSTD } tel_comp;

typedef struct { const char *p; size_t n; } tide__sv;

/* Zeek TSV column roles */
enum { ZC_NONE = 0, ZC_TS, ZC_ORIG_H, ZC_ORIG_P, ZC_RESP_H, ZC_RESP_P, ZC_QUERY, ZC_ANSWERS,
    ZC_HOST, ZC_URI, ZC_REFERRER, ZC_SERVER_NAME, ZC_MD5, ZC_SHA1, ZC_SHA256, ZC_TX_HOSTS,
    ZC_RX_HOSTS, ZC_JA3, ZC_JA3S, ZC_X509_FP, ZC_EMAIL, ZC_EMAIL_SET, ZC_USER };

struct tide_tel_reader {
    char *name;
    int fd;
    bool own_fd;
    tide_tel_opts opts;
    tide_homenet *own_home; /* default set when opts.home_net is NULL */
    const tide_homenet *home;
    size_t max_line;
    tide_tel_format format;

    /* input */
    tel_comp comp;
    z_stream zs;
    bool zs_init, zs_end;
    ZSTD_DStream *zd;
    size_t zret; /* last ZSTD_decompressStream hint (0 = frame complete) */
    unsigned char *in;
    size_t in_pos, in_len, in_cap;
    bool in_eof;
    char *buf;
    bool line_ascii; /* the current line has no byte >= 0x80 (no UTF-8 check needed) */
    size_t cap, pos, end;
    uint64_t base_off; /* stream offset of buf[0] */
    bool skipping;
    uint64_t skip_line;
    bool done;
    /* JSON-array files ("[ {...}, ... ]"): records are the array's elements */
    bool arr, arr_open, arr_skipping, first_seen;
    int arr_depth;
    bool arr_str, arr_esc;
    size_t arr_scan;     /* bytes of the current element scanned (from pos) */
    uint64_t arr_nl;     /* newlines inside them */
    uint64_t rec_line;   /* line where the current record starts */

    tide_tel_stats st;

    /* per record */
    tide_observation *obs;
    size_t nobs, obs_cap;
    size_t obs0;     /* first observation of the current record (a batch holds several) */
    int pending_rc;  /* an error met while filling a batch, returned by the next call */
    char *scr;       /* fixed size: values in it stay put while a batch is filled; like the
                      * line buffer it has TIDE__TEL_BUF_SLACK readable bytes past scr_cap */
    size_t scr_len, scr_cap;
    uint64_t line;
    const char *bad; /* reason of the current bad record */
    /* addresses parsed in this record (observation -> home-net check without a second parse) */
    struct {
        const char *p;
        size_t n;
        int fam;
        uint8_t a[16];
    } ipc[4];
    unsigned nipc;

    /* zeek TSV state */
    char zsep, zsetsep;
    char *zempty, *zunset, *zpath;
    size_t zempty_len, zunset_len;
    char **zcols;
    uint8_t *zrole;
    uint16_t *zrc; /* the columns that have a role, in order */
    size_t nzrc;
    size_t ncols;
    size_t zlast; /* last column with a role + 1 */

    /* JSON formats */
    tide__jpt *jpt;
    char kindbuf[32];
};

/* input layer (tel_reader.c) */
int tide__tel_bad(tide_tel_reader *r, uint64_t line, const char *reason);
bool tide__utf8_valid(const char *p, size_t n);

/* per-record helpers */
int tide__tel_obs_grow(tide_tel_reader *r);
/* Add an observation (value borrowed from the line or scratch). */
static inline int tide__tel_obs(tide_tel_reader *r, tide_obs_kind k, const char *p, size_t n,
        const char *field)
{
    if (TIDE__UNLIKELY(n == 0))
        return 0;
    if (TIDE__UNLIKELY(r->nobs == r->obs_cap)) {
        int rc = tide__tel_obs_grow(r);
        if (rc <= 0)
            return rc;
    }
    tide_observation *o = &r->obs[r->nobs++];
    o->kind = k;
    o->value = p;
    o->len = n;
    o->field = field;
    o->addr_len = 0;
    return 0;
}
/* Reserve n bytes of per-record scratch (stable until the next record); NULL when full. */
char *tide__tel_scratch(tide_tel_reader *r, size_t n);
/* Add an IP observation (v4 or v6 by syntax); returns the kind added or NONE. */
tide_obs_kind tide__tel_obs_ip(tide_tel_reader *r, const char *p, size_t n, const char *field);
/* Add ip:port ("[v6]:port" for IPv6) composed in scratch. */
void tide__tel_obs_ipport(tide_tel_reader *r, const char *ip, size_t in, const char *port,
        size_t pn, const char *field);
/* Add a host name: DOMAIN, or IP when it is an IP literal; strips ":port" and a trailing dot. */
void tide__tel_obs_hostname(tide_tel_reader *r, const char *p, size_t n, const char *field);
/* Add a URL and its host as DOMAIN/IP. */
void tide__tel_obs_url(tide_tel_reader *r, const char *p, size_t n, const char *field,
        const char *host_field);
/* The two ends of a connection record at once: IP observations of src and dst (fields sfield,
 * dfield), the ip:port of dst and port (pfield) when port is set, then, when ev is not NULL,
 * the event host as tide__tel_pick_host(src, dst) picks it. Each address is parsed once (the
 * separate calls parse or look up each end three times: observation, ip:port, home check). */
void tide__tel_obs_conn(tide_tel_reader *r, tide__sv src, const char *sfield, tide__sv dst,
        const char *dfield, tide__sv port, const char *pfield, tide_event *ev);
/* Pick the internal endpoint of src/dst into ev host. */
void tide__tel_pick_host(tide_tel_reader *r, tide__sv src, tide__sv dst, tide_event *ev);
/* Whether the address text p/n (an IP, else false) is in the home networks; reuses the parse
 * of tide__tel_obs_ip for the same text of this record. */
bool tide__tel_is_home(tide_tel_reader *r, const char *p, size_t n);
/* ---- home networks (tel_homenet.c) ---- */
typedef struct {
    int family;
    uint8_t addr[16];
    unsigned plen;
    uint32_t net4, mask4; /* IPv4: host-order network and mask */
} tide__hn_cidr;

struct tide_homenet {
    tide__hn_cidr *c;
    size_t n;
    /* the IPv4 networks again, packed for a check without a branch per network */
    uint32_t *net4, *mask4;
    size_t n4;
    /* per first octet: 0 no IPv4 network touches that /8, 1 one covers all of it, 2 look at
     * the networks (most addresses of an event are public ones: one load decides) */
    uint8_t top8[256];
};

/* Home-net membership of a parsed address (family 4: a[0..3], 6: a[0..15]). */
bool tide__homenet_contains_addr_slow(const tide_homenet *h, int fam, const uint8_t a[16]);
/* The same; the usual IPv4 address, decided by its first octet alone, without a call (this runs
 * for one or two addresses of most events). */
static inline bool tide__homenet_contains_addr(const tide_homenet *h, int fam, const uint8_t a[16])
{
    if (h != NULL && fam == 4 && h->top8[a[0]] < 2)
        return h->top8[a[0]] != 0;
    return tide__homenet_contains_addr_slow(h, fam, a);
}

tide_obs_kind tide__ip_kind(const char *p, size_t n);
bool tide__ipv4_parse(const char *p, size_t n, uint8_t out[4]);
/* tide__ipv4_parse for text with TIDE__TEL_BUF_SLACK readable bytes past p + n (the line buffer,
 * the scratch): as tide__tel_obs_ip etc. parse (exposed for tests/unit/test_telemetry.c). */
bool tide__ipv4_parse_slack(const char *p, size_t n, uint8_t out[4]);
bool tide__ip_parse(const char *p, size_t n, int *family, uint8_t out[16]);
extern const unsigned char tide__hex_tab[256];
#ifdef __SSE2__
/* bit per byte of x that is a hex digit */
static inline unsigned tide__hex_mask16(__m128i x)
{
    __m128i d = _mm_sub_epi8(x, _mm_set1_epi8('0'));
    __m128i l = _mm_sub_epi8(_mm_or_si128(x, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));
    __m128i ok = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d),
            _mm_cmpeq_epi8(_mm_min_epu8(l, _mm_set1_epi8(5)), l));
    return (unsigned)_mm_movemask_epi8(ok);
}
#endif

/* All of p[0..n) hex digits (16 at a time; the last block overlaps the one before). */
static inline bool tide__is_hex(const char *p, size_t n)
{
    const unsigned char *u = (const unsigned char *)p;
#ifdef __SSE2__
    if (n >= 16) {
        unsigned all = 0xFFFF;
        for (size_t i = 0;; i += 16) {
            if (i + 16 > n)
                i = n - 16;
            all &= tide__hex_mask16(_mm_loadu_si128((const __m128i *)(const void *)(u + i)));
            if (i + 16 >= n)
                break;
        }
        return all == 0xFFFF;
    }
#endif
    unsigned ok = 1;
    for (size_t i = 0; i < n; i++)
        ok &= tide__hex_tab[u[i]];
    return ok != 0;
}
/* Times -> microseconds since the epoch; false when not parseable. */
bool tide__tel_epoch_us(const char *p, size_t n, int64_t *out);
bool tide__tel_iso_us(const char *p, size_t n, int64_t *out);

/* parsers: return 1 event, 0 no event (header, blank), -1 bad record (r->bad set), < -1 error */
int tide__tel_zeek_line(tide_tel_reader *r, char *p, size_t n, tide_event *ev);
int tide__tel_json_line(tide_tel_reader *r, char *p, size_t n, tide_event *ev);
int tide__tel_json_setup(tide_tel_reader *r);
int tide__tel_squid_line(tide_tel_reader *r, char *p, size_t n, tide_event *ev);
int tide__tel_weblog_line(tide_tel_reader *r, char *p, size_t n, tide_event *ev);
int tide__tel_syslog_line(tide_tel_reader *r, char *p, size_t n, tide_event *ev);
int tide__tel_cef_line(tide_tel_reader *r, char *p, size_t n, tide_event *ev);
/* Free-text observable extraction (syslog messages). */
void tide__tel_scan_text(tide_tel_reader *r, const char *p, size_t n, const char *field);

/* detection helpers (tel_text.c) */
bool tide__tel_looks_squid(const char *p, size_t n);
bool tide__tel_looks_weblog(const char *p, size_t n);
bool tide__tel_looks_syslog(const char *p, size_t n);
bool tide__tel_looks_cef(const char *p, size_t n);

#endif
