/*
 * case_parse.c - the two files an incident responder writes for a case: the tier policy
 * (JSON) and the lessons-learned record (JSON, or a line-oriented "key: value" text format).
 * Both are outside input: size-capped, strictly validated (unknown keys are errors), and every
 * error names the file, the place (line, or the JSON path) and the reason. Parsing uses
 * jansson; the text format is a few lines of hand-written code because it is trivial.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cases_int.h"
#include "tide/export.h"
#include "tide/errors.h"
#include "tide/observable.h"
#include "util/util.h"

int tide__case_read_file(const char *path, size_t max, char **out, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return tide_error_set(TIDE_EIO, "%s: %s", path, strerror(errno));
    tide_buf b = { 0 };
    b.max = max;
    char tmp[8192];
    size_t n;
    int rc = 0;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) {
        if (tide__buf_put(&b, tmp, n) < 0) {
            rc = tide_error_set(TIDE_ETOOBIG, "%s: larger than %zu bytes", path, max);
            break;
        }
    }
    if (rc == 0 && ferror(f))
        rc = tide_error_set(TIDE_EIO, "%s: read failed", path);
    fclose(f);
    if (rc < 0) {
        tide__buf_free(&b);
        return rc;
    }
    *out_len = b.len;
    *out = tide__buf_detach(&b);
    if (*out == NULL) {
        *out = tide__strdup("");
        TIDE_CHECK_ALLOC(*out);
    }
    return 0;
}

/* ---- policy ---- */

json_t *tide__case_policy_default(void)
{
    return json_pack("{s:i, s:i, s:[s], s:i, s:i, s:{s:i, s:i, s:i}}", "tier2_min_hosts", 2,
            "tier3_min_hosts", 10, "critical", "critical", "campaign_tier", 2, "actor_tier", 3,
            "watch_days", "1", 14, "2", 30, "3", 30);
}

int tide__case_watch_days(json_t *policy, int tier)
{
    char k[4];
    snprintf(k, sizeof(k), "%d", tier < 1 ? 1 : tier > 3 ? 3 : tier);
    json_t *v = json_object_get(json_object_get(policy, "watch_days"), k);
    return json_is_integer(v) ? (int)json_integer_value(v) : (tier <= 1 ? 14 : 30);
}

static int int_in(json_t *v, long lo, long hi)
{
    return json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi;
}

int tide__case_policy_parse(const char *data, size_t len, const char *name, json_t **out)
{
    json_error_t e;
    *out = NULL;
    if (len > TIDE_CASE_MAX_FILE)
        return tide_error_set(
                TIDE_ETOOBIG, "%s: policy larger than %d bytes", name, TIDE_CASE_MAX_FILE);
    json_t *in = json_loadb(data, len, JSON_REJECT_DUPLICATES, &e);
    if (in == NULL)
        return tide_error_set(TIDE_EPARSE, "%s:%d:%d: %s", name, e.line, e.column, e.text);
    json_t *p = tide__case_policy_default();
    int rc = 0;
    const char *k;
    json_t *v;
    if (!json_is_object(in)) {
        rc = tide_error_set(TIDE_EPARSE, "%s:1: a policy is a JSON object", name);
        goto done;
    }
    json_object_foreach(in, k, v)
    {
        if (strcmp(k, "tier2_min_hosts") == 0 || strcmp(k, "tier3_min_hosts") == 0) {
            if (!int_in(v, 1, 1000000)) {
                rc = tide_error_set(TIDE_EPARSE, "%s: %s: an integer from 1 expected", name, k);
                goto done;
            }
        } else if (strcmp(k, "campaign_tier") == 0 || strcmp(k, "actor_tier") == 0) {
            if (!int_in(v, 1, 3)) {
                rc = tide_error_set(TIDE_EPARSE, "%s: %s: a tier 1-3 expected", name, k);
                goto done;
            }
        } else if (strcmp(k, "critical") == 0) {
            size_t i;
            json_t *c;
            if (!json_is_array(v)) {
                rc = tide_error_set(TIDE_EPARSE,
                        "%s: critical: an array of criticality"
                        " names expected",
                        name);
                goto done;
            }
            json_array_foreach(v, i, c)
            {
                if (!json_is_string(c)) {
                    rc = tide_error_set(
                            TIDE_EPARSE, "%s: critical[%zu]: a string expected", name, i);
                    goto done;
                }
            }
        } else if (strcmp(k, "watch_days") == 0) {
            const char *t;
            json_t *d;
            if (!json_is_object(v)) {
                rc = tide_error_set(TIDE_EPARSE,
                        "%s: watch_days: an object {\"1\": days,"
                        " \"2\": days, \"3\": days} expected",
                        name);
                goto done;
            }
            json_object_foreach(v, t, d)
            {
                if (strcmp(t, "1") && strcmp(t, "2") && strcmp(t, "3")) {
                    rc = tide_error_set(TIDE_EPARSE, "%s: watch_days: unknown tier '%s'", name, t);
                    goto done;
                }
                if (!int_in(d, 0, 3650)) {
                    rc = tide_error_set(
                            TIDE_EPARSE, "%s: watch_days.%s: days 0-3650 expected", name, t);
                    goto done;
                }
                json_object_set(json_object_get(p, "watch_days"), t, d);
            }
            continue;
        } else {
            rc = tide_error_set(TIDE_EPARSE, "%s: unknown policy key '%s'", name, k);
            goto done;
        }
        json_object_set(p, k, v);
    }
    if (json_integer_value(json_object_get(p, "tier3_min_hosts")) <
            json_integer_value(json_object_get(p, "tier2_min_hosts"))) {
        rc = tide_error_set(TIDE_EPARSE, "%s: tier3_min_hosts is below tier2_min_hosts", name);
        goto done;
    }
done:
    json_decref(in);
    if (rc < 0) {
        json_decref(p);
        return rc;
    }
    *out = p;
    return 0;
}

