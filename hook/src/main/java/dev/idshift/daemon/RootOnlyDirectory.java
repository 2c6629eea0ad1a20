package dev.idshift.daemon;

import dev.idshift.failure.BadInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** A directory only host root may enter: made so, or made so again if an older daemon left it open. */
final class RootOnlyDirectory {
    private RootOnlyDirectory() {
    }

    /** @throws BadInputException if {@code directory} is not a real directory owned by root (a run directory given to use) */
    static Path ensure(Path directory) throws IOException {
        // Parents as they would be made anyway (the run directory must stay traversable); the directory 0700 from the start.
        Files.createDirectories(directory.getParent());
        try {
            Files.createDirectory(directory, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (java.nio.file.FileAlreadyExistsException exists) {
            // checked below
        }
        if (!Files.isDirectory(directory, LinkOption.NOFOLLOW_LINKS)
                || ((Integer) Files.getAttribute(directory, "unix:uid", LinkOption.NOFOLLOW_LINKS)) != 0) {
            throw new BadInputException(directory + " is not a directory owned by root; refusing to use it");
        }
        if (!Files.getPosixFilePermissions(directory, LinkOption.NOFOLLOW_LINKS).equals(PosixFilePermissions.fromString("rwx------"))) {
            Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx------"));
        }
        return directory;
    }
}
