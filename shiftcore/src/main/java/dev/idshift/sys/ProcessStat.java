package dev.idshift.sys;

import java.io.IOException;

/**
 * What /proc/PID/stat says of a process that matters to us: its state (a zombie has exited) and its
 * start time (field 22, clock ticks since boot), which tells a process from a later one with its pid.
 */
public record ProcessStat(char state, long startTime) {
    /** The process's stat, or null if there is no such process. */
    public static ProcessStat of(long pid) {
        try {
            String stat = ProcFiles.read("/proc/" + pid + "/stat");
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return new ProcessStat(fields[0].charAt(0), Long.parseLong(fields[19]));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Start time of PID, or -1 if there is no such process. */
    public static long startTimeOf(long pid) {
        ProcessStat stat = of(pid);
        return stat == null ? -1 : stat.startTime();
    }

    /** Still running: not exited and waiting to be reaped (ProcessHandle.isAlive counts a zombie as alive). */
    public boolean running() {
        return state != 'Z' && state != 'X';
    }
}
