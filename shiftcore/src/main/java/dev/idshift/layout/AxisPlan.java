package dev.idshift.layout;

import dev.idshift.idmap.IdMap;

/**
 * The plan for one kind of id (uids or gids).
 *
 * @param containerMap container id -> host id (the container's user namespace)
 * @param layout       container id -> on-disk id, and why
 * @param mountMap     on-disk id -> host id: what the idmapped mount's user namespace must map
 */
public record AxisPlan(IdMap containerMap, OnDiskLayout layout, IdMap mountMap) {

    /** mountMap = invert(containerToDisk) then containerMap. */
    public static AxisPlan of(IdMap containerMap, OnDiskLayout layout) {
        IdMap mountMap = layout.containerToDisk().invert().andThen(containerMap);
        if (mountMap.isEmpty()) {
            throw new dev.idshift.idmap.IdMapException("on-disk map " + layout.containerToDisk()
                    + " shares no container ids with the container's map " + containerMap);
        }
        return new AxisPlan(containerMap, layout, mountMap);
    }

    /** On disk as on the host already: a mount would change nothing. */
    public boolean isNoop() {
        return mountMap.isIdentity();
    }
}
