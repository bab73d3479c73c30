/*
 * prefilter.c - what a pattern requires of the events that can match it, for the matcher's
 * candidate filters (tide_pattern_prefilter), and whether deciding it takes more than one
 * observation (tide_pattern_needs_window).
 *
 * A comparison requires an equality term (=, IN, ISSUBSET, the url-path LIKE: the match
 * index's entries) or a literal fragment that the compared value must contain: the longest
 * literal run of a LIKE, or of each top-level branch of a MATCHES regular expression. The
 * regex walk is deliberately small: literal characters, escaped punctuation, classes, groups
 * (skipped whole), anchors, quantifiers and top-level alternation; any other construct (\x,
 * \Q, back-references, the extended flag ...) gives no fragment rather than a wrong one. An
 * AND needs one bounded side, an OR both; every observation expression of a pattern must be
 * bounded, so that every event that can take part in a match is a candidate.
 */
#include <stdio.h>
#include <string.h>

#include "pattern/pattern_int.h"
#include "util/util.h"

#define MIN_FRAG    3  /* shortest literal fragment worth filtering on */
#define MAX_BRANCH  16 /* top-level alternatives of a regex followed */
#define REASON_SIZE 300

typedef struct {
    bool (*usable)(const tide_pattern_atom *a, void *payload);
    int (*emit)(const tide_pattern_atom *a, void *payload);
    void *payload;
    char reason[REASON_SIZE];
    bool have_reason;
} walk;

typedef struct {
    const char *s; /* into lit (lower-cased copy) */
    size_t len;
} frag;

static void why(walk *w, const cmp_node *c, const char *fmt, const char *arg)
{
    if (w->have_reason)
        return;
    char tmp[REASON_SIZE - 16];
    snprintf(tmp, sizeof(tmp), fmt, arg);
    snprintf(w->reason, sizeof(w->reason), "column %d: %s", c->pos, tmp);
    w->have_reason = true;
}

static char lower(char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (char)(ch | 0x20) : ch;
}

static bool is_ascii_literal(unsigned char ch)
{
    return ch >= 0x20 && ch < 0x7f;
}

/* Literal runs written one after the other into buf (a lower-cased copy of the literal is
 * never longer than the literal, so buf may be the literal's size); the longest is kept. */
typedef struct {
    char *buf;
    size_t w;   /* bytes written */
    size_t cur; /* start of the current run */
    size_t best, blen;
} runs;

static void run_close(runs *r)
{
    if (r->w - r->cur > r->blen) {
        r->best = r->cur;
        r->blen = r->w - r->cur;
    }
    r->cur = r->w;
}

static void run_add(runs *r, char ch)
{
    r->buf[r->w++] = lower(ch);
}

/* LIKE: % and _ are the wildcards, everything else literal (STIX LIKE has no escape) */
static int like_frag(const lit *l, char *low, frag *out)
{
    runs r = { low, 0, 0, 0, 0 };
    for (size_t i = 0; i < l->len; i++) {
        char ch = l->s[i];
        if (ch == '%' || ch == '_' || !is_ascii_literal((unsigned char)ch))
            run_close(&r);
        else
            run_add(&r, ch);
    }
    run_close(&r);
    if (r.blen < MIN_FRAG)
        return 0;
    out->s = low + r.best;
    out->len = r.blen;
    return 1;
}

/* Skip a character class starting at s[i] == '['; returns the index after its ']' or 0. */
static size_t skip_class(const char *s, size_t n, size_t i)
{
    i++;
    if (i < n && s[i] == '^')
        i++;
    if (i < n && s[i] == ']')
        i++;
    for (; i < n; i++) {
        if (s[i] == '\\') {
            i++;
        } else if (s[i] == '[' && i + 1 < n && s[i + 1] == ':') {
            const char *e = strstr(s + i + 2, ":]");
            if (e == NULL || (size_t)(e - s) >= n)
                return 0;
            i = (size_t)(e - s) + 1;
        } else if (s[i] == ']') {
            return i + 1;
        }
    }
    return 0;
}

/* Skip a group starting at s[i] == '('; returns the index after its ')' or 0. Flags that
 * change how the rest reads ((?x): whitespace and comments) give 0 too. */
static size_t skip_group(const char *s, size_t n, size_t i)
{
    int depth = 0;
    for (; i < n; i++) {
        char ch = s[i];
        if (ch == '\\') {
            if (i + 1 < n && s[i + 1] == 'Q')
                return 0;
            i++;
        } else if (ch == '[') {
            size_t e = skip_class(s, n, i);
            if (e == 0)
                return 0;
            i = e - 1;
        } else if (ch == '(') {
            if (i + 1 < n && s[i + 1] == '?') {
                for (size_t k = i + 2; k < n && s[k] != ')' && s[k] != ':'; k++)
                    if (s[k] == 'x')
                        return 0;
            }
            depth++;
        } else if (ch == ')') {
            if (--depth == 0)
                return i + 1;
        }
    }
    return 0;
}

