package dev.idshift.cli;

import dev.idshift.app.ExitCode;
import dev.idshift.idmap.IdMapParser;
import dev.idshift.backend.MountAccess;
import dev.idshift.backend.fuse.DirectFuse;
import dev.idshift.backend.fuse.FuseMountRecord;
import dev.idshift.backend.fuse.FuseRegistry;
import dev.idshift.backend.fuse.FuseServer;
import dev.idshift.backend.fuse.IdTranslation;
import dev.idshift.backend.kernel.MountInfo;
import dev.idshift.sys.Linux;
import dev.idshift.sys.Syscalls;
import dev.idshift.sys.files.FileSyscalls;
import dev.idshift.sys.files.ProcFiles;
import dev.idshift.sys.processes.ProcessStat;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * {@code idshift __train-fuse}: loads what a FUSE server loads before it serves (the filesystem, a
 * few requests answered on a throwaway tree), without mounting anything, so the launcher
 * can record a class-data archive for the server (~150 ms of its start). Not for people.
 */
final class FuseTraining {
    static final String COMMAND = "__train-fuse";

    private FuseTraining() {
    }

    static int run() {
        return warmUp(1, () -> false);
    }

    /**
     * What a server runs between its arguments and "ready" (parsing them, its log, mounting, the session
     * and its threads, INIT) and a training without a mount does not reach: loaded and initialised here,
     * so that they come from the class-data archive and a spare does not load them from the jar, cold,
     * on a container's start-up path (~50 ms of a spare's hand-off under the daemon).
     */
    private static void loadMountingClasses() throws LinkageError {
        MountAccess.parse("rw,nosuid,nodev");
        FuseRegistry.logOf(Path.of("/nonexistent/entry"));
        load("dev.idshift.backend.fuse.FuseServer", "dev.idshift.backend.fuse.FuseServer$1",
                "dev.idshift.backend.fuse.FuseServer$1$1", "dev.idshift.backend.fuse.FuseDevice",
                "dev.idshift.backend.fuse.FuseSession", "dev.idshift.backend.fuse.FuseProtocol$InitFlag",
                "dev.idshift.sys.mounts.KernelMountCalls", "dev.idshift.backend.kernel.MountInfo$Mount", "dev.idshift.sys.Fd",
                "dev.idshift.sys.Errno", "dev.idshift.cli.FuseServe", "dev.idshift.backend.fuse.FuseServer$2",
                "dev.idshift.backend.fuse.FuseSession$1", "dev.idshift.backend.fuse.RequestTrace",
                "dev.idshift.sys.credentials.Credentials", "dev.idshift.backend.fuse.FuseRings",
                "dev.idshift.backend.fuse.FuseRingQueue", "dev.idshift.sys.uring.IoUring", "java.lang.invoke.VarHandle");
        // The JDK's own classes on that path that nothing before it loads (read from the runtime image,
        // not the archive, otherwise): the environment (DirectFuse's settings), shutdown hooks (the
        // server's unmount on SIGTERM), the readiness line's encoding.
        System.getenv("IDSHIFT_FUSE_THREADS");
        new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8).println(FuseServer.READY);
        for (String name : new String[] {"java.lang.ApplicationShutdownHooks", "java.io.FileOutputStream$1"}) {
            try {
                Class.forName(name);
            } catch (ClassNotFoundException notInThisJdk) {
                // only a cost, and only where the JDK names it otherwise
            }
        }
    }

    /** Loads and initialises classes by name (for the class-data archive); a name gone from the jar fails the training. */
    static void load(String... names) throws LinkageError {
        for (String name : names) {
            try {
                Class.forName(name);
            } catch (ClassNotFoundException e) {
                throw new NoClassDefFoundError(name);
            }
        }
    }

    /**
     * The training, {@code rounds} times over (a spare server compiles its request paths so), fewer if
     * {@code enough} says so first.
     */
    static int warmUp(int rounds, BooleanSupplier enough) {
        Path source = null;
        int rootFd = -1;
        try {
            source = Files.createTempDirectory("idshift-train-fuse-");
            Files.writeString(source.resolve("file"), "x");
            rootFd = FileSyscalls.get().openat2(Linux.AT_FDCWD, source.toString(), Linux.O_PATH | Linux.O_DIRECTORY, 0, "training");
            IdTranslation ids = new IdTranslation(IdMapParser.parseColonList("0:100000:65536"), IdMapParser.parseColonList("0:100000:65536"));
            DirectFuse.train(rootFd, ids, rounds, enough);
            if (enough.getAsBoolean()) {
                return ExitCode.OK;  // only its temporary tree removed, below
            }
            // What a server does around serving: its record written and read back, mountinfo, limits.
            long pid = ProcessHandle.current().pid();
            FuseRegistry registry = new FuseRegistry(source.resolve("run"));
            Path entry = registry.newEntry();
            registry.save(entry, new FuseMountRecord(entry.getFileName().toString(), pid, ProcessStat.startTimeOf(pid),
                    source.toString(), source.toString()));
            registry.serving(source.toString());
            registry.remove(entry);
            MountInfo.deviceAt("/");
            ProcFiles.read("/proc/sys/fs/nr_open");
            loadMountingClasses();
            return ExitCode.OK;
        } catch (IOException | RuntimeException | LinkageError e) {
            System.err.println("idshift: FUSE training: " + e);
            return ExitCode.SYSTEM;
        } finally {
            Syscalls.get().close(rootFd);
            if (source != null) {
                try (Stream<Path> files = Files.walk(source)) {
                    for (Path file : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
                        Files.deleteIfExists(file);
                    }
                } catch (IOException | java.io.UncheckedIOException ignored) {
                    // a temp dir left behind is harmless
                }
            }
        }
    }
}
