package dev.idshift.config.annotations;

import dev.idshift.config.json.JsonInputException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code dev.idshift.*} annotations, checked. These checks are the same rules as
 * {@code idshift-annotations.schema.json} (a test holds them to it); they are hand-written because
 * loading a JSON Schema validator costs ~190 ms and the hook runs on every container start.
 *
 * @param disable        {@code dev.idshift.disable=true}: leave this container alone
 * @param enable         {@code dev.idshift.enable=true}: the podman hooks.d trigger
 * @param fsIdMap        {@code dev.idshift.fsidmap}: on-disk layout for uids and gids, {@code C:D:N[,...]}
 * @param fsUidMap       {@code dev.idshift.fs-uidmap}: on-disk layout for uids only (wins over fsidmap)
 * @param fsGidMap       {@code dev.idshift.fs-gidmap}: on-disk layout for gids only (wins over fsidmap)
 * @param backend        {@code dev.idshift.backend}: auto, kernel or fuse
 * @param mounts         {@code dev.idshift.mounts}: bind-mount destinations to shift too ("*" = all)
 * @param staging        {@code dev.idshift.staging}: set by idshift's precreate stage on the config it
 *                       returns (32 hex digits), naming the staging mounts to remove after start
 */
public record IdshiftAnnotations(
        boolean disable,
        boolean enable,
        Optional<String> fsIdMap,
        Optional<String> fsUidMap,
        Optional<String> fsGidMap,
        Backend backend,
        List<String> mounts,
        Optional<String> staging) {

    public static final String PREFIX = "dev.idshift.";
    public static final String DISABLE = "dev.idshift.disable";
    public static final String ENABLE = "dev.idshift.enable";
    public static final String FSIDMAP = "dev.idshift.fsidmap";
    public static final String FS_UIDMAP = "dev.idshift.fs-uidmap";
    public static final String FS_GIDMAP = "dev.idshift.fs-gidmap";
    public static final String BACKEND = "dev.idshift.backend";
    public static final String MOUNTS = "dev.idshift.mounts";
    public static final String STAGING = "dev.idshift.staging";
    public static final List<String> KNOWN = List.of(DISABLE, ENABLE, FSIDMAP, FS_UIDMAP, FS_GIDMAP, BACKEND, MOUNTS, STAGING);


    public static final IdshiftAnnotations NONE = new IdshiftAnnotations(false, false, Optional.empty(),
            Optional.empty(), Optional.empty(), Backend.AUTO, List.of(), Optional.empty());

    /**
     * Reads and checks the annotations. Unknown {@code dev.idshift.*} keys are errors: a typo must
     * not silently fall back to defaults.
     *
     * @param source names the document in errors, e.g. "config.json"
     */
    public static IdshiftAnnotations from(Map<String, String> annotations, String source) {
        boolean any = false;
        for (String key : annotations.keySet()) {
            if (key.startsWith(PREFIX)) {
                any = true;
                if (!KNOWN.contains(key)) {
                    throw error(source, key, "unknown idshift annotation; known ones are " + String.join(", ", KNOWN));
                }
            }
        }
        if (!any) {
            return NONE;
        }
        String backendWord = annotations.getOrDefault(BACKEND, "auto");
        Backend backend = Backend.fromWord(backendWord);
        if (backend == null) {
            throw error(source, BACKEND, "\"" + backendWord + "\" is not a backend; expected auto, kernel or fuse");
        }
        return new IdshiftAnnotations(
                bool(annotations, DISABLE, source),
                bool(annotations, ENABLE, source),
                mapList(annotations, FSIDMAP, source),
                mapList(annotations, FS_UIDMAP, source),
                mapList(annotations, FS_GIDMAP, source),
                backend,
                mountList(annotations, source),
                staging(annotations, source));
    }

    private static boolean bool(Map<String, String> annotations, String key, String source) {
        String value = annotations.get(key);
        if (value == null) {
            return false;
        }
        if (!value.equals("true") && !value.equals("false")) {
            throw error(source, key, "\"" + value + "\" is not a boolean; expected true or false");
        }
        return value.equals("true");
    }

    private static Optional<String> mapList(Map<String, String> annotations, String key, String source) {
        String value = annotations.get(key);
        if (value == null) {
            return Optional.empty();
        }
        if (!isMapList(value)) {
            throw error(source, key, "\"" + value + "\" is not an id map; expected C:D:N[,C:D:N...]"
                    + " (container id C is stored on disk as id D, for N ids), e.g. 0:300000:65536");
        }
        return Optional.of(value);
    }

    private static Optional<String> staging(Map<String, String> annotations, String source) {
        String value = annotations.get(STAGING);
        if (value == null) {
            return Optional.empty();
        }
        if (!isStagingKey(value)) {
            throw error(source, STAGING, "\"" + value + "\" is not a staging key (32 lowercase hex digits, set by idshift itself)");
        }
        return Optional.of(value);
    }

    /** The schema's staging-key pattern, {@code ^[0-9a-f]{32}$}. */
    public static boolean isStagingKey(String value) {
        if (value.length() != 32) {
            return false;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }

    private static List<String> mountList(Map<String, String> annotations, String source) {
        String value = annotations.get(MOUNTS);
        if (value == null) {
            return List.of();
        }
        if (!isMountList(value)) {
            throw error(source, MOUNTS, "\"" + value + "\" is not a mount list; expected * or absolute"
                    + " destinations separated by commas, e.g. /data,/var/lib/app");
        }
        List<String> destinations = new ArrayList<>();
        for (String destination : value.split(",")) {
            destinations.add(destination);
        }
        return destinations;
    }

    /**
     * The schema's "idMapList" pattern, {@code ^[0-9]{1,10}:[0-9]{1,10}:[0-9]{1,10}(,...)*$}, by hand:
     * java.util.regex costs milliseconds of start-up in the hook.
     */
    public static boolean isMapList(String value) {
        int fields = 0;
        int digits = 0;
        for (int i = 0; i <= value.length(); i++) {
            char c = i == value.length() ? ',' : value.charAt(i);
            if (c >= '0' && c <= '9') {
                if (++digits > 10) {
                    return false;
                }
            } else if (c == ':' || c == ',') {
                if (digits == 0) {
                    return false;
                }
                digits = 0;
                fields++;
                if (c == ':' && fields % 3 == 0 || c == ',' && fields % 3 != 0) {
                    return false;
                }
            } else {
                return false;
            }
        }
        return true;
    }

    /** The schema's mount-list pattern, {@code ^(\*|/[^,]*(,/[^,]*)*)$}, by hand. */
    public static boolean isMountList(String value) {
        if (value.equals("*")) {
            return true;
        }
        if (value.isEmpty() || value.charAt(0) != '/') {
            return false;
        }
        for (int i = 0; i < value.length(); i++) {
            if (value.charAt(i) == ',' && (i + 1 == value.length() || value.charAt(i + 1) != '/')) {
                return false;
            }
        }
        return true;
    }

    private static JsonInputException error(String source, String key, String problem) {
        return new JsonInputException(source, "$.annotations[\"" + key + "\"]", problem);
    }
}
