package dev.idshift.mount.fuse;

import dev.idshift.sys.FileCalls;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The server's nodes: by the node id the kernel uses, and by the source's (device, inode), so every
 * name of a hard-linked file is the same node and so the same kernel inode (attributes, permissions
 * and link counts right through every name at once).
 *
 * <p>Lookup counts follow the protocol: each reply naming a node adds one, FORGET takes its count
 * back, and the node's fd is closed at zero.
 */
final class NodeTable {
    private record Key(long device, long inode) {
    }

    private final Map<Long, Node> byId = new ConcurrentHashMap<>();
    private final Map<Key, Node> byInode = new HashMap<>();
    private final FileCalls calls = FileCalls.get();
    private long nextId = FuseProtocol.ROOT_ID + 1;

    NodeTable(int rootFd, long rootDevice, long rootInode) {
        Node root = new Node(FuseProtocol.ROOT_ID, rootFd, rootDevice, rootInode);
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
     * the node's, or is closed if the inode already has a node.
     */
    Node lookedUp(int fd, long device, long inode) {
        Key key = new Key(device, inode);
        synchronized (this) {
            Node node = byInode.get(key);
            if (node == null) {
                node = new Node(nextId++, fd, device, inode);
                byInode.put(key, node);
                byId.put(node.id, node);
                fd = -1;
            }
            node.lookups++;
            if (fd >= 0) {
                calls.close(fd);
            }
            return node;
        }
    }

    /** FORGET: {@code count} lookups fewer; at none the node goes and its fd is closed. */
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
                gone = node;
            }
        }
        if (gone != null) {
            calls.close(gone.fd);
        }
    }

    /** How many nodes the kernel holds (the root included): for tests. */
    int size() {
        return byId.size();
    }
}
