/*
 * emit_indicator.c - the one place where the list and CSV readers build STIX 2.1 objects from
 * a feed value: indicator, malware / campaign, and the "indicates" relationship. Ids are
 * uuid5 of stable names so the same feed read twice gives the same objects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/emit_indicator.h"
#include "intel/tlp.h"
#include "util/util.h"

void tide__file_stem(const char *path, char *out, size_t outsz)
{
    if (path == NULL || strcmp(path, "-") == 0 || *path == '\0') {
        snprintf(out, outsz, "stdin");
        return;
    }
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    /* a file name is only a label: bytes that are not UTF-8 become U+FFFD (JSON needs UTF-8) */
    tide__utf8_repair_into(out, outsz, base, n);
}

void tide__emitter_init(tide__emitter *em, tide_sink *sink, int format_confidence)
{
    const tide_ingest_opts *o = sink->opts;
    memset(em, 0, sizeof(*em));
    em->sink = sink;
    if (o->source && *o->source)
        snprintf(em->source, sizeof(em->source), "%s", o->source);
    else
        tide__file_stem(sink->file, em->source, sizeof(em->source));
    tide__time_format(o->now_ms ? o->now_ms : tide__time_now_ms(), em->now);
    em->default_confidence = format_confidence;
    em->marking_id = o->tlp ? tide__tlp_marking_id(o->tlp) : NULL;
    em->reliability = o->reliability;
}

/* A plain list's URL without path, query or port ("http://85.239.53.219") names its host:
 * maltrail strips the scheme of its trails, so such a trail is the IP or domain itself. */
static int host_only_url(tide_obs_kind *kind, char **canonical)
{
    const char *u = *canonical;
    const char *host = strstr(u, "://");
    if (host == NULL)
        return 0;
    host += 3;
    size_t n = strlen(host);
    if (n < 2 || host[n - 1] != '/' || memchr(host, '/', n - 1) != NULL || host[0] == '[')
        return 0;
    char h[256];
    if (n - 1 >= sizeof(h))
        return 0;
    memcpy(h, host, n - 1);
    h[n - 1] = '\0';
    if (strchr(h, ':') || strchr(h, '@'))
        return 0; /* a port or credentials: keep the URL */
    tide_obs_kind k = tide_obs_detect(h);
    if (k != TIDE_OBS_IPV4 && k != TIDE_OBS_DOMAIN)
        return 0;
    char *c = NULL;
    if (tide_obs_normalize(k, h, &c) < 0)
        return 0;
    free(*canonical);
    *canonical = c;
    *kind = k;
    return 0;
}

int tide__value_prepare(const char *raw, tide_obs_kind want, tide_obs_kind *kind, char **canonical)
{
    *canonical = NULL;
    char *v = NULL;
    TIDE_CHECK(tide_obs_refang(raw, &v));
    tide_obs_kind k = tide_obs_detect(v);
    if (want != TIDE_OBS_NONE) {
        /* the feed says what it is: accept what detect cannot tell apart */
        bool ok = k == want || (want == TIDE_OBS_CIDR4 && k == TIDE_OBS_IPV4) ||
                  (want == TIDE_OBS_CIDR6 && k == TIDE_OBS_IPV6) ||
                  (want == TIDE_OBS_JA3 && k == TIDE_OBS_MD5) ||
                  (want == TIDE_OBS_X509_SHA1 && k == TIDE_OBS_SHA1) ||
                  (want == TIDE_OBS_IPV4 && k == TIDE_OBS_CIDR4) ||
                  (want == TIDE_OBS_IPV6 && k == TIDE_OBS_CIDR6) ||
                  (want == TIDE_OBS_URL && (k == TIDE_OBS_DOMAIN || k == TIDE_OBS_IPV4));
        if (!ok) {
            int rc = tide_error_set(TIDE_EPARSE, "value is not a %s but %s: '%.200s'",
                    tide_obs_kind_name(want), tide_obs_kind_name(k), raw);
            free(v);
            return rc;
        }
        /* an IP given as "ip" type but holding a network stays a network */
        if ((want == TIDE_OBS_IPV4 && k == TIDE_OBS_CIDR4) ||
                (want == TIDE_OBS_IPV6 && k == TIDE_OBS_CIDR6))
            want = k;
        k = want;
    }
    if (k == TIDE_OBS_NONE) {
        free(v);
        return tide_error_set(TIDE_EPARSE, "not a recognised observable: '%.200s'", raw);
    }
    if ((k == TIDE_OBS_IPV4 && strcmp(v, "0.0.0.0") == 0) ||
            (k == TIDE_OBS_IPV6 && strcmp(v, "::") == 0)) {
        free(v);
        return tide_error_set(TIDE_EPARSE, "unspecified address: '%.200s'", raw);
    }
    int rc = tide_obs_normalize(k, v, canonical);
    free(v);
    if (rc < 0)
        return rc;
    *kind = k;
    if (want == TIDE_OBS_NONE && k == TIDE_OBS_URL)
        return host_only_url(kind, canonical);
    return 0;
}

