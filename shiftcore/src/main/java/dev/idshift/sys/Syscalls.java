package dev.idshift.sys;

import com.kenai.jffi.CallContext;
import com.kenai.jffi.CallingConvention;
import com.kenai.jffi.Invoker;
import com.kenai.jffi.LastError;
import com.kenai.jffi.Library;
import com.kenai.jffi.MemoryIO;
import com.kenai.jffi.Type;
import java.nio.charset.StandardCharsets;

/**
 * Every syscall idshift makes, in one place. Calls go through libc's {@code syscall(2)} via jffi,
 * the native layer of jnr-ffi, called directly: jnr-ffi's proxy generation costs ~20 ms of start-up
 * and the hook pays start-up on every container start. Failures throw {@link SyscallException}
 * naming the call, its subject and the errno.
 *
 * <p>Loading the native stub takes ~30 ms; call {@link #preload()} early on another thread.
 */
public final class Syscalls {
    private static volatile Syscalls instance;

    private final Invoker invoker = Invoker.getInstance();
    private final MemoryIO memory = MemoryIO.getInstance();
    private final long syscallFunction;
    private final CallContext sixLongs;
    private final SyscallNumbers numbers = SyscallNumbers.forThisMachine();
    private final CredentialSyscallNumbers credentialNumbers = CredentialSyscallNumbers.forThisMachine();

    private Syscalls() {
        Library libc = Library.getCachedInstance("libc.so.6", Library.LAZY | Library.GLOBAL);
        if (libc == null) {
            throw new IllegalStateException("cannot load libc.so.6: " + Library.getLastError());
        }
        syscallFunction = libc.getSymbolAddress("syscall");
        Type[] params = {Type.SLONG, Type.SLONG, Type.SLONG, Type.SLONG, Type.SLONG, Type.SLONG};
        sixLongs = CallContext.getCallContext(Type.SLONG, params, CallingConvention.DEFAULT, true);
    }

    public static Syscalls get() {
        Syscalls loaded = instance;
        if (loaded == null) {
            synchronized (Syscalls.class) {
                loaded = instance;
                if (loaded == null) {
                    loaded = new Syscalls();
                    instance = loaded;
                }
            }
        }
        return loaded;
    }

    /** Starts loading the native layer on a daemon thread, so later calls do not wait for it. */
    public static void preload() {
        if (instance != null) {
            return;  // loaded already (the daemon's hook channel runs many hooks in one JVM)
        }
        // An anonymous class, not a lambda: the first lambda costs ~9 ms of bootstrap at start-up.
        Thread loader = new Thread(new Runnable() {
            @Override
            public void run() {
                try {
                    get();
                } catch (RuntimeException | LinkageError e) {
                    // Not here: the first real call fails the same way, where it can be reported.
                }
            }
        }, "idshift-ffi-preload");
        loader.setDaemon(true);
        loader.start();
    }

    private long raw(long number, long a, long b, long c, long d, long e) {
        return invoker.invokeN6(sixLongs, syscallFunction, number, a, b, c, d, e);
    }

    /** For {@link FileCalls}: the call's result, or minus its errno (no exception on the hot path). */
    long rawOrErrno(long number, long a, long b, long c, long d, long e) {
        // jffi's fast all-long path (no libffi): the FUSE server makes several syscalls per request.
        long result = invoker.invokeL6(sixLongs, syscallFunction, number, a, b, c, d, e);
        return result < 0 ? -LastError.getInstance().get() : result;
    }

    private long check(long result, String operation, String subject) {
        if (result < 0) {
            throw new SyscallException(operation, subject, LastError.getInstance().get());
        }
        return result;
    }

    // ---- native memory, always freed by the caller in a finally ----

    private long cString(String text) {
        if (text == null) {
            return 0;
        }
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        long address = memory.allocateMemory(bytes.length + 1, true);
        memory.putByteArray(address, bytes, 0, bytes.length);
        return address;
    }

    private void free(long address) {
        if (address != 0) {
            memory.freeMemory(address);
        }
    }

    // ---- files ----

    public int openat(int dirfd, String path, int flags, int mode) {
        long cpath = cString(path);
        try {
            return (int) check(raw(numbers.openat(), dirfd, cpath, flags, mode, 0), "open", path);
        } finally {
            free(cpath);
        }
    }

