package dev.idshift.sys.namespaces;

import dev.idshift.sys.Linux;
import dev.idshift.sys.NativeMemory;
import dev.idshift.sys.SyscallTable;
import dev.idshift.sys.Syscalls;

/** Joining and leaving namespaces (setns, unshare) and asking the kernel about one (ioctl_ns). */
public final class NamespaceCalls {
    private static final NamespaceCalls INSTANCE = new NamespaceCalls();

    private NamespaceCalls() {
    }

    public static NamespaceCalls get() {
        return INSTANCE;
    }

    private static Syscalls sys() {
        return Syscalls.get();
    }

    public void setns(int fd, int nstype, String subject) {
        sys().checked(SyscallTable.SETNS, fd, nstype, 0, 0, 0, "setns", subject);
    }

    public void unshare(int flags) {
        sys().checked(SyscallTable.UNSHARE, flags, 0, 0, 0, 0, "unshare", "0x" + Integer.toHexString(flags));
    }

    /** ioctl(fd, NS_GET_PARENT): the parent of a user namespace, as a new fd (EPERM past the caller's own). */
    public int namespaceParent(int nsFd, String subject) {
        return (int) sys().checked(SyscallTable.IOCTL, nsFd, Linux.NS_GET_PARENT, 0, 0, 0, "ioctl NS_GET_PARENT", subject);
    }

    /** ioctl(fd, NS_GET_OWNER_UID): the uid (in the parent namespace's terms) that created a user namespace. */
    public long namespaceOwnerUid(int nsFd, String subject) {
        long uid = NativeMemory.allocate(4, true);
        try {
            sys().checked(SyscallTable.IOCTL, nsFd, Linux.NS_GET_OWNER_UID, uid, 0, 0, "ioctl NS_GET_OWNER_UID", subject);
            return NativeMemory.io().getInt(uid) & 0xFFFF_FFFFL;
        } finally {
            NativeMemory.free(uid);
        }
    }
}
