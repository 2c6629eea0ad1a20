package dev.idshift.sys.sockets;

import com.kenai.jffi.MemoryIO;
import dev.idshift.sys.Errno;
import dev.idshift.sys.Linux;
import dev.idshift.sys.NativeMemory;
import dev.idshift.sys.SyscallException;
import dev.idshift.sys.SyscallTable;
import dev.idshift.sys.Syscalls;
import java.nio.charset.StandardCharsets;

/**
 * AF_UNIX stream sockets with file descriptors passed as SCM_RIGHTS (jnr-unixsocket cannot), and
 * what the kernel knows of the peer (SO_PEERCRED, SO_PEERPIDFD).
 */
public final class UnixSockets {
    private static final UnixSockets INSTANCE = new UnixSockets();

    /** Room for one full SCM_RIGHTS message: CMSG_SPACE(SCM_MAX_FD * 4), and then some for any other cmsg. */
    private static final int CONTROL_BUFFER = 2048;
    /** sizeof(struct cmsghdr) on 64-bit: size_t cmsg_len, int cmsg_level, int cmsg_type. */
    private static final int CMSG_HEADER = 16;

    private final MemoryIO memory = NativeMemory.io();

    private UnixSockets() {
    }

    public static UnixSockets get() {
        return INSTANCE;
    }

    private static Syscalls sys() {
        return Syscalls.get();
    }

    /** A connected AF_UNIX stream socket to {@code path}. */
    public int connect(String path) {
        byte[] name = path.getBytes(StandardCharsets.UTF_8);
        if (name.length >= 108) {
            throw new IllegalArgumentException("socket path too long (max 107 bytes): " + path);
        }
        Syscalls sys = sys();
        int fd = (int) sys.checked(SyscallTable.SOCKET, Linux.AF_UNIX, Linux.SOCK_STREAM | Linux.SOCK_CLOEXEC, 0, 0, 0, "socket", path);
        long address = NativeMemory.allocate(110, true);
        try {
            memory.putShort(address, (short) Linux.AF_UNIX);
            memory.putByteArray(address + 2, name, 0, name.length);
            sys.checked(SyscallTable.CONNECT, fd, address, 2 + name.length + 1, 0, 0, "connect", path);
            return fd;
        } catch (RuntimeException e) {
            sys.close(fd);
            throw e;
        } finally {
            NativeMemory.free(address);
        }
    }

