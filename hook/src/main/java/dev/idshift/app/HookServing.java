package dev.idshift.app;

import dev.idshift.backend.fuse.InProcessFuseServers;
import dev.idshift.sys.Linux;
import dev.idshift.sys.NativeMemory;
import dev.idshift.sys.files.FileCalls;
import dev.idshift.sys.files.FileSyscalls;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A hook's JVM that stays on as its container's FUSE server: one JVM start for a FUSE container
 * instead of two (the hook's, then a server's). The launcher (bin/idshift, {@code serve_in_hook})
 * runs the JVM in its own session, from /, as its child, with {@code -Didshift.hookResult=FD}: the
 * write end of a pipe only it reads. The hook's FUSE server then serves on threads of this process
 * (InProcessFuseServers); when the hook is done, this process releases the runtime's stdin, stdout and
 * stderr (the runtime waits until they close), writes the hook's exit code on the pipe (the launcher
 * exits with it) and serves until its mount is gone. A hook that started no server exits as ever,
 * after writing its code.
 */
public final class HookServing {
    /** The launcher's system property: the fd to write the hook's exit code on. */
    static final String PROPERTY = "idshift.hookResult";
    /**
     * In the container's staging directory: held (flock) by this process while it serves and until it
     * has removed the rest of that staging; poststop (bin/idshift) waits for the kernel to release it
     * at this process's exit (so the source is let go of by then), then removes it and the directory.
     */
    public static final String LOCK_NAME = "server.lock";

    /** What to do once every server here has stopped (the container's staging removed). */
    private static final List<Runnable> AFTER_SERVING = new CopyOnWriteArrayList<>();

    private HookServing() {
    }

    /** Whether the launcher asked this JVM to serve its hook's FUSE mount itself. */
    static boolean requested() {
        return resultFd() > 2;
    }

    /**
     * After the hook: hands its exit code to the launcher and, if a server serves here, serves until
     * its mount is gone.
     *
     * @return the code this process exits with
     */
    public static int finish(int code) {
        int resultFd = resultFd();
        if (resultFd <= 2) {
            return code;
        }
        System.out.flush();
        System.err.flush();
        boolean serving = InProcessFuseServers.serving();
        if (serving) {
            try {
                releaseStandardStreams(InProcessFuseServers.log());
            } catch (RuntimeException e) {
                System.err.println("idshift: hook: cannot let go of the runtime's stdout/stderr: " + e.getMessage());
            }
        }
        String line = code + "\n";  // ASCII digits: as many bytes as chars
        long buffer = NativeMemory.cString(line);
        try {
            FileCalls.get().write(resultFd, buffer, line.length());  // a launcher gone meanwhile: EPIPE, nothing to tell
        } finally {
            NativeMemory.free(buffer);
            FileCalls.get().close(resultFd);
        }
        if (!serving) {
            return code;
        }
        try {
            InProcessFuseServers.awaitAll();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        int exit = ExitCode.OK;
        for (Runnable work : AFTER_SERVING) {
            try {
                work.run();
            } catch (RuntimeException e) {
                exit = ErrorReporter.report(e, "fuse: after serving", System.err);  // poststop's JVM finishes it
            }
        }
        return exit;  // the lock goes with this process
    }

    /**
     * Once this process's servers have stopped (the container is gone), {@code teardown} (its staging
     * removed but for the lock file), then the process exits and the kernel releases the lock, which
     * poststop waits on instead of starting a JVM. Taken now, before the runtime hears from the hook.
     * A lock file already there that nobody holds is taken over: a runtime killed after an earlier
     * hook of this container id had answered never ran its poststop, which would have removed it
     * (its server exited once its mount was gone). Only root reaches the staging directory (0700),
     * and O_NOFOLLOW keeps the open on that name; a lock still held fails the flock (EWOULDBLOCK).
     */
    public static void tearDownWhenServed(Path lockFile, Runnable teardown) {
        FileSyscalls files = FileSyscalls.get();
        int fd = files.openat(Linux.AT_FDCWD, lockFile.toString(), Linux.O_RDWR | Linux.O_CREAT | Linux.O_NOFOLLOW
                | Linux.O_CLOEXEC, 0600);
        try {
            files.lockExclusive(fd, lockFile.toString());
        } catch (RuntimeException e) {
            files.close(fd);
            throw e;
        }
        AFTER_SERVING.add(teardown);  // the fd stays open: the lock lasts as long as this process
    }

    /** stdin and stdout on /dev/null, stderr on the server's log: the runtime's pipes are no longer held. */
    private static void releaseStandardStreams(Path log) {
        FileSyscalls files = FileSyscalls.get();
        int devNull = files.open("/dev/null", Linux.O_RDWR);
        try {
            files.duplicateOnto(devNull, 0, "stdin");
            files.duplicateOnto(devNull, 1, "stdout");
            if (log == null) {
                files.duplicateOnto(devNull, 2, "stderr");
                return;
            }
            int logFd = files.openat(Linux.AT_FDCWD, log.toString(), Linux.O_WRONLY | Linux.O_APPEND | Linux.O_CREAT | Linux.O_CLOEXEC, 0600);
            try {
                files.duplicateOnto(logFd, 2, "stderr");
            } finally {
                files.close(logFd);
            }
        } finally {
            files.close(devNull);
        }
    }

    private static int resultFd() {
        String value = System.getProperty(PROPERTY);
        if (value == null || value.isEmpty() || value.length() > 4) {
            return -1;
        }
        for (int i = 0; i < value.length(); i++) {  // a loop, not a stream: no lambdas on the hook's path
            if (value.charAt(i) < '0' || value.charAt(i) > '9') {
                return -1;
            }
        }
        return Integer.parseInt(value);
    }
}
