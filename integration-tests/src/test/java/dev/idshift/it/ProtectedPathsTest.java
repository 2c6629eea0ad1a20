package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.BundleBuilder;
import dev.idshift.it.support.Exec;
import dev.idshift.it.support.MountLine;
import dev.idshift.it.support.MountTable;
import dev.idshift.it.support.Rootfs;
import dev.idshift.it.support.Runtime;
import dev.idshift.it.support.Scratch;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A container with the hook is exactly as confined as without it: every maskedPaths and
 * readonlyPaths entry, and root.readonly, look the same from inside (issue: crun applies them
 * through a rootfs fd opened before hooks).
 */
class ProtectedPathsTest {
    static final String DUMP = "cat /proc/self/mountinfo; echo ===;"
            + " echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo sys-writable || echo sys-readonly;"
            + " echo keys=$(cat /proc/keys 2>/dev/null | wc -c);"
            + " touch /root-write-probe 2>/dev/null && echo root-writable || echo root-readonly";

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (Runtime runtime : Runtime.values()) {
            for (String stage : List.of("prestart", "createRuntime")) {
                for (boolean readonlyRoot : List.of(false, true)) {
                    cases.add(Arguments.of(runtime, stage, readonlyRoot));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1} readonly-root={2}")
    @MethodSource("cases")
    void maskedAndReadonlyPathsAreTheSameWithAndWithoutTheHook(Runtime runtime, String stage, boolean readonlyRoot) throws Exception {
        runtime.require();
        try (Scratch scratch = new Scratch()) {
            Path rootfs = Rootfs.create(scratch.dir("rootfs"));
            Path plain = new BundleBuilder(scratch.dir("plain")).rootPath(rootfs.toString()).readonlyRoot(readonlyRoot)
                    .script(DUMP).write();
            Path hooked = new BundleBuilder(scratch.dir("hooked")).rootPath(rootfs.toString()).readonlyRoot(readonlyRoot)
                    .idshiftHook(stage).script(DUMP).write();

            View without = View.of(runtime.run(plain));
            View with = View.of(runtime.run(hooked));

            assertTrue(with.rootOwnedByContainer, "the hook did shift: " + with.raw);
            for (String path : protectedPaths()) {
                // Every line, not only the topmost: a path masked twice would be a sign of confusion.
                assertEquals(without.linesAt(path), with.linesAt(path), path + " differs with the hook;\nwithout:\n"
                        + without.raw + "\nwith:\n" + with.raw);
            }
            assertEquals(readonlyRoot, with.topmost("/").readonly(), "root.readonly kept: " + with.raw);
            assertEquals("sys-readonly", with.probe("sys-"));
            assertEquals("keys=0", with.probe("keys="));
            assertEquals(readonlyRoot ? "root-readonly" : "root-writable", with.probe("root-"));
            assertEquals(without.probe("sys-"), with.probe("sys-"));
            assertEquals(without.probe("keys="), with.probe("keys="));
        }
    }

    static Stream<Arguments> propagations() {
        List<Arguments> cases = new ArrayList<>();
        for (Runtime runtime : Runtime.values()) {
            for (String propagation : List.of("private", "slave", "shared")) {
                cases.add(Arguments.of(runtime, propagation));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} rootfsPropagation={1}")
    @MethodSource("propagations")
    void rootfsPropagationIsTheSameWithAndWithoutTheHook(Runtime runtime, String propagation) throws Exception {
        runtime.require();
        try (Scratch scratch = new Scratch()) {
            Path rootfs = Rootfs.create(scratch.dir("rootfs"));
            Path plain = new BundleBuilder(scratch.dir("plain")).rootPath(rootfs.toString()).rootfsPropagation(propagation)
                    .script(DUMP).write();
            Path hooked = new BundleBuilder(scratch.dir("hooked")).rootPath(rootfs.toString()).rootfsPropagation(propagation)
                    .idshiftHook("createRuntime").script(DUMP).write();

            View without = View.of(runtime.run(plain));
            View with = View.of(runtime.run(hooked));

            assertTrue(with.rootOwnedByContainer, "the hook did shift: " + with.raw);
            assertEquals(without.topmost("/").propagation(), with.topmost("/").propagation(),
                    "propagation of / differs;\nwithout:\n" + without.raw + "\nwith:\n" + with.raw);
        }
    }

    static List<String> protectedPaths() {
        List<String> paths = new ArrayList<>(BundleBuilder.MASKED);
        paths.addAll(BundleBuilder.READONLY);
        return paths;
    }

    /** What the container saw: its mount table and the probes' answers. */
    record View(Map<String, List<MountLine>> linesByPoint, List<String> probes, boolean rootOwnedByContainer, String raw) {
        static View of(Exec.Result result) {
            String[] parts = result.stdout().split("===\n", 2);
            assertFalse(parts.length < 2, "container output: " + result.describe());
            Map<String, List<MountLine>> byPoint = new LinkedHashMap<>();
            for (MountLine line : MountTable.parse(parts[0])) {
                byPoint.computeIfAbsent(line.mountPoint(), point -> new ArrayList<>()).add(line);
            }
            MountLine root = topmost(byPoint, "/");
            boolean shifted = root != null && root.mountOptions().contains("idmapped");
            return new View(byPoint, parts[1].lines().toList(), shifted, result.describe());
        }

        private static MountLine topmost(Map<String, List<MountLine>> byPoint, String path) {
            List<MountLine> lines = byPoint.get(path);
            return lines == null ? null : lines.get(lines.size() - 1);
        }

        List<MountLine> linesAt(String path) {
            return linesByPoint.getOrDefault(path, List.of());
        }

        /** The mount line that decides what the container sees at {@code path} (null: none). */
        MountLine topmost(String path) {
            return topmost(linesByPoint, path);
        }

        String probe(String prefix) {
            return probes.stream().filter(line -> line.startsWith(prefix)).findFirst().orElse("(missing " + prefix + ")");
        }
    }
}
