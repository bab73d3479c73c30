/*
 * error.c - thread-local error detail (libgit2's git_error_last model): the library returns a
 * negative code and leaves a message here; callers print it.
 */
#include <stdio.h>
#include <string.h>

#include "util/util.h"

static _Thread_local char last_msg[1024];
static _Thread_local int last_code;

int tide_error_set(int code, const char *fmt, ...)
{
    /* formatted apart first: an argument may be tide_error_last() itself (a message that
     * wraps the one before), which vsnprintf must not write while it reads it */
    char msg[sizeof(last_msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    memcpy(last_msg, msg, sizeof(msg));
    last_code = code;
    return code;
}

const char *tide_error_last(void)
{
    return last_msg;
}

int tide_error_last_code(void)
{
    return last_code;
}

void tide_error_clear(void)
{
    last_msg[0] = '\0';
    last_code = 0;
}

const char *tide_error_name(int code)
{
    switch (code) {
        case TIDE_OK: return "ok";
        case TIDE_ENOMEM: return "out of memory";
        case TIDE_EIO: return "i/o error";
        case TIDE_EINVAL: return "invalid argument";
        case TIDE_EPARSE: return "parse error";
        case TIDE_ENOTFOUND: return "not found";
        case TIDE_ESTORE: return "store error";
        case TIDE_EFORMAT: return "unknown format";
        case TIDE_ETOOBIG: return "too big";
        case TIDE_EEXISTS: return "already exists";
        case TIDE_EUNSUPPORTED: return "unsupported";
        case TIDE_EMATCH: return "match error";
        case TIDE_ECANCELED: return "cancelled";
        default: return "error";
    }
}
