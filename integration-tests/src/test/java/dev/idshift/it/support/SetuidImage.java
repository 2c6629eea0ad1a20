package dev.idshift.it.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * What an attacker wants from an image seen through a shifted view: root-owned setuid binaries
 * (the host's own id, cat and tee, so they run from a host path), a root-only file and a root-owned
 * file to append to. Through a view mapping on-disk 0 to host H they are H's.
 */
public final class SetuidImage {
    public static final String SECRET = "the container's secret";
    public static final String MOTD = "welcome\n";

    private SetuidImage() {
    }

    /** Adds bin/suid-id, bin/suid-cat, bin/suid-tee (4755 root), root/secret (0600 root) and etc/motd (0644 root). */
    public static Path addTo(Path tree) throws IOException {
        for (String tool : List.of("id", "cat", "tee")) {
            Path copy = Files.createDirectories(tree.resolve("bin")).resolve("suid-" + tool);
            Files.copy(Host.executable(tool), copy);
            Exec.ok(List.of("chown", "0:0", copy.toString()));
            Exec.ok(List.of("chmod", "4755", copy.toString()));
        }
        Path secret = Files.createDirectories(tree.resolve("root")).resolve("secret");
        Files.writeString(secret, SECRET);
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        Path motd = Files.createDirectories(tree.resolve("etc")).resolve("motd");
        Files.writeString(motd, MOTD);
        Files.setPosixFilePermissions(motd, PosixFilePermissions.fromString("rw-r--r--"));
        return tree;
    }

    /**
     * The three attacks through {@code view} (the image as mounted somewhere), as {@code user}: run
     * the setuid id, read the secret with the setuid cat, append to motd with the setuid tee.
     */
    public static Exec.Result attack(HostUser user, Path view) {
        return user.sh(view + "/bin/suid-id; " + view + "/bin/suid-cat " + view + "/root/secret; "
                + "echo pwned | " + view + "/bin/suid-tee -a " + view + "/etc/motd; cat " + view + "/root/secret; "
                + "echo pwned >> " + view + "/etc/motd");
    }
}
