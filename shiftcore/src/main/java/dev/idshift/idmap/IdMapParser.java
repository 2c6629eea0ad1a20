package dev.idshift.idmap;

import java.util.ArrayList;
import java.util.List;

/** Reads id maps from the text forms people and the kernel use. */
public final class IdMapParser {
    private IdMapParser() {
    }

    /**
     * shiftfs/bindfs/annotation syntax: {@code inside:outside:count}, extents separated by commas
     * (or given as several strings, as repeated {@code --uidmap} options are).
     */
    public static IdMap parseColonList(List<String> specs) {
        List<IdExtent> extents = new ArrayList<>();
        for (String spec : specs) {
            for (String part : spec.split(",", -1)) {
                extents.add(parseExtent(part.trim(), ':', spec));
            }
        }
        if (extents.isEmpty()) {
            throw new IdMapException("empty id map");
        }
        return IdMap.of(extents);
    }

    public static IdMap parseColonList(String spec) {
        return parseColonList(List.of(spec));
    }

    /** The /proc/PID/uid_map format: lines of three whitespace-separated numbers. */
    public static IdMap parseProcMap(String text) {
        List<IdExtent> extents = new ArrayList<>();
        for (String line : text.split("\n")) {
            String trimmed = line.trim();
            if (trimmed.isEmpty()) {
                continue;
            }
            String[] fields = words(trimmed);
            if (fields.length != 3) {
                throw new IdMapException("\"" + trimmed + "\" is not a uid_map line (expected: inside outside count)");
            }
            extents.add(new IdExtent(number(fields[0], trimmed), number(fields[1], trimmed), number(fields[2], trimmed)));
        }
        return IdMap.of(extents);
    }

    /** Splits on runs of spaces and tabs (no regex: this runs in the hook). */
    private static String[] words(String line) {
        java.util.ArrayList<String> words = new java.util.ArrayList<>(3);
        int start = -1;
        for (int i = 0; i <= line.length(); i++) {
            boolean blank = i == line.length() || line.charAt(i) == ' ' || line.charAt(i) == '\t';
            if (blank && start >= 0) {
                words.add(line.substring(start, i));
                start = -1;
            } else if (!blank && start < 0) {
                start = i;
            }
        }
        return words.toArray(new String[0]);
    }

    private static IdExtent parseExtent(String part, char separator, String whole) {
        String[] fields = part.split(String.valueOf(separator), -1);
        if (fields.length != 3) {
            throw new IdMapException("\"" + part + "\" in \"" + whole + "\" is not an extent; expected INSIDE:OUTSIDE:COUNT, e.g. 0:100000:65536");
        }
        return new IdExtent(number(fields[0], whole), number(fields[1], whole), number(fields[2], whole));
    }

    private static long number(String field, String whole) {
        if (field.isEmpty() || field.length() > 10) {
            throw new IdMapException("\"" + field + "\" in \"" + whole + "\" is not an id from 0 to 4294967295");
        }
        long value = 0;
        for (int i = 0; i < field.length(); i++) {
            char digit = field.charAt(i);
            if (digit < '0' || digit > '9') {
                throw new IdMapException("\"" + field + "\" in \"" + whole + "\" is not an id from 0 to 4294967295");
            }
            value = value * 10 + (digit - '0');
        }
        if (value > IdMap.INVALID_ID) {
            throw new IdMapException("\"" + field + "\" in \"" + whole + "\" is not an id from 0 to 4294967295");
        }
        return value;
    }
}
