package dev.idshift.backend.kernel;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.backend.MountAccess;
import dev.idshift.failure.BadInputException;
import dev.idshift.failure.KernelRefusedException;
import dev.idshift.failure.UnsupportedException;
import dev.idshift.marks.SubordinateIds;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A few engine sites, each failing with the kind that decides its exit code (they all were exit 4 or 1 before). */
class EngineFailureKindsTest {
    @TempDir
    Path scratch;

    @Test
    void aMissingToolIsUnsupportedHereNamingWhatToInstall() {
        UnsupportedException missing = assertThrows(UnsupportedException.class,
                () -> UserNamespaces.existing(new String[] {scratch.resolve("unshare").toString()}));
        assertTrue(missing.getMessage().contains("install util-linux"), missing.getMessage());
    }

    @Test
    void anUnknownMountFlagIsBadInputNamingIt() {
        BadInputException bad = assertThrows(BadInputException.class, () -> MountAccess.parse("ro,frobnicate"));
        assertTrue(bad.getMessage().contains("unknown mount flag \"frobnicate\""), bad.getMessage());
    }

    @Test
    void aFileTheKernelWillNotReadIsAKernelRefusalKeepingItsIOException() {
        // A directory where /etc/subuid should be: read(2) says EISDIR.
        KernelRefusedException refused = assertThrows(KernelRefusedException.class,
                () -> SubordinateIds.rangesOf(scratch, "alice", 1000));
        assertTrue(refused.getMessage().startsWith("cannot read " + scratch), refused.getMessage());
        assertInstanceOf(IOException.class, refused.getCause());
    }
}
