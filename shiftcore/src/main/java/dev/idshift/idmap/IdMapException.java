package dev.idshift.idmap;

import dev.idshift.failure.BadInputException;

/** An id map that the kernel would refuse, or text that is not an id map; the message says which and why. */
public final class IdMapException extends BadInputException {
    public IdMapException(String message) {
        super(message);
    }

    /** The same refusal, said of a given input ({@code message} names it), the original kept as the cause. */
    public IdMapException(String message, IdMapException cause) {
        super(message, cause);
    }
}
