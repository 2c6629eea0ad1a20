package dev.idshift.staging;

import dev.idshift.backend.fuse.FuseMounts;
import dev.idshift.backend.fuse.FuseRegistry;

/**
 * A container's staging gone, whichever backend made its mounts: the staged mounts detached, the
 * directories and the record removed, and the FUSE servers that served mount points under it
 * stopped (by pid if they linger). poststop, gc, and a stage that failed part-way.
 */
public final class StagingTeardown {
    private StagingTeardown() {
    }

    public static void remove(StagingStore store, FuseRegistry servers, String key) {
        store.remove(key);
        FuseMounts.stopUnder(servers, store.stagingDir(key));
    }
}