/* A quantifier at s[i]: its length (0 when none); *optional when it allows zero. */
static size_t quantifier(const char *s, size_t n, size_t i, bool *optional, bool *bad)
{
    *optional = false;
    *bad = false;
    size_t q = 0;
    if (s[i] == '*' || s[i] == '?') {
        *optional = true;
        q = 1;
    } else if (s[i] == '+') {
        q = 1;
    } else if (s[i] == '{') {
        size_t k = i + 1, lo = 0, digits = 0;
        while (k < n && s[k] >= '0' && s[k] <= '9') {
            lo = lo * 10 + (size_t)(s[k] - '0');
            k++;
            digits++;
            if (digits > 6) {
                *bad = true;
                return 0;
            }
        }
        if (k < n && s[k] == ',') {
            k++;
            while (k < n && s[k] >= '0' && s[k] <= '9')
                k++;
        } else if (digits == 0) {
            *bad = true; /* '{' that is no quantifier: a literal to PCRE2, not followed here */
            return 0;
        }
        if (k >= n || s[k] != '}') {
            *bad = true;
            return 0;
        }
        *optional = lo == 0;
        q = k + 1 - i;
    }
    if (q && i + q < n && (s[i + q] == '?' || s[i + q] == '+'))
        q++; /* lazy / possessive */
    return q;
}

