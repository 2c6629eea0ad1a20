package dev.idshift.backend;

import dev.idshift.idmap.IdMap;

/**
 * What one idmapped mount carries: on-disk id -> host id, for uids and gids.
 *
 * <p>equals/hashCode by hand (a record's generated ones bootstrap through invokedynamic, which
 * the hook's start-up avoids); the kernel backend's UsernsPool keys on them.
 */
public record MountMaps(IdMap uids, IdMap gids) {

    /** On disk as on the host: a plain clone will do, no idmap. */
    public boolean isIdentity() {
        return uids.isIdentity() && gids.isIdentity();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof MountMaps && ((MountMaps) other).uids.equals(uids) && ((MountMaps) other).gids.equals(gids);
    }

    @Override
    public int hashCode() {
        return uids.hashCode() * 31 + gids.hashCode();
    }

    @Override
    public String toString() {
        return "uids " + uids + ", gids " + gids;
    }
}
