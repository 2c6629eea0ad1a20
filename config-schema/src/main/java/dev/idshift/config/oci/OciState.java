package dev.idshift.config.oci;

import java.util.Map;

/**
 * The OCI state a runtime gives a hook on stdin. runc sends status "creating" to prestart and
 * createRuntime hooks, crun "created"; pid is the container's init (0 where the runtime has none).
 */
public record OciState(String ociVersion, String id, String status, long pid, String bundle, Map<String, String> annotations) {
}
