/*
 * store.c - the store front: every public tide_store_* call (include/tide/store.h,
 * sightings.h) checks its arguments and dispatches to the store's backend through the table
 * of include/tide/sys/store_backend.h, and stands in for the optional functions a backend
 * leaves out. tide_store_open opens the SQLite backend (store_sqlite.c);
 * tide_store_open_backend any other. The active-intel scan, which walks the relationship
 * graph above the backend, is in graph.c; the case storage calls src/cases uses are here too
 * (front.h), and each indicator's last sighting (tide_store_last_sighted, from the sightings
 * listing).
 *
 * The checks make a NULL store, record or required string a TIDE_EINVAL for every backend,
 * so no backend needs its own; they cost a few compares per call (a load of a million
 * indicators makes about three million calls).
 */
#include <stdlib.h>
#include <string.h>

#include "store/front.h"
#include "store/front_int.h"
#include "tide/sightings.h"
#include "tide/sys/store_backend.h"
#include "util/util.h"

static int bad_arg(const char *fn, const char *what)
{
    return tide_error_set(TIDE_EINVAL, "%s: %s", fn, what);
}

/* Refuse a call whose argument check c fails. */
#define NEED(c, what)                                                                              \
    do {                                                                                           \
        if (!(c))                                                                                  \
            return bad_arg(__func__, what);                                                        \
    } while (0)
#define NEED_STORE(s) NEED((s) != NULL, "no store")

int tide_store_backend_init(tide_store_backend *be, unsigned int version)
{
    if (be == NULL)
        return bad_arg(__func__, "no backend");
    if (version != TIDE_STORE_BACKEND_VERSION)
        return tide_error_set(TIDE_EINVAL, "store backend version %u: this tide knows version %d",
                version, TIDE_STORE_BACKEND_VERSION);
    memset(be, 0, sizeof(*be));
    be->version = version;
    return 0;
}

/* The first required function a backend lacks, or NULL. */
static const char *missing_function(const tide_store_backend *be)
{
#define REQUIRE(m)                                                                                 \
    if (be->m == NULL)                                                                             \
        return #m;
    REQUIRE(free)
    REQUIRE(begin)
    REQUIRE(commit)
    REQUIRE(rollback)
    REQUIRE(put_object)
    REQUIRE(put_indicator)
    REQUIRE(put_relationship)
    REQUIRE(get)
    REQUIRE(versions)
    REQUIRE(indicator)
    REQUIRE(lookup)
    REQUIRE(indicator_observables)
    REQUIRE(related)
    REQUIRE(search)
    REQUIRE(stats_json)
    REQUIRE(intel_generation)
    REQUIRE(put_warninglist)
    REQUIRE(warninglist_entries)
    REQUIRE(scan)
    REQUIRE(graph)
    REQUIRE(node)
    REQUIRE(edges_of)
    REQUIRE(put_asset)
    REQUIRE(each_asset)
    REQUIRE(export_state_get)
    REQUIRE(export_state_put)
    REQUIRE(put_sightings)
    REQUIRE(sightings)
    REQUIRE(sighting_by_id)
    REQUIRE(case_put)
    REQUIRE(case_get)
    REQUIRE(case_ids)
    REQUIRE(case_find_covering)
    REQUIRE(case_host_put)
    REQUIRE(case_hosts)
    REQUIRE(case_indicators_add)
    REQUIRE(case_indicators)
    REQUIRE(case_event_add)
    REQUIRE(case_events)
    REQUIRE(indicator_source_counts)
#undef REQUIRE
    return NULL;
}

int tide_store_open_backend(tide_store **out, tide_store_backend *be)
{
    NEED(out != NULL, "no out");
    *out = NULL;
    NEED(be != NULL, "no backend");
    if (be->version != TIDE_STORE_BACKEND_VERSION)
        return tide_error_set(TIDE_EINVAL, "store backend version %u: this tide knows version %d",
                be->version, TIDE_STORE_BACKEND_VERSION);
    const char *missing = missing_function(be);
    if (missing)
        return tide_error_set(
                TIDE_EINVAL, "store backend without the required function %s", missing);
    tide_store *s = tide__calloc(1, sizeof(*s));
    TIDE_CHECK_ALLOC(s);
    s->be = be;
    *out = s;
    return 0;
}

