/*
 * export.c - tide_export_run: the selection step shared by every format (active now and
 * decayed score >= min by the one rule of tide/score.h, a sighting refreshing the score;
 * filters, the TLP ceiling through the gate of tide/gate.h (the indicator's level, and only the
 * related names that may pass it), warninglists, never private / bogon space, kind supported by
 * the format, one entry per value), the export state kept for incremental mode and RPZ serials,
 * and the output files (util/outfile.h: a temporary file created exclusively, renamed when
 * complete; a FIFO, a device or "-" written directly; a folder or a link refused; one writer of
 * an output at a time).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "export/export_int.h"
#include "intel/sighted.h"
#include "tide/sightings.h"
#include "tide/tlp.h"
#include "tide/warninglist.h"

static const char *const skip_names[TIDE_EXPORT_SKIP__COUNT] = { "revoked", "expired",
    "not yet valid", "decayed below min score", "confidence below min", "type filtered",
    "tlp above max", "not related", "warninglisted", "private/bogon", "unsupported by format",
    "duplicate value", "covered by a broader entry" };

const char *tide_export_skip_name(int r)
{
    return r >= 0 && r < TIDE_EXPORT_SKIP__COUNT ? skip_names[r] : "?";
}

void tide_export_opts_init(tide_export_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->format = TIDE_EXPORT_RPZ;
    o->min_score = 1;
}

/* ------------------------------------------------------------------ filters */

static int parse_types(const char *spec, bool want[TIDE_OBS__COUNT])
{
    for (int i = 0; i < TIDE_OBS__COUNT; i++)
        want[i] = spec == NULL;
    if (spec == NULL)
        return 0;
    const char *p = spec;
    while (*p) {
        size_t n = strcspn(p, ", ");
        char t[32];
        if (n == 0 || n >= sizeof(t)) {
            if (n == 0) {
                p++;
                continue;
            }
            return tide_error_set(TIDE_EINVAL, "--types: '%.*s' is not a type", (int)n, p);
        }
        memcpy(t, p, n);
        t[n] = '\0';
        if (strcmp(t, "ip") == 0) {
            want[TIDE_OBS_IPV4] = want[TIDE_OBS_IPV6] = want[TIDE_OBS_CIDR4] =
                    want[TIDE_OBS_CIDR6] = true;
        } else if (strcmp(t, "cidr") == 0) {
            want[TIDE_OBS_CIDR4] = want[TIDE_OBS_CIDR6] = true;
        } else if (strcmp(t, "hash") == 0) {
            want[TIDE_OBS_MD5] = want[TIDE_OBS_SHA1] = want[TIDE_OBS_SHA256] =
                    want[TIDE_OBS_SHA512] = true;
        } else if (strcmp(t, "domain-name") == 0) {
            want[TIDE_OBS_DOMAIN] = true;
        } else {
            tide_obs_kind k = tide_obs_kind_from_name(t);
            if (k == TIDE_OBS_NONE)
                return tide_error_set(TIDE_EINVAL,
                        "--types: unknown type '%s' (ip, cidr, hash, ipv4, ipv6, cidr4, cidr6, "
                        "domain, url, url-path, ip-port, md5, sha1, sha256, sha512, email, "
                        "ja3, x509-sha1)",
                        t);
            want[k] = true;
        }
        p += n;
    }
    return 0;
}

/* ------------------------------------------------------------------ helpers */

static void note_list(tide_export_summary *sum, const char *list)
{
    for (int i = 0; i < sum->nlists; i++)
        if (strcmp(sum->lists[i].name, list) == 0) {
            sum->lists[i].count++;
            return;
        }
    int i = sum->nlists < 16 ? sum->nlists++ : 15;
    if (i == 15 && sum->nlists == 16 && strcmp(sum->lists[15].name, "(other lists)") != 0) {
        snprintf(sum->lists[15].name, sizeof(sum->lists[15].name), "(other lists)");
        sum->lists[15].count = 0;
    } else if (sum->lists[i].count == 0) {
        snprintf(sum->lists[i].name, sizeof(sum->lists[i].name), "%s", list);
    }
    sum->lists[i].count++;
}

