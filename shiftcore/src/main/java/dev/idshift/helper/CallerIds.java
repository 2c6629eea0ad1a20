package dev.idshift.helper;

import dev.idshift.sys.ProcFiles;
import dev.idshift.idmap.IdExtent;
import dev.idshift.idmap.IdMap;
import dev.idshift.idmap.IdMapParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The host ids a caller already owns, decided from the kernel's facts about the peer process, never
 * from what the request claims:
 * <ul>
 *   <li>host root (uid 0 in the host's user namespace): every id;</li>
 *   <li>everyone else: its own host uid/gid and the /etc/subuid and /etc/subgid ranges of that uid
 *       (what newuidmap would let it map anyway), plus, inside a user namespace (a container, or
 *       `unshare -U`), the host ids that namespace maps, read from /proc/PID/uid_map by us (so in
 *       host terms).</li>
 * </ul>
 *
 * @param everything      host root
 * @param inUserNamespace the caller runs in a user namespace other than the host's
 * @param hostUid         the caller's uid as the host sees it (SO_PEERCRED)
 * @param uids            owned host uids as identity extents (when not everything)
 * @param gids            owned host gids likewise
 */
public record CallerIds(boolean everything, boolean inUserNamespace, long hostUid, List<IdExtent> uids, List<IdExtent> gids) {

    public static CallerIds of(long pid, long hostUid, long hostGid, Path etc) {
        boolean inUserNamespace = !sameUserNamespaceAsUs(pid);
        if (hostUid == 0 && !inUserNamespace) {
            return new CallerIds(true, false, 0, List.of(), List.of());
        }
        String name = SubordinateIds.userName(etc.resolve("passwd"), hostUid);
        List<IdExtent> uids = new ArrayList<>(SubordinateIds.rangesOf(etc.resolve("subuid"), name, hostUid));
        uids.add(new IdExtent(hostUid, hostUid, 1));
        List<IdExtent> gids = new ArrayList<>(SubordinateIds.rangesOf(etc.resolve("subgid"), name, hostUid));
        gids.add(new IdExtent(hostGid, hostGid, 1));
        if (inUserNamespace) {
            uids.addAll(outsideRanges(pid, "uid_map"));
            gids.addAll(outsideRanges(pid, "gid_map"));
        }
        return new CallerIds(false, inUserNamespace, hostUid, uids, gids);
    }
    /** The first host id of {@code map} (its outside ranges) that the caller does not own, or -1. */
    public long firstUnownedUid(IdMap map) {
        return everything ? -1 : firstUnowned(map, uids);
    }

    public long firstUnownedGid(IdMap map) {
        return everything ? -1 : firstUnowned(map, gids);
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

    private static boolean sameUserNamespaceAsUs(long pid) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/user")).equals(Files.readSymbolicLink(Path.of("/proc/self/ns/user")));
        } catch (IOException e) {
            throw new IllegalStateException("cannot inspect the caller (pid " + pid + "): " + e.getMessage(), e);
        }
    }

    private static List<IdExtent> outsideRanges(long pid, String file) {
        try {
            IdMap map = IdMapParser.parseProcMap(ProcFiles.read("/proc/" + pid + "/" + file));
            List<IdExtent> ranges = new ArrayList<>();
            for (IdExtent extent : map.extents()) {
                ranges.add(new IdExtent(extent.outside(), extent.outside(), extent.count()));
            }
            return ranges;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/" + pid + "/" + file + ": " + e.getMessage(), e);
        }
    }
}
