/*
 * front.h - calls of the store front that other parts of the library use and the public API
 * does not offer: the storage of response cases (src/cases converts its JSON documents to and
 * from these plain rows: the store knows nothing of jansson or of src/cases), a sighting by
 * id, the indicator counts of the metrics, and the store's folder. Each checks its arguments
 * and calls the backend function of the same name (include/tide/sys/store_backend.h, which
 * also says what each does).
 */
#ifndef TIDE_STORE_FRONT_H
#define TIDE_STORE_FRONT_H

#include <stddef.h>
#include <stdint.h>

#include "tide/store.h"
#include "tide/sys/store_backend.h"

int tide__store_case_put(tide_store *s, const tide_store_case *row, int64_t *out_id);
int tide__store_case_get(tide_store *s, int64_t id,
        int (*cb)(const tide_store_case *row, void *payload), void *payload);
int tide__store_case_ids(tide_store *s, int (*cb)(int64_t id, void *payload), void *payload);
int tide__store_case_find_covering(
        tide_store *s, const char *host, const char *indicator_id, int64_t *out_id);
int tide__store_case_host_put(tide_store *s, int64_t case_id, const tide_store_case_host *host);
int tide__store_case_hosts(tide_store *s, int64_t case_id,
        int (*cb)(const tide_store_case_host *host, void *payload), void *payload);
int tide__store_case_indicators_add(
        tide_store *s, int64_t case_id, const char *const *ids, size_t n);
int tide__store_case_indicators(tide_store *s, int64_t case_id,
        int (*cb)(const char *indicator_id, void *payload), void *payload);
int tide__store_case_event_add(tide_store *s, int64_t case_id, const tide_store_case_event *ev);
int tide__store_case_events(tide_store *s, int64_t case_id,
        int (*cb)(const tide_store_case_event *ev, void *payload), void *payload);

/* A stored sighting by its id: host and indicator id (newly allocated). TIDE_ENOTFOUND. */
int tide__sighting_by_id(tide_store *s, int64_t id, char **out_host, char **out_indicator_id);

/* Count current indicators by whether their source is "internal". */
int tide__indicator_source_counts(tide_store *s, int64_t *out_internal, int64_t *out_external);

/* API keys and the audit log (store_keys.c; include/tide/auth.h is the public side):
 * TIDE_EUNSUPPORTED when the backend keeps none. */
int tide__store_key_put(tide_store *s, const tide_store_key *key);
int tide__store_key_by_hash(tide_store *s, const char *hash,
        int (*cb)(const tide_store_key *key, void *payload), void *payload);
int tide__store_keys(
        tide_store *s, int (*cb)(const tide_store_key *key, void *payload), void *payload);
int tide__store_key_revoke(tide_store *s, const char *name, int64_t at);
int tide__store_audit_add(tide_store *s, const tide_store_audit *e);
int tide__store_audit(tide_store *s, int64_t since, long limit,
        int (*cb)(const tide_store_audit *e, void *payload), void *payload);

/* Object versions in the order they were added (store_added.c): TIDE_EUNSUPPORTED when the
 * backend cannot list them. */
int tide__store_added(tide_store *s, const tide_store_added_query *q,
        int (*cb)(const tide_store_added_row *row, void *payload), void *payload);

/* Delete versions of an object (store_delete.c; the backend's delete_versions says how):
 * TIDE_EUNSUPPORTED when the backend cannot. out is zeroed first; free its strings with
 * tide__store_deleted_free. */
int tide__store_delete_versions(tide_store *s, const char *id, const char *const *versions,
        size_t n, tide_store_deleted *out);
void tide__store_deleted_free(tide_store_deleted *d);

/* tide_store_related, only the relationships whose other end is a named object (the backend's
 * related_named, or related when it has none; the caller still checks the type). */
int tide__store_related_named(tide_store *s, const char *id,
        int (*cb)(const tide_relation *rel, void *payload), void *payload);

#endif
