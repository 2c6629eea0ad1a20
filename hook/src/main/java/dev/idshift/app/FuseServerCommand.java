package dev.idshift.app;

import java.util.List;

/**
 * How an entry point starts a FUSE server process: this launcher with the internal subcommand.
 * The entry points hand it to the engine's FUSE backend, which never reaches up for it.
 */
public final class FuseServerCommand {
    /** The internal subcommand, served by {@code cli.FuseServe}. */
    public static final String NAME = "__fuse-serve";

    private FuseServerCommand() {
    }

    /** The command that starts a server: the launcher the JVM was started by, and {@link #NAME}. */
    public static List<String> argv() {
        String launcher = System.getProperty("idshift.launcher");
        if (launcher == null) {
            throw new IllegalStateException("the FUSE backend needs bin/idshift (the idshift.launcher property is not set)");
        }
        return List.of(launcher, NAME);
    }
}
