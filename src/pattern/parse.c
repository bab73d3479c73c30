/*
 * parse.c - STIX 2.0 / 2.1 pattern lexer, recursive-descent parser and validator, plus the
 * index-term walk (tide_pattern_terms) and freeing.
 *
 * Follows the OASIS ANTLR grammar STIXPattern.g4 (cti-pattern-validator): longest-match lexing
 * with case-sensitive keywords, IntPos/IntNeg/FloatPos/FloatNeg literals, strict t'' timestamps,
 * b'' base64 with padding, h'' hex pairs; FOLLOWEDBY < OR < AND precedence between observation
 * expressions, OR < AND inside brackets; postfix WITHIN / REPEATS / START-STOP qualifiers. On
 * top of the grammar, the reference validator's extra checks: the pattern must start with '['
 * or '(' (missing square brackets), hashes.X literals must fit the hash algorithm, and (2.1)
 * no duplicate qualifier directly on one observation expression. 2.0 differs by having no
 * EXISTS and no duplicate-qualifier rule. Hand-written because no allowed dependency parses
 * this grammar; ANTLR's C++/Python runtimes are not available.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pattern/pattern_int.h"
#include "util/util.h"

typedef enum {
    T_EOF,
    T_INTPOS,
    T_INTNEG,
    T_FLOATPOS,
    T_FLOATNEG,
    T_HEX,
    T_BIN,
    T_STR,
    T_BOOL,
    T_TS,
    T_AND,
    T_OR,
    T_NOT,
    T_FOLLOWEDBY,
    T_LIKE,
    T_MATCHES,
    T_ISSUPERSET,
    T_ISSUBSET,
    T_EXISTS,
    T_LAST,
    T_IN,
    T_START,
    T_STOP,
    T_SECONDS,
    T_WITHIN,
    T_REPEATS,
    T_TIMES,
    T_IDENT,  /* without hyphen */
    T_IDENTH, /* with hyphen */
    T_EQ,
    T_NEQ,
    T_LT,
    T_LE,
    T_GT,
    T_GE,
    T_QUOTE,
    T_COLON,
    T_DOT,
    T_COMMA,
    T_RPAREN,
    T_LPAREN,
    T_RBRACK,
    T_LBRACK,
    T_PLUS,
    T_MINUS,
    T_POWER,
    T_DIVIDE,
    T_ASTERISK,
    T_INVALID,
} tok_kind;

static const struct {
    const char *word;
    tok_kind kind;
} keywords[] = {
    { "AND", T_AND },
    { "OR", T_OR },
    { "NOT", T_NOT },
    { "FOLLOWEDBY", T_FOLLOWEDBY },
    { "LIKE", T_LIKE },
    { "MATCHES", T_MATCHES },
    { "ISSUPERSET", T_ISSUPERSET },
    { "ISSUBSET", T_ISSUBSET },
    { "EXISTS", T_EXISTS },
    { "LAST", T_LAST },
    { "IN", T_IN },
    { "START", T_START },
    { "STOP", T_STOP },
    { "SECONDS", T_SECONDS },
    { "true", T_BOOL },
    { "false", T_BOOL },
    { "WITHIN", T_WITHIN },
    { "REPEATS", T_REPEATS },
    { "TIMES", T_TIMES },
};

typedef struct {
    tok_kind kind;
    size_t off, len;
} token;

typedef struct {
    const char *src;
    size_t n;
    tide_stix_version v;
    token *toks;
    size_t ntoks, cap, cur;
    int depth;
    char err[256];
    size_t err_off;
    int err_col; /* when set, overrides err_off */
    bool failed;
    bool oom;
} parser;

/* ---------------------------------------------------------------- errors and positions */

static int column_of(const char *src, size_t off)
{
    int col = 1;
    for (size_t i = 0; i < off; i++)
        if (((unsigned char)src[i] & 0xC0) != 0x80)
            col++;
    return col;
}

static void fail_at(parser *ps, size_t off, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void fail_at(parser *ps, size_t off, const char *fmt, ...)
{
    if (ps->failed)
        return;
    ps->failed = true;
    ps->err_off = off;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err, sizeof(ps->err), fmt, ap);
    va_end(ap);
}

static void fail_oom(parser *ps)
{
    if (!ps->failed)
        fail_at(ps, 0, "out of memory");
    ps->oom = true;
}

/* ---------------------------------------------------------------- lexer */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}
static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static bool is_b64(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '+' || c == '/';
}
static bool is_id_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool is_id_char(char c)
{
    return is_id_start(c) || is_digit(c);
}

/* Length of whitespace at s (ASCII and the Unicode spaces of the grammar), 0 if none. */
static size_t ws_len(const char *s, size_t n)
{
    unsigned char c = (unsigned char)s[0];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f')
        return 1;
    if (c < 0x80)
        return 0;
    uint32_t cp;
    size_t l = tide__utf8_decode((const unsigned char *)s, n, &cp);
    if (l == 0)
        return 0;
    if (cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
            cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000)
        return l;
    return 0;
}

/* Number literal lengths at s: int (sign allowed per flags) and float; 0 when none. */
static size_t int_len(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    if (i >= n || !is_digit(s[i]))
        return 0;
    if (s[i] == '0')
        return i + 1;
    while (i < n && is_digit(s[i]))
        i++;
    return i;
}

static size_t float_len(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    while (i < n && is_digit(s[i]))
        i++;
    if (i >= n || s[i] != '.')
        return 0;
    i++;
    size_t d = i;
    while (i < n && is_digit(s[i]))
        i++;
    return i > d ? i : 0;
}

static size_t two_digits(const char *s, size_t n, size_t i, int *out)
{
    if (i + 2 > n || !is_digit(s[i]) || !is_digit(s[i + 1]))
        return 0;
    *out = (s[i] - '0') * 10 + (s[i + 1] - '0');
    return 1;
}

