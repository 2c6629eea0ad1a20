package dev.idshift.shift;

import dev.idshift.backend.IdmapUnsupportedException;
import dev.idshift.backend.ShiftBackend;
import dev.idshift.backend.ShiftRequest;
import dev.idshift.backend.ShiftedTree;
import dev.idshift.backend.TreeShape;
import dev.idshift.backend.fuse.FuseBackend;
import dev.idshift.backend.kernel.KernelBackend;
import dev.idshift.backend.kernel.UsernsPool;
import dev.idshift.backend.overlay.OverlayBackend;
import dev.idshift.backend.overlay.OverlayLayers;
import dev.idshift.backend.overlay.OverlayMounts;
import dev.idshift.config.annotations.Backend;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The engine's one entry: "this tree, shifted with these maps, detached". Every entry point (the
 * hook, precreate, {@code idshift mount}, the daemon) calls {@link #shift}; {@code idshift maps}
 * and {@code doctor} call {@link #autoWayFor}. Which backend serves a tree is decided here and
 * nowhere else ({@link #order}): a directory or file gets the kernel's idmapped clone, an overlay
 * mount is rebuilt on idmapped layers, and where the kernel will not (its refusal is an
 * {@link IdmapUnsupportedException}), {@code auto} falls back to a FUSE view of a directory;
 * {@code kernel} passes the refusal on; {@code fuse} asks the FUSE server alone (a file still goes
 * to the kernel: a FUSE server serves directories).
 *
 * <p>The daemon's callers are less privileged than the daemon ({@link #forCaller}): their overlays
 * are only ever rebuilt from layers checked one by one, never served as FUSE views.
 */
public final class Shifter {
    private final ShiftBackend kernel;
    private final ShiftBackend overlay;
    private final ShiftBackend fuse;
    private final boolean fuseServesOverlays;

    /** Backends for host root's own trees: an overlay the kernel cannot rebuild may fall back to a FUSE view of it. */
    public Shifter(ShiftBackend kernel, ShiftBackend overlay, ShiftBackend fuse) {
        this(kernel, overlay, fuse, true);
    }

    /**
     * @param fuseServesOverlays whether an overlay may be served as a FUSE view: false for a caller's overlay
     *                           ({@link #forCaller} says why, and is the only way in besides tests)
     */
    Shifter(ShiftBackend kernel, ShiftBackend overlay, ShiftBackend fuse, boolean fuseServesOverlays) {
        this.kernel = kernel;
        this.overlay = overlay;
        this.fuse = fuse;
        this.fuseServesOverlays = fuseServesOverlays;
    }

    /**
     * The backends idshift has. A new backend is registered here, and placed in {@link #order}.
     *
     * @param namespaces the user namespaces the kernel and overlay backends use (closed by the caller after the shift)
     * @param fuse       the FUSE backend, told where its servers mount: that differs by entry point
     */
    public static Shifter standard(UsernsPool namespaces, FuseBackend fuse) {
        return new Shifter(new KernelBackend(namespaces), new OverlayBackend(namespaces), fuse);
    }

    /**
     * The backends for the daemon's caller, a process less privileged than the daemon: a directory is
     * the fd the daemon authorised beneath a mark ({@link ShiftRequest#opened}), served as for host
     * root (the kernel's clone, else a FUSE view of that directory); an overlay the caller mounted is
     * rebuilt from {@code callersLayers}, which reads it from the caller's mount table and checks each
     * layer beneath a mark the caller may use on the fd it then hands over to be cloned.
     *
     * <p>Never a FUSE view of a caller's overlay. A FUSE view serves a tree as root, file by file;
     * the only tree it could serve here is the overlay the caller assembled in its own namespace, from
     * layers it chose, marked or not (say a root-owned, world-readable directory holding a 0600 file:
     * through the caller's own overlay it cannot read that file; through root's FUSE view, with a map
     * that shows on-disk 0 as the caller, it could). The marks check is per layer, and only the
     * rebuild mounts layers one by one. An overlay whose checked layer the kernel will not idmap is
     * therefore refused; root can mark such an overlay's mount point itself, which the daemon then
     * serves as a directory (a FUSE view of a tree beneath root's mark).
     *
     * @param namespaces    the user namespaces the kernel and overlay backends use (closed by the caller after the shift)
     * @param fuse          the FUSE backend the daemon's views come from
     * @param callersLayers the caller's overlay and its checked layer opener
     */
    public static Shifter forCaller(UsernsPool namespaces, FuseBackend fuse, OverlayLayers callersLayers) {
        return new Shifter(new KernelBackend(namespaces), new OverlayBackend(namespaces, callersLayers), fuse, false);
    }

    /**
     * The tree shifted and detached, by the first backend of {@link #order} that can; its
     * {@link ShiftedTree#how} says which and, after a fallback, why the earlier one could not.
     *
     * @throws IdmapUnsupportedException no backend {@code preference} allows could (the first one's refusal)
     */
    public ShiftedTree shift(ShiftRequest request, Backend preference) {
        IdmapUnsupportedException refused = null;
        for (ShiftBackend backend : order(request.shape(), preference)) {
            try {
                ShiftedTree tree = backend.shift(request);
                return refused == null ? tree : tree.after(refused.getMessage());
            } catch (IdmapUnsupportedException e) {
                if (refused == null) {
                    refused = e;
                }
            }
        }
        throw refused;
    }

    /** The backends to try, in order: the one decision of which backend serves which tree. */
    ShiftBackend[] order(TreeShape shape, Backend preference) {
        if (shape == TreeShape.FILE) {
            return new ShiftBackend[] {kernel};
        }
        if (shape == TreeShape.OVERLAY && !fuseServesOverlays) {
            return new ShiftBackend[] {overlay}; // a caller's overlay: rebuilt from checked layers or refused (forCaller)
        }
        ShiftBackend idmapped = shape == TreeShape.OVERLAY ? overlay : kernel;
        if (preference == Backend.FUSE) {
            return new ShiftBackend[] {fuse};
        }
        if (preference == Backend.KERNEL) {
            return new ShiftBackend[] {idmapped};
        }
        return new ShiftBackend[] {idmapped, fuse};
    }

    /** What a tree is, from the mount table and the file system: which backends may serve it. */
    public static TreeShape shapeOf(String path) {
        if (OverlayMounts.isMountPoint(path)) {
            return TreeShape.OVERLAY;
        }
        return Files.isDirectory(Path.of(path)) ? TreeShape.DIRECTORY : TreeShape.FILE;
    }

    /**
     * Which way a shift of a tree would go, and why: for {@code idshift maps} and {@code doctor}.
     *
     * @param kernel served by the kernel's idmapped mounts (a clone, or an overlay rebuilt on them)
     */
    public record Way(boolean kernel, String why) {
    }

    /**
     * The way {@code auto} would take for {@code path}, found without mounting anything: the
     * standard backends' probes (which take no user namespace of the pool's, and start no server).
     */
    public static Way autoWayFor(String path) {
        try (UsernsPool unused = new UsernsPool()) {
            return standard(unused, new FuseBackend(null, null, null)).wayFor(path, shapeOf(path), Backend.AUTO);
        }
    }

    /** The way {@link #shift} would take, each backend of {@link #order} probed in turn. */
    public Way wayFor(String path, TreeShape shape, Backend preference) {
        String refused = null;
        for (ShiftBackend backend : order(shape, preference)) {
            ShiftBackend.Probe probe = backend.probe(path);
            if (probe.verdict() == ShiftBackend.Probe.Verdict.SERVES) {
                return new Way(backend != fuse, refused == null ? probe.why() : probe.why() + ": " + refused);
            }
            if (probe.verdict() == ShiftBackend.Probe.Verdict.REFUSES) {
                return new Way(false, "refused (" + preference.word() + " backend): " + probe.why());
            }
            if (refused == null) {
                refused = probe.why();
            }
        }
        return new Way(false, "refused (" + preference.word() + " backend): " + refused);
    }
}
