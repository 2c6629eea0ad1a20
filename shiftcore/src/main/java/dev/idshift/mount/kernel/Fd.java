package dev.idshift.mount.kernel;

import dev.idshift.sys.Syscalls;

/** A file descriptor that is closed exactly once, by try-with-resources. */
public final class Fd implements AutoCloseable {
    private int fd;

    public Fd(int fd) {
        this.fd = fd;
    }

    public int get() {
        if (fd < 0) {
            throw new IllegalStateException("file descriptor already closed");
        }
        return fd;
    }

    @Override
    public void close() {
        if (fd >= 0) {
            Syscalls.get().close(fd);
            fd = -1;
        }
    }
}
