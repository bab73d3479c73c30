/*
 * read_list.c - plain indicator lists: one value per line with '#' comments (full-line and
 * inline "value # comment"), blank lines, CRLF, trailing spaces, a UTF-8 BOM. Covers maltrail
 * trails (with "# Aliases:" / "# Reference:" metadata), ipsum ("IP<TAB>count"), FireHOL
 * ipset/netset files and plain IP lists such as ThreatFox's. Hand-written: it is a line loop.
 *
 * Every value is refanged, detected, normalised and emitted as an indicator
 * (emit_indicator.c). Family rule: a list is a malware family list when opts->family is set,
 * when its header (a comment before the first value) says "# Family: NAME" (or "# Malware:",
 * "# Malware family:"), or when the file sits in a directory named "malware" (maltrail's
 * trails/static/malware/; the path however spelt: "malware//x.txt", "./x.txt" from inside it,
 * "a/../malware/x.txt"); the three give the same objects. Only then a malware SDO (name =
 * opts->family, the header's name or the file's stem, aliases from "# Aliases:", references
 * from the "# Reference:" lines before the first trail) is emitted, once, before the first
 * indicator, and every indicator "indicates" it. Generic lists (ipsum, FireHOL, ThreatFox,
 * mass_scanner, maltrail suspicious/ and malicious/) get no malware object.
 *
 * Per-indicator context: the "# Reference:" URLs in force (the group of reference lines
 * most recently seen before the trail) become the indicator's external_references; an inline
 * comment becomes its description; FireHOL's Maintainer / List source URL header goes into the
 * description too. Default confidence: family lists 80, maltrail suspicious/ 40, ipsum
 * min(100, 20 * count) (count kept as x_tide_ipsum_count), other lists 60.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ingest/emit_indicator.h"
#include "ingest/sink.h"
#include "util/util.h"

#define CHUNK             65536
#define FAMILY_CONFIDENCE 80 /* the default of a family list */

typedef struct {
    tide_sink *sink;
    tide__emitter em;
    bool family;
    char family_name[256];
    char family_id[128];
    bool family_emitted;
    json_t *aliases;     /* array of strings */
    json_t *family_refs; /* references before the first trail */
    json_t *refs;        /* current reference group */
    bool refs_closed;    /* a trail came after the last reference line */
    bool seen_trail;
    char maintainer[256];
    char list_url[512];
    long rejects;
    tide_buf fixed; /* a comment with its bytes that are not UTF-8 replaced */
} list_state;

/* The name of the folder that holds path, however the path is spelt: relative or absolute,
 * with doubled slashes (a folder given with a trailing slash, as tab completion writes it,
 * reads its files as "dir//file"), "." and ".." segments. Lexical: a folder reached through
 * a symbolic link keeps the name the user gave it. False when it has none (stdin). */
static bool parent_dir_name(const char *path, char *out, size_t outsz)
{
    if (path == NULL || *path == '\0' || strcmp(path, "-") == 0)
        return false;
    tide_buf full = TIDE_BUF_INIT;
    if (path[0] != '/') {
        char cwd[4096];
        if (getcwd(cwd, sizeof(cwd)) != NULL)
            tide__buf_printf(&full, "%s/", cwd);
    }
    if (tide__buf_printf(&full, "%s", path) < 0) {
        tide__buf_free(&full);
        return false;
    }
    /* the segments, ".." popping the one before; only the last two matter */
    const char *seg[64];
    size_t segl[64], n = 0;
    bool deep = false, lost = false; /* segments dropped; a ".." went past the kept ones */
    for (const char *p = full.ptr; *p;) {
        while (*p == '/')
            p++;
        const char *e = p;
        while (*e && *e != '/')
            e++;
        size_t l = (size_t)(e - p);
        if (l == 0 || (l == 1 && p[0] == '.')) {
            /* nothing */
        } else if (l == 2 && p[0] == '.' && p[1] == '.') {
            if (n > 0)
                n--;
            else if (deep)
                lost = true;
        } else if (n < 64) {
            seg[n] = p;
            segl[n++] = l;
        } else {
            memmove(seg, seg + 1, 63 * sizeof(seg[0]));
            memmove(segl, segl + 1, 63 * sizeof(segl[0]));
            seg[63] = p;
            segl[63] = l;
            deep = true;
        }
        p = e;
    }
    bool ok = !lost && n >= 2 && segl[n - 2] < outsz;
    if (ok) {
        memcpy(out, seg[n - 2], segl[n - 2]);
        out[segl[n - 2]] = '\0';
    }
    tide__buf_free(&full);
    return ok;
}

