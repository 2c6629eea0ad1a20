package dev.idshift.backend.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.idshift.backend.IdmapUnsupportedException;
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

/** The order of the mount calls behind an idmapped clone, and what a failure leaves behind, against a recording fake. */
class IdmappedTreesTest {
    @TempDir
    Path scratch;

    @Test
    void aRecursiveCloneGetsTheIdmapOnItsTopMountWhileDetachedThenIsMoved() {
        RecordingMountCalls mounts = new RecordingMountCalls();
        IdmappedTrees trees = new IdmappedTrees(mounts);
        try (Fd userns = devNull(); Fd tree = trees.cloneIdmapped("/r", userns.get(), true, false)) {
            trees.attach(tree, "/r");
        }
        assertEquals(List.of(
                "open_tree /r clone recursive = #1",
                "mount_setattr #1 idmap userns /dev/null",   // no AT_RECURSIVE: /proc and the like refuse an idmap
                "move_mount #1 -> /r"), mounts.calls());
        assertEquals(List.of(), mounts.stillOpen());
    }

    @Test
    void readOnlyAndNodevAreSetTogetherWithTheIdmapOnACloneOfAnOpenedTree() throws Exception {
        Path source = Files.createDirectory(scratch.resolve("source"));
        RecordingMountCalls mounts = new RecordingMountCalls(scratch);
        IdmappedTrees trees = new IdmappedTrees(mounts);
        try (Fd opened = new Fd(FileSyscalls.get().open(source.toString(), Linux.O_PATH | Linux.O_DIRECTORY));
             Fd userns = devNull();
             Fd tree = trees.cloneIdmapped(opened, "source", userns.get(), Linux.MOUNT_ATTR_RDONLY | Linux.MOUNT_ATTR_NODEV)) {
            assertEquals(List.of(
                    "open_tree ROOT/source clone = #1",
                    "mount_setattr #1 idmap ro nodev userns /dev/null"), mounts.calls());
        }
    }

    @Test
    void aFilesystemThatRefusesIdmapsIsSaidSoAndTheCloneIsClosed() {
        for (int errno : new int[] {Errno.EINVAL, Errno.EPERM, Errno.EOPNOTSUPP}) {
            RecordingMountCalls mounts = new RecordingMountCalls().failWhen("mount_setattr", errno);
            try (Fd userns = devNull()) {
                assertThrows(IdmapUnsupportedException.class, () -> new IdmappedTrees(mounts).cloneIdmapped("/r", userns.get(), false, false));
            }
            assertEquals(List.of("open_tree /r clone = #1", "mount_setattr #1 idmap userns /dev/null"), mounts.calls());
            assertEquals(List.of(), mounts.stillOpen(), "the detached clone is discarded");
        }
    }

    @Test
    void anyOtherFailureIsTheKernelsNamingCallPathAndErrnoAndTheCloneIsClosed() {
        RecordingMountCalls mounts = new RecordingMountCalls().failWhen("mount_setattr", Errno.EBUSY);
        SyscallException failure;
        try (Fd userns = devNull()) {
            failure = assertThrows(SyscallException.class, () -> new IdmappedTrees(mounts).cloneIdmapped("/r", userns.get(), true, true));
        }
        assertEquals("mount_setattr(/r): EBUSY (Device or resource busy)", failure.getMessage());
        assertEquals(List.of(), mounts.stillOpen());
    }

    /** A real fd to stand for a user namespace's: the fake only names it. */
    private static Fd devNull() {
        return new Fd(FileSyscalls.get().open("/dev/null", Linux.O_RDONLY));
    }
}
