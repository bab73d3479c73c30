/*
 * misp.c - MISP event writer: {"Event": {..., "Attribute": [...]}} with one attribute per
 * selected observable (ip-dst, domain, url, uri, ip-dst|port, md5, sha1, sha256, sha512,
 * email-dst, ja3-fingerprint-md5, x509-fingerprint-sha1), to_ids true, the source and related
 * names as comment, a TLP tag on the event. Attributes are streamed (jansson per attribute)
 * so a million of them need no DOM of the whole event.
 */
#include <string.h>

#include <jansson.h>

#include "export/export_int.h"
#include "tide/tlp.h"

static const char *misp_type(tide_obs_kind k, const char **category)
{
    *category = "Network activity";
    switch (k) {
        case TIDE_OBS_IPV4:
        case TIDE_OBS_IPV6:
        case TIDE_OBS_CIDR4:
        case TIDE_OBS_CIDR6: return "ip-dst";
        case TIDE_OBS_DOMAIN: return "domain";
        case TIDE_OBS_URL: return "url";
        case TIDE_OBS_URL_PATH: return "uri";
        case TIDE_OBS_IP_PORT: return "ip-dst|port";
        case TIDE_OBS_EMAIL: *category = "Payload delivery"; return "email-dst";
        case TIDE_OBS_JA3: return "ja3-fingerprint-md5";
        case TIDE_OBS_X509_SHA1: return "x509-fingerprint-sha1";
        case TIDE_OBS_MD5: *category = "Payload delivery"; return "md5";
        case TIDE_OBS_SHA1: *category = "Payload delivery"; return "sha1";
        case TIDE_OBS_SHA256: *category = "Payload delivery"; return "sha256";
        case TIDE_OBS_SHA512: *category = "Payload delivery"; return "sha512";
        default: return NULL;
    }
}

/* "1.2.3.4:449" -> "1.2.3.4|449", "[2001:db8::1]:443" -> "2001:db8::1|443" */
static void ip_port_value(const char *v, char *out, size_t cap)
{
    const char *colon = strrchr(v, ':');
    if (colon == NULL) {
        snprintf(out, cap, "%s", v);
        return;
    }
    const char *s = v;
    size_t n = (size_t)(colon - v);
    if (n >= 2 && v[0] == '[') {
        s++;
        n -= 2;
    }
    snprintf(out, cap, "%.*s|%s", (int)n, s, colon + 1);
}

int tide__exp_misp(tide__exp *x)
{
    tide__exp_file f;
    TIDE_CHECK(tide__exp_open(x, NULL, &f));
    char uuid[37], date[32], ts[32];
    TIDE_CHECK(tide__uuid4(uuid));
    tide__time_format(x->now, date);
    date[10] = '\0';
    snprintf(ts, sizeof(ts), "%lld", (long long)(x->now / 1000));
    json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "uuid", uuid, "info",
            "tide prevention export", "date", date, "timestamp", ts, "threat_level_id", "2",
            "analysis", "2", "distribution", "0", "published", 0);
    if (ev == NULL) {
        tide__exp_close(&f, false);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    /* the event's TLP: the ceiling asked for, else the most restrictive of its attributes'
     * (each attribute carries its own, so a round trip keeps them); the organisation */
    const char *ev_tlp = x->opts->tlp_max;
    for (size_t i = 0; x->opts->tlp_max == NULL && i < x->n; i++) {
        const char *t = EXP_S(x, x->v[i].tlp);
        if (*t && (ev_tlp == NULL || tide_tlp_parse(t) > tide_tlp_parse(ev_tlp)))
            ev_tlp = t;
    }
    if (ev_tlp) {
        char tag[64];
        snprintf(tag, sizeof(tag), "tlp:%s", ev_tlp);
        json_object_set_new(ev, "Tag", json_pack("[{s:s}]", "name", tag));
    }
    json_object_set_new(ev, "Orgc", json_pack("{s:s}", "name", "tide"));
    json_object_set_new(ev, "Org", json_pack("{s:s}", "name", "tide"));
    char *head = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    if (head == NULL) {
        tide__exp_close(&f, false);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    /* drop the closing brace to append the attribute list */
    head[strlen(head) - 1] = '\0';
    fprintf(f.f, "{\"Event\":%s,\"Attribute\":[", head);
    free(head);
    int rc = 0;
    long n = 0;
    for (size_t i = 0; i < x->n && rc == 0; i++) {
        tide__exp_entry *e = &x->v[i];
        const char *cat;
        const char *type = misp_type(e->kind, &cat);
        if (type == NULL) {
            tide__exp_skip(x, TIDE_EXPORT_SKIP_UNSUPPORTED, e, NULL);
            continue;
        }
        char val[600];
        if (e->kind == TIDE_OBS_IP_PORT)
            ip_port_value(e->val, val, sizeof(val));
        char key[40], au[37];
        snprintf(key, sizeof(key), "%d|", (int)e->kind);
        tide_buf k = TIDE_BUF_INIT;
        if (tide__buf_puts(&k, key) < 0 || tide__buf_puts(&k, e->val) < 0 ||
                tide__uuid5(TIDE_UUID_NS, k.ptr, k.len, au) < 0) {
            tide__buf_free(&k);
            rc = tide_error_set(TIDE_ENOMEM, "out of memory");
            break;
        }
        tide__buf_free(&k);
        const char *desc = EXP_S(x, e->desc), *src = EXP_S(x, e->source);
        char comment[512];
        snprintf(comment, sizeof(comment), "%s%s%s", src, *desc && *src ? ": " : "", desc);
        json_t *a = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s}", "uuid", au, "type", type,
                "category", cat, "value", e->kind == TIDE_OBS_IP_PORT ? val : e->val, "to_ids", 1,
                "comment", comment, "distribution", "5");
        const char *tlp = EXP_S(x, e->tlp);
        if (a && *tlp) {
            char tag[64];
            snprintf(tag, sizeof(tag), "tlp:%s", tlp);
            json_object_set_new(a, "Tag", json_pack("[{s:s}]", "name", tag));
        }
        char *js = a ? json_dumps(a, JSON_COMPACT) : NULL;
        json_decref(a);
        if (js == NULL) {
            /* not valid UTF-8 or no memory: jansson refuses the value */
            tide__exp_skip(x, TIDE_EXPORT_SKIP_UNSUPPORTED, e, "not valid UTF-8");
            continue;
        }
        fprintf(f.f, "%s\n%s", n ? "," : "", js);
        free(js);
        n++;
        x->sum->written++;
    }
    fprintf(f.f, "]}}\n");
    int crc = tide__exp_close(&f, rc == 0);
    return rc < 0 ? rc : crc;
}