int tide_case_policy_parse(const char *data, size_t len, const char *name, char **out)
{
    json_t *p = NULL;
    TIDE_CHECK(tide__case_policy_parse(data, len, name ? name : "policy", &p));
    *out = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(p);
    TIDE_CHECK_ALLOC(*out);
    return 0;
}

/* ---- lessons ---- */

static const char *const LESSON_LISTS[] = { "prevention_changes", "detection_gaps",
    "response_gaps" };

static int add_indicator(
        json_t *list, const char *value, const char *type, const char *name, const char *where)
{
    if (strlen(value) > 2048)
        return tide_error_set(TIDE_EPARSE, "%s:%s: indicator longer than 2048 bytes", name, where);
    char *ref = NULL;
    TIDE_CHECK(tide_obs_refang(value, &ref));
    tide_obs_kind k = type ? tide_obs_kind_from_name(type) : tide_obs_detect(ref);
    if (k == TIDE_OBS_NONE) {
        int rc = type ? tide_error_set(TIDE_EPARSE, "%s:%s: unknown indicator type '%s'", name,
                                where, type)
                      : tide_error_set(TIDE_EPARSE,
                                "%s:%s: '%.80s' is not an IP, CIDR, domain,"
                                " URL, hash or e-mail address",
                                name, where, value);
        free(ref);
        return rc;
    }
    char *canon = NULL;
    int rc = tide_obs_normalize(k, ref, &canon);
    free(ref);
    if (rc < 0)
        return tide_error_set(TIDE_EPARSE, "%s:%s: invalid %s '%.80s'", name, where,
                tide_obs_kind_name(k), value);
    json_array_append_new(
            list, json_pack("{s:s, s:s}", "value", canon, "type", tide_obs_kind_name(k)));
    free(canon);
    return 0;
}

/* ---- prevention rules (docs/response.md, "Prevention rules") ----
 *   software NAME OP VERSION -> deny-egress [as nft|ipset] [to FILE]
 *   proxy deny-uncategorized categories FILE [allow CAT,...] [to DIR]
 * Each becomes {rule, kind ("egress" | "proxy"), format, policy | categories [, allow]
 * [, output]}: at close a declared policy export (tide_case_opts.policy_export). */

/* A relative path as an absolute one, from the current folder (as tide export takes it). */
static char *abs_path(const char *p)
{
    if (p[0] == '/')
        return tide__strdup(p);
    char *cwd = getcwd(NULL, 0);
    if (cwd == NULL)
        return NULL;
    size_t n = strlen(cwd) + strlen(p) + 2;
    char *out = tide__malloc(n);
    if (out)
        snprintf(out, n, "%s/%s", cwd, p);
    free(cwd);
    return out;
}

