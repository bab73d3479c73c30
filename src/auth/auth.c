/*
 * auth.c - API keys (random, shown once, stored as their SHA-256), the roles' permission table
 * and the audit log (include/tide/auth.h). The rows live in the store (src/store/store_keys.c,
 * schema 13); OpenSSL gives the randomness and the hash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "store/front.h"
#include "tide/auth.h"
#include "tide/errors.h"
#include "tide/tlp.h"
#include "util/util.h"

static const char *const role_names[TIDE_ROLE__COUNT] = { "reader", "analyst", "admin", "peer" };

static const char *const perm_names[TIDE_PERM__COUNT] = { "intel:read", "intel:write",
    "sightings:read", "hunt", "cases:read", "cases:write", "export", "stats", "metrics", "admin" };

#define P(x) (1u << TIDE_PERM_##x)
/* The permission table: one bit per tide_perm. A peer is a sharing partner: intel in and out
 * under its ceiling, nothing of the organisation's own hosts, cases or hunts. */
static const unsigned role_perms[TIDE_ROLE__COUNT] = {
    [TIDE_ROLE_READER] = P(INTEL_READ) | P(SIGHTINGS_READ) | P(CASES_READ) | P(EXPORT) | P(STATS),
    [TIDE_ROLE_ANALYST] = P(INTEL_READ) | P(INTEL_WRITE) | P(SIGHTINGS_READ) | P(HUNT) |
                          P(CASES_READ) | P(CASES_WRITE) | P(EXPORT) | P(STATS) | P(METRICS),
    [TIDE_ROLE_ADMIN] = (1u << TIDE_PERM__COUNT) - 1,
    [TIDE_ROLE_PEER] = P(INTEL_READ) | P(INTEL_WRITE) | P(EXPORT),
};
#undef P

int tide_role_parse(const char *name)
{
    for (int i = 0; name && i < TIDE_ROLE__COUNT; i++)
        if (strcmp(name, role_names[i]) == 0)
            return i;
    return -1;
}

const char *tide_role_name(int role)
{
    return role >= 0 && role < TIDE_ROLE__COUNT ? role_names[role] : NULL;
}

const char *tide_perm_name(int perm)
{
    return perm >= 0 && perm < TIDE_PERM__COUNT ? perm_names[perm] : NULL;
}

bool tide_role_allows(int role, int perm)
{
    if (role < 0 || role >= TIDE_ROLE__COUNT || perm < 0 || perm >= TIDE_PERM__COUNT)
        return false;
    return (role_perms[role] >> perm) & 1u;
}

void tide_key_hash(const char *key, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    static const char hex[] = "0123456789abcdef";
    if (EVP_Digest(key, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32) {
        memset(out, '0', 64); /* never a key's hash: no stored key matches it */
        out[64] = '\0';
        return;
    }
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

static bool good_name(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-' || c == '@'))
            return false;
    }
    return true;
}

int tide_key_add(tide_store *store, const char *name, int role, int tlp_max, char **out_key)
{
    if (out_key == NULL)
        return tide_error_set(TIDE_EINVAL, "no output");
    *out_key = NULL;
    if (!good_name(name))
        return tide_error_set(TIDE_EINVAL,
                "key name '%s': 1 to 64 letters, digits, '.', '_', '-' or '@'", name ? name : "");
    if (tide_role_name(role) == NULL)
        return tide_error_set(TIDE_EINVAL, "unknown role %d", role);
    if (tide_tlp_name(tlp_max) == NULL)
        return tide_error_set(TIDE_EINVAL, "unknown TLP ceiling %d", tlp_max);
    unsigned char raw[32];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return tide_error_set(TIDE_ERROR, "no randomness for a key (RAND_bytes failed)");
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *key = tide__malloc(TIDE_KEY_LEN + 1);
    TIDE_CHECK_ALLOC(key);
    memcpy(key, "tide_", 5);
    size_t o = 5;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < sizeof raw; i++) {
        acc = (acc << 8) | raw[i];
        bits += 8;
        while (bits >= 6) {
            key[o++] = b64[(acc >> (bits - 6)) & 63];
            bits -= 6;
        }
    }
    if (bits > 0)
        key[o++] = b64[(acc << (6 - bits)) & 63];
    key[o] = '\0'; /* 5 + 43 = TIDE_KEY_LEN */
    char hash[65];
    tide_key_hash(key, o, hash);
    tide_store_key k = { name, hash, tide_role_name(role), tide_tlp_name(tlp_max),
        tide__time_now_ms(), TIDE_STORE_NULL };
    int rc = tide__store_key_put(store, &k);
    if (rc < 0) {
        tide__free(key);
        return rc;
    }
    *out_key = key;
    return 0;
}

