/*
 * lookup.c - looking one observed value up in a match index: the exact table, the CIDR
 * segments containing an address (every containing prefix, not only the longest), the
 * parent-domain label walk and the URL-path suffixes.
 */
#include <stdio.h>
#include <string.h>

#include "match/index_int.h"
#include "util/util.h"

static void format_id(const tide_match_index *ix, const ix_entry *e, char out[64])
{
    if (e->flags & IX_ID_IN_POOL) {
        uint32_t off;
        memcpy(&off, e->uuid, sizeof(off));
        snprintf(out, 64, "%s", ix->pool + off);
        return;
    }
    static const char dig[] = "0123456789abcdef";
    memcpy(out, "indicator--", 11);
    char *p = out + 11;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = dig[e->uuid[i] >> 4];
        *p++ = dig[e->uuid[i] & 15];
    }
    *p = '\0';
}

static const char *pool_str(const tide_match_index *ix, uint32_t off)
{
    return off == UINT32_MAX ? NULL : ix->pool + off;
}

static const char *suppressed_by(const tide_match_index *ix, uint32_t entry)
{
    size_t lo = 0, hi = (size_t)ix->h->nsupp;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ix->supp[mid].entry < entry)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ix->h->nsupp && ix->supp[lo].entry == entry ? ix->pool + ix->supp[lo].name
                                                            : "warninglist";
}

typedef struct {
    int (*cb)(const tide_match_hit *hit, void *payload);
    void *payload;
} sink;

static int emit(const tide_match_index *ix, uint32_t idx, const sink *s)
{
    const ix_entry *e = &ix->entries[idx];
    const ix_ctx *c = &ix->ctx[e->ctx];
    char vbuf[IX_MAX_KEY + 64];
    tide_match_hit hit;
    format_id(ix, e, hit.indicator_id);
    hit.kind = (tide_obs_kind)e->kind;
    hit.value_len = tide__ix_value_text(ix, e, vbuf, &hit.value);
    hit.source = pool_str(ix, c->source);
    hit.tlp = pool_str(ix, c->tlp);
    hit.kill_chain = pool_str(ix, c->kill_chain);
    hit.campaigns = pool_str(ix, c->campaigns);
    hit.ncampaigns = hit.campaigns ? c->ncampaigns : 0;
    hit.malware = pool_str(ix, c->malware);
    hit.nmalware = hit.malware ? c->nmalware : 0;
    hit.actors = pool_str(ix, c->actors);
    hit.nactors = hit.actors ? c->nactors : 0;
    hit.confidence = e->confidence;
    hit.score = e->score;
    hit.suppressed = (e->flags & IX_SUPPRESSED) != 0;
    hit.suppressed_by = hit.suppressed ? suppressed_by(ix, idx) : NULL;
    hit.entry = idx;
    hit.pattern = (e->flags & IX_NONSIMPLE) ? pool_str(ix, c->pattern) : NULL;
    return s->cb(&hit, s->payload);
}

int tide__ix_emit(const tide_match_index *ix, uint32_t idx,
        int (*cb)(const tide_match_hit *hit, void *payload), void *payload)
{
    sink s = { cb, payload };
    return emit(ix, idx, &s);
}

/* The entry after idx with the same key (idx is IX_CHAINED): the chain is sorted by entry. */
static uint32_t chain_next(const tide_match_index *ix, uint32_t idx)
{
    size_t lo = 0, hi = (size_t)ix->h->nchain;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ix->chain[mid].entry < idx)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ix->h->nchain && ix->chain[lo].entry == idx ? ix->chain[lo].next : UINT32_MAX;
}

/* The entries of an exact key, once the filter has let it through: the table probe. */
static int exact_run(const tide_match_index *ix, tide_obs_kind kind, const uint8_t *key, size_t n,
        uint64_t h, const sink *s)
{
    uint32_t tmask = ix->tag_mask, tag = (uint32_t)(h >> 32) & tmask;
    uint64_t cap = ix->h->table_cap;
    for (uint64_t i = tide__ix_slot(h, cap), probes = 0; probes < cap;
            i = i + 1 == cap ? 0 : i + 1, probes++) {
        uint32_t slot = ix->table[i];
        if (slot == 0)
            return 0;
        if ((slot & tmask) != tag)
            continue;
        uint32_t idx = (slot & ~tmask) - 1;
        const ix_entry *e = &ix->entries[idx];
        if (e->kind != kind || e->key_len != n || memcmp(ix->pool + e->key_off, key, n) != 0)
            continue;
        /* every entry with this key, newest first; bounded against corrupt cycles */
        for (uint64_t steps = 0; idx != UINT32_MAX && steps < ix->h->nentries; steps++) {
            int rc = emit(ix, idx, s);
            if (rc)
                return rc;
            idx = (ix->entries[idx].flags & IX_CHAINED) ? chain_next(ix, idx) : UINT32_MAX;
        }
        return 0;
    }
    return 0;
}

