package dev.idshift.config.oci;

import java.util.List;
import java.util.Optional;

/** The {@code linux} subset idshift reads. */
public record LinuxSpec(
        List<Namespace> namespaces,
        List<IdMapping> uidMappings,
        List<IdMapping> gidMappings,
        List<String> maskedPaths,
        List<String> readonlyPaths,
        Optional<String> rootfsPropagation) {

    public static final LinuxSpec EMPTY = new LinuxSpec(List.of(), List.of(), List.of(), List.of(), List.of(), Optional.empty());

    public Optional<Namespace> namespace(String type) {
        for (Namespace namespace : namespaces) {
            if (namespace.type().equals(type)) {
                return Optional.of(namespace);
            }
        }
        return Optional.empty();
    }
}
