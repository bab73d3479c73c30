/*
 * emit_indicator.h - shared by the list and CSV readers: turn one feed value into a STIX 2.1
 * indicator (plus the malware / campaign it indicates and the relationship), with
 * deterministic ids so re-reading a feed gives the same objects.
 */
#ifndef TIDE_INGEST_EMIT_INDICATOR_H
#define TIDE_INGEST_EMIT_INDICATOR_H

#include <stdbool.h>

#include <jansson.h>

#include "ingest/sink.h"
#include "tide/observable.h"

typedef struct {
    tide_sink *sink;
    char source[256];       /* x_tide_source: opts->source or the file's base name */
    char now[32];           /* created / modified / valid_from */
    int default_confidence; /* used when neither the record nor opts give one */
    const char *marking_id; /* TLP marking of opts->tlp, or NULL */
    char reliability;       /* opts->reliability, 0 = unset */
} tide__emitter;

/* Fill em from sink->opts and sink->file. format_confidence: the reader's default. */
void tide__emitter_init(tide__emitter *em, tide_sink *sink, int format_confidence);

/* Base name of path without directory and extension into out ("stdin" for "-" or NULL). */
void tide__file_stem(const char *path, char *out, size_t outsz);

/* Refang raw, detect its kind (or check it against want when want != NONE) and normalise it.
 * On success *kind and *canonical (caller frees with free()) are set; on failure returns
 * TIDE_EPARSE with a reason in tide_error_last(), or TIDE_ENOMEM. */
int tide__value_prepare(const char *raw, tide_obs_kind want, tide_obs_kind *kind, char **canonical);

/* Why value cannot be an observable of kind at all, or NULL when it can (even if tide cannot
 * index it): addresses and networks that do not parse (999.2.3.4), hashes that are not hex of
 * their length, and control bytes (a newline) in a domain, URL or e-mail address. An
 * internationalised domain, an odd URL or a stray blank (the STIX examples' own
 * 'domain autuo.xicp.net') is not invalid: it stays intel, only not indexed. The reason goes into
 * why (with the value, control bytes shown as \xNN). */
const char *tide__value_invalid(tide_obs_kind kind, const char *value, char *why, size_t whysz);

/* Emit a malware (type "malware", is_family true) or "campaign" SDO with a deterministic id
 * uuid5("<type>|<lower-case name>"), written into id_out. aliases / ext_refs: JSON arrays or
 * NULL (borrowed). */
int tide__emit_group(tide__emitter *em, const char *type, const char *name, json_t *aliases,
        json_t *ext_refs, char id_out[128]);

/* Emit the indicator for one canonical value (and, when related_id is given, an "indicates"
 * relationship to it). Its id is uuid5 of source, kind, value and the related object, so the
 * same value listed by two families is two indicators. A value repeated within one input is
 * emitted each time; the ingest core keeps the first (see ingest.c). written: the value as the feed
 * wrote it (indicator name). confidence < 0: opts->confidence, else em->default_confidence. extra:
 * a JSON object whose members are added to / override the indicator's (borrowed, may be NULL).
 * id_out may be NULL. */
int tide__emit_indicator(tide__emitter *em, tide_obs_kind kind, const char *canonical,
        const char *written, int confidence, json_t *extra, const char *related_id,
        char id_out[128]);

/* Emit the relationship source_id --type--> target_id (id uuid5 of the three), marked and
 * sourced as the emitter's indicators are. */
int tide__emit_relationship(
        tide__emitter *em, const char *source_id, const char *type, const char *target_id);

#endif
