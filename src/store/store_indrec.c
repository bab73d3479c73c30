/*
 * store_indrec.c - the packed record of an indicators row (schema 7): everything a scan of the
 * active intel reports about an indicator (its objects row's id, id key, name, source, TLP and
 * changed_at, and its own context) in one BLOB column, so that the scan reads one column per
 * row instead of eighteen. Each column SQLite decodes and hands over through the API cost about
 * 120 instructions a row; the packed record costs one column and a pass of strlen.
 *
 * Format: a version byte (1), then the fields in tide__ind_rec order, each a tag byte:
 *   0  NULL
 *   1  text: its byte length (4 bytes, little-endian), its bytes and a NUL (so a decoded string
 *      points into the BLOB, already terminated, and is skipped without a scan)
 *   2  integer: 8 bytes, little-endian two's complement
 * Decoding checks every length against the BLOB, so a damaged row gives an error, never a read
 * out of bounds. Also the SQL function tide_indicator_pack(...) that migration 7 packs the
 * existing rows with.
 */
#include <endian.h>
#include <string.h>

#include "store/store_int.h"

enum {
    TAG_NULL = 0,
    TAG_TEXT = 1,
    TAG_INT = 2,
    REC_VERSION = 1
};

/* Writers into a buffer already grown to the record's size (pack computes it first: this
 * runs once per indicator stored, and an append call per field cost ten times the copy). */
static uint8_t *put_text(uint8_t *p, const char *v, size_t n)
{
    if (v == NULL) {
        *p++ = TAG_NULL;
        return p;
    }
    *p++ = TAG_TEXT;
    uint32_t le = htole32((uint32_t)n);
    memcpy(p, &le, 4);
    memcpy(p + 4, v, n + 1);
    return p + 4 + n + 1;
}

static uint8_t *put_int(uint8_t *p, int64_t v, bool null)
{
    if (null) {
        *p++ = TAG_NULL;
        return p;
    }
    *p++ = TAG_INT;
    uint64_t le = htole64((uint64_t)v);
    memcpy(p, &le, 8);
    return p + 8;
}

int tide__store_ind_pack(tide_buf *out, const tide__ind_rec *r)
{
    const char *const str[8] = { r->id, r->name, r->source, r->tlp, r->kill_chain, r->pattern,
        r->pattern_type, r->reliability };
    size_t len[8], size = 1 + 9 * 9; /* version byte; nine integers at most 9 bytes each */
    for (int i = 0; i < 8; i++) {
        len[i] = str[i] ? strlen(str[i]) : 0;
        if (len[i] > UINT32_MAX - 1)
            return tide_error_set(TIDE_ETOOBIG, "indicator field over 4 GiB");
        size += str[i] ? 6 + len[i] : 1;
    }
    tide__buf_clear(out);
    TIDE_CHECK(tide__buf_grow(out, size));
    uint8_t *p = (uint8_t *)out->ptr;
    *p++ = REC_VERSION;
    p = put_text(p, str[0], len[0]);
    p = put_int(p, r->id_key, false);
    for (int i = 1; i < 8; i++)
        p = put_text(p, str[i], len[i]);
    p = put_int(p, r->confidence, r->confidence_null);
    p = put_int(p, r->valid_from, false);
    p = put_int(p, r->valid_until, false);
    p = put_int(p, r->created, false);
    p = put_int(p, r->modified, false);
    p = put_int(p, r->changed_at, false);
    p = put_int(p, r->simple, false);
    p = put_int(p, r->revoked, false);
    out->len = (size_t)(p - (uint8_t *)out->ptr);
    out->ptr[out->len] = '\0';
    return 0;
}

typedef struct {
    const uint8_t *p, *end;
    bool bad;
} reader;

