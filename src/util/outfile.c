/*
 * outfile.c - writing a file safely (the rules are in outfile.h): a temporary file created
 * exclusively beside the target, fsync, the target's mode and owner, rename, fsync of the
 * folder; FIFOs, character devices and "-" written directly; folders, links, block devices and
 * sockets refused; writers of one target serialised by an flock. POSIX calls only: no library
 * does this (mkstemp has no O_NOFOLLOW, no suffix and no folder descriptor).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "util/outfile.h"
#include "util/util.h"

#define TMP_SUFFIX ".tmp"
#define TMP_RAND   6

static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/* TMP_RAND random characters of alnum: the kernel's generator (getrandom, not OpenSSL's: its
 * first call loads the OpenSSL configuration and seeds a DRBG, ~7 ms of every `tide match`
 * that otherwise never touches OpenSSL), else the clock and a counter (the name only has to
 * differ; O_EXCL makes the creation safe either way). */
static void rand_name(char out[TMP_RAND + 1])
{
    unsigned char r[TMP_RAND];
    if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
        static unsigned long counter;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        unsigned long long x =
                (unsigned long long)ts.tv_nsec ^ ((unsigned long long)getpid() << 20) ^
                (unsigned long long)__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED) << 40;
        for (int i = 0; i < TMP_RAND; i++, x >>= 7)
            r[i] = (unsigned char)(x ^ (x >> 29));
    }
    for (int i = 0; i < TMP_RAND; i++)
        out[i] = alnum[r[i] % (sizeof(alnum) - 1)];
    out[TMP_RAND] = '\0';
}

static bool is_tmp_of(const char *entry, const char *name, size_t nlen)
{
    size_t len = strlen(entry);
    if (len != nlen + 1 + TMP_RAND + strlen(TMP_SUFFIX) || strncmp(entry, name, nlen) != 0 ||
            entry[nlen] != '.' || strcmp(entry + nlen + 1 + TMP_RAND, TMP_SUFFIX) != 0)
        return false;
    for (size_t i = nlen + 1; i < nlen + 1 + TMP_RAND; i++)
        if (strchr(alnum, entry[i]) == NULL || entry[i] == '\0')
            return false;
    return true;
}

/* Remove NAME.XXXXXX.tmp files a killed writer left (the caller serialises the writers of
 * name, so none of them is being written). Best effort. */
static void sweep(int dirfd, const char *name)
{
    int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return;
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return;
    }
    size_t nlen = strlen(name);
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (is_tmp_of(de->d_name, name, nlen))
            unlinkat(dirfd, de->d_name, 0);
    closedir(d);
}

static int classify(const char *path, mode_t m, tide__out_kind *out)
{
    if (S_ISREG(m))
        *out = TIDE__OUTK_FILE;
    else if (S_ISDIR(m))
        *out = TIDE__OUTK_DIR;
    else if (S_ISFIFO(m) || S_ISCHR(m))
        *out = TIDE__OUTK_STREAM;
    else if (S_ISLNK(m))
        return tide_error_set(TIDE_EINVAL,
                "%s: is a symbolic link: tide neither writes through a link nor replaces it "
                "(give the path of the file it points to, or remove the link)",
                path);
    else if (S_ISBLK(m))
        return tide_error_set(
                TIDE_EINVAL, "%s: is a block device: tide does not write to one", path);
    else
        return tide_error_set(TIDE_EINVAL, "%s: is a socket or another special file", path);
    return 0;
}

int tide__outfile_kind(const char *path, tide__out_kind *out)
{
    *out = TIDE__OUTK_NEW;
    if (strcmp(path, "-") == 0) {
        *out = TIDE__OUTK_STREAM;
        return 0;
    }
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        return tide_error_set(TIDE_EIO, "%s: %s", path, strerror(errno));
    }
    return classify(path, st.st_mode, out);
}