/* t'YYYY-MM-DDTHH:MM:SS(.d+)?Z' with the grammar's field ranges; returns length or 0. */
static size_t ts_len(const char *s, size_t n)
{
    if (n < 2 || s[0] != 't' || s[1] != '\'')
        return 0;
    size_t i = 2;
    int v;
    for (int k = 0; k < 4; k++, i++)
        if (i >= n || !is_digit(s[i]))
            return 0;
    if (i >= n || s[i++] != '-')
        return 0;
    if (!two_digits(s, n, i, &v) || v < 1 || v > 12)
        return 0;
    i += 2;
    if (i >= n || s[i++] != '-')
        return 0;
    if (!two_digits(s, n, i, &v) || v < 1 || v > 31)
        return 0;
    i += 2;
    if (i >= n || s[i++] != 'T')
        return 0;
    if (!two_digits(s, n, i, &v) || v > 23)
        return 0;
    i += 2;
    if (i >= n || s[i++] != ':')
        return 0;
    if (!two_digits(s, n, i, &v) || v > 59)
        return 0;
    i += 2;
    if (i >= n || s[i++] != ':')
        return 0;
    if (!two_digits(s, n, i, &v) || v > 60)
        return 0;
    i += 2;
    if (i < n && s[i] == '.') {
        i++;
        size_t d = i;
        while (i < n && is_digit(s[i]))
            i++;
        if (i == d)
            return 0;
    }
    if (i + 2 > n || s[i] != 'Z' || s[i + 1] != '\'')
        return 0;
    return i + 2;
}

static size_t hex_len(const char *s, size_t n)
{
    if (n < 3 || s[0] != 'h' || s[1] != '\'')
        return 0;
    size_t i = 2;
    while (i + 1 < n && is_hex(s[i]) && is_hex(s[i + 1]))
        i += 2;
    return i < n && s[i] == '\'' ? i + 1 : 0;
}

static size_t bin_len(const char *s, size_t n)
{
    if (n < 3 || s[0] != 'b' || s[1] != '\'')
        return 0;
    size_t i = 2, chars = 0;
    while (i < n && is_b64(s[i]))
        i++, chars++;
    size_t pad = 0;
    while (i < n && s[i] == '=' && pad < 2)
        i++, pad++;
    if (i >= n || s[i] != '\'' || chars == 0)
        return 0;
    if ((chars + pad) % 4 != 0 || (pad == 1 && chars % 4 != 3) || (pad == 2 && chars % 4 != 2))
        return 0;
    return i + 1;
}

static size_t str_len(const char *s, size_t n)
{
    if (n < 2 || s[0] != '\'')
        return 0;
    size_t i = 1;
    while (i < n) {
        if (s[i] == '\'')
            return i + 1;
        if (s[i] == '\\') {
            if (i + 1 < n && (s[i + 1] == '\'' || s[i + 1] == '\\')) {
                i += 2;
                continue;
            }
            return 0;
        }
        i++;
    }
    return 0;
}

static int add_tok(parser *ps, tok_kind k, size_t off, size_t len)
{
    if (ps->ntoks == ps->cap) {
        size_t nc = ps->cap ? ps->cap * 2 : 64;
        token *nt = tide__realloc(ps->toks, nc * sizeof(token));
        if (nt == NULL) {
            fail_oom(ps);
            return -1;
        }
        ps->toks = nt;
        ps->cap = nc;
    }
    ps->toks[ps->ntoks++] = (token){ k, off, len };
    return 0;
}

