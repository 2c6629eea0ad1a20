package dev.idshift.daemon;

import dev.idshift.failure.KernelRefusedException;
import dev.idshift.backend.fuse.FuseBackend;
import dev.idshift.backend.kernel.MountNamespaceRunner;
import dev.idshift.staging.StagingStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the daemon's FUSE servers mount, for a marked tree the kernel will not idmap: the server
 * mounts on a private mount point, the engine's FUSE backend clones that mount detached and
 * unmounts the original: the clone (sent to the caller) is then the only reference, and the server
 * exits when the caller's mount goes.
 *
 * <p>Private twice over. The server starts, and mounts, in the daemon's private mount namespace
 * (a thread of ours joins it and starts the server from there), which no process of anyone else's
 * is in: the view (allow_other, as the caller's users must use it) is never attached where another
 * user could open a file in it to keep, nor shows in anyone's mountinfo. And the mount point is in a
 * root-only (0700) set-up directory, should it ever be attached elsewhere.
 */
final class FuseViews extends FuseBackend.ServerPlace {
    private final Path mountPoints = StagingStore.fromEnvironment().root().resolve("daemon-fuse");
    private final HandedOutMounts handedOut;

    FuseViews(HandedOutMounts handedOut) {
        this.handedOut = handedOut;
    }

    @Override
    public String mountPoint(String subject) {
        try {
            return Files.createTempDirectory(RootOnlyDirectory.ensure(mountPoints), "view-").toString();
        } catch (IOException e) {
            throw new KernelRefusedException("cannot create a mount point under " + mountPoints + ": " + e.getMessage(), e);
        }
    }

    @Override
    public <T> T within(MountNamespaceRunner.Work<T> work) {
        return handedOut.inPrivateNamespace(work);
    }

    @Override
    public void release(String mountPoint) {
        try {
            Files.deleteIfExists(Path.of(mountPoint));
        } catch (IOException ignored) {
            // an empty directory under /run; gc-free
        }
    }
}
