/*
 * cli_common.c - helpers shared by the CLI verbs: option parsing, usage, error printing and
 * opening the store.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"

const cli_cmd *cli_find(const char *name)
{
    for (const cli_cmd *c = cli_commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

void cli_err(const char *verb, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "tide %s: ", verb);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_usage(const char *verb, FILE *f)
{
    const cli_cmd *c = cli_find(verb);
    if (c)
        fputs(c->usage, f);
}

bool cli_wants_help(const char *verb, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cli_usage(verb, stdout);
            return true;
        }
    }
    return false;
}

int cli_opt(const char *verb, int argc, char **argv, int *i, const char *name, const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, n) != 0)
        return 0;
    if (a[2 + n] == '=') {
        *val = a + 3 + n;
        (*i)++;
        return 1;
    }
    if (a[2 + n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        cli_err(verb, "option --%s needs a value", name);
        return -1;
    }
    *val = argv[*i + 1];
    *i += 2;
    return 1;
}

int cli_flag(char **argv, int i, const char *name)
{
    return strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i] + 2, name) == 0;
}

tide_store *cli_open_store(const char *verb)
{
    tide_store *s = NULL;
    if (tide_store_open(&s, cli_store_dir) < 0) {
        cli_err(verb, "cannot open store %s: %s", cli_store_dir, tide_error_last());
        return NULL;
    }
    return s;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cli_walk_files(const char *dir, int (*cb)(const char *path, void *payload), void *payload)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            size_t c = cap ? cap * 2 : 32;
            char **v = realloc(names, c * sizeof(char *));
            if (v == NULL) {
                rc = -1;
                break;
            }
            names = v;
            cap = c;
        }
        if ((names[n] = strdup(de->d_name)) == NULL) {
            rc = -1;
            break;
        }
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof(char *), cmp_name);
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    for (size_t i = 0; i < n; i++) {
        char p[4096];
        if (rc == 0 && snprintf(p, sizeof(p), "%.*s/%s", (int)dl, dir, names[i]) < (int)sizeof(p)) {
            struct stat st;
            if (stat(p, &st) == 0) {
                if (S_ISDIR(st.st_mode))
                    rc = cli_walk_files(p, cb, payload) < 0 ? -1 : 0;
                else if (S_ISREG(st.st_mode))
                    rc = cb(p, payload);
            }
        }
        free(names[i]);
    }
    free(names);
    return rc;
}