static int lex(parser *ps)
{
    const char *s = ps->src;
    size_t n = ps->n, i = 0;
    for (size_t k = 0; k < n;) {
        uint32_t cp;
        size_t l = tide__utf8_decode((const unsigned char *)s + k, n - k, &cp);
        if (l == 0) {
            fail_at(ps, k, "invalid UTF-8 byte 0x%02x", (unsigned char)s[k]);
            return -1;
        }
        k += l;
    }
    while (i < n) {
        size_t w = ws_len(s + i, n - i);
        if (w) {
            i += w;
            continue;
        }
        if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
            const char *end = NULL;
            for (size_t k = i + 2; k + 1 < n; k++)
                if (s[k] == '*' && s[k + 1] == '/') {
                    end = s + k;
                    break;
                }
            if (end) {
                i = (size_t)(end - s) + 2;
                continue;
            }
        }
        if (s[i] == '/' && i + 1 < n && s[i + 1] == '/') {
            while (i < n && s[i] != '\r' && s[i] != '\n')
                i++;
            continue;
        }
        const char *p = s + i;
        size_t rest = n - i, best = 0;
        tok_kind kind = T_INVALID;
        /* literals that start with a letter compete with identifiers (longest wins) */
        size_t l;
        if ((l = hex_len(p, rest)) > best)
            best = l, kind = T_HEX;
        if ((l = bin_len(p, rest)) > best)
            best = l, kind = T_BIN;
        if ((l = ts_len(p, rest)) > best)
            best = l, kind = T_TS;
        if (is_id_start(*p)) {
            size_t a = 1, b;
            while (a < rest && is_id_char(p[a]))
                a++;
            b = a;
            while (b < rest && (is_id_char(p[b]) || p[b] == '-'))
                b++;
            if (b > best) {
                best = b;
                kind = b > a ? T_IDENTH : T_IDENT;
                if (kind == T_IDENT)
                    for (size_t k = 0; k < sizeof(keywords) / sizeof(keywords[0]); k++)
                        if (strlen(keywords[k].word) == a && memcmp(keywords[k].word, p, a) == 0)
                            kind = keywords[k].kind;
            }
        }
        if (*p == '\'' && (l = str_len(p, rest)) > best)
            best = l, kind = T_STR;
        if ((*p == '+' || *p == '-' || *p == '.' || is_digit(*p))) {
            size_t il = int_len(p, rest), fl = float_len(p, rest);
            if (fl > best && fl > il)
                best = fl, kind = *p == '-' ? T_FLOATNEG : T_FLOATPOS;
            else if (il > best)
                best = il, kind = *p == '-' ? T_INTNEG : T_INTPOS;
        }
        if (best == 0) {
            best = 1;
            switch (*p) {
                case '=':
                    kind = T_EQ;
                    if (rest > 1 && p[1] == '=')
                        best = 2;
                    break;
                case '!':
                    if (rest > 1 && p[1] == '=') {
                        kind = T_NEQ;
                        best = 2;
                    }
                    break;
                case '<':
                    kind = T_LT;
                    if (rest > 1 && p[1] == '=')
                        kind = T_LE, best = 2;
                    else if (rest > 1 && p[1] == '>')
                        kind = T_NEQ, best = 2;
                    break;
                case '>':
                    kind = T_GT;
                    if (rest > 1 && p[1] == '=')
                        kind = T_GE, best = 2;
                    break;
                case '\'': kind = T_QUOTE; break;
                case ':': kind = T_COLON; break;
                case '.': kind = T_DOT; break;
                case ',': kind = T_COMMA; break;
                case ')': kind = T_RPAREN; break;
                case '(': kind = T_LPAREN; break;
                case ']': kind = T_RBRACK; break;
                case '[': kind = T_LBRACK; break;
                case '+': kind = T_PLUS; break;
                case '-': kind = T_MINUS; break;
                case '^': kind = T_POWER; break;
                case '/': kind = T_DIVIDE; break;
                case '*': kind = T_ASTERISK; break;
                default: {
                    uint32_t cp;
                    size_t u = tide__utf8_decode((const unsigned char *)p, rest, &cp);
                    if (u == 0) {
                        fail_at(ps, i, "invalid UTF-8 byte 0x%02x", (unsigned char)*p);
                        return -1;
                    }
                    best = u;
                    kind = T_INVALID;
                }
            }
        }
        if (add_tok(ps, kind, i, best))
            return -1;
        i += best;
    }
    return add_tok(ps, T_EOF, n, 0);
}

/* ---------------------------------------------------------------- tree helpers */

static void lit_clear(lit *l)
{
    tide__free(l->s);
    tide__free(l->text);
    tide__free(l->term);
}

static void cmp_free(cmp_node *c)
{
    if (c == NULL)
        return;
    cmp_free(c->l);
    cmp_free(c->r);
    tide__free(c->type);
    for (size_t i = 0; i < c->nsteps; i++)
        tide__free(c->steps[i].key);
    tide__free(c->steps);
    tide__free(c->path_text);
    for (size_t i = 0; i < c->nlits; i++)
        lit_clear(&c->lits[i]);
    tide__free(c->lits);
    tide__free(c);
}

static void obs_free(obs_node *o)
{
    if (o == NULL)
        return;
    obs_free(o->l);
    obs_free(o->r);
    cmp_free(o->cmp);
    tide__free(o);
}

void tide_pattern_free(tide_pattern *p)
{
    if (p == NULL)
        return;
    obs_free(p->root);
    tide__free(p->text);
    tide__free(p);
}

tide_stix_version tide_pattern_version(const tide_pattern *p)
{
    return p->version;
}

/* ---------------------------------------------------------------- parser */

static const char *tok_name(tok_kind k)
{
    switch (k) {
        case T_EOF: return "end of pattern";
        case T_RBRACK: return "']'";
        case T_LBRACK: return "'['";
        case T_RPAREN: return "')'";
        case T_LPAREN: return "'('";
        case T_COLON: return "':'";
        case T_SECONDS: return "SECONDS";
        case T_TIMES: return "TIMES";
        case T_STOP: return "STOP";
        case T_STR: return "a string literal";
        case T_TS: return "a timestamp literal t'...'";
        case T_INTPOS: return "a positive integer";
        default: return "?";
    }
}

static token *peek(parser *ps)
{
    return &ps->toks[ps->cur];
}
static token *next(parser *ps)
{
    token *t = &ps->toks[ps->cur];
    if (t->kind != T_EOF)
        ps->cur++;
    return t;
}

static void unexpected(parser *ps, token *t, const char *expected)
{
    if (t->kind == T_EOF) {
        fail_at(ps, t->off, "unexpected end of pattern, expecting %s", expected);
        return;
    }
    int shown = t->len > 40 ? 40 : (int)t->len;
    const char *why = "";
    if (t->kind == T_INVALID)
        why = " (invalid character)";
    else if (t->kind == T_QUOTE)
        why = " (malformed literal: unterminated string or bad escape)";
    else if (t->kind == T_IDENT || t->kind == T_IDENTH) {
        /* lowercase keyword? */
        static const char *kw[] = { "and", "or", "not", "followedby", "like", "matches",
            "issuperset", "issubset", "exists", "in", "start", "stop", "seconds", "within",
            "repeats", "times" };
        for (size_t k = 0; k < sizeof(kw) / sizeof(kw[0]); k++)
            if (t->len == strlen(kw[k]) && strncasecmp(ps->src + t->off, kw[k], t->len) == 0) {
                why = " (keywords are upper case)";
                break;
            }
        if (!*why && ps->src[t->off] == 't' && t->len == 1)
            why = " (malformed timestamp literal)";
        else if (!*why && (ps->src[t->off] == 'h' || ps->src[t->off] == 'b') && t->len == 1)
            why = " (malformed binary literal)";
    }
    fail_at(ps, t->off, "mismatched input '%.*s'%s, expecting %s", shown, ps->src + t->off, why,
            expected);
}

