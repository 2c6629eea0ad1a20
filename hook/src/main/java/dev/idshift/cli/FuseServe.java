package dev.idshift.cli;

import dev.idshift.app.ErrorReporter;
import dev.idshift.app.ExitCode;
import dev.idshift.app.FuseServerCommand;
import dev.idshift.failure.Failures;
import dev.idshift.idmap.IdMapParser;
import dev.idshift.backend.MountAccess;
import dev.idshift.backend.fuse.FuseRegistry;
import dev.idshift.backend.fuse.FuseServer;
import dev.idshift.backend.fuse.IdTranslation;
import dev.idshift.backend.fuse.SpareFuseServers;
import java.io.FileOutputStream;
import java.io.FileDescriptor;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code idshift __fuse-serve ENTRY SRC DST UIDMAP GIDMAP FLAGS}: the FUSE server process, started
 * (through FuseMounts.start, with app.FuseServerCommand's processes) by {@code idshift mount --backend
 * fuse}, the hook, precreate and the daemon; never by people.
 * {@code idshift __fuse-serve --spare}: a spare the daemon keeps (SpareFuseServers): it warms up,
 * then reads the same six arguments from stdin (NUL-separated, up to EOF) and serves; an EOF with
 * none (the daemon let it go, or is gone) and it exits. The launcher starts one the same way beside a
 * hook's JVM when the config asks for FUSE (app.LauncherSpareServer). It warms up while it waits and
 * stops warming up as soon as its arguments are there.
 */
public final class FuseServe {
    public static final String COMMAND = FuseServerCommand.NAME;

    /** Training rounds of a spare: enough for its request paths to be compiled before its first mount. */
    private static final int SPARE_WARM_UP_ROUNDS = 300;
    /**
     * {@code --spare launcher}: the launcher's spare, started beside a hook's JVM that needs it within a
     * JVM start. One round only (the classes loaded): on two cores, more rounds (and their compiles) took
     * the CPU from the hook's JVM and made the start slower, not faster.
     */
    static final String LAUNCHER_SPARE = "launcher";
    /** Rounds per training (its temporary tree made once); each round looks whether the arguments came. */
    private static final int SPARE_WARM_UP_STEP = 20;

    private FuseServe() {
    }

    public static int run(String[] args) {
        if (args.length == 2 && args[1].equals(SpareFuseServers.SPARE_OPTION)) {
            return spare(SPARE_WARM_UP_ROUNDS);
        }
        if (args.length == 3 && args[1].equals(SpareFuseServers.SPARE_OPTION) && args[2].equals(LAUNCHER_SPARE)) {
            return spare(1);
        }
        if (args.length != 7) {
            System.err.println("idshift: " + COMMAND + " is internal: ENTRY SRC DST UIDMAP GIDMAP FLAGS (e.g. rw,nosuid,nodev)");
            return ExitCode.USAGE;
        }
        return serve(args[1], args[2], args[3], args[4], args[5], args[6]);
    }

    private static int spare(int rounds) {
        // Warm up on a thread of its own while waiting for the arguments, and stop warming once they are
        // there: a spare taken at once (the launcher's, started beside a hook that needs it a JVM start
        // later) serves at once instead of after its warm-up; one never taken exits on EOF at once.
        AtomicBoolean taken = new AtomicBoolean();
        Thread warmUp = new Thread(() -> {
            for (int done = 0; done < rounds && !taken.get(); done += SPARE_WARM_UP_STEP) {
                if (FuseTraining.warmUp(done == 0 ? 1 : SPARE_WARM_UP_STEP, taken::get) != ExitCode.OK) {
                    return;  // it said why; serving does not depend on it
                }
            }
        }, "idshift-fuse-warm-up");
        warmUp.setDaemon(true);
        warmUp.start();
        byte[] input;
        try {
            input = System.in.readAllBytes();
        } catch (IOException e) {
            return ExitCode.OK;  // nobody to serve
        }
        taken.set(true);
        if (input.length == 0) {
            return ExitCode.OK;  // let go unused
        }
        String[] fields = new String(input, StandardCharsets.UTF_8).split("\0", -1);
        if (fields.length != 6) {
            System.err.println("idshift: " + COMMAND + " " + SpareFuseServers.SPARE_OPTION + ": expected 6 NUL-separated arguments, got "
                    + fields.length);
            return ExitCode.USAGE;
        }
        try {
            // From now on a server like any other: its messages go to its own log.
            System.setErr(new PrintStream(new FileOutputStream(FuseRegistry.logOf(Path.of(fields[0])).toFile(), true), true,
                    StandardCharsets.UTF_8));
        } catch (IOException e) {
            System.err.println("idshift: " + COMMAND + ": cannot open the log in " + fields[0] + ": " + e.getMessage());
        }
        return serve(fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]);
    }

    private static int serve(String entryPath, String source, String target, String uidMap, String gidMap, String flags) {
        PrintStream readiness = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        try {
            Path entry = Path.of(entryPath);
            IdTranslation ids = new IdTranslation(IdMapParser.parseColonList(uidMap), IdMapParser.parseColonList(gidMap));
            FuseRegistry registry = new FuseRegistry(entry.getParent().getParent());
            return FuseServer.serve(registry, entry, source, target, ids, MountAccess.parse(flags), readiness);
        } catch (RuntimeException | Error e) {
            readiness.println(Failures.of(e).getMessage());  // its starter's one line: a thread it could not start, too
            return ErrorReporter.report(e, COMMAND, System.err);
        }
    }
}
