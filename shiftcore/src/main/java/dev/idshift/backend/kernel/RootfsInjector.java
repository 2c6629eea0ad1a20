package dev.idshift.backend.kernel;

import dev.idshift.backend.ShiftedTree;
import dev.idshift.sys.Fd;
import dev.idshift.sys.Linux;
import dev.idshift.sys.mounts.MountCalls;
import java.util.ArrayList;
import java.util.List;

/**
 * Stacks a shifted tree of a container's rootfs on top of it, inside the container's mount
 * namespace, between the runtime's rootfs set-up and its pivot_root (prestart/createRuntime).
 * An idmapped clone is recursive, so /proc, /dev and every other mount the runtime already made
 * under the rootfs are kept (only the top mount is idmapped); a tree built anew gets them put back.
 */
public final class RootfsInjector {
    private static final RootfsInjector KERNEL = new RootfsInjector(MountCalls.kernel());

    private final MountCalls mounts;
    private final IdmappedTrees trees;

    /** @param mounts the calls the stacking is done with (the kernel's, or a recording fake in tests) */
    RootfsInjector(MountCalls mounts) {
        this.mounts = mounts;
        this.trees = new IdmappedTrees(mounts);
    }

    /**
     * @param containerPid the container's init, whose mount namespace we enter
     * @param rootfs       the rootfs path (absolute, the same in the host and the container namespace)
     * @param tree         the shifted rootfs (the caller's to close): a recursive clone made in that
     *                     namespace keeps /proc, /dev and binds; a tree built anew gets clones of them put back
     * @param protect      masked/read-only paths to re-apply on the injected tree (empty: none)
     */
    public static void inject(long containerPid, String rootfs, ShiftedTree tree, ProtectedPaths protect) {
        KERNEL.attachIn(containerPid, rootfs, tree.tree(), tree.hasSubmounts(), protect);
    }

    /**
     * The same with a tree made elsewhere (the idshift daemon, for a runtime nested in a container):
     * attached over the rootfs as it is, submounts and all.
     */
    public static void injectTree(long containerPid, String rootfs, Fd tree, ProtectedPaths protect) {
        KERNEL.attachIn(containerPid, rootfs, tree, false, protect);
    }

    private void attachIn(long containerPid, String rootfs, Fd tree, boolean hasSubmounts, ProtectedPaths protect) {
        MountNamespaceRunner.runIn(containerPid, new MountNamespaceRunner.Work<Void>() {
            @Override
            public Void run() {
                attachHere(rootfs, tree, hasSubmounts, protect);
                return null;
            }
        });
    }

    /**
     * The work done inside the container's mount namespace: stack {@code tree} on the rootfs (as
     * it is if it {@code hasSubmounts}, else with the runtime's submounts put back on top), then
     * re-apply {@code protect} on it; if that fails, the stacked tree is detached again, leaving
     * the namespace as the runtime made it.
     */
    void attachHere(String rootfs, Fd tree, boolean hasSubmounts, ProtectedPaths protect) {
        if (hasSubmounts) {
            trees.attach(tree, rootfs);
        } else {
            attachKeepingSubmounts(tree, rootfs, MountInfo.directChildren(rootfs));
        }
        try {
            if (!protect.isEmpty()) {
                protect.applyUnder(rootfs, mounts);
            }
        } catch (RuntimeException e) {
            // Leave the namespace as the runtime made it: no half-protected shifted root.
            mounts.umount2(rootfs, Linux.MNT_DETACH);
            throw e;
        }
    }

    /**
     * A tree made elsewhere has none of the mounts the runtime made under the rootfs (/proc, /dev,
     * binds): clone each direct child mount of the rootfs (recursively) first, stack the tree, then
     * put the clones back at the same places on top of it.
     *
     * @param children the rootfs's direct child mounts, in mountinfo's order
     */
    void attachKeepingSubmounts(Fd tree, String rootfs, List<String> children) {
        List<Fd> clones = new ArrayList<>();
        try {
            for (String child : children) {
                clones.add(mounts.openTree(Linux.AT_FDCWD, child,
                        Linux.OPEN_TREE_CLONE | Linux.OPEN_TREE_CLOEXEC | Linux.AT_RECURSIVE, child));
            }
            trees.attach(tree, rootfs);
            for (int i = 0; i < children.size(); i++) {
                mounts.moveMount(clones.get(i).get(), "", Linux.AT_FDCWD, children.get(i), Linux.MOVE_MOUNT_F_EMPTY_PATH, children.get(i));
            }
        } finally {
            for (Fd clone : clones) {
                clone.close();
            }
        }
    }
}
