/*
 * cmd_serve.c - `tide serve` (parse the arguments, open the workspace, run the HTTP front end
 * of server/ until SIGTERM / SIGINT) and `tide keys` (API keys and the audit log, through
 * tide/auth.h).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "tide/auth.h"
#include "tide_server.h"

static void on_signal(int sig)
{
    (void)sig;
    tide_server_stop();
}

static void serve_log(const char *line, void *payload)
{
    (void)payload;
    fprintf(stderr, "tide serve: %s\n", line);
}

static int num(const char *opt, const char *v, unsigned long long max, unsigned long long *out)
{
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (*v == '\0' || *end != '\0' || *v == '-' || n == 0 || n > max) {
        cli_err("serve", "%s: '%s' is not a number from 1 to %llu", opt, v, max);
        return -1;
    }
    *out = n;
    return 0;
}

/* "90", "90s", "5m", "1h", "2d" -> seconds (1 s to 366 d); -1 after the error */
static int duration(const char *opt, const char *v, double *out)
{
    char *end;
    double n = strtod(v, &end);
    double mul = *end == 'm' ? 60 : *end == 'h' ? 3600 : *end == 'd' ? 86400 : 1;
    if (*end == 's' || *end == 'm' || *end == 'h' || *end == 'd')
        end++;
    if (end == v || *v == '-' || *end != '\0' || !(n * mul >= 1) || n * mul > 366 * 86400.0) {
        cli_err("serve", "%s: '%s' is not a duration from 1s to 366d (90, 90s, 5m, 1h, 2d)", opt,
                v);
        return -1;
    }
    *out = n * mul;
    return 0;
}

/* One option of tide serve at argv[*i] into o: 1 (and *i past it), 0 not an option of serve,
 * -1 a bad value (said). The command line and the keys of --config FILE both come here, so
 * every option serve takes can be given in the file. */
static int serve_opt(int argc, char **argv, int *pi, tide_server_opts *o)
{
    int i = *pi;
    const char *v;
    unsigned long long n;
    int r;
    if ((r = cli_opt("serve", argc, argv, &i, "listen", &v)) != 0) {
        if (r < 0)
            return -1;
        o->listen = v;
    } else if ((r = cli_opt("serve", argc, argv, &i, "tls-cert", &v)) != 0) {
        if (r < 0)
            return -1;
        o->tls_cert = v;
    } else if ((r = cli_opt("serve", argc, argv, &i, "tls-key", &v)) != 0) {
        if (r < 0)
            return -1;
        o->tls_key = v;
    } else if ((r = cli_opt("serve", argc, argv, &i, "max-body", &v)) != 0) {
        if (r < 0 || num("--max-body", v, 1ull << 32, &n) < 0)
            return -1;
        o->max_body = (size_t)n;
    } else if ((r = cli_opt("serve", argc, argv, &i, "max-connections", &v)) != 0) {
        if (r < 0 || num("--max-connections", v, 65536, &n) < 0)
            return -1;
        o->max_connections = (unsigned)n;
    } else if ((r = cli_opt("serve", argc, argv, &i, "timeout", &v)) != 0) {
        if (r < 0 || num("--timeout", v, 86400, &n) < 0)
            return -1;
        o->timeout = (unsigned)n;
    } else if ((r = cli_opt("serve", argc, argv, &i, "request-timeout", &v)) != 0) {
        if (r < 0 || num("--request-timeout", v, 86400, &n) < 0)
            return -1;
        o->request_timeout = (unsigned)n;
    } else if ((r = cli_opt("serve", argc, argv, &i, "grace", &v)) != 0) {
        if (r < 0 || num("--grace", v, 86400, &n) < 0)
            return -1;
        o->grace = (double)n;
    } else if ((r = cli_opt("serve", argc, argv, &i, "ui", &v)) != 0) {
        if (r < 0)
            return -1;
        o->ui_dir = v;
    } else if ((r = cli_opt("serve", argc, argv, &i, "sessions", &v)) != 0) {
        if (r < 0 || num("--sessions", v, 65536, &n) < 0)
            return -1;
        o->sessions = (unsigned)n;
    } else if ((r = cli_opt("serve", argc, argv, &i, "session-idle", &v)) != 0) {
        if (r < 0 || num("--session-idle", v, 86400, &n) < 0)
            return -1;
        o->session_idle = (unsigned)n;
    } else if (cli_flag(argv, i, "no-schedule")) {
        o->no_schedule = true;
        i++;
    } else if ((r = cli_opt("serve", argc, argv, &i, "export-every", &v)) != 0) {
        if (r < 0 || duration("--export-every", v, &o->export_every) < 0)
            return -1;
    } else if ((r = cli_opt("serve", argc, argv, &i, "verify-every", &v)) != 0) {
        if (r < 0 || duration("--verify-every", v, &o->verify_every) < 0)
            return -1;
    } else
        return 0;
    *pi = i;
    return 1;
}

