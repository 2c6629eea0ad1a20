package dev.idshift.daemon;

import dev.idshift.config.json.JsonInputException;
import dev.idshift.config.json.JsonObjectView;
import dev.idshift.config.json.JsonTree;
import dev.idshift.marks.Authorizer;
import dev.idshift.marks.CallerIds;
import dev.idshift.marks.CallerOverlays;
import dev.idshift.marks.CallerProcess;
import dev.idshift.marks.Mark;
import dev.idshift.marks.MarkSafety;
import dev.idshift.marks.MarkStore;
import dev.idshift.marks.Refusal;
import dev.idshift.idmap.IdMap;
import dev.idshift.idmap.IdMapException;
import dev.idshift.idmap.IdMapParser;
import dev.idshift.layout.Owner;
import dev.idshift.layout.ShiftPlan;
import dev.idshift.layout.ShiftPlanner;
import dev.idshift.shift.ShiftedTrees;
import dev.idshift.sys.Fd;
import dev.idshift.backend.kernel.IdmappedTrees;
import dev.idshift.backend.IdmapUnsupportedException;
import dev.idshift.backend.kernel.LayerMaps;
import dev.idshift.staging.StagingStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/** Answers one request line from one peer. Never throws: every failure becomes an error response. */
final class RequestHandler {
    /** A response line, and the mount fd to pass with it (null: none). */
    record Response(byte[] line, Fd fd) {
    }

    private final MarkStore marks;
    private final Path etc;
    private final UsernsCache userns;
    private final AtomicLong served = new AtomicLong();
    private final HandedOutMounts handedOut = new HandedOutMounts(StagingStore.fromEnvironment().root().resolve("daemon-lock"));
    private final FuseViews fuse = new FuseViews(handedOut);

    RequestHandler(MarkStore marks, Path etc, UsernsCache userns) {
        this.marks = marks;
        this.etc = etc;
        this.userns = userns;
    }

    Response handle(byte[] line, CallerProcess peer) {
        served.incrementAndGet();
        try {
            JsonObjectView request = JsonTree.parseObject(line, "request");
            long version = request.optLong("version").orElse(-1L);
            if (version != Protocol.VERSION) {
                return error("protocol version " + version + " is not supported; this daemon speaks version " + Protocol.VERSION);
            }
            String op = request.string("op");
            switch (op) {
                case "status":
                case "marks":
                case "mount":
                case "shift":
                    break;
                default:
                    return error("unknown op \"" + op + "\"; expected status, marks, mount or shift");
            }
            // Who asks, for this request: /proc/PID of the process that connected, refused if it has exited.
            try (Fd procDir = peer.procDir()) {
                CallerIds caller = CallerIds.of(procDir, peer.uid(), peer.gid(), etc);
                List<Mark> usable = Authorizer.usableBy(caller, marks.current());
                switch (op) {
                    case "status":
                        return status(usable);
                    case "marks":
                        return listMarks(usable);
                    case "mount":
                        return mount(request, procDir, caller, usable);
                    default:
                        return shift(request, procDir, caller, usable);
                }
            }
        } catch (JsonInputException | IdMapException | Refusal e) {
            return error(e.getMessage());
        } catch (RuntimeException e) {
            return error("internal error: " + e);
        }
    }

    private Response mount(JsonObjectView request, Fd procDir, CallerIds caller, List<Mark> usable) {
        IdMap uidMap = IdMapParser.parseColonList(request.string("uidmap"));
        IdMap gidMap = request.has("gidmap") ? IdMapParser.parseColonList(request.string("gidmap")) : uidMap;
        boolean readonly = request.optBoolean("readonly", false);
        String source = request.string("source");
        Refusal notRebuilt = null;
        try {
            CallerOverlays.CallerOverlay overlay = CallerOverlays.at(procDir, source, caller);
            if (overlay != null) {
                Fd tree = handedOut.seal(CallerOverlays.rebuild(overlay, procDir, usable, etc, LayerMaps.fixed(uidMap, gidMap), caller,
                        readonly), source);
                return new Response(line(overlayResponse(source, overlay)), tree);
            }
        } catch (Refusal e) {
            notRebuilt = e;
        }
        try (Authorizer.Resolved resolved = resolve(procDir, source, usable, notRebuilt)) {
            MarkSafety.requireStillSafe(resolved.mark(), etc);
            Authorizer.authorizeIds(uidMap, gidMap, caller);
            Map<String, Object> response = ok();
            response.put("source", source);
            Fd tree = shiftedTree(resolved, source, uidMap, gidMap, readonly, response);
            return new Response(line(response), tree); // the line after the tree: it names the backend
        }
    }

