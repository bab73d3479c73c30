/*
 * store_cases.c - SQL of the response / recovery cases (migration 4, src/cases/case_store.h):
 * case rows with their computed document, hosts and their recovery state, the indicators a
 * case covers, and the case timeline. Rows are exchanged as jansson objects.
 */
#include <string.h>

#include "cases/case_store.h"
#include "store_int.h"
#include "tide/errors.h"
#include "util/util.h"

const char *tide__store_dir(tide_store *s)
{
    return s->dir;
}

static int prep(tide_store *s, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
        return tide__store_db_error(s, "prepare");
    return 0;
}

static int step_done(tide_store *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return tide__store_db_error(s, what);
    return 0;
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void bind_int_or_null(sqlite3_stmt *st, int i, json_t *v)
{
    if (json_is_integer(v))
        sqlite3_bind_int64(st, i, json_integer_value(v));
    else
        sqlite3_bind_null(st, i);
}

static json_t *col_json_int(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return json_null();
    return json_integer(sqlite3_column_int64(st, i));
}

static json_t *col_json_str(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    return t ? json_string(t) : json_null();
}

int tide__case_put(tide_store *s, json_t *row, int64_t *out_id)
{
    sqlite3_stmt *st = NULL;
    int64_t id = json_integer_value(json_object_get(row, "id"));
    char *doc = json_dumps(json_object_get(row, "doc"), JSON_COMPACT);
    json_t *l = json_object_get(row, "lessons");
    char *lessons = json_is_object(l) ? json_dumps(l, JSON_COMPACT) : NULL;
    int rc;
    if (doc == NULL) {
        rc = tide_error_set(TIDE_ENOMEM, "out of memory");
        goto done;
    }
    if (id > 0)
        rc = prep(s,
                "UPDATE cases SET status=?1, tier=?2, opened_at=?3, updated_at=?4,"
                " closed_at=?5, seed_host=?6, seed_indicator=?7, tlp=?8, doc=?9,"
                " lessons=?10 WHERE id=?11",
                &st);
    else
        rc = prep(s,
                "INSERT INTO cases(status, tier, opened_at, updated_at, closed_at,"
                " seed_host, seed_indicator, tlp, doc, lessons)"
                " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
                &st);
    if (rc < 0)
        goto done;
    tide__store_bind_text(st, 1, jstr(row, "status") ? jstr(row, "status") : "open");
    sqlite3_bind_int64(st, 2, json_integer_value(json_object_get(row, "tier")));
    sqlite3_bind_int64(st, 3, json_integer_value(json_object_get(row, "opened_at")));
    sqlite3_bind_int64(st, 4, json_integer_value(json_object_get(row, "updated_at")));
    bind_int_or_null(st, 5, json_object_get(row, "closed_at"));
    tide__store_bind_text(st, 6, jstr(row, "seed_host") ? jstr(row, "seed_host") : "");
    tide__store_bind_text(st, 7, jstr(row, "seed_indicator") ? jstr(row, "seed_indicator") : "");
    tide__store_bind_text(st, 8, jstr(row, "tlp"));
    tide__store_bind_text(st, 9, doc);
    tide__store_bind_text(st, 10, lessons);
    if (id > 0)
        sqlite3_bind_int64(st, 11, id);
    rc = step_done(s, st, "case put");
    st = NULL;
    if (rc == 0 && id <= 0) {
        id = sqlite3_last_insert_rowid(s->db);
        json_object_set_new(row, "id", json_integer(id));
    }
    if (rc == 0 && out_id)
        *out_id = id;
done:
    if (st)
        sqlite3_finalize(st);
    free(doc);
    free(lessons);
    return rc;
}

int tide__case_get(tide_store *s, int64_t id, json_t **out)
{
    sqlite3_stmt *st = NULL;
    *out = NULL;
    TIDE_CHECK(prep(s,
            "SELECT id, status, tier, opened_at, updated_at, closed_at, seed_host,"
            " seed_indicator, tlp, doc, lessons FROM cases WHERE id=?1",
            &st));
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_finalize(st);
        return tide_error_set(TIDE_ENOTFOUND, "no case %lld", (long long)id);
    }
    if (rc != SQLITE_ROW) {
        rc = tide__store_db_error(s, "case get");
        sqlite3_finalize(st);
        return rc;
    }
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(sqlite3_column_int64(st, 0)));
    json_object_set_new(o, "status", col_json_str(st, 1));
    json_object_set_new(o, "tier", json_integer(sqlite3_column_int64(st, 2)));
    json_object_set_new(o, "opened_at", col_json_int(st, 3));
    json_object_set_new(o, "updated_at", col_json_int(st, 4));
    json_object_set_new(o, "closed_at", col_json_int(st, 5));
    json_object_set_new(o, "seed_host", col_json_str(st, 6));
    json_object_set_new(o, "seed_indicator", col_json_str(st, 7));
    json_object_set_new(o, "tlp", col_json_str(st, 8));
    const char *doc = (const char *)sqlite3_column_text(st, 9);
    const char *les = (const char *)sqlite3_column_text(st, 10);
    json_t *d = doc ? json_loads(doc, 0, NULL) : NULL;
    json_object_set_new(o, "doc", d ? d : json_object());
    json_t *l = les ? json_loads(les, 0, NULL) : NULL;
    json_object_set_new(o, "lessons", l ? l : json_null());
    sqlite3_finalize(st);
    *out = o;
    return 0;
}

