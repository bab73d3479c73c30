/*
 * tel_int.h - internals of the telemetry readers (SPEC C2) shared by the telemetry sources: the
 * record parser (everything a format's parse function touches) and the reader built on it (input
 * layer, framing), the format table, the per-format parse functions, the single-pass JSON scanner
 * and small helpers (observation list, scratch, addresses, time). The layers and who calls whom
 * are listed above struct tide_tel_parser.
 */
#ifndef TIDE_TELEMETRY_TEL_INT_H
#define TIDE_TELEMETRY_TEL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include <zlib.h>
#include <zstd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "tide/telemetry.h"
#include "util/ipaddr.h"
#include "util/util.h"

#define TIDE__TEL_DEFAULT_MAX_LINE (1u << 20)
#define TIDE__TEL_READ_CHUNK       (4u << 20)
/* read(2) size for plain files: small enough that the copy and the parse meet in the L2 cache */
#define TIDE__TEL_READ_SIZE (256u << 10)
#define TIDE__TEL_MAX_COLS  256
/* readable bytes after the end of the data in the line buffer, so 16-byte loads that start inside
 * a line never leave the allocation (the bytes past the line are masked off) */
#define TIDE__TEL_BUF_SLACK 64

#define TIDE__LIKELY(x)   __builtin_expect(!!(x), 1)
#define TIDE__UNLIKELY(x) __builtin_expect(!!(x), 0)

