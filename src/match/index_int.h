/*
 * index_int.h - layout of the compiled match index, shared by the builder (index_build.c),
 * the file format (index_file.c) and the lookups (lookup.c).
 *
 * An index is one image: a header followed by sections at 8-byte aligned offsets, in one
 * block of (huge-page backed where possible) memory, built or read from a file as is. Nothing
 * in the image is a pointer, so a file is used without any decoding.
 *
 *   entries   ix_entry (32 bytes) per (indicator, observable). Several indicators sharing
 *             one key are chained, newest first: the table holds the newest entry, and each
 *             entry with an older one of its key is flagged IX_CHAINED and has it in chain
 *             (rare: a side list, not a 4-byte field in every entry)
 *   table     open addressing over keys, table_cap = 2 x keys 32-bit slots (load 1/2, any
 *             count: not rounded up to a power of two, which cost up to twice the bytes): the
 *             low idx_bits (tide__ix_idx_bits(nentries)) hold entry index + 1, 0 = empty; the
 *             bits above them hold the same bits of the key hash's high half (tag_mask), so
 *             most other keys in a slot are told apart without reading their entry. The hash
 *             is XXH3-64 of the key bytes seeded by kind; the first slot probed is its low 32
 *             bits scaled to the table (tide__ix_slot), then the next ones, wrapping.
 *   pool      key bytes and NUL-terminated strings (ids that are not "indicator--UUID",
 *             context strings, name lists, patterns)
 *   ctx       ix_ctx records shared by entries with equal context
 *   seg4/cov4 IPv4 CIDRs as elementary intervals: seg4[i] is the first address of segment i,
 *             cov4[i] = (offset, count) of the entries of every CIDR that contains it in
 *             covlist; jump4[t] = first segment whose start >= t << (32 - jump_bits), for
 *             the top jump_bits (4..16) bits t of an address (2^jump_bits + 1 values)
 *   covmap4   a bitset of 2^COVMAP4_BITS bits, one per /COVMAP4_BITS block of IPv4 space, set
 *             when some CIDR covers part of the block: most addresses are in no listed CIDR,
 *             and this 128 KB map answers so without the segment search
 *   seg6/cov6 the same for IPv6 with 16-byte big-endian starts (binary search only)
 *   covlist   uint32 entry indexes
 *   supp      (entry, pool offset of the list name) for suppressed entries, sorted by entry
 *   chain     (entry, next entry with the same key) for the IX_CHAINED entries, sorted by entry
 *   frags     ix_frag per literal fragment of a LIKE / MATCHES pattern (tide_pattern_prefilter):
 *             the observation kinds it is looked for in, the entry of its indicator (flagged
 *             IX_PATTERN_ONLY: in no table, its key the pattern text, shown as the value)
 *   left      ix_left per indicator left out (expired, revoked, nothing to look for ...),
 *             with its id and the reason, for tide index info --left-out
 *   filter    a bitset of 2^filter_bits bits (about 16 per key), bit (hash >> 20) mod
 *             2^filter_bits set for every key of the table: most observed values are not
 *             indicators, and the filter (a few MB, cache-resident) answers "absent" without
 *             touching the big table
 *
 * Size (issue 18: <= 64 bytes per indicator at SPEC C10's 1 M, every byte of the image counted):
 * at 1 M the entries are 32 bytes per indicator, the table 7.8 (2 slots of 4 bytes for each of
 * 970 000 keys), the pool 16.7 (keys and their NULs), the filter 2.1, all else 1.3: 59.8.
 * The table's load stays <= 1/2 (a filter false positive probes to an empty slot) and the
 * filter at ~16 bits per key (its false positives reach the table): both are speed, not size.
 *
 * Keys by kind: IPv4 4 bytes, IPv6 16, ip-port address bytes + 2-byte port, cidr (network
 * bytes + prefix length; only in the segment sections), hashes / JA3 / x509 binary, domain,
 * url, url-path, email: canonical text.
 */
