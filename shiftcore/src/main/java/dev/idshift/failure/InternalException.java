package dev.idshift.failure;

/** A bug: something idshift's own code should not have let happen. The cause is kept for IDSHIFT_DEBUG=1's stack trace. */
public final class InternalException extends IdshiftException {
    public InternalException(String message, Throwable cause) {
        super(FailureKind.INTERNAL, message, cause);
    }
}
