/*
 * test_read_stix.c - the streaming STIX 2.1 reader (read_stix.c + json_split.c) on the real
 * OASIS / ATT&CK data and on hand-made bad input: what it emits must equal a whole-file jansson
 * parse, object for object and byte for byte.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "harness.h"
#include "ingest/json_split.h"
#include "ingest/sink.h"
#include "tide/errors.h"
#include "util/util.h"

/* ---- a sink that collects ---- */
typedef struct {
    json_t *objs;     /* emitted objects (copies) */
    json_t *raws;     /* their raw bytes, as JSON strings */
    json_t *offs;     /* [line, offset] of the raw, found by searching the input */
    json_t *rejects;  /* [line, offset, reason] */
    int fail_emit_at; /* emit returns TIDE_ESTORE on this call (1-based); 0 never */
} collect;

static int c_emit(tide_sink *s, json_t *obj, const char *raw, size_t rawlen, unsigned flags)
{
    collect *c = s->payload;
    (void)flags;
    if (c->fail_emit_at && (int)json_array_size(c->objs) + 1 == c->fail_emit_at)
        return TIDE_ESTORE;
    json_array_append_new(c->objs, json_deep_copy(obj));
    json_array_append_new(c->raws, raw ? json_stringn_nocheck(raw, rawlen) : json_null());
    json_array_append_new(c->offs, json_pack("[I,I]", (json_int_t)s->line, (json_int_t)s->offset));
    return 0;
}

/* The members sink (the ingest core's path: no DOM). It keeps a jansson parse of the raw bytes
 * so every check below runs unchanged, and fails when the members it was given differ from
 * those of that DOM. The "members::" tests run the whole table again with it. */
static int g_members;

static int c_emit_members(tide_sink *s, const tide__members *m, const char *raw, size_t rawlen)
{
    static tide__arena a = TIDE__ARENA_INIT;
    json_error_t err;
    json_t *obj = tide__json_parse_item(raw, rawlen, &err);
    TIDE_ASSERT(obj != NULL);
    tide__members dom;
    tide__arena_reset(&a);
    TIDE_ASSERT_EQ_INT(tide__members_from_json(obj, &dom, &a), 0);
    char why[300];
    const char *d = tide__members_diff(m, &dom, why, sizeof(why));
    if (d != NULL)
        TIDE_FAIL_("members differ from the DOM's: %s", d);
    int rc = c_emit(s, obj, raw, rawlen, 0);
    json_decref(obj);
    return rc;
}

static void c_reject(tide_sink *s, long line, long long offset, const char *reason)
{
    collect *c = s->payload;
    json_array_append_new(
            c->rejects, json_pack("[I,I,s]", (json_int_t)line, (json_int_t)offset, reason));
}

static void c_init(collect *c, tide_sink *s, tide_ingest_opts *o, const char *file)
{
    memset(c, 0, sizeof(*c));
    memset(o, 0, sizeof(*o));
    o->confidence = -1;
    c->objs = json_array();
    c->raws = json_array();
    c->offs = json_array();
    c->rejects = json_array();
    memset(s, 0, sizeof(*s));
    s->emit = c_emit;
    s->emit_members = g_members ? c_emit_members : NULL;
    s->reject = c_reject;
    s->file = file;
    s->opts = o;
    s->payload = c;
}

static void c_free(collect *c)
{
    json_decref(c->objs);
    json_decref(c->raws);
    json_decref(c->offs);
    json_decref(c->rejects);
}

static const char *reject_reason(collect *c, size_t i)
{
    return json_string_value(json_array_get(json_array_get(c->rejects, i), 2));
}
static long long reject_off(collect *c, size_t i)
{
    return json_integer_value(json_array_get(json_array_get(c->rejects, i), 1));
}
static long long reject_line(collect *c, size_t i)
{
    return json_integer_value(json_array_get(json_array_get(c->rejects, i), 0));
}

