package dev.idshift.config.oci;

import dev.idshift.config.json.JsonObjectView;
import dev.idshift.config.json.JsonTree;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Builds the typed OCI records from JSON, naming the JSON path of anything malformed. */
public final class OciReader {
    private OciReader() {
    }

    public static OciState readState(byte[] json, String source) {
        return state(JsonTree.parseObject(json, source));
    }

    public static OciConfig readConfig(byte[] json, String source) {
        return config(JsonTree.parseObject(json, source));
    }

    public static OciState state(JsonObjectView state) {
        String bundle = state.string("bundle");
        if (bundle.isEmpty()) {
            throw state.error("bundle", "must not be empty");
        }
        long pid = state.optLong("pid").orElse(0L);
        if (pid < 0 || pid > Integer.MAX_VALUE) {
            throw state.error("pid", "expected a process id, got " + pid);
        }
        return new OciState(
                state.optString("ociVersion").orElse(""),
                state.string("id"),
                state.optString("status").orElse(""),
                pid,
                bundle,
                state.stringMap("annotations"));
    }

    public static OciConfig config(JsonObjectView config) {
        Optional<JsonObjectView> rootMember = config.optObject("root");
        if (rootMember.isEmpty()) {
            throw config.error("root", "required object is missing");
        }
        JsonObjectView rootObject = rootMember.get();
        String rootPath = rootObject.string("path");
        if (rootPath.isEmpty()) {
            throw rootObject.error("path", "must not be empty");
        }
        RootSpec root = new RootSpec(rootPath, rootObject.optBoolean("readonly", false));
        List<MountEntry> mounts = new ArrayList<>();
        for (JsonObjectView mount : config.objectArray("mounts")) {
            mounts.add(new MountEntry(mount.string("destination"), mount.optString("type"),
                    mount.optString("source"), mount.stringArray("options")));
        }
        Optional<JsonObjectView> linuxMember = config.optObject("linux");
        LinuxSpec linux = linuxMember.isPresent() ? linux(linuxMember.get()) : LinuxSpec.EMPTY;
        return new OciConfig(config.optString("ociVersion").orElse(""), root, mounts, linux,
                config.stringMap("annotations"), config);
    }

    private static LinuxSpec linux(JsonObjectView linux) {
        List<Namespace> namespaces = new ArrayList<>();
        for (JsonObjectView namespace : linux.objectArray("namespaces")) {
            namespaces.add(new Namespace(namespace.string("type"), namespace.optString("path")));
        }
        return new LinuxSpec(namespaces,
                mappings(linux, "uidMappings"),
                mappings(linux, "gidMappings"),
                linux.stringArray("maskedPaths"),
                linux.stringArray("readonlyPaths"),
                linux.optString("rootfsPropagation"));
    }

    private static List<IdMapping> mappings(JsonObjectView linux, String key) {
        List<IdMapping> mappings = new ArrayList<>();
        for (JsonObjectView mapping : linux.objectArray(key)) {
            long size = mapping.uint32("size");
            if (size == 0) {
                throw mapping.error("size", "must be at least 1");
            }
            mappings.add(new IdMapping(mapping.uint32("containerID"), mapping.uint32("hostID"), size));
        }
        return mappings;
    }

    /** Is this hook input a config (precreate stage) rather than a state (every other stage)? */
    public static boolean looksLikeConfig(JsonObjectView document) {
        return !document.has("status") && !document.has("pid") && !document.has("bundle")
                && (document.has("root") || document.has("process") || document.has("linux"));
    }
}
