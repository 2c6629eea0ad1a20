package dev.idshift.staging;

/**
 * One shifted mount made for a container before its runtime starts.
 *
 * @param source      the directory shifted (the original root.path or bind-mount source)
 * @param stagingPath where the shifted view is mounted; the rewritten config points here
 * @param destination "/" for the rootfs, else the bind mount's destination in the container
 */
public record StagedMount(String source, String stagingPath, String destination) {
}