    public int open(String path, int flags) {
        return openat(Linux.AT_FDCWD, path, flags | Linux.O_CLOEXEC, 0);
    }

    /** openat2(2): resolution rules such as RESOLVE_IN_ROOT keep a lookup inside a tree. */
    public int openat2(int dirfd, String path, long flags, long resolve, String subject) {
        long cpath = cString(path);
        long how = memory.allocateMemory(24, true);
        try {
            memory.putLong(how, flags | Linux.O_CLOEXEC);
            memory.putLong(how + 8, 0);
            memory.putLong(how + 16, resolve);
            return (int) check(raw(SyscallNumbers.OPENAT2, dirfd, cpath, how, 24, 0), "openat2", subject);
        } finally {
            free(how);
            free(cpath);
        }
    }

    public void close(int fd) {
        if (fd >= 0) {
            raw(numbers.close(), fd, 0, 0, 0, 0);
        }
    }

    /** read(2) until end of file or {@code max} bytes: for small kernel files (/proc) opened relative to a pinned dir. */
    public byte[] readAll(int fd, int max, String subject) {
        long buffer = memory.allocateMemory(max, false);
        try {
            int total = 0;
            while (total < max) {
                long got = check(raw(numbers.read(), fd, buffer + total, max - total, 0, 0), "read", subject);
                if (got == 0) {
                    break;
                }
                total += (int) got;
            }
            byte[] bytes = new byte[total];
            memory.getByteArray(buffer, bytes, 0, total);
            return bytes;
        } finally {
            free(buffer);
        }
    }

    /**
     * lgetxattr(2) (the link itself, never its target): the attribute's bytes, or null when the
     * file has none (ENODATA) or its filesystem keeps none (EOPNOTSUPP).
     */
    public byte[] lgetxattr(String path, String name) {
        long cpath = cString(path);
        long cname = cString(name);
        int size = 4096; // an ACL of ~500 entries; the kernel answers ERANGE past it
        long value = memory.allocateMemory(size, false);
        try {
            long length = raw(numbers.lgetxattr(), cpath, cname, value, size, 0);
            if (length < 0) {
                int errno = LastError.getInstance().get();
                if (errno == Errno.ENODATA || errno == Errno.EOPNOTSUPP) {
                    return null;
                }
                throw new SyscallException("lgetxattr " + name, path, errno);
            }
            byte[] bytes = new byte[(int) length];
            memory.getByteArray(value, bytes, 0, bytes.length);
            return bytes;
        } finally {
            free(value);
            free(cname);
            free(cpath);
        }
    }

    /** fcntl(fd, F_DUPFD_CLOEXEC): a second descriptor of the same open file, the caller's to close. */
    public int duplicate(int fd, String subject) {
        return (int) check(raw(numbers.fcntl(), fd, Linux.F_DUPFD_CLOEXEC, 0, 0, 0), "fcntl F_DUPFD_CLOEXEC", subject);
    }

    // ---- namespaces and processes ----

    /**
     * pidfd_send_signal(pidfd, 0, NULL, 0): whether the process the pidfd names is still there (a
     * zombie counts: its pid is not free for reuse until it is reaped).
     */
    public boolean pidfdAlive(int pidfd, String subject) {
        long result = raw(SyscallNumbers.PIDFD_SEND_SIGNAL, pidfd, 0, 0, 0, 0);
        if (result == 0) {
            return true;
        }
        int errno = LastError.getInstance().get();
        if (errno == Errno.ESRCH) {
            return false;
        }
        throw new SyscallException("pidfd_send_signal", subject, errno);
    }

    /** pidfd_open(pid, 0): a pidfd of whatever process has {@code pid} now. */
    public int pidfdOpen(long pid) {
        return (int) check(raw(SyscallNumbers.PIDFD_OPEN, pid, 0, 0, 0, 0), "pidfd_open", "pid " + pid);
    }

    public void setns(int fd, int nstype, String subject) {
        check(raw(numbers.setns(), fd, nstype, 0, 0, 0), "setns", subject);
    }

    public void unshare(int flags) {
        check(raw(numbers.unshare(), flags, 0, 0, 0, 0), "unshare", "0x" + Integer.toHexString(flags));
    }

