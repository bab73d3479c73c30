/*
 * uuid.c - RFC 4122 UUIDs. Version 5 (SHA-1 over namespace + name) gives the deterministic ids
 * of objects that tide derives from feed values, so re-ingesting a feed changes nothing.
 */
#include <stdio.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "util/util.h"

static int parse_uuid(const char *s, unsigned char out[16])
{
    int j = 0;
    for (int i = 0; s[i] && j < 32; i++) {
        char c = s[i];
        int v;
        if (c == '-')
            continue;
        if (c >= '0' && c <= '9')
            v = c - '0';
        else if (c >= 'a' && c <= 'f')
            v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v = c - 'A' + 10;
        else
            return -1;
        if (j % 2 == 0)
            out[j / 2] = (unsigned char)(v << 4);
        else
            out[j / 2] |= (unsigned char)v;
        j++;
    }
    return j == 32 ? 0 : -1;
}

static void format_uuid(const unsigned char u[16], char out[37])
{
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0],
            u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
            u[15]);
}

int tide__uuid5(const char *ns, const char *name, size_t name_len, char out[37])
{
    unsigned char nsb[16], md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (parse_uuid(ns, nsb))
        return tide_error_set(TIDE_EINVAL, "bad namespace uuid");
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (c == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    int ok = EVP_DigestInit_ex(c, EVP_sha1(), NULL) && EVP_DigestUpdate(c, nsb, 16) &&
             EVP_DigestUpdate(c, name, name_len) && EVP_DigestFinal_ex(c, md, &mdlen);
    EVP_MD_CTX_free(c);
    if (!ok)
        return tide_error_set(TIDE_ERROR, "sha1 failed");
    md[6] = (unsigned char)((md[6] & 0x0f) | 0x50);
    md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
    format_uuid(md, out);
    return 0;
}

int tide__uuid5_begin(tide_uuid5_ctx *u, const char *ns)
{
    unsigned char nsb[16];
    u->md = NULL;
    if (parse_uuid(ns, nsb))
        return tide_error_set(TIDE_EINVAL, "bad namespace uuid");
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (c == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    if (!EVP_DigestInit_ex(c, EVP_sha1(), NULL) || !EVP_DigestUpdate(c, nsb, 16)) {
        EVP_MD_CTX_free(c);
        return tide_error_set(TIDE_ERROR, "sha1 failed");
    }
    u->md = c;
    return 0;
}

int tide__uuid5_add(tide_uuid5_ctx *u, const void *p, size_t n)
{
    if (u->md == NULL || !EVP_DigestUpdate((EVP_MD_CTX *)u->md, p, n))
        return tide_error_set(TIDE_ERROR, "sha1 failed");
    return 0;
}

int tide__uuid5_end(tide_uuid5_ctx *u, char out[37])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (u->md == NULL)
        return tide_error_set(TIDE_ERROR, "sha1 failed");
    int ok = EVP_DigestFinal_ex((EVP_MD_CTX *)u->md, md, &mdlen);
    EVP_MD_CTX_free((EVP_MD_CTX *)u->md);
    u->md = NULL;
    if (!ok)
        return tide_error_set(TIDE_ERROR, "sha1 failed");
    md[6] = (unsigned char)((md[6] & 0x0f) | 0x50);
    md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
    format_uuid(md, out);
    return 0;
}

void tide__uuid5_abort(tide_uuid5_ctx *u)
{
    EVP_MD_CTX_free((EVP_MD_CTX *)u->md);
    u->md = NULL;
}

int tide__uuid4(char out[37])
{
    unsigned char u[16];
    if (RAND_bytes(u, sizeof(u)) != 1)
        return tide_error_set(TIDE_ERROR, "no randomness");
    u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
    u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
    format_uuid(u, out);
    return 0;
}

#ifdef __SSE2__
/* Bit i set where byte i of the 16 at p is a hex digit (bytes >= 0x80 are negative as signed
 * chars and fail both ranges). */
static unsigned hex_mask16(const char *p)
{
    __m128i c = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i l = _mm_or_si128(c, _mm_set1_epi8(0x20));
    __m128i digit = _mm_and_si128(
            _mm_cmpgt_epi8(c, _mm_set1_epi8('0' - 1)), _mm_cmpgt_epi8(_mm_set1_epi8('9' + 1), c));
    __m128i alpha = _mm_and_si128(
            _mm_cmpgt_epi8(l, _mm_set1_epi8('a' - 1)), _mm_cmpgt_epi8(_mm_set1_epi8('f' + 1), l));
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(digit, alpha));
}
#endif

bool tide__uuid_valid_n(const char *s, size_t n)
{
    if (s == NULL || n != 36)
        return false;
#ifdef __SSE2__
    /* 16 bytes at a time: this runs for every object an ingest reads, and the per-character
     * test below mispredicts its digit-or-letter branch on about every other character of a
     * random UUID (2% of a first load's time) */
    if (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
        return false;
    /* dashes at 8, 13 (first 16 bytes) and 18, 23 (bytes 16 to 31): every other byte hex */
    if (hex_mask16(s) != (0xffffu & ~((1u << 8) | (1u << 13))) ||
            hex_mask16(s + 16) != (0xffffu & ~((1u << 2) | (1u << 7))))
        return false;
    for (int i = 32; i < 36; i++) {
        unsigned c = (unsigned char)s[i];
        if (c - '0' >= 10u && (c | 0x20u) - 'a' >= 6u)
            return false;
    }
    return true;
#else
    /* the digit test inline: this runs for every object an ingest reads (a call per digit
     * was some 900 instructions per object) */
    for (int i = 0; i < 36; i++) {
        unsigned c = (unsigned char)s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (c - '0' >= 10u && (c | 0x20u) - 'a' >= 6u) {
            return false;
        }
    }
    return true;
#endif
}

bool tide__uuid_valid(const char *s)
{
    return s != NULL && tide__uuid_valid_n(s, strlen(s));
}