/* Whether a prevention line is written as a rule (else it is free text). */
static bool is_rule(const char *v)
{
    return (strncasecmp(v, "software", 8) == 0 && (v[8] == ' ' || v[8] == '\t') &&
                   strstr(v, "->") != NULL) ||
           (strncasecmp(v, "proxy", 5) == 0 && (v[5] == ' ' || v[5] == '\t') &&
                   strncasecmp(tide__str_trim((char *)v + 5), "deny-uncategorized", 18) == 0);
}

#define RULE_WORDS 16

static int add_policy(json_t *list, const char *text, const char *name, const char *where)
{
    if (strlen(text) > 1024)
        return tide_error_set(TIDE_EPARSE, "%s:%s: rule longer than 1024 bytes", name, where);
    char buf[1100], *w[RULE_WORDS];
    int nw = 0, rc = 0;
    snprintf(buf, sizeof(buf), "%s", text);
    bool egress = strncasecmp(buf, "software", 8) == 0;
    char *opts = buf;
    if (egress) { /* the rule as tide export --policy reads it, then the options */
        char *arrow = strstr(buf, "->");
        if (arrow == NULL)
            return tide_error_set(TIDE_EPARSE, "%s:%s: '-> deny-egress' expected", name, where);
        opts = arrow + 2;
        while (*opts == ' ' || *opts == '\t')
            opts++;
        opts += strcspn(opts, " \t"); /* the action */
    }
    char rule[1100];
    snprintf(rule, sizeof(rule), "%.*s", (int)(opts - buf), buf);
    for (char *p = opts; *p && nw < RULE_WORDS;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        w[nw++] = p;
        p += strcspn(p, " \t");
        if (*p)
            *p++ = '\0';
    }
    json_t *o = json_pack("{s:s, s:s}", "rule", text, "kind", egress ? "egress" : "proxy");
    TIDE_CHECK_ALLOC(o);
    int i = 0;
    if (egress) {
        tide_policy_rule pr;
        if (tide_policy_parse(tide__str_trim(rule), &pr) < 0) {
            rc = tide_error_set(TIDE_EPARSE, "%s:%s: %s", name, where, tide_error_last());
            goto done;
        }
        json_object_set_new(o, "policy", json_string(tide__str_trim(rule)));
        json_object_set_new(o, "format", json_string("nft"));
    } else {
        json_object_set_new(o, "format", json_string("squid"));
        i = 2; /* "proxy deny-uncategorized" */
        if (nw < 2 || strcasecmp(w[1], "deny-uncategorized") != 0) {
            rc = tide_error_set(TIDE_EPARSE,
                    "%s:%s: 'proxy deny-uncategorized categories FILE'"
                    " expected",
                    name, where);
            goto done;
        }
    }
    for (; i < nw && rc == 0; i += 2) {
        const char *k = w[i], *v = i + 1 < nw ? w[i + 1] : NULL;
        if (v == NULL) {
            rc = tide_error_set(TIDE_EPARSE, "%s:%s: '%s' needs a value", name, where, k);
        } else if (egress && strcasecmp(k, "as") == 0) {
            if (strcasecmp(v, "nft") && strcasecmp(v, "ipset"))
                rc = tide_error_set(
                        TIDE_EPARSE, "%s:%s: 'as %s': nft or ipset expected", name, where, v);
            else
                json_object_set_new(
                        o, "format", json_string(strcasecmp(v, "nft") ? "ipset" : "nft"));
        } else if (strcasecmp(k, "to") == 0) {
            char *a = abs_path(v);
            if (a == NULL)
                rc = tide_error_set(TIDE_ENOMEM, "out of memory");
            else
                json_object_set_new(o, "output", json_string(a));
            tide__free(a);
        } else if (!egress && strcasecmp(k, "categories") == 0) {
            char *a = realpath(v, NULL);
            if (a == NULL || access(a, R_OK) != 0)
                rc = tide_error_set(
                        TIDE_EPARSE, "%s:%s: categories %s: %s", name, where, v, strerror(errno));
            else
                json_object_set_new(o, "categories", json_string(a));
            free(a);
        } else if (!egress && strcasecmp(k, "allow") == 0) {
            json_object_set_new(o, "allow", json_string(v));
        } else {
            rc = tide_error_set(TIDE_EPARSE, "%s:%s: unknown option '%s' (%s)", name, where, k,
                    egress ? "as nft|ipset, to FILE" : "categories FILE, allow CAT,..., to DIR");
        }
    }
    if (rc == 0 && nw >= RULE_WORDS)
        rc = tide_error_set(TIDE_EPARSE, "%s:%s: too many words", name, where);
    if (rc == 0 && !egress && json_object_get(o, "categories") == NULL)
        rc = tide_error_set(TIDE_EPARSE,
                "%s:%s: 'categories FILE' expected: the domains in a known category", name, where);
done:
    if (rc == 0)
        json_array_append(list, o);
    json_decref(o);
    return rc;
}

