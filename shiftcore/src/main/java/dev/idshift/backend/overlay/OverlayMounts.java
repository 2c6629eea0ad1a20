package dev.idshift.backend.overlay;

import dev.idshift.backend.IdmapUnsupportedException;
import dev.idshift.backend.kernel.MountInfo;

/** Overlays as the mount table shows them: which path is one's mount point, its layers, and how idshift describes it. */
public final class OverlayMounts {
    private OverlayMounts() {
    }

    /** Whether an overlay is mounted exactly at {@code path} (the mount table only; its options are not read). */
    public static boolean isMountPoint(String path) {
        MountInfo.Mount mount = MountInfo.mountAt(path);
        return mount != null && mount.fsType().equals("overlay");
    }

    /**
     * The overlay mounted exactly at {@code path}, or null when {@code path} is not an overlay's
     * mount point. A bind of a subdirectory of an overlay cannot be rebuilt as a whole overlay.
     */
    public static OverlaySpec at(String path) {
        return of(MountInfo.mountAt(path), path);
    }

    /**
     * The same decision for a mount another process sees ({@code mount} from its mountinfo, e.g.
     * the daemon's caller's): null unless it is an overlay, whose layers are then named as that
     * process sees them.
     */
    public static OverlaySpec of(MountInfo.Mount mount, String path) {
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
}
