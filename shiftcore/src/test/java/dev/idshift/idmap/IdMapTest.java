package dev.idshift.idmap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class IdMapTest {

    @Test
    void parsesShiftfsSyntaxAndMapsBothWays() {
        IdMap map = IdMapParser.parseColonList("0:100000:1000,1000:1000:1,65534:101000:1");
        assertEquals(100000, map.toOutside(0));
        assertEquals(100999, map.toOutside(999));
        assertEquals(1000, map.toOutside(1000));
        assertEquals(101000, map.toOutside(65534));
        assertEquals(-1, map.toOutside(1001));
        assertEquals(IdMap.OVERFLOW_ID, map.toOutsideOrOverflow(5000));
        assertEquals(65534, map.toInside(101000));
        assertEquals(-1, map.toInside(5));
        assertEquals("0:100000:1000,1000:1000:1,65534:101000:1", map.toString());
    }

    @Test
    void repeatedOptionsAddExtents() {
        assertEquals(IdMapParser.parseColonList("0:100000:1000,1000:1000:1"),
                IdMapParser.parseColonList(List.of("0:100000:1000", "1000:1000:1")));
    }

    @Test
    void parsesProcUidMapText() {
        IdMap map = IdMapParser.parseProcMap("         0     100000      65536\n     65536          0          1\n");
        assertEquals("0:100000:65536,65536:0:1", map.toString());
        assertEquals("0 100000 65536\n65536 0 1\n", map.toProcFormat());
        assertEquals(IdMap.IDENTITY, IdMapParser.parseProcMap("         0          0 4294967295\n"));
    }

    @Test
    void refusesWhatTheKernelRefuses() {
        assertMessage("count must be at least 1", () -> IdMapParser.parseColonList("0:100000:0"));
        assertMessage("overlap on the inside (ids 50-59)", () -> IdMapParser.parseColonList("0:100000:100,50:200000:10"));
        assertMessage("overlap on the outside (ids 100050-100059)", () -> IdMapParser.parseColonList("0:100000:100,500:100050:10"));
        assertMessage("past id 4294967294", () -> IdMapParser.parseColonList("0:4294967290:100"));
        assertMessage("ids must be from 0 to 4294967294", () -> IdMapParser.parseColonList("4294967295:0:1"));
        assertMessage("not an extent", () -> IdMapParser.parseColonList("0:100000"));
        assertMessage("not an id", () -> IdMapParser.parseColonList("0:-1:5"));
        assertMessage("not an id", () -> IdMapParser.parseColonList("0:99999999999:5"));
        assertMessage("not a uid_map line", () -> IdMapParser.parseProcMap("0 1\n"));
        List<IdExtent> tooMany = new ArrayList<>();
        for (int i = 0; i < 341; i++) {
            tooMany.add(new IdExtent(i, 100000 + i, 1));
        }
        assertMessage("at most 340", () -> IdMap.of(tooMany));
        assertEquals(340, IdMap.of(tooMany.subList(0, 340)).extents().size());
    }

    @Test
    void highestValidIdIsMappable() {
        IdMap map = IdMap.of(new IdExtent(4294967294L, 0, 1));
        assertEquals(0, map.toOutside(4294967294L));
    }

    @Test
    void composesAcrossExtentBoundaries() {
        IdMap containerToHost = IdMapParser.parseColonList("0:100000:1000,1000:1000:1,65534:101000:1");
        IdMap diskToContainer = IdMapParser.parseColonList("300000:0:65536");
        IdMap diskToHost = diskToContainer.andThen(containerToHost);
        assertEquals("300000:100000:1000,301000:1000:1,365534:101000:1", diskToHost.toString());
    }

    @Test
    void mergesContiguousPieces() {
        IdMap split = IdMapParser.parseColonList("0:100:10,10:110:10");
        assertEquals("0:100:20", IdMap.IDENTITY.andThen(split).toString());
        assertTrue(IdMap.identityOver(split).isIdentity());
    }

    private static void assertMessage(String expected, org.junit.jupiter.api.function.Executable executable) {
        IdMapException error = assertThrows(IdMapException.class, executable);
        assertTrue(error.getMessage().contains(expected), "\"" + error.getMessage() + "\" should contain \"" + expected + "\"");
    }
}
