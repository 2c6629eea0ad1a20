package dev.idshift.marks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.idshift.backend.LayerMaps;
import dev.idshift.backend.kernel.MountInfo;
import dev.idshift.backend.overlay.OverlayLayers;
import dev.idshift.backend.overlay.OverlaySpec;
import dev.idshift.idmap.IdExtent;
import dev.idshift.idmap.IdMap;
import dev.idshift.idmap.IdMapParser;
import dev.idshift.layout.Owner;
import dev.idshift.sys.Fd;
import dev.idshift.sys.Linux;
import dev.idshift.sys.credentials.Credentials;
import dev.idshift.sys.files.FileSyscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class CallerOverlaysTest {
    @Test
    void stDevReadsAsMountinfoWritesIt() {
        assertEquals("0:42", CallerOverlays.device(42));
        assertEquals("8:1", CallerOverlays.device(0x801));
        assertEquals("259:3", CallerOverlays.device((259L & 0xfff) << 8 | 3));
        assertEquals("0:300", CallerOverlays.device(((300L & ~0xffL) << 12) | (300 & 0xff)));
    }

    @Test
    void theTopmostMountAtAPathOfAnotherProcesssTable() {
        String table = "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
                + "74 22 0:42 / /m rw,relatime - overlay overlay ro,lowerdir=/l,upperdir=/u,workdir=/w,userxattr\n"
                + "75 74 0:43 / /m rw - tmpfs tmpfs rw\n"
                + "76 22 0:44 / /with\\040space rw - overlay overlay rw,lowerdir=/l\n";
        assertEquals(new MountInfo.Mount("/", "/m", "tmpfs", "rw", "0:43"), MountInfo.mountAt(table, "/m"));
        assertEquals("overlay", MountInfo.mountAt(table, "/with space").fsType());
        assertNull(MountInfo.mountAt(table, "/l"));
    }

    /**
     * The opener the engine's overlay backend is given for a caller: each layer is accepted only as
     * an inode beneath a mark the caller may use, whose ancestors are still safe, and the fd handed
     * over is that inode; the overlay is shown only at its own mount point. The caller here is this
     * process (/proc/self); reopening by file handle needs root.
     */
    @Test
    void theCallersOpenerHandsOverOnlyInodesBeneathItsUsableMarks() throws IOException {
        assumeTrue(Credentials.get().geteuid() == 0, "open_by_handle_at: root only");
        Path base = Files.createTempDirectory("caller-overlays").toRealPath();
        try (Fd procDir = new Fd(FileSyscalls.get().open("/proc/self", Linux.O_PATH | Linux.O_DIRECTORY))) {
            Path mine = Files.createDirectories(base.resolve("mine/l"));
            Path unmarked = Files.createDirectories(base.resolve("unmarked/l"));
            Path loosened = Files.createDirectories(base.resolve("loosened/l"));
            Files.setPosixFilePermissions(loosened.getParent(), PosixFilePermissions.fromString("rwxrwxrwx"));
            Files.createSymbolicLink(base.resolve("link"), unmarked);
            // Forced: a temporary directory is beneath world-writable /tmp; "loosened" is unforced, to be re-checked.
            List<Mark> usable = List.of(new Mark(mine.getParent().toString(), 1000, false, true),
                    new Mark(loosened.getParent().toString(), 1000, false, false));
            OverlaySpec spec = new OverlaySpec("/m", List.of(mine.toString()), List.of(), null, null, List.of(), true);
            OverlayLayers layers = CallerOverlays.layers(new CallerOverlays.CallerOverlay(spec, new Owner(0, 0)), procDir, usable,
                    Path.of("/etc"));

            assertSame(spec, layers.at("/m"));
            assertSame(spec, layers.at("/m/."));
            assertNull(layers.at("/m/sub"), "only at its mount point");
            assertNull(layers.at("m"));
            assertTrue(layers.lessPrivilegedCaller(), "rebuilt without host root's powers the caller's own overlay lacked");
            assertFalse(OverlayLayers.asSeenHere().lessPrivilegedCaller(), "host root's own overlays are made as before");
            try (Fd layer = layers.open(mine.toString())) {
                assertTrue(Arrays.equals(layer.devIno(), devIno(mine)), "the inode checked is the one handed over");
            }
            assertEquals("overlay /m: layer " + unmarked + " is not a directory inside a mark you may use",
                    assertThrows(Refusal.class, () -> layers.open(unmarked.toString())).getMessage());
            assertEquals("overlay /m: layer " + base.resolve("link") + " is not a directory inside a mark you may use",
                    assertThrows(Refusal.class, () -> layers.open(base.resolve("link").toString())).getMessage(),
                    "judged by what the path opens to");
            assertTrue(assertThrows(Refusal.class, () -> layers.open(loosened.toString())).getMessage()
                    .contains(loosened.getParent().toString()), "a mark loosened since it was made is refused at use");
        } finally {
            try (Stream<Path> all = Files.walk(base)) {
                for (Path path : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) {
                    Files.delete(path);
                }
            }
        }
    }

    @Test
    void eachLayersMapsNameOnlyIdsTheCallerOwns() {
        List<IdExtent> owned = List.of(new IdExtent(1000, 1000, 1), new IdExtent(100000, 100000, 65536));
        CallerIds alice = new CallerIds(CallerIds.Kind.USER, 1000, owned, owned);
        IdMap alices = IdMapParser.parseColonList("0:100000:65536");
        IdMap bobs = IdMapParser.parseColonList("0:200000:65536");
        assertEquals(alices, CallerOverlays.ownedBy(alice, LayerMaps.fixed(alices, alices)).of("/l", new Owner(0, 0)).uids());
        assertEquals("overlay layer /u: uid map " + bobs + " names host uid 200000, which the caller does not own",
                assertThrows(Refusal.class, () -> CallerOverlays.ownedBy(alice, LayerMaps.fixed(bobs, alices))
                        .of("/u", new Owner(0, 0))).getMessage());
    }

    private static long[] devIno(Path path) {
        try (Fd fd = new Fd(FileSyscalls.get().open(path.toString(), Linux.O_PATH | Linux.O_DIRECTORY))) {
            return fd.devIno();
        }
    }
}
