package dev.idshift.it.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * What the precreate stage left in a run directory (IDSHIFT_RUN_DIR): state files and staging mounts.
 * Tests give idshift a run directory of their own, so nothing another run on the machine stages
 * shows up here (and their gc removes nothing of anyone else's).
 */
public final class Staging {
    private Staging() {
    }

    /** State files and mounts under {@code run}, one line each; compare before and after a test. */
    public static List<String> leftovers(Path run) {
        List<String> found = new ArrayList<>();
        Path state = run.resolve("state");
        if (Files.isDirectory(state)) {
            try (Stream<Path> files = Files.list(state)) {
                // .lock is StagingStore's lock file, made once and kept: not something left behind.
                files.filter(file -> !file.getFileName().toString().equals(".lock"))
                        .forEach(file -> found.add("state " + file.getFileName()));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
        for (String mount : MountTable.snapshot()) {
            if (mount.startsWith(run.resolve("staging") + "/")) {
                found.add("mount " + mount);
            }
        }
        return found;
    }
}
