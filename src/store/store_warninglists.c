/*
 * store_warninglists.c - the store side of the warninglists (include/tide/warninglist.h):
 * loading MISP list.json files into the store (parsed by the intel layer's
 * tide__warnlist_parse), and filling an in-memory checker (tide_warninglists_new_builtin /
 * tide_warninglists_add, src/intel/warninglist_checker.c) from the store's lists. Here, in the
 * store layer, so that src/intel never calls the store; it uses public store functions only.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "intel/warninglist.h"
#include "tide/warninglist.h"
#include "util/util.h"

#define MAX_LIST_FILE (64u * 1024 * 1024)

typedef struct {
    char *name, *type, *description;
    char **values;
    size_t n, cap;
} list_acc;

static int acc_cb(const char *name, const char *type, const char *description, const char *value,
        void *payload)
{
    list_acc *a = payload;
    if (a->name == NULL) {
        a->name = tide__strdup(name ? name : "");
        a->type = tide__strdup(type ? type : "string");
        a->description = tide__strdup(description ? description : "");
        if (!a->name || !a->type || !a->description)
            return TIDE_ENOMEM;
    }
    if (value == NULL)
        return 0;
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 256;
        char **nv = tide__realloc(a->values, nc * sizeof(*nv));
        if (nv == NULL)
            return TIDE_ENOMEM;
        a->values = nv;
        a->cap = nc;
    }
    if ((a->values[a->n] = tide__strdup(value)) == NULL)
        return TIDE_ENOMEM;
    a->n++;
    return 0;
}

static void acc_free(list_acc *a)
{
    for (size_t i = 0; i < a->n; i++)
        tide__free(a->values[i]);
    tide__free(a->values);
    tide__free(a->name);
    tide__free(a->type);
    tide__free(a->description);
}

static int load_file(tide_store *store, const char *path, long *lists, long *entries)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return tide_error_set(TIDE_EIO, "%s: %s", path, strerror(errno));
    tide_buf b = { NULL, 0, 0, MAX_LIST_FILE };
    char chunk[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if ((rc = tide__buf_put(&b, chunk, n)) < 0)
            break;
    fclose(f);
    if (rc < 0) {
        tide__buf_free(&b);
        return tide_error_set(rc, "%s: %s", path, tide_error_last());
    }
    list_acc a = { 0 };
    rc = tide__warnlist_parse(b.ptr ? b.ptr : "", b.len, acc_cb, &a);
    tide__buf_free(&b);
    if (rc < 0) {
        char msg[600];
        snprintf(msg, sizeof(msg), "%s", tide_error_last());
        acc_free(&a);
        return tide_error_set(rc, "%s: %s", path, msg);
    }
    if (a.name == NULL) {
        acc_free(&a);
        return tide_error_set(TIDE_EPARSE, "%s: not a MISP warninglist", path);
    }
    rc = tide_store_begin(store);
    if (rc == 0)
        rc = tide_store_put_warninglist(
                store, a.name, a.type, a.description, (const char *const *)a.values, a.n);
    if (rc == 0)
        rc = tide_store_commit(store);
    else
        tide_store_rollback(store);
    if (rc == 0) {
        (*lists)++;
        *entries += (long)a.n;
    }
    acc_free(&a);
    return rc;
}

static int load_path(tide_store *store, const char *path, long *lists, long *entries, int depth)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return tide_error_set(TIDE_EIO, "%s: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return load_file(store, path, lists, entries);
    if (depth > 16)
        return 0;
    DIR *d = opendir(path);
    if (d == NULL)
        return tide_error_set(TIDE_EIO, "%s: %s", path, strerror(errno));
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        tide_buf sub = TIDE_BUF_INIT;
        if (tide__buf_printf(&sub, "%s/%s", path, e->d_name) < 0) {
            rc = TIDE_ENOMEM;
            break;
        }
        struct stat ss;
        if (stat(sub.ptr, &ss) == 0) {
            if (S_ISDIR(ss.st_mode))
                rc = load_path(store, sub.ptr, lists, entries, depth + 1);
            else if (strcmp(e->d_name, "list.json") == 0)
                rc = load_file(store, sub.ptr, lists, entries);
        }
        tide__buf_free(&sub);
    }
    closedir(d);
    return rc;
}

int tide_warninglist_load(tide_store *store, const char *path, long *out_lists, long *out_entries)
{
    long l = 0, e = 0;
    int rc = load_path(store, path, &l, &e, 0);
    if (out_lists)
        *out_lists = l;
    if (out_entries)
        *out_entries = e;
    return rc;
}

static int add_cb(const char *name, const char *type, const char *value, void *payload)
{
    /* an entry the checker cannot use (e.g. a bad regex) is skipped, not fatal */
    int rc = tide_warninglists_add(payload, name, type, value);
    return rc == TIDE_ENOMEM ? rc : 0;
}

int tide_warninglists_new(tide_warninglists **out, tide_store *store)
{
    *out = NULL;
    tide_warninglists *wl;
    TIDE_CHECK(tide_warninglists_new_builtin(&wl));
    int rc = store ? tide_store_warninglist_entries(store, add_cb, wl) : 0;
    if (rc < 0) {
        tide_warninglists_free(wl);
        return rc;
    }
    *out = wl;
    return 0;
}
