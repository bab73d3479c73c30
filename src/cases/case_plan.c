/*
 * case_plan.c - the response plan of a case (SPEC C4): ordered actions per host and per
 * control, each with its justification (the sightings, relationship or rule behind it) and the
 * tide command that produces the matching control content (tide export). Proportional to the
 * tier: 1 remove + block + watch; 2 adds isolate, block every network indicator of the
 * campaign, reset the credentials of the users seen on each host (as the telemetry named them),
 * fleet watch; 3 adds escalation, evidence preservation before remediation and peer
 * notification. Re-imaging is proposed only for hosts whose eradication could not be verified
 * (a relapse during the watch), never by default. Every text says the scope its action and
 * command have: the hosts, users and indicators it names, and counts of what the command
 * exports.
 */
#include <stdio.h>
#include <string.h>

#include "cases_int.h"
#include "util/util.h"

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

/* "A, B and C" of the scope names, cut to cap. */
static void join_names(json_t *names, char *out, size_t cap)
{
    size_t i, n = json_array_size(names), len = 0;
    json_t *v;
    out[0] = '\0';
    json_array_foreach(names, i, v)
    {
        len = strlen(out);
        snprintf(out + len, cap - len, "%s%s",
                i == 0       ? ""
                : i == n - 1 ? " and "
                             : ", ",
                json_string_value(v));
    }
}

/* One export command per scope name (tide export takes one --related), appended to c. */
static void export_cmds(tide_buf *c, json_t *names, const char *fmt, int64_t case_id)
{
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v)
    {
        /* squid and suricata write a folder */
        bool dir = strcmp(fmt, "squid") == 0 || strcmp(fmt, "suricata") == 0;
        char part[32] = "";
        if (json_array_size(names) > 1)
            snprintf(part, sizeof(part), "-%zu", i + 1);
        if (c->len)
            tide__buf_puts(c, "; ");
        tide__buf_printf(c, "tide export --format %s --related '%s' --output case-%lld%s%s%s", fmt,
                json_string_value(v), (long long)case_id, part, dir ? "-" : ".", fmt);
    }
}

