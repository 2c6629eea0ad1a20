package dev.idshift.backend.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Which serving thread reads the device, with real threads: turns pass to the last parked thread, a
 * parked thread takes the reading over from one stuck serving a request, the device's end releases
 * everyone, and without spinning (io_uring, a network source) every thread reads.
 */
class ReaderTurnsTest {
    private static final long EXT4 = 0xEF53L;
    private static final long NFS = 0x6969L;
    private static final long SPIN = 50_000;

    /**
     * A thread that waits for a turn and reports what await() answered and when; then it does what it
     * is given ({@link #onReader}), as the reader it may have become.
     */
    private static final class Waiter {
        final BlockingQueue<Boolean> answers = new LinkedBlockingQueue<>();
        final BlockingQueue<Runnable> work = new LinkedBlockingQueue<>();
        final Thread thread;
        volatile long answeredAt;

        Waiter(ReaderTurns turns, String name) {
            thread = new Thread(() -> {
                boolean answer = turns.await();
                answeredAt = System.nanoTime();
                answers.add(answer);
                try {
                    while (true) {
                        work.take().run();
                    }
                } catch (InterruptedException e) {
                    // done
                }
            }, name);
            thread.setDaemon(true);
            thread.start();
        }

        Boolean answer(long millis) throws InterruptedException {
            return answers.poll(millis, TimeUnit.MILLISECONDS);
        }
    }

