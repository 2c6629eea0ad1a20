package dev.idshift.daemon;

import dev.idshift.backend.LayerMaps;
import dev.idshift.daemon.protocol.Response;
import dev.idshift.idmap.IdMap;
import dev.idshift.marks.CallerIds;
import dev.idshift.marks.CallerOverlays;
import dev.idshift.marks.Mark;
import dev.idshift.sys.Fd;
import java.util.List;

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
     * The caller's overlay rebuilt on idmapped layers, each layer resolved beneath a mark in
     * {@code usable} and its maps checked against the ids {@code caller} owns: detached, sealed.
     */
    Fd rebuiltOverlay(CallerOverlays.CallerOverlay overlay, Fd procDir, List<Mark> usable, LayerMaps maps, CallerIds caller,
                      boolean readonly, String source);
}
