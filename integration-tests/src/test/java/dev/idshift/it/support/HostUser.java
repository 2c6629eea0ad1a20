package dev.idshift.it.support;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A real unprivileged host user for an attack test, with its own /etc/subuid and /etc/subgid lines
 * (as newuidmap would use them): made with useradd/usermod, which lock those files against other
 * writers, and removed, lines and all, on close even when the test failed. Commands run as it through
 * setpriv with no supplementary groups. Each suite has its share of the machine: by default names
 * start with "isc" and subordinate ranges lie in 4000000-4999999; {@link #create(String, long)}
 * takes another prefix and an explicit range (the daemon's identity tests: "isa", 2000000+).
 * Removal ends the user's processes first (by pid) and waits out other runs holding the shadow
 * files' locks.
 */
public final class HostUser implements AutoCloseable {
    private static final String PREFIX = "isc";
    private static final long SUBID_FIRST = 4_000_000;
    private static final int SUBID_SLOTS = 15;  // 15 x 65536 ids fit below 5000000
    private static final long SUBID_COUNT = 65536;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final String name;
    private final long uid;
    private final long gid;
    private final long subidBase;

    private HostUser(String name, long uid, long gid, long subidBase) {
        this.name = name;
        this.uid = uid;
        this.gid = gid;
        this.subidBase = subidBase;
    }

    public static HostUser create() {
        return create(PREFIX, SUBID_FIRST + RANDOM.nextInt(SUBID_SLOTS) * SUBID_COUNT);
    }

    /** A user named PREFIX + random hex, with the 65536 subordinate ids from {@code subidBase}. */
    public static HostUser create(String prefix, long subidBase) {
        Host.requireRoot();
        Host.requireExecutable("useradd");
        Host.requireExecutable("setpriv");
        String name = prefix + Integer.toHexString(0x100000 + RANDOM.nextInt(0xF00000));
        String range = subidBase + "-" + (subidBase + SUBID_COUNT - 1);
        // No automatic subordinate ranges: ours are set explicitly, inside this suite's share.
        shadowTool(List.of("useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", "-K", "SUB_UID_COUNT=0",
                "-K", "SUB_GID_COUNT=0", name));
        try {
            shadowTool(List.of("usermod", "--add-subuids", range, "--add-subgids", range, name));
            long uid = Long.parseLong(Exec.ok(List.of("id", "-u", name)).stdout().trim());
            long gid = Long.parseLong(Exec.ok(List.of("id", "-g", name)).stdout().trim());
            return new HostUser(name, uid, gid, subidBase);
        } catch (RuntimeException e) {
            remove(name, range);
            throw e;
        }
    }

    public String name() {
        return name;
    }

    public long uid() {
        return uid;
    }

    public long gid() {
        return gid;
    }

    public long subidBase() {
        return subidBase;
    }

    /** Its subordinate range as one D:H:N extent from inside id {@code inside}: "0:BASE:65536". */
    public String subidExtent(long inside) {
        return inside + ":" + subidBase + ":" + SUBID_COUNT;
    }

    /** The command as this user: its uid and gid, no supplementary groups. */
    public List<String> as(List<String> command) {
        List<String> full = new ArrayList<>(List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups", "--"));
        full.addAll(command);
        return full;
    }

    public Exec.Result run(String... command) {
        return Exec.run(as(List.of(command)), null, Map.of(), 60);
    }

    /** A shell script as this user. */
    public Exec.Result sh(String script) {
        return run("/bin/sh", "-c", script);
    }

    @Override
    public void close() {
        remove(name, subidBase + "-" + (subidBase + SUBID_COUNT - 1));
    }

    private static void remove(String name, String range) {
        Exec.Result id = Exec.run(List.of("id", "-u", name));
        if (id.exit() == 0) {
            // usermod and userdel refuse a user with running processes (a test's child that outlived it).
            killProcessesOf(Long.parseLong(id.stdout().trim()));
        }
        shadowToolResult(List.of("usermod", "--del-subuids", range, "--del-subgids", range, name));
        Exec.Result removed = shadowToolResult(List.of("userdel", name));
        if (removed.exit() != 0 && !removed.stderr().contains("does not exist")) {
            throw new IllegalStateException("cannot remove test user " + name + ": " + removed.describe());
        }
    }

    /** Ends every process whose real uid is UID, each by its pid, and waits briefly for them. */
    private static void killProcessesOf(long uid) {
        List<ProcessHandle> theirs = new ArrayList<>();
        ProcessHandle.allProcesses().forEach(process -> {
            if (realUid(process.pid()) == uid) {
                theirs.add(process);
            }
        });
        theirs.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle process : theirs) {
            try {
                process.onExit().get(5, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception stillThere) {
                // userdel will say so
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

    /** A shadow tool that must succeed, run again while another run on the machine holds its files' lock. */
    private static void shadowTool(List<String> command) {
        Exec.Result result = shadowToolResult(command);
        if (result.exit() != 0) {
            throw new IllegalStateException(command + " failed: " + result.describe());
        }
    }

    private static Exec.Result shadowToolResult(List<String> command) {
        Exec.Result result = Exec.run(command);
        for (int attempt = 0; attempt < 40 && result.exit() != 0 && result.stderr().contains("lock"); attempt++) {
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            result = Exec.run(command);
        }
        return result;
    }
}