    /** ioctl(fd, NS_GET_PARENT): the parent of a user namespace, as a new fd (EPERM past the caller's own). */
    public int namespaceParent(int nsFd, String subject) {
        return (int) check(raw(numbers.ioctl(), nsFd, Linux.NS_GET_PARENT, 0, 0, 0), "ioctl NS_GET_PARENT", subject);
    }

    /** ioctl(fd, NS_GET_OWNER_UID): the uid (in the parent namespace's terms) that created a user namespace. */
    public long namespaceOwnerUid(int nsFd, String subject) {
        long uid = memory.allocateMemory(4, true);
        try {
            check(raw(numbers.ioctl(), nsFd, Linux.NS_GET_OWNER_UID, uid, 0, 0), "ioctl NS_GET_OWNER_UID", subject);
            return memory.getInt(uid) & 0xFFFF_FFFFL;
        } finally {
            free(uid);
        }
    }

    /**
     * The calling THREAD's filesystem uid and gid (setfsuid/setfsgid), with its effective
     * capabilities raised back to its permitted set: the kernel drops the file capabilities
     * (CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_MKNOD, ...) from the effective set when the
     * fsuid leaves 0. Linux keeps credentials per thread: use a thread that ends afterwards.
     */
    public void setFsIdsKeepingCapabilities(long fsuid, long fsgid, String subject) {
        CredentialSyscallNumbers calls = credentialNumbers;
        raw(calls.setfsgid(), fsgid, 0, 0, 0, 0);
        raw(calls.setfsuid(), fsuid, 0, 0, 0, 0);
        // setfsuid/setfsgid return the previous id and never fail: ask again (-1 changes nothing) to check.
        long nowUid = raw(calls.setfsuid(), -1, 0, 0, 0, 0);
        long nowGid = raw(calls.setfsgid(), -1, 0, 0, 0, 0);
        if (nowUid != fsuid || nowGid != fsgid) {
            throw new IllegalStateException("setfsuid/setfsgid " + fsuid + "/" + fsgid + " for " + subject + " did not take (now "
                    + nowUid + "/" + nowGid + "): needs CAP_SETUID and CAP_SETGID");
        }
        long header = memory.allocateMemory(8, true);
        long data = memory.allocateMemory(24, true);
        try {
            memory.putInt(header, Linux.LINUX_CAPABILITY_VERSION_3);
            check(raw(calls.capget(), header, data, 0, 0, 0), "capget", subject);
            memory.putInt(data, memory.getInt(data + 4));
            memory.putInt(data + 12, memory.getInt(data + 16));
            check(raw(calls.capset(), header, data, 0, 0, 0), "capset", subject);
        } finally {
            free(data);
            free(header);
        }
    }

    public int geteuid() {
        return (int) raw(numbers.geteuid(), 0, 0, 0, 0, 0);
    }

    // ---- unix sockets, with file descriptors passed as SCM_RIGHTS (jnr-unixsocket cannot) ----

    /** A connected AF_UNIX stream socket to {@code path}. */
    public int connectUnix(String path) {
        byte[] name = path.getBytes(StandardCharsets.UTF_8);
        if (name.length >= 108) {
            throw new IllegalArgumentException("socket path too long (max 107 bytes): " + path);
        }
        int fd = (int) check(raw(numbers.socket(), Linux.AF_UNIX, Linux.SOCK_STREAM | Linux.SOCK_CLOEXEC, 0, 0, 0), "socket", path);
        long address = memory.allocateMemory(110, true);
        try {
            memory.putShort(address, (short) Linux.AF_UNIX);
            memory.putByteArray(address + 2, name, 0, name.length);
            check(raw(numbers.connect(), fd, address, 2 + name.length + 1, 0, 0), "connect", path);
            return fd;
        } catch (RuntimeException e) {
            close(fd);
            throw e;
        } finally {
            free(address);
        }
    }

