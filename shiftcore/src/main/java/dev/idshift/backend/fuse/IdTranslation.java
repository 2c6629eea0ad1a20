package dev.idshift.backend.fuse;

import dev.idshift.idmap.IdMap;

/**
 * The FUSE backend's id mapping, both ways: on-disk ids are shown as host ids (unmapped: the
 * overflow id, as the kernel shows them), and host ids (a caller's, a chown's) are stored as the
 * on-disk ids they map back to; a host id with no on-disk id cannot be stored.
 *
 * @param uids on-disk uid -> host uid (the same map the kernel backend gives an idmapped mount)
 * @param gids on-disk gid -> host gid
 */
public record IdTranslation(IdMap uids, IdMap gids) {
    public long hostUid(long diskUid) {
        return uids.toOutsideOrOverflow(diskUid);
    }

    public long hostGid(long diskGid) {
        return gids.toOutsideOrOverflow(diskGid);
    }

    /** The on-disk uid of {@code hostUid}, or -1 when it has none (IdMap.toInside). */
    public long diskUid(long hostUid) {
        return uids.toInside(hostUid);
    }

    /** The on-disk gid of {@code hostGid}, or -1 when it has none. */
    public long diskGid(long hostGid) {
        return gids.toInside(hostGid);
    }
}
