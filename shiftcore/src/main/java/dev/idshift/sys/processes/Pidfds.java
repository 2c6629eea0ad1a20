package dev.idshift.sys.processes;

import dev.idshift.sys.Errno;
import dev.idshift.sys.Fd;
import dev.idshift.sys.SyscallException;
import dev.idshift.sys.SyscallTable;
import dev.idshift.sys.Syscalls;

/** pidfds: a process named by a reference the kernel keeps, not by a pid that can be reused. */
public final class Pidfds {
    private static final Pidfds INSTANCE = new Pidfds();

    private Pidfds() {
    }

    public static Pidfds get() {
        return INSTANCE;
    }

    /** pidfd_open(pid, 0): a pidfd of whatever process has {@code pid} now (the caller closes it). */
    public Fd open(long pid) {
        return new Fd((int) Syscalls.get().checked(SyscallTable.PIDFD_OPEN, pid, 0, 0, 0, 0, "pidfd_open", "pid " + pid));
    }

    /**
     * pidfd_send_signal(pidfd, 0, NULL, 0): whether the process the pidfd names is still there (a
     * zombie counts: its pid is not free for reuse until it is reaped).
     */
    public boolean alive(Fd pidfd, String subject) {
        return signal(pidfd, 0, subject);
    }

    /**
     * pidfd_send_signal(pidfd, signal, NULL, 0) to the process the pidfd names (never to a later
     * process with its pid).
     *
     * @return false when that process has exited (ESRCH)
     */
    public boolean signal(Fd pidfd, int signal, String subject) {
        Syscalls sys = Syscalls.get();
        long result = sys.raw(SyscallTable.PIDFD_SEND_SIGNAL, pidfd.get(), signal, 0, 0, 0);
        if (result == 0) {
            return true;
        }
        int errno = sys.lastErrno();
        if (errno == Errno.ESRCH) {
            return false;
        }
        throw new SyscallException("pidfd_send_signal", subject, errno);
    }
}
