package dev.idshift.daemon;

import dev.idshift.marks.CallerProcess;
import dev.idshift.sys.Fd;
import dev.idshift.sys.namespaces.UserNamespaceOwner;

/**
 * Who a connection counts against, for the daemon's per-principal connection cap: a host user, or a
 * container made by host root. Any user can make user namespaces, so they all count as that user:
 *
 * <ul>
 *   <li>a caller in the host's user namespace: its host uid (0 is host root, which has a reserve);
 *   <li>a caller in a user namespace whose top-level ancestor a host user created: that user;
 *   <li>a caller in one host root created (a root runtime's container): that top-level namespace,
 *       one principal per container, whatever it nests below.
 * </ul>
 *
 * @param key        "uid:N" or "userns:INODE"
 * @param hostRoot   host root in the host's user namespace (the reserve is for it)
 */
record Principal(String key, boolean hostRoot) {
    /** @throws RuntimeException when the peer has exited already (its pid may name another process) */
    static Principal of(CallerProcess peer) {
        UserNamespaceOwner owner;
        try (Fd procDir = peer.procDir()) {
            owner = CallerProcess.namespaceOwner(procDir);
        }
        if (owner.host()) {
            return new Principal("uid:" + peer.uid(), peer.uid() == 0);
        }
        if (owner.creatorUid() != 0) {
            return new Principal("uid:" + owner.creatorUid(), false);
        }
        return new Principal("userns:" + owner.topLevel(), false);
    }

    @Override
    public String toString() {
        return key;
    }
}
