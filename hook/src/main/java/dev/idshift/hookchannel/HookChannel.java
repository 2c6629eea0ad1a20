package dev.idshift.hookchannel;

import dev.idshift.failure.BadInputException;
import dev.idshift.failure.InternalException;
import dev.idshift.failure.KernelRefusedException;
import dev.idshift.hook.HookTraining;
import dev.idshift.sys.files.AtomicFiles;
import dev.idshift.sys.processes.ProcessStat;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The hook channel: how {@code bin/idshift hook} hands a stage with work to the warm daemon without
 * starting a JVM, in POSIX sh and coreutils only (no socket client exists there).
 *
 * <pre>
 *   RUN/hookd/            0700 root: only root can put anything here (this is the access control)
 *   RUN/hookd/requests    FIFO 0600: one line per request, "PID STAGE" (STAGE "-": from the state)
 *   RUN/hookd/daemon.pid  "PID STARTTIME": written last when ready, removed first when stopping
 *   RUN/hookd/PID.req     the launcher's stdin (state or config); claimed by renaming it to PID.work
 *   RUN/hookd/PID.out     empty file the launcher holds open; the answer is written into it (renamed
 *                         PID.done meanwhile): "E line" (stderr) ..., "O" (stdout follows), "X CODE", stdout
 * </pre>
 *
 * Why a FIFO and files: a request line is under PIPE_BUF, so concurrent launchers' lines never
 * interleave, and the payload (a config can be larger than a pipe) travels in a file. The claim
 * (rename) decides who does the work: a launcher that timed out removes PID.req; if that fails, the
 * daemon had taken it. The answer needs no FIFO of the launcher's (a mkfifo process each): the
 * launcher waits for a signal (SIGCONT, sent through a pidfd taken before the requester was checked)
 * or its own timer, whichever comes first. Delivery is claimed by a rename too (PID.out to PID.done;
 * a launcher giving up renames it away first). The launcher's side and its timeouts are in bin/idshift.
 */
public final class HookChannel implements AutoCloseable {
    /** How many requests run at once (each is mostly syscalls; two cores here), plus the one reading. */
    private static final int WORKERS = 5;
    /** How often files of launchers killed mid-request are swept (besides at start). */
    private static final long SWEEP_INTERVAL_NS = 60_000_000_000L;
    /** Dry-run hooks walked at start: past C1's compile threshold (200 calls) for what each request calls once. */
    private static final int WARM_UP_WALKS = 300;
    /**
     * Present when this host's env(1) can unblock signals ({@code --default-signal}, coreutils
     * 8.31+): a launcher started with SIGCHLD/SIGCONT blocked (crun's createRuntime) then runs itself
     * again through it instead of falling back to a JVM.
     */
    static final String ENV_MARKER = "env-default-signal";

    private final Path directory;
    private final Path requests;
    private final Path pidFile;
    private final Path envMarker;
    private final PrintStream log;
    private final ExecutorService workers;
    private volatile boolean stopped;
    private RandomAccessFile fifo;
    /** The reading of requests, a task that one worker at a time runs (see readRequests). */
    private final Runnable reading = new Runnable() {
        @Override
        public void run() {
            readRequests();
        }
    };
    /** What the reading task has read of a line so far: its own, whichever worker runs it (handed on through the executor). */
    private final byte[] buffer = new byte[4096];
    private final StringBuilder line = new StringBuilder();

    private HookChannel(Path runDirectory, PrintStream log) {
        this.directory = directoryOf(runDirectory);
        this.requests = directory.resolve("requests");
        this.pidFile = directory.resolve("daemon.pid");
        this.envMarker = directory.resolve(ENV_MARKER);
        this.log = log;
        this.workers = new ThreadPoolExecutor(WORKERS, WORKERS, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<Runnable>(),
                new java.util.concurrent.ThreadFactory() {
                    private int count;

                    @Override
                    public synchronized Thread newThread(Runnable work) {
                        Thread thread = new Thread(work, "idshift-hookd-" + (++count));
                        thread.setDaemon(true);
                        return thread;
                    }
                });
    }

    public static Path directoryOf(Path runDirectory) {
        return runDirectory.resolve("hookd");
    }

    /** Creates the channel under RUN (root only) and starts reading requests. */
    public static HookChannel start(Path runDirectory, PrintStream log) {
        HookChannel channel = new HookChannel(runDirectory, log);
        channel.open();
        return channel;
    }

