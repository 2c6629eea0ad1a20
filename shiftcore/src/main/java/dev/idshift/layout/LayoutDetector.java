package dev.idshift.layout;

import dev.idshift.idmap.IdExtent;
import dev.idshift.idmap.IdMap;
import dev.idshift.idmap.IdMapException;
import java.util.ArrayList;
import java.util.List;

/**
 * Works out a tree's on-disk layout from the owner of its root directory: owned by the id the
 * container's root maps to means already shifted; owned by 0, unshifted; owned by any other id B,
 * stored at offset B (container id c on disk as B+c).
 */
public final class LayoutDetector {
    private LayoutDetector() {
    }

    /**
     * @param rootOwner    owner (uid or gid) of the tree's root directory, as a host id
     * @param containerMap the container's map for the same kind of id (container -> host)
     * @param kind         "uid" or "gid", for the reason text
     */
    public static OnDiskLayout detect(long rootOwner, IdMap containerMap, String kind) {
        long hostRoot = containerMap.toOutside(0);
        if (rootOwner == hostRoot) {
            return new OnDiskLayout(OnDiskLayout.Kind.ALREADY_SHIFTED, containerMap,
                    "root dir " + kind + " " + rootOwner + " is the container's root " + kind + " on the host: already shifted");
        }
        if (rootOwner == 0) {
            return new OnDiskLayout(OnDiskLayout.Kind.UNSHIFTED, IdMap.identityOver(containerMap),
                    "root dir " + kind + " is 0: stored unshifted (container id = on-disk id)");
        }
        return new OnDiskLayout(OnDiskLayout.Kind.OFFSET, offset(rootOwner, containerMap),
                "root dir " + kind + " is " + rootOwner + ": stored at offset " + rootOwner + " (container id c = on-disk id " + rootOwner + "+c)");
    }

    /** Container id c stored as base+c, over the container's own id ranges. */
    public static IdMap offset(long base, IdMap containerMap) {
        List<IdExtent> extents = new ArrayList<>();
        for (IdExtent extent : containerMap.extents()) {
            long disk = base + extent.inside();
            if (disk + extent.count() > IdMap.INVALID_ID) {
                throw new IdMapException("on-disk offset " + base + " puts container ids " + extent.inside() + "-"
                        + (extent.insideEnd() - 1) + " past id 4294967294");
            }
            extents.add(new IdExtent(extent.inside(), disk, extent.count()));
        }
        return IdMap.of(extents);
    }

    public static OnDiskLayout explicit(IdMap containerToDisk, String origin) {
        return new OnDiskLayout(OnDiskLayout.Kind.EXPLICIT, containerToDisk, "given by " + origin);
    }
}
