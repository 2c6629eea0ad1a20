package dev.idshift.backend.kernel;

import dev.idshift.failure.InternalException;
import dev.idshift.failure.KernelRefusedException;
import dev.idshift.sys.Fd;
import dev.idshift.sys.Linux;
import dev.idshift.sys.files.FileSyscalls;
import dev.idshift.sys.mounts.MountCalls;
import dev.idshift.sys.namespaces.NamespaceCalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.Callable;
import java.util.List;

/**
 * Makes a detached mount's attributes (nodev, read-only, ...) stick for whoever attaches it.
 *
 * <p>Why: a caller that attaches a mount in a mount namespace of its own user namespace holds
 * CAP_SYS_ADMIN over that namespace and may remount it ("mount -o remount,bind,dev"), unless the
 * kernel has locked the flags (MNT_LOCK_NODEV, ...). It locks them only when it copies a mount into
 * a mount namespace owned by a less privileged user namespace (lock_mnt_tree): at unshare, and when
 * a mount propagates there. Nothing else sets the locks, and no mount_setattr flag does.
 *
 * <p>How: a private mount namespace P of ours (no process's) with a shared tmpfs at {@code station};
 * a mount namespace L owned by a user namespace of ours, copied from P, where the tmpfs is a slave
 * of P's. A tree attached at the station in P propagates into L, locked; cloned there
 * (open_tree), the clone keeps the locks, and the clone is what the caller gets. Neither namespace
 * has a process in it: no one else ever sees the tree on its way through.
 */
public final class AttributeLock implements AutoCloseable {
    /**
     * The one thread that seals: it made P, and moves between P (to attach a tree at the station)
     * and L (to clone it there) with setns, so a request waits for one hand-off, not three.
     */
    private final ExecutorService sealer;
    /** A thread in P that detaches used slots, off the request's path (an unmount waits for RCU). */
    private final ExecutorService cleaner;
    private final Path station;
    /** P, for work that must not be seen from the host's namespace ({@link #runInPrivateNamespace}). */
    private final Fd privateNamespace;
    private final Fd lockedNamespace;
    /** Slots are used once: the next tree never waits for the last one's unmount. Sealer only. */
    private long nextSlot;

    private AttributeLock(ExecutorService sealer, ExecutorService cleaner, Path station, Fd privateNamespace, Fd lockedNamespace) {
        this.sealer = sealer;
        this.cleaner = cleaner;
        this.station = station;
        this.privateNamespace = privateNamespace;
        this.lockedNamespace = lockedNamespace;
    }

    /**
     * Sets the two namespaces up.
     *
     * @param station an existing directory, only root's, where P mounts its tmpfs (P is private:
     *                the host's directory stays as it is)
     */
    public static AttributeLock create(Path station) {
        ExecutorService sealer = Executors.newSingleThreadExecutor(named("idshift-lock-sealer"));
        ExecutorService cleaner = Executors.newSingleThreadExecutor(named("idshift-lock-cleaner"));
        Fd locked = null;
        try {
            locked = on(sealer, new Callable<Fd>() {
                @Override
                public Fd call() throws Exception {
                    return setUpPrivateSide(station);
                }
            });
            Fd privateNamespace = on(sealer, new Callable<Fd>() {
                @Override
                public Fd call() {
                    return new Fd(FileSyscalls.get().open("/proc/thread-self/ns/mnt", Linux.O_RDONLY));
                }
            });
            on(cleaner, new Callable<Void>() {
                @Override
                public Void call() {
                    NamespaceCalls namespaces = NamespaceCalls.get();
                    namespaces.unshare(Linux.CLONE_FS);
                    namespaces.setns(privateNamespace.get(), Linux.CLONE_NEWNS, "the daemon's private mount namespace");
                    return null;
                }
            });
            return new AttributeLock(sealer, cleaner, station, privateNamespace, locked);
        } catch (RuntimeException e) {
            if (locked != null) {
                locked.close();
            }
            sealer.shutdownNow();
            cleaner.shutdownNow();
            throw e;
        }
    }

    /** In P's thread: P, its shared tmpfs, and L (returned as an fd of its mount namespace). */
    private static Fd setUpPrivateSide(Path station) throws IOException {
        NamespaceCalls namespaces = NamespaceCalls.get();
        MountCalls mounts = MountCalls.kernel();
        namespaces.unshare(Linux.CLONE_FS);
        namespaces.unshare(Linux.CLONE_NEWNS);
        // Nothing done in P may reach the host's namespace, nor the host's mounts reach P.
        mounts.mountSetattr(Linux.AT_FDCWD, "/", Linux.AT_RECURSIVE, 0, 0, Linux.MS_PRIVATE, 0, "/ (private namespace)");
        try (Fd context = mounts.fsopen("tmpfs")) {
            mounts.fsconfig(context.get(), Linux.FSCONFIG_SET_STRING, "mode", "0700", station.toString());
            mounts.fsconfig(context.get(), Linux.FSCONFIG_CMD_CREATE, null, null, station.toString());
            try (Fd tmpfs = mounts.fsmount(context.get(), Linux.MOUNT_ATTR_NODEV | Linux.MOUNT_ATTR_NOSUID
                    | Linux.MOUNT_ATTR_NOEXEC, station.toString())) {
                mounts.moveMount(tmpfs.get(), "", Linux.AT_FDCWD, station.toString(), Linux.MOVE_MOUNT_F_EMPTY_PATH, station.toString());
            }
        }
        mounts.mountSetattr(Linux.AT_FDCWD, station.toString(), 0, 0, 0, Linux.MS_SHARED, 0, station.toString());
        return lockedNamespace();
    }

