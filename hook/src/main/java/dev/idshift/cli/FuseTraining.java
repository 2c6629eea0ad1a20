package dev.idshift.cli;

import dev.idshift.app.ExitCode;
import dev.idshift.idmap.IdMapParser;
import dev.idshift.backend.fuse.DirectFuse;
import dev.idshift.backend.fuse.IdTranslation;
import dev.idshift.sys.Linux;
import dev.idshift.sys.Syscalls;
import dev.idshift.sys.files.FileSyscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

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
        Path source = null;
        int rootFd = -1;
        try {
            source = Files.createTempDirectory("idshift-train-fuse-");
            Files.writeString(source.resolve("file"), "x");
            rootFd = FileSyscalls.get().openat2(Linux.AT_FDCWD, source.toString(), Linux.O_PATH | Linux.O_DIRECTORY, 0, "training");
            IdTranslation ids = new IdTranslation(IdMapParser.parseColonList("0:100000:65536"), IdMapParser.parseColonList("0:100000:65536"));
            DirectFuse.train(rootFd, ids);
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
