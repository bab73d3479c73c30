/*
 * test_json_fast.c - the fast top-level JSON object parser (json_fast.c) against jansson:
 * every object of the real STIX 2.1 and ATT&CK data, a table of tricky valid / invalid inputs,
 * and seeded random mutations of real objects must get jansson's verdict, and the members it
 * builds must equal jansson's parse (restricted to the flat members, or whole in full mode).
 * `TIDE_JSON_FAST_BENCH=<bundle.json> test_json_fast -s json_fast::bench` prints MB/s of both
 * parsers over the objects of a bundle (a measurement, never a timed assertion).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "harness.h"
#include "ingest/json_fast.h"
#include "ingest/json_split.h"

/* ---- the reference: jansson, restricted to the flat members ---- */

static int is_scalar(json_t *v)
{
    return json_is_string(v) || json_is_number(v) || json_is_boolean(v) || json_is_null(v);
}

static int is_flat_member(json_t *v)
{
    if (is_scalar(v))
        return 1;
    if (!json_is_array(v))
        return 0;
    size_t i, nstr = 0, nobj = 0;
    json_t *x;
    json_array_foreach(v, i, x)
    {
        if (json_is_string(x)) {
            nstr++;
        } else if (json_is_object(x)) {
            const char *k;
            json_t *m;
            json_object_foreach(x, k, m)
            {
                if (!is_scalar(m))
                    return 0;
            }
            nobj++;
        } else {
            return 0;
        }
    }
    return nstr == 0 || nobj == 0;
}

static json_t *restrict_flat(json_t *full)
{
    json_t *out = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(full, k, v)
    {
        if (is_flat_member(v))
            json_object_set(out, k, v);
    }
    return out;
}

static void show(const char *what, const char *ptr, size_t len)
{
    fprintf(stderr, "  %s (%zu bytes): ", what, len);
    for (size_t i = 0; i < len && i < 300; i++) {
        unsigned char c = (unsigned char)ptr[i];
        if (c >= 0x20 && c < 0x7f)
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02x", c);
    }
    fputc('\n', stderr);
}

static long g_checked, g_accepted;
static tide__arena g_arena_raw = TIDE__ARENA_INIT, g_arena_dom = TIDE__ARENA_INIT,
                   g_arena_pre = TIDE__ARENA_INIT;

/* Members mode against the DOM: the same verdict and error as the full parse, and, for a valid
 * object, the same members as tide__members_from_json of the DOM, field by field. */
static void check_members(
        const char *ptr, size_t len, const char *what, json_t *full, const json_error_t *efull)
{
    json_error_t em;
    tide__members raw, dom;
    tide__arena_reset(&g_arena_raw);
    tide__arena_reset(&g_arena_dom);
    int rc = tide__json_parse_members(ptr, len, &raw, &g_arena_raw, &em);
    if ((rc == 0) != (full != NULL)) {
        show(what, ptr, len);
        TIDE_FAIL_("%s: members mode %s, full mode %s", what, rc == 0 ? "accepts" : "rejects",
                full ? "accepts" : "rejects");
    }
    if (full == NULL) {
        if (strcmp(em.text, efull->text) != 0 || em.line != efull->line ||
                em.column != efull->column || em.position != efull->position ||
                json_error_code(&em) != json_error_code(efull)) {
            show(what, ptr, len);
            TIDE_FAIL_("%s: members mode error %d:%d@%d %s, full mode %d:%d@%d %s", what, em.line,
                    em.column, em.position, em.text, efull->line, efull->column, efull->position,
                    efull->text);
        }
        return;
    }
    TIDE_ASSERT_EQ_INT(em.position, efull->position);
    TIDE_ASSERT_EQ_INT(tide__members_from_json(full, &dom, &g_arena_dom), 0);
    char why[300];
    const char *d = tide__members_diff(&raw, &dom, why, sizeof(why));
    if (d != NULL) {
        show(what, ptr, len);
        TIDE_FAIL_("%s: members from the bytes differ from the DOM's: %s", what, d);
    }
}

/* Prefix mode (the splitter's parse_element): it accepts a valid object whatever follows, with
 * the length and members of exactly that object; anything else is refused. */
