package dev.idshift.layout;

import dev.idshift.idmap.IdMap;
import java.util.Optional;

/**
 * Chooses each axis's on-disk layout (explicit map if given, else detected from the root
 * directory's owner) and derives the mount maps.
 */
public final class ShiftPlanner {
    private ShiftPlanner() {
    }

    /**
     * @param explicitUid container->disk uid map from an annotation or option, if any
     * @param explicitGid the same for gids
     * @param origin      names where explicit maps came from, for the reason text
     */
    public static ShiftPlan plan(IdMap containerUids, IdMap containerGids, long rootUid, long rootGid,
                                 Optional<IdMap> explicitUid, Optional<IdMap> explicitGid, String origin) {
        OnDiskLayout uidLayout = explicitUid.isPresent()
                ? LayoutDetector.explicit(explicitUid.get(), origin)
                : LayoutDetector.detect(rootUid, containerUids, "uid");
        OnDiskLayout gidLayout = explicitGid.isPresent()
                ? LayoutDetector.explicit(explicitGid.get(), origin)
                : LayoutDetector.detect(rootGid, containerGids, "gid");
        return new ShiftPlan(AxisPlan.of(containerUids, uidLayout), AxisPlan.of(containerGids, gidLayout));
    }
}
