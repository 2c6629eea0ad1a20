package dev.idshift.backend.fuse;

import dev.idshift.sys.Fd;
import dev.idshift.sys.Linux;
import dev.idshift.sys.processes.Pidfds;
import dev.idshift.sys.processes.ProcessStat;
import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A FUSE server process its starter has no handle on: ProcessBuilder forked it, then failed to start
 * the thread that reaps it (a pids limit), so no Process came back. It is found by its arguments, one
 * of which is its record directory (a fresh random name only that start uses), and killed before
 * it mounts or records anything that would outlive the failed command.
 */
final class StartedServers {
    private static final long EXIT_TIMEOUT_MS = 5_000;

    private StartedServers() {
    }

    /**
     * Kills the child of this process started with {@code entry} among its arguments, if there is one,
     * and waits until it is gone. Only a child: any user can start a process with any arguments.
     */
    static void stop(Path entry) {
        String wanted = entry.toString();
        String[] names = new File("/proc").list();
        if (names == null) {
            return;
        }
        long self = ProcessHandle.current().pid();
        for (String name : names) {
            if (name.isEmpty() || !Character.isDigit(name.charAt(0))) {
                continue;
            }
            long pid = Long.parseLong(name);
            if (pid == self || !ourChild(pid, self) || !startedWith(pid, wanted)) {
                continue;
            }
            try (Fd pidfd = Pidfds.get().open(pid)) {
                // Still that process once we hold a reference to it: our child (a pid we have not reaped
                // is not reused), with our record directory in its arguments.
                if (ourChild(pid, self) && startedWith(pid, wanted)) {
                    Pidfds.get().signal(pidfd, Linux.SIGKILL, "the FUSE server started for " + wanted);
                    awaitGone(pid);
                }
            } catch (RuntimeException goneMeanwhile) {
                // exited between the look and the pidfd: nothing left to stop
            }
        }
    }

    private static boolean ourChild(long pid, long self) {
        ProcessStat stat = ProcessStat.of(pid);
        return stat != null && stat.parent() == self;
    }

    /** Whether {@code pid}'s command line has {@code argument} as one of its words (NUL-separated). */
    static boolean startedWith(long pid, String argument) {
        byte[] cmdline;
        try (FileInputStream in = new FileInputStream("/proc/" + pid + "/cmdline")) {
            cmdline = in.readAllBytes();
        } catch (IOException e) {
            return false;
        }
        for (String word : new String(cmdline, StandardCharsets.UTF_8).split("\0")) {
            if (word.equals(argument)) {
                return true;
            }
        }
        return false;
    }

    private static void awaitGone(long pid) {
        long deadline = System.nanoTime() + EXIT_TIMEOUT_MS * 1_000_000;
        while (!ProcessStat.released(pid) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
