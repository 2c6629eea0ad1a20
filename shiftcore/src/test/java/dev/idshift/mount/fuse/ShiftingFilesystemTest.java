package dev.idshift.mount.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.idshift.idmap.IdMapParser;
import dev.idshift.sys.Linux;
import dev.idshift.sys.Syscalls;
import java.nio.file.Files;
import java.nio.file.Path;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import ru.serce.jnrfuse.struct.FileStat;

/**
 * The filesystem's operations called directly (no mount): the paths FUSE hands it are resolved
 * inside the source, whatever symlinks the tree holds; ids are shown shifted.
 */
class ShiftingFilesystemTest {
    private static final int ENOENT = 2;

    @TempDir
    Path temp;
    private int rootFd = -1;
    private ShiftingFilesystem filesystem;
    private final Pointer statMemory = Runtime.getSystemRuntime().getMemoryManager().allocateDirect(256);

    @BeforeEach
    void setUp() throws Exception {
        Path source = Files.createDirectories(temp.resolve("source"));
        Path outside = Files.createDirectories(temp.resolve("outside"));
        Files.writeString(outside.resolve("secret"), "host file");
        Files.writeString(source.resolve("inside"), "ok");
        Files.createSymbolicLink(source.resolve("up"), Path.of("../outside"));
        Files.createSymbolicLink(source.resolve("absolute"), outside);
        Files.createDirectories(source.resolve("dir"));
        Files.createSymbolicLink(source.resolve("dir/dotdot"), Path.of("../../../../outside"));
        rootFd = Syscalls.get().openat2(Linux.AT_FDCWD, source.toString(), Linux.O_PATH | Linux.O_DIRECTORY, 0, "source");
        filesystem = new ShiftingFilesystem(rootFd, new IdTranslation(IdMapParser.parseColonList("0:100000:65536"),
                IdMapParser.parseColonList("0:100000:65536")), () -> { });
    }

    @AfterEach
    void tearDown() {
        Syscalls.get().close(rootFd);
    }

    private int getattr(String path) {
        return filesystem.getattr(path, FileStat.of(statMemory));
    }

    @Test
    void symlinksInsideTheSourceCannotReachOutIt() {
        // As a FUSE path can hold a symlink when the tree changes between the kernel's lookup and ours.
        assertEquals(-ENOENT, getattr("/up/secret"), "relative symlink out of the source");
        assertEquals(-ENOENT, getattr("/absolute/secret"), "absolute symlink to the host's path");
        assertEquals(-ENOENT, getattr("/dir/dotdot/secret"), ".. past the source root");
        assertEquals(-ENOENT, getattr("/../outside/secret"), ".. in the path itself");
    }

    @Test
    void ownersAreShownShifted() {
        assertEquals(0, getattr("/inside"));
        FileStat stat = FileStat.of(statMemory);
        long uid = Integer.toUnsignedLong(statMemory.getInt(dev.idshift.sys.FileCalls.STAT_UID_OFFSET));
        assertEquals(100000 + Syscalls.get().geteuid(), uid, "owner " + stat.st_uid);
    }
}
