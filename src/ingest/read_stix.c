/*
 * read_stix.c - the STIX 2.1 reader: a bundle (streamed with json_split.c, one object in memory
 * at a time), a single STIX object, or a top-level JSON array of objects.
 *
 * Each object is parsed alone (json_fast.c: jansson's verdict, several times faster than jansson
 * itself) and handed to the sink together with its exact bytes, so the store keeps it byte for
 * byte: as its decoded members (stix_members.h, no DOM) when the sink takes them (the ingest
 * core), else as a jansson object. The only checks here are structural (valid JSON
 * object, string "type" and "id", id = "<type>--<uuid>"); the ingest core interprets objects.
 */
#include <stdbool.h>
#include <string.h>

#include "ingest/json_fast.h"
#include "ingest/json_split.h"
#include "ingest/sink.h"
#include "util/util.h"

typedef struct {
    tide_sink *sink;
    int whole_failed;  /* rc for a single-object file that is not valid JSON */
    tide__arena arena; /* the current object's decoded members */
    tide__members pre; /* an element's members, from parse_element */
} stix_ctx;

/* NULL when the object is a structurally valid STIX object, else the reason. Its strings have
 * no NUL inside (the parser refuses \u0000), so strlen is their JSON length. */
static const char *check_object(const tide__members *m, char *why, size_t whysz)
{
    if (m->type == NULL)
        return "no string \"type\" property";
    if (m->id == NULL)
        return "no string \"id\" property";
    const char *ts = m->type, *ids = m->id;
    size_t tl = strlen(ts), il = strlen(ids);
    if (tl == 0 || tl > 250)
        return "\"type\" is empty or too long";
    if (il != tl + 2 + 36 || memcmp(ids, ts, tl) != 0 || ids[tl] != '-' || ids[tl + 1] != '-' ||
            !tide__uuid_valid_n(ids + tl + 2, 36)) {
        snprintf(why, whysz, "id \"%.80s\" is not of the form \"%.80s--<uuid>\"", ids, ts);
        return why;
    }
    return NULL;
}

static int handle(stix_ctx *c, const tide__js_item *it)
{
    tide_sink *s = c->sink;
    switch (it->kind) {
        case TIDE__JS_TOOBIG:
        case TIDE__JS_TRUNCATED:
        case TIDE__JS_SYNTAX:
        case TIDE__JS_SKIPPED: tide__sink_rejectf(s, it->line, it->offset, "%s", it->msg); return 0;
        case TIDE__JS_ELEMENT:
        case TIDE__JS_WHOLE: break;
    }
    if (it->kind == TIDE__JS_ELEMENT && it->ptr[0] != '{') {
        tide__sink_rejectf(s, it->line, it->offset,
                "object %ld: not a JSON object (starts with '%c')", it->index,
                it->ptr[0] >= 0x20 && it->ptr[0] < 0x7f ? it->ptr[0] : '?');
        return 0;
    }
    /* A sink that takes members gets them straight from the bytes (no DOM); a DOM sink gets
     * the whole object, and the checks below read the same members from it. */
    json_error_t err;
    tide__members m;
    json_t *obj = NULL;
    int ok;
    if (it->parsed) {
        m = c->pre; /* parse_element's, for exactly these bytes */
        ok = 1;
    } else if (s->emit_members) {
        tide__arena_reset(&c->arena);
        ok = tide__json_parse_members(it->ptr, it->len, &m, &c->arena, &err) == 0;
    } else {
        tide__arena_reset(&c->arena);
        obj = tide__json_parse_fast(it->ptr, it->len, TIDE__JF_FULL, &err);
        ok = obj != NULL;
    }
    if (!ok) { /* rare: ask jansson again, for its usual error message */
        obj = tide__json_parse_item(it->ptr, it->len, &err);
        if (obj == NULL) {
            long line = it->line + (err.line > 0 ? err.line - 1 : 0);
            long long off = it->offset + (err.position > 0 ? err.position : 0);
            if (it->kind == TIDE__JS_WHOLE) {
                c->whole_failed =
                        tide_error_set(TIDE_EPARSE, "%s: line %ld, offset %lld: not valid JSON: %s",
                                s->file ? s->file : "input", line, off, err.text);
                return 0;
            }
            tide__sink_rejectf(s, line, off, "object %ld (at offset %lld) is not valid JSON: %s",
                    it->index, it->offset, err.text);
            return 0;
        }
    }
    char why[200];
    const char *bad = NULL;
    if (obj != NULL) {
        if (!json_is_object(obj)) {
            bad = "not a JSON object";
        } else if (tide__members_from_json(obj, &m, &c->arena) < 0) {
            json_decref(obj);
            return tide_error_set(TIDE_ENOMEM, "out of memory");
        }
    }
    if (bad == NULL)
        bad = check_object(&m, why, sizeof(why));
    if (bad == NULL && strcmp(m.type, "bundle") == 0) {
        if (it->kind == TIDE__JS_WHOLE) {
            /* a bundle without an objects array: empty unless "objects" is something else */
            if (m.objects == TIDE__OBJECTS_OTHER)
                tide__sink_rejectf(s, it->line, it->offset, "bundle \"objects\" is not an array");
            json_decref(obj);
            return 0;
        }
        bad = "a bundle nested inside a bundle";
    }
    if (bad) {
        if (it->kind == TIDE__JS_WHOLE)
            tide__sink_rejectf(s, it->line, it->offset, "not a STIX object: %s", bad);
        else
            tide__sink_rejectf(s, it->line, it->offset, "object %ld: %s", it->index, bad);
        json_decref(obj);
        return 0;
    }
    s->line = it->line;
    s->offset = it->offset;
    int rc = s->emit_members ? s->emit_members(s, &m, it->ptr, it->len)
                             : s->emit(s, obj, it->ptr, it->len, 0);
    json_decref(obj);
    return rc < 0 ? rc : 0;
}

/* json_split's parse_element: members straight from the read buffer, which saves the
 * splitter's scan of every valid element. */
static int parse_element(void *payload, const char *ptr, size_t avail, size_t *len)
{
    stix_ctx *c = payload;
    tide__arena_reset(&c->arena);
    return tide__json_parse_members_prefix(ptr, avail, &c->pre, &c->arena, len) == 0;
}

static int on_item(void *payload, const tide__js_item *it)
{
    return handle(payload, it);
}

int tide__read_stix(tide_sink *sink, FILE *fp)
{
    if (sink == NULL || fp == NULL)
        return tide_error_set(TIDE_EINVAL, "tide__read_stix: NULL argument");
    stix_ctx c;
    memset(&c, 0, sizeof(c));
    c.sink = sink;
    tide__js_opts o;
    memset(&o, 0, sizeof(o));
    o.array_key = "objects";
    o.container_type = "bundle";
    o.on_item = on_item;
    if (sink->emit_members)
        o.parse_element = parse_element;
    o.payload = &c;
    int rc = tide__json_split(fp, sink->file ? sink->file : "input", &o);
    tide__arena_free(&c.arena);
    if (rc < 0)
        return rc;
    if (c.whole_failed < 0)
        return c.whole_failed;
    if (o.streamed && o.container_type_seen[0] && strcmp(o.container_type_seen, "bundle") != 0)
        tide__sink_rejectf(sink, 1, 0,
                "top-level object has an \"objects\" array but type \"%s\", not \"bundle\" "
                "(its elements were read as STIX objects)",
                o.container_type_seen);
    return 0;
}
