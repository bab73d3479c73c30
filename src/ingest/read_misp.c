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
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "ingest/emit_indicator.h"
#include "ingest/json_fast.h"
#include "ingest/json_split.h"
#include "ingest/sink.h"
#include "intel/tlp.h"
#include "tide/tlp.h"
#include "tide/observable.h"
#include "util/util.h"

#include <xxhash.h>

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
    /* the report's object_refs: ids as JSON text ("a","b",...) in order, and a set of them
     * (hash, offset of the id in refs) so each is listed once; compact, because an event can
     * name a million objects */
    tide_buf refs;
    uint64_t *ref_hash;
    uint32_t *ref_off;
    size_t ref_cap, nrefs;
    /* MISP attribute / object uuid -> STIX id: the value is an offset into ids, or, with
     * ID_CODE set, a type code when the id is "<type>--<lower-case uuid>" */
    tide_strmap uuid2id; /* uuid -> index into uvals (a later part with the same uuid wins) */
    uint32_t *uvals;
    size_t nuvals, uvals_cap;
    tide_buf ids;
} ev_ctx;

#define ID_CODE 0x80000000u
static const char *const id_types[] = { "indicator", "x-misp-attribute", "x-misp-object" };

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

/* The last second a STIX timestamp can name (9999-12-31T23:59:59Z): MISP epoch times beyond
 * it (or before 1970) are no time tide can store, and their milliseconds would overflow. */
#define MISP_MAX_EPOCH 253402300799LL

/* A MISP time: epoch seconds (an integer, a string of digits, or a real of integral value:
 * an event holding a too-big integer anywhere is read with every number a real) or an RFC
 * 3339 string. Returns 0 with *ms = 0 when absent (missing, null, "", 0), 0 with *ms when
 * valid, -1 with the reason in why when present but no time tide can store. */
static int misp_time(json_t *v, const char *name, int64_t *ms, char *why, size_t whysz)
{
    *ms = 0;
    double d;
    const char *s = json_string_value(v);
    if (v == NULL || json_is_null(v) || (s && *s == '\0'))
        return 0;
    if (json_is_integer(v)) {
        d = (double)json_integer_value(v);
    } else if (json_is_real(v)) {
        d = json_real_value(v);
    } else if (s && (*s == '-' || (*s >= '0' && *s <= '9')) &&
               strspn(s + 1, "0123456789") == strlen(s + 1)) {
        long l;
        d = tide__parse_long(s, &l) == 0 ? (double)l : (*s == '-' ? -1e300 : 1e300);
    } else if (s) {
        if (tide__time_parse(s, ms) == 0)
            return 0;
        snprintf(why, whysz, "%s '%.64s' is not a valid time", name, s);
        return -1;
    } else {
        snprintf(why, whysz, "%s is not a time (neither epoch seconds nor a string)", name);
        return -1;
    }
    if (d == 0)
        return 0;
    if (!(d > 0 && d <= (double)MISP_MAX_EPOCH && d == (double)(int64_t)d)) {
        if (s)
            snprintf(why, whysz, "%s %.64s is out of range (epoch seconds 1..%lld)", name, s,
                    MISP_MAX_EPOCH);
        else
            snprintf(why, whysz, "%s %.17g is out of range (epoch seconds 1..%lld)", name, d,
                    MISP_MAX_EPOCH);
        return -1;
    }
    *ms = (int64_t)d * 1000;
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
    size_t n = strlen(id);
    uint64_t h = XXH3_64bits(id, n);
    if ((e->nrefs + 1) * 2 > e->ref_cap) {
        size_t cap = e->ref_cap ? e->ref_cap * 2 : 256;
        uint64_t *nh = tide__malloc(cap * sizeof(*nh));
        uint32_t *no = tide__malloc(cap * sizeof(*no));
        if (nh == NULL || no == NULL) {
            tide__free(nh);
            tide__free(no);
            return tide_error_set(TIDE_ENOMEM, "out of memory");
        }
        memset(no, 0xff, cap * sizeof(*no)); /* UINT32_MAX: a free slot */
        for (size_t i = 0; i < e->ref_cap; i++) {
            if (e->ref_off[i] == UINT32_MAX)
                continue;
            size_t j = e->ref_hash[i] & (cap - 1);
            while (no[j] != UINT32_MAX)
                j = (j + 1) & (cap - 1);
            nh[j] = e->ref_hash[i];
            no[j] = e->ref_off[i];
        }
        tide__free(e->ref_hash);
        tide__free(e->ref_off);
        e->ref_hash = nh;
        e->ref_off = no;
        e->ref_cap = cap;
    }
    size_t j = h & (e->ref_cap - 1);
    for (; e->ref_off[j] != UINT32_MAX; j = (j + 1) & (e->ref_cap - 1))
        if (e->ref_hash[j] == h && strncmp(e->refs.ptr + e->ref_off[j], id, n) == 0 &&
                e->refs.ptr[e->ref_off[j] + n] == '"')
            return 0; /* listed already */
    if (e->refs.len + n + 3 >= UINT32_MAX)
        return tide_error_set(TIDE_ETOOBIG, "event %s names too many objects", e->ev_uuid);
    int rc = e->refs.len ? tide__buf_putc(&e->refs, ',') : 0;
    if (rc == 0)
        rc = tide__buf_putc(&e->refs, '"');
    size_t off = e->refs.len;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        unsigned char c = (unsigned char)id[i];
        if (c < 0x20 || c == '"' || c == '\\') /* ids are "type--uuid": never, but stay JSON */
            rc = tide__buf_printf(&e->refs, "\\u%04x", c);
        else
            rc = tide__buf_putc(&e->refs, (char)c);
    }
    if (rc == 0)
        rc = tide__buf_putc(&e->refs, '"');
    if (rc < 0)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    e->ref_hash[j] = h;
    e->ref_off[j] = (uint32_t)off;
    e->nrefs++;
    return 0;
}

