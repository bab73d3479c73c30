/*
 * read_misp.c - the MISP reader: MISP events ({"Event": {...}}, {"response": [...]}, a bare
 * event, a top-level array of those) and MISP feeds (manifest.json + <uuid>.json), turned into
 * STIX 2.1 objects for the ingest core.
 *
 * Mapping (nothing is lost: every part keeps its original MISP JSON in an x_misp_* property):
 *   Event            -> report "report--<event uuid>", x_misp_event = event without its
 *                       Attribute / Object arrays; object_refs = everything emitted for it
 *   Attribute        -> indicator "indicator--<uuid>" when to_ids and its type maps to an
 *                       observable (tide_obs_*), else custom "x-misp-attribute--<uuid>";
 *                       exactly one object per attribute, x_misp_attribute = original JSON
 *   Object           -> custom "x-misp-object--<uuid>" (object_refs = its attributes' objects)
 *   ObjectReference  -> relationship (id uuid5 of source, type, target)
 *   Galaxy clusters  -> threat-actor / intrusion-set / malware / tool / attack-pattern /
 *                       course-of-action by galaxy type, else custom x-misp-galaxy-cluster;
 *                       attribute -> cluster relationships ("indicates" from indicators)
 *   Sighting         -> sighting (sighting_of_ref = the attribute's object)
 *   Tags             -> tlp:* -> object_marking_refs (ids from intel/tlp.h): the most
 *                       restrictive TLP wins, among the tags of a part and between an
 *                       attribute and its object and event (a tlp:clear attribute of a
 *                       tlp:red event is red); a tlp:* tag that is not a level (tlp:unclear)
 *                       counts as red, tlp:ex:* extensions are labels. admiralty-scale
 *                       source-reliability -> x_tide_reliability; estimative-language / misp
 *                       confidence / osint:certainty -> confidence; the rest -> labels.
 *                       Attribute tags override event tags (but for TLP).
 * created / modified come from MISP timestamps, so re-ingesting gives identical objects; only
 * objects whose time tide had to invent (no timestamp anywhere, galaxy clusters) are emitted
 * with TIDE_EMIT_DERIVED. Ids missing in the input (PyMISP test files) are derived with uuid5
 * from the event id and the part's position, so they are stable too.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "ingest/json_split.h"
#include "ingest/sink.h"
#include "intel/tlp.h"
#include "tide/tlp.h"
#include "tide/observable.h"
#include "util/util.h"

typedef struct {
    tide_sink *sink;
    long events; /* events converted */
    int refused; /* first element was not an event: the file was refused */
    int fatal;   /* a negative rc from emit */
} misp_ctx;

/* per-event state */
typedef struct {
    misp_ctx *m;
    json_t *ev;
    char ev_uuid[37];
    long line;
    long long off;
    int64_t created, modified; /* ms */
    unsigned flags;            /* TIDE_EMIT_DERIVED when the event has no time at all */
    json_t *refs;              /* report object_refs (ids, in order) */
    json_t *refset;            /* id -> true */
    json_t *uuid2id;           /* MISP attribute / object uuid -> STIX id */
} ev_ctx;

typedef struct {
    const char *tlp; /* marking id of the most restrictive tlp:* tag, or NULL */
    int confidence;  /* -1: none */
    char reliability;
    json_t *labels; /* other tags */
} tag_info;

/* ---------------------------------------------------------------- helpers */

/* uuid of a MISP part, or uuid5 of (event uuid, where) when it has none. */
static void part_uuid(const ev_ctx *e, json_t *part, const char *where, char out[37])
{
    const char *u = json_string_value(json_object_get(part, "uuid"));
    if (tide__uuid_valid(u)) {
        memcpy(out, u, 37);
        tide__str_lower(out);
        return;
    }
    char name[512];
    int n = snprintf(name, sizeof(name), "misp:%s/%s", e->ev_uuid, where);
    tide__uuid5(
            TIDE_UUID_NS, name, (size_t)(n < (int)sizeof(name) ? n : (int)sizeof(name) - 1), out);
}

/* Epoch seconds (string or integer) -> ms; 0 if absent or not a number. */
static int64_t epoch_ms(json_t *v)
{
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v) * 1000;
    const char *s = json_string_value(v);
    long l;
    if (s && *s && tide__parse_long(s, &l) == 0 && l > 0)
        return (int64_t)l * 1000;
    if (s && *s) {
        int64_t ms;
        if (tide__time_parse(s, &ms) == 0)
            return ms;
    }
    return 0;
}

static int64_t date_ms(json_t *v)
{
    const char *s = json_string_value(v);
    int64_t ms;
    if (s && tide__time_parse(s, &ms) == 0)
        return ms;
    return 0;
}

static int set_time(json_t *o, const char *key, int64_t ms)
{
    char buf[32];
    tide__time_format(ms, buf);
    return json_object_set_new(o, key, json_string(buf)) == 0 ? 0 : TIDE_ENOMEM;
}

static int truthy(json_t *v)
{
    if (json_is_boolean(v))
        return json_is_true(v);
    if (json_is_integer(v))
        return json_integer_value(v) != 0;
    const char *s = json_string_value(v);
    return s && (strcmp(s, "1") == 0 || strcasecmp(s, "true") == 0);
}