static int read_mem(collect *c, tide_sink *s, const char *data, size_t n)
{
    FILE *fp = fmemopen((void *)data, n, "rb");
    TIDE_ASSERT(fp != NULL);
    int rc = tide__read_stix(s, fp);
    fclose(fp);
    (void)c;
    return rc;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)sz + 1);
    if (fread(b, 1, (size_t)sz, f) != (size_t)sz) {
        free(b);
        fclose(f);
        return NULL;
    }
    b[sz] = 0;
    fclose(f);
    *n = (size_t)sz;
    return b;
}

/* The objects a whole-file parse finds: bundle objects, the array, or the single object. */
static json_t *expected_objects(const char *path)
{
    json_error_t err;
    json_t *j = json_load_file(path, 0, &err);
    if (j == NULL)
        return NULL;
    json_t *out;
    if (json_is_array(j))
        out = json_incref(j);
    else if (json_is_array(json_object_get(j, "objects")))
        out = json_incref(json_object_get(j, "objects"));
    else {
        out = json_array();
        json_array_append(out, j);
    }
    json_decref(j);
    return out;
}

/* Read path with the reader and compare to the whole-file parse. Returns objects checked. */
static size_t check_file(const char *path)
{
    collect c;
    tide_sink s;
    tide_ingest_opts o;
    c_init(&c, &s, &o, path);
    FILE *fp = fopen(path, "rb");
    TIDE_ASSERT(fp != NULL);
    int rc = tide__read_stix(&s, fp);
    fclose(fp);
    if (rc != 0)
        TIDE_FAIL_("%s: rc %d: %s", path, rc, tide_error_last());
    if (json_array_size(c.rejects) != 0)
        TIDE_FAIL_("%s: unexpected reject: %s", path, reject_reason(&c, 0));
    json_t *exp = expected_objects(path);
    TIDE_ASSERT(exp != NULL);
    if (json_array_size(exp) != json_array_size(c.objs))
        TIDE_FAIL_("%s: %zu objects expected, %zu emitted", path, json_array_size(exp),
                json_array_size(c.objs));
    for (size_t i = 0; i < json_array_size(exp); i++) {
        json_t *e = json_array_get(exp, i);
        TIDE_ASSERT(json_equal(e, json_array_get(c.objs, i)));
        /* the raw slice is the object, byte for byte as in the file */
        json_t *rs = json_array_get(c.raws, i);
        TIDE_ASSERT(json_is_string(rs));
        json_error_t err;
        json_t *again = json_loadb(json_string_value(rs), json_string_length(rs), 0, &err);
        TIDE_ASSERT(again != NULL);
        TIDE_ASSERT(json_equal(again, e));
        json_decref(again);
        const char *r = json_string_value(rs);
        TIDE_ASSERT(r[0] == '{' && r[json_string_length(rs) - 1] == '}');
    }
    size_t n = json_array_size(exp);
    json_decref(exp);
    c_free(&c);
    return n;
}

static void walk(const char *dir, size_t *files, size_t *objects)
{
    DIR *d = opendir(dir);
    TIDE_ASSERT(d != NULL);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char p[4096];
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (strcmp(e->d_name, "schemas") != 0)
                walk(p, files, objects);
        } else if (strlen(e->d_name) > 5 &&
                   strcmp(e->d_name + strlen(e->d_name) - 5, ".json") == 0) {
            *objects += check_file(p);
            (*files)++;
        }
    }
    closedir(d);
}

static void t_stix21_examples(void)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/stix21", tide_test_data());
    size_t files = 0, objects = 0;
    walk(dir, &files, &objects);
    TIDE_ASSERT(files >= 50);
    TIDE_ASSERT(objects >= 300);
}

static void t_stix21_small_chunks(void)
{
    /* the same data read 7 and 1 bytes at a time: every chunk boundary case */
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/stix21", tide_test_data());
    size_t files = 0, objects = 0;
    tide__ingest_set_read_chunk(7);
    walk(dir, &files, &objects);
    tide__ingest_set_read_chunk(1);
    char p[4096];
    snprintf(p, sizeof(p), "%s/stix21/cti-stix2-json-schemas/examples/threat-reports/apt1.json",
            tide_test_data());
    size_t n = check_file(p);
    tide__ingest_set_read_chunk(0);
    TIDE_ASSERT_EQ_INT(n, 76);
    TIDE_ASSERT(files >= 50);
}

