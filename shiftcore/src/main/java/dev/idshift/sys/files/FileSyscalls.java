package dev.idshift.sys.files;

import com.kenai.jffi.MemoryIO;
import dev.idshift.sys.Errno;
import dev.idshift.sys.Linux;
import dev.idshift.sys.NativeMemory;
import dev.idshift.sys.SyscallException;
import dev.idshift.sys.SyscallTable;
import dev.idshift.sys.Syscalls;

/**
 * Opening files and reading what the kernel keeps about them, for everything but the FUSE hot path
 * ({@link FileCalls}): each failure throws a {@link SyscallException} naming the call, the path and
 * the errno.
 */
public final class FileSyscalls {
    private static final FileSyscalls INSTANCE = new FileSyscalls();

    private final MemoryIO memory = NativeMemory.io();

    private FileSyscalls() {
    }

    public static FileSyscalls get() {
        return INSTANCE;
    }

    private static Syscalls sys() {
        return Syscalls.get();
    }

    public int openat(int dirfd, String path, int flags, int mode) {
        long cpath = NativeMemory.cString(path);
        try {
            return (int) sys().checked(SyscallTable.OPENAT, dirfd, cpath, flags, mode, 0, "open", path);
        } finally {
            NativeMemory.free(cpath);
        }
    }

    public int open(String path, int flags) {
        return openat(Linux.AT_FDCWD, path, flags | Linux.O_CLOEXEC, 0);
    }

    /** openat2(2): resolution rules such as RESOLVE_IN_ROOT keep a lookup inside a tree. */
    public int openat2(int dirfd, String path, long flags, long resolve, String subject) {
        long cpath = NativeMemory.cString(path);
        long how = NativeMemory.allocate(24, true);
        try {
            memory.putLong(how, flags | Linux.O_CLOEXEC);
            memory.putLong(how + 8, 0);
            memory.putLong(how + 16, resolve);
            return (int) sys().checked(SyscallTable.OPENAT2, dirfd, cpath, how, 24, 0, "openat2", subject);
        } finally {
            NativeMemory.free(how);
            NativeMemory.free(cpath);
        }
    }

    public void close(int fd) {
        sys().close(fd);
    }

    /** read(2) until end of file or {@code max} bytes: for small kernel files (/proc) opened relative to a pinned dir. */
    public byte[] readAll(int fd, int max, String subject) {
        long buffer = NativeMemory.allocate(max, false);
        try {
            int total = 0;
            while (total < max) {
                long got = sys().checked(SyscallTable.READ, fd, buffer + total, max - total, 0, 0, "read", subject);
                if (got == 0) {
                    break;
                }
                total += (int) got;
            }
            byte[] bytes = new byte[total];
            memory.getByteArray(buffer, bytes, 0, total);
            return bytes;
        } finally {
            NativeMemory.free(buffer);
        }
    }

    /**
     * lgetxattr(2) (the link itself, never its target): the attribute's bytes, or null when the
     * file has none (ENODATA) or its filesystem keeps none (EOPNOTSUPP).
     */
    public byte[] lgetxattr(String path, String name) {
        long cpath = NativeMemory.cString(path);
        long cname = NativeMemory.cString(name);
        int size = 4096; // an ACL of ~500 entries; the kernel answers ERANGE past it
        long value = NativeMemory.allocate(size, false);
        try {
            Syscalls sys = sys();
            long length = sys.raw(SyscallTable.LGETXATTR, cpath, cname, value, size, 0);
            if (length < 0) {
                int errno = sys.lastErrno();
                if (errno == Errno.ENODATA || errno == Errno.EOPNOTSUPP) {
                    return null;
                }
                throw new SyscallException("lgetxattr " + name, path, errno);
            }
            byte[] bytes = new byte[(int) length];
            memory.getByteArray(value, bytes, 0, bytes.length);
            return bytes;
        } finally {
            NativeMemory.free(value);
            NativeMemory.free(cname);
            NativeMemory.free(cpath);
        }
    }

    /** fcntl(fd, F_DUPFD_CLOEXEC): a second descriptor of the same open file, the caller's to close. */
    public int duplicate(int fd, String subject) {
        return (int) sys().checked(SyscallTable.FCNTL, fd, Linux.F_DUPFD_CLOEXEC, 0, 0, 0, "fcntl F_DUPFD_CLOEXEC", subject);
    }

    /** dup3(from, to, 0): {@code to} becomes a descriptor of {@code from}'s open file (e.g. a standard stream redirected). */
    public void duplicateOnto(int from, int to, String subject) {
        sys().checked(SyscallTable.DUP3, from, to, 0, 0, 0, "dup3", subject);
    }

    /**
     * flock(fd, LOCK_EX | LOCK_NB): a whole-file lock the kernel drops when the last descriptor of the
     * open file closes (at the holder's death at the latest); flock(1) in sh can wait on it.
     */
    public void lockExclusive(int fd, String subject) {
        sys().checked(SyscallTable.FLOCK, fd, Linux.LOCK_EX | Linux.LOCK_NB, 0, 0, 0, "flock LOCK_EX", subject);
    }

    // ---- file handles: the same inode, reopened through another mount of its filesystem ----

    /** name_to_handle_at(fd, "", AT_EMPTY_PATH): an opaque handle (struct file_handle bytes). */
    public byte[] nameToHandle(int fd, String subject) {
        long handle = NativeMemory.allocate(8 + 128, true);
        long mountId = NativeMemory.allocate(8, true);
        try {
            memory.putInt(handle, 128);
            sys().checked(SyscallTable.NAME_TO_HANDLE_AT, fd, NativeMemory.emptyString(), handle, mountId, Linux.AT_EMPTY_PATH,
                    "name_to_handle_at", subject);
            int length = 8 + memory.getInt(handle);
            byte[] bytes = new byte[length];
            memory.getByteArray(handle, bytes, 0, length);
            return bytes;
        } finally {
            NativeMemory.free(mountId);
            NativeMemory.free(handle);
        }
    }

    /** open_by_handle_at(mountFd, handle, flags): needs CAP_DAC_READ_SEARCH. */
    public int openByHandle(int mountFd, byte[] handle, int flags, String subject) {
        long native_ = NativeMemory.allocate(handle.length, false);
        try {
            memory.putByteArray(native_, handle, 0, handle.length);
            return (int) sys().checked(SyscallTable.OPEN_BY_HANDLE_AT, mountFd, native_, flags | Linux.O_CLOEXEC, 0, 0,
                    "open_by_handle_at", subject);
        } finally {
            NativeMemory.free(native_);
        }
    }
}
