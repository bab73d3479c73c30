/*
 * score.c - base score and age decay of indicators, and the one rule for "active now and its
 * decayed score" (include/tide/score.h) that the match index, exports, case rules and
 * `tide show` share.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tide/errors.h"
#include "tide/score.h"
#include "util/util.h"

void tide_decay_defaults(tide_decay_config *out)
{
    for (int k = 0; k < TIDE_OBS__COUNT; k++) {
        out->lifetime_days[k] = 90;
        out->speed[k] = 1.0;
    }
    out->lifetime_days[TIDE_OBS_IPV4] = 30;
    out->lifetime_days[TIDE_OBS_IPV6] = 30;
    out->lifetime_days[TIDE_OBS_CIDR4] = 30;
    out->lifetime_days[TIDE_OBS_CIDR6] = 30;
    out->lifetime_days[TIDE_OBS_IP_PORT] = 30;
    out->lifetime_days[TIDE_OBS_URL] = 60;
    out->lifetime_days[TIDE_OBS_URL_PATH] = 60;
    out->lifetime_days[TIDE_OBS_DOMAIN] = 90;
    out->lifetime_days[TIDE_OBS_EMAIL] = 90;
    out->lifetime_days[TIDE_OBS_MD5] = 365;
    out->lifetime_days[TIDE_OBS_SHA1] = 365;
    out->lifetime_days[TIDE_OBS_SHA256] = 365;
    out->lifetime_days[TIDE_OBS_SHA512] = 365;
    out->lifetime_days[TIDE_OBS_JA3] = 180;
    out->lifetime_days[TIDE_OBS_X509_SHA1] = 180;
}

/* The kinds a decay name stands for: one kind, or a group ("ip": addresses, CIDRs and ip:port;
 * "cidr"; "hash": md5 .. sha512; "url": URLs and URL paths). Returns how many (0: unknown). */
static int decay_kinds(const char *name, tide_obs_kind kinds[8])
{
    int n = 0;
    if (strcmp(name, "ip") == 0) {
        kinds[n++] = TIDE_OBS_IPV4;
        kinds[n++] = TIDE_OBS_IPV6;
        kinds[n++] = TIDE_OBS_CIDR4;
        kinds[n++] = TIDE_OBS_CIDR6;
        kinds[n++] = TIDE_OBS_IP_PORT;
    } else if (strcmp(name, "cidr") == 0) {
        kinds[n++] = TIDE_OBS_CIDR4;
        kinds[n++] = TIDE_OBS_CIDR6;
    } else if (strcmp(name, "hash") == 0) {
        kinds[n++] = TIDE_OBS_MD5;
        kinds[n++] = TIDE_OBS_SHA1;
        kinds[n++] = TIDE_OBS_SHA256;
        kinds[n++] = TIDE_OBS_SHA512;
    } else if (strcmp(name, "url") == 0) {
        kinds[n++] = TIDE_OBS_URL;
        kinds[n++] = TIDE_OBS_URL_PATH;
    } else {
        tide_obs_kind k = tide_obs_kind_from_name(name);
        if (k == TIDE_OBS_NONE && strcmp(name, "domain-name") == 0)
            k = TIDE_OBS_DOMAIN;
        if (k != TIDE_OBS_NONE)
            kinds[n++] = k;
    }
    return n;
}

static int decay_put(
        tide_decay_config *cfg, const char *name, double days, double speed, const char *where)
{
    tide_obs_kind kinds[8];
    int n = decay_kinds(name, kinds);
    if (n == 0)
        return tide_error_set(TIDE_EINVAL,
                "%s: unknown observable type '%s' (ip, cidr, hash, url, ipv4, ipv6, cidr4, "
                "cidr6, ip-port, domain, url-path, md5, sha1, sha256, sha512, email, ja3, "
                "x509-sha1)",
                where, name);
    if (!(days >= 0) || days > 36500)
        return tide_error_set(TIDE_EINVAL,
                "%s: lifetime of '%s' must be 0 (never decays) .. 36500 days", where, name);
    if (!(speed > 0) || speed > 100)
        return tide_error_set(TIDE_EINVAL, "%s: speed of '%s' must be > 0 and <= 100", where, name);
    for (int i = 0; i < n; i++) {
        cfg->lifetime_days[kinds[i]] = days;
        cfg->speed[kinds[i]] = speed;
    }
    return 0;
}

