package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.Daemon;
import dev.idshift.it.support.Exec;
import dev.idshift.it.support.HostUser;
import dev.idshift.it.support.PublicCopy;
import dev.idshift.it.support.Rootfs;
import dev.idshift.it.support.Scratch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The daemon rebuilds an overlay its caller mounted only over layers beneath a mark the caller may
 * use: real users ("ise2..." names, subordinate ids 7000000-7999999), each in a user and mount
 * namespace of its own (`unshare -Urm`), mount an overlay with userxattr and ask for it.
 */
class OverlayLayerAttackTest {
    private static final String PREFIX = "ise2";
    private static final long A_SUBIDS = 7_000_000;
    private static final long B_SUBIDS = 7_100_000;
    private static final String REFUSED = " is not a directory inside a mark you may use";

    /** USER runs SCRIPT as root of a user and mount namespace it makes itself; "inside-exit=N" ends the output. */
    private static Exec.Result inOwnNamespace(HostUser user, String script) {
        String command = "unshare --user --map-root-user --mount sh -c '" + script + "'; echo inside-exit=$?";
        return Exec.run(user.as(List.of("sh", "-c", command)), null, Map.of(), 120);
    }

    /** A directory of USER's own, outside any mark, with l, u, w and m (the overlay's mount point) and view. */
    private static Path playground(Scratch scratch, HostUser user) throws Exception {
        Path play = scratch.dir("play-" + user.name());
        for (String dir : List.of("l", "u", "w", "m", "view", "x/l", "v", "y/u", "y/w")) {
            Files.createDirectories(play.resolve(dir));
        }
        Files.writeString(play.resolve("l/file"), "mine\n");
        Exec.ok(List.of("chown", "-R", user.uid() + ":" + user.gid(), play.toString()));
        return play;
    }

    private static String overlay(String lower, String upper, String work, Path mountPoint) {
        return "mount -t overlay overlay -o userxattr,lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work + " " + mountPoint;
    }

