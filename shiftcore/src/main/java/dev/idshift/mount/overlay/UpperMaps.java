package dev.idshift.mount.overlay;

import dev.idshift.idmap.IdExtent;
import dev.idshift.idmap.IdMap;
import dev.idshift.mount.kernel.MountMaps;
import java.util.ArrayList;
import java.util.List;

/**
 * The maps of an overlay's upper dir. The overlay is mounted by host root and does its own work
 * (work dir, whiteouts, copy-up temporaries) as host root: with only the container's extent in
 * the upper's map, host 0 has no on-disk id and the kernel refuses (EOVERFLOW, the overlay comes
 * up read-only). So one spare on-disk id, one the container's extent does not use, is mapped to
 * host 0: the lowest on-disk id outside the map (65536 for an unshifted 0-65535 container, 0 for
 * a tree stored at an offset). The container cannot reach it (host 0 is not in its namespace);
 * on disk, the overlay's own files show that id.
 */
public final class UpperMaps {
    private UpperMaps() {
    }

    public static MountMaps withSpareRoot(MountMaps layer) {
        return new MountMaps(withSpareRoot(layer.uids()), withSpareRoot(layer.gids()));
    }

    /** {@code onDiskToHost} plus spare -> 0, unless host 0 already has an on-disk id in it. */
    static IdMap withSpareRoot(IdMap onDiskToHost) {
        if (onDiskToHost.toInside(0) >= 0) {
            return onDiskToHost;
        }
        List<IdExtent> extents = new ArrayList<>(onDiskToHost.extents());
        extents.add(new IdExtent(spare(onDiskToHost), 0, 1));
        return IdMap.of(extents);
    }

    /** The lowest on-disk id the map does not cover. */
    static long spare(IdMap onDiskToHost) {
        long candidate = 0;
        boolean moved = true;
        while (moved) {
            moved = false;
            for (IdExtent extent : onDiskToHost.extents()) {
                if (candidate >= extent.inside() && candidate < extent.insideEnd()) {
                    candidate = extent.insideEnd();
                    moved = true;
                }
            }
        }
        return candidate;
    }
}
