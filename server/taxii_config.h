/*
 * taxii_config.h - the collections `tide serve` publishes over TAXII 2.1 (server/taxii.c): the
 * "taxii" member of `tide serve --config FILE` (docs/taxii.md), parsed by taxii_config.c and
 * fuzzed by fuzz/fuzz_taxii_config.c, or the defaults.
 */
#ifndef TIDE_TAXII_CONFIG_H
#define TIDE_TAXII_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    TIDE__TAXII_INTEL = 0, /* the store's shareable intel */
    TIDE__TAXII_SIGHTINGS, /* STIX sightings built from the stored sightings */
    TIDE__TAXII_INBOX,     /* where peers post */
} tide__taxii_kind;

typedef struct {
    char *id; /* a UUID */
    char *title, *description;
    tide__taxii_kind kind;
    int tlp_max;    /* a tide_tlp */
    char **sources; /* feed names (an inbox: the source its posts are stored as) */
    size_t nsources;
    unsigned can_read; /* bit (1 << role) per tide_role */
    unsigned can_write;
} tide__taxii_coll;

typedef struct {
    char *name; /* the path segment */
    char *title, *description;
    tide__taxii_coll *colls;
    size_t ncolls;
} tide__taxii_root;

typedef struct {
    char *title, *description;
    tide__taxii_root *roots;
    size_t nroots;
} tide__taxii_cfg;

/* The "taxii" member (JSON text, len bytes): NULL and the reason in err (naming the member,
 * as taxii.api_roots.NAME.collections[2].kind) when it is not valid. */
tide__taxii_cfg *tide__taxii_cfg_parse(const char *json, size_t len, char *err, size_t cap);
/* The defaults: root "tide" with the collections intel, sightings and inbox. */
tide__taxii_cfg *tide__taxii_cfg_default(void);
void tide__taxii_cfg_free(tide__taxii_cfg *c);

/* taxii.c: whether an Accept header names application/taxii+json;version=2.1 among its media
 * ranges (spaces ignored; no header, no version or another one: false, as medallion). */
bool tide__taxii_accept_ok(const char *header);

/* taxii.c: set the configuration before the server starts (json NULL: the defaults; file
 * names it in errors), drop it after. */
int tide__taxii_setup(const char *json, const char *file);
void tide__taxii_teardown(void);

#endif
