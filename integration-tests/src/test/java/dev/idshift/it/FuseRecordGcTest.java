package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.Exec;
import dev.idshift.it.support.Host;
import dev.idshift.it.support.Scratch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * `idshift gc` and the record directories a FUSE server start leaves without a record (a starter killed,
 * a server that could not start under a pids limit): removed once no start can be writing them, kept
 * while one may be.
 */
class FuseRecordGcTest {
    @Test
    void gcRemovesAHalfMadeRecordDirectoryOnceNoStartCanBeWritingIt() throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch()) {
            Path run = scratch.dir("run");
            Map<String, String> env = Map.of("IDSHIFT_RUN_DIR", run.toString());
            Path fuse = Files.createDirectories(run.resolve("fuse"));
            long longAgo = System.currentTimeMillis() - 10 * 60_000;
            // As a start leaves it: the directory and its server's log, no record (or only a temporary one).
            Path abandoned = Files.createDirectory(fuse.resolve("0123456789abcdef0123456789abcdef"));
            Files.writeString(abandoned.resolve("server.log"), "");
            Path partial = Files.createDirectory(fuse.resolve("fedcba9876543210fedcba9876543210"));
            Files.writeString(partial.resolve("record.json.tmp"), "{\"version\":1,");
            for (Path path : List.of(abandoned.resolve("server.log"), abandoned, partial.resolve("record.json.tmp"), partial)) {
                Files.setLastModifiedTime(path, FileTime.fromMillis(longAgo));
            }
            // One a mount command has just made: its server may be about to write the record.
            Path starting = Files.createDirectory(fuse.resolve("00000000000000000000000000000000"));
            Files.writeString(starting.resolve("server.log"), "");

            Exec.Result dry = Exec.run(List.of(Host.launcher().toString(), "gc", "--dry-run"), null, env, 120);
            assertEquals(0, dry.exit(), dry.describe());
            assertTrue(dry.stdout().contains("would remove " + abandoned + " (no record"), dry.describe());
            assertTrue(Files.isDirectory(abandoned), "a dry run removes nothing");

            Exec.Result gc = Exec.run(List.of(Host.launcher().toString(), "gc"), null, env, 120);
            assertEquals(0, gc.exit(), gc.describe());
            assertTrue(gc.stdout().contains("removed " + abandoned + " (no record: a FUSE server start that did not finish)"),
                    gc.describe());
            assertTrue(gc.stdout().contains("removed " + partial), gc.describe());
            assertFalse(Files.exists(abandoned), gc.describe());
            assertFalse(Files.exists(partial), gc.describe());
            assertTrue(Files.isDirectory(starting), "a start in progress keeps its directory: " + gc.describe());
            assertFalse(gc.stdout().contains(starting.toString()), gc.describe());
        }
    }
}
