package dev.idshift.it.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * What a test's run could have left on the host, limited to what is the test's own. The host's mount
 * table and process list are shared with everything else on the machine (other tests, podman's own
 * mounts), so comparing them whole fails on others' changes. Whatever the code under test mounts or
 * starts for a test names the test's directories: the bind or view is mounted there, or shows its
 * source there (an idmapped clone's root, a FUSE view's fsname), or a FUSE server has them in its
 * argv. A test that also gives idshift a run directory of its own (IDSHIFT_RUN_DIR) beneath them has
 * staging mounts and FUSE records there too.
 */
public final class Leftovers {
    private Leftovers() {
    }

    /**
     * One line per mount in this mount namespace whose mount point, root within its filesystem or
     * source is one of {@code dirs} or beneath it, then one per {@code idshift __fuse-serve} process
     * with an argument there (by pid). Compare before and after.
     */
    public static List<String> under(Path... dirs) {
        List<String> found = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                MountLine mount = MountLine.parse(line);
                if (within(mount.mountPoint(), dirs) || within(mount.root(), dirs) || within(mount.source(), dirs)) {
                    found.add("mount " + mount.mountPoint() + " (" + mount.fsType() + ", source " + mount.source() + ", root " + mount.root() + ")");
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        ProcessHandle.allProcesses()
                .filter(process -> process.info().arguments()
                        .map(arguments -> List.of(arguments).contains("__fuse-serve")
                                && List.of(arguments).stream().anyMatch(argument -> within(argument, dirs)))
                        .orElse(false))
                .sorted(Comparator.comparingLong(ProcessHandle::pid))
                .forEach(process -> found.add("fuse server " + process.pid() + " " + String.join(" ", process.info().arguments().orElse(new String[0]))));
        return found;
    }

    private static boolean within(String path, Path... dirs) {
        for (Path dir : dirs) {
            if (path.equals(dir.toString()) || path.startsWith(dir + "/")) {
                return true;
            }
        }
        return false;
    }
}