/* A number of days: "30", "30d", "2.5". */
static bool parse_days(const char *s, size_t n, double *out)
{
    char buf[64];
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (buf[n - 1] == 'd')
        buf[--n] = '\0';
    char *end;
    *out = strtod(buf, &end);
    return n > 0 && *end == '\0' && end != buf;
}

int tide_decay_set(tide_decay_config *cfg, const char *spec)
{
    if (spec == NULL)
        return tide_error_set(TIDE_EINVAL, "decay: no spec");
    char name[64];
    size_t nl = strcspn(spec, "=:");
    if (spec[nl] == '\0' || nl == 0 || nl >= sizeof(name))
        return tide_error_set(TIDE_EINVAL,
                "decay '%s': expected TYPE=LIFETIME[:SPEED], e.g. ip=14 or domain=120:0.5", spec);
    memcpy(name, spec, nl);
    name[nl] = '\0';
    const char *v = spec + nl + 1;
    size_t dl = strcspn(v, ":");
    double days, speed = 1.0;
    if (!parse_days(v, dl, &days))
        return tide_error_set(
                TIDE_EINVAL, "decay '%s': bad lifetime '%.*s' (days)", spec, (int)dl, v);
    if (v[dl] == ':') {
        char *end;
        speed = strtod(v + dl + 1, &end);
        if (*end != '\0' || end == v + dl + 1)
            return tide_error_set(TIDE_EINVAL, "decay '%s': bad speed '%s'", spec, v + dl + 1);
    }
    char where[200];
    snprintf(where, sizeof(where), "decay '%s'", spec);
    return decay_put(cfg, name, days, speed, where);
}

int tide_decay_parse(tide_decay_config *cfg, const char *data, size_t len, const char *name)
{
    json_error_t err;
    json_t *root = json_loadb(data, len, 0, &err);
    if (root == NULL)
        return tide_error_set(
                TIDE_EPARSE, "%s:%d: byte %d: %s", name, err.line, err.position, err.text);
    int rc = 0;
    tide_decay_config c = *cfg;
    if (!json_is_object(root)) {
        rc = tide_error_set(TIDE_EPARSE,
                "%s:1: a JSON object of observable type -> lifetime days, or -> "
                "{\"lifetime_days\": N, \"speed\": S}, expected",
                name);
        goto done;
    }
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v)
    {
        char where[300];
        snprintf(where, sizeof(where), "%s: \"%s\"", name, k);
        double days, speed = 1.0;
        if (json_is_number(v)) {
            days = json_number_value(v);
        } else if (json_is_object(v)) {
            json_t *d = json_object_get(v, "lifetime_days"), *sp = json_object_get(v, "speed");
            const char *kk;
            json_t *vv;
            json_object_foreach(v, kk, vv)
            {
                if (strcmp(kk, "lifetime_days") != 0 && strcmp(kk, "speed") != 0) {
                    rc = tide_error_set(
                            TIDE_EPARSE, "%s: unknown key '%s' (lifetime_days, speed)", where, kk);
                    goto done;
                }
            }
            if (!json_is_number(d) || (sp && !json_is_number(sp))) {
                rc = tide_error_set(TIDE_EPARSE,
                        "%s: \"lifetime_days\" (a number) and an optional \"speed\" (a "
                        "number) expected",
                        where);
                goto done;
            }
            days = json_number_value(d);
            if (sp)
                speed = json_number_value(sp);
        } else {
            rc = tide_error_set(TIDE_EPARSE,
                    "%s: a number of days or {\"lifetime_days\", \"speed\"} expected", where);
            goto done;
        }
        if ((rc = decay_put(&c, k, days, speed, where)) < 0) {
            rc = tide_error_set(TIDE_EPARSE, "%s", tide_error_last());
            goto done;
        }
    }
    *cfg = c;
