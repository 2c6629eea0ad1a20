package dev.idshift.backend.fuse;

import dev.idshift.backend.MountAccess;
import dev.idshift.sys.Fd;
import dev.idshift.sys.Linux;
import dev.idshift.sys.SyscallException;
import dev.idshift.sys.Syscalls;
import dev.idshift.sys.files.FileCalls;
import dev.idshift.sys.files.FileSyscalls;
import dev.idshift.sys.mounts.MountCalls;
import com.kenai.jffi.MemoryIO;

/**
 * A FUSE connection made without libfuse: /dev/fuse opened, a fuse superblock created on it with the
 * new mount API (fd=, rootmode=, allow_other, default_permissions) and attached at the target, and
 * more fds on the same connection (FUSE_DEV_IOC_CLONE) so several threads read requests at once.
 */
final class FuseDevice {
    private final int fd;

    private FuseDevice(int fd) {
        this.fd = fd;
    }

    int fd() {
        return fd;
    }

    /**
     * Mounts a new FUSE filesystem at {@code target}; its requests arrive on the returned device.
     *
     * @param fsName the name mountinfo shows as the mount's source
     */
    static FuseDevice mount(String target, String fsName, MountAccess access) {
        MountCalls mounts = MountCalls.kernel();
        int device = FileSyscalls.get().open("/dev/fuse", Linux.O_RDWR);
        try (Fd context = mounts.fsopen("fuse")) {
            int fs = context.get();
            mounts.fsconfig(fs, Linux.FSCONFIG_SET_STRING, "source", fsName, target);
            mounts.fsconfig(fs, Linux.FSCONFIG_SET_STRING, "subtype", "idshift", target);
            mounts.fsconfig(fs, Linux.FSCONFIG_SET_STRING, "fd", Integer.toString(device), target);
            mounts.fsconfig(fs, Linux.FSCONFIG_SET_STRING, "rootmode", "40000", target);
            mounts.fsconfig(fs, Linux.FSCONFIG_SET_STRING, "user_id", "0", target);
            mounts.fsconfig(fs, Linux.FSCONFIG_SET_STRING, "group_id", "0", target);
            // allow_other: the container's users, not only the mounter, see it; default_permissions:
            // the kernel checks access (with FUSE_POSIX_ACL, ACLs too) on the shifted ids we report.
            mounts.fsconfig(fs, Linux.FSCONFIG_SET_FLAG, "allow_other", null, target);
            mounts.fsconfig(fs, Linux.FSCONFIG_SET_FLAG, "default_permissions", null, target);
            if (access.readonly()) {
                mounts.fsconfig(fs, Linux.FSCONFIG_SET_FLAG, "ro", null, target);
            }
            mounts.fsconfig(fs, Linux.FSCONFIG_CMD_CREATE, null, null, target);
            // suid and dev only where asked (a container's rootfs), not on views people reach.
            try (Fd mount = mounts.fsmount(fs, access.kernelAttributes(), target)) {
                mounts.moveMount(mount.get(), "", Linux.AT_FDCWD, target, Linux.MOVE_MOUNT_F_EMPTY_PATH, target);
            }
            return new FuseDevice(device);
        } catch (RuntimeException e) {
            Syscalls.get().close(device);
            throw e;
        }
    }

    /** Another fd on the same connection: requests read from it are answered on it. */
    FuseDevice cloned() {
        Syscalls sys = Syscalls.get();
        int clone = FileSyscalls.get().open("/dev/fuse", Linux.O_RDWR);
        MemoryIO memory = MemoryIO.getInstance();
        long original = memory.allocateMemory(4, true);
        try {
            memory.putInt(original, fd);
            long result = FileCalls.get().ioctl(clone, FuseProtocol.DEV_IOC_CLONE, original);
            if (result < 0) {
                sys.close(clone);
                throw new SyscallException("ioctl(FUSE_DEV_IOC_CLONE)", "/dev/fuse", (int) -result);
            }
            return new FuseDevice(clone);
        } finally {
            memory.freeMemory(original);
        }
    }

    void close() {
        Syscalls.get().close(fd);
    }
}
