package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.Daemon;
import dev.idshift.it.support.Exec;
import dev.idshift.it.support.FuseServers;
import dev.idshift.it.support.MountTable;
import dev.idshift.it.support.Host;
import dev.idshift.it.support.PublicCopy;
import dev.idshift.it.support.RawClient;
import dev.idshift.it.support.Scratch;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** The helper daemon: marks, authorisation from the kernel's peer credentials, faults and load. */
class DaemonTest {
    private static final long USER = 12345;
    private static final String RANGE = "500000:65536";

    /** A marked tree under a 0700 directory, an /etc with a subuid range for USER, a view USER owns. */
    private record Setup(Path marked, Path image, Path view, Path etc, Path state) {
        static Setup in(Scratch scratch) throws Exception {
            Path closed = scratch.dir("closed");
            Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx------"));
            Path marked = Files.createDirectories(closed.resolve("marked"));
            Path image = Files.createDirectories(marked.resolve("image"));
            Files.writeString(image.resolve("file"), "x");
            Path view = scratch.dir("view");
            Exec.ok(List.of("chown", USER + ":" + USER, view.toString()));
            Path etc = scratch.dir("etc");
            Files.writeString(etc.resolve("passwd"), "");
            Files.writeString(etc.resolve("subuid"), USER + ":" + RANGE + "\n");
            Files.writeString(etc.resolve("subgid"), USER + ":" + RANGE + "\n");
            return new Setup(marked, image, view, etc, scratch.dir("state"));
        }
    }