    /** Runs on a thread of its own: the constructing thread is the first reader. */
    private static ReaderTurns turnsOfOwnThread(BlockingQueue<Runnable> work) throws InterruptedException {
        BlockingQueue<ReaderTurns> made = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            made.add(new ReaderTurns(SPIN));
            try {
                while (true) {
                    work.take().run();
                }
            } catch (InterruptedException e) {
                // done
            }
        }, "reader");
        reader.setDaemon(true);
        reader.start();
        return made.poll(5, TimeUnit.SECONDS);
    }

    private static void onReader(BlockingQueue<Runnable> work, Runnable step) throws InterruptedException {
        BlockingQueue<Boolean> done = new LinkedBlockingQueue<>();
        work.add(() -> {
            step.run();
            done.add(true);
        });
        assertEquals(Boolean.TRUE, done.poll(5, TimeUnit.SECONDS));
    }

    private static void parked(Waiter waiter) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (waiter.thread.getState() != Thread.State.WAITING && waiter.thread.getState() != Thread.State.TIMED_WAITING) {
            assertTrue(System.nanoTime() < deadline, "the waiter never parked");
            Thread.sleep(1);
        }
    }

    @Test
    void theReadingPassesToTheLastParkedThread() throws InterruptedException {
        BlockingQueue<Runnable> work = new LinkedBlockingQueue<>();
        ReaderTurns turns = turnsOfOwnThread(work);
        onReader(work, () -> turns.requestsThroughDevice(true, EXT4));
        Waiter first = new Waiter(turns, "first");
        parked(first);
        Waiter last = new Waiter(turns, "last");
        parked(last);
        assertNull(first.answer(50), "a parked thread reads only when given the turn");
        onReader(work, turns::passOn);
        assertEquals(Boolean.TRUE, last.answer(2000));
        assertNull(first.answer(50));
        onReader(work, () -> turns.leave(true));
        assertEquals(Boolean.FALSE, first.answer(2000), "the device's end releases every parked thread");
    }

    @Test
    void aParkedThreadTakesOverFromAReaderStuckServing() throws InterruptedException {
        BlockingQueue<Runnable> work = new LinkedBlockingQueue<>();
        ReaderTurns turns = turnsOfOwnThread(work);
        onReader(work, () -> turns.requestsThroughDevice(true, EXT4));
        Waiter next = new Waiter(turns, "next");
        parked(next);
        long[] stuck = new long[1];
        // Between requests (awake, serving nothing) the reader keeps its turn.
        assertNull(next.answer(3 * ReaderTurns.SLOW / 1_000_000 + 20));
        long started = System.nanoTime();
        onReader(work, () -> stuck[0] = turns.serving());
        assertEquals(Boolean.TRUE, next.answer(2000), "a reader stuck in one request is taken over");
        long tookMillis = (next.answeredAt - started) / 1_000_000;
        assertTrue(tookMillis < 200, "taken over after " + tookMillis + " ms");
        onReader(work, () -> turns.served(stuck[0]));
        // The stuck one, done, waits for its turn again.
        Waiter former = new Waiter(turns, "former");
        parked(former);
        assertNull(former.answer(50));
        turns.leave(true);
        assertEquals(Boolean.FALSE, former.answer(2000));
    }

    /**
     * The thread given the reading is watched in its turn, whether it took it over from a reader stuck
     * serving or had it passed on: the thread first in line after it, parked for good while it was not
     * first, is woken to watch. Before, a second request stuck held every caller (two or three stuck
     * requests, not four, stalled the view).
     */
    @Test
    void theNextInLineWatchesTheThreadGivenTheReading() throws InterruptedException {
        for (boolean takenOver : new boolean[] {true, false}) {
            BlockingQueue<Runnable> work = new LinkedBlockingQueue<>();
            ReaderTurns turns = spinningTurns(work);
            Waiter third = new Waiter(turns, "third");
            parked(third);
            Waiter second = new Waiter(turns, "second");
            parked(second);
            // Stuck for good, or a READ: served out of turn.
            onReader(work, takenOver ? turns::serving : turns::passOn);
            assertEquals(Boolean.TRUE, second.answer(2000), "the second thread reads");
            assertTakenOverFromStuck(turns, second.work, third, null);
        }
    }

    /**
     * A reader taken over from, done at last, does not clear what the new reader serves: the new one
     * stuck is still taken over from.
     */
    @Test
    void aFormerReaderDoneDoesNotHideTheNewReaderStuck() throws InterruptedException {
        BlockingQueue<Runnable> work = new LinkedBlockingQueue<>();
        long[] first = new long[1];
        Waiter[] second = new Waiter[1];
        ReaderTurns turns = takenOverFromStuckReader(work, first, second);
        assertTakenOverFromStuck(turns, second[0].work, null, () -> onReader(work, () -> turns.served(first[0])));
    }

    /**
     * A thread that took the reading over serves nothing yet: the former reader's request, still going,
     * is not its own, and the next in line does not take the reading from it (two would read at once).
     */
    @Test
    void aReaderServingNothingKeepsItsTurn() throws InterruptedException {
        ReaderTurns turns = takenOverFromStuckReader(new LinkedBlockingQueue<>(), new long[1], new Waiter[1]);
        assertKeepsItsTurn(turns);
    }

    /** Turns of a view whose reader spins (through /dev/fuse, an ext4 source), made on a thread of their own. */
    private static ReaderTurns spinningTurns(BlockingQueue<Runnable> work) throws InterruptedException {
        ReaderTurns turns = turnsOfOwnThread(work);
        onReader(work, () -> turns.requestsThroughDevice(true, EXT4));
        return turns;
    }

    /**
     * Spinning turns whose first reader got stuck serving (its stamp in {@code stamp}) and a second thread
     * ({@code second}) took the reading over.
     */
    private static ReaderTurns takenOverFromStuckReader(BlockingQueue<Runnable> work, long[] stamp, Waiter[] second)
            throws InterruptedException {
        ReaderTurns turns = spinningTurns(work);
        second[0] = new Waiter(turns, "second");
        parked(second[0]);
        onReader(work, () -> stamp[0] = turns.serving());
        assertEquals(Boolean.TRUE, second[0].answer(2000), "the second thread takes the reading over");
        return turns;
    }

    /** Something the test thread does while the new reader is stuck. */
    private interface Meanwhile {
        void run() throws InterruptedException;
    }

    /**
     * The reader now (running {@code reader}'s work) gets stuck serving; {@code meanwhile} happens; the
     * next in line ({@code next}, or one parking now) takes the reading over within 200 ms.
     */
    private static void assertTakenOverFromStuck(ReaderTurns turns, BlockingQueue<Runnable> reader, Waiter next, Meanwhile meanwhile)
            throws InterruptedException {
        long started = System.nanoTime();
        onReader(reader, turns::serving);
        if (meanwhile != null) {
            meanwhile.run();
        }
        Waiter watcher = next != null ? next : new Waiter(turns, "next");
        assertEquals(Boolean.TRUE, watcher.answer(2000), "the new reader, stuck, is taken over from");
        long tookMillis = (watcher.answeredAt - started) / 1_000_000;
        assertTrue(tookMillis < 200, "taken over after " + tookMillis + " ms");
        turns.leave(true);
    }

    /** A thread parking now does not take the reading from the reader, which serves nothing. */
    private static void assertKeepsItsTurn(ReaderTurns turns) throws InterruptedException {
        Waiter next = new Waiter(turns, "next");
        assertNull(next.answer(3 * ReaderTurns.SLOW / 1_000_000 + 20), "the reader lost its turn while serving nothing");
        turns.leave(true);
        assertEquals(Boolean.FALSE, next.answer(2000));
    }

    @Test
    void withoutSpinningEveryThreadReads() throws InterruptedException {
        assertTrue(ReaderTurns.isLocal(EXT4));
        assertFalse(ReaderTurns.isLocal(NFS));
        for (boolean device : new boolean[] {true, false}) {
            BlockingQueue<Runnable> work = new LinkedBlockingQueue<>();
            ReaderTurns turns = turnsOfOwnThread(work);
            Waiter waiting = new Waiter(turns, "waiting");
            parked(waiting);
            // Over io_uring, or with a source on NFS: nothing spins, no one waits for a turn.
            onReader(work, () -> turns.requestsThroughDevice(device, device ? NFS : EXT4));
            assertEquals(Boolean.TRUE, waiting.answer(2000));
            assertEquals(Boolean.TRUE, new Waiter(turns, "another").answer(2000));
        }
    }

    @Test
    void aPreemptedReaderLetsEveryThreadReadForAWhile() throws InterruptedException {
        BlockingQueue<Runnable> work = new LinkedBlockingQueue<>();
        ReaderTurns turns = turnsOfOwnThread(work);
        onReader(work, () -> turns.requestsThroughDevice(true, EXT4));
        Waiter parkedOne = new Waiter(turns, "parked");
        parked(parkedOne);
        onReader(work, turns::preempted);
        assertEquals(Boolean.TRUE, parkedOne.answer(2000), "the back-off releases every parked thread");
        assertEquals(Boolean.TRUE, new Waiter(turns, "during").answer(2000), "during the back-off no one waits for a turn");
        Thread.sleep(ReaderTurns.LEAST_BACK_OFF / 1_000_000 + 100);
        assertEquals(Boolean.TRUE, new Waiter(turns, "first after").answer(2000), "after it, the first thread reads");
        Waiter second = new Waiter(turns, "second after");
        parked(second);
        assertNull(second.answer(50), "and the others take turns again");
        turns.leave(true);
        assertEquals(Boolean.FALSE, second.answer(2000));
    }

    @Test
    void preemptionsOneAfterAnotherBackOffLonger() throws InterruptedException {
        BlockingQueue<Runnable> work = new LinkedBlockingQueue<>();
        ReaderTurns turns = turnsOfOwnThread(work);
        onReader(work, () -> turns.requestsThroughDevice(true, EXT4));
        long least = ReaderTurns.LEAST_BACK_OFF / 1_000_000;
        // Three in a row: least, twice, four times it.
        onReader(work, () -> {
            turns.preempted();
            turns.preempted();
            turns.preempted();
        });
        Thread.sleep(2 * least);
        assertEquals(Boolean.TRUE, new Waiter(turns, "still backing off").answer(2000));
        Waiter gone = new Waiter(turns, "reads and goes");
        assertEquals(Boolean.TRUE, gone.answer(2000));
        Thread.sleep(3 * least);
        assertEquals(Boolean.TRUE, new Waiter(turns, "first after").answer(2000));
        Waiter second = new Waiter(turns, "second after");
        parked(second);
        turns.leave(true);
        assertEquals(Boolean.FALSE, second.answer(2000));
    }

    /**
     * A request served during a back-off (every thread reading) is no reader's in turn: after the back-off
     * the next in line does not take the reading from the first thread back on turns, serving nothing.
     */
    @Test
    void whatWasServedDuringABackOffIsNotTheNextReaders() throws InterruptedException {
        BlockingQueue<Runnable> work = new LinkedBlockingQueue<>();
        ReaderTurns turns = spinningTurns(work);
        onReader(work, turns::preempted);
        turns.serving();  // a thread serving for good, taken while every thread read
        Thread.sleep(ReaderTurns.LEAST_BACK_OFF / 1_000_000 + 100);
        assertEquals(Boolean.TRUE, new Waiter(turns, "first after").answer(2000));
        assertKeepsItsTurn(turns);
    }

    /**
     * A thread that read during a back-off and serves after it has ended is not the reader: what it
     * serves neither hides the reader stuck from the watcher (its stamp over the reader's, then cleared)
     * nor lets the watcher take the reading from a reader serving nothing.
     */
    @Test
    void whatIsServedOutOfTurnAfterABackOffIsNotTheReaders() throws InterruptedException {
        for (boolean readerStuck : new boolean[] {true, false}) {
            BlockingQueue<Runnable> work = new LinkedBlockingQueue<>();
            ReaderTurns turns = spinningTurns(work);
            onReader(work, turns::preempted);
            Thread.sleep(ReaderTurns.LEAST_BACK_OFF / 1_000_000 + 100);
            BlockingQueue<Boolean> first = new LinkedBlockingQueue<>();
            onReader(work, () -> first.add(turns.await()));
            assertEquals(Boolean.TRUE, first.poll(2, TimeUnit.SECONDS), "after the back-off the first thread reads");
            if (readerStuck) {
                // The test thread read during the back-off; it serves a request quickly while the reader is stuck.
                assertTakenOverFromStuck(turns, work, null, () -> turns.served(turns.serving()));
            } else {
                turns.serving();  // the test thread, out of turn, serving for good
                assertKeepsItsTurn(turns);
            }
        }
    }

    @Test
    void onlyRequestsThatMayWaitOnMoreThanThisCpuPassTheTurnOn() {
        assertTrue(ReaderTurns.mayBlock(FuseProtocol.FSYNC));
        assertTrue(ReaderTurns.mayBlock(FuseProtocol.BATCH_FORGET));
        assertTrue(ReaderTurns.mayBlock(FuseProtocol.READ));
        assertFalse(ReaderTurns.mayBlock(FuseProtocol.LOOKUP));
        assertFalse(ReaderTurns.mayBlock(FuseProtocol.CREATE));
        assertFalse(ReaderTurns.mayBlock(FuseProtocol.RELEASE));
    }
}
