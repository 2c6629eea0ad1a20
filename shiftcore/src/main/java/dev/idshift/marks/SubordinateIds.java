package dev.idshift.marks;

import dev.idshift.failure.KernelRefusedException;
import dev.idshift.idmap.IdExtent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * /etc/subuid and /etc/subgid as newuidmap reads them: lines "user:start:count", where user is a
 * name or a numeric uid; a user may have several ranges.
 */
public final class SubordinateIds {
    private SubordinateIds() {
    }

    /** The ranges of {@code userName} or {@code uid}, as extents mapping each id to itself. */
    public static List<IdExtent> rangesOf(Path file, String userName, long uid) {
        List<IdExtent> ranges = new ArrayList<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (NoSuchFileException e) {
            return ranges;
        } catch (IOException e) {
            throw new KernelRefusedException("cannot read " + file + ": " + e.getMessage(), e);
        }
        for (String line : lines) {
            String[] fields = line.trim().split(":");
            if (fields.length != 3 || fields[0].startsWith("#")) {
                continue;
            }
            if (fields[0].equals(userName) || fields[0].equals(Long.toString(uid))) {
                try {
                    long start = Long.parseLong(fields[1]);
                    long count = Long.parseLong(fields[2]);
                    if (count > 0) {
                        ranges.add(new IdExtent(start, start, count));
                    }
                } catch (NumberFormatException ignored) {
                    // newuidmap skips malformed lines too
                }
            }
        }
        return ranges;
    }

    /** The user name of {@code uid} from /etc/passwd, or null. */
    public static String userName(Path passwd, long uid) {
        try {
            for (String line : Files.readAllLines(passwd)) {
                String[] fields = line.split(":");
                if (fields.length > 2 && fields[2].equals(Long.toString(uid))) {
                    return fields[0];
                }
            }
        } catch (IOException e) {
            return null;
        }
        return null;
    }
}
