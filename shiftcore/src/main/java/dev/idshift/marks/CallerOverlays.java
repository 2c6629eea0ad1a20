package dev.idshift.marks;

import dev.idshift.failure.UnsupportedException;
import dev.idshift.layout.Owner;
import dev.idshift.backend.overlay.OverlayMounts;
import dev.idshift.sys.Fd;
import dev.idshift.backend.LayerMaps;
import dev.idshift.backend.kernel.MountInfo;
import dev.idshift.backend.MountMaps;
import dev.idshift.backend.overlay.OverlayLayers;
import dev.idshift.backend.overlay.OverlaySpec;
import dev.idshift.sys.files.ProcFiles;
import java.nio.file.Path;
import java.util.List;

/**
 * The daemon's overlay source: an overlay the caller mounted (a nested runtime's rootfs), rebuilt
 * by the engine's overlay backend on idmapped clones of its layers as for the hook, but for a caller
 * less privileged than the daemon, so nothing the caller says is taken on trust:
 * <ul>
 *   <li>the overlay and its layer paths come from the caller's own mountinfo, read through its
 *       pinned /proc/PID, never by pid again; the mount found must be the one SOURCE opens to;</li>
 *   <li>each layer, and the parent of the upper and work dirs, is resolved as the caller sees it
 *       and authorised beneath a mark the caller may use exactly as a directory SOURCE is
 *       ({@link Authorizer#resolve}); the fd that passed is the fd cloned ({@link #layers});</li>
 *   <li>each layer's maps must name only host ids the caller owns ({@link #ownedBy});</li>
 *   <li>the rebuilt overlay decodes no file handle (overlay.origin) the caller wrote, as the
 *       caller's own overlay decodes none, nor passes disk quotas or reserved blocks
 *       ({@code lessPrivilegedCaller});</li>
 *   <li>an overlay a user-namespaced caller mounted must carry {@code userxattr}, which the rebuilt
 *       overlay keeps: without it, the caller's overlay ignored trusted.overlay.* while one mounted
 *       by the daemon (host root) would honour it, and the view would silently change.</li>
 * </ul>
 * Whether SOURCE is an overlay ({@link #at}) is the caller's own mount table speaking, read before
 * any mark is checked: it decides only which way SOURCE is checked. Named an overlay, every
 * directory mounted is a layer checked here; named a directory, SOURCE itself is checked. Either
 * way nothing reaches a mount that did not pass beneath a mark.
 */
public final class CallerOverlays {
    private CallerOverlays() {
    }

    /** An overlay at SOURCE, and the owner of its root as the host sees it (to plan a shift from). */
    public record CallerOverlay(OverlaySpec spec, Owner rootOwner) {
    }

    /**
     * The overlay mounted at SOURCE as the caller sees it, or null when SOURCE is not an overlay's
     * mount point (it is then a directory SOURCE like any other).
     */
    public static CallerOverlay at(Fd procDir, String source, CallerIds caller) {
        String path = mountPointNamed(source);
        if (path == null) {
            return null;
        }
        MountInfo.Mount mount = MountInfo.mountAt(ProcFiles.readAt(procDir.get(), "mountinfo", "the caller's mountinfo"), path);
        if (mount == null || !mount.fsType().equals("overlay")) {
            return null;
        }
        OverlaySpec spec;
        try {
            spec = OverlayMounts.of(mount, path);
        } catch (UnsupportedException e) {
            throw new Refusal(e);
        }
        if (caller.kind() != CallerIds.Kind.HOST_ROOT && !hasUserxattr(spec)) {
            throw new Refusal("overlay " + source + " has no userxattr option: an overlay mounted in a user namespace ignores"
                    + " trusted.overlay.* and the daemon cannot rebuild it so; mount it with -o userxattr");
        }
        try (Fd opened = Authorizer.openAsCallerSees(procDir, path)) {
            // The mountinfo line must describe what SOURCE opens to, else it named another mount.
            if (!device(Authorizer.devIno(opened)[0]).equals(mount.device())) {
                throw Authorizer.notUsable(source);
            }
            return new CallerOverlay(spec, Authorizer.owner(opened));
        }
    }

    /** The mount point an absolute SOURCE names, as the caller's mountinfo spells it; null for a relative one. */
    private static String mountPointNamed(String source) {
        return source.startsWith("/") ? Path.of(source).normalize().toString() : null;
    }

    /**
     * The caller's overlay for the engine's overlay backend ({@code Shifter.forCaller}): {@code at}
     * gives the overlay read from the caller's table (and only at its mount point); {@code open}
     * resolves each layer as the caller sees it and accepts it only beneath one of {@code usable}
     * whose ancestors are still safe, as {@link Authorizer#resolve} accepts a SOURCE. The fd returned
     * is the host's fd of the inode that passed, which the rebuild clones: a path, symlink or mount
     * the caller changes afterwards changes nothing that is mounted.
     *
     * @param usable the marks the caller may use
     * @param etc    where /etc/passwd and /etc/group are read from, to re-check each mark's safety
     */
    public static OverlayLayers layers(CallerOverlay overlay, Fd procDir, List<Mark> usable, Path etc) {
        OverlaySpec spec = overlay.spec();
        return new OverlayLayers() {
            @Override
            public OverlaySpec at(String path) {
                return spec.mountPoint().equals(mountPointNamed(path)) ? spec : null;
            }

            @Override
            public Fd open(String layer) {
                Authorizer.Resolved resolved;
                try {
                    resolved = Authorizer.resolve(procDir, layer, usable);
                } catch (Refusal e) {
                    throw new Refusal("overlay " + spec.mountPoint() + ": layer " + e.getMessage());
                }
                try {
                    MarkSafety.requireStillSafe(resolved.mark(), etc);
                    return resolved.hostFd();
                } catch (RuntimeException e) {
                    resolved.close();
                    throw e;
                }
            }

            /** Always: the rebuilt overlay gets no power of host root's the caller's own overlay lacked. */
            @Override
            public boolean lessPrivilegedCaller() {
                return true;
            }
        };
    }

    /** {@code maps}, each layer's checked to name only host ids {@code caller} owns before it is used. */
    public static LayerMaps ownedBy(CallerIds caller, LayerMaps maps) {
        return new LayerMaps() {
            @Override
            public MountMaps of(String layer, Owner rootOwner) {
                MountMaps layerMaps = maps.of(layer, rootOwner);
                try {
                    Authorizer.authorizeIds(layerMaps.uids(), layerMaps.gids(), caller);
                } catch (Refusal e) {
                    throw new Refusal("overlay layer " + layer + ": " + e.getMessage());
                }
                return layerMaps;
            }
        };
    }

    private static boolean hasUserxattr(OverlaySpec spec) {
        for (OverlaySpec.Setting setting : spec.settings()) {
            if (setting.key().equals("userxattr")) {
                return true;
            }
        }
        return false;
    }

    /** st_dev as mountinfo writes it, "major:minor" (glibc's encoding of dev_t). */
    static String device(long dev) {
        long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
        long minor = (dev & 0xff) | ((dev >>> 12) & ~0xffL);
        return major + ":" + minor;
    }
}
