package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.Exec;
import dev.idshift.it.support.FuseTransport;
import dev.idshift.it.support.Host;
import dev.idshift.it.support.Scratch;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The project's POSIX conformance suite (posix-conformance.py, in the spirit of pjdfstest: every
 * syscall's success and error cases, long names and paths) through the FUSE backend and through the
 * kernel backend with the same map, as the view's root (host root, mapped to on-disk 100000) and as
 * an unprivileged user: the FUSE view must answer every case as the kernel's idmapped mount does,
 * served through /dev/fuse reads and writes ("fuse", the default) and over io_uring ("fuse-uring", opt-in).
 */
class PosixConformanceTest {
    private static final String[] MAP = {"--uidmap", "100000:0:65536"};

    @Test
    void theFuseBackendAnswersEveryCaseAsTheKernelBackendDoes() throws Exception {
        Host.requireRoot();
        Host.requireExecutable("python3");
        Path suite = Host.repo().resolve("integration-tests/src/test/resources/posix-conformance.py");
        try (Scratch scratch = new Scratch(); FuseTransport ring = FuseTransport.ringOn()) {
            Map<String, List<String>> seen = new LinkedHashMap<>();
            for (String variant : List.of("kernel", "fuse", "fuse-uring")) {
                String backend = variant.startsWith("fuse") ? "fuse" : variant;
                Path source = scratch.dir(variant + "-source");
                Exec.ok(List.of("chown", "100000:100000", source.toString()));
                Path view = scratch.dir(variant + "-view");
                Exec.Result mounted = Exec.run(List.of(Host.launcher().toString(), "mount", "--backend", backend, MAP[0], MAP[1],
                        source.toString(), view.toString()), null,
                        variant.equals("fuse-uring") ? FuseTransport.URING : Map.of(), 60);
                assertEquals(0, mounted.exit(), variant + ": " + mounted.describe());
                if (backend.equals("fuse")) {
                    java.util.regex.Matcher pid = java.util.regex.Pattern.compile("server pid (\\d+)").matcher(mounted.stdout());
                    assertTrue(pid.find(), mounted.describe());
                    int queues = variant.equals("fuse-uring") ? FuseTransport.possibleCpus() : 0;
                    assertEquals(queues, FuseTransport.awaitRingThreads(Long.parseLong(pid.group(1)), queues).size(),
                            variant + ": its server's ring queues");
                }
                try {
                    Exec.Result run = Exec.run(List.of("sh", "-c", "cd '" + view + "' && python3 '" + suite + "'"));
                    assertEquals(0, run.exit(), variant + ": " + run.describe());
                    seen.put(variant, List.of(run.stdout().split("\n")));
                } finally {
                    Exec.run(List.of(Host.launcher().toString(), "umount", view.toString()));
                }
            }
            List<String> kernel = seen.get("kernel");
            assertTrue(kernel.size() > 90, "the whole suite ran: " + kernel);
            List<String> differing = new java.util.ArrayList<>();
            for (String variant : List.of("fuse", "fuse-uring")) {
                List<String> fuse = seen.get(variant);
                for (int i = 0; i < Math.max(kernel.size(), fuse.size()); i++) {
                    String expected = i < kernel.size() ? kernel.get(i) : "(none)";
                    String actual = i < fuse.size() ? fuse.get(i) : "(none)";
                    if (!expected.equals(actual)) {
                        differing.add("kernel " + expected + " | " + variant + " " + actual);
                    }
                }
            }
            assertEquals(List.of(), differing, "cases the FUSE backend answers unlike the kernel backend");
        }
    }
}
