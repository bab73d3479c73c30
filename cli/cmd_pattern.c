/*
 * cmd_pattern.c - `tide pattern validate|match`: check a STIX pattern, or evaluate it against
 * observed data from a file. Exit codes: validate 0 valid / 1 invalid / 2 usage; match 0 match /
 * 1 no match / 2 pattern, data or usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

#define MAX_DATA_FILE (256L * 1024 * 1024)

static char *read_file(const char *path, size_t *out_len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
        if (n == cap) {
            if ((long)cap >= MAX_DATA_FILE) {
                free(buf);
                buf = NULL;
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    if (f != stdin)
        fclose(f);
    *out_len = n;
    return buf;
}

int cmd_pattern(int argc, char **argv)
{
    const char *verb = "pattern";
    if (cli_wants_help(verb, argc, argv))
        return TIDE_EXIT_OK;
    if (argc < 2) {
        cli_usage(verb, stderr);
        return TIDE_EXIT_USAGE;
    }
    const char *sub = argv[1];
    bool match = strcmp(sub, "match") == 0;
    if (!match && strcmp(sub, "validate") != 0) {
        cli_err(verb, "unknown subcommand '%s' (validate or match)", sub);
        return TIDE_EXIT_USAGE;
    }
    tide_stix_version v = TIDE_STIX_21;
    const char *pos[2] = { NULL, NULL };
    int npos = 0;
    bool only_pos = false;
    for (int i = 2; i < argc;) {
        const char *val = NULL;
        int r = only_pos ? 0 : cli_opt(verb, argc, argv, &i, "stix-version", &val);
        if (r < 0)
            return TIDE_EXIT_USAGE;
        if (r == 1) {
            if (strcmp(val, "2.1") == 0 || strcmp(val, "21") == 0)
                v = TIDE_STIX_21;
            else if (strcmp(val, "2.0") == 0 || strcmp(val, "20") == 0)
                v = TIDE_STIX_20;
            else {
                cli_err(verb, "unknown STIX version '%s' (2.0 or 2.1)", val);
                return TIDE_EXIT_USAGE;
            }
            continue;
        }
        if (!only_pos && strcmp(argv[i], "--") == 0) {
            only_pos = true;
            i++;
            continue;
        }
        if (npos >= (match ? 2 : 1)) {
            cli_err(verb, "unexpected argument '%s'", argv[i]);
            return TIDE_EXIT_USAGE;
        }
        pos[npos++] = argv[i++];
    }
    if (npos != (match ? 2 : 1)) {
        cli_usage(verb, stderr);
        return TIDE_EXIT_USAGE;
    }
    char err[512];
    tide_pattern *p = NULL;
    int rc = tide_pattern_parse(&p, pos[0], v, err, sizeof(err));
    if (rc < 0) {
        cli_err(verb, "invalid pattern at %s", err[0] ? err : tide_error_last());
        return match ? TIDE_EXIT_USAGE : TIDE_EXIT_FAIL;
    }
    if (!match) {
        tide_pattern_free(p);
        return TIDE_EXIT_OK;
    }
    size_t len = 0;
    char *data = read_file(pos[1], &len);
    if (data == NULL) {
        cli_err(verb, "cannot read %s (missing, unreadable or larger than %ld bytes)", pos[1],
                MAX_DATA_FILE);
        tide_pattern_free(p);
        return TIDE_EXIT_USAGE;
    }
    bool matched = false;
    rc = tide_pattern_match_json(p, data, len, &matched, err, sizeof(err));
    free(data);
    tide_pattern_free(p);
    if (rc < 0) {
        cli_err(verb, "%s: %s", pos[1], err[0] ? err : tide_error_last());
        return TIDE_EXIT_USAGE;
    }
    printf("%s\n", matched ? "match" : "no match");
    return matched ? TIDE_EXIT_OK : TIDE_EXIT_FAIL;
}