static void check_prefix(const char *ptr, size_t len, const char *what, int valid)
{
    static const char *const tails[] = { "", " ,{\"x\":", "]}", "\xff\x00", "}}}", "\n\"a\":1" };
    for (size_t t = 0; t < sizeof(tails) / sizeof(tails[0]); t++) {
        size_t tl = strlen(tails[t]) + (t == 3);
        char *b = malloc(len + tl + 1);
        memcpy(b, ptr, len);
        memcpy(b + len, tails[t], tl);
        tide__members pm, exact;
        size_t used = 0;
        tide__arena_reset(&g_arena_pre);
        int rc = tide__json_parse_members_prefix(b, len + tl, &pm, &g_arena_pre, &used);
        if (valid && rc != 0) {
            show(what, b, len + tl);
            TIDE_FAIL_("%s + tail %zu: prefix mode refuses a valid object", what, t);
        }
        if (rc == 0) {
            TIDE_ASSERT(used >= 2 && used <= len + tl && b[used - 1] == '}');
            /* blanks after the object of a valid input, nothing else */
            if (valid)
                for (size_t i = used; i < len; i++)
                    TIDE_ASSERT(b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t');
            tide__arena_reset(&g_arena_raw);
            if (tide__json_parse_members(b, used, &exact, &g_arena_raw, NULL) != 0) {
                show(what, b, len + tl);
                TIDE_FAIL_("%s + tail %zu: prefix mode accepts %zu bytes that are not an object",
                        what, t, used);
            }
            char why[300];
            const char *d = tide__members_diff(&pm, &exact, why, sizeof(why));
            if (d != NULL)
                TIDE_FAIL_("%s + tail %zu: prefix mode members differ: %s", what, t, d);
        }
        free(b);
    }
}

/* Parse ptr/len with jansson and with both modes of the fast parser; fail on any difference.
 * Returns 1 when the input is a valid JSON object. */
static int check_one(const char *ptr, size_t len, const char *what)
{
    json_error_t e1, e2, e3;
    json_t *ref = tide__json_parse_item(ptr, len, &e1);
    int ref_ok = ref != NULL && json_is_object(ref);
    json_t *top = tide__json_parse_toplevel(ptr, len, &e2);
    json_t *full = tide__json_parse_fast(ptr, len, TIDE__JF_FULL, &e3);
    g_checked++;
    check_members(ptr, len, what, full, &e3);
    check_prefix(ptr, len, what, full != NULL);
    if ((top != NULL) != ref_ok || (full != NULL) != ref_ok) {
        show(what, ptr, len);
        TIDE_FAIL_("%s: verdicts differ: jansson %s (%s), fast %s (%s), full %s", what,
                ref_ok ? "accepts" : "rejects", ref ? "" : e1.text, top ? "accepts" : "rejects",
                top ? "" : e2.text, full ? "accepts" : "rejects");
    }
    if (ref_ok) {
        g_accepted++;
        json_t *exp = restrict_flat(ref);
        if (!json_equal(exp, top)) {
            show(what, ptr, len);
            char *a = json_dumps(exp, JSON_COMPACT | JSON_SORT_KEYS);
            char *b = json_dumps(top, JSON_COMPACT | JSON_SORT_KEYS);
            fprintf(stderr, "  expected %.400s\n  got      %.400s\n", a, b);
            free(a);
            free(b);
            TIDE_FAIL_("%s: flat members differ from jansson's", what);
        }
        if (!json_equal(ref, full)) {
            show(what, ptr, len);
            TIDE_FAIL_("%s: full mode differs from jansson's parse", what);
        }
        /* every top-level scalar member is there, with jansson's value */
        const char *k;
        json_t *v;
        json_object_foreach(ref, k, v)
        {
            if (is_scalar(v) && !json_equal(v, json_object_get(top, k)))
                TIDE_FAIL_("%s: scalar member \"%s\" missing or different", what, k);
        }
        json_decref(exp);
    } else {
        /* the error names a place and a reason */
        TIDE_ASSERT(e2.text[0] != '\0');
        TIDE_ASSERT(e2.line >= 1 && e2.position >= 0 && (size_t)e2.position <= len);
        TIDE_ASSERT(json_error_code(&e2) == json_error_code(&e3));
    }
    json_decref(ref);
    json_decref(top);
    json_decref(full);
    return ref_ok;
}

/* ---- the objects of real files, as exact byte ranges (cut by json_split.c) ---- */

typedef struct {
    char **ptr;
    size_t *len;
    size_t n, cap;
    size_t bytes;
} objlist;

static int collect_item(void *payload, const tide__js_item *it)
{
    objlist *l = payload;
    if (it->kind != TIDE__JS_ELEMENT && it->kind != TIDE__JS_WHOLE)
        return 0;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->ptr = realloc(l->ptr, l->cap * sizeof(*l->ptr));
        l->len = realloc(l->len, l->cap * sizeof(*l->len));
    }
    l->ptr[l->n] = malloc(it->len ? it->len : 1);
    memcpy(l->ptr[l->n], it->ptr, it->len);
    l->len[l->n] = it->len;
    l->bytes += it->len;
    l->n++;
    return 0;
}

