/*
 * read_stix.c - the STIX 2.1 reader: a bundle (streamed with json_split.c, one object in memory
 * at a time), a single STIX object, or a top-level JSON array of objects.
 *
 * Each object is parsed alone (json_fast.c: jansson's verdict and values, several times faster
 * than jansson itself) and handed to the sink together with its exact bytes, so the store keeps
 * it byte for byte. The only checks here are structural (valid JSON
 * object, string "type" and "id", id = "<type>--<uuid>"); the ingest core interprets objects.
 */
#include <string.h>

#include "ingest/json_fast.h"
#include "ingest/json_split.h"
#include "ingest/sink.h"
#include "util/util.h"

typedef struct {
    tide_sink *sink;
    int whole_failed; /* rc for a single-object file that is not valid JSON */
} stix_ctx;


/* NULL when obj is a structurally valid STIX object, else the reason. */
static const char *check_object(json_t *obj, char *why, size_t whysz)
{
    if (!json_is_object(obj))
        return "not a JSON object";
    json_t *t = json_object_get(obj, "type"), *id = json_object_get(obj, "id");
    if (!json_is_string(t))
        return "no string \"type\" property";
    if (!json_is_string(id))
        return "no string \"id\" property";
    const char *ts = json_string_value(t), *ids = json_string_value(id);
    size_t tl = json_string_length(t), il = json_string_length(id);
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
        tide__sink_rejectf(s, it->line, it->offset, "%s", it->msg);
        return 0;
    case TIDE__JS_ELEMENT:
    case TIDE__JS_WHOLE:
        break;
    }
    if (it->kind == TIDE__JS_ELEMENT && it->ptr[0] != '{') {
        tide__sink_rejectf(s, it->line, it->offset, "object %ld: not a JSON object (starts with '%c')",
                it->index, it->ptr[0] >= 0x20 && it->ptr[0] < 0x7f ? it->ptr[0] : '?');
        return 0;
    }
    json_error_t err;
    json_t *obj = tide__json_parse_fast(it->ptr, it->len, TIDE__JF_FULL, &err);
    if (obj == NULL) /* rare: ask jansson again, for its usual error message */
        obj = tide__json_parse_item(it->ptr, it->len, &err);
    if (obj == NULL) {
        long line = it->line + (err.line > 0 ? err.line - 1 : 0);
        long long off = it->offset + (err.position > 0 ? err.position : 0);
        if (it->kind == TIDE__JS_WHOLE) {
            c->whole_failed = tide_error_set(TIDE_EPARSE, "%s: line %ld, offset %lld: not valid JSON: %s",
                    s->file ? s->file : "input", line, off, err.text);
            return 0;
        }
        tide__sink_rejectf(s, line, off, "object %ld (at offset %lld) is not valid JSON: %s",
                it->index, it->offset, err.text);
        return 0;
    }
    char why[200];
    const char *bad = check_object(obj, why, sizeof(why));
    const char *type = json_string_value(json_object_get(obj, "type"));
    if (bad == NULL && type && strcmp(type, "bundle") == 0) {
        if (it->kind == TIDE__JS_WHOLE) {
            /* a bundle without an objects array: empty unless "objects" is something else */
            json_t *objs = json_object_get(obj, "objects");
            if (objs != NULL && !json_is_array(objs))
                tide__sink_rejectf(s, it->line, it->offset,
                        "bundle \"objects\" is not an array");
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
    int rc = s->emit(s, obj, it->ptr, it->len, 0);
    json_decref(obj);
    return rc < 0 ? rc : 0;
}

static int on_item(void *payload, const tide__js_item *it)
{
    return handle(payload, it);
}

int tide__read_stix(tide_sink *sink, FILE *fp)
{
    if (sink == NULL || fp == NULL)
        return tide_error_set(TIDE_EINVAL, "tide__read_stix: NULL argument");
    stix_ctx c = {sink, 0};
    tide__js_opts o;
    memset(&o, 0, sizeof(o));
    o.array_key = "objects";
    o.container_type = "bundle";
    o.on_item = on_item;
    o.payload = &c;
    int rc = tide__json_split(fp, sink->file ? sink->file : "input", &o);
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
