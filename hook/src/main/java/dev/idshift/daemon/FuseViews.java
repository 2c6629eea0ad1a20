package dev.idshift.daemon;

import dev.idshift.cli.FuseServe;
import dev.idshift.idmap.IdMap;
import dev.idshift.mount.fuse.FuseMounts;
import dev.idshift.mount.fuse.FuseRegistry;
import dev.idshift.mount.kernel.Fd;
import dev.idshift.staging.StagingStore;
import dev.idshift.sys.Linux;
import dev.idshift.sys.Syscalls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Detached FUSE views for the daemon, where the kernel will not idmap a marked tree. The server
 * mounts on a private mount point, we clone that mount detached and unmount the original: the clone
 * (sent to the caller) is then the only reference, and the server exits when the caller's mount goes.
 */
final class FuseViews {
    private final FuseRegistry servers = FuseRegistry.fromEnvironment();
    private final Path mountPoints = StagingStore.fromEnvironment().root().resolve("daemon-fuse");

    /**
     * @param directoryFd the authorised source directory (the server opens it through our fd's /proc
     *                    link: what was authorised is what is served, whatever its path now names)
     */
    Fd detachedView(int directoryFd, IdMap uidMap, IdMap gidMap, boolean readonly) {
        Syscalls sys = Syscalls.get();
        Path mountPoint;
        try {
            Files.createDirectories(mountPoints);
            mountPoint = Files.createTempDirectory(mountPoints, "view-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a mount point under " + mountPoints + ": " + e.getMessage(), e);
        }
        String source = "/proc/" + ProcessHandle.current().pid() + "/fd/" + directoryFd;
        try {
            FuseMounts.start(FuseServe.serverCommand(), servers, source, mountPoint.toString(), uidMap, gidMap, readonly);
            try {
                return new Fd(sys.openTree(Linux.AT_FDCWD, mountPoint.toString(), Linux.OPEN_TREE_CLONE | Linux.OPEN_TREE_CLOEXEC,
                        mountPoint.toString()));
            } finally {
                sys.umount2(mountPoint.toString(), Linux.MNT_DETACH);
            }
        } finally {
            try {
                Files.deleteIfExists(mountPoint);
            } catch (IOException ignored) {
                // an empty directory under /run; gc-free
            }
        }
    }
}
