package dev.idshift.mount.fuse;

import com.kenai.jffi.MemoryIO;
import dev.idshift.sys.Errno;
import dev.idshift.sys.FileCalls;
import dev.idshift.sys.Linux;
import dev.idshift.sys.NativeScratch;
import jnr.ffi.Pointer;
import jnr.ffi.Struct;
import ru.serce.jnrfuse.FuseCallbacks;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.FuseStubFS;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseContext;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;

/**
 * A FUSE filesystem mirroring a source directory with every uid and gid translated through an
 * {@link IdTranslation}: the userspace twin of an idmapped mount.
 *
 * <p>Safe by construction: every path FUSE hands us is resolved from an fd of the source root with
 * openat2(RESOLVE_IN_ROOT), as if the source were the process's root, so no symlink or {@code ..}
 * (planted in the tree, or swapped in between the kernel's lookup and our call) reaches outside it;
 * operations on a last component use that component's parent fd and never follow it. Access checks
 * are the kernel's ({@code default_permissions}), on the shifted ids we report.
 *
 * <p>Every operation returns 0/a count or minus an errno, as FUSE expects; nothing here throws.
 */
public final class ShiftingFilesystem extends FuseStubFS {
    private static final long RESOLVE = Linux.RESOLVE_IN_ROOT | Linux.RESOLVE_NO_MAGICLINKS;
    private static final long NO_ID = 0xFFFF_FFFFL;
    private static final int FMODE_EXEC = 0x20;

    // Offsets in the thread's small scratch area.
    private static final int HOW = 0;
    private static final int STAT = 64;
    private static final int STATFS = 256;

    private final int root;
    private final IdTranslation ids;
    private final Runnable onMounted;
    private final FileCalls calls = FileCalls.get();
    private final MemoryIO memory = MemoryIO.getInstance();
    /** A native "" for AT_EMPTY_PATH calls. */
    private final long emptyString;

    /**
     * @param rootFd    an O_PATH directory fd of the source (kept open for the mount's life; the mount
     *                  may even cover the source's own path)
     * @param onMounted run once the kernel has the mount (readiness for whoever started us)
     */
    public ShiftingFilesystem(int rootFd, IdTranslation ids, Runnable onMounted) {
        this.root = rootFd;
        this.ids = ids;
        this.onMounted = onMounted;
        this.emptyString = memory.allocateMemory(1, true);
        registerRawCallbacks();
    }

    /**
     * The hot operations, registered again on raw pointers: jnr-fuse's own registrations wrap every
     * struct argument in a new jnr Struct (some twenty field objects for a struct stat) on each call.
     */
    private void registerRawCallbacks() {
        // Lambdas are fine here: the server is long-running (the hook's start-up rules do not apply).
        fuseOperations.getattr.set((FuseCallbacks.GetAttrCallback) (path, stat) -> getattrAt(path, stat.address()));
        fuseOperations.fgetattr.set((FuseCallbacks.FgetattrCallback) (path, stat, fi) ->
                fgetattrAt(FileInfo.fh(memory, fi.address()), stat.address()));
        fuseOperations.open.set((FuseCallbacks.OpenCallback) (path, fi) -> openAt(path, fi.address()));
        fuseOperations.create.set((FuseCallbacks.CreateCallback) (path, mode, fi) -> createAt(path, mode, fi.address()));
        fuseOperations.read.set((FuseCallbacks.ReadCallback) (path, buf, size, offset, fi) ->
                (int) calls.pread(FileInfo.fh(memory, fi.address()), buf.address(), size, offset));
        fuseOperations.read_buf.set((FuseCallbacks.ReadbufCallback) (path, bufferVector, size, offset, fi) ->
                readBuf(bufferVector.address(), size, offset, FileInfo.fh(memory, fi.address())));
        fuseOperations.write.set((FuseCallbacks.WriteCallback) (path, buf, size, offset, fi) ->
                (int) calls.pwrite(FileInfo.fh(memory, fi.address()), buf.address(), size, offset));
        fuseOperations.release.set((FuseCallbacks.ReleaseCallback) (path, fi) -> calls.close(FileInfo.fh(memory, fi.address())));
        fuseOperations.readdir.set((FuseCallbacks.ReaddirCallback) (path, buf, filler, offset, fi) ->
                readdirInto(path, buf.address(), filler.address()));
    }

