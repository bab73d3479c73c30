/*
 * ingest.c - the ingest core: walks the inputs, picks a reader per file, and is the sink every
 * reader emits into. For each STIX object it validates what the store relies on (indicator
 * patterns), works out the context (source, TLP, confidence, reliability, validity, kill-chain
 * phases), extracts the observables the pattern names, and stores object + indexes in
 * batched transactions so an interrupted ingest leaves the store as of the last commit.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>
#include <xxhash.h>

#include "ingest/emit_indicator.h"
#include "ingest/pattern_fast.h"
#include "ingest/sink.h"
#include "intel/marking.h"
#include "intel/tlp.h"
#include "tide/ingest.h"
#include "tide/observable.h"
#include "tide/pattern.h"
#include "tide/store.h"
#include "tide/tlp.h"
#include "util/util.h"

#define BATCH_SIZE                                                                                 \
    250000           /* objects per transaction: each commit rewrites the index pages it           \
                        dirtied, so big batches keep bulk ingest from writing the                  \
                        indexes over and over; a crash loses at most one batch */
#define MAX_OBS 4096 /* observables indexed per indicator */

typedef struct {
    tide_store *store;
    tide_ingest_stats *stats;
    tide_ingest_error_cb on_error;
    void *payload;
    const tide_ingest_opts *opts;
    const char *default_source; /* from the file name */
    long in_batch;
    bool bulk;
    int fatal;
    /* hashes of the ids of derived objects stored by this run: a feed that repeats a value
     * (maltrail lists do, under several reference groups) keeps its first record, so that
     * reading the same feed again changes nothing */
    uint64_t *seen;
    size_t seen_cap, seen_n;
    /* observable scratch */
    tide_obs_ref obs[MAX_OBS];
    char *obs_vals[MAX_OBS];
    size_t nobs;
    /* ip-port assembly per and_group */
    int port_group;
    char *port_ip;
    char *port_num;
    int port_ip_group;
    char bad_term[300]; /* why a term of the pattern walked names an impossible value, or "" */
    tide__arena arena;  /* members of objects readers give as a DOM */
    /* stats->stored and ->indicators as of the last commit: a failed store (rolled back)
     * keeps nothing after it, and the counts must not say otherwise */
    long kept_stored, kept_indicators;
    /* what the marking-definition ids met that are not TLP 1.0 / 2.0 ones mean (a TIDE_TLP_*,
     * TIDE_MARKING_NOT_TLP or TIDE__MARK_UNKNOWN), from the definitions read in this run and
     * the store */
    tide_strmap mark_ids; /* id -> index into mark_vals */
    int *mark_vals;
    size_t mark_n, mark_cap;
    tide__mark_resolver marks;
    char tlp_label[48];  /* TIDE_TLP_UNRESOLVED["/<tlp>"] */
    FILE *fp;            /* the input being read (progress), or NULL */
    uint64_t bytes_done; /* bytes of the inputs read before it (progress) */
} core;

static void keep_counts(core *c)
{
    c->kept_stored = c->stats->stored;
    c->kept_indicators = c->stats->indicators;
}

static void drop_uncommitted_counts(core *c)
{
    c->stats->stored = c->kept_stored;
    c->stats->indicators = c->kept_indicators;
}

/* The feed readers: a format's name and the reader of one file of it (sink.h). A folder
 * format (a MISP feed: manifest.json + event files) has no file reader; read_dir handles it.
 * Adding a feed format = a tide_feed_format value, an entry here, a reader file, and a rule in
 * detect.c when it can be recognised. */
static const struct {
    tide_feed_format fmt;
    const char *name;
    int (*read)(tide_sink *sink, FILE *fp);
} readers[] = {
    { TIDE_FMT_AUTO, "auto", NULL },
    { TIDE_FMT_STIX, "stix", tide__read_stix },
    { TIDE_FMT_MISP, "misp", tide__read_misp },
    { TIDE_FMT_MISP_FEED, "misp-feed", NULL },
    { TIDE_FMT_CSV, "csv", tide__read_csv },
    { TIDE_FMT_LIST, "list", tide__read_list },
};
#define NREADERS (sizeof(readers) / sizeof(readers[0]))

int tide_feed_format_from_name(const char *name)
{
    for (size_t i = 0; name && i < NREADERS; i++)
        if (strcmp(name, readers[i].name) == 0)
            return (int)readers[i].fmt;
    return -1;
}

static int (*reader_of(tide_feed_format fmt))(tide_sink *, FILE *)
{
    for (size_t i = 0; i < NREADERS; i++)
        if (readers[i].fmt == fmt)
            return readers[i].read;
    return NULL;
}

static void report(core *c, const char *file, long line, long long offset, const char *reason)
{
    c->stats->rejected++;
    if (c->on_error)
        c->on_error(file, line, offset, reason, c->payload);
}

static void sink_reject(tide_sink *sink, long line, long long offset, const char *reason)
{
    report(sink->payload, sink->file, line, offset, reason);
}

/* The last timestamp parsed: created, modified and valid_from are often the same string. */
typedef struct {
    const char *s;
    int ok;
    int64_t v;
} tmemo;

/* Whether s is a timestamp (*ms its value), through the memo. */
static bool tparse(tmemo *memo, const char *s, int64_t *ms)
{
    if (memo->s == NULL || strcmp(s, memo->s) != 0) {
        memo->s = s;
        memo->ok = tide__time_parse(s, &memo->v) == 0;
    }
    *ms = memo->v;
    return memo->ok;
}

/* s as ms since the epoch, dflt when absent or not a timestamp. */
static int64_t jtime(tmemo *memo, const char *s, int64_t dflt)
{
    int64_t v;
    if (s == NULL || !tparse(memo, s, &v))
        return dflt;
    return v;
}

