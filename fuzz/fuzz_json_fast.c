/*
 * fuzz_json_fast.c - differential fuzz target for the fast JSON object parser (json_fast.c):
 * every input goes through jansson (tide__json_parse_item) and through both modes of the fast
 * parser; it aborts when the accept / reject verdicts differ, when the flat members differ from
 * jansson's parse restricted to them, or when the full mode differs from jansson's parse.
 * Members mode (no DOM) too: its verdict and error must be the full mode's, and its members
 * those tide__members_from_json reads from the full mode's DOM, field by field; prefix mode
 * must accept every valid object, and only objects, with the members of exactly those bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/json_fast.h"
#include "ingest/json_split.h"
#include "ingest/stix_members.h"

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

static void die(const char *why, const json_error_t *e1, const json_error_t *e2)
{
    fprintf(stderr, "json_fast differs from jansson: %s\n  jansson: %s\n  fast:    %s\n", why,
            e1 ? e1->text : "", e2 ? e2->text : "");
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    const char *p = (const char *)data;
    json_error_t e1, e2, e3;
    json_t *ref = tide__json_parse_item(p, size, &e1);
    int ref_ok = ref != NULL && json_is_object(ref);
    json_t *top = tide__json_parse_toplevel(p, size, &e2);
    json_t *full = tide__json_parse_fast(p, size, TIDE__JF_FULL, &e3);
    if ((top != NULL) != ref_ok)
        die(ref_ok ? "jansson accepts, fast rejects" : "jansson rejects, fast accepts", &e1, &e2);
    if ((full != NULL) != ref_ok)
        die("full mode verdict differs", &e1, &e3);
    /* members mode against the full DOM */
    static tide__arena a_raw = TIDE__ARENA_INIT, a_dom = TIDE__ARENA_INIT;
    tide__arena_reset(&a_raw);
    tide__arena_reset(&a_dom);
    json_error_t e4;
    tide__members mr, md;
    int mrc = tide__json_parse_members(p, size, &mr, &a_raw, &e4);
    if ((mrc == 0) != (full != NULL))
        die("members mode verdict differs", &e3, &e4);
    if (full == NULL && (strcmp(e3.text, e4.text) != 0 || e3.line != e4.line ||
                                e3.column != e4.column || e3.position != e4.position))
        die("members mode error differs", &e3, &e4);
    if (full != NULL) {
        char why[300];
        if (tide__members_from_json(full, &md, &a_dom) != 0)
            die("members_from_json failed", NULL, NULL);
        const char *d = tide__members_diff(&mr, &md, why, sizeof(why));
        if (d != NULL) {
            fprintf(stderr, "members mode differs from the DOM: %s\n", d);
            abort();
        }
    }
    /* prefix mode (the splitter's parse_element): a valid object whatever follows it, with
     * exactly its members; nothing that is not one */
    {
        static tide__arena a_pre = TIDE__ARENA_INIT;
        tide__members mp, mx;
        size_t used = 0;
        tide__arena_reset(&a_pre);
        int prc = tide__json_parse_members_prefix(p, size, &mp, &a_pre, &used);
        if (full != NULL && prc != 0)
            die("prefix mode refuses a valid object", NULL, NULL);
        if (prc == 0) {
            char why[300];
            tide__arena_reset(&a_raw);
            if (used > size || tide__json_parse_members(p, used, &mx, &a_raw, NULL) != 0)
                die("prefix mode accepts what is not an object", NULL, NULL);
            if (tide__members_diff(&mp, &mx, why, sizeof(why)) != NULL) {
                fprintf(stderr, "prefix mode members differ: %s\n", why);
                abort();
            }
        }
    }
    if (ref_ok) {
        json_t *exp = json_object();
        const char *k;
        json_t *v;
        json_object_foreach(ref, k, v)
        {
            if (is_flat_member(v))
                json_object_set(exp, k, v);
        }
        if (!json_equal(exp, top))
            die("flat members differ", NULL, NULL);
        if (!json_equal(ref, full))
            die("full mode differs", NULL, NULL);
        json_decref(exp);
    } else if (e2.text[0] == '\0' || e2.line < 1 || e2.position < 0 || (size_t)e2.position > size) {
        die("error without place or reason", &e1, &e2);
    }
    json_decref(ref);
    json_decref(top);
    json_decref(full);
    return 0;
}
