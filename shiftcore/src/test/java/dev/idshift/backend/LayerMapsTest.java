package dev.idshift.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.idshift.idmap.IdMap;
import dev.idshift.idmap.IdMapParser;
import dev.idshift.layout.Owner;
import dev.idshift.layout.ShiftPlan;
import dev.idshift.layout.ShiftPlanner;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class LayerMapsTest {
    private static final IdMap CONTAINER = IdMapParser.parseColonList("0:100000:65536");

    @Test
    void eachLayerIsPlannedFromItsOwnRootOwner() {
        ShiftPlan rootfs = ShiftPlanner.plan(CONTAINER, CONTAINER, 0, 0, Optional.empty(), Optional.empty(), "test");
        LayerMaps maps = LayerMaps.like(rootfs);
        assertEquals("0:100000:65536", maps.of("/unshifted", new Owner(0, 0)).uids().toString());
        assertEquals("200000:100000:65536", maps.of("/offset", new Owner(200000, 200000)).uids().toString());
        assertEquals(true, maps.of("/already", new Owner(100000, 100000)).isIdentity());
    }

    @Test
    void anExplicitLayoutAppliesToEveryLayer() {
        IdMap explicit = IdMapParser.parseColonList("0:300000:65536");
        ShiftPlan rootfs = ShiftPlanner.plan(CONTAINER, CONTAINER, 0, 0, Optional.of(explicit), Optional.of(explicit), "test");
        LayerMaps maps = LayerMaps.like(rootfs);
        assertEquals("300000:100000:65536", maps.of("/any", new Owner(0, 0)).uids().toString());
        assertEquals(maps.of("/a", new Owner(0, 0)), maps.of("/b", new Owner(7, 7)));
    }

    @Test
    void fixedMapsAreTheSameForEveryLayer() {
        LayerMaps maps = LayerMaps.fixed(CONTAINER, CONTAINER);
        assertEquals(new MountMaps(CONTAINER, CONTAINER), maps.of("/x", new Owner(5, 5)));
    }
}
