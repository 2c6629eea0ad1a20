package dev.idshift.config.oci;

import dev.idshift.config.json.JsonObjectView;
import java.util.List;
import java.util.Map;

/**
 * The subset of an OCI runtime {@code config.json} that idshift reads. {@code document} is the whole
 * parsed document, kept so the precreate stage can write the config back with only root.path changed.
 */
public record OciConfig(
        String ociVersion,
        RootSpec root,
        List<MountEntry> mounts,
        LinuxSpec linux,
        Map<String, String> annotations,
        JsonObjectView document) {
}
