package dev.idshift.it.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The staging mounts under /run/idshift/staging of one source tree, found in the host's mountinfo. */
public final class StagingMounts {
    public static final Path STAGING = Path.of("/run/idshift/staging");

    private StagingMounts() {
    }

    /**
     * Mount points under STAGING whose mount shows {@code source}: as its root within the filesystem
     * (an idmapped bind) or as its source (a FUSE server's fsname). Other helpers' mounts never match.
     */
    public static List<Path> of(Path source) {
        List<Path> found = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] fields = line.split(" ");
                String separated = line.substring(line.indexOf(" - ") + 3);
                boolean fromSource = fields[3].equals(source.toString()) || separated.split(" ")[1].equals(source.toString());
                if (fields[4].startsWith(STAGING + "/") && fromSource) {
                    found.add(Path.of(fields[4]));
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return found;
    }

    /** The key directory (STAGING/K) of a staging mount point. */
    public static Path keyDirectory(Path mountPoint) {
        return STAGING.resolve(STAGING.relativize(mountPoint).getName(0));
    }
}
