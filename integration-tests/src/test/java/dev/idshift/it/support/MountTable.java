package dev.idshift.it.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The mount table of this process's namespace (the host's); what of it is a test's own: see Leftovers. */
public final class MountTable {
    private MountTable() {
    }

    /** Mount point and source of every mount in this process's namespace (ids left out: they are reused). */
    public static List<String> snapshot() {
        try {
            List<String> mounts = new ArrayList<>();
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] fields = line.split(" ");
                mounts.add(fields[4] + " " + fields[3]);
            }
            return mounts;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The mountinfo lines of a container, as printed by `cat /proc/self/mountinfo` inside it. */
    public static List<MountLine> parse(String mountinfo) {
        List<MountLine> lines = new ArrayList<>();
        for (String line : mountinfo.split("\n")) {
            if (!line.isBlank()) {
                lines.add(MountLine.parse(line));
            }
        }
        return lines;
    }
}
