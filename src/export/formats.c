/*
 * formats.c - the export formats in one table: for each, its name, the observable kinds it can
 * express, whether it writes one file or a folder of files, whether it is a blocking control,
 * whether it keeps export state (and so supports --incremental), and its writers. The public
 * tide_export_format_* functions and tide_export_run (export.c) read nothing else, so a new
 * format is an entry here (with its tide_export_format value in include/tide/export.h) plus
 * the file of its writer.
 */
#include <strings.h>

#include "export/export_int.h"

#define K(kind) (1u << (kind))
#define K_IP    (K(TIDE_OBS_IPV4) | K(TIDE_OBS_IPV6) | K(TIDE_OBS_CIDR4) | K(TIDE_OBS_CIDR6))
#define K_HASH  (K(TIDE_OBS_MD5) | K(TIDE_OBS_SHA1) | K(TIDE_OBS_SHA256) | K(TIDE_OBS_SHA512))
#define K_ALL   (((1u << TIDE_OBS__COUNT) - 1) & ~K(TIDE_OBS_NONE))

static const tide__exp_format formats[TIDE_EXPORT__COUNT] = {
    /* name, kinds, dir, blocking, keeps_state, write, policy, categories */
    [TIDE_EXPORT_RPZ] = { "rpz", K_IP | K(TIDE_OBS_DOMAIN), false, true, true, tide__exp_rpz, NULL,
            NULL },
    [TIDE_EXPORT_NFT] = { "nft", K_IP | K(TIDE_OBS_IP_PORT), false, true, true, tide__exp_nft,
            tide__exp_policy, NULL },
    [TIDE_EXPORT_IPSET] = { "ipset", K_IP | K(TIDE_OBS_IP_PORT), false, true, true, tide__exp_ipset,
            tide__exp_policy, NULL },
    [TIDE_EXPORT_SQUID] = { "squid", K_IP | K(TIDE_OBS_DOMAIN) | K(TIDE_OBS_URL), true, true, false,
            tide__exp_squid, NULL, tide__exp_squid_categories },
    [TIDE_EXPORT_SURICATA] = { "suricata",
            K_IP | K(TIDE_OBS_IP_PORT) | K(TIDE_OBS_DOMAIN) | K(TIDE_OBS_URL) | K(TIDE_OBS_MD5) |
                    K(TIDE_OBS_SHA1) | K(TIDE_OBS_SHA256) | K(TIDE_OBS_JA3),
            true, true, true, tide__exp_suricata, NULL, NULL },
    [TIDE_EXPORT_ZEEK] = { "zeek",
            K_IP | K_HASH | K(TIDE_OBS_DOMAIN) | K(TIDE_OBS_URL) | K(TIDE_OBS_EMAIL) |
                    K(TIDE_OBS_X509_SHA1),
            false, true, false, tide__exp_zeek, NULL, NULL },
    [TIDE_EXPORT_YARA] = { "yara", K(TIDE_OBS_MD5) | K(TIDE_OBS_SHA1) | K(TIDE_OBS_SHA256), false,
            true, false, tide__exp_yara, NULL, NULL },
    [TIDE_EXPORT_STIX] = { "stix", K_ALL, false, false, false, tide__exp_stix, NULL, NULL },
    [TIDE_EXPORT_MISP] = { "misp", K_ALL, false, false, false, tide__exp_misp, NULL, NULL },
    [TIDE_EXPORT_CSV] = { "csv", K_ALL, false, false, false, tide__exp_csv, NULL, NULL },
    [TIDE_EXPORT_TXT] = { "txt", K_ALL, false, false, false, tide__exp_txt, NULL, NULL },
};

const tide__exp_format *tide__exp_format_of(int format)
{
    return format >= 0 && format < TIDE_EXPORT__COUNT ? &formats[format] : NULL;
}

int tide__exp_format_list(bool (*pick)(const tide__exp_format *f), tide_buf *out)
{
    int n = 0, total = 0;
    for (int i = 0; i < TIDE_EXPORT__COUNT; i++)
        total += pick(&formats[i]);
    for (int i = 0; i < TIDE_EXPORT__COUNT; i++) {
        if (!pick(&formats[i]))
            continue;
        if (n > 0)
            TIDE_CHECK(tide__buf_puts(out, n == total - 1 ? " and " : ", "));
        TIDE_CHECK(tide__buf_puts(out, formats[i].name));
        n++;
    }
    return 0;
}

int tide_export_format_from_name(const char *name)
{
    for (int i = 0; name && i < TIDE_EXPORT__COUNT; i++)
        if (strcasecmp(name, formats[i].name) == 0)
            return i;
    return -1;
}

const char *tide_export_format_name(int f)
{
    return f >= 0 && f < TIDE_EXPORT__COUNT ? formats[f].name : "?";
}

bool tide_export_format_is_dir(int f)
{
    return f >= 0 && f < TIDE_EXPORT__COUNT && formats[f].dir;
}

bool tide_export_format_supports(int f, tide_obs_kind kind)
{
    return f >= 0 && f < TIDE_EXPORT__COUNT && kind > TIDE_OBS_NONE && kind < TIDE_OBS__COUNT &&
           (formats[f].kinds & K(kind)) != 0;
}

bool tide_export_format_incremental(int f)
{
    return f >= 0 && f < TIDE_EXPORT__COUNT && formats[f].keeps_state;
}
