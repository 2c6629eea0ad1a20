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

/**
 * An overlay mount point, mounted again with the same layers and options over idmapped clones of
 * its layers ({@link OverlayRebuild}): the kernel will not idmap an overlay itself. The result has
 * none of the mounts that were beneath the overlay.
 */
public final class OverlayBackend implements ShiftBackend {
    public static final String NAME = "overlay";

    private final UsernsPool namespaces;

    /** @param namespaces where the layers' user namespaces come from (closed by the caller, after the shift) */
    public OverlayBackend(UsernsPool namespaces) {
        this.namespaces = namespaces;
    }

    @Override
    public ShiftedTree shift(ShiftRequest request) {
        OverlaySpec overlay = OverlayMounts.at(request.path());
        if (overlay == null) {
            throw new IdmapUnsupportedException(request.path() + " is not an overlay's mount point: there is no overlay to rebuild");
        }
        return new ShiftedTree(OverlayRebuild.build(overlay, OverlayLayers.asSeenHere(), request.maps(), namespaces,
                request.access().kernelAttributes()), NAME, false, OverlayMounts.describe(overlay));
    }

    /** Each layer probed for idmap support. */
    @Override
    public Probe probe(String path) {
        OverlaySpec overlay;
        try {
            overlay = OverlayMounts.at(path);
        } catch (IdmapUnsupportedException e) {
            return Probe.cannot(e.getMessage());
        } catch (UnsupportedException e) {
            return Probe.refuses(e.getMessage());
        }
        if (overlay == null) {
            return Probe.cannot(path + " is not an overlay's mount point");
        }
        List<String> layers = new ArrayList<>(overlay.lowers());
        layers.addAll(overlay.dataLayers());
        if (overlay.upper() != null) {
            layers.add(overlay.upper());
        }
        for (String layer : layers) {
            IdmapProbe.Result probe = IdmapProbe.probe(layer);
            if (!probe.supported()) {
                return Probe.cannot("overlay " + path + ": layer " + layer + ": " + probe.detail());
            }
        }
        return Probe.serves(OverlayMounts.describe(overlay) + "; the kernel will not idmap an overlay itself, but idmaps each of its layers");
    }
}
