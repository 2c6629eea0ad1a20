package dev.idshift.mount.fuse;

import dev.idshift.staging.StagingStore;
import dev.idshift.sys.FileCalls;
import dev.idshift.sys.Linux;
import dev.idshift.sys.Syscalls;
import java.io.PrintStream;
import java.nio.file.Path;
import ru.serce.jnrfuse.FuseException;

/**
 * The FUSE server process: records itself, mounts, tells its starter "ready" on stdout once the
 * kernel has the mount, and serves until the mount goes away (umount, or the last namespace
 * holding it exits). Then it removes its record and returns.
 */
public final class FuseServer {
    /** The line a started server prints once mounted; anything else on stdout is an error line. */
    public static final String READY = "ready";

    private FuseServer() {
    }

    /**
     * @param entry     the record directory its starter made (FuseRegistry.newEntry)
     * @param readiness where READY goes (then it is closed: the starter stops waiting)
     * @return the exit code: 0 after a clean unmount
     */
    public static int serve(FuseRegistry registry, Path entry, String source, String target, IdTranslation ids,
                            boolean readonly, PrintStream readiness) {
        long pid = ProcessHandle.current().pid();
        registry.save(entry, new FuseMountRecord(entry.getFileName().toString(), pid, StagingStore.processStartTime(pid),
                source, target));
        FileCalls.get().umask(0);  // the kernel applied the caller's umask already; ours must not mask again
        int rootFd = Syscalls.get().openat2(Linux.AT_FDCWD, source, Linux.O_PATH | Linux.O_DIRECTORY, 0, source);
        ShiftingFilesystem filesystem = new ShiftingFilesystem(rootFd, ids, new Runnable() {
            @Override
            public void run() {
                readiness.println(READY);
                readiness.close();
            }
        });
        // SIGTERM/SIGINT: unmount, so the mount point is not left dead (libfuse then returns from its loop).
        Runtime.getRuntime().addShutdownHook(new Thread(new Runnable() {
            @Override
            public void run() {
                try {
                    Syscalls.get().umount2(target, Linux.MNT_DETACH);
                } catch (RuntimeException alreadyGone) {
                    // unmounted already
                }
            }
        }, "idshift-fuse-unmount"));
        try {
            filesystem.mount(Path.of(target), true, false, FuseOptions.of(source, readonly));
            return 0;
        } catch (FuseException e) {
            String why = e.getCause() != null ? e.getCause().getMessage() : e.getMessage();
            readiness.println("cannot mount " + target + ": " + why + " (libfuse's own message is in " + FuseRegistry.logOf(entry) + ")");
            readiness.close();
            return 4;
        } finally {
            registry.remove(entry);
        }
    }
}
