/*
 * schema.h - the versioned schema of the SQLite store. Migration N takes the store from
 * version N-1 to N; tide_store_open applies the missing ones in one transaction each and
 * records the version in PRAGMA user_version. Once a release has shipped, a migration is never
 * edited: a change is a new migration.
 *
 * Layout, chosen for bulk ingest speed (row appends are sequential; only the indexes that
 * lookups need take random inserts, and a first load into an empty store builds them once,
 * sorted, at the end). Text keys (ids, observable values) are indexed by their 64-bit hash
 * (*_key, vkey: XXH3, also the SQL function tide_key()), and every lookup also compares the
 * text, so a hash collision costs a row read, never a wrong answer:
 *   objects        one row per (id, modified) version, is_current = 1 on the newest version of
 *                  each id, the JSON as it came in the last column `json` (schema 8; before,
 *                  a table `bodies`); partial indexes cover current versions only
 *   indicators     context of the current version of each indicator, keyed by its objects row:
 *                  its observables packed in `obs` (schema 6: see below) and, since schema 7,
 *                  the rest in one packed record `rec` (store_indrec.c) that also copies its
 *                  objects row's id, name, source, tlp and changed_at, so scans of the active
 *                  intel read two columns of one row per indicator
 *   objects_keys   (id key, objects row), the lookup of rows by id, WITHOUT ROWID in key order,
 *                  kept by triggers (schema 10; before, the index objects_key)
 *   object_counts  the number of current objects per (type, source, tlp), kept by triggers
 *                  (schema 9), for the stats
 *   names          names of current named SDOs (malware, campaign ...) for search by name
 *   obs_idx        (kind, value key, objects row, value) -> the lookup index of observables, a
 *                  WITHOUT ROWID table in key order (schema 6; the view `observables` shows it
 *                  under the earlier name and columns). A bulk load fills it at commit from the
 *                  observables it gathered, sorted, so the B-tree is written by appends only
 *   refs           relationships (SROs) and references (sighting-of, object_refs ...), both
 *                  ways, tied to the objects row that stated them
 *   warninglists, warninglist_entries
 *   meta           counters such as intel_gen, bumped by every commit that changed intel
 *   sightings      one row per host x indicator (x value), live and retro counts, first and
 *                  last seen, the first place seen
 *   sighting_users the user names seen with each sightings row (schema 11), by the row's key
 *                  (host, indicator_id, indicator); at most TIDE_SIGHTING_MAX_USERS per row
 *   api_keys       the API keys of `tide serve` (schema 13): name, SHA-256 of the key, role,
 *                  TLP ceiling, created / revoked; audit_log: the API's writes (who, what, when)
 *   feeds          the feeds `tide feeds` pulls (schema 14): configuration and last pull state
 */
#ifndef TIDE_STORE_SCHEMA_H
#define TIDE_STORE_SCHEMA_H

/* Secondary indexes of the bulk-loaded tables, as (name, definition). Migrations create them;
 * a first load into an empty store drops and rebuilds them (store_sqlite.c, bulk mode).
 * objects_sdo (migration 9: current objects by type, but for indicators and relationships)
 * is not in the list: it holds a few thousand rows of a million, so a first load keeps it up
 * to date as it goes, where building it at commit meant one more scan of the whole table
 * (0.5 s for a million indicators).
 * (observables_kv and observables_obj, listed here up to schema 5, went with the observables
 * table in migration 6: a store made new still gets them from migration 1, and 6 drops them.) */
static const char *const tide_store_indexes[][2] = {
    { "names_name", "CREATE INDEX names_name ON names(name COLLATE NOCASE)" },
    { "names_obj", "CREATE INDEX names_obj ON names(obj)" },
    { "refs_source", "CREATE INDEX refs_source ON refs(source_key)" },
    { "refs_target", "CREATE INDEX refs_target ON refs(target_key)" },
    { "refs_obj", "CREATE INDEX refs_obj ON refs(obj)" },
    { "objects_changed", "CREATE INDEX objects_changed ON objects(changed_at) WHERE is_current" },
};
#define TIDE_STORE_NINDEXES ((int)(sizeof(tide_store_indexes) / sizeof(tide_store_indexes[0])))

/* objects_keys (schema 10) is the lookup of objects rows by the key of their id, a WITHOUT
 * ROWID table in key order instead of the index objects_key: a first load drops this trigger,
 * gathers (key, row) of its rows in memory, sorts them and writes the table by appends at
 * commit (store_sqlite.c), where CREATE INDEX scanned the whole objects table and sorted a
 * million and a half keys with SQLite's sorter (1.2 to 1.5 s for a million indicators). */
