package dev.idshift.config.json;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A JSON object with its path in the document, so that every typed read that fails can say where
 * ({@code $.linux.uidMappings[0].hostID}) and what it found instead.
 */
public final class JsonObjectView {
    public static final long UINT32_MAX = 0xFFFF_FFFFL;

    private final Map<String, Object> members;
    private final String path;
    private final String source;

    JsonObjectView(Map<String, Object> members, String path, String source) {
        this.members = members;
        this.path = path;
        this.source = source;
    }

    /** The live members: changes are seen by {@link JsonTree#write}. */
    public Map<String, Object> members() {
        return members;
    }

    public String path() {
        return path;
    }

    public String source() {
        return source;
    }

    public boolean has(String key) {
        return members.containsKey(key) && members.get(key) != null;
    }

    public String pathOf(String key) {
        return path + "." + key;
    }

    public JsonInputException error(String key, String problem) {
        return new JsonInputException(source, key == null ? path : pathOf(key), problem);
    }

    public Optional<String> optString(String key) {
        Object value = members.get(key);
        if (value == null) {
            return Optional.empty();
        }
        if (!(value instanceof String)) {
            throw error(key, "expected a string, got " + describe(value));
        }
        return Optional.of((String) value);
    }

    public String string(String key) {
        Optional<String> value = optString(key);
        if (value.isEmpty()) {
            throw error(key, "required string is missing");
        }
        return value.get();
    }

    public Optional<Long> optUint32(String key) {
        Object value = members.get(key);
        if (value == null) {
            return Optional.empty();
        }
        if (!(value instanceof Long) || (Long) value < 0 || (Long) value > UINT32_MAX) {
            throw error(key, "expected an integer from 0 to 4294967295, got " + describe(value));
        }
        return Optional.of((Long) value);
    }

    public long uint32(String key) {
        Optional<Long> value = optUint32(key);
        if (value.isEmpty()) {
            throw error(key, "required integer is missing");
        }
        return value.get();
    }

    public Optional<Long> optLong(String key) {
        Object value = members.get(key);
        if (value == null) {
            return Optional.empty();
        }
        if (!(value instanceof Long)) {
            throw error(key, "expected an integer, got " + describe(value));
        }
        return Optional.of((Long) value);
    }

    public boolean optBoolean(String key, boolean fallback) {
        Object value = members.get(key);
        if (value == null) {
            return fallback;
        }
        if (!(value instanceof Boolean)) {
            throw error(key, "expected true or false, got " + describe(value));
        }
        return (Boolean) value;
    }

    @SuppressWarnings("unchecked")
    public Optional<JsonObjectView> optObject(String key) {
        Object value = members.get(key);
        if (value == null) {
            return Optional.empty();
        }
        if (!(value instanceof Map)) {
            throw error(key, "expected an object, got " + describe(value));
        }
        return Optional.of(new JsonObjectView((Map<String, Object>) value, pathOf(key), source));
    }

    @SuppressWarnings("unchecked")
    public List<JsonObjectView> objectArray(String key) {
        List<Object> items = array(key);
        List<JsonObjectView> views = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            Object item = items.get(i);
            String itemPath = pathOf(key) + "[" + i + "]";
            if (!(item instanceof Map)) {
                throw new JsonInputException(source, itemPath, "expected an object, got " + describe(item));
            }
            views.add(new JsonObjectView((Map<String, Object>) item, itemPath, source));
        }
        return views;
    }

    public List<String> stringArray(String key) {
        List<Object> items = array(key);
        List<String> strings = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            Object item = items.get(i);
            if (!(item instanceof String)) {
                throw new JsonInputException(source, pathOf(key) + "[" + i + "]", "expected a string, got " + describe(item));
            }
            strings.add((String) item);
        }
        return strings;
    }

    /** An object whose every member is a string (e.g. annotations). */
    public Map<String, String> stringMap(String key) {
        Optional<JsonObjectView> object = optObject(key);
        if (object.isEmpty()) {
            return Collections.emptyMap();
        }
        Map<String, String> strings = new LinkedHashMap<>();
        for (Map.Entry<String, Object> member : object.get().members.entrySet()) {
            if (!(member.getValue() instanceof String)) {
                throw new JsonInputException(source, object.get().path + "[\"" + member.getKey() + "\"]",
                        "expected a string, got " + describe(member.getValue()));
            }
            strings.put(member.getKey(), (String) member.getValue());
        }
        return strings;
    }

    @SuppressWarnings("unchecked")
    private List<Object> array(String key) {
        Object value = members.get(key);
        if (value == null) {
            return Collections.emptyList();
        }
        if (!(value instanceof List)) {
            throw error(key, "expected an array, got " + describe(value));
        }
        return (List<Object>) value;
    }

    static String describe(Object value) {
        if (value == null) {
            return "null";
        }
        if (value instanceof String) {
            String text = (String) value;
            return "\"" + (text.length() > 60 ? text.substring(0, 60) + "..." : text) + "\"";
        }
        if (value instanceof Map) {
            return "an object";
        }
        if (value instanceof List) {
            return "an array";
        }
        if (value instanceof BigInteger || value instanceof Number || value instanceof Boolean) {
            return String.valueOf(value);
        }
        return value.getClass().getSimpleName();
    }

    private static boolean isIndex(String segment) {
        if (segment.isEmpty()) {
            return false;
        }
        for (int i = 0; i < segment.length(); i++) {
            if (segment.charAt(i) < '0' || segment.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    /** "/linux/uidMappings/0" -> "$.linux.uidMappings[0]". */
    static String pointerToPath(String pointer) {
        StringBuilder path = new StringBuilder("$");
        if (pointer.isEmpty()) {
            return "$";
        }
        for (String segment : pointer.substring(1).split("/", -1)) {
            if (isIndex(segment)) {
                path.append('[').append(segment).append(']');
            } else {
                path.append('.').append(segment.replace("~1", "/").replace("~0", "~"));
            }
        }
        return path.toString();
    }
}
