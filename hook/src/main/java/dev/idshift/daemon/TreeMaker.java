package dev.idshift.daemon;

import dev.idshift.backend.LayerMaps;
import dev.idshift.daemon.protocol.Response;
import dev.idshift.idmap.IdMap;
import dev.idshift.backend.overlay.OverlayLayers;
import dev.idshift.sys.Fd;

/**
 * Makes the mounts the daemon hands out, once {@link RequestHandler} has decided the caller may
 * have them: every mount the daemon makes is made here ({@link DaemonTrees}), so the decisions can
 * be tested with a fake that makes none.
 */
interface TreeMaker {
    /** A detached tree, owned by whoever holds it, and which way it was made. */
    record Made(Fd tree, Response.Backend backend) {
    }

    /**
     * The authorised directory {@code hostDir} (named {@code source} in messages) shifted by these
     * host maps: detached, sealed, the caller's to own.
     */
    Made shifted(Fd hostDir, String source, IdMap uidMap, IdMap gidMap, boolean readonly);

    /**
     * The caller's overlay at {@code source} rebuilt on idmapped layers, each opened by
     * {@code callersLayers} (which checks it beneath a mark the caller may use) and mapped by
     * {@code maps} (which checks the ids against those the caller owns): detached, sealed.
     *
     * @throws dev.idshift.marks.Refusal a layer or a map the caller may not have, or a layer the kernel will not idmap
     */
    Made rebuiltOverlay(OverlayLayers callersLayers, LayerMaps maps, boolean readonly, String source);
}
