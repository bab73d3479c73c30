/*
 * stix.c - STIX 2.1 bundle writer: the current version of every selected indicator, as
 * stored, plus the objects one relationship away (the relationships themselves and the
 * campaigns, malware, actors ... at their other end), each object once. Objects are copied
 * from the store as JSON text and the bundle is streamed.
 */
#include <stdlib.h>
#include <string.h>

#include "export/export_int.h"

typedef struct {
    char **ids;
    size_t n, cap;
} idlist;

static int push(idlist *l, const char *id)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 16;
        char **nv = tide__realloc(l->ids, nc * sizeof(char *));
        TIDE_CHECK_ALLOC(nv);
        l->ids = nv;
        l->cap = nc;
    }
    TIDE_CHECK_ALLOC(l->ids[l->n] = tide__strdup(id));
    l->n++;
    return 0;
}

static int rel_cb(const tide_relation *r, void *payload)
{
    idlist *l = payload;
    if (strchr(r->rel_id, '|') == NULL)
        TIDE_CHECK(push(l, r->rel_id));
    return push(l, r->other_id);
}

typedef struct {
    tide__exp *x;
    FILE *f;
    tide_strmap done;
    long n;
} stix_ctx;

/* write object id once; absent objects (not stored) are skipped */
static int emit(stix_ctx *c, const char *id)
{
    int ins = tide__strmap_put(&c->done, id, strlen(id), 0, NULL);
    if (ins <= 0)
        return ins;
    char *js = NULL;
    int rc = tide_store_get(c->x->store, id, NULL, &js);
    if (rc == TIDE_ENOTFOUND) {
        tide_error_clear();
        return 0;
    }
    TIDE_CHECK(rc);
    fprintf(c->f, "%s\n%s", c->n ? "," : "", js);
    free(js);
    c->n++;
    return 0;
}

int tide__exp_stix(tide__exp *x)
{
    tide__exp_file f;
    TIDE_CHECK(tide__exp_open(x, NULL, &f));
    char uuid[37];
    int rc = tide__uuid4(uuid);
    fprintf(f.f, "{\"type\":\"bundle\",\"id\":\"bundle--%s\",\"objects\":[", uuid);
    stix_ctx c = { .x = x, .f = f.f, .done = TIDE_STRMAP_INIT };
    idlist rel = { 0 };
    for (size_t i = 0; i < x->n && rc == 0; i++) {
        const char *id = EXP_S(x, x->v[i].id);
        if (tide__strmap_get(&c.done, id, strlen(id)) >= 0) {
            x->sum->written++;
            continue;
        }
        if ((rc = emit(&c, id)) < 0)
            break;
        x->sum->written++;
        for (size_t j = 0; j < rel.n; j++)
            tide__free(rel.ids[j]);
        rel.n = 0;
        if ((rc = tide_store_related(x->store, id, rel_cb, &rel)) < 0)
            break;
        for (size_t j = 0; j < rel.n && rc == 0; j++)
            rc = emit(&c, rel.ids[j]);
    }
    for (size_t j = 0; j < rel.n; j++)
        tide__free(rel.ids[j]);
    tide__free(rel.ids);
    tide__strmap_free(&c.done);
    fprintf(f.f, "]}\n");
    int crc = tide__exp_close(&f, rc == 0);
    return rc < 0 ? rc : crc;
}