    /** What runs once the kernel has the mount (the direct server runs it after INIT too). */
    public Runnable onMounted() {
        return onMounted;
    }

    @Override
    public Pointer init(Pointer conn) {
        onMounted.run();
        return null;
    }

    // ---- resolution ----

    /** An fd of {@code path} (its last component not followed), or minus an errno. */
    private int open(NativeScratch scratch, String path, int flags) {
        long encoded = scratch.string(0, path);
        if (encoded == 0) {
            return -Errno.ENAMETOOLONG;
        }
        return calls.openat2(root, encoded, scratch.small() + HOW, flags | Linux.O_NOFOLLOW, 0, RESOLVE);
    }

    /** An O_PATH fd of {@code path}'s parent directory, with the last component put in {@code nameSlot}. */
    private int openParent(NativeScratch scratch, String path, int nameSlot) {
        int slash = path.lastIndexOf('/');
        if (slash < 0 || slash == path.length() - 1) {
            return -Errno.EINVAL;
        }
        if (scratch.string(nameSlot, path.substring(slash + 1)) == 0) {
            return -Errno.ENAMETOOLONG;
        }
        long parent = scratch.string(0, slash == 0 ? "/" : path.substring(0, slash));
        if (parent == 0) {
            return -Errno.ENAMETOOLONG;
        }
        return calls.openat2(root, parent, scratch.small() + HOW, Linux.O_PATH | Linux.O_DIRECTORY, 0, RESOLVE);
    }

    /** The source root by its fd's /proc link (slot 1): for calls on "/" itself, which has no parent here. */
    private long rootLink(NativeScratch scratch) {
        return scratch.string(1, "/proc/self/fd/" + root);
    }

    // ---- attributes ----

    @Override
    public int getattr(String path, FileStat stat) {
        return getattrAt(path, address(stat));
    }

    private int getattrAt(String path, long buffer) {
        NativeScratch scratch = NativeScratch.current();
        int fd = open(scratch, path, Linux.O_PATH);
        if (fd < 0) {
            return fd;
        }
        int result = calls.fstatat(fd, emptyString, buffer, Linux.AT_EMPTY_PATH);
        calls.close(fd);
        if (result < 0) {
            return result;
        }
        showOwner(buffer);
        return 0;
    }

    @Override
    public int fgetattr(String path, FileStat stat, FuseFileInfo fi) {
        return fgetattrAt((int) fi.fh.get(), address(stat));
    }

    private int fgetattrAt(int fd, long buffer) {
        int result = calls.fstatat(fd, emptyString, buffer, Linux.AT_EMPTY_PATH);
        if (result < 0) {
            return result;
        }
        showOwner(buffer);
        return 0;
    }

    /** On-disk owner -> shown owner, in place in a struct stat. */
    private void showOwner(long stat) {
        long uid = Integer.toUnsignedLong(memory.getInt(stat + FileCalls.STAT_UID_OFFSET));
        long gid = Integer.toUnsignedLong(memory.getInt(stat + FileCalls.STAT_GID_OFFSET));
        memory.putInt(stat + FileCalls.STAT_UID_OFFSET, (int) ids.hostUid(uid));
        memory.putInt(stat + FileCalls.STAT_GID_OFFSET, (int) ids.hostGid(gid));
    }

    @Override
    public int chmod(String path, long mode) {
        NativeScratch scratch = NativeScratch.current();
        int fd = open(scratch, path, Linux.O_PATH);
        if (fd < 0) {
            return fd;
        }
        try {
            long stat = scratch.small() + STAT;
            int result = calls.fstatat(fd, emptyString, stat, Linux.AT_EMPTY_PATH);
            if (result < 0) {
                return result;
            }
            if ((memory.getInt(stat + FileCalls.STAT_MODE_OFFSET) & Linux.S_IFMT) == Linux.S_IFLNK) {
                return -Errno.EOPNOTSUPP;  // as lchmod: a symlink has no mode of its own
            }
            // Through the fd's /proc link: the very inode resolved above, whatever the path now names.
            return calls.fchmodat(Linux.AT_FDCWD, scratch.string(1, "/proc/self/fd/" + fd), mode);
        } finally {
            calls.close(fd);
        }
    }

