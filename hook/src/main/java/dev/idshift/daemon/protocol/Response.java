package dev.idshift.daemon.protocol;

import dev.idshift.failure.FailureKind;
import dev.idshift.failure.IdshiftException;
import dev.idshift.failure.KernelRefusedException;
import dev.idshift.sys.Fd;
import dev.idshift.sys.SyscallException;
import java.util.List;

/**
 * What the daemon answers: one type per kind of answer. {@link Codec} puts them on the wire.
 *
 * <p>A response may own one file descriptor, passed with its line: a {@link Shifted} tree. Whoever
 * holds the response closes it (try-with-resources), which closes that fd unless it was taken
 * ({@link Shifted#takeTree()}). The other responses hold nothing to close.
 */
public sealed interface Response extends AutoCloseable
        permits Response.Status, Response.Marks, Response.ShiftOutcome, Response.Failure {

    /** The fd that goes with this response on the wire, still owned by it; null when none. */
    default Fd passedFd() {
        return null;
    }

    @Override
    default void close() {
    }

    /** What a {@link Request.Shift} yields: a tree, or nothing to shift. */
    sealed interface ShiftOutcome extends Response permits Shifted, Unchanged {
    }

    /** @param usableMarks the marks the caller may use (not all marks: those are not its business) */
    record Status(long usableMarks, long served) implements Response {
    }

    /** The marks the caller may use. */
    record Marks(List<MarkEntry> marks) implements Response {
    }

    /** @param owner the host uid the mark is for, or -1 (root's, or open to every user's subids) */
    record MarkEntry(String path, long owner, boolean allowSubids) {
    }

    /** Which way the daemon made a tree, as the reply names it. */
    enum Backend {
        /** an idmapped clone of the marked tree */
        KERNEL("kernel"),
        /** a clone of a FUSE view: the kernel will not idmap the tree's filesystem */
        FUSE("fuse"),
        /** the caller's overlay, rebuilt on idmapped layers */
        OVERLAY("overlay");

        private final String word;

        Backend(String word) {
            this.word = word;
        }

        /** How the reply (and {@code idshift mount}'s message) spells it. */
        public String word() {
            return word;
        }
    }

    /**
     * A detached shifted tree, owned by this response until {@link #takeTree() taken}.
     *
     * @param reason how the layout was decided (a {@code shift}), or the overlay's description; null
     *               for a plain {@code mount}
     */
    final class Shifted implements ShiftOutcome {
        private final String source;
        private final Backend backend;
        private final String reason;
        private Fd tree;

        public Shifted(String source, Backend backend, String reason, Fd tree) {
            if (tree == null) {
                throw new IllegalArgumentException("a shifted tree without its mount fd");
            }
            this.source = source;
            this.backend = backend;
            this.reason = reason;
            this.tree = tree;
        }

        public String source() {
            return source;
        }

        public Backend backend() {
            return backend;
        }

        public String reason() {
            return reason;
        }

        /** The tree, lent: it stays this response's, and closes with it. */
        public Fd tree() {
            if (tree == null) {
                throw new IllegalStateException("the shifted tree of " + source + " was taken already");
            }
            return tree;
        }

        /** The tree, given: the caller closes it from now on; closing this response leaves it. */
        public Fd takeTree() {
            Fd taken = tree();
            tree = null;
            return taken;
        }

        @Override
        public Fd passedFd() {
            return tree();
        }

        @Override
        public void close() {
            if (tree != null) {
                tree.close();
                tree = null;
            }
        }
    }

    /** A {@code shift} with nothing to do: the tree is already owned by the container's ids. */
    record Unchanged(String source, String reason) implements ShiftOutcome {
    }

    /**
     * Refused or failed, with a reason the caller can act on, and the failure's kind: the client fails
     * with a failure of the same kind, so the same exit code, as the daemon's own work did.
     *
     * @param refusedCall the syscall the kernel refused, for a {@link FailureKind#KERNEL_REFUSED} that was one; else null
     */
    record Failure(FailureKind kind, String message, RefusedCall refusedCall) implements Response {
        /** A refusal: what every failed answer was before answers had kinds. */
        public Failure(String message) {
            this(FailureKind.REFUSED, message, null);
        }

        /** The answer to {@code failure}. */
        public static Failure of(IdshiftException failure) {
            RefusedCall call = null;
            if (failure instanceof KernelRefusedException && ((KernelRefusedException) failure).call() != null) {
                KernelRefusedException refused = (KernelRefusedException) failure;
                call = new RefusedCall(refused.call(), refused.path(), refused.errno());
            }
            return new Failure(failure.kind(), failure.getMessage(), call);
        }

        /** The failure this answer stands for, as the client throws it: of the daemon's kind, with its message (and call). */
        public IdshiftException failure() {
            if (refusedCall != null) {
                return new KernelRefusedException(message, new SyscallException(refusedCall.call(), refusedCall.path(), refusedCall.errno()));
            }
            return kind.withMessage(message);
        }
    }

    /** A syscall the kernel refused the daemon: which, on what (a path, mostly), and the errno. */
    record RefusedCall(String call, String path, int errno) {
    }
}
