package dev.idshift.backend.fuse;

import dev.idshift.sys.SyscallException;
import dev.idshift.failure.KernelRefusedException;
import com.kenai.jffi.MemoryIO;
import dev.idshift.backend.fuse.FuseProtocol.InitFlag;
import dev.idshift.idmap.IdMap;
import dev.idshift.sys.Errno;
import dev.idshift.sys.Linux;
import dev.idshift.sys.credentials.Credentials;
import dev.idshift.sys.files.FileCalls;
import dev.idshift.sys.files.StatxLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Serves one mount over the kernel's FUSE protocol: negotiates INIT, then several threads each read
 * requests from their own fd of the connection and answer on it, until the mount goes away (the
 * device then reads ENODEV).
 */
final class FuseSession implements ReaderWaits {
    /** Requests in flight at once; the kernel's own default for background requests is 12. */
    private static final int MAX_BACKGROUND = 64;
    private static final long OVERLAYFS_SUPER_MAGIC = 0x794c7630L;

    private final FuseDevice device;
    private final ShiftingNodes filesystem;
    private final int rootFd;
    private final Runnable onInit;
    private final int threads;
    private final MemoryIO memory = MemoryIO.getInstance();
    private final FileCalls calls = FileCalls.get();
    private final RequestTrace trace = new RequestTrace();
    /**
     * Readers a wait may add ({@link #beforeWaiting}): past this many at once, a waiting thread holds its
     * place as before. Each costs a thread, a cloned device fd and ~2 MiB of buffers while it lives.
     */
    private static final int MAX_STAND_INS = 32;
    /** Readers above the ones serve() started: added by waits, taken back as those end. */
    private final java.util.concurrent.atomic.AtomicInteger standIns = new java.util.concurrent.atomic.AtomicInteger();
    /** Readers to end: one per wait that added one and is over. */
    private final java.util.concurrent.atomic.AtomicInteger toRetire = new java.util.concurrent.atomic.AtomicInteger();
    /** FUSE over io_uring's queues, where the kernel offers it (set by INIT); null: /dev/fuse only. */
    private FuseRings rings;
    /** Which of serve()'s threads reads the device now; made by the thread that calls serve(). */
    private ReaderTurns turns;
    private final long spinNanos;

    /**
     * @param onInit   run once INIT is answered (the mount then serves requests)
     * @param threads   how many threads serve the device
     * @param spinNanos how long the reading thread spins for a next request before it sleeps (ReaderTurns); 0: never
     * @param fdBudget  how many nodes may keep an fd; negative: by the open-file limit
     */
    FuseSession(FuseDevice device, int rootFd, IdTranslation ids, Runnable onInit, int threads, long spinNanos, long fdBudget) {
        this.device = device;
        this.rootFd = rootFd;
        this.onInit = onInit;
        this.threads = threads;
        this.spinNanos = spinNanos;
        raiseOpenFileLimit();  // before the node table sizes its fd budget
        this.filesystem = nodesOf(rootFd, ids, fdBudget);
    }

    /**
     * The filesystem of a source root, its node table holding the root as node 1.
     *
     * @param fdBudget how many nodes may keep an fd (the rest keep file handles, or places where the source
     *                 has no handles); negative: by the open-file limit
     */
    static ShiftingNodes nodesOf(int rootFd, IdTranslation ids, long fdBudget) {
        return nodesOf(rootFd, ids, fdBudget, true);
    }

    /** As above; {@code fileHandles} false: nodes past the budget keep places even where the source has handles. */
    static ShiftingNodes nodesOf(int rootFd, IdTranslation ids, long fdBudget, boolean fileHandles) {
        MemoryIO memory = MemoryIO.getInstance();
        long stat = memory.allocateMemory(StatxLayout.SIZE + 1, true);
        try {
            int result = FileCalls.get().statx(rootFd, stat + StatxLayout.SIZE, Linux.AT_EMPTY_PATH, StatxLayout.BASIC_STATS, stat);
            if (result < 0) {
                throw new KernelRefusedException("cannot stat the FUSE source: " + Errno.describe(-result), new SyscallException("statx", "the FUSE source", -result));
            }
            long dev = (Integer.toUnsignedLong(memory.getInt(stat + StatxLayout.DEV_MAJOR)) << 32)
                    | Integer.toUnsignedLong(memory.getInt(stat + StatxLayout.DEV_MINOR));
            return new ShiftingNodes(new NodeTable(rootFd, dev, memory.getLong(stat + StatxLayout.INO), fdBudget, fileHandles),
                    rootFd, ids);
        } finally {
            memory.freeMemory(stat);
        }
    }

