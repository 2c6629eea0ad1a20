package dev.idshift.it.support;

import java.nio.file.Path;
import java.util.List;

/** FUSE server processes still running for a source: to prove none outlives its mount or container. */
public final class FuseServers {
    private FuseServers() {
    }

    /** Pids of `idshift __fuse-serve` processes whose source is {@code source}. */
    public static List<Long> serving(Path source) {
        return ProcessHandle.allProcesses()
                .filter(process -> process.info().arguments()
                        .map(arguments -> List.of(arguments).contains("__fuse-serve") && List.of(arguments).contains(source.toString()))
                        .orElse(false))
                .map(ProcessHandle::pid)
                .toList();
    }

    /** Pids of FUSE servers a daemon started (their source is the daemon's /proc/PID/fd link). */
    public static List<Long> servingFor(long daemonPid) {
        String prefix = "/proc/" + daemonPid + "/fd/";
        return ProcessHandle.allProcesses()
                .filter(process -> process.info().arguments()
                        .map(arguments -> List.of(arguments).contains("__fuse-serve")
                                && List.of(arguments).stream().anyMatch(argument -> argument.startsWith(prefix)))
                        .orElse(false))
                .map(ProcessHandle::pid)
                .toList();
    }
}
