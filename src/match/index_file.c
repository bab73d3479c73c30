/*
 * index_file.c - saving and mapping match index images, and checking them: a loaded file is
 * outside input (it may be truncated, corrupt or from another build), so every section bound,
 * offset and count is verified before a lookup may follow it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "match/index_int.h"
#include "util/outfile.h"
#include "util/util.h"

#define BAD(...) tide_error_set(TIDE_EFORMAT, __VA_ARGS__)

int tide__ix_bind(tide_match_index *ix, const uint8_t *base, size_t size, const char *what)
{
    if (size < sizeof(ix_header))
        return BAD("%s: not a tide match index (too short)", what);
    const ix_header *h = (const ix_header *)base;
    if (memcmp(h->magic, IX_MAGIC, 8) != 0)
        return BAD("%s: not a tide match index (bad magic)", what);
    if (h->version != IX_VERSION || h->endian != 0x01020304u)
        return BAD(
                "%s: match index version %u is not %u (rebuild it)", what, h->version, IX_VERSION);
    if (h->size != size)
        return BAD("%s: match index truncated (%zu of %llu bytes)", what, size,
                (unsigned long long)h->size);
    size_t hoff = (sizeof(ix_header) + 7) & ~(size_t)7;
    if (XXH3_64bits(base + hoff, size - hoff) != h->checksum)
        return BAD("%s: match index checksum mismatch (corrupt file)", what);
    for (int i = 0; i < S__COUNT; i++)
        if (h->sec[i].off % 8 || h->sec[i].off > size || h->sec[i].len > size - h->sec[i].off)
            return BAD("%s: match index section %d out of bounds", what, i);
#define SEC(i, n, sz) (h->sec[i].len == (uint64_t)(n) * (sz))
    if (!SEC(S_ENTRIES, h->nentries, sizeof(ix_entry)) ||
            !SEC(S_TABLE, h->table_cap, sizeof(uint32_t)) || h->table_cap < 16 ||
            h->table_cap > ((uint64_t)1 << 32) || !SEC(S_CTX, h->nctx, sizeof(ix_ctx)) ||
            !SEC(S_SEG4, h->nseg4, sizeof(uint32_t)) || !SEC(S_COV4, h->nseg4, sizeof(ix_cover)) ||
            (h->nseg4 && (h->jump_bits < 4 || h->jump_bits > 16)) ||
            !SEC(S_JUMP4, h->nseg4 ? (1u << h->jump_bits) + 1 : 0, sizeof(uint32_t)) ||
            !SEC(S_SEG6, h->nseg6, 16) || !SEC(S_COV6, h->nseg6, sizeof(ix_cover)) ||
            !SEC(S_COVLIST, h->ncovlist, sizeof(uint32_t)) ||
            !SEC(S_SUPP, h->nsupp, sizeof(ix_supp)) || h->filter_bits < 12 || h->filter_bits > 34 ||
            !SEC(S_FILTER, ((uint64_t)1 << h->filter_bits) / 8, 1) ||
            !SEC(S_COVMAP4, h->nseg4 ? ((uint64_t)1 << COVMAP4_BITS) / 8 : 0, 1) ||
            !SEC(S_FRAGS, h->nfrags, sizeof(ix_frag)) || !SEC(S_LEFT, h->nleft, sizeof(ix_left)) ||
            !SEC(S_CHAIN, h->nchain, sizeof(ix_chain)) || h->sec[S_POOL].len == 0 ||
            h->nentries >= UINT32_MAX)
        return BAD("%s: match index section sizes disagree with its counts", what);
#undef SEC
    ix->base = base;
    ix->size = size;
    ix->h = h;
    ix->entries = (const ix_entry *)(base + h->sec[S_ENTRIES].off);
    ix->table = (const uint32_t *)(base + h->sec[S_TABLE].off);
    ix->tag_mask = (uint32_t) ~(((uint64_t)1 << tide__ix_idx_bits(h->nentries)) - 1);
    ix->pool = (const char *)(base + h->sec[S_POOL].off);
    ix->ctx = (const ix_ctx *)(base + h->sec[S_CTX].off);
    ix->seg4 = (const uint32_t *)(base + h->sec[S_SEG4].off);
    ix->cov4 = (const ix_cover *)(base + h->sec[S_COV4].off);
    ix->jump4 = (const uint32_t *)(base + h->sec[S_JUMP4].off);
    ix->seg6 = base + h->sec[S_SEG6].off;
    ix->cov6 = (const ix_cover *)(base + h->sec[S_COV6].off);
    ix->covlist = (const uint32_t *)(base + h->sec[S_COVLIST].off);
    ix->supp = (const ix_supp *)(base + h->sec[S_SUPP].off);
    ix->filter = (const uint64_t *)(base + h->sec[S_FILTER].off);
    ix->filter_mask = ((uint64_t)1 << h->filter_bits) - 1;
    ix->covmap4 = h->nseg4 ? (const uint64_t *)(base + h->sec[S_COVMAP4].off) : NULL;
    ix->frags = (const ix_frag *)(base + h->sec[S_FRAGS].off);
    ix->left = (const ix_left *)(base + h->sec[S_LEFT].off);
    ix->chain = (const ix_chain *)(base + h->sec[S_CHAIN].off);
    /* every reference inside the image must stay inside it */
    size_t plen = h->sec[S_POOL].len;
    if (ix->pool[plen - 1] != '\0')
        return BAD("%s: match index pool not terminated", what);
