package dev.idshift.backend.fuse;

import com.kenai.jffi.MemoryIO;
import dev.idshift.sys.Errno;
import dev.idshift.sys.Linux;
import dev.idshift.sys.files.FileCalls;
import dev.idshift.sys.files.FileSyscalls;
import dev.idshift.sys.files.StatxLayout;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The server's nodes: by the node id the kernel uses, and by the source's (device, inode), so every
 * name of a hard-linked file is the same node and so the same kernel inode (attributes, permissions
 * and link counts right through every name at once).
 *
 * <p>Lookup counts follow the protocol: each reply naming a node adds one, FORGET takes its count
 * back, and the node's fd (or handle) goes at zero. Nodes keep an O_PATH fd while the process has
 * fds to spare (the kernel may cache more inodes than the open-file limit allows); past that budget a
 * node on the source root's filesystem keeps its file handle instead, and each request on it opens it
 * (open_by_handle_at) and closes it again. Where the source has no file handles (an overlay without
 * nfs_export, as image stores mount them; other filesystems mounted inside the source), a node past
 * the budget keeps its place instead: its parent node and the name it was last looked up by there.
 * Each request opens that name from the parent (itself an fd, a handle or a place) and checks that it
 * is still the node's inode (ESTALE if not, as for a stale handle). A parent stays, with its fd, for as
 * long as a placed child needs it, even once the kernel has forgotten it. So a walk of any size holds
 * at most the budget's fds.
 */
final class NodeTable {
    /**
     * An inode's identity. A class, not a record: a record's equals/hashCode bootstrap (ObjectMethods)
     * spins method-handle classes on first use, ~40 ms cold on a server's start-up path (its root's
     * entry is the first), which no class-data archive holds.
     */
    private static final class Key {
        private final long device;
        private final long inode;

        Key(long device, long inode) {
            this.device = device;
            this.inode = inode;
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Key && ((Key) other).device == device && ((Key) other).inode == inode;
        }

        @Override
        public int hashCode() {
            return Long.hashCode(device) * 31 + Long.hashCode(inode);
        }
    }

    /** fds kept free for open files and directories, the device and the JVM. */
    private static final long RESERVED_FDS = 4096;
    private static final int MAX_HANDLE = 128;
    /** Places deeper than this (a chain of placed parents) are refused as stale: no cycle can loop. */
    private static final int MAX_PLACE_DEPTH = 4096;

    private final Map<Long, Node> byId = new ConcurrentHashMap<>();
    private final Map<Key, Node> byInode = new HashMap<>();
    private final FileCalls calls = FileCalls.get();
    private final MemoryIO memory = MemoryIO.getInstance();
    /** The source root opened for reading: open_by_handle_at takes no O_PATH fd for its mount. */
    private final int mountFd;
    private final long rootDevice;
    private final long fdBudget;
    /** Whether nodes past the budget may keep file handles (false: places only; tests). */
    private final boolean fileHandles;
    /** A native "" for AT_EMPTY_PATH, and the mount id name_to_handle_at writes (unused). */
    private final long scratch;
    private long nextId = FuseProtocol.ROOT_ID + 1;
    private long nodeFds;
    /** Whether any node ever kept a place (renames then update places); volatile: read without the lock. */
    private volatile boolean placesKept;

    /**
     * @param fdBudget    how many nodes may hold an fd; negative: the open-file limit less a reserve
     * @param fileHandles whether nodes past it keep file handles where the source has them (else places)
     */
    NodeTable(int rootFd, long rootDevice, long rootInode, long fdBudget, boolean fileHandles) {
        this.mountFd = FileSyscalls.get().open("/proc/self/fd/" + rootFd, Linux.O_RDONLY | Linux.O_DIRECTORY);
        this.rootDevice = rootDevice;
        this.fileHandles = fileHandles;
        long limit = calls.openFileLimit();
        this.fdBudget = fdBudget >= 0 ? fdBudget : Math.max(limit - RESERVED_FDS, limit / 2);
        this.scratch = memory.allocateMemory(16, true);
        Node root = new Node(FuseProtocol.ROOT_ID, rootFd, 0, rootDevice, rootInode);
        root.lookups = 1;  // the kernel holds the root without a lookup; never forgotten
        byId.put(root.id, root);
        synchronized (this) {
            byInode.put(new Key(rootDevice, rootInode), root);
        }
    }

