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
    R_CONFIDENCE,
    R_FIRST_SEEN,
    R_TAGS,
    R__COUNT
};

static const char *const role_names[R__COUNT][8] = {
    [R_VALUE] = { "value", "ioc", "indicator", "observable", "ioc_value", NULL },
    [R_TYPE] = { "type", "ioc_type", "indicator_type", "attribute_type", NULL },
    [R_CAMPAIGN] = { "campaign", "family", "malware", "malware_family", "threat", NULL },
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

/* Read one record. nfields: the header's field count (0 while reading the header). Returns 1
 * when a record was read, 0 at EOF, < 0 on error. */
static int read_record(reader *rd, record *r, int nfields)
{
    tide__buf_clear(&r->data);
    r->n = 0;
    r->too_long = r->too_many = false;
    r->unterminated = 0;
    r->line = rd->line;
    r->offset = rd->offset;
    if (rd->eof)
        return 0;
    bool quoted = false, in_quotes = false, any = false;
    size_t start = 0;
    int c;
    r->off[0] = 0;
    r->n = 1;
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
        } else if (c == '"' && r->data.len == start && !quoted) {
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
        { "ip:port", TIDE_OBS_IP_PORT },
        { "ip-dst|port", TIDE_OBS_IP_PORT },
        { "ip-port", TIDE_OBS_IP_PORT },
        { "cidr", IP_ANY },
        { "cidr4", TIDE_OBS_CIDR4 },
        { "cidr6", TIDE_OBS_CIDR6 },
        { "domain", TIDE_OBS_DOMAIN },
        { "hostname", TIDE_OBS_DOMAIN },
        { "domain-name", TIDE_OBS_DOMAIN },
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
        { "md5_hash", TIDE_OBS_MD5 },
        { "email", TIDE_OBS_EMAIL },
        { "email-src", TIDE_OBS_EMAIL },
        { "email-dst", TIDE_OBS_EMAIL },
        { "email-addr", TIDE_OBS_EMAIL },
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
    int nfields; /* from the header (or first row) */
    json_t *seen_campaigns;
} csv_state;

static int role_of(const char *name)
{
    for (int r = 0; r < R__COUNT; r++)
        for (int i = 0; role_names[r][i]; i++)
            if (strcasecmp(name, role_names[r][i]) == 0)
                return r;
    return -1;
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
                    "campaign, confidence, first_seen, tags)",
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
    for (int i = 0; i < hdr->n; i++) {
        int role = role_of(field(hdr, i));
        if (role >= 0 && st->col[role] < 0)
            st->col[role] = i;
    }
    if (st->col[R_VALUE] >= 0)
        return 0;
    /* MISP layout: every column is a type name */
    tide_buf unknown = TIDE_BUF_INIT;
    for (int i = 0; i < hdr->n; i++) {
        const char *f = field(hdr, i);
        tide_obs_kind k = TIDE_OBS_NONE;
        bool lower = true;
        for (const char *q = f; *q; q++)
            if (isupper((unsigned char)*q))
                lower = false;
        if (lower)
            k = type_kind(f);
        if (k == TIDE_OBS_NONE && role_of(f) < 0)
            tide__buf_printf(&unknown, "%s'%s'", unknown.len ? ", " : "", f);
        st->col_type[i] = k;
    }
    int rc = 0;
    if (unknown.len > 0 || hdr->n == 0) {
        rc = tide_error_set(TIDE_EFORMAT,
                "%s: line 1: CSV header has no value column and unknown column names %s "
                "(expected value/ioc/indicator + type, or observable type names such as "
                "md5, sha1, ip-dst, domain; or give a column mapping)",
                file, unknown.ptr ? unknown.ptr : "''");
    } else {
        st->multi = true;
    }
    tide__buf_free(&unknown);
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
    rc = tide__emit_indicator(&st->em, kind, canon, value, confidence, extra, campaign_id, NULL);
    free(canon);
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
    if (st->multi) {
        for (int i = 0; i < r->n; i++)
            if (st->col_type[i] != TIDE_OBS_NONE && !field_utf8(st, r, i, "value"))
                return 0;
    } else if (!field_utf8(st, r, st->col[R_VALUE], "value")) {
        return 0;
    }
    int confidence = -1;
    json_t *extra = NULL;
    char campaign_id[128];
    const char *cid = NULL;
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
    if (st->col[R_CAMPAIGN] >= 0 && *field(r, st->col[R_CAMPAIGN])) {
        const char *name = field(r, st->col[R_CAMPAIGN]);
        if (json_object_get(st->seen_campaigns, name) == NULL) {
            st->sink->line = r->line;
            st->sink->offset = r->offset;
            rc = tide__emit_group(&st->em, "campaign", name, NULL, NULL, campaign_id);
            if (rc < 0)
                goto done;
            if (json_object_size(st->seen_campaigns) < MAX_SEEN_CAMPAIGNS)
                json_object_set_new(st->seen_campaigns, name, json_string(campaign_id));
        } else {
            snprintf(campaign_id, sizeof(campaign_id), "%s",
                    json_string_value(json_object_get(st->seen_campaigns, name)));
        }
        cid = campaign_id;
    }
    if (st->multi) {
        for (int i = 0; i < r->n && rc == 0; i++) {
            if (st->col_type[i] == TIDE_OBS_NONE || *field(r, i) == '\0')
                continue;
            rc = emit_value(st, r, field(r, i), st->col_type[i],
                    tide_obs_kind_name(st->col_type[i]), cid, confidence, extra);
        }
        goto done;
    }
    tide_obs_kind want = TIDE_OBS_NONE;
    const char *type_text = "";
    if (st->col[R_TYPE] >= 0) {
        type_text = field(r, st->col[R_TYPE]);
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
    rc = read_record(&rd, &r, 0);
    if (rc <= 0)
        goto done; /* empty file: nothing to read */
    if (r.too_long || r.too_many) {
        rc = tide_error_set(TIDE_EFORMAT, "%s: line 1: CSV header too long", sink->file);
        goto done;
    }
    if (r.unterminated) {
        rc = tide_error_set(TIDE_EFORMAT,
                "%s: line 1: unterminated quote in field %d of the header", sink->file,
                r.unterminated);
        goto done;
    }
    if (memchr(r.data.ptr, '\0', r.data.len) != NULL && r.data.len > 0) {
        /* fields are NUL-separated; a NUL inside a field shows as too many NULs */
        size_t nuls = 0;
        for (size_t i = 0; i < r.data.len; i++)
            nuls += r.data.ptr[i] == '\0';
        if (nuls != (size_t)r.n) {
            rc = tide_error_set(TIDE_EFORMAT, "%s: line 1: binary data, not CSV", sink->file);
            goto done;
        }
    }
    st.nfields = r.n;
    bool numeric = false;
    const char *spec = sink->opts->csv_columns;
    if (spec && *spec) {
        rc = parse_mapping(&st, spec, &r, &numeric);
        if (rc < 0)
            goto done;
        for (int i = 0; i < R__COUNT; i++)
            if (st.col[i] >= st.nfields) {
                rc = tide_error_set(TIDE_EFORMAT,
                        "%s: line 1: column %d mapped but the file "
                        "has %d columns",
                        sink->file, st.col[i] + 1, st.nfields);
                goto done;
            }
        /* a numeric mapping: the first row is data unless its value is no observable */
        if (numeric) {
            char *rf = NULL;
            const char *v = field(&r, st.col[R_VALUE]);
            bool is_value = tide_obs_refang(v, &rf) == 0 && tide_obs_detect(rf) != TIDE_OBS_NONE;
            free(rf);
            if (is_value) {
                rc = do_row(&st, &r);
                if (rc < 0)
                    goto done;
            }
        }
    } else {
        rc = header_auto(&st, &r, sink->file);
        if (rc < 0)
            goto done;
    }
    for (;;) {
        rc = read_record(&rd, &r, st.nfields);
        if (rc <= 0)
            break;
        rc = do_row(&st, &r);
        if (rc < 0)
            break;
    }
done:
    tide__buf_free(&r.data);
    json_decref(st.seen_campaigns);
    return rc < 0 ? rc : 0;
}
