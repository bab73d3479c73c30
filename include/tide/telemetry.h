/*
 * telemetry.h - telemetry readers (SPEC C2): each record of a log becomes an event carrying
 * observations {time, internal host, kind, value, field, event kind}.
 *
 * Inputs are files (plain, .gz, .zst), a file descriptor (stdin), a memory buffer, a byte source
 * the caller implements and, with opts.follow, inputs that keep growing; or single records handed
 * over one at a time (tide_tel_parser: one Kafka message = one record). The format is detected
 * per input from its first record, or forced. Formats: Zeek TSV (any log with a #fields header)
 * and Zeek JSON, Suricata EVE NDJSON, Sysmon / Windows event JSON (also winlogbeat's
 * winlog.event_data.*), Squid native access.log, Apache / nginx combined log, syslog and CEF
 * lines (observables extracted from free text), and generic NDJSON with a field mapping. A JSON
 * input whose first non-blank line opens an array ("[" then "{", "]" or nothing) is read element
 * by element; an event's line is where its element starts.
 *
 * A bad record (truncated, invalid UTF-8 where text is required, over the line cap, wrong
 * types) never stops the stream: it is counted, reported through opts.on_bad with file, line
 * and reason, and skipped (tide_tel_parse returns TIDE_EFORMAT for it instead).
 *
 * The host of an event is its internal endpoint: of the two addresses of a connection, the
 * one inside the home networks (tide_homenet; default RFC 1918, 100.64/10, 169.254/16,
 * 127/8 and fc00::/7, fe80::/10, ::1 - as Suricata's HOME_NET), the source when both or
 * neither are; the computer name for Sysmon; the client for Squid and web logs.
 *
 * Ownership: a reader or parser belongs to its caller (tide_tel_close / tide_tel_parser_free);
 * an event and everything it points to (observation values, host, kind, user) is borrowed from
 * the reader or parser until its next call. A reader does not own the file descriptor given to
 * tide_tel_open_fd, the buffer given to tide_tel_open_mem or the source given to
 * tide_tel_open_input: they must stay valid until tide_tel_close. One reader or parser is used
 * by one thread at a time; different ones are independent.
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
    TIDE_TEL_WEBLOG, /**< Apache / nginx common and combined */
    TIDE_TEL_SYSLOG,
    TIDE_TEL_CEF,
    TIDE_TEL_NDJSON, /**< generic, needs a field map */
    TIDE_TEL__COUNT
} tide_tel_format;

/** @brief "zeek", "zeek-json", "eve", "sysmon", "squid", "weblog", "syslog", "cef", "ndjson"
 *  ("auto" for TIDE_TEL_AUTO, "unknown" for a value out of range). */
TIDE_EXTERN(const char *) tide_tel_format_name(tide_tel_format f);
/** @brief Parse a name as above, or an alias ("zeek-tsv", "suricata"). @return 0 or
 *  TIDE_EINVAL. */
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
    tide_obs_kind kind; /**< IPV4, IPV6, IP_PORT, DOMAIN, URL, MD5, SHA1, SHA256, SHA512,
                             EMAIL, JA3, X509_SHA1 */
    const char *value;  /**< as seen in the event (not normalised); not NUL-terminated */
    size_t len;
    const char *field; /**< where it came from: "id.resp_h", "dns.rrname", "Hashes", ... */
    uint8_t addr_len;  /**< IPV4 / IPV6 the reader parsed: 4 or 16 bytes in addr; IP_PORT
                            of an IPv4 address: 6 (address, then the port big-endian); else 0 */
    uint8_t addr[16];  /**< that address, network order (saves the matcher a second parse) */
} tide_observation;

typedef struct {
    int64_t ts_us;    /**< event time, microseconds since the epoch; 0 when unknown */
    const char *host; /**< internal endpoint (address or name); "" when unknown */
    size_t host_len;
    const char *kind; /**< event kind: "conn", "dns", "http", "ssl", "files", "flow",
                           "alert", "tls", "fileinfo", "process", "network", "dns_query",
                           "file_create", "proxy", "web", "syslog", "cef", ... */
    const char *user; /**< user name when the record names one, else NULL */
    size_t user_len;
    uint64_t line;   /**< 1-based line of the record in the (decompressed) file */
    uint64_t offset; /**< byte offset of the record in the (decompressed) stream */
    const tide_observation *obs;
    size_t nobs;
} tide_event;

typedef struct {
    tide_tel_format format;       /**< TIDE_TEL_AUTO: detect per file */
    const tide_homenet *home_net; /**< NULL: the default home networks */
    const tide_field_map *map;    /**< needed by TIDE_TEL_NDJSON */
    size_t max_line;              /**< 0: 1 MiB; longer records are bad records */
    /** Keep reading past the end: tide_tel_next returns 0 at the current end, holds an
     *  unterminated last line, and continues when the file has grown. Plain files only. */
    bool follow;
    /** Told of each bad record; may be NULL. */
    void (*on_bad)(const char *file, uint64_t line, const char *reason, void *payload);
    void *bad_payload;
} tide_tel_opts;