    /** The node, or null if the kernel names one it was never given (or forgot). */
    Node get(long id) {
        return byId.get(id);
    }

    /**
     * The node for a looked-up source inode, one lookup more. {@code fd} (an O_PATH fd of it) becomes
     * the node's, or is closed if the inode already has a node or the node keeps a handle or a place.
     *
     * @param parent the directory node the inode was looked up (or made) in; null if none
     * @param name   its name there: NUL-terminated native memory
     */
    Node lookedUp(int fd, long device, long inode, Node parent, long name) {
        Key key = new Key(device, inode);
        synchronized (this) {
            Node node = byInode.get(key);
            if (node == null) {
                boolean pastBudget = nodeFds >= fdBudget;
                long handle = pastBudget && fileHandles && device == rootDevice ? handleOf(fd) : 0;
                if (handle != 0) {
                    node = new Node(nextId++, -1, handle, device, inode);
                } else if (pastBudget && parent != null) {
                    node = new Node(nextId++, -1, 0, device, inode);
                    place(node, parent, name);
                } else {
                    node = new Node(nextId++, fd, 0, device, inode);
                    nodeFds++;
                    fd = -1;
                }
                byInode.put(key, node);
                byId.put(node.id, node);
            } else if (node.place != null && parent != null) {
                place(node, parent, name);  // the name it was reached by last: the likeliest to still be one
            }
            node.lookups++;
            if (fd >= 0) {
                calls.close(fd);
            }
            return node;
        }
    }

    /** Under the lock: {@code node} is found again as {@code name} in {@code parent}. */
    private void place(Node node, Node parent, long name) {
        byte[] bytes = memory.getZeroTerminatedByteArray(name);
        Node.Place old = node.place;
        if (old != null && old.parent() == parent && java.util.Arrays.equals(old.name(), bytes)) {
            return;
        }
        parent.placed++;
        node.place = new Node.Place(parent, bytes);
        placesKept = true;
        if (old != null) {
            old.parent().placed--;
            if (releaseIfUnused(old.parent())) {
                letGo(old.parent());
            }
        }
    }

    /**
     * After a rename through the mount: a node that keeps a place and is now {@code name} in
     * {@code parent} is found there from now on. (A name removed or renamed on the source itself leaves
     * the node stale until the kernel looks it up again.)
     */
    void moved(Node parent, int parentFd, long name) {
        if (!placesKept) {
            return;
        }
        long stat = memory.allocateMemory(StatxLayout.SIZE, false);
        try {
            if (calls.statx(parentFd, name, Linux.AT_SYMLINK_NOFOLLOW, StatxLayout.BASIC_STATS, stat) < 0) {
                return;
            }
            Key key = new Key(deviceOf(stat), memory.getLong(stat + StatxLayout.INO));
            synchronized (this) {
                Node node = byInode.get(key);
                if (node != null && node.place != null) {
                    place(node, parent, name);
                }
            }
        } finally {
            memory.freeMemory(stat);
        }
    }

    private long deviceOf(long stat) {
        return (Integer.toUnsignedLong(memory.getInt(stat + StatxLayout.DEV_MAJOR)) << 32)
                | Integer.toUnsignedLong(memory.getInt(stat + StatxLayout.DEV_MINOR));
    }

    /** A malloc'd struct file_handle of {@code fd}'s inode, or 0 if its filesystem has none. */
    private long handleOf(int fd) {
        long handle = memory.allocateMemory(8 + MAX_HANDLE, true);
        memory.putInt(handle, MAX_HANDLE);
        if (calls.nameToHandle(fd, scratch + 8, handle, scratch) < 0) {
            memory.freeMemory(handle);
            return 0;
        }
        return handle;
    }

