package dev.idshift.it.support;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Real unprivileged host users for attack tests: `useradd` (with a user group, no home), each with
 * its own /etc/subuid and /etc/subgid range, added with usermod (which locks those files like every
 * shadow tool, so parallel test runs do not tear them). Removed by name, ranges first, on close,
 * whatever happened; a leftover of a crashed run with the same name is removed before reuse.
 *
 * <p>Names carry the caller's prefix (each test owner has its own) and ranges must lie in that
 * owner's block of ids: the machine is shared.
 */
public final class HostUsers implements AutoCloseable {
    /** One user: its name, host uid and gid, and its subordinate range (same for uids and gids). */
    public record User(String name, long uid, long gid, long subStart, long subCount) {
        /** `setpriv` as this user with no supplementary groups, then COMMAND. */
        public List<String> run(List<String> command) {
            List<String> full = new ArrayList<>(List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups"));
            full.addAll(command);
            return full;
        }

        /** Its range as a D:H:N extent starting at on-disk/inside id {@code inside}. */
        public String subRange(long inside) {
            return inside + ":" + subStart + ":" + subCount;
        }
    }

    /** Names to remove on close: each is added as soon as useradd made it, before anything else can fail. */
    private final List<String> created = new ArrayList<>();

    public HostUsers() {
        Host.requireRoot();
        Host.requireExecutable("useradd");
        Host.requireExecutable("setpriv");
    }

    /** A new user NAME with subordinate ids [subStart, subStart + subCount). */
    public User add(String name, long subStart, long subCount) {
        remove(name);
        // -K SUB_*_COUNT=0: no automatic range from login.defs (it would start at 100000, the tests' container ids).
        shadowTool(List.of("useradd", "-M", "-s", "/usr/sbin/nologin", "-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0", name), true);
        created.add(name);
        String range = subStart + "-" + (subStart + subCount - 1);
        shadowTool(List.of("usermod", "--add-subuids", range, "--add-subgids", range, name), true);
        long uid = Long.parseLong(Exec.ok(List.of("id", "-u", name)).stdout().trim());
        long gid = Long.parseLong(Exec.ok(List.of("id", "-g", name)).stdout().trim());
        return new User(name, uid, gid, subStart, subCount);
    }

    private static void remove(String name) {
        Exec.Result id = Exec.run(List.of("id", "-u", name));
        if (id.exit() != 0) {
            if (Exec.run(List.of("getent", "group", name)).exit() == 0) {
                shadowTool(List.of("groupdel", name), false); // a user group left behind by a half-done run
            }
            return;
        }
        // userdel and usermod refuse a user with running processes: end them first, each by its pid.
        killProcessesOf(Long.parseLong(id.stdout().trim()));
        shadowTool(List.of("usermod", "--del-subuids", "0-4294967294", "--del-subgids", "0-4294967294", name), false);
        shadowTool(List.of("userdel", name), false);
    }

    /**
     * A shadow tool, again while another one (other test runs on the machine) holds the lock of
     * /etc/passwd, /etc/group or /etc/subuid; must it succeed, a failure is thrown.
     */
    private static void shadowTool(List<String> command, boolean mustSucceed) {
        Exec.Result result = Exec.run(command, null, Map.of(), 60);
        for (int attempt = 0; attempt < 40 && result.exit() != 0 && result.stderr().contains("lock"); attempt++) {
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            result = Exec.run(command, null, Map.of(), 60);
        }
        if (mustSucceed && result.exit() != 0) {
            throw new IllegalStateException(command + " failed: " + result.describe());
        }
    }

    /** Processes whose real uid is UID (as the host sees it), ended by pid; waits briefly for them. */
    private static void killProcessesOf(long uid) {
        List<ProcessHandle> theirs = new ArrayList<>();
        ProcessHandle.allProcesses().forEach(process -> {
            if (realUid(process.pid()) == uid) {
                theirs.add(process);
            }
        });
        for (ProcessHandle process : theirs) {
            process.destroyForcibly();
        }
        for (ProcessHandle process : theirs) {
            try {
                process.onExit().get(5, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception stillThere) {
                // userdel below will say so
            }
        }
    }

    private static long realUid(long pid) {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("Uid:")) {
                    return Long.parseLong(line.split("\\s+")[1]);
                }
            }
        } catch (java.io.IOException | RuntimeException gone) {
            // exited meanwhile
        }
        return -1;
    }

    @Override
    public void close() {
        for (String name : created) {
            remove(name);
        }
        created.clear();
    }
}
