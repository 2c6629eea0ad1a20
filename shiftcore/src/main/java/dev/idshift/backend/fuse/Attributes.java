package dev.idshift.backend.fuse;

import com.kenai.jffi.MemoryIO;
import dev.idshift.sys.Linux;
import dev.idshift.sys.files.FileCalls;
import dev.idshift.sys.files.StatxLayout;

/** A source inode's attributes as FUSE replies: statx of its fd, the owner shown through the id map. */
final class Attributes {
    /** Attributes and names are cached by the kernel for this long (seconds): see README, coherence. */
    private static final long TIMEOUT = 1;
    private static final int STATX_FLAGS = Linux.AT_EMPTY_PATH | Linux.AT_SYMLINK_NOFOLLOW;
    /**
     * The st_blksize directories show: glibc sizes opendir's buffer by it (32 KiB to 1 MiB), and
     * each getdents64 on a FUSE directory is one READDIR(PLUS) of that size. With the source's 4 KiB
     * a listing without attributes came 200 entries a round trip (a fuse_direntplus is 160 bytes or
     * more); with 256 KiB it is 1,600. It is a hint only (regular files keep the source's), and the one
     * stat field this view shows otherwise than the source.
     */
    static final int DIRECTORY_BLKSIZE = 256 * 1024;

    private final IdTranslation ids;
    private final FileCalls calls = FileCalls.get();
    private final MemoryIO memory = MemoryIO.getInstance();
    /** A native "" for AT_EMPTY_PATH calls. */
    final long emptyString;

    Attributes(IdTranslation ids) {
        this.ids = ids;
        this.emptyString = memory.allocateMemory(1, true);
    }

    /** statx of the fd's inode itself (a symlink is not followed) into {@code buffer}: 0 or minus an errno. */
    int stat(int fd, long buffer) {
        return calls.statx(fd, emptyString, STATX_FLAGS, StatxLayout.BASIC_STATS, buffer);
    }

    /**
     * Whether the inode of a statx taken with {@link #statWithBirth} was born no earlier than
     * {@code sinceNanos} (epoch ns). A filesystem that records no birth time (NFS, some FUSE sources)
     * cannot tell: true.
     */
    boolean bornSince(long stat, long sinceNanos) {
        if ((memory.getInt(stat + StatxLayout.MASK) & StatxLayout.BTIME_MASK) == 0) {
            return true;
        }
        long born = memory.getLong(stat + StatxLayout.BTIME) * 1_000_000_000L + Integer.toUnsignedLong(memory.getInt(stat + StatxLayout.BTIME + 8));
        return born >= sinceNanos;
    }

    /** {@link #stat} with the birth time. */
    int statWithBirth(int fd, long buffer) {
        return calls.statx(fd, emptyString, STATX_FLAGS, StatxLayout.BASIC_STATS | StatxLayout.BTIME_MASK, buffer);
    }

    /** A fuse_entry_out for a node whose statx is at {@code stat}. */
    void entry(long out, long nodeId, long stat) {
        memory.putLong(out, nodeId);
        memory.putLong(out + 8, 0);            // generation: node ids are never reused while mounted
        memory.putLong(out + 16, TIMEOUT);     // entry_valid
        memory.putLong(out + 24, TIMEOUT);     // attr_valid
        memory.putLong(out + 32, 0);           // both nsecs
        fuseAttr(out + 40, stat);
    }

    /** A fuse_attr_out of the fd's inode at {@code out}: its length, or minus an errno. */
    int attrOut(int fd, RequestBuffers b, long out) {
        int result = stat(fd, b.stat);
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
        int mode = memory.getShort(stat + StatxLayout.MODE) & Linux.S_IFMT;
        memory.putInt(attr + 80, mode == Linux.S_IFDIR ? DIRECTORY_BLKSIZE : memory.getInt(stat + StatxLayout.BLKSIZE));
        memory.putInt(attr + 84, 0);
    }

    /** The (device major, minor) of a statx, as one key. */
    long device(long stat) {
        return (Integer.toUnsignedLong(memory.getInt(stat + StatxLayout.DEV_MAJOR)) << 32)
                | Integer.toUnsignedLong(memory.getInt(stat + StatxLayout.DEV_MINOR));
    }

    /** Whether two statx are of the same inode (device and inode number). */
    boolean sameInode(long stat, long other) {
        return device(stat) == device(other) && memory.getLong(stat + StatxLayout.INO) == memory.getLong(other + StatxLayout.INO);
    }

    int mode(long stat) {
        return memory.getShort(stat + StatxLayout.MODE) & 0xFFFF;
    }

    /** The on-disk owner a statx shows (the source's own id, not translated). */
    long ownerUid(long stat) {
        return Integer.toUnsignedLong(memory.getInt(stat + StatxLayout.UID));
    }
}
