package dev.idshift.sys;

/**
 * The one table of syscall numbers idshift uses, for x86_64 and aarch64. The calls added since
 * Linux 5.1 (pidfd_*, the new mount API, openat2) have one number on every architecture; the older
 * ones differ. On any other architecture every number is -1 and {@link Syscalls#get()} refuses to
 * start, naming the architecture, before a single call is made.
 */
public final class SyscallTable {
    /** The JVM's name for this machine (amd64, x86_64, aarch64, arm64, ...). */
    static final String ARCHITECTURE = System.getProperty("os.arch");
    private static final boolean X86_64 = ARCHITECTURE.equals("amd64") || ARCHITECTURE.equals("x86_64");
    private static final boolean AARCH64 = ARCHITECTURE.equals("aarch64") || ARCHITECTURE.equals("arm64");

    private SyscallTable() {
    }

    /** Throws, naming the architecture, unless this table knows it. */
    static void requireKnownArchitecture() {
        if (!X86_64 && !AARCH64) {
            throw new UnsupportedOperationException("idshift knows the syscall numbers of x86_64 and aarch64, not " + ARCHITECTURE);
        }
    }

    private static long number(long x86_64, long aarch64) {
        return X86_64 ? x86_64 : AARCH64 ? aarch64 : -1;
    }

    // ---- files ----
    public static final long READ = number(0, 63);
    public static final long WRITE = number(1, 64);
    public static final long CLOSE = number(3, 57);
    public static final long LSEEK = number(8, 62);
    public static final long IOCTL = number(16, 29);
    public static final long PREAD64 = number(17, 67);
    public static final long PWRITE64 = number(18, 68);
    public static final long FCNTL = number(72, 25);
    public static final long FLOCK = number(73, 32);
    public static final long DUP3 = number(292, 24);
    public static final long FSYNC = number(74, 82);
    public static final long FDATASYNC = number(75, 83);
    public static final long FTRUNCATE = number(77, 46);
    public static final long UMASK = number(95, 166);
    public static final long FSTATFS = number(138, 44);
    public static final long SETXATTR = number(188, 5);
    public static final long GETXATTR = number(191, 8);
    public static final long LGETXATTR = number(192, 9);
    public static final long FGETXATTR = number(193, 10);
    public static final long LISTXATTR = number(194, 11);
    public static final long FLISTXATTR = number(196, 13);
    public static final long REMOVEXATTR = number(197, 14);
    public static final long GETDENTS64 = number(217, 61);
    public static final long OPENAT = number(257, 56);
    public static final long MKDIRAT = number(258, 34);
    public static final long MKNODAT = number(259, 33);
    public static final long FCHOWNAT = number(260, 54);
    public static final long UNLINKAT = number(263, 35);
    public static final long LINKAT = number(265, 37);
    public static final long SYMLINKAT = number(266, 36);
    public static final long READLINKAT = number(267, 78);
    public static final long FCHMODAT = number(268, 53);
    public static final long UTIMENSAT = number(280, 88);
    public static final long FALLOCATE = number(285, 47);
    public static final long PRLIMIT64 = number(302, 261);
    public static final long NAME_TO_HANDLE_AT = number(303, 264);
    public static final long OPEN_BY_HANDLE_AT = number(304, 265);
    public static final long RENAMEAT2 = number(316, 276);
    public static final long STATX = number(332, 291);
    public static final long OPENAT2 = 437;
    /** Linux 6.6: fchmodat with flags (AT_EMPTY_PATH: an O_PATH fd's own inode). */
    public static final long FCHMODAT2 = 452;

    // ---- mounts ----
    public static final long UMOUNT2 = number(166, 39);
    public static final long OPEN_TREE = 428;
    public static final long MOVE_MOUNT = 429;
    public static final long FSOPEN = 430;
    public static final long FSCONFIG = 431;
    public static final long FSMOUNT = 432;
    public static final long MOUNT_SETATTR = 442;

    // ---- namespaces and processes ----
    public static final long UNSHARE = number(272, 97);
    public static final long SETNS = number(308, 268);
    public static final long PIDFD_SEND_SIGNAL = 424;
    public static final long PIDFD_OPEN = 434;

    // ---- unix sockets ----
    public static final long SOCKET = number(41, 198);
    public static final long CONNECT = number(42, 203);
    public static final long SENDMSG = number(46, 211);
    public static final long RECVMSG = number(47, 212);
    public static final long SHUTDOWN = number(48, 210);
    public static final long SETSOCKOPT = number(54, 208);
    public static final long GETSOCKOPT = number(55, 209);
    public static final long ACCEPT4 = number(288, 242);

    // ---- credentials ----
    public static final long GETEUID = number(107, 175);
    public static final long SETFSUID = number(122, 151);
    public static final long SETFSGID = number(123, 152);
    public static final long CAPGET = number(125, 90);
    public static final long CAPSET = number(126, 91);

    // ---- io_uring and scheduling (FUSE over io_uring) ----
    public static final long MUNMAP = number(11, 215);
    public static final long SCHED_SETAFFINITY = number(203, 122);
    public static final long IO_URING_SETUP = 425;
    public static final long IO_URING_ENTER = 426;
}
