package dev.idshift.backend.overlay;

import dev.idshift.sys.Fd;
import dev.idshift.sys.Linux;
import dev.idshift.sys.files.FileSyscalls;

/**
 * An overlay as whoever asked for it sees it: which overlay is mounted at a path (its layers named
 * as its superblock names them), and each directory it is rebuilt from (its layers, and the common
 * parent of its upper and work dirs) opened as an O_PATH fd in the mount namespace the rebuild runs
 * in. The fd returned is the one cloned and idmapped: whatever checks an opener makes hold for what
 * gets mounted, whatever the path names by then.
 */
public interface OverlayLayers {
    /** The overlay mounted exactly at {@code path}, or null when there is none (as {@link OverlayMounts#at}). */
    OverlaySpec at(String path);

    /** The directory {@code layer}, or a one-line refusal naming it. The caller closes the fd. */
    Fd open(String layer);

    /**
     * Whether the overlay is a caller's less privileged than this process (the daemon's caller): the
     * rebuilt overlay, which keeps its creator's credentials for every access to its layers, is then
     * created without the powers of host root's the caller's own overlay lacked ({@link OverlayRebuild}
     * says which). False for host root's own trees.
     */
    default boolean lessPrivilegedCaller() {
        return false;
    }

    /**
     * Paths as this process sees them, taken on trust: for the hook, precreate and {@code idshift
     * mount}, all host root naming trees of the host's.
     */
    static OverlayLayers asSeenHere() {
        return new OverlayLayers() {
            @Override
            public OverlaySpec at(String path) {
                return OverlayMounts.at(path);
            }

            @Override
            public Fd open(String layer) {
                return new Fd(FileSyscalls.get().open(layer, Linux.O_PATH | Linux.O_DIRECTORY | Linux.O_CLOEXEC));
            }
        };
    }
}
