package dev.idshift.daemon;

import dev.idshift.cli.FuseServe;
import dev.idshift.idmap.IdMap;
import dev.idshift.mount.fuse.FuseMounts;
import dev.idshift.mount.fuse.FuseRegistry;
import dev.idshift.mount.kernel.Fd;
import dev.idshift.mount.kernel.IdmappedTrees;
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
 *
 * <p>Private means: the mount point lives in a root-only (0700, owned by root) set-up directory, so
 * while the view is attached there (allow_other: the caller's users must see it later) nobody but
 * host root can walk to it and open a file to keep. Mount namespaces of their own would hide it from
 * mountinfo too, but the daemon must clone it (open_tree) from its own namespace; the path in
 * mountinfo names nothing anyone else can open.
 */
final class FuseViews {
    private final FuseRegistry servers = FuseRegistry.fromEnvironment();
    private final Path mountPoints = StagingStore.fromEnvironment().root().resolve("daemon-fuse");
    private final HandedOutMounts handedOut;

    FuseViews(HandedOutMounts handedOut) {
        this.handedOut = handedOut;
    }

    /**
     * @param directoryFd the authorised source directory (the server opens it through our fd's /proc
     *                    link: what was authorised is what is served, whatever its path now names)
     */
    Fd detachedView(int directoryFd, IdMap uidMap, IdMap gidMap, boolean readonly) {
        Syscalls sys = Syscalls.get();
        Path mountPoint;
        try {
            mountPoint = Files.createTempDirectory(RootOnlyDirectory.ensure(mountPoints), "view-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a mount point under " + mountPoints + ": " + e.getMessage(), e);
        }
        String source = "/proc/" + ProcessHandle.current().pid() + "/fd/" + directoryFd;
        try {
            FuseMounts.start(FuseServe.serverCommand(), servers, source, mountPoint.toString(), uidMap, gidMap,
                    HandedOutMounts.access(readonly));
            try {
                Fd view = new Fd(sys.openTree(Linux.AT_FDCWD, mountPoint.toString(), Linux.OPEN_TREE_CLONE | Linux.OPEN_TREE_CLOEXEC,
                        mountPoint.toString()));
                try {
                    // The server mounted nodev already; the clone carries it, locked, as a mount attribute too.
                    IdmappedTrees.setAttributes(view, HandedOutMounts.attributes(readonly), mountPoint.toString());
                    return handedOut.seal(view, mountPoint.toString());
                } catch (RuntimeException e) {
                    view.close();
                    throw e;
                }
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
