/*
 * nft.c - nftables and ipset writers. nft: an `inet tide` table (replaced atomically: add,
 * delete, define) with interval sets tide_v4 / tide_v6, concatenated sets tide_v4_port /
 * tide_v6_port (address . inet_service: the ip:port C2s of trickbot, emotet ...) and drop rules
 * in input, forward and output chains; entries inside a broader CIDR of the same export, and
 * address-port pairs whose address is blocked whole, are left out (interval sets reject
 * overlapping elements). ipset: an `ipset restore` file with hash:net sets tide_v4 / tide_v6
 * and hash:ip,port sets tide_v4_port / tide_v6_port (each pair for TCP and UDP).
 * --incremental writes the full file at OUTPUT and the changes beside it, OUTPUT.diff
 * (`delete element` / `add element` commands; ipset `del` / `add` lines).
 */
#include <string.h>

#include "util/ipaddr.h"

#include "export/export_int.h"

#define CHUNK 512

/* The elements of one export, by set: addresses / CIDRs (tide_v4, tide_v6) and address-port
 * pairs (tide_v4_port, tide_v6_port: "ADDR PORT", canonical address). */
enum {
    S4,
    S6,
    P4,
    P6,
    NSETS
};
static const char *const set_names[NSETS] = { "tide_v4", "tide_v6", "tide_v4_port",
    "tide_v6_port" };
/* state line prefixes, one per set ("4 1.2.3.4", "4p 1.2.3.4 449"); older states hold 4 / 6 */
static const char *const set_tags[NSETS] = { "4", "6", "4p", "6p" };

typedef struct {
    size_t *off[NSETS]; /* offsets of the elements' text in txt */
    size_t n[NSETS];
    tide_buf txt;
} nft_sets;

#define EL(s, k, i) ((s)->txt.ptr + (s)->off[k][i])

static void sets_free(nft_sets *s)
{
    for (int k = 0; k < NSETS; k++)
        tide__free(s->off[k]);
    tide__buf_free(&s->txt);
}

static int sets_add(nft_sets *s, int k, const char *text)
{
    s->off[k][s->n[k]++] = s->txt.len;
    TIDE_CHECK(tide__buf_puts(&s->txt, text));
    return tide__buf_putc(&s->txt, '\0');
}

/* elements by set after pruning (addresses inside a broader CIDR, address-port pairs whose
 * address is blocked whole) */
static int collect(tide__exp *x, nft_sets *s)
{
    memset(s, 0, sizeof(*s));
    bool *cov = tide__calloc(x->n + 1, sizeof(bool));
    TIDE_CHECK_ALLOC(cov);
    int rc = tide__exp_prune_covered(x, cov);
    if (rc == 0)
        rc = tide__exp_prune_ports(x, cov);
    for (int k = 0; k < NSETS && rc == 0; k++)
        if ((s->off[k] = tide__malloc((x->n + 1) * sizeof(size_t))) == NULL)
            rc = tide_error_set(TIDE_ENOMEM, "out of memory");
    tide_buf line = TIDE_BUF_INIT;
    for (size_t i = 0; i < x->n && rc == 0; i++) {
        if (cov[i])
            continue;
        tide__exp_entry *e = &x->v[i];
        char ip[TIDE__IP_TEXT_MAX], el[TIDE__IP_TEXT_MAX + 8];
        int k, fam;
        unsigned port;
        if (e->kind == TIDE_OBS_IP_PORT) {
            if (!tide__ip_port_split(e->val, ip, sizeof(ip), &fam, &port)) {
                tide__exp_skip(x, TIDE_EXPORT_SKIP_UNSUPPORTED, e, "not an address and port");
                continue;
            }
            k = fam == 4 ? P4 : P6;
            snprintf(el, sizeof(el), "%s %u", ip, port);
        } else {
            k = e->kind == TIDE_OBS_IPV4 || e->kind == TIDE_OBS_CIDR4 ? S4 : S6;
            snprintf(el, sizeof(el), "%s", e->val);
        }
        tide__buf_clear(&line);
        rc = tide__buf_printf(&line, "%s %s", set_tags[k], el);
        if (rc == 0)
            rc = tide__exp_state_add(x, line.ptr);
        if (rc == 0)
            rc = sets_add(s, k, el);
        x->sum->written++;
    }
    tide__buf_free(&line);
    tide__free(cov);
    if (rc < 0)
        sets_free(s);
    return rc;
}

/* an element as nft writes it: "1.2.3.4 . 449" for a pair */
static void put_nft_el(FILE *f, const char *el)
{
    const char *sp = strchr(el, ' ');
    if (sp)
        fprintf(f, "%.*s . %s", (int)(sp - el), el, sp + 1);
    else
        fputs(el, f);
}

