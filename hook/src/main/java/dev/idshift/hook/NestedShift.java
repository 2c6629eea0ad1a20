package dev.idshift.hook;

import dev.idshift.config.annotations.IdshiftAnnotations;
import dev.idshift.config.oci.LinuxSpec;
import dev.idshift.daemon.DaemonClient;
import dev.idshift.daemon.Protocol;
import dev.idshift.idmap.IdMap;
import dev.idshift.sys.Fd;
import dev.idshift.backend.kernel.RootfsInjector;
import dev.idshift.backend.kernel.UserNamespaces;
import java.util.Map;
import java.util.Optional;

/**
 * The hook of a runtime that itself runs in a user namespace (runc inside a container): it may not
 * idmap host filesystems, and cannot even see on-disk owners. The idshift daemon on the host plans
 * and makes the shifted tree (op "shift") from the container's maps as we see them; we attach it in
 * the container's mount namespace as the kernel path would.
 */
final class NestedShift {
    private NestedShift() {
    }

    /** Whether this process runs in a user namespace (its uid_map is not the whole identity). */
    static boolean applies() {
        return !UserNamespaces.inInitialNamespace();
    }

    /** @return a line for IDSHIFT_DEBUG */
    static String run(long pid, Bundle bundle, Map<String, String> stateAnnotations, boolean reapplyProtectedPaths) {
        IdshiftAnnotations annotations = ShiftDecision.annotationsOf(bundle, stateAnnotations);
        String skip = ShiftDecision.skipReason(bundle.config(), annotations);
        if (skip != null) {
            return skip;
        }
        StatePid.verify(pid);
        LinuxSpec linux = bundle.config().linux();
        ContainerIds ids = ContainerIds.of(pid, linux.uidMappings(), linux.gidMappings());
        ExplicitLayout explicit = ExplicitLayout.from(annotations, bundle.directory().resolve("config.json").toString());
        try (Fd tree = DaemonClient.shift(Protocol.socketFromEnvironment(), bundle.rootfs().toString(), ids.uids().toString(),
                ids.gids().toString(), text(explicit.uids()), text(explicit.gids()), bundle.config().root().readonly())) {
            if (tree == null) {
                return "the daemon found the rootfs already owned by the container's ids";
            }
            RootfsInjector.injectTree(pid, bundle.rootfs().toString(), tree,
                    KernelShift.protectedPaths(linux, ids.uids(), ids.gids(), reapplyProtectedPaths));
            return "shifted " + bundle.rootfs() + " through the idshift daemon";
        }
    }

    private static String text(Optional<IdMap> map) {
        return map.isPresent() ? map.get().toString() : null;
    }
}
