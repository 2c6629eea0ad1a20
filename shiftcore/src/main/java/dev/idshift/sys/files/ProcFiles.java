package dev.idshift.sys.files;

import dev.idshift.sys.Linux;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Reads /proc files. Not with Files.readAllBytes/readString: for a file whose size reads as 0 they
 * issue reads that integer sysctl handlers answer wrongly (max_user_namespaces "96365" read as "9"
 * on JDK 17). A plain sequential read gets the whole text.
 */
public final class ProcFiles {
    private ProcFiles() {
    }

    public static String read(Path file) throws IOException {
        try (FileInputStream in = new FileInputStream(file.toFile())) {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    public static String read(String file) throws IOException {
        return read(Path.of(file));
    }

    /**
     * NAME read relative to {@code dirfd} (a /proc/PID directory fd): the file of the very process
     * that fd was opened for, never of a later one that reused its pid (the kernel then answers
     * ESRCH/ENOENT). At most 64 KiB, which every /proc/PID file we read stays well under.
     */
    public static String readAt(int dirfd, String name, String subject) {
        FileSyscalls sys = FileSyscalls.get();
        int fd = sys.openat(dirfd, name, Linux.O_RDONLY | Linux.O_CLOEXEC, 0);
        try {
            return new String(sys.readAll(fd, 65536, subject), StandardCharsets.US_ASCII);
        } finally {
            sys.close(fd);
        }
    }
}
