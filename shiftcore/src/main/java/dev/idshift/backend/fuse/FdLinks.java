package dev.idshift.backend.fuse;

import dev.idshift.sys.Errno;
import dev.idshift.sys.Linux;
import dev.idshift.sys.NativeMemory;
import dev.idshift.sys.files.FileCalls;

/**
 * The calls that take no O_PATH fd (open, chmod), made on a node's O_PATH fd's own inode whatever its
 * names are now: through the fd's /proc link, or where the kernel has it a call that takes the fd
 * itself. The one place that decides which, once per process.
 *
 * <p>Cost, measured on Linux 6.18: opening /proc/self/fd/N walks four components (proc, the self
 * symlink, fd, N), 3.6 us an open; N alone from a held fd of the fd directory, 2.9 us; fchmodat2
 * on the fd, 2.2 us against 5.1 us by the whole path. The fd directory is the process's
 * (/proc/self/fd, as the whole path named it): every serving thread shares the one fd table.
 */
final class FdLinks {
    private static final FileCalls CALLS = FileCalls.get();
    private static final long EMPTY = NativeMemory.emptyString();
    /** An O_PATH fd of /proc/self/fd; negative if it could not be opened (the whole path is used then). */
    private static final int FD_DIRECTORY = openFdDirectory();
    /** Cleared when fchmodat2 answers ENOSYS (before Linux 6.6): chmod by the /proc link from then on. */
    private static volatile boolean fchmodat2 = true;

    private FdLinks() {
    }

    private static int openFdDirectory() {
        long path = NativeMemory.cString("/proc/self/fd");
        try {
            return CALLS.openat(Linux.AT_FDCWD, path, Linux.O_PATH | Linux.O_DIRECTORY, 0);
        } finally {
            NativeMemory.free(path);
        }
    }

    /** openat of the fd's inode with {@code flags} (the link is followed: O_NOFOLLOW must not be in them). */
    static int open(int fd, int flags, RequestBuffers b) {
        if (FD_DIRECTORY < 0) {
            return CALLS.openat(Linux.AT_FDCWD, b.procPath(fd), flags, 0);
        }
        return CALLS.openat(FD_DIRECTORY, b.fdName(fd), flags, 0);
    }

    /**
     * chmod of the fd's inode (any fd, O_PATH too). A symlink's mode cannot be set: EOPNOTSUPP from
     * fchmodat2; callers refuse symlinks before, as the /proc path would reach the link itself too.
     */
    static int chmod(int fd, int mode, RequestBuffers b) {
        if (fchmodat2) {
            int result = CALLS.fchmodat2(fd, EMPTY, mode, Linux.AT_EMPTY_PATH);
            if (result != -Errno.ENOSYS) {
                return result;
            }
            fchmodat2 = false;
        }
        if (FD_DIRECTORY < 0) {
            return CALLS.fchmodat(Linux.AT_FDCWD, b.procPath(fd), mode);
        }
        return CALLS.fchmodat(FD_DIRECTORY, b.fdName(fd), mode);
    }
}
