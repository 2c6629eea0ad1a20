package dev.idshift.helper;

/**
 * A subtree root has blessed as shiftable through the daemon.
 *
 * @param path        absolute, canonical
 * @param ownerUid    -1, or a host user who may use it (with its own uid and /etc/subuid ranges)
 * @param allowSubids any host user may use it, with its /etc/subuid and /etc/subgid ranges
 *
 * <p>Always allowed: callers running as host root, and callers inside a user namespace (nested
 * containers), limited to the host ids their namespace maps.
 */
public record Mark(String path, long ownerUid, boolean allowSubids) {
}
