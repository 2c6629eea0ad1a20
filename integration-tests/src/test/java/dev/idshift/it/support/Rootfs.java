package dev.idshift.it.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/** A one-binary busybox root filesystem, owned by host root (or at an offset), with every mount target in place. */
public final class Rootfs {
    private static final List<String> APPLETS = List.of("sh", "ls", "stat", "cat", "id", "touch", "echo", "grep", "head",
            "sleep", "true", "false", "mkdir", "chown", "rm", "wc", "awk", "sed", "tr", "test", "[");

    private Rootfs() {
    }

    public static Path create(Path directory) throws IOException {
        Path busybox = Host.executable("busybox");
        Host.require(busybox != null, "busybox-static is not installed");
        for (String dir : List.of("bin", "proc", "dev", "sys", "etc", "tmp", "root", "data", "home")) {
            Files.createDirectories(directory.resolve(dir));
        }
        Files.copy(busybox, directory.resolve("bin/busybox"));
        for (String applet : APPLETS) {
            Files.createSymbolicLink(directory.resolve("bin").resolve(applet), Path.of("busybox"));
        }
        Files.writeString(directory.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
        Files.writeString(directory.resolve("etc/group"), "root:x:0:\n");
        Files.setPosixFilePermissions(directory.resolve("tmp"), PosixFilePermissions.fromString("rwxrwxrwx"));
        return directory;
    }

    /** Moves every file's owner and group up by {@code base}: an image stored at a static offset. */
    public static void shiftOnDisk(Path directory, long base) {
        Exec.ok(List.of("sh", "-c", "find \"$0\" -exec sh -c 'for f; do"
                + " u=$(stat -c %u \"$f\"); g=$(stat -c %g \"$f\"); chown -h $((u+" + base + ")):$((g+" + base + ")) \"$f\"; done' sh {} +",
                directory.toString()));
    }

    public static String owner(Path file) {
        return Exec.ok(List.of("stat", "-c", "%u:%g", file.toString())).stdout().trim();
    }
}
