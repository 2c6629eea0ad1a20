package dev.idshift.sys.files;

/** Offsets in the kernel's struct statx (the same on every architecture, unlike struct stat). */
public final class StatxLayout {
    private StatxLayout() {
    }

    public static final int SIZE = 256;
    /** STATX_BASIC_STATS: type, mode, nlink, uid, gid, times, ino, size, blocks. */
    public static final int BASIC_STATS = 0x7ff;

    /** STATX_BTIME: the birth time, where the filesystem records it. */
    public static final int BTIME_MASK = 0x800;

    /** u32: which fields the kernel filled in. */
    public static final int MASK = 0;
    public static final int BLKSIZE = 4;
    public static final int NLINK = 16;
    public static final int UID = 20;
    public static final int GID = 24;
    public static final int MODE = 28;
    public static final int INO = 32;
    public static final int FILE_SIZE = 40;
    public static final int BLOCKS = 48;
    /** struct statx_timestamp: s64 seconds, u32 nanoseconds, pad. */
    public static final int ATIME = 64;
    public static final int BTIME = 80;
    public static final int CTIME = 96;
    public static final int MTIME = 112;
    public static final int RDEV_MAJOR = 128;
    public static final int RDEV_MINOR = 132;
    public static final int DEV_MAJOR = 136;
    public static final int DEV_MINOR = 140;
}
