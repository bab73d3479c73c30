/*
 * nft.c - nftables and ipset writers. nft: an `inet tide` table (replaced atomically: add,
 * delete, define) with interval sets tide_v4 / tide_v6 and drop rules in input, forward and
 * output chains; entries inside a broader CIDR of the same export are left out (interval sets
 * reject overlapping elements). Incremental: `delete element` / `add element` commands.
 * ipset: an `ipset restore` file with hash:net sets tide_v4 / tide_v6 (incremental: del / add).
 */
#include <string.h>

#include "export/export_int.h"

#define CHUNK 512

/* elements by family after pruning; returns arrays of entry pointers */
static int collect(tide__exp *x, const char ***v4, size_t *n4, const char ***v6, size_t *n6)
{
    bool *cov = tide__calloc(x->n + 1, sizeof(bool));
    TIDE_CHECK_ALLOC(cov);
    int rc = tide__exp_prune_covered(x, cov);
    const char **a = tide__malloc((x->n + 1) * sizeof(char *));
    const char **b = tide__malloc((x->n + 1) * sizeof(char *));
    if (rc == 0 && (a == NULL || b == NULL))
        rc = tide_error_set(TIDE_ENOMEM, "out of memory");
    size_t na = 0, nb = 0;
    tide_buf line = TIDE_BUF_INIT;
    for (size_t i = 0; i < x->n && rc == 0; i++) {
        if (cov[i])
            continue;
        tide_obs_kind k = x->v[i].kind;
        bool four = k == TIDE_OBS_IPV4 || k == TIDE_OBS_CIDR4;
        if (four)
            a[na++] = x->v[i].val;
        else
            b[nb++] = x->v[i].val;
        tide__buf_clear(&line);
        rc = tide__buf_printf(&line, "%c %s", four ? '4' : '6', x->v[i].val);
        if (rc == 0)
            rc = tide__exp_state_add(x, line.ptr);
        x->sum->written++;
    }
    tide__buf_free(&line);
    tide__free(cov);
    if (rc < 0) {
        tide__free(a);
        tide__free(b);
        return rc;
    }
    *v4 = a;
    *n4 = na;
    *v6 = b;
    *n6 = nb;
    return 0;
}

static void put_elements(FILE *f, const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%s", v[i], i + 1 < n ? (i % 8 == 7 ? ",\n\t\t\t" : ", ") : "");
}

typedef struct {
    FILE *f;
    bool ipset;
    const char *cur_cmd; /* nft: the open "add/delete element" line's set, or NULL */
    bool cur_added;
    int in_line;
} nft_diff;

static int nft_diff_cb(bool added, const char *line, void *payload)
{
    nft_diff *d = payload;
    const char *set = line[0] == '4' ? "tide_v4" : "tide_v6";
    const char *val = line + 2;
    if (d->ipset) {
        fprintf(d->f, "%s %s %s -exist\n", added ? "add" : "del", set, val);
        return 0;
    }
    if (d->cur_cmd != NULL && (d->cur_cmd != set || d->cur_added != added || d->in_line >= CHUNK)) {
        fprintf(d->f, " }\n");
        d->cur_cmd = NULL;
    }
    if (d->cur_cmd == NULL) {
        fprintf(d->f, "%s element inet tide %s { %s", added ? "add" : "delete", set, val);
        d->cur_cmd = set;
        d->cur_added = added;
        d->in_line = 1;
        return 0;
    }
    fprintf(d->f, ", %s", val);
    d->in_line++;
    return 0;
}

static int write_diff(tide__exp *x, FILE *f, bool ipset)
{
    x->sum->incremental = true;
    fprintf(f, "%s tide %s incremental export: changes since the last export to this output\n", "#",
            ipset ? "ipset" : "nftables");
    nft_diff d = { .f = f, .ipset = ipset };
    int rc = tide__exp_diff(x, nft_diff_cb, &d);
    if (d.cur_cmd)
        fprintf(f, " }\n");
    return rc;
}

