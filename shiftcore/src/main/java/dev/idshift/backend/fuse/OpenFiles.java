package dev.idshift.backend.fuse;

import com.kenai.jffi.MemoryIO;
import dev.idshift.sys.Errno;
import dev.idshift.sys.Linux;
import dev.idshift.sys.files.FileCalls;

/**
 * Open regular files: opened by their node's fd, handed to the kernel as backing files where it has
 * passthrough, else read and written here. A file handle (fh) holds the open fd in its low 32 bits and
 * the backing id, if any, in its high ones.
 */
final class OpenFiles {
    private static final int FMODE_EXEC = 0x20;
    /** Flags the kernel resolved already, and its internal __FMODE_EXEC. */
    private static final int OPEN_FLAGS_IGNORED = Linux.O_CREAT | Linux.O_EXCL | Linux.O_NOCTTY | Linux.O_NOFOLLOW | FMODE_EXEC;

    private final NodeTable nodes;
    private final PrivilegeKills kills;
    private final FileCalls calls = FileCalls.get();
    private final MemoryIO memory = MemoryIO.getInstance();
    /** Set by INIT: whether opened files are handed to the kernel (FUSE_PASSTHROUGH). */
    private volatile boolean passthrough;

    OpenFiles(NodeTable nodes, PrivilegeKills kills) {
        this.nodes = nodes;
        this.kills = kills;
    }

    void passthrough(boolean enabled) {
        passthrough = enabled;
    }

    /**
     * OPEN: an open_out at {@code out}, or minus an errno. {@code openKill}: FUSE_OPEN_KILL_SUIDGID, a
     * truncating open by a caller who could not keep setuid/setgid (only with O_TRUNC, which the kernel
     * sends only with ATOMIC_O_TRUNC; else it truncates by SETATTR).
     */
    int open(Node node, int nodeFd, int flags, int openKill, RequestBuffers b, long out, int device) {
        int fd = openSource(nodeFd, flags & ~OPEN_FLAGS_IGNORED, b);
        if (fd < 0) {
            return fd;
        }
        if ((flags & Linux.O_TRUNC) != 0 && (openKill & FuseProtocol.OPEN_KILL_SUIDGID) != 0) {
            int result = kills.killSuidSgid(fd, b);
            if (result < 0) {
                calls.close(fd);
                return result;
            }
        }
        return openReply(node, fd, b, out, device);
    }

    /**
     * The source file opened as the caller asked. A lease on it (F_SETLEASE, which a file's owner may
     * take) makes an open wait until the lease is broken, up to fs.lease-break-time (45 s), and a
     * serving thread waiting held up every request it would have served: a host user owning a file in
     * the source stalled the view for its other users (red team r4). So the open is tried with
     * O_NONBLOCK first (EWOULDBLOCK: a lease is being broken); only then does the thread wait, with
     * {@code b.waits} (the /dev/fuse readers) adding a reader for the length of the wait.
     */
    private int openSource(int nodeFd, int flags, RequestBuffers b) {
        if ((flags & Linux.O_NONBLOCK) != 0 || b.waits == null) {
            return FdLinks.open(nodeFd, flags, b);
        }
        int fd = FdLinks.open(nodeFd, flags | Linux.O_NONBLOCK, b);
        if (fd >= 0) {
            calls.setStatusFlags(fd, flags);  // as asked: without O_NONBLOCK
            return fd;
        }
        if (fd != -Errno.EAGAIN) {
            return fd;
        }
        boolean added = b.waits.beforeWaiting();
        try {
            return FdLinks.open(nodeFd, flags, b);
        } finally {
            b.waits.afterWaiting(added);
        }
    }

    /**
     * An open_out for an open fd: handed to the kernel as the backing file (FUSE_PASSTHROUGH: reads,
     * writes and mmap then go to the source without this server) when it can be, else served here,
     * the page cache kept across opens (FUSE_AUTO_INVAL_DATA drops it when the file changes).
     */
    int openReply(Node node, int fd, RequestBuffers b, long out, int device) {
        long backing = passthrough ? backing(node, fd, b, device) : 0;
        synchronized (node) {
            node.openFd = fd;
        }
        memory.putLong(out, (backing << 32) | fd);
        memory.putInt(out + 8, backing != 0 ? FuseProtocol.FOPEN_PASSTHROUGH : FuseProtocol.FOPEN_KEEP_CACHE);
        memory.putInt(out + 12, (int) backing);
        return FuseProtocol.OPEN_OUT;
    }

    /** The node's backing id, registered from {@code fd} by its first open; 0 if the kernel refuses it. */
    private long backing(Node node, int fd, RequestBuffers b, int device) {
        synchronized (node) {
            if (node.backingUsers == 0) {
                memory.putInt(b.small, fd);
                memory.putInt(b.small + 4, 0);
                memory.putLong(b.small + 8, 0);
                long id = calls.ioctl(device, FuseProtocol.DEV_IOC_BACKING_OPEN, b.small);
                if (id <= 0) {
                    return 0;
                }
                node.backingId = id;
            }
            node.backingUsers++;
            return node.backingId;
        }
    }

    /** The open fd a file handle holds. */
    static int fileFd(long fh) {
        return (int) fh;
    }

    /**
     * RELEASE. The kernel sends it before it can forget the node (an open file holds its inode), so the
     * node is still there to stop naming the fd before it is closed.
     */
    int release(long nodeId, long fh, int device, RequestBuffers b) {
        Node node = nodes.get(nodeId);
        if (node != null) {
            synchronized (node) {
                if ((fh >>> 32) != 0 && --node.backingUsers == 0) {
                    memory.putInt(b.small, (int) node.backingId);
                    calls.ioctl(device, FuseProtocol.DEV_IOC_BACKING_CLOSE, b.small);
                    node.backingId = 0;
                }
                if (node.openFd == fileFd(fh)) {
                    node.openFd = -1;
                }
            }
        }
        return calls.close(fileFd(fh));
    }

    /** READ (without passthrough): the data at {@code out}, its length or minus an errno. */
    int read(long arg, long out) {
        return (int) calls.pread(fileFd(memory.getLong(arg)), out, Integer.toUnsignedLong(memory.getInt(arg + 16)),
                memory.getLong(arg + 8));
    }

    /**
     * WRITE (without passthrough): a fuse_write_out at {@code out}. A writer who could not keep
     * setuid/setgid (FUSE_WRITE_KILL_SUIDGID) loses them first, as the kernel does before writing.
     */
    int write(long arg, RequestBuffers b, long out) {
        int fd = fileFd(memory.getLong(arg));
        if ((memory.getInt(arg + 20) & FuseProtocol.WRITE_KILL_SUIDGID) != 0) {
            int result = kills.killSuidSgid(fd, b);
            if (result < 0) {
                return result;
            }
        }
        long written = calls.pwrite(fd, arg + 40, Integer.toUnsignedLong(memory.getInt(arg + 16)),
                memory.getLong(arg + 8));
        if (written < 0) {
            return (int) written;
        }
        memory.putInt(out, (int) written);
        memory.putInt(out + 4, 0);
        return 8;
    }
}
