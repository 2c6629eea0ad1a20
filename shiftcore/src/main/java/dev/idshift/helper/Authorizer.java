package dev.idshift.helper;

import dev.idshift.idmap.IdMap;
import dev.idshift.mount.kernel.Fd;
import dev.idshift.sys.Errno;
import dev.idshift.sys.Linux;
import dev.idshift.sys.SyscallException;
import dev.idshift.sys.Syscalls;
import java.nio.file.Path;
import java.util.List;

/**
 * Decides whether a caller may have a shifted mount of SOURCE with the given maps, and resolves
 * SOURCE to an O_PATH fd beneath its mark (no symlink or ".." may leave the mark: openat2 with
 * RESOLVE_BENEATH from the mark's own fd, not a string prefix check). The fd is what gets mounted,
 * so nothing can be swapped between check and use.
 */
public final class Authorizer {
    private Authorizer() {
    }

    /** @return the resolved source (caller closes it) */
    public static Fd authorize(String source, IdMap uidMap, IdMap gidMap, CallerIds caller, List<Mark> marks) {
        Path requested = Path.of(source);
        if (!requested.isAbsolute()) {
            throw new Refusal("source must be an absolute path: " + source);
        }
        Mark mark = null;
        for (Mark candidate : marks) {
            if (requested.normalize().startsWith(Path.of(candidate.path())) && (mark == null || candidate.path().length() > mark.path().length())) {
                mark = candidate;
            }
        }
        if (mark == null) {
            throw new Refusal(source + " is not inside a marked subtree (root marks them with `idshift mark PATH`)");
        }
        if (!mayUse(caller, mark)) {
            throw new Refusal("mark " + mark.path() + " is not for uid " + caller.hostUid() + " (it needs --owner "
                    + caller.hostUid() + " or --allow-subids)");
        }
        long uid = caller.firstUnownedUid(uidMap);
        if (uid >= 0) {
            throw new Refusal("uid map " + uidMap + " names host uid " + uid + ", which the caller does not own");
        }
        long gid = caller.firstUnownedGid(gidMap);
        if (gid >= 0) {
            throw new Refusal("gid map " + gidMap + " names host gid " + gid + ", which the caller does not own");
        }
        String relative = Path.of(mark.path()).relativize(requested.normalize()).toString();
        Syscalls sys = Syscalls.get();
        try (Fd markFd = new Fd(sys.open(mark.path(), Linux.O_PATH | Linux.O_DIRECTORY))) {
            return new Fd(sys.openat2(markFd.get(), relative.isEmpty() ? "." : relative, Linux.O_PATH | Linux.O_DIRECTORY,
                    Linux.RESOLVE_BENEATH | Linux.RESOLVE_NO_MAGICLINKS, source));
        } catch (SyscallException e) {
            if (e.errno() == Errno.EXDEV) {
                throw new Refusal(source + " leaves the mark " + mark.path() + " (through a symlink or ..)");
            }
            if (e.errno() == Errno.ENOENT || e.errno() == Errno.ENOTDIR) {
                throw new Refusal(source + " is not a directory");
            }
            throw e;
        }
    }

    static boolean mayUse(CallerIds caller, Mark mark) {
        return caller.everything() || caller.inUserNamespace() || mark.allowSubids() || mark.ownerUid() == caller.hostUid();
    }
}
