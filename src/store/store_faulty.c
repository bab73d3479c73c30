/*
 * store_faulty.c - the fault-injecting wrapper backend of store_faulty.h: a second
 * implementation of include/tide/sys/store_backend.h that forwards every call to the backend
 * it wraps (usually the SQLite one) and makes a chosen call fail with TIDE_ESTORE.
 *
 * It proves the seam (the store contract tests of tests/unit/test_store.c run through it as
 * through the SQLite backend) and lets tests fail a put or a commit in the middle of an ingest.
 * It lives in the library, not in tests/, so that the tests of every area (ingest, cases,
 * the engine layer) can use it without build plumbing, and as the smallest example of a
 * backend; a program that does not call it does not link it (tidecore is a static library).
 */
#include <stdio.h>
#include <string.h>

#include "store/store_faulty.h"
#include "util/util.h"

/* Every function of the table but free, in the table's order. */
/* clang-format off */
#define OPS(X)                                                                                     \
    X(schema_version) X(db_path) X(begin) X(commit) X(rollback) X(begin_load) X(prefetch_id)       \
    X(put_object) X(put_indicator) X(put_relationship) X(get) X(versions) X(indicator)             \
    X(lookup) X(indicator_observables) X(related) X(search) X(stats_json) X(intel_generation)      \
    X(put_warninglist) X(warninglist_entries) X(scan) X(graph) X(node) X(edges_of)                 \
    X(few_changed) X(put_asset) X(each_asset) X(export_state_get) X(export_state_put)              \
    X(put_sightings) X(sightings) X(sighting_by_id) X(case_put) X(case_get) X(case_ids)            \
    X(case_find_covering) X(case_host_put) X(case_hosts) X(case_indicators_add)                    \
    X(case_indicators) X(case_event_add) X(case_events) X(indicator_source_counts)
/* clang-format on */

enum {
#define X(name) OP_##name,
    OPS(X)
#undef X
    OP__COUNT
};

static const char *const op_names[OP__COUNT] = {
#define X(name) #name,
    OPS(X)
#undef X
};

typedef struct {
    tide_store_backend parent; /* first: a tide_store_backend * is a faulty * */
    tide_store_backend *inner; /* owned */
    long calls[OP__COUNT];
    long fail_in[OP__COUNT]; /* > 0: the call that many calls from now fails */
} faulty;

static void faulty_free(tide_store_backend *be);

static faulty *as_faulty(tide_store_backend *be)
{
    return be && be->free == faulty_free ? (faulty *)be : NULL;
}

static int op_index(const char *op)
{
    for (int i = 0; op && i < OP__COUNT; i++)
        if (strcmp(op_names[i], op) == 0)
            return i;
    return -1;
}

/* Count a call of op; 1 when it is the one to fail (the error is then recorded). */
static int hit(faulty *f, int op)
{
    f->calls[op]++;
    if (f->fail_in[op] > 0 && --f->fail_in[op] == 0) {
        tide_error_set(
                TIDE_ESTORE, "injected failure of %s (call %ld)", op_names[op], f->calls[op]);
        return 1;
    }
    return 0;
}

/* The preamble of every forwarding function: the wrapper f, the wrapped backend in, and the
 * injected failure. */