/* What STIX 2.1 asks of the members the store reads: timestamps that name real instants
 * (RFC 3339, year 0000-9999, a day of its month ...), an indicator's valid_until after its
 * valid_from, confidence an integer 0-100 (a real of integral value too: an object holding a
 * too-big integer anywhere is read with every number a real). NULL when the object is
 * fine, else the reason in why; *conf gets the confidence (-1 when absent). */
static const char *check_members(
        const tide__members *m, tmemo *tm, int *conf, char *why, size_t whysz)
{
    const struct {
        const char *name, *v;
    } ts[] = { { "created", m->created }, { "modified", m->modified },
        { "valid_from", m->valid_from }, { "valid_until", m->valid_until } };
    int64_t from = 0, until = 0;
    for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
        int64_t v;
        if (ts[i].v == NULL)
            continue;
        if (!tparse(tm, ts[i].v, &v)) {
            snprintf(why, whysz, "%s '%.64s' is not a valid timestamp", ts[i].name, ts[i].v);
            return why;
        }
        if (i == 2)
            from = v;
        else if (i == 3)
            until = v;
    }
    if (m->valid_from && m->valid_until && until <= from) {
        snprintf(why, whysz, "valid_until %.40s is not after valid_from %.40s", m->valid_until,
                m->valid_from);
        return why;
    }
    *conf = -1;
    if (m->has_confidence) {
        double d = m->confidence_is_int ? (double)m->confidence : m->confidence_real;
        if (!(d >= 0 && d <= 100 && d == (double)(int)d)) {
            if (m->confidence_is_int)
                snprintf(why, whysz, "confidence %lld is not an integer 0-100", m->confidence);
            else if (isnan(d))
                snprintf(why, whysz, "confidence is not a number (an integer 0-100)");
            else
                snprintf(why, whysz, "confidence %g is not an integer 0-100", d);
            return why;
        }
        *conf = (int)d;
    }
    return NULL;
}

/* ---- observables of an indicator's pattern ---- */

static void obs_reset(core *c)
{
    for (size_t i = 0; i < c->nobs; i++)
        tide__free(c->obs_vals[i]);
    c->nobs = 0;
    tide__free(c->port_ip);
    tide__free(c->port_num);
    c->port_ip = c->port_num = NULL;
    c->port_group = c->port_ip_group = -1;
}

static int obs_add(core *c, tide_obs_kind kind, const char *value)
{
    if (c->nobs >= MAX_OBS)
        return 0;
    char *norm = NULL;
    if (tide_obs_normalize(kind, value, &norm) < 0)
        return 0; /* not a valid value of that kind: not indexable, the pattern still stands */
    for (size_t i = 0; i < c->nobs; i++) {
        if (c->obs[i].kind == kind && strcmp(c->obs_vals[i], norm) == 0) {
            free(norm);
            return 0;
        }
    }
    c->obs_vals[c->nobs] = norm;
    c->obs[c->nobs].kind = kind;
    c->obs[c->nobs].value = norm;
    c->nobs++;
    return 0;
}

static int try_ip_port(core *c)
{
    if (c->port_ip && c->port_num && c->port_ip_group == c->port_group) {
        tide_buf b = TIDE_BUF_INIT;
        int rc = strchr(c->port_ip, ':') ? tide__buf_printf(&b, "[%s]:%s", c->port_ip, c->port_num)
                                         : tide__buf_printf(&b, "%s:%s", c->port_ip, c->port_num);
        if (rc == 0)
            obs_add(c, TIDE_OBS_IP_PORT, b.ptr);
        tide__buf_free(&b);
        /* the address alone was indexed when it came before its port: it is not an
         * observable of its own, only half of the ip:port conjunction */
        char *norm = NULL;
        tide_obs_kind ak = strchr(c->port_ip, ':') ? TIDE_OBS_IPV6 : TIDE_OBS_IPV4;
        if (tide_obs_normalize(ak, c->port_ip, &norm) == 0) {
            for (size_t i = 0; i < c->nobs; i++) {
                if (c->obs[i].kind == ak && strcmp(c->obs_vals[i], norm) == 0) {
                    free(c->obs_vals[i]);
                    memmove(&c->obs[i], &c->obs[i + 1], (c->nobs - i - 1) * sizeof(c->obs[0]));
                    memmove(&c->obs_vals[i], &c->obs_vals[i + 1],
                            (c->nobs - i - 1) * sizeof(c->obs_vals[0]));
                    c->nobs--;
                    break;
                }
            }
            free(norm);
        }
        tide__free(c->port_ip);
        tide__free(c->port_num);
        c->port_ip = c->port_num = NULL;
        return 1;
    }
    return 0;
}

/* Whether a pattern value of kind k may be defanged ("hxxp://evil[.]example/a.php",
 * "10.20.30[.]40", "x[@]example.com"): a cheap test, the refang decides. */
static bool maybe_defanged(tide_obs_kind k, const char *v)
{
    switch (k) {
        case TIDE_OBS_URL:
        case TIDE_OBS_DOMAIN:
        case TIDE_OBS_EMAIL:
        case TIDE_OBS_IPV4:
        case TIDE_OBS_IPV6:
        case TIDE_OBS_CIDR4:
        case TIDE_OBS_CIDR6:
        case TIDE_OBS_IP_PORT: break;
        default: return false;
    }
    char c0 = (char)(v[0] | 0x20);
    if (c0 == 'h' && v[1] && v[2] && v[3] &&
            (strncasecmp(v, "hxxp", 4) == 0 || strncasecmp(v, "hxtp", 4) == 0 ||
                    strncasecmp(v, "httx", 4) == 0))
        return true;
    if (c0 == 'f' && strncasecmp(v, "fxp", 3) == 0)
        return true;
    for (const char *p = v; *p; p++)
        if (*p == '[' || *p == '(' || *p == '{')
            return true;
    return false;
}

