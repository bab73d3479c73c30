/*
 * hunt.c - retro-hunt (SPEC C3): the selected indicators are hunted back through history.
 *
 * 1. A match index of only the selected indicators is built (tide_index_opts.filter), so
 *    validity, scores, context and suppression are those of `tide match`; the same scan of
 *    the store gives the selection's key ranges (tide__ix_build_tap).
 * 2. Each selected (kind, value) gives the key ranges its matches can lie in (hist_keys.c:
 *    exact keys, CIDR address ranges, parent-domain and URL-path prefixes); the ranges are
 *    sorted and merged.
 * 3. In every day's run the merged ranges are visited with one forward cursor (block index
 *    seek, zstd block decode), and each record in a range is confirmed with
 *    tide_match_lookup on its canonical value: the ranges only narrow, the index decides.
 * 4. Hits are aggregated per (host, index entry): counts summed over days and values, first /
 *    last seen widened, the earliest place kept.
 * Steps 3 and 4 run on two threads (the runs' blocks, their seeks and zstd, are a hunt's time,
 * and a day may hold many runs: history.md, Compaction): each reads every other run and
 * aggregates into results of its own, which are merged after as one thread visiting the runs in
 * order would have aggregated them (the run of a result's first sighting decides a tie).
 * Candidates of non-simple patterns are counted and left out: history keeps observables,
 * not whole events, so an AND / FOLLOWEDBY pattern cannot be confirmed from it.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "history/hist_int.h"
#include "tide/sightings.h"

typedef struct {
    uint8_t *lo, *hi;
    uint32_t lo_len, hi_len; /* hi_len 0 = unbounded */
} range;

typedef struct {
    uint32_t host;  /* in the hosts name table */
    uint32_t entry; /* index entry */
    tide_match_hit hit;
    char *value; /* copy of hit.value */
    char *observed;
    tide_obs_kind okind;
    int64_t first, last;
    uint64_t count, line;
    uint32_t file;
    size_t run; /* the run of the first sighting (first, file, line, observed) */
} result;

typedef struct {
    tide_history *h;
    const tide_match_index *ix;
    range *ranges;
    size_t nranges, capranges;
    tide_strmap ids;
    tide_strmap keymap; /* host id + entry -> result */
    tide_strmap hostmap, filemap;
    tide_buf hostnames, filenames; /* NUL-separated; offsets in hoff / foff */
    uint32_t *hoff, *foff;
    size_t nh, capnh, nf, capnf;
    result *res;
    size_t nres, capres;
    size_t unconfirmable;
    bool include_revoked;
    /* current record */
    hist_file *f;
    const hist_rec *rec;
    const char *text;
    tide_obs_kind kind;
    size_t run; /* the run being read */
    int err;
    const volatile int *cancel; /* tide_hunt_opts.cancel */
} hunt;

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 64;
    while (c < need)
        c *= 2;
    void *n = tide__realloc(*p, c * size);
    TIDE_CHECK_ALLOC(n);
    *p = n;
    *cap = c;
    return 0;
}

static int intern(tide_strmap *m, tide_buf *b, uint32_t **offs, size_t *n, size_t *cap,
        const char *s, uint32_t *out)
{
    size_t len = strlen(s);
    int added = tide__strmap_put(m, s, len, (uint32_t)*n, out);
    TIDE_CHECK(added);
    if (added) {
        TIDE_CHECK(grow((void **)offs, cap, *n + 1, sizeof(uint32_t)));
        (*offs)[(*n)++] = (uint32_t)b->len;
        TIDE_CHECK(tide__buf_put(b, s, len + 1));
    }
    return 0;
}

/* ---- 1/2: the selection ---- */

static int on_indicator(const tide_indicator_obs *o, void *payload)
{
    hunt *k = payload;
    if (o->revoked && !k->include_revoked)
        return 0; /* the index build scans revoked ones too (to count them) */
    uint32_t dummy;
    TIDE_CHECK(tide__strmap_put(&k->ids, o->id, strlen(o->id), 0, &dummy));
    hist_range rr[2];
    int n = tide__hist_ranges(o->kind, o->value, rr);
    for (int i = 0; i < n; i++) {
        TIDE_CHECK(grow((void **)&k->ranges, &k->capranges, k->nranges + 1, sizeof(range)));
        range *r = &k->ranges[k->nranges];
        r->lo = tide__malloc(rr[i].lo_len + rr[i].hi_len + 1);
        TIDE_CHECK_ALLOC(r->lo);
        memcpy(r->lo, rr[i].lo, rr[i].lo_len);
        r->hi = r->lo + rr[i].lo_len;
        memcpy(r->hi, rr[i].hi, rr[i].hi_len);
        r->lo_len = (uint32_t)rr[i].lo_len;
        r->hi_len = (uint32_t)rr[i].hi_len;
        k->nranges++;
    }
    return 0;
}

