/*
 * store_cases.c - SQL of the response / recovery cases (migration 4) for the SQLite backend:
 * case rows with their computed document (JSON text, which src/cases reads and writes),
 * hosts and their recovery state, the indicators a case covers, and the case timeline; also
 * a sighting by id and the indicator counts the metrics use. Rows are plain structs
 * (include/tide/sys/store_backend.h); TIDE_STORE_NULL stands for SQL NULL in integers.
 */
#include <string.h>

#include "store/store_int.h"
#include "tide/errors.h"
#include "util/util.h"

static int prep(tide__sqlite *s, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
        return tide__store_db_error(s, "prepare");
    return 0;
}

static int step_done(tide__sqlite *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return tide__store_db_error(s, what);
    return 0;
}

static void bind_int_or_null(sqlite3_stmt *st, int i, int64_t v)
{
    if (v != TIDE_STORE_NULL)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static int64_t col_int(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return TIDE_STORE_NULL;
    return sqlite3_column_int64(st, i);
}

static const char *col_str(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

int tide__sqlite_case_put(tide_store_backend *be, const tide_store_case *row, int64_t *out_id)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st = NULL;
    int64_t id = row->id;
    int rc;
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
        return rc;
    tide__store_bind_text(st, 1, row->status);
    sqlite3_bind_int64(st, 2, row->tier);
    sqlite3_bind_int64(st, 3, row->opened_at);
    sqlite3_bind_int64(st, 4, row->updated_at);
    bind_int_or_null(st, 5, row->closed_at);
    tide__store_bind_text(st, 6, row->seed_host);
    tide__store_bind_text(st, 7, row->seed_indicator);
    tide__store_bind_text(st, 8, row->tlp);
    tide__store_bind_text(st, 9, row->doc);
    tide__store_bind_text(st, 10, row->lessons);
    if (id > 0)
        sqlite3_bind_int64(st, 11, id);
    TIDE_CHECK(step_done(s, st, "case put"));
    if (id <= 0)
        id = sqlite3_last_insert_rowid(s->db);
    *out_id = id;
    return 0;
}

int tide__sqlite_case_get(tide_store_backend *be, int64_t id,
        int (*cb)(const tide_store_case *row, void *payload), void *payload)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st = NULL;
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
    tide_store_case c = {
        .id = sqlite3_column_int64(st, 0),
        .status = col_str(st, 1),
        .tier = sqlite3_column_int64(st, 2),
        .opened_at = col_int(st, 3),
        .updated_at = col_int(st, 4),
        .closed_at = col_int(st, 5),
        .seed_host = col_str(st, 6),
        .seed_indicator = col_str(st, 7),
        .tlp = col_str(st, 8),
        .doc = col_str(st, 9),
        .lessons = col_str(st, 10),
    };
    rc = cb(&c, payload);
    sqlite3_finalize(st);
    return rc;
}

int tide__sqlite_case_ids(
        tide_store_backend *be, int (*cb)(int64_t id, void *payload), void *payload)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st = NULL;
    TIDE_CHECK(prep(s, "SELECT id FROM cases ORDER BY id", &st));
    int step, rc = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = cb(sqlite3_column_int64(st, 0), payload)) != 0)
            break;
    if (rc == 0 && step != SQLITE_DONE)
        rc = tide__store_db_error(s, "case list");
    sqlite3_finalize(st);
    return rc;
}

int tide__sqlite_case_find_covering(
        tide_store_backend *be, const char *host, const char *indicator_id, int64_t *out_id)
{
    tide__sqlite *s = tide__sq(be);
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
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        rc = tide__store_db_error(s, "case lookup");
        sqlite3_finalize(st);
        return rc;
    }
    sqlite3_finalize(st);
    return 0;
}

int tide__sqlite_case_host_put(
        tide_store_backend *be, int64_t case_id, const tide_store_case_host *h)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st = NULL;
    TIDE_CHECK(prep(s,
            "INSERT OR REPLACE INTO case_hosts(case_id, host, status, state, state_at,"
            " recovered_at, relapses, first_seen, last_seen)"
            " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
            &st));
    sqlite3_bind_int64(st, 1, case_id);
    tide__store_bind_text(st, 2, h->host);
    tide__store_bind_text(st, 3, h->status);
    tide__store_bind_text(st, 4, h->state);
    sqlite3_bind_int64(st, 5, h->state_at);
    bind_int_or_null(st, 6, h->recovered_at);
    sqlite3_bind_int64(st, 7, h->relapses);
    bind_int_or_null(st, 8, h->first_seen);
    bind_int_or_null(st, 9, h->last_seen);
    return step_done(s, st, "case host put");
}

