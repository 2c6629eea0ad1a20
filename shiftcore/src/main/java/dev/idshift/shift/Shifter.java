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
 */
public final class Shifter {
    private final ShiftBackend kernel;
    private final ShiftBackend overlay;
    private final ShiftBackend fuse;

    public Shifter(ShiftBackend kernel, ShiftBackend overlay, ShiftBackend fuse) {
        this.kernel = kernel;
        this.overlay = overlay;
        this.fuse = fuse;
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
