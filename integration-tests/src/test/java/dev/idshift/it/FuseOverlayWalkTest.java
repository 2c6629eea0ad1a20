package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.Exec;
import dev.idshift.it.support.Host;
import dev.idshift.it.support.MountTable;
import dev.idshift.it.support.Scratch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A FUSE view of an overlay mounted as image stores mount it (no nfs_export: no file handles), walked
 * over many more files than the server may hold fds for (IDSHIFT_FUSE_FD_BUDGET): nodes past the
 * budget are found again by their parent and name. Every file's name, type, owner, mode, link count,
 * size and content must be what the kernel backend shows (the same layers, rebuilt on idmapped layers)
 * and, after changes made through the view (a directory renamed, files written and linked in it),
 * what the overlay itself holds; the server holds no more fds than its budget allows.
 */
class FuseOverlayWalkTest {
    private static final int BUDGET = 200;
    private static final int OFFSET = 100000;
    private static final Pattern SERVER_PID = Pattern.compile("server pid (\\d+)");

    /** Every entry with host ids less OFFSET (so the views compare with the unshifted tree), then all contents. */
    private static String walk(Path tree, int offset) {
        return Exec.ok(List.of("sh", "-c", "cd \"$0\" && find . -printf '%p %y %U %G %m %n %s\\n'"
                + " | awk -v o=\"$1\" '{ $3 -= o; $4 -= o; print }' | sort"
                + " && find . -type f | sort | xargs cat | sha256sum", tree.toString(), Integer.toString(offset))).stdout();
    }

    @Test
    void aWalkOfManyMoreFilesThanTheFdBudgetMatchesTheKernelBackendAndTheTree() throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch()) {
            Path lower = scratch.dir("lower");
            Path upper = scratch.dir("upper");
            Path work = scratch.dir("work");
            Path merged = scratch.dir("merged");
            // The kernel backend rebuilds its overlay on the same upper and work dirs, whose work dir
            // it re-creates: the ground truth gets an overlay of its own over the same lower layer.
            Path kernelUpper = scratch.dir("kernel-upper");
            Path kernelWork = scratch.dir("kernel-work");
            Path kernelMerged = scratch.dir("kernel-merged");
            Path kernelView = scratch.dir("kernel-view");
            Path fuseView = scratch.dir("fuse-view");
            // 40 directories of 100 files, each with a subdirectory of 10, hard links and symlinks: ~4,500 inodes.
            Exec.ok(List.of("sh", "-ec", "cd \"$0\"; for d in $(seq 1 40); do mkdir -p d$d/sub;"
                    + " (cd d$d && seq 1 100 | sed 's/^/f/' | xargs touch && echo \"$d\" > f1 && ln f1 hard"
                    + " && ln -s f2 sym && chown 1000:1001 f3 && chmod 640 f4 && cd sub && seq 1 10 | xargs touch); done",
                    lower.toString()));
            Exec.ok(List.of("mount", "-t", "overlay", "overlay", "-o",
                    "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work, merged.toString()));
            String fuseMount = null;
            try {
                Exec.ok(List.of("mount", "-t", "overlay", "overlay", "-o",
                        "lowerdir=" + lower + ",upperdir=" + kernelUpper + ",workdir=" + kernelWork, kernelMerged.toString()));
                String overlayLine = MountTable.snapshot().stream().filter(line -> line.startsWith(merged + " ")).findFirst()
                        .orElseThrow();
                assertFalse(overlayLine.contains("nfs_export=on"), "the overlay has no file handles: " + overlayLine);
                Exec.ok(List.of(Host.launcher().toString(), "mount", "--backend", "kernel", "--uidmap", "0:" + OFFSET + ":65536",
                        "--gidmap", "0:" + OFFSET + ":65536", kernelMerged.toString(), kernelView.toString()));
                Exec.Result mounted = Exec.run(List.of(Host.launcher().toString(), "mount", "--backend", "fuse", "--uidmap",
                        "0:" + OFFSET + ":65536", "--gidmap", "0:" + OFFSET + ":65536", merged.toString(), fuseView.toString()),
                        null, Map.of("IDSHIFT_FUSE_FD_BUDGET", Integer.toString(BUDGET)), 120);
                assertEquals(0, mounted.exit(), mounted.describe());
                fuseMount = fuseView.toString();
                Matcher pid = SERVER_PID.matcher(mounted.stdout());
                assertTrue(pid.find(), mounted.describe());
                long server = Long.parseLong(pid.group(1));

                String truth = walk(merged, 0);
                assertTrue(truth.lines().count() > 4000, "the tree has its ~4,500 entries");
                assertEquals(walk(kernelView, OFFSET), walk(fuseView, OFFSET), "the FUSE view as the kernel backend shows it");
                assertEquals(truth, walk(fuseView, OFFSET), "and as the tree is");
                long fds = openFds(server);
                assertTrue(fds >= BUDGET && fds < BUDGET + 100,
                        "the server used its " + BUDGET + " fds for nodes, and no more: " + fds + " open");

                // Past the budget, nodes found by name still act on the right inodes, and follow renames made through the view.
                // As the view's root (host 100000: on-disk 0) makes them; host root has no on-disk id here.
                Exec.ok(List.of("setpriv", "--reuid", "100000", "--regid", "100000", "--clear-groups", "sh", "-ec",
                        "cd \"$0\"; mv d37/sub d37/moved; echo new > d37/moved/5; ln d37/moved/5 d38/linked;"
                        + " mv d35/f50 d35/sub/renamed; echo after > d35/sub/renamed; chmod 600 d39/f7;"
                        + " rm d40/f9; echo more >> d36/f99", fuseView.toString()));
                Exec.ok(List.of("chown", "101000:101000", fuseView.resolve("d39/f8").toString()));
                Thread.sleep(1100);  // past the kernel's attribute cache: stats reach the server again
                assertEquals(walk(merged, 0), walk(fuseView, OFFSET), "after changes through the view");
                assertTrue(openFds(server) < BUDGET + 100, "still within the budget: " + openFds(server));
                String log = serverLog(server);
                assertFalse(log.contains("Too many open files") || log.contains("EMFILE"), log);
            } finally {
                if (fuseMount != null) {
                    Exec.run(List.of(Host.launcher().toString(), "umount", fuseMount));
                }
                Exec.run(List.of(Host.launcher().toString(), "umount", kernelView.toString()));
                Exec.run(List.of("umount", kernelMerged.toString()));
                Exec.run(List.of("umount", merged.toString()));
            }
        }
    }

    private static long openFds(long pid) throws Exception {
        try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return fds.count();
        }
    }

    /** The server's log (RUN/fuse/KEY/server.log), found by its /proc/PID/fd/2 link. */
    private static String serverLog(long pid) {
        try {
            return Files.readString(Files.readSymbolicLink(Path.of("/proc/" + pid + "/fd/2")));
        } catch (Exception e) {
            return "";
        }
    }
}
