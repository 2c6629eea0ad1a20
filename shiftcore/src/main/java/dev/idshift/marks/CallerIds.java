package dev.idshift.marks;

import dev.idshift.idmap.IdExtent;
import dev.idshift.idmap.IdMap;
import dev.idshift.idmap.IdMapParser;
import dev.idshift.sys.Fd;
import dev.idshift.sys.files.ProcFiles;
import dev.idshift.sys.namespaces.NamespaceFiles;
import dev.idshift.sys.namespaces.UserNamespaceOwner;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Who the caller is, and the host ids it already owns, decided from the kernel's facts about the
 * peer process, never from what the request claims. Being in a user namespace proves nothing (any
 * user can make one); who created it does (see {@link UserNamespaceOwner}):
 * <ul>
 *   <li>{@link Kind#HOST_ROOT}: uid 0 in the host's user namespace. Every id.</li>
 *   <li>{@link Kind#CONTAINER}: root (euid 0 inside) of the top-level user namespace of a chain host
 *       root created (a container of a root-run runtime). A non-root process there, or any process
 *       in a namespace nested below it, is a {@link Kind#USER} with only its own host uid and gid. The host ids its namespace maps (/proc/PID/uid_map and
 *       gid_map, read by us, so in host terms): root chose them for it.</li>
 *   <li>{@link Kind#USER}: anyone else is the host user accountable for it: its own uid in the
 *       host's namespace, or the uid that created its namespace's chain (`unshare -U`, newuidmap, a
 *       rootless runtime). That user's uid and its /etc/subuid and /etc/subgid ranges (what
 *       newuidmap would let it map anyway), and the peer's own uid and gid. A namespace it made can
 *       only map ids among those, so what the namespace maps adds nothing.</li>
 * </ul>
 *
 * @param kind    which of the three
 * @param hostUid the accountable host uid: the peer's uid for HOST_ROOT and CONTAINER, the user for USER
 * @param uids    owned host uids as identity extents (unused for HOST_ROOT)
 * @param gids    owned host gids likewise
 */
public record CallerIds(Kind kind, long hostUid, List<IdExtent> uids, List<IdExtent> gids) {

    /** The three kinds of caller; see the class comment. */
    public enum Kind { HOST_ROOT, CONTAINER, USER }

    /** Where a caller's ids come from: the daemon's /etc, and the caller's own /proc/PID. */
    interface IdSources {
        List<IdExtent> subuids(long uid);

        List<IdExtent> subgids(long uid);

        /** The host ids the caller's user namespace maps (uid_map's outside ranges). */
        List<IdExtent> mappedUids();

        List<IdExtent> mappedGids();

        /** The host uid that uid 0 of the caller's user namespace is (-1: unmapped). */
        long namespaceRootUid();

        /** The inode of the caller's own user namespace (nsfs), to compare with the chain's top level. */
        long namespaceInode();
    }

    /**
     * The caller whose /proc/PID is {@code procDir} (from {@link CallerProcess#procDir()}), with
     * SO_PEERCRED's host uid and gid; /etc files from {@code etc}.
     */
    public static CallerIds of(Fd procDir, long peerUid, long peerGid, Path etc) {
        return decide(CallerProcess.namespaceOwner(procDir), peerUid, peerGid, new IdSources() {
            private String name;
            private boolean named;

            @Override
            public List<IdExtent> subuids(long uid) {
                return SubordinateIds.rangesOf(etc.resolve("subuid"), nameOf(uid), uid);
            }

            @Override
            public List<IdExtent> subgids(long uid) {
                return SubordinateIds.rangesOf(etc.resolve("subgid"), nameOf(uid), uid);
            }

            /** decide() asks about one uid only: /etc/passwd is read once. */
            private String nameOf(long uid) {
                if (!named) {
                    name = SubordinateIds.userName(etc.resolve("passwd"), uid); // null: no such user, by uid only
                    named = true;
                }
                return name;
            }

            @Override
            public List<IdExtent> mappedUids() {
                return outsideRanges(procDir, "uid_map");
            }

            @Override
            public List<IdExtent> mappedGids() {
                return outsideRanges(procDir, "gid_map");
            }

            @Override
            public long namespaceRootUid() {
                return namespaceMap(procDir, "uid_map").toOutside(0);
            }

            @Override
            public long namespaceInode() {
                return NamespaceFiles.inode("/proc/self/fd/" + procDir.get() + "/ns/user", "the caller's ns/user");
            }
        });
    }

    /** The decision itself, from the facts: see the class comment. */
    static CallerIds decide(UserNamespaceOwner namespace, long peerUid, long peerGid, IdSources sources) {
        if (namespace.host() && peerUid == 0) {
            return new CallerIds(Kind.HOST_ROOT, 0, List.of(), List.of());
        }
        if (!namespace.host() && namespace.creatorUid() == 0) {
            if (peerUid == sources.namespaceRootUid() && sources.namespaceInode() == namespace.topLevel()) {
                return new CallerIds(Kind.CONTAINER, peerUid, sources.mappedUids(), sources.mappedGids());
            }
            // A non-root process in a root-run container is not the container: it cannot become the other
            // ids its namespace maps, so it is a user of its own host uid and gid (and not root's subids).
            // Nor is the root of a namespace nested below the container's: any process there may have
            // made it (`unshare -Ur`). The container's root asks from the container's own namespace
            // (a nested runtime's hook runs there).
            return new CallerIds(Kind.USER, peerUid, List.of(new IdExtent(peerUid, peerUid, 1)),
                    List.of(new IdExtent(peerGid, peerGid, 1)));
        }
        long user = namespace.host() ? peerUid : namespace.creatorUid();
        List<IdExtent> uids = new ArrayList<>(sources.subuids(user));
        uids.add(new IdExtent(user, user, 1));
        uids.add(new IdExtent(peerUid, peerUid, 1));
        List<IdExtent> gids = new ArrayList<>(sources.subgids(user));
        gids.add(new IdExtent(peerGid, peerGid, 1));
        return new CallerIds(Kind.USER, user, uids, gids);
    }

    /** The first host id of {@code map} (its outside ranges) that the caller does not own, or -1. */
    public long firstUnownedUid(IdMap map) {
        return kind == Kind.HOST_ROOT ? -1 : firstUnowned(map, uids);
    }

    public long firstUnownedGid(IdMap map) {
        return kind == Kind.HOST_ROOT ? -1 : firstUnowned(map, gids);
    }

    private static long firstUnowned(IdMap map, List<IdExtent> owned) {
        for (IdExtent extent : map.extents()) {
            long id = extent.outside();
            long end = extent.outsideEnd();
            while (id < end) {
                IdExtent covering = null;
                for (IdExtent range : owned) {
                    if (id >= range.outside() && id < range.outsideEnd()) {
                        covering = range;
                        break;
                    }
                }
                if (covering == null) {
                    return id;
                }
                id = covering.outsideEnd();
            }
        }
        return -1;
    }

    /** The caller's user namespace -> host map (identity for a caller in the host's namespace). */
    public static IdMap namespaceMap(Fd procDir, String file) {
        return IdMapParser.parseProcMap(ProcFiles.readAt(procDir.get(), file, "the caller's " + file));
    }

    private static List<IdExtent> outsideRanges(Fd procDir, String file) {
        List<IdExtent> ranges = new ArrayList<>();
        for (IdExtent extent : namespaceMap(procDir, file).extents()) {
            ranges.add(new IdExtent(extent.outside(), extent.outside(), extent.count()));
        }
        return ranges;
    }
}
