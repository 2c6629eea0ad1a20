package dev.idshift.it.support;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Processes as /proc shows them: command lines, environments, and those started for a run directory. */
public final class Processes {
    private Processes() {
    }

    /** Live processes whose command line contains {@code mark} (NUL-separated words) and whose environment has IDSHIFT_RUN_DIR=run. */
    public static List<Long> ofRunDirectory(Path run, String mark) throws Exception {
        String mine = "IDSHIFT_RUN_DIR=" + run + "\0";
        try (Stream<Path> processes = Files.list(Path.of("/proc"))) {
            return processes.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
                    .map(p -> Long.parseLong(p.getFileName().toString()))
                    .filter(pid -> cmdline(pid).contains(mark) && FuseServers.alive(pid) && environ(pid).contains(mine)).sorted().toList();
        }
    }

    /** /proc/PID/cmdline (words NUL-separated), or "" if it is gone. */
    public static String cmdline(long pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/cmdline"), StandardCharsets.ISO_8859_1);
        } catch (Exception e) {
            return "";
        }
    }

    /** /proc/PID/environ with a NUL after the last entry, or "" if it is gone. */
    public static String environ(long pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/environ"), StandardCharsets.ISO_8859_1) + "\0";
        } catch (Exception e) {
            return "";
        }
    }
}
