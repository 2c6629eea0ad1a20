package dev.idshift.hook;

import dev.idshift.config.annotations.IdshiftAnnotations;
import dev.idshift.config.oci.LinuxSpec;
import dev.idshift.daemon.client.DaemonClient;
import dev.idshift.daemon.protocol.Request;
import dev.idshift.daemon.protocol.Response;
import dev.idshift.backend.kernel.RootfsInjector;
import dev.idshift.backend.kernel.UserNamespaces;
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
        IdshiftAnnotations annotations = ShiftDecision.annotationsOf(bundle, stateAnnotations);
        String skip = ShiftDecision.skipReason(bundle.config(), annotations);
        if (skip != null) {
            return skip;
        }
        StatePid.verify(pid);
        LinuxSpec linux = bundle.config().linux();
        ContainerIds ids = ContainerIds.of(pid, linux.uidMappings(), linux.gidMappings());
        ExplicitLayout explicit = ExplicitLayout.from(annotations, bundle.directory().resolve("config.json").toString());
        Request.Shift request = new Request.Shift(bundle.rootfs().toString(), ids.uids(), ids.gids(), explicit.uids(),
                explicit.gids(), bundle.config().root().readonly());
        try (Response.ShiftOutcome outcome = DaemonClient.fromEnvironment().shift(request)) {
            if (!(outcome instanceof Response.Shifted)) {
                return "the daemon found the rootfs already owned by the container's ids";
            }
            RootfsInjector.injectTree(pid, bundle.rootfs().toString(), ((Response.Shifted) outcome).tree(),
                    RootfsShift.protectedPaths(linux, ids.uids(), ids.gids(), reapplyProtectedPaths));
            return "shifted " + bundle.rootfs() + " through the idshift daemon";
        }
    }
}