static void put_elements(FILE *f, const nft_sets *s, int k)
{
    size_t n = s->n[k];
    for (size_t i = 0; i < n; i++) {
        put_nft_el(f, EL(s, k, i));
        fputs(i + 1 < n ? (i % 8 == 7 ? ",\n\t\t\t" : ", ") : "", f);
    }
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
    size_t tl = strcspn(line, " ");
    int k = -1;
    for (int j = 0; j < NSETS; j++)
        if (strlen(set_tags[j]) == tl && strncmp(line, set_tags[j], tl) == 0)
            k = j;
    if (k < 0 || line[tl] != ' ')
        return 0; /* a line of another version: nothing to apply */
    const char *set = set_names[k];
    const char *val = line + tl + 1;
    if (d->ipset) {
        if (k == P4 || k == P6) {
            const char *sp = strchr(val, ' ');
            int al = sp ? (int)(sp - val) : (int)strlen(val);
            const char *port = sp ? sp + 1 : "";
            for (int t = 0; t < 2; t++)
                fprintf(d->f, "%s %s %.*s,%s:%s -exist\n", added ? "add" : "del", set, al, val,
                        t ? "udp" : "tcp", port);
        } else {
            fprintf(d->f, "%s %s %s -exist\n", added ? "add" : "del", set, val);
        }
        return 0;
    }
    if (d->cur_cmd != NULL && (d->cur_cmd != set || d->cur_added != added || d->in_line >= CHUNK)) {
        fprintf(d->f, " }\n");
        d->cur_cmd = NULL;
    }
    if (d->cur_cmd == NULL) {
        fprintf(d->f, "%s element inet tide %s { ", added ? "add" : "delete", set);
        put_nft_el(d->f, val);
        d->cur_cmd = set;
        d->cur_added = added;
        d->in_line = 1;
        return 0;
    }
    fputs(", ", d->f);
    put_nft_el(d->f, val);
    d->in_line++;
    return 0;
}

/* --incremental: the changes since the last export to this output, beside it (OUTPUT.diff);
 * the first export of an output (no state yet) gets the full script there too, so that applying
 * OUTPUT.diff always brings a consumer from the last export to this one */
static int write_diff(
        tide__exp *x, bool ipset, int (*full)(tide__exp *x, FILE *f, nft_sets *s), nft_sets *s)
{
    tide__exp_file f;
    TIDE_CHECK(tide__exp_open(x, "diff", &f));
    int rc = 0;
    if (x->have_prev) {
        x->sum->incremental = true;
        fprintf(f.f, "# tide %s incremental export: changes since the last export to %s\n",
                ipset ? "ipset" : "nftables", x->opts->output);
        nft_diff d = { .f = f.f, .ipset = ipset };
        rc = tide__exp_diff(x, nft_diff_cb, &d);
        if (d.cur_cmd)
            fprintf(f.f, " }\n");
    } else {
        rc = full(x, f.f, s);
    }
    int crc = tide__exp_close(&f, rc == 0);
    return rc == 0 ? crc : rc;
}

static const char *const nft_rules =
        "\tchain input {\n\t\ttype filter hook input priority -10; policy accept;\n"
        "\t\tip saddr @tide_v4 counter drop\n\t\tip6 saddr @tide_v6 counter drop\n"
        "\t\tmeta l4proto { tcp, udp } ip saddr . th sport @tide_v4_port counter drop\n"
        "\t\tmeta l4proto { tcp, udp } ip6 saddr . th sport @tide_v6_port counter drop\n\t}\n"
        "\tchain forward {\n\t\ttype filter hook forward priority -10; policy accept;\n"
        "\t\tip saddr @tide_v4 counter drop\n\t\tip daddr @tide_v4 counter drop\n"
        "\t\tip6 saddr @tide_v6 counter drop\n\t\tip6 daddr @tide_v6 counter drop\n"
        "\t\tmeta l4proto { tcp, udp } ip daddr . th dport @tide_v4_port counter drop\n"
        "\t\tmeta l4proto { tcp, udp } ip saddr . th sport @tide_v4_port counter drop\n"
        "\t\tmeta l4proto { tcp, udp } ip6 daddr . th dport @tide_v6_port counter drop\n"
        "\t\tmeta l4proto { tcp, udp } ip6 saddr . th sport @tide_v6_port counter drop\n\t}\n"
        "\tchain output {\n\t\ttype filter hook output priority -10; policy accept;\n"
        "\t\tip daddr @tide_v4 counter drop\n\t\tip6 daddr @tide_v6 counter drop\n"
        "\t\tmeta l4proto { tcp, udp } ip daddr . th dport @tide_v4_port counter drop\n"
        "\t\tmeta l4proto { tcp, udp } ip6 daddr . th dport @tide_v6_port counter drop\n\t}\n";

