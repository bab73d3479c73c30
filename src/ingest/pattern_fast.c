/*
 * pattern_fast.c - the fast path for the indicator patterns most feeds consist of,
 * `[ipv4-addr:value = '1.2.3.4']`, `[file:hashes.'SHA-256' = '...']` and the like: parsing
 * them with the full STIX pattern parser (token array, tree, literal copies, frees) cost about
 * a tenth of the instructions of a bulk ingest, for shapes that can be recognised exactly with
 * a few byte comparisons.
 *
 * Exactness against src/pattern/parse.c, shape by shape: the object types and paths are a
 * fixed list whose spellings lex as one identifier (or a quoted key) and never as a keyword or
 * literal; the path is reported as the parser normalises it (a quoted key that is a plain
 * identifier loses its quotes); the literal holds printable ASCII without a quote or
 * backslash, so it is valid UTF-8, needs no unescaping and is its own term; hash literals must
 * have the hex length of their algorithm, the check the parser adds; blanks are single-byte
 * spaces where the grammar allows whitespace. Anything else returns false and goes to the
 * full parser, which then gives the verdict and the position of an error.
 *
 * One LIKE shape is taken too: `[url:value LIKE '%/path']`, the pattern of a url-path
 * indicator (maltrail's bare-path trails, MISP `uri`): its term is reported with op "LIKE",
 * ingest indexes the path as a url-path observable and the indicator is simple (see
 * tide__like_url_path). Its LIKE needs no backtracking probe (one '%').
 */
#include "ingest/pattern_fast.h"

#include <string.h>

#include "util/util.h"

typedef struct {
    const char *type; /* object type as written */
    const char *path; /* path as written */
    const char *norm; /* path as the parser reports it */
    int hash_len;     /* hex digits a hash literal must have; 0: not a hash */
    bool subset;      /* ISSUBSET allowed too (CIDR of an address) */
    size_t tl, pl;    /* strlen of type, path */
} shape;

#define SHAPE(type, path, norm, hash_len, subset)                                                  \
    {                                                                                              \
        type, path, norm, hash_len, subset, sizeof(type) - 1, sizeof(path) - 1                     \
    }
static const shape shapes[] = {
    SHAPE("ipv4-addr", "value", "value", 0, true),
    SHAPE("ipv6-addr", "value", "value", 0, true),
    SHAPE("domain-name", "value", "value", 0, false),
    SHAPE("url", "value", "value", 0, false),
    SHAPE("email-addr", "value", "value", 0, false),
    SHAPE("file", "hashes.'SHA-256'", "hashes.'SHA-256'", 64, false),
    SHAPE("file", "hashes.'SHA-1'", "hashes.'SHA-1'", 40, false),
    SHAPE("file", "hashes.'SHA-512'", "hashes.'SHA-512'", 128, false),
    SHAPE("file", "hashes.MD5", "hashes.MD5", 32, false),
    SHAPE("file", "hashes.'MD5'", "hashes.MD5", 32, false),
};
#undef SHAPE

static const char *skip_spaces(const char *p)
{
    while (*p == ' ')
        p++;
    return p;
}

bool tide__pattern_fast(
        const char *pattern, tide_pattern_term *t, char value[TIDE__PATTERN_FAST_MAX + 1])
{
    if (pattern[0] != '[')
        return false;
    const char *p = skip_spaces(pattern + 1);
    const shape *sh = NULL;
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]) && sh == NULL; i++) {
        size_t tl = shapes[i].tl, pl = shapes[i].pl;
        /* the path must end where the identifier (or quoted key) ends */
        if (p[0] == shapes[i].type[0] && strncmp(p, shapes[i].type, tl) == 0 && p[tl] == ':' &&
                strncmp(p + tl + 1, shapes[i].path, pl) == 0 &&
                (p[tl + 1 + pl] == ' ' || p[tl + 1 + pl] == '=')) {
            sh = &shapes[i];
            p += tl + 1 + pl;
        }
    }
    if (sh == NULL)
        return false;
    const char *op;
    p = skip_spaces(p);
    if (p[0] == '=' && p[1] != '=') {
        op = "=";
        p = skip_spaces(p + 1);
    } else if (sh->subset && p[-1] == ' ' && strncmp(p, "ISSUBSET ", 9) == 0) {
        op = "ISSUBSET";
        p = skip_spaces(p + 9);
    } else if (sh->type[0] == 'u' && p[-1] == ' ' && strncmp(p, "LIKE ", 5) == 0) {
        op = "LIKE"; /* only the url-path shape '%/path' (tide_pattern_like_url_path) */
        p = skip_spaces(p + 5);
    } else {
        return false;
    }
    if (*p++ != '\'')
        return false;
    size_t n = 0;
    for (; p[n] != '\''; n++) {
        unsigned char c = (unsigned char)p[n];
        if (c < 0x20 || c > 0x7e || c == '\\' || n >= TIDE__PATTERN_FAST_MAX)
            return false; /* also the end of the text */
    }
    if (n == 0 || (sh->hash_len && (n != (size_t)sh->hash_len || !tide__str_is_hex(p, n))))
        return false;
    if (op[0] == 'L' && !tide_pattern_like_url_path(p, n))
        return false;
    const char *q = skip_spaces(p + n + 1);
    if (q[0] != ']' || q[1] != '\0')
        return false;
    memcpy(value, p, n);
    value[n] = '\0';
    t->object_type = sh->type;
    t->path = sh->norm;
    t->op = op;
    t->value = value;
    t->and_group = 1;
    t->negated = false;
    return true;
}
