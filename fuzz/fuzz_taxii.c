/*
 * fuzz_taxii.c - fuzz target for what a TAXII 2.1 peer or a MISP feed sends before it reaches
 * the ingest (src/feeds/taxii_parse.c): the Content-Type check, discovery / API root,
 * collections (with and without a wanted id), one collection, the envelope scanner (more,
 * next, objects skipped in constant memory) and a MISP feed manifest. The first byte picks
 * which; the rest is the body (its first line is also tried as a Content-Type).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/feeds_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 20))
        return 0;
    const char *url = "http://fuzz.example/taxii2/";
    const char *body = (const char *)data + 1;
    size_t n = size - 1;
    /* the first line as a header value */
    size_t l = 0;
    while (l < n && l < 512 && body[l] != '\n' && body[l] != '\0')
        l++;
    char ct[513];
    memcpy(ct, body, l);
    ct[l] = '\0';
    (void)tide__taxii_media_ok(ct);
    switch (data[0] % 6) {
        case 0: {
            char *root = NULL;
            if (tide__taxii_parse_root(url, body, n, &root) == 0 && root == NULL)
                abort();
            free(root);
            break;
        }
        case 1: {
            tide__taxii_collection c;
            (void)tide__taxii_parse_collections(url, body, n, NULL, &c);
            (void)tide__taxii_parse_collections(
                    url, body, n, "91a7b528-80eb-42ed-a74d-c6fbd5a26116", &c);
            break;
        }
        case 2: {
            tide__taxii_collection c;
            if (tide__taxii_parse_collection(url, body, n, &c) == 0 && c.id[0] == '\0')
                abort();
            break;
        }
        case 3:
        case 4: {
            tide__taxii_envelope e;
            if (tide__taxii_parse_envelope(url, body, n, &e) == 0 && e.next && e.next[0] == '\0')
                abort();
            tide__taxii_envelope_free(&e);
            break;
        }
        default: {
            tide__misp_manifest_event *v = NULL;
            size_t k = 0;
            if (tide__misp_parse_manifest(url, body, n, &v, &k) == 0)
                for (size_t i = 1; i < k; i++)
                    if (v[i - 1].timestamp > v[i].timestamp)
                        abort(); /* sorted oldest first */
            free(v);
            break;
        }
    }
    return 0;
}
