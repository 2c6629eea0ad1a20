package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.idshift.it.support.BundleBuilder;
import dev.idshift.it.support.Exec;
import dev.idshift.it.support.Rootfs;
import dev.idshift.it.support.Runtime;
import dev.idshift.it.support.Scratch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Multi-range maps and images stored at an offset, through runc. */
class OnDiskLayoutTest {
    private static final Runtime RUNTIME = Runtime.RUNC;

    /** The shiftfs letter's map: 0 -> 100000 for 1000 ids, 1000 -> 1000, 65534 -> 101000. */
    @Test
    void multiRangeMapShowsMappedOwnersAndOverflowForUnmappedOnes() throws Exception {
        RUNTIME.require();
        try (Scratch scratch = new Scratch()) {
            Path bundle = scratch.dir("bundle");
            Path rootfs = Rootfs.create(bundle.resolve("rootfs"));
            for (String[] file : new String[][] {{"by1000", "1000"}, {"by65534", "65534"}, {"by5000", "5000"}}) {
                Files.writeString(rootfs.resolve("home").resolve(file[0]), "x");
                Exec.ok(List.of("chown", file[1] + ":" + file[1], rootfs.resolve("home").resolve(file[0]).toString()));
            }
            List<java.util.Map<String, Object>> map = List.of(BundleBuilder.mapping(0, 100000, 1000),
                    BundleBuilder.mapping(1000, 1000, 1), BundleBuilder.mapping(65534, 101000, 1));
            new BundleBuilder(bundle).uidMappings(map).gidMappings(map).idshiftHook("prestart")
                    .script("stat -c %u:%g / /home/by1000 /home/by65534 /home/by5000; touch /home/new && stat -c %u:%g /home/new")
                    .write();

            Exec.Result result = RUNTIME.run(bundle);

            assertEquals(List.of("0:0", "1000:1000", "65534:65534", "65534:65534", "0:0"), result.stdout().lines().toList(), result.describe());
            assertEquals("0:0", Rootfs.owner(rootfs.resolve("home/new")));
            assertEquals("5000:5000", Rootfs.owner(rootfs.resolve("home/by5000")), "unmapped owners are left alone");
        }
    }

    @Test
    void imageStoredAtOffsetIsDetectedFromItsRootDirectory() throws Exception {
        RUNTIME.require();
        try (Scratch scratch = new Scratch()) {
            Path bundle = scratch.dir("bundle");
            Path rootfs = Rootfs.create(bundle.resolve("rootfs"));
            Files.writeString(rootfs.resolve("home/user-file"), "x");
            Exec.ok(List.of("chown", "1000:1000", rootfs.resolve("home/user-file").toString()));
            Rootfs.shiftOnDisk(rootfs, 300000);
            new BundleBuilder(bundle).idshiftHook("prestart")
                    .script("stat -c %u:%g / /home/user-file; touch /root/made && stat -c %u:%g /root/made").write();

            Exec.Result result = RUNTIME.run(bundle);

            assertEquals(List.of("0:0", "1000:1000", "0:0"), result.stdout().lines().toList(), result.describe());
            assertEquals("300000:300000", Rootfs.owner(rootfs.resolve("root/made")), "writes land at the image's offset");
        }
    }

    @Test
    void annotationOverridesDetection() throws Exception {
        RUNTIME.require();
        try (Scratch scratch = new Scratch()) {
            Path bundle = scratch.dir("bundle");
            Path rootfs = Rootfs.create(bundle.resolve("rootfs"));
            Rootfs.shiftOnDisk(rootfs, 300000);
            // The root dir says 300000, but the annotation says the files live at 200000 (uids) and 300000 (gids).
            new BundleBuilder(bundle).idshiftHook("prestart")
                    .annotation("dev.idshift.fs-uidmap", "0:200000:65536")
                    .annotation("dev.idshift.fs-gidmap", "0:300000:65536")
                    .script("stat -c %u:%g /").write();

            Exec.Result result = RUNTIME.run(bundle);

            assertEquals("65534:0", result.stdout().trim(), result.describe());
        }
    }

    @Test
    void fsidmapAnnotationShiftsAnOffsetImage() throws Exception {
        RUNTIME.require();
        try (Scratch scratch = new Scratch()) {
            Path bundle = scratch.dir("bundle");
            Path rootfs = Rootfs.create(bundle.resolve("rootfs"));
            Rootfs.shiftOnDisk(rootfs, 300000);
            new BundleBuilder(bundle).idshiftHook("createRuntime")
                    .annotation("dev.idshift.fsidmap", "0:300000:65536")
                    .script("stat -c %u:%g /; touch /tmp/x && stat -c %u:%g /tmp/x").write();

            Exec.Result result = RUNTIME.run(bundle);

            assertEquals(List.of("0:0", "0:0"), result.stdout().lines().toList(), result.describe());
            assertEquals("300000:300000", Rootfs.owner(rootfs.resolve("tmp/x")));
        }
    }

    @Test
    void rootfsAlreadyOwnedByTheContainerIsLeftAlone() throws Exception {
        RUNTIME.require();
        try (Scratch scratch = new Scratch()) {
            Path bundle = scratch.dir("bundle");
            Path rootfs = Rootfs.create(bundle.resolve("rootfs"));
            Rootfs.shiftOnDisk(rootfs, 100000);
            new BundleBuilder(bundle).idshiftHook("prestart")
                    .script("stat -c %u:%g /; grep -c idmapped /proc/self/mountinfo").write();

            Exec.Result result = RUNTIME.run(bundle);

            assertEquals(List.of("0:0", "0"), result.stdout().lines().toList(), "no idmapped mount: " + result.describe());
        }
    }
}
