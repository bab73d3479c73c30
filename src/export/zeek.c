/*
 * zeek.c - Zeek intel framework writer: a tab-separated file with the header
 * `#fields indicator indicator_type meta.source meta.desc meta.url`. Types: Intel::ADDR
 * (IPv4 / IPv6), Intel::SUBNET (CIDRs), Intel::DOMAIN, Intel::URL (without the scheme, as
 * Zeek's HTTP analyzer reports it), Intel::FILE_HASH, Intel::EMAIL, Intel::CERT_HASH
 * (x509 SHA-1). Empty fields are "-"; tabs and newlines in text become spaces.
 */
#include <string.h>

#include "export/export_int.h"

static const char *intel_type(tide_obs_kind k)
{
    switch (k) {
        case TIDE_OBS_IPV4:
        case TIDE_OBS_IPV6: return "Intel::ADDR";
        case TIDE_OBS_CIDR4:
        case TIDE_OBS_CIDR6: return "Intel::SUBNET";
        case TIDE_OBS_DOMAIN: return "Intel::DOMAIN";
        case TIDE_OBS_URL: return "Intel::URL";
        case TIDE_OBS_MD5:
        case TIDE_OBS_SHA1:
        case TIDE_OBS_SHA256:
        case TIDE_OBS_SHA512: return "Intel::FILE_HASH";
        case TIDE_OBS_EMAIL: return "Intel::EMAIL";
        case TIDE_OBS_X509_SHA1: return "Intel::CERT_HASH";
        default: return NULL;
    }
}

static void put_field(FILE *f, const char *s)
{
    if (s == NULL || *s == '\0') {
        fputc('-', f);
        return;
    }
    for (; *s; s++)
        fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, f);
}

int tide__exp_zeek(tide__exp *x)
{
    tide__exp_file f;
    TIDE_CHECK(tide__exp_open(x, NULL, &f));
    fprintf(f.f, "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\n");
    for (size_t i = 0; i < x->n; i++) {
        tide__exp_entry *e = &x->v[i];
        const char *t = intel_type(e->kind);
        const char *v = e->val;
        if (t == NULL) {
            tide__exp_skip(x, TIDE_EXPORT_SKIP_UNSUPPORTED, e, NULL);
            continue;
        }
        if (e->kind == TIDE_OBS_URL) {
            const char *p = strstr(v, "://");
            if (p)
                v = p + 3;
        }
        if (strpbrk(v, "\t\n\r") || *v == '\0') {
            tide__exp_skip(x, TIDE_EXPORT_SKIP_UNSUPPORTED, e, "tab or newline in value");
            continue;
        }
        fprintf(f.f, "%s\t%s\t", v, t);
        put_field(f.f, EXP_S(x, e->source));
        fputc('\t', f.f);
        const char *desc = EXP_S(x, e->desc);
        put_field(f.f, *desc ? desc : EXP_S(x, e->id));
        fputs("\t-\n", f.f);
        x->sum->written++;
    }
    return tide__exp_close(&f, true);
}