static const char *get_text(reader *rd)
{
    if (rd->bad || rd->p >= rd->end) {
        rd->bad = true;
        return NULL;
    }
    uint8_t tag = *rd->p++;
    if (tag == TAG_NULL)
        return NULL;
    uint32_t n;
    if (tag != TAG_TEXT || rd->end - rd->p < 5) {
        rd->bad = true;
        return NULL;
    }
    memcpy(&n, rd->p, 4);
    n = le32toh(n);
    rd->p += 4;
    if ((size_t)(rd->end - rd->p) <= n || rd->p[n] != 0) {
        rd->bad = true;
        return NULL;
    }
    const char *s = (const char *)rd->p;
    rd->p += n + 1;
    return s;
}

/* The integer, or 0 with *null set for NULL. */
static int64_t get_int(reader *rd, bool *null)
{
    if (null)
        *null = false;
    if (rd->bad || rd->p >= rd->end) {
        rd->bad = true;
        return 0;
    }
    uint8_t tag = *rd->p++;
    if (tag == TAG_NULL) {
        if (null)
            *null = true;
        return 0;
    }
    if (tag != TAG_INT || rd->end - rd->p < 8) {
        rd->bad = true;
        return 0;
    }
    uint64_t u;
    memcpy(&u, rd->p, 8);
    rd->p += 8;
    return (int64_t)le64toh(u);
}

int tide__store_ind_unpack(const void *blob, size_t n, tide__ind_rec *out)
{
    memset(out, 0, sizeof(*out));
    reader rd = { blob, (const uint8_t *)blob + n, false };
    if (blob == NULL || n == 0 || *rd.p++ != REC_VERSION)
        return tide_error_set(TIDE_ESTORE, "corrupt indicator record in the store");
    out->id = get_text(&rd);
    out->id_key = get_int(&rd, NULL);
    out->name = get_text(&rd);
    out->source = get_text(&rd);
    out->tlp = get_text(&rd);
    out->kill_chain = get_text(&rd);
    out->pattern = get_text(&rd);
    out->pattern_type = get_text(&rd);
    out->reliability = get_text(&rd);
    out->confidence = get_int(&rd, &out->confidence_null);
    out->valid_from = get_int(&rd, NULL);
    out->valid_until = get_int(&rd, NULL);
    out->created = get_int(&rd, NULL);
    out->modified = get_int(&rd, NULL);
    out->changed_at = get_int(&rd, NULL);
    out->simple = get_int(&rd, NULL) != 0;
    out->revoked = get_int(&rd, NULL) != 0;
    if (rd.bad || rd.p != rd.end || out->id == NULL)
        return tide_error_set(TIDE_ESTORE, "corrupt indicator record in the store");
    return 0;
}

/* tide_indicator_pack(id, id_key, name, source, tlp, kill_chain, pattern, pattern_type,
 * reliability, confidence, valid_from, valid_until, created, modified, changed_at, simple,
 * revoked): the packed record, for migration 7. */
void tide__store_sql_ind_pack(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (argc != 17) {
        sqlite3_result_error(ctx, "tide_indicator_pack: 17 arguments", -1);
        return;
    }
#define T(i) ((const char *)sqlite3_value_text(argv[i]))
#define I(i) ((int64_t)sqlite3_value_int64(argv[i]))
    tide__ind_rec r = {
        .id = T(0),
        .id_key = I(1),
        .name = T(2),
        .source = T(3),
        .tlp = T(4),
        .kill_chain = T(5),
        .pattern = T(6),
        .pattern_type = T(7),
        .reliability = T(8),
        .confidence = I(9),
        .confidence_null = sqlite3_value_type(argv[9]) == SQLITE_NULL,
        .valid_from = I(10),
        .valid_until = I(11),
        .created = I(12),
        .modified = I(13),
        .changed_at = I(14),
        .simple = I(15) != 0,
        .revoked = I(16) != 0,
    };
#undef T
#undef I
    tide_buf b = TIDE_BUF_INIT;
    if (r.id == NULL || tide__store_ind_pack(&b, &r) < 0) {
        tide__buf_free(&b);
        sqlite3_result_error(ctx, r.id ? "out of memory" : "tide_indicator_pack: no id", -1);
        return;
    }
    sqlite3_result_blob(ctx, b.ptr, (int)b.len, SQLITE_TRANSIENT);
    tide__buf_free(&b);
}
