/*
 * store_sightings.c - SQL of the sightings table (include/tide/sightings.h): an upsert that
 * merges a batch of aggregated sightings (and their user names into sighting_users), and the
 * listing query; the registry of read positions (how far each input's sightings are stored),
 * written in the sightings' transaction.
 */
#include <string.h>

#include "store/store_int.h"
#include "tide/sightings.h"
#include "util/util.h"

static const char *const upsert_sql =
        "INSERT INTO sightings(host, indicator_id, indicator, kind, observed, field, file, line,"
        " first_seen, last_seen, live_count, retro_count, suppressed, recorded_at, updated_at)"
        " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?14)"
        " ON CONFLICT(host, indicator_id, indicator) DO UPDATE SET"
        "  observed = CASE WHEN excluded.first_seen < first_seen THEN excluded.observed ELSE "
        "observed END,"
        "  field = CASE WHEN excluded.first_seen < first_seen THEN excluded.field ELSE field END,"
        "  file = CASE WHEN excluded.first_seen < first_seen THEN excluded.file ELSE file END,"
        "  line = CASE WHEN excluded.first_seen < first_seen THEN excluded.line ELSE line END,"
        "  first_seen = min(first_seen, excluded.first_seen),"
        "  last_seen = max(last_seen, excluded.last_seen),"
        "  live_count = live_count + excluded.live_count,"
        "  retro_count = max(retro_count, excluded.retro_count),"
        "  suppressed = excluded.suppressed, updated_at = excluded.updated_at";

/* a user name of a sighting, unless the row has its TIDE_SIGHTING_MAX_USERS already; seq keeps
 * the order they were first seen in */
static const char *const user_sql =
        "INSERT INTO sighting_users(host, indicator_id, indicator, user, seq)"
        " SELECT ?1, ?2, ?3, ?4, (SELECT count(*) FROM sighting_users WHERE host = ?1"
        "  AND indicator_id = ?2 AND indicator = ?3) AS n WHERE n < ?5"
        " ON CONFLICT(host, indicator_id, indicator, user) DO NOTHING";

static int put_users(tide__sqlite *s, sqlite3_stmt **st, const tide_sighting_rec *r)
{
    if (*st == NULL && sqlite3_prepare_v2(s->db, user_sql, -1, st, NULL) != SQLITE_OK)
        return tide__store_db_error(s, "prepare");
    for (const char *p = r->users; *p;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n) {
            sqlite3_reset(*st);
            tide__store_bind_text(*st, 1, r->host ? r->host : "");
            tide__store_bind_text(*st, 2, r->indicator_id);
            tide__store_bind_text(*st, 3, r->indicator);
            sqlite3_bind_text(*st, 4, p, (int)n, SQLITE_TRANSIENT);
            sqlite3_bind_int(*st, 5, TIDE_SIGHTING_MAX_USERS);
            if (sqlite3_step(*st) != SQLITE_DONE)
                return tide__store_db_error(s, "store sighting user");
        }
        p += n + (e != NULL);
    }
    return 0;
}

int tide__sqlite_put_sightings(tide_store_backend *be, const tide_sighting_rec *recs, size_t n)
{
    tide__sqlite *s = tide__sq(be);
    if (n == 0)
        return 0;
    bool own_tx = !s->in_tx;
    if (own_tx)
        TIDE_CHECK(tide__sqlite_begin(&s->parent));
    sqlite3_stmt *st = NULL, *ust = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(s->db, upsert_sql, -1, &st, NULL) != SQLITE_OK) {
        rc = tide__store_db_error(s, "prepare");
        goto done;
    }
    int64_t now = tide__time_now_ms();
    for (size_t i = 0; i < n && rc == 0; i++) {
        const tide_sighting_rec *r = &recs[i];
        sqlite3_reset(st);
        tide__store_bind_text(st, 1, r->host ? r->host : "");
        tide__store_bind_text(st, 2, r->indicator_id);
        tide__store_bind_text(st, 3, r->indicator);
        sqlite3_bind_int(st, 4, (int)r->kind);
        tide__store_bind_text(st, 5, r->observed);
        tide__store_bind_text(st, 6, r->field);
        tide__store_bind_text(st, 7, r->file);
        sqlite3_bind_int64(st, 8, r->line);
        sqlite3_bind_int64(st, 9, r->first_seen);
        sqlite3_bind_int64(st, 10, r->last_seen);
        sqlite3_bind_int64(st, 11, r->live_count);
        sqlite3_bind_int64(st, 12, r->retro_count);
        sqlite3_bind_int(st, 13, r->suppressed);
        sqlite3_bind_int64(st, 14, now);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = tide__store_db_error(s, "store sighting");
        else if (r->users && *r->users)
            rc = put_users(s, &ust, r);
    }
done:
    sqlite3_finalize(st);
    sqlite3_finalize(ust);
    if (own_tx) {
        if (rc == 0)
            rc = tide__sqlite_commit(&s->parent);
        else
            tide__sqlite_rollback(&s->parent);
    }
    return rc;
}

