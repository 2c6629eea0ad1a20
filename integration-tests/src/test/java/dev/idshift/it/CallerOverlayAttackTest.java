package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.Daemon;
import dev.idshift.it.support.Exec;
import dev.idshift.it.support.FuseServers;
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
 * A caller's overlay goes through the engine's one entry (Shifter.forCaller): rebuilt from layers
 * checked one by one on the fds then cloned, or refused, and never served as a FUSE view. Real
 * users ("co..." names, subordinate ids from 8800000), each in a user and mount namespace of its
 * own (`unshare -Urm`), mount overlays with userxattr and ask the daemon for them.
 */
class CallerOverlayAttackTest {
    private static final String PREFIX = "co";
    private static final long A_SUBIDS = 8_800_000;
    private static final long B_SUBIDS = 8_865_536;
    private static final String REFUSED = " is not a directory inside a mark you may use";
    private static final String CHANGED = " changed while the overlay was rebuilt; try again";

    /**
     * USER runs LINES, a script in its PLAY directory with $P set to it, as root of a user and mount
     * namespace it makes itself (`unshare -Urm`); the script must run to its end.
     */
    private static Exec.Result inOwnNamespace(HostUser user, Path play, Daemon daemon, String... lines) throws Exception {
        Path script = play.resolve("script.sh");
        Files.writeString(script, "P=" + play + "\n" + String.join("\n", lines) + "\ntrue\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        String command = "unshare --user --map-root-user --mount sh " + script + "; echo inside-exit=$?";
        Exec.Result result = Exec.run(user.as(List.of("sh", "-c", command)), null, Map.of(), 300);
        assertTrue(result.stdout().contains("inside-exit=0"), result.describe() + "\ndaemon: " + daemon.log());
        return result;
    }

    /** scratch/closed/NAME with DIRS in it: closed (0700) above, as a mark must be. */
    private static Path markable(Scratch scratch, String name, String... dirs) throws Exception {
        Path closed = scratch.dir("closed");
        Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx------"));
        Path mark = Files.createDirectories(closed.resolve(name));
        for (String dir : dirs) {
            Files.createDirectories(mark.resolve(dir));
        }
        return mark;
    }

    /** A directory of USER's own, outside any mark, with an overlay's u, w and m, and view. */
    private static Path playground(Scratch scratch, HostUser user) throws Exception {
        Path play = scratch.dir("play-" + user.name());
        for (String dir : List.of("u", "w", "m", "v", "view")) {
            Files.createDirectories(play.resolve(dir));
        }
        Exec.ok(List.of("chown", "-R", user.uid() + ":" + user.gid(), play.toString()));
        return play;
    }

    /**
     * The attack a FUSE fallback for caller overlays would open: A's overlay reads a root-owned,
     * world-readable directory as its lower layer. Through A's own overlay A cannot read the 0600
     * file in it; a FUSE view served by root with A's map (on-disk 0 shown as A) would read it for A.
     * The daemon refuses the layer (beneath no mark of A's), starts no FUSE server, mounts nothing.
     */
    @Test
    void anOverlayOnAnUnmarkedLayerIsRefusedAndNeverServedAsAFuseView() throws Exception {
        try (Scratch scratch = new Scratch(); HostUser a = HostUser.create(PREFIX, A_SUBIDS)) {
            Path open = scratch.dir("public");
            Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.writeString(open.resolve("secret"), "root's\n");
            Files.setPosixFilePermissions(open.resolve("secret"), PosixFilePermissions.fromString("rw-------"));
            Path play = playground(scratch, a);
            Path launcher = PublicCopy.of(scratch);
            try (Daemon daemon = Daemon.start(scratch.dir("daemon"), scratch.dir("state"), Path.of("/etc"))) {
                Path mine = markable(scratch, "a");
                assertEquals(0, daemon.idshift("mark", mine.toString(), "--owner", String.valueOf(a.uid())).exit(), "A has a mark");
                Exec.Result result = inOwnNamespace(a, play, daemon,
                        "mount -t overlay overlay -o userxattr,lowerdir=" + open + ",upperdir=$P/u,workdir=$P/w $P/m || exit 90",
                        "cat $P/m/secret 2>/dev/null && echo READ-THROUGH-OWN-OVERLAY",
                        launcher + " mount --socket " + daemon.socket() + " --uidmap 0:" + a.uid() + ":1 $P/m $P/view",
                        "echo mount-exit=$?",
                        "echo mounted=$(grep -c \" $P/view \" /proc/self/mountinfo)",
                        "cat $P/view/secret 2>/dev/null && echo READ-THROUGH-VIEW");
                String context = result.describe();
                assertFalse(result.stdout().contains("READ-THROUGH-OWN-OVERLAY"), "A's own overlay cannot read it: " + context);
                assertTrue(result.stdout().contains("mount-exit=6"), context);
                assertTrue(result.stderr().contains("layer " + open + REFUSED), context);
                assertTrue(result.stdout().contains("mounted=0"), "nothing mounted: " + context);
                assertFalse(result.stdout().contains("root's") || result.stdout().contains("READ-THROUGH-VIEW"), context);
                assertEquals(List.of(), FuseServers.servingFor(daemon.pid()), "no FUSE server was started for it");
            }
        }
    }

    /**
     * A caller's overlay, mounted in its user namespace, cannot decode file handles (overlayfs needs
     * CAP_DAC_READ_SEARCH of its mounter for that), so it ignores the overlay.origin xattr a copy-up
     * leaves on an upper file. Rebuilt by the daemon as host root it would decode one, and A writes
     * that xattr on its own upper files at will: the origin then names any inode on the layer's
     * filesystem, marked or not (here a root-only file outside every mark, its handle taken from a
     * copy-up host root made of it), which the rebuilt overlay looks up and pins as the file's lower
     * inode, and reports its inode number, hard link count and type through the file. The rebuilt
     * overlay must ignore the origin as the caller's own overlay does. Users "rv...", subids 9600000.
     */
    @Test
    void anOriginHandleTheCallerWritesIsNotDecodedByTheRebuiltOverlay() throws Exception {
        try (Scratch scratch = new Scratch(); HostUser a = HostUser.create("rv", 9_600_000)) {
            Path outside = scratch.dir("outside");
            Path secret = Files.writeString(outside.resolve("secret"), "root's\n");
            Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
            long secretInode = (Long) Files.getAttribute(secret, "unix:ino");
            // The handle as overlayfs writes it: host root copies the file up in an overlay of its own (in a
            // mount namespace that goes when the command ends) and reads the origin it left on the copy.
            Path rootUpper = scratch.dir("root-upper");
            Path rootWork = scratch.dir("root-work");
            Path rootMerged = scratch.dir("root-merged");
            Exec.ok(List.of("unshare", "--mount", "--propagation", "private", "sh", "-c", "mount -t overlay overlay -o lowerdir="
                    + outside + ",upperdir=" + rootUpper + ",workdir=" + rootWork + " " + rootMerged + " && touch " + rootMerged + "/secret"));
            String origin = field(Exec.ok(List.of("getfattr", "--absolute-names", "-e", "hex", "-n", "trusted.overlay.origin",
                    rootUpper.resolve("secret").toString())).stdout(), "trusted.overlay.origin=");
            assertTrue(origin.startsWith("0x00fb"), "an overlay file handle: " + origin);
            Path mark = markable(scratch, "a", "l", "u", "w");
            Files.writeString(mark.resolve("l/lower"), "a's\n");
            Path play = playground(scratch, a);
            Path launcher = PublicCopy.of(scratch);
            try (Daemon daemon = Daemon.start(scratch.dir("daemon"), scratch.dir("state"), Path.of("/etc"))) {
                assertEquals(0, daemon.idshift("mark", mark.toString(), "--owner", String.valueOf(a.uid())).exit());
                String ask = launcher + " mount --socket " + daemon.socket() + " --uidmap 0:" + a.uid() + ":1 ";
                Exec.Result result = inOwnNamespace(a, play, daemon,
                        ask + mark + " $P/v || exit 91",
                        "echo mine > $P/v/u/forged && setfattr -n user.overlay.origin -v " + origin + " $P/v/u/forged || exit 92",
                        "mount -t overlay overlay -o userxattr,lowerdir=$P/v/l,upperdir=$P/v/u,workdir=$P/v/w $P/m || exit 93",
                        "echo \"own $(stat -c %i $P/m/forged)\"",
                        ask + "$P/m $P/view || exit 94",
                        "echo \"view $(stat -c '%i %h' $P/view/forged 2>&1) $(cat $P/view/forged)\"",
                        "umount $P/view");
                String context = result.describe() + "\nthe file outside every mark is inode " + secretInode;
                long ownInode = Long.parseLong(field(result.stdout(), "own "));
                assertTrue(ownInode != secretInode, "A's own overlay ignores the origin: " + context);
                String view = field(result.stdout(), "view ");
                assertTrue(view.endsWith(" mine"), "the rebuilt overlay serves A's upper file: " + context);
                assertFalse(view.startsWith(secretInode + " "), "the rebuilt overlay did not look up the inode the origin names: "
                        + context);
            }
        }
    }

    /** What follows PREFIX on the first line of OUTPUT that starts with it. */
    private static String field(String output, String prefix) {
        return output.lines().filter(line -> line.startsWith(prefix)).findFirst().orElseThrow().substring(prefix.length());
    }

    /**
     * Check against use, raced: A's overlay names its layers through a symlink A flips, as fast as
     * it can, between its view of its own mark and B's mark, while it asks for the overlay 20 times.
     * Each layer is opened once, checked on that fd, and the same fd cloned, so every answer is A's
     * layers or a refusal: B's file is never shown, nothing is written in B's upper or work dir.
     */
    @Test
    void aLayerFlippedWhileTheDaemonRebuildsIsServedAsCheckedOrRefused() throws Exception {
        try (Scratch scratch = new Scratch(); HostUser a = HostUser.create(PREFIX, A_SUBIDS); HostUser b = HostUser.create(PREFIX, B_SUBIDS)) {
            Path markA = markable(scratch, "a", "l", "u", "w");
            Path markB = markable(scratch, "b", "l", "u", "w");
            Files.writeString(markA.resolve("l/file"), "a's\n");
            Files.writeString(markB.resolve("l/file"), "b's\n");
            Files.setPosixFilePermissions(markB.resolve("l/file"), PosixFilePermissions.fromString("rw-------"));
            Path play = playground(scratch, a);
            Path launcher = PublicCopy.of(scratch);
            try (Daemon daemon = Daemon.start(scratch.dir("daemon"), scratch.dir("state"), Path.of("/etc"))) {
                assertEquals(0, daemon.idshift("mark", markA.toString(), "--owner", String.valueOf(a.uid())).exit());
                assertEquals(0, daemon.idshift("mark", markB.toString(), "--owner", String.valueOf(b.uid())).exit());
                String ask = launcher + " mount --socket " + daemon.socket() + " --uidmap 0:" + a.uid() + ":1 $P/m $P/view";
                Exec.Result result = inOwnNamespace(a, play, daemon,
                        launcher + " mount --socket " + daemon.socket() + " --uidmap 0:" + a.uid() + ":1 " + markA + " $P/v || exit 91",
                        "ln -sfn $P/v $P/s",
                        "mount -t overlay overlay -o userxattr,lowerdir=$P/s/l,upperdir=$P/s/u,workdir=$P/s/w $P/m || exit 92",
                        // Control, before the race: the overlay over A's own mark is served.
                        "if " + ask + "; then echo \"control $(cat $P/view/file)\"; umount $P/view; else echo control-refused; fi",
                        "( while [ ! -e $P/stop ]; do ln -sfn " + markB + " $P/s.n; mv -T $P/s.n $P/s; ln -sfn $P/v $P/s.n;"
                                + " mv -T $P/s.n $P/s; done ) &",
                        "flipper=$!",
                        "i=0",
                        "while [ $i -lt 20 ]; do",
                        "  i=$((i+1))",
                        "  if " + ask + " 2>$P/err; then",
                        "    echo \"served $(cat $P/view/file 2>&1)\"; umount $P/view",
                        "  else",
                        "    echo \"refused $(cat $P/err)\"",
                        "  fi",
                        "done",
                        "touch $P/stop; wait $flipper");
                String context = result.describe();
                assertTrue(result.stdout().contains("control a's"), "A's own overlay is served: " + context);
                List<String> answers = result.stdout().lines().filter(line -> line.startsWith("served") || line.startsWith("refused")).toList();
                assertEquals(20, answers.size(), context);
                for (String answer : answers) {
                    if (answer.startsWith("served")) {
                        assertEquals("served a's", answer, "a served overlay shows A's layer, as checked: " + context);
                    } else {
                        assertTrue(answer.contains(REFUSED) || answer.contains(CHANGED), "refused, one way or the other: " + answer);
                    }
                }
                assertFalse(result.stdout().contains("b's"), "B's file is never shown: " + context);
                assertEquals(List.of(), List.of(markB.resolve("u").toFile().list()), "nothing written in B's upper");
                assertEquals(List.of(), List.of(markB.resolve("w").toFile().list()), "nor in B's work dir");
                assertEquals(List.of(), FuseServers.servingFor(daemon.pid()), "no FUSE server was started");
                long served = answers.stream().filter(answer -> answer.startsWith("served")).count();
                System.out.println("CallerOverlayAttackTest race: " + served + " served as checked, " + (answers.size() - served)
                        + " refused, of " + answers.size());
            }
        }
    }
}
