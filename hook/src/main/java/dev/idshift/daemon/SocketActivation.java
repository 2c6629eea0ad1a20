package dev.idshift.daemon;

/**
 * systemd socket activation (sd_listen_fds(3)): when LISTEN_PID is this process and LISTEN_FDS is at
 * least 1, the listening socket is fd 3. The launcher execs java, so LISTEN_PID set for the launcher
 * names the JVM.
 */
final class SocketActivation {
    static final int FIRST_FD = 3;

    private SocketActivation() {
    }

    /** The inherited listening socket, or -1. */
    static int listenerFd() {
        String pid = System.getenv("LISTEN_PID");
        String count = System.getenv("LISTEN_FDS");
        if (pid == null || count == null) {
            return -1;
        }
        try {
            if (Long.parseLong(pid.trim()) != ProcessHandle.current().pid() || Integer.parseInt(count.trim()) < 1) {
                return -1;
            }
        } catch (NumberFormatException e) {
            return -1;
        }
        return FIRST_FD;
    }
}
