package dev.idshift.config.oci;

import java.util.Optional;

/** A {@code linux.namespaces} entry; {@code path} set means "join that namespace" instead of "create one". */
public record Namespace(String type, Optional<String> path) {
    public static final String USER = "user";
    public static final String MOUNT = "mount";
}
