package dev.idshift.backend.fuse;

import dev.idshift.idmap.IdMap;

/**
 * The FUSE backend's id mapping, both ways: on-disk ids are shown as host ids, and host ids (a
 * caller's, a chown's) are stored as the on-disk ids they map back to; a host id with no on-disk id
 * cannot be stored.
 *
 * <p>An unmapped on-disk id is shown as (uint32) -1, which the kernel takes as no id at all
 * (INVALID_UID): {@code stat} shows the overflow id, as through an idmapped mount, and no process
 * owns or is in the group of such a file. Shown as the overflow id 65534 itself, it made host uid
 * 65534 ({@code nobody}) the owner: it read a 0600 file of on-disk uid 70000 and chmodded it on disk
 * (FuseAttackTest).
 *
 * @param uids on-disk uid -> host uid (the same map the kernel backend gives an idmapped mount)
 * @param gids on-disk gid -> host gid
 */
public record IdTranslation(IdMap uids, IdMap gids) {
    /** The host uid of {@code diskUid}, or {@link IdMap#INVALID_ID} (no one) when it has none. */
    public long hostUid(long diskUid) {
        long host = uids.toOutside(diskUid);
        return host < 0 ? IdMap.INVALID_ID : host;
    }

    /** The host gid of {@code diskGid}, or {@link IdMap#INVALID_ID} (no group) when it has none. */
    public long hostGid(long diskGid) {
        long host = gids.toOutside(diskGid);
        return host < 0 ? IdMap.INVALID_ID : host;
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
