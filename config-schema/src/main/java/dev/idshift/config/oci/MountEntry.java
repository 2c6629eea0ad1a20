package dev.idshift.config.oci;

import java.util.List;
import java.util.Optional;

/** A {@code mounts[]} entry. */
public record MountEntry(String destination, Optional<String> type, Optional<String> source, List<String> options) {
    /** A bind mount in OCI terms: type "bind", or any type with a "bind"/"rbind" option. */
    public boolean isBind() {
        return (type.isPresent() && type.get().equals("bind")) || options.contains("bind") || options.contains("rbind");
    }
}