    /** Writes all of {@code bytes}, with {@code passFd} (if >= 0) attached to the first chunk. */
    public void sendWithFd(int socket, byte[] bytes, int passFd, String subject) {
        long buffer = memory.allocateMemory(Math.max(1, bytes.length), false);
        long iov = memory.allocateMemory(16, true);
        long control = memory.allocateMemory(24, true);
        long header = memory.allocateMemory(56, true);
        try {
            memory.putByteArray(buffer, bytes, 0, bytes.length);
            int sent = 0;
            boolean fdPending = passFd >= 0;
            while (sent < bytes.length || fdPending) {
                memory.putLong(iov, buffer + sent);
                memory.putLong(iov + 8, bytes.length - sent);
                memory.putLong(header + 16, iov);
                memory.putLong(header + 24, 1);
                if (fdPending) {
                    memory.putLong(control, 20);
                    memory.putInt(control + 8, Linux.SOL_SOCKET);
                    memory.putInt(control + 12, Linux.SCM_RIGHTS);
                    memory.putInt(control + 16, passFd);
                    memory.putLong(header + 32, control);
                    memory.putLong(header + 40, 24);
                } else {
                    memory.putLong(header + 32, 0);
                    memory.putLong(header + 40, 0);
                }
                long written = check(raw(numbers.sendmsg(), socket, header, Linux.MSG_NOSIGNAL, 0, 0), "sendmsg", subject);
                sent += (int) written;
                fdPending = false;
            }
        } finally {
            free(header);
            free(control);
            free(iov);
            free(buffer);
        }
    }

    /**
     * A received chunk, every file descriptor that came with it (close-on-exec, now the caller's to
     * close, each one), and whether the kernel cut the ancillary data short (MSG_CTRUNC: fds beyond
     * the buffer were discarded by the kernel, and the peer is not following the protocol).
     */
    public record Received(byte[] bytes, int[] fds, boolean controlTruncated) {
        /** Closes every fd that came with the chunk. */
        public void closeFds() {
            Syscalls sys = Syscalls.get();
            for (int fd : fds) {
                sys.close(fd);
            }
        }
    }

    /** Room for one full SCM_RIGHTS message: CMSG_SPACE(SCM_MAX_FD * 4), and then some for any other cmsg. */
    private static final int CONTROL_BUFFER = 2048;
    /** sizeof(struct cmsghdr) on 64-bit: size_t cmsg_len, int cmsg_level, int cmsg_type. */
    private static final int CMSG_HEADER = 16;

    /**
     * Reads up to {@code max} bytes and every SCM_RIGHTS fd that arrives with them, however many
     * control messages carry them: an fd we did not take stays open in this process for good.
     */
    public Received receive(int socket, int max, String subject) {
        long buffer = memory.allocateMemory(max, false);
        long iov = memory.allocateMemory(16, true);
        long control = memory.allocateMemory(CONTROL_BUFFER, true);
        long header = memory.allocateMemory(56, true);
        try {
            memory.putLong(iov, buffer);
            memory.putLong(iov + 8, max);
            memory.putLong(header + 16, iov);
            memory.putLong(header + 24, 1);
            memory.putLong(header + 32, control);
            memory.putLong(header + 40, CONTROL_BUFFER);
            long read = check(raw(numbers.recvmsg(), socket, header, Linux.MSG_CMSG_CLOEXEC, 0, 0), "recvmsg", subject);
            long controlLength = memory.getLong(header + 40);
            boolean truncated = (memory.getInt(header + 48) & Linux.MSG_CTRUNC) != 0;
            int[] fds = new int[0];
            long cmsg = control;
            while (cmsg + CMSG_HEADER <= control + controlLength) {
                long length = memory.getLong(cmsg);
                if (length < CMSG_HEADER || cmsg + length > control + controlLength) {
                    break;
                }
                if (memory.getInt(cmsg + 8) == Linux.SOL_SOCKET && memory.getInt(cmsg + 12) == Linux.SCM_RIGHTS) {
                    int count = (int) ((length - CMSG_HEADER) / 4);
                    int[] more = java.util.Arrays.copyOf(fds, fds.length + count);
                    for (int i = 0; i < count; i++) {
                        more[fds.length + i] = memory.getInt(cmsg + CMSG_HEADER + 4L * i);
                    }
                    fds = more;
                }
                cmsg += (length + 7) & ~7L; // CMSG_NXTHDR: each message is padded to 8 bytes
            }
            byte[] bytes = new byte[(int) read];
            memory.getByteArray(buffer, bytes, 0, bytes.length);
            return new Received(bytes, fds, truncated);
        } finally {
            free(header);
            free(control);
            free(iov);
            free(buffer);
        }
    }

    /** accept4(listener, NULL, NULL, SOCK_CLOEXEC): the next connection on a listening socket. */
    public int accept(int listener) {
        return (int) check(raw(numbers.accept4(), listener, 0, 0, Linux.SOCK_CLOEXEC, 0), "accept", "fd " + listener);
    }

