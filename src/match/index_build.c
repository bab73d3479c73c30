/*
 * index_build.c - compile the store's active intel into a match index image (index_int.h).
 *
 * One scan of tide_store_each_indicator_obs: indicators not active now are left out, each
 * remaining (indicator, observable) becomes an entry with its key in the pool, a shared
 * context record, its decayed score (activity and score by the one rule of tide/score.h, with
 * the indicator's last sighting) and, when its value is warninglisted or private / bogon, a
 * suppression note. A non-simple STIX pattern is parsed once: the literal fragments of its LIKE /
 * MATCHES comparisons (tide_pattern_prefilter) go into the fragment section with one entry of
 * the indicator that no key finds, so that the matcher looks for them in the observed values;
 * an indicator that gives nothing to look for is listed as left out with the reason, as are
 * those not active now. Then the hash table over the keys and the CIDR segments are laid out,
 * and everything is copied into one block. A full build runs the store's scan in a second
 * thread that hands records over in batches.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "intel/sighted.h"
#include "match/index_int.h"
#include "tide/pattern.h"
#include "tide/score.h"
#include "tide/sightings.h"
#include "tide/warninglist.h"
#include "util/ipaddr.h"
#include "util/util.h"

typedef struct {
    uint32_t start, end, entry; /* inclusive range */
} cidr4;

typedef struct {
    uint8_t start[16], end[16];
    uint32_t entry;
} cidr6;

typedef struct {
    int64_t now;
    tide_decay_config decay;
    tide_warninglists *wl;
    tide_buf pool;
    ix_entry *entries;
    size_t nentries, capentries;
    ix_ctx *ctx;
    size_t nctx, capctx;
    tide_strmap ctxmap; /* serialized context -> ctx index */
    tide_strmap strmap; /* interned pool strings (names, sources ...) -> pool offset */
    cidr4 *c4;
    size_t nc4, capc4;
    cidr6 *c6;
    size_t nc6, capc6;
    ix_supp *supp;
    size_t nsupp, capsupp;
    uint32_t kind_mask;
    size_t nindicators, nskipped;
    _Alignas(64) char last_id[128]; /* aligned: strcmp with every record id */
    bool last_skipped;
    int64_t last_sighted;  /* of the indicator of last_id */
    tide__sighted sighted; /* when each indicator was last sighted */
    tide_buf scratch;
    tide_buf ctxkey;
    /* decayed scores already computed: tide_score_decayed is a pure function of (kind,
     * confidence, reliability, reference time) at one now and decay config, and a feed
     * repeats few of those (pow() was 6% of a build) */
    struct score_memo {
        double score;
        int64_t ref;
        int confidence;
        char reliability;
        int kind; /* 0 (TIDE_OBS_NONE) = empty */
    } memo[4096];
    int (*tap)(const tide_indicator_obs *r, void *payload);
    void *tap_payload;
    /* LIKE / MATCHES fragments (ix_frag), the indicators left out (ix_left) */
    ix_frag *frags;
    size_t nfrags, capfrags;
    ix_left *left;
    size_t nleft, capleft;
    uint64_t left_by[8];
    size_t npattern_only;
    uint32_t frag_entry;     /* the IX_PATTERN_ONLY entry the fragments being emitted belong to */
    tide_obs_kind frag_kind; /* kind of the first fragment (the entry's kind) */
} builder;

static int grow(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 1024;
    while (c < need)
        c *= 2;
    void *p = tide__realloc(*arr, c * size);
    TIDE_CHECK_ALLOC(p);
    *arr = p;
    *cap = c;
    return 0;
}

/* Offset of a NUL-terminated copy of s (n bytes) in the pool, shared between equal strings. */
static int intern(builder *b, const char *s, size_t n, uint32_t *out)
{
    if (b->pool.len + n + 1 > UINT32_MAX)
        return tide_error_set(TIDE_ETOOBIG, "match index pool over 4 GiB");
    uint32_t off = (uint32_t)b->pool.len;
    int added = tide__strmap_put(&b->strmap, s, n, off, out);
    TIDE_CHECK(added);
    if (added) {
        TIDE_CHECK(tide__buf_put(&b->pool, s, n));
        TIDE_CHECK(tide__buf_putc(&b->pool, '\0'));
    }
    return 0;
}

static int intern_opt(builder *b, const char *s, uint32_t *out)
{
    if (s == NULL || *s == '\0') {
        *out = UINT32_MAX;
        return 0;
    }
    return intern(b, s, strlen(s), out);
}

/* A name list as consecutive NUL-terminated names in the pool. */
static int intern_list(builder *b, const char *const *v, size_t n, uint32_t *out)
{
    if (n == 0) {
        *out = UINT32_MAX;
        return 0;
    }
    tide__buf_clear(&b->scratch);
    for (size_t i = 0; i < n; i++)
        TIDE_CHECK(tide__buf_put(&b->scratch, v[i], strlen(v[i]) + 1));
    /* the trailing NUL of the last name is added by intern */
    return intern(b, b->scratch.ptr, b->scratch.len - 1, out);
}

/* s and a separator byte: one append (the key is rebuilt for every record, so the common
 * case, room enough, costs no call) */
static inline int key_put_sep(tide_buf *k, const char *s, char sep)
{
    size_t n = s ? strlen(s) : 0;
    if (k->ptr == NULL || k->cap - k->len < n + 2)
        TIDE_CHECK(tide__buf_grow(k, n + 1));
    if (n)
        memcpy(k->ptr + k->len, s, n);
    k->ptr[k->len + n] = sep;
    k->len += n + 1;
    k->ptr[k->len] = '\0';
    return 0;
}

static int key_put(tide_buf *k, const char *s)
{
    return key_put_sep(k, s, '\x1f');
}

/* The shared context record of r: looked up by its text first (one map probe per entry);
 * only a new context interns its strings. */
