package dev.idshift.hook;

import dev.idshift.config.oci.LinuxSpec;
import dev.idshift.layout.ShiftPlan;
import dev.idshift.mount.kernel.Fd;
import dev.idshift.mount.kernel.IdmappedTrees;
import dev.idshift.mount.kernel.MountNamespaceRunner;
import dev.idshift.mount.kernel.ProtectedPaths;
import dev.idshift.mount.kernel.RootfsInjector;
import dev.idshift.mount.kernel.UserNamespaces;
import java.util.List;

/** Carries out a shift plan for a container with the kernel backend (idmapped mounts). */
final class KernelShift {
    private KernelShift() {
    }

    static void injectRootfs(long pid, Bundle bundle, ShiftPlan plan, boolean reapplyProtectedPaths) {
        LinuxSpec linux = bundle.config().linux();
        ProtectedPaths protect = reapplyProtectedPaths
                ? new ProtectedPaths(linux.readonlyPaths(), linux.maskedPaths(),
                        plan.uid().containerMap().toOutsideOrOverflow(0), plan.gid().containerMap().toOutsideOrOverflow(0))
                : new ProtectedPaths(List.of(), List.of(), 0, 0);
        try (Fd userns = plan.reusesContainerUserns()
                ? UserNamespaces.openOf(pid)
                : UserNamespaces.createWithMaps(plan.uid().mountMap(), plan.gid().mountMap())) {
            RootfsInjector.inject(pid, bundle.rootfs().toString(), userns.get(), bundle.config().root().readonly(), protect);
        }
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
        new ProtectedPaths(List.of(), List.of(), 0, 0).isEmpty();
        try {
            Class.forName(RootfsInjector.class.getName());
            Class.forName(IdmappedTrees.class.getName());
        } catch (ClassNotFoundException impossible) {
            throw new IllegalStateException(impossible);
        }
    }
}