static bool path_in_dir(const char *path, const char *dir)
{
    char parent[256];
    return parent_dir_name(path, parent, sizeof(parent)) && strcmp(parent, dir) == 0;
}

static int add_ref(json_t *arr, const char *url)
{
    json_t *r = json_pack("{s:s, s:s}", "source_name", "maltrail", "url", url);
    if (r == NULL || json_array_append_new(arr, r) != 0)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    return 0;
}

/* "# key: value" comment lines carrying metadata. */
static int comment_line(list_state *st, char *text)
{
    char *c = tide__str_trim(text + 1);
    size_t kl = 0;
    if (strncasecmp(c, "Family:", kl = 7) == 0 || strncasecmp(c, "Malware:", kl = 8) == 0 ||
            strncasecmp(c, "Malware family:", kl = 15) == 0 ||
            strncasecmp(c, "Malware-family:", kl = 15) == 0) {
        /* the list names its family in its header (before its first value): as --family does,
         * and as the maltrail layout does; --family wins */
        const char *name = tide__str_trim(c + kl);
        const tide_ingest_opts *o = st->sink->opts;
        if (*name && !st->seen_trail && !(o->family && *o->family)) {
            st->family = true;
            snprintf(st->family_name, sizeof(st->family_name), "%s", name);
            st->em.default_confidence = FAMILY_CONFIDENCE;
        }
    } else if (strncasecmp(c, "Aliases:", 8) == 0) {
        char *next = c + 8;
        while (next) {
            char *a = next;
            char *comma = strchr(a, ',');
            next = comma ? comma + 1 : NULL;
            if (comma)
                *comma = '\0';
            a = tide__str_trim(a);
            if (*a == '\0' || json_array_size(st->aliases) >= 256)
                continue;
            bool dup = false;
            size_t i;
            json_t *v;
            json_array_foreach(st->aliases, i, v) if (strcasecmp(json_string_value(v), a) == 0)
                    dup = true;
            if (!dup && json_array_append_new(st->aliases, json_string(a)) != 0)
                return tide_error_set(TIDE_ENOMEM, "out of memory");
        }
    } else if (strncasecmp(c, "Reference:", 10) == 0) {
        char *url = tide__str_trim(c + 10);
        char *sp = strpbrk(url, " \t");
        if (sp)
            *sp = '\0';
        if (*url == '\0')
            return 0;
        if (st->refs_closed) {
            json_array_clear(st->refs);
            st->refs_closed = false;
        }
        if (json_array_size(st->refs) < 64)
            TIDE_CHECK(add_ref(st->refs, url));
        if (!st->seen_trail && json_array_size(st->family_refs) < 64)
            TIDE_CHECK(add_ref(st->family_refs, url));
    } else if (strncasecmp(c, "Maintainer ", 11) == 0 || strncasecmp(c, "Maintainer:", 11) == 0) {
        char *v = strchr(c, ':');
        if (v && !st->maintainer[0])
            snprintf(st->maintainer, sizeof(st->maintainer), "%s", tide__str_trim(v + 1));
    } else if (strncasecmp(c, "List source URL", 15) == 0) {
        char *v = strchr(c, ':');
        if (v && !st->list_url[0])
            snprintf(st->list_url, sizeof(st->list_url), "%s", tide__str_trim(v + 1));
    }
    return 0;
}

/* Comments and inline comments are labels (aliases, references, descriptions): bytes that are
 * not UTF-8 become U+FFFD, in st->fixed. Returns p itself when it is valid. */
static char *repaired(list_state *st, char *p, size_t len)
{
    if (tide__utf8_invalid_at(p, len) == len)
        return p;
    tide__buf_clear(&st->fixed);
    if (tide__utf8_repair(&st->fixed, p, len) < 0)
        return NULL;
    return st->fixed.ptr;
}