static inline __attribute__((always_inline)) int context_of(
        builder *b, const tide_indicator_obs *r, uint32_t *out)
{
    const char *pattern =
            (!r->simple && r->pattern && r->pattern_type && strcmp(r->pattern_type, "stix") == 0)
                    ? r->pattern
                    : NULL;
    tide_buf *k = &b->ctxkey;
    tide__buf_clear(k);
    TIDE_CHECK(key_put(k, r->source));
    TIDE_CHECK(key_put(k, r->tlp));
    TIDE_CHECK(key_put(k, r->kill_chain));
    TIDE_CHECK(key_put(k, pattern));
    const char *const *lists[3] = { r->campaigns, r->malware, r->actors };
    size_t ns[3] = { r->ncampaigns, r->nmalware, r->nactors };
    for (int l = 0; l < 3; l++) {
        for (size_t i = 0; i < ns[l]; i++)
            TIDE_CHECK(key_put_sep(k, lists[l][i], '\x1e'));
        TIDE_CHECK(key_put_sep(k, NULL, '\x1f'));
    }
    int64_t have = tide__strmap_get(&b->ctxmap, k->ptr, k->len);
    if (have >= 0) {
        *out = (uint32_t)have;
        return 0;
    }
    ix_ctx c;
    memset(&c, 0, sizeof(c));
    TIDE_CHECK(intern_opt(b, r->source, &c.source));
    TIDE_CHECK(intern_opt(b, r->tlp, &c.tlp));
    TIDE_CHECK(intern_opt(b, r->kill_chain, &c.kill_chain));
    TIDE_CHECK(intern_list(b, r->campaigns, r->ncampaigns, &c.campaigns));
    TIDE_CHECK(intern_list(b, r->malware, r->nmalware, &c.malware));
    TIDE_CHECK(intern_list(b, r->actors, r->nactors, &c.actors));
    TIDE_CHECK(intern_opt(b, pattern, &c.pattern));
    c.ncampaigns = (uint16_t)(r->ncampaigns > UINT16_MAX ? UINT16_MAX : r->ncampaigns);
    c.nmalware = (uint16_t)(r->nmalware > UINT16_MAX ? UINT16_MAX : r->nmalware);
    c.nactors = (uint16_t)(r->nactors > UINT16_MAX ? UINT16_MAX : r->nactors);
    if (b->nctx >= UINT32_MAX)
        return tide_error_set(TIDE_ETOOBIG, "too many contexts");
    TIDE_CHECK(grow((void **)&b->ctx, &b->capctx, b->nctx + 1, sizeof(ix_ctx)));
    b->ctx[b->nctx] = c;
    TIDE_CHECK(tide__strmap_put(&b->ctxmap, k->ptr, k->len, (uint32_t)b->nctx, out));
    b->nctx++;
    return 0;
}

/* 0x80 | the value of a lower-case hex digit; 0 for any other byte */
static const uint8_t hex_lower[256] = {
    ['0'] = 0x80,
    ['1'] = 0x81,
    ['2'] = 0x82,
    ['3'] = 0x83,
    ['4'] = 0x84,
    ['5'] = 0x85,
    ['6'] = 0x86,
    ['7'] = 0x87,
    ['8'] = 0x88,
    ['9'] = 0x89,
    ['a'] = 0x8a,
    ['b'] = 0x8b,
    ['c'] = 0x8c,
    ['d'] = 0x8d,
    ['e'] = 0x8e,
    ['f'] = 0x8f,
};

/* A lower-case 8-4-4-4-12 UUID into 16 bytes (anything else, upper case included, stays text
 * in the pool, so that the id is always reported exactly as stored). Table-driven, one pass:
 * this runs once per indicator (the compare-and-branch version was 7% of a build). */
static inline __attribute__((always_inline)) bool parse_uuid(const char *s, uint8_t out[16])
{
    /* where each byte's two digits start; a dash comes right before 9, 14, 19 and 24. Every
     * byte is read in order and only after the ones before it proved not to be a NUL, so a
     * short id ends the parse at its terminator. */
    static const uint8_t at[16] = { 0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34 };
    for (int i = 0; i < 16; i++) {
        const unsigned char *d = (const unsigned char *)s + at[i];
        if ((i == 4 || i == 6 || i == 8 || i == 10) && d[-1] != '-')
            return false;
        uint8_t hi = hex_lower[d[0]];
        if (!(hi & 0x80))
            return false;
        uint8_t lo = hex_lower[d[1]];
        if (!(lo & 0x80))
            return false;
        out[i] = (uint8_t)((hi & 0xF) << 4 | (lo & 0xF));
    }
    return s[36] == '\0';
}

/* Parse a canonical CIDR "net/len" of the given family (4 or 6; net: 4 or 16 bytes). */
static bool parse_cidr(const char *v, int fam, uint8_t *net, unsigned *len)
{
    uint8_t a[16];
    if (tide__cidr_parse(v, strlen(v), TIDE__IP_NEED_PREFIX, a, len) != fam)
        return false;
    memcpy(net, a, fam == 4 ? 4 : 16);
    return true;
}

static int add_cidr(builder *b, const tide_indicator_obs *r, ix_entry *e)
{
    if (r->kind == TIDE_OBS_CIDR4) {
        uint8_t net[4];
        unsigned len;
        if (!parse_cidr(r->value, 4, net, &len))
            return 0;
        uint32_t a =
                (uint32_t)net[0] << 24 | (uint32_t)net[1] << 16 | (uint32_t)net[2] << 8 | net[3];
        uint32_t mask = len == 0 ? 0 : 0xFFFFFFFFu << (32 - len);
        a &= mask;
        net[0] = (uint8_t)(a >> 24);
        net[1] = (uint8_t)(a >> 16);
        net[2] = (uint8_t)(a >> 8);
        net[3] = (uint8_t)a;
        TIDE_CHECK(grow((void **)&b->c4, &b->capc4, b->nc4 + 1, sizeof(cidr4)));
        b->c4[b->nc4++] = (cidr4){ a, a | ~mask, (uint32_t)b->nentries };
        e->cidr_len = (uint8_t)len;
        e->key_off = (uint32_t)b->pool.len;
        e->key_len = 4;
        return tide__buf_put(&b->pool, net, 4);
    }
    uint8_t net[16];
    unsigned len;
    if (!parse_cidr(r->value, 6, net, &len))
        return 0;
    cidr6 c;
    for (int i = 0; i < 16; i++) {
        unsigned bits = len > (unsigned)i * 8 ? len - (unsigned)i * 8 : 0;
        uint8_t m = bits >= 8 ? 0xFF : (uint8_t)(0xFF << (8 - bits));
        c.start[i] = net[i] & m;
        c.end[i] = (uint8_t)(c.start[i] | (uint8_t)~m);
    }
    c.entry = (uint32_t)b->nentries;
    TIDE_CHECK(grow((void **)&b->c6, &b->capc6, b->nc6 + 1, sizeof(cidr6)));
    b->c6[b->nc6++] = c;
    e->cidr_len = (uint8_t)len;
    e->key_off = (uint32_t)b->pool.len;
    e->key_len = 16;
    return tide__buf_put(&b->pool, c.start, 16);
}

