package dev.idshift.mount;

import dev.idshift.layout.Owner;
import dev.idshift.mount.kernel.Fd;
import dev.idshift.mount.kernel.IdmapUnsupportedException;
import dev.idshift.mount.kernel.IdmappedTrees;
import dev.idshift.mount.kernel.LayerMaps;
import dev.idshift.mount.kernel.MountInfo;
import dev.idshift.mount.kernel.MountMaps;
import dev.idshift.mount.kernel.ShiftedTree;
import dev.idshift.mount.kernel.UsernsPool;
import dev.idshift.mount.overlay.OverlayRebuild;
import dev.idshift.mount.overlay.OverlaySpec;
import dev.idshift.mount.overlay.OverlaySuperOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * The one choice every entry point makes (hook, precreate, {@code idshift mount}): a directory or
 * file gets an idmapped clone; an overlay mount, which the kernel will not idmap, is rebuilt over
 * idmapped clones of its layers; anything else throws {@link IdmapUnsupportedException}, on which
 * the caller may fall back to FUSE.
 */
public final class ShiftedTrees {
    private ShiftedTrees() {
    }

    /**
     * Reads the mount table of the calling thread's mount namespace.
     *
     * @param recursive clone a directory with its submounts (an overlay is rebuilt without any)
     */
    public static ShiftedTree make(String path, LayerMaps maps, UsernsPool namespaces, boolean recursive, boolean readonly) {
        OverlaySpec overlay = overlayAt(path);
        if (overlay != null) {
            Fd tree = OverlayRebuild.build(overlay, maps, namespaces, readonly);
            return new ShiftedTree(tree, false, describe(overlay));
        }
        MountMaps own = maps.of(path, owner(path));
        Fd tree = IdmappedTrees.cloneIdmapped(path, namespaces.forMaps(own).get(), recursive, readonly);
        return new ShiftedTree(tree, recursive, "kernel idmapped mount");
    }

    /**
     * The overlay mounted exactly at {@code path}, or null when {@code path} is not an overlay's
     * mount point. A bind of a subdirectory of an overlay cannot be rebuilt as a whole overlay.
     */
    public static OverlaySpec overlayAt(String path) {
        MountInfo.Mount mount = MountInfo.mountAt(path);
        if (mount == null || !mount.fsType().equals("overlay")) {
            return null;
        }
        if (!mount.root().equals("/")) {
            throw new IdmapUnsupportedException("the kernel will not idmap overlay " + path + ", and it is a bind of the overlay's"
                    + " subdirectory " + mount.root() + ", which cannot be rebuilt on its own");
        }
        return OverlaySuperOptions.parse(mount.superOptions(), path);
    }

    /** What {@code idshift maps}/{@code doctor} and the hook's log say for a rebuilt overlay. */
    public static String describe(OverlaySpec overlay) {
        return "overlay rebuilt on " + overlay.layerCount() + " idmapped layers (" + overlay.lowers().size() + " lower"
                + (overlay.dataLayers().isEmpty() ? "" : ", " + overlay.dataLayers().size() + " data-only")
                + (overlay.upper() == null ? ", no upper: read-only" : ", upper " + overlay.upper())
                + (overlay.settings().isEmpty() ? "" : "; options " + overlay.settings()) + ")";
    }

    private static Owner owner(String path) {
        try {
            return Owner.of(Path.of(path));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the owner of " + path + ": " + e.getMessage(), e);
        }
    }
}
