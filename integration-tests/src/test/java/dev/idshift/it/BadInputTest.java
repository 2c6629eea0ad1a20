package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.BundleBuilder;
import dev.idshift.it.support.Exec;
import dev.idshift.it.support.Host;
import dev.idshift.it.support.Leftovers;
import dev.idshift.it.support.Rootfs;
import dev.idshift.it.support.Runtime;
import dev.idshift.it.support.Scratch;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Bad input gets one clear line naming what is wrong, a meaningful exit code, and leaves nothing
 * behind: no mount or FUSE server of its bundle, rootfs or run directory (IDSHIFT_RUN_DIR, the test's
 * own), and no container.
 */
class BadInputTest {
    /** The bundle the state on stdin names: a hook that went on would mount or serve under it. */
    private static final Path NAMED_BUNDLE = Path.of("/nonexistent/bundle");

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "not json at all               | malformed JSON",
        "[1, 2]                        | expected a JSON object",
        "{\"id\": \"c1\", \"pid\": 12}   | $.bundle: required string is missing",
        "{\"id\": \"c1\", \"bundle\": \"/nonexistent/bundle\", \"pid\": 1, \"status\": \"creating\"} | has no config.json",
    })
    void badStateOnStdinIsRefusedWithExitCode3(String state, String expected) throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch()) {
            Path run = scratch.dir("run");
            List<String> before = Leftovers.under(scratch.path(), NAMED_BUNDLE);

            Exec.Result result = Exec.run(List.of(Host.launcher().toString(), "hook"), state.getBytes(StandardCharsets.UTF_8),
                    Map.of("IDSHIFT_RUN_DIR", run.toString()), 60);

            assertEquals(3, result.exit(), result.describe());
            assertTrue(result.stderr().startsWith("idshift: "), result.describe());
            assertTrue(result.stderr().contains(expected), result.describe());
            assertEquals(1, result.stderr().lines().count(), "one line, no stack trace: " + result.describe());
            assertEquals(before, Leftovers.under(scratch.path(), NAMED_BUNDLE), "nothing mounted or serving for it");
        }
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', value = {
        "dev.idshift.fsidmap  | 0:300000       | is not an id map",
        "dev.idshift.fsidmap  | 0:4294967290:100 | past id 4294967294",
        "dev.idshift.fsidmap  | 0:300000:100,50:400000:10 | overlap on the inside",
        "dev.idshift.backend  | zfs            | is not a backend",
        "dev.idshift.disabel  | true           | unknown idshift annotation",
    })
    void badAnnotationFailsTheContainerStartAndNamesTheAnnotation(String key, String value, String expected) throws Exception {
        Runtime runtime = Runtime.RUNC;
        runtime.require();
        try (Scratch scratch = new Scratch()) {
            Path bundle = scratch.dir("bundle");
            Path run = scratch.dir("run");
            Rootfs.create(bundle.resolve("rootfs"));
            new BundleBuilder(bundle).hook("prestart", Host.launcher().toString(), List.of("idshift", "hook"), List.of("IDSHIFT_RUN_DIR=" + run))
                    .annotation(key, value).script("echo started").write();
            List<String> before = Leftovers.under(scratch.path());
            String id = Runtime.newId();
            try {
                Exec.Result result = runtime.run(bundle, id);

                assertNotEquals(0, result.exit(), result.describe());
                assertTrue(!result.stdout().contains("started"), "the container must not start: " + result.describe());
                assertTrue(result.stderr().contains(key), "names the annotation: " + result.describe());
                assertTrue(result.stderr().contains(expected), result.describe());
                assertEquals(before, Leftovers.under(scratch.path()), "nothing mounted or serving for it on the host");
                assertTrue(Exec.run(List.of("runc", "list", "-q")).stdout().lines().noneMatch(id::equals), "no container left behind");
            } finally {
                runtime.delete(id);
            }
        }
    }

    @Test
    void impossibleContainerMapIsRefusedByTheDryRun() throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch()) {
            Path bundle = scratch.dir("bundle");
            Rootfs.create(bundle.resolve("rootfs"));
            new BundleBuilder(bundle).uidMappings(List.of(BundleBuilder.mapping(0, 100000, 65536), BundleBuilder.mapping(1000, 300000, 10)))
                    .write();

            Exec.Result result = Exec.run(List.of(Host.launcher().toString(), "maps", "--bundle", bundle.toString()));

            assertEquals(3, result.exit(), result.describe());
            assertTrue(result.stderr().contains("overlap on the inside"), result.describe());
        }
    }

    @Test
    void missingRootfsIsNamed() throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch()) {
            Path bundle = scratch.dir("bundle");
            new BundleBuilder(bundle).rootPath("no-such-rootfs").write();

            Exec.Result result = Exec.run(List.of(Host.launcher().toString(), "maps", "--bundle", bundle.toString()));

            assertEquals(3, result.exit(), result.describe());
            assertTrue(result.stderr().contains("$.root.path") && result.stderr().contains("no-such-rootfs"), result.describe());
        }
    }
}
