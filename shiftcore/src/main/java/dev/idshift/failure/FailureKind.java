package dev.idshift.failure;

/**
 * The kinds of failure, one per {@link IdshiftException} subclass. An exit code ({@code app.ExitCode.of})
 * and a daemon reply ({@code daemon.FailureReplies}) are chosen by kind, each in one place; a switch
 * over the kinds there will not compile without a new one.
 */
public enum FailureKind {
    BAD_INPUT,
    REFUSED,
    KERNEL_REFUSED,
    UNSUPPORTED,
    DAEMON_PROTOCOL,
    INTERNAL;

    /**
     * A failure of this kind known only by its message: what the daemon said, rebuilt in the client.
     * (The types' other constructors keep the cause a failure has where it happens.)
     */
    public IdshiftException withMessage(String message) {
        return switch (this) {
            case BAD_INPUT -> new BadInputException(message);
            case REFUSED -> new RefusedException(message);
            case KERNEL_REFUSED -> new KernelRefusedException(message);
            case UNSUPPORTED -> new UnsupportedException(message);
            case DAEMON_PROTOCOL -> new DaemonProtocolException(message);
            case INTERNAL -> new InternalException(message, null);
        };
    }
}
