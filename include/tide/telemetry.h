/*
 * telemetry.h - telemetry readers (SPEC C2): each record of a log becomes an event carrying
 * observations {time, internal host, kind, value, field, event kind}.
 *
 * Inputs are files (plain, .gz, .zst), a file descriptor (stdin) and, with opts.follow, files
 * that keep growing. The format is detected per file from its first bytes and name, or forced.
 * Formats: Zeek TSV (any log with a #fields header) and Zeek JSON, Suricata EVE NDJSON, Sysmon /
 * Windows event JSON (also winlogbeat's winlog.event_data.*), Squid native access.log, Apache /
 * nginx combined log, syslog and CEF lines (observables extracted from free text), and generic
 * NDJSON with a field mapping. A JSON file whose first non-blank line opens an array ("[" then
 * "{", "]" or nothing) is read element by element; an event's line is where its element starts.
 *
 * A bad record (truncated, invalid UTF-8 where text is required, over the line cap, wrong
 * types) never stops the stream: it is counted, reported through opts.on_bad with file, line
 * and reason, and skipped.
 *
 * The host of an event is its internal endpoint: of the two addresses of a connection, the
 * one inside the home networks (tide_homenet; default RFC 1918, 100.64/10, 169.254/16,
 * 127/8 and fc00::/7, fe80::/10, ::1 - as Suricata's HOME_NET), the source when both or
 * neither are; the computer name for Sysmon; the client for Squid and web logs.
 */
#ifndef TIDE_TELEMETRY_H
#define TIDE_TELEMETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "observable.h"

typedef enum {
    TIDE_TEL_AUTO = 0,
    TIDE_TEL_ZEEK_TSV,
    TIDE_TEL_ZEEK_JSON,
    TIDE_TEL_EVE,
    TIDE_TEL_SYSMON,
    TIDE_TEL_SQUID,
    TIDE_TEL_WEBLOG,  /**< Apache / nginx common and combined */
    TIDE_TEL_SYSLOG,
    TIDE_TEL_CEF,
    TIDE_TEL_NDJSON,  /**< generic, needs a field map */
    TIDE_TEL__COUNT
} tide_tel_format;

/** @brief "zeek", "zeek-json", "eve", "sysmon", "squid", "weblog", "syslog", "cef", "ndjson"
 *  ("auto" for TIDE_TEL_AUTO). */
TIDE_EXTERN(const char *) tide_tel_format_name(tide_tel_format f);
/** @brief Parse a name as above. @return 0 or TIDE_EINVAL. */
TIDE_EXTERN(int) tide_tel_format_parse(const char *name, tide_tel_format *out);

/* ---- home networks ---- */

typedef struct tide_homenet tide_homenet;
/** @brief Internal networks from "10.0.0.0/8,192.168.0.0/16,fd00::/8" (comma or space
 *  separated CIDRs or addresses), or the default set when spec is NULL. */
TIDE_EXTERN(int) tide_homenet_new(tide_homenet **out, const char *spec);
/** @brief Whether the address text (n bytes, IPv4 or IPv6) is inside. */
TIDE_EXTERN(bool) tide_homenet_contains(const tide_homenet *h, const char *ip, size_t n);
TIDE_EXTERN(void) tide_homenet_free(tide_homenet *h);

/* ---- generic NDJSON field map ---- */

typedef struct tide_field_map tide_field_map;
/** @brief A field map from "ts=@timestamp,host=host.name,ipv4=destination.ip,
 *  domain=dns.question.name,url=url.full,sha256=file.hash.sha256,src=source.ip,
 *  dst=destination.ip,user=user.name" (dotted paths into nested objects; a key may repeat;
 *  kinds are tide_obs_kind names, plus "ip" for either family, and ts / host / src / dst /
 *  user / kind for the event itself), or from a file with one "key=path" per line ('#'
 *  comments). @param[out] out the map. Errors name the bad entry. */
TIDE_EXTERN(int) tide_field_map_parse(tide_field_map **out, const char *spec);
TIDE_EXTERN(int) tide_field_map_load(tide_field_map **out, const char *path);
TIDE_EXTERN(void) tide_field_map_free(tide_field_map *m);

/* ---- events ---- */