static json_t *empty_lessons(void)
{
    return json_pack("{s:[], s:[], s:[], s:[], s:[]}", "new_indicators", "prevention_changes",
            "detection_gaps", "response_gaps", "policies");
}

static int lessons_json(json_t *in, const char *name, json_t *out)
{
    const char *k;
    json_t *v;
    char where[96];
    if (!json_is_object(in))
        return tide_error_set(TIDE_EPARSE, "%s:1: lessons are a JSON object", name);
    json_object_foreach(in, k, v)
    {
        size_t i;
        json_t *e;
        if (strcmp(k, "new_indicators") == 0) {
            if (!json_is_array(v))
                return tide_error_set(TIDE_EPARSE, "%s: new_indicators: an array expected", name);
            json_array_foreach(v, i, e)
            {
                snprintf(where, sizeof(where), " new_indicators[%zu]", i);
                if (json_is_string(e)) {
                    TIDE_CHECK(add_indicator(
                            json_object_get(out, k), json_string_value(e), NULL, name, where));
                } else if (json_is_object(e) && json_is_string(json_object_get(e, "value"))) {
                    json_t *t = json_object_get(e, "type");
                    if (t && !json_is_string(t))
                        return tide_error_set(
                                TIDE_EPARSE, "%s:%s: type: a string expected", name, where);
                    TIDE_CHECK(add_indicator(json_object_get(out, k),
                            json_string_value(json_object_get(e, "value")), json_string_value(t),
                            name, where));
                } else {
                    return tide_error_set(TIDE_EPARSE,
                            "%s:%s: a value or {\"value\", \"type\"}"
                            " expected",
                            name, where);
                }
            }
            continue;
        }
        if (strcmp(k, "policies") == 0) {
            if (!json_is_array(v))
                return tide_error_set(
                        TIDE_EPARSE, "%s: policies: an array of rules expected", name);
            json_array_foreach(v, i, e)
            {
                snprintf(where, sizeof(where), " policies[%zu]", i);
                if (!json_is_string(e))
                    return tide_error_set(
                            TIDE_EPARSE, "%s:%s: a rule (string) expected", name, where);
                TIDE_CHECK(add_policy(json_object_get(out, k), json_string_value(e), name, where));
            }
            continue;
        }
        bool known = false;
        for (size_t j = 0; j < 3; j++)
            known |= strcmp(k, LESSON_LISTS[j]) == 0;
        if (strcmp(k, "case") == 0 || strcmp(k, "notes") == 0)
            continue;
        if (!known)
            return tide_error_set(TIDE_EPARSE, "%s: unknown lessons key '%s'", name, k);
        if (!json_is_array(v))
            return tide_error_set(TIDE_EPARSE, "%s: %s: an array of strings expected", name, k);
        json_array_foreach(v, i, e)
        {
            if (!json_is_string(e) || json_string_length(e) == 0)
                return tide_error_set(
                        TIDE_EPARSE, "%s: %s[%zu]: a non-empty string expected", name, k, i);
            json_array_append(json_object_get(out, k), e);
            if (strcmp(k, "prevention_changes") == 0 && is_rule(json_string_value(e))) {
                snprintf(where, sizeof(where), " prevention_changes[%zu]", i);
                TIDE_CHECK(add_policy(
                        json_object_get(out, "policies"), json_string_value(e), name, where));
            }
        }
    }
    return 0;
}