    /** Writes all of {@code bytes}, with {@code passFd} (if >= 0) attached to the first chunk. */
    public void sendWithFd(int socket, byte[] bytes, int passFd, String subject) {
        long buffer = NativeMemory.allocate(Math.max(1, bytes.length), false);
        long iov = NativeMemory.allocate(16, true);
        long control = NativeMemory.allocate(24, true);
        long header = NativeMemory.allocate(56, true);
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
                long written = sys().checked(SyscallTable.SENDMSG, socket, header, Linux.MSG_NOSIGNAL, 0, 0, "sendmsg", subject);
                sent += (int) written;
                fdPending = false;
            }
        } finally {
            NativeMemory.free(header);
            NativeMemory.free(control);
            NativeMemory.free(iov);
            NativeMemory.free(buffer);
        }
    }

    /**
     * Reads up to {@code max} bytes and every SCM_RIGHTS fd that arrives with them, however many
     * control messages carry them: an fd we did not take stays open in this process for good.
     */
    public Received receive(int socket, int max, String subject) {
        long buffer = NativeMemory.allocate(max, false);
        long iov = NativeMemory.allocate(16, true);
        long control = NativeMemory.allocate(CONTROL_BUFFER, true);
        long header = NativeMemory.allocate(56, true);
        try {
            memory.putLong(iov, buffer);
            memory.putLong(iov + 8, max);
            memory.putLong(header + 16, iov);
            memory.putLong(header + 24, 1);
            memory.putLong(header + 32, control);
            memory.putLong(header + 40, CONTROL_BUFFER);
            long read = sys().checked(SyscallTable.RECVMSG, socket, header, Linux.MSG_CMSG_CLOEXEC, 0, 0, "recvmsg", subject);
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
            NativeMemory.free(header);
            NativeMemory.free(control);
            NativeMemory.free(iov);
            NativeMemory.free(buffer);
        }
    }

    /** accept4(listener, NULL, NULL, SOCK_CLOEXEC): the next connection on a listening socket. */
    public int accept(int listener) {
        return (int) sys().checked(SyscallTable.ACCEPT4, listener, 0, 0, Linux.SOCK_CLOEXEC, 0, "accept", "fd " + listener);
    }

    /** shutdown(fd, SHUT_RDWR): wakes a thread blocked in accept or recv on it. */
    public void shutdown(int fd) {
        sys().raw(SyscallTable.SHUTDOWN, fd, 2, 0, 0, 0);
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
        long timeval = NativeMemory.allocate(16, true);
        try {
            memory.putLong(timeval, positive / 1000);
            memory.putLong(timeval + 8, (positive % 1000) * 1000);
            sys().checked(SyscallTable.SETSOCKOPT, socket, Linux.SOL_SOCKET, option, timeval, 16, "setsockopt", name);
        } finally {
            NativeMemory.free(timeval);
        }
    }

    /** SO_SNDBUF (the kernel doubles it, and keeps a minimum): how much unread output may queue. */
    public void setSendBuffer(int socket, int bytes) {
        long value = NativeMemory.allocate(4, true);
        try {
            memory.putInt(value, bytes);
            sys().checked(SyscallTable.SETSOCKOPT, socket, Linux.SOL_SOCKET, Linux.SO_SNDBUF, value, 4, "setsockopt", "SO_SNDBUF");
        } finally {
            NativeMemory.free(value);
        }
    }

    public PeerCredentials peerCredentials(int socket) {
        long ucred = NativeMemory.allocate(12, true);
        try {
            readOption(socket, Linux.SO_PEERCRED, "SO_PEERCRED", ucred, 12, false);
            return new PeerCredentials(memory.getInt(ucred) & 0xFFFF_FFFFL, memory.getInt(ucred + 4) & 0xFFFF_FFFFL,
                    memory.getInt(ucred + 8) & 0xFFFF_FFFFL);
        } finally {
            NativeMemory.free(ucred);
        }
    }

    /**
     * getsockopt(SO_PEERPIDFD): a pidfd (close-on-exec) of the process that connected, taken by the
     * kernel at connect(), so it names that process even after its pid is reused. -1 where the
     * kernel predates it (ENOPROTOOPT, before Linux 6.5).
     */
    public int peerPidfd(int socket) {
        long pidfd = NativeMemory.allocate(4, true);
        try {
            return readOption(socket, Linux.SO_PEERPIDFD, "SO_PEERPIDFD", pidfd, 4, true) ? memory.getInt(pidfd) : -1;
        } finally {
            NativeMemory.free(pidfd);
        }
    }

    /**
     * getsockopt(SOL_SOCKET, option) into the {@code size} bytes at {@code value}: true, or false
     * when {@code newerThanKernel} and the kernel does not know the option (ENOPROTOOPT).
     */
    private boolean readOption(int socket, int option, String name, long value, int size, boolean newerThanKernel) {
        long length = NativeMemory.allocate(4, true);
        try {
            memory.putInt(length, size);
            Syscalls sys = sys();
            if (sys.raw(SyscallTable.GETSOCKOPT, socket, Linux.SOL_SOCKET, option, value, length) >= 0) {
                return true;
            }
            int errno = sys.lastErrno();
            if (newerThanKernel && errno == Errno.ENOPROTOOPT) {
                return false;
            }
            throw new SyscallException("getsockopt", name, errno);
        } finally {
            NativeMemory.free(length);
        }
    }
}
