package dev.idshift.backend.fuse;

/**
 * One kernel inode of the mount: a source inode, known by (device, inode number). Every operation on
 * it goes through an fd of that inode, never through a path, so a rename or an unlink of its names
 * does not lose it. The node holds either an O_PATH fd for as long as the kernel remembers it, or,
 * past the server's fd budget, the inode's file handle, opened for each request (NodeTable.pin).
 */
final class Node {
    final long id;
    /** An O_PATH fd of the inode, or -1 when the node holds {@link #handle} instead. */
    final int fd;
    /** A native struct file_handle of the inode when {@link #fd} is -1, else 0. */
    final long handle;
    final long device;
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

    Node(long id, int fd, long handle, long device, long inode) {
        this.id = id;
        this.fd = fd;
        this.handle = handle;
        this.device = device;
        this.inode = inode;
    }
}
