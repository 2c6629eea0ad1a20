package dev.idshift.hook;

import dev.idshift.config.oci.LinuxSpec;
import dev.idshift.layout.ShiftPlan;
import dev.idshift.mount.kernel.Fd;
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
}
