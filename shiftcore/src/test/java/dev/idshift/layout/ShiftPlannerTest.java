package dev.idshift.layout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.idmap.IdMap;
import dev.idshift.idmap.IdMapParser;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ShiftPlannerTest {
    private static final IdMap CONTAINER = IdMap.shift(100000, 65536);

    private static ShiftPlan plan(long rootUid, long rootGid) {
        return ShiftPlanner.plan(CONTAINER, CONTAINER, rootUid, rootGid, Optional.empty(), Optional.empty(), "test");
    }

    @Test
    void unshiftedImageUsesTheContainersOwnMap() {
        ShiftPlan plan = plan(0, 0);
        assertEquals(OnDiskLayout.Kind.UNSHIFTED, plan.uid().layout().kind());
        assertEquals(CONTAINER, plan.uid().mountMap());
        assertTrue(plan.reusesContainerUserns());
        assertFalse(plan.isNoop());
    }

    @Test
    void offsetImageMapsDiskBasePlusCToTheContainersHostIds() {
        ShiftPlan plan = plan(300000, 300000);
        assertEquals(OnDiskLayout.Kind.OFFSET, plan.uid().layout().kind());
        assertEquals("300000:100000:65536", plan.uid().mountMap().toString());
        assertFalse(plan.reusesContainerUserns());
    }

    @Test
    void imageOwnedByTheContainersHostIdsNeedsNothing() {
        ShiftPlan plan = plan(100000, 100000);
        assertEquals(OnDiskLayout.Kind.ALREADY_SHIFTED, plan.uid().layout().kind());
        assertTrue(plan.isNoop());
    }

    @Test
    void uidsAndGidsAreDecidedSeparately() {
        ShiftPlan plan = plan(0, 300000);
        assertEquals(OnDiskLayout.Kind.UNSHIFTED, plan.uid().layout().kind());
        assertEquals(OnDiskLayout.Kind.OFFSET, plan.gid().layout().kind());
        assertFalse(plan.reusesContainerUserns());
    }

    @Test
    void explicitMapWinsOverDetection() {
        IdMap explicit = IdMapParser.parseColonList("0:200000:65536");
        ShiftPlan plan = ShiftPlanner.plan(CONTAINER, CONTAINER, 300000, 300000, Optional.of(explicit), Optional.empty(), "annotation");
        assertEquals(OnDiskLayout.Kind.EXPLICIT, plan.uid().layout().kind());
        assertEquals("200000:100000:65536", plan.uid().mountMap().toString());
        assertEquals("300000:100000:65536", plan.gid().mountMap().toString());
    }

    @Test
    void multiRangeContainerMapKeepsItsHoles() {
        IdMap container = IdMapParser.parseColonList("0:100000:1000,1000:1000:1,65534:101000:1");
        ShiftPlan plan = ShiftPlanner.plan(container, container, 0, 0, Optional.empty(), Optional.empty(), "test");
        assertEquals(container, plan.uid().mountMap());
        assertEquals(-1, plan.uid().mountMap().toOutside(5000), "on-disk 5000 is unmapped: shown as overflow");
    }

    @Test
    void noUserNamespaceShiftIsANoop() {
        ShiftPlan plan = ShiftPlanner.plan(IdMap.IDENTITY, IdMap.IDENTITY, 0, 0, Optional.empty(), Optional.empty(), "test");
        assertTrue(plan.isNoop());
    }
}
