package dev.idshift.sys.processes;

import dev.idshift.sys.files.ProcFiles;
import java.io.IOException;

/**
 * What /proc/PID/stat says of a process that matters to us: its state (a zombie has exited), its
 * parent, and its start time (field 22, clock ticks since boot), which tells a process from a later
 * one with its pid.
 */
public record ProcessStat(char state, long parent, long startTime) {
    /** The process's stat, or null if there is no such process. */
    public static ProcessStat of(long pid) {
        try {
            String stat = ProcFiles.read("/proc/" + pid + "/stat");
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return new ProcessStat(fields[0].charAt(0), Long.parseLong(fields[1]), Long.parseLong(fields[19]));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Start time of PID, or -1 if there is no such process. */
    public static long startTimeOf(long pid) {
        ProcessStat stat = of(pid);
        return stat == null ? -1 : stat.startTime();
    }

    /**
     * Whether PID has let go of everything it held (its open files, hence the mounts it kept busy):
     * no such process, or a zombie whose other threads are gone too. A zombie leader alone is not
     * enough: when a multithreaded process (a JVM) exits, its main thread turns zombie first, while
     * the other threads, which share the file table, are still being torn down (~1 s seen for a
     * FUSE server): a umount of its source then fails with "target is busy".
     */
    public static boolean released(long pid) {
        ProcessStat stat = of(pid);
        if (stat == null) {
            return true;
        }
        if (stat.running()) {
            return false;
        }
        String[] threads = new java.io.File("/proc/" + pid + "/task").list();
        return threads == null || threads.length <= 1;
    }

    /** Still running: not exited and waiting to be reaped (ProcessHandle.isAlive counts a zombie as alive). */
    public boolean running() {
        return state != 'Z' && state != 'X';
    }
}