static void skip_raw(tide__exp *x, int reason, tide_obs_kind kind, const char *value,
        const char *detail, const char *id)
{
    x->sum->skipped[reason]++;
    if (reason == TIDE_EXPORT_SKIP_UNSUPPORTED && kind > TIDE_OBS_NONE && kind < TIDE_OBS__COUNT)
        x->sum->unsupported[kind]++;
    if (reason == TIDE_EXPORT_SKIP_WARNINGLIST || reason == TIDE_EXPORT_SKIP_BOGON)
        note_list(x->sum, detail ? detail : "?");
    if (x->explain)
        x->explain(reason, kind, value, detail, id, x->payload);
}

void tide__exp_skip(tide__exp *x, int reason, const tide__exp_entry *e, const char *detail)
{
    skip_raw(x, reason, e->kind, EXP_S(x, e->value), detail, EXP_S(x, e->id));
}

static int arena_put(tide__exp *x, const char *s, size_t *off)
{
    *off = x->arena.len;
    TIDE_CHECK(tide__buf_puts(&x->arena, s ? s : ""));
    return tide__buf_putc(&x->arena, '\0');
}

char *tide__exp_path(tide__exp *x, const char *name)
{
    tide_buf b = TIDE_BUF_INIT;
    const char *o = x->opts->output;
    int rc;
    if (tide_export_format_is_dir(x->opts->format))
        rc = tide__buf_printf(&b, "%s/%s", o, name);
    else
        rc = tide__buf_printf(&b, "%s.%s", o, name);
    if (rc < 0) {
        tide__buf_free(&b);
        return NULL;
    }
    return tide__buf_detach(&b);
}

int tide__exp_open(tide__exp *x, const char *name, tide__exp_file *out)
{
    memset(out, 0, sizeof(*out));
    const char *o = x->opts->output;
    if (name == NULL && (o == NULL || (strcmp(o, "-") == 0 && x->out))) {
        out->f = x->out;
        return 0;
    }
    int rc;
    if (name == NULL) {
        rc = tide__outfile_open(&out->o, o, TIDE__OUT_STREAM | TIDE__OUT_LOCKED);
    } else if (x->dirfd >= 0) {
        rc = tide__outfile_openat(&out->o, x->dirfd, o, name, TIDE__OUT_LOCKED);
    } else if (x->stream) {
        rc = tide_error_set(TIDE_EINVAL,
                "%s: is not a regular file: OUTPUT.%s cannot be written beside it (give a file "
                "name)",
                o, name);
    } else {
        char *path = tide__exp_path(x, name);
        TIDE_CHECK_ALLOC(path);
        rc = tide__outfile_open(&out->o, path, TIDE__OUT_LOCKED);
        tide__free(path);
    }
    if (rc == 0)
        out->f = out->o.f;
    return rc;
}

int tide__exp_close(tide__exp_file *f, bool ok)
{
    int rc = 0;
    if (f->f == NULL)
        return 0;
    if (f->o.f == NULL) { /* the caller's stream */
        if (fflush(f->f) != 0 || ferror(f->f))
            rc = tide_error_set(TIDE_EIO, "write failed: %s", strerror(errno));
        f->f = NULL;
        return rc;
    }
    f->f = NULL;
    if (!ok) {
        tide__outfile_abort(&f->o);
        return 0;
    }
    return tide__outfile_commit(&f->o);
}

int tide__exp_state_add(tide__exp *x, const char *line)
{
    TIDE_CHECK(tide__buf_puts(&x->state, line));
    return tide__buf_putc(&x->state, '\n');
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Split a newline-separated text in place into a sorted array of lines. */
static int split_sorted(char *text, size_t len, char ***out, size_t *n)
{
    size_t cnt = 0;
    for (size_t i = 0; i < len; i++)
        cnt += text[i] == '\n';
    char **v = tide__malloc((cnt + 1) * sizeof(char *));
    TIDE_CHECK_ALLOC(v);
    size_t k = 0;
    char *p = text, *end = text + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            nl = end;
        *nl = '\0';
        if (nl > p)
            v[k++] = p;
        p = nl + 1;
    }
    qsort(v, k, sizeof(char *), cmp_str);
    *out = v;
    *n = k;
    return 0;
}

