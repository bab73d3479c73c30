/*
 * fuzz_assets.c - fuzz target for the asset inventory import (CSV and JSON, src/export/
 * policy.c), the policy rule parser and version comparison: all read text from outside.
 * The first byte picks the input: 'j' JSON, 'p' a policy rule, 'v' two versions, else CSV.
 * Imports go into a fresh store per process (opened once, reused).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tide.h"

static tide_store *store;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 16))
        return 0;
    char *text = malloc(size);
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    if (data[0] == 'p') {
        tide_policy_rule r;
        tide_policy_parse(text, &r);
    } else if (data[0] == 'v') {
        char *bar = strchr(text, '|');
        if (bar) {
            *bar = '\0';
            int a = tide_version_compare(text, bar + 1);
            int b = tide_version_compare(bar + 1, text);
            if ((a < 0 && b < 0) || (a > 0 && b > 0))
                abort(); /* the order must be antisymmetric */
        }
    } else {
        if (store == NULL) {
            char dir[] = "/tmp/tide-fuzz-assets-XXXXXX";
            if (mkdtemp(dir) == NULL || tide_store_open(&store, dir) < 0) {
                free(text);
                return 0;
            }
        }
        char path[] = "/tmp/tide-fuzz-assets-in-XXXXXX";
        int fd = mkstemp(path);
        if (fd >= 0) {
            FILE *f = fdopen(fd, "wb");
            if (f) {
                fwrite(data + 1, 1, size - 1, f);
                fclose(f);
                char named[64];
                snprintf(named, sizeof(named), "%s.%s", path, data[0] == 'j' ? "json" : "csv");
                if (rename(path, named) == 0) {
                    long n = 0;
                    tide_assets_import(store, named, &n);
                    unlink(named);
                } else {
                    unlink(path);
                }
            } else {
                close(fd);
                unlink(path);
            }
        }
    }
    free(text);
    return 0;
}