int tide__sqlite_sightings(tide_store_backend *be, const tide_sighting_query *q,
        int (*cb)(const tide_sighting_rec *rec, void *payload), void *payload)
{
    tide__sqlite *s = tide__sq(be);
    tide_buf sql = TIDE_BUF_INIT;
    int rc = tide__buf_puts(&sql,
            "SELECT id, host, indicator_id, indicator, kind, observed, field, file, line,"
            " first_seen, last_seen, live_count, retro_count, suppressed,"
            " (SELECT group_concat(user, char(10)) FROM (SELECT user FROM sighting_users u"
            "  WHERE u.host = s.host AND u.indicator_id = s.indicator_id"
            "  AND u.indicator = s.indicator ORDER BY seq)) FROM sightings s WHERE 1");
    if (rc == 0 && q && q->host)
        rc = tide__buf_puts(&sql, " AND host = :host");
    if (rc == 0 && q && q->indicator)
        rc = tide__buf_puts(&sql, " AND (indicator = :ind COLLATE NOCASE OR indicator_id = :ind)");
    if (rc == 0 && q && q->since)
        rc = tide__buf_puts(&sql, " AND last_seen >= :since");
    if (rc == 0 && q && q->retro_only)
        rc = tide__buf_puts(&sql, " AND retro_count > 0");
    if (rc == 0 && !(q && q->include_suppressed))
        rc = tide__buf_puts(&sql, " AND NOT suppressed");
    if (rc == 0)
        rc = tide__buf_puts(&sql, " ORDER BY last_seen DESC, id");
    if (rc == 0 && q && q->limit > 0)
        rc = tide__buf_printf(&sql, " LIMIT %ld", q->limit);
    if (rc < 0) {
        tide__buf_free(&sql);
        return rc;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql.ptr, -1, &st, NULL) != SQLITE_OK) {
        tide__buf_free(&sql);
        return tide__store_db_error(s, "prepare");
    }
    tide__buf_free(&sql);
    if (q && q->host)
        tide__store_bind_text(st, sqlite3_bind_parameter_index(st, ":host"), q->host);
    if (q && q->indicator)
        tide__store_bind_text(st, sqlite3_bind_parameter_index(st, ":ind"), q->indicator);
    if (q && q->since)
        sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":since"), q->since);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        tide_sighting_rec r;
        memset(&r, 0, sizeof(r));
        r.id = sqlite3_column_int64(st, 0);
        r.host = (const char *)sqlite3_column_text(st, 1);
        r.indicator_id = (const char *)sqlite3_column_text(st, 2);
        r.indicator = (const char *)sqlite3_column_text(st, 3);
        r.kind = (tide_obs_kind)sqlite3_column_int(st, 4);
        r.observed = (const char *)sqlite3_column_text(st, 5);
        r.field = (const char *)sqlite3_column_text(st, 6);
        r.file = (const char *)sqlite3_column_text(st, 7);
        r.line = sqlite3_column_int64(st, 8);
        r.first_seen = sqlite3_column_int64(st, 9);
        r.last_seen = sqlite3_column_int64(st, 10);
        r.live_count = sqlite3_column_int64(st, 11);
        r.retro_count = sqlite3_column_int64(st, 12);
        r.suppressed = sqlite3_column_int(st, 13) != 0;
        r.users = (const char *)sqlite3_column_text(st, 14);
        if ((rc = cb(&r, payload)) != 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = tide__store_db_error(s, "read sightings");
    sqlite3_finalize(st);
    return rc;
}

int tide__sqlite_put_positions(tide_store_backend *be, const tide_read_position *v, size_t n)
{
    tide__sqlite *s = tide__sq(be);
    if (n == 0)
        return 0;
    bool own_tx = !s->in_tx;
    if (own_tx)
        TIDE_CHECK(tide__sqlite_begin(&s->parent));
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(s->db,
                "INSERT INTO read_positions(key, pos, updated_at) VALUES (?1, ?2, ?3)"
                " ON CONFLICT(key) DO UPDATE SET pos = max(pos, excluded.pos),"
                " updated_at = excluded.updated_at",
                -1, &st, NULL) != SQLITE_OK) {
        rc = tide__store_db_error(s, "prepare");
        goto done;
    }
    int64_t now = tide__time_now_ms();
    for (size_t i = 0; i < n && rc == 0; i++) {
        sqlite3_reset(st);
        tide__store_bind_text(st, 1, v[i].key);
        sqlite3_bind_int64(st, 2, (int64_t)v[i].pos);
        sqlite3_bind_int64(st, 3, now);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = tide__store_db_error(s, "store read position");
    }
    /* the registry keeps the 8192 most recently updated inputs */
    if (rc == 0 && sqlite3_exec(s->db,
                           "DELETE FROM read_positions WHERE updated_at < (SELECT updated_at FROM"
                           " read_positions ORDER BY updated_at DESC LIMIT 1 OFFSET 8192)",
                           NULL, NULL, NULL) != SQLITE_OK)
        rc = tide__store_db_error(s, "trim read positions");
done:
    sqlite3_finalize(st);
    if (own_tx) {
        if (rc == 0)
            rc = tide__sqlite_commit(&s->parent);
        else
            tide__sqlite_rollback(&s->parent);
    }
    return rc;
}

int tide__sqlite_positions(tide_store_backend *be,
        int (*cb)(const char *key, uint64_t pos, void *payload), void *payload)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT key, pos FROM read_positions", -1, &st, NULL) !=
            SQLITE_OK)
        return tide__store_db_error(s, "prepare");
    int rc = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        if (k && (rc = cb(k, (uint64_t)sqlite3_column_int64(st, 1), payload)) != 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = tide__store_db_error(s, "read positions");
    sqlite3_finalize(st);
    return rc;
}
