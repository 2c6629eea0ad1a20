package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.Exec;
import dev.idshift.it.support.FuseServers;
import dev.idshift.it.support.Podman;
import dev.idshift.it.support.Rootfs;
import dev.idshift.it.support.Scratch;
import dev.idshift.it.support.Staging;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Real podman with `idshift install podman`: `podman run --rootfs DIR --uidmap ...` over a
 * host-root-owned rootfs, shifted at the precreate stage, cleaned up at poststart/poststop. Each test's
 * hooks keep their records in a run directory of the test's own: what is left there is the test's.
 */
class PodmanTest {
    private static final List<String> ENABLE = List.of("--annotation", "dev.idshift.enable=true");

    @Test
    void annotatedContainerOwnsItsRootfsAndWritesLandUnshifted() throws Exception {
        try (Scratch scratch = new Scratch(); Podman podman = Podman.withOwnRunDirectory(scratch)) {
            Path rootfs = Rootfs.create(scratch.dir("rootfs"));
            List<String> before = Staging.leftovers(podman.runDirectory());

            Exec.Result result = podman.run(withRm(ENABLE), 100000, rootfs, "stat -c %u:%g / /bin; touch /root/from-podman && echo wrote");

            assertEquals(0, result.exit(), result.describe());
            assertEquals(List.of("0:0", "0:0", "wrote"), result.stdout().lines().toList(), result.describe());
            assertEquals("0:0", Rootfs.owner(rootfs.resolve("root/from-podman")));
            assertEquals(before, Staging.leftovers(podman.runDirectory()), "no staging mount or state file left after --rm");
        }
    }

