package dev.idshift.it.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * How a FUSE view's requests reach its server: FUSE over io_uring (Linux 6.14+) is gated by the fuse
 * module's enable_uring parameter, off by default, and a server asks for it only with
 * {@link #URING} in its environment. {@link #ringOn()} switches the parameter on for a test and back
 * to what it was at close (it only decides what new connections may ask for).
 */
public final class FuseTransport implements AutoCloseable {
    private static final Path ENABLE_URING = Path.of("/sys/module/fuse/parameters/enable_uring");
    /** The environment that makes a server take io_uring where the kernel offers it (opt-in). */
    public static final Map<String, String> URING = Map.of("IDSHIFT_FUSE_URING", "1");

    private final String was;

    private FuseTransport(String was) {
        this.was = was;
    }

    /** Lets new FUSE connections take io_uring; skips (fails under CI) on a kernel without it. */
    public static FuseTransport ringOn() throws IOException {
        Host.require(Files.isWritable(ENABLE_URING), "a kernel with FUSE over io_uring (" + ENABLE_URING + ")");
        String was = Files.readString(ENABLE_URING).trim();
        Files.writeString(ENABLE_URING, "Y");
        return new FuseTransport(was);
    }

    @Override
    public void close() throws IOException {
        Files.writeString(ENABLE_URING, was);
    }

    /** The names of a process's threads ("idshift-uring-0", ...). */
    public static List<String> threadNames(long pid) throws IOException {
        List<String> names = new ArrayList<>();
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    names.add(Files.readString(task.resolve("comm")).trim());
                } catch (IOException gone) {
                    // the thread ended meanwhile
                }
            }
        }
        return names;
    }

    /** The names of a process's FUSE ring threads, sorted. */
    public static List<String> ringThreads(long pid) throws IOException {
        return threadNames(pid).stream().filter(name -> name.startsWith("idshift-uring")).sorted().toList();
    }

    /**
     * The process's ring threads once there are {@code expected} of them (they start right after INIT
     * is answered, as the mount command returns), or as many as there are after 5 s.
     */
    public static List<String> awaitRingThreads(long pid, int expected) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        List<String> threads = ringThreads(pid);
        while (threads.size() != expected && System.nanoTime() < deadline) {
            Thread.sleep(20);
            threads = ringThreads(pid);
        }
        return threads;
    }

    /** The kernel's count of possible CPUs: how many queues it wants (/sys/devices/system/cpu/possible). */
    public static int possibleCpus() throws IOException {
        return cpus("possible").size();
    }

    /** The CPUs online now (/sys/devices/system/cpu/online), in order. */
    public static List<Integer> onlineCpus() throws IOException {
        return cpus("online");
    }

    /** The CPUs a /sys/devices/system/cpu list names ("0-3", "0-3,8-11", "0"). */
    private static List<Integer> cpus(String list) throws IOException {
        List<Integer> cpus = new ArrayList<>();
        for (String range : Files.readString(Path.of("/sys/devices/system/cpu", list)).trim().split(",")) {
            int dash = range.indexOf('-');
            int first = Integer.parseInt(dash < 0 ? range : range.substring(0, dash));
            int last = dash < 0 ? first : Integer.parseInt(range.substring(dash + 1));
            for (int cpu = first; cpu <= last; cpu++) {
                cpus.add(cpu);
            }
        }
        return cpus;
    }

    /**
     * How many read(2) calls the process's threads other than its ring threads have made: its
     * /dev/fuse readers, which with the ring in use read only FORGETs and INTERRUPTs, and the JVM's.
     */
    public static long readsOutsideTheRing(long pid) throws IOException {
        long reads = 0;
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    // comm is cut at 15 characters
                    if (Files.readString(task.resolve("comm")).trim().startsWith("idshift-uring")) {
                        continue;
                    }
                    for (String line : Files.readAllLines(task.resolve("io"))) {
                        if (line.startsWith("syscr:")) {
                            reads += Long.parseLong(line.substring(6).trim());
                        }
                    }
                } catch (IOException gone) {
                    // the thread ended meanwhile
                }
            }
        }
        return reads;
    }
}
