package dev.idshift.backend.fuse;

import dev.idshift.backend.MountAccess;
import dev.idshift.idmap.IdMapParser;
import dev.idshift.sys.Linux;
import dev.idshift.sys.files.FileCalls;
import dev.idshift.sys.mounts.MountCalls;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Servers that serve in this process, on a thread each: the hook's own JVM, which then stays on as
 * its container's FUSE server once it has answered the runtime (app.HookServing), instead of
 * handing the mount to a second JVM. The server is recorded, mounts and serves exactly as
 * {@code idshift __fuse-serve} does (FuseServer.serve); only the process is the caller's. Its pid is
 * this process's, so it is stopped by unmounting and waiting for its thread ({@link #await}), never by
 * a signal to itself.
 */
public final class InProcessFuseServers implements FuseServerProcesses {
    /** Serving threads by mount point (a server's recorded target). */
    private static final Map<String, Thread> SERVING = new ConcurrentHashMap<>();
    /** The log of the last server started here: this process's stderr once it only serves. */
    private static volatile Path log;

    @Override
    public Process start(List<String> arguments, Path log) throws IOException {
        if (arguments.size() != 6) {
            throw new IOException("expected ENTRY SRC DST UIDMAP GIDMAP FLAGS, got " + arguments);
        }
        Path entry = Path.of(arguments.get(0));
        String target = arguments.get(2);
        IdTranslation ids = new IdTranslation(IdMapParser.parseColonList(arguments.get(3)), IdMapParser.parseColonList(arguments.get(4)));
        MountAccess access = MountAccess.parse(arguments.get(5));
        FuseRegistry registry = new FuseRegistry(entry.getParent().getParent());
        // The readiness line travels through a pipe, as from a server process (FuseMounts reads it).
        Pipe pipe = Pipe.open();
        PrintStream readiness = new PrintStream(Channels.newOutputStream(pipe.sink()), true, StandardCharsets.UTF_8);
        Thread thread = new Thread(new Runnable() {  // not a lambda: see FuseServer's shutdown hook
            @Override
            public void run() {
                // This thread's own fs_struct first: the server sets umask 0 for its threads (each
                // applies the request's), which must not become the umask of the rest of this process.
                if (FileCalls.get().unshareFs() < 0) {
                    readiness.println("unshare(CLONE_FS) failed on the FUSE server thread");
                    readiness.close();
                    return;
                }
                try {
                    FuseServer.serve(registry, entry, arguments.get(1), target, ids, access, readiness);
                } catch (RuntimeException e) {
                    readiness.println(e.getMessage());  // as a server process would say before it exits
                } finally {
                    readiness.close();  // EOF for a starter still waiting: this server will not say ready
                    SERVING.remove(target, Thread.currentThread());
                }
            }
        }, "idshift-fuse-server");
        SERVING.put(target, thread);
        InProcessFuseServers.log = log;
        try {
            thread.start();
        } catch (OutOfMemoryError e) {
            // No thread to serve on (a pids limit): nothing of it is left (FuseMounts names the step).
            SERVING.remove(target, thread);
            pipe.sink().close();
            pipe.source().close();
            throw e;
        }
        return new ServingThread(thread, target, Channels.newInputStream(pipe.source()));
    }

    @Override
    public String describe() {
        return "a FUSE server in this process (pid " + ProcessHandle.current().pid() + ")";
    }

    /** The log of the last server started here, or null. */
    public static Path log() {
        return log;
    }

    /** Whether any server still serves in this process. */
    public static boolean serving() {
        for (Thread thread : SERVING.values()) {  // a loop, not a stream: no lambdas on the hook's path
            if (thread.isAlive()) {
                return true;
            }
        }
        return false;
    }

    /** Waits until every server in this process has stopped (its mount gone). */
    public static void awaitAll() throws InterruptedException {
        for (Thread thread : List.copyOf(SERVING.values())) {
            thread.join();
        }
    }

    /**
     * Waits up to {@code timeoutMs} for the server of {@code target} in this process to stop (its
     * mount detached by the caller); true if it has, or none serves it here.
     */
    public static boolean await(String target, long timeoutMs) {
        Thread thread = SERVING.get(target);
        if (thread == null) {
            return true;
        }
        try {
            thread.join(timeoutMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !thread.isAlive();
    }

    /** Whether {@code pid} is this process (a recorded server that serves here). */
    public static boolean isThisProcess(long pid) {
        return pid == ProcessHandle.current().pid();
    }

    /** The serving thread as a Process for FuseMounts: readiness on its stdout; stopped by unmounting. */
    private static final class ServingThread extends Process {
        private final Thread thread;
        private final String target;
        private final InputStream readiness;

        ServingThread(Thread thread, String target, InputStream readiness) {
            this.thread = thread;
            this.target = target;
            this.readiness = readiness;
        }

        @Override
        public OutputStream getOutputStream() {
            return OutputStream.nullOutputStream();
        }

        @Override
        public InputStream getInputStream() {
            return readiness;
        }

        @Override
        public InputStream getErrorStream() {
            return InputStream.nullInputStream();
        }

        @Override
        public int waitFor() throws InterruptedException {
            thread.join();
            return 0;
        }

        @Override
        public int exitValue() {
            if (thread.isAlive()) {
                throw new IllegalThreadStateException("the FUSE server of " + target + " serves");
            }
            return 0;
        }

        /** Unmounts: the serving loop ends once the mount is gone (no signal: the process is ours). */
        @Override
        public void destroy() {
            try {
                MountCalls.kernel().umount2(target, Linux.MNT_DETACH);
            } catch (RuntimeException notMounted) {
                // not mounted (any more): the thread ends by itself
            }
        }

        @Override
        public Process destroyForcibly() {
            destroy();
            return this;
        }

        @Override
        public long pid() {
            return ProcessHandle.current().pid();
        }

        @Override
        public ProcessHandle toHandle() {
            return ProcessHandle.current();
        }

        @Override
        public boolean isAlive() {
            return thread.isAlive();
        }
    }
}
