/*
 * alloc.c - the library's allocation entry points. They wrap malloc so a test can make the Nth
 * allocation fail (SQLite fault.c / curl torture style) and check that no path crashes or leaks.
 */
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

static _Thread_local long fail_countdown; /* 0 = never fail */

static int should_fail(void)
{
    if (fail_countdown > 0 && --fail_countdown == 0)
        return 1;
    return 0;
}

void tide__alloc_fail_after(long n)
{
    fail_countdown = n;
}

void *tide__malloc(size_t n)
{
    if (should_fail())
        return NULL;
    return malloc(n ? n : 1);
}

void *tide__calloc(size_t n, size_t size)
{
    if (should_fail())
        return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

void *tide__realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
    return realloc(p, n ? n : 1);
}

void tide__free(void *p)
{
    free(p);
}

char *tide__strndup(const char *s, size_t n)
{
    char *d = tide__malloc(n + 1);
    if (d == NULL)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *tide__strdup(const char *s)
{
    return tide__strndup(s, strlen(s));
}
