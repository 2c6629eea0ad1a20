package dev.idshift.marks;

import dev.idshift.failure.RefusedException;

/** A request the daemon will not serve, with the reason the caller is told. */
public final class Refusal extends RefusedException {
    public Refusal(String reason) {
        super(reason);
    }

    /** Refused because of {@code cause}, whose message is the reason. */
    public Refusal(RuntimeException cause) {
        super(cause.getMessage(), cause);
    }
}