    @Override
    public int chown(String path, long uid, long gid) {
        long diskUid = NO_ID;
        long diskGid = NO_ID;
        if ((uid & NO_ID) != NO_ID) {
            diskUid = ids.diskUid(uid & NO_ID);
            if (diskUid < 0) {
                return -Errno.EOVERFLOW;
            }
        }
        if ((gid & NO_ID) != NO_ID) {
            diskGid = ids.diskGid(gid & NO_ID);
            if (diskGid < 0) {
                return -Errno.EOVERFLOW;
            }
        }
        NativeScratch scratch = NativeScratch.current();
        if (path.equals("/")) {
            return calls.fchownat(Linux.AT_FDCWD, rootLink(scratch), diskUid, diskGid, 0);
        }
        int parent = openParent(scratch, path, 1);
        if (parent < 0) {
            return parent;
        }
        int result = calls.fchownat(parent, scratch.slot(1), diskUid, diskGid, Linux.AT_SYMLINK_NOFOLLOW);
        calls.close(parent);
        return result;
    }

    @Override
    public int utimens(String path, Timespec[] timespec) {
        NativeScratch scratch = NativeScratch.current();
        long times = timespec == null ? 0 : address(timespec[0]);
        if (path.equals("/")) {
            return calls.utimensat(Linux.AT_FDCWD, rootLink(scratch), times, 0);
        }
        int parent = openParent(scratch, path, 1);
        if (parent < 0) {
            return parent;
        }
        int result = calls.utimensat(parent, scratch.slot(1), times, Linux.AT_SYMLINK_NOFOLLOW);
        calls.close(parent);
        return result;
    }

    @Override
    public int truncate(String path, long size) {
        NativeScratch scratch = NativeScratch.current();
        int fd = open(scratch, path, Linux.O_WRONLY | Linux.O_NONBLOCK);
        if (fd < 0) {
            return fd;
        }
        int result = calls.ftruncate(fd, size);
        calls.close(fd);
        return result;
    }

    @Override
    public int ftruncate(String path, long size, FuseFileInfo fi) {
        return calls.ftruncate((int) fi.fh.get(), size);
    }

    @Override
    public int statfs(String path, Statvfs stbuf) {
        long statfs = NativeScratch.current().small() + STATFS;
        int result = calls.fstatfs(root, statfs);
        if (result < 0) {
            return result;
        }
        // struct statfs (64-bit): type, bsize, blocks, bfree, bavail, files, ffree, fsid, namelen, frsize, flags
        stbuf.f_bsize.set(memory.getLong(statfs + 8));
        stbuf.f_blocks.set(memory.getLong(statfs + 16));
        stbuf.f_bfree.set(memory.getLong(statfs + 24));
        stbuf.f_bavail.set(memory.getLong(statfs + 32));
        stbuf.f_files.set(memory.getLong(statfs + 40));
        stbuf.f_ffree.set(memory.getLong(statfs + 48));
        stbuf.f_favail.set(memory.getLong(statfs + 48));
        stbuf.f_namemax.set(memory.getLong(statfs + 64));
        stbuf.f_frsize.set(memory.getLong(statfs + 72));
        return 0;
    }

    @Override
    public int access(String path, int mask) {
        // Reached only without default_permissions; the kernel decides with it. Existence is ours.
        NativeScratch scratch = NativeScratch.current();
        int fd = open(scratch, path, Linux.O_PATH);
        if (fd < 0) {
            return fd;
        }
        calls.close(fd);
        return 0;
    }

    // ---- directories ----

    @Override
    public int readdir(String path, Pointer buf, FuseFillDir filler, long offset, FuseFileInfo fi) {
        return -Errno.ENOSYS;  // replaced by the raw callback (registerRawCallbacks)
    }

