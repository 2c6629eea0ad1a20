package dev.idshift.mount.fuse;

import com.kenai.jffi.MemoryIO;

/**
 * Fields of libfuse 2's {@code struct fuse_file_info}, read in place: {@code int flags} at 0 and
 * {@code uint64_t fh} at 24 (after {@code unsigned long fh_old}, {@code int writepage} and a
 * 32-bit bitfield), on every 64-bit Linux.
 */
final class FileInfo {
    private static final int FLAGS = 0;
    private static final int FH = 24;

    private FileInfo() {
    }

    static int flags(MemoryIO memory, long fileInfo) {
        return memory.getInt(fileInfo + FLAGS);
    }

    static int fh(MemoryIO memory, long fileInfo) {
        return (int) memory.getLong(fileInfo + FH);
    }

    static void setFh(MemoryIO memory, long fileInfo, int fd) {
        memory.putLong(fileInfo + FH, fd);
    }
}
