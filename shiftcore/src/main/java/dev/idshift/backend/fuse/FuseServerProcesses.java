package dev.idshift.backend.fuse;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a FUSE server process comes from. {@link #fresh}: a new process per mount (a JVM start, ~0.3 s
 * and more on a busy machine); {@link SpareFuseServers}: one started beforehand by the long-running
 * daemon, warm and waiting for its arguments. Either way the server is a process of its own, in its
 * own session, that outlives whoever started it.
 */
public interface FuseServerProcesses {
    /**
     * A server for one mount, started or handed its arguments; its first line on stdout is
     * {@link FuseServer#READY} or why not.
     *
     * @param arguments ENTRY SRC DST UIDMAP GIDMAP FLAGS (see {@code idshift __fuse-serve})
     * @param log       where its stderr goes (appended)
     */
    Process start(List<String> arguments, Path log) throws IOException;

    /** What it runs, for messages. */
    String describe();

    /** A new process per mount: {@code setsid COMMAND... ARGUMENTS...}. */
    static FuseServerProcesses fresh(List<String> command) {
        return new FuseServerProcesses() {
            @Override
            public Process start(List<String> arguments, Path log) throws IOException {
                List<String> argv = new ArrayList<>();
                argv.add("setsid");
                argv.addAll(command);
                argv.addAll(arguments);
                // Its working directory is its record directory (root-only, removed with the record): a
                // JVM that cannot start (a pids limit) writes its hs_err_pid file there, not into the
                // caller's directory.
                return new ProcessBuilder(argv)
                        .directory(log.getParent().toFile())
                        .redirectInput(new File("/dev/null"))
                        .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
                        .start();
            }

            @Override
            public String describe() {
                return command.get(0);
            }
        };
    }
}
