package dev.idshift.cli;

import dev.idshift.idmap.IdMapParser;
import dev.idshift.mount.fuse.FuseOptions;
import dev.idshift.mount.fuse.IdTranslation;
import dev.idshift.mount.fuse.ShiftingFilesystem;
import dev.idshift.mount.fuse.XattrIds;
import dev.idshift.sys.Linux;
import dev.idshift.sys.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import jnr.ffi.Pointer;
import ru.serce.jnrfuse.struct.FileStat;

/**
 * {@code idshift __train-fuse}: loads what a FUSE server loads before it serves (libfuse's binding,
 * the filesystem, a few operations on a throwaway tree), without mounting anything, so the launcher
 * can record a class-data archive for the server (~150 ms of its start). Not for people.
 */
final class FuseTraining {
    static final String COMMAND = "__train-fuse";

    private FuseTraining() {
    }

    static int run() {
        Path source = null;
        int rootFd = -1;
        try {
            source = Files.createTempDirectory("idshift-train-fuse-");
            Files.writeString(source.resolve("file"), "x");
            rootFd = Syscalls.get().openat2(Linux.AT_FDCWD, source.toString(), Linux.O_PATH | Linux.O_DIRECTORY, 0, "training");
            IdTranslation ids = new IdTranslation(IdMapParser.parseColonList("0:100000:65536"), IdMapParser.parseColonList("0:100000:65536"));
            ShiftingFilesystem filesystem = new ShiftingFilesystem(rootFd, ids, () -> { });
            Pointer memory = jnr.ffi.Runtime.getSystemRuntime().getMemoryManager().allocateDirect(256);
            filesystem.getattr("/file", FileStat.of(memory));
            filesystem.getattr("/missing", FileStat.of(memory));
            FuseOptions.of(source.toString(), dev.idshift.mount.MountAccess.CONTAINER);
            XattrIds.carriesIds(XattrIds.CAPABILITY);
            return ExitCode.OK;
        } catch (IOException | RuntimeException | LinkageError e) {
            System.err.println("idshift: FUSE training: " + e);
            return ExitCode.SYSTEM;
        } finally {
            Syscalls.get().close(rootFd);
            if (source != null) {
                try {
                    Files.deleteIfExists(source.resolve("file"));
                    Files.deleteIfExists(source);
                } catch (IOException ignored) {
                    // a temp dir left behind is harmless
                }
            }
        }
    }
}
