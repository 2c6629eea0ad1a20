package dev.idshift.sys.processes;

import dev.idshift.sys.files.ProcFiles;
import java.io.IOException;
import java.util.OptionalLong;

/**
 * What /proc/PID/status says of a process's credentials: its four uids and gids and its effective
 * capabilities. The one reader of that file; each caller decides what a missing or unreadable field
 * means for it (who asked, and how much to trust a pid, is the caller's to settle).
 *
 * @param uids                  the Uid: line, or null if it is missing or not four ids
 * @param gids                  the Gid: line, or null if it is missing or not four ids
 * @param effectiveCapabilities CapEff: as a bit mask (bit n: capability n), empty if missing or not hex
 */
public record ProcessStatus(Ids uids, Ids gids, OptionalLong effectiveCapabilities) {
    /** One line of ids, in the kernel's order: real, effective, saved set, filesystem. */
    public record Ids(long real, long effective, long saved, long filesystem) {
        /** Whether all four are {@code id}. */
        public boolean all(long id) {
            return real == id && effective == id && saved == id && filesystem == id;
        }
    }

    /**
     * The status of PID as /proc shows it now (its pid namespace numbering, its user namespace's ids
     * as seen from ours).
     *
     * @throws IOException no such process, or /proc cannot be read
     */
    public static ProcessStatus of(long pid) throws IOException {
        return parse(ProcFiles.read("/proc/" + pid + "/status"));
    }

    /** The fields of a status text; those not as the kernel writes them are null or empty. */
    public static ProcessStatus parse(String status) {
        return new ProcessStatus(ids(field(status, "Uid:")), ids(field(status, "Gid:")), hex(field(status, "CapEff:")));
    }

    private static Ids ids(String line) {
        String[] ids = line.split("\\s+");
        if (ids.length != 4) {
            return null;
        }
        try {
            return new Ids(Long.parseUnsignedLong(ids[0]), Long.parseUnsignedLong(ids[1]), Long.parseUnsignedLong(ids[2]),
                    Long.parseUnsignedLong(ids[3]));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static OptionalLong hex(String value) {
        try {
            return OptionalLong.of(Long.parseUnsignedLong(value, 16));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    /** The value of the line {@code name} (never the first: that is "Name:"), trimmed; "" if none. */
    private static String field(String status, String name) {
        int at = status.indexOf("\n" + name);
        if (at < 0) {
            return "";
        }
        int start = at + 1 + name.length();
        int end = status.indexOf('\n', start);
        return status.substring(start, end < 0 ? status.length() : end).trim();
    }
}
