package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.Exec;
import dev.idshift.it.support.Host;
import dev.idshift.it.support.Leftovers;
import dev.idshift.it.support.MountTable;
import dev.idshift.it.support.Scratch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** `idshift mount` / `umount` for people: a shifted view of a directory, as the shiftfs letter describes. */
class MountCommandTest {
    private static Exec.Result idshift(String... args) {
        List<String> command = new java.util.ArrayList<>(List.of(Host.launcher().toString()));
        command.addAll(List.of(args));
        return Exec.run(command);
    }

    @Test
    void shiftedViewShowsMappedOwnersAndWritesMapBack() throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch()) {
            Path source = scratch.dir("source");
            Path view = scratch.dir("view");
            Files.writeString(source.resolve("by-root"), "x");
            Files.writeString(source.resolve("by-1000"), "x");
            Exec.ok(List.of("chown", "1000:1000", source.resolve("by-1000").toString()));
            Files.writeString(source.resolve("by-5000"), "x");
            Exec.ok(List.of("chown", "5000:5000", source.resolve("by-5000").toString()));

            Exec.Result mounted = idshift("mount", "-o", "uidmap=0:100000:1000,1000:1000:1,gidmap=0:100000:1000,1000:1000:1",
                    source.toString(), view.toString());
            try {
                assertEquals(0, mounted.exit(), mounted.describe());
                assertTrue(mounted.stdout().contains("mounted"), mounted.describe());
                assertEquals("100000:100000", Exec.ok(List.of("stat", "-c", "%u:%g", view.resolve("by-root").toString())).stdout().trim());
                assertEquals("1000:1000", Exec.ok(List.of("stat", "-c", "%u:%g", view.resolve("by-1000").toString())).stdout().trim());
                assertEquals("65534:65534", Exec.ok(List.of("stat", "-c", "%u:%g", view.resolve("by-5000").toString())).stdout().trim());
                // A file made as host uid 100000 through the view lands as 0 on disk.
                Exec.ok(List.of("setpriv", "--reuid=100000", "--regid=100000", "--clear-groups", "touch", view.resolve("made").toString()));
                assertEquals("0:0", Exec.ok(List.of("stat", "-c", "%u:%g", source.resolve("made").toString())).stdout().trim());
            } finally {
                Exec.Result unmounted = idshift("umount", view.toString());
                assertEquals(0, unmounted.exit(), unmounted.describe());
            }
            assertTrue(MountTable.snapshot().stream().noneMatch(line -> line.startsWith(view + " ")), "view unmounted");
        }
    }

    /**
     * An overlay as SRC: the kernel will not idmap it, so it is mounted again on idmapped layers
     * (not FUSE); a write lands unshifted in its upper dir; the original overlay stays free to unmount.
     */
    @Test
    void anOverlayIsRebuiltOnIdmappedLayers() throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch()) {
            dev.idshift.it.support.OverlayImage image = dev.idshift.it.support.OverlayImage.create(scratch.dir("image"));
            Path merged = scratch.dir("merged");
            Path view = scratch.dir("view");
            image.mount(merged);

            Exec.Result mounted = idshift("mount", "--uidmap", "0:100000:65536", merged.toString(), view.toString());
            try {
                assertEquals(0, mounted.exit(), mounted.describe());
                assertTrue(mounted.stdout().contains("overlay rebuilt on 3 idmapped layers"), mounted.describe());
                assertEquals("100000:100000", Exec.ok(List.of("stat", "-c", "%u:%g", view.resolve("bin/busybox").toString())).stdout().trim());
                assertEquals("new\n", Exec.ok(List.of("ls", view.resolve("data/opq").toString())).stdout(), "the opaque dir is honoured");
                Exec.ok(List.of("setpriv", "--reuid=100000", "--regid=100000", "--clear-groups", "touch", view.resolve("tmp/made").toString()));
                assertEquals("0:0", Exec.ok(List.of("stat", "-c", "%u:%g", image.upper.resolve("tmp/made").toString())).stdout().trim());
                Exec.ok(List.of("umount", merged.toString()));
            } finally {
                idshift("umount", view.toString());
            }
        }
    }

    @Test
    void readonlyViewRefusesWrites() throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch()) {
            Path source = scratch.dir("source");
            Path view = scratch.dir("view");
            assertEquals(0, idshift("mount", "--uidmap", "0:100000:65536", "-o", "ro", source.toString(), view.toString()).exit());
            try {
                Exec.Result write = Exec.run(List.of("touch", view.resolve("x").toString()));
                assertTrue(write.exit() != 0 && write.stderr().contains("Read-only"), write.describe());
            } finally {
                idshift("umount", view.toString());
            }
        }
    }

    @Test
    void badArgumentsFailCleanlyAndMountNothing() throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch()) {
            Path source = scratch.dir("source");
            Path view = scratch.dir("view");
            List<String> before = Leftovers.under(scratch.path());

            Exec.Result noMap = idshift("mount", source.toString(), view.toString());
            Exec.Result badMap = idshift("mount", "--uidmap", "0:100000:10,5:200000:10", source.toString(), view.toString());
            Exec.Result noSource = idshift("mount", "--uidmap", "0:100000:10", scratch.path().resolve("missing").toString(), view.toString());
            Exec.Result notMounted = idshift("umount", view.toString());
            Exec.Result usage = idshift("mount", "--uidmap");

            assertEquals(3, noMap.exit(), noMap.describe());
            assertTrue(noMap.stderr().contains("no uid map"), noMap.describe());
            assertEquals(3, badMap.exit(), badMap.describe());
            assertTrue(badMap.stderr().contains("overlap on the inside"), badMap.describe());
            assertEquals(3, noSource.exit(), noSource.describe());
            assertTrue(noSource.stderr().contains("is not an existing directory"), noSource.describe());
            assertEquals(3, notMounted.exit(), notMounted.describe());
            assertTrue(notMounted.stderr().contains("is not a mount point"), notMounted.describe());
            assertEquals(2, usage.exit(), usage.describe());
            assertEquals(before, Leftovers.under(scratch.path()), "nothing mounted or serving for SRC or DST");
        }
    }
}
