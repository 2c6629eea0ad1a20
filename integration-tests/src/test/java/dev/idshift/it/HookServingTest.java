package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.BundleBuilder;
import dev.idshift.it.support.Exec;
import dev.idshift.it.support.FuseServers;
import dev.idshift.it.support.Host;
import dev.idshift.it.support.Processes;
import dev.idshift.it.support.Rootfs;
import dev.idshift.it.support.Runtime;
import dev.idshift.it.support.Scratch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Without the daemon, a FUSE container's hook JVM is its FUSE server too (bin/idshift serve_in_hook,
 * app.HookServing): one JVM start. It answers the runtime and serves on, detached; it removes the
 * container's staging once the container is gone, and poststop only waits for it to exit (an flock),
 * without a JVM. Nothing is left behind after a container ran, after a hook that failed on a bad
 * config, or after one with nothing to shift.
 */
class HookServingTest {
    private static final String PROBE = "stat -c %u:%g / /bin; touch /fuse-probe && echo wrote";

    /** createRuntime as usual; poststop with a java that leaves a mark if it is ever run. */
    private static BundleBuilder bundle(Path directory, Path rootfs, Path run, Path javaProbe, String script) {
        String launcher = Host.launcher().toString();
        return new BundleBuilder(directory).rootPath(rootfs.toString()).annotation("dev.idshift.backend", "fuse")
                .hook("createRuntime", launcher, List.of("idshift", "hook", "createRuntime"), List.of("IDSHIFT_RUN_DIR=" + run))
                .hook("poststop", launcher, List.of("idshift", "hook", "poststop"),
                        List.of("IDSHIFT_RUN_DIR=" + run, "IDSHIFT_JAVA=" + javaProbe))
                .script(script);
    }

    /** javaProbe in SCRATCH, its marker beside it (for tests that only need poststop to find a java). */
    private static Path probeJava(Scratch scratch) throws Exception {
        return javaProbe(scratch.dir("probe-java"), scratch.path().resolve("java-ran"));
    }