done:
    json_decref(root);
    return rc;
}

uint32_t tide_decay_key(const tide_decay_config *cfg)
{
    tide_decay_config d;
    tide_decay_defaults(&d);
    if (memcmp(&d, cfg, sizeof(d)) == 0)
        return 0;
    uint64_t h = 1469598103934665603ull;
    const unsigned char *p = (const unsigned char *)cfg;
    for (size_t i = 0; i < sizeof(*cfg); i++)
        h = (h ^ p[i]) * 1099511628211ull;
    uint32_t k = (uint32_t)(h ^ (h >> 32));
    return k ? k : 1;
}

double tide_reliability_factor(char r)
{
    switch (r) {
        case 'A':
        case 'a': return 1.0;
        case 'B':
        case 'b': return 0.9;
        case 'C':
        case 'c': return 0.75;
        case 'D':
        case 'd': return 0.5;
        case 'E':
        case 'e': return 0.25;
        case 'F':
        case 'f': return 0.5;
        default: return 0.75;
    }
}

double tide_score_base(int confidence, char reliability)
{
    if (confidence < 0)
        confidence = 0;
    if (confidence > 100)
        confidence = 100;
    return confidence * tide_reliability_factor(reliability);
}

double tide_score_current(const tide_decay_config *cfg, tide_obs_kind kind, double base,
        int64_t ref_ms, int64_t now_ms)
{
    if (kind <= TIDE_OBS_NONE || kind >= TIDE_OBS__COUNT)
        return base;
    double life = cfg->lifetime_days[kind];
    if (life <= 0)
        return base;
    double age = (double)(now_ms - ref_ms) / 86400000.0;
    if (age <= 0)
        return base;
    if (age >= life)
        return 0;
    double s = base * (1.0 - pow(age / life, 1.0 / cfg->speed[kind]));
    return s < 0 ? 0 : s;
}

/* ---- active now, and the decayed score ---- */

tide_activity tide_score_activity(const tide_score_input *in, int64_t now_ms)
{
    if (in->revoked)
        return TIDE_INACTIVE_REVOKED;
    if (in->valid_until > 0 && in->valid_until <= now_ms)
        return TIDE_INACTIVE_EXPIRED;
    if (in->valid_from > now_ms)
        return TIDE_INACTIVE_NOT_YET;
    return TIDE_ACTIVE;
}

const char *tide_score_activity_name(int a)
{
    static const char *const names[] = { "active", "revoked", "expired", "not yet valid" };
    return a >= 0 && a <= TIDE_INACTIVE_NOT_YET ? names[a] : "?";
}

double tide_score_input_base(const tide_score_input *in)
{
    return tide_score_base(in->confidence < 0 ? 50 : in->confidence, in->reliability);
}

int64_t tide_score_reference(const tide_score_input *in)
{
    int64_t ref = in->valid_from ? in->valid_from : in->created ? in->created : in->modified;
    return in->last_sighted > ref ? in->last_sighted : ref;
}

double tide_score_decayed(const tide_decay_config *cfg, const tide_score_input *in, int64_t now_ms)
{
    return tide_score_current(
            cfg, in->kind, tide_score_input_base(in), tide_score_reference(in), now_ms);
}

tide_activity tide_score_assess(const tide_decay_config *cfg, const tide_score_input *in,
        int64_t now_ms, tide_score_result *out)
{
    tide_activity a = tide_score_activity(in, now_ms);
    if (out) {
        out->activity = a;
        out->base = tide_score_input_base(in);
        out->ref_ms = tide_score_reference(in);
        out->score = a == TIDE_ACTIVE
                             ? tide_score_current(cfg, in->kind, out->base, out->ref_ms, now_ms)
                             : 0;
    }
    return a;
}

int tide_score_round(double score)
{
    return score <= 0 ? 0 : score >= 100 ? 100 : (int)(score + 0.5);
}
