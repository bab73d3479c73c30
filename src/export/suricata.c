/*
 * suricata.c - Suricata writer, into the output directory:
 *   tide-domains.lst   dataset (type string: base64 of each domain, as Suricata's dataset
 *                      docs require) used on dns.query / tls.sni / http.host (exact names);
 *   tide-ja3.lst       dataset (type md5, hex) used on ja3.hash;
 *   tide-md5.txt, tide-sha1.txt, tide-sha256.txt
 *                      hex lists for the filemd5 / filesha1 / filesha256 keywords;
 *   tide.iprep, tide-iprep-categories.txt
 *                      IP reputation ("ADDR,CATEGORY,SCORE", score 1-127 from the decayed
 *                      score) and its category file;
 *   tide.rules         the rules using all of the above, one dotprefix / endswith rule per
 *                      domain (matches the domain and every subdomain on dns.query, tls.sni
 *                      and http.host), one rule per URL (http.host + http.uri), and for
 *                      ip:port indicators one tcp and one udp rule per port and up to 100
 *                      addresses (`alert tcp any any -> [A,B] 449`).
 * Incremental mode also writes tide-dataset-changes.txt: `dataset-remove` / `dataset-add`
 * unix-socket commands (suricatasc) that bring the running datasets to the new state.
 */
#include <stdlib.h>
#include <string.h>

#include "export/export_int.h"
#include "util/ipaddr.h"

#define SID_BASE  9700000
#define PORT_LIST 100 /* addresses per ip:port rule */

/* an ip:port entry: the port, then the canonical address */
typedef struct {
    unsigned port;
    char ip[TIDE__IP_TEXT_MAX];
} ipport;

static int cmp_ipport(const void *a, const void *b)
{
    const ipport *x = a, *y = b;
    if (x->port != y->port)
        return x->port < y->port ? -1 : 1;
    return strcmp(x->ip, y->ip);
}

/* one rule per protocol (TCP, UDP), port and up to PORT_LIST addresses: traffic to a listed
 * address-port pair (the C2 lists of trickbot, emotet ...) */
static long put_port_rules(FILE *r, ipport *v, size_t n, long sid)
{
    if (n > 1)
        qsort(v, n, sizeof(*v), cmp_ipport);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && j - i < PORT_LIST && v[j].port == v[i].port)
            j++;
        for (int t = 0; t < 2; t++) {
            fprintf(r, "alert %s any any -> [", t ? "udp" : "tcp");
            for (size_t k = i; k < j; k++)
                fprintf(r, "%s%s", k > i ? "," : "", v[k].ip);
            fprintf(r,
                    "] %u (msg:\"tide: traffic to a listed address and port (%s)\"; "
                    "classtype:trojan-activity; sid:%ld; rev:1;)\n",
                    v[i].port, t ? "udp" : "tcp", sid++);
        }
        i = j;
    }
    return sid;
}

static bool safe_domain(const char *d)
{
    if (*d == '\0')
        return false;
    for (; *d; d++)
        if (!((*d >= 'a' && *d <= 'z') || (*d >= '0' && *d <= '9') || *d == '-' || *d == '.' ||
                    *d == '_'))
            return false;
    return true;
}

/* content string with the characters rules may not hold raw written as |hex| */
static void put_content(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == ';' || c == '\\' || c == '|' || c < 0x20 || c >= 0x7f)
            fprintf(f, "|%02X|", c);
        else
            fputc(c, f);
    }
}

static int diff_cb(bool added, const char *line, void *payload)
{
    FILE *f = payload;
    /* line: "SET TYPE VALUE" */
    fprintf(f, "%s %s\n", added ? "dataset-add" : "dataset-remove", line);
    return 0;
}

