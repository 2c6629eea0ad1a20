package dev.idshift.backend.fuse;

/**
 * A serving thread about to wait (an open held by a lease being broken) asks for a stand-in: another
 * reader of the device serves meanwhile, and one reader lets its place go once the wait is over.
 */
interface ReaderWaits {
    /** Before the wait: true if a reader was added (there is a cap; beyond it the wait holds this thread as before). */
    boolean beforeWaiting();

    /** After it, with what {@link #beforeWaiting} returned. */
    void afterWaiting(boolean added);
}
