package dev.idshift.backend.kernel;

import dev.idshift.failure.KernelRefusedException;
import dev.idshift.failure.Shortages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway {@code unshare ... -- cat} child that makes a namespace for us: we wait until it is
 * in its new namespace, open that namespace (or write its maps), and reap it by handle, never by
 * name. The namespace lives on through the fd we keep.
 */
final class NamespaceHelper implements AutoCloseable {
    private static final long WAIT_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final Process process;
    private final String purpose;

    private NamespaceHelper(Process process, String purpose) {
        this.process = process;
        this.purpose = purpose;
    }

    /** Starts {@code argv} with its output discarded; {@code purpose} names it in errors. */
    static NamespaceHelper start(List<String> argv, String purpose) {
        try {
            Process process = new ProcessBuilder(argv)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            return new NamespaceHelper(process, purpose);
        } catch (IOException e) {
            throw Shortages.processNotStarted(purpose, e);
        } catch (OutOfMemoryError e) {
            // Forked, but the JDK had no thread to reap it (a pids limit). The helper reads its stdin
            // (cat, sleep-less): it ends when this process does, which this failure makes it do.
            throw Shortages.noThread("starting " + purpose, e);
        }
    }

    long pid() {
        return process.pid();
    }

    /** {@code /proc/PID/ns/KIND} of the helper. */
    Path namespaceFile(String kind) {
        return Path.of("/proc/" + process.pid() + "/ns/" + kind);
    }

    /**
     * Returns once the helper's {@code kind} namespace differs from {@code ours} (it has unshared),
     * within 5 s; refuses if it exits first or takes longer.
     */
    void awaitUnshared(String kind, Path ours) {
        Path theirs = namespaceFile(kind);
        long deadline = System.nanoTime() + WAIT_NANOS;
        try {
            String mine = Files.readSymbolicLink(ours).toString();
            while (Files.readSymbolicLink(theirs).toString().equals(mine)) {
                if (!process.isAlive()) {
                    throw new KernelRefusedException(purpose + " exited early (exit " + process.exitValue()
                            + "): are user namespaces enabled (sysctl user.max_user_namespaces)?");
                }
                if (System.nanoTime() > deadline) {
                    throw new KernelRefusedException(purpose + " did not enter a new " + kind + " namespace within 5 s");
                }
                Thread.onSpinWait();
            }
        } catch (IOException e) {
            throw new KernelRefusedException("cannot watch " + purpose + ": " + e.getMessage(), e);
        }
    }

    /** Kills and reaps the helper by handle. */
    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
