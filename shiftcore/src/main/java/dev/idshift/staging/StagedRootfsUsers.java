package dev.idshift.staging;

import dev.idshift.sys.files.FileIdentity;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether some process has its root directory on a record's staged rootfs. A container that was
 * created but not started yet (`podman container init`, `runc create` without `start`) has an init
 * waiting, pivoted into that mount, and no poststart yet: it looks like a failed create from the
 * record alone. Its root is the staged mount's root inode (its mount is a clone of ours, same
 * superblock), which stat through /proc/PID/root shows. A false "in use" (another container on the
 * same image directory) only keeps the staging until gc's grace period: the safe direction.
 */
public final class StagedRootfsUsers {
    private StagedRootfsUsers() {
    }

    /** Whether any process's root is the root of {@code record}'s staged rootfs ("/"); false if none was staged. */
    public static boolean anyUses(StagingRecord record) {
        StagedMount rootfs = null;
        for (StagedMount mount : record.mounts()) {
            if (mount.destination().equals("/")) {
                rootfs = mount;
            }
        }
        if (rootfs == null) {
            return false;
        }
        FileIdentity staged = FileIdentity.of(Path.of(rootfs.stagingPath()));
        if (staged == null) {
            return false;  // the mount point is gone: nothing can be pivoted into it any more
        }
        try (DirectoryStream<Path> processes = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path process : processes) {
                if (staged.equals(FileIdentity.of(process.resolve("root")))) {  // null: exited meanwhile, or a kernel thread
                    return true;
                }
            }
        } catch (IOException e) {
            return true;  // cannot tell: keep it (gc's grace period still applies)
        }
        return false;
    }
}
