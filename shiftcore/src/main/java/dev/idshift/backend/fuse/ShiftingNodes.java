package dev.idshift.backend.fuse;

import com.kenai.jffi.MemoryIO;
import dev.idshift.idmap.IdMap;
import dev.idshift.sys.Errno;
import dev.idshift.sys.Linux;
import dev.idshift.sys.files.FileCalls;

/**
 * The shifted view served over the kernel's FUSE protocol, by node: each request names a node
 * (NodeTable) and the server acts on that node's fd with *at calls, a single name at a time and
 * never following it. No path strings (no PATH_MAX limit the source does not have, names are
 * bytes), no walk a planted symlink or {@code ..} could lead outside the source. This class routes
 * requests (to Lookups, Attributes, OpenFiles, Directories, Xattrs) and does the ones that change
 * names and attributes itself: SETATTR, MKDIR/MKNOD/SYMLINK/CREATE, RENAME(2), LINK, STATFS.
 *
 * <p>Ids are translated both ways as the libfuse 2 backend before it did ({@link IdTranslation}, {@link XattrIds}).
 * Access checks are the kernel's ({@code default_permissions} and FUSE_POSIX_ACL, so ACLs and default
 * ACLs are enforced as on the source); the server acts as root, with each request's caller's host fsuid and
 * fsgid and without CAP_SYS_RESOURCE (FuseSession.actAsCaller), so quotas and reserved blocks hold.
 *
 * <p>{@link #handle} returns the reply's body length, minus an errno, or {@link #NO_REPLY}.
 */
final class ShiftingNodes {
    static final int NO_REPLY = Integer.MIN_VALUE;

    private static final int FMODE_EXEC = 0x20;
    private static final long UTIME_NOW = (1L << 30) - 1;
    private static final long UTIME_OMIT = (1L << 30) - 2;
    /** File times come from the kernel's coarse clock, up to a tick behind the wall clock. */
    private static final long CLOCK_SLACK_NANOS = 50_000_000L;

    private final NodeTable nodes;
    private final int rootFd;
    private final IdTranslation ids;
    private final Attributes attributes;
    private final Lookups lookups;
    private final OpenFiles files;
    private final Directories directories;
    private final Xattrs xattrs;
    private final PrivilegeKills kills;
    private final ListingPolicy listings = new ListingPolicy();
    private final FileCalls calls = FileCalls.get();
    private final MemoryIO memory = MemoryIO.getInstance();
    /** The length of fuse_setxattr_in, which the name follows: as INIT negotiated (SETXATTR_EXT). */
    private volatile int setxattrIn = FuseProtocol.COMPAT_SETXATTR_IN;
    /** A native "" for AT_EMPTY_PATH calls. */
    private final long emptyString;

    ShiftingNodes(NodeTable nodes, int rootFd, IdTranslation ids) {
        this.nodes = nodes;
        this.rootFd = rootFd;
        this.ids = ids;
        this.attributes = new Attributes(ids);
        this.emptyString = attributes.emptyString;
        this.lookups = new Lookups(nodes, attributes);
        this.kills = new PrivilegeKills(attributes);
        this.files = new OpenFiles(nodes, kills);
        this.directories = new Directories(lookups, listings);
        this.xattrs = new Xattrs(ids, kills);
    }

    void passthrough(boolean enabled) {
        files.passthrough(enabled);
    }

