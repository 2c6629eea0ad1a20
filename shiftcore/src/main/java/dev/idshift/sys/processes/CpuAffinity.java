package dev.idshift.sys.processes;

import com.kenai.jffi.MemoryIO;
import dev.idshift.sys.SyscallTable;
import dev.idshift.sys.Syscalls;

/** Which CPUs a thread may run on (sched_setaffinity). */
public final class CpuAffinity {
    private static final MemoryIO MEMORY = MemoryIO.getInstance();

    private CpuAffinity() {
    }

    /** Binds the calling thread to one CPU; minus the errno if it cannot be (offline, outside the cpuset). */
    public static int bindCurrentThread(int cpu) {
        int words = cpu / 64 + 1;
        long mask = MEMORY.allocateMemory(8L * words, true);
        try {
            MEMORY.putLong(mask + 8L * (cpu / 64), 1L << (cpu % 64));
            return (int) Syscalls.get().rawOrErrno(SyscallTable.SCHED_SETAFFINITY, 0, 8L * words, mask, 0, 0);
        } finally {
            MEMORY.freeMemory(mask);
        }
    }
}
