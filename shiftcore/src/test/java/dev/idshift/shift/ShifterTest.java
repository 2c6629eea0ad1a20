package dev.idshift.shift;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.backend.IdmapUnsupportedException;
import dev.idshift.backend.LayerMaps;
import dev.idshift.backend.MountAccess;
import dev.idshift.backend.ShiftBackend;
import dev.idshift.backend.ShiftRequest;
import dev.idshift.backend.ShiftedTree;
import dev.idshift.backend.TreeShape;
import dev.idshift.config.annotations.Backend;
import dev.idshift.failure.RefusedException;
import dev.idshift.idmap.IdMap;
import dev.idshift.sys.Fd;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The one backend choice, with fake backends: nothing is mounted, no root needed. */
class ShifterTest {
    private final List<String> tried = new ArrayList<>();
    private final FakeBackend kernel = new FakeBackend("kernel");
    private final FakeBackend overlay = new FakeBackend("overlay");
    private final FakeBackend fuse = new FakeBackend("fuse");
    private final Shifter shifter = new Shifter(kernel, overlay, fuse);
    /** As {@link Shifter#forCaller} makes it for the daemon's caller. */
    private final Shifter callers = new Shifter(kernel, overlay, fuse, false);

    @Test
    void autoTakesTheKernelForADirectoryOrAFile() {
        assertEquals("kernel", shift(TreeShape.DIRECTORY, Backend.AUTO).backend());
        assertEquals("kernel", shift(TreeShape.FILE, Backend.AUTO).backend());
        assertEquals(List.of("kernel", "kernel"), tried);
    }

    @Test
    void autoRebuildsAnOverlay() {
        ShiftedTree tree = shift(TreeShape.OVERLAY, Backend.AUTO);
        assertEquals("overlay", tree.backend());
        assertEquals("made by overlay", tree.how());
        assertEquals(List.of("overlay"), tried);
    }

    @Test
    void autoFallsBackToFuseWhereTheKernelWillNotIdmapAndSaysWhy() {
        kernel.refuses = true;
        ShiftedTree tree = shift(TreeShape.DIRECTORY, Backend.AUTO);
        assertEquals("fuse", tree.backend());
        assertEquals("made by fuse; kernel cannot", tree.how());
        assertEquals(List.of("kernel", "fuse"), tried);
    }

    @Test
    void autoFallsBackToFuseForAnOverlayThatCannotBeRebuilt() {
        overlay.refuses = true;
        assertEquals("fuse", shift(TreeShape.OVERLAY, Backend.AUTO).backend());
        assertEquals(List.of("overlay", "fuse"), tried);
    }

    @Test
    void aFileNeverGoesToFuse() {
        kernel.refuses = true;
        assertEquals("kernel cannot", assertThrows(IdmapUnsupportedException.class, () -> shift(TreeShape.FILE, Backend.AUTO)).getMessage());
        assertEquals("kernel cannot", assertThrows(IdmapUnsupportedException.class, () -> shift(TreeShape.FILE, Backend.FUSE)).getMessage());
        kernel.refuses = false;
        assertEquals("kernel", shift(TreeShape.FILE, Backend.FUSE).backend());
        assertEquals(List.of("kernel", "kernel", "kernel"), tried);
    }

    @Test
    void kernelForcedIdmapsOrRebuildsAndNeverFallsBack() {
        assertEquals("kernel", shift(TreeShape.DIRECTORY, Backend.KERNEL).backend());
        assertEquals("kernel", shift(TreeShape.FILE, Backend.KERNEL).backend());
        assertEquals("overlay", shift(TreeShape.OVERLAY, Backend.KERNEL).backend());
        kernel.refuses = true;
        overlay.refuses = true;
        assertEquals("kernel cannot", assertThrows(IdmapUnsupportedException.class,
                () -> shift(TreeShape.DIRECTORY, Backend.KERNEL)).getMessage());
        assertEquals("overlay cannot", assertThrows(IdmapUnsupportedException.class,
                () -> shift(TreeShape.OVERLAY, Backend.KERNEL)).getMessage());
        assertEquals(List.of("kernel", "kernel", "overlay", "kernel", "overlay"), tried);
    }

    @Test
    void fuseForcedServesDirectoriesAndOverlaysItself() {
        assertEquals("fuse", shift(TreeShape.DIRECTORY, Backend.FUSE).backend());
        assertEquals("fuse", shift(TreeShape.OVERLAY, Backend.FUSE).backend());
        assertEquals("made by fuse", shift(TreeShape.DIRECTORY, Backend.FUSE).how());
        assertEquals(List.of("fuse", "fuse", "fuse"), tried);
    }

    @Test
    void whenNoBackendCanTheFirstRefusalIsPassedOn() {
        kernel.refuses = true;
        fuse.refuses = true;
        assertEquals("kernel cannot", assertThrows(IdmapUnsupportedException.class,
                () -> shift(TreeShape.DIRECTORY, Backend.AUTO)).getMessage());
        assertEquals(List.of("kernel", "fuse"), tried);
    }

