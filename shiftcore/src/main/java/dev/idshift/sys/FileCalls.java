package dev.idshift.sys;

import com.kenai.jffi.MemoryIO;

/**
 * The file syscalls of the FUSE backend's hot path. Unlike {@link Syscalls} these never throw: each
 * returns the kernel's result or minus its errno, which is what a FUSE operation hands back, and
 * takes native addresses (names and buffers where the FUSE request and reply lie) so a request
 * costs no allocation.
 */
public final class FileCalls {
    private static final boolean X86_64 = !System.getProperty("os.arch").equals("aarch64");

    private static final long NR_CLOSE = X86_64 ? 3 : 57;
    private static final long NR_PREAD64 = X86_64 ? 17 : 67;
    private static final long NR_PWRITE64 = X86_64 ? 18 : 68;
    private static final long NR_FSYNC = X86_64 ? 74 : 82;
    private static final long NR_FDATASYNC = X86_64 ? 75 : 83;
    private static final long NR_FTRUNCATE = X86_64 ? 77 : 46;
    private static final long NR_UMASK = X86_64 ? 95 : 166;
    private static final long NR_FSTATFS = X86_64 ? 138 : 44;
    private static final long NR_GETDENTS64 = X86_64 ? 217 : 61;
    private static final long NR_OPENAT = X86_64 ? 257 : 56;
    private static final long NR_MKDIRAT = X86_64 ? 258 : 34;
    private static final long NR_MKNODAT = X86_64 ? 259 : 33;
    private static final long NR_FCHOWNAT = X86_64 ? 260 : 54;
    private static final long NR_UNLINKAT = X86_64 ? 263 : 35;
    private static final long NR_LINKAT = X86_64 ? 265 : 37;
    private static final long NR_SYMLINKAT = X86_64 ? 266 : 36;
    private static final long NR_READLINKAT = X86_64 ? 267 : 78;
    private static final long NR_FCHMODAT = X86_64 ? 268 : 53;
    private static final long NR_UTIMENSAT = X86_64 ? 280 : 88;
    private static final long NR_FALLOCATE = X86_64 ? 285 : 47;
    private static final long NR_RENAMEAT2 = X86_64 ? 316 : 276;
    private static final long NR_READ = X86_64 ? 0 : 63;
    private static final long NR_WRITE = X86_64 ? 1 : 64;
    private static final long NR_LSEEK = X86_64 ? 8 : 62;
    private static final long NR_IOCTL = X86_64 ? 16 : 29;
    private static final long NR_SETXATTR = X86_64 ? 188 : 5;
    private static final long NR_GETXATTR = X86_64 ? 191 : 8;
    private static final long NR_LISTXATTR = X86_64 ? 194 : 11;
    private static final long NR_REMOVEXATTR = X86_64 ? 197 : 14;
    private static final long NR_UNSHARE = X86_64 ? 272 : 97;
    private static final long NR_STATX = X86_64 ? 332 : 291;
    private static final long NR_PRLIMIT64 = X86_64 ? 302 : 261;
    private static final long NR_NAME_TO_HANDLE_AT = X86_64 ? 303 : 264;
    private static final long NR_OPEN_BY_HANDLE_AT = X86_64 ? 304 : 265;
    private static final int RLIMIT_NOFILE = 7;


    private static final FileCalls INSTANCE = new FileCalls();

    private final Syscalls syscalls = Syscalls.get();
    private final MemoryIO memory = MemoryIO.getInstance();

    private FileCalls() {
    }

    public static FileCalls get() {
        return INSTANCE;
    }

    private long call(long number, long a, long b, long c, long d, long e) {
        return syscalls.rawOrErrno(number, a, b, c, d, e);
    }

    public int openat(int dirfd, long name, int flags, long mode) {
        return (int) call(NR_OPENAT, dirfd, name, flags | Linux.O_CLOEXEC, mode, 0);
    }

    public int close(int fd) {
        return fd < 0 ? 0 : (int) call(NR_CLOSE, fd, 0, 0, 0, 0);
    }

    public int fstatfs(int fd, long statfsBuffer) {
        return (int) call(NR_FSTATFS, fd, statfsBuffer, 0, 0, 0);
    }

    public long pread(int fd, long buffer, long size, long offset) {
        return call(NR_PREAD64, fd, buffer, size, offset, 0);
    }

    public long pwrite(int fd, long buffer, long size, long offset) {
        return call(NR_PWRITE64, fd, buffer, size, offset, 0);
    }

    public int fsync(int fd, boolean dataOnly) {
        return (int) call(dataOnly ? NR_FDATASYNC : NR_FSYNC, fd, 0, 0, 0, 0);
    }

    public int ftruncate(int fd, long size) {
        return (int) call(NR_FTRUNCATE, fd, size, 0, 0, 0);
    }

    public int fallocate(int fd, int mode, long offset, long length) {
        return (int) call(NR_FALLOCATE, fd, mode, offset, length, 0);
    }

    public int fchmodat(int dirfd, long path, long mode) {
        return (int) call(NR_FCHMODAT, dirfd, path, mode, 0, 0);
    }

