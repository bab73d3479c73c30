/*
 * tel_parse.c - one telemetry record -> one event (SPEC C2), whoever frames the records: format
 * detection on the first record that decides it (through the format table), the UTF-8 check of
 * lines the framing did not see as ASCII, the format's parse function, and the event's
 * observations and defaults. Also the public tide_tel_parser: records handed over one at a time
 * (one queue message = one record), copied into a padded buffer of the parser's own.
 *
 * Contract: the reader (tel_reader.c) calls tide__tel_parse_record (inline, tel_int.h) with
 * records in its line buffer; tide_tel_parse with the parser's copy. An event and what it points
 * to (observation values in the record or the scratch, Zeek #path as its kind) are borrowed from
 * the parser until its next record, or, for the reader's batches, until the batch is done. The
 * parser owns its name, scratch, observation list, record copy, Zeek header state, JSON path trie
 * and default home networks; opts.home_net and opts.map are the caller's.
 */
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "telemetry/tel_int.h"
#include "tide/errors.h"

/* UTF-8 validity (RFC 3629: no overlongs, no surrogates, <= U+10FFFF); ASCII fast path. */
bool tide__utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    while (p < e) {
#ifdef __SSE2__
        while (e - p >= 32) {
            __m128i a = _mm_loadu_si128((const __m128i *)(const void *)p);
            __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
            if (_mm_movemask_epi8(_mm_or_si128(a, b)))
                break;
            p += 32;
        }
#endif
        while (e - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            if (w & 0x8080808080808080ull)
                break;
            p += 8;
        }
        if (p >= e)
            break;
        unsigned c = *p;
        if (c < 0x80) {
            p++;
            continue;
        }
        size_t len;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF)
            len = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0)
                lo = 0xA0;
            if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0)
                lo = 0x90;
            if (c == 0xF4)
                hi = 0x8F;
        } else
            return false;
        if ((size_t)(e - p) < len)
            return false;
        if (p[1] < lo || p[1] > hi)
            return false;
        for (size_t i = 2; i < len; i++)
            if ((p[i] & 0xC0) != 0x80)
                return false;
        p += len;
    }
    return true;
}

int tide__tel_parser_init(tide_tel_parser *r, tide_tel_format format, const char *name,
        const tide_tel_opts *opts, size_t max_rec)
{
    if (opts)
        r->opts = *opts;
    r->opts.format = format;
    r->name = tide__strdup(name);
    if (r->name == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    if ((int)format < 0 || format >= TIDE_TEL__COUNT)
        return tide_error_set(TIDE_EINVAL, "bad telemetry format %d", (int)format);
    if (format == TIDE_TEL_NDJSON && r->opts.map == NULL)
        return tide_error_set(TIDE_EINVAL, "%s: the ndjson format needs a field map", name);
    r->max_line = r->opts.max_line ? r->opts.max_line : TIDE__TEL_DEFAULT_MAX_LINE;
    if (r->max_line > ((size_t)1 << 30))
        r->max_line = (size_t)1 << 30;
    TIDE_CHECK(
            tide__tel_parser_scratch(r, max_rec && max_rec < r->max_line ? max_rec : r->max_line));
    r->home = r->opts.home_net;
    if (r->home == NULL) {
        TIDE_CHECK(tide_homenet_new(&r->own_home, NULL));
        r->home = r->own_home;
    }
    r->format = TIDE_TEL_AUTO;
    if (format != TIDE_TEL_AUTO)
        TIDE_CHECK(tide__tel_set_format(r, format));
    return 0;
}

int tide__tel_parser_scratch(tide_tel_parser *r, size_t n)
{
    size_t cap = 2 * n + 65536;
    if (r->scr && cap <= r->scr_cap)
        return 0;
    /* + TIDE__TEL_BUF_SLACK: values in the scratch are read like those in the line buffer */
    char *s = tide__realloc(r->scr, cap + TIDE__TEL_BUF_SLACK);
    if (s == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    memset(s + cap, 0, TIDE__TEL_BUF_SLACK);
    r->scr = s;
    r->scr_cap = cap;
    return 0;
}

void tide__tel_parser_release(tide_tel_parser *r)
{
    tide_homenet_free(r->own_home);
    tide__free(r->name);
    tide__free(r->scr);
    tide__free(r->obs);
    tide__free(r->rec);
    tide__free(r->zempty);
    tide__free(r->zunset);
    tide__free(r->zpath);
    for (size_t i = 0; i < r->ncols; i++)
        tide__free(r->zcols[i]);
    tide__free(r->zcols);
    tide__free(r->zrole);
    tide__free(r->zrc);
    if (r->jpt)
        tide__jpt_free(r->jpt);
    tide__free(r->jpt);
}

int tide__tel_parse_detect(tide_tel_parser *r, const char *p, size_t n, uint64_t line)
{
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    if (i == n)
        return 0;
    return tide__tel_detect(r, p, n, line); /* its errors are TIDE_E* codes, never -1 */
}

/* ------------------------------------------------------------------ public record parser */

int tide_tel_parser_new(tide_tel_parser **out, tide_tel_format format, const tide_tel_opts *opts)
{
    *out = NULL;
    tide_tel_parser *r = tide__calloc(1, sizeof(*r));
    TIDE_CHECK_ALLOC(r);
    /* the scratch grows with the records (tide_tel_parse) */
    int rc = tide__tel_parser_init(r, format, "(record)", opts, 4096);
    if (rc < 0) {
        tide_tel_parser_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int tide_tel_parse(tide_tel_parser *r, const char *rec, size_t n, tide_event *ev)
{
    uint64_t no = ++r->nrec;
    if (n && rec[n - 1] == '\n')
        n--;
    if (n > r->max_line) /* (the reader's cap counts a '\r' too) */
        return tide_error_set(TIDE_EFORMAT, "%s: line %llu: record longer than the line cap",
                r->name, (unsigned long long)no);
    if (n && rec[n - 1] == '\r')
        n--;
    TIDE_CHECK(tide__tel_parser_scratch(r, n));
    /* the parse functions read up to TIDE__TEL_BUF_SLACK bytes past a record (whole words,
     * masked): a copy with zeroed slack */
    if (n + TIDE__TEL_BUF_SLACK > r->rec_cap) {
        size_t cap = r->rec_cap ? r->rec_cap : 4096;
        while (cap < n + TIDE__TEL_BUF_SLACK)
            cap *= 2;
        char *b = tide__realloc(r->rec, cap);
        TIDE_CHECK_ALLOC(b);
        r->rec = b;
        r->rec_cap = cap;
    }
    if (n)
        memcpy(r->rec, rec, n);
    memset(r->rec + n, 0, TIDE__TEL_BUF_SLACK);
    /* as the reader: no empty record, and no blank one before the first that is not */
    size_t i = 0;
    while (!r->seen && i < n && (rec[i] == ' ' || rec[i] == '\t'))
        i++;
    if (n == 0 || i == n)
        return 0;
    r->seen = true;
    r->nobs = r->obs0 = 0;
    r->scr_len = 0;
    int rc = tide__tel_parse_record(r, r->rec, n, false, no, ev);
    if (rc == -1)
        return tide_error_set(TIDE_EFORMAT, "%s: line %llu: %s", r->name, (unsigned long long)no,
                r->bad ? r->bad : "malformed record");
    return rc;
}

tide_tel_format tide_tel_parser_format(const tide_tel_parser *r)
{
    return r->format;
}

void tide_tel_parser_free(tide_tel_parser *r)
{
    if (r == NULL)
        return;
    tide__tel_parser_release(r);
    tide__free(r);
}
