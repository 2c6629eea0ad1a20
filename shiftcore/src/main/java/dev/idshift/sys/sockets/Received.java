package dev.idshift.sys.sockets;

import dev.idshift.sys.Syscalls;

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
