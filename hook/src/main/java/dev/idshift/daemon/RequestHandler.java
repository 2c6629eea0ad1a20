package dev.idshift.daemon;

import dev.idshift.backend.LayerMaps;
import dev.idshift.daemon.protocol.Codec;
import dev.idshift.daemon.protocol.Request;
import dev.idshift.daemon.protocol.Response;
import dev.idshift.idmap.IdMap;
import dev.idshift.layout.Owner;
import dev.idshift.layout.ShiftPlan;
import dev.idshift.layout.ShiftPlanner;
import dev.idshift.marks.Authorizer;
import dev.idshift.marks.CallerIds;
import dev.idshift.marks.CallerOverlays;
import dev.idshift.marks.CallerProcess;
import dev.idshift.marks.Mark;
import dev.idshift.marks.MarkSafety;
import dev.idshift.marks.MarkStore;
import dev.idshift.marks.Refusal;
import dev.idshift.backend.overlay.OverlayMounts;
import dev.idshift.sys.Fd;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Answers one request from one peer: decides who asks, what they may have, and what they get. The
 * mounts themselves are made by a {@link TreeMaker}.
 */
final class RequestHandler {
    private final MarkStore marks;
    private final Path etc;
    private final TreeMaker trees;
    private final AtomicLong served = new AtomicLong();

    RequestHandler(MarkStore marks, Path etc, TreeMaker trees) {
        this.marks = marks;
        this.etc = etc;
        this.trees = trees;
    }

    /** Never throws: every failure becomes a {@link Response.Failure} ({@link ErrorReplies}). */
    Response handle(byte[] line, CallerProcess peer) {
        served.incrementAndGet();
        try {
            Request request = Codec.decodeRequest(line); // unreadable: bad input naming the field
            // Who asks, for this request: /proc/PID of the process that connected, refused if it has exited.
            try (Fd procDir = peer.procDir()) {
                return answer(request, procDir, CallerIds.of(procDir, peer.uid(), peer.gid(), etc));
            }
        } catch (RuntimeException e) {
            return ErrorReplies.replyTo(e);
        }
    }

    /**
     * What {@code caller}, whose /proc/PID is {@code procDir}, is answered.
     *
     * @throws Refusal what the caller may not have
     */
    Response answer(Request request, Fd procDir, CallerIds caller) {
        List<Mark> usable = Authorizer.usableBy(caller, marks.current());
        if (request instanceof Request.Status) {
            return new Response.Status(usable.size(), served.get());
        }
        if (request instanceof Request.Marks) {
            return listMarks(usable);
        }
        if (request instanceof Request.Mount) {
            return mount((Request.Mount) request, procDir, caller, usable);
        }
        return shift((Request.Shift) request, procDir, caller, usable);
    }

    private Response mount(Request.Mount request, Fd procDir, CallerIds caller, List<Mark> usable) {
        String source = request.source();
        Refusal notRebuilt = null;
        try {
            CallerOverlays.CallerOverlay overlay = CallerOverlays.at(procDir, source, caller);
            if (overlay != null) {
                return rebuilt(overlay, procDir, usable, LayerMaps.fixed(request.uidMap(), request.gidMap()), caller,
                        request.readonly(), source);
            }
        } catch (Refusal e) {
            notRebuilt = e;
        }
        try (Authorizer.Resolved resolved = resolve(procDir, source, usable, notRebuilt)) {
            MarkSafety.requireStillSafe(resolved.mark(), etc);
            Authorizer.authorizeIds(request.uidMap(), request.gidMap(), caller);
            TreeMaker.Made made = trees.shifted(resolved.hostFd(), source, request.uidMap(), request.gidMap(), request.readonly());
            return new Response.Shifted(source, made.backend(), null, made.tree());
        }
    }

