package dev.idshift.marks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Whether a group can be shown to have no member but root: /etc/group lists it with no member other
 * than "root", and no /etc/passwd user but uid 0 has it as primary group. Group 0 is not root-only
 * by its number: systems add users to it. A group we cannot show root-only (no such line, a file we
 * cannot read) counts as anyone's.
 */
public final class RootOnlyGroups {
    private final List<String> groupLines;
    private final List<String> passwdLines;

    private RootOnlyGroups(List<String> groupLines, List<String> passwdLines) {
        this.groupLines = groupLines;
        this.passwdLines = passwdLines;
    }

    /** From ETC/group and ETC/passwd, read once now. */
    public static RootOnlyGroups in(Path etc) {
        return new RootOnlyGroups(lines(etc.resolve("group")), lines(etc.resolve("passwd")));
    }

    public boolean rootOnly(long gid) {
        if (groupLines == null || passwdLines == null) {
            return false;
        }
        String number = Long.toString(gid);
        boolean listed = false;
        for (String line : groupLines) {
            String[] fields = line.split(":", -1);
            if (fields.length < 4 || !fields[2].equals(number)) {
                continue;
            }
            listed = true;
            for (String member : fields[3].split(",")) {
                if (!member.isEmpty() && !member.equals("root")) {
                    return false;
                }
            }
        }
        if (!listed) {
            return false;
        }
        for (String line : passwdLines) {
            String[] fields = line.split(":", -1);
            if (fields.length > 3 && fields[3].equals(number) && !fields[2].equals("0")) {
                return false;
            }
        }
        return true;
    }

    private static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException unreadable) {
            return null; // then no group can be shown root-only
        }
    }
}
