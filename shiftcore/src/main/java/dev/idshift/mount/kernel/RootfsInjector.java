package dev.idshift.mount.kernel;

import dev.idshift.sys.Linux;
import dev.idshift.sys.Syscalls;

/**
 * Stacks an idmapped clone of a container's rootfs on top of it, inside the container's mount
 * namespace, between the runtime's rootfs set-up and its pivot_root (prestart/createRuntime).
 * The clone is recursive, so /proc, /dev and every other mount the runtime already made under the
 * rootfs are kept; only the top mount is idmapped.
 */
public final class RootfsInjector {
    private RootfsInjector() {
    }

    /**
     * @param containerPid the container's init, whose mount namespace we enter
     * @param rootfs       the rootfs path (absolute, the same in the host and the container namespace)
     * @param usernsFd     user namespace carrying on-disk -> host ids
     * @param readonly     root.readonly: the injected root must be read-only too
     * @param protect      masked/read-only paths to re-apply on the injected tree (empty: none)
     */
    public static void inject(long containerPid, String rootfs, int usernsFd, boolean readonly, ProtectedPaths protect) {
        MountNamespaceRunner.runIn(containerPid, new MountNamespaceRunner.Work<Void>() {
            @Override
            public Void run() {
                try (Fd tree = IdmappedTrees.cloneIdmapped(rootfs, usernsFd, true, readonly)) {
                    IdmappedTrees.attach(tree, rootfs);
                }
                try {
                    if (!protect.isEmpty()) {
                        protect.applyUnder(rootfs);
                    }
                } catch (RuntimeException e) {
                    // Leave the namespace as the runtime made it: no half-protected shifted root.
                    Syscalls.get().umount2(rootfs, Linux.MNT_DETACH);
                    throw e;
                }
                return null;
            }
        });
    }
}
