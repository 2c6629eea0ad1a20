package dev.idshift.backend.fuse;

import dev.idshift.backend.MountAccess;
import dev.idshift.failure.Failures;
import dev.idshift.failure.Shortages;
import dev.idshift.sys.Linux;
import dev.idshift.backend.kernel.MountInfo;
import dev.idshift.sys.files.FileCalls;
import dev.idshift.sys.files.FileSyscalls;
import dev.idshift.sys.mounts.MountCalls;
import dev.idshift.sys.processes.ProcessStat;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The FUSE server process: records itself, mounts, tells its starter "ready" on stdout once the
 * kernel has the mount, and serves until the mount goes away (umount, or the last namespace
 * holding it exits). Then it removes its record and returns.
 */
public final class FuseServer {
    /** The line a started server prints once mounted; anything else on stdout is an error line. */
    public static final String READY = "ready";

    /**
     * Readahead for the mount's device (KiB). The kernel's default, 128 KiB, is one 128 KiB FUSE read
     * at a time; a 1 MiB window keeps several in flight across the server's threads (sequential reads
     * ~1.5x faster here; 2 MiB and up overrun the kernel's 12 background requests and get slower).
     */
    private static final String READAHEAD_KB = "1024";

    private FuseServer() {
    }

    /** Best effort: a mount without it is correct, only slower to read. Read from mountinfo: a stat of our own root would wait on us. */
    private static void raiseReadahead(String target) {
        String device = MountInfo.deviceAt(target);
        if (!device.isEmpty()) {
            try {
                Files.writeString(Path.of("/sys/class/bdi", device, "read_ahead_kb"), READAHEAD_KB);
            } catch (IOException | RuntimeException e) {
                System.err.println("idshift: fuse: cannot raise readahead of " + device + ": " + e.getMessage());
            }
        }
    }

    private static void detach(String target) {
        try {
            MountCalls.kernel().umount2(target, Linux.MNT_DETACH);
        } catch (RuntimeException alreadyGone) {
            // unmounted already
        }
    }

    /**
     * @param entry     the record directory its starter made (FuseRegistry.newEntry)
     * @param readiness where READY goes (then it is closed: the starter stops waiting)
     * @return the exit code: 0 after a clean unmount
     */
    public static int serve(FuseRegistry registry, Path entry, String source, String target, IdTranslation ids,
                            MountAccess access, PrintStream readiness) {
        long pid = ProcessHandle.current().pid();
        registry.save(entry, new FuseMountRecord(entry.getFileName().toString(), pid, ProcessStat.startTimeOf(pid),
                source, target));
        FileCalls.get().umask(0);  // the kernel sends the caller's umask; each serving thread applies it
        int rootFd = FileSyscalls.get().openat2(Linux.AT_FDCWD, source, Linux.O_PATH | Linux.O_DIRECTORY, 0, source);
        Runnable onMounted = new Runnable() {
            @Override
            public void run() {
                // Called as INIT is answered: the mount serves requests only once that reply is in. So
                // finish on another thread, after a first request through the mount has been answered.
                Thread ready = new Thread(new Runnable() {
                    @Override
                    public void run() {
                        Files.isDirectory(Path.of(target));
                        raiseReadahead(target);
                        readiness.println(READY);
                        if (readiness.checkError()) {
                            // Nobody reads: the starter was killed while waiting. Its mount is nobody's;
                            // unmount it, and the loop returns.
                            System.err.println("idshift: fuse: the starter is gone; unmounting " + target);
                            detach(target);
                        }
                        readiness.close();
                    }
                }, "idshift-fuse-ready");
                ready.setDaemon(true);
                try {
                    ready.start();
                } catch (OutOfMemoryError | RuntimeException e) {
                    // No thread to be had (a pids limit): say so at once, not at the starter's timeout,
                    // and take the mount down (the serving threads then return).
                    readiness.println(e instanceof OutOfMemoryError
                            ? Shortages.noThread("finishing the start of the FUSE server of " + target, e).getMessage()
                            : "cannot mount " + target + ": no thread to finish starting the server (" + e.getMessage() + ")");
                    readiness.close();
                    detach(target);
                }
            }
        };
        // SIGTERM/SIGINT: unmount, so the mount point is not left dead (the serving threads then return).
        // (Anonymous classes, not lambdas, here and in FuseSession: a lambda's first use spins method
        // handle classes at run time, ~15 of them, cold, between a spare's arguments and its mount.)
        Runtime.getRuntime().addShutdownHook(new Thread(new Runnable() {
            @Override
            public void run() {
                detach(target);
            }
        }, "idshift-fuse-unmount"));
        try {
            DirectFuse.serve(rootFd, source, target, ids, access, onMounted);
            return 0;
        } catch (RuntimeException | OutOfMemoryError e) {
            readiness.println("cannot mount " + target + ": " + Failures.of(e).getMessage());
            readiness.close();
            return 4;
        } finally {
            registry.remove(entry);
        }
    }
}
