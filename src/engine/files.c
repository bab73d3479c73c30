/*
 * files.c - the files of a folder, as every front end reads folders of logs or feeds: regular
 * files, recursively, sorted by name, hidden entries skipped.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/engine_int.h"
#include "tide/errors.h"

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(
        const char *dir, int depth, int (*cb)(const char *path, void *payload), void *payload)
{
    if (depth > 64)
        return tide_error_set(TIDE_EINVAL, "%s: folders nested too deep", dir);
    DIR *d = opendir(dir);
    if (d == NULL)
        return tide_error_set(TIDE_EIO, "%s: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            size_t c = cap ? cap * 2 : 32;
            char **v = tide__realloc(names, c * sizeof(char *));
            if (v == NULL) {
                rc = tide_error_set(TIDE_ENOMEM, "out of memory");
                break;
            }
            names = v;
            cap = c;
        }
        if ((names[n] = tide__strdup(de->d_name)) == NULL) {
            rc = tide_error_set(TIDE_ENOMEM, "out of memory");
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
    tide_buf p = TIDE_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        tide__buf_clear(&p);
        if (rc == 0 && tide__buf_put(&p, dir, dl) == 0 && tide__buf_putc(&p, '/') == 0 &&
                tide__buf_puts(&p, names[i]) == 0) {
            struct stat st;
            if (stat(p.ptr, &st) == 0) {
                if (S_ISDIR(st.st_mode)) {
                    int r = walk(p.ptr, depth + 1, cb, payload);
                    if (r != 0 && r != TIDE_EIO)
                        rc = r; /* an unreadable sub-folder is skipped, as ls -R would */
                } else if (S_ISREG(st.st_mode)) {
                    rc = cb(p.ptr, payload);
                }
            }
        }
        tide__free(names[i]);
    }
    tide__buf_free(&p);
    tide__free(names);
    return rc;
}

int tide_walk_files(const char *dir, int (*cb)(const char *path, void *payload), void *payload)
{
    return walk(dir, 0, cb, payload);
}