    /** The precreate stage with the FUSE backend: the staged rootfs is a FUSE view; poststop stops its server. */
    @Test
    void fuseBackendAtPrecreate() throws Exception {
        try (Scratch scratch = new Scratch(); Podman podman = Podman.withOwnRunDirectory(scratch)) {
            Path rootfs = Rootfs.create(scratch.dir("rootfs"));
            List<String> before = Staging.leftovers(podman.runDirectory());
            List<String> options = new java.util.ArrayList<>(ENABLE);
            options.addAll(List.of("--annotation", "dev.idshift.backend=fuse"));

            Exec.Result result = podman.run(withRm(options), 100000, rootfs,
                    "stat -c %u:%g / /bin; touch /root/from-podman && echo wrote; grep ' / / ' /proc/self/mountinfo | grep -o fuse.idshift");

            assertEquals(0, result.exit(), result.describe());
            assertEquals(List.of("0:0", "0:0", "wrote", "fuse.idshift"), result.stdout().lines().toList(), result.describe());
            assertEquals("0:0", Rootfs.owner(rootfs.resolve("root/from-podman")));
            assertEquals(before, Staging.leftovers(podman.runDirectory()), "no staging mount or state file left after --rm");
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!FuseServers.serving(rootfs).isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(50);  // podman's cleanup (and with it poststop) runs asynchronously
            }
            assertEquals(List.of(), FuseServers.serving(rootfs), "no FUSE server outlives its container");
        }
    }

    @Test
    void withoutTheAnnotationPodmanBehavesAsToday() throws Exception {
        try (Scratch scratch = new Scratch(); Podman podman = Podman.withOwnRunDirectory(scratch)) {
            Path rootfs = Rootfs.create(scratch.dir("rootfs"));

            Exec.Result result = podman.run(withRm(List.of()), 100000, rootfs, "stat -c %u:%g /");

            assertNotEquals(0, result.exit(), "podman cannot create its mount targets in a rootfs its root cannot write: "
                    + result.describe());
            assertTrue(result.stderr().contains("permission denied"), result.describe());
        }
    }

    @Test
    void annotatedVolumeIsShiftedWithItsOwnLayout() throws Exception {
        try (Scratch scratch = new Scratch(); Podman podman = Podman.withOwnRunDirectory(scratch)) {
            Path rootfs = Rootfs.create(scratch.dir("rootfs"));
            Path data = scratch.dir("data");
            Files.writeString(data.resolve("existing"), "x");
            Path offsetData = scratch.dir("offset-data");
            Exec.ok(List.of("chown", "-R", "300000:300000", offsetData.toString()));
            List<String> before = Staging.leftovers(podman.runDirectory());

            // podman 4.3 splits --annotation values at commas unless the whole annotation is CSV-quoted.
            List<String> options = withRm(List.of("--annotation", "dev.idshift.enable=true", "--annotation",
                    "\"dev.idshift.mounts=/data,/offset\"", "-v", data + ":/data", "-v", offsetData + ":/offset"));
            Exec.Result result = podman.run(options, 100000, rootfs,
                    "stat -c %u:%g /data /data/existing /offset; touch /data/new /offset/new && echo wrote");

            assertEquals(List.of("0:0", "0:0", "0:0", "wrote"), result.stdout().lines().toList(), result.describe());
            assertEquals("0:0", Rootfs.owner(data.resolve("new")));
            assertEquals("300000:300000", Rootfs.owner(offsetData.resolve("new")), "the offset volume keeps its offset");
            assertEquals(before, Staging.leftovers(podman.runDirectory()));
        }
    }

    @Test
    void containerThatFailsToStartLeavesNothingGcCannotRemove() throws Exception {
        try (Scratch scratch = new Scratch(); Podman podman = Podman.withOwnRunDirectory(scratch)) {
            Path rootfs = Rootfs.create(scratch.dir("rootfs"));
            List<String> before = Staging.leftovers(podman.runDirectory());

            // The runtime cannot exec this: precreate has staged, poststart never comes.
            List<String> failing = new ArrayList<>(withRm(ENABLE));
            Exec.Result result = podman.run(failing, 100000, rootfs, "exec /no/such/binary");
            Exec.Result gc = podman.gc("--older-than", "0");

            assertNotEquals(0, result.exit(), result.describe());
            assertEquals(0, gc.exit(), gc.describe());
            assertEquals(before, Staging.leftovers(podman.runDirectory()), "after gc: " + gc.stdout());
        }
    }

    /**
     * A runtime whose create fails runs no poststop. gc removes that staging at once, without the
     * 600 s grace: the podman process that ran precreate has exited, and no poststart was seen.
     */
    @Test
    void gcRemovesTheStagingOfAFailedCreateWithoutWaitingForTheGracePeriod() throws Exception {
        try (Scratch scratch = new Scratch(); Podman podman = Podman.withOwnRunDirectory(scratch)) {
            Path run = podman.runDirectory();
            Exec.Result result = failedCreate(podman, Rootfs.create(scratch.dir("rootfs")));
            List<String> staged = listing(run.resolve("state"));
            Exec.Result gc = podman.gc();

            assertNotEquals(0, result.exit(), result.describe());
            assertEquals(1, staged.size(), "precreate staged, and no poststop came: " + staged);
            assertEquals(0, gc.exit(), gc.describe());
            assertTrue(gc.stdout().startsWith("removed "), gc.stdout());
            assertEquals(List.of(), listing(run.resolve("state")), "after gc with the default grace: " + gc.stdout());
            assertEquals(List.of(), listing(run.resolve("staging")));
        }
    }

    /**
     * The next hook stage that deals with staging (here another container's precreate) removes the
     * staging of a create that failed, without a gc. It keeps what is not gone for sure: a staging
     * directory with no record yet (a precreate in progress), and a container created but not
     * started (`podman container init`: its precreate caller has exited, but runc's init waits
     * pivoted into the staged rootfs), which then starts and runs.
     */
    @Test
    void aLaterStageRemovesTheStagingOfAFailedCreateAndKeepsWhatIsNotGone() throws Exception {
        try (Scratch scratch = new Scratch(); Podman podman = Podman.withOwnRunDirectory(scratch)) {
            Path run = podman.runDirectory();
            Path rootfs = Rootfs.create(scratch.dir("rootfs"));
            Exec.Result failed = failedCreate(podman, rootfs);
            List<String> failedState = listing(run.resolve("state"));
            List<String> failedStaging = listing(run.resolve("staging"));
            Path inProgress = Files.createDirectories(run.resolve("staging/0123456789abcdef0123456789abcdef"));

            String name = "idshift-it-init-" + ProcessHandle.current().pid();
            List<String> create = new ArrayList<>(List.of("create", "--name", name, "--uidmap", "0:100000:65536", "--gidmap",
                    "0:100000:65536", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096", "--net", "none"));
            create.addAll(ENABLE);
            create.addAll(List.of("--rootfs", rootfs.toString(), "/bin/stat", "-c", "%u:%g", "/"));
            try {
                Exec.ok(podman.command(create.toArray(new String[0])));
                Exec.ok(podman.command("init", name));
                List<String> initialized = new ArrayList<>(listing(run.resolve("state")));
                Exec.Result later = podman.run(withRm(ENABLE), 100000, rootfs, "true");
                List<String> afterLater = listing(run.resolve("state"));
                Exec.Result started = Exec.run(podman.command("start", "--attach", name), null, java.util.Map.of(), 120);

                assertNotEquals(0, failed.exit(), failed.describe());
                assertEquals(1, failedState.size(), "precreate staged, and no poststop came: " + failedState);
                assertEquals(1, failedStaging.size(), failedStaging.toString());
                assertEquals(0, later.exit(), later.describe());
                assertEquals(1, initialized.size(), "podman init's precreate removed the failed create's staging: " + initialized);
                assertEquals(initialized, afterLater, "the created, not started container keeps its staging");
                assertTrue(Files.isDirectory(inProgress), "a staging directory without a record is left to gc's grace");
                assertEquals(0, started.exit(), started.describe());
                assertEquals("0:0", started.stdout().trim(), started.describe());
            } finally {
                Exec.run(podman.command("rm", "--force", name), null, java.util.Map.of(), 120);
                Files.deleteIfExists(inProgress);
            }
            assertEquals(List.of(), listing(run.resolve("state")), "its poststop removed the rest");
            assertEquals(List.of(), listing(run.resolve("staging")));
        }
    }

    /** An annotated container whose runtime create fails (no such entrypoint): precreate staged, no poststart, no poststop. */
    private static Exec.Result failedCreate(Podman podman, Path rootfs) {
        List<String> options = new ArrayList<>(withRm(ENABLE));
        options.addAll(List.of("--entrypoint", "/no/such/binary"));
        return podman.run(options, 100000, rootfs, "true");
    }

    private static List<String> listing(Path directory) throws java.io.IOException {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        try (java.util.stream.Stream<Path> entries = Files.list(directory)) {
            return entries.filter(path -> !path.getFileName().toString().equals(".lock")).map(Path::toString).toList();
        }
    }

    @Test
    void execWorksAndGcKeepsARunningContainersStaging() throws Exception {
        try (Scratch scratch = new Scratch(); Podman podman = Podman.withOwnRunDirectory(scratch)) {
            Path rootfs = Rootfs.create(scratch.dir("rootfs"));
            List<String> before = Staging.leftovers(podman.runDirectory());
            String name = "idshift-it-" + Long.toHexString(System.nanoTime());
            List<String> options = new ArrayList<>(ENABLE);
            options.addAll(List.of("--detach", "--name", name));
            try {
                assertEquals(0, podman.run(options, 100000, rootfs, "sleep 60").exit());
                Exec.Result gc = podman.gc("--older-than", "0");
                Exec.Result exec = Exec.run(podman.command("exec", name, "stat", "-c", "%u:%g", "/"));

                assertTrue(gc.stdout().contains("nothing to remove"), "a running container keeps its staging: " + gc.stdout());
                assertEquals("0:0", exec.stdout().trim(), exec.describe());
            } finally {
                Exec.run(podman.command("rm", "--force", "--time", "0", name));
            }
            assertEquals(before, Staging.leftovers(podman.runDirectory()));
        }
    }

    @Test
    void forcedRemovalOfARunningContainerLeavesNothing() throws Exception {
        try (Scratch scratch = new Scratch(); Podman podman = Podman.withOwnRunDirectory(scratch)) {
            Path rootfs = Rootfs.create(scratch.dir("rootfs"));
            List<String> before = Staging.leftovers(podman.runDirectory());
            String name = "idshift-it-" + Long.toHexString(System.nanoTime());
            List<String> options = new ArrayList<>(ENABLE);
            options.addAll(List.of("--detach", "--name", name));
            try {
                Exec.Result started = podman.run(options, 100000, rootfs, "sleep 60");
                assertEquals(0, started.exit(), started.describe());
                Exec.Result inside = Exec.run(podman.command("exec", name, "stat", "-c", "%u:%g", "/"));
                assertEquals("0:0", inside.stdout().trim(), inside.describe());
            } finally {
                Exec.Result removed = Exec.run(podman.command("rm", "--force", "--time", "0", name));
                assertEquals(0, removed.exit(), removed.describe());
            }
            assertEquals(before, Staging.leftovers(podman.runDirectory()));
        }
    }

    @Test
    void twentyContainersInParallelWithDifferentMapsOverOneRootfs() throws Exception {
        try (Scratch scratch = new Scratch(); Podman podman = Podman.withOwnRunDirectory(scratch)) {
            Path rootfs = Rootfs.create(scratch.dir("rootfs"));
            List<String> before = Staging.leftovers(podman.runDirectory());
            ExecutorService pool = Executors.newFixedThreadPool(20);
            try {
                List<Future<Exec.Result>> runs = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    long hostBase = 100000 + i * 65536L;
                    runs.add(pool.submit(() -> podman.run(withRm(ENABLE), hostBase, rootfs,
                            "stat -c %u:%g /; head -1 /proc/self/uid_map")));
                }
                for (int i = 0; i < runs.size(); i++) {
                    Exec.Result result = runs.get(i).get();
                    assertEquals(0, result.exit(), "container " + i + ": " + result.describe());
                    List<String> lines = result.stdout().lines().toList();
                    assertEquals("0:0", lines.get(0), "container " + i + ": " + result.describe());
                    assertEquals(String.valueOf(100000 + i * 65536L), lines.get(1).trim().split("\\s+")[1]);
                }
            } finally {
                pool.shutdownNow();
            }
            assertEquals(before, Staging.leftovers(podman.runDirectory()));
        }
    }

    private static List<String> withRm(List<String> options) {
        List<String> all = new ArrayList<>(List.of("--rm"));
        all.addAll(options);
        return all;
    }
}
