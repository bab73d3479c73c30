/*
 * outfile.h - the one way tide writes a file (exports, case shares, the match index cache, the
 * history's run files and MANIFEST, the demo's files): never in place, never through a link,
 * never over anything but a regular file.
 *
 * A regular target (or a new one) is written to a temporary file created exclusively
 * (O_CREAT | O_EXCL | O_NOFOLLOW, a random name NAME.XXXXXX.tmp) in the target's folder, then
 * flushed, fsync'ed, given the existing target's mode (and owner, when the process may), renamed
 * over the target and the folder fsync'ed: a reader, a crash or a full disk sees the old file
 * or the new one, never a mix. Any failure removes the temporary file and leaves the target as
 * it was.
 *
 * A FIFO, a character device or "-" (standard output) is written directly when the caller
 * allows streams (TIDE__OUT_STREAM); it is never replaced. A folder, a symbolic link, a block
 * device or a socket at the target is refused (TIDE_EINVAL): tide does not write through a
 * link, and does not replace one either (name the link's target instead).
 *
 * Writers of one target are serialised: an flock on NAME.lock beside the target (created
 * 0644 less the umask, left in place: removing a lock file races with the next writer), held
 * from open to commit or abort, unless the caller already serialises them (TIDE__OUT_LOCKED:
 * it holds tide__outfile_lock of the target, or its own lock, as the history does). Under that
 * lock, temporary files of the target a killed writer left are removed.
 *
 * Modes: an existing target keeps its mode (permission bits; set-id bits dropped) and, where
 * the process may, its owner and group; a new file is 0600 with TIDE__OUT_PRIVATE (tide's own
 * state), else 0666 less the umask (outputs other programs read).
 */
#ifndef TIDE_OUTFILE_H
#define TIDE_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#define TIDE__OUT_PRIVATE   1u /* a new file is 0600 whatever the umask */
#define TIDE__OUT_STREAM    2u /* a FIFO, a character device or "-" is written directly */
#define TIDE__OUT_LOCKED    4u /* the caller serialises the writers of this target */
#define TIDE__OUT_NOSYNCDIR 8u /* the caller fsyncs the folder after the rename itself */

typedef struct {
    FILE *f;     /* write here; NULL once committed or aborted */
    int dirfd;   /* the target's folder (-1 for a stream) */
    int lock_fd; /* the lock this outfile took (-1: none) */
    char *path;  /* the target, for messages */
    char *name;  /* its name in dirfd */
    char *tmp;   /* the temporary file's name in dirfd; NULL when written directly */
    unsigned flags;
    bool own_dir; /* dirfd was opened by tide__outfile_open (closed with o) */
    bool exists;  /* a regular file was there: its mode and owner go to the new one */
    mode_t mode;
    uid_t uid;
    gid_t gid;
} tide__outfile;

/* Open path for writing (see above). o is cleared first; on failure nothing is left behind. */
int tide__outfile_open(tide__outfile *o, const char *path, unsigned flags);
/* The same for name inside an open folder dirfd (borrowed: kept open by the caller until the
 * commit or abort); dirpath is the folder's name, for messages. */
int tide__outfile_openat(
        tide__outfile *o, int dirfd, const char *dirpath, const char *name, unsigned flags);
/* Flush, fsync, rename over the target (streams: flush). On failure the temporary file is
 * removed and the target is as it was. Always releases o. */
int tide__outfile_commit(tide__outfile *o);
/* Drop what was written: the temporary file is removed. Accepts a released o. */
void tide__outfile_abort(tide__outfile *o);
/* Write n bytes of data to path in one go (open, write, commit). */
int tide__outfile_write(const char *path, const void *data, size_t n, unsigned flags);

/* What a path names, as an output. */
typedef enum {
    TIDE__OUTK_NEW,    /* nothing there */
    TIDE__OUTK_FILE,   /* a regular file: replaced */
    TIDE__OUTK_STREAM, /* a FIFO, a character device or "-": written directly */
    TIDE__OUTK_DIR     /* a folder */
} tide__out_kind;
/* Classify path: 0 with *out, or TIDE_EINVAL naming the path when it is a symbolic link, a block
 * device or a socket (TIDE_EIO when it cannot be looked at). */
int tide__outfile_kind(const char *path, tide__out_kind *out);

/* Serialise the writers of a target: a folder is locked itself (opened O_NOFOLLOW | O_DIRECTORY:
 * a link is refused), a file or a new path by PATH.lock. Waits for the lock. *out_fd is -1 for
 * "-", a FIFO or a device (nothing to serialise). */
int tide__outfile_lock(const char *path, int *out_fd);
void tide__outfile_unlock(int fd);

#endif
