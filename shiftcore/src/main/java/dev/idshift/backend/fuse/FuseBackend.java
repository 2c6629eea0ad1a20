package dev.idshift.backend.fuse;

import dev.idshift.failure.InternalException;
import dev.idshift.backend.IdmapUnsupportedException;
import dev.idshift.backend.MountAccess;
import dev.idshift.backend.MountMaps;
import dev.idshift.backend.ShiftBackend;
import dev.idshift.backend.ShiftRequest;
import dev.idshift.backend.ShiftedTree;
import dev.idshift.backend.TreeShape;
import dev.idshift.backend.kernel.IdmappedTrees;
import dev.idshift.backend.kernel.MountNamespaceRunner;
import dev.idshift.sys.Fd;
import dev.idshift.sys.Linux;
import dev.idshift.sys.mounts.MountCalls;

/**
 * A FUSE view of a directory, for a filesystem the kernel will not idmap: a server process
 * ({@link FuseServer}) mounts the view at a mount point of the caller's choosing ({@link ServerPlace}),
 * the mount is cloned detached and the server's own mount detached at once. The clone, the
 * caller's, is then the only reference: the server exits when the last mount of it goes.
 */
public final class FuseBackend implements ShiftBackend {
    public static final String NAME = "fuse";

    /** Where a server mounts its view before the view is cloned, and in which mount namespace. */
    public abstract static class ServerPlace {
        /** A directory for the server's own mount of {@code subject} (recorded as the server's target). */
        public abstract String mountPoint(String subject);

        /** Runs {@code work} in the mount namespace the server is to mount in; by default this thread's. */
        public <T> T within(MountNamespaceRunner.Work<T> work) {
            try {
                return work.run();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new InternalException(e.toString(), e); // a checked exception the work does not declare
            }
        }

        /** The server's own mount is detached (only the clone is left): e.g. remove the directory. */
        public void release(String mountPoint) {
        }

        /** Always {@code mountPoint}, in this thread's mount namespace (where the clone is attached again). */
        public static ServerPlace at(String mountPoint) {
            return new ServerPlace() {
                @Override
                public String mountPoint(String subject) {
                    return mountPoint;
                }
            };
        }
    }

    private final FuseServerProcesses processes;
    private final FuseRegistry servers;
    private final ServerPlace place;

    /**
     * @param processes where server processes come from (the entry point's: a new one per mount, or
     *                  the daemon's warm spares), asked only when a server is started
     */
    public FuseBackend(FuseServerProcesses processes, FuseRegistry servers, ServerPlace place) {
        this.processes = processes;
        this.servers = servers;
        this.place = place;
    }

    @Override
    public ShiftedTree shift(ShiftRequest request) {
        if (request.shape() == TreeShape.FILE) {
            throw new IdmapUnsupportedException(request.path() + " is a file: a FUSE server serves directories");
        }
        // An opened tree is served through our fd's /proc link: what was authorised is what is served.
        String source = request.reachablePath();
        MountMaps maps = request.rootMaps();
        String mountPoint = place.mountPoint(request.path());
        try {
            return place.within(new MountNamespaceRunner.Work<ShiftedTree>() {
                @Override
                public ShiftedTree run() {
                    return serveDetached(source, mountPoint, maps, request.access());
                }
            });
        } finally {
            place.release(mountPoint);
        }
    }

    /** Any directory: the server maps ids itself. */
    @Override
    public Probe probe(String path) {
        return Probe.serves("FUSE");
    }

    /**
     * Starts a server for {@code source} on {@code mountPoint}, clones its mount detached (with
     * {@code access}'s attributes on the clone too, so a caller can lock them) and detaches the
     * server's own mount: the one place a FUSE view is made.
     */
    public ShiftedTree serveDetached(String source, String mountPoint, MountMaps maps, MountAccess access) {
        IdmappedTrees trees = IdmappedTrees.kernel();
        FuseMountRecord server = FuseMounts.start(processes, servers, source, mountPoint, maps.uids(), maps.gids(), access);
        try {
            Fd view = trees.clone(mountPoint);
            try {
                long attributes = access.kernelAttributes();
                if (attributes != 0) {
                    trees.setAttributes(view, attributes, mountPoint);
                }
                return new ShiftedTree(view, NAME, false, "FUSE, server pid " + server.pid());
            } catch (RuntimeException e) {
                view.close();
                throw e;
            }
        } finally {
            MountCalls.kernel().umount2(mountPoint, Linux.MNT_DETACH);
        }
    }
}
