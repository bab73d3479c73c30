/*
 * observable.h - the kinds of observable tide indexes and matches (SPEC C1), and the functions
 * that detect, refang, normalise and turn a feed value into a STIX pattern.
 *
 * Canonical forms (what normalise produces, and what the store and match index hold):
 *   ipv4 / ipv6     inet_ntop text ("1.2.3.4", "2001:db8::1")
 *   cidr4 / cidr6   network address with host bits cleared + "/len" ("10.0.0.0/8");
 *                   a /32 (/128) is reported as ipv4 (ipv6) by detect
 *   domain          lower-case, no trailing dot, no "*." prefix
 *   url             scheme and host lower-cased, default port dropped, percent-encoded unreserved
 *                   characters decoded, empty path becomes "/"
 *   url-path        a path (and query) without host, as in maltrail's "/guids/xian/ringin/"
 *   ip-port         "1.2.3.4:449" or "[2001:db8::1]:443"
 *   hashes          lower-case hex
 *   email           lower-case
 */
#ifndef TIDE_OBSERVABLE_H
#define TIDE_OBSERVABLE_H

#include "common.h"

typedef enum {
    TIDE_OBS_NONE = 0,
    TIDE_OBS_IPV4,
    TIDE_OBS_IPV6,
    TIDE_OBS_CIDR4,
    TIDE_OBS_CIDR6,
    TIDE_OBS_DOMAIN,
    TIDE_OBS_URL,
    TIDE_OBS_URL_PATH,
    TIDE_OBS_IP_PORT,
    TIDE_OBS_MD5,
    TIDE_OBS_SHA1,
    TIDE_OBS_SHA256,
    TIDE_OBS_SHA512,
    TIDE_OBS_EMAIL,
    TIDE_OBS_JA3,
    TIDE_OBS_X509_SHA1,
    TIDE_OBS__COUNT
} tide_obs_kind;

/** @brief Stable short name of a kind ("ipv4", "cidr4", "domain", "url", "url-path", "ip-port",
 *  "md5", "sha1", "sha256", "sha512", "email", "ja3", "x509-sha1"); "none" for NONE. */
TIDE_EXTERN(const char *) tide_obs_kind_name(tide_obs_kind kind);

/** @brief Kind from its short name; TIDE_OBS_NONE if unknown. */
TIDE_EXTERN(tide_obs_kind) tide_obs_kind_from_name(const char *name);

/** @brief Guess the kind of a bare feed value (already trimmed and refanged): IP, CIDR,
 *  ip:port, URL with or without scheme, bare path, domain, hash by length, email.
 *  @return TIDE_OBS_NONE when the value is none of these. */
TIDE_EXTERN(tide_obs_kind) tide_obs_detect(const char *value);

/** @brief Undo common defanging: hxxp/hXXp/fxp, [.] (.) {.} [dot], [:], [at] [@], [://] ...
 *  @param[out] out newly allocated result (free with free()). @return 0 or TIDE_ENOMEM. */
TIDE_EXTERN(int) tide_obs_refang(const char *value, char **out);

/** @brief Canonical form of value as the given kind (see the table above).
 *  @param[out] out newly allocated (free with free()).
 *  @return 0, or TIDE_EPARSE when value is not a valid observable of that kind. */
TIDE_EXTERN(int) tide_obs_normalize(tide_obs_kind kind, const char *value, char **out);

/** @brief A STIX 2.1 pattern that matches the (canonical) value, e.g.
 *  "[ipv4-addr:value = '1.2.3.4']", "[domain-name:value = 'x.com']",
 *  "[file:hashes.'SHA-256' = '...']", "[network-traffic:dst_ref.value = '1.2.3.4' AND
 *  network-traffic:dst_port = 449]", "[url:value LIKE '%/path']" for url-path.
 *  @param[out] out newly allocated (free with free()). */
TIDE_EXTERN(int) tide_obs_to_pattern(tide_obs_kind kind, const char *value, char **out);

/** @brief The kind named by a STIX object path in a pattern comparison, e.g.
 *  ("ipv4-addr", "value") -> IPV4, ("file", "hashes.'SHA-256'") -> SHA256,
 *  ("domain-name","value") -> DOMAIN, ("url","value") -> URL, ("email-addr","value") -> EMAIL,
 *  ("x509-certificate","hashes.'SHA-1'") -> X509_SHA1. For ipv4-addr / ipv6-addr the caller
 *  passes the value too, so that "10.0.0.0/8" gives CIDR4. TIDE_OBS_NONE if not indexable. */
TIDE_EXTERN(tide_obs_kind)
tide_obs_from_path(const char *object_type, const char *path, const char *value);

#endif
