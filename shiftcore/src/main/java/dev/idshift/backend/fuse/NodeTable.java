package dev.idshift.backend.fuse;

import com.kenai.jffi.MemoryIO;
import dev.idshift.sys.Errno;
import dev.idshift.sys.Linux;
import dev.idshift.sys.files.FileCalls;
import dev.idshift.sys.files.FileSyscalls;
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
 * (open_by_handle_at) and closes it again.
 */
final class NodeTable {
    private record Key(long device, long inode) {
    }

    /** fds kept free for open files and directories, the device and the JVM. */
    private static final long RESERVED_FDS = 4096;
    private static final int MAX_HANDLE = 128;

    private final Map<Long, Node> byId = new ConcurrentHashMap<>();
    private final Map<Key, Node> byInode = new HashMap<>();
    private final FileCalls calls = FileCalls.get();
    private final MemoryIO memory = MemoryIO.getInstance();
    /** The source root opened for reading: open_by_handle_at takes no O_PATH fd for its mount. */
    private final int mountFd;
    private final long rootDevice;
    private final long fdBudget;
    /** A native "" for AT_EMPTY_PATH, and the mount id name_to_handle_at writes (unused). */
    private final long scratch;
    private long nextId = FuseProtocol.ROOT_ID + 1;
    private long nodeFds;

    /** @param fdBudget how many nodes may hold an fd; negative: the open-file limit less a reserve */
    NodeTable(int rootFd, long rootDevice, long rootInode, long fdBudget) {
        this.mountFd = FileSyscalls.get().open("/proc/self/fd/" + rootFd, Linux.O_RDONLY | Linux.O_DIRECTORY);
        this.rootDevice = rootDevice;
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
     * the node's, or is closed if the inode already has a node or the node keeps a handle instead.
     */
    Node lookedUp(int fd, long device, long inode) {
        Key key = new Key(device, inode);
        synchronized (this) {
            Node node = byInode.get(key);
            if (node == null) {
                long handle = nodeFds >= fdBudget && device == rootDevice ? handleOf(fd) : 0;
                if (handle == 0) {
                    node = new Node(nextId++, fd, 0, device, inode);
                    nodeFds++;
                    fd = -1;
                } else {
                    node = new Node(nextId++, -1, handle, device, inode);
                }
                byInode.put(key, node);
                byId.put(node.id, node);
            }
            node.lookups++;
            if (fd >= 0) {
                calls.close(fd);
            }
            return node;
        }
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
        if (node.fd >= 0) {
            return node.fd;
        }
        int fd = calls.openByHandle(mountFd, node.handle, Linux.O_PATH);
        return fd == -Errno.ENOENT ? -Errno.ESTALE : fd;
    }

    void unpin(Node node, int fd) {
        if (node.fd < 0) {
            calls.close(fd);
        }
    }

    /** FORGET: {@code count} lookups fewer; at none the node goes with its fd or handle. */
    void forget(long id, long count) {
        Node gone = null;
        synchronized (this) {
            Node node = byId.get(id);
            if (node == null || node.id == FuseProtocol.ROOT_ID) {
                return;
            }
            node.lookups -= count;
            if (node.lookups <= 0) {
                byId.remove(id);
                byInode.remove(new Key(node.device, node.inode));
                if (node.fd >= 0) {
                    nodeFds--;
                }
                gone = node;
            }
        }
        if (gone != null) {
            if (gone.fd >= 0) {
                calls.close(gone.fd);
            } else {
                memory.freeMemory(gone.handle);
            }
        }
    }
}
