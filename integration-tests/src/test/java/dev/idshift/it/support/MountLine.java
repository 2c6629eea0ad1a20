package dev.idshift.it.support;

/**
 * One /proc/PID/mountinfo line without the parts that change from run to run (mount ids,
 * device numbers of anonymous filesystems).
 */
public record MountLine(String root, String mountPoint, String mountOptions, String propagation, String fsType, String source,
                        String superOptions) {

    public static MountLine parse(String line) {
        String[] halves = line.split(" - ", 2);
        String[] head = halves[0].split(" ");
        String[] tail = halves[1].split(" ");
        // Optional fields, e.g. "shared:12 master:3": kept as their kinds, peer group numbers vary by run.
        StringBuilder propagation = new StringBuilder();
        for (int i = 6; i < head.length; i++) {
            propagation.append(propagation.length() == 0 ? "" : " ").append(head[i].replaceAll(":\\d+$", ""));
        }
        return new MountLine(head[3], head[4], head[5], propagation.toString(), tail[0], tail[1], tail.length > 2 ? tail[2] : "");
    }

    public boolean readonly() {
        return ("," + mountOptions + ",").contains(",ro,");
    }
}