    /**
     * A container's rootfs, planned here: the caller (a hook in a nested runtime) cannot see on-disk
     * owners, nor name host ids. It sends the container's maps as it sees them
     * (containerUidmap/containerGidmap, e.g. its /proc/PID/uid_map) and optional on-disk maps
     * (fsUidmap/fsGidmap, container id -> on-disk id). We translate the container's maps to host ids
     * through the caller's own uid_map, detect the layout from the real owner of the tree, and check
     * the resulting host ids against what the caller owns. The tree is resolved among the caller's
     * marks before anything is planned: "noop" and its reason (the tree's owner) are answers too.
     */
    private Response shift(JsonObjectView request, Fd procDir, CallerIds caller, List<Mark> usable) {
        String source = request.string("source");
        boolean readonly = request.optBoolean("readonly", false);
        IdMap containerUids = IdMapParser.parseColonList(request.string("containerUidmap"))
                .andThen(CallerIds.namespaceMap(procDir, "uid_map"));
        IdMap containerGids = IdMapParser.parseColonList(request.string("containerGidmap"))
                .andThen(CallerIds.namespaceMap(procDir, "gid_map"));
        Optional<IdMap> fsUids = request.has("fsUidmap") ? Optional.of(IdMapParser.parseColonList(request.string("fsUidmap"))) : Optional.empty();
        Optional<IdMap> fsGids = request.has("fsGidmap") ? Optional.of(IdMapParser.parseColonList(request.string("fsGidmap"))) : Optional.empty();
        Refusal notRebuilt = null;
        try {
            CallerOverlays.CallerOverlay overlay = CallerOverlays.at(procDir, source, caller);
            if (overlay != null) {
                ShiftPlan plan = ShiftPlanner.plan(containerUids, containerGids, overlay.rootOwner().uid(), overlay.rootOwner().gid(),
                        fsUids, fsGids, "request");
                Fd tree = handedOut.seal(CallerOverlays.rebuild(overlay, procDir, usable, etc, LayerMaps.like(plan), caller, readonly),
                        source);
                return new Response(line(overlayResponse(source, overlay)), tree);
            }
        } catch (Refusal e) {
            notRebuilt = e;
        }
        try (Authorizer.Resolved resolved = resolve(procDir, source, usable, notRebuilt)) {
            MarkSafety.requireStillSafe(resolved.mark(), etc);
            Owner owner = Authorizer.owner(resolved.hostFd());
            ShiftPlan plan = ShiftPlanner.plan(containerUids, containerGids, owner.uid(), owner.gid(), fsUids, fsGids, "request");
            Map<String, Object> response = ok();
            response.put("source", source);
            response.put("reason", "uid: " + plan.uid().layout().reason() + "; gid: " + plan.gid().layout().reason());
            if (plan.isNoop()) {
                response.put("noop", true);
                return new Response(line(response), null);
            }
            Authorizer.authorizeIds(plan.uid().mountMap(), plan.gid().mountMap(), caller);
            Fd tree = shiftedTree(resolved, source, plan.uid().mountMap(), plan.gid().mountMap(), readonly, response);
            return new Response(line(response), tree);
        }
    }

    /**
     * The detached shifted tree: an idmapped clone ("backend":"kernel" in the response), or where the
     * kernel refuses to idmap the source's filesystem, a clone of a FUSE view of it ("backend":"fuse").
     * Its server lives exactly as long as that mount is used: the only reference is the one the caller
     * gets. Either is nodev ({@link HandedOutMounts}).
     */
    private Fd shiftedTree(Authorizer.Resolved resolved, String source, IdMap uidMap, IdMap gidMap, boolean readonly,
                           Map<String, Object> response) {
        try (Fd namespace = userns.usernsFor(uidMap, gidMap)) {
            Fd tree = IdmappedTrees.cloneIdmapped(resolved.hostFd(), source, namespace.get(), HandedOutMounts.attributes(readonly));
            response.put("backend", "kernel");
            return handedOut.seal(tree, source);
        } catch (IdmapUnsupportedException e) {
            Fd view = fuse.detachedView(resolved.hostFd().get(), uidMap, gidMap, readonly);
            response.put("backend", "fuse");
            return view;
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
     * An overlay SOURCE, rebuilt on its layers idmapped (never through FUSE: a layer that cannot be
     * idmapped is refused). Sealed like every handed-out mount: its nodev is locked, so the caller
     * cannot remount it dev and open the layers' device nodes.
     */
    private static Map<String, Object> overlayResponse(String source, CallerOverlays.CallerOverlay overlay) {
        Map<String, Object> response = ok();
        response.put("source", source);
        response.put("backend", "overlay");
        response.put("reason", ShiftedTrees.describe(overlay.spec()));
        return response;
    }

    /** The daemon is up; "marks" counts those the caller may use. */
    private Response status(List<Mark> usable) {
        Map<String, Object> response = ok();
        response.put("marks", (long) usable.size());
        response.put("served", served.get());
        return new Response(line(response), null);
    }

    /** The marks the caller may use, and no others: a mark's path and owner are not everyone's business. */
    private Response listMarks(List<Mark> usable) {
        List<Object> list = new ArrayList<>();
        for (Mark mark : usable) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("path", mark.path());
            if (mark.ownerUid() >= 0) {
                entry.put("owner", mark.ownerUid());
            }
            entry.put("allowSubids", mark.allowSubids());
            list.add(entry);
        }
        Map<String, Object> response = ok();
        response.put("marks", list);
        return new Response(line(response), null);
    }

    static Response error(String message) {
        Map<String, Object> response = new LinkedHashMap<>();
        response.put("version", Protocol.VERSION);
        response.put("ok", false);
        response.put("error", message);
        return new Response(line(response), null);
    }

    private static Map<String, Object> ok() {
        Map<String, Object> response = new LinkedHashMap<>();
        response.put("version", Protocol.VERSION);
        response.put("ok", true);
        return response;
    }

    private static byte[] line(Map<String, Object> response) {
        return Protocol.line(response);
    }
}
