/*
 * read_csv.c - CSV indicator feeds (RFC 4180: quoted fields, doubled quotes, CRLF, newlines
 * inside quotes, a UTF-8 BOM). The record splitter is hand-written: it is a small state
 * machine, and none of the allowed libraries parses CSV. A quoted field runs on over a newline
 * only while the next line does not read as a record of its own (the header's field count,
 * balanced quotes), and over at most MAX_QUOTED_LINES lines: a quote left open is one rejected
 * row ("unterminated quote"), never the rows after it.
 *
 * Columns: opts->csv_columns ("type=1,value=2,campaign=3,confidence=4", 1-based, or by header
 * name "value=ioc,type=ioc_type"), else from the header row: value|ioc|indicator|observable,
 * type|ioc_type, campaign|family|malware|malware_family|threat, confidence, first_seen|
 * valid_from, tags|tlp. A header whose every column is an observable type name ("md5, sha1,
 * sha256", the MISP CSV import layout) makes each column a value column of that type. With a
 * numeric mapping the first row is taken as a header when its value field is no observable.
 *
 * Each value becomes an indicator (emit_indicator.c); a campaign column gives a campaign SDO
 * (emitted once per name per file) that the indicator "indicates". Bad rows (wrong field
 * count, empty value, unknown type, type/value mismatch, bad confidence or date, a value or
 * campaign that is not UTF-8, an unterminated quote) are rejected with their line and the
 * reason; reading goes on.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdint.h>
#include <sys/types.h>

#include "ingest/emit_indicator.h"
#include "ingest/sink.h"
#include "intel/tlp.h"
#include "util/util.h"

#define MAX_FIELDS         256
#define MAX_SEEN_CAMPAIGNS 100000
#define MAX_QUOTED_LINES   100   /* lines one quoted field may span */
#define MAX_PEEK_BYTES     65536 /* how far the look at the next line reads */

enum {
    R_VALUE,
    R_TYPE,
    R_CAMPAIGN,
    R_MALWARE,
    R_CONFIDENCE,
    R_FIRST_SEEN,
    R_TAGS,
    R__COUNT
};

/* Header names of each role, the preferred first when a header has several (ThreatFox has
 * fk_malware "win.xworm" and malware_printable "XWorm"). */
static const char *const role_names[R__COUNT][8] = {
    [R_VALUE] = { "value", "ioc", "ioc_value", "indicator", "observable", NULL },
    [R_TYPE] = { "type", "ioc_type", "indicator_type", "attribute_type", NULL },
    [R_CAMPAIGN] = { "campaign", "campaign_name", NULL },
    [R_MALWARE] = { "malware_printable", "malware", "family", "malware_family", "malware_name",
            "fk_malware", NULL },
    [R_CONFIDENCE] = { "confidence", "confidence_level", NULL },
    [R_FIRST_SEEN] = { "first_seen", "valid_from", "first_seen_utc", NULL },
    [R_TAGS] = { "tags", "tlp", NULL },
};

typedef struct {
    tide_buf data;          /* fields, each NUL-terminated */
    size_t off[MAX_FIELDS]; /* start of each field in data */
    int n;
    long line;        /* line the record starts on */
    long long offset; /* byte offset where it starts */
    bool too_long, too_many;
    int unterminated; /* 1-based field whose opening quote was never closed, else 0 */
    bool comment;     /* a '#' line: its text after the '#' is field 0 */
} record;

typedef struct {
    FILE *fp;
    long line;
    long long offset;
    bool eof;
} reader;

static int field_end(record *r)
{
    TIDE_CHECK(tide__buf_putc(&r->data, '\0'));
    return 0;
}

/* Whether the line that starts at the reader's position reads as a record of its own: nfields
 * fields, its quotes balanced. The position is restored. A quoted field runs on over a newline
 * only when the next line does not (RFC 4180 allows newlines inside quotes, but one quote left
 * open must cost its own row, not every row after it). */
static bool next_line_is_record(reader *rd, int nfields)
{
    off_t pos = ftello(rd->fp);
    if (pos < 0)
        return false; /* cannot look ahead: the field runs on, within its caps */
    int n = 1, c;
    bool in_q = false, at_start = true, is_record = false;
    for (size_t i = 0; i < MAX_PEEK_BYTES; i++) {
        c = getc(rd->fp);
        if (c == EOF || (c == '\n' && !in_q)) {
            is_record = !in_q && n == nfields && !(c == EOF && i == 0);
            break;
        }
        if (in_q) {
            if (c == '"') {
                int d = getc(rd->fp);
                if (d != '"') {
                    in_q = false;
                    if (d == EOF || (d == '\n')) {
                        is_record = n == nfields;
                        break;
                    }
                    if (d == ',') {
                        n++;
                        at_start = true;
                    } else {
                        at_start = false;
                    }
                }
            }
            continue;
        }
        if (c == '"' && at_start) {
            in_q = true;
        } else if (c == ',') {
            n++;
            at_start = true;
            continue;
        }
        at_start = false;
    }
    clearerr(rd->fp);
    if (fseeko(rd->fp, pos, SEEK_SET) != 0)
        return false;
    return is_record;
}

