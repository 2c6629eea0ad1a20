package dev.idshift.mount.fuse;

import com.kenai.jffi.MemoryIO;

/**
 * libfuse 2's {@code struct fuse_bufvec} holding one {@code struct fuse_buf} (64 bytes on 64-bit):
 * count, idx, off (size_t each), then the buffer: size_t size, enum flags, void *mem, int fd, off_t pos.
 */
final class BufferVector {
    static final int SIZE = 64;
    private static final int FUSE_BUF_IS_FD = 1 << 1;
    private static final int FUSE_BUF_FD_SEEK = 1 << 2;

    private BufferVector() {
    }

    /** A vector whose one buffer is {@code size} bytes of {@code fd} at {@code position}. */
    static void describeFd(MemoryIO memory, long vector, long size, int fd, long position) {
        memory.putLong(vector, 1);           // count
        memory.putLong(vector + 8, 0);       // idx
        memory.putLong(vector + 16, 0);      // off
        long buffer = vector + 24;
        memory.putLong(buffer, size);
        memory.putInt(buffer + 8, FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
        memory.putLong(buffer + 16, 0);      // mem
        memory.putInt(buffer + 24, fd);
        memory.putLong(buffer + 32, position);
    }
}
