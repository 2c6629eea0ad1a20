package dev.idshift.backend.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which record directories gc may remove: those a start left without a record, once no start can be writing them. */
class FuseRegistryTest {
    private static final long NOW = 1_000_000_000L;

    @Test
    void aRecordLessDirectoryIsAbandonedOnlyOnceNoStartCanStillBeWritingIt() {
        assertFalse(FuseRegistry.isAbandoned(false, NOW, NOW), "just made by a mount command whose server has not started yet");
        assertFalse(FuseRegistry.isAbandoned(false, NOW - FuseMounts.READY_TIMEOUT_MS, NOW), "its starter may still be waiting");
        assertFalse(FuseRegistry.isAbandoned(false, NOW - FuseRegistry.ABANDONED_AFTER_MS + 1, NOW));
        assertTrue(FuseRegistry.isAbandoned(false, NOW - FuseRegistry.ABANDONED_AFTER_MS, NOW));
        assertFalse(FuseRegistry.isAbandoned(false, NOW + 60_000, NOW), "a time in the future (a clock set back) is kept");
        assertFalse(FuseRegistry.isAbandoned(true, 0, NOW), "a directory with a record is judged by its server, not by age");
    }

    @Test
    void theNewestChangeInsideCountsSoALogStillWrittenKeepsItsDirectory(@TempDir Path run) throws IOException {
        FuseRegistry registry = new FuseRegistry(run);
        long old = System.currentTimeMillis() - FuseRegistry.ABANDONED_AFTER_MS - 60_000;

        Path empty = age(registry.newEntry(), old);
        Path partial = registry.newEntry();
        age(Files.writeString(partial.resolve("record.json.tmp"), "{\"version\":1,"), old);  // a record never renamed in place
        age(partial, old);
        Path logging = registry.newEntry();
        Files.writeString(FuseRegistry.logOf(logging), "starting\n");  // written now
        age(logging, old);
        Path recorded = registry.newEntry();
        age(Files.writeString(recorded.resolve("record.json"), "{}"), old);
        age(recorded, old);
        Path fresh = registry.newEntry();

        List<Path> abandoned = registry.abandoned(System.currentTimeMillis());
        assertEquals(List.of(empty, partial).stream().sorted().toList(), abandoned.stream().sorted().toList());
        assertTrue(Files.isDirectory(fresh));
    }

    private static Path age(Path path, long millis) throws IOException {
        Files.setLastModifiedTime(path, FileTime.fromMillis(millis));
        return path;
    }
}
