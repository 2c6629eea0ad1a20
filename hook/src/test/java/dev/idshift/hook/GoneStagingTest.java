package dev.idshift.hook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.staging.StagingRecord;
import dev.idshift.staging.StagingStore;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sweep of gone containers' staging, on records alone (no mounts). */
class GoneStagingTest {
    @TempDir
    Path root;

    /**
     * Two records whose creator has exited and that never reached poststart: both gone by the rule.
     * The daemon sweeps after answering a precreate, when a wrapper that ran the hook (the recorded
     * creator) may be gone already: the key that precreate just made is spared, the other removed.
     */
    @Test
    void aSweepSparesTheKeyItIsGivenAndRemovesOtherGoneStaging() throws Exception {
        StagingStore store = new StagingStore(root);
        StagingRecord.Creator exited = exitedCreator();
        String own = StagingStore.newKey();
        String other = StagingStore.newKey();
        store.save(new StagingRecord(own, System.currentTimeMillis(), List.of(), null, exited));
        store.save(new StagingRecord(other, System.currentTimeMillis(), List.of(), null, exited));

        assertTrue(StagingStore.isGone(store.load(own)), "gone by the rule: its creator has exited");
        assertEquals(List.of(other), GoneStaging.sweep(store, own));
        assertTrue(store.exists(own), "spared");
        assertFalse(store.exists(other), "removed");
        assertEquals(List.of(own), GoneStaging.sweep(store, null), "without a key to spare, it goes too");
    }

    /** A process that has exited, as a record names it (start time 1 tick after boot: no live process's). */
    private static StagingRecord.Creator exitedCreator() throws Exception {
        Process process = new ProcessBuilder("true").start();
        process.waitFor();
        return new StagingRecord.Creator(process.pid(), 1);
    }
}
