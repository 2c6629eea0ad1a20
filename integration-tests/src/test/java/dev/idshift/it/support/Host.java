package dev.idshift.it.support;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * What this machine can do. On a laptop without root a container test skips politely; under CI
 * (CI=true) a skip would hide an untested real path, so it fails instead.
 */
public final class Host {
    private Host() {
    }

    public static boolean underCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    public static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** Skips (or, under CI, fails) unless {@code condition} holds. */
    public static void require(boolean condition, String what) {
        if (condition) {
            return;
        }
        if (underCi()) {
            Assertions.fail("CI=true and this test cannot run: " + what);
        }
        Assumptions.abort("skipped: " + what);
    }

    public static void requireRoot() {
        require(isRoot(), "needs root (real mounts, user namespaces and runtimes)");
    }

    public static Path executable(String name) {
        for (String dir : new String[] {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    public static void requireExecutable(String name) {
        require(executable(name) != null, name + " is not installed");
    }

    /** The repository root (IDSHIFT_REPO from the build, else the parent of the working directory). */
    public static Path repo() {
        String configured = System.getenv("IDSHIFT_REPO");
        Path repo = configured != null ? Path.of(configured) : Path.of("..");
        return repo.toAbsolutePath().normalize();
    }

    public static Path launcher() {
        return repo().resolve("bin/idshift");
    }
}
