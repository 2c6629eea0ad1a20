package dev.idshift.backend.fuse;

import dev.idshift.sys.Linux;

/**
 * The server's half of FUSE_HANDLE_KILLPRIV_V2 (and of SETXATTR_EXT's ACL_KILL_SGID, {@link #killSgid}). With it the kernel stops asking for
 * security.capability before every write to a file it has checked once, and stops re-reading the
 * mode before a chown or truncate; in exchange the server clears setuid, and setgid where the group
 * may execute, whenever a request says the caller could not keep them (FUSE_WRITE_KILL_SUIDGID,
 * FATTR_KILL_SUIDGID, FUSE_OPEN_KILL_SUIDGID). The server acts as root, which keeps them, so this is
 * done here explicitly. Capabilities need nothing here: the source's kernel removes
 * security.capability on every write, truncate and chown, root's included.
 *
 * <p>A setgid file the group may not execute keeps its bit, as the protocol defines (it is a locking
 * mark, not a privilege); the kernel itself also drops it for a caller outside the file's group, which
 * the protocol cannot say (README, FUSE limits).
 */
final class PrivilegeKills {
    private static final int S_IXGRP = 0010;

    private final Attributes attributes;

    PrivilegeKills(Attributes attributes) {
        this.attributes = attributes;
    }

    /** Clears setuid and group-executable setgid of the fd's inode (any fd, O_PATH too): 0 or minus an errno. */
    int killSuidSgid(int fd, RequestBuffers b) {
        int result = attributes.stat(fd, b.stat);
        if (result < 0) {
            return result;
        }
        int mode = attributes.mode(b.stat);
        int kill = mode & Linux.S_ISUID;
        if ((mode & (Linux.S_ISGID | S_IXGRP)) == (Linux.S_ISGID | S_IXGRP)) {
            kill |= Linux.S_ISGID;
        }
        if (kill == 0 || (mode & Linux.S_IFMT) != Linux.S_IFREG) {
            return 0;
        }
        return FdLinks.chmod(fd, mode & 07777 & ~kill, b);
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