/* An indicator left out (or only partly indexed), for tide index info --left-out. */
__attribute__((noinline)) static int add_left(
        builder *b, const char *id, tide_left_out_reason reason, const char *detail)
{
    ix_left l = { 0, (uint32_t)reason, UINT32_MAX, 0 };
    TIDE_CHECK(intern(b, id, strlen(id), &l.id));
    if (detail && *detail)
        TIDE_CHECK(intern(b, detail, strlen(detail), &l.detail));
    TIDE_CHECK(grow((void **)&b->left, &b->capleft, b->nleft + 1, sizeof(ix_left)));
    b->left[b->nleft++] = l;
    b->left_by[reason]++;
    return 0;
}

/* The observation kinds whose rendering (matcher.c) holds object_type:path, as a bit set. */
static uint32_t frag_kinds(const char *type, const char *path)
{
    bool value = strcmp(path, "value") == 0;
    if (strcmp(type, "domain-name") == 0 && value)
        return 1u << TIDE_OBS_DOMAIN;
    if (strcmp(type, "url") == 0 && value)
        return 1u << TIDE_OBS_URL | 1u << TIDE_OBS_URL_PATH;
    if (strcmp(type, "ipv4-addr") == 0 && value)
        return 1u << TIDE_OBS_IPV4 | 1u << TIDE_OBS_IP_PORT;
    if (strcmp(type, "ipv6-addr") == 0 && value)
        return 1u << TIDE_OBS_IPV6 | 1u << TIDE_OBS_IP_PORT;
    if (strcmp(type, "email-addr") == 0 && value)
        return 1u << TIDE_OBS_EMAIL;
    if (strcmp(type, "network-traffic") == 0 &&
            (strcmp(path, "dst_ref.value") == 0 || strcmp(path, "dst_port") == 0))
        return 1u << TIDE_OBS_IP_PORT;
    if (strcmp(type, "file") == 0 && strncmp(path, "hashes.", 7) == 0)
        return 1u << TIDE_OBS_MD5 | 1u << TIDE_OBS_SHA1 | 1u << TIDE_OBS_SHA256 |
               1u << TIDE_OBS_SHA512;
    if (strcmp(type, "x509-certificate") == 0 && strncmp(path, "hashes.", 7) == 0)
        return 1u << TIDE_OBS_X509_SHA1;
    return 0;
}

/* Whether the index can find events holding atom a: an equality term the ingest made an
 * observable of (tide_obs_from_path, the url-path LIKE), or a fragment of an observed value. */
static bool atom_usable(const tide_pattern_atom *a, void *payload)
{
    (void)payload;
    if (a->fragment)
        return a->len >= 3 && a->len <= IX_MAX_KEY && frag_kinds(a->object_type, a->path) != 0;
    if (strcmp(a->object_type, "url") == 0 && a->value && a->value[0] == '%')
        return true; /* url:value LIKE '%/path': the url-path entry */
    if (strcmp(a->object_type, "network-traffic") == 0 && strcmp(a->path, "dst_port") == 0)
        return false; /* a port alone is no observable (with dst_ref.value: ip-port) */
    return tide_obs_from_path(a->object_type, a->path, a->value) != TIDE_OBS_NONE;
}

static int atom_emit(const tide_pattern_atom *a, void *payload)
{
    builder *b = payload;
    ix_frag f = { b->frag_entry, 0, frag_kinds(a->object_type, a->path), (uint16_t)a->len, 0 };
    if (b->nfrags == 0 || b->frags[b->nfrags - 1].entry != b->frag_entry) {
        /* the entry's kind: the first fragment's lowest kind */
        b->frag_kind = (tide_obs_kind)__builtin_ctz(f.kinds);
    }
    if (b->pool.len + a->len + 1 > UINT32_MAX)
        return tide_error_set(TIDE_ETOOBIG, "match index pool over 4 GiB");
    f.off = (uint32_t)b->pool.len;
    TIDE_CHECK(tide__buf_put(&b->pool, a->value, a->len));
    TIDE_CHECK(tide__buf_putc(&b->pool, '\0'));
    TIDE_CHECK(grow((void **)&b->frags, &b->capfrags, b->nfrags + 1, sizeof(ix_frag)));
    b->frags[b->nfrags++] = f;
    return 0;
}

static inline __attribute__((always_inline)) int add_entry(
        builder *b, const tide_indicator_obs *r, const tide_score_input *inp, ix_entry *out);

/* A non-simple indicator, once: the fragments of its LIKE / MATCHES comparisons with an entry
 * of its own, or the reason it has nothing to look for. unindexed: no observable entry. */
__attribute__((noinline)) static int analyse(
        builder *b, const tide_indicator_obs *r, bool unindexed)
{
    if (r->pattern == NULL || r->pattern_type == NULL || strcmp(r->pattern_type, "stix") != 0) {
        if (unindexed)
            return add_left(b, r->id, TIDE_LEFT_PATTERN_TYPE, r->pattern_type);
        return 0;
    }
    tide_pattern *p = NULL;
    char why[400];
    if (tide_pattern_parse(&p, r->pattern, TIDE_STIX_21, why, sizeof(why)) < 0) {
        if (unindexed)
            return add_left(b, r->id, TIDE_LEFT_UNPARSED, why);
        return 0; /* its candidates are reported as undecided by the matcher */
    }
    /* an entry of its own only when there are fragments to look for */
    size_t first = b->nfrags;
    b->frag_entry = (uint32_t)b->nentries;
    int bounded = tide_pattern_prefilter(p, atom_usable, atom_emit, b, why, sizeof(why));
    tide_pattern_free(p);
    if (bounded < 0)
        return bounded;
    if (bounded == 0) {
        b->nfrags = first;
        return add_left(b, r->id, unindexed ? TIDE_LEFT_NOTHING : TIDE_LEFT_PARTIAL, why);
    }
    if (b->nfrags == first)
        return 0; /* bounded by its observables alone */
    tide_score_input in = { .kind = b->frag_kind,
        .confidence = r->confidence,
        .reliability = r->reliability,
        .valid_from = r->valid_from,
        .valid_until = r->valid_until,
        .created = r->created,
        .modified = r->modified,
        .last_sighted = b->last_sighted,
        .revoked = r->revoked };
    ix_entry e;
    TIDE_CHECK(add_entry(b, r, &in, &e));
    e.flags |= IX_PATTERN_ONLY;
    size_t n = strlen(r->pattern);
    if (n > IX_MAX_KEY)
        n = IX_MAX_KEY;
    if (b->pool.len + n + 1 > UINT32_MAX)
        return tide_error_set(TIDE_ETOOBIG, "match index pool over 4 GiB");
    e.key_off = (uint32_t)b->pool.len;
    e.key_len = (uint16_t)n;
    TIDE_CHECK(tide__buf_put(&b->pool, r->pattern, n));
    TIDE_CHECK(tide__buf_putc(&b->pool, '\0'));
    TIDE_CHECK(grow((void **)&b->entries, &b->capentries, b->nentries + 1, sizeof(ix_entry)));
    b->entries[b->nentries++] = e;
    b->npattern_only++;
    return 0;
}

