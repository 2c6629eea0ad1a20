package dev.idshift.hookchannel;

import dev.idshift.app.ErrorReporter;
import dev.idshift.config.annotations.IdshiftAnnotations;
import dev.idshift.config.json.JsonTree;
import dev.idshift.hook.FuseShift;
import dev.idshift.hook.HookMain;
import dev.idshift.backend.fuse.FuseRegistry;
import dev.idshift.staging.StagingStore;
import dev.idshift.sys.Linux;
import dev.idshift.sys.SyscallException;
import dev.idshift.sys.Syscalls;
import dev.idshift.sys.files.FileSyscalls;
import dev.idshift.sys.files.ProcFiles;
import dev.idshift.sys.namespaces.UserNamespaceOwner;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributes;
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
    /** A reply line (E ... and X CODE) must stay under PIPE_BUF to reach the launcher in one write. */
    private static final int MAX_REPLY = 4000;

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
        Path reply = directory.resolve(pid + ".reply");
        if (!requesterIsHostRoot()) {
            log.println("idshift: daemon: hook channel: refused a request naming pid " + pid + ": not a process of host root");
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
        // Whatever happens from here, the reply FIFO's name goes: without an answer on it, the
        // launcher's watchdog then ends the wait at once and the hook runs in the launcher's JVM.
        try {
            work(claimed, reply, log, received);
        } finally {
            deleteQuietly(reply);
        }
    }

    private void work(Path claimed, Path reply, PrintStream log, long received) {
        byte[] input;
        try {
            input = readRootFile(claimed);
        } catch (IOException e) {
            log.println("idshift: daemon: hook channel: " + e.getMessage());
            return;
        } finally {
            deleteQuietly(claimed);
        }
        pauseForTests();
        if (!Files.exists(reply, LinkOption.NOFOLLOW_LINKS)) {
            return;  // the launcher gave up meanwhile (we were stopped or slow) and runs the hook itself
        }
        long started = System.nanoTime();
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        String[] args = stage.equals("-") ? new String[] {"hook"} : new String[] {"hook", stage};
        int code;
        try (PrintStream out = new PrintStream(stdout, false, StandardCharsets.UTF_8);
             PrintStream err = new PrintStream(stderr, true, StandardCharsets.UTF_8)) {
            code = HookMain.run(args, new ByteArrayInputStream(input), out, err, Long.toString(pid));
            out.flush();
        }
        long worked = System.nanoTime();
        boolean delivered = deliver(reply, directory.resolve(pid + ".out"), code, stdout.toByteArray(), stderr.toString(StandardCharsets.UTF_8));
        if (ErrorReporter.debug()) {
            log.println("idshift: daemon: hook channel: pid " + pid + " " + stage + ": exit " + code + " in "
                    + (worked - started) / 1_000 + " us (taken " + (started - received) / 1_000 + " us after the request came, answered "
                    + (System.nanoTime() - worked) / 1_000 + " us later)");
        }
        if (!delivered && code == 0 && stdout.size() > 0) {
            undoPrecreate(stdout.toByteArray(), log);
        }
    }

    /** Host root: uid 0 (real, effective, saved, fs) in the host's own user namespace. */
    private boolean requesterIsHostRoot() {
        try {
            String status = ProcFiles.read("/proc/" + pid + "/status");
            int at = status.indexOf("\nUid:");
            if (at < 0) {
                return false;
            }
            String[] uids = status.substring(at + 5, status.indexOf('\n', at + 1)).trim().split("\\s+");
            for (String uid : uids) {
                if (!uid.equals("0")) {
                    return false;
                }
            }
            return UserNamespaceOwner.ofPid(pid).host();
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** A regular file owned by root, not followed through a symlink. */
    private static byte[] readRootFile(Path file) throws IOException {
        PosixFileAttributes attributes = Files.readAttributes(file, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!attributes.isRegularFile() || (Integer) Files.getAttribute(file, "unix:uid", LinkOption.NOFOLLOW_LINKS) != 0) {
            throw new IOException(file + " is not a regular file owned by root: refusing it");
        }
        return Files.readAllBytes(file);
    }

    /**
     * Stdout (precreate's config) into PID.out, which the launcher made and holds open; then the
     * reply on PID.reply, opened without blocking: no reader means the launcher gave up.
     *
     * @return whether the launcher got it
     */
    private static boolean deliver(Path reply, Path out, int code, byte[] stdout, String stderr) {
        FileSyscalls files = FileSyscalls.get();
        Syscalls sys = Syscalls.get();
        StringBuilder text = new StringBuilder();
        try {
            if (stdout.length > 0) {
                PosixFileAttributes attributes = Files.readAttributes(out, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                if (!attributes.isRegularFile() || (Integer) Files.getAttribute(out, "unix:uid", LinkOption.NOFOLLOW_LINKS) != 0) {
                    return false;
                }
                Files.write(out, stdout);
                text.append("O\n");
            }
        } catch (IOException e) {
            return false;
        } finally {
            deleteQuietly(out);  // the launcher reads it through the fd it holds
        }
        for (String line : stderr.split("\n")) {
            if (!line.isEmpty() && text.length() + line.length() < MAX_REPLY) {
                text.append("E ").append(line).append('\n');
            }
        }
        text.append("X ").append(code).append('\n');
        int fd;
        try {
            fd = files.open(reply.toString(), Linux.O_WRONLY | Linux.O_NONBLOCK | Linux.O_NOFOLLOW);
        } catch (SyscallException gone) {
            return false;  // ENXIO: nobody reads (the launcher timed out); ENOENT: it cleaned up
        }
        try {
            if (!isRootFifo(reply)) {
                return false;
            }
            // O_RDWR through our fd never blocks, whatever the launcher does meanwhile; the reply fits a pipe.
            try (RandomAccessFile writer = new RandomAccessFile("/proc/self/fd/" + fd, "rw")) {
                writer.write(text.toString().getBytes(StandardCharsets.UTF_8));
            }
            return true;
        } catch (IOException e) {
            return false;
        } finally {
            sys.close(fd);
            deleteQuietly(reply);
        }
    }

    private static boolean isRootFifo(Path path) throws IOException {
        PosixFileAttributes attributes = Files.readAttributes(path, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        return attributes.isOther() && (Integer) Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS) == 0;
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
                    FuseShift.remove(StagingStore.fromEnvironment(), FuseRegistry.fromEnvironment(), key);
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
