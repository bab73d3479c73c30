/*
 * targets.c - declared export targets: exports that follow the intel. A target is declared
 * once (name, format, filters, output) in the workspace's STATE/exports.json; every ingest run
 * (so every lesson promoted at a case's close too), every match run and `tide export --status`
 * checks the targets, and regenerates those whose selection changed, each written atomically
 * by the export (util/outfile.h). The file also keeps each target's status: when it was last
 * checked and written, why, how many entries, how many added and removed, the last error.
 *
 * When a target is due (without reading the intel): it was never written, or its last run
 * failed, or the intel generation changed since (ingest, revocation, lessons, warninglists), or
 * the caller stored sightings (a sighting refreshes a decayed score), or the time has come at
 * which its selection changes by itself (summary.next_change of its last run: the earliest
 * valid_until, valid_from or score decaying below its min_score among the indicators it
 * considered). A due target is selected again, and written only when the fingerprint of the set
 * selected differs from the one its output holds; a forced refresh writes it anyway.
 *
 * Writers are serialised by an flock on STATE/exports.json.lock, held from reading the file to
 * writing it back (a concurrent ingest and match never lose a status). No targets file: nothing
 * is done (one stat), so runs of a workspace without targets pay nothing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "engine/engine_int.h"
#include "tide/errors.h"
#include "util/outfile.h"

#define TARGETS_MAX_FILE (4 << 20)

/* ------------------------------------------------------------------ the file */

static int load(const char *path, json_t **out)
{
    *out = NULL;
    json_error_t je;
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL) {
        struct stat st;
        if (stat(path, &st) != 0 && errno == ENOENT) {
            *out = json_pack("{s:[]}", "targets");
            return *out ? 0 : tide_error_set(TIDE_ENOMEM, "out of memory");
        }
        return tide_error_set(TIDE_EPARSE, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    }
    if (!json_is_array(json_object_get(j, "targets"))) {
        json_decref(j);
        return tide_error_set(TIDE_EPARSE, "%s: no \"targets\" array", path);
    }
    *out = j;
    return 0;
}