/* MATCHES: the longest literal run of each top-level alternative (all of them, or none). */
static int regex_frags(const lit *l, char *low, frag *out, size_t *nout)
{
    const char *s = l->s;
    size_t n = l->len, nb = 0;
    runs r = { low, 0, 0, 0, 0 };
    for (size_t i = 0; i <= n;) {
        if (i == n || s[i] == '|') {
            run_close(&r);
            if (r.blen < MIN_FRAG || nb == MAX_BRANCH)
                return 0;
            out[nb].s = low + r.best;
            out[nb].len = r.blen;
            nb++;
            r.best = r.blen = 0;
            r.cur = r.w;
            i++;
            continue;
        }
        char ch = s[i];
        size_t next = i + 1;
        bool literal = false;
        if (ch == '\\') {
            if (i + 1 >= n)
                return 0;
            char e = s[i + 1];
            next = i + 2;
            if (!((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9'))) {
                literal = is_ascii_literal((unsigned char)e);
                ch = e;
            } else if (!strchr("dDwWsShHvVRXbBAzZGKtnrfea", e)) {
                return 0; /* an escape with arguments or unknown: no fragment */
            }
        } else if (ch == '[') {
            next = skip_class(s, n, i);
            if (next == 0)
                return 0;
        } else if (ch == '(') {
            next = skip_group(s, n, i);
            if (next == 0)
                return 0;
        } else if (ch == ')' || ch == '*' || ch == '+' || ch == '?' || ch == '{') {
            return 0; /* a quantifier or bracket out of place: not followed */
        } else if (ch == '.' || ch == '^' || ch == '$') {
            literal = false;
        } else {
            literal = is_ascii_literal((unsigned char)ch);
        }
        bool optional, bad;
        size_t q = next < n ? quantifier(s, n, next, &optional, &bad) : 0;
        if (next < n && bad)
            return 0;
        if (literal && !(q && optional))
            run_add(&r, ch);
        if (!literal || q)
            run_close(&r);
        i = next + q;
    }
    *nout = nb;
    return nb > 0;
}

/* The fragments of a LIKE / MATCHES comparison (0 when none is usable). */
static int frags_of(const cmp_node *c, char *low, frag *out, size_t *nout)
{
    *nout = 0;
    if (c->nlits != 1 || c->lits[0].kind != LIT_STR)
        return 0;
    if (c->op == OP_LIKE) {
        *nout = (size_t)like_frag(&c->lits[0], low, out);
        return (int)*nout;
    }
    /* a leading (?flags): x changes how the rest reads */
    const char *s = c->lits[0].s;
    for (size_t i = 0; i + 2 < c->lits[0].len; i++)
        if (s[i] == '(' && s[i + 1] == '?' && (i == 0 || s[i - 1] != '\\'))
            for (size_t k = i + 2; k < c->lits[0].len && s[k] != ')' && s[k] != ':'; k++)
                if (s[k] == 'x')
                    return 0;
    return regex_frags(&c->lits[0], low, out, nout);
}

static bool is_url_path_like(const cmp_node *c)
{
    return c->op == OP_LIKE && c->nlits == 1 && c->lits[0].term && strcmp(c->type, "url") == 0 &&
           strcmp(c->path_text, "value") == 0 &&
           tide_pattern_like_url_path(c->lits[0].term, strlen(c->lits[0].term));
}

/* Whether comparison c bounds its candidates; *eq_only when only by equality terms. With
 * emit, the atoms of the chosen bound are emitted. */
static int cmp_walk(walk *w, const cmp_node *c, bool emit, bool *eq_only, bool *bounded)
{
    *eq_only = false;
    *bounded = false;
    if (c->kind != CMP_TEST) {
        bool le, lb, re, rb;
        TIDE_CHECK(cmp_walk(w, c->l, false, &le, &lb));
        TIDE_CHECK(cmp_walk(w, c->r, false, &re, &rb));
        if (c->kind == CMP_OR) {
            *bounded = lb && rb;
            *eq_only = le && re;
            if (emit && *bounded) {
                TIDE_CHECK(cmp_walk(w, c->l, true, &le, &lb));
                TIDE_CHECK(cmp_walk(w, c->r, true, &re, &rb));
            }
            return 0;
        }
        /* AND: one bounded side suffices; equality terms cost nothing to look for */
        *bounded = lb || rb;
        const cmp_node *pick = (lb && le) ? c->l : (rb && re) ? c->r : lb ? c->l : c->r;
        *eq_only = pick == c->l ? le : re;
        if (emit && *bounded)
            TIDE_CHECK(cmp_walk(w, pick, true, eq_only, bounded));
        return 0;
    }
    if (c->negated) {
        why(w, c, "NOT %s comparisons give no observable to look for", "");
        return 0;
    }
    bool eq = c->op == OP_EQ || c->op == OP_IN || c->op == OP_ISSUBSET || is_url_path_like(c);
    if (eq) {
        bool all = c->nlits > 0;
        for (size_t i = 0; i < c->nlits && all; i++) {
            tide_pattern_atom a = { c->type, c->path_text, false, c->lits[i].term,
                c->lits[i].term ? strlen(c->lits[i].term) : 0, c->pos };
            all = c->lits[i].term && w->usable(&a, w->payload);
        }
        if (!all) {
            why(w, c, "%s is not an observable the match index holds", c->path_text);
            return 0;
        }
        *eq_only = *bounded = true;
        return 0;
    }
    if (c->op != OP_LIKE && c->op != OP_MATCHES) {
        why(w, c, "%s comparisons give no observable to look for",
                c->op == OP_NEQ      ? "!="
                : c->op == OP_EXISTS ? "EXISTS"
                : c->op == OP_LT || c->op == OP_LE || c->op == OP_GT || c->op == OP_GE
                        ? "ordering"
                        : "ISSUPERSET");
        return 0;
    }
    char *low = tide__malloc(c->lits[0].len + 1);
    TIDE_CHECK_ALLOC(low);
    frag fr[MAX_BRANCH];
    size_t nf = 0;
    int rc = 0;
    if (!frags_of(c, low, fr, &nf)) {
        char shown[200];
        snprintf(shown, sizeof(shown), "%s '%.80s'%s has no literal run of %d or more characters",
                c->op == OP_LIKE ? "LIKE" : "MATCHES", c->lits[0].s,
                c->lits[0].len > 80 ? "..." : "", MIN_FRAG);
        why(w, c, "%s", shown);
        goto done;
    }
    for (size_t i = 0; i < nf; i++) {
        tide_pattern_atom a = { c->type, c->path_text, true, fr[i].s, fr[i].len, c->pos };
        if (!w->usable(&a, w->payload)) {
            char shown[160];
            snprintf(shown, sizeof(shown), "%s:%s is in no telemetry observation", c->type,
                    c->path_text);
            why(w, c, "%s", shown);
            goto done;
        }
    }
    *bounded = true;
    for (size_t i = 0; emit && i < nf && rc == 0; i++) {
        tide_pattern_atom a = { c->type, c->path_text, true, fr[i].s, fr[i].len, c->pos };
        rc = w->emit(&a, w->payload);
    }
done:
    tide__free(low);
    return rc;
}

/* Every observation expression must be bounded (each one's events are candidates). */
static int obs_walk(walk *w, const obs_node *o, bool emit, bool *bounded)
{
    if (o->kind == OBS_SIMPLE) {
        bool eq;
        return cmp_walk(w, o->cmp, emit, &eq, bounded);
    }
    TIDE_CHECK(obs_walk(w, o->l, emit, bounded));
    if (!*bounded || o->r == NULL)
        return 0;
    return obs_walk(w, o->r, emit, bounded);
}

int tide_pattern_prefilter(const tide_pattern *p,
        bool (*usable)(const tide_pattern_atom *a, void *payload),
        int (*emit)(const tide_pattern_atom *a, void *payload), void *payload, char *reason,
        size_t rlen)
{
    walk w;
    memset(&w, 0, sizeof(w));
    w.usable = usable;
    w.emit = emit;
    w.payload = payload;
    bool bounded = false;
    TIDE_CHECK(obs_walk(&w, p->root, false, &bounded));
    if (!bounded) {
        if (reason && rlen)
            snprintf(reason, rlen, "%s", w.have_reason ? w.reason : "no observable to look for");
        return 0;
    }
    if (emit)
        TIDE_CHECK(obs_walk(&w, p->root, true, &bounded));
    return 1;
}

static bool window_of(const obs_node *o)
{
    switch (o->kind) {
        case OBS_SIMPLE: return false;
        case OBS_AND:
        case OBS_FOLLOWEDBY: return true;
        case OBS_OR: return window_of(o->l) || window_of(o->r);
        case OBS_REPEATS: return o->repeats > 1 || window_of(o->l);
        default: return window_of(o->l); /* WITHIN, START / STOP, parentheses */
    }
}

bool tide_pattern_needs_window(const tide_pattern *p)
{
    return window_of(p->root);
}
