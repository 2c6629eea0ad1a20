package dev.idshift.failure;

/**
 * A failure idshift knows the kind of ({@link FailureKind}: one subclass each), which decides its exit
 * code and its daemon reply; the cause is kept. Anything else that escapes (a JDK exception) is made
 * one of these by {@link Failures#of}.
 */
public abstract sealed class IdshiftException extends RuntimeException
        permits BadInputException, RefusedException, KernelRefusedException, UnsupportedException, DaemonProtocolException,
                InternalException {

    private final FailureKind kind;

    IdshiftException(FailureKind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public final FailureKind kind() {
        return kind;
    }
}
