package dev.idshift.backend.fuse;

import dev.idshift.idmap.IdMap;
import dev.idshift.sys.Linux;
import dev.idshift.sys.files.FileCalls;

/**
 * The server's half of FUSE_HANDLE_KILLPRIV_V2 (and of SETXATTR_EXT's ACL_KILL_SGID, {@link #killSgid}). With it the kernel stops asking for
 * security.capability before every write to a file it has checked once, and stops re-reading the
 * mode before a chown or truncate; in exchange the server clears setuid, and setgid where the group
 * may execute, whenever a request says the caller could not keep them (FUSE_WRITE_KILL_SUIDGID,
 * FATTR_KILL_SUIDGID, FUSE_OPEN_KILL_SUIDGID). The server acts as root, which keeps them, so this is
 * done here explicitly. Capabilities need nothing here: the source's kernel removes
 * security.capability on every write, truncate and chown, root's included.
 *
 * <p>setuid and setgid are cleared by the source's kernel, not set by a chmod from here: a chmod to
 * the mode read a moment before put back whatever the source's users changed in between (its owner's
 * chmod 0700 during a truncate through the view became 0777 again: FuseAttackTest).
 *
 * <p>A setgid file the group may not execute keeps its bit, as the protocol defines (it is a locking
 * mark, not a privilege); the kernel itself also drops it for a caller outside the file's group, which
 * the protocol cannot say (README, FUSE limits).
 */
final class PrivilegeKills {
    private static final int S_IXGRP = 0010;

    private final Attributes attributes;
    private final FileCalls calls = FileCalls.get();

    PrivilegeKills(Attributes attributes) {
        this.attributes = attributes;
    }

    /**
     * Clears setuid and group-executable setgid of the fd's inode (any fd, O_PATH too): 0 or minus an
     * errno. The stat only saves the call where there is nothing to clear (a setuid set after it is
     * set after this request too); the clearing is a chown to -1, -1, for which the source's kernel
     * takes the bits off the inode's mode as it is then, under its lock: setuid always, setgid where
     * the group may execute (this thread keeps CAP_FSETID, so never a setgid that is only a locking
     * mark, which lowering it would take for nearly every caller: its fsgid is the caller's host gid,
     * which is not the on-disk group a view shows as the caller's).
     * As a write, truncate or chown does, it also removes security.capability and sets ctime.
     */
    int killSuidSgid(int fd, RequestBuffers b) {
        int result = attributes.stat(fd, b.stat);
        if (result < 0) {
            return result;
        }
        int mode = attributes.mode(b.stat);
        boolean setuid = (mode & Linux.S_ISUID) != 0;
        boolean execSetgid = (mode & (Linux.S_ISGID | S_IXGRP)) == (Linux.S_ISGID | S_IXGRP);
        if (!(setuid || execSetgid) || (mode & Linux.S_IFMT) != Linux.S_IFREG) {
            return 0;
        }
        return calls.fchownat(fd, attributes.emptyString, IdMap.INVALID_ID, IdMap.INVALID_ID, Linux.AT_EMPTY_PATH);
    }

    /**
     * Clears setgid of the fd's inode after an access ACL was written for a caller who could not keep
     * it (FUSE_SETXATTR_ACL_KILL_SGID): whatever the group may execute and whatever the file type, as
     * the kernel's posix_acl_update_mode clears it. 0 or minus an errno.
     */
    int killSgid(int fd, RequestBuffers b) {
        int result = attributes.stat(fd, b.stat);
        if (result < 0) {
            return result;
        }
        int mode = attributes.mode(b.stat);
        if ((mode & Linux.S_ISGID) == 0 || (mode & Linux.S_IFMT) == Linux.S_IFLNK) {
            return 0;
        }
        return FdLinks.chmod(fd, mode & 07777 & ~Linux.S_ISGID, b);
    }
}