static void collect_file(objlist *l, const char *path)
{
    FILE *fp = fopen(path, "rb");
    TIDE_ASSERT(fp != NULL);
    tide__js_opts o;
    memset(&o, 0, sizeof(o));
    o.array_key = "objects";
    o.container_type = "bundle";
    o.on_item = collect_item;
    o.payload = l;
    int rc = tide__json_split(fp, path, &o);
    fclose(fp);
    TIDE_ASSERT_EQ_INT(rc, 0);
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static void collect_dir(objlist *l, const char *dir, size_t *nfiles)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.' || strcmp(ent->d_name, "schemas") == 0)
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, ent->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            collect_dir(l, path, nfiles);
        } else if (ends_with(ent->d_name, ".json")) {
            collect_file(l, path);
            (*nfiles)++;
        }
    }
    closedir(d);
}

static void objlist_free(objlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->ptr[i]);
    free(l->ptr);
    free(l->len);
    memset(l, 0, sizeof(*l));
}

static objlist g_real;

static void load_real(void)
{
    if (g_real.n)
        return;
    const char *data = tide_test_data();
    char dir[1024];
    size_t nfiles = 0;
    snprintf(dir, sizeof(dir), "%s/stix21", data);
    collect_dir(&g_real, dir, &nfiles);
    snprintf(dir, sizeof(dir), "%s/attack", data);
    collect_dir(&g_real, dir, &nfiles);
    TIDE_ASSERT(nfiles >= 50);
    TIDE_ASSERT(g_real.n >= 1000);
}

static void t_real_data(void)
{
    load_real();
    long acc0 = g_accepted;
    size_t with_kc = 0, with_nested = 0, m_kc = 0, m_refs = 0, m_conf = 0;
    for (size_t i = 0; i < g_real.n; i++) {
        char what[64];
        snprintf(what, sizeof(what), "real object %zu", i);
        TIDE_ASSERT(check_one(g_real.ptr[i], g_real.len[i], what));
        /* the members the ingest core reads are kept */
        json_t *top = tide__json_parse_toplevel(g_real.ptr[i], g_real.len[i], NULL);
        json_t *kc = json_object_get(top, "kill_chain_phases");
        if (kc) {
            TIDE_ASSERT(json_is_array(kc));
            TIDE_ASSERT(json_is_string(json_object_get(json_array_get(kc, 0), "phase_name")));
            with_kc++;
        }
        json_t *ref = tide__json_parse_item(g_real.ptr[i], g_real.len[i], NULL);
        if (json_object_size(ref) > json_object_size(top))
            with_nested++;
        /* members mode decodes what the core reads (check_one compared it with the DOM's) */
        tide__members m;
        tide__arena_reset(&g_arena_raw);
        TIDE_ASSERT_EQ_INT(
                tide__json_parse_members(g_real.ptr[i], g_real.len[i], &m, &g_arena_raw, NULL), 0);
        TIDE_ASSERT(m.id != NULL && m.type != NULL);
        TIDE_ASSERT_EQ_STR(m.id, json_string_value(json_object_get(ref, "id")));
        m_kc += m.n_kill_chain_phases > 0 && m.kill_chain_phases[0].phase_name != NULL;
        m_refs += m.object_refs.n + m.object_marking_refs.n;
        m_conf += m.confidence_is_int;
        json_decref(ref);
        json_decref(top);
    }
    fprintf(stderr,
            "  %zu real objects (%zu bytes), %zu with kill_chain_phases, %zu with "
            "members left out\n",
            g_real.n, g_real.bytes, with_kc, with_nested);
    TIDE_ASSERT_EQ_INT(g_accepted - acc0, (long)g_real.n);
    /* the data has both kinds, so both paths were exercised */
    TIDE_ASSERT(with_kc > 100);
    TIDE_ASSERT(with_nested > 10);
    fprintf(stderr, "  members mode: %zu with a phase_name, %zu refs, %zu integer confidences\n",
            m_kc, m_refs, m_conf);
    TIDE_ASSERT_EQ_INT(m_kc, with_kc);
    TIDE_ASSERT(m_refs > 1000); /* the data has no confidence: the tricky inputs cover it */
}

