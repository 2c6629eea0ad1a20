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
        remove(store, servers, key, null);
    }

    /** As above, the staging directory left with {@code kept} in it (StagingStore.remove(key, kept)). */
    public static void remove(StagingStore store, FuseRegistry servers, String key, String kept) {
        store.remove(key, kept);
        FuseMounts.stopUnder(servers, store.stagingDir(key));
    }
}