#define POOLREF(o) ((o) == UINT32_MAX || (o) < plen)
    uint64_t nchained = 0;
    for (uint64_t i = 0; i < h->nentries; i++) {
        const ix_entry *e = &ix->entries[i];
        nchained += (e->flags & IX_CHAINED) != 0;
        if ((uint64_t)e->key_off + e->key_len >= plen || e->key_len == 0 ||
                e->key_len > IX_MAX_KEY || e->kind >= TIDE_OBS__COUNT || e->ctx >= h->nctx)
            return BAD("%s: match index entry %llu is corrupt", what, (unsigned long long)i);
        if (e->flags & IX_ID_IN_POOL) {
            uint32_t off;
            memcpy(&off, e->uuid, sizeof(off));
            if (off >= plen)
                return BAD("%s: match index entry %llu is corrupt", what, (unsigned long long)i);
        }
    }
    for (uint64_t i = 0; i < h->table_cap; i++) {
        uint32_t v = ix->table[i] & ~ix->tag_mask;
        if (v > h->nentries || (v == 0 && ix->table[i] != 0))
            return BAD("%s: match index table slot %llu is corrupt", what, (unsigned long long)i);
    }
    /* one chain record per IX_CHAINED entry: strictly ascending, each entry flagged (lookups
     * bound a walk by nentries steps, so a cycle cannot hang them) */
    if (nchained != h->nchain)
        return BAD("%s: match index chain is corrupt", what);
    for (uint64_t i = 0; i < h->nchain; i++) {
        const ix_chain *c = &ix->chain[i];
        if (c->entry >= h->nentries || c->next >= h->nentries ||
                !(ix->entries[c->entry].flags & IX_CHAINED) ||
                (i && c->entry <= ix->chain[i - 1].entry))
            return BAD("%s: match index chain is corrupt", what);
    }
    for (uint64_t i = 0; i < h->nctx; i++) {
        const ix_ctx *c = &ix->ctx[i];
        if (!POOLREF(c->source) || !POOLREF(c->tlp) || !POOLREF(c->kill_chain) ||
                !POOLREF(c->campaigns) || !POOLREF(c->malware) || !POOLREF(c->actors) ||
                !POOLREF(c->pattern))
            return BAD("%s: match index context %llu is corrupt", what, (unsigned long long)i);
    }
    for (uint64_t i = 0; i < h->nseg4; i++)
        if ((uint64_t)ix->cov4[i].off + ix->cov4[i].count > h->ncovlist ||
                (i && ix->seg4[i] <= ix->seg4[i - 1]))
            return BAD("%s: match index CIDR segment %llu is corrupt", what, (unsigned long long)i);
    for (uint64_t i = 0; h->nseg4 && i <= (1u << h->jump_bits); i++)
        if (ix->jump4[i] > h->nseg4 || (i && ix->jump4[i] < ix->jump4[i - 1]))
            return BAD("%s: match index CIDR jump table is corrupt", what);
    for (uint64_t i = 0; i < h->nseg6; i++)
        if ((uint64_t)ix->cov6[i].off + ix->cov6[i].count > h->ncovlist)
            return BAD("%s: match index CIDR segment %llu is corrupt", what, (unsigned long long)i);
    for (uint64_t i = 0; i < h->ncovlist; i++)
        if (ix->covlist[i] >= h->nentries)
            return BAD("%s: match index CIDR list is corrupt", what);
    for (uint64_t i = 0; i < h->nsupp; i++)
        if (ix->supp[i].entry >= h->nentries || ix->supp[i].name >= plen ||
                (i && ix->supp[i].entry <= ix->supp[i - 1].entry))
            return BAD("%s: match index suppression list is corrupt", what);
    for (uint64_t i = 0; i < h->nfrags; i++) {
        const ix_frag *f = &ix->frags[i];
        if (f->entry >= h->nentries || !(ix->entries[f->entry].flags & IX_PATTERN_ONLY) ||
                f->len < 1 || f->len > IX_MAX_KEY || (uint64_t)f->off + f->len >= plen)
            return BAD("%s: match index fragment %llu is corrupt", what, (unsigned long long)i);
    }
    for (uint64_t i = 0; i < h->nleft; i++)
        if (ix->left[i].id >= plen || !POOLREF(ix->left[i].detail) ||
                ix->left[i].reason == TIDE_LEFT_NONE || ix->left[i].reason >= TIDE_LEFT__COUNT)
            return BAD("%s: match index left-out list is corrupt", what);