/* ---- tricky inputs ---- */

typedef struct {
    const char *text;
    size_t len; /* 0: strlen */
    int valid;  /* what jansson says (checked too) */
} tricky;

#define T(s, v)                                                                                    \
    {                                                                                              \
        s, sizeof(s) - 1, v                                                                        \
    }

static const tricky k_tricky[] = {
    T("{}", 1),
    T(" \t\r\n{ \n}\n ", 1),
    T("{\"a\":-0}", 1),
    T("{\"a\":-0.0e+0}", 1),
    T("{\"a\":1.5e-10}", 1),
    T("{\"a\":1E5,\"b\":2e-5,\"c\":0.5}", 1),
    T("{\"a\":1e-400}", 1),
    T("{\"a\":1e400}", 0),
    T("{\"a\":-1e400}", 0),
    T("{\"a\":01}", 0),
    T("{\"a\":-01}", 0),
    T("{\"a\":00}", 0),
    T("{\"a\":1.}", 0),
    T("{\"a\":.5}", 0),
    T("{\"a\":-}", 0),
    T("{\"a\":+1}", 0),
    T("{\"a\":1e}", 0),
    T("{\"a\":1e+}", 0),
    T("{\"a\":1.e5}", 0),
    T("{\"a\":0x10}", 0),
    T("{\"a\":NaN}", 0),
    T("{\"a\":Infinity}", 0),
    T("{\"a\":-Infinity}", 0),
    T("{\"a\":9223372036854775807,\"b\":-9223372036854775808}", 1),
    T("{\"a\":9223372036854775808}", 1),
    T("{\"a\":-9223372036854775809,\"c\":5}", 1),
    T("{\"a\":123456789012345678901234567890,\"confidence\":7}", 1),
    T("{\"a\":{\"b\":[123456789012345678901234567890]},\"confidence\":7}", 1),
    T("{\"a\":true,\"b\":false,\"c\":null}", 1),
    T("{\"a\":tru}", 0),
    T("{\"a\":truex}", 0),
    T("{\"a\":True}", 0),
    T("{\"a\":nul}", 0),
    T("{\"a\":\"\\u00e9\\n\\t\\\"\\\\\\/\\b\\f\\r\"}", 1),
    T("{\"a\":\"\\ud83d\\ude00\",\"b\":\"\\uD83D\\uDE00\"}", 1),
    T("{\"a\":\"\\x\"}", 0),
    T("{\"a\":\"\\'\"}", 0),
    T("{\"a\":\"\\u12\"}", 0),
    T("{\"a\":\"\\u12g4\"}", 0),
    T("{\"a\":\"\\ud800\"}", 0),
    T("{\"a\":\"\\udc00\"}", 0),
    T("{\"a\":\"\\ud800\\u0041\"}", 0),
    T("{\"a\":\"\\ud800\\ud800\"}", 0),
    T("{\"a\":\"\\ud800x\"}", 0),
    T("{\"a\":\"\\u0000\"}", 0),
    T("{\"\\u0000\":1}", 0),
    T("{\"a\":[\"x\\u0000\"]}", 0),
    T("{\"a\":{\"b\":\"\\u0000\"}}", 0),
    T("{\"a\":\"\\u0001\\u001f\\u007f\"}", 1),
    T("{\"a\":\"x\x01y\"}", 0),
    T("{\"a\":\"x\ny\"}", 0),
    T("{\"a\":\"x\ty\"}", 0),
    T("{\"a\":\"x\x7fy\"}", 1),
    T("{\"a\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}", 1),
    T("{\"a\":\"\xc0\xaf\"}", 0),
    T("{\"a\":\"\xc1\xbf\"}", 0),
    T("{\"a\":\"\xe0\x80\xaf\"}", 0),
    T("{\"a\":\"\xed\xa0\x80\"}", 0),
    T("{\"a\":\"\xef\xbf\xbf\"}", 1),
    T("{\"a\":\"\xf4\x8f\xbf\xbf\"}", 1),
    T("{\"a\":\"\xf4\x90\x80\x80\"}", 0),
    T("{\"a\":\"\xf0\x80\x80\x80\"}", 0),
    T("{\"a\":\"\xf5\x80\x80\x80\"}", 0),
    T("{\"a\":\"\xff\"}", 0),
    T("{\"a\":\"\x80\"}", 0),
    T("{\"a\":\"\xc3\"}", 0),
    T("{\"a\":\"\xe2\x82\"}", 0),
    T("{\"a\":{\"b\":\"\xff\"}}", 0),
    T("{\"a\":[{\"b\":[\"\xc3(\"]}]}", 0),
    T("{\"\xc3\xa9\":1}", 1),
    T("{\xc3\xa9:1}", 0),
    T("{\"a\":1,}", 0),
    T("{,}", 0),
    T("{\"a\":1,,\"b\":2}", 0),
    T("{\"a\" 1}", 0),
    T("{\"a\"::1}", 0),
    T("{\"a\":}", 0),
    T("{\"a\"}", 0),
    T("{a:1}", 0),
    T("{'a':1}", 0),
    T("{\"a\":[1,2,]}", 0),
    T("{\"a\":[,1]}", 0),
    T("{\"a\":[1 2]}", 0),
    T("{\"a\":[\"x\"}", 0),
    T("{\"a\":{\"b\":1]}", 0),
    T("{\"a\":\"x\"", 0),
    T("{\"a\":\"x", 0),
    T("{\"a\":", 0),
    T("{", 0),
    T("", 0),
    T("   ", 0),
    T("}", 0),
    T("{/*c*/}", 0),
    T("{}//c", 0),
    T("{\"a\":1}x", 0),
    T("{\"a\":1}{}", 0),
    T("{\"a\":1} \n", 1),
    T("{\"a\":1}\0", 0),
    T("\0{}", 0),
    T("{\"a\":1\0}", 1),
    T("{\"a\":true\0,\"b\":2}", 1),
    T("{\"a\":[null\0]}", 1),
    T("{\"a\":1.5e3\0}", 1),
    T("{\"a\":1\0\0}", 0),
    T("{\"a\":\"x\"\0}", 0),
    T("{\"a\":{}\0}", 0),
    T("{\"a\":\0 1}", 0),
    T("\xef\xbb\xbf{}", 0),
    /* duplicate keys: the last value wins, also when it is not a flat one */
    T("{\"a\":1,\"a\":\"x\"}", 1),
    T("{\"a\":\"x\",\"a\":{\"b\":1}}", 1),
    T("{\"a\":{\"b\":1},\"a\":\"x\"}", 1),
    T("{\"a\":[\"x\"],\"a\":[1]}", 1),
    /* which arrays are kept */
    T("{\"s\":[],\"t\":[\"a\",\"b\"],\"u\":[\"a\",1],\"v\":[1,2],\"w\":[{}],\"x\":[[]]}", 1),
    T("{\"k\":[{\"kill_chain_name\":\"m\",\"phase_name\":\"p\"},{\"n\":1,\"b\":true,\"z\":null}]}",
            1),
    T("{\"k\":[{\"a\":\"x\"},\"s\"],\"l\":[\"s\",{\"a\":\"x\"}],\"m\":[{\"a\":[\"x\"]}]}", 1),
    T("{\"k\":[{\"a\":{\"b\":1}},{\"c\":1}],\"n\":[{\"a\":1},{\"b\":{}}]}", 1),
    /* found by fuzzing: a duplicate key turns a nested member back into a scalar */
    T("{\"k\":[{\"h\":\"\",\"\":[\"a\"],\"\":\"\"}],\"l\":[{\"x\":{},\"x\":1},{\"y\":[]}]}", 1),
    T("{\"o\":{\"a\":[{\"b\":[1,{\"c\":\"d\"}]}]},\"p\":\"q\"}", 1),
    T("{\"\":\"empty key\",\"a\\\"b\":\"esc key\",\"\\u00e9\":1}", 1),
    /* the members the ingest core reads (members mode against the DOM, field by field) */
    T("{\"type\":\"indicator\",\"id\":\"indicator--1\",\"\\u0069d\":\"x\\u00e9\\n\","
      "\"typ\\u0065\":\"a\\\"b\"}",
            1),
    T("{\"id\":\"a\",\"id\":1,\"type\":{\"x\":1},\"name\":null,\"value\":[\"v\"],"
      "\"pattern\":true,\"pattern_type\":\"stix\",\"pattern_type\":false}",
            1),
    T("{\"name\":1,\"name\":\"n\",\"created\":\"c\",\"modified\":\"m\",\"valid_from\":\"f\","
      "\"valid_until\":\"u\",\"spec_version\":\"2.0\",\"x_tide_source\":\"s\","
      "\"x_tide_reliability\":\"B\",\"relationship_type\":\"uses\",\"source_ref\":\"a\","
      "\"target_ref\":\"b\",\"sighting_of_ref\":\"c\"}",
            1),
    T("{\"confidence\":85}", 1),
    T("{\"confidence\":-9223372036854775808}", 1),
    T("{\"confidence\":85.0}", 1),
    T("{\"confidence\":8e1}", 1),
    T("{\"confidence\":\"85\"}", 1),
    T("{\"confidence\":85,\"confidence\":null}", 1),
    T("{\"confidence\":null,\"confidence\":85}", 1),
    T("{\"confidence\":85,\"x\":[{\"y\":99999999999999999999}]}", 1),
    T("{\"confidence\":85,\"x\":99999999999999999999,\"confidence\":7}", 1),
    T("{\"confidence\":{\"a\":1}}", 1),
    T("{\"revoked\":true}", 1),
    T("{\"revoked\":false}", 1),
    T("{\"revoked\":\"true\"}", 1),
    T("{\"revoked\":true,\"revoked\":1}", 1),
    T("{\"revoked\":[true]}", 1),
    T("{\"objects\":[]}", 1),
    T("{\"objects\":{}}", 1),
    T("{\"objects\":null}", 1),
    T("{\"objects\":[],\"objects\":\"x\"}", 1),
    T("{\"objects\":1,\"objects\":[[1]]}", 1),
    T("{\"object_marking_refs\":[\"a\",1,\"b\",null,[\"c\"],{\"d\":\"e\"},\"f\\u00e9\"]}", 1),
    T("{\"object_marking_refs\":\"a\"}", 1),
    T("{\"object_marking_refs\":[\"a\"],\"object_marking_refs\":[]}", 1),
    T("{\"object_marking_refs\":[\"a\"],\"object_marking_refs\":{\"b\":[\"c\"]}}", 1),
    T("{\"object_refs\":[\"a\",\"b\"],\"where_sighted_refs\":[\"c\"],"
      "\"observed_data_refs\":[\"d\",\"e\",\"f\"],\"object_refs\":[\"g\"]}",
            1),
    T("{\"kill_chain_phases\":[{\"kill_chain_name\":\"k\",\"phase_name\":\"p\"},"
      "{\"phase_name\":\"q\"},{\"kill_chain_name\":\"j\"},{},\"s\",1,[{\"phase_name\":\"r\"}],"
      "{\"phase_name\":1},{\"phase_name\":\"a\",\"phase_name\":\"b\"},"
      "{\"phase_name\":\"a\",\"phase_name\":[\"b\"]},{\"phase_name\":{\"phase_name\":\"x\"}},"
      "{\"ph\\u0061se_name\":\"esc\\t\",\"x\":{\"y\":[1]}}]}",
            1),
    T("{\"kill_chain_phases\":[{\"phase_name\":\"p\"}],\"kill_chain_phases\":{}}", 1),
    T("{\"kill_chain_phases\":{},\"kill_chain_phases\":[{\"phase_name\":\"p\"}]}", 1),
    T("{\"kill_chain_phases\":[{\"phase_name\":\"p\"},{\"phase_name\":\"\\ud800\"}]}", 0),
    T("{\"object_refs\":[\"a\",\"\xff\"]}", 0),
    T("{\"id\":\"a\",\"id\":\"\\u0000\"}", 0),
    T("{\"id\":\"\", \"type\":\"\", \"\":\"id\", \"i\":\"d\", \"ids\":\"x\"}", 1),
    T("{\"x\":{\"id\":\"nested\",\"type\":\"nested\",\"object_refs\":[\"n\"]},\"y\":["
      "{\"confidence\":1,\"revoked\":true}]}",
            1),
    T("[1]", 0), /* an array is valid JSON, but not an object */
    T("\"x\"", 0),
    T("1", 0),
};