static int stat_at(
        int dirfd, const char *name, const char *path, tide__out_kind *kind, struct stat *st)
{
    *kind = TIDE__OUTK_NEW;
    if (fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT)
            return 0;
        return tide_error_set(TIDE_EIO, "%s: %s", path, strerror(errno));
    }
    return classify(path, st->st_mode, kind);
}

static int flock_wait(int fd)
{
    while (flock(fd, LOCK_EX) != 0)
        if (errno != EINTR)
            return -1;
    return 0;
}

/* Lock NAME.lock in dirfd (a regular file, created if needed, never through a link). */
static int lock_at(int dirfd, const char *name, const char *path, int *out_fd)
{
    *out_fd = -1;
    tide_buf b = TIDE_BUF_INIT;
    TIDE_CHECK(tide__buf_printf(&b, "%s.lock", name));
    int fd = openat(dirfd, b.ptr, O_RDONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
    struct stat st;
    int rc = 0;
    if (fd < 0)
        rc = tide_error_set(
                TIDE_EIO, "%s.lock: cannot open the lock of %s: %s", path, path, strerror(errno));
    else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        rc = tide_error_set(TIDE_EINVAL, "%s.lock: is not a regular file", path);
    else if (flock_wait(fd) != 0)
        rc = tide_error_set(TIDE_EIO, "%s.lock: cannot lock: %s", path, strerror(errno));
    if (rc < 0 && fd >= 0)
        close(fd);
    if (rc == 0)
        *out_fd = fd;
    tide__buf_free(&b);
    return rc;
}

static void release(tide__outfile *o)
{
    if (o->lock_fd >= 0)
        close(o->lock_fd);
    if (o->own_dir && o->dirfd >= 0)
        close(o->dirfd);
    tide__free(o->path);
    tide__free(o->name);
    tide__free(o->tmp);
    memset(o, 0, sizeof(*o));
    o->dirfd = o->lock_fd = -1;
}

static int open_stdout(tide__outfile *o)
{
    int fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return tide_error_set(TIDE_EIO, "-: standard output: %s", strerror(errno));
    o->f = fdopen(fd, "w");
    o->path = tide__strdup("-");
    if (o->f == NULL || o->path == NULL) {
        int rc = tide_error_set(TIDE_ENOMEM, "-: standard output: out of memory");
        if (o->f)
            fclose(o->f);
        else
            close(fd);
        o->f = NULL;
        release(o);
        return rc;
    }
    return 0;
}

/* A FIFO or a character device: opened as it is (no O_CREAT, no O_TRUNC), checked again once
 * open (it may have been replaced since it was looked at). A FIFO waits for its reader. */
static int open_stream(tide__outfile *o)
{
    int fd = openat(o->dirfd, o->name, O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return tide_error_set(TIDE_EIO, "%s: %s", o->path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !(S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))) {
        close(fd);
        return tide_error_set(TIDE_EINVAL, "%s: changed while it was opened", o->path);
    }
    if ((o->f = fdopen(fd, "w")) == NULL) {
        close(fd);
        return tide_error_set(TIDE_ENOMEM, "%s: out of memory", o->path);
    }
    return 0;
}

static int create_tmp(tide__outfile *o)
{
    size_t n = strlen(o->name) + 1 + TMP_RAND + sizeof(TMP_SUFFIX);
    o->tmp = tide__malloc(n);
    TIDE_CHECK_ALLOC(o->tmp);
    mode_t mode = (o->flags & TIDE__OUT_PRIVATE) || o->exists ? 0600 : 0666;
    int fd = -1;
    for (int tries = 0; tries < 100 && fd < 0; tries++) {
        char r[TMP_RAND + 1];
        rand_name(r);
        snprintf(o->tmp, n, "%s.%s%s", o->name, r, TMP_SUFFIX);
        fd = openat(o->dirfd, o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        int rc = tide_error_set(TIDE_EIO, "%s: cannot create a temporary file beside it: %s",
                o->path, strerror(errno));
        tide__free(o->tmp);
        o->tmp = NULL;
        return rc;
    }
    if ((o->f = fdopen(fd, "wb")) == NULL) {
        close(fd);
        unlinkat(o->dirfd, o->tmp, 0);
        tide__free(o->tmp);
        o->tmp = NULL;
        return tide_error_set(TIDE_ENOMEM, "%s: out of memory", o->path);
    }
    return 0;
}

static int open_at(tide__outfile *o, const char *name, unsigned flags)
{
    o->flags = flags;
    o->name = tide__strdup(name);
    if (o->name == NULL || o->path == NULL)
        return tide_error_set(TIDE_ENOMEM, "out of memory");
    if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return tide_error_set(TIDE_EINVAL, "%s: names a folder, not a file", o->path);
    tide__out_kind kind;
    struct stat st;
    for (int pass = 0;; pass++) {
        TIDE_CHECK(stat_at(o->dirfd, name, o->path, &kind, &st));
        if (kind == TIDE__OUTK_DIR)
            return tide_error_set(TIDE_EINVAL, "%s: is a folder, not a file", o->path);
        if (kind == TIDE__OUTK_STREAM) {
            if (!(flags & TIDE__OUT_STREAM))
                return tide_error_set(TIDE_EINVAL, "%s: is not a regular file", o->path);
            if (o->lock_fd >= 0) {
                close(o->lock_fd);
                o->lock_fd = -1;
            }
            return open_stream(o);
        }
        /* a regular file or nothing: lock, then look again (the writer before may have
         * changed it) */
        if (pass > 0 || (flags & TIDE__OUT_LOCKED))
            break;
        TIDE_CHECK(lock_at(o->dirfd, name, o->path, &o->lock_fd));
    }
    if (kind == TIDE__OUTK_FILE) {
        o->exists = true;
        o->mode = st.st_mode & 0777;
        o->uid = st.st_uid;
        o->gid = st.st_gid;
    }
    sweep(o->dirfd, name);
    return create_tmp(o);
}

int tide__outfile_openat(
        tide__outfile *o, int dirfd, const char *dirpath, const char *name, unsigned flags)
{
    memset(o, 0, sizeof(*o));
    o->lock_fd = -1;
    o->dirfd = dirfd;
    tide_buf b = TIDE_BUF_INIT;
    if (tide__buf_printf(&b, "%s/%s", dirpath, name) == 0)
        o->path = tide__buf_detach(&b);
    int rc = open_at(o, name, flags);
    if (rc < 0)
        release(o);
    return rc;
}

int tide__outfile_open(tide__outfile *o, const char *path, unsigned flags)
{
    memset(o, 0, sizeof(*o));
    o->dirfd = o->lock_fd = -1;
    if ((flags & TIDE__OUT_STREAM) && strcmp(path, "-") == 0)
        return open_stdout(o);
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    o->path = tide__strdup(path);
    char *dir = slash ? tide__strndup(path, slash == path ? 1 : (size_t)(slash - path))
                      : tide__strdup(".");
    int rc = 0;
    if (o->path == NULL || dir == NULL)
        rc = tide_error_set(TIDE_ENOMEM, "out of memory");
    else if ((o->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        rc = tide_error_set(
                TIDE_EIO, "%s: cannot open its folder %s: %s", path, dir, strerror(errno));
    o->own_dir = o->dirfd >= 0;
    tide__free(dir);
    if (rc == 0)
        rc = open_at(o, name, flags);
    if (rc < 0)
        release(o);
    return rc;
}

/* The reason of a failed write: errno of the call that failed, else (an earlier buffered write
 * failed and stdio kept no errno) a full file system, when it is full. */
static const char *write_reason(int e, int fd)
{
    struct statvfs sv;
    if (e == 0 && fd >= 0 && fstatvfs(fd, &sv) == 0 && sv.f_bavail == 0)
        e = ENOSPC;
    return e ? strerror(e) : "an earlier write failed";
}

int tide__outfile_commit(tide__outfile *o)
{
    if (o->f == NULL) {
        release(o);
        return 0;
    }
    int rc = 0, fd = fileno(o->f);
    errno = 0;
    if (fflush(o->f) != 0 || ferror(o->f))
        rc = tide_error_set(
                TIDE_EIO, "%s: write failed: %s", o->path, write_reason(errno, o->tmp ? fd : -1));
    if (rc == 0 && o->tmp && o->exists) {
        /* the file replaced keeps its owner (where this process may give it) and its mode */
        if ((o->uid != geteuid() || o->gid != getegid()) && fchown(fd, o->uid, o->gid) != 0) {
            /* not allowed (not root): keep the group if this process may, else the new file
             * is this process's, with the old mode */
            int ignored = fchown(fd, (uid_t)-1, o->gid);
            (void)ignored;
        }
        if (fchmod(fd, o->mode) != 0)
            rc = tide_error_set(TIDE_EIO, "%s: chmod: %s", o->path, strerror(errno));
    }
    if (rc == 0 && o->tmp && fsync(fd) != 0)
        rc = tide_error_set(TIDE_EIO, "%s: fsync: %s", o->path, strerror(errno));
    errno = 0;
    if (fclose(o->f) != 0 && rc == 0)
        rc = tide_error_set(TIDE_EIO, "%s: write failed: %s", o->path,
                errno ? strerror(errno) : "close failed");
    o->f = NULL;
    if (o->tmp) {
        if (rc == 0 && renameat(o->dirfd, o->tmp, o->dirfd, o->name) != 0)
            rc = tide_error_set(TIDE_EIO, "%s: rename: %s", o->path, strerror(errno));
        if (rc < 0)
            unlinkat(o->dirfd, o->tmp, 0);
        else if (!(o->flags & TIDE__OUT_NOSYNCDIR) && fsync(o->dirfd) != 0)
            rc = tide_error_set(TIDE_EIO, "%s: fsync of its folder: %s", o->path, strerror(errno));
    }
    release(o);
    return rc;
}

void tide__outfile_abort(tide__outfile *o)
{
    if (o->f) {
        fclose(o->f);
        o->f = NULL;
        if (o->tmp)
            unlinkat(o->dirfd, o->tmp, 0);
    }
    release(o);
}

int tide__outfile_write(const char *path, const void *data, size_t n, unsigned flags)
{
    tide__outfile o;
    TIDE_CHECK(tide__outfile_open(&o, path, flags));
    if (n > 0 && fwrite(data, 1, n, o.f) != n) {
        int rc = tide_error_set(TIDE_EIO, "%s: write failed: %s", path, strerror(errno));
        tide__outfile_abort(&o);
        return rc;
    }
    return tide__outfile_commit(&o);
}

int tide__outfile_lock(const char *path, int *out_fd)
{
    *out_fd = -1;
    tide__out_kind kind;
    TIDE_CHECK(tide__outfile_kind(path, &kind));
    if (kind == TIDE__OUTK_STREAM)
        return 0;
    if (kind == TIDE__OUTK_DIR) {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return tide_error_set(TIDE_EIO, "%s: %s", path, strerror(errno));
        if (flock_wait(fd) != 0) {
            int rc = tide_error_set(TIDE_EIO, "%s: cannot lock: %s", path, strerror(errno));
            close(fd);
            return rc;
        }
        *out_fd = fd;
        return 0;
    }
    const char *slash = strrchr(path, '/');
    char *dir = slash ? tide__strndup(path, slash == path ? 1 : (size_t)(slash - path))
                      : tide__strdup(".");
    TIDE_CHECK_ALLOC(dir);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = dfd < 0 ? tide_error_set(TIDE_EIO, "%s: cannot open its folder %s: %s", path, dir,
                               strerror(errno))
                     : lock_at(dfd, slash ? slash + 1 : path, path, out_fd);
    if (dfd >= 0)
        close(dfd);
    tide__free(dir);
    return rc;
}

void tide__outfile_unlock(int fd)
{
    if (fd >= 0)
        close(fd);
}