static bool expect(parser *ps, tok_kind k)
{
    token *t = peek(ps);
    if (t->kind != k) {
        unexpected(ps, t, tok_name(k));
        return false;
    }
    next(ps);
    return true;
}

static char *tok_dup(parser *ps, token *t)
{
    char *s = tide__strndup(ps->src + t->off, t->len);
    if (s == NULL)
        fail_oom(ps);
    return s;
}

/* Unescape a string literal token ('...' with \' and \\). */
static char *unescape_str(parser *ps, const char *s, size_t n, size_t *out_len)
{
    char *o = tide__malloc(n + 1);
    if (o == NULL) {
        fail_oom(ps);
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 1; i + 1 < n; i++) {
        if (s[i] == '\\' && i + 2 < n)
            i++;
        o[k++] = s[i];
    }
    o[k] = '\0';
    *out_len = k;
    return o;
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c - 'A' + 10;
}

static bool parse_literal(parser *ps, token *t, lit *l)
{
    const char *s = ps->src + t->off;
    memset(l, 0, sizeof(*l));
    if ((l->text = tok_dup(ps, t)) == NULL)
        return false;
    switch (t->kind) {
        case T_INTPOS:
        case T_INTNEG: {
            errno = 0;
            long long v = strtoll(l->text, NULL, 10);
            if (errno == ERANGE) {
                l->kind = LIT_FLOAT;
                l->f = strtod(l->text, NULL);
            } else {
                l->kind = LIT_INT;
                l->i = v;
                char buf[32];
                snprintf(buf, sizeof(buf), "%lld", v);
                if ((l->term = tide__strdup(buf)) == NULL) {
                    fail_oom(ps);
                    return false;
                }
            }
            return true;
        }
        case T_FLOATPOS:
        case T_FLOATNEG:
            l->kind = LIT_FLOAT;
            l->f = strtod(l->text, NULL);
            return true;
        case T_BOOL:
            l->kind = LIT_BOOL;
            l->b = s[0] == 't';
            return true;
        case T_STR:
            l->kind = LIT_STR;
            if ((l->s = unescape_str(ps, s, t->len, &l->len)) == NULL)
                return false;
            if ((l->term = tide__strndup(l->s, l->len)) == NULL) {
                fail_oom(ps);
                return false;
            }
            return true;
        case T_HEX: {
            l->kind = LIT_BIN;
            size_t nd = t->len - 3;
            if ((l->s = tide__malloc(nd / 2 + 1)) == NULL) {
                fail_oom(ps);
                return false;
            }
            for (size_t i = 0; i < nd / 2; i++)
                l->s[i] = (char)(hexval(s[2 + 2 * i]) * 16 + hexval(s[3 + 2 * i]));
            l->len = nd / 2;
            l->s[l->len] = '\0';
            return true;
        }
        case T_BIN: {
            l->kind = LIT_BIN;
            if ((l->s = tide__malloc(t->len)) == NULL) {
                fail_oom(ps);
                return false;
            }
            uint32_t acc = 0;
            int bits = 0;
            size_t k = 0;
            for (size_t i = 2; i + 1 < t->len; i++) {
                int v = b64val(s[i]);
                if (v < 0)
                    break;
                acc = (acc << 6) | (uint32_t)v;
                bits += 6;
                if (bits >= 8) {
                    bits -= 8;
                    l->s[k++] = (char)((acc >> bits) & 0xFF);
                }
            }
            l->len = k;
            l->s[k] = '\0';
            return true;
        }
        case T_TS: {
            l->kind = LIT_TS;
            int r = tide__pattern_ts_parse(s + 2, t->len - 3, &l->ts);
            l->ts_bad = r != 0;
            return true;
        }
        default: return false;
    }
}

static bool is_primitive(tok_kind k)
{
    return k == T_INTPOS || k == T_INTNEG || k == T_FLOATPOS || k == T_FLOATNEG || k == T_STR ||
           k == T_BIN || k == T_HEX || k == T_TS || k == T_BOOL;
}

static int path_append_key(tide_buf *b, const char *key, bool first)
{
    bool plain = is_id_start(key[0]);
    for (const char *c = key; *c && plain; c++)
        if (!is_id_char(*c))
            plain = false;
    if (!first)
        TIDE_CHECK(tide__buf_putc(b, '.'));
    if (plain)
        return tide__buf_puts(b, key);
    TIDE_CHECK(tide__buf_putc(b, '\''));
    for (const char *c = key; *c; c++) {
        if (*c == '\'' || *c == '\\')
            TIDE_CHECK(tide__buf_putc(b, '\\'));
        TIDE_CHECK(tide__buf_putc(b, *c));
    }
    return tide__buf_putc(b, '\'');
}

