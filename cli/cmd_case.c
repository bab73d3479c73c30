/*
 * cmd_case.c - `tide case` (open, list, show, plan, refresh, host, lessons, close, share) and
 * `tide metrics`: response and recovery (SPEC C4, C5) over include/tide/cases.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "tide/cases.h"

static int fail(const char *verb, int rc)
{
    cli_err(verb, "%s", tide_error_last());
    if (rc == TIDE_ESTORE || rc == TIDE_EIO)
        return TIDE_EXIT_STORE;
    return TIDE_EXIT_USAGE;
}

static int parse_id(const char *verb, const char *s, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = s ? strtoll(s, &end, 10) : 0;
    if (s == NULL || *s == '\0' || *end != '\0' || errno || v <= 0) {
        cli_err(verb, "case id expected, got '%s'", s ? s : "");
        return -1;
    }
    *out = v;
    return 0;
}

typedef struct {
    bool json, markdown, no_hunt;
    const char *policy, *now, *sighting, *host, *indicator, *state, *by, *note, *file, *tlp_max,
            *output, *tlp, *min_score, *since;
    const char *pos[4];
    int npos;
    tide_case_opts o;
} args;

static int parse_args(const char *verb, int argc, char **argv, int start, args *a)
{
    for (int i = start; i < argc;) {
        int r;
        const char **slots[] = { &a->policy, &a->now, &a->sighting, &a->host, &a->indicator,
            &a->state, &a->by, &a->note, &a->file, &a->tlp_max, &a->output, &a->tlp, &a->min_score,
            &a->since };
        const char *names[] = { "policy", "now", "sighting", "host", "indicator", "state", "by",
            "note", "file", "tlp-max", "output", "tlp", "min-score", "since" };
        bool matched = false;
        for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
            r = cli_opt(verb, argc, argv, &i, names[k], slots[k]);
            if (r < 0)
                return -1;
            if (r > 0) {
                matched = true;
                break;
            }
        }
        if (matched)
            continue;
        if (cli_flag(argv, i, "json")) {
            a->json = true;
        } else if (cli_flag(argv, i, "markdown")) {
            a->markdown = true;
        } else if (cli_flag(argv, i, "no-hunt")) {
            a->no_hunt = true;
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            cli_err(verb, "unknown option '%s'", argv[i]);
            return -1;
        } else if (a->npos < 4) {
            a->pos[a->npos++] = argv[i];
        } else {
            cli_err(verb, "too many arguments");
            return -1;
        }
        i++;
    }
    a->o.policy_path = a->policy;
    a->o.no_hunt = a->no_hunt;
    if (a->now && tide_time_parse(a->now, &a->o.now_ms) < 0) {
        cli_err(verb, "--now: %s", tide_error_last());
        return -1;
    }
    return 0;
}

static int print_free(char *s)
{
    fputs(s, stdout);
    if (*s && s[strlen(s) - 1] != '\n')
        fputc('\n', stdout);
    free(s);
    return TIDE_EXIT_OK;
}

static int show_text(tide_store *s, int64_t id)
{
    char *js = NULL;
    int rc = tide_case_show_markdown(s, id, &js);
    if (rc < 0)
        return fail("case", rc);
    return print_free(js);
}

int cmd_case(int argc, char **argv)
{
    const char *verb = "case";
    if (argc < 2) {
        cli_usage(verb, stderr);
        return TIDE_EXIT_USAGE;
    }
    const char *sub = argv[1];
    args a = { 0 };
    if (parse_args(verb, argc, argv, 2, &a) < 0)
        return TIDE_EXIT_USAGE;
    int64_t id = 0;
    bool needs_id =
            strcmp(sub, "open") != 0 && strcmp(sub, "list") != 0 && strcmp(sub, "auto") != 0;
    if (needs_id && (a.npos < 1 || parse_id(verb, a.pos[0], &id) < 0))
        return TIDE_EXIT_USAGE;
    if (strcmp(sub, "open") && strcmp(sub, "list") && strcmp(sub, "show") && strcmp(sub, "auto") &&
            strcmp(sub, "plan") && strcmp(sub, "refresh") && strcmp(sub, "host") &&
            strcmp(sub, "lessons") && strcmp(sub, "close") && strcmp(sub, "share")) {
        cli_err(verb, "unknown subcommand '%s' (see 'tide case --help')", sub);
        return TIDE_EXIT_USAGE;
    }
    tide_workspace *ws = cli_open_workspace(verb);
    if (ws == NULL)
        return TIDE_EXIT_STORE;
    tide_workspace_case_opts(ws, &a.o);
    tide_store *s = tide_workspace_store(ws);
    int rc = 0, ex = TIDE_EXIT_OK;
    char *out = NULL;
    if (strcmp(sub, "open") == 0) {
        int64_t sid = 0;
        if (a.sighting && parse_id(verb, a.sighting, &sid) < 0) {
            ex = TIDE_EXIT_USAGE;
            goto done;
        }
        if (!a.sighting && (!a.host || !a.indicator)) {
            cli_err(verb, "open needs --sighting ID, or --host H and --indicator V");
            ex = TIDE_EXIT_USAGE;
            goto done;
        }
        bool existed = false;
        rc = tide_case_open(s, &a.o, sid, a.host, a.indicator, &id, &existed);
        if (rc < 0) {
            ex = fail(verb, rc);
            goto done;
        }
        if (a.json)
            printf("{\"id\":%lld,\"existing\":%s}\n", (long long)id, existed ? "true" : "false");
        else
            printf("%lld\n", (long long)id);
        if (!a.json)
            fprintf(stderr, "tide case: %s case %lld\n",
                    existed ? "already covered by open" : "opened", (long long)id);
    } else if (strcmp(sub, "auto") == 0) {
        char *end = NULL;
        long ms = a.min_score ? strtol(a.min_score, &end, 10) : 50;
        int64_t since = 0;
        if ((a.min_score && (*end || ms < 0 || ms > 100)) ||
                (a.since && tide_time_parse(a.since, &since) < 0)) {
            cli_err(verb, "--min-score 0-100 and --since T (date, RFC 3339 or age like 7d)");
            ex = TIDE_EXIT_USAGE;
            goto done;
        }
        rc = tide_case_auto(s, &a.o, (int)ms, since, &out);
        if (rc < 0) {
            ex = fail(verb, rc);
            goto done;
        }
        if (a.json) {
            print_free(out);
        } else {
            json_t *list = json_loads(out, 0, NULL);
            size_t i;
            json_t *c;
            json_array_foreach(list, i, c)
            {
                printf("case %lld %s: %s %s (score %lld)\n",
                        (long long)json_integer_value(json_object_get(c, "case")),
                        json_is_true(json_object_get(c, "opened")) ? "opened" : "covers",
                        json_string_value(json_object_get(c, "host")),
                        json_string_value(json_object_get(c, "indicator")),
                        (long long)json_integer_value(json_object_get(c, "score")));
            }
            json_decref(list);
            free(out);
        }
        out = NULL;
    } else if (strcmp(sub, "list") == 0) {
        rc = tide_case_list_json(s, &out);
        if (rc < 0) {
            ex = fail(verb, rc);
            goto done;
        }
        if (a.json) {
            print_free(out);
            out = NULL;
        } else {
            json_t *list = json_loads(out, 0, NULL);
            size_t i;
            json_t *c;
            printf("%-5s %-7s %-4s %-6s %-7s %s\n", "id", "status", "tier", "hosts", "silent",
                    "seed (host indicator)");
            json_array_foreach(list, i, c)
            {
                printf("%-5lld %-7s %-4lld %-6lld %-7lld %s %s\n",
                        (long long)json_integer_value(json_object_get(c, "id")),
                        json_string_value(json_object_get(c, "status")),
                        (long long)json_integer_value(json_object_get(c, "tier")),
                        (long long)json_integer_value(json_object_get(c, "hosts")),
                        (long long)json_integer_value(json_object_get(c, "silent")),
                        json_string_value(json_object_get(c, "seed_host")),
                        json_string_value(json_object_get(c, "seed_indicator")));
            }
            json_decref(list);
        }
    } else if (strcmp(sub, "show") == 0 || strcmp(sub, "plan") == 0) {
        int changes = 0;
        rc = tide_case_refresh(s, &a.o, id, &changes);
        if (rc < 0) {
            ex = fail(verb, rc);
            goto done;
        }
        if (strcmp(sub, "show") == 0) {
            if (!a.json) {
                ex = show_text(s, id);
                goto done;
            }
            rc = tide_case_show_json(s, id, &out);
        } else {
            rc = a.markdown || !a.json ? tide_case_plan_markdown(s, id, &out)
                                       : tide_case_plan_json(s, id, &out);
        }
        if (rc < 0) {
            ex = fail(verb, rc);
            goto done;
        }
        print_free(out);
        out = NULL;
    } else if (strcmp(sub, "refresh") == 0) {
        int changes = 0;
        rc = tide_case_refresh(s, &a.o, id, &changes);
        if (rc < 0) {
            ex = fail(verb, rc);
            goto done;
        }
        printf("case %lld refreshed: %d change(s)\n", (long long)id, changes);
    } else if (strcmp(sub, "host") == 0) {
        if (a.npos < 2 || !a.state) {
            cli_err(verb, "usage: tide case host N HOST --state contained|eradicated|recovered");
            ex = TIDE_EXIT_USAGE;
            goto done;
        }
        rc = tide_case_host_state(s, &a.o, id, a.pos[1], a.state, a.by, a.note);
        if (rc < 0) {
            ex = fail(verb, rc);
            goto done;
        }
        printf("case %lld: %s is %s\n", (long long)id, a.pos[1], a.state);
    } else if (strcmp(sub, "lessons") == 0) {
        if (!a.file) {
            cli_err(verb, "lessons needs --file F");
            ex = TIDE_EXIT_USAGE;
            goto done;
        }
        rc = tide_case_lessons_set(s, &a.o, id, a.file);
        if (rc < 0) {
            ex = fail(verb, rc);
            goto done;
        }
        printf("case %lld: lessons learned recorded\n", (long long)id);
    } else if (strcmp(sub, "close") == 0) {
        long promoted = 0;
        rc = tide_case_close(s, &a.o, id, a.tlp, &promoted);
        if (rc < 0) {
            ex = fail(verb, rc);
            goto done;
        }
        printf("case %lld closed: %ld indicator(s) promoted as source internal\n", (long long)id,
                promoted);
        /* the policy exports its lessons' prevention rules became (export targets) */
        if (tide_case_show_json(s, id, &out) == 0) {
            json_t *c = json_loads(out, 0, NULL);
            size_t i;
            json_t *p;
            json_array_foreach(json_object_get(c, "policy_exports"), i, p)
            {
                const char *o = json_string_value(json_object_get(p, "output"));
                printf("policy export %s (%s, %lld entries): %s -> %s (an export target: "
                       "follows the assets)\n",
                        json_string_value(json_object_get(p, "name")),
                        json_string_value(json_object_get(p, "format")),
                        (long long)json_integer_value(json_object_get(p, "entries")),
                        json_string_value(json_object_get(p, "rule")), o ? o : "-");
            }
            json_decref(c);
        }
    } else if (strcmp(sub, "share") == 0) {
        if (!a.tlp_max || !a.output) {
            cli_err(verb, "share needs --tlp-max TLP and --output F");
            ex = TIDE_EXIT_USAGE;
            goto done;
        }
        size_t n = 0;
        rc = tide_case_share(s, id, a.tlp_max, a.output, &n);
        if (rc < 0) {
            ex = fail(verb, rc);
            goto done;
        }
        /* --output -: the bundle is on stdout, the message goes to stderr */
        fprintf(strcmp(a.output, "-") == 0 ? stderr : stdout,
                "case %lld: %zu STIX object(s) at or below TLP:%s written to %s\n", (long long)id,
                n, a.tlp_max, a.output);
    }
done:
    free(out);
    tide_workspace_free(ws);
    return ex;
}

int cmd_metrics(int argc, char **argv)
{
    const char *verb = "metrics";
    args a = { 0 };
    if (parse_args(verb, argc, argv, 1, &a) < 0)
        return TIDE_EXIT_USAGE;
    tide_workspace *ws = cli_open_workspace(verb);
    if (ws == NULL)
        return TIDE_EXIT_STORE;
    tide_workspace_case_opts(ws, &a.o);
    char *out = NULL;
    int rc = tide_metrics_json(tide_workspace_store(ws), &a.o, &out);
    tide_workspace_free(ws);
    if (rc < 0)
        return fail(verb, rc);
    return print_free(out);
}