static int save(const char *path, json_t *j)
{
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    TIDE_CHECK_ALLOC(text);
    tide__outfile o;
    int rc = tide__outfile_open(&o, path, TIDE__OUT_PRIVATE | TIDE__OUT_LOCKED);
    if (rc == 0) {
        fputs(text, o.f);
        fputc('\n', o.f);
        rc = tide__outfile_commit(&o);
    }
    free(text);
    return rc;
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static json_t *find(json_t *targets, const char *name, size_t *at)
{
    size_t i;
    json_t *t;
    json_array_foreach(targets, i, t)
    {
        if (jstr(t, "name") && strcmp(jstr(t, "name"), name) == 0) {
            if (at)
                *at = i;
            return t;
        }
    }
    return NULL;
}

/* the export options of a declared target (strings borrowed from t) */
static void opts_of(json_t *t, tide_export_opts *o)
{
    tide_export_opts_init(o);
    o->format = tide_export_format_from_name(jstr(t, "format"));
    o->output = jstr(t, "output");
    json_t *v;
    if ((v = json_object_get(t, "min_score")) != NULL && json_is_number(v))
        o->min_score = json_number_value(v);
    o->min_confidence = (int)json_integer_value(json_object_get(t, "min_confidence"));
    o->types = jstr(t, "types");
    o->tlp_max = jstr(t, "tlp_max");
    o->source = jstr(t, "source");
    o->related = jstr(t, "related");
    o->action = jstr(t, "action");
    o->zone = jstr(t, "zone");
    o->policy = jstr(t, "policy");
    o->categories = jstr(t, "categories");
    o->allow = jstr(t, "allow");
    o->incremental = json_is_true(json_object_get(t, "incremental"));
    o->count_changes = true;
}

static json_t *time_json(int64_t ms)
{
    if (ms <= 0)
        return json_null();
    char b[32];
    tide_time_format(ms, b);
    return json_string(b);
}

/* ------------------------------------------------------------------ one target */

typedef struct {
    tide_workspace *ws;
    int64_t generation;
    int64_t now;
    const char *trigger;
    tide_target_cb cb;
    void *payload;
    int written, failed, first_rc;
} run_ctx;

/* Run the export of target t (unless_fingerprint: its last fingerprint unless forced), record
 * its status in t, report through the callback. */
static void run_target(run_ctx *c, json_t *t, bool force, const char *trigger)
{
    tide_export_opts o;
    opts_of(t, &o);
    json_t *st = json_object_get(t, "status");
    if (!json_is_object(st)) {
        st = json_object();
        json_object_set_new(t, "status", st);
    }
    const char *fp = jstr(st, "fingerprint");
    if (!force && fp && jstr(st, "error") == NULL)
        o.unless_fingerprint = strtoull(fp, NULL, 16);
    o.now_ms = c->now;
    o.decay = tide_workspace_decay(c->ws); /* STATE/decay.json, the command's --decay */
    tide_export_summary sum;
    int rc = tide_export_run(tide_workspace_store(c->ws), &o, NULL, &sum, NULL, NULL);
    tide_target_result r = { .name = jstr(t, "name"),
        .format = jstr(t, "format"),
        .output = o.output,
        .trigger = trigger,
        .rc = rc,
        .summary = &sum };
    json_object_set_new(st, "last_checked", time_json(c->now));
    if (rc < 0) {
        r.error = tide_error_last();
        json_object_set_new(st, "error", json_string(r.error));
        json_object_set_new(st, "error_at", time_json(c->now));
        c->failed++;
        if (c->first_rc == 0)
            c->first_rc = rc;
    } else {
        json_object_del(st, "error");
        json_object_del(st, "error_at");
        json_object_set_new(st, "generation", json_integer(c->generation));
        json_object_set_new(st, "next_change", time_json(sum.next_change));
        json_object_set_new(st, "next_change_ms", json_integer(sum.next_change));
        if (!sum.unchanged) {
            char hex[24];
            snprintf(hex, sizeof(hex), "%016" PRIx64, sum.fingerprint);
            r.written = true;
            c->written++;
            json_object_set_new(st, "last_written", time_json(c->now));
            json_object_set_new(st, "trigger", json_string(trigger));
            json_object_set_new(st, "fingerprint", json_string(hex));
            json_object_set_new(st, "considered", json_integer(sum.considered));
            json_object_set_new(st, "entries", json_integer(sum.written));
            if (sum.compared || sum.incremental) {
                json_object_set_new(st, "added", json_integer(sum.added));
                json_object_set_new(st, "removed", json_integer(sum.removed));
            } else { /* the first export of this output: every entry is new */
                json_object_set_new(st, "added", json_integer(sum.written));
                json_object_set_new(st, "removed", json_integer(0));
            }
            if (sum.serial)
                json_object_set_new(st, "serial", json_integer(sum.serial));
            else
                json_object_del(st, "serial");
        }
    }
    if (c->cb)
        c->cb(&r, c->payload);
}

/* Why t is due now, or NULL. A policy export (an asset rule, a category allowlist) follows the
 * asset inventory and the category file, not the intel: it is selected again at every check
 * (an asset scan) and written only when what it holds changed. */
static const char *due(run_ctx *c, json_t *t, bool sighted)
{
    json_t *st = json_object_get(t, "status");
    if (jstr(t, "policy") || jstr(t, "categories"))
        return c->trigger;
    if (!json_is_object(st) || jstr(st, "fingerprint") == NULL)
        return c->trigger; /* never written */
    if (jstr(st, "error"))
        return c->trigger; /* try again */
    if (json_integer_value(json_object_get(st, "generation")) != c->generation)
        return c->trigger;
    int64_t next = json_integer_value(json_object_get(st, "next_change_ms"));
    if (next > 0 && c->now >= next)
        return "decay";
    if (sighted)
        return "sightings";
    return NULL;
}

/* ------------------------------------------------------------------ public */

static int64_t now_ms(void)
{
    return tide__time_now_ms();
}

static int lock_targets(tide_workspace *ws, int *fd)
{
    return tide__outfile_lock(ws->exports_path, fd);
}

int tide__ws_targets_check(tide_workspace *ws, const char *trigger, bool force, bool sighted,
        const char *only, tide_target_cb cb, void *payload, int *out_written, int *out_failed)
{
    if (out_written)
        *out_written = 0;
    if (out_failed)
        *out_failed = 0;
    struct stat sb;
    if (only == NULL && stat(ws->exports_path, &sb) != 0)
        return 0; /* no targets declared */
    int fd = -1;
    TIDE_CHECK(lock_targets(ws, &fd));
    json_t *j = NULL;
    int rc = load(ws->exports_path, &j);
    run_ctx c = { .ws = ws, .now = now_ms(), .trigger = trigger, .cb = cb, .payload = payload };
    if (rc == 0)
        rc = tide_store_intel_generation(tide_workspace_store(ws), &c.generation);
    bool any = false, found = false;
    size_t i;
    json_t *t;
    if (rc == 0) {
        json_array_foreach(json_object_get(j, "targets"), i, t)
        {
            if (only && strcmp(only, jstr(t, "name") ? jstr(t, "name") : "") != 0)
                continue;
            found = true;
            const char *why = force ? trigger : due(&c, t, sighted);
            if (why == NULL)
                continue;
            run_target(&c, t, force, why);
            any = true;
        }
        if (only && !found)
            rc = tide_error_set(TIDE_ENOTFOUND, "export target '%s' is not declared", only);
    }
    if (rc == 0 && any)
        rc = save(ws->exports_path, j);
    json_decref(j);
    tide__outfile_unlock(fd);
    if (out_written)
        *out_written = c.written;
    if (out_failed)
        *out_failed = c.failed;
    if (rc == 0 && c.failed)
        rc = c.first_rc;
    return rc;
}

int tide_workspace_targets_refresh(tide_workspace *ws, bool force, const char *only,
        tide_target_cb cb, void *payload, int *out_written, int *out_failed)
{
    return tide__ws_targets_check(ws, force ? "refresh" : "status", force, false, only, cb, payload,
            out_written, out_failed);
}

static bool good_name(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > 64)
        return false;
    for (; *n; n++)
        if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') || (*n >= '0' && *n <= '9') ||
                    *n == '-' || *n == '_' || *n == '.'))
            return false;
    return true;
}

