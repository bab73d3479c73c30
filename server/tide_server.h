/*
 * tide_server.h - `tide serve`, the HTTP front end (server/): the JSON API under /api/v1/ on
 * libmicrohttpd (HTTP/1.1, TLS through GnuTLS), API keys with roles and TLP ceilings
 * (tide/auth.h), limits, scheduled work (server/schedule.c: feed pulls, export targets,
 * recovery verification), and a clean stop. Like cli/, it holds no product logic: every route
 * parses its request and calls the library (the engine, tide/reads.h, the parts' public APIs).
 * docs/server.md describes the routes, roles, TLP rules and limits.
 */
#ifndef TIDE_SERVER_H
#define TIDE_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "tide.h"

typedef struct {
    const char *listen;       /**< "ADDR:PORT" ("[v6]:PORT"); NULL: 127.0.0.1:8470. Port 0: any */
    const char *tls_cert;     /**< PEM certificate chain file: serve HTTPS (with tls_key) */
    const char *tls_key;      /**< PEM private key file */
    size_t max_body;          /**< request body cap for intel uploads (bytes); 0: 64 MiB */
    size_t max_small_body;    /**< body cap of every other route; 0: 64 KiB */
    size_t max_head;          /**< the request line and headers, together (bytes); 0: 16 KiB */
    unsigned max_connections; /**< open connections at most; 0: 512 */
    unsigned timeout;         /**< seconds a connection may stay idle; 0: 15 */
    unsigned request_timeout; /**< seconds a request may take to arrive whole; 0: 30 */
    double grace;             /**< seconds in-flight requests get to finish at stop; 0: 30 */
    const char *
            ui_dir; /**< the web UI's assets; NULL: "ui" (or ../share/tide/ui) next to the binary */
    unsigned sessions;      /**< web UI sessions at most (the least recently used goes); 0: 256 */
    unsigned session_idle;  /**< seconds a session lives without a request; 0: 1800 */
    const char *taxii;      /**< the "taxii" member of --config (JSON text); NULL: defaults */
    const char *taxii_file; /**< the file it came from, for errors */
    bool no_schedule;       /**< run no scheduled work (feed pulls, export targets, recovery
                                 verification) */
    double export_every;    /**< seconds between checks of the declared export targets; 0: 300 */
    double verify_every;    /**< seconds between recovery verifications of open cases; 0: 3600 */
    /** Lines for the operator (listening on ..., stopping ..., errors); may be NULL. */
    void (*on_log)(const char *line, void *payload);
    void *payload;
} tide_server_opts;

/** @brief Run the server on the workspace until tide_server_stop: returns 0 after a clean stop
 *  (no new connection accepted, in-flight requests finished within the grace time, streams
 *  ended, store connections closed), < 0 when it could not start (tide_error_last says why).
 *  The workspace is used for writes (one at a time); each connection thread reads through its
 *  own store connection. */
int tide_server_run(tide_workspace *ws, const tide_server_opts *opts);
/** @brief Ask a running server to stop (async-signal-safe: a SIGTERM handler calls it). */
void tide_server_stop(void);

#endif