static bool parse_path(parser *ps, cmp_node *c)
{
    token *t = next(ps);
    if (t->kind != T_IDENT && t->kind != T_IDENTH) {
        unexpected(ps, t, "an object type");
        return false;
    }
    if ((c->type = tok_dup(ps, t)) == NULL)
        return false;
    if (!expect(ps, T_COLON))
        return false;
    tide_buf pb = TIDE_BUF_INIT;
    size_t cap = 0;
    bool first = true;
    for (;;) {
        token *k = peek(ps);
        path_step st = { STEP_KEY, NULL, 0 };
        if (first || k->kind == T_DOT) {
            if (!first)
                next(ps);
            k = next(ps);
            if (k->kind == T_IDENT) {
                st.key = tok_dup(ps, k);
            } else if (k->kind == T_STR) {
                size_t dummy;
                st.key = unescape_str(ps, ps->src + k->off, k->len, &dummy);
            } else {
                unexpected(ps, k,
                        k->kind == T_IDENTH ? "a property name (quote names with hyphens)"
                                            : "a property name");
                goto fail;
            }
            if (st.key == NULL)
                goto fail;
            if (path_append_key(&pb, st.key, first) < 0) {
                tide__free(st.key);
                fail_oom(ps);
                goto fail;
            }
        } else if (k->kind == T_LBRACK) {
            next(ps);
            token *ix = next(ps);
            if (ix->kind == T_ASTERISK) {
                st.kind = STEP_STAR;
                if (tide__buf_puts(&pb, "[*]") < 0) {
                    fail_oom(ps);
                    goto fail;
                }
            } else if (ix->kind == T_INTPOS || ix->kind == T_INTNEG) {
                st.kind = STEP_INDEX;
                errno = 0;
                char tmp[32];
                snprintf(tmp, sizeof(tmp), "%.*s", (int)(ix->len < 31 ? ix->len : 31),
                        ps->src + ix->off);
                st.idx = strtoll(tmp, NULL, 10);
                if (errno == ERANGE)
                    st.idx = st.idx < 0 ? INT64_MIN : INT64_MAX;
                if (tide__buf_printf(&pb, "[%lld]", (long long)st.idx) < 0) {
                    fail_oom(ps);
                    goto fail;
                }
            } else {
                unexpected(ps, ix, "a list index or '*'");
                goto fail;
            }
            if (!expect(ps, T_RBRACK))
                goto fail;
        } else {
            break;
        }
        first = false;
        if (c->nsteps == cap) {
            size_t nc = cap ? cap * 2 : 4;
            path_step *ns = tide__realloc(c->steps, nc * sizeof(path_step));
            if (ns == NULL) {
                tide__free(st.key);
                fail_oom(ps);
                goto fail;
            }
            c->steps = ns;
            cap = nc;
        }
        c->steps[c->nsteps++] = st;
        if (c->nsteps > 256) {
            fail_at(ps, k->off, "object path has more than 256 steps");
            goto fail;
        }
    }
    c->path_text = tide__buf_detach(&pb);
    if (c->path_text == NULL) {
        fail_oom(ps);
        return false;
    }
    return true;
fail:
    tide__buf_free(&pb);
    return false;
}

static cmp_node *parse_cmp_or(parser *ps);

static cmp_node *new_cmp(parser *ps, cmp_kind k)
{
    cmp_node *c = tide__calloc(1, sizeof(*c));
    if (c == NULL)
        fail_oom(ps);
    else
        c->kind = k;
    return c;
}

static cmp_node *parse_prop_test(parser *ps)
{
    token *t = peek(ps);
    if (t->kind == T_LPAREN) {
        if (++ps->depth > TIDE_PATTERN_MAX_DEPTH) {
            fail_at(ps, t->off, "nesting deeper than %d levels", TIDE_PATTERN_MAX_DEPTH);
            return NULL;
        }
        next(ps);
        cmp_node *c = parse_cmp_or(ps);
        ps->depth--;
        if (c == NULL)
            return NULL;
        if (!expect(ps, T_RPAREN)) {
            cmp_free(c);
            return NULL;
        }
        return c;
    }
    cmp_node *c = new_cmp(ps, CMP_TEST);
    if (c == NULL)
        return NULL;
    c->pos = column_of(ps->src, t->off);
    if (t->kind == T_EXISTS && ps->v == TIDE_STIX_21) {
        next(ps);
        c->op = OP_EXISTS;
        if (!parse_path(ps, c))
            goto fail;
        return c;
    }
    if (!parse_path(ps, c))
        goto fail;
    if (peek(ps)->kind == T_NOT) {
        next(ps);
        c->negated = true;
    }
    token *op = next(ps);
    switch (op->kind) {
        case T_EQ: c->op = OP_EQ; break;
        case T_NEQ: c->op = OP_NEQ; break;
        case T_LT: c->op = OP_LT; break;
        case T_LE: c->op = OP_LE; break;
        case T_GT: c->op = OP_GT; break;
        case T_GE: c->op = OP_GE; break;
        case T_IN: c->op = OP_IN; break;
        case T_LIKE: c->op = OP_LIKE; break;
        case T_MATCHES: c->op = OP_MATCHES; break;
        case T_ISSUBSET: c->op = OP_ISSUBSET; break;
        case T_ISSUPERSET: c->op = OP_ISSUPERSET; break;
        default: unexpected(ps, op, "a comparison operator"); goto fail;
    }
    if (c->op == OP_IN) {
        token *lp = next(ps);
        if (lp->kind != T_LPAREN) {
            unexpected(ps, lp, "'(' starting a set literal");
            goto fail;
        }
        size_t cap = 0;
        if (peek(ps)->kind == T_RPAREN) {
            next(ps);
            return c;
        }
        for (;;) {
            token *e = next(ps);
            if (!is_primitive(e->kind)) {
                unexpected(ps, e, "a literal");
                goto fail;
            }
            if (c->nlits == cap) {
                size_t nc = cap ? cap * 2 : 4;
                lit *nl = tide__realloc(c->lits, nc * sizeof(lit));
                if (nl == NULL) {
                    fail_oom(ps);
                    goto fail;
                }
                c->lits = nl;
                cap = nc;
            }
            if (!parse_literal(ps, e, &c->lits[c->nlits])) {
                lit_clear(&c->lits[c->nlits]);
                goto fail;
            }
            c->nlits++;
            token *sep = next(ps);
            if (sep->kind == T_RPAREN)
                break;
            if (sep->kind != T_COMMA) {
                unexpected(ps, sep, "',' or ')'");
                goto fail;
            }
        }
        return c;
    }
    token *v = next(ps);
    bool ok;
    if (c->op == OP_EQ || c->op == OP_NEQ)
        ok = is_primitive(v->kind);
    else if (c->op <= OP_GE)
        ok = is_primitive(v->kind) && v->kind != T_BOOL;
    else
        ok = v->kind == T_STR;
    if (!ok) {
        unexpected(ps, v, c->op >= OP_LIKE ? "a string literal" : "a literal");
        goto fail;
    }
    if ((c->lits = tide__calloc(1, sizeof(lit))) == NULL) {
        fail_oom(ps);
        goto fail;
    }
    c->nlits = 1;
    if (!parse_literal(ps, v, &c->lits[0]))
        goto fail;
    return c;
fail:
    cmp_free(c);
    return NULL;
}