/* A defanged pattern value is refanged and indexed as what it names; one that refangs to no
 * valid value of its kind rejects the indicator (never stored without its observable). */
static int defanged_term(core *c, tide_obs_kind k, const char *v)
{
    char *ref = NULL, *norm = NULL;
    if (tide_obs_refang(v, &ref) < 0)
        return 0;
    if (strcmp(ref, v) == 0) {
        /* not defanged after all */
        if (c->bad_term[0] == '\0' &&
                tide__value_invalid(k, v, c->bad_term, sizeof(c->bad_term)) != NULL) {
            free(ref);
            return 0;
        }
        obs_add(c, k, v);
        free(ref);
        return 0;
    }
    char why[300];
    if (tide__value_invalid(k, ref, why, sizeof(why)) != NULL ||
            tide_obs_normalize(k, ref, &norm) < 0) {
        if (c->bad_term[0] == '\0')
            snprintf(c->bad_term, sizeof(c->bad_term),
                    "'%.100s' is defanged and refangs to '%.100s', not a valid %s", v, ref,
                    tide_obs_kind_name(k));
    } else {
        obs_add(c, k, ref);
    }
    free(norm);
    free(ref);
    return 0;
}

static int term_cb(const tide_pattern_term *t, void *payload)
{
    core *c = payload;
    if (t->negated)
        return 0;
    if (strcmp(t->object_type, "network-traffic") == 0 && strcmp(t->path, "dst_port") == 0) {
        /* [network-traffic:dst_ref.value = 'IP' AND network-traffic:dst_port = N] is ip:port */
        tide__free(c->port_num);
        c->port_num = tide__strdup(t->value);
        c->port_group = t->and_group;
        try_ip_port(c);
        return 0;
    }
    if (strcmp(t->object_type, "network-traffic") == 0 && strcmp(t->path, "dst_ref.value") == 0) {
        tide__free(c->port_ip);
        c->port_ip = tide__strdup(t->value);
        c->port_ip_group = t->and_group;
        if (try_ip_port(c))
            return 0;
    }
    if (t->op[0] == 'L') { /* url:value LIKE '%/path': the url-path "/path" */
        if (c->bad_term[0] == '\0' && tide__value_invalid(TIDE_OBS_URL_PATH, t->value + 1,
                                              c->bad_term, sizeof(c->bad_term)) != NULL)
            return 0;
        obs_add(c, TIDE_OBS_URL_PATH, t->value + 1);
        return 0;
    }
    tide_obs_kind k = tide_obs_from_path(t->object_type, t->path, t->value);
    if (k == TIDE_OBS_NONE)
        return 0;
    if (t->value && maybe_defanged(k, t->value))
        return defanged_term(c, k, t->value);
    if (c->bad_term[0] == '\0' && t->value &&
            tide__value_invalid(k, t->value, c->bad_term, sizeof(c->bad_term)) != NULL)
        return 0;
    obs_add(c, k, t->value);
    return 0;
}

/* ---- context ---- */

/* Remember what marking id means (a later definition replaces what was assumed). */
static int mark_remember(core *c, const char *id, int meaning)
{
    if (c->mark_n == c->mark_cap) {
        size_t nc = c->mark_cap ? c->mark_cap * 2 : 16;
        int *nv = tide__realloc(c->mark_vals, nc * sizeof(int));
        TIDE_CHECK_ALLOC(nv);
        c->mark_vals = nv;
        c->mark_cap = nc;
    }
    uint32_t idx;
    int ins = tide__strmap_put(&c->mark_ids, id, strlen(id), (uint32_t)c->mark_n, &idx);
    TIDE_CHECK(ins);
    if (ins)
        c->mark_n++;
    c->mark_vals[idx] = meaning;
    return 0;
}

/* The resolver's answer for a marking id that is not a TLP 1.0 / 2.0 one: a definition read
 * in this run, else one the store holds (not during a bulk load, where the store was empty),
 * else unknown (for now: the object is stored as unresolved, and the gate resolves it when
 * intel leaves). */
static int run_marking(void *payload, const char *id)
{
    core *c = payload;
    int64_t have = tide__strmap_get(&c->mark_ids, id, strlen(id));
    if (have >= 0)
        return c->mark_vals[have];
    int m = TIDE__MARK_UNKNOWN;
    char *js = NULL;
    if (!c->bulk && tide_store_get(c->store, id, NULL, &js) == 0) {
        m = tide_marking_definition_level(js, strlen(js));
        free(js);
    }
    tide_error_clear(); /* not stored (yet); a store failure shows at the next write */
    if (mark_remember(c, id, m) < 0)
        tide_error_clear(); /* not remembered: looked up again */
    return m;
}

/* The TLP label stored with an object: the most restrictive of its object_marking_refs; for
 * a marking-definition without any, the level it defines; else the --tlp given. A marking not
 * resolved yet makes it TIDE_TLP_UNRESOLVED (red under a ceiling until the gate resolves it),
 * unless another marking already makes it red. md: the object's DOM when it is a
 * marking-definition, else NULL. */
