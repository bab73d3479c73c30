/*
 * cmd_assets.c - `tide assets import FILE... | list [--json]`: the asset inventory (host,
 * addresses, hostname, owner, criticality, software with versions) that policy exports and
 * case tiering use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "tide/export.h"

static int print_asset(const tide_asset *a, void *payload)
{
    json_t *arr = payload;
    if (arr) {
        json_t *ips = json_array(), *sw = json_array();
        for (size_t i = 0; i < a->nips; i++)
            json_array_append_new(ips, json_string(a->ips[i]));
        for (size_t i = 0; i < a->nsoftware; i++)
            json_array_append_new(sw, json_pack("{s:s, s:s}", "name", a->software[i].name,
                                              "version", a->software[i].version));
        json_t *o = json_pack("{s:s, s:o, s:o}", "host", a->host, "ips", ips, "software", sw);
        if (a->hostname)
            json_object_set_new(o, "hostname", json_string(a->hostname));
        if (a->owner)
            json_object_set_new(o, "owner", json_string(a->owner));
        if (a->criticality)
            json_object_set_new(o, "criticality", json_string(a->criticality));
        json_array_append_new(arr, o);
        return 0;
    }
    printf("%s\t", a->host);
    for (size_t i = 0; i < a->nips; i++)
        printf("%s%s", i ? ";" : "", a->ips[i]);
    printf("\t%s\t%s\t%s\t", a->hostname ? a->hostname : "-", a->owner ? a->owner : "-",
            a->criticality ? a->criticality : "-");
    for (size_t i = 0; i < a->nsoftware; i++)
        printf("%s%s %s", i ? ";" : "", a->software[i].name, a->software[i].version);
    printf("\n");
    return 0;
}

int cmd_assets(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "import") != 0 && strcmp(argv[1], "list") != 0)) {
        cli_usage("assets", stderr);
        return TIDE_EXIT_USAGE;
    }
    bool import = strcmp(argv[1], "import") == 0;
    bool json = argc > 2 && cli_flag(argv, 2, "json");
    if ((import && argc < 3) || (!import && argc > 2 + (int)json)) {
        cli_usage("assets", stderr);
        return TIDE_EXIT_USAGE;
    }
    tide_workspace *ws = cli_open_workspace("assets");
    if (ws == NULL)
        return TIDE_EXIT_STORE;
    tide_store *s = tide_workspace_store(ws);
    int ret = TIDE_EXIT_OK;
    if (import) {
        for (int i = 2; i < argc; i++) {
            long n = 0;
            int failed = 0;
            /* then the policy exports declared (tide export --target, a case's lessons) follow */
            int rc = tide_workspace_assets_import(
                    ws, argv[i], &n, cli_print_target, NULL, NULL, &failed);
            if (rc < 0 && failed == 0) {
                cli_err("assets", "%s", tide_error_last());
                ret = rc == TIDE_ESTORE ? TIDE_EXIT_STORE : TIDE_EXIT_USAGE;
                continue;
            }
            if (failed)
                ret = TIDE_EXIT_STORE;
            printf("%s: %ld asset(s) imported\n", argv[i], n);
        }
    } else {
        json_t *arr = json ? json_array() : NULL;
        if (tide_store_each_asset(s, print_asset, arr) < 0) {
            cli_err("assets", "%s", tide_error_last());
            ret = TIDE_EXIT_STORE;
        } else if (arr) {
            char *t = json_dumps(arr, JSON_INDENT(2));
            if (t)
                printf("%s\n", t);
            free(t);
        }
        json_decref(arr);
    }
    tide_workspace_free(ws);
    return ret;
}