static int value_line(list_state *st, char *text, long line, long long off)
{
    /* inline comment */
    char *comment = NULL;
    char *hash = strchr(text, '#');
    while (hash) {
        /* '#' starts a comment only after whitespace (a URL fragment has none before it) */
        if (hash > text && (hash[-1] == ' ' || hash[-1] == '\t')) {
            *hash = '\0';
            comment = tide__str_trim(hash + 1);
            break;
        }
        hash = strchr(hash + 1, '#');
    }
    char *v = tide__str_trim(text);
    if (*v == '\0')
        return 0;
    /* the value goes into the stored JSON: not UTF-8 is a bad line (a comment is repaired) */
    size_t vn = strlen(v), bad = tide__utf8_invalid_at(v, vn);
    if (bad < vn) {
        st->rejects++;
        tide__sink_rejectf(st->sink, line, off, "value is not valid UTF-8 (byte %zu is 0x%02x)",
                bad + 1, (unsigned char)v[bad]);
        return 0;
    }
    /* ipsum: "IP<TAB>count" */
    long count = -1;
    char *ws = strpbrk(v, " \t");
    if (ws) {
        char *rest = tide__str_trim(ws + 1);
        long c;
        if (tide__parse_long(rest, &c) == 0 && c >= 0) {
            *ws = '\0';
            count = c;
        }
    }
    tide_obs_kind kind;
    char *canon = NULL;
    int rc = tide__value_prepare(v, TIDE_OBS_NONE, &kind, &canon);
    if (rc == TIDE_EPARSE) {
        st->rejects++;
        tide__sink_rejectf(st->sink, line, off, "%s", tide_error_last());
        return 0;
    }
    TIDE_CHECK(rc);

    st->sink->line = line;
    st->sink->offset = off;
    st->seen_trail = true;
    if (st->family && !st->family_emitted) {
        rc = tide__emit_group(
                &st->em, "malware", st->family_name, st->aliases, st->family_refs, st->family_id);
        if (rc < 0) {
            free(canon);
            return rc;
        }
        st->family_emitted = true;
    }
    if (json_array_size(st->refs) > 0)
        st->refs_closed = true;

    json_t *extra = json_object();
    int conf = -1;
    int saved_default = st->em.default_confidence;
    rc = extra ? 0 : TIDE_ENOMEM;
    if (rc == 0 && count >= 0) {
        if (json_object_set_new(extra, "x_tide_ipsum_count", json_integer(count)) != 0)
            rc = TIDE_ENOMEM;
        st->em.default_confidence = count * 20 > 100 ? 100 : (int)(count * 20);
    }
    if (rc == 0 && json_array_size(st->refs) > 0 &&
            json_object_set_new(extra, "external_references", json_deep_copy(st->refs)) != 0)
        rc = TIDE_ENOMEM;
    if (rc == 0 && (comment && *comment)) {
        const char *c = repaired(st, comment, strlen(comment));
        if (c == NULL || json_object_set_new(extra, "description", json_string(c)) != 0)
            rc = TIDE_ENOMEM;
    } else if (rc == 0 && (st->maintainer[0] || st->list_url[0])) {
        char d[900];
        snprintf(d, sizeof(d), "%s%s%s%s", st->maintainer[0] ? "Maintainer: " : "", st->maintainer,
                st->maintainer[0] && st->list_url[0] ? "; list source: " : "",
                st->list_url[0] ? st->list_url : "");
        if (!st->maintainer[0])
            snprintf(d, sizeof(d), "List source: %s", st->list_url);
        if (json_object_set_new(extra, "description", json_string(d)) != 0)
            rc = TIDE_ENOMEM;
    }
    if (rc == 0)
        rc = tide__emit_indicator(
                &st->em, kind, canon, v, conf, extra, st->family ? st->family_id : NULL, NULL);
    else
        rc = tide_error_set(TIDE_ENOMEM, "out of memory");
    st->em.default_confidence = saved_default;
    json_decref(extra);
    free(canon);
    return rc;
}