/* Whether the field begun at start holds nothing but blanks so far. */
static bool blank_since(const record *r, size_t start)
{
    for (size_t i = start; i < r->data.len; i++)
        if (r->data.ptr[i] != ' ' && r->data.ptr[i] != '\t')
            return false;
    return true;
}

/* Read one record. nfields: the header's field count (0 while reading the header). Returns 1
 * when a record was read, 0 at EOF, < 0 on error. */
static int read_record(reader *rd, record *r, int nfields)
{
    tide__buf_clear(&r->data);
    r->n = 0;
    r->too_long = r->too_many = false;
    r->unterminated = 0;
    r->comment = false;
    r->line = rd->line;
    r->offset = rd->offset;
    if (rd->eof)
        return 0;
    bool quoted = false, in_quotes = false, any = false;
    size_t start = 0;
    int c;
    r->off[0] = 0;
    r->n = 1;
    if ((c = getc(rd->fp)) == '#') {
        /* a comment line (abuse.ch exports open and close with them; their header is one) */
        rd->offset++;
        r->comment = true;
        while ((c = getc(rd->fp)) != EOF) {
            rd->offset++;
            if (c == '\n') {
                rd->line++;
                break;
            }
            if (tide__buf_putc(&r->data, (char)c) < 0)
                r->too_long = true;
        }
        if (c == EOF)
            rd->eof = true;
        if (field_end(r) < 0)
            r->too_long = true;
        return 1;
    }
    if (c != EOF)
        ungetc(c, rd->fp);
    for (;;) {
        c = getc(rd->fp);
        if (c == EOF) {
            if (ferror(rd->fp))
                return tide_error_set(TIDE_EIO, "read error at byte %lld", rd->offset);
            rd->eof = true;
            if (!any)
                return 0;
            if (in_quotes)
                r->unterminated = r->n;
            break;
        }
        rd->offset++;
        any = true;
        if (c == '\n')
            rd->line++;
        if (in_quotes && c == '\n' &&
                (nfields <= 0 || rd->line - r->line > MAX_QUOTED_LINES ||
                        next_line_is_record(rd, nfields))) {
            /* the quote was never closed: the record ends with its line */
            r->unterminated = r->n;
            break;
        }
        if (in_quotes) {
            if (c == '"') {
                int d = getc(rd->fp);
                if (d == '"') {
                    rd->offset++;
                } else {
                    if (d != EOF)
                        ungetc(d, rd->fp);
                    in_quotes = false;
                    continue;
                }
            }
        } else if (c == '"' && !quoted && blank_since(r, start)) {
            /* a quoted field, maybe after blanks ("a", "b": ThreatFox's exports) */
            r->data.len = start;
            if (r->data.ptr)
                r->data.ptr[start] = '\0';
            quoted = in_quotes = true;
            continue;
        } else if (c == ',') {
            if (field_end(r) < 0)
                goto toolong;
            if (r->n >= MAX_FIELDS) {
                r->too_many = true;
            } else {
                r->off[r->n++] = r->data.len;
            }
            start = r->data.len;
            quoted = false;
            continue;
        } else if (c == '\n') {
            break;
        }
        if (r->too_many)
            continue;
        if (tide__buf_putc(&r->data, (char)c) < 0)
            goto toolong;
        continue;
    toolong:
        r->too_long = true;
        /* skip to the end of the line */
        while ((c = getc(rd->fp)) != EOF) {
            rd->offset++;
            if (c == '\n') {
                rd->line++;
                break;
            }
        }
        if (c == EOF)
            rd->eof = true;
        return 1;
    }
    if (field_end(r) < 0)
        r->too_long = true;
    return 1;
}

static char *field(record *r, int i)
{
    char *f = r->data.ptr + r->off[i];
    /* strip CR of CRLF (last field) and surrounding blanks */
    size_t l = strlen(f);
    while (l > 0 && (f[l - 1] == '\r' || f[l - 1] == ' ' || f[l - 1] == '\t'))
        f[--l] = '\0';
    while (*f == ' ' || *f == '\t')
        f++;
    return f;
}

/* ---- type column ---- */
#define IP_ANY ((tide_obs_kind)1000)
#define HASHES ((tide_obs_kind)1001) /* "file" / "hash": one or more hashes of any length */

