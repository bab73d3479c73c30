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

static int exact(const tide_match_index *ix, tide_obs_kind kind, const uint8_t *key, size_t n,
        const sink *s)
{
    if (!(ix->h->kind_mask & (1u << kind)))
        return 0;
    uint64_t h = tide__ix_hash(kind, key, n);
    uint64_t fb = (h >> 20) & ix->filter_mask;
    if (!(ix->filter[fb / 64] & ((uint64_t)1 << (fb % 64))))
        return 0; /* certainly absent */
    uint64_t tag = h >> 32, mask = ix->h->table_cap - 1;
    for (uint64_t i = h & mask, probes = 0; probes <= mask; i = (i + 1) & mask, probes++) {
        uint64_t slot = ix->table[i];
        if (slot == 0)
            return 0;
        if ((slot >> 32) != tag)
            continue;
        uint32_t idx = (uint32_t)(slot & 0xFFFFFFFFu) - 1;
        const ix_entry *e = &ix->entries[idx];
        if (e->kind != kind || e->key_len != n || memcmp(ix->pool + e->key_off, key, n) != 0)
            continue;
        /* the chain holds every entry with this key; bounded against corrupt cycles */
        for (uint64_t steps = 0; idx != UINT32_MAX && steps < ix->h->nentries; steps++) {
            int rc = emit(ix, idx, s);
            if (rc)
                return rc;
            idx = ix->entries[idx].next;
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

static int cidr4(const tide_match_index *ix, const uint8_t k[4], const sink *s)
{
    size_t n = (size_t)ix->h->nseg4;
    if (n == 0)
        return 0;
    uint32_t a = (uint32_t)k[0] << 24 | (uint32_t)k[1] << 16 | (uint32_t)k[2] << 8 | k[3];
    uint32_t hi = a >> (32 - ix->h->jump_bits);
    size_t lo = ix->jump4[hi], end = ix->jump4[hi + 1];
    /* last segment starting at or before a: inside [lo, end), or the one before lo */
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

int tide__ix_lookup_key(const tide_match_index *ix, tide_obs_kind k, const uint8_t *key,
        size_t ulen, int (*cb)(const tide_match_hit *hit, void *payload), void *payload)
{
    sink s = { cb, payload };
    int len = (int)ulen;
    int rc;
    switch (k) {
    case TIDE_OBS_IPV4:
        if ((rc = exact(ix, k, key, 4, &s)) != 0)
            return rc;
        return cidr4(ix, key, &s);
    case TIDE_OBS_IPV6:
        if ((rc = exact(ix, k, key, 16, &s)) != 0)
            return rc;
        return cidr6(ix, key, &s);
    case TIDE_OBS_DOMAIN: {
        /* the name itself, then each parent that still has a dot ("a.b.c" -> "b.c") */
        size_t pos = 0;
        while (pos < (size_t)len) {
            const uint8_t *dot = memchr(key + pos, '.', (size_t)len - pos);
            if (dot == NULL && pos > 0)
                break;
            if ((rc = exact(ix, k, key + pos, (size_t)len - pos, &s)) != 0)
                return rc;
            if (dot == NULL)
                break;
            pos = (size_t)(dot - key) + 1;
        }
        return 0;
    }
    case TIDE_OBS_URL: {
        if ((rc = exact(ix, k, key, (size_t)len, &s)) != 0)
            return rc;
        if (!(ix->h->kind_mask & (1u << TIDE_OBS_URL_PATH)))
            return 0;
        /* url-path entries match every URL ending with them at a '/' of the path */
        const uint8_t *hs = memchr(key, ':', (size_t)len);
        size_t p = hs ? (size_t)(hs - key) + 3 : 0;
        while (p < (size_t)len && key[p] != '/')
            p++;
        for (; p < (size_t)len; p++)
            if (key[p] == '/' && (rc = exact(ix, TIDE_OBS_URL_PATH, key + p, (size_t)len - p, &s)))
                return rc;
        return 0;
    }
    default:
        return exact(ix, k, key, (size_t)len, &s);
    }
}

/* Prefetch what looking up one encoded key will touch: the filter words of the key (and, for
 * a domain, of each parent), and the CIDR jump-table slot of an IPv4 address. The matcher
 * calls this for every observation of an event before the lookups, so that their cache misses
 * overlap instead of following one another. */
void tide__ix_prefetch_key(const tide_match_index *ix, tide_obs_kind k, const uint8_t *key,
        size_t ulen)
{
    int len = (int)ulen;
    if (k == TIDE_OBS_IPV4 && ix->h->nseg4) {
        uint32_t a = (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 | (uint32_t)key[2] << 8 | key[3];
        __builtin_prefetch(&ix->jump4[a >> (32 - ix->h->jump_bits)]);
    }
    size_t pos = 0;
    for (;;) {
        uint64_t h = tide__ix_hash(k, key + pos, (size_t)len - pos);
        uint64_t fb = (h >> 20) & ix->filter_mask;
        __builtin_prefetch(&ix->filter[fb / 64]);
        if (k != TIDE_OBS_DOMAIN)
            return;
        const uint8_t *dot = memchr(key + pos, '.', (size_t)len - pos);
        if (dot == NULL)
            return;
        pos = (size_t)(dot - key) + 1;
        if (memchr(key + pos, '.', (size_t)len - pos) == NULL)
            return; /* a TLD alone is never looked up */
    }
}
