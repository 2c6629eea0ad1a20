package dev.idshift.it.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** What the precreate stage left under /run/idshift: state files and staging mounts. */
public final class Staging {
    private static final Path ROOT = Path.of("/run/idshift");

    private Staging() {
    }

    /** State files and mounts, one line each; compare before and after a test. */
    public static List<String> leftovers() {
        List<String> found = new ArrayList<>();
        Path state = ROOT.resolve("state");
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
            if (mount.startsWith(ROOT.resolve("staging") + "/")) {
                found.add("mount " + mount);
            }
        }
        return found;
    }
}
