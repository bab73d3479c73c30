/*
 * auth.h - who may do what through tide's services (`tide serve`, TAXII): API keys, roles and
 * their permission table, each key's TLP ceiling, and the audit log of writes.
 *
 *   - A key is 256 random bits (OpenSSL RAND_bytes), written "tide_" + 43 base64url
 *     characters. It is shown once, by tide_key_add; the store keeps only its SHA-256, so a
 *     copy of the store gives no key. (A plain hash, not a slow password hash: the key is
 *     random and 256 bits long, so there is nothing to guess by brute force, and a server
 *     verifies a key on every request.)
 *   - A key has a name (unique), a role and a TLP ceiling: every read made with it shows only
 *     intel at or below the ceiling (tide/tlp.h, tide/gate.h; unmarked intel counts as amber).
 *   - Roles: reader (reads), analyst (reads and the work of an analyst: intel in, hunts,
 *     cases), admin (everything, keys and the audit log too), peer (a sharing partner: intel
 *     read and write, exports; nothing internal: no sightings, hosts, cases or hunts). The
 *     table is tide_role_allows.
 *   - Every write through a service is recorded in the audit log (tide_audit_add): who (the
 *     key's name), what (the action and its target) and when.
 */
#ifndef TIDE_AUTH_H
#define TIDE_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"
#include "store.h"

/** Roles of API keys. */
typedef enum {
    TIDE_ROLE_READER = 0,
    TIDE_ROLE_ANALYST,
    TIDE_ROLE_ADMIN,
    TIDE_ROLE_PEER,
    TIDE_ROLE__COUNT
} tide_role;

/** What a request may need. */
typedef enum {
    TIDE_PERM_INTEL_READ = 0, /**< lookup, search, objects */
    TIDE_PERM_INTEL_WRITE,    /**< add intel (ingest with retro-hunt) */
    TIDE_PERM_SIGHTINGS_READ, /**< stored sightings and the live stream (internal hosts) */
    TIDE_PERM_HUNT,           /**< start and read hunts */
    TIDE_PERM_CASES_READ,     /**< list and show cases */
    TIDE_PERM_CASES_WRITE,    /**< open, change, close cases */
    TIDE_PERM_EXPORT,         /**< exports and export targets */
    TIDE_PERM_STATS,          /**< store counts */
    TIDE_PERM_METRICS,        /**< operational metrics */
    TIDE_PERM_ADMIN,          /**< keys and the audit log */
    TIDE_PERM__COUNT
} tide_perm;

/** @brief The role of a name ("reader", "analyst", "admin", "peer"), or -1. */
TIDE_EXTERN(int) tide_role_parse(const char *name);
/** @brief The name of a role, NULL when out of range. */
TIDE_EXTERN(const char *) tide_role_name(int role);
/** @brief The name of a permission ("intel:read" ...), NULL when out of range. */
TIDE_EXTERN(const char *) tide_perm_name(int perm);
/** @brief The permission table: whether role may do perm. */
TIDE_EXTERN(bool) tide_role_allows(int role, int perm);

/** A key as the store knows it (never the key itself). */
typedef struct {
    char name[65];
    tide_role role;
    int tlp_max;        /**< a tide_tlp */
    int64_t created_at; /**< ms */
    int64_t revoked_at; /**< ms, 0 while valid */
} tide_key_info;

/** Length of a key's text ("tide_" + 43 base64url characters). */
#define TIDE_KEY_LEN 48

/** @brief Create a key: name 1-64 of [A-Za-z0-9._@-], a role, a TLP ceiling (a tide_tlp).
 *  @param[out] out_key the key, newly allocated (free with free()): shown once, never stored.
 *  TIDE_EINVAL for a bad name, role or ceiling; TIDE_EEXISTS when the name is taken (by a
 *  revoked key too). */
TIDE_EXTERN(int)
tide_key_add(tide_store *store, const char *name, int role, int tlp_max, char **out_key);
/** @brief Every key, by name. */
TIDE_EXTERN(int)
tide_key_list(tide_store *store, int (*cb)(const tide_key_info *key, void *payload), void *payload);
/** @brief Revoke the key name (at once for new requests). TIDE_ENOTFOUND when none. */
TIDE_EXTERN(int) tide_key_revoke(tide_store *store, const char *name);
/** @brief The key whose text is key[0..len): out filled when it is a valid key. TIDE_ENOTFOUND
 *  for an unknown key or a revoked one (no detail either way). */
TIDE_EXTERN(int)
tide_key_verify(tide_store *store, const char *key, size_t len, tide_key_info *out);
/** @brief The lowercase hex SHA-256 of key[0..len), the form the store keeps. */
TIDE_EXTERN(void) tide_key_hash(const char *key, size_t len, char out[65]);

/** @brief Record a write: actor (a key's name), action ("POST /api/v1/intel"), target and
 *  detail (may be NULL), at the current time. */
TIDE_EXTERN(int)
tide_audit_add(tide_store *store, const char *actor, const char *action, const char *target,
        const char *detail);
/** @brief The audit log from since (ms, 0: all), newest first, at most limit (0: all), as a
 *  JSON array of {id, at, actor, action, target, detail}. @param[out] out free with free(). */
TIDE_EXTERN(int) tide_audit_json(tide_store *store, int64_t since, long limit, char **out);

#endif
