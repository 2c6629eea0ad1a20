package dev.idshift.failure;

/**
 * The conversation with the idshift daemon broke its protocol: a request the daemon cannot read
 * (malformed JSON, an unknown op or version, a line too long), or an answer the client cannot use
 * (unreadable, "ok" without the mount it promised). One side is not idshift's, or not this version.
 */
public final class DaemonProtocolException extends IdshiftException {
    public DaemonProtocolException(String message) {
        super(FailureKind.DAEMON_PROTOCOL, message, null);
    }

    public DaemonProtocolException(String message, Throwable cause) {
        super(FailureKind.DAEMON_PROTOCOL, message, cause);
    }
}
