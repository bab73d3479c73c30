/*
 * fuzz_taxii_config.c - fuzz what the TAXII server of `tide serve` parses (server/taxii.c,
 * server/taxii_config.c): the "taxii" member of `tide serve --config FILE` (API roots and
 * collections, every member checked) and the Accept header. The first byte picks the parser.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "taxii_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    if (data[0] % 2 == 0) {
        char err[512];
        tide__taxii_cfg *c = tide__taxii_cfg_parse(body, len, err, sizeof err);
        tide__taxii_cfg_free(c);
        return 0;
    }
    char *s = malloc(len + 1); /* a header as MHD gives it: NUL-terminated */
    if (s == NULL)
        return 0;
    memcpy(s, body, len);
    s[len] = '\0';
    tide__taxii_accept_ok(s);
    free(s);
    return 0;
}