int tide__exp_diff(
        tide__exp *x, int (*cb)(bool added, const char *line, void *payload), void *payload)
{
    char *cur = tide__strndup(x->state.ptr ? x->state.ptr : "", x->state.len);
    TIDE_CHECK_ALLOC(cur);
    char *prev = tide__strndup(x->prev ? x->prev : "", x->prev_len);
    char **a = NULL, **b = NULL;
    size_t na = 0, nb = 0;
    int rc = prev ? 0 : tide_error_set(TIDE_ENOMEM, "out of memory");
    if (rc == 0)
        rc = split_sorted(prev, x->prev_len, &a, &na);
    if (rc == 0)
        rc = split_sorted(cur, x->state.len, &b, &nb);
    /* removed first (so that re-added overlapping ranges never conflict), then added */
    for (int pass = 0; pass < 2 && rc == 0; pass++) {
        size_t i = 0, j = 0;
        while ((i < na || j < nb) && rc == 0) {
            int c = i >= na ? 1 : j >= nb ? -1 : strcmp(a[i], b[j]);
            if (c == 0) {
                i++;
                j++;
            } else if (c < 0) {
                if (pass == 0) {
                    x->sum->removed++;
                    rc = cb(false, a[i], payload);
                }
                i++;
            } else {
                if (pass == 1) {
                    x->sum->added++;
                    rc = cb(true, b[j], payload);
                }
                j++;
            }
        }
    }
    tide__free(a);
    tide__free(b);
    tide__free(prev);
    tide__free(cur);
    return rc;
}

/* ------------------------------------------------------------------ selection */

/* The names related to one indicator that may pass the ceiling (the gate's walk), for the
 * indicators whose scan names include one the gate restricts. */
typedef struct {
    char *id; /* the indicator they are of, NULL when none */
    tide_buf arena;
    size_t *off[3]; /* campaigns, malware, actors: offsets into arena */
    size_t n[3], cap[3];
    const char **v[3];
    size_t vcap[3];
} gated_names;

typedef struct {
    tide__exp *x;
    const tide__exp_format *fmt;
    bool want[TIDE_OBS__COUNT];
    int tlp_max;
    tide_strmap restricted; /* names a relationship or marking above the ceiling may hide */
    char *level_id;         /* the indicator tlp_level is of (records of one are consecutive) */
    int tlp_level;
    gated_names gn;
    tide_decay_config decay;
    tide_warninglists *wl;
    tide__sighted sighted; /* when each indicator was last sighted: refreshes its score */
    tide_strmap seen;
    int64_t next; /* the earliest time the selection changes with time alone (0: none) */
    int rc;
} sel_ctx;

/* Whether an indicator selected now is still in at t (its score is not-increasing in time). */
static bool stays(sel_ctx *c, const tide_score_input *in, int64_t t)
{
    double s = tide_score_decayed(&c->decay, in, t);
    return s >= c->x->opts->min_score && s > 0;
}

/* An indicator is selected now: note when it leaves with time alone (valid_until, or its score
 * decaying below min_score, found to the minute), keeping the earliest in c->next. One score
 * evaluation per indicator unless it leaves before the earliest so far. */
static void note_next(sel_ctx *c, const tide_score_input *in)
{
    int64_t now = c->x->now, best = c->next ? c->next : INT64_MAX;
    if (in->valid_until > now && in->valid_until < best)
        best = in->valid_until;
    double life = c->decay.lifetime_days[in->kind];
    if (life > 0) {
        int64_t hi = tide_score_reference(in) + (int64_t)(life * 86400000.0) + 1, lo = now;
        if (hi > best)
            hi = best;
        if (hi > lo && !stays(c, in, hi)) {
            while (hi - lo > 60000) {
                int64_t mid = lo + (hi - lo) / 2;
                if (stays(c, in, mid))
                    lo = mid;
                else
                    hi = mid;
            }
            best = hi;
        }
    }
    if (best != INT64_MAX)
        c->next = best;
}

static int gated_class(const char *type)
{
    if (strcmp(type, "campaign") == 0)
        return 0;
    if (strcmp(type, "malware") == 0 || strcmp(type, "tool") == 0)
        return 1;
    return 2;
}

static int on_gated_name(const char *name, const char *type, void *payload)
{
    gated_names *g = payload;
    int k = gated_class(type);
    if (g->n[k] == g->cap[k]) {
        size_t nc = g->cap[k] ? g->cap[k] * 2 : 8;
        size_t *nv = tide__realloc(g->off[k], nc * sizeof(size_t));
        TIDE_CHECK_ALLOC(nv);
        g->off[k] = nv;
        g->cap[k] = nc;
    }
    g->off[k][g->n[k]++] = g->arena.len;
    TIDE_CHECK(tide__buf_puts(&g->arena, name));
    return tide__buf_putc(&g->arena, '\0');
}

