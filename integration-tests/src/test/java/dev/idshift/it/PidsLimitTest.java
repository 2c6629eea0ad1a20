package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.Exec;
import dev.idshift.it.support.Host;
import dev.idshift.it.support.Leftovers;
import dev.idshift.it.support.Scratch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * `idshift mount --backend fuse` in a pids cgroup whose limit is too low for all the threads it and its
 * server want: one line on stderr naming the step ("cannot start a thread for ...: the pids limit?"),
 * exit 4 (the kernel refused: clone's EAGAIN), and nothing left: no mount, no record directory, no
 * process in the cgroup (a server left running would be there: children inherit their cgroup).
 *
 * <p>Which limit fails where depends on the JDK (how many threads a JVM starts with) and on timing, so
 * the test searches for the highest limit at which the mount fails, the next one up working: there the
 * mount command's own JVM has run its code (one thread more and all of it worked), and the failure is
 * one of idshift's own steps. Below the JVM's own needs ("Error occurred during initialization of VM")
 * no Java code runs at all; that is not idshift's to report. Every run, at every limit probed, must
 * leave nothing behind.
 */
class PidsLimitTest {
    private static final String[] MAP = {"--uidmap", "0:100000:65536"};
    /** Limits searched: the JVM alone needs more than the lower; the mount and its server fit in the upper. */
    private static final int LOW = 8;
    private static final int HIGH = 160;

    @Test
    void aMountUnderAPidsLimitFailsInOneLineAndLeavesNothing() throws Exception {
        Host.requireRoot();
        Path cgroup = pidsCgroup();
        try (Scratch scratch = new Scratch()) {
            Path source = scratch.dir("source");
            Files.writeString(source.resolve("file"), "x");
            Path view = scratch.dir("view");
            Path run = scratch.dir("run");
            Files.createDirectories(cgroup);
            try {
                List<String> before = Leftovers.under(scratch.path());
                Map<Integer, Exec.Result> outcomes = new TreeMap<>();
                int failing = LOW;
                int working = HIGH;
                Exec.Result atHigh = mountUnder(cgroup, HIGH, source, view, run, scratch, before);
                Host.require(atHigh.exit() == 0, "the mount works with " + HIGH + " tasks: " + atHigh.describe());
                while (working - failing > 1) {
                    int limit = (failing + working) / 2;
                    Exec.Result result = mountUnder(cgroup, limit, source, view, run, scratch, before);
                    outcomes.put(limit, result);
                    if (result.exit() == 0) {
                        working = limit;
                    } else {
                        failing = limit;
                    }
                }
                Exec.Result failed = outcomes.get(failing);
                assertTrue(failed != null && failed.exit() != 0, "no failing limit found above " + LOW + ": " + outcomes);
                String[] lines = failed.stderr().split("\n");
                assertEquals(1, lines.length, "one line at pids.max " + failing + " (" + working + " works): " + failed.describe());
                assertTrue(lines[0].startsWith("idshift: mount: cannot start a ") && lines[0].contains(": the pids limit?"),
                        "names the step and the limit: " + failed.describe());
                assertEquals(4, failed.exit(), failed.describe());
                System.out.println("pids.max " + failing + " fails (" + working + " works): " + lines[0]);
            } finally {
                removeCgroup(cgroup);
            }
        }
    }

    /**
     * Runs the mount with the cgroup's pids.max at {@code limit} (it joins the cgroup before exec), then
     * checks that nothing is left beyond what a working mount makes, and unmounts that.
     */
    private static Exec.Result mountUnder(Path cgroup, int limit, Path source, Path view, Path run, Scratch scratch,
                                          List<String> before) throws IOException, InterruptedException {
        Files.writeString(cgroup.resolve("pids.max"), Integer.toString(limit));
        List<String> command = new ArrayList<>(List.of("sh", "-c", "echo $$ > " + cgroup.resolve("cgroup.procs") + " && exec \"$0\" \"$@\"",
                Host.launcher().toString(), "mount", "--backend", "fuse"));
        command.addAll(List.of(MAP));
        command.addAll(List.of(source.toString(), view.toString()));
        Map<String, String> env = Map.of("IDSHIFT_RUN_DIR", run.toString());
        Exec.Result result = Exec.run(command, null, env, 120);
        Files.writeString(cgroup.resolve("pids.max"), "max");
        if (result.exit() == 0) {
            Exec.Result unmounted = Exec.run(List.of(Host.launcher().toString(), "umount", view.toString()), null, env, 120);
            assertEquals(0, unmounted.exit(), unmounted.describe());
        }
        String what = "after a mount at pids.max " + limit + " (" + result.describe() + ")";
        assertEquals(List.of(), awaitEmpty(cgroup.resolve("cgroup.procs")), "no process left in the cgroup " + what);
        assertEquals(before, Leftovers.under(scratch.path()), "no mount or FUSE server left " + what);
        assertEquals(List.of(), entries(run.resolve("fuse")), "no record directory left " + what);
        return result;
    }

    /** The cgroup's processes, once they are gone (a killed server is reaped by init shortly), or those still there after 10 s. */
    private static List<String> awaitEmpty(Path procs) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        List<String> left = Files.readAllLines(procs);
        while (!left.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
            left = Files.readAllLines(procs);
        }
        return left;
    }

    private static List<String> entries(Path directory) throws IOException {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        try (Stream<Path> listed = Files.list(directory)) {
            return listed.map(Path::toString).sorted().toList();
        }
    }

    /** A pids cgroup of this test's own: cgroup v1's pids hierarchy, or v2 where the root delegates pids. */
    private static Path pidsCgroup() throws IOException {
        String name = "idshift-it-pids-" + ProcessHandle.current().pid();
        Path v1 = Path.of("/sys/fs/cgroup/pids");
        if (Files.isRegularFile(v1.resolve("cgroup.procs"))) {
            return v1.resolve(name);
        }
        Path v2 = Path.of("/sys/fs/cgroup");
        Path control = v2.resolve("cgroup.subtree_control");
        Host.require(Files.isRegularFile(control) && List.of(Files.readString(control).trim().split(" ")).contains("pids"),
                "a pids cgroup controller (v1 /sys/fs/cgroup/pids, or v2 with pids in cgroup.subtree_control)");
        return v2.resolve(name);
    }

    /** Kills what is left in it (processes these runs started), by pid, then removes it by its path. */
    private static void removeCgroup(Path cgroup) throws IOException, InterruptedException {
        if (!Files.isDirectory(cgroup)) {
            return;
        }
        for (String pid : Files.readAllLines(cgroup.resolve("cgroup.procs"))) {
            ProcessHandle.of(Long.parseLong(pid.trim())).ifPresent(ProcessHandle::destroyForcibly);
        }
        awaitEmpty(cgroup.resolve("cgroup.procs"));
        Files.delete(cgroup);
    }
}
