package dev.idshift.daemon;

import dev.idshift.app.FuseServerCommand;
import dev.idshift.backend.LayerMaps;
import dev.idshift.backend.MountMaps;
import dev.idshift.backend.ShiftRequest;
import dev.idshift.backend.ShiftedTree;
import dev.idshift.backend.fuse.FuseBackend;
import dev.idshift.backend.fuse.FuseRegistry;
import dev.idshift.backend.kernel.UsernsPool;
import dev.idshift.config.annotations.Backend;
import dev.idshift.shift.Shifter;
import dev.idshift.backend.kernel.UsernsCache;
import dev.idshift.daemon.protocol.Response;
import dev.idshift.idmap.IdMap;
import dev.idshift.backend.TreeShape;
import dev.idshift.backend.overlay.OverlayLayers;
import dev.idshift.failure.UnsupportedException;
import dev.idshift.marks.Refusal;
import dev.idshift.staging.StagingStore;
import dev.idshift.sys.Fd;

/**
 * The daemon's mounts, made on the host: an idmapped clone, else (the kernel will not idmap the
 * tree's filesystem) a clone of a FUSE view; a caller's overlay rebuilt on idmapped layers. Every
 * one is sealed ({@link HandedOutMounts}) before it goes.
 */
final class DaemonTrees implements TreeMaker {
    private final UsernsCache userns;
    private final HandedOutMounts handedOut = new HandedOutMounts(StagingStore.fromEnvironment().root().resolve("daemon-lock"));
    private final FuseBackend fuse = new FuseBackend(FuseServerCommand.SERVERS, FuseRegistry.fromEnvironment(), new FuseViews(handedOut));

    DaemonTrees(UsernsCache userns) {
        this.userns = userns;
    }

    /**
     * An idmapped clone, or where the kernel refuses to idmap the source's filesystem, a clone of a
     * FUSE view of it. Its server lives exactly as long as that mount is used: the only reference is
     * the one the caller gets. Either is nodev ({@link HandedOutMounts}).
     */
    @Override
    public Made shifted(Fd hostDir, String source, IdMap uidMap, IdMap gidMap, boolean readonly) {
        try (UsernsPool namespaces = new UsernsPool()) {
            namespaces.offer(new MountMaps(uidMap, gidMap), userns.usernsFor(uidMap, gidMap));
            ShiftedTree tree = Shifter.standard(namespaces, fuse).shift(ShiftRequest.ofOpened(hostDir, source,
                    LayerMaps.fixed(uidMap, gidMap), HandedOutMounts.access(readonly)), Backend.AUTO);
            return new Made(handedOut.seal(tree.tree(), source),
                    tree.backend().equals(FuseBackend.NAME) ? Response.Backend.FUSE : Response.Backend.KERNEL);
        }
    }

    /**
     * Through the engine's one entry, with the caller's backends ({@link Shifter#forCaller}: never a
     * FUSE view; a layer the kernel will not idmap is refused). Sealed like every handed-out mount:
     * its nodev is locked, so the caller cannot remount it dev and open the layers' device nodes.
     */
    @Override
    public Made rebuiltOverlay(OverlayLayers callersLayers, LayerMaps maps, boolean readonly, String source) {
        try (UsernsPool namespaces = new UsernsPool()) {
            ShiftedTree tree = Shifter.forCaller(namespaces, fuse, callersLayers).shift(ShiftRequest.of(source, TreeShape.OVERLAY,
                    maps, HandedOutMounts.access(readonly)), Backend.AUTO);
            return new Made(handedOut.seal(tree.tree(), source), Response.Backend.OVERLAY);
        } catch (UnsupportedException e) {
            // An option the rebuild cannot keep, a layer the kernel will not idmap: the caller's overlay is
            // refused (and the handler may still find SOURCE itself beneath a mark).
            throw new Refusal(e);
        }
    }
}