#undef POOLREF
    return 0;
}

int tide_match_index_save(const tide_match_index *ix, const char *path)
{
    /* util/outfile.h: a temporary file created exclusively beside path, renamed when complete,
     * 0600 (the index holds the intel's values) unless path exists; a killed save's temporary
     * file is removed by the next one */
    tide__outfile o;
    TIDE_CHECK(tide__outfile_open(&o, path, TIDE__OUT_PRIVATE));
    if (ix->size > 0 && fwrite(ix->base, 1, ix->size, o.f) != ix->size) {
        int rc = tide_error_set(TIDE_EIO, "%s: write: %s", path, strerror(errno));
        tide__outfile_abort(&o);
        return rc;
    }
    return tide__outfile_commit(&o);
}

int tide_match_index_load(tide_match_index **out, const char *path)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tide_error_set(
                errno == ENOENT ? TIDE_ENOTFOUND : TIDE_EIO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size <= 0 || (uint64_t)st.st_size > ((uint64_t)1 << 36)) {
        close(fd);
        return BAD("%s: not a tide match index (empty)", path);
    }
    /* read, not mmap: anonymous memory can be backed by huge pages, and lookups go to random
     * places of a table of tens of MB, where 4 KiB pages would miss the TLB every time */
    size_t size = (size_t)st.st_size;
    uint8_t *m = tide__malloc(size);
    if (m == NULL) {
        close(fd);
        return tide_error_set(TIDE_ENOMEM, "out of memory for the %zu-byte index %s", size, path);
    }
    tide__advise_huge(m, size);
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, m + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got != size) {
        tide__free(m);
        return tide_error_set(TIDE_EIO, "%s: short read (%zu of %zu bytes)", path, got, size);
    }
    tide_match_index *ix = tide__calloc(1, sizeof(*ix));
    if (ix == NULL) {
        tide__free(m);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    int rc = tide__ix_bind(ix, m, size, path);
    if (rc < 0) {
        tide__free(m);
        tide__free(ix);
        return rc;
    }
    *out = ix;
    return 0;
}

