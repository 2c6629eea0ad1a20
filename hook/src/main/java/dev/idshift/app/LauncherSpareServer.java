package dev.idshift.app;

import dev.idshift.backend.fuse.FuseServerProcesses;
import dev.idshift.sys.Syscalls;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A spare FUSE server the launcher (bin/idshift) started beside this hook's JVM, when the config asks
 * for the FUSE backend and no daemon took the hook: the server's JVM starts while the hook's does,
 * instead of after it (a container start through FUSE then costs about one JVM start, not two).
 *
 * <p>The launcher passes {@code -Didshift.fuseSpare=PID:IN:OUT}: the spare's pid (a child of this
 * JVM, which the launcher became by exec, so the pid cannot be reused while we live) and two inherited
 * fds, the write end of the spare's stdin and the read end of its stdout (pipes made in a 0700
 * directory removed at once: only this process reaches them). The spare speaks the protocol of the
 * daemon's spares (SpareFuseServers): the six arguments on stdin, NUL-separated, up to EOF. Unused, its
 * stdin closes when this JVM exits, however it exits, and the spare exits.
 *
 * <p>Taken once; a second mount, or a spare already gone, gets a fresh server.
 */
final class LauncherSpareServer implements FuseServerProcesses {
    /** The launcher's system property. */
    static final String PROPERTY = "idshift.fuseSpare";

    private static final int S_IFMT = 0170000;
    private static final int S_IFIFO = 0010000;

    private final long pid;
    private final int inFd;
    private final int outFd;
    private final FuseServerProcesses fresh;
    private boolean taken;

    private LauncherSpareServer(long pid, int inFd, int outFd, FuseServerProcesses fresh) {
        this.pid = pid;
        this.inFd = inFd;
        this.outFd = outFd;
        this.fresh = fresh;
    }

    /** The launcher's spare if it passed one (well-formed), else nothing. */
    static Optional<LauncherSpareServer> fromLauncher(FuseServerProcesses fresh) {
        String value = System.getProperty(PROPERTY);
        if (value == null) {
            return Optional.empty();
        }
        String[] fields = value.split(":", -1);
        try {
            if (fields.length == 3) {
                long pid = Long.parseLong(fields[0]);
                int in = Integer.parseInt(fields[1]);
                int out = Integer.parseInt(fields[2]);
                if (pid > 1 && in > 2 && out > 2 && in != out) {
                    return Optional.of(new LauncherSpareServer(pid, in, out, fresh));
                }
            }
        } catch (NumberFormatException e) {
            // below
        }
        System.err.println("idshift: ignoring -D" + PROPERTY + "=" + value + " (expected PID:INFD:OUTFD)");
        return Optional.empty();
    }

    @Override
    public synchronized Process start(List<String> arguments, Path log) throws IOException {
        if (!taken) {
            taken = true;
            Process spare = take(arguments);
            if (spare != null) {
                return spare;
            }
        }
        return fresh.start(arguments, log);
    }

    /** The spare with its arguments written, or null if it is gone (its fds are closed either way). */
    private Process take(List<String> arguments) {
        Optional<ProcessHandle> handle = ProcessHandle.of(pid);
        if (handle.isEmpty() || !isPipe(inFd) || !isPipe(outFd)) {
            closeInherited();
            return null;
        }
        InputStream stdout = null;
        try {
            // Fresh descriptions of the same pipes; then the inherited read-write ones go, so that the
            // spare sees EOF after the arguments and we see EOF if it dies before it answers.
            stdout = new FileInputStream("/proc/self/fd/" + outFd);
            try (OutputStream stdin = new FileOutputStream("/proc/self/fd/" + inFd)) {
                closeInherited();
                stdin.write(String.join("\0", arguments).getBytes(StandardCharsets.UTF_8));
            }
            return new SpareProcess(handle.get(), stdout);
        } catch (IOException e) {
            // Gone meanwhile (EPIPE): a fresh server instead; the spare, if it lingers, sees EOF.
            closeInherited();
            closeQuietly(stdout);
            handle.get().destroyForcibly();
            return null;
        }
    }

    private boolean closed;

    private void closeInherited() {
        if (!closed) {
            closed = true;
            Syscalls.get().close(inFd);
            Syscalls.get().close(outFd);
        }
    }

    /** Whether an inherited fd is a pipe or FIFO (the launcher's are FIFOs whose names are gone). */
    private static boolean isPipe(int fd) {
        try {
            int mode = (Integer) Files.getAttribute(Path.of("/proc/self/fd/" + fd), "unix:mode");
            return (mode & S_IFMT) == S_IFIFO;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static void closeQuietly(InputStream stream) {
        if (stream != null) {
            try {
                stream.close();
            } catch (IOException ignored) {
                // nothing to clean
            }
        }
    }

    @Override
    public String describe() {
        return "the launcher's spare server (pid " + pid + ")";
    }

    /** The spare as a Process for FuseMounts: its stdout to read the answer from, its pid to stop it. */
    private static final class SpareProcess extends Process {
        private final ProcessHandle handle;
        private final InputStream stdout;

        SpareProcess(ProcessHandle handle, InputStream stdout) {
            this.handle = handle;
            this.stdout = stdout;
        }

        @Override
        public OutputStream getOutputStream() {
            return OutputStream.nullOutputStream();  // its stdin is closed: the arguments are whole
        }

        @Override
        public InputStream getInputStream() {
            return stdout;
        }

        @Override
        public InputStream getErrorStream() {
            return InputStream.nullInputStream();  // its stderr goes to its log
        }

        @Override
        public int waitFor() throws InterruptedException {
            try {
                handle.onExit().get();
            } catch (java.util.concurrent.ExecutionException e) {
                // gone either way
            }
            return 0;
        }

        @Override
        public int exitValue() {
            if (handle.isAlive()) {
                throw new IllegalThreadStateException("the spare FUSE server " + handle.pid() + " runs");
            }
            return 0;  // not our child in Java's books: its status is not ours to read
        }

        @Override
        public void destroy() {
            handle.destroy();
        }

        @Override
        public Process destroyForcibly() {
            handle.destroyForcibly();
            return this;
        }

        @Override
        public long pid() {
            return handle.pid();
        }

        @Override
        public ProcessHandle toHandle() {
            return handle;
        }

        @Override
        public boolean isAlive() {
            return handle.isAlive();
        }
    }
}
