package dev.idshift.sys.mounts;

import dev.idshift.sys.Fd;
import dev.idshift.sys.SyscallException;

/**
 * The mount calls, behind an interface so that the code planning mounts (which tree is cloned,
 * idmapped, moved where, in what order, and what is closed on failure) can be tested without root
 * against a recording fake. {@link #kernel()} is the real one. Every failure is a
 * {@link SyscallException} naming the call, the path (or what the caller calls {@code subject})
 * and the errno.
 *
 * <p>A call that makes a mount object hands back an {@link Fd} the caller owns: a detached tree
 * vanishes when its last fd is closed, so a failure part-way leaves nothing mounted.
 */
public interface MountCalls {
    /** The kernel's mount calls (no state; the native layer loads on first use). */
    static MountCalls kernel() {
        return KernelMountCalls.INSTANCE;
    }

    /** open_tree(2): the mount at {@code path} (OPEN_TREE_CLONE: a detached copy of it). */
    Fd openTree(int dirfd, String path, int flags, String subject);

    /** mount_setattr(2) with struct mount_attr { attr_set, attr_clr, propagation, userns_fd }. */
    void mountSetattr(int dirfd, String path, int flags, long attrSet, long attrClr, long propagation, long usernsFd,
                      String subject);

    /** move_mount(2): attaches (or moves) a mount. */
    void moveMount(int fromDirfd, String fromPath, int toDirfd, String toPath, int flags, String subject);

    /** fsopen(2), close-on-exec: a filesystem context to configure. */
    Fd fsopen(String fsName);

    /** fsconfig(2) with a string value (or none: FSCONFIG_SET_FLAG, FSCONFIG_CMD_CREATE). */
    void fsconfig(int fd, int command, String key, String value, String subject);

    /** fsconfig(fd, FSCONFIG_SET_FD, key, NULL, valueFd): a layer given as an open directory (overlayfs 6.13+). */
    void fsconfigFd(int fd, String key, int valueFd, String subject);

    /** fsmount(2), close-on-exec: the configured filesystem as a detached mount. */
    Fd fsmount(int fd, long attrFlags, String subject);

    /** umount2(2). */
    void umount2(String target, int flags);
}
