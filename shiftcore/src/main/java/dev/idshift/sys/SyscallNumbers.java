package dev.idshift.sys;

/**
 * Syscall numbers per architecture. The new mount API (428+) and openat2 share numbers across
 * architectures; the old calls differ.
 */
record SyscallNumbers(long openat, long close, long umount2, long setns, long unshare,
                      long socket, long connect, long sendmsg, long recvmsg, long getsockopt, long geteuid,
                      long setsockopt, long nameToHandleAt, long openByHandleAt, long accept4, long shutdown, long ioctl,
                      long read, long lgetxattr, long fcntl) {
    static final long OPEN_TREE = 428;
    static final long MOVE_MOUNT = 429;
    static final long FSOPEN = 430;
    static final long FSCONFIG = 431;
    static final long FSMOUNT = 432;
    static final long PIDFD_SEND_SIGNAL = 424;
    static final long PIDFD_OPEN = 434;
    static final long OPENAT2 = 437;
    static final long MOUNT_SETATTR = 442;

    private static final SyscallNumbers X86_64 = new SyscallNumbers(257, 3, 166, 308, 272,
            41, 42, 46, 47, 55, 107, 54, 303, 304, 288, 48, 16, 0, 192, 72);
    private static final SyscallNumbers AARCH64 = new SyscallNumbers(56, 57, 39, 268, 97,
            198, 203, 211, 212, 209, 175, 208, 264, 265, 242, 210, 29, 63, 9, 25);

    static SyscallNumbers forThisMachine() {
        String arch = System.getProperty("os.arch");
        if (arch.equals("amd64") || arch.equals("x86_64")) {
            return X86_64;
        }
        if (arch.equals("aarch64") || arch.equals("arm64")) {
            return AARCH64;
        }
        throw new UnsupportedOperationException("idshift knows the syscall numbers of x86_64 and aarch64, not " + arch);
    }
}
