package dev.idshift.backend.kernel;

import dev.idshift.backend.MountMaps;
import dev.idshift.backend.ShiftBackend;
import dev.idshift.backend.ShiftRequest;
import dev.idshift.backend.ShiftedTree;
import dev.idshift.sys.Fd;

/**
 * The kernel's idmapped mount: a detached clone of the tree (with its submounts, if asked), its
 * top mount idmapped; throws {@link dev.idshift.backend.IdmapUnsupportedException} where the
 * kernel will not idmap the tree's filesystem.
 */
public final class KernelBackend implements ShiftBackend {
    public static final String NAME = "kernel";

    private final UsernsPool namespaces;

    /**
     * @param namespaces where the user namespace carrying the maps comes from: made there in this
     *                   thread's namespaces (never in a container's), closed by the caller after the shift
     */
    public KernelBackend(UsernsPool namespaces) {
        this.namespaces = namespaces;
    }

    @Override
    public ShiftedTree shift(ShiftRequest request) {
        String path = request.path();
        MountMaps maps = request.rootMaps();
        int userns = namespaces.forMaps(maps).get();
        long attributes = request.access().kernelAttributes();
        Fd tree;
        if (request.opened() != null) {
            tree = IdmappedTrees.kernel().cloneIdmapped(request.opened(), path, userns, attributes);
        } else if (request.submountsOf() > 0) {
            // The runtime's submounts (/proc, /dev, binds) exist in that namespace only: clone them there.
            tree = MountNamespaceRunner.runIn(request.submountsOf(), new MountNamespaceRunner.Work<Fd>() {
                @Override
                public Fd run() {
                    return IdmappedTrees.kernel().cloneIdmapped(path, userns, true, attributes);
                }
            });
        } else {
            tree = IdmappedTrees.kernel().cloneIdmapped(path, userns, request.recursive(), attributes);
        }
        return new ShiftedTree(tree, NAME, request.recursive(), "kernel idmapped mount");
    }

    @Override
    public Probe probe(String path) {
        IdmapProbe.Result probe = IdmapProbe.probe(path);
        return probe.supported() ? Probe.serves("kernel idmapped mount (" + probe.detail() + ")") : Probe.cannot(probe.detail());
    }
}
