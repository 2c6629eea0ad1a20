package dev.idshift.it.support;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * bin/idshift and its jars copied where any user may read them: the clone under test may sit below a
 * directory unprivileged users cannot traverse (a CI checkout, /root).
 */
public final class PublicCopy {
    private PublicCopy() {
    }

    /** @return the copied launcher */
    public static Path of(Scratch scratch) throws IOException {
        Path copy = scratch.dir("idshift-copy");
        Exec.ok(List.of("cp", "-a", Host.repo().resolve("bin").toString(), copy.toString()));
        Exec.ok(List.of("mkdir", "-p", copy.resolve("hook/target").toString()));
        for (String part : List.of("idshift.jar", "lib", "lib-daemon", "native", "jvm-cache")) {
            Exec.ok(List.of("cp", "-a", Host.repo().resolve("hook/target").resolve(part).toString(), copy.resolve("hook/target").toString()));
        }
        Exec.ok(List.of("chmod", "-R", "a+rX", copy.toString()));
        return copy.resolve("bin/idshift");
    }
}
