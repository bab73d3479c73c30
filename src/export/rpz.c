/*
 * rpz.c - DNS Response Policy Zone writer (draft-vixie-dnsop-dns-rpz): SOA whose serial grows
 * on every export, NS, QNAME triggers for each domain and its subdomains ("d" and "*.d"), and
 * rpz-ip triggers for IPv4 / IPv6 addresses and CIDRs (prefix length first, then the address
 * reversed: 1.2.3.4/32 -> 32.4.3.2.1.rpz-ip; IPv6 groups reversed, the longest zero run
 * written "zz"). Actions: NXDOMAIN (CNAME .), NODATA (CNAME *.), DROP (CNAME rpz-drop.),
 * PASSTHRU (CNAME rpz-passthru.), local data (A / AAAA / CNAME target).
 * Incremental mode writes the new full zone plus OUTPUT.added / OUTPUT.removed owner lists.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "export/export_int.h"
#include "util/ipaddr.h"

/* owner name of an rpz-ip trigger into b */
static int rpz_ip_owner(tide_buf *b, const char *value)
{
    uint8_t a[16];
    unsigned len;
    int fam = tide__cidr_parse(value, strlen(value), 0, a, &len);
    if (fam <= 0) /* a bad prefix too (it was read as 0 once: a 0/0 trigger) */
        return TIDE_EPARSE;
    if (fam == 4)
        return tide__buf_printf(b, "%u.%u.%u.%u.%u.rpz-ip", len, a[3], a[2], a[1], a[0]);
    unsigned g[8];
    for (int i = 0; i < 8; i++)
        g[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
    /* longest run (>= 2) of zero groups, first one on ties (RFC 5952) */
    int best = -1, bestlen = 1;
    for (int i = 0; i < 8;) {
        if (g[i] != 0) {
            i++;
            continue;
        }
        int j = i;
        while (j < 8 && g[j] == 0)
            j++;
        if (j - i > bestlen) {
            best = i;
            bestlen = j - i;
        }
        i = j;
    }
    TIDE_CHECK(tide__buf_printf(b, "%u", len));
    for (int i = 7; i >= 0; i--) {
        if (best >= 0 && i == best + bestlen - 1) {
            TIDE_CHECK(tide__buf_puts(b, ".zz"));
            i = best;
            continue;
        }
        TIDE_CHECK(tide__buf_printf(b, ".%x", g[i]));
    }
    return tide__buf_puts(b, ".rpz-ip");
}

static bool domain_ok(const char *d, size_t maxlen)
{
    size_t n = strlen(d), lab = 0;
    if (n == 0 || n > maxlen || d[0] == '.' || d[n - 1] == '.')
        return false;
    for (const char *p = d; *p; p++) {
        char c = *p;
        if (c == '.') {
            if (lab == 0)
                return false;
            lab = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
        if (++lab > 63)
            return false;
    }
    return true;
}

/* a host name, with or without the trailing dot */
static bool domain_ok_trail(const char *t)
{
    char d[256];
    snprintf(d, sizeof(d), "%s", t);
    size_t n = strlen(d);
    if (n > 1 && d[n - 1] == '.')
        d[n - 1] = '\0';
    for (char *p = d; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return domain_ok(d, 253);
}

/* rdata of the action */
static int action_rdata(const char *action, char *out, size_t cap)
{
    if (action == NULL || strcasecmp(action, "nxdomain") == 0) {
        snprintf(out, cap, "CNAME .");
    } else if (strcasecmp(action, "nodata") == 0) {
        snprintf(out, cap, "CNAME *.");
    } else if (strcasecmp(action, "drop") == 0) {
        snprintf(out, cap, "CNAME rpz-drop.");
    } else if (strcasecmp(action, "passthru") == 0) {
        snprintf(out, cap, "CNAME rpz-passthru.");
    } else if (strncasecmp(action, "local-data=", 11) == 0) {
        const char *t = action + 11;
        uint8_t a[16];
        int fam = tide__ip_parse(t, strlen(t), 0, a);
        if (fam == 4)
            snprintf(out, cap, "A %s", t);
        else if (fam == 6)
            snprintf(out, cap, "AAAA %s", t);
        else if (strlen(t) < 254 && t[0] && domain_ok_trail(t))
            snprintf(out, cap, "CNAME %s%s", t, t[strlen(t) - 1] == '.' ? "" : ".");
        else
            return tide_error_set(TIDE_EINVAL,
                    "--action local-data=%s: not an IPv4, IPv6 address or host name", t);
    } else {
        return tide_error_set(TIDE_EINVAL,
                "--action '%s': use nxdomain, nodata, drop, passthru or local-data=TARGET", action);
    }
    return 0;
}

typedef struct {
    FILE *add, *rem;
} diff_files;

static int diff_cb(bool added, const char *line, void *payload)
{
    diff_files *d = payload;
    /* the owner name is the line up to the tab */
    size_t n = strcspn(line, "\t");
    fprintf(added ? d->add : d->rem, "%.*s\n", (int)n, line);
    return 0;
}

int tide__exp_rpz(tide__exp *x)
{
    const tide_export_opts *o = x->opts;
    const char *zone = o->zone ? o->zone : "rpz.tide";
    char rdata[300];
    TIDE_CHECK(action_rdata(o->action, rdata, sizeof(rdata)));
    /* serial: strictly above the last one written to this output, and at least the clock */
    int64_t serial = x->now / 1000;
    if (x->have_prev && x->prev_serial >= serial)
        serial = x->prev_serial + 1;
    if (serial > 4294967295LL)
        serial = 1;
    x->serial = serial;
    x->sum->serial = serial;
    size_t zl = strlen(zone);
    size_t maxname = zl + 2 < 253 ? 253 - zl - 2 - 2 : 0; /* room for "*." and ".zone" */

    tide__exp_file f;
    TIDE_CHECK(tide__exp_open(x, NULL, &f));
    fprintf(f.f,
            "; tide RPZ export (%s)\n$TTL 300\n@ IN SOA localhost. hostmaster.localhost. "
            "( %lld 3600 600 86400 300 )\n  IN NS localhost.\n",
            zone, (long long)serial);
    tide_buf line = TIDE_BUF_INIT;
    int rc = 0;
    for (size_t i = 0; i < x->n && rc == 0; i++) {
        tide__exp_entry *e = &x->v[i];
        tide__buf_clear(&line);
        if (e->kind == TIDE_OBS_DOMAIN) {
            if (!domain_ok(e->val, maxname)) {
                tide__exp_skip(x, TIDE_EXPORT_SKIP_UNSUPPORTED, e, "not a valid DNS name");
                continue;
            }
            if ((rc = tide__buf_printf(&line, "%s\t%s", e->val, rdata)) < 0)
                break;
            fprintf(f.f, "%s\t%s\n*.%s\t%s\n", e->val, rdata, e->val, rdata);
            rc = tide__exp_state_add(x, line.ptr);
            tide__buf_clear(&line);
            if (rc == 0 && (rc = tide__buf_printf(&line, "*.%s\t%s", e->val, rdata)) == 0)
                rc = tide__exp_state_add(x, line.ptr);
        } else {
            if ((rc = rpz_ip_owner(&line, e->val)) < 0) {
                rc = 0;
                tide__exp_skip(x, TIDE_EXPORT_SKIP_UNSUPPORTED, e, "not an IP address");
                continue;
            }
            if ((rc = tide__buf_printf(&line, "\t%s", rdata)) < 0)
                break;
            fprintf(f.f, "%s\n", line.ptr);
            rc = tide__exp_state_add(x, line.ptr);
        }
        x->sum->written++;
    }
    tide__buf_free(&line);
    int crc = tide__exp_close(&f, rc == 0);
    if (rc == 0)
        rc = crc;
    if (rc == 0 && o->incremental) { /* no state yet: every name is added */
        x->sum->incremental = x->have_prev;
        tide__exp_file fa, fr;
        if ((rc = tide__exp_open(x, "added", &fa)) < 0)
            return rc;
        if ((rc = tide__exp_open(x, "removed", &fr)) < 0) {
            tide__exp_close(&fa, false);
            return rc;
        }
        diff_files d = { fa.f, fr.f };
        rc = tide__exp_diff(x, diff_cb, &d);
        int r1 = tide__exp_close(&fa, rc == 0), r2 = tide__exp_close(&fr, rc == 0);
        if (rc == 0)
            rc = r1 < 0 ? r1 : r2;
    }
    return rc;
}
