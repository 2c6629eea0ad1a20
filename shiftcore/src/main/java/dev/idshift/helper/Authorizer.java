package dev.idshift.helper;

import dev.idshift.idmap.IdMap;
import dev.idshift.layout.Owner;
import dev.idshift.mount.kernel.Fd;
import dev.idshift.sys.Errno;
import dev.idshift.sys.Linux;
import dev.idshift.sys.SyscallException;
import dev.idshift.sys.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Decides whether a caller may have a shifted mount of SOURCE, and resolves SOURCE safely.
 *
 * <p>SOURCE means what the caller sees: it is resolved beneath the caller's own root
 * (/proc/PID/root, RESOLVE_IN_ROOT), which for a nested container is its own mount namespace. The
 * directory found is then reopened through the host's mount of each mark's filesystem by file handle
 * (name_to_handle_at / open_by_handle_at: the same inode, no path involved), and accepted only if
 * that inode lies beneath the mark, checked by walking ".." up to the mark's (dev, inode). The fd
 * that passed the check is what gets mounted: nothing can be swapped in between.
 */
public final class Authorizer {
    private Authorizer() {
    }

    /** A source resolved beneath a mark, as an O_PATH fd in the daemon's (host) mount namespace. */
    public record Resolved(Mark mark, Fd hostFd) implements AutoCloseable {
        @Override
        public void close() {
            hostFd.close();
        }
    }

    public static Resolved resolve(long callerPid, String source, List<Mark> marks) {
        if (!source.startsWith("/")) {
            throw new Refusal("source must be an absolute path: " + source);
        }
        Syscalls sys = Syscalls.get();
        try (Fd callerRoot = new Fd(sys.open("/proc/" + callerPid + "/root", Linux.O_PATH | Linux.O_DIRECTORY));
             Fd inCallerView = openInCallerView(callerRoot, source)) {
            byte[] handle;
            try {
                handle = sys.nameToHandle(inCallerView.get(), source);
            } catch (SyscallException e) {
                throw new Refusal(source + ": its filesystem cannot be reopened by file handle (" + e.getMessage() + ")");
            }
            long[] wanted = devIno(inCallerView);
            for (Mark mark : marks) {
                Fd candidate = reopenUnder(mark, handle, wanted);
                if (candidate != null) {
                    return new Resolved(mark, candidate);
                }
            }
        }
        throw new Refusal(source + " is not inside a marked subtree (root marks them with `idshift mark PATH`)");
    }

    private static Fd openInCallerView(Fd callerRoot, String source) {
        try {
            return new Fd(Syscalls.get().openat2(callerRoot.get(), source, Linux.O_PATH | Linux.O_DIRECTORY,
                    Linux.RESOLVE_IN_ROOT | Linux.RESOLVE_NO_MAGICLINKS, source));
        } catch (SyscallException e) {
            if (e.errno() == Errno.ENOENT || e.errno() == Errno.ENOTDIR) {
                throw new Refusal(source + " is not a directory (as the caller sees it)");
            }
            throw e;
        }
    }

    /** The inode of {@code handle} opened through MARK's filesystem, if it is that inode and beneath MARK. */
    private static Fd reopenUnder(Mark mark, byte[] handle, long[] wanted) {
        Syscalls sys = Syscalls.get();
        // Not O_PATH: open_by_handle_at refuses an O_PATH mount fd (EBADF).
        try (Fd markFd = new Fd(sys.open(mark.path(), Linux.O_RDONLY | Linux.O_DIRECTORY))) {
            Fd reopened;
            try {
                reopened = new Fd(sys.openByHandle(markFd.get(), handle, Linux.O_PATH | Linux.O_DIRECTORY, mark.path()));
            } catch (SyscallException otherFilesystem) {
                return null;
            }
            long[] found = devIno(reopened);
            if (found[0] != wanted[0] || found[1] != wanted[1] || !isBeneath(reopened, devIno(markFd))) {
                reopened.close();
                return null;
            }
            return reopened;
        } catch (SyscallException markGone) {
            return null;
        }
    }

    /** Walks ".." from {@code start} until MARK's inode (true) or the root (false). */
    private static boolean isBeneath(Fd start, long[] mark) {
        Syscalls sys = Syscalls.get();
        Fd current = new Fd(sys.openat(start.get(), ".", Linux.O_PATH | Linux.O_DIRECTORY | Linux.O_CLOEXEC, 0));
        try {
            for (int depth = 0; depth < 4096; depth++) {
                long[] here = devIno(current);
                if (here[0] == mark[0] && here[1] == mark[1]) {
                    return true;
                }
                Fd parent = new Fd(sys.openat(current.get(), "..", Linux.O_PATH | Linux.O_DIRECTORY | Linux.O_CLOEXEC, 0));
                long[] up = devIno(parent);
                current.close();
                current = parent;
                if (up[0] == here[0] && up[1] == here[1]) {
                    return false;
                }
            }
            return false;
        } finally {
            current.close();
        }
    }

    static long[] devIno(Fd fd) {
        try {
            Map<String, Object> attributes = Files.readAttributes(Path.of("/proc/self/fd/" + fd.get()), "unix:dev,ino");
            return new long[] {(Long) attributes.get("dev"), (Long) attributes.get("ino")};
        } catch (IOException e) {
            throw new IllegalStateException("cannot stat fd " + fd.get() + ": " + e.getMessage(), e);
        }
    }

    /** The owner of a resolved directory as the host sees it. */
    public static Owner owner(Fd fd) {
        try {
            return Owner.of(Path.of("/proc/self/fd/" + fd.get()));
        } catch (IOException e) {
            throw new IllegalStateException("cannot stat fd " + fd.get() + ": " + e.getMessage(), e);
        }
    }

    /** Whether the caller may use the mark and owns every host id the maps name. */
    public static void authorize(Mark mark, IdMap uidMap, IdMap gidMap, CallerIds caller) {
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
    }

    static boolean mayUse(CallerIds caller, Mark mark) {
        return caller.everything() || caller.inUserNamespace() || mark.allowSubids() || mark.ownerUid() == caller.hostUid();
    }
}
