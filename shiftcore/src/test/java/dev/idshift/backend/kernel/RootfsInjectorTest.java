package dev.idshift.backend.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.idshift.backend.ShiftedTree;
import dev.idshift.sys.Errno;
import dev.idshift.sys.Fd;
import dev.idshift.sys.Linux;
import dev.idshift.sys.SyscallException;
import dev.idshift.sys.files.FileSyscalls;
import dev.idshift.sys.mounts.RecordingMountCalls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How a shifted tree is stacked on a container's rootfs, against a recording fake: order, and nothing half-made. */
class RootfsInjectorTest {
    @TempDir
    Path rootfs;

    @Test
    void aTreeMadeElsewhereGetsTheRuntimesSubmountsPutBackOnTopOfIt() {
        RecordingMountCalls mounts = new RecordingMountCalls();
        try (Fd tree = new IdmappedTrees(mounts).clone("/elsewhere")) {
            new RootfsInjector(mounts).attachKeepingSubmounts(tree, "/r", List.of("/r/proc", "/r/dev"));
            assertEquals(List.of(
                    "open_tree /elsewhere clone = #1",
                    // cloned before the tree covers them, put back after, each where it was
                    "open_tree /r/proc clone recursive = #2",
                    "open_tree /r/dev clone recursive = #3",
                    "move_mount #1 -> /r",
                    "move_mount #2 -> /r/proc",
                    "move_mount #3 -> /r/dev"), mounts.calls());
            assertEquals(List.of("#1"), mounts.stillOpen(), "the clones of the submounts are closed; the tree is the caller's");
        }
    }

    @Test
    void aTreeThatCannotBeStackedLeavesNoCloneOfASubmountOpen() {
        RecordingMountCalls mounts = new RecordingMountCalls().failWhen("move_mount #1", Errno.EBUSY);
        try (Fd tree = new IdmappedTrees(mounts).clone("/elsewhere")) {
            assertThrows(SyscallException.class,
                    () -> new RootfsInjector(mounts).attachKeepingSubmounts(tree, "/r", List.of("/r/proc", "/r/dev")));
            assertEquals("move_mount #1 -> /r", mounts.calls().get(mounts.calls().size() - 1), "nothing moved after the failure");
            assertEquals(List.of("#1"), mounts.stillOpen());
        }
    }

    @Test
    void aRecursiveIdmappedCloneIsStackedAsItIsAndThenMasked() throws Exception {
        Files.createDirectories(rootfs.resolve("proc"));
        Files.createFile(rootfs.resolve("proc/kcore"));
        RecordingMountCalls mounts = new RecordingMountCalls(rootfs);
        ProtectedPaths protect = new ProtectedPaths(List.of(), List.of("/proc/kcore"), 100000, 100000);
        try (Fd userns = new Fd(FileSyscalls.get().open("/dev/null", Linux.O_RDONLY));
             ShiftedTree tree = kernelTree(mounts, userns)) {
            new RootfsInjector(mounts).attachHere(rootfs.toString(), tree.tree(), tree.hasSubmounts(), protect);
        }
        assertEquals(List.of(
                "open_tree ROOT clone recursive = #1",
                "mount_setattr #1 idmap userns /dev/null",
                "move_mount #1 -> ROOT",
                "open_tree /dev/null clone = #2",
                "mount_setattr #2 ro",
                "move_mount #2 -> ROOT/proc/kcore"), mounts.calls());
        assertEquals(List.of(), mounts.stillOpen());
    }

    @Test
    void aMaskThatFailsDetachesTheStackedTreeAgainNoHalfProtectedRoot() throws Exception {
        Files.createDirectories(rootfs.resolve("proc"));
        Files.createFile(rootfs.resolve("proc/kcore"));
        RecordingMountCalls mounts = new RecordingMountCalls(rootfs).failWhen("move_mount #2", Errno.EPERM);
        ProtectedPaths protect = new ProtectedPaths(List.of(), List.of("/proc/kcore"), 100000, 100000);
        try (Fd userns = new Fd(FileSyscalls.get().open("/dev/null", Linux.O_RDONLY));
             ShiftedTree tree = kernelTree(mounts, userns)) {
            SyscallException failure = assertThrows(SyscallException.class,
                    () -> new RootfsInjector(mounts).attachHere(rootfs.toString(), tree.tree(), tree.hasSubmounts(), protect));
            assertEquals("move_mount(/proc/kcore): EPERM (Operation not permitted)", failure.getMessage());
        }
        List<String> calls = mounts.calls();
        assertEquals(List.of("move_mount #2 -> ROOT/proc/kcore", "umount ROOT detach"), calls.subList(calls.size() - 2, calls.size()));
        assertEquals(List.of(), mounts.stillOpen());
    }

    /** What the kernel backend makes for a rootfs: a recursive idmapped clone, submounts and all. */
    private ShiftedTree kernelTree(RecordingMountCalls mounts, Fd userns) {
        return new ShiftedTree(new IdmappedTrees(mounts).cloneIdmapped(rootfs.toString(), userns.get(), true, false), "kernel", true,
                "kernel idmap");
    }
}