/* 8 / 4 bytes at p as one word (memcpy: no alignment needed, no library call) */
static inline uint64_t tide__ld64(const char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

static inline uint32_t tide__ld32(const char *p)
{
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

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
    int16_t *id; /* per node: path id reported there, -1 for none */
    size_t nnodes, nodes_cap;
    char **npath; /* per node: its dotted path (owned) */
    tide__jedge *edge;
    size_t mask; /* edge slots - 1 (power of two) */
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
__attribute__((always_inline)) static inline int tide__jpt_child(
        const tide__jpt *t, unsigned node, const char *k, size_t n)
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

enum {
    TIDE__JS_STR = 1,
    TIDE__JS_NUM,
    TIDE__JS_TRUE,
    TIDE__JS_FALSE,
    TIDE__JS_NULL
};

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
    char *key; /* kind name or ts/host/src/dst/user/kind/ip */
    char *path;
    int role; /* TIDE__FM_* */
    tide_obs_kind kind;
} tide__fm_entry;

enum {
    TIDE__FM_OBS = 0,
    TIDE__FM_IP,
    TIDE__FM_TS,
    TIDE__FM_HOST,
    TIDE__FM_SRC,
    TIDE__FM_DST,
    TIDE__FM_USER,
    TIDE__FM_KIND
};

struct tide_field_map {
    tide__fm_entry *e;
    size_t n, cap;
};

/* ---- the record parser, the input layer and the reader ----
 *
 * Layers (each its own file; see the contract comment at the top of each):
 *   tel_input.c   bytes in: a file descriptor, a memory buffer or a caller's byte source,
 *                 gzip / zstd detected by magic and decompressed (tide__tel_in)
 *   tel_frame.c   the reader's line buffer: lines (the line cap, CRLF, ASCII note), the
 *                 elements of JSON-array files (tide__tel_frame_next, its per-line fast path
 *                 inline in tel_frame.h)
 *   tel_parse.c   one framed record -> one event: detection, UTF-8 check, the format's parse
 *                 function, the event's observations (tide__tel_parse_record, inline below,
 *                 as the reader calls it for every record); the public
 *                 tide_tel_parser (records handed over one at a time)
 *   tel_formats.c the format table: name, aliases, detect, setup and parse function per format
 *   tel_obs.c     the helpers the parse functions share (observations, scratch, addresses,
 *                 host names, URLs, host choice); tel_time.c the timestamps
 *   tel_zeek.c, tel_json.c, tel_text.c   the parse functions; tel_reader.c the public reader
 * Everything a parse function touches is in struct tide_tel_parser; a reader embeds one as its
 * first member, so the parse functions take the same pointer whoever calls them. */
typedef enum {
    TEL_COMP_UNKNOWN = 0,
    TEL_COMP_NONE,
    TEL_COMP_GZIP,
    TEL_COMP_ZSTD
} tel_comp;

typedef struct {
    const char *p;
    size_t n;
} tide__sv;

/* Zeek TSV column roles */
enum {
    ZC_NONE = 0,
    ZC_TS,
    ZC_ORIG_H,
    ZC_ORIG_P,
    ZC_RESP_H,
    ZC_RESP_P,
    ZC_QUERY,
    ZC_ANSWERS,
    ZC_HOST,
    ZC_URI,
    ZC_REFERRER,
    ZC_SERVER_NAME,
    ZC_MD5,
    ZC_SHA1,
    ZC_SHA256,
    ZC_TX_HOSTS,
    ZC_RX_HOSTS,
    ZC_JA3,
    ZC_JA3S,
    ZC_X509_FP,
    ZC_EMAIL,
    ZC_EMAIL_SET,
    ZC_USER
};

typedef struct tide__tel_fmt tide__tel_fmt;

/* A format's parse function: one record p/n (TIDE__TEL_BUF_SLACK readable bytes past p + n; the
 * text is not changed) into ev. Returns 1 event, 0 no event (header, blank), -1 bad record
 * (r->bad set), < -1 error. */
typedef int (*tide__tel_parse_fn)(tide_tel_parser *r, char *p, size_t n, tide_event *ev);

struct tide_tel_parser {
    char *name; /* the input in reports (owned) */
    tide_tel_opts opts;
    tide_homenet *own_home; /* default set when opts.home_net is NULL */
    const tide_homenet *home;
    size_t max_line;
    tide_tel_format format;   /* TIDE_TEL_AUTO until detected */
    const tide__tel_fmt *fmt; /* its table entry (NULL while AUTO) */
    tide__tel_parse_fn parse; /* fmt->parse */

    /* per record */
    tide_observation *obs;
    size_t nobs, obs_cap;
    size_t obs0; /* first observation of the current record (a batch holds several) */
    char *scr;   /* grows only between batches (tide__tel_parser_scratch): values in it stay
                  * put while a batch is filled; like the line buffer it has
                  * TIDE__TEL_BUF_SLACK readable bytes past scr_cap */
    size_t scr_len, scr_cap;
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

    /* tide_tel_parse: the record copied with TIDE__TEL_BUF_SLACK zero bytes after it */
    char *rec;
    size_t rec_cap;
    uint64_t nrec; /* records handed over so far */
    bool seen;     /* a record that is not blank has been handed over */
};

/* Set up r (zeroed) for format (TIDE_TEL_AUTO: detect on the first record) with opts (may be
 * NULL) and name (reports; copied). Allocates the scratch for records of up to max_rec bytes
 * (0: max_line; never more than max_line): twice that plus 64 KiB, what a record may take. On
 * failure r still goes to tide__tel_parser_release. */
int tide__tel_parser_init(tide_tel_parser *r, tide_tel_format format, const char *name,
        const tide_tel_opts *opts, size_t max_rec);
/* Make the scratch at least 2 * n + 64 KiB (between records only: values move). */
int tide__tel_parser_scratch(tide_tel_parser *r, size_t n);
/* Free what r holds (not r itself). */
void tide__tel_parser_release(tide_tel_parser *r);

/* UTF-8 validity (RFC 3629: no overlongs, no surrogates, <= U+10FFFF); ASCII fast path. */
bool tide__utf8_valid(const char *p, size_t n);

/* ---- the format table (tel_formats.c) ---- */

/* which lines a format's detect function is offered (the first non-blank line of a file, until
 * one is decided; '#' lines nobody takes are skipped as comments) */
enum {
    TIDE__TEL_ON_HASH = 1, /* lines that start with '#' */
    TIDE__TEL_ON_JSON,     /* lines whose first non-blank byte is '{' */
    TIDE__TEL_ON_TEXT
}; /* every other line */
/* format flags */
enum {
    TIDE__TEL_F_JSON = 1, /* a JSON format: a file that opens an array is read element by
                           * element */
    TIDE__TEL_F_HEADERS = 2
}; /* '#' lines replace state events point into (Zeek column names):
    * a batch ends before one */

struct tide__tel_fmt {
    tide_tel_format id;
    const char *name;       /* tide_tel_format_name; also the event kind by default */
    const char *aliases[2]; /* more names tide_tel_format_parse takes (NULL: none) */
    const char *title;      /* in the "cannot detect" error (NULL: not listed) */
    int detect_on;          /* TIDE__TEL_ON_* */
    /* Whether the first line p/n is of this format (opts: e.g. whether a field map is given) */
    bool (*detect)(const char *p, size_t n, const tide_tel_opts *opts);
    int (*setup)(tide_tel_parser *r); /* once the format is known (NULL: nothing to do) */
    tide__tel_parse_fn parse;
    unsigned flags; /* TIDE__TEL_F_* */
};

/* The table entry of f, NULL for TIDE_TEL_AUTO or a value out of range. */
const tide__tel_fmt *tide__tel_fmt_of(tide_tel_format f);
/* Use format f from now on (sets r->format, r->fmt, r->parse) and run its setup. */
int tide__tel_set_format(tide_tel_parser *r, tide_tel_format f);
/* Decide r's format from the record p/n (line: for the error) through the table, and set it up.
 * 1 decided, 0 not yet (a '#' comment), < 0 error naming r->name and line. */
int tide__tel_detect(tide_tel_parser *r, const char *p, size_t n, uint64_t line);

/* The first record while r->format is TIDE_TEL_AUTO (tel_parse.c): 0 when blank or a comment,
 * 1 when it decided the format, < 0 (never -1) when it cannot be detected. */
int tide__tel_parse_detect(tide_tel_parser *r, const char *p, size_t n, uint64_t line);

/* One framed record (p/n with TIDE__TEL_BUF_SLACK readable bytes past it; ascii: the framing
 * saw no byte >= 0x80, so no UTF-8 check is needed; line: ev->line and the place in a detection
 * error) into ev, its observations from r->obs0 and its scratch from r->scr_len. Returns 1
 * event, 0 no event (blank, comment, header), -1 bad record (reason in r->bad), < -1 error
 * (format detection failed while r->format is still TIDE_TEL_AUTO: TIDE_EFORMAT naming the
 * input and line; or a format's hard error). ev->offset is left 0. Inline: the reader calls it
 * for every record (tel_parse.c has the rest of the record parser). */
__attribute__((always_inline)) static inline int tide__tel_parse_record(
        tide_tel_parser *r, char *p, size_t n, bool ascii, uint64_t line, tide_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->host = "";
    ev->line = line;
    r->nipc = 0;
    r->bad = NULL;
    if (TIDE__UNLIKELY(r->format == TIDE_TEL_AUTO)) {
        int rc = tide__tel_parse_detect(r, p, n, line);
        if (rc <= 0)
            return rc;
    }
    if (!ascii && !tide__utf8_valid(p, n)) {
        r->bad = "invalid UTF-8";
        return -1;
    }
    int rc = r->parse(r, p, n, ev);
    if (rc != 1)
        return rc;
    ev->nobs = r->nobs - r->obs0;
    ev->obs = ev->nobs ? r->obs + r->obs0 : NULL; /* r->obs is NULL until the first one */
    if (ev->kind == NULL)
        ev->kind = r->fmt->name;
    if (ev->host == NULL)
        ev->host = "";
    return 1;
}

/* ---- the input layer (tel_input.c) ---- */
enum {
    TEL_SRC_FD = 0,
    TEL_SRC_MEM,
    TEL_SRC_CB
};

typedef struct {
    const char *name; /* reports (borrowed from the reader's parser) */
    int src;          /* TEL_SRC_* */
    int fd;
    bool own_fd;
    const unsigned char *mem; /* TEL_SRC_MEM: the caller's buffer (borrowed until close) */
    size_t mem_len, mem_pos;
    tide_tel_input cb; /* TEL_SRC_CB */
    tel_comp comp;
    z_stream zs;
    bool zs_init, zs_end;
    ZSTD_DStream *zd;
    size_t zret;        /* last ZSTD_decompressStream hint (0 = frame complete) */
    unsigned char *raw; /* compressed bytes (only for compressed input) */
    size_t raw_pos, raw_len, raw_cap;
    bool raw_eof;
} tide__tel_in;

/* Decompressed bytes into dst[0..room) (the reader's line buffer; at: the stream offset of dst,
 * for messages). The first call sniffs the compression from the first bytes, read straight into
 * dst. Plain input is read in TIDE__TEL_READ_SIZE pieces. Returns the bytes added, 0 at the
 * (current) end, < 0 on an error (TIDE_EIO, or TIDE_EPARSE for corrupt or truncated compressed
 * data). */
ssize_t tide__tel_in_read(tide__tel_in *in, char *dst, size_t room, uint64_t at);
/* The bytes the input will give, when that is known before reading: plain (not compressed)
 * memory. */
bool tide__tel_in_size(const tide__tel_in *in, size_t *out);
/* Whether the input can grow after its end (follow): plain, not compressed. */
bool tide__tel_in_followable(const tide__tel_in *in);
/* Release the decompressors and buffers; closes the descriptor when owned. */
void tide__tel_in_close(tide__tel_in *in);

/* ---- the reader (tel_reader.c) over the framing (tel_frame.c) ---- */
struct tide_tel_reader {
    tide_tel_parser ps; /* first: the parse functions get &r->ps == (void *)r */
    tide__tel_in in;
    bool arr_ok; /* a JSON-array file may be read element by element (auto / JSON format) */

    /* framing */
    char *buf;
    bool line_ascii; /* the current line has no byte >= 0x80 (no UTF-8 check needed) */
    size_t cap, pos, end;
    size_t cap_max;    /* what cap may grow to: max_line + TIDE__TEL_READ_CHUNK */
    uint64_t base_off; /* stream offset of buf[0] */
    bool skipping;
    bool done;
    /* JSON-array files ("[ {...}, ... ]"): records are the array's elements */
    bool arr, arr_open, arr_skipping, first_seen;
    int arr_depth;
    bool arr_str, arr_esc;
    size_t arr_scan;   /* bytes of the current element scanned (from pos) */
    uint64_t arr_nl;   /* newlines inside them */
    uint64_t rec_line; /* line where the current record starts */
    uint64_t line;

    tide_tel_stats st;
    int pending_rc; /* an error met while filling a batch, returned by the next call */
};

/* next record with hold: the buffer would have to be refilled (which moves it) */
#define TIDE__TEL_HOLD 2

/* (framing: tel_frame.h) */
/* Give the line at p (the last one tide__tel_frame_next returned) back: it is read again. */
void tide__tel_frame_unread(tide_tel_reader *r, const char *p);
/* Count and report a bad record (stats, opts.on_bad). */
int tide__tel_bad(tide_tel_reader *r, uint64_t line, const char *reason);

/* per-record helpers */
int tide__tel_obs_grow(tide_tel_parser *r);
/* Add an observation (value borrowed from the line or scratch). */
static inline int tide__tel_obs(
        tide_tel_parser *r, tide_obs_kind k, const char *p, size_t n, const char *field)
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
char *tide__tel_scratch(tide_tel_parser *r, size_t n);
/* Add an IP observation (v4 or v6 by syntax); returns the kind added or NONE. */
tide_obs_kind tide__tel_obs_ip(tide_tel_parser *r, const char *p, size_t n, const char *field);
/* Add ip:port ("[v6]:port" for IPv6) composed in scratch. */
void tide__tel_obs_ipport(tide_tel_parser *r, const char *ip, size_t in, const char *port,
        size_t pn, const char *field);
/* Add a host name: DOMAIN, or IP when it is an IP literal; strips ":port" and a trailing dot. */
void tide__tel_obs_hostname(tide_tel_parser *r, const char *p, size_t n, const char *field);
/* Add a URL and its host as DOMAIN/IP. */
void tide__tel_obs_url(
        tide_tel_parser *r, const char *p, size_t n, const char *field, const char *host_field);
/* The two ends of a connection record at once: IP observations of src and dst (fields sfield,
 * dfield), the ip:port of dst and port (pfield) when port is set, then, when ev is not NULL,
 * the event host as tide__tel_pick_host(src, dst) picks it. Each address is parsed once (the
 * separate calls parse or look up each end three times: observation, ip:port, home check). */
void tide__tel_obs_conn(tide_tel_parser *r, tide__sv src, const char *sfield, tide__sv dst,
        const char *dfield, tide__sv port, const char *pfield, tide_event *ev);
/* Pick the internal endpoint of src/dst into ev host. */
void tide__tel_pick_host(tide_tel_parser *r, tide__sv src, tide__sv dst, tide_event *ev);
/* Whether the address text p/n (an IP, else false) is in the home networks; reuses the parse
 * of tide__tel_obs_ip for the same text of this record. */
bool tide__tel_is_home(tide_tel_parser *r, const char *p, size_t n);
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
/* Times -> microseconds since the epoch; false when not parseable (tel_time.c). */
bool tide__tel_epoch_us(const char *p, size_t n, int64_t *out);
bool tide__tel_iso_us(const char *p, size_t n, int64_t *out);

/* ---- the formats: detect, setup and parse functions named by the table (tel_formats.c) ---- */
/* Zeek TSV (tel_zeek.c) */
bool tide__tel_zeek_detect(const char *p, size_t n, const tide_tel_opts *o);
int tide__tel_zeek_setup(tide_tel_parser *r);
int tide__tel_zeek_line(tide_tel_parser *r, char *p, size_t n, tide_event *ev);
/* the JSON formats (tel_json.c): one parse function for all of them, paths chosen by setup */
bool tide__tel_eve_detect(const char *p, size_t n, const tide_tel_opts *o);
bool tide__tel_sysmon_detect(const char *p, size_t n, const tide_tel_opts *o);
bool tide__tel_zeek_json_detect(const char *p, size_t n, const tide_tel_opts *o);
bool tide__tel_ndjson_detect(const char *p, size_t n, const tide_tel_opts *o);
int tide__tel_json_setup(tide_tel_parser *r);
int tide__tel_json_line(tide_tel_parser *r, char *p, size_t n, tide_event *ev);
/* Squid, web logs, syslog, CEF (tel_text.c) */
bool tide__tel_squid_detect(const char *p, size_t n, const tide_tel_opts *o);
bool tide__tel_weblog_detect(const char *p, size_t n, const tide_tel_opts *o);
bool tide__tel_syslog_detect(const char *p, size_t n, const tide_tel_opts *o);
bool tide__tel_cef_detect(const char *p, size_t n, const tide_tel_opts *o);
int tide__tel_squid_line(tide_tel_parser *r, char *p, size_t n, tide_event *ev);
int tide__tel_weblog_line(tide_tel_parser *r, char *p, size_t n, tide_event *ev);
int tide__tel_syslog_line(tide_tel_parser *r, char *p, size_t n, tide_event *ev);
int tide__tel_cef_line(tide_tel_parser *r, char *p, size_t n, tide_event *ev);
/* Free-text observable extraction (syslog messages). */
void tide__tel_scan_text(tide_tel_parser *r, const char *p, size_t n, const char *field);

#endif