static void set_str(json_t *t, const char *k, const char *v)
{
    if (v)
        json_object_set_new(t, k, json_string(v));
}

int tide_workspace_target_add(tide_workspace *ws, const char *name, const tide_export_opts *opts,
        tide_target_cb cb, void *payload)
{
    if (name == NULL || !good_name(name))
        return tide_error_set(TIDE_EINVAL,
                "export target name '%s': 1-64 letters, digits, '-', '_' or '.'", name ? name : "");
    const char *fmt = tide_export_format_name(opts->format);
    if (opts->format < 0 || opts->format >= TIDE_EXPORT__COUNT)
        return tide_error_set(TIDE_EINVAL, "export target %s: unknown format", name);
    if (opts->output == NULL || *opts->output == '\0' || strcmp(opts->output, "-") == 0)
        return tide_error_set(TIDE_EINVAL,
                "export target %s: --output FILE (or DIR) is required: a target is a file "
                "tide keeps up to date",
                name);
    if (opts->since)
        return tide_error_set(TIDE_EINVAL,
                "export target %s: --since is not kept by targets (a fixed date; use "
                "--min-score)",
                name);
    char *cats = NULL; /* the category file as an absolute path, for checks from anywhere */
    if (opts->categories && (cats = realpath(opts->categories, NULL)) == NULL)
        return tide_error_set(
                TIDE_EIO, "export target %s: %s: %s", name, opts->categories, strerror(errno));
    tide__out_kind kind;
    int krc = tide__outfile_kind(opts->output, &kind);
    if (krc == 0 && kind == TIDE__OUTK_STREAM)
        krc = tide_error_set(TIDE_EINVAL,
                "export target %s: %s is a stream (FIFO, device): a target is a regular file "
                "or folder",
                name, opts->output);
    if (krc < 0) {
        free(cats);
        return krc;
    }
    /* the output as an absolute path: later runs start from anywhere */
    tide_buf abs = TIDE_BUF_INIT;
    int rc0;
    if (opts->output[0] != '/') {
        char *cwd = getcwd(NULL, 0);
        int r = cwd ? tide__buf_printf(&abs, "%s/%s", cwd, opts->output)
                    : tide_error_set(TIDE_EIO, "getcwd: %s", strerror(errno));
        free(cwd);
        if (r < 0) {
            free(cats);
            return r;
        }
    } else if ((rc0 = tide__buf_puts(&abs, opts->output)) < 0) {
        free(cats);
        return rc0;
    }
    while (abs.len > 1 && abs.ptr[abs.len - 1] == '/')
        abs.ptr[--abs.len] = '\0';
    int fd = -1;
    int rc = lock_targets(ws, &fd);
    if (rc < 0) {
        tide__buf_free(&abs);
        free(cats);
        return rc;
    }
    json_t *j = NULL, *t = NULL;
    rc = load(ws->exports_path, &j);
    json_t *arr = j ? json_object_get(j, "targets") : NULL;
    size_t i;
    json_t *o;
    if (rc == 0 && find(arr, name, NULL))
        rc = tide_error_set(TIDE_EEXISTS,
                "export target %s is declared already (tide export --target remove %s first)", name,
                name);
    if (rc == 0) {
        json_array_foreach(arr, i, o)
        {
            if (jstr(o, "output") && strcmp(jstr(o, "output"), abs.ptr) == 0) {
                rc = tide_error_set(TIDE_EEXISTS, "export target %s: %s is the output of target %s",
                        name, abs.ptr, jstr(o, "name"));
                break;
            }
        }
    }
    if (rc == 0) {
        t = json_object();
        json_object_set_new(t, "name", json_string(name));
        json_object_set_new(t, "format", json_string(fmt));
        json_object_set_new(t, "output", json_string(abs.ptr));
        json_object_set_new(t, "incremental", json_boolean(opts->incremental));
        json_object_set_new(t, "min_score", json_real(opts->min_score));
        if (opts->min_confidence)
            json_object_set_new(t, "min_confidence", json_integer(opts->min_confidence));
        set_str(t, "types", opts->types);
        set_str(t, "tlp_max", opts->tlp_max);
        set_str(t, "source", opts->source);
        set_str(t, "related", opts->related);
        set_str(t, "action", opts->action);
        set_str(t, "zone", opts->zone);
        set_str(t, "policy", opts->policy);
        set_str(t, "categories", cats);
        set_str(t, "allow", opts->allow);
        json_object_set_new(t, "added", time_json(now_ms()));
        /* written once now: a target that cannot be written is not declared */
        run_ctx c = { .ws = ws, .now = now_ms(), .cb = cb, .payload = payload };
        rc = tide_store_intel_generation(tide_workspace_store(ws), &c.generation);
        if (rc == 0) {
            run_target(&c, t, true, "declared");
            rc = c.first_rc;
        }
        if (rc == 0) {
            json_array_append(arr, t);
            rc = save(ws->exports_path, j);
        }
    }
    json_decref(t);
    json_decref(j);
    tide__outfile_unlock(fd);
    tide__buf_free(&abs);
    free(cats);
    return rc;
}