    /** Lists a directory into libfuse's buffer through its fill function, called directly. */
    private int readdirInto(String path, long buffer, long fillFunction) {
        NativeScratch scratch = NativeScratch.current();
        int fd = open(scratch, path, Linux.O_RDONLY | Linux.O_DIRECTORY);
        if (fd < 0) {
            return fd;
        }
        try {
            long entries = scratch.large();
            // Each name goes to libfuse straight from the kernel's dirent (already NUL-terminated),
            // with its inode number and type (d_type), so find, du and rm need no stat to tell
            // directories from files.
            long stat = scratch.small() + STAT;
            memory.setMemory(stat, FileCalls.STAT_SIZE, (byte) 0);
            while (true) {
                long filled = calls.getdents64(fd, entries, NativeScratch.LARGE);
                if (filled <= 0) {
                    return (int) filled;
                }
                // struct linux_dirent64: ino u64, off s64, reclen u16, type u8, name[]
                for (long at = entries; at < entries + filled; ) {
                    memory.putLong(stat + FileCalls.STAT_INO_OFFSET, memory.getLong(at));
                    memory.putInt(stat + FileCalls.STAT_MODE_OFFSET, (memory.getByte(at + 18) & 0xFF) << 12);
                    if (FillDir.call(fillFunction, buffer, at + 19, stat) != 0) {
                        return -Errno.ERANGE;
                    }
                    at += memory.getShort(at + 16) & 0xFFFF;
                }
            }
        } finally {
            calls.close(fd);
        }
    }

    @Override
    public int mkdir(String path, long mode) {
        return makeNode(path, mode, Kind.DIRECTORY, 0, null);
    }

    @Override
    public int mknod(String path, long mode, long rdev) {
        return makeNode(path, mode, Kind.NODE, rdev, null);
    }

    @Override
    public int symlink(String target, String linkPath) {
        return makeNode(linkPath, 0, Kind.SYMLINK, 0, target);
    }

    private enum Kind { FILE, DIRECTORY, NODE, SYMLINK }

    /**
     * Makes a file, directory, node or symlink owned by the caller's on-disk ids (EOVERFLOW if it has
     * none); one that cannot be given them is removed again.
     *
     * @param detail open flags (FILE) or the device number (NODE)
     * @return the new file's open fd (FILE), else 0; or minus an errno
     */
    private int makeNode(String path, long mode, Kind kind, long detail, String symlinkTarget) {
        FuseContext caller = getContext();
        long diskUid = ids.diskUid(Integer.toUnsignedLong(caller.uid.intValue()));
        long diskGid = ids.diskGid(Integer.toUnsignedLong(caller.gid.intValue()));
        if (diskUid < 0 || diskGid < 0) {
            return -Errno.EOVERFLOW;
        }
        NativeScratch scratch = NativeScratch.current();
        int parent = openParent(scratch, path, 1);
        if (parent < 0) {
            return parent;
        }
        try {
            long name = scratch.slot(1);
            long gid = inheritedOr(scratch, parent, diskGid);
            if (kind == Kind.FILE) {
                int fd = calls.openat(parent, name, (int) detail | Linux.O_CREAT | Linux.O_NOFOLLOW, mode);
                if (fd < 0) {
                    return fd;
                }
                int result = calls.fchown(fd, diskUid, gid);
                if (result < 0) {
                    calls.close(fd);
                    calls.unlinkat(parent, name, 0);
                    return result;
                }
                return fd;
            }
            int result;
            switch (kind) {
                case DIRECTORY:
                    result = calls.mkdirat(parent, name, mode);
                    break;
                case NODE:
                    result = calls.mknodat(parent, name, mode, detail);
                    break;
                default:
                    long target = scratch.string(2, symlinkTarget);
                    result = target == 0 ? -Errno.ENAMETOOLONG : calls.symlinkat(target, parent, name);
            }
            if (result < 0) {
                return result;
            }
            result = calls.fchownat(parent, name, diskUid, gid, Linux.AT_SYMLINK_NOFOLLOW);
            if (result < 0) {
                calls.unlinkat(parent, name, kind == Kind.DIRECTORY ? Linux.AT_REMOVEDIR : 0);
            }
            return result;
        } finally {
            calls.close(parent);
        }
    }

    /** The gid for a new entry: the kernel's own choice (-1) under a setgid directory, else the caller's. */
    private long inheritedOr(NativeScratch scratch, int parent, long callerGid) {
        long stat = scratch.small() + STAT;
        if (calls.fstatat(parent, emptyString, stat, Linux.AT_EMPTY_PATH) == 0
                && (memory.getInt(stat + FileCalls.STAT_MODE_OFFSET) & Linux.S_ISGID) != 0) {
            return NO_ID;
        }
        return callerGid;
    }

