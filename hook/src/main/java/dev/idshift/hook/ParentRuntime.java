package dev.idshift.hook;

import dev.idshift.sys.files.ProcFiles;
import java.io.IOException;

/**
 * Which runtime ran this hook, from our parent process's name. It matters because runtimes differ
 * in what they do to the rootfs after the hook: runc 1.1 applies maskedPaths/readonlyPaths by path
 * after pivot_root (they reach the tree we stacked); crun applies them through a rootfs fd it
 * opened before the hooks (they do not).
 */
public enum ParentRuntime {
    RUNC, CRUN, UNKNOWN;

    public static ParentRuntime detect() {
        return ofParentOf("self");
    }

    /** The runtime that started process PID (the daemon's hook channel: the launcher's parent). */
    public static ParentRuntime ofParentOf(String pid) {
        try {
            long ppid = parentPid(pid);
            String comm = ProcFiles.read("/proc/" + ppid + "/comm").trim();
            return fromName(comm);
        } catch (IOException | RuntimeException e) {
            return UNKNOWN;
        }
    }

    /** The parent of process PID ("self" for this one), or -1 if it cannot be read. */
    public static long parentPid(String pid) {
        try {
            String stat = ProcFiles.read("/proc/" + pid + "/stat");
            // "pid (comm) state ppid ...": comm may contain spaces and parentheses; ppid follows the last ')'.
            String afterComm = stat.substring(stat.lastIndexOf(')') + 2);
            return Long.parseLong(afterComm.split(" ", 3)[1]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    static ParentRuntime fromName(String comm) {
        if (comm.equals("runc")) {
            return RUNC;
        }
        if (comm.equals("crun")) {
            return CRUN;
        }
        return UNKNOWN;
    }

    /**
     * Whether we must re-apply masked and read-only paths ourselves. Unknown runtimes get them too:
     * a path masked twice looks the same from inside; a path not masked is a hole.
     */
    public boolean needsProtectedPathsReapplied() {
        return this != RUNC;
    }
}