static bool restricted_any(const sel_ctx *c, const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (tide__strmap_get(&c->restricted, v[i], strlen(v[i])) >= 0)
            return true;
    return false;
}

/* The record r with its related names replaced by those the gate lets pass, when one of them
 * is restricted (*view then points into c->gn). */
static int gate_names(sel_ctx *c, const tide_indicator_obs *r, tide_indicator_obs *view)
{
    *view = *r;
    if (c->x->gate == NULL || c->restricted.n == 0)
        return 0;
    if (!restricted_any(c, r->campaigns, r->ncampaigns) &&
            !restricted_any(c, r->malware, r->nmalware) &&
            !restricted_any(c, r->actors, r->nactors))
        return 0;
    gated_names *g = &c->gn;
    if (g->id == NULL || strcmp(g->id, r->id) != 0) {
        tide__free(g->id);
        g->id = NULL;
        tide__buf_clear(&g->arena);
        g->n[0] = g->n[1] = g->n[2] = 0;
        TIDE_CHECK(tide_gate_related_names(c->x->gate, r->id, on_gated_name, g));
        TIDE_CHECK_ALLOC(g->id = tide__strdup(r->id));
        for (int k = 0; k < 3; k++) {
            if (g->vcap[k] < g->n[k]) {
                const char **nv = tide__realloc(g->v[k], g->n[k] * sizeof(char *));
                TIDE_CHECK_ALLOC(nv);
                g->v[k] = nv;
                g->vcap[k] = g->n[k];
            }
            for (size_t i = 0; i < g->n[k]; i++)
                g->v[k][i] = g->arena.ptr + g->off[k][i];
        }
    }
    view->campaigns = g->v[0];
    view->ncampaigns = g->n[0];
    view->malware = g->v[1];
    view->nmalware = g->n[1];
    view->actors = g->v[2];
    view->nactors = g->n[2];
    return 0;
}

static void gated_names_free(gated_names *g)
{
    tide__free(g->id);
    tide__buf_free(&g->arena);
    for (int k = 0; k < 3; k++) {
        tide__free(g->off[k]);
        tide__free(g->v[k]);
    }
}

/* The level of the indicator of r under the ceiling, once per indicator. */
static int tlp_level(sel_ctx *c, const tide_indicator_obs *r)
{
    if (c->level_id != NULL && strcmp(c->level_id, r->id) == 0)
        return c->tlp_level;
    int l = tide_gate_indicator_level(c->x->gate, r->id, r->tlp);
    if (l < 0)
        return l;
    tide__free(c->level_id);
    TIDE_CHECK_ALLOC(c->level_id = tide__strdup(r->id));
    c->tlp_level = l;
    return l;
}

static int desc_of(tide_buf *b, const tide_indicator_obs *r)
{
    tide__buf_clear(b);
    const char *const *lists[3] = { r->campaigns, r->malware, r->actors };
    size_t ns[3] = { r->ncampaigns, r->nmalware, r->nactors };
    for (int l = 0; l < 3; l++)
        for (size_t i = 0; i < ns[l]; i++) {
            if (b->len)
                TIDE_CHECK(tide__buf_puts(b, "; "));
            TIDE_CHECK(tide__buf_puts(b, lists[l][i]));
        }
    if (b->len == 0 && r->name)
        TIDE_CHECK(tide__buf_puts(b, r->name));
    return tide__buf_putc(b, '\0');
}