    /** An O_PATH fd of the node's inode for one request (give it back with {@link #unpin}), or minus an errno. */
    int pin(Node node) {
        return pin(node, 0);
    }

    private int pin(Node node, int depth) {
        if (node.fd >= 0) {
            return node.fd;
        }
        if (node.handle != 0) {
            int fd = calls.openByHandle(mountFd, node.handle, Linux.O_PATH);
            return fd == -Errno.ENOENT ? -Errno.ESTALE : fd;
        }
        return reopen(node, depth);
    }

    /** A node with a place: its name opened in its parent (pinned in turn), if that is still its inode. */
    private int reopen(Node node, int depth) {
        Node.Place place;
        synchronized (this) {
            place = node.place;
        }
        if (place == null || depth > MAX_PLACE_DEPTH) {
            return -Errno.ESTALE;
        }
        Node parent = place.parent();
        int parentFd = pin(parent, depth + 1);
        if (parentFd < 0) {
            return parentFd;
        }
        byte[] name = place.name();
        // struct statx, then the name (NUL-terminated); "" for AT_EMPTY_PATH is its last byte.
        long stat = memory.allocateMemory(StatxLayout.SIZE + name.length + 1, false);
        long path = stat + StatxLayout.SIZE;
        try {
            memory.putZeroTerminatedByteArray(path, name, 0, name.length);
            int fd = calls.openat(parentFd, path, Linux.O_PATH | Linux.O_NOFOLLOW, 0);
            if (fd < 0) {
                return fd == -Errno.ENOENT ? -Errno.ESTALE : fd;
            }
            if (calls.statx(fd, path + name.length, Linux.AT_EMPTY_PATH, StatxLayout.BASIC_STATS, stat) < 0
                    || deviceOf(stat) != node.device || memory.getLong(stat + StatxLayout.INO) != node.inode) {
                calls.close(fd);
                return -Errno.ESTALE;  // another inode has that name now
            }
            return fd;
        } finally {
            memory.freeMemory(stat);
            unpin(parent, parentFd);
        }
    }

    void unpin(Node node, int fd) {
        if (node.fd < 0) {
            calls.close(fd);
        }
    }

    /** FORGET: {@code count} lookups fewer; at none the node goes with its fd or handle (once no placed child needs it). */
    void forget(long id, long count) {
        Node gone;
        synchronized (this) {
            Node node = byId.get(id);
            if (node == null || node.id == FuseProtocol.ROOT_ID) {
                return;
            }
            node.lookups -= count;
            gone = releaseIfUnused(node) ? node : null;
        }
        if (gone != null) {
            letGo(gone);  // outside the lock
        }
    }

    /**
     * Under the lock: drops a node neither the kernel nor a placed child needs any more (its fd or
     * handle is the caller's to let go), and then, with theirs, parents only it kept.
     *
     * @return whether {@code node} was dropped
     */
    private boolean releaseIfUnused(Node node) {
        if (!unused(node)) {
            return false;
        }
        Node child = node;
        while (true) {
            byId.remove(child.id);
            byInode.remove(new Key(child.device, child.inode));
            if (child.fd >= 0) {
                nodeFds--;
            }
            Node.Place place = child.place;
            if (child != node) {
                letGo(child);
            }
            if (place == null) {
                return true;
            }
            place.parent().placed--;
            if (!unused(place.parent())) {
                return true;
            }
            child = place.parent();
        }
    }

    private boolean unused(Node node) {
        return node.id != FuseProtocol.ROOT_ID && node.lookups <= 0 && node.placed == 0 && byId.get(node.id) == node;
    }

    private void letGo(Node node) {
        if (node.fd >= 0) {
            calls.close(node.fd);
        } else if (node.handle != 0) {
            memory.freeMemory(node.handle);
        }
    }
}