    @Override
    public int unlink(String path) {
        return remove(path, 0);
    }

    @Override
    public int rmdir(String path) {
        return remove(path, Linux.AT_REMOVEDIR);
    }

    private int remove(String path, int flags) {
        NativeScratch scratch = NativeScratch.current();
        int parent = openParent(scratch, path, 1);
        if (parent < 0) {
            return parent;
        }
        int result = calls.unlinkat(parent, scratch.slot(1), flags);
        calls.close(parent);
        return result;
    }

    @Override
    public int rename(String oldPath, String newPath) {
        return twoParents(oldPath, newPath, true);
    }

    @Override
    public int link(String oldPath, String newPath) {
        return twoParents(oldPath, newPath, false);
    }

    private int twoParents(String oldPath, String newPath, boolean rename) {
        NativeScratch scratch = NativeScratch.current();
        int oldParent = openParent(scratch, oldPath, 1);
        if (oldParent < 0) {
            return oldParent;
        }
        int newParent = openParent(scratch, newPath, 2);
        if (newParent < 0) {
            calls.close(oldParent);
            return newParent;
        }
        int result = rename
                ? calls.renameat2(oldParent, scratch.slot(1), newParent, scratch.slot(2), 0)
                : calls.linkat(oldParent, scratch.slot(1), newParent, scratch.slot(2), 0);
        calls.close(oldParent);
        calls.close(newParent);
        return result;
    }

    @Override
    public int readlink(String path, Pointer buf, long size) {
        NativeScratch scratch = NativeScratch.current();
        int parent = openParent(scratch, path, 1);
        if (parent < 0) {
            return parent;
        }
        long address = buf.address();
        long length = calls.readlinkat(parent, scratch.slot(1), address, size - 1);
        calls.close(parent);
        if (length < 0) {
            return (int) length;
        }
        memory.putByte(address + length, (byte) 0);
        return 0;
    }

    // ---- files ----

    @Override
    public int open(String path, FuseFileInfo fi) {
        return openAt(path, address(fi));
    }

    private int openAt(String path, long fi) {
        // Not the kernel's internal __FMODE_EXEC (0x20, set when exec opens a binary): openat2 refuses
        // flags it does not know with EINVAL, unlike open.
        int flags = FileInfo.flags(memory, fi) & ~(Linux.O_CREAT | Linux.O_EXCL | Linux.O_NOCTTY | FMODE_EXEC);
        int fd = open(NativeScratch.current(), path, flags);
        if (fd < 0) {
            return fd;
        }
        FileInfo.setFh(memory, fi, fd);
        return 0;
    }

    @Override
    public int create(String path, long mode, FuseFileInfo fi) {
        return createAt(path, mode, address(fi));
    }

    private int createAt(String path, long mode, long fi) {
        int fd = makeNode(path, mode, Kind.FILE, FileInfo.flags(memory, fi), null);
        if (fd < 0) {
            return fd;
        }
        FileInfo.setFh(memory, fi, fd);
        return 0;
    }

    @Override
    public int read(String path, Pointer buf, long size, long offset, FuseFileInfo fi) {
        return (int) calls.pread((int) fi.fh.get(), buf.address(), size, offset);
    }

    @Override
    public int read_buf(String path, Pointer bufp, long size, long off, FuseFileInfo fi) {
        return readBuf(bufp.address(), size, off, (int) fi.fh.get());
    }

    /**
     * Reads as a buffer that names our fd and offset rather than holding the data: libfuse splices
     * it from the file to the kernel (splice_write), no copy through this process.
     */
    private int readBuf(long vectorOut, long size, long offset, int fd) {
        long vector = memory.allocateMemory(BufferVector.SIZE, true);  // malloc: libfuse free()s it
        if (vector == 0) {
            return -Errno.ENOMEM;
        }
        BufferVector.describeFd(memory, vector, size, fd, offset);
        memory.putAddress(vectorOut, vector);
        return 0;
    }

