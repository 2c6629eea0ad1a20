package dev.idshift.sys.credentials;

import com.kenai.jffi.MemoryIO;
import dev.idshift.sys.Linux;
import dev.idshift.sys.NativeMemory;
import dev.idshift.sys.SyscallTable;
import dev.idshift.sys.Syscalls;

/** Who this process (or thread) is to the kernel, and the per-thread filesystem ids. */
public final class Credentials {
    private static final Credentials INSTANCE = new Credentials();

    private Credentials() {
    }

    public static Credentials get() {
        return INSTANCE;
    }

    public int geteuid() {
        return (int) Syscalls.get().raw(SyscallTable.GETEUID, 0, 0, 0, 0, 0);
    }

    /**
     * The calling THREAD's filesystem uid and gid (setfsuid/setfsgid), with its effective
     * capabilities raised back to its permitted set: the kernel drops the file capabilities
     * (CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_MKNOD, ...) from the effective set when the
     * fsuid leaves 0. Linux keeps credentials per thread: use a thread that ends afterwards.
     */
    public void setFsIdsKeepingCapabilities(long fsuid, long fsgid, String subject) {
        Syscalls sys = Syscalls.get();
        sys.raw(SyscallTable.SETFSGID, fsgid, 0, 0, 0, 0);
        sys.raw(SyscallTable.SETFSUID, fsuid, 0, 0, 0, 0);
        // setfsuid/setfsgid return the previous id and never fail: ask again (-1 changes nothing) to check.
        long nowUid = sys.raw(SyscallTable.SETFSUID, -1, 0, 0, 0, 0);
        long nowGid = sys.raw(SyscallTable.SETFSGID, -1, 0, 0, 0, 0);
        if (nowUid != fsuid || nowGid != fsgid) {
            throw new IllegalStateException("setfsuid/setfsgid " + fsuid + "/" + fsgid + " for " + subject + " did not take (now "
                    + nowUid + "/" + nowGid + "): needs CAP_SETUID and CAP_SETGID");
        }
        raiseEffective(subject);
    }

    /**
     * Takes {@code capability} out of the calling THREAD's effective, permitted and inheritable sets
     * for good (capabilities are per thread: other threads keep theirs).
     */
    public void dropCapability(int capability, String subject) {
        changeCapabilities(capability, 3, subject);
    }

    /**
     * Takes {@code capability} out of the calling THREAD's effective set only, so that the kernel
     * decides a call as for a caller without it; {@link #raiseEffective} gives it back.
     */
    public void lowerEffective(int capability, String subject) {
        changeCapabilities(capability, 1, subject);
    }

    /** The calling THREAD's effective set raised to its permitted one. */
    public void raiseEffective(String subject) {
        changeCapabilities(-1, 0, subject);
    }

    /**
     * capget, then capset: without {@code drop} (if >= 0) in the first {@code sets} of effective,
     * permitted, inheritable, and the effective set raised to the permitted one if not.
     */
    private void changeCapabilities(int drop, int sets, String subject) {
        Syscalls sys = Syscalls.get();
        MemoryIO memory = NativeMemory.io();
        long header = NativeMemory.allocate(8, true);
        long data = NativeMemory.allocate(24, true);
        try {
            memory.putInt(header, Linux.LINUX_CAPABILITY_VERSION_3);
            sys.checked(SyscallTable.CAPGET, header, data, 0, 0, 0, "capget", subject);
            if (drop < 0) {
                memory.putInt(data, memory.getInt(data + 4));
                memory.putInt(data + 12, memory.getInt(data + 16));
            } else {
                // struct __user_cap_data_struct[2]: {effective, permitted, inheritable} per 32 capabilities
                long word = data + 12L * (drop / 32);
                int keep = ~(1 << (drop % 32));
                for (int set = 0; set < sets; set++) {
                    memory.putInt(word + 4L * set, memory.getInt(word + 4L * set) & keep);
                }
            }
            sys.checked(SyscallTable.CAPSET, header, data, 0, 0, 0, "capset", subject);
        } finally {
            NativeMemory.free(data);
            NativeMemory.free(header);
        }
    }
}
