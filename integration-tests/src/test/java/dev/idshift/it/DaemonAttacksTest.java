package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.Daemon;
import dev.idshift.it.support.Exec;
import dev.idshift.it.support.FuseServers;
import dev.idshift.it.support.Host;
import dev.idshift.it.support.HostUser;
import dev.idshift.it.support.PublicCopy;
import dev.idshift.it.support.RawClient;
import dev.idshift.it.support.Scratch;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Issue 10, items 5, 6, 8, 9 and 13: the daemon's handed-out mounts and its availability, attacked
 * by real unprivileged users (their own accounts and /etc/subuid ranges, setpriv, unshare -Ur).
 */
class DaemonAttacksTest {
    /** This suite's users and subordinate ids (3000000-3999999: 15 ranges of 65536, one per user). */
    private static final String PREFIX = "isb";
    private static final long SUBIDS = 3_000_000;
    private static final AtomicInteger NEXT_RANGE = new AtomicInteger(new java.security.SecureRandom().nextInt(15));
    /**
     * "Normal latency" for an answer while the daemon is under attack. Unattacked, p99 is 1-25 ms
     * here; other suites sharing the two cores (load average 12) add single outliers of 100-150 ms
     * even without an attack. Before the fixes, the attacks cost seconds (root's status took 7 s)
     * or a refusal: the bound tells those apart from a busy machine.
     */
    private static final double P99_BOUND_MS = 250;