static int select_cb(const tide_indicator_obs *rec, void *payload)
{
    sel_ctx *c = payload;
    tide__exp *x = c->x;
    /* under a ceiling, the related names that may pass it */
    tide_indicator_obs gated;
    int grc = gate_names(c, rec, &gated);
    if (grc < 0)
        return c->rc = grc;
    const tide_indicator_obs *r = &gated;
    int level = 0; /* under a ceiling, once computed: the indicator's level, or an error */
    bool leveled = false;
    const tide_export_opts *o = x->opts;
    if ((++x->sum->considered & 1023) == 0 && o->on_progress)
        o->on_progress((uint64_t)x->sum->considered, o->progress_payload);
    int reason = -1;
    const char *detail = NULL;
    double score = 0;
    /* active now and the decayed score: the one rule of tide/score.h */
    tide_score_input in = { .kind = r->kind,
        .confidence = r->confidence,
        .reliability = r->reliability,
        .valid_from = r->valid_from,
        .valid_until = r->valid_until,
        .created = r->created,
        .modified = r->modified,
        .last_sighted = c->sighted.n ? tide__sighted_get(&c->sighted, r->id, strlen(r->id)) : 0,
        .revoked = r->revoked };
    tide_activity act = tide_score_activity(&in, x->now);
    if (act == TIDE_INACTIVE_REVOKED) {
        reason = TIDE_EXPORT_SKIP_REVOKED;
    } else if (act == TIDE_INACTIVE_EXPIRED) {
        reason = TIDE_EXPORT_SKIP_EXPIRED;
    } else if (act == TIDE_INACTIVE_NOT_YET) {
        reason = TIDE_EXPORT_SKIP_NOT_YET;
        if (r->valid_from > 0 && (c->next == 0 || r->valid_from < c->next))
            c->next = r->valid_from; /* it may enter then */
    } else if (!c->want[r->kind]) {
        reason = TIDE_EXPORT_SKIP_TYPE;
    } else if (x->gate != NULL && (leveled = true) &&
               ((level = tlp_level(c, r)) < 0 || level > c->tlp_max)) {
        if (level < 0)
            return c->rc = level; /* the store failed while the gate resolved a marking */
        reason = TIDE_EXPORT_SKIP_TLP;
    } else if (o->min_confidence > 0 && r->confidence >= 0 && r->confidence < o->min_confidence) {
        reason = TIDE_EXPORT_SKIP_CONFIDENCE;
    } else if (o->related && !tide_indicator_related(r, o->related)) {
        reason = TIDE_EXPORT_SKIP_RELATED;
    } else {
        score = tide_score_decayed(&c->decay, &in, x->now);
        if (score < o->min_score || score <= 0) {
            reason = TIDE_EXPORT_SKIP_DECAYED;
        } else if ((detail = tide_warninglists_check(c->wl, r->kind, r->value)) != NULL) {
            reason = strcmp(detail, "builtin-bogons") == 0 ? TIDE_EXPORT_SKIP_BOGON
                                                           : TIDE_EXPORT_SKIP_WARNINGLIST;
        } else if (c->fmt->blocking &&
                   (detail = tide__ip_bogon_overlap(r->kind, r->value)) != NULL) {
            reason = TIDE_EXPORT_SKIP_BOGON;
        } else if (!tide_export_format_supports(o->format, r->kind)) {
            reason = TIDE_EXPORT_SKIP_UNSUPPORTED;
            detail = r->kind == TIDE_OBS_IP_PORT ? "the format cannot carry a port (blocking "
                                                   "the address alone would block every service)"
                                                 : "the format cannot express this kind";
        }
    }
    if (reason >= 0) {
        skip_raw(x, reason, r->kind, r->value, detail, r->id);
        return 0;
    }
    note_next(c, &in);
    /* one entry per (kind, value) */
    char kb[8];
    snprintf(kb, sizeof(kb), "%d|", (int)r->kind);
    tide_buf key = TIDE_BUF_INIT;
    if (tide__buf_puts(&key, kb) < 0 || tide__buf_puts(&key, r->value) < 0) {
        tide__buf_free(&key);
        return c->rc = TIDE_ENOMEM;
    }
    uint32_t got;
    int ins = tide__strmap_put(&c->seen, key.ptr, key.len, (uint32_t)x->n, &got);
    tide__buf_free(&key);
    if (ins < 0)
        return c->rc = ins;
    if (ins == 0) {
        /* keep the better-scored indicator's context */
        tide__exp_entry *prev = &x->v[got];
        if (score <= prev->score) {
            skip_raw(x, TIDE_EXPORT_SKIP_DUPLICATE, r->kind, r->value, EXP_S(x, prev->id), r->id);
            return 0;
        }
        skip_raw(x, TIDE_EXPORT_SKIP_DUPLICATE, r->kind, r->value, r->id, EXP_S(x, prev->id));
        prev->score = score;
        prev->confidence = r->confidence;
        prev->valid_from = r->valid_from;
        prev->valid_until = r->valid_until;
        return 0; /* strings stay those of the first (value is the same) */
    }
    if (x->n == x->cap) {
        size_t nc = x->cap ? x->cap * 2 : 4096;
        tide__exp_entry *nv = tide__realloc(x->v, nc * sizeof(*nv));
        if (nv == NULL)
            return c->rc = tide_error_set(TIDE_ENOMEM, "out of memory");
        x->v = nv;
        x->cap = nc;
    }
    tide__exp_entry *e = &x->v[x->n];
    memset(e, 0, sizeof(*e));
    e->kind = r->kind;
    e->confidence = r->confidence;
    e->score = score;
    e->valid_from = r->valid_from;
    e->valid_until = r->valid_until;
    tide_buf d = TIDE_BUF_INIT;
    int rc = desc_of(&d, r);
    if (rc == 0)
        rc = arena_put(x, r->value, &e->value);
    if (rc == 0)
        rc = arena_put(x, r->id, &e->id);
    if (rc == 0)
        rc = arena_put(x, r->source, &e->source);
    if (rc == 0) /* a label resolved by the gate is written as the level it resolved to */
        rc = arena_put(x,
                leveled && r->tlp && tide_tlp_parse(r->tlp) < 0 ? tide_tlp_name(level) : r->tlp,
                &e->tlp);
    if (rc == 0)
        rc = arena_put(x, d.ptr, &e->desc);
    if (rc == 0)
        rc = arena_put(x, r->name, &e->name);
    tide__buf_free(&d);
    if (rc < 0)
        return c->rc = rc;
    x->n++;
    return 0;
}