/* --config FILE: a JSON object whose keys are serve's long options without the dashes (values
 * strings, numbers, or true for a flag), and "taxii" (the TAXII collections, docs/taxii.md).
 * The options go into o first; the command line's come after and win. keep holds the file's
 * strings while the server runs. */
static int load_config(const char *file, tide_server_opts *o, json_t **keep)
{
    json_error_t je;
    json_t *root = json_load_file(file, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        cli_err("serve", "%s: line %d, column %d: %s", file, je.line, je.column, je.text);
        return -1;
    }
    *keep = root;
    if (!json_is_object(root)) {
        cli_err("serve", "%s: want a JSON object of tide serve's options", file);
        return -1;
    }
    json_t *vals = json_array();
    json_object_set_new(root, " values", vals);
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v)
    {
        if (strcmp(k, " values") == 0)
            continue;
        if (strcmp(k, "taxii") == 0) {
            char *txt = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            json_array_append_new(vals, json_string(txt ? txt : ""));
            free(txt);
            o->taxii = json_string_value(json_array_get(vals, json_array_size(vals) - 1));
            o->taxii_file = file;
            continue;
        }
        char opt[128], num[32];
        const char *val = NULL;
        if (json_is_string(v))
            val = json_string_value(v);
        else if (json_is_integer(v)) {
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
            val = num;
        } else if (!json_is_true(v)) {
            cli_err("serve", "%s: key \"%s\": want a string, a number or true", file, k);
            return -1;
        }
        snprintf(opt, sizeof opt, "--%s", k);
        json_array_append_new(vals, json_string(opt));
        char *av[3] = { (char *)"serve",
            (char *)json_string_value(json_array_get(vals, json_array_size(vals) - 1)), NULL };
        if (val) {
            json_array_append_new(vals, json_string(val));
            av[2] = (char *)json_string_value(json_array_get(vals, json_array_size(vals) - 1));
        }
        int ac = val ? 3 : 2, i = 1;
        int r = strcmp(k, "config") == 0 ? 0 : serve_opt(ac, av, &i, o);
        if (r <= 0 || i != ac) {
            cli_err("serve", "%s: key \"%s\": %s", file, k,
                    r == 0 ? "not an option of tide serve" : "a bad value (above)");
            return -1;
        }
    }
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    tide_server_opts o = { 0 };
    o.on_log = serve_log;
    json_t *keep = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int k = i;
        int r = cli_opt("serve", argc, argv, &k, "config", &v);
        if (r < 0)
            return TIDE_EXIT_USAGE;
        if (r > 0) {
            if (keep)
                cli_err("serve", "--config is given once");
            if (keep || load_config(v, &o, &keep) < 0) {
                json_decref(keep);
                return TIDE_EXIT_USAGE;
            }
            i = k - 1;
        }
    }
    for (int i = 1; i < argc;) {
        const char *v;
        int r = cli_opt("serve", argc, argv, &i, "config", &v);
        if (r > 0)
            continue;
        if ((r = serve_opt(argc, argv, &i, &o)) < 0) {
            json_decref(keep);
            return TIDE_EXIT_USAGE;
        }
        if (r == 0) {
            cli_err("serve", "unknown argument '%s'", argv[i]);
            json_decref(keep);
            return TIDE_EXIT_USAGE;
        }
    }
    tide_workspace *ws = cli_open_workspace("serve");
    if (ws == NULL) {
        json_decref(keep);
        return TIDE_EXIT_STORE;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    int rc = tide_server_run(ws, &o);
    tide_workspace_free(ws);
    json_decref(keep);
    if (rc < 0) {
        cli_err("serve", "%s", tide_error_last());
        return rc == TIDE_EINVAL ? TIDE_EXIT_USAGE : TIDE_EXIT_STORE;
    }
    return TIDE_EXIT_OK;
}

/* ---- tide keys ---- */

static int print_key(const tide_key_info *k, void *payload)
{
    json_t *arr = payload;
    char created[32], revoked[32];
    tide_time_format(k->created_at, created);
    if (k->revoked_at)
        tide_time_format(k->revoked_at, revoked);
    if (arr) {
        json_array_append_new(
                arr, json_pack("{s:s, s:s, s:s, s:s, s:s?}", "name", k->name, "role",
                             tide_role_name((int)k->role), "tlp_max", tide_tlp_name(k->tlp_max),
                             "created", created, "revoked", k->revoked_at ? revoked : NULL));
        return 0;
    }
    printf("%-24s %-8s %-13s %s%s%s\n", k->name, tide_role_name((int)k->role),
            tide_tlp_name(k->tlp_max), created, k->revoked_at ? "  revoked " : "",
            k->revoked_at ? revoked : "");
    return 0;
}

