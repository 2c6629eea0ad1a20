package dev.idshift.backend.fuse;

import com.kenai.jffi.MemoryIO;
import dev.idshift.sys.Errno;
import dev.idshift.sys.Linux;
import dev.idshift.sys.files.FileCalls;
import dev.idshift.sys.files.StatxLayout;

/**
 * Names to nodes: one name looked up in a directory's fd, its last component never followed, and
 * never {@code .} or {@code ..}, so no lookup leaves the source whatever symlinks the tree holds.
 */
final class Lookups {
    private final NodeTable nodes;
    private final Attributes attributes;
    private final FileCalls calls = FileCalls.get();
    private static final MemoryIO MEMORY = MemoryIO.getInstance();

    Lookups(NodeTable nodes, Attributes attributes) {
        this.nodes = nodes;
        this.attributes = attributes;
    }

    /** A lookup of one name in a directory (the request's node, {@code b.node}): an entry_out at {@code out}. */
    int lookup(int directoryFd, long name, RequestBuffers b, long out) {
        if (isDotOrDotDot(name)) {
            return -Errno.ENOENT;  // never sent without export support; refused so nothing climbs out
        }
        int fd = calls.openat(directoryFd, name, Linux.O_PATH | Linux.O_NOFOLLOW, 0);
        if (fd < 0) {
            return fd;
        }
        return remember(fd, name, b, out);
    }

    /**
     * Makes (or finds) the node of an O_PATH fd, which it takes over, and writes its entry_out.
     * {@code name} is what the fd was opened as in the request's node ({@code b.node}): the node's place.
     */
    int remember(int fd, long name, RequestBuffers b, long out) {
        int result = attributes.stat(fd, b.stat);
        if (result < 0) {
            calls.close(fd);
            return result;
        }
        return rememberStated(fd, name, b, out);
    }

    /** {@link #remember} of an fd whose statx is in {@code b.stat} already. */
    int rememberStated(int fd, long name, RequestBuffers b, long out) {
        Node node = nodes.lookedUp(fd, attributes.device(b.stat), MEMORY.getLong(b.stat + StatxLayout.INO), b.node, name);
        attributes.entry(out, node.id, b.stat);
        return FuseProtocol.ENTRY_OUT;
    }

    /** Whether the NUL-terminated name at {@code name} is "." or "..". */
    static boolean isDotOrDotDot(long name) {
        if (MEMORY.getByte(name) != '.') {
            return false;
        }
        byte second = MEMORY.getByte(name + 1);
        return second == 0 || (second == '.' && MEMORY.getByte(name + 2) == 0);
    }
}
