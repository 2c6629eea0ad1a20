package dev.idshift.backend.fuse;

import com.kenai.jffi.MemoryIO;
import java.util.ArrayDeque;

/**
 * Native buffers for dirents read ahead, a few for the whole server: an open directory holds one only
 * while it has dirents pending, so a reader that opens many directories (or a container that opens
 * thousands to pin memory) gets none past {@link #COUNT} and is served as without read-ahead.
 */
final class ReadAheadBuffers {
    /** As RequestBuffers.DIRENTS: a read of dirents is never longer. */
    static final int SIZE = RequestBuffers.DIRENTS;
    private static final int COUNT = 16;
    private static final MemoryIO MEMORY = MemoryIO.getInstance();

    private final ArrayDeque<Long> free = new ArrayDeque<>();
    private int made;

    /** A buffer (8 bytes of slack past SIZE: names are copied a word at a time), or 0 if all are taken. */
    synchronized long take() {
        Long buffer = free.poll();
        if (buffer != null) {
            return buffer;
        }
        if (made == COUNT) {
            return 0;
        }
        made++;
        return MEMORY.allocateMemory(SIZE + 8, false);
    }

    synchronized void give(long buffer) {
        free.push(buffer);
    }
}
