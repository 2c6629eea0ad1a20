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
import java.util.List;

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
        try (NamespaceHelper child = NamespaceHelper.start(List.of(existing(UNSHARE), "--user", "--", existing(CAT)),
                "the user namespace helper")) {
            child.awaitUnshared("user", Path.of("/proc/self/ns/user"));
            writeMap(child.pid(), "uid_map", uidMap);
            writeMap(child.pid(), "gid_map", gidMap);
            return openOf(child.pid());
        }
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
