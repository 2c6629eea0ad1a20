package dev.idshift.daemon;

import dev.idshift.backend.IdmapUnsupportedException;
import dev.idshift.backend.kernel.IdmappedTrees;
import dev.idshift.backend.kernel.LayerMaps;
import dev.idshift.backend.kernel.UsernsCache;
import dev.idshift.daemon.protocol.Response;
import dev.idshift.idmap.IdMap;
import dev.idshift.marks.CallerIds;
import dev.idshift.marks.CallerOverlays;
import dev.idshift.marks.Mark;
import dev.idshift.staging.StagingStore;
import dev.idshift.sys.Fd;
import java.nio.file.Path;
import java.util.List;

/**
 * The daemon's mounts, made on the host: an idmapped clone, else (the kernel will not idmap the
 * tree's filesystem) a clone of a FUSE view; a caller's overlay rebuilt on idmapped layers. Every
 * one is sealed ({@link HandedOutMounts}) before it goes.
 */
final class DaemonTrees implements TreeMaker {
    private final UsernsCache userns;
    private final Path etc;
    private final HandedOutMounts handedOut = new HandedOutMounts(StagingStore.fromEnvironment().root().resolve("daemon-lock"));
    private final FuseViews fuse = new FuseViews(handedOut);

    DaemonTrees(UsernsCache userns, Path etc) {
        this.userns = userns;
        this.etc = etc;
    }

    /**
     * An idmapped clone, or where the kernel refuses to idmap the source's filesystem, a clone of a
     * FUSE view of it. Its server lives exactly as long as that mount is used: the only reference is
     * the one the caller gets. Either is nodev ({@link HandedOutMounts}).
     */
    @Override
    public Made shifted(Fd hostDir, String source, IdMap uidMap, IdMap gidMap, boolean readonly) {
        try (Fd namespace = userns.usernsFor(uidMap, gidMap)) {
            Fd tree = IdmappedTrees.kernel().cloneIdmapped(hostDir, source, namespace.get(), HandedOutMounts.attributes(readonly));
            return new Made(handedOut.seal(tree, source), Response.Backend.KERNEL);
        } catch (IdmapUnsupportedException e) {
            return new Made(fuse.detachedView(hostDir.get(), uidMap, gidMap, readonly), Response.Backend.FUSE);
        }
    }

    /**
     * Never through FUSE: a layer that cannot be idmapped is refused. Sealed like every handed-out
     * mount: its nodev is locked, so the caller cannot remount it dev and open the layers' device nodes.
     */
    @Override
    public Fd rebuiltOverlay(CallerOverlays.CallerOverlay overlay, Fd procDir, List<Mark> usable, LayerMaps maps, CallerIds caller,
                             boolean readonly, String source) {
        return handedOut.seal(CallerOverlays.rebuild(overlay, procDir, usable, etc, maps, caller, readonly), source);
    }
}
