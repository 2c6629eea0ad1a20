package dev.idshift.sys.mounts;

import com.kenai.jffi.MemoryIO;
import dev.idshift.sys.Fd;
import dev.idshift.sys.Linux;
import dev.idshift.sys.NativeMemory;
import dev.idshift.sys.SyscallTable;
import dev.idshift.sys.Syscalls;

/** {@link MountCalls} as the kernel answers them. */
final class KernelMountCalls implements MountCalls {
    static final KernelMountCalls INSTANCE = new KernelMountCalls();

    private KernelMountCalls() {
    }

    private static Syscalls sys() {
        return Syscalls.get();
    }

    @Override
    public Fd openTree(int dirfd, String path, int flags, String subject) {
        long cpath = NativeMemory.cString(path);
        try {
            return new Fd((int) sys().checked(SyscallTable.OPEN_TREE, dirfd, cpath, flags, 0, 0, "open_tree", subject));
        } finally {
            NativeMemory.free(cpath);
        }
    }

    @Override
    public void mountSetattr(int dirfd, String path, int flags, long attrSet, long attrClr, long propagation, long usernsFd,
                             String subject) {
        MemoryIO memory = NativeMemory.io();
        long cpath = NativeMemory.cString(path);
        long attr = NativeMemory.allocate(32, true);
        try {
            memory.putLong(attr, attrSet);
            memory.putLong(attr + 8, attrClr);
            memory.putLong(attr + 16, propagation);
            memory.putLong(attr + 24, usernsFd);
            sys().checked(SyscallTable.MOUNT_SETATTR, dirfd, cpath, flags, attr, 32, "mount_setattr", subject);
        } finally {
            NativeMemory.free(attr);
            NativeMemory.free(cpath);
        }
    }

    @Override
    public void moveMount(int fromDirfd, String fromPath, int toDirfd, String toPath, int flags, String subject) {
        long cfrom = NativeMemory.cString(fromPath);
        long cto = NativeMemory.cString(toPath);
        try {
            sys().checked(SyscallTable.MOVE_MOUNT, fromDirfd, cfrom, toDirfd, cto, flags, "move_mount", subject);
        } finally {
            NativeMemory.free(cto);
            NativeMemory.free(cfrom);
        }
    }

    @Override
    public Fd fsopen(String fsName) {
        long cname = NativeMemory.cString(fsName);
        try {
            return new Fd((int) sys().checked(SyscallTable.FSOPEN, cname, Linux.FSOPEN_CLOEXEC, 0, 0, 0, "fsopen", fsName));
        } finally {
            NativeMemory.free(cname);
        }
    }

    @Override
    public void fsconfig(int fd, int command, String key, String value, String subject) {
        long ckey = NativeMemory.cString(key);
        long cvalue = NativeMemory.cString(value);
        try {
            sys().checked(SyscallTable.FSCONFIG, fd, command, ckey, cvalue, 0, "fsconfig", subject, setting(command, key, value));
        } finally {
            NativeMemory.free(cvalue);
            NativeMemory.free(ckey);
        }
    }

    @Override
    public void fsconfigFd(int fd, String key, int valueFd, String subject) {
        long ckey = NativeMemory.cString(key);
        try {
            sys().checked(SyscallTable.FSCONFIG, fd, Linux.FSCONFIG_SET_FD, ckey, 0, valueFd, "fsconfig", subject, key + "=fd");
        } finally {
            NativeMemory.free(ckey);
        }
    }

    /** What one fsconfig call sets, as its failure names it: "key=value", the flag's key, or the command. */
    static String setting(int command, String key, String value) {
        switch (command) {
            case Linux.FSCONFIG_SET_FLAG:
                return key;
            case Linux.FSCONFIG_SET_STRING:
                return key + "=" + value;
            case Linux.FSCONFIG_CMD_CREATE:
                return "create";
            default:
                return "command " + command + (key == null ? "" : " " + key) + (value == null ? "" : "=" + value);
        }
    }

    @Override
    public Fd fsmount(int fd, long attrFlags, String subject) {
        return new Fd((int) sys().checked(SyscallTable.FSMOUNT, fd, Linux.FSMOUNT_CLOEXEC, attrFlags, 0, 0, "fsmount", subject));
    }

    @Override
    public void umount2(String target, int flags) {
        long ctarget = NativeMemory.cString(target);
        try {
            sys().checked(SyscallTable.UMOUNT2, ctarget, flags, 0, 0, 0, "umount", target);
        } finally {
            NativeMemory.free(ctarget);
        }
    }
}
