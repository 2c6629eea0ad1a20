package dev.idshift.daemon;

import dev.idshift.failure.KernelRefusedException;
import dev.idshift.backend.kernel.AttributeLock;
import dev.idshift.sys.Fd;
import dev.idshift.backend.MountAccess;
import dev.idshift.backend.kernel.MountNamespaceRunner;
import java.io.IOException;
import java.nio.file.Path;

/**
 * What every mount the daemon hands out (an idmapped clone or a FUSE view's clone) carries, and
 * the last step before it goes: its attributes locked, so the caller cannot take them off.
 *
 * <p>nodev: the caller maps on-disk owners to its own ids, so a root-only device node in a marked
 * tree (say {@code b 7:1}) would show as the caller's and open through the mount. No caller needs
 * device nodes from a marked tree: a container's /dev is its runtime's own mount. And locked: the
 * caller attaches the mount in a mount namespace of its own user namespace, where it could
 * otherwise remount it "dev" ({@link AttributeLock}).
 *
 * <p>setuid stays: every host id a caller can be given is one it already owns (Authorizer), so a
 * setuid file on the mount makes its runner no one the caller could not already be.
 */
final class HandedOutMounts {
    private final Path station;
    private AttributeLock lock;

    /** @param station a directory for {@link AttributeLock}'s private tmpfs (made root-only here) */
    HandedOutMounts(Path station) {
        this.station = station;
    }

    /** suid, nodev, read-only if asked: for the FUSE server's options. */
    static MountAccess access(boolean readonly) {
        return new MountAccess(readonly, true, false);
    }

    /** The same as MOUNT_ATTR_* bits, for mount_setattr. */
    static long attributes(boolean readonly) {
        return access(readonly).kernelAttributes();
    }

    /** {@code tree} (attributes set), as a clone whose attributes are locked; {@code tree} is closed. */
    Fd seal(Fd tree, String subject) {
        return lock().lock(tree, subject);
    }

    /**
     * Runs {@code work} in the daemon's private mount namespace (see {@link AttributeLock}): a FUSE
     * view set up there is never attached anywhere another process could see or reach it.
     */
    <T> T inPrivateNamespace(MountNamespaceRunner.Work<T> work) {
        return lock().runInPrivateNamespace(work);
    }

    private synchronized AttributeLock lock() {
        if (lock == null) {
            try {
                lock = AttributeLock.create(RootOnlyDirectory.ensure(station));
            } catch (IOException e) {
                throw new KernelRefusedException("cannot prepare " + station + ": " + e.getMessage(), e);
            }
        }
        return lock;
    }
}