#define TIDE_STORE_KEYS_INSERT_TRIGGER                                                             \
    "CREATE TRIGGER objects_keys_ins AFTER INSERT ON objects BEGIN"                                \
    "  INSERT INTO objects_keys(id_key, obj) VALUES (NEW.id_key, NEW.rowid); END;"

/* object_counts (schema 9) holds the number of current objects per (type, source, tlp), NULL
 * source or tlp as ''. Triggers keep it: this one counts inserted current versions, and a
 * first load, which inserts its rows in batches, drops it and counts each batch in one
 * statement instead (store_sqlite.c), then creates it again; objects_count_upd and
 * objects_count_del (migration 9) follow versions that stop being current, are rewritten or
 * deleted. */
#define TIDE_STORE_COUNT_INSERT_TRIGGER                                                            \
    "CREATE TRIGGER objects_count_ins AFTER INSERT ON objects WHEN NEW.is_current BEGIN"           \
    "  INSERT INTO object_counts(type, source, tlp, n)"                                            \
    "  VALUES (NEW.type, ifnull(NEW.source, ''), ifnull(NEW.tlp, ''), 1)"                          \
    "  ON CONFLICT(type, source, tlp) DO UPDATE SET n = n + 1; END;"

static const char *const tide_store_migrations[] = {
    /* 1 (the indexes of tide_store_indexes are created with it) */
    "CREATE TABLE objects ("
    "  rowid INTEGER PRIMARY KEY, id TEXT NOT NULL, id_key INTEGER NOT NULL,"
    "  modified TEXT NOT NULL, type TEXT NOT NULL,"
    "  created TEXT, name TEXT, source TEXT, tlp TEXT, is_current INTEGER NOT NULL,"
    "  modified_ms INTEGER NOT NULL, content_hash INTEGER NOT NULL DEFAULT 0,"
    "  ingested_at INTEGER NOT NULL, changed_at INTEGER NOT NULL);"
    "CREATE TABLE bodies (obj INTEGER PRIMARY KEY, json TEXT NOT NULL);"
    "CREATE TABLE indicators ("
    "  obj INTEGER PRIMARY KEY, pattern TEXT NOT NULL, pattern_type TEXT NOT NULL,"
    "  reliability TEXT, confidence INTEGER, kill_chain TEXT, valid_from INTEGER,"
    "  valid_until INTEGER, created INTEGER, modified INTEGER, simple INTEGER NOT NULL,"
    "  revoked INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE observables (kind INTEGER NOT NULL, value TEXT NOT NULL,"
    "  vkey INTEGER NOT NULL, obj INTEGER NOT NULL);"
    "CREATE TABLE names (name TEXT NOT NULL, obj INTEGER NOT NULL);"
    "CREATE TABLE refs ("
    "  rel_id TEXT NOT NULL, rel_type TEXT NOT NULL, source_ref TEXT NOT NULL,"
    "  target_ref TEXT NOT NULL, source_key INTEGER NOT NULL, target_key INTEGER NOT NULL,"
    "  obj INTEGER NOT NULL);"
    "CREATE TABLE warninglists ("
    "  name TEXT PRIMARY KEY, type TEXT NOT NULL, description TEXT,"
    "  loaded_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE warninglist_entries ("
    "  name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (name, value)) WITHOUT ROWID;",
    /* 2: store metadata (intel generation) and sightings aggregated per host x indicator */
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO meta(key, value) VALUES ('intel_gen', 1);"
    "CREATE TABLE sightings ("
    "  id INTEGER PRIMARY KEY, host TEXT NOT NULL, indicator_id TEXT NOT NULL,"
    "  indicator TEXT NOT NULL, kind INTEGER NOT NULL, observed TEXT, field TEXT, file TEXT,"
    "  line INTEGER, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
    "  live_count INTEGER NOT NULL DEFAULT 0, retro_count INTEGER NOT NULL DEFAULT 0,"
    "  suppressed INTEGER NOT NULL DEFAULT 0, recorded_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL, UNIQUE (host, indicator_id, indicator));"
    "CREATE INDEX sightings_indicator ON sightings(indicator);"
    "CREATE INDEX sightings_seen ON sightings(last_seen);",
    /* 3: assets and export state */
    "CREATE TABLE assets (host TEXT PRIMARY KEY, hostname TEXT, owner TEXT, criticality TEXT,"
    "  updated_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE asset_ips (host TEXT NOT NULL, ip TEXT NOT NULL,"
    "  PRIMARY KEY (host, ip)) WITHOUT ROWID;"
    "CREATE INDEX asset_ips_ip ON asset_ips(ip);"
    "CREATE TABLE asset_software (host TEXT NOT NULL, name TEXT NOT NULL,"
    "  version TEXT NOT NULL DEFAULT '', PRIMARY KEY (host, name, version)) WITHOUT ROWID;"
    "CREATE TABLE export_state (key TEXT PRIMARY KEY, format TEXT NOT NULL,"
    "  serial INTEGER NOT NULL, updated_at INTEGER NOT NULL, entries BLOB NOT NULL);",
    /* 4: response and recovery cases (SPEC C4, C5; src/store/store_cases.c): the computed
     * case document, hosts with their recovery state, the indicators a case covers, and its
     * timeline (changes found by recomputation, state transitions with who / note) */
    "CREATE TABLE cases (id INTEGER PRIMARY KEY, status TEXT NOT NULL, tier INTEGER NOT NULL,"
    "  opened_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, closed_at INTEGER,"
    "  seed_host TEXT NOT NULL, seed_indicator TEXT NOT NULL, tlp TEXT, doc TEXT NOT NULL,"
    "  lessons TEXT);"
    "CREATE TABLE case_hosts (case_id INTEGER NOT NULL, host TEXT NOT NULL,"
    "  status TEXT NOT NULL, state TEXT NOT NULL, state_at INTEGER NOT NULL,"
    "  recovered_at INTEGER, relapses INTEGER NOT NULL DEFAULT 0, first_seen INTEGER,"
    "  last_seen INTEGER, PRIMARY KEY (case_id, host)) WITHOUT ROWID;"
    "CREATE TABLE case_indicators (case_id INTEGER NOT NULL, indicator_id TEXT NOT NULL,"
    "  PRIMARY KEY (case_id, indicator_id)) WITHOUT ROWID;"
    "CREATE INDEX case_indicators_ind ON case_indicators(indicator_id);"
    "CREATE TABLE case_events (id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL,"
    "  at INTEGER NOT NULL, kind TEXT NOT NULL, host TEXT, actor TEXT, text TEXT NOT NULL);"
    "CREATE INDEX case_events_case ON case_events(case_id);",
    /* 5: what changed since T, for the hunt of newly added intel (a store made at schema 1
     * got the tide_store_indexes of its time; newer ones already have it) */
    "CREATE INDEX IF NOT EXISTS objects_changed ON objects(changed_at) WHERE is_current;",
    /* 6: observables packed into their indicator's row (indicators.obs: per observable
     * "<kind> <byte length> <value>", in the order they were indexed) plus the lookup index
     * obs_idx in key order; the observables table and its two indexes go. A bulk load writes
     * one row less per observable and sorts nothing for it at commit, and scans of the active
     * intel read the indicators alone. The view keeps the old name readable. */
    "CREATE INDEX IF NOT EXISTS observables_kv ON observables(kind, vkey);"
    "CREATE INDEX IF NOT EXISTS observables_obj ON observables(obj);"
    "ALTER TABLE indicators ADD COLUMN obs TEXT;"
    "CREATE TABLE obs_idx (kind INTEGER NOT NULL, vkey INTEGER NOT NULL, obj INTEGER NOT NULL,"
    "  value TEXT NOT NULL, PRIMARY KEY (kind, vkey, obj, value)) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO obs_idx(kind, vkey, obj, value) SELECT kind, vkey, obj, value"
    "  FROM observables ORDER BY kind, vkey, obj, value;"
    "UPDATE indicators SET obs = (SELECT group_concat(e, '') FROM (SELECT kind || ' ' ||"
    "  length(CAST(value AS BLOB)) || ' ' || value AS e FROM observables b"
    "  WHERE b.obj = indicators.obj ORDER BY b.rowid));"
    "DROP TABLE observables;"
    "CREATE VIEW observables AS SELECT kind, value, vkey, obj FROM obs_idx;",
    /* 7: indicators rebuilt around a packed record (store_indrec.c): `rec` holds everything
     * a scan of the active intel reports (the objects row's id, id_key, name, source, tlp and
     * changed_at, and the indicator's own context), so the match index build and the exports
     * read two columns of one table, in rowid order, instead of eighteen columns and a seek
     * into objects per indicator (more than half the build's time). source, changed_at and
     * revoked stay columns too, for the scan's filters. An indicators row exists only for a
     * current version, and every change of the copied objects columns re-puts it. */
    "CREATE TABLE indicators_7 (obj INTEGER PRIMARY KEY, source TEXT, changed_at INTEGER,"
    "  revoked INTEGER NOT NULL DEFAULT 0, obs TEXT, rec BLOB NOT NULL);"
    "INSERT INTO indicators_7(obj, source, changed_at, revoked, obs, rec)"
    "  SELECT i.obj, o.source, o.changed_at, i.revoked, i.obs, tide_indicator_pack(o.id,"
    "  o.id_key, o.name, o.source, o.tlp, i.kill_chain, i.pattern, i.pattern_type,"
    "  i.reliability, i.confidence, i.valid_from, i.valid_until, i.created, i.modified,"
    "  o.changed_at, i.simple, i.revoked) FROM indicators i JOIN objects o ON o.rowid = i.obj"
    "  ORDER BY i.obj;"
    "DROP TABLE indicators;"
    "ALTER TABLE indicators_7 RENAME TO indicators;",
    /* 8: the JSON of each version moves into its objects row (last column, so that reading the
     * columns before it never decodes it); the bodies table goes. A load writes one row less
     * per object: a body row cost about 5 000 instructions to insert, a third of the load's
     * row writes, while the wider rows cost each index build over objects about 0.2 s per
     * million objects. The table is rebuilt in rowid order, then its indexes. */
    "CREATE TABLE objects_8 ("
    "  rowid INTEGER PRIMARY KEY, id TEXT NOT NULL, id_key INTEGER NOT NULL,"
    "  modified TEXT NOT NULL, type TEXT NOT NULL,"
    "  created TEXT, name TEXT, source TEXT, tlp TEXT, is_current INTEGER NOT NULL,"
    "  modified_ms INTEGER NOT NULL, content_hash INTEGER NOT NULL DEFAULT 0,"
    "  ingested_at INTEGER NOT NULL, changed_at INTEGER NOT NULL, json TEXT);"
    "INSERT INTO objects_8 SELECT o.rowid, o.id, o.id_key, o.modified, o.type, o.created,"
    "  o.name, o.source, o.tlp, o.is_current, o.modified_ms, o.content_hash, o.ingested_at,"
    "  o.changed_at, b.json FROM objects o LEFT JOIN bodies b ON b.obj = o.rowid"
    "  ORDER BY o.rowid;"
    "DROP TABLE objects;"
    "DROP TABLE bodies;"
    "ALTER TABLE objects_8 RENAME TO objects;"
    "CREATE INDEX objects_key ON objects(id_key);"
    "CREATE INDEX objects_cur ON objects(type, source, tlp) WHERE is_current;"
    "CREATE INDEX objects_changed ON objects(changed_at) WHERE is_current;",
    /* 9: counts of current objects per (type, source, tlp) kept by triggers, for the stats,
     * instead of the index objects_cur(type, source, tlp) over every current object, whose
     * text-key sort took a first load of a million indicators 1.5 to 2.4 s; the type searches
     * of the other objects get the small index objects_sdo. */
    "CREATE TABLE object_counts (type TEXT NOT NULL, source TEXT NOT NULL, tlp TEXT NOT NULL,"
    "  n INTEGER NOT NULL, PRIMARY KEY (type, source, tlp)) WITHOUT ROWID;"
    "INSERT INTO object_counts(type, source, tlp, n) SELECT type, ifnull(source, ''),"
    "  ifnull(tlp, ''), count(*) FROM objects WHERE is_current GROUP BY 1, 2, 3;"
    "DROP INDEX IF EXISTS objects_cur;"
    /* by type, for the type searches but those of the two types that are most of a store
     * (their searches return most rows anyway) */
    "CREATE INDEX IF NOT EXISTS objects_sdo ON objects(type) WHERE is_current AND"
    "  type NOT IN ('indicator', 'relationship');" TIDE_STORE_COUNT_INSERT_TRIGGER
    "CREATE TRIGGER objects_count_upd AFTER UPDATE OF is_current, type, source, tlp ON objects"
    "  WHEN OLD.is_current OR NEW.is_current BEGIN"
    "  UPDATE object_counts SET n = n - 1 WHERE OLD.is_current AND type = OLD.type"
    "    AND source = ifnull(OLD.source, '') AND tlp = ifnull(OLD.tlp, '');"
    "  INSERT INTO object_counts(type, source, tlp, n)"
    "    SELECT NEW.type, ifnull(NEW.source, ''), ifnull(NEW.tlp, ''), 1 WHERE NEW.is_current"
    "    ON CONFLICT(type, source, tlp) DO UPDATE SET n = n + 1; END;"
    "CREATE TRIGGER objects_count_del AFTER DELETE ON objects WHEN OLD.is_current BEGIN"
    "  UPDATE object_counts SET n = n - 1 WHERE type = OLD.type"
    "    AND source = ifnull(OLD.source, '') AND tlp = ifnull(OLD.tlp, ''); END;",
    /* 10: objects rows by the key of their id in a table in key order, kept by triggers,
     * instead of the index objects_key (see TIDE_STORE_KEYS_INSERT_TRIGGER) */
    "CREATE TABLE objects_keys (id_key INTEGER NOT NULL, obj INTEGER NOT NULL,"
    "  PRIMARY KEY (id_key, obj)) WITHOUT ROWID;"
    "INSERT INTO objects_keys(id_key, obj) SELECT id_key, rowid FROM objects ORDER BY 1, 2;"
    "DROP INDEX IF EXISTS objects_key;" TIDE_STORE_KEYS_INSERT_TRIGGER
    "CREATE TRIGGER objects_keys_del AFTER DELETE ON objects BEGIN"
    "  DELETE FROM objects_keys WHERE id_key = OLD.id_key AND obj = OLD.rowid; END;"
    "CREATE TRIGGER objects_keys_upd AFTER UPDATE OF id_key ON objects BEGIN"
    "  DELETE FROM objects_keys WHERE id_key = OLD.id_key AND obj = OLD.rowid;"
    "  INSERT INTO objects_keys(id_key, obj) VALUES (NEW.id_key, NEW.rowid); END;",
    /* 11: the user names the telemetry carried with each host x indicator sighting (Squid
     * ident, CEF suser, Sysmon User ...), for the plan's credential resets; a table of its own,
     * so sightings without users (most) cost nothing */
    "CREATE TABLE sighting_users (host TEXT NOT NULL, indicator_id TEXT NOT NULL,"
    "  indicator TEXT NOT NULL, user TEXT NOT NULL, seq INTEGER NOT NULL,"
    "  PRIMARY KEY (host, indicator_id, indicator, user)) WITHOUT ROWID;",
    /* 12: the registry of read positions (sightings.h, tide_store_put_positions): how far each
     * input's sightings are stored, written in the transaction of the sightings they produced,
     * so that reading an input again stores nothing twice */
    "CREATE TABLE IF NOT EXISTS read_positions (key TEXT PRIMARY KEY, pos INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS read_positions_age ON read_positions(updated_at);",
    /* 13: the API keys of `tide serve` (include/tide/auth.h, store_keys.c): only the SHA-256
     * of each key is kept, with its name, role and TLP ceiling; and the audit log of the writes
     * made through the API (who, what, when) */
    "CREATE TABLE api_keys (name TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE,"
    "  role TEXT NOT NULL, tlp_max TEXT NOT NULL, created_at INTEGER NOT NULL,"
    "  revoked_at INTEGER) WITHOUT ROWID;"
    "CREATE TABLE audit_log (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL,"
    "  action TEXT NOT NULL, target TEXT, detail TEXT);"
    "CREATE INDEX audit_log_at ON audit_log(at);",
    /* 14: the feeds `tide feeds` pulls (include/tide/feeds.h, store_feeds.c): configuration
     * (kind, URL, credentials, interval, source, TLP, settings of the kind as JSON) and the
     * state of the last pull (where the next resumes, HTTP validators, status). One step of its
     * own, touching nothing else. */
    "CREATE TABLE IF NOT EXISTS feeds (name TEXT PRIMARY KEY, url TEXT NOT NULL,"
    "  kind TEXT NOT NULL, collection TEXT, auth TEXT, user TEXT, secret TEXT, source TEXT,"
    "  tlp TEXT, ca_bundle TEXT, options TEXT, interval_ms INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL, cursor TEXT, etag TEXT, last_modified TEXT,"
    "  last_attempt_at INTEGER, last_success_at INTEGER, last_status TEXT,"
    "  last_objects INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;",
};

#define TIDE_STORE_SCHEMA_VERSION                                                                  \
    ((int)(sizeof(tide_store_migrations) / sizeof(tide_store_migrations[0])))

#endif
