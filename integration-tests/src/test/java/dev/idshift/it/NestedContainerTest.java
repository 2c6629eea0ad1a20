package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.idshift.it.support.Daemon;
import dev.idshift.it.support.Exec;
import dev.idshift.it.support.PublicCopy;
import dev.idshift.it.support.Rootfs;
import dev.idshift.it.support.Runtime;
import dev.idshift.it.support.Scratch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * runc inside a user-namespaced runc container: the inner runtime's `idshift hook` cannot idmap a
 * host filesystem, so it asks the host's daemon (socket bind-mounted in) to shift the inner rootfs,
 * which lives in a marked directory bind-mounted in; the inner container owns its rootfs.
 */
class NestedContainerTest {
    private static final List<String> CAPABILITIES = List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
            "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
            "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP", "CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_RESOURCE");

    @Test
    void innerContainerOwnsItsRootfsThroughTheDaemon() throws Exception {
        Runtime.RUNC.require();
        try (Scratch scratch = new Scratch()) {
            Path closed = scratch.dir("closed");
            Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx------"));
            Path marked = Files.createDirectories(closed.resolve("marked"));
            Path inner = Files.createDirectories(marked.resolve("inner"));
            Rootfs.create(inner.resolve("rootfs"));
            writeInnerConfig(inner, "stat -c %u:%g /; touch /root/made-inside");
            Path run = scratch.dir("run");
            Path launcher = PublicCopy.of(scratch);
            Path outer = outerBundle(scratch);
            writeOuterConfig(outer, marked, run, launcher.getParent().getParent(), "cd /marked/inner && " + RUN_INNER);

            try (Daemon daemon = Daemon.start(run, scratch.dir("state"), Path.of("/etc"))) {
                assertEquals(0, daemon.idshift("mark", marked.toString()).exit());

                Exec.Result result = Runtime.RUNC.run(outer);

                assertTrue(result.stdout().contains("inner-exit=0"), result.describe() + "\ndaemon: " + daemon.log());
                List<String> lines = result.stdout().lines().toList();
                assertEquals("0:0", lines.get(lines.indexOf("inner-exit=0") + 1), "the inner rootfs is the inner root's: " + result.describe());
                assertEquals("0:0", Rootfs.owner(inner.resolve("rootfs/root/made-inside")), "its writes land unshifted on disk");
            }
        }
    }

    /** The outer container's command that runs the inner one (in its bundle's directory) and prints its exit and output. */
    static final String RUN_INNER = "runc --root /run/runc-inner run inner </dev/null >/tmp/inner.out 2>&1;"
            + " echo inner-exit=$?; cat /tmp/inner.out";

    /** The inner bundle's config.json: SCRIPT as root of a user namespace mapping 0 to the outer container's 1000 (1000 ids). */
    static void writeInnerConfig(Path inner, String script) throws Exception {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("ociVersion", "1.0.2");
        config.put("process", Map.of("terminal", false, "user", Map.of("uid", 0, "gid", 0), "cwd", "/", "env", List.of("PATH=/bin"),
                "args", List.of("/bin/sh", "-c", script)));
        config.put("root", Map.of("path", "rootfs"));
        config.put("mounts", List.of(Map.of("destination", "/proc", "type", "proc", "source", "proc"),
                Map.of("destination", "/dev", "type", "tmpfs", "source", "tmpfs", "options", List.of("nosuid", "mode=755"))));
        config.put("hooks", Map.of("prestart", List.of(Map.of("path", "/opt/idshift/bin/idshift", "args", List.of("idshift", "hook")))));
        List<Map<String, Object>> namespaces = new ArrayList<>();
        for (String type : List.of("pid", "ipc", "uts", "mount", "user")) {
            namespaces.add(Map.of("type", type));
        }
        // Inner 0 is the outer container's 1000, i.e. host 101000.
        config.put("linux", Map.of("namespaces", namespaces,
                "uidMappings", List.of(Map.of("containerID", 0, "hostID", 1000, "size", 1000)),
                "gidMappings", List.of(Map.of("containerID", 0, "hostID", 1000, "size", 1000))));
        new ObjectMapper().writeValue(inner.resolve("config.json").toFile(), config);
    }

    /** The outer bundle's directory, its rootfs holding only mount points (everything comes in by bind mounts). */
    static Path outerBundle(Scratch scratch) throws Exception {
        Path outer = scratch.dir("outer");
        Path outerRoot = scratch.dir("outer/rootfs");
        for (String dir : List.of("usr", "bin", "sbin", "lib", "lib64", "etc", "proc", "dev", "tmp", "run", "marked",
                "opt/idshift", "run/idshift", "sys/fs/cgroup")) {
            Files.createDirectories(outerRoot.resolve(dir));
        }
        return outer;
    }

    /** The outer container (root of a user namespace mapping 0 to host 100000): MARKED at /marked, the daemon's socket dir, idshift. */
    static void writeOuterConfig(Path outer, Path marked, Path run, Path idshiftCopy, String script) throws Exception {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("ociVersion", "1.0.2");
        Map<String, Object> process = new LinkedHashMap<>();
        process.put("terminal", false);
        process.put("user", Map.of("uid", 0, "gid", 0));
        process.put("cwd", "/");
        process.put("env", List.of("PATH=/usr/sbin:/usr/bin:/sbin:/bin"));
        // Inner runc gets stdio the outer root owns: it chowns stdio to the inner container's root.
        process.put("args", List.of("sh", "-c", script));
        process.put("capabilities", Map.of("bounding", CAPABILITIES, "effective", CAPABILITIES, "permitted", CAPABILITIES));
        config.put("process", process);
        config.put("root", Map.of("path", "rootfs"));
        List<Map<String, Object>> mounts = new ArrayList<>();
        mounts.add(Map.of("destination", "/proc", "type", "proc", "source", "proc"));
        mounts.add(Map.of("destination", "/dev", "type", "tmpfs", "source", "tmpfs", "options", List.of("nosuid", "mode=755")));
        mounts.add(Map.of("destination", "/tmp", "type", "tmpfs", "source", "tmpfs", "options", List.of("mode=1777")));
        mounts.add(Map.of("destination", "/run", "type", "tmpfs", "source", "tmpfs", "options", List.of("mode=755")));
        for (String system : List.of("/usr", "/bin", "/sbin", "/lib", "/lib64", "/etc")) {
            mounts.add(bind(system, system, true));
        }
        mounts.add(bind("/sys/fs/cgroup", "/sys/fs/cgroup", true));
        mounts.add(bind(marked.toString(), "/marked", false));
        mounts.add(bind(run.toString(), "/run/idshift", false));
        mounts.add(bind(idshiftCopy.toString(), "/opt/idshift", true));
        config.put("mounts", mounts);
        List<Map<String, Object>> namespaces = new ArrayList<>();
        for (String type : List.of("pid", "ipc", "uts", "mount", "user")) {
            namespaces.add(Map.of("type", type));
        }
        config.put("linux", Map.of("namespaces", namespaces,
                "uidMappings", List.of(Map.of("containerID", 0, "hostID", 100000, "size", 65536)),
                "gidMappings", List.of(Map.of("containerID", 0, "hostID", 100000, "size", 65536))));
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(outer.resolve("config.json").toFile(), config);
    }

    private static Map<String, Object> bind(String source, String destination, boolean readonly) {
        List<String> options = new ArrayList<>(List.of("rbind"));
        if (readonly) {
            options.add("ro");
        }
        return Map.of("destination", destination, "type", "bind", "source", source, "options", options);
    }
}