int tide_store_open(tide_store **out, const char *dir)
{
    NEED(out != NULL, "no out");
    *out = NULL;
    NEED(dir != NULL, "no folder");
    tide_store_backend *be = NULL;
    TIDE_CHECK(tide_store_backend_sqlite(&be, dir));
    tide_store *s = NULL;
    int rc = tide_store_open_backend(&s, be);
    if (rc < 0) {
        be->free(be);
        return rc;
    }
    *out = s;
    return 0;
}

void tide_store_free(tide_store *s)
{
    if (s == NULL)
        return;
    s->be->free(s->be);
    tide__free(s);
}

tide_store_backend *tide__store_backend(tide_store *s)
{
    return s ? s->be : NULL;
}

const char *tide_store_db_path(const tide_store *s)
{
    if (s == NULL) {
        bad_arg(__func__, "no store");
        return NULL;
    }
    if (s->be->db_path == NULL) {
        tide_error_set(TIDE_EUNSUPPORTED, "this store backend has no database file");
        return NULL;
    }
    return s->be->db_path(s->be);
}

int tide_store_schema_version(tide_store *s)
{
    NEED_STORE(s);
    if (s->be->schema_version == NULL)
        return tide_error_set(TIDE_EUNSUPPORTED, "this store backend has no schema version");
    return s->be->schema_version(s->be);
}

/* ---- transactions ---- */

int tide_store_begin(tide_store *s)
{
    NEED_STORE(s);
    return s->be->begin(s->be);
}

int tide_store_commit(tide_store *s)
{
    NEED_STORE(s);
    return s->be->commit(s->be);
}

int tide_store_rollback(tide_store *s)
{
    NEED_STORE(s);
    return s->be->rollback(s->be);
}

int tide_store_begin_load(tide_store *s, bool *out_bulk)
{
    NEED(out_bulk != NULL, "no out_bulk");
    *out_bulk = false;
    NEED_STORE(s);
    if (s->be->begin_load == NULL) /* no bulk mode: an ordinary transaction */
        return s->be->begin(s->be);
    return s->be->begin_load(s->be, out_bulk);
}

void tide_store_prefetch_id(tide_store *s, const char *id)
{
    if (s && id && s->be->prefetch_id)
        s->be->prefetch_id(s->be, id);
}

/* ---- intel: writes ---- */

int tide_store_put_object(tide_store *s, const tide_object_rec *rec, int *out_status)
{
    NEED_STORE(s);
    NEED(rec != NULL && out_status != NULL, "no record or out_status");
    *out_status = TIDE_PUT_UNCHANGED;
    NEED(rec->id != NULL && rec->type != NULL && rec->json != NULL,
            "an object record needs its id, type and JSON");
    return s->be->put_object(s->be, rec, out_status);
}

int tide_store_put_indicator(
        tide_store *s, const tide_indicator_rec *ind, const tide_obs_ref *obs, size_t nobs)
{
    NEED_STORE(s);
    NEED(ind != NULL && ind->id != NULL, "no indicator or no id");
    NEED(obs != NULL || nobs == 0, "no observables");
    for (size_t i = 0; i < nobs; i++)
        NEED(obs[i].value != NULL, "an observable without value");
    return s->be->put_indicator(s->be, ind, obs, nobs);
}

int tide_store_put_relationship(tide_store *s, const char *id, const char *rel_type,
        const char *source_ref, const char *target_ref)
{
    NEED_STORE(s);
    NEED(id != NULL && rel_type != NULL && source_ref != NULL && target_ref != NULL,
            "a reference needs its id, type, source and target");
    return s->be->put_relationship(s->be, id, rel_type, source_ref, target_ref);
}

/* ---- intel: reads ---- */

