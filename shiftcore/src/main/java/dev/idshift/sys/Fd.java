package dev.idshift.sys;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

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

    /** {st_dev, st_ino} of what this fd refers to, through /proc/self/fd (no path involved). */
    public long[] devIno() {
        try {
            Map<String, Object> attributes = Files.readAttributes(Path.of("/proc/self/fd/" + get()), "unix:dev,ino");
            return new long[] {(Long) attributes.get("dev"), (Long) attributes.get("ino")};
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stat fd " + fd + ": " + e.getMessage(), e);
        }
    }

    /** Whether both fds refer to the same inode: what was checked is what is used. */
    public boolean sameInode(Fd other) {
        long[] mine = devIno();
        long[] theirs = other.devIno();
        return mine[0] == theirs[0] && mine[1] == theirs[1];
    }

    @Override
    public void close() {
        if (fd >= 0) {
            Syscalls.get().close(fd);
            fd = -1;
        }
    }
}
