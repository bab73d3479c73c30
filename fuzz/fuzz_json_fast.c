/*
 * fuzz_json_fast.c - differential fuzz target for the fast JSON object parser (json_fast.c):
 * every input goes through jansson (tide__json_parse_item) and through both modes of the fast
 * parser; it aborts when the accept / reject verdicts differ, when the flat members differ from
 * jansson's parse restricted to them, or when the full mode differs from jansson's parse.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ingest/json_fast.h"
#include "ingest/json_split.h"

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