static int cmp_hi(const range *a, const range *b)
{
    if (a->hi_len == 0 || b->hi_len == 0)
        return (a->hi_len == 0) - (b->hi_len == 0);
    return tide__hist_keycmp(a->hi, a->hi_len, b->hi, b->hi_len);
}

static int cmp_range(const void *x, const void *y)
{
    const range *a = x, *b = y;
    int c = tide__hist_keycmp(a->lo, a->lo_len, b->lo, b->lo_len);
    return c ? c : cmp_hi(a, b);
}

/* sort by lo; merge overlapping ones into the first (others' memory stays owned by them) */
static void merge_ranges(hunt *k, range **out, size_t *nout)
{
    if (k->nranges > 1)
        qsort(k->ranges, k->nranges, sizeof(range), cmp_range);
    size_t n = 0;
    range *m = *out;
    for (size_t i = 0; i < k->nranges; i++) {
        const range *r = &k->ranges[i];
        if (n > 0) {
            range *last = &m[n - 1];
            bool overlap = last->hi_len == 0 ||
                           tide__hist_keycmp(r->lo, r->lo_len, last->hi, last->hi_len) <= 0;
            if (overlap) {
                if (cmp_hi(r, last) > 0) {
                    last->hi = r->hi;
                    last->hi_len = r->hi_len;
                }
                continue;
            }
        }
        m[n++] = *r;
    }
    *nout = n;
}

/* ---- 3/4: records ---- */

static int on_hit(const tide_match_hit *hit, void *payload)
{
    hunt *k = payload;
    if (hit->pattern) {
        k->unconfirmable++;
        return 0;
    }
    const char *hostname = tide__hist_file_host(k->f, k->rec->host);
    const char *file = tide__hist_file_name(k->f, k->rec->file);
    uint32_t host, fid, idx;
    if ((k->err = intern(
                 &k->hostmap, &k->hostnames, &k->hoff, &k->nh, &k->capnh, hostname, &host)) < 0 ||
            (k->err = intern(&k->filemap, &k->filenames, &k->foff, &k->nf, &k->capnf, file, &fid)) <
                    0)
        return 1;
    uint32_t key[2] = { host, hit->entry };
    int added =
            tide__strmap_put(&k->keymap, (const char *)key, sizeof(key), (uint32_t)k->nres, &idx);
    if (added < 0) {
        k->err = added;
        return 1;
    }
    const hist_rec *r = k->rec;
    if (added) {
        if ((k->err = grow((void **)&k->res, &k->capres, k->nres + 1, sizeof(result))) < 0)
            return 1;
        result *x = &k->res[k->nres];
        memset(x, 0, sizeof(*x));
        x->host = host;
        x->entry = hit->entry;
        x->hit = *hit;
        x->value = tide__strndup(hit->value, hit->value_len);
        x->observed = tide__strdup(k->text);
        if (x->value == NULL || x->observed == NULL) {
            tide__free(x->value);
            tide__free(x->observed);
            k->err = tide_error_set(TIDE_ENOMEM, "out of memory");
            return 1;
        }
        k->nres++;
        x->hit.value = x->value;
        x->okind = k->kind;
        x->first = r->first;
        x->last = r->last;
        x->count = r->count;
        x->file = fid;
        x->line = r->line;
        x->run = k->run;
        return 0;
    }
    result *x = &k->res[idx];
    x->count += r->count;
    if (r->last > x->last)
        x->last = r->last;
    if (r->first < x->first) {
        char *o = tide__strdup(k->text);
        if (o == NULL) {
            k->err = tide_error_set(TIDE_ENOMEM, "out of memory");
            return 1;
        }
        tide__free(x->observed);
        x->observed = o;
        x->okind = k->kind;
        x->first = r->first;
        x->file = fid;
        x->line = r->line;
        x->run = k->run; /* runs are read in order by each worker: a tie keeps the earlier */
    }
    return 0;
}

