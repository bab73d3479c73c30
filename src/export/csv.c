/*
 * csv.c - CSV (RFC 4180, with a header) and plain text (one value per line) writers.
 */
#include <string.h>

#include "export/export_int.h"

static void put_csv(FILE *f, const char *s)
{
    if (s == NULL)
        s = "";
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int tide__exp_csv(tide__exp *x)
{
    tide__exp_file f;
    TIDE_CHECK(tide__exp_open(x, NULL, &f));
    fprintf(f.f, "value,type,score,confidence,source,tlp,valid_from,valid_until,indicator_id,"
                 "related\r\n");
    for (size_t i = 0; i < x->n; i++) {
        tide__exp_entry *e = &x->v[i];
        char vf[32] = "", vu[32] = "";
        if (e->valid_from)
            tide__time_format(e->valid_from, vf);
        if (e->valid_until)
            tide__time_format(e->valid_until, vu);
        put_csv(f.f, e->val);
        fprintf(f.f, ",%s,%.1f,", tide_obs_kind_name(e->kind), e->score);
        if (e->confidence >= 0)
            fprintf(f.f, "%d", e->confidence);
        fputc(',', f.f);
        put_csv(f.f, EXP_S(x, e->source));
        fputc(',', f.f);
        put_csv(f.f, EXP_S(x, e->tlp));
        fprintf(f.f, ",%s,%s,", vf, vu);
        put_csv(f.f, EXP_S(x, e->id));
        fputc(',', f.f);
        put_csv(f.f, EXP_S(x, e->desc));
        fputs("\r\n", f.f);
        x->sum->written++;
    }
    return tide__exp_close(&f, true);
}

int tide__exp_txt(tide__exp *x)
{
    tide__exp_file f;
    TIDE_CHECK(tide__exp_open(x, NULL, &f));
    for (size_t i = 0; i < x->n; i++) {
        if (strpbrk(x->v[i].val, "\r\n")) {
            tide__exp_skip(x, TIDE_EXPORT_SKIP_UNSUPPORTED, &x->v[i], "newline in value");
            continue;
        }
        fprintf(f.f, "%s\n", x->v[i].val);
        x->sum->written++;
    }
    return tide__exp_close(&f, true);
}
