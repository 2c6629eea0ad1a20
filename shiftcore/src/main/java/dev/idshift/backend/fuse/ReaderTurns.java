package dev.idshift.backend.fuse;

import dev.idshift.sys.Errno;
import dev.idshift.sys.Linux;
import dev.idshift.sys.files.FileCalls;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Which of a session's serving threads reads /dev/fuse: one at a time (the reader), the others parked.
 * The reader serves what it reads itself and then reads again, spinning on a non-blocking read for up
 * to {@code spinNanos} after its last request before it sleeps in the device's queue.
 *
 * <p>Why: a caller's request to a server thread asleep in its read, and the answer back, are two
 * wake-ups across CPUs; on these VMs an idle vCPU halts, so each costs a VM exit and entry. create10k
 * made four such round trips per file. A reader that is already running takes the request at once:
 * create10k 1.44 s to 1.21 s, untar20k 3.21 s to 2.73 s (5 alternated rounds, RAM-backed ext4).
 * Only while no other thread sleeps in the device's queue: the kernel wakes a sleeping reader for every
 * request it queues, and that wake-up (on the spinning reader's CPU or the caller's) took the gain away
 * again (three threads asleep beside the spinning one: 1.46 s, as without spinning).
 *
 * <p>A request that may keep its thread waiting on more than this CPU (file I/O, fsync, a forget that
 * ends inodes' lives) is served after the reading is passed on to a parked thread ({@link #passOn}).
 * Everything else a view asks for most (lookups, attributes, creates, xattrs, listings) the reader
 * serves in turn, a few microseconds each. One that turns out slow (a cold disk, an ext4 journal
 * commit: creates of 2-23 ms were seen) must not hold up other callers: the next parked thread
 * watches while the reader serves, and takes the reading over once a request has taken {@link #SLOW}
 * ({@link #await}); it looks every {@link #SLOW} while the reader is awake, and sleeps while the reader
 * sleeps. A thread that must wait while serving (a lease being broken) also has a stand-in reader
 * added as before ({@link ReaderWaits}).
 *
 * <p>The spinning costs CPU: up to {@code spinNanos} of one CPU after each request, none while the
 * view is idle. Where the CPU is wanted by other work it costs the callers too (create10k beside four
 * CPU hogs: 3.13 s spinning, 2.91 s not), so a spinning reader that finds itself preempted (a read
 * returning {@link #PREEMPTED} after the last) lets every thread read, none spinning, for a back-off
 * that doubles while preemptions keep coming ({@link #preempted}). It is used only where it pays and
 * cannot hold callers up for long: requests through
 * /dev/fuse (over io_uring the rings take them), a source on a local filesystem (on a network one a
 * lookup waits for the network), and IDSHIFT_FUSE_SPIN_US not 0. Otherwise every thread sleeps in the
 * device's queue, as before.
 */
final class ReaderTurns {
    /** A request served in turn this long (ns) lets the next thread take the reading over. */
    static final long SLOW = 2_000_000;
    /**
     * A spinning reader's read that came back this long (ns) after the last one: another task had this
     * CPU for a time slice. Brief interruptions (a kernel worker, the JVM's compiler, the watcher) are
     * shorter: with 30 us they backed the reader off on a quiet machine, and create10k lost all of the
     * gain (1.45 s, as without spinning, against 1.22 s with none); with 0.5 ms, 1.32 s.
     */
    static final long PREEMPTED = 500_000;
    /**
     * How long (ns) every thread reads and none spins after the spinning reader was preempted: the
     * least, after a preemption out of the blue (a kernel worker, the JVM's compiler), and the most,
     * reached by doubling while preemptions keep coming soon after each back-off (CPU hogs).
     */
    static final long LEAST_BACK_OFF = 20_000_000;
    static final long MOST_BACK_OFF = 1_000_000_000;
    /** Filesystems (statfs f_type) whose operations wait for nothing but this machine's disks. */
    private static final long[] LOCAL = {
        0xEF53L,        // ext2/3/4
        0x58465342L,    // xfs
        0x9123683EL,    // btrfs
        0x01021994L,    // tmpfs
        0xF2F52010L,    // f2fs
        0x794C7630L,    // overlayfs (over local layers, as engines hand them)
        0x2FC12FC1L,    // zfs
    };

    private final FileCalls calls = FileCalls.get();
    private final long spinNanos;
    /**
     * Whether threads take turns: until INIT is answered (one thread answers it), then for good where
     * the reader spins. Without spinning every thread sleeps in the device's queue: a woken thread costs
     * what it costs anyway, and one at a time would only serialize.
     */
    private volatile boolean oneAtATime = true;
    private volatile boolean spinning;
    /** Until when (System.nanoTime) every thread reads, after the spinning reader was preempted, and for how long it was. */
    private long backOffUntil;
    private long backOff = LEAST_BACK_OFF;
    /**
     * When (System.nanoTime, odd) the reader began the request it serves in turn; 0: none. Cleared when
     * the reading changes hands: a thread taken over from, done at last, must not clear the new reader's
     * (which would hide that one stuck from the watcher), nor leave its own for the watcher to find
     * against the new reader (which would take the reading from a thread serving nothing).
     */
    private final AtomicLong servingSince = new AtomicLong();
    /** False while the reader sleeps in the device's queue (nothing to watch then). */
    private volatile boolean readerAwake = true;
    private Thread reader;
    /** Threads waiting for a turn, the last parked first (its caches are the warmest); the first one watches. */
    private final ArrayDeque<Thread> parked = new ArrayDeque<>();
    private boolean ended;

    /** The calling thread reads first (it answers INIT). */
    ReaderTurns(long spinNanos) {
        this.spinNanos = spinNanos;
        this.reader = Thread.currentThread();
    }

    /**
     * After INIT: whether requests come through /dev/fuse (not io_uring's queues) and the source's
     * filesystem ({@code fsType}, statfs f_type) is one whose operations wait for nothing but this
     * machine's own disks.
     */
    void requestsThroughDevice(boolean device, long fsType) {
        spinning = device && spinNanos > 0 && isLocal(fsType);
        if (!spinning) {
            allAtOnce();
        }
    }

    /**
     * The spinning reader was preempted: other work wants this CPU, and spinning would take it from
     * that work and from the callers (create10k beside four CPU hogs: 3.13 s spinning without a back-off,
     * 2.91 s not spinning, 2.83 s with it).
     * Every thread reads, none spins, for a while ({@link #LEAST_BACK_OFF}, twice the last one if the
     * last one ended less than its own length ago, up to {@link #MOST_BACK_OFF}); then turns again.
     */
    void preempted() {
        synchronized (this) {
            long now = System.nanoTime();
            backOff = now - backOffUntil < backOff ? Math.min(backOff * 2, MOST_BACK_OFF) : LEAST_BACK_OFF;
            backOffUntil = now + backOff;
        }
        allAtOnce();
    }

    /** Every parked thread reads (sleeping in the device's queue); the next await() after a back-off takes turns again. */
    private void allAtOnce() {
        Thread[] waiting;
        synchronized (this) {
            oneAtATime = false;
            reader = null;
            servingSince.set(0);
            waiting = parked.toArray(new Thread[0]);
            parked.clear();
        }
        for (Thread thread : waiting) {
            LockSupport.unpark(thread);
        }
    }

    static boolean isLocal(long fsType) {
        for (long local : LOCAL) {
            if (fsType == local) {
                return true;
            }
        }
        return false;
    }

    /**
     * Waits until the calling thread may read; false once the device is gone. The first parked thread
     * watches the reader meanwhile and takes the reading over from one stuck in a slow request.
     */
    boolean await() {
        Thread me = Thread.currentThread();
        synchronized (this) {
            if (ended) {
                return false;
            }
            if (!oneAtATime && spinning && System.nanoTime() - backOffUntil >= 0) {
                oneAtATime = true;  // the back-off is over: turns again, this thread reading first
            }
            if (reader == me || !oneAtATime) {
                return true;
            }
            if (reader == null) {
                reader = me;
                servingSince.set(0);  // a stamp left from a back-off, when every thread served: not this reader's
                return true;
            }
            parked.push(me);
        }
        while (true) {
            boolean watching;
            Thread watcher;
            synchronized (this) {
                if (ended) {
                    return false;
                }
                if (reader == me || !oneAtATime) {
                    return true;
                }
                watching = parked.peek() == me && readerAwake;
                long since = servingSince.get();
                if (watching && since != 0 && System.nanoTime() - since >= SLOW) {
                    parked.remove(me);
                    reader = me;  // the slow one parks when it is done
                    servingSince.set(0);
                    watcher = parked.peek();
                } else {
                    watcher = me;
                }
            }
            if (watcher != me) {
                // Taken over. The thread first now watches this reader: it may have parked for good while it was not first.
                wake(watcher);
                return true;
            }
            if (watching) {
                LockSupport.parkNanos(this, SLOW);
            } else {
                LockSupport.park(this);
            }
        }
    }

    /**
     * The reader, about to serve a request that may block, passes the reading to a parked thread. With
     * none parked (all serving), the next thread done serving reads.
     */
    void passOn() {
        if (!oneAtATime) {
            return;
        }
        Thread next;
        Thread watcher;
        synchronized (this) {
            if (reader != Thread.currentThread()) {
                return;  // taken over already
            }
            next = parked.poll();
            reader = next;
            servingSince.set(0);
            watcher = parked.peek();
        }
        wake(next);
        wake(watcher);  // first now: it watches the new reader
    }

    private static void wake(Thread thread) {
        if (thread != null) {
            LockSupport.unpark(thread);
        }
    }

    /**
     * The reader starts serving a request in turn: what to give {@link #served} when it is done. Any
     * other thread serves out of turn (0): one that read during a back-off that has ended since (it
     * slept in the device's queue meanwhile) would put its stamp over the reader's and then clear it,
     * hiding the reader stuck from the watcher, or let the watcher take the reading from a reader
     * serving nothing.
     */
    long serving() {
        synchronized (this) {
            if (!inTurn()) {
                return 0;  // every thread reads, or this one is not the reader: nothing to take over
            }
            long since = System.nanoTime() | 1;
            servingSince.set(since);
            return since;
        }
    }

    /** Whether threads take turns and the calling thread is the reader (guarded by this). */
    private boolean inTurn() {
        return oneAtATime && reader == Thread.currentThread();
    }

    /** As {@link #inTurn}, for a thread about to read. */
    private synchronized boolean readsInTurn() {
        return inTurn();
    }

    /** The request begun at {@code since} is served: nothing to watch, unless the reading has changed hands meanwhile. */
    void served(long since) {
        servingSince.compareAndSet(since, 0);
    }

    /** A thread stops serving: {@code deviceGone}, every thread waiting for a turn returns; otherwise its turn, if it has it, passes on. */
    void leave(boolean deviceGone) {
        if (!deviceGone) {
            passOn();
            return;
        }
        Thread[] waiting;
        synchronized (this) {
            ended = true;
            reader = null;
            waiting = parked.toArray(new Thread[0]);
            parked.clear();
        }
        for (Thread thread : waiting) {
            LockSupport.unpark(thread);
        }
    }

    /** Whether serving {@code opcode} may keep its thread waiting on more than this CPU. */
    static boolean mayBlock(int opcode) {
        switch (opcode) {
            case FuseProtocol.READ:
            case FuseProtocol.WRITE:
            case FuseProtocol.FSYNC:
            case FuseProtocol.FSYNCDIR:
            case FuseProtocol.FALLOCATE:
            case FuseProtocol.STATFS:
            // A node's last fd closed ends a deleted inode's life: ext4 frees its blocks then (a batch of
            // ~200 deleted files: 4-15 ms).
            case FuseProtocol.FORGET:
            case FuseProtocol.BATCH_FORGET:
                return true;
            default:
                return false;
        }
    }

    /** Wakes the watcher: the reader is awake again after sleeping in the device's queue. */
    private void readerWoke() {
        Thread watcher;
        synchronized (this) {
            readerAwake = true;
            watcher = parked.peek();
        }
        if (watcher != null) {
            LockSupport.unpark(watcher);
        }
    }

    /** One serving thread's reads of its own fd of the device (non-blocking while it spins). */
    final class Reads {
        private final int fd;
        private boolean nonBlocking;
        /**
         * Whether the next read spins: not after a wait that outlasted the spin (requests are sparse,
         * and spinning would only burn the CPU: red team RT5 measured ~95 us of server CPU per lookup
         * made every millisecond, against 14 us without spinning), again after a wait short enough to
         * have been caught spinning (a burst has begun).
         */
        private boolean spinNext = true;

        Reads(int fd) {
            this.fd = fd;
        }

        /** The next request into {@code buffer}: its length, or minus an errno. */
        long next(long buffer, long size) {
            // Only the reader spins: a thread let read by a back-off that ended before it got here
            // would spin beside it and mark it asleep (readerAwake) while it serves.
            if (!spinning || !readsInTurn()) {
                blocking(true);
                return calls.read(fd, buffer, size);
            }
            if (!spinNext) {
                long asleep = System.nanoTime();
                long read = sleepForNext(buffer, size);
                spinNext = System.nanoTime() - asleep < spinNanos;
                return read;
            }
            long started = System.nanoTime();
            long last = started;
            blocking(false);
            while (true) {
                long read = calls.read(fd, buffer, size);
                if (read != -Errno.EAGAIN) {
                    return read;
                }
                long now = System.nanoTime();
                if (now - last >= PREEMPTED) {
                    preempted();
                    blocking(true);
                    return calls.read(fd, buffer, size);
                }
                last = now;
                if (now - started >= spinNanos) {
                    spinNext = false;
                    return sleepForNext(buffer, size);
                }
                Thread.onSpinWait();
            }
        }

        /** A blocking read: asleep in the device's queue until a request comes. */
        private long sleepForNext(long buffer, long size) {
            blocking(true);
            readerAwake = false;  // the watcher sleeps too, until a request wakes this one
            long read = calls.read(fd, buffer, size);
            readerWoke();
            return read;
        }

        private void blocking(boolean blocking) {
            if (nonBlocking == blocking) {
                // F_SETFL on this thread's own clone of the device: the others' reads are not touched.
                int result = calls.setStatusFlags(fd, blocking ? 0 : Linux.O_NONBLOCK);
                if (result == 0) {
                    nonBlocking = !blocking;
                }
            }
        }
    }
}
