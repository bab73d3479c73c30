/*
 * yara.c - YARA writer: rules using the hash module, one rule per hash type and batch of
 * BATCH hashes, each condition `hash.sha256(0, filesize) == "..."` (md5, sha1, sha256; YARA's
 * hash module has no SHA-512). Values are lower-case hex, so no escaping is needed.
 */
#include <string.h>

#include "export/export_int.h"

#define BATCH 250

int tide__exp_yara(tide__exp *x)
{
    tide__exp_file f;
    TIDE_CHECK(tide__exp_open(x, NULL, &f));
    fprintf(f.f, "/* tide YARA export: file hash rules */\nimport \"hash\"\n");
    static const struct {
        tide_obs_kind kind;
        const char *fn;
        size_t len;
    } types[] = { { TIDE_OBS_MD5, "md5", 32 }, { TIDE_OBS_SHA1, "sha1", 40 },
        { TIDE_OBS_SHA256, "sha256", 64 } };
    for (int t = 0; t < 3; t++) {
        long in_rule = 0, rule = 0;
        for (size_t i = 0; i < x->n; i++) {
            tide__exp_entry *e = &x->v[i];
            if (e->kind != types[t].kind)
                continue;
            if (strlen(e->val) != types[t].len || !tide__str_is_hex(e->val, types[t].len)) {
                tide__exp_skip(x, TIDE_EXPORT_SKIP_UNSUPPORTED, e, "not a hex hash");
                continue;
            }
            if (in_rule == 0)
                fprintf(f.f,
                        "\nrule tide_%s_%ld\n{\n    meta:\n        author = \"tide\"\n"
                        "        description = \"files whose %s is listed by tide intel\"\n"
                        "    condition:\n        ",
                        types[t].fn, rule, types[t].fn);
            else
                fprintf(f.f, " or\n        ");
            fprintf(f.f, "hash.%s(0, filesize) == \"%s\"", types[t].fn, e->val);
            x->sum->written++;
            if (++in_rule == BATCH) {
                fprintf(f.f, "\n}\n");
                in_rule = 0;
                rule++;
            }
        }
        if (in_rule)
            fprintf(f.f, "\n}\n");
    }
    return tide__exp_close(&f, true);
}