static int add_ref(ev_ctx *e, const char *id)
{
    if (json_object_get(e->refset, id))
        return 0;
    if (json_object_set_new(e->refset, id, json_true()) ||
            json_array_append_new(e->refs, json_string(id)))
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    return 0;
}

static int emit(ev_ctx *e, json_t *obj, unsigned flags)
{
    if (obj == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    tide_sink *s = e->m->sink;
    s->line = e->line;
    s->offset = e->off;
    int rc = s->emit(s, obj, NULL, 0, flags);
    json_decref(obj);
    if (rc < 0)
        e->m->fatal = rc;
    return rc;
}

/* A new STIX object with the common properties. */
static json_t *new_sdo(
        ev_ctx *e, const char *type, const char *uuid, int64_t created, int64_t modified)
{
    char id[300];
    snprintf(id, sizeof(id), "%s--%s", type, uuid);
    json_t *o = json_pack("{s:s, s:s, s:s}", "type", type, "spec_version", "2.1", "id", id);
    if (o == NULL)
        return NULL;
    set_time(o, "created", created ? created : e->created);
    set_time(o, "modified", modified ? modified : (created ? created : e->modified));
    return o;
}

/* ---------------------------------------------------------------- tags */

static int tag_confidence(const char *name)
{
    static const struct {
        const char *tag;
        int conf;
    } t[] = {
        { "estimative-language:confidence-in-analytic-judgment=\"high\"", 85 },
        { "estimative-language:confidence-in-analytic-judgment=\"moderate\"", 50 },
        { "estimative-language:confidence-in-analytic-judgment=\"low\"", 15 },
        { "misp:confidence-level=\"completely-confident\"", 100 },
        { "misp:confidence-level=\"usually-confident\"", 75 },
        { "misp:confidence-level=\"fairly-confident\"", 50 },
        { "misp:confidence-level=\"rarely-confident\"", 25 },
        { "misp:confidence-level=\"unconfident\"", 0 },
        { "misp:confidence-level=\"confidence-cannot-be-evaluated\"", -2 },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (strcasecmp(name, t[i].tag) == 0)
            return t[i].conf;
    if (strncasecmp(name, "osint:certainty=\"", 17) == 0) {
        long v;
        char num[16];
        size_t n = strcspn(name + 17, "\"");
        if (n > 0 && n < sizeof(num)) {
            memcpy(num, name + 17, n);
            num[n] = '\0';
            if (tide__parse_long(num, &v) == 0 && v >= 0 && v <= 100)
                return (int)v;
        }
    }
    return -1;
}

/* The more restrictive of two TLP marking ids (NULL: none). */
static const char *tlp_max(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a ? a : b;
    return tide_tlp_rank(tide__tlp_name_from_marking(b)) >
                           tide_tlp_rank(tide__tlp_name_from_marking(a))
                   ? b
                   : a;
}

/* Read a "Tag" array (and EventTag[].Tag) into ti. */
static void read_tags(json_t *part, tag_info *ti)
{
    ti->tlp = NULL;
    ti->confidence = -1;
    ti->reliability = 0;
    ti->labels = json_array();
    json_t *arrays[2] = { json_object_get(part, "Tag"), json_object_get(part, "EventTag") };
    for (int a = 0; a < 2; a++) {
        size_t i;
        json_t *t;
        json_array_foreach(arrays[a], i, t)
        {
            if (a == 1)
                t = json_object_get(t, "Tag");
            const char *name = json_string_value(json_object_get(t, "name"));
            if (name == NULL || *name == '\0')
                continue;
            if (strncasecmp(name, "tlp:", 4) == 0 && strncasecmp(name + 4, "ex:", 3) != 0) {
                /* a level, or a tlp: tag tide cannot read, which counts as red */
                const char *id = tide__tlp_marking_id(name);
                ti->tlp = tlp_max(ti->tlp, id ? id : tide__tlp_marking_id("red"));
                continue;
            }
            if (strncasecmp(name, "admiralty-scale:source-reliability=\"", 36) == 0 && name[36] &&
                    name[37] == '"') {
                char r = name[36];
                if (r >= 'a' && r <= 'z')
                    r = (char)(r - 'a' + 'A');
                if (r >= 'A' && r <= 'F') {
                    ti->reliability = r;
                    continue;
                }
            }
            int c = tag_confidence(name);
            if (c >= 0) {
                ti->confidence = c;
                continue;
            }
            if (c == -2)
                continue;
            json_array_append_new(ti->labels, json_string(name));
        }
    }
}

static void apply_marking(json_t *o, const char *tlp)
{
    if (tlp)
        json_object_set_new(o, "object_marking_refs", json_pack("[s]", tlp));
}

/* ---------------------------------------------------------------- galaxies */

static const char *galaxy_stix_type(const char *gtype)
{
    if (gtype == NULL)
        return "x-misp-galaxy-cluster";
    if (strcmp(gtype, "threat-actor") == 0 || strcmp(gtype, "microsoft-activity-group") == 0)
        return "threat-actor";
    if (strstr(gtype, "intrusion-set"))
        return "intrusion-set";
    if (strstr(gtype, "attack-pattern"))
        return "attack-pattern";
    if (strstr(gtype, "course-of-action"))
        return "course-of-action";
    if (strcmp(gtype, "tool") == 0 || strcmp(gtype, "mitre-tool") == 0 ||
            strstr(gtype, "attack-tool"))
        return "tool";
    static const char *const malware[] = { "malware", "mitre-malware", "malpedia", "ransomware",
        "botnet", "banker", "stealer", "rat", "backdoor", "android", "exploit-kit",
        "mitre-mobile-attack-malware", "mitre-enterprise-attack-malware" };
    for (size_t i = 0; i < sizeof(malware) / sizeof(malware[0]); i++)
        if (strcmp(gtype, malware[i]) == 0)
            return "malware";
    return "x-misp-galaxy-cluster";
}

static int emit_relationship(ev_ctx *e, const char *src, const char *rtype, const char *tgt,
        json_t *misp_ref, unsigned flags)
{
    char name[700], uuid[37];
    int n = snprintf(name, sizeof(name), "%s|%s|%s", src, rtype, tgt);
    tide__uuid5(
            TIDE_UUID_NS, name, (size_t)(n < (int)sizeof(name) ? n : (int)sizeof(name) - 1), uuid);
    int64_t ts = misp_ref ? epoch_ms(json_object_get(misp_ref, "timestamp")) : 0;
    json_t *r = new_sdo(e, "relationship", uuid, ts, ts);
    if (r == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    json_object_set_new(r, "relationship_type", json_string(rtype));
    json_object_set_new(r, "source_ref", json_string(src));
    json_object_set_new(r, "target_ref", json_string(tgt));
    if (misp_ref)
        json_object_set(r, "x_misp_object_reference", misp_ref);
    char id[64];
    snprintf(id, sizeof(id), "relationship--%s", uuid);
    TIDE_CHECK(add_ref(e, id));
    return emit(e, r, flags);
}

/* Emit the SDOs of a Galaxy array; if from_id, also relationships from it to each. */
static int do_galaxies(
        ev_ctx *e, json_t *galaxies, const char *from_id, int from_indicator, const char *where)
{
    size_t gi, ci;
    json_t *g, *c;
    json_array_foreach(galaxies, gi, g)
    {
        const char *gtype = json_string_value(json_object_get(g, "type"));
        const char *stype = galaxy_stix_type(gtype);
        json_array_foreach(json_object_get(g, "GalaxyCluster"), ci, c)
        {
            const char *value = json_string_value(json_object_get(c, "value"));
            if (!json_is_object(c) || value == NULL) {
                tide__sink_rejectf(e->m->sink, e->line, e->off,
                        "event %s: %s Galaxy[%zu].GalaxyCluster[%zu] has no string \"value\"",
                        e->ev_uuid, where, gi, ci);
                continue;
            }
            char uuid[37];
            const char *u = json_string_value(json_object_get(c, "uuid"));
            if (tide__uuid_valid(u)) {
                memcpy(uuid, u, 37);
                tide__str_lower(uuid);
            } else {
                const char *tag = json_string_value(json_object_get(c, "tag_name"));
                char name[1024];
                int n = snprintf(name, sizeof(name), "misp-galaxy-cluster:%s", tag ? tag : value);
                tide__uuid5(TIDE_UUID_NS, name,
                        (size_t)(n < (int)sizeof(name) ? n : (int)sizeof(name) - 1), uuid);
            }
            json_t *o = new_sdo(e, stype, uuid, 0, 0);
            if (o == NULL)
                return tide_error_set(TIDE_ENOMEM, "out of memory");
            json_object_set_new(o, "name", json_string(value));
            const char *desc = json_string_value(json_object_get(c, "description"));
            if (desc && *desc)
                json_object_set_new(o, "description", json_string(desc));
            json_t *syn = json_object_get(json_object_get(c, "meta"), "synonyms");
            if (json_is_array(syn) && json_array_size(syn) > 0 &&
                    strcmp(stype, "attack-pattern") != 0 && strcmp(stype, "course-of-action"))
                json_object_set(o, "aliases", syn);
            if (strcmp(stype, "malware") == 0)
                json_object_set_new(o, "is_family", json_true());
            json_object_set(o, "x_misp_galaxy_cluster", c);
            if (gtype)
                json_object_set_new(o, "x_misp_galaxy_type", json_string(gtype));
            char id[128];
            snprintf(id, sizeof(id), "%s--%s", stype, uuid);
            TIDE_CHECK(add_ref(e, id));
            TIDE_CHECK(emit(e, o, TIDE_EMIT_DERIVED));
            if (from_id) {
                const char *rt = "related-to";
                if (from_indicator && strcmp(stype, "x-misp-galaxy-cluster") != 0 &&
                        strcmp(stype, "course-of-action") != 0)
                    rt = "indicates";
                TIDE_CHECK(emit_relationship(e, from_id, rt, id, NULL, e->flags));
            }
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- sightings */

static int do_sighting(ev_ctx *e, json_t *s, const char *of_id, size_t idx, const char *where)
{
    if (!json_is_object(s))
        return 0;
    char uuid[37];
    char w[300];
    snprintf(w, sizeof(w), "%s/Sighting[%zu]", where, idx);
    part_uuid(e, s, w, uuid);
    int64_t t = epoch_ms(json_object_get(s, "date_sighting"));
    json_t *o = new_sdo(e, "sighting", uuid, t, t);
    if (o == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    if (t) {
        set_time(o, "first_seen", t);
        set_time(o, "last_seen", t);
    }
    json_object_set_new(o, "count", json_integer(1));
    json_object_set_new(o, "sighting_of_ref", json_string(of_id));
    json_object_set(o, "x_misp_sighting", s);
    json_t *ty = json_object_get(s, "type");
    if ((json_is_string(ty) && strcmp(json_string_value(ty), "1") == 0) ||
            (json_is_integer(ty) && json_integer_value(ty) == 1))
        json_object_set_new(o, "x_tide_false_positive", json_true());
    char id[64];
    snprintf(id, sizeof(id), "sighting--%s", uuid);
    TIDE_CHECK(add_ref(e, id));
    return emit(e, o, t ? 0 : e->flags);
}

/* ---------------------------------------------------------------- attributes */

/* MISP type -> observable kind; *part selects the value part of "a|b" composite types
 * (0 first, 1 second, -1 whole value). */
static tide_obs_kind misp_kind(const char *type, const char *value, int *part)
{
    *part = -1;
    if (strcmp(type, "ip-src") == 0 || strcmp(type, "ip-dst") == 0) {
        tide_obs_kind k = tide_obs_detect(value);
        return (k == TIDE_OBS_IPV4 || k == TIDE_OBS_IPV6 || k == TIDE_OBS_CIDR4 ||
                       k == TIDE_OBS_CIDR6)
                       ? k
                       : TIDE_OBS_NONE;
    }
    if (strcmp(type, "ip-src|port") == 0 || strcmp(type, "ip-dst|port") == 0)
        return TIDE_OBS_IP_PORT;
    if (strcmp(type, "domain") == 0 || strcmp(type, "hostname") == 0)
        return TIDE_OBS_DOMAIN;
    if (strcmp(type, "domain|ip") == 0 || strcmp(type, "hostname|port") == 0) {
        *part = 0;
        return TIDE_OBS_DOMAIN;
    }
    if (strcmp(type, "url") == 0 || strcmp(type, "link") == 0)
        return TIDE_OBS_URL;
    if (strcmp(type, "uri") == 0)
        return TIDE_OBS_URL_PATH;
    static const struct {
        const char *t;
        tide_obs_kind k;
    } hashes[] = { { "md5", TIDE_OBS_MD5 }, { "sha1", TIDE_OBS_SHA1 },
        { "sha256", TIDE_OBS_SHA256 }, { "sha512", TIDE_OBS_SHA512 },
        { "ja3-fingerprint-md5", TIDE_OBS_JA3 }, { "x509-fingerprint-sha1", TIDE_OBS_X509_SHA1 },
        { "email", TIDE_OBS_EMAIL }, { "email-src", TIDE_OBS_EMAIL },
        { "email-dst", TIDE_OBS_EMAIL } };
    for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++)
        if (strcmp(type, hashes[i].t) == 0)
            return hashes[i].k;
    if (strncmp(type, "filename|", 9) == 0) {
        *part = 1;
        const char *h = type + 9;
        if (strcmp(h, "md5") == 0)
            return TIDE_OBS_MD5;
        if (strcmp(h, "sha1") == 0)
            return TIDE_OBS_SHA1;
        if (strcmp(h, "sha256") == 0)
            return TIDE_OBS_SHA256;
        if (strcmp(h, "sha512") == 0)
            return TIDE_OBS_SHA512;
    }
    return TIDE_OBS_NONE;
}

/* Pattern for a MISP attribute, or NULL when it does not map. Caller frees. */
static char *attribute_pattern(const char *type, const char *value)
{
    int part;
    tide_obs_kind k = misp_kind(type, value, &part);
    if (k == TIDE_OBS_NONE)
        return NULL;
    char buf[2048];
    const char *v = value;
    if (part >= 0) {
        const char *bar = strchr(value, '|');
        if (bar == NULL)
            return NULL;
        size_t n = part == 0 ? (size_t)(bar - value) : strlen(bar + 1);
        if (n >= sizeof(buf))
            return NULL;
        memcpy(buf, part == 0 ? value : bar + 1, n);
        buf[n] = '\0';
        v = buf;
    } else if (k == TIDE_OBS_IP_PORT) {
        /* MISP writes "1.2.3.4|443" */
        const char *bar = strrchr(value, '|');
        size_t n = strlen(value);
        if (bar == NULL || n + 3 >= sizeof(buf))
            return NULL;
        size_t hl = (size_t)(bar - value);
        int v6 = memchr(value, ':', hl) != NULL;
        snprintf(buf, sizeof(buf), "%s%.*s%s:%s", v6 ? "[" : "", (int)hl, value, v6 ? "]" : "",
                bar + 1);
        v = buf;
    }
    char *norm = NULL, *pat = NULL;
    char *refanged = NULL;
    if (tide_obs_refang(v, &refanged) < 0)
        return NULL;
    if (tide_obs_normalize(k, refanged, &norm) == 0)
        tide_obs_to_pattern(k, norm, &pat);
    free(refanged);
    free(norm);
    return pat;
}

/* Convert one attribute. where = "Attribute[3]" / "Object[1].Attribute[0]". The STIX id is
 * written to out_id ("" when the attribute was rejected). */
static int do_attribute(
        ev_ctx *e, json_t *a, const char *where, const tag_info *parent_tags, char out_id[128])
{
    out_id[0] = '\0';
    tide_sink *s = e->m->sink;
    const char *au = json_string_value(json_object_get(a, "uuid"));
    if (!json_is_object(a)) {
        tide__sink_rejectf(s, e->line, e->off, "event %s: %s is not an object", e->ev_uuid, where);
        return 0;
    }
    json_t *jt = json_object_get(a, "type"), *jv = json_object_get(a, "value");
    if (!json_is_string(jt) || json_string_length(jt) == 0) {
        tide__sink_rejectf(s, e->line, e->off, "event %s: %s (uuid %s): no string \"type\"",
                e->ev_uuid, where, au ? au : "none");
        return 0;
    }
    if (!json_is_string(jv)) {
        tide__sink_rejectf(s, e->line, e->off, "event %s: %s (uuid %s): %s \"value\"", e->ev_uuid,
                where, au ? au : "none", jv ? "non-string" : "no");
        return 0;
    }
    const char *type = json_string_value(jt), *value = json_string_value(jv);
    char uuid[37];
    char w[600];
    snprintf(w, sizeof(w), "%s/%s/%s", where, type, value);
    part_uuid(e, a, w, uuid);

    int64_t ts = epoch_ms(json_object_get(a, "timestamp"));
    int64_t fs = date_ms(json_object_get(a, "first_seen"));
    tag_info ti;
    read_tags(a, &ti);
    const char *tlp = tlp_max(ti.tlp, parent_tags->tlp);
    int conf = ti.confidence >= 0 ? ti.confidence : parent_tags->confidence;
    char rel = ti.reliability ? ti.reliability : parent_tags->reliability;

    char *pattern = truthy(json_object_get(a, "to_ids")) ? attribute_pattern(type, value) : NULL;
    json_t *o;
    if (pattern) {
        o = new_sdo(e, "indicator", uuid, ts, ts);
        if (o) {
            json_object_set_new(o, "name", json_string(value));
            const char *comment = json_string_value(json_object_get(a, "comment"));
            if (comment && *comment)
                json_object_set_new(o, "description", json_string(comment));
            json_object_set_new(o, "pattern", json_string(pattern));
            json_object_set_new(o, "pattern_type", json_string("stix"));
            set_time(o, "valid_from", fs ? fs : (ts ? ts : e->created));
            int64_t ls = date_ms(json_object_get(a, "last_seen"));
            if (ls && ls > (fs ? fs : ts))
                set_time(o, "valid_until", ls);
            if (truthy(json_object_get(a, "deleted")))
                json_object_set_new(o, "revoked", json_true());
        }
        snprintf(out_id, 128, "indicator--%s", uuid);
    } else {
        o = new_sdo(e, "x-misp-attribute", uuid, ts, ts);
        if (o)
            json_object_set_new(o, "name", json_string(value));
        snprintf(out_id, 128, "x-misp-attribute--%s", uuid);
    }
    free(pattern);
    if (o == NULL) {
        json_decref(ti.labels);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    json_t *labels = json_array();
    const char *cat = json_string_value(json_object_get(a, "category"));
    if (cat && *cat)
        json_array_append_new(labels, json_string(cat));
    json_array_extend(labels, ti.labels);
    json_decref(ti.labels);
    if (json_array_size(labels))
        json_object_set_new(o, "labels", labels);
    else
        json_decref(labels);
    apply_marking(o, tlp);
    if (conf >= 0)
        json_object_set_new(o, "confidence", json_integer(conf));
    if (rel) {
        char r[2] = { rel, 0 };
        json_object_set_new(o, "x_tide_reliability", json_string(r));
    }
    json_object_set(o, "x_misp_attribute", a);
    if (au && tide__uuid_valid(au))
        json_object_set_new(e->uuid2id, au, json_string(out_id));
    TIDE_CHECK(add_ref(e, out_id));
    int derived = (ts == 0) ? e->flags : 0;
    TIDE_CHECK(emit(e, o, (unsigned)derived));

    TIDE_CHECK(do_galaxies(e, json_object_get(a, "Galaxy"), out_id,
            strncmp(out_id, "indicator--", 11) == 0, where));
    size_t i;
    json_t *sg;
    json_array_foreach(json_object_get(a, "Sighting"), i, sg)
            TIDE_CHECK(do_sighting(e, sg, out_id, i, w));
    return 0;
}

/* ---------------------------------------------------------------- objects */

static int do_object(ev_ctx *e, json_t *ob, size_t idx, const tag_info *evtags)
{
    char where[64];
    snprintf(where, sizeof(where), "Object[%zu]", idx);
    if (!json_is_object(ob)) {
        tide__sink_rejectf(
                e->m->sink, e->line, e->off, "event %s: %s is not an object", e->ev_uuid, where);
        return 0;
    }
    char uuid[37];
    part_uuid(e, ob, where, uuid);
    tag_info ot;
    read_tags(ob, &ot);
    tag_info pt = *evtags;
    pt.tlp = tlp_max(ot.tlp, pt.tlp);
    if (ot.confidence >= 0)
        pt.confidence = ot.confidence;
    if (ot.reliability)
        pt.reliability = ot.reliability;
    json_t *refs = json_array();
    size_t i;
    json_t *a;
    int rc = 0;
    json_array_foreach(json_object_get(ob, "Attribute"), i, a)
    {
        char w[96], id[128];
        snprintf(w, sizeof(w), "%s.Attribute[%zu]", where, i);
        rc = do_attribute(e, a, w, &pt, id);
        if (rc < 0)
            goto done;
        if (id[0])
            json_array_append_new(refs, json_string(id));
    }
    int64_t ts = epoch_ms(json_object_get(ob, "timestamp"));
    json_t *o = new_sdo(e, "x-misp-object", uuid, ts, ts);
    if (o == NULL) {
        rc = tide_error_set(TIDE_ENOMEM, "out of memory");
        goto done;
    }
    const char *name = json_string_value(json_object_get(ob, "name"));
    json_object_set_new(o, "name", json_string(name ? name : "misp-object"));
    if (json_array_size(refs))
        json_object_set(o, "object_refs", refs);
    if (json_array_size(ot.labels))
        json_object_set(o, "labels", ot.labels);
    apply_marking(o, pt.tlp);
    json_t *copy = json_copy(ob);
    json_object_del(copy, "Attribute");
    json_object_set_new(o, "x_misp_object", copy);
    char id[128];
    snprintf(id, sizeof(id), "x-misp-object--%s", uuid);
    const char *ou = json_string_value(json_object_get(ob, "uuid"));
    if (ou && *ou)
        json_object_set_new(e->uuid2id, ou, json_string(id));
    rc = add_ref(e, id);
    if (rc == 0)
        rc = emit(e, o, ts ? 0 : e->flags);
    else
        json_decref(o);
done:
    json_decref(refs);
    json_decref(ot.labels);
    return rc < 0 ? rc : 0;
}

static int do_object_references(ev_ctx *e, json_t *ob, size_t idx)
{
    char src_key[96];
    const char *ou = json_string_value(json_object_get(ob, "uuid"));
    const char *src = ou ? json_string_value(json_object_get(e->uuid2id, ou)) : NULL;
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(ob, "ObjectReference"), i, r)
    {
        const char *tu = json_string_value(json_object_get(r, "referenced_uuid"));
        const char *rt = json_string_value(json_object_get(r, "relationship_type"));
        const char *tgt = tu ? json_string_value(json_object_get(e->uuid2id, tu)) : NULL;
        snprintf(src_key, sizeof(src_key), "Object[%zu].ObjectReference[%zu]", idx, i);
        if (src == NULL || tgt == NULL || rt == NULL || *rt == '\0') {
            tide__sink_rejectf(e->m->sink, e->line, e->off, "event %s: %s: %s", e->ev_uuid, src_key,
                    rt == NULL || *rt == '\0' ? "no relationship_type"
                    : src == NULL             ? "its object has no usable uuid"
                                              : "referenced_uuid is not an attribute or object "
                                                "of this event");
            continue;
        }
        /* STIX relationship types are lower-case words joined by '-' */
        char type[128];
        size_t n = 0;
        for (const char *p = rt; *p && n + 1 < sizeof(type); p++) {
            char c = *p;
            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            type[n++] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '-';
        }
        type[n] = '\0';
        TIDE_CHECK(emit_relationship(e, src, type, tgt, r, e->flags));
    }
    return 0;
}

/* ---------------------------------------------------------------- events */

static int convert_event(misp_ctx *m, json_t *ev, long line, long long off)
{
    ev_ctx e;
    memset(&e, 0, sizeof(e));
    e.m = m;
    e.ev = ev;
    e.line = line;
    e.off = off;
    const char *u = json_string_value(json_object_get(ev, "uuid"));
    if (tide__uuid_valid(u)) {
        memcpy(e.ev_uuid, u, 37);
        tide__str_lower(e.ev_uuid);
    } else {
        char *dump = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);
        if (dump == NULL)
            return tide_error_set(TIDE_ENOMEM, "out of memory");
        tide__uuid5(TIDE_UUID_NS, dump, strlen(dump), e.ev_uuid);
        free(dump);
    }
    int64_t ts = epoch_ms(json_object_get(ev, "timestamp"));
    int64_t date = date_ms(json_object_get(ev, "date"));
    if (!ts && !date) {
        const tide_ingest_opts *o = m->sink->opts;
        int64_t now = o && o->now_ms ? o->now_ms : tide__time_now_ms();
        e.created = e.modified = now;
        e.flags = TIDE_EMIT_DERIVED;
    } else {
        e.created = date ? date : ts;
        e.modified = ts ? ts : date;
        if (e.modified < e.created)
            e.created = e.modified;
    }
    e.refs = json_array();
    e.refset = json_object();
    e.uuid2id = json_object();
    tag_info et;
    read_tags(ev, &et);
    int rc = 0;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(ev, "Attribute"), i, a)
    {
        char w[64], id[128];
        snprintf(w, sizeof(w), "Attribute[%zu]", i);
        if ((rc = do_attribute(&e, a, w, &et, id)) < 0)
            goto done;
    }
    json_t *objs = json_object_get(ev, "Object");
    json_array_foreach(objs, i, a) if ((rc = do_object(&e, a, i, &et)) < 0) goto done;
    json_array_foreach(objs, i,
            a) if (json_is_object(a) && (rc = do_object_references(&e, a, i)) < 0) goto done;
    if ((rc = do_galaxies(&e, json_object_get(ev, "Galaxy"), NULL, 0, "event")) < 0)
        goto done;
    /* event-level sightings name their attribute by uuid */
    json_array_foreach(json_object_get(ev, "Sighting"), i, a)
    {
        const char *au = json_string_value(json_object_get(a, "attribute_uuid"));
        const char *of = au ? json_string_value(json_object_get(e.uuid2id, au)) : NULL;
        if (of == NULL) {
            tide__sink_rejectf(m->sink, line, off,
                    "event %s: Sighting[%zu]: attribute_uuid %s is not an attribute of this "
                    "event",
                    e.ev_uuid, i, au ? au : "(none)");
            continue;
        }
        char of_copy[128];
        snprintf(of_copy, sizeof(of_copy), "%s", of);
        if ((rc = do_sighting(&e, a, of_copy, i, "event")) < 0)
            goto done;
    }

    /* the report */
    {
        json_t *r = new_sdo(&e, "report", e.ev_uuid, e.created, e.modified);
        if (r == NULL) {
            rc = tide_error_set(TIDE_ENOMEM, "out of memory");
            goto done;
        }
        const char *info = json_string_value(json_object_get(ev, "info"));
        if (info && *info)
            json_object_set_new(r, "name", json_string(info));
        else {
            char nm[80];
            snprintf(nm, sizeof(nm), "MISP event %s", e.ev_uuid);
            json_object_set_new(r, "name", json_string(nm));
        }
        json_object_set_new(r, "report_types", json_pack("[s]", "threat-report"));
        int64_t pub = date ? date : epoch_ms(json_object_get(ev, "publish_timestamp"));
        set_time(r, "published", pub ? pub : e.created);
        if (json_array_size(et.labels))
            json_object_set(r, "labels", et.labels);
        if (et.confidence >= 0)
            json_object_set_new(r, "confidence", json_integer(et.confidence));
        apply_marking(r, et.tlp);
        if (json_array_size(e.refs))
            json_object_set(r, "object_refs", e.refs);
        json_t *copy = json_copy(ev);
        json_object_del(copy, "Attribute");
        json_object_del(copy, "Object");
        json_object_set_new(r, "x_misp_event", copy);
        rc = emit(&e, r, e.flags);
        if (rc >= 0) {
            m->events++;
            rc = 0;
        }
    }
done:
    json_decref(et.labels);
    json_decref(e.refs);
    json_decref(e.refset);
    json_decref(e.uuid2id);
    return rc;
}

/* ---------------------------------------------------------------- recognising events */

static int looks_like_event(json_t *j)
{
    if (!json_is_object(j))
        return 0;
    if (json_is_array(json_object_get(j, "Attribute")) ||
            json_is_array(json_object_get(j, "Object")))
        return 1;
    if (json_object_get(j, "EventTag") || json_object_get(j, "attribute_count") ||
            json_object_get(j, "SharingGroup"))
        return 0; /* index / search summaries carry no attributes */
    return json_is_string(json_object_get(j, "info")) &&
           (json_object_get(j, "uuid") || json_object_get(j, "date") ||
                   json_object_get(j, "threat_level_id") || json_object_get(j, "analysis"));
}

/* Why j is not a MISP event (for the refusal message). */
static const char *not_event_reason(json_t *j)
{
    if (json_is_array(j))
        j = json_array_get(j, 0);
    if (!json_is_object(j))
        return "the JSON holds no object";
    if (json_object_size(j) == 0)
        return "empty JSON object";
    if (json_object_get(j, "objects") || json_object_get(j, "spec_version") ||
            (json_is_string(json_object_get(j, "type")) &&
                    strstr(json_string_value(json_object_get(j, "type")), "bundle")))
        return "looks like a STIX bundle (use the STIX reader)";
    if (json_object_get(j, "requiredOneOf") ||
            (json_object_get(j, "attributes") && json_object_get(j, "meta-category")))
        return "looks like a MISP object template (definition.json)";
    if (json_object_get(j, "GalaxyCluster") && json_object_get(j, "namespace"))
        return "looks like a MISP galaxy (no event)";
    if (json_object_get(j, "EventTag") || json_object_get(j, "attribute_count"))
        return "looks like a MISP /events/index search result (event summaries without "
               "attributes)";
    if (json_object_get(j, "SharingGroup") || json_object_get(j, "SharingGroupOrg"))
        return "looks like a list of MISP sharing groups";
    if (json_object_get(j, "date_sighting") ||
            (json_object_size(j) <= 4 && json_object_get(j, "timestamp") &&
                    json_object_get(j, "type") && json_object_get(j, "value")))
        return "looks like a MISP sighting";
    if (json_object_get(j, "Event"))
        return "\"Event\" is not an object";
    return "no \"Event\", \"Attribute\" or \"Object\"";
}

static json_t *event_of(json_t *j)
{
    json_t *ev = json_object_get(j, "Event");
    if (json_is_object(ev))
        return ev;
    return looks_like_event(j) ? j : NULL;
}

static int on_item(void *payload, const tide__js_item *it)
{
    misp_ctx *m = payload;
    tide_sink *s = m->sink;
    const char *file = s->file ? s->file : "input";
    if (it->kind != TIDE__JS_ELEMENT && it->kind != TIDE__JS_WHOLE) {
        tide__sink_rejectf(s, it->line, it->offset, "%s", it->msg);
        return 0;
    }
    json_error_t err;
    json_t *j = tide__json_parse_item(it->ptr, it->len, &err);
    if (j == NULL) {
        long line = it->line + (err.line > 0 ? err.line - 1 : 0);
        if (it->kind == TIDE__JS_WHOLE)
            return tide_error_set(TIDE_EPARSE, "%s: line %ld, offset %lld: not valid JSON: %s",
                    file, line, it->offset + (err.position > 0 ? err.position : 0), err.text);
        tide__sink_rejectf(
                s, line, it->offset, "element %ld is not valid JSON: %s", it->index, err.text);
        return 0;
    }
    json_t *ev = event_of(j);
    int rc = 0;
    if (ev == NULL) {
        if (it->kind == TIDE__JS_WHOLE || (it->index == 0 && m->events == 0)) {
            m->refused = 1;
            rc = tide_error_set(
                    TIDE_EFORMAT, "%s: not a MISP event: %s", file, not_event_reason(j));
        } else {
            tide__sink_rejectf(s, it->line, it->offset, "element %ld is not a MISP event: %s",
                    it->index, not_event_reason(j));
        }
    } else {
        rc = convert_event(m, ev, it->line, it->offset);
    }
    json_decref(j);
    return rc < 0 ? rc : 0;
}

int tide__read_misp(tide_sink *sink, FILE *fp)
{
    if (sink == NULL || fp == NULL)
        return tide_error_set(TIDE_EINVAL, "tide__read_misp: NULL argument");
    misp_ctx m;
    memset(&m, 0, sizeof(m));
    m.sink = sink;
    tide__js_opts o;
    memset(&o, 0, sizeof(o));
    o.array_key = "response";
    o.on_item = on_item;
    o.payload = &m;
    const char *file = sink->file ? sink->file : "input";
    int rc = tide__json_split(fp, file, &o);
    if (rc == TIDE_EFORMAT && !m.refused) {
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", tide_error_last());
        return tide_error_set(TIDE_EFORMAT, "not a MISP event file: %s", msg);
    }
    return rc < 0 ? rc : 0;
}

/* ---------------------------------------------------------------- feeds */

int tide__read_misp_feed(tide_sink *sink, const char *dir)
{
    if (sink == NULL || dir == NULL)
        return tide_error_set(TIDE_EINVAL, "tide__read_misp_feed: NULL argument");
    char path[4096];
    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    struct stat st;
    if (stat(path, &st) != 0)
        return tide_error_set(TIDE_EFORMAT, "%s: not a MISP feed: no manifest.json", dir);
    if ((size_t)st.st_size > tide__ingest_max_object())
        return tide_error_set(
                TIDE_ETOOBIG, "%s: larger than %zu bytes", path, tide__ingest_max_object());
    json_error_t err;
    json_t *man = json_load_file(path, 0, &err);
    if (man == NULL)
        return tide_error_set(
                TIDE_EPARSE, "%s: line %d, offset %d: %s", path, err.line, err.position, err.text);
    if (!json_is_object(man)) {
        json_decref(man);
        return tide_error_set(TIDE_EFORMAT,
                "%s: not a MISP feed manifest (not an object "
                "keyed by event uuid)",
                path);
    }
    const char *saved = sink->file;
    const char *key;
    json_t *v;
    int rc = 0;
    json_object_foreach(man, key, v)
    {
        if (!tide__uuid_valid(key)) {
            tide__sink_rejectf(sink, 0, -1, "%s: key \"%.80s\" is not an event uuid", path, key);
            continue;
        }
        char ep[4200];
        snprintf(ep, sizeof(ep), "%s/%s.json", dir, key);
        FILE *fp = fopen(ep, "rb");
        if (fp == NULL) {
            tide__sink_rejectf(sink, 0, -1,
                    "%s: event %s listed in manifest.json is missing (%s.json)", dir, key, key);
            continue;
        }
        sink->file = ep;
        rc = tide__read_misp(sink, fp);
        fclose(fp);
        sink->file = saved;
        if (rc == TIDE_EFORMAT || rc == TIDE_EPARSE || rc == TIDE_ETOOBIG || rc == TIDE_EIO) {
            tide__sink_rejectf(sink, 0, -1, "%s: %s", ep, tide_error_last());
            rc = 0;
            continue;
        }
        if (rc < 0)
            break;
    }
    sink->file = saved;
    json_decref(man);
    return rc < 0 ? rc : 0;
}
