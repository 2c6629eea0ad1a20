package dev.idshift.daemon;

import dev.idshift.app.FuseServerCommand;
import dev.idshift.idmap.IdMap;
import dev.idshift.backend.fuse.FuseMounts;
import dev.idshift.backend.fuse.FuseRegistry;
import dev.idshift.sys.Fd;
import dev.idshift.backend.kernel.IdmappedTrees;
import dev.idshift.backend.kernel.MountNamespaceRunner;
import dev.idshift.staging.StagingStore;
import dev.idshift.sys.Linux;
import dev.idshift.sys.mounts.MountCalls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Detached FUSE views for the daemon, where the kernel will not idmap a marked tree. The server
 * mounts on a private mount point, we clone that mount detached and unmount the original: the clone
 * (sent to the caller) is then the only reference, and the server exits when the caller's mount goes.
 *
 * <p>Private twice over. The server starts, and mounts, in the daemon's private mount namespace
 * (a thread of ours joins it and starts the server from there), which no process of anyone else's
 * is in: the view (allow_other, as the caller's users must use it) is never attached where another
 * user could open a file in it to keep, nor shows in anyone's mountinfo. And the mount point is in a
 * root-only (0700) set-up directory, should it ever be attached elsewhere.
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
        Path mountPoint;
        try {
            mountPoint = Files.createTempDirectory(RootOnlyDirectory.ensure(mountPoints), "view-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a mount point under " + mountPoints + ": " + e.getMessage(), e);
        }
        String source = "/proc/" + ProcessHandle.current().pid() + "/fd/" + directoryFd;
        try {
            Fd view = handedOut.inPrivateNamespace(new MountNamespaceRunner.Work<Fd>() {
                @Override
                public Fd run() {
                    return serveAndClone(source, mountPoint.toString(), uidMap, gidMap, readonly);
                }
            });
            return handedOut.seal(view, mountPoint.toString());
        } finally {
            try {
                Files.deleteIfExists(mountPoint);
            } catch (IOException ignored) {
                // an empty directory under /run; gc-free
            }
        }
    }

    /** In the private namespace: the server's mount, cloned detached (nodev and all), the original detached. */
    private Fd serveAndClone(String source, String mountPoint, IdMap uidMap, IdMap gidMap, boolean readonly) {
        MountCalls mounts = MountCalls.kernel();
        FuseMounts.start(FuseServerCommand.processes(), servers, source, mountPoint, uidMap, gidMap, HandedOutMounts.access(readonly));
        try {
            Fd view = mounts.openTree(Linux.AT_FDCWD, mountPoint, Linux.OPEN_TREE_CLONE | Linux.OPEN_TREE_CLOEXEC, mountPoint);
            try {
                // The server mounted nodev already; the clone carries it (locked, once sealed) as an attribute too.
                IdmappedTrees.kernel().setAttributes(view, HandedOutMounts.attributes(readonly), mountPoint);
                return view;
            } catch (RuntimeException e) {
                view.close();
                throw e;
            }
        } finally {
            mounts.umount2(mountPoint, Linux.MNT_DETACH);
        }
    }
}