/* s (at most 80 bytes of it) with control bytes as \xNN, for messages. */
static void printable(char *out, size_t outsz, const char *s)
{
    size_t o = 0;
    for (size_t i = 0; s[i] && i < 80 && o + 5 < outsz; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    out[o] = '\0';
}

const char *tide__value_invalid(tide_obs_kind kind, const char *value, char *why, size_t whysz)
{
    bool bad = false;
    switch (kind) {
        case TIDE_OBS_IPV4:
        case TIDE_OBS_IPV6:
        case TIDE_OBS_CIDR4:
        case TIDE_OBS_CIDR6:
        case TIDE_OBS_IP_PORT:
        case TIDE_OBS_MD5:
        case TIDE_OBS_SHA1:
        case TIDE_OBS_SHA256:
        case TIDE_OBS_SHA512:
        case TIDE_OBS_JA3:
        case TIDE_OBS_X509_SHA1: {
            char *norm = NULL;
            bad = tide_obs_normalize(kind, value, &norm) < 0;
            free(norm);
            break;
        }
        case TIDE_OBS_DOMAIN:
        case TIDE_OBS_EMAIL:
        case TIDE_OBS_URL:
        case TIDE_OBS_URL_PATH:
            for (const unsigned char *p = (const unsigned char *)value; *p && !bad; p++)
                bad = *p < 0x20 || *p == 0x7f;
            break;
        default: break;
    }
    if (!bad)
        return NULL;
    char v[400];
    printable(v, sizeof(v), value);
    snprintf(why, whysz, "'%s%s' is not a valid %s", v, strlen(value) > 80 ? "..." : "",
            tide_obs_kind_name(kind));
    return why;
}

static int put(json_t *obj, const char *key, json_t *v)
{
    if (v == NULL || json_object_set_new(obj, key, v) != 0)
        return TIDE_ENOMEM;
    return 0;
}

static int put_common(tide__emitter *em, json_t *o, const char *type, const char *id, bool marking)
{
    int rc = 0;
    rc |= put(o, "type", json_string(type));
    rc |= put(o, "spec_version", json_string("2.1"));
    rc |= put(o, "id", json_string(id));
    rc |= put(o, "created", json_string(em->now));
    rc |= put(o, "modified", json_string(em->now));
    if (marking && em->marking_id) {
        json_t *a = json_array();
        if (a == NULL || json_array_append_new(a, json_string(em->marking_id)) != 0)
            rc |= TIDE_ENOMEM;
        rc |= put(o, "object_marking_refs", a);
    }
    return rc ? TIDE_ENOMEM : 0;
}

static int emit(tide__emitter *em, json_t *o, int rc)
{
    if (rc != 0) {
        json_decref(o);
        return tide_error_set(TIDE_ENOMEM, "out of memory building a STIX object");
    }
    rc = em->sink->emit(em->sink, o, NULL, 0, TIDE_EMIT_DERIVED);
    json_decref(o);
    return rc;
}

static int make_id(char out[128], const char *type, const char *name)
{
    char u[37];
    TIDE_CHECK(tide__uuid5(TIDE_UUID_NS, name, strlen(name), u));
    snprintf(out, 128, "%s--%s", type, u);
    return 0;
}

int tide__emit_group(tide__emitter *em, const char *type, const char *name, json_t *aliases,
        json_t *ext_refs, char id_out[128])
{
    tide_buf key = TIDE_BUF_INIT;
    int rc = tide__buf_printf(&key, "%s|%s", type, name);
    if (rc < 0) {
        tide__buf_free(&key);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    tide__str_lower(key.ptr);
    rc = make_id(id_out, type, key.ptr);
    tide__buf_free(&key);
    TIDE_CHECK(rc);
    json_t *o = json_object();
    if (o == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    /* no marking and no source: the same family is shared by every feed naming it */
    rc = put_common(em, o, type, id_out, false);
    rc |= put(o, "name", json_string(name));
    if (strcmp(type, "malware") == 0)
        rc |= put(o, "is_family", json_true());
    if (aliases && json_array_size(aliases) > 0)
        rc |= put(o, "aliases", json_deep_copy(aliases));
    if (ext_refs && json_array_size(ext_refs) > 0)
        rc |= put(o, "external_references", json_deep_copy(ext_refs));
    return emit(em, o, rc);
}

int tide__emit_indicator(tide__emitter *em, tide_obs_kind kind, const char *canonical,
        const char *written, int confidence, json_t *extra, const char *related_id,
        char id_out[128])
{
    char id[128];
    tide_buf b = TIDE_BUF_INIT;
    char *pattern = NULL;
    int rc = tide__buf_printf(&b, "%s|%s|%s", em->source, tide_obs_kind_name(kind), canonical);
    if (rc == 0 && related_id)
        rc = tide__buf_printf(&b, "|%s", related_id);
    if (rc == 0)
        rc = make_id(id, "indicator", b.ptr);
    tide__buf_free(&b);
    if (rc < 0)
        return tide_error_set(TIDE_ENOMEM, "out of memory");

    TIDE_CHECK(tide_obs_to_pattern(kind, canonical, &pattern));
    if (confidence < 0)
        confidence = em->sink->opts->confidence >= 0 ? em->sink->opts->confidence
                                                     : em->default_confidence;
    if (confidence > 100)
        confidence = 100;

    json_t *o = json_object();
    if (o == NULL) {
        free(pattern);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    rc = put_common(em, o, "indicator", id, true);
    rc |= put(o, "valid_from", json_string(em->now));
    rc |= put(o, "pattern", json_string(pattern));
    free(pattern);
    rc |= put(o, "pattern_type", json_string("stix"));
    rc |= put(o, "name", json_string(written ? written : canonical));
    rc |= put(o, "indicator_types", json_pack("[s]", "malicious-activity"));
    if (confidence >= 0)
        rc |= put(o, "confidence", json_integer(confidence));
    rc |= put(o, "x_tide_source", json_string(em->source));
    if (em->reliability) {
        char r[2] = { em->reliability, '\0' };
        rc |= put(o, "x_tide_reliability", json_string(r));
    }
    rc |= put(o, "x_tide_observable",
            json_pack("{s:s, s:s}", "kind", tide_obs_kind_name(kind), "value", canonical));
    if (extra && json_is_object(extra) && json_object_update(o, extra) != 0)
        rc |= TIDE_ENOMEM;
    if (rc == 0 && id_out)
        memcpy(id_out, id, sizeof(id));
    TIDE_CHECK(emit(em, o, rc));
    if (related_id == NULL)
        return 0;

    /* relationship indicator --indicates--> malware / campaign */
    return tide__emit_relationship(em, id, "indicates", related_id);
}

int tide__emit_relationship(
        tide__emitter *em, const char *source_id, const char *type, const char *target_id)
{
    char rid[128];
    tide_buf b = TIDE_BUF_INIT;
    int rc = tide__buf_printf(&b, "%s|%s|%s", source_id, type, target_id);
    if (rc == 0)
        rc = make_id(rid, "relationship", b.ptr);
    tide__buf_free(&b);
    if (rc < 0)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    json_t *r = json_object();
    if (r == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    rc = put_common(em, r, "relationship", rid, true);
    rc |= put(r, "relationship_type", json_string(type));
    rc |= put(r, "source_ref", json_string(source_id));
    rc |= put(r, "target_ref", json_string(target_id));
    rc |= put(r, "x_tide_source", json_string(em->source));
    return emit(em, r, rc);
}
