/*
 * squid.c - Squid writer: into the output directory, tide-domains.acl (dstdomain, ".domain"
 * form, which also matches subdomains; a domain under another listed one is left out since
 * Squid rejects such overlaps), tide-urls.acl (url_regex, one anchored and escaped URL per
 * line), tide-ips.acl (dst, addresses and CIDRs) and tide.conf, a snippet to `include` that
 * declares the ACLs (absolute paths) and denies them. Empty lists are left out of the snippet.
 */
#include <stdlib.h>
#include <string.h>

#include "export/export_int.h"

/* POSIX extended regex special characters */
static int put_regex_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (strchr(".[]()*+?{}|^$\\", *s))
            fputc('\\', f);
        fputc(*s, f);
    }
    return 0;
}

static bool url_ok(const char *u)
{
    for (; *u; u++)
        if ((unsigned char)*u <= ' ' || *u == '"' || (unsigned char)*u >= 0x7f)
            return false;
    return true;
}

int tide__exp_squid(tide__exp *x)
{
    bool *cov = tide__calloc(x->n + 1, sizeof(bool));
    TIDE_CHECK_ALLOC(cov);
    int rc = tide__exp_prune_subdomains(x, cov);
    if (rc == 0)
        rc = tide__exp_prune_covered(x, cov);
    char *dir = rc == 0 ? realpath(x->opts->output, NULL) : NULL;
    if (rc == 0 && dir == NULL)
        rc = tide_error_set(TIDE_EIO, "%s: cannot resolve the output folder", x->opts->output);
    tide__exp_file fd = { 0 }, fu = { 0 }, fi = { 0 }, fc = { 0 };
    long nd = 0, nu = 0, ni = 0;
    if (rc == 0)
        rc = tide__exp_open(x, "tide-domains.acl", &fd);
    if (rc == 0)
        rc = tide__exp_open(x, "tide-urls.acl", &fu);
    if (rc == 0)
        rc = tide__exp_open(x, "tide-ips.acl", &fi);
    for (size_t i = 0; i < x->n && rc == 0; i++) {
        tide__exp_entry *e = &x->v[i];
        if (cov[i])
            continue;
        if (e->kind == TIDE_OBS_DOMAIN) {
            fprintf(fd.f, ".%s\n", e->val);
            nd++;
        } else if (e->kind == TIDE_OBS_URL) {
            if (!url_ok(e->val)) {
                tide__exp_skip(x, TIDE_EXPORT_SKIP_UNSUPPORTED, e, "URL with spaces or quotes");
                continue;
            }
            fputc('^', fu.f);
            put_regex_escaped(fu.f, e->val);
            fputc('\n', fu.f);
            nu++;
        } else {
            fprintf(fi.f, "%s\n", e->val);
            ni++;
        }
        x->sum->written++;
    }
    if (rc == 0)
        rc = tide__exp_open(x, "tide.conf", &fc);
    if (rc == 0) {
        fprintf(fc.f,
                "# tide Squid export: include this file before your http_access allow "
                "rules\n# %ld domains, %ld URLs, %ld addresses\n",
                nd, nu, ni);
        if (nd)
            fprintf(fc.f, "acl tide_block_domains dstdomain \"%s/tide-domains.acl\"\n", dir);
        if (nu)
            fprintf(fc.f, "acl tide_block_urls url_regex -i \"%s/tide-urls.acl\"\n", dir);
        if (ni)
            fprintf(fc.f, "acl tide_block_ips dst \"%s/tide-ips.acl\"\n", dir);
        if (nd)
            fprintf(fc.f, "http_access deny tide_block_domains\n");
        if (nu)
            fprintf(fc.f, "http_access deny tide_block_urls\n");
        if (ni)
            fprintf(fc.f, "http_access deny tide_block_ips\n");
    }
    tide__exp_file *fs[] = { &fd, &fu, &fi, &fc };
    for (int i = 0; i < 4; i++) {
        int crc = tide__exp_close(fs[i], rc == 0);
        if (rc == 0)
            rc = crc;
    }
    free(dir);
    tide__free(cov);
    return rc;
}