    /** `idshift mount ARGS` run by host uid USER in a user+mount namespace of its own (unshare -Urm). */
    private static Exec.Result mountAsUser(Path launcher, Daemon daemon, Path view, String source, String uidMap) {
        String script = launcher + " mount --socket " + daemon.socket() + " --uidmap " + uidMap + " " + source + " " + view
                + " && stat -c %u:%g " + view + " " + view + "/file";
        return Exec.run(List.of("setpriv", "--reuid=" + USER, "--regid=" + USER, "--clear-groups",
                "unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script), null, Map.of(), 120);
    }

    @Test
    void unprivilegedUserGetsMarkedTreesWithItsOwnIdsOnly() throws Exception {
        Host.requireRoot();
        Host.requireExecutable("setpriv");
        try (Scratch scratch = new Scratch()) {
            Setup setup = Setup.in(scratch);
            Path launcher = PublicCopy.of(scratch);
            Path unmarked = scratch.dir("unmarked");
            Files.createSymbolicLink(setup.marked().resolve("escape"), Path.of("/etc"));
            try (Daemon daemon = Daemon.start(scratch.dir("daemon"), setup.state(), setup.etc())) {
                assertEquals(0, daemon.idshift("mark", setup.marked().toString(), "--allow-subids").exit());

                Exec.Result own = mountAsUser(launcher, daemon, setup.view(), setup.image().toString(), "0:" + USER + ":1");
                Exec.Result subordinate = mountAsUser(launcher, daemon, setup.view(), setup.image().toString(), "0:" + RANGE);
                Exec.Result notMarked = mountAsUser(launcher, daemon, setup.view(), unmarked.toString(), "0:" + USER + ":1");
                Exec.Result escape = mountAsUser(launcher, daemon, setup.view(), setup.marked() + "/escape", "0:" + USER + ":1");
                Exec.Result dotDot = mountAsUser(launcher, daemon, setup.view(), setup.marked() + "/image/../..", "0:" + USER + ":1");
                Exec.Result foreignIds = mountAsUser(launcher, daemon, setup.view(), setup.image().toString(), "0:600000:10");
                Exec.Result hostRoot = mountAsUser(launcher, daemon, setup.view(), setup.image().toString(), "0:0:1");

                assertEquals(0, own.exit(), own.describe());
                assertEquals(List.of("0:0", "0:0"), own.stdout().lines().filter(l -> !l.startsWith("idshift:")).toList(), own.describe());
                assertEquals(0, subordinate.exit(), "its /etc/subuid range: " + subordinate.describe());
                assertRefused(notMarked, "is not a directory inside a mark you may use");
                assertRefused(escape, "is not a directory inside a mark you may use"); // resolved as the caller sees it: /etc
                assertRefused(dotDot, "is not a directory inside a mark you may use");
                assertRefused(foreignIds, "names host uid 600000, which the caller does not own");
                assertRefused(hostRoot, "names host uid 0, which the caller does not own");
            }
        }
    }

    /** A marked overlay (the kernel will not idmap overlayfs): the daemon hands out a FUSE view, whose server goes with the mount. */
    @Test
    void aTreeTheKernelWillNotIdmapIsServedThroughFuse() throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch()) {
            Setup setup = Setup.in(scratch);
            Path layers = setup.marked().getParent();
            Path lower = Files.createDirectories(layers.resolve("lower"));
            Files.writeString(lower.resolve("file"), "from the lower layer");
            Path upper = Files.createDirectories(layers.resolve("upper"));
            Path work = Files.createDirectories(layers.resolve("work"));
            Path overlay = Files.createDirectories(setup.marked().resolve("overlay"));
            // index+nfs_export: overlayfs file handles, which the daemon's authorisation reopens the source by
            Exec.ok(List.of("mount", "-t", "overlay", "overlay", "-o", "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work
                    + ",index=on,nfs_export=on", overlay.toString()));
            Path view = scratch.dir("overlay-view");
            try (Daemon daemon = Daemon.start(scratch.dir("daemon"), setup.state(), setup.etc())) {
                assertEquals(0, daemon.idshift("mark", overlay.toString()).exit());
                Exec.Result kernelOnly = Exec.run(List.of(Host.launcher().toString(), "mount", "--backend", "kernel",
                        "--uidmap", "0:100000:65536", overlay.toString(), view.toString()));
                assertEquals(5, kernelOnly.exit(), "the kernel refuses overlayfs: " + kernelOnly.describe());

                Exec.Result mounted = daemon.idshift("mount", "--daemon", "--socket", daemon.socket().toString(),
                        "--uidmap", "0:100000:65536", overlay.toString(), view.toString());
                assertEquals(0, mounted.exit(), mounted.describe());
                assertTrue(MountTable.snapshot().stream().anyMatch(line -> line.startsWith(view + " ")), "attached");
                assertEquals("from the lower layer", Files.readString(view.resolve("file")));
                assertEquals("100000:100000", Exec.ok(List.of("stat", "-c", "%u:%g", view.resolve("file").toString())).stdout().trim());
                List<Long> servers = FuseServers.servingFor(daemon.pid());
                assertEquals(1, servers.size(), "one FUSE server for the view");

                Exec.ok(List.of("umount", view.toString()));
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (!FuseServers.servingFor(daemon.pid()).isEmpty() && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                assertEquals(List.of(), FuseServers.servingFor(daemon.pid()), "the server exits with the last use of its mount");
            } finally {
                Exec.run(List.of("umount", "-l", overlay.toString()));
            }
        }
    }

    @Test
    void marksAreRootOnlyRefuseReachablePathsAndSurviveRestarts() throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch()) {
            Setup setup = Setup.in(scratch);
            Path open = scratch.dir("open");
            Path launcher = PublicCopy.of(scratch);
            try (Daemon daemon = Daemon.start(scratch.dir("daemon"), setup.state(), setup.etc())) {
                Exec.Result reachable = daemon.idshift("mark", open.toString());
                Exec.Result forced = daemon.idshift("mark", open.toString(), "--force");
                Exec.Result safe = daemon.idshift("mark", setup.marked().toString(), "--owner", String.valueOf(USER));
                Exec.Result notRoot = Exec.run(List.of("setpriv", "--reuid=" + USER, "--regid=" + USER, "--clear-groups",
                        launcher.toString(), "mark", setup.view().toString()), null, Map.of("IDSHIFT_STATE_DIR", setup.state().toString()), 60);

                assertEquals(3, reachable.exit(), reachable.describe());
                assertTrue(reachable.stderr().contains("unprivileged users can traverse"), reachable.describe());
                assertEquals(0, forced.exit(), forced.describe());
                assertEquals(0, safe.exit(), safe.describe());
                assertEquals(3, notRoot.exit(), notRoot.describe());
                assertTrue(notRoot.stderr().contains("only root may change marks"), notRoot.describe());
                assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(setup.state())),
                        "the marks live in a root-only directory");
            }
            try (Daemon restarted = Daemon.start(scratch.dir("daemon2"), setup.state(), setup.etc());
                 RawClient client = new RawClient(restarted.socket())) {
                assertTrue(client.request("{\"version\":1,\"op\":\"status\"}").contains("\"marks\":2"), "marks survive a restart");
                assertTrue(client.request("{\"version\":1,\"op\":\"marks\"}").contains("\"owner\":" + USER));
                assertEquals(0, restarted.idshift("unmark", open.toString()).exit());
                assertTrue(client.request("{\"version\":1,\"op\":\"status\"}").contains("\"marks\":1"));
            }
        }
    }

    @Test
    void garbageHugeLinesDisconnectsAndSilentClientsLeaveTheDaemonServingAndLeakFree() throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch()) {
            Setup setup = Setup.in(scratch);
            try (Daemon daemon = Daemon.start(scratch.dir("daemon"), setup.state(), setup.etc())) {
                assertEquals(0, daemon.idshift("mark", setup.marked().toString()).exit());
                String mount = "{\"version\":1,\"op\":\"mount\",\"source\":\"" + setup.image() + "\",\"uidmap\":\"0:100000:65536\"}";
                try (RawClient warmUp = new RawClient(daemon.socket())) {
                    assertTrue(warmUp.request(mount).contains("\"ok\":true"), "a first mount fills the user namespace cache");
                }
                Thread.sleep(300);
                int fdsBefore = daemon.openFds();

                try (RawClient garbage = new RawClient(daemon.socket())) {
                    assertTrue(garbage.request("this is not json").contains("malformed JSON"));
                    assertTrue(garbage.request("{\"version\":2,\"op\":\"status\"}").contains("version 2 is not supported"));
                    assertTrue(garbage.request("{\"version\":1,\"op\":\"format-disk\"}").contains("unknown op"));
                    assertTrue(garbage.request("{\"version\":1,\"op\":\"mount\",\"source\":\"" + setup.image()
                            + "\",\"uidmap\":\"0:100000:10,5:200000:10\"}").contains("overlap"));
                }
                try (RawClient huge = new RawClient(daemon.socket())) {
                    byte[] tenMegabytes = new byte[10 << 20];
                    Arrays.fill(tenMegabytes, (byte) 'x');
                    try {
                        huge.send(tenMegabytes);
                    } catch (java.io.IOException closedOnUs) {
                        // the daemon may hang up before we finish sending
                    }
                    String answer = huge.readLine();
                    assertTrue(answer == null || answer.contains("longer than"), String.valueOf(answer));
                }
                try (RawClient halfway = new RawClient(daemon.socket())) {
                    halfway.send("{\"version\":1,\"op\":\"mou");
                }
                RawClient silent = new RawClient(daemon.socket());
                for (int i = 0; i < 2000; i++) {
                    try {
                        silent.send(mount + "\n");
                    } catch (java.io.IOException full) {
                        break;
                    }
                }
                try (RawClient stillServing = new RawClient(daemon.socket())) {
                    assertTrue(stillServing.request("{\"version\":1,\"op\":\"status\"}").contains("\"ok\":true"),
                            "served while another client never reads");
                }
                silent.close();

                // 50 clients x 20 mount requests at once.
                ExecutorService clients = Executors.newFixedThreadPool(50);
                List<Future<Integer>> results = new ArrayList<>();
                for (int c = 0; c < 50; c++) {
                    results.add(clients.submit(() -> {
                        int ok = 0;
                        try (RawClient client = new RawClient(daemon.socket())) {
                            for (int r = 0; r < 20; r++) {
                                if (client.request(mount).contains("\"ok\":true")) {
                                    ok++;
                                }
                            }
                        }
                        return ok;
                    }));
                }
                int served = 0;
                for (Future<Integer> result : results) {
                    served += result.get();
                }
                clients.shutdown();
                assertEquals(1000, served);

                long deadline = System.currentTimeMillis() + 30_000;
                while (daemon.openFds() > fdsBefore && System.currentTimeMillis() < deadline) {
                    Thread.sleep(200);
                }
                assertEquals(fdsBefore, daemon.openFds(), "no fd left behind by any of it");
                assertTrue(daemon.alive(), daemon.log());
            }
        }
    }

    @Test
    void socketActivationServesTheSocketSystemdPasses() throws Exception {
        Host.requireRoot();
        Host.requireExecutable("systemd-socket-activate");
        try (Scratch scratch = new Scratch()) {
            Setup setup = Setup.in(scratch);
            Path socket = scratch.path().resolve("activated.sock");
            Process activator = new ProcessBuilder("systemd-socket-activate", "-l", socket.toString(),
                    "-E", "IDSHIFT_STATE_DIR=" + setup.state(), Host.launcher().toString(), "daemon")
                    .redirectErrorStream(true).redirectOutput(scratch.path().resolve("activation.log").toFile()).start();
            try {
                long deadline = System.currentTimeMillis() + 20_000;
                while (!Files.exists(socket) && System.currentTimeMillis() < deadline) {
                    Thread.sleep(20);
                }
                // The first connection makes systemd-socket-activate exec the daemon with the socket as fd 3.
                try (RawClient client = new RawClient(socket)) {
                    assertTrue(client.request("{\"version\":1,\"op\":\"status\"}").contains("\"ok\":true"));
                }
                try (RawClient again = new RawClient(socket)) {
                    assertTrue(again.request("{\"version\":1,\"op\":\"status\"}").contains("\"served\":2"), "one daemon, still serving");
                }
                assertTrue(Files.readString(scratch.path().resolve("activation.log")).contains("serving the socket systemd passed"));
            } finally {
                // By handle: the activator execs into the daemon, so this is the daemon (plus any child, by id).
                activator.descendants().forEach(ProcessHandle::destroy);
                activator.destroy();
                if (!activator.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
                    activator.destroyForcibly();
                }
            }
            assertTrue(Files.readString(scratch.path().resolve("activation.log")).contains("idshift daemon: stopped"));
        }
    }

    private static void assertRefused(Exec.Result result, String reason) {
        assertEquals(6, result.exit(), result.describe());
        assertTrue(result.stderr().contains(reason), "expected \"" + reason + "\": " + result.describe());
        assertTrue(new String(result.stderr().getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8).startsWith("idshift: "));
    }
}