    @Test
    void otherFailuresAreNotFallenBackFrom() {
        kernel.fails = true;
        assertThrows(IllegalStateException.class, () -> shift(TreeShape.DIRECTORY, Backend.AUTO));
        assertEquals(List.of("kernel"), tried);
    }

    @Test
    void theWayForATreeProbesTheSameOrder() {
        Shifter.Way way = shifter.wayFor("/t", TreeShape.DIRECTORY, Backend.AUTO);
        assertTrue(way.kernel());
        assertEquals("kernel serves", way.why());

        kernel.refuses = true;
        way = shifter.wayFor("/t", TreeShape.DIRECTORY, Backend.AUTO);
        assertFalse(way.kernel());
        assertEquals("fuse serves: kernel cannot", way.why());

        assertEquals("overlay serves", shifter.wayFor("/t", TreeShape.OVERLAY, Backend.AUTO).why());
        assertTrue(shifter.wayFor("/t", TreeShape.OVERLAY, Backend.AUTO).kernel());

        way = shifter.wayFor("/t", TreeShape.DIRECTORY, Backend.KERNEL);
        assertFalse(way.kernel());
        assertEquals("refused (kernel backend): kernel cannot", way.why());

        overlay.badInput = true;
        assertEquals("refused (auto backend): overlay refuses", shifter.wayFor("/t", TreeShape.OVERLAY, Backend.AUTO).why());
        assertEquals(List.of("kernel", "kernel", "fuse", "overlay", "overlay", "kernel", "overlay"), tried);
    }

    // ---- the daemon's caller: its overlay is rebuilt from checked layers or refused, never a FUSE view ----

    @Test
    void aCallersOverlayIsRebuiltWhateverBackendIsAsked() {
        for (Backend preference : Backend.values()) {
            assertEquals("overlay", shift(callers, TreeShape.OVERLAY, preference).backend(), preference.word());
        }
        assertEquals(List.of("overlay", "overlay", "overlay"), tried);
    }

    @Test
    void aCallersOverlayTheKernelCannotRebuildIsRefusedNotServedThroughFuse() {
        overlay.refuses = true;
        for (Backend preference : Backend.values()) {
            assertEquals("overlay cannot", assertThrows(IdmapUnsupportedException.class,
                    () -> shift(callers, TreeShape.OVERLAY, preference)).getMessage());
        }
        assertEquals(List.of("overlay", "overlay", "overlay"), tried, "the FUSE backend is never asked");
    }

    @Test
    void aCallersDirectoryStillFallsBackToAFuseViewOfIt() {
        kernel.refuses = true;
        ShiftedTree tree = shift(callers, TreeShape.DIRECTORY, Backend.AUTO);
        assertEquals("fuse", tree.backend());
        assertEquals("made by fuse; kernel cannot", tree.how());
        assertEquals(List.of("kernel", "fuse"), tried);
    }

    @Test
    void aLayerTheOpenerRefusesIsNotFallenBackFromForAnyone() {
        overlay.layerRefused = true;
        assertEquals("layer /l is not yours", assertThrows(RefusedException.class,
                () -> shift(TreeShape.OVERLAY, Backend.AUTO)).getMessage());
        assertEquals("layer /l is not yours", assertThrows(RefusedException.class,
                () -> shift(callers, TreeShape.OVERLAY, Backend.AUTO)).getMessage());
        assertEquals(List.of("overlay", "overlay"), tried);
    }

    private ShiftedTree shift(TreeShape shape, Backend preference) {
        return shift(shifter, shape, preference);
    }

    private static ShiftedTree shift(Shifter by, TreeShape shape, Backend preference) {
        IdMap map = IdMap.shift(100000, 65536);
        return by.shift(new ShiftRequest("/t", null, shape, LayerMaps.fixed(map, map), MountAccess.CONTAINER, false, 0), preference);
    }

    /** Serves, cannot (IdmapUnsupportedException), or fails otherwise; notes each call in {@link #tried}. */
    private final class FakeBackend implements ShiftBackend {
        private final String name;
        boolean refuses;
        boolean fails;
        boolean badInput;
        boolean layerRefused;

        FakeBackend(String name) {
            this.name = name;
        }

        @Override
        public ShiftedTree shift(ShiftRequest request) {
            tried.add(name);
            if (refuses) {
                throw new IdmapUnsupportedException(name + " cannot");
            }
            if (fails) {
                throw new IllegalStateException(name + " failed");
            }
            if (layerRefused) {
                throw new RefusedException("layer /l is not yours"); // as the daemon's checked layer opener refuses
            }
            return new ShiftedTree(new Fd(-1), name, false, "made by " + name);
        }

        @Override
        public Probe probe(String path) {
            tried.add(name);
            if (badInput) {
                return Probe.refuses(name + " refuses");
            }
            return refuses ? Probe.cannot(name + " cannot") : Probe.serves(name + " serves");
        }
    }
}
