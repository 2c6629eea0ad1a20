package dev.idshift.backend.fuse;

import com.kenai.jffi.MemoryIO;
import dev.idshift.sys.Errno;
import dev.idshift.sys.Linux;
import dev.idshift.sys.credentials.Credentials;
import dev.idshift.sys.files.FileCalls;
import java.io.ByteArrayOutputStream;

/**
 * The xattr requests, by the node's /proc/self/fd link (the xattr calls take no O_PATH fd), or, for
 * reads, by the fd of its open file while it has one: values that carry ids (ACLs, capabilities)
 * translated both ways ({@link XattrIds}), others as they are.
 */
final class Xattrs {
    /** The names only a caller with CAP_SYS_ADMIN sees listed. */
    private static final byte[] TRUSTED = "trusted.".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final String[] ID_CARRYING = XattrIds.WITH_IDS.toArray(new String[0]);
    private static final byte[][] ID_CARRYING_BYTES = XattrIds.WITH_IDS.stream()
            .map(name -> name.getBytes(java.nio.charset.StandardCharsets.US_ASCII)).toArray(byte[][]::new);

    /** Room for a capability (20 or 24 bytes) and an ACL of up to 30 entries; larger ones are read again. */
    private static final int FIRST_READ = 256;

    private final IdTranslation ids;
    private final PrivilegeKills kills;
    private final FileCalls calls = FileCalls.get();
    private final MemoryIO memory = MemoryIO.getInstance();

    Xattrs(IdTranslation ids, PrivilegeKills kills) {
        this.ids = ids;
        this.kills = kills;
    }

    /**
     * GETXATTR, by the fd of the node's open file if it has one (the kernel asks for security.capability
     * before a file's first write, so while it is open: fgetxattr 0.7 us, against 3.3 us by a /proc link
     * already looked up and more for a node fd's first), else by its O_PATH fd's /proc link.
     */
    int get(Node node, int nodeFd, int size, long name, RequestBuffers b, long out) {
        String translated = idCarrying(name);
        long length;
        if (translated == null) {
            length = getxattr(node, nodeFd, name, size == 0 ? 0 : out, size, b);
        } else {
            // Read whole: the translated value may differ in length (a v2 capability shown as v3). A
            // small room first: the kernel zeroes a buffer of the size asked for (64 KiB: 1.4 us of
            // each GETXATTR of security.capability, asked before a new file's first write).
            length = getxattr(node, nodeFd, name, b.dirents, FIRST_READ, b);
            if (length == -Errno.ERANGE) {
                length = getxattr(node, nodeFd, name, b.dirents, RequestBuffers.DIRENTS, b);
            }
            if (length > 0) {
                byte[] stored = new byte[(int) length];
                memory.getByteArray(b.dirents, stored, 0, stored.length);
                byte[] shown;
                try {
                    shown = XattrIds.toHost(translated, stored, ids);
                } catch (XattrIds.Untranslatable e) {
                    return -e.errno();
                }
                length = shown.length;
                if (size != 0) {
                    if (shown.length > size) {
                        return -Errno.ERANGE;
                    }
                    memory.putByteArray(out, shown, 0, shown.length);
                }
            }
        }
        return reply(length, size, out);
    }

    /**
     * getxattr of the node's inode: through its open file while it has one, under the node's lock
     * (RELEASE takes it before it closes that fd, so a released fd number reused by another open is
     * never read through), else by its O_PATH fd's /proc link.
     */
    private long getxattr(Node node, int nodeFd, long name, long value, long size, RequestBuffers b) {
        synchronized (node) {
            if (node.openFd >= 0) {
                return calls.fgetxattr(node.openFd, name, value, size);
            }
        }
        return calls.getxattr(b.procPath(nodeFd), name, value, size);
    }

    /**
     * LISTXATTR. The server lists with its own capabilities, so the source lists {@code trusted.*}
     * names to it; they are left out unless the caller holds CAP_SYS_ADMIN over the host, as the source
     * filesystem leaves them out for its own callers without it (a container's root listed the names
     * of trusted.overlay.* and other trusted attributes it may not read; host root with CAP_SYS_ADMIN
     * dropped listed them too). The caller's capabilities are looked up only for a list that has one.
     */
    int list(Node node, int nodeFd, int size, RequestBuffers b, long out) {
        long length = listxattr(node, nodeFd, b);
        if (length < 0) {
            return reply(length, size, out);
        }
        byte[] names = new byte[(int) length];
        memory.getByteArray(b.dirents, names, 0, names.length);
        ByteArrayOutputStream shown = new ByteArrayOutputStream(names.length);
        boolean trustedSeen = false;
        for (int start = 0, end; start < names.length; start = end + 1) {
            end = start;
            while (end < names.length && names[end] != 0) {
                end++;
            }
            if (startsWith(names, start, TRUSTED)) {
                trustedSeen = true;
            } else {
                shown.write(names, start, Math.min(end + 1, names.length) - start);
            }
        }
        byte[] listed = trustedSeen && CallerCapabilities.sysAdmin(memory.getInt(b.request + FuseProtocol.IN_PID),
                Integer.toUnsignedLong(memory.getInt(b.request + FuseProtocol.IN_UID)),
                Integer.toUnsignedLong(memory.getInt(b.request + FuseProtocol.IN_GID))) ? names : shown.toByteArray();
        if (size != 0) {
            if (listed.length > size) {
                return -Errno.ERANGE;
            }
            memory.putByteArray(out, listed, 0, listed.length);
        }
        return reply(listed.length, size, out);
    }

