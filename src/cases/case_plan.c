/*
 * case_plan.c - the response plan of a case (SPEC C4): ordered actions per host and per
 * control, each with its justification (the sightings, relationship or rule behind it) and the
 * tide command that produces the matching control content (tide export). Proportional to the
 * tier: 1 remove + block + watch; 2 adds isolate, block every network indicator of the
 * campaign, reset credentials, fleet watch; 3 adds escalation, evidence preservation before
 * remediation and peer notification. Re-imaging is proposed only for hosts whose eradication
 * could not be verified (a relapse during the watch), never by default.
 */
#include <stdio.h>
#include <string.h>

#include "cases_int.h"

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int64_t jint(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static bool is_hash(const char *t)
{
    return t && (strcmp(t, "md5") == 0 || strcmp(t, "sha1") == 0 || strcmp(t, "sha256") == 0 ||
                        strcmp(t, "sha512") == 0);
}

static bool is_net(const char *t)
{
    return t && !is_hash(t) && strcmp(t, "email") != 0;
}

/* "file:line indicator (live N / retro M, first seen T)" for each evidence row (max n). */
static json_t *cite(json_t *host, bool (*want)(const char *), size_t max)
{
    json_t *a = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(host, "evidence"), i, e)
    {
        if (want && !want(jstr(e, "type")))
            continue;
        if (json_array_size(a) >= max)
            break;
        json_array_append_new(
                a, json_sprintf("%s:%lld %s %s (%s, live %lld / retro %lld, first"
                                " seen %s)",
                           jstr(e, "file") ? jstr(e, "file") : "?", (long long)jint(e, "line"),
                           jstr(e, "type"), jstr(e, "indicator"), jstr(e, "found_by"),
                           (long long)jint(e, "live_count"), (long long)jint(e, "retro_count"),
                           jstr(e, "first_seen")));
    }
    return a;
}

static bool any_type(const char *t)
{
    (void)t;
    return true;
}

static void add(json_t *plan, const char *control, const char *action, const char *host,
        const char *command, const char *justification, json_t *evidence)
{
    json_t *a = json_pack("{s:i, s:s, s:s, s:s?, s:s?, s:s}", "step",
            (int)json_array_size(plan) + 1, "control", control, "action", action, "host", host,
            "command", command, "justification", justification);
    json_object_set_new(a, "evidence", evidence ? evidence : json_array());
    json_array_append_new(plan, a);
}

static json_t *state_of(json_t *hosts_state, const char *host)
{
    size_t i;
    json_t *h;
    json_array_foreach(
            hosts_state, i, h) if (jstr(h, "host") && strcmp(jstr(h, "host"), host) == 0) return h;
    return NULL;
}

