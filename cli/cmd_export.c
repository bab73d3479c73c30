/*
 * cmd_export.c - `tide export`: parses the options and runs tide_export_run (include/
 * tide/export.h); prints the summary of what was written and what was left out, and why, on
 * stderr (--explain lists each left-out value).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

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

typedef struct {
    tide_export_opts o;
    const char *fmt;
    bool explain, quiet, json;
} export_args;

/* the export options from argv[i..]; returns 0 or an exit code */
static int parse_args(int argc, char **argv, int i, export_args *a)
{
    tide_export_opts_init(&a->o);
    tide_export_opts *o = &a->o;
    while (i < argc) {
        const char *v;
        int r;
#define OPT(name, code)                                                                            \
    if ((r = cli_opt("export", argc, argv, &i, name, &v)) != 0) {                                  \
        if (r < 0)                                                                                 \
            return TIDE_EXIT_USAGE;                                                                \
        code;                                                                                      \
        continue;                                                                                  \
    }
        OPT("format", a->fmt = v)
        OPT("min-score", {
            char *end;
            o->min_score = strtod(v, &end);
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
            o->min_confidence = (int)n;
        })
        OPT("types", o->types = v)
        OPT("tlp-max", o->tlp_max = v)
        OPT("source", o->source = v)
        OPT("related", o->related = v)
        OPT("since", {
            if (tide_time_parse(v, &o->since) < 0) {
                cli_err("export", "--since: '%s' is not a time (RFC 3339, date, or 90d)", v);
                return TIDE_EXIT_USAGE;
            }
        })
        OPT("output", o->output = v)
        OPT("action", o->action = v)
        OPT("zone", o->zone = v)
        OPT("policy", o->policy = v)
        OPT("allow-categories", o->categories = v)
        OPT("allow", o->allow = v)
#undef OPT
        if (cli_flag(argv, i, "incremental")) {
            o->incremental = true;
            i++;
        } else if (cli_flag(argv, i, "explain")) {
            a->explain = true;
            i++;
        } else if (cli_flag(argv, i, "quiet")) {
            a->quiet = true;
            i++;
        } else if (cli_flag(argv, i, "json")) {
            a->json = true;
            i++;
        } else {
            cli_err("export", "unknown argument '%s'", argv[i]);
            cli_usage("export", stderr);
            return TIDE_EXIT_USAGE;
        }
    }
    if (a->fmt == NULL) {
        cli_err("export", "--format is required");
        cli_usage("export", stderr);
        return TIDE_EXIT_USAGE;
    }
    if ((o->format = tide_export_format_from_name(a->fmt)) < 0) {
        char names[256] = "";
        size_t n = 0;
        for (int f = 0; f < TIDE_EXPORT__COUNT && n < sizeof(names); f++)
            n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", f ? ", " : "",
                    tide_export_format_name(f));
        cli_err("export", "unknown format '%s' (%s)", a->fmt, names);
        return TIDE_EXIT_USAGE;
    }
    return 0;
}

static int exit_of(int rc)
{
    return rc == TIDE_EINVAL || rc == TIDE_EPARSE || rc == TIDE_EUNSUPPORTED ||
                           rc == TIDE_EEXISTS || rc == TIDE_ENOTFOUND
                   ? TIDE_EXIT_USAGE
                   : TIDE_EXIT_STORE;
}

/* --status: the declared targets (after writing those due), as text or JSON */
static int print_targets(tide_workspace *ws, bool json)
{
    char *text = NULL;
    int rc = tide_workspace_targets_json(ws, &text);
    if (rc < 0) {
        cli_err("export", "%s", tide_error_last());
        return exit_of(rc);
    }
    if (json) {
        printf("%s\n", text);
        free(text);
        return TIDE_EXIT_OK;
    }
    json_t *a = json_loads(text, 0, NULL);
    free(text);
    size_t i;
    json_t *t;
    if (json_array_size(a) == 0)
        printf("no export targets declared (tide export --target add NAME --format F "
               "--output P)\n");
    json_array_foreach(a, i, t)
    {
        json_t *st = json_object_get(t, "status");
#define S(o, k)                                                                                    \
    (json_string_value(json_object_get(o, k)) ? json_string_value(json_object_get(o, k)) : "-")
        printf("%s\t%s\t%s%s\n", S(t, "name"), S(t, "format"), S(t, "output"),
                json_is_true(json_object_get(t, "incremental")) ? " (incremental)" : "");
        const char *filters[] = { "types", "tlp_max", "source", "related", "action", "zone",
            "policy", "categories", "allow" };
        printf("  min score %g", json_number_value(json_object_get(t, "min_score")));
        for (size_t k = 0; k < sizeof(filters) / sizeof(*filters); k++)
            if (json_object_get(t, filters[k]))
                printf(", %s %s", filters[k], S(t, filters[k]));
        printf("\n");
        if (json_object_get(st, "last_written"))
            printf("  last written %s (%s): %lld entries, %lld added, %lld removed\n",
                    S(st, "last_written"), S(st, "trigger"),
                    (long long)json_integer_value(json_object_get(st, "entries")),
                    (long long)json_integer_value(json_object_get(st, "added")),
                    (long long)json_integer_value(json_object_get(st, "removed")));
        printf("  last checked %s; next change by time alone %s\n", S(st, "last_checked"),
                S(st, "next_change"));
        if (json_object_get(st, "error"))
            printf("  FAILED %s: %s\n", S(st, "error_at"), S(st, "error"));
#undef S
    }
    json_decref(a);
    return TIDE_EXIT_OK;
}