    /**
     * A mount namespace owned by a new user namespace, copied from P (so the station's tmpfs is a
     * slave of P's there): a throwaway child makes it, we keep its fd and reap the child. Started
     * from P's thread, the child starts in P.
     */
    private static Fd lockedNamespace() {
        try (NamespaceHelper child = NamespaceHelper.start(List.of(UserNamespaces.existing(UserNamespaces.UNSHARE), "--user",
                "--mount", "--propagation", "unchanged", "--", UserNamespaces.existing(UserNamespaces.CAT)),
                "the helper for the attribute-locking mount namespace")) {
            child.awaitUnshared("mnt", Path.of("/proc/thread-self/ns/mnt"));
            return new Fd(FileSyscalls.get().open(child.namespaceFile("mnt").toString(), Linux.O_RDONLY));
        }
    }

    /**
     * A clone of {@code tree} (a detached mount with its attributes set) whose attributes no one who
     * attaches it can change. {@code tree} is consumed (closed) either way.
     */
    public Fd lock(Fd tree, String subject) {
        try {
            return on(sealer, new Callable<Fd>() {
                @Override
                public Fd call() throws IOException {
                    return sealOnSealer(tree, subject);
                }
            });
        } finally {
            tree.close();
        }
    }

    private Fd sealOnSealer(Fd tree, String subject) throws IOException {
        NamespaceCalls namespaces = NamespaceCalls.get();
        MountCalls mounts = MountCalls.kernel();
        namespaces.setns(privateNamespace.get(), Linux.CLONE_NEWNS, "the daemon's private mount namespace");
        Path slot = Files.createDirectory(station.resolve(Long.toString(nextSlot++)));
        try {
            // Propagates into L, where the kernel locks the copy's flags.
            mounts.moveMount(tree.get(), "", Linux.AT_FDCWD, slot.toString(), Linux.MOVE_MOUNT_F_EMPTY_PATH, subject);
        } catch (RuntimeException e) {
            Files.delete(slot);
            throw e;
        }
        try {
            namespaces.setns(lockedNamespace.get(), Linux.CLONE_NEWNS, "the attribute-locking mount namespace");
            Fd clone = mounts.openTree(Linux.AT_FDCWD, slot.toString(), Linux.OPEN_TREE_CLONE | Linux.OPEN_TREE_CLOEXEC, subject);
            try {
                // A clone of a shared mount joins its peer group: leave it with none.
                mounts.mountSetattr(clone.get(), "", Linux.AT_EMPTY_PATH, 0, 0, Linux.MS_PRIVATE, 0, subject);
                return clone;
            } catch (RuntimeException e) {
                clone.close();
                throw e;
            }
        } finally {
            cleaner.execute(new Runnable() {
                @Override
                public void run() {
                    try {
                        MountCalls.kernel().umount2(slot.toString(), Linux.MNT_DETACH); // propagates: L's copy goes too
                        Files.delete(slot);
                    } catch (IOException | RuntimeException e) {
                        // a slot left mounted in P costs a little memory, nothing else; the next ones go on
                    }
                }
            });
        }
    }

    /**
     * Runs {@code work} on a thread of its own in P, the daemon's private mount namespace: what it
     * mounts there (and any process it starts, which starts in P too) the host's namespace never
     * sees. The thread ends with the work.
     */
    public <T> T runInPrivateNamespace(MountNamespaceRunner.Work<T> work) {
        return MountNamespaceRunner.runIn(privateNamespace, "the daemon's private mount namespace", work);
    }

    @Override
    public void close() {
        sealer.shutdownNow();
        cleaner.shutdownNow();
        privateNamespace.close();
        lockedNamespace.close();
    }

    private static <T> T on(ExecutorService thread, Callable<T> work) {
        Future<T> result = thread.submit(work);
        try {
            return result.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InternalException("interrupted while locking mount attributes", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException) {
                throw (RuntimeException) e.getCause();
            }
            if (e.getCause() instanceof IOException) {
                throw new KernelRefusedException("cannot lock mount attributes: " + e.getCause().getMessage(), (IOException) e.getCause());
            }
            throw new InternalException("cannot lock mount attributes: " + e.getCause(), e.getCause());
        }
    }

    private static ThreadFactory named(String name) {
        return new ThreadFactory() {
            @Override
            public Thread newThread(Runnable work) {
                Thread thread = new Thread(work, name);
                thread.setDaemon(true);
                return thread;
            }
        };
    }
}
