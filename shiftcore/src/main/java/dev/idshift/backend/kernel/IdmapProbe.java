package dev.idshift.backend.kernel;

import dev.idshift.failure.UnsupportedException;
import dev.idshift.failure.KernelRefusedException;
import dev.idshift.sys.Fd;
import dev.idshift.idmap.IdExtent;
import dev.idshift.idmap.IdMap;
import dev.idshift.sys.Errno;
import dev.idshift.sys.Linux;
import dev.idshift.sys.SyscallException;
import dev.idshift.sys.mounts.MountCalls;

/**
 * Tells whether the filesystem under a path accepts idmapped mounts, without side effects: it
 * idmaps a detached clone and closes it, so nothing is ever attached.
 */
public final class IdmapProbe {
    private IdmapProbe() {
    }

    /** @param supported yes or no; @param detail why, in words */
    public record Result(boolean supported, String detail) {
    }

    public static Result probe(String path) {
        IdMap probeMap = IdMap.of(new IdExtent(0, IdMap.OVERFLOW_ID - 1, 1));
        try (Fd userns = UserNamespaces.createWithMaps(probeMap, probeMap)) {
            try (Fd tree = MountCalls.kernel().openTree(Linux.AT_FDCWD, path, Linux.OPEN_TREE_CLONE | Linux.OPEN_TREE_CLOEXEC, path)) {
                MountCalls.kernel().mountSetattr(tree.get(), "", Linux.AT_EMPTY_PATH, Linux.MOUNT_ATTR_IDMAP, 0, 0, userns.get(), path);
                return new Result(true, "idmapped mounts work on " + path);
            }
        } catch (SyscallException e) {
            String why = e.errno() == Errno.ENOSYS ? "this kernel has no new mount API (needs 5.12+)"
                    : e.errno() == Errno.EPERM ? "not permitted: needs CAP_SYS_ADMIN over the filesystem (run as root, or use the idshift daemon)"
                    : "the filesystem or kernel refuses idmapped mounts";
            return new Result(false, e.getMessage() + ": " + why);
        } catch (KernelRefusedException | UnsupportedException e) {
            return new Result(false, e.getMessage()); // no user namespace for the probe
        }
    }
}
