/*
 * store_feeds.c - the feeds `tide feeds` pulls (schema 14): the store front's calls
 * (store_feeds.h: argument checks, dispatch, TIDE_EUNSUPPORTED for a backend without them) and
 * the SQLite backend's SQL over the table `feeds`. The configuration is written once (put) and
 * the state of the pulls alone afterwards (feed_state), so a pull never rewrites credentials.
 */
#include <stdlib.h>
#include <string.h>

#include "store/front_int.h"
#include "store/store_feeds.h"
#include "store/store_int.h"
#include "util/util.h"

/* ---------------- the front ---------------- */

#define NEED_BE(s, fn)                                                                             \
    do {                                                                                           \
        if ((s) == NULL)                                                                           \
            return tide_error_set(TIDE_EINVAL, "no store");                                        \
        if ((s)->be->fn == NULL)                                                                   \
            return tide_error_set(TIDE_EUNSUPPORTED, "this store keeps no feeds");                 \
    } while (0)

int tide__store_feed_put(tide_store *s, const tide_store_feed *f)
{
    NEED_BE(s, feed_put);
    if (f == NULL || f->name == NULL || f->url == NULL || f->kind == NULL)
        return tide_error_set(TIDE_EINVAL, "a feed needs its name, URL and kind");
    return s->be->feed_put(s->be, f);
}

int tide__store_feed_get(tide_store *s, const char *name,
        int (*cb)(const tide_store_feed *feed, void *payload), void *payload)
{
    NEED_BE(s, feed_get);
    if (name == NULL || cb == NULL)
        return tide_error_set(TIDE_EINVAL, "no feed name or callback");
    return s->be->feed_get(s->be, name, cb, payload);
}

int tide__store_feeds(
        tide_store *s, int (*cb)(const tide_store_feed *feed, void *payload), void *payload)
{
    NEED_BE(s, feeds);
    if (cb == NULL)
        return tide_error_set(TIDE_EINVAL, "no callback");
    return s->be->feeds(s->be, cb, payload);
}

int tide__store_feed_remove(tide_store *s, const char *name)
{
    NEED_BE(s, feed_remove);
    if (name == NULL)
        return tide_error_set(TIDE_EINVAL, "no feed name");
    return s->be->feed_remove(s->be, name);
}

int tide__store_feed_state(tide_store *s, const tide_store_feed *f)
{
    NEED_BE(s, feed_state);
    if (f == NULL || f->name == NULL)
        return tide_error_set(TIDE_EINVAL, "no feed name");
    return s->be->feed_state(s->be, f);
}

/* ---------------- SQLite ---------------- */

#define FEED_COLUMNS                                                                               \
    "name, url, kind, collection, auth, user, secret, source, tlp, ca_bundle, options,"            \
    " interval_ms, created_at, cursor, etag, last_modified, last_attempt_at,"                      \
    " last_success_at, last_status, last_objects"

static int prep(tide__sqlite *s, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
        return tide__store_db_error(s, "prepare");
    return 0;
}

static const char *col(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static int64_t col_ms(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? TIDE_STORE_NULL
                                                     : sqlite3_column_int64(st, i);
}

static void bind_ms(sqlite3_stmt *st, int i, int64_t v)
{
    if (v == TIDE_STORE_NULL)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int64(st, i, v);
}

/* the state columns from ?first on: cursor, etag, last_modified, last_attempt_at,
 * last_success_at, last_status, last_objects */
static void bind_state(sqlite3_stmt *st, int first, const tide_store_feed *f)
{
    tide__store_bind_text(st, first, f->cursor);
    tide__store_bind_text(st, first + 1, f->etag);
    tide__store_bind_text(st, first + 2, f->last_modified);
    bind_ms(st, first + 3, f->last_attempt_at);
    bind_ms(st, first + 4, f->last_success_at);
    tide__store_bind_text(st, first + 5, f->last_status);
    sqlite3_bind_int64(st, first + 6, f->last_objects);
}

int tide__sqlite_feed_put(tide_store_backend *be, const tide_store_feed *f)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st = NULL;
    TIDE_CHECK(prep(s,
            "INSERT INTO feeds(" FEED_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
            " ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
            &st));
    tide__store_bind_text(st, 1, f->name);
    tide__store_bind_text(st, 2, f->url);
    tide__store_bind_text(st, 3, f->kind);
    tide__store_bind_text(st, 4, f->collection);
    tide__store_bind_text(st, 5, f->auth);
    tide__store_bind_text(st, 6, f->user);
    tide__store_bind_text(st, 7, f->secret);
    tide__store_bind_text(st, 8, f->source);
    tide__store_bind_text(st, 9, f->tlp);
    tide__store_bind_text(st, 10, f->ca_bundle);
    tide__store_bind_text(st, 11, f->options);
    sqlite3_bind_int64(st, 12, f->interval_ms);
    sqlite3_bind_int64(st, 13, f->created_at);
    bind_state(st, 14, f);
    int rc = sqlite3_step(st), ret = 0;
    if (rc == SQLITE_CONSTRAINT)
        ret = tide_error_set(TIDE_EEXISTS, "a feed named '%s' exists already", f->name);
    else if (rc != SQLITE_DONE)
        ret = tide__store_db_error(s, "insert feed");
    sqlite3_finalize(st);
    return ret;
}