int tide_workspace_target_remove(tide_workspace *ws, const char *name)
{
    int fd = -1;
    TIDE_CHECK(lock_targets(ws, &fd));
    json_t *j = NULL;
    int rc = load(ws->exports_path, &j);
    size_t at = 0;
    if (rc == 0 && find(json_object_get(j, "targets"), name, &at) == NULL)
        rc = tide_error_set(TIDE_ENOTFOUND, "export target '%s' is not declared", name);
    if (rc == 0) {
        json_array_remove(json_object_get(j, "targets"), at);
        rc = save(ws->exports_path, j);
    }
    json_decref(j);
    tide__outfile_unlock(fd);
    return rc;
}

int tide_workspace_targets_json(tide_workspace *ws, char **out)
{
    *out = NULL;
    int fd = -1;
    TIDE_CHECK(lock_targets(ws, &fd));
    json_t *j = NULL;
    int rc = load(ws->exports_path, &j);
    tide__outfile_unlock(fd);
    if (rc < 0)
        return rc;
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(j, "targets"), i, t)
    {
        json_t *st = json_object_get(t, "status");
        if (json_is_object(st))
            json_object_del(st, "next_change_ms");
    }
    *out = json_dumps(json_object_get(j, "targets"), JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(j);
    return *out ? 0 : tide_error_set(TIDE_ENOMEM, "out of memory");
}