void tide_match_index_free(tide_match_index *ix)
{
    if (ix == NULL)
        return;
    tide__free((void *)ix->base);
    tide__free(ix);
}

void tide_match_index_info_get(const tide_match_index *ix, tide_match_index_info *out)
{
    const ix_header *h = ix->h;
    out->entries = (size_t)h->nentries;
    out->indicators = (size_t)h->nindicators;
    out->cidrs = (size_t)h->ncidrs;
    out->suppressed = (size_t)h->nsuppressed;
    out->bytes = ix->size;
    out->built_at = h->built_at;
    out->generation = h->generation;
    out->skipped_invalid = (size_t)h->nskipped;
    out->left_out = 0;
    for (int i = 0; i < 8; i++) {
        out->left_out_by[i] = (size_t)h->left_by[i];
        if (i != TIDE_LEFT_PARTIAL)
            out->left_out += (size_t)h->left_by[i];
    }
    out->pattern_only = (size_t)h->npattern_only;
    out->fragments = (size_t)h->nfrags;
}

const char *tide_left_out_reason_name(tide_left_out_reason r)
{
    static const char *const names[TIDE_LEFT__COUNT] = {
        [TIDE_LEFT_NONE] = "?",
        [TIDE_LEFT_REVOKED] = "revoked",
        [TIDE_LEFT_EXPIRED] = "expired",
        [TIDE_LEFT_NOT_YET_VALID] = "not-yet-valid",
        [TIDE_LEFT_NOTHING] = "nothing-to-look-for",
        [TIDE_LEFT_PARTIAL] = "partly-indexed",
        [TIDE_LEFT_UNPARSED] = "unparsable-pattern",
        [TIDE_LEFT_PATTERN_TYPE] = "pattern-type",
    };
    return (unsigned)r < TIDE_LEFT__COUNT ? names[r] : "?";
}

int tide_match_index_each_left_out(const tide_match_index *ix,
        int (*cb)(const char *indicator_id, tide_left_out_reason reason, const char *detail,
                void *payload),
        void *payload)
{
    for (uint64_t i = 0; i < ix->h->nleft; i++) {
        const ix_left *l = &ix->left[i];
        int rc = cb(ix->pool + l->id, (tide_left_out_reason)l->reason,
                l->detail == UINT32_MAX ? NULL : ix->pool + l->detail, payload);
        if (rc)
            return rc;
    }
    return 0;
}

int tide_match_index_current(tide_match_index **out, tide_store *store, const char *path,
        int64_t max_age_ms, const tide_index_opts *opts, bool *out_built)
{
    *out = NULL;
    if (out_built)
        *out_built = false;
    int64_t gen;
    TIDE_CHECK(tide_store_intel_generation(store, &gen));
    tide_decay_config dc;
    if (opts && opts->decay)
        dc = *opts->decay;
    else
        tide_decay_defaults(&dc);
    if (path) {
        tide_match_index *ix = NULL;
        if (tide_match_index_load(&ix, path) == 0) {
            int64_t age = tide__time_now_ms() - ix->h->built_at;
            if (ix->h->generation == gen && age >= 0 && age < max_age_ms &&
                    ix->h->decay_key == tide_decay_key(&dc)) {
                *out = ix;
                return 0;
            }
            tide_match_index_free(ix);
        }
    }
    TIDE_CHECK(tide_match_index_build(out, store, opts));
    if (out_built)
        *out_built = true;
    if (path)
        (void)tide_match_index_save(*out, path);
    return 0;
}