int cmd_keys(int argc, char **argv)
{
    if (argc < 2) {
        cli_usage("keys", stderr);
        return TIDE_EXIT_USAGE;
    }
    const char *sub = argv[1], *name = NULL, *role = NULL, *tlp = NULL, *since = NULL,
               *limit = NULL;
    bool as_json = false;
    for (int i = 2; i < argc;) {
        const char *v;
        int r;
        if (cli_flag(argv, i, "json")) {
            as_json = true;
            i++;
        } else if ((r = cli_opt("keys", argc, argv, &i, "role", &v)) != 0) {
            if (r < 0)
                return TIDE_EXIT_USAGE;
            role = v;
        } else if ((r = cli_opt("keys", argc, argv, &i, "tlp-max", &v)) != 0) {
            if (r < 0)
                return TIDE_EXIT_USAGE;
            tlp = v;
        } else if ((r = cli_opt("keys", argc, argv, &i, "since", &v)) != 0) {
            if (r < 0)
                return TIDE_EXIT_USAGE;
            since = v;
        } else if ((r = cli_opt("keys", argc, argv, &i, "limit", &v)) != 0) {
            if (r < 0)
                return TIDE_EXIT_USAGE;
            limit = v;
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            cli_err("keys", "unknown option '%s'", argv[i]);
            return TIDE_EXIT_USAGE;
        } else if (name == NULL) {
            name = argv[i++];
        } else {
            cli_err("keys", "unexpected argument '%s'", argv[i]);
            return TIDE_EXIT_USAGE;
        }
    }
    int ret = TIDE_EXIT_OK;
    if (strcmp(sub, "add") == 0) {
        int r = tide_role_parse(role), t = tide_tlp_parse(tlp);
        if (name == NULL || role == NULL || tlp == NULL) {
            cli_err("keys", "add needs NAME, --role and --tlp-max");
            return TIDE_EXIT_USAGE;
        }
        if (r < 0) {
            cli_err("keys", "--role %s: want reader, analyst, admin or peer", role);
            return TIDE_EXIT_USAGE;
        }
        if (t < 0) {
            cli_err("keys", "--tlp-max %s: want clear, white, green, amber, amber+strict or red",
                    tlp);
            return TIDE_EXIT_USAGE;
        }
        tide_store *s = cli_open_store("keys");
        if (s == NULL)
            return TIDE_EXIT_STORE;
        char *key = NULL;
        int rc = tide_key_add(s, name, r, t, &key);
        tide_store_free(s);
        if (rc < 0) {
            cli_err("keys", "%s", tide_error_last());
            return rc == TIDE_EINVAL || rc == TIDE_EEXISTS ? TIDE_EXIT_USAGE : TIDE_EXIT_STORE;
        }
        if (as_json) {
            json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "name", name, "role", tide_role_name(r),
                    "tlp_max", tide_tlp_name(t), "key", key);
            char *js = json_dumps(o, JSON_COMPACT);
            printf("%s\n", js ? js : "{}");
            free(js);
            json_decref(o);
        } else {
            printf("%s\n", key);
            fprintf(stderr, "tide keys: key '%s' (%s, TLP up to %s) created; it is shown once\n",
                    name, tide_role_name(r), tide_tlp_name(t));
        }
        free(key);
        return TIDE_EXIT_OK;
    }
    if (strcmp(sub, "list") != 0 && strcmp(sub, "revoke") != 0 && strcmp(sub, "audit") != 0) {
        cli_err("keys", "unknown subcommand '%s' (add, list, revoke, audit)", sub);
        return TIDE_EXIT_USAGE;
    }
    if (strcmp(sub, "revoke") == 0 && name == NULL) {
        cli_err("keys", "revoke needs NAME");
        return TIDE_EXIT_USAGE;
    }
    int64_t since_ms = 0;
    if (since && tide_time_parse(since, &since_ms) < 0) {
        cli_err("keys", "--since: %s", tide_error_last());
        return TIDE_EXIT_USAGE;
    }
    tide_store *s = cli_open_store("keys");
    if (s == NULL)
        return TIDE_EXIT_STORE;
    int rc = 0;
    if (strcmp(sub, "list") == 0) {
        json_t *arr = as_json ? json_array() : NULL;
        rc = tide_key_list(s, print_key, arr);
        if (arr && rc == 0) {
            char *js = json_dumps(arr, JSON_COMPACT);
            printf("%s\n", js ? js : "[]");
            free(js);
        }
        json_decref(arr);
    } else if (strcmp(sub, "revoke") == 0) {
        rc = tide_key_revoke(s, name);
        if (rc == 0)
            fprintf(stderr, "tide keys: key '%s' revoked\n", name);
    } else {
        char *js = NULL;
        rc = tide_audit_json(s, since_ms, limit ? atol(limit) : 0, &js);
        if (rc == 0)
            printf("%s\n", js);
        free(js);
    }
    if (rc < 0) {
        cli_err("keys", "%s", tide_error_last());
        ret = rc == TIDE_ENOTFOUND ? TIDE_EXIT_FAIL : TIDE_EXIT_STORE;
    }
    tide_store_free(s);
    return ret;
}