static cmp_node *parse_cmp_and(parser *ps)
{
    cmp_node *l = parse_prop_test(ps);
    while (l && peek(ps)->kind == T_AND) {
        next(ps);
        cmp_node *r = parse_prop_test(ps);
        cmp_node *n = r ? new_cmp(ps, CMP_AND) : NULL;
        if (n == NULL) {
            cmp_free(l);
            cmp_free(r);
            return NULL;
        }
        n->l = l, n->r = r;
        l = n;
    }
    return l;
}

static cmp_node *parse_cmp_or(parser *ps)
{
    cmp_node *l = parse_cmp_and(ps);
    while (l && peek(ps)->kind == T_OR) {
        next(ps);
        cmp_node *r = parse_cmp_and(ps);
        cmp_node *n = r ? new_cmp(ps, CMP_OR) : NULL;
        if (n == NULL) {
            cmp_free(l);
            cmp_free(r);
            return NULL;
        }
        n->l = l, n->r = r;
        l = n;
    }
    return l;
}

static obs_node *new_obs(parser *ps, obs_kind k, size_t off)
{
    obs_node *o = tide__calloc(1, sizeof(*o));
    if (o == NULL) {
        fail_oom(ps);
        return NULL;
    }
    o->kind = k;
    o->pos = column_of(ps->src, off);
    return o;
}

static obs_node *parse_obs_followedby(parser *ps);

static obs_node *parse_obs_primary(parser *ps)
{
    token *t = peek(ps);
    obs_node *o = NULL;
    if (t->kind == T_LBRACK) {
        next(ps);
        if (++ps->depth > TIDE_PATTERN_MAX_DEPTH) {
            fail_at(ps, t->off, "nesting deeper than %d levels", TIDE_PATTERN_MAX_DEPTH);
            return NULL;
        }
        cmp_node *c = parse_cmp_or(ps);
        ps->depth--;
        if (c == NULL)
            return NULL;
        if (!expect(ps, T_RBRACK) || (o = new_obs(ps, OBS_SIMPLE, t->off)) == NULL) {
            cmp_free(c);
            return NULL;
        }
        o->cmp = c;
    } else if (t->kind == T_LPAREN) {
        next(ps);
        if (++ps->depth > TIDE_PATTERN_MAX_DEPTH) {
            fail_at(ps, t->off, "nesting deeper than %d levels", TIDE_PATTERN_MAX_DEPTH);
            return NULL;
        }
        obs_node *in = parse_obs_followedby(ps);
        ps->depth--;
        if (in == NULL)
            return NULL;
        if (!expect(ps, T_RPAREN) || (o = new_obs(ps, OBS_PAREN, t->off)) == NULL) {
            obs_free(in);
            return NULL;
        }
        o->l = in;
    } else {
        unexpected(ps, t, "'[' or '('");
        return NULL;
    }
    /* postfix qualifiers */
    for (;;) {
        token *q = peek(ps);
        obs_node *w = NULL;
        if (q->kind == T_WITHIN) {
            next(ps);
            token *num = next(ps);
            if (num->kind != T_INTPOS && num->kind != T_FLOATPOS) {
                unexpected(ps, num, "a positive number of seconds");
                goto fail;
            }
            char tmp[64];
            snprintf(tmp, sizeof(tmp), "%.*s", (int)(num->len < 63 ? num->len : 63),
                    ps->src + num->off);
            token *unit = peek(ps);
            if (unit->kind != T_SECONDS) {
                unexpected(ps, unit, "SECONDS");
                goto fail;
            }
            next(ps);
            if ((w = new_obs(ps, OBS_WITHIN, q->off)) == NULL)
                goto fail;
            w->within = strtod(tmp, NULL);
        } else if (q->kind == T_REPEATS) {
            next(ps);
            token *num = next(ps);
            if (num->kind != T_INTPOS) {
                unexpected(ps, num, "a positive integer");
                goto fail;
            }
            char tmp[64];
            snprintf(tmp, sizeof(tmp), "%.*s", (int)(num->len < 63 ? num->len : 63),
                    ps->src + num->off);
            if (!expect(ps, T_TIMES))
                goto fail;
            if ((w = new_obs(ps, OBS_REPEATS, q->off)) == NULL)
                goto fail;
            errno = 0;
            w->repeats = strtoll(tmp, NULL, 10);
            if (errno == ERANGE)
                w->repeats = INT64_MAX;
        } else if (q->kind == T_START) {
            next(ps);
            token *a = next(ps);
            if (a->kind != T_TS) {
                unexpected(ps, a, "a timestamp literal t'...'");
                goto fail;
            }
            if (!expect(ps, T_STOP))
                goto fail;
            token *b = next(ps);
            if (b->kind != T_TS) {
                unexpected(ps, b, "a timestamp literal t'...'");
                goto fail;
            }
            if ((w = new_obs(ps, OBS_STARTSTOP, q->off)) == NULL)
                goto fail;
            w->start_bad = tide__pattern_ts_parse(ps->src + a->off + 2, a->len - 3, &w->start) != 0;
            w->stop_bad = tide__pattern_ts_parse(ps->src + b->off + 2, b->len - 3, &w->stop) != 0;
        } else {
            break;
        }
        w->l = o;
        o = w;
    }
    return o;
fail:
    obs_free(o);
    return NULL;
}