typedef struct tide_tel_reader tide_tel_reader;

/** @brief Open path ("-" = stdin) for reading events. .gz and .zst are decompressed (by
 *  content, not only by name). @param[out] out the reader. */
TIDE_EXTERN(int) tide_tel_open(tide_tel_reader **out, const char *path, const tide_tel_opts *opts);
/** @brief Read events from fd (not closed by tide_tel_close); name is used in reports. */
TIDE_EXTERN(int)
tide_tel_open_fd(tide_tel_reader **out, int fd, const char *name, const tide_tel_opts *opts);
/** @brief Read events from the memory buffer data / len (plain, or gzip / zstd content, told by
 *  its first bytes as for files). The buffer is borrowed, not copied: it must stay valid and
 *  unchanged until tide_tel_close. name is used in reports (NULL: "(memory)"). With opts.follow
 *  the end of the buffer is the end for now (tide_tel_next keeps returning 0). */
TIDE_EXTERN(int)
tide_tel_open_mem(tide_tel_reader **out, const void *data, size_t len, const char *name,
        const tide_tel_opts *opts);

/** A byte source the caller implements (a socket, a pipe of its own, a decrypting stream...). */
typedef struct {
    /** Copy up to cap bytes of the input into buf and set *got to their number. *got = 0 means
     *  the end of the data (with opts.follow: the end for now; the reader asks again on its next
     *  call). @return 0, or < 0 on an error (the reader then fails with TIDE_EIO naming the input
     *  and the byte offset). Called only from tide_tel_next / tide_tel_next_batch. */
    int (*read)(void *ctx, void *buf, size_t cap, size_t *got);
    void *ctx; /**< handed to read; borrowed until tide_tel_close */
} tide_tel_input;

/** @brief Read events from the byte source in (the struct is copied; in->ctx must stay valid
 *  until tide_tel_close). Compressed content is detected and decompressed as for files. name is
 *  used in reports (NULL: "(input)"). */
TIDE_EXTERN(int)
tide_tel_open_input(tide_tel_reader **out, const tide_tel_input *in, const char *name,
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
    uint64_t bytes;   /**< bytes consumed (decompressed) */
    uint64_t records; /**< lines / records read, including headers and bad ones */
    uint64_t events;  /**< events returned */
    uint64_t bad;     /**< bad records skipped */
} tide_tel_stats;
TIDE_EXTERN(void) tide_tel_reader_stats(const tide_tel_reader *r, tide_tel_stats *out);
TIDE_EXTERN(void) tide_tel_close(tide_tel_reader *r);

/* ---- single records ---- */

/** A parser of records handed over one at a time: the reader's record parsing without its input
 *  and framing (one message of a queue = one record). Keeps the state a stream of records needs
 *  (the format once detected, Zeek TSV header lines and their column names). */
typedef struct tide_tel_parser tide_tel_parser;

/** @brief A parser for records of format (TIDE_TEL_AUTO: detected from the first record that
 *  decides it, as a reader decides from its first line; opts->format is not used). From opts (may
 *  be NULL) it takes home_net and map (borrowed until tide_tel_parser_free) and max_line;
 *  follow and on_bad are not used. Holds about 2 x max_line of scratch.
 *  @param[out] out the parser. @return 0, TIDE_EINVAL (bad format, ndjson without a map) or
 *  TIDE_ENOMEM. */
TIDE_EXTERN(int)
tide_tel_parser_new(tide_tel_parser **out, tide_tel_format format, const tide_tel_opts *opts);
/** @brief Parse one record rec / n: one line of a log, without or with its "\n" / "\r\n"
 *  (dropped), or one JSON object (which may span lines). rec need not be NUL-terminated and is
 *  copied (the parser reads past a record's end, so it keeps it in a padded buffer of its own);
 *  the caller may reuse it at once. The event's line is the record's ordinal (1-based count of
 *  calls on this parser) and its offset 0.
 *  @return 1 with ev filled (borrowed until the next call on p), 0 when the record gives no
 *  event (blank, a Zeek '#' header line, a comment before the format is known), TIDE_EFORMAT for
 *  a bad record or one whose format cannot be detected, with the reason in tide_error_last()
 *  (the parser stays usable: the next record is parsed as usual), TIDE_ENOMEM. */
TIDE_EXTERN(int) tide_tel_parse(tide_tel_parser *p, const char *rec, size_t n, tide_event *ev);
/** @brief The format in use (after detection; TIDE_TEL_AUTO before). */
TIDE_EXTERN(tide_tel_format) tide_tel_parser_format(const tide_tel_parser *p);
TIDE_EXTERN(void) tide_tel_parser_free(tide_tel_parser *p);

#endif
