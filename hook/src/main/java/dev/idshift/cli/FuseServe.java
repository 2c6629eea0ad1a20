package dev.idshift.cli;

import dev.idshift.app.ErrorReporter;
import dev.idshift.app.ExitCode;
import dev.idshift.app.FuseServerCommand;
import dev.idshift.idmap.IdMapParser;
import dev.idshift.backend.MountAccess;
import dev.idshift.backend.fuse.FuseRegistry;
import dev.idshift.backend.fuse.FuseServer;
import dev.idshift.backend.fuse.IdTranslation;
import java.io.FileOutputStream;
import java.io.FileDescriptor;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * {@code idshift __fuse-serve ENTRY SRC DST UIDMAP GIDMAP FLAGS}: the FUSE server process, started
 * (through FuseMounts.start, with app.FuseServerCommand's argv) by {@code idshift mount --backend
 * fuse}, the hook, precreate and the daemon; never by people.
 */
public final class FuseServe {
    public static final String COMMAND = FuseServerCommand.NAME;

    private FuseServe() {
    }

    public static int run(String[] args) {
        if (args.length != 7) {
            System.err.println("idshift: " + COMMAND + " is internal: ENTRY SRC DST UIDMAP GIDMAP FLAGS (e.g. rw,nosuid,nodev)");
            return ExitCode.USAGE;
        }
        PrintStream readiness = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        try {
            Path entry = Path.of(args[1]);
            IdTranslation ids = new IdTranslation(IdMapParser.parseColonList(args[4]), IdMapParser.parseColonList(args[5]));
            FuseRegistry registry = new FuseRegistry(entry.getParent().getParent());
            return FuseServer.serve(registry, entry, args[2], args[3], ids, MountAccess.parse(args[6]), readiness);
        } catch (RuntimeException e) {
            readiness.println(e.getMessage());
            return ErrorReporter.report(e, COMMAND, System.err);
        }
    }
}
