package dev.idshift.sys.uring;

import com.kenai.jffi.MemoryIO;
import dev.idshift.sys.SyscallException;
import dev.idshift.sys.SyscallTable;
import dev.idshift.sys.Syscalls;
import java.lang.invoke.VarHandle;

/**
 * One io_uring with 128-byte submission entries (IORING_SETUP_SQE128: a uring_cmd's 80 bytes of
 * command data live in the entry's second half), driven by one thread: it takes entries, submits
 * them and reaps the completions itself.
 *
 * <p>The rings are kernel memory mapped here. The kernel reads the SQ tail and writes the CQ tail
 * while we run, so publishing entries is fenced (release before the tail store) and so is reading
 * completions (acquire after the tail load); the JIT cannot move accesses across the syscalls in
 * between either, as they are native calls.
 */
public final class IoUring implements AutoCloseable {
    /** An entry's size with IORING_SETUP_SQE128. */
    public static final int SQE_SIZE = 128;
    // struct io_uring_sqe fields.
    public static final int SQE_OPCODE = 0;
    public static final int SQE_FD = 4;
    /** uring_cmd's command (cmd_op, u32), where other ops keep their offset. */
    public static final int SQE_CMD_OP = 8;
    public static final int SQE_ADDR = 16;
    public static final int SQE_LEN = 24;
    public static final int SQE_USER_DATA = 32;
    /** uring_cmd's command data: 80 bytes with SQE128. */
    public static final int SQE_CMD = 48;
    public static final int OP_URING_CMD = 46;
    // struct io_uring_cqe: user_data (u64), res (s32), flags (u32).
    public static final int CQE_USER_DATA = 0;
    public static final int CQE_RES = 8;
    private static final int CQE_SIZE = 16;

    private static final int SETUP_CQSIZE = 1 << 3;
    private static final int SETUP_SQE128 = 1 << 10;
    private static final int FEAT_SINGLE_MMAP = 1;
    private static final int ENTER_GETEVENTS = 1;
    private static final long OFF_SQ_RING = 0;
    private static final long OFF_CQ_RING = 0x8000000L;
    private static final long OFF_SQES = 0x10000000L;
    private static final int PROT_READ_WRITE = 0x1 | 0x2;
    private static final int MAP_SHARED_POPULATE = 0x01 | 0x8000;
    // struct io_uring_params (120 bytes): sq_off at 40, cq_off at 80 (io_sqring_offsets, io_cqring_offsets).
    private static final int PARAMS_SIZE = 120;

    private static final MemoryIO MEMORY = MemoryIO.getInstance();
    private final Syscalls sys = Syscalls.get();
    private final int fd;
    private final long sqRing;
    private final long sqRingSize;
    private final long cqRing;
    private final long cqRingSize;
    private final long sqes;
    private final long sqesSize;
    private final long sqHead;
    private final long sqTail;
    private final long sqArray;
    private final int sqMask;
    private final int sqEntries;
    private final long cqHead;
    private final long cqTail;
    private final long cqes;
    private final int cqMask;
    /** The next entry to fill (our copy of the tail, published by submit). */
    private int sqeTail;
    /** The next completion to read (our copy of the head, published by seen). */
    private int cqeHead;

    private IoUring(int fd, long params, long sqRing, long sqRingSize, long cqRing, long cqRingSize, long sqes, long sqesSize) {
        this.fd = fd;
        this.sqRing = sqRing;
        this.sqRingSize = sqRingSize;
        this.cqRing = cqRing;
        this.cqRingSize = cqRingSize;
        this.sqes = sqes;
        this.sqesSize = sqesSize;
        long sqOff = params + 40;
        long cqOff = params + 80;
        sqHead = sqRing + MEMORY.getInt(sqOff);
        sqTail = sqRing + MEMORY.getInt(sqOff + 4);
        sqMask = MEMORY.getInt(sqRing + MEMORY.getInt(sqOff + 8));
        sqEntries = MEMORY.getInt(sqRing + MEMORY.getInt(sqOff + 12));
        sqArray = sqRing + MEMORY.getInt(sqOff + 24);
        cqHead = cqRing + MEMORY.getInt(cqOff);
        cqTail = cqRing + MEMORY.getInt(cqOff + 4);
        cqMask = MEMORY.getInt(cqRing + MEMORY.getInt(cqOff + 8));
        cqes = cqRing + MEMORY.getInt(cqOff + 20);
        sqeTail = MEMORY.getInt(sqTail);
        cqeHead = MEMORY.getInt(cqHead);
    }

