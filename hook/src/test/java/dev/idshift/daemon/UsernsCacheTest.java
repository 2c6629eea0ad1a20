package dev.idshift.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.idshift.idmap.IdMap;
import dev.idshift.idmap.IdMapParser;
import dev.idshift.sys.Fd;
import dev.idshift.sys.Linux;
import dev.idshift.sys.Syscalls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/**
 * Item 12 of issue 10: the cache lends a duplicate, so an eviction between the lending and the
 * use (here made to happen, deterministically, in between) cannot close what the borrower holds
 * nor let the number be reused for another namespace.
 */
class UsernsCacheTest {
    private static final IdMap FIRST = IdMapParser.parseColonList("0:100000:65536");
    private static final IdMap SECOND = IdMapParser.parseColonList("0:200000:65536");

    /** Stands in for a user namespace: any fd names what it is open on (here, files of our own). */
    private static BiFunction<IdMap, IdMap, Fd> files(Path first, Path second) {
        return new BiFunction<IdMap, IdMap, Fd>() {
            @Override
            public Fd apply(IdMap uids, IdMap gids) {
                return new Fd(Syscalls.get().open((uids.equals(FIRST) ? first : second).toString(), Linux.O_RDONLY));
            }
        };
    }

    @Test
    void aLentFdSurvivesTheEvictionOfItsEntry() throws Exception {
        Path first = Files.createTempFile("userns-first", "");
        Path second = Files.createTempFile("userns-second", "");
        UsernsCache cache = new UsernsCache(1, files(first, second));
        try (Fd lent = cache.usernsFor(FIRST, FIRST)) {
            // Another request evicts FIRST (capacity 1): the cache closes its own fd...
            try (Fd other = cache.usernsFor(SECOND, SECOND)) {
                // ...and new fds reuse low numbers: they must not become what the borrower holds.
                List<Fd> reused = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    reused.add(new Fd(Syscalls.get().open(second.toString(), Linux.O_RDONLY)));
                }
                assertEquals(first.toRealPath(), target(lent), "the lent fd still names the first namespace");
                assertNotEquals(lent.get(), other.get());
                reused.forEach(Fd::close);
            }
        } finally {
            cache.closeAll();
            Files.deleteIfExists(first);
            Files.deleteIfExists(second);
        }
    }

    @Test
    void everyLoanIsItsOwnFd() throws Exception {
        Path first = Files.createTempFile("userns-first", "");
        Path second = Files.createTempFile("userns-second", "");
        UsernsCache cache = new UsernsCache(4, files(first, second));
        try (Fd one = cache.usernsFor(FIRST, FIRST); Fd two = cache.usernsFor(FIRST, FIRST)) {
            assertNotEquals(one.get(), two.get(), "two callers, two fds: closing one leaves the other");
            one.close();
            assertEquals(first.toRealPath(), target(two));
        } finally {
            cache.closeAll();
            Files.deleteIfExists(first);
            Files.deleteIfExists(second);
        }
    }

    private static Path target(Fd fd) throws Exception {
        return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd.get()));
    }
}
