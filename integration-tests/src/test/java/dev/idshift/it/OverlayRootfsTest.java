package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.BundleBuilder;
import dev.idshift.it.support.Exec;
import dev.idshift.it.support.FuseServers;
import dev.idshift.it.support.OverlayImage;
import dev.idshift.it.support.Rootfs;
import dev.idshift.it.support.Runtime;
import dev.idshift.it.support.Scratch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * An overlay rootfs (as image stores hand runtimes) is shifted by rebuilding the overlay on
 * idmapped layers: checked against ground truth, the same layers under an overlay in a container
 * without a user namespace, running the same script.
 */
class OverlayRootfsTest {
    /** Reads the overlay's semantics and changes it; prints what the container sees (the runtime's masks too). */
    static final String SCRIPT = "cd /data; stat -c '%n %u:%g %a' / /bin/busybox /data/suid /data/capfile;"
            + " ls -a /data | tr '\\n' ' '; echo; ls /data/opq;"
            + " mv /data/movable /data/moved && cat /data/moved/deep/inner; ls -d /data/movable 2>/dev/null || echo no-movable;"
            + " touch /data/suid; stat -c 'suid after copy-up %a %u:%g' /data/suid;"
            + " touch /data/capfile; stat -c 'cap after copy-up %a %u:%g' /data/capfile;"
            + " echo x >> /data/linkme; stat -c 'links %h' /data/linkme /data/linkpair; cat /data/linkpair;"
            + " ln /data/l2file /data/l2link && stat -c 'cross-layer link %h' /data/l2file /data/l2link;"
            + " rm /data/gone 2>&1 | head -1; rm -r /data/opq && mkdir /data/opq && touch /data/opq/fresh; ls /data/opq;"
            + " touch /root/made; chown 1000:1000 /root/made; mkdir /root/dir; stat -c '%n %u:%g' /root/made /root/dir;"
            + " echo masked timer_list: $(cat /proc/timer_list 2>/dev/null | wc -c) bytes;"
            + " grep ' / / ' /proc/self/mountinfo | awk '{print $(NF-2)}'";