static void t_attack_bundles(void)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s/attack/ics-attack-18.1.json", tide_test_data());
    TIDE_ASSERT_EQ_INT(check_file(p), 1826);
    snprintf(p, sizeof(p), "%s/attack/mobile-attack-17.1.json", tide_test_data());
    TIDE_ASSERT_EQ_INT(check_file(p), 2148);
}

static void t_attack_bounded_memory(void)
{
    /* with a 64 KiB read chunk, the largest ATT&CK object fits and nothing is rejected; the
     * splitter's buffer never holds the 4 MB file (cap = largest object) */
    char p[4096];
    snprintf(p, sizeof(p), "%s/attack/mobile-attack-17.1.json", tide_test_data());
    tide__ingest_set_read_chunk(65536);
    tide__ingest_set_max_object(1000000);
    size_t n = check_file(p);
    tide__ingest_set_max_object(0);
    tide__ingest_set_read_chunk(0);
    TIDE_ASSERT_EQ_INT(n, 2148);
}

static void t_truncated(void)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s/stix21/cti-stix2-json-schemas/examples/threat-reports/apt1.json",
            tide_test_data());
    size_t n;
    char *data = slurp(p, &n);
    TIDE_ASSERT(data != NULL);
    /* where each object ends in the full file */
    collect full;
    tide_sink s;
    tide_ingest_opts o;
    c_init(&full, &s, &o, "apt1");
    TIDE_ASSERT_EQ_INT(read_mem(&full, &s, data, n), 0);
    size_t nobj = json_array_size(full.raws);
    TIDE_ASSERT_EQ_INT(nobj, 76);
    size_t *ends = calloc(nobj, sizeof(size_t));
    const char *from = data;
    for (size_t i = 0; i < nobj; i++) {
        json_t *r = json_array_get(full.raws, i);
        const char *at = strstr(from, json_string_value(r));
        TIDE_ASSERT(at != NULL);
        ends[i] = (size_t)(at - data) + json_string_length(r);
        from = at + 1;
    }
    size_t cuts[] = { 200, n / 10, n / 3, n / 2, (2 * n) / 3, n - 5, n - 2, ends[10],
        ends[10] - 1 };
    for (size_t k = 0; k < sizeof(cuts) / sizeof(cuts[0]); k++) {
        collect c;
        c_init(&c, &s, &o, "apt1-cut");
        TIDE_ASSERT_EQ_INT(read_mem(&c, &s, data, cuts[k]), 0);
        size_t expect = 0;
        while (expect < nobj && ends[expect] <= cuts[k])
            expect++;
        if (json_array_size(c.objs) != expect)
            TIDE_FAIL_("cut at %zu: %zu emitted, %zu expected", cuts[k], json_array_size(c.objs),
                    expect);
        for (size_t i = 0; i < expect; i++)
            TIDE_ASSERT(json_equal(json_array_get(c.objs, i), json_array_get(full.objs, i)));
        if (json_array_size(c.rejects) != 1)
            TIDE_FAIL_("cut at %zu of %zu: %zu rejects", cuts[k], n, json_array_size(c.rejects));
        TIDE_ASSERT(strstr(reject_reason(&c, 0), "unexpected end of input") != NULL);
        TIDE_ASSERT(reject_off(&c, 0) >= 0 && reject_off(&c, 0) <= (long long)cuts[k]);
        TIDE_ASSERT(reject_line(&c, 0) >= 1);
        c_free(&c);
    }
    free(ends);
    c_free(&full);
    free(data);
}

