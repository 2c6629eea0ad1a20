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
    private final FuseBackend fuse = new FuseBackend(FuseServerCommand.SERVERS, FuseRegistry.fromEnvironment(), new FuseViews(handedOut));

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
        try (UsernsPool namespaces = new UsernsPool()) {
            namespaces.offer(new MountMaps(uidMap, gidMap), userns.usernsFor(uidMap, gidMap));
            ShiftedTree tree = Shifter.standard(namespaces, fuse).shift(ShiftRequest.ofOpened(hostDir, source,
                    LayerMaps.fixed(uidMap, gidMap), HandedOutMounts.access(readonly)), Backend.AUTO);
            return new Made(handedOut.seal(tree.tree(), source),
                    tree.backend().equals(FuseBackend.NAME) ? Response.Backend.FUSE : Response.Backend.KERNEL);
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