    /** An overlay without an upper dir (read-only, as engines mount image-only views) and root.readonly. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.idshift.it.Runtimes#all")
    void aReadOnlyOverlayStaysReadOnly(Runtime runtime) throws Exception {
        runtime.require();
        try (Scratch scratch = new Scratch()) {
            OverlayImage image = OverlayImage.create(scratch.dir("image"));
            String before = OverlayImage.digest(image.bottom) + OverlayImage.digest(image.top);
            Path bundle = scratch.dir("bundle");
            Path rootfs = Files.createDirectories(bundle.resolve("rootfs"));
            Exec.ok(List.of("mount", "-t", "overlay", "overlay", "-o", "lowerdir=" + image.top + ":" + image.bottom, rootfs.toString()));
            new BundleBuilder(bundle).idshiftHook("createRuntime").readonlyRoot(true)
                    .script("stat -c %u:%g / /data/suid; ls /data/opq; touch /root/x 2>/dev/null || echo read-only;"
                            + " grep ' / / ' /proc/self/mountinfo | grep -o idshift-overlay").write();

            Exec.Result result = runtime.run(bundle);

            assertEquals(0, result.exit(), result.describe());
            assertEquals(List.of("0:0", "0:0", "new", "read-only", "idshift-overlay"), result.stdout().lines().toList(), result.describe());
            Exec.ok(List.of("umount", rootfs.toString()));
            assertEquals(before, OverlayImage.digest(image.bottom) + OverlayImage.digest(image.top), "the layers are unchanged");
        }
    }

    /**
     * Each layer's on-disk layout is detected on its own: a bottom layer stored at an offset
     * (container id c on disk as 200000+c) under an unshifted top layer and upper dir.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.idshift.it.Runtimes#all")
    void eachLayerKeepsItsOwnLayout(Runtime runtime) throws Exception {
        runtime.require();
        try (Scratch scratch = new Scratch()) {
            OverlayImage image = OverlayImage.create(scratch.dir("image"));
            Rootfs.shiftOnDisk(image.bottom, 200000);
            Path bundle = scratch.dir("bundle");
            Path rootfs = Files.createDirectories(bundle.resolve("rootfs"));
            image.mount(rootfs);
            new BundleBuilder(bundle).idshiftHook("createRuntime")
                    .script("stat -c %u:%g /bin/busybox /data/l2file /data/suid; touch /data/suid /root/new; stat -c %u:%g /data/suid /root/new").write();

            Exec.Result result = runtime.run(bundle);

            assertEquals(0, result.exit(), result.describe());
            assertEquals(List.of("0:0", "0:0", "0:0", "0:0", "0:0"), result.stdout().lines().toList(), result.describe());
            // The upper dir is stored unshifted: a copy-up from the offset layer lands as the container's 0 there.
            assertEquals("0:0", Rootfs.owner(image.upper.resolve("data/suid")));
            assertEquals("200000:200000", Rootfs.owner(image.bottom.resolve("data/suid")), "the offset layer is untouched");
            Exec.ok(List.of("umount", rootfs.toString()));
        }
    }

    /**
     * containers/storage mounts with relative layer paths when the absolute option string would not
     * fit a page ({@code cd HOME; lowerdir=l/A:l/B,upperdir=ID/diff,workdir=ID/work HOME/ID/merged}):
     * recognised by that layout and rebuilt too.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.idshift.it.Runtimes#all")
    void containersStorageRelativeLayersAreFound(Runtime runtime) throws Exception {
        runtime.require();
        try (Scratch scratch = new Scratch()) {
            Path home = scratch.dir("storage/overlay");
            OverlayImage image = OverlayImage.create(scratch.dir("image"));
            Files.createDirectories(home.resolve("l"));
            Files.createSymbolicLink(home.resolve("l/TOP"), image.top);
            Files.createSymbolicLink(home.resolve("l/BOTTOM"), image.bottom);
            Path merged = Files.createDirectories(home.resolve("c1/merged"));
            Files.createDirectories(home.resolve("c1/diff"));
            Files.createDirectories(home.resolve("c1/work"));
            Exec.ok(List.of("sh", "-c", "cd \"$0\" && mount -t overlay overlay -o lowerdir=l/TOP:l/BOTTOM,upperdir=c1/diff,workdir=c1/work c1/merged",
                    home.toString()));
            Path bundle = scratch.dir("bundle");
            new BundleBuilder(bundle).rootPath(merged.toString()).idshiftHook("createRuntime")
                    .script("stat -c %u:%g /bin/busybox; ls /data/opq; touch /root/new;"
                            + " grep ' / / ' /proc/self/mountinfo | grep -o idshift-overlay").write();

            Exec.Result result = runtime.run(bundle);

            assertEquals(0, result.exit(), result.describe());
            assertEquals(List.of("0:0", "new", "idshift-overlay"), result.stdout().lines().toList(), result.describe());
            assertEquals("0:0", Rootfs.owner(home.resolve("c1/diff/root/new")));
            Exec.ok(List.of("umount", merged.toString()));
        }
    }

    /** An option the rebuilt overlay cannot keep is refused in one line naming it, not silently dropped. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.idshift.it.Runtimes#all")
    void anOptionThatCannotBeKeptIsRefusedByName(Runtime runtime) throws Exception {
        runtime.require();
        try (Scratch scratch = new Scratch()) {
            OverlayImage image = OverlayImage.create(scratch.dir("image"));
            Path bundle = scratch.dir("bundle");
            Path rootfs = Files.createDirectories(bundle.resolve("rootfs"));
            Exec.ok(List.of("mount", "-t", "overlay", "overlay", "-o", image.options() + ",index=on", rootfs.toString()));
            new BundleBuilder(bundle).idshiftHook("createRuntime").script("true").write();

            Exec.Result result = runtime.run(bundle);

            assertTrue(result.exit() != 0, result.describe());
            // crun shows a failed hook's exit code only (5: unsupported); runc passes its line on.
            assertTrue(result.stderr().contains(runtime == Runtime.CRUN ? "exit code: 5" : "option index=on cannot be kept on a rebuilt overlay"),
                    result.describe());
            Exec.ok(List.of("umount", rootfs.toString()));
        }
    }

    static Stream<Arguments> runtimesAndStages() {
        return Stream.of(Runtime.values()).flatMap(runtime -> Stream.of("prestart", "createRuntime").map(stage -> Arguments.of(runtime, stage)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("runtimesAndStages")
    void readsAndWritesAsTheSameOverlayWithoutAUserNamespace(Runtime runtime, String stage) throws Exception {
        runtime.require();
        try (Scratch scratch = new Scratch()) {
            OverlayImage image = OverlayImage.create(scratch.dir("image"));
            OverlayImage truthImage = image.copyTo(scratch.dir("truth-image"));
            String bottomBefore = OverlayImage.digest(image.bottom);
            String topBefore = OverlayImage.digest(image.top);

            Path truthBundle = scratch.dir("truth");
            truthImage.mount(Files.createDirectories(truthBundle.resolve("rootfs")));
            new BundleBuilder(truthBundle).withoutUserNamespace().script(SCRIPT).write();
            Exec.Result truth = runtime.run(truthBundle);

            Path bundle = scratch.dir("bundle");
            Path rootfs = Files.createDirectories(bundle.resolve("rootfs"));
            image.mount(rootfs);
            new BundleBuilder(bundle).idshiftHook(stage).idshiftHook("poststop").script(SCRIPT + "; grep ' / / ' /proc/self/mountinfo").write();
            Exec.Result shifted = runtime.run(bundle);

            assertEquals(0, truth.exit(), truth.describe());
            assertEquals(0, shifted.exit(), shifted.describe());
            List<String> lines = shifted.stdout().lines().toList();
            assertEquals(truth.stdout().lines().toList(), lines.subList(0, lines.size() - 1), "the container sees what a container"
                    + " without a user namespace sees on the same overlay: " + shifted.describe());
            assertTrue(truth.stdout().contains("/ 0:0 755") && truth.stdout().contains("new\n"), "sanity: " + truth.describe());
            assertTrue(lines.get(lines.size() - 1).contains(" - overlay idshift-overlay "), "the root is the rebuilt overlay, not FUSE: " + shifted.describe());
            assertEquals(List.of(), FuseServers.serving(rootfs), "no FUSE server runs");
            Exec.ok(List.of("umount", rootfs.toString()));

            assertEquals(OverlayImage.upperListing(truthImage.upper), OverlayImage.upperListing(image.upper),
                    "the upper dir on disk holds what the ground truth's holds, with the same (unshifted) ids");
            assertEquals("0:0", Rootfs.owner(image.upper.resolve("root/made")));
            assertTrue(Exec.ok(List.of("getfattr", "-n", "security.capability", image.upper.resolve("data/capfile").toString()))
                    .stdout().contains("security.capability"), "the capability was copied up");
            assertEquals("0:0", Rootfs.owner(image.upper.resolve("root/dir")));
            assertEquals(bottomBefore, OverlayImage.digest(image.bottom), "the bottom layer is byte-for-byte unchanged");
            assertEquals(topBefore, OverlayImage.digest(image.top), "the top layer is byte-for-byte unchanged");
        }
    }
}