static obs_node *parse_obs_binary(parser *ps, int level)
{
    static const tok_kind ops[] = { T_FOLLOWEDBY, T_OR, T_AND };
    static const obs_kind kinds[] = { OBS_FOLLOWEDBY, OBS_OR, OBS_AND };
    obs_node *l = level == 2 ? parse_obs_primary(ps) : parse_obs_binary(ps, level + 1);
    while (l && peek(ps)->kind == ops[level]) {
        token *op = next(ps);
        obs_node *r = level == 2 ? parse_obs_primary(ps) : parse_obs_binary(ps, level + 1);
        obs_node *n = r ? new_obs(ps, kinds[level], op->off) : NULL;
        if (n == NULL) {
            obs_free(l);
            obs_free(r);
            return NULL;
        }
        n->l = l, n->r = r;
        l = n;
    }
    return l;
}

static obs_node *parse_obs_followedby(parser *ps)
{
    return parse_obs_binary(ps, 0);
}

/* ---------------------------------------------------------------- validation */

static const struct {
    const char *name; /* upper case, '-' removed */
    int len;          /* hex length; 0 = special */
} hash_algos[] = {
    { "MD5", 32 },
    { "RIPEMD160", 40 },
    { "SHA1", 40 },
    { "SHA224", 56 },
    { "SHA256", 64 },
    { "SHA384", 96 },
    { "SHA512", 128 },
    { "SHA3224", 56 },
    { "SHA3256", 64 },
    { "SHA3384", 96 },
    { "SHA3512", 128 },
    { "WHIRLPOOL", 128 },
    { "MD6", -1 },
    { "SSDEEP", 0 },
};

static bool hash_ok(int len, const char *v)
{
    size_t n = strlen(v);
    if (len > 0)
        return n == (size_t)len && tide__str_is_hex(v, n);
    if (len < 0) /* MD6: the reference accepts anything starting with 32 hex digits */
        return n >= 32 && tide__str_is_hex(v, 32);
    if (n < 1 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (!(is_id_char(c) && c != '_') && c != '/' && c != '+' && c != ':' && c != '.')
            return false;
    }
    return true;
}

static void check_hashes(parser *ps, cmp_node *c)
{
    if (c == NULL || ps->failed)
        return;
    if (c->kind != CMP_TEST) {
        check_hashes(ps, c->l);
        check_hashes(ps, c->r);
        return;
    }
    if (c->nsteps == 0 || c->nlits != 1 || c->op == OP_IN || c->op == OP_EXISTS)
        return;
    bool has = false;
    for (size_t i = 0; i < c->nsteps; i++)
        if (c->steps[i].kind == STEP_KEY && strcmp(c->steps[i].key, "hashes") == 0)
            has = true;
    path_step *last = &c->steps[c->nsteps - 1];
    if (!has || last->kind != STEP_KEY)
        return;
    char algo[64];
    size_t k = 0;
    for (const char *p = last->key; *p && k + 1 < sizeof(algo); p++)
        if (*p != '-' && *p != '\'')
            algo[k++] = (char)((*p >= 'a' && *p <= 'z') ? *p - 32 : *p);
    algo[k] = '\0';
    /* the reference checks the literal as written with quotes removed */
    char val[300];
    k = 0;
    for (const char *p = c->lits[0].text; *p && k + 1 < sizeof(val); p++)
        if (*p != '\'')
            val[k++] = *p;
    val[k] = '\0';
    for (size_t i = 0; i < sizeof(hash_algos) / sizeof(hash_algos[0]); i++)
        if (strcmp(algo, hash_algos[i].name) == 0 && !hash_ok(hash_algos[i].len, val)) {
            fail_at(ps, 0, "'%.200s' is not a valid %s hash", val, last->key);
            ps->err_col = c->pos;
        }
}

static void walk_hashes(parser *ps, obs_node *o)
{
    if (o == NULL)
        return;
    if (o->kind == OBS_SIMPLE)
        check_hashes(ps, o->cmp);
    walk_hashes(ps, o->l);
    walk_hashes(ps, o->r);
}

/* The 2.1 reference's duplicate-qualifier rule: a post-order walk with one set of qualifier
 * types, reset by each bracketed expression and disabled by each parenthesised group. */
static void walk_quals(parser *ps, obs_node *o, int *set)
{
    if (o == NULL || ps->failed)
        return;
    walk_quals(ps, o->l, set);
    walk_quals(ps, o->r, set);
    int bit = 0;
    const char *name = "";
    switch (o->kind) {
        case OBS_SIMPLE: *set = 0; return;
        case OBS_PAREN: *set = -1; return;
        case OBS_WITHIN: bit = 1, name = "WITHIN"; break;
        case OBS_REPEATS: bit = 2, name = "REPEATS"; break;
        case OBS_STARTSTOP: bit = 4, name = "STARTSTOP"; break;
        default: return;
    }
    if (*set < 0)
        return;
    if (*set & bit) {
        fail_at(ps, 0, "duplicate qualifier type encountered: %s", name);
        ps->err_col = o->pos;
        return;
    }
    *set |= bit;
}

/* ---------------------------------------------------------------- entry point */

static void put_err(char *errbuf, size_t errlen, const char *msg)
{
    if (errbuf && errlen)
        snprintf(errbuf, errlen, "%s", msg);
}

