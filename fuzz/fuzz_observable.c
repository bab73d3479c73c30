/*
 * fuzz_observable.c - fuzz target for refang / detect / normalize / to_pattern: whatever detect
 * accepts must normalise, normalise again to the same text, and give a pattern; whatever any
 * kind normalises must normalise again to the same text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tide/observable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    char *r = NULL;
    if (tide_obs_refang(s, &r) == 0) {
        tide_obs_kind k = tide_obs_detect(r);
        char *n1 = NULL, *n2 = NULL, *p = NULL;
        if (k != TIDE_OBS_NONE) {
            if (tide_obs_normalize(k, r, &n1) != 0)
                abort();
            if (tide_obs_normalize(k, n1, &n2) != 0 || strcmp(n1, n2) != 0)
                abort();
            if (tide_obs_to_pattern(k, n1, &p) != 0)
                abort();
        }
        free(n1);
        free(n2);
        free(p);
        /* every kind on arbitrary input must not crash, and whatever it normalises must be
         * a fixed point: normalising it again changes nothing */
        for (int kk = 1; kk < TIDE_OBS__COUNT; kk++) {
            char *o = NULL, *o2 = NULL;
            if (tide_obs_normalize((tide_obs_kind)kk, r, &o) == 0) {
                if (tide_obs_normalize((tide_obs_kind)kk, o, &o2) != 0 || strcmp(o, o2) != 0)
                    abort();
                free(o);
                free(o2);
            }
        }
        (void)tide_obs_from_path("ipv4-addr", "value", r);
        (void)tide_obs_from_path("file", r, NULL);
    }
    free(r);
    free(s);
    return 0;
}
