package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.Daemon;
import dev.idshift.it.support.Exec;
import dev.idshift.it.support.Host;
import dev.idshift.it.support.HostUser;
import dev.idshift.it.support.PublicCopy;
import dev.idshift.it.support.Scratch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Issue 10, item 1 again (red team): a mark whose own directory is the only one closed to users.
 * Whoever is served the mark gets a mount whose root IS that directory, owned by the id on-disk 0
 * maps to: it can chmod it open, and then every host user reaches the tree by its host path, where
 * the setuid files it wrote are on-disk root's. The directory that keeps users out must be above
 * the mark, where no mount the daemon hands out can reach it.
 * User "rtx...", subordinate ids 6500000-6565535 (clear of HookChannelTest's users, from 6000000).
 */
class MarkClosedAboveTest {
    private static final String PREFIX = "rtx";
    private static final long SUBIDS = 6_500_000;

    @Test
    void aMarkClosedOnlyByItsOwnModeIsRefusedWhenMarkedAndWhenUsed() throws Exception {
        try (Scratch scratch = new Scratch(); HostUser a = HostUser.create(PREFIX, SUBIDS)) {
            Path closed = scratch.dir("closed");
            Path marked = Files.createDirectory(closed.resolve("marked"));
            Files.setPosixFilePermissions(marked, PosixFilePermissions.fromString("rwx------"));
            Path view = scratch.dir("view");
            Exec.ok(List.of("chown", a.uid() + ":" + a.gid(), view.toString()));
            Path launcher = PublicCopy.of(scratch);
            try (Daemon daemon = Daemon.start(scratch.dir("daemon"), scratch.dir("state"), Path.of("/etc"))) {
                Exec.Result mark = daemon.idshift("mark", marked.toString(), "--owner", String.valueOf(a.uid()));
                assertEquals(3, mark.exit(), "the mark's own mode does not close it: " + mark.describe());
                assertTrue(mark.stderr().contains("unprivileged users can traverse"), mark.describe());

                // Marked under a closed ancestor, which root opens later: the daemon refuses the mark at use.
                Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx------"));
                assertEquals(0, daemon.idshift("mark", marked.toString(), "--owner", String.valueOf(a.uid())).exit());
                Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwxr-xr-x"));

                // The attack: open the mount's root (the mark itself), plant a setuid copy of `id` as on-disk root,
                // run it by its host path.
                String inside = launcher + " mount --socket " + daemon.socket() + " --uidmap 0:" + a.uid() + ":1 "
                        + marked + " " + view + " && chmod 0755 " + view + " && cp /usr/bin/id " + view
                        + "/id && chmod 4755 " + view + "/id";
                String script = "unshare --user --map-root-user --mount sh -c '" + inside + "'; echo inside-exit=$?; "
                        + marked + "/id -u; echo host-run-exit=$?";
                Exec.Result attack = Exec.run(a.as(List.of("sh", "-c", script)), null, Map.of(), 120);
                assertTrue(attack.stdout().contains("inside-exit=6"), "refused by the daemon: " + attack.describe());
                assertTrue(attack.stderr().contains("is no longer safe to use"), attack.describe());
                assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(marked)), attack.describe());
                assertFalse(Files.exists(marked.resolve("id")), "no setuid copy planted: " + attack.describe());
                assertFalse(attack.stdout().lines().anyMatch(line -> line.equals("0")), "never euid 0: " + attack.describe());
            }
        }
    }

    /** The same rule for `idshift mount -o suid`'s warning: the mount hides the mount point's own mode. */
    @Test
    void aSuidViewOnAClosedMountPointUnderOpenDirectoriesIsWarnedAbout() throws Exception {
        try (Scratch scratch = new Scratch()) {
            Path source = scratch.dir("source");
            Files.writeString(source.resolve("file"), "x");
            Path mountPoint = scratch.dir("closed-mount-point");
            Files.setPosixFilePermissions(mountPoint, PosixFilePermissions.fromString("rwx------"));
            Exec.Result mounted = Exec.run(List.of(Host.launcher().toString(), "mount", "--backend", "kernel", "--uidmap",
                    "0:" + (SUBIDS + 100_000) + ":65536", "-o", "suid", source.toString(), mountPoint.toString()));
            try {
                assertEquals(0, mounted.exit(), mounted.describe());
                assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(mountPoint)),
                        "the view's root, not the 0700 mount point, is what users meet");
                assertTrue(mounted.stderr().startsWith("idshift: warning: -o suid at " + mountPoint), mounted.describe());
            } finally {
                assertEquals(0, Exec.run(List.of(Host.launcher().toString(), "umount", mountPoint.toString())).exit());
            }
        }
    }
}