static int nft_full(tide__exp *x, FILE *f, nft_sets *s)
{
    (void)x;
    static const char *const types[NSETS] = { "ipv4_addr", "ipv6_addr", "ipv4_addr . inet_service",
        "ipv6_addr . inet_service" };
    fprintf(f,
            "#!/usr/sbin/nft -f\n# tide nftables export: %zu IPv4 and %zu IPv6 elements, %zu "
            "IPv4 and %zu IPv6 address-port pairs (TCP and UDP)\n"
            "table inet tide\ndelete table inet tide\n\ntable inet tide {\n",
            s->n[S4], s->n[S6], s->n[P4], s->n[P6]);
    for (int k = 0; k < NSETS; k++) {
        fprintf(f, "\tset %s {\n\t\ttype %s\n", set_names[k], types[k]);
        if (k == S4 || k == S6)
            fprintf(f, "\t\tflags interval\n");
        if (s->n[k]) {
            fprintf(f, "\t\telements = { ");
            put_elements(f, s, k);
            fprintf(f, " }\n");
        }
        fprintf(f, "\t}\n");
    }
    fprintf(f, "%s}\n", nft_rules);
    return ferror(f) ? tide_error_set(TIDE_EIO, "write failed") : 0;
}

static int ipset_full(tide__exp *x, FILE *f, nft_sets *s)
{
    (void)x;
    size_t m[NSETS];
    for (int k = 0; k < NSETS; k++) {
        size_t want = (k == P4 || k == P6 ? 4 : 2) * s->n[k];
        m[k] = want > 65536 ? want : 65536;
    }
    fprintf(f,
            "# tide ipset export (ipset restore < FILE): %zu IPv4, %zu IPv6, %zu IPv4 and %zu "
            "IPv6 address-port pairs (TCP and UDP)\n"
            "# iptables -I FORWARD -m set --match-set tide_v4_port dst,dst -j DROP (and src,src)\n",
            s->n[S4], s->n[S6], s->n[P4], s->n[P6]);
    fprintf(f, "create tide_v4 hash:net family inet hashsize 1024 maxelem %zu -exist\n", m[S4]);
    fprintf(f, "create tide_v6 hash:net family inet6 hashsize 1024 maxelem %zu -exist\n", m[S6]);
    fprintf(f, "create tide_v4_port hash:ip,port family inet hashsize 1024 maxelem %zu -exist\n",
            m[P4]);
    fprintf(f, "create tide_v6_port hash:ip,port family inet6 hashsize 1024 maxelem %zu -exist\n",
            m[P6]);
    for (int k = 0; k < NSETS; k++)
        fprintf(f, "flush %s\n", set_names[k]);
    for (int k = 0; k < NSETS; k++)
        for (size_t i = 0; i < s->n[k]; i++) {
            const char *el = EL(s, k, i), *sp = strchr(el, ' ');
            if (sp == NULL) {
                fprintf(f, "add %s %s\n", set_names[k], el);
                continue;
            }
            for (int t = 0; t < 2; t++)
                fprintf(f, "add %s %.*s,%s:%s\n", set_names[k], (int)(sp - el), el,
                        t ? "udp" : "tcp", sp + 1);
        }
    return ferror(f) ? tide_error_set(TIDE_EIO, "write failed") : 0;
}

/* the full file at OUTPUT, always; with --incremental, the diff beside it (never over it) */
static int write_nft_or_ipset(tide__exp *x, bool ipset)
{
    int (*full)(tide__exp * x, FILE * f, nft_sets * s) = ipset ? ipset_full : nft_full;
    nft_sets s;
    TIDE_CHECK(collect(x, &s));
    tide__exp_file f;
    int rc = tide__exp_open(x, NULL, &f);
    if (rc == 0)
        rc = full(x, f.f, &s);
    if (f.f) {
        int crc = tide__exp_close(&f, rc == 0);
        if (rc == 0)
            rc = crc;
    }
    if (rc == 0 && x->opts->incremental)
        rc = write_diff(x, ipset, full, &s);
    sets_free(&s);
    return rc;
}

int tide__exp_nft(tide__exp *x)
{
    return write_nft_or_ipset(x, false);
}

int tide__exp_ipset(tide__exp *x)
{
    return write_nft_or_ipset(x, true);
}
