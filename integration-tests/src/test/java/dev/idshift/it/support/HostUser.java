package dev.idshift.it.support;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A real unprivileged host user for an attack test, with its own /etc/subuid and /etc/subgid lines
 * (as newuidmap would use them): made with useradd/usermod, which lock those files against other
 * writers, and removed, lines and all, on close even when the test failed. Commands run as it through
 * setpriv with no supplementary groups. Names start with "isc" and subordinate ranges lie in
 * 4000000-4999999 (this suite's share of the machine).
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
        Host.requireRoot();
        Host.requireExecutable("useradd");
        Host.requireExecutable("setpriv");
        String name = PREFIX + Integer.toHexString(0x100000 + RANDOM.nextInt(0xF00000));
        long subidBase = SUBID_FIRST + RANDOM.nextInt(SUBID_SLOTS) * SUBID_COUNT;
        String range = subidBase + "-" + (subidBase + SUBID_COUNT - 1);
        // No automatic subordinate ranges: ours are set explicitly, inside this suite's share.
        Exec.ok(List.of("useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", "-K", "SUB_UID_COUNT=0",
                "-K", "SUB_GID_COUNT=0", name));
        try {
            Exec.ok(List.of("usermod", "--add-subuids", range, "--add-subgids", range, name));
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
        Exec.run(List.of("usermod", "--del-subuids", range, "--del-subgids", range, name));
        Exec.Result removed = Exec.run(List.of("userdel", name));
        if (removed.exit() != 0 && !removed.stderr().contains("does not exist")) {
            throw new IllegalStateException("cannot remove test user " + name + ": " + removed.describe());
        }
    }
}
