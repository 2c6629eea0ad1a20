package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.idshift.it.support.BundleBuilder;
import dev.idshift.it.support.Exec;
import dev.idshift.it.support.Rootfs;
import dev.idshift.it.support.Runtime;
import dev.idshift.it.support.Scratch;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Containers the hook must not touch: no user namespace, or disabled by annotation. */
class LeftAloneTest {

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.idshift.it.Runtimes#all")
    void containerWithoutUserNamespaceRunsUntouched(Runtime runtime) throws Exception {
        runtime.require();
        try (Scratch scratch = new Scratch()) {
            Path bundle = scratch.dir("bundle");
            Rootfs.create(bundle.resolve("rootfs"));
            new BundleBuilder(bundle).withoutUserNamespace().idshiftHook("prestart")
                    .script("stat -c %u:%g /; grep -c idmapped /proc/self/mountinfo").write();

            Exec.Result result = runtime.run(bundle);

            assertEquals(List.of("0:0", "0"), result.stdout().lines().toList(), result.describe());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.idshift.it.Runtimes#all")
    void disableAnnotationLeavesTheRootfsUnshifted(Runtime runtime) throws Exception {
        runtime.require();
        try (Scratch scratch = new Scratch()) {
            Path bundle = scratch.dir("bundle");
            Rootfs.create(bundle.resolve("rootfs"));
            new BundleBuilder(bundle).idshiftHook("prestart").annotation("dev.idshift.disable", "true")
                    .script("stat -c %u:%g /").write();

            Exec.Result result = runtime.run(bundle);

            assertEquals(0, result.exit(), result.describe());
            assertEquals("65534:65534", result.stdout().trim(), result.describe());
        }
    }
}