int tide__case_ids(tide_store *s, json_t **out)
{
    sqlite3_stmt *st = NULL;
    TIDE_CHECK(prep(s, "SELECT id FROM cases ORDER BY id", &st));
    json_t *a = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(a, json_integer(sqlite3_column_int64(st, 0)));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(a);
        return tide__store_db_error(s, "case list");
    }
    *out = a;
    return 0;
}

int tide__case_find_covering(
        tide_store *s, const char *host, const char *indicator_id, int64_t *out_id)
{
    sqlite3_stmt *st = NULL;
    *out_id = 0;
    TIDE_CHECK(prep(s,
            "SELECT c.id FROM cases c JOIN case_hosts h ON h.case_id = c.id"
            " JOIN case_indicators i ON i.case_id = c.id"
            " WHERE c.status = 'open' AND h.host = ?1 AND i.indicator_id = ?2"
            " ORDER BY c.id LIMIT 1",
            &st));
    tide__store_bind_text(st, 1, host);
    tide__store_bind_text(st, 2, indicator_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out_id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return tide__store_db_error(s, "case lookup");
    return 0;
}

int tide__case_host_put(tide_store *s, int64_t case_id, json_t *h)
{
    sqlite3_stmt *st = NULL;
    TIDE_CHECK(prep(s,
            "INSERT OR REPLACE INTO case_hosts(case_id, host, status, state, state_at,"
            " recovered_at, relapses, first_seen, last_seen)"
            " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
            &st));
    sqlite3_bind_int64(st, 1, case_id);
    tide__store_bind_text(st, 2, jstr(h, "host"));
    tide__store_bind_text(st, 3, jstr(h, "status") ? jstr(h, "status") : "silent");
    tide__store_bind_text(st, 4, jstr(h, "state") ? jstr(h, "state") : "affected");
    sqlite3_bind_int64(st, 5, json_integer_value(json_object_get(h, "state_at")));
    bind_int_or_null(st, 6, json_object_get(h, "recovered_at"));
    sqlite3_bind_int64(st, 7, json_integer_value(json_object_get(h, "relapses")));
    bind_int_or_null(st, 8, json_object_get(h, "first_seen"));
    bind_int_or_null(st, 9, json_object_get(h, "last_seen"));
    return step_done(s, st, "case host put");
}

int tide__case_hosts(tide_store *s, int64_t case_id, json_t **out)
{
    sqlite3_stmt *st = NULL;
    TIDE_CHECK(prep(s,
            "SELECT host, status, state, state_at, recovered_at, relapses, first_seen,"
            " last_seen FROM case_hosts WHERE case_id = ?1 ORDER BY host",
            &st));
    sqlite3_bind_int64(st, 1, case_id);
    json_t *a = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_object();
        json_object_set_new(o, "host", col_json_str(st, 0));
        json_object_set_new(o, "status", col_json_str(st, 1));
        json_object_set_new(o, "state", col_json_str(st, 2));
        json_object_set_new(o, "state_at", col_json_int(st, 3));
        json_object_set_new(o, "recovered_at", col_json_int(st, 4));
        json_object_set_new(o, "relapses", col_json_int(st, 5));
        json_object_set_new(o, "first_seen", col_json_int(st, 6));
        json_object_set_new(o, "last_seen", col_json_int(st, 7));
        json_array_append_new(a, o);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(a);
        return tide__store_db_error(s, "case hosts");
    }
    *out = a;
    return 0;
}