static int add_restricted(const char *name, void *payload)
{
    int rc = tide__strmap_put(payload, name, strlen(name), 0, NULL);
    return rc < 0 ? rc : 0;
}

static int cmp_entry(const void *a, const void *b)
{
    const tide__exp_entry *x = a, *y = b;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return strcmp(x->val, y->val);
}

static int run_select(tide__exp *x)
{
    const tide_export_opts *o = x->opts;
    sel_ctx c = { .x = x,
        .fmt = tide__exp_format_of(o->format),
        .sighted = TIDE_SIGHTED_INIT,
        .seen = TIDE_STRMAP_INIT,
        .restricted = TIDE_STRMAP_INIT };
    TIDE_CHECK(parse_types(o->types, c.want));
    c.tlp_max = -1;
    if (o->tlp_max && (c.tlp_max = tide_tlp_parse(o->tlp_max)) < 0)
        return tide_error_set(TIDE_EINVAL,
                "--tlp-max: '%s' is not a TLP (clear, green, amber, amber+strict, red)",
                o->tlp_max);
    if (o->decay)
        c.decay = *o->decay;
    else
        tide_decay_defaults(&c.decay);
    if (c.tlp_max >= 0) {
        TIDE_CHECK(tide_gate_new(&x->gate, x->store, c.tlp_max));
        int rc = tide_gate_restricted_names(x->gate, add_restricted, &c.restricted);
        if (rc < 0) {
            tide__strmap_free(&c.restricted);
            return rc;
        }
    }
    int wrc = tide_warninglists_new(&c.wl, x->store);
    if (wrc < 0) {
        tide__strmap_free(&c.restricted);
        return wrc;
    }
    tide_indicator_filter f = {
        .source = o->source, .changed_since = o->since, .include_revoked = true
    };
    int rc = tide_store_last_sighted(x->store, tide__sighted_note, &c.sighted);
    if (rc == 0)
        rc = tide_store_each_indicator_obs(x->store, &f, select_cb, &c);
    if (rc == 0 && c.rc < 0)
        rc = c.rc;
    tide_warninglists_free(c.wl);
    tide__sighted_free(&c.sighted);
    tide__strmap_free(&c.seen);
    tide__strmap_free(&c.restricted);
    gated_names_free(&c.gn);
    tide__free(c.level_id);
    if (rc < 0)
        return rc;
    x->sum->next_change = c.next;
    /* the arena no longer moves: resolve the values for sorting */
    for (size_t i = 0; i < x->n; i++)
        x->v[i].val = EXP_S(x, x->v[i].value);
    if (x->n > 1)
        qsort(x->v, x->n, sizeof(*x->v), cmp_entry);
    /* the fingerprint of the set selected: its kinds and values, in order */
    XXH3_state_t *h = XXH3_createState();
    TIDE_CHECK_ALLOC(h);
    XXH3_64bits_reset(h);
    for (size_t i = 0; i < x->n; i++) {
        unsigned char k = (unsigned char)x->v[i].kind;
        XXH3_64bits_update(h, &k, 1);
        XXH3_64bits_update(h, x->v[i].val, strlen(x->v[i].val) + 1);
    }
    x->sum->fingerprint = XXH3_64bits_digest(h) | 1; /* never 0: 0 means "none" */
    XXH3_freeState(h);
    return 0;
}

