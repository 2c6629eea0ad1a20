package dev.idshift.it.support;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

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

    /** Whether PID runs (exists and is not a zombie). */
    public static boolean alive(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (Exception e) {
            return false;
        }
    }

    /** Whether PID is gone within 30 s. */
    public static boolean awaitGone(long pid) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (alive(pid)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(50);
        }
        return true;
    }

    /** The pids in RUN/fuse/KEY/record.json (the servers' records under a run directory). */
    public static List<Long> recorded(Path run) throws Exception {
        Path fuse = run.resolve("fuse");
        if (!Files.isDirectory(fuse)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(fuse)) {
            return entries.map(entry -> entry.resolve("record.json")).filter(Files::isRegularFile).map(record -> {
                try {
                    String json = Files.readString(record);
                    return Long.parseLong(json.replaceAll("(?s).*\"pid\"\\s*:\\s*(\\d+).*", "$1"));
                } catch (Exception e) {
                    throw new IllegalStateException(record + ": " + e, e);
                }
            }).toList();
        }
    }
}
