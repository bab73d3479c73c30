/*
 * case_auto.c - opening cases by rule (issue 6): every unsuppressed, live sighting whose
 * indicator scores at least min_score opens a case unless an open case already covers it.
 * The score is the one of tide/score.h, as the match index and exports have it: decayed at the
 * case reference time (opts->now_ms), from valid_from (else created, else modified) or the
 * indicator's last sighting when newer. Sightings are taken oldest first, so the first
 * sighting of a campaign opens its case and the later ones (same campaign / malware, any host
 * in its scope) join it as covered.
 */
#include <string.h>

#include "case_store.h"
#include "cases_int.h"
#include "intel/sighted.h"
#include "tide/errors.h"
#include "tide/score.h"
#include "tide/sightings.h"
#include "util/util.h"

static int collect(const tide_sighting_rec *r, void *payload)
{
    json_t *a = payload;
    if (r->suppressed || r->live_count <= 0)
        return 0;
    json_array_insert_new(a, 0,
            json_pack("{s:s, s:s, s:s, s:I, s:i}", "host", r->host, "indicator_id", r->indicator_id,
                    "indicator", r->indicator, "first_seen", (json_int_t)r->first_seen, "kind",
                    (int)r->kind));
    return 0;
}

int tide_case_auto(
        tide_store *s, const tide_case_opts *o, int min_score, int64_t since_ms, char **out)
{
    json_t *sights = json_array(), *res = json_array();
    tide_sighting_query q = { 0 };
    q.since = since_ms;
    tide__sighted sighted = TIDE_SIGHTED_INIT;
    tide_decay_config dc;
    if (o && o->decay)
        dc = *o->decay;
    else
        tide_decay_defaults(&dc);
    int64_t now = tide__case_now(o);
    int rc = tide_store_sightings(s, &q, collect, sights);
    if (rc == 0) /* a sighting refreshes an indicator's score */
        rc = tide_store_last_sighted(s, tide__sighted_note, &sighted);
    size_t i;
    json_t *v;
    json_array_foreach(sights, i, v)
    {
        if (rc < 0)
            break;
        const char *host = json_string_value(json_object_get(v, "host"));
        const char *iid = json_string_value(json_object_get(v, "indicator_id"));
        tide_indicator_rec ind;
        if (tide_store_indicator(s, iid, &ind) < 0) {
            tide_error_clear();
            continue;
        }
        tide_score_input in = { .kind = (tide_obs_kind)json_integer_value(
                                        json_object_get(v, "kind")),
            .confidence = ind.confidence,
            .reliability = ind.reliability,
            .valid_from = ind.valid_from,
            .valid_until = ind.valid_until,
            .created = ind.created,
            .modified = ind.modified,
            .last_sighted = tide__sighted_get(&sighted, iid, strlen(iid)),
            .revoked = ind.revoked };
        tide_score_result sr;
        tide_score_assess(&dc, &in, now, &sr);
        if (sr.score < min_score)
            continue;
        int score = tide_score_round(sr.score);
        int64_t id = 0;
        bool existed = false;
        if ((rc = tide__case_find_covering(s, host, iid, &id)) < 0)
            break;
        if (id == 0)
            rc = tide_case_open(s, o, 0, host, iid, &id, &existed);
        else
            existed = true;
        if (rc < 0)
            break;
        json_array_append_new(
                res, json_pack("{s:I, s:s, s:O, s:i, s:b}", "case", (json_int_t)id, "host", host,
                             "indicator", json_object_get(v, "indicator"), "score", score, "opened",
                             !existed));
    }
    if (rc == 0 && out) {
        *out = json_dumps(res, JSON_INDENT(1));
        if (*out == NULL)
            rc = tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    json_decref(sights);
    json_decref(res);
    tide__sighted_free(&sighted);
    return rc;
}