    /**
     * A container's rootfs, planned here: the caller (a hook in a nested runtime) cannot see on-disk
     * owners, nor name host ids. It sends the container's maps as it sees them (e.g. its
     * /proc/PID/uid_map) and optional on-disk maps (container id -> on-disk id). We translate the
     * container's maps to host ids through the caller's own uid_map, detect the layout from the real
     * owner of the tree, and check the resulting host ids against what the caller owns. The tree is
     * resolved among the caller's marks before anything is planned: "noop" and its reason (the
     * tree's owner) are answers too.
     */
    private Response shift(Request.Shift request, Fd procDir, CallerIds caller, List<Mark> usable) {
        String source = request.source();
        IdMap containerUids = request.containerUidMap().andThen(CallerIds.namespaceMap(procDir, "uid_map"));
        IdMap containerGids = request.containerGidMap().andThen(CallerIds.namespaceMap(procDir, "gid_map"));
        Optional<IdMap> fsUids = request.fsUidMap();
        Optional<IdMap> fsGids = request.fsGidMap();
        Refusal notRebuilt = null;
        try {
            CallerOverlays.CallerOverlay overlay = CallerOverlays.at(procDir, source, caller);
            if (overlay != null) {
                ShiftPlan plan = ShiftPlanner.plan(containerUids, containerGids, overlay.rootOwner().uid(), overlay.rootOwner().gid(),
                        fsUids, fsGids, "request");
                return rebuilt(overlay, procDir, usable, LayerMaps.like(plan), caller, request.readonly(), source);
            }
        } catch (Refusal e) {
            notRebuilt = e;
        }
        try (Authorizer.Resolved resolved = resolve(procDir, source, usable, notRebuilt)) {
            MarkSafety.requireStillSafe(resolved.mark(), etc);
            Owner owner = Authorizer.owner(resolved.hostFd());
            ShiftPlan plan = ShiftPlanner.plan(containerUids, containerGids, owner.uid(), owner.gid(), fsUids, fsGids, "request");
            String reason = "uid: " + plan.uid().layout().reason() + "; gid: " + plan.gid().layout().reason();
            if (plan.isNoop()) {
                return new Response.Unchanged(source, reason);
            }
            Authorizer.authorizeIds(plan.uid().mountMap(), plan.gid().mountMap(), caller);
            TreeMaker.Made made = trees.shifted(resolved.hostFd(), source, plan.uid().mountMap(), plan.gid().mountMap(),
                    request.readonly());
            return new Response.Shifted(source, made.backend(), reason, made.tree());
        }
    }

    /**
     * SOURCE as a directory beneath a usable mark. An overlay that could not be rebuilt may still be
     * one (root marked the overlay's mount point itself: served through FUSE, as any tree the kernel
     * will not idmap); when it is not, the reason it was not rebuilt ({@code notRebuilt}) says more.
     */
    private static Authorizer.Resolved resolve(Fd procDir, String source, List<Mark> usable, Refusal notRebuilt) {
        try {
            return Authorizer.resolve(procDir, source, usable);
        } catch (Refusal e) {
            throw notRebuilt != null ? notRebuilt : e;
        }
    }

    /**
     * An overlay SOURCE, rebuilt on its layers idmapped; the reply names the overlay. Each layer is
     * checked where it is opened, on the fd then cloned, and each layer's maps where they are used
     * ({@link CallerOverlays#layers}, {@link CallerOverlays#ownedBy}).
     */
    private Response rebuilt(CallerOverlays.CallerOverlay overlay, Fd procDir, List<Mark> usable, LayerMaps maps, CallerIds caller,
                             boolean readonly, String source) {
        TreeMaker.Made made = trees.rebuiltOverlay(CallerOverlays.layers(overlay, procDir, usable, etc),
                CallerOverlays.ownedBy(caller, maps), readonly, source);
        return new Response.Shifted(source, made.backend(), OverlayMounts.describe(overlay.spec()), made.tree());
    }

    /** The marks the caller may use, and no others: a mark's path and owner are not everyone's business. */
    private static Response listMarks(List<Mark> usable) {
        List<Response.MarkEntry> entries = new ArrayList<>();
        for (Mark mark : usable) {
            entries.add(new Response.MarkEntry(mark.path(), mark.ownerUid(), mark.allowSubids()));
        }
        return new Response.Marks(entries);
    }
}
