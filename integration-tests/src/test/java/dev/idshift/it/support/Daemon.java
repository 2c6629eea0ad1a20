package dev.idshift.it.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * An `idshift daemon` of the test's own: its socket, its mark store and its /etc (passwd, subuid,
 * subgid) live in a scratch directory. Stopped by its process handle, never by name.
 */
public final class Daemon implements AutoCloseable {
    private final Process process;
    private final Path socket;
    private final Path stateDir;
    private final Path log;

    private Daemon(Process process, Path socket, Path stateDir, Path log) {
        this.process = process;
        this.socket = socket;
        this.stateDir = stateDir;
        this.log = log;
    }

    public static Daemon start(Path directory, Path stateDir, Path etc) throws IOException, InterruptedException {
        return start(directory, stateDir, etc, Map.of());
    }

    /**
     * With extra environment. Its run directory (IDSHIFT_RUN_DIR: the hook channel, FUSE records) is
     * DIRECTORY/run unless the environment names another: a test daemon never touches /run/idshift.
     */
    public static Daemon start(Path directory, Path stateDir, Path etc, Map<String, String> environment)
            throws IOException, InterruptedException {
        Host.requireRoot();
        Path socket = directory.resolve("idshift.sock");
        Files.setPosixFilePermissions(directory, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Path log = directory.resolve("daemon.log");
        ProcessBuilder builder = new ProcessBuilder(Host.launcher().toString(), "daemon", "--socket", socket.toString(),
                "--etc", etc.toString()).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("IDSHIFT_STATE_DIR", stateDir.toString());
        builder.environment().put("IDSHIFT_RUN_DIR", directory.resolve("run").toString());
        builder.environment().putAll(environment);
        Process process = builder.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        // Ready means answering: the socket file appears at bind(), before listen().
        while (!answers(socket)) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                process.destroyForcibly();
                throw new IllegalStateException("the daemon did not start: " + Files.readString(log));
            }
            Thread.sleep(20);
        }
        return new Daemon(process, socket, stateDir, log);
    }

    private static boolean answers(Path socket) {
        if (!Files.exists(socket)) {
            return false;
        }
        try (RawClient client = new RawClient(socket)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public Path socket() {
        return socket;
    }

    public long pid() {
        return process.pid();
    }

    /** Threads of the daemon process. */
    public int threads() throws IOException {
        try (var entries = Files.list(Path.of("/proc/" + process.pid() + "/task"))) {
            return (int) entries.count();
        }
    }

    /** Open file descriptors of the daemon process. */
    public int openFds() throws IOException {
        try (var entries = Files.list(Path.of("/proc/" + process.pid() + "/fd"))) {
            return (int) entries.count();
        }
    }

    public boolean alive() {
        return process.isAlive();
    }

    public String log() throws IOException {
        return Files.readString(log);
    }

    /** Runs `idshift ARGS` with this daemon's mark store. */
    public Exec.Result idshift(String... args) {
        List<String> command = new java.util.ArrayList<>(List.of(Host.launcher().toString()));
        command.addAll(List.of(args));
        return Exec.run(command, null, Map.of("IDSHIFT_STATE_DIR", stateDir.toString()), 60);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
