package dev.idshift.config.oci;

/** {@code root}: the rootfs path (relative paths are relative to the bundle) and whether it is read-only. */
public record RootSpec(String path, boolean readonly) {
}
