package dev.idshift.backend;

import dev.idshift.failure.UnsupportedException;
import dev.idshift.sys.SyscallException;

/**
 * The kernel refused an idmap for this filesystem (EINVAL/EPERM/EOPNOTSUPP from mount_setattr):
 * overlayfs, procfs, a filesystem without idmap support, or a kernel with idmapped mounts disabled.
 * The FUSE backend can still shift such a tree.
 */
public final class IdmapUnsupportedException extends UnsupportedException {
    public IdmapUnsupportedException(String path, SyscallException cause) {
        super("the kernel will not idmap " + path + " (" + cause.getMessage() + "): its filesystem or this kernel"
                + " does not support idmapped mounts; use the FUSE backend", cause);
    }

    /** A tree idshift cannot shift with the kernel for another reason, said in {@code message}. */
    public IdmapUnsupportedException(String message) {
        super(message);
    }
}