json_t *tide__case_plan(int64_t case_id, json_t *doc, json_t *hosts_state, json_t *policy)
{
    json_t *plan = json_array();
    int tier = (int)jint(doc, "tier");
    const char *rule = jstr(doc, "rule");
    json_t *hosts = json_object_get(doc, "hosts");
    json_t *names = json_object_get(doc, "scope_names");
    const char *name = json_string_value(json_array_get(names, 0));
    char buf[1024], cmd[512];
    size_t i;
    json_t *h;

    if (tier >= 3) {
        snprintf(buf, sizeof(buf),
                "%s: mobilise incident management (owner, comms, legal)"
                " before remediation starts",
                rule);
        add(plan, "incident-management", "escalate", NULL, NULL, buf, NULL);
        json_array_foreach(hosts, i, h)
        {
            snprintf(buf, sizeof(buf),
                    "%s: image memory and disk of %s and keep the logs"
                    " cited below before any change to the host",
                    rule, jstr(h, "host"));
            add(plan, "forensics", "preserve-evidence", jstr(h, "host"), NULL, buf,
                    cite(h, any_type, 10));
        }
    }
    if (tier >= 2) {
        json_array_foreach(hosts, i, h)
        {
            snprintf(buf, sizeof(buf), "%s; host %s (%s) shows indicators of the case", rule,
                    jstr(h, "host"), jstr(h, "status"));
            add(plan, "network", "isolate", jstr(h, "host"), NULL, buf, cite(h, any_type, 10));
        }
    }
    /* block: per control */
    json_t *bykind = json_object_get(doc, "indicators_by_type");
    long nnet = 0, nhash = 0;
    const char *k;
    json_t *v;
    json_object_foreach(bykind, k, v)
    {
        if (is_hash(k))
            nhash += (long)json_integer_value(v);
        else if (is_net(k))
            nnet += (long)json_integer_value(v);
    }
    if (tier >= 2 && name) {
        if (nnet) {
            snprintf(cmd, sizeof(cmd),
                    "tide export --format rpz --related '%s' --output"
                    " case-%lld.rpz; tide export --format nft --related '%s'"
                    " --output case-%lld.nft",
                    name, (long long)case_id, name, (long long)case_id);
            snprintf(buf, sizeof(buf),
                    "%s: block every network indicator of %s (%ld) on DNS"
                    " and firewall, not only those seen",
                    rule, name, nnet);
            add(plan, "dns+firewall", "block-indicators", NULL, cmd, buf, NULL);
        }
        if (nhash) {
            snprintf(cmd, sizeof(cmd),
                    "tide export --format yara --related '%s' --output"
                    " case-%lld.yar",
                    name, (long long)case_id);
            snprintf(buf, sizeof(buf),
                    "block / detect every file hash of %s (%ld) on"
                    " endpoints",
                    name, nhash);
            add(plan, "endpoint", "block-hashes", NULL, cmd, buf, NULL);
        }
    } else {
        /* tier 1: the indicators seen */
        json_t *seen = json_object();
        json_array_foreach(hosts, i, h)
        {
            size_t j;
            json_t *e;
            json_array_foreach(json_object_get(h, "evidence"), j, e)
                    json_object_set(seen, jstr(e, "indicator"), json_object_get(e, "type"));
        }
        json_object_foreach(seen, k, v)
        {
            const char *t = json_string_value(v);
            const char *fmt = is_hash(t) ? "yara" : strcmp(t, "domain") == 0 ? "rpz" : "nft";
            const char *control = is_hash(t)                 ? "endpoint"
                                  : strcmp(t, "domain") == 0 ? "dns"
                                                             : "firewall";
            if (name)
                snprintf(cmd, sizeof(cmd), "tide export --format %s --related '%s'", fmt, name);
            else
                snprintf(cmd, sizeof(cmd), "tide export --format %s", fmt);
            snprintf(buf, sizeof(buf), "block %s %s seen in this case%s%s", t, k,
                    name ? ", indicator of " : "", name ? name : "");
            add(plan, control, "block-indicator", NULL, cmd, buf, json_pack("[s]", k));
        }
        json_decref(seen);
    }
    /* remove components per host */
    json_array_foreach(hosts, i, h)
    {
        json_t *ev = cite(h, is_hash, 10);
        if (json_array_size(ev)) {
            snprintf(buf, sizeof(buf),
                    "files with these hashes were seen on %s: delete them and"
                    " their persistence (services, run keys, scheduled"
                    " tasks), then rescan",
                    jstr(h, "host"));
            add(plan, "endpoint", "remove-components", jstr(h, "host"), NULL, buf, ev);
        } else {
            json_decref(ev);
            snprintf(buf, sizeof(buf),
                    "no file of the case was observed on %s; find and remove"
                    " the process and persistence that produced the network"
                    " activity cited",
                    jstr(h, "host"));
            add(plan, "endpoint", "remove-components", jstr(h, "host"), NULL, buf,
                    cite(h, any_type, 5));
        }
    }
    if (tier >= 2) {
        json_array_foreach(hosts, i, h)
        {
            const char *owner = jstr(h, "owner");
            snprintf(buf, sizeof(buf),
                    "%s: users seen on %s are unknown (the telemetry carries"
                    " no user names); reset the credentials of every account"
                    " that logged on to it%s%s",
                    rule, jstr(h, "host"), owner ? "; asset owner: " : "", owner ? owner : "");
            add(plan, "identity", "reset-credentials", jstr(h, "host"), NULL, buf, NULL);
        }
    }
    json_array_foreach(hosts, i, h)
    {
        json_t *st = state_of(hosts_state, jstr(h, "host"));
        if (st && jint(st, "relapses") > 0) {
            snprintf(buf, sizeof(buf),
                    "eradication of %s could not be verified: a case"
                    " indicator was seen again during the watch (%lld"
                    " relapse(s)); re-image it",
                    jstr(h, "host"), (long long)jint(st, "relapses"));
            add(plan, "endpoint", "re-image", jstr(h, "host"), NULL, buf, cite(h, any_type, 5));
        }
    }
    int days = tide__case_watch_days(policy, tier);
    snprintf(cmd, sizeof(cmd), "tide match --follow ...; tide case refresh %lld",
            (long long)case_id);
    snprintf(buf, sizeof(buf),
            "%s: watch %s for %d days; a host is verified once it shows no"
            " sighting of any case indicator for the watch period",
            tier >= 2 ? "tier 2+" : "tier 1", tier >= 2 ? "the whole fleet" : "the host", days);
    add(plan, "monitoring", "watch", NULL, cmd, buf, NULL);
    if (tier >= 3) {
        snprintf(cmd, sizeof(cmd),
                "tide case share %lld --tlp-max amber --output"
                " case-%lld.stix.json",
                (long long)case_id, (long long)case_id);
        snprintf(buf, sizeof(buf), "%s: notify peers and sector CERT with the case indicators",
                rule);
        add(plan, "sharing", "notify-peers", NULL, cmd, buf, NULL);
    }
    return plan;
}