static int hunt_file(hunt *k, hist_file *f, const range *rs, size_t n, int64_t since_us,
        int64_t until_us, uint64_t *checked)
{
    hist_cursor c;
    tide__hist_cursor_init(&c, f);
    k->f = f;
    char text[HIST_MAX_KEY + 64];
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const range *r = &rs[i];
        if ((rc = tide__hist_cursor_seek(&c, r->lo, r->lo_len)) < 0)
            break;
        for (;;) {
            int s = tide__hist_cursor_next(&c);
            if (s <= 0) {
                rc = s;
                if (s == 0)
                    i = n; /* this file is done */
                break;
            }
            if (r->hi_len && tide__hist_keycmp(c.rec.key, c.rec.key_len, r->hi, r->hi_len) >= 0) {
                c.loaded = true; /* keep it for the next range */
                break;
            }
            if ((++*checked & 4095) == 0 && k->cancel && *k->cancel) {
                rc = tide_error_set(TIDE_ECANCELED, "hunt cancelled");
                break;
            }
            if ((since_us && c.rec.last < since_us) || (until_us && c.rec.first > until_us))
                continue;
            tide_obs_kind kind;
            int tl = tide__hist_key_text(c.rec.key, c.rec.key_len, text, &kind);
            if (tl < 0)
                continue;
            k->rec = &c.rec;
            k->text = text;
            k->kind = kind;
            tide_match_lookup(k->ix, kind, text, (size_t)tl, on_hit, k);
            if (k->err < 0) {
                rc = k->err;
                break;
            }
        }
    }
    tide__hist_cursor_free(&c);
    return rc;
}

/* ---- 3/4 on two threads ---- */

#define HUNT_WORKERS 2

typedef struct {
    tide_history *h;
    hunt *w[HUNT_WORKERS]; /* each worker's hunt: results, names, counters of its own */
    const range *rs;
    size_t nrs;
    int64_t since_us, until_us;
    int nworkers; /* worker w reads the runs i with i % nworkers == w */
    atomic_int stop;
    uint64_t checked[HUNT_WORKERS];
    int rc[HUNT_WORKERS];
    char err[HUNT_WORKERS][512];
} hunt_pool;

typedef struct {
    hunt_pool *p;
    int id;
} hunt_arg;

/* Worker id's runs, in order (until a worker fails, or the hunt is cancelled). The runs are
 * dealt by index, not taken as a worker is free: which worker reads which run, and so which
 * results are merged into which, is the same in every hunt (a test holds the merge to it). */
static void pool_work(hunt_pool *p, int id)
{
    hunt *k = p->w[id];
    int rc = 0;
    for (size_t i = (size_t)id; i < tide__hist_nruns(p->h); i += (size_t)p->nworkers) {
        if (atomic_load(&p->stop))
            break;
        int64_t d0 = (int64_t)tide__hist_run_day(p->h, i) * HIST_DAY_US;
        if ((p->since_us && d0 + HIST_DAY_US <= p->since_us) || (p->until_us && d0 > p->until_us))
            continue;
        if (k->cancel && *k->cancel) {
            rc = tide_error_set(TIDE_ECANCELED, "hunt cancelled");
            break;
        }
        hist_file *f;
        if ((rc = tide__hist_run_open(p->h, i, &f)) < 0)
            break;
        k->run = i;
        rc = hunt_file(k, f, p->rs, p->nrs, p->since_us, p->until_us, &p->checked[id]);
        tide__hist_file_free(f);
        if (rc < 0)
            break;
    }
    if (rc < 0) {
        snprintf(p->err[id], sizeof(p->err[id]), "%s", tide_error_last());
        p->rc[id] = rc;
        atomic_store(&p->stop, 1);
    }
}

static void *pool_main(void *arg)
{
    hunt_arg *a = arg;
    pool_work(a->p, a->id);
    return NULL;
}

/* Worker src's results into dst's, as if dst had read src's runs too, in order. */
static int pool_merge(hunt *dst, hunt *src)
{
    for (size_t i = 0; i < src->nres; i++) {
        result *y = &src->res[i];
        uint32_t host, fid, idx;
        TIDE_CHECK(intern(&dst->hostmap, &dst->hostnames, &dst->hoff, &dst->nh, &dst->capnh,
                src->hostnames.ptr + src->hoff[y->host], &host));
        TIDE_CHECK(intern(&dst->filemap, &dst->filenames, &dst->foff, &dst->nf, &dst->capnf,
                src->filenames.ptr + src->foff[y->file], &fid));
        uint32_t key[2] = { host, y->entry };
        int added = tide__strmap_put(
                &dst->keymap, (const char *)key, sizeof(key), (uint32_t)dst->nres, &idx);
        TIDE_CHECK(added);
        if (added) {
            TIDE_CHECK(grow((void **)&dst->res, &dst->capres, dst->nres + 1, sizeof(result)));
            result *x = &dst->res[dst->nres++];
            *x = *y; /* the strings move */
            y->value = y->observed = NULL;
            x->host = host;
            x->file = fid;
            continue;
        }
        result *x = &dst->res[idx];
        x->count += y->count;
        if (y->last > x->last)
            x->last = y->last;
        if (y->first < x->first || (y->first == x->first && y->run < x->run)) {
            tide__free(x->observed);
            x->observed = y->observed;
            y->observed = NULL;
            x->okind = y->okind;
            x->first = y->first;
            x->file = fid;
            x->line = y->line;
            x->run = y->run;
        }
    }
    dst->unconfirmable += src->unconfirmable;
    return 0;
}

