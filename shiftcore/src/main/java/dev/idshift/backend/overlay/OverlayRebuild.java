package dev.idshift.backend.overlay;

import dev.idshift.failure.InternalException;
import dev.idshift.failure.UnsupportedException;
import dev.idshift.failure.KernelRefusedException;
import dev.idshift.layout.Owner;
import dev.idshift.sys.Fd;
import dev.idshift.backend.kernel.IdmappedTrees;
import dev.idshift.backend.LayerMaps;
import dev.idshift.backend.MountMaps;
import dev.idshift.backend.kernel.UsernsPool;
import dev.idshift.sys.Linux;
import dev.idshift.sys.credentials.Credentials;
import dev.idshift.sys.files.FileSyscalls;
import dev.idshift.sys.mounts.MountCalls;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Mounts an overlay again, with the same layers and options, over idmapped clones of its layers:
 * the kernel will not idmap an overlay mount, but takes idmapped mounts as layers.
 *
 * <p>Mounted by host root (this process), so trusted.overlay.* (opaque dirs, redirects, metacopy
 * written by rootful engines) keeps its meaning; an overlay mounted inside a user namespace would
 * ignore it. The layers go in as file descriptors of detached clones (fsconfig FSCONFIG_SET_FD,
 * overlayfs 6.13+): nothing is attached anywhere but the finished overlay, and the overlay holds
 * private clones of its layers, not the engine's overlay, which stays free to unmount.
 *
 * <p>The upper and work dirs come from one clone of their common parent (overlayfs wants them on
 * the same mount), idmapped like the lower layers.
 *
 * <p>The overlay does its own work (work dir, whiteouts, copy-up temporaries) with its creator's
 * credentials. Host root's fsuid 0 has no on-disk id through the upper's map (the kernel refuses:
 * EOVERFLOW, and the overlay comes up read-only), so the superblock is created on a thread whose
 * fsuid/fsgid are the host ids the upper dir's own owner maps to (the container's root, for an
 * image stored unshifted), its capabilities kept: the overlay's own files then land on disk owned
 * as the upper dir is, exactly as under the engine's overlay, and no extra user namespace (a
 * helper process, tens of ms) is needed.
 *
 * <p>A less privileged caller's overlay (the daemon's, {@link OverlayLayers#lessPrivilegedCaller}) is
 * created without two powers of host root's that the caller's own overlay, mounted in its user
 * namespace, lacked, since overlayfs does every access to its layers with its creator's credentials:
 * CAP_DAC_READ_SEARCH, with which overlayfs decodes the file handle in an overlay.origin xattr (the
 * caller writes those on its upper files at will, naming any inode of the layer's filesystem, marked
 * or not), and CAP_SYS_RESOURCE, with which the caller's writes would pass disk quotas and fill the
 * blocks a filesystem keeps for root (as the FUSE server's threads give it up).
 */
public final class OverlayRebuild {
    /** The device name the rebuilt overlay shows in mountinfo, so doctor and tests can tell it. */
    public static final String SOURCE = "idshift-overlay";

    private OverlayRebuild() {
    }

    /** The detached overlay, its layers opened as this process sees their paths. */
    public static Fd build(OverlaySpec spec, LayerMaps maps, UsernsPool namespaces, boolean readonly) {
        return build(spec, OverlayLayers.asSeenHere(), maps, namespaces, readonly ? Linux.MOUNT_ATTR_RDONLY : 0);
    }

    /**
     * The detached overlay, each layer opened by {@code opener} (the daemon's checks each one for its
     * caller) and cloned from exactly that fd.
     *
     * @param attributes MOUNT_ATTR_* for the overlay's mount (RDONLY, NODEV ...)
     */
    public static Fd build(OverlaySpec spec, OverlayLayers opener, LayerMaps maps, UsernsPool namespaces, long attributes) {
        MountCalls mounts = MountCalls.kernel();
        List<Fd> layers = new ArrayList<>();
        try (Fd context = mounts.fsopen("overlay")) {
            String subject = "overlay " + spec.mountPoint();
            mounts.fsconfig(context.get(), Linux.FSCONFIG_SET_STRING, "source", SOURCE, subject);
            for (String lower : spec.lowers()) {
                Fd layer = layerClone(opener, lower, maps, namespaces);
                layers.add(layer);
                mounts.fsconfigFd(context.get(), "lowerdir+", layer.get(), subject + ": lower layer " + lower);
            }
            for (String data : spec.dataLayers()) {
                Fd layer = layerClone(opener, data, maps, namespaces);
                layers.add(layer);
                mounts.fsconfigFd(context.get(), "datadir+", layer.get(), subject + ": data layer " + data);
            }
            Owner creator = spec.upper() == null ? null : addUpper(context, spec, opener, maps, namespaces, layers, subject);
            // A refusal names the setting itself (fsconfig's failure carries its key and value).
            for (OverlaySpec.Setting setting : spec.settings()) {
                if (setting.value() == null) {
                    mounts.fsconfig(context.get(), Linux.FSCONFIG_SET_FLAG, setting.key(), null, subject);
                } else {
                    mounts.fsconfig(context.get(), Linux.FSCONFIG_SET_STRING, setting.key(), setting.value(), subject);
                }
            }
            if (creator == null && !opener.lessPrivilegedCaller()) {
                mounts.fsconfig(context.get(), Linux.FSCONFIG_CMD_CREATE, null, null, subject);
            } else {
                createAs(context, creator, opener.lessPrivilegedCaller(), subject);
            }
            return mounts.fsmount(context.get(), attributes | (spec.readonly() ? Linux.MOUNT_ATTR_RDONLY : 0), subject);
        } finally {
            // The overlay took its own clones of the layers; ours go.
            for (Fd layer : layers) {
                layer.close();
            }
        }
    }

    /**
     * Gives the overlay its upper and work dirs, reached through one idmapped clone of their common
     * parent (the clones go into {@code layers}, closed by the caller).
     *
     * @return the host ids to create the overlay as: those the upper dir's own owner maps to
     */
    private static Owner addUpper(Fd context, OverlaySpec spec, OverlayLayers opener, LayerMaps maps, UsernsPool namespaces,
                                  List<Fd> layers, String subject) {
        MountCalls mounts = MountCalls.kernel();
        String parent = commonParent(spec.upper(), spec.work());
        Fd upperChecked = opener.open(spec.upper());
        layers.add(upperChecked);
        Fd workChecked = opener.open(spec.work());
        layers.add(workChecked);
        Owner upperOwner = owner(upperChecked, spec.upper());
        MountMaps upperMaps = maps.of(spec.upper(), upperOwner);
        long creatorUid = upperMaps.uids().toOutside(upperOwner.uid());
        long creatorGid = upperMaps.gids().toOutside(upperOwner.gid());
        if (creatorUid < 0 || creatorGid < 0) {
            throw new UnsupportedException(subject + ": its upper dir " + spec.upper() + " is owned by on-disk "
                    + upperOwner.uid() + ":" + upperOwner.gid() + ", which the upper's map (" + upperMaps
                    + ") does not cover: the overlay's own files would have no owner");
        }
        Fd parentFd = opener.open(parent);
        layers.add(parentFd);
        Fd both = clone(parentFd, parent, upperMaps, namespaces);
        layers.add(both);
        Fd upper = beneath(both, parent, spec.upper(), upperChecked);
        layers.add(upper);
        Fd work = beneath(both, parent, spec.work(), workChecked);
        layers.add(work);
        mounts.fsconfigFd(context.get(), "upperdir", upper.get(), subject + ": upper dir " + spec.upper());
        mounts.fsconfigFd(context.get(), "workdir", work.get(), subject + ": work dir " + spec.work());
        return new Owner(creatorUid, creatorGid);
    }

    /**
     * FSCONFIG_CMD_CREATE on a thread of its own (credentials are per thread; the thread then ends),
     * whose credentials the overlay keeps as its mounter's: fsuid/fsgid those of {@code fsIds} (null:
     * left 0), and for a {@code lessPrivilegedCaller} without CAP_DAC_READ_SEARCH and CAP_SYS_RESOURCE
     * (see the class comment; CAP_DAC_OVERRIDE still lets the overlay read and search its layers).
     */
    private static void createAs(Fd context, Owner fsIds, boolean lessPrivilegedCaller, String subject) {
        String created = subject + (fsIds == null ? "" : " (created as fsuid " + fsIds.uid() + ")");
        RuntimeException[] failure = new RuntimeException[1];
        Thread creator = new Thread(new Runnable() {
            @Override
            public void run() {
                try {
                    MountCalls mounts = MountCalls.kernel();
                    Credentials credentials = Credentials.get();
                    if (fsIds != null) {
                        credentials.setFsIdsKeepingCapabilities(fsIds.uid(), fsIds.gid(), subject);
                    }
                    if (lessPrivilegedCaller) {
                        credentials.dropCapability(Linux.CAP_DAC_READ_SEARCH, subject);
                        credentials.dropCapability(Linux.CAP_SYS_RESOURCE, subject);
                    }
                    mounts.fsconfig(context.get(), Linux.FSCONFIG_CMD_CREATE, null, null, created);
                } catch (RuntimeException e) {
                    failure[0] = e;
                }
            }
        }, "idshift-overlay-creator");
        creator.start();
        try {
            creator.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InternalException("interrupted while creating " + subject, e);
        }
        if (failure[0] != null) {
            throw failure[0];
        }
    }

    /** The layer opened by {@code opener}, cloned (idmapped unless its maps are the identity) from that very fd. */
    private static Fd layerClone(OverlayLayers opener, String path, LayerMaps maps, UsernsPool namespaces) {
        try (Fd opened = opener.open(path)) {
            return clone(opened, path, maps.of(path, owner(opened, path)), namespaces);
        }
    }

    private static Fd clone(Fd opened, String path, MountMaps maps, UsernsPool namespaces) {
        if (maps.isIdentity()) {
            return IdmappedTrees.kernel().clone(opened, path);
        }
        return IdmappedTrees.kernel().cloneIdmapped(opened, path, namespaces.forMaps(maps).get(), false);
    }

    /**
     * An O_PATH fd of {@code path} reached through the clone of {@code parent}, so it is on that
     * mount; refused unless it is the very directory {@code checked} (what the opener opened and
     * checked for {@code path}): a path walked twice may not name the same thing twice.
     */
    private static Fd beneath(Fd clone, String parent, String path, Fd checked) {
        String relative = parent.equals(path) ? "." : Path.of(parent).relativize(Path.of(path)).toString();
        Fd found = new Fd(FileSyscalls.get().openat2(clone.get(), relative, Linux.O_PATH | Linux.O_DIRECTORY,
                Linux.RESOLVE_NO_XDEV | Linux.RESOLVE_BENEATH, path));
        if (!found.sameInode(checked)) {
            found.close();
            throw new KernelRefusedException("overlay layer " + path + " changed while the overlay was rebuilt; try again");
        }
        return found;
    }

    static String commonParent(String upper, String work) {
        Path common = Path.of(upper).getParent();
        Path other = Path.of(work);
        while (common != null && !other.startsWith(common)) {
            common = common.getParent();
        }
        return common == null ? "/" : common.toString();
    }

    private static Owner owner(Fd opened, String layer) {
        try {
            return Owner.of(Path.of("/proc/self/fd/" + opened.get()));
        } catch (IOException e) {
            throw new KernelRefusedException("overlay layer " + layer + ": cannot read its owner: " + e.getMessage(), e);
        }
    }
}
