package dev.idshift.shift;

import dev.idshift.layout.Owner;
import dev.idshift.sys.Fd;
import dev.idshift.backend.kernel.IdmapProbe;
import dev.idshift.backend.IdmapUnsupportedException;
import dev.idshift.backend.kernel.IdmappedTrees;
import dev.idshift.backend.kernel.LayerMaps;
import dev.idshift.backend.kernel.MountInfo;
import dev.idshift.backend.kernel.MountMaps;
import dev.idshift.backend.ShiftedTree;
import dev.idshift.backend.kernel.UsernsPool;
import dev.idshift.backend.overlay.OverlayRebuild;
import dev.idshift.backend.overlay.OverlaySpec;
import dev.idshift.backend.overlay.OverlaySuperOptions;
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
        Fd tree = IdmappedTrees.kernel().cloneIdmapped(path, namespaces.forMaps(own).get(), recursive, readonly);
        return new ShiftedTree(tree, recursive, "kernel idmapped mount");
    }

    /**
     * The overlay mounted exactly at {@code path}, or null when {@code path} is not an overlay's
     * mount point. A bind of a subdirectory of an overlay cannot be rebuilt as a whole overlay.
     */
    public static OverlaySpec overlayAt(String path) {
        return overlayOf(MountInfo.mountAt(path), path);
    }

    /**
     * The same decision for a mount another process sees ({@code mount} from its mountinfo, e.g.
     * the daemon's caller's): null unless it is an overlay, whose layers are then named as that
     * process sees them.
     */
    public static OverlaySpec overlayOf(MountInfo.Mount mount, String path) {
        if (mount == null || !mount.fsType().equals("overlay")) {
            return null;
        }
        if (!mount.root().equals("/")) {
            throw new IdmapUnsupportedException("the kernel will not idmap overlay " + path + ", and it is a bind of the overlay's"
                    + " subdirectory " + mount.root() + ", which cannot be rebuilt on its own");
        }
        return OverlaySuperOptions.parse(mount.superOptions(), path);
    }

    /** Which way a shift of a tree would go, and why: for {@code idshift maps} and {@code doctor}. */
    public record Way(boolean kernel, String why) {
    }

    /**
     * The way {@link #make} would take for {@code path}, found without mounting anything: an
     * overlay's layers are each probed for idmap support.
     */
    public static Way wayFor(String path) {
        OverlaySpec overlay;
        try {
            overlay = overlayAt(path);
        } catch (IdmapUnsupportedException e) {
            return new Way(false, "FUSE: " + e.getMessage());
        } catch (UnsupportedOperationException e) {
            return new Way(false, "refused (kernel and auto backends): " + e.getMessage());
        }
        if (overlay == null) {
            IdmapProbe.Result probe = IdmapProbe.probe(path);
            return new Way(probe.supported(), probe.supported() ? "kernel idmapped mount (" + probe.detail() + ")"
                    : "FUSE: " + probe.detail());
        }
        java.util.List<String> layers = new java.util.ArrayList<>(overlay.lowers());
        layers.addAll(overlay.dataLayers());
        if (overlay.upper() != null) {
            layers.add(overlay.upper());
        }
        for (String layer : layers) {
            IdmapProbe.Result probe = IdmapProbe.probe(layer);
            if (!probe.supported()) {
                return new Way(false, "FUSE: overlay " + path + ": layer " + layer + ": " + probe.detail());
            }
        }
        return new Way(true, describe(overlay) + "; the kernel will not idmap an overlay itself, but idmaps each of its layers");
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
