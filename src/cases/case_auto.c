/*
 * case_auto.c - opening cases by rule (issue 6): every unsuppressed, live sighting whose
 * indicator scores at least min_score opens a case unless an open case already covers it.
 * Sightings are taken oldest first, so the first sighting of a campaign opens its case and the
 * later ones (same campaign / malware, any host in its scope) join it as covered.
 */
#include <string.h>

#include "case_store.h"
#include "cases_int.h"
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
            json_pack("{s:s, s:s, s:s, s:I}", "host", r->host, "indicator_id", r->indicator_id,
                    "indicator", r->indicator, "first_seen", (json_int_t)r->first_seen));
    return 0;
}

int tide_case_auto(
        tide_store *s, const tide_case_opts *o, int min_score, int64_t since_ms, char **out)
{
    json_t *sights = json_array(), *res = json_array();
    tide_sighting_query q = { 0 };
    q.since = since_ms;
    int rc = tide_store_sightings(s, &q, collect, sights);
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
        int score =
                (int)(tide_score_base(ind.confidence < 0 ? 50 : ind.confidence, ind.reliability) +
                        0.5);
        if (score < min_score)
            continue;
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
    return rc;
}