static tide_obs_kind type_kind(const char *t)
{
    static const struct {
        const char *name;
        tide_obs_kind kind;
    } map[] = {
        { "ipv4", IP_ANY },
        { "ipv6", IP_ANY },
        { "ip", IP_ANY },
        { "ip-dst", IP_ANY },
        { "ip-src", IP_ANY },
        { "ipv4-addr", IP_ANY },
        { "ipv6-addr", IP_ANY },
        { "ip_address", IP_ANY },
        { "ipaddress", IP_ANY },
        { "ip-address", IP_ANY },
        { "ipaddr", IP_ANY },
        { "ip_addr", IP_ANY },
        { "ip_port", TIDE_OBS_IP_PORT },
        { "ip-src|port", TIDE_OBS_IP_PORT },
        { "ip:port", TIDE_OBS_IP_PORT },
        { "ip-dst|port", TIDE_OBS_IP_PORT },
        { "ip-port", TIDE_OBS_IP_PORT },
        { "cidr", IP_ANY },
        { "cidr4", TIDE_OBS_CIDR4 },
        { "cidr6", TIDE_OBS_CIDR6 },
        { "domain", TIDE_OBS_DOMAIN },
        { "hostname", TIDE_OBS_DOMAIN },
        { "domain-name", TIDE_OBS_DOMAIN },
        { "domain_name", TIDE_OBS_DOMAIN },
        { "domainname", TIDE_OBS_DOMAIN },
        { "fqdn", TIDE_OBS_DOMAIN },
        { "url", TIDE_OBS_URL },
        { "uri", TIDE_OBS_URL },
        { "link", TIDE_OBS_URL },
        { "url-path", TIDE_OBS_URL_PATH },
        { "md5", TIDE_OBS_MD5 },
        { "sha1", TIDE_OBS_SHA1 },
        { "sha256", TIDE_OBS_SHA256 },
        { "sha512", TIDE_OBS_SHA512 },
        { "sha_256_hash", TIDE_OBS_SHA256 },
        { "sha256_hash", TIDE_OBS_SHA256 },
        { "sha-256", TIDE_OBS_SHA256 },
        { "sha1_hash", TIDE_OBS_SHA1 },
        { "sha-1", TIDE_OBS_SHA1 },
        { "sha512_hash", TIDE_OBS_SHA512 },
        { "sha-512", TIDE_OBS_SHA512 },
        { "md5_hash", TIDE_OBS_MD5 },
        { "file", HASHES },
        { "hash", HASHES },
        { "hashes", HASHES },
        { "filehash", HASHES },
        { "file_hash", HASHES },
        { "file-hash", HASHES },
        { "email", TIDE_OBS_EMAIL },
        { "email-src", TIDE_OBS_EMAIL },
        { "email-dst", TIDE_OBS_EMAIL },
        { "email-addr", TIDE_OBS_EMAIL },
        { "email-sender", TIDE_OBS_EMAIL },
        { "email-recipient", TIDE_OBS_EMAIL },
        { "email-reply-to", TIDE_OBS_EMAIL },
        { "email_address", TIDE_OBS_EMAIL },
        { "email-address", TIDE_OBS_EMAIL },
        { "emailaddress", TIDE_OBS_EMAIL },
        { "e-mail", TIDE_OBS_EMAIL },
        { "ja3", TIDE_OBS_JA3 },
        { "ja3-fingerprint-md5", TIDE_OBS_JA3 },
        { "x509-fingerprint-sha1", TIDE_OBS_X509_SHA1 },
        { "x509-sha1", TIDE_OBS_X509_SHA1 },
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcasecmp(t, map[i].name) == 0)
            return map[i].kind;
    return TIDE_OBS_NONE;
}

typedef struct {
    tide_sink *sink;
    tide__emitter em;
    int col[R__COUNT];                  /* 0-based, -1 = none */
    tide_obs_kind col_type[MAX_FIELDS]; /* multi-type layout: type of each column */
    bool multi;
    int nfields;            /* from the header (or first row) */
    json_t *seen_campaigns; /* "<type>|<name>" -> id of the malware / campaign emitted */
    const char *also;       /* a second object the row's indicators indicate (its campaign) */
} csv_state;

/* The role a header name gives its column, or -1; *rank: its place among the role's names. */
static int role_rank(const char *name, int *rank)
{
    for (int r = 0; r < R__COUNT; r++)
        for (int i = 0; role_names[r][i]; i++)
            if (strcasecmp(name, role_names[r][i]) == 0) {
                *rank = i;
                return r;
            }
    return -1;
}

static int role_of(const char *name)
{
    int rank;
    return role_rank(name, &rank);
}

