package dev.idshift.sys;

import com.kenai.jffi.MemoryIO;
import java.nio.charset.StandardCharsets;

/**
 * Native memory for syscall arguments: C strings and structs, allocated by the caller and always
 * freed by it in a finally.
 */
public final class NativeMemory {
    private static final MemoryIO MEMORY = MemoryIO.getInstance();
    private static volatile long emptyString;

    private NativeMemory() {
    }

    /** Reads and writes native memory (MemoryIO.putLong, getInt, ...). */
    public static MemoryIO io() {
        return MEMORY;
    }

    /** {@code size} bytes, zeroed if {@code clear}. */
    public static long allocate(long size, boolean clear) {
        return MEMORY.allocateMemory(size, clear);
    }

    /** A NUL-terminated UTF-8 copy of {@code text}; 0 (NULL) for null. */
    public static long cString(String text) {
        if (text == null) {
            return 0;
        }
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        long address = MEMORY.allocateMemory(bytes.length + 1, true);
        MEMORY.putByteArray(address, bytes, 0, bytes.length);
        return address;
    }

    /** Frees what {@link #allocate} or {@link #cString} gave; 0 is ignored. */
    public static void free(long address) {
        if (address != 0) {
            MEMORY.freeMemory(address);
        }
    }

    /** "" in native memory, allocated once and never freed (for AT_EMPTY_PATH). */
    public static long emptyString() {
        long address = emptyString;
        if (address == 0) {
            synchronized (NativeMemory.class) {
                address = emptyString;
                if (address == 0) {
                    address = MEMORY.allocateMemory(1, true);
                    emptyString = address;
                }
            }
        }
        return address;
    }
}
