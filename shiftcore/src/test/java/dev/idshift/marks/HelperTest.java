package dev.idshift.marks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.idmap.IdExtent;
import dev.idshift.idmap.IdMapParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HelperTest {
    @TempDir
    Path dir;

    @Test
    void subordinateIdsByNameOrUidSkippingMalformedLines() throws Exception {
        Path subuid = dir.resolve("subuid");
        Files.writeString(subuid, "alice:100000:65536\n# comment\nbob:x:1\n1001:300000:10\nalice:500000:5\ncarol:0:0\n");
        assertEquals(List.of(new IdExtent(100000, 100000, 65536), new IdExtent(500000, 500000, 5)),
                SubordinateIds.rangesOf(subuid, "alice", 1000));
        assertEquals(List.of(new IdExtent(300000, 300000, 10)), SubordinateIds.rangesOf(subuid, "nobody-named-so", 1001));
        assertEquals(List.of(), SubordinateIds.rangesOf(dir.resolve("missing"), "alice", 1000));
        Files.writeString(dir.resolve("passwd"), "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n");
        assertEquals("alice", SubordinateIds.userName(dir.resolve("passwd"), 1000));
    }

    @Test
    void aCallerOwnsOnlyWhatItsRangesCover() {
        CallerIds caller = new CallerIds(CallerIds.Kind.USER, 1000,
                List.of(new IdExtent(1000, 1000, 1), new IdExtent(100000, 100000, 65536)), List.of(new IdExtent(1000, 1000, 1)));
        assertEquals(-1, caller.firstUnownedUid(IdMapParser.parseColonList("0:100000:65536,65536:1000:1")));
        assertEquals(165536, caller.firstUnownedUid(IdMapParser.parseColonList("0:100000:65537")));
        assertEquals(0, caller.firstUnownedUid(IdMapParser.parseColonList("0:0:1")));
        assertEquals(100000, caller.firstUnownedGid(IdMapParser.parseColonList("0:100000:1")));
        CallerIds root = new CallerIds(CallerIds.Kind.HOST_ROOT, 0, List.of(), List.of());
        assertEquals(-1, root.firstUnownedUid(IdMapParser.parseColonList("0:0:4294967295")));
    }

    @Test
    void whoMayUseAMark() {
        CallerIds user = new CallerIds(CallerIds.Kind.USER, 1000, List.of(), List.of());
        // A container of a root-run runtime. (The old rule, "any user namespace may use any mark", was
        // issue 10's item 2: a user in `unshare -Ur` is a USER now, see whoACallerIs.)
        CallerIds container = new CallerIds(CallerIds.Kind.CONTAINER, 100000, List.of(), List.of());
        assertFalse(Authorizer.mayUse(user, new Mark("/m", -1, false)));
        assertTrue(Authorizer.mayUse(user, new Mark("/m", 1000, false)));
        assertFalse(Authorizer.mayUse(user, new Mark("/m", 1001, false)));
        assertTrue(Authorizer.mayUse(user, new Mark("/m", -1, true)));
        assertTrue(Authorizer.mayUse(container, new Mark("/m", -1, false)));
    }

    @Test
    void markSafetyWantsAClosedAncestorAndNoForeignWriters() throws Exception {
        // The temp dir is below /tmp (sticky, world-writable: fine as an ancestor).
        Path open = Files.createDirectories(dir.resolve("open"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-xr-x"));
        if (!"root".equals(System.getProperty("user.name"))) {
            return; // ownership checks need root-owned directories
        }
        Path etc = Path.of("/etc");
        assertTrue(MarkSafety.problems(open, etc).stream().anyMatch(p -> p.contains("can traverse")), MarkSafety.problems(open, etc).toString());
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        assertEquals(List.of(), MarkSafety.problems(open, etc));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertTrue(MarkSafety.problems(open, etc).stream().anyMatch(p -> p.contains("writable by everyone")));
    }

    @Test
    void marksPersistAtomically() throws Exception {
        MarkStore store = new MarkStore(dir.resolve("state"));
        assertEquals(List.of(), store.load());
        store.save(List.of(new Mark("/a", -1, false), new Mark("/b", 1000, false), new Mark("/c", -1, true)));
        assertEquals(List.of(new Mark("/a", -1, false), new Mark("/b", 1000, false), new Mark("/c", -1, true)), store.current());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("state"))));
        try (var files = Files.list(dir.resolve("state"))) {
            assertEquals(List.of("marks.json"), files.map(f -> f.getFileName().toString()).toList(), "no temporary left behind");
        }
        store.save(List.of(new Mark("/a", -1, false)));
        assertEquals(1, store.current().size(), "a changed file is re-read");
    }
}
