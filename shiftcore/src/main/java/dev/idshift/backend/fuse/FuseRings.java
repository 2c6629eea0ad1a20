package dev.idshift.backend.fuse;

import dev.idshift.sys.SyscallException;
import dev.idshift.sys.files.ProcFiles;
import dev.idshift.sys.uring.IoUring;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A connection's FUSE-over-io_uring queues: one per possible CPU (the kernel's count; it waits for
 * all of them before it sends anything through them), each with its own ring and thread.
 *
 * <p>Opt-in: taken when the server's environment has {@code IDSHIFT_FUSE_URING=1} and the kernel offers
 * it in INIT (fuse's {@code enable_uring} module parameter, off by default). Not by default because on
 * the 2-core VM it was measured on it won creating files (1,425 against 1,508 ms for 10,000) but lost
 * untarring (4.0 against 3.3 s: a queue's thread is bound to its CPU, so the asynchronous requests a
 * busy caller leaves, RELEASE above all, wait for that CPU instead of being served on the idle one),
 * and a mount torn down with a request in flight (a container's last close as it exits) waits for the
 * kernel's next 50 ms teardown tick (FUSE_URING_TEARDOWN_INTERVAL): +50 ms on every FUSE container's
 * lifecycle. The rings are opened before INIT is answered with
 * FUSE_OVER_IO_URING: once it has been, the kernel holds every request until the queues register,
 * so an io_uring the kernel refuses (kernel.io_uring_disabled) must be found out before that.
 * FORGET and INTERRUPT keep coming through /dev/fuse, and so does everything if a queue fails to
 * register (the kernel then turns io_uring off for the connection).
 */
final class FuseRings {
    /** One entry per queue: its thread answers one request at a time, and COMMIT_AND_FETCH takes the next. */
    private static final int DEPTH = 1;

    private final List<FuseRingQueue> queues;
    private final List<Thread> threads = new ArrayList<>();

    private FuseRings(List<FuseRingQueue> queues) {
        this.queues = queues;
    }

    /** Whether this server was asked to take io_uring when the kernel offers it (IDSHIFT_FUSE_URING=1). */
    static boolean wanted() {
        return "1".equals(System.getenv("IDSHIFT_FUSE_URING"));
    }

    /**
     * The queues with their rings open, or null (with the reason on stderr) if io_uring cannot be had:
     * the connection then stays on /dev/fuse.
     */
    static FuseRings open(FuseSession session, int deviceFd, int payloadSize) {
        int cpus;
        try {
            cpus = possibleCpus(ProcFiles.read("/sys/devices/system/cpu/possible").trim());
        } catch (IOException | RuntimeException e) {
            System.err.println("idshift: fuse: cannot count the possible CPUs (" + e.getMessage() + "); serving through /dev/fuse");
            return null;
        }
        List<FuseRingQueue> queues = new ArrayList<>();
        try {
            for (int qid = 0; qid < cpus; qid++) {
                queues.add(new FuseRingQueue(session, IoUring.open(DEPTH, 2 * DEPTH), deviceFd, qid, DEPTH, payloadSize));
            }
            return new FuseRings(queues);
        } catch (SyscallException e) {
            System.err.println("idshift: fuse: " + e.getMessage() + "; serving through /dev/fuse");
            for (FuseRingQueue queue : queues) {
                queue.close();
            }
            return null;
        }
    }

    /**
     * Starts the queues' threads: only once INIT is answered (the kernel refuses REGISTER before, EAGAIN).
     * A thread that cannot be had (a pids limit: one thread per possible CPU) gives the connection back
     * to /dev/fuse: the kernel would otherwise hold every request, for good, until that queue registers.
     */
    void start() {
        for (int qid = 0; qid < queues.size(); qid++) {
            Thread thread = new Thread(queues.get(qid), "idshift-uring-" + qid);
            thread.setDaemon(true);
            try {
                thread.start();
            } catch (OutOfMemoryError e) {
                System.err.println("idshift: fuse: no thread for ring queue " + qid + " (" + e.getMessage() + "); serving through /dev/fuse");
                queues.get(qid).abandon();
                for (int rest = qid + 1; rest < queues.size(); rest++) {
                    queues.get(rest).close();
                }
                return;
            }
            threads.add(thread);
        }
    }

    /** Waits for the queues' threads, which end when the connection does. */
    void join() throws InterruptedException {
        for (Thread thread : threads) {
            thread.join();
        }
    }

    /**
     * How many CPUs /sys/devices/system/cpu/possible lists ("0-3", "0-3,8-11", "0"): the kernel's
     * num_possible_cpus(), which is how many queues it wants.
     */
    static int possibleCpus(String list) {
        int count = 0;
        for (String range : list.split(",")) {
            int dash = range.indexOf('-');
            if (dash < 0) {
                Integer.parseInt(range);
                count++;
            } else {
                count += Integer.parseInt(range.substring(dash + 1)) - Integer.parseInt(range.substring(0, dash)) + 1;
            }
        }
        if (count <= 0) {
            throw new IllegalArgumentException("no CPUs in \"" + list + "\"");
        }
        return count;
    }
}