static void t_not_json(void)
{
    static const char garbage[] = "\x7f"
                                  "ELF\x02\x01\x01\x00\x00garbage";
    const char *texts[] = { "hello world\n", "1.2.3.4\nexample.com\n", "", "   \n\t " };
    collect c;
    tide_sink s;
    tide_ingest_opts o;
    c_init(&c, &s, &o, "garbage");
    int rc = read_mem(&c, &s, garbage, sizeof(garbage) - 1);
    TIDE_ASSERT(rc == TIDE_EFORMAT || rc == TIDE_EPARSE);
    TIDE_ASSERT(strstr(tide_error_last(), "offset 0") != NULL);
    TIDE_ASSERT_EQ_INT(json_array_size(c.objs), 0);
    for (size_t i = 0; i < 4; i++) {
        rc = read_mem(&c, &s, texts[i], strlen(texts[i]));
        TIDE_ASSERT(rc == TIDE_EFORMAT || rc == TIDE_EPARSE);
    }
    /* a '{' followed by junk: the single-object file cannot be read */
    const char *junk = "{ this is not json }";
    rc = read_mem(&c, &s, junk, strlen(junk));
    TIDE_ASSERT(rc == TIDE_EPARSE || (rc == 0 && json_array_size(c.rejects) > 0));
    TIDE_ASSERT_EQ_INT(json_array_size(c.objs), 0);
    c_free(&c);
}

#define IND(u)                                                                                     \
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--" u "\","                \
    "\"created\":\"2020-01-01T00:00:00Z\",\"modified\":\"2020-01-01T00:00:00Z\","                  \
    "\"pattern\":\"[ipv4-addr:value = '1.2.3.4']\",\"pattern_type\":\"stix\","                     \
    "\"valid_from\":\"2020-01-01T00:00:00Z\"}"
#define U1 "11111111-1111-4111-8111-111111111111"
#define U2 "22222222-2222-4222-8222-222222222222"
#define U3 "33333333-3333-4333-8333-333333333333"

static void t_too_big(void)
{
    char big[4096];
    snprintf(big, sizeof(big),
            "{\"type\":\"bundle\",\"id\":\"bundle--" U1
            "\",\"objects\":[" IND(U1) ",\n{\"type\":\"note\",\"id\":\"note--" U2
                                       "\",\"content\":\"%0900d\"},\n" IND(U3) "]}",
            0);
    tide__ingest_set_max_object(400);
    size_t chunks[] = { 0, 16, 1 };
    for (size_t k = 0; k < 3; k++) {
        tide__ingest_set_read_chunk(chunks[k]);
        collect c;
        tide_sink s;
        tide_ingest_opts o;
        c_init(&c, &s, &o, "big");
        TIDE_ASSERT_EQ_INT(read_mem(&c, &s, big, strlen(big)), 0);
        TIDE_ASSERT_EQ_INT(json_array_size(c.objs), 2);
        TIDE_ASSERT_EQ_STR(json_string_value(json_object_get(json_array_get(c.objs, 1), "id")),
                "indicator--" U3);
        TIDE_ASSERT_EQ_INT(json_array_size(c.rejects), 1);
        TIDE_ASSERT(strstr(reject_reason(&c, 0), "cap") != NULL);
        TIDE_ASSERT_EQ_INT(reject_off(&c, 0), strstr(big, "{\"type\":\"note\"") - big);
        TIDE_ASSERT_EQ_INT(reject_line(&c, 0), 2);
        c_free(&c);
    }
    tide__ingest_set_read_chunk(0);
    tide__ingest_set_max_object(0);
}

static void t_tricky_strings(void)
{
    /* "objects" before "type", odd whitespace, brackets / quotes / escapes in strings */
    const char *b =
            "\xEF\xBB\xBF \r\n\t{ \"objects\" :\n[\n\t"
            "{ \"type\" : \"note\" , \"id\":\"note--" U1 "\", \"content\": \"a ] } [ { \\\" "
            "\\\\\" , \"abstract\": \"\\\\\", \"x\": [ [ ], { } , \"}\" ] }\r\n ,"
            "{\"id\":\"note--" U2 "\",\"type\":\"note\",\"content\":\"\\u005d\\u007d\\\"]\"}"
            "\n] , \"id\": \"bundle--" U3 "\", \"spec_version\": \"2.1\", \"type\": \"bundle\", "
            "\"x_extra\": {\"objects\": [1,2]} }\n\n";
    size_t chunks[] = { 0, 3, 1 };
    for (size_t k = 0; k < 3; k++) {
        tide__ingest_set_read_chunk(chunks[k]);
        collect c;
        tide_sink s;
        tide_ingest_opts o;
        c_init(&c, &s, &o, "tricky");
        TIDE_ASSERT_EQ_INT(read_mem(&c, &s, b, strlen(b)), 0);
        TIDE_ASSERT_EQ_INT(json_array_size(c.rejects), 0);
        TIDE_ASSERT_EQ_INT(json_array_size(c.objs), 2);
        TIDE_ASSERT_EQ_STR(json_string_value(json_object_get(json_array_get(c.objs, 0), "content")),
                "a ] } [ { \" \\");
        TIDE_ASSERT_EQ_STR(
                json_string_value(json_object_get(json_array_get(c.objs, 1), "content")), "]}\"]");
        const char *raw0 = json_string_value(json_array_get(c.raws, 0));
        TIDE_ASSERT(strncmp(raw0, "{ \"type\" : \"note\"", 17) == 0);
        TIDE_ASSERT(raw0[strlen(raw0) - 1] == '}');
        TIDE_ASSERT(strstr(b, raw0) != NULL);
        c_free(&c);
    }
    tide__ingest_set_read_chunk(0);
}