#ifndef TIDE_MATCH_INDEX_INT_H
#define TIDE_MATCH_INDEX_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "match/keys.h"
#include "tide/match.h"

#define XXH_INLINE_ALL
#include <xxhash.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define IX_MAGIC     "TIDEIDX1"
#define IX_VERSION   6u /* 6: 32-bit slots, any table size, chain out of ix_entry (issue 18) */
#define COVMAP4_BITS 20 /* /20 blocks: 2^20 bits, 128 KB */

enum {
    IX_SUPPRESSED = 1,
    IX_ID_IN_POOL = 2,   /* uuid[0..3] holds the pool offset of the full id */
    IX_NONSIMPLE = 4,    /* the pattern is more than its observables: evaluate on a hit */
    IX_PATTERN_ONLY = 8, /* found by its fragments (frags), not by a key: in no table */
    IX_CHAINED = 16,     /* an older entry has the same key: chain holds which */
};

typedef struct {
    uint32_t entry; /* the IX_PATTERN_ONLY entry of the indicator */
    uint32_t off;   /* pool offset of the fragment (ASCII lower case) */
    uint32_t kinds; /* bit k: looked for in observations of kind k */
    uint16_t len;   /* 3 .. IX_MAX_KEY */
    uint16_t pad;
} ix_frag;

typedef struct {
    uint32_t id;     /* pool offset of the indicator id */
    uint32_t reason; /* tide_left_out_reason */
    uint32_t detail; /* pool offset of the detail text, UINT32_MAX = none */
    uint32_t pad;
} ix_left;

/* 32 bytes: the bulk of the image (one per indicator observable), so nothing rare lives here
 * (the next entry of a shared key is in chain; suppression lists in supp) */
typedef struct {
    uint8_t uuid[16];
    uint32_t key_off;
    uint32_t ctx;
    uint16_t key_len;
    uint8_t kind;
    uint8_t flags;
    uint8_t score;
    int8_t confidence; /* -1 unknown */
    uint8_t cidr_len;  /* prefix length of cidr entries */
    uint8_t pad;
} ix_entry;
_Static_assert(sizeof(ix_entry) == 32, "ix_entry is the bulk of the image: keep it 32 bytes");

typedef struct {
    uint32_t source, tlp, kill_chain; /* pool offsets, UINT32_MAX = none */
    uint32_t campaigns, malware, actors;
    uint32_t pattern; /* pool offset of the pattern (non-simple), or none */
    uint16_t ncampaigns, nmalware, nactors;
    uint16_t pad;
} ix_ctx;

typedef struct {
    uint32_t off, count;
} ix_cover;

typedef struct {
    uint32_t entry, name;
} ix_supp;

typedef struct {
    uint32_t entry, next; /* next: the entry after entry with the same key */
} ix_chain;

enum {
    S_ENTRIES,
    S_TABLE,
    S_POOL,
    S_CTX,
    S_SEG4,
    S_COV4,
    S_JUMP4,
    S_SEG6,
    S_COV6,
    S_COVLIST,
    S_SUPP,
    S_FILTER,
    S_COVMAP4,
    S_FRAGS,
    S_LEFT,
    S_CHAIN,
    S__COUNT
};

typedef struct {
    char magic[8];
    uint32_t version;
    uint32_t endian; /* 0x01020304 as written */
    uint64_t size;
    int64_t built_at, generation;
    uint64_t nentries, nindicators, ncidrs, nsuppressed, nskipped;
    uint64_t table_cap; /* 16 .. 2^32 slots */
    uint64_t nseg4, nseg6, ncovlist, nctx, nsupp;
    uint64_t nfrags, nleft, npattern_only, nchain;
    uint64_t left_by[8];  /* left-out indicators per tide_left_out_reason */
    uint32_t kind_mask;   /* bit k set when kind k has entries */
    uint32_t jump_bits;   /* 0 without IPv4 CIDRs */
    uint32_t filter_bits; /* log2 of the filter's size in bits */
    uint32_t decay_key;   /* tide_decay_key of the decay configuration scored with */
    struct {
        uint64_t off, len;
    } sec[S__COUNT];
    uint64_t checksum; /* XXH3-64 of the image after the header */
} ix_header;

