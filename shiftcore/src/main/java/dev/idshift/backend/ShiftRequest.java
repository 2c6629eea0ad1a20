package dev.idshift.backend;

import dev.idshift.failure.KernelRefusedException;
import dev.idshift.layout.Owner;
import dev.idshift.sys.Fd;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A tree to shift and how its shifted mount must come out: what every backend is given.
 *
 * @param path        the tree as this process names it, and what messages name; with {@code opened}, a name only
 * @param opened      the tree already opened (O_PATH) and authorised (the daemon's, beneath a mark), or null:
 *                    a backend then shifts exactly what this fd is, whatever {@code path} names by now
 * @param shape       directory, file or overlay mount point: which backends may serve it
 * @param maps        the mount maps of each tree the shift mounts (a rebuilt overlay's layers may each differ)
 * @param access      read-only or not, setuid files and device nodes working or not, on the shifted mount
 * @param recursive   clone the tree with the mounts beneath it (a rebuilt overlay or a FUSE view has none)
 * @param submountsOf the process in whose mount namespace those mounts are (a container's init: the runtime
 *                    mounted /proc, /dev and binds there); 0: this process's own
 */
public record ShiftRequest(String path, Fd opened, TreeShape shape, LayerMaps maps, MountAccess access, boolean recursive,
                           long submountsOf) {

    /** {@code path}'s own mount, shifted, without the mounts beneath it. */
    public static ShiftRequest of(String path, TreeShape shape, LayerMaps maps, MountAccess access) {
        return new ShiftRequest(path, null, shape, maps, access, false, 0);
    }

    /** A directory already opened and authorised ({@code subject} names it in messages). */
    public static ShiftRequest ofOpened(Fd opened, String subject, LayerMaps maps, MountAccess access) {
        return new ShiftRequest(subject, opened, TreeShape.DIRECTORY, maps, access, false, 0);
    }

    /** The same, cloned with the mounts beneath it, as this process's mount namespace has them. */
    public ShiftRequest withSubmounts() {
        return withSubmountsOf(0);
    }

    /** The same, cloned with the mounts beneath it as {@code pid}'s mount namespace has them (0: ours). */
    public ShiftRequest withSubmountsOf(long pid) {
        return new ShiftRequest(path, opened, shape, maps, access, true, pid);
    }

    /** The tree as a path this process can open: {@code opened}'s /proc link where there is one. */
    public String reachablePath() {
        return opened == null ? path : "/proc/" + ProcessHandle.current().pid() + "/fd/" + opened.get();
    }

    /** The mount maps of the tree's own root: its maps planned for the owner of its root directory. */
    public MountMaps rootMaps() {
        try {
            return maps.of(path, Owner.of(Path.of(reachablePath())));
        } catch (IOException e) {
            throw new KernelRefusedException("cannot read the owner of " + path + ": " + e.getMessage(), e);
        }
    }
}
