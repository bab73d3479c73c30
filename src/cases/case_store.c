/*
 * case_store.c - cases in and out of the store: the jansson rows the rest of src/cases works
 * with (case_store.h) converted to and from the plain rows of the store's case storage
 * (store/front.h, tide_store_case ... in include/tide/sys/store_backend.h), whose backends
 * know nothing of jansson. A case's document and lessons travel as JSON text; an integer
 * without a value (JSON null) as TIDE_STORE_NULL.
 */
#include <stdlib.h>
#include <string.h>

#include "case_store.h"
#include "tide/errors.h"
#include "util/util.h"

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int64_t jint(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

/* An integer member, or TIDE_STORE_NULL when it is absent or not an integer. */
static int64_t jint_or_null(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? json_integer_value(v) : TIDE_STORE_NULL;
}

static json_t *int_or_null(int64_t v)
{
    return v == TIDE_STORE_NULL ? json_null() : json_integer(v);
}

static json_t *str_or_null(const char *v)
{
    return v ? json_string(v) : json_null();
}

static int oom(void)
{
    return tide_error_set(TIDE_ENOMEM, "out of memory");
}

int tide__case_put(tide_store *s, json_t *row, int64_t *out_id)
{
    int64_t id = jint(row, "id");
    char *doc = json_dumps(json_object_get(row, "doc"), JSON_COMPACT);
    json_t *l = json_object_get(row, "lessons");
    char *lessons = json_is_object(l) ? json_dumps(l, JSON_COMPACT) : NULL;
    int rc;
    if (doc == NULL || (json_is_object(l) && lessons == NULL)) {
        rc = oom();
        goto done;
    }
    tide_store_case c = {
        .id = id > 0 ? id : 0,
        .status = jstr(row, "status") ? jstr(row, "status") : "open",
        .tier = jint(row, "tier"),
        .opened_at = jint(row, "opened_at"),
        .updated_at = jint(row, "updated_at"),
        .closed_at = jint_or_null(row, "closed_at"),
        .seed_host = jstr(row, "seed_host") ? jstr(row, "seed_host") : "",
        .seed_indicator = jstr(row, "seed_indicator") ? jstr(row, "seed_indicator") : "",
        .tlp = jstr(row, "tlp"),
        .doc = doc,
        .lessons = lessons,
    };
    int64_t got = 0;
    rc = tide__store_case_put(s, &c, &got);
    if (rc == 0 && id <= 0)
        json_object_set_new(row, "id", json_integer(got));
    if (rc == 0 && out_id)
        *out_id = got;
done:
    free(doc);
    free(lessons);
    return rc;
}

static int on_case(const tide_store_case *c, void *payload)
{
    json_t *o = json_object();
    if (o == NULL)
        return oom();
    json_object_set_new(o, "id", json_integer(c->id));
    json_object_set_new(o, "status", str_or_null(c->status));
    json_object_set_new(o, "tier", json_integer(c->tier));
    json_object_set_new(o, "opened_at", int_or_null(c->opened_at));
    json_object_set_new(o, "updated_at", int_or_null(c->updated_at));
    json_object_set_new(o, "closed_at", int_or_null(c->closed_at));
    json_object_set_new(o, "seed_host", str_or_null(c->seed_host));
    json_object_set_new(o, "seed_indicator", str_or_null(c->seed_indicator));
    json_object_set_new(o, "tlp", str_or_null(c->tlp));
    json_t *d = c->doc ? json_loads(c->doc, 0, NULL) : NULL;
    json_object_set_new(o, "doc", d ? d : json_object());
    json_t *l = c->lessons ? json_loads(c->lessons, 0, NULL) : NULL;
    json_object_set_new(o, "lessons", l ? l : json_null());
    *(json_t **)payload = o;
    return 0;
}

int tide__case_get(tide_store *s, int64_t id, json_t **out)
{
    *out = NULL;
    json_t *o = NULL;
    int rc = tide__store_case_get(s, id, on_case, &o);
    if (rc < 0) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return 0;
}

/* Append to the array in payload; ENOMEM when the item could not be made. */
static int append(json_t *arr, json_t *item)
{
    if (item == NULL || json_array_append_new(arr, item) < 0)
        return oom();
    return 0;
}

static int on_id(int64_t id, void *payload)
{
    return append(payload, json_integer(id));
}

/* The end of a listing into the new array a: *out on success, a released on failure. */
static int list_done(json_t *a, int rc, json_t **out)
{
    if (rc < 0) {
        json_decref(a);
        return rc;
    }
    *out = a;
    return 0;
}

int tide__case_ids(tide_store *s, json_t **out)
{
    *out = NULL;
    json_t *a = json_array();
    if (a == NULL)
        return oom();
    return list_done(a, tide__store_case_ids(s, on_id, a), out);
}

int tide__case_find_covering(
        tide_store *s, const char *host, const char *indicator_id, int64_t *out_id)
{
    return tide__store_case_find_covering(s, host, indicator_id, out_id);
}

int tide__case_host_put(tide_store *s, int64_t case_id, json_t *h)
{
    tide_store_case_host row = {
        .host = jstr(h, "host"),
        .status = jstr(h, "status") ? jstr(h, "status") : "silent",
        .state = jstr(h, "state") ? jstr(h, "state") : "affected",
        .state_at = jint(h, "state_at"),
        .recovered_at = jint_or_null(h, "recovered_at"),
        .relapses = jint(h, "relapses"),
        .first_seen = jint_or_null(h, "first_seen"),
        .last_seen = jint_or_null(h, "last_seen"),
    };
    return tide__store_case_host_put(s, case_id, &row);
}

static int on_host(const tide_store_case_host *h, void *payload)
{
    json_t *o = json_object();
    if (o == NULL)
        return oom();
    json_object_set_new(o, "host", str_or_null(h->host));
    json_object_set_new(o, "status", str_or_null(h->status));
    json_object_set_new(o, "state", str_or_null(h->state));
    json_object_set_new(o, "state_at", int_or_null(h->state_at));
    json_object_set_new(o, "recovered_at", int_or_null(h->recovered_at));
    json_object_set_new(o, "relapses", int_or_null(h->relapses));
    json_object_set_new(o, "first_seen", int_or_null(h->first_seen));
    json_object_set_new(o, "last_seen", int_or_null(h->last_seen));
    return append(payload, o);
}

int tide__case_hosts(tide_store *s, int64_t case_id, json_t **out)
{
    *out = NULL;
    json_t *a = json_array();
    if (a == NULL)
        return oom();
    return list_done(a, tide__store_case_hosts(s, case_id, on_host, a), out);
}

int tide__case_indicators_add(tide_store *s, int64_t case_id, json_t *ids)
{
    size_t n = json_array_size(ids);
    if (n == 0)
        return 0;
    const char **v = tide__malloc(n * sizeof(*v));
    if (v == NULL)
        return oom();
    for (size_t i = 0; i < n; i++)
        v[i] = json_string_value(json_array_get(ids, i));
    int rc = tide__store_case_indicators_add(s, case_id, v, n);
    tide__free(v);
    return rc;
}

static int on_indicator(const char *id, void *payload)
{
    return append(payload, str_or_null(id));
}

int tide__case_indicators(tide_store *s, int64_t case_id, json_t **out)
{
    *out = NULL;
    json_t *a = json_array();
    if (a == NULL)
        return oom();
    return list_done(a, tide__store_case_indicators(s, case_id, on_indicator, a), out);
}

int tide__case_event_add(tide_store *s, int64_t case_id, int64_t at, const char *kind,
        const char *host, const char *actor, const char *text)
{
    tide_store_case_event ev = { at, kind, host, actor, text };
    return tide__store_case_event_add(s, case_id, &ev);
}

static int on_event(const tide_store_case_event *ev, void *payload)
{
    json_t *o = json_object();
    if (o == NULL)
        return oom();
    json_object_set_new(o, "at", int_or_null(ev->at));
    json_object_set_new(o, "kind", str_or_null(ev->kind));
    json_object_set_new(o, "host", str_or_null(ev->host));
    json_object_set_new(o, "actor", str_or_null(ev->actor));
    json_object_set_new(o, "text", str_or_null(ev->text));
    return append(payload, o);
}

int tide__case_events(tide_store *s, int64_t case_id, json_t **out)
{
    *out = NULL;
    json_t *a = json_array();
    if (a == NULL)
        return oom();
    return list_done(a, tide__store_case_events(s, case_id, on_event, a), out);
}