/* An entry of r for in->kind with everything but its key: score, confidence, id, context (in:
 * the score input of r for that kind). Inline: it runs for every record of a build. */
static inline __attribute__((always_inline)) int add_entry(
        builder *b, const tide_indicator_obs *r, const tide_score_input *inp, ix_entry *out)
{
    if (b->nentries >= UINT32_MAX - 1)
        return tide_error_set(TIDE_ETOOBIG, "too many index entries");
    tide_obs_kind kind = inp->kind;
    ix_entry *e = out; /* written in place */
    memset(e, 0, sizeof(*e));
    e->kind = (uint8_t)kind;
    e->confidence = (int8_t)(r->confidence < 0 ? -1 : r->confidence > 100 ? 100 : r->confidence);
    int64_t ref = tide_score_reference(inp);
    uint64_t mh = ((uint64_t)ref ^ (uint64_t)(uint32_t)r->confidence << 8 ^
                          (uint64_t)(unsigned char)r->reliability ^ (uint64_t)kind << 56) *
                  0x9E3779B97F4A7C15ull;
    mh ^= mh >> 29;
    mh *= 0xC2B2AE3D27D4EB4Full;
    struct score_memo *m = &b->memo[(mh >> 52) & 4095];
    double sc;
    if (m->kind == (int)kind && m->ref == ref && m->confidence == r->confidence &&
            m->reliability == r->reliability) {
        sc = m->score;
    } else {
        sc = tide_score_decayed(&b->decay, inp, b->now);
        *m = (struct score_memo){ sc, ref, r->confidence, r->reliability, (int)kind };
    }
    e->score = (uint8_t)tide_score_round(sc);
    if (!r->simple)
        e->flags |= IX_NONSIMPLE;
    if (strncmp(r->id, "indicator--", 11) != 0 || !parse_uuid(r->id + 11, e->uuid)) {
        uint32_t off;
        TIDE_CHECK(intern(b, r->id, strlen(r->id), &off));
        memcpy(e->uuid, &off, sizeof(off));
        e->flags |= IX_ID_IN_POOL;
    }
    TIDE_CHECK(context_of(b, r, &e->ctx));
    return 0;
}

static const tide_left_out_reason by_activity[] = {
    [TIDE_INACTIVE_REVOKED] = TIDE_LEFT_REVOKED,
    [TIDE_INACTIVE_EXPIRED] = TIDE_LEFT_EXPIRED,
    [TIDE_INACTIVE_NOT_YET] = TIDE_LEFT_NOT_YET_VALID,
};

static int on_record(const tide_indicator_obs *r, void *payload)
{
    builder *b = payload;
    /* a caller that wants the scanned records too (the retro-hunt): its observables */
    if (b->tap && r->kind != TIDE_OBS_NONE)
        TIDE_CHECK(b->tap(r, b->tap_payload));
    bool new_ind = strcmp(b->last_id, r->id) != 0;
    if (new_ind) {
        size_t idlen = strlen(r->id), idn = idlen;
        if (idn >= sizeof(b->last_id))
            idn = sizeof(b->last_id) - 1;
        memcpy(b->last_id, r->id, idn);
        b->last_id[idn] = '\0';
        b->last_sighted = tide__sighted_get(&b->sighted, r->id, idlen);
    }
    tide_score_input in = { .kind = r->kind,
        .confidence = r->confidence,
        .reliability = r->reliability,
        .valid_from = r->valid_from,
        .valid_until = r->valid_until,
        .created = r->created,
        .modified = r->modified,
        .last_sighted = b->last_sighted,
        .revoked = r->revoked };
    if (new_ind) {
        tide_activity act = tide_score_activity(&in, b->now);
        b->last_skipped = act != TIDE_ACTIVE;
        if (b->last_skipped) {
            b->nskipped++;
            TIDE_CHECK(add_left(b, r->id, by_activity[act], NULL));
        } else {
            b->nindicators++;
        }
    }
    if (b->last_skipped)
        return 0;
    if (new_ind && !r->simple) {
        size_t before = b->left_by[TIDE_LEFT_NOTHING] + b->left_by[TIDE_LEFT_UNPARSED] +
                        b->left_by[TIDE_LEFT_PATTERN_TYPE];
        TIDE_CHECK(analyse(b, r, r->kind == TIDE_OBS_NONE));
        if (b->left_by[TIDE_LEFT_NOTHING] + b->left_by[TIDE_LEFT_UNPARSED] +
                        b->left_by[TIDE_LEFT_PATTERN_TYPE] !=
                before)
            b->nindicators--; /* left out: counted there */
    }
    if (r->kind == TIDE_OBS_NONE)
        return 0; /* no observable (include_unindexed) */
    ix_entry e;
    TIDE_CHECK(add_entry(b, r, &in, &e));
    if (r->kind == TIDE_OBS_CIDR4 || r->kind == TIDE_OBS_CIDR6) {
        size_t before = b->pool.len;
        TIDE_CHECK(add_cidr(b, r, &e));
        if (b->pool.len == before)
            return 0; /* not a valid CIDR: nothing to match */
    } else {
        uint8_t key[IX_MAX_KEY];
        tide_obs_kind k;
        int n = tide__ix_encode(r->kind, r->value, strlen(r->value), key, &k);
        if (n < 0)
            return 0; /* not matchable (e.g. over the key cap) */
        e.kind = (uint8_t)k;
        if (b->pool.len + (size_t)n + 1 > UINT32_MAX)
            return tide_error_set(TIDE_ETOOBIG, "match index pool over 4 GiB");
        e.key_off = (uint32_t)b->pool.len;
        e.key_len = (uint16_t)n;
        TIDE_CHECK(tide__buf_put(&b->pool, key, (size_t)n));
        TIDE_CHECK(tide__buf_putc(&b->pool, '\0'));
    }
    const char *wl = b->wl ? tide_warninglists_check(b->wl, r->kind, r->value) : NULL;
    if (wl) {
        e.flags |= IX_SUPPRESSED;
        uint32_t name;
        TIDE_CHECK(intern(b, wl, strlen(wl), &name));
        TIDE_CHECK(grow((void **)&b->supp, &b->capsupp, b->nsupp + 1, sizeof(ix_supp)));
        b->supp[b->nsupp++] = (ix_supp){ (uint32_t)b->nentries, name };
    }
    b->kind_mask |= 1u << e.kind;
    TIDE_CHECK(grow((void **)&b->entries, &b->capentries, b->nentries + 1, sizeof(ix_entry)));
    b->entries[b->nentries++] = e;
    return 0;
}