    /** shutdown(fd, SHUT_RDWR): wakes a thread blocked in accept or recv on it. */
    public void shutdown(int fd) {
        raw(numbers.shutdown(), fd, 2, 0, 0, 0);
    }

    /** SO_RCVTIMEO and SO_SNDTIMEO: a peer that stops reading or writing cannot hold a thread forever. */
    public void setTimeouts(int socket, long seconds) {
        setReceiveTimeout(socket, seconds * 1000);
        setSendTimeout(socket, seconds * 1000);
    }

    /** SO_RCVTIMEO in milliseconds (at least 1: zero would mean "wait forever"). */
    public void setReceiveTimeout(int socket, long millis) {
        setTimeval(socket, Linux.SO_RCVTIMEO, "SO_RCVTIMEO", millis);
    }

    /** SO_SNDTIMEO in milliseconds (at least 1: zero would mean "wait forever"). */
    public void setSendTimeout(int socket, long millis) {
        setTimeval(socket, Linux.SO_SNDTIMEO, "SO_SNDTIMEO", millis);
    }

    private void setTimeval(int socket, int option, String name, long millis) {
        long positive = Math.max(1, millis);
        long timeval = memory.allocateMemory(16, true);
        try {
            memory.putLong(timeval, positive / 1000);
            memory.putLong(timeval + 8, (positive % 1000) * 1000);
            check(raw(numbers.setsockopt(), socket, Linux.SOL_SOCKET, option, timeval, 16), "setsockopt", name);
        } finally {
            free(timeval);
        }
    }

    /** SO_SNDBUF (the kernel doubles it, and keeps a minimum): how much unread output may queue. */
    public void setSendBuffer(int socket, int bytes) {
        long value = memory.allocateMemory(4, true);
        try {
            memory.putInt(value, bytes);
            check(raw(numbers.setsockopt(), socket, Linux.SOL_SOCKET, Linux.SO_SNDBUF, value, 4), "setsockopt", "SO_SNDBUF");
        } finally {
            free(value);
        }
    }

    /** The kernel's record of who is at the other end of a unix socket (SO_PEERCRED). */
    public record PeerCredentials(long pid, long uid, long gid) {
    }

    public PeerCredentials peerCredentials(int socket) {
        long ucred = memory.allocateMemory(12, true);
        long length = memory.allocateMemory(4, true);
        try {
            memory.putInt(length, 12);
            check(raw(numbers.getsockopt(), socket, Linux.SOL_SOCKET, Linux.SO_PEERCRED, ucred, length), "getsockopt", "SO_PEERCRED");
            return new PeerCredentials(memory.getInt(ucred) & 0xFFFF_FFFFL, memory.getInt(ucred + 4) & 0xFFFF_FFFFL,
                    memory.getInt(ucred + 8) & 0xFFFF_FFFFL);
        } finally {
            free(length);
            free(ucred);
        }
    }

    /**
     * getsockopt(SO_PEERPIDFD): a pidfd (close-on-exec) of the process that connected, taken by the
     * kernel at connect(), so it names that process even after its pid is reused. -1 where the
     * kernel predates it (ENOPROTOOPT, before Linux 6.5).
     */
    public int peerPidfd(int socket) {
        long pidfd = memory.allocateMemory(4, true);
        long length = memory.allocateMemory(4, true);
        try {
            memory.putInt(length, 4);
            long result = raw(numbers.getsockopt(), socket, Linux.SOL_SOCKET, Linux.SO_PEERPIDFD, pidfd, length);
            if (result < 0) {
                int errno = LastError.getInstance().get();
                if (errno == Errno.ENOPROTOOPT) {
                    return -1;
                }
                throw new SyscallException("getsockopt", "SO_PEERPIDFD", errno);
            }
            return memory.getInt(pidfd);
        } finally {
            free(length);
            free(pidfd);
        }
    }

    // ---- file handles: the same inode, reopened through another mount of its filesystem ----