struct tide_match_index {
    const uint8_t *base;
    size_t size;
    const ix_header *h;
    const ix_entry *entries;
    const uint32_t *table;
    uint32_t tag_mask; /* the tag bits of a slot: ~(2^idx_bits - 1) */
    const char *pool;
    const ix_ctx *ctx;
    const uint32_t *seg4;
    const ix_cover *cov4, *cov6;
    const uint32_t *jump4;
    const uint8_t *seg6; /* 16 bytes each */
    const uint32_t *covlist;
    const ix_supp *supp;
    const uint64_t *filter;
    uint64_t filter_mask;    /* bits - 1 */
    const uint64_t *covmap4; /* NULL without IPv4 CIDRs */
    const ix_frag *frags;
    const ix_left *left;
    const ix_chain *chain;
};

/* The first table slot of a key hash: its low 32 bits scaled to cap (<= 2^32) by a multiply
 * (Lemire's range reduction), so the table can have any size. */
static inline uint64_t tide__ix_slot(uint64_t h, uint64_t cap)
{
    return ((h & 0xFFFFFFFFu) * cap) >> 32;
}

/* Bits of a table slot that hold entry index + 1 (1 .. nentries): the rest is tag. */
static inline unsigned tide__ix_idx_bits(uint64_t nentries)
{
    unsigned b = 1;
    while (b < 32 && ((uint64_t)1 << b) <= nentries)
        b++;
    return b;
}

/* Report entry idx as a hit (what tide__ix_probe_run does for each entry it finds). */
int tide__ix_emit(const tide_match_index *ix, uint32_t idx,
        int (*cb)(const tide_match_hit *hit, void *payload), void *payload);

/* Point the section pointers of ix at its image, checking every bound. */
int tide__ix_bind(tide_match_index *ix, const uint8_t *base, size_t size, const char *what);

/* tide__ix_encode and IX_MAX_KEY, the value encodings: match/keys.h */

/* Look up an already encoded key (tide__ix_encode): tide_match_lookup without the encoding. */
int tide__ix_lookup_key(const tide_match_index *ix, tide_obs_kind kind, const uint8_t *key,
        size_t len, int (*cb)(const tide_match_hit *hit, void *payload), void *payload);
/* A lookup in steps, for the matcher's pipeline (lookup.c). An encoded observed value expands
 * into probes: the key itself, each listed parent of a domain, each path suffix of a URL, the
 * CIDR segment search of an address. tide__ix_probes creates them, hashes each key once and
 * prefetches what the next step reads; tide__ix_probe_step then tests the filter (dropping
 * most probes: op becomes IXP_NONE) or reads the jump table, and prefetches the table slot or
 * the segments; tide__ix_probe_run finishes the probe and reports its entries. Between the
 * steps the matcher works on other events, so the cache misses of many probes overlap. */
enum {
    IXP_NONE,
    IXP_EXACT,
    IXP_CIDR4_COV,  /* IPv4 range search, its /20 block map word prefetched, not yet tested */
    IXP_CIDR4_JUMP, /* the block is covered: its jump table entries prefetched */
    IXP_CIDR4,      /* the segments to search known (lo, hi) and prefetched */
    IXP_CIDR4_SEG,  /* the segment holding the address found (lo): its coverage prefetched */
    IXP_CIDR4_LIST, /* the coverage read (lo = its CIDR list, hi = their count): list prefetched */
    IXP_CIDR4_ENTRIES, /* as IXP_CIDR4_LIST, the entries of the list prefetched */
    IXP_CIDR6
};
typedef struct {
    uint64_t hash;      /* IXP_EXACT: tide__ix_hash of the key */
    const uint8_t *key; /* borrowed: must stay valid until the probe has run */
    uint32_t len;
    uint32_t lo, hi; /* IXP_CIDR4 after the step: the segments to search */
    uint32_t obs;    /* the caller's: which observation the probe is for */
    uint8_t kind;    /* kind of the key (TIDE_OBS_URL_PATH for the path suffixes of a URL) */
    uint8_t op;
} ix_probe;

