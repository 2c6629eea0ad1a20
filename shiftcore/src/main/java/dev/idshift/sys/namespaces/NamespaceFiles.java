package dev.idshift.sys.namespaces;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Namespaces as /proc shows them: each is an nsfs inode, so two processes share a namespace exactly
 * when their /proc/PID/ns/KIND files have the same inode.
 */
public final class NamespaceFiles {
    private NamespaceFiles() {
    }

    /** The nsfs inode behind {@code path} (/proc/PID/ns/KIND, or /proc/self/fd/N of such a file). */
    public static long inode(String path, String subject) {
        try {
            return (Long) Files.getAttribute(Path.of(path), "unix:ino");
        } catch (IOException e) {
            throw new IllegalStateException("cannot stat " + path + " (" + subject + "): " + e.getMessage(), e);
        }
    }

    /** Whether process {@code pid} is in this process's namespace of {@code kind} ("mnt", "user", ...). */
    public static boolean sharedWithUs(long pid, String kind) {
        String subject = kind + " namespace of pid " + pid;
        return inode("/proc/" + pid + "/ns/" + kind, subject) == inode("/proc/self/ns/" + kind, subject);
    }
}