int tide_store_get(tide_store *s, const char *id, const char *modified, char **out)
{
    NEED(out != NULL, "no out");
    *out = NULL;
    NEED_STORE(s);
    NEED(id != NULL, "no id");
    return s->be->get(s->be, id, modified, out);
}

int tide_store_versions(tide_store *s, const char *id,
        int (*cb)(const char *modified, void *payload), void *payload)
{
    NEED_STORE(s);
    NEED(id != NULL && cb != NULL, "no id or callback");
    return s->be->versions(s->be, id, cb, payload);
}

int tide_store_indicator(tide_store *s, const char *id, tide_indicator_rec *out)
{
    NEED(out != NULL, "no out");
    memset(out, 0, sizeof(*out));
    NEED_STORE(s);
    NEED(id != NULL, "no id");
    return s->be->indicator(s->be, id, out);
}

int tide_store_lookup(tide_store *s, tide_obs_kind kind, const char *value,
        int (*cb)(const char *indicator_id, void *payload), void *payload)
{
    NEED_STORE(s);
    NEED(value != NULL && cb != NULL, "no value or callback");
    return s->be->lookup(s->be, kind, value, cb, payload);
}

int tide_store_indicator_observables(tide_store *s, const char *id,
        int (*cb)(const tide_obs_ref *obs, void *payload), void *payload)
{
    NEED_STORE(s);
    NEED(id != NULL && cb != NULL, "no id or callback");
    return s->be->indicator_observables(s->be, id, cb, payload);
}

int tide_store_related(tide_store *s, const char *id,
        int (*cb)(const tide_relation *rel, void *payload), void *payload)
{
    NEED_STORE(s);
    NEED(id != NULL && cb != NULL, "no id or callback");
    return s->be->related(s->be, id, cb, payload);
}

int tide__store_related_named(tide_store *s, const char *id,
        int (*cb)(const tide_relation *rel, void *payload), void *payload)
{
    NEED_STORE(s);
    NEED(id != NULL && cb != NULL, "no id or callback");
    return (s->be->related_named ? s->be->related_named : s->be->related)(s->be, id, cb, payload);
}

/* search --related: the backend's objects one hop from the name (or id), plus every
 * indicator the one --related rule selects (tide_indicator_related, through every chain of
 * relationships, as hunt, export and cases select them), with the other conditions of the
 * query; together in the backend's order (type, name, id), the limit applied to the whole. */
typedef struct {
    char *id, *type, *name, *modified, *source, *tlp;
} own_hit;

typedef struct {
    own_hit *v;
    size_t n, cap;
    tide_strmap ids;
    const tide_search_query *q;
    int rc;
} hit_set;

static char *dup_or_null(const char *p)
{
    return p ? tide__strdup(p) : NULL;
}

static int hit_add(hit_set *h, const char *id, const char *type, const char *name,
        const char *modified, const char *source, const char *tlp)
{
    int added = tide__strmap_put(&h->ids, id, strlen(id), 0, NULL);
    if (added <= 0)
        return added;
    if (h->n == h->cap) {
        size_t nc = h->cap ? h->cap * 2 : 64;
        own_hit *nv = tide__realloc(h->v, nc * sizeof(*nv));
        TIDE_CHECK_ALLOC(nv);
        h->v = nv;
        h->cap = nc;
    }
    own_hit *o = &h->v[h->n++];
    *o = (own_hit){ tide__strdup(id), tide__strdup(type), dup_or_null(name), dup_or_null(modified),
        dup_or_null(source), dup_or_null(tlp) };
    if (!o->id || !o->type || (name && !o->name) || (modified && !o->modified) ||
            (source && !o->source) || (tlp && !o->tlp))
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    return 0;
}

static int hit_of_backend(const tide_search_hit *x, void *payload)
{
    return hit_add(payload, x->id, x->type, x->name, x->modified, x->source, x->tlp);
}

static int hit_of_scan(const tide_indicator_obs *r, void *payload)
{
    hit_set *h = payload;
    if (tide__strmap_get(&h->ids, r->id, strlen(r->id)) >= 0)
        return 0; /* its next observable, or found by the backend already */
    char mod[32];
    tide_time_format(r->modified, mod);
    return hit_add(h, r->id, "indicator", r->name, mod, r->source, r->tlp);
}