    private void open() {
        try {
            prepareDirectory();
            Files.deleteIfExists(pidFile);
            Files.deleteIfExists(requests);
            Files.deleteIfExists(envMarker);
            if (envUnblocksSignals()) {
                Files.write(envMarker, new byte[0]);
            }
            Process mkfifo = new ProcessBuilder("mkfifo", "-m", "600", requests.toString()).redirectErrorStream(true).start();
            String output = new String(mkfifo.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (mkfifo.waitFor() != 0) {
                throw new KernelRefusedException("cannot create the hook channel's FIFO " + requests + ": " + output);
            }
            // Read and write: the FIFO never reports end-of-file between launchers, and never blocks here.
            fifo = new RandomAccessFile(requests.toFile(), "rw");
            removeLeftovers();
            long pid = ProcessHandle.current().pid();
            AtomicFiles.write(pidFile, (pid + " " + ProcessStat.startTimeOf(pid) + "\n").getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new KernelRefusedException("cannot set up the hook channel in " + directory + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InternalException("interrupted while setting up the hook channel in " + directory, e);
        }
        workers.execute(reading);
        warmUp();
        log.println("idshift: daemon: hook channel ready in " + directory);
    }

    /**
     * Compiles the hook's code before the first hooks come (see HookTraining): a background thread
     * walks the dry-run hook WARM_UP_WALKS times (~1 s of one core, once). Requests are served meanwhile.
     */
    private void warmUp() {
        Thread thread = new Thread(new Runnable() {
            @Override
            public void run() {
                try {
                    HookTraining.walk(WARM_UP_WALKS);
                } catch (IOException | RuntimeException e) {
                    log.println("idshift: daemon: hook channel: warming up: " + e.getMessage() + " (hooks are served all the same)");
                }
            }
        }, "idshift-hookd-warmup");
        thread.setDaemon(true);
        thread.setPriority(Thread.MIN_PRIORITY);
        thread.start();
    }

    /** Whether `env --default-signal true` works here (see ENV_MARKER). */
    private static boolean envUnblocksSignals() {
        try {
            Process env = new ProcessBuilder("env", "--default-signal", "true").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return env.waitFor(10, TimeUnit.SECONDS) && env.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** RUN/hookd as a real directory, owned by root, 0700 (a symlink or another owner is refused). */
    private void prepareDirectory() throws IOException {
        Path run = directory.getParent();
        if (!Files.isDirectory(run)) {
            Files.createDirectories(run);
            Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwx--x--x"));
        }
        if (!Files.exists(directory, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectory(directory);
        }
        PosixFileAttributes attributes = Files.readAttributes(directory, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!attributes.isDirectory() || (Integer) Files.getAttribute(directory, "unix:uid", LinkOption.NOFOLLOW_LINKS) != 0) {
            throw new BadInputException(directory + " is not a directory owned by root: refusing to use it as the hook channel");
        }
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx------"));
    }

    /** Files of launchers that are gone (killed mid-request, or from before a reboot of the daemon). */
    private void removeLeftovers() throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                int dot = name.indexOf('.');
                if (dot > 0 && HookRequest.isPid(name.substring(0, dot)) && ProcessStat.of(Long.parseLong(name.substring(0, dot))) == null) {
                    Files.deleteIfExists(entry);
                }
            }
        }
    }

    /**
     * Reads request lines until some come, then hands the reading on to another worker and serves
     * the first request itself: the request that woke us is served on the thread that read it,
     * without waiting for another thread to wake up (on two busy cores, that wait was most of
     * what the daemon added before a request's work began). Further lines read with it go to
     * workers of their own.
     */
    private void readRequests() {
        List<HookRequest> batch = new ArrayList<>();
        long received = 0;
        while (!stopped && batch.isEmpty()) {
            int count;
            try {
                count = fifo.read(buffer);
            } catch (IOException e) {
                if (!stopped) {
                    log.println("idshift: daemon: hook channel: cannot read " + requests + ": " + e.getMessage() + "; hooks fall back to a JVM each");
                }
                return;
            }
            if (count < 0) {
                return;
            }
            received = System.nanoTime();
            for (int i = 0; i < count; i++) {
                char c = (char) (buffer[i] & 0xff);
                if (c != '\n') {
                    if (line.length() < 256) {
                        line.append(c);
                    }
                    continue;
                }
                HookRequest request = line.length() == 0 ? null : parse(line.toString());  // empty: close()'s wake-up
                if (request != null) {
                    batch.add(request);
                }
                line.setLength(0);
            }
        }
        if (batch.isEmpty()) {
            return;  // stopped
        }
        try {
            workers.execute(reading);
            for (int i = 1; i < batch.size(); i++) {
                workers.execute(serving(batch.get(i), received));
            }
        } catch (RejectedExecutionException e) {
            return;  // shut down meanwhile
        }
        serving(batch.get(0), received).run();
    }

    private long lastSweepNs = System.nanoTime();

    /** The request a line asks for, or null (malformed: logged); now and then, first, a sweep of launchers' leftovers. */
    private HookRequest parse(String text) {
        if (System.nanoTime() - lastSweepNs > SWEEP_INTERVAL_NS) {
            lastSweepNs = System.nanoTime();
            try {
                removeLeftovers();
            } catch (IOException | RuntimeException e) {
                log.println("idshift: daemon: hook channel: cannot sweep " + directory + ": " + e.getMessage());
            }
        }
        HookRequest request = HookRequest.parse(text, directory);
        if (request == null) {
            log.println("idshift: daemon: hook channel: ignored a malformed request line \"" + text + "\"");
        }
        return request;
    }

    private Runnable serving(final HookRequest request, final long received) {
        return new Runnable() {
            @Override
            public void run() {
                try {
                    request.serve(log, received);
                } catch (RuntimeException | Error e) {
                    log.println("idshift: daemon: hook channel: request of pid " + request.pid() + ": " + e);
                }
            }
        };
    }

    /** Stops taking requests: launchers see no daemon.pid (or a dead pid) and run the hook in their own JVM. */
    @Override
    public void close() {
        stopped = true;
        try {
            Files.deleteIfExists(pidFile);
            Files.deleteIfExists(requests);
            Files.deleteIfExists(envMarker);
            Files.deleteIfExists(directory);
        } catch (java.nio.file.DirectoryNotEmptyException e) {
            // a launcher's files: it removes them itself, or the next daemon does
        } catch (IOException e) {
            log.println("idshift: daemon: hook channel: cannot remove " + pidFile + ": " + e.getMessage());
        }
        wakeReader();
        workers.shutdown();
        try {
            workers.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            if (fifo != null) {
                fifo.close();
            }
        } catch (IOException ignored) {
            // closing on the way out
        }
    }

    /**
     * The reading task waits in read(2) on a worker of the pool, which close() waits for: an empty
     * line (ignored by the reader) wakes it to see that it is stopped.
     */
    private void wakeReader() {
        try {
            if (fifo != null) {
                fifo.write('\n');
            }
        } catch (IOException e) {
            // not reading any more either
        }
    }

    /**
     * Which path a root-run hook will take with this run directory, for doctor and install: the
     * daemon channel when a live daemon has it open, else a JVM per stage with work.
     */
    public static String describe(Path runDirectory) {
        Path directory = directoryOf(runDirectory);
        String jvm = "a JVM for each stage with work (~50-100 ms); stages with nothing to do start none";
        try {
            String[] pidAndStart = Files.readString(directory.resolve("daemon.pid"), StandardCharsets.US_ASCII).trim().split(" ");
            long pid = Long.parseLong(pidAndStart[0]);
            ProcessStat stat = ProcessStat.of(pid);
            if (stat == null || stat.startTime() != Long.parseLong(pidAndStart[1]) || !stat.running()) {
                return jvm + " (" + directory + "/daemon.pid names a daemon that is gone)";
            }
            if (stat.state() == 'T' || stat.state() == 't') {
                return jvm + " (the daemon, pid " + pid + ", is stopped)";
            }
            if (!isFifo(directory.resolve("requests"))) {
                return jvm + " (" + directory + "/requests is missing)";
            }
            return "the daemon's hook channel (" + directory + ", daemon pid " + pid + "); a JVM if it does not answer";
        } catch (IOException | RuntimeException e) {
            return jvm + " (no daemon: start `idshift daemon`, e.g. contrib/idshift.service, for warm hooks)";
        }
    }

    private static boolean isFifo(Path path) {
        try {
            return Files.readAttributes(path, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther();
        } catch (IOException e) {
            return false;
        }
    }
}