static int targets_cmd(int argc, char **argv)
{
    const char *what = argv[1];
    bool json = false;
    for (int i = 2; i < argc; i++)
        if (cli_flag(argv, i, "json"))
            json = true;
    if (strcmp(what, "--status") == 0 || strcmp(what, "--refresh") == 0) {
        bool force = what[2] == 'r';
        const char *only = NULL;
        for (int i = 2; i < argc; i++) {
            if (cli_flag(argv, i, "json"))
                continue;
            if (only == NULL && force && argv[i][0] != '-') {
                only = argv[i];
                continue;
            }
            cli_err("export", "%s: unknown argument '%s'", what, argv[i]);
            return TIDE_EXIT_USAGE;
        }
        tide_workspace *ws = cli_open_workspace("export");
        if (ws == NULL)
            return TIDE_EXIT_STORE;
        int written = 0, failed = 0;
        int rc = tide_workspace_targets_refresh(
                ws, force, only, json ? NULL : cli_print_target, NULL, &written, &failed);
        int ex = TIDE_EXIT_OK;
        if (rc < 0 && failed == 0) {
            cli_err("export", "%s", tide_error_last());
            ex = exit_of(rc);
        } else {
            ex = print_targets(ws, json);
            if (failed)
                ex = TIDE_EXIT_STORE;
        }
        tide_workspace_free(ws);
        return ex;
    }
    /* --target add NAME [options] | list [--json] | remove NAME */
    if (argc < 3) {
        cli_err("export", "--target add NAME --format F [filters] --output P | list | remove NAME");
        return TIDE_EXIT_USAGE;
    }
    const char *sub = argv[2];
    tide_workspace *ws = NULL;
    int ex = TIDE_EXIT_OK, rc = 0;
    if (strcmp(sub, "list") == 0) {
        for (int i = 3; i < argc; i++)
            if (!cli_flag(argv, i, "json")) {
                cli_err("export", "--target list: unknown argument '%s'", argv[i]);
                return TIDE_EXIT_USAGE;
            }
        if ((ws = cli_open_workspace("export")) == NULL)
            return TIDE_EXIT_STORE;
        ex = print_targets(ws, json);
    } else if ((strcmp(sub, "add") == 0 || strcmp(sub, "remove") == 0) && argc >= 4 &&
               argv[3][0] != '-') {
        const char *name = argv[3];
        export_args a = { 0 };
        if (sub[0] == 'a' && (ex = parse_args(argc, argv, 4, &a)) != 0)
            return ex;
        if (sub[0] == 'r' && argc > 4) {
            cli_err("export", "--target remove NAME: unknown argument '%s'", argv[4]);
            return TIDE_EXIT_USAGE;
        }
        if ((ws = cli_open_workspace("export")) == NULL)
            return TIDE_EXIT_STORE;
        if (sub[0] == 'a')
            rc = tide_workspace_target_add(ws, name, &a.o, a.quiet ? NULL : cli_print_target, NULL);
        else
            rc = tide_workspace_target_remove(ws, name);
        if (rc < 0) {
            cli_err("export", "%s", tide_error_last());
            ex = exit_of(rc);
        } else if (sub[0] == 'r' && !a.quiet) {
            fprintf(stderr, "tide export: target %s removed (its output stays)\n", name);
        }
    } else {
        cli_err("export", "--target add NAME --format F [filters] --output P | list | remove NAME");
        return TIDE_EXIT_USAGE;
    }
    tide_workspace_free(ws);
    return ex;
}

int cmd_export(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--target") == 0 || strcmp(argv[1], "--status") == 0 ||
                             strcmp(argv[1], "--refresh") == 0))
        return targets_cmd(argc, argv);
    export_args a = { 0 };
    int ex = parse_args(argc, argv, 1, &a);
    if (ex != 0)
        return ex;
    tide_export_opts o = a.o;
    const char *fmt = a.fmt;
    bool explain = a.explain, quiet = a.quiet;
    tide_workspace *ws = cli_open_workspace("export");
    if (ws == NULL)
        return TIDE_EXIT_STORE;
    o.decay = tide_workspace_decay(ws); /* STATE/decay.json and --decay */
    tide_export_summary sum;
    int rc = tide_workspace_export(ws, &o, stdout, &sum, explain ? explain_cb : NULL, NULL);
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
        for (int k = 1; k < TIDE_OBS__COUNT; k++)
            if (sum.unsupported[k])
                fprintf(stderr, "  %ld %s unsupported by %s%s\n", sum.unsupported[k],
                        tide_obs_kind_name((tide_obs_kind)k), fmt,
                        tide_export_format_supports(o.format, (tide_obs_kind)k) ? " (values)"
                        : k == TIDE_OBS_IP_PORT ? ": it cannot carry a port"
                                                : "");
    }
    return TIDE_EXIT_OK;
}