#define ENTER(op)                                                                                  \
    faulty *f = (faulty *)be;                                                                      \
    tide_store_backend *in = f->inner;                                                             \
    if (hit(f, OP_##op))                                                                           \
        return TIDE_ESTORE;

static void faulty_free(tide_store_backend *be)
{
    faulty *f = (faulty *)be;
    f->inner->free(f->inner);
    tide__free(f);
}

static int f_schema_version(tide_store_backend *be)
{
    ENTER(schema_version);
    return in->schema_version(in);
}

static const char *f_db_path(tide_store_backend *be)
{
    faulty *f = (faulty *)be;
    if (hit(f, OP_db_path))
        return NULL;
    return f->inner->db_path(f->inner);
}

static int f_begin(tide_store_backend *be)
{
    ENTER(begin);
    return in->begin(in);
}

static int f_commit(tide_store_backend *be)
{
    faulty *f = (faulty *)be;
    tide_store_backend *in = f->inner;
    if (hit(f, OP_commit)) {
        /* as a commit that failed in the database: the transaction is gone */
        char msg[256];
        snprintf(msg, sizeof(msg), "%s", tide_error_last());
        in->rollback(in);
        return tide_error_set(TIDE_ESTORE, "%s", msg);
    }
    return in->commit(in);
}

static int f_rollback(tide_store_backend *be)
{
    ENTER(rollback);
    return in->rollback(in);
}

static int f_begin_load(tide_store_backend *be, bool *out_bulk)
{
    ENTER(begin_load);
    return in->begin_load(in, out_bulk);
}

static void f_prefetch_id(tide_store_backend *be, const char *id)
{
    faulty *f = (faulty *)be;
    if (!hit(f, OP_prefetch_id)) /* a hint: a failure is only not passing it on */
        f->inner->prefetch_id(f->inner, id);
}

static int f_put_object(tide_store_backend *be, const tide_object_rec *rec, int *out_status)
{
    ENTER(put_object);
    return in->put_object(in, rec, out_status);
}

static int f_put_indicator(
        tide_store_backend *be, const tide_indicator_rec *ind, const tide_obs_ref *obs, size_t nobs)
{
    ENTER(put_indicator);
    return in->put_indicator(in, ind, obs, nobs);
}

static int f_put_relationship(tide_store_backend *be, const char *id, const char *rel_type,
        const char *source_ref, const char *target_ref)
{
    ENTER(put_relationship);
    return in->put_relationship(in, id, rel_type, source_ref, target_ref);
}

static int f_get(tide_store_backend *be, const char *id, const char *modified, char **out)
{
    ENTER(get);
    return in->get(in, id, modified, out);
}

static int f_versions(tide_store_backend *be, const char *id,
        int (*cb)(const char *modified, void *payload), void *payload)
{
    ENTER(versions);
    return in->versions(in, id, cb, payload);
}

static int f_indicator(tide_store_backend *be, const char *id, tide_indicator_rec *out)
{
    ENTER(indicator);
    return in->indicator(in, id, out);
}

static int f_lookup(tide_store_backend *be, tide_obs_kind kind, const char *value,
        int (*cb)(const char *indicator_id, void *payload), void *payload)
{
    ENTER(lookup);
    return in->lookup(in, kind, value, cb, payload);
}

static int f_indicator_observables(tide_store_backend *be, const char *id,
        int (*cb)(const tide_obs_ref *obs, void *payload), void *payload)
{
    ENTER(indicator_observables);
    return in->indicator_observables(in, id, cb, payload);
}

static int f_related(tide_store_backend *be, const char *id,
        int (*cb)(const tide_relation *rel, void *payload), void *payload)
{
    ENTER(related);
    return in->related(in, id, cb, payload);
}

static int f_search(tide_store_backend *be, const tide_search_query *q,
        int (*cb)(const tide_search_hit *hit, void *payload), void *payload)
{
    ENTER(search);
    return in->search(in, q, cb, payload);
}

static int f_stats_json(tide_store_backend *be, char **out)
{
    ENTER(stats_json);
    return in->stats_json(in, out);
}

static int f_intel_generation(tide_store_backend *be, int64_t *out)
{
    ENTER(intel_generation);
    return in->intel_generation(in, out);
}

static int f_put_warninglist(tide_store_backend *be, const char *name, const char *type,
        const char *description, const char *const *values, size_t n)
{
    ENTER(put_warninglist);
    return in->put_warninglist(in, name, type, description, values, n);
}

static int f_warninglist_entries(tide_store_backend *be,
        int (*cb)(const char *name, const char *type, const char *value, void *payload),
        void *payload)
{
    ENTER(warninglist_entries);
    return in->warninglist_entries(in, cb, payload);
}

static int f_scan(tide_store_backend *be, const tide_indicator_filter *flt, bool selective,
        int (*cb)(const tide_store_scan_row *row, void *payload), void *payload)
{
    ENTER(scan);
    return in->scan(in, flt, selective, cb, payload);
}

static int f_graph(tide_store_backend *be, int (*on_node)(const tide_store_node *n, void *payload),
        int (*on_edge)(const tide_store_edge *e, void *payload), void *payload)
{
    ENTER(graph);
    return in->graph(in, on_node, on_edge, payload);
}

static int f_node(tide_store_backend *be, int64_t key,
        int (*cb)(const tide_store_node *n, void *payload), void *payload)
{
    ENTER(node);
    return in->node(in, key, cb, payload);
}

static int f_edges_of(tide_store_backend *be, int64_t key,
        int (*cb)(const tide_store_edge *e, void *payload), void *payload)
{
    ENTER(edges_of);
    return in->edges_of(in, key, cb, payload);
}

static int f_few_changed(tide_store_backend *be, int64_t since, bool *out_few)
{
    ENTER(few_changed);
    return in->few_changed(in, since, out_few);
}

static int f_put_asset(tide_store_backend *be, const tide_asset *asset)
{
    ENTER(put_asset);
    return in->put_asset(in, asset);
}

static int f_each_asset(
        tide_store_backend *be, int (*cb)(const tide_asset *asset, void *payload), void *payload)
{
    ENTER(each_asset);
    return in->each_asset(in, cb, payload);
}

static int f_export_state_get(tide_store_backend *be, const char *key, int64_t *out_serial,
        char **out_entries, size_t *out_len)
{
    ENTER(export_state_get);
    return in->export_state_get(in, key, out_serial, out_entries, out_len);
}

static int f_export_state_put(tide_store_backend *be, const char *key, const char *format,
        int64_t serial, const char *entries, size_t len)
{
    ENTER(export_state_put);
    return in->export_state_put(in, key, format, serial, entries, len);
}

static int f_put_sightings(tide_store_backend *be, const tide_sighting_rec *recs, size_t n)
{
    ENTER(put_sightings);
    return in->put_sightings(in, recs, n);
}

static int f_sightings(tide_store_backend *be, const tide_sighting_query *q,
        int (*cb)(const tide_sighting_rec *rec, void *payload), void *payload)
{
    ENTER(sightings);
    return in->sightings(in, q, cb, payload);
}

static int f_sighting_by_id(
        tide_store_backend *be, int64_t id, char **out_host, char **out_indicator_id)
{
    ENTER(sighting_by_id);
    return in->sighting_by_id(in, id, out_host, out_indicator_id);
}

static int f_case_put(tide_store_backend *be, const tide_store_case *row, int64_t *out_id)
{
    ENTER(case_put);
    return in->case_put(in, row, out_id);
}

static int f_case_get(tide_store_backend *be, int64_t id,
        int (*cb)(const tide_store_case *row, void *payload), void *payload)
{
    ENTER(case_get);
    return in->case_get(in, id, cb, payload);
}

static int f_case_ids(tide_store_backend *be, int (*cb)(int64_t id, void *payload), void *payload)
{
    ENTER(case_ids);
    return in->case_ids(in, cb, payload);
}

static int f_case_find_covering(
        tide_store_backend *be, const char *host, const char *indicator_id, int64_t *out_id)
{
    ENTER(case_find_covering);
    return in->case_find_covering(in, host, indicator_id, out_id);
}

static int f_case_host_put(
        tide_store_backend *be, int64_t case_id, const tide_store_case_host *host)
{
    ENTER(case_host_put);
    return in->case_host_put(in, case_id, host);
}

static int f_case_hosts(tide_store_backend *be, int64_t case_id,
        int (*cb)(const tide_store_case_host *host, void *payload), void *payload)
{
    ENTER(case_hosts);
    return in->case_hosts(in, case_id, cb, payload);
}

static int f_case_indicators_add(
        tide_store_backend *be, int64_t case_id, const char *const *ids, size_t n)
{
    ENTER(case_indicators_add);
    return in->case_indicators_add(in, case_id, ids, n);
}

static int f_case_indicators(tide_store_backend *be, int64_t case_id,
        int (*cb)(const char *indicator_id, void *payload), void *payload)
{
    ENTER(case_indicators);
    return in->case_indicators(in, case_id, cb, payload);
}

static int f_case_event_add(
        tide_store_backend *be, int64_t case_id, const tide_store_case_event *ev)
{
    ENTER(case_event_add);
    return in->case_event_add(in, case_id, ev);
}

static int f_case_events(tide_store_backend *be, int64_t case_id,
        int (*cb)(const tide_store_case_event *ev, void *payload), void *payload)
{
    ENTER(case_events);
    return in->case_events(in, case_id, cb, payload);
}

static int f_indicator_source_counts(
        tide_store_backend *be, int64_t *out_internal, int64_t *out_external)
{
    ENTER(indicator_source_counts);
    return in->indicator_source_counts(in, out_internal, out_external);
}

int tide__store_faulty_new(tide_store_backend **out, tide_store_backend *inner)
{
    *out = NULL;
    if (inner == NULL)
        return tide_error_set(TIDE_EINVAL, "faulty store backend: nothing to wrap");
    faulty *f = tide__calloc(1, sizeof(*f));
    if (f == NULL) {
        inner->free(inner);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    tide_store_backend *be = &f->parent;
    tide_store_backend_init(be, TIDE_STORE_BACKEND_VERSION);
    f->inner = inner;
    be->free = faulty_free;
    /* the optional functions only when the wrapped backend has them */
    be->schema_version = inner->schema_version ? f_schema_version : NULL;
    be->db_path = inner->db_path ? f_db_path : NULL;
    be->begin_load = inner->begin_load ? f_begin_load : NULL;
    be->prefetch_id = inner->prefetch_id ? f_prefetch_id : NULL;
    be->few_changed = inner->few_changed ? f_few_changed : NULL;
    be->begin = f_begin;
    be->commit = f_commit;
    be->rollback = f_rollback;
    be->put_object = f_put_object;
    be->put_indicator = f_put_indicator;
    be->put_relationship = f_put_relationship;
    be->get = f_get;
    be->versions = f_versions;
    be->indicator = f_indicator;
    be->lookup = f_lookup;
    be->indicator_observables = f_indicator_observables;
    be->related = f_related;
    be->search = f_search;
    be->stats_json = f_stats_json;
    be->intel_generation = f_intel_generation;
    be->put_warninglist = f_put_warninglist;
    be->warninglist_entries = f_warninglist_entries;
    be->scan = f_scan;
    be->graph = f_graph;
    be->node = f_node;
    be->edges_of = f_edges_of;
    be->put_asset = f_put_asset;
    be->each_asset = f_each_asset;
    be->export_state_get = f_export_state_get;
    be->export_state_put = f_export_state_put;
    be->put_sightings = f_put_sightings;
    be->sightings = f_sightings;
    be->sighting_by_id = f_sighting_by_id;
    be->case_put = f_case_put;
    be->case_get = f_case_get;
    be->case_ids = f_case_ids;
    be->case_find_covering = f_case_find_covering;
    be->case_host_put = f_case_host_put;
    be->case_hosts = f_case_hosts;
    be->case_indicators_add = f_case_indicators_add;
    be->case_indicators = f_case_indicators;
    be->case_event_add = f_case_event_add;
    be->case_events = f_case_events;
    be->indicator_source_counts = f_indicator_source_counts;
    *out = be;
    return 0;
}

int tide__store_faulty_fail(tide_store_backend *be, const char *op, long nth)
{
    faulty *f = as_faulty(be);
    int i = op_index(op);
    if (f == NULL || i < 0 || nth < 0)
        return tide_error_set(
                TIDE_EINVAL, "faulty store backend: cannot fail %s", op ? op : "(null)");
    f->fail_in[i] = nth;
    return 0;
}

long tide__store_faulty_calls(tide_store_backend *be, const char *op)
{
    faulty *f = as_faulty(be);
    int i = op_index(op);
    return f == NULL || i < 0 ? -1 : f->calls[i];
}

int tide__store_faulty_hide(tide_store_backend *be, const char *op)
{
    if (as_faulty(be) == NULL || op == NULL)
        return tide_error_set(
                TIDE_EINVAL, "faulty store backend: cannot hide %s", op ? op : "(null)");
    if (strcmp(op, "schema_version") == 0)
        be->schema_version = NULL;
    else if (strcmp(op, "db_path") == 0)
        be->db_path = NULL;
    else if (strcmp(op, "begin_load") == 0)
        be->begin_load = NULL;
    else if (strcmp(op, "prefetch_id") == 0)
        be->prefetch_id = NULL;
    else if (strcmp(op, "few_changed") == 0)
        be->few_changed = NULL;
    else
        return tide_error_set(TIDE_EINVAL, "faulty store backend: %s is not optional", op);
    return 0;
}

tide_store_backend *tide__store_faulty_inner(tide_store_backend *be)
{
    faulty *f = as_faulty(be);
    return f ? f->inner : NULL;
}