/* ---- layout ---- */

static bool same_key(const builder *b, const ix_entry *x, const ix_entry *y)
{
    return x->kind == y->kind && x->key_len == y->key_len &&
           memcmp(b->pool.ptr + x->key_off, b->pool.ptr + y->key_off, x->key_len) == 0;
}

/* The table (32-bit slots, at most half full) and the filter over the keys of the entries, and
 * the chain of the entries that share a key: the last one added is in the table, and each one
 * chained to the one added before it (the order lookups report them in). */
static int build_table(builder *b, uint32_t **out, size_t *out_cap, uint64_t **out_filter,
        unsigned *out_filter_bits, ix_chain **out_chain, size_t *out_nchain)
{
    size_t n = 0;
    for (size_t i = 0; i < b->nentries; i++)
        if (b->entries[i].kind != TIDE_OBS_CIDR4 && b->entries[i].kind != TIDE_OBS_CIDR6 &&
                !(b->entries[i].flags & IX_PATTERN_ONLY))
            n++;
    /* load 1/2: lookups that pass the filter but are absent (its false positives) probe until
     * an empty slot, short at this load; the slots are 4 bytes, 16 per cache line. Exactly
     * twice the keys (tide__ix_slot maps a hash to any size): a power of two above that cost
     * up to 16 bytes per key just past one. */
    size_t cap = n * 2 > 16 ? n * 2 : 16;
    if (cap > ((size_t)1 << 32))
        return tide_error_set(TIDE_ETOOBIG, "too many index keys");
    uint32_t *t = tide__calloc(cap, sizeof(uint32_t));
    TIDE_CHECK_ALLOC(t);
    unsigned fbits = 12;
    while (fbits < 34 && ((size_t)1 << fbits) < n * 16)
        fbits++;
    uint64_t *filter = tide__calloc(((size_t)1 << fbits) / 64, sizeof(uint64_t));
    if (filter == NULL) {
        tide__free(t);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    ix_chain *chain = NULL;
    size_t nchain = 0, capchain = 0;
    uint32_t idx_mask = (uint32_t)(((uint64_t)1 << tide__ix_idx_bits(b->nentries)) - 1);
    uint32_t tag_mask = ~idx_mask;
    uint64_t fmask = ((uint64_t)1 << fbits) - 1;
    for (size_t i = 0; i < b->nentries; i++) {
        ix_entry *e = &b->entries[i];
        if (e->kind == TIDE_OBS_CIDR4 || e->kind == TIDE_OBS_CIDR6 || (e->flags & IX_PATTERN_ONLY))
            continue;
        uint64_t h = tide__ix_hash(
                (tide_obs_kind)e->kind, (const uint8_t *)b->pool.ptr + e->key_off, e->key_len);
        uint32_t tag = (uint32_t)(h >> 32) & tag_mask;
        uint64_t fb = (h >> 20) & fmask;
        filter[fb / 64] |= (uint64_t)1 << (fb % 64);
        for (size_t s = (size_t)tide__ix_slot(h, cap);; s = s + 1 == cap ? 0 : s + 1) {
            if (t[s] == 0) {
                t[s] = tag | (uint32_t)(i + 1);
                break;
            }
            uint32_t head = (t[s] & idx_mask) - 1;
            if ((t[s] & tag_mask) == tag && same_key(b, &b->entries[head], e)) {
                int rc = grow((void **)&chain, &capchain, nchain + 1, sizeof(ix_chain));
                if (rc < 0) {
                    tide__free(t);
                    tide__free(filter);
                    tide__free(chain);
                    return rc;
                }
                chain[nchain++] = (ix_chain){ (uint32_t)i, head }; /* i ascending: sorted */
                e->flags |= IX_CHAINED;
                t[s] = tag | (uint32_t)(i + 1);
                break;
            }
        }
    }
    *out = t;
    *out_cap = cap;
    *out_filter = filter;
    *out_filter_bits = fbits;
    *out_chain = chain;
    *out_nchain = nchain;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Last segment whose start <= a, or -1. */
static long seg4_find(const uint32_t *seg, size_t n, uint32_t a)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (seg[mid] <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (long)lo - 1;
}

typedef struct {
    uint32_t *seg;
    size_t nseg;
    ix_cover *cov;
    uint32_t *jump;
    unsigned jump_bits;
    uint64_t *covmap;
    uint8_t *seg6;
    size_t nseg6;
    ix_cover *cov6;
    uint32_t *list;
    size_t nlist, caplist;
} segs;

static int build_seg4(builder *b, segs *s)
{
    if (b->nc4 == 0)
        return 0;
    uint64_t *pts = tide__malloc(b->nc4 * 2 * sizeof(uint64_t));
    TIDE_CHECK_ALLOC(pts);
    size_t n = 0;
    for (size_t i = 0; i < b->nc4; i++) {
        pts[n++] = b->c4[i].start;
        pts[n++] = (uint64_t)b->c4[i].end + 1;
    }
    qsort(pts, n, sizeof(uint64_t), cmp_u64);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (pts[i] <= 0xFFFFFFFFu && (u == 0 || pts[u - 1] != pts[i]))
            pts[u++] = pts[i];
    s->seg = tide__malloc((u ? u : 1) * sizeof(uint32_t));
    s->cov = tide__calloc(u ? u : 1, sizeof(ix_cover));
    /* jump table on the top bits of an address: about one segment per slot, at most 2^16 */
    s->jump_bits = 4;
    while (s->jump_bits < 16 && ((size_t)1 << s->jump_bits) < u)
        s->jump_bits++;
    s->jump = tide__malloc((((size_t)1 << s->jump_bits) + 1) * sizeof(uint32_t));
    if (s->seg == NULL || s->cov == NULL || s->jump == NULL) {
        tide__free(pts);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < u; i++)
        s->seg[i] = (uint32_t)pts[i];
    s->nseg = u;
    tide__free(pts);
    /* count, then fill, the entries covering each segment */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < b->nc4; i++) {
            long lo = seg4_find(s->seg, u, b->c4[i].start);
            for (size_t k = (size_t)lo; k < u && s->seg[k] <= b->c4[i].end; k++) {
                if (pass == 0)
                    s->cov[k].count++;
                else
                    s->list[s->cov[k].off + s->cov[k].count++] = b->c4[i].entry;
            }
        }
        if (pass == 0) {
            size_t total = 0;
            for (size_t k = 0; k < u; k++) {
                s->cov[k].off = (uint32_t)total;
                total += s->cov[k].count;
                s->cov[k].count = 0;
            }
            if (total > UINT32_MAX)
                return tide_error_set(TIDE_ETOOBIG, "CIDR cover lists too large");
            s->list = tide__malloc((total ? total : 1) * sizeof(uint32_t));
            TIDE_CHECK_ALLOC(s->list);
            s->nlist = total;
        }
    }
    /* the blocks of address space that some CIDR touches */
    s->covmap = tide__calloc(((size_t)1 << COVMAP4_BITS) / 64, sizeof(uint64_t));
    TIDE_CHECK_ALLOC(s->covmap);
    for (size_t i = 0; i < u; i++) {
        if (s->cov[i].count == 0)
            continue;
        uint32_t first = s->seg[i] >> (32 - COVMAP4_BITS);
        uint32_t last = (i + 1 < u ? s->seg[i + 1] - 1 : 0xFFFFFFFFu) >> (32 - COVMAP4_BITS);
        for (uint64_t blk = first; blk <= last; blk++)
            s->covmap[blk / 64] |= (uint64_t)1 << (blk % 64);
    }
    size_t k = 0;
    for (uint32_t hi = 0; hi <= (1u << s->jump_bits); hi++) {
        uint64_t base = (uint64_t)hi << (32 - s->jump_bits);
        while (k < u && s->seg[k] < base)
            k++;
        s->jump[hi] = (uint32_t)k;
    }
    return 0;
}