typedef struct {
    tide_obs_kind kind;  /**< IPV4, IPV6, IP_PORT, DOMAIN, URL, MD5, SHA1, SHA256, SHA512,
                              EMAIL, JA3, X509_SHA1 */
    const char *value;   /**< as seen in the event (not normalised); not NUL-terminated */
    size_t len;
    const char *field;   /**< where it came from: "id.resp_h", "dns.rrname", "Hashes", ... */
    uint8_t addr_len;    /**< IPV4 / IPV6 the reader parsed: 4 or 16 bytes in addr; IP_PORT
                              of an IPv4 address: 6 (address, then the port big-endian); else 0 */
    uint8_t addr[16];    /**< that address, network order (saves the matcher a second parse) */
} tide_observation;

typedef struct {
    int64_t ts_us;          /**< event time, microseconds since the epoch; 0 when unknown */
    const char *host;       /**< internal endpoint (address or name); "" when unknown */
    size_t host_len;
    const char *kind;       /**< event kind: "conn", "dns", "http", "ssl", "files", "flow",
                                 "alert", "tls", "fileinfo", "process", "network", "dns_query",
                                 "file_create", "proxy", "web", "syslog", "cef", ... */
    const char *user;       /**< user name when the record names one, else NULL */
    size_t user_len;
    uint64_t line;          /**< 1-based line of the record in the (decompressed) file */
    uint64_t offset;        /**< byte offset of the record in the (decompressed) stream */
    const tide_observation *obs;
    size_t nobs;
} tide_event;

typedef struct {
    tide_tel_format format;        /**< TIDE_TEL_AUTO: detect per file */
    const tide_homenet *home_net;  /**< NULL: the default home networks */
    const tide_field_map *map;     /**< needed by TIDE_TEL_NDJSON */
    size_t max_line;               /**< 0: 1 MiB; longer records are bad records */
    /** Keep reading past the end: tide_tel_next returns 0 at the current end, holds an
     *  unterminated last line, and continues when the file has grown. Plain files only. */
    bool follow;
    /** Told of each bad record; may be NULL. */
    void (*on_bad)(const char *file, uint64_t line, const char *reason, void *payload);
    void *bad_payload;
} tide_tel_opts;

typedef struct tide_tel_reader tide_tel_reader;

/** @brief Open path ("-" = stdin) for reading events. .gz and .zst are decompressed (by
 *  content, not only by name). */
TIDE_EXTERN(int) tide_tel_open(tide_tel_reader **out, const char *path, const tide_tel_opts *opts);
/** @brief Read events from fd (not closed by tide_tel_close); name is used in reports. */
TIDE_EXTERN(int) tide_tel_open_fd(tide_tel_reader **out, int fd, const char *name,
        const tide_tel_opts *opts);
/** @brief Next event. @return 1 with ev filled (borrowed until the next call), 0 at the end of
 *  the data (with follow: the end for now), < 0 on an I/O or decompression error. */
TIDE_EXTERN(int) tide_tel_next(tide_tel_reader *r, tide_event *ev);
/** @brief Up to max next events at once, all valid together until the next call of
 *  tide_tel_next or tide_tel_next_batch (the reader neither moves its buffer nor reuses its
 *  scratch while it fills a batch; a batch ends early where it would have to). Lets a consumer
 *  such as the matcher work on several events without copying them.
 *  @param[out] got the number of events in evs. @return 1 when *got > 0, else as tide_tel_next
 *  (an error met after some events is returned by the next call). */
TIDE_EXTERN(int) tide_tel_next_batch(tide_tel_reader *r, tide_event *evs, size_t max, size_t *got);
/** @brief The format in use (after detection; TIDE_TEL_AUTO before the first record). */
TIDE_EXTERN(tide_tel_format) tide_tel_reader_format(const tide_tel_reader *r);

typedef struct {
    uint64_t bytes;    /**< bytes consumed (decompressed) */
    uint64_t records;  /**< lines / records read, including headers and bad ones */
    uint64_t events;   /**< events returned */
    uint64_t bad;      /**< bad records skipped */
} tide_tel_stats;
TIDE_EXTERN(void) tide_tel_reader_stats(const tide_tel_reader *r, tide_tel_stats *out);
TIDE_EXTERN(void) tide_tel_close(tide_tel_reader *r);

#endif
