package dev.idshift.hook;

import dev.idshift.config.annotations.IdshiftAnnotations;
import dev.idshift.config.oci.LinuxSpec;
import dev.idshift.config.oci.Namespace;
import dev.idshift.daemon.DaemonClient;
import dev.idshift.daemon.Protocol;
import dev.idshift.mount.kernel.Fd;
import dev.idshift.mount.kernel.ProtectedPaths;
import dev.idshift.mount.kernel.RootfsInjector;
import dev.idshift.mount.kernel.UserNamespaces;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
        Map<String, String> merged = new LinkedHashMap<>(bundle.config().annotations());
        merged.putAll(stateAnnotations);
        IdshiftAnnotations annotations = IdshiftAnnotations.from(merged, bundle.directory().resolve("config.json").toString());
        if (annotations.disable()) {
            return IdshiftAnnotations.DISABLE + "=true: leaving the container untouched";
        }
        LinuxSpec linux = bundle.config().linux();
        if (linux.namespace(Namespace.USER).isEmpty()) {
            return "the container has no user namespace: nothing to shift";
        }
        ContainerIds ids = ContainerIds.of(pid, linux.uidMappings(), linux.gidMappings());
        String fsUids = annotations.fsUidMap().or(annotations::fsIdMap).orElse(null);
        String fsGids = annotations.fsGidMap().or(annotations::fsIdMap).orElse(null);
        try (Fd tree = DaemonClient.shift(Protocol.socketFromEnvironment(), bundle.rootfs().toString(), ids.uids().toString(),
                ids.gids().toString(), fsUids, fsGids, bundle.config().root().readonly())) {
            if (tree == null) {
                return "the daemon found the rootfs already owned by the container's ids";
            }
            ProtectedPaths protect = reapplyProtectedPaths
                    ? new ProtectedPaths(linux.readonlyPaths(), linux.maskedPaths(), ids.uids().toOutsideOrOverflow(0),
                            ids.gids().toOutsideOrOverflow(0))
                    : new ProtectedPaths(List.of(), List.of(), 0, 0);
            RootfsInjector.injectTree(pid, bundle.rootfs().toString(), tree, protect);
            return "shifted " + bundle.rootfs() + " through the idshift daemon";
        }
    }
}
