package dev.idshift.backend.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.idmap.IdMap;
import dev.idshift.idmap.IdMapParser;
import dev.idshift.sys.Fd;
import dev.idshift.sys.Linux;
import dev.idshift.sys.files.FileSyscalls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/**
 * Item 12 of issue 10: the cache lends a duplicate, so an eviction between the lending and the
 * use (here made to happen, deterministically, in between) cannot close what the borrower holds
 * nor let the number be reused for another namespace. And what it keeps is its own: made once
 * per pair of maps, closed when evicted (least recently used first) and at the end.
 */
class UsernsCacheTest {
    private static final IdMap FIRST = IdMapParser.parseColonList("0:100000:65536");
    private static final IdMap SECOND = IdMapParser.parseColonList("0:200000:65536");

    /** Stands in for a user namespace: any fd names what it is open on (here, files of our own). */
    private static BiFunction<IdMap, IdMap, Fd> files(Path first, Path second) {
        return new BiFunction<IdMap, IdMap, Fd>() {
            @Override
            public Fd apply(IdMap uids, IdMap gids) {
                return new Fd(FileSyscalls.get().open((uids.equals(FIRST) ? first : second).toString(), Linux.O_RDONLY));
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
                    reused.add(new Fd(FileSyscalls.get().open(second.toString(), Linux.O_RDONLY)));
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

    /** Makes a namespace stand-in per call and keeps every one, to see which the cache has closed. */
    private static final class Counting implements BiFunction<IdMap, IdMap, Fd> {
        final List<Fd> made = new ArrayList<>();

        @Override
        public Fd apply(IdMap uids, IdMap gids) {
            Fd fd = new Fd(FileSyscalls.get().open("/", Linux.O_RDONLY | Linux.O_DIRECTORY));
            made.add(fd);
            return fd;
        }

        boolean closed(int index) {
            try {
                made.get(index).get();
                return false;
            } catch (IllegalStateException e) {
                return true;
            }
        }
    }

    private static final IdMap THIRD = IdMapParser.parseColonList("0:300000:65536");

    @Test
    void eachPairOfMapsIsMadeOnceAndKept() {
        Counting counting = new Counting();
        UsernsCache cache = new UsernsCache(4, counting);
        try {
            for (int i = 0; i < 3; i++) {
                cache.usernsFor(FIRST, FIRST).close();
            }
            cache.usernsFor(FIRST, SECOND).close();
            assertEquals(2, counting.made.size(), "one per pair of maps, the uid and the gid map both count");
            assertFalse(counting.closed(0), "a loan returned leaves the cache's own open");
        } finally {
            cache.closeAll();
        }
    }

    @Test
    void theLeastRecentlyUsedIsEvictedAndClosed() {
        Counting counting = new Counting();
        UsernsCache cache = new UsernsCache(2, counting);
        try {
            cache.usernsFor(FIRST, FIRST).close();   // made[0]
            cache.usernsFor(SECOND, SECOND).close(); // made[1]
            cache.usernsFor(FIRST, FIRST).close();   // FIRST used again: SECOND is now the eldest
            cache.usernsFor(THIRD, THIRD).close();   // made[2], evicts SECOND
            assertEquals(3, counting.made.size());
            assertTrue(counting.closed(1), "the evicted namespace's fd is closed by the cache");
            assertFalse(counting.closed(0));
            assertFalse(counting.closed(2));
            cache.usernsFor(SECOND, SECOND).close(); // made anew, evicts FIRST
            assertEquals(4, counting.made.size());
            assertTrue(counting.closed(0));
        } finally {
            cache.closeAll();
        }
        for (int i = 0; i < counting.made.size(); i++) {
            assertTrue(counting.closed(i), "closeAll closes what is left");
        }
    }

    @Test
    void aLoanOutlivesTheCache() throws Exception {
        Path first = Files.createTempFile("userns-first", "");
        Path second = Files.createTempFile("userns-second", "");
        UsernsCache cache = new UsernsCache(4, files(first, second));
        Fd lent = cache.usernsFor(FIRST, FIRST);
        try {
            cache.closeAll();
            assertEquals(first.toRealPath(), target(lent), "the borrower's fd is its own to close");
        } finally {
            lent.close();
            Files.deleteIfExists(first);
            Files.deleteIfExists(second);
        }
        assertThrows(IllegalStateException.class, lent::get);
    }

    private static Path target(Fd fd) throws Exception {
        return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd.get()));
    }
}