    /**
     * A new ring of {@code entries} submission entries and {@code completions} completion slots.
     *
     * @throws SyscallException if the kernel has no io_uring, or refuses it (kernel.io_uring_disabled)
     */
    public static IoUring open(int entries, int completions) {
        Syscalls sys = Syscalls.get();
        long params = MEMORY.allocateMemory(PARAMS_SIZE, true);
        int fd = -1;
        long sqRing = 0;
        long cqRing = 0;
        long sqRingSize = 0;
        long cqRingSize = 0;
        try {
            MEMORY.putInt(params + 4, completions);
            MEMORY.putInt(params + 8, SETUP_SQE128 | SETUP_CQSIZE);
            long result = sys.rawOrErrno(SyscallTable.IO_URING_SETUP, entries, params, 0, 0, 0);
            if (result < 0) {
                throw new SyscallException("io_uring_setup", "a FUSE ring", (int) -result);
            }
            fd = (int) result;
            int sqEntries = MEMORY.getInt(params);
            int cqEntries = MEMORY.getInt(params + 4);
            sqRingSize = MEMORY.getInt(params + 40 + 24) + 4L * sqEntries;
            cqRingSize = MEMORY.getInt(params + 80 + 20) + (long) CQE_SIZE * cqEntries;
            boolean single = (MEMORY.getInt(params + 20) & FEAT_SINGLE_MMAP) != 0;
            if (single) {
                sqRingSize = Math.max(sqRingSize, cqRingSize);
            }
            sqRing = map(sys, fd, sqRingSize, OFF_SQ_RING, "the SQ ring");
            if (single) {
                cqRing = sqRing;
                cqRingSize = 0;
            } else {
                cqRing = map(sys, fd, cqRingSize, OFF_CQ_RING, "the CQ ring");
            }
            long sqesSize = (long) SQE_SIZE * sqEntries;
            long sqes = map(sys, fd, sqesSize, OFF_SQES, "the SQ entries");
            return new IoUring(fd, params, sqRing, sqRingSize, cqRing, cqRingSize, sqes, sqesSize);
        } catch (RuntimeException e) {
            if (cqRing != 0 && cqRing != sqRing) {
                sys.raw(SyscallTable.MUNMAP, cqRing, cqRingSize, 0, 0, 0);
            }
            if (sqRing != 0) {
                sys.raw(SyscallTable.MUNMAP, sqRing, sqRingSize, 0, 0, 0);
            }
            sys.close(fd);
            throw e;
        } finally {
            MEMORY.freeMemory(params);
        }
    }

    private static long map(Syscalls sys, int fd, long size, long offset, String what) {
        long address = sys.mmapOrErrno(0, size, PROT_READ_WRITE, MAP_SHARED_POPULATE, fd, offset);
        if (address < 0) {
            throw new SyscallException("mmap", what + " of a FUSE ring", (int) -address);
        }
        return address;
    }

    /** A zeroed submission entry to fill, or 0 if all are taken (the kernel has not consumed them yet). */
    public long nextEntry() {
        int head = MEMORY.getInt(sqHead);
        VarHandle.acquireFence();
        if (sqeTail - head >= sqEntries) {
            return 0;
        }
        int index = sqeTail & sqMask;
        long entry = sqes + (long) index * SQE_SIZE;
        MEMORY.setMemory(entry, SQE_SIZE, (byte) 0);
        MEMORY.putInt(sqArray + 4L * index, index);
        sqeTail++;
        return entry;
    }

    /**
     * Submits the entries filled since the last call and, if {@code waitFor} > 0, waits until that many
     * completions are there: the number of entries the kernel took, or minus the errno (EINTR: a
     * signal came first; call again, nothing is lost).
     */
    public int submit(int waitFor) {
        VarHandle.releaseFence();
        MEMORY.putInt(sqTail, sqeTail);
        int pending = sqeTail - MEMORY.getInt(sqHead);
        long result = sys.rawOrErrno(SyscallTable.IO_URING_ENTER, fd, pending, waitFor,
                waitFor > 0 ? ENTER_GETEVENTS : 0, 0);
        return (int) result;
    }

    /** The oldest completion not yet {@link #seen}, or 0 if there is none now. */
    public long completion() {
        int tail = MEMORY.getInt(cqTail);
        VarHandle.acquireFence();
        if (cqeHead == tail) {
            return 0;
        }
        return cqes + (long) (cqeHead & cqMask) * CQE_SIZE;
    }

    /** Hands the completion {@link #completion} gave back to the kernel (read it first). */
    public void seen() {
        cqeHead++;
        VarHandle.releaseFence();
        MEMORY.putInt(cqHead, cqeHead);
    }

    /** The ring's fd: closing it (with the mappings) cancels what is still in flight. */
    public int fd() {
        return fd;
    }

    @Override
    public void close() {
        sys.raw(SyscallTable.MUNMAP, sqes, sqesSize, 0, 0, 0);
        if (cqRing != sqRing) {
            sys.raw(SyscallTable.MUNMAP, cqRing, cqRingSize, 0, 0, 0);
        }
        sys.raw(SyscallTable.MUNMAP, sqRing, sqRingSize, 0, 0, 0);
        sys.close(fd);
    }
}
