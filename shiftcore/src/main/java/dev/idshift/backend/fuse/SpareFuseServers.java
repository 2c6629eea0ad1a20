package dev.idshift.backend.fuse;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * FUSE servers started before they are needed, for the long-running daemon. One spare server process
 * waits, warm (JVM started, classes loaded, request paths compiled), for the arguments of a mount on
 * its stdin: taking it costs a pipe write instead of a JVM start. Given its arguments it is an
 * ordinary server: its own process and session, found by its record, unaffected by the daemon
 * stopping or restarting, so running containers keep their views. (Serving views on threads of the
 * daemon itself would have tied every container's rootfs to the daemon's life.) A spare never given
 * work sees its stdin close when the daemon goes, however it goes, and exits.
 *
 * <p>The first spare starts when the first server is asked for (a host that never uses FUSE keeps no
 * spare JVM), and each next one a moment after one is taken, so its JVM start does not compete for
 * the CPU with the container start that took the last. A process starts in its starter's mount
 * namespace and a server mounts in its own: spares serve only mounts asked for from the namespace
 * this pool was made in (the daemon's own, where hooks mount); elsewhere servers start afresh.
 */
public final class SpareFuseServers implements FuseServerProcesses, AutoCloseable {
    /** The spare's option to {@code __fuse-serve}: warm up, then read the arguments from stdin. */
    public static final String SPARE_OPTION = "--spare";
    private static final long REFILL_DELAY_MS = 250;

    private final List<String> command;
    private final FuseServerProcesses fresh;
    private final PrintStream log;
    private final String namespace;
    /** One thread, made here: it starts spares in this thread's mount namespace. */
    private final ScheduledThreadPoolExecutor refills;
    private Process spare;
    private boolean refillPending;
    private boolean closed;

    /**
     * @param command the server command ({@code idshift __fuse-serve}); spares run it with {@link #SPARE_OPTION}
     * @param log     where a spare's own errors go until it has a mount (and its log) of its own
     */
    public SpareFuseServers(List<String> command, PrintStream log) {
        this.command = List.copyOf(command);
        this.fresh = FuseServerProcesses.fresh(command);
        this.log = log;
        this.namespace = mountNamespace();
        this.refills = new ScheduledThreadPoolExecutor(1, work -> {
            Thread thread = new Thread(work, "idshift-fuse-spare");
            thread.setDaemon(true);
            return thread;
        });
        refills.prestartAllCoreThreads();
    }

    @Override
    public Process start(List<String> arguments, Path serverLog) throws IOException {
        Process taken = take();
        if (taken != null) {
            byte[] message = String.join("\0", arguments).getBytes(StandardCharsets.UTF_8);
            try (OutputStream input = taken.getOutputStream()) {
                input.write(message);
                return taken;  // its stdin closed: the arguments are whole
            } catch (IOException diedMeanwhile) {
                taken.destroyForcibly();
            }
        }
        return fresh.start(arguments, serverLog);
    }

    @Override
    public String describe() {
        return command.get(0) + " (spare servers)";
    }

    /** The spare, if one is ready for this thread's namespace; a new one is on its way either way. */
    private synchronized Process take() {
        if (closed) {
            return null;
        }
        String here = mountNamespace();
        if (here == null || !here.equals(namespace)) {
            return null;
        }
        Process taken = spare;
        spare = null;
        if (!refillPending) {
            refillPending = true;
            refills.schedule(this::refill, REFILL_DELAY_MS, TimeUnit.MILLISECONDS);
        }
        return taken != null && taken.isAlive() ? taken : null;
    }

    private void refill() {
        synchronized (this) {
            refillPending = false;
            if (closed || spare != null && spare.isAlive()) {
                return;
            }
        }
        List<String> argv = new ArrayList<>();
        argv.add("setsid");
        argv.addAll(command);
        argv.add(SPARE_OPTION);
        Process started;
        try {
            started = new ProcessBuilder(argv).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        } catch (IOException e) {
            log.println("idshift: cannot start a spare FUSE server (" + command.get(0) + "): " + e.getMessage());
            return;
        }
        synchronized (this) {
            if (!closed) {
                spare = started;
                return;
            }
        }
        release(started);
    }

    /** A spare let go: its stdin closed without arguments, it exits. */
    private static void release(Process process) {
        try {
            process.getOutputStream().close();
        } catch (IOException ignored) {
            // gone already
        }
    }

    @Override
    public void close() {
        Process last;
        synchronized (this) {
            closed = true;
            last = spare;
            spare = null;
        }
        refills.shutdownNow();
        if (last != null) {
            release(last);
        }
    }

    /** This thread's mount namespace ("mnt:[N]"), or null if it cannot be read. */
    private static String mountNamespace() {
        try {
            return Files.readSymbolicLink(Path.of("/proc/thread-self/ns/mnt")).toString();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
