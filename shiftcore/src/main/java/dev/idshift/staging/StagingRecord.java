package dev.idshift.staging;

import java.util.List;

/**
 * What a precreate hook made for one container, so that poststop (or gc) can remove it.
 *
 * @param key         random id, also the config annotation dev.idshift.staging
 * @param createdAtMs when it was made (epoch ms), for gc's grace period
 * @param mounts      every staged mount, rootfs first
 * @param container   the container using it, once poststart has said so (null before)
 */
public record StagingRecord(String key, long createdAtMs, List<StagedMount> mounts, ContainerProcess container) {

    /**
     * The container's init as poststart saw it. The start time (field 22 of /proc/PID/stat) tells a
     * live container from a reused pid.
     */
    public record ContainerProcess(String id, long pid, long startTime) {
    }

    public StagingRecord withContainer(ContainerProcess process) {
        return new StagingRecord(key, createdAtMs, mounts, process);
    }
}
