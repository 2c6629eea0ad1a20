package dev.idshift.mount.fuse;

/**
 * One kernel inode of the mount: a source inode, known by (device, inode number), held open by an
 * O_PATH fd for as long as the kernel remembers the node. Every operation on it goes through that fd,
 * never through a path, so a rename or an unlink of its names does not lose it.
 */
final class Node {
    final long id;
    final int fd;
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

    Node(long id, int fd, long device, long inode) {
        this.id = id;
        this.fd = fd;
        this.device = device;
        this.inode = inode;
    }
}