    /**
     * A marked tree under a 0700 directory holding a root-only block device node ({@code b 7:1},
     * 0600, on-disk root), an /etc for the daemon with the users' ranges, its state and run
     * directories, and the launcher and attack clients where the users can read them.
     */
    private record World(Path closed, Path image, Path etc, Path state, Path run, Path launcher, Path clients) {
        static World in(Scratch scratch, HostUser... users) throws Exception {
            Path closed = scratch.dir("closed");
            Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx------"));
            Path image = Files.createDirectories(closed.resolve("image"));
            Files.writeString(image.resolve("file"), "x");
            Exec.ok(List.of("mknod", "-m", "600", image.resolve("loop").toString(), "b", "7", "1"));
            Path etc = scratch.dir("etc");
            Files.writeString(etc.resolve("passwd"), "");
            StringBuilder subids = new StringBuilder();
            for (HostUser user : users) {
                // By uid: this /etc has no passwd lines, as the daemon's own test /etc in DaemonTest.
                subids.append(user.uid()).append(':').append(user.subidBase()).append(":65536\n");
            }
            Files.writeString(etc.resolve("subuid"), subids);
            Files.writeString(etc.resolve("subgid"), subids);
            Path clients = scratch.dir("clients").resolve("daemon_clients.py");
            try (InputStream script = DaemonAttacksTest.class.getResourceAsStream("/attacks/daemon_clients.py")) {
                Files.copy(script, clients, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.setPosixFilePermissions(clients, PosixFilePermissions.fromString("rw-r--r--"));
            return new World(closed, image, etc, scratch.dir("state"), scratch.dir("run"), PublicCopy.of(scratch), clients);
        }

        /** An overlay (the kernel will not idmap it: the daemon hands out a FUSE view) with the same node. */
        Path overlay() throws Exception {
            Path lower = Files.createDirectories(closed.resolve("lower"));
            Files.writeString(lower.resolve("file"), "from the lower layer");
            Exec.ok(List.of("mknod", "-m", "600", lower.resolve("loop").toString(), "b", "7", "1"));
            Path upper = Files.createDirectories(closed.resolve("upper"));
            Path work = Files.createDirectories(closed.resolve("work"));
            Path overlay = Files.createDirectories(closed.resolve("overlay"));
            // index+nfs_export: overlayfs file handles, which the daemon's authorisation reopens the source by
            Exec.ok(List.of("mount", "-t", "overlay", "overlay", "-o", "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work
                    + ",index=on,nfs_export=on", overlay.toString()));
            return overlay;
        }

        List<String> client(String... arguments) {
            List<String> command = new ArrayList<>(List.of("/usr/bin/python3", clients.toString()));
            command.addAll(List.of(arguments));
            return command;
        }
    }

    private static HostUser user() {
        return HostUser.create(PREFIX, SUBIDS + (NEXT_RANGE.getAndIncrement() % 15) * 65536L);
    }

    private static void requireTools() {
        Host.requireRoot();
        Host.requireExecutable("setpriv");
        Host.requireExecutable("useradd");
        Host.require(Files.isExecutable(Path.of("/usr/bin/python3")), "/usr/bin/python3 (the attack clients) is not installed");
    }

    /**
     * Item 5 (and 13): a root-only device node in a marked tree shows as the caller's own through
     * the daemon's mount, but opens neither through the kernel idmapped mount nor through the FUSE
     * view, not even after the caller tries to remount them "dev" in its own namespace. The reply,
     * and `idshift mount`, say which backend made the mount.
     */
    @Test
    void deviceNodesDoNotOpenThroughHandedOutMountsEvenRemountedDev() throws Exception {
        requireTools();
        try (Scratch scratch = new Scratch(); HostUser owner = user()) {
            World world = World.in(scratch, owner);
            Path overlay = world.overlay();
            try (Daemon daemon = Daemon.start(scratch.dir("daemon"), world.state(), world.etc(), Map.of("IDSHIFT_RUN_DIR", world.run().toString()))) {
                assertEquals(0, daemon.idshift("mark", world.image().toString(), "--owner", String.valueOf(owner.uid())).exit());
                assertEquals(0, daemon.idshift("mark", overlay.toString(), "--owner", String.valueOf(owner.uid())).exit());

                for (Path source : List.of(world.image(), overlay)) {
                    Path view = scratch.dir("view-" + source.getFileName());
                    Exec.ok(List.of("chown", owner.uid() + ":" + owner.uid(), view.toString()));
                    String script = world.launcher() + " mount --socket " + daemon.socket() + " --uidmap 0:" + owner.uid() + ":1 --gidmap 0:" + owner.gid() + ":1 "
                            + source + " " + view + " || exit 10\n"
                            + "echo \"owner $(stat -c %u:%g:%a " + view + "/loop)\"\n"
                            + "( exec 3<" + view + "/loop ) 2>/dev/null && echo OPENED\n"
                            + "mount -o remount,bind,dev " + view + " 2>/dev/null && echo REMOUNTED\n"
                            + "( exec 3<" + view + "/loop ) 2>/dev/null && echo OPENED-AFTER-REMOUNT\n"
                            + "grep \" " + view + " \" /proc/self/mountinfo\n";
                    Exec.Result attack = runAs(owner, List.of("unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script), 120);

                    String backend = source.equals(overlay) ? "fuse" : "kernel";
                    assertEquals(0, attack.exit(), attack.describe());
                    assertTrue(attack.stdout().contains("backend " + backend), "idshift mount names the backend: " + attack.describe());
                    assertTrue(attack.stdout().contains("owner 0:0:600"), "the node shows as the caller's own (root in its namespace): "
                            + attack.describe());
                    assertFalse(attack.stdout().contains("OPENED"), "a device node opened through the " + backend + " mount: " + attack.describe());
                    assertFalse(attack.stdout().contains("REMOUNTED"), "the caller took nodev off: " + attack.describe());
                    assertTrue(attack.stdout().lines().anyMatch(line -> line.contains(" " + view + " ") && line.contains("nodev")),
                            "mounted nodev: " + attack.describe());
                }

                try (RawClient root = new RawClient(daemon.socket())) {
                    String kernel = root.request("{\"version\":1,\"op\":\"mount\",\"source\":\"" + world.image() + "\",\"uidmap\":\"0:100000:65536\"}");
                    String fuse = root.request("{\"version\":1,\"op\":\"mount\",\"source\":\"" + overlay + "\",\"uidmap\":\"0:100000:65536\"}");
                    assertTrue(kernel.contains("\"ok\":true") && kernel.contains("\"backend\":\"kernel\""), kernel);
                    assertTrue(fuse.contains("\"ok\":true") && fuse.contains("\"backend\":\"fuse\""), fuse);
                }
            } finally {
                Exec.run(List.of("umount", "-l", overlay.toString()));
            }
        }
    }

    /**
     * Item 6: while the daemon sets FUSE views up, another user (with no right to the mark) polls
     * the set-up directory and never opens a view, nor sees one in its mount table: the views are
     * mounted in the daemon's private mount namespace, under a root-only (0700) directory.
     */
    @Test
    void anotherUserNeverOpensAFuseViewWhileTheDaemonSetsItUp() throws Exception {
        requireTools();
        try (Scratch scratch = new Scratch(); HostUser outsider = user()) {
            World world = World.in(scratch, outsider);
            Path overlay = world.overlay();
            try (Daemon daemon = Daemon.start(scratch.dir("daemon"), world.state(), world.etc(), Map.of("IDSHIFT_RUN_DIR", world.run().toString()))) {
                assertEquals(0, daemon.idshift("mark", overlay.toString()).exit());
                Path setUp = world.run().resolve("daemon-fuse");
                Process poller = new ProcessBuilder(outsider.as(world.client("poll", setUp + "/view-*/file", "25")))
                        .redirectErrorStream(true).start();
                try {
                    int views = 0;
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                    while (views < 8 && System.nanoTime() < deadline) {
                        try (RawClient root = new RawClient(daemon.socket())) {
                            String answer = root.request("{\"version\":1,\"op\":\"mount\",\"source\":\"" + overlay
                                    + "\",\"uidmap\":\"0:100000:65536\"}");
                            assertTrue(answer.contains("\"backend\":\"fuse\""), answer);
                        }
                        views++;
                    }
                    assertTrue(views >= 3, "the daemon set up only " + views + " views in 20 s");
                    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(setUp)));
                    assertEquals(0, (int) (Integer) Files.getAttribute(setUp, "unix:uid"));
                    String polled = output(poller, 40);
                    assertTrue(polled.contains("opened=0 seen=0"), "the other user reached a view being set up: " + polled);
                    assertTrue(polled.contains("mounted=0"), "a view being set up showed in the host's mount table: " + polled);
                } finally {
                    poller.destroyForcibly();
                }
                waitUntil(() -> FuseServers.servingFor(daemon.pid()).isEmpty(), 15);
            } finally {
                Exec.run(List.of("umount", "-l", overlay.toString()));
            }
        }
    }

    /** Item 8: 200 requests carrying 12 fds each: every one is closed, and root is still served. */
    @Test
    void fdsSentWithRequestsAreAllClosed() throws Exception {
        requireTools();
        try (Scratch scratch = new Scratch(); HostUser attacker = user()) {
            World world = World.in(scratch, attacker);
            try (Daemon daemon = Daemon.start(scratch.dir("daemon"), world.state(), world.etc(), Map.of("IDSHIFT_RUN_DIR", world.run().toString()))) {
                assertEquals(0, daemon.idshift("mark", world.image().toString()).exit());
                String mount = "{\"version\":1,\"op\":\"mount\",\"source\":\"" + world.image() + "\",\"uidmap\":\"0:100000:65536\"}";
                try (RawClient warmUp = new RawClient(daemon.socket())) {
                    assertTrue(warmUp.request(mount).contains("\"ok\":true"), "a first mount fills the caches");
                }
                Thread.sleep(300);
                int baseline = daemon.openFds();

                Exec.Result flood = runAs(attacker, world.client("fds", daemon.socket().toString(), "200", "12"), 120);
                assertEquals(0, flood.exit(), flood.describe());
                assertTrue(flood.stdout().contains("answered=200"), flood.describe());

                try (RawClient root = new RawClient(daemon.socket())) {
                    assertTrue(root.request(mount).contains("\"ok\":true"), "root is still served");
                }
                waitUntil(() -> daemon.openFds() <= baseline, 10);
                assertEquals(baseline, daemon.openFds(), "every fd a client sent was closed (2,400 sent)");
            }
        }
    }

    /**
     * Item 9: one user holding 300 trickling connections, then pipelining 20,000 requests it never
     * reads on 4 connections: root's and another user's status and mount requests are meanwhile
     * answered within normal latency, and afterwards the daemon's threads and fds are back.
     */
    @Test
    void oneUserCannotStarveRootOrOtherUsers() throws Exception {
        requireTools();
        try (Scratch scratch = new Scratch(); HostUser attacker = user(); HostUser other = user()) {
            World world = World.in(scratch, attacker, other);
            try (Daemon daemon = Daemon.start(scratch.dir("daemon"), world.state(), world.etc(), Map.of("IDSHIFT_RUN_DIR", world.run().toString()))) {
                assertEquals(0, daemon.idshift("mark", world.image().toString(), "--allow-subids").exit());
                String socket = daemon.socket().toString();
                String status = "{\"version\":1,\"op\":\"status\"}";
                String rootMount = "{\"version\":1,\"op\":\"mount\",\"source\":\"" + world.image() + "\",\"uidmap\":\"0:100000:65536\"}";
                String otherMount = "{\"version\":1,\"op\":\"mount\",\"source\":\"" + world.image() + "\",\"uidmap\":\"0:" + other.uid() + ":1\",\"gidmap\":\"0:" + other.gid() + ":1\"}";
                // Warm: the caches and a few connection threads, as a running daemon has them.
                assertAnswered(Exec.run(world.client("latency", socket, "20", rootMount)), "warm-up");
                assertAnswered(runAs(other, world.client("latency", socket, "20", otherMount), 60), "warm-up");
                Thread.sleep(500);
                int fds = daemon.openFds();
                int threads = daemon.threads();

                // Half from the host, half from a user namespace of the attacker's own: one principal.
                Process trickle = new ProcessBuilder(attacker.as(world.client("trickle", socket, "150", "14"))).redirectErrorStream(true).start();
                List<String> inNamespace = new ArrayList<>(List.of("unshare", "--user", "--map-root-user"));
                inNamespace.addAll(world.client("trickle", socket, "150", "14"));
                Process nested = new ProcessBuilder(attacker.as(inNamespace)).redirectErrorStream(true).start();
                try {
                    assertTrue(firstLine(trickle).startsWith("connected=150"), "the attacker holds its connections");
                    assertTrue(firstLine(nested).startsWith("connected=150"), "and more from its user namespace");
                    underAttack(world, other, socket, status, rootMount, otherMount, "300 trickling connections");
                    Map<String, String> host = keyValues(output(trickle, 60));
                    Map<String, String> namespaced = keyValues(output(nested, 60));
                    String both = host + " " + namespaced;
                    assertEquals("0", host.get("open"), "no trickling connection outlives the line deadline: " + both);
                    assertEquals("0", namespaced.get("open"), "no trickling connection outlives the line deadline: " + both);
                    int cut = Integer.parseInt(host.get("cut")) + Integer.parseInt(namespaced.get("cut"));
                    assertTrue(cut <= 32, "one user, whatever its namespaces, holds at most its share of 32: " + both);
                    assertEquals(300, cut + Integer.parseInt(host.get("refused")) + Integer.parseInt(namespaced.get("refused")), both);
                } finally {
                    trickle.destroyForcibly();
                    nested.destroyForcibly();
                }

                Process pipeline = new ProcessBuilder(attacker.as(world.client("pipeline", socket, "4", "5000", "15")))
                        .redirectErrorStream(true).start();
                try {
                    assertTrue(firstLine(pipeline).startsWith("started=4"));
                    Thread.sleep(1000);
                    underAttack(world, other, socket, status, rootMount, otherMount, "20,000 pipelined unread requests");
                    String piped = output(pipeline, 90);
                    for (String answers : piped.split("\\s+")) {
                        if (answers.startsWith("answers=")) {
                            assertTrue(Integer.parseInt(answers.substring(8)) < 100,
                                    "a connection that does not read gets few answers before it is cut off: " + piped);
                        }
                    }
                } finally {
                    pipeline.destroyForcibly();
                }

                // Idle connection threads end after 30 s.
                waitUntil(() -> daemon.openFds() <= fds && daemon.threads() <= threads, 60);
                assertTrue(daemon.openFds() <= fds, "fds back to " + fds + ": " + daemon.openFds());
                assertTrue(daemon.threads() <= threads, "threads back to " + threads + ": " + daemon.threads());
                assertTrue(daemon.alive(), daemon.log());
            }
        }
    }

    /** Root's and the other user's status and mount requests, 20 each, all answered within the bound. */
    private static void underAttack(World world, HostUser other, String socket, String status, String rootMount, String otherMount,
                                    String attack) {
        assertLatency(Exec.run(world.client("latency", socket, "20", status)), "root's status under " + attack);
        assertLatency(Exec.run(world.client("latency", socket, "20", rootMount)), "root's mount under " + attack);
        assertLatency(runAs(other, world.client("latency", socket, "20", status), 60), "another user's status under " + attack);
        assertLatency(runAs(other, world.client("latency", socket, "20", otherMount), 60), "another user's mount under " + attack);
    }

    private static Map<String, String> assertAnswered(Exec.Result result, String what) {
        assertEquals(0, result.exit(), what + ": " + result.describe());
        Map<String, String> values = keyValues(result.stdout());
        assertEquals("20", values.get("ok"), what + ": every request answered ok: " + result.describe());
        return values;
    }

    private static void assertLatency(Exec.Result result, String what) {
        Map<String, String> values = assertAnswered(result, what);
        System.out.println(what + ": " + result.stdout().trim());
        double p99 = Double.parseDouble(values.get("p99"));
        assertTrue(p99 < P99_BOUND_MS, what + ": p99 " + p99 + " ms (bound " + P99_BOUND_MS + " ms): " + result.describe());
    }

    private static Exec.Result runAs(HostUser user, List<String> command, int timeoutSeconds) {
        return Exec.run(user.as(command), null, Map.of(), timeoutSeconds);
    }

    private static Map<String, String> keyValues(String line) {
        Map<String, String> values = new HashMap<>();
        for (String pair : line.trim().split("\\s+")) {
            int equals = pair.indexOf('=');
            if (equals > 0) {
                values.put(pair.substring(0, equals), pair.substring(equals + 1));
            }
        }
        return values;
    }

    private static String firstLine(Process process) throws IOException {
        String line = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)).readLine();
        return line == null ? "" : line;
    }

    private static String output(Process process, int timeoutSeconds) throws Exception {
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return "(did not finish within " + timeoutSeconds + " s)";
        }
        return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    private interface Condition {
        boolean holds() throws Exception;
    }

    private static void waitUntil(Condition condition, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.holds() && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
    }
}
