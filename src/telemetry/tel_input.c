/*
 * tel_input.c - the input layer of the telemetry reader (SPEC C2): bytes in from a file
 * descriptor (read(2)), a memory buffer or a byte source the caller implements (tide_tel_input),
 * gzip (zlib, 16+MAX_WBITS, multi-member, trailing zero padding tolerated) and zstd
 * (ZSTD_decompressStream) detected by their magic bytes whatever the name.
 *
 * Contract: the reader (tel_frame.c, fill) calls tide__tel_in_read with the free end of its line
 * buffer; the bytes are copied or decompressed straight into it. The first call sniffs the
 * compression from the first bytes read into that buffer, so plain input never needs a buffer of
 * its own; compressed input gets the raw buffer (TIDE__TEL_READ_CHUNK). The source is borrowed:
 * the descriptor (closed only when own_fd), the memory buffer and the byte source's context stay
 * the caller's until tide__tel_in_close. A return of 0 is the end for now: plain input may grow
 * (follow), a compressed stream must then be complete or it is an error.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "telemetry/tel_int.h"
#include "tide/errors.h"

/* Up to n raw bytes of the source into dst: the number read, 0 at its (current) end, < 0 error.
 * at: the stream offset for messages. */
static ssize_t src_read(tide__tel_in *in, void *dst, size_t n, uint64_t at)
{
    switch (in->src) {
        case TEL_SRC_MEM: {
            size_t k = in->mem_len - in->mem_pos;
            if (k > n)
                k = n;
            if (k > 0)
                memcpy(dst, in->mem + in->mem_pos, k);
            in->mem_pos += k;
            return (ssize_t)k;
        }
        case TEL_SRC_CB: {
            size_t got = 0;
            int rc = in->cb.read(in->cb.ctx, dst, n, &got);
            if (rc < 0)
                return tide_error_set(TIDE_EIO, "%s: read failed at byte %llu (input callback: %d)",
                        in->name, (unsigned long long)at, rc);
            if (got > n)
                return tide_error_set(TIDE_EIO,
                        "%s: input callback returned %zu bytes for a buffer of %zu at byte %llu",
                        in->name, got, n, (unsigned long long)at);
            return (ssize_t)got;
        }
        default:
            for (;;) {
                ssize_t k = read(in->fd, dst, n);
                if (k < 0 && errno == EINTR)
                    continue;
                if (k < 0)
                    return tide_error_set(TIDE_EIO, "%s: read failed at byte %llu: %s", in->name,
                            (unsigned long long)at, strerror(errno));
                return k;
            }
    }
}

/* Read raw bytes into in->raw (compact first). Returns bytes added, 0 at EOF. */
static ssize_t fill_raw(tide__tel_in *in, uint64_t at)
{
    if (in->raw_pos > 0) {
        memmove(in->raw, in->raw + in->raw_pos, in->raw_len - in->raw_pos);
        in->raw_len -= in->raw_pos;
        in->raw_pos = 0;
    }
    if (in->raw_len == in->raw_cap)
        return 0;
    ssize_t k = src_read(in, in->raw + in->raw_len, in->raw_cap - in->raw_len, at);
    if (k > 0)
        in->raw_len += (size_t)k;
    return k;
}

/* gzip or zstd magic at the start of p/n (as detect_comp decides) */
static bool compressed_magic(const unsigned char *m, size_t got)
{
    return (got >= 2 && m[0] == 0x1f && m[1] == 0x8b) ||
           (got >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd);
}

/* Sniff the compression from the first bytes, read straight into dst. Returns the bytes when
 * plain (they stay in dst), 0 when compressed (the bytes moved to in->raw), < 0 on error. */