static int lessons_text(const char *data, size_t len, const char *name, json_t *out)
{
    size_t pos = 0;
    long line = 0;
    char where[32];
    while (pos < len) {
        size_t end = pos;
        while (end < len && data[end] != '\n')
            end++;
        line++;
        char *l = tide__strndup(data + pos, end - pos);
        TIDE_CHECK_ALLOC(l);
        pos = end + 1;
        char *t = tide__str_trim(l);
        int rc = 0;
        if (*t == '\0' || *t == '#') {
            tide__free(l);
            continue;
        }
        char *colon = strchr(t, ':');
        if (colon == NULL) {
            rc = tide_error_set(TIDE_EPARSE,
                    "%s:%ld: 'key: value' expected (keys: indicator,"
                    " prevention, policy, detection-gap, response-gap)",
                    name, line);
            tide__free(l);
            return rc;
        }
        *colon = '\0';
        char *key = tide__str_trim(t);
        char *val = tide__str_trim(colon + 1);
        tide__str_lower(key);
        const char *list = NULL;
        if (strcmp(key, "indicator") == 0) {
            snprintf(where, sizeof(where), "%ld", line);
            if (*val == '\0')
                rc = tide_error_set(TIDE_EPARSE, "%s:%ld: empty indicator", name, line);
            else
                rc = add_indicator(json_object_get(out, "new_indicators"), val, NULL, name, where);
        } else if (strcmp(key, "policy") == 0) {
            snprintf(where, sizeof(where), "%ld", line);
            if (*val == '\0')
                rc = tide_error_set(TIDE_EPARSE, "%s:%ld: empty policy", name, line);
            else if (!is_rule(val))
                rc = tide_error_set(TIDE_EPARSE,
                        "%s:%ld: a rule expected: 'software NAME OP VERSION -> deny-egress' or"
                        " 'proxy deny-uncategorized categories FILE'",
                        name, line);
            else
                rc = add_policy(json_object_get(out, "policies"), val, name, where);
        } else if (strcmp(key, "prevention") == 0) {
            list = "prevention_changes";
            if (is_rule(val)) { /* a prevention written as a rule is also a policy */
                snprintf(where, sizeof(where), "%ld", line);
                rc = add_policy(json_object_get(out, "policies"), val, name, where);
            }
        } else if (strcmp(key, "detection-gap") == 0 || strcmp(key, "detection") == 0) {
            list = "detection_gaps";
        } else if (strcmp(key, "response-gap") == 0 || strcmp(key, "response") == 0) {
            list = "response_gaps";
        } else {
            rc = tide_error_set(TIDE_EPARSE,
                    "%s:%ld: unknown key '%.40s' (keys: indicator,"
                    " prevention, policy, detection-gap, response-gap)",
                    name, line, key);
        }
        if (rc == 0 && list) {
            if (*val == '\0')
                rc = tide_error_set(TIDE_EPARSE, "%s:%ld: empty %s", name, line, key);
            else if (json_array_append_new(json_object_get(out, list), json_string(val)) < 0)
                rc = tide_error_set(TIDE_EPARSE, "%s:%ld: not valid UTF-8", name, line);
        }
        tide__free(l);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int tide__case_lessons_parse(const char *data, size_t len, const char *name, json_t **out)
{
    *out = NULL;
    if (len > TIDE_CASE_MAX_FILE)
        return tide_error_set(
                TIDE_ETOOBIG, "%s: lessons larger than %d bytes", name, TIDE_CASE_MAX_FILE);
    if (memchr(data, '\0', len))
        return tide_error_set(TIDE_EPARSE, "%s@%zu: NUL byte in a text file", name,
                (size_t)((const char *)memchr(data, '\0', len) - data));
    size_t i = 0;
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
        i++;
    json_t *o = empty_lessons();
    int rc;
    if (i < len && data[i] == '{') {
        json_error_t e;
        json_t *in = json_loadb(data, len, JSON_REJECT_DUPLICATES, &e);
        if (in == NULL)
            rc = tide_error_set(TIDE_EPARSE, "%s:%d:%d: %s", name, e.line, e.column, e.text);
        else
            rc = lessons_json(in, name, o);
        json_decref(in);
    } else {
        rc = lessons_text(data, len, name, o);
    }
    if (rc == 0) {
        size_t n = 0;
        const char *k;
        json_t *v;
        json_object_foreach(o, k, v) n += json_array_size(v);
        if (n == 0)
            rc = tide_error_set(TIDE_EPARSE,
                    "%s: no lessons: give at least one new indicator,"
                    " prevention change, detection gap or response gap",
                    name);
    }
    if (rc < 0) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return 0;
}

int tide_case_lessons_parse(const char *data, size_t len, const char *name, char **out)
{
    json_t *l = NULL;
    TIDE_CHECK(tide__case_lessons_parse(data, len, name ? name : "lessons", &l));
    *out = json_dumps(l, JSON_COMPACT);
    json_decref(l);
    TIDE_CHECK_ALLOC(*out);
    return 0;
}
