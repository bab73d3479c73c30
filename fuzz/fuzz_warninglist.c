/*
 * fuzz_warninglist.c - fuzz target for MISP warninglist parsing and checking: parse the input
 * as a list.json, add its entries (with the built-in bogons) and check a few values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "intel/warninglist.h"

static int add_cb(const char *name, const char *type, const char *description, const char *value,
        void *payload)
{
    (void)description;
    tide__warnlist_add(payload, name, type, value);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tide_warnlist_set *s = NULL;
    if (tide__warnlist_set_new(&s, true) != 0)
        return 0;
    tide__warnlist_parse((const char *)data, size, add_cb, s);
    static const struct {
        tide_obs_kind k;
        const char *v;
    } probes[] = { { TIDE_OBS_IPV4, "10.1.2.3" }, { TIDE_OBS_IPV6, "2001:db8::1" },
        { TIDE_OBS_CIDR4, "8.8.0.0/16" }, { TIDE_OBS_DOMAIN, "a.b.example.com" },
        { TIDE_OBS_URL, "http://[::1]:8080/x" }, { TIDE_OBS_URL, "http://u@host.example:1/p" },
        { TIDE_OBS_IP_PORT, "1.2.3.4:80" }, { TIDE_OBS_EMAIL, "abuse@example.com" },
        { TIDE_OBS_MD5, "d41d8cd98f00b204e9800998ecf8427e" } };
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
        (void)tide__warnlist_check(s, probes[i].k, probes[i].v);
    tide__warnlist_set_free(s);
    return 0;
}
