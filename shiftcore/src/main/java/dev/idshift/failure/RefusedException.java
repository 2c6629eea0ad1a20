package dev.idshift.failure;

/**
 * Authorisation or policy said no: the idshift daemon will not serve this caller this request (the
 * tree is not beneath a mark it may use, the ids are not its own, it has too many connections). The
 * message names who asked and what.
 */
public non-sealed class RefusedException extends IdshiftException {
    public RefusedException(String message) {
        super(FailureKind.REFUSED, message, null);
    }

    public RefusedException(String message, Throwable cause) {
        super(FailureKind.REFUSED, message, cause);
    }
}