static ssize_t detect_comp(tide__tel_in *in, char *dst, size_t room, uint64_t at)
{
    size_t got = 0;
    while (got < 4) {
        ssize_t k = src_read(in, dst + got, room - got, at + got);
        if (k < 0)
            return k;
        if (k == 0)
            break;
        got += (size_t)k;
    }
    const unsigned char *m = (const unsigned char *)dst;
    if (!compressed_magic(m, got)) {
        in->comp = TEL_COMP_NONE;
        return (ssize_t)got;
    }
    in->raw_cap = got > TIDE__TEL_READ_CHUNK ? got : TIDE__TEL_READ_CHUNK;
    in->raw = tide__malloc(in->raw_cap);
    if (in->raw == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    memcpy(in->raw, m, got);
    in->raw_len = got;
    in->raw_pos = 0;
    if (m[0] == 0x1f) { /* gzip */
        memset(&in->zs, 0, sizeof(in->zs));
        if (inflateInit2(&in->zs, 16 + MAX_WBITS) != Z_OK)
            return tide_error_set(TIDE_ENOMEM, "%s: zlib init failed", in->name);
        in->zs_init = true;
        in->comp = TEL_COMP_GZIP;
    } else {
        in->zd = ZSTD_createDStream();
        if (in->zd == NULL)
            return tide_error_set(TIDE_ENOMEM, "out of memory");
        ZSTD_initDStream(in->zd);
        in->comp = TEL_COMP_ZSTD;
    }
    return 0;
}

static ssize_t read_gzip(tide__tel_in *in, char *dst, size_t room, uint64_t at)
{
    for (;;) {
        if (in->raw_pos == in->raw_len && !in->raw_eof) {
            ssize_t k = fill_raw(in, at);
            if (k < 0)
                return k;
            if (k == 0)
                in->raw_eof = true;
        }
        if (in->raw_pos == in->raw_len && in->raw_eof) {
            if (!in->zs_end)
                return tide_error_set(TIDE_EPARSE,
                        "%s: truncated gzip stream after %llu decompressed bytes", in->name,
                        (unsigned long long)at);
            return 0;
        }
        if (in->zs_end) { /* next member; trailing zero padding is tolerated */
            if (in->raw[in->raw_pos] == 0) {
                in->raw_pos++;
                continue;
            }
            inflateReset(&in->zs);
            in->zs_end = false;
        }
        in->zs.next_in = in->raw + in->raw_pos;
        in->zs.avail_in = (uInt)(in->raw_len - in->raw_pos);
        in->zs.next_out = (Bytef *)dst;
        in->zs.avail_out = (uInt)room;
        int zr = inflate(&in->zs, Z_NO_FLUSH);
        size_t got = room - in->zs.avail_out;
        in->raw_pos = in->raw_len - in->zs.avail_in;
        if (zr == Z_STREAM_END)
            in->zs_end = true;
        else if (zr != Z_OK && zr != Z_BUF_ERROR)
            return tide_error_set(TIDE_EPARSE,
                    "%s: gzip data error near decompressed byte %llu: %s", in->name,
                    (unsigned long long)(at + got), in->zs.msg ? in->zs.msg : "inflate failed");
        if (got > 0)
            return (ssize_t)got;
    }
}

static ssize_t read_zstd(tide__tel_in *in, char *dst, size_t room, uint64_t at)
{
    for (;;) {
        if (in->raw_pos == in->raw_len && !in->raw_eof) {
            ssize_t k = fill_raw(in, at);
            if (k < 0)
                return k;
            if (k == 0)
                in->raw_eof = true;
        }
        ZSTD_inBuffer zin = { in->raw, in->raw_len, in->raw_pos };
        ZSTD_outBuffer zout = { dst, room, 0 };
        if (zin.pos == zin.size && in->raw_eof && in->zret == 0)
            return 0;
        size_t zr = ZSTD_decompressStream(in->zd, &zout, &zin);
        if (ZSTD_isError(zr))
            return tide_error_set(TIDE_EPARSE,
                    "%s: zstd data error near decompressed byte %llu: %s", in->name,
                    (unsigned long long)at, ZSTD_getErrorName(zr));
        in->zret = zr;
        in->raw_pos = zin.pos;
        if (zout.pos > 0)
            return (ssize_t)zout.pos;
        if (zin.pos == zin.size && in->raw_eof) {
            if (zr != 0)
                return tide_error_set(TIDE_EPARSE,
                        "%s: truncated zstd stream after %llu decompressed bytes", in->name,
                        (unsigned long long)at);
            return 0;
        }
    }
}

ssize_t tide__tel_in_read(tide__tel_in *in, char *dst, size_t room, uint64_t at)
{
    if (in->comp == TEL_COMP_UNKNOWN) {
        ssize_t k = detect_comp(in, dst, room, at);
        if (k != 0 || in->comp == TEL_COMP_NONE)
            return k;
    }
    switch (in->comp) {
        case TEL_COMP_GZIP: return read_gzip(in, dst, room, at);
        case TEL_COMP_ZSTD: return read_zstd(in, dst, room, at);
        default:
            /* read(2) size for plain input: small enough that the copy and the parse meet in the
             * L2 cache */
            return src_read(in, dst, room > TIDE__TEL_READ_SIZE ? TIDE__TEL_READ_SIZE : room, at);
    }
}

bool tide__tel_in_size(const tide__tel_in *in, size_t *out)
{
    if (in->src != TEL_SRC_MEM || compressed_magic(in->mem, in->mem_len))
        return false;
    *out = in->mem_len;
    return true;
}

bool tide__tel_in_followable(const tide__tel_in *in)
{
    return in->comp == TEL_COMP_NONE;
}

void tide__tel_in_close(tide__tel_in *in)
{
    if (in->own_fd && in->fd >= 0)
        close(in->fd);
    in->own_fd = false;
    if (in->zs_init)
        inflateEnd(&in->zs);
    in->zs_init = false;
    if (in->zd)
        ZSTD_freeDStream(in->zd);
    in->zd = NULL;
    tide__free(in->raw);
    in->raw = NULL;
}