static const char *object_tlp(core *c, const tide__members *m, json_t *md)
{
    const tide_ingest_opts *opts = c->opts;
    bool unresolved = false;
    int level = -1; /* the most restrictive of the markings known */
    for (size_t i = 0; i < m->object_marking_refs.n; i++) {
        int k = tide__mark_id(&c->marks, m->object_marking_refs.v[i]);
        if (k == TIDE__MARK_UNKNOWN)
            unresolved = true;
        else if (k != TIDE_MARKING_NOT_TLP)
            level = k > level ? k : level;
    }
    if (level < 0 && md != NULL)
        level = tide__mark_definition(md);
    int given = opts->tlp ? tide_tlp_parse(opts->tlp) : -1;
    if (unresolved && level < TIDE_TLP_RED) {
        snprintf(c->tlp_label, sizeof(c->tlp_label), "%s%s%s", TIDE_TLP_UNRESOLVED,
                given >= 0 ? "/" : "", given >= 0 ? tide_tlp_name(given) : "");
        return c->tlp_label;
    }
    if (level >= 0)
        return tide_tlp_name(level);
    return given >= 0 ? tide_tlp_name(given) : NULL;
}

/* An indicator's label (which the active-intel scan copies) is raised by a granular marking
 * of its pattern (the value every export writes, and a property it cannot leave without), and
 * its name is left out of the store's columns when a granular marking puts it above that label
 * (the JSON keeps both; the gate redacts them when the object leaves). */
static void granular_context(
        core *c, json_t *obj, const char *raw, size_t rawlen, const char **tlp, const char **name)
{
    json_t *o = obj ? json_incref(obj) : json_loadb(raw, rawlen, 0, NULL);
    if (o == NULL)
        return;
    bool unresolved = false, name_unresolved = false;
    int gp = tide__mark_granular_level(&c->marks, o, "pattern", &unresolved);
    int gn = tide__mark_granular_level(&c->marks, o, "name", &name_unresolved);
    json_decref(o);
    int level = *tlp ? tide_tlp_parse(*tlp) : TIDE_TLP_UNMARKED;
    if (name_unresolved)
        *name = NULL;
    if (level >= 0 && unresolved && gp > level) {
        /* the pattern's marking is not known yet: the gate resolves it when it leaves */
        const char *fallback = *tlp ? tide_tlp_name(level) : NULL;
        snprintf(c->tlp_label, sizeof(c->tlp_label), "%s%s%s", TIDE_TLP_UNRESOLVED,
                fallback ? "/" : "", fallback ? fallback : "");
        *tlp = c->tlp_label;
        level = -1;
    }
    if (level < 0) {
        /* unresolved: the gate reads the pattern's markings; the name stays out */
        if (gn >= 0)
            *name = NULL;
        return;
    }
    if (gp > level) {
        level = gp;
        *tlp = tide_tlp_name(gp);
    }
    if (gn > level)
        *name = NULL;
}

static void kill_chain(const tide__members *m, tide_buf *out)
{
    for (size_t i = 0; i < m->n_kill_chain_phases; i++) {
        const char *p = m->kill_chain_phases[i].phase_name;
        if (p) {
            if (out->len)
                tide__buf_putc(out, ',');
            tide__buf_puts(out, p);
        }
    }
}

static uint64_t content_hash(json_t *obj)
{
    /* Hash of the object without its timestamps: derived objects are re-made with "now". */
    json_t *copy = json_copy(obj);
    if (copy == NULL)
        return 0;
    json_object_del(copy, "created");
    json_object_del(copy, "modified");
    json_object_del(copy, "valid_from");
    char *s = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(copy);
    if (s == NULL)
        return 0;
    uint64_t h = XXH3_64bits(s, strlen(s));
    free(s);
    return h ? h : 1;
}

static void index_refs(core *c, const char *id, const tide__strs *refs, const char *rel)
{
    for (size_t i = 0; i < refs->n; i++) {
        tide_buf rid = TIDE_BUF_INIT;
        if (tide__buf_printf(&rid, "%s|%s|%s", id, rel, refs->v[i]) == 0)
            if (tide_store_put_relationship(c->store, rid.ptr, rel, id, refs->v[i]) < 0)
                c->fatal = TIDE_ESTORE;
        tide__buf_free(&rid);
    }
}

/* Per-object mode commits every batch; a bulk load (first load into an empty store) is one
 * transaction that tide_ingest_path commits at the end. */
static int commit_batch(core *c)
{
    c->in_batch = 0;
    if (c->bulk)
        return 0;
    TIDE_CHECK(tide_store_commit(c->store));
    keep_counts(c);
    return tide_store_begin(c->store);
}

/* Returns 1 when id was seen before in this run, 0 when it is new (and now remembered). */
static int seen_before(core *c, const char *id)
{
    uint64_t h = XXH3_64bits(id, strlen(id));
    if (h == 0)
        h = 1;
    if ((c->seen_n + 1) * 2 > c->seen_cap) {
        size_t ncap = c->seen_cap ? c->seen_cap * 2 : 4096;
        uint64_t *n = tide__calloc(ncap, sizeof(*n));
        if (n == NULL)
            return tide_error_set(TIDE_ENOMEM, "out of memory");
        for (size_t i = 0; i < c->seen_cap; i++) {
            if (c->seen[i] == 0)
                continue;
            size_t j = c->seen[i] & (ncap - 1);
            while (n[j])
                j = (j + 1) & (ncap - 1);
            n[j] = c->seen[i];
        }
        tide__free(c->seen);
        c->seen = n;
        c->seen_cap = ncap;
    }
    size_t j = h & (c->seen_cap - 1);
    while (c->seen[j]) {
        if (c->seen[j] == h)
            return 1;
        j = (j + 1) & (c->seen_cap - 1);
    }
    c->seen[j] = h;
    c->seen_n++;
    return 0;
}