/* The probes of one encoded key of kind k, in lookup order, written to out (up to cap of
 * them); returns how many there are (call again with more room when that exceeds cap). */
size_t tide__ix_probes(const tide_match_index *ix, tide_obs_kind k, const uint8_t *key, size_t len,
        ix_probe *out, size_t cap);
/* After tide__ix_probe_step. cb returning non-zero stops (that value is returned). */
int tide__ix_probe_run(const tide_match_index *ix, const ix_probe *p,
        int (*cb)(const tide_match_hit *hit, void *payload), void *payload);

/* The 64-bit hash of a key (callers use tag = h >> 32). XXH3 compiled inline: it runs for
 * every observed value, where the library call and its length dispatch were a tenth of the
 * lookup time. Same function as the library's, so saved indexes stay valid. */
static inline uint64_t tide__ix_hash(tide_obs_kind kind, const uint8_t *key, size_t n)
{
    return XXH3_64bits_withSeed(key, n, (uint64_t)kind * 0x9E3779B97F4A7C15ULL);
}

/* Write the canonical text of an entry's value into buf (at least IX_MAX_KEY + 64 bytes);
 * returns its length. Text kinds point into the pool instead (*out set, buf unused). */
size_t tide__ix_value_text(
        const tide_match_index *ix, const ix_entry *e, char *buf, const char **out);

/* ---- the per-probe steps, inline: they run for every observation of every event, and the
 * matcher (another translation unit, no LTO) called them once per probe and step ---- */

/* The filter word of a key hash. */
static inline const uint64_t *tide__ix_filter_word(const tide_match_index *ix, uint64_t h)
{
    return &ix->filter[((h >> 20) & ix->filter_mask) / 64];
}

static inline uint32_t tide__ix_v4_of(const uint8_t k[4])
{
    return (uint32_t)k[0] << 24 | (uint32_t)k[1] << 16 | (uint32_t)k[2] << 8 | k[3];
}

/* Whether an observation of this kind may match anything in ix (before encoding it). */
static inline bool tide__ix_may_match(const tide_match_index *ix, tide_obs_kind k)
{
    uint32_t m = ix->h->kind_mask;
    switch (k) {
        case TIDE_OBS_IPV4: return (m & (1u << TIDE_OBS_IPV4)) || ix->h->nseg4;
        case TIDE_OBS_IPV6: /* an IPv4-mapped address is looked up as IPv4 */
            return (m & (1u << TIDE_OBS_IPV4 | 1u << TIDE_OBS_IPV6)) || ix->h->nseg4 ||
                   ix->h->nseg6;
        case TIDE_OBS_URL: return (m & (1u << TIDE_OBS_URL | 1u << TIDE_OBS_URL_PATH)) != 0;
        default: return (unsigned)k < 32 && (m & (1u << k));
    }
}

/* The probes of an IPv4 address (network order), at most 2: the exact key and the CIDR
 * search (only when a listed range touches its /20 block); obs is set. The hot path of
 * tide_matcher_batch: most observations are addresses the reader parsed already. */
