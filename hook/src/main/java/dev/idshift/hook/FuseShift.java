package dev.idshift.hook;

import dev.idshift.app.FuseServerCommand;
import dev.idshift.layout.ShiftPlan;
import dev.idshift.backend.fuse.FuseMounts;
import dev.idshift.backend.fuse.FuseRegistry;
import dev.idshift.sys.Fd;
import dev.idshift.backend.kernel.RootfsInjector;
import dev.idshift.staging.StagedMount;
import dev.idshift.staging.StagingRecord;
import dev.idshift.staging.StagingStore;
import dev.idshift.sys.Linux;
import dev.idshift.sys.mounts.MountCalls;
import java.nio.file.Path;
import java.util.List;

/**
 * Carries out a shift plan with the FUSE backend, where the kernel will not idmap the rootfs (or
 * the config asks for FUSE). The server mounts the shifted view in the host's namespace, on the
 * container's staging directory; a clone of that mount is injected over the rootfs in the
 * container's namespace (the LXD recipe), and the host's mount is detached at once: the container
 * then holds the only reference, so the server exits when the container's namespace goes, even if
 * poststop never runs. poststop finds the staging from the container id and waits for that.
 */
public final class FuseShift {
    private FuseShift() {
    }

    static void injectRootfs(String containerId, long pid, Bundle bundle, ShiftPlan plan, boolean reapplyProtectedPaths) {
        StagingStore store = StagingStore.fromEnvironment();
        FuseRegistry servers = FuseRegistry.fromEnvironment();
        String key = StagingStore.keyForContainer(containerId);
        String rootfs = bundle.rootfs().toString();
        // Only this (root) hook reaches the host's copy: 0700, no group (the container gets a clone).
        Path mountPoint = store.newMountPoint(key, "rootfs", -1);
        try {
            FuseMounts.start(FuseServerCommand.processes(), servers, rootfs, mountPoint.toString(), plan.uid().mountMap(),
                    plan.gid().mountMap(), bundle.config().root().readonly());
            store.save(new StagingRecord(key, System.currentTimeMillis(), List.of(new StagedMount(rootfs, mountPoint.toString(), "/")),
                    new StagingRecord.ContainerProcess(containerId, pid, StagingStore.processStartTime(pid))));
            MountCalls mounts = MountCalls.kernel();
            try (Fd view = mounts.openTree(Linux.AT_FDCWD, mountPoint.toString(), Linux.OPEN_TREE_CLONE | Linux.OPEN_TREE_CLOEXEC,
                    mountPoint.toString())) {
                RootfsInjector.injectTree(pid, rootfs, view, KernelShift.protectedPaths(bundle.config().linux(),
                        plan.uid().containerMap(), plan.gid().containerMap(), reapplyProtectedPaths));
            }
            mounts.umount2(mountPoint.toString(), Linux.MNT_DETACH);
        } catch (RuntimeException | Error e) {
            remove(store, servers, key);
            throw e;
        }
    }

    /** poststop/gc: the staging of KEY and the FUSE servers serving it, gone (the servers by pid if they linger). */
    public static void remove(StagingStore store, FuseRegistry servers, String key) {
        store.remove(key);
        FuseMounts.stopUnder(servers, store.stagingDir(key));
    }
}
