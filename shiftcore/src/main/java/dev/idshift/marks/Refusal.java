package dev.idshift.marks;

/** A request the daemon will not serve, with the reason the caller is told. */
public final class Refusal extends RuntimeException {
    public Refusal(String reason) {
        super(reason);
    }
}
