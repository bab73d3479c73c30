/*
 * harness.h - tide's small in-house test runner (redis testhelp.h / clar style).
 *
 * Each tests/unit/test_<area>.c defines static test functions and a table:
 *
 *     static void t_parse_ok(void) { TIDE_ASSERT_EQ_INT(parse("x"), 0); }
 *     TIDE_TESTS = { {"pattern::parse_ok", t_parse_ok}, {NULL, NULL} };
 *     TIDE_TEST_MAIN
 *
 * `./test_area -s prefix` runs only the tests whose name starts with prefix. A test that needs
 * ../shared/data calls tide_test_data(); when the folder is absent it skips the test, except
 * under CI=true, where a missing folder is a failure. The last line printed is exactly
 * "N passed, N failed" (", N skipped" may follow). tide_test_tmpdir() gives a test a scratch
 * directory; they are removed at the end when every test passed (TIDE_TEST_KEEP=1 keeps them).
 */
#ifndef TIDE_TEST_HARNESS_H
#define TIDE_TEST_HARNESS_H

#include <dirent.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    const char *name;
    void (*fn)(void);
} tide_test;

static jmp_buf tide_test_jmp_;
static int tide_test_skipped_;

#define TIDE_FAIL_(...)                                                                            \
    do {                                                                                           \
        fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                                          \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        longjmp(tide_test_jmp_, 1);                                                                \
    } while (0)

#define TIDE_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond))                                                                               \
            TIDE_FAIL_("assertion failed: %s", #cond);                                             \
    } while (0)

#define TIDE_ASSERT_EQ_INT(a, b)                                                                   \
    do {                                                                                           \
        long long tide_a_ = (long long)(a), tide_b_ = (long long)(b);                              \
        if (tide_a_ != tide_b_)                                                                    \
            TIDE_FAIL_("%s == %s: %lld != %lld", #a, #b, tide_a_, tide_b_);                        \
    } while (0)

#define TIDE_ASSERT_EQ_STR(a, b)                                                                   \
    do {                                                                                           \
        const char *tide_a_ = (a), *tide_b_ = (b);                                                 \
        if (tide_a_ == NULL || tide_b_ == NULL || strcmp(tide_a_, tide_b_) != 0)                   \
            TIDE_FAIL_("%s == %s: \"%s\" != \"%s\"", #a, #b, tide_a_ ? tide_a_ : "(null)",         \
                    tide_b_ ? tide_b_ : "(null)");                                                 \
    } while (0)

/* Skip the current test with a reason (counted as skipped, not passed). */
#define TIDE_SKIP(...)                                                                             \
    do {                                                                                           \
        fprintf(stderr, "  skipped: ");                                                            \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        tide_test_skipped_ = 1;                                                                    \
        longjmp(tide_test_jmp_, 2);                                                                \
    } while (0)

/* Path of ../shared/data (env TIDE_SHARED_DATA overrides). Skips the test when absent,
 * fails when absent under CI=true. */
static inline const char *tide_test_data(void)
{
    const char *d = getenv("TIDE_SHARED_DATA");
    if (d == NULL)
        d = TIDE_SOURCE_DIR "/../shared/data";
    struct stat st;
    if (stat(d, &st) != 0 || !S_ISDIR(st.st_mode)) {
        const char *ci = getenv("CI");
        if (ci && strcmp(ci, "true") == 0)
            TIDE_FAIL_("shared data folder %s is missing (CI=true)", d);
        TIDE_SKIP("shared data folder %s is absent", d);
    }
    return d;
}

/* This process's scratch root ($TMPDIR/tide-test-XXXXXX, made by the first tide_test_tmpdir):
 * removed by TIDE_TEST_MAIN when every test passed, kept (and named) when one failed. Every run
 * of the suite left a directory per test behind before: thousands a day in /tmp. */
static char tide_test_root_[496];

/* A fresh scratch directory for a test, under the process's root. Returns a static buffer. */
static inline const char *tide_test_tmpdir(void)
{
    static char path[512];
    extern char *mkdtemp(char *);
    if (tide_test_root_[0] == '\0') {
        const char *base = getenv("TMPDIR");
        snprintf(tide_test_root_, sizeof(tide_test_root_), "%s/tide-test-XXXXXX",
                base && *base ? base : "/tmp");
        if (mkdtemp(tide_test_root_) == NULL) {
            tide_test_root_[0] = '\0';
            TIDE_FAIL_("mkdtemp failed");
        }
    }
    snprintf(path, sizeof(path), "%s/t-XXXXXX", tide_test_root_);
    if (mkdtemp(path) == NULL)
        TIDE_FAIL_("mkdtemp failed");
    return path;
}

/* Remove path and everything under it (no links followed); nftw would need _XOPEN_SOURCE,
 * which the tests' own includes do not all define. */
static void tide_test_rm_rf_(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        (void)chmod(path, 0700); /* a test that made a directory read-only */
        DIR *d = opendir(path);
        if (d) {
            for (struct dirent *e; (e = readdir(d)) != NULL;) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                    continue;
                char sub[4096];
                if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name) < sizeof(sub))
                    tide_test_rm_rf_(sub);
            }
            closedir(d);
        }
    }
    (void)remove(path);
}

/* Remove the scratch root when nothing failed; name it when something did. */
static inline void tide_test_cleanup_(int failed)
{
    if (tide_test_root_[0] == '\0')
        return;
    if (failed || getenv("TIDE_TEST_KEEP")) {
        fprintf(stderr, "scratch directories kept in %s\n", tide_test_root_);
        return;
    }
    tide_test_rm_rf_(tide_test_root_);
}

#define TIDE_TESTS static const tide_test tide_tests_[]

#define TIDE_TEST_MAIN                                                                             \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        const char *volatile prefix = NULL;                                                        \
        for (int i = 1; i < argc; i++)                                                             \
            if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)                                        \
                prefix = argv[++i];                                                                \
        volatile int passed = 0, failed = 0, skipped = 0;                                          \
        for (const tide_test *volatile t = tide_tests_; t->name; t++) {                            \
            if (prefix && strncmp(t->name, prefix, strlen(prefix)) != 0)                           \
                continue;                                                                          \
            tide_test_skipped_ = 0;                                                                \
            int r = setjmp(tide_test_jmp_);                                                        \
            if (r == 0) {                                                                          \
                t->fn();                                                                           \
                passed++;                                                                          \
                printf("ok   %s\n", t->name);                                                      \
            } else if (r == 2) {                                                                   \
                skipped++;                                                                         \
                printf("skip %s\n", t->name);                                                      \
            } else {                                                                               \
                failed++;                                                                          \
                printf("FAIL %s\n", t->name);                                                      \
            }                                                                                      \
            fflush(stdout);                                                                        \
        }                                                                                          \
        tide_test_cleanup_(failed);                                                                \
        if (skipped)                                                                               \
            printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);                 \
        else                                                                                       \
            printf("%d passed, %d failed\n", passed, failed);                                      \
        return failed ? 1 : 0;                                                                     \
    }

#endif