static void hunt_free_results(hunt *k)
{
    for (size_t i = 0; i < k->nres; i++) {
        tide__free(k->res[i].value);
        tide__free(k->res[i].observed);
    }
    tide__free(k->res);
    tide__free(k->hoff);
    tide__free(k->foff);
    tide__buf_free(&k->hostnames);
    tide__buf_free(&k->filenames);
    tide__strmap_free(&k->keymap);
    tide__strmap_free(&k->hostmap);
    tide__strmap_free(&k->filemap);
}

/* Every run hunted into k: by k's thread and, on a machine of more than one core with more
 * than one run, a second worker whose results are merged into k's. */
static int hunt_runs(hunt *k, tide_history *h, const range *rs, size_t nrs, int64_t since_us,
        int64_t until_us, uint64_t *checked)
{
    hunt second;
    memset(&second, 0, sizeof(second));
    second.h = k->h;
    second.ix = k->ix;
    second.cancel = k->cancel;
    second.keymap = (tide_strmap)TIDE_STRMAP_INIT;
    second.hostmap = (tide_strmap)TIDE_STRMAP_INIT;
    second.filemap = (tide_strmap)TIDE_STRMAP_INIT;
    hunt_pool p;
    memset(&p, 0, sizeof(p));
    p.h = h;
    p.w[0] = k;
    p.w[1] = &second;
    p.rs = rs;
    p.nrs = nrs;
    p.since_us = since_us;
    p.until_us = until_us;
    atomic_init(&p.stop, 0);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    bool two = tide__hist_nruns(h) > 1 && cores > 1 && tide__hist_threads() > 1;
    pthread_t tid;
    hunt_arg a = { &p, 1 };
    if (two) {
        sigset_t all, old; /* signals are for the caller's threads */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        p.nworkers = 2; /* before the worker starts: it reads it */
        two = pthread_create(&tid, NULL, pool_main, &a) == 0;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    if (!two)
        p.nworkers = 1; /* no second worker: this one reads every run */
    pool_work(&p, 0);
    if (two)
        pthread_join(tid, NULL);
    int rc = 0;
    for (int i = 0; i < HUNT_WORKERS && rc == 0; i++)
        if (p.rc[i] < 0)
            rc = tide_error_set(p.rc[i], "%s", p.err[i]);
    if (rc == 0)
        rc = pool_merge(k, &second);
    hunt_free_results(&second);
    *checked += p.checked[0] + p.checked[1];
    return rc;
}

static hunt *sort_hunt;

static int cmp_result(const void *x, const void *y)
{
    const result *a = x, *b = y;
    int c = strcmp(sort_hunt->hostnames.ptr + sort_hunt->hoff[a->host],
            sort_hunt->hostnames.ptr + sort_hunt->hoff[b->host]);
    if (c)
        return c;
    c = strcmp(a->value, b->value);
    if (c)
        return c;
    return strcmp(a->hit.indicator_id, b->hit.indicator_id);
}

int tide_history_hunt(tide_history *h, tide_store *store, const tide_hunt_opts *opts,
        int (*cb)(const tide_retro_sighting *s, void *payload), void *payload,
        tide_hunt_stats *out_stats)
{
    tide_hunt_opts o = { 0 };
    if (opts)
        o = *opts;
    if (out_stats)
        memset(out_stats, 0, sizeof(*out_stats));
    hunt k;
    memset(&k, 0, sizeof(k));
    k.h = h;
    k.cancel = o.cancel;
    k.ids = (tide_strmap)TIDE_STRMAP_INIT;
    k.keymap = (tide_strmap)TIDE_STRMAP_INIT;
    k.hostmap = (tide_strmap)TIDE_STRMAP_INIT;
    k.filemap = (tide_strmap)TIDE_STRMAP_INIT;
    tide_match_index *ix = NULL;
    tide_warninglists *wl = NULL;
    range *merged = NULL;
    size_t nmerged = 0;
    uint64_t checked = 0;
    tide_sighting_rec *recs = NULL;
    int rc = 0;
    tide_index_opts io = { .now_ms = o.now_ms, .filter = o.filter };
    k.include_revoked = o.filter && o.filter->include_revoked;
    if (tide__hist_nruns(h) == 0) {
        /* nothing to look in: only count the selection */
        if ((rc = tide_store_each_indicator_obs(store, o.filter, on_indicator, &k)) < 0)
            goto done;
        goto report;
    }
    /* one scan of the selection: the index build hands each record to on_indicator too */
    if ((rc = tide__ix_build_tap(&ix, store, &io, on_indicator, &k)) < 0)
        goto done;
    if (k.nranges == 0)
        goto report;
    if ((rc = tide_warninglists_new(&wl, store)) < 0)
        goto done;
    k.ix = ix;
    merged = tide__malloc(k.nranges * sizeof(range));
    if (merged == NULL) {
        rc = tide_error_set(TIDE_ENOMEM, "out of memory");
        goto done;
    }
    merge_ranges(&k, &merged, &nmerged);
    if ((rc = hunt_runs(&k, h, merged, nmerged, o.since_ms * 1000, o.until_ms * 1000, &checked)) <
            0)
        goto done;
    /* warninglisted observed values suppress, as in the matcher */
    for (size_t i = 0; i < k.nres; i++) {
        result *x = &k.res[i];
        if (x->hit.suppressed || wl == NULL)
            continue;
        char low[HIST_MAX_KEY + 64];
        snprintf(low, sizeof(low), "%s", x->observed);
        tide__str_lower(low);
        const char *by = tide_warninglists_check(wl, x->okind, low);
        if (by) {
            x->hit.suppressed = true;
            x->hit.suppressed_by = by;
        }
    }
    sort_hunt = &k;
    if (k.nres > 1)
        qsort(k.res, k.nres, sizeof(result), cmp_result);
    sort_hunt = NULL;
    if (o.store && k.nres) {
        recs = tide__calloc(k.nres, sizeof(tide_sighting_rec));
        if (recs == NULL) {
            rc = tide_error_set(TIDE_ENOMEM, "out of memory");
            goto done;
        }
    }
    for (size_t i = 0; i < k.nres; i++) {
        const result *x = &k.res[i];
        tide_retro_sighting s = {
            .host = k.hostnames.ptr + k.hoff[x->host],
            .observed = x->observed,
            .observed_kind = x->okind,
            .first_seen_us = x->first,
            .last_seen_us = x->last,
            .count = x->count,
            .file = k.filenames.ptr + k.foff[x->file],
            .line = x->line,
            .hit = &x->hit,
        };
        if (recs) {
            tide_sighting_rec *r = &recs[i];
            r->host = s.host;
            r->indicator_id = x->hit.indicator_id;
            r->indicator = x->value;
            r->kind = x->hit.kind;
            r->observed = x->observed;
            r->field = NULL;
            r->file = s.file;
            r->line = (int64_t)x->line;
            r->first_seen = x->first / 1000;
            r->last_seen = x->last / 1000;
            r->live_count = 0;
            r->retro_count = (int64_t)x->count;
            r->suppressed = x->hit.suppressed;
            r->suppressed_by = x->hit.suppressed_by;
        }
        if (cb && (rc = cb(&s, payload)) != 0)
            goto done;
    }
    if (o.cancel && *o.cancel) { /* before anything is stored: nothing half-written */
        rc = tide_error_set(TIDE_ECANCELED, "hunt cancelled");
        goto done;
    }
    if (recs && (rc = tide_store_put_sightings(store, recs, k.nres)) < 0)
        goto done;
report:
    if (out_stats) {
        out_stats->indicators = k.ids.n;
        out_stats->hosts = k.nh;
        out_stats->sightings = k.nres;
        out_stats->unconfirmable = k.unconfirmable;
        out_stats->records_checked = checked;
    }
done:
    for (size_t i = 0; i < k.nranges; i++)
        tide__free(k.ranges[i].lo);
    tide__free(k.ranges);
    tide__free(merged);
    hunt_free_results(&k);
    tide__free(recs);
    tide__strmap_free(&k.ids);
    tide_warninglists_free(wl);
    tide_match_index_free(ix);
    return rc < 0 ? rc : 0;
}