    /** The node's whole list of names into {@code b.dirents}, as {@link #getxattr} reads a value. */
    private long listxattr(Node node, int nodeFd, RequestBuffers b) {
        synchronized (node) {
            if (node.openFd >= 0) {
                return calls.flistxattr(node.openFd, b.dirents, RequestBuffers.DIRENTS);
            }
        }
        return calls.listxattr(b.procPath(nodeFd), b.dirents, RequestBuffers.DIRENTS);
    }

    private static boolean startsWith(byte[] names, int start, byte[] prefix) {
        if (names.length - start < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (names[start + i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * SETXATTR. An ACL keeps the entries on disk that the view could not show (unmapped ids,
     * {@link XattrIds#withUnshownEntries}): read, then written, two calls on the node's own inode
     * (its /proc/self/fd link, not a path a rename could swap). Writers through this view cannot come
     * between them: the kernel holds the inode's lock over setxattr and chmod until we answer. A writer
     * elsewhere (on the source, through another view of it) that changes an unmapped entry between the
     * two has that change undone, the lost update of any two read-modify-writes of one ACL (setfacl
     * itself reads and writes in two calls); what is written for those ids is still what the disk
     * held a moment before, never anything the caller chose.
     *
     * <p>{@code aclKillSgid} (FUSE_SETXATTR_ACL_KILL_SGID): the caller of an access ACL write is neither
     * in the file's group nor holds CAP_FSETID over it. The source's kernel clears setgid for such a
     * caller as it writes the ACL (posix_acl_update_mode, under the source inode's lock), but it checks
     * this server's thread: so the thread writes it without CAP_FSETID in its effective set, as the
     * caller's host fsgid. Only if this process's supplementary groups hold the file's group is setgid
     * left, and cleared here afterwards: a stat and a chmod, which a writer on the source (not
     * through this view, whose kernel holds the inode's lock until we answer) can come between and
     * have its own write's setuid clearing undone (seen: ~1 in 130 ACL writes when it was the only way).
     */
    int set(int nodeFd, int size, int flags, long name, boolean aclKillSgid, RequestBuffers b) {
        long value = name + memory.getStringLength(name) + 1;
        long path = b.procPath(nodeFd);
        String translated = idCarrying(name);
        if (translated == null) {
            return calls.setxattr(path, name, value, size, flags);
        }
        if (size > RequestBuffers.DIRENTS) {
            return -Errno.E2BIG;
        }
        byte[] written = new byte[size];
        memory.getByteArray(value, written, 0, size);
        byte[] stored;
        try {
            stored = XattrIds.toDisk(translated, written, ids);
            if (XattrIds.isAcl(translated)) {
                long current = calls.getxattr(path, name, b.dirents, RequestBuffers.DIRENTS);
                if (current < 0 && current != -Errno.ENODATA) {
                    return (int) current;  // not knowing what the disk has, dropping nothing by writing
                }
                byte[] onDisk = null;
                if (current >= 0) {
                    onDisk = new byte[(int) current];
                    memory.getByteArray(b.dirents, onDisk, 0, onDisk.length);
                }
                stored = XattrIds.withUnshownEntries(stored, onDisk, ids);
            }
        } catch (XattrIds.Untranslatable e) {
            return -e.errno();
        }
        if (stored.length > RequestBuffers.DIRENTS) {
            return -Errno.E2BIG;
        }
        memory.putByteArray(b.dirents, stored, 0, stored.length);
        if (!aclKillSgid || !XattrIds.ACL_ACCESS.equals(translated)) {
            return calls.setxattr(path, name, b.dirents, stored.length, flags);
        }
        Credentials credentials = Credentials.get();
        credentials.lowerEffective(Linux.CAP_FSETID, "an access ACL's writer outside the file's group");
        int result;
        try {
            result = calls.setxattr(path, name, b.dirents, stored.length, flags);
        } finally {
            credentials.raiseEffective("a FUSE server thread");
        }
        return result == 0 ? kills.killSgid(nodeFd, b) : result;
    }

    int remove(int nodeFd, long name, RequestBuffers b) {
        return calls.removexattr(b.procPath(nodeFd), name);
    }

    /**
     * The xattr name as a String if its value carries ids (ACLs, capabilities), else null. Compared
     * as bytes, no String made: the kernel asks for security.capability before every write.
     */
    private String idCarrying(long name) {
        for (int i = 0; i < ID_CARRYING.length; i++) {
            if (equalsName(name, ID_CARRYING_BYTES[i])) {
                return ID_CARRYING[i];
            }
        }
        return null;
    }

    /** Whether the NUL-terminated name at {@code name} is {@code bytes}. */
    private boolean equalsName(long name, byte[] bytes) {
        for (int i = 0; i < bytes.length; i++) {
            if (memory.getByte(name + i) != bytes[i]) {
                return false;
            }
        }
        return memory.getByte(name + bytes.length) == 0;
    }

    /**
     * GETXATTR/LISTXATTR's reply: an errno as is; for a size query (size 0), a fuse_getxattr_out
     * holding the length; else the length of the value already written to {@code out}.
     */
    private int reply(long length, int size, long out) {
        if (length < 0) {
            return (int) length;
        }
        if (size == 0) {
            memory.putInt(out, (int) length);
            memory.putInt(out + 4, 0);
            return 8;
        }
        return (int) length;
    }
}
