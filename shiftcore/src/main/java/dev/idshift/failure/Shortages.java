package dev.idshift.failure;

/**
 * The system would not give idshift a thread or a process: the JVM's "unable to create native
 * thread" (clone failed with EAGAIN), seen under a cgroup's pids.max, RLIMIT_NPROC or
 * kernel.threads-max. A step that starts a thread or process names itself ({@link #noThread},
 * {@link #processNotStarted}); a shortage met elsewhere (a thread the JDK or a library starts for us)
 * is recognised here too, also when wrapped (jffi's loader wraps it twice), so that every entry
 * point says one line, "cannot start a thread for STEP: the pids limit?", and exits with the code of
 * a kernel refusal instead of a stack trace.
 */
public final class Shortages {
    /** The step named when a shortage is found with no step of ours around it. */
    static final String UNNAMED_STEP = "this command";

    private Shortages() {
    }

    /** The shortage, as the kernel refusal it is, naming the step that wanted a thread. */
    public static KernelRefusedException noThread(String step, Throwable cause) {
        String detail = cause == null || cause.getMessage() == null ? "" : cause.getMessage();
        int colon = detail.indexOf(':');
        detail = colon > 0 ? detail.substring(0, colon) : detail;  // the JDK's "possibly out of memory or ..." adds nothing
        return new KernelRefusedException("cannot start a thread for " + step + ": the pids limit?"
                + (detail.isEmpty() ? "" : " (" + detail + ")"), cause);
    }

    /** The thread shortage in {@code failure} or its causes, or null if there is none. */
    public static OutOfMemoryError threadShortageIn(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause instanceof OutOfMemoryError && mentionsThreadShortage(cause.getMessage())) {
                return (OutOfMemoryError) cause;
            }
        }
        return null;
    }

    /**
     * Whether {@code text} (a JVM's output: a server's log, its first line) says it could not start a
     * thread, at start-up ("Error occurred during initialization of VM ...") or later.
     */
    public static boolean mentionsThreadShortage(String text) {
        if (text == null) {
            return false;
        }
        // HotSpot names each thread it could not make at start-up ("Could not create G1ServiceThread",
        // "Cannot create worker GC thread. Out of system resources."); the JDK says the one line.
        for (String line : text.toLowerCase(java.util.Locale.ROOT).split("\n")) {
            if (line.contains("unable to create native thread") || line.contains("out of system resources")
                    || ((line.contains("could not create") || line.contains("cannot create")) && line.contains("thread"))) {
                return true;
            }
        }
        return false;
    }

    /**
     * A helper process that could not be started ({@code ProcessBuilder.start}'s IOException): a fork
     * refused with EAGAIN, as the JDK reports it ("error=11, Resource temporarily unavailable"), is the
     * pids limit too.
     *
     * @param what the process, for the message: "the FUSE server of /mnt", "the user namespace helper"
     */
    public static KernelRefusedException processNotStarted(String what, java.io.IOException failure) {
        String message = failure.getMessage();
        if (message != null && message.contains("error=11,")) {
            return new KernelRefusedException("cannot start a process for " + what + ": the pids limit? (" + message + ")", failure);
        }
        return new KernelRefusedException("cannot start " + what + ": " + message, failure);
    }
}
