/*
 * case_render.c - Markdown of a case document and of its plan, for responders and tickets.
 */
#include <string.h>

#include "cases_int.h"
#include "util/util.h"

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static long long jint(json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

static void plan_md(tide_buf *b, json_t *actions)
{
    size_t i, j;
    json_t *a, *e;
    json_array_foreach(actions, i, a)
    {
        tide__buf_printf(b, "%lld. **%s** (%s)%s%s — %s\n", jint(a, "step"), jstr(a, "action"),
                jstr(a, "control"), *jstr(a, "host") ? " on " : "", jstr(a, "host"),
                jstr(a, "justification"));
        if (*jstr(a, "command"))
            tide__buf_printf(b, "   - command: `%s`\n", jstr(a, "command"));
        json_array_foreach(json_object_get(a, "evidence"), j, e)
                tide__buf_printf(b, "   - evidence: %s\n", json_string_value(e));
    }
}

char *tide__case_plan_md(json_t *plan)
{
    tide_buf b = { 0 };
    tide__buf_printf(&b, "# Plan of case %lld (tier %lld)\n\n%s\n\n", jint(plan, "case"),
            jint(plan, "tier"), jstr(plan, "rule"));
    plan_md(&b, json_object_get(plan, "actions"));
    char *s = tide__buf_detach(&b);
    return s ? s : tide__strdup("");
}

char *tide__case_markdown(json_t *c)
{
    tide_buf b = { 0 };
    size_t i, j;
    json_t *v, *e;
    tide__buf_printf(&b, "# Case %lld — tier %lld (%s), %s\n\n", jint(c, "id"), jint(c, "tier"),
            jstr(c, "tier_name"), jstr(c, "status"));
    tide__buf_printf(&b, "- rule: %s\n- opened: %s from %s on %s\n- TLP: %s\n\n", jstr(c, "rule"),
            jstr(c, "opened_at"), jstr(c, "seed_indicator"), jstr(c, "seed_host"), jstr(c, "tlp"));
    tide__buf_puts(&b, "## Attribution\n\n");
    if (json_array_size(json_object_get(c, "attribution")) == 0)
        tide__buf_puts(&b, "No relationship links the indicator to a malware, campaign or"
                           " intrusion set.\n");
    json_array_foreach(json_object_get(c, "attribution"), i, v)
    {
        tide__buf_printf(&b, "- %s **%s** (confidence %lld, %lld hop(s)):", jstr(v, "type"),
                jstr(v, "name"), jint(v, "confidence"), jint(v, "hops"));
        json_array_foreach(json_object_get(v, "path"), j, e)
        {
            json_t *hc = json_object_get(e, "confidence");
            tide__buf_printf(&b, " %s %s %s %s", j ? "" : jstr(e, "from_name"),
                    jstr(e, "direction"), jstr(e, "relationship"), jstr(e, "to_name"));
            if (json_is_integer(hc))
                tide__buf_printf(&b, " [%lld]", (long long)json_integer_value(hc));
        }
        tide__buf_puts(&b, "\n");
    }
    json_t *vec = json_object_get(c, "infection_vector");
    if (json_is_object(vec))
        tide__buf_printf(&b,
                "\n## Infection vector\n\nOn %s (first affected host): %s %s (%s,"
                " %s) at %s — %s\n",
                jstr(vec, "host"), jstr(vec, "type"), jstr(vec, "indicator"), jstr(vec, "phase"),
                jstr(vec, "phase_source"), jstr(vec, "first_seen"), jstr(vec, "evidence"));
    tide__buf_printf(&b,
            "\n## Scope: %lld host(s), %lld silent\n\n| host | status | state |"
            " first seen | last seen | evidence |\n|---|---|---|---|---|---|\n",
            jint(c, "host_count"), jint(c, "silent_count"));
    json_array_foreach(json_object_get(c, "hosts"), i, v)
    {
        json_t *e0 = json_array_get(json_object_get(v, "evidence"), 0);
        tide__buf_printf(&b, "| %s | %s | %s | %s | %s | %s %s at %s:%lld |\n", jstr(v, "host"),
                jstr(v, "status"), jstr(v, "state"), jstr(v, "first_seen"), jstr(v, "last_seen"),
                jstr(e0, "type"), jstr(e0, "indicator"), jstr(e0, "file"), jint(e0, "line"));
    }
    tide__buf_puts(&b, "\n## Plan\n\n");
    plan_md(&b, json_object_get(c, "plan"));
    tide__buf_puts(&b, "\n## Timeline\n\n");
    json_array_foreach(json_object_get(c, "timeline"), i, v)
    {
        tide__buf_printf(&b, "- %s %s%s%s: %s\n", jstr(v, "at"), jstr(v, "kind"),
                *jstr(v, "actor") ? " by " : "", jstr(v, "actor"), jstr(v, "text"));
    }
    json_t *l = json_object_get(c, "lessons");
    if (json_is_object(l)) {
        tide__buf_puts(&b, "\n## Lessons learned\n\n");
        const char *k;
        json_object_foreach(l, k, v)
        {
            json_array_foreach(v, j, e)
            {
                const char *t = json_is_object(e)
                                        ? (jstr(e, "value") ? jstr(e, "value") : jstr(e, "rule"))
                                        : json_string_value(e);
                tide__buf_printf(&b, "- %s: %s\n", k, t ? t : "");
            }
        }
    }
    if (json_array_size(json_object_get(c, "policy_exports")) > 0)
        tide__buf_puts(&b, "\n## Policy exports\n\n");
    json_array_foreach(json_object_get(c, "policy_exports"), i, v)
    {
        tide__buf_printf(&b, "- %s (%s, %lld entries): %s -> %s\n", jstr(v, "name"),
                jstr(v, "format"), (long long)json_integer_value(json_object_get(v, "entries")),
                jstr(v, "rule"), jstr(v, "output") ? jstr(v, "output") : "-");
    }
    char *s = tide__buf_detach(&b);
    return s ? s : tide__strdup("");
}
