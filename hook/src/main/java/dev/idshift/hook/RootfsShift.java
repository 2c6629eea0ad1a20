package dev.idshift.hook;

import dev.idshift.app.FuseServerCommand;
import dev.idshift.app.HookServing;
import dev.idshift.backend.LayerMaps;
import dev.idshift.backend.MountAccess;
import dev.idshift.backend.MountMaps;
import dev.idshift.backend.ShiftRequest;
import dev.idshift.backend.ShiftedTree;
import dev.idshift.backend.TreeShape;
import dev.idshift.backend.fuse.FuseBackend;
import dev.idshift.backend.fuse.FuseRegistry;
import dev.idshift.backend.fuse.InProcessFuseServers;
import dev.idshift.backend.kernel.IdmappedTrees;
import dev.idshift.backend.kernel.KernelBackend;
import dev.idshift.backend.kernel.MountNamespaceRunner;
import dev.idshift.backend.kernel.ProtectedPaths;
import dev.idshift.backend.kernel.RootfsInjector;
import dev.idshift.backend.kernel.UserNamespaces;
import dev.idshift.backend.kernel.UsernsPool;
import dev.idshift.backend.overlay.OverlayBackend;
import dev.idshift.backend.overlay.OverlayMounts;
import dev.idshift.backend.overlay.OverlayRebuild;
import dev.idshift.backend.overlay.OverlaySuperOptions;
import dev.idshift.config.annotations.Backend;
import dev.idshift.config.oci.LinuxSpec;
import dev.idshift.idmap.IdMap;
import dev.idshift.layout.ShiftPlan;
import dev.idshift.shift.Shifter;
import dev.idshift.staging.StagedMount;
import dev.idshift.staging.StagingRecord;
import dev.idshift.staging.StagingStore;
import dev.idshift.staging.StagingTeardown;
import dev.idshift.sys.Fd;
import java.util.List;

/**
 * Carries out a shift plan for a container's rootfs at prestart/createRuntime: the engine
 * ({@link Shifter}) makes the shifted tree, which is stacked over the rootfs in the container's
 * mount namespace. An idmapped clone is made in that namespace, with the runtime's submounts; a
 * rebuilt overlay or a FUSE view is made in the host's and gets them put back on top.
 *
 * <p>A FUSE server mounts its view in the host's namespace on the container's staging directory
 * (root's alone); the clone injected into the container is then the only reference (the LXD
 * recipe), so the server exits when the container's namespace goes, even if poststop never runs.
 * poststop finds the staging from the container id and waits for that.
 */
final class RootfsShift {
    private RootfsShift() {
    }

    /** @return which path was taken and why, for the log */
    static String inject(String containerId, long pid, Bundle bundle, ShiftPlan plan, Backend backend, boolean reapplyProtectedPaths) {
        ProtectedPaths protect = protectedPaths(bundle.config().linux(), plan.uid().containerMap(), plan.gid().containerMap(),
                reapplyProtectedPaths);
        String rootfs = bundle.rootfs().toString();
        MountAccess access = MountAccess.CONTAINER.withReadonly(bundle.config().root().readonly());
        FuseRegistry servers = FuseRegistry.fromEnvironment();
        RootfsStaging staging = new RootfsStaging(containerId);
        try (UsernsPool namespaces = new UsernsPool()) {
            MountMaps rootMaps = new MountMaps(plan.uid().mountMap(), plan.gid().mountMap());
            // Made here, in the host's namespaces: the helper process must not start in the container's.
            if (plan.reusesContainerUserns()) {
                namespaces.offer(rootMaps, UserNamespaces.openOf(pid));
            } else {
                namespaces.forMaps(rootMaps);
            }
            Shifter shifter = Shifter.standard(namespaces, new FuseBackend(FuseServerCommand.SERVERS, servers, staging));
            ShiftRequest request = ShiftRequest.of(rootfs, Shifter.shapeOf(rootfs), LayerMaps.like(plan), access).withSubmountsOf(pid);
            try (ShiftedTree tree = shifter.shift(request, backend)) {
                if (staging.mountPoint != null) {
                    staging.store.save(new StagingRecord(staging.key, System.currentTimeMillis(),
                            List.of(new StagedMount(rootfs, staging.mountPoint, "/")),
                            new StagingRecord.ContainerProcess(containerId, pid, StagingStore.processStartTime(pid))));
                    if (InProcessFuseServers.serving()) {
                        // This JVM serves the view (app.HookServing): it removes the staging itself when
                        // the container is gone, so poststop need not start a JVM to.
                        StagingStore store = staging.store;
                        String key = staging.key;
                        HookServing.tearDownWhenServed(store.stagingDir(key).resolve(HookServing.LOCK_NAME),
                                new Runnable() {  // not a lambda: no method handles spun on the hook's path
                                    @Override
                                    public void run() {
                                        StagingTeardown.remove(store, servers, key, HookServing.LOCK_NAME);
                                    }
                                });
                    }
                }
                RootfsInjector.inject(pid, rootfs, tree, protect);
                return tree.how();
            }
        } catch (RuntimeException | Error e) {
            if (staging.mountPoint != null) {
                StagingTeardown.remove(staging.store, servers, staging.key);
            }
            throw e;
        }
    }

