package dev.idshift.sys;

/** Constants from the Linux UAPI headers that our syscalls take. */
public final class Linux {
    private Linux() {
    }

    public static final int AT_FDCWD = -100;
    /** ioctl_ns(2): _IO(0xb7, 2) and _IO(0xb7, 4). */
    public static final int NS_GET_PARENT = 0xb702;
    public static final int NS_GET_OWNER_UID = 0xb704;
    public static final int AT_SYMLINK_NOFOLLOW = 0x100;
    public static final int AT_RECURSIVE = 0x8000;
    public static final int AT_EMPTY_PATH = 0x1000;
    public static final int AT_REMOVEDIR = 0x200;
    /** renameat2: swap the two names. */
    public static final int RENAME_EXCHANGE = 2;

    public static final int S_IFMT = 0xF000;
    public static final int S_IFLNK = 0xA000;
    public static final int S_ISGID = 0x400;
    public static final int S_ISUID = 0x800;
    public static final int S_IFREG = 0x8000;
    public static final int S_IFDIR = 0x4000;

    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0x40;
    public static final int O_APPEND = 0x400;
    public static final int O_EXCL = 0x80;
    public static final int O_TRUNC = 0x200;
    public static final int O_NOCTTY = 0x100;
    public static final int O_NONBLOCK = 0x800;
    public static final int O_DIRECTORY = 0x10000;
    public static final int O_NOFOLLOW = 0x20000;
    public static final int O_CLOEXEC = 0x80000;
    public static final int O_PATH = 0x200000;

    public static final long RESOLVE_NO_XDEV = 0x01;
    public static final long RESOLVE_NO_MAGICLINKS = 0x02;
    public static final long RESOLVE_NO_SYMLINKS = 0x04;
    public static final long RESOLVE_BENEATH = 0x08;
    public static final long RESOLVE_IN_ROOT = 0x10;

    public static final int OPEN_TREE_CLONE = 1;
    public static final int OPEN_TREE_CLOEXEC = O_CLOEXEC;

    public static final int MOVE_MOUNT_F_SYMLINKS = 0x1;
    public static final int MOVE_MOUNT_F_EMPTY_PATH = 0x4;
    public static final int MOVE_MOUNT_T_SYMLINKS = 0x10;
    public static final int MOVE_MOUNT_T_EMPTY_PATH = 0x40;

    public static final long MOUNT_ATTR_RDONLY = 0x1;
    public static final long MOUNT_ATTR_NOSUID = 0x2;
    public static final long MOUNT_ATTR_NODEV = 0x4;
    public static final long MOUNT_ATTR_NOEXEC = 0x8;
    public static final long MOUNT_ATTR_IDMAP = 0x0010_0000L;

    public static final int FSOPEN_CLOEXEC = 1;
    public static final int FSMOUNT_CLOEXEC = 1;
    public static final int LINUX_CAPABILITY_VERSION_3 = 0x20080522;
    /** Bypasses read and search permission checks; also what overlayfs asks of its mounter to decode file handles. */
    public static final int CAP_DAC_READ_SEARCH = 2;
    /** Keeps setuid/setgid where the kernel would clear them (writes, chown, an access ACL's writer outside the group). */
    public static final int CAP_FSETID = 4;
    /** Overrides resource limits: filesystem reserved blocks, disk quotas, RLIMIT_NOFILE's hard limit. */
    public static final int CAP_SYS_RESOURCE = 24;
    public static final int FSCONFIG_SET_FLAG = 0;
    public static final int FSCONFIG_SET_STRING = 1;
    public static final int FSCONFIG_SET_FD = 5;
    public static final int FSCONFIG_CMD_CREATE = 6;

    public static final long MS_RDONLY = 1;
    public static final long MS_NOSUID = 2;
    public static final long MS_NODEV = 4;
    public static final long MS_NOEXEC = 8;
    public static final long MS_REMOUNT = 32;
    public static final long MS_BIND = 4096;
    public static final long MS_REC = 16384;
    public static final long MS_PRIVATE = 1 << 18;
    public static final long MS_SLAVE = 1 << 19;
    public static final long MS_SHARED = 1 << 20;
    public static final long MS_UNBINDABLE = 1 << 17;

    public static final int MNT_DETACH = 2;
    /** umount2: do not follow a symlink at the target. */
    public static final int UMOUNT_NOFOLLOW = 8;

    public static final int F_DUPFD_CLOEXEC = 1030;
    public static final int F_SETFL = 4;
    public static final int LOCK_EX = 2;
    public static final int LOCK_NB = 4;

    public static final int AF_UNIX = 1;
    public static final int SOCK_STREAM = 1;
    public static final int SOCK_CLOEXEC = 0x80000;
    public static final int SOL_SOCKET = 1;
    public static final int SO_PEERCRED = 17;
    public static final int SO_RCVTIMEO = 20;
    /** getsockopt: a pidfd of the peer that connected (Linux 6.5+). */
    public static final int SO_PEERPIDFD = 77;
    public static final int SO_SNDTIMEO = 21;
    public static final int SO_SNDBUF = 7;
    public static final int SCM_RIGHTS = 1;
    /** The most fds one SCM_RIGHTS message may carry (include/net/scm.h). */
    public static final int SCM_MAX_FD = 253;
    public static final int MSG_CTRUNC = 0x8;
    public static final int MSG_NOSIGNAL = 0x4000;
    /** The hook channel's wake-up call to a launcher (harmless to a process that does not trap it). */
    public static final int SIGCONT = 18;
    public static final int SIGKILL = 9;
    public static final int MSG_CMSG_CLOEXEC = 0x4000_0000;

    public static final int CLONE_FS = 0x200;
    public static final int CLONE_NEWNS = 0x20000;
    public static final int CLONE_NEWUSER = 0x1000_0000;
}
