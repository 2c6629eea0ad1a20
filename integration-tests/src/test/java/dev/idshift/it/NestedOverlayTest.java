package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.Daemon;
import dev.idshift.it.support.Exec;
import dev.idshift.it.support.FuseServers;
import dev.idshift.it.support.PublicCopy;
import dev.idshift.it.support.Rootfs;
import dev.idshift.it.support.Runtime;
import dev.idshift.it.support.Scratch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * runc inside a user-namespaced runc container whose inner rootfs is an overlay the outer root
 * mounted itself (with userxattr, as a user namespace must) over layers in a marked tree: the
 * inner hook asks the host's daemon, which rebuilds the overlay on idmapped clones of the layers
 * it found and authorised in the outer container's view. No FUSE.
 */
class NestedOverlayTest {
    /** The outer container's root is host 100000: layers stored for it (its 0 on disk as 100000). */
    private static final long OUTER_ROOT = 100000;

    @Test
    void innerContainerOnAnOverlayOwnsItsRootfsThroughTheDaemon() throws Exception {
        Runtime.RUNC.require();
        try (Scratch scratch = new Scratch()) {
            Path closed = scratch.dir("closed");
            Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx------"));
            Path marked = Files.createDirectories(closed.resolve("marked"));
            Path inner = Files.createDirectories(marked.resolve("inner"));
            Path lower = Rootfs.create(inner.resolve("lower"));
            Files.writeString(lower.resolve("root/from-lower"), "lower\n");
            for (String dir : List.of("upper", "work", "rootfs")) {
                Files.createDirectories(inner.resolve(dir));
            }
            Rootfs.shiftOnDisk(inner, OUTER_ROOT);
            byte[] lowerBefore = Files.readAllBytes(lower.resolve("root/from-lower"));
            NestedContainerTest.writeInnerConfig(inner, "stat -c %u:%g / /root/from-lower; echo inner >> /root/from-lower;"
                    + " touch /root/made-inside; echo mounts:; grep ' / / ' /proc/self/mountinfo");
            Path run = scratch.dir("run");
            Path launcher = PublicCopy.of(scratch);
            Path outer = NestedContainerTest.outerBundle(scratch);
            String overlay = "mount -t overlay overlay -o userxattr,lowerdir=/marked/inner/lower,upperdir=/marked/inner/upper,"
                    + "workdir=/marked/inner/work /marked/inner/rootfs";
            NestedContainerTest.writeOuterConfig(outer, marked, run, launcher.getParent().getParent(),
                    overlay + " && cd /marked/inner && " + NestedContainerTest.RUN_INNER + "; umount /marked/inner/rootfs; echo umount-exit=$?");

            try (Daemon daemon = Daemon.start(run, scratch.dir("state"), Path.of("/etc"))) {
                assertEquals(0, daemon.idshift("mark", marked.toString()).exit());

                Exec.Result result = Runtime.RUNC.run(outer);

                String context = result.describe() + "\ndaemon: " + daemon.log();
                assertTrue(result.stdout().contains("inner-exit=0"), context);
                List<String> lines = result.stdout().lines().toList();
                int exit = lines.indexOf("inner-exit=0");
                assertEquals("0:0", lines.get(exit + 1), "the overlay's root is the inner root's: " + context);
                assertEquals("0:0", lines.get(exit + 2), "a lower layer's file too: " + context);
                String rootMount = lines.get(lines.indexOf("mounts:") + 1);
                assertTrue(rootMount.contains(" - overlay idshift-overlay "), "the rebuilt overlay, not FUSE: " + context);
                assertTrue(rootMount.contains("userxattr"), "the caller's userxattr kept: " + context);
                assertTrue(rootMount.split(" ")[5].contains("nodev"), "handed out nodev: " + context);
                assertTrue(result.stdout().contains("umount-exit=0"), "the outer root's overlay is free to unmount: " + context);
                assertTrue(FuseServers.servingFor(daemon.pid()).isEmpty(), "no FUSE server");

                String onDisk = OUTER_ROOT + ":" + OUTER_ROOT;
                assertEquals(onDisk, Rootfs.owner(inner.resolve("upper/root/made-inside")),
                        "a new file lands in the upper dir as the outer root's 0:0, unshifted");
                assertEquals(onDisk, Rootfs.owner(inner.resolve("upper/root/from-lower")), "a copy-up too");
                assertEquals("lower\ninner\n", Files.readString(inner.resolve("upper/root/from-lower")));
                assertTrue(java.util.Arrays.equals(lowerBefore, Files.readAllBytes(lower.resolve("root/from-lower"))),
                        "the lower layer is unchanged");
                assertFalse(Files.exists(lower.resolve("root/made-inside")));
            }
        }
    }
}