    public int fchownat(int dirfd, long name, long uid, long gid, int flags) {
        return (int) call(NR_FCHOWNAT, dirfd, name, uid, gid, flags);
    }

    public int umask(int mask) {
        return (int) call(NR_UMASK, mask, 0, 0, 0, 0);
    }

    public long getdents64(int fd, long buffer, long size) {
        return call(NR_GETDENTS64, fd, buffer, size, 0, 0);
    }

    public int mkdirat(int dirfd, long name, long mode) {
        return (int) call(NR_MKDIRAT, dirfd, name, mode, 0, 0);
    }

    public int mknodat(int dirfd, long name, long mode, long device) {
        return (int) call(NR_MKNODAT, dirfd, name, mode, device, 0);
    }

    public int unlinkat(int dirfd, long name, int flags) {
        return (int) call(NR_UNLINKAT, dirfd, name, flags, 0, 0);
    }

    public int renameat2(int oldDirfd, long oldName, int newDirfd, long newName, int flags) {
        return (int) call(NR_RENAMEAT2, oldDirfd, oldName, newDirfd, newName, flags);
    }

    public int linkat(int oldDirfd, long oldName, int newDirfd, long newName, int flags) {
        return (int) call(NR_LINKAT, oldDirfd, oldName, newDirfd, newName, flags);
    }

    public int symlinkat(long target, int dirfd, long name) {
        return (int) call(NR_SYMLINKAT, target, dirfd, name, 0, 0);
    }

    public long readlinkat(int dirfd, long name, long buffer, long size) {
        return call(NR_READLINKAT, dirfd, name, buffer, size, 0);
    }

    public int utimensat(int dirfd, long name, long times, int flags) {
        return (int) call(NR_UTIMENSAT, dirfd, name, times, flags, 0);
    }

    public long read(int fd, long buffer, long size) {
        return call(NR_READ, fd, buffer, size, 0, 0);
    }

    public long write(int fd, long buffer, long size) {
        return call(NR_WRITE, fd, buffer, size, 0, 0);
    }

    public long lseek(int fd, long offset, int whence) {
        return call(NR_LSEEK, fd, offset, whence, 0, 0);
    }

    public long ioctl(int fd, long request, long argument) {
        return call(NR_IOCTL, fd, request, argument, 0, 0);
    }

    /** statx(2): one struct layout on every architecture ({@link StatxLayout}). */
    public int statx(int dirfd, long name, int flags, int mask, long buffer) {
        return (int) call(NR_STATX, dirfd, name, flags, mask, buffer);
    }

    /** This process's soft open-file limit, or minus an errno. */
    public long openFileLimit() {
        long limits = memory.allocateMemory(16, true);
        try {
            long result = call(NR_PRLIMIT64, 0, RLIMIT_NOFILE, 0, limits, 0);
            return result < 0 ? result : memory.getLong(limits);
        } finally {
            memory.freeMemory(limits);
        }
    }

    /**
     * name_to_handle_at(fd, "", AT_EMPTY_PATH): the fd's file handle into {@code handle} (a struct
     * file_handle whose handle_bytes says its room), the mount id into {@code mountId}.
     */
    public int nameToHandle(int fd, long emptyString, long handle, long mountId) {
        return (int) call(NR_NAME_TO_HANDLE_AT, fd, emptyString, handle, mountId, Linux.AT_EMPTY_PATH);
    }

    public int openByHandle(int mountFd, long handle, int flags) {
        return (int) call(NR_OPEN_BY_HANDLE_AT, mountFd, handle, flags | Linux.O_CLOEXEC, 0, 0);
    }

    /**
     * Raises this process's open-file limit (soft and hard) to {@code limit}, as root may: 0 or minus
     * an errno.
     */
    public int raiseOpenFileLimit(long limit) {
        long limits = memory.allocateMemory(16, true);
        try {
            memory.putLong(limits, limit);
            memory.putLong(limits + 8, limit);
            return (int) call(NR_PRLIMIT64, 0, RLIMIT_NOFILE, limits, 0, 0);
        } finally {
            memory.freeMemory(limits);
        }
    }

    /** Makes the calling thread's umask (and cwd, root) its own, so a request's umask can be set per thread. */
    public int unshareFs() {
        return (int) call(NR_UNSHARE, Linux.CLONE_FS, 0, 0, 0, 0);
    }

    // The following xattr calls follow the path: given /proc/self/fd/N of an O_PATH fd they reach
    // that fd's inode itself (a symlink's too: a magic link is not followed further).

    public long getxattr(long path, long name, long value, long size) {
        return call(NR_GETXATTR, path, name, value, size, 0);
    }

    public int setxattr(long path, long name, long value, long size, int flags) {
        return (int) call(NR_SETXATTR, path, name, value, size, flags);
    }

    public long listxattr(long path, long list, long size) {
        return call(NR_LISTXATTR, path, list, size, 0, 0);
    }

    public int removexattr(long path, long name) {
        return (int) call(NR_REMOVEXATTR, path, name, 0, 0, 0);
    }

}
