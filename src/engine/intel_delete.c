/*
 * intel_delete.c - intel taken out of the store on purpose (the TAXII DELETE of `tide serve`,
 * docs/taxii.md): the store deletes the versions (src/store/store_delete.c); when the current
 * one went and older ones stay, the newest of these is put again through an ingest run, the
 * one place that derives an indicator's observables, names and references from its JSON (the
 * store only keeps them); then the declared export targets follow, so a deleted indicator
 * leaves the blocklists at once, as it leaves lookups and the match index (the intel
 * generation moved).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"
#include "store/front.h"
#include "tide/errors.h"
#include "util/util.h"

/* Put the version the store left without being current again: an ingest run of its JSON,
 * under the source and TLP it was stored with (the run's finish checks the targets). */
static int revive(tide_workspace *ws, const tide_store_deleted *d, tide_target_cb on_export,
        void *payload, tide_intel_delete_result *out)
{
    tide_buf b = TIDE_BUF_INIT;
    int rc = tide__buf_puts(&b, "{\"type\":\"bundle\",\"objects\":[");
    rc |= tide__buf_put(&b, d->revive_json, strlen(d->revive_json));
    rc |= tide__buf_puts(&b, "]}");
    if (rc != 0) {
        tide__buf_free(&b);
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    }
    tide_ingest_run_opts o;
    tide_ingest_run_opts_init(&o);
    o.ingest.source = d->revive_source;
    o.ingest.tlp = d->revive_tlp;
    o.on_export = on_export;
    o.payload = payload;
    tide_ingest_run *run = NULL;
    tide_ingest_result res;
    memset(&res, 0, sizeof res);
    rc = tide_ingest_run_new(&run, ws, &o);
    if (rc == 0)
        rc = tide_ingest_run_buffer(
                run, b.ptr, b.len, "the version made current again", TIDE_FMT_STIX);
    int frc = run ? tide_ingest_run_finish(run, &res) : 0;
    tide_ingest_run_free(run);
    tide__buf_free(&b);
    if (rc == 0 && frc < 0)
        rc = frc;
    if (rc == 0 && res.ingest.stored == 0)
        rc = tide_error_set(TIDE_ESTORE, "version %s of the object could not be made current again",
                d->revive_modified);
    if (rc == 0)
        snprintf(out->revived, sizeof out->revived, "%s", d->revive_modified);
    out->exports_written = res.exports_written;
    out->exports_failed = res.exports_failed;
    return rc;
}

int tide_workspace_intel_delete(tide_workspace *ws, const char *id, const char *const *versions,
        size_t n, tide_target_cb on_export, void *payload, tide_intel_delete_result *out)
{
    tide_intel_delete_result local;
    if (out == NULL)
        out = &local;
    memset(out, 0, sizeof *out);
    if (ws == NULL || id == NULL)
        return tide_error_set(TIDE_EINVAL, "no workspace or object id");
    tide_store *store = tide_workspace_store(ws);
    tide_store_deleted d;
    int rc = tide_store_begin(store);
    if (rc == 0) {
        rc = tide__store_delete_versions(store, id, versions, n, &d);
        if (rc == 0)
            rc = tide_store_commit(store);
        else
            tide_store_rollback(store);
    }
    if (rc < 0)
        return rc;
    out->deleted = d.deleted;
    out->current = d.current;
    if (d.revive_json)
        rc = revive(ws, &d, on_export, payload, out);
    else {
        /* an export error does not undo the delete: the target's status keeps it */
        if (tide_workspace_targets_refresh(ws, false, NULL, on_export, payload,
                    &out->exports_written, &out->exports_failed) < 0)
            tide_error_clear();
    }
    tide__store_deleted_free(&d);
    return rc;
}
