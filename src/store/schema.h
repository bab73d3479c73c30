/*
 * schema.h - the versioned schema of the SQLite store. Migration N takes the store from
 * version N-1 to N; tide_store_open applies the missing ones in one transaction each and
 * records the version in PRAGMA user_version. Published migrations are never edited: a change
 * is a new migration.
 */
#ifndef TIDE_STORE_SCHEMA_H
#define TIDE_STORE_SCHEMA_H

static const char *const tide_store_migrations[] = {
    /* 1: objects, current versions, indicators, observables, relationships, warninglists */
    "CREATE TABLE objects ("
    "  id TEXT NOT NULL, modified TEXT NOT NULL, type TEXT NOT NULL, created TEXT,"
    "  json TEXT NOT NULL, content_hash INTEGER NOT NULL DEFAULT 0, source TEXT,"
    "  ingested_at INTEGER NOT NULL, PRIMARY KEY (id, modified));"
    "CREATE TABLE current ("
    "  id TEXT PRIMARY KEY, modified TEXT NOT NULL, type TEXT NOT NULL, name TEXT,"
    "  source TEXT, tlp TEXT, content_hash INTEGER NOT NULL DEFAULT 0,"
    "  changed_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX current_type ON current(type);"
    "CREATE INDEX current_name ON current(name);"
    "CREATE INDEX current_changed ON current(changed_at);"
    "CREATE TABLE indicators ("
    "  id TEXT PRIMARY KEY, pattern TEXT NOT NULL, pattern_type TEXT NOT NULL, name TEXT,"
    "  source TEXT, reliability TEXT, confidence INTEGER, tlp TEXT, kill_chain TEXT,"
    "  valid_from INTEGER, valid_until INTEGER, created INTEGER, modified INTEGER,"
    "  simple INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
    "CREATE TABLE observables ("
    "  kind INTEGER NOT NULL, value TEXT NOT NULL, indicator_id TEXT NOT NULL,"
    "  PRIMARY KEY (kind, value, indicator_id)) WITHOUT ROWID;"
    "CREATE INDEX observables_indicator ON observables(indicator_id);"
    "CREATE TABLE relationships ("
    "  id TEXT PRIMARY KEY, rel_type TEXT NOT NULL, source_ref TEXT NOT NULL,"
    "  target_ref TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX relationships_source ON relationships(source_ref);"
    "CREATE INDEX relationships_target ON relationships(target_ref);"
    "CREATE TABLE warninglists ("
    "  name TEXT PRIMARY KEY, type TEXT NOT NULL, description TEXT,"
    "  loaded_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE warninglist_entries ("
    "  name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (name, value)) WITHOUT ROWID;",
};

#define TIDE_STORE_SCHEMA_VERSION \
    ((int)(sizeof(tide_store_migrations) / sizeof(tide_store_migrations[0])))

#endif