int tide__exp_nft(tide__exp *x)
{
    const char **v4 = NULL, **v6 = NULL;
    size_t n4 = 0, n6 = 0;
    TIDE_CHECK(collect(x, &v4, &n4, &v6, &n6));
    tide__exp_file f;
    int rc = tide__exp_open(x, NULL, &f);
    if (rc == 0 && x->opts->incremental && x->have_prev) {
        rc = write_diff(x, f.f, false);
    } else if (rc == 0) {
        fprintf(f.f,
                "#!/usr/sbin/nft -f\n# tide nftables export: %zu IPv4 and %zu IPv6 elements\n"
                "table inet tide\ndelete table inet tide\n\ntable inet tide {\n",
                n4, n6);
        fprintf(f.f, "\tset tide_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n");
        if (n4) {
            fprintf(f.f, "\t\telements = { ");
            put_elements(f.f, v4, n4);
            fprintf(f.f, " }\n");
        }
        fprintf(f.f, "\t}\n\tset tide_v6 {\n\t\ttype ipv6_addr\n\t\tflags interval\n");
        if (n6) {
            fprintf(f.f, "\t\telements = { ");
            put_elements(f.f, v6, n6);
            fprintf(f.f, " }\n");
        }
        fprintf(f.f,
                "\t}\n"
                "\tchain input {\n\t\ttype filter hook input priority -10; policy accept;\n"
                "\t\tip saddr @tide_v4 counter drop\n\t\tip6 saddr @tide_v6 counter drop\n\t}\n"
                "\tchain forward {\n\t\ttype filter hook forward priority -10; policy accept;\n"
                "\t\tip saddr @tide_v4 counter drop\n\t\tip daddr @tide_v4 counter drop\n"
                "\t\tip6 saddr @tide_v6 counter drop\n\t\tip6 daddr @tide_v6 counter drop\n\t}\n"
                "\tchain output {\n\t\ttype filter hook output priority -10; policy accept;\n"
                "\t\tip daddr @tide_v4 counter drop\n\t\tip6 daddr @tide_v6 counter drop\n\t}\n"
                "}\n");
    }
    if (f.f) {
        int crc = tide__exp_close(&f, rc == 0);
        if (rc == 0)
            rc = crc;
    }
    tide__free(v4);
    tide__free(v6);
    return rc;
}

int tide__exp_ipset(tide__exp *x)
{
    const char **v4 = NULL, **v6 = NULL;
    size_t n4 = 0, n6 = 0;
    TIDE_CHECK(collect(x, &v4, &n4, &v6, &n6));
    tide__exp_file f;
    int rc = tide__exp_open(x, NULL, &f);
    if (rc == 0 && x->opts->incremental && x->have_prev) {
        rc = write_diff(x, f.f, true);
    } else if (rc == 0) {
        size_t m4 = n4 * 2 > 65536 ? n4 * 2 : 65536, m6 = n6 * 2 > 65536 ? n6 * 2 : 65536;
        fprintf(f.f, "# tide ipset export (ipset restore < FILE): %zu IPv4, %zu IPv6\n", n4, n6);
        fprintf(f.f, "create tide_v4 hash:net family inet hashsize 1024 maxelem %zu -exist\n", m4);
        fprintf(f.f, "create tide_v6 hash:net family inet6 hashsize 1024 maxelem %zu -exist\n", m6);
        fprintf(f.f, "flush tide_v4\nflush tide_v6\n");
        for (size_t i = 0; i < n4; i++)
            fprintf(f.f, "add tide_v4 %s\n", v4[i]);
        for (size_t i = 0; i < n6; i++)
            fprintf(f.f, "add tide_v6 %s\n", v6[i]);
    }
    if (f.f) {
        int crc = tide__exp_close(&f, rc == 0);
        if (rc == 0)
            rc = crc;
    }
    tide__free(v4);
    tide__free(v6);
    return rc;
}