/* Store one object, given as its members (m), its exact bytes (raw, or NULL: obj is dumped)
 * and, for objects a reader built, its DOM (obj, else NULL; needed when raw is NULL or the
 * object is derived). */
static int emit_object(tide_sink *sink, const tide__members *mp, json_t *obj, const char *raw,
        size_t rawlen, unsigned flags)
{
    core *c = sink->payload;
    const tide__members m = *mp;
    const char *id = m.id, *type = m.type;
    char errbuf[512];
    if (id == NULL || type == NULL) {
        report(c, sink->file, sink->line, sink->offset, "object without string 'id' and 'type'");
        return 0;
    }
    size_t tl = strlen(type);
    if (strncmp(id, type, tl) != 0 || strncmp(id + tl, "--", 2) != 0) {
        snprintf(errbuf, sizeof(errbuf), "object %s: id does not start with its type '%s--'", id,
                type);
        report(c, sink->file, sink->line, sink->offset, errbuf);
        return 0;
    }
    c->stats->records++;
    if (c->opts->on_progress && (c->stats->records & 255) == 0) {
        off_t pos = c->fp ? ftello(c->fp) : -1;
        c->opts->on_progress(sink->file, c->bytes_done + (pos > 0 ? (uint64_t)pos : 0),
                c->stats->records, c->opts->progress_payload);
    }
    tide_store_prefetch_id(c->store, id); /* its slot arrives while the object is read */
    if (flags & TIDE_EMIT_DERIVED) {
        int seen = seen_before(c, id);
        if (seen < 0)
            return seen;
        if (seen) {
            c->stats->unchanged++;
            return 0;
        }
    }

    const tide_ingest_opts *opts = sink->opts;
    const char *source = opts->source ? opts->source : m.x_tide_source;
    if (source == NULL)
        source = c->default_source;
    /* a marking-definition: what it means, for the objects that refer to it */
    json_t *md = NULL;
    if (strcmp(type, "marking-definition") == 0) {
        md = obj ? json_incref(obj) : json_loadb(raw, rawlen, 0, NULL);
        if (tide__tlp_name_from_marking(id) == NULL &&
                mark_remember(c, id, tide__mark_definition(md)) < 0) {
            json_decref(md);
            return TIDE_ENOMEM;
        }
    }
    const char *tlp = object_tlp(c, &m, md);
    json_decref(md);
    const char *name = m.name;
    if (name == NULL)
        name = m.value;

    /* Timestamps and confidence must be what STIX says before anything is stored. */
    tmemo tm = { NULL, 0, 0 };
    int confidence = -1;
    const char *bad = check_members(&m, &tm, &confidence, errbuf + 256, sizeof(errbuf) - 256);
    if (bad != NULL) {
        snprintf(errbuf, 256, "%s %.120s: ", type, id);
        size_t hl = strlen(errbuf);
        memmove(errbuf + hl, bad, strlen(bad) + 1);
        report(c, sink->file, sink->line, sink->offset, errbuf);
        return 0;
    }

    /* Indicators: the pattern must be valid before anything is stored. */
    tide_pattern *pat = NULL;
    bool is_ind = strcmp(type, "indicator") == 0;
    const char *pattern = is_ind ? m.pattern : NULL;
    const char *ptype = is_ind ? m.pattern_type : NULL;
    if (is_ind && ptype == NULL)
        ptype = "stix"; /* STIX 2.0 indicators have no pattern_type */
    if (is_ind && pattern == NULL) {
        snprintf(errbuf, sizeof(errbuf), "indicator %s has no pattern", id);
        report(c, sink->file, sink->line, sink->offset, errbuf);
        return 0;
    }
    /* the commonest shapes skip the full parser (pattern_fast.c): same verdict and term */
    tide_pattern_term fast_term;
    char fast_value[TIDE__PATTERN_FAST_MAX + 1];
    bool fast = is_ind && strcmp(ptype, "stix") == 0 &&
                tide__pattern_fast(pattern, &fast_term, fast_value);
    if (is_ind && !fast && strcmp(ptype, "stix") == 0) {
        tide_stix_version ver = TIDE_STIX_21;
        const char *sv = m.spec_version;
        if (sv == NULL || strcmp(sv, "2.0") == 0)
            ver = sv ? TIDE_STIX_20 : TIDE_STIX_21;
        char perr[400];
        if (tide_pattern_parse(&pat, pattern, ver, perr, sizeof(perr)) < 0) {
            snprintf(errbuf, sizeof(errbuf), "indicator %s: invalid pattern: %s", id, perr);
            report(c, sink->file, sink->line, sink->offset, errbuf);
            return 0;
        }
        /* what would fail or cost too much on every event it is a candidate for (a MATCHES
         * that backtracks catastrophically, an invalid regular expression ...) is refused here,
         * with the reason, rather than dropped candidate by candidate while matching */
        if (tide_pattern_check(pat, perr, sizeof(perr)) < 0) {
            snprintf(errbuf, sizeof(errbuf), "indicator %s: pattern refused: %s", id, perr);
            report(c, sink->file, sink->line, sink->offset, errbuf);
            tide_pattern_free(pat);
            return 0;
        }
    }

    /* ... and name no impossible value (999.2.3.4, a domain with a newline). Its observables
     * are gathered here, for the indicators row after the object is stored. */
    bool simple = false;
    if (is_ind) {
        obs_reset(c);
        c->bad_term[0] = '\0';
        if (fast) {
            simple = true;
            term_cb(&fast_term, c);
        } else if (pat) {
            tide_pattern_terms(pat, &simple, term_cb, c);
            /* the ip:port shape is an AND, but still one observable */
            if (!simple && c->nobs == 1 && c->obs[0].kind == TIDE_OBS_IP_PORT)
                simple = true;
        }
        if (c->bad_term[0]) {
            snprintf(errbuf, sizeof(errbuf), "indicator %s: pattern value %s", id, c->bad_term);
            report(c, sink->file, sink->line, sink->offset, errbuf);
            obs_reset(c);
            tide_pattern_free(pat);
            return 0;
        }
    }

    char *dumped = NULL;
    if (raw == NULL) {
        if (obj == NULL) {
            tide_pattern_free(pat);
            return tide_error_set(TIDE_EINVAL, "emit: an object without its bytes or DOM");
        }
        dumped = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (dumped == NULL) {
            tide_pattern_free(pat);
            return tide_error_set(TIDE_ENOMEM, "out of memory");
        }
        raw = dumped;
        rawlen = strlen(dumped);
    }
    bool derived = (flags & TIDE_EMIT_DERIVED) != 0;
    const char *ind_tlp = tlp, *ind_name = m.name;
    if (is_ind && m.granular)
        granular_context(c, obj, raw, rawlen, &ind_tlp, &ind_name);
    tide_object_rec rec = {
        .id = id,
        .type = type,
        .modified = m.modified ? m.modified : "",
        .created = m.created,
        .name = is_ind ? ind_name : name,
        .source = source,
        .tlp = is_ind ? ind_tlp : tlp,
        .json = raw,
        .json_len = rawlen,
        .content_hash = derived && obj ? content_hash(obj) : 0,
        .derived = derived,
    };
    int status = 0;
    int rc = tide_store_put_object(c->store, &rec, &status);
    free(dumped);
    if (rc < 0) {
        tide_pattern_free(pat);
        return rc;
    }
    if (status == TIDE_PUT_UNCHANGED || status == TIDE_PUT_OLDER) {
        if (status == TIDE_PUT_UNCHANGED)
            c->stats->unchanged++;
        else
            c->stats->stored++;
        tide_pattern_free(pat);
        goto batch;
    }
    c->stats->stored++;

    if (is_ind) {
        c->stats->indicators++;
        tide_buf kc = TIDE_BUF_INIT;
        kill_chain(&m, &kc);
        const char *rel = m.x_tide_reliability;
        int64_t created_ms = jtime(&tm, m.created, 0);
        tide_indicator_rec ind = {
            .id = id,
            .pattern = pattern,
            .pattern_type = ptype,
            .name = ind_name,
            .source = source,
            .reliability = opts->reliability ? opts->reliability : (rel ? rel[0] : 'C'),
            .confidence =
                    confidence >= 0 ? confidence : (opts->confidence >= 0 ? opts->confidence : 50),
            .tlp = ind_tlp,
            .kill_chain = kc.len ? kc.ptr : NULL,
            .valid_from = jtime(&tm, m.valid_from, created_ms),
            .valid_until = jtime(&tm, m.valid_until, 0),
            .created = created_ms,
            .modified = jtime(&tm, m.modified, 0),
            .simple = simple,
            .revoked = m.revoked,
        };
        rc = tide_store_put_indicator(c->store, &ind, c->obs, c->nobs);
        tide__buf_free(&kc);
        obs_reset(c);
        tide_pattern_free(pat);
        pat = NULL;
        if (rc < 0)
            return rc;
    }
    tide_pattern_free(pat);
    if (strcmp(type, "relationship") == 0) {
        const char *rt = m.relationship_type, *src = m.source_ref, *tgt = m.target_ref;
        if (rt && src && tgt)
            TIDE_CHECK(tide_store_put_relationship(c->store, id, rt, src, tgt));
    } else if (strcmp(type, "sighting") == 0) {
        const char *of = m.sighting_of_ref;
        if (of)
            TIDE_CHECK(tide_store_put_relationship(c->store, id, "sighting-of", id, of));
        index_refs(c, id, &m.where_sighted_refs, "sighted-at");
        index_refs(c, id, &m.observed_data_refs, "observed-data");
    } else {
        index_refs(c, id, &m.object_refs, "object-ref");
    }
    if (c->fatal)
        return c->fatal;
batch:
    if (++c->in_batch >= (c->opts->batch > 0 ? c->opts->batch : BATCH_SIZE))
        TIDE_CHECK(commit_batch(c));
    return 0;
}