static inline size_t tide__ix_probes_v4(
        const tide_match_index *ix, const uint8_t key[4], uint32_t obs, ix_probe out[2])
{
    size_t n = 0;
    if (ix->h->kind_mask & (1u << TIDE_OBS_IPV4)) {
        ix_probe *p = &out[n++];
        p->hash = tide__ix_hash(TIDE_OBS_IPV4, key, 4); /* constant length: inlined */
        p->key = key;
        p->len = 4;
        p->kind = TIDE_OBS_IPV4;
        p->op = IXP_EXACT;
        p->obs = obs;
        __builtin_prefetch(tide__ix_filter_word(ix, p->hash));
    }
    if (ix->covmap4) {
        /* the block map (128 KB) is mostly out of the caches too: tested in the next step */
        ix_probe *p = &out[n++];
        p->hash = 0;
        p->key = key;
        p->len = 4;
        p->kind = TIDE_OBS_IPV4;
        p->op = IXP_CIDR4_COV;
        p->obs = obs;
        uint32_t blk = tide__ix_v4_of(key) >> (32 - COVMAP4_BITS);
        __builtin_prefetch(&ix->covmap4[blk / 64]);
    }
    return n;
}

/* ---- the usual domain name (8 to 64 bytes, no trailing dot: every DNS query, TLS server name
 * and HTTP host) encoded and expanded into its probes in one pass, inline in the matcher, where
 * tide__ix_encode and tide__ix_probes (two calls, a switch each, a second pass for the dots)
 * cost about as much again as the hashes. tests/unit/test_match.c checks both against them. */

/* The key of the name v[0..n) (8 <= n <= 64, v[n-1] != '.': ASCII lower case, as
 * tide__ix_encode) into key[0..n); returns the bits of its dots. Loads and stores stay inside
 * [0, n) (the last block overlaps the one before). */
static inline uint64_t tide__ix_domain_key(const char *v, size_t n, uint8_t *key)
{
    uint64_t dots = 0;
#ifdef __SSE2__
    if (n >= 16) {
        for (size_t i = 0;; i += 16) {
            if (i + 16 > n)
                i = n - 16;
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(v + i));
            __m128i up = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('A' - 1)),
                    _mm_cmplt_epi8(x, _mm_set1_epi8('Z' + 1))); /* bytes >= 0x80 are < 0 */
            _mm_storeu_si128((__m128i *)(void *)(key + i),
                    _mm_or_si128(x, _mm_and_si128(up, _mm_set1_epi8(0x20))));
            dots |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('.')))
                    << i;
            if (i + 16 >= n)
                return dots;
        }
    }
#endif
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    const uint64_t lo7 = 0x7F7F7F7F7F7F7F7FULL;
    for (size_t i = 0;; i += 8) {
        if (i + 8 > n)
            i = n - 8;
        uint64_t x, w;
        memcpy(&x, v + i, 8);
        uint64_t h = x & ~high;
        uint64_t upper = ~x & ((h + (0x80 - 'A') * ones) ^ (h + (0x7F - 'Z') * ones)) & high;
        uint64_t y = x | upper >> 2;
        memcpy(key + i, &y, 8);
        w = x ^ 0x2E2E2E2E2E2E2E2EULL;               /* '.' bytes become zero */
        uint64_t z = ~(((w & lo7) + lo7) | w | lo7); /* 0x80 exactly in the zero bytes */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        dots |= (((z >> 7) * 0x0102040810204080ULL) >> 56) << i;
#else
        for (unsigned b = 0; b < 8; b++)
            dots |= (uint64_t)(v[i + b] == '.') << (i + b);
        (void)z;
#endif
        if (i + 8 >= n)
            return dots;
    }
}

/* The probes of a domain key (dots: its dot bits): the name, then each parent that still has a
 * dot, as tide__ix_probes makes them (kind_mask has TIDE_OBS_DOMAIN); obs set. At most 64. */
