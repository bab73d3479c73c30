/*
 * detect.c - guess an input's format from its first bytes and its file name (tide ingest
 * --format auto). JSON inputs are told apart by which marker appears first: STIX ("type":
 * "bundle", "spec_version", an "id" holding "--") or MISP ("Event", "Attribute", "Object",
 * "response"), even when a NUL or control bytes sit among the first bytes (the reader rejects
 * them as one record). Text inputs are CSV when the name ends in .csv or the first non-comment line
 * is a header with at least two commas; everything else is a plain list. Directories (MISP feeds)
 * are recognised by the ingest core, not here.
 */
#include <stdbool.h>
#include <string.h>

#include "ingest/sink.h"
#include "util/util.h"

/* Earliest occurrence of needle in [h, h+n), or NULL. */
static const char *find(const char *h, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    if (m == 0 || m > n)
        return NULL;
    const char *end = h + n - m + 1;
    for (const char *p = h; p < end; p++) {
        p = memchr(p, needle[0], (size_t)(end - p));
        if (p == NULL)
            return NULL;
        if (memcmp(p, needle, m) == 0)
            return p;
    }
    return NULL;
}

static void earliest(const char **best, const char *p)
{
    if (p && (*best == NULL || p < *best))
        *best = p;
}

/* The first "id" key whose string value contains "--". */
static const char *find_stix_id(const char *h, size_t n)
{
    const char *p = h, *end = h + n;
    while ((p = find(p, (size_t)(end - p), "\"id\"")) != NULL) {
        const char *q = p + 4;
        while (q < end && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n' || *q == ':'))
            q++;
        if (q < end && *q == '"') {
            const char *v = q + 1;
            const char *close = memchr(v, '"', (size_t)(end - v));
            size_t lim = close ? (size_t)(close - v) : (size_t)(end - v);
            if (find(v, lim, "--"))
                return p;
        }
        p += 4;
    }
    return NULL;
}

/* *marked: a STIX or MISP marker was found (else the default, STIX, is a guess). */
static tide_feed_format detect_json(const char *h, size_t n, bool *marked)
{
    const char *stix = NULL, *misp = NULL;
    const char *t = find(h, n, "\"bundle\"");
    if (t && find(h, n, "\"type\""))
        earliest(&stix, t);
    earliest(&stix, find(h, n, "\"spec_version\""));
    earliest(&stix, find_stix_id(h, n));
    earliest(&misp, find(h, n, "\"Event\""));
    earliest(&misp, find(h, n, "\"Attribute\""));
    earliest(&misp, find(h, n, "\"Object\""));
    earliest(&misp, find(h, n, "\"response\""));
    /* other MISP documents (galaxies, sightings, sharing groups, templates): the MISP reader
     * refuses them with a message that names what they are */
    earliest(&misp, find(h, n, "\"GalaxyCluster\""));
    earliest(&misp, find(h, n, "\"Sighting\""));
    earliest(&misp, find(h, n, "\"SharingGroup\""));
    earliest(&misp, find(h, n, "\"requiredOneOf\""));
    *marked = stix != NULL || misp != NULL;
    if (misp && (stix == NULL || misp < stix))
        return TIDE_FMT_MISP;
    return TIDE_FMT_STIX;
}

static int ends_with_ci(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    if (b > a)
        return 0;
    for (size_t i = 0; i < b; i++) {
        char c = s[a - b + i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != suf[i])
            return 0;
    }
    return 1;
}

/* First line that is not blank and not a '#' comment: start and length. */
static const char *first_data_line(const char *h, size_t n, size_t *len)
{
    const char *p = h, *end = h + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *q = p;
        while (q < le && (*q == ' ' || *q == '\t' || *q == '\r'))
            q++;
        if (q < le && *q != '#') {
            *len = (size_t)(le - q);
            return q;
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    return NULL;
}

/* A CSV header: >= 2 commas and the fields look like names (a letter, no IP / URL). */
static int looks_like_csv_header(const char *l, size_t n)
{
    size_t commas = 0, letters = 0, digits = 0;
    for (size_t i = 0; i < n; i++) {
        char c = l[i];
        if (c == ',')
            commas++;
        else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
            letters++;
        else if (c >= '0' && c <= '9')
            digits++;
        else if (c == '/' || c == ':')
            return 0;
    }
    return commas >= 2 && letters > digits;
}

tide_feed_format tide__detect_format(const char *head, size_t n, const char *path)
{
    if (head == NULL)
        n = 0;
    const char *h = head;
    if (n >= 3 && memcmp(h, "\xEF\xBB\xBF", 3) == 0) {
        h += 3;
        n -= 3;
    }
    /* binary data is no feed of any format: the list reader refuses it with the reason
     * (a random file begins with '{' once in 256 and would read as broken JSON). JSON that
     * names STIX or MISP in its first bytes is that format even with a NUL or control bytes
     * among them: its reader rejects the bad bytes as one record and reads the rest. */
    bool binary = tide__looks_binary(h, n < 1024 ? n : 1024);
    size_t i = 0;
    /* control bytes before the first '{' or '[' are skipped too: a stray 0x01 in front of a
     * bundle costs one rejected record, not the bundle */
    while (i < n && ((unsigned char)h[i] <= 0x20 || h[i] == 0x7f))
        i++;
    if (i < n && (h[i] == '{' || h[i] == '[')) {
        bool marked = false;
        tide_feed_format f = detect_json(h + i, n - i, &marked);
        if (marked || !binary)
            return f;
    }
    if (binary)
        return TIDE_FMT_LIST;
    if (path && ends_with_ci(path, ".json") && i == n)
        return TIDE_FMT_STIX;
    if (path && ends_with_ci(path, ".csv"))
        return TIDE_FMT_CSV;
    size_t ll = 0;
    const char *line = n ? first_data_line(h, n, &ll) : NULL;
    if (line && looks_like_csv_header(line, ll))
        return TIDE_FMT_CSV;
    /* quoted CSV rows whose header is a '#' comment (abuse.ch exports) */
    if (line && ll > 0 && line[0] == '"' && find(line, ll, "\",\"") &&
            find(find(line, ll, "\",\"") + 3, ll - (size_t)(find(line, ll, "\",\"") + 3 - line),
                    "\",\""))
        return TIDE_FMT_CSV;
    return TIDE_FMT_LIST;
}