/* Parse opts->csv_columns. *numeric: all given by number. */
static int parse_mapping(csv_state *st, const char *spec, record *hdr, bool *numeric)
{
    *numeric = true;
    const char *p = spec;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char item[256];
        if (n >= sizeof(item))
            return tide_error_set(TIDE_EINVAL, "csv columns: item too long in '%s'", spec);
        memcpy(item, p, n);
        item[n] = '\0';
        char *eq = strchr(item, '=');
        if (eq == NULL)
            return tide_error_set(TIDE_EINVAL, "csv columns: '%s' is not role=column", item);
        *eq = '\0';
        char *key = tide__str_trim(item), *val = tide__str_trim(eq + 1);
        int role = role_of(key);
        if (role < 0)
            return tide_error_set(TIDE_EINVAL,
                    "csv columns: unknown role '%s' (value, type, "
                    "malware (or family), campaign, confidence, first_seen, tags)",
                    key);
        long idx;
        if (tide__parse_long(val, &idx) == 0) {
            if (idx < 1 || idx > MAX_FIELDS)
                return tide_error_set(TIDE_EINVAL, "csv columns: column %ld out of range", idx);
            st->col[role] = (int)idx - 1;
        } else {
            *numeric = false;
            int found = -1;
            for (int i = 0; hdr && i < hdr->n; i++)
                if (strcasecmp(field(hdr, i), val) == 0)
                    found = i;
            if (found < 0)
                return tide_error_set(TIDE_EFORMAT,
                        "csv columns: no column named '%s' in the "
                        "header",
                        val);
            st->col[role] = found;
        }
        p = end ? end + 1 : p + n;
    }
    tide_error_clear();
    if (st->col[R_VALUE] < 0)
        return tide_error_set(TIDE_EINVAL, "csv columns: no value column in '%s'", spec);
    return 0;
}

static int header_auto(csv_state *st, record *hdr, const char *file)
{
    int best[R__COUNT];
    for (int i = 0; i < hdr->n; i++) {
        int rank, role = role_rank(field(hdr, i), &rank);
        if (role >= 0 && (st->col[role] < 0 || rank < best[role])) {
            st->col[role] = i;
            best[role] = rank;
        }
    }
    if (st->col[R_VALUE] >= 0)
        return 0;
    /* columns named by an observable type: the MISP CSV layout (every column a type name),
     * URLhaus' "url" column among others (id, dateadded, url_status ...: not read) */
    tide_buf unknown = TIDE_BUF_INIT;
    int typed = 0;
    for (int i = 0; i < hdr->n; i++) {
        const char *f = field(hdr, i);
        bool lower = true; /* type names in lower case, as MISP's CSV import wants them */
        for (const char *q = f; *q; q++)
            if (isupper((unsigned char)*q))
                lower = false;
        tide_obs_kind k = lower ? type_kind(f) : TIDE_OBS_NONE;
        if (k == TIDE_OBS_NONE && role_of(f) < 0)
            tide__buf_printf(&unknown, "%s'%s'", unknown.len ? ", " : "", f);
        st->col_type[i] = k;
        typed += k != TIDE_OBS_NONE;
    }
    int rc = 0;
    if (typed == 0) {
        rc = tide_error_set(TIDE_EFORMAT,
                "%s: line %ld: CSV header has no value column and unknown column names %s "
                "(expected value/ioc/indicator + type, or observable type names such as "
                "md5, sha1, ip-dst, domain, url; or give a column mapping)",
                file, hdr->line, unknown.ptr ? unknown.ptr : "''");
    } else {
        st->multi = true;
    }
    tide__buf_free(&unknown);
    return rc;
}

static int emit_value(csv_state *st, record *r, const char *value, tide_obs_kind want,
        const char *type_text, const char *campaign_id, int confidence, json_t *extra);

/* A "file" / "hash" field: one or more hashes (MD5, SHA-1, SHA-256, SHA-512), maybe with a file
 * name, separated by '|', ',', ';' or blanks ("evil.exe|d41d8...", "md5 sha1 sha256"): one
 * indicator per hash; a field holding none is rejected. */
