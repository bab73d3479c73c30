/*
 * store_writeback.c - early writeback of the database file during a bulk load.
 *
 * A first load writes the whole database (1.5 GB for a million indicators) inside one
 * transaction. Linux keeps those pages dirty until its background threshold (10% of memory)
 * or their 30 s expiry, so without help nearly all of them are still in memory when the
 * commit's fdatasync runs, and the load then waits for the disk to write them all at once
 * (2.7 s of the reference load). Asking the kernel to start writing the pages already written,
 * every few thousand objects and after each index build, lets the disk work while the load
 * goes on; the commit's sync then finds little left. PostgreSQL (backend_flush_after) and
 * RocksDB (bytes_per_sync) do the same with sync_file_range(2).
 *
 * The descriptor is SQLite's own: tide must not open and close one of its own on the database,
 * as closing any descriptor of a file drops every POSIX lock the process holds on it, SQLite's
 * included. It is found by matching the file's device and inode among the process's open
 * descriptors, used only for the hint and never closed. Where sync_file_range does not exist
 * this is a no-op, and the load is only slower.
 */
#ifdef __linux__
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "store/store_int.h"

int tide__store_writeback_fd(const char *db_path)
{
#if defined(__linux__) && defined(SYNC_FILE_RANGE_WRITE)
    struct stat want;
    if (db_path == NULL || stat(db_path, &want) != 0)
        return -1;
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return -1;
    int found = -1, self = dirfd(d);
    struct dirent *e;
    while (found < 0 && (e = readdir(d)) != NULL) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (end == e->d_name || *end != '\0' || fd < 0 || fd == self)
            continue;
        struct stat st;
        if (fstat((int)fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_dev == want.st_dev &&
                st.st_ino == want.st_ino)
            found = (int)fd;
    }
    closedir(d);
    return found;
#else
    (void)db_path;
    return -1;
#endif
}

void tide__store_writeback(int fd)
{
#if defined(__linux__) && defined(SYNC_FILE_RANGE_WRITE)
    if (fd >= 0)
        (void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE); /* a hint: errors are harmless */
#else
    (void)fd;
#endif
}
