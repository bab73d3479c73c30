/*
 * schema.h - the versioned schema of the SQLite store. Migration N takes the store from
 * version N-1 to N; tide_store_open applies the missing ones in one transaction each and
 * records the version in PRAGMA user_version. Once a release has shipped, a migration is never
 * edited: a change is a new migration.
 *
 * Layout, chosen for bulk ingest speed (row appends are sequential; only the indexes that
 * lookups need take random inserts, and a first load into an empty store builds them once,
 * sorted, at the end):
 *   objects        one row per (id, modified) version, the JSON as it came, is_current = 1 on
 *                  the newest version of each id; partial indexes cover current versions only
 *   indicators     context of the current version of each indicator, keyed by its objects row
 *   observables    (kind, value) -> objects row of the indicator: the lookup index
 *   refs           relationships (SROs) and references (sighting-of, object_refs ...), both
 *                  ways, tied to the objects row that stated them
 *   warninglists, warninglist_entries
 */
#ifndef TIDE_STORE_SCHEMA_H
#define TIDE_STORE_SCHEMA_H

/* Secondary indexes of the bulk-loaded tables, as (name, definition). Migrations create them;
 * a first load into an empty store drops and rebuilds them (store_sqlite.c, bulk mode). */
static const char *const tide_store_indexes[][2] = {
    { "objects_id", "CREATE UNIQUE INDEX objects_id ON objects(id, modified)" },
    { "objects_type", "CREATE INDEX objects_type ON objects(type) WHERE is_current" },
    { "objects_source", "CREATE INDEX objects_source ON objects(source, tlp) WHERE is_current" },
    { "objects_changed", "CREATE INDEX objects_changed ON objects(changed_at) WHERE is_current" },
    { "objects_name", "CREATE INDEX objects_name ON objects(name COLLATE NOCASE) WHERE is_current"
                      " AND type NOT IN ('indicator', 'relationship', 'sighting')" },
    { "observables_kv", "CREATE INDEX observables_kv ON observables(kind, value)" },
    { "observables_obj", "CREATE INDEX observables_obj ON observables(obj)" },
    { "refs_source", "CREATE INDEX refs_source ON refs(source_ref)" },
    { "refs_target", "CREATE INDEX refs_target ON refs(target_ref)" },
    { "refs_obj", "CREATE INDEX refs_obj ON refs(obj)" },
};
#define TIDE_STORE_NINDEXES ((int)(sizeof(tide_store_indexes) / sizeof(tide_store_indexes[0])))

static const char *const tide_store_migrations[] = {
    /* 1 (the indexes of tide_store_indexes are created with it) */
    "CREATE TABLE objects ("
    "  rowid INTEGER PRIMARY KEY, id TEXT NOT NULL, modified TEXT NOT NULL, type TEXT NOT NULL,"
    "  created TEXT, name TEXT, source TEXT, tlp TEXT, is_current INTEGER NOT NULL,"
    "  modified_ms INTEGER NOT NULL, content_hash INTEGER NOT NULL DEFAULT 0,"
    "  ingested_at INTEGER NOT NULL, changed_at INTEGER NOT NULL, json TEXT NOT NULL);"
    "CREATE TABLE indicators ("
    "  obj INTEGER PRIMARY KEY, pattern TEXT NOT NULL, pattern_type TEXT NOT NULL,"
    "  reliability TEXT, confidence INTEGER, kill_chain TEXT, valid_from INTEGER,"
    "  valid_until INTEGER, created INTEGER, modified INTEGER, simple INTEGER NOT NULL,"
    "  revoked INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE observables (kind INTEGER NOT NULL, value TEXT NOT NULL, obj INTEGER NOT NULL);"
    "CREATE TABLE refs ("
    "  rel_id TEXT NOT NULL, rel_type TEXT NOT NULL, source_ref TEXT NOT NULL,"
    "  target_ref TEXT NOT NULL, obj INTEGER NOT NULL);"
    "CREATE TABLE warninglists ("
    "  name TEXT PRIMARY KEY, type TEXT NOT NULL, description TEXT,"
    "  loaded_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE warninglist_entries ("
    "  name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (name, value)) WITHOUT ROWID;",
};

#define TIDE_STORE_SCHEMA_VERSION \
    ((int)(sizeof(tide_store_migrations) / sizeof(tide_store_migrations[0])))

#endif