static int emit_hashes(csv_state *st, record *r, const char *value, const char *type_text,
        const char *related_id, int confidence, json_t *extra)
{
    char *copy = tide__strdup(value);
    if (copy == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    int rc = 0, found = 0;
    char *p = copy;
    while (rc == 0 && p && *p) {
        size_t n = strcspn(p, "|,; \t");
        char *next = p[n] ? p + n + 1 : NULL;
        p[n] = '\0';
        tide_obs_kind k = tide_obs_detect(p);
        if (k == TIDE_OBS_MD5 || k == TIDE_OBS_SHA1 || k == TIDE_OBS_SHA256 ||
                k == TIDE_OBS_SHA512) {
            found++;
            rc = emit_value(st, r, p, k, type_text, related_id, confidence, extra);
        }
        p = next;
    }
    tide__free(copy);
    if (rc == 0 && found == 0)
        tide__sink_rejectf(st->sink, r->line, r->offset,
                "type '%.40s' but no MD5, SHA-1, SHA-256 or SHA-512 hash in '%.200s'", type_text,
                value);
    return rc;
}

static int emit_value(csv_state *st, record *r, const char *value, tide_obs_kind want,
        const char *type_text, const char *campaign_id, int confidence, json_t *extra)
{
    tide_obs_kind kind;
    char *canon = NULL;
    int rc;
    if (*value == '\0') {
        tide__sink_rejectf(st->sink, r->line, r->offset, "empty value");
        return 0;
    }
    if (want == HASHES)
        return emit_hashes(st, r, value, type_text, campaign_id, confidence, extra);
    char ipport[80];
    const char *bar = strchr(value, '|');
    if (want == TIDE_OBS_IP_PORT && bar && strlen(value) < sizeof(ipport)) {
        /* MISP's ip-dst|port writes "1.2.3.4|8080" */
        snprintf(ipport, sizeof(ipport), "%.*s:%s", (int)(bar - value), value, bar + 1);
        value = ipport;
    }
    if (want == IP_ANY) {
        rc = tide__value_prepare(value, TIDE_OBS_NONE, &kind, &canon);
        if (rc == 0 && kind != TIDE_OBS_IPV4 && kind != TIDE_OBS_IPV6 && kind != TIDE_OBS_CIDR4 &&
                kind != TIDE_OBS_CIDR6) {
            free(canon);
            canon = NULL;
            rc = tide_error_set(TIDE_EPARSE, "type '%s' but value is %s: '%.200s'", type_text,
                    tide_obs_kind_name(kind), value);
        }
    } else {
        rc = tide__value_prepare(value, want, &kind, &canon);
    }
    if (rc == TIDE_EPARSE) {
        tide__sink_rejectf(st->sink, r->line, r->offset, "%s", tide_error_last());
        return 0;
    }
    TIDE_CHECK(rc);
    st->sink->line = r->line;
    st->sink->offset = r->offset;
    char id[128];
    rc = tide__emit_indicator(&st->em, kind, canon, value, confidence, extra, campaign_id, id);
    free(canon);
    if (rc == 0 && st->also)
        rc = tide__emit_relationship(&st->em, id, "indicates", st->also);
    return rc;
}

/* A field whose text goes into the stored JSON must be UTF-8: the value (also the indicator's
 * name) and the campaign (whose name is its identity) are not repaired but rejected. */
static bool field_utf8(csv_state *st, record *r, int col, const char *role)
{
    const char *f = field(r, col);
    size_t n = strlen(f), bad = tide__utf8_invalid_at(f, n);
    if (bad == n)
        return true;
    tide__sink_rejectf(st->sink, r->line, r->offset,
            "field %d (%s) is not valid UTF-8 (byte %zu is 0x%02x)", col + 1, role, bad + 1,
            (unsigned char)f[bad]);
    return false;
}

/* Names feeds write where they know no family ("None", "Unknown malware", "n/a"). */
static bool no_name(const char *n)
{
    static const char *const none[] = { "", "none", "null", "unknown", "unknown malware", "n/a",
        "na", "-", "?" };
    char c0 = (char)(n[0] | 0x20);
    if (n[0] && c0 != 'n' && c0 != 'u' && n[0] != '-' && n[0] != '?')
        return false; /* none of them begins so: the usual case, decided at once */
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
        if (strcasecmp(n, none[i]) == 0)
            return true;
    return false;
}

/* The malware or campaign SDO of name (emitted once per file), its id into id: 1, or 0 when
 * the field names none, < 0 on a fatal error. */
static int group_of(csv_state *st, record *r, const char *type, const char *name, char id[128])
{
    if (no_name(name))
        return 0;
    /* the key "<type>|<name>", on the stack for the usual name */
    char small[256];
    tide_buf key = TIDE_BUF_INIT;
    const char *k = small;
    size_t tl = strlen(type), nl = strlen(name);
    if (tl + 1 + nl < sizeof(small)) {
        memcpy(small, type, tl);
        small[tl] = '|';
        memcpy(small + tl + 1, name, nl + 1);
    } else {
        if (tide__buf_printf(&key, "%s|%s", type, name) < 0) {
            tide__buf_free(&key);
            return tide_error_set(TIDE_ENOMEM, "out of memory");
        }
        k = key.ptr;
    }
    json_t *known = json_object_get(st->seen_campaigns, k);
    int rc = 1;
    size_t il = known ? json_string_length(known) : 0;
    if (known && il < 128) {
        memcpy(id, json_string_value(known), il + 1);
    } else {
        st->sink->line = r->line;
        st->sink->offset = r->offset;
        rc = tide__emit_group(&st->em, type, name, NULL, NULL, id);
        if (rc == 0 && json_object_size(st->seen_campaigns) < MAX_SEEN_CAMPAIGNS)
            json_object_set_new(st->seen_campaigns, k, json_string(id));
        if (rc == 0)
            rc = 1;
    }
    tide__buf_free(&key);
    return rc;
}

/* A MISP composite type ("domain|ip", "filename|sha256", "ip-dst|port" written "ip|port"):
 * each part of the value with the type of its place; file names are no observable. */
static int emit_composite(csv_state *st, record *r, const char *type_text, const char *value,
        const char *related_id, int confidence, json_t *extra)
{
    const char *tbar = strchr(type_text, '|'), *vbar = strchr(value, '|');
    if (vbar == NULL || strchr(vbar + 1, '|') || strchr(tbar + 1, '|')) {
        tide__sink_rejectf(st->sink, r->line, r->offset,
                "composite type '%.60s' needs two values joined by '|': '%.200s'", type_text,
                value);
        return 0;
    }
    char t[2][64], v[2][1024];
    size_t tl[2] = { (size_t)(tbar - type_text), strlen(tbar + 1) };
    size_t vl[2] = { (size_t)(vbar - value), strlen(vbar + 1) };
    if (tl[0] >= sizeof(t[0]) || tl[1] >= sizeof(t[1]) || vl[0] >= sizeof(v[0]) ||
            vl[1] >= sizeof(v[1])) {
        tide__sink_rejectf(st->sink, r->line, r->offset, "composite value too long");
        return 0;
    }
    memcpy(t[0], type_text, tl[0]);
    t[0][tl[0]] = '\0';
    memcpy(t[1], tbar + 1, tl[1] + 1);
    memcpy(v[0], value, vl[0]);
    v[0][vl[0]] = '\0';
    memcpy(v[1], vbar + 1, vl[1] + 1);
    int emitted = 0, rc = 0;
    for (int i = 0; i < 2 && rc == 0; i++) {
        char *part = tide__str_trim(v[i]);
        if (strcasecmp(t[i], "filename") == 0 || *part == '\0')
            continue;
        tide_obs_kind k = type_kind(t[i]);
        if (k == TIDE_OBS_NONE) {
            tide__sink_rejectf(st->sink, r->line, r->offset, "unknown type '%.60s' in '%.60s'",
                    t[i], type_text);
            return 0;
        }
        emitted++;
        rc = emit_value(st, r, part, k, t[i], related_id, confidence, extra);
    }
    if (rc == 0 && emitted == 0)
        tide__sink_rejectf(st->sink, r->line, r->offset, "no observable in '%.200s'", value);
    return rc;
}

static int do_row(csv_state *st, record *r)
{
    if (r->too_long) {
        tide__sink_rejectf(
                st->sink, r->line, r->offset, "record longer than %u bytes", TIDE_MAX_LINE_BYTES);
        return 0;
    }
    if (r->too_many) {
        tide__sink_rejectf(st->sink, r->line, r->offset, "more than %d fields", MAX_FIELDS);
        return 0;
    }
    if (r->unterminated) {
        tide__sink_rejectf(st->sink, r->line, r->offset,
                "unterminated quote: field %d opens a quote that is not closed on its line",
                r->unterminated);
        return 0;
    }
    if (r->n == 1 && *field(r, 0) == '\0')
        return 0; /* blank line */
    if (r->n != st->nfields) {
        tide__sink_rejectf(
                st->sink, r->line, r->offset, "expected %d fields, got %d", st->nfields, r->n);
        return 0;
    }
    if (st->col[R_CAMPAIGN] >= 0 && !field_utf8(st, r, st->col[R_CAMPAIGN], "campaign"))
        return 0;
    if (st->col[R_MALWARE] >= 0 && !field_utf8(st, r, st->col[R_MALWARE], "malware"))
        return 0;
    if (st->multi) {
        for (int i = 0; i < r->n; i++)
            if (st->col_type[i] != TIDE_OBS_NONE && !field_utf8(st, r, i, "value"))
                return 0;
    } else if (!field_utf8(st, r, st->col[R_VALUE], "value")) {
        return 0;
    }
    int confidence = -1;
    json_t *extra = NULL;
    char campaign_id[128], malware_id[128];
    const char *cid = NULL, *fam = NULL;
    int rc = 0;
    if (st->col[R_CONFIDENCE] >= 0) {
        const char *c = field(r, st->col[R_CONFIDENCE]);
        long v;
        if (*c) {
            if (tide__parse_long(c, &v) < 0 || v < 0 || v > 100) {
                tide__sink_rejectf(st->sink, r->line, r->offset,
                        "confidence is not an integer 0-100: '%.50s'", c);
                return 0;
            }
            confidence = (int)v;
        }
    }
    if (st->col[R_FIRST_SEEN] >= 0 && *field(r, st->col[R_FIRST_SEEN])) {
        const char *t = field(r, st->col[R_FIRST_SEEN]);
        int64_t ms;
        char ts[32];
        if (tide__time_parse(t, &ms) < 0) {
            tide__sink_rejectf(st->sink, r->line, r->offset, "bad first_seen date: '%.50s'", t);
            return 0;
        }
        tide__time_format(ms, ts);
        extra = json_object();
        if (extra == NULL || json_object_set_new(extra, "valid_from", json_string(ts)) != 0) {
            json_decref(extra);
            return tide_error_set(TIDE_ENOMEM, "out of memory");
        }
    }
    if (st->col[R_TAGS] >= 0 && *field(r, st->col[R_TAGS])) {
        /* a TLP among the tags ("tlp:amber", "TLP:RED,malware", "green") */
        char *tags = field(r, st->col[R_TAGS]);
        const char *mid = NULL;
        char *p = tags;
        while (p && *p && mid == NULL) {
            char *sep = strpbrk(p, ",;| ");
            char save = 0;
            if (sep) {
                save = *sep;
                *sep = '\0';
            }
            mid = tide__tlp_marking_id(tide__str_trim(p));
            if (sep)
                *sep = save;
            p = sep ? sep + 1 : NULL;
        }
        if (mid) {
            if (extra == NULL)
                extra = json_object();
            if (extra == NULL ||
                    json_object_set_new(extra, "object_marking_refs", json_pack("[s]", mid)) != 0) {
                json_decref(extra);
                return tide_error_set(TIDE_ENOMEM, "out of memory");
            }
        }
    }
    /* the indicator indicates its malware family (its id names it, as a family list's does),
     * and its campaign when the feed names one too */
    if (st->col[R_MALWARE] >= 0) {
        rc = group_of(st, r, "malware", field(r, st->col[R_MALWARE]), malware_id);
        if (rc < 0)
            goto done;
        if (rc > 0)
            fam = malware_id;
    }
    if (st->col[R_CAMPAIGN] >= 0) {
        rc = group_of(st, r, "campaign", field(r, st->col[R_CAMPAIGN]), campaign_id);
        if (rc < 0)
            goto done;
        if (rc > 0)
            cid = campaign_id;
    }
    rc = 0;
    st->also = fam && cid ? cid : NULL;
    if (fam)
        cid = fam;
    if (st->multi) {
        for (int i = 0; i < r->n && rc == 0; i++) {
            if (st->col_type[i] == TIDE_OBS_NONE || *field(r, i) == '\0')
                continue;
            rc = emit_value(st, r, field(r, i), st->col_type[i],
                    st->col_type[i] == HASHES ? "file" : tide_obs_kind_name(st->col_type[i]), cid,
                    confidence, extra);
        }
        goto done;
    }
    tide_obs_kind want = TIDE_OBS_NONE;
    const char *type_text = "";
    if (st->col[R_TYPE] >= 0) {
        type_text = field(r, st->col[R_TYPE]);
        if (strchr(type_text, '|') && type_kind(type_text) == TIDE_OBS_NONE) {
            rc = emit_composite(
                    st, r, type_text, field(r, st->col[R_VALUE]), cid, confidence, extra);
            goto done;
        }
        if (*type_text) {
            want = type_kind(type_text);
            if (want == TIDE_OBS_NONE) {
                tide__sink_rejectf(st->sink, r->line, r->offset, "unknown type '%.60s'", type_text);
                goto done;
            }
        }
    }
    rc = emit_value(st, r, field(r, st->col[R_VALUE]), want, type_text, cid, confidence, extra);
done:
    json_decref(extra);
    return rc;
}

/* The text of a comment line read as a CSV record into out: 1 when it has two fields or
 * more, 0 when not, < 0 on a fatal error. */
static int comment_header(record *out, const char *text)
{
    size_t n = strlen(text);
    if (n == 0)
        return 0;
    FILE *fp = fmemopen((void *)(uintptr_t)text, n, "rb");
    if (fp == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    out->data.max = TIDE_MAX_LINE_BYTES;
    reader rd = { fp, 1, 0, false };
    /* the blank after '#' is not part of the first name */
    int c;
    while ((c = getc(fp)) == ' ' || c == '\t')
        ;
    if (c != EOF)
        ungetc(c, fp);
    int rc = read_record(&rd, out, 0);
    fclose(fp);
    if (rc < 0)
        return rc;
    return rc > 0 && !out->comment && !out->too_long && !out->too_many && !out->unterminated &&
           out->n >= 2;
}

/* Whether a row names columns: a field is a role name (value, ioc_type, malware ...) or an
 * observable type name (md5, ip-dst). */
static bool names_columns(record *r)
{
    for (int i = 0; i < r->n; i++) {
        const char *f = field(r, i);
        if (role_of(f) >= 0 || type_kind(f) != TIDE_OBS_NONE)
            return true;
    }
    return false;
}

/* Whether a field of the row holds an observable; *col its index. */
static bool row_value_col(record *r, int *col)
{
    for (int i = 0; i < r->n; i++) {
        char *rf = NULL;
        const char *f = field(r, i);
        bool v = *f && tide_obs_refang(f, &rf) == 0 && tide_obs_detect(rf) != TIDE_OBS_NONE;
        free(rf);
        if (v) {
            *col = i;
            return true;
        }
    }
    return false;
}

static bool row_has_value(record *r)
{
    int col;
    return row_value_col(r, &col);
}

/* Columns of a file without a header row, from its first row. */
static void headerless(csv_state *st, record *r)
{
    int col = 0;
    row_value_col(r, &col);
    st->col[R_VALUE] = col;
    for (int i = 0; i < r->n; i++)
        if (i != col && type_kind(field(r, i)) != TIDE_OBS_NONE) {
            st->col[R_TYPE] = i;
            break;
        }
}

int tide__read_csv(tide_sink *sink, FILE *fp)
{
    csv_state st;
    memset(&st, 0, sizeof(st));
    st.sink = sink;
    for (int i = 0; i < R__COUNT; i++)
        st.col[i] = -1;
    tide__emitter_init(&st.em, sink, 60);
    record r;
    memset(&r, 0, sizeof(r));
    r.data.max = TIDE_MAX_LINE_BYTES;
    reader rd = { fp, 1, 0, false };
    int rc = 0;
    tide_buf comment = TIDE_BUF_INIT;
    record chdr;
    memset(&chdr, 0, sizeof(chdr));
    st.seen_campaigns = json_object();
    if (st.seen_campaigns == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");

    /* BOM */
    int c1 = getc(fp);
    if (c1 == 0xEF) {
        int c2 = getc(fp), c3 = getc(fp);
        if (c2 != 0xBB || c3 != 0xBF) {
            rc = tide_error_set(TIDE_EFORMAT, "%s: byte 0: not UTF-8 CSV text", sink->file);
            goto done;
        }
        rd.offset = 3;
    } else if (c1 != EOF) {
        ungetc(c1, fp);
    }
    /* '#' comment lines before the header (abuse.ch exports open with a comment block whose
     * last line is the header: "# id,dateadded,url,..."); the last one is kept */
    for (;;) {
        rc = read_record(&rd, &r, 0);
        if (rc <= 0)
            goto done; /* empty file, or comments only: nothing to read */
        if (!r.comment)
            break;
        tide__buf_clear(&comment);
        if (!r.too_long && tide__buf_puts(&comment, r.data.ptr) < 0) {
            rc = tide_error_set(TIDE_ENOMEM, "out of memory");
            goto done;
        }
    }
    if (r.too_long || r.too_many) {
        rc = tide_error_set(TIDE_EFORMAT, "%s: line %ld: CSV header too long", sink->file, r.line);
        goto done;
    }
    if (r.unterminated) {
        rc = tide_error_set(TIDE_EFORMAT,
                "%s: line %ld: unterminated quote in field %d of the header", sink->file, r.line,
                r.unterminated);
        goto done;
    }
    if (memchr(r.data.ptr, '\0', r.data.len) != NULL && r.data.len > 0) {
        /* fields are NUL-separated; a NUL inside a field shows as too many NULs */
        size_t nuls = 0;
        for (size_t i = 0; i < r.data.len; i++)
            nuls += r.data.ptr[i] == '\0';
        if (nuls != (size_t)r.n) {
            rc = tide_error_set(
                    TIDE_EFORMAT, "%s: line %ld: binary data, not CSV", sink->file, r.line);
            goto done;
        }
    }
    /* the header: the first row, or the last comment when it names the columns of a first row
     * that holds data */
    record *hdr = &r;
    bool first_is_data = false;
    if (comment.len > 0) {
        rc = comment_header(&chdr, comment.ptr);
        if (rc < 0)
            goto done;
        if (rc > 0 && chdr.n == r.n && names_columns(&chdr) && row_has_value(&r)) {
            hdr = &chdr;
            first_is_data = true;
        }
        rc = 0;
    }
    st.nfields = hdr->n;
    bool numeric = false;
    const char *spec = sink->opts->csv_columns;
    if (spec && *spec) {
        rc = parse_mapping(&st, spec, hdr, &numeric);
        if (rc < 0)
            goto done;
        for (int i = 0; i < R__COUNT; i++)
            if (st.col[i] >= st.nfields) {
                rc = tide_error_set(TIDE_EFORMAT,
                        "%s: line %ld: column %d mapped but the file "
                        "has %d columns",
                        sink->file, r.line, st.col[i] + 1, st.nfields);
                goto done;
            }
        /* a numeric mapping: the first row is data unless its value is no observable */
        if (numeric && !first_is_data) {
            char *rf = NULL;
            const char *v = field(&r, st.col[R_VALUE]);
            bool is_value = tide_obs_refang(v, &rf) == 0 && tide_obs_detect(rf) != TIDE_OBS_NONE;
            free(rf);
            first_is_data = is_value;
        }
    } else if (!first_is_data && row_has_value(&r)) {
        /* no header row: the first field holding an observable is the value, a field holding
         * a type name its type */
        headerless(&st, &r);
        first_is_data = true;
    } else {
        rc = header_auto(&st, hdr, sink->file);
        if (rc < 0)
            goto done;
    }
    if (first_is_data) {
        rc = do_row(&st, &r);
        if (rc < 0)
            goto done;
    }
    for (;;) {
        rc = read_record(&rd, &r, st.nfields);
        if (rc <= 0)
            break;
        if (r.comment)
            continue; /* "# END" */
        rc = do_row(&st, &r);
        if (rc < 0)
            break;
    }
done:
    tide__buf_free(&r.data);
    tide__buf_free(&chdr.data);
    tide__buf_free(&comment);
    json_decref(st.seen_campaigns);
    return rc < 0 ? rc : 0;
}
