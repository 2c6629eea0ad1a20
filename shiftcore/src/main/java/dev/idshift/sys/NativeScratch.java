package dev.idshift.sys;

import com.kenai.jffi.MemoryIO;
import java.nio.charset.StandardCharsets;

/**
 * One thread's native scratch memory: slots for NUL-terminated paths and small structs, allocated
 * once per thread and never freed (FUSE worker threads live as long as the mount), so a request
 * encodes its paths without a malloc.
 */
public final class NativeScratch {
    /** PATH_MAX plus the terminator. */
    public static final int SLOT = 4097;
    private static final int SLOTS = 4;
    private static final int SMALL = 512;
    /** For directory entries (getdents64) and xattr values. */
    public static final int LARGE = 65536;

    private static final ThreadLocal<NativeScratch> PER_THREAD = ThreadLocal.withInitial(NativeScratch::new);

    private final MemoryIO memory = MemoryIO.getInstance();
    private final long base;

    private NativeScratch() {
        base = memory.allocateMemory((long) SLOT * SLOTS + SMALL + LARGE, false);
    }

    public static NativeScratch current() {
        return PER_THREAD.get();
    }

    /** The address of slot {@code slot} (0-3), holding {@code text} NUL-terminated; 0 if it is too long. */
    public long string(int slot, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if (bytes.length >= SLOT) {
            return 0;
        }
        long address = base + (long) SLOT * slot;
        memory.putByteArray(address, bytes, 0, bytes.length);
        memory.putByte(address + bytes.length, (byte) 0);
        return address;
    }

    /** The address of slot {@code slot}, to receive up to {@link #SLOT} bytes. */
    public long slot(int slot) {
        return base + (long) SLOT * slot;
    }

    /** {@value #LARGE} bytes. */
    public long large() {
        return base + (long) SLOT * SLOTS + SMALL;
    }

    /** {@value #SMALL} bytes for small structs (open_how, a struct stat, a struct statfs). */
    public long small() {
        return base + (long) SLOT * SLOTS;
    }
}
