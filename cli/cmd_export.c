/*
 * cmd_export.c - `tide export`: parses the options and runs tide_export_run (include/
 * tide/export.h); prints the summary of what was written and what was left out, and why, on
 * stderr (--explain lists each left-out value).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "tide/engine.h"
#include "tide/export.h"

static void explain_cb(int reason, tide_obs_kind kind, const char *value, const char *detail,
        const char *id, void *payload)
{
    (void)payload;
    fprintf(stderr, "left out: %s (%s): %s%s%s [%s]\n", value, tide_obs_kind_name(kind),
            tide_export_skip_name(reason), detail ? ": " : "", detail ? detail : "", id);
}

int cmd_export(int argc, char **argv)
{
    tide_export_opts o;
    tide_export_opts_init(&o);
    const char *fmt = NULL;
    bool explain = false, quiet = false;
    for (int i = 1; i < argc;) {
        const char *v;
        int r;
#define OPT(name, code)                                                                            \
    if ((r = cli_opt("export", argc, argv, &i, name, &v)) != 0) {                                  \
        if (r < 0)                                                                                 \
            return TIDE_EXIT_USAGE;                                                                \
        code;                                                                                      \
        continue;                                                                                  \
    }
        OPT("format", fmt = v)
        OPT("min-score", {
            char *end;
            o.min_score = strtod(v, &end);
            if (*end || end == v) {
                cli_err("export", "--min-score: '%s' is not a number", v);
                return TIDE_EXIT_USAGE;
            }
        })
        OPT("min-confidence", {
            char *end;
            long n = strtol(v, &end, 10);
            if (*end || end == v || n < 0 || n > 100) {
                cli_err("export", "--min-confidence: '%s' is not 0-100", v);
                return TIDE_EXIT_USAGE;
            }
            o.min_confidence = (int)n;
        })
        OPT("types", o.types = v)
        OPT("tlp-max", o.tlp_max = v)
        OPT("source", o.source = v)
        OPT("related", o.related = v)
        OPT("since", {
            if (tide_time_parse(v, &o.since) < 0) {
                cli_err("export", "--since: '%s' is not a time (RFC 3339, date, or 90d)", v);
                return TIDE_EXIT_USAGE;
            }
        })
        OPT("output", o.output = v)
        OPT("action", o.action = v)
        OPT("zone", o.zone = v)
        OPT("policy", o.policy = v)
        OPT("allow-categories", o.categories = v)
        OPT("allow", o.allow = v)
#undef OPT
        if (cli_flag(argv, i, "incremental")) {
            o.incremental = true;
            i++;
        } else if (cli_flag(argv, i, "explain")) {
            explain = true;
            i++;
        } else if (cli_flag(argv, i, "quiet")) {
            quiet = true;
            i++;
        } else {
            cli_err("export", "unknown argument '%s'", argv[i]);
            cli_usage("export", stderr);
            return TIDE_EXIT_USAGE;
        }
    }
    if (fmt == NULL) {
        cli_err("export", "--format is required");
        cli_usage("export", stderr);
        return TIDE_EXIT_USAGE;
    }
    if ((o.format = tide_export_format_from_name(fmt)) < 0) {
        char names[256] = "";
        size_t n = 0;
        for (int f = 0; f < TIDE_EXPORT__COUNT && n < sizeof(names); f++)
            n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", f ? ", " : "",
                    tide_export_format_name(f));
        cli_err("export", "unknown format '%s' (%s)", fmt, names);
        return TIDE_EXIT_USAGE;
    }
    tide_workspace *ws = cli_open_workspace("export");
    if (ws == NULL)
        return TIDE_EXIT_STORE;
    o.decay = tide_workspace_decay(ws); /* STATE/decay.json and --decay */
    tide_export_summary sum;
    int rc = tide_export_run(
            tide_workspace_store(ws), &o, stdout, &sum, explain ? explain_cb : NULL, NULL);
    tide_workspace_free(ws);
    if (rc < 0) {
        cli_err("export", "%s", tide_error_last());
        return rc == TIDE_EINVAL || rc == TIDE_EPARSE || rc == TIDE_EUNSUPPORTED ? TIDE_EXIT_USAGE
                                                                                 : TIDE_EXIT_STORE;
    }
    if (quiet)
        return TIDE_EXIT_OK;
    fprintf(stderr, "tide export: %s: %ld entries written from %ld observables", fmt, sum.written,
            sum.considered);
    if (o.format == TIDE_EXPORT_RPZ && o.policy == NULL)
        fprintf(stderr, ", serial %lld", (long long)sum.serial);
    if (sum.incremental)
        fprintf(stderr, "; incremental: %ld added, %ld removed", sum.added, sum.removed);
    fputc('\n', stderr);
    long left = 0;
    for (int r = 0; r < TIDE_EXPORT_SKIP__COUNT; r++)
        left += sum.skipped[r];
    if (left) {
        fprintf(stderr, "left out %ld:", left);
        for (int r = 0; r < TIDE_EXPORT_SKIP__COUNT; r++)
            if (sum.skipped[r])
                fprintf(stderr, " %ld %s;", sum.skipped[r], tide_export_skip_name(r));
        fputc('\n', stderr);
        for (int i = 0; i < sum.nlists; i++)
            fprintf(stderr, "  %ld on %s\n", sum.lists[i].count, sum.lists[i].name);
    }
    return TIDE_EXIT_OK;
}
