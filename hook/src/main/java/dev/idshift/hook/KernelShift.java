package dev.idshift.hook;

import dev.idshift.config.oci.LinuxSpec;
import dev.idshift.idmap.IdMap;
import dev.idshift.layout.ShiftPlan;
import dev.idshift.shift.ShiftedTrees;
import dev.idshift.backend.overlay.OverlayRebuild;
import dev.idshift.backend.overlay.OverlaySuperOptions;
import dev.idshift.sys.Fd;
import dev.idshift.backend.kernel.LayerMaps;
import dev.idshift.backend.kernel.MountMaps;
import dev.idshift.backend.ShiftedTree;
import dev.idshift.backend.kernel.UsernsPool;
import dev.idshift.backend.kernel.IdmappedTrees;
import dev.idshift.backend.kernel.MountNamespaceRunner;
import dev.idshift.backend.kernel.ProtectedPaths;
import dev.idshift.backend.kernel.RootfsInjector;
import dev.idshift.backend.kernel.UserNamespaces;

/** Carries out a shift plan for a container with the kernel backend (idmapped mounts). */
final class KernelShift {
    private KernelShift() {
    }

    /**
     * Stacks the shifted rootfs (an idmapped clone of a directory, or the overlay rebuilt on
     * idmapped layers) over the rootfs in the container's mount namespace.
     *
     * @return which path was taken, for the log
     */
    static String injectRootfs(long pid, Bundle bundle, ShiftPlan plan, boolean reapplyProtectedPaths) {
        ProtectedPaths protect = protectedPaths(bundle.config().linux(), plan.uid().containerMap(), plan.gid().containerMap(),
                reapplyProtectedPaths);
        String rootfs = bundle.rootfs().toString();
        boolean readonly = bundle.config().root().readonly();
        LayerMaps maps = LayerMaps.like(plan);
        try (UsernsPool namespaces = new UsernsPool()) {
            MountMaps rootMaps = new MountMaps(plan.uid().mountMap(), plan.gid().mountMap());
            // Made here, in the host's namespaces: the helper process must not start in the container's.
            if (plan.reusesContainerUserns()) {
                namespaces.offer(rootMaps, UserNamespaces.openOf(pid));
            } else {
                namespaces.forMaps(rootMaps);
            }
            if (ShiftedTrees.overlayAt(rootfs) != null) {
                // Built here too: a layer stored differently needs a namespace of its own, whose helper
                // process must start in the host's namespaces. The runtime's submounts are put back on top.
                try (ShiftedTree overlay = ShiftedTrees.make(rootfs, maps, namespaces, false, readonly)) {
                    RootfsInjector.injectTree(pid, rootfs, overlay.tree(), protect);
                    return overlay.how();
                }
            }
            return RootfsInjector.inject(pid, rootfs, new RootfsInjector.TreeMaker() {
                @Override
                public ShiftedTree make() {
                    return ShiftedTrees.make(rootfs, maps, namespaces, true, readonly);
                }
            }, protect);
        }
    }

    /**
     * The config's masked and read-only paths, to re-apply on an injected root when the runtime will
     * not reach it (see ParentRuntime); masking tmpfs owned by the container's root.
     */
    static ProtectedPaths protectedPaths(LinuxSpec linux, IdMap containerUids, IdMap containerGids, boolean reapply) {
        if (!reapply) {
            return ProtectedPaths.NONE;
        }
        return new ProtectedPaths(linux.readonlyPaths(), linux.maskedPaths(), containerUids.toOutsideOrOverflow(0),
                containerGids.toOutsideOrOverflow(0));
    }

    /** The harmless part of the above, for the training walk: enter a namespace, touch the classes. */
    static void walkWithoutMounting(long ownPid) {
        try (Fd userns = UserNamespaces.openOf(ownPid)) {
            MountNamespaceRunner.runIn(ownPid, new MountNamespaceRunner.Work<Integer>() {
                @Override
                public Integer run() {
                    return userns.get();
                }
            });
        } catch (RuntimeException notPrivileged) {
            // setns needs CAP_SYS_ADMIN; the classes are loaded either way
        }
        ProtectedPaths.NONE.isEmpty();
        // An overlay rootfs's code paths, on made-up input (pure: nothing is opened or mounted).
        ShiftedTrees.describe(OverlaySuperOptions.parse("rw,lowerdir=/l2:/l1,upperdir=/c/diff,workdir=/c/work,uuid=on", "/training"));
        try {
            Class.forName(RootfsInjector.class.getName());
            Class.forName(IdmappedTrees.class.getName());
            Class.forName(ShiftedTrees.class.getName());
            Class.forName(ShiftedTree.class.getName());
            Class.forName(LayerMaps.class.getName());
            Class.forName(UsernsPool.class.getName());
            Class.forName(OverlayRebuild.class.getName());
        } catch (ClassNotFoundException impossible) {
            throw new IllegalStateException(impossible);
        }
    }
}
