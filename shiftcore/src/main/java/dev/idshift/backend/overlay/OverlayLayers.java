package dev.idshift.backend.overlay;

import dev.idshift.sys.Fd;
import dev.idshift.sys.Linux;
import dev.idshift.sys.files.FileSyscalls;

/**
 * Opens the directories an overlay is rebuilt from (its layers, and the common parent of its upper
 * and work dirs), named as its superblock names them, as O_PATH fds in the mount namespace the
 * rebuild runs in. The fd returned is the one cloned and idmapped: whatever checks an opener makes
 * hold for what gets mounted.
 */
public interface OverlayLayers {
    /** The directory {@code layer}, or a one-line refusal naming it. The caller closes the fd. */
    Fd open(String layer);

    /** Paths as this process sees them: the hook, precreate and {@code idshift mount}, all root on the host. */
    static OverlayLayers asSeenHere() {
        return new OverlayLayers() {
            @Override
            public Fd open(String layer) {
                return new Fd(FileSyscalls.get().open(layer, Linux.O_PATH | Linux.O_DIRECTORY | Linux.O_CLOEXEC));
            }
        };
    }
}
