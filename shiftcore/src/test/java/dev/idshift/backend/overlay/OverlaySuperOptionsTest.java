package dev.idshift.backend.overlay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.backend.IdmapUnsupportedException;
import dev.idshift.failure.UnsupportedException;
import java.util.List;
import org.junit.jupiter.api.Test;

class OverlaySuperOptionsTest {

    @Test
    void readsLayersWithBothEscapingsAndDataOnlyLayers() {
        // As mountinfo showed them on 6.18 for lowerdir=/a\:1:/b\,2:/c 3::/d1::/d2 (\134 = \, \054 = ',', \040 = ' ').
        OverlaySpec spec = OverlaySuperOptions.parse("rw,lowerdir=/a\\134:1:/b\\134\\0542:/c\\0403::/d1::/d2,upperdir=/u\\040x,"
                + "workdir=/w,redirect_dir=on,metacopy=on,xino=off,uuid=on,userxattr,fsync=strict", "/m");
        assertEquals(List.of("/a:1", "/b,2", "/c 3"), spec.lowers());
        assertEquals(List.of("/d1", "/d2"), spec.dataLayers());
        assertEquals("/u x", spec.upper());
        assertEquals("/w", spec.work());
        assertEquals("[redirect_dir=on, metacopy=on, xino=off, uuid=on, userxattr, fsync=strict]", spec.settings().toString());
        assertEquals(6, spec.layerCount());
    }

    @Test
    void readsLayersGivenOneByOne() {
        OverlaySpec spec = OverlaySuperOptions.parse("ro,lowerdir+=/l2,lowerdir+=/l1,datadir+=/d", "/m");
        assertEquals(List.of("/l2", "/l1"), spec.lowers());
        assertEquals(List.of("/d"), spec.dataLayers());
        assertNull(spec.upper());
        assertTrue(spec.readonly());
    }

    @Test
    void refusesOptionsItCannotKeepNamingThem() {
        UnsupportedException index = assertThrows(UnsupportedException.class,
                () -> OverlaySuperOptions.parse("rw,lowerdir=/l,upperdir=/u,workdir=/w,index=on", "/m"));
        assertTrue(index.getMessage().startsWith("overlay /m: option index=on cannot be kept"), index.getMessage());
        assertThrows(UnsupportedException.class, () -> OverlaySuperOptions.parse("rw,lowerdir=/l,frobnicate=1", "/m"));
        assertThrows(UnsupportedException.class, () -> OverlaySuperOptions.parse("rw,lowerdir=/l,fsync=volatile", "/m"));
        assertThrows(UnsupportedException.class, () -> OverlaySuperOptions.parse("rw,lowerdir=/l,volatile", "/m"));
        assertEquals("[index=off]", OverlaySuperOptions.parse("rw,lowerdir=/l,index=off", "/m").settings().toString());
    }

    @Test
    void layersItCannotFindAreLeftToFuse() {
        IdmapUnsupportedException relative = assertThrows(IdmapUnsupportedException.class,
                () -> OverlaySuperOptions.parse("rw,lowerdir=l/ABC:l/DEF,upperdir=x/diff,workdir=x/work", "/m"));
        assertTrue(relative.getMessage().contains("relative"), relative.getMessage());
        assertThrows(IdmapUnsupportedException.class, () -> OverlaySuperOptions.parse("rw,lowerdir+=/,lowerdir+=/", "/m"));
        assertThrows(IdmapUnsupportedException.class, () -> OverlaySuperOptions.parse("rw,upperdir=/u,workdir=/w", "/m"));
    }

    /** containers/storage's relative form (option string longer than a page), on HOME/ID/merged. */
    @Test
    void relativeLayersOfContainersStorageAreResolvedAgainstItsOverlayDir() {
        OverlaySpec spec = OverlaySuperOptions.parse("rw,lowerdir=l/AAA:l/BBB,upperdir=c1/diff,workdir=c1/work",
                "/var/lib/containers/storage/overlay/c1/merged");
        assertEquals(List.of("/var/lib/containers/storage/overlay/l/AAA", "/var/lib/containers/storage/overlay/l/BBB"), spec.lowers());
        assertEquals("/var/lib/containers/storage/overlay/c1/diff", spec.upper());
        assertEquals("/var/lib/containers/storage/overlay/c1/work", spec.work());
        // Not that layout (the upper is not the merged dir's sibling): left to FUSE.
        assertThrows(IdmapUnsupportedException.class, () -> OverlaySuperOptions.parse(
                "rw,lowerdir=l/AAA,upperdir=c2/diff,workdir=c2/work", "/var/lib/containers/storage/overlay/c1/merged"));
    }

    @Test
    void upperAndWorkAreClonedThroughTheirCommonParent() {
        assertEquals("/x/c", OverlayRebuild.commonParent("/x/c/diff", "/x/c/work"));
        assertEquals("/x", OverlayRebuild.commonParent("/x/upper", "/x/w/work"));
    }
}