int tide__case_indicators_add(tide_store *s, int64_t case_id, json_t *ids)
{
    sqlite3_stmt *st = NULL;
    TIDE_CHECK(prep(s,
            "INSERT OR IGNORE INTO case_indicators(case_id, indicator_id)"
            " VALUES (?1, ?2)",
            &st));
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
    {
        sqlite3_bind_int64(st, 1, case_id);
        tide__store_bind_text(st, 2, json_string_value(v));
        if (sqlite3_step(st) != SQLITE_DONE) {
            int rc = tide__store_db_error(s, "case indicators");
            sqlite3_finalize(st);
            return rc;
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return 0;
}

int tide__case_indicators(tide_store *s, int64_t case_id, json_t **out)
{
    sqlite3_stmt *st = NULL;
    TIDE_CHECK(prep(s,
            "SELECT indicator_id FROM case_indicators WHERE case_id = ?1"
            " ORDER BY indicator_id",
            &st));
    sqlite3_bind_int64(st, 1, case_id);
    json_t *a = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(a, col_json_str(st, 0));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(a);
        return tide__store_db_error(s, "case indicators");
    }
    *out = a;
    return 0;
}

int tide__case_event_add(tide_store *s, int64_t case_id, int64_t at, const char *kind,
        const char *host, const char *actor, const char *text)
{
    sqlite3_stmt *st = NULL;
    TIDE_CHECK(prep(s,
            "INSERT INTO case_events(case_id, at, kind, host, actor, text)"
            " VALUES (?1,?2,?3,?4,?5,?6)",
            &st));
    sqlite3_bind_int64(st, 1, case_id);
    sqlite3_bind_int64(st, 2, at);
    tide__store_bind_text(st, 3, kind);
    tide__store_bind_text(st, 4, host);
    tide__store_bind_text(st, 5, actor);
    tide__store_bind_text(st, 6, text);
    return step_done(s, st, "case event");
}

int tide__case_events(tide_store *s, int64_t case_id, json_t **out)
{
    sqlite3_stmt *st = NULL;
    TIDE_CHECK(prep(s,
            "SELECT at, kind, host, actor, text FROM case_events WHERE case_id = ?1"
            " ORDER BY id",
            &st));
    sqlite3_bind_int64(st, 1, case_id);
    json_t *a = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_object();
        json_object_set_new(o, "at", col_json_int(st, 0));
        json_object_set_new(o, "kind", col_json_str(st, 1));
        json_object_set_new(o, "host", col_json_str(st, 2));
        json_object_set_new(o, "actor", col_json_str(st, 3));
        json_object_set_new(o, "text", col_json_str(st, 4));
        json_array_append_new(a, o);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(a);
        return tide__store_db_error(s, "case events");
    }
    *out = a;
    return 0;
}

int tide__sighting_by_id(tide_store *s, int64_t id, char **out_host, char **out_indicator_id)
{
    sqlite3_stmt *st = NULL;
    TIDE_CHECK(prep(s, "SELECT host, indicator_id FROM sightings WHERE id = ?1", &st));
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        if (rc == SQLITE_DONE)
            return tide_error_set(TIDE_ENOTFOUND, "no sighting %lld", (long long)id);
        return tide__store_db_error(s, "sighting get");
    }
    *out_host = tide__strdup((const char *)sqlite3_column_text(st, 0));
    *out_indicator_id = tide__strdup((const char *)sqlite3_column_text(st, 1));
    sqlite3_finalize(st);
    if (*out_host == NULL || *out_indicator_id == NULL) {
        tide__free(*out_host);
        tide__free(*out_indicator_id);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    return 0;
}

int tide__indicator_source_counts(tide_store *s, int64_t *out_internal, int64_t *out_external)
{
    sqlite3_stmt *st = NULL;
    TIDE_CHECK(prep(s,
            "SELECT source = 'internal', sum(n) FROM object_counts"
            " WHERE type = 'indicator' GROUP BY 1",
            &st));
    *out_internal = *out_external = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_int(st, 0))
            *out_internal += sqlite3_column_int64(st, 1);
        else
            *out_external += sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return tide__store_db_error(s, "indicator counts");
    return 0;
}
