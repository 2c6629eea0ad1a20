package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.BundleBuilder;
import dev.idshift.it.support.Daemon;
import dev.idshift.it.support.Exec;
import dev.idshift.it.support.Host;
import dev.idshift.it.support.HostUser;
import dev.idshift.it.support.Podman;
import dev.idshift.it.support.Rootfs;
import dev.idshift.it.support.Runtime;
import dev.idshift.it.support.Scratch;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hooks without a JVM per stage (bin/idshift and the daemon's hook channel): stages with nothing to
 * do start no JVM; stages with work done by the daemon give exactly what the in-process hook gives;
 * a daemon that is killed, stopped or hung costs at most the timeout; only root can use the channel.
 * Every test has its own run directory (IDSHIFT_RUN_DIR) and its own daemon.
 */
class HookChannelTest {
    /** A "java" that fails: a hook that still exits 0 with it started no JVM. */
    private static final String NO_JAVA = "IDSHIFT_JAVA=/bin/false";
    /** This suite's share of test users: names "isd...", subordinate ids from 6000000. */
    private static final String USER_PREFIX = "isd";
    private static final long USER_SUBIDS = 6_000_000;

    /** A bundle on ROOTFS with idshift at createRuntime and poststop, using RUN as its run directory. */
    private static Path bundle(Path directory, Path rootfs, Path run, List<String> extraEnv) throws Exception {
        List<String> env = new ArrayList<>(List.of("IDSHIFT_RUN_DIR=" + run));
        env.addAll(extraEnv);
        String launcher = Host.launcher().toString();
        return new BundleBuilder(directory).rootPath(rootfs.toString())
                .hook("createRuntime", launcher, List.of("idshift", "hook", "createRuntime"), env)
                .hook("poststop", launcher, List.of("idshift", "hook", "poststop"), env)
                .script(ProtectedPathsTest.DUMP).write();
    }

    private static Daemon daemon(Scratch scratch, Path run, Map<String, String> environment) throws Exception {
        Map<String, String> env = new java.util.HashMap<>(environment);
        env.put("IDSHIFT_RUN_DIR", run.toString());
        env.put("IDSHIFT_DEBUG", "1");
        return Daemon.start(scratch.dir("daemon"), scratch.dir("state"), Path.of("/etc"), env);
    }

    /** What is left in RUN/hookd besides the channel itself: a launcher's files left behind. */
    private static List<String> leftovers(Path run) throws Exception {
        Path hookd = run.resolve("hookd");
        if (!Files.isDirectory(hookd)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(hookd)) {
            return entries.map(path -> path.getFileName().toString())
                    .filter(name -> !name.equals("requests") && !name.equals("daemon.pid") && !name.equals("env-default-signal")).sorted().toList();
        }
    }

    private static void assertShiftedLikeInProcess(ProtectedPathsTest.View inProcess, ProtectedPathsTest.View viaDaemon) {
        assertTrue(inProcess.rootOwnedByContainer(), "in-process hook shifted: " + inProcess.raw());
        assertTrue(viaDaemon.rootOwnedByContainer(), "daemon shifted: " + viaDaemon.raw());
        for (String path : ProtectedPathsTest.protectedPaths()) {
            assertEquals(inProcess.linesAt(path), viaDaemon.linesAt(path), path + " differs;\nin-process:\n" + inProcess.raw()
                    + "\nvia the daemon:\n" + viaDaemon.raw());
        }
        assertEquals(inProcess.probes(), viaDaemon.probes());
        assertEquals("sys-readonly", viaDaemon.probe("sys-"));
        assertEquals("keys=0", viaDaemon.probe("keys="));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.idshift.it.Runtimes#all")
    void theDaemonPathGivesWhatTheInProcessPathGives(Runtime runtime) throws Exception {
        runtime.require();
        try (Scratch scratch = new Scratch()) {
            Path rootfs = Rootfs.create(scratch.dir("rootfs"));
            Path run = scratch.dir("run");
            Path inProcessBundle = bundle(scratch.dir("jvm"), rootfs, run, List.of());
            Path daemonBundle = bundle(scratch.dir("daemon-bundle"), rootfs, run, List.of(NO_JAVA));

            ProtectedPathsTest.View inProcess = ProtectedPathsTest.View.of(runtime.run(inProcessBundle));
            String writtenInProcess = Rootfs.owner(rootfs.resolve("root-write-probe"));
            Files.delete(rootfs.resolve("root-write-probe"));
            ProtectedPathsTest.View viaDaemon;
            try (Daemon daemon = daemon(scratch, run, Map.of())) {
                viaDaemon = ProtectedPathsTest.View.of(runtime.run(daemonBundle));
                assertTrue(awaitLog(daemon, log -> log.contains("createRuntime: exit 0")), "the daemon did the work: " + daemon.log());
            }

            assertShiftedLikeInProcess(inProcess, viaDaemon);
            assertEquals("0:0", writtenInProcess, "in-process: written unshifted");
            assertEquals("0:0", Rootfs.owner(rootfs.resolve("root-write-probe")), "via the daemon: written unshifted");
            assertEquals(List.of(), leftovers(run));
            assertFalse(Files.exists(run.resolve("hookd")), "a stopped daemon takes its channel along");
        }
    }

    @Test
    void podmanThroughTheDaemonGivesWhatTheInProcessHookGives() throws Exception {
        try (Scratch scratch = new Scratch()) {
            Path run = scratch.dir("run");
            try (Podman podman = Podman.in(scratch, List.of("--env", "IDSHIFT_RUN_DIR=" + run))) {
                Path rootfs = Rootfs.create(scratch.dir("rootfs"));
                String script = "stat -c %u:%g / /bin; touch /root/from-podman && echo wrote";
                List<String> options = List.of("--rm", "--annotation", "dev.idshift.enable=true");

                Exec.Result inProcess = podman.run(options, 100000, rootfs, script);
                String ownerInProcess = Rootfs.owner(rootfs.resolve("root/from-podman"));
                Files.delete(rootfs.resolve("root/from-podman"));
                Exec.Result viaDaemon;
                try (Daemon daemon = daemon(scratch, run, Map.of())) {
                    viaDaemon = podman.run(options, 100000, rootfs, script);
                    assertTrue(awaitLog(daemon, log -> log.contains("precreate: exit 0")), "the daemon did precreate: " + daemon.log());
                    podman.close();  // waits for podman's asynchronous cleanup (poststop), with the daemon still up
                }

                assertEquals(0, inProcess.exit(), inProcess.describe());
                assertEquals(List.of("0:0", "0:0", "wrote"), inProcess.stdout().lines().toList(), inProcess.describe());
                assertEquals(inProcess.stdout(), viaDaemon.stdout(), viaDaemon.describe());
                assertEquals("0:0", ownerInProcess);
                assertEquals("0:0", Rootfs.owner(rootfs.resolve("root/from-podman")));
                assertEquals(List.of(), entries(run.resolve("state")), "no staging record left");
                assertEquals(List.of(), entries(run.resolve("staging")), "no staging mount left");
            }
        }
    }

    private static List<String> entries(Path directory) throws Exception {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(directory)) {
            return entries.filter(path -> !path.getFileName().toString().equals(".lock")).map(Path::toString).toList();
        }
    }

    /**
     * Many hooks at once, all through the daemon (no JVM: IDSHIFT_JAVA fails): every one answered,
     * nothing left behind. Each poststop takes the staging store's lock, which threads of one JVM
     * must share too.
     */
    @Test
    void concurrentHooksAreAllAnsweredByTheDaemon() throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch()) {
            Path run = scratch.dir("run");
            Files.createDirectories(run.resolve("state"));
            // Another container's record: a poststop naming a staging secret then has work to do.
            Files.writeString(run.resolve("state/fedcba9876543210fedcba9876543210.json"),
                    "{\"version\":1,\"key\":\"fedcba9876543210fedcba9876543210\",\"createdAtMs\":1,\"mounts\":[]}");
            byte[] state = ("{\"ociVersion\":\"1.0.2\",\"id\":\"isd-many\",\"status\":\"stopped\",\"pid\":0,\"bundle\":\"/nonexistent\","
                    + "\"annotations\":{\"dev.idshift.staging\":\"0123456789abcdef0123456789abcdef\"}}").getBytes(StandardCharsets.UTF_8);
            Map<String, String> env = Map.of("IDSHIFT_RUN_DIR", run.toString(), "IDSHIFT_JAVA", "/bin/false");
            try (Daemon daemon = daemon(scratch, run, Map.of())) {
                java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(30);
                List<java.util.concurrent.Future<Exec.Result>> results = new ArrayList<>();
                for (int i = 0; i < 30; i++) {
                    results.add(pool.submit(() -> hook("poststop", state, env)));
                }
                for (java.util.concurrent.Future<Exec.Result> result : results) {
                    assertEquals(0, result.get().exit(), result.get().describe() + "\n" + daemon.log());
                }
                pool.shutdown();
                awaitLog(daemon, log -> log.split("poststop: exit 0", -1).length - 1 >= 30);
                assertEquals(30, daemon.log().split("poststop: exit 0", -1).length - 1, daemon.log());
            }
            assertEquals(List.of(), leftovers(run));
        }
    }

    /** `idshift install podman --env K=V` puts the hooks' environment into every hooks.d file; a bad one is refused. */
    @Test
    void installPodmanWritesTheHooksEnvironment() throws Exception {
        try (Scratch scratch = new Scratch()) {
            Path hooks = scratch.path().resolve("hooks.d");
            Exec.Result installed = Exec.run(List.of(Host.launcher().toString(), "install", "podman", "--hooks-dir", hooks.toString(),
                    "--env", "IDSHIFT_RUN_DIR=/run/idshift-isd", "--env", "IDSHIFT_DEBUG=1"));
            Exec.Result bad = Exec.run(List.of(Host.launcher().toString(), "install", "podman", "--hooks-dir",
                    scratch.path().resolve("bad").toString(), "--env", "NOEQUALS"));

            assertEquals(0, installed.exit(), installed.describe());
            for (String stage : List.of("precreate", "poststart", "poststop")) {
                String json = Files.readString(hooks.resolve("idshift-" + stage + ".json"));
                assertTrue(json.contains("\"env\":[\"IDSHIFT_RUN_DIR=/run/idshift-isd\",\"IDSHIFT_DEBUG=1\"]"), json);
            }
            assertTrue(installed.stdout().contains("stages with work will run through"), installed.describe());
            assertEquals(3, bad.exit(), bad.describe());
            assertTrue(bad.stderr().contains("--env: \"NOEQUALS\" is not K=V"), bad.describe());
            assertFalse(Files.exists(scratch.path().resolve("bad")), "nothing written");
        }
    }

    /** `idshift install runc --env K=V` puts the environment into the hooks it adds; the path it names is the hooks' own. */
    @Test
    void installRuncWritesTheHooksEnvironment() throws Exception {
        try (Scratch scratch = new Scratch()) {
            Path bundle = scratch.dir("bundle");
            Files.writeString(bundle.resolve("config.json"), "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"}}");
            Exec.Result installed = Exec.run(List.of(Host.launcher().toString(), "install", "runc", "--bundle", bundle.toString(),
                    "--env", "IDSHIFT_RUN_DIR=/run/idshift-isd"), null, Map.of("IDSHIFT_RUN_DIR", "/run/idshift-isd-other"), 60);

            assertEquals(0, installed.exit(), installed.describe());
            String json = Files.readString(bundle.resolve("config.json"));
            assertEquals(2, json.split("\"env\":\\[\"IDSHIFT_RUN_DIR=/run/idshift-isd\"\\]", -1).length - 1, json);
            assertTrue(installed.stdout().contains("note: the hooks use /run/idshift-isd, not this shell's"), installed.describe());
        }
    }

    /** `idshift doctor` says which path hooks with work take, for its run directory. */
    @Test
    void doctorSaysWhichPathHooksTake() throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch()) {
            Path run = scratch.dir("run");
            Map<String, String> env = Map.of("IDSHIFT_RUN_DIR", run.toString());
            String without = Exec.run(List.of(Host.launcher().toString(), "doctor"), null, env, 120).stdout();
            String with;
            try (Daemon daemon = daemon(scratch, run, Map.of())) {
                with = Exec.run(List.of(Host.launcher().toString(), "doctor"), null, env, 120).stdout();
            }
            assertTrue(without.contains("hooks with work: a JVM for each stage with work"), without);
            assertTrue(with.contains("hooks with work: the daemon's hook channel (" + run.resolve("hookd")), with);
        }
    }

    /** poststop and poststart of a container with nothing staged, and precreate of a config not for idshift: no JVM. */
    @Test
    void stagesWithNothingToDoStartNoJvm() throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch()) {
            Path run = scratch.dir("run");
            Map<String, String> env = Map.of("IDSHIFT_RUN_DIR", run.toString(), "IDSHIFT_JAVA", "/bin/false");
            String state = stoppedState(scratch, "isd-noop");
            for (String stage : List.of("poststop", "poststart")) {
                Exec.Result result = hook(stage, state.getBytes(StandardCharsets.UTF_8), env);
                assertEquals(0, result.exit(), stage + " started no JVM: " + result.describe());
            }
            // Another container's staging record does not make ours a stage with work.
            Files.createDirectories(run.resolve("state"));
            Files.writeString(run.resolve("state/0123456789abcdef0123456789abcdef.json"), "{}");
            assertEquals(0, hook("poststop", state.getBytes(StandardCharsets.UTF_8), env).exit());

            // precreate of a config without dev.idshift.enable=true: printed back byte for byte (trailing newlines too).
            byte[] config = "{\"ociVersion\":\"1.0.2\",\"annotations\":{\"x\":\"y\"},\"root\":{\"path\":\"/r\"}}\n\n"
                    .getBytes(StandardCharsets.UTF_8);
            Exec.Result precreate = hook("precreate", config, env);
            assertEquals(0, precreate.exit(), precreate.describe());
            assertArrayEquals(config, precreate.stdout().getBytes(StandardCharsets.UTF_8));

            // With work (our own FUSE staging record; a config for idshift), the launcher does go to Java.
            String ownKey = sha256("idshift container isd-noop").substring(0, 32);
            Files.writeString(run.resolve("state/" + ownKey + ".json"), "{}");
            assertNotEquals(0, hook("poststop", state.getBytes(StandardCharsets.UTF_8), env).exit(), "poststop with work needs Java");
            byte[] enabled = "{\"annotations\":{\"dev.idshift.enable\":\"true\"}}".getBytes(StandardCharsets.UTF_8);
            assertNotEquals(0, hook("precreate", enabled, env).exit(), "precreate of an enabled config needs Java");
        }
    }

    /** The state of a stopped container ID whose bundle (in SCRATCH) has a minimal config. */
    private static String stoppedState(Scratch scratch, String id) throws Exception {
        Path bundle = scratch.dir("bundle");
        Files.writeString(bundle.resolve("config.json"), "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"}}");
        return "{\"ociVersion\":\"1.0.2\",\"id\":\"" + id + "\",\"status\":\"stopped\",\"pid\":0,\"bundle\":\"" + bundle + "\"}";
    }

    private static Exec.Result hook(String stage, byte[] stdin, Map<String, String> env) {
        return Exec.run(List.of(Host.launcher().toString(), "hook", stage), stdin, env, 60);
    }

    private static String sha256(String text) throws Exception {
        byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        StringBuilder hex = new StringBuilder();
        for (byte b : digest) {
            hex.append(String.format("%02x", b));
        }
        return hex.toString();
    }

    /** Runs BUNDLE under runc in the background; returns when the daemon has taken its createRuntime request. */
    private static final class Started {
        final Thread thread;
        final Exec.Result[] result = new Exec.Result[1];
        final long startedNs = System.nanoTime();
        long elapsedMs;

        Started(Path bundle) {
            thread = new Thread(() -> {
                result[0] = Runtime.RUNC.run(bundle);
                elapsedMs = (System.nanoTime() - startedNs) / 1_000_000;
            });
            thread.start();
        }

        Exec.Result await() throws InterruptedException {
            thread.join(120_000);
            return result[0];
        }
    }

    /** Waits until a launcher's request has been taken: its answer file is there and its .req is gone. */
    /**
     * Whether the daemon's log comes to satisfy {@code wanted} within 10 s: the daemon logs a stage after
     * it has answered (the answer comes first), so a hook may return before its line is written.
     */
    private static boolean awaitLog(Daemon daemon, java.util.function.Predicate<String> wanted) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!wanted.test(daemon.log())) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    private static void awaitClaim(Path run) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < deadline) {
            List<String> files = leftovers(run);
            if (files.stream().anyMatch(name -> name.endsWith(".out")) && files.stream().noneMatch(name -> name.endsWith(".req"))) {
                return;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("no request was taken within 30 s: " + leftovers(run));
    }

    @Test
    void aDaemonKilledMidRequestFallsBackWithinTheTimeout() throws Exception {
        Runtime.RUNC.require();
        try (Scratch scratch = new Scratch()) {
            Path rootfs = Rootfs.create(scratch.dir("rootfs"));
            Path run = scratch.dir("run");
            Path bundle = bundle(scratch.dir("bundle"), rootfs, run, List.of());
            try (Daemon daemon = daemon(scratch, run, Map.of("IDSHIFT_HOOKD_TEST_PAUSE_MS", "20000"))) {
                Started container = new Started(bundle);
                awaitClaim(run);
                Exec.ok(List.of("kill", "-KILL", Long.toString(daemon.pid())));
                Exec.Result result = container.await();

                assertTrue(ProtectedPathsTest.View.of(result).rootOwnedByContainer(), result.describe());
                assertTrue(container.elapsedMs < 15_000, "fell back long before the daemon would have answered: " + container.elapsedMs + " ms");
                assertEquals(List.of(), leftovers(run), "the launcher left nothing behind");
            }
        }
    }

    @Test
    void aDaemonStoppedMidRequestFallsBackAndDoesNotDoTheWorkLater() throws Exception {
        Runtime.RUNC.require();
        try (Scratch scratch = new Scratch()) {
            Path rootfs = Rootfs.create(scratch.dir("rootfs"));
            Path run = scratch.dir("run");
            Path bundle = bundle(scratch.dir("bundle"), rootfs, run, List.of());
            try (Daemon daemon = daemon(scratch, run, Map.of("IDSHIFT_HOOKD_TEST_PAUSE_MS", "3000"))) {
                Started container = new Started(bundle);
                awaitClaim(run);
                Exec.ok(List.of("kill", "-STOP", Long.toString(daemon.pid())));
                Exec.Result result;
                try {
                    result = container.await();
                } finally {
                    Exec.ok(List.of("kill", "-CONT", Long.toString(daemon.pid())));
                }
                Thread.sleep(4000);  // past the daemon's pause: it must see the launcher gone

                assertTrue(ProtectedPathsTest.View.of(result).rootOwnedByContainer(), result.describe());
                assertTrue(container.elapsedMs < 3000 + 10_000, "fell back: " + container.elapsedMs + " ms");
                assertFalse(daemon.log().contains("createRuntime: exit"), "the daemon did not do it as well: " + daemon.log());
                assertEquals(List.of(), leftovers(run));
            }
        }
    }

    /** A daemon stopped before the request (SIGSTOP), and one shut down: the in-process path at once. */
    @Test
    void aStoppedOrShutDownDaemonCostsNoTimeout() throws Exception {
        Runtime.RUNC.require();
        try (Scratch scratch = new Scratch()) {
            Path rootfs = Rootfs.create(scratch.dir("rootfs"));
            Path run = scratch.dir("run");
            Path bundle = bundle(scratch.dir("bundle"), rootfs, run, List.of());
            try (Daemon daemon = daemon(scratch, run, Map.of())) {
                Exec.ok(List.of("kill", "-STOP", Long.toString(daemon.pid())));
                long start = System.nanoTime();
                Exec.Result result;
                try {
                    result = Runtime.RUNC.run(bundle);
                } finally {
                    Exec.ok(List.of("kill", "-CONT", Long.toString(daemon.pid())));
                }
                long elapsedMs = (System.nanoTime() - start) / 1_000_000;
                assertTrue(ProtectedPathsTest.View.of(result).rootOwnedByContainer(), result.describe());
                assertTrue(elapsedMs < 2000 + 8000, "no timeout waited for a stopped daemon: " + elapsedMs + " ms");
                assertFalse(daemon.log().contains("createRuntime: exit"), daemon.log());
            }
            Exec.Result afterShutdown = Runtime.RUNC.run(bundle);
            assertTrue(ProtectedPathsTest.View.of(afterShutdown).rootOwnedByContainer(), afterShutdown.describe());
            assertEquals(List.of(), leftovers(run));
        }
    }

    /**
     * A hung daemon: alive and running, but never reading its requests (here a `sleep` posing as the
     * daemon, with a FIFO nobody reads). The launcher waits IDSHIFT_HOOK_TIMEOUT (2 s), then runs
     * the hook itself, and takes its request files back.
     */
    @Test
    void aHungDaemonCostsTheTimeoutAndNoMore() throws Exception {
        Runtime.RUNC.require();
        try (Scratch scratch = new Scratch()) {
            Path rootfs = Rootfs.create(scratch.dir("rootfs"));
            Path run = scratch.dir("run");
            Path hookd = Files.createDirectories(run.resolve("hookd"));
            Files.setPosixFilePermissions(hookd, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
            Exec.ok(List.of("mkfifo", "-m", "600", hookd.resolve("requests").toString()));
            Process hung = new ProcessBuilder("sleep", "300").start();
            try {
                String stat = Files.readString(Path.of("/proc/" + hung.pid() + "/stat"));
                String startTime = stat.substring(stat.lastIndexOf(')') + 2).split(" ")[19];
                Files.writeString(hookd.resolve("daemon.pid"), hung.pid() + " " + startTime + "\n");
                Path bundle = bundle(scratch.dir("bundle"), rootfs, run, List.of());

                long start = System.nanoTime();
                Exec.Result result = Runtime.RUNC.run(bundle);
                long elapsedMs = (System.nanoTime() - start) / 1_000_000;

                assertTrue(ProtectedPathsTest.View.of(result).rootOwnedByContainer(), result.describe());
                assertTrue(elapsedMs >= 2000 && elapsedMs < 2000 + 10_000, "waited the 2 s timeout, then no more: " + elapsedMs + " ms");
                assertEquals(List.of(), leftovers(run), "the launcher took its files back");
            } finally {
                hung.destroyForcibly();
                hung.waitFor();
            }
        }
    }

    /**
     * The requester is the process that holds its answer file open, not whatever process has the
     * number it wrote. A root launcher in a pid namespace of its own (a runtime run under
     * `unshare --pid`, a supervisor's pid namespace) writes its pid as it sees it; in the daemon's
     * namespace that number is another root process (here a `sleep` of the test's own, the number
     * taken in the child namespace through ns_last_pid). The daemon must not serve the request as that
     * process's (its parent taken as the runtime, SIGCONT sent to it, a state's pid read in the wrong
     * namespace): the launcher sees that $$ is not itself in /proc and runs the hook itself, and the
     * daemon refuses such a request should one come (the number's process does not hold PID.out).
     */
    @Test
    void aRequestFromAnotherPidNamespaceIsNotServedAsTheProcessWithThatNumber() throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch()) {
            Path run = scratch.dir("run");
            Path state = scratch.dir("input").resolve("state.json");
            Files.writeString(state, stoppedState(scratch, "isd-pidns"));
            // Work to do (a FUSE staging record of this container's), so the stage goes to the daemon.
            Files.createDirectories(run.resolve("state"));
            Files.writeString(run.resolve("state/" + sha256("idshift container isd-pidns").substring(0, 32) + ".json"), "{}");
            try (Daemon daemon = daemon(scratch, run, Map.of())) {
                // Nothing blocked in it: the launcher reads "its" /proc/$$/stat, which is this process's.
                Process namesake = new ProcessBuilder("env", "--default-signal", "sleep", "60").start();
                try {
                    long pid = namesake.pid();
                    String inChild = "echo " + (pid - 1) + " > /proc/sys/kernel/ns_last_pid; " + Host.launcher() + " hook poststop < " + state
                            + " & wait $!";
                    Exec.Result result = Exec.run(List.of("unshare", "--pid", "--fork", "sh", "-c", inChild), null,
                            Map.of("IDSHIFT_RUN_DIR", run.toString(), "IDSHIFT_JAVA", "/bin/false"), 60);
                    assertFalse(daemon.log().contains("pid " + pid + " poststop: exit"), "served as pid " + pid + ": " + daemon.log()
                            + "\n" + result.describe());
                    assertEquals(1, result.exit(), "the launcher ran the hook itself (IDSHIFT_JAVA fails): " + result.describe());
                    assertEquals(List.of(), leftovers(run));

                    // The daemon's own wall: a request naming the process, with files it does not hold, is refused.
                    Path hookd = run.resolve("hookd");
                    Files.copy(state, hookd.resolve(pid + ".req"));
                    Files.write(hookd.resolve(pid + ".out"), new byte[0]);
                    Exec.ok(List.of("sh", "-c", "echo '" + pid + " poststop' > " + hookd.resolve("requests")));
                    long deadline = System.nanoTime() + 10_000_000_000L;
                    while (!daemon.log().contains("naming pid " + pid) && !daemon.log().contains("pid " + pid + " poststop")
                            && System.nanoTime() < deadline) {
                        Thread.sleep(20);
                    }
                    assertTrue(daemon.log().contains("refused a request naming pid " + pid), daemon.log());
                    assertTrue(Files.exists(hookd.resolve(pid + ".req")), "not taken");
                    Files.delete(hookd.resolve(pid + ".req"));
                    Files.delete(hookd.resolve(pid + ".out"));
                    assertEquals(List.of(), leftovers(run));
                } finally {
                    namesake.destroyForcibly();
                    namesake.waitFor();
                }
            }
        }
    }

    /**
     * Only root can use the channel: a real unprivileged user (its own subid range), also as root of a
     * user namespace of its own, cannot write a request or a request file (RUN/hookd is 0700 root);
     * and a request root writes naming that user's process is refused by the daemon, which takes the
     * requester from /proc, not from the request.
     */
    @Test
    void aNonRootProcessCannotUseTheChannel() throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch(); HostUser user = HostUser.create(USER_PREFIX, USER_SUBIDS)) {
            Path run = scratch.dir("run");
            try (Daemon daemon = daemon(scratch, run, Map.of())) {
                Path hookd = run.resolve("hookd");
                String attempt = "echo \"$$ createRuntime\" > " + hookd.resolve("requests") + "; echo '{}' > " + hookd.resolve("1.req")
                        + "; ls " + hookd;
                Exec.Result plain = user.sh(attempt);
                Exec.Result inOwnUserns = Exec.run(user.as(List.of("unshare", "--user", "--map-root-user", "sh", "-c", attempt)),
                        null, Map.of(), 60);
                assertTrue(plain.stderr().contains("Permission denied"), plain.describe());
                assertTrue(inOwnUserns.stderr().contains("Permission denied"), inOwnUserns.describe());
                assertEquals(List.of(), leftovers(run));

                // A forged request for the user's process, its files made by root: refused, left untaken.
                Process victim = new ProcessBuilder(user.as(List.of("sleep", "60"))).start();
                try {
                    long pid = victim.pid();
                    Thread.sleep(200);  // setpriv has exec'd sleep
                    Files.writeString(hookd.resolve(pid + ".req"), "{}");
                    Exec.ok(List.of("sh", "-c", "echo '" + pid + " poststop' > " + hookd.resolve("requests")));
                    long deadline = System.nanoTime() + 10_000_000_000L;
                    while (!daemon.log().contains("refused a request naming pid " + pid) && System.nanoTime() < deadline) {
                        Thread.sleep(20);
                    }
                    assertTrue(daemon.log().contains("refused a request naming pid " + pid), daemon.log());
                    assertTrue(Files.exists(hookd.resolve(pid + ".req")), "not taken");
                    Files.delete(hookd.resolve(pid + ".req"));
                } finally {
                    victim.destroyForcibly();
                    victim.waitFor();
                }
            }
        }
    }
}
