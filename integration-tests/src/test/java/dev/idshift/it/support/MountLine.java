package dev.idshift.it.support;

/**
 * One /proc/PID/mountinfo line without the parts that change from run to run (mount ids,
 * device numbers of anonymous filesystems).
 */
public record MountLine(String root, String mountPoint, String mountOptions, String fsType, String source, String superOptions) {

    public static MountLine parse(String line) {
        String[] halves = line.split(" - ", 2);
        String[] head = halves[0].split(" ");
        String[] tail = halves[1].split(" ");
        return new MountLine(head[3], head[4], head[5], tail[0], tail[1], tail.length > 2 ? tail[2] : "");
    }

    public boolean readonly() {
        return ("," + mountOptions + ",").contains(",ro,");
    }
}
