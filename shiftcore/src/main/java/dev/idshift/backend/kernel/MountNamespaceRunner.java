package dev.idshift.backend.kernel;

import dev.idshift.failure.InternalException;
import dev.idshift.sys.Fd;
import dev.idshift.sys.Linux;
import dev.idshift.sys.files.FileSyscalls;
import dev.idshift.sys.namespaces.NamespaceCalls;

/**
 * Runs work inside another process's mount namespace on a dedicated platform thread.
 *
 * <p>Why a thread: a multithreaded process gets EINVAL from setns(CLONE_NEWNS) while its threads
 * share one fs_struct, so the thread first unshares CLONE_FS (its root and cwd become private),
 * then joins the namespace. It is never reused: it ends with the work, and the JVM's other
 * threads stay in the original namespace.
 */
public final class MountNamespaceRunner {
    private MountNamespaceRunner() {
    }

    /** Work done in the target namespace. */
    @FunctionalInterface
    public interface Work<T> {
        T run() throws Exception;
    }

    public static <T> T runIn(long pid, Work<T> work) {
        try (Fd mntns = new Fd(FileSyscalls.get().open("/proc/" + pid + "/ns/mnt", Linux.O_RDONLY))) {
            return runIn(mntns, "mount namespace of pid " + pid, work);
        }
    }

    /** The same in the mount namespace {@code mntns} (an nsfs fd, still the caller's to close). */
    public static <T> T runIn(Fd mntns, String subject, Work<T> work) {
        Object[] result = new Object[1];
        Throwable[] failure = new Throwable[1];
        Thread thread = new Thread(new Runnable() {
            @Override
            public void run() {
                NamespaceCalls namespaces = NamespaceCalls.get();
                try {
                    namespaces.unshare(Linux.CLONE_FS);
                    namespaces.setns(mntns.get(), Linux.CLONE_NEWNS, subject);
                    result[0] = work.run();
                } catch (Throwable e) {
                    failure[0] = e;
                }
            }
        }, "idshift-mntns");
        thread.start();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InternalException("interrupted while working in the " + subject, e);
        }
        if (failure[0] instanceof RuntimeException) {
            throw (RuntimeException) failure[0];
        }
        if (failure[0] instanceof Error) {
            throw (Error) failure[0];
        }
        if (failure[0] != null) {
            throw new InternalException(failure[0].toString(), failure[0]); // a checked exception the work does not declare
        }
        @SuppressWarnings("unchecked")
        T value = (T) result[0];
        return value;
    }
}