static inline size_t tide__ix_domain_probes(const tide_match_index *ix, const uint8_t *key,
        size_t len, uint64_t dots, uint32_t obs, ix_probe *out)
{
    size_t n = 0;
    size_t off = 0;
    for (;;) {
        ix_probe *p = &out[n++];
        p->hash = tide__ix_hash(TIDE_OBS_DOMAIN, key + off, len - off);
        p->key = key + off;
        p->len = (uint32_t)(len - off);
        p->kind = TIDE_OBS_DOMAIN;
        p->op = IXP_EXACT;
        p->obs = obs;
        __builtin_prefetch(tide__ix_filter_word(ix, p->hash));
        if (!(dots & (dots - 1))) /* no dot with another one after it */
            return n;
        off = (size_t)__builtin_ctzll(dots) + 1;
        dots &= dots - 1;
    }
}

#ifdef __SSE2__
/* 16 hex digits at p to 8 bytes at out; false when any is not a hex digit */
static inline bool tide__ix_hex16(const unsigned char *p, uint8_t *out)
{
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i d = _mm_sub_epi8(x, _mm_set1_epi8('0')); /* '0'-'9': 0-9 */
    /* a-f: 0-5 */
    __m128i l = _mm_sub_epi8(_mm_or_si128(x, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));
    __m128i isd = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);
    __m128i isl = _mm_cmpeq_epi8(_mm_min_epu8(l, _mm_set1_epi8(5)), l);
    if (_mm_movemask_epi8(_mm_or_si128(isd, isl)) != 0xFFFF)
        return false;
    __m128i nib = _mm_or_si128(
            _mm_and_si128(isd, d), _mm_andnot_si128(isd, _mm_add_epi8(l, _mm_set1_epi8(10))));
    /* byte pairs (high digit first) as 16-bit lanes: (lo << 4) | (hi >> 8), then narrowed */
    __m128i w = _mm_or_si128(
            _mm_slli_epi16(_mm_and_si128(nib, _mm_set1_epi16(0x00FF)), 4), _mm_srli_epi16(nib, 8));
    _mm_storel_epi64((__m128i *)(void *)out, _mm_packus_epi16(w, w));
    return true;
}

/* ---- an MD5 / JA3, SHA-1 or SHA-256 hash (2 * want hex digits, want 16, 20 or 32) decoded
 * and probed inline in the matcher (as tide__ix_encode + tide__ix_probes; the hash of a key of
 * constant length compiles to a few instructions): every file event carries two or three. */
static inline bool tide__ix_hex_probe(const tide_match_index *ix, tide_obs_kind k, const char *v,
        size_t want, uint8_t *key, uint32_t obs, ix_probe *p)
{
    const unsigned char *u = (const unsigned char *)v;
    size_t n = 2 * want;
    for (size_t at = 0;; at += 16) {
        if (at + 16 > n)
            at = n - 16;
        if (!tide__ix_hex16(u + at, key + at / 2))
            return false;
        if (at + 16 >= n)
            break;
    }
    p->hash = want == 16   ? tide__ix_hash(k, key, 16)
              : want == 20 ? tide__ix_hash(k, key, 20)
                           : tide__ix_hash(k, key, 32);
    p->key = key;
    p->len = (uint32_t)want;
    p->kind = (uint8_t)k;
    p->op = IXP_EXACT;
    p->obs = obs;
    __builtin_prefetch(tide__ix_filter_word(ix, p->hash));
    return true;
}
#endif

/* The second step of a probe: tests the filter (most probes end here: op becomes IXP_NONE)
 * and prefetches the table slot; for an IPv4 range search tests the /20 block map and
 * prefetches the jump table. */
static inline void tide__ix_probe_step(const tide_match_index *ix, ix_probe *p)
{
    if (p->op == IXP_EXACT) {
        uint64_t fb = (p->hash >> 20) & ix->filter_mask;
        if (!((ix->filter[fb / 64] >> (fb % 64)) & 1)) {
            p->op = IXP_NONE; /* certainly absent */
            return;
        }
        __builtin_prefetch(&ix->table[tide__ix_slot(p->hash, ix->h->table_cap)]);
    } else if (p->op == IXP_CIDR4_COV) {
        uint32_t a = tide__ix_v4_of(p->key), blk = a >> (32 - COVMAP4_BITS);
        if (!((ix->covmap4[blk / 64] >> (blk % 64)) & 1)) {
            p->op = IXP_NONE; /* no listed range touches its /20 block */
            return;
        }
        p->op = IXP_CIDR4_JUMP;
        __builtin_prefetch(&ix->jump4[a >> (32 - ix->h->jump_bits)]);
    }
}