/* ------------------------------------------------------------------ run */

static int count_cb(bool added, const char *line, void *payload)
{
    (void)added, (void)line, (void)payload;
    return 0; /* tide__exp_diff counts */
}

static bool keeps_state(const tide__exp_format *f)
{
    return f->keeps_state;
}

static bool has_policy(const tide__exp_format *f)
{
    return f->policy != NULL;
}

static bool has_categories(const tide__exp_format *f)
{
    return f->categories != NULL;
}

/* "WHAT" + the formats pick() selects + "TAIL", as an error of code rc */
static int formats_error(
        int rc, const char *what, bool (*pick)(const tide__exp_format *f), const char *tail)
{
    tide_buf b = TIDE_BUF_INIT;
    int r = tide__exp_format_list(pick, &b);
    rc = tide_error_set(rc, "%s%s%s", what, r == 0 && b.ptr ? b.ptr : "?", tail);
    tide__buf_free(&b);
    return rc;
}

static int make_key(tide__exp *x)
{
    const tide_export_opts *o = x->opts;
    char *abs = realpath(o->output, NULL);
    tide_buf b = TIDE_BUF_INIT;
    int rc = 0;
    if (abs == NULL) {
        /* the file does not exist yet: its folder does (or the open fails later) */
        char cwd[4096];
        if (o->output[0] != '/' && getcwd(cwd, sizeof(cwd)))
            rc = tide__buf_printf(
                    &b, "%s|%s/%s", tide_export_format_name(o->format), cwd, o->output);
        else
            rc = tide__buf_printf(&b, "%s|%s", tide_export_format_name(o->format), o->output);
    } else {
        rc = tide__buf_printf(&b, "%s|%s", tide_export_format_name(o->format), abs);
        free(abs);
    }
    if (rc == 0 && o->policy)
        rc = tide__buf_printf(&b, "|policy=%s", o->policy);
    if (rc < 0) {
        tide__buf_free(&b);
        return rc;
    }
    x->key = tide__buf_detach(&b);
    return 0;
}