static void t_empty_and_forms(void)
{
    collect c;
    tide_sink s;
    tide_ingest_opts o;
    c_init(&c, &s, &o, "forms");
    const char *empty = "{\"type\": \"bundle\", \"id\": \"bundle--" U1 "\", \"objects\": []}";
    TIDE_ASSERT_EQ_INT(read_mem(&c, &s, empty, strlen(empty)), 0);
    const char *noobjs = "{\"type\": \"bundle\", \"id\": \"bundle--" U1 "\"}";
    TIDE_ASSERT_EQ_INT(read_mem(&c, &s, noobjs, strlen(noobjs)), 0);
    TIDE_ASSERT_EQ_INT(read_mem(&c, &s, "[]", 2), 0);
    TIDE_ASSERT_EQ_INT(json_array_size(c.objs), 0);
    TIDE_ASSERT_EQ_INT(json_array_size(c.rejects), 0);
    /* a single object; a top-level array */
    const char *one = "  " IND(U1) "\n";
    TIDE_ASSERT_EQ_INT(read_mem(&c, &s, one, strlen(one)), 0);
    TIDE_ASSERT_EQ_INT(json_array_size(c.objs), 1);
    TIDE_ASSERT_EQ_STR(json_string_value(json_array_get(c.raws, 0)), IND(U1));
    const char *arr = "[" IND(U2) ",\n " IND(U3) "]";
    TIDE_ASSERT_EQ_INT(read_mem(&c, &s, arr, strlen(arr)), 0);
    TIDE_ASSERT_EQ_INT(json_array_size(c.objs), 3);
    TIDE_ASSERT_EQ_STR(json_string_value(json_array_get(c.raws, 2)), IND(U3));
    TIDE_ASSERT_EQ_INT(json_array_size(c.rejects), 0);
    c_free(&c);
}

