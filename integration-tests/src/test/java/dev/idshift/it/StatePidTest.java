package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.BundleBuilder;
import dev.idshift.it.support.Exec;
import dev.idshift.it.support.FuseServers;
import dev.idshift.it.support.Host;
import dev.idshift.it.support.HostUser;
import dev.idshift.it.support.MountTable;
import dev.idshift.it.support.Rootfs;
import dev.idshift.it.support.Scratch;
import dev.idshift.staging.StagingStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Mount tables are compared only where this test's hook could have mounted (its scratch tree, its
 * container's staging): other suites on the machine mount and unmount elsewhere meanwhile.
 *
 * <p>Issue 10, item 10: whoever feeds the hook's stdin names the pid whose namespaces it mounts into.
 * A pid that is not a root-made container's process is refused before anything is mounted: a host
 * process (the hook would mount over the host's tree) and a user's own `unshare -Urm` (the hook would
 * shift a root-owned host directory into the user's namespace).
 */
class StatePidTest {
    private static final String CONTAINER_ID = "isc-state-pid";

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"kernel", "fuse"})
    void aHostProcessIsRefused(String backend) throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch()) {
            Path bundle = bundle(scratch, backend);
            Process host = new ProcessBuilder("sleep", "120").start();
            try {
                List<String> before = ours(scratch);

                Exec.Result hook = hook(bundle, host.pid());

                assertRefused(hook, host.pid(), "the hook's own user namespace");
                assertEquals(before, ours(scratch), "nothing mounted on the host");
                assertEquals(List.of(), FuseServers.serving(bundle.resolve("rootfs")), "no FUSE server started");
            } finally {
                stop(host);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"kernel", "fuse"})
    void aUsersOwnUserNamespaceIsRefused(String backend) throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch(); HostUser user = HostUser.create()) {
            Path bundle = bundle(scratch, backend);
            Process own = new ProcessBuilder(user.as(List.of("unshare", "-Urm", "sleep", "120"))).start();
            try {
                awaitOwnUserNamespace(own.pid());
                List<String> mountsBefore = ours(mountinfo(own.pid()), scratch);
                List<String> before = ours(scratch);

                Exec.Result hook = hook(bundle, own.pid());

                assertRefused(hook, own.pid(), "created by uid " + user.uid() + ", not by root");
                assertEquals(mountsBefore, ours(mountinfo(own.pid()), scratch), "nothing mounted in the user's namespace");
                assertEquals(before, ours(scratch), "nor on the host");
                assertEquals(List.of(), FuseServers.serving(bundle.resolve("rootfs")), "no FUSE server started");
            } finally {
                stop(own);
            }
        }
    }

    /** A bundle the hook would shift (user namespace, root-owned rootfs), with the backend asked for. */
    private static Path bundle(Scratch scratch, String backend) throws IOException {
        Path bundle = scratch.dir("bundle");
        Rootfs.create(bundle.resolve("rootfs"));
        new BundleBuilder(bundle).annotation("dev.idshift.backend", backend).script("true").write();
        return bundle;
    }

    /**
     * The host's mounts this test could have caused: over its own tree, or staging for its container id.
     * (Other tests on the machine mount and unmount elsewhere meanwhile.)
     */
    private static List<String> ours(Scratch scratch) {
        return ours(MountTable.snapshot(), scratch);
    }

    private static List<String> ours(List<String> mounts, Scratch scratch) {
        String staging = "/run/idshift/staging/" + StagingStore.keyForContainer(CONTAINER_ID);
        return mounts.stream().filter(line -> line.contains(scratch.path().toString()) || line.contains(staging)).toList();
    }

    private static Exec.Result hook(Path bundle, long pid) {
        String state = "{\"ociVersion\":\"1.0.2\",\"id\":\"" + CONTAINER_ID + "\",\"status\":\"creating\",\"pid\":" + pid
                + ",\"bundle\":\"" + bundle + "\"}";
        return Exec.run(List.of(Host.launcher().toString(), "hook", "createRuntime"), state.getBytes(StandardCharsets.UTF_8), Map.of(), 60);
    }

    private static void assertRefused(Exec.Result hook, long pid, String why) {
        assertEquals(3, hook.exit(), hook.describe());
        assertEquals(1, hook.stderr().lines().count(), "one line: " + hook.describe());
        assertTrue(hook.stderr().contains("$.pid " + pid + ": "), hook.describe());
        assertTrue(hook.stderr().contains(why), hook.describe());
        assertTrue(hook.stderr().contains("refusing to mount"), hook.describe());
    }

    private static List<String> mountinfo(long pid) throws IOException {
        return Files.readAllLines(Path.of("/proc/" + pid + "/mountinfo"));
    }

    private static void awaitOwnUserNamespace(long pid) throws Exception {
        Path ours = Files.readSymbolicLink(Path.of("/proc/self/ns/user"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/user")).equals(ours)) {
            assertTrue(System.nanoTime() < deadline, "unshare -Urm did not enter its namespace");
            Thread.sleep(10);
        }
    }

    private static void stop(Process process) throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }
}
