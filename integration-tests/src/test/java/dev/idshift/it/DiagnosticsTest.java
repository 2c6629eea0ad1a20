package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.BundleBuilder;
import dev.idshift.it.support.Exec;
import dev.idshift.it.support.Host;
import dev.idshift.it.support.Rootfs;
import dev.idshift.it.support.Scratch;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** `idshift maps` (dry run), `idshift doctor`, `--help`. */
class DiagnosticsTest {

    @Test
    void mapsExplainsAnOffsetImage() throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch()) {
            Path bundle = scratch.dir("bundle");
            Rootfs.create(bundle.resolve("rootfs"));
            Rootfs.shiftOnDisk(bundle.resolve("rootfs"), 300000);
            new BundleBuilder(bundle).write();

            Exec.Result result = Exec.run(List.of(Host.launcher().toString(), "maps", "--bundle", bundle.toString()));

            assertEquals(0, result.exit(), result.describe());
            assertTrue(result.stdout().contains("uid layout:  offset"), result.describe());
            assertTrue(result.stdout().contains("uid mount:   300000:100000:65536"), result.describe());
            assertTrue(result.stdout().contains("a helper user namespace"), result.describe());
        }
    }

    /** maps and doctor say an overlay rootfs is rebuilt on idmapped layers, and why. */
    @Test
    void mapsAndDoctorExplainTheOverlayPath() throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch()) {
            dev.idshift.it.support.OverlayImage image = dev.idshift.it.support.OverlayImage.create(scratch.dir("image"));
            Path bundle = scratch.dir("bundle");
            image.mount(java.nio.file.Files.createDirectories(bundle.resolve("rootfs")));
            new BundleBuilder(bundle).write();

            Exec.Result maps = Exec.run(List.of(Host.launcher().toString(), "maps", "--bundle", bundle.toString()));
            Exec.Result doctor = Exec.run(List.of(Host.launcher().toString(), "doctor", bundle.resolve("rootfs").toString()));

            assertEquals(0, maps.exit(), maps.describe());
            assertTrue(maps.stdout().contains("path:        overlay rebuilt on 3 idmapped layers (2 lower, upper " + image.upper), maps.describe());
            assertEquals(0, doctor.exit(), doctor.describe());
            assertTrue(doctor.stdout().contains("idmapped mounts: yes - overlay rebuilt on 3 idmapped layers"), doctor.describe());
        }
    }

    @Test
    void doctorReportsIdmapSupport() {
        Host.requireRoot();
        Exec.Result result = Exec.run(List.of(Host.launcher().toString(), "doctor", "/tmp"));
        assertEquals(0, result.exit(), result.describe());
        assertTrue(result.stdout().contains("idmapped mounts: yes"), result.describe());
        String maxUserNamespaces = Exec.ok(List.of("cat", "/proc/sys/user/max_user_namespaces")).stdout().trim();
        assertTrue(result.stdout().contains("(max " + maxUserNamespaces + ")"), "the sysctl read whole: " + result.describe());
        assertTrue(result.stdout().contains("runc:            runc version"), result.describe());
    }

    @Test
    void doctorSaysNoForProcfs() {
        Host.requireRoot();
        Exec.Result result = Exec.run(List.of(Host.launcher().toString(), "doctor", "/proc"));
        assertEquals(5, result.exit(), result.describe());
        assertTrue(result.stdout().contains("idmapped mounts: NO"), result.describe());
    }

    @Test
    void doctorWarnsAboutMountTargetsMissingFromTheImage() throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch()) {
            Path bundle = scratch.dir("bundle");
            Rootfs.create(bundle.resolve("rootfs"));
            new BundleBuilder(bundle).bindMount("/etc/hosts", "/etc/hosts").write();

            Exec.Result result = Exec.run(List.of(Host.launcher().toString(), "doctor", "--bundle", bundle.toString()));

            assertEquals(0, result.exit(), result.describe());
            assertTrue(result.stdout().contains("1 missing from") && result.stdout().contains("/etc/hosts"), result.describe());
            assertTrue(result.stdout().contains("precreate"), result.describe());
        }
    }

    @Test
    void installRunc() throws Exception {
        dev.idshift.it.support.Runtime.RUNC.require();
        try (Scratch scratch = new Scratch()) {
            Path bundle = scratch.dir("bundle");
            Rootfs.create(bundle.resolve("rootfs"));
            new BundleBuilder(bundle).script("stat -c %u:%g /").write();

            Exec.Result installed = Exec.run(List.of(Host.launcher().toString(), "install", "runc", "--bundle", bundle.toString()));
            Exec.Result again = Exec.run(List.of(Host.launcher().toString(), "install", "runc", "--bundle", bundle.toString()));
            Exec.Result run = dev.idshift.it.support.Runtime.RUNC.run(bundle);

            assertEquals(0, installed.exit(), installed.describe());
            assertTrue(again.stdout().contains("already runs idshift"), again.describe());
            assertEquals("0:0", run.stdout().trim(), run.describe());
        }
    }

    @Test
    void helpTeachesEverySubcommand() {
        Exec.Result help = Exec.run(List.of(Host.launcher().toString(), "--help"));
        assertEquals(0, help.exit(), help.describe());
        for (String command : List.of("hook", "mount", "umount", "maps", "doctor", "install", "gc")) {
            assertTrue(help.stdout().contains(command), command + " missing: " + help.describe());
            Exec.Result sub = Exec.run(List.of(Host.launcher().toString(), command, "--help"));
            assertEquals(0, sub.exit(), sub.describe());
        }
        assertTrue(Exec.run(List.of(Host.launcher().toString(), "hook", "--help")).stdout().contains("createRuntime"));
        // One clean line per command (its header), not a description cut mid-sentence onto a second line.
        String commands = help.stdout().substring(help.stdout().indexOf("Commands:"));
        assertFalse(commands.contains("\n             "), "a command's summary wraps: " + help.describe());
        assertTrue(help.stdout().contains("6 refused by the idshift daemon"), help.describe());
    }
}