static void t_bad_objects(void)
{
    const char *b = "{\"type\":\"bundle\",\"id\":\"bundle--" U1 "\",\"objects\":[\n" IND(
            U1) ",\n" /* line 2: ok */
                "{\"type\":\"indicator\",\"id\":\"indicator--" U2 "\",\"x\":tru},\n" /* 3 */
                "42,\n"                                                              /* 4 */
                "{\"type\":\"note\"},\n"                                             /* 5 */
                "{\"type\":\"note\",\"id\":\"indicator--" U2 "\"},\n"                /* 6 */
                "{\"type\":\"note\",\"id\":\"note--xyz\"},\n"                        /* 7 */
                "{\"type\":\"note\",\"id\":\"note--" U2 "\",\"c\":\"\xff\xfe\"},\n"  /* 8 */
                "{\"type\":\"note\",\"id\":\"note--" U3
                "\",\"n\":123456789012345678901234567890},\n" IND(U3) "\n]}";
    collect c;
    tide_sink s;
    tide_ingest_opts o;
    c_init(&c, &s, &o, "bad");
    TIDE_ASSERT_EQ_INT(read_mem(&c, &s, b, strlen(b)), 0);
    /* ok: line 2, the big-number note (line 9) and the last indicator */
    TIDE_ASSERT_EQ_INT(json_array_size(c.objs), 3);
    /* the sink is told where each emitted record starts */
    TIDE_ASSERT_EQ_INT(json_integer_value(json_array_get(json_array_get(c.offs, 0), 0)), 2);
    TIDE_ASSERT_EQ_INT(json_integer_value(json_array_get(json_array_get(c.offs, 0), 1)),
            strchr(b, '\n') + 1 - b);
    TIDE_ASSERT_EQ_INT(json_integer_value(json_array_get(json_array_get(c.offs, 1), 0)), 9);
    TIDE_ASSERT_EQ_STR(
            json_string_value(json_object_get(json_array_get(c.objs, 1), "id")), "note--" U3);
    for (size_t i = 0; i < json_array_size(c.rejects); i++)
        fprintf(stderr, "    reject %lld/%lld: %s\n", reject_line(&c, i), reject_off(&c, i),
                reject_reason(&c, i));
    TIDE_ASSERT_EQ_INT(json_array_size(c.rejects), 6);
    long lines[] = { 3, 4, 5, 6, 7, 8 };
    for (size_t i = 0; i < 6; i++)
        TIDE_ASSERT_EQ_INT(reject_line(&c, i), lines[i]);
    TIDE_ASSERT(strstr(reject_reason(&c, 1), "not a JSON object") != NULL);
    TIDE_ASSERT(strstr(reject_reason(&c, 2), "\"id\"") != NULL);
    TIDE_ASSERT(strstr(reject_reason(&c, 3), "form") != NULL);
    /* offsets point at the element start */
    TIDE_ASSERT_EQ_INT(reject_off(&c, 1), strstr(b, "42,") - b);
    TIDE_ASSERT_EQ_INT(reject_off(&c, 3), strstr(b, "{\"type\":\"note\",\"id\":\"indicator") - b);
    c_free(&c);
}

/* tide__uuid_valid_n (16 bytes at a time where SSE2 is) against the definition: dashes at
 * 8, 13, 18 and 23, hex digits elsewhere; every byte value at every position of a valid
 * UUID, and wrong lengths. */
