package dev.idshift.backend.fuse;

/**
 * The kernel's FUSE protocol (include/uapi/linux/fuse.h, 7.40): opcodes, INIT flags and the offsets
 * of the structs this server reads and writes. Every struct is little/native-endian, 64-bit aligned.
 */
final class FuseProtocol {
    private FuseProtocol() {
    }

    static final int MAJOR = 7;
    /** 7.40 brought passthrough (FUSE_PASSTHROUGH, backing ids in fuse_open_out). */
    static final int MINOR = 40;
    static final long ROOT_ID = 1;

    // Opcodes.
    static final int LOOKUP = 1;
    static final int FORGET = 2;
    static final int GETATTR = 3;
    static final int SETATTR = 4;
    static final int READLINK = 5;
    static final int SYMLINK = 6;
    static final int MKNOD = 8;
    static final int MKDIR = 9;
    static final int UNLINK = 10;
    static final int RMDIR = 11;
    static final int RENAME = 12;
    static final int LINK = 13;
    static final int OPEN = 14;
    static final int READ = 15;
    static final int WRITE = 16;
    static final int STATFS = 17;
    static final int RELEASE = 18;
    static final int FSYNC = 20;
    static final int SETXATTR = 21;
    static final int GETXATTR = 22;
    static final int LISTXATTR = 23;
    static final int REMOVEXATTR = 24;
    static final int FLUSH = 25;
    static final int INIT = 26;
    static final int OPENDIR = 27;
    static final int READDIR = 28;
    static final int RELEASEDIR = 29;
    static final int FSYNCDIR = 30;
    static final int ACCESS = 34;
    static final int CREATE = 35;
    static final int INTERRUPT = 36;
    static final int DESTROY = 38;
    static final int BATCH_FORGET = 42;
    static final int FALLOCATE = 43;
    static final int READDIRPLUS = 44;
    static final int RENAME2 = 45;
    static final int LSEEK = 46;

    /** INIT flags, by their bit in fuse.h (flags holds bits 0-31; flags2 the rest, read only with INIT_EXT). */
    enum InitFlag {
        ASYNC_READ(0), BIG_WRITES(5), DONT_MASK(6), AUTO_INVAL_DATA(12), DO_READDIRPLUS(13), ASYNC_DIO(15),
        PARALLEL_DIROPS(18), POSIX_ACL(20), MAX_PAGES(22), CACHE_SYMLINKS(23), HANDLE_KILLPRIV_V2(28), SETXATTR_EXT(29),
        INIT_EXT(30), PASSTHROUGH(37),
        OVER_IO_URING(41);

        final long mask;

        InitFlag(int bit) {
            this.mask = 1L << bit;
        }

        static long maskOf(InitFlag... flags) {
            long mask = 0;
            for (InitFlag flag : flags) {
                mask |= flag.mask;
            }
            return mask;
        }
    }

    // fuse_in_header (40 bytes) and fuse_out_header (16 bytes).
    static final int IN_HEADER = 40;
    static final int IN_LEN = 0;
    static final int IN_OPCODE = 4;
    static final int IN_UNIQUE = 8;
    static final int IN_NODEID = 16;
    static final int IN_UID = 24;
    static final int IN_GID = 28;
    static final int IN_PID = 32;
    static final int OUT_HEADER = 16;

    // fuse_attr (88 bytes).
    static final int ATTR_SIZE = 88;
    // fuse_entry_out: nodeid, generation, entry_valid, attr_valid, their nsecs, then fuse_attr.
    static final int ENTRY_OUT = 40 + ATTR_SIZE;
    // fuse_attr_out: attr_valid, its nsec, dummy, then fuse_attr.
    static final int ATTR_OUT = 16 + ATTR_SIZE;
    static final int OPEN_OUT = 16;

    // setattr valid bits.
    static final int FATTR_MODE = 1;
    static final int FATTR_UID = 1 << 1;
    static final int FATTR_GID = 1 << 2;
    static final int FATTR_SIZE = 1 << 3;
    static final int FATTR_ATIME = 1 << 4;
    static final int FATTR_MTIME = 1 << 5;
    static final int FATTR_FH = 1 << 6;
    static final int FATTR_ATIME_NOW = 1 << 7;
    static final int FATTR_MTIME_NOW = 1 << 8;
    /** The caller could not keep setuid/setgid (HANDLE_KILLPRIV_V2): on a chown always, on a truncate without CAP_FSETID. */
    static final int FATTR_KILL_SUIDGID = 1 << 11;

    /**
     * fuse_setxattr_in: size, flags, and with SETXATTR_EXT setxattr_flags and padding (16 bytes);
     * without it the kernel sends the first two only (FUSE_COMPAT_SETXATTR_IN_SIZE). The name follows.
     */
    static final int SETXATTR_IN = 16;
    static final int COMPAT_SETXATTR_IN = 8;
    /** setxattr_flags: the caller of an access ACL write could not keep setgid (SETXATTR_EXT). */
    static final int SETXATTR_ACL_KILL_SGID = 1;

    // fuse_write_in write_flags and fuse_open_in open_flags (HANDLE_KILLPRIV_V2).
    static final int WRITE_KILL_SUIDGID = 1 << 2;
    static final int OPEN_KILL_SUIDGID = 1;

    // fuse_open_out open_flags.
    static final int FOPEN_KEEP_CACHE = 1 << 1;
    static final int FOPEN_PASSTHROUGH = 1 << 7;

    // /dev/fuse ioctls: _IOR(229, 0, u32), _IOW(229, 1, struct fuse_backing_map), _IOW(229, 2, u32).
    static final long DEV_IOC_CLONE = 0x8004e500L;
    static final long DEV_IOC_BACKING_OPEN = 0x4010e501L;
    static final long DEV_IOC_BACKING_CLOSE = 0x4004e502L;

    /** Largest READ/WRITE payload we negotiate (max_pages 256 of 4 KiB). */
    static final int MAX_WRITE = 1 << 20;
    /** A request buffer: the payload plus room for any header (FUSE_MIN_READ_BUFFER is 8 KiB). */
    static final int BUFFER = MAX_WRITE + 8192;
}