/* The sink's emit(): objects a reader built as a DOM. */
static int sink_emit(tide_sink *sink, json_t *obj, const char *raw, size_t rawlen, unsigned flags)
{
    core *c = sink->payload;
    tide__members m;
    tide__arena_reset(&c->arena);
    if (!json_is_object(obj)) {
        report(c, sink->file, sink->line, sink->offset, "object without string 'id' and 'type'");
        return 0;
    }
    if (tide__members_from_json(obj, &m, &c->arena) < 0)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    return emit_object(sink, &m, obj, raw, rawlen, flags);
}

/* The sink's emit_members(): STIX objects read from a file, without a DOM. */
static int sink_emit_members(
        tide_sink *sink, const tide__members *m, const char *raw, size_t rawlen)
{
    return emit_object(sink, m, NULL, raw, rawlen, 0);
}

/* ---- files and directories ---- */

/* The default source of a file: its base name without extension, bytes that are not UTF-8
 * replaced by U+FFFD (a file name is only a label, and the source goes into JSON). */
static char *base_name_noext(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    const char *dot = strrchr(b, '.');
    size_t n = dot && dot != b ? (size_t)(dot - b) : strlen(b);
    tide_buf s = TIDE_BUF_INIT;
    if (tide__utf8_repair(&s, b, n) < 0) {
        tide__buf_free(&s);
        return NULL;
    }
    return tide__buf_detach(&s);
}

