package dev.idshift.hook;

import dev.idshift.config.annotations.IdshiftAnnotations;
import dev.idshift.config.oci.Namespace;
import dev.idshift.idmap.IdMapException;
import dev.idshift.config.oci.OciConfig;
import dev.idshift.layout.ShiftPlan;
import dev.idshift.layout.ShiftPlanner;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Decides what the hook does for a bundle: skip (and why), or shift with which plan. Shared by the
 * hook and by {@code idshift maps}, so the dry run says exactly what the hook would do.
 *
 * @param plan   empty when skipping
 * @param reason one line: why skip, or what the plan is based on
 */
public record ShiftDecision(Optional<ShiftPlan> plan, ContainerIds ids, IdshiftAnnotations annotations, String reason) {

    /**
     * @param stateAnnotations annotations from the runtime's state (they win over config.json's)
     * @param pid              the container's init, or 0 when there is none (then config.json's maps are used)
     */
    public static ShiftDecision decide(Bundle bundle, Map<String, String> stateAnnotations, long pid) {
        OciConfig config = bundle.config();
        IdshiftAnnotations annotations = annotationsOf(bundle, stateAnnotations);
        String skip = skipReason(config, annotations);
        if (skip != null) {
            return skip(annotations, skip);
        }
        if (pid <= 0 && config.linux().uidMappings().isEmpty()) {
            return skip(annotations, "the container joins an existing user namespace and has no process yet: maps unknown");
        }
        ContainerIds ids = ContainerIds.of(pid, config.linux().uidMappings(), config.linux().gidMappings());
        ExplicitLayout explicit = ExplicitLayout.from(annotations, configSource(bundle));
        ShiftPlan plan;
        try {
            plan = ShiftPlanner.plan(ids.uids(), ids.gids(), bundle.rootOwner().uid(), bundle.rootOwner().gid(),
                    explicit.uids(), explicit.gids(), "annotation");
        } catch (IdMapException e) {
            throw new IdMapException("rootfs " + bundle.rootfs() + ": " + e.getMessage(), e);
        }
        if (plan.isNoop()) {
            return new ShiftDecision(Optional.empty(), ids, annotations,
                    "the rootfs is already owned by the container's host ids (" + plan.uid().layout().reason() + "): nothing to shift");
        }
        return new ShiftDecision(Optional.of(plan), ids, annotations, "uid: " + plan.uid().layout().reason()
                + "; gid: " + plan.gid().layout().reason());
    }

    /** config.json's annotations with the runtime's state annotations over them, checked. */
    static IdshiftAnnotations annotationsOf(Bundle bundle, Map<String, String> stateAnnotations) {
        Map<String, String> merged = new LinkedHashMap<>(bundle.config().annotations());
        merged.putAll(stateAnnotations);
        return IdshiftAnnotations.from(merged, configSource(bundle));
    }

    /** Why this container must be left alone (disabled, no user namespace), or null. */
    static String skipReason(OciConfig config, IdshiftAnnotations annotations) {
        if (annotations.disable()) {
            return IdshiftAnnotations.DISABLE + "=true: leaving the container untouched";
        }
        if (config.linux().namespace(Namespace.USER).isEmpty()) {
            return "the container has no user namespace: its ids are the host's, nothing to shift";
        }
        return null;
    }

    private static String configSource(Bundle bundle) {
        return bundle.directory().resolve("config.json").toString();
    }

    private static ShiftDecision skip(IdshiftAnnotations annotations, String reason) {
        return new ShiftDecision(Optional.empty(), null, annotations, reason);
    }
}
