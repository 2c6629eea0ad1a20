package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.BundleBuilder;
import dev.idshift.it.support.Exec;
import dev.idshift.it.support.FuseServers;
import dev.idshift.it.support.Rootfs;
import dev.idshift.it.support.Runtime;
import dev.idshift.it.support.Scratch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** A host-root-owned busybox rootfs, a container mapping 0 -> 100000: with the hook it owns its rootfs. */
class ShiftedRootfsTest {

    static Stream<Arguments> runtimesStagesAndBackends() {
        return Stream.of(Runtime.values()).flatMap(runtime -> Stream.of("prestart", "createRuntime").flatMap(stage ->
                Stream.of("kernel", "fuse").map(backend -> Arguments.of(runtime, stage, backend))));
    }

    /**
     * The same checks through either backend (FUSE forced by annotation). With FUSE, the root is the
     * FUSE view, and no FUSE server outlives the container.
     */
    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("runtimesStagesAndBackends")
    void containerRootOwnsItsRootfsAndWritesLandUnshifted(Runtime runtime, String stage, String backend) throws Exception {
        runtime.require();
        try (Scratch scratch = new Scratch()) {
            Path bundle = scratch.dir("bundle");
            Path rootfs = Rootfs.create(bundle.resolve("rootfs"));
            new BundleBuilder(bundle).idshiftHook(stage).idshiftHook("poststop")
                    .annotation("dev.idshift.backend", backend)
                    .script("stat -c %u:%g / /bin/busybox; id -u; touch /root/made-inside && echo wrote;"
                            + " head -1 /proc/self/status; ls /proc/1 >/dev/null && echo proc-ok;"
                            + " grep ' / / ' /proc/self/mountinfo | grep -o 'fuse.idshift' || echo not-fuse")
                    .write();

            Exec.Result result = runtime.run(bundle);

            assertEquals(0, result.exit(), result.describe());
            assertEquals(List.of("0:0", "0:0", "0", "wrote"), result.stdout().lines().limit(4).toList(), result.describe());
            assertTrue(result.stdout().contains("proc-ok"), "/proc works inside: " + result.describe());
            assertTrue(result.stdout().contains(backend.equals("fuse") ? "fuse.idshift" : "not-fuse"), "the root's backend: " + result.describe());
            assertEquals("0:0", Rootfs.owner(rootfs.resolve("root/made-inside")), "a file made by container root is 0:0 on disk");
            assertEquals(List.of(), FuseServers.serving(rootfs), "no FUSE server outlives its container");
        }
    }

    /**
     * A rootfs the kernel will not idmap and idshift cannot rebuild (an overlay whose layers were
     * given relative to the engine's working directory, as containers/storage does for long layer
     * lists: they cannot be found from the superblock): backend auto falls back to FUSE. (An overlay
     * with findable layers is rebuilt on idmapped layers: OverlayRootfsTest.)
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.idshift.it.Runtimes#all")
    void anOverlayRootfsFallsBackToFuse(Runtime runtime) throws Exception {
        runtime.require();
        try (Scratch scratch = new Scratch()) {
            Path lower = Rootfs.create(scratch.dir("lower"));
            Path upper = scratch.dir("upper");
            Path work = scratch.dir("work");
            Path bundle = scratch.dir("bundle");
            Path rootfs = Files.createDirectories(bundle.resolve("rootfs"));
            Exec.ok(List.of("sh", "-c", "cd \"$0\" && mount -t overlay overlay -o lowerdir=lower,upperdir=upper,workdir=work \"$1\"",
                    scratch.path().toString(), rootfs.toString()));
            new BundleBuilder(bundle).idshiftHook("prestart").idshiftHook("poststop")
                    .script("stat -c %u:%g / /bin/busybox; touch /root/made-inside && echo wrote;"
                            + " grep ' / / ' /proc/self/mountinfo | grep -o 'fuse.idshift'")
                    .write();

            Exec.Result result = runtime.run(bundle);

            assertEquals(0, result.exit(), result.describe());
            assertEquals(List.of("0:0", "0:0", "wrote", "fuse.idshift"), result.stdout().lines().toList(), result.describe());
            assertEquals("0:0", Rootfs.owner(upper.resolve("root/made-inside")), "written through the overlay, unshifted");
            assertEquals(List.of(), FuseServers.serving(rootfs), "no FUSE server outlives its container");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.idshift.it.Runtimes#all")
    void withoutTheHookTheSameContainerSeesNobody(Runtime runtime) throws Exception {
        runtime.require();
        try (Scratch scratch = new Scratch()) {
            Path bundle = scratch.dir("bundle");
            Rootfs.create(bundle.resolve("rootfs"));
            new BundleBuilder(bundle).script("stat -c %u:%g /").write();

            Exec.Result result = runtime.run(bundle);

            assertEquals("65534:65534", result.stdout().trim(), result.describe());
        }
    }
}