static int read_one(core *c, const char *path, FILE *fp, tide_feed_format fmt)
{
    char head[4096];
    size_t n = fread(head, 1, sizeof(head), fp);
    if (ferror(fp))
        return tide_error_set(TIDE_EIO, "%s: read error: %s", path, strerror(errno));
    if (fseek(fp, 0, SEEK_SET) != 0)
        return tide_error_set(TIDE_EIO, "%s: cannot rewind", path);
    if (fmt == TIDE_FMT_AUTO)
        fmt = tide__detect_format(head, n, path);
    char *dflt = base_name_noext(path);
    TIDE_CHECK_ALLOC(dflt);
    c->default_source = dflt;
    tide_sink sink = {
        .emit = sink_emit,
        .reject = sink_reject,
        .file = path,
        .line = 0,
        .offset = -1,
        .opts = c->opts,
        .payload = c,
        .emit_members = sink_emit_members,
    };
    int (*read)(tide_sink *, FILE *) = reader_of(fmt);
    c->fp = fp;
    int rc = read ? read(&sink, fp) : tide_error_set(TIDE_EFORMAT, "unknown format");
    off_t end = ftello(fp);
    c->bytes_done += end > 0 ? (uint64_t)end : 0;
    c->fp = NULL;
    if (c->opts->on_progress) /* this input read whole */
        c->opts->on_progress(path, c->bytes_done, c->stats->records, c->opts->progress_payload);
    tide__free(dflt);
    c->default_source = NULL;
    c->stats->files++;
    if (rc < 0 && rc != TIDE_ESTORE && rc != TIDE_ENOMEM) {
        /* the input was refused as a whole (wrong format, unreadable): what it stored before
         * the reader gave up stays; the error names the file */
        char msg[1024];
        snprintf(msg, sizeof(msg), "%s", tide_error_last());
        if (tide__str_starts_with(msg, path))
            return tide_error_set(rc, "%s", msg);
        return tide_error_set(rc, "%s: %s", path, msg);
    }
    return rc;
}

static int read_file(core *c, const char *path, tide_feed_format fmt)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return tide_error_set(TIDE_EIO, "%s: %s", path, strerror(errno));
    int rc = read_one(c, path, fp, fmt);
    fclose(fp);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_dir(core *c, const char *path, tide_feed_format fmt, int depth)
{
    if (depth > 32)
        return tide_error_set(TIDE_EINVAL, "%s: directories nested too deep", path);
    tide_buf mf = TIDE_BUF_INIT;
    TIDE_CHECK(tide__buf_printf(&mf, "%s/manifest.json", path));
    struct stat st;
    bool feed = stat(mf.ptr, &st) == 0 && S_ISREG(st.st_mode);
    tide__buf_free(&mf);
    if (fmt == TIDE_FMT_MISP_FEED || (fmt == TIDE_FMT_AUTO && feed)) {
        char *dflt = base_name_noext(path);
        TIDE_CHECK_ALLOC(dflt);
        c->default_source = dflt;
        tide_sink sink = { sink_emit, sink_reject, path, 0, -1, c->opts, c, sink_emit_members };
        int rc = tide__read_misp_feed(&sink, path);
        tide__free(dflt);
        c->default_source = NULL;
        c->stats->files++;
        return rc;
    }
    DIR *d = opendir(path);
    if (d == NULL)
        return tide_error_set(TIDE_EIO, "%s: %s", path, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = tide__realloc(names, cap * sizeof(*names));
            if (nn == NULL) {
                rc = TIDE_ENOMEM;
                break;
            }
            names = nn;
        }
        if ((names[n] = tide__strdup(e->d_name)) == NULL) {
            rc = TIDE_ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), cmp_str);
    int first_err = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        tide_buf sub = TIDE_BUF_INIT;
        if (tide__buf_printf(&sub, "%s/%s", path, names[i]) < 0) {
            rc = TIDE_ENOMEM;
            break;
        }
        int r;
        if (stat(sub.ptr, &st) == 0 && S_ISDIR(st.st_mode))
            r = read_dir(c, sub.ptr, fmt == TIDE_FMT_MISP_FEED ? TIDE_FMT_AUTO : fmt, depth + 1);
        else
            r = read_file(c, sub.ptr, fmt);
        tide__buf_free(&sub);
        if (r == TIDE_ESTORE || r == TIDE_ENOMEM || c->fatal)
            rc = r < 0 ? r : c->fatal;
        else if (r < 0) {
            /* one bad file does not stop a directory: report it and go on */
            report(c, names[i], 0, -1, tide_error_last());
            if (!first_err)
                first_err = r;
        }
    }
    for (size_t i = 0; i < n; i++)
        tide__free(names[i]);
    tide__free(names);
    return rc;
}

/* Copy a stream that cannot seek (stdin, a pipe) to a temporary file: readers detect the
 * format from the first bytes and rewind. */
static int spool(FILE *in, FILE **out)
{
    FILE *tmp = tmpfile();
    if (tmp == NULL)
        return tide_error_set(TIDE_EIO, "cannot create a temporary file: %s", strerror(errno));
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        if (fwrite(buf, 1, n, tmp) != n) {
            fclose(tmp);
            return tide_error_set(TIDE_EIO, "cannot spool the input: %s", strerror(errno));
        }
    if (ferror(in)) {
        fclose(tmp);
        return tide_error_set(TIDE_EIO, "read error: %s", strerror(errno));
    }
    rewind(tmp);
    *out = tmp;
    return 0;
}

/* What one ingest call reads: a path (file, folder, "-"), or an open stream. */
typedef struct {
    const char *path; /* a path, or the name of fp */
    FILE *fp;         /* NULL: open path */
} input;

