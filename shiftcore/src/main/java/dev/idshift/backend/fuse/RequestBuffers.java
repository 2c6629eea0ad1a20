package dev.idshift.backend.fuse;

import com.kenai.jffi.MemoryIO;

/**
 * One serving thread's native memory, allocated once and kept for the thread's life: the request as
 * read from /dev/fuse, the reply being built, and scratch for the syscalls a request makes.
 */
final class RequestBuffers {
    static final int DIRENTS = 65536;
    private static final MemoryIO MEMORY = MemoryIO.getInstance();
    private static final byte[] PROC_FD = "/proc/self/fd/".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    final long request;
    final long reply;
    /** struct statx (256 bytes) each, two: a node's and its parent's. */
    final long stat;
    final long parentStat;
    /** "/proc/self/fd/N", NUL-terminated. */
    final long procPath;
    /** struct timespec[2], struct fuse_backing_map, a u32 backing id. */
    final long small;
    /** getdents64's output. */
    final long dirents;
    /** The node the request being handled names (a lookup's or a make's parent directory). */
    Node node;
    /** A directory whose reply filled up: its next dirents are read once the reply is written (Directories.readAhead). */
    OpenDirectory readAhead;
    /** Where a /dev/fuse reader that must wait (a lease being broken) gets a stand-in; null: none (a ring queue). */
    ReaderWaits waits;
    /** The umask this thread's (unshared) fs_struct has now; -1 before the first create. */
    int umask = -1;
    /** The filesystem uid and gid this thread has now (host ids; a thread starts as root's). */
    long fsuid;
    long fsgid;

    RequestBuffers() {
        MemoryIO memory = MEMORY;
        request = memory.allocateMemory(FuseProtocol.BUFFER, false);
        reply = memory.allocateMemory(FuseProtocol.BUFFER, false);
        // 8 bytes past the dirents: Directories copies names a word at a time.
        long scratch = memory.allocateMemory(256 + 256 + 64 + 64 + DIRENTS + 8, false);
        stat = scratch;
        parentStat = scratch + 256;
        procPath = scratch + 512;
        small = scratch + 576;
        dirents = scratch + 640;
    }

    /** "/proc/self/fd/N" in the thread's buffer: the fd's own inode, whatever its names are now. */
    long procPath(int fd) {
        long at = procPath;
        MEMORY.putByteArray(at, PROC_FD, 0, PROC_FD.length);
        at += PROC_FD.length;
        int digits = 1;
        for (int rest = fd / 10; rest > 0; rest /= 10) {
            digits++;
        }
        for (int i = digits - 1, rest = fd; i >= 0; i--, rest /= 10) {
            MEMORY.putByte(at + i, (byte) ('0' + rest % 10));
        }
        MEMORY.putByte(at + digits, (byte) 0);
        return procPath;
    }

    /** "N", the fd's name in the /proc/self/fd directory (FdLinks), in the thread's buffer. */
    long fdName(int fd) {
        return procPath(fd) + PROC_FD.length;
    }
}
