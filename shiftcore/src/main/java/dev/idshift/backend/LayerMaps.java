package dev.idshift.backend;

import dev.idshift.idmap.IdMap;
import dev.idshift.idmap.IdMapException;
import dev.idshift.layout.OnDiskLayout;
import dev.idshift.layout.Owner;
import dev.idshift.layout.ShiftPlan;
import dev.idshift.layout.ShiftPlanner;
import java.util.Optional;

/**
 * The maps for each tree a shift mounts: one directory, or each layer of an overlay, whose layers
 * may be stored differently (an image layer unshifted, an upper dir a tool chowned).
 */
public abstract class LayerMaps {

    /** @param rootOwner owner of the layer's root directory on the host */
    public abstract MountMaps of(String layer, Owner rootOwner);

    /** The same maps for every layer: what {@code idshift mount --uidmap} asks for. */
    public static LayerMaps fixed(IdMap uids, IdMap gids) {
        MountMaps maps = new MountMaps(uids, gids);
        return new LayerMaps() {
            @Override
            public MountMaps of(String layer, Owner rootOwner) {
                return maps;
            }
        };
    }

    /**
     * Each layer planned as {@code plan} was for the rootfs: the same container maps and explicit
     * on-disk maps, else the layout detected from the layer's own root directory.
     */
    public static LayerMaps like(ShiftPlan plan) {
        IdMap containerUids = plan.uid().containerMap();
        IdMap containerGids = plan.gid().containerMap();
        Optional<IdMap> explicitUids = explicit(plan.uid().layout());
        Optional<IdMap> explicitGids = explicit(plan.gid().layout());
        return new LayerMaps() {
            @Override
            public MountMaps of(String layer, Owner rootOwner) {
                ShiftPlan layerPlan;
                try {
                    layerPlan = ShiftPlanner.plan(containerUids, containerGids, rootOwner.uid(), rootOwner.gid(),
                            explicitUids, explicitGids, "annotation");
                } catch (IdMapException e) {
                    throw new IdMapException("layer " + layer + ": " + e.getMessage(), e);
                }
                return new MountMaps(layerPlan.uid().mountMap(), layerPlan.gid().mountMap());
            }
        };
    }

    private static Optional<IdMap> explicit(OnDiskLayout layout) {
        return layout.kind() == OnDiskLayout.Kind.EXPLICIT ? Optional.of(layout.containerToDisk()) : Optional.empty();
    }
}
