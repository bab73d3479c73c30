/*
 * cmd_ingest.c - `tide ingest`: load feeds into the store through an ingest run of the engine
 * (which retro-hunts what changed), reporting bad records with their place and a summary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static long errors_printed;

static void on_error(
        const char *file, long line, long long offset, const char *reason, void *payload)
{
    (void)payload;
    cli_progress_clear();
    if (++errors_printed > 200) {
        if (errors_printed == 201)
            fprintf(stderr, "tide ingest: more errors not shown\n");
        return;
    }
    if (file == NULL || (line <= 0 && offset < 0 && strncmp(reason, file, strlen(file)) == 0))
        fprintf(stderr, "%s\n", reason);
    else if (line > 0 && offset >= 0)
        fprintf(stderr, "%s:%ld (byte %lld): %s\n", file, line, offset, reason);
    else if (line > 0)
        fprintf(stderr, "%s:%ld: %s\n", file, line, reason);
    else if (offset >= 0)
        fprintf(stderr, "%s@%lld: %s\n", file, offset, reason);
    else
        fprintf(stderr, "%s: %s\n", file, reason);
}

int cmd_ingest(int argc, char **argv)
{
    tide_ingest_run_opts ro;
    tide_ingest_run_opts_init(&ro);
    ro.on_error = on_error;
    ro.on_export = cli_print_target; /* declared export targets regenerated at the end */
    tide_ingest_opts opts = { .confidence = -1 };
    int fmt = TIDE_FMT_AUTO;
    bool as_json = false;
    bool no_hunt = false;
    int first_path = 0;
    char **paths = calloc((size_t)argc, sizeof(char *));
    int npaths = 0;
    if (paths == NULL)
        return TIDE_EXIT_STORE;
    for (int i = 1; i < argc;) {
        const char *v;
        int r;
        if (strcmp(argv[i], "--") == 0) {
            for (i++; i < argc; i++)
                paths[npaths++] = argv[i];
            break;
        }
        if ((r = cli_opt("ingest", argc, argv, &i, "format", &v))) {
            if (r < 0 || (fmt = tide_feed_format_from_name(v)) < 0) {
                if (r > 0)
                    cli_err("ingest",
                            "unknown format '%s' (auto, stix, misp, misp-feed, csv, list)", v);
                free(paths);
                return TIDE_EXIT_USAGE;
            }
            continue;
        }
        if ((r = cli_opt("ingest", argc, argv, &i, "source", &opts.source)) ||
                (r = cli_opt("ingest", argc, argv, &i, "tlp", &opts.tlp)) ||
                (r = cli_opt("ingest", argc, argv, &i, "family", &opts.family)) ||
                (r = cli_opt("ingest", argc, argv, &i, "columns", &opts.csv_columns))) {
            if (r < 0) {
                free(paths);
                return TIDE_EXIT_USAGE;
            }
            continue;
        }
        if ((r = cli_opt("ingest", argc, argv, &i, "confidence", &v))) {
            char *end;
            long n = r > 0 ? strtol(v, &end, 10) : -1;
            if (r < 0 || *end || n < 0 || n > 100) {
                cli_err("ingest", "--confidence takes 0-100");
                free(paths);
                return TIDE_EXIT_USAGE;
            }
            opts.confidence = (int)n;
            continue;
        }
        if ((r = cli_opt("ingest", argc, argv, &i, "batch", &v))) {
            char *end;
            long n = r > 0 ? strtol(v, &end, 10) : -1;
            if (r < 0 || *end || n < 1) {
                cli_err("ingest", "--batch takes a positive number of objects");
                free(paths);
                return TIDE_EXIT_USAGE;
            }
            opts.batch = n;
            continue;
        }
        if ((r = cli_opt("ingest", argc, argv, &i, "reliability", &v))) {
            if (r < 0 || strlen(v) != 1 || !strchr("ABCDEFabcdef", v[0])) {
                cli_err("ingest", "--reliability takes one letter A-F");
                free(paths);
                return TIDE_EXIT_USAGE;
            }
            opts.reliability = (char)(v[0] & ~0x20);
            continue;
        }
        if (cli_flag(argv, i, "json")) {
            as_json = true;
            i++;
            continue;
        }
        if (cli_flag(argv, i, "no-hunt")) { /* skip the retro-hunt of changed indicators */
            no_hunt = true;
            i++;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            cli_err("ingest", "unknown option '%s'", argv[i]);
            free(paths);
            return TIDE_EXIT_USAGE;
        }
        paths[npaths++] = argv[i++];
    }
    (void)first_path;
    if (npaths == 0) {
        cli_usage("ingest", stderr);
        free(paths);
        return TIDE_EXIT_USAGE;
    }
    if (opts.tlp && tide_tlp_parse(opts.tlp) < 0) {
        cli_err("ingest", "unknown TLP '%s' (clear, green, amber, amber+strict, red)", opts.tlp);
        free(paths);
        return TIDE_EXIT_USAGE;
    }
    if (tide_ingest_opts_check(&opts) < 0) { /* --source, --family not UTF-8 */
        cli_err("ingest", "--%s", tide_error_last());
        free(paths);
        return TIDE_EXIT_USAGE;
    }
    tide_workspace *ws = cli_open_workspace("ingest");
    if (ws == NULL) {
        free(paths);
        return TIDE_EXIT_STORE;
    }
    ro.ingest = opts;
    ro.no_hunt = no_hunt;
    tide_ingest_run *run = NULL;
    int ret = TIDE_EXIT_OK;
    if (tide_ingest_run_new(&run, ws, &ro) < 0) {
        cli_err("ingest", "%s", tide_error_last());
        tide_workspace_free(ws);
        free(paths);
        return TIDE_EXIT_STORE;
    }
    tide_ingest_run_expect(run, (const char *const *)paths, (size_t)npaths);
    for (int i = 0; i < npaths; i++) {
        int rc = tide_ingest_run_path(run, paths[i], (tide_feed_format)fmt);
        if (rc < 0) {
            const char *m = tide_error_last();
            if (strncmp(m, paths[i], strlen(paths[i])) == 0)
                fprintf(stderr, "tide ingest: %s\n", m);
            else
                fprintf(stderr, "tide ingest: %s: %s\n", paths[i], m);
            if (rc == TIDE_ESTORE || rc == TIDE_ENOMEM) {
                ret = TIDE_EXIT_STORE;
                break;
            }
            ret = TIDE_EXIT_USAGE;
        }
    }
    /* the run hunts the added / changed indicators back through history (SPEC C3) */
    tide_ingest_result res;
    if (tide_ingest_run_finish(run, &res) < 0) {
        cli_err("ingest", "%s", tide_error_last());
        ret = TIDE_EXIT_STORE;
    }
    cli_print_hunt(&res);
    if (res.exports_failed && ret == TIDE_EXIT_OK)
        ret = TIDE_EXIT_STORE; /* a blocklist that could not be written: tide export --status */
    tide_ingest_run_free(run);
    tide_workspace_free(ws);
    const tide_ingest_stats st = res.ingest;
    if (ret == TIDE_EXIT_OK && st.rejected > 0)
        ret = TIDE_EXIT_FAIL;
    if (as_json)
        printf("{\"files\":%ld,\"records\":%ld,\"stored\":%ld,\"unchanged\":%ld,"
               "\"rejected\":%ld,\"indicators\":%ld}\n",
                st.files, st.records, st.stored, st.unchanged, st.rejected, st.indicators);
    else
        fprintf(stderr,
                "ingested %ld file(s): %ld records, %ld stored (%ld indicators), %ld unchanged, "
                "%ld rejected\n",
                st.files, st.records, st.stored, st.indicators, st.unchanged, st.rejected);
    free(paths);
    return ret;
}
