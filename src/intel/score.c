/*
 * score.c - base score and age decay of indicators, and the one rule for "active now and its
 * decayed score" (include/tide/score.h) that the match index, exports, case rules and
 * `tide show` share.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int tide_decay_set(tide_decay_config *cfg, const char *spec)
{
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", spec);
    char *c1 = strchr(buf, ':');
    if (c1 == NULL)
        return tide_error_set(TIDE_EINVAL, "decay spec '%s': expected kind:days[:speed]", spec);
    *c1 = '\0';
    char *c2 = strchr(c1 + 1, ':');
    if (c2)
        *c2 = '\0';
    tide_obs_kind k = tide_obs_kind_from_name(buf);
    bool ip_all = strcmp(buf, "ip") == 0, hash_all = strcmp(buf, "hash") == 0;
    if (k == TIDE_OBS_NONE && !ip_all && !hash_all)
        return tide_error_set(TIDE_EINVAL, "decay spec '%s': unknown kind '%s'", spec, buf);
    char *end;
    double days = strtod(c1 + 1, &end);
    if (*end != '\0' || end == c1 + 1)
        return tide_error_set(TIDE_EINVAL, "decay spec '%s': bad number of days", spec);
    double speed = 1.0;
    if (c2) {
        speed = strtod(c2 + 1, &end);
        if (*end != '\0' || !(speed > 0))
            return tide_error_set(TIDE_EINVAL, "decay spec '%s': speed must be > 0", spec);
    }
    tide_obs_kind kinds[8];
    int n = 0;
    if (ip_all) {
        kinds[n++] = TIDE_OBS_IPV4;
        kinds[n++] = TIDE_OBS_IPV6;
        kinds[n++] = TIDE_OBS_CIDR4;
        kinds[n++] = TIDE_OBS_CIDR6;
        kinds[n++] = TIDE_OBS_IP_PORT;
    } else if (hash_all) {
        kinds[n++] = TIDE_OBS_MD5;
        kinds[n++] = TIDE_OBS_SHA1;
        kinds[n++] = TIDE_OBS_SHA256;
        kinds[n++] = TIDE_OBS_SHA512;
    } else {
        kinds[n++] = k;
    }
    for (int i = 0; i < n; i++) {
        cfg->lifetime_days[kinds[i]] = days;
        cfg->speed[kinds[i]] = speed;
    }
    return 0;
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
