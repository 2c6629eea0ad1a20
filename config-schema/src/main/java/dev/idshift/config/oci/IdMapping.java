package dev.idshift.config.oci;

/** One OCI {@code linux.uidMappings}/{@code gidMappings} entry: container ids [containerId, +size) are host ids [hostId, +size). */
public record IdMapping(long containerId, long hostId, long size) {
}