static int cover(const tide_match_index *ix, const ix_cover *c, const sink *s)
{
    for (uint32_t i = 0; i < c->count; i++) {
        int rc = emit(ix, ix->covlist[c->off + i], s);
        if (rc)
            return rc;
    }
    return 0;
}

/* the CIDRs containing a: the last segment starting at or before a, searched in [lo, end)
 * (the segments whose start shares a's top jump bits), or the one before lo */
static int cidr4_run(const tide_match_index *ix, uint32_t a, size_t lo, size_t end, const sink *s)
{
    size_t l = lo, r = end;
    while (l < r) {
        size_t mid = (l + r) / 2;
        if (ix->seg4[mid] <= a)
            l = mid + 1;
        else
            r = mid;
    }
    if (l == 0)
        return 0;
    return cover(ix, &ix->cov4[l - 1], s);
}

static int cidr6(const tide_match_index *ix, const uint8_t k[16], const sink *s)
{
    size_t l = 0, r = (size_t)ix->h->nseg6;
    while (l < r) {
        size_t mid = (l + r) / 2;
        if (memcmp(ix->seg6 + 16 * mid, k, 16) <= 0)
            l = mid + 1;
        else
            r = mid;
    }
    if (l == 0)
        return 0;
    return cover(ix, &ix->cov6[l - 1], s);
}

int tide_match_lookup(const tide_match_index *ix, tide_obs_kind kind, const char *value, size_t n,
        int (*cb)(const tide_match_hit *hit, void *payload), void *payload)
{
    uint8_t key[IX_MAX_KEY];
    tide_obs_kind k;
    int len = tide__ix_encode(kind, value, n, key, &k);
    if (len < 0)
        return 0;
    return tide__ix_lookup_key(ix, k, key, (size_t)len, cb, payload);
}

int tide__ix_lookup_key(const tide_match_index *ix, tide_obs_kind k, const uint8_t *key, size_t len,
        int (*cb)(const tide_match_hit *hit, void *payload), void *payload)
{
    ix_probe local[64], *pr = local;
    size_t n = tide__ix_probes(ix, k, key, len, local, 64);
    if (n > 64) { /* a URL with very many slashes */
        pr = tide__calloc(n, sizeof(*pr));
        if (pr == NULL)
            return tide_error_set(TIDE_ENOMEM, "out of memory");
        tide__ix_probes(ix, k, key, len, pr, n);
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        tide__ix_probe_step(ix, &pr[i]);
        rc = tide__ix_probe_run(ix, &pr[i], cb, payload);
    }
    if (pr != local)
        tide__free(pr);
    return rc;
}

/* ---- lookups in steps ---- */

/* Bit i set when k[i] is '.', for 8 <= n <= 64 (words inside [k, k+n), the last one
 * overlapping): a name's parents without a memchr call per label. */
static uint64_t dot_mask(const uint8_t *k, size_t n)
{
    const uint64_t lo7 = 0x7F7F7F7F7F7F7F7FULL;
    uint64_t m = 0;
    for (size_t i = 0;; i += 8) {
        if (i + 8 > n)
            i = n - 8;
        uint64_t w;
        memcpy(&w, k + i, 8);
        w ^= 0x2E2E2E2E2E2E2E2EULL;                  /* '.' bytes become zero */
        uint64_t z = ~(((w & lo7) + lo7) | w | lo7); /* 0x80 exactly in the zero bytes */
        uint64_t bits = ((z >> 7) * 0x0102040810204080ULL) >> 56;
        m |= bits << i;
        if (i + 8 >= n)
            return m;
    }
}

/* inlined: one call per probe of every name, hash and URL */
__attribute__((always_inline)) static inline void add_exact(const tide_match_index *ix,
        tide_obs_kind k, const uint8_t *key, size_t len, ix_probe *out, size_t cap, size_t *n)
{
    if (!(ix->h->kind_mask & (1u << k)))
        return;
    if (*n < cap) {
        ix_probe *p = &out[*n];
        p->hash = tide__ix_hash(k, key, len);
        p->key = key;
        p->len = (uint32_t)len;
        p->kind = (uint8_t)k;
        p->op = IXP_EXACT;
        __builtin_prefetch(tide__ix_filter_word(ix, p->hash));
    }
    (*n)++;
}