static void info_of(const tide_store_key *k, tide_key_info *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", k->name ? k->name : "");
    int r = tide_role_parse(k->role);
    out->role = r < 0 ? TIDE_ROLE_READER : (tide_role)r;
    out->tlp_max = tide_tlp_parse(k->tlp_max);
    if (out->tlp_max < 0) /* not a TLP name: the narrowest ceiling */
        out->tlp_max = TIDE_TLP_CLEAR;
    out->created_at = k->created_at;
    out->revoked_at = k->revoked_at == TIDE_STORE_NULL ? 0 : k->revoked_at;
    if (r < 0) /* a role this tide does not know: treated as revoked */
        out->revoked_at = out->revoked_at ? out->revoked_at : 1;
}

typedef struct {
    int (*cb)(const tide_key_info *key, void *payload);
    void *payload;
    tide_key_info *one;
} list_ctx;

static int list_one(const tide_store_key *k, void *payload)
{
    list_ctx *c = payload;
    tide_key_info info;
    info_of(k, &info);
    if (c->one) {
        *c->one = info;
        return 0;
    }
    return c->cb(&info, c->payload);
}

int tide_key_list(
        tide_store *store, int (*cb)(const tide_key_info *key, void *payload), void *payload)
{
    if (cb == NULL)
        return tide_error_set(TIDE_EINVAL, "no callback");
    list_ctx c = { cb, payload, NULL };
    return tide__store_keys(store, list_one, &c);
}

int tide_key_revoke(tide_store *store, const char *name)
{
    return tide__store_key_revoke(store, name, tide__time_now_ms());
}

int tide_key_verify(tide_store *store, const char *key, size_t len, tide_key_info *out)
{
    if (key == NULL || out == NULL)
        return tide_error_set(TIDE_EINVAL, "no key");
    if (len != TIDE_KEY_LEN || memcmp(key, "tide_", 5) != 0)
        return tide_error_set(TIDE_ENOTFOUND, "no such key");
    char hash[65];
    tide_key_hash(key, len, hash);
    list_ctx c = { NULL, NULL, out };
    memset(out, 0, sizeof *out);
    int rc = tide__store_key_by_hash(store, hash, list_one, &c);
    if (rc < 0)
        return rc;
    if (out->revoked_at != 0)
        return tide_error_set(TIDE_ENOTFOUND, "no such key");
    return 0;
}

int tide_audit_add(tide_store *store, const char *actor, const char *action, const char *target,
        const char *detail)
{
    tide_store_audit e = { 0, tide__time_now_ms(), actor, action, target, detail };
    return tide__store_audit_add(store, &e);
}

static int audit_one(const tide_store_audit *e, void *payload)
{
    char at[32];
    tide_time_format(e->at, at);
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s?, s:s?}", "id", (json_int_t)e->id, "at", at,
            "actor", e->actor ? e->actor : "", "action", e->action ? e->action : "", "target",
            e->target, "detail", e->detail);
    if (o == NULL || json_array_append_new(payload, o) < 0)
        return tide_error_set(TIDE_ENOMEM, "audit log");
    return 0;
}

int tide_audit_json(tide_store *store, int64_t since, long limit, char **out)
{
    if (out == NULL)
        return tide_error_set(TIDE_EINVAL, "no output");
    *out = NULL;
    json_t *arr = json_array();
    TIDE_CHECK_ALLOC(arr);
    int rc = tide__store_audit(store, since, limit, audit_one, arr);
    if (rc == 0 && (*out = json_dumps(arr, JSON_COMPACT)) == NULL)
        rc = tide_error_set(TIDE_ENOMEM, "audit log");
    json_decref(arr);
    return rc;
}
