package dev.idshift.sys;

import com.kenai.jffi.CallContext;
import com.kenai.jffi.CallingConvention;
import com.kenai.jffi.Invoker;
import com.kenai.jffi.LastError;
import com.kenai.jffi.Library;
import com.kenai.jffi.Type;

/**
 * The one way into the kernel: libc's {@code syscall(2)}, called through jffi, the native layer of
 * jnr-ffi, directly (jnr-ffi's proxy generation costs ~20 ms of start-up, and the hook pays start-up
 * on every container start). The calls themselves live by domain beside this package:
 * {@code sys.files}, {@code sys.mounts}, {@code sys.namespaces}, {@code sys.sockets},
 * {@code sys.credentials}, {@code sys.processes}; their numbers in {@link SyscallTable}.
 *
 * <p>Loading the native stub takes ~30 ms; call {@link #preload()} early on another thread.
 */
public final class Syscalls {
    private static volatile Syscalls instance;

    private final Invoker invoker = Invoker.getInstance();
    private final long syscallFunction;
    /** libc's mmap: it takes six arguments, one more than syscall() is given through the fast path. */
    private final long mmapFunction;
    private final CallContext sixLongs;

    private Syscalls() {
        SyscallTable.requireKnownArchitecture();
        Library libc = Library.getCachedInstance("libc.so.6", Library.LAZY | Library.GLOBAL);
        if (libc == null) {
            throw new IllegalStateException("cannot load libc.so.6: " + Library.getLastError());
        }
        syscallFunction = libc.getSymbolAddress("syscall");
        mmapFunction = libc.getSymbolAddress("mmap");
        Type[] params = {Type.SLONG, Type.SLONG, Type.SLONG, Type.SLONG, Type.SLONG, Type.SLONG};
        sixLongs = CallContext.getCallContext(Type.SLONG, params, CallingConvention.DEFAULT, true);
    }

    public static Syscalls get() {
        Syscalls loaded = instance;
        if (loaded == null) {
            synchronized (Syscalls.class) {
                loaded = instance;
                if (loaded == null) {
                    loaded = new Syscalls();
                    instance = loaded;
                }
            }
        }
        return loaded;
    }

    /** Starts loading the native layer on a daemon thread, so later calls do not wait for it. */
    public static void preload() {
        if (instance != null) {
            return;  // loaded already (the daemon's hook channel runs many hooks in one JVM)
        }
        // An anonymous class, not a lambda: the first lambda costs ~9 ms of bootstrap at start-up.
        Thread loader = new Thread(new Runnable() {
            @Override
            public void run() {
                try {
                    get();
                    NativeMemory.io();  // jffi's memory access too: every call with a path or struct needs it
                } catch (RuntimeException | LinkageError e) {
                    // Not here: the first real call fails the same way, where it can be reported.
                }
            }
        }, "idshift-ffi-preload");
        loader.setDaemon(true);
        loader.start();
    }

    /** The call's result as the kernel gave it; on -1 the errno is {@link #lastErrno()}. */
    public long raw(long number, long a, long b, long c, long d, long e) {
        return invoker.invokeN6(sixLongs, syscallFunction, number, a, b, c, d, e);
    }

    /** The call's result, or minus its errno: no exception on the FUSE server's hot path. */
    public long rawOrErrno(long number, long a, long b, long c, long d, long e) {
        // jffi's fast all-long path (no libffi): the FUSE server makes several syscalls per request.
        long result = invoker.invokeL6(sixLongs, syscallFunction, number, a, b, c, d, e);
        return result < 0 ? -LastError.getInstance().get() : result;
    }

    /** mmap(2): the address, or minus the errno. */
    public long mmapOrErrno(long address, long length, long protection, long flags, long fd, long offset) {
        long result = invoker.invokeN6(sixLongs, mmapFunction, address, length, protection, flags, fd, offset);
        return result == -1 ? -LastError.getInstance().get() : result;
    }

    /** The errno of the last call that failed on this thread. */
    public int lastErrno() {
        return LastError.getInstance().get();
    }

    /** The call's result, or a {@link SyscallException} naming {@code operation}, {@code subject} and the errno. */
    public long checked(long number, long a, long b, long c, long d, long e, String operation, String subject) {
        return checked(number, a, b, c, d, e, operation, subject, null);
    }

    /** The same, the failure also naming {@code argument}: what the call was given (see {@link SyscallException}). */
    public long checked(long number, long a, long b, long c, long d, long e, String operation, String subject, String argument) {
        long result = raw(number, a, b, c, d, e);
        if (result < 0) {
            throw new SyscallException(operation, subject, argument, lastErrno());
        }
        return result;
    }

    /** close(2), for an fd we own; its result is of no use (the fd is gone either way). */
    public void close(int fd) {
        if (fd >= 0) {
            raw(SyscallTable.CLOSE, fd, 0, 0, 0, 0);
        }
    }
}