/* The export format and control that block one observable kind (tier 1); fmt NULL: none. */
static void control_of(const char *t, const char **fmt, const char **control)
{
    if (is_hash(t)) {
        *fmt = strcmp(t, "sha512") == 0 ? "zeek" : "yara";
        *control = "endpoint";
    } else if (strcmp(t, "domain") == 0) {
        *fmt = "rpz";
        *control = "dns";
    } else if (strcmp(t, "url") == 0) {
        *fmt = "squid";
        *control = "proxy";
    } else if (strcmp(t, "email") == 0) {
        *fmt = NULL;
        *control = "mail";
    } else if (strcmp(t, "url-path") == 0) {
        *fmt = NULL;
        *control = "proxy";
    } else if (strcmp(t, "ja3") == 0) {
        *fmt = "suricata";
        *control = "ids";
    } else if (strcmp(t, "x509-sha1") == 0) {
        *fmt = "zeek";
        *control = "ids";
    } else {
        *fmt = "nft";
        *control = "firewall";
    }
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
    const char *k;
    json_t *v;
    if (tier >= 2 && name) {
        char names_txt[300];
        join_names(names, names_txt, sizeof(names_txt));
        /* network kinds, then hashes: each kind's count, the controls and one export command
         * per format and scope name, so the text counts what the commands export */
        for (int pass = 0; pass < 2; pass++) {
            tide_buf kinds = { 0 }, c = { 0 }, ctl = { 0 }, ctls = { 0 }, manual = { 0 };
            long total = 0;
            const char *fmts[8];
            size_t nf = 0;
            json_object_foreach(bykind, k, v)
            {
                if (pass == 0 ? !is_net(k) : !is_hash(k))
                    continue;
                long n = (long)json_integer_value(v);
                const char *fmt, *control;
                control_of(k, &fmt, &control);
                total += n;
                tide__buf_printf(&kinds, "%s%ld %s", kinds.len ? ", " : "", n, k);
                if (fmt == NULL) {
                    tide__buf_printf(&manual, "%s%s", manual.len ? ", " : "", k);
                    continue;
                }
                size_t f = 0;
                while (f < nf && strcmp(fmts[f], fmt) != 0)
                    f++;
                if (f == nf && nf < 8) {
                    fmts[nf++] = fmt;
                    tide__buf_printf(&ctl, "%s%s (%s)", ctl.len ? ", " : "", control, fmt);
                    if (ctls.ptr == NULL || strstr(ctls.ptr, control) == NULL)
                        tide__buf_printf(&ctls, "%s%s", ctls.len ? "+" : "", control);
                    export_cmds(&c, names, fmt, case_id);
                }
            }
            if (total) {
                snprintf(buf, sizeof(buf),
                        pass == 0 ? "%s: block every network indicator of %s (%ld: %s), not "
                                    "only those seen, on %s%s%s"
                                  : "%s: block / detect every file hash of %s (%ld: %s) on %s%s%s",
                        rule, names_txt, total, kinds.ptr, ctl.len ? ctl.ptr : "no control",
                        manual.len ? "; by hand (no tide export carries them): " : "",
                        manual.len ? manual.ptr : "");
                add(plan,
                        ctls.len    ? ctls.ptr
                        : pass == 0 ? "network"
                                    : "endpoint",
                        pass == 0 ? "block-indicators" : "block-hashes", NULL, c.len ? c.ptr : NULL,
                        buf, NULL);
            }
            tide__buf_free(&kinds);
            tide__buf_free(&c);
            tide__buf_free(&ctl);
            tide__buf_free(&ctls);
            tide__buf_free(&manual);
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
            const char *fmt, *control;
            control_of(t, &fmt, &control);
            if (fmt == NULL) { /* e-mail, URL paths: no export carries them */
                snprintf(buf, sizeof(buf),
                        "block %s %s seen in this case on the %s by hand (no tide export "
                        "carries it)",
                        t, k, strcmp(control, "mail") == 0 ? "mail gateway" : control);
                add(plan, control, "block-indicator", NULL, NULL, buf, json_pack("[s]", k));
                continue;
            }
            if (name)
                snprintf(cmd, sizeof(cmd), "tide export --format %s --related '%s'", fmt, name);
            else
                snprintf(cmd, sizeof(cmd), "tide export --format %s", fmt);
            snprintf(buf, sizeof(buf),
                    "block %s %s seen in this case%s%s; the command exports %s%s that %s can "
                    "carry, this one among them",
                    t, k, name ? ", indicator of " : "", name ? name : "",
                    name ? "every indicator of " : "all current intel", name ? name : "", fmt);
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
        /* the users the telemetry named on each host; a host without any gets no action (there
         * is no one to name), built-in service accounts are listed but not reset */
        json_array_foreach(hosts, i, h)
        {
            json_t *ev = json_array();
            char accounts[400] = "", builtin[300] = "";
            long nacc = 0, nbuiltin = 0;
            size_t j;
            json_t *u;
            json_array_foreach(json_object_get(h, "users"), j, u)
            {
                bool b = json_is_true(json_object_get(u, "builtin"));
                char *dst = b ? builtin : accounts;
                size_t cap = b ? sizeof(builtin) : sizeof(accounts), len = strlen(dst);
                snprintf(dst + len, cap - len, "%s%s", len ? ", " : "", jstr(u, "user"));
                *(b ? &nbuiltin : &nacc) += 1;
                if (!b)
                    json_array_append_new(
                            ev, json_sprintf("user %s: %s:%lld %s %s", jstr(u, "user"),
                                        jstr(u, "file") ? jstr(u, "file") : "?",
                                        (long long)jint(u, "line"), jstr(u, "type"),
                                        jstr(u, "indicator")));
            }
            if (nacc == 0) {
                json_decref(ev);
                continue;
            }
            const char *owner = jstr(h, "owner");
            snprintf(buf, sizeof(buf),
                    "%s: reset the credentials of the %ld user(s) seen on %s: %s, and end their "
                    "sessions%s%s%s%s",
                    rule, nacc, jstr(h, "host"), accounts,
                    nbuiltin ? "; built-in accounts also seen, not reset: " : "", builtin,
                    owner ? "; asset owner: " : "", owner ? owner : "");
            add(plan, "identity", "reset-credentials", jstr(h, "host"), NULL, buf, ev);
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
    char tier_txt[16];
    snprintf(tier_txt, sizeof(tier_txt), "tier %d", tier);
    snprintf(cmd, sizeof(cmd), "tide match --follow ...; tide case refresh %lld",
            (long long)case_id);
    snprintf(buf, sizeof(buf),
            "%s: watch %s for %d days; a host is verified once it shows no"
            " sighting of any case indicator for the watch period",
            tier_txt, tier >= 2 ? "the whole fleet" : "the host", days);
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
