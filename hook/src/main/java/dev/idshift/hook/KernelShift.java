package dev.idshift.hook;

import dev.idshift.config.oci.LinuxSpec;
import dev.idshift.idmap.IdMap;
import dev.idshift.layout.ShiftPlan;
import dev.idshift.mount.kernel.Fd;
import dev.idshift.mount.kernel.IdmappedTrees;
import dev.idshift.mount.kernel.MountNamespaceRunner;
import dev.idshift.mount.kernel.ProtectedPaths;
import dev.idshift.mount.kernel.RootfsInjector;
import dev.idshift.mount.kernel.UserNamespaces;

/** Carries out a shift plan for a container with the kernel backend (idmapped mounts). */
final class KernelShift {
    private KernelShift() {
    }

    static void injectRootfs(long pid, Bundle bundle, ShiftPlan plan, boolean reapplyProtectedPaths) {
        ProtectedPaths protect = protectedPaths(bundle.config().linux(), plan.uid().containerMap(), plan.gid().containerMap(),
                reapplyProtectedPaths);
        try (Fd userns = plan.reusesContainerUserns()
                ? UserNamespaces.openOf(pid)
                : UserNamespaces.createWithMaps(plan.uid().mountMap(), plan.gid().mountMap())) {
            RootfsInjector.inject(pid, bundle.rootfs().toString(), userns.get(), bundle.config().root().readonly(), protect);
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
        try {
            Class.forName(RootfsInjector.class.getName());
            Class.forName(IdmappedTrees.class.getName());
        } catch (ClassNotFoundException impossible) {
            throw new IllegalStateException(impossible);
        }
    }
}
