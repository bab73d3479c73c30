/*
 * tel_formats.c - the table of telemetry formats (SPEC C2): per format its name and aliases, the
 * lines its detect function is offered, its setup and per-record parse functions, and whether it
 * is JSON (array files) or has header lines. tide_tel_format_name / tide_tel_format_parse, format
 * detection and the setup of a format all go through it.
 *
 * Contract: the table is constant; its functions live in the format's own file (tel_zeek.c,
 * tel_json.c, tel_text.c). Adding a format = a tide_tel_format value, one entry here and one file
 * with its detect / setup / parse functions. Detection (tide__tel_detect, called by
 * tide__tel_parse_record while a parser's format is TIDE_TEL_AUTO) offers the first non-blank
 * record to the entries in table order, each only the lines of its class ('#' lines, '{' lines,
 * the rest); a '#' line nobody takes is a comment and skipped.
 */
#include <stdio.h>
#include <string.h>

#include "telemetry/tel_int.h"
#include "tide/errors.h"

/* In detection order: Zeek headers, then the JSON shapes (the generic NDJSON last: it takes any
 * object when a field map is given), then the text formats. */
static const tide__tel_fmt formats[] = {
    { TIDE_TEL_ZEEK_TSV, "zeek", { "zeek-tsv", NULL }, "Zeek", TIDE__TEL_ON_HASH,
            tide__tel_zeek_detect, tide__tel_zeek_setup, tide__tel_zeek_line, TIDE__TEL_F_HEADERS },
    { TIDE_TEL_EVE, "eve", { "suricata", NULL }, "EVE", TIDE__TEL_ON_JSON, tide__tel_eve_detect,
            tide__tel_json_setup, tide__tel_json_line, TIDE__TEL_F_JSON },
    { TIDE_TEL_SYSMON, "sysmon", { NULL, NULL }, "Sysmon", TIDE__TEL_ON_JSON,
            tide__tel_sysmon_detect, tide__tel_json_setup, tide__tel_json_line, TIDE__TEL_F_JSON },
    { TIDE_TEL_ZEEK_JSON, "zeek-json", { NULL, NULL }, NULL, TIDE__TEL_ON_JSON,
            tide__tel_zeek_json_detect, tide__tel_json_setup, tide__tel_json_line,
            TIDE__TEL_F_JSON },
    { TIDE_TEL_NDJSON, "ndjson", { NULL, NULL }, NULL, TIDE__TEL_ON_JSON, tide__tel_ndjson_detect,
            tide__tel_json_setup, tide__tel_json_line, TIDE__TEL_F_JSON },
    { TIDE_TEL_SQUID, "squid", { NULL, NULL }, "Squid", TIDE__TEL_ON_TEXT, tide__tel_squid_detect,
            NULL, tide__tel_squid_line, 0 },
    { TIDE_TEL_WEBLOG, "weblog", { NULL, NULL }, "web access log", TIDE__TEL_ON_TEXT,
            tide__tel_weblog_detect, NULL, tide__tel_weblog_line, 0 },
    { TIDE_TEL_CEF, "cef", { NULL, NULL }, "CEF", TIDE__TEL_ON_TEXT, tide__tel_cef_detect, NULL,
            tide__tel_cef_line, 0 },
    { TIDE_TEL_SYSLOG, "syslog", { NULL, NULL }, "syslog", TIDE__TEL_ON_TEXT,
            tide__tel_syslog_detect, NULL, tide__tel_syslog_line, 0 },
};
#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

const tide__tel_fmt *tide__tel_fmt_of(tide_tel_format f)
{
    for (size_t i = 0; i < NFORMATS; i++)
        if (formats[i].id == f)
            return &formats[i];
    return NULL;
}

const char *tide_tel_format_name(tide_tel_format f)
{
    if (f == TIDE_TEL_AUTO)
        return "auto";
    const tide__tel_fmt *e = tide__tel_fmt_of(f);
    return e ? e->name : "unknown";
}

int tide_tel_format_parse(const char *name, tide_tel_format *out)
{
    if (name == NULL)
        return tide_error_set(TIDE_EINVAL, "telemetry format: NULL name");
    if (strcmp(name, "auto") == 0) {
        *out = TIDE_TEL_AUTO;
        return 0;
    }
    for (size_t i = 0; i < NFORMATS; i++) {
        const tide__tel_fmt *e = &formats[i];
        bool hit = strcmp(e->name, name) == 0;
        for (size_t k = 0; !hit && k < 2 && e->aliases[k]; k++)
            hit = strcmp(e->aliases[k], name) == 0;
        if (hit) {
            *out = e->id;
            return 0;
        }
    }
    /* the names in the order of the enum */
    char list[256];
    size_t l = (size_t)snprintf(list, sizeof(list), "auto");
    for (int f = 1; f < TIDE_TEL__COUNT && l < sizeof(list); f++)
        l += (size_t)snprintf(
                list + l, sizeof(list) - l, ", %s", tide_tel_format_name((tide_tel_format)f));
    return tide_error_set(TIDE_EINVAL, "unknown telemetry format \"%s\" (%s)", name, list);
}

int tide__tel_set_format(tide_tel_parser *r, tide_tel_format f)
{
    const tide__tel_fmt *e = tide__tel_fmt_of(f);
    if (e == NULL)
        return tide_error_set(TIDE_EINVAL, "bad telemetry format %d", (int)f);
    r->format = f;
    r->fmt = e;
    r->parse = e->parse;
    return e->setup ? e->setup(r) : 0;
}

int tide__tel_detect(tide_tel_parser *r, const char *p, size_t n, uint64_t line)
{
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    int on = p[0] == '#'            ? TIDE__TEL_ON_HASH
             : i < n && p[i] == '{' ? TIDE__TEL_ON_JSON
                                    : TIDE__TEL_ON_TEXT;
    for (size_t k = 0; k < NFORMATS; k++)
        if (formats[k].detect_on == on && formats[k].detect(p, n, &r->opts)) {
            int rc = tide__tel_set_format(r, formats[k].id);
            return rc < 0 ? rc : 1;
        }
    if (on == TIDE__TEL_ON_HASH)
        return 0; /* a comment */
    if (on == TIDE__TEL_ON_JSON)
        return tide_error_set(TIDE_EFORMAT,
                "%s: line %llu: unknown JSON log shape; give --format ndjson with a field map",
                r->name, (unsigned long long)line);
    /* "not Zeek, EVE, Sysmon, Squid, web access log, CEF or syslog" */
    char list[256];
    size_t l = 0, left = 0;
    for (size_t k = 0; k < NFORMATS; k++)
        left += formats[k].title != NULL;
    for (size_t k = 0; k < NFORMATS && l < sizeof(list); k++)
        if (formats[k].title) {
            left--;
            l += (size_t)snprintf(list + l, sizeof(list) - l, "%s%s",
                    l == 0      ? ""
                    : left == 0 ? " or "
                                : ", ",
                    formats[k].title);
        }
    return tide_error_set(TIDE_EFORMAT,
            "%s: line %llu: cannot detect the log format (not %s); give --format", r->name,
            (unsigned long long)line, list);
}
