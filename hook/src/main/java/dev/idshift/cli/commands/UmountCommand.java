package dev.idshift.cli.commands;

import dev.idshift.failure.KernelRefusedException;
import dev.idshift.failure.BadInputException;
import dev.idshift.app.ExitCode;
import dev.idshift.backend.fuse.FuseMountRecord;
import dev.idshift.backend.fuse.FuseMounts;
import dev.idshift.backend.fuse.FuseRegistry;
import dev.idshift.backend.kernel.ShiftedMounts;
import java.util.Optional;
import dev.idshift.sys.Errno;
import dev.idshift.sys.SyscallException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "umount", header = "Remove a view made by idshift mount (and stop its FUSE server).", mixinStandardHelpOptions = true,
        description = {"Removes a shifted mount made by `idshift mount`. For a FUSE mount, also stops its server (and",
            "removes a mount left dead by a killed server)."})
public final class UmountCommand implements Callable<Integer> {
    @Option(names = {"-l", "--lazy"}, description = "Detach now even if busy; it goes away when no longer used.")
    boolean lazy;

    @Parameters(index = "0", paramLabel = "DST", description = "Where the shifted view is mounted.")
    Path target;

    @Override
    public Integer call() {
        String path = target.toAbsolutePath().normalize().toString();
        FuseRegistry servers = FuseRegistry.fromEnvironment();
        Optional<FuseMountRecord> server = servers.serving(path);
        if (server.isPresent()) {
            // A FUSE mount: unmount it and see its server gone (alive, or killed and left ENOTCONN behind).
            FuseMounts.stop(servers, server.get(), lazy);
            return ExitCode.OK;
        }
        try {
            ShiftedMounts.unmount(path, lazy);
        } catch (SyscallException e) {
            if (e.errno() == Errno.EINVAL) {
                throw new BadInputException(path + " is not a mount point");
            }
            if (e.errno() == Errno.EBUSY) {
                throw new KernelRefusedException(path + " is busy (a process uses it); retry with --lazy to detach it anyway", e);
            }
            throw e;
        }
        return ExitCode.OK;
    }
}