static int cmp_16(const void *a, const void *b)
{
    return memcmp(a, b, 16);
}

/* 16-byte big-endian increment; false on overflow. */
static bool inc16(uint8_t a[16])
{
    for (int i = 15; i >= 0; i--)
        if (++a[i] != 0)
            return true;
    return false;
}

static long seg6_find(const uint8_t *seg, size_t n, const uint8_t *a)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (memcmp(seg + mid * 16, a, 16) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (long)lo - 1;
}

static int build_seg6(builder *b, segs *s)
{
    if (b->nc6 == 0)
        return 0;
    uint8_t *pts = tide__malloc(b->nc6 * 2 * 16);
    TIDE_CHECK_ALLOC(pts);
    size_t n = 0;
    for (size_t i = 0; i < b->nc6; i++) {
        memcpy(pts + 16 * n++, b->c6[i].start, 16);
        uint8_t e[16];
        memcpy(e, b->c6[i].end, 16);
        if (inc16(e))
            memcpy(pts + 16 * n++, e, 16);
    }
    qsort(pts, n, 16, cmp_16);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || memcmp(pts + 16 * (u - 1), pts + 16 * i, 16) != 0)
            memmove(pts + 16 * u++, pts + 16 * i, 16);
    s->seg6 = pts;
    s->nseg6 = u;
    s->cov6 = tide__calloc(u, sizeof(ix_cover));
    TIDE_CHECK_ALLOC(s->cov6);
    size_t base = s->nlist;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < b->nc6; i++) {
            long lo = seg6_find(pts, u, b->c6[i].start);
            for (size_t k = (size_t)lo; k < u && memcmp(pts + 16 * k, b->c6[i].end, 16) <= 0; k++) {
                if (pass == 0)
                    s->cov6[k].count++;
                else
                    s->list[s->cov6[k].off + s->cov6[k].count++] = b->c6[i].entry;
            }
        }
        if (pass == 0) {
            size_t total = base;
            for (size_t k = 0; k < u; k++) {
                s->cov6[k].off = (uint32_t)total;
                total += s->cov6[k].count;
                s->cov6[k].count = 0;
            }
            if (total > UINT32_MAX)
                return tide_error_set(TIDE_ETOOBIG, "CIDR cover lists too large");
            uint32_t *l = tide__realloc(s->list, (total ? total : 1) * sizeof(uint32_t));
            TIDE_CHECK_ALLOC(l);
            s->list = l;
            s->nlist = total;
        }
    }
    return 0;
}

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

static int assemble(builder *b, int64_t generation, tide_match_index **out)
{
    uint32_t *table = NULL;
    uint64_t *filter = NULL;
    ix_chain *chain = NULL;
    size_t cap = 0, nchain = 0;
    unsigned fbits = 0;
    segs s;
    memset(&s, 0, sizeof(s));
    uint8_t *img = NULL;
    int rc;
    if ((rc = build_table(b, &table, &cap, &filter, &fbits, &chain, &nchain)) < 0 ||
            (rc = build_seg4(b, &s)) < 0 || (rc = build_seg6(b, &s)) < 0)
        goto done;
    if (b->pool.len == 0 && (rc = tide__buf_putc(&b->pool, '\0')) < 0)
        goto done;
    const void *src[S__COUNT] = {
        [S_ENTRIES] = b->entries,
        [S_TABLE] = table,
        [S_POOL] = b->pool.ptr,
        [S_CTX] = b->ctx,
        [S_SEG4] = s.seg,
        [S_COV4] = s.cov,
        [S_JUMP4] = s.jump,
        [S_SEG6] = s.seg6,
        [S_COV6] = s.cov6,
        [S_COVLIST] = s.list,
        [S_SUPP] = b->supp,
        [S_FILTER] = filter,
        [S_COVMAP4] = s.covmap,
        [S_FRAGS] = b->frags,
        [S_LEFT] = b->left,
        [S_CHAIN] = chain,
    };
    size_t len[S__COUNT] = {
        [S_ENTRIES] = b->nentries * sizeof(ix_entry),
        [S_TABLE] = cap * sizeof(uint32_t),
        [S_POOL] = b->pool.len + 1,
        [S_CTX] = b->nctx * sizeof(ix_ctx),
        [S_SEG4] = s.nseg * sizeof(uint32_t),
        [S_COV4] = s.nseg * sizeof(ix_cover),
        [S_JUMP4] = s.seg ? (((size_t)1 << s.jump_bits) + 1) * sizeof(uint32_t) : 0,
        [S_SEG6] = s.nseg6 * 16,
        [S_COV6] = s.nseg6 * sizeof(ix_cover),
        [S_COVLIST] = s.nlist * sizeof(uint32_t),
        [S_SUPP] = b->nsupp * sizeof(ix_supp),
        [S_FILTER] = ((size_t)1 << fbits) / 8,
        [S_COVMAP4] = s.seg ? ((size_t)1 << COVMAP4_BITS) / 8 : 0,
        [S_FRAGS] = b->nfrags * sizeof(ix_frag),
        [S_LEFT] = b->nleft * sizeof(ix_left),
        [S_CHAIN] = nchain * sizeof(ix_chain),
    };
    ix_header h;
    memset(&h, 0, sizeof(h));
    size_t off = align8(sizeof(ix_header));
    for (int i = 0; i < S__COUNT; i++) {
        h.sec[i].off = off;
        h.sec[i].len = len[i];
        off = align8(off + len[i]);
    }
    img = tide__calloc(1, off);
    if (img == NULL) {
        rc = tide_error_set(TIDE_ENOMEM, "out of memory for a %zu-byte match index", off);
        goto done;
    }
    tide__advise_huge(img, off);
    for (int i = 0; i < S__COUNT; i++)
        if (len[i])
            memcpy(img + h.sec[i].off, src[i], len[i]);
    memcpy(h.magic, IX_MAGIC, 8);
    h.version = IX_VERSION;
    h.endian = 0x01020304u;
    h.size = off;
    h.built_at = b->now;
    h.generation = generation;
    h.decay_key = tide_decay_key(&b->decay);
    h.nentries = b->nentries;
    h.nindicators = b->nindicators;
    h.ncidrs = b->nc4 + b->nc6;
    h.nsuppressed = b->nsupp;
    h.nskipped = b->nskipped;
    h.table_cap = cap;
    h.nseg4 = s.nseg;
    h.nseg6 = s.nseg6;
    h.ncovlist = s.nlist;
    h.nctx = b->nctx;
    h.nsupp = b->nsupp;
    h.nfrags = b->nfrags;
    h.nleft = b->nleft;
    h.npattern_only = b->npattern_only;
    h.nchain = nchain;
    memcpy(h.left_by, b->left_by, sizeof(h.left_by));
    h.kind_mask = b->kind_mask;
    h.jump_bits = s.seg ? s.jump_bits : 0;
    h.filter_bits = fbits;
    size_t hoff = align8(sizeof(ix_header));
    h.checksum = XXH3_64bits(img + hoff, off - hoff);
    memcpy(img, &h, sizeof(h));
    tide_match_index *ix = tide__calloc(1, sizeof(*ix));
    if (ix == NULL) {
        rc = tide_error_set(TIDE_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = tide__ix_bind(ix, img, off, "built index")) < 0) {
        tide__free(ix);
        goto done;
    }
    img = NULL;
    *out = ix;
done:
    tide__free(img);
    tide__free(table);
    tide__free(filter);
    tide__free(chain);
    tide__free(s.seg);
    tide__free(s.cov);
    tide__free(s.jump);
    tide__free(s.covmap);
    tide__free(s.seg6);
    tide__free(s.cov6);
    tide__free(s.list);
    return rc;
}

