package dev.idshift.mount.kernel;

import dev.idshift.idmap.IdMap;
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
    public static void mount(String source, String target, IdMap uidMap, IdMap gidMap, boolean readonly) {
        try (Fd userns = UserNamespaces.createWithMaps(uidMap, gidMap);
             Fd tree = IdmappedTrees.cloneIdmapped(source, userns.get(), false, readonly)) {
            IdmappedTrees.attach(tree, target);
        }
    }

    public static void unmount(String target, boolean lazy) {
        Syscalls.get().umount2(target, lazy ? Linux.MNT_DETACH : 0);
    }
}