static int cmp_str(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return (a != NULL) - (b != NULL); /* NULL first, as SQL sorts it */
    return strcmp(a, b);
}

static int cmp_hit(const void *pa, const void *pb)
{
    const own_hit *a = pa, *b = pb;
    int c = strcmp(a->type, b->type);
    if (c == 0)
        c = cmp_str(a->name, b->name);
    return c ? c : strcmp(a->id, b->id);
}

static int search_related(tide_store *s, const tide_search_query *q,
        int (*cb)(const tide_search_hit *hit, void *payload), void *payload)
{
    hit_set h = { NULL, 0, 0, TIDE_STRMAP_INIT, q, 0 };
    tide_search_query bq = *q;
    bq.limit = 0;
    int rc = s->be->search(s->be, &bq, hit_of_backend, &h);
    if (rc == 0 && (q->type == NULL || strcmp(q->type, "indicator") == 0) && q->value == NULL) {
        tide_indicator_filter f = { 0 };
        f.source = q->source;
        f.changed_since = q->since;
        f.include_revoked = true;
        f.related = q->related;
        rc = tide_store_each_indicator_obs(s, &f, hit_of_scan, &h);
    }
    if (rc == 0 && h.n)
        qsort(h.v, h.n, sizeof(*h.v), cmp_hit);
    for (size_t i = 0; rc == 0 && i < h.n && (q->limit <= 0 || (long)i < q->limit); i++) {
        const own_hit *o = &h.v[i];
        tide_search_hit x = { o->id, o->type, o->name, o->modified, o->source, o->tlp };
        rc = cb(&x, payload);
    }
    for (size_t i = 0; i < h.n; i++) {
        tide__free(h.v[i].id);
        tide__free(h.v[i].type);
        tide__free(h.v[i].name);
        tide__free(h.v[i].modified);
        tide__free(h.v[i].source);
        tide__free(h.v[i].tlp);
    }
    tide__free(h.v);
    tide__strmap_free(&h.ids);
    return rc;
}

int tide_store_search(tide_store *s, const tide_search_query *q,
        int (*cb)(const tide_search_hit *hit, void *payload), void *payload)
{
    NEED_STORE(s);
    NEED(q != NULL && cb != NULL, "no query or callback");
    if (q->related)
        return search_related(s, q, cb, payload);
    return s->be->search(s->be, q, cb, payload);
}

int tide_store_stats_json(tide_store *s, char **out)
{
    NEED(out != NULL, "no out");
    *out = NULL;
    NEED_STORE(s);
    return s->be->stats_json(s->be, out);
}

int tide_store_intel_generation(tide_store *s, int64_t *out)
{
    NEED(out != NULL, "no out");
    *out = 0;
    NEED_STORE(s);
    return s->be->intel_generation(s->be, out);
}

/* ---- warninglists ---- */

int tide_store_put_warninglist(tide_store *s, const char *name, const char *type,
        const char *description, const char *const *values, size_t n)
{
    NEED_STORE(s);
    NEED(name != NULL && type != NULL, "a warninglist needs its name and type");
    NEED(values != NULL || n == 0, "no values");
    for (size_t i = 0; i < n; i++)
        NEED(values[i] != NULL, "a NULL warninglist value");
    return s->be->put_warninglist(s->be, name, type, description, values, n);
}

int tide_store_warninglist_entries(tide_store *s,
        int (*cb)(const char *name, const char *type, const char *value, void *payload),
        void *payload)
{
    NEED_STORE(s);
    NEED(cb != NULL, "no callback");
    return s->be->warninglist_entries(s->be, cb, payload);
}

/* ---- assets and export state ---- */

int tide_store_put_asset(tide_store *s, const tide_asset *asset)
{
    NEED_STORE(s);
    if (asset == NULL || asset->host == NULL || *asset->host == '\0')
        return tide_error_set(TIDE_EINVAL, "asset without host");
    NEED((asset->ips != NULL || asset->nips == 0) &&
                    (asset->software != NULL || asset->nsoftware == 0),
            "an asset's lists without their items");
    return s->be->put_asset(s->be, asset);
}

