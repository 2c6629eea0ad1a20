package dev.idshift.marks;

/**
 * A subtree root has blessed as shiftable through the daemon.
 *
 * @param path        absolute, canonical
 * @param ownerUid    -1, or a host user who may use it (with its own uid and /etc/subuid ranges)
 * @param allowSubids any host user may use it, with its /etc/subuid and /etc/subgid ranges
 * @param forced      root marked it with --force, past {@link MarkSafety}'s problems: the daemon
 *                    does not re-check its safety at use (root accepted it as it is)
 *
 * <p>Always allowed: host root, and containers of root-run runtimes, limited to the host ids their
 * namespace maps (see {@link CallerIds} and {@link Authorizer#mayUse}).
 */
public record Mark(String path, long ownerUid, boolean allowSubids, boolean forced) {
    public Mark(String path, long ownerUid, boolean allowSubids) {
        this(path, ownerUid, allowSubids, false);
    }
}
