package dev.idshift.cli.commands;

import dev.idshift.app.ExitCode;
import dev.idshift.app.FuseServerCommand;
import dev.idshift.failure.UnsupportedException;
import dev.idshift.backend.fuse.SpareFuseServers;
import dev.idshift.backend.kernel.UsernsCache;
import dev.idshift.backend.kernel.UsernsPool;
import dev.idshift.daemon.DaemonServer;
import dev.idshift.daemon.protocol.Protocol;
import dev.idshift.marks.MarkStore;
import dev.idshift.hookchannel.HookChannel;
import dev.idshift.staging.StagingStore;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "daemon", header = "The helper daemon (as root): shifted mounts for others.", mixinStandardHelpOptions = true,
        description = {"The helper daemon (run as root, e.g. by systemd: see contrib/idshift.service). Listens on a unix",
            "socket, one JSON request and response per line (protocol in the README), and hands callers shifted",
            "mounts of marked subtrees as file descriptors. Who asks is taken from the kernel (SO_PEERCRED and SO_PEERPIDFD at connect)."})
public final class DaemonCommand implements Callable<Integer> {
    @Option(names = "--socket", paramLabel = "PATH", description = "Default: $IDSHIFT_SOCKET or /run/idshift/idshift.sock.")
    Path socket;

    @Option(names = "--etc", paramLabel = "DIR", defaultValue = "/etc", hidden = true,
            description = "Where passwd, subuid and subgid are read from (tests).")
    Path etc;

    @Override
    public Integer call() throws Exception {
        MarkCommand.requireRoot("daemon");
        // A long-running process: every shift (hook channel precreates, nested overlays) borrows its
        // helper user namespaces from one cache instead of starting a helper process each.
        UsernsPool.shareThrough(new UsernsCache(64));
        DaemonServer server = new DaemonServer(socket != null ? socket : Protocol.socketFromEnvironment(),
                MarkStore.fromEnvironment(), etc, System.err);
        // Root-run hooks hand their work to this warm JVM over the hook channel (a separate component).
        // Without it hooks still work, each in its own JVM: a channel that cannot be set up is not fatal.
        HookChannel hooks = null;
        try {
            hooks = HookChannel.start(StagingStore.fromEnvironment().root(), System.err);
        } catch (RuntimeException e) {
            System.err.println("idshift: daemon: no hook channel (hooks will start a JVM each): " + e.getMessage());
        }
        HookChannel channel = hooks;
        // FUSE servers this daemon starts (hooks' FUSE containers) come warm from a spare. Not started
        // by bin/idshift, it has no server command: FUSE then fails as it would have, with that reason.
        SpareFuseServers spareServers = null;
        try {
            spareServers = new SpareFuseServers(FuseServerCommand.argv(), System.err);
            FuseServerCommand.useSpares(spareServers);
        } catch (UnsupportedException e) {
            System.err.println("idshift: daemon: no spare FUSE servers: " + e.getMessage());
        }
        SpareFuseServers spares = spareServers;
        Runtime.getRuntime().addShutdownHook(new Thread(new Runnable() {
            @Override
            public void run() {
                if (channel != null) {
                    channel.close();
                }
                if (spares != null) {
                    spares.close();
                }
                server.stop();
            }
        }, "idshift-daemon-stop"));
        server.serve();
        return ExitCode.OK;
    }
}
