/*
 * cmd_warninglist.c - `tide warninglist load|check|list`: MISP warninglists in the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "tide/warninglist.h"

static int print_entry_count(const char *name, const char *type, const char *value, void *payload)
{
    (void)value;
    const char **last = payload;
    if (last[0] == NULL || strcmp(last[0], name) != 0) {
        if (last[0])
            printf("%s\n", last[1]);
        free((void *)last[0]);
        free((void *)last[1]);
        last[0] = strdup(name);
        size_t n = strlen(name) + strlen(type) + 8;
        char *line = malloc(n);
        if (line)
            snprintf(line, n, "%s (%s)", name, type);
        last[1] = line;
    }
    return 0;
}

int cmd_warninglist(int argc, char **argv)
{
    if (argc < 2) {
        cli_usage("warninglist", stderr);
        return TIDE_EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "load") != 0 && strcmp(sub, "check") != 0 && strcmp(sub, "list") != 0) {
        cli_err("warninglist", "unknown subcommand '%s'", sub);
        return TIDE_EXIT_USAGE;
    }
    if (strcmp(sub, "list") != 0 && argc < 3) {
        cli_usage("warninglist", stderr);
        return TIDE_EXIT_USAGE;
    }
    tide_store *s = cli_open_store("warninglist");
    if (s == NULL)
        return TIDE_EXIT_STORE;
    int ret = TIDE_EXIT_OK;
    if (strcmp(sub, "load") == 0) {
        for (int i = 2; i < argc; i++) {
            long lists = 0, entries = 0;
            if (tide_warninglist_load(s, argv[i], &lists, &entries) < 0) {
                cli_err("warninglist", "%s", tide_error_last());
                ret = TIDE_EXIT_USAGE;
                continue;
            }
            printf("%s: %ld list(s), %ld entries\n", argv[i], lists, entries);
        }
    } else if (strcmp(sub, "list") == 0) {
        const char *last[2] = { NULL, NULL };
        tide_store_warninglist_entries(s, print_entry_count, last);
        if (last[1])
            printf("%s\n", last[1]);
        free((void *)last[0]);
        free((void *)last[1]);
        printf("(built-in: private, loopback, link-local, multicast, reserved and bogon ranges)\n");
    } else {
        tide_warninglists *wl = NULL;
        if (tide_warninglists_new(&wl, s) < 0) {
            cli_err("warninglist", "%s", tide_error_last());
            tide_store_free(s);
            return TIDE_EXIT_STORE;
        }
        int hits = 0;
        for (int i = 2; i < argc; i++) {
            char *ref = NULL, *norm = NULL;
            tide_obs_kind k = TIDE_OBS_NONE;
            if (tide_obs_refang(argv[i], &ref) == 0) {
                k = tide_obs_detect(ref);
                if (k != TIDE_OBS_NONE && tide_obs_normalize(k, ref, &norm) < 0)
                    k = TIDE_OBS_NONE;
            }
            const char *list = k != TIDE_OBS_NONE ? tide_warninglists_check(wl, k, norm) : NULL;
            if (list) {
                hits++;
                printf("%s\twarninglisted\t%s\n", argv[i], list);
            } else {
                printf("%s\tnot listed\n", argv[i]);
            }
            free(ref);
            free(norm);
        }
        tide_warninglists_free(wl);
        ret = hits == argc - 2 ? TIDE_EXIT_OK : TIDE_EXIT_FAIL;
    }
    tide_store_free(s);
    return ret;
}