/* The third step of an IPv4 range search (IXP_CIDR4_JUMP: reads the jump table, prefetches
 * the segments); nothing for other probes. Optional: tide__ix_probe_run finishes any step. */
static inline void tide__ix_probe_step2(const tide_match_index *ix, ix_probe *p)
{
    if (p->op == IXP_CIDR4_JUMP) {
        p->op = IXP_CIDR4;
        uint32_t hi = tide__ix_v4_of(p->key) >> (32 - ix->h->jump_bits);
        p->lo = ix->jump4[hi];
        p->hi = ix->jump4[hi + 1];
        /* the segments searched and the coverage of the two ends: one line each, mostly */
        if (p->lo < p->hi)
            __builtin_prefetch(&ix->seg4[p->lo]);
        if (p->hi > 0) {
            __builtin_prefetch(&ix->cov4[p->hi - 1]);
            __builtin_prefetch(&ix->seg4[p->hi - 1]);
        }
        if (p->lo > 0)
            __builtin_prefetch(&ix->cov4[p->lo - 1]);
    }
}

/* The later steps of an IPv4 range search, each one load the step before prefetched: the
 * binary search of the segments (IXP_CIDR4 -> IXP_CIDR4_SEG, or IXP_NONE before the first
 * segment), the segment's coverage (-> IXP_CIDR4_LIST, or IXP_NONE when no CIDR holds the
 * address), the list of CIDRs, whose index entries are prefetched (-> IXP_CIDR4_ENTRIES), and
 * those entries, whose keys are prefetched (a sighting reads both: with hundreds of thousands
 * of CIDRs most addresses are in one, and the entries of a big index are in no cache). A batch
 * takes every step over all its live probes in turn, so that the loads of one probe wait while the
 * others run; nothing for other probes. Optional: tide__ix_probe_run finishes any step. */
static inline void tide__ix_probe_step3(const tide_match_index *ix, ix_probe *p)
{
    if (p->op == IXP_CIDR4) {
        uint32_t a = tide__ix_v4_of(p->key);
        size_t l = p->lo, r = p->hi;
        while (l < r) {
            size_t mid = (l + r) / 2;
            if (ix->seg4[mid] <= a)
                l = mid + 1;
            else
                r = mid;
        }
        if (l == 0) {
            p->op = IXP_NONE;
            return;
        }
        p->op = IXP_CIDR4_SEG;
        p->lo = (uint32_t)(l - 1);
        __builtin_prefetch(&ix->cov4[l - 1]);
    } else if (p->op == IXP_CIDR4_SEG) {
        const ix_cover *c = &ix->cov4[p->lo];
        if (c->count == 0) {
            p->op = IXP_NONE;
            return;
        }
        p->op = IXP_CIDR4_LIST;
        p->lo = c->off;
        p->hi = c->count;
        __builtin_prefetch(&ix->covlist[c->off]);
    } else if (p->op == IXP_CIDR4_LIST) {
        p->op = IXP_CIDR4_ENTRIES;
        for (uint32_t i = 0; i < p->hi && i < 4; i++)
            __builtin_prefetch(&ix->entries[ix->covlist[p->lo + i]]);
    } else if (p->op == IXP_CIDR4_ENTRIES) { /* their keys, which a sighting names */
        for (uint32_t i = 0; i < p->hi && i < 4; i++)
            __builtin_prefetch(ix->pool + ix->entries[ix->covlist[p->lo + i]].key_off);
    }
}

#endif