static void t_tricky(void)
{
    for (size_t i = 0; i < sizeof(k_tricky) / sizeof(k_tricky[0]); i++) {
        const tricky *t = &k_tricky[i];
        char what[64];
        snprintf(what, sizeof(what), "tricky input %zu", i);
        int ok = check_one(t->text, t->len, what);
        if (ok != t->valid) {
            show(what, t->text, t->len);
            TIDE_FAIL_("%s: expected %s", what, t->valid ? "valid" : "invalid");
        }
    }
    /* big integers make every number a real, as tide__json_parse_item's retry does */
    const char *big = "{\"a\":123456789012345678901234567890,\"confidence\":7}";
    json_t *o = tide__json_parse_toplevel(big, strlen(big), NULL);
    TIDE_ASSERT(json_is_real(json_object_get(o, "confidence")));
    TIDE_ASSERT(json_real_value(json_object_get(o, "confidence")) == 7.0);
    json_decref(o);
    /* escapes are decoded, kept arrays are the right ones */
    const char *esc = "{\"a\":\"x\\u00e9\\ud83d\\ude00\\n\",\"s\":[\"p\",\"q\"],\"o\":{\"x\":1},"
                      "\"m\":[\"p\",1]}";
    o = tide__json_parse_toplevel(esc, strlen(esc), NULL);
    TIDE_ASSERT_EQ_STR(json_string_value(json_object_get(o, "a")), "x\xc3\xa9\xf0\x9f\x98\x80\n");
    TIDE_ASSERT_EQ_INT(json_array_size(json_object_get(o, "s")), 2);
    TIDE_ASSERT(json_object_get(o, "o") == NULL);
    TIDE_ASSERT(json_object_get(o, "m") == NULL);
    TIDE_ASSERT_EQ_INT(json_object_size(o), 2);
    json_decref(o);
    /* errors name the place */
    json_error_t err;
    const char *bad = "{\"a\":1,\n \"b\":tru}";
    TIDE_ASSERT(tide__json_parse_toplevel(bad, strlen(bad), &err) == NULL);
    TIDE_ASSERT_EQ_INT(err.line, 2);
    TIDE_ASSERT(err.position >= 14 && err.position <= 18);
    TIDE_ASSERT(tide__json_parse_toplevel(NULL, 0, &err) == NULL);
}