    /** Serves until the mount is gone. */
    void serve() {
        List<Thread> workers = new ArrayList<>();
        List<FuseDevice> clones = new ArrayList<>();
        turns = new ReaderTurns(spinNanos);
        try {
            for (int i = 1; i < threads; i++) {
                FuseDevice clone = device.cloned();
                clones.add(clone);
                Thread worker = new Thread(new Runnable() {
                    @Override
                    public void run() {
                        loop(clone, true);
                    }
                }, "idshift-fuse-" + clones.size());  // not a lambda: see FuseServer's shutdown hook
                worker.setDaemon(true);
                try {
                    worker.start();
                } catch (OutOfMemoryError e) {
                    // A pids limit: serve with the threads there are (this one at least), as the rings
                    // and the stand-in readers do, rather than fail a mount that works.
                    clones.remove(clones.size() - 1);
                    clone.close();
                    System.err.println("idshift: fuse: no thread for another reader (" + e.getMessage() + "); serving with "
                            + (clones.size() + 1) + " of " + threads);
                    break;
                }
                workers.add(worker);
            }
            loop(device, true);
            for (Thread worker : workers) {
                worker.join();
            }
            if (rings != null) {
                rings.join();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            for (FuseDevice clone : clones) {
                clone.close();
            }
            device.close();
            trace.write();
        }
    }

    /**
     * Nodes the kernel remembers hold O_PATH fds (up to a budget, then file handles): the limit goes to
     * the system's maximum (fs.nr_open) where root may raise it.
     */
    private void raiseOpenFileLimit() {
        long maximum = 1 << 20;
        try {
            maximum = Long.parseLong(dev.idshift.sys.files.ProcFiles.read("/proc/sys/fs/nr_open").trim());
        } catch (java.io.IOException | NumberFormatException e) {
            // the kernel's default maximum
        }
        int result = calls.raiseOpenFileLimit(maximum);
        if (result < 0) {
            System.err.println("idshift: fuse: cannot raise the open-file limit to " + maximum + ": " + Errno.describe(-result)
                    + " (each file the kernel caches holds an fd here)");
        }
    }

    /**
     * Serves requests from {@code from} until the device is gone. {@code takesTurns}: one of serve()'s
     * threads, which read one at a time ({@link ReaderTurns}); otherwise a stand-in added for a wait,
     * which reads alongside them and ends once a wait is over.
     */
    private void loop(FuseDevice from, boolean takesTurns) {
        int fd = from.fd();
        RequestBuffers b = servingThread();
        b.waits = this;
        ReaderTurns.Reads reads = turns.new Reads(fd);
        boolean deviceGone = false;
        try {
            while (true) {
                if (!takesTurns && toRetire.get() > 0 && retire()) {
                    // A wait that added a reader is over: one stand-in ends, whichever comes here first.
                    standIns.decrementAndGet();
                    return;
                }
                if (takesTurns && !turns.await()) {
                    return;  // the device is gone
                }
                long read = takesTurns ? reads.next(b.request, FuseProtocol.BUFFER) : calls.read(fd, b.request, FuseProtocol.BUFFER);
                if (read < 0) {
                    int errno = (int) -read;
                    if (errno == Errno.ENOENT || errno == Errno.EINTR || errno == Errno.EAGAIN) {
                        continue;  // ENOENT: the request was interrupted before we read it
                    }
                    deviceGone = true;
                    return;  // ENODEV: unmounted
                }
                int opcode = memory.getInt(b.request + FuseProtocol.IN_OPCODE);
                boolean inTurn = takesTurns && !ReaderTurns.mayBlock(opcode);
                if (takesTurns && !inTurn) {
                    turns.passOn();
                }
                long servingSince = inTurn ? turns.serving() : 0;
                int result = dispatch(b, fd);
                if (result != ShiftingNodes.NO_REPLY) {
                    reply(fd, b, result);
                }
                filesystem.afterReply(b);  // watched too: a listing's read-ahead is a getdents64 on a cold directory
                if (inTurn) {
                    turns.served(servingSince);
                }
                if (opcode == FuseProtocol.INIT && result >= 0) {
                    if (rings != null) {
                        rings.start();  // after the answer: the kernel takes no REGISTER before it
                    }
                    turns.requestsThroughDevice(rings == null, sourceFilesystemType());
                    onInit.run();
                }
            }
        } finally {
            if (takesTurns) {
                turns.leave(deviceGone);
            }
        }
    }

    @Override
    public boolean beforeWaiting() {
        if (standIns.incrementAndGet() > MAX_STAND_INS) {
            standIns.decrementAndGet();
            return false;
        }
        try {
            FuseDevice clone = device.cloned();
            Thread reader = new Thread(new Runnable() {
                @Override
                public void run() {
                    try {
                        loop(clone, false);
                    } finally {
                        clone.close();
                    }
                }
            }, "idshift-fuse-standin");
            reader.setDaemon(true);
            reader.start();
            return true;
        } catch (RuntimeException | OutOfMemoryError e) {
            standIns.decrementAndGet();
            return false;  // no thread or fd to be had: wait in place
        }
    }

    @Override
    public void afterWaiting(boolean added) {
        if (added) {
            toRetire.incrementAndGet();
        }
    }

    /** Takes one retirement, if any is left. */
    private boolean retire() {
        while (true) {
            int left = toRetire.get();
            if (left <= 0) {
                return false;
            }
            if (toRetire.compareAndSet(left, left - 1)) {
                return true;
            }
        }
    }

    /**
     * Makes the calling thread one that serves requests, and gives it its buffers. Its own umask (for
     * the request's umask on creates), apart from the process's. Writes and creates are the callers',
     * done as root: with CAP_SYS_RESOURCE they would pass disk quotas and take the blocks ext4 keeps
     * for root, which a caller cannot through an idmapped mount (see actAsCaller for the other half).
     * Passthrough's backing files take the credentials of the thread that registers them: this one.
     */
    RequestBuffers servingThread() {
        if (calls.unshareFs() < 0) {
            throw new KernelRefusedException("unshare(CLONE_FS) failed on a FUSE server thread");
        }
        Credentials.get().dropCapability(Linux.CAP_SYS_RESOURCE, "a FUSE server thread");
        return new RequestBuffers();
    }

    /**
     * Serves the request in {@code b.request} (as /dev/fuse gives it) on a serving thread: the reply's
     * body is left at {@code b.reply} + OUT_HEADER; returns its length, minus an errno, or NO_REPLY.
     */
    int dispatch(RequestBuffers b, int fd) {
        int opcode = memory.getInt(b.request + FuseProtocol.IN_OPCODE);
        int result;
        long started = RequestTrace.ON ? System.nanoTime() : 0;
        try {
            if (hasCaller(opcode)) {
                actAsCaller(b);
            }
            result = opcode == FuseProtocol.INIT ? init(b, fd) : filesystem.handle(b, fd);
        } catch (RuntimeException e) {
            System.err.println("idshift: fuse: opcode " + opcode + ": " + e);
            result = -Errno.EIO;
        }
        if (RequestTrace.ON) {
            trace.count(opcode, System.nanoTime() - started);
        }
        return result;
    }

    /** After an answer is sent: work that need not delay it. */
    void afterReply(RequestBuffers b) {
        filesystem.afterReply(b);
    }

    /**
     * Whether a request is the work of a caller. The kernel builds FORGET, BATCH_FORGET and INTERRUPT
     * headers itself and sends RELEASE and RELEASEDIR without credentials, all with uid and gid 0:
     * taken as a caller, each one (a close: every file a container opens) turned the thread to fsuid
     * 0 and the next request back (capget and capset again), for work no quota or reserve sees.
     */
    private static boolean hasCaller(int opcode) {
        return opcode != FuseProtocol.INIT && opcode != FuseProtocol.FORGET && opcode != FuseProtocol.BATCH_FORGET
                && opcode != FuseProtocol.INTERRUPT && opcode != FuseProtocol.RELEASE && opcode != FuseProtocol.RELEASEDIR;
    }

    /**
     * The request's caller's host fsuid and fsgid on this thread (only when they change: setfsgid,
     * setfsuid, both read back, capget and capset), its capabilities kept, so the source filesystem
     * sees the caller as an idmapped mount's writer is seen: ext4 lets fsuid 0 (its default resuid)
     * take the blocks it keeps for root, and before this a container's user, served as fsuid 0, filled
     * them (FuseAttackTest). Quotas charge new files to it until they are given the caller's on-disk
     * owner. A request without a caller ((u32) -1) keeps the ids the thread has.
     */
    private void actAsCaller(RequestBuffers b) {
        long uid = Integer.toUnsignedLong(memory.getInt(b.request + FuseProtocol.IN_UID));
        long gid = Integer.toUnsignedLong(memory.getInt(b.request + FuseProtocol.IN_GID));
        if ((uid != b.fsuid || gid != b.fsgid) && uid != IdMap.INVALID_ID && gid != IdMap.INVALID_ID) {
            Credentials.get().setFsIdsKeepingCapabilities(uid, gid, "a FUSE request");
            b.fsuid = uid;
            b.fsgid = gid;
        }
    }

    private void reply(int fd, RequestBuffers b, int result) {
        int length = FuseProtocol.OUT_HEADER + Math.max(result, 0);
        memory.putInt(b.reply, length);
        memory.putInt(b.reply + 4, Math.min(result, 0));
        memory.putLong(b.reply + 8, memory.getLong(b.request + FuseProtocol.IN_UNIQUE));
        calls.write(fd, b.reply, length);  // ENOENT: interrupted meanwhile; nothing to do
    }

    /** INIT: what the kernel offers and we take; passthrough where the kernel has it (6.9+). */
    private int init(RequestBuffers b, int fd) {
        long in = b.request + FuseProtocol.IN_HEADER;
        long out = b.reply + FuseProtocol.OUT_HEADER;
        int major = memory.getInt(in);
        int minor = memory.getInt(in + 4);
        if (major != FuseProtocol.MAJOR || minor < 31) {
            System.err.println("idshift: fuse: kernel protocol " + major + "." + minor + " is too old (7.31+ needed)");
            return -Errno.EPROTO;
        }
        long offered = Integer.toUnsignedLong(memory.getInt(in + 12));
        if ((offered & InitFlag.INIT_EXT.mask) != 0) {
            offered |= Integer.toUnsignedLong(memory.getInt(in + 16)) << 32;
        }
        // READDIRPLUS always (not READDIRPLUS_AUTO): which entries carry attributes is ListingPolicy's choice.
        // HANDLE_KILLPRIV_V2: the server clears setuid/setgid where asked (PrivilegeKills); the kernel then
        // asks for security.capability only before a file's first write since its attributes were last
        // read (not before each one), and skips the GETATTR it sent before each chown and truncate.
        // SETXATTR_EXT: the kernel says when an access ACL's writer could not keep setgid (the server then
        // writes the ACL without CAP_FSETID, so the source's kernel clears it); without it the flag is dropped.
        long wanted = InitFlag.maskOf(InitFlag.ASYNC_READ, InitFlag.BIG_WRITES, InitFlag.DONT_MASK, InitFlag.AUTO_INVAL_DATA,
                InitFlag.DO_READDIRPLUS, InitFlag.ASYNC_DIO, InitFlag.PARALLEL_DIROPS, InitFlag.POSIX_ACL, InitFlag.MAX_PAGES,
                InitFlag.CACHE_SYMLINKS, InitFlag.HANDLE_KILLPRIV_V2, InitFlag.SETXATTR_EXT, InitFlag.INIT_EXT);
        if (!"0".equals(System.getenv("IDSHIFT_FUSE_PASSTHROUGH"))) {
            wanted |= InitFlag.PASSTHROUGH.mask;
        }
        if ((offered & InitFlag.OVER_IO_URING.mask) != 0 && rings == null && FuseRings.wanted()) {
            rings = FuseRings.open(this, fd, FuseProtocol.MAX_WRITE);
            if (rings != null) {
                wanted |= InitFlag.OVER_IO_URING.mask;
            }
        }
        long taken = offered & wanted;
        boolean passthrough = (taken & InitFlag.PASSTHROUGH.mask) != 0;
        filesystem.passthrough(passthrough);
        filesystem.setxattrExt((taken & InitFlag.SETXATTR_EXT.mask) != 0);
        memory.setMemory(out, 64, (byte) 0);
        memory.putInt(out, FuseProtocol.MAJOR);
        memory.putInt(out + 4, Math.min(minor, FuseProtocol.MINOR));
        memory.putInt(out + 8, memory.getInt(in + 8));           // max_readahead: as offered
        memory.putInt(out + 12, (int) taken);
        memory.putShort(out + 16, (short) MAX_BACKGROUND);
        memory.putShort(out + 18, (short) (MAX_BACKGROUND * 3 / 4));  // congestion_threshold
        memory.putInt(out + 20, FuseProtocol.MAX_WRITE);
        memory.putInt(out + 24, 1);                                // time_gran: nanoseconds
        memory.putShort(out + 28, (short) (FuseProtocol.MAX_WRITE / 4096));  // max_pages
        memory.putInt(out + 32, (int) (taken >>> 32));
        // Backing files may sit on an overlay (stack depth 1); ours is then one deeper.
        memory.putInt(out + 36, passthrough ? stackDepth() : 0);
        return 64;
    }

    private int stackDepth() {
        return sourceFilesystemType() == OVERLAYFS_SUPER_MAGIC ? 2 : 1;
    }

    /** The source's statfs f_type, -1 if it cannot be had. */
    private long sourceFilesystemType() {
        long statfs = memory.allocateMemory(128, true);
        try {
            return calls.fstatfs(rootFd, statfs) == 0 ? memory.getLong(statfs) : -1;
        } finally {
            memory.freeMemory(statfs);
        }
    }
}