    /** name_to_handle_at(fd, "", AT_EMPTY_PATH): an opaque handle (struct file_handle bytes). */
    public byte[] nameToHandle(int fd, String subject) {
        long handle = memory.allocateMemory(8 + 128, true);
        long mountId = memory.allocateMemory(8, true);
        try {
            memory.putInt(handle, 128);
            check(raw(numbers.nameToHandleAt(), fd, emptyString(), handle, mountId, Linux.AT_EMPTY_PATH), "name_to_handle_at", subject);
            int length = 8 + memory.getInt(handle);
            byte[] bytes = new byte[length];
            memory.getByteArray(handle, bytes, 0, length);
            return bytes;
        } finally {
            free(mountId);
            free(handle);
        }
    }

    /** open_by_handle_at(mountFd, handle, flags): needs CAP_DAC_READ_SEARCH. */
    public int openByHandle(int mountFd, byte[] handle, int flags, String subject) {
        long native_ = memory.allocateMemory(handle.length, false);
        try {
            memory.putByteArray(native_, handle, 0, handle.length);
            return (int) check(raw(numbers.openByHandleAt(), mountFd, native_, flags | Linux.O_CLOEXEC, 0, 0), "open_by_handle_at", subject);
        } finally {
            free(native_);
        }
    }

    private long emptyStringAddress;

    private synchronized long emptyString() {
        if (emptyStringAddress == 0) {
            emptyStringAddress = memory.allocateMemory(1, true);
        }
        return emptyStringAddress;
    }

    // ---- mounts ----

    public int openTree(int dirfd, String path, int flags, String subject) {
        long cpath = cString(path);
        try {
            return (int) check(raw(SyscallNumbers.OPEN_TREE, dirfd, cpath, flags, 0, 0), "open_tree", subject);
        } finally {
            free(cpath);
        }
    }

    /** mount_setattr(2) with struct mount_attr { attr_set, attr_clr, propagation, userns_fd }. */
    public void mountSetattr(int dirfd, String path, int flags, long attrSet, long attrClr, long propagation,
                             long usernsFd, String subject) {
        long cpath = cString(path);
        long attr = memory.allocateMemory(32, true);
        try {
            memory.putLong(attr, attrSet);
            memory.putLong(attr + 8, attrClr);
            memory.putLong(attr + 16, propagation);
            memory.putLong(attr + 24, usernsFd);
            check(raw(SyscallNumbers.MOUNT_SETATTR, dirfd, cpath, flags, attr, 32), "mount_setattr", subject);
        } finally {
            free(attr);
            free(cpath);
        }
    }

    public void moveMount(int fromDirfd, String fromPath, int toDirfd, String toPath, int flags, String subject) {
        long cfrom = cString(fromPath);
        long cto = cString(toPath);
        try {
            check(raw(SyscallNumbers.MOVE_MOUNT, fromDirfd, cfrom, toDirfd, cto, flags), "move_mount", subject);
        } finally {
            free(cto);
            free(cfrom);
        }
    }

    public int fsopen(String fsName) {
        long cname = cString(fsName);
        try {
            return (int) check(raw(SyscallNumbers.FSOPEN, cname, Linux.FSOPEN_CLOEXEC, 0, 0, 0), "fsopen", fsName);
        } finally {
            free(cname);
        }
    }

    public void fsconfig(int fd, int command, String key, String value, String subject) {
        long ckey = cString(key);
        long cvalue = cString(value);
        try {
            check(raw(SyscallNumbers.FSCONFIG, fd, command, ckey, cvalue, 0), "fsconfig", subject);
        } finally {
            free(cvalue);
            free(ckey);
        }
    }

    /** fsconfig(fd, FSCONFIG_SET_FD, key, NULL, valueFd): a layer given as an open directory (overlayfs 6.13+). */
    public void fsconfigFd(int fd, String key, int valueFd, String subject) {
        long ckey = cString(key);
        try {
            check(raw(SyscallNumbers.FSCONFIG, fd, Linux.FSCONFIG_SET_FD, ckey, 0, valueFd), "fsconfig " + key, subject);
        } finally {
            free(ckey);
        }
    }

    public int fsmount(int fd, long attrFlags, String subject) {
        return (int) check(raw(SyscallNumbers.FSMOUNT, fd, Linux.FSMOUNT_CLOEXEC, attrFlags, 0, 0), "fsmount", subject);
    }

    public void umount2(String target, int flags) {
        long ctarget = cString(target);
        try {
            check(raw(numbers.umount2(), ctarget, flags, 0, 0, 0), "umount", target);
        } finally {
            free(ctarget);
        }
    }
}
