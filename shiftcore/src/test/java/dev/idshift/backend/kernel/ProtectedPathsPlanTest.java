package dev.idshift.backend.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.idshift.sys.Errno;
import dev.idshift.sys.SyscallException;
import dev.idshift.sys.mounts.RecordingMountCalls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What re-applying masked and read-only paths asks of the kernel, against a recording fake: the
 * paths are really resolved (openat2 RESOLVE_IN_ROOT in a scratch rootfs, no root needed), the
 * mounts only written down.
 */
class ProtectedPathsPlanTest {
    @TempDir
    Path rootfs;

    @BeforeEach
    void image() throws Exception {
        Files.createDirectories(rootfs.resolve("proc/acpi"));
        Files.createDirectories(rootfs.resolve("proc/sys"));
        Files.createFile(rootfs.resolve("proc/kcore"));
        Files.createFile(rootfs.resolve("proc/sysrq-trigger"));
        Files.createDirectories(rootfs.resolve("etc"));
        Files.createFile(rootfs.resolve("etc/shadow"));
        // An image's symlink pointing out of the rootfs: it must be followed inside it, never on the host.
        Files.createSymbolicLink(rootfs.resolve("proc/keys"), Path.of("/etc/shadow"));
    }

    @Test
    void masksComeFirstFilesGetDevNullDirectoriesAnEmptyTmpfsThenReadOnlyBinds() {
        RecordingMountCalls mounts = new RecordingMountCalls(rootfs);
        new ProtectedPaths(List.of("/proc/sys", "/proc/sysrq-trigger"), List.of("/proc/kcore", "/proc/acpi", "/proc/missing"),
                100000, 100001).applyUnder(rootfs.toString(), mounts);
        assertEquals(List.of(
                "open_tree /dev/null clone = #1",
                "mount_setattr #1 ro",
                "move_mount #1 -> ROOT/proc/kcore",
                "fsopen tmpfs = #2",
                "fsconfig #2 source=tmpfs",
                "fsconfig #2 size=0k",
                "fsconfig #2 uid=100000",
                "fsconfig #2 gid=100001",
                "fsconfig #2 create",
                "fsmount #2 ro = #3",
                "move_mount #3 -> ROOT/proc/acpi",
                // /proc/missing: not in the image, skipped as the runtimes skip it
                "open_tree ROOT/proc/sys clone recursive = #4",
                "mount_setattr #4 recursive ro",
                "move_mount #4 -> ROOT/proc/sys",
                "open_tree ROOT/proc/sysrq-trigger clone recursive = #5",
                "mount_setattr #5 recursive ro",
                "move_mount #5 -> ROOT/proc/sysrq-trigger"), mounts.calls());
        assertEquals(List.of(), mounts.stillOpen());
    }

    @Test
    void aSymlinkInTheImageIsFollowedInsideTheRootfsNeverOntoTheHost() {
        RecordingMountCalls mounts = new RecordingMountCalls(rootfs);
        new ProtectedPaths(List.of(), List.of("/proc/keys"), 100000, 100000).applyUnder(rootfs.toString(), mounts);
        assertEquals("move_mount #1 -> ROOT/etc/shadow", mounts.calls().get(2));
    }

    @Test
    void aMaskTheKernelRefusesStopsThereWithNothingLeftOpen() {
        RecordingMountCalls mounts = new RecordingMountCalls(rootfs).failWhen("fsmount", Errno.ENOMEM);
        SyscallException failure = assertThrows(SyscallException.class,
                () -> new ProtectedPaths(List.of("/proc/sys"), List.of("/proc/acpi"), 0, 0).applyUnder(rootfs.toString(), mounts));
        assertEquals("fsmount(/proc/acpi): ENOMEM (Cannot allocate memory)", failure.getMessage());
        assertEquals("fsmount #1 ro = #2", mounts.calls().get(mounts.calls().size() - 1), "the read-only path is not reached");
        assertEquals(List.of(), mounts.stillOpen());
    }
}
