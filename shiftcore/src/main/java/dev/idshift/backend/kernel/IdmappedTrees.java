package dev.idshift.backend.kernel;

import dev.idshift.backend.IdmapUnsupportedException;
import dev.idshift.sys.Errno;
import dev.idshift.sys.Fd;
import dev.idshift.sys.Linux;
import dev.idshift.sys.SyscallException;
import dev.idshift.sys.mounts.MountCalls;

/**
 * Detached idmapped clones of a tree: the kernel only sets an idmap on a detached clone
 * (open_tree with OPEN_TREE_CLONE), once. Until attached with move_mount, closing the fd discards
 * the clone, so a failure part-way leaves nothing mounted.
 */
public final class IdmappedTrees {
    private static final IdmappedTrees KERNEL = new IdmappedTrees(MountCalls.kernel());

    private final MountCalls mounts;

    /** @param mounts the calls the trees are made with (the kernel's, or a recording fake in tests) */
    public IdmappedTrees(MountCalls mounts) {
        this.mounts = mounts;
    }

    /** Trees made by the kernel. */
    public static IdmappedTrees kernel() {
        return KERNEL;
    }

    /**
     * Clones {@code path} (with its submounts when {@code recursive}) and idmaps the top mount only:
     * procfs, sysfs and overlayfs cannot be idmapped, and a recursive idmap fails as a whole.
     */
    public Fd cloneIdmapped(String path, int usernsFd, boolean recursive, boolean readonly) {
        return cloneIdmapped(path, usernsFd, recursive, readonly ? Linux.MOUNT_ATTR_RDONLY : 0L);
    }

    /** The same, with {@code attributes} (MOUNT_ATTR_RDONLY, _NOSUID, _NODEV) set together with the idmap. */
    public Fd cloneIdmapped(String path, int usernsFd, boolean recursive, long attributes) {
        int flags = Linux.OPEN_TREE_CLONE | Linux.OPEN_TREE_CLOEXEC | (recursive ? Linux.AT_RECURSIVE : 0);
        return idmap(mounts.openTree(Linux.AT_FDCWD, path, flags, path), path, usernsFd, attributes);
    }

    /**
     * The same as {@link #cloneIdmapped} for a tree already opened (O_PATH), e.g. resolved beneath a
     * mark, with {@code attributes} (MOUNT_ATTR_RDONLY, _NODEV, ...) set together with the idmap.
     */
    public Fd cloneIdmapped(Fd source, String subject, int usernsFd, long attributes) {
        return idmap(clone(source, subject), subject, usernsFd, attributes);
    }

    /** The same, read-only or not and nothing else (the overlay rebuild's layers). */
    public Fd cloneIdmapped(Fd source, String subject, int usernsFd, boolean readonly) {
        return cloneIdmapped(source, subject, usernsFd, readonly ? Linux.MOUNT_ATTR_RDONLY : 0L);
    }

    /** Sets mount attributes (MOUNT_ATTR_NODEV, ...) on a detached tree, no idmap. */
    public void setAttributes(Fd tree, long attributes, String subject) {
        mounts.mountSetattr(tree.get(), "", Linux.AT_EMPTY_PATH, attributes, 0, 0, 0, subject);
    }

    /** A plain detached clone of {@code path}'s own mount (for a tree already stored with host ids). */
    public Fd clone(String path) {
        return mounts.openTree(Linux.AT_FDCWD, path, Linux.OPEN_TREE_CLONE | Linux.OPEN_TREE_CLOEXEC, path);
    }

    /** A plain detached clone of the mount of a tree already opened (O_PATH), e.g. resolved beneath a mark. */
    public Fd clone(Fd source, String subject) {
        int flags = Linux.OPEN_TREE_CLONE | Linux.OPEN_TREE_CLOEXEC | Linux.AT_EMPTY_PATH;
        return mounts.openTree(source.get(), "", flags, subject);
    }

    /** Sets the idmap (and other attributes) on a fresh detached clone; on failure the clone is discarded. */
    private Fd idmap(Fd tree, String subject, int usernsFd, long attributes) {
        try {
            long attrs = Linux.MOUNT_ATTR_IDMAP | attributes;
            mounts.mountSetattr(tree.get(), "", Linux.AT_EMPTY_PATH, attrs, 0, 0, usernsFd, subject);
            return tree;
        } catch (SyscallException e) {
            tree.close();
            if (e.errno() == Errno.EINVAL || e.errno() == Errno.EPERM || e.errno() == Errno.EOPNOTSUPP) {
                throw new IdmapUnsupportedException(subject, e);
            }
            throw e;
        } catch (RuntimeException e) {
            tree.close();
            throw e;
        }
    }

    /** Attaches a detached tree on top of whatever is mounted at {@code target}. */
    public void attach(Fd tree, String target) {
        mounts.moveMount(tree.get(), "", Linux.AT_FDCWD, target, Linux.MOVE_MOUNT_F_EMPTY_PATH, target);
    }
}
