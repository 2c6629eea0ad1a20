package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.Exec;
import dev.idshift.it.support.FuseServers;
import dev.idshift.it.support.MountTable;
import dev.idshift.it.support.Podman;
import dev.idshift.it.support.Rootfs;
import dev.idshift.it.support.Scratch;
import dev.idshift.it.support.Staging;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * podman with an overlay rootfs from an image store: `podman mount` of a container (podman's
 * overlay driver, mounted by host root) used as another container's --rootfs, shifted at the
 * precreate stage by rebuilding the overlay; and dev.idshift.mounts=* shifting podman's own file
 * binds (/etc/hosts, /etc/hostname) as well.
 */
class OverlayPodmanTest {

    @Test
    void podmanMountedOverlayAsRootfsWithEveryBindShifted() throws Exception {
        try (Scratch scratch = new Scratch(); Podman podman = Podman.withOwnRunDirectory(scratch)) {
            Path store = scratch.dir("engine");
            List<String> engine = List.of("podman", "--root", store.resolve("root").toString(), "--runroot", store.resolve("run").toString(),
                    "--storage-driver", "overlay", "--cgroup-manager", "cgroupfs");
            Path image = Rootfs.create(scratch.dir("image"));
            Path tar = scratch.path().resolve("image.tar");
            Exec.ok(List.of("tar", "-C", image.toString(), "-cf", tar.toString(), "."));
            podmanOk(engine, "import", tar.toString(), "idshift-it-overlay-image");
            String container = podmanOk(engine, "create", "idshift-it-overlay-image", "/bin/true").trim();
            try {
                String merged = podmanOk(engine, "mount", container).trim();
                List<String> before = Staging.leftovers(podman.runDirectory());

                List<String> options = new ArrayList<>(List.of("--rm", "--annotation", "dev.idshift.enable=true",
                        "--annotation", "dev.idshift.mounts=*"));
                Exec.Result result = podman.run(options, 100000, Path.of(merged),
                        "stat -c '%n %u:%g' / /bin /etc/hosts /etc/hostname; touch /root/from-podman && echo wrote;"
                                + " echo 10.0.0.1 extra >> /etc/hosts && echo hosts-writable;"
                                + " grep ' / / ' /proc/self/mountinfo | grep -o idshift-overlay");

                assertEquals(0, result.exit(), "mounts=* no longer fails on podman's file binds: " + result.describe());
                assertEquals(List.of("/ 0:0", "/bin 0:0", "/etc/hosts 0:0", "/etc/hostname 0:0", "wrote", "hosts-writable", "idshift-overlay"),
                        result.stdout().lines().toList(), result.describe());
                Path upper = Path.of(merged).getParent().resolve("diff");
                assertEquals("0:0", Rootfs.owner(upper.resolve("root/from-podman")), "written unshifted into podman's upper dir");
                assertEquals(List.of(), FuseServers.serving(Path.of(merged)), "no FUSE server");
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (!Staging.leftovers(podman.runDirectory()).equals(before) && System.nanoTime() < deadline) {
                    Thread.sleep(100);  // podman's cleanup, and with it poststop, runs asynchronously
                }
                assertEquals(before, Staging.leftovers(podman.runDirectory()), "no staging mount or state file left after --rm");

                podmanOk(engine, "umount", container);
                assertFalse(MountTable.snapshot().stream().anyMatch(line -> line.startsWith(merged + " ")),
                        "the engine's overlay unmounted right after: nothing of idshift keeps it");
                assertTrue(Exec.ok(List.of("sh", "-c", "ls -A \"$0\"/l1 2>/dev/null; true", store.toString())).stdout().isEmpty());
            } finally {
                Exec.run(command(engine, "rm", "--force", container), null, Map.of(), 60);
                Exec.run(command(engine, "rmi", "--force", "idshift-it-overlay-image"), null, Map.of(), 60);
            }
        }
    }

    private static String podmanOk(List<String> engine, String... arguments) {
        Exec.Result result = Exec.run(command(engine, arguments), null, Map.of(), 120);
        assertEquals(0, result.exit(), result.describe());
        return result.stdout();
    }

    private static List<String> command(List<String> engine, String... arguments) {
        List<String> command = new ArrayList<>(engine);
        command.addAll(List.of(arguments));
        return command;
    }
}