/* tide_match_index_build that also passes every scanned record to tap (declared where it is
 * used: src/history/hist_int.h), so a hunt reads its selection once. */
int tide__ix_build_tap(tide_match_index **out, tide_store *store, const tide_index_opts *opts,
        int (*tap)(const tide_indicator_obs *r, void *payload), void *tap_payload);

int tide_match_index_build(tide_match_index **out, tide_store *store, const tide_index_opts *opts)
{
    return tide__ix_build_tap(out, store, opts, NULL, NULL);
}

/* ---- the store scan in a second thread ----
 *
 * A full build spends about two thirds of its time in the store's scan (SQLite) and one third
 * turning records into entries. The scan runs in a thread of its own and hands records over
 * in batches (strings copied, as the store's row memory is reused), so the two overlap. */

#define SCAN_BATCH 4096
#define SCAN_NB    4

enum {
    F_ID,
    F_VALUE,
    F_SOURCE,
    F_TLP,
    F_KILL,
    F_PATTERN,
    F_PTYPE,
    F__N
};

typedef struct {
    uint32_t str[F__N]; /* offset + 1 in bytes, 0 = NULL */
    uint32_t names;     /* first of its names in the batch's name offsets */
    uint32_t nnames[3];
    tide_obs_kind kind;
    char reliability;
    int confidence;
    int64_t valid_from, valid_until, created, modified, changed_at;
    bool simple, revoked;
} scan_rec;

typedef struct {
    scan_rec *recs;
    size_t n, cap;
    tide_buf bytes;
    uint32_t *names;
    size_t nnames, capnames;
} scan_batch;

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    scan_batch b[SCAN_NB];
    size_t head, nfull; /* the consumer reads b[head]; the producer fills b[(head + nfull) % NB] */
    bool done, stop;
    int scan_rc;
    char scan_err[512];
    tide_store *store;
    tide_indicator_filter filter;
    scan_batch *cur;
} scan_pipe;

static int stash_str(scan_batch *sb, const char *s, uint32_t *out)
{
    if (s == NULL) {
        *out = 0;
        return 0;
    }
    size_t n = strlen(s);
    if (sb->bytes.len + n + 1 >= UINT32_MAX)
        return tide_error_set(TIDE_ETOOBIG, "scan batch too large");
    *out = (uint32_t)sb->bytes.len + 1;
    return tide__buf_put(&sb->bytes, s, n + 1);
}

/* hand the current batch over and take the next free one */
static int pipe_pass(scan_pipe *p)
{
    pthread_mutex_lock(&p->mu);
    p->nfull++;
    pthread_cond_broadcast(&p->cv);
    while (p->nfull == SCAN_NB && !p->stop)
        pthread_cond_wait(&p->cv, &p->mu);
    bool stop = p->stop;
    p->cur = &p->b[(p->head + p->nfull) % SCAN_NB];
    pthread_mutex_unlock(&p->mu);
    p->cur->n = 0;
    p->cur->nnames = 0;
    tide__buf_clear(&p->cur->bytes);
    return stop ? 1 : 0;
}

static int stash(const tide_indicator_obs *r, void *payload)
{
    scan_pipe *p = payload;
    scan_batch *sb = p->cur;
    TIDE_CHECK(grow((void **)&sb->recs, &sb->cap, sb->n + 1, sizeof(*sb->recs)));
    scan_rec *c = &sb->recs[sb->n];
    const char *str[F__N] = { r->id, r->value, r->source, r->tlp, r->kill_chain,
        /* the pattern only matters when it is not simple (index entries of the pattern) */
        r->simple ? NULL : r->pattern, r->pattern_type };
    for (int i = 0; i < F__N; i++)
        TIDE_CHECK(stash_str(sb, str[i], &c->str[i]));
    const char *const *lists[3] = { r->campaigns, r->malware, r->actors };
    size_t ns[3] = { r->ncampaigns, r->nmalware, r->nactors };
    c->names = (uint32_t)sb->nnames;
    for (int l = 0; l < 3; l++) {
        c->nnames[l] = (uint32_t)ns[l];
        for (size_t i = 0; i < ns[l]; i++) {
            TIDE_CHECK(
                    grow((void **)&sb->names, &sb->capnames, sb->nnames + 1, sizeof(*sb->names)));
            TIDE_CHECK(stash_str(sb, lists[l][i], &sb->names[sb->nnames]));
            sb->nnames++;
        }
    }
    c->kind = r->kind;
    c->reliability = r->reliability;
    c->confidence = r->confidence;
    c->valid_from = r->valid_from;
    c->valid_until = r->valid_until;
    c->created = r->created;
    c->modified = r->modified;
    c->changed_at = r->changed_at;
    c->simple = r->simple;
    c->revoked = r->revoked;
    sb->n++;
    return sb->n == SCAN_BATCH ? pipe_pass(p) : 0;
}

