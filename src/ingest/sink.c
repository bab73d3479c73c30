/*
 * sink.c - helpers shared by every format reader around the sink contract (sink.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "ingest/sink.h"

void tide__sink_rejectf(tide_sink *sink, long line, long long offset, const char *fmt, ...)
{
    if (sink == NULL || sink->reject == NULL)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sink->reject(sink, line, offset, msg);
}