    /** A java that appends its arguments to MARKER, then runs the real one. */
    private static Path javaProbe(Path dir, Path marker) throws Exception {
        Path java = dir.resolve("java");
        String real = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Files.writeString(java, "#!/bin/sh\necho \"$*\" >> '" + marker + "'\nexec '" + real + "' \"$@\"\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        return java;
    }

    @Test
    void theHooksJvmServesItsContainerAndPoststopStartsNoJvm() throws Exception {
        Runtime runtime = Runtime.RUNC;
        runtime.require();
        try (Scratch scratch = new Scratch()) {
            Path rootfs = Rootfs.create(scratch.dir("rootfs"));
            Path run = scratch.dir("run");
            Path marker = scratch.path().resolve("java-ran");
            Path java = javaProbe(scratch.dir("probe-java"), marker);
            runProbe(runtime, scratch, rootfs, run, java, marker);

            String id = Runtime.newId();
            long server = -1;
            try {
                Exec.Result started = runtime.runDetached(bundle(scratch.dir("sleeper"), rootfs, run, java, "sleep 120").write(), id);
                assertEquals(0, started.exit(), started.describe());
                List<Long> servers = FuseServers.recorded(run);
                assertEquals(1, servers.size(), "one server: " + servers);
                server = servers.get(0);
                assertTrue(isServingHook(server), "the container's server is its hook's JVM: " + cmdline(server));
                assertEquals(List.of(server), servingHooksOf(run), "no other hook JVM");
                assertEquals(List.of(), sparesOf(run), "no spare server was started beside it");
                assertFalse(holdsPipeOf(server, "runc"), "the server holds none of the runtime's pipes");
                Exec.Result inside = runtime.exec(id, "stat -c %u:%g /bin; cat /bin/busybox > /dev/null && echo read");
                assertEquals(List.of("0:0", "read"), inside.stdout().lines().toList(), inside.describe());
            } finally {
                runtime.delete(id);
            }
            // poststop has run: it returned only once the server had exited, and started no JVM.
            assertFalse(FuseServers.alive(server), "the server exited before poststop returned");
            assertFalse(Files.exists(marker), "poststop started a JVM: " + (Files.exists(marker) ? Files.readString(marker) : ""));
            assertNothingLeft(run);
        }
    }

    /** crun runs createRuntime hooks with every signal blocked: the launcher reads the JVM's code without waiting on it. */
    @Test
    void underCrunTooTheHooksJvmServesAndNothingIsLeft() throws Exception {
        Runtime runtime = Runtime.CRUN;
        runtime.require();
        try (Scratch scratch = new Scratch()) {
            Path rootfs = Rootfs.create(scratch.dir("rootfs"));
            Path run = scratch.dir("run");
            Path marker = scratch.path().resolve("java-ran");
            runProbe(runtime, scratch, rootfs, run, javaProbe(scratch.dir("probe-java"), marker), marker);
        }
    }

    /** A container that writes through its view: shifted, written unshifted, no JVM at poststop, nothing left. */
    private static void runProbe(Runtime runtime, Scratch scratch, Path rootfs, Path run, Path java, Path marker) throws Exception {
        Exec.Result ran = runtime.run(bundle(scratch.dir("probe"), rootfs, run, java, PROBE).write());
        assertEquals(List.of("0:0", "0:0", "wrote"), ran.stdout().lines().toList(), ran.describe());
        assertEquals("0:0", Rootfs.owner(rootfs.resolve("fuse-probe")), "written unshifted");
        assertFalse(Files.exists(marker), "poststop started a JVM");
        assertNothingLeft(run);
    }

    @Test
    void nothingIsLeftWhenTheHookFailsOrHasNothingToDo() throws Exception {
        Runtime runtime = Runtime.RUNC;
        runtime.require();
        try (Scratch scratch = new Scratch()) {
            Path rootfs = Rootfs.create(scratch.dir("rootfs"));
            Path run = scratch.dir("run");
            Path java = probeJava(scratch);
            // A bad config: the hook's JVM refuses it before any mount, says why, and exits.
            Exec.Result refused = runtime.run(bundle(scratch.dir("bad"), rootfs, run, java, "true")
                    .annotation("dev.idshift.fsidmap", "not-a-map").write());
            assertNotEquals(0, refused.exit(), refused.describe());
            assertTrue(refused.stderr().contains("dev.idshift.fsidmap"), refused.describe());
            assertNothingLeft(run);

            // No user namespace: nothing to shift, the hook's JVM exits at once.
            Exec.Result plain = runtime.run(bundle(scratch.dir("plain"), rootfs, run, java, "stat -c %u:%g /bin").withoutUserNamespace().write());
            assertEquals(List.of("0:0"), plain.stdout().lines().toList(), plain.describe());
            assertNothingLeft(run);
        }
    }

    /**
     * The runtime killed after the hook answered (a second createRuntime hook SIGKILLs it): the runtime
     * never knew the container, so no poststop comes, and the serving JVM, its mount gone, leaves its
     * staging directory with the lock poststop would have removed. Before, the next start under the
     * same id failed on that lock ("open(.../server.lock): EEXIST").
     */
    @Test
    void aRuntimeKilledMidCreateDoesNotBlockTheNextStartUnderItsId() throws Exception {
        Runtime.RUNC.require();
        try (Scratch scratch = new Scratch()) {
            Runtime runtime = Runtime.RUNC;
            Path run = scratch.dir("run");
            Path rootfs = Rootfs.create(scratch.dir("rootfs"));
            Path java = probeJava(scratch);
            Path killer = scratch.path().resolve("kill-runtime");
            Files.writeString(killer, "#!/bin/sh\ncat >/dev/null\nkill -9 $PPID\n");
            Files.setPosixFilePermissions(killer, PosixFilePermissions.fromString("rwx------"));
            String id = Runtime.newId();
            try {
                Exec.Result killed = runtime.run(bundle(scratch.dir("killed"), rootfs, run, java, "true")
                        .hook("createRuntime", killer.toString(), List.of("kill-runtime")).write(), id);
                assertNotEquals(0, killed.exit(), killed.describe());
                assertEquals(List.of(), servingHooksGone(run), "the hook's JVM exits once its mount is gone");
                runtime.delete(id);  // what the runtime left of its own state, if anything

                Exec.Result again = runtime.run(bundle(scratch.dir("again"), rootfs, run, java, PROBE).write(), id);
                assertEquals(List.of("0:0", "0:0", "wrote"), again.stdout().lines().toList(), again.describe());
            } finally {
                runtime.delete(id);
            }
            assertNothingLeft(run);
        }
    }

    /** No hook JVM, spare, server record, staging directory or staging record of this run directory (within 30 s). */
    private static void assertNothingLeft(Path run) throws Exception {
        assertEquals(List.of(), servingHooksGone(run), "hook JVMs left serving");
        assertEquals(List.of(), sparesOf(run), "spare servers left");
        assertEquals(List.of(), FuseServers.recorded(run), "server records left");
        assertEquals(List.of(), entries(run.resolve("staging")), "staging left");
        assertEquals(List.of(), entries(run.resolve("state")).stream().filter(name -> name.endsWith(".json")).toList(),
                "staging records left");
    }

    /** The hook JVMs (and spares) of this run directory still there after up to 30 s: none, once their mounts are gone. */
    private static List<Long> servingHooksGone(Path run) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!(servingHooksOf(run).isEmpty() && sparesOf(run).isEmpty()) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        return servingHooksOf(run);
    }

    private static List<String> entries(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(file -> file.getFileName().toString()).sorted().toList();
        }
    }

    /** Whether PID holds a pipe that a process named NAME holds too (the runtime's stdout/stderr). */
    private static boolean holdsPipeOf(long pid, String name) throws Exception {
        List<String> pipes = pipesOf(pid);
        try (Stream<Path> processes = Files.list(Path.of("/proc"))) {
            return processes.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
                    .map(p -> Long.parseLong(p.getFileName().toString()))
                    .filter(other -> other != pid && cmdline(other).startsWith(name + "\0"))
                    .anyMatch(other -> pipesOf(other).stream().anyMatch(pipes::contains));
        }
    }

    private static List<String> pipesOf(long pid) {
        try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return fds.map(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString();
                } catch (Exception e) {
                    return "";
                }
            }).filter(link -> link.startsWith("pipe:")).toList();
        } catch (Exception e) {
            return List.of();
        }
    }

    private static List<Long> servingHooksOf(Path run) throws Exception {
        return Processes.ofRunDirectory(run, "-Didshift.hookResult=");
    }

    private static List<Long> sparesOf(Path run) throws Exception {
        return Processes.ofRunDirectory(run, "__fuse-serve\0--spare");
    }

    private static boolean isServingHook(long pid) {
        return cmdline(pid).contains("-Didshift.hookResult=") && cmdline(pid).contains("\0hook\0");
    }

    private static String cmdline(long pid) {
        return Processes.cmdline(pid);
    }
}
