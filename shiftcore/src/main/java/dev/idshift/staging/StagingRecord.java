package dev.idshift.staging;

import java.util.List;

/**
 * What a precreate hook made for one container, so that poststop (or gc) can remove it.
 *
 * @param key         random id, also the config annotation dev.idshift.staging
 * @param createdAtMs when it was made (epoch ms), for gc's grace period
 * @param mounts      every staged mount, rootfs first
 * @param container   the container using it, once poststart has said so (null before)
 * @param creator     the process that ran the precreate hook (podman), or null: it calls the runtime's
 *                    create and start and runs poststart before it returns, so once it has exited with
 *                    no poststart seen, the container was never started (a failed create runs no poststop)
 */
public record StagingRecord(String key, long createdAtMs, List<StagedMount> mounts, ContainerProcess container, Creator creator) {

    public StagingRecord(String key, long createdAtMs, List<StagedMount> mounts, ContainerProcess container) {
        this(key, createdAtMs, mounts, container, null);
    }

    /** A process as /proc/PID/stat saw it: the start time tells it from a later one with the same pid. */
    public record Creator(long pid, long startTime) {
    }

    /**
     * The container's init as poststart saw it. The start time (field 22 of /proc/PID/stat) tells a
     * live container from a reused pid.
     */
    public record ContainerProcess(String id, long pid, long startTime) {
    }

    public StagingRecord withContainer(ContainerProcess process) {
        return new StagingRecord(key, createdAtMs, mounts, process, creator);
    }
}
