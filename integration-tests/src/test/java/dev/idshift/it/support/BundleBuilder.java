package dev.idshift.it.support;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes an OCI bundle's config.json: `runc spec`'s defaults minus what a user-namespaced container
 * without its own network namespace cannot have (/sys, cgroup mounts, resources).
 */
public final class BundleBuilder {
    public static final List<String> MASKED = List.of("/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
            "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi");
    public static final List<String> READONLY = List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger");

    private final Path bundle;
    private String rootPath = "rootfs";
    private boolean readonlyRoot;
    private String rootfsPropagation;
    private List<String> args = List.of("true");
    private List<Map<String, Object>> uidMappings = List.of(mapping(0, 100000, 65536));
    private List<Map<String, Object>> gidMappings = List.of(mapping(0, 100000, 65536));
    private boolean userNamespace = true;
    private final Map<String, String> annotations = new LinkedHashMap<>();
    private final Map<String, List<Map<String, Object>>> hooks = new LinkedHashMap<>();
    private final List<Map<String, Object>> extraMounts = new ArrayList<>();

    public BundleBuilder(Path bundle) {
        this.bundle = bundle;
    }

    public static Map<String, Object> mapping(long container, long host, long size) {
        Map<String, Object> mapping = new LinkedHashMap<>();
        mapping.put("containerID", container);
        mapping.put("hostID", host);
        mapping.put("size", size);
        return mapping;
    }

    public BundleBuilder rootPath(String path) {
        rootPath = path;
        return this;
    }

    public BundleBuilder readonlyRoot(boolean readonly) {
        readonlyRoot = readonly;
        return this;
    }

    public BundleBuilder rootfsPropagation(String propagation) {
        rootfsPropagation = propagation;
        return this;
    }

    /** The container's command, run by /bin/sh -c. */
    public BundleBuilder script(String script) {
        args = List.of("/bin/sh", "-c", script);
        return this;
    }

    public BundleBuilder uidMappings(List<Map<String, Object>> mappings) {
        uidMappings = mappings;
        return this;
    }

    public BundleBuilder gidMappings(List<Map<String, Object>> mappings) {
        gidMappings = mappings;
        return this;
    }

    /** Both maps: a single extent 0 -> hostBase for 65536 ids. */
    public BundleBuilder hostBase(long hostBase) {
        uidMappings = List.of(mapping(0, hostBase, 65536));
        gidMappings = List.of(mapping(0, hostBase, 65536));
        return this;
    }

    public BundleBuilder withoutUserNamespace() {
        userNamespace = false;
        return this;
    }

    public BundleBuilder annotation(String key, String value) {
        annotations.put(key, value);
        return this;
    }

    /** Adds `bin/idshift hook` at a stage (prestart, createRuntime, poststop). */
    public BundleBuilder idshiftHook(String stage) {
        Map<String, Object> hook = new LinkedHashMap<>();
        hook.put("path", Host.launcher().toString());
        hook.put("args", List.of("idshift", "hook"));
        hooks.computeIfAbsent(stage, s -> new ArrayList<>()).add(hook);
        return this;
    }

    public BundleBuilder hook(String stage, String path, List<String> hookArgs) {
        return hook(stage, path, hookArgs, null);
    }

    /** A hook with its own environment (runtimes give hooks nothing else: no PATH, no JAVA_HOME). */
    public BundleBuilder hook(String stage, String path, List<String> hookArgs, List<String> environment) {
        Map<String, Object> hook = new LinkedHashMap<>();
        hook.put("path", path);
        hook.put("args", hookArgs);
        if (environment != null) {
            hook.put("env", environment);
        }
        hooks.computeIfAbsent(stage, s -> new ArrayList<>()).add(hook);
        return this;
    }

    public BundleBuilder bindMount(String source, String destination) {
        Map<String, Object> mount = new LinkedHashMap<>();
        mount.put("destination", destination);
        mount.put("type", "bind");
        mount.put("source", source);
        mount.put("options", List.of("rbind", "rw"));
        extraMounts.add(mount);
        return this;
    }

    public Path write() throws IOException {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("ociVersion", "1.0.2-dev");
        Map<String, Object> process = new LinkedHashMap<>();
        process.put("terminal", false);
        process.put("user", Map.of("uid", 0, "gid", 0));
        process.put("args", args);
        process.put("env", List.of("PATH=/bin", "TERM=xterm"));
        process.put("cwd", "/");
        process.put("noNewPrivileges", true);
        config.put("process", process);
        config.put("root", Map.of("path", rootPath, "readonly", readonlyRoot));
        config.put("hostname", "idshift-it");
        List<Map<String, Object>> mounts = new ArrayList<>();
        mounts.add(mount("/proc", "proc", "proc", List.of()));
        mounts.add(mount("/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k")));
        mounts.add(mount("/dev/pts", "devpts", "devpts", List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620")));
        mounts.add(mount("/dev/shm", "tmpfs", "shm", List.of("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")));
        mounts.add(mount("/dev/mqueue", "mqueue", "mqueue", List.of("nosuid", "noexec", "nodev")));
        mounts.addAll(extraMounts);
        config.put("mounts", mounts);
        if (!hooks.isEmpty()) {
            config.put("hooks", hooks);
        }
        if (!annotations.isEmpty()) {
            config.put("annotations", annotations);
        }
        Map<String, Object> linux = new LinkedHashMap<>();
        List<Map<String, Object>> namespaces = new ArrayList<>();
        for (String type : List.of("pid", "ipc", "uts", "mount")) {
            namespaces.add(Map.of("type", type));
        }
        if (userNamespace) {
            namespaces.add(Map.of("type", "user"));
            linux.put("uidMappings", uidMappings);
            linux.put("gidMappings", gidMappings);
        }
        linux.put("namespaces", namespaces);
        linux.put("maskedPaths", MASKED);
        linux.put("readonlyPaths", READONLY);
        if (rootfsPropagation != null) {
            linux.put("rootfsPropagation", rootfsPropagation);
        }
        config.put("linux", linux);
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(bundle.resolve("config.json").toFile(), config);
        return bundle;
    }

    private static Map<String, Object> mount(String destination, String type, String source, List<String> options) {
        Map<String, Object> mount = new LinkedHashMap<>();
        mount.put("destination", destination);
        mount.put("type", type);
        mount.put("source", source);
        mount.put("options", options);
        return mount;
    }
}