    @Override
    public int write(String path, Pointer buf, long size, long offset, FuseFileInfo fi) {
        return (int) calls.pwrite((int) fi.fh.get(), buf.address(), size, offset);
    }

    // No flush: writes go straight to the source, nothing is buffered here. Left unimplemented, libfuse
    // answers ENOSYS once and the kernel stops sending FLUSH on every close (one round trip saved).

    @Override
    public int release(String path, FuseFileInfo fi) {
        return calls.close((int) fi.fh.get());
    }

    @Override
    public int fsync(String path, int isdatasync, FuseFileInfo fi) {
        return calls.fsync((int) fi.fh.get(), isdatasync != 0);
    }

    @Override
    public int fallocate(String path, int mode, long off, long length, FuseFileInfo fi) {
        return calls.fallocate((int) fi.fh.get(), mode, off, length);
    }

    // ---- extended attributes ----

    /** One l*xattr call on a path that names the file without following it. */
    private interface XattrCall {
        long apply(NativeScratch scratch, long target) throws XattrIds.Untranslatable;
    }

    /**
     * Runs {@code call} with a path naming {@code path} without following it: its parent fd's /proc
     * link plus the last component (the l*xattr calls take no dirfd); the root by its own fd's link.
     */
    private int onXattrPath(String path, XattrCall call) {
        NativeScratch scratch = NativeScratch.current();
        int parent = -1;
        try {
            long target;
            if (path.equals("/")) {
                target = scratch.string(2, "/proc/self/fd/" + root);
            } else {
                parent = openParent(scratch, path, 1);
                if (parent < 0) {
                    return parent;
                }
                target = scratch.string(2, "/proc/self/fd/" + parent + "/" + path.substring(path.lastIndexOf('/') + 1));
            }
            return target == 0 ? -Errno.ENAMETOOLONG : (int) call.apply(scratch, target);
        } catch (XattrIds.Untranslatable e) {
            return -e.errno();
        } finally {
            calls.close(parent);
        }
    }

    @Override
    public int getxattr(String path, String name, Pointer value, long size) {
        return onXattrPath(path, (scratch, target) -> {
            long encodedName = scratch.string(3, name);
            if (!XattrIds.carriesIds(name)) {
                return calls.lgetxattr(target, encodedName, size == 0 ? 0 : value.address(), size);
            }
            // Read whole into scratch: the translated value may differ in length (a v2 capability shown as v3).
            long raw = scratch.large();
            long length = calls.lgetxattr(target, encodedName, raw, NativeScratch.LARGE);
            if (length <= 0) {
                return length;
            }
            byte[] stored = new byte[(int) length];
            memory.getByteArray(raw, stored, 0, stored.length);
            byte[] shown = XattrIds.toHost(name, stored, ids);
            if (size == 0) {
                return shown.length;
            }
            if (shown.length > size) {
                return -Errno.ERANGE;
            }
            memory.putByteArray(value.address(), shown, 0, shown.length);
            return shown.length;
        });
    }

    @Override
    public int setxattr(String path, String name, Pointer value, long size, int flags) {
        return onXattrPath(path, (scratch, target) -> {
            long encodedName = scratch.string(3, name);
            if (!XattrIds.carriesIds(name)) {
                return calls.lsetxattr(target, encodedName, value.address(), size, flags);
            }
            if (size > NativeScratch.LARGE) {
                return -Errno.E2BIG;
            }
            byte[] written = new byte[(int) size];
            memory.getByteArray(value.address(), written, 0, written.length);
            byte[] stored = XattrIds.toDisk(name, written, ids);
            long copy = scratch.large();
            memory.putByteArray(copy, stored, 0, stored.length);
            return calls.lsetxattr(target, encodedName, copy, stored.length, flags);
        });
    }

    @Override
    public int listxattr(String path, Pointer list, long size) {
        return onXattrPath(path, (scratch, target) -> calls.llistxattr(target, size == 0 ? 0 : list.address(), size));
    }

    @Override
    public int removexattr(String path, String name) {
        return onXattrPath(path, (scratch, target) -> calls.lremovexattr(target, scratch.string(3, name)));
    }

    private static long address(Struct struct) {
        return Struct.getMemory(struct).address();
    }
}
