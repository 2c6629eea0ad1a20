package dev.idshift.backend;

/**
 * One way to make a shifted tree: the kernel's idmapped clone, an overlay rebuilt on idmapped
 * layers, a FUSE view. Which one serves a request is decided in one place, {@code shift.Shifter}.
 */
public interface ShiftBackend {
    /**
     * The tree shifted, detached: the caller owns the fd and attaches it (or closes it: then nothing
     * stays mounted, and a FUSE server exits).
     *
     * @throws IdmapUnsupportedException this backend cannot shift this tree (the next one may)
     */
    ShiftedTree shift(ShiftRequest request);

    /** Whether {@link #shift} would serve {@code path} (directory or overlay), found without mounting anything. */
    Probe probe(String path);

    /** A probe's answer and why, in words. */
    final class Probe {
        /** Serves it; cannot (the next backend may); refuses it (no backend will: bad input). */
        public enum Verdict { SERVES, CANNOT, REFUSES }

        private final Verdict verdict;
        private final String why;

        private Probe(Verdict verdict, String why) {
            this.verdict = verdict;
            this.why = why;
        }

        public static Probe serves(String why) {
            return new Probe(Verdict.SERVES, why);
        }

        public static Probe cannot(String why) {
            return new Probe(Verdict.CANNOT, why);
        }

        public static Probe refuses(String why) {
            return new Probe(Verdict.REFUSES, why);
        }

        public Verdict verdict() {
            return verdict;
        }

        public String why() {
            return why;
        }
    }
}