/* Nesting: jansson counts every value's depth (the top-level object is 1) and rejects > 2048. */
static char *nested(size_t k, const char *inner, size_t *n)
{
    size_t il = strlen(inner);
    char *s = malloc(2 * k + il + 16);
    size_t o = 0;
    memcpy(s + o, "{\"a\":", 5);
    o += 5;
    for (size_t i = 0; i < k; i++)
        s[o++] = '[';
    memcpy(s + o, inner, il);
    o += il;
    for (size_t i = 0; i < k; i++)
        s[o++] = ']';
    s[o++] = '}';
    s[o] = '\0';
    *n = o;
    return s;
}

static void t_depth(void)
{
    /* boundary: k arrays inside the object; innermost value at depth k + 2 */
    static const struct {
        size_t k;
        const char *inner;
        int valid;
    } cases[] = {
        { 2045, "1", 1 },
        { 2046, "1", 1 },
        { 2047, "1", 0 },
        { 2046, "", 1 },
        { 2047, "", 1 },
        { 2048, "", 0 },
        { 2046, "{}", 1 },
        { 2046, "{\"x\":1}", 0 },
        { 2047, "\"s\"", 0 },
        { 10000, "", 0 },
        { 100000, "1", 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n;
        char *s = nested(cases[i].k, cases[i].inner, &n);
        char what[64];
        snprintf(what, sizeof(what), "depth %zu + '%s'", cases[i].k, cases[i].inner);
        TIDE_ASSERT_EQ_INT(check_one(s, n, what), cases[i].valid);
        free(s);
    }
    /* deep objects too, and deep nesting that is never closed */
    size_t k = 10000, o = 0;
    char *s = malloc(k * 6 + 8);
    s[o++] = '{';
    for (size_t i = 0; i < k; i++) {
        memcpy(s + o, "\"a\":{", 5);
        o += 5;
    }
    TIDE_ASSERT_EQ_INT(check_one(s, o, "10000 open objects"), 0);
    free(s);
}

/* ---- mutations of real objects ---- */

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

static const unsigned char k_bytes[] = { '"', '\\', '{', '}', '[', ']', ',', ':', '0', '1', '-',
    'e', '.', ' ', '\n', 0x00, 0x01, 0x7f, 0x80, 0xbf, 0xc3, 0xe2, 0xed, 0xf0, 0xf4, 0xff, 'u', 't',
    'n', 'x' };

static size_t mutate(unsigned char *b, size_t n, size_t cap)
{
    int ops = 1 + (int)(rnd() % 3);
    for (int op = 0; op < ops && n > 0; op++) {
        size_t at = (size_t)(rnd() % n);
        unsigned char c = (rnd() & 1) ? (unsigned char)rnd() : k_bytes[rnd() % sizeof(k_bytes)];
        switch (rnd() % 6) {
            case 0:
            case 1: /* replace */ b[at] = c; break;
            case 2: /* delete */
                memmove(b + at, b + at + 1, n - at - 1);
                n--;
                break;
            case 3: /* insert */
                if (n < cap) {
                    memmove(b + at + 1, b + at, n - at);
                    b[at] = c;
                    n++;
                }
                break;
            case 4: { /* insert an escape or a number-ish snippet */
                static const char *snips[] = { "\\u", "\\ud800", "\\udc00", "\\u0000", "1e999",
                    "-0", "01", "\\\"", "[", "{\"k\":", "\xf0\x9f\x98\x80", "\xed\xa0\x80" };
                const char *sn = snips[rnd() % (sizeof(snips) / sizeof(snips[0]))];
                size_t sl = strlen(sn);
                if (n + sl <= cap) {
                    memmove(b + at + sl, b + at, n - at);
                    memcpy(b + at, sn, sl);
                    n += sl;
                }
                break;
            }
            default: /* truncate */ n = at + 1; break;
        }
    }
    return n;
}

static void t_mutations(void)
{
    load_real();
    size_t nobj = 200, per = 25;
    long acc = 0, rej = 0;
    unsigned char *b = NULL;
    for (size_t i = 0; i < nobj; i++) {
        size_t idx = i * (g_real.n / nobj);
        size_t n0 = g_real.len[idx];
        if (n0 > 20000)
            n0 = 20000; /* keep it quick; a cut object is just another invalid input */
        size_t cap = n0 + 64;
        b = realloc(b, cap);
        for (size_t m = 0; m < per; m++) {
            memcpy(b, g_real.ptr[idx], n0);
            size_t n = mutate(b, n0, cap);
            char what[64];
            snprintf(what, sizeof(what), "object %zu mutant %zu", idx, m);
            if (check_one((const char *)b, n, what))
                acc++;
            else
                rej++;
        }
    }
    free(b);
    fprintf(stderr, "  %ld mutants accepted, %ld rejected, verdicts equal to jansson's\n", acc,
            rej);
    TIDE_ASSERT_EQ_INT(acc + rej, (long)(nobj * per));
    /* both verdicts occur often enough to mean something */
    TIDE_ASSERT(acc > 200 && rej > 1000);
}

/* ---- opt-in measurement ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void t_bench(void)
{
    const char *path = getenv("TIDE_JSON_FAST_BENCH");
    if (path == NULL)
        TIDE_SKIP("set TIDE_JSON_FAST_BENCH=<bundle.json> to measure");
    objlist l;
    memset(&l, 0, sizeof(l));
    collect_file(&l, path);
    TIDE_ASSERT(l.n > 0);
    const char *names[] = { "jansson (tide__json_parse_item)", "fast, flat members",
        "fast, full (read_stix)" };
    for (int rep = 0; rep < 6; rep++) {
        int mode = rep % 3;
        double t0 = now_s();
        size_t ok = 0;
        for (size_t i = 0; i < l.n; i++) {
            json_t *j = mode == 0 ? tide__json_parse_item(l.ptr[i], l.len[i], NULL)
                        : mode == 1
                                ? tide__json_parse_toplevel(l.ptr[i], l.len[i], NULL)
                                : tide__json_parse_fast(l.ptr[i], l.len[i], TIDE__JF_FULL, NULL);
            ok += j != NULL;
            json_decref(j);
        }
        double dt = now_s() - t0;
        fprintf(stderr, "  %-34s %zu objects, %.1f MB in %.3f s: %.0f MB/s\n", names[mode], ok,
                (double)l.bytes / 1e6, dt, (double)l.bytes / 1e6 / dt);
        TIDE_ASSERT_EQ_INT(ok, l.n);
    }
    objlist_free(&l);
}

static void t_cleanup(void)
{
    objlist_free(&g_real);
    tide__arena_free(&g_arena_raw);
    tide__arena_free(&g_arena_dom);
    tide__arena_free(&g_arena_pre);
}

TIDE_TESTS = {
    { "json_fast::tricky", t_tricky },
    { "json_fast::depth", t_depth },
    { "json_fast::real_data", t_real_data },
    { "json_fast::mutations", t_mutations },
    { "json_fast::bench", t_bench },
    { "json_fast::zz_cleanup", t_cleanup },
    { NULL, NULL },
};
TIDE_TEST_MAIN
