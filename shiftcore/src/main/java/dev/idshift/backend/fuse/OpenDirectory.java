package dev.idshift.backend.fuse;

/**
 * One open directory's listing: its fd, where the next READDIR(PLUS) continues, and dirents read
 * from the fd but not sent yet (the rest of a read that did not fit a reply, or a read ahead while
 * the kernel and the reader were busy with the last reply). Guarded by its own monitor: the kernel
 * sends one read of an open directory at a time, but a read ahead runs after the reply is written.
 *
 * <p>Invariant: the fd's position is just past the last pending dirent (at {@link #offset} when none).
 */
final class OpenDirectory {
    final int fd;
    /** The d_off cookie of the last entry sent: where the next read continues (0 at the start). */
    long offset;
    /** Whether this listing's entries carry attributes, as decided at its start (ListingPolicy). */
    boolean withAttributes;
    /** A buffer of {@link ReadAheadBuffers#SIZE} bytes for pending dirents, or 0 when none is held. */
    long pending;
    /** The pending dirents: [pending + start, pending + end). */
    int start;
    int end;
    /** RELEASEDIR came: the fd is closed, nothing may read it. */
    boolean released;

    OpenDirectory(int fd) {
        this.fd = fd;
    }

    boolean hasPending() {
        return end > start;
    }
}