static int read_input(core *c, const input *in, tide_feed_format fmt)
{
    if (in->fp != NULL || strcmp(in->path, "-") == 0) {
        FILE *fp = in->fp ? in->fp : stdin;
        long pos = ftell(fp);
        if (pos == 0 && fseek(fp, 0, SEEK_SET) == 0)
            return read_one(c, in->path, fp, fmt); /* seekable from its start: in place */
        FILE *tmp = NULL;
        TIDE_CHECK(spool(fp, &tmp));
        int rc = read_one(c, in->path, tmp, fmt);
        fclose(tmp);
        return rc;
    }
    struct stat st;
    if (stat(in->path, &st) != 0)
        return tide_error_set(TIDE_EIO, "%s: %s", in->path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return read_dir(c, in->path, fmt, 0);
    return read_file(c, in->path, fmt);
}

static int check_name(const char *what, const char *v)
{
    if (v == NULL)
        return 0;
    size_t n = strlen(v), bad = tide__utf8_invalid_at(v, n);
    if (bad < n)
        return tide_error_set(TIDE_EINVAL,
                "%s is not valid UTF-8 (byte %zu is 0x%02x): give the name in UTF-8", what, bad + 1,
                (unsigned char)v[bad]);
    return 0;
}

int tide_ingest_opts_check(const tide_ingest_opts *opts)
{
    if (opts == NULL)
        return 0;
    TIDE_CHECK(check_name("source", opts->source));
    TIDE_CHECK(check_name("family", opts->family));
    return 0;
}

static int ingest(tide_store *store, const input *in, tide_feed_format fmt,
        const tide_ingest_opts *opts, tide_ingest_stats *stats, tide_ingest_error_cb on_error,
        void *payload)
{
    tide_ingest_opts dflt_opts = { .confidence = -1 };
    tide_ingest_stats dummy;
    core c;
    memset(&c, 0, sizeof(c));
    c.store = store;
    c.stats = stats ? stats : &dummy;
    if (!stats)
        memset(&dummy, 0, sizeof(dummy));
    c.on_error = on_error;
    c.payload = payload;
    TIDE_CHECK(tide_ingest_opts_check(opts));
    tide_ingest_opts o = opts ? *opts : dflt_opts;
    if (o.now_ms == 0)
        o.now_ms = tide__time_now_ms();
    c.opts = &o;
    c.port_group = c.port_ip_group = -1;
    c.marks = (tide__mark_resolver){ .marking = run_marking, .payload = &c };
    keep_counts(&c);
    int rc = tide_store_begin_load(store, &c.bulk);
    if (rc < 0)
        return rc;
    rc = read_input(&c, in, fmt);
    if (rc == TIDE_ESTORE || rc == TIDE_ENOMEM) {
        /* the store failed: nothing of this batch (or of this bulk load) is kept */
        char msg[1024];
        snprintf(msg, sizeof(msg), "%s", tide_error_last());
        tide_store_rollback(store);
        drop_uncommitted_counts(&c);
        tide_error_set(rc, "%s", msg);
    } else {
        /* keep what was read, even when one input was refused; report that refusal */
        char msg[1024];
        snprintf(msg, sizeof(msg), "%s", tide_error_last());
        int crc = tide_store_commit(store);
        if (crc < 0) {
            rc = crc;
            drop_uncommitted_counts(&c); /* the commit rolled the transaction back */
        } else if (rc < 0)
            tide_error_set(rc, "%s", msg);
    }
    obs_reset(&c);
    tide__free(c.seen);
    tide__arena_free(&c.arena);
    tide__strmap_free(&c.mark_ids);
    tide__free(c.mark_vals);
    return rc;
}

int tide_ingest_path(tide_store *store, const char *path, tide_feed_format fmt,
        const tide_ingest_opts *opts, tide_ingest_stats *stats, tide_ingest_error_cb on_error,
        void *payload)
{
    if (path == NULL)
        return tide_error_set(TIDE_EINVAL, "ingest: no path");
    input in = { path, NULL };
    return ingest(store, &in, fmt, opts, stats, on_error, payload);
}

int tide_ingest_file(tide_store *store, FILE *fp, const char *name, tide_feed_format fmt,
        const tide_ingest_opts *opts, tide_ingest_stats *stats, tide_ingest_error_cb on_error,
        void *payload)
{
    if (fp == NULL)
        return tide_error_set(TIDE_EINVAL, "ingest: no stream");
    if (fmt == TIDE_FMT_MISP_FEED)
        return tide_error_set(
                TIDE_EINVAL, "%s: a MISP feed is a folder, not a stream", name ? name : "-");
    input in = { name ? name : "-", fp };
    return ingest(store, &in, fmt, opts, stats, on_error, payload);
}

int tide_ingest_buffer(tide_store *store, const void *data, size_t len, const char *name,
        tide_feed_format fmt, const tide_ingest_opts *opts, tide_ingest_stats *stats,
        tide_ingest_error_cb on_error, void *payload)
{
    if (data == NULL && len > 0)
        return tide_error_set(TIDE_EINVAL, "ingest: no data");
    /* fmemopen refuses an empty buffer: an empty temporary file reads the same */
    FILE *fp = len ? fmemopen((void *)(uintptr_t)data, len, "rb") : tmpfile();
    if (fp == NULL)
        return tide_error_set(TIDE_ENOMEM, "%s: cannot open the buffer as a stream: %s",
                name ? name : "buffer", strerror(errno));
    int rc = tide_ingest_file(
            store, fp, name ? name : "buffer", fmt, opts, stats, on_error, payload);
    fclose(fp);
    return rc;
}