    @Test
    void aLayerOutsideTheCallersMarksIsRefusedAndNothingIsMounted() throws Exception {
        try (Scratch scratch = new Scratch(); HostUser a = HostUser.create(PREFIX, A_SUBIDS); HostUser b = HostUser.create(PREFIX, B_SUBIDS)) {
            Path closed = scratch.dir("closed");
            Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx------"));
            Path layersA = Files.createDirectories(closed.resolve("a/layers"));
            for (String dir : List.of("l", "u", "w")) {
                Files.createDirectories(layersA.resolve(dir));
            }
            Files.writeString(layersA.resolve("l/file"), "a's\n");
            // A root-only block device in A's lower layer: it shows as A's own through the rebuilt overlay.
            Exec.ok(List.of("mknod", "-m", "600", layersA.resolve("l/loop").toString(), "b", "7", "1"));
            Path markB = Files.createDirectories(closed.resolve("b"));
            for (String dir : List.of("l", "u", "w")) {
                Files.createDirectories(markB.resolve(dir));
            }
            Files.writeString(markB.resolve("l/secret"), "b's\n");
            Files.setPosixFilePermissions(markB.resolve("l/secret"), PosixFilePermissions.fromString("rw-------"));
            Path play = playground(scratch, a);
            Path launcher = PublicCopy.of(scratch);
            try (Daemon daemon = Daemon.start(scratch.dir("daemon"), scratch.dir("state"), Path.of("/etc"))) {
                assertEquals(0, daemon.idshift("mark", closed.resolve("a").toString(), "--owner", String.valueOf(a.uid())).exit());
                assertEquals(0, daemon.idshift("mark", markB.toString(), "--owner", String.valueOf(b.uid())).exit());
                String ask = launcher + " mount --socket " + daemon.socket() + " --uidmap 0:" + a.uid() + ":1 " + play.resolve("m") + " "
                        + play.resolve("view") + "; echo mount-exit=$?; grep -c idshift-overlay /proc/self/mountinfo";

                // Control: layers reached through A's own shifted view of its mark are served.
                Exec.Result own = inOwnNamespace(a, launcher + " mount --socket " + daemon.socket() + " --uidmap 0:" + a.uid() + ":1 "
                        + layersA + " " + play.resolve("x") + " && " + overlay(play + "/x/l", play + "/x/u", play + "/x/w", play.resolve("m"))
                        + " && " + ask + " && stat -c %u:%g " + play + "/view/file && touch " + play + "/view/new"
                        + " && { ( exec 3<" + play + "/view/loop ) 2>/dev/null && echo OPENED; true; }"
                        + " && { mount -o remount,bind,dev " + play + "/view 2>/dev/null && echo REMOUNTED; true; }"
                        + " && { ( exec 3<" + play + "/view/loop ) 2>/dev/null && echo OPENED-AFTER-REMOUNT; true; }"
                        + " && grep ' " + play + "/view ' /proc/self/mountinfo");
                // A lower layer of A's own, under no mark.
                Exec.Result unmarked = inOwnNamespace(a, overlay(play + "/l", play + "/u", play + "/w", play.resolve("m")) + " && " + ask);
                // A lower layer that was A's when mounted, then a symlink into B's mark: the layer is looked up again, as A sees it.
                Exec.Result swapped = inOwnNamespace(a, overlay(play + "/x/l", play + "/u", play + "/w", play.resolve("m"))
                        + " && mv " + play + "/x " + play + "/gone && ln -s " + markB + " " + play + "/x && " + ask
                        + "; cat " + play + "/view/secret");

                // Lower layer A's own (through its view of its mark), upper and work swapped into B's mark after mounting.
                String viewOfA = launcher + " mount --socket " + daemon.socket() + " --uidmap 0:" + a.uid() + ":1 " + layersA + " "
                        + play.resolve("v"); // the scenario above swapped x for a symlink
                Exec.Result upperSwapped = inOwnNamespace(a, viewOfA + " && " + overlay(play + "/v/l", play + "/y/u", play + "/y/w",
                        play.resolve("m")) + " && mv " + play + "/y " + play + "/gone-y && ln -s " + markB + " " + play + "/y && " + ask);
                // All layers A's, but a map naming B's subordinate ids.
                Exec.Result othersIds = inOwnNamespace(a, viewOfA + " && " + overlay(play + "/v/l", play + "/v/u", play + "/v/w",
                        play.resolve("m")) + " && " + launcher + " mount --socket " + daemon.socket() + " --uidmap " + b.subidExtent(0)
                        + " " + play.resolve("m") + " " + play.resolve("view") + "; echo mount-exit=$?");

                String context = "\ndaemon: " + daemon.log();
                assertTrue(own.stdout().contains("mount-exit=0"), own.describe() + context);
                assertTrue(own.stdout().contains("0:0"), "A's layers show as its namespace's root: " + own.describe());
                assertEquals("0:0", Rootfs.owner(layersA.resolve("u/new")), "A's write lands in A's upper dir, unshifted");
                // Issue 10 item 5 for the rebuilt overlay: nodev, and locked (sealed like every handed-out mount).
                assertFalse(own.stdout().contains("OPENED"), "a device node opened through the rebuilt overlay: " + own.describe());
                assertFalse(own.stdout().contains("REMOUNTED"), "the caller took nodev off the rebuilt overlay: " + own.describe());
                assertTrue(own.stdout().lines().anyMatch(line -> line.contains(" " + play + "/view ") && line.contains("nodev")),
                        "the rebuilt overlay is mounted nodev: " + own.describe());

                assertTrue(unmarked.stdout().contains("mount-exit=6"), unmarked.describe() + context);
                assertTrue(unmarked.stderr().contains("layer " + play + "/l" + REFUSED), unmarked.describe());
                assertTrue(unmarked.stdout().contains("\n0\n"), "nothing mounted: " + unmarked.describe());

                assertTrue(swapped.stdout().contains("mount-exit=6"), swapped.describe() + context);
                assertTrue(swapped.stderr().contains("layer " + play + "/x/l" + REFUSED), swapped.describe());
                assertTrue(swapped.stdout().contains("\n0\n"), "nothing mounted: " + swapped.describe());
                assertFalse(swapped.stdout().contains("b's"), "B's file never read: " + swapped.describe());
                assertFalse(Files.exists(layersA.resolve("u/secret")));

                assertTrue(upperSwapped.stdout().contains("mount-exit=6"), upperSwapped.describe() + context);
                assertTrue(upperSwapped.stderr().contains("layer " + play + "/y/u" + REFUSED), upperSwapped.describe());
                assertTrue(upperSwapped.stdout().contains("\n0\n"), "nothing mounted: " + upperSwapped.describe());
                assertEquals(List.of(), List.of(markB.resolve("u").toFile().list()), "nothing written in B's upper");
                assertEquals(List.of(), List.of(markB.resolve("w").toFile().list()), "nor in B's work dir");

                assertTrue(othersIds.stdout().contains("mount-exit=6"), othersIds.describe() + context);
                assertTrue(othersIds.stderr().contains("names host uid " + b.subidBase() + ", which the caller does not own"),
                        othersIds.describe());
            }
        }
    }
}