static int feed_rows(tide__sqlite *s, sqlite3_stmt *st,
        int (*cb)(const tide_store_feed *feed, void *payload), void *payload, int *out_n)
{
    int rc = 0, step;
    *out_n = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        tide_store_feed f = {
            .name = col(st, 0),
            .url = col(st, 1),
            .kind = col(st, 2),
            .collection = col(st, 3),
            .auth = col(st, 4),
            .user = col(st, 5),
            .secret = col(st, 6),
            .source = col(st, 7),
            .tlp = col(st, 8),
            .ca_bundle = col(st, 9),
            .options = col(st, 10),
            .interval_ms = sqlite3_column_int64(st, 11),
            .created_at = sqlite3_column_int64(st, 12),
            .cursor = col(st, 13),
            .etag = col(st, 14),
            .last_modified = col(st, 15),
            .last_attempt_at = col_ms(st, 16),
            .last_success_at = col_ms(st, 17),
            .last_status = col(st, 18),
            .last_objects = sqlite3_column_int64(st, 19),
        };
        if (f.name == NULL || f.url == NULL || f.kind == NULL)
            continue;
        ++*out_n;
        if ((rc = cb(&f, payload)) != 0)
            return rc;
    }
    if (step != SQLITE_DONE)
        return tide__store_db_error(s, "read feeds");
    return 0;
}

int tide__sqlite_feed_get(tide_store_backend *be, const char *name,
        int (*cb)(const tide_store_feed *feed, void *payload), void *payload)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st = NULL;
    TIDE_CHECK(prep(s, "SELECT " FEED_COLUMNS " FROM feeds WHERE name = ?1", &st));
    tide__store_bind_text(st, 1, name);
    int n, rc = feed_rows(s, st, cb, payload, &n);
    sqlite3_finalize(st);
    if (rc == 0 && n == 0)
        rc = tide_error_set(TIDE_ENOTFOUND, "no feed '%s' (tide feeds list)", name);
    return rc;
}

int tide__sqlite_feeds(tide_store_backend *be,
        int (*cb)(const tide_store_feed *feed, void *payload), void *payload)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st = NULL;
    TIDE_CHECK(prep(s, "SELECT " FEED_COLUMNS " FROM feeds ORDER BY name", &st));
    int n, rc = feed_rows(s, st, cb, payload, &n);
    sqlite3_finalize(st);
    return rc;
}

int tide__sqlite_feed_remove(tide_store_backend *be, const char *name)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st = NULL;
    TIDE_CHECK(prep(s, "DELETE FROM feeds WHERE name = ?1", &st));
    tide__store_bind_text(st, 1, name);
    int ret = 0;
    if (sqlite3_step(st) != SQLITE_DONE)
        ret = tide__store_db_error(s, "remove feed");
    else if (sqlite3_changes(s->db) == 0)
        ret = tide_error_set(TIDE_ENOTFOUND, "no feed '%s' (tide feeds list)", name);
    sqlite3_finalize(st);
    return ret;
}

int tide__sqlite_feed_state(tide_store_backend *be, const tide_store_feed *f)
{
    tide__sqlite *s = tide__sq(be);
    sqlite3_stmt *st = NULL;
    TIDE_CHECK(prep(s,
            "UPDATE feeds SET cursor = ?2, etag = ?3, last_modified = ?4, last_attempt_at = ?5,"
            " last_success_at = ?6, last_status = ?7, last_objects = ?8 WHERE name = ?1",
            &st));
    tide__store_bind_text(st, 1, f->name);
    bind_state(st, 2, f);
    int ret = 0;
    if (sqlite3_step(st) != SQLITE_DONE)
        ret = tide__store_db_error(s, "write feed state");
    else if (sqlite3_changes(s->db) == 0)
        ret = tide_error_set(TIDE_ENOTFOUND, "no feed '%s' (tide feeds list)", f->name);
    sqlite3_finalize(st);
    return ret;
}
