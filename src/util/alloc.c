/*
 * alloc.c - the library's allocation entry points. They wrap malloc so a test can make the Nth
 * allocation fail (SQLite fault.c / curl torture style) and check that no path crashes or leaks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

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

/* Ask the kernel to back a big array with transparent huge pages (2 MiB): structures that are
 * read at random (hash tables, the match index, the history aggregator) otherwise miss the TLB
 * on almost every access. Only the 2 MiB-aligned inside of [p, p + n) is advised; small
 * arrays and systems without THP are left alone. */
void tide__advise_huge(void *p, size_t n)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const uintptr_t huge = (uintptr_t)2 << 20;
    if (p == NULL || n < 2 * huge)
        return;
    uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t b = ((uintptr_t)p + n) & ~(huge - 1);
    if (b > a)
        (void)madvise((void *)a, b - a, MADV_HUGEPAGE);
#else
    (void)p;
    (void)n;
#endif
}
