package dev.idshift.staging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The staging records (no mounts here: removal of real mounts is covered by the podman tests). */
class StagingStoreTest {
    @TempDir
    Path root;

    @Test
    void recordsRoundTripAndDirectoriesAreTraversableButStateIsRootOnly() throws Exception {
        StagingStore store = new StagingStore(root);
        String key = StagingStore.newKey();
        Path mountPoint = store.newMountPoint(key, "rootfs", -1);
        store.save(new StagingRecord(key, 1234, List.of(new StagedMount("/images/a", mountPoint.toString(), "/")), null));

        StagingRecord loaded = store.load(key);

        assertEquals(List.of(new StagedMount("/images/a", mountPoint.toString(), "/")), loaded.mounts());
        assertEquals(1234, loaded.createdAtMs());
        assertEquals(List.of(key), store.keys());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(mountPoint.getParent())),
                "no container root to let in: root only");
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(mountPoint)));
        assertEquals("rwx--x--x", PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("staging"))));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("state"))));
        try (var files = Files.list(root.resolve("state"))) {
            assertEquals(List.of(key + ".json"), files.map(f -> f.getFileName().toString()).toList(), "no temporary left behind");
        }
    }

    @Test
    void staleMeansNeverStartedWithinGraceOrContainerGone() {
        String key = StagingStore.newKey();
        StagingRecord fresh = new StagingRecord(key, 10_000, List.of(), null);
        assertFalse(StagingStore.isStale(fresh, 10_500, 1_000));
        assertTrue(StagingStore.isStale(fresh, 11_000, 1_000));
        long self = ProcessHandle.current().pid();
        StagingRecord running = fresh.withContainer(new StagingRecord.ContainerProcess("c", self, StagingStore.processStartTime(self)));
        assertFalse(StagingStore.isStale(running, Long.MAX_VALUE, 0), "our own process is alive");
        StagingRecord reused = fresh.withContainer(new StagingRecord.ContainerProcess("c", self, StagingStore.processStartTime(self) + 1));
        assertTrue(StagingStore.isStale(reused, 0, 0), "same pid, other process");
        assertTrue(StagingStore.isStale(fresh.withContainer(new StagingRecord.ContainerProcess("c", 999_999_999, 5)), 0, 0));
    }

    /** A precreate's caller (podman) that has exited with no poststart seen: the container will never start. */
    @Test
    void staleAtOnceWhenTheProcessThatRanPrecreateIsGone() throws Exception {
        StagingStore store = new StagingStore(root);
        long self = ProcessHandle.current().pid();
        Process exited = new ProcessBuilder("true").start();
        exited.waitFor();
        String key = StagingStore.newKey();
        StagingRecord.Creator gone = new StagingRecord.Creator(exited.pid(), 1);
        StagingRecord.Creator alive = new StagingRecord.Creator(self, StagingStore.processStartTime(self));

        store.save(new StagingRecord(key, 10_000, List.of(), null, alive));

        assertEquals(alive, store.load(key).creator(), "the creator round-trips");
        assertFalse(StagingStore.isStale(store.load(key), 10_500, 600_000), "its creator still runs: within the grace");
        assertTrue(StagingStore.isStale(store.load(key), 610_000, 600_000), "past the grace all the same");
        assertTrue(StagingStore.isStale(new StagingRecord(key, 10_000, List.of(), null, gone), 10_500, 600_000),
                "creator gone, never started: stale at once");
        StagingRecord started = new StagingRecord(key, 10_000, List.of(), null, gone)
                .withContainer(new StagingRecord.ContainerProcess("c", self, StagingStore.processStartTime(self)));
        assertFalse(StagingStore.isStale(started, 10_500, 600_000), "a started container outlives its creator");
        assertEquals(gone, started.creator(), "withContainer keeps the creator");
    }

    /**
     * Creator gone, never started, but a process is pivoted into the staged rootfs (a container
     * created, not started): not gone for sure, only stale past the grace. Here the staged rootfs
     * is "/", every process's root.
     */
    @Test
    void notGoneWhileAProcessHasItsRootOnTheStagedRootfs() throws Exception {
        Process exited = new ProcessBuilder("true").start();
        exited.waitFor();
        StagingRecord.Creator gone = new StagingRecord.Creator(exited.pid(), 1);
        String key = StagingStore.newKey();
        StagingRecord created = new StagingRecord(key, 10_000, List.of(new StagedMount("/src", "/", "/")), null, gone);
        StagingRecord volumeOnly = new StagingRecord(key, 10_000, List.of(new StagedMount("/src", "/", "/data")), null, gone);

        assertTrue(StagedRootfsUsers.anyUses(created));
        assertFalse(StagingStore.isGone(created), "a process is pivoted into it");
        assertFalse(StagingStore.isStale(created, 10_500, 600_000));
        assertTrue(StagingStore.isStale(created, 610_000, 600_000), "past the grace all the same");
        assertFalse(StagedRootfsUsers.anyUses(volumeOnly), "only the rootfs tells");
        assertTrue(StagingStore.isGone(volumeOnly));
    }

    @Test
    void removeIsIdempotentAndKeysAreChecked() throws Exception {
        StagingStore store = new StagingStore(root);
        String key = StagingStore.newKey();
        store.newMountPoint(key, "rootfs", -1);
        store.save(new StagingRecord(key, 0, List.of(), null));
        store.remove(key);
        store.remove(key);
        assertThrows(NoSuchFileException.class, () -> store.load(key));
        assertFalse(Files.exists(root.resolve("staging").resolve(key)));
        assertThrows(IllegalArgumentException.class, () -> store.remove("../../etc"));
        String orphan = StagingStore.newKey();
        store.newMountPoint(orphan, "rootfs", -1);
        assertEquals(List.of(orphan), store.orphans().stream().map(StagingRecord::key).toList(), "a staging dir without a record");
        store.remove(orphan);
        assertTrue(store.orphans().isEmpty());
        assertTrue(StagingStore.isKey(key));
        assertFalse(StagingStore.isKey(key.toUpperCase()));
    }

    @Test
    void theKeyIsTheSecretsHashAndGivesNothingBack() {
        String secret = StagingStore.newSecret();
        String key = StagingStore.keyOf(secret);
        assertTrue(StagingStore.isKey(key), "a key has the schema's syntax: " + key);
        assertEquals(key, StagingStore.keyOf(secret), "derived the same way at every stage");
        assertFalse(key.equals(secret));
        assertFalse(StagingStore.keyOf(key).equals(key), "naming the key instead of the secret reaches another key");
        // SHA-256("0" x 32), first 16 bytes: a fixed vector, so the derivation cannot drift between versions.
        assertEquals("84e0c0eafaa95a34c293f278ac52e45c", StagingStore.keyOf("00000000000000000000000000000000"));
        assertThrows(IllegalArgumentException.class, () -> StagingStore.keyOf("../../etc"));
    }
}
