package dev.idshift.marks;

import dev.idshift.failure.KernelRefusedException;
import dev.idshift.idmap.IdMap;
import dev.idshift.layout.Owner;
import dev.idshift.sys.Fd;
import dev.idshift.sys.Linux;
import dev.idshift.sys.SyscallException;
import dev.idshift.sys.files.FileSyscalls;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Decides whether a caller may have a shifted mount of SOURCE, and resolves SOURCE safely.
 *
 * <p>Only the marks the caller may use are searched ({@link #usableBy}), and every way of not
 * finding SOURCE in them gives the same answer ({@link #notUsable}).
 *
 * <p>SOURCE means what the caller sees: it is resolved beneath the caller's own root (its
 * /proc/PID/root, opened through the connection's pinned {@link CallerProcess#procDir()}, with
 * RESOLVE_IN_ROOT), which for a nested container is its own mount namespace. The directory found
 * is then reopened through the host's mount of each mark's filesystem by file handle
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

    /**
     * The one answer for every SOURCE the caller cannot have: missing, not a directory, not marked,
     * or inside a mark that is not the caller's. The daemon resolves as root, so any other wording
     * would tell a user what exists under directories it cannot search.
     */
    public static Refusal notUsable(String source) {
        return new Refusal(source + " is not a directory inside a mark you may use");
    }

    /** The marks {@code caller} may use, in order. */
    public static List<Mark> usableBy(CallerIds caller, List<Mark> marks) {
        List<Mark> usable = new ArrayList<>();
        for (Mark mark : marks) {
            if (mayUse(caller, mark)) {
                usable.add(mark);
            }
        }
        return usable;
    }

    /**
     * SOURCE as the caller whose /proc/PID is {@code procDir} sees it, if it is a directory beneath
     * one of {@code usable} (the marks it may use); else {@link #notUsable}.
     */
    public static Resolved resolve(Fd procDir, String source, List<Mark> usable) {
        if (!source.startsWith("/")) {
            throw new Refusal("source must be an absolute path: " + source);
        }
        if (usable.isEmpty()) {
            throw notUsable(source);
        }
        FileSyscalls files = FileSyscalls.get();
        try (Fd callerRoot = new Fd(files.openat(procDir.get(), "root", Linux.O_PATH | Linux.O_DIRECTORY | Linux.O_CLOEXEC, 0));
             Fd inCallerView = openInCallerView(callerRoot, source)) {
            byte[] handle;
            try {
                handle = files.nameToHandle(inCallerView.get(), source);
            } catch (SyscallException noHandles) {
                throw notUsable(source); // no mark's filesystem either: marks are checked to reopen by handle
            }
            long[] wanted = devIno(inCallerView);
            for (Mark mark : usable) {
                Fd candidate = reopenUnder(mark, handle, wanted);
                if (candidate != null) {
                    return new Resolved(mark, candidate);
                }
            }
        }
        throw notUsable(source);
    }

    /** SOURCE opened (O_PATH) as the caller whose /proc/PID is {@code procDir} sees it, or {@link #notUsable}. */
    static Fd openAsCallerSees(Fd procDir, String source) {
        try (Fd callerRoot = new Fd(FileSyscalls.get().openat(procDir.get(), "root", Linux.O_PATH | Linux.O_DIRECTORY | Linux.O_CLOEXEC, 0))) {
            return openInCallerView(callerRoot, source);
        }
    }

    private static Fd openInCallerView(Fd callerRoot, String source) {
        try {
            return new Fd(FileSyscalls.get().openat2(callerRoot.get(), source, Linux.O_PATH | Linux.O_DIRECTORY,
                    Linux.RESOLVE_IN_ROOT | Linux.RESOLVE_NO_MAGICLINKS, source));
        } catch (SyscallException missingOrNotADirectory) {
            throw notUsable(source); // whatever the errno: ENOENT, ENOTDIR, ELOOP ... all say something
        }
    }

    /** The inode of {@code handle} opened through MARK's filesystem, if it is that inode and beneath MARK. */
    private static Fd reopenUnder(Mark mark, byte[] handle, long[] wanted) {
        FileSyscalls files = FileSyscalls.get();
        // Not O_PATH: open_by_handle_at refuses an O_PATH mount fd (EBADF).
        try (Fd markFd = new Fd(files.open(mark.path(), Linux.O_RDONLY | Linux.O_DIRECTORY))) {
            Fd reopened;
            try {
                reopened = new Fd(files.openByHandle(markFd.get(), handle, Linux.O_PATH | Linux.O_DIRECTORY, mark.path()));
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
        FileSyscalls files = FileSyscalls.get();
        Fd current = new Fd(files.openat(start.get(), ".", Linux.O_PATH | Linux.O_DIRECTORY | Linux.O_CLOEXEC, 0));
        try {
            for (int depth = 0; depth < 4096; depth++) {
                long[] here = devIno(current);
                if (here[0] == mark[0] && here[1] == mark[1]) {
                    return true;
                }
                Fd parent = new Fd(files.openat(current.get(), "..", Linux.O_PATH | Linux.O_DIRECTORY | Linux.O_CLOEXEC, 0));
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
        return fd.devIno();
    }

    /** The owner of a resolved directory as the host sees it. */
    public static Owner owner(Fd fd) {
        try {
            return Owner.of(Path.of("/proc/self/fd/" + fd.get()));
        } catch (IOException e) {
            throw new KernelRefusedException("cannot stat fd " + fd.get() + ": " + e.getMessage(), e);
        }
    }

    /** Whether the caller owns every host id the maps name (the mark is one {@link #usableBy} gave). */
    public static void authorizeIds(IdMap uidMap, IdMap gidMap, CallerIds caller) {
        long uid = caller.firstUnownedUid(uidMap);
        if (uid >= 0) {
            throw new Refusal("uid map " + uidMap + " names host uid " + uid + ", which the caller does not own");
        }
        long gid = caller.firstUnownedGid(gidMap);
        if (gid >= 0) {
            throw new Refusal("gid map " + gidMap + " names host gid " + gid + ", which the caller does not own");
        }
    }

    /**
     * Who may use a mark: host root and containers of root-run runtimes any; a user (from the host's
     * namespace or one it created) only one marked --owner for it or --allow-subids.
     */
    static boolean mayUse(CallerIds caller, Mark mark) {
        switch (caller.kind()) {
            case HOST_ROOT:
            case CONTAINER:
                return true;
            default:
                return mark.allowSubids() || mark.ownerUid() == caller.hostUid();
        }
    }
}