/* ------------------------------------------------------------------ policy exports */

typedef struct {
    long entries;
    bool ran;
} policy_cap;

static void on_policy_target(const tide_target_result *r, void *payload)
{
    policy_cap *p = payload;
    p->ran = true;
    if (r->summary)
        p->entries = r->summary->written;
}

int tide__ws_case_policy(void *ctx, const char *name, const tide_export_opts *opts,
        char **out_output, long *out_entries)
{
    tide_workspace *ws = ctx;
    *out_output = NULL;
    *out_entries = 0;
    tide_export_opts o = *opts;
    tide_buf def = TIDE_BUF_INIT;
    int rc = 0;
    if (o.output == NULL) {
        /* STATE/policies/NAME.nft | .ipset, or the folder STATE/policies/NAME (squid) */
        const char *ext = o.format == TIDE_EXPORT_NFT     ? ".nft"
                          : o.format == TIDE_EXPORT_IPSET ? ".ipset"
                                                          : "";
        rc = tide__buf_printf(&def, "%s/policies", ws->state_dir);
        if (rc == 0 && mkdir(def.ptr, 0755) != 0 && errno != EEXIST)
            rc = tide_error_set(TIDE_EIO, "%s: %s", def.ptr, strerror(errno));
        if (rc == 0)
            rc = tide__buf_printf(&def, "/%s%s", name, ext);
        o.output = def.ptr;
    }
    /* the case's own target: declared again when the case closes again (a close that failed
     * after declaring it) */
    if (rc == 0 && tide_workspace_target_remove(ws, name) < 0)
        tide_error_clear();
    policy_cap cap = { 0 };
    if (rc == 0)
        rc = tide_workspace_target_add(ws, name, &o, on_policy_target, &cap);
    if (rc == 0) {
        char *abs = realpath(o.output, NULL);
        *out_output = abs ? abs : strdup(o.output);
        *out_entries = cap.entries;
        if (*out_output == NULL)
            rc = tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    tide__buf_free(&def);
    return rc;
}

int tide_workspace_assets_import(tide_workspace *ws, const char *path, long *out_count,
        tide_target_cb cb, void *payload, int *out_written, int *out_failed)
{
    if (out_written)
        *out_written = 0;
    if (out_failed)
        *out_failed = 0;
    TIDE_CHECK(tide_assets_import(tide_workspace_store(ws), path, out_count));
    /* the policy exports follow the inventory */
    return tide__ws_targets_check(
            ws, "assets", false, false, NULL, cb, payload, out_written, out_failed);
}
