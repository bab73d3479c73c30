/*
 * progress.c - progress of the engine's long work (tide_workspace_set_progress): ingest runs,
 * match runs, history imports, hunts. The work tests a counter per batch
 * (tide__progress_due); only every `step` records is the monotonic clock read, and the front
 * end's callback runs at most every TIDE_PROGRESS_INTERVAL, so a run without a callback pays
 * one test per batch and one with a callback a clock read per few hundred records. The
 * workspace's cancel flag (tide_workspace_set_cancel) is kept here too: hunts look at it.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/engine_int.h"

void tide_workspace_set_progress(tide_workspace *ws, tide_progress_cb cb, void *payload)
{
    ws->progress = cb;
    ws->progress_payload = payload;
}

void tide__progress_begin(tide__progress *g, const tide_workspace *ws, const char *phase,
        uint64_t total_bytes, uint64_t step)
{
    memset(g, 0, sizeof(*g));
    g->cb = ws ? ws->progress : NULL;
    g->payload = ws ? ws->progress_payload : NULL;
    g->p.phase = phase;
    g->p.total_bytes = total_bytes;
    g->step = step ? step : 1;
    /* $TIDE_PROGRESS_INTERVAL (seconds, >= 0) overrides the interval: a front end's tests
     * check the line on inputs that take less than the default to read */
    g->interval = TIDE_PROGRESS_INTERVAL;
    const char *env = g->cb ? getenv("TIDE_PROGRESS_INTERVAL") : NULL;
    if (env && *env) {
        char *end;
        double v = strtod(env, &end);
        if (*end == '\0' && v >= 0 && v <= 3600)
            g->interval = v;
    }
    g->next = g->step;
    if (g->cb)
        g->t0 = g->last = tide__engine_mono();
}

void tide__progress_tick(tide__progress *g, uint64_t records, uint64_t bytes, const char *input)
{
    if (g->cb == NULL)
        return;
    g->next = records + g->step;
    double now = tide__engine_mono();
    if (now - g->last < g->interval)
        return;
    g->last = now;
    g->p.records = records;
    g->p.bytes = bytes;
    g->p.input = input;
    g->p.seconds = now - g->t0;
    g->told = true;
    g->cb(&g->p, g->payload);
}

void tide__progress_end(tide__progress *g, uint64_t records, uint64_t bytes)
{
    if (g->cb == NULL || !g->told)
        return;
    g->p.records = records;
    g->p.bytes = bytes;
    g->p.input = NULL;
    g->p.seconds = tide__engine_mono() - g->t0;
    g->p.done = true;
    g->told = false;
    g->cb(&g->p, g->payload);
}

void tide_workspace_set_cancel(tide_workspace *ws, const volatile int *flag)
{
    ws->cancel = flag;
}

bool tide_workspace_cancelled(const tide_workspace *ws)
{
    return ws && ws->cancel && *ws->cancel;
}

uint64_t tide__progress_file_size(const char *path)
{
    struct stat st;
    if (path == NULL || strcmp(path, "-") == 0 || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    unsigned char m[4] = { 0 };
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, m, sizeof(m));
    close(fd);
    if ((n >= 2 && m[0] == 0x1f && m[1] == 0x8b) ||
            (n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd))
        return 0; /* compressed: its bytes are counted decompressed */
    return (uint64_t)st.st_size;
}