int tide__sqlite_case_hosts(tide_store_backend *be, int64_t case_id,
        int (*cb)(const tide_store_case_host *host, void *payload), void *payload)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st = NULL;
    TIDE_CHECK(prep(s,
            "SELECT host, status, state, state_at, recovered_at, relapses, first_seen,"
            " last_seen FROM case_hosts WHERE case_id = ?1 ORDER BY host",
            &st));
    sqlite3_bind_int64(st, 1, case_id);
    int step, rc = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        tide_store_case_host h = {
            .host = col_str(st, 0),
            .status = col_str(st, 1),
            .state = col_str(st, 2),
            .state_at = col_int(st, 3),
            .recovered_at = col_int(st, 4),
            .relapses = col_int(st, 5),
            .first_seen = col_int(st, 6),
            .last_seen = col_int(st, 7),
        };
        if ((rc = cb(&h, payload)) != 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = tide__store_db_error(s, "case hosts");
    sqlite3_finalize(st);
    return rc;
}

int tide__sqlite_case_indicators_add(
        tide_store_backend *be, int64_t case_id, const char *const *ids, size_t n)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st = NULL;
    TIDE_CHECK(prep(s,
            "INSERT OR IGNORE INTO case_indicators(case_id, indicator_id)"
            " VALUES (?1, ?2)",
            &st));
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(st, 1, case_id);
        tide__store_bind_text(st, 2, ids[i]);
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

int tide__sqlite_case_indicators(tide_store_backend *be, int64_t case_id,
        int (*cb)(const char *indicator_id, void *payload), void *payload)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st = NULL;
    TIDE_CHECK(prep(s,
            "SELECT indicator_id FROM case_indicators WHERE case_id = ?1"
            " ORDER BY indicator_id",
            &st));
    sqlite3_bind_int64(st, 1, case_id);
    int step, rc = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = cb(col_str(st, 0), payload)) != 0)
            break;
    if (rc == 0 && step != SQLITE_DONE)
        rc = tide__store_db_error(s, "case indicators");
    sqlite3_finalize(st);
    return rc;
}

int tide__sqlite_case_event_add(
        tide_store_backend *be, int64_t case_id, const tide_store_case_event *ev)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st = NULL;
    TIDE_CHECK(prep(s,
            "INSERT INTO case_events(case_id, at, kind, host, actor, text)"
            " VALUES (?1,?2,?3,?4,?5,?6)",
            &st));
    sqlite3_bind_int64(st, 1, case_id);
    sqlite3_bind_int64(st, 2, ev->at);
    tide__store_bind_text(st, 3, ev->kind);
    tide__store_bind_text(st, 4, ev->host);
    tide__store_bind_text(st, 5, ev->actor);
    tide__store_bind_text(st, 6, ev->text);
    return step_done(s, st, "case event");
}

int tide__sqlite_case_events(tide_store_backend *be, int64_t case_id,
        int (*cb)(const tide_store_case_event *ev, void *payload), void *payload)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st = NULL;
    TIDE_CHECK(prep(s,
            "SELECT at, kind, host, actor, text FROM case_events WHERE case_id = ?1"
            " ORDER BY id",
            &st));
    sqlite3_bind_int64(st, 1, case_id);
    int step, rc = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        tide_store_case_event ev = {
            .at = col_int(st, 0),
            .kind = col_str(st, 1),
            .host = col_str(st, 2),
            .actor = col_str(st, 3),
            .text = col_str(st, 4),
        };
        if ((rc = cb(&ev, payload)) != 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = tide__store_db_error(s, "case events");
    sqlite3_finalize(st);
    return rc;
}

int tide__sqlite_sighting_by_id(
        tide_store_backend *be, int64_t id, char **out_host, char **out_indicator_id)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st = NULL;
    TIDE_CHECK(prep(s, "SELECT host, indicator_id FROM sightings WHERE id = ?1", &st));
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        if (rc == SQLITE_DONE)
            rc = tide_error_set(TIDE_ENOTFOUND, "no sighting %lld", (long long)id);
        else
            rc = tide__store_db_error(s, "sighting get");
        sqlite3_finalize(st);
        return rc;
    }
    *out_host = tide__strdup(col_str(st, 0));
    *out_indicator_id = tide__strdup(col_str(st, 1));
    sqlite3_finalize(st);
    if (*out_host == NULL || *out_indicator_id == NULL) {
        tide__free(*out_host);
        tide__free(*out_indicator_id);
        *out_host = *out_indicator_id = NULL;
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    return 0;
}

int tide__sqlite_indicator_source_counts(
        tide_store_backend *be, int64_t *out_internal, int64_t *out_external)
{
    tide__sqlite *s = tide__sq(be);
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
    if (rc != SQLITE_DONE) {
        rc = tide__store_db_error(s, "indicator counts");
        sqlite3_finalize(st);
        return rc;
    }
    sqlite3_finalize(st);
    return 0;
}