int tide_store_each_asset(
        tide_store *s, int (*cb)(const tide_asset *asset, void *payload), void *payload)
{
    NEED_STORE(s);
    NEED(cb != NULL, "no callback");
    return s->be->each_asset(s->be, cb, payload);
}

int tide_store_export_state_get(
        tide_store *s, const char *key, int64_t *out_serial, char **out_entries, size_t *out_len)
{
    NEED(out_serial != NULL && out_entries != NULL, "no out_serial or out_entries");
    *out_serial = 0;
    *out_entries = NULL;
    if (out_len)
        *out_len = 0;
    NEED_STORE(s);
    NEED(key != NULL, "no key");
    return s->be->export_state_get(s->be, key, out_serial, out_entries, out_len);
}

int tide_store_export_state_put(tide_store *s, const char *key, const char *format, int64_t serial,
        const char *entries, size_t len)
{
    NEED_STORE(s);
    NEED(key != NULL && format != NULL, "no key or format");
    NEED(entries != NULL || len == 0, "no entries");
    return s->be->export_state_put(s->be, key, format, serial, entries, len);
}

/* ---- sightings ---- */

int tide_store_put_sightings(tide_store *s, const tide_sighting_rec *recs, size_t n)
{
    NEED_STORE(s);
    if (n == 0)
        return 0;
    NEED(recs != NULL, "no sightings");
    return s->be->put_sightings(s->be, recs, n);
}

int tide_store_put_positions(tide_store *s, const tide_read_position *v, size_t n)
{
    NEED_STORE(s);
    if (n == 0)
        return 0;
    NEED(v != NULL, "no positions");
    if (s->be->put_positions == NULL)
        return tide_error_set(TIDE_EUNSUPPORTED, "this store keeps no read positions");
    return s->be->put_positions(s->be, v, n);
}

int tide_store_positions(
        tide_store *s, int (*cb)(const char *key, uint64_t pos, void *payload), void *payload)
{
    NEED_STORE(s);
    NEED(cb != NULL, "no callback");
    if (s->be->positions == NULL)
        return 0;
    return s->be->positions(s->be, cb, payload);
}

int tide_store_sightings(tide_store *s, const tide_sighting_query *q,
        int (*cb)(const tide_sighting_rec *rec, void *payload), void *payload)
{
    NEED_STORE(s);
    NEED(cb != NULL, "no callback");
    return s->be->sightings(s->be, q, cb, payload);
}

/* Each indicator's latest unsuppressed sighting, above the backend: the sightings listing
 * comes most recent first, so the first row of an indicator id has its latest last_seen.
 * (One GROUP BY query would read less on a large sightings table: an optional member of the
 * backend table, and so a contract version, for another day.) */
typedef struct {
    tide_strmap seen; /* indicator ids reported */
    int (*cb)(const char *indicator_id, int64_t last_seen, void *payload);
    void *payload;
} last_sighted_ctx;

static int last_sighted_row(const tide_sighting_rec *r, void *payload)
{
    last_sighted_ctx *c = payload;
    if (r->suppressed || r->indicator_id == NULL)
        return 0;
    int added = tide__strmap_put(&c->seen, r->indicator_id, strlen(r->indicator_id), 0, NULL);
    if (added <= 0)
        return added;
    return c->cb(r->indicator_id, r->last_seen, c->payload);
}

int tide_store_last_sighted(tide_store *s,
        int (*cb)(const char *indicator_id, int64_t last_seen, void *payload), void *payload)
{
    NEED_STORE(s);
    NEED(cb != NULL, "no callback");
    last_sighted_ctx c = { TIDE_STRMAP_INIT, cb, payload };
    tide_sighting_query q = { 0 }; /* every host and indicator, suppressed ones left out */
    int rc = s->be->sightings(s->be, &q, last_sighted_row, &c);
    tide__strmap_free(&c.seen);
    return rc;
}

