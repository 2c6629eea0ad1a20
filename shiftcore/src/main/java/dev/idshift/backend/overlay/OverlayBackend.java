package dev.idshift.backend.overlay;

import dev.idshift.failure.UnsupportedException;
import dev.idshift.backend.IdmapUnsupportedException;
import dev.idshift.backend.ShiftBackend;
import dev.idshift.backend.ShiftRequest;
import dev.idshift.backend.ShiftedTree;
import dev.idshift.backend.kernel.IdmapProbe;
import dev.idshift.backend.kernel.UsernsPool;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * An overlay mount point, mounted again with the same layers and options over idmapped clones of
 * its layers ({@link OverlayRebuild}): the kernel will not idmap an overlay itself. The result has
 * none of the mounts that were beneath the overlay.
 *
 * <p>Whose overlay it is, and so how its layers are found and opened, is this backend's
 * {@link OverlayLayers}: this process's own view for the hook and {@code idshift mount}; for the
 * daemon, its caller's, whose every layer is checked beneath a mark the caller may use on the very
 * fd that is then cloned.
 */
public final class OverlayBackend implements ShiftBackend {
    public static final String NAME = "overlay";

    private final UsernsPool namespaces;
    /** Null for this process's own view, made at use: the hook's kernel path never loads it. */
    private final OverlayLayers layers;

    /**
     * An overlay as this process sees it: paths taken on trust ({@link OverlayLayers#asSeenHere}).
     *
     * @param namespaces where the layers' user namespaces come from (closed by the caller, after the shift)
     */
    public OverlayBackend(UsernsPool namespaces) {
        this.namespaces = namespaces;
        this.layers = null;
    }

    /** @param layers whose overlay: where it is read from, and how (with what checks) each layer is opened */
    public OverlayBackend(UsernsPool namespaces, OverlayLayers layers) {
        this.namespaces = namespaces;
        this.layers = Objects.requireNonNull(layers, "layers");
    }

    /**
     * A refusal of the opener's (a layer beneath no mark the caller may use) passes on as it is: it
     * is not an {@link IdmapUnsupportedException}, so no later backend is tried for it.
     */
    @Override
    public ShiftedTree shift(ShiftRequest request) {
        OverlayLayers opener = layers();
        OverlaySpec overlay = opener.at(request.path());
        if (overlay == null) {
            throw new IdmapUnsupportedException(request.path() + " is not an overlay's mount point: there is no overlay to rebuild");
        }
        return new ShiftedTree(OverlayRebuild.build(overlay, opener, request.maps(), namespaces,
                request.access().kernelAttributes()), NAME, false, OverlayMounts.describe(overlay));
    }

    private OverlayLayers layers() {
        return layers == null ? OverlayLayers.asSeenHere() : layers;
    }

    /** Each layer probed for idmap support. */
    @Override
    public Probe probe(String path) {
        OverlaySpec overlay;
        try {
            overlay = layers().at(path);
        } catch (IdmapUnsupportedException e) {
            return Probe.cannot(e.getMessage());
        } catch (UnsupportedException e) {
            return Probe.refuses(e.getMessage());
        }
        if (overlay == null) {
            return Probe.cannot(path + " is not an overlay's mount point");
        }
        List<String> layerPaths = new ArrayList<>(overlay.lowers());
        layerPaths.addAll(overlay.dataLayers());
        if (overlay.upper() != null) {
            layerPaths.add(overlay.upper());
        }
        for (String layer : layerPaths) {
            IdmapProbe.Result probe = IdmapProbe.probe(layer);
            if (!probe.supported()) {
                return Probe.cannot("overlay " + path + ": layer " + layer + ": " + probe.detail());
            }
        }
        return Probe.serves(OverlayMounts.describe(overlay) + "; the kernel will not idmap an overlay itself, but idmaps each of its layers");
    }
}
