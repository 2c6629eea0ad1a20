package dev.idshift.backend;

/** What kind of tree a shift is asked for: with the backend asked for, it decides which backends may serve it. */
public enum TreeShape {
    /** A directory that is not an overlay's mount point. */
    DIRECTORY,
    /** A regular file (an engine's bind of /etc/hosts, say): only the kernel clones one; a FUSE server serves directories. */
    FILE,
    /** An overlay's mount point: the kernel will not idmap the overlay, but it can be rebuilt on idmapped layers. */
    OVERLAY
}