static void *scan_main(void *arg)
{
    scan_pipe *p = arg;
    int rc = tide_store_each_indicator_obs(p->store, &p->filter, stash, p);
    pthread_mutex_lock(&p->mu);
    if (rc < 0)
        snprintf(p->scan_err, sizeof(p->scan_err), "%s", tide_error_last());
    p->scan_rc = rc;
    if (rc == 0 && p->cur->n > 0)
        p->nfull++; /* the last, partial batch */
    p->done = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static int build_records(scan_batch *sb, builder *b)
{
    const char *names[256], **nv = names;
    for (size_t i = 0; i < sb->n; i++) {
        const scan_rec *c = &sb->recs[i];
        const char *str[F__N];
        for (int k = 0; k < F__N; k++)
            str[k] = c->str[k] ? sb->bytes.ptr + c->str[k] - 1 : NULL;
        size_t total = (size_t)c->nnames[0] + c->nnames[1] + c->nnames[2];
        if (total > 256) {
            nv = tide__calloc(total, sizeof(*nv));
            TIDE_CHECK_ALLOC(nv);
        }
        for (size_t k = 0; k < total; k++)
            nv[k] = sb->bytes.ptr + sb->names[c->names + k] - 1;
        tide_indicator_obs r = { .id = str[F_ID],
            .kind = c->kind,
            .value = str[F_VALUE],
            .source = str[F_SOURCE],
            .tlp = str[F_TLP],
            .kill_chain = str[F_KILL],
            .pattern = str[F_PATTERN],
            .pattern_type = str[F_PTYPE],
            .reliability = c->reliability,
            .confidence = c->confidence,
            .valid_from = c->valid_from,
            .valid_until = c->valid_until,
            .created = c->created,
            .modified = c->modified,
            .changed_at = c->changed_at,
            .simple = c->simple,
            .revoked = c->revoked,
            .campaigns = nv,
            .ncampaigns = c->nnames[0],
            .malware = nv + c->nnames[0],
            .nmalware = c->nnames[1],
            .actors = nv + c->nnames[0] + c->nnames[1],
            .nactors = c->nnames[2] };
        int rc = on_record(&r, b);
        if (nv != names) {
            tide__free(nv);
            nv = names;
        }
        TIDE_CHECK(rc);
    }
    return 0;
}

/* Whether this process may run on more than one CPU (a second thread only costs the
 * hand-over copies on one). */
static bool several_cpus(void)
{
#ifdef CPU_COUNT
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        return CPU_COUNT(&set) > 1;
#endif
    return sysconf(_SC_NPROCESSORS_ONLN) > 1;
}

/* The full scan through a scan thread; one thread when only one CPU is available or no
 * thread can be started. */
static int scan_threaded(tide_store *store, const tide_indicator_filter *f, builder *b)
{
    if (!several_cpus())
        return tide_store_each_indicator_obs(store, f, on_record, b);
    scan_pipe *p = tide__calloc(1, sizeof(*p));
    TIDE_CHECK_ALLOC(p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->store = store;
    p->filter = *f;
    p->cur = &p->b[0];
    pthread_t th;
    int rc = 0;
    if (pthread_create(&th, NULL, scan_main, p) != 0) {
        rc = tide_store_each_indicator_obs(store, f, on_record, b);
        goto out;
    }
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->nfull == 0 && !p->done)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->nfull == 0) { /* done, all consumed */
            pthread_mutex_unlock(&p->mu);
            break;
        }
        scan_batch *sb = &p->b[p->head];
        pthread_mutex_unlock(&p->mu);
        rc = build_records(sb, b);
        pthread_mutex_lock(&p->mu);
        p->head = (p->head + 1) % SCAN_NB;
        p->nfull--;
        if (rc < 0)
            p->stop = true;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        if (rc < 0)
            break;
    }
    pthread_join(th, NULL);
    if (rc == 0 && p->scan_rc < 0)
        rc = tide_error_set(p->scan_rc, "%s", p->scan_err);
out:
    for (int i = 0; i < SCAN_NB; i++) {
        tide__free(p->b[i].recs);
        tide__free(p->b[i].names);
        tide__buf_free(&p->b[i].bytes);
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    tide__free(p);
    return rc;
}

int tide__ix_build_tap(tide_match_index **out, tide_store *store, const tide_index_opts *opts,
        int (*tap)(const tide_indicator_obs *r, void *payload), void *tap_payload)
{
    *out = NULL;
    builder b;
    memset(&b, 0, sizeof(b));
    b.tap = tap;
    b.tap_payload = tap_payload;
    b.now = opts && opts->now_ms ? opts->now_ms : tide__time_now_ms();
    if (opts && opts->decay)
        b.decay = *opts->decay;
    else
        tide_decay_defaults(&b.decay);
    int64_t generation = 0;
    int rc = tide_store_intel_generation(store, &generation);
    if (rc == 0)
        rc = tide_warninglists_new(&b.wl, store);
    if (rc == 0) /* a sighting refreshes an indicator's score */
        rc = tide_store_last_sighted(store, tide__sighted_note, &b.sighted);
    if (rc == 0) {
        /* revoked ones too, so that they are counted as left out */
        tide_indicator_filter f = { .include_revoked = true };
        if (opts && opts->filter) { /* a hunt's selection */
            f = *opts->filter;
            f.include_revoked = true;
        }
        /* and those without observables: evaluated by their fragments, or listed */
        f.include_unindexed = true;
        /* a hunt's selection is small and its tap wants whole records: one thread */
        rc = tap || (opts && opts->filter) ? tide_store_each_indicator_obs(store, &f, on_record, &b)
                                           : scan_threaded(store, &f, &b);
    }
    if (rc == 0)
        rc = assemble(&b, generation, out);
    tide_warninglists_free(b.wl);
    tide__buf_free(&b.pool);
    tide__buf_free(&b.scratch);
    tide__buf_free(&b.ctxkey);
    tide__free(b.entries);
    tide__free(b.ctx);
    tide__free(b.c4);
    tide__free(b.c6);
    tide__free(b.supp);
    tide__free(b.frags);
    tide__free(b.left);
    tide__strmap_free(&b.ctxmap);
    tide__strmap_free(&b.strmap);
    tide__sighted_free(&b.sighted);
    return rc < 0 ? rc : 0;
}
