/*
 * warninglist_checker.c - the public in-memory warninglist checker (tide_warninglists,
 * include/tide/warninglist.h) over the set of warninglist.c, built from entries handed to it.
 * The intel layer never reads the store: filling a checker from the store's lists, and
 * loading list files into the store, is the store layer's (src/store/store_warninglists.c).
 */
#include "intel/warninglist.h"
#include "tide/warninglist.h"
#include "util/util.h"

struct tide_warninglists {
    tide_warnlist_set *set;
};

int tide_warninglists_new_builtin(tide_warninglists **out)
{
    *out = NULL;
    tide_warninglists *wl = tide__calloc(1, sizeof(*wl));
    TIDE_CHECK_ALLOC(wl);
    int rc = tide__warnlist_set_new(&wl->set, true);
    if (rc < 0) {
        tide__free(wl);
        return rc;
    }
    *out = wl;
    return 0;
}

int tide_warninglists_add(
        tide_warninglists *wl, const char *list, const char *type, const char *value)
{
    return tide__warnlist_add(wl->set, list, type, value);
}

void tide_warninglists_free(tide_warninglists *wl)
{
    if (wl == NULL)
        return;
    tide__warnlist_set_free(wl->set);
    tide__free(wl);
}

const char *tide_warninglists_check(
        const tide_warninglists *wl, tide_obs_kind kind, const char *value)
{
    return tide__warnlist_check(wl->set, kind, value);
}
