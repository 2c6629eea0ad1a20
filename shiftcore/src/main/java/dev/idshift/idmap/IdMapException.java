package dev.idshift.idmap;

/** An id map that the kernel would refuse, or text that is not an id map; the message says which and why. */
public final class IdMapException extends RuntimeException {
    public IdMapException(String message) {
        super(message);
    }
}
