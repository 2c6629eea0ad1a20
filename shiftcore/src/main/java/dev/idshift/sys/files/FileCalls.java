package dev.idshift.sys.files;

import com.kenai.jffi.MemoryIO;
import dev.idshift.sys.Linux;
import dev.idshift.sys.SyscallTable;
import dev.idshift.sys.Syscalls;

/**
 * The file syscalls of the FUSE backend's hot path. Unlike {@link FileSyscalls} these never throw: each
 * returns the kernel's result or minus its errno, which is what a FUSE operation hands back, and
 * takes native addresses (names and buffers where the FUSE request and reply lie) so a request
 * costs no allocation.
 */
public final class FileCalls {
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
        return (int) call(SyscallTable.OPENAT, dirfd, name, flags | Linux.O_CLOEXEC, mode, 0);
    }

    public int close(int fd) {
        return fd < 0 ? 0 : (int) call(SyscallTable.CLOSE, fd, 0, 0, 0, 0);
    }

    public int fstatfs(int fd, long statfsBuffer) {
        return (int) call(SyscallTable.FSTATFS, fd, statfsBuffer, 0, 0, 0);
    }

    public long pread(int fd, long buffer, long size, long offset) {
        return call(SyscallTable.PREAD64, fd, buffer, size, offset, 0);
    }

    public long pwrite(int fd, long buffer, long size, long offset) {
        return call(SyscallTable.PWRITE64, fd, buffer, size, offset, 0);
    }

    public int fsync(int fd, boolean dataOnly) {
        return (int) call(dataOnly ? SyscallTable.FDATASYNC : SyscallTable.FSYNC, fd, 0, 0, 0, 0);
    }

    /** fcntl(F_SETFL): the file status flags (O_APPEND, O_NONBLOCK, O_NOATIME, O_DIRECT, O_ASYNC). */
    public int setStatusFlags(int fd, int flags) {
        return (int) call(SyscallTable.FCNTL, fd, Linux.F_SETFL, flags, 0, 0);
    }

    public int ftruncate(int fd, long size) {
        return (int) call(SyscallTable.FTRUNCATE, fd, size, 0, 0, 0);
    }

    public int fallocate(int fd, int mode, long offset, long length) {
        return (int) call(SyscallTable.FALLOCATE, fd, mode, offset, length, 0);
    }

    public int fchmodat(int dirfd, long path, long mode) {
        return (int) call(SyscallTable.FCHMODAT, dirfd, path, mode, 0, 0);
    }

    /** fchmodat2(2) (Linux 6.6+; ENOSYS before): with AT_EMPTY_PATH it takes an O_PATH fd, a symlink's EOPNOTSUPP. */
    public int fchmodat2(int dirfd, long path, long mode, int flags) {
        return (int) call(SyscallTable.FCHMODAT2, dirfd, path, mode, flags, 0);
    }

    public int fchownat(int dirfd, long name, long uid, long gid, int flags) {
        return (int) call(SyscallTable.FCHOWNAT, dirfd, name, uid, gid, flags);
    }

    public int umask(int mask) {
        return (int) call(SyscallTable.UMASK, mask, 0, 0, 0, 0);
    }

    public long getdents64(int fd, long buffer, long size) {
        return call(SyscallTable.GETDENTS64, fd, buffer, size, 0, 0);
    }

    public int mkdirat(int dirfd, long name, long mode) {
        return (int) call(SyscallTable.MKDIRAT, dirfd, name, mode, 0, 0);
    }

    public int mknodat(int dirfd, long name, long mode, long device) {
        return (int) call(SyscallTable.MKNODAT, dirfd, name, mode, device, 0);
    }

    public int unlinkat(int dirfd, long name, int flags) {
        return (int) call(SyscallTable.UNLINKAT, dirfd, name, flags, 0, 0);
    }

    public int renameat2(int oldDirfd, long oldName, int newDirfd, long newName, int flags) {
        return (int) call(SyscallTable.RENAMEAT2, oldDirfd, oldName, newDirfd, newName, flags);
    }

    public int linkat(int oldDirfd, long oldName, int newDirfd, long newName, int flags) {
        return (int) call(SyscallTable.LINKAT, oldDirfd, oldName, newDirfd, newName, flags);
    }

    public int symlinkat(long target, int dirfd, long name) {
        return (int) call(SyscallTable.SYMLINKAT, target, dirfd, name, 0, 0);
    }

    public long readlinkat(int dirfd, long name, long buffer, long size) {
        return call(SyscallTable.READLINKAT, dirfd, name, buffer, size, 0);
    }

    public int utimensat(int dirfd, long name, long times, int flags) {
        return (int) call(SyscallTable.UTIMENSAT, dirfd, name, times, flags, 0);
    }

    public long read(int fd, long buffer, long size) {
        return call(SyscallTable.READ, fd, buffer, size, 0, 0);
    }

    public long write(int fd, long buffer, long size) {
        return call(SyscallTable.WRITE, fd, buffer, size, 0, 0);
    }

    public long lseek(int fd, long offset, int whence) {
        return call(SyscallTable.LSEEK, fd, offset, whence, 0, 0);
    }

    public long ioctl(int fd, long request, long argument) {
        return call(SyscallTable.IOCTL, fd, request, argument, 0, 0);
    }

    /** statx(2): one struct layout on every architecture ({@link StatxLayout}). */
    public int statx(int dirfd, long name, int flags, int mask, long buffer) {
        return (int) call(SyscallTable.STATX, dirfd, name, flags, mask, buffer);
    }

    /** This process's soft open-file limit, or minus an errno. */
    public long openFileLimit() {
        long limits = memory.allocateMemory(16, true);
        try {
            long result = call(SyscallTable.PRLIMIT64, 0, RLIMIT_NOFILE, 0, limits, 0);
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
        return (int) call(SyscallTable.NAME_TO_HANDLE_AT, fd, emptyString, handle, mountId, Linux.AT_EMPTY_PATH);
    }

    public int openByHandle(int mountFd, long handle, int flags) {
        return (int) call(SyscallTable.OPEN_BY_HANDLE_AT, mountFd, handle, flags | Linux.O_CLOEXEC, 0, 0);
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
            return (int) call(SyscallTable.PRLIMIT64, 0, RLIMIT_NOFILE, limits, 0, 0);
        } finally {
            memory.freeMemory(limits);
        }
    }

    /** Makes the calling thread's umask (and cwd, root) its own, so a request's umask can be set per thread. */
    public int unshareFs() {
        return (int) call(SyscallTable.UNSHARE, Linux.CLONE_FS, 0, 0, 0, 0);
    }

    // The following xattr calls follow the path: given /proc/self/fd/N of an O_PATH fd they reach
    // that fd's inode itself (a symlink's too: a magic link is not followed further).

    public long getxattr(long path, long name, long value, long size) {
        return call(SyscallTable.GETXATTR, path, name, value, size, 0);
    }

    public int setxattr(long path, long name, long value, long size, int flags) {
        return (int) call(SyscallTable.SETXATTR, path, name, value, size, flags);
    }

    public long listxattr(long path, long list, long size) {
        return call(SyscallTable.LISTXATTR, path, list, size, 0, 0);
    }

    public int removexattr(long path, long name) {
        return (int) call(SyscallTable.REMOVEXATTR, path, name, 0, 0, 0);
    }

    /** fgetxattr(2): an fd of an open file (not O_PATH: EBADF). */
    public long fgetxattr(int fd, long name, long value, long size) {
        return call(SyscallTable.FGETXATTR, fd, name, value, size, 0);
    }

    public long flistxattr(int fd, long list, long size) {
        return call(SyscallTable.FLISTXATTR, fd, list, size, 0, 0);
    }

}
