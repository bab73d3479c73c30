/*
 * routes.c - the routes of the JSON API: the table server.c dispatches on (method, path,
 * permission, body cap, whether the audit log records it) and one thin handler per route,
 * which reads its parameters and calls the library (tide/reads.h, tide/auth.h, the engine).
 * server/openapi.json describes every route of this table; tests/integration/serve_api.sh
 * checks the two against each other and against what the server answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <microhttpd.h>

#include "server_int.h"

/* ---- health and the document ---- */

static void health(req *r, reply *out)
{
    srv *s = r->s;
    /* liveness: we answer; readiness: a store connection answers a query */
    tide_store *st = tide__srv_store_get(s);
    int64_t gen = 0;
    bool ready = st != NULL && !s->stopping && tide_store_intel_generation(st, &gen) == 0;
    if (!ready)
        tide_error_clear();
    tide__srv_store_put(s, st);
    json_t *o = json_pack("{s:s, s:b, s:b, s:s}", "status", ready ? "ok" : "unavailable", "live", 1,
            "ready", ready, "version", TIDE_VERSION);
    tide__reply_json(out, ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
            o ? json_dumps(o, JSON_COMPACT) : NULL);
    json_decref(o);
}

static void openapi(req *r, reply *out)
{
    (void)r;
    char *b = malloc(tide__openapi_len + 1);
    if (b) {
        memcpy(b, tide__openapi_json, tide__openapi_len);
        b[tide__openapi_len] = '\0';
    }
    tide__reply_json(out, MHD_HTTP_OK, b);
}

/* ---- intel ---- */

static void intel_lookup(req *r, reply *out)
{
    const char *v = tide__req_arg(r, "value");
    if (v == NULL || *v == '\0') {
        tide__reply_error(out, MHD_HTTP_BAD_REQUEST, "value: missing");
        return;
    }
    char *js = NULL;
    int rc = tide_read_lookup(r->store, tide_workspace_decay(r->s->ws), v, r->key.tlp_max, 0, &js);
    if (rc < 0)
        tide__reply_lib_error(out, rc);
    else
        tide__reply_json(out, MHD_HTTP_OK, js);
}

/* ---- administration ---- */

static int key_json(const tide_key_info *k, void *payload)
{
    char created[32], revoked[32];
    tide_time_format(k->created_at, created);
    if (k->revoked_at)
        tide_time_format(k->revoked_at, revoked);
    json_array_append_new(
            payload, json_pack("{s:s, s:s, s:s, s:s, s:s?}", "name", k->name, "role",
                             tide_role_name((int)k->role), "tlp_max", tide_tlp_name(k->tlp_max),
                             "created", created, "revoked", k->revoked_at ? revoked : NULL));
    return 0;
}

static void keys_list(req *r, reply *out)
{
    json_t *arr = json_array();
    int rc = arr ? tide_key_list(r->store, key_json, arr) : TIDE_ENOMEM;
    if (rc < 0)
        tide__reply_lib_error(out, rc);
    else {
        json_t *o = json_pack("{s:O}", "keys", arr);
        tide__reply_json(out, MHD_HTTP_OK, o ? json_dumps(o, JSON_COMPACT) : NULL);
        json_decref(o);
    }
    json_decref(arr);
}

/* a time parameter (RFC 3339, a date or an age such as 7d): 0 when absent, -1 (400 sent) when
 * bad */
static int time_arg(req *r, reply *out, const char *name, int64_t *ms)
{
    const char *v = tide__req_arg(r, name);
    *ms = 0;
    if (v == NULL || *v == '\0')
        return 0;
    if (tide_time_parse(v, ms) < 0) {
        tide__reply_error(out, MHD_HTTP_BAD_REQUEST, "%s: %s", name, tide_error_last());
        return -1;
    }
    return 0;
}

/* a count parameter 1..max: def when absent, -1 (400 sent) when bad */
static long count_arg(req *r, reply *out, const char *name, long def, long max)
{
    const char *v = tide__req_arg(r, name);
    if (v == NULL || *v == '\0')
        return def;
    char *end;
    long n = strtol(v, &end, 10);
    if (*end != '\0' || n < 1 || n > max) {
        tide__reply_error(out, MHD_HTTP_BAD_REQUEST, "%s: '%.40s' is not a number from 1 to %ld",
                name, v, max);
        return -1;
    }
    return n;
}

static void audit_log(req *r, reply *out)
{
    int64_t since;
    long limit = count_arg(r, out, "limit", 1000, 100000);
    if (limit < 0 || time_arg(r, out, "since", &since) < 0)
        return;
    char *js = NULL;
    int rc = tide_audit_json(r->store, since, limit, &js);
    if (rc < 0)
        tide__reply_lib_error(out, rc);
    else
        tide__reply_json(out, MHD_HTTP_OK, js);
}

/* clang-format off */
const route tide__routes[] = {
    { "GET", "/api/v1/health", PERM_NONE, BODY_NONE, false, health },
    { "GET", "/api/openapi.json", PERM_KEY, BODY_NONE, false, openapi },
    { "GET", "/api/v1/intel/lookup", TIDE_PERM_INTEL_READ, BODY_NONE, false, intel_lookup },
    { "GET", "/api/v1/admin/keys", TIDE_PERM_ADMIN, BODY_NONE, false, keys_list },
    { "GET", "/api/v1/admin/audit", TIDE_PERM_ADMIN, BODY_NONE, false, audit_log },
};
/* clang-format on */
const size_t tide__nroutes = sizeof tide__routes / sizeof tide__routes[0];
