package dev.idshift.app;

import dev.idshift.backend.fuse.FuseServerProcesses;
import dev.idshift.backend.fuse.InProcessFuseServers;
import dev.idshift.failure.UnsupportedException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * How an entry point starts a FUSE server process: this launcher with the internal subcommand.
 * The entry points hand it to the engine's FUSE backend, which never reaches up for it.
 */
public final class FuseServerCommand {
    /** The internal subcommand, served by {@code cli.FuseServe}. */
    public static final String NAME = "__fuse-serve";

    /** The daemon's spare servers, once it has set them up; else, once asked for, the launcher's spare or fresh servers. */
    private static volatile FuseServerProcesses spares;

    /**
     * {@link #processes}, asked each time a server is started (not when the engine's FUSE backend is
     * made: the daemon sets up its spares later, and a hook that needs no server needs no launcher).
     */
    public static final FuseServerProcesses SERVERS = new FuseServerProcesses() {
        @Override
        public Process start(List<String> arguments, Path log) throws IOException {
            return processes().start(arguments, log);
        }

        @Override
        public String describe() {
            return processes().describe();
        }
    };

    private FuseServerCommand() {
    }

    /**
     * Where this process gets its FUSE servers: the daemon's spares if it keeps them; in a hook, the
     * JVM itself if the launcher asked it to serve (HookServing), else the spare the launcher started
     * beside it (LauncherSpareServer) for its first server; else a new process each.
     */
    public static FuseServerProcesses processes() {
        FuseServerProcesses pool = spares;
        if (pool != null) {
            return pool;
        }
        synchronized (FuseServerCommand.class) {
            if (spares == null && HookServing.requested()) {
                spares = new InProcessFuseServers();  // this hook's JVM serves (HookServing): no process to start
            } else if (spares == null) {
                FuseServerProcesses fresh = FuseServerProcesses.fresh(argv());
                spares = LauncherSpareServer.fromLauncher(fresh).<FuseServerProcesses>map(spare -> spare).orElse(fresh);
            }
            return spares;
        }
    }

    /** The daemon: FUSE servers come from {@code pool} from now on (SpareFuseServers). */
    public static void useSpares(FuseServerProcesses pool) {
        spares = pool;
    }

    /** The command that starts a server: the launcher the JVM was started by, and {@link #NAME}. */
    public static List<String> argv() {
        String launcher = System.getProperty("idshift.launcher");
        if (launcher == null) {
            throw new UnsupportedException("the FUSE backend needs bin/idshift (the idshift.launcher property is not set)");
        }
        return List.of(launcher, NAME);
    }
}
