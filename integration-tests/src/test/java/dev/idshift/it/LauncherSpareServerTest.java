package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Without the daemon and with IDSHIFT_FUSE_IN_HOOK=0 (the hook's JVM not serving itself, see
 * HookServingTest for the default), a FUSE container's hook gets the spare server bin/idshift starts
 * beside the hook's JVM (app.LauncherSpareServer): the container's server is that spare, and no spare
 * is left behind when the container ran, when the hook failed on a bad config, or when the hook had
 * nothing to shift.
 */
class LauncherSpareServerTest {
    private static final String PROBE = "stat -c %u:%g / /bin; touch /fuse-probe && echo wrote";

    private static BundleBuilder bundle(Path directory, Path rootfs, Path run, String script) {
        List<String> env = List.of("IDSHIFT_RUN_DIR=" + run, "IDSHIFT_FUSE_IN_HOOK=0");
        String launcher = Host.launcher().toString();
        return new BundleBuilder(directory).rootPath(rootfs.toString()).annotation("dev.idshift.backend", "fuse")
                .hook("createRuntime", launcher, List.of("idshift", "hook", "createRuntime"), env)
                .hook("poststop", launcher, List.of("idshift", "hook", "poststop"), env)
                .script(script);
    }

    @Test
    void aFuseContainerWithoutTheDaemonIsServedByTheLaunchersSpareAndNothingIsLeft() throws Exception {
        Runtime runtime = Runtime.RUNC;
        runtime.require();
        try (Scratch scratch = new Scratch()) {
            Path rootfs = Rootfs.create(scratch.dir("rootfs"));
            Path run = scratch.dir("run");
            Exec.Result ran = runtime.run(bundle(scratch.dir("probe"), rootfs, run, PROBE).write());
            assertEquals(List.of("0:0", "0:0", "wrote"), ran.stdout().lines().toList(), ran.describe());
            assertEquals("0:0", Rootfs.owner(rootfs.resolve("fuse-probe")), "written unshifted");
            assertNoSpareLeft(run);

            String id = Runtime.newId();
            long server = -1;
            try {
                Exec.Result started = runtime.runDetached(bundle(scratch.dir("sleeper"), rootfs, run, "sleep 120").write(), id);
                assertEquals(0, started.exit(), started.describe());
                List<Long> servers = FuseServers.recorded(run);
                assertEquals(1, servers.size(), "one server: " + servers);
                server = servers.get(0);
                assertTrue(isLauncherSpare(server), "the container's server is the launcher's spare: " + cmdline(server));
                Exec.Result inside = runtime.exec(id, "stat -c %u:%g /bin; cat /bin/busybox > /dev/null && echo read");
                assertEquals(List.of("0:0", "read"), inside.stdout().lines().toList(), inside.describe());
                assertEquals(List.of(server), sparesOf(run), "no other spare");
            } finally {
                runtime.delete(id);
            }
            assertTrue(FuseServers.awaitGone(server), "the server exits with its container");
            assertEquals(List.of(), FuseServers.recorded(run), "no server record left");
            assertNoSpareLeft(run);
        }
    }

    @Test
    void aSpareIsNotLeftBehindWhenTheHookFailsOrHasNothingToDo() throws Exception {
        Runtime runtime = Runtime.RUNC;
        runtime.require();
        try (Scratch scratch = new Scratch()) {
            Path rootfs = Rootfs.create(scratch.dir("rootfs"));
            Path run = scratch.dir("run");
            // A bad config: the hook's JVM refuses it before any mount; the spare it was given is let go.
            Exec.Result refused = runtime.run(bundle(scratch.dir("bad"), rootfs, run, "true")
                    .annotation("dev.idshift.fsidmap", "not-a-map").write());
            assertNotEquals(0, refused.exit(), refused.describe());
            assertTrue(refused.stderr().contains("dev.idshift.fsidmap"), refused.describe());
            assertNoSpareLeft(run);
            assertEquals(List.of(), FuseServers.recorded(run), "no server record");

            // No user namespace: nothing to shift, the spare unused.
            Exec.Result plain = runtime.run(bundle(scratch.dir("plain"), rootfs, run, "stat -c %u:%g /bin").withoutUserNamespace().write());
            assertEquals(List.of("0:0"), plain.stdout().lines().toList(), plain.describe());
            assertNoSpareLeft(run);
            assertEquals(List.of(), FuseServers.recorded(run), "no server record");
        }
    }

    /** Every launcher spare whose environment names this run directory has exited (within 30 s). */
    private static void assertNoSpareLeft(Path run) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        List<Long> left = sparesOf(run);
        while (!left.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(100);
            left = sparesOf(run);
        }
        assertEquals(List.of(), left, "spare FUSE servers left behind");
    }

    /** Live processes running {@code __fuse-serve --spare launcher} with IDSHIFT_RUN_DIR=run. */
    private static List<Long> sparesOf(Path run) throws Exception {
        return Processes.ofRunDirectory(run, "__fuse-serve\0--spare\0launcher");
    }

    private static boolean isLauncherSpare(long pid) {
        return cmdline(pid).contains("__fuse-serve\0--spare\0launcher");
    }

    private static String cmdline(long pid) {
        return Processes.cmdline(pid);
    }
}
