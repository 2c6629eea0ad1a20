package dev.idshift.failure;

/**
 * This kernel, this filesystem or this backend cannot do what was asked (a filesystem the kernel
 * will not idmap, an overlay option a rebuilt overlay cannot keep, a tool that is not installed).
 * Another backend may still can.
 */
public non-sealed class UnsupportedException extends IdshiftException {
    public UnsupportedException(String message) {
        super(FailureKind.UNSUPPORTED, message, null);
    }

    public UnsupportedException(String message, Throwable cause) {
        super(FailureKind.UNSUPPORTED, message, cause);
    }
}
