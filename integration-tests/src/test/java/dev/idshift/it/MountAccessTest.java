package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.Exec;
import dev.idshift.it.support.Host;
import dev.idshift.it.support.HostUser;
import dev.idshift.it.support.Scratch;
import dev.idshift.it.support.SetuidImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 10, item 14: `idshift mount` shows on-disk root's setuid files as the mapped host id's. By
 * default the view is nosuid,nodev, so a host user who can reach it gets nothing from them; with
 * `-o suid` they work as before (root asked for it, and is warned when others can reach the view).
 */
class MountAccessTest {
    private static final String MAP = "0:100000:65536";

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"kernel", "fuse"})
    void byDefaultAHostUserGetsNoEuidFromTheViewsSetuidFiles(String backend) throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch(); HostUser user = HostUser.create()) {
            Path source = SetuidImage.addTo(scratch.dir("source"));
            Path view = scratch.dir("view");

            Exec.Result mounted = idshift("mount", "--backend", backend, "--uidmap", MAP, source.toString(), view.toString());
            try {
                assertEquals(0, mounted.exit(), mounted.describe());
                assertTrue(mounted.stdout().contains("rw,nosuid,nodev"), "the output says so: " + mounted.describe());
                assertTrue(mountOptions(view).contains("nosuid") && mountOptions(view).contains("nodev"), mountOptions(view));

                Exec.Result attack = SetuidImage.attack(user, view);

                assertTrue(attack.stdout().contains("uid=" + user.uid()), "the view is reachable: " + attack.describe());
                assertFalse(attack.stdout().contains("euid="), "no euid from a setuid file: " + attack.describe());
                assertFalse(attack.stdout().contains(SetuidImage.SECRET), attack.describe());
                assertEquals(SetuidImage.MOTD, Files.readString(source.resolve("etc/motd")));
            } finally {
                assertEquals(0, idshift("umount", view.toString()).exit());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"kernel", "fuse"})
    void withSuidTheViewsSetuidFilesWorkAndAReachableMountPointIsWarnedAbout(String backend) throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch(); HostUser user = HostUser.create()) {
            Path source = SetuidImage.addTo(scratch.dir("source"));
            Path reachable = scratch.dir("view");
            Path closed = scratch.dir("closed");
            Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx------"));
            Path hidden = Files.createDirectory(closed.resolve("view"));

            Exec.Result mounted = idshift("mount", "--backend", backend, "--uidmap", MAP, "-o", "suid", source.toString(), reachable.toString());
            try {
                assertEquals(0, mounted.exit(), mounted.describe());
                assertTrue(mounted.stdout().contains("rw,suid,nodev"), mounted.describe());
                assertTrue(mounted.stderr().startsWith("idshift: warning: -o suid at " + reachable), mounted.describe());
                Exec.Result asked = user.run(reachable + "/bin/suid-id");
                assertTrue(asked.stdout().contains("euid=100000"), "root asked for it: " + asked.describe());
            } finally {
                assertEquals(0, idshift("umount", reachable.toString()).exit());
            }
            Exec.Result quiet = idshift("mount", "--backend", backend, "--uidmap", MAP, "-o", "suid", source.toString(), hidden.toString());
            try {
                assertEquals(0, quiet.exit(), quiet.describe());
                assertEquals("", quiet.stderr(), "under a 0700 directory no other user reaches it: " + quiet.describe());
                assertTrue(Exec.ok(List.of(hidden + "/bin/suid-id")).stdout().contains("euid=100000"));
            } finally {
                assertEquals(0, idshift("umount", hidden.toString()).exit());
            }
        }
    }

    private static String mountOptions(Path mountPoint) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] fields = line.split(" ");
            if (fields[4].equals(mountPoint.toString())) {
                return fields[5];
            }
        }
        return "(not mounted)";
    }

    private static Exec.Result idshift(String... args) {
        List<String> command = new ArrayList<>(List.of(Host.launcher().toString()));
        command.addAll(List.of(args));
        return Exec.run(command);
    }
}