    /** Set by INIT: whether SETXATTR_EXT was taken, so fuse_setxattr_in is its 16-byte form. */
    void setxattrExt(boolean taken) {
        setxattrIn = taken ? FuseProtocol.SETXATTR_IN : FuseProtocol.COMPAT_SETXATTR_IN;
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
                return files.release(nodeId, memory.getLong(arg), device, b);
            case FuseProtocol.RELEASEDIR:
                return directories.release(memory.getLong(arg));
            case FuseProtocol.READ:
                return files.read(arg, out);
            case FuseProtocol.WRITE:
                return files.write(arg, b, out);
            case FuseProtocol.FLUSH:
                // Writes go straight to the source, nothing is buffered here. ENOSYS once, and the
                // kernel stops sending FLUSH on every close (one round trip saved).
                return -Errno.ENOSYS;
            case FuseProtocol.FSYNC:
            case FuseProtocol.FSYNCDIR:
                return calls.fsync(OpenFiles.fileFd(memory.getLong(arg)), (memory.getInt(arg + 8) & 1) != 0);
            case FuseProtocol.FALLOCATE:
                return calls.fallocate(OpenFiles.fileFd(memory.getLong(arg)), memory.getInt(arg + 24), memory.getLong(arg + 8),
                        memory.getLong(arg + 16));
            case FuseProtocol.LSEEK:
                long offset = calls.lseek(OpenFiles.fileFd(memory.getLong(arg)), memory.getLong(arg + 8), memory.getInt(arg + 16));
                if (offset < 0) {
                    return (int) offset;
                }
                memory.putLong(out, offset);
                return 8;
            default:
                break;
        }
        return withFd(nodeId, (node, fd) -> {
            b.node = node;
            try {
                return onNode(opcode, node, fd, arg, b, out, device);
            } finally {
                b.node = null;
            }
        });
    }

    /** After {@link #handle}'s reply is written: work that need not delay it (a directory's read-ahead). */
    void afterReply(RequestBuffers b) {
        if (b.readAhead != null) {
            directories.readAhead(b);
        }
    }

    /** Work on one node through an O_PATH fd of it. */
    @FunctionalInterface
    private interface OnNode {
        int apply(Node node, int fd);
    }

    /**
     * Runs {@code work} with an fd of node {@code id} held for its length (NodeTable.pin): its result,
     * or ESTALE for a node the kernel should not name (forgotten, or never given).
     */
    private int withFd(long id, OnNode work) {
        Node node = nodes.get(id);
        if (node == null) {
            return -Errno.ESTALE;
        }
        int fd = nodes.pin(node);
        if (fd < 0) {
            return fd;
        }
        try {
            return work.apply(node, fd);
        } finally {
            nodes.unpin(node, fd);
        }
    }

    /** A request on a node, {@code fd} an O_PATH fd of it for the request's length. */
    private int onNode(int opcode, Node node, int fd, long arg, RequestBuffers b, long out, int device) {
        switch (opcode) {
            case FuseProtocol.LOOKUP:
                listings.lookedUp(pid(b), node.id);
                return lookups.lookup(fd, arg, b, out);
            case FuseProtocol.GETATTR:
                return attributes.attrOut(fd, b, out);
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
                return rename(node, fd, memory.getLong(arg), arg + 8, 0);
            case FuseProtocol.RENAME2:
                return rename(node, fd, memory.getLong(arg), arg + 16, memory.getInt(arg + 8));
            case FuseProtocol.LINK:
                return link(fd, memory.getLong(arg), arg + 8, b, out);
            case FuseProtocol.OPEN:
                return files.open(node, fd, memory.getInt(arg), memory.getInt(arg + 4), b, out, device);
            case FuseProtocol.OPENDIR:
                return directories.open(fd, b, out);
            case FuseProtocol.READDIR:
                return directories.read(arg, b, out, false, pid(b), node.id);
            case FuseProtocol.READDIRPLUS:
                return directories.read(arg, b, out, true, pid(b), node.id);
            case FuseProtocol.ACCESS:
                return 0;  // not sent with default_permissions: the kernel decides
            case FuseProtocol.GETXATTR:
                return xattrs.get(node, fd, memory.getInt(arg), arg + 8, b, out);
            case FuseProtocol.LISTXATTR:
                return xattrs.list(node, fd, memory.getInt(arg), b, out);
            case FuseProtocol.SETXATTR:
                return setxattr(fd, arg, b);
            case FuseProtocol.REMOVEXATTR:
                return xattrs.remove(fd, arg, b);
            default:
                return -Errno.ENOSYS;
        }
    }

    /**
     * SETXATTR: fuse_setxattr_in (size, flags, and with SETXATTR_EXT setxattr_flags), then the name and
     * the value. Only the 16-byte form carries FUSE_SETXATTR_ACL_KILL_SGID.
     */
    private int setxattr(int nodeFd, long arg, RequestBuffers b) {
        int header = setxattrIn;
        boolean aclKillSgid = header == FuseProtocol.SETXATTR_IN
                && (memory.getInt(arg + 8) & FuseProtocol.SETXATTR_ACL_KILL_SGID) != 0;
        return xattrs.set(nodeFd, memory.getInt(arg), memory.getInt(arg + 4), arg + header, aclKillSgid, b);
    }

    /** The pid of the process that made the request (0 for the kernel's own). */
    private int pid(RequestBuffers b) {
        return memory.getInt(b.request + FuseProtocol.IN_PID);
    }

    /**
     * SETATTR in the order that keeps what was asked: size (and, for a caller who could not keep them,
     * setuid/setgid cleared: FATTR_KILL_SUIDGID), owner (the source's chown clears setuid, group-executable
     * setgid and capabilities, as HANDLE_KILLPRIV_V2 asks of every chown), then mode, then times. A
     * SETATTR that changes none of them is a chown(-1, -1): the kernel asks only for a new ctime (after a
     * chown(-1, -1), or after clearing privileges before a write; without writeback cache it sends no
     * FATTR_CTIME), so it is passed on as that chown, which sets the source's ctime and clears the same.
     */
    private int setattr(int nodeFd, long arg, RequestBuffers b, long out) {
        int valid = memory.getInt(arg);
        int timeBits = FuseProtocol.FATTR_ATIME | FuseProtocol.FATTR_MTIME | FuseProtocol.FATTR_ATIME_NOW
                | FuseProtocol.FATTR_MTIME_NOW;
        int changes = FuseProtocol.FATTR_SIZE | FuseProtocol.FATTR_UID | FuseProtocol.FATTR_GID | FuseProtocol.FATTR_MODE
                | timeBits;
        int result;
        if ((valid & FuseProtocol.FATTR_SIZE) != 0) {
            long size = memory.getLong(arg + 16);
            if ((valid & FuseProtocol.FATTR_FH) != 0) {
                result = calls.ftruncate(OpenFiles.fileFd(memory.getLong(arg + 8)), size);
            } else {
                int fd = FdLinks.open(nodeFd, Linux.O_WRONLY | Linux.O_NONBLOCK, b);
                if (fd < 0) {
                    return fd;
                }
                result = calls.ftruncate(fd, size);
                calls.close(fd);
            }
            if (result < 0) {
                return result;
            }
            if ((valid & FuseProtocol.FATTR_KILL_SUIDGID) != 0) {
                result = kills.killSuidSgid(nodeFd, b);
                if (result < 0) {
                    return result;
                }
            }
        }
        if ((valid & (FuseProtocol.FATTR_UID | FuseProtocol.FATTR_GID)) != 0 || (valid & changes) == 0) {
            long uid = IdMap.INVALID_ID;
            long gid = IdMap.INVALID_ID;
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
            result = attributes.stat(nodeFd, b.stat);
            if (result < 0) {
                return result;
            }
            if ((attributes.mode(b.stat) & Linux.S_IFMT) == Linux.S_IFLNK) {
                return -Errno.EOPNOTSUPP;  // as lchmod: a symlink has no mode of its own
            }
            result = FdLinks.chmod(nodeFd, memory.getInt(arg + 68) & 07777, b);
            if (result < 0) {
                return result;
            }
        }
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
        return attributes.attrOut(nodeFd, b, out);
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
        if (Lookups.isDotOrDotDot(name)) {
            return -Errno.EEXIST;
        }
        if (b.umask != umask) {
            calls.umask(umask);
            b.umask = umask;
        }
        int type = mode & Linux.S_IFMT;
        if (openFlags >= 0) {
            return create(parentFd, name, openFlags, mode, diskUid, diskGid, b, out, device);
        }
        // The file times' clock may lag the wall clock by a tick: allow for it.
        long before = System.currentTimeMillis() * 1_000_000L - CLOCK_SLACK_NANOS;
        int result;
        if (type == Linux.S_IFDIR) {
            result = calls.mkdirat(parentFd, name, mode & 07777);
        } else if (type == Linux.S_IFLNK) {
            result = calls.symlinkat(target, parentFd, name);
        } else {
            result = calls.mknodat(parentFd, name, mode, Integer.toUnsignedLong(rdev));
        }
        if (result < 0) {
            return result;
        }
        // No call makes a directory, node or symlink and returns its fd: open it by name, and own it
        // only if it is still the one just made: born since, and owned by this thread's fsuid (the
        // caller's host uid, which made it). Not something renamed over it meanwhile by a user who may
        // write here (which would then be chowned to the caller, its setuid bits put back when the
        // request asked for them): born since alone let a fresh entry of theirs pass. A source that does
        // not give new entries their creator's fsuid (vfat, a squashing NFS) answers EEXIST here, the
        // entry left in place (it may not be ours to remove); the chown below failed there before.
        int fd = calls.openat(parentFd, name, Linux.O_PATH | Linux.O_NOFOLLOW, 0);
        if (fd < 0) {
            return fd;
        }
        result = attributes.statWithBirth(fd, b.stat);
        if (result < 0 || !attributes.bornSince(b.stat, before) || attributes.ownerUid(b.stat) != b.fsuid) {
            calls.close(fd);
            return result < 0 ? result : -Errno.EEXIST;
        }
        result = own(parentFd, fd, mode, diskUid, diskGid, b);
        if (result < 0) {
            calls.close(fd);
            calls.unlinkat(parentFd, name, type == Linux.S_IFDIR ? Linux.AT_REMOVEDIR : 0);
            return result;
        }
        return lookups.remember(fd, name, b, out);
    }

    /**
     * CREATE: always O_EXCL, so the file owned to the caller is the one this open made. The kernel sends
     * CREATE for a name it saw missing, and takes the file as created by the caller: it checks neither
     * the caller's permission on it nor O_TRUNC's. If the source has the name by now (made behind the
     * kernel's back: by another view of the same source, or on the source itself) and the caller did not
     * ask for O_EXCL, opening it as it is, as root, gave the caller that file whatever its mode: a
     * container's uid 1000 racing host root's 0600 file got it read-write (FuseAttackTest). ESTALE
     * instead: the VFS looks the name up again (LOOKUP_REVAL) and opens the file that is there with
     * every check.
     */
    private int create(int parentFd, long name, int openFlags, int mode, long diskUid, long diskGid, RequestBuffers b,
                       long out, int device) {
        int flags = (openFlags & ~(Linux.O_NOCTTY | FMODE_EXEC)) | Linux.O_NOFOLLOW;
        int openFd = calls.openat(parentFd, name, flags | Linux.O_CREAT | Linux.O_EXCL, mode & 07777);
        if (openFd == -Errno.EEXIST && (openFlags & Linux.O_EXCL) == 0) {
            return -Errno.ESTALE;
        }
        if (openFd < 0) {
            return openFd;
        }
        // Owned through the open fd itself: exactly the inode this open made, whatever its name is by now.
        int result = own(parentFd, openFd, mode, diskUid, diskGid, b);
        int fd = result < 0 ? result : createdNodeFd(parentFd, name, openFd, b);
        if (fd < 0) {
            calls.close(openFd);
            calls.unlinkat(parentFd, name, 0);
            return fd;
        }
        int length = lookups.rememberStated(fd, name, b, out);
        if (length < 0) {
            calls.close(openFd);
            return length;
        }
        return length + files.openReply(nodes.get(memory.getLong(out)), openFd, b, out + length, device);
    }

    /**
     * The new node's O_PATH fd for a file CREATE made ({@code openFd}), its statx (owner given) in
     * {@code b.stat}: the name opened again, not followed, if it is still that inode (device and inode
     * those of the open fd): cheaper than the open fd's /proc link, whose first lookup for each new
     * fd number makes a dentry and an inode (3.6 us by the whole path for a known one). If something
     * was renamed over the name meanwhile (by whoever may write the directory), that other inode is
     * neither answered nor touched: the fd is the created inode's own, through its /proc link.
     */
    private int createdNodeFd(int parentFd, long name, int openFd, RequestBuffers b) {
        // The open fd's statx goes to b.parentStat: own() is done with the parent's, and b.stat gets the answer's.
        int result = attributes.stat(openFd, b.parentStat);
        if (result < 0) {
            return result;
        }
        int fd = calls.openat(parentFd, name, Linux.O_PATH | Linux.O_NOFOLLOW, 0);
        if (fd >= 0 && attributes.stat(fd, b.stat) == 0 && attributes.sameInode(b.stat, b.parentStat)) {
            return fd;
        }
        calls.close(fd);
        fd = FdLinks.open(openFd, Linux.O_PATH, b);
        if (fd < 0) {
            return fd;
        }
        result = attributes.stat(fd, b.stat);
        if (result < 0) {
            calls.close(fd);
            return result;
        }
        return fd;
    }

    /**
     * Gives a new entry ({@code fd}: an O_PATH fd of it, or the file CREATE opened) the caller's owner:
     * its group stays the one the source chose under a setgid directory. The server created it as
     * root and a chown clears setuid/setgid, so those are put back; only a request that asked for
     * them ({@code mode}) can have them (umask and default ACLs only take bits away), so only then is
     * the created mode read.
     */
    private int own(int parentFd, int fd, int mode, long diskUid, long diskGid, RequestBuffers b) {
        long gid = diskGid;
        if (attributes.stat(parentFd, b.parentStat) == 0
                && (attributes.mode(b.parentStat) & Linux.S_ISGID) != 0) {
            gid = IdMap.INVALID_ID;
        }
        int created = 0;
        if ((mode & (Linux.S_ISUID | Linux.S_ISGID)) != 0 && (mode & Linux.S_IFMT) != Linux.S_IFDIR) {
            int result = attributes.stat(fd, b.stat);
            if (result < 0) {
                return result;
            }
            created = attributes.mode(b.stat);
        }
        int result = calls.fchownat(fd, emptyString, diskUid, gid, Linux.AT_EMPTY_PATH);
        if (result < 0 || (created & (Linux.S_ISUID | Linux.S_ISGID)) == 0) {
            return result;
        }
        return FdLinks.chmod(fd, created & 07777, b);
    }

    private int rename(Node oldParent, int oldParentFd, long newParentId, long names, int flags) {
        long newName = names + memory.getStringLength(names) + 1;
        if (Lookups.isDotOrDotDot(names) || Lookups.isDotOrDotDot(newName)) {
            return -Errno.EINVAL;
        }
        return withFd(newParentId, (newParent, newParentFd) -> {
            int result = calls.renameat2(oldParentFd, names, newParentFd, newName, flags);
            if (result == 0) {
                // Nodes found by name (no fd, no handle) are found by the new one from now on.
                nodes.moved(newParent, newParentFd, newName);
                if ((flags & Linux.RENAME_EXCHANGE) != 0) {
                    nodes.moved(oldParent, oldParentFd, names);
                }
            }
            return result;
        });
    }

    /** A new name for the node: by its fd (linkat AT_EMPTY_PATH), so it is that inode whatever its names now. */
    private int link(int newParentFd, long nodeId, long name, RequestBuffers b, long out) {
        if (Lookups.isDotOrDotDot(name)) {
            return -Errno.EEXIST;
        }
        int result = withFd(nodeId, (node, fd) -> calls.linkat(fd, emptyString, newParentFd, name, Linux.AT_EMPTY_PATH));
        if (result < 0) {
            return result;
        }
        return lookups.lookup(newParentFd, name, b, out);
    }
}
