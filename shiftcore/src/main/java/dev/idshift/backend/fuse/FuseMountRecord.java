package dev.idshift.backend.fuse;

/**
 * A running FUSE server, as it records itself under the run directory, so that {@code idshift
 * umount} and poststop can stop the process that serves a mount point.
 *
 * @param key       the record's directory name
 * @param pid       the server process
 * @param startTime its start time (field 22 of /proc/PID/stat): a reused pid is not ours
 * @param source    the directory shown shifted
 * @param target    the mount point
 */
public record FuseMountRecord(String key, long pid, long startTime, String source, String target) {
}
