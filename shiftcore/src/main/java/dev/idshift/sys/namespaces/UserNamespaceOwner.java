package dev.idshift.sys.namespaces;

import dev.idshift.sys.Linux;
import dev.idshift.sys.SyscallException;
import dev.idshift.sys.Syscalls;
import dev.idshift.sys.files.FileSyscalls;

/**
 * Who a user namespace belongs to, as the host sees it. Any user can create a user namespace and be
 * root in it, so "the caller is in a user namespace" says nothing about what it may do on the host.
 * What does: the host uid that created the top-level namespace of its chain (the ancestor whose
 * parent is ours). A container made by a root-run runtime has a chain created by host root (0); one
 * made by `unshare -U`, newuidmap or a rootless runtime, by that user. The kernel records it
 * (NS_GET_OWNER_UID) and nothing the namespace's members do can change it.
 *
 * @param host       the namespace is our own (the host's): there is no chain to walk
 * @param creatorUid the host uid that created the top-level namespace of the chain (0 = root; -1 when host)
 * @param topLevel   the inode of that top-level namespace (nsfs): one per container of a root runtime,
 *                   whatever namespaces its processes nest below it (0 when host)
 */
public record UserNamespaceOwner(boolean host, long creatorUid, long topLevel) {
    public static final UserNamespaceOwner HOST = new UserNamespaceOwner(true, -1, 0);

    /** Whether the namespace is the host's or was created, at its top level, by host root. */
    public boolean hostRoot() {
        return host || creatorUid == 0;
    }

    /** The owner of the user namespace {@code nsFd} (an fd of /proc/PID/ns/user); the fd stays open. */
    public static UserNamespaceOwner of(int nsFd, String subject) {
        NamespaceCalls namespaces = NamespaceCalls.get();
        Syscalls sys = Syscalls.get();
        long ours = inode("/proc/self/ns/user", subject);
        if (fdInode(nsFd, subject) == ours) {
            return HOST;
        }
        // Walk up until the parent is our namespace. The first fd is the caller's, not ours to close.
        int current = nsFd;
        try {
            for (int depth = 0; depth < 64; depth++) { // the kernel nests at most 32 deep
                int parent;
                try {
                    parent = namespaces.namespaceParent(current, subject);
                } catch (SyscallException outsideOurs) {
                    // EPERM: the namespace is not below ours (we are not in the host's). Refuse to guess.
                    throw new SyscallException("ioctl NS_GET_PARENT", subject + " (not below this process's user namespace)",
                            outsideOurs.errno());
                }
                boolean parentIsOurs = fdInode(parent, subject) == ours;
                if (parentIsOurs) {
                    sys.close(parent);
                    return new UserNamespaceOwner(false, namespaces.namespaceOwnerUid(current, subject), fdInode(current, subject));
                }
                if (current != nsFd) {
                    sys.close(current);
                }
                current = parent;
            }
            throw new IllegalStateException(subject + ": user namespace chain deeper than 64");
        } finally {
            if (current != nsFd) {
                sys.close(current);
            }
        }
    }

    /** The owner of PID's user namespace. */
    public static UserNamespaceOwner ofPid(long pid) {
        String path = "/proc/" + pid + "/ns/user";
        FileSyscalls sys = FileSyscalls.get();
        int fd = sys.open(path, Linux.O_RDONLY);
        try {
            return of(fd, path);
        } finally {
            sys.close(fd);
        }
    }

    private static long fdInode(int fd, String subject) {
        return inode("/proc/self/fd/" + fd, subject);
    }

    private static long inode(String path, String subject) {
        return NamespaceFiles.inode(path, subject);
    }
}