static void t_uuid_every_byte(void)
{
    const char *good = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
    char u[40];
    for (int pos = 0; pos < 36; pos++) {
        for (int v = 0; v < 256; v++) {
            memcpy(u, good, 37);
            u[pos] = (char)v;
            bool want = true;
            for (int i = 0; i < 36; i++) {
                unsigned char c = (unsigned char)u[i];
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;
                bool hex =
                        (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
                if (dash ? c != '-' : !hex)
                    want = false;
            }
            if (tide__uuid_valid_n(u, 36) != want) {
                fprintf(stderr, "  byte %d at %d: want %d\n", v, pos, want);
                TIDE_ASSERT(0);
            }
        }
    }
    TIDE_ASSERT(!tide__uuid_valid_n(good, 35));
    TIDE_ASSERT(!tide__uuid_valid_n(NULL, 36));
    TIDE_ASSERT(tide__uuid_valid_n(good, 36));
}

/* The id check keeps tide__uuid_valid_n's verdict (read_stix.c has it inlined). */
static void t_uuid_forms(void)
{
    static const char *tails[] = {
        "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "8E2E2D2B-17D4-4CBF-938F-98EE46B3CD3F",
        "8e2E2d2B-17d4-4cbf-938f-98ee46b3cd3F",
        "00000000-0000-0000-0000-000000000000",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
        "8e2e2d2g-17d4-4cbf-938f-98ee46b3cd3f",
        "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3G",
        "8e2e2d2b017d4-4cbf-938f-98ee46b3cd3f",
        "8e2e2d2b-17d4-4cbf-938f_98ee46b3cd3f",
        "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd-f",
        "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3 ",
        "-8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3",
        "8e2e2d2b-17d4-4cbf-938f-98ee46b3c\xc3\xa9",
        "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3:",
        "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3@",
        "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3`",
        "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3/",
        "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3F",
    };
    size_t nt = sizeof(tails) / sizeof(tails[0]);
    char b[8192];
    size_t o = (size_t)snprintf(b, sizeof(b), "[");
    for (size_t i = 0; i < nt; i++)
        o += (size_t)snprintf(b + o, sizeof(b) - o, "%s{\"type\":\"note\",\"id\":\"note--%s\"}",
                i ? ",\n" : "", tails[i]);
    o += (size_t)snprintf(b + o, sizeof(b) - o, "]");
    collect c;
    tide_sink s;
    tide_ingest_opts opts;
    c_init(&c, &s, &opts, "uuids");
    TIDE_ASSERT_EQ_INT(read_mem(&c, &s, b, o), 0);
    size_t emitted = 0, rejected = 0;
    for (size_t i = 0; i < nt; i++) {
        const char *tail = tails[i]; /* no JSON escapes in them: the bytes are the value */
        int ok = tide__uuid_valid_n(tail, strlen(tail));
        if (ok) {
            char id[80];
            snprintf(id, sizeof(id), "note--%s", tail);
            TIDE_ASSERT_EQ_STR(
                    json_string_value(json_object_get(json_array_get(c.objs, emitted), "id")), id);
            emitted++;
        } else {
            TIDE_ASSERT_EQ_INT(reject_line(&c, rejected), (long long)i + 1);
            TIDE_ASSERT(strstr(reject_reason(&c, rejected), "is not of the form") != NULL);
            rejected++;
        }
    }
    TIDE_ASSERT_EQ_INT(json_array_size(c.objs), emitted);
    TIDE_ASSERT_EQ_INT(json_array_size(c.rejects), rejected);
    TIDE_ASSERT(emitted >= 5 && rejected >= 10);
    c_free(&c);
}

static void t_emit_failure_stops(void)
{
    const char *arr = "[" IND(U1) "," IND(U2) "," IND(U3) "]";
    collect c;
    tide_sink s;
    tide_ingest_opts o;
    c_init(&c, &s, &o, "fail");
    c.fail_emit_at = 2;
    TIDE_ASSERT_EQ_INT(read_mem(&c, &s, arr, strlen(arr)), TIDE_ESTORE);
    TIDE_ASSERT_EQ_INT(json_array_size(c.objs), 1);
    c_free(&c);
}

static void t_syntax_between_elements(void)
{
    const char *b = "[" IND(U1) " x " IND(U2) "]";
    collect c;
    tide_sink s;
    tide_ingest_opts o;
    c_init(&c, &s, &o, "syntax");
    TIDE_ASSERT_EQ_INT(read_mem(&c, &s, b, strlen(b)), 0);
    TIDE_ASSERT_EQ_INT(json_array_size(c.objs), 1);
    TIDE_ASSERT_EQ_INT(json_array_size(c.rejects), 1);
    TIDE_ASSERT(strstr(reject_reason(&c, 0), "expected ','") != NULL);
    TIDE_ASSERT_EQ_INT(reject_off(&c, 0), strlen("[" IND(U1) " "));
    c_free(&c);
}

static void t_detect(void)
{
    const char *d = tide_test_data();
    struct {
        const char *rel;
        tide_feed_format fmt;
    } cases[] = {
        { "stix21/cti-stix2-json-schemas/examples/threat-reports/apt1.json", TIDE_FMT_STIX },
        { "attack/ics-attack-18.1.json", TIDE_FMT_STIX },
        { "stix21/cti-python-stix2/stix2/test/v21/stix2_data/identity/"
          "identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5/"
          "20170601000000000000.json",
                TIDE_FMT_STIX },
        { "misp/pymisp/tests/57c4445b-c548-4654-af0b-4be3950d210f.json", TIDE_FMT_MISP },
        { "misp/pymisp/tests/reportlab_testfiles/galaxy_1.json", TIDE_FMT_MISP },
        { "misp/pymisp/tests/mispevent_testfiles/malware_exist.json", TIDE_FMT_MISP },
        { "misp/pymisp/tests/misp_event.json", TIDE_FMT_MISP },
        { "iocs/maltrail/malware/emotet.txt", TIDE_FMT_LIST },
        { "iocs/ipsum/ipsum.txt", TIDE_FMT_LIST },
        { "iocs/firehol/feodo.ipset", TIDE_FMT_LIST },
        { "iocs/firehol/firehol_level1.netset", TIDE_FMT_LIST },
        { "iocs/threatfox/threatfox_ips.txt", TIDE_FMT_LIST },
        { "misp/pymisp/tests/csv_testfiles/valid_fieldnames.csv", TIDE_FMT_CSV },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char p[4096];
        snprintf(p, sizeof(p), "%s/%s", d, cases[i].rel);
        FILE *f = fopen(p, "rb");
        if (f == NULL)
            TIDE_FAIL_("cannot open %s", p);
        char head[4096];
        size_t n = fread(head, 1, sizeof(head), f);
        fclose(f);
        tide_feed_format got = tide__detect_format(head, n, p);
        if (got != cases[i].fmt)
            TIDE_FAIL_("%s: detected %d, expected %d", cases[i].rel, got, cases[i].fmt);
    }
    const char *csv = "# comment\nioc,ioc_type,malware,confidence\n1.2.3.4,ip,x,50\n";
    TIDE_ASSERT_EQ_INT(tide__detect_format(csv, strlen(csv), "feed.txt"), TIDE_FMT_CSV);
    const char *list = "# comment\n1.2.3.4\nevil.com,\n";
    TIDE_ASSERT_EQ_INT(tide__detect_format(list, strlen(list), "feed.txt"), TIDE_FMT_LIST);
}

#define MEMBERS(t)                                                                                 \
    static void t##_m(void)                                                                        \
    {                                                                                              \
        g_members = 1;                                                                             \
        t();                                                                                       \
        g_members = 0;                                                                             \
    }
MEMBERS(t_stix21_examples)
MEMBERS(t_stix21_small_chunks)
MEMBERS(t_attack_bundles)
MEMBERS(t_truncated)
MEMBERS(t_not_json)
MEMBERS(t_too_big)
MEMBERS(t_tricky_strings)
MEMBERS(t_empty_and_forms)
MEMBERS(t_bad_objects)
MEMBERS(t_emit_failure_stops)
MEMBERS(t_uuid_forms)
MEMBERS(t_syntax_between_elements)

TIDE_TESTS = {
    { "read_stix::stix21_examples", t_stix21_examples },
    { "read_stix::stix21_small_chunks", t_stix21_small_chunks },
    { "read_stix::attack_bundles", t_attack_bundles },
    { "read_stix::attack_bounded_memory", t_attack_bounded_memory },
    { "read_stix::truncated", t_truncated },
    { "read_stix::not_json", t_not_json },
    { "read_stix::too_big", t_too_big },
    { "read_stix::tricky_strings", t_tricky_strings },
    { "read_stix::empty_and_forms", t_empty_and_forms },
    { "read_stix::bad_objects", t_bad_objects },
    { "read_stix::emit_failure_stops", t_emit_failure_stops },
    { "read_stix::uuid_forms", t_uuid_forms },
    { "read_stix::uuid_every_byte", t_uuid_every_byte },
    { "read_stix::syntax_between_elements", t_syntax_between_elements },
    { "read_stix::members::stix21_examples", t_stix21_examples_m },
    { "read_stix::members::stix21_small_chunks", t_stix21_small_chunks_m },
    { "read_stix::members::attack_bundles", t_attack_bundles_m },
    { "read_stix::members::truncated", t_truncated_m },
    { "read_stix::members::not_json", t_not_json_m },
    { "read_stix::members::too_big", t_too_big_m },
    { "read_stix::members::tricky_strings", t_tricky_strings_m },
    { "read_stix::members::empty_and_forms", t_empty_and_forms_m },
    { "read_stix::members::bad_objects", t_bad_objects_m },
    { "read_stix::members::emit_failure_stops", t_emit_failure_stops_m },
    { "read_stix::members::uuid_forms", t_uuid_forms_m },
    { "read_stix::members::syntax_between_elements", t_syntax_between_elements_m },
    { "detect::real_files", t_detect },
    { NULL, NULL },
};
TIDE_TEST_MAIN
