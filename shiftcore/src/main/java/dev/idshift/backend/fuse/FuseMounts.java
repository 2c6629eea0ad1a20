package dev.idshift.backend.fuse;

import dev.idshift.failure.KernelRefusedException;
import dev.idshift.failure.Shortages;
import dev.idshift.idmap.IdMap;
import dev.idshift.backend.MountAccess;
import dev.idshift.backend.kernel.MountInfo;
import dev.idshift.sys.Errno;
import dev.idshift.sys.Linux;
import dev.idshift.sys.SyscallException;
import dev.idshift.sys.mounts.MountCalls;
import dev.idshift.sys.processes.ProcessStat;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Starts and stops FUSE servers. A server is its own process (in its own session, so a runtime
 * killing its hook's process group does not take it) that outlives whoever started it; it is
 * found again by its record, and stopped by unmounting (it then exits by itself), by pid only if it
 * will not.
 */
public final class FuseMounts {
    /** How long a start waits for its server's first line (FuseRegistry's gc age bound follows from it). */
    static final long READY_TIMEOUT_MS = 30_000;
    private static final long EXIT_TIMEOUT_MS = 5_000;

    private FuseMounts() {
    }

    /**
     * Starts a server for {@code source} on {@code target} and returns once it is mounted, setuid files
     * and device nodes working as in a container's rootfs.
     *
     * @param servers where the server process comes from ({@code idshift __fuse-serve}, new or spare)
     * @param uids    on-disk uid -> host uid
     * @param gids    on-disk gid -> host gid
     * @throws KernelRefusedException naming the server's own error, with nothing left mounted or running
     */
    public static FuseMountRecord start(FuseServerProcesses servers, FuseRegistry registry, String source, String target,
                                        IdMap uids, IdMap gids, boolean readonly) {
        return start(servers, registry, source, target, uids, gids, MountAccess.CONTAINER.withReadonly(readonly));
    }

    /** As above, with setuid files and device nodes allowed or not as {@code access} says. */
    public static FuseMountRecord start(FuseServerProcesses servers, FuseRegistry registry, String source, String target,
                                        IdMap uids, IdMap gids, MountAccess access) {
        Path entry = registry.newEntry();
        List<String> arguments = List.of(entry.toString(), source, target, uids.toString(), gids.toString(), access.words());
        Process server;
        try {
            server = servers.start(arguments, FuseRegistry.logOf(entry));
        } catch (IOException e) {
            registry.remove(entry);
            throw Shortages.processNotStarted("the FUSE server of " + target + " (" + servers.describe() + ")", e);
        } catch (OutOfMemoryError e) {
            // The JDK forks first, then starts the thread that reaps the child: the server may run,
            // with no Process to stop it by. It is found by its arguments.
            StartedServers.stop(entry);
            detachIfFuse(target);
            registry.remove(entry);
            throw Shortages.noThread("starting the FUSE server of " + target, e);
        }
        Answer said = null;
        String answer = null;
        OutOfMemoryError noReader = null;
        try {
            said = answerOf(server);
            answer = said.first();
        } catch (OutOfMemoryError e) {
            noReader = e;
        }
        if (FuseServer.READY.equals(answer)) {
            closeQuietly(server);
            Optional<FuseMountRecord> record = registry.serving(target);
            if (record.isPresent()) {
                return record.get();
            }
            answer = "it said ready but left no record";
        }
        // Failed or silent: leave nothing behind. A server that said why it failed is given the time
        // to end by itself first, so that all it says is read (a JVM that could not start says it in
        // several lines, after the first).
        if (answer != null && !answer.equals(FuseServer.READY) && !InProcessFuseServers.isThisProcess(server.pid())) {
            waitFor(server.toHandle(), EXIT_TIMEOUT_MS);
        }
        server.destroyForcibly();
        if (InProcessFuseServers.isThisProcess(server.pid())) {
            InProcessFuseServers.await(target, EXIT_TIMEOUT_MS);
        } else {
            waitFor(server.toHandle(), EXIT_TIMEOUT_MS);
        }
        detachIfFuse(target);
        String log = tail(FuseRegistry.logOf(entry));
        boolean serverShort = Shortages.mentionsThreadShortage(answer) || Shortages.mentionsThreadShortage(read(FuseRegistry.logOf(entry)))
                || (said != null && answer != null && Shortages.mentionsThreadShortage(said.rest()));
        registry.remove(entry);
        closeQuietly(server);
        if (noReader != null) {
            throw Shortages.noThread("reading the answer of the FUSE server of " + target, noReader);
        }
        if (serverShort) {
            // The server named the step that had no thread (its answer, then, is that line); or its
            // JVM could not start, and its stack trace in the log says no more than this.
            throw new KernelRefusedException(answer != null && answer.startsWith("cannot start a thread for ") ? answer
                    : "cannot start a thread for the FUSE server of " + target + ": the pids limit? (its JVM could not create one)");
        }
        throw new KernelRefusedException("FUSE server for " + target + " failed: "
                + (answer == null ? "no answer within " + READY_TIMEOUT_MS / 1000 + " s"
                        : answer.isEmpty() ? "it ended without an answer" : answer)
                + (log.isEmpty() ? "" : "; its log ends: " + log));
    }

    /**
     * Unmounts a server's mount point and waits for the server to exit; stops it by pid (start time
     * checked) if it does not. A server killed earlier left a dead (ENOTCONN) mount: unmounted the same.
     */
    public static void stop(FuseRegistry registry, FuseMountRecord record, boolean lazy) {
        try {
            MountCalls.kernel().umount2(record.target(), lazy ? Linux.MNT_DETACH : 0);
        } catch (SyscallException e) {
            if (e.errno() == Errno.EBUSY) {
                throw new KernelRefusedException(record.target() + " is busy (a process uses it); retry with --lazy to detach it anyway", e);
            }
            if (e.errno() != Errno.EINVAL && e.errno() != Errno.ENOENT) {
                throw e;
            }
            // not mounted any more: only the server (if alive) and the record are left
        }
        Optional<ProcessHandle> server = ours(record);
        if (server.isPresent() && InProcessFuseServers.isThisProcess(record.pid())) {
            // It serves in this process (a hook's JVM that failed after mounting): never a signal to ourselves.
            InProcessFuseServers.await(record.target(), EXIT_TIMEOUT_MS);
        } else if (server.isPresent() && !waitFor(server.get(), EXIT_TIMEOUT_MS)) {
            server.get().destroy();
            if (!waitFor(server.get(), EXIT_TIMEOUT_MS)) {
                server.get().destroyForcibly();
                waitFor(server.get(), EXIT_TIMEOUT_MS);
            }
        }
        registry.remove(registry.entryOf(record.key()));
    }

    /**
     * Stops every server whose mount point is under {@code directory} (a container's staging, at
     * poststop or gc): its mounts are detached by then, so each exits by itself once the container's
     * namespace lets go; one that does not within the timeout is stopped by pid.
     */
    public static void stopUnder(FuseRegistry registry, Path directory) {
        for (FuseMountRecord record : registry.all()) {
            if (Path.of(record.target()).startsWith(directory)) {
                stop(registry, record, true);
            }
        }
    }

    /** The recorded server process, if it still runs as that process (not a reused pid, not a zombie). */
    public static Optional<ProcessHandle> ours(FuseMountRecord record) {
        ProcessStat stat = ProcessStat.of(record.pid());
        if (stat != null && stat.startTime() == record.startTime() && stat.running()) {
            return ProcessHandle.of(record.pid());
        }
        return Optional.empty();
    }

    /**
     * A server outlives its starter, so its parent is init (or a subreaper), which may reap it late:
     * a zombie counts as gone, once all its threads are (see ProcessStat.released).
     */
    private static boolean running(long pid) {
        return !ProcessStat.released(pid);
    }

    /** What a server says on stdout: its first line, and what follows when that is not READY. */
    private static final class Answer {
        final CompletableFuture<String> first = new CompletableFuture<>();
        final CompletableFuture<String> rest = new CompletableFuture<>();

        /** The first line; "" if it closed its output (exited) without one; null if none came in time. */
        String first() {
            return await(first, READY_TIMEOUT_MS);
        }

        /**
         * The lines after a first line that is not READY, once the server has exited: a JVM that
         * could not start writes why there ("Error occurred during initialization of VM" first).
         */
        String rest() {
            String more = await(rest, EXIT_TIMEOUT_MS);
            return more == null ? "" : more;
        }

        private static String await(CompletableFuture<String> value, long timeoutMs) {
            try {
                return value.get(timeoutMs, TimeUnit.MILLISECONDS);
            } catch (TimeoutException | ExecutionException e) {
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
    }

    /** Starts reading the server's answer (a thread: the wait has a timeout). */
    private static Answer answerOf(Process server) {
        Answer answer = new Answer();
        Thread reader = new Thread(new Runnable() {
            @Override
            public void run() {
                StringBuilder more = new StringBuilder();
                try {
                    BufferedReader lines = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
                    String first = lines.readLine();
                    answer.first.complete(first == null ? "" : first);  // "": it closed its output without a line
                    if (first != null && !first.equals(FuseServer.READY)) {
                        for (String line = lines.readLine(); line != null && more.length() < 4096; line = lines.readLine()) {
                            more.append(line).append('\n');
                        }
                    }
                } catch (IOException e) {
                    answer.first.complete("");
                }
                answer.rest.complete(more.toString());
            }
        }, "idshift-fuse-ready");
        reader.setDaemon(true);
        reader.start();
        return answer;
    }

    private static boolean waitFor(ProcessHandle process, long timeoutMs) {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (running(process.pid())) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return !running(process.pid());
            }
        }
        return true;
    }

    private static void closeQuietly(Process server) {
        try {
            server.getInputStream().close();
            server.getOutputStream().close();
        } catch (IOException ignored) {
            // nothing to clean
        }
    }

    /**
     * Detaches a view a failed start may have left at {@code target}: only one of ours (fuse.idshift,
     * not any FUSE mount) and never through a symlink put in the target's place (a root-run mount
     * command's target may sit in a directory a user can write).
     */
    private static void detachIfFuse(String target) {
        if (MountInfo.fsTypeAt(target).equals("fuse.idshift")) {
            try {
                MountCalls.kernel().umount2(target, Linux.MNT_DETACH | Linux.UMOUNT_NOFOLLOW);
            } catch (SyscallException alreadyGone) {
                // gone with its server
            }
        }
    }

    private static String read(Path log) {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            StringBuilder last = new StringBuilder();
            for (int i = Math.max(0, lines.size() - 3); i < lines.size(); i++) {
                if (!lines.get(i).isBlank()) {
                    last.append(last.length() == 0 ? "" : " | ").append(lines.get(i).trim());
                }
            }
            return last.toString();
        } catch (IOException e) {
            return "";
        }
    }
}
