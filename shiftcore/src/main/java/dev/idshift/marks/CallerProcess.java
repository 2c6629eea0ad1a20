package dev.idshift.marks;

import dev.idshift.sys.Fd;
import dev.idshift.sys.Errno;
import dev.idshift.sys.Linux;
import dev.idshift.sys.SyscallException;
import dev.idshift.sys.files.FileSyscalls;
import dev.idshift.sys.namespaces.UserNamespaceOwner;
import dev.idshift.sys.processes.Pidfds;
import dev.idshift.sys.sockets.PeerCredentials;
import dev.idshift.sys.sockets.UnixSockets;

/**
 * The process at the other end of a daemon connection, pinned for the life of the connection.
 *
 * <p>SO_PEERCRED gives a pid, and a pid is only a number: once the process that connected exits
 * (having handed the socket to a child, say) the number can be given to another user's process,
 * whose /proc/PID would then speak for this connection. So at connect we also take a pidfd of the
 * peer (SO_PEERPIDFD: the kernel's reference to the process that called connect()). For each
 * request {@link #procDir()} opens /proc/PID and only then checks, through the pidfd, that this
 * process is still alive: if it is, the pid cannot have been reused before the open, so the
 * directory fd is that process's; every /proc read for the request goes through it (openat), and
 * names the same process even if it exits meanwhile (the reads then fail).
 *
 * <p>Kernels before 6.5 have no SO_PEERPIDFD: there the pidfd comes from pidfd_open(pid) when the
 * daemon accepts, which leaves the window between the client's connect() and the daemon's accept().
 */
public final class CallerProcess implements AutoCloseable {
    private final PeerCredentials credentials;
    private final Fd pidfd;

    private CallerProcess(PeerCredentials credentials, Fd pidfd) {
        this.credentials = credentials;
        this.pidfd = pidfd;
    }

    /** The peer of a connected unix socket, as the kernel recorded it at connect(). */
    public static CallerProcess connectedTo(int socket) {
        UnixSockets sockets = UnixSockets.get();
        Pidfds pidfds = Pidfds.get();
        PeerCredentials credentials = sockets.peerCredentials(socket);
        int peerPidfd = sockets.peerPidfd(socket);
        return new CallerProcess(credentials, peerPidfd >= 0 ? new Fd(peerPidfd) : pidfds.open(credentials.pid()));
    }

    /** SO_PEERCRED as at connect(): pid (host pid namespace), uid and gid (host terms). */
    public PeerCredentials credentials() {
        return credentials;
    }

    public long pid() {
        return credentials.pid();
    }

    public long uid() {
        return credentials.uid();
    }

    public long gid() {
        return credentials.gid();
    }

    /**
     * /proc/PID of the process that connected, as a directory fd (the caller closes it), or a
     * refusal when that process has exited: what then holds its pid is not our caller.
     */
    public Fd procDir() {
        FileSyscalls files = FileSyscalls.get();
        Pidfds pidfds = Pidfds.get();
        Fd dir;
        try {
            dir = new Fd(files.open("/proc/" + pid(), Linux.O_PATH | Linux.O_DIRECTORY));
        } catch (SyscallException e) {
            if (e.errno() == Errno.ENOENT || e.errno() == Errno.ESRCH) {
                throw exited();
            }
            throw e;
        }
        // Checked after the open: alive now means alive then, so the pid still named it at the open.
        if (!pidfds.alive(pidfd, "pid " + pid())) {
            dir.close();
            throw exited();
        }
        return dir;
    }

    /**
     * Who owns the user namespace of the process whose /proc/PID is {@code procDir} (from
     * {@link #procDir()}): read through that fd, so never another process's.
     */
    public static UserNamespaceOwner namespaceOwner(Fd procDir) {
        try (Fd userns = new Fd(FileSyscalls.get().openat(procDir.get(), "ns/user", Linux.O_RDONLY | Linux.O_CLOEXEC, 0))) {
            return UserNamespaceOwner.of(userns.get(), "the caller's ns/user");
        }
    }

    private Refusal exited() {
        return new Refusal("the process that connected (pid " + pid() + ") has exited; connect again from the process that asks");
    }

    @Override
    public void close() {
        pidfd.close();
    }
}
