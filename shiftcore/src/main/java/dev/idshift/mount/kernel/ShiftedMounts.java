package dev.idshift.mount.kernel;

import dev.idshift.idmap.IdMap;
import dev.idshift.mount.MountAccess;
import dev.idshift.sys.Linux;
import dev.idshift.sys.Syscalls;

/** Shifted mounts of a directory for people (shiftfs-style), in the caller's mount namespace. */
public final class ShiftedMounts {
    private ShiftedMounts() {
    }

    /**
     * Mounts {@code source} at {@code target} so that on-disk ids appear mapped through
     * {@code uidMap}/{@code gidMap} (on-disk id -> shown id); writes map back. Only the source's
     * own mount is shifted (like a non-recursive bind).
     */
    public static void mount(String source, String target, IdMap uidMap, IdMap gidMap, MountAccess access) {
        try (Fd userns = UserNamespaces.createWithMaps(uidMap, gidMap);
             Fd tree = IdmappedTrees.cloneIdmapped(source, userns.get(), false, access.readonly())) {
            restrict(tree, access, target);
            IdmappedTrees.attach(tree, target);
        }
    }

    /**
     * Sets nosuid/nodev on a detached tree before it is attached, as {@code access} asks: the view
     * never appears, not even for a moment, with more than was asked for.
     */
    public static void restrict(Fd tree, MountAccess access, String subject) {
        long attributes = access.kernelAttributes() & (Linux.MOUNT_ATTR_NOSUID | Linux.MOUNT_ATTR_NODEV);
        if (attributes != 0) {
            Syscalls.get().mountSetattr(tree.get(), "", Linux.AT_EMPTY_PATH, attributes, 0, 0, 0, subject);
        }
    }

    public static void unmount(String target, boolean lazy) {
        Syscalls.get().umount2(target, lazy ? Linux.MNT_DETACH : 0);
    }
}
