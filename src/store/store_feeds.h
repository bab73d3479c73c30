/*
 * store_feeds.h - the feeds of `tide feeds` in the store (schema 14, store_feeds.c): the
 * front's calls, which src/feeds uses (argument checks, dispatch, TIDE_EUNSUPPORTED for a
 * backend without them), and the SQLite backend's functions for its table. The record and what
 * each call does: tide_store_feed and feed_* in include/tide/sys/store_backend.h.
 */
#ifndef TIDE_STORE_FEEDS_H
#define TIDE_STORE_FEEDS_H

#include "tide/store.h"
#include "tide/sys/store_backend.h"

int tide__store_feed_put(tide_store *s, const tide_store_feed *feed);
int tide__store_feed_get(tide_store *s, const char *name,
        int (*cb)(const tide_store_feed *feed, void *payload), void *payload);
int tide__store_feeds(
        tide_store *s, int (*cb)(const tide_store_feed *feed, void *payload), void *payload);
int tide__store_feed_remove(tide_store *s, const char *name);
int tide__store_feed_state(tide_store *s, const tide_store_feed *feed);

int tide__sqlite_feed_put(tide_store_backend *be, const tide_store_feed *feed);
int tide__sqlite_feed_get(tide_store_backend *be, const char *name,
        int (*cb)(const tide_store_feed *feed, void *payload), void *payload);
int tide__sqlite_feeds(tide_store_backend *be,
        int (*cb)(const tide_store_feed *feed, void *payload), void *payload);
int tide__sqlite_feed_remove(tide_store_backend *be, const char *name);
int tide__sqlite_feed_state(tide_store_backend *be, const tide_store_feed *feed);

#endif
