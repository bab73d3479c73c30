/*
 * json_fast.h - a fast, strictly validating, single-pass parser for one JSON object (one STIX
 * object cut out of a bundle by json_split.c). It accepts exactly what jansson's
 * json_loadb(ptr, len, 0, err) accepts (with tide__json_parse_item's retry of too-big integers
 * as reals), but is several times faster on the ingest hot path. See json_fast.c for why it is
 * hand-written.
 */
#ifndef TIDE_INGEST_JSON_FAST_H
#define TIDE_INGEST_JSON_FAST_H

#include <stddef.h>

#include <jansson.h>

#include "ingest/stix_members.h"

/* tide__json_parse_fast() flags */
#define TIDE__JF_FULL 0x1u /* build every member (the same DOM jansson builds) */

/* Validate ptr/len as one JSON object (RFC 8259, jansson's verdict: strict grammar, UTF-8
 * everywhere, no \u0000, nesting depth <= JSON_PARSER_MAX_DEPTH, nothing but blanks after the
 * closing brace) and build a jansson object holding only its "flat" top-level members: those
 * whose value is a string, number, true, false or null, an array whose elements are all strings,
 * or an array whose elements are all objects with only scalar members (kill_chain_phases).
 * Other members (nested objects, mixed arrays) are validated and left out. As in jansson, a
 * repeated key keeps its last value (and is left out if that value is not flat); if an integer
 * does not fit json_int_t, every number of the object is decoded as a real (the retry
 * tide__json_parse_item does). Returns a new reference, or NULL with err filled like jansson
 * (text, line, column, position; json_error_code()). Input that is valid JSON but not an object
 * is rejected. */
json_t *tide__json_parse_toplevel(const char *ptr, size_t len, json_error_t *err);

/* The same parser; with TIDE__JF_FULL the whole object is built, equal (json_equal) to what
 * tide__json_parse_item returns for it. */
json_t *tide__json_parse_fast(const char *ptr, size_t len, unsigned flags, json_error_t *err);

/* The same parser and verdict, building no jansson values: fills m with the members
 * stix_members.h names, decoded into a (which the caller resets between objects), equal field
 * by field to tide__members_from_json of the tide__json_parse_fast result. 0, or -1 with err
 * filled exactly as tide__json_parse_fast fills it (m is then zeroed). */
int tide__json_parse_members(
        const char *ptr, size_t len, tide__members *m, tide__arena *a, json_error_t *err);

/* Members mode on the object that starts at ptr, whatever follows it within avail bytes: 0 and
 * *used = its length when ptr[0..*used) is a valid object (then the members are those
 * tide__json_parse_members gives for exactly those bytes: the same tokens are read), else -1
 * (invalid, or cut short by avail: parse the exact bytes to learn why). The streaming splitter
 * uses it to parse an element while finding its end (json_split.h, parse_element). */
int tide__json_parse_members_prefix(
        const char *ptr, size_t avail, tide__members *m, tide__arena *a, size_t *used);

#endif