static int handle_line(list_state *st, char *p, size_t len, long line, long long off)
{
    if (line == 1 && len >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB &&
            (unsigned char)p[2] == 0xBF) {
        p += 3;
        len -= 3;
    }
    if (memchr(p, '\0', len)) {
        st->rejects++;
        tide__sink_rejectf(st->sink, line, off, "NUL byte in line");
        return 0;
    }
    char *t = tide__str_trim(p);
    if (*t == '\0')
        return 0;
    if (*t == '#') {
        char *c = repaired(st, t, strlen(t));
        if (c == NULL)
            return tide_error_set(TIDE_ENOMEM, "out of memory");
        return comment_line(st, c);
    }
    return value_line(st, t, line, off);
}

int tide__read_list(tide_sink *sink, FILE *fp)
{
    list_state st;
    memset(&st, 0, sizeof(st));
    st.sink = sink;
    const tide_ingest_opts *o = sink->opts;
    st.family = (o->family && *o->family) || path_in_dir(sink->file, "malware");
    if (o->family && *o->family)
        snprintf(st.family_name, sizeof(st.family_name), "%s", o->family);
    else
        tide__file_stem(sink->file, st.family_name, sizeof(st.family_name));
    tide__emitter_init(&st.em, sink,
            st.family                               ? FAMILY_CONFIDENCE
            : path_in_dir(sink->file, "suspicious") ? 40
                                                    : 60);
    st.aliases = json_array();
    st.family_refs = json_array();
    st.refs = json_array();
    char *chunk = tide__malloc(CHUNK);
    tide_buf line = TIDE_BUF_INIT;
    line.max = TIDE_MAX_LINE_BYTES;
    int rc = 0;
    if (!st.aliases || !st.family_refs || !st.refs || !chunk) {
        rc = tide_error_set(TIDE_ENOMEM, "out of memory");
        goto done;
    }
    long lineno = 1;
    long long off = 0, line_off = 0;
    bool too_long = false, first = true;
    for (;;) {
        size_t n = fread(chunk, 1, CHUNK, fp);
        if (n == 0) {
            if (ferror(fp)) {
                rc = tide_error_set(TIDE_EIO, "%s: read error at byte %lld", sink->file, off);
                goto done;
            }
            break;
        }
        if (first) {
            first = false;
            if (tide__looks_binary(chunk, n < 1024 ? n : 1024)) {
                rc = tide_error_set(TIDE_EFORMAT,
                        "%s: binary data (NUL or control bytes in the first KB), not a list",
                        sink->file);
                goto done;
            }
        }
        size_t start = 0;
        for (size_t i = 0; i < n; i++) {
            if (chunk[i] != '\n')
                continue;
            if (!too_long) {
                int r = tide__buf_put(&line, chunk + start, i - start);
                if (r == TIDE_ETOOBIG) {
                    too_long = true;
                } else if (r < 0) {
                    rc = tide_error_set(TIDE_ENOMEM, "out of memory");
                    goto done;
                }
            }
            if (too_long) {
                st.rejects++;
                tide__sink_rejectf(
                        sink, lineno, line_off, "line longer than %u bytes", TIDE_MAX_LINE_BYTES);
            } else if (line.ptr) {
                rc = handle_line(&st, line.ptr, line.len, lineno, line_off);
                if (rc < 0)
                    goto done;
            }
            tide__buf_clear(&line);
            too_long = false;
            lineno++;
            line_off = off + (long long)i + 1;
            start = i + 1;
        }
        if (!too_long && start < n) {
            int r = tide__buf_put(&line, chunk + start, n - start);
            if (r == TIDE_ETOOBIG)
                too_long = true;
            else if (r < 0) {
                rc = tide_error_set(TIDE_ENOMEM, "out of memory");
                goto done;
            }
        }
        off += (long long)n;
    }
    if (too_long) {
        tide__sink_rejectf(
                sink, lineno, line_off, "line longer than %u bytes", TIDE_MAX_LINE_BYTES);
    } else if (line.len > 0) {
        rc = handle_line(&st, line.ptr, line.len, lineno, line_off);
    }
done:
    tide__buf_free(&line);
    tide__buf_free(&st.fixed);
    tide__free(chunk);
    json_decref(st.aliases);
    json_decref(st.family_refs);
    json_decref(st.refs);
    return rc;
}