int tide_pattern_parse(
        tide_pattern **out, const char *text, tide_stix_version v, char *errbuf, size_t errlen)
{
    char msg[400];
    *out = NULL;
    put_err(errbuf, errlen, "");
    if (text == NULL)
        return tide_error_set(TIDE_EINVAL, "no pattern given");
    if (v != TIDE_STIX_20 && v != TIDE_STIX_21)
        return tide_error_set(TIDE_EINVAL, "unknown STIX version %d", (int)v);
    size_t n = strlen(text);
    if (n > TIDE_PATTERN_MAX_LEN) {
        snprintf(msg, sizeof(msg), "position %d: pattern longer than %d bytes",
                TIDE_PATTERN_MAX_LEN + 1, TIDE_PATTERN_MAX_LEN);
        put_err(errbuf, errlen, msg);
        return tide_error_set(TIDE_EPARSE, "%s", msg);
    }
    parser ps;
    memset(&ps, 0, sizeof(ps));
    ps.src = text;
    ps.n = n;
    ps.v = v;
    obs_node *root = NULL;
    if (lex(&ps) == 0) {
        /* the reference validator's first check: the pattern must open an observation */
        size_t i = 0;
        while (i < n && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n' ||
                                text[i] == '('))
            i++;
        if (i >= n || text[i] != '[') {
            fail_at(&ps, 0, "input is missing square brackets");
        } else {
            root = parse_obs_followedby(&ps);
            if (root && !ps.failed && peek(&ps)->kind != T_EOF)
                unexpected(&ps, peek(&ps), "AND, OR, FOLLOWEDBY, a qualifier or the end");
            if (root && !ps.failed)
                walk_hashes(&ps, root);
            if (root && !ps.failed && v == TIDE_STIX_21) {
                int set = -1;
                walk_quals(&ps, root, &set);
            }
        }
    }
    tide__free(ps.toks);
    if (ps.failed) {
        obs_free(root);
        if (ps.oom)
            return tide_error_set(TIDE_ENOMEM, "out of memory parsing pattern");
        int col = ps.err_col ? ps.err_col : column_of(text, ps.err_off);
        snprintf(msg, sizeof(msg), "position %d: %s", col, ps.err);
        put_err(errbuf, errlen, msg);
        return tide_error_set(TIDE_EPARSE, "%s", msg);
    }
    tide_pattern *p = tide__calloc(1, sizeof(*p));
    if (p == NULL || (p->text = tide__strdup(text)) == NULL) {
        tide__free(p);
        obs_free(root);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    p->version = v;
    p->root = root;
    *out = p;
    return 0;
}

/* ---------------------------------------------------------------- index terms */

bool tide_pattern_like_url_path(const char *s, size_t n)
{
    if (s == NULL || n < 3 || s[0] != '%' || s[1] != '/')
        return false;
    for (size_t i = 2; i < n; i++) {
        if (s[i] == '%') { /* a percent-escape of the path, never a wildcard */
            if (i + 2 >= n || !tide__str_is_hex(s + i + 1, 2))
                return false;
            i += 2;
        } else if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            return false;
        }
    }
    return true;
}

typedef struct {
    int (*cb)(const tide_pattern_term *t, void *payload);
    void *payload;
    int group;
    bool simple;
    bool dry; /* only compute simple */
} term_walk;

static int emit_cmp(term_walk *w, const cmp_node *c, int group)
{
    if (c->kind == CMP_AND) {
        int rc = emit_cmp(w, c->l, group);
        if (rc)
            return rc;
        return emit_cmp(w, c->r, group);
    }
    if (c->kind == CMP_OR) {
        int rc = emit_cmp(w, c->l, ++w->group);
        if (rc)
            return rc;
        return emit_cmp(w, c->r, ++w->group);
    }
    const char *opname = c->op == OP_EQ         ? "="
                         : c->op == OP_IN       ? "IN"
                         : c->op == OP_ISSUBSET ? "ISSUBSET"
                                                : NULL;
    /* url:value LIKE '%/path': a url-path, which the index's url-path entries decide */
    if (c->op == OP_LIKE && c->nlits == 1 && c->lits[0].term && strcmp(c->type, "url") == 0 &&
            strcmp(c->path_text, "value") == 0 &&
            tide_pattern_like_url_path(c->lits[0].term, strlen(c->lits[0].term)))
        opname = "LIKE";
    if (opname == NULL || c->negated)
        w->simple = false;
    if (opname == NULL)
        return 0;
    size_t emitted = 0;
    for (size_t i = 0; i < c->nlits; i++) {
        if (c->lits[i].term == NULL)
            continue;
        emitted++;
        if (w->dry)
            continue;
        tide_pattern_term t = { c->type, c->path_text, opname, c->lits[i].term, group, c->negated };
        int rc = w->cb(&t, w->payload);
        if (rc)
            return rc;
    }
    if (emitted < c->nlits || emitted == 0)
        w->simple = false;
    return 0;
}

static bool has_and(const cmp_node *c)
{
    if (c->kind == CMP_TEST)
        return false;
    if (c->kind == CMP_AND)
        return true;
    return has_and(c->l) || has_and(c->r);
}

static int emit_obs(term_walk *w, const obs_node *o)
{
    if (o == NULL)
        return 0;
    if (o->kind == OBS_SIMPLE)
        return emit_cmp(w, o->cmp, ++w->group);
    int rc = emit_obs(w, o->l);
    if (rc)
        return rc;
    return emit_obs(w, o->r);
}

int tide_pattern_terms(const tide_pattern *p, bool *out_simple,
        int (*cb)(const tide_pattern_term *t, void *payload), void *payload)
{
    term_walk w = { cb, payload, 0, true, true };
    const obs_node *o = p->root;
    while (o->kind == OBS_PAREN)
        o = o->l;
    if (o->kind != OBS_SIMPLE || has_and(o->cmp))
        w.simple = false;
    (void)emit_obs(&w, p->root); /* dry run: decides simple */
    if (out_simple)
        *out_simple = w.simple;
    if (cb == NULL)
        return 0;
    w.dry = false;
    w.group = 0;
    return emit_obs(&w, p->root);
}
