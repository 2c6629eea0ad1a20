package dev.idshift.backend;

import java.nio.file.Path;
import java.security.SecureRandom;

/**
 * idshift's state root (default /run/idshift, a tmpfs: a reboot clears it), shared by staging
 * mounts, FUSE server records and the daemon; and the random names of what is kept there.
 */
public final class RunDirectory {
    public static final Path DEFAULT = Path.of("/run/idshift");

    /** Made on first use only: seeding a SecureRandom costs tens of ms, which a hook that names nothing must not pay. */
    private static final class Random {
        static final SecureRandom SOURCE = new SecureRandom();
    }

    private RunDirectory() {
    }

    /** IDSHIFT_RUN_DIR if set (tests, several idshift installs), else /run/idshift. */
    public static Path fromEnvironment() {
        String configured = System.getenv("IDSHIFT_RUN_DIR");
        return configured == null || configured.isEmpty() ? DEFAULT : Path.of(configured);
    }

    /** 32 random lowercase hex digits (a record's name, or a staging secret). */
    public static String newName() {
        byte[] bytes = new byte[16];
        Random.SOURCE.nextBytes(bytes);
        return hex(bytes);
    }

    /** Lowercase hex, two digits a byte. */
    public static String hex(byte[] bytes) {
        StringBuilder hex = new StringBuilder(bytes.length * 2);
        for (byte b : bytes) {
            hex.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
        }
        return hex.toString();
    }
}
