package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.BundleBuilder;
import dev.idshift.it.support.Exec;
import dev.idshift.it.support.HostUser;
import dev.idshift.it.support.MountTable;
import dev.idshift.it.support.Podman;
import dev.idshift.it.support.Rootfs;
import dev.idshift.it.support.Runtime;
import dev.idshift.it.support.Scratch;
import dev.idshift.it.support.SetuidImage;
import dev.idshift.it.support.StagingMounts;
import dev.idshift.staging.StagingStore;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 10, items 4 and 7, attacked by real unprivileged users: the staging of a running container
 * (the image, shifted, in the host's mount namespace) is reachable only by root and the container's
 * root, and only the secret in the container's own config reaches its staging from a hook.
 */
class StagingAttackTest {
    private static final long HOST_BASE = 100000;

    /** podman precreate: the staged rootfs of a running container, attacked through its host path. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"kernel", "fuse"})
    void aHostUserCannotUseAPrecreateStaging(String backend) throws Exception {
        try (Scratch scratch = new Scratch(); Podman podman = Podman.in(scratch); HostUser attacker = HostUser.create()) {
            Path rootfs = SetuidImage.addTo(Rootfs.create(scratch.dir("rootfs")));
            Path volume = SetuidImage.addTo(scratch.dir("volume"));
            String name = "idshift-it-" + Long.toHexString(System.nanoTime());
            try {
                Exec.Result started = podman.run(List.of("--annotation", "dev.idshift.enable=true", "--annotation",
                        "dev.idshift.backend=" + backend, "--annotation", "dev.idshift.mounts=/data", "-v", volume + ":/data",
                        "--detach", "--name", name), HOST_BASE, rootfs, "sleep 120");
                assertEquals(0, started.exit(), started.describe());
                List<Path> staged = StagingMounts.of(rootfs);
                assertEquals(1, staged.size(), "one staging mount for the rootfs: " + staged);
                Path view = staged.get(0);
                Path keyDirectory = StagingMounts.keyDirectory(view);
                List<Path> stagedVolume = StagingMounts.of(volume);
                assertEquals(1, stagedVolume.size(), "one staging mount for the volume: " + stagedVolume);
                assertEquals(keyDirectory, StagingMounts.keyDirectory(stagedVolume.get(0)), "under the same key");

                // Root (as the runtime) sees the image through it: the attack's path is the right one.
                assertEquals("0:0", Exec.run(podman.command("exec", name, "stat", "-c", "%u:%g", "/")).stdout().trim());
                assertTrue(Exec.ok(List.of(view + "/bin/suid-id")).stdout().contains("euid=" + HOST_BASE),
                        "through the staging the setuid id runs as the container's root");
                assertEquals("rwx--x---", permissions(keyDirectory));
                assertEquals(HOST_BASE + ":0", Files.getAttribute(keyDirectory, "unix:gid", LinkOption.NOFOLLOW_LINKS) + ":"
                        + Files.getAttribute(keyDirectory, "unix:uid", LinkOption.NOFOLLOW_LINKS), "root:G, G = host gid of container gid 0");

                assertEquals("rwx--x---", permissions(stagedVolume.get(0).getParent()));
                for (Path attacked : List.of(view, stagedVolume.get(0))) {
                    Exec.Result attack = SetuidImage.attack(attacker, attacked);

                    assertFalse(attack.stdout().contains("euid="), "no euid of the container's root: " + attack.describe());
                    assertFalse(attack.stdout().contains(SetuidImage.SECRET), attack.describe());
                    assertTrue(attack.stderr().contains("Permission denied"), attack.describe());
                }
                Exec.Result list = attacker.run("ls", keyDirectory.toString());
                assertEquals(SetuidImage.MOTD, Files.readString(rootfs.resolve("etc/motd")), "the image's motd unchanged");
                assertEquals(SetuidImage.MOTD, Files.readString(volume.resolve("etc/motd")), "the volume's too");
                assertNotEquals(0, list.exit(), list.describe());
            } finally {
                Exec.run(podman.command("rm", "--force", "--time", "0", name));
            }
        }
    }

    /** prestart/createRuntime with FUSE: the server's host-side mount point is root's alone, and gone from the host at once. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.idshift.it.Runtimes#all")
    void thePrestartFuseStagingIsRootsAlone(Runtime runtime) throws Exception {
        runtime.require();
        try (Scratch scratch = new Scratch(); HostUser attacker = HostUser.create()) {
            Path bundle = scratch.dir("bundle");
            Path rootfs = SetuidImage.addTo(Rootfs.create(bundle.resolve("rootfs")));
            // What the container sees goes to its /tmp, which lands on disk in the rootfs (crun exec cannot join it here).
            new BundleBuilder(bundle).idshiftHook("createRuntime").idshiftHook("poststop").annotation("dev.idshift.backend", "fuse")
                    .script("(grep ' / / ' /proc/self/mountinfo | grep -o fuse.idshift; stat -c %u:%g /) > /tmp/seen.partial"
                            + " && mv /tmp/seen.partial /tmp/seen; sleep 120").write();
            String id = Runtime.newId();
            try {
                Exec.Result started = runtime.runDetached(bundle, id);
                assertEquals(0, started.exit(), started.describe());
                Path keyDirectory = StagingMounts.STAGING.resolve(StagingStore.keyForContainer(id));
                Path seen = rootfs.resolve("tmp/seen");
                long deadline = System.nanoTime() + 30_000_000_000L;
                while (!Files.exists(seen) && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                assertEquals(List.of("fuse.idshift", "0:0"), Files.readAllLines(seen), "the container runs on its FUSE view");

                assertEquals("rwx------", permissions(keyDirectory));
                assertEquals(0, Files.getAttribute(keyDirectory, "unix:gid", LinkOption.NOFOLLOW_LINKS));
                assertEquals(List.of(), StagingMounts.of(rootfs), "the host's copy was detached once cloned into the container");
                Exec.Result attack = SetuidImage.attack(attacker, keyDirectory.resolve("rootfs"));
                assertFalse(attack.stdout().contains("euid="), attack.describe());
                assertFalse(attack.stdout().contains(SetuidImage.SECRET), attack.describe());
                assertNotEquals(0, attacker.run("ls", keyDirectory.toString()).exit());
            } finally {
                runtime.delete(id);
            }
            assertEquals(SetuidImage.MOTD, Files.readString(rootfs.resolve("etc/motd")));
        }
    }

    /**
     * A bundle whose dev.idshift.staging names the victim's key (mountinfo shows it), or any value but
     * the victim's secret, runs poststart and poststop for nothing: the victim's staging and record stay.
     */
    @Test
    void aBundleNamingAVictimsKeyCannotDetachOrRecordOverIt() throws Exception {
        Runtime runtime = Runtime.RUNC;
        runtime.require();
        try (Scratch scratch = new Scratch(); Podman podman = Podman.in(scratch)) {
            Path rootfs = Rootfs.create(scratch.dir("rootfs"));
            String victim = "idshift-it-" + Long.toHexString(System.nanoTime());
            try {
                Exec.Result started = podman.run(List.of("--annotation", "dev.idshift.enable=true", "--detach", "--name", victim),
                        HOST_BASE, rootfs, "sleep 120");
                assertEquals(0, started.exit(), started.describe());
                List<Path> staged = StagingMounts.of(rootfs);
                assertEquals(1, staged.size(), staged.toString());
                String victimKey = StagingMounts.keyDirectory(staged.get(0)).getFileName().toString();
                Path record = Path.of("/run/idshift/state", victimKey + ".json");
                byte[] recordBefore = Files.readAllBytes(record);

                List<String> forgedValues = new ArrayList<>(List.of(victimKey, StagingStore.newSecret()));
                for (String forged : forgedValues) {
                    Path bundle = scratch.dir("attacker-" + forged);
                    Rootfs.create(bundle.resolve("rootfs"));
                    new BundleBuilder(bundle).withoutUserNamespace().idshiftHook("poststart").idshiftHook("poststop")
                            .annotation("dev.idshift.staging", forged).script("true").write();
                    Exec.Result attack = runtime.run(bundle);
                    assertEquals(0, attack.exit(), "the attacker's own container runs: " + attack.describe());
                }

                assertEquals(staged, StagingMounts.of(rootfs), "the victim's staging is still mounted");
                assertTrue(Files.exists(record), "the victim's record is still there");
                assertEquals(new String(recordBefore), Files.readString(record), "and was not recorded over");
                Exec.Result exec = Exec.run(podman.command("exec", victim, "stat", "-c", "%u:%g", "/"));
                assertEquals("0:0", exec.stdout().trim(), exec.describe());
            } finally {
                Exec.run(podman.command("rm", "--force", "--time", "0", victim));
            }
            assertTrue(MountTable.snapshot().stream().noneMatch(line -> line.contains(rootfs.toString())), "poststop removed it");
        }
    }

    private static String permissions(Path path) throws Exception {
        return java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS));
    }
}
