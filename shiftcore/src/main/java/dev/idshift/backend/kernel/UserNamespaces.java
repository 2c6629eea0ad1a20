package dev.idshift.backend.kernel;

import dev.idshift.failure.UnsupportedException;
import dev.idshift.failure.KernelRefusedException;
import dev.idshift.sys.Fd;
import dev.idshift.idmap.IdMap;
import dev.idshift.idmap.IdMapParser;
import dev.idshift.sys.Linux;
import dev.idshift.sys.files.FileSyscalls;
import dev.idshift.sys.files.ProcFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * User namespaces to carry an idmapped mount's map (on-disk id -> host id).
 *
 * <p>A JVM cannot create one in-process (unshare/setns of CLONE_NEWUSER need a single-threaded
 * caller), so {@link #createWithMaps} starts a throwaway child in a new user namespace, writes
 * its maps, opens its ns file and reaps it; the namespace lives on through the open fd.
 */
public final class UserNamespaces {
    static final String[] UNSHARE = {"/usr/bin/unshare", "/bin/unshare"};
    static final String[] CAT = {"/usr/bin/cat", "/bin/cat"};

    private UserNamespaces() {
    }

    /**
     * Whether this process is in the host's (initial) user namespace: its uid_map is the whole
     * identity. (Not by comparing with /proc/1/ns/user: pid 1 may not be readable.)
     */
    public static boolean inInitialNamespace() {
        try {
            return IdMapParser.parseProcMap(ProcFiles.read("/proc/self/uid_map")).equals(IdMap.IDENTITY);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** The user namespace of a running process, e.g. a container's init. */
    public static Fd openOf(long pid) {
        return new Fd(FileSyscalls.get().open("/proc/" + pid + "/ns/user", Linux.O_RDONLY));
    }

    public static Fd createWithMaps(IdMap uidMap, IdMap gidMap) {
        Process child;
        try {
            child = new ProcessBuilder(existing(UNSHARE), "--user", "--", existing(CAT))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
        } catch (IOException e) {
            throw new KernelRefusedException("cannot start a helper process for a user namespace: " + e.getMessage(), e);
        }
        try {
            long pid = child.pid();
            waitUntilInNewUserNamespace(pid, child);
            writeMap(pid, "uid_map", uidMap);
            writeMap(pid, "gid_map", gidMap);
            return openOf(pid);
        } finally {
            // By handle, never by name; the namespace survives through the fd we opened.
            child.destroyForcibly();
            try {
                child.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void waitUntilInNewUserNamespace(long pid, Process child) {
        Path mine = Path.of("/proc/self/ns/user");
        Path theirs = Path.of("/proc/" + pid + "/ns/user");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        try {
            String ours = Files.readSymbolicLink(mine).toString();
            while (System.nanoTime() < deadline) {
                if (!child.isAlive()) {
                    throw new KernelRefusedException("the user namespace helper exited early (exit " + child.exitValue()
                            + "): are user namespaces enabled (sysctl user.max_user_namespaces)?");
                }
                if (!Files.readSymbolicLink(theirs).toString().equals(ours)) {
                    return;
                }
                Thread.onSpinWait();
            }
        } catch (IOException e) {
            throw new KernelRefusedException("cannot watch the user namespace helper: " + e.getMessage(), e);
        }
        throw new KernelRefusedException("the user namespace helper did not enter a new user namespace within 5 s");
    }

    private static void writeMap(long pid, String file, IdMap map) {
        try {
            Files.write(Path.of("/proc/" + pid + "/" + file), map.toProcFormat().getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new KernelRefusedException("cannot write " + file + " \"" + map + "\" for the mount's user namespace: "
                    + e.getMessage() + " (needs root, or use the idshift daemon)", e);
        }
    }

    static String existing(String[] candidates) {
        for (String candidate : candidates) {
            if (Files.isExecutable(Path.of(candidate))) {
                return candidate;
            }
        }
        throw new UnsupportedException("none of " + String.join(", ", candidates) + " exists (install util-linux/coreutils)");
    }
}