int tide__exp_suricata(tide__exp *x)
{
    static const char *const names[] = { "tide-domains.lst", "tide-ja3.lst", "tide-md5.txt",
        "tide-sha1.txt", "tide-sha256.txt", "tide.iprep", "tide-iprep-categories.txt",
        "tide.rules" };
    enum {
        DOM,
        JA3,
        MD5,
        SHA1,
        SHA256,
        IPREP,
        CATS,
        RULES,
        NF
    };
    tide__exp_file fs[NF];
    memset(fs, 0, sizeof(fs));
    int rc = 0;
    for (int i = 0; i < NF && rc == 0; i++)
        rc = tide__exp_open(x, names[i], &fs[i]);
    long cnt[NF] = { 0 };
    long sid = SID_BASE + 100;
    tide_buf b = TIDE_BUF_INIT;
    ipport *pv = NULL;
    size_t pn = 0, pcap = 0;
    if (rc == 0)
        fprintf(fs[RULES].f,
                "# tide Suricata export. suricata.yaml: reputation-categories-file: "
                "tide-iprep-categories.txt,\n# reputation-files: [tide.iprep]; datasets load "
                "relative to the rules folder.\n");
    for (size_t i = 0; i < x->n && rc == 0; i++) {
        tide__exp_entry *e = &x->v[i];
        const char *v = e->val;
        switch (e->kind) {
            case TIDE_OBS_DOMAIN:
                if (!safe_domain(v)) {
                    tide__exp_skip(x, TIDE_EXPORT_SKIP_UNSUPPORTED, e, "not a plain DNS name");
                    continue;
                }
                tide__buf_clear(&b);
                if ((rc = tide__buf_puts(&b, "tide-domains string ")) < 0 ||
                        (rc = tide__base64(&b, v, strlen(v))) < 0)
                    break;
                fprintf(fs[DOM].f, "%s\n", b.ptr + 20);
                rc = tide__exp_state_add(x, b.ptr);
                cnt[DOM]++;
                static const char *const bufs[] = { "dns", "dns.query", "tls", "tls.sni", "http",
                    "http.host" };
                for (int k = 0; k < 3; k++)
                    fprintf(fs[RULES].f,
                            "alert %s any any -> any any (msg:\"tide: %s %s or a subdomain\"; %s; "
                            "dotprefix; content:\".%s\"; endswith; nocase; "
                            "classtype:trojan-activity; "
                            "sid:%ld; rev:1;)\n",
                            bufs[2 * k], bufs[2 * k + 1], v, bufs[2 * k + 1], v, sid++);
                break;
            case TIDE_OBS_JA3:
                tide__buf_clear(&b);
                if ((rc = tide__buf_printf(&b, "tide-ja3 md5 %s", v)) < 0)
                    break;
                fprintf(fs[JA3].f, "%s\n", v);
                rc = tide__exp_state_add(x, b.ptr);
                cnt[JA3]++;
                break;
            case TIDE_OBS_MD5:
                fprintf(fs[MD5].f, "%s\n", v);
                cnt[MD5]++;
                break;
            case TIDE_OBS_SHA1:
                fprintf(fs[SHA1].f, "%s\n", v);
                cnt[SHA1]++;
                break;
            case TIDE_OBS_SHA256:
                fprintf(fs[SHA256].f, "%s\n", v);
                cnt[SHA256]++;
                break;
            case TIDE_OBS_URL: {
                const char *h = strstr(v, "://");
                h = h ? h + 3 : v;
                size_t hl = strcspn(h, "/?#");
                const char *path = h + hl;
                size_t pl = strcspn(h, ":/?#");
                if (pl == 0 || *path == '\0') {
                    tide__exp_skip(x, TIDE_EXPORT_SKIP_UNSUPPORTED, e, "URL without host or path");
                    continue;
                }
                fprintf(fs[RULES].f, "alert http any any -> any any (msg:\"tide: listed URL\"; "
                                     "http.host; content:\"");
                put_content(fs[RULES].f, h, pl);
                fprintf(fs[RULES].f, "\"; bsize:%zu; nocase; http.uri; content:\"", pl);
                put_content(fs[RULES].f, path, strlen(path));
                fprintf(fs[RULES].f,
                        "\"; startswith; classtype:trojan-activity; sid:%ld; rev:1;)\n", sid++);
                break;
            }
            case TIDE_OBS_IP_PORT: {
                int fam;
                if (pn == pcap) {
                    size_t nc = pcap ? pcap * 2 : 256;
                    ipport *nv = tide__realloc(pv, nc * sizeof(*nv));
                    if (nv == NULL) {
                        rc = tide_error_set(TIDE_ENOMEM, "out of memory");
                        break;
                    }
                    pv = nv;
                    pcap = nc;
                }
                if (!tide__ip_port_split(v, pv[pn].ip, sizeof(pv[pn].ip), &fam, &pv[pn].port)) {
                    tide__exp_skip(x, TIDE_EXPORT_SKIP_UNSUPPORTED, e, "not an address and port");
                    continue;
                }
                pn++;
                break;
            }
            default: { /* IPs and CIDRs */
                int rep = (int)(e->score * 127.0 / 100.0 + 0.5);
                rep = rep < 1 ? 1 : rep > 127 ? 127 : rep;
                fprintf(fs[IPREP].f, "%s,1,%d\n", v, rep);
                cnt[IPREP]++;
                break;
            }
        }
        x->sum->written++;
    }
    if (rc == 0) {
        FILE *r = fs[RULES].f;
        fprintf(fs[CATS].f, "1,tide,tide intel blocklist\n");
        if (cnt[DOM]) {
            static const char *const proto[][2] = { { "dns", "dns.query" }, { "tls", "tls.sni" },
                { "http", "http.host" } };
            for (int k = 0; k < 3; k++)
                fprintf(r,
                        "alert %s any any -> any any (msg:\"tide: %s in the tide-domains "
                        "dataset\"; %s; dataset:isset,tide-domains,type string,load "
                        "tide-domains.lst; classtype:trojan-activity; sid:%d; rev:1;)\n",
                        proto[k][0], proto[k][1], proto[k][1], SID_BASE + 1 + k);
        }
        if (cnt[JA3])
            fprintf(r,
                    "alert tls any any -> any any (msg:\"tide: JA3 in the tide-ja3 dataset\"; "
                    "ja3.hash; dataset:isset,tide-ja3,type md5,load tide-ja3.lst; "
                    "classtype:trojan-activity; sid:%d; rev:1;)\n",
                    SID_BASE + 4);
        static const char *const hk[] = { "filemd5", "filesha1", "filesha256" };
        for (int k = 0; k < 3; k++)
            if (cnt[MD5 + k])
                fprintf(r,
                        "alert http any any -> any any (msg:\"tide: file hash listed (%s)\"; "
                        "%s:%s; classtype:trojan-activity; sid:%d; rev:1;)\n",
                        hk[k], hk[k], names[MD5 + k], SID_BASE + 5 + k);
        put_port_rules(r, pv, pn, sid);
        if (cnt[IPREP])
            fprintf(r,
                    "alert ip any any -> any any (msg:\"tide: address on the tide reputation "
                    "list\"; iprep:any,tide,>,0; classtype:trojan-activity; sid:%d; rev:1;)\n",
                    SID_BASE + 8);
    }
    tide__buf_free(&b);
    tide__free(pv);
    for (int i = 0; i < NF; i++) {
        int crc = tide__exp_close(&fs[i], rc == 0);
        if (rc == 0)
            rc = crc;
    }
    if (rc == 0 && x->opts->incremental) { /* no state yet: every entry is added */
        x->sum->incremental = x->have_prev;
        tide__exp_file fc;
        TIDE_CHECK(tide__exp_open(x, "tide-dataset-changes.txt", &fc));
        rc = tide__exp_diff(x, diff_cb, fc.f);
        int crc = tide__exp_close(&fc, rc == 0);
        if (rc == 0)
            rc = crc;
    }
    return rc;
}
