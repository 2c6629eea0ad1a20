package dev.idshift.idmap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Properties of the id-map algebra over many random maps (seeded, so a failure names a
 * reproducible case). Random maps are small-ranged on purpose, so extents collide often.
 */
class IdMapPropertyTest {
    private static final int CASES = 3000;
    private static final long SEED = 20261122L;

    @Test
    void validationAgreesWithABruteForceModelOfTheKernelRules() {
        Random random = new Random(SEED);
        for (int i = 0; i < CASES; i++) {
            List<IdExtent> extents = randomExtents(random, true);
            boolean kernelWouldAccept = bruteForceValid(extents);
            boolean accepted;
            try {
                IdMap.of(extents);
                accepted = true;
            } catch (IdMapException e) {
                accepted = false;
            }
            assertEquals(kernelWouldAccept, accepted, "case " + i + ": " + extents);
        }
    }

    @Test
    void invertingTwiceGivesTheSameMap() {
        Random random = new Random(SEED + 1);
        for (int i = 0; i < CASES; i++) {
            IdMap map = randomValidMap(random);
            assertEquals(canonical(map), map.invert().invert(), "case " + i + ": " + map);
        }
    }

    @Test
    void aMapThenItsInverseIsTheIdentityOnItsDomain() {
        Random random = new Random(SEED + 2);
        for (int i = 0; i < CASES; i++) {
            IdMap map = randomValidMap(random);
            IdMap roundTrip = map.andThen(map.invert());
            assertTrue(roundTrip.isIdentity(), "case " + i + ": " + map + " -> " + roundTrip);
            assertEquals(map.idCount(), roundTrip.idCount(), "case " + i + ": " + map);
        }
    }

    @Test
    void compositionMapsEveryIdAsApplyingBothInTurn() {
        Random random = new Random(SEED + 3);
        for (int i = 0; i < CASES; i++) {
            IdMap first = randomValidMap(random);
            IdMap second = randomValidMap(random);
            IdMap composed = first.andThen(second);
            for (long id = 0; id < 70; id++) {
                long viaFirst = first.toOutside(id);
                long expected = viaFirst < 0 ? -1 : second.toOutside(viaFirst);
                assertEquals(expected, composed.toOutside(id), "case " + i + " id " + id + ": " + first + " then " + second);
            }
        }
    }

    @Test
    void compositionIsAssociative() {
        Random random = new Random(SEED + 4);
        for (int i = 0; i < CASES; i++) {
            IdMap a = randomValidMap(random);
            IdMap b = randomValidMap(random);
            IdMap c = randomValidMap(random);
            assertEquals(a.andThen(b).andThen(c), a.andThen(b.andThen(c)), "case " + i);
        }
    }

    @Test
    void toInsideUndoesToOutside() {
        Random random = new Random(SEED + 5);
        for (int i = 0; i < CASES; i++) {
            IdMap map = randomValidMap(random);
            for (long id = 0; id < 70; id++) {
                long outside = map.toOutside(id);
                if (outside >= 0) {
                    assertEquals(id, map.toInside(outside), "case " + i + ": " + map);
                }
            }
        }
    }

    @Test
    void textFormsRoundTrip() {
        Random random = new Random(SEED + 6);
        for (int i = 0; i < CASES; i++) {
            IdMap map = randomValidMap(random);
            if (map.isEmpty()) {
                continue;
            }
            assertEquals(map, IdMapParser.parseColonList(map.toString()), "case " + i);
            assertEquals(map, IdMapParser.parseProcMap(map.toProcFormat()), "case " + i);
        }
    }

    private static IdMap randomValidMap(Random random) {
        while (true) {
            List<IdExtent> extents = randomExtents(random, false);
            if (bruteForceValid(extents)) {
                return IdMap.of(extents);
            }
        }
    }

    /** Extents over ids 0..63 (and now and then near the 32-bit edge when {@code edges}). */
    private static List<IdExtent> randomExtents(Random random, boolean edges) {
        int size = random.nextInt(5);
        List<IdExtent> extents = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            if (edges && random.nextInt(10) == 0) {
                long start = IdMap.INVALID_ID - random.nextInt(4);
                extents.add(new IdExtent(start, random.nextInt(64), random.nextInt(4)));
            } else {
                extents.add(new IdExtent(random.nextInt(64), random.nextInt(64), random.nextInt(8)));
            }
        }
        return extents;
    }

    /** The kernel's map_write() checks, literally. */
    private static boolean bruteForceValid(List<IdExtent> extents) {
        if (extents.size() > IdMap.MAX_EXTENTS) {
            return false;
        }
        for (int i = 0; i < extents.size(); i++) {
            IdExtent e = extents.get(i);
            long u32 = 1L << 32;
            if (e.inside() == u32 - 1 || e.outside() == u32 - 1) {
                return false;
            }
            if (((e.inside() + e.count()) % u32) <= e.inside() || ((e.outside() + e.count()) % u32) <= e.outside()) {
                return false;
            }
            for (int j = 0; j < i; j++) {
                IdExtent p = extents.get(j);
                for (long id = e.inside(); id < e.inside() + e.count(); id++) {
                    if (id >= p.inside() && id < p.inside() + p.count()) {
                        return false;
                    }
                }
                for (long id = e.outside(); id < e.outside() + e.count(); id++) {
                    if (id >= p.outside() && id < p.outside() + p.count()) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    /** The same mapping, sorted and with contiguous extents merged (what invert() returns). */
    private static IdMap canonical(IdMap map) {
        return IdMap.identityOver(map).andThen(map);
    }
}