static void add_search(int op, tide_obs_kind k, const uint8_t *key, size_t len, ix_probe *out,
        size_t cap, size_t *n)
{
    if (*n < cap) {
        ix_probe *p = &out[*n];
        p->hash = 0;
        p->key = key;
        p->len = (uint32_t)len;
        p->kind = (uint8_t)k;
        p->op = (uint8_t)op;
    }
    (*n)++;
}

size_t tide__ix_probes(const tide_match_index *ix, tide_obs_kind k, const uint8_t *key, size_t len,
        ix_probe *out, size_t cap)
{
    size_t n = 0;
    switch (k) {
        case TIDE_OBS_IPV4: {
            if (len != 4)
                return 0;
            ix_probe v4[2];
            size_t nv = tide__ix_probes_v4(ix, key, 0, v4);
            for (size_t i = 0; i < nv; i++, n++)
                if (n < cap)
                    out[n] = v4[i];
            return n;
        }
        case TIDE_OBS_IPV6:
            if (len != 16)
                return 0;
            add_exact(ix, k, key, 16, out, cap, &n);
            if (ix->h->nseg6)
                add_search(IXP_CIDR6, k, key, 16, out, cap, &n);
            return n;
        case TIDE_OBS_DOMAIN: {
            /* the name itself, then each parent that still has a dot ("a.b.c" -> "b.c") */
            if (len >= 8 && len <= 64) { /* the usual name: its dots as bits, 8 bytes at a time */
                uint64_t m = dot_mask(key, len);
                add_exact(ix, k, key, len, out, cap, &n);
                while (m & (m - 1)) { /* a dot with another one after it */
                    unsigned d = (unsigned)__builtin_ctzll(m);
                    m &= m - 1;
                    add_exact(ix, k, key + d + 1, len - d - 1, out, cap, &n);
                }
                return n;
            }
            size_t pos = 0;
            while (pos < len) {
                const uint8_t *dot = memchr(key + pos, '.', len - pos);
                if (dot == NULL && pos > 0)
                    break;
                add_exact(ix, k, key + pos, len - pos, out, cap, &n);
                if (dot == NULL)
                    break;
                pos = (size_t)(dot - key) + 1;
            }
            return n;
        }
        case TIDE_OBS_URL: {
            add_exact(ix, k, key, len, out, cap, &n);
            if (!(ix->h->kind_mask & (1u << TIDE_OBS_URL_PATH)))
                return n;
            /* url-path entries match every URL ending with them at a '/' of the path */
            const uint8_t *hs = memchr(key, ':', len);
            size_t p = hs ? (size_t)(hs - key) + 3 : 0;
            while (p < len && key[p] != '/')
                p++;
            for (; p < len; p++)
                if (key[p] == '/')
                    add_exact(ix, TIDE_OBS_URL_PATH, key + p, len - p, out, cap, &n);
            return n;
        }
        case TIDE_OBS_URL_PATH:
            /* a request target without its host (a web server's request line): each of its
             * suffixes at a '/', as for a URL */
            for (size_t p = 0; p < len; p++)
                if (key[p] == '/')
                    add_exact(ix, TIDE_OBS_URL_PATH, key + p, len - p, out, cap, &n);
            return n;
        default: add_exact(ix, k, key, len, out, cap, &n); return n;
    }
}

int tide__ix_probe_run(const tide_match_index *ix, const ix_probe *p,
        int (*cb)(const tide_match_hit *hit, void *payload), void *payload)
{
    sink s = { cb, payload };
    if (p->op == IXP_CIDR4_COV || p->op == IXP_CIDR4_JUMP) { /* steps not taken yet */
        ix_probe q = *p;
        tide__ix_probe_step(ix, &q);
        tide__ix_probe_step2(ix, &q);
        return q.op == IXP_CIDR4 ? cidr4_run(ix, tide__ix_v4_of(q.key), q.lo, q.hi, &s) : 0;
    }
    switch (p->op) {
        case IXP_EXACT: return exact_run(ix, (tide_obs_kind)p->kind, p->key, p->len, p->hash, &s);
        case IXP_CIDR4: return cidr4_run(ix, tide__ix_v4_of(p->key), p->lo, p->hi, &s);
        case IXP_CIDR4_SEG: return cover(ix, &ix->cov4[p->lo], &s);
        case IXP_CIDR4_LIST:
        case IXP_CIDR4_ENTRIES: {
            ix_cover c = { p->lo, p->hi };
            return cover(ix, &c, &s);
        }
        case IXP_CIDR6: return cidr6(ix, p->key, &s);
        default: return 0;
    }
}