/* Remember uuid -> id (the first id given for a uuid stays, as before). */
static int map_uuid(ev_ctx *e, const char *uuid, const char *id)
{
    uint32_t val = UINT32_MAX, got;
    for (uint32_t c = 0; c < sizeof(id_types) / sizeof(id_types[0]); c++) {
        size_t tl = strlen(id_types[c]);
        if (strncmp(id, id_types[c], tl) == 0 && strncmp(id + tl, "--", 2) == 0 &&
                strlen(id + tl + 2) == strlen(uuid)) {
            bool same = true;
            for (size_t i = 0; same && uuid[i]; i++) {
                char u = uuid[i];
                same = id[tl + 2 + i] == (u >= 'A' && u <= 'Z' ? (char)(u - 'A' + 'a') : u);
            }
            if (same)
                val = ID_CODE | c;
        }
    }
    if (val == UINT32_MAX) {
        if (e->ids.len >= ID_CODE)
            return tide_error_set(TIDE_ETOOBIG, "event %s names too many objects", e->ev_uuid);
        val = (uint32_t)e->ids.len;
        if (tide__buf_put(&e->ids, id, strlen(id) + 1) < 0)
            return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    if (e->nuvals == e->uvals_cap) {
        size_t cap = e->uvals_cap ? e->uvals_cap * 2 : 64;
        uint32_t *nv = tide__realloc(e->uvals, cap * sizeof(*nv));
        if (nv == NULL)
            return tide_error_set(TIDE_ENOMEM, "out of memory");
        e->uvals = nv;
        e->uvals_cap = cap;
    }
    int rc = tide__strmap_put(&e->uuid2id, uuid, strlen(uuid), (uint32_t)e->nuvals, &got);
    if (rc < 0)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    if (rc == 1)
        e->nuvals++;
    e->uvals[got] = val;
    return 0;
}

/* The STIX id of a MISP uuid into out, or NULL when it names no part of this event. */
static const char *id_of_uuid(const ev_ctx *e, const char *uuid, char out[128])
{
    int64_t i = uuid ? tide__strmap_get(&e->uuid2id, uuid, strlen(uuid)) : -1;
    if (i < 0)
        return NULL;
    uint32_t v = e->uvals[i];
    if (v & ID_CODE) {
        int n = snprintf(out, 128, "%s--%s", id_types[v & ~ID_CODE], uuid);
        for (int k = n - (int)strlen(uuid); k < n && k < 127; k++)
            if (out[k] >= 'A' && out[k] <= 'Z')
                out[k] = (char)(out[k] - 'A' + 'a');
        return out;
    }
    snprintf(out, 128, "%s", e->ids.ptr + v);
    return out;
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
    int64_t ts = 0;
    char why[200];
    if (misp_ref && misp_time(json_object_get(misp_ref, "timestamp"), "timestamp", &ts, why,
                            sizeof(why)) < 0) {
        tide__sink_rejectf(e->m->sink, e->line, e->off, "event %s: ObjectReference %s -> %s: %s",
                e->ev_uuid, src, tgt, why);
        return 0;
    }
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

static bool attributing(const char *stype)
{
    return strcmp(stype, "threat-actor") == 0 || strcmp(stype, "malware") == 0 ||
           strcmp(stype, "tool") == 0 || strcmp(stype, "intrusion-set") == 0;
}

/* "indicates" relationships from every indicator emitted for the event so far to id (the
 * report's refs hold them as JSON text "a","b",...). */
static int event_indicators_indicate(ev_ctx *e, const char *id)
{
    /* by offsets: each relationship emitted is added to the refs, which may move them; only
     * the refs listed before the first one are read */
    size_t pos = 0, end = e->refs.len;
    while (pos < end) {
        const char *base = e->refs.ptr;
        const char *q = strstr(base + pos, "\"indicator--");
        if (q == NULL || (size_t)(q - base) >= end)
            break;
        q++;
        const char *close = memchr(q, '"', end - (size_t)(q - base));
        if (close == NULL)
            break;
        char ind[128];
        size_t n = (size_t)(close - q);
        pos = (size_t)(close - base) + 1;
        if (n < sizeof(ind)) {
            memcpy(ind, q, n);
            ind[n] = '\0';
            TIDE_CHECK(emit_relationship(e, ind, "indicates", id, NULL, e->flags));
        }
    }
    return 0;
}

/* Emit the SDOs of a Galaxy array; if from_id, also relationships from it to each; an event's
 * (no from_id) attributing clusters are indicated by each of the event's indicators. */
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
            } else if (attributing(stype)) {
                /* an event's threat actor / malware / tool / intrusion set: every indicator
                 * of the event indicates it, so searches and cases attribute MISP intel */
                TIDE_CHECK(event_indicators_indicate(e, id));
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
    int64_t t;
    char why[200];
    if (misp_time(json_object_get(s, "date_sighting"), "date_sighting", &t, why, sizeof(why)) < 0) {
        tide__sink_rejectf(e->m->sink, e->line, e->off, "event %s: %s/Sighting[%zu]: %s",
                e->ev_uuid, where, idx, why);
        return 0;
    }
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

/* Pattern for a to_ids MISP attribute into *out (caller frees), NULL when its type maps to no
 * observable or its value cannot be indexed (an internationalised domain: kept as a custom
 * object). TIDE_EPARSE with the reason in why when the value cannot be one of the type at all
 * (ip-dst 999.2.3.4, a domain with a newline, an md5 that is no hash). */
static int attribute_pattern(
        const char *type, const char *value, char **out, char *why, size_t whysz)
{
    *out = NULL;
    int part;
    tide_obs_kind k = misp_kind(type, value, &part);
    if (k == TIDE_OBS_NONE) {
        if (strcmp(type, "ip-src") == 0 || strcmp(type, "ip-dst") == 0) {
            tide__value_invalid(
                    strchr(value, ':') ? TIDE_OBS_IPV6 : TIDE_OBS_IPV4, value, why, whysz);
            return TIDE_EPARSE;
        }
        return 0;
    }
    char buf[2048];
    const char *v = value;
    if (part >= 0) {
        const char *bar = strchr(value, '|');
        if (bar == NULL)
            return 0;
        size_t n = part == 0 ? (size_t)(bar - value) : strlen(bar + 1);
        if (n >= sizeof(buf))
            return 0;
        memcpy(buf, part == 0 ? value : bar + 1, n);
        buf[n] = '\0';
        v = buf;
    } else if (k == TIDE_OBS_IP_PORT) {
        /* MISP writes "1.2.3.4|443" */
        const char *bar = strrchr(value, '|');
        size_t n = strlen(value);
        if (bar == NULL || n + 3 >= sizeof(buf))
            return 0;
        size_t hl = (size_t)(bar - value);
        int v6 = memchr(value, ':', hl) != NULL;
        snprintf(buf, sizeof(buf), "%s%.*s%s:%s", v6 ? "[" : "", (int)hl, value, v6 ? "]" : "",
                bar + 1);
        v = buf;
    }
    char *norm = NULL, *pat = NULL;
    char *refanged = NULL;
    if (tide_obs_refang(v, &refanged) < 0)
        return 0;
    if (tide__value_invalid(k, refanged, why, whysz) != NULL) {
        free(refanged);
        return TIDE_EPARSE;
    }
    if (tide_obs_normalize(k, refanged, &norm) == 0)
        tide_obs_to_pattern(k, norm, &pat);
    free(refanged);
    free(norm);
    if (pat && strcmp(type, "domain|ip") == 0) {
        /* both values: "[domain-name:value = 'd'] OR [ipv4-addr:value = 'a']" */
        char *ip = NULL, *ipat = NULL, *inorm = NULL;
        const char *bar = strchr(value, '|');
        if (bar && tide_obs_refang(bar + 1, &ip) == 0) {
            tide_obs_kind ik = tide_obs_detect(ip);
            if ((ik == TIDE_OBS_IPV4 || ik == TIDE_OBS_IPV6) &&
                    tide_obs_normalize(ik, ip, &inorm) == 0)
                tide_obs_to_pattern(ik, inorm, &ipat);
            else if (*ip) {
                snprintf(why, whysz, "'%.60s' (second part of domain|ip) is not an IP address", ip);
                free(ip);
                free(pat);
                return TIDE_EPARSE;
            }
        }
        if (ipat) {
            size_t n = strlen(pat) + strlen(ipat) + 5;
            char *both = malloc(n);
            if (both)
                snprintf(both, n, "%s OR %s", pat, ipat);
            free(pat);
            pat = both;
        }
        free(ip);
        free(inorm);
        free(ipat);
    }
    *out = pat;
    return 0;
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

    int64_t ts, fs, ls;
    char why[300];
    if (misp_time(json_object_get(a, "timestamp"), "timestamp", &ts, why, sizeof(why)) < 0 ||
            misp_time(json_object_get(a, "first_seen"), "first_seen", &fs, why, sizeof(why)) < 0 ||
            misp_time(json_object_get(a, "last_seen"), "last_seen", &ls, why, sizeof(why)) < 0) {
        tide__sink_rejectf(s, e->line, e->off, "event %s: %s (uuid %s): %s", e->ev_uuid, where,
                au ? au : "none", why);
        return 0;
    }
    bool to_ids = truthy(json_object_get(a, "to_ids"));
    char *pattern = NULL;
    if (to_ids && attribute_pattern(type, value, &pattern, why, sizeof(why)) < 0) {
        tide__sink_rejectf(s, e->line, e->off, "event %s: %s (uuid %s): to_ids %s value %s",
                e->ev_uuid, where, au ? au : "none", type, why);
        return 0;
    }
    tag_info ti;
    read_tags(a, &ti);
    const char *tlp = tlp_max(ti.tlp, parent_tags->tlp);
    int conf = ti.confidence >= 0 ? ti.confidence : parent_tags->confidence;
    char rel = ti.reliability ? ti.reliability : parent_tags->reliability;

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
    if (au && tide__uuid_valid(au) && map_uuid(e, au, out_id) < 0) {
        json_decref(o);
        return TIDE_ENOMEM;
    }
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
    int64_t ts;
    char why[200];
    if (misp_time(json_object_get(ob, "timestamp"), "timestamp", &ts, why, sizeof(why)) < 0) {
        /* its attributes are records of their own, stored above */
        tide__sink_rejectf(e->m->sink, e->line, e->off, "event %s: %s: %s", e->ev_uuid, where, why);
        goto done;
    }
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
    rc = ou && *ou ? map_uuid(e, ou, id) : 0;
    if (rc == 0)
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
    char src_key[96], src_buf[128], tgt_buf[128];
    const char *ou = json_string_value(json_object_get(ob, "uuid"));
    const char *src = id_of_uuid(e, ou, src_buf);
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(ob, "ObjectReference"), i, r)
    {
        const char *tu = json_string_value(json_object_get(r, "referenced_uuid"));
        const char *rt = json_string_value(json_object_get(r, "relationship_type"));
        const char *tgt = id_of_uuid(e, tu, tgt_buf);
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

/* ---------------------------------------------------------------- an event's big arrays */

/* A MISP event can list a million attributes in 50 MB, and its jansson DOM would take 1.6 GB.
 * So the event is parsed without its "Attribute" and "Object" arrays (their bytes are left out
 * of what jansson reads), and their elements are cut out of the bytes and parsed one at a time
 * by the splitter (json_split.c): memory is the event's bytes (capped at
 * TIDE_MAX_OBJECT_BYTES), one element, and the compact lists of the report's ids and of the
 * uuids. The bytes were validated whole first (json_fast.c, no DOM), so the verdict on a
 * broken event is what it was. */

typedef struct {
    const char *p;
    size_t n;
} span;

/* Where the streamed arrays of one event are: the item's bytes and place, and the spans of
 * its Attribute / Object arrays (n == 0: none, the DOM holds them). */
typedef struct {
    const char *item;
    long line;
    long long off;
    span attr, obj;
} ev_src;

static const char *m_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* Just after the closing quote of the string whose body starts at p, or NULL. */
static const char *m_string_end(const char *p, const char *e)
{
    while (p < e) {
        if (*p == '\\')
            p += 2;
        else if (*p == '"')
            return p + 1;
        else
            p++;
    }
    return NULL;
}

/* Just after the JSON value at p (its structure only: strings, escapes, nesting), or NULL. */
static const char *m_value_end(const char *p, const char *e)
{
    if (p >= e)
        return NULL;
    if (*p == '"')
        return m_string_end(p + 1, e);
    if (*p != '{' && *p != '[') {
        while (p < e && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' &&
                *p != '\n' && *p != '\r')
            p++;
        return p;
    }
    int depth = 0;
    while (p < e) {
        char c = *p++;
        if (c == '"') {
            if ((p = m_string_end(p, e)) == NULL)
                return NULL;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if ((c == '}' || c == ']') && --depth == 0) {
            return p;
        }
    }
    return NULL;
}

/* The value of the last top-level member named key (unescaped) of the object o, when that
 * value starts with want: jansson keeps the last of repeated keys too. */
static bool m_member(span o, const char *key, char want, span *out)
{
    const char *p = o.p, *e = o.p + o.n;
    size_t kl = strlen(key);
    bool found = false;
    if (p >= e || *p != '{')
        return false;
    for (p = m_ws(p + 1, e); p < e && *p == '"';) {
        const char *ks = p + 1, *ke = m_string_end(ks, e);
        if (ke == NULL)
            break;
        p = m_ws(ke, e);
        if (p >= e || *p != ':')
            break;
        p = m_ws(p + 1, e);
        const char *ve = m_value_end(p, e);
        if (ve == NULL)
            break;
        if ((size_t)(ke - 1 - ks) == kl && memcmp(ks, key, kl) == 0) {
            found = *p == want;
            out->p = p;
            out->n = (size_t)(ve - p);
        }
        p = m_ws(ve, e);
        if (p >= e || *p != ',')
            break;
        p = m_ws(p + 1, e);
    }
    return found;
}

/* The bytes jansson reads: the item with the cut spans as "[]". */
typedef struct {
    span seg[5];
    size_t n, i, at;
} feed;

static size_t feed_cb(void *buf, size_t len, void *data)
{
    feed *f = data;
    size_t o = 0;
    while (o < len && f->i < f->n) {
        const span *g = &f->seg[f->i];
        size_t k = g->n - f->at;
        if (k > len - o)
            k = len - o;
        memcpy((char *)buf + o, g->p + f->at, k);
        o += k;
        f->at += k;
        if (f->at == g->n) {
            f->i++;
            f->at = 0;
        }
    }
    return o;
}

/* Parse ptr/len with the spans cut[0..ncut) (disjoint, in order) read as "[]". */
static json_t *parse_without(
        const char *ptr, size_t len, const span *cut, size_t ncut, json_error_t *err)
{
    feed f;
    memset(&f, 0, sizeof(f));
    const char *p = ptr;
    for (size_t i = 0; i < ncut; i++) {
        f.seg[f.n++] = (span){ p, (size_t)(cut[i].p - p) };
        f.seg[f.n++] = (span){ "[]", 2 };
        p = cut[i].p + cut[i].n;
    }
    f.seg[f.n++] = (span){ p, (size_t)(ptr + len - p) };
    json_t *j = json_load_callback(feed_cb, &f, 0, err);
    if (j == NULL && json_error_code(err) == json_error_numeric_overflow) {
        f.i = f.at = 0;
        j = json_load_callback(feed_cb, &f, JSON_DECODE_INT_AS_REAL, err);
    }
    return j;
}

typedef int (*element_fn)(ev_ctx *e, json_t *el, size_t idx, void *arg);

typedef struct {
    ev_ctx *e;
    const char *what;
    long line;     /* line of the span's first byte */
    long long off; /* its byte offset */
    element_fn fn;
    void *arg;
} stream_ctx;

static int stream_item(void *payload, const tide__js_item *it)
{
    stream_ctx *sc = payload;
    ev_ctx *e = sc->e;
    long line = sc->line + it->line - 1;
    long long off = sc->off + it->offset;
    if (it->kind != TIDE__JS_ELEMENT) {
        if (sc->fn != NULL)
            tide__sink_rejectf(e->m->sink, line, off, "event %s: %s: %s", e->ev_uuid, sc->what,
                    it->msg ? it->msg : "bad element");
        return 0;
    }
    json_error_t err;
    json_t *el = tide__json_parse_item(it->ptr, it->len, &err);
    if (el == NULL) { /* the event was validated whole: not expected */
        tide__sink_rejectf(e->m->sink, line, off, "event %s: %s[%ld] is not valid JSON: %s",
                e->ev_uuid, sc->what, it->index, err.text);
        return 0;
    }
    long sl = e->line;
    long long so = e->off;
    e->line = line; /* what the element yields is placed at the element */
    e->off = off;
    int rc = sc->fn(e, el, (size_t)it->index, sc->arg);
    e->line = sl;
    e->off = so;
    json_decref(el);
    return rc < 0 ? rc : 0;
}

static long lines_before(const char *p, const char *at)
{
    long n = 0;
    while ((p = memchr(p, '\n', (size_t)(at - p))) != NULL) {
        n++;
        p++;
    }
    return n;
}

/* Hand every element of the array sp (bytes of src->item) to fn, one at a time. */
static int stream_span(
        ev_ctx *e, const ev_src *src, span sp, const char *what, element_fn fn, void *arg)
{
    stream_ctx sc = { e, what, src->line + lines_before(src->item, sp.p),
        src->off + (long long)(sp.p - src->item), fn, arg };
    FILE *fp = fmemopen((void *)(uintptr_t)sp.p, sp.n, "rb");
    if (fp == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    tide__js_opts o;
    memset(&o, 0, sizeof(o));
    o.on_item = stream_item;
    o.payload = &sc;
    int rc = tide__json_split(fp, what, &o);
    fclose(fp);
    return rc;
}

/* ---- the uuid of an event that has none: uuid5 of its whole text with sorted keys, as the
 * DOM would give it, made from the DOM without the arrays and each element in turn ---- */

typedef struct {
    tide_uuid5_ctx u;
    bool first;
    int rc;
} hash_ctx;

static int hash_el(ev_ctx *e, json_t *el, size_t idx, void *arg)
{
    (void)e;
    (void)idx;
    hash_ctx *h = arg;
    char *d = json_dumps(el, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (d == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    int rc = h->first ? 0 : tide__uuid5_add(&h->u, ",", 1);
    if (rc == 0)
        rc = tide__uuid5_add(&h->u, d, strlen(d));
    h->first = false;
    free(d);
    return rc;
}

static int event_uuid(ev_ctx *e, json_t *ev, const ev_src *src)
{
    char *dump = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);
    if (dump == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    span d = { dump, strlen(dump) }, cut[2];
    const span *from[2];
    size_t ncut = 0;
    /* sorted keys: "Attribute" comes before "Object" */
    if (src && src->attr.n && m_member(d, "Attribute", '[', &cut[ncut]))
        from[ncut++] = &src->attr;
    if (src && src->obj.n && m_member(d, "Object", '[', &cut[ncut]))
        from[ncut++] = &src->obj;
    hash_ctx h;
    int rc = tide__uuid5_begin(&h.u, TIDE_UUID_NS);
    const char *p = dump;
    for (size_t i = 0; rc == 0 && i < ncut; i++) {
        rc = tide__uuid5_add(&h.u, p, (size_t)(cut[i].p - p));
        if (rc == 0)
            rc = tide__uuid5_add(&h.u, "[", 1);
        h.first = true;
        if (rc == 0)
            rc = stream_span(e, src, *from[i], "event", hash_el, &h);
        if (rc == 0)
            rc = tide__uuid5_add(&h.u, "]", 1);
        p = cut[i].p + cut[i].n;
    }
    if (rc == 0)
        rc = tide__uuid5_add(&h.u, p, strlen(p));
    if (rc == 0)
        rc = tide__uuid5_end(&h.u, e->ev_uuid);
    else
        tide__uuid5_abort(&h.u);
    free(dump);
    return rc;
}

static int attribute_el(ev_ctx *e, json_t *a, size_t i, void *arg)
{
    char w[64], id[128];
    snprintf(w, sizeof(w), "Attribute[%zu]", i);
    return do_attribute(e, a, w, arg, id);
}

/* Objects: converted now; their uuid and ObjectReference kept (in the array arg, at their
 * index) for the relationships, made once every object is known. */
typedef struct {
    const tag_info *tags;
    json_t *pending;
} object_arg;

static int object_el(ev_ctx *e, json_t *ob, size_t i, void *arg)
{
    object_arg *oa = arg;
    TIDE_CHECK(do_object(e, ob, i, oa->tags));
    json_t *keep = json_is_object(ob) ? json_object() : json_null();
    if (keep == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    if (json_is_object(ob)) {
        json_t *u = json_object_get(ob, "uuid"), *r = json_object_get(ob, "ObjectReference");
        if ((u && json_object_set(keep, "uuid", u) != 0) ||
                (r && json_object_set(keep, "ObjectReference", r) != 0)) {
            json_decref(keep);
            return tide_error_set(TIDE_ENOMEM, "out of memory");
        }
    }
    while (json_array_size(oa->pending) < i)
        json_array_append_new(oa->pending, json_null());
    if (json_array_append_new(oa->pending, keep) != 0)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    return 0;
}

/* The report: its members as a DOM, then object_refs from the compact list, then x_misp_event,
 * as one text (the same bytes a dump of the whole DOM gives, without a DOM of a million ids). */
static int emit_report(ev_ctx *e, json_t *ev, const tag_info *et, int64_t date, int64_t pub)
{
    json_t *r = new_sdo(e, "report", e->ev_uuid, e->created, e->modified);
    if (r == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    const char *info = json_string_value(json_object_get(ev, "info"));
    if (info && *info)
        json_object_set_new(r, "name", json_string(info));
    else {
        char nm[80];
        snprintf(nm, sizeof(nm), "MISP event %s", e->ev_uuid);
        json_object_set_new(r, "name", json_string(nm));
    }
    json_object_set_new(r, "report_types", json_pack("[s]", "threat-report"));
    if (date)
        pub = date;
    set_time(r, "published", pub ? pub : e->created);
    if (json_array_size(et->labels))
        json_object_set(r, "labels", et->labels);
    if (et->confidence >= 0)
        json_object_set_new(r, "confidence", json_integer(et->confidence));
    apply_marking(r, et->tlp);
    json_t *copy = json_copy(ev);
    json_object_del(copy, "Attribute");
    json_object_del(copy, "Object");
    tide__free(e->ref_hash); /* every id is listed: the set is done with */
    tide__free(e->ref_off);
    e->ref_hash = NULL;
    e->ref_off = NULL;
    e->ref_cap = 0;
    char *head = json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER);
    char *tail = copy ? json_dumps(copy, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(r);
    json_decref(copy);
    tide_buf t = TIDE_BUF_INIT;
    int rc = head && tail ? 0 : TIDE_ENOMEM;
    if (rc == 0)
        rc = tide__buf_put(&t, head, strlen(head) - 1); /* without its '}' */
    if (rc == 0 && e->nrefs) {
        rc = tide__buf_puts(&t, ",\"object_refs\":[");
        if (rc == 0)
            rc = tide__buf_put(&t, e->refs.ptr, e->refs.len);
        if (rc == 0)
            rc = tide__buf_putc(&t, ']');
    }
    tide__buf_free(&e->refs); /* the list is in t now */
    if (rc == 0)
        rc = tide__buf_printf(&t, ",\"x_misp_event\":%s}", tail);
    free(head);
    free(tail);
    if (rc < 0) {
        tide__buf_free(&t);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    tide_sink *s = e->m->sink;
    if (s->emit_members != NULL && !(e->flags & TIDE_EMIT_DERIVED)) {
        /* the members straight from the text: no DOM of the ids */
        tide__members mm;
        tide__arena a = TIDE__ARENA_INIT;
        json_error_t err;
        if (tide__json_parse_members(t.ptr, t.len, &mm, &a, &err) < 0) {
            rc = tide_error_set(TIDE_ERROR, "event %s: the report tide made is not JSON: %s",
                    e->ev_uuid, err.text);
        } else {
            s->line = e->line;
            s->offset = e->off;
            rc = s->emit_members(s, &mm, t.ptr, t.len);
            if (rc < 0)
                e->m->fatal = rc;
        }
        tide__arena_free(&a);
    } else {
        /* a derived report needs its DOM (the store compares its content without times) */
        json_error_t err;
        json_t *o = json_loadb(t.ptr, t.len, JSON_DECODE_INT_AS_REAL, &err);
        if (o == NULL)
            o = json_loadb(t.ptr, t.len, 0, &err);
        rc = o ? emit(e, o, e->flags) : tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    tide__buf_free(&t);
    return rc;
}

/* ---------------------------------------------------------------- events */

static int convert_event(misp_ctx *m, json_t *ev, long line, long long off, const ev_src *src)
{
    ev_ctx e;
    memset(&e, 0, sizeof(e));
    e.m = m;
    e.ev = ev;
    e.line = line;
    e.off = off;
    int rc = 0;
    tag_info et = { NULL, -1, 0, NULL };
    json_t *pending = NULL;
    const char *u = json_string_value(json_object_get(ev, "uuid"));
    if (tide__uuid_valid(u)) {
        memcpy(e.ev_uuid, u, 37);
        tide__str_lower(e.ev_uuid);
    } else if ((rc = event_uuid(&e, ev, src)) < 0) {
        goto done;
    }
    int64_t ts, date, pub;
    char why[200];
    if (misp_time(json_object_get(ev, "timestamp"), "timestamp", &ts, why, sizeof(why)) < 0 ||
            misp_time(json_object_get(ev, "date"), "date", &date, why, sizeof(why)) < 0 ||
            misp_time(json_object_get(ev, "publish_timestamp"), "publish_timestamp", &pub, why,
                    sizeof(why)) < 0) {
        /* the event's own time is wrong: none of its parts can be dated */
        tide__sink_rejectf(
                m->sink, line, off, "event %s: %s (the event is not read)", e.ev_uuid, why);
        goto done;
    }
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
    read_tags(ev, &et);
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(ev, "Attribute"), i, a)
    {
        char w[64], id[128];
        snprintf(w, sizeof(w), "Attribute[%zu]", i);
        if ((rc = do_attribute(&e, a, w, &et, id)) < 0)
            goto done;
    }
    if (src && src->attr.n &&
            (rc = stream_span(&e, src, src->attr, "Attribute", attribute_el, &et)) < 0)
        goto done;
    json_t *objs = json_object_get(ev, "Object");
    json_array_foreach(objs, i, a) if ((rc = do_object(&e, a, i, &et)) < 0) goto done;
    json_array_foreach(objs, i,
            a) if (json_is_object(a) && (rc = do_object_references(&e, a, i)) < 0) goto done;
    if (src && src->obj.n) {
        object_arg oa = { &et, pending = json_array() };
        if (pending == NULL) {
            rc = tide_error_set(TIDE_ENOMEM, "out of memory");
            goto done;
        }
        if ((rc = stream_span(&e, src, src->obj, "Object", object_el, &oa)) < 0)
            goto done;
        json_array_foreach(pending, i,
                a) if (json_is_object(a) && (rc = do_object_references(&e, a, i)) < 0) goto done;
    }
    if ((rc = do_galaxies(&e, json_object_get(ev, "Galaxy"), NULL, 0, "event")) < 0)
        goto done;
    /* event-level sightings name their attribute by uuid */
    json_array_foreach(json_object_get(ev, "Sighting"), i, a)
    {
        const char *au = json_string_value(json_object_get(a, "attribute_uuid"));
        char of[128];
        if (id_of_uuid(&e, au, of) == NULL) {
            tide__sink_rejectf(m->sink, line, off,
                    "event %s: Sighting[%zu]: attribute_uuid %s is not an attribute of this "
                    "event",
                    e.ev_uuid, i, au ? au : "(none)");
            continue;
        }
        if ((rc = do_sighting(&e, a, of, i, "event")) < 0)
            goto done;
    }
    rc = emit_report(&e, ev, &et, date, pub);
    if (rc >= 0) {
        m->events++;
        rc = 0;
    }
done:
    json_decref(et.labels);
    json_decref(pending);
    tide__buf_free(&e.refs);
    tide__free(e.ref_hash);
    tide__free(e.ref_off);
    tide__strmap_free(&e.uuid2id);
    tide__free(e.uvals);
    tide__buf_free(&e.ids);
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
    json_t *j = NULL;
    ev_src src = { it->ptr, it->line, it->offset, { NULL, 0 }, { NULL, 0 } };
    if (it->ptr[0] == '{') {
        /* validated whole without a DOM, then parsed without the big arrays (see above) */
        tide__members mm;
        tide__arena ar = TIDE__ARENA_INIT;
        int ok = tide__json_parse_members(it->ptr, it->len, &mm, &ar, &err) == 0;
        tide__arena_free(&ar);
        if (ok) {
            span item = { it->ptr, it->len }, evs = item, cut[2];
            size_t ncut = 0;
            if (!m_member(item, "Event", '{', &evs))
                evs = item;
            if (m_member(evs, "Attribute", '[', &src.attr))
                cut[ncut++] = src.attr;
            if (m_member(evs, "Object", '[', &src.obj)) {
                if (ncut && src.obj.p < cut[0].p) {
                    cut[1] = cut[0];
                    cut[0] = src.obj;
                } else {
                    cut[ncut] = src.obj;
                }
                ncut++;
            }
            j = parse_without(it->ptr, it->len, cut, ncut, &err);
            if (j == NULL)
                return tide_error_set(TIDE_ENOMEM, "%s: out of memory parsing an event", file);
        }
    } else {
        j = tide__json_parse_item(it->ptr, it->len, &err);
    }
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
        /* the spans were cut where the event is: at the DOM's "Event", else the item, and only
         * while the DOM's array there is the empty one read in their place */
        if (json_array_size(json_object_get(ev, "Attribute")) != 0)
            src.attr.n = 0;
        if (json_array_size(json_object_get(ev, "Object")) != 0)
            src.obj.n = 0;
        rc = convert_event(m, ev, it->line, it->offset, &src);
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
