package dev.idshift.backend.fuse;

/**
 * One kernel inode of the mount: a source inode, known by (device, inode number). Every operation on
 * it goes through an fd of that inode, never through a path, so a rename or an unlink of its names
 * does not lose it. The node holds an O_PATH fd for as long as the kernel remembers it, or, past the
 * server's fd budget, the inode's file handle, opened for each request (NodeTable.pin); on a source
 * without file handles (an overlay without nfs_export, say), past the budget, the name it was last
 * looked up by in its parent's node ({@link #place}), opened from the parent for each request and
 * checked to still be this inode.
 */
final class Node {
    final long id;
    /** An O_PATH fd of the inode, or -1 when the node holds {@link #handle} instead. */
    final int fd;
    /** A native struct file_handle of the inode when {@link #fd} is -1, else 0. */
    final long handle;
    final long device;
    /** Where a node with neither fd nor handle is found again: set and read under NodeTable's lock. */
    Place place;
    /** How many nodes' places name this node as their parent: it stays while any does (NodeTable's lock). */
    int placed;
    final long inode;
    /** How many LOOKUP-type replies named this node and FORGET has not yet taken back (under NodeTable's lock). */
    long lookups;
    /**
     * The kernel's id for this inode's backing file (FUSE_PASSTHROUGH), shared by all its open files
     * (the kernel refuses a second, different backing file for one inode), and how many use it
     * (both under this node's lock).
     */
    long backingId;
    int backingUsers;
    /**
     * The fd of the node's latest open file while it is open, -1 if none (under this node's lock): the
     * xattr reads take an open file's fd, not an O_PATH one, and reaching the inode by the O_PATH fd's
     * /proc link instead cost more than the call (a node fd's first /proc lookup makes a dentry and an
     * inode). RELEASE clears it, under the lock, before the fd is closed, so no read uses a closed fd.
     */
    int openFd = -1;

    /** A parent node and one name in it (bytes, without the NUL). */
    record Place(Node parent, byte[] name) {
    }

    Node(long id, int fd, long handle, long device, long inode) {
        this.id = id;
        this.fd = fd;
        this.handle = handle;
        this.device = device;
        this.inode = inode;
    }
}
