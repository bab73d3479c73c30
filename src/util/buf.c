/*
 * buf.c - growable NUL-terminated byte buffer with an optional size cap (curl's dynbuf idea):
 * every buffer that holds untrusted input gets a cap so input size never drives allocation.
 */
#include <stdio.h>
#include <string.h>

#include "util/util.h"

int tide__buf_grow(tide_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (b->max && b->len + extra > b->max)
        return tide_error_set(TIDE_ETOOBIG, "buffer exceeds %zu bytes", b->max);
    if (need <= b->cap)
        return 0;
    size_t ncap = b->cap ? b->cap : 64;
    while (ncap < need)
        ncap *= 2;
    char *p = tide__realloc(b->ptr, ncap);
    TIDE_CHECK_ALLOC(p);
    b->ptr = p;
    b->cap = ncap;
    return 0;
}

int tide__buf_put(tide_buf *b, const void *data, size_t n)
{
    TIDE_CHECK(tide__buf_grow(b, n));
    if (n)
        memcpy(b->ptr + b->len, data, n);
    b->len += n;
    b->ptr[b->len] = '\0';
    return 0;
}

int tide__buf_puts(tide_buf *b, const char *s)
{
    return tide__buf_put(b, s, strlen(s));
}

int tide__buf_putc(tide_buf *b, char c)
{
    return tide__buf_put(b, &c, 1);
}

int tide__buf_printf(tide_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return tide_error_set(TIDE_EINVAL, "bad format");
    TIDE_CHECK(tide__buf_grow(b, (size_t)n));
    va_start(ap, fmt);
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void tide__buf_clear(tide_buf *b)
{
    b->len = 0;
    if (b->ptr)
        b->ptr[0] = '\0';
}

void tide__buf_free(tide_buf *b)
{
    tide__free(b->ptr);
    b->ptr = NULL;
    b->len = b->cap = 0;
}

char *tide__buf_detach(tide_buf *b)
{
    char *p = b->ptr;
    if (p == NULL)
        p = tide__strdup("");
    b->ptr = NULL;
    b->len = b->cap = 0;
    return p;
}
