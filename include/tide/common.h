/*
 * common.h - export macro, version and basic types shared by every public header.
 *
 * Ownership rules for the whole public API (see docs/conventions.md):
 *   - int tide_x_new(tide_x **out, ...) pairs with void tide_x_free(tide_x *); free accepts NULL.
 *   - a result written through **out belongs to the caller;
 *   - a pointer returned directly is borrowed from its parent object and lives as long as it.
 */
#ifndef TIDE_COMMON_H
#define TIDE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define TIDE_EXTERN(type) __attribute__((visibility("default"))) type
#else
#define TIDE_EXTERN(type) type
#endif

#define TIDE_VERSION "0.1.0"

/** @brief Parse a time given by a user or a feed: RFC 3339 ("2024-05-01T10:00:00Z"), a date
 *  ("2024-05-01"), or an age relative to now ("90d", "12h", "30m", "45s").
 *  @param[out] out_ms milliseconds since the epoch, UTC. @return 0 or TIDE_EPARSE. */
TIDE_EXTERN(int) tide_time_parse(const char *s, int64_t *out_ms);

/** @brief Format ms since the epoch as "YYYY-MM-DDTHH:MM:SS.sssZ" into out. */
TIDE_EXTERN(void) tide_time_format(int64_t ms, char out[32]);

#endif