int tide__sighting_by_id(tide_store *s, int64_t id, char **out_host, char **out_indicator_id)
{
    NEED(out_host != NULL && out_indicator_id != NULL, "no out_host or out_indicator_id");
    *out_host = *out_indicator_id = NULL;
    NEED_STORE(s);
    return s->be->sighting_by_id(s->be, id, out_host, out_indicator_id);
}

/* ---- cases (front.h) ---- */

int tide__store_case_put(tide_store *s, const tide_store_case *row, int64_t *out_id)
{
    NEED_STORE(s);
    NEED(row != NULL && row->status != NULL && row->seed_host != NULL &&
                    row->seed_indicator != NULL && row->doc != NULL,
            "a case row needs its status, seeds and document");
    int64_t id = 0;
    TIDE_CHECK(s->be->case_put(s->be, row, &id));
    if (out_id)
        *out_id = id;
    return 0;
}

int tide__store_case_get(tide_store *s, int64_t id,
        int (*cb)(const tide_store_case *row, void *payload), void *payload)
{
    NEED_STORE(s);
    NEED(cb != NULL, "no callback");
    return s->be->case_get(s->be, id, cb, payload);
}

int tide__store_case_ids(tide_store *s, int (*cb)(int64_t id, void *payload), void *payload)
{
    NEED_STORE(s);
    NEED(cb != NULL, "no callback");
    return s->be->case_ids(s->be, cb, payload);
}

int tide__store_case_find_covering(
        tide_store *s, const char *host, const char *indicator_id, int64_t *out_id)
{
    NEED(out_id != NULL, "no out_id");
    *out_id = 0;
    NEED_STORE(s);
    NEED(host != NULL && indicator_id != NULL, "no host or indicator");
    return s->be->case_find_covering(s->be, host, indicator_id, out_id);
}

int tide__store_case_host_put(tide_store *s, int64_t case_id, const tide_store_case_host *host)
{
    NEED_STORE(s);
    NEED(host != NULL && host->host != NULL && host->status != NULL && host->state != NULL,
            "a case host needs its host, status and state");
    return s->be->case_host_put(s->be, case_id, host);
}

int tide__store_case_hosts(tide_store *s, int64_t case_id,
        int (*cb)(const tide_store_case_host *host, void *payload), void *payload)
{
    NEED_STORE(s);
    NEED(cb != NULL, "no callback");
    return s->be->case_hosts(s->be, case_id, cb, payload);
}

int tide__store_case_indicators_add(
        tide_store *s, int64_t case_id, const char *const *ids, size_t n)
{
    NEED_STORE(s);
    NEED(ids != NULL || n == 0, "no ids");
    for (size_t i = 0; i < n; i++)
        NEED(ids[i] != NULL, "a NULL indicator id");
    return s->be->case_indicators_add(s->be, case_id, ids, n);
}

int tide__store_case_indicators(tide_store *s, int64_t case_id,
        int (*cb)(const char *indicator_id, void *payload), void *payload)
{
    NEED_STORE(s);
    NEED(cb != NULL, "no callback");
    return s->be->case_indicators(s->be, case_id, cb, payload);
}

int tide__store_case_event_add(tide_store *s, int64_t case_id, const tide_store_case_event *ev)
{
    NEED_STORE(s);
    NEED(ev != NULL && ev->kind != NULL && ev->text != NULL, "an event needs its kind and text");
    return s->be->case_event_add(s->be, case_id, ev);
}

int tide__store_case_events(tide_store *s, int64_t case_id,
        int (*cb)(const tide_store_case_event *ev, void *payload), void *payload)
{
    NEED_STORE(s);
    NEED(cb != NULL, "no callback");
    return s->be->case_events(s->be, case_id, cb, payload);
}

int tide__indicator_source_counts(tide_store *s, int64_t *out_internal, int64_t *out_external)
{
    NEED(out_internal != NULL && out_external != NULL, "no out_internal or out_external");
    *out_internal = *out_external = 0;
    NEED_STORE(s);
    return s->be->indicator_source_counts(s->be, out_internal, out_external);
}
