package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.BundleBuilder;
import dev.idshift.it.support.Daemon;
import dev.idshift.it.support.Exec;
import dev.idshift.it.support.FuseServers;
import dev.idshift.it.support.Host;
import dev.idshift.it.support.Rootfs;
import dev.idshift.it.support.Runtime;
import dev.idshift.it.support.Scratch;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * FUSE containers whose hooks the daemon runs take its spare server (started beforehand, warm)
 * instead of starting a JVM; a spare given a container is an ordinary server of its own, which keeps
 * serving when the daemon is killed; a spare never given work exits with the daemon.
 */
class FuseSpareServerTest {
    private static final String PROBE = "stat -c %u:%g / /bin; touch /fuse-probe && echo wrote";

    /** @param java the hook's IDSHIFT_JAVA; null: the launcher finds one */
    private static Path bundle(Path directory, Path rootfs, Path run, String java, String script) throws Exception {
        List<String> env = java == null ? List.of("IDSHIFT_RUN_DIR=" + run) : List.of("IDSHIFT_RUN_DIR=" + run, "IDSHIFT_JAVA=" + java);
        String launcher = Host.launcher().toString();
        return new BundleBuilder(directory).rootPath(rootfs.toString()).annotation("dev.idshift.backend", "fuse")
                .hook("createRuntime", launcher, List.of("idshift", "hook", "createRuntime"), env)
                .hook("poststop", launcher, List.of("idshift", "hook", "poststop"), env)
                .script(script).write();
    }

    @Test
    void fuseContainersThroughTheDaemonTakeItsSpareWhichOutlivesTheDaemon() throws Exception {
        Runtime runtime = Runtime.RUNC;
        runtime.require();
        try (Scratch scratch = new Scratch()) {
            Path rootfs = Rootfs.create(scratch.dir("rootfs"));
            Path run = scratch.dir("run");
            // No JVM for the hook (a "java" that fails): the daemon does the work, or the container fails.
            Path viaDaemon = bundle(scratch.dir("via-daemon"), rootfs, run, "/bin/false", PROBE);
            Path sleeper = bundle(scratch.dir("sleeper"), rootfs, run, null, "sleep 120");
            String id = Runtime.newId();
            long server = -1;
            try (Daemon daemon = Daemon.start(scratch.dir("daemon"), scratch.dir("state"), Path.of("/etc"),
                    Map.of("IDSHIFT_RUN_DIR", run.toString()))) {
                Exec.Result first = runtime.run(viaDaemon);  // a server started afresh; a spare follows
                assertEquals(List.of("0:0", "0:0", "wrote"), first.stdout().lines().toList(), first.describe() + daemon.log());
                assertEquals("0:0", Rootfs.owner(rootfs.resolve("fuse-probe")), "written unshifted");
                Files.delete(rootfs.resolve("fuse-probe"));

                long spare = awaitSpare(daemon.pid(), -1);
                Exec.Result second = runtime.run(viaDaemon);
                assertEquals(first.stdout(), second.stdout(), second.describe() + daemon.log());
                assertTrue(FuseServers.awaitGone(spare), "the spare served the second container and exited after it: " + daemon.log());

                // A long-running container's server is the next spare: the daemon's death must not take it.
                long next = awaitSpare(daemon.pid(), -1);
                Exec.Result started = runtime.runDetached(sleeper, id);
                assertEquals(0, started.exit(), started.describe() + daemon.log());
                server = FuseServers.recorded(run).stream().findFirst().orElseThrow();
                assertEquals(next, server, "the container's server is the spare");
                long third = awaitSpare(daemon.pid(), next);
                Exec.ok(List.of("kill", "-KILL", Long.toString(daemon.pid())));
                assertTrue(FuseServers.awaitGone(third), "a spare never given work exits with the daemon");
                assertTrue(FuseServers.alive(server), "the container's server outlives the daemon");
                Exec.Result inside = runtime.exec(id, "stat -c %u:%g /bin; cat /bin/busybox > /dev/null && echo read");
                assertEquals(List.of("0:0", "read"), inside.stdout().lines().toList(), inside.describe());
            } finally {
                runtime.delete(id);  // poststop in the hook's own JVM: the daemon is gone
            }
            assertTrue(server < 0 || FuseServers.awaitGone(server), "the server exits with its container");
            assertEquals(List.of(), FuseServers.recorded(run), "no server record left");
        }
    }

    /** A spare server of the daemon (its child running {@code __fuse-serve --spare}), other than {@code not}. */
    private static long awaitSpare(long daemon, long not) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            Optional<ProcessHandle> spare = ProcessHandle.of(daemon).stream().flatMap(ProcessHandle::children)
                    .filter(child -> child.pid() != not && isSpare(child.pid())).findFirst();
            if (spare.isPresent()) {
                return spare.get().pid();
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no spare FUSE server appeared");
    }

    private static boolean isSpare(long pid) {
        try {
            String cmdline = Files.readString(Path.of("/proc/" + pid + "/cmdline"), StandardCharsets.UTF_8);
            return cmdline.contains("__fuse-serve\0--spare");
        } catch (Exception e) {
            return false;
        }
    }
}
