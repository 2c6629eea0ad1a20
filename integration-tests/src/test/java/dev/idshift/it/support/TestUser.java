package dev.idshift.it.support;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real unprivileged host user for an attack test: made with useradd (no home, no login), with one
 * /etc/subuid and /etc/subgid range of its own, and removed again, with its ranges, on close, also
 * when the test failed. Names start with the prefix given (each helper's tests their own), ranges
 * come from the block given, 65536 ids each.
 */
public final class TestUser implements AutoCloseable {
    private static final AtomicInteger NEXT = new AtomicInteger();
    private static final int RANGE = 65536;

    private final String name;
    private final long uid;
    private final long gid;
    private final long subidStart;

    private TestUser(String name, long uid, long gid, long subidStart) {
        this.name = name;
        this.uid = uid;
        this.gid = gid;
        this.subidStart = subidStart;
    }

    /**
     * @param prefix     the user-name prefix reserved for the calling tests
     * @param blockStart the first id of the subordinate-id block reserved for them
     * @param blockSize  its size (a multiple of 65536)
     */
    public static TestUser create(String prefix, long blockStart, long blockSize) {
        Host.requireRoot();
        Host.requireExecutable("useradd");
        int index = NEXT.getAndIncrement();
        long slots = blockSize / RANGE;
        // Several test JVMs may run at once: pid and a counter pick the name and the range.
        long slot = (ProcessHandle.current().pid() * 7 + index) % slots;
        String name = prefix + (ProcessHandle.current().pid() % 100000) + "x" + index;
        long start = blockStart + slot * RANGE;
        // -K SUB_*_COUNT=0: useradd would otherwise allocate a range of its own choosing.
        Exec.ok(List.of("useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", "-K", "SUB_UID_COUNT=0",
                "-K", "SUB_GID_COUNT=0", name));
        TestUser user = null;
        try {
            long uid = Long.parseLong(Exec.ok(List.of("id", "-u", name)).stdout().trim());
            long gid = Long.parseLong(Exec.ok(List.of("id", "-g", name)).stdout().trim());
            user = new TestUser(name, uid, gid, start);
            String range = start + "-" + (start + RANGE - 1);
            Exec.ok(List.of("usermod", "--add-subuids", range, "--add-subgids", range, name));
            return user;
        } catch (RuntimeException | Error e) {
            if (user != null) {
                user.close();
            } else {
                Exec.run(List.of("userdel", name));
            }
            throw e;
        }
    }

    public String name() {
        return name;
    }

    public long uid() {
        return uid;
    }

    /** Its primary group. */
    public long gid() {
        return gid;
    }

    /** The first of its 65536 subordinate ids. */
    public long subidStart() {
        return subidStart;
    }

    /** "NAME:START:65536", as a line of /etc/subuid. */
    public String subidLine() {
        return name + ":" + subidStart + ":" + RANGE;
    }

    /** {@code command} as this user (setpriv, its own uid and gid, no supplementary groups). */
    public List<String> as(List<String> command) {
        List<String> full = new ArrayList<>(List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups"));
        full.addAll(command);
        return full;
    }

    public Exec.Result run(List<String> command, int timeoutSeconds) {
        return Exec.run(as(command), null, Map.of(), timeoutSeconds);
    }

    /** Removes the ranges, then the user (and its group); leftovers of its own processes are its. */
    @Override
    public void close() {
        String range = subidStart + "-" + (subidStart + RANGE - 1);
        Exec.run(List.of("usermod", "--del-subuids", range, "--del-subgids", range, name));
        Exec.run(List.of("userdel", name));
    }
}
