package dev.idshift.hook;

import dev.idshift.backend.fuse.FuseRegistry;
import dev.idshift.staging.StagingRecord;
import dev.idshift.staging.StagingStore;
import dev.idshift.staging.StagingTeardown;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;

/**
 * Staging of containers that are gone for sure (StagingStore.isGone), removed by the next hook
 * stage that deals with staging, so that a create that failed (the runtime then runs no poststop)
 * does not leave its mounts until a `gc`. Only records count: a staging directory without one is a
 * precreate in progress (it records once its mounts are made), which only gc's grace period may
 * judge.
 */
final class GoneStaging {
    private GoneStaging() {
    }

    /**
     * @param spared a key not to judge (the calling precreate's own), or null
     * @return the keys removed
     */
    static List<String> sweep(StagingStore store, String spared) {
        List<String> removed = new ArrayList<>();
        for (String key : store.keys()) {
            if (key.equals(spared)) {
                continue;
            }
            StagingRecord record;
            try {
                record = store.load(key);
            } catch (NoSuchFileException e) {
                continue;  // removed meanwhile by its poststop
            }
            if (StagingStore.isGone(record)) {
                StagingTeardown.remove(store, FuseRegistry.fromEnvironment(), key);
                removed.add(key);
            }
        }
        return removed;
    }
}
