package dev.idshift.mount.fuse;

import com.kenai.jffi.MemoryIO;
import dev.idshift.sys.Errno;
import dev.idshift.sys.FileCalls;
import dev.idshift.sys.Linux;
import dev.idshift.sys.StatxLayout;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The shifted view served over the kernel's FUSE protocol, by node: each request names a node
 * (NodeTable) and the server acts on that node's O_PATH fd with *at calls, a single name at a time
 * and never following it. No path strings (no PATH_MAX limit the source does not have, names are
 * bytes), no walk a planted symlink or {@code ..} could lead outside the source.
 *
 * <p>Ids are translated both ways as the libfuse 2 backend before it did ({@link IdTranslation}, {@link XattrIds}).
 * Access checks are the kernel's ({@code default_permissions} and FUSE_POSIX_ACL, so ACLs and default
 * ACLs are enforced as on the source); the server acts as root.
 *
 * <p>{@link #handle} returns the reply's body length, minus an errno, or {@link #NO_REPLY}.
 */
final class ShiftingNodes {
    static final int NO_REPLY = Integer.MIN_VALUE;

    private static final long NO_ID = 0xFFFF_FFFFL;
    private static final int FMODE_EXEC = 0x20;
    private static final long UTIME_NOW = (1L << 30) - 1;
    private static final long UTIME_OMIT = (1L << 30) - 2;
    private static final int SEEK_SET = 0;
    /** Attributes and names are cached by the kernel for this long (seconds): see README, coherence. */
    private static final long TIMEOUT = 1;
    private static final int OPEN_FLAGS_IGNORED = Linux.O_CREAT | Linux.O_EXCL | Linux.O_NOCTTY | Linux.O_NOFOLLOW | FMODE_EXEC;
    private static final byte[] PROC_FD = "/proc/self/fd/".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final int STATX_FLAGS = Linux.AT_EMPTY_PATH | Linux.AT_SYMLINK_NOFOLLOW;
    private static final int DT_DIR = 4;

    private final NodeTable nodes;
    private final int rootFd;
    private final IdTranslation ids;
    private final FileCalls calls = FileCalls.get();
    private final MemoryIO memory = MemoryIO.getInstance();
    /** A native "" for AT_EMPTY_PATH calls. */
    private final long emptyString;
    /** Open directories: fd -> where the next READDIR continues. */
    private final Map<Integer, long[]> directories = new ConcurrentHashMap<>();
    /** Set by INIT: whether opened files are handed to the kernel (FUSE_PASSTHROUGH). */
    private volatile boolean passthrough;

    ShiftingNodes(NodeTable nodes, int rootFd, IdTranslation ids) {
        this.nodes = nodes;
        this.rootFd = rootFd;
        this.ids = ids;
        this.emptyString = memory.allocateMemory(1, true);
    }

    void passthrough(boolean enabled) {
        passthrough = enabled;
    }

    /**
     * @param in     the request (after INIT; FORGET and INTERRUPT get no reply)
     * @param device the /dev/fuse fd it came from (for passthrough's backing-file ioctls)
     */
    int handle(RequestBuffers b, int device) {
        long in = b.request;
        int opcode = memory.getInt(in + FuseProtocol.IN_OPCODE);
        long nodeId = memory.getLong(in + FuseProtocol.IN_NODEID);
        long arg = in + FuseProtocol.IN_HEADER;
        long out = b.reply + FuseProtocol.OUT_HEADER;
        switch (opcode) {
            case FuseProtocol.FORGET:
                nodes.forget(nodeId, memory.getLong(arg));
                return NO_REPLY;
            case FuseProtocol.BATCH_FORGET:
                int count = memory.getInt(arg);
                for (int i = 0; i < count; i++) {
                    nodes.forget(memory.getLong(arg + 8 + 16L * i), memory.getLong(arg + 16 + 16L * i));
                }
                return NO_REPLY;
            case FuseProtocol.INTERRUPT:
                return NO_REPLY;  // every operation is one syscall that does not block for long
            case FuseProtocol.DESTROY:
                return 0;
            case FuseProtocol.STATFS:
                return statfs(b, out);
            case FuseProtocol.RELEASE:
                return release(nodeId, memory.getLong(arg), device, b);
            case FuseProtocol.RELEASEDIR:
                int dirFd = (int) memory.getLong(arg);
                directories.remove(dirFd);
                calls.close(dirFd);
                return 0;
            case FuseProtocol.READ:
                return (int) calls.pread(fileFd(memory.getLong(arg)), out, memory.getInt(arg + 16), memory.getLong(arg + 8));
            case FuseProtocol.WRITE:
                return write(arg, out);
            case FuseProtocol.FLUSH:
                // Writes go straight to the source, nothing is buffered here. ENOSYS once, and the
                // kernel stops sending FLUSH on every close (one round trip saved).
                return -Errno.ENOSYS;
            case FuseProtocol.FSYNC:
            case FuseProtocol.FSYNCDIR:
                return calls.fsync(fileFd(memory.getLong(arg)), (memory.getInt(arg + 8) & 1) != 0);
            case FuseProtocol.FALLOCATE:
                return calls.fallocate(fileFd(memory.getLong(arg)), memory.getInt(arg + 24), memory.getLong(arg + 8),
                        memory.getLong(arg + 16));
            case FuseProtocol.LSEEK:
                long offset = calls.lseek(fileFd(memory.getLong(arg)), memory.getLong(arg + 8), memory.getInt(arg + 16));
                if (offset < 0) {
                    return (int) offset;
                }
                memory.putLong(out, offset);
                return 8;
            default:
                break;
        }
        Node node = nodes.get(nodeId);
        if (node == null) {
            return -Errno.ESTALE;
        }
        int fd = nodes.pin(node);
        if (fd < 0) {
            return fd;
        }
        try {
            return onNode(opcode, node, fd, arg, b, out, device);
        } finally {
            nodes.unpin(node, fd);
        }
    }

    /** A request on a node, {@code fd} an O_PATH fd of it for the request's length. */
    private int onNode(int opcode, Node node, int fd, long arg, RequestBuffers b, long out, int device) {
        switch (opcode) {
            case FuseProtocol.LOOKUP:
                return lookup(fd, arg, b, out);
            case FuseProtocol.GETATTR:
                return attributes(fd, b, out);
            case FuseProtocol.SETATTR:
                return setattr(fd, arg, b, out);
            case FuseProtocol.READLINK:
                long length = calls.readlinkat(fd, emptyString, out, 4096);
                return (int) length;
            case FuseProtocol.MKDIR:
                return make(fd, b, out, Linux.S_IFDIR | memory.getInt(arg), memory.getInt(arg + 4), 0, arg + 8, 0, -1, device);
            case FuseProtocol.MKNOD:
                return make(fd, b, out, memory.getInt(arg), memory.getInt(arg + 8), memory.getInt(arg + 4), arg + 16, 0, -1, device);
            case FuseProtocol.SYMLINK:
                long target = arg + memory.getStringLength(arg) + 1;
                return make(fd, b, out, Linux.S_IFLNK, 0, 0, arg, target, -1, device);
            case FuseProtocol.CREATE:
                return make(fd, b, out, Linux.S_IFREG | memory.getInt(arg + 4), memory.getInt(arg + 8), 0, arg + 16, 0,
                        memory.getInt(arg), device);
            case FuseProtocol.UNLINK:
                return calls.unlinkat(fd, arg, 0);
            case FuseProtocol.RMDIR:
                return calls.unlinkat(fd, arg, Linux.AT_REMOVEDIR);
            case FuseProtocol.RENAME:
                return rename(fd, memory.getLong(arg), arg + 8, 0);
            case FuseProtocol.RENAME2:
                return rename(fd, memory.getLong(arg), arg + 16, memory.getInt(arg + 8));
            case FuseProtocol.LINK:
                return link(fd, memory.getLong(arg), arg + 8, b, out);
            case FuseProtocol.OPEN:
                return open(node, fd, memory.getInt(arg), b, out, device);
            case FuseProtocol.OPENDIR:
                return openDirectory(fd, b, out);
            case FuseProtocol.READDIR:
                return readDirectory(arg, b, out, false);
            case FuseProtocol.READDIRPLUS:
                return readDirectory(arg, b, out, true);
            case FuseProtocol.ACCESS:
                return 0;  // not sent with default_permissions: the kernel decides
            case FuseProtocol.GETXATTR:
                return getxattr(fd, memory.getInt(arg), arg + 8, b, out);
            case FuseProtocol.LISTXATTR:
                return listxattr(fd, memory.getInt(arg), b, out);
            case FuseProtocol.SETXATTR:
                return setxattr(fd, memory.getInt(arg), memory.getInt(arg + 4), arg + 8, b);
            case FuseProtocol.REMOVEXATTR:
                return calls.removexattr(procPath(b, fd), arg);
            default:
                return -Errno.ENOSYS;
        }
    }

    // ---- attributes ----

    /** A lookup of one name in a directory: an entry_out at {@code out}. */
    private int lookup(int directoryFd, long name, RequestBuffers b, long out) {
        if (isDotOrDotDot(name)) {
            return -Errno.ENOENT;  // never sent without export support; refused so nothing climbs out
        }
        int fd = calls.openat(directoryFd, name, Linux.O_PATH | Linux.O_NOFOLLOW, 0);
        if (fd < 0) {
            return fd;
        }
        return remember(fd, b, out);
    }

    /** Makes (or finds) the node of an O_PATH fd, which it takes over, and writes its entry_out. */
    private int remember(int fd, RequestBuffers b, long out) {
        int result = calls.statx(fd, emptyString, STATX_FLAGS, StatxLayout.BASIC_STATS, b.stat);
        if (result < 0) {
            calls.close(fd);
            return result;
        }
        Node node = nodes.lookedUp(fd, device(b.stat), memory.getLong(b.stat + StatxLayout.INO));
        entry(out, node.id, b.stat);
        return FuseProtocol.ENTRY_OUT;
    }

    private void entry(long out, long nodeId, long stat) {
        memory.putLong(out, nodeId);
        memory.putLong(out + 8, 0);            // generation: node ids are never reused while mounted
        memory.putLong(out + 16, TIMEOUT);     // entry_valid
        memory.putLong(out + 24, TIMEOUT);     // attr_valid
        memory.putLong(out + 32, 0);           // both nsecs
        fuseAttr(out + 40, stat);
    }

    private int attributes(int fd, RequestBuffers b, long out) {
        int result = calls.statx(fd, emptyString, STATX_FLAGS, StatxLayout.BASIC_STATS, b.stat);
        if (result < 0) {
            return result;
        }
        memory.putLong(out, TIMEOUT);
        memory.putLong(out + 8, 0);
        fuseAttr(out + 16, b.stat);
        return FuseProtocol.ATTR_OUT;
    }

    /** struct statx -> struct fuse_attr, the owner shown through the map. */
    private void fuseAttr(long attr, long stat) {
        memory.putLong(attr, memory.getLong(stat + StatxLayout.INO));
        memory.putLong(attr + 8, memory.getLong(stat + StatxLayout.FILE_SIZE));
        memory.putLong(attr + 16, memory.getLong(stat + StatxLayout.BLOCKS));
        memory.putLong(attr + 24, memory.getLong(stat + StatxLayout.ATIME));
        memory.putLong(attr + 32, memory.getLong(stat + StatxLayout.MTIME));
        memory.putLong(attr + 40, memory.getLong(stat + StatxLayout.CTIME));
        memory.putInt(attr + 48, memory.getInt(stat + StatxLayout.ATIME + 8));
        memory.putInt(attr + 52, memory.getInt(stat + StatxLayout.MTIME + 8));
        memory.putInt(attr + 56, memory.getInt(stat + StatxLayout.CTIME + 8));
        memory.putInt(attr + 60, memory.getShort(stat + StatxLayout.MODE) & 0xFFFF);
        memory.putInt(attr + 64, memory.getInt(stat + StatxLayout.NLINK));
        memory.putInt(attr + 68, (int) ids.hostUid(Integer.toUnsignedLong(memory.getInt(stat + StatxLayout.UID))));
        memory.putInt(attr + 72, (int) ids.hostGid(Integer.toUnsignedLong(memory.getInt(stat + StatxLayout.GID))));
        long major = Integer.toUnsignedLong(memory.getInt(stat + StatxLayout.RDEV_MAJOR));
        long minor = Integer.toUnsignedLong(memory.getInt(stat + StatxLayout.RDEV_MINOR));
        memory.putInt(attr + 76, (int) ((minor & 0xff) | (major << 8) | ((minor & ~0xffL) << 12)));  // new_encode_dev
        memory.putInt(attr + 80, memory.getInt(stat + StatxLayout.BLKSIZE));
        memory.putInt(attr + 84, 0);
    }

    private long device(long stat) {
        return (Integer.toUnsignedLong(memory.getInt(stat + StatxLayout.DEV_MAJOR)) << 32)
                | Integer.toUnsignedLong(memory.getInt(stat + StatxLayout.DEV_MINOR));
    }

    private int mode(long stat) {
        return memory.getShort(stat + StatxLayout.MODE) & 0xFFFF;
    }

    /**
     * SETATTR in the order that keeps what was asked: size, owner (a chown clears setuid/setgid), then
     * mode (the kernel sends the mode it wants kept with the chown), then times.
     */
    private int setattr(int nodeFd, long arg, RequestBuffers b, long out) {
        int valid = memory.getInt(arg);
        int result;
        if ((valid & FuseProtocol.FATTR_SIZE) != 0) {
            long size = memory.getLong(arg + 16);
            if ((valid & FuseProtocol.FATTR_FH) != 0) {
                result = calls.ftruncate(fileFd(memory.getLong(arg + 8)), size);
            } else {
                int fd = calls.openat(Linux.AT_FDCWD, procPath(b, nodeFd), Linux.O_WRONLY | Linux.O_NONBLOCK, 0);
                if (fd < 0) {
                    return fd;
                }
                result = calls.ftruncate(fd, size);
                calls.close(fd);
            }
            if (result < 0) {
                return result;
            }
        }
        if ((valid & (FuseProtocol.FATTR_UID | FuseProtocol.FATTR_GID)) != 0) {
            long uid = NO_ID;
            long gid = NO_ID;
            if ((valid & FuseProtocol.FATTR_UID) != 0) {
                uid = ids.diskUid(Integer.toUnsignedLong(memory.getInt(arg + 76)));
                if (uid < 0) {
                    return -Errno.EOVERFLOW;
                }
            }
            if ((valid & FuseProtocol.FATTR_GID) != 0) {
                gid = ids.diskGid(Integer.toUnsignedLong(memory.getInt(arg + 80)));
                if (gid < 0) {
                    return -Errno.EOVERFLOW;
                }
            }
            result = calls.fchownat(nodeFd, emptyString, uid, gid, Linux.AT_EMPTY_PATH);
            if (result < 0) {
                return result;
            }
        }
        if ((valid & FuseProtocol.FATTR_MODE) != 0) {
            result = calls.statx(nodeFd, emptyString, STATX_FLAGS, StatxLayout.BASIC_STATS, b.stat);
            if (result < 0) {
                return result;
            }
            if ((mode(b.stat) & Linux.S_IFMT) == Linux.S_IFLNK) {
                return -Errno.EOPNOTSUPP;  // as lchmod: a symlink has no mode of its own
            }
            result = calls.fchmodat(Linux.AT_FDCWD, procPath(b, nodeFd), memory.getInt(arg + 68) & 07777);
            if (result < 0) {
                return result;
            }
        }
        int timeBits = FuseProtocol.FATTR_ATIME | FuseProtocol.FATTR_MTIME | FuseProtocol.FATTR_ATIME_NOW
                | FuseProtocol.FATTR_MTIME_NOW;
        if ((valid & timeBits) != 0) {
            long times = b.small;
            time(times, valid, FuseProtocol.FATTR_ATIME_NOW, FuseProtocol.FATTR_ATIME, memory.getLong(arg + 32),
                    memory.getInt(arg + 56));
            time(times + 16, valid, FuseProtocol.FATTR_MTIME_NOW, FuseProtocol.FATTR_MTIME, memory.getLong(arg + 40),
                    memory.getInt(arg + 60));
            result = calls.utimensat(nodeFd, emptyString, times, Linux.AT_EMPTY_PATH | Linux.AT_SYMLINK_NOFOLLOW);
            if (result < 0) {
                return result;
            }
        }
        return attributes(nodeFd, b, out);
    }

    /** One struct timespec of utimensat's pair: now, the given time, or left alone (UTIME_OMIT). */
    private void time(long timespec, int valid, int nowBit, int setBit, long seconds, int nanoseconds) {
        if ((valid & nowBit) != 0) {
            memory.putLong(timespec, 0);
            memory.putLong(timespec + 8, UTIME_NOW);
        } else if ((valid & setBit) != 0) {
            memory.putLong(timespec, seconds);
            memory.putLong(timespec + 8, Integer.toUnsignedLong(nanoseconds));
        } else {
            memory.putLong(timespec, 0);
            memory.putLong(timespec + 8, UTIME_OMIT);
        }
    }

    private int statfs(RequestBuffers b, long out) {
        long statfs = b.dirents;
        int result = calls.fstatfs(rootFd, statfs);
        if (result < 0) {
            return result;
        }
        // struct statfs (64-bit): type, bsize, blocks, bfree, bavail, files, ffree, fsid, namelen, frsize
        memory.putLong(out, memory.getLong(statfs + 16));
        memory.putLong(out + 8, memory.getLong(statfs + 24));
        memory.putLong(out + 16, memory.getLong(statfs + 32));
        memory.putLong(out + 24, memory.getLong(statfs + 40));
        memory.putLong(out + 32, memory.getLong(statfs + 48));
        memory.putInt(out + 40, (int) memory.getLong(statfs + 8));
        memory.putInt(out + 44, (int) memory.getLong(statfs + 64));
        memory.putInt(out + 48, (int) memory.getLong(statfs + 72));
        memory.setMemory(out + 52, 28, (byte) 0);
        return 80;
    }

    // ---- making and removing names ----

    /**
     * Makes a directory, node, symlink or (with {@code openFlags} >= 0) a file, owned by the caller's
     * on-disk ids (EOVERFLOW if it has none), and answers with its entry (and for a file its open_out).
     * The request's umask is applied by the source filesystem itself, through this thread's own
     * umask, so a default ACL on the parent takes precedence over it exactly as the kernel does.
     */
    private int make(int parentFd, RequestBuffers b, long out, int mode, int umask, int rdev, long name, long target,
                     int openFlags, int device) {
        long in = b.request;
        long diskUid = ids.diskUid(Integer.toUnsignedLong(memory.getInt(in + FuseProtocol.IN_UID)));
        long diskGid = ids.diskGid(Integer.toUnsignedLong(memory.getInt(in + FuseProtocol.IN_GID)));
        if (diskUid < 0 || diskGid < 0) {
            return -Errno.EOVERFLOW;
        }
        if (isDotOrDotDot(name)) {
            return -Errno.EEXIST;
        }
        if (b.umask != umask) {
            calls.umask(umask);
            b.umask = umask;
        }
        int type = mode & Linux.S_IFMT;
        int openFd = -1;
        int result;
        if (openFlags >= 0) {
            openFd = calls.openat(parentFd, name, (openFlags & ~(Linux.O_NOCTTY | FMODE_EXEC)) | Linux.O_CREAT
                    | Linux.O_NOFOLLOW, mode & 07777);
            result = openFd;
        } else if (type == Linux.S_IFDIR) {
            result = calls.mkdirat(parentFd, name, mode & 07777);
        } else if (type == Linux.S_IFLNK) {
            result = calls.symlinkat(target, parentFd, name);
        } else {
            result = calls.mknodat(parentFd, name, mode, Integer.toUnsignedLong(rdev));
        }
        if (result < 0) {
            return result;
        }
        int fd = openFd >= 0
                ? calls.openat(Linux.AT_FDCWD, procPath(b, openFd), Linux.O_PATH, 0)
                : calls.openat(parentFd, name, Linux.O_PATH | Linux.O_NOFOLLOW, 0);
        result = fd < 0 ? fd : own(parentFd, fd, diskUid, diskGid, b);
        if (result < 0) {
            calls.close(fd);
            calls.close(openFd);
            calls.unlinkat(parentFd, name, type == Linux.S_IFDIR ? Linux.AT_REMOVEDIR : 0);
            return result;
        }
        int length = remember(fd, b, out);
        if (length < 0 || openFd < 0) {
            calls.close(openFd);
            return length;
        }
        return length + openReply(nodes.get(memory.getLong(out)), openFd, b, out + length, device);
    }

    /**
     * Gives a new entry the caller's owner: its group stays the one the source chose under a setgid
     * directory. The server created it as root and a chown clears setuid/setgid, so those are put back.
     */
    private int own(int parentFd, int fd, long diskUid, long diskGid, RequestBuffers b) {
        long gid = diskGid;
        if (calls.statx(parentFd, emptyString, STATX_FLAGS, StatxLayout.BASIC_STATS, b.parentStat) == 0
                && (mode(b.parentStat) & Linux.S_ISGID) != 0) {
            gid = NO_ID;
        }
        int result = calls.statx(fd, emptyString, STATX_FLAGS, StatxLayout.BASIC_STATS, b.stat);
        if (result < 0) {
            return result;
        }
        int created = mode(b.stat);
        result = calls.fchownat(fd, emptyString, diskUid, gid, Linux.AT_EMPTY_PATH);
        if (result < 0 || (created & (Linux.S_ISUID | Linux.S_ISGID)) == 0 || (created & Linux.S_IFMT) == Linux.S_IFDIR) {
            return result;
        }
        return calls.fchmodat(Linux.AT_FDCWD, procPath(b, fd), created & 07777);
    }

    private int rename(int oldParentFd, long newParentId, long names, int flags) {
        long newName = names + memory.getStringLength(names) + 1;
        if (isDotOrDotDot(names) || isDotOrDotDot(newName)) {
            return -Errno.EINVAL;
        }
        Node newParent = nodes.get(newParentId);
        if (newParent == null) {
            return -Errno.ESTALE;
        }
        int newParentFd = nodes.pin(newParent);
        if (newParentFd < 0) {
            return newParentFd;
        }
        try {
            return calls.renameat2(oldParentFd, names, newParentFd, newName, flags);
        } finally {
            nodes.unpin(newParent, newParentFd);
        }
    }

    /** A new name for the node: by its fd (linkat AT_EMPTY_PATH), so it is that inode whatever its names now. */
    private int link(int newParentFd, long nodeId, long name, RequestBuffers b, long out) {
        if (isDotOrDotDot(name)) {
            return -Errno.EEXIST;
        }
        Node node = nodes.get(nodeId);
        if (node == null) {
            return -Errno.ESTALE;
        }
        int fd = nodes.pin(node);
        if (fd < 0) {
            return fd;
        }
        int result;
        try {
            result = calls.linkat(fd, emptyString, newParentFd, name, Linux.AT_EMPTY_PATH);
        } finally {
            nodes.unpin(node, fd);
        }
        if (result < 0) {
            return result;
        }
        return lookup(newParentFd, name, b, out);
    }

    // ---- files ----

    private int open(Node node, int nodeFd, int flags, RequestBuffers b, long out, int device) {
        int fd = calls.openat(Linux.AT_FDCWD, procPath(b, nodeFd), flags & ~OPEN_FLAGS_IGNORED, 0);
        if (fd < 0) {
            return fd;
        }
        return openReply(node, fd, b, out, device);
    }

    /**
     * An open_out for an open fd: handed to the kernel as the backing file (FUSE_PASSTHROUGH: reads,
     * writes and mmap then go to the source without this server) when it can be, else served here,
     * the page cache kept across opens (FUSE_AUTO_INVAL_DATA drops it when the file changes).
     */
    private int openReply(Node node, int fd, RequestBuffers b, long out, int device) {
        long backing = passthrough ? backing(node, fd, b, device) : 0;
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

    private static int fileFd(long fh) {
        return (int) fh;
    }

    private int release(long nodeId, long fh, int device, RequestBuffers b) {
        Node node = nodes.get(nodeId);
        if ((fh >>> 32) != 0 && node != null) {
            synchronized (node) {
                if (--node.backingUsers == 0) {
                    memory.putInt(b.small, (int) node.backingId);
                    calls.ioctl(device, FuseProtocol.DEV_IOC_BACKING_CLOSE, b.small);
                    node.backingId = 0;
                }
            }
        }
        return calls.close(fileFd(fh));
    }

    private int write(long arg, long out) {
        long written = calls.pwrite(fileFd(memory.getLong(arg)), arg + 40, Integer.toUnsignedLong(memory.getInt(arg + 16)),
                memory.getLong(arg + 8));
        if (written < 0) {
            return (int) written;
        }
        memory.putInt(out, (int) written);
        memory.putInt(out + 4, 0);
        return 8;
    }

    // ---- directories ----

    private int openDirectory(int nodeFd, RequestBuffers b, long out) {
        int fd = calls.openat(Linux.AT_FDCWD, procPath(b, nodeFd), Linux.O_RDONLY | Linux.O_DIRECTORY, 0);
        if (fd < 0) {
            return fd;
        }
        directories.put(fd, new long[] {0});
        memory.putLong(out, fd);
        memory.putLong(out + 8, 0);
        return FuseProtocol.OPEN_OUT;
    }

    /**
     * READDIR(PLUS) from the source's own dirents, continuing where the last one stopped (the kernel
     * serialises reads of one open directory). Offsets are the source's d_off cookies: an entry that
     * does not fit is read again next time from the last one sent. With {@code plus} each entry is
     * looked up too (a node and its attributes in the same reply).
     */
    private int readDirectory(long arg, RequestBuffers b, long out, boolean plus) {
        int fd = fileFd(memory.getLong(arg));
        long[] position = directories.get(fd);
        if (position == null) {
            return -Errno.EBADF;
        }
        long offset = memory.getLong(arg + 8);
        int size = Math.min(memory.getInt(arg + 16), FuseProtocol.MAX_WRITE);
        if (position[0] != offset) {
            long moved = calls.lseek(fd, offset, SEEK_SET);
            if (moved < 0) {
                return (int) moved;
            }
            position[0] = offset;
        }
        int filled = 0;
        while (true) {
            long read = calls.getdents64(fd, b.dirents, RequestBuffers.DIRENTS);
            if (read <= 0) {
                return filled > 0 || read == 0 ? filled : (int) read;
            }
            for (long at = b.dirents; at < b.dirents + read; at += memory.getShort(at + 16) & 0xFFFF) {
                long name = at + 19;
                int nameLength = (int) memory.getStringLength(name);
                int direntLength = (24 + nameLength + 7) & ~7;
                int need = plus ? FuseProtocol.ENTRY_OUT + direntLength : direntLength;
                if (filled + need > size) {
                    calls.lseek(fd, position[0], SEEK_SET);
                    return filled;
                }
                long entry = out + filled;
                if (plus) {
                    if (isDotOrDotDot(name)) {
                        memory.setMemory(entry, FuseProtocol.ENTRY_OUT, (byte) 0);  // no node: the kernel skips them
                    } else if (lookup(fd, name, b, entry) < 0) {
                        position[0] = memory.getLong(at + 8);
                        continue;  // gone since getdents
                    }
                    entry += FuseProtocol.ENTRY_OUT;
                }
                long next = memory.getLong(at + 8);
                memory.putLong(entry, memory.getLong(at));
                memory.putLong(entry + 8, next);
                memory.putInt(entry + 16, nameLength);
                memory.putInt(entry + 20, memory.getByte(at + 18) & 0xFF);
                memory.copyMemory(name, entry + 24, nameLength);
                memory.setMemory(entry + 24 + nameLength, direntLength - 24 - nameLength, (byte) 0);
                filled += need;
                position[0] = next;
            }
        }
    }

    // ---- extended attributes (by the node's /proc/self/fd link: the l*xattr calls take no fd) ----

    private int getxattr(int nodeFd, int size, long name, RequestBuffers b, long out) {
        long path = procPath(b, nodeFd);
        String translated = idCarrying(name);
        long length;
        if (translated == null) {
            length = calls.getxattr(path, name, size == 0 ? 0 : out, size);
        } else {
            // Read whole: the translated value may differ in length (a v2 capability shown as v3).
            length = calls.getxattr(path, name, b.dirents, RequestBuffers.DIRENTS);
            if (length > 0) {
                byte[] stored = new byte[(int) length];
                memory.getByteArray(b.dirents, stored, 0, stored.length);
                byte[] shown;
                try {
                    shown = XattrIds.toHost(translated, stored, ids);
                } catch (XattrIds.Untranslatable e) {
                    return -e.errno();
                }
                length = shown.length;
                if (size != 0) {
                    if (shown.length > size) {
                        return -Errno.ERANGE;
                    }
                    memory.putByteArray(out, shown, 0, shown.length);
                }
            }
        }
        if (length < 0) {
            return (int) length;
        }
        if (size == 0) {
            memory.putInt(out, (int) length);
            memory.putInt(out + 4, 0);
            return 8;
        }
        return (int) length;
    }

    private int listxattr(int nodeFd, int size, RequestBuffers b, long out) {
        long length = calls.listxattr(procPath(b, nodeFd), size == 0 ? 0 : out, size);
        if (length < 0) {
            return (int) length;
        }
        if (size == 0) {
            memory.putInt(out, (int) length);
            memory.putInt(out + 4, 0);
            return 8;
        }
        return (int) length;
    }

    private int setxattr(int nodeFd, int size, int flags, long name, RequestBuffers b) {
        long value = name + memory.getStringLength(name) + 1;
        long path = procPath(b, nodeFd);
        String translated = idCarrying(name);
        if (translated == null) {
            return calls.setxattr(path, name, value, size, flags);
        }
        if (size > RequestBuffers.DIRENTS) {
            return -Errno.E2BIG;
        }
        byte[] written = new byte[size];
        memory.getByteArray(value, written, 0, size);
        byte[] stored;
        try {
            stored = XattrIds.toDisk(translated, written, ids);
        } catch (XattrIds.Untranslatable e) {
            return -e.errno();
        }
        memory.putByteArray(b.dirents, stored, 0, stored.length);
        return calls.setxattr(path, name, b.dirents, stored.length, flags);
    }

    /** The xattr name as a String if its value carries ids (ACLs, capabilities), else null (no String made). */
    private String idCarrying(long name) {
        byte first = memory.getByte(name);
        if (first != 's') {
            return null;  // system.* and security.* only
        }
        String text = new String(memory.getZeroTerminatedByteArray(name), java.nio.charset.StandardCharsets.UTF_8);
        return XattrIds.carriesIds(text) ? text : null;
    }

    // ---- helpers ----

    /** "/proc/self/fd/N" in the thread's buffer: the fd's own inode, whatever its names are now. */
    private long procPath(RequestBuffers b, int fd) {
        long at = b.procPath;
        memory.putByteArray(at, PROC_FD, 0, PROC_FD.length);
        at += PROC_FD.length;
        int digits = 1;
        for (int rest = fd / 10; rest > 0; rest /= 10) {
            digits++;
        }
        for (int i = digits - 1, rest = fd; i >= 0; i--, rest /= 10) {
            memory.putByte(at + i, (byte) ('0' + rest % 10));
        }
        memory.putByte(at + digits, (byte) 0);
        return b.procPath;
    }

    private boolean isDotOrDotDot(long name) {
        if (memory.getByte(name) != '.') {
            return false;
        }
        byte second = memory.getByte(name + 1);
        return second == 0 || (second == '.' && memory.getByte(name + 2) == 0);
    }
}
