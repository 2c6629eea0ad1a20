package dev.idshift.it.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * A scratch directory traversable by a container's root (host 100000): mktemp-style 0700
 * directories make runc fail on the rootfs bind. Removed afterwards; a leftover mount under it
 * is detached first, so one failing test cannot wedge the next.
 */
public final class Scratch implements AutoCloseable {
    private final Path directory;

    public Scratch() throws IOException {
        directory = Files.createTempDirectory(Path.of("/tmp"), "idshift-it-");
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    public Path path() {
        return directory;
    }

    public Path dir(String name) throws IOException {
        Path child = Files.createDirectories(directory.resolve(name));
        Files.setPosixFilePermissions(child, PosixFilePermissions.fromString("rwxr-xr-x"));
        return child;
    }

    @Override
    public void close() {
        for (String mount : MountTable.snapshot()) {
            String point = mount.split(" ")[0];
            if (point.startsWith(directory.toString() + "/") || point.equals(directory.toString())) {
                Exec.run(List.of("umount", "-l", point));
            }
        }
        // podman's asynchronous cleanup (conmon runs `podman container cleanup`) may still be writing
        // into a storage root under here for a moment after the run returned: try again briefly.
        for (int attempt = 0; attempt < 20 && Files.exists(directory); attempt++) {
            Exec.run(List.of("rm", "-rf", "--one-file-system", directory.toString()));
            if (Files.exists(directory)) {
                try {
                    Thread.sleep(250);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
