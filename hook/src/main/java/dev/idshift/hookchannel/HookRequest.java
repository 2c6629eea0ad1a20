package dev.idshift.hookchannel;

import dev.idshift.app.ErrorReporter;
import dev.idshift.app.ExitCode;
import dev.idshift.config.annotations.IdshiftAnnotations;
import dev.idshift.config.json.JsonTree;
import dev.idshift.staging.StagingTeardown;
import dev.idshift.hook.HookMain;
import dev.idshift.backend.fuse.FuseRegistry;
import dev.idshift.staging.StagingStore;
import dev.idshift.sys.Fd;
import dev.idshift.sys.Linux;
import dev.idshift.sys.SyscallException;
import dev.idshift.sys.files.FileIdentity;
import dev.idshift.sys.namespaces.UserNamespaceOwner;
import dev.idshift.sys.processes.Pidfds;
import dev.idshift.sys.processes.ProcessStatus;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One launcher's request on the hook channel: "PID STAGE". The work is exactly the in-process hook
 * (HookMain), with the runtime taken from the launcher's parent. What it is asked is checked as the
 * hook checks it (the state's pid against /proc, inside HookMain); here we check who asks: PID must
 * be a live process of host root (uid 0 in the host's user namespace, told by the kernel through
 * /proc and NS_GET_PARENT, not by the request), and the files it names must be root's. A non-root
 * process cannot reach the channel at all (its directory is 0700 root), so this is a second wall.
 */
final class HookRequest {
    /** How much of the hook's stderr the answer carries (the launcher reads it a byte at a time). */
    private static final int MAX_REPLY = 4000;
    /** The fd on which bin/idshift holds its PID.out (`exec 5<"$hook_out"`): one stat, not a walk of every fd. */
    private static final int ANSWER_FD = 5;

    private final long pid;
    private final String stage;
    private final Path directory;

    private HookRequest(long pid, String stage, Path directory) {
        this.pid = pid;
        this.stage = stage;
        this.directory = directory;
    }

    long pid() {
        return pid;
    }

    static boolean isPid(String text) {
        if (text.isEmpty() || text.length() > 9) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) < '0' || text.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    /** "PID STAGE", or null if malformed. STAGE is a hook stage name or "-" (none: the state's status decides). */
    static HookRequest parse(String line, Path directory) {
        int space = line.indexOf(' ');
        if (space < 0 || !isPid(line.substring(0, space))) {
            return null;
        }
        String stage = line.substring(space + 1);
        switch (stage) {
            case "-":
            case "precreate":
            case "prestart":
            case "createRuntime":
            case "createContainer":
            case "startContainer":
            case "poststart":
            case "poststop":
                return new HookRequest(Long.parseLong(line.substring(0, space)), stage, directory);
            default:
                return null;
        }
    }

    void serve(PrintStream log, long received) {
        Path request = directory.resolve(pid + ".req");
        Path claimed = directory.resolve(pid + ".work");
        // The pidfd first, then /proc: the process checked is the one we answer (wake) later, never a
        // later process with its pid.
        Fd pidfd;
        try {
            pidfd = Pidfds.get().open(pid);
        } catch (SyscallException gone) {
            return;  // no such process: a forged or stale line
        }
        try (pidfd) {
            if (!requesterIsHostRoot() || !holdsAnswerFile() || !Pidfds.get().alive(pidfd, "pid " + pid)) {
                log.println("idshift: daemon: hook channel: refused a request naming pid " + pid + ": not a process of host root holding its answer file");
                return;
            }
            // The claim: from here on the launcher waits for us instead of running the hook itself.
            try {
                Files.move(request, claimed, StandardCopyOption.ATOMIC_MOVE);
            } catch (NoSuchFileException e) {
                return;  // the launcher timed out and took it back, or a duplicate line
            } catch (IOException e) {
                log.println("idshift: daemon: hook channel: cannot claim " + request + ": " + e.getMessage());
                return;
            }
            try {
                work(claimed, pidfd, log, received);
            } catch (RuntimeException | Error e) {
                // Whatever broke, the launcher is told at once (no answer: it runs the hook itself),
                // not left to its work timeout. A no-op if it was answered already.
                answer(directory.resolve(pid + ".out"), pidfd, null);
                throw e;
            }
        }
    }

    private void work(Path claimed, Fd pidfd, PrintStream log, long received) {
        Path out = directory.resolve(pid + ".out");
        byte[] input;
        try {
            input = readRootFile(claimed);
        } catch (IOException e) {
            log.println("idshift: daemon: hook channel: " + e.getMessage());
            answer(out, pidfd, null);  // no answer: the launcher runs the hook itself at once
            return;
        } finally {
            deleteQuietly(claimed);
        }
        pauseForTests();
        if (!Files.exists(out, LinkOption.NOFOLLOW_LINKS)) {
            return;  // the launcher gave up meanwhile (we were stopped or slow) and runs the hook itself
        }
        long started = System.nanoTime();
        // poststart: the runtime goes on whatever the hook does (runtime-spec: a failed poststart is
        // a warning), and the stage only records who uses the staging. So the launcher is answered
        // before the work and the container's start does not wait for it; what the hook says goes
        // to this log. A poststop that comes meanwhile waits for the record on the store's lock.
        boolean answeredFirst = stage.equals("poststart");
        if (answeredFirst && !answer(out, pidfd, reply(ExitCode.OK, new byte[0], ""))) {
            return;  // the launcher gave up meanwhile and runs the hook itself
        }
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        // Open past the answer: the work done after it (afterAnswer) may still say something, for the log.
        PrintStream err = new PrintStream(stderr, true, StandardCharsets.UTF_8);
        List<Runnable> afterAnswer = new ArrayList<>();
        String[] args = stage.equals("-") ? new String[] {"hook"} : new String[] {"hook", stage};
        int code;
        try (PrintStream stdoutStream = new PrintStream(stdout, false, StandardCharsets.UTF_8)) {
            code = HookMain.run(args, new ByteArrayInputStream(input), stdoutStream, err, Long.toString(pid), afterAnswer);
            stdoutStream.flush();
        }
        long worked = System.nanoTime();
        String said = stderr.toString(StandardCharsets.UTF_8);
        boolean delivered = answeredFirst || answer(out, pidfd, reply(code, stdout.toByteArray(), said));
        long answered = System.nanoTime();
        stderr.reset();
        for (Runnable work : afterAnswer) {
            work.run();
        }
        if (answeredFirst && code != ExitCode.OK) {
            log.print(said);
            log.println("idshift: daemon: hook channel: pid " + pid + " " + stage + ": exit " + code + " (its launcher had been answered 0)");
        }
        if (ErrorReporter.debug()) {
            log.print((answeredFirst && code == ExitCode.OK ? said : "") + stderr.toString(StandardCharsets.UTF_8));
            log.println("idshift: daemon: hook channel: pid " + pid + " " + stage + ": exit " + code + " in "
                    + (worked - started) / 1_000 + " us (taken " + (started - received) / 1_000 + " us after the request came, answered "
                    + (answered - worked) / 1_000 + " us later" + (answeredFirst ? ", before the work" : "") + ")");
        }
        if (!delivered && code == 0 && stdout.size() > 0) {
            undoPrecreate(stdout.toByteArray(), log);
        }
    }

    /** The answer as the launcher reads it: "E line"... (stderr), "O" if stdout follows, "X CODE", then stdout. */
    private static byte[] reply(int code, byte[] stdout, String stderr) {
        StringBuilder text = new StringBuilder();
        for (String line : stderr.split("\n")) {
            if (!line.isEmpty() && text.length() + line.length() < MAX_REPLY) {
                text.append("E ").append(line).append('\n');
            }
        }
        if (stdout.length > 0) {
            text.append("O\n");
        }
        text.append("X ").append(code).append('\n');
        ByteArrayOutputStream whole = new ByteArrayOutputStream();
        whole.writeBytes(text.toString().getBytes(StandardCharsets.UTF_8));
        whole.writeBytes(stdout);
        return whole.toByteArray();
    }

    /**
     * Delivers {@code reply} (null: none, the launcher is to run the hook itself) into PID.out, which
     * the launcher made and holds open, then wakes it (SIGCONT through the pidfd). Delivery is
     * claimed by renaming PID.out to PID.done: a launcher that gives up renames PID.out away first,
     * so exactly one of us wins. The launcher takes the answer as complete when both names are gone.
     *
     * @return whether the launcher gets the answer
     */
    private boolean answer(Path out, Fd pidfd, byte[] reply) {
        Path done = directory.resolve(pid + ".done");
        try {
            Files.move(out, done, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            return false;  // NoSuchFile: the launcher gave up and runs the hook itself
        }
        boolean written = false;
        try {
            if (reply != null) {
                PosixFileAttributes attributes = Files.readAttributes(done, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                if (attributes.isRegularFile() && (Integer) Files.getAttribute(done, "unix:uid", LinkOption.NOFOLLOW_LINKS) == 0) {
                    Files.write(done, reply, LinkOption.NOFOLLOW_LINKS, java.nio.file.StandardOpenOption.WRITE,
                            java.nio.file.StandardOpenOption.TRUNCATE_EXISTING);
                    written = true;
                }
            }
        } catch (IOException e) {
            written = false;
        } finally {
            deleteQuietly(done);  // the launcher reads it through the fd it holds
        }
        try {
            return Pidfds.get().signal(pidfd, Linux.SIGCONT, "pid " + pid) && written;
        } catch (SyscallException e) {
            return false;
        }
    }

    /** Host root: uid 0 (real, effective, saved, fs) in the host's own user namespace. */
    private boolean requesterIsHostRoot() {
        try {
            ProcessStatus.Ids uids = ProcessStatus.of(pid).uids();
            return uids != null && uids.all(0) && UserNamespaceOwner.ofPid(pid).host();
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * Whether process PID holds PID.out open on {@link #ANSWER_FD}, as the launcher that wrote the
     * request does from before it writes the line. The number alone does not name the requester: a
     * launcher in a pid namespace of its own writes its pid as it sees it, and in ours that number is
     * another process (then its parent would be taken as the runtime and the wake-up sent to it).
     */
    private boolean holdsAnswerFile() {
        FileIdentity answer = FileIdentity.of(directory.resolve(pid + ".out"), LinkOption.NOFOLLOW_LINKS);
        return answer != null && answer.equals(FileIdentity.of(Path.of("/proc/" + pid + "/fd/" + ANSWER_FD)));
    }

    /** A regular file owned by root, not followed through a symlink. */
    private static byte[] readRootFile(Path file) throws IOException {
        PosixFileAttributes attributes = Files.readAttributes(file, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!attributes.isRegularFile() || (Integer) Files.getAttribute(file, "unix:uid", LinkOption.NOFOLLOW_LINKS) != 0) {
            throw new IOException(file + " is not a regular file owned by root: refusing it");
        }
        return Files.readAllBytes(file);
    }

    /** A precreate whose launcher gave up meanwhile ran the hook itself: our staging is nobody's. */
    @SuppressWarnings("unchecked")
    private static void undoPrecreate(byte[] config, PrintStream log) {
        try {
            Object annotations = JsonTree.parseObject(config, "precreate output").members().get("annotations");
            if (annotations instanceof Map) {
                // The annotation carries the staging secret; its mounts and record are named by its hash.
                Object secret = ((Map<String, Object>) annotations).get(IdshiftAnnotations.STAGING);
                if (secret instanceof String && StagingStore.isKey((String) secret)) {
                    String key = StagingStore.keyOf((String) secret);
                    StagingTeardown.remove(StagingStore.fromEnvironment(), FuseRegistry.fromEnvironment(), key);
                    log.println("idshift: daemon: hook channel: removed staging " + key + ": its launcher had given up");
                }
            }
        } catch (RuntimeException e) {
            log.println("idshift: daemon: hook channel: cannot undo an undelivered precreate: " + e.getMessage());
        }
    }

    /** Tests only (IDSHIFT_HOOKD_TEST_PAUSE_MS): hold a claimed request, so a test can kill or stop us mid-request. */
    private static void pauseForTests() {
        String pause = System.getenv("IDSHIFT_HOOKD_TEST_PAUSE_MS");
        if (pause == null || pause.isEmpty()) {
            return;
        }
        try {
            Thread.sleep(Long.parseLong(pause));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (NumberFormatException ignored) {
            // not a number: no pause
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // a root-only directory; the next daemon start sweeps it
        }
    }
}