    /**
     * Where a FUSE server mounts the rootfs's view: the container's staging, found from the
     * container id (poststop finds it the same way). Made only when a server is started: the
     * kernel path pays for neither the directory nor the key's hash.
     */
    private static final class RootfsStaging extends FuseBackend.ServerPlace {
        private final String containerId;
        private StagingStore store;
        private String key;
        private String mountPoint;

        RootfsStaging(String containerId) {
            this.containerId = containerId;
        }

        /** Only this (root) hook reaches the host's copy: 0700, no group (the container gets a clone). */
        @Override
        public String mountPoint(String subject) {
            store = StagingStore.fromEnvironment();
            key = StagingStore.keyForContainer(containerId);
            mountPoint = store.newMountPoint(key, "rootfs", -1).toString();
            return mountPoint;
        }
    }

    /**
     * The config's masked and read-only paths, to re-apply on an injected root when the runtime will
     * not reach it (see ParentRuntime); masking tmpfs owned by the container's root.
     */
    static ProtectedPaths protectedPaths(LinuxSpec linux, IdMap containerUids, IdMap containerGids, boolean reapply) {
        if (!reapply) {
            return ProtectedPaths.NONE;
        }
        return new ProtectedPaths(linux.readonlyPaths(), linux.maskedPaths(), containerUids.toOutsideOrOverflow(0),
                containerGids.toOutsideOrOverflow(0));
    }

    /** The harmless part of the above, for the training walk: enter a namespace, touch the classes. */
    static void walkWithoutMounting(long ownPid) {
        try (Fd userns = UserNamespaces.openOf(ownPid)) {
            MountNamespaceRunner.runIn(ownPid, new MountNamespaceRunner.Work<Integer>() {
                @Override
                public Integer run() {
                    return userns.get();
                }
            });
        } catch (RuntimeException notPrivileged) {
            // setns needs CAP_SYS_ADMIN; the classes are loaded either way
        }
        ProtectedPaths.NONE.isEmpty();
        MountAccess.CONTAINER.withReadonly(false).kernelAttributes();
        // An overlay rootfs's code paths, on made-up input (pure: nothing is opened or mounted).
        OverlayMounts.describe(OverlaySuperOptions.parse("rw,lowerdir=/l2:/l1,upperdir=/c/diff,workdir=/c/work,uuid=on", "/training"));
        try {
            Class.forName(RootfsInjector.class.getName());
            Class.forName(IdmappedTrees.class.getName());
            Class.forName(Shifter.class.getName());
            Class.forName(ShiftRequest.class.getName());
            Class.forName(TreeShape.class.getName());
            Class.forName(OverlayMounts.class.getName());
            Class.forName(ShiftedTree.class.getName());
            Class.forName(KernelBackend.class.getName());
            Class.forName(OverlayBackend.class.getName());
            Class.forName(FuseBackend.class.getName());
            Class.forName(FuseRegistry.class.getName());
            Class.forName(MountAccess.class.getName());
            Class.forName(RootfsStaging.class.getName());
            Class.forName(FuseServerCommand.SERVERS.getClass().getName());
            Class.forName(StagingTeardown.class.getName());
            Class.forName(LayerMaps.class.getName());
            Class.forName(UsernsPool.class.getName());
            Class.forName(OverlayRebuild.class.getName());
        } catch (ClassNotFoundException impossible) {
            throw new IllegalStateException(impossible);
        }
    }
}
