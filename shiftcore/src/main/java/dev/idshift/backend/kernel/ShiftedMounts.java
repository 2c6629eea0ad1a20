package dev.idshift.backend.kernel;

import dev.idshift.sys.Fd;
import dev.idshift.backend.MountAccess;
import dev.idshift.sys.Linux;
import dev.idshift.sys.mounts.MountCalls;

/** Shifted mounts for people (shiftfs-style), in the caller's mount namespace; made by shift.Shifter. */
public final class ShiftedMounts {
    private ShiftedMounts() {
    }

    /**
     * Sets nosuid/nodev on a detached tree before it is attached, as {@code access} asks: the view
     * never appears, not even for a moment, with more than was asked for.
     */
    public static void restrict(Fd tree, MountAccess access, String subject) {
        long attributes = access.kernelAttributes() & (Linux.MOUNT_ATTR_NOSUID | Linux.MOUNT_ATTR_NODEV);
        if (attributes != 0) {
            MountCalls.kernel().mountSetattr(tree.get(), "", Linux.AT_EMPTY_PATH, attributes, 0, 0, 0, subject);
        }
    }

    public static void unmount(String target, boolean lazy) {
        MountCalls.kernel().umount2(target, lazy ? Linux.MNT_DETACH : 0);
    }
}