int tide_export_run(tide_store *store, const tide_export_opts *opts, FILE *out,
        tide_export_summary *summary, tide_export_explain_cb explain, void *payload)
{
    tide_export_summary dummy;
    if (summary == NULL)
        summary = &dummy;
    memset(summary, 0, sizeof(*summary));
    const tide__exp_format *F = opts ? tide__exp_format_of(opts->format) : NULL;
    if (F == NULL)
        return tide_error_set(TIDE_EINVAL, "unknown export format");
    int fmt = opts->format;
    bool to_stdout = opts->output && strcmp(opts->output, "-") == 0;
    if (F->dir && (opts->output == NULL || to_stdout))
        return tide_error_set(TIDE_EINVAL, "%s export writes several files: --output DIR needed%s",
                F->name, to_stdout ? ", not -" : "");
    if (opts->incremental && (opts->output == NULL || to_stdout))
        return tide_error_set(
                TIDE_EINVAL, "--incremental needs --output (state is kept per output)");
    /* what the output names: a folder for folder formats only, a link never (util/outfile.h) */
    tide__out_kind kind = to_stdout ? TIDE__OUTK_STREAM : TIDE__OUTK_NEW;
    if (opts->output && !to_stdout) {
        TIDE_CHECK(tide__outfile_kind(opts->output, &kind));
        if (!F->dir && kind == TIDE__OUTK_DIR)
            return tide_error_set(TIDE_EINVAL,
                    "%s: is a folder: the %s export writes one file (give a file name)",
                    opts->output, F->name);
        if (F->dir && kind != TIDE__OUTK_DIR && kind != TIDE__OUTK_NEW)
            return tide_error_set(TIDE_EINVAL,
                    "%s: is not a folder: the %s export writes several files into --output DIR",
                    opts->output, F->name);
    }
    if (opts->incremental && !F->keeps_state) {
        char tail[64];
        snprintf(tail, sizeof(tail), ", not %s", F->name);
        return formats_error(
                TIDE_EUNSUPPORTED, "--incremental is supported by ", keeps_state, tail);
    }
    if (opts->policy && F->policy == NULL)
        return formats_error(TIDE_EINVAL, "--policy applies to ", has_policy, " exports");
    if (opts->categories && F->categories == NULL)
        return formats_error(
                TIDE_EINVAL, "--allow-categories applies to ", has_categories, " exports");
    if (out == NULL && opts->output == NULL)
        return tide_error_set(TIDE_EINVAL, "no output");
    tide__exp x = { .store = store,
        .opts = opts,
        .sum = summary,
        .explain = explain,
        .payload = payload,
        .out = out,
        .stream = kind == TIDE__OUTK_STREAM,
        .dirfd = -1,
        .lock_fd = -1 };
    x.now = opts->now_ms ? opts->now_ms : tide__time_now_ms();
    int rc = 0;
    /* a new export folder takes the umask: the files are for a proxy or an IDS to read */
    if (F->dir && mkdir(opts->output, 0777) != 0 && errno != EEXIST)
        return tide_error_set(TIDE_EIO, "%s: %s", opts->output, strerror(errno));
    /* one writer of an output at a time, from reading its export state to recording the new
     * one: the file installed and the state (RPZ serial, incremental diff) always agree */
    if (opts->output && !to_stdout) {
        TIDE_CHECK(tide__outfile_lock(opts->output, &x.lock_fd));
        if (F->dir)
            x.dirfd = x.lock_fd;
    }
    bool changes = opts->count_changes && kind != TIDE__OUTK_STREAM && opts->policy == NULL;
    if (opts->output && !to_stdout && (F->keeps_state || changes) && opts->categories == NULL) {
        if ((rc = make_key(&x)) < 0)
            goto done;
        rc = tide_store_export_state_get(store, x.key, &x.prev_serial, &x.prev, &x.prev_len);
        if (rc == 0)
            x.have_prev = true;
        else if (rc == TIDE_ENOTFOUND)
            rc = 0;
        else
            goto done;
        tide_error_clear();
    }
    if (opts->policy) {
        rc = F->policy(&x);
    } else if (opts->categories) {
        rc = F->categories(&x);
    } else {
        if ((rc = run_select(&x)) < 0)
            goto done;
        if (opts->unless_fingerprint && opts->unless_fingerprint == summary->fingerprint) {
            summary->unchanged = true; /* the same set as the output holds: nothing written */
            goto done;
        }
        rc = F->write(&x);
        /* formats without state of their own: the state is the set selected */
        for (size_t i = 0; rc == 0 && x.key && !F->keeps_state && i < x.n; i++) {
            char kb[24];
            snprintf(kb, sizeof(kb), "%s ", tide_obs_kind_name(x.v[i].kind));
            tide_buf l = TIDE_BUF_INIT;
            rc = tide__buf_puts(&l, kb);
            if (rc == 0)
                rc = tide__buf_puts(&l, x.v[i].val);
            if (rc == 0)
                rc = tide__exp_state_add(&x, l.ptr);
            tide__buf_free(&l);
        }
        if (rc == 0 && changes && x.have_prev && !summary->incremental) {
            summary->added = summary->removed = 0;
            rc = tide__exp_diff(&x, count_cb, NULL);
        }
        summary->compared = changes && x.have_prev;
    }
    if (rc == 0 && x.key) {
        /* record what the output now holds; the next export (full or incremental) diffs
         * against it and RPZ serials keep increasing */
        rc = tide_store_export_state_put(store, x.key, tide_export_format_name(fmt), x.serial,
                x.state.ptr ? x.state.ptr : "", x.state.len);
    }
done:
    tide__outfile_unlock(x.lock_fd);
    tide_gate_free(x.gate);
    tide__free(x.key);
    tide__free(x.prev);
    tide__buf_free(&x.state);
    tide__buf_free(&x.arena);
    tide__free(x.v);
    return rc;
}
