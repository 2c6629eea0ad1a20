package dev.idshift.backend.kernel;

import dev.idshift.sys.Fd;
import dev.idshift.sys.Errno;
import dev.idshift.sys.Linux;
import dev.idshift.sys.SyscallException;
import dev.idshift.sys.files.FileSyscalls;
import dev.idshift.sys.mounts.MountCalls;
import java.util.List;

/**
 * Re-applies a config's {@code linux.maskedPaths} and {@code linux.readonlyPaths} to a rootfs, the
 * way crun does: masked files get a read-only bind of /dev/null, masked directories an empty
 * read-only tmpfs (size=0k); read-only paths are bind-mounted onto themselves read-only.
 *
 * <p>Needed where the runtime applies them after our hook through a rootfs fd it opened before
 * (crun): those mounts land under the tree we stacked, where the container never sees them.
 *
 * <p>Every path is resolved with openat2(RESOLVE_IN_ROOT) beneath the rootfs and mounted onto by fd,
 * so a symlink in the image cannot redirect a mount onto the host. Missing paths are skipped, as
 * the runtimes skip them.
 *
 * @param readonlyPaths   paths inside the container to make read-only
 * @param maskedPaths     paths inside the container to hide
 * @param tmpfsOwnerUid   host uid owning a masking tmpfs: the container's root, as if it had made it
 * @param tmpfsOwnerGid   host gid likewise
 */
public record ProtectedPaths(List<String> readonlyPaths, List<String> maskedPaths, long tmpfsOwnerUid, long tmpfsOwnerGid) {

    public static final ProtectedPaths NONE = new ProtectedPaths(List.of(), List.of(), 0, 0);

    public boolean isEmpty() {
        return readonlyPaths.isEmpty() && maskedPaths.isEmpty();
    }

    /**
     * Applies them under {@code rootfs}, in the calling thread's mount namespace.
     *
     * @param mounts the calls the mounts are made with (the kernel's, or a recording fake in tests)
     */
    public void applyUnder(String rootfs, MountCalls mounts) {
        try (Fd root = new Fd(FileSyscalls.get().open(rootfs, Linux.O_PATH | Linux.O_DIRECTORY))) {
            // crun's order: masks first, then read-only paths.
            for (String path : maskedPaths) {
                mask(root, path, mounts);
            }
            for (String path : readonlyPaths) {
                try (Fd target = resolve(root, path, false)) {
                    if (target != null) {
                        makeReadonly(target, path, mounts);
                    }
                }
            }
        }
    }

    private static void makeReadonly(Fd target, String path, MountCalls mounts) {
        int flags = Linux.OPEN_TREE_CLONE | Linux.OPEN_TREE_CLOEXEC | Linux.AT_EMPTY_PATH | Linux.AT_RECURSIVE;
        try (Fd clone = mounts.openTree(target.get(), "", flags, path)) {
            mounts.mountSetattr(clone.get(), "", Linux.AT_EMPTY_PATH | Linux.AT_RECURSIVE, Linux.MOUNT_ATTR_RDONLY, 0, 0, 0, path);
            mounts.moveMount(clone.get(), "", target.get(), "", Linux.MOVE_MOUNT_F_EMPTY_PATH | Linux.MOVE_MOUNT_T_EMPTY_PATH, path);
        }
    }

    private void mask(Fd root, String path, MountCalls mounts) {
        try (Fd directory = resolve(root, path, true)) {
            if (directory != null) {
                try (Fd tmpfs = emptyReadonlyTmpfs(path, mounts)) {
                    mounts.moveMount(tmpfs.get(), "", directory.get(), "", Linux.MOVE_MOUNT_F_EMPTY_PATH | Linux.MOVE_MOUNT_T_EMPTY_PATH, path);
                }
                return;
            }
        } catch (SyscallException e) {
            if (e.errno() != Errno.ENOTDIR) {
                throw e;
            }
        }
        try (Fd file = resolve(root, path, false)) {
            if (file != null) {
                try (Fd devNull = mounts.openTree(Linux.AT_FDCWD, "/dev/null", Linux.OPEN_TREE_CLONE | Linux.OPEN_TREE_CLOEXEC, "/dev/null")) {
                    mounts.mountSetattr(devNull.get(), "", Linux.AT_EMPTY_PATH, Linux.MOUNT_ATTR_RDONLY, 0, 0, 0, path);
                    mounts.moveMount(devNull.get(), "", file.get(), "", Linux.MOVE_MOUNT_F_EMPTY_PATH | Linux.MOVE_MOUNT_T_EMPTY_PATH, path);
                }
            }
        }
    }

    private Fd emptyReadonlyTmpfs(String path, MountCalls mounts) {
        try (Fd context = mounts.fsopen("tmpfs")) {
            // As the runtimes mount it: source "tmpfs", size=0k, owned by the container's root.
            mounts.fsconfig(context.get(), Linux.FSCONFIG_SET_STRING, "source", "tmpfs", path);
            mounts.fsconfig(context.get(), Linux.FSCONFIG_SET_STRING, "size", "0k", path);
            mounts.fsconfig(context.get(), Linux.FSCONFIG_SET_STRING, "uid", String.valueOf(tmpfsOwnerUid), path);
            mounts.fsconfig(context.get(), Linux.FSCONFIG_SET_STRING, "gid", String.valueOf(tmpfsOwnerGid), path);
            mounts.fsconfig(context.get(), Linux.FSCONFIG_CMD_CREATE, null, null, path);
            return mounts.fsmount(context.get(), Linux.MOUNT_ATTR_RDONLY, path);
        }
    }

    /** An O_PATH fd for {@code path} beneath {@code root}, or null if it does not exist. */
    private static Fd resolve(Fd root, String path, boolean directory) {
        // Symlinks may be followed: RESOLVE_IN_ROOT keeps them inside the rootfs, as the container would see them.
        long flags = Linux.O_PATH | (directory ? Linux.O_DIRECTORY : 0);
        try {
            return new Fd(FileSyscalls.get().openat2(root.get(), path, flags,
                    Linux.RESOLVE_IN_ROOT | Linux.RESOLVE_NO_MAGICLINKS, path));
        } catch (SyscallException e) {
            if (e.errno() == Errno.ENOENT) {
                return null;
            }
            throw e;
        }
    }
}
