/*
 * util.h - library-internal helpers with no tide types in them: allocation (swappable, so tests
 * can inject failures), growable buffers with a size cap, string and time helpers, UUIDs.
 */
#ifndef TIDE_UTIL_H
#define TIDE_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tide/errors.h"

/* ---- allocation: all library memory goes through these ---- */
void *tide__malloc(size_t n);
void *tide__calloc(size_t n, size_t size);
void *tide__realloc(void *p, size_t n);
void tide__free(void *p);
char *tide__strdup(const char *s);
char *tide__strndup(const char *s, size_t n);
/* Back a big, randomly accessed array with transparent huge pages where the system allows. */
void tide__advise_huge(void *p, size_t n);
/* Test hook: make the Nth allocation from now fail (0 disables). */
void tide__alloc_fail_after(long n);

#define TIDE_CHECK(expr)                                                                           \
    do {                                                                                           \
        int tide_check_rc_ = (expr);                                                               \
        if (tide_check_rc_ < 0)                                                                    \
            return tide_check_rc_;                                                                 \
    } while (0)
#define TIDE_CHECK_ALLOC(p)                                                                        \
    do {                                                                                           \
        if ((p) == NULL)                                                                           \
            return tide_error_set(TIDE_ENOMEM, "out of memory");                                   \
    } while (0)

/* ---- growable byte buffer, always NUL-terminated, with an optional size cap ---- */
typedef struct {
    char *ptr;  /* data, NUL-terminated; NULL until first write */
    size_t len; /* bytes used, excluding the NUL */
    size_t cap; /* bytes allocated */
    size_t max; /* 0 = no cap; otherwise appends beyond max fail with TIDE_ETOOBIG */
} tide_buf;

#define TIDE_BUF_INIT                                                                              \
    {                                                                                              \
        NULL, 0, 0, 0                                                                              \
    }
int tide__buf_grow(tide_buf *b, size_t extra);
int tide__buf_put(tide_buf *b, const void *data, size_t n);
int tide__buf_puts(tide_buf *b, const char *s);
int tide__buf_putc(tide_buf *b, char c);
int tide__buf_printf(tide_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 2, 3)))
#endif
        ;
void tide__buf_clear(tide_buf *b);
void tide__buf_free(tide_buf *b);
/* Hand the buffer's memory to the caller (never NULL on success: "" for empty). */
char *tide__buf_detach(tide_buf *b);

/* ---- strings ---- */
void tide__str_lower(char *s);
/* ASCII lower case of s[0..n), in place */
void tide__mem_lower(char *s, size_t n);
char *tide__str_trim(char *s); /* trims ASCII whitespace in place, returns start */
bool tide__str_starts_with(const char *s, const char *prefix);
bool tide__str_ends_with(const char *s, const char *suffix);
bool tide__str_is_hex(const char *s, size_t n);
/* Whether a file's first bytes are binary rather than text: a NUL, or more than 1 in 20
 * control bytes (other than tab, newline, CR, form feed, vertical tab). Random data has one
 * in eight, so a binary file without a NUL in its first KB (about 2% of them) is still
 * refused. */
bool tide__looks_binary(const void *p, size_t n);
/* Checked integer parse of the whole string. */
int tide__parse_long(const char *s, long *out);
/* UTF-8 as jansson takes it (no overlong forms, surrogates or code points over U+10FFFF):
 * the offset of the first byte of s[0..n) that does not start a valid sequence, or n when
 * all of it is valid. */
size_t tide__utf8_invalid_at(const char *s, size_t n);
/* Append s[0..n) to out with every byte that does not start a valid UTF-8 sequence replaced
 * by U+FFFD (for values that are only labels). 0 or TIDE_ENOMEM / TIDE_ETOOBIG. */
int tide__utf8_repair(tide_buf *out, const char *s, size_t n);
/* The same into a fixed buffer (NUL-terminated, cut at a character boundary). */
void tide__utf8_repair_into(char *out, size_t outsz, const char *s, size_t n);

/* ---- time: milliseconds since the epoch, UTC ---- */
/* Parse RFC 3339 / ISO 8601 ("2016-05-12T08:17:27.000Z", "2016-05-12 08:17:27", "2016-05-12").
 * Returns 0 or TIDE_EPARSE. Fractional seconds beyond milliseconds are truncated. */
int tide__time_parse(const char *s, int64_t *out_ms);
/* Format as "YYYY-MM-DDTHH:MM:SS.sssZ" into out (at least 25 bytes). */
void tide__time_format(int64_t ms, char out[32]);
int64_t tide__time_now_ms(void);
/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12). */
int64_t tide__days_from_civil(int64_t y, unsigned m, unsigned d);

/* ---- UUIDs ---- */
/* RFC 4122 version 5 UUID (SHA-1) of name in namespace ns (a UUID string); out gets 36 chars + NUL.
 */
int tide__uuid5(const char *ns, const char *name, size_t name_len, char out[37]);
/* The same over a name given in pieces (a name too big to hold): begin, add each piece, end
 * (which releases the context; abort releases it without a result). */
typedef struct {
    void *md;
} tide_uuid5_ctx;
int tide__uuid5_begin(tide_uuid5_ctx *u, const char *ns);
int tide__uuid5_add(tide_uuid5_ctx *u, const void *p, size_t n);
int tide__uuid5_end(tide_uuid5_ctx *u, char out[37]);
void tide__uuid5_abort(tide_uuid5_ctx *u);
/* The namespace tide uses for ids it derives from feed values (STIX SCO namespace). */
#define TIDE_UUID_NS "00abedb4-aa42-466c-9c01-fed23315a9b7"
/* Whether s (n bytes) is a UUID in 8-4-4-4-12 hex form. */
bool tide__uuid_valid_n(const char *s, size_t n);
bool tide__uuid_valid(const char *s);
/* Random (version 4) UUID. */
int tide__uuid4(char out[37]);

/* ---- string -> integer map (open addressing on XXH3, keys copied into an arena) ---- */
typedef struct {
    uint64_t *hashes; /* 0 = empty slot (a zero hash is stored as 1) */
    uint32_t *vals;
    uint32_t *keyoff; /* offset of the key in arena */
    uint32_t *keylen;
    size_t cap, n;
    tide_buf arena; /* NUL-terminated keys */
} tide_strmap;

#define TIDE_STRMAP_INIT                                                                           \
    {                                                                                              \
        NULL, NULL, NULL, NULL, 0, 0, TIDE_BUF_INIT                                                \
    }
/* Value of key (n bytes), or -1 if absent. */
int64_t tide__strmap_get(const tide_strmap *m, const char *key, size_t n);
/* Insert key -> val unless present. @param[out] out_val the value now stored. Returns 1 when
 * inserted, 0 when the key was present, < 0 on error. */
int tide__strmap_put(tide_strmap *m, const char *key, size_t n, uint32_t val, uint32_t *out_val);
void tide__strmap_free(tide_strmap *m);

#endif
