package dev.idshift.backend.kernel;

import dev.idshift.failure.KernelRefusedException;
import dev.idshift.sys.files.ProcFiles;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** The calling thread's mount table (/proc/thread-self/mountinfo: the mount namespace it has entered). */
public final class MountInfo {
    private MountInfo() {
    }

    /** Mount points of the mounts directly on top of the topmost mount at {@code mountPoint}, in table order. */
    static List<String> directChildren(String mountPoint) {
        String table = table();
        String[] lines = table.split("\n");
        String parentId = null;
        for (String line : lines) {
            String[] fields = line.split(" ");
            if (fields.length > 4 && unescape(fields[4]).equals(mountPoint)) {
                parentId = fields[0];
            }
        }
        List<String> children = new ArrayList<>();
        if (parentId == null) {
            return children;
        }
        for (String line : lines) {
            String[] fields = line.split(" ");
            if (fields.length > 4 && fields[1].equals(parentId) && !fields[0].equals(parentId)) {
                children.add(unescape(fields[4]));
            }
        }
        return children;
    }

    /**
     * One mount as mountinfo shows it.
     *
     * @param root         the mount's root within its filesystem ("/" for a whole filesystem)
     * @param superOptions the superblock's options, still escaped as mountinfo writes them (\\ooo)
     */
    public record Mount(String root, String mountPoint, String fsType, String superOptions, String device) {
    }

    /** The topmost mount at {@code mountPoint}, or null when nothing is mounted there. */
    public static Mount mountAt(String mountPoint) {
        return mountAt(table(), mountPoint);
    }

    /**
     * The topmost mount at {@code mountPoint} in {@code table} (another process's mountinfo, read
     * through its pinned /proc/PID: mount points are then as that process sees them), or null.
     */
    public static Mount mountAt(String table, String mountPoint) {
        Mount found = null;
        for (String line : table.split("\n")) {
            String[] fields = line.split(" ");
            int separator = line.indexOf(" - ");
            if (fields.length > 4 && separator > 0 && unescape(fields[4]).equals(mountPoint)) {
                String[] tail = line.substring(separator + 3).split(" ");
                found = new Mount(unescape(fields[3]), mountPoint, tail[0], tail.length > 2 ? tail[2] : "", fields[2]);
            }
        }
        return found;
    }

    /** The device ("major:minor") of the topmost mount at {@code mountPoint}, or "" if none. */
    public static String deviceAt(String mountPoint) {
        return fieldAt(mountPoint, true);
    }

    /** The filesystem type of the topmost mount at {@code mountPoint} ("fuse.idshift", "ext4", ...), or "" if none. */
    public static String fsTypeAt(String mountPoint) {
        return fieldAt(mountPoint, false);
    }

    private static String fieldAt(String mountPoint, boolean device) {
        String table = table();
        String type = "";
        for (String line : table.split("\n")) {
            String[] fields = line.split(" ");
            if (fields.length > 4 && unescape(fields[4]).equals(mountPoint)) {
                int separator = line.indexOf(" - ");
                type = device ? fields[2] : line.substring(separator + 3).split(" ")[0];
            }
        }
        return type;
    }

    private static String table() {
        try {
            return ProcFiles.read("/proc/thread-self/mountinfo");
        } catch (IOException e) {
            throw new KernelRefusedException("cannot read /proc/thread-self/mountinfo: " + e.getMessage(), e);
        }
    }

    /** mountinfo escapes space, tab, newline and backslash (and, in options, comma) as \\ooo. */
    public static String unescape(String field) {
        if (field.indexOf('\\') < 0) {
            return field;
        }
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && i + 3 < field.length()) {
                text.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                text.append(c);
            }
        }
        return text.toString();
    }
}
